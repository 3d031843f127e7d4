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
#include "strategies/strategy.h"

/* Offsets in params: c after A (R,G), a (λ's gate weights) after c (R), a0 last. */
static size_t off_c(const Policy *p) { return (size_t)p->n_rankings * p->n_gates; }
static size_t off_a(const Policy *p) { return off_c(p) + (size_t)p->n_rankings; }
static size_t off_a0(const Policy *p) { return off_a(p) + (size_t)p->n_gates; }

static int policy_alloc(Policy *p, int n_rankings, int n_gates, const char *const *names, int base) {
    memset(p, 0, sizeof *p);
    p->n_rankings = n_rankings;
    p->n_gates = n_gates;
    p->n_features = n_rankings + n_gates;
    p->base = base;
    p->feature_names = names;
    p->n_params = off_a0(p) + 1;
    p->params = calloc(p->n_params, sizeof *p->params);
    return p->params ? 0 : -1;
}

int policy_init(Policy *p, int n_rankings, int n_gates, const char *const *names, int base) {
    return policy_alloc(p, n_rankings, n_gates, names, base);
}

void policy_free(Policy *p) {
    free(p->params);
    memset(p, 0, sizeof *p);
}

/* z (R) = A g + c, centred: z - mean(z). */
static void centred_logits(double *z, const Policy *p, const double *g) {
    const int R = p->n_rankings, G = p->n_gates;
    const float *A = p->params, *c = p->params + off_c(p);
    double mean = 0;
    for (int h = 0; h < R; h++) {
        double a = c[h];
        for (int j = 0; j < G; j++) a += (double)A[(size_t)h * G + j] * g[j];
        z[h] = a;
        mean += a;
    }
    mean /= R;
    for (int h = 0; h < R; h++) z[h] -= mean;
}

void policy_weights(double *w, const Policy *p, const double *g) {
    centred_logits(w, p, g);
    w[p->base] += 1.0;
}

void policy_forward(double *scores, const Policy *p, const double *feat, int n) {
    const int R = p->n_rankings, F = p->n_features;
    double w[POLICY_MAX_RANKINGS];
    for (int i = 0; i < n; i++) {
        const double *f = feat + (size_t)i * F;
        policy_weights(w, p, f + R);
        /* The base ranking first: with every other weight exactly 0 (the init) the score is
         * r_base itself, bit for bit. */
        double s = w[p->base] * f[p->base];
        for (int h = 0; h < R; h++)
            if (h != p->base) s += w[h] * f[h];
        scores[i] = s;
    }
}

void policy_backward(double *grad, const Policy *p, const double *feat, const double *dscores, int n) {
    /* score = r_base + Σ_h z_h (r_h - r̄), z = A g + c: d score / d z_h = r_h - r̄. */
    const int R = p->n_rankings, G = p->n_gates, F = p->n_features;
    double *gA = grad, *gc = grad + off_c(p);
    for (int i = 0; i < n; i++) {
        const double ds = dscores[i];
        if (ds == 0.0) continue;
        const double *r = feat + (size_t)i * F, *g = r + R;
        double mean = 0;
        for (int h = 0; h < R; h++) mean += r[h];
        mean /= R;
        for (int h = 0; h < R; h++) {
            const double dz = ds * (r[h] - mean);
            gc[h] += dz;
            for (int j = 0; j < G; j++) gA[(size_t)h * G + j] += dz * g[j];
        }
    }
}

/* ---- the diversity penalty ---- */

double policy_lambda(const Policy *p, const double *g) {
    const float *a = p->params + off_a(p);
    double l = p->params[off_a0(p)];
    for (int j = 0; j < p->n_gates; j++) l += (double)a[j] * g[j];
    return l;
}

int policy_has_lambda(const Policy *p) {
    for (size_t i = off_a(p); i < p->n_params; i++)
        if (p->params[i] != 0) return 1;
    return 0;
}

/* 1/‖e‖ (0 for a zero or non-finite norm) of row i of emb (n,H). */
static double inv_norm(const float *e, int h) {
    double s = 0;
    for (int j = 0; j < h; j++) s += (double)e[j] * e[j];
    return s > 0 && isfinite(s) ? 1.0 / sqrt(s) : 0.0;
}

/* cos⁺ of two rows of width h, given their inverse norms. */
static double cos_plus(const float *x, double ix, const float *y, double iy, int h) {
    if (ix == 0 || iy == 0) return 0;
    double d = 0;
    for (int j = 0; j < h; j++) d += (double)x[j] * y[j];
    const double c = d * ix * iy;
    return c > 0 ? (c < 1 ? c : 1) : 0;     /* a NaN counts as 0 */
}

