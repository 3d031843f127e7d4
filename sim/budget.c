/* budget — each round's training budget by formula (see budget.h): steps, rows seen and FLOPs,
 * from the learner config and the labeled-set size only, so every strategy gets the same. */
#include "sim/budget.h"

Budget budget_for_round(const LearnerConfig *lc, int epochs, int round, int n_labeled) {
    (void)round;    /* the budget depends on the round only through n_labeled */
    Budget b = {0};
    if (epochs <= 0 || n_labeled <= 0 || lc->minibatch <= 0) return b;
    const int mb = lc->minibatch;
    const int rows_per_step = mb < n_labeled ? mb : n_labeled;
    b.steps = epochs * ((n_labeled + mb - 1) / mb);
    b.samples = (long)b.steps * rows_per_step;

    /* FLOPs of the matmuls learner_fit runs per row (elementwise ops, softmax and Adam are
     * not counted): forward 2·MACs; backward 2·MACs for the weight gradients plus 2·MACs for
     * the input gradients, less the first layer's (D·out0 MACs, never computed), where out0 is
     * H1, or K with no hidden layer. With sparse input D is the pool's mean nonzeros per row
     * (a property of the pool, the same for every strategy). */
    const double macs = learner_macs_per_row(lc);
    const int out0 = lc->n_hidden > 0 ? lc->hidden[0] : lc->k;
    const double in0 = lc->sparse ? lc->mean_nnz : lc->d;
    const double flops_per_row = 2.0 * macs + 4.0 * macs - 2.0 * in0 * out0;
    b.flops = (double)b.samples * flops_per_row;
    return b;
}
