/* test_logreg — --model logreg (sim/logreg.c):
 *   1. against scikit-learn 1.2's LogisticRegression (tests/fixtures/logreg_ref.json, written by
 *      tests/fixtures/make_logreg.py) on five small sets: 3 classes, 2 classes (binomial),
 *      C = 0.1, CSR rows, and a class without rows. Tolerances: probabilities 1e-5 absolute,
 *      weights and intercepts 1e-4 absolute, the loss 1e-6 relative (alsim fits with --tol
 *      1e-6; the reference's gradient is below 3e-8; seen: 1e-7, 1.4e-6, 1e-8. At the
 *      default --tol 1e-4 they are 5e-6, 1.2e-4, 1e-8);
 *   2. the same rows dense and CSR give the same fit;
 *   3. a fit is deterministic, a warm start from the optimum stays there, state round-trips;
 *   4. what a fit spent: iterations within the cap, converged or not, FLOPs by formula;
 *      budget_for_convergence;
 *   5. strategies that need MC samples or embeddings are refused (exit 2), others served.
 * Run from the repository root. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "sim/budget.h"
#include "sim/config.h"
#include "sim/model.h"
#include "sim/util.h"
#include "strategies/strategy.h"
#include "tests/check.h"

/* The JSON fixture at path, or NULL when it cannot be read or parsed. */
static cJSON *load(const char *path) {
    char *buf, err[256];
    if (util_read_file(&buf, NULL, path, err, sizeof err)) return NULL;
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    return j;
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }
static double num(const cJSON *o, const char *k) {
    const cJSON *v = get(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The fixture set s as a Dataset: dense (x) or CSR (indptr, indices, values). 0 or -1. */
static int set_dataset(Dataset *ds, const cJSON *s) {
    const int n = (int)num(s, "n"), d = (int)num(s, "d"), k = (int)num(s, "k");
    char err[256];
    const cJSON *x = get(s, "x"), *v;
    if (x) {
        if (dataset_alloc(ds, n, d, k, "c", err, sizeof err)) return -1;
        int i = 0;
        const cJSON *row;
        cJSON_ArrayForEach(row, x) {
            int j = 0;
            cJSON_ArrayForEach(v, row) { ds->x[(size_t)i * d + j++] = (float)v->valuedouble; }
            i++;
        }
    } else {
        const int64_t nnz = cJSON_GetArraySize(get(s, "values"));
        if (dataset_alloc_csr(ds, n, d, k, nnz, "c", err, sizeof err)) return -1;
        int i = 0;
        cJSON_ArrayForEach(v, get(s, "indptr")) { ds->indptr[i++] = (int64_t)v->valuedouble; }
        i = 0;
        cJSON_ArrayForEach(v, get(s, "indices")) { ds->indices[i++] = (int32_t)v->valuedouble; }
        i = 0;
        cJSON_ArrayForEach(v, get(s, "values")) { ds->values[i++] = (float)v->valuedouble; }
    }
    int i = 0;
    cJSON_ArrayForEach(v, get(s, "y")) { ds->y[i++] = (int32_t)v->valuedouble; }
    snprintf(ds->name, sizeof ds->name, "%s", get(s, "name")->valuestring);
    return 0;
}

/* A run config for logreg with C, tolerance and cap. */
static Config logreg_config(double C, double tol, int max_iter) {
    Config c;
    config_defaults(&c, CMD_RUN);
    snprintf(c.model, sizeof c.model, "logreg");
    snprintf(c.strategy, sizeof c.strategy, "margin");
    c.logreg_c = C;
    c.tol = tol;
    c.max_iter = max_iter;
    return c;
}

/* Opens, resets and fits a logreg on all rows of ds; probs (n,K) and theta (state) out. */
static double fit_all(Model *m, Spent *spent, float *probs, double *state, const Config *c,
                      const Dataset *ds) {
    char err[256];
    if (model_open(m, c, ds, &backend_cpu, err, sizeof err)) { fprintf(stderr, "%s\n", err); return NAN; }
    model_reset(m, 1);
    const LearnerInput X = model_rows(ds, 0, ds->n);
    *spent = (Spent){c->max_iter, 0, -1};
    const double loss = model_fit(m, spent, &X, ds->y, c->max_iter, 1, 0);
    if (probs) model_predict(m, probs, NULL, NULL, &X, 0, 1, 0, 0);
    if (state) m->ops->save(m, state);
    return loss;
}

/* 1. scikit-learn's fit of each fixture set. State layout (logreg.c): W (Kr,D), b (Kr),
 * present (K); scikit-learn's rows are the classes it saw. */
static void test_against_sklearn(const cJSON *ref) {
    const cJSON *s;
    cJSON_ArrayForEach(s, get(ref, "sets")) {
        const char *name = get(s, "name")->valuestring;
        Dataset ds = {0};
        CHECK(set_dataset(&ds, s) == 0, "%s: fixture rows", name);
        const int n = ds.n, d = ds.d, k = ds.k, kr = k == 2 ? 1 : k;
        const Config c = logreg_config(num(s, "C"), 1e-6, 10000);
        float *probs = malloc((size_t)n * k * sizeof *probs);
        double *state = malloc(((size_t)kr * d + kr + k) * sizeof *state);
        Model m = {0};
        Spent spent;
        fit_all(&m, &spent, probs, state, &c, &ds);
        CHECK(spent.converged == 1 && spent.steps < 10000, "%s: converged %d in %d iterations", name, spent.converged, spent.steps);

        double dp = 0, dw = 0;
        int i = 0;
        const cJSON *row, *v;
        cJSON_ArrayForEach(row, get(s, "probs")) {
            int cl = 0;
            cJSON_ArrayForEach(v, row) { dp = fmax(dp, fabs(probs[(size_t)i * k + cl] - v->valuedouble)); cl++; }
            i++;
        }
        /* weights: scikit-learn's row r is class classes_seen[r] (K > 2), or the one row */
        const cJSON *seen = get(s, "classes_seen");
        int r = 0;
        cJSON_ArrayForEach(row, get(s, "coef")) {
            const int cl = kr == 1 ? 0 : (int)cJSON_GetArrayItem(seen, r)->valuedouble;
            int j = 0;
            cJSON_ArrayForEach(v, row) { dw = fmax(dw, fabs(state[(size_t)cl * d + j] - v->valuedouble)); j++; }
            const double b = cJSON_GetArrayItem(get(s, "intercept"), r)->valuedouble;
            dw = fmax(dw, fabs(state[(size_t)kr * d + cl] - b));
            r++;
        }
        /* the loss at alsim's weights: mean cross-entropy · n + ||W||² / (2C) */
        double ce = 0, w2 = 0;
        for (i = 0; i < n; i++) ce -= log(probs[(size_t)i * k + ds.y[i]]);
        for (size_t j = 0; j < (size_t)kr * d; j++) w2 += state[j] * state[j];
        const double loss = ce + w2 / (2 * c.logreg_c), want = num(s, "loss");
        printf("  %-10s max |dp| %.2e  max |dW, db| %.2e  loss %.10g vs %.10g (%d iterations)\n",
               name, dp, dw, loss, want, spent.steps);
        CHECK(dp <= 1e-5, "%s: probabilities differ by %.3g", name, dp);
        CHECK(dw <= 1e-4, "%s: weights differ by %.3g", name, dw);
        CHECK(fabs(loss - want) <= 1e-6 * want, "%s: loss %.12g vs scikit-learn %.12g", name, loss, want);
        if (!strcmp(name, "absent")) {  /* the class without rows: probability 0, weights 0 */
            double p2 = 0, w = 0;
            for (i = 0; i < n; i++) p2 = fmax(p2, probs[(size_t)i * k + 2]);
            for (int j = 0; j < d; j++) w = fmax(w, fabs(state[(size_t)2 * d + j]));
            CHECK(p2 == 0 && w == 0, "absent class: p %g, |w| %g", p2, w);
        }
        model_close(&m);
        free(probs); free(state);
        dataset_free(&ds);
    }
}

/* 2. The "sparse" set densified: the same fit as its CSR rows. */
static void test_dense_equals_csr(const cJSON *ref) {
    const cJSON *s;
    cJSON_ArrayForEach(s, get(ref, "sets")) if (!strcmp(get(s, "name")->valuestring, "sparse")) break;
    Dataset sp = {0}, de = {0};
    char err[256];
    CHECK(s && set_dataset(&sp, s) == 0, "sparse set");
    if (!s) return;
    CHECK(dataset_alloc(&de, sp.n, sp.d, sp.k, "c", err, sizeof err) == 0, "alloc");
    memset(de.x, 0, (size_t)sp.n * sp.d * sizeof *de.x);
    for (int i = 0; i < sp.n; i++) {
        de.y[i] = sp.y[i];
        for (int64_t p = sp.indptr[i]; p < sp.indptr[i + 1]; p++) de.x[(size_t)i * sp.d + sp.indices[p]] = sp.values[p];
    }
    const Config c = logreg_config(1.0, 1e-6, 1000);
    float *p1 = malloc((size_t)sp.n * sp.k * sizeof *p1), *p2 = malloc((size_t)sp.n * sp.k * sizeof *p2);
    Model m1 = {0}, m2 = {0};
    Spent s1, s2;
    fit_all(&m1, &s1, p1, NULL, &c, &sp);
    fit_all(&m2, &s2, p2, NULL, &c, &de);
    double dp = 0;
    for (size_t i = 0; i < (size_t)sp.n * sp.k; i++) dp = fmax(dp, fabs(p1[i] - p2[i]));
    CHECK(dp < 1e-6, "dense vs CSR: probabilities differ by %.3g", dp);
    CHECK(m1.train_flops_per_row < m2.train_flops_per_row, "CSR FLOPs count nonzeros: %g vs %g",
          m1.train_flops_per_row, m2.train_flops_per_row);
    model_close(&m1); model_close(&m2);
    free(p1); free(p2);
    dataset_free(&sp); dataset_free(&de);
}

/* 3 and 4 on the iris set. */
static void test_fit_contract(const cJSON *ref) {
    const cJSON *s = cJSON_GetArrayItem(get(ref, "sets"), 0);     /* iris: 150 x 4, K = 3 */
    Dataset ds = {0};
    CHECK(set_dataset(&ds, s) == 0, "iris");
    const int n = ds.n, k = ds.k;
    const Config c = logreg_config(1.0, 1e-4, 1000);
    Model m = {0}, m2 = {0};
    Spent sp, sp2;
    float *p1 = malloc((size_t)n * k * sizeof *p1), *p2 = malloc((size_t)n * k * sizeof *p2);
    const double loss = fit_all(&m, &sp, p1, NULL, &c, &ds);
    fit_all(&m2, &sp2, p2, NULL, &c, &ds);
    CHECK(m.max_iter == 1000 && m.emb_width == 0 && m.k == 3, "public fields: max_iter %d emb %d k %d", m.max_iter, m.emb_width, m.k);
    CHECK(isfinite(loss) && loss > 0 && loss < log(3.0), "mean cross-entropy %g", loss);
    CHECK(memcmp(p1, p2, (size_t)n * k * sizeof *p1) == 0 && sp.steps == sp2.steps, "two fits: the same bits");
    CHECK(sp.converged == 1 && sp.steps > 0 && sp.steps < 1000, "converged in %d iterations", sp.steps);
    CHECK(sp.flops >= (double)(sp.steps + 1) * n * m.train_flops_per_row &&
          fmod(sp.flops, (double)n * m.train_flops_per_row) == 0,
          "FLOPs %g: evaluations x rows x %g", sp.flops, m.train_flops_per_row);
    CHECK(m.train_flops_per_row == 4.0 * 4 * 3, "train FLOPs per row %g", m.train_flops_per_row);

    /* warm start: from the optimum the fit stays there (no iteration, or a few) */
    const LearnerInput X = model_rows(&ds, 0, n);
    Spent warm = {1000, 0, -1};
    model_fit(&m, &warm, &X, ds.y, 1000, 1, 1);
    model_predict(&m, p2, NULL, NULL, &X, 0, 1, 1, 0);
    double dp = 0;
    for (size_t i = 0; i < (size_t)n * k; i++) dp = fmax(dp, fabs(p1[i] - p2[i]));
    CHECK(warm.converged == 1 && warm.steps <= 2 && dp < 1e-5, "warm start: %d iterations, probabilities moved %.3g", warm.steps, dp);

    /* state: save, reset, restore gives back the predictions */
    void *state = malloc(m.ops->state_size(&m));
    m.ops->save(&m, state);
    model_reset(&m, 1);
    m.ops->restore(&m, state);
    model_predict(&m, p1, NULL, NULL, &X, 0, 1, 1, 0);
    CHECK(memcmp(p1, p2, (size_t)n * k * sizeof *p1) == 0, "state round trip");
    free(state);

    /* the cap: 3 iterations, not converged */
    const Config capped = logreg_config(1.0, 1e-4, 3);
    Model m3 = {0};
    Spent sp3;
    fit_all(&m3, &sp3, NULL, NULL, &capped, &ds);
    CHECK(sp3.steps == 3 && sp3.converged == 0, "cap 3: %d iterations, converged %d", sp3.steps, sp3.converged);
    /* no MC samples, no embeddings */
    float mc[4 * 3];
    LearnerInput one = model_rows(&ds, 0, 1);
    CHECK(model_predict(&m3, p1, mc, NULL, &one, 4, 1, 0, 0) == -1, "MC samples asked: -1");
    model_close(&m); model_close(&m2); model_close(&m3);
    free(p1); free(p2);
    dataset_free(&ds);

    Budget b = budget_for_convergence(1000, 48.0, 20);
    CHECK(b.steps == 1000 && b.samples == 20000 && b.flops == 960000.0, "budget %d %ld %g", b.steps, b.samples, b.flops);
    b = budget_for_convergence(1000, 48.0, 0);
    CHECK(b.steps == 0 && b.samples == 0 && b.flops == 0, "empty labeled set: no budget");
}

/* 5. Which strategies logreg serves. */
static void test_refusals(void) {
    Config c = logreg_config(1.0, 1e-4, 1000);
    char err[512];
    int n;
    const Strategy *all = strategy_all(&n);
    for (int i = 0; i < n; i++) {
        const int needs_more = (all[i].needs & (NEEDS_MC | NEEDS_EMB)) != 0;
        snprintf(c.strategy, sizeof c.strategy, "%s", all[i].name);
        err[0] = 0;
        const int rc = config_check(&c, CMD_RUN, err, sizeof err);
        CHECK(rc == (needs_more ? ALSIM_BAD_INPUT : 0), "%s: rc %d (%s)", all[i].name, rc, err);
        if (needs_more) CHECK(strstr(err, all[i].name) && strstr(err, "logreg") && strstr(err, "margin"), "%s: %s", all[i].name, err);
    }
    for (const char *const *s = (const char *const[]){"bald", "var-ratios", "mean-std", "rl", NULL}; *s; s++) {
        snprintf(c.strategy, sizeof c.strategy, "%s", *s);
        CHECK(config_check(&c, CMD_RUN, err, sizeof err) == ALSIM_BAD_INPUT, "%s refused", *s);
    }
    /* train-policy trains rl: refused with logreg */
    Config t;
    config_defaults(&t, CMD_TRAIN_POLICY);
    snprintf(t.model, sizeof t.model, "logreg");
    snprintf(t.train, sizeof t.train, "synthetic:blobs");
    snprintf(t.out, sizeof t.out, "/tmp/x.json");
    CHECK(config_check(&t, CMD_TRAIN_POLICY, err, sizeof err) == ALSIM_BAD_INPUT && strstr(err, "rl"), "train-policy: %s", err);
    /* the MLP serves them all */
    config_defaults(&c, CMD_RUN);
    for (int i = 0; i < n; i++) {
        snprintf(c.strategy, sizeof c.strategy, "%s", all[i].name);
        CHECK(model_check(&c, all[i].name, all[i].needs, err, sizeof err) == 0, "mlp %s: %s", all[i].name, err);
    }
}

int main(void) {
    cJSON *ref = load("tests/fixtures/logreg_ref.json");
    CHECK(ref != NULL, "tests/fixtures/logreg_ref.json: missing or malformed (run from the repository root)");
    if (ref) {
        test_against_sklearn(ref);
        test_dense_equals_csr(ref);
        test_fit_contract(ref);
    }
    test_refusals();
    cJSON_Delete(ref);
    return check_done("test_logreg");
}
