/* conv_direct — convolutions without im2col, AVX-512 over the cores (contract: conv_direct.h).
 *
 * Layout of every kernel here: a "plane" is one channel of one image, H·W floats row-major. A
 * tap t = (c·k + i)·k + j of a k x k kernel reads plane c shifted by i·W + j; off[t] holds that
 * shift. A Lanes table says, for each 16-wide vector v of wide positions q = 16v.., which lanes
 * are real outputs (mask[v]) and where they go in the packed output (dest[v]): lanes are
 * packed with a compress, so the dropped columns x >= OW close up into rows of OW.
 */
#include "sim/conv_direct.h"

#include <stdlib.h>
#include <string.h>

#include "sim/backend.h"

#if defined(__AVX512F__)
#include <immintrin.h>

#include "sim/parallel.h"

enum {
    OB = 4,         /* output channels of a tile, in registers */
    VT = 6,         /* 16-wide vectors of positions of a tile: 4 x 96 outputs, 24 registers */
    TB = 4,         /* taps of a weight-gradient tile: 4 x 4 dot products, 16 registers */
    DW_GROUP = 8,   /* images a weight-gradient tile sums in registers before it adds them to
                       dweight: their padded output gradients and inputs stay in L2 while a
                       thread runs through its tiles */
};

static int enabled = 1;

int conv_direct_compiled(void) { return 1; }

void conv_direct_enable(int on) { enabled = on; }

/* Where a plane's wide positions q < Q land; vector v keeps the lanes of mask[v] (q < Q and
 * q mod W < keep) and writes them from dest[v] on. VT zero masks follow the last vector, so a
 * tile that runs past the end loads and stores nothing there. */
typedef struct {
    int nvec;
    __mmask16 *mask;    /* (nvec + VT) */
    int *dest;          /* (nvec + VT) */
} Lanes;

static void lanes_free(Lanes *l) {
    free(l->mask);
    free(l->dest);
}

/* Returns 1, or 0 when out of memory. */
static int lanes_make(Lanes *l, int Q, int W, int keep) {
    l->nvec = (Q + 15) / 16;
    l->mask = calloc((size_t)l->nvec + VT, sizeof *l->mask);
    l->dest = calloc((size_t)l->nvec + VT, sizeof *l->dest);
    if (!l->mask || !l->dest) {
        lanes_free(l);
        return 0;
    }
    int kept = 0;
    for (int v = 0; v < l->nvec; v++) {
        unsigned m = 0;
        l->dest[v] = kept;
        for (int b = 0; b < 16; b++) {
            const int q = 16 * v + b;
            if (q < Q && q % W < keep) {
                m |= 1u << b;
                kept++;
            }
        }
        l->mask[v] = (__mmask16)m;
    }
    return 1;
}

/* A tile's kernels packed: wp (ceil(M/OB), T, OB) zeroed, entry (m, t) at wp_at(T, m, t). */
static float *pack_alloc(int M, int T) {
    return calloc((size_t)(M + OB - 1) / OB * T * OB, sizeof(float));
}

static size_t wp_at(int T, int m, int t) { return ((size_t)(m / OB) * T + t) * OB + m % OB; }

/* The forward's kernels: (m, t) = weight[m, t] of weight (M, T). NULL when out of memory. */
static float *pack_forward(const float *weight, int M, int T) {
    float *wp = pack_alloc(M, T);
    if (wp)
        for (int m = 0; m < M; m++)
            for (int t = 0; t < T; t++) wp[wp_at(T, m, t)] = weight[(size_t)m * T + t];
    return wp;
}

/* The input gradient's kernels: channel c's tap (o, i', j') is weight[o, c, k-1-i', k-1-j'] of
 * weight (OC, C, k, k): (c, o·k·k + r) = weight[(o·C + c)·k·k + k·k-1-r]. NULL when out of
 * memory. */
static float *pack_flipped(const float *weight, int C, int OC, int k) {
    const int kk = k * k, T = OC * kk;
    float *wp = pack_alloc(C, T);
    if (wp)
        for (int c = 0; c < C; c++)
            for (int o = 0; o < OC; o++)
                for (int r = 0; r < kk; r++)
                    wp[wp_at(T, c, o * kk + r)] = weight[((size_t)o * C + c) * kk + kk - 1 - r];
    return wp;
}

