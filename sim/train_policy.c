/* train_policy — see train_policy.h. Reads top to bottom: options, one episode, the update,
 * the state file, the command. */
#include "sim/train_policy.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "datasets/dataset.h"
#include "sim/backend.h"
#include "sim/budget.h"
#include "sim/jsonw.h"
#include "sim/learner.h"
#include "sim/metrics.h"
#include "sim/oracle.h"
#include "sim/pool.h"
#include "sim/rng.h"
#include "sim/signals.h"
#include "sim/util.h"
#include "strategies/policy.h"
#include "strategies/rl.h"

#ifndef ALSIM_GIT_REV
#define ALSIM_GIT_REV "unknown"
#endif

#define MAX_TRAIN_SETS 8
#define REF_ROWS 64         /* reference rows of the density feature in an episode */

/* ---- options ---- */

typedef struct {
    char train[1024];       /* dataset specs joined by '+' */
    char out[1024];
    char reward[16];        /* "accuracy" or "loss" */
    int episodes, rounds, batch, init, pool_size, reward_size;
    int hidden, epochs, minibatch, mc, policy_hidden, quiet;
    double dropout, lr, entropy, alpha;
    long long seed;
} TrainOptions;

enum { T_INT, T_DOUBLE, T_STR, T_FLAG };
typedef struct { const char *name; int type; size_t off, size; double min, max; const char *help; } TrainOption;
#define O(f) offsetof(TrainOptions, f)
static const TrainOption train_options[] = {
    {"train", T_STR, O(train), sizeof(((TrainOptions *)0)->train), 0, 0, "training datasets, joined by '+' (specs may hold commas)"},
    {"episodes", T_INT, O(episodes), 0, 1, 1e7, "episodes"},
    {"rounds", T_INT, O(rounds), 0, 1, 1000, "acquisition rounds per episode"},
    {"out", T_STR, O(out), sizeof(((TrainOptions *)0)->out), 0, 0, "the policy file to write"},
    {"seed", T_INT, O(seed), 0, 0, 2e9, "seed"},
    {"batch", T_INT, O(batch), 0, 1, 1e5, "rows queried per round"},
    {"init", T_INT, O(init), 0, 1, 1e5, "initial labeled rows, class-balanced"},
    {"pool-size", T_INT, O(pool_size), 0, 10, 1e7, "pool rows of an episode"},
    {"reward-size", T_INT, O(reward_size), 0, 10, 1e7, "reward-split rows of an episode"},
    {"hidden", T_INT, O(hidden), 0, 1, 1e5, "the learner's hidden layer in episodes"},
    {"dropout", T_DOUBLE, O(dropout), 0, 0, 0.99, "the learner's dropout"},
    {"epochs", T_INT, O(epochs), 0, 1, 1e5, "training budget per round: epochs over the labeled set"},
    {"minibatch", T_INT, O(minibatch), 0, 1, 1e5, "rows per learner step"},
    {"mc", T_INT, O(mc), 0, 1, 1000, "MC-dropout samples for the BALD feature"},
    {"policy-hidden", T_INT, O(policy_hidden), 0, 1, 4096, "the policy's hidden units"},
    {"lr", T_DOUBLE, O(lr), 0, 1e-9, 10, "the policy's Adam step size"},
    {"entropy", T_DOUBLE, O(entropy), 0, 0, 100, "entropy bonus"},
    {"reward", T_STR, O(reward), sizeof(((TrainOptions *)0)->reward), 0, 0, "accuracy (gain on the reward split) or loss (the seed formulation)"},
    {"alpha", T_DOUBLE, O(alpha), 0, 0, 100, "the loss reward's weight of log pi"},
    {"quiet", T_FLAG, O(quiet), 0, 0, 1, "no progress lines"},
};
#undef O
enum { N_TRAIN_OPTIONS = sizeof train_options / sizeof train_options[0] };

static void train_defaults(TrainOptions *o) {
    memset(o, 0, sizeof *o);
    strcpy(o->reward, "accuracy");
    o->episodes = 200;
    o->rounds = 10;
    o->batch = 10;
    o->init = 10;
    o->pool_size = 2000;
    o->reward_size = 1000;
    o->hidden = 32;
    o->dropout = 0.5;
    o->epochs = 20;
    o->minibatch = 64;
    o->mc = 10;
    o->policy_hidden = 16;
    o->lr = 0.01;
    o->entropy = 0.01;
    o->alpha = 0.1;
}

