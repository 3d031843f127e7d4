/* engine — the one active-learning loop. See engine.h; session_round reads top to bottom in
 * the order data flows. */
#include "sim/engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/rng.h"
#include "sim/util.h"

int session_check_sizes(const Config *c, const Dataset *pool, char *err, size_t errlen) {
    if (c->full_data) return 0;
    long need = (long)c->init + (long)c->rounds * c->batch;
    char val_note[96] = "";     /* the pool is what --val-size and --reward-size left of it */
    if (c->val_size && c->reward_size)
        snprintf(val_note, sizeof val_note, " after --val-size %d and --reward-size %d", c->val_size, c->reward_size);
    else if (c->val_size) snprintf(val_note, sizeof val_note, " after --val-size %d", c->val_size);
    else if (c->reward_size) snprintf(val_note, sizeof val_note, " after --reward-size %d", c->reward_size);
    if (c->init > pool->n) {
        snprintf(err, errlen, "--init %d is larger than the pool of %s (%d rows%s)", c->init, pool->name, pool->n,
                 val_note);
        return ALSIM_BAD_INPUT;
    }
    if (c->batch > pool->n - c->init) {
        snprintf(err, errlen, "--batch %d is larger than the unlabeled pool of %s (%d rows: %d pool rows%s less "
                 "--init %d)", c->batch, pool->name, pool->n - c->init, pool->n, val_note, c->init);
        return ALSIM_BAD_INPUT;
    }
    if (c->pool_subset > pool->n - c->init) {
        snprintf(err, errlen, "--pool-subset %d is more than the %d unlabeled rows of %s in round 0 (%d pool rows%s "
                 "less --init %d); 0 scores the whole pool", c->pool_subset, pool->n - c->init, pool->name, pool->n,
                 val_note, c->init);
        return ALSIM_BAD_INPUT;
    }
    if (need > pool->n) {
        snprintf(err, errlen, "--init %d + --rounds %d x --batch %d = %ld labels, more than the pool of %s (%d rows%s)",
                 c->init, c->rounds, c->batch, need, pool->name, pool->n, val_note);
        return ALSIM_BAD_INPUT;
    }
    return 0;
}

int session_check_test(const Config *c, const Dataset *pool, const Dataset *test, char *err,
                       size_t errlen) {
    if (test->n > 0) return 0;
    if (c->test[0]) {
        snprintf(err, errlen, "the test set is empty: %s has no rows; give --test a file with rows", c->test);
        return ALSIM_BAD_INPUT;
    }
    /* A stratified split puts round(frac x rows) of each class in the test set: nothing when
     * every class is small. The largest class says how far --test-frac must rise. */
    int largest = 0;
    int *counts = calloc((size_t)(pool->k > 0 ? pool->k : 1), sizeof *counts);
    if (counts) {
        dataset_class_counts(counts, pool);
        for (int i = 0; i < pool->k; i++) if (counts[i] > largest) largest = counts[i];
        free(counts);
    }
    if (largest > 0)
        snprintf(err, errlen, "the test set is empty: --test-frac %g of each class of %s rounds to no row (%d rows "
                 "in %d classes, at most %d per class); raise --test-frac to at least %.3g, or give a test file with "
                 "--test", c->test_frac, pool->name, pool->n, pool->k, largest, 0.5 / largest);
    else
        snprintf(err, errlen, "the test set of %s is empty: a run measures every round on test rows; give it some "
                 "(--test FILE, --test-frac, or the dataset's own test option)", pool->name);
    return ALSIM_BAD_INPUT;
}

int session_pick_top_b(int *picked, const double *scores, const unsigned char *labeled, int n,
                       int b, uint64_t seed, int round, void *ctx) {
    (void)ctx;
    return select_top_b(picked, scores, labeled, n, b, seed, round);
}

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

/* The rows a batch-aware strategy's view holds: the round's --pool-subset, else the pool. */
static int gathered_rows(const Config *c, int n_pool) {
    return c->pool_subset > 0 ? c->pool_subset : n_pool;
}

/* The bytes of a batch-aware strategy's gathered predictions (session_alloc). */
static double gathered_bytes(const Session *S, int n_pool) {
    const int needs = S->st ? S->st->needs : NEEDS_NOTHING, K = S->pool->k;
    const double rows = gathered_rows(S->cfg, n_pool);
    return rows * sizeof(float) * (((needs & NEEDS_PROBS) ? K : 0) + (double)S->T * K +
                                   ((needs & NEEDS_EMB) ? S->model.emb_width : 0));
}

/* The rows' predictions gathered for a picker (BatchView): probs (when with_probs), T MC
 * samples and embeddings of width H (each when nonzero), for gathered_rows rows. Returns 0,
 * or 1 when out of memory. */
static int gathered_alloc(Session *S, int with_probs, int T, int H) {
    const size_t rows = (size_t)gathered_rows(S->cfg, S->pool->n), K = (size_t)S->pool->k;
    if (with_probs && !(S->all_probs = malloc(rows * K * sizeof *S->all_probs))) return 1;
    if (T && !(S->all_mc = malloc((size_t)T * rows * K * sizeof *S->all_mc))) return 1;
    if (H && !(S->all_emb = malloc(rows * (size_t)H * sizeof *S->all_emb))) return 1;
    return 0;
}

/* A look-ahead's buffers: the round's model state, and the labeled rows ∪ a candidate (n_max
 * at most). Returns 0, or 1 when out of memory. */
static int lookahead_alloc(Session *S, long n_max) {
    S->look_state = malloc(S->model.ops->state_size(&S->model));
    S->look_rows = malloc((size_t)n_max * sizeof *S->look_rows);
    S->look_y = malloc((size_t)n_max * sizeof *S->look_y);
    return !S->look_state || !S->look_rows || !S->look_y;
}

