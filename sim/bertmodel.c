/* bertmodel — a BERT-family encoder fine-tuned each round, as a model (contract: bertmodel.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/tokens.h"
#include "sim/bertmodel.h"
#include "sim/model.h"
#include "sim/rng.h"
#include "sim/util.h"
#include "strategies/strategy.h"  /* NEEDS_* */

enum { PREDICT_SEQS = 32 };         /* sequences a chunk when predicting (at least --minibatch) */

typedef struct {
    const Backend *be;
    Bert host;                      /* the weights as loaded (host) */
    Bert w;                         /* their backend view (frozen) */
    float *w_block;                 /* its copy on a GPU; NULL on the CPU */
    BertConfig c;
    int K, R, last_k, first;        /* classes; adapters' rank; trained layers; the lowest one */
    int cls, T, minibatch, cap;     /* pooling; the rows' width; rows a step; sequences a chunk */
    float scale, dropout, lr, wd;
    /* trained parameters: one backend block of 4·n_train floats: params | grads | Adam m | v */
    size_t n_train;
    float *train, *grads, *am, *av;
    int adam_t;
    float *init;                    /* host (n_train): the seed's initial values */
    float *head_w, *head_b;         /* (K,H), (K): in train */
    BertLayer *layer, *dlayer;      /* (L) the weights each layer runs with, and the trained
                                       layers' gradients (zeroed structs below first) */
    BertLora *lora, *dlora;         /* (L) the adapters and their gradients (R > 0) */
    /* scratch for cap sequences of T tokens, backend buffers in one block */
    float *scratch;
    float *xs;                      /* (L+1, cap·T, H): the embeddings, then each layer's output */
    BertActs *act;                  /* (L) host structs pointing into scratch */
    float *work, *dx0, *dx1;        /* backward: bert_backward_floats; two (cap·T,H) */
    float *pooled, *drop, *dpool;   /* (cap,H) */
    float *logits, *probs, *dlogits;/* (cap,K) */
    int32_t *ids, *targets;         /* (2·cap·T): ids, then token types (0); (cap) */
    uint8_t *mask;                  /* (cap·T) */
    int32_t *h_ids, *h_y;           /* host staging: (cap·T), (cap) */
    uint8_t *h_mask;                /* (cap·T) */
    float *h_probs;                 /* (cap,K) */
} BertNet;

static BertNet *net_of(const Model *m) { return m->impl; }

int bert_finetune_parse(int *lora_rank, int *last_k, const char *spec) {
    *lora_rank = *last_k = 0;
    if (!strcmp(spec, "none")) return 0;
    const char *num = !strncmp(spec, "lora:", 5) ? spec + 5 : !strncmp(spec, "head+last:", 10) ? spec + 10 : NULL;
    if (!num || !*num) return -1;
    char *end;
    const long v = strtol(num, &end, 10);
    if (*end || v < 1 || v > 4096) return -1;
    *(num == spec + 5 ? lora_rank : last_k) = (int)v;
    return 0;
}