/* Row o of a tile, its VT vectors r (v0..v0+VT-1 of l): each vector's kept lanes (+ b when
 * has_bias), packed, stored from dst + dest. */
static void tile_put(float *dst, const Lanes *l, int v0, const __m512 r[VT], int has_bias,
                     float b) {
    for (int v = 0; v < VT; v++) {
        const __mmask16 mask = l->mask[v0 + v];
        if (!mask) continue;
        const __m512 x = has_bias ? _mm512_add_ps(r[v], _mm512_set1_ps(b)) : r[v];
        const unsigned n = (unsigned)__builtin_popcount(mask);
        _mm512_mask_storeu_ps(dst + l->dest[v0 + v], (__mmask16)((1u << n) - 1),
                              _mm512_maskz_compress_ps(mask, x));
    }
}

/* One output tile: for o < mo and the vectors v0..v0+VT-1 of l,
 *   out[o·plane + dest] = Σ_{t<T} wp[t·OB + o] · in[off[t] + q]  (+ bias[o] when bias)
 * wp (T, OB) the tile's kernels packed tap-major; in the first input plane. The 24
 * accumulators are named variables (aOV), not an array, so that they live in registers. */
static void tile(float *out, size_t plane, int mo, const float *in, const int *off,
                 const float *wp, int T, const Lanes *l, int v0, const float *bias) {
    const __m512 z = _mm512_setzero_ps();
#define ROW(o) __m512 a##o##0 = z, a##o##1 = z, a##o##2 = z, a##o##3 = z, a##o##4 = z, a##o##5 = z
    ROW(0); ROW(1); ROW(2); ROW(3);
#undef ROW
    const __mmask16 *mask = l->mask + v0;
    const __mmask16 m0 = mask[0], m1 = mask[1], m2 = mask[2], m3 = mask[3], m4 = mask[4], m5 = mask[5];
    for (int t = 0; t < T; t++) {
        const float *src = in + off[t] + 16 * v0;
        const __m512 x0 = _mm512_maskz_loadu_ps(m0, src), x1 = _mm512_maskz_loadu_ps(m1, src + 16),
                     x2 = _mm512_maskz_loadu_ps(m2, src + 32), x3 = _mm512_maskz_loadu_ps(m3, src + 48),
                     x4 = _mm512_maskz_loadu_ps(m4, src + 64), x5 = _mm512_maskz_loadu_ps(m5, src + 80);
#define FMA(o)                                                                                     \
    do {                                                                                           \
        const __m512 w = _mm512_set1_ps(wp[t * OB + o]);                                          \
        a##o##0 = _mm512_fmadd_ps(x0, w, a##o##0); a##o##1 = _mm512_fmadd_ps(x1, w, a##o##1);     \
        a##o##2 = _mm512_fmadd_ps(x2, w, a##o##2); a##o##3 = _mm512_fmadd_ps(x3, w, a##o##3);     \
        a##o##4 = _mm512_fmadd_ps(x4, w, a##o##4); a##o##5 = _mm512_fmadd_ps(x5, w, a##o##5);     \
    } while (0)
        FMA(0); FMA(1); FMA(2); FMA(3);
#undef FMA
    }
#define PUT(o)                                                                                     \
    if (o < mo) {                                                                                  \
        const __m512 r[VT] = {a##o##0, a##o##1, a##o##2, a##o##3, a##o##4, a##o##5};              \
        tile_put(out + o * plane, l, v0, r, bias != NULL, bias ? bias[o] : 0.0f);                 \
    }
    PUT(0) PUT(1) PUT(2) PUT(3)
#undef PUT
}

/* out planes (M, plane) of one image = the tiles over M channels in blocks of OB, wp packed
 * (ceil(M/OB), T, OB), bias (M) or NULL. */
static void planes(float *out, size_t plane, int M, const float *in, const int *off,
                   const float *wp, int T, const Lanes *l, const float *bias) {
    for (int m0 = 0; m0 < M; m0 += OB) {
        const int mo = M - m0 < OB ? M - m0 : OB;
        for (int v0 = 0; v0 < l->nvec; v0 += VT)
            tile(out + (size_t)m0 * plane, plane, mo, in, off, wp + wp_at(T, m0, 0), T, l, v0,
                 bias ? bias + m0 : NULL);
    }
}

// ----------------------------------------------------------------------------
// forward: out (N,OC,OH,OW), one image per call of the kernel loop, images over the cores

typedef struct {
    float *out;
    const float *inp, *wp, *bias;
    const int *off;
    const Lanes *l;
    int C, HW, OC, P, T;
} Fwd;

static void fwd_images(void *ctx, int lo, int hi) {
    const Fwd *f = ctx;
    for (int n = lo; n < hi; n++)
        planes(f->out + (size_t)n * f->OC * f->P, (size_t)f->P, f->OC,
               f->inp + (size_t)n * f->C * f->HW, f->off, f->wp, f->T, f->l, f->bias);
}

/* off (C·k·k) = c·H·W + i·W + j, the forward's taps. Returns NULL when out of memory. */
static int *tap_offsets(int C, int H, int W, int k) {
    int *off = malloc((size_t)C * k * k * sizeof(int));
    if (!off) return NULL;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) off[(c * k + i) * k + j] = c * H * W + i * W + j;
    return off;
}

