/* budget — each round's training budget by formula (see budget.h): steps, rows seen and FLOPs,
 * from the model's minibatch (or iteration cap) and FLOPs per row and the labeled-set size
 * only, so every strategy gets the same. */
#include "sim/budget.h"

#include <limits.h>

Budget budget_for_round(int epochs, int epoch_rows, int minibatch, double train_flops_per_row, int n_labeled) {
    Budget b = {0};
    if (epochs <= 0 || n_labeled <= 0 || minibatch <= 0) return b;
    const int rows_per_step = minibatch < n_labeled ? minibatch : n_labeled;
    const long long rows = epoch_rows > n_labeled ? epoch_rows : n_labeled;      // an epoch's draws
    const long long steps = (long long)epochs * ((rows + minibatch - 1) / minibatch);
    b.steps = steps < INT_MAX ? (int)steps : INT_MAX;
    b.samples = (long)b.steps * rows_per_step;
    b.flops = (double)b.samples * train_flops_per_row;
    return b;
}

Budget budget_for_convergence(int max_iter, double train_flops_per_row, int n_labeled) {
    Budget b = {0};
    if (max_iter <= 0 || n_labeled <= 0) return b;
    b.steps = max_iter;
    b.samples = (long)max_iter * n_labeled;
    b.flops = (double)b.samples * train_flops_per_row;
    return b;
}
