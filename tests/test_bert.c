/* test_bert — loading a BERT encoder's weights from a model folder (sim/bert.h): tiny folders
 * written here (config.json and a model.safetensors of known values) in BertModel naming, in
 * a BertFor... checkpoint's ("bert." prefix, LayerNorm gamma/beta, an F16 tensor, a pooler and
 * position_ids to ignore); every value lands where bert.h says; and each refusal (a tensor
 * missing or of another shape, config.json missing a key, not JSON, an activation or model
 * type alsim does not run, hidden_size not a multiple of the heads, no weights file) is code 2
 * with one line naming the file and the key or tensor. Then the committed fixture,
 * tests/fixtures/tiny-bert (tests/fixtures/make_tiny_bert.py, PyTorch): it loads, its vocab.txt
 * opens as a tokenizer, and its reference file holds the shapes the encoder's checks read. */
#include "datasets/wordpiece.h"
#include "sim/bert.h"
#include "sim/safetensors.h"
#include "tests/check.h"
#include "tests/tiny_bert.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { V = 11, H = 4, HEADS = 2, I = 6, L = 2, P = 8, TV = 2 };

static char dir[64];

/* Variations of the written checkpoint. */
typedef struct {
    int prefix;             /* names under "bert." */
    int gamma_beta;         /* LayerNorm.gamma / .beta */
    int half;               /* the word embeddings in F16 */
    int extras;             /* a pooler and an I64 position_ids too */
    const char *drop;       /* leave this tensor out */
    const char *transpose;  /* write this (2-d) tensor transposed */
} Variant;

/* Value of element e of the tensor numbered t: distinct, exact in F16 too (multiples of 1/8
 * below 256 with t·64 + e < 2048). */
static float value(int t, int e) { return (float)((t * 64 + e) % 2048) / 8.0f - 100.0f; }

typedef struct {
    char name[96];
    int r, c;
} T;

/* The encoder's tensors in BertModel naming, with their shapes. Returns how many. */
static int tensors(T *t) {
    int n = 0;
#define ADD(nm, rr, cc) (snprintf(t[n].name, sizeof t[n].name, "%s", nm), t[n].r = (rr), t[n].c = (cc), n++)
    ADD("embeddings.word_embeddings.weight", V, H);
    ADD("embeddings.position_embeddings.weight", P, H);
    ADD("embeddings.token_type_embeddings.weight", TV, H);
    ADD("embeddings.LayerNorm.weight", H, 0);
    ADD("embeddings.LayerNorm.bias", H, 0);
    static const char *parts[] = {"attention.self.query", "attention.self.key", "attention.self.value",
                                  "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense",
                                  "output.dense", "output.LayerNorm"};
    for (int l = 0; l < L; l++)
        for (int p = 0; p < 8; p++) {
            char nm[96];
            const int out = p == 5 ? I : H, in = p == 6 ? I : H, ln = p == 4 || p == 7;
            snprintf(nm, sizeof nm, "encoder.layer.%d.%s.weight", l, parts[p]);
            ADD(nm, out, ln ? 0 : in);
            snprintf(nm, sizeof nm, "encoder.layer.%d.%s.bias", l, parts[p]);
            ADD(nm, out, 0);
        }
#undef ADD
    return n;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static const char *CONFIG = "{\"architectures\":[\"BertModel\"],\"model_type\":\"bert\",\"vocab_size\":11,"
                            "\"hidden_size\":4,\"num_hidden_layers\":2,\"num_attention_heads\":2,"
                            "\"intermediate_size\":6,\"max_position_embeddings\":8,\"type_vocab_size\":2,"
                            "\"hidden_act\":\"gelu\",\"layer_norm_eps\":1e-12}";

/* Writes dir/config.json (config) and dir/model.safetensors as v says. */
static void write_model(const Variant *v, const char *config) {
    char path[128];
    snprintf(path, sizeof path, "%s/config.json", dir);
    write_text(path, config);
    T t[5 + 16 * L + 2];
    int n = tensors(t);
    char *header = malloc(65536), *data = malloc(65536);
    size_t h = 0, d = 0;
    h += (size_t)snprintf(header + h, 65536 - h, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (int i = 0; i < n + (v->extras ? 2 : 0); i++) {
        const int extra = i >= n;
        char nm[128];
        int r = extra ? (i == n ? H : 1) : t[i].r, c = extra ? (i == n ? H : P) : t[i].c;
        const char *base = extra ? (i == n ? "pooler.dense.weight" : "embeddings.position_ids") : t[i].name;
        if (v->drop && !strcmp(base, v->drop)) continue;
        if (v->transpose && !strcmp(base, v->transpose)) {
            const int s = r;
            r = c, c = s;
        }
        snprintf(nm, sizeof nm, "%s%.100s", v->prefix ? "bert." : "", base);
        if (v->gamma_beta && strstr(nm, "LayerNorm.")) {
            char *dot = strrchr(nm, '.');
            strcpy(dot, !strcmp(dot, ".weight") ? ".gamma" : ".beta");
        }
        const int numel = r * (c ? c : 1);
        const int half = v->half && i == 0, i64 = extra && i == n + 1;
        const size_t size = i64 ? 8 : half ? 2 : 4;
        const char *dtype = i64 ? "I64" : half ? "F16" : "F32";
        if (c)
            h += (size_t)snprintf(header + h, 65536 - h, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%d,%d],\"data_offsets\":[%zu,%zu]}",
                                  nm, dtype, r, c, d, d + numel * size);
        else
            h += (size_t)snprintf(header + h, 65536 - h, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%d],\"data_offsets\":[%zu,%zu]}",
                                  nm, dtype, r, d, d + numel * size);
        for (int e = 0; e < numel; e++) {
            const float x = value(i, e);
            if (i64) {
                const int64_t q = e;
                memcpy(data + d, &q, 8);
            } else if (half) {      // exact: a multiple of 1/8 in (-100, 156)
                uint32_t bits;
                memcpy(&bits, &x, 4);
                const uint16_t hb = (uint16_t)((bits >> 16 & 0x8000) | (((bits >> 23 & 0xff) - 112) << 10) |
                                               (bits >> 13 & 0x3ff));
                memcpy(data + d, &hb, 2);
            } else {
                memcpy(data + d, &x, 4);
            }
            d += size;
        }
    }
    h += (size_t)snprintf(header + h, 65536 - h, "}");
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FILE *f = fopen(path, "wb");
    if (f) {
        const uint64_t hl = h;
        fwrite(&hl, 8, 1, f);
        fwrite(header, 1, h, f);
        fwrite(data, 1, d, f);
        fclose(f);
    }
    free(header);
    free(data);
}

