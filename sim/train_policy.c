/* train_policy — see train_policy.h. Reads top to bottom: one episode (a session with the
 * policy's picker), the update, the state file, the command. */
#include "sim/train_policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "sim/backend.h"
#include "sim/config.h"
#include "sim/jsonw.h"
#include "sim/rng.h"
#include "sim/engine.h"
#include "sim/signals.h"
#include "sim/util.h"
#include "strategies/policy.h"
#include "strategies/rl.h"

#define MAX_TRAIN_SETS 8

/* What one round of an episode decided, kept until the episode's returns are known. */
typedef struct {
    double *feat;           /* (P, F) the policy's features of every pool row */
    unsigned char *eligible;/* (P) the unlabeled rows */
    int *picks;             /* (b) */
    int n_picks;
    double log_prob;        /* log π of the batch */
    double reward;
} Decision;

/* One training dataset: its pool (never its test set), and the run config adapted to it. */
typedef struct {
    Dataset pool;
    Config cfg;
} TrainSet;

typedef struct {
    const Config *c;
    int P;                  /* pool rows of an episode */
    Policy policy;
    double *m, *v;          /* Adam moments (n_params) */
    int adam_t;
    double *baseline;       /* (rounds) moving average of the return from each round */
    int episodes_done;
    int baselined;          /* the baselines seeded (after the first episode) */
    Decision *dec;          /* (rounds) the episode in progress */
} Trainer;

/* ---- one episode ---- */

/* The episode a picker call belongs to. */
typedef struct {
    Trainer *tr;
    const Session *S;
    int e;                  /* episode number */
    double ent_sum;         /* entropy of the first-pick distributions, summed over rounds */
} Episode;

/* The session's picker in training: a batch drawn from the Plackett–Luce distribution of the
 * policy's scores (the rl strategy's, over the same features a run computes), recorded with
 * its features for the update. */
static int pick_sampled(int *picked, const double *scores, const unsigned char *labeled, int n,
                        int b, uint64_t seed, int round, void *ctx) {
    Episode *ep = ctx;
    const Config *c = ep->tr->c;
    Decision *d = &ep->tr->dec[round];
    memcpy(d->feat, rl_features(ep->S->strategy_state), (size_t)n * RL_FEATURES * sizeof *d->feat);
    for (int i = 0; i < n; i++) d->eligible[i] = !labeled[i];
    ep->ent_sum += pl_entropy(scores, d->eligible, n);
    Rng pr = rng_stream(c->seed, RNG_POLICY, 2000000u + (uint64_t)ep->e * 1000u + (uint64_t)round);
    d->n_picks = pl_sample(d->picks, scores, d->eligible, n, b, &pr);
    d->log_prob = pl_log_prob(scores, d->eligible, n, d->picks, d->n_picks);
    memcpy(picked, d->picks, (size_t)d->n_picks * sizeof *picked);
    return d->n_picks;
}

/* Runs episode e on ts: the session of a run with ts's config on a random pool of P rows of
 * the dataset's pool, measured on a disjoint reward split of c->reward_size rows (never a
 * test set), its batches picked by pick_sampled. Fills tr->dec (rounds) and returns 0, or 2/3
 * with err. *ret receives the episode's return, *ent the mean entropy of the first picks. */
