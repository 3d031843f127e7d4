/* run — the active-learning loop. See run.h; reads top to bottom in the order data flows. */
#include "sim/run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/budget.h"
#include "sim/learner.h"
#include "sim/metrics.h"
#include "sim/oracle.h"
#include "sim/pool.h"
#include "sim/results.h"
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
} Work;

static void work_free(Work *w) {
    learner_free(&w->learner);
    pool_free(&w->pool);
    free(w->init_rows); free(w->picked); free(w->class_counts); free(w->labels);
    free(w->xl); free(w->test_probs); free(w->chunk_probs); free(w->chunk_mc);
    free(w->scores); free(w->curve_x); free(w->curve_acc);
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

    char run_id[256];
    results_run_id(run_id, cfg, pool->name, seed);
    Results res;
    rc = results_open(&res, cfg->out, run_id, cfg->force, err, errlen);
    if (rc == 1) {
        fprintf(stderr, "alsim: %s already holds a finished run: skipped (--force runs it again)\n", res.dir);
        *outcome = RUN_SKIPPED;
        return 0;
    }
    if (rc) return rc;
    rc = results_write_config(&res, cfg, seed, be->name, pool, test, err, errlen);
    if (rc) { results_abort(&res); return rc; }

    Work w;
    memset(&w, 0, sizeof w);
    LearnerConfig lc = config_learner(cfg, D, K);
    int oom = pool_init(&w.pool, N) != 0;
    w.init_rows = malloc((size_t)n_init * sizeof *w.init_rows);
    w.picked = malloc((size_t)(cfg->batch > 0 ? cfg->batch : 1) * sizeof *w.picked);
    w.labels = malloc((size_t)(n_init > cfg->batch ? n_init : cfg->batch) * sizeof *w.labels);
    w.class_counts = malloc((size_t)K * sizeof *w.class_counts);
    w.xl = malloc((size_t)n_max * D * sizeof *w.xl);
    w.test_probs = malloc((size_t)test->n * K * sizeof *w.test_probs);
    w.chunk_probs = malloc((size_t)chunk * K * sizeof *w.chunk_probs);
    w.chunk_mc = T ? malloc((size_t)T * chunk * K * sizeof *w.chunk_mc) : NULL;
    w.scores = malloc((size_t)N * sizeof *w.scores);
    w.curve_x = malloc((size_t)(R + 1) * sizeof *w.curve_x);
    w.curve_acc = malloc((size_t)(R + 1) * sizeof *w.curve_acc);
    oom |= !w.init_rows || !w.picked || !w.labels || !w.class_counts || !w.xl || !w.test_probs ||
           !w.chunk_probs || (T && !w.chunk_mc) || !w.scores || !w.curve_x || !w.curve_acc;
    if (oom) {
        snprintf(err, errlen, "out of memory for a run on %s (%d x %d)", pool->name, N, D);
        work_free(&w);
        results_abort(&res);
        return 3;
    }
    if (learner_init(&w.learner, &lc, be, err, errlen) != 0) {
        work_free(&w);
        results_abort(&res);
        return 3;
    }

    /* The simulated annotator, and the seed set it labels before round 0. */
    Oracle oracle;
    oracle_init(&oracle, pool->y, N, K, cfg->noise, seed);
    int got;
    if (cfg->full_data) {
        for (int i = 0; i < N; i++) w.init_rows[i] = i;
        got = N;
    } else {
        got = oracle_initial_set(w.init_rows, &oracle, n_init, seed);
        if (got < 0) {
            snprintf(err, errlen, "out of memory drawing the initial set");
            work_free(&w);
            results_abort(&res);
            return 3;
        }
    }
    oracle_label(w.labels, &oracle, w.init_rows, got);
    pool_add(&w.pool, w.init_rows, w.labels, got);

    const double t_start = now_s();
    const char *status = "ok";
    int rounds_done = 0;
    Metrics last = {0};
    for (int r = 0; r <= R; r++) {
        Ledger led = {0};
        led.budget = budget_for_round(&lc, cfg->epochs, r, w.pool.n_labeled);

        /* 1. Fine-tune on the labeled set with this round's budget. The same initial weights
         *    every round (unless warm-starting): curve differences come from the data alone. */
        double t0 = now_s();
        if (r == 0 || !cfg->warm_start) learner_reset(&w.learner, seed, 0);
        pool_gather(w.xl, &w.pool, pool->x, D);
        double loss = learner_fit(&w.learner, w.xl, w.pool.labels, w.pool.n_labeled,
                                  led.budget.steps, seed, r);
        led.train_s = now_s() - t0;

        /* 2. Test metrics: one row of the learning curve. */
        t0 = now_s();
        learner_predict(w.test_probs, NULL, &w.learner, test->x, test->n, 0, seed, r, 0);
        Metrics m = metrics_eval(w.test_probs, test->y, test->n, K);
        led.eval_s = now_s() - t0;
        int diverged = !isfinite(loss) || isnan(m.accuracy);

        /* 3. Score every pool row, chunk by chunk, and 4. pick the top b unlabeled ones. */
        int n_picked = 0;
        if (r < R && !diverged) {
            t0 = now_s();
            for (int off = 0; off < N; off += chunk) {
                int n = N - off < chunk ? N - off : chunk;
                if (needs)
                    learner_predict((needs & NEEDS_PROBS) ? w.chunk_probs : NULL, T ? w.chunk_mc : NULL,
                                    &w.learner, pool->x + (size_t)off * D, n, T, seed, r, off);
                PoolView v = {
                    .n = n, .k = K, .t = T,
                    .probs = (needs & NEEDS_PROBS) ? w.chunk_probs : NULL,
                    .mc = T ? w.chunk_mc : NULL,
                    .row0 = off, .seed = seed, .round = r,
                };
                st->score(w.scores + off, &v);
            }
            led.score_s = now_s() - t0;

            t0 = now_s();
            n_picked = select_top_b(w.picked, w.scores, w.pool.labeled, N, cfg->batch, seed, r);
            led.select_s = now_s() - t0;
            /* 5. The oracle labels the picks. */
            oracle_label(w.labels, &oracle, w.picked, n_picked);
        }

        memset(w.class_counts, 0, (size_t)K * sizeof *w.class_counts);
        for (int i = 0; i < w.pool.n_labeled; i++) w.class_counts[w.pool.labels[i]]++;
        RoundRecord rec = {
            .round = r, .n_labeled = w.pool.n_labeled, .test = m, .train_loss = loss,
            .ledger = led, .class_counts = w.class_counts, .k = K,
            .initial = (r == 0 && !cfg->full_data) ? w.init_rows : NULL, .n_initial = got,
            .picked = w.picked, .picked_labels = w.labels, .n_picked = n_picked,
            .queries = oracle.queries,
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
            break;
        }
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
}