static void train_usage(FILE *f, const TrainOptions *o) {
    fprintf(f, "usage: alsim train-policy --train D1[+D2..] --episodes N --rounds R --out FILE [options]\n\n"
               "Trains the rl strategy's policy by REINFORCE on simulated AL episodes (random\n"
               "subsets of the training datasets' pools). Resumes a killed training when started\n"
               "again with the same options. Options [current values]:\n");
    for (int i = 0; i < N_TRAIN_OPTIONS; i++) {
        const TrainOption *t = &train_options[i];
        const char *base = (const char *)o + t->off;
        char val[1100];
        if (t->type == T_INT) snprintf(val, sizeof val, "%lld", t->off == offsetof(TrainOptions, seed) ? *(const long long *)base : (long long)*(const int *)base);
        else if (t->type == T_DOUBLE) snprintf(val, sizeof val, "%g", *(const double *)base);   /* cppcheck-suppress invalidPointerCast */
        else if (t->type == T_STR) snprintf(val, sizeof val, "%s", base);
        else snprintf(val, sizeof val, "%s", *(const int *)base ? "on" : "off");
        fprintf(f, "  --%-15s %s [%s]\n", t->name, t->help, val);
    }
}

/* Parses argv into o. Returns 0, or 2 with the reason in err. */
static int train_parse(TrainOptions *o, int argc, char **argv, char *err, size_t errlen) {
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const TrainOption *t = NULL;
        for (int k = 0; k < N_TRAIN_OPTIONS && !t; k++)
            if (!strncmp(a, "--", 2) && !strcmp(a + 2, train_options[k].name)) t = &train_options[k];
        if (!t) { snprintf(err, errlen, "train-policy: unknown option '%s' (alsim train-policy --help)", a); return 2; }
        char *base = (char *)o + t->off;
        if (t->type == T_FLAG) { *(int *)base = 1; continue; }
        if (i + 1 >= argc) { snprintf(err, errlen, "train-policy: --%s needs a value", t->name); return 2; }
        const char *v = argv[++i];
        char *end;
        errno = 0;
        if (t->type == T_STR) {
            if (strlen(v) >= t->size || !*v) { snprintf(err, errlen, "train-policy: --%s: empty or too long", t->name); return 2; }
            strcpy(base, v);
            continue;
        }
        double x = t->type == T_INT ? (double)strtoll(v, &end, 10) : strtod(v, &end);
        if (end == v || *end || errno || !(x >= t->min && x <= t->max)) {
            snprintf(err, errlen, "train-policy: --%s: '%s' is not a number in [%g, %g]", t->name, v, t->min, t->max);
            return 2;
        }
        if (t->off == offsetof(TrainOptions, seed)) *(long long *)base = (long long)x;
        else if (t->type == T_INT) *(int *)base = (int)x;
        else *(double *)base = x;   /* cppcheck-suppress invalidPointerCast */
    }
    if (!o->train[0] || !o->out[0]) { snprintf(err, errlen, "train-policy: --train and --out are required"); return 2; }
    if (strcmp(o->reward, "accuracy") && strcmp(o->reward, "loss")) {
        snprintf(err, errlen, "train-policy: --reward: '%s' is not accuracy or loss", o->reward);
        return 2;
    }
    if ((long)o->init + (long)o->rounds * o->batch > o->pool_size) {
        snprintf(err, errlen, "train-policy: --init %d + --rounds %d x --batch %d exceeds --pool-size %d",
                 o->init, o->rounds, o->batch, o->pool_size);
        return 2;
    }
    return 0;
}

/* FNV-1a over the options that change what training computes (not --episodes, --quiet). */
static uint64_t train_hash(const TrainOptions *o) {
    TrainOptions h = *o;
    h.episodes = 0;
    h.quiet = 0;
    uint64_t x = 0xcbf29ce484222325ull;
    const unsigned char *p = (const unsigned char *)&h;
    for (size_t i = 0; i < sizeof h; i++) x = (x ^ p[i]) * 0x100000001b3ull;
    return x;
}