/* The session's buffers (see Session). Returns 0, or -1 when out of memory. */
static int session_alloc(Session *S, int n_init, int n_max, int chunk) {
    const Dataset *pool = S->pool;
    const int N = pool->n, D = pool->d, K = pool->k, T = S->T, b = S->cfg->batch;
    const Strategy *st = S->st;
    const int needs = st ? st->needs : NEEDS_NOTHING;
    const int H = (needs & NEEDS_EMB) ? S->model.emb_width : 0;
    int oom = pool_init(&S->labeled, N) != 0;
    S->initial = malloc((size_t)(n_init > 0 ? n_init : 1) * sizeof *S->initial);
    S->picked = malloc((size_t)(b > 0 ? b : 1) * sizeof *S->picked);
    S->answers = malloc((size_t)(n_init > b ? n_init : b) * sizeof *S->answers);
    S->class_counts = malloc((size_t)K * sizeof *S->class_counts);
    S->f1 = malloc((size_t)K * sizeof *S->f1);
    if (!pool->x) {
        int64_t nnz = max_nnz_of_rows(pool, n_max);
        S->xl_indptr = malloc(((size_t)n_max + 1) * sizeof *S->xl_indptr);
        S->xl_indices = nnz < 0 ? NULL : malloc(((size_t)nnz + 1) * sizeof *S->xl_indices);
        S->xl_values = nnz < 0 ? NULL : malloc(((size_t)nnz + 1) * sizeof *S->xl_values);
        oom |= !S->xl_indptr || !S->xl_indices || !S->xl_values;
    } else {
        S->xl = malloc((size_t)n_max * D * sizeof *S->xl);
        oom |= !S->xl;
    }
    S->test_probs = malloc((size_t)S->test->n * K * sizeof *S->test_probs);
    S->chunk_probs = malloc((size_t)chunk * K * sizeof *S->chunk_probs);
    S->chunk_mc = T ? malloc((size_t)T * chunk * K * sizeof *S->chunk_mc) : NULL;
    S->scores = malloc((size_t)N * sizeof *S->scores);
    S->curve_x = malloc((size_t)(S->R + 1) * sizeof *S->curve_x);
    S->curve_acc = malloc((size_t)(S->R + 1) * sizeof *S->curve_acc);
    oom |= !S->initial || !S->picked || !S->answers || !S->class_counts || !S->f1 ||
           !S->test_probs || !S->chunk_probs || (T && !S->chunk_mc) || !S->scores ||
           !S->curve_x || !S->curve_acc;
    if (H) {
        S->chunk_emb = malloc((size_t)chunk * H * sizeof *S->chunk_emb);
        S->labeled_emb = malloc((size_t)n_max * H * sizeof *S->labeled_emb);
        S->ref_emb = malloc((size_t)SESSION_REF_ROWS * H * sizeof *S->ref_emb);
        oom |= !S->chunk_emb || !S->labeled_emb || !S->ref_emb;
    }
    if (needs & NEEDS_LABELED_PROBS)    /* a strategy rewarded on the labeled rows (albl) */
        oom |= !(S->labeled_probs = malloc((size_t)n_max * K * sizeof *S->labeled_probs));
    if (st && st->select)           /* a batch-aware strategy: every row scored, gathered */
        oom |= gathered_alloc(S, needs & NEEDS_PROBS, T, H);
    if (S->cfg->warm_start) {
        S->model_state = malloc(S->model.ops->state_size(&S->model));
        oom |= !S->model_state;
    }
    if (S->cfg->early_stop > 0) oom |= !(S->best_state = malloc(S->model.ops->state_size(&S->model)));
    if (needs & NEEDS_LOOKAHEAD)    /* the teacher's refits: the round's model kept, labeled ∪ candidate */
        oom |= lookahead_alloc(S, n_max);
    const int m = S->cfg->full_data ? 0 : S->cfg->pool_subset;
    if (m) {        /* --pool-subset: the round's subset, gathered */
        S->subset = malloc((size_t)m * sizeof *S->subset);
        S->perm = malloc((size_t)N * sizeof *S->perm);
        S->excluded = malloc((size_t)N);
        S->subset_scores = malloc((size_t)m * sizeof *S->subset_scores);
        oom |= !S->subset || !S->perm || !S->excluded || !S->subset_scores;
        if (!pool->x) {
            int64_t nnz = max_nnz_of_rows(pool, m);
            S->xs_indptr = malloc(((size_t)m + 1) * sizeof *S->xs_indptr);
            S->xs_indices = nnz < 0 ? NULL : malloc(((size_t)nnz + 1) * sizeof *S->xs_indices);
            S->xs_values = nnz < 0 ? NULL : malloc(((size_t)nnz + 1) * sizeof *S->xs_values);
            oom |= !S->xs_indptr || !S->xs_indices || !S->xs_values;
        } else {
            S->xs = malloc((size_t)m * D * sizeof *S->xs);
            oom |= !S->xs;
        }
    }
    return oom ? -1 : 0;
}