int bert_check_options(const Config *c, char *err, size_t errlen) {
    int r, k;
    const char *dir = model_folder(c);
    if (bert_finetune_parse(&r, &k, c->finetune)) {
        snprintf(err, errlen, "--finetune: '%s' is not none, lora:R or head+last:K (R, K positive integers)", c->finetune);
        return ALSIM_BAD_INPUT;
    }
    if (strcmp(c->pooling, "cls") && strcmp(c->pooling, "mean")) {
        snprintf(err, errlen, "--pooling: '%s' is not cls or mean", c->pooling);
        return ALSIM_BAD_INPUT;
    }
    if (strcmp(c->head, "mlp") && strcmp(c->head, "logreg")) {
        snprintf(err, errlen, "--head: '%s' is not mlp or logreg", c->head);
        return ALSIM_BAD_INPUT;
    }
    if (dir && !*dir) {
        snprintf(err, errlen, "--model bert: needs a folder: bert:DIR (config.json, model.safetensors, vocab.txt)");
        return ALSIM_BAD_INPUT;
    }
    const char *set = strcmp(c->finetune, "none") ? "--finetune" : strcmp(c->pooling, "cls") ? "--pooling"
                    : strcmp(c->head, "mlp") ? "--head" : c->lora_alpha != 8.0 ? "--lora-alpha" : NULL;
    if (!dir && set) {
        snprintf(err, errlen, "%s applies to a language model (--model bert:DIR); --model %s has no such setting", set,
                 c->model);
        return ALSIM_BAD_INPUT;
    }
    if (dir && !r && c->lora_alpha != 8.0) {
        snprintf(err, errlen, "--lora-alpha applies to --finetune lora:R; --finetune %s has no adapters", c->finetune);
        return ALSIM_BAD_INPUT;
    }
    if (!dir) return 0;
    // what the model's config.json allows, before any data is read
    BertConfig bc;
    char path[1100];
    snprintf(path, sizeof path, "%s/config.json", dir);
    int rc = bert_config_read(&bc, path, err, errlen);
    if (rc) return rc;
    if (k > bc.layers) {
        snprintf(err, errlen, "--finetune %s: the model in %s has %d layers", c->finetune, dir, bc.layers);
        return ALSIM_BAD_INPUT;
    }
    if (c->max_tokens > bc.max_positions) {
        snprintf(err, errlen, "--max-tokens %d: the model in %s has %d positions", c->max_tokens, dir,
                 bc.max_positions);
        return ALSIM_BAD_INPUT;
    }
    return 0;
}

/* f (16) = the addresses of y's fields in BertLayer's order, n (16) their floats. */
static void fields_of(float **f[16], size_t n[16], BertLayer *y, int H, int I) {
    float **ff[16] = {&y->q_w, &y->q_b, &y->k_w, &y->k_b, &y->v_w, &y->v_b, &y->o_w, &y->o_b,
                      &y->ln1_g, &y->ln1_b, &y->i_w, &y->i_b, &y->f_w, &y->f_b, &y->ln2_g, &y->ln2_b};
    const size_t nn[16] = {(size_t)H * H, H, (size_t)H * H, H, (size_t)H * H, H, (size_t)H * H, H,
                           H, H, (size_t)I * H, I, (size_t)H * I, H, H, H};
    memcpy(f, ff, sizeof ff);
    memcpy(n, nn, sizeof nn);
}

/* y's fields, in BertLayer's order, pointing into *p, which advances. */
static void layer_at(BertLayer *y, float **p, int H, int I) {
    float **f[16];
    size_t n[16];
    fields_of(f, n, y, H, I);
    for (int i = 0; i < 16; i++) {
        *f[i] = *p;
        *p += n[i];
    }
}

static size_t layer_floats(int H, int I) { return 4 * ((size_t)H * H + H) + 4 * (size_t)H + 2 * (size_t)I * H + I + H; }

/* Points the head, the adapters or the trained layers (and their gradients) into block
 * (params) and gblock (gradients), in that order; returns the floats they take. */
static size_t trained_at(BertNet *n, float *block, float *gblock) {
    const int H = n->c.hidden, I = n->c.intermediate, K = n->K, L = n->c.layers, R = n->R;
    float *p = block, *g = gblock;
    n->head_w = p, p += (size_t)K * H, g += (size_t)K * H;
    n->head_b = p, p += K, g += K;
    for (int l = 0; l < L; l++) {
        n->layer[l] = n->w.layer[l];
        memset(&n->dlayer[l], 0, sizeof n->dlayer[l]);
        if (R) {
            float **f[] = {&n->lora[l].qa, &n->lora[l].qb, &n->lora[l].va, &n->lora[l].vb};
            float **d[] = {&n->dlora[l].qa, &n->dlora[l].qb, &n->dlora[l].va, &n->dlora[l].vb};
            for (int i = 0; i < 4; i++) {
                *f[i] = p, *d[i] = g;
                p += (size_t)R * H, g += (size_t)R * H;
            }
        } else if (l >= n->first) {
            layer_at(&n->layer[l], &p, H, I);
            layer_at(&n->dlayer[l], &g, H, I);
        }
    }
    return (size_t)(p - block);
}

