/* budget — the training budget of each round, identical for every strategy.
 *
 * A round's budget is a function of (config, model, labeled-set size) only, never of the
 * strategy, so every strategy gets the same fine-tuning budget: steps of a minibatch
 * optimizer (mlp), or an iteration cap with a tolerance (logreg, fitted to convergence). The
 * size of the labeled set at round r is init + r·b for every strategy, so in practice the
 * budget is one number per round. The ledger adds what the fit spent and the measured
 * seconds of each phase; all are written every round.
 */
#ifndef ALSIM_BUDGET_H
#define ALSIM_BUDGET_H

typedef struct {
    int steps;          /* optimizer steps: epochs · ceil(max(n_labeled, epoch_rows) / minibatch) */
    long samples;       /* rows seen: steps · min(minibatch, n_labeled) */
    double flops;       /* training FLOPs of the matmuls, by formula: samples · the model's
                           train_flops_per_row (model.h; for the MLP, learner.h's
                           learner_train_flops_per_row). Elementwise ops, softmax and the
                           optimiser are not counted. */
} Budget;

/* What a round's fit spent of its budget. A model trained for its budget (mlp) spends all
 * of it; a model fitted to convergence (logreg) stops when its tolerance is met, at most at
 * the budget's steps. Deterministic, like the budget. */
typedef struct {
    int steps;          /* optimizer steps taken (logreg: L-BFGS iterations) */
    double flops;       /* FLOPs by the budget's formula for the work done (logreg: function and
                           gradient evaluations · rows · the model's train_flops_per_row) */
    int converged;      /* 1: the model's tolerance was met; 0: it stopped at the cap or could
                           make no progress; -1: a model with no tolerance (it runs its budget) */
} Spent;

typedef struct {
    Budget budget;
    Spent spent;
    double train_s, score_s, select_s, eval_s;   /* measured seconds (not deterministic) */
} Ledger;

/* The budget of a round with n_labeled labeled rows, for a model that takes minibatch rows a
 * step and spends train_flops_per_row FLOPs on each (all zero when epochs <= 0 or n_labeled
 * <= 0): epochs of max(n_labeled, epoch_rows) draws (epoch_rows 0: one pass over the labeled
 * set; more: Kirsch et al.'s fixed-length epochs, the labeled set's passes repeated), that is
 * epochs · ceil(max(n_labeled, epoch_rows) / minibatch) steps (at most INT_MAX), each of
 * min(minibatch, n_labeled) rows. model_fit(…, steps = budget.steps, …) sees exactly
 * budget.samples rows. */
Budget budget_for_round(int epochs, int epoch_rows, int minibatch, double train_flops_per_row, int n_labeled);

/* The budget of a model fitted to convergence (logreg), whatever --epochs: at most max_iter
 * full-batch iterations, each over all n_labeled rows (samples = max_iter · n_labeled, FLOPs
 * = samples · train_flops_per_row; all zero when n_labeled <= 0). What the fit spends is in
 * the ledger's Spent. */
Budget budget_for_convergence(int max_iter, double train_flops_per_row, int n_labeled);

#endif
