/* wordpiece — BERT's basic tokenizer and WordPiece (contract: wordpiece.h). */
#include "datasets/wordpiece.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/sha256.h"
#include "datasets/unicode.h"
#include "sim/util.h"

enum { MAX_WORD_CHARS = 100 };

// ----------------------------------------------------------------------------
// the vocabulary

static uint64_t hash(const char *s, size_t len) { return util_fnv1a(0xcbf29ce484222325ull, s, len); }

int32_t wp_id(const WordPiece *wp, const char *s, size_t len) {
    for (size_t i = hash(s, len) & (wp->n_slots - 1);; i = (i + 1) & (wp->n_slots - 1)) {
        const int32_t id = wp->slots[i];
        if (id < 0) return -1;
        if (strlen(wp->tokens[id]) == len && !memcmp(wp->tokens[id], s, len)) return id;
    }
}

void wp_close(WordPiece *wp) {
    for (int i = 0; i < wp->n; i++) free(wp->tokens[i]);
    free(wp->tokens);
    free(wp->slots);
    memset(wp, 0, sizeof *wp);
}

int wp_open(WordPiece *wp, const char *vocab_path, const WpOptions *opt, char *err, size_t errlen) {
    memset(wp, 0, sizeof *wp);
    wp->opt = *opt;
    char *text = NULL;
    size_t len = 0;
    int rc = util_read_file(&text, &len, vocab_path, err, errlen);
    if (rc) return rc;
    sha256_hex(wp->sha256, text, len);
    int lines = 0;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    if (len && text[len - 1] != '\n') lines++;
    if (lines == 0) {
        snprintf(err, errlen, "%s: empty vocabulary", vocab_path);
        free(text);
        return 2;
    }
    size_t slots = 16;
    while (slots < 2 * (size_t)lines) slots *= 2;
    wp->tokens = calloc((size_t)lines, sizeof *wp->tokens);
    wp->slots = malloc(slots * sizeof *wp->slots);
    if (!wp->tokens || !wp->slots) {
        free(text);
        wp_close(wp);
        snprintf(err, errlen, "%s: out of memory for %d tokens", vocab_path, lines);
        return 3;
    }
    wp->n_slots = slots;
    for (size_t i = 0; i < slots; i++) wp->slots[i] = -1;
    for (size_t at = 0; at < len && !rc; wp->n++) {
        const char *nl = memchr(text + at, '\n', len - at);
        const size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        if (!(wp->tokens[wp->n] = malloc(n + 1))) {
            snprintf(err, errlen, "%s: out of memory", vocab_path);
            rc = 3;
            break;
        }
        memcpy(wp->tokens[wp->n], text + at, n);
        wp->tokens[wp->n][n] = '\0';
        // insert, or point an earlier same token at this later id
        size_t s = hash(text + at, n) & (slots - 1);
        while (wp->slots[s] >= 0 && strcmp(wp->tokens[wp->slots[s]], wp->tokens[wp->n]))
            s = (s + 1) & (slots - 1);
        wp->slots[s] = wp->n;
        at += n + 1;
    }
    free(text);
    const char *names[4] = {"[UNK]", "[CLS]", "[SEP]", "[PAD]"};
    int32_t *ids[4] = {&wp->unk, &wp->cls, &wp->sep, &wp->pad};
    for (int i = 0; i < 4 && !rc; i++)
        if ((*ids[i] = wp_id(wp, names[i], strlen(names[i]))) < 0) {
            snprintf(err, errlen, "%s: no %s token (BERT's tokenizer needs it)", vocab_path, names[i]);
            rc = 2;
        }
    if (rc) wp_close(wp);
    return rc;
}

/* The line of text at p (1-based). */
static int line_at(const char *text, const char *p) {
    int line = 1;
    for (const char *q = text; p && q < p && *q; q++) line += *q == '\n';
    return line;
}

/* *out = the boolean member key of obj, left as it is when absent; strip: null is -1 too.
 * Returns 0, or 2 with "PATH: line L: reason" for another type. */
static int json_option(int *out, const cJSON *obj, const char *key, int strip, const char *text,
                       const char *path, char *err, size_t errlen) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return 0;
    if (cJSON_IsBool(v)) { *out = cJSON_IsTrue(v); return 0; }
    if (strip && cJSON_IsNull(v)) { *out = -1; return 0; }
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\"", key);
    snprintf(err, errlen, "%s: line %d: \"%s\" must be true or false%s", path,
             line_at(text, strstr(text, quoted)), key, strip ? " or null" : "");
    return 2;
}

