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
