/* test_text — the text featurizer (datasets/text.c) on small hand-worked examples:
 *   1. the tokenizer: lowercase runs of letters, digits and bytes >= 0x80, long runs dropped
 *   2. the hash: FNV-1a 64 test vectors, buckets = the top 18 bits, field prefixes, bigrams
 *   3. the email reader: headers used and ignored, folding, RFC 2047 words, quoted-printable,
 *      base64, HTML, multipart trees, broken and hostile mail (no crash, bounded)
 *   4. counts, idf and TF-IDF against hand-computed values; CSR invariants; the pool/test
 *      pipeline (text_open_docs)
 */
#include "datasets/text.h"
#include "sim/util.h"
#include "sim/rng.h"
#include "tests/check.h"

#include <stdlib.h>
#include <string.h>

/* The tokens of s joined by '|', skipped runs marked "^" before the next token. */
static void tokens_of(char *out, size_t outlen, const char *s, size_t len) {
    char tok[TEXT_MAX_TOKEN + 1];
    size_t pos = 0, o = 0;
    int n, skipped;
    out[0] = '\0';
    while ((n = text_next_token(tok, &skipped, s, len, &pos)) > 0)
        o += (size_t)snprintf(out + o, outlen - o, "%s%s%s", o ? "|" : "", skipped ? "^" : "", tok);
}

static void test_tokenizer(void) {
    char got[512];
    const char *s = "Hello, WORLD!  42 foo_bar x-Ray\tTAB";
    tokens_of(got, sizeof got, s, strlen(s));
    CHECK(strcmp(got, "hello|world|42|foo|bar|x|ray|tab") == 0, "tokens: %s", got);

    // bytes >= 0x80 are word bytes, kept as they are (any charset); ASCII alone is lowercased
    const char latin[] = "Caf\xc3\xa9 CAF\xe9 \xff\xfe";
    tokens_of(got, sizeof got, latin, strlen(latin));
    CHECK(strcmp(got, "caf\xc3\xa9|caf\xe9|\xff\xfe") == 0, "8-bit tokens: %s", got);

    // 40 bytes is a token, 41 is dropped and breaks the word sequence
    char longs[128];
    snprintf(longs, sizeof longs, "a %s b %s c", "0123456789012345678901234567890123456789",
             "01234567890123456789012345678901234567890");
    tokens_of(got, sizeof got, longs, strlen(longs));
    CHECK(strcmp(got, "a|0123456789012345678901234567890123456789|b|^c") == 0, "long runs: %s", got);

    // NUL bytes and an empty text
    const char nul[] = {'a', '\0', 'B', '\0'};
    tokens_of(got, sizeof got, nul, sizeof nul);
    CHECK(strcmp(got, "a|b") == 0, "NUL bytes: %s", got);
    tokens_of(got, sizeof got, "", 0);
    CHECK(got[0] == '\0', "empty text gave tokens: %s", got);
    tokens_of(got, sizeof got, " ,;", 3);
    CHECK(got[0] == '\0', "punctuation gave tokens: %s", got);
}