/* The seed's initial trained values into init (host): the head N(0, 0.02²) (BERT's
 * initializer_range) and bias 0; adapters A uniform in ±1/sqrt(H) (PEFT's kaiming-uniform
 * with a = sqrt(5)) and B 0; trained layers the loaded weights. */
static void draw_init(BertNet *n, uint64_t seed) {
    const int H = n->c.hidden, I = n->c.intermediate, K = n->K, L = n->c.layers, R = n->R;
    Rng r = rng_stream(seed, RNG_MODEL_INIT, 0);
    float *p = n->init;
    for (size_t i = 0; i < (size_t)K * H; i++) *p++ = (float)(0.02 * rng_normal(&r));
    for (int i = 0; i < K; i++) *p++ = 0.0f;
    const double bound = 1.0 / sqrt((double)H);
    for (int l = 0; l < L; l++) {
        if (R) {
            for (int a = 0; a < 2; a++) {   // query's A, B; value's A, B
                for (size_t i = 0; i < (size_t)R * H; i++) *p++ = (float)(bound * (2.0 * rng_uniform(&r) - 1.0));
                for (size_t i = 0; i < (size_t)R * H; i++) *p++ = 0.0f;
            }
        } else if (l >= n->first) {         // the loaded layer, field by field in layer_at's order
            BertLayer src = n->host.layer[l];
            float **f[16];
            size_t cnt[16];
            fields_of(f, cnt, &src, H, I);
            for (int i = 0; i < 16; i++) {
                memcpy(p, *f[i], cnt[i] * sizeof(float));
                p += cnt[i];
            }
        }
    }
}

/* Multiply-adds of one row of T tokens through the encoder and the head, and the training
 * FLOPs of one row: the forward (2 per multiply-add), the input gradients from the top down
 * to the lowest trained layer (the same matmuls again), and the trained weights' gradients
 * (their matmuls once more). Elementwise ops, softmax, LayerNorm and AdamW are not counted
 * (budget.h). */
static void flops_of(double *macs, double *train_flops, const BertNet *n) {
    const double H = n->c.hidden, I = n->c.intermediate, T = n->T, R = n->R, K = n->K;
    const double layer = T * (4 * H * H + 2 * H * I + 2 * T * H + 4 * H * R);  // projections, FFN, attention, adapters
    const int below = n->c.layers - n->first;       // layers the gradient passes through
    const double weights = n->R ? T * 4 * H * R : T * (4 * H * H + 2 * H * I);  // a trained layer's weight matmuls
    *macs = n->c.layers * layer + H * K;
    *train_flops = 2 * *macs + 2 * (below * layer + H * K) + 2 * ((n->R ? n->c.layers : below) * weights + H * K);
}

static void bert_destroy(Model *m);

