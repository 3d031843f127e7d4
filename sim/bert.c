/* bert — loading a BERT-family encoder from a model folder (contract: bert.h). */
#include "sim/bert.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
// the forward pass

int bert_forward(float *hidden, const Bert *b, const Backend *be, const int32_t *ids,
                 const int32_t *types, const uint8_t *mask, int B, int T, char *err, size_t errlen) {
    const BertConfig *c = &b->c;
    const int H = c->hidden, I = c->intermediate, N = B * T;
    if (T > c->max_positions) {
        snprintf(err, errlen, "bert: %d tokens, more than the model's %d positions", T, c->max_positions);
        return 2;
    }
    for (int i = 0; i < N; i++)
        if (ids[i] < 0 || ids[i] >= c->vocab || types[i] < 0 || types[i] >= c->type_vocab) {
            snprintf(err, errlen, "bert: token %d: id %d or type %d out of the model's range", i, ids[i], types[i]);
            return 2;
        }
    // backend buffers: the weights, then x, q, k, v, ctx, a (N,H), inter (N,I), probs, ids, types, mask
    const size_t np = b->n_params, nh = (size_t)N * H, npr = (size_t)B * c->heads * T * T;
    // the weights: read in place from host memory, else a backend copy for the call
    const float *w = be->host_memory ? b->params : be->alloc(np * sizeof(float));
    float *buf = be->alloc((6 * nh + (size_t)N * I + npr) * sizeof(float));
    int32_t *d_ids = be->alloc(2 * (size_t)N * sizeof(int32_t));
    uint8_t *d_mask = be->alloc((size_t)N);
    if (!w || !buf || !d_ids || !d_mask) {
        if (!be->host_memory) be->free((float *)w);
        be->free(buf); be->free(d_ids); be->free(d_mask);
        snprintf(err, errlen, "bert: out of memory for %d tokens", N);
        return 3;
    }
    if (!be->host_memory) be->upload((float *)w, b->params, np * sizeof(float));
    be->upload(d_ids, ids, (size_t)N * sizeof(int32_t));
    be->upload(d_ids + N, types, (size_t)N * sizeof(int32_t));
    be->upload(d_mask, mask, (size_t)N);
#define W(p) (w + ((p) - b->params))        /* a weight's place in the uploaded block */
    float *x = buf, *q = x + nh, *k = q + nh, *v = k + nh, *ctx = v + nh, *a = ctx + nh;
    float *inter = a + nh, *probs = inter + (size_t)N * I;
    const float eps = (float)c->ln_eps, scale = 1.0f / sqrtf((float)(H / c->heads));
    be->embed_forward(x, d_ids, d_ids + N, W(b->word), W(b->pos), W(b->type), B, T, H);
    be->layernorm_forward(x, NULL, x, W(b->emb_ln_g), W(b->emb_ln_b), N, H, eps);
    for (int l = 0; l < c->layers; l++) {
        const BertLayer *y = &b->layer[l];
        be->matmul_forward(q, x, W(y->q_w), W(y->q_b), N, H, H);
        be->matmul_forward(k, x, W(y->k_w), W(y->k_b), N, H, H);
        be->matmul_forward(v, x, W(y->v_w), W(y->v_b), N, H, H);
        be->attention_forward(ctx, probs, q, k, v, d_mask, B, T, H, c->heads, scale);
        be->matmul_forward(a, ctx, W(y->o_w), W(y->o_b), N, H, H);     // a = LN(ctx Woᵀ + bo + x)
        be->axpy(a, x, 1.0f, nh);
        be->layernorm_forward(a, NULL, a, W(y->ln1_g), W(y->ln1_b), N, H, eps);
        be->matmul_forward(inter, a, W(y->i_w), W(y->i_b), N, H, I);   // x = LN(gelu(a Wiᵀ + bi) Wfᵀ + bf + a)
        be->gelu_forward(inter, inter, (size_t)N * I);
        be->matmul_forward(x, inter, W(y->f_w), W(y->f_b), N, I, H);
        be->axpy(x, a, 1.0f, nh);
        be->layernorm_forward(x, NULL, x, W(y->ln2_g), W(y->ln2_b), N, H, eps);
    }
#undef W
    be->download(hidden, x, nh * sizeof(float));
    if (!be->host_memory) be->free((float *)w);
    be->free(buf); be->free(d_ids); be->free(d_mask);
    return 0;
}

void bert_pool(float *pooled, const float *hidden, const uint8_t *mask, int B, int T, int H, int cls) {
    for (int s = 0; s < B; s++) {
        float *o = pooled + (size_t)s * H;
        const float *h0 = hidden + (size_t)s * T * H;
        if (cls) {
            memcpy(o, h0, (size_t)H * sizeof(float));
            continue;
        }
        int n = 0;
        for (int j = 0; j < H; j++) o[j] = 0.0f;
        for (int t = 0; t < T; t++)
            if (mask[s * T + t]) {
                n++;
                for (int j = 0; j < H; j++) o[j] += h0[(size_t)t * H + j];
            }
        for (int j = 0; j < H; j++) o[j] = n ? o[j] / (float)n : 0.0f;
    }
}