int session_open(Session *S, const Config *c, const Dataset *pool, const Dataset *test,
                 const Backend *be, uint64_t seed, char *err, size_t errlen) {
    memset(S, 0, sizeof *S);
    int rc = session_check_sizes(c, pool, err, errlen);
    if (!rc) rc = session_check_test(c, pool, test, err, errlen);
    if (rc) return rc;
    S->cfg = c;
    S->pool = pool;
    S->test = test;
    S->be = be;
    S->seed = seed;
    S->st = c->full_data ? NULL : strategy_find(c->strategy);
    if (!c->full_data && !S->st) {
        snprintf(err, errlen, "--strategy: unknown strategy '%s' (alsim --list shows them)", c->strategy);
        return ALSIM_BAD_INPUT;
    }
    const int needs = S->st ? S->st->needs : NEEDS_NOTHING;
    S->R = c->full_data ? 0 : c->rounds;
    S->T = (needs & NEEDS_MC) || ((needs & NEEDS_MC_IF_DROPOUT) && model_has_mc(c)) ? c->mc : 0;
    char no_mc[256];    /* a look-ahead strategy takes MC samples when the model has dropout */
    if ((needs & NEEDS_LOOKAHEAD) && model_check(c, S->st->name, NEEDS_MC, no_mc, sizeof no_mc) == 0) S->T = c->mc;
    S->pick = session_pick_top_b;
    const int N = pool->n;
    const int n_init = c->full_data ? N : c->init;
    const int n_max = n_init + S->R * c->batch;
    const int chunk = N < ENGINE_CHUNK_ROWS ? N : ENGINE_CHUNK_ROWS;

    if (S->st && (rc = model_check(c, S->st->name, needs, err, errlen))) return rc;
    if ((rc = model_open(&S->model, c, pool, be, err, errlen))) return rc;
    if ((needs & NEEDS_EMB) && !S->model.emb_width) {
        snprintf(err, errlen, "--strategy %s needs the model's embeddings; --model %s with these options has none (a hidden layer)",
                 S->st->name, c->model);
        session_close(S);
        return ALSIM_BAD_INPUT;
    }
    if (S->st && S->st->hooks &&    /* a whole-pool strategy (rl): its state */
        (rc = S->st->hooks->open(&S->strategy_state, c->policy, N, err, errlen))) {
        session_close(S);
        return rc;
    }
    if (S->st && S->st->hooks && S->st->hooks->pick) {     /* one that picks its batch itself (rl) */
        S->pick = S->st->hooks->pick;
        S->pick_ctx = S->strategy_state;
    }
    if (session_alloc(S, n_init, n_max, chunk) != 0) {
        if (S->st && S->st->select)     /* the likely cause: the gathered predictions */
            snprintf(err, errlen, "out of memory for a run on %s (%d x %d): --strategy %s gathers %.2g GB of predictions a "
                     "round; --pool-subset M gathers M rows instead", pool->name, N, pool->d, S->st->name,
                     gathered_bytes(S, N) / 1e9);
        else
            snprintf(err, errlen, "out of memory for a run on %s (%d x %d)", pool->name, N, pool->d);
        session_close(S);
        return ALSIM_RUNTIME;
    }

    /* The simulated annotator, and the seed set it labels before round 0. */
    oracle_init(&S->oracle, pool->y, N, pool->k, c->noise, seed);
    if (c->full_data) {
        for (int i = 0; i < N; i++) S->initial[i] = i;
        S->n_initial = N;
    } else if ((S->n_initial = oracle_initial_set(S->initial, &S->oracle, n_init, seed)) < 0) {
        snprintf(err, errlen, "out of memory drawing the initial set");
        session_close(S);
        return ALSIM_RUNTIME;
    }
    oracle_label(S->answers, &S->oracle, S->initial, S->n_initial);
    pool_add(&S->labeled, S->initial, S->answers, S->n_initial);
    return 0;
}

int session_set_val(Session *S, const Dataset *val, char *err, size_t errlen) {
    if (val->d != S->pool->d || val->k != S->pool->k || (val->x == NULL) != (S->pool->x == NULL)) {
        snprintf(err, errlen, "the validation set of %s has another shape than its pool", S->pool->name);
        return ALSIM_BAD_INPUT;
    }
    free(S->val_probs);
    S->val_probs = malloc((size_t)(val->n > 0 ? val->n : 1) * val->k * sizeof *S->val_probs);
    if (!S->val_probs) {
        snprintf(err, errlen, "out of memory for the validation set of %s (%d rows)", S->pool->name, val->n);
        return ALSIM_RUNTIME;
    }
    S->val = val;
    return 0;
}

int session_set_reward(Session *S, const Dataset *reward, char *err, size_t errlen) {
    if (reward->d != S->pool->d || reward->k != S->pool->k || (reward->x == NULL) != (S->pool->x == NULL) ||
        reward->n < 1) {
        snprintf(err, errlen, "the reward split of %s has %s", S->pool->name,
                 reward->n < 1 ? "no rows" : "another shape than its pool");
        return ALSIM_BAD_INPUT;
    }
    free(S->reward_probs);
    S->reward_probs = malloc((size_t)reward->n * reward->k * sizeof *S->reward_probs);
    if (!S->reward_probs) {
        snprintf(err, errlen, "out of memory for the reward split of %s (%d rows)", S->pool->name, reward->n);
        return ALSIM_RUNTIME;
    }
    S->reward = reward;
    return 0;
}

void session_close(Session *S) {
    model_close(&S->model);
    if (S->strategy_state) S->st->hooks->close(S->strategy_state);
    pool_free(&S->labeled);
    free(S->initial); free(S->picked); free(S->answers); free(S->class_counts); free(S->f1);
    free(S->xl); free(S->xl_indptr); free(S->xl_indices); free(S->xl_values);
    free(S->test_probs); free(S->val_probs); free(S->chunk_probs); free(S->chunk_mc); free(S->chunk_emb);
    free(S->labeled_emb); free(S->ref_emb); free(S->labeled_probs); free(S->strategy_bytes);
    free(S->scores); free(S->curve_x);
    free(S->curve_acc); free(S->model_state); free(S->best_state);
    free(S->subset); free(S->perm); free(S->excluded); free(S->subset_scores);
    free(S->xs); free(S->xs_indptr); free(S->xs_indices); free(S->xs_values);
    free(S->all_probs); free(S->all_mc); free(S->all_emb);
    free(S->reward_probs); free(S->look_state); free(S->look_rows); free(S->look_y);
    memset(S, 0, sizeof *S);
}

