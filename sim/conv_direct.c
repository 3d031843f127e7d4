/* conv_direct — convolutions without im2col, AVX-512 over the cores (contract: conv_direct.h).
 *
 * Layout of every kernel here: a "plane" is one channel of one image, H·W floats row-major. A
 * tap t = (c·k + i)·k + j of a k x k kernel reads plane c shifted by i·W + j; off[t] holds that
 * shift. A Lanes table says, for each 16-wide vector v of wide positions q = 16v.., which lanes
 * are real outputs (mask[v]) and where they go in the packed output (dest[v]): lanes are
 * packed with a compress, so the dropped columns x >= OW close up into rows of OW.
 */
#include "sim/conv_direct.h"

#include <stdint.h>
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

static int mode = CONV_SPARSE;
static long sparse_runs;    /* conv_direct_backward calls the sparse kernels ran */

int conv_direct_compiled(void) { return 1; }

void conv_direct_mode(int m) { mode = m; }

long conv_direct_sparse_runs(void) { return sparse_runs; }

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
    if (mode == CONV_IM2COL) return 0;
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

// ----------------------------------------------------------------------------
// backward of a sparse output gradient. A ReLU then a max-pooling after a convolution leave
// at most one nonzero output gradient in each pooling window, a quarter or less. Then each
// nonzero v = dout[n,o,y,x] adds v times its input patch to dweight[o] and v times weight[o] to
// its patch of dinp, and the zeros cost nothing. In channels-last copies, (H·W, C) an image,
// the patch row i of a position q = y·W + x, its k taps j by C channels, is k·C contiguous
// floats from (q + i·W)·C: "pieces" of 8 vectors of 16 (so k·C must be a multiple of 128),
// two pieces in registers at a time.
//
// Rounding: dweight[o] sums the images in order and in each the nonzeros in (y, x) order, in
// float, one running sum per entry; dinp[n] sums the channels o in order, in each the
// nonzeros in (y, x) order, each patch entry in (i, j) order as it comes. Bitwise
// reproducible for the same shapes whatever the thread count and G; not the bits of the
// dense kernels.

enum { PIECE = 8 };     /* 16-float vectors of a piece */

typedef struct {
    float *dinp, *dwt;          /* dwt (OC, k·k·C) tap-major, channels last: [o][(i·k+j)·C + c] */
    float *xt, *dxt;            /* (g, H·W, C) each: the inputs and input gradients channels last */
    float *val;                 /* (g, OC, P) each plane's nonzeros, (y, x) order */
    int32_t *at;                /* (g, OC, P) their positions y·W + x */
    int32_t *count;             /* (g, OC) how many */
    float *bsum;                /* (N, OC) each image's bias gradient, or NULL */
    const float *dout, *inp, *wt;   /* wt (OC, k·k·C) the weights, tap-major channels last */
    int n0, g, C, H, W, OC, k, OH, OW, P, pieces;
} Sparse;

/* Where piece number `piece` of a patch starts, in floats from the patch's first entry (its
 * row i = 0, channels last): the pieces run along a patch row (k·C floats, k·C/128 pieces),
 * then down its k rows, W·C floats apart. */
static size_t piece_offset(const Sparse *s, int piece) {
    const int per_row = s->k * s->C / (16 * PIECE);
    return (size_t)(piece / per_row) * s->W * s->C + (size_t)(piece % per_row) * 16 * PIECE;
}

/* The nonzeros of plane d (OH, OW): values to val and positions y·W + x to at, in (y, x)
 * order; returns how many. A NaN counts as nonzero. */
static int32_t nonzeros(float *val, int32_t *at, const float *d, int OH, int OW, int W) {
    int32_t n = 0;
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int y = 0; y < OH; y++)
        for (int x = 0; x < OW; x += 16) {
            const __mmask16 in = OW - x >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (OW - x)) - 1);
            const __m512 v = _mm512_maskz_loadu_ps(in, d + (size_t)y * OW + x);
            const __mmask16 nz = _mm512_mask_cmp_ps_mask(in, v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
            if (!nz) continue;
            // compressed in registers, then a masked store: a compress straight to memory is
            // microcoded, and slow, on some cores
            const int c = __builtin_popcount(nz);
            const __mmask16 first = (__mmask16)((1u << c) - 1);
            _mm512_mask_storeu_ps(val + n, first, _mm512_maskz_compress_ps(nz, v));
            _mm512_mask_storeu_epi32(at + n, first,
                                     _mm512_maskz_compress_epi32(nz, _mm512_add_epi32(lane, _mm512_set1_epi32(y * W + x))));
            n += c;
        }
    return n;
}