static int run_episode(double *ret, double *ent, Trainer *tr, TrainSet *ts, const Backend *be,
                       int e, char *err, size_t errlen) {
    const Config *c = &ts->cfg;
    const int P = tr->P, Q = c->reward_size, R = c->rounds, K = ts->pool.k;
    const uint64_t ep_seed = rng_key(c->seed, RNG_POLICY, (uint64_t)e, 1);

    /* The episode's pool and reward split: disjoint random rows of the dataset's pool; with
     * --standardize, z-scored by the episode pool's statistics as a run's data are by its pool's. */
    const int n_all = ts->pool.n;
    int *idx = malloc((size_t)n_all * sizeof *idx);
    float *probs = malloc((size_t)c->batch * K * sizeof *probs);
    Dataset pool = {0}, rew = {0};
    Session S = {0};
    int rc = 0;
    if (!idx || !probs) { snprintf(err, errlen, "train-policy: out of memory"); rc = ALSIM_RUNTIME; goto done; }
    for (int i = 0; i < n_all; i++) idx[i] = i;
    Rng rng = rng_stream(c->seed, RNG_POLICY, 1000000u + (uint64_t)e);
    rng_shuffle(&rng, idx, n_all);
    if ((rc = dataset_take_rows(&pool, &ts->pool, idx, P, err, errlen)) ||
        (rc = dataset_take_rows(&rew, &ts->pool, idx + P, Q, err, errlen)) ||
        (c->standardize && (rc = dataset_standardize(&pool, &rew, err, errlen))) ||   /* as a run: the pool's z-scores */
        (rc = session_open(&S, c, &pool, &rew, be, ep_seed, err, errlen)))
        goto done;
    Episode ep = {.tr = tr, .S = &S, .e = e};
    rl_use_policy(S.strategy_state, &tr->policy);
    S.pick = pick_sampled;
    S.pick_ctx = &ep;

    /* Each round's reward: the accuracy its batch added on the reward split (known after the
     * next round's fit), or the seed formulation: the picked rows' mean loss under the model
     * that picked them, plus alpha log π of the batch. */
    const int loss_reward = !strcmp(c->reward, "loss");
    double acc_prev = NAN;
    *ret = 0;
    while (!session_done(&S)) {
        if (signals_pending()) { rc = ALSIM_SIGNALLED + signals_pending(); goto done; }   /* the episode is redone */
        RoundRecord rec;
        if ((rc = session_round(&S, &rec, err, errlen))) goto done;
        const int r = rec.round;
        if (rec.diverged) {
            snprintf(err, errlen, "train-policy: episode %d on %s diverged in round %d (loss %g); try a smaller --lr",
                     e, ts->pool.name, r, rec.train_loss);
            rc = ALSIM_RUNTIME;
            goto done;
        }
        if (r > 0 && !loss_reward) tr->dec[r - 1].reward = rec.test.accuracy - acc_prev;
        if (r > 0) *ret += tr->dec[r - 1].reward;
        acc_prev = rec.test.accuracy;
        if (loss_reward && rec.n_picked) {
            Decision *d = &tr->dec[r];
            if ((rc = session_predict_rows(probs, &S, rec.picked, rec.n_picked, err, errlen))) goto done;
            double loss = 0;
            for (int k = 0; k < rec.n_picked; k++)
                loss -= log(fmax((double)probs[(size_t)k * K + rec.picked_labels[k]], 1e-12));
            d->reward = loss / rec.n_picked + c->loss_alpha * d->log_prob;
        }
    }
    *ent = ep.ent_sum / R;
done:
    session_close(&S);
    free(idx); free(probs);
    dataset_free(&pool); dataset_free(&rew);
    return rc;
}

/* ---- the update ---- */

/* After the first episode: each round's baseline is that episode's return from the round on
 * (the episode makes no update: against a zero baseline every advantage would be the whole
 * return). */
static void seed_baseline(Trainer *tr) {
    double G = 0;
    for (int r = tr->c->rounds - 1; r >= 0; r--) {
        G += tr->dec[r].reward;
        tr->baseline[r] = G;
    }
    tr->baselined = 1;
}

/* REINFORCE: the return from round r on, less its baseline, weighs ∇ log π of round r's
 * batch; the entropy bonus keeps the policy exploring; one Adam step. */
static int reinforce(Trainer *tr) {
    const int R = tr->c->rounds;
    double *grad = calloc(tr->policy.n_params, sizeof *grad);
    if (!grad) return -1;
    double G = 0;
    for (int r = R - 1; r >= 0; r--) {
        const Decision *d = &tr->dec[r];
        G += d->reward;
        double adv = G - tr->baseline[r];
        policy_accumulate(grad, &tr->policy, d->feat, d->eligible, tr->P, d->picks, d->n_picks,
                          adv, tr->c->entropy);
        tr->baseline[r] = 0.9 * tr->baseline[r] + 0.1 * G;
    }
    for (size_t i = 0; i < tr->policy.n_params; i++) grad[i] /= R;
    policy_adam_step(&tr->policy, grad, tr->m, tr->v, &tr->adam_t, tr->c->policy_lr);
    free(grad);
    return 0;
}

