/* bertmodel — a BERT-family encoder fine-tuned each round, as a model (model.h): `--model
 * bert:DIR` with
 *   --finetune lora:R       adapters of rank R on every layer's query and value (scale
 *                           --lora-alpha / R; A drawn as PEFT's kaiming-uniform, B zero)
 *   --finetune head+last:K  the last K layers' own weights and LayerNorms
 * and in both a classifier head on the pooled vector (--pooling cls|mean) with dropout
 * (--dropout) before it, as BertForSequenceClassification has; AdamW (--lr, --weight-decay)
 * for the budget's steps of --minibatch sequences. Everything else is frozen. The encoder
 * runs as in eval mode (no dropout inside it): the head's dropout alone gives the MC samples,
 * so a pool chunk runs the encoder once and the head T times. Embeddings: the pooled vector.
 * (--finetune none does not come here: the pooled vectors are computed once, sim/embed.h,
 * and --head is fitted on them.)
 *
 * Input: token rows (datasets/dataset.h, text_tokens): ids as floats, -1 past the end. Each
 * chunk runs at its longest sequence's length (dynamic padding): padding never changes a real
 * token's values, since masked keys get probability 0 and pooling skips them.
 */
#ifndef ALSIM_BERTMODEL_H
#define ALSIM_BERTMODEL_H

#include <stdint.h>

#include "sim/bert.h"
#include "sim/config.h"
#include "sim/model.h"

/* --finetune's value: none (*lora_rank = *last_k = 0), lora:R (*lora_rank = R >= 1) or
 * head+last:K (*last_k = K >= 1). Returns 0, or -1 when spec is none of these. */
int bert_finetune_parse(int *lora_rank, int *last_k, const char *spec);

/* --finetune, --pooling, --head and --lora-alpha of c: their forms, and that a value other
 * than the default comes only with --model bert:DIR; with one, what DIR/config.json allows
 * (head+last:K within its layers, --max-tokens within its positions). Reads that file only.
 * Returns 0, or 2 with a one-line err. */
int bert_check_options(const Config *c, char *err, size_t errlen);

/* For tests: grads (host; the trained parameters in the model's state layout: the head's
 * weight (K,H) and bias (K), then per layer the query's A, B and the value's A, B (lora:R), or
 * each trained layer's fields in BertLayer's order (head+last:K)) = the gradient of the mean
 * cross-entropy of token rows X (n <= the model's chunk) with labels y, under m's weights with
 * dropout off. Returns that loss (NaN when X is too large). m: a bert:DIR model. */
double bert_model_loss_grad(float *grads, Model *m, const LearnerInput *X, const int32_t *y);

#endif
