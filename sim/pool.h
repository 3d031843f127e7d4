/* pool — which pool rows are labeled, in the order they were labeled, with the oracle's
 * answers. The unlabeled rows are those with labeled[i] == 0. */
#ifndef ALSIM_POOL_H
#define ALSIM_POOL_H

#include <stdint.h>

typedef struct {
    int n;                  /* pool rows N */
    int n_labeled;
    unsigned char *labeled; /* (N) 1 once labeled */
    int *rows;              /* (N) labeled row ids, in labeling order; first n_labeled valid */
    int32_t *labels;        /* (N) the oracle's answers for rows */
} Pool;

/* An empty labeled set over n pool rows. Returns 0, or -1 when out of memory. */
int pool_init(Pool *p, int n);
void pool_free(Pool *p);    /* accepts a zeroed struct */

/* Empties the labeled set. */
void pool_clear(Pool *p);

/* Marks rows (m) labeled with labels (m). Rows must be unlabeled and distinct. */
void pool_add(Pool *p, const int *rows /*(m)*/, const int32_t *labels /*(m)*/, int m);

/* X (n_labeled, D) = the labeled rows of pool_x (N, D), in labeling order. */
void pool_gather(float *X, const Pool *p, const float *pool_x, int d);

/* Nonzeros of the labeled rows of a CSR pool (pool_indptr (N+1), see dataset.h). */
int64_t pool_gather_nnz(const Pool *p, const int64_t *pool_indptr);

/* The labeled rows of a CSR pool, in labeling order, as CSR: indptr (n_labeled+1) from 0,
 * indices and values (pool_gather_nnz). */
void pool_gather_csr(int64_t *indptr, int32_t *indices, float *values, const Pool *p,
                     const int64_t *pool_indptr, const int32_t *pool_indices,
                     const float *pool_values);

#endif
