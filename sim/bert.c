/* bert — loading a BERT-family encoder from a model folder (contract: bert.h). */
#include "sim/bert.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/sha256.h"
#include "sim/safetensors.h"
#include "sim/util.h"

/* *out = config key as a positive integer (at most max). Returns 0, or 2 with err. */
static int config_int(int *out, const cJSON *root, const char *key, int max, const char *path, char *err,
                      size_t errlen) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v) {
        snprintf(err, errlen, "%s: no \"%s\" (a BERT config.json has it)", path, key);
        return 2;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > max || v->valuedouble != (int)v->valuedouble) {
        snprintf(err, errlen, "%s: \"%s\" must be an integer from 1 to %d", path, key, max);
        return 2;
    }
    *out = (int)v->valuedouble;
    return 0;
}

/* 1 when key is absent or a string equal to one of the NULL-terminated allowed values. */
static int config_string_in(const cJSON *root, const char *key, const char *const *allowed) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v) return 1;
    if (!cJSON_IsString(v)) return 0;
    for (int i = 0; allowed[i]; i++)
        if (!strcmp(v->valuestring, allowed[i])) return 1;
    return 0;
}

int bert_config_read(BertConfig *c, const char *path, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    char *text = NULL;
    size_t len = 0;
    int rc = util_read_file(&text, &len, path, err, errlen);
    if (rc) return rc;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "%s: not a JSON object", path);
        cJSON_Delete(root);
        return 2;
    }
    static const char *const models[] = {"bert", NULL}, *const acts[] = {"gelu", NULL},
                             *const positions[] = {"absolute", NULL};
    if (!config_string_in(root, "model_type", models))
        snprintf(err, errlen, "%s: \"model_type\" is not \"bert\": alsim loads BERT's layout only", path), rc = 2;
    else if (!config_string_in(root, "hidden_act", acts))
        snprintf(err, errlen, "%s: \"hidden_act\" is not \"gelu\" (the erf GELU), the only one alsim runs", path), rc = 2;
    else if (!config_string_in(root, "position_embedding_type", positions))
        snprintf(err, errlen, "%s: \"position_embedding_type\" is not \"absolute\", the only one alsim runs", path),
            rc = 2;
    if (!rc) rc = config_int(&c->vocab, root, "vocab_size", 1 << 22, path, err, errlen);
    if (!rc) rc = config_int(&c->hidden, root, "hidden_size", 1 << 16, path, err, errlen);
    if (!rc) rc = config_int(&c->layers, root, "num_hidden_layers", 1024, path, err, errlen);
    if (!rc) rc = config_int(&c->heads, root, "num_attention_heads", 1024, path, err, errlen);
    if (!rc) rc = config_int(&c->intermediate, root, "intermediate_size", 1 << 18, path, err, errlen);
    if (!rc) rc = config_int(&c->max_positions, root, "max_position_embeddings", 1 << 20, path, err, errlen);
    if (!rc) rc = config_int(&c->type_vocab, root, "type_vocab_size", 1 << 16, path, err, errlen);
    if (!rc && c->hidden % c->heads) {
        snprintf(err, errlen, "%s: \"hidden_size\" %d is not a multiple of \"num_attention_heads\" %d", path,
                 c->hidden, c->heads);
        rc = 2;
    }
    c->ln_eps = 1e-12;
    const cJSON *eps = rc ? NULL : cJSON_GetObjectItemCaseSensitive(root, "layer_norm_eps");
    if (eps && !(cJSON_IsNumber(eps) && eps->valuedouble > 0 && eps->valuedouble < 1)) {
        snprintf(err, errlen, "%s: \"layer_norm_eps\" must be a number between 0 and 1", path);
        rc = 2;
    } else if (eps) {
        c->ln_eps = eps->valuedouble;
    }
    cJSON_Delete(root);
    return rc;
}

int bert_model_hash(char hex[65], const char *dir, char *err, size_t errlen) {
    Sha256 s;
    sha256_init(&s);
    const char *files[] = {"config.json", "model.safetensors"};
    for (int i = 0; i < 2; i++) {
        char file[1100], buf[1 << 16];
        snprintf(file, sizeof file, "%s/%s", dir, files[i]);
        FILE *f = fopen(file, "rb");
        if (!f) {
            snprintf(err, errlen, "%s: cannot read it: %s", file, strerror(errno));
            return 2;
        }
        size_t got;
        while ((got = fread(buf, 1, sizeof buf, f)) > 0) sha256_update(&s, buf, got);
        const int failed = ferror(f);
        fclose(f);
        if (failed) {
            snprintf(err, errlen, "%s: cannot read it", file);
            return 2;
        }
    }
    uint8_t d[32];
    sha256_final(d, &s);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return 0;
}

