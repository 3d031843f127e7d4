/* run — the active-learning loop. See run.h; reads top to bottom in the order data flows. */
#include "sim/run.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/budget.h"
#include "sim/checkpoint.h"
#include "sim/learner.h"
#include "sim/metrics.h"
#include "sim/oracle.h"
#include "sim/pool.h"
#include "sim/results.h"
#include "sim/signals.h"
#include "strategies/strategy.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int run_check_sizes(const Config *c, const Dataset *pool, char *err, size_t errlen) {
    if (c->full_data) return 0;
    long need = (long)c->init + (long)c->rounds * c->batch;
    if (c->init > pool->n) {
        snprintf(err, errlen, "--init %d is larger than the pool of %s (%d rows)", c->init, pool->name, pool->n);
        return 2;
    }
    if (c->batch > pool->n - c->init) {
        snprintf(err, errlen, "--batch %d is larger than the unlabeled pool of %s (%d rows after --init %d)",
                 c->batch, pool->name, pool->n - c->init, c->init);
        return 2;
    }
    if (need > pool->n) {
        snprintf(err, errlen, "--init %d + --rounds %d x --batch %d = %ld labels, more than the pool of %s (%d rows)",
                 c->init, c->rounds, c->batch, need, pool->name, pool->n);
        return 2;
    }
    return 0;
}

/* Everything a run allocates, freed in one place. */
typedef struct {
    Learner learner;
    Pool pool;
    int *init_rows, *picked, *class_counts;
    int32_t *labels;
    float *xl, *test_probs, *chunk_probs, *chunk_mc;
    double *scores, *curve_x, *curve_acc;
    double *f1;                 /* (K) per-class test F1 of the round */
    int64_t *xl_indptr;         /* CSR pools: the labeled rows (n_max+1), */
    int32_t *xl_indices;        /* their nonzeros (at most the n_max longest rows' count) */
    float *xl_values;
    /* Strategies that need embeddings (rl): their state, and the embeddings they are given. */
    const StrategyHooks *hooks;
    void *state;
    int h;                      /* embedding width: the last hidden layer */
    float *chunk_emb;           /* (chunk, H) */
    float *labeled_emb;         /* (n_max, H) */
    float *ref_emb;             /* (RUN_REF_ROWS, H) */
} Work;

/* Pool rows whose embeddings the density feature compares each row with: evenly spread. */
#define RUN_REF_ROWS 256

static void work_free(Work *w) {
    learner_free(&w->learner);
    pool_free(&w->pool);
    free(w->init_rows); free(w->picked); free(w->class_counts); free(w->labels);
    free(w->xl); free(w->test_probs); free(w->chunk_probs); free(w->chunk_mc);
    free(w->scores); free(w->curve_x); free(w->curve_acc); free(w->f1);
    free(w->xl_indptr); free(w->xl_indices); free(w->xl_values);
    if (w->hooks) w->hooks->close(w->state);
    free(w->chunk_emb); free(w->labeled_emb); free(w->ref_emb);
}

static LearnerInput rows_of(const Dataset *ds, int off, int n) {
    LearnerInput all = {.x = ds->x, .indptr = ds->indptr, .indices = ds->indices,
                        .values = ds->values, .n = ds->n, .d = ds->d};
    return learner_input_rows(&all, off, n);
}

/* Before scoring round r with a whole-pool strategy: the embeddings of the labeled rows xl and
 * of the reference rows, and the round's facts, handed to its begin_round hook. Returns 0, or
 * -1 when out of memory. */
