/* budget — the training budget of each round, identical for every strategy.
 *
 * A round's budget is a function of (config, round, labeled-set size) only, never of the
 * strategy, so every strategy gets the same fine-tuning budget. The size of the labeled set
 * at round r is init + r·b for every strategy, so in practice the budget is one number per
 * round. The ledger adds the measured seconds of each phase; both are written every round.
 */
#ifndef ALSIM_BUDGET_H
#define ALSIM_BUDGET_H

#include "sim/learner.h"

typedef struct {
    int steps;          /* optimizer steps: epochs · ceil(n_labeled / minibatch) */
    long samples;       /* rows seen: steps · min(minibatch, n_labeled) */
    double flops;       /* training FLOPs of the matmuls, by formula: samples ·
                           (2·MACs forward + 4·MACs backward − 2·D·out0), the last term being
                           the first layer's input gradient, never computed (out0 = H1, or K
                           with no hidden layer; for sparse input D is the mean nonzeros
                           per pool row); MACs = learner_macs_per_row. Elementwise
                           ops, softmax and Adam are not counted. */
} Budget;

typedef struct {
    Budget budget;
    double train_s, score_s, select_s, eval_s;   /* measured seconds (not deterministic) */
} Ledger;

/* The budget of round `round` for n_labeled labeled rows (all zero when epochs <= 0 or
 * n_labeled <= 0). learner_fit(…, steps = budget.steps, …) sees exactly budget.samples rows. */
Budget budget_for_round(const LearnerConfig *lc, int epochs, int round, int n_labeled);

#endif