int session_done(const Session *S) { return S->diverged || S->round > S->R; }

/* The rows of p (at most the run's n_max) as the model reads them, gathered in their order
 * into the labeled rows' buffers. */
static LearnerInput gather_pool_rows(Session *S, const Pool *p) {
    const Dataset *pool = S->pool;
    if (pool->x) pool_gather(S->xl, p, pool->x, pool->d);
    else pool_gather_csr(S->xl_indptr, S->xl_indices, S->xl_values, p, pool->indptr,
                         pool->indices, pool->values);
    return (LearnerInput){.x = S->xl, .indptr = S->xl_indptr, .indices = S->xl_indices,
                          .values = S->xl_values, .n = p->n_labeled, .d = pool->d};
}

/* The labeled rows as the model reads them, gathered in labeling order. */
static LearnerInput gather_labeled(Session *S) {
    return gather_pool_rows(S, &S->labeled);
}

/* Before a whole-pool strategy scores round r: the embeddings of the reference rows, and the
 * round's facts (with S->labeled_emb, already predicted), handed to its begin_round hook.
 * Returns 0, or -1 when out of memory. */
static int begin_strategy_round(Session *S, int r) {
    const Dataset *pool = S->pool;
    const int N = pool->n, H = S->model.emb_width;
    const int n_ref = !S->ref_emb ? 0 : N < SESSION_REF_ROWS ? N : SESSION_REF_ROWS;
    for (int i = 0; i < n_ref; i++) {
        int row = (int)((int64_t)i * N / n_ref);
        LearnerInput x1 = model_rows(pool, row, 1);
        if (model_predict(&S->model, NULL, NULL, S->ref_emb + (size_t)i * H, &x1, 0, S->seed, r, row))
            return -1;
    }
    RoundInfo info = {
        .round = r, .rounds = S->R, .n_pool = N, .k = pool->k, .h = H,
        .n_labeled = S->labeled.n_labeled, .labeled_emb = S->labeled_emb,
        .labeled_y = S->labeled.labels, .n_ref = n_ref, .ref_emb = S->ref_emb,
        .batch = S->cfg->batch, .mc = S->T, .labeled_rows = S->labeled.rows,
        .labeled_probs = S->labeled_probs,
        .albl_pmin = S->cfg->albl_pmin, .albl_delta = S->cfg->albl_delta,
    };
    return S->st->hooks->begin_round(S->strategy_state, &info);
}

/* The pool rows rows (m) gathered in that order into the subset buffers, as the model reads
 * them. */
static LearnerInput gather_subset(Session *S, const int *rows, int m) {
    const Dataset *pool = S->pool;
    const size_t D = (size_t)pool->d;
    if (pool->x) {
        for (int i = 0; i < m; i++) memcpy(S->xs + i * D, pool->x + (size_t)rows[i] * D, D * sizeof *S->xs);
        return (LearnerInput){.x = S->xs, .n = m, .d = pool->d};
    }
    S->xs_indptr[0] = 0;
    for (int i = 0; i < m; i++) {
        const int64_t start = pool->indptr[rows[i]], len = pool->indptr[rows[i] + 1] - start;
        memcpy(S->xs_indices + S->xs_indptr[i], pool->indices + start, (size_t)len * sizeof *S->xs_indices);
        memcpy(S->xs_values + S->xs_indptr[i], pool->values + start, (size_t)len * sizeof *S->xs_values);
        S->xs_indptr[i + 1] = S->xs_indptr[i] + len;
    }
    return (LearnerInput){.indptr = S->xs_indptr, .indices = S->xs_indices, .values = S->xs_values,
                          .n = m, .d = pool->d};
}

/* scores (x->n) = the strategy's scores of rows x under the current model: the whole pool
 * (rows NULL), or the round's subset, rows (x->n) its pool row ids. See session_score_pool.
 * A batch-aware strategy's rows are predicted the same way, chunk by chunk, and gathered into
 * S->all_probs, S->all_mc, S->all_emb instead; scores is then left as it is. */