/* The greedy picks: idx (b) = row indices, in the order picked, among the rows with taken[i]
 * == 0 (each pick is marked taken), each the largest score_i - lambda·red_i in select_top_b's
 * order (ids as policy_select's); with lambda != 0, red (n) the rows' redundancy so far, kept
 * up to date from emb (n,H) and inv (n) (1/‖e_i‖). Returns how many it picked. */
static int greedy(int *idx, unsigned char *taken, const double *scores, const float *emb, const double *inv,
                  double *red, int h, const int *ids, int n, int b, double lambda, uint64_t key) {
    int m = 0;
    for (; m < b; m++) {
        int best = -1;
        double vbest = 0;
        for (int i = 0; i < n; i++) {
            if (taken[i]) continue;
            /* with lambda == 0 the score itself: select_top_b's order, bit for bit */
            const double v = lambda != 0 ? scores[i] - lambda * red[i] : scores[i];
            if (best < 0 || select_ranks_before(v, ids ? ids[i] : i, vbest, ids ? ids[best] : best, key)) {
                best = i;
                vbest = v;
            }
        }
        if (best < 0) break;
        taken[best] = 1;
        idx[m] = best;
        if (lambda == 0) continue;
        const float *eb = emb + (size_t)best * h;
        for (int i = 0; i < n; i++) {
            if (taken[i]) continue;
            const double c = cos_plus(emb + (size_t)i * h, inv[i], eb, inv[best], h);
            if (c > red[i]) red[i] = c;
        }
    }
    return m;
}

int policy_select(int *picked, const double *scores, const float *emb, int h, const unsigned char *excluded,
                  const int *ids, int n, int b, double lambda, uint64_t seed, int round) {
    const int penalise = lambda != 0 && emb && h > 0 && b > 0;
    const int S = penalise ? POLICY_SHORTLIST * b : b;   /* the rows the greedy pick looks at */
    unsigned char *taken = malloc((size_t)(n > 0 ? n : 1));
    int *idx = malloc((size_t)(S > 0 ? S : 1) * sizeof *idx);
    double *red = penalise ? calloc((size_t)n, sizeof *red) : NULL;     /* s_i */
    double *inv = penalise ? malloc((size_t)n * sizeof *inv) : NULL;
    if (!taken || !idx || (penalise && (!red || !inv))) { free(taken); free(idx); free(red); free(inv); return -1; }
    for (int i = 0; i < n; i++) taken[i] = excluded && excluded[i];
    const uint64_t key = rng_key(seed, RNG_TIEBREAK, (uint64_t)round, 0);
    int m;
    if (!penalise)
        m = greedy(idx, taken, scores, NULL, NULL, NULL, h, ids, n, b, 0.0, key);
    else {
        /* the shortlist: the top S rows by score alone; then only they are left to pick from */
        const int s = greedy(idx, taken, scores, NULL, NULL, NULL, h, ids, n, S, 0.0, key);
        memset(taken, 1, (size_t)n);
        for (int k = 0; k < s; k++) taken[idx[k]] = 0;
        for (int k = 0; k < s; k++) inv[idx[k]] = inv_norm(emb + (size_t)idx[k] * h, h);
        m = greedy(idx, taken, scores, emb, inv, red, h, ids, n, b, lambda, key);
    }
    for (int k = 0; k < m; k++) picked[k] = ids ? ids[idx[k]] : idx[k];
    free(taken); free(idx); free(red); free(inv);
    return m;
}

double policy_batch_redundancy(const float *emb, int h, const int *rows, int m) {
    if (m < 2) return 0;
    double sum = 0;
    for (int a = 0; a < m; a++) {
        const float *ea = emb + (size_t)rows[a] * h;
        const double ia = inv_norm(ea, h);
        double mx = 0;
        for (int c = 0; c < m; c++) {
            if (c == a) continue;
            const float *ec = emb + (size_t)rows[c] * h;
            const double s = cos_plus(ea, ia, ec, inv_norm(ec, h), h);
            if (s > mx) mx = s;
        }
        sum += mx;
    }
    return sum / m;
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
    if (!scores || !ds) { free(scores); free(ds); return NAN; }
    policy_forward(scores, p, feat, n);
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
    policy_backward(grad, p, feat, ds, n);
    free(scores); free(ds);
    return lp;
}

/* ---- imitation ---- */

/* out (C) = softmax(x (C) / t), stable. */
static void softmax_t(double *out, const double *x, int C, double t) {
    double mx = -INFINITY, z = 0;
    for (int c = 0; c < C; c++) if (x[c] / t > mx) mx = x[c] / t;
    for (int c = 0; c < C; c++) z += out[c] = exp(x[c] / t - mx);
    for (int c = 0; c < C; c++) out[c] /= z;
}