int conv_direct_forward(float *out, float *work, const float *inp, const float *weight,
                        const float *bias, int N, int C, int H, int W, int OC, int k, int G) {
    if (!enabled) return 0;
    const int OH = H - k + 1, OW = W - k + 1, T = C * k * k;
    Lanes l = {0};
    int *off = tap_offsets(C, H, W, k);
    float *wp = pack_forward(weight, OC, T);
    const int ok = off && wp && lanes_make(&l, (OH - 1) * W + OW, W, OW);
    if (ok) {
        Fwd f = {out, inp, wp, bias, off, &l, C, H * W, OC, OH * OW, T};
        // a conv of the first layer is cheap per image: several per thread
        parallel_for(N, T >= 64 ? 1 : 8, fwd_images, &f);
    }
    lanes_free(&l);
    free(off);
    free(wp);
    return ok;
}

// ----------------------------------------------------------------------------
// backward: per chunk of as many images as the work buffer holds (usually all N), two passes
// over the cores: (a) each image's output gradient zero-padded into the work buffer, L floats
// a channel: [0, off0) zeros, then the wide rows (y·W + x, zeros at x >= OW), then zeros; its
// input gradient from it; (b) the weight gradient, tiles spread over the cores.

typedef struct {
    float *dinp, *dweight;
    float *pads;                /* (g, OC, L) the group's padded output gradients */
    float *bsum;                /* (N, OC) each image's bias gradient, or NULL */
    const float *dout, *inp, *wflip;
    const int *off, *doff;      /* (C·k·k) forward taps; (OC·k·k) taps of the input gradient */
    const Lanes *lf, *lin;      /* the forward's lanes; the input planes' (all of H·W) */
    int n0, g, C, H, W, OC, k, OH, OW, L, off0, T, Tin;
} Bwd;

/* Σ x[0..P-1]: 16 lanes over the plane, then the lanes reduced. */
static float plane_sum(const float *x, int P) {
    __m512 acc = _mm512_setzero_ps();
    int p = 0;
    for (; p + 16 <= P; p += 16) acc = _mm512_add_ps(acc, _mm512_loadu_ps(x + p));
    if (p < P) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps((__mmask16)((1u << (P - p)) - 1), x + p));
    return _mm512_reduce_add_ps(acc);
}

