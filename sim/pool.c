/* pool — see pool.h. */
#include "sim/pool.h"

#include <stdlib.h>
#include <string.h>

int pool_init(Pool *p, int n) {
    memset(p, 0, sizeof *p);
    p->n = n;
    p->labeled = calloc((size_t)n, 1);
    p->rows = malloc((size_t)n * sizeof *p->rows);
    p->labels = malloc((size_t)n * sizeof *p->labels);
    if (!p->labeled || !p->rows || !p->labels) { pool_free(p); return -1; }
    return 0;
}

void pool_free(Pool *p) {
    free(p->labeled);
    free(p->rows);
    free(p->labels);
    memset(p, 0, sizeof *p);
}

void pool_clear(Pool *p) {
    for (int i = 0; i < p->n_labeled; i++) p->labeled[p->rows[i]] = 0;
    p->n_labeled = 0;
}

void pool_add(Pool *p, const int *rows, const int32_t *labels, int m) {
    for (int i = 0; i < m; i++) {
        p->labeled[rows[i]] = 1;
        p->rows[p->n_labeled] = rows[i];
        p->labels[p->n_labeled] = labels[i];
        p->n_labeled++;
    }
}

void pool_gather(float *X, const Pool *p, const float *pool_x, int d) {
    for (int i = 0; i < p->n_labeled; i++)
        memcpy(X + (size_t)i * d, pool_x + (size_t)p->rows[i] * d, (size_t)d * sizeof *X);
}

int64_t pool_gather_nnz(const Pool *p, const int64_t *pool_indptr) {
    int64_t nnz = 0;
    for (int i = 0; i < p->n_labeled; i++)
        nnz += pool_indptr[p->rows[i] + 1] - pool_indptr[p->rows[i]];
    return nnz;
}

void pool_gather_csr(int64_t *indptr, int32_t *indices, float *values, const Pool *p,
                     const int64_t *pool_indptr, const int32_t *pool_indices,
                     const float *pool_values) {
    indptr[0] = 0;
    for (int i = 0; i < p->n_labeled; i++) {
        const int64_t start = pool_indptr[p->rows[i]], len = pool_indptr[p->rows[i] + 1] - start;
        memcpy(indices + indptr[i], pool_indices + start, (size_t)len * sizeof *indices);
        memcpy(values + indptr[i], pool_values + start, (size_t)len * sizeof *values);
        indptr[i + 1] = indptr[i] + len;
    }
}
