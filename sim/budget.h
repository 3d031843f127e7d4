/* budget — the training budget of each round, identical for every strategy.
 *
 * A round's budget is a function of (config, model, labeled-set size) only, never of the
 * strategy, so every strategy gets the same fine-tuning budget. The size of the labeled set
 * at round r is init + r·b for every strategy, so in practice the budget is one number per
 * round. The ledger adds the measured seconds of each phase; both are written every round.
 */
#ifndef ALSIM_BUDGET_H
#define ALSIM_BUDGET_H

typedef struct {
    int steps;          /* optimizer steps: epochs · ceil(n_labeled / minibatch) */
    long samples;       /* rows seen: steps · min(minibatch, n_labeled) */
    double flops;       /* training FLOPs of the matmuls, by formula: samples · the model's
                           train_flops_per_row (model.h; for the MLP, learner.h's
                           learner_train_flops_per_row). Elementwise ops, softmax and the
                           optimiser are not counted. */
} Budget;

typedef struct {
    Budget budget;
    double train_s, score_s, select_s, eval_s;   /* measured seconds (not deterministic) */
} Ledger;

/* The budget of a round with n_labeled labeled rows, for a model that takes minibatch rows a
 * step and spends train_flops_per_row FLOPs on each (all zero when epochs <= 0 or n_labeled
 * <= 0): epochs · ceil(n_labeled / minibatch) steps, each of min(minibatch, n_labeled) rows.
 * model_fit(…, steps = budget.steps, …) sees exactly budget.samples rows. */
Budget budget_for_round(int epochs, int minibatch, double train_flops_per_row, int n_labeled);

#endif
