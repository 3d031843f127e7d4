/* embed — `--model bert:DIR --finetune none`: a frozen encoder's pooled vectors (bert.h, one
 * per sequence, --pooling) take the place of a dataset's token rows, before the session
 * starts; --head is then fitted on them like any dense data. Each row is encoded once, ever:
 * the vectors are kept in an on-disk cache.
 *
 * The cache: one file per (model, dataset, max tokens, pooling) in
 * dataset_cache_dir()/embeddings/, named by the SHA-256 of the text "MODEL\nDATASET\nT\nPOOLING\n"
 * (MODEL: the SHA-256 of config.json's bytes then model.safetensors'; DATASET: the token rows'
 * hash, which covers the source, vocab.txt and T; POOLING: cls or mean). It holds (key, vector)
 * pairs sorted by key, a row's key the SHA-256 of its token row's bytes, so every split,
 * subset and seed of the dataset finds its rows. Format, little-endian: "ALSIMEMB", u32
 * version 1, u32 H, u64 count, then count × (32-byte key, H float32). Written to a temporary
 * name and renamed; a file that does not read back whole is reported and rebuilt.
 */
#ifndef ALSIM_EMBED_H
#define ALSIM_EMBED_H

#include <stddef.h>

#include "datasets/dataset.h"
#include "sim/backend.h"
#include "sim/config.h"

/* Replaces each dataset of parts (n; NULL or empty ones skipped), token rows, by its rows'
 * pooled vectors under c (c->model bert:DIR, c->pooling): dense (rows, H), text_tokens 0,
 * labels, classes, name and hash as they were. Rows the cache lacks are encoded on be (the
 * model is loaded only then) and added to the cache. Says on stderr what it read and encoded
 * unless c->quiet. Returns 0, 2 (the model folder refused: err names the file) or 3 (out of
 * memory, or the cache cannot be written). */
int embed_datasets(Dataset *const *parts, int n, const Config *c, const Backend *be, char *err,
                   size_t errlen);

#endif
