/* bench_bert — the BERT encoder's forward pass (sim/bert.h, bert_forward on the CPU backend)
 * on a model folder that bench/make_bench_bert.py wrote; bench/bert.sh puts its figures beside
 * PyTorch's (bench/peers/bert_torch.py) doing the same forward on the same cores and inputs.
 *
 *   bench_bert [--batch B] [--tokens T] [--reps R] [--seed S] [--ids FILE] [--kv FILE] [--device cuda] DIR
 *
 * Inputs: B sequences of T tokens (defaults 32 × 128), each [CLS], T - 2 ids uniform over the
 * vocabulary's non-special tokens (seeded), [SEP]; token types 0, mask all 1 (no padding: both
 * sides do the whole T × T attention anyway). --ids writes the (B·T) ids as little-endian
 * int32 for the peer.
 * Prints markdown tables (for bench/RESULTS.md):
 *   1. the sgemm rates of this run: OpenBLAS on a square 2048³ and on the encoder's own linear
 *      shapes as matmul_forward calls them, (N, out) = (N, in) · (out, in)ᵀ with N = B·T, for
 *      (in, out) = (H, H) (q, k, v, attention output), (H, I) and (I, H); their FLOP-weighted
 *      rate is the reference the encoder's share is of;
 *   2. the encoder (bert_encoder_run, buffers allocated once as alsim's embedding pass has them):
 *      the median wall time of R calls after one warm-up, tokens/s, and GFLOP/s
 *      by the formula L · (2·N·(4H² + 2HI) + 4·B·T²·H) (the linear layers, then q·kᵀ and
 *      probs·v), as a share of the reference;
 *   3. where the time goes: one more set of R calls through a copy of the CPU backend whose
 *      encoder ops are timed (medians per op), the linear layers' gemm-only rate among them.
 * Threads: OpenBLAS's and parallel.h's (OPENBLAS_NUM_THREADS, else one per core). With --kv it
 * also writes the key figures as `name value` lines, for bench/bert.sh. With --device cuda
 * (bench/run_cuda.sh) only 2 runs, on the GPU (the download of the hidden states waits for it),
 * and 1 and 3 are left out; without a usable GPU it says so and exits 0. Not a test.
 */
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/backend.h"
#include "sim/bert.h"
#include "sim/rng.h"
#include "sim/util.h"
#include "bench/bench.h"

/* (the intermediate size is IM: cblas.h brings complex.h, whose I is the imaginary unit) */
enum { MAX_REPS = 16, SPECIAL_TOKENS = 5, CLS_ID = 2, SEP_ID = 3 };

// ----------------------------------------------------------------------------
// the CPU backend with its encoder ops timed: seconds per op, summed over a forward

enum { OP_MATMUL, OP_ATTENTION, OP_LAYERNORM, OP_GELU, OP_AXPY, OP_EMBED, N_OPS };
static const char *const op_name[N_OPS] = {"matmul_forward (linear layers: gemm + bias)", "attention_forward",
                                           "layernorm_forward", "gelu_forward", "axpy (residuals)",
                                           "embed_forward"};
static double op_s[N_OPS];

#define TIMED(op, slot, params, args) \
    static void timed_##op params { \
        const double t0 = util_seconds(); \
        backend_cpu.op args; \
        op_s[slot] += util_seconds() - t0; \
    }
TIMED(matmul_forward, OP_MATMUL,
      (float *out, const float *inp, const float *weight, const float *bias, int N, int C, int OC),
      (out, inp, weight, bias, N, C, OC))
TIMED(attention_forward, OP_ATTENTION,
      (float *ctx, float *probs, const float *q, const float *k, const float *v, const uint8_t *mask, int B,
       int T, int H, int heads, float scale),
      (ctx, probs, q, k, v, mask, B, T, H, heads, scale))
TIMED(layernorm_forward, OP_LAYERNORM,
      (float *out, float *stats, const float *inp, const float *gamma, const float *beta, int N, int C, float eps),
      (out, stats, inp, gamma, beta, N, C, eps))
TIMED(gelu_forward, OP_GELU, (float *out, const float *inp, size_t n), (out, inp, n))
TIMED(axpy, OP_AXPY, (float *y, const float *x, float a, size_t n), (y, x, a, n))
TIMED(embed_forward, OP_EMBED,
      (float *out, const int32_t *ids, const int32_t *types, const float *word, const float *pos,
       const float *type, int B, int T, int H),
      (out, ids, types, word, pos, type, B, T, H))
#undef TIMED

/* Section 2: the median of reps encoder forwards (after one warm-up) of B sequences of T tokens
 * on be, as table rows and kv lines; lin_flops: one layer's linear layers' FLOPs; ref: the
 * same-run sgemm reference (0: none, on a GPU). Returns 0, or the encoder's error code. */