/* The 16 rows r[0..15] of a 16x16 block transposed in place: four rounds, each swapping one bit
 * of the row index with the same bit of the column index, through pairs of rows s apart: row
 * i (bit clear) takes column c from itself, or when c has the bit from row i+s's c - s; row
 * i+s from row i's c + s, or when c has the bit from itself (index 16 + c: the second row). */
static const int lo8[16] = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23},
                 hi8[16] = {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31},
                 lo4[16] = {0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27},
                 hi4[16] = {4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31},
                 lo2[16] = {0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29},
                 hi2[16] = {2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31},
                 lo1[16] = {0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30},
                 hi1[16] = {1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31};

static inline void swap_round(__m512 r[16], int s, const int *lo, const int *hi) {
    const __m512i ilo = _mm512_loadu_si512(lo), ihi = _mm512_loadu_si512(hi);
    for (int i = 0; i < 16; i++)
        if (!(i & s)) {
            const __m512 a = r[i], b = r[i + s];
            r[i] = _mm512_permutex2var_ps(a, ilo, b);
            r[i + s] = _mm512_permutex2var_ps(a, ihi, b);
        }
}

static inline void transpose16(__m512 r[16]) {
    swap_round(r, 8, lo8, hi8);
    swap_round(r, 4, lo4, hi4);
    swap_round(r, 2, lo2, hi2);
    swap_round(r, 1, lo1, hi1);
}

/* dst (cols, rows) = src (rows, cols) transposed; row strides ds and ss in floats. Blocks of
 * 16 x 16 through registers, the edges one by one. */
static void transpose(float *dst, size_t ds, const float *src, size_t ss, int rows, int cols) {
    const int R16 = rows / 16 * 16, C16 = cols / 16 * 16;
    for (int i = 0; i < R16; i += 16)
        for (int j = 0; j < C16; j += 16) {
            __m512 r[16];
            for (int a = 0; a < 16; a++) r[a] = _mm512_loadu_ps(src + (size_t)(i + a) * ss + j);
            transpose16(r);
            for (int a = 0; a < 16; a++) _mm512_storeu_ps(dst + (size_t)(j + a) * ds + i, r[a]);
        }
    for (int i = 0; i < rows; i++)
        for (int j = i < R16 ? C16 : 0; j < cols; j++) dst[(size_t)j * ds + i] = src[(size_t)i * ss + j];
}

/* Per image of the chunk: its input channels last, each plane's nonzeros, its bias sums. */
static void sparse_prep(void *ctx, int lo, int hi) {
    const Sparse *s = ctx;
    const size_t HW = (size_t)s->H * s->W;
    for (int m = lo; m < hi; m++) {
        const int n = s->n0 + m;
        transpose(s->xt + m * HW * s->C, (size_t)s->C, s->inp + (size_t)n * s->C * HW, HW, s->C, (int)HW);
        for (int o = 0; o < s->OC; o++) {
            const size_t mo = (size_t)m * s->OC + o;
            const float *d = s->dout + ((size_t)n * s->OC + o) * s->P;
            s->count[mo] = nonzeros(s->val + mo * s->P, s->at + mo * s->P, d, s->OH, s->OW, s->W);
            if (s->bsum) s->bsum[(size_t)n * s->OC + o] = plane_sum(d, s->P);
        }
    }
}

/* A piece in registers, the vectors a##0..a##7, and what the kernels do with it and the piece
 * of floats at p: a += v · p (FMA), a = p (LOAD), p = a (STORE), p += v · a (SCATTER). */