void policy_listwise_target(double *target, const double *acc, const double *nll, int C, double tau) {
    double key[POLICY_MAX_CANDIDATES];
    for (int c = 0; c < C && c < POLICY_MAX_CANDIDATES; c++) key[c] = acc[c] - POLICY_NLL_TIEBREAK * nll[c];
    softmax_t(target, key, C < POLICY_MAX_CANDIDATES ? C : POLICY_MAX_CANDIDATES, tau);
}

double policy_listwise(double *grad, double *dlogt, const Policy *p, const double *feat, int m,
                       const int *members, const int *count, int b, int C,
                       const double *target, const double *rho, double temperature) {
    if (C < 1 || C > POLICY_MAX_CANDIDATES) return NAN;
    double *scores = malloc((size_t)(m > 0 ? m : 1) * sizeof *scores);
    double *ds = calloc((size_t)(m > 0 ? m : 1), sizeof *ds);
    if (!scores || !ds) { free(scores); free(ds); return NAN; }
    policy_forward(scores, p, feat, m);
    /* the state's gates: its first row's (every row of a round has the same) */
    const double *g = m > 0 ? feat + p->n_rankings : NULL;
    const double lambda = rho && g ? policy_lambda(p, g) : 0;
    double s[POLICY_MAX_CANDIDATES], q[POLICY_MAX_CANDIDATES], loss = 0;
    for (int c = 0; c < C; c++) {
        s[c] = 0;
        for (int a = 0; a < count[c]; a++) s[c] += scores[members[(size_t)c * b + a]];
        s[c] = count[c] ? s[c] / count[c] : 0;
        if (rho) s[c] -= lambda * rho[c];
    }
    softmax_t(q, s, C, temperature);
    for (int c = 0; c < C; c++)
        if (target[c] > 0) loss -= target[c] * log(q[c] > 0 ? q[c] : 0x1.0p-1074);
    if (dlogt)
        for (int c = 0; c < C; c++) *dlogt -= (q[c] - target[c]) * s[c] / temperature;
    if (grad) {
        for (int c = 0; c < C; c++) {
            if (!count[c]) continue;
            const double dsc = (q[c] - target[c]) / temperature / count[c];
            for (int a = 0; a < count[c]; a++) ds[members[(size_t)c * b + a]] += dsc;
        }
        policy_backward(grad, p, feat, ds, m);
        if (rho && g) {     /* d s_c / d λ = -rho_c; d λ / d a_j = g_j, d λ / d a0 = 1 */
            double dl = 0;
            for (int c = 0; c < C; c++) dl -= (q[c] - target[c]) / temperature * rho[c];
            for (int j = 0; j < p->n_gates; j++) grad[off_a(p) + (size_t)j] += dl * g[j];
            grad[off_a0(p)] += dl;
        }
    }
    free(scores); free(ds);
    return loss;
}

