/* logreg — L2-regularised logistic regression fitted to convergence every round, as a model
 * (model.h): the learner of tabular active-learning studies, scikit-learn's
 * LogisticRegression with its defaults (lbfgs, C = 1, an intercept).
 *
 * The loss of the labeled rows x_i (D), y_i, with weights W (Kr,D) and intercepts b (Kr):
 *
 *     f(W, b) = Σ_i [ log Σ_c exp z_ic - z_i,y_i ] + ||W||² / (2C)     (b not penalised)
 *
 * K > 2: Kr = K, z_i = W x_i + b (scikit-learn's symmetric multinomial). K = 2: Kr = 1,
 * z_i0 = 0, z_i1 = w·x_i + b: the binomial loss scikit-learn fits for two classes (the
 * symmetric two-row form would be the binomial with 2C). A class with no labeled row yet gets
 * z = -inf, probability 0, until it has one, as scikit-learn, which fits the classes it sees.
 *
 * Fitting: L-BFGS (LOGREG_PAIRS correction pairs, a Wolfe line search by bisection) from the
 * current weights, zero after model_reset, until no component of f's gradient exceeds --tol
 * in size (scikit-learn's lbfgs criterion, on the same unscaled f) or --max-iter iterations.
 * The cap is the round's budget (model.max_iter, budget_for_convergence), the same for every
 * strategy; the fit reports the iterations it took, the FLOPs of its function-gradient
 * evaluations and whether it converged (Spent, in rounds.jsonl). The loop, the line search and
 * the sums run in a fixed order in double precision (dense rows through OpenBLAS dgemm), so a
 * fit is a deterministic function of the labeled rows. f has one minimum in W (and b, from the
 * zero start): --warm-start starts from the previous round's weights and ends at the same
 * model within the tolerance. The steps of --epochs, --lr and --minibatch do not apply.
 *
 * It runs on the host whatever --device. It has no dropout and no hidden layer: no MC
 * samples, no embeddings; strategies that need them are refused (logreg_check).
 */
#include "sim/model.h"
#include "sim/util.h"
#include "strategies/strategy.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LOGREG_PAIRS 10         /* L-BFGS (s, y) pairs kept */
#define LOGREG_LINE_EVALS 40    /* evaluations a line search may take */
#define LOGREG_PRED_ROWS 256    /* dense rows converted to double at a time in predict */

typedef struct {
    int d, k, kr;               /* features D, classes K, weight rows Kr (1 when K = 2) */
    int sparse;                 /* CSR rows */
    double c, tol;
    size_t np;                  /* parameters: Kr·D + Kr */
    double *theta;              /* (np) W (Kr,D) row-major, then b (Kr) */
    double *present;            /* (K) 1: the class had labeled rows at the last fit */
    /* L-BFGS state, (np) each, and the pairs (LOGREG_PAIRS, np) */
    double *g, *x1, *g1, *dir, *s, *y;
    double rho[LOGREG_PAIRS], alpha[LOGREG_PAIRS];
    double *zk;                 /* (K) one row's logits */
    double *pred_x;             /* (LOGREG_PRED_ROWS, D) dense rows in double (predict) */
    double *pred_z;             /* (LOGREG_PRED_ROWS, Kr) */
    /* Fit scratch, grown with the labeled set: rows in double and the logits/residuals. */
    double *xd;                 /* (n,D) dense only */
    double *z;                  /* (n,Kr) */
    size_t cap_rows;
    double ce;                  /* the last evaluation's summed cross-entropy */
} LogReg;

static LogReg *LR_of(const Model *m) { return m->impl; }

static double dot(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* ---- the loss ---- */

/* z (n,Kr) = X Wᵀ for rows X given as xd (dense, in double) or CSR. */
static void logits(double *z, const LogReg *lr, const double *W, const double *xd,
                   const LearnerInput *X) {
    const int n = X->n, D = lr->d, Kr = lr->kr;
    if (!lr->sparse) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, Kr, D, 1.0, xd, D, W, D, 0.0, z, Kr);
        return;
    }
    for (int i = 0; i < n; i++)
        for (int r = 0; r < Kr; r++) {
            double acc = 0;
            for (int64_t p = X->indptr[i]; p < X->indptr[i + 1]; p++)
                acc += (double)X->values[p] * W[(size_t)r * D + X->indices[p]];
            z[(size_t)i * Kr + r] = acc;
        }
}

