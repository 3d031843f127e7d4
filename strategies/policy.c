/* policy — see policy.h. */
#include "strategies/policy.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/jsonw.h"
#include "sim/util.h"

/* Offsets of the parameter blocks. */
static size_t off_b1(const Policy *p) { return (size_t)p->n_hidden * p->n_features; }
static size_t off_w2(const Policy *p) { return off_b1(p) + (size_t)p->n_hidden; }
static size_t off_b2(const Policy *p) { return off_w2(p) + (size_t)p->n_hidden; }

static int policy_alloc(Policy *p, int n_features, const char *const *names, int n_hidden) {
    memset(p, 0, sizeof *p);
    p->n_features = n_features;
    p->n_hidden = n_hidden;
    p->feature_names = names;
    p->n_params = off_b2(p) + 1;
    p->params = calloc(p->n_params, sizeof *p->params);
    for (int f = 0; f < POLICY_MAX_FEATURES; f++) p->feat_sd[f] = 1.0;
    return p->params ? 0 : -1;
}

int policy_init(Policy *p, int n_features, const char *const *names, int n_hidden, uint64_t seed) {
    if (policy_alloc(p, n_features, names, n_hidden)) return -1;
    Rng r = rng_stream(seed, RNG_POLICY, 0);
    double a1 = sqrt(6.0 / (n_features + n_hidden)), a2 = sqrt(6.0 / (n_hidden + 1));
    for (size_t i = 0; i < off_b1(p); i++) p->params[i] = (float)(a1 * (2 * rng_uniform(&r) - 1));
    for (int h = 0; h < n_hidden; h++) p->params[off_w2(p) + h] = (float)(a2 * (2 * rng_uniform(&r) - 1));
    p->seed = seed;
    return 0;
}

void policy_free(Policy *p) {
    free(p->params);
    memset(p, 0, sizeof *p);
}

void policy_forward(double *scores, double *hidden, const Policy *p, const double *feat, int n) {
    const int F = p->n_features, H = p->n_hidden;
    const float *W1 = p->params, *b1 = p->params + off_b1(p), *w2 = p->params + off_w2(p);
    const double b2 = p->params[off_b2(p)];
    double x[POLICY_MAX_FEATURES];
    for (int i = 0; i < n; i++) {
        for (int f = 0; f < F; f++) x[f] = (feat[(size_t)i * F + f] - p->feat_mean[f]) / p->feat_sd[f];
        double s = b2;
        for (int h = 0; h < H; h++) {
            double a = b1[h];
            for (int f = 0; f < F; f++) a += (double)W1[(size_t)h * F + f] * x[f];
            a = tanh(a);
            if (hidden) hidden[(size_t)i * H + h] = a;
            s += (double)w2[h] * a;
        }
        scores[i] = s;
    }
}

void policy_backward(double *grad, const Policy *p, const double *feat, const double *hidden,
                     const double *dscores, int n) {
    const int F = p->n_features, H = p->n_hidden;
    const float *w2 = p->params + off_w2(p);
    double *gW1 = grad, *gb1 = grad + off_b1(p), *gw2 = grad + off_w2(p), *gb2 = grad + off_b2(p);
    double x[POLICY_MAX_FEATURES];
    for (int i = 0; i < n; i++) {
        double ds = dscores[i];
        if (ds == 0.0) continue;
        for (int f = 0; f < F; f++) x[f] = (feat[(size_t)i * F + f] - p->feat_mean[f]) / p->feat_sd[f];
        *gb2 += ds;
        for (int h = 0; h < H; h++) {
            double a = hidden[(size_t)i * H + h];
            gw2[h] += ds * a;
            double da = ds * w2[h] * (1.0 - a * a);   /* through tanh */
            gb1[h] += da;
            for (int f = 0; f < F; f++) gW1[(size_t)h * F + f] += da * x[f];
        }
    }
}

/* ---- Plackett–Luce ---- */

static int is_eligible(const unsigned char *eligible, int i) { return !eligible || eligible[i]; }

int pl_sample(int *picks, const double *scores, const unsigned char *eligible, int n, int b, Rng *rng) {
    /* Gumbel-top-k: keep the b largest keys s_i + G_i, G_i = -log(-log U_i), by insertion into
     * a sorted list of at most b (b is small: a query batch). */
    double *keys = malloc((size_t)(b > 0 ? b : 1) * sizeof *keys);
    if (!keys) return 0;
    int m = 0;
    for (int i = 0; i < n; i++) {
        double u = rng_uniform(rng);
        if (!is_eligible(eligible, i)) continue;
        double k = scores[i] - log(-log(u > 0 ? u : 0x1.0p-53));
        if (m == b && !(k > keys[b - 1])) continue;
        int j = m < b ? m++ : b - 1;
        while (j > 0 && keys[j - 1] < k) { keys[j] = keys[j - 1]; picks[j] = picks[j - 1]; j--; }
        keys[j] = k;
        picks[j] = i;
    }
    free(keys);
    return m;
}

