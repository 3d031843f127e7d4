/* test_policy — the RL policy's math and file: the Plackett–Luce log-probability gradient and
 * the network's gradient by central differences, PL sampling against its exact distribution,
 * and the policy file (round trip, and malformed files rejected with a reason). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "strategies/policy.h"
#include "tests/check.h"

static const char *const names[] = {"f0", "f1", "f2", "f3", "f4"};
enum { F = 5, H = 6 };

static void test_pl_grad(void) {
    Rng r = rng_stream(11, RNG_DATA, 0);
    for (int trial = 0; trial < 20; trial++) {
        int n = 3 + trial % 10, b = 1 + trial % 3;
        double s[16], g[16];
        unsigned char el[16];
        int picks[4];
        for (int i = 0; i < n; i++) { s[i] = 3 * rng_normal(&r); el[i] = (i % 5) != 2; }
        int m = pl_sample(picks, s, el, n, b, &r);
        CHECK(m == b, "drew %d of %d", m, b);
        pl_grad(g, s, el, n, picks, m);
        for (int i = 0; i < n; i++) {
            const double e = 1e-5;
            double keep = s[i];
            s[i] = keep + e; double up = pl_log_prob(s, el, n, picks, m);
            s[i] = keep - e; double dn = pl_log_prob(s, el, n, picks, m);
            s[i] = keep;
            CHECK_NEAR(g[i], (up - dn) / (2 * e), 1e-7, 1e-6);
            if (!el[i]) CHECK(g[i] == 0.0, "ineligible row %d has gradient %g", i, g[i]);
        }
    }
}

static void test_network_grad(void) {
    Policy p;
    CHECK(policy_init(&p, F, names, H, 3) == 0, "init");
    for (int f = 0; f < F; f++) { p.feat_mean[f] = 0.1 * f; p.feat_sd[f] = 1.0 + 0.5 * f; }
    Rng r = rng_stream(5, RNG_DATA, 1);
    for (size_t i = 0; i < p.n_params; i++) p.params[i] = (float)(0.5 * rng_normal(&r));
    enum { N = 7 };
    double feat[N * F], hid[N * H], s[N], ds[N];
    for (int i = 0; i < N * F; i++) feat[i] = rng_normal(&r);
    for (int i = 0; i < N; i++) ds[i] = rng_normal(&r);
    double *grad = calloc(p.n_params, sizeof *grad);
    policy_forward(s, hid, &p, feat, N);
    policy_backward(grad, &p, feat, hid, ds, N);
    double worst = 0;
    for (size_t k = 0; k < p.n_params; k++) {
        float keep = p.params[k];
        const float e = 1e-2f;
        double up = 0, dn = 0;
        p.params[k] = keep + e; policy_forward(s, NULL, &p, feat, N);
        for (int i = 0; i < N; i++) up += ds[i] * s[i];
        p.params[k] = keep - e; policy_forward(s, NULL, &p, feat, N);
        for (int i = 0; i < N; i++) dn += ds[i] * s[i];
        p.params[k] = keep;
        double num = (up - dn) / (double)(2 * e);   /* 2e in float is what was added */
        double err = fabs(num - grad[k]) / (1e-4 + 1e-3 * fabs(grad[k]));
        if (err > worst) worst = err;
        CHECK_NEAR(grad[k], num, 1e-4, 1e-3);
    }
    printf("policy gradcheck: %zu params, worst error/tolerance %.3f\n", p.n_params, worst);
    free(grad);
    policy_free(&p);
}