/* ---- one episode ---- */

/* What one round of an episode decided, kept until the episode's returns are known. */
typedef struct {
    double *feat;           /* (P, F) */
    unsigned char *eligible;/* (P) unlabeled rows */
    int *picks;             /* (b) */
    int n_picks;
    double reward;
} Decision;

/* The working set of one training dataset: the data and a learner of its shape. */
typedef struct {
    Dataset pool, test;     /* test is never used: training never sees a test set */
    Learner learner;
    LearnerConfig lc;
} TrainSet;

typedef struct {
    const TrainOptions *o;
    Policy policy;
    double *m, *v;          /* Adam moments (n_params) */
    int adam_t;
    double *baseline;       /* (rounds) moving average of the return from each round */
    int episodes_done;
    int normalised;         /* feature normalisation fixed (after the first episode) */
} Trainer;

/* x (n, D or CSR) of ds's rows off..off+n-1 as the learner reads them. */
static LearnerInput rows_in(const Dataset *ds, int off, int n) {
    LearnerInput all = {.x = ds->x, .indptr = ds->indptr, .indices = ds->indices,
                        .values = ds->values, .n = ds->n, .d = ds->d};
    return learner_input_rows(&all, off, n);
}

/* The labeled rows of p as learner input, gathered into a dataset copy. */
static int labeled_input(Dataset *out, const Dataset *pool, const Pool *p, char *err, size_t errlen) {
    return dataset_take_rows(out, pool, p->rows, p->n_labeled, err, errlen);
}

/* Accuracy of the learner on ds (probs scratch (n,K)). */
static double accuracy_on(Learner *L, const Dataset *ds, float *probs) {
    LearnerInput x = rows_in(ds, 0, ds->n);
    if (learner_predict(probs, NULL, L, &x, 0, 0, 0, 0)) return NAN;
    return metrics_eval(probs, ds->y, ds->n, ds->k).accuracy;
}

/* Runs episode e on ts; fills dec (rounds) and returns 0, or 3 with err. *ret receives the
 * episode's return, *ent the mean entropy of the first-pick distributions. */
