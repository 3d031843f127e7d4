/* bert — a BERT-family encoder's weights, loaded from a local Hugging Face model folder
 * (`config.json` and `model.safetensors`; no network, ever), and its forward pass on a
 * backend's ops (backend.h: embed, LayerNorm, GELU, attention, matmuls). The tokenizer is
 * datasets/wordpiece.h; fine-tuning and `--model bert:DIR` are to come.
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

/* Frees b's weights; accepts a zeroed struct. */
void bert_free(Bert *b);

/* hidden (B·T, H), a HOST array = the encoder's last hidden states (eval: no dropout) for B
 * sequences of T tokens: ids, types (B·T) host int32 (ids < V, types < type_vocab, T <=
 * max_positions: checked), mask (B·T) host, 1 on real tokens. Runs on backend be (the
 * weights uploaded for the call on a GPU, read in place on the CPU). Returns 0, 2 (an id,
 * type or T out of range) or 3 (out of memory), with err. */
int bert_forward(float *hidden, const Bert *b, const Backend *be, const int32_t *ids,
                 const int32_t *types, const uint8_t *mask, int B, int T, char *err, size_t errlen);

/* pooled (B, H) from hidden (B·T, H) and mask (B·T), host arrays: cls the first token's
 * state, or (cls = 0) the mean over the tokens with mask 1. */
void bert_pool(float *pooled, const float *hidden, const uint8_t *mask, int B, int T, int H, int cls);

#endif