/* ---- the state file: what continues a killed training ---- */

static const char STATE_MAGIC[8] = {'A', 'L', 'S', 'I', 'M', 'T', 'P', '3'};

/* A hash of everything that changes what training computes: the run options an episode uses
 * (config_hash), the seed, the backend (another one rounds differently), and the training
 * options but --episodes and --quiet. */
static uint64_t train_hash(const Config *c, const Backend *be) {
    char text[2048], run[9], lr[32], ent[32], alpha[32];
    config_hash(run, c);
    fmt_double(lr, c->policy_lr);
    fmt_double(ent, c->entropy);
    fmt_double(alpha, c->loss_alpha);
    snprintf(text, sizeof text, "run=%s;seed=%llu;train=%s;reward-size=%d;policy-lr=%s;entropy=%s;reward=%s;loss-alpha=%s%s%s",
             run, (unsigned long long)c->seed, c->train, c->reward_size, lr, ent,
             c->reward, alpha, strcmp(be->name, "cpu") ? ";backend=" : "", strcmp(be->name, "cpu") ? be->name : "");
    return util_fnv1a(UTIL_FNV_START, text, strlen(text));
}

static void state_path(char path[1100], const Config *c) {
    snprintf(path, 1100, "%s.state", c->out);
}

static int state_save(const Trainer *tr, uint64_t hash, char *err, size_t errlen) {
    char path[1100], tmp[4200];
    state_path(path, tr->c);
    FILE *f = util_open_atomic(tmp, path, err, errlen);
    if (!f) return ALSIM_RUNTIME;
    const size_t np = tr->policy.n_params, R = (size_t)tr->c->rounds;
    int ok = fwrite(STATE_MAGIC, 1, 8, f) == 8 && fwrite(&hash, sizeof hash, 1, f) == 1 &&
         fwrite(&tr->episodes_done, sizeof(int), 1, f) == 1 && fwrite(&tr->adam_t, sizeof(int), 1, f) == 1 &&
         fwrite(&tr->baselined, sizeof(int), 1, f) == 1 &&
         fwrite(tr->baseline, sizeof(double), R, f) == R &&
         fwrite(tr->m, sizeof(double), np, f) == np && fwrite(tr->v, sizeof(double), np, f) == np &&
         fwrite(tr->policy.params, sizeof(float), np, f) == np;
    return util_commit_atomic(f, ok, tmp, path, err, errlen);
}

/* Loads the state (the policy included) when it exists and the options match. Returns 1 when
 * resumed, 0 when starting afresh, 2 on a damaged file. */
static int state_load(Trainer *tr, uint64_t hash, char *err, size_t errlen) {
    char path[1100];
    state_path(path, tr->c);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char magic[8];
    uint64_t h = 0;
    int ok = fread(magic, 1, 8, f) == 8 && !memcmp(magic, STATE_MAGIC, 8) && fread(&h, sizeof h, 1, f) == 1;
    if (!ok || h != hash) {
        fclose(f);
        if (!ok) { snprintf(err, errlen, "%s: not a training state of this alsim", path); return ALSIM_BAD_INPUT; }
        return 0;   /* other options: a new training */
    }
    /* The state holds the policy too: the policy file is written after it, so a kill between
     * the two leaves a policy file one episode behind or ahead of the state, never a state
     * that disagrees with itself. */
    const size_t np = tr->policy.n_params, R = (size_t)tr->c->rounds;
    ok = fread(&tr->episodes_done, sizeof(int), 1, f) == 1 && fread(&tr->adam_t, sizeof(int), 1, f) == 1 &&
         fread(&tr->baselined, sizeof(int), 1, f) == 1 &&
         fread(tr->baseline, sizeof(double), R, f) == R &&
         fread(tr->m, sizeof(double), np, f) == np && fread(tr->v, sizeof(double), np, f) == np &&
         fread(tr->policy.params, sizeof(float), np, f) == np && fgetc(f) == EOF;
    fclose(f);
    if (!ok) { snprintf(err, errlen, "%s: damaged; delete it to train afresh", path); return ALSIM_BAD_INPUT; }
    return 1;
}

