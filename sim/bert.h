/* bert — a BERT-family encoder's weights, loaded from a local Hugging Face model folder
 * (`config.json` and `model.safetensors`; no network, ever), and its forward pass on a
 * backend's ops (backend.h: embed, LayerNorm, GELU, attention, matmuls). The tokenizer is
 * datasets/wordpiece.h; the model that fine-tunes it, `--model bert:DIR`, is sim/bertmodel.c.
 *
 * Accepted: the `BertModel` layout (BERT, and MiniLM-style encoders that share it), tensor
 * names with or without the `bert.` prefix of a `BertFor...` checkpoint, LayerNorm parameters
 * named weight/bias or gamma/beta (older checkpoints), F32, F16 or BF16 tensors (read as
 * float). Every tensor the encoder needs must be there with the shape config.json implies;
 * others (a pooler, a task head, position_ids) are ignored. Refusals are code 2 with one line
 * naming the file and the key or tensor.
 */
#ifndef ALSIM_BERT_H
#define ALSIM_BERT_H

#include <stddef.h>
#include <stdint.h>

#include "sim/backend.h"

/* What config.json says (the keys of Hugging Face's BertConfig). */
typedef struct {
    int vocab;              /* vocab_size V */
    int hidden;             /* hidden_size H, a multiple of heads */
    int layers;             /* num_hidden_layers L */
    int heads;              /* num_attention_heads */
    int intermediate;       /* intermediate_size I */
    int max_positions;      /* max_position_embeddings P */
    int type_vocab;         /* type_vocab_size */
    double ln_eps;          /* layer_norm_eps (1e-12 when absent, as BertConfig) */
} BertConfig;

/* One encoder layer's weights, nn.Linear's (out, in) layout. */
typedef struct {
    float *q_w, *q_b, *k_w, *k_b, *v_w, *v_b;   /* (H,H), (H) each: self-attention */
    float *o_w, *o_b;                           /* (H,H), (H): attention output */
    float *ln1_g, *ln1_b;                       /* (H), (H): its LayerNorm */
    float *i_w, *i_b;                           /* (I,H), (I): intermediate (GELU after) */
    float *f_w, *f_b;                           /* (H,I), (H): output */
    float *ln2_g, *ln2_b;                       /* (H), (H): its LayerNorm */
} BertLayer;

typedef struct {
    BertConfig c;
    float *word, *pos, *type;       /* (V,H), (P,H), (type_vocab,H) embeddings */
    float *emb_ln_g, *emb_ln_b;     /* (H), (H) */
    BertLayer *layer;               /* (L) */
    float *params;                  /* (n_params) one block that all the above point into */
    size_t n_params;
} Bert;

/* c = the encoder's shape from the Hugging Face config.json at path. Returns 0, or 2 (cannot
 * be read, not JSON, a key missing or not a positive integer, hidden_size not a multiple of
 * num_attention_heads, an activation other than gelu, a model type or position embedding
 * type alsim does not run: err names the file and key), or 3 (out of memory). */
int bert_config_read(BertConfig *c, const char *path, char *err, size_t errlen);

/* b = the encoder in folder dir (dir/config.json, dir/model.safetensors), every tensor's
 * shape checked against the config. Returns 0, 2 (as bert_config_read, or a tensor missing,
 * of another shape, or not a float dtype: err names it) or 3 (out of memory). */
int bert_load(Bert *b, const char *dir, char *err, size_t errlen);

/* hex = the SHA-256 of dir/config.json's bytes followed by dir/model.safetensors' (what
 * config.json of a run and the embedding cache record of the model). Returns 0, or 2 when a
 * file cannot be read (err names it). */
int bert_model_hash(char hex[65], const char *dir, char *err, size_t errlen);

/* Frees b's weights; accepts a zeroed struct. */
void bert_free(Bert *b);

/* An encoder ready to run many forwards (eval: no dropout) on one backend: the weights there
 * (read in place on the CPU, a copy on a GPU) and buffers for up to B sequences of T tokens,
 * allocated once, so that repeated calls neither allocate nor first-touch memory. */
typedef struct {
    const Bert *b;
    const Backend *be;
    struct BertWeights *w;      /* the weights' backend view */
    float *buf;                 /* x, next x (B·T, H) and one layer's activations */
    int32_t *ids;               /* (2·B·T) ids, then types */
    uint8_t *mask;              /* (B·T) */
    int B, T;                   /* the capacity */
} BertEncoder;

/* e = an encoder of b (which must outlive it) on be for up to B sequences of T tokens.
 * Returns 0, or 3 (out of memory) with err. bert_encoder_close frees it (a zeroed struct too). */