static void test_hash(void) {
    // FNV-1a 64 test vectors (Fowler, Noll, Vo)
    CHECK(util_fnv1a(UTIL_FNV_START, "", 0) == 0xcbf29ce484222325ull, "fnv1a('')");
    CHECK(util_fnv1a(UTIL_FNV_START, "a", 1) == 0xaf63dc4c8601ec8cull, "fnv1a('a')");
    CHECK(util_fnv1a(UTIL_FNV_START, "foobar", 6) == 0x85944171f73967e8ull, "fnv1a('foobar')");
    CHECK(util_fnv1a(util_fnv1a(UTIL_FNV_START, "foo", 3), "bar", 3) == 0x85944171f73967e8ull,
          "fnv1a does not continue");
    // a bucket: fmix64 (values from an independent Python implementation), low 18 bits
    CHECK(text_bucket(0) == 0, "bucket of 0");
    CHECK(text_bucket(0xaf63dc4c8601ec8cull) == 183899, "bucket of fnv('a')");   // fmix 0x82a2a958a9bece5b
    CHECK(text_bucket(0x85944171f73967e8ull) == 91947, "bucket of fnv('foobar')"); // 0x2c22194922d1672b
    CHECK(text_feature_id("", "a", NULL) == 183899, "bucket of 'a'");
    CHECK(text_feature_id("", "foobar", NULL) == 91947, "bucket of 'foobar'");
    // prefix and bigram: FNV over "subject:" "free", and over "free" " " "money"
    uint64_t h = util_fnv1a(UTIL_FNV_START, "subject:free", 12);
    CHECK(text_feature_id("subject:", "free", NULL) == text_bucket(h), "prefixed unigram");
    h = util_fnv1a(UTIL_FNV_START, "free money", 10);
    CHECK(text_feature_id("", "free", "money") == text_bucket(h), "bigram");
    // one-letter words (FNV alone would put x, y, z in one top-bits bucket)
    CHECK(text_feature_id("", "x", NULL) != text_feature_id("", "y", NULL) &&
          text_feature_id("", "y", NULL) != text_feature_id("", "z", NULL), "x, y, z collide");
    CHECK(text_feature_id("subject:", "free", NULL) != text_feature_id("", "free", NULL),
          "a subject word and a body word share a bucket");
    // 2000 short words spread over the buckets: about n²/2m = 7.6 colliding pairs expected
    enum { W = 2000 };
    uint32_t b[W];
    char w[16];
    int out_of_range = 0, pairs = 0;
    for (int i = 0; i < W; i++) {
        snprintf(w, sizeof w, "w%d", i);
        b[i] = text_feature_id("", w, NULL);
        out_of_range += b[i] >= TEXT_BUCKETS;
        for (int j = 0; j < i; j++) pairs += b[j] == b[i];
    }
    CHECK(out_of_range == 0 && pairs <= 25, "%d buckets out of range, %d colliding pairs", out_of_range, pairs);
}

// ----------------------------------------------------------------------------
// 3. the email reader

typedef struct {
    TextBuf subject, from, body;
} Fields;

static int read_email(Fields *f, const char *raw) {
    return text_email_fields(&f->subject, &f->from, &f->body, raw, strlen(raw));
}

static int has(const TextBuf *b, const char *s) {
    return b->data && strstr(b->data, s) != NULL;
}