/* zk (K): row i's logits of every class from its z (Kr) and b (Kr); -inf for an absent class. */
static void class_logits(double *zk, const LogReg *lr, const double *zi, const double *b) {
    for (int c = 0; c < lr->k; c++)
        zk[c] = !lr->present[c] ? -INFINITY : lr->kr == lr->k ? zi[c] + b[c] : c == 0 ? 0.0 : zi[0] + b[0];
}

/* log Σ_c exp zk[c] over K classes, at least one finite. */
static double log_sum_exp(const double *zk, int k) {
    double mx = -INFINITY, s = 0;
    for (int c = 0; c < k; c++) if (zk[c] > mx) mx = zk[c];
    for (int c = 0; c < k; c++) s += exp(zk[c] - mx);
    return mx + log(s);   // cppcheck-suppress invalidFunctionArg ; s >= 1: the largest term is exp(0)
}

/* f at theta (np) on the labeled rows, and its gradient grad (np). lr->ce receives the
 * summed cross-entropy. */
static double loss_grad(double *grad, LogReg *lr, const double *theta, const LearnerInput *X,
                        const int32_t *y) {
    const int n = X->n, D = lr->d, K = lr->k, Kr = lr->kr;
    const double *W = theta, *b = theta + (size_t)Kr * D;
    double *z = lr->z;
    logits(z, lr, W, lr->xd, X);
    /* Each row's cross-entropy; z becomes the residuals p - onehot(y) of the weight rows. */
    double ce = 0;
    for (int i = 0; i < n; i++) {
        double *zi = z + (size_t)i * Kr;
        class_logits(lr->zk, lr, zi, b);
        const double lse = log_sum_exp(lr->zk, K);
        ce += lse - lr->zk[y[i]];
        if (Kr == K)
            for (int c = 0; c < K; c++) zi[c] = exp(lr->zk[c] - lse) - (c == y[i]);
        else
            zi[0] = exp(lr->zk[1] - lse) - (y[i] == 1);
    }
    /* ∇W = Rᵀ X + W / C, ∇b = Σ_i R_i. */
    double *gW = grad, *gb = grad + (size_t)Kr * D;
    if (!lr->sparse) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Kr, D, n, 1.0, z, Kr, lr->xd, D, 0.0, gW, D);
    } else {
        memset(gW, 0, (size_t)Kr * D * sizeof *gW);
        for (int i = 0; i < n; i++)
            for (int r = 0; r < Kr; r++) {
                const double ri = z[(size_t)i * Kr + r];
                for (int64_t p = X->indptr[i]; p < X->indptr[i + 1]; p++)
                    gW[(size_t)r * D + X->indices[p]] += ri * X->values[p];
            }
    }
    for (int r = 0; r < Kr; r++) {
        double s = 0;
        for (int i = 0; i < n; i++) s += z[(size_t)i * Kr + r];
        gb[r] = s;
    }
    double w2 = 0;
    for (size_t j = 0; j < (size_t)Kr * D; j++) {
        w2 += W[j] * W[j];
        gW[j] += W[j] / lr->c;
    }
    lr->ce = ce;
    return ce + w2 / (2.0 * lr->c);
}

/* ---- L-BFGS ---- */

static double max_abs(const double *v, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) if (fabs(v[i]) > m) m = fabs(v[i]);
    return m;
}

/* Minimises f from lr->theta, in place, for at most max_iter iterations. *iters, *evals:
 * iterations and function-gradient evaluations taken; lr->ce: the summed cross-entropy at the
 * weights kept. Returns 1 when max |∇f| <= tol was met, 0 otherwise (the cap, or a line
 * search that found no acceptable step). */