static void test_loads(const char *what, const Variant *v) {
    write_model(v, CONFIG);
    Bert b;
    char err[512] = "";
    const int rc = bert_load(&b, dir, err, sizeof err);
    CHECK(rc == 0, "%s: refused (%d): %s", what, rc, err);
    if (rc) return;
    T t[5 + 16 * L];
    const int n = tensors(t);
    size_t total = 0;
    for (int i = 0; i < n; i++) total += (size_t)t[i].r * (t[i].c ? t[i].c : 1);
    CHECK(b.n_params == total, "%s: %zu parameters, want %zu", what, b.n_params, total);
    CHECK(b.c.hidden == H && b.c.layers == L && b.c.heads == HEADS && b.c.intermediate == I && b.c.vocab == V &&
          b.c.max_positions == P && b.c.type_vocab == TV && b.c.ln_eps == 1e-12, "%s: the config's values", what);
    // spot values: tensor number t of the list, element e
    const struct {
        const float *p;
        int t, e;
    } spots[] = {
        {b.word, 0, 0}, {b.word, 0, V * H - 1}, {b.pos, 1, 5}, {b.type, 2, 7}, {b.emb_ln_g, 3, 2}, {b.emb_ln_b, 4, 3},
        {b.layer[0].q_w, 5, 9}, {b.layer[0].k_b, 8, 1}, {b.layer[0].ln1_g, 13, 0}, {b.layer[0].i_w, 15, I * H - 1},
        {b.layer[1].f_w, 5 + 16 + 12, H * I - 1}, {b.layer[1].ln2_b, 5 + 16 + 15, 3},
    };
    int bad = 0;
    for (size_t s = 0; s < sizeof spots / sizeof spots[0]; s++)
        if (!spots[s].p || spots[s].p[spots[s].e] != value(spots[s].t, spots[s].e)) bad++;
    CHECK(bad == 0, "%s: %d of %zu spot values not where bert.h says", what, bad, sizeof spots / sizeof spots[0]);
    bert_free(&b);
    CHECK(!b.params && !b.layer, "bert_free empties it");
}

/* The folder (as v and config write it) is refused with 2, one line containing want1, want2. */
static void test_refused(const char *what, const Variant *v, const char *config, const char *want1,
                         const char *want2) {
    write_model(v, config);
    Bert b;
    char err[512] = "";
    const int rc = bert_load(&b, dir, err, sizeof err);
    CHECK(rc == 2 && !strchr(err, '\n') && strstr(err, dir) && strstr(err, want1) && (!want2 || strstr(err, want2)),
          "%s: rc %d, \"%s\"", what, rc, err);
    CHECK(!b.params && !b.layer, "%s: nothing left", what);
}