#define PIECE_VARS(a) __m512 a##0, a##1, a##2, a##3, a##4, a##5, a##6, a##7
#define PIECE_FMA(a, v, p)                                                                         \
    do {                                                                                           \
        a##0 = _mm512_fmadd_ps(v, _mm512_loadu_ps((p)), a##0);                                     \
        a##1 = _mm512_fmadd_ps(v, _mm512_loadu_ps((p) + 16), a##1);                                \
        a##2 = _mm512_fmadd_ps(v, _mm512_loadu_ps((p) + 32), a##2);                                \
        a##3 = _mm512_fmadd_ps(v, _mm512_loadu_ps((p) + 48), a##3);                                \
        a##4 = _mm512_fmadd_ps(v, _mm512_loadu_ps((p) + 64), a##4);                                \
        a##5 = _mm512_fmadd_ps(v, _mm512_loadu_ps((p) + 80), a##5);                                \
        a##6 = _mm512_fmadd_ps(v, _mm512_loadu_ps((p) + 96), a##6);                                \
        a##7 = _mm512_fmadd_ps(v, _mm512_loadu_ps((p) + 112), a##7);                               \
    } while (0)
#define PIECE_LOAD(a, p)                                                                           \
    do {                                                                                           \
        a##0 = _mm512_loadu_ps((p)); a##1 = _mm512_loadu_ps((p) + 16);                             \
        a##2 = _mm512_loadu_ps((p) + 32); a##3 = _mm512_loadu_ps((p) + 48);                        \
        a##4 = _mm512_loadu_ps((p) + 64); a##5 = _mm512_loadu_ps((p) + 80);                        \
        a##6 = _mm512_loadu_ps((p) + 96); a##7 = _mm512_loadu_ps((p) + 112);                       \
    } while (0)
