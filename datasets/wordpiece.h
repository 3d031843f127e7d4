/* wordpiece — BERT's tokenizer: Hugging Face's BertTokenizer (its BasicTokenizer, then
 * WordPiece) over a model folder's vocab.txt, for the language-model encoder.
 *
 * Basic tokenizer, in its order: drop NUL, U+FFFD and control characters (invalid UTF-8
 * bytes count as U+FFFD), whitespace to spaces; spaces around every CJK ideograph; split on
 * whitespace; per word, lower-case (str.lower()) when lower, then strip accents (NFD, marks
 * of category Mn dropped) when strip_accents is 1, or -1 and lower; split off every
 * punctuation character as a word of its own. Unicode facts: datasets/unicode.h (Python's
 * unicodedata). One difference from Hugging Face's: no NFC normalisation of the whole text
 * first (recent versions do it), so a cased model sees decomposed accents as the text has
 * them; and NFD is taken character by character (combining marks are not reordered).
 * WordPiece: each word of at most 100 characters, greedy longest match first, pieces after
 * the first looked up with a "##" prefix; a word with a part no piece matches, or longer
 * than 100 characters, is one [UNK].
 */
#ifndef ALSIM_WORDPIECE_H
#define ALSIM_WORDPIECE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int lower;              /* do_lower_case (BertTokenizer's default: 1) */
    int strip_accents;      /* 1, 0, or -1: as lower (BertTokenizer's default) */
    int chinese;            /* tokenize_chinese_chars (default 1) */
} WpOptions;

typedef struct {
    WpOptions opt;
    int n;                  /* vocabulary size: ids 0..n-1, the lines of vocab.txt */
    char **tokens;          /* (n) id -> token */
    int32_t *slots;         /* (n_slots) open-addressing hash of token -> id, -1 empty */
    size_t n_slots;
    int32_t unk, cls, sep, pad;     /* the special tokens' ids */
    char sha256[65];        /* hex SHA-256 of vocab.txt's bytes (part of a token dataset's hash) */
} WordPiece;

/* wp = the vocabulary at vocab_path (one token a line, its id its 0-based line number; a
 * token listed twice keeps its last id, as Hugging Face's load_vocab) with options opt.
 * Needs [UNK], [CLS], [SEP] and [PAD]. Returns 0, 2 (unreadable, empty, a special token
 * missing: err names the file and token) or 3 (out of memory). */
int wp_open(WordPiece *wp, const char *vocab_path, const WpOptions *opt, char *err, size_t errlen);

/* wp = the tokenizer of a Hugging Face model folder: dir/vocab.txt (wp_open) with the options
 * of dir/tokenizer_config.json when there is one: "do_lower_case" (true/false),
 * "strip_accents" (null: as lower, true, false) and "tokenize_chinese_chars" (true/false),
 * each defaulting as BertTokenizer's (lower 1, strip_accents -1, chinese 1); other keys are
 * ignored. Returns 0, 2 (bad JSON or a key of the wrong type: "PATH: line L: reason"; vocab.txt
 * unreadable or lacking a special token) or 3 (out of memory). */
int wp_open_dir(WordPiece *wp, const char *dir, char *err, size_t errlen);

/* Frees wp; accepts a zeroed struct. */
void wp_close(WordPiece *wp);

/* The id of token s (len bytes), or -1. */
int32_t wp_id(const WordPiece *wp, const char *s, size_t len);

/* ids (cap) = the first cap WordPiece ids of text (len bytes of UTF-8), no [CLS]/[SEP].
 * Returns how many pieces the whole text has (may exceed cap), or -1 when out of memory. */
int wp_tokenize(int32_t *ids, int cap, const WordPiece *wp, const char *text, size_t len);

/* ids (max_tokens), mask (max_tokens) = [CLS], the text's first max_tokens - 2 pieces,
 * [SEP], then [PAD] to max_tokens; mask 1 on the real tokens, 0 on the padding (max_tokens
 * >= 2). Returns the real tokens' count, or -1 when out of memory. */
int wp_encode(int32_t *ids, uint8_t *mask, const WordPiece *wp, const char *text, size_t len,
              int max_tokens);

#endif