static int encoder_rows(FILE *kv, const Bert *b, const Backend *be, const int32_t *ids, const int32_t *types,
                        const uint8_t *mask, float *hidden, int B, int T, int reps, double lin_flops, double ref) {
    const BertConfig *c = &b->c;
    const int H = c->hidden, L = c->layers, N = B * T;
    const double attn_flops = 4.0 * B * (double)T * T * H;     // q·kᵀ and probs·v, all heads
    const double flops = L * (lin_flops + attn_flops);
    double t[MAX_REPS];
    char err[512];
    BertEncoder enc;
    int rc;
    if ((rc = bert_encoder_open(&enc, b, be, B, T, err, sizeof err)) ||
        (rc = bert_encoder_run(hidden, &enc, ids, types, mask, B, T, err, sizeof err))) {     // the warm-up
        fprintf(stderr, "bench_bert: %s\n", err);
        return rc;
    }
    for (int i = 0; i < reps; i++) {
        const double t0 = util_seconds();
        bert_encoder_run(hidden, &enc, ids, types, mask, B, T, err, sizeof err);
        t[i] = util_seconds() - t0;
    }
    bert_encoder_close(&enc);
    const double fwd_s = median(t, reps), gflops = flops / fwd_s / 1e9;
    printf("| encoder forward: s (median of %d) | %.4f |\n", reps, fwd_s);
    printf("| **encoder forward: tokens/s** | **%.0f** |\n", N / fwd_s);
    printf("| encoder forward: GFLOP/s (%.1f GFLOP a forward: linear layers %.1f, attention %.1f) | %.1f |\n",
           flops / 1e9, L * lin_flops / 1e9, L * attn_flops / 1e9, gflops);
    if (ref > 0) printf("| **encoder forward: share of the reference sgemm rate** | **%.0f%%** |\n", 100 * gflops / ref);
    if (kv)
        fprintf(kv, "B %d\nT %d\nhidden %d\nlayers %d\nheads %d\nintermediate %d\nsgemm_ref_gflops %.2f\n"
                    "forward_s %.5f\ntokens_per_s %.1f\ngflop %.3f\ngflops %.2f\nshare %.4f\n",
                B, T, H, L, c->heads, c->intermediate, ref, fwd_s, N / fwd_s, flops / 1e9, gflops,
                ref > 0 ? gflops / ref : 0.0);
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: bench_bert [--batch B] [--tokens T] [--reps R] [--seed S] [--ids FILE] [--kv FILE] "
                    "[--device cuda] DIR\n"
                    "  defaults: --batch 32 --tokens 128 --reps 5 --seed 0; R at most %d\n", MAX_REPS);
    return 2;
}