static int score_rows(Session *S, double *scores, const LearnerInput *x, const int *rows) {
    const Strategy *st = S->st;
    const int n = x->n, K = S->pool->k, T = S->T, needs = st->needs, r = S->round;
    const int H = S->model.emb_width, gather = st->select != NULL;
    const int copy = !gather && S->all_probs != NULL;  /* session_enable_lookahead: kept for the picker */
    const int chunk = n < ENGINE_CHUNK_ROWS ? n : ENGINE_CHUNK_ROWS;
    /* A model that reduces where it runs (a GPU) keeps the probabilities there. */
    if (st->reduce != REDUCE_NONE &&
        model_score(&S->model, scores, x, st->reduce, T, S->seed, r, 0) == 0)
        return 0;
    for (int off = 0; off < n; off += chunk) {
        int cn = n - off < chunk ? n - off : chunk;
        LearnerInput xp = learner_input_rows(x, off, cn);
        float *probs = !(needs & NEEDS_PROBS) ? NULL : gather ? S->all_probs + (size_t)off * K : S->chunk_probs;
        float *mc = T ? S->chunk_mc : NULL;
        float *emb = !(needs & NEEDS_EMB) ? NULL : gather ? S->all_emb + (size_t)off * H : S->chunk_emb;
        /* the masks' row ids: the row's position, or one set of masks for every row */
        const int64_t mask_row0 = (needs & NEEDS_SHARED_MASKS) ? RNG_ROWS_SHARED : off;
        if (needs && model_predict(&S->model, probs, mc, emb, &xp, T, S->seed, r, mask_row0) != 0)
            return -1;
        if (copy) {     /* the chunk's predictions, as scored, into the rows' (the picker's BatchView) */
            memcpy(S->all_probs + (size_t)off * K, probs, (size_t)cn * K * sizeof *probs);
            if (emb && S->all_emb) memcpy(S->all_emb + (size_t)off * H, emb, (size_t)cn * H * sizeof *emb);
            for (int t = 0; t < T && S->all_mc; t++)
                memcpy(S->all_mc + ((size_t)t * n + off) * K, mc + (size_t)t * cn * K, (size_t)cn * K * sizeof *mc);
        }
        if (gather) {   /* the chunk's (T,cn,K) samples into the rows' (T,n,K); no scores */
            for (int i = 0; i < cn; i++) scores[off + i] = NAN;
            for (int t = 0; t < T; t++)
                memcpy(S->all_mc + ((size_t)t * n + off) * K, mc + (size_t)t * cn * K,
                       (size_t)cn * K * sizeof *mc);
            continue;
        }
        PoolView v = {
            .n = cn, .k = K, .t = T, .probs = probs, .mc = mc,
            .row0 = off, .rows = rows ? rows + off : NULL, .seed = S->seed, .round = r,
            .h = emb ? H : 0, .emb = emb, .state = S->strategy_state,
        };
        st->score(scores + off, &v);
    }
    if (S->strategy_state) st->hooks->finish(scores, n, S->strategy_state);
    return 0;
}

int session_draw_subset(int *subset, int *perm, const unsigned char *labeled, int n, int m,
                        uint64_t seed, int round) {
    for (int i = 0; i < n; i++) perm[i] = i;
    Rng rng = rng_stream(seed, RNG_POOL_SUBSET, (uint64_t)round);
    rng_shuffle(&rng, perm, n);
    int k = 0;
    for (int i = 0; i < n && k < m; i++)
        if (!labeled[perm[i]]) subset[k++] = perm[i];
    return k;
}

int session_score_pool(Session *S) {
    const Dataset *pool = S->pool;
    const int N = pool->n, m = S->subset ? S->cfg->pool_subset : 0;    /* subset: allocated with it */
    if (S->labeled_emb) {           /* the labeled rows' embeddings, dropout off */
        const LearnerInput xl = gather_labeled(S);
        if (model_predict(&S->model, NULL, NULL, S->labeled_emb, &xl, 0, S->seed, S->round, 0)) return -1;
    }
    if (S->labeled_probs) {         /* the labeled rows' probabilities, dropout off */
        const LearnerInput xl = gather_labeled(S);
        if (model_predict(&S->model, S->labeled_probs, NULL, NULL, &xl, 0, S->seed, S->round, 0)) return -1;
    }
    if (S->strategy_state && begin_strategy_round(S, S->round) != 0) return -1;
    if (!m) {
        const LearnerInput xall = model_rows(pool, 0, N);
        return score_rows(S, S->scores, &xall, NULL);
    }
    S->n_subset = session_draw_subset(S->subset, S->perm, S->labeled.labeled, N, m, S->seed, S->round);
    const LearnerInput xs = gather_subset(S, S->subset, S->n_subset);
    if (score_rows(S, S->subset_scores, &xs, S->subset) != 0) return -1;
    for (int i = 0; i < N; i++) {
        S->scores[i] = NAN;
        S->excluded[i] = 1;
    }
    for (int j = 0; j < S->n_subset; j++) {
        S->scores[S->subset[j]] = S->subset_scores[j];
        S->excluded[S->subset[j]] = 0;
    }
    return 0;
}

/* The current model on the reward split: *acc, *nll. Returns 0, or -1 when out of memory. */
static int reward_metrics(double *acc, double *nll, Session *S, int r) {
    const LearnerInput x = model_rows(S->reward, 0, S->reward->n);
    if (model_predict(&S->model, S->reward_probs, NULL, NULL, &x, 0, S->seed, r, 0) != 0) return -1;
    const Metrics m = metrics_eval(S->reward_probs, S->reward->y, S->reward->n, S->pool->k);
    *acc = m.accuracy;
    *nll = m.nll;
    return 0;
}

static double fit_round(Session *S, Spent *spent, const Budget *budget, const LearnerInput *x, const int32_t *y, int r);
static Budget round_budget(const Session *S, int n_labeled);

/* Lookahead.refit (strategies/strategy.h): the fit of round r+1 as session_round would run it
 * had rows (m) been labeled now, on the labeled rows in labeling order then rows in their
 * order, with the oracle's answers (peeked: no query counted), measured on the reward split.
 * Every refit starts from the round's model kept in S->look_state (warm start) or from
 * model_reset(seed) as round r+1 would: common random numbers. */
static int lookahead_refit(double *acc, double *nll, const int *rows, int m, void *ctx) {
    Session *S = ctx;
    const int n0 = S->labeled.n_labeled, n = n0 + m, r = S->round + 1;
    const long n_max = (long)S->cfg->init + (long)S->R * S->cfg->batch;     /* the labeled buffers' rows */
    if (m < 0 || m > S->cfg->batch || n > n_max) return -1;
    memcpy(S->look_rows, S->labeled.rows, (size_t)n0 * sizeof *S->look_rows);
    memcpy(S->look_y, S->labeled.labels, (size_t)n0 * sizeof *S->look_y);
    memcpy(S->look_rows + n0, rows, (size_t)m * sizeof *S->look_rows);
    oracle_peek(S->look_y + n0, &S->oracle, rows, m);
    const Pool p = {.n = S->pool->n, .n_labeled = n, .rows = S->look_rows, .labels = S->look_y};
    const LearnerInput x = gather_pool_rows(S, &p);
    const Budget budget = round_budget(S, n);
    Spent spent = {budget.steps, budget.flops, -1};
    if (S->cfg->warm_start) S->model.ops->restore(&S->model, S->look_state);
    else model_reset(&S->model, S->seed);
    if (fit_round(S, &spent, &budget, &x, S->look_y, r) == -INFINITY) return -1;
    S->look_fits++;
    S->look_steps += spent.steps;
    S->look_flops += spent.flops;
    return reward_metrics(acc, nll, S, r);
}