/* ---- the command ---- */

/* The training datasets' pools, each with the run config adapted to it (config_adapt), and
 * the episodes' pool size P: --pool-size, or (0) all of the smallest pool but the reward
 * split. Returns 0, or 2/3 with err. */
static int open_sets(TrainSet *sets, int *n_sets, int *P, const Config *c, char *err, size_t errlen) {
    char specs[sizeof c->train];
    snprintf(specs, sizeof specs, "%s", c->train);
    const DatasetOptions opt = {c->label, "", c->test_frac};
    *n_sets = 0;
    *P = c->pool_size;
    for (char *save = NULL, *s = strtok_r(specs, "+", &save); s; s = strtok_r(NULL, "+", &save)) {
        if (*n_sets == MAX_TRAIN_SETS) { snprintf(err, errlen, "train-policy: at most %d datasets", MAX_TRAIN_SETS); return ALSIM_BAD_INPUT; }
        TrainSet *ts = &sets[(*n_sets)++];
        Dataset test = {0};
        int rc = dataset_open_with(&ts->pool, &test, s, &opt, c->seed, err, errlen);
        dataset_free(&test);
        if (rc) return rc;
        dataset_print_choices(stderr, &ts->pool, c->quiet);
        const int need = (c->pool_size ? c->pool_size : 1) + c->reward_size;
        if (ts->pool.n < need) {
            snprintf(err, errlen, "train-policy: %s has %d pool rows, fewer than --pool-size %d + --reward-size %d",
                     s, ts->pool.n, c->pool_size ? c->pool_size : 1, c->reward_size);
            return ALSIM_BAD_INPUT;
        }
        if (!c->pool_size && (*P == 0 || ts->pool.n - c->reward_size < *P)) *P = ts->pool.n - c->reward_size;
        ts->cfg = *c;
        snprintf(ts->cfg.strategy, sizeof ts->cfg.strategy, "rl");
        ts->cfg.policy[0] = 0;      /* the policy is the trainer's, not a file */
        config_adapt(&ts->cfg, ts->pool.x == NULL);
    }
    return 0;
}

/* The policy and its optimiser, fresh or from the state of a killed training. Returns 0, or
 * 2/3 with err. */
static int trainer_init(Trainer *tr, const Config *c, int P, uint64_t hash, char *err, size_t errlen) {
    tr->c = c;
    tr->P = P;
    if (rl_policy_init(&tr->policy)) goto oom;
    tr->m = calloc(tr->policy.n_params, sizeof *tr->m);
    tr->v = calloc(tr->policy.n_params, sizeof *tr->v);
    tr->baseline = calloc((size_t)c->rounds, sizeof *tr->baseline);
    tr->dec = calloc((size_t)c->rounds, sizeof *tr->dec);
    if (!tr->m || !tr->v || !tr->baseline || !tr->dec) goto oom;
    for (int r = 0; r < c->rounds; r++) {
        Decision *d = &tr->dec[r];
        d->feat = malloc((size_t)P * RL_FEATURES * sizeof *d->feat);
        d->eligible = malloc((size_t)P);
        d->picks = malloc((size_t)c->batch * sizeof *d->picks);
        if (!d->feat || !d->eligible || !d->picks) goto oom;
    }
    snprintf(tr->policy.train_datasets, sizeof tr->policy.train_datasets, "%s", c->train);
    snprintf(tr->policy.reward, sizeof tr->policy.reward, "%s", c->reward);
    snprintf(tr->policy.algo, sizeof tr->policy.algo, "reinforce");
    snprintf(tr->policy.git_revision, sizeof tr->policy.git_revision, "%s", util_git_revision());
    tr->policy.seed = c->seed;
    int st = state_load(tr, hash, err, errlen);
    if (st == 2) return ALSIM_BAD_INPUT;
    if (st == 1 && !c->quiet)
        fprintf(stderr, "alsim: train-policy: resuming after episode %d of %d\n", tr->episodes_done, c->episodes);
    return 0;
oom:
    snprintf(err, errlen, "train-policy: out of memory");
    return ALSIM_RUNTIME;
}