int main(int argc, char **argv) {
    int B = 32, T = 128, reps = 5, seed = 0;
    const char *dir = NULL, *ids_path = NULL, *kv_path = NULL, *device = "cpu";
    for (int i = 1; i < argc; i++) {
        const int more = i + 1 < argc;
        if (!strcmp(argv[i], "--batch") && more) B = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tokens") && more) T = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && more) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && more) seed = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ids") && more) ids_path = argv[++i];
        else if (!strcmp(argv[i], "--kv") && more) kv_path = argv[++i];
        else if (!strcmp(argv[i], "--device") && more) device = argv[++i];
        else if (argv[i][0] != '-' && !dir) dir = argv[i];
        else return usage();
    }
    if (!dir || B < 1 || T < 2 || reps < 1 || reps > MAX_REPS) return usage();
    char err[512];
    const Backend *be = backend_get(device, err, sizeof err);
    if (!be) {
        printf("| device | skipped: %s |\n", err);
        return 0;
    }
    Bert b = {0};
    int rc = bert_load(&b, dir, err, sizeof err);
    if (rc) {
        fprintf(stderr, "bench_bert: %s\n", err);
        return rc;
    }
    const BertConfig *c = &b.c;
    const int H = c->hidden, IM = c->intermediate, L = c->layers, N = B * T;
    if (c->vocab <= SPECIAL_TOKENS) {
        fprintf(stderr, "bench_bert: %s: a vocabulary of %d tokens has none past the special ones\n", dir, c->vocab);
        return 2;
    }
    int32_t *ids = malloc((size_t)N * sizeof *ids), *types = calloc((size_t)N, sizeof *types);
    uint8_t *mask = malloc((size_t)N);
    float *hidden = malloc((size_t)N * H * sizeof *hidden);
    if (!ids || !types || !mask || !hidden) return 3;
    Rng r = rng_stream((uint64_t)seed, RNG_DATA, 98);
    for (int i = 0; i < N; i++) {
        const int t = i % T;
        ids[i] = t == 0 ? CLS_ID : t == T - 1 ? SEP_ID
                                              : SPECIAL_TOKENS + (int32_t)rng_below(&r, (uint32_t)(c->vocab - SPECIAL_TOKENS));
    }
    memset(mask, 1, (size_t)N);
    if (ids_path) {
        FILE *f = fopen(ids_path, "wb");
        if (!f || fwrite(ids, sizeof *ids, (size_t)N, f) != (size_t)N || fclose(f)) {
            fprintf(stderr, "bench_bert: cannot write %s\n", ids_path);
            return 2;
        }
    }
    FILE *kv = kv_path ? fopen(kv_path, "w") : NULL;

    // --- 1. the sgemm rates -------------------------------------------------------------------
    printf("| what | figure |\n|---|---|\n");
    printf("| model | %s: hidden %d, %d layers, %d heads, intermediate %d, vocab %d |\n", dir, H, L, c->heads, IM,
           c->vocab);
    printf("| input | %d sequences × %d tokens = %d tokens, no padding |\n", B, T, N);
    const double lin_flops = 2.0 * N * (4.0 * H * H + 2.0 * H * IM);    // a layer's linear layers
    if (be != &backend_cpu) {       // the GPU: the encoder alone
        printf("| device | %s |\n", be->device ? be->device : be->name);
        return encoder_rows(kv, &b, be, ids, types, mask, hidden, B, T, reps, lin_flops, 0.0);
    }
    printf("| OpenBLAS config | %s; %d threads |\n", openblas_get_config(), openblas_get_num_threads());
    const double sq = 2.0 * 2048 * 2048 * 2048 / sgemm_seconds(CblasNoTrans, 2048, 2048, 2048, reps) / 1e9;
    printf("| sgemm GFLOP/s, 2048³ | %.1f |\n", sq);
    // the linear layers' shapes (in, out) and how many of each a layer has
    const struct { int in, out, count; const char *what; } lin[3] = {
        {H, H, 4, "q, k, v, attention output"}, {H, IM, 1, "intermediate"}, {IM, H, 1, "output"}};
    double lin_s = 0;
    for (int i = 0; i < 3; i++) {
        const double s = sgemm_seconds(CblasTrans, N, lin[i].out, lin[i].in, reps);
        const double f = 2.0 * N * lin[i].out * lin[i].in;
        printf("| sgemm GFLOP/s, (%d, %d) = (%d, %d) · (%d, %d)ᵀ (%s, %d a layer) | %.1f |\n", N, lin[i].out, N,
               lin[i].in, lin[i].out, lin[i].in, lin[i].what, lin[i].count, f / s / 1e9);
        lin_s += lin[i].count * s;
    }
    const double ref = lin_flops / lin_s / 1e9;
    printf("| **reference: the encoder's linear shapes, FLOP-weighted** | **%.1f** |\n", ref);
    if (kv) fprintf(kv, "sgemm_square_gflops %.2f\n", sq);

    // --- 2. the encoder -----------------------------------------------------------------------
    if ((rc = encoder_rows(kv, &b, &backend_cpu, ids, types, mask, hidden, B, T, reps, lin_flops, ref))) return rc;
    BertEncoder enc;

    // --- 3. where the time goes ---------------------------------------------------------------
    Backend timed = backend_cpu;
    timed.matmul_forward = timed_matmul_forward;
    timed.attention_forward = timed_attention_forward;
    timed.layernorm_forward = timed_layernorm_forward;
    timed.gelu_forward = timed_gelu_forward;
    timed.axpy = timed_axpy;
    timed.embed_forward = timed_embed_forward;
    double per[N_OPS][MAX_REPS], rest[MAX_REPS], whole[MAX_REPS];
    const double attn_flops = 4.0 * B * (double)T * T * H;
    if ((rc = bert_encoder_open(&enc, &b, &timed, B, T, err, sizeof err))) {
        fprintf(stderr, "bench_bert: %s\n", err);
        return rc;
    }
    bert_encoder_run(hidden, &enc, ids, types, mask, B, T, err, sizeof err);
    for (int i = 0; i < reps; i++) {
        memset(op_s, 0, sizeof op_s);
        const double t0 = util_seconds();
        bert_encoder_run(hidden, &enc, ids, types, mask, B, T, err, sizeof err);
        rest[i] = whole[i] = util_seconds() - t0;
        for (int o = 0; o < N_OPS; o++) per[o][i] = op_s[o], rest[i] -= op_s[o];
    }
    bert_encoder_close(&enc);
    const double fwd_s = median(whole, reps);   // the timed forwards' own median
    printf("\n| encoder forward, op by op (median of %d) | s | share of the forward | GFLOP/s |\n|---|---|---|---|\n", reps);
    for (int o = 0; o < N_OPS; o++) {
        const double s = median(per[o], reps);
        char rate[32] = "–";
        if (o == OP_MATMUL) snprintf(rate, sizeof rate, "%.1f (%.0f%% of the reference)", L * lin_flops / s / 1e9,
                                     100 * L * lin_flops / s / 1e9 / ref);
        if (o == OP_ATTENTION) snprintf(rate, sizeof rate, "%.1f", L * attn_flops / s / 1e9);
        printf("| %s | %.4f | %.0f%% | %s |\n", op_name[o], s, 100 * s / fwd_s, rate);
        if (kv && o == OP_MATMUL) fprintf(kv, "matmul_s %.5f\nmatmul_gflops %.2f\n", s, L * lin_flops / s / 1e9);
        if (kv && o == OP_ATTENTION) fprintf(kv, "attention_s %.5f\n", s);
    }
    printf("| the rest (checks, buffers) | %.4f | %.0f%% | – |\n", median(rest, reps), 100 * median(rest, reps) / fwd_s);

    if (kv) fclose(kv);
    free(ids); free(types); free(mask); free(hidden);
    bert_free(&b);
    return 0;
}
