/* tiny_bert — the committed tiny BERT (tests/fixtures/tiny-bert, written with its PyTorch
 * reference by tests/fixtures/make_tiny_bert.py) as the tests read it. Header-only, like
 * check.h: include it in one test program at a time. */
#ifndef ALSIM_TESTS_TINY_BERT_H
#define ALSIM_TESTS_TINY_BERT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "sim/safetensors.h"

#define TINY_BERT "tests/fixtures/tiny-bert"
#define TINY_BERT_REFERENCE TINY_BERT "/reference.safetensors"

/* out (numel) = an I64 tensor of the reference as int32. */
static inline void tiny_bert_i32(int32_t *out, const StTensor *t) {
    for (int64_t i = 0; i < t->numel; i++) {
        int64_t v;
        memcpy(&v, t->data + 8 * i, 8);
        out[i] = (int32_t)v;
    }
}

/* pool = the reference's inputs as token rows (datasets/tokens.h: ids, -1 on padding), 3
 * classes, y its labels. */
static inline void tiny_bert_rows(Dataset *pool, const SafeTensors *ref) {
    const StTensor *ti = st_find(ref, "input_ids"), *tm = st_find(ref, "attention_mask");
    const int n = (int)ti->shape[0], T = (int)ti->shape[1];
    char err[256];
    dataset_alloc(pool, n, T, 3, "c", err, sizeof err);
    int32_t *ids = malloc((size_t)n * T * sizeof(int32_t)), *mask = malloc((size_t)n * T * sizeof(int32_t));
    tiny_bert_i32(ids, ti);
    tiny_bert_i32(mask, tm);
    tiny_bert_i32(pool->y, st_find(ref, "labels"));
    for (int i = 0; i < n * T; i++) pool->x[i] = mask[i] ? (float)ids[i] : -1.0f;
    pool->text_tokens = T;
    snprintf(pool->name, sizeof pool->name, "fixture");
    free(ids);
    free(mask);
}

#endif