static int begin_strategy_round(Work *w, const LearnerInput *xl, const Dataset *pool, int r,
                                int R, uint64_t seed) {
    const int N = pool->n, n_ref = N < RUN_REF_ROWS ? N : RUN_REF_ROWS;
    if (learner_predict_embed(NULL, NULL, w->labeled_emb, &w->learner, xl, 0, seed, r, 0)) return -1;
    for (int i = 0; i < n_ref; i++) {
        int row = (int)((int64_t)i * N / n_ref);
        LearnerInput x1 = rows_of(pool, row, 1);
        if (learner_predict_embed(NULL, NULL, w->ref_emb + (size_t)i * w->h, &w->learner, &x1, 0,
                                  seed, r, row))
            return -1;
    }
    RoundInfo info = {
        .round = r, .rounds = R, .n_pool = N, .k = pool->k, .h = w->h,
        .n_labeled = w->pool.n_labeled, .labeled_emb = w->labeled_emb, .labeled_y = w->pool.labels,
        .n_ref = n_ref, .ref_emb = w->ref_emb,
    };
    return w->hooks->begin_round(w->state, &info);
}

/* Rows off..off+n-1 of ds as the learner reads them: dense, or CSR when ds->x is NULL. */

static int cmp_int64_desc(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

/* The most nonzeros any m rows of a CSR dataset hold: its m longest rows'. -1 when out of
 * memory. */
static int64_t max_nnz_of_rows(const Dataset *ds, int m) {
    int64_t *len = malloc(((size_t)ds->n + 1) * sizeof *len);
    if (!len) return -1;
    for (int i = 0; i < ds->n; i++) len[i] = ds->indptr[i + 1] - ds->indptr[i];
    qsort(len, (size_t)ds->n, sizeof *len, cmp_int64_desc);
    int64_t sum = 0;
    for (int i = 0; i < m && i < ds->n; i++) sum += len[i];
    free(len);
    return sum;
}

/* After round r: saves what --resume needs (checkpoint.h) and syncs the results files.
 * Returns 0, or 3 with the reason (disk full: the previous checkpoint stays valid). */
static int checkpoint_round(Results *res, Work *w, const Oracle *oracle, int rounds_done,
                            const Metrics *last, int diverged, int r, uint64_t seed,
                            const Config *cfg, double elapsed, char *err, size_t errlen) {
    Checkpoint ck = {
        .seed = seed, .round = r,
        .n_labeled = w->pool.n_labeled, .rows = w->pool.rows, .labels = w->pool.labels,
        .queries = oracle->queries,
        .n_curve = rounds_done, .curve_x = w->curve_x, .curve_acc = w->curve_acc,
        .elapsed = elapsed, .last = {last->accuracy, last->macro_f1, last->nll},
        .diverged = diverged,
    };
    config_hash(ck.config_hash, cfg);
    float *state = NULL;
    if (cfg->warm_start) {      /* the model carries over between rounds: save it too */
        size_t np = w->learner.n_params;
        state = malloc(3 * np * sizeof *state);
        if (!state) { snprintf(err, errlen, "out of memory for the checkpoint"); return 3; }
        ck.n_params = np;
        ck.params = state;
        ck.m = state + np;
        ck.v = state + 2 * np;
        learner_get_params(ck.params, &w->learner);
        learner_get_adam(ck.m, ck.v, &ck.adam_t, &w->learner);
    }
    int rc = results_checkpoint(res, &ck, err, errlen);
    free(state);
    return rc;
}

/* Scores every pool row into scores (N) for round r. A backend that reduces on the device
 * (score_rows: the GPU) keeps the probabilities there: learner_score streams the pool through
 * in chunks and returns one score per row. Else, or when it cannot (no device reduction for
 * this strategy, out of device memory), the host path: predict a chunk, download it, score it
 * with the strategy's function. Returns 0, or -1 when out of memory. */
static int score_pool(double *scores, Work *w, const Strategy *st, const Dataset *pool,
                      const Backend *be, int T, int chunk, uint64_t seed, int r) {
    const int N = pool->n, K = pool->k, needs = st->needs;
    const LearnerInput xall = rows_of(pool, 0, N);
    if (st->reduce != REDUCE_NONE && be->score_rows &&
        learner_score(scores, &w->learner, &xall, st->reduce, T, seed, r, 0) == 0)
        return 0;
    for (int off = 0; off < N; off += chunk) {
        int n = N - off < chunk ? N - off : chunk;
        LearnerInput xp = rows_of(pool, off, n);
        float *emb = (needs & NEEDS_EMB) ? w->chunk_emb : NULL;
        if (needs &&
            learner_predict_embed((needs & NEEDS_PROBS) ? w->chunk_probs : NULL, T ? w->chunk_mc : NULL,
                                  emb, &w->learner, &xp, T, seed, r, off) != 0)
            return -1;
        PoolView v = {
            .n = n, .k = K, .t = T,
            .probs = (needs & NEEDS_PROBS) ? w->chunk_probs : NULL,
            .mc = T ? w->chunk_mc : NULL,
            .row0 = off, .seed = seed, .round = r,
            .h = emb ? w->h : 0, .emb = emb, .state = w->state,
        };
        st->score(scores + off, &v);
    }
    if (w->hooks) w->hooks->finish(scores, N, w->state);
    return 0;
}

/* Continues from a checkpoint: the labeled set, the oracle's count, the curve so far and,
 * when warm-starting, the model. Returns the first round still to run. */
static int resume_from(Work *w, Oracle *oracle, int *rounds_done, Metrics *last,
                       const Checkpoint *ck) {
    pool_add(&w->pool, ck->rows, ck->labels, ck->n_labeled);
    oracle->queries = ck->queries;
    *rounds_done = ck->n_curve;
    memcpy(w->curve_x, ck->curve_x, (size_t)ck->n_curve * sizeof *w->curve_x);
    memcpy(w->curve_acc, ck->curve_acc, (size_t)ck->n_curve * sizeof *w->curve_acc);
    last->accuracy = ck->last[0];
    last->macro_f1 = ck->last[1];
    last->nll = ck->last[2];
    if (ck->n_params) {
        learner_set_params(&w->learner, ck->params);
        learner_set_adam(&w->learner, ck->m, ck->v, ck->adam_t);
    }
    return ck->round + 1;
}

/* The run's buffers: labeled set, gathered labeled rows (dense, or CSR with room for the
 * n_max longest rows), test probabilities, one chunk of probabilities and MC samples, the
 * pool's scores and the curve. Returns 0, or -1 when out of memory (work_free frees it). */
static int work_alloc(Work *w, const Dataset *pool, const Dataset *test, int n_init, int n_max,
                      int batch, int R, int T, int chunk) {
    const int N = pool->n, D = pool->d, K = pool->k;
    int oom = pool_init(&w->pool, N) != 0;
    w->init_rows = malloc((size_t)n_init * sizeof *w->init_rows);
    w->picked = malloc((size_t)(batch > 0 ? batch : 1) * sizeof *w->picked);
    w->labels = malloc((size_t)(n_init > batch ? n_init : batch) * sizeof *w->labels);
    w->class_counts = malloc((size_t)K * sizeof *w->class_counts);
    if (!pool->x) {
        int64_t nnz = max_nnz_of_rows(pool, n_max);
        w->xl_indptr = malloc(((size_t)n_max + 1) * sizeof *w->xl_indptr);
        w->xl_indices = nnz < 0 ? NULL : malloc(((size_t)nnz + 1) * sizeof *w->xl_indices);
        w->xl_values = nnz < 0 ? NULL : malloc(((size_t)nnz + 1) * sizeof *w->xl_values);
        oom |= !w->xl_indptr || !w->xl_indices || !w->xl_values;
    } else {
        w->xl = malloc((size_t)n_max * D * sizeof *w->xl);
        oom |= !w->xl;
    }
    w->test_probs = malloc((size_t)test->n * K * sizeof *w->test_probs);
    w->chunk_probs = malloc((size_t)chunk * K * sizeof *w->chunk_probs);
    w->chunk_mc = T ? malloc((size_t)T * chunk * K * sizeof *w->chunk_mc) : NULL;
    w->scores = malloc((size_t)N * sizeof *w->scores);
    w->curve_x = malloc((size_t)(R + 1) * sizeof *w->curve_x);
    w->curve_acc = malloc((size_t)(R + 1) * sizeof *w->curve_acc);
    w->f1 = malloc((size_t)K * sizeof *w->f1);
    oom |= !w->init_rows || !w->picked || !w->labels || !w->class_counts || !w->test_probs ||
           !w->chunk_probs || (T && !w->chunk_mc) || !w->scores || !w->curve_x ||
           !w->curve_acc || !w->f1;
    return oom ? -1 : 0;
}

int run_al(RunOutcome *outcome, const Config *cfg, const Dataset *pool, const Dataset *test,
           const Backend *be, uint64_t seed, char *err, size_t errlen) {
    const Strategy *st = cfg->full_data ? NULL : strategy_find(cfg->strategy);
    const int N = pool->n, D = pool->d, K = pool->k;
    const int R = cfg->full_data ? 0 : cfg->rounds;
    const int n_init = cfg->full_data ? N : cfg->init;
    const int n_max = n_init + R * cfg->batch;
    const int needs = st ? st->needs : NEEDS_NOTHING;
    const int T = (needs & NEEDS_MC) ? cfg->mc : 0;
    const int chunk = N < RUN_CHUNK_ROWS ? N : RUN_CHUNK_ROWS;
    int rc = run_check_sizes(cfg, pool, err, errlen);
    if (rc) return rc;

    /* Where the run goes: a fresh partial folder, the checkpoint of a killed run, or a
     * finished run to skip. */
    char run_id[256];
    results_run_id(run_id, cfg, pool->name, be->name, seed);
    Results res;
    Checkpoint ck;
    ResultsStart start;
    rc = results_open(&res, &start, &ck, cfg->out, run_id, cfg->force, cfg->resume, err, errlen);
    if (rc) return rc;
    if (start == RESULTS_FINISHED) {
        fprintf(stderr, "alsim: %s already holds a finished run: skipped (--force runs it again)\n", res.dir);
        *outcome = RUN_SKIPPED;
        return 0;
    }
    if (start == RESULTS_FRESH && (rc = results_write_config(&res, cfg, seed, be->name, pool, test, err, errlen))) {
        results_abort(&res);
        return rc;
    }

    Work w;
    memset(&w, 0, sizeof w);
    int checkpointed = start == RESULTS_RESUMED;    /* the partial folder can be resumed */
    int rounds_done = 0;
    LearnerConfig lc = config_learner(cfg, D, K);
    const int sparse = pool->x == NULL;     /* CSR rows (text): a sparse first layer */
    lc.sparse = sparse;
    lc.mean_nnz = sparse && N ? (double)pool->indptr[N] / N : 0.0;
    if (work_alloc(&w, pool, test, n_init, n_max, cfg->batch, R, T, chunk) != 0) {
        snprintf(err, errlen, "out of memory for a run on %s (%d x %d)", pool->name, N, D);
        rc = 3;
        goto fail;
    }
    if (learner_init(&w.learner, &lc, be, err, errlen) != 0) { rc = 3; goto fail; }
    if (needs & NEEDS_EMB) {        /* a whole-pool strategy (rl): its state and embeddings */
        w.hooks = st->hooks;
        if ((rc = w.hooks->open(&w.state, cfg->policy, N, err, errlen))) { w.hooks = NULL; goto fail; }
        w.h = lc.hidden[lc.n_hidden - 1];
        w.chunk_emb = malloc((size_t)chunk * w.h * sizeof *w.chunk_emb);
        w.labeled_emb = malloc((size_t)n_max * w.h * sizeof *w.labeled_emb);
        w.ref_emb = malloc((size_t)RUN_REF_ROWS * w.h * sizeof *w.ref_emb);
        if (!w.chunk_emb || !w.labeled_emb || !w.ref_emb) {
            snprintf(err, errlen, "out of memory for the embeddings of a run on %s", pool->name);
            rc = 3;
            goto fail;
        }
    }
    if (start == RESULTS_RESUMED && (ck.n_params ? ck.n_params != w.learner.n_params : cfg->warm_start)) {
        snprintf(err, errlen, "%s: the checkpoint does not match this run's model; delete the folder to start again", res.tmp);
        rc = 2;
        goto fail;
    }

    /* The simulated annotator, and the seed set it labels before round 0 (or, resuming,
     * the labeled set, curve and model of the last complete round). */
    Oracle oracle;
    oracle_init(&oracle, pool->y, N, K, cfg->noise, seed);
    int got = 0, r0 = 0;
    Metrics last = {0};
    const char *status = "ok";
    double elapsed0 = 0;
    if (start == RESULTS_RESUMED) {
        r0 = resume_from(&w, &oracle, &rounds_done, &last, &ck);
        elapsed0 = ck.elapsed;
        if (ck.diverged) status = "diverged";
        if (!cfg->quiet)
            fprintf(stderr, "alsim: resuming %s after round %d (%d labels)\n", run_id, ck.round, w.pool.n_labeled);
    } else if (cfg->full_data) {
        for (int i = 0; i < N; i++) w.init_rows[i] = i;
        got = N;
    } else if ((got = oracle_initial_set(w.init_rows, &oracle, n_init, seed)) < 0) {
        snprintf(err, errlen, "out of memory drawing the initial set");
        rc = 3;
        goto fail;
    }
    if (start != RESULTS_RESUMED) {
        oracle_label(w.labels, &oracle, w.init_rows, got);
        pool_add(&w.pool, w.init_rows, w.labels, got);
    }
    checkpoint_free(&ck);

    const double t_start = now_s() - elapsed0;
    int stop = 0;   /* a SIGINT/SIGTERM to honour at the next round boundary */
    for (int r = r0; r <= R && !strcmp(status, "ok"); r++) {
        if ((stop = signals_pending())) break;
        Ledger led = {0};
        led.budget = budget_for_round(&lc, cfg->epochs, r, w.pool.n_labeled);

        /* 1. Fine-tune on the labeled set with this round's budget. The same initial weights
         *    every round (unless warm-starting): curve differences come from the data alone. */
        double t0 = now_s();
        if (r == 0 || !cfg->warm_start) learner_reset(&w.learner, seed, 0);
        LearnerInput xl = {.x = w.xl, .indptr = w.xl_indptr, .indices = w.xl_indices,
                           .values = w.xl_values, .n = w.pool.n_labeled, .d = D};
        if (sparse)
            pool_gather_csr(w.xl_indptr, w.xl_indices, w.xl_values, &w.pool, pool->indptr,
                            pool->indices, pool->values);
        else
            pool_gather(w.xl, &w.pool, pool->x, D);
        double loss = learner_fit(&w.learner, &xl, w.pool.labels, led.budget.steps, seed, r);
        led.train_s = now_s() - t0;
        if ((stop = signals_pending())) break;

        /* 2. Test metrics: one row of the learning curve. */
        t0 = now_s();
        LearnerInput xt = rows_of(test, 0, test->n);
        if (learner_predict(w.test_probs, NULL, &w.learner, &xt, 0, seed, r, 0) != 0)
            goto out_of_memory;
        Metrics m = metrics_eval(w.test_probs, test->y, test->n, K);
        metrics_f1_per_class(w.f1, w.test_probs, test->y, test->n, K);
        led.eval_s = now_s() - t0;
        int diverged = !isfinite(loss) || isnan(m.accuracy);

        /* 3. Score every pool row, 4. pick the top b unlabeled ones, 5. the oracle labels
         *    them. */
        int n_picked = 0;
        if (r < R && !diverged) {
            t0 = now_s();
            if (w.hooks && begin_strategy_round(&w, &xl, pool, r, R, seed) != 0) goto out_of_memory;
            if (score_pool(w.scores, &w, st, pool, be, T, chunk, seed, r) != 0) goto out_of_memory;
            led.score_s = now_s() - t0;
            if ((stop = signals_pending())) break;

            t0 = now_s();
            n_picked = select_top_b(w.picked, w.scores, w.pool.labeled, N, cfg->batch, seed, r);
            led.select_s = now_s() - t0;
            oracle_label(w.labels, &oracle, w.picked, n_picked);
        }

        /* 6. The round's results, then its checkpoint: a kill from here on resumes after it. */
        memset(w.class_counts, 0, (size_t)K * sizeof *w.class_counts);
        for (int i = 0; i < w.pool.n_labeled; i++) w.class_counts[w.pool.labels[i]]++;
        RoundRecord rec = {
            .round = r, .n_labeled = w.pool.n_labeled, .test = m, .train_loss = loss,
            .ledger = led, .class_counts = w.class_counts, .k = K,
            .initial = (r == 0 && !cfg->full_data) ? w.init_rows : NULL, .n_initial = got,
            .picked = w.picked, .picked_labels = w.labels, .n_picked = n_picked,
            .queries = oracle.queries, .f1 = w.f1,
        };
        results_round(&res, &rec);
        w.curve_x[rounds_done] = w.pool.n_labeled;
        w.curve_acc[rounds_done] = m.accuracy;
        rounds_done++;
        last = m;
        if (!cfg->quiet)
            fprintf(stderr, "alsim: %s %s seed %llu | round %3d/%d | labels %6d | acc %.4f | train %.2fs score %.2fs | %.1fs\n",
                    pool->name, st ? st->name : "full-data", (unsigned long long)seed, r, R,
                    w.pool.n_labeled, m.accuracy, led.train_s, led.score_s, now_s() - t_start);
        pool_add(&w.pool, w.picked, w.labels, n_picked);
        if (diverged) {
            status = "diverged";
            fprintf(stderr, "alsim: %s seed %llu diverged in round %d (loss %g): stopped; summary.json says so\n",
                    pool->name, (unsigned long long)seed, r, loss);
        }
        if ((rc = checkpoint_round(&res, &w, &oracle, rounds_done, &last, diverged, r, seed,
                                   cfg, now_s() - t_start, err, errlen)))
            goto fail;
        checkpointed = 1;
    }
    if (stop) {
        work_free(&w);
        results_suspend(&res);
        *outcome = RUN_INTERRUPTED;
        fprintf(stderr, "alsim: stopped by %s after round %d of %s; the same command with --resume continues it\n",
                stop == SIGINT ? "SIGINT" : "SIGTERM", rounds_done ? (int)rounds_done - 1 : -1, run_id);
        return 0;
    }

    Summary s = {
        .status = status, .rounds_done = rounds_done,
        .aulc = metrics_aulc(w.curve_x, w.curve_acc, rounds_done),
        .target = cfg->target,
        .labels_to_target = cfg->target > 0 ? metrics_labels_to_target(w.curve_x, w.curve_acc, rounds_done, cfg->target) : -1,
        .final = last, .final_labeled = (int)w.curve_x[rounds_done - 1],
        .queries = oracle.queries, .seconds = now_s() - t_start,
    };
    work_free(&w);
    rc = results_finish(&res, &s, err, errlen);
    if (rc) return rc;
    if (!cfg->quiet) fprintf(stderr, "alsim: wrote %s (AULC %.4f, final accuracy %.4f)\n", res.dir, s.aulc, last.accuracy);
    *outcome = strcmp(status, "ok") ? RUN_DIVERGED : RUN_OK;
    return 0;

out_of_memory:  /* learner_predict could not grow its sparse input buffers, or a strategy its state */
    snprintf(err, errlen, "out of memory while scoring the pool of %s", pool->name);
    rc = 3;
fail:   /* keep what a checkpoint already made resumable; discard a run with none */
    work_free(&w);
    checkpoint_free(&ck);
    if (checkpointed) results_suspend(&res); else results_abort(&res);
    return rc;
}