static int run_episode(Decision *dec, double *ret, double *ent, Trainer *tr, TrainSet *ts, int e,
                       char *err, size_t errlen) {
    const TrainOptions *o = tr->o;
    const int P = o->pool_size, Q = o->reward_size, R = o->rounds;
    const uint64_t ep_seed = rng_key((uint64_t)o->seed, RNG_POLICY, (uint64_t)e, 1);
    const int K = ts->pool.k, H = o->hidden, T = o->mc;
    int rc = 0;

    /* The episode's pool and reward split: disjoint random rows of the dataset's pool. */
    int n_all = ts->pool.n;
    int *idx = malloc((size_t)n_all * sizeof *idx);
    Dataset pool = {0}, rew = {0}, lab = {0};
    Pool p = {0};
    float *probs = malloc((size_t)(P > Q ? P : Q) * K * sizeof *probs);
    float *mc = malloc((size_t)T * P * K * sizeof *mc), *emb = malloc((size_t)P * H * sizeof *emb);
    float *lab_emb = malloc((size_t)(o->init + R * o->batch) * H * sizeof *lab_emb);
    float *ref_emb = malloc((size_t)REF_ROWS * H * sizeof *ref_emb);
    double *scores = malloc((size_t)P * sizeof *scores);
    int *rows = malloc((size_t)(o->init > o->batch ? o->init : o->batch) * sizeof *rows);
    int32_t *labels = malloc((size_t)(o->init > o->batch ? o->init : o->batch) * sizeof *labels);
    if (!idx || !probs || !mc || !emb || !lab_emb || !ref_emb || !scores || !rows || !labels || pool_init(&p, P)) {
        snprintf(err, errlen, "train-policy: out of memory");
        rc = 3;
        goto done;
    }
    for (int i = 0; i < n_all; i++) idx[i] = i;
    Rng rng = rng_stream((uint64_t)o->seed, RNG_POLICY, 1000000u + (uint64_t)e);
    rng_shuffle(&rng, idx, n_all);
    if ((rc = dataset_take_rows(&pool, &ts->pool, idx, P, err, errlen)) ||
        (rc = dataset_take_rows(&rew, &ts->pool, idx + P, Q, err, errlen)))
        goto done;

    Oracle oracle;
    oracle_init(&oracle, pool.y, P, K, 0.0, ep_seed);
    int got = oracle_initial_set(rows, &oracle, o->init, ep_seed);
    oracle_label(labels, &oracle, rows, got);
    pool_add(&p, rows, labels, got);

    double acc_prev = NAN, ent_sum = 0;
    *ret = 0;
    for (int r = 0; r <= R; r++) {
        /* Fit on the labeled rows with the run's budget rule; measure on the reward split. */
        Budget b = budget_for_round(o->epochs, ts->lc.minibatch, learner_train_flops_per_row(&ts->lc), p.n_labeled);
        learner_reset(&ts->learner, ep_seed, 0);
        dataset_free(&lab);
        if ((rc = labeled_input(&lab, &pool, &p, err, errlen))) goto done;
        LearnerInput xl = rows_in(&lab, 0, lab.n);
        learner_fit(&ts->learner, &xl, lab.y, b.steps, ep_seed, r);
        double acc = accuracy_on(&ts->learner, &rew, probs);
        if (r > 0 && !strcmp(o->reward, "accuracy")) dec[r - 1].reward = acc - acc_prev;
        if (r > 0) *ret += dec[r - 1].reward;
        acc_prev = acc;
        if (r == R) break;

        /* The policy's features of every pool row, its scores, and a batch drawn from them. */
        LearnerInput xp = rows_in(&pool, 0, P);
        if (learner_predict_embed(probs, mc, emb, &ts->learner, &xp, T, ep_seed, r, 0) ||
            learner_predict_embed(NULL, NULL, lab_emb, &ts->learner, &xl, 0, ep_seed, r, 0)) {
            snprintf(err, errlen, "train-policy: out of memory");
            rc = 3;
            goto done;
        }
        for (int i = 0; i < REF_ROWS && i < P; i++)
            memcpy(ref_emb + (size_t)i * H, emb + (size_t)(i * P / REF_ROWS) * H, (size_t)H * sizeof *emb);
        RlContext ctx = {.k = K, .h = H, .n_labeled = p.n_labeled, .labeled_emb = lab_emb,
                         .labeled_y = p.labels, .n_ref = REF_ROWS < P ? REF_ROWS : P, .ref_emb = ref_emb,
                         .round = r, .rounds = R, .n_pool = P};
        Decision *d = &dec[r];
        if (rl_context_prepare(&ctx) || rl_candidate_features(d->feat, &ctx, probs, mc, T, emb, P)) {
            rl_context_free(&ctx);
            snprintf(err, errlen, "train-policy: out of memory");
            rc = 3;
            goto done;
        }
        rl_fill_global(d->feat, &ctx, P);
        rl_context_free(&ctx);
        for (int i = 0; i < P; i++) d->eligible[i] = !p.labeled[i];
        policy_forward(scores, NULL, &tr->policy, d->feat, P);
        ent_sum += pl_entropy(scores, d->eligible, P);
        Rng pr = rng_stream((uint64_t)o->seed, RNG_POLICY, 2000000u + (uint64_t)e * 1000u + (uint64_t)r);
        d->n_picks = pl_sample(d->picks, scores, d->eligible, P, o->batch, &pr);
        oracle_label(labels, &oracle, d->picks, d->n_picks);

        /* The seed formulation's reward: the picked rows' mean loss under the model that
         * picked them, plus alpha log pi of the batch. */
        if (!strcmp(o->reward, "loss")) {
            double loss = 0;
            for (int k = 0; k < d->n_picks; k++)
                loss -= log(fmax((double)probs[(size_t)d->picks[k] * K + labels[k]], 1e-12));
            d->reward = loss / d->n_picks +
                        o->alpha * pl_log_prob(scores, d->eligible, P, d->picks, d->n_picks);
        }
        pool_add(&p, d->picks, labels, d->n_picks);
    }
    *ent = ent_sum / R;
done:
    free(idx); free(probs); free(mc); free(emb); free(lab_emb); free(ref_emb);
    free(scores); free(rows); free(labels);
    dataset_free(&pool); dataset_free(&rew); dataset_free(&lab);
    pool_free(&p);
    return rc;
}

