/* bert — loading a BERT-family encoder from a model folder (contract: bert.h). */
#include "sim/bert.h"

#include <cjson/cJSON.h>
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