static int lbfgs(int *iters, int *evals, LogReg *lr, const LearnerInput *X, const int32_t *y,
                 int max_iter) {
    const size_t np = lr->np;
    double *x = lr->theta, *g = lr->g, *x1 = lr->x1, *g1 = lr->g1, *d = lr->dir;
    int pairs = 0, newest = -1, converged = 0;
    double f = loss_grad(g, lr, x, X, y), ce = lr->ce;
    *evals = 1;
    *iters = 0;
    for (;;) {
        const double gmax = max_abs(g, np);
        if (gmax <= lr->tol) { converged = 1; break; }
        if (*iters >= max_iter || !isfinite(f)) break;
        /* d = -H g by the two-loop recursion over the pairs, newest first. */
        memcpy(d, g, np * sizeof *d);
        for (int j = 0, at = newest; j < pairs; j++, at = (at + LOGREG_PAIRS - 1) % LOGREG_PAIRS) {
            lr->alpha[at] = lr->rho[at] * dot(lr->s + at * np, d, np);
            for (size_t i = 0; i < np; i++) d[i] -= lr->alpha[at] * lr->y[at * np + i];
        }
        if (pairs) {
            const double *sn = lr->s + newest * np, *yn = lr->y + newest * np;
            const double gamma = dot(sn, yn, np) / dot(yn, yn, np);
            for (size_t i = 0; i < np; i++) d[i] *= gamma;
        }
        for (int j = 0, at = (newest + LOGREG_PAIRS - pairs + 1) % LOGREG_PAIRS; j < pairs;
             j++, at = (at + 1) % LOGREG_PAIRS) {
            const double beta = lr->rho[at] * dot(lr->y + at * np, d, np);
            for (size_t i = 0; i < np; i++) d[i] += (lr->alpha[at] - beta) * lr->s[at * np + i];
        }
        for (size_t i = 0; i < np; i++) d[i] = -d[i];
        double gd = dot(g, d, np);
        if (!(gd < 0)) {        /* not a descent direction (rounding): steepest descent */
            pairs = 0;
            for (size_t i = 0; i < np; i++) d[i] = -g[i];
            gd = -dot(g, g, np);
        }
        /* A step t with f(x + t d) <= f + 1e-4 t gd and ∇f(x + t d)·d >= 0.9 gd (Wolfe);
         * the first iteration tries 1/||g||, as scipy's L-BFGS-B. */
        double t = pairs ? 1.0 : fmin(1.0, 1.0 / sqrt(-gd)), lo = 0, hi = INFINITY, f1 = NAN;
        int ok = 0;
        for (int e = 0; e < LOGREG_LINE_EVALS && !ok; e++) {
            for (size_t i = 0; i < np; i++) x1[i] = x[i] + t * d[i];
            f1 = loss_grad(g1, lr, x1, X, y);
            ++*evals;
            if (!isfinite(f1) || f1 > f + 1e-4 * t * gd) hi = t;
            else if (dot(g1, d, np) < 0.9 * gd) lo = t;
            else { ok = 1; break; }
            t = isinf(hi) ? 2 * t : 0.5 * (lo + hi);
        }
        if (!ok) break;         /* no progress possible at this precision */
        /* The new pair s = x1 - x, y = g1 - g, kept when its curvature is positive. */
        const int at = (newest + 1) % LOGREG_PAIRS;
        double *sa = lr->s + at * np, *ya = lr->y + at * np;
        for (size_t i = 0; i < np; i++) { sa[i] = x1[i] - x[i]; ya[i] = g1[i] - g[i]; }
        const double sy = dot(sa, ya, np);
        if (sy > 1e-12 * dot(ya, ya, np)) {
            lr->rho[at] = 1.0 / sy;
            newest = at;
            if (pairs < LOGREG_PAIRS) pairs++;
        }
        memcpy(x, x1, np * sizeof *x);
        memcpy(g, g1, np * sizeof *g);
        f = f1;
        ce = lr->ce;
        ++*iters;
    }
    lr->ce = ce;
    return converged && isfinite(f);
}

/* ---- the model ---- */