/* b = 2 from 3 candidates: every ordered pair's frequency against its PL probability. */
static void test_pl_sample_distribution(void) {
    double s[3] = {0.0, 1.0, 2.0};
    Rng r = rng_stream(9, RNG_POLICY, 7);
    int count[3][3] = {{0}};
    const int draws = 60000;
    int twice = 0;
    for (int t = 0; t < draws; t++) {
        int picks[2];
        pl_sample(picks, s, NULL, 3, 2, &r);
        twice += picks[0] == picks[1];
        count[picks[0]][picks[1]]++;
    }
    CHECK(twice == 0, "a row drawn twice in %d of %d batches", twice, draws);
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            if (a == b) continue;
            int pk[2] = {a, b};
            double want = exp(pl_log_prob(s, NULL, 3, pk, 2));
            double got = (double)count[a][b] / draws;
            double sd = sqrt(want * (1 - want) / draws);
            CHECK(fabs(got - want) < 5 * sd, "P(%d then %d) = %.4f, want %.4f", a, b, got, want);
        }
    unsigned char el[3] = {1, 0, 1};
    int picks[3];
    CHECK(pl_sample(picks, s, el, 3, 3, &r) == 2, "only eligible rows are drawn");
    CHECK(picks[0] != 1 && picks[1] != 1, "an ineligible row was drawn");
    double h = pl_entropy(s, NULL, 3), z = 1 + exp(1) + exp(2), want = 0;
    for (int i = 0; i < 3; i++) want -= exp(s[i]) / z * log(exp(s[i]) / z);
    CHECK_NEAR(h, want, 1e-12, 0);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_file(void) {
    char dir[] = "/tmp/alsim-policy.XXXXXX", path[256], err[512];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/p.json", dir);
    Policy p, q;
    policy_init(&p, F, names, H, 4);
    for (int f = 0; f < F; f++) { p.feat_mean[f] = 1.0 / 3 + f; p.feat_sd[f] = 0.7 + f; }
    p.params[0] = 0.1f;
    p.params[1] = -1e-30f;
    snprintf(p.train_datasets, sizeof p.train_datasets, "mnist,fashion-mnist");
    p.episodes = 123;
    CHECK(policy_save(&p, path, err, sizeof err) == 0, "save: %s", err);
    CHECK(policy_load(&q, path, names, F, err, sizeof err) == 0, "load: %s", err);
    CHECK(q.n_hidden == H && q.n_params == p.n_params, "shape");
    CHECK(memcmp(p.params, q.params, p.n_params * sizeof *p.params) == 0, "weights round-trip bitwise");
    CHECK(memcmp(p.feat_mean, q.feat_mean, sizeof p.feat_mean) == 0, "normalisation round-trips");
    CHECK(q.episodes == 123 && !strcmp(q.train_datasets, "mnist,fashion-mnist"), "provenance");
    policy_free(&q);
    const char *other[] = {"f0", "f1", "g2", "f3", "f4"};
    CHECK(policy_load(&q, path, other, F, err, sizeof err) == 2 && strstr(err, "g2"), "other features: %s", err);
    CHECK(policy_load(&q, path, names, 4, err, sizeof err) == 2, "another feature count");

    /* Malformed files: each is exit-code 2 with the path and a line in one line of text. */
    struct { const char *text, *want; } bad[] = {
        {"{\"format\": \"alsim-policy\",\n \"version\": 1,\n", "malformed JSON"},
        {"{\"format\": \"something\", \"version\": 1}", "not an alsim policy"},
        {"{\"format\": \"alsim-policy\",\n\"version\": 9}", "version 9"},
        {"{\"format\": \"alsim-policy\", \"version\": 1,\n\"architecture\": {\"kind\": \"mlp-tanh\", \"features\": 5, \"hidden\": 0}}", "architecture"},
        {"", "malformed JSON"},
    };
    char bpath[300];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(bpath, sizeof bpath, "%s/bad%zu.json", dir, i);
        write_file(bpath, bad[i].text);
        int rc = policy_load(&q, bpath, names, F, err, sizeof err);
        CHECK(rc == 2 && strstr(err, bpath) && strstr(err, bad[i].want) && !strchr(err, '\n'),
              "bad file %zu: rc %d, '%s'", i, rc, err);
    }
    /* A NaN weight (null) and a short weight array, made from the good file. */
    FILE *f = fopen(path, "r");
    char text[20000];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    char *w1 = strstr(text, "\"W1\": [");
    CHECK(w1 != NULL, "W1 in file");
    if (w1) {
        char edited[20100];
        size_t at = (size_t)(w1 - text) + strlen("\"W1\": [");
        while (text[at] == ' ' || text[at] == '\n') at++;
        size_t end = at;
        while (text[end] != ',') end++;
        snprintf(edited, sizeof edited, "%.*snull%s", (int)at, text, text + end);
        snprintf(bpath, sizeof bpath, "%s/nan.json", dir);
        write_file(bpath, edited);
        CHECK(policy_load(&q, bpath, names, F, err, sizeof err) == 2 && strstr(err, "not a finite number"), "null weight: %s", err);
        snprintf(edited, sizeof edited, "%.*s%s", (int)at, text, text + end + 1);
        write_file(bpath, edited);
        CHECK(policy_load(&q, bpath, names, F, err, sizeof err) == 2 && strstr(err, "needs"), "short W1: %s", err);
    }
    policy_free(&p);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