int bert_encoder_open(BertEncoder *e, const Bert *b, const Backend *be, int B, int T, char *err,
                      size_t errlen);
void bert_encoder_close(BertEncoder *e);

/* hidden (B·T, H), a HOST array = the encoder's last hidden states for B sequences of T tokens
 * (B, T within e's capacity): ids, types (B·T) host int32 (ids < V, types < type_vocab, T <=
 * max_positions: checked), mask (B·T) host, 1 on real tokens. Returns 0, or 2 (an id, type,
 * B or T out of range) with err. */
int bert_encoder_run(float *hidden, BertEncoder *e, const int32_t *ids, const int32_t *types,
                     const uint8_t *mask, int B, int T, char *err, size_t errlen);

/* One forward: bert_encoder_open, _run, _close. Returns 0, 2 or 3 with err. */
int bert_forward(float *hidden, const Bert *b, const Backend *be, const int32_t *ids,
                 const int32_t *types, const uint8_t *mask, int B, int T, char *err, size_t errlen);

/* ---- the pieces of a forward and backward pass, for fine-tuning (sim/bertmodel.c) ----
 * All buffers below are backend buffers; N = B·T token rows. */

/* LoRA adapters on one layer's query and value projections: W + scale·B·A with A (R,H) and
 * B (H,R) (PEFT's lora_A and lora_B), as parameters or as their gradients. */
typedef struct {
    float *qa, *qb, *va, *vb;
} BertLora;

/* What one layer's forward keeps for its backward. x is the caller's (the layer's input);
 * the rest point into a block of bert_acts_floats floats (bert_acts_at). */
typedef struct {
    const float *x;         /* (N,H) the layer's input */
    float *uq, *uv;         /* (N,R) x·Aᵀ of the query's and the value's adapter (R > 0) */
    float *q, *k, *v, *ctx; /* (N,H) */
    float *probs;           /* (B,heads,T,T) */
    float *a_pre, *a;       /* (N,H) ctx·Woᵀ + bo + x, and its LayerNorm */
    float *i_pre, *inter;   /* (N,I) a·Wiᵀ + bi, and its GELU */
    float *f_pre;           /* (N,H) inter·Wfᵀ + bf + a: the layer's output is its LayerNorm */
    float *stats1, *stats2; /* (N,2) the two LayerNorms' (mean, rstd) */
} BertActs;

/* Floats of one layer's BertActs for B sequences of T tokens and adapters of rank R (0:
 * none), and the pointers into block. */
size_t bert_acts_floats(const BertConfig *c, int B, int T, int R);
void bert_acts_at(BertActs *s, float *block, const BertConfig *c, int B, int T, int R);

/* x (N,H) = LayerNorm(word[ids] + pos[t] + type[types]): the embeddings of ids, types (N)
 * int32 backend buffers, with the weights w (backend copies laid out as b's: bert_weights_at). */
void bert_embed(float *x, const Backend *be, const Bert *w, const int32_t *ids, const int32_t *types,
                int B, int T);

/* out (N,H) = encoder layer w (nn.Linear layout) applied to s->x, with adapters lora (NULL:
 * none) of rank R and scale, each projection computed as x·Wᵀ + b (+ scale·(x·Aᵀ)·Bᵀ), and s
 * filled for the backward. mask (N) uint8 backend buffer. out must not alias s->x or s. */
void bert_layer_forward(float *out, BertActs *s, const Backend *be, const BertConfig *c,
                        const BertLayer *w, const BertLora *lora, int R, float scale,
                        const uint8_t *mask, int B, int T);

/* Floats of bert_layer_backward's work buffer. */
size_t bert_backward_floats(const BertConfig *c, int B, int T, int R);

/* The gradients of bert_layer_forward, overwriting: dx (N,H), the input's (skipped when NULL:
 * nothing below is trained); dw, the layer's weights' and LayerNorms' laid out as a BertLayer
 * (NULL: frozen); dlora, the adapters' (NULL: none); from dout (N,H), which is used up (it
 * ends holding the gradient before the first LayerNorm), s and w as the forward had them. */
void bert_layer_backward(float *dx, BertLayer *dw, BertLora *dlora, float *work, float *dout,
                         const BertActs *s, const Backend *be, const BertConfig *c,
                         const BertLayer *w, const BertLora *lora, int R, float scale, int B, int T);

/* Backend copies of b's weights: *block (b->n_params floats) holds them and w's pointers
 * point into it, laid out as b's (on the CPU, w is b itself read in place: *block NULL).
 * Returns 0, or 3 when out of memory. bert_weights_free undoes it. */
int bert_weights_at(Bert *w, float **block, const Bert *b, const Backend *be);
void bert_weights_free(Bert *w, float *block, const Backend *be);

#endif