/* ---- the update ---- */

/* Feature normalisation from the first episode's features (eligible rows of every round). */
static void fix_normalisation(Trainer *tr, const Decision *dec, int P) {
    const int F = RL_FEATURES;
    double sum[RL_FEATURES] = {0}, sq[RL_FEATURES] = {0};
    long n = 0;
    for (int r = 0; r < tr->o->rounds; r++)
        for (int i = 0; i < P; i++) {
            if (!dec[r].eligible[i]) continue;
            n++;
            for (int f = 0; f < F; f++) {
                double x = dec[r].feat[(size_t)i * F + f];
                sum[f] += x;
                sq[f] += x * x;
            }
        }
    for (int f = 0; f < F; f++) {
        double mean = n ? sum[f] / n : 0, var = n ? sq[f] / n - mean * mean : 1;
        tr->policy.feat_mean[f] = mean;
        tr->policy.feat_sd[f] = sqrt(var > 1e-6 ? var : 1e-6);   /* constant features: sd floor */
    }
    tr->normalised = 1;
}

/* REINFORCE: the return from round r on, less its baseline, weighs ∇ log π of round r's
 * batch; the entropy bonus keeps the policy exploring; one Adam step. */
static int reinforce(Trainer *tr, Decision *dec, int P) {
    const int R = tr->o->rounds;
    double *grad = calloc(tr->policy.n_params, sizeof *grad);
    if (!grad) return -1;
    double G = 0;
    for (int r = R - 1; r >= 0; r--) {
        G += dec[r].reward;
        double adv = G - tr->baseline[r];
        policy_accumulate(grad, &tr->policy, dec[r].feat, dec[r].eligible, P, dec[r].picks,
                          dec[r].n_picks, adv, tr->o->entropy);
        tr->baseline[r] = tr->episodes_done == 2 ? G : 0.9 * tr->baseline[r] + 0.1 * G;   /* 2: the first update */
    }
    for (size_t i = 0; i < tr->policy.n_params; i++) grad[i] /= R;
    policy_adam_step(&tr->policy, grad, tr->m, tr->v, &tr->adam_t, tr->o->lr);
    free(grad);
    return 0;
}

/* ---- the state file: what continues a killed training ---- */

static const char STATE_MAGIC[8] = {'A', 'L', 'S', 'I', 'M', 'T', 'P', '1'};

static int state_save(const Trainer *tr, uint64_t hash, char *err, size_t errlen) {
    char path[1100], tmp[4200];
    snprintf(path, sizeof path, "%s.state", tr->o->out);
    FILE *f = util_open_atomic(tmp, path, err, errlen);
    if (!f) return 3;
    int ok = fwrite(STATE_MAGIC, 1, 8, f) == 8 && fwrite(&hash, sizeof hash, 1, f) == 1 &&
         fwrite(&tr->episodes_done, sizeof(int), 1, f) == 1 && fwrite(&tr->adam_t, sizeof(int), 1, f) == 1 &&
         fwrite(&tr->normalised, sizeof(int), 1, f) == 1 &&
         fwrite(tr->baseline, sizeof(double), (size_t)tr->o->rounds, f) == (size_t)tr->o->rounds &&
         fwrite(tr->m, sizeof(double), tr->policy.n_params, f) == tr->policy.n_params &&
         fwrite(tr->v, sizeof(double), tr->policy.n_params, f) == tr->policy.n_params &&
         fwrite(tr->policy.params, sizeof(float), tr->policy.n_params, f) == tr->policy.n_params &&
         fwrite(tr->policy.feat_mean, sizeof tr->policy.feat_mean, 1, f) == 1 &&
         fwrite(tr->policy.feat_sd, sizeof tr->policy.feat_sd, 1, f) == 1;
    return util_commit_atomic(f, ok, tmp, path, err, errlen);
}