int wp_open_dir(WordPiece *wp, const char *dir, char *err, size_t errlen) {
    memset(wp, 0, sizeof *wp);
    WpOptions opt = {.lower = 1, .strip_accents = -1, .chinese = 1};
    char path[4096], vocab[4096];
    int n1 = snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    int n2 = snprintf(vocab, sizeof vocab, "%s/vocab.txt", dir);
    if (n1 < 0 || (size_t)n1 >= sizeof path || n2 < 0 || (size_t)n2 >= sizeof vocab) {
        snprintf(err, errlen, "%.200s...: model folder path too long", dir);
        return 2;
    }
    char *text = NULL;
    size_t len = 0;
    int rc = util_read_file(&text, &len, path, err, errlen);
    if (rc == 2 && errno == ENOENT) rc = 0;         /* no tokenizer_config.json: the defaults */
    else if (!rc) {
        const char *end = NULL;
        cJSON *root = strlen(text) == len ? cJSON_ParseWithOpts(text, &end, 0) : NULL;
        if (!root) {
            const char *at = strlen(text) == len ? cJSON_GetErrorPtr() : text + strlen(text);
            snprintf(err, errlen, "%s: line %d: %s", path, line_at(text, at),
                     strlen(text) != len ? "a NUL byte: not a JSON text" : "malformed JSON");
            rc = 2;
        } else if (!cJSON_IsObject(root)) {
            snprintf(err, errlen, "%s: line 1: a tokenizer config is a JSON object", path);
            rc = 2;
        }
        if (!rc) rc = json_option(&opt.lower, root, "do_lower_case", 0, text, path, err, errlen);
        if (!rc) rc = json_option(&opt.strip_accents, root, "strip_accents", 1, text, path, err, errlen);
        if (!rc) rc = json_option(&opt.chinese, root, "tokenize_chinese_chars", 0, text, path, err, errlen);
        cJSON_Delete(root);
    }
    free(text);
    return rc ? rc : wp_open(wp, vocab, &opt, err, errlen);
}

// ----------------------------------------------------------------------------
// text to code points and back

/* cps (at most len) = the code points of the UTF-8 text; each byte of a malformed sequence
 * (overlong, surrogate, past U+10FFFF, cut short) is U+FFFD. Returns how many. */
