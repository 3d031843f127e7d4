/* bench_text — the text pipeline on SpamAssassin (6,046 raw emails, 32.5 MB), from the cache
 * (run `alsim datasets fetch spamassassin` first; bench/run.sh does).
 *
 * Prints markdown table rows (for bench/RESULTS.md):
 *   1. the featurizer: emails → hashed unigram and bigram counts (text_count_docs: MIME
 *      walk, decoding, HTML stripping, tokenizing, hashing, sorting), in documents and MB per
 *      second; then idf on the pool and TF-IDF (text_idf_fit, text_tfidf_apply);
 *   2. the learner on those features with the default for sparse input (2^18 → 64 → 2,
 *      dropout 0.5): one AdamW step (minibatch 64) and one pass over the pool (4,232 rows),
 *      in milliseconds.
 * Each figure is the median of several repetitions. Not a test: nothing here can fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datasets/dataset.h"
#include "datasets/text.h"
#include "sim/backend.h"
#include "sim/config.h"
#include "sim/model.h"
#include "sim/util.h"
#include "bench/bench.h"

static uint32_t u32le(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int main(void) {
    char path[4200];
    snprintf(path, sizeof path, "%s/spamassassin/emails.bin", dataset_cache_dir());
    char why[4400];
    unsigned char *buf;
    size_t len;
    if (util_read_file((char **)&buf, &len, path, why, sizeof why)) {
        fprintf(stderr, "bench_text: %s (alsim datasets fetch spamassassin)\n", why);
        return 3;
    }
    if (len < 16) { free(buf); return 3; }
    // emails.bin (catalog.c): "ALSIMEML", u32 version, u32 n, then (u8 group, u32 length, bytes)
    const int n = (int)u32le(buf + 12);
    const char **docs = malloc((size_t)n * sizeof *docs);
    size_t *lens = malloc((size_t)n * sizeof *lens), text_bytes = 0, pos = 16;
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    for (int i = 0; i < n; i++) {
        labels[i] = buf[pos] >= 3;       // groups 3 and 4 are spam
        lens[i] = u32le(buf + pos + 1);
        docs[i] = (const char *)buf + pos + 5;
        pos += 5 + lens[i];
        text_bytes += lens[i];
    }

    enum { REPS = 3 };
    double t_count[REPS], t_tfidf[REPS];
    Dataset counts = {0};
    char err[256];
    for (int r = 0; r < REPS; r++) {
        dataset_free(&counts);
        double t0 = util_seconds();
        if (text_count_docs(&counts, docs, lens, labels, n, 2, err, sizeof err)) {
            fprintf(stderr, "bench_text: %s\n", err);
            return 3;
        }
        t_count[r] = util_seconds() - t0;
    }
    const int64_t nnz = counts.indptr[n];
    double *idf = malloc(TEXT_BUCKETS * sizeof *idf);
    float *raw = malloc((size_t)nnz * sizeof *raw);
    memcpy(raw, counts.values, (size_t)nnz * sizeof *raw);
    for (int r = 0; r < REPS; r++) {
        memcpy(counts.values, raw, (size_t)nnz * sizeof *raw);
        double t0 = util_seconds();
        text_idf_fit(idf, &counts);
        text_tfidf_apply(&counts, idf);
        t_tfidf[r] = util_seconds() - t0;
    }
    double sc = median(t_count, REPS), st = median(t_tfidf, REPS);
    printf("| what | figure |\n|---|---|\n");
    printf("| corpus | %d emails, %.1f MB of raw text, %lld nonzeros (%.0f a row) |\n", n,
           text_bytes / 1e6, (long long)nnz, (double)nnz / n);
    printf("| featurizer (parse, tokenize, hash, count): s, documents/s, MB/s | %.3f, %.0f, %.1f |\n",
           sc, n / sc, text_bytes / 1e6 / sc);
    printf("| idf fit + TF-IDF + L2 norm: s | %.3f |\n", st);
    printf("| whole featurizer: documents/s | %.0f |\n", n / (sc + st));

    // the default MLP for sparse input on these rows: a training step and a pool pass
    Config cfg;
    config_defaults(&cfg, CMD_RUN);
    config_adapt(&cfg, 1);
    Model M = {0};
    if (model_open(&M, &cfg, &counts, &backend_cpu, err, sizeof err)) {
        fprintf(stderr, "bench_text: %s\n", err);
        return 3;
    }
    const int H = cfg.hidden[0];
    const long long n_params = (long long)TEXT_BUCKETS * H + H + 2LL * H + 2;
    const int pool_rows = 4232, steps = 20;
    LearnerInput in = {.indptr = counts.indptr, .indices = counts.indices, .values = counts.values,
                       .n = 256, .d = TEXT_BUCKETS};
    double t_step[REPS], t_pass[REPS], t_reset[REPS];
    float *probs = malloc((size_t)pool_rows * 2 * sizeof *probs);
    double t0 = util_seconds();
    model_reset(&M, 1);                 // draws the weights; later resets to 1 copy them
    const double t_draw = util_seconds() - t0;
    for (int r = 0; r < REPS; r++) {
        t0 = util_seconds();
        model_reset(&M, 1);
        t_reset[r] = util_seconds() - t0;
        t0 = util_seconds();
        Spent spent = {0};
        model_fit(&M, &spent, &in, counts.y, steps, 1, 0);
        t_step[r] = (util_seconds() - t0) / steps;
        LearnerInput pool = in;
        pool.n = pool_rows;
        t0 = util_seconds();
        model_predict(&M, probs, NULL, NULL, &pool, 0, 1, 0, 0);
        t_pass[r] = util_seconds() - t0;
    }
    printf("| learner %d-%d-2 (%lld parameters): model_reset drawing the weights, then copying them (every later round), ms | %.0f, %.1f |\n",
           TEXT_BUCKETS, H, n_params, 1e3 * t_draw, 1e3 * median(t_reset, REPS));
    printf("| one AdamW step, minibatch %d (sparse forward + backward + AdamW on all parameters), ms | %.1f |\n",
           M.minibatch, 1e3 * median(t_step, REPS));
    printf("| pool pass, probs only (%d rows), ms | %.1f |\n", pool_rows, 1e3 * median(t_pass, REPS));

    model_close(&M);
    dataset_free(&counts);
    free(idf); free(raw); free(probs); free(docs); free(lens); free(labels); free(buf);
    return 0;
}
