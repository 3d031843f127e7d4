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
#include "strategies/strategy.h"

#define MAX_TRAIN_SETS 8

/* The imitation's constants (README, "The RL strategy"): the teacher's target temperature in
 * accuracy units (policy_listwise_target), the listwise softmax's temperature over mean batch
 * scores (ranks are in [0, 1]), the epochs of full-batch Adam over the aggregate after each
 * episode, and the L2 pull toward the init (margin). The temperature is the initial one: it
 * is learned (dagger_update). */
#define DAGGER_TAU 0.01
#define DAGGER_TEMPERATURE 0.1
#define DAGGER_EPOCHS 20
#define DAGGER_L2 1e-2


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

/* DAgger: the candidates of one state (one round of an episode where the teacher refitted),
 * kept for every later update. */
#define DAGGER_CANDIDATES (TEACHER_CANDIDATES + 1)  /* the teacher's five, then the policy's */
typedef struct {
    int m, C, b;            /* candidate rows (distinct), candidates, batch size */
    double *feat;           /* (m, F) the rows' features in their round */
    int *members;           /* (C*b) candidate c: members[c*b .. c*b+count[c]-1], indices into feat */
    int count[DAGGER_CANDIDATES];
    double target[DAGGER_CANDIDATES];   /* the teacher's preference (policy_listwise_target) */
    double rho[DAGGER_CANDIDATES];      /* each candidate's redundancy (policy_batch_redundancy) */
} ImState;

typedef struct {
    const Config *c;
    int P;                  /* pool rows of an episode */
    int n_sets;             /* training datasets; episode e runs on set e % n_sets */
    Policy policy;
    double *m, *v;          /* Adam moments (n_params) */
    int adam_t;
    int episodes_done;
    /* reinforce */
    double *baseline;       /* (n_sets, rounds) moving average of the return from each round */
    int *baselined;         /* (n_sets) that set's baselines seeded (after its first episode) */
    double *acc_grad;       /* (n_params) the gradient summed over the episodes since the last step */
    int acc_n;              /* how many */
    Decision *dec;          /* (rounds) the episode in progress */
    /* dagger */
    double log_temp;        /* log of the listwise softmax's temperature, learned with the policy */
    double lt_m, lt_v;      /* its Adam moments */
    ImState *states;        /* (n_states) every state so far, aggregated */
    int n_states, cap_states;
} Trainer;

/* ---- one episode ---- */