void bert_free(Bert *b) {
    free(b->params);
    free(b->layer);
    memset(b, 0, sizeof *b);
}

/* One tensor the encoder needs: its name (without the checkpoint's prefix; LayerNorm's
 * "weight"/"bias" tried as "gamma"/"beta" too), its shape, and where it goes. */
typedef struct {
    char name[96];
    int rows, cols;     /* cols 0: a vector of rows */
    float **dst;
} Need;

/* The tensor for need, under prefix, in st (LayerNorm's older gamma/beta names too). */
static const StTensor *find(const SafeTensors *st, const char *prefix, const char *name) {
    char full[160];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    const StTensor *t = st_find(st, full);
    const size_t n = strlen(full);
    if (!t && strstr(name, "LayerNorm.")) {     // LayerNorm.weight -> .gamma, .bias -> .beta
        if (n > 7 && !strcmp(full + n - 7, ".weight")) strcpy(full + n - 7, ".gamma");
        else if (n > 5 && !strcmp(full + n - 5, ".bias")) strcpy(full + n - 5, ".beta");
        t = st_find(st, full);
    }
    return t;
}

int bert_load(Bert *b, const char *dir, char *err, size_t errlen) {
    memset(b, 0, sizeof *b);
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    int rc = bert_config_read(&b->c, path, err, errlen);
    if (rc) return rc;
    const BertConfig *c = &b->c;
    const int H = c->hidden, I = c->intermediate, L = c->layers;

    // the list of what the encoder needs, in the order of its parameter block
    const int n_need = 5 + 16 * L;
    Need *need = calloc((size_t)n_need, sizeof *need);
    b->layer = calloc((size_t)L, sizeof *b->layer);
    if (!need || !b->layer) {
        free(need);
        bert_free(b);
        snprintf(err, errlen, "%s: out of memory", dir);
        return 3;
    }
    int k = 0;
#define NEED(nm, r, cl, d) (snprintf(need[k].name, sizeof need[k].name, "%s", nm), need[k].rows = (r), \
                            need[k].cols = (cl), need[k].dst = (d), k++)
    NEED("embeddings.word_embeddings.weight", c->vocab, H, &b->word);
    NEED("embeddings.position_embeddings.weight", c->max_positions, H, &b->pos);
    NEED("embeddings.token_type_embeddings.weight", c->type_vocab, H, &b->type);
    NEED("embeddings.LayerNorm.weight", H, 0, &b->emb_ln_g);
    NEED("embeddings.LayerNorm.bias", H, 0, &b->emb_ln_b);
    for (int l = 0; l < L; l++) {
        BertLayer *y = &b->layer[l];
        static const struct {
            const char *suffix;
            int what;       /* 0: (H,H) and (H); 1: (I,H), (I); 2: (H,I), (H); 3: LayerNorm (H), (H) */
            size_t w, bias; /* offsets of the two pointers in BertLayer */
        } parts[] = {
            {"attention.self.query", 0, offsetof(BertLayer, q_w), offsetof(BertLayer, q_b)},
            {"attention.self.key", 0, offsetof(BertLayer, k_w), offsetof(BertLayer, k_b)},
            {"attention.self.value", 0, offsetof(BertLayer, v_w), offsetof(BertLayer, v_b)},
            {"attention.output.dense", 0, offsetof(BertLayer, o_w), offsetof(BertLayer, o_b)},
            {"attention.output.LayerNorm", 3, offsetof(BertLayer, ln1_g), offsetof(BertLayer, ln1_b)},
            {"intermediate.dense", 1, offsetof(BertLayer, i_w), offsetof(BertLayer, i_b)},
            {"output.dense", 2, offsetof(BertLayer, f_w), offsetof(BertLayer, f_b)},
            {"output.LayerNorm", 3, offsetof(BertLayer, ln2_g), offsetof(BertLayer, ln2_b)},
        };
        for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
            char nm[96];
            const int out = parts[p].what == 1 ? I : H, in = parts[p].what == 2 ? I : H;
            float **w = (float **)((char *)y + parts[p].w), **bias = (float **)((char *)y + parts[p].bias);
            snprintf(nm, sizeof nm, "encoder.layer.%d.%s.weight", l, parts[p].suffix);
            NEED(nm, out, parts[p].what == 3 ? 0 : in, w);
            snprintf(nm, sizeof nm, "encoder.layer.%d.%s.bias", l, parts[p].suffix);
            NEED(nm, out, 0, bias);
        }
    }