double policy_l2(double *grad, const Policy *p, double lambda) {
    double sum = 0;
    for (size_t i = 0; i < p->n_params; i++) {
        sum += (double)p->params[i] * p->params[i];
        if (grad) grad[i] += lambda * p->params[i];
    }
    return 0.5 * lambda * sum;
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
    jw_key(&w, "kind"); jw_str(&w, POLICY_KIND);
    jw_key(&w, "rankings"); jw_int(&w, p->n_rankings);
    jw_key(&w, "gates"); jw_int(&w, p->n_gates);
    jw_key(&w, "base"); jw_str(&w, p->feature_names[p->base]);
    jw_end(&w);
    jw_key(&w, "features");
    jw_array(&w);
    for (int f = 0; f < p->n_features; f++) jw_str(&w, p->feature_names[f]);
    jw_end(&w);
    jw_key(&w, "weights");
    jw_object(&w);
    jw_key(&w, "A");
    jw_array(&w);
    for (size_t i = 0; i < off_c(p); i++) jw_float(&w, p->params[i]);
    jw_end(&w);
    jw_key(&w, "c");
    jw_array(&w);
    for (size_t i = off_c(p); i < off_a(p); i++) jw_float(&w, p->params[i]);
    jw_end(&w);
    jw_key(&w, "lambda_a");
    jw_array(&w);
    for (size_t i = off_a(p); i < off_a0(p); i++) jw_float(&w, p->params[i]);
    jw_end(&w);
    jw_key(&w, "lambda_0");
    jw_array(&w);
    jw_float(&w, p->params[off_a0(p)]);
    jw_end(&w);
    jw_end(&w);
    jw_key(&w, "provenance");
    jw_object(&w);
    jw_key(&w, "train_datasets"); jw_str(&w, p->train_datasets);
    jw_key(&w, "episodes"); jw_int(&w, p->episodes);
    jw_key(&w, "seed"); jw_int(&w, (int64_t)p->seed);
    jw_key(&w, "algo"); jw_str(&w, p->algo);
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

int policy_load(Policy *p, const char *path, const char *const *expected, int n_rankings, int n_gates,
                char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    char *text;
    size_t got;
    int read_rc = util_read_file(&text, &got, path, err, errlen);
    if (read_rc) return read_rc;

    const int n_expected = n_rankings + n_gates;
    int rc = 2, line = 1, base = -1;
    char why[512] = "";
    double *tmp = NULL;
    cJSON *root = cJSON_ParseWithLength(text, got);
    const cJSON *arch, *names, *weights, *v;
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
    const int version = cJSON_IsNumber(v) ? v->valueint : -1;
    if (version != POLICY_VERSION && version != 2) {
        line = line_of(text, "version");
        if (cJSON_IsNumber(v) && v->valueint == 1)
            snprintf(why, sizeof why, "policy file version 1 (an MLP over raw features this alsim no longer computes) "
                     "cannot be converted; this alsim reads versions 2 and %d: train a new one with alsim train-policy",
                     POLICY_VERSION);
        else
            snprintf(why, sizeof why, "policy file version %d; this alsim reads versions 2 and %d", version,
                     POLICY_VERSION);
        goto done;
    }
    arch = cJSON_GetObjectItemCaseSensitive(root, "architecture");
    const cJSON *nr = cJSON_GetObjectItemCaseSensitive(arch, "rankings"), *ng = cJSON_GetObjectItemCaseSensitive(arch, "gates");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(arch, "kind"), *bn = cJSON_GetObjectItemCaseSensitive(arch, "base");
    line = line_of(text, "architecture");
    if (!cJSON_IsString(kind) || strcmp(kind->valuestring, POLICY_KIND) || !cJSON_IsNumber(nr) || !cJSON_IsNumber(ng) ||
        !cJSON_IsString(bn)) {
        snprintf(why, sizeof why, "\"architecture\" must be {\"kind\": \"%s\", \"rankings\": R, \"gates\": G, \"base\": NAME}", POLICY_KIND);
        goto done;
    }
    if (nr->valueint != n_rankings || ng->valueint != n_gates) {
        snprintf(why, sizeof why, "the policy has %d rankings and %d gates, this alsim computes %d and %d",
                 nr->valueint, ng->valueint, n_rankings, n_gates);
        goto done;
    }
    for (int h = 0; h < n_rankings; h++)
        if (!strcmp(bn->valuestring, expected[h])) base = h;
    if (base < 0) {
        snprintf(why, sizeof why, "\"base\" \"%s\" is not one of the rankings", bn->valuestring);
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
    if (policy_alloc(p, n_rankings, n_gates, expected, base)) { rc = ALSIM_RUNTIME; snprintf(why, sizeof why, "out of memory"); goto done; }
    weights = cJSON_GetObjectItemCaseSensitive(root, "weights");
    line = line_of(text, "weights");
    tmp = malloc(p->n_params * sizeof *tmp);
    if (!tmp) { rc = ALSIM_RUNTIME; snprintf(why, sizeof why, "out of memory"); goto done; }
    memset(tmp, 0, p->n_params * sizeof *tmp);     /* version 2: no λ, its parameters 0 */
    if (read_numbers(tmp, weights, "A", off_c(p), why, sizeof why) ||
        read_numbers(tmp + off_c(p), weights, "c", (size_t)n_rankings, why, sizeof why) ||
        (version >= 3 && (read_numbers(tmp + off_a(p), weights, "lambda_a", (size_t)n_gates, why, sizeof why) ||
                          read_numbers(tmp + off_a0(p), weights, "lambda_0", 1, why, sizeof why))))
        goto done;
    for (size_t i = 0; i < p->n_params; i++) {
        if (fabs(tmp[i]) > 1e6) { snprintf(why, sizeof why, "weight %zu is %g, beyond +-1e6", i, tmp[i]); goto done; }
        p->params[i] = (float)tmp[i];
    }
    const cJSON *prov = cJSON_GetObjectItemCaseSensitive(root, "provenance");
    copy_str(p->train_datasets, sizeof p->train_datasets, prov, "train_datasets");
    copy_str(p->algo, sizeof p->algo, prov, "algo");
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