/* The committed fixture: run from the repository root. */
static void test_fixture(void) {
    const char *fx = "tests/fixtures/tiny-bert";
    Bert b;
    char err[512] = "";
    int rc = bert_load(&b, fx, err, sizeof err);
    CHECK(rc == 0 && b.c.hidden == 32 && b.c.layers == 2 && b.c.heads == 4 && b.c.intermediate == 64 &&
          b.c.vocab == 69 && b.c.max_positions == 128, "%s loads: %d %s", fx, rc, err);
    // parameters: embeddings (69 + 128 + 2)·32 + 2·32, per layer 4·(32·32 + 32) + 2·(64·32) + 64 + 32 + 4·32
    CHECK(rc || b.n_params == (size_t)(199 * 32 + 64 + 2 * (4 * 1056 + 2 * 2048 + 96 + 128)),
          "%s: %zu parameters", fx, b.n_params);
    if (!rc) bert_free(&b);
    WordPiece wp;
    rc = wp_open(&wp, "tests/fixtures/tiny-bert/vocab.txt", &(WpOptions){.lower = 1, .strip_accents = -1, .chinese = 1},
                 err, sizeof err);
    int32_t ids[16];
    const int n = rc ? 0 : wp_tokenize(ids, 16, &wp, "Click here, WIN money!", 22);
    CHECK(rc == 0 && wp.n == 69 && n == 6 && ids[0] == wp_id(&wp, "click", 5) && ids[2] == wp_id(&wp, ",", 1) &&
          ids[5] == wp_id(&wp, "!", 1), "its vocab.txt as a tokenizer: %d %s, %d pieces", rc, err, n);
    if (!rc) wp_close(&wp);
    SafeTensors ref;
    rc = st_open(&ref, "tests/fixtures/tiny-bert/reference.safetensors", err, sizeof err);
    const StTensor *h = rc ? NULL : st_find(&ref, "last_hidden_state");
    const StTensor *g = rc ? NULL : st_find(&ref, "lora.1.value.A.grad");
    CHECK(h && h->ndim == 3 && h->shape[0] == 3 && h->shape[1] == 9 && h->shape[2] == 32 && g && g->shape[0] == 4 &&
          g->shape[1] == 32 && st_find(&ref, "attention_mask") && st_find(&ref, "head.weight.grad"),
          "its reference: hidden states (3, 9, 32), LoRA gradients (4, 32): %d %s", rc, err);
    if (!rc) st_close(&ref);
}

/* The encoder's forward pass on the CPU backend against the PyTorch reference: the last
 * hidden states of every token (padding included) and both poolings, within fp32 tolerance. */
