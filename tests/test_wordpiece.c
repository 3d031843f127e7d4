/* test_wordpiece — BERT's tokenizer (datasets/wordpiece.h) against cases worked out by hand
 * from Hugging Face's BertTokenizer algorithm, over a small vocab.txt written here: lower-
 * casing and accent stripping (and neither, for a cased model), punctuation and CJK splits,
 * control characters and invalid UTF-8 dropped, Unicode spaces, WordPiece's greedy longest
 * match and its [UNK] for a word it cannot cover or longer than 100 characters, [CLS]/[SEP]
 * with truncation and padding masks, the Unicode tables' spot values, and the vocabulary's
 * refusals (no [UNK], empty file). */
#include "datasets/unicode.h"
#include "datasets/wordpiece.h"
#include "tests/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *VOCAB[] = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "quick", "brown", "fox", "un", "##aff", "##able",
    "hello", "world", ",", ".", "!", "cafe", "naive", "\xe4\xb8\xad" /* 中 */, "\xe6\x96\x87" /* 文 */, "##s",
    "jump", "##ed", "Hello", "Caf\xc3\xa9" /* Café */, "i", "a", "##a", "'", "s", "\xc3\xa9" /* é */,
    "##\xc3\xa9", "x", "##y", "##yz", "-", "e", NULL,
};

static char path[64];

/* The pieces of text as tokens joined by spaces, into out. */
static void pieces(char *out, size_t outlen, const WordPiece *wp, const char *text, size_t len) {
    int32_t ids[128];
    const int n = wp_tokenize(ids, 128, wp, text, len);
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; i < n && i < 128 && at < outlen; i++)
        at += (size_t)snprintf(out + at, outlen - at, "%s%s", i ? " " : "", wp->tokens[ids[i]]);
}

static void tok(const WordPiece *wp, const char *what, const char *text, const char *want) {
    char got[1024];
    pieces(got, sizeof got, wp, text, strlen(text));
    CHECK(!strcmp(got, want), "%s: \"%s\" gave \"%s\", want \"%s\"", what, text, got, want);
}