/* Before a look-ahead's candidates: the round's model kept and measured on the reward split,
 * S->look ready for refits. Returns 0, or -1 (no reward split, out of memory). */
static int lookahead_begin(Session *S) {
    if (!S->reward) return -1;
    S->look = (Lookahead){.refit = lookahead_refit, .ctx = S, .chosen = -1};
    S->look_fits = 0;
    S->look_steps = 0;
    S->look_flops = 0;
    S->look_ran = 1;
    S->model.ops->save(&S->model, S->look_state);
    return reward_metrics(&S->look.base_acc, &S->look.base_nll, S, S->round);
}

void session_batch_view(BatchView *v, Session *S) {
    const int whole = S->subset == NULL;
    *v = (BatchView){
        .n = whole ? S->pool->n : S->n_subset, .k = S->pool->k, .t = S->all_mc ? S->T : 0,
        .h = S->all_emb ? S->model.emb_width : 0,
        .probs = S->all_probs, .mc = S->all_mc, .emb = S->all_emb,
        .rows = whole ? NULL : S->subset, .excluded = whole ? S->labeled.labeled : NULL,
        .n_labeled = S->labeled.n_labeled, .labeled_emb = S->all_emb ? S->labeled_emb : NULL,
        .seed = S->seed, .round = S->round, .lookahead = S->look_ran ? &S->look : NULL,
    };
}

int session_select(Session *S) {
    if (S->look_state && lookahead_begin(S) != 0) return -1;  /* a look-ahead strategy */
    BatchView v;
    session_batch_view(&v, S);
    const int picked = S->st->select(S->picked, &v, S->cfg->batch);
    if (S->look_state) S->model.ops->restore(&S->model, S->look_state);    /* this round's model again */
    return picked;
}

int session_enable_lookahead(Session *S, const Dataset *reward, char *err, size_t errlen) {
    if (!S->st || S->st->select || !S->strategy_state) {
        snprintf(err, errlen, "session_enable_lookahead: --strategy %s is not a whole-pool strategy with hooks",
                 S->st ? S->st->name : "(none)");
        return ALSIM_BAD_INPUT;
    }
    int rc = session_set_reward(S, reward, err, errlen);
    if (rc) return rc;
    const long n_max = (long)S->cfg->init + (long)S->R * S->cfg->batch;
    if (lookahead_alloc(S, n_max) || gathered_alloc(S, 1, S->T, S->chunk_emb ? S->model.emb_width : 0)) {
        snprintf(err, errlen, "out of memory for the look-ahead of %s", S->pool->name);
        return ALSIM_RUNTIME;
    }
    return 0;
}

/* --early-stop P: the fit of step 1 epoch by epoch (at most --epochs, each of the budget's
 * steps / epochs, epoch e with seed rng_key(seed, RNG_EPOCH, round, e)), the validation
 * accuracy measured after each; it stops after P epochs without a better one and restores
 * the best epoch's model (the first of equals), as the code of Kirsch et al. 2019. spent
 * receives the steps and FLOPs run, converged 1 when the patience ran out before --epochs
 * (rounds.jsonl: steps_used, flops_used, converged). Returns the best epoch's training loss,
 * NaN/Inf on divergence; -INFINITY when out of memory. */
static double fit_early_stopped(Session *S, Spent *spent, const Budget *budget, const LearnerInput *xl,
                                const int32_t *y, int r) {
    const Config *c = S->cfg;
    const int K = S->pool->k, per_epoch = budget->steps / c->epochs;
    const LearnerInput xv = model_rows(S->val, 0, S->val->n);
    double best = -1.0, best_loss = NAN;
    int e = 0;      /* epochs run */
    for (int worse = 0; e < c->epochs && worse < c->early_stop; e++) {
        Spent s = {per_epoch, 0, -1};
        const double loss = model_fit(&S->model, &s, xl, y, per_epoch,
                                      rng_key(S->seed, RNG_EPOCH, (uint64_t)r, (uint64_t)e), r);
        if (!isfinite(loss)) { best_loss = loss; e++; break; }
        if (model_predict(&S->model, S->val_probs, NULL, NULL, &xv, 0, S->seed, r, 0) != 0) return -INFINITY;
        const double acc = metrics_eval(S->val_probs, S->val->y, S->val->n, K).accuracy;
        if (acc > best) {
            best = acc;
            best_loss = loss;
            worse = 0;
            S->model.ops->save(&S->model, S->best_state);
        } else {
            worse++;
        }
    }
    if (isfinite(best_loss)) S->model.ops->restore(&S->model, S->best_state);
    spent->steps = e * per_epoch;
    spent->flops = budget->flops * e / c->epochs;
    spent->converged = e < c->epochs;      /* stopped by the patience, before the cap */
    return best_loss;
}

/* The budget of a round whose fit sees n_labeled rows (budget.h). */
static Budget round_budget(const Session *S, int n_labeled) {
    return S->model.max_iter > 0
        ? budget_for_convergence(S->model.max_iter, S->model.train_flops_per_row, n_labeled)
        : budget_for_round(S->cfg->epochs, S->cfg->epoch_rows, S->model.minibatch, S->model.train_flops_per_row,
                           n_labeled);
}