static void test_forward(void) {
    Bert b;
    SafeTensors ref;
    char err[512] = "";
    if (bert_load(&b, "tests/fixtures/tiny-bert", err, sizeof err) ||
        st_open(&ref, "tests/fixtures/tiny-bert/reference.safetensors", err, sizeof err)) {
        CHECK(0, "fixture: %s", err);
        return;
    }
    const StTensor *ti = st_find(&ref, "input_ids"), *tt = st_find(&ref, "token_type_ids");
    const StTensor *tm = st_find(&ref, "attention_mask"), *th = st_find(&ref, "last_hidden_state");
    const int nb = (int)ti->shape[0], nt = (int)ti->shape[1], nh = b.c.hidden, N = nb * nt;
    int32_t *ids = malloc(N * sizeof(int32_t)), *types = malloc(N * sizeof(int32_t)), *m32 = malloc(N * sizeof(int32_t));
    uint8_t *mask = malloc(N);
    float *got = malloc((size_t)N * nh * sizeof(float)), *want = malloc((size_t)N * nh * sizeof(float));
    float *pg = malloc((size_t)nb * nh * sizeof(float)), *pw = malloc((size_t)nb * nh * sizeof(float));
    tiny_bert_i32(ids, ti);
    tiny_bert_i32(types, tt);
    tiny_bert_i32(m32, tm);
    for (int i = 0; i < N; i++) mask[i] = (uint8_t)m32[i];
    st_to_float(want, th, "reference", err, sizeof err);
    int rc = bert_forward(got, &b, &backend_cpu, ids, types, mask, nb, nt, err, sizeof err);
    CHECK(rc == 0, "bert_forward: %d %s", rc, err);
    double worst = 0;
    int bad = 0;
    for (size_t i = 0; i < (size_t)N * nh; i++) {
        const double e = fabs((double)got[i] - want[i]), tol = 1e-4 + 1e-4 * fabs(want[i]);
        if (e / tol > worst) worst = e / tol;
        bad += !(e <= tol);
    }
    CHECK(bad == 0, "last hidden states vs PyTorch: %d of %d out of tolerance", bad, N * nh);
    printf("  last hidden states (%d x %d x %d) vs PyTorch: worst error/tolerance %.3f\n", nb, nt, nh, worst);
    for (int cls = 1; cls >= 0; cls--) {
        backend_cpu.pool_forward(pg, got, mask, nb, nt, nh, cls);
        st_to_float(pw, st_find(&ref, cls ? "pooled_cls" : "pooled_mean"), "reference", err, sizeof err);
        bad = 0;
        for (int i = 0; i < nb * nh; i++) bad += !(fabs((double)pg[i] - pw[i]) <= 1e-4 + 1e-4 * fabs(pw[i]));
        CHECK(bad == 0, "%s pooling vs PyTorch: %d of %d out of tolerance", cls ? "cls" : "mean", bad, nb * nh);
    }
    // out of range inputs are refused
    ids[3] = b.c.vocab;
    rc = bert_forward(got, &b, &backend_cpu, ids, types, mask, nb, nt, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "out of the model's range"), "an id past the vocabulary: %d %s", rc, err);
    ids[3] = 0;
    rc = bert_forward(got, &b, &backend_cpu, ids, types, mask, 1, b.c.max_positions + 1, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "positions"), "more tokens than positions: %d %s", rc, err);
    free(ids); free(types); free(m32); free(mask); free(got); free(want); free(pg); free(pw);
    st_close(&ref);
    bert_free(&b);
}

int main(void) {
    test_fixture();
    test_forward();
    snprintf(dir, sizeof dir, "/tmp/alsim-bert-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    test_loads("BertModel naming", &(Variant){0});
    test_loads("a BertFor... checkpoint: bert. prefix, gamma/beta, F16, extras",
               &(Variant){.prefix = 1, .gamma_beta = 1, .half = 1, .extras = 1});

    test_refused("a tensor missing", &(Variant){.drop = "encoder.layer.1.attention.self.value.bias"}, CONFIG,
                 "no tensor 'encoder.layer.1.attention.self.value.bias'", "2 layers");
    test_refused("a tensor transposed", &(Variant){.prefix = 1, .transpose = "encoder.layer.0.intermediate.dense.weight"},
                 CONFIG, "'bert.encoder.layer.0.intermediate.dense.weight': shape [4, 6]", "implies [6, 4]");
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "%s", CONFIG);
    memcpy(strstr(cfg, "\"hidden_size\":4") + 11, "X", 1);      // "hidden_sizX": no hidden_size
    test_refused("no hidden_size", &(Variant){0}, cfg, "config.json", "\"hidden_size\"");
    snprintf(cfg, sizeof cfg, "%s", CONFIG);
    memcpy(strstr(cfg, "\"num_attention_heads\":2") + 22, "3", 1);
    test_refused("heads do not divide hidden", &(Variant){0}, cfg, "\"hidden_size\" 4 is not a multiple", NULL);
    snprintf(cfg, sizeof cfg, "%s", CONFIG);
    memcpy(strstr(cfg, "\"gelu\""), "\"relu\"", 6);
    test_refused("relu", &(Variant){0}, cfg, "config.json", "\"hidden_act\"");
    snprintf(cfg, sizeof cfg, "%s", CONFIG);
    memcpy(strstr(cfg, "\"bert\""), "\"bart\"", 6);
    test_refused("another model type", &(Variant){0}, cfg, "\"model_type\"", NULL);
    snprintf(cfg, sizeof cfg, "%s", CONFIG);
    memcpy(strstr(cfg, "\"vocab_size\":11"), "\"vocab_size\":-1", 15);
    test_refused("a negative vocab", &(Variant){0}, cfg, "\"vocab_size\" must be an integer", NULL);
    test_refused("not JSON", &(Variant){0}, "{\"vocab_size\":", "config.json: not a JSON object", NULL);
    write_model(&(Variant){0}, CONFIG);
    char path[128];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    unlink(path);
    Bert b;
    char err[512];
    const int rc = bert_load(&b, dir, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "model.safetensors") && strstr(err, "cannot open"), "no weights file: %d %s", rc, err);
    snprintf(path, sizeof path, "%s/config.json", dir);
    unlink(path);
    rmdir(dir);
    return check_done("test_bert");
}