/* The entropy bonus's gradient, by central differences through the whole network. */
static void test_accumulate_grad(void) {
    Policy p;
    policy_init(&p, F, names, H, 8);
    Rng r = rng_stream(6, RNG_DATA, 2);
    enum { N = 9, B = 3 };
    double feat[N * F], s[N];
    unsigned char el[N];
    for (int i = 0; i < N * F; i++) feat[i] = rng_normal(&r);
    for (int i = 0; i < N; i++) el[i] = i != 4;
    int picks[B] = {2, 7, 0};
    const double adv = 0.7, beta = 0.3;
    double *grad = calloc(p.n_params, sizeof *grad);
    policy_accumulate(grad, &p, feat, el, N, picks, B, adv, beta);
    for (size_t k = 0; k < p.n_params; k += 3) {
        float keep = p.params[k];
        const float e = 1e-2f;
        double obj[2];
        for (int side = 0; side < 2; side++) {
            p.params[k] = side ? keep - e : keep + e;
            policy_forward(s, NULL, &p, feat, N);
            obj[side] = adv * pl_log_prob(s, el, N, picks, B) + beta * pl_entropy(s, el, N);
        }
        p.params[k] = keep;
        CHECK_NEAR(grad[k], (obj[0] - obj[1]) / (double)(2 * e), 1e-4, 2e-3);
    }
    free(grad);
    policy_free(&p);
}

/* A bandit where feature 3 exactly marks the useful candidates (about 16% of them): REINFORCE
 * with a moving-average baseline must learn to pick them. The bar: after 400 episodes the
 * top-5 of fresh candidate sets are at least 90% useful (random picks: ~16%). */
static void test_learns_marked_feature(void) {
    enum { N = 60, B = 5, EPISODES = 400 };
    Policy p;
    policy_init(&p, F, names, H, 12);
    double *grad = calloc(p.n_params, sizeof *grad), *m = calloc(p.n_params, sizeof *m);
    double *v = calloc(p.n_params, sizeof *v), feat[N * F], s[N];
    int t = 0, picks[B];
    double baseline = 0;
    Rng r = rng_stream(21, RNG_DATA, 3), pr = rng_stream(21, RNG_POLICY, 1);
    for (int ep = 0; ep < EPISODES; ep++) {
        for (int i = 0; i < N * F; i++) feat[i] = rng_normal(&r);
        policy_forward(s, NULL, &p, feat, N);
        pl_sample(picks, s, NULL, N, B, &pr);
        double reward = 0;
        for (int k = 0; k < B; k++) reward += feat[picks[k] * F + 3] > 1.0;
        reward /= B;
        memset(grad, 0, p.n_params * sizeof *grad);
        policy_accumulate(grad, &p, feat, NULL, N, picks, B, reward - baseline, 0.01);
        policy_adam_step(&p, grad, m, v, &t, 0.02);
        baseline = ep ? 0.9 * baseline + 0.1 * reward : reward;
    }
    double useful = 0;
    for (int trial = 0; trial < 100; trial++) {
        for (int i = 0; i < N * F; i++) feat[i] = rng_normal(&r);
        policy_forward(s, NULL, &p, feat, N);
        /* evaluation takes the top b */
        unsigned char taken[N] = {0};
        for (int k = 0; k < B; k++) {
            int best = -1;
            for (int i = 0; i < N; i++) if (!taken[i] && (best < 0 || s[i] > s[best])) best = i;
            taken[best] = 1;
            useful += feat[best * F + 3] > 1.0;
        }
    }
    useful /= 100.0 * B;
    printf("marked-feature bandit: top-%d useful share %.3f after %d episodes (random ~0.16)\n", B, useful, EPISODES);
    CHECK(useful >= 0.9, "useful share %.3f < 0.9", useful);
    free(grad); free(m); free(v);
    policy_free(&p);
}

int main(void) {
    test_accumulate_grad();
    test_learns_marked_feature();
    test_pl_grad();
    test_network_grad();
    test_pl_sample_distribution();
    test_file();
    return check_done("test_policy");
}