int main(void) {
    snprintf(path, sizeof path, "/tmp/alsim-vocab-XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) return 1;
    for (int i = 0; VOCAB[i]; i++) fprintf(f, "%s\n", VOCAB[i]);
    fclose(f);

    char err[512];
    WordPiece wp;
    int rc = wp_open(&wp, path, &(WpOptions){.lower = 1, .strip_accents = -1, .chinese = 1}, err, sizeof err);
    CHECK(rc == 0, "uncased vocabulary: %d %s", rc, err);
    if (rc) return check_done("test_wordpiece");
    CHECK(wp.n == 38 && wp.unk == 1 && wp.cls == 2 && wp.sep == 3 && wp.pad == 0 && wp_id(&wp, "fox", 3) == 8 &&
          wp_id(&wp, "##aff", 5) == 10 && wp_id(&wp, "fo", 2) == -1, "ids are line numbers");

    // uncased: lower, strip accents, split punctuation
    tok(&wp, "lower-case, punctuation", "Hello, World!", "hello , world !");
    tok(&wp, "WordPiece", "UNAFFABLE", "un ##aff ##able");
    tok(&wp, "accents stripped", "Caf\xc3\xa9 na\xc3\xafve", "cafe naive");          // Café naïve
    tok(&wp, "a decomposed accent", "cafe\xcc\x81", "cafe");                          // e + U+0301
    tok(&wp, "punctuation inside a word", "fox.jumped", "fox . jump ##ed");
    tok(&wp, "suffix piece", "jumps", "jump ##s");
    tok(&wp, "an uncovered word is one [UNK]", "xyzq fox", "[UNK] fox");
    tok(&wp, "longest match first", "xyz", "x ##yz");
    tok(&wp, "apostrophe and hyphen", "fox's un-", "fox ' s un -");
    tok(&wp, "CJK ideographs are words alone", "the\xe4\xb8\xad\xe6\x96\x87" "fox", "the \xe4\xb8\xad \xe6\x96\x87 fox");
    tok(&wp, "control and format characters dropped", "hel\x01lo wor\xe2\x80\x8bld", "hello world");  // U+200B is Cf
    tok(&wp, "invalid UTF-8 dropped", "hel\xff" "lo \xc3(fox", "hello [UNK] fox");     // "(": no piece
    tok(&wp, "Unicode spaces split", "the\xc2\xa0quick\xe3\x80\x80" "brown\tfox\r\nthe\xe2\x80\xa8" "fox",
        "the quick brown fox the fox");                                               // NBSP, U+3000, U+2028
    tok(&wp, "İ lowers to i + U+0307, stripped", "\xc4\xb0", "i");
    tok(&wp, "ß lowers to itself: no piece", "\xc3\x9f", "[UNK]");
    tok(&wp, "empty", "", "");
    tok(&wp, "only spaces", "  \t\n ", "");
    char longw[256];
    memset(longw, 'a', 101);
    longw[101] = '\0';
    tok(&wp, "101 characters: [UNK]", longw, "[UNK]");
    longw[100] = '\0';
    char want[512] = "a";
    for (int i = 1; i < 100; i++) strcat(want, " ##a");
    tok(&wp, "100 characters: pieces", longw, want);

    // [CLS] ... [SEP], truncation, padding
    int32_t ids[8];
    uint8_t mask[8];
    int n = wp_encode(ids, mask, &wp, "the quick brown fox", 19, 8);
    CHECK(n == 6 && ids[0] == wp.cls && ids[1] == 5 && ids[4] == 8 && ids[5] == wp.sep && ids[6] == wp.pad &&
          ids[7] == wp.pad && mask[5] == 1 && mask[6] == 0 && mask[7] == 0, "encode with padding: %d", n);
    n = wp_encode(ids, mask, &wp, "the quick brown fox the quick brown fox", 39, 5);
    CHECK(n == 5 && ids[0] == wp.cls && ids[1] == 5 && ids[2] == 6 && ids[3] == 7 && ids[4] == wp.sep &&
          mask[0] == 1 && mask[4] == 1, "encode truncates to max_tokens: %d", n);
    n = wp_encode(ids, mask, &wp, "", 0, 2);
    CHECK(n == 2 && ids[0] == wp.cls && ids[1] == wp.sep, "encode of nothing: [CLS] [SEP]");
    wp_close(&wp);

    // cased: no lower-casing, no accent stripping
    rc = wp_open(&wp, path, &(WpOptions){.lower = 0, .strip_accents = -1, .chinese = 1}, err, sizeof err);
    CHECK(rc == 0, "cased: %d %s", rc, err);
    tok(&wp, "cased keeps case and accents", "Hello Caf\xc3\xa9 hello", "Hello Caf\xc3\xa9 hello");
    tok(&wp, "cased: an unknown capital", "Fox", "[UNK]");
    wp_close(&wp);
    // lower-cased but accents kept
    rc = wp_open(&wp, path, &(WpOptions){.lower = 1, .strip_accents = 0, .chinese = 1}, err, sizeof err);
    tok(&wp, "strip_accents 0 keeps é", "\xc3\x89", "\xc3\xa9");
    tok(&wp, "é as a later piece", "a\xc3\xa9", "a ##\xc3\xa9");
    wp_close(&wp);
    // no CJK splitting: the ideographs stay in one word
    rc = wp_open(&wp, path, &(WpOptions){.lower = 1, .strip_accents = -1, .chinese = 0}, err, sizeof err);
    tok(&wp, "tokenize_chinese_chars off", "the\xe4\xb8\xad", "[UNK]");
    wp_close(&wp);

    // the Unicode tables
    uint32_t o[4];
    CHECK(uni_class(' ') == UNI_SPACE && uni_class(0x3000) == UNI_SPACE && uni_class('\t') == UNI_SPACE &&
          uni_class(0x7F) == UNI_CONTROL && uni_class(0x200B) == UNI_CONTROL && uni_class('$') == UNI_PUNCT &&
          uni_class(0x3001) == UNI_PUNCT && uni_class(0x301) == UNI_MARK && uni_class('a') == UNI_OTHER &&
          uni_class(0x10FFFF) == UNI_CONTROL, "uni_class spot values (Unicode %s)", UNI_VERSION);
    CHECK(uni_lower(o, 'A') == 1 && o[0] == 'a' && uni_lower(o, 0x130) == 2 && o[0] == 'i' && o[1] == 0x307 &&
          uni_lower(o, 0x3A3) == 1 && o[0] == 0x3C3 && uni_lower(o, 'a') == 1 && o[0] == 'a', "uni_lower spot values");
    CHECK(uni_nfd(o, 0xE9) == 2 && o[0] == 'e' && o[1] == 0x301 && uni_nfd(o, 0x1E09) == 3 && o[0] == 'c' &&
          uni_nfd(o, 0xAC00) == 2 && o[0] == 0x1100 && o[1] == 0x1161 && uni_nfd(o, 0xD7A3) == 3 &&
          o[2] == 0x11C2 && uni_nfd(o, 'q') == 1 && o[0] == 'q', "uni_nfd spot values (Hangul by formula)");

    // refusals
    f = fopen(path, "w");
    if (f) fputs("[PAD]\n[CLS]\n[SEP]\nfox\n", f), fclose(f);
    rc = wp_open(&wp, path, &(WpOptions){.lower = 1, .strip_accents = -1, .chinese = 1}, err, sizeof err);
    CHECK(rc == 2 && strstr(err, path) && strstr(err, "[UNK]") && !strchr(err, '\n'), "no [UNK]: %d %s", rc, err);
    f = fopen(path, "w");
    if (f) fclose(f);
    rc = wp_open(&wp, path, &(WpOptions){.lower = 1, .strip_accents = -1, .chinese = 1}, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "empty"), "empty vocabulary: %d %s", rc, err);
    unlink(path);
    rc = wp_open(&wp, path, &(WpOptions){.lower = 1, .strip_accents = -1, .chinese = 1}, err, sizeof err);
    CHECK(rc == 2 && strstr(err, path), "missing vocabulary: %d %s", rc, err);
    return check_done("test_wordpiece");
}