static void test_email(void) {
    Fields f = {{0}, {0}, {0}};
    // headers: Subject and From (folded), the rest ignored; the mbox "From " line too
    int rc = read_email(&f,
        "From spammer@example.com  Thu Aug 22 13:17:22 2002\n"
        "Received: from relay.example.org by mx\n"
        "Subject: Cheap\n"
        "\tpills today\n"
        "From: \"Dr. Good\" <good@example.com>\n"
        "Message-ID: <12345@example.com>\n"
        "\n"
        "Body line one.\nSubject: not a header here\n");
    CHECK(rc == 0, "plain email rc %d", rc);
    CHECK(f.subject.data && strcmp(f.subject.data, "Cheap pills today") == 0, "subject '%s'", f.subject.data);
    CHECK(f.from.data && strcmp(f.from.data, "\"Dr. Good\" <good@example.com>") == 0, "from '%s'", f.from.data);
    CHECK(has(&f.body, "Body line one.") && has(&f.body, "not a header here"), "body '%s'", f.body.data);
    CHECK(!has(&f.body, "relay") && !has(&f.body, "12345") && !has(&f.subject, "relay"),
          "an ignored header leaked: body '%s'", f.body.data);

    // CRLF line ends, RFC 2047 words (Q with '_', B), quoted-printable body with a soft break
    read_email(&f,
        "Subject: =?iso-8859-1?Q?Caf=E9_au_lait?= and =?utf-8?B?SGVsbG8=?=\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "caf=C3=A9 soft=\r\nbreak =3D equals, bad =ZZ escape=");
    CHECK(f.subject.data && strcmp(f.subject.data, "Caf\xe9 au lait and Hello") == 0, "encoded words: '%s'", f.subject.data);
    CHECK(has(&f.body, "caf\xc3\xa9 softbreak = equals, bad =ZZ escape"), "qp body '%s'", f.body.data);

    // base64 text, HTML with style, comments, entities
    read_email(&f,
        "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
        "SGVsbG8g\nd29ybGQ=\n");
    CHECK(f.body.data && strcmp(f.body.data, "Hello world") == 0, "base64 body '%s'", f.body.data);
    read_email(&f,
        "Content-Type: TEXT/HTML\n\n"
        "<html><head><STYLE type=x>p {color: red}</style><script>var hidden=1;</script></head>"
        "<body><p>Buy&nbsp;now &amp; save&#33;</p><!-- secret --><a href=\"http://x\">here</a>"
        " AT&T &bogus; 5 &lt; 6</body></html>");
    CHECK(has(&f.body, "Buy now & save!") && has(&f.body, "here") && has(&f.body, "AT&T") &&
          has(&f.body, "5 < 6"), "html body '%s'", f.body.data);
    CHECK(!has(&f.body, "color") && !has(&f.body, "hidden") && !has(&f.body, "secret") &&
          !has(&f.body, "href") && !has(&f.body, "<p>"), "html leftovers in '%s'", f.body.data);

    // a multipart tree: mixed → (alternative → plain, html), an image, a forwarded message
    read_email(&f,
        "Subject: tree\n"
        "Content-Type: multipart/mixed; boundary=\"OUTER\"\n"
        "\n"
        "This is the preamble, skipped.\n"
        "--OUTER\n"
        "Content-Type: multipart/alternative;\n boundary=inner42\n"
        "\n"
        "--inner42\n"
        "Content-Type: text/plain\n"
        "\n"
        "plain words\n"
        "--inner42\n"
        "Content-Type: text/html\n"
        "Content-Transfer-Encoding: quoted-printable\n"
        "\n"
        "<b>html=20words</b>\n"
        "--inner42--\n"
        "--OUTER\n"
        "Content-Type: image/png\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "aW1hZ2VieXRlcw==\n"
        "--OUTER\n"
        "Content-Type: message/rfc822\n"
        "\n"
        "Subject: inner subject\n"
        "\n"
        "forwarded words\n"
        "--OUTER--\n"
        "epilogue, skipped\n");
    CHECK(has(&f.body, "plain words") && has(&f.body, "html words") && has(&f.body, "forwarded words"),
          "multipart body '%s'", f.body.data);
    CHECK(!has(&f.body, "preamble") && !has(&f.body, "epilogue") && !has(&f.body, "imagebytes") &&
          !has(&f.body, "aW1h") && !has(&f.body, "Content-Type"), "multipart leftovers in '%s'", f.body.data);

    // broken MIME: no boundary, a boundary that never appears, no closing delimiter
    read_email(&f, "Content-Type: multipart/mixed\n\nstill some words\n");
    CHECK(has(&f.body, "still some words"), "multipart without boundary: '%s'", f.body.data);
    read_email(&f, "Content-Type: multipart/mixed; boundary=zz\n\nno delimiter here\n");
    CHECK(has(&f.body, "no delimiter here"), "boundary never seen: '%s'", f.body.data);
    read_email(&f, "Content-Type: multipart/mixed; boundary=zz\n\n--zz\n\nunclosed part\n");
    CHECK(has(&f.body, "unclosed part"), "unclosed part: '%s'", f.body.data);
    // no headers at all, only headers, nothing
    read_email(&f, "just a line of text\nand another\n");
    CHECK(has(&f.body, "just a line of text") && f.subject.len == 0, "headerless: '%s'", f.body.data);
    read_email(&f, "Subject: only headers");
    CHECK(f.subject.data && strcmp(f.subject.data, "only headers") == 0 && f.body.len == 0,
          "headers only: '%s' / '%s'", f.subject.data, f.body.data);
    CHECK(read_email(&f, "") == 0 && f.body.len == 0 && f.subject.len == 0, "empty email");

    // 200 nested multiparts: read to MIME_MAX_DEPTH, no deeper, no crash
    size_t cap = 200 * 80 + 64, o = 0;
    char *deep = malloc(cap);
    for (int i = 0; i < 200; i++)
        o += (size_t)snprintf(deep + o, cap - o, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
    snprintf(deep + o, cap - o, "\ndeep words\n");
    rc = text_email_fields(&f.subject, &f.from, &f.body, deep, strlen(deep));
    CHECK(rc == 0 && !has(&f.body, "deep words"), "deep nesting: rc %d", rc);
    free(deep);

    // hostile bytes: random and mutated mail never crash (ASan checks the bounds)
    const char *seed_mail = "Subject: =?x?Q?a=4?=\nContent-Type: multipart/mixed; boundary=\"q\n\n--q\n"
                            "Content-Type: text/html\nContent-Transfer-Encoding: base64\n\nPGI+&#9999999999;<!--";
    size_t seed_len = strlen(seed_mail);
    char buf[300];
    Rng r = rng_stream(1, RNG_DATA, 77);
    int bad = 0;
    for (int trial = 0; trial < 3000; trial++) {
        size_t n = trial % 2 ? seed_len : rng_below(&r, sizeof buf);
        if (trial % 2) memcpy(buf, seed_mail, n);
        for (size_t i = 0; i < n; i++)
            if (!(trial % 2) || rng_below(&r, 8) == 0) buf[i] = (char)rng_below(&r, 256);
        if (trial % 3 == 0) n = rng_below(&r, (uint32_t)n + 1);       // truncated
        char *exact = malloc(n ? n : 1);    // exactly n bytes: ASan sees any overread
        memcpy(exact, buf, n);
        bad += text_email_fields(&f.subject, &f.from, &f.body, exact, n) != 0;
        free(exact);
    }
    CHECK(bad == 0, "%d hostile emails failed", bad);
    textbuf_free(&f.subject);
    textbuf_free(&f.from);
    textbuf_free(&f.body);
}

// ----------------------------------------------------------------------------
// 4. counts and TF-IDF

/* The value at column col of row i of ds, or 0. */
static double at(const Dataset *ds, int i, uint32_t col) {
    for (int64_t p = ds->indptr[i]; p < ds->indptr[i + 1]; p++)
        if ((uint32_t)ds->indices[p] == col) return ds->values[p];
    return 0.0;
}

static void test_tfidf(void) {
    // d0: subject "a", body "x y x"; d1: body "x z"; d2: body "y"
    const char *docs[3] = {"Subject: A\n\nx y X", "\nx z", "\ny"};
    const size_t lens[3] = {strlen(docs[0]), strlen(docs[1]), strlen(docs[2])};
    const int32_t labels[3] = {0, 1, 0};
    const uint32_t sa = text_feature_id("subject:", "a", NULL), x = text_feature_id("", "x", NULL),
                   y = text_feature_id("", "y", NULL), z = text_feature_id("", "z", NULL),
                   xy = text_feature_id("", "x", "y"), yx = text_feature_id("", "y", "x"),
                   xz = text_feature_id("", "x", "z");
    const uint32_t all[7] = {sa, x, y, z, xy, yx, xz};
    int distinct = 1;
    for (int i = 0; i < 7; i++)
        for (int j = i + 1; j < 7; j++) distinct &= all[i] != all[j];
    CHECK(distinct, "the example's features collide: pick other words");

    Dataset c = {0};
    char err[256];
    CHECK(text_count_docs(&c, docs, lens, labels, 3, 2, err, sizeof err) == 0, "%s", err);
    CHECK(c.x == NULL && c.n == 3 && c.d == TEXT_BUCKETS && c.k == 2, "counts shape");
    CHECK(c.indptr[0] == 0 && c.indptr[1] == 5 && c.indptr[2] == 8 && c.indptr[3] == 9,
          "nnz per row %lld %lld %lld", (long long)c.indptr[1], (long long)(c.indptr[2] - c.indptr[1]),
          (long long)(c.indptr[3] - c.indptr[2]));
    CHECK(at(&c, 0, x) == 2 && at(&c, 0, y) == 1 && at(&c, 0, sa) == 1 && at(&c, 0, xy) == 1 &&
          at(&c, 0, yx) == 1, "row 0 counts");
    CHECK(at(&c, 1, x) == 1 && at(&c, 1, z) == 1 && at(&c, 1, xz) == 1 && at(&c, 2, y) == 1, "rows 1, 2");
    int ascending = 1;
    for (int i = 0; i < c.n; i++)
        for (int64_t p = c.indptr[i] + 1; p < c.indptr[i + 1]; p++) ascending &= c.indices[p - 1] < c.indices[p];
    CHECK(ascending, "columns not strictly ascending");
    CHECK(c.y[0] == 0 && c.y[1] == 1 && c.y[2] == 0, "labels");

    // fit the idf on rows 0 and 1 (the "pool"), apply to all three
    Dataset pool = c;
    pool.n = 2;                         // the first two rows, sharing c's arrays
    double *idf = malloc(TEXT_BUCKETS * sizeof *idf);
    CHECK(text_idf_fit(idf, &pool) == 0, "idf fit");
    const double i1 = log(3.0 / 3.0) + 1.0, i2 = log(3.0 / 2.0) + 1.0, i0 = log(3.0) + 1.0;
    CHECK_NEAR(idf[x], i1, 1e-12, 0);
    CHECK_NEAR(idf[y], i2, 1e-12, 0);
    CHECK_NEAR(idf[z], i2, 1e-12, 0);
    CHECK_NEAR(idf[text_feature_id("", "never", NULL)], i0, 1e-12, 0);
    text_tfidf_apply(&c, idf);
    // row 0: x (1 + ln 2)·i1, y, a, "x y", "y x": 1·i2 each; then unit norm
    double w0[5] = {(1 + log(2.0)) * i1, i2, i2, i2, i2}, norm = 0;
    for (int i = 0; i < 5; i++) norm += w0[i] * w0[i];
    norm = sqrt(norm);
    CHECK_NEAR(at(&c, 0, x), w0[0] / norm, 1e-6, 1e-6);
    CHECK_NEAR(at(&c, 0, y), w0[1] / norm, 1e-6, 1e-6);
    CHECK_NEAR(at(&c, 0, xy), w0[3] / norm, 1e-6, 1e-6);
    // row 1: x i1, z i2, "x z" i2
    norm = sqrt(i1 * i1 + 2 * i2 * i2);
    CHECK_NEAR(at(&c, 1, x), i1 / norm, 1e-6, 1e-6);
    CHECK_NEAR(at(&c, 1, z), i2 / norm, 1e-6, 1e-6);
    CHECK_NEAR(at(&c, 2, y), 1.0, 1e-6, 0);     // one feature: unit norm
    free(idf);
    dataset_free(&c);

    // the pipeline: 40 emails, stratified 25% test, unit rows, nothing dense
    enum { N = 40 };
    const char *many[N];
    size_t many_len[N];
    int32_t many_y[N];
    char text[N][96];
    for (int i = 0; i < N; i++) {
        snprintf(text[i], sizeof text[i], "Subject: %s %d\n\n%s offer number %d today",
                 i % 4 ? "meeting" : "money", i, i % 4 ? "agenda" : "cheap", i % 7);
        many[i] = text[i];
        many_len[i] = strlen(text[i]);
        many_y[i] = i % 4 == 0;
    }
    many_len[5] = 0;                    // an empty email: an empty row
    Dataset p = {0}, t = {0};
    CHECK(text_open_docs(&p, &t, many, many_len, many_y, N, 2, 0.25, 3, err, sizeof err) == 0, "%s", err);
    // 30 ham, 10 spam: round(7.5) = 8 and round(2.5) = 3 go to test
    CHECK(p.n == 29 && t.n == 11 && p.x == NULL && t.x == NULL && p.d == TEXT_BUCKETS,
          "pool %d test %d", p.n, t.n);
    int counts[2] = {0, 0};
    for (int i = 0; i < t.n; i++) counts[t.y[i]]++;
    CHECK(counts[0] == 8 && counts[1] == 3, "test classes %d/%d (want 8 ham, 3 spam)", counts[0], counts[1]);
    int bad_norm = 0, empty = 0;
    for (int s = 0; s < 2; s++) {
        const Dataset *ds = s ? &t : &p;
        for (int i = 0; i < ds->n; i++) {
            double n2 = 0;
            for (int64_t q = ds->indptr[i]; q < ds->indptr[i + 1]; q++) n2 += (double)ds->values[q] * ds->values[q];
            if (ds->indptr[i + 1] == ds->indptr[i]) empty++;
            else bad_norm += fabs(n2 - 1.0) > 1e-5;
        }
    }
    CHECK(bad_norm == 0 && empty == 1, "%d rows not of unit norm, %d empty rows (want 1)", bad_norm, empty);
    dataset_free(&p);
    dataset_free(&t);
}

int main(void) {
    test_tokenizer();
    test_hash();
    test_email();
    test_tfidf();
    return check_done("test_text");
}