static int bert_create(Model *m, const Config *c, const Dataset *pool, const Backend *be, char *err,
                       size_t errlen) {
    if (pool->text_tokens < 1) {
        snprintf(err, errlen, "--model %s reads text: %s is not token rows (spamassassin, or a CSV with --text-column)",
                 c->model, pool->name);
        return ALSIM_BAD_INPUT;
    }
    const char *dir = model_folder(c);
    BertNet *n = calloc(1, sizeof *n);
    if (!n) { snprintf(err, errlen, "out of memory for the model"); return ALSIM_RUNTIME; }
    m->impl = n;
    int rc = bert_load(&n->host, dir, err, errlen);
    if (rc) goto fail;
    n->c = n->host.c;
    const int H = n->c.hidden, L = n->c.layers;
    n->be = be;
    n->K = pool->k;
    n->T = pool->text_tokens;
    bert_finetune_parse(&n->R, &n->last_k, c->finetune);
    if (n->last_k > L) {
        snprintf(err, errlen, "--finetune %s: the model in %s has %d layers", c->finetune, dir, L);
        rc = ALSIM_BAD_INPUT;
        goto fail;
    }
    if (n->T > n->c.max_positions) {
        snprintf(err, errlen, "--max-tokens %d: the model in %s has %d positions", n->T, dir,
                 n->c.max_positions);
        rc = ALSIM_BAD_INPUT;
        goto fail;
    }
    for (size_t i = 0; i < (size_t)pool->n * pool->d; i++)
        if (pool->x[i] >= (float)n->c.vocab) {
            snprintf(err, errlen, "%s: token id %.0f past the model's %d (its vocab.txt and config.json disagree)",
                     pool->name, pool->x[i], n->c.vocab);
            rc = ALSIM_BAD_INPUT;
            goto fail;
        }
    n->first = n->R ? 0 : L - n->last_k;
    n->cls = !strcmp(c->pooling, "cls");
    n->scale = n->R ? (float)(c->lora_alpha / n->R) : 0.0f;
    n->dropout = (float)c->dropout;
    n->lr = (float)c->lr;
    n->wd = (float)c->weight_decay;
    n->minibatch = c->minibatch;
    n->cap = c->minibatch > PREDICT_SEQS ? c->minibatch : PREDICT_SEQS;

    // the frozen weights on the backend, the trained parameters' layout, then the scratch
    n->layer = calloc((size_t)L, sizeof *n->layer);
    n->dlayer = calloc((size_t)L, sizeof *n->dlayer);
    n->lora = calloc((size_t)L, sizeof *n->lora);
    n->dlora = calloc((size_t)L, sizeof *n->dlora);
    n->act = calloc((size_t)L, sizeof *n->act);
    if (!n->layer || !n->dlayer || !n->lora || !n->dlora || !n->act || bert_weights_at(&n->w, &n->w_block, &n->host, be))
        goto oom;
    n->n_train = (size_t)n->K * H + n->K +
                 (n->R ? (size_t)L * 4 * n->R * H : (size_t)n->last_k * layer_floats(H, n->c.intermediate));
    n->train = be->alloc(4 * n->n_train * sizeof(float));
    n->init = malloc(n->n_train * sizeof(float));
    if (!n->train || !n->init) goto oom;
    n->grads = n->train + n->n_train, n->am = n->grads + n->n_train, n->av = n->am + n->n_train;
    trained_at(n, n->train, n->grads);

    const size_t NT = (size_t)n->cap * n->T, nh = NT * H, acts = bert_acts_floats(&n->c, n->cap, n->T, n->R);
    const size_t floats = (size_t)(L + 1) * nh + (size_t)L * acts + bert_backward_floats(&n->c, n->cap, n->T, n->R) +
                          2 * nh + 3 * (size_t)n->cap * H + 3 * (size_t)n->cap * n->K;
    n->scratch = be->alloc(floats * sizeof(float));
    n->ids = be->alloc((2 * NT + n->cap) * sizeof(int32_t));
    n->mask = be->alloc(NT);
    n->h_ids = malloc((2 * NT + n->cap) * sizeof(int32_t));
    n->h_mask = malloc(NT);
    n->h_probs = malloc((size_t)n->cap * n->K * sizeof(float));
    if (!n->scratch || !n->ids || !n->mask || !n->h_ids || !n->h_mask || !n->h_probs) goto oom;
    float *p = n->scratch;
    n->xs = p, p += (size_t)(L + 1) * nh;
    for (int l = 0; l < L; l++, p += acts) bert_acts_at(&n->act[l], p, &n->c, n->cap, n->T, n->R);
    n->work = p, p += bert_backward_floats(&n->c, n->cap, n->T, n->R);
    n->dx0 = p, p += nh;
    n->dx1 = p, p += nh;
    n->pooled = p, p += (size_t)n->cap * H;
    n->drop = p, p += (size_t)n->cap * H;
    n->dpool = p, p += (size_t)n->cap * H;
    n->logits = p, p += (size_t)n->cap * n->K;
    n->probs = p, p += (size_t)n->cap * n->K;
    n->dlogits = p;
    n->targets = n->ids + 2 * NT;
    n->h_y = n->h_ids + 2 * NT;
    // token types: all 0 (one segment); written once
    memset(n->h_ids + NT, 0, NT * sizeof(int32_t));
    be->upload(n->ids + NT, n->h_ids + NT, NT * sizeof(int32_t));

    m->k = n->K;
    m->emb_width = H;
    m->minibatch = n->minibatch;
    flops_of(&m->macs_per_row, &m->train_flops_per_row, n);
    return 0;
oom:
    snprintf(err, errlen, "out of memory for --model %s (%d sequences of %d tokens a chunk: a smaller --minibatch or "
             "--max-tokens needs less)", c->model, n->cap, n->T);
    rc = ALSIM_RUNTIME;
fail:   /* model_open forgets a model whose create failed: free it here */
    bert_destroy(m);
    m->impl = NULL;
    return rc;
}