#define PIECE_STORE(a, p)                                                                          \
    do {                                                                                           \
        _mm512_storeu_ps((p), a##0); _mm512_storeu_ps((p) + 16, a##1);                             \
        _mm512_storeu_ps((p) + 32, a##2); _mm512_storeu_ps((p) + 48, a##3);                        \
        _mm512_storeu_ps((p) + 64, a##4); _mm512_storeu_ps((p) + 80, a##5);                        \
        _mm512_storeu_ps((p) + 96, a##6); _mm512_storeu_ps((p) + 112, a##7);                       \
    } while (0)
#define PIECE_SCATTER(w, v, p)                                                                     \
    do {                                                                                           \
        float *q_ = (p);                                                                           \
        _mm512_storeu_ps(q_, _mm512_fmadd_ps(v, w##0, _mm512_loadu_ps(q_)));                       \
        _mm512_storeu_ps(q_ + 16, _mm512_fmadd_ps(v, w##1, _mm512_loadu_ps(q_ + 16)));             \
        _mm512_storeu_ps(q_ + 32, _mm512_fmadd_ps(v, w##2, _mm512_loadu_ps(q_ + 32)));             \
        _mm512_storeu_ps(q_ + 48, _mm512_fmadd_ps(v, w##3, _mm512_loadu_ps(q_ + 48)));             \
        _mm512_storeu_ps(q_ + 64, _mm512_fmadd_ps(v, w##4, _mm512_loadu_ps(q_ + 64)));             \
        _mm512_storeu_ps(q_ + 80, _mm512_fmadd_ps(v, w##5, _mm512_loadu_ps(q_ + 80)));             \
        _mm512_storeu_ps(q_ + 96, _mm512_fmadd_ps(v, w##6, _mm512_loadu_ps(q_ + 96)));             \
        _mm512_storeu_ps(q_ + 112, _mm512_fmadd_ps(v, w##7, _mm512_loadu_ps(q_ + 112)));           \
    } while (0)

/* dwt[o] += Σ over the chunk's images and each plane o's nonzeros v at q of v · the patch at
 * q, for channels o = lo..hi-1. Image by image, so that its channels-last copy stays in the
 * core's cache while the channels' nonzeros read it; per (image, channel), two pieces of the
 * patch in registers at a time (the second repeats the first when the pieces are odd in
 * number, and is dropped), loaded from dwt and stored back. */
static void sparse_dw(void *ctx, int lo, int hi) {
    const Sparse *s = ctx;
    const size_t HW = (size_t)s->H * s->W, KC = (size_t)s->k * s->k * s->C;
    for (int m = 0; m < s->g; m++) {
        const float *x = s->xt + m * HW * s->C;
        for (int o = lo; o < hi; o++) {
            const size_t mo = (size_t)m * s->OC + o;
            const float *val = s->val + mo * s->P;
            const int32_t *at = s->at + mo * s->P;
            float *dw = s->dwt + o * KC;
            for (int pa = 0; pa < s->pieces; pa += 2) {
                const int pb = pa + 1 < s->pieces ? pa + 1 : pa;
                const size_t oa = piece_offset(s, pa), ob = piece_offset(s, pb);
                float *dwa = dw + (size_t)pa * 16 * PIECE, *dwb = dw + (size_t)pb * 16 * PIECE;
                PIECE_VARS(a);
                PIECE_VARS(b);
                PIECE_LOAD(a, dwa);
                PIECE_LOAD(b, dwb);
                for (int32_t e = 0; e < s->count[mo]; e++) {
                    const __m512 v = _mm512_set1_ps(val[e]);
                    const float *p = x + (size_t)at[e] * s->C, *pa_ = p + oa, *pb_ = p + ob;
                    PIECE_FMA(a, v, pa_);
                    PIECE_FMA(b, v, pb_);
                }
                PIECE_STORE(a, dwa);
                if (pb != pa) PIECE_STORE(b, dwb);
            }
        }
    }
}

/* The input gradients of images lo..hi-1: dxt[m] = Σ over o and plane o's nonzeros v at q of
 * v · weight[o] on the patch at q, two pieces of weight[o] in registers at a time (as
 * sparse_dw's); then transposed into dinp. */
static void sparse_dx(void *ctx, int lo, int hi) {
    const Sparse *s = ctx;
    const size_t HW = (size_t)s->H * s->W, KC = (size_t)s->k * s->k * s->C;
    for (int m = lo; m < hi; m++) {
        float *dx = s->dxt + m * HW * s->C;
        memset(dx, 0, HW * s->C * sizeof(float));
        for (int o = 0; o < s->OC; o++) {
            const size_t mo = (size_t)m * s->OC + o;
            const float *val = s->val + mo * s->P;
            const int32_t *at = s->at + mo * s->P;
            for (int pa = 0; pa < s->pieces; pa += 2) {
                const int pb = pa + 1 < s->pieces ? pa + 1 : pa;
                const size_t oa = piece_offset(s, pa), ob = piece_offset(s, pb);
                const float *w = s->wt + o * KC;
                PIECE_VARS(a);
                PIECE_VARS(b);
                PIECE_LOAD(a, w + (size_t)pa * 16 * PIECE);
                PIECE_LOAD(b, w + (size_t)pb * 16 * PIECE);
                for (int32_t e = 0; e < s->count[mo]; e++) {
                    const __m512 v = _mm512_set1_ps(val[e]);
                    float *p = dx + (size_t)at[e] * s->C, *pa_ = p + oa, *pb_ = p + ob;
                    PIECE_SCATTER(a, v, pa_);
                    if (pb != pa) PIECE_SCATTER(b, v, pb_);
                }
            }
        }
        transpose(s->dinp + (size_t)(s->n0 + m) * s->C * HW, HW, dx, (size_t)s->C, (int)HW, s->C);
    }
}

/* conv_direct_backward by the sparse kernels, in chunks of as many images as the work buffer
 * holds: returns 1 when done, 0 when they do not apply (the patch rows are not whole pieces,
 * more than a third of the first chunk's dout is nonzero, the work buffer holds no image, or
 * out of memory): then dweight, dinp, dbias are unwritten. */
static int sparse_backward(float *dinp, float *dweight, float *dbias, float *work,
                           const float *dout, const float *inp, const float *weight,
                           int N, int C, int H, int W, int OC, int k, int G) {
    if (mode != CONV_SPARSE || (k * C) % (16 * PIECE) != 0 || N < 1) return 0;
    const int OH = H - k + 1, OW = W - k + 1, P = OH * OW;
    const size_t HW = (size_t)H * W, KC = (size_t)k * k * C;
    // work, per image: xt and dxt (2·HW·C), val and at (2·OC·P), count (OC)
    const size_t per = 2 * HW * C + 2 * (size_t)OC * P + OC, fit = conv2d_work_floats(G, C, H, W, OC, k) / per;
    const int gs = fit >= (size_t)N ? N : (int)fit;
    if (gs < 1) return 0;
    float *dwt = calloc(OC * KC, sizeof(float)), *wt = malloc(OC * KC * sizeof(float));
    float *bsum = dbias ? malloc((size_t)N * OC * sizeof(float)) : NULL;
    int ok = dwt && wt && (!dbias || bsum);
    if (ok) {
        for (int o = 0; o < OC; o++)    // wt[o][(i·k + j)·C + c] = weight[o][c][i][j]
            for (int c = 0; c < C; c++)
                for (int t = 0; t < k * k; t++) wt[o * KC + (size_t)t * C + c] = weight[((size_t)o * C + c) * k * k + t];
        float *val = work + 2 * (size_t)gs * HW * C;
        Sparse s = {dinp, dwt, work, work + (size_t)gs * HW * C, val,
                    (int32_t *)(val + (size_t)gs * OC * P),        // cppcheck-suppress invalidPointerCast ; int32 fits a float's slot
                    (int32_t *)(val + 2 * (size_t)gs * OC * P),    // cppcheck-suppress invalidPointerCast
                    bsum, dout, inp, wt, 0, 0, C, H, W, OC, k, OH, OW, P, (int)(KC / (16 * PIECE))};
        for (int n0 = 0; n0 < N && ok; n0 += gs) {
            s.n0 = n0;
            s.g = N - n0 < gs ? N - n0 : gs;
            parallel_for(s.g, 1, sparse_prep, &s);
            if (n0 == 0) {  // sparse enough? decided on the first chunk
                size_t nnz = 0;
                for (size_t i = 0; i < (size_t)s.g * OC; i++) nnz += (size_t)s.count[i];
                ok = 3 * nnz <= (size_t)s.g * OC * P;
            }
            if (!ok) break;
            parallel_for(OC, 1, sparse_dw, &s);
            if (dinp) parallel_for(s.g, 1, sparse_dx, &s);
        }
        if (ok) {
            for (int o = 0; o < OC; o++)
                for (int c = 0; c < C; c++)
                    for (int t = 0; t < k * k; t++) dweight[((size_t)o * C + c) * k * k + t] = dwt[o * KC + (size_t)t * C + c];
            if (dbias) {    // the images' sums, in image order
                for (int o = 0; o < OC; o++) dbias[o] = 0.0f;
                for (int n = 0; n < N; n++)
                    for (int o = 0; o < OC; o++) dbias[o] += bsum[(size_t)n * OC + o];
            }
            sparse_runs++;
        }
    }
    free(dwt);
    free(wt);
    free(bsum);
    return ok;
}

// ----------------------------------------------------------------------------
// weight gradient of a small kernel (a first layer: C·k·k <= 16 taps, no input gradient): each
// image's patches as (P, 16) rows, one vector each, then dweight[o] (one vector of taps) sums
// dout[o, p] times patch p; each image's sum apart, then the images' sums in image order.

enum { SMALL_OB = 8 };      /* output channels a pass over the patches */

typedef struct {
    float *patches;         /* (g, P, 16) */
    float *part;            /* (N, OC, 16) each image's weight gradient */
    float *bsum;            /* (N, OC) each image's bias gradient, or NULL */
    const float *dout, *inp;
    const int *off;         /* (C·k·k) the forward's taps */
    int n0, C, H, W, OC, T, OH, OW;
} SmallDw;

static void small_dw_images(void *ctx, int lo, int hi) {
    const SmallDw *s = ctx;
    const int P = s->OH * s->OW;
    const __mmask16 taps = (__mmask16)((1u << s->T) - 1);
    for (int m = lo; m < hi; m++) {
        const int n = s->n0 + m;
        const float *x = s->inp + (size_t)n * s->C * s->H * s->W;
        float *pt = s->patches + (size_t)m * P * 16;
        for (int y = 0; y < s->OH; y++)
            for (int xx = 0; xx < s->OW; xx++) {
                float *row = pt + (size_t)(y * s->OW + xx) * 16;
                const float *at = x + y * s->W + xx;
                for (int t = 0; t < 16; t++) row[t] = t < s->T ? at[s->off[t]] : 0.0f;
            }
        const float *d = s->dout + (size_t)n * s->OC * P;
        float *part = s->part + (size_t)n * s->OC * 16;
        for (int o0 = 0; o0 < s->OC; o0 += SMALL_OB) {
            const int mo = s->OC - o0 < SMALL_OB ? s->OC - o0 : SMALL_OB;
            __m512 acc[SMALL_OB];
            for (int o = 0; o < SMALL_OB; o++) acc[o] = _mm512_setzero_ps();
            for (int p = 0; p < P; p++) {
                const __m512 v = _mm512_loadu_ps(pt + (size_t)p * 16);
                for (int o = 0; o < SMALL_OB; o++)      // channels past mo read channel o0 again
                    acc[o] = _mm512_fmadd_ps(_mm512_set1_ps(d[(size_t)(o0 + (o < mo ? o : 0)) * P + p]), v, acc[o]);
            }
            for (int o = 0; o < mo; o++) _mm512_mask_storeu_ps(part + (size_t)(o0 + o) * 16, taps, acc[o]);
        }
        if (s->bsum)
            for (int o = 0; o < s->OC; o++) s->bsum[(size_t)n * s->OC + o] = plane_sum(d + (size_t)o * P, P);
    }
}

/* conv_direct_backward for dinp NULL and C·k·k <= 16. Returns 1, or 0 when out of memory or the
 * work buffer holds no image's patches (then nothing was written). */
static int small_backward(float *dweight, float *dbias, float *work, const float *dout, const float *inp,
                          int N, int C, int H, int W, int OC, int k, int G) {
    const int OH = H - k + 1, OW = W - k + 1, P = OH * OW, T = C * k * k;
    const size_t fit = conv2d_work_floats(G, C, H, W, OC, k) / ((size_t)P * 16);
    const int gs = fit >= (size_t)N ? N : (int)fit;
    if (gs < 1) return 0;
    int *off = tap_offsets(C, H, W, k);
    float *part = malloc((size_t)N * OC * 16 * sizeof(float));
    float *bsum = dbias ? malloc((size_t)N * OC * sizeof(float)) : NULL;
    const int ok = off && part && (!dbias || bsum);
    if (ok) {
        SmallDw s = {work, part, bsum, dout, inp, off, 0, C, H, W, OC, T, OH, OW};
        for (s.n0 = 0; s.n0 < N; s.n0 += gs)
            parallel_for(N - s.n0 < gs ? N - s.n0 : gs, 1, small_dw_images, &s);
        memset(dweight, 0, (size_t)OC * T * sizeof(float));
        for (int n = 0; n < N; n++)     // the images' sums, in image order
            for (int o = 0; o < OC; o++)
                for (int t = 0; t < T; t++) dweight[(size_t)o * T + t] += part[((size_t)n * OC + o) * 16 + t];
        if (dbias) {
            for (int o = 0; o < OC; o++) dbias[o] = 0.0f;
            for (int n = 0; n < N; n++)
                for (int o = 0; o < OC; o++) dbias[o] += bsum[(size_t)n * OC + o];
        }
    }
    free(off);
    free(part);
    free(bsum);
    return ok;
}

int conv_direct_backward(float *dinp, float *dweight, float *dbias, float *work,
                         const float *dout, const float *inp, const float *weight,
                         int N, int C, int H, int W, int OC, int k, int G) {
    if (mode == CONV_IM2COL) return 0;
    if (!dinp && C * k * k <= 16 && small_backward(dweight, dbias, work, dout, inp, N, C, H, W, OC, k, G)) return 1;
    if (sparse_backward(dinp, dweight, dbias, work, dout, inp, weight, N, C, H, W, OC, k, G)) return 1;
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

void conv_direct_mode(int m) { (void)m; }

long conv_direct_sparse_runs(void) { return 0; }

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