static void bwd_images(void *ctx, int lo, int hi) {
    const Bwd *b = ctx;
    const size_t per = (size_t)b->OC * b->L, HW = (size_t)b->H * b->W;
    for (int m = lo; m < hi; m++) {
        const int n = b->n0 + m;
        float *pad = b->pads + m * per;
        // the weight gradient reads only the copied lanes; the input gradient reads the zeros
        if (b->dinp) memset(pad, 0, per * sizeof(float));
        for (int o = 0; o < b->OC; o++)
            for (int y = 0; y < b->OH; y++)
                memcpy(pad + (size_t)o * b->L + b->off0 + (size_t)y * b->W,
                       b->dout + ((size_t)n * b->OC + o) * b->OH * b->OW + (size_t)y * b->OW,
                       (size_t)b->OW * sizeof(float));
        if (b->dinp)
            planes(b->dinp + (size_t)n * b->C * HW, HW, b->C, pad, b->doff, b->wflip, b->Tin,
                   b->lin, NULL);
        if (b->bsum)
            for (int o = 0; o < b->OC; o++)
                b->bsum[(size_t)n * b->OC + o] = plane_sum(b->dout + ((size_t)n * b->OC + o) * b->OH * b->OW,
                                                           b->OH * b->OW);
    }
}

/* dst[t] += the lane sum of r[t], for t < mt. */
static void dw_put(float *dst, const __m512 r[TB], int mt) {
    for (int t = 0; t < mt; t++) dst[t] += _mm512_reduce_add_ps(r[t]);
}

/* dweight[o0+o, t0+t] += Σ over the chunk's images m0..m0+mg-1 and positions q of the
 * forward's lanes of dout_m[o0+o, q] · inp_m[off[t0+t] + q], for o < mo, t < mt. The 16
 * accumulators are named variables (aOT), not an array, so that they live in registers. */