static void bert_destroy(Model *m) {
    BertNet *n = net_of(m);
    if (!n) return;
    const Backend *be = n->be;
    if (be) {
        bert_weights_free(&n->w, n->w_block, be);
        be->free(n->train); be->free(n->scratch); be->free(n->ids); be->free(n->mask);
    }
    bert_free(&n->host);
    free(n->layer); free(n->dlayer); free(n->lora); free(n->dlora); free(n->act);
    free(n->init); free(n->h_ids); free(n->h_mask); free(n->h_probs);
    free(n);
}

static void bert_reset(Model *m, uint64_t seed) {
    BertNet *n = net_of(m);
    draw_init(n, seed);
    n->be->upload(n->train, n->init, n->n_train * sizeof(float));
    n->be->zero(n->am, 2 * n->n_train * sizeof(float));
    n->adam_t = 0;
}

/* Stages rows (B of them, row ids in X: rows[i], or off + i when rows is NULL) on the backend:
 * ids and mask at the chunk's length, its longest sequence. Returns that length. */
static int stage(BertNet *n, const LearnerInput *X, const int *rows, int off, int B) {
    const int Tc = dataset_tokens_unpack(n->h_ids, n->h_mask, X->x, X->d, rows, off, B);
    n->be->upload(n->ids, n->h_ids, (size_t)B * Tc * sizeof(int32_t));
    n->be->upload(n->mask, n->h_mask, (size_t)B * Tc);
    return Tc;
}

/* The staged chunk through the encoder (act[] keeps what the backward needs), then pooled. */
static void encode(BertNet *n, int B, int Tc) {
    const Backend *be = n->be;
    const size_t nh = (size_t)n->cap * n->T * n->c.hidden;     // stride between xs layers
    const size_t NT = (size_t)n->cap * n->T;
    bert_embed(n->xs, be, &n->w, n->ids, n->ids + NT, B, Tc);
    for (int l = 0; l < n->c.layers; l++) {
        n->act[l].x = n->xs + l * nh;
        bert_layer_forward(n->xs + (l + 1) * nh, &n->act[l], be, &n->c, &n->layer[l], n->R ? &n->lora[l] : NULL,
                           n->R, n->scale, n->mask, B, Tc);
    }
    be->pool_forward(n->pooled, n->xs + n->c.layers * nh, n->mask, B, Tc, n->c.hidden, n->cls);
}

/* probs (B,K) of pooled through the head, dropout on with key for rows row0.. or off. */
static const float *head(BertNet *n, int B, int dropout_on, uint64_t key, int64_t row0) {
    const Backend *be = n->be;
    const float *in = n->pooled;
    if (dropout_on && n->dropout > 0.0f) {
        be->dropout_forward(n->drop, n->pooled, B, n->c.hidden, n->dropout, key, row0);
        in = n->drop;
    }
    be->matmul_forward(n->logits, in, n->head_w, n->head_b, B, n->c.hidden, n->K);
    be->softmax_forward(n->probs, n->logits, B, n->K);
    return in;
}