/* Step 1 of round r from the model's current weights: the fit of rows x, labels y (x->n) with
 * budget (--early-stop: epoch by epoch on the validation set); spent as fit_early_stopped's.
 * Returns the training loss; -INFINITY when out of memory. session_round and the look-ahead's
 * refits (lookahead_refit) both fit through it. */
static double fit_round(Session *S, Spent *spent, const Budget *budget, const LearnerInput *x, const int32_t *y,
                        int r) {
    return S->cfg->early_stop > 0 && S->val && S->model.max_iter <= 0
        ? fit_early_stopped(S, spent, budget, x, y, r)
        : model_fit(&S->model, spent, x, y, budget->steps, S->seed, r);
}

int session_round(Session *S, RoundRecord *rec, char *err, size_t errlen) {
    const Config *c = S->cfg;
    const int r = S->round, K = S->pool->k;
    const uint64_t seed = S->seed;
    Ledger led = {0};
    const int n = S->labeled.n_labeled;
    led.budget = round_budget(S, n);
    led.spent = (Spent){led.budget.steps, led.budget.flops, -1};
    S->look_ran = 0;
    if (S->look_state && !S->reward) {
        snprintf(err, errlen, "--strategy %s measures candidate batches on a reward split: give it one (--reward-size N)",
                 S->st->name);
        return ALSIM_BAD_INPUT;
    }

    /* 1. Fit on the labeled set with this round's budget. The same initial weights every
     *    round (unless warm-starting): curve differences come from the data alone. */
    double t0 = util_seconds();
    if (r == 0 || !c->warm_start) model_reset(&S->model, seed);
    const LearnerInput xl = gather_labeled(S);
    const double loss = fit_round(S, &led.spent, &led.budget, &xl, S->labeled.labels, r);
    if (loss == -INFINITY) goto out_of_memory;
    led.train_s = util_seconds() - t0;
    if (S->stop && S->stop()) return 1;

    /* 2. Test metrics: one row of the learning curve. */
    t0 = util_seconds();
    const LearnerInput xt = model_rows(S->test, 0, S->test->n);
    if (model_predict(&S->model, S->test_probs, NULL, NULL, &xt, 0, seed, r, 0) != 0)
        goto out_of_memory;
    const Metrics m = metrics_eval(S->test_probs, S->test->y, S->test->n, K);
    metrics_f1_per_class(S->f1, S->test_probs, S->test->y, S->test->n, K);
    Metrics mv = {0};
    if (S->val) {   /* the validation rows: measured as the test set, used for nothing else */
        const LearnerInput xv = model_rows(S->val, 0, S->val->n);
        if (model_predict(&S->model, S->val_probs, NULL, NULL, &xv, 0, seed, r, 0) != 0)
            goto out_of_memory;
        mv = metrics_eval(S->val_probs, S->val->y, S->val->n, K);
    }
    led.eval_s = util_seconds() - t0;
    const int diverged = !isfinite(loss) || isnan(m.accuracy);

    /* 3. Score every pool row (or the round's subset), 4. pick the batch, 5. the oracle
     *    labels it. */
    int n_picked = 0;
    S->n_subset = 0;
    if (r < S->R && !diverged) {
        t0 = util_seconds();
        if (session_score_pool(S) != 0) goto out_of_memory;
        led.score_s = util_seconds() - t0;
        if (S->stop && S->stop()) return 1;

        t0 = util_seconds();
        const unsigned char *not_eligible = S->subset ? S->excluded : S->labeled.labeled;
        if (S->st->select) {
            n_picked = session_select(S);
        } else {    /* session_enable_lookahead: the picker may refit; the round's model after */
            n_picked = S->look_state && lookahead_begin(S) != 0 ? -1
                     : S->pick(S->picked, S->scores, not_eligible, S->pool->n, c->batch, seed, r, S->pick_ctx);
            if (S->look_state) S->model.ops->restore(&S->model, S->look_state);
        }
        if (n_picked < 0) goto out_of_memory;
        led.select_s = util_seconds() - t0;
        oracle_label(S->answers, &S->oracle, S->picked, n_picked);
    }

    /* 6. What the round did; then the picked rows join the labeled set. */
    memset(S->class_counts, 0, (size_t)K * sizeof *S->class_counts);
    for (int i = 0; i < S->labeled.n_labeled; i++) S->class_counts[S->labeled.labels[i]]++;
    *rec = (RoundRecord){
        .round = r, .n_labeled = S->labeled.n_labeled, .test = m, .train_loss = loss,
        .ledger = led, .class_counts = S->class_counts, .k = K,
        .initial = (r == 0 && !c->full_data) ? S->initial : NULL, .n_initial = S->n_initial,
        .subset = S->n_subset ? S->subset : NULL, .n_subset = S->n_subset,
        .picked = S->picked, .picked_labels = S->answers, .n_picked = n_picked,
        .queries = S->oracle.queries, .f1 = S->f1, .diverged = diverged,
        .has_val = S->val != NULL, .val = mv,
        .lookahead = S->look_ran ? &S->look : NULL, .lookahead_fits = S->look_ran ? S->look_fits : 0,
        .lookahead_steps = S->look_ran ? S->look_steps : 0, .lookahead_flops = S->look_ran ? S->look_flops : 0,
    };
    S->curve_x[S->rounds_done] = S->labeled.n_labeled;
    S->curve_acc[S->rounds_done] = m.accuracy;
    S->rounds_done++;
    S->last = m;
    pool_add(&S->labeled, S->picked, S->answers, n_picked);
    S->diverged = diverged;
    S->round = r + 1;
    return 0;

out_of_memory:  /* the model could not grow its input buffers, or a strategy its state */
    snprintf(err, errlen, "out of memory while scoring the pool of %s", S->pool->name);
    return ALSIM_RUNTIME;
}