#undef NEED

    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    SafeTensors st;
    if ((rc = st_open(&st, path, err, errlen))) {
        free(need);
        bert_free(b);
        return rc;
    }
    // the checkpoint's prefix: none (BertModel) or "bert." (a BertFor... model)
    const char *prefix = find(&st, "", need[0].name) ? "" : find(&st, "bert.", need[0].name) ? "bert." : "";
    size_t total = 0;
    for (int i = 0; i < n_need; i++) total += (size_t)need[i].rows * (size_t)(need[i].cols ? need[i].cols : 1);
    b->params = malloc((total ? total : 1) * sizeof(float));
    if (!b->params) {
        snprintf(err, errlen, "%s: out of memory for %zu parameters", path, total);
        rc = 3;
    }
    size_t at = 0;
    for (int i = 0; i < n_need && !rc; i++) {
        const Need *q = &need[i];
        const StTensor *t = find(&st, prefix, q->name);
        if (!t) {
            snprintf(err, errlen, "%s: no tensor '%s%s' (config.json's %d layers need it)", path, prefix, q->name, L);
            rc = 2;
            break;
        }
        const int ndim = q->cols ? 2 : 1;
        if (t->ndim != ndim || t->shape[0] != q->rows || (ndim == 2 && t->shape[1] != q->cols)) {
            char got[64] = "";
            for (int d = 0, o = 0; d < t->ndim && o < 48; d++)
                o += snprintf(got + o, sizeof got - (size_t)o, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
            if (ndim == 2)
                snprintf(err, errlen, "%s: tensor '%s': shape [%s], config.json implies [%d, %d]", path, t->name, got,
                         q->rows, q->cols);
            else
                snprintf(err, errlen, "%s: tensor '%s': shape [%s], config.json implies [%d]", path, t->name, got,
                         q->rows);
            rc = 2;
            break;
        }
        if ((rc = st_to_float(b->params + at, t, path, err, errlen))) break;
        *q->dst = b->params + at;
        at += (size_t)t->numel;
    }
    b->n_params = at;
    st_close(&st);
    free(need);
    if (rc) bert_free(b);
    return rc;
}

// ----------------------------------------------------------------------------
// the layers, forward and backward

int bert_weights_at(Bert *w, float **block, const Bert *b, const Backend *be) {
    *w = *b;
    *block = NULL;
    w->layer = malloc((size_t)b->c.layers * sizeof *w->layer);
    float *base = be->host_memory ? b->params : be->alloc(b->n_params * sizeof(float));
    if (!w->layer || !base) {
        free(w->layer);
        if (!be->host_memory) be->free(base);
        memset(w, 0, sizeof *w);
        return 3;
    }
    if (!be->host_memory) {
        be->upload(base, b->params, b->n_params * sizeof(float));
        *block = base;
    }
#define AT(p) ((p) ? base + ((p) - b->params) : NULL)
    w->params = base;
    w->word = AT(b->word), w->pos = AT(b->pos), w->type = AT(b->type);
    w->emb_ln_g = AT(b->emb_ln_g), w->emb_ln_b = AT(b->emb_ln_b);
    for (int l = 0; l < b->c.layers; l++) {
        const BertLayer *y = &b->layer[l];
        w->layer[l] = (BertLayer){AT(y->q_w), AT(y->q_b), AT(y->k_w), AT(y->k_b), AT(y->v_w), AT(y->v_b),
                                  AT(y->o_w), AT(y->o_b), AT(y->ln1_g), AT(y->ln1_b), AT(y->i_w), AT(y->i_b),
                                  AT(y->f_w), AT(y->f_b), AT(y->ln2_g), AT(y->ln2_b)};
    }
#undef AT
    return 0;
}