static void dw_tile(const Bwd *b, int o0, int mo, int t0, int mt, int m0, int mg) {
    const __m512 z = _mm512_setzero_ps();
#define ROW(o) __m512 a##o##0 = z, a##o##1 = z, a##o##2 = z, a##o##3 = z
    ROW(0); ROW(1); ROW(2); ROW(3);
#undef ROW
    // rows and taps past mo, mt read the first one again; their sums are dropped
    const size_t r0 = (size_t)o0 * b->L + b->off0, rl = (size_t)b->L;
    const size_t r1 = mo > 1 ? r0 + rl : r0, r2 = mo > 2 ? r0 + 2 * rl : r0, r3 = mo > 3 ? r0 + 3 * rl : r0;
    const int s0 = b->off[t0], s1 = b->off[mt > 1 ? t0 + 1 : t0], s2 = b->off[mt > 2 ? t0 + 2 : t0],
              s3 = b->off[mt > 3 ? t0 + 3 : t0];
    const size_t per = (size_t)b->OC * b->L, img = (size_t)b->C * b->H * b->W;
    const int nvec = b->lf->nvec;
    const __mmask16 *masks = b->lf->mask;
    for (int m = m0; m < m0 + mg; m++) {
        const float *d = b->pads + m * per, *x = b->inp + (size_t)(b->n0 + m) * img;
        for (int v = 0; v < nvec; v++) {
            const __mmask16 mask = masks[v];
            const int q = 16 * v;
            const __m512 d0 = _mm512_maskz_loadu_ps(mask, d + r0 + q), d1 = _mm512_maskz_loadu_ps(mask, d + r1 + q),
                         d2 = _mm512_maskz_loadu_ps(mask, d + r2 + q), d3 = _mm512_maskz_loadu_ps(mask, d + r3 + q);
#define FMA(t)                                                                                     \
    do {                                                                                           \
        const __m512 xv = _mm512_maskz_loadu_ps(mask, x + s##t + q);                               \
        a0##t = _mm512_fmadd_ps(d0, xv, a0##t); a1##t = _mm512_fmadd_ps(d1, xv, a1##t);           \
        a2##t = _mm512_fmadd_ps(d2, xv, a2##t); a3##t = _mm512_fmadd_ps(d3, xv, a3##t);           \
    } while (0)
            FMA(0); FMA(1); FMA(2); FMA(3);
#undef FMA
        }
    }
    float *dw = b->dweight + (size_t)o0 * b->T + t0;
#define PUT(o)                                                                                     \
    if (o < mo) {                                                                                  \
        const __m512 r[TB] = {a##o##0, a##o##1, a##o##2, a##o##3};                                 \
        dw_put(dw + (size_t)o * b->T, r, mt);                                                      \
    }
    PUT(0) PUT(1) PUT(2) PUT(3)
#undef PUT
}

/* Tiles lo..hi-1 of dweight (row-major over (channel block, tap block)) over the whole chunk,
 * DW_GROUP images at a time: each thread owns its tiles, so the groups need no barrier. */
static void dw_tiles(void *ctx, int lo, int hi) {
    const Bwd *b = ctx;
    const int TBs = (b->T + TB - 1) / TB;
    for (int m0 = 0; m0 < b->g; m0 += DW_GROUP) {
        const int mg = b->g - m0 < DW_GROUP ? b->g - m0 : DW_GROUP;
        for (int i = lo; i < hi; i++) {
            const int o0 = i / TBs * OB, t0 = i % TBs * TB;
            dw_tile(b, o0, b->OC - o0 < OB ? b->OC - o0 : OB, t0, b->T - t0 < TB ? b->T - t0 : TB, m0, mg);
        }
    }
}

int conv_direct_backward(float *dinp, float *dweight, float *dbias, float *work,
                         const float *dout, const float *inp, const float *weight,
                         int N, int C, int H, int W, int OC, int k, int G) {
    if (!enabled) return 0;
    const int OH = H - k + 1, OW = W - k + 1, T = C * k * k, Tin = OC * k * k;
    const int off0 = (k - 1) * W + (k - 1), L = (H * W + off0 + 15) / 16 * 16;
    const size_t per = (size_t)OC * L, have = conv2d_work_floats(G, C, H, W, OC, k);
    // images a chunk: as many as the work buffer holds, a multiple of DW_GROUP when it can be
    const size_t fit = have / per;
    const int gd = fit >= (size_t)N ? N : fit >= DW_GROUP ? (int)(fit / DW_GROUP * DW_GROUP) : (int)fit;
    if (gd < 1) return 0;
    Lanes lf = {0}, lin = {0};
    int *off = tap_offsets(C, H, W, k), *doff = malloc((size_t)Tin * sizeof(int));
    float *wflip = dinp ? pack_flipped(weight, C, OC, k) : NULL;
    float *bsum = dbias ? malloc((size_t)(N > 0 ? N : 1) * OC * sizeof(float)) : NULL;
    int ok = off && doff && (!dinp || wflip) && (!dbias || bsum) &&
             lanes_make(&lf, (OH - 1) * W + OW, W, OW) && lanes_make(&lin, H * W, W, W);
    if (ok) {
        for (int o = 0; o < OC; o++)
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++) doff[(o * k + i) * k + j] = o * L + i * W + j;
        memset(dweight, 0, (size_t)OC * T * sizeof(float));
        Bwd b = {dinp, dweight, work, bsum, dout, inp, wflip, off, doff, &lf, &lin, 0, 0, C, H, W, OC,
                 k, OH, OW, L, off0, T, Tin};
        const int tiles = (OC + OB - 1) / OB * ((T + TB - 1) / TB);
        for (int n0 = 0; n0 < N; n0 += gd) {
            b.n0 = n0;
            b.g = N - n0 < gd ? N - n0 : gd;
            parallel_for(b.g, 1, bwd_images, &b);
            parallel_for(tiles, 4, dw_tiles, &b);
        }
        if (dbias) {    // the images' sums, in image order
            for (int o = 0; o < OC; o++) dbias[o] = 0.0f;
            for (int n = 0; n < N; n++)
                for (int o = 0; o < OC; o++) dbias[o] += bsum[(size_t)n * OC + o];
        }
    }
    lanes_free(&lf);
    lanes_free(&lin);
    free(off);
    free(doff);
    free(wflip);
    free(bsum);
    return ok;
}

#else   /* no AVX-512F: the CPU backend keeps im2col + OpenBLAS */

int conv_direct_compiled(void) { return 0; }

void conv_direct_enable(int on) { (void)on; }

int conv_direct_forward(float *out, float *work, const float *inp, const float *weight,
                        const float *bias, int N, int C, int H, int W, int OC, int k, int G) {
    return 0;
}

int conv_direct_backward(float *dinp, float *dweight, float *dbias, float *work,
                         const float *dout, const float *inp, const float *weight,
                         int N, int C, int H, int W, int OC, int k, int G) {
    return 0;
}

#endif