/* The episode a picker call belongs to. */
typedef struct {
    Trainer *tr;
    Session *S;
    int e;                  /* episode number */
    double ent_sum;         /* reinforce: entropy of the first-pick distributions, summed over rounds */
    int states, teacher_rounds, refits;     /* dagger: this episode's */
    int *cand;              /* dagger: (2 * DAGGER_CANDIDATES * b) scratch: the candidates, the distinct ones */
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

static int cmp_int(const void *a, const void *b) {
    const int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* 1 when candidate i is better than candidate j by the teacher's rule (select_teacher's):
 * the higher accuracy on the reward split, then the lower NLL; equal ones keep their order. */
static int teacher_prefers(const double *acc, const double *nll, int i, int j) {
    return acc[i] > acc[j] || (acc[i] == acc[j] && nll[i] < nll[j]);
}

/* Appends one state to the trainer's aggregate: the C candidates cand (C*b pool row ids,
 * count[c] each), their features from the round's features feat (rows scored: pool row i is
 * feature row i, or with a subset rows[j] is feature row j), their redundancies from the
 * rows' embeddings emb (n_rows,H) (NULL: 0), the teacher's target from acc and nll. Returns
 * 0, or -1 when out of memory. */
static int add_state(Trainer *tr, const int *cand, const int *count, int C, int b, const double *acc,
                     const double *nll, const double *feat, const float *emb, int h, const int *rows,
                     int n_rows) {
    if (tr->n_states == tr->cap_states) {
        const int cap = tr->cap_states ? 2 * tr->cap_states : 64;
        ImState *grown = realloc(tr->states, (size_t)cap * sizeof *grown);
        if (!grown) return -1;
        tr->states = grown;
        tr->cap_states = cap;
    }
    ImState *st = &tr->states[tr->n_states];
    *st = (ImState){.C = C, .b = b};
    int *ids = malloc((size_t)C * b * sizeof *ids), *pos = malloc((size_t)C * b * sizeof *pos);
    st->members = malloc((size_t)C * b * sizeof *st->members);
    st->feat = malloc((size_t)C * b * RL_FEATURES * sizeof *st->feat);
    if (!ids || !pos || !st->members || !st->feat) { free(ids); free(pos); free(st->members); free(st->feat); return -1; }
    for (int c = 0; c < C; c++) {
        st->count[c] = count[c];
        for (int a = 0; a < count[c]; a++) {
            const int id = cand[c * b + a];
            int at = id;            /* its row among the rows scored */
            if (rows) for (at = 0; at < n_rows && rows[at] != id; at++) {}
            if (at >= n_rows) { free(ids); free(pos); free(st->members); free(st->feat); return -1; }
            pos[c * b + a] = at;
            int j = 0;
            while (j < st->m && ids[j] != id) j++;
            if (j == st->m) {       /* a new row: its feature row */
                ids[st->m] = id;
                memcpy(st->feat + (size_t)st->m * RL_FEATURES, feat + (size_t)at * RL_FEATURES, RL_FEATURES * sizeof *feat);
                st->m++;
            }
            st->members[c * b + a] = j;
        }
        st->rho[c] = emb ? policy_batch_redundancy(emb, h, pos + c * b, count[c]) : 0;
    }
    policy_listwise_target(st->target, acc, nll, C, DAGGER_TAU);
    free(ids); free(pos);
    tr->n_states++;
    return 0;
}

/* The session's picker under DAgger. Every round: the policy's batch, as a run picks it (the
 * rl strategy's pick hook: greedy, with the policy's diversity penalty).
 * At the teacher's rounds ((round + episode) % --dagger-every == 0) also the teacher's state:
 * its candidate batches (teacher_candidate: margin, entropy, BALD, k-center, class-balanced
 * margin) and the policy's batch, each refitted once by the engine's look-ahead (the next
 * round's fit on labeled ∪ candidate, common random numbers, measured on the reward split),
 * recorded for the update; the batch taken is then the teacher's best with probability
 * beta^episode (roll-in with the teacher, then more and more with the policy). */
static int pick_dagger(int *picked, const double *scores, const unsigned char *excluded, int n, int b,
                       uint64_t seed, int round, void *ctx) {
    Episode *ep = ctx;
    Trainer *tr = ep->tr;
    const Config *c = tr->c;
    int got = ep->S->st->hooks->pick(picked, scores, excluded, n, b, seed, round, ep->S->strategy_state);
    if (got <= 0 || (round + ep->e) % c->dagger_every != 0) return got;
    BatchView v;
    session_batch_view(&v, ep->S);
    if (!v.lookahead) return -1;
    int *cand = ep->cand, count[DAGGER_CANDIDATES], C = 0;
    double acc[DAGGER_CANDIDATES], nll[DAGGER_CANDIDATES];
    for (int w = 0; w < TEACHER_CANDIDATES; w++) {
        const int k = teacher_candidate(cand + (size_t)C * b, &v, b, w);
        if (k < 0) return -1;
        if (k > 0) count[C++] = k;       /* 0: does not apply (no MC samples, no embeddings) */
    }
    memcpy(cand + (size_t)C * b, picked, (size_t)got * sizeof *cand);
    qsort(cand + (size_t)C * b, (size_t)got, sizeof *cand, cmp_int);    /* ascending, as the teacher's */
    count[C++] = got;
    /* Each distinct candidate refitted once; the state keeps the distinct ones (a batch twice
     * would count twice in the listwise softmax: the init policy's is margin's). */
    int *dist = ep->cand + (size_t)DAGGER_CANDIDATES * b, dcount[DAGGER_CANDIDATES], D = 0;
    double dacc[DAGGER_CANDIDATES], dnll[DAGGER_CANDIDATES];
    for (int i = 0; i < C; i++) {
        int same = -1;
        for (int j = 0; j < i && same < 0; j++)
            if (count[j] == count[i] && !memcmp(cand + (size_t)j * b, cand + (size_t)i * b, (size_t)count[i] * sizeof *cand))
                same = j;
        if (same >= 0) { acc[i] = acc[same]; nll[i] = nll[same]; continue; }
        if (v.lookahead->refit(&acc[i], &nll[i], cand + (size_t)i * b, count[i], v.lookahead->ctx) != 0) return -1;
        ep->refits++;
        memcpy(dist + (size_t)D * b, cand + (size_t)i * b, (size_t)count[i] * sizeof *cand);
        dcount[D] = count[i];
        dacc[D] = acc[i];
        dnll[D++] = nll[i];
    }
    const double *feat = rl_features(ep->S->strategy_state);
    if (D > 1) {    /* one distinct candidate: no preference to learn */
        if (add_state(tr, dist, dcount, D, b, dacc, dnll, feat, v.emb, v.h, v.rows, v.n) != 0) return -1;
        ep->states++;
    }
    Rng rr = rng_stream(c->seed, RNG_POLICY, 3000000000ull + (uint64_t)ep->e * 100000u + (uint64_t)round);
    if (rng_uniform(&rr) < pow(c->dagger_beta, ep->e)) {    /* roll in with the teacher */
        int best = 0;
        for (int i = 1; i < C; i++) if (teacher_prefers(acc, nll, i, best)) best = i;
        ep->teacher_rounds++;
        if (best != C - 1) {    /* the policy's own batch keeps its order, best first */
            got = count[best];
            memcpy(picked, cand + (size_t)best * b, (size_t)got * sizeof *picked);
        }
    }
    return got;
}

/* Runs episode e on ts: the session of a run with ts's config on a random pool of P rows of
 * the dataset's pool, measured on a disjoint reward split of c->reward_size rows (never a
 * test set), its batches picked by pick_dagger (aggregating the teacher's states into tr,
 * *states of them, *teacher_rounds rolled in with the teacher, *refits refits) or
 * pick_sampled (filling tr->dec (rounds); *ret receives the episode's return, *ent the mean
 * entropy of the first picks). Returns 0, or 2/3 with err. */
static int run_episode(double *ret, double *ent, int *states, int *teacher_rounds, int *refits, Trainer *tr,
                       TrainSet *ts, const Backend *be, int e, char *err, size_t errlen) {
    const Config *c = &ts->cfg;
    const int dagger = !strcmp(c->algo, "dagger");
    Episode ep = {0};
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
    ep = (Episode){.tr = tr, .S = &S, .e = e};
    rl_use_policy(S.strategy_state, &tr->policy);
    if (dagger) {
        ep.cand = malloc((size_t)2 * DAGGER_CANDIDATES * c->batch * sizeof *ep.cand);
        if (!ep.cand) { snprintf(err, errlen, "train-policy: out of memory"); rc = ALSIM_RUNTIME; goto done; }
        if ((rc = session_enable_lookahead(&S, &rew, err, errlen))) goto done;
    }
    S.pick = dagger ? pick_dagger : pick_sampled;
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
        if (dagger) continue;
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
    *states = ep.states;
    *teacher_rounds = ep.teacher_rounds;
    *refits = ep.refits;
done:
    session_close(&S);
    free(ep.cand);
    free(idx); free(probs);
    dataset_free(&pool); dataset_free(&rew);
    return rc;
}

/* ---- the updates ---- */

/* DAgger's update: DAGGER_EPOCHS Adam steps on the mean listwise loss over every state so far
 * plus the L2 toward the init, the listwise temperature learned alongside (from
 * DAGGER_TEMPERATURE; the mixture's weights sum to 1, so how sure the policy is of its
 * preference is the temperature's to say, not theirs). Returns the objective before the last
 * step, or NaN when out of memory (or no state yet: no step). */
static double dagger_update(Trainer *tr) {
    const size_t np = tr->policy.n_params;
    if (tr->n_states == 0) return NAN;
    double *grad = malloc(np * sizeof *grad), obj = NAN;
    if (!grad) return NAN;
    for (int epoch = 0; epoch < DAGGER_EPOCHS; epoch++) {
        memset(grad, 0, np * sizeof *grad);
        double loss = 0, dlogt = 0;
        const double temp = exp(tr->log_temp);
        for (int k = 0; k < tr->n_states; k++) {
            const ImState *st = &tr->states[k];
            loss += policy_listwise(grad, &dlogt, &tr->policy, st->feat, st->m, st->members, st->count, st->b,
                                    st->C, st->target, st->rho, temp);
        }
        for (size_t i = 0; i < np; i++) grad[i] /= tr->n_states;
        dlogt /= tr->n_states;
        obj = loss / tr->n_states + policy_l2(grad, &tr->policy, DAGGER_L2);
        for (size_t i = 0; i < np; i++) grad[i] = -grad[i];     /* descent */
        policy_adam_step(&tr->policy, grad, tr->m, tr->v, &tr->adam_t, tr->c->policy_lr);
        /* the temperature's Adam step, at the policy's step count */
        tr->lt_m = 0.9 * tr->lt_m + 0.1 * dlogt;
        tr->lt_v = 0.999 * tr->lt_v + 0.001 * dlogt * dlogt;
        const double mh = tr->lt_m / (1 - pow(0.9, tr->adam_t)), vh = tr->lt_v / (1 - pow(0.999, tr->adam_t));
        tr->log_temp -= tr->c->policy_lr * mh / (sqrt(vh) + 1e-8);
        tr->log_temp = fmin(fmax(tr->log_temp, log(1e-3)), log(1e3));   /* a bounded temperature */
    }
    free(grad);
    return obj;
}

/* REINFORCE, after an episode on set s. The set's first episode only seeds its baselines
 * (each round's: that episode's return from the round on; against a zero baseline every
 * advantage would be the whole return). Later ones: the return from round r on, less the
 * set's baseline of round r, weighs ∇ log π of round r's batch, with the entropy bonus; the
 * gradient is summed over --reinforce-batch episodes, and their mean takes one Adam step.
 * Returns 0, or -1 when out of memory. */
static int reinforce(Trainer *tr, int s) {
    const int R = tr->c->rounds;
    double *base = tr->baseline + (size_t)s * R;
    if (!tr->baselined[s]) {
        double G = 0;
        for (int r = R - 1; r >= 0; r--) { G += tr->dec[r].reward; base[r] = G; }
        tr->baselined[s] = 1;
        return 0;
    }
    double G = 0;
    for (int r = R - 1; r >= 0; r--) {
        const Decision *d = &tr->dec[r];
        G += d->reward;
        policy_accumulate(tr->acc_grad, &tr->policy, d->feat, d->eligible, tr->P, d->picks, d->n_picks,
                          (G - base[r]) / R, tr->c->entropy / R);
        base[r] = 0.9 * base[r] + 0.1 * G;
    }
    if (++tr->acc_n < tr->c->reinforce_batch) return 0;
    double *grad = malloc(tr->policy.n_params * sizeof *grad);
    if (!grad) return -1;
    for (size_t i = 0; i < tr->policy.n_params; i++) grad[i] = tr->acc_grad[i] / tr->acc_n;
    policy_adam_step(&tr->policy, grad, tr->m, tr->v, &tr->adam_t, tr->c->policy_lr);
    memset(tr->acc_grad, 0, tr->policy.n_params * sizeof *tr->acc_grad);
    tr->acc_n = 0;
    free(grad);
    return 0;
}

/* ---- the state file: what continues a killed training ---- */

static const char STATE_MAGIC[8] = {'A', 'L', 'S', 'I', 'M', 'T', 'P', '4'};

/* A hash of everything that changes what training computes: the run options an episode uses
 * (config_hash), the seed, the backend (another one rounds differently), and the training
 * options but --episodes and --quiet. */
static uint64_t train_hash(const Config *c, const Backend *be) {
    char text[2048], run[9], lr[32], ent[32], alpha[32], beta[32];
    config_hash(run, c);
    fmt_double(lr, c->policy_lr);
    fmt_double(ent, c->entropy);
    fmt_double(alpha, c->loss_alpha);
    fmt_double(beta, c->dagger_beta);
    snprintf(text, sizeof text, "run=%s;seed=%llu;train=%s;reward-size=%d;algo=%s;dagger-every=%d;dagger-beta=%s;"
             "reinforce-batch=%d;policy-lr=%s;entropy=%s;reward=%s;loss-alpha=%s%s%s",
             run, (unsigned long long)c->seed, c->train, c->reward_size, c->algo, c->dagger_every, beta,
             c->reinforce_batch, lr, ent, c->reward, alpha, strcmp(be->name, "cpu") ? ";backend=" : "",
             strcmp(be->name, "cpu") ? be->name : "");
    return util_fnv1a(UTIL_FNV_START, text, strlen(text));
}

static void state_path(char path[1100], const Config *c) {
    snprintf(path, 1100, "%s.state", c->out);
}

/* fwrite/fread of n items, 1 when all went. */
static int put(const void *p, size_t size, size_t n, FILE *f) { return fwrite(p, size, n, f) == n; }
static int get(void *p, size_t size, size_t n, FILE *f) { return fread(p, size, n, f) == n; }

/* The layout: magic, hash, episodes done, Adam's step count, the sets' baselines (flags, then
 * (sets, rounds) values), the summed REINFORCE gradient (count, values), Adam's moments, the
 * policy's parameters, the listwise log-temperature and its moments, then DAgger's states
 * (count; each: m, C, b, counts, members, targets, redundancies, features). Native byte
 * order: a state continues a training on the machine that wrote it. */
static int state_save(const Trainer *tr, uint64_t hash, char *err, size_t errlen) {
    char path[1100], tmp[4200];
    state_path(path, tr->c);
    FILE *f = util_open_atomic(tmp, path, err, errlen);
    if (!f) return ALSIM_RUNTIME;
    const size_t np = tr->policy.n_params, R = (size_t)tr->c->rounds, ns = (size_t)tr->n_sets;
    int ok = put(STATE_MAGIC, 1, 8, f) && put(&hash, sizeof hash, 1, f) &&
             put(&tr->episodes_done, sizeof(int), 1, f) && put(&tr->adam_t, sizeof(int), 1, f) &&
             put(tr->baselined, sizeof(int), ns, f) && put(tr->baseline, sizeof(double), ns * R, f) &&
             put(&tr->acc_n, sizeof(int), 1, f) && put(tr->acc_grad, sizeof(double), np, f) &&
             put(tr->m, sizeof(double), np, f) && put(tr->v, sizeof(double), np, f) &&
             put(tr->policy.params, sizeof(float), np, f) && put(&tr->log_temp, sizeof(double), 1, f) &&
             put(&tr->lt_m, sizeof(double), 1, f) && put(&tr->lt_v, sizeof(double), 1, f) &&
             put(&tr->n_states, sizeof(int), 1, f);
    for (int k = 0; ok && k < tr->n_states; k++) {
        const ImState *st = &tr->states[k];
        ok = put(&st->m, sizeof(int), 1, f) && put(&st->C, sizeof(int), 1, f) && put(&st->b, sizeof(int), 1, f) &&
             put(st->count, sizeof(int), (size_t)st->C, f) && put(st->members, sizeof(int), (size_t)st->C * st->b, f) &&
             put(st->target, sizeof(double), (size_t)st->C, f) && put(st->rho, sizeof(double), (size_t)st->C, f) &&
             put(st->feat, sizeof(double), (size_t)st->m * RL_FEATURES, f);
    }
    return util_commit_atomic(f, ok, tmp, path, err, errlen);
}

/* One DAgger state from f, every size and index checked. Returns 1, or 0 on a damaged one. */
static int state_read_one(ImState *st, int batch, FILE *f) {
    *st = (ImState){0};
    if (!get(&st->m, sizeof(int), 1, f) || !get(&st->C, sizeof(int), 1, f) || !get(&st->b, sizeof(int), 1, f) ||
        st->C < 1 || st->C > DAGGER_CANDIDATES || st->b < 1 || st->b > batch || st->m < 1 || st->m > st->C * st->b)
        return 0;
    st->members = malloc((size_t)st->C * st->b * sizeof *st->members);
    st->feat = malloc((size_t)st->m * RL_FEATURES * sizeof *st->feat);
    if (!st->members || !st->feat || !get(st->count, sizeof(int), (size_t)st->C, f) ||
        !get(st->members, sizeof(int), (size_t)st->C * st->b, f) || !get(st->target, sizeof(double), (size_t)st->C, f) ||
        !get(st->rho, sizeof(double), (size_t)st->C, f) || !get(st->feat, sizeof(double), (size_t)st->m * RL_FEATURES, f))
        return 0;
    for (int c = 0; c < st->C; c++)
        if (!(st->rho[c] >= 0 && st->rho[c] <= 1)) return 0;
    for (int c = 0; c < st->C; c++) {
        if (st->count[c] < 0 || st->count[c] > st->b) return 0;
        for (int a = 0; a < st->count[c]; a++)
            if (st->members[c * st->b + a] < 0 || st->members[c * st->b + a] >= st->m) return 0;
    }
    return 1;
}

static void states_free(Trainer *tr) {
    for (int k = 0; k < tr->n_states; k++) { free(tr->states[k].members); free(tr->states[k].feat); }
    free(tr->states);
    tr->states = NULL;
    tr->n_states = tr->cap_states = 0;
}

/* Loads the state (the policy included) when it exists and the options match. Returns 1 when
 * resumed, 0 when starting afresh, 2 on a damaged file, 3 when out of memory. */
static int state_load(Trainer *tr, uint64_t hash, char *err, size_t errlen) {
    char path[1100];
    state_path(path, tr->c);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char magic[8];
    uint64_t h = 0;
    int ok = get(magic, 1, 8, f) && !memcmp(magic, STATE_MAGIC, 8) && get(&h, sizeof h, 1, f);
    if (!ok || h != hash) {
        fclose(f);
        if (!ok) { snprintf(err, errlen, "%s: not a training state of this alsim", path); return ALSIM_BAD_INPUT; }
        return 0;   /* other options: a new training */
    }
    /* The state holds the policy too: the policy file is written after it, so a kill between
     * the two leaves a policy file one episode behind or ahead of the state, never a state
     * that disagrees with itself. */
    const size_t np = tr->policy.n_params, R = (size_t)tr->c->rounds, ns = (size_t)tr->n_sets;
    int n_states = 0;
    ok = get(&tr->episodes_done, sizeof(int), 1, f) && get(&tr->adam_t, sizeof(int), 1, f) &&
         get(tr->baselined, sizeof(int), ns, f) && get(tr->baseline, sizeof(double), ns * R, f) &&
         get(&tr->acc_n, sizeof(int), 1, f) && get(tr->acc_grad, sizeof(double), np, f) &&
         get(tr->m, sizeof(double), np, f) && get(tr->v, sizeof(double), np, f) &&
         get(tr->policy.params, sizeof(float), np, f) && get(&tr->log_temp, sizeof(double), 1, f) &&
         get(&tr->lt_m, sizeof(double), 1, f) && get(&tr->lt_v, sizeof(double), 1, f) &&
         get(&n_states, sizeof(int), 1, f) && isfinite(tr->log_temp) &&
         tr->episodes_done >= 0 && tr->acc_n >= 0 && n_states >= 0;
    if (ok && n_states > 0) {
        tr->states = calloc((size_t)n_states, sizeof *tr->states);
        if (!tr->states) { fclose(f); snprintf(err, errlen, "train-policy: out of memory"); return ALSIM_RUNTIME; }
        tr->cap_states = n_states;
        for (; ok && tr->n_states < n_states; tr->n_states++)   /* a damaged one counted too: freed below */
            ok = state_read_one(&tr->states[tr->n_states], tr->c->batch, f);
    }
    ok = ok && fgetc(f) == EOF;
    fclose(f);
    if (!ok) {
        states_free(tr);
        snprintf(err, errlen, "%s: damaged; delete it to train afresh", path);
        return ALSIM_BAD_INPUT;
    }
    return 1;
}

/* ---- the command ---- */

/* The training datasets' pools, each with the run config adapted to it (config_adapt), and
 * the episodes' pool size P: --pool-size, or (0) all of the smallest pool but the reward
 * split. Returns 0, or 2/3 with err. */
static int open_sets(TrainSet *sets, int *n_sets, int *P, const Config *c, char *err, size_t errlen) {
    char specs[sizeof c->train];
    snprintf(specs, sizeof specs, "%s", c->train);
    const DatasetOptions opt = {.label = c->label, .test = "", .test_frac = c->test_frac};
    *n_sets = 0;
    *P = c->pool_size;
    for (char *save = NULL, *s = strtok_r(specs, "+", &save); s; s = strtok_r(NULL, "+", &save)) {
        if (*n_sets == MAX_TRAIN_SETS) {
            snprintf(err, errlen, "train-policy: at most %d datasets", MAX_TRAIN_SETS);
            return ALSIM_BAD_INPUT;
        }
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
static int trainer_init(Trainer *tr, const Config *c, int P, int n_sets, uint64_t hash, char *err, size_t errlen) {
    tr->c = c;
    tr->P = P;
    tr->n_sets = n_sets;
    if (rl_policy_init(&tr->policy)) goto oom;
    const size_t np = tr->policy.n_params;
    tr->m = calloc(np, sizeof *tr->m);
    tr->v = calloc(np, sizeof *tr->v);
    tr->acc_grad = calloc(np, sizeof *tr->acc_grad);
    tr->baseline = calloc((size_t)n_sets * c->rounds, sizeof *tr->baseline);
    tr->baselined = calloc((size_t)n_sets, sizeof *tr->baselined);
    tr->dec = calloc((size_t)c->rounds, sizeof *tr->dec);
    if (!tr->m || !tr->v || !tr->acc_grad || !tr->baseline || !tr->baselined || !tr->dec) goto oom;
    for (int r = 0; r < c->rounds && !strcmp(c->algo, "reinforce"); r++) {
        Decision *d = &tr->dec[r];
        d->feat = malloc((size_t)P * RL_FEATURES * sizeof *d->feat);
        d->eligible = malloc((size_t)P);
        d->picks = malloc((size_t)c->batch * sizeof *d->picks);
        if (!d->feat || !d->eligible || !d->picks) goto oom;
    }
    snprintf(tr->policy.train_datasets, sizeof tr->policy.train_datasets, "%s", c->train);
    snprintf(tr->policy.algo, sizeof tr->policy.algo, "%s", c->algo);
    snprintf(tr->policy.reward, sizeof tr->policy.reward, "%s", !strcmp(c->algo, "dagger") ? "lookahead" : c->reward);
    snprintf(tr->policy.git_revision, sizeof tr->policy.git_revision, "%s", util_git_revision());
    tr->policy.seed = c->seed;
    tr->log_temp = log(DAGGER_TEMPERATURE);
    int st = state_load(tr, hash, err, errlen);
    if (st >= 2) return st;
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
    free(tr->dec); free(tr->m); free(tr->v); free(tr->acc_grad); free(tr->baseline); free(tr->baselined);
    states_free(tr);
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
    const int dagger = !strcmp(c.algo, "dagger");
    const Backend *be = backend_get(c.device, err, sizeof err);
    if (!be) rc = ALSIM_RUNTIME;
    const uint64_t hash = be ? train_hash(&c, be) : 0;
    if (!rc) rc = open_sets(sets, &n_sets, &P, &c, err, sizeof err);
    if (!rc) rc = trainer_init(&tr, &c, P, n_sets, hash, err, sizeof err);

    signals_install();
    const double t0 = util_seconds();
    int ran = 0;
    while (!rc && tr.episodes_done < c.episodes) {
        if (signals_pending()) { rc = ALSIM_SIGNALLED + signals_pending(); break; }
        const int e = tr.episodes_done, s = e % n_sets;
        TrainSet *ts = &sets[s];
        double ret = 0, ent = 0, te = util_seconds();
        int states = 0, teacher = 0, refits = 0;
        if ((rc = run_episode(&ret, &ent, &states, &teacher, &refits, &tr, ts, be, e, err, sizeof err))) break;
        tr.episodes_done++;
        ran++;
        double obj = NAN;
        if (dagger) obj = dagger_update(&tr);
        else if (reinforce(&tr, s)) { snprintf(err, sizeof err, "train-policy: out of memory"); rc = ALSIM_RUNTIME; break; }
        tr.policy.episodes = tr.episodes_done;
        if ((rc = state_save(&tr, hash, err, sizeof err)) || (rc = policy_save(&tr.policy, c.out, err, sizeof err))) break;
        if (c.quiet) continue;
        if (dagger) {
            double w[RL_RANKINGS];
            const double *g = tr.states && tr.n_states ? tr.states[tr.n_states - 1].feat + RL_RANKINGS : (double[RL_GATES]){0};
            policy_weights(w, &tr.policy, g);
            fprintf(stderr, "alsim: train-policy episode %4d/%d | %-14.14s | states %d (+%d, %d rolled in by the teacher) | "
                    "refits %d | imitation loss %.4f (temperature %.3f) | weights", tr.episodes_done, c.episodes, ts->pool.name,
                    tr.n_states, states, teacher, refits, obj, exp(tr.log_temp));
            for (int h = 0; h < RL_RANKINGS; h++) fprintf(stderr, " %+.2f", w[h]);
            fprintf(stderr, " | diversity %+.3f | %.1fs (%.0fs)\n", policy_lambda(&tr.policy, g), util_seconds() - te,
                    util_seconds() - t0);
        } else {
            fprintf(stderr, "alsim: train-policy episode %4d/%d | %-14.14s | return %+.4f | baseline %+.4f | entropy %.3f | %.1fs (%.0fs)\n",
                    tr.episodes_done, c.episodes, ts->pool.name, ret, tr.baseline[(size_t)s * c.rounds], ent,
                    util_seconds() - te, util_seconds() - t0);
        }
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