void bert_weights_free(Bert *w, float *block, const Backend *be) {
    free(w->layer);
    if (block) be->free(block);
    memset(w, 0, sizeof *w);
}

size_t bert_acts_floats(const BertConfig *c, int B, int T, int R) {
    const size_t N = (size_t)B * T;
    return N * (7 * (size_t)c->hidden + 2 * (size_t)c->intermediate + 4 + 2 * (size_t)R) +
           (size_t)B * c->heads * T * T;
}

void bert_acts_at(BertActs *s, float *block, const BertConfig *c, int B, int T, int R) {
    const size_t N = (size_t)B * T, nh = N * c->hidden, ni = N * c->intermediate;
    float *p = block;
    s->q = p, p += nh;
    s->k = p, p += nh;
    s->v = p, p += nh;
    s->ctx = p, p += nh;
    s->a_pre = p, p += nh;
    s->a = p, p += nh;
    s->f_pre = p, p += nh;
    s->i_pre = p, p += ni;
    s->inter = p, p += ni;
    s->stats1 = p, p += 2 * N;
    s->stats2 = p, p += 2 * N;
    s->uq = R ? p : NULL, p += N * R;
    s->uv = R ? p : NULL, p += N * R;
    s->probs = p;
}

void bert_embed(float *x, const Backend *be, const Bert *w, const int32_t *ids, const int32_t *types,
                int B, int T) {
    be->embed_forward(x, ids, types, w->word, w->pos, w->type, B, T, w->c.hidden);
    be->layernorm_forward(x, NULL, x, w->emb_ln_g, w->emb_ln_b, B * T, w->c.hidden, (float)w->c.ln_eps);
}

/* out (N,H) = x·Wᵀ + b, plus scale·(x·Aᵀ)·Bᵀ into u (N,R) and tmp (N,H) when A is given. */
static void projection(float *out, float *u, float *tmp, const Backend *be, const float *x, const float *W,
                       const float *bias, const float *A, const float *Bm, int R, float scale, int N, int H) {
    be->matmul_forward(out, x, W, bias, N, H, H);
    if (!A) return;
    be->matmul_forward(u, x, A, NULL, N, H, R);
    be->matmul_forward(tmp, u, Bm, NULL, N, R, H);
    be->axpy(out, tmp, scale, (size_t)N * H);
}

void bert_layer_forward(float *out, BertActs *s, const Backend *be, const BertConfig *c,
                        const BertLayer *w, const BertLora *lora, int R, float scale,
                        const uint8_t *mask, int B, int T) {
    const int N = B * T, H = c->hidden, I = c->intermediate;
    const size_t nh = (size_t)N * H;
    const float eps = (float)c->ln_eps;
    // q, k, v (the adapters' product passes through ctx, not yet written)
    projection(s->q, s->uq, s->ctx, be, s->x, w->q_w, w->q_b, lora ? lora->qa : NULL, lora ? lora->qb : NULL, R,
               scale, N, H);
    be->matmul_forward(s->k, s->x, w->k_w, w->k_b, N, H, H);
    projection(s->v, s->uv, s->ctx, be, s->x, w->v_w, w->v_b, lora ? lora->va : NULL, lora ? lora->vb : NULL, R,
               scale, N, H);
    be->attention_forward(s->ctx, s->probs, s->q, s->k, s->v, mask, B, T, H, c->heads,
                          1.0f / sqrtf((float)(H / c->heads)));
    // a = LN(ctx Woᵀ + bo + x)
    be->matmul_forward(s->a_pre, s->ctx, w->o_w, w->o_b, N, H, H);
    be->axpy(s->a_pre, s->x, 1.0f, nh);
    be->layernorm_forward(s->a, s->stats1, s->a_pre, w->ln1_g, w->ln1_b, N, H, eps);
    // out = LN(gelu(a Wiᵀ + bi) Wfᵀ + bf + a)
    be->matmul_forward(s->i_pre, s->a, w->i_w, w->i_b, N, H, I);
    be->gelu_forward(s->inter, s->i_pre, (size_t)N * I);
    be->matmul_forward(s->f_pre, s->inter, w->f_w, w->f_b, N, I, H);
    be->axpy(s->f_pre, s->a, 1.0f, nh);
    be->layernorm_forward(out, s->stats2, s->f_pre, w->ln2_g, w->ln2_b, N, H, eps);
}