/* Loads the state (the policy included) when it exists and the options match. Returns 1 when
 * resumed, 0 when starting afresh, 2 on a damaged file. */
static int state_load(Trainer *tr, uint64_t hash, char *err, size_t errlen) {
    char path[1100];
    snprintf(path, sizeof path, "%s.state", tr->o->out);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char magic[8];
    uint64_t h = 0;
    int ok = fread(magic, 1, 8, f) == 8 && !memcmp(magic, STATE_MAGIC, 8) && fread(&h, sizeof h, 1, f) == 1;
    if (!ok || h != hash) {
        fclose(f);
        if (!ok) { snprintf(err, errlen, "%s: not a training state of this alsim", path); return 2; }
        return 0;   /* other options: a new training */
    }
    /* The state holds the policy too: the policy file is written after it, so a kill between
     * the two leaves a policy file one episode behind or ahead of the state, never a state
     * that disagrees with itself. */
    const size_t np = tr->policy.n_params;
    ok = fread(&tr->episodes_done, sizeof(int), 1, f) == 1 && fread(&tr->adam_t, sizeof(int), 1, f) == 1 &&
         fread(&tr->normalised, sizeof(int), 1, f) == 1 &&
         fread(tr->baseline, sizeof(double), (size_t)tr->o->rounds, f) == (size_t)tr->o->rounds &&
         fread(tr->m, sizeof(double), np, f) == np && fread(tr->v, sizeof(double), np, f) == np &&
         fread(tr->policy.params, sizeof(float), np, f) == np &&
         fread(tr->policy.feat_mean, sizeof tr->policy.feat_mean, 1, f) == 1 &&
         fread(tr->policy.feat_sd, sizeof tr->policy.feat_sd, 1, f) == 1 && fgetc(f) == EOF;
    fclose(f);
    if (!ok) { snprintf(err, errlen, "%s: damaged; delete it to train afresh", path); return 2; }
    return 1;
}