static void trainer_free(Trainer *tr) {
    for (int r = 0; tr->dec && r < tr->c->rounds; r++) {
        free(tr->dec[r].feat); free(tr->dec[r].eligible); free(tr->dec[r].picks);
    }
    free(tr->dec); free(tr->m); free(tr->v); free(tr->baseline);
    policy_free(&tr->policy);
}

int cmd_train_policy(int argc, char **argv) {
    Config c;
    config_defaults(&c, CMD_TRAIN_POLICY);
    char err[2048];
    int rc = config_parse_args(&c, CMD_TRAIN_POLICY, argc, argv, NULL, NULL, err, sizeof err);
    if (!rc && config_help_asked(argc, argv)) { config_print_usage(stdout, &c, CMD_TRAIN_POLICY); return ALSIM_OK; }
    if (!rc) rc = config_check(&c, CMD_TRAIN_POLICY, err, sizeof err);
    if (rc) { fprintf(stderr, "alsim: %s\n", err); return rc; }

    TrainSet sets[MAX_TRAIN_SETS];
    memset(sets, 0, sizeof sets);
    Trainer tr;
    memset(&tr, 0, sizeof tr);
    int n_sets = 0, P = 0;
    const Backend *be = backend_get(c.device, err, sizeof err);
    if (!be) rc = ALSIM_RUNTIME;
    const uint64_t hash = be ? train_hash(&c, be) : 0;
    if (!rc) rc = open_sets(sets, &n_sets, &P, &c, err, sizeof err);
    if (!rc) rc = trainer_init(&tr, &c, P, hash, err, sizeof err);

    signals_install();
    const double t0 = util_seconds();
    int ran = 0;
    while (!rc && tr.episodes_done < c.episodes) {
        if (signals_pending()) { rc = ALSIM_SIGNALLED + signals_pending(); break; }
        const int e = tr.episodes_done;
        TrainSet *ts = &sets[e % n_sets];
        double ret = 0, ent = 0, te = util_seconds();
        if ((rc = run_episode(&ret, &ent, &tr, ts, be, e, err, sizeof err))) break;
        tr.episodes_done++;
        ran++;
        if (!tr.baselined) seed_baseline(&tr);          /* episode 0: no update */
        else if (reinforce(&tr)) { snprintf(err, sizeof err, "train-policy: out of memory"); rc = ALSIM_RUNTIME; break; }
        tr.policy.episodes = tr.episodes_done;
        if ((rc = state_save(&tr, hash, err, sizeof err)) || (rc = policy_save(&tr.policy, c.out, err, sizeof err))) break;
        if (!c.quiet)
            fprintf(stderr, "alsim: train-policy episode %4d/%d | %-14.14s | return %+.4f | baseline %+.4f | entropy %.3f | %.1fs (%.0fs)\n",
                    tr.episodes_done, c.episodes, ts->pool.name, ret, tr.baseline[0], ent, util_seconds() - te, util_seconds() - t0);
    }
    /* A kill between the state file and the policy file leaves the policy one episode behind
     * its state: a resumed training with no episode left to run still writes it. */
    if (!rc && !ran) {
        tr.policy.episodes = tr.episodes_done;
        rc = policy_save(&tr.policy, c.out, err, sizeof err);
    }
    if (rc >= ALSIM_SIGNALLED)
        fprintf(stderr, "alsim: train-policy stopped after episode %d; the same command continues it\n", tr.episodes_done);
    else if (rc) fprintf(stderr, "alsim: %s\n", err);
    else if (!rc && !c.quiet) fprintf(stderr, "alsim: wrote %s (%d episodes)\n", c.out, tr.episodes_done);

    if (tr.c) trainer_free(&tr);
    for (int i = 0; i < n_sets; i++) dataset_free(&sets[i].pool);
    return rc;
}