size_t bert_backward_floats(const BertConfig *c, int B, int T, int R) {
    return (size_t)B * T * ((size_t)c->intermediate + 4 * (size_t)c->hidden + (size_t)R);
}

/* The gradients of projection: dW, dbias (NULL: frozen), dA, dB (NULL: no adapter) from dout
 * (N,H); dx (N,H) += the input's (skipped when NULL). tmp (N,H), du (N,R): work. */
static void projection_backward(float *dx, float *dW, float *dbias, float *dA, float *dB, float *tmp, float *du,
                                const Backend *be, const float *dout, const float *x, const float *W, const float *u,
                                const float *A, const float *Bm, int R, float scale, int N, int H) {
    const size_t nh = (size_t)N * H;
    if (dx || dW) {
        be->matmul_backward(dx ? tmp : NULL, dW, dbias, dout, x, W, N, H, H);
        if (dx) be->axpy(dx, tmp, 1.0f, nh);
    }
    if (!dA) return;
    // out += scale·u·Bᵀ, u = x·Aᵀ: dB = scale·doutᵀ·u, du = scale·dout·B, dA = duᵀ·x, dx += du·A
    be->zero(tmp, nh * sizeof(float));
    be->axpy(tmp, dout, scale, nh);
    be->matmul_backward(du, dB, NULL, tmp, u, Bm, N, R, H);
    be->matmul_backward(dx ? tmp : NULL, dA, NULL, du, x, A, N, H, R);
    if (dx) be->axpy(dx, tmp, 1.0f, nh);
}

void bert_layer_backward(float *dx, BertLayer *dw, BertLora *dlora, float *work, float *dout,
                         const BertActs *s, const Backend *be, const BertConfig *c,
                         const BertLayer *w, const BertLora *lora, int R, float scale, int B, int T) {
    const int N = B * T, H = c->hidden, I = c->intermediate;
    const size_t nh = (size_t)N * H;
    float *d_inter = work, *tmp = d_inter + (size_t)N * I, *dq = tmp + nh, *dk = dq + nh, *dv = dk + nh;
    float *du = dv + nh;
#define DW(f) (dw ? dw->f : NULL)
    // out = LN2(f_pre), f_pre = inter·Wfᵀ + bf + a, inter = gelu(i_pre), i_pre = a·Wiᵀ + bi
    be->layernorm_backward(dout, DW(ln2_g), DW(ln2_b), dout, s->f_pre, s->stats2, w->ln2_g, N, H);
    be->matmul_backward(d_inter, DW(f_w), DW(f_b), dout, s->inter, w->f_w, N, I, H);
    be->gelu_backward(d_inter, d_inter, s->i_pre, (size_t)N * I);
    be->matmul_backward(tmp, DW(i_w), DW(i_b), d_inter, s->a, w->i_w, N, H, I);
    be->axpy(dout, tmp, 1.0f, nh);                              // dout = d a
    // a = LN1(a_pre), a_pre = ctx·Woᵀ + bo + x
    be->layernorm_backward(dout, DW(ln1_g), DW(ln1_b), dout, s->a_pre, s->stats1, w->ln1_g, N, H);
    be->matmul_backward(tmp, DW(o_w), DW(o_b), dout, s->ctx, w->o_w, N, H, H);     // tmp = d ctx
    be->attention_backward(dq, dk, dv, tmp, s->probs, s->q, s->k, s->v, B, T, H, c->heads,
                           1.0f / sqrtf((float)(H / c->heads)));
    // the input: the residual (dout, d a_pre) and the three projections
    if (dx) {
        be->zero(dx, nh * sizeof(float));
        be->axpy(dx, dout, 1.0f, nh);
    }
    projection_backward(dx, DW(q_w), DW(q_b), dlora ? dlora->qa : NULL, dlora ? dlora->qb : NULL, tmp, du, be, dq,
                        s->x, w->q_w, s->uq, lora ? lora->qa : NULL, lora ? lora->qb : NULL, R, scale, N, H);
    projection_backward(dx, DW(k_w), DW(k_b), NULL, NULL, tmp, du, be, dk, s->x, w->k_w, NULL, NULL, NULL, R, scale,
                        N, H);
    projection_backward(dx, DW(v_w), DW(v_b), dlora ? dlora->va : NULL, dlora ? dlora->vb : NULL, tmp, du, be, dv,
                        s->x, w->v_w, s->uv, lora ? lora->va : NULL, lora ? lora->vb : NULL, R, scale, N, H);
#undef DW
}