/* The gradients of the mean cross-entropy of the staged chunk (targets uploaded) into grads,
 * after encode and head(dropout_on, key), whose input was head_in. */
static void backward(BertNet *n, const float *head_in, int B, int Tc, int dropout_on, uint64_t key) {
    const Backend *be = n->be;
    const int H = n->c.hidden;
    const size_t head_w = (size_t)(n->head_w - n->train), head_b = (size_t)(n->head_b - n->train);
    be->crossentropy_backward(n->dlogits, n->probs, n->targets, B, n->K);
    be->matmul_backward(n->dpool, n->grads + head_w, n->grads + head_b, n->dlogits, head_in, n->head_w, B, H, n->K);
    if (dropout_on && n->dropout > 0.0f) be->dropout_backward(n->dpool, n->dpool, B, H, n->dropout, key, 0);
    be->pool_backward(n->dx0, n->dpool, n->mask, B, Tc, H, n->cls);
    float *dout = n->dx0, *dx = n->dx1;
    for (int l = n->c.layers - 1; l >= n->first; l--) {
        bert_layer_backward(l > n->first ? dx : NULL, l >= n->c.layers - n->last_k ? &n->dlayer[l] : NULL,
                            n->R ? &n->dlora[l] : NULL, n->work, dout, &n->act[l], be, &n->c, &n->layer[l],
                            n->R ? &n->lora[l] : NULL, n->R, n->scale, B, Tc);
        float *t = dout;
        dout = dx, dx = t;
    }
}

/* Mean cross-entropy of the chunk's probs (downloaded) against h_y, in double. */
static double chunk_loss(BertNet *n, int B) {
    n->be->download(n->h_probs, n->probs, (size_t)B * n->K * sizeof(float));
    double s = 0.0;
    for (int i = 0; i < B; i++) s -= log(fmax((double)n->h_probs[(size_t)i * n->K + n->h_y[i]], 1e-30));
    return s;
}

/* The budget's steps (as cnn_fit and learner_fit: minibatches drawn from reshuffled epochs). */
static double bert_fit(Model *m, Spent *spent, const LearnerInput *X, const int32_t *y, int steps, uint64_t seed,
                       int round) {
    (void)spent;
    BertNet *n = net_of(m);
    const int N = X->n;
    if (steps <= 0 || N <= 0) return 0.0;
    const int B = n->minibatch < N ? n->minibatch : N;
    const int steps_per_epoch = (N + n->minibatch - 1) / n->minibatch;
    const int loss_steps = steps < steps_per_epoch ? steps : steps_per_epoch;
    int *batch = malloc((size_t)B * sizeof(int));
    RngEpochs ep;
    if (!batch || rng_epochs_open(&ep, N, seed, round)) {
        free(batch);
        return NAN;
    }
    double loss_sum = 0.0;
    for (int s = 0; s < steps; s++) {
        rng_epochs_next(batch, &ep, B);
        for (int i = 0; i < B; i++) n->h_y[i] = y[batch[i]];
        const int Tc = stage(n, X, batch, 0, B);
        n->be->upload(n->targets, n->h_y, (size_t)B * sizeof(int32_t));
        const uint64_t key = rng_key(seed, RNG_DROPOUT, (uint64_t)round, (uint64_t)s);
        encode(n, B, Tc);
        const float *in = head(n, B, 1, key, 0);
        if (s >= steps - loss_steps) loss_sum += chunk_loss(n, B);
        backward(n, in, B, Tc, 1, key);
        n->adam_t++;
        n->be->adam_update(n->train, n->grads, n->am, n->av, n->n_train, n->lr, 0.9f, 0.999f, 1e-8f, n->wd, n->adam_t);
    }
    free(batch);
    rng_epochs_close(&ep);
    return loss_sum / ((double)loss_steps * B);
}