static int logreg_check(const Config *c, const char *strategy, int needs, char *err,
                        size_t errlen) {
    if (!(needs & (NEEDS_MC | NEEDS_EMB))) return 0;
    char ok[256] = "";      /* the strategies it serves: those that need probabilities at most */
    int n_st;
    const Strategy *all = strategy_all(&n_st);
    size_t len = 0;
    for (int i = 0; i < n_st && len < sizeof ok; i++)
        if (!(all[i].needs & (NEEDS_MC | NEEDS_EMB)))
            len += (size_t)snprintf(ok + len, sizeof ok - len, "%s%s", len ? ", " : "", all[i].name);
    const int mc = (needs & NEEDS_MC) != 0, emb = (needs & NEEDS_EMB) != 0;
    snprintf(err, errlen, "--strategy %s needs %s%s%s, which --model logreg does not have (%s%s%s); "
             "with logreg use one of: %s", strategy, mc ? "MC-dropout samples" : "", mc && emb ? " and " : "",
             emb ? "the model's embeddings" : "", mc ? "no dropout" : "", mc && emb ? ", " : "",
             emb ? "no hidden layer" : "", ok);
    return ALSIM_BAD_INPUT;
}

static void logreg_destroy(Model *m) {
    LogReg *lr = LR_of(m);
    if (!lr) return;
    free(lr->theta); free(lr->present); free(lr->g); free(lr->x1); free(lr->g1); free(lr->dir);
    free(lr->s); free(lr->y); free(lr->zk); free(lr->pred_x); free(lr->pred_z); free(lr->xd);
    free(lr->z);
    free(lr);
}

static int logreg_create(Model *m, const Config *c, const Dataset *pool, const Backend *be,
                         char *err, size_t errlen) {
    LogReg *lr = calloc(1, sizeof *lr);
    if (!lr) { snprintf(err, errlen, "out of memory for the model"); return ALSIM_RUNTIME; }
    m->impl = lr;
    lr->d = pool->d;
    lr->k = pool->k;
    lr->kr = pool->k == 2 ? 1 : pool->k;
    lr->sparse = pool->x == NULL;
    lr->c = c->logreg_c;
    lr->tol = c->tol;
    lr->np = (size_t)lr->kr * lr->d + lr->kr;
    const size_t np = lr->np;
    lr->theta = calloc(np, sizeof *lr->theta);
    lr->present = calloc((size_t)lr->k, sizeof *lr->present);
    lr->g = malloc(np * sizeof *lr->g);
    lr->x1 = malloc(np * sizeof *lr->x1);
    lr->g1 = malloc(np * sizeof *lr->g1);
    lr->dir = malloc(np * sizeof *lr->dir);
    lr->s = malloc(LOGREG_PAIRS * np * sizeof *lr->s);
    lr->y = malloc(LOGREG_PAIRS * np * sizeof *lr->y);
    lr->zk = malloc((size_t)lr->k * sizeof *lr->zk);
    lr->pred_z = malloc((size_t)LOGREG_PRED_ROWS * lr->kr * sizeof *lr->pred_z);
    lr->pred_x = lr->sparse ? NULL : malloc((size_t)LOGREG_PRED_ROWS * lr->d * sizeof *lr->pred_x);
    if (!lr->theta || !lr->present || !lr->g || !lr->x1 || !lr->g1 || !lr->dir || !lr->s || !lr->y ||
        !lr->zk || !lr->pred_z || (!lr->sparse && !lr->pred_x)) {
        logreg_destroy(m);
        m->impl = NULL;
        snprintf(err, errlen, "out of memory for logreg on %s (%d features, %d classes)", pool->name, pool->d, pool->k);
        return ALSIM_RUNTIME;
    }
    const double in = lr->sparse ? (pool->n ? (double)pool->indptr[pool->n] / pool->n : 0.0) : lr->d;
    m->k = lr->k;
    m->emb_width = 0;
    m->minibatch = 0;               /* full batch */
    m->max_iter = c->max_iter;
    m->macs_per_row = in * lr->kr;
    m->train_flops_per_row = 4.0 * in * lr->kr;     /* logits and ∇W: two matmuls an evaluation */
    return 0;
}

/* Zero weights: every fit from a reset starts at the same point, whatever the seed. */
static void logreg_reset(Model *m, uint64_t seed) {
    LogReg *lr = LR_of(m);
    memset(lr->theta, 0, lr->np * sizeof *lr->theta);
    for (int c = 0; c < lr->k; c++) lr->present[c] = 0;
}