/* ---- the command ---- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cmd_train_policy(int argc, char **argv) {
    TrainOptions o;
    train_defaults(&o);
    char err[2048];
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { train_usage(stdout, &o); return 0; }
    int rc = train_parse(&o, argc, argv, err, sizeof err);
    if (rc) { fprintf(stderr, "alsim: %s\n", err); return rc; }

    /* The training datasets: their pools only; each with a learner of its shape. */
    TrainSet sets[MAX_TRAIN_SETS];
    memset(sets, 0, sizeof sets);
    int n_sets = 0;
    const Backend *be = backend_get("cpu", err, sizeof err);
    char specs[1024];
    snprintf(specs, sizeof specs, "%s", o.train);
    Trainer tr = {.o = &o};
    Decision *dec = NULL;
    for (char *save = NULL, *s = strtok_r(specs, "+", &save); s && !rc; s = strtok_r(NULL, "+", &save)) {
        if (n_sets == MAX_TRAIN_SETS) { snprintf(err, sizeof err, "train-policy: at most %d datasets", MAX_TRAIN_SETS); rc = 2; break; }
        TrainSet *ts = &sets[n_sets++];
        if ((rc = dataset_open(&ts->pool, &ts->test, s, (uint64_t)o.seed, err, sizeof err))) break;
        dataset_free(&ts->test);
        if (ts->pool.n < o.pool_size + o.reward_size) {
            snprintf(err, sizeof err, "train-policy: %s has %d pool rows, fewer than --pool-size %d + --reward-size %d",
                     s, ts->pool.n, o.pool_size, o.reward_size);
            rc = 2;
            break;
        }
        ts->lc = (LearnerConfig){.d = ts->pool.d, .k = ts->pool.k, .n_hidden = 1, .hidden = {o.hidden},
                                 .dropout = (float)o.dropout, .lr = 1e-3f, .weight_decay = 1e-4f,
                                 .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .minibatch = o.minibatch,
                                 .sparse = ts->pool.x == NULL};
        ts->lc.mean_nnz = ts->lc.sparse ? (double)ts->pool.indptr[ts->pool.n] / ts->pool.n : 0;
        if (learner_init(&ts->learner, &ts->lc, be, err, sizeof err)) { rc = 3; break; }
    }

    /* The policy and its optimiser, fresh or from the state of a killed training. */
    const uint64_t hash = train_hash(&o);
    if (!rc && policy_init(&tr.policy, RL_FEATURES, rl_feature_names, o.policy_hidden, (uint64_t)o.seed)) {
        snprintf(err, sizeof err, "train-policy: out of memory");
        rc = 3;
    }
    if (!rc) {
        tr.m = calloc(tr.policy.n_params, sizeof *tr.m);
        tr.v = calloc(tr.policy.n_params, sizeof *tr.v);
        tr.baseline = calloc((size_t)o.rounds, sizeof *tr.baseline);
        dec = calloc((size_t)o.rounds, sizeof *dec);
        if (!tr.m || !tr.v || !tr.baseline || !dec) { snprintf(err, sizeof err, "train-policy: out of memory"); rc = 3; }
        for (int r = 0; !rc && r < o.rounds; r++) {
            dec[r].feat = malloc((size_t)o.pool_size * RL_FEATURES * sizeof *dec[r].feat);
            dec[r].eligible = malloc((size_t)o.pool_size);
            dec[r].picks = malloc((size_t)o.batch * sizeof *dec[r].picks);
            if (!dec[r].feat || !dec[r].eligible || !dec[r].picks) { snprintf(err, sizeof err, "train-policy: out of memory"); rc = 3; }
        }
    }
    if (!rc) {
        int st = state_load(&tr, hash, err, sizeof err);
        if (st == 2) rc = 2;
        else if (st == 1 && !o.quiet)
            fprintf(stderr, "alsim: train-policy: resuming after episode %d of %d\n", tr.episodes_done, o.episodes);
    }
    snprintf(tr.policy.train_datasets, sizeof tr.policy.train_datasets, "%s", o.train);
    snprintf(tr.policy.reward, sizeof tr.policy.reward, "%s", o.reward);
    snprintf(tr.policy.git_revision, sizeof tr.policy.git_revision, "%s", ALSIM_GIT_REV);
    tr.policy.seed = (uint64_t)o.seed;

    signals_install();
    const double t0 = now_s();
    while (!rc && tr.episodes_done < o.episodes) {
        if (signals_pending()) {
            fprintf(stderr, "alsim: train-policy stopped after episode %d; the same command continues it\n", tr.episodes_done);
            rc = 128 + signals_pending();
            break;
        }
        const int e = tr.episodes_done;
        TrainSet *ts = &sets[e % n_sets];
        double ret = 0, ent = 0, te = now_s();
        if ((rc = run_episode(dec, &ret, &ent, &tr, ts, e, err, sizeof err))) break;
        tr.episodes_done++;
        if (!tr.normalised) fix_normalisation(&tr, dec, o.pool_size);   /* episode 0: no update */
        else if (reinforce(&tr, dec, o.pool_size)) { snprintf(err, sizeof err, "train-policy: out of memory"); rc = 3; break; }
        tr.policy.episodes = tr.episodes_done;
        if ((rc = state_save(&tr, hash, err, sizeof err)) || (rc = policy_save(&tr.policy, o.out, err, sizeof err))) break;
        if (!o.quiet)
            fprintf(stderr, "alsim: train-policy episode %4d/%d | %-14.14s | return %+.4f | baseline %+.4f | entropy %.3f | %.1fs (%.0fs)\n",
                    tr.episodes_done, o.episodes, ts->pool.name, ret, tr.baseline[0], ent, now_s() - te, now_s() - t0);
    }
    if (rc && rc < 128) fprintf(stderr, "alsim: %s\n", err);
    else if (!rc && !o.quiet) fprintf(stderr, "alsim: wrote %s (%d episodes)\n", o.out, tr.episodes_done);

    for (int r = 0; dec && r < o.rounds; r++) { free(dec[r].feat); free(dec[r].eligible); free(dec[r].picks); }
    free(dec); free(tr.m); free(tr.v); free(tr.baseline);
    policy_free(&tr.policy);
    for (int i = 0; i < n_sets; i++) { learner_free(&sets[i].learner); dataset_free(&sets[i].pool); dataset_free(&sets[i].test); }
    return rc;
}
