/* text — raw emails to hashed TF-IDF features, a CSR Dataset (the spamassassin catalog entry).
 *
 * One document goes through
 *   text_email_fields   which bytes of an email are read: the Subject and From headers and
 *                       the text of the body (MIME parts decoded, HTML tags stripped)
 *   text_next_token     lowercase runs of ASCII letters and digits (bytes >= 0x80 count as
 *                       letters, so words in any 8-bit charset stay whole; nothing is decoded,
 *                       so no byte sequence can fail)
 *   text_feature_id     each unigram and each bigram of adjacent tokens, prefixed by its
 *                       field ("subject:", "from:", none for the body), hashed into
 *                       TEXT_BUCKETS = 2^18 buckets: 64-bit FNV-1a of the bytes, mixed by
 *                       MurmurHash3's fmix64, low 18 bits
 * and a collection through
 *   text_count_docs     a CSR matrix of bucket counts (n, 2^18), columns ascending
 *   text_idf_fit        smooth idf from the POOL's rows only: idf = ln((1 + n) / (1 + df)) + 1
 *   text_tfidf_apply    value = (1 + ln count) · idf, then each row scaled to unit L2 norm
 * which is scikit-learn's HashingVectorizer(n_features=2**18, alternate_sign=False,
 * norm=None) followed by TfidfTransformer(sublinear_tf=True) fitted on the pool, up to the
 * tokenizer and the hash. The idf is fitted on the pool so that no statistic of the test
 * set leaks into the features the learner trains on; test rows use the pool's idf (a bucket
 * never seen in the pool gets the largest idf, ln(1 + n) + 1, as in scikit-learn).
 * Never dense: a row holds only its nonzeros.
 */
#ifndef ALSIM_TEXT_H
#define ALSIM_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "datasets/dataset.h"

#define TEXT_BUCKETS (1 << 18)      /* features D of a text dataset */
#define TEXT_MAX_TOKEN 40           /* longer runs (undecoded base64, hex ids) are dropped */

/* A growable byte buffer; a zeroed struct is empty. */
typedef struct {
    char *data;
    size_t len, cap;
} TextBuf;

void textbuf_free(TextBuf *b);

/* The text of one raw email (RFC 5322 bytes, any charset, raw[0..n)):
 *   subject, from  the first Subject: and From: header values, unfolded, RFC 2047 encoded
 *                  words (=?charset?Q|B?...?=) decoded to their bytes; all other headers
 *                  (Received, dates, Message-ID, ...) are ignored: they describe how the
 *                  corpus was collected, not the message;
 *   body           every text/plain and text/html part, in order, separated by newlines:
 *                  multipart/... and message/rfc822 are walked (8 levels deep at most),
 *                  quoted-printable and base64 are decoded, HTML loses its tags, <style> and
 *                  <script> contents and comments, and its entities become characters
 *                  (&amp; &lt; &gt; &quot; &nbsp; and &#N; below 128; others a space);
 *                  other parts (images, attachments) are skipped; no Content-Type means
 *                  text/plain.
 * The buffers are overwritten. Returns 0, or -1 when out of memory. */
int text_email_fields(TextBuf *subject, TextBuf *from, TextBuf *body,
                      const char *raw, size_t n);

/* The next token of text[*pos .. len): a maximal run of ASCII letters, digits and bytes
 * >= 0x80, ASCII letters lowercased, copied NUL-terminated into tok. Runs longer than
 * TEXT_MAX_TOKEN bytes are skipped; *skipped (may be NULL) is set to 1 when one was skipped
 * before this token (a break in the word sequence for bigrams), else 0. Advances *pos past
 * the token. Returns the token's length, or 0 when text has no more tokens. */
int text_next_token(char tok[TEXT_MAX_TOKEN + 1], int *skipped, const char *text, size_t len,
                    size_t *pos);

/* The bucket (0..TEXT_BUCKETS-1) of a 64-bit hash: MurmurHash3's fmix64 finalizer, then the
 * low 18 bits. */
uint32_t text_bucket(uint64_t h);

/* The bucket of a unigram (w2 NULL) or bigram: text_bucket of FNV-1a 64 over the bytes of
 * prefix, w1, and for a bigram " " and w2. prefix: "" for the body, "subject:" or "from:"
 * for the headers. */
uint32_t text_feature_id(const char *prefix, const char *w1, const char *w2);

/* Counts (n documents) = the hashed unigram and bigram counts of each raw email docs[i]
 * (lens[i] bytes): a CSR dataset (n, TEXT_BUCKETS) whose values are counts, columns
 * ascending, labels y = labels (k classes, names "0".."k-1"), name and sha256 empty.
 * Returns 0, or 3 (out of memory, counts zeroed). */
int text_count_docs(Dataset *counts, const char *const *docs /*(n)*/, const size_t *lens /*(n)*/,
                    const int32_t *labels /*(n)*/, int n, int k, char *err, size_t errlen);

/* idf (counts->d) = ln((1 + n) / (1 + df_j)) + 1, df_j the number of rows of counts (n of
 * them: fit on the pool only) with a nonzero in column j. Returns 0, or -1 when out of
 * memory. */
int text_idf_fit(double *idf, const Dataset *counts);

/* In place on a counts matrix: each value c becomes (1 + ln c) · idf[column], then each row
 * is divided by its L2 norm (rows with no nonzeros stay empty). */
void text_tfidf_apply(Dataset *ds, const double *idf /*(ds->d)*/);

/* Pool and test from raw emails: counts (text_count_docs), a stratified split with test_frac
 * of each class in test (dataset_split_stratified, seeded by split_seed), idf fitted on the
 * pool, TF-IDF on both. Returns 0, 2 or 3 (pool and test zeroed on failure). */
int text_open_docs(Dataset *pool, Dataset *test, const char *const *docs /*(n)*/,
                   const size_t *lens /*(n)*/, const int32_t *labels /*(n)*/, int n, int k,
                   double test_frac, uint64_t split_seed, char *err, size_t errlen);

#endif