// ----------------------------------------------------------------------------
// the forward pass

/* The weights' backend view and its block, behind BertEncoder's opaque pointer. */
struct BertWeights {
    Bert w;
    float *block;
};

int bert_encoder_open(BertEncoder *e, const Bert *b, const Backend *be, int B, int T, char *err,
                      size_t errlen) {
    memset(e, 0, sizeof *e);
    e->b = b, e->be = be, e->B = B, e->T = T;
    const size_t N = (size_t)B * T, nh = N * b->c.hidden;
    e->w = calloc(1, sizeof *e->w);
    if (e->w && bert_weights_at(&e->w->w, &e->w->block, b, be)) {
        free(e->w);
        e->w = NULL;
    }
    e->buf = be->alloc((2 * nh + bert_acts_floats(&b->c, B, T, 0)) * sizeof(float));
    e->ids = be->alloc(2 * N * sizeof(int32_t));
    e->mask = be->alloc(N);
    if (!e->w || !e->buf || !e->ids || !e->mask) {
        bert_encoder_close(e);
        snprintf(err, errlen, "bert: out of memory for %d sequences of %d tokens", B, T);
        return 3;
    }
    return 0;
}

void bert_encoder_close(BertEncoder *e) {
    if (e->w) {
        bert_weights_free(&e->w->w, e->w->block, e->be);
        free(e->w);
    }
    if (e->be) {
        e->be->free(e->buf);
        e->be->free(e->ids);
        e->be->free(e->mask);
    }
    memset(e, 0, sizeof *e);
}

int bert_encoder_run(float *hidden, BertEncoder *e, const int32_t *ids, const int32_t *types,
                     const uint8_t *mask, int B, int T, char *err, size_t errlen) {
    const BertConfig *c = &e->b->c;
    const Backend *be = e->be;
    const int H = c->hidden, N = B * T;
    if (T > c->max_positions) {
        snprintf(err, errlen, "bert: %d tokens, more than the model's %d positions", T, c->max_positions);
        return 2;
    }
    if (B > e->B || T > e->T || B < 1 || T < 1) {
        snprintf(err, errlen, "bert: %d sequences of %d tokens, outside the encoder's %d of %d", B, T, e->B, e->T);
        return 2;
    }
    for (int i = 0; i < N; i++)
        if (ids[i] < 0 || ids[i] >= c->vocab || types[i] < 0 || types[i] >= c->type_vocab) {
            snprintf(err, errlen, "bert: token %d: id %d or type %d out of the model's range", i, ids[i], types[i]);
            return 2;
        }
    be->upload(e->ids, ids, (size_t)N * sizeof(int32_t));
    be->upload(e->ids + N, types, (size_t)N * sizeof(int32_t));
    be->upload(e->mask, mask, (size_t)N);
    // x and the next x (N,H) at the capacity's stride, then one layer's activations
    const size_t cap = (size_t)e->B * e->T * H;
    float *x = e->buf, *next = x + cap;
    BertActs s;
    bert_acts_at(&s, next + cap, c, e->B, e->T, 0);
    bert_embed(x, be, &e->w->w, e->ids, e->ids + N, B, T);
    for (int l = 0; l < c->layers; l++) {
        s.x = x;
        bert_layer_forward(next, &s, be, c, &e->w->w.layer[l], NULL, 0, 0.0f, e->mask, B, T);
        float *t = x;
        x = next, next = t;
    }
    be->download(hidden, x, (size_t)N * H * sizeof(float));
    return 0;
}

int bert_forward(float *hidden, const Bert *b, const Backend *be, const int32_t *ids,
                 const int32_t *types, const uint8_t *mask, int B, int T, char *err, size_t errlen) {
    BertEncoder e;
    int rc = bert_encoder_open(&e, b, be, B, T, err, errlen);
    if (!rc) rc = bert_encoder_run(hidden, &e, ids, types, mask, B, T, err, errlen);
    bert_encoder_close(&e);
    return rc;
}