static size_t utf8_decode(uint32_t *cps, const unsigned char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        const unsigned c = s[i];
        int k = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
        uint32_t cp = k == 0 ? c : k == 1 ? c & 0x1F : k == 2 ? c & 0x0F : c & 0x07;
        int ok = k >= 0 && i + (size_t)k < len;
        for (int j = 1; ok && j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) ok = 0;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        static const uint32_t least[4] = {0, 0x80, 0x800, 0x10000};
        if (ok && (cp < least[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = 0;
        cps[n++] = ok ? cp : 0xFFFD;
        i += ok ? (size_t)k + 1 : 1;
    }
    return n;
}

/* out = cp in UTF-8; returns its bytes (1-4). */
static int utf8_put(char *out, uint32_t cp) {
    if (cp < 0x80) return out[0] = (char)cp, 1;
    if (cp < 0x800) return out[0] = (char)(0xC0 | cp >> 6), out[1] = (char)(0x80 | (cp & 0x3F)), 2;
    if (cp < 0x10000)
        return out[0] = (char)(0xE0 | cp >> 12), out[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
               out[2] = (char)(0x80 | (cp & 0x3F)), 3;
    return out[0] = (char)(0xF0 | cp >> 18), out[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
           out[2] = (char)(0x80 | (cp >> 6 & 0x3F)), out[3] = (char)(0x80 | (cp & 0x3F)), 4;
}

/* BasicTokenizer's _is_chinese_char: the CJK Unified Ideographs blocks. */
static int is_cjk(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
           (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) ||
           (cp >= 0x2B820 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

/* What str.split() splits on once the text is clean: spaces, and the line and paragraph
 * separators (not Zs, so cleaning keeps them). */
static int splits(uint32_t cp) { return cp == ' ' || cp == 0x2028 || cp == 0x2029; }

// ----------------------------------------------------------------------------
// the tokenizer

typedef struct {
    int32_t *ids;
    int cap, count;
} Out;

static void emit(Out *o, int32_t id) {
    if (o->count < o->cap) o->ids[o->count] = id;
    o->count++;
}

/* WordPiece of one word w (n code points) into o. buf: scratch of 8·MAX_WORD_CHARS + 8 bytes. */
static void wordpiece(Out *o, const WordPiece *wp, const uint32_t *w, int n, char *buf) {
    if (n > MAX_WORD_CHARS) {
        emit(o, wp->unk);
        return;
    }
    char *bytes = buf, *cand = buf + 4 * MAX_WORD_CHARS + 4;   // the word; "##" + a later piece
    int off[MAX_WORD_CHARS + 1];        // byte offset of each code point in bytes
    off[0] = 0;
    for (int i = 0; i < n; i++) off[i + 1] = off[i] + utf8_put(bytes + off[i], w[i]);
    int32_t pieces[MAX_WORD_CHARS];
    int np = 0;
    for (int start = 0; start < n;) {
        int32_t id = -1;
        int end = n;
        for (; end > start; end--) {    // the longest piece from start in the vocabulary
            const size_t nb = (size_t)(off[end] - off[start]);
            if (start == 0) {
                id = wp_id(wp, bytes, nb);
            } else {
                cand[0] = cand[1] = '#';
                memcpy(cand + 2, bytes + off[start], nb);
                id = wp_id(wp, cand, nb + 2);
            }
            if (id >= 0) break;
        }
        if (id < 0) {
            emit(o, wp->unk);
            return;
        }
        pieces[np++] = id;
        start = end;
    }
    for (int i = 0; i < np; i++) emit(o, pieces[i]);
}

int wp_tokenize(int32_t *ids, int cap, const WordPiece *wp, const char *text, size_t len) {
    // the worst growth: a code point lowers to 2 and decomposes to 4 each, CJK gains 2 spaces
    uint32_t *cps = malloc((len + 1) * sizeof *cps), *word = malloc((8 * len + 8) * sizeof *word);
    char *buf = malloc(8 * MAX_WORD_CHARS + 8);
    if (!cps || !word || !buf) {
        free(cps); free(word); free(buf);
        return -1;
    }
    const size_t n = utf8_decode(cps, (const unsigned char *)text, len);
    const int strip = wp->opt.strip_accents == 1 || (wp->opt.strip_accents < 0 && wp->opt.lower);
    Out o = {ids, cap, 0};
    size_t i = 0;
    while (i < n) {
        // one whitespace-separated word of the cleaned text (CJK ideographs are words alone)
        int w = 0;
        for (; i < n; i++) {
            const uint32_t cp = cps[i];
            const UniClass k = uni_class(cp);
            if (cp == 0 || cp == 0xFFFD || k == UNI_CONTROL) continue;
            if (k == UNI_SPACE || splits(cp)) {
                if (w) break;
                continue;
            }
            if (wp->opt.chinese && is_cjk(cp)) {
                if (!w) word[w++] = cp, i++;
                break;
            }
            uint32_t low[2];
            const int nl = wp->opt.lower ? uni_lower(low, cp) : (low[0] = cp, 1);
            for (int a = 0; a < nl; a++) {
                uint32_t d[4];
                const int nd = strip ? uni_nfd(d, low[a]) : (d[0] = low[a], 1);
                for (int b = 0; b < nd; b++)
                    if (!strip || uni_class(d[b]) != UNI_MARK) word[w++] = d[b];
            }
        }
        // split off punctuation, WordPiece each part
        int start = 0;
        for (int j = 0; j <= w; j++)
            if (j == w || uni_class(word[j]) == UNI_PUNCT) {
                if (j > start) wordpiece(&o, wp, word + start, j - start, buf);
                if (j < w) wordpiece(&o, wp, word + j, 1, buf);
                start = j + 1;
            }
    }
    free(cps);
    free(word);
    free(buf);
    return o.count;
}

int wp_encode(int32_t *ids, uint8_t *mask, const WordPiece *wp, const char *text, size_t len,
              int max_tokens) {
    const int room = max_tokens - 2;
    const int n = wp_tokenize(ids + 1, room, wp, text, len);
    if (n < 0) return -1;
    const int real = (n < room ? n : room) + 2;
    ids[0] = wp->cls;
    ids[real - 1] = wp->sep;
    for (int i = 0; i < max_tokens; i++) {
        if (i >= real) ids[i] = wp->pad;
        mask[i] = i < real;
    }
    return real;
}