/* log Σ_{eligible, not excluded} exp(s_i), stable. */
static double log_sum_exp(const double *s, const unsigned char *eligible, const unsigned char *taken, int n) {
    double mx = -INFINITY, sum = 0;
    for (int i = 0; i < n; i++) if (is_eligible(eligible, i) && !taken[i] && s[i] > mx) mx = s[i];
    if (mx == -INFINITY) return -INFINITY;
    for (int i = 0; i < n; i++) if (is_eligible(eligible, i) && !taken[i]) sum += exp(s[i] - mx);
    return mx + log(sum);
}

double pl_log_prob(const double *scores, const unsigned char *eligible, int n, const int *picks, int b) {
    unsigned char *taken = calloc((size_t)n, 1);
    if (!taken) return NAN;
    double lp = 0;
    for (int k = 0; k < b; k++) {
        lp += scores[picks[k]] - log_sum_exp(scores, eligible, taken, n);
        taken[picks[k]] = 1;
    }
    free(taken);
    return lp;
}

void pl_grad(double *dscores, const double *scores, const unsigned char *eligible, int n,
             const int *picks, int b) {
    /* d/ds_j of Σ_k [s_{i_k} - logΣ_{remaining at k} exp s] = [j picked] - Σ_k softmax_k(j). */
    unsigned char *taken = calloc((size_t)n, 1);
    memset(dscores, 0, (size_t)n * sizeof *dscores);
    if (!taken) return;
    for (int k = 0; k < b; k++) {
        double lse = log_sum_exp(scores, eligible, taken, n);
        for (int i = 0; i < n; i++)
            if (is_eligible(eligible, i) && !taken[i]) dscores[i] -= exp(scores[i] - lse);
        dscores[picks[k]] += 1.0;
        taken[picks[k]] = 1;
    }
    free(taken);
}

/* The softmax over the eligible rows, q_i = exp(s_i - *mx) / z: sets *mx = the largest
 * eligible s_i and returns z. */
static double softmax_norm(double *mx, const double *s, const unsigned char *eligible, int n) {
    double m = -INFINITY, z = 0;
    for (int i = 0; i < n; i++) if (is_eligible(eligible, i) && s[i] > m) m = s[i];
    for (int i = 0; i < n; i++) if (is_eligible(eligible, i)) z += exp(s[i] - m);
    *mx = m;
    return z;
}

double pl_entropy(const double *scores, const unsigned char *eligible, int n) {
    double mx, z = softmax_norm(&mx, scores, eligible, n), h = 0;
    for (int i = 0; i < n; i++)
        if (is_eligible(eligible, i)) {
            double q = exp(scores[i] - mx) / z;
            if (q > 0) h -= q * log(q);
        }
    return h;
}

/* ---- learning ---- */

double policy_accumulate(double *grad, const Policy *p, const double *feat,
                         const unsigned char *eligible, int n, const int *picks, int b,
                         double advantage, double beta) {
    double *scores = malloc((size_t)n * sizeof *scores), *ds = malloc((size_t)n * sizeof *ds);
    double *hidden = malloc((size_t)n * p->n_hidden * sizeof *hidden);
    if (!scores || !ds || !hidden) { free(scores); free(ds); free(hidden); return NAN; }
    policy_forward(scores, hidden, p, feat, n);
    double lp = pl_log_prob(scores, eligible, n, picks, b);
    pl_grad(ds, scores, eligible, n, picks, b);
    for (int i = 0; i < n; i++) ds[i] *= advantage;
    if (beta != 0) {
        /* dH/ds_j = -q_j (log q_j + H), q = softmax over the eligible rows */
        double mx, z = softmax_norm(&mx, scores, eligible, n), h = pl_entropy(scores, eligible, n);
        for (int i = 0; i < n; i++)
            if (is_eligible(eligible, i)) {
                double q = exp(scores[i] - mx) / z;
                if (q > 0) ds[i] -= beta * q * (log(q) + h);
            }
    }
    policy_backward(grad, p, feat, hidden, ds, n);
    free(scores); free(ds); free(hidden);
    return lp;
}