/* Grows the fit scratch to n rows. 0, or -1 when out of memory. */
static int reserve_rows(LogReg *lr, int n) {
    if ((size_t)n <= lr->cap_rows) return 0;
    double *z = realloc(lr->z, (size_t)n * lr->kr * sizeof *z);
    if (!z) return -1;
    lr->z = z;
    if (!lr->sparse) {
        double *xd = realloc(lr->xd, (size_t)n * lr->d * sizeof *xd);
        if (!xd) return -1;
        lr->xd = xd;
    }
    lr->cap_rows = (size_t)n;
    return 0;
}

static double logreg_fit(Model *m, Spent *spent, const LearnerInput *X, const int32_t *y,
                         int steps, uint64_t seed, int round) {
    LogReg *lr = LR_of(m);
    const int n = X->n;
    if (n <= 0) return NAN;
    if (reserve_rows(lr, n)) return NAN;
    if (!lr->sparse)
        for (size_t i = 0; i < (size_t)n * lr->d; i++) lr->xd[i] = X->x[i];
    for (int c = 0; c < lr->k; c++) lr->present[c] = 0;
    for (int i = 0; i < n; i++) lr->present[y[i]] = 1;
    int iters = 0, evals = 0;
    const int converged = lbfgs(&iters, &evals, lr, X, y, steps);
    spent->steps = iters;
    spent->flops = (double)evals * n * m->train_flops_per_row;
    spent->converged = converged;
    return lr->ce / n;
}

/* probs (n,K) of rows X; no MC samples and no embeddings (logreg_check refuses the strategies
 * that need them): -1 when asked for MC samples. */
static int logreg_predict(Model *m, float *probs, float *mc, float *emb, const LearnerInput *X,
                          int T, uint64_t seed, int round, int64_t row0) {
    LogReg *lr = LR_of(m);
    if ((mc && T > 0) || emb) return -1;
    if (!probs) return 0;
    const int D = lr->d, K = lr->k, Kr = lr->kr;
    const double *b = lr->theta + (size_t)Kr * D;
    for (int off = 0; off < X->n; off += LOGREG_PRED_ROWS) {
        const int nb = X->n - off < LOGREG_PRED_ROWS ? X->n - off : LOGREG_PRED_ROWS;
        LearnerInput xb = learner_input_rows(X, off, nb);
        if (!lr->sparse)
            for (size_t i = 0; i < (size_t)nb * D; i++) lr->pred_x[i] = xb.x[i];
        logits(lr->pred_z, lr, lr->theta, lr->pred_x, &xb);
        for (int i = 0; i < nb; i++) {
            class_logits(lr->zk, lr, lr->pred_z + (size_t)i * Kr, b);
            const double lse = log_sum_exp(lr->zk, K);
            float *p = probs + (size_t)(off + i) * K;
            for (int c = 0; c < K; c++) p[c] = (float)exp(lr->zk[c] - lse);
        }
    }
    return 0;
}

/* State: theta (np) then present (K), as doubles. */
static size_t logreg_state_size(const Model *m) {
    const LogReg *lr = LR_of(m);
    return (lr->np + (size_t)lr->k) * sizeof(double);
}

static void logreg_save(const Model *m, void *state) {
    const LogReg *lr = LR_of(m);
    double *p = state;
    memcpy(p, lr->theta, lr->np * sizeof *p);
    memcpy(p + lr->np, lr->present, (size_t)lr->k * sizeof *p);
}

static void logreg_restore(Model *m, const void *state) {
    LogReg *lr = LR_of(m);
    const double *p = state;
    memcpy(lr->theta, p, lr->np * sizeof *p);
    memcpy(lr->present, p + lr->np, (size_t)lr->k * sizeof *p);
}

const ModelOps model_logreg = {
    "logreg", "L2 logistic regression fitted to convergence by L-BFGS (--C, --max-iter, --tol), as scikit-learn's",
    logreg_create, logreg_check, logreg_destroy, logreg_reset, logreg_fit, logreg_predict, NULL,
    logreg_state_size, logreg_save, logreg_restore,
};