int session_checkpoint(Session *S, Checkpoint *ck) {
    ck->seed = S->seed;
    ck->round = S->round - 1;
    ck->n_labeled = S->labeled.n_labeled;
    ck->rows = S->labeled.rows;
    ck->labels = S->labeled.labels;
    ck->queries = S->oracle.queries;
    ck->n_curve = S->rounds_done;
    ck->curve_x = S->curve_x;
    ck->curve_acc = S->curve_acc;
    ck->last[0] = S->last.accuracy;
    ck->last[1] = S->last.macro_f1;
    ck->last[2] = S->last.nll;
    ck->diverged = S->diverged;
    ck->model_bytes = 0;
    ck->model_state = NULL;
    if (S->model_state) {   /* warm-starting: the model carries over between rounds */
        S->model.ops->save(&S->model, S->model_state);
        ck->model_bytes = S->model.ops->state_size(&S->model);
        ck->model_state = S->model_state;
    }
    ck->strategy_bytes = 0;
    ck->strategy_state = NULL;
    if (S->strategy_state && S->st->hooks->save) {     /* what the strategy has learned */
        const size_t n = S->st->hooks->state_size(S->strategy_state);
        if (n > S->strategy_cap) {
            void *bigger = realloc(S->strategy_bytes, n);
            if (!bigger) return -1;
            S->strategy_bytes = bigger;
            S->strategy_cap = n;
        }
        S->st->hooks->save(S->strategy_state, S->strategy_bytes);
        ck->strategy_bytes = n;
        ck->strategy_state = S->strategy_bytes;
    }
    return 0;
}

int session_restore(Session *S, const Checkpoint *ck, char *err, size_t errlen) {
    /* A checkpoint is checked against this session's sizes before any of it is used: a bad
     * one (another dataset, a crafted file) is refused, never written past an array. */
    const Config *c = S->cfg;
    const int N = S->pool->n, K = S->pool->k;
    const long n_max = c->full_data ? N : (long)c->init + (long)S->R * c->batch;
    const size_t want = S->model_state ? S->model.ops->state_size(&S->model) : 0;
    const char *why = NULL;
    if (ck->model_bytes != want) why = "its model state does not match this run's model";
    else if (ck->n_labeled < 0 || ck->n_labeled > n_max || ck->n_labeled > N)
        why = "its labeled set does not fit this run's pool";
    else if (ck->n_curve < 1 || ck->n_curve > S->R + 1 || ck->round != ck->n_curve - 1)
        why = "its rounds do not fit this run";
    else if (ck->queries < 0) why = "its query count is negative";
    else if ((ck->strategy_bytes > 0) != (S->strategy_state && S->st->hooks->restore))
        why = ck->strategy_bytes ? "it holds a strategy state this run's strategy does not keep"
                                 : "it lacks the state this run's strategy keeps across rounds";
    for (int i = 0; !why && i < ck->n_labeled; i++)
        if (ck->rows[i] < 0 || ck->rows[i] >= N) why = "it names a pool row this run's pool does not have";
        else if (ck->labels[i] < 0 || ck->labels[i] >= K) why = "it holds a label outside this run's classes";
    if (!why) {     /* each row labeled once: the pool's mask, cleared, marks them */
        pool_clear(&S->labeled);
        for (int i = 0; i < ck->n_labeled && !why; i++) {
            if (S->labeled.labeled[ck->rows[i]]) why = "it labels a pool row twice";
            S->labeled.labeled[ck->rows[i]] = 1;
        }
        for (int i = 0; i < ck->n_labeled; i++) S->labeled.labeled[ck->rows[i]] = 0;
        S->labeled.n_labeled = 0;
    }
    if (why) {
        snprintf(err, errlen, "the checkpoint does not match this run: %s", why);
        return ALSIM_BAD_INPUT;
    }
    if (ck->strategy_bytes > 0) {
        char why_st[256];
        const int rc = S->st->hooks->restore(S->strategy_state, ck->strategy_state, ck->strategy_bytes, why_st,
                                             sizeof why_st);
        if (rc) {
            snprintf(err, errlen, "the checkpoint does not match this run: %s", why_st);
            return rc;
        }
    }
    pool_add(&S->labeled, ck->rows, ck->labels, ck->n_labeled);
    S->oracle.queries = ck->queries;
    S->rounds_done = ck->n_curve;
    memcpy(S->curve_x, ck->curve_x, (size_t)ck->n_curve * sizeof *S->curve_x);
    memcpy(S->curve_acc, ck->curve_acc, (size_t)ck->n_curve * sizeof *S->curve_acc);
    S->last = (Metrics){ck->last[0], ck->last[1], ck->last[2]};
    S->diverged = ck->diverged;
    if (ck->model_bytes) S->model.ops->restore(&S->model, ck->model_state);
    S->round = ck->round + 1;
    return 0;
}

int session_predict_rows(float *probs, Session *S, const int *rows, int n, char *err,
                         size_t errlen) {
    Dataset sub = {0};
    int rc = dataset_take_rows(&sub, S->pool, rows, n, err, errlen);
    if (rc) return rc;
    const LearnerInput x = model_rows(&sub, 0, n);
    if (model_predict(&S->model, probs, NULL, NULL, &x, 0, S->seed, S->round, 0) != 0) {
        snprintf(err, errlen, "out of memory predicting %d rows of %s", n, S->pool->name);
        rc = ALSIM_RUNTIME;
    }
    dataset_free(&sub);
    return rc;
}