void policy_adam_step(Policy *p, const double *grad, double *m, double *v, int *t, double lr) {
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    (*t)++;
    double c1 = 1 - pow(b1, *t), c2 = 1 - pow(b2, *t);
    for (size_t i = 0; i < p->n_params; i++) {
        m[i] = b1 * m[i] + (1 - b1) * grad[i];
        v[i] = b2 * v[i] + (1 - b2) * grad[i] * grad[i];
        p->params[i] += (float)(lr * (m[i] / c1) / (sqrt(v[i] / c2) + eps));
    }
}

/* ---- the file ---- */

int policy_save(const Policy *p, const char *path, char *err, size_t errlen) {
    char tmp[4200];
    FILE *out = util_open_atomic(tmp, path, err, errlen);
    if (!out) return ALSIM_RUNTIME;
    JsonW w;
    jw_init(&w, out, 1);
    jw_object(&w);
    jw_key(&w, "format"); jw_str(&w, POLICY_FORMAT);
    jw_key(&w, "version"); jw_int(&w, POLICY_VERSION);
    jw_key(&w, "architecture");
    jw_object(&w);
    jw_key(&w, "kind"); jw_str(&w, "mlp-tanh");
    jw_key(&w, "features"); jw_int(&w, p->n_features);
    jw_key(&w, "hidden"); jw_int(&w, p->n_hidden);
    jw_end(&w);
    jw_key(&w, "features");
    jw_array(&w);
    for (int f = 0; f < p->n_features; f++) jw_str(&w, p->feature_names[f]);
    jw_end(&w);
    jw_key(&w, "normalisation");
    jw_object(&w);
    jw_key(&w, "mean"); jw_array(&w);
    for (int f = 0; f < p->n_features; f++) jw_num(&w, p->feat_mean[f]);
    jw_end(&w);
    jw_key(&w, "sd"); jw_array(&w);
    for (int f = 0; f < p->n_features; f++) jw_num(&w, p->feat_sd[f]);
    jw_end(&w);
    jw_end(&w);
    const char *blocks[] = {"W1", "b1", "w2", "b2"};
    size_t starts[] = {0, off_b1(p), off_w2(p), off_b2(p), p->n_params};
    jw_key(&w, "weights");
    jw_object(&w);
    for (int k = 0; k < 4; k++) {
        jw_key(&w, blocks[k]);
        jw_array(&w);
        for (size_t i = starts[k]; i < starts[k + 1]; i++) jw_float(&w, p->params[i]);
        jw_end(&w);
    }
    jw_end(&w);
    jw_key(&w, "provenance");
    jw_object(&w);
    jw_key(&w, "train_datasets"); jw_str(&w, p->train_datasets);
    jw_key(&w, "episodes"); jw_int(&w, p->episodes);
    jw_key(&w, "seed"); jw_int(&w, (int64_t)p->seed);
    jw_key(&w, "reward"); jw_str(&w, p->reward);
    jw_key(&w, "git_revision"); jw_str(&w, p->git_revision);
    jw_end(&w);
    jw_end(&w);
    jw_finish(&w);
    return util_commit_atomic(out, 1, tmp, path, err, errlen);
}

/* The line of the first "key" in text (for messages). */
static int line_of(const char *text, const char *key) {
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *at = strstr(text, pat);
    int line = 1;
    for (const char *q = text; at && q < at; q++) line += *q == '\n';
    return line;
}

/* Reads a numeric array member of obj into out (n) as doubles; returns 0, or -1 with why. */
static int read_numbers(double *out, const cJSON *obj, const char *name, size_t n, char *why, size_t whylen) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsArray(a)) { snprintf(why, whylen, "\"%s\" is missing or not an array", name); return -1; }
    if ((size_t)cJSON_GetArraySize(a) != n) {
        snprintf(why, whylen, "\"%s\" has %d numbers, the architecture needs %zu", name, cJSON_GetArraySize(a), n);
        return -1;
    }
    size_t i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble)) {
            snprintf(why, whylen, "\"%s\"[%zu] is not a finite number", name, i);
            return -1;
        }
        out[i] = e->valuedouble;
    }
    return 0;
}

static void copy_str(char *dst, size_t len, const cJSON *obj, const char *name) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, name);
    snprintf(dst, len, "%s", cJSON_IsString(s) ? s->valuestring : "");
}

