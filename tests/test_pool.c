/* test_pool — the labeled set (sim/pool.h): pool_add keeps the labeling order across batches
 * and marks exactly the added rows; the dense and CSR gathers copy the labeled rows in that
 * order, the CSR one with empty rows and rows of different lengths; nnz counts them. */
#include "sim/pool.h"
#include "tests/check.h"

#include <string.h>

enum { N = 12, D = 3 };

/* The CSR pool: row i holds i % 4 nonzeros (row 0, 4 and 8 are empty), at columns
 * i, i+1, ..., with values 100·i + j. */
static int64_t indptr[N + 1];
static int32_t indices[64];
static float values[64];

static void make_csr(void) {
    indptr[0] = 0;
    for (int i = 0; i < N; i++) {
        int64_t at = indptr[i];
        for (int j = 0; j < i % 4; j++) {
            indices[at + j] = i + j;
            values[at + j] = (float)(100 * i + j);
        }
        indptr[i + 1] = at + i % 4;
    }
}

int main(void) {
    Pool p;
    CHECK(pool_init(&p, N) == 0, "pool_init");
    int none = 1;
    for (int i = 0; i < N; i++) none &= p.labeled[i] == 0;
    CHECK(p.n == N && p.n_labeled == 0 && none, "a new pool: n %d, %d labeled", p.n, p.n_labeled);

    /* Two batches, rows not in ascending order: the order of labeling is kept. */
    const int b1[3] = { 7, 2, 9 }, b2[2] = { 0, 5 };
    const int32_t l1[3] = { 1, 0, 2 }, l2[2] = { 2, 1 };
    pool_add(&p, b1, l1, 3);
    pool_add(&p, b2, l2, 2);
    const int order[5] = { 7, 2, 9, 0, 5 };
    const int32_t labels[5] = { 1, 0, 2, 2, 1 };
    CHECK(p.n_labeled == 5, "%d labeled after adding 5", p.n_labeled);
    CHECK(!memcmp(p.rows, order, sizeof order), "rows %d %d %d %d %d, want 7 2 9 0 5",
          p.rows[0], p.rows[1], p.rows[2], p.rows[3], p.rows[4]);
    CHECK(!memcmp(p.labels, labels, sizeof labels), "labels not kept with their rows");
    int mask_ok = 1;
    for (int i = 0; i < N; i++) {
        int want = i == 7 || i == 2 || i == 9 || i == 0 || i == 5;
        mask_ok &= p.labeled[i] == want;
    }
    CHECK(mask_ok, "the labeled mask is not exactly rows 0 2 5 7 9");
    pool_add(&p, b1, l1, 0);
    CHECK(p.n_labeled == 5, "adding no rows changed the count to %d", p.n_labeled);

    /* Dense: X (5, D) = rows 7 2 9 0 5 of the pool. */
    float x[N * D], X[N * D];
    for (int i = 0; i < N * D; i++) x[i] = (float)i;
    memset(X, 0xff, sizeof X);
    pool_gather(X, &p, x, D);
    int dense_ok = 1;
    for (int r = 0; r < 5; r++)
        for (int j = 0; j < D; j++) dense_ok &= X[r * D + j] == x[order[r] * D + j];
    CHECK(dense_ok, "pool_gather: rows not the labeled ones in labeling order");
    int untouched = 1;
    for (int i = 5 * D; i < N * D; i++) untouched &= isnan(X[i]);   /* still the 0xff bytes */
    CHECK(untouched, "pool_gather wrote past its %d rows", 5);

    /* CSR: rows 7 2 9 0 5 hold 3, 2, 1, 0 and 1 nonzeros. */
    make_csr();
    int64_t nnz = pool_gather_nnz(&p, indptr);
    CHECK(nnz == 7, "pool_gather_nnz = %lld, want 7", (long long)nnz);
    int64_t ip[N + 1];
    int32_t ix[64];
    float v[64];
    memset(ix, 0xff, sizeof ix);
    pool_gather_csr(ip, ix, v, &p, indptr, indices, values);
    const int64_t want_ip[6] = { 0, 3, 5, 6, 6, 7 };
    CHECK(!memcmp(ip, want_ip, sizeof want_ip), "indptr %lld %lld %lld %lld %lld %lld, want 0 3 5 6 6 7",
          (long long)ip[0], (long long)ip[1], (long long)ip[2], (long long)ip[3], (long long)ip[4], (long long)ip[5]);
    int csr_ok = 1;
    for (int r = 0; r < 5; r++) {
        int src = order[r];
        for (int64_t j = 0; j < ip[r + 1] - ip[r]; j++) {
            csr_ok &= ix[ip[r] + j] == indices[indptr[src] + j];
            csr_ok &= v[ip[r] + j] == values[indptr[src] + j];
        }
    }
    CHECK(csr_ok, "pool_gather_csr: a row's indices or values are not its pool row's");
    CHECK(ix[7] == -1, "pool_gather_csr wrote past nnz");

    /* Everything labeled: nnz is the pool's. */
    const int rest[7] = { 1, 3, 4, 6, 8, 10, 11 };
    const int32_t zeros[7] = {0};
    pool_add(&p, rest, zeros, 7);
    CHECK(p.n_labeled == N && pool_gather_nnz(&p, indptr) == indptr[N], "the whole pool: nnz %lld, want %lld",
          (long long)pool_gather_nnz(&p, indptr), (long long)indptr[N]);

    pool_free(&p);
    CHECK(p.labeled == NULL && p.rows == NULL && p.n == 0 && p.n_labeled == 0, "pool_free must zero the struct");
    pool_free(&p);                       /* accepts a zeroed struct */
    return check_done("test_pool");
}