static int bert_predict(Model *m, float *probs, float *mc, float *emb, const LearnerInput *X, int T, uint64_t seed,
                        int round, int64_t row0) {
    BertNet *n = net_of(m);
    const Backend *be = n->be;
    const int K = n->K, H = n->c.hidden;
    for (int off = 0; off < X->n; off += n->cap) {
        const int B = X->n - off < n->cap ? X->n - off : n->cap;
        encode(n, B, stage(n, X, NULL, off, B));        // once a chunk: only the head is sampled
        if (probs) {
            head(n, B, 0, 0, 0);
            be->download(probs + (size_t)off * K, n->probs, (size_t)B * K * sizeof(float));
        }
        if (emb) be->download(emb + (size_t)off * H, n->pooled, (size_t)B * H * sizeof(float));
        for (int t = 0; mc && t < T; t++) {
            head(n, B, 1, rng_key(seed, RNG_MC, (uint64_t)round, (uint64_t)t), row0 < 0 ? row0 : row0 + off);
            be->download(mc + ((size_t)t * X->n + off) * K, n->probs, (size_t)B * K * sizeof(float));
        }
    }
    return 0;
}

double bert_model_loss_grad(float *grads, Model *m, const LearnerInput *X, const int32_t *y) {
    BertNet *n = net_of(m);
    const int B = X->n;
    if (B < 1 || B > n->cap) return NAN;
    memcpy(n->h_y, y, (size_t)B * sizeof(int32_t));
    const int Tc = stage(n, X, NULL, 0, B);
    n->be->upload(n->targets, n->h_y, (size_t)B * sizeof(int32_t));
    encode(n, B, Tc);
    const float *in = head(n, B, 0, 0, 0);
    const double loss = chunk_loss(n, B) / B;
    backward(n, in, B, Tc, 0, 0);
    n->be->download(grads, n->grads, n->n_train * sizeof(float));
    return loss;
}

/* MC samples differ only through the head's dropout. */
static int bert_check(const Config *c, const char *strategy, int needs, char *err, size_t errlen) {
    if ((needs & NEEDS_MC) && !(needs & NEEDS_PROBS) && c->dropout == 0) {
        snprintf(err, errlen, "--strategy %s scores MC-dropout samples, and with --dropout 0 the head has none (every "
                 "row would score alike): give it dropout (e.g. --dropout 0.1, BERT's), or use margin", strategy);
        return ALSIM_BAD_INPUT;
    }
    return 0;
}

/* State: params | Adam m | Adam v (n_train floats each) | adam_t. */
static size_t bert_state_size(const Model *m) { return 3 * net_of(m)->n_train * sizeof(float) + sizeof(int); }

static void bert_save(const Model *m, void *state) {
    const BertNet *n = net_of(m);
    float *p = state;
    n->be->download(p, n->train, n->n_train * sizeof(float));
    n->be->download(p + n->n_train, n->am, 2 * n->n_train * sizeof(float));
    memcpy(p + 3 * n->n_train, &n->adam_t, sizeof n->adam_t);
}

static void bert_restore(Model *m, const void *state) {
    BertNet *n = net_of(m);
    const float *p = state;
    n->be->upload(n->train, p, n->n_train * sizeof(float));
    n->be->upload(n->am, p + n->n_train, 2 * n->n_train * sizeof(float));
    memcpy(&n->adam_t, p + 3 * n->n_train, sizeof n->adam_t);
}

const ModelOps model_bert = {
    "bert:DIR", "a BERT-family encoder from a local Hugging Face folder, for text (--finetune none|lora:R|"
    "head+last:K, --pooling, --head, --lora-alpha, --max-tokens, --text-column)",
    bert_create, bert_check, bert_destroy, bert_reset, bert_fit, bert_predict, NULL,
    bert_state_size, bert_save, bert_restore,
};