int policy_load(Policy *p, const char *path, const char *const *expected, int n_expected,
                char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    char *text;
    size_t got;
    int read_rc = util_read_file(&text, &got, path, err, errlen);
    if (read_rc) return read_rc;

    int rc = 2, line = 1;
    char why[512] = "";
    double *tmp = NULL;
    cJSON *root = cJSON_ParseWithLength(text, got);
    const cJSON *arch, *names, *norm, *weights, *v;
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        for (const char *q = text; at && q < at && *q; q++) line += *q == '\n';
        snprintf(why, sizeof why, "malformed JSON");
        goto done;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(v) || strcmp(v->valuestring, POLICY_FORMAT)) {
        line = line_of(text, "format");
        snprintf(why, sizeof why, "not an alsim policy file (\"format\" must be \"%s\")", POLICY_FORMAT);
        goto done;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsNumber(v) || v->valueint != POLICY_VERSION) {
        line = line_of(text, "version");
        snprintf(why, sizeof why, "policy file version %d; this alsim reads version %d", cJSON_IsNumber(v) ? v->valueint : -1, POLICY_VERSION);
        goto done;
    }
    arch = cJSON_GetObjectItemCaseSensitive(root, "architecture");
    const cJSON *nf = cJSON_GetObjectItemCaseSensitive(arch, "features"), *nh = cJSON_GetObjectItemCaseSensitive(arch, "hidden");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(arch, "kind");
    line = line_of(text, "architecture");
    if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "mlp-tanh") || !cJSON_IsNumber(nf) || !cJSON_IsNumber(nh) ||
        nh->valueint < 1 || nh->valueint > 4096) {
        snprintf(why, sizeof why, "\"architecture\" must be {\"kind\": \"mlp-tanh\", \"features\": F, \"hidden\": 1..4096}");
        goto done;
    }
    if (nf->valueint != n_expected) {
        snprintf(why, sizeof why, "the policy has %d features, this alsim computes %d", nf->valueint, n_expected);
        goto done;
    }
    names = cJSON_GetObjectItemCaseSensitive(root, "features");
    line = line_of(text, "features");
    if (!cJSON_IsArray(names) || cJSON_GetArraySize(names) != n_expected) {
        snprintf(why, sizeof why, "\"features\" must list the %d feature names", n_expected);
        goto done;
    }
    int fi = 0;
    for (const cJSON *e = names->child; e; e = e->next, fi++)
        if (!cJSON_IsString(e) || strcmp(e->valuestring, expected[fi])) {
            snprintf(why, sizeof why, "feature %d is \"%s\", this alsim computes \"%s\" there", fi,
                     cJSON_IsString(e) ? e->valuestring : "?", expected[fi]);
            goto done;
        }
    if (policy_alloc(p, n_expected, expected, nh->valueint)) { rc = ALSIM_RUNTIME; snprintf(why, sizeof why, "out of memory"); goto done; }
    norm = cJSON_GetObjectItemCaseSensitive(root, "normalisation");
    line = line_of(text, "normalisation");
    if (read_numbers(p->feat_mean, norm, "mean", (size_t)n_expected, why, sizeof why) ||
        read_numbers(p->feat_sd, norm, "sd", (size_t)n_expected, why, sizeof why))
        goto done;
    for (int k = 0; k < n_expected; k++)
        if (!(p->feat_sd[k] > 0)) { snprintf(why, sizeof why, "\"sd\"[%d] must be > 0", k); goto done; }
    weights = cJSON_GetObjectItemCaseSensitive(root, "weights");
    line = line_of(text, "weights");
    const char *blocks[] = {"W1", "b1", "w2", "b2"};
    size_t starts[] = {0, off_b1(p), off_w2(p), off_b2(p), p->n_params};
    tmp = malloc(p->n_params * sizeof *tmp);
    if (!tmp) { rc = ALSIM_RUNTIME; snprintf(why, sizeof why, "out of memory"); goto done; }
    for (int k = 0; k < 4; k++) {
        if (read_numbers(tmp + starts[k], weights, blocks[k], starts[k + 1] - starts[k], why, sizeof why)) goto done;
    }
    for (size_t i = 0; i < p->n_params; i++) p->params[i] = (float)tmp[i];
    const cJSON *prov = cJSON_GetObjectItemCaseSensitive(root, "provenance");
    copy_str(p->train_datasets, sizeof p->train_datasets, prov, "train_datasets");
    copy_str(p->reward, sizeof p->reward, prov, "reward");
    copy_str(p->git_revision, sizeof p->git_revision, prov, "git_revision");
    v = cJSON_GetObjectItemCaseSensitive(prov, "episodes");
    p->episodes = cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
    v = cJSON_GetObjectItemCaseSensitive(prov, "seed");
    p->seed = cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : 0;
    rc = 0;
done:
    if (rc) {
        snprintf(err, errlen, "%s: line %d: %s", path, line, why);
        policy_free(p);
    }
    free(tmp);
    cJSON_Delete(root);
    free(text);
    return rc;
}
