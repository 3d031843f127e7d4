/* tokens — raw texts to token rows, the input of a language-model encoder (--model bert:DIR).
 *
 * A token-row dataset is DENSE: row i holds the WordPiece ids (datasets/wordpiece.h) of one
 * text as exact float integers, [CLS], the text's first max_tokens - 2 pieces, [SEP], then
 * -1.0f at every padding position (the encoder's attention mask is id >= 0), so d =
 * max_tokens = Dataset.text_tokens. The texts come from
 *   spamassassin (catalog.c)   each email's Subject, a newline, then its body's text, as
 *                              text_email_fields reads them (datasets/text.h); the From
 *                              header is left out (a sender's address is an identifier,
 *                              not language, and WordPiece cuts it into noise);
 *   a CSV with --text-column   that column's cells (csv.c), quoted cells may hold commas
 *                              and newlines.
 * Splits are the ones the same source gets as features (the same seeded stratified split of
 * the same rows), so runs on token rows and on TF-IDF or numeric features are comparable.
 * Their sha256 differs from the features' (dataset_tokens_hash).
 */
#ifndef ALSIM_TOKENS_H
#define ALSIM_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "datasets/dataset.h"
#include "datasets/wordpiece.h"

/* row (max_tokens) = the token row of text (len bytes of UTF-8; invalid bytes are U+FFFD to
 * the tokenizer): [CLS], the first max_tokens - 2 pieces, [SEP], -1.0f padding. An empty
 * text is [CLS] [SEP]. Returns the real tokens' count (2..max_tokens), or -1 when out of
 * memory. max_tokens >= 2. */
int dataset_tokens_row(float *row /*(max_tokens)*/, const WordPiece *wp, const char *text,
                       size_t len, int max_tokens);

/* ds = n token rows of max_tokens (dataset_tokens_row of texts[i], lens[i] bytes), labels y =
 * labels (n, in 0..k-1), k classes named "0".."k-1", text_tokens = max_tokens; name and
 * sha256 empty (the caller's: dataset_tokens_hash). Returns 0, 2 (max_tokens outside
 * 2..DATASET_MAX_TOKENS, or a vocabulary whose ids a float cannot hold exactly: more than
 * 2^24 tokens) or 3 (out of memory; ds zeroed on failure). */
int dataset_tokens_from_texts(Dataset *ds, const char *const *texts /*(n)*/,
                              const size_t *lens /*(n)*/, int n, const int32_t *labels /*(n)*/,
                              int k, const WordPiece *wp, int max_tokens, char *err, size_t errlen);

/* The same for raw emails (RFC 5322 bytes): the text of email i is its Subject, "\n", then
 * its body's text (text_email_fields; From left out). Returns as dataset_tokens_from_texts. */
int dataset_tokens_from_emails(Dataset *ds, const char *const *docs /*(n)*/,
                               const size_t *lens /*(n)*/, int n, const int32_t *labels /*(n)*/,
                               int k, const WordPiece *wp, int max_tokens, char *err, size_t errlen);

/* The sha256 of token rows made from a source whose hash is source (hex): the hex SHA-256 of
 * the text "SOURCE\nVOCAB\nMAX\nlower=L strip_accents=S chinese=C\n", VOCAB = wp->sha256
 * (of vocab.txt), MAX = max_tokens in decimal and L, S, C the tokenizer's options (1, 0, or
 * -1 for strip_accents as lower): the same source tokenized another way is another dataset,
 * and never the features' hash. out (65). */
void dataset_tokens_hash(char out[65], const char *source, const WordPiece *wp, int max_tokens);

/* ids, mask (B·Tc) = B token rows of x (rows of d floats) unpacked for the encoder at Tc, the
 * longest of them (at least 1: padding past it never changes a real token): row rows[i], or
 * first + i when rows is NULL; ids the int32 ids (0 past a row's end), mask 1 on the real
 * tokens. Returns Tc. */
int dataset_tokens_unpack(int32_t *ids /*(B·Tc)*/, uint8_t *mask /*(B·Tc)*/, const float *x, int d,
                          const int *rows /*(B)*/, int first, int B);

/* 0 when opt asks for no token rows or asks validly; else 2 with a one-line reason:
 * max_tokens outside 2..DATASET_MAX_TOKENS with wp, or text_column without wp. */
int dataset_tokens_check(const DatasetOptions *opt, char *err, size_t errlen);

#endif
