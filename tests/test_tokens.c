/* test_tokens — text as token rows for --model bert:DIR (datasets/tokens.h):
 *   1. the tokenizer of a model folder (wp_open_dir): tokenizer_config.json's options, its
 *      absence, malformed or mistyped configs refused naming the file and line
 *   2. token rows by hand against tests/fixtures/tiny-bert/vocab.txt: [CLS] ... [SEP], -1
 *      padding, truncation to max_tokens, an empty text, emails (Subject, newline, body)
 *   3. a CSV text column: quoted cells with commas, quotes and newlines, by name and by index,
 *      the header found either way, labels; errors name the file and the line (code 2)
 *   4. dataset_open_with: refusals (a non-text dataset, --text-column without a tokenizer or
 *      on a non-CSV), the split, and take_rows / split_off / subsample keeping text_tokens;
 *      --standardize refused on token rows
 *   5. spamassassin as token rows beside its TF-IDF load: the same split (when it is cached,
 *      or can be fetched: skipped under ALSIM_E2E_QUICK when it is not cached)
 * Run from the repository root (it reads tests/fixtures/tiny-bert/). */
#include "datasets/dataset.h"
#include "datasets/sha256.h"
#include "datasets/tokens.h"
#include "datasets/wordpiece.h"
#include "tests/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FX "tests/fixtures/tiny-bert"

static char tmpdir[256];

static int one_line(const char *err) { return err[0] && !strchr(err, '\n'); }

static const char *tmp_path(const char *name) {
    static char buf[8][512];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static const char *write_text(const char *name, const char *text) {
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    if (f) { fputs(text, f); fclose(f); }
    return path;
}

/* Copies the fixture's vocab.txt into folder dir (created). */
static void copy_vocab(const char *dir) {
    mkdir(dir, 0777);
    char path[600];
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    FILE *in = fopen(FX "/vocab.txt", "rb"), *out = fopen(path, "wb");
    int ch;
    while (in && out && (ch = fgetc(in)) != EOF) fputc(ch, out);
    if (in) fclose(in);
    if (out) fclose(out);
}

/* 1 when row (d) is want (n) then -1 padding. */
static int row_is(const float *row, int d, const int *want, int n) {
    for (int i = 0; i < d; i++)
        if (row[i] != (i < n ? (float)want[i] : -1.0f)) return 0;
    return 1;
}

static void print_row(const float *row, int d) {
    for (int i = 0; i < d; i++) fprintf(stderr, "%s%g", i ? "," : "  row: ", row[i]);
    fputc('\n', stderr);
}

#define CHECK_ROW(row, d, ...) do {                                             \
        const int want_[] = {__VA_ARGS__};                                      \
        const int ok_ = row_is((row), (d), want_, (int)(sizeof want_ / sizeof want_[0])); \
        CHECK(ok_, "row %s is not {%s}", #row, #__VA_ARGS__);                   \
        if (!ok_) print_row((row), (d));                                        \
    } while (0)

static void test_open_dir(void) {
    char err[1024] = "";
    WordPiece wp;
    int rc = wp_open_dir(&wp, FX, err, sizeof err);
    char hex[65] = "";
    sha256_file_hex(hex, FX "/vocab.txt");
    CHECK(rc == 0 && wp.n == 69 && wp.opt.lower == 1 && wp.opt.strip_accents == -1 && wp.opt.chinese == 1 &&
          wp.cls == 2 && wp.sep == 3 && wp.unk == 1 && wp.pad == 0, "the fixture: rc %d '%s'", rc, err);
    CHECK(rc == 0 && strcmp(wp.sha256, hex) == 0, "vocab hash %s, want %s", wp.sha256, hex);
    if (!rc) wp_close(&wp);

    char dir[512];
    snprintf(dir, sizeof dir, "%s/cased", tmpdir);
    copy_vocab(dir);
    rc = wp_open_dir(&wp, dir, err, sizeof err);
    CHECK(rc == 0 && wp.opt.lower == 1 && wp.opt.strip_accents == -1 && wp.opt.chinese == 1,
          "no tokenizer_config.json: BertTokenizer's defaults: rc %d '%s'", rc, err);
    if (!rc) wp_close(&wp);
    write_text("cased/tokenizer_config.json", "{\n \"do_lower_case\": false,\n \"strip_accents\": true,\n"
               " \"tokenize_chinese_chars\": false, \"model_max_length\": 512\n}\n");
    rc = wp_open_dir(&wp, dir, err, sizeof err);
    CHECK(rc == 0 && wp.opt.lower == 0 && wp.opt.strip_accents == 1 && wp.opt.chinese == 0,
          "options read: rc %d '%s' lower %d strip %d chinese %d", rc, err, wp.opt.lower, wp.opt.strip_accents,
          wp.opt.chinese);
    if (!rc) wp_close(&wp);
    write_text("cased/tokenizer_config.json", "{\"strip_accents\": false}");
    rc = wp_open_dir(&wp, dir, err, sizeof err);
    CHECK(rc == 0 && wp.opt.lower == 1 && wp.opt.strip_accents == 0, "strip_accents false: rc %d '%s'", rc, err);
    if (!rc) wp_close(&wp);

    const char *cfg = write_text("cased/tokenizer_config.json", "{\n \"do_lower_case\": true,\n \"strip_accents\": ,\n}");
    rc = wp_open_dir(&wp, dir, err, sizeof err);
    CHECK(rc == 2 && strstr(err, cfg) && strstr(err, "line 3") && one_line(err), "malformed JSON: rc %d '%s'", rc, err);
    write_text("cased/tokenizer_config.json", "{\n\n \"do_lower_case\": \"yes\"\n}");
    rc = wp_open_dir(&wp, dir, err, sizeof err);
    CHECK(rc == 2 && strstr(err, cfg) && strstr(err, "line 3") && strstr(err, "do_lower_case") && one_line(err),
          "a string for a boolean: rc %d '%s'", rc, err);
    write_text("cased/tokenizer_config.json", "[true]");
    rc = wp_open_dir(&wp, dir, err, sizeof err);
    CHECK(rc == 2 && strstr(err, cfg) && one_line(err), "not an object: rc %d '%s'", rc, err);

    snprintf(dir, sizeof dir, "%s/no-such-model", tmpdir);
    rc = wp_open_dir(&wp, dir, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "vocab.txt") && one_line(err), "a folder without vocab.txt: rc %d '%s'", rc, err);
}

static void test_rows(const WordPiece *wp) {
    float row[12];
    int n = dataset_tokens_row(row, wp, "Hello world", 11, 8);
    CHECK(n == 4, "real tokens %d", n);
    CHECK_ROW(row, 8, 2, 48, 49, 3);
    n = dataset_tokens_row(row, wp, "Click here, WIN money!", 22, 12);
    CHECK_ROW(row, 12, 2, 23, 24, 55, 27, 22, 57, 3);
    n = dataset_tokens_row(row, wp, "", 0, 5);
    CHECK(n == 2, "empty text: %d real tokens", n);
    CHECK_ROW(row, 5, 2, 3);
    n = dataset_tokens_row(row, wp, "the a of and to in is", 21, 5);     // 7 pieces, room for 3
    CHECK(n == 5, "truncated: %d real tokens", n);
    CHECK_ROW(row, 5, 2, 5, 6, 7, 3);
    dataset_tokens_row(row, wp, "zzz Emails", 10, 6);                   // [UNK], email ##s
    CHECK_ROW(row, 6, 2, 1, 37, 41, 3);
    dataset_tokens_row(row, wp, "x", 1, 2);
    CHECK_ROW(row, 2, 2, 3);

    const char *texts[3] = { "free money", "", "hello" };
    const size_t lens[3] = { 10, 0, 5 };
    const int32_t labels[3] = { 1, 0, 0 };
    Dataset ds;
    char err[512];
    int rc = dataset_tokens_from_texts(&ds, texts, lens, 3, labels, 2, wp, 4, err, sizeof err);
    CHECK(rc == 0 && ds.n == 3 && ds.d == 4 && ds.k == 2 && ds.text_tokens == 4 && ds.x, "from texts: rc %d", rc);
    if (!rc) {
        CHECK_ROW(ds.x, 4, 2, 21, 22, 3);
        CHECK_ROW(ds.x + 4, 4, 2, 3);
        CHECK_ROW(ds.x + 8, 4, 2, 48, 3);
        CHECK(ds.y[0] == 1 && ds.y[1] == 0 && ds.y[2] == 0, "labels");
    }
    dataset_free(&ds);
    rc = dataset_tokens_from_texts(&ds, texts, lens, 3, labels, 2, wp, 1, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "--max-tokens 1") && one_line(err), "max_tokens 1: rc %d '%s'", rc, err);
    rc = dataset_tokens_from_texts(&ds, texts, lens, 3, labels, 2, wp, DATASET_MAX_TOKENS + 1, err, sizeof err);
    CHECK(rc == 2, "max_tokens past the limit: rc %d", rc);

    // emails: Subject, a newline, the body; From left out
    const char *mail[2] = {
        "From: Team Project <team@project.example>\r\nSubject: Free money\r\nDate: now\r\n\r\nClick here now\r\n",
        "Subject: =?utf-8?Q?hello?=\r\nContent-Type: text/html\r\n\r\n<p>the <b>data</b> model</p>",
    };
    const size_t mlen[2] = { strlen(mail[0]), strlen(mail[1]) };
    rc = dataset_tokens_from_emails(&ds, mail, mlen, 2, labels, 2, wp, 10, err, sizeof err);
    CHECK(rc == 0 && ds.n == 2 && ds.d == 10 && ds.text_tokens == 10, "from emails: rc %d '%s'", rc, err);
    if (!rc) {
        CHECK_ROW(ds.x, 10, 2, 21, 22, 23, 24, 25, 3);
        CHECK_ROW(ds.x + 10, 10, 2, 48, 5, 52, 53, 3);
    }
    dataset_free(&ds);

    char h1[65], h2[65], h3[65];
    dataset_tokens_hash(h1, "abc", wp, 128);
    dataset_tokens_hash(h2, "abc", wp, 64);
    dataset_tokens_hash(h3, "abd", wp, 128);
    CHECK(strlen(h1) == 64 && strcmp(h1, h2) && strcmp(h1, h3) && strcmp(h1, "abc"), "token hashes differ");
    char want[65], text[256];
    snprintf(text, sizeof text, "abc\n%s\n128\nlower=1 strip_accents=-1 chinese=1\n", wp->sha256);
    sha256_hex(want, text, strlen(text));
    CHECK(strcmp(h1, want) == 0, "dataset_tokens_hash is the documented text's SHA-256");
}

/* The CSV of the tests: a header, quoted cells with commas, doubled quotes and newlines (a
 * blank line inside one), an empty cell. Rows start on lines 2, 4, 5 and 6. */
static const char csv_text[] =
    "id,text,label\n"
    "1,\"Hello, world!\n"
    "Click here\",spam\n"
    "2,\"the \"\"free\"\" offer\",ham\n"
    "3,,ham\n"
    "4,\"win money\n"
    "\n"
    "now\" , spam\n";

static void check_csv_rows(const Dataset *ds, const char *what) {
    CHECK(ds->n == 4 && ds->d == 8 && ds->k == 2 && ds->text_tokens == 8 && ds->x, "%s: n %d d %d k %d tokens %d",
          what, ds->n, ds->d, ds->k, ds->text_tokens);
    if (ds->n != 4 || ds->d != 8) return;
    CHECK(!strcmp(ds->class_names[0], "ham") && !strcmp(ds->class_names[1], "spam"), "%s: classes", what);
    CHECK(ds->y[0] == 1 && ds->y[1] == 0 && ds->y[2] == 0 && ds->y[3] == 1, "%s: labels", what);
    CHECK_ROW(ds->x, 8, 2, 48, 55, 49, 57, 23, 24, 3);     // hello , world ! click here
    CHECK_ROW(ds->x + 8, 8, 2, 5, 1, 21, 1, 26, 3);        // the " free " offer: '"' is [UNK]
    CHECK_ROW(ds->x + 16, 8, 2, 3);                        // an empty cell
    CHECK_ROW(ds->x + 24, 8, 2, 27, 22, 25, 3);            // win money now
}

static void test_csv(const WordPiece *wp) {
    char err[1024] = "", sha[65], want[65];
    const char *path = write_text("mails.csv", csv_text);
    Dataset tr, te;
    int rc = dataset_load_csv_text(&tr, &te, path, NULL, NULL, "text", wp, 8, err, sizeof err);
    CHECK(rc == 0, "by name: rc %d '%s'", rc, err);
    if (!rc) {
        check_csv_rows(&tr, "by name");
        CHECK(tr.label && !strcmp(tr.label, "label"), "the class column's name");
        sha256_file_hex(sha, path);
        dataset_tokens_hash(want, sha, wp, 8);
        CHECK(!strcmp(tr.sha256, want) && strcmp(tr.sha256, sha), "sha256 %s: the token hash of the file's", tr.sha256);
    }
    dataset_free(&tr);
    rc = dataset_load_csv_text(&tr, &te, path, NULL, NULL, "1", wp, 8, err, sizeof err);
    CHECK(rc == 0, "by index: rc %d '%s'", rc, err);
    if (!rc) check_csv_rows(&tr, "by index (the header found by its one-row class 'label')");
    dataset_free(&tr);
    rc = dataset_load_csv_text(&tr, &te, path, NULL, "label", "-2", wp, 8, err, sizeof err);
    CHECK(rc == 0, "a negative index, --label by name: rc %d '%s'", rc, err);
    if (!rc) check_csv_rows(&tr, "negative index");
    dataset_free(&tr);

    // truncation to max_tokens
    rc = dataset_load_csv_text(&tr, &te, path, NULL, NULL, "text", wp, 4, err, sizeof err);
    CHECK(rc == 0 && tr.n == 4 && tr.d == 4 && tr.text_tokens == 4, "max_tokens 4: rc %d '%s'", rc, err);
    if (!rc) {
        CHECK_ROW(tr.x, 4, 2, 48, 55, 3);
        CHECK_ROW(tr.x + 8, 4, 2, 3);
    }
    dataset_free(&tr);

    // no header; the class column by default the last other than the text column (here column 0)
    path = write_text("noheader.csv", "spam,\"click, here\",7\nham,hello,8\nspam,win,9\nham,\"the\nmodel\",10\n");
    rc = dataset_load_csv_text(&tr, &te, path, NULL, "0", "1", wp, 6, err, sizeof err);
    CHECK(rc == 0 && tr.n == 4 && !tr.label, "no header: rc %d '%s' n %d", rc, err, tr.n);
    if (!rc && tr.n == 4) {
        CHECK_ROW(tr.x, 6, 2, 23, 55, 24, 3);
        CHECK_ROW(tr.x + 18, 6, 2, 5, 53, 3);
        CHECK(tr.y[0] == 1 && tr.y[1] == 0 && tr.y[3] == 0, "no header: labels");
    }
    dataset_free(&tr);
    path = write_text("textlast.csv", "a,spam,hello\nb,ham,world\nc,spam,win\nd,ham,now\n");
    rc = dataset_load_csv_text(&tr, &te, path, NULL, NULL, "2", wp, 4, err, sizeof err);
    CHECK(rc == 0 && tr.n == 4 && tr.k == 2 && tr.y[0] == 1, "text last: class = the column before: rc %d '%s'",
          rc, err);
    dataset_free(&tr);

    // a test file alongside
    const char *tpath = write_text("mails-test.csv", "id,text,label\n9,\"hello\nworld\",ham\n");
    rc = dataset_load_csv_text(&tr, &te, tmp_path("mails.csv"), tpath, NULL, "text", wp, 8, err, sizeof err);
    CHECK(rc == 0 && te.n == 1 && te.text_tokens == 8 && te.y[0] == 0 && !strcmp(te.sha256, tr.sha256),
          "a test file: rc %d '%s'", rc, err);
    if (!rc) CHECK_ROW(te.x, 8, 2, 48, 49, 3);
    dataset_free(&tr);
    dataset_free(&te);

    // errors: code 2, one line naming the file and the line
    static const struct { const char *name, *text, *column, *label, *want; } bad[] = {
        { "missing.csv", "id,text,label\n1,hi,a\n2,yo,b\n", "body", NULL, "line 1: --text-column 'body': no such column" },
        { "index.csv", "1,hi,a\n2,yo,b\n", "7", NULL, "line 1: --text-column 7: the file has 3 columns" },
        { "same.csv", "id,text,label\n1,hi,a\n2,yo,b\n", "text", "text", "line 1: --label and --text-column name the same" },
        { "ragged.csv", "id,text,label\n1,\"a\nb\",x,extra\n", "text", NULL, "line 2: more than 3 fields" },
        { "late.csv", "id,text,label\n1,hi,a\n2,yo,b\n3,\"a\nb\",c,d\n", "text", NULL, "line 4: more than 3 fields" },
        { "open.csv", "id,text,label\n1,hi,a\n2,\"never closed,b\n3,x,a\n", "text", NULL,
          "line 3: a quoted field starting on this line is never closed" },
        { "after.csv", "id,text,label\n1,\"hi\" there,a\n", "text", NULL, "line 2: unterminated quoted field" },
        { "nolabel.csv", "id,text,label\n1,hi,\n2,yo,b\n", "text", NULL, "line 2:" },
        { "oneclass.csv", "id,text,label\n1,hi,a\n2,yo,a\n", "text", NULL, "a single class" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        path = write_text(bad[i].name, bad[i].text);
        rc = dataset_load_csv_text(&tr, &te, path, NULL, bad[i].label, bad[i].column, wp, 8, err, sizeof err);
        CHECK(rc == 2 && strstr(err, path) && strstr(err, bad[i].want) && one_line(err), "%s: rc %d '%s', want '%s'",
              bad[i].name, rc, err, bad[i].want);
        static const Dataset z;
        CHECK(!memcmp(&tr, &z, sizeof z) && !memcmp(&te, &z, sizeof z), "%s: not zeroed", bad[i].name);
    }

    // a stray quote early in a long file: refused naming its line, in time linear in the file
    path = tmp_path("stray.csv");
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs("id,text,label\n1,\"stray,a\n", f);
        for (int i = 0; i < 200000; i++) fputs("2,some text here,b\n", f);
        fclose(f);
    }
    rc = dataset_load_csv_text(&tr, &te, path, NULL, NULL, "text", wp, 8, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "line 2: a quoted field starting on this line is never closed"), "stray quote: rc %d '%s'",
          rc, err);
}

static void test_open(const WordPiece *wp) {
    char err[1024] = "";
    Dataset pool, test;
    const char *path = tmp_path("mails.csv");
    char spec[600];
    snprintf(spec, sizeof spec, "csv:%s", path);
    DatasetOptions o = { .test_frac = 0.5, .text_column = "text", .wp = wp, .max_tokens = 8 };
    int rc = dataset_open_with(&pool, &test, spec, &o, 1, err, sizeof err);
    CHECK(rc == 0 && pool.n == 2 && test.n == 2 && pool.text_tokens == 8 && test.text_tokens == 8 && pool.d == 8 &&
          !strcmp(pool.sha256, test.sha256), "split: rc %d '%s' %d + %d", rc, err, pool.n, test.n);
    if (!rc) {
        for (int i = 0; i < pool.n; i++) CHECK(pool.x[(size_t)i * 8] == 2.0f, "pool row %d starts with [CLS]", i);
        Dataset part, sub;
        rc = dataset_take_rows(&part, &pool, (const int[]){1, 0, 1}, 3, err, sizeof err);
        CHECK(rc == 0 && part.n == 3 && part.text_tokens == 8, "take_rows keeps text_tokens");
        dataset_free(&part);
        rc = dataset_split_off(&part, &pool, 1, 3, err, sizeof err);
        CHECK(rc == 0 && part.text_tokens == 8 && pool.text_tokens == 8, "split_off keeps text_tokens");
        rc = dataset_subsample(&pool, 1, 3, err, sizeof err);
        CHECK(rc == 0 && pool.text_tokens == 8, "subsample keeps text_tokens");
        sub = test;
        rc = dataset_standardize(&pool, &sub, err, sizeof err);
        CHECK(rc == 2 && strstr(err, "--standardize") && strstr(err, "token") && one_line(err),
              "--standardize on token rows: rc %d '%s'", rc, err);
        CHECK(pool.x[0] == 2.0f, "standardize left the rows alone");
        dataset_free(&part);
    }
    dataset_free(&pool);
    dataset_free(&test);

    // refusals, before anything is read or fetched
    setenv("ALSIM_DATA", tmp_path("empty-cache"), 1);
    char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", "/nonexistent-alsim-test", 1);       // a fetch would fail with 3
    static const struct { const char *spec; DatasetOptions o; const char *want; } bad[] = {
        { "synthetic:blobs", { .test_frac = DATASET_TEST_FRAC, .max_tokens = 8 }, "reads text" },
        { "mnist", { .test_frac = DATASET_TEST_FRAC, .max_tokens = 8 }, "reads text" },
        { "idx:a,b", { .test_frac = DATASET_TEST_FRAC, .max_tokens = 8 }, "reads text" },
        { "CSV", { .test_frac = DATASET_TEST_FRAC, .max_tokens = 8 }, "reads text: spamassassin or a CSV with --text-column" },
        { "svmlight:x.svm", { .test_frac = DATASET_TEST_FRAC, .max_tokens = 8 }, "reads text" },
        { "CSV", { .test_frac = DATASET_TEST_FRAC, .text_column = "text" }, "needs --model bert" },
        { "svmlight:x.svm", { .test_frac = DATASET_TEST_FRAC, .text_column = "text", .max_tokens = 8 },
          "--text-column applies to csv" },
        { "spamassassin", { .test_frac = DATASET_TEST_FRAC, .text_column = "text", .max_tokens = 8 },
          "--text-column applies to csv" },
        { "CSV", { .test_frac = DATASET_TEST_FRAC, .text_column = "text", .max_tokens = 1 }, "--max-tokens 1" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        DatasetOptions bo = bad[i].o;
        if (bo.max_tokens) bo.wp = wp;
        rc = dataset_open_with(&pool, &test, strcmp(bad[i].spec, "CSV") ? bad[i].spec : spec, &bo, 1, err, sizeof err);
        CHECK(rc == 2 && strstr(err, bad[i].want) && one_line(err), "%s: rc %d '%s', want '%s'", bad[i].spec, rc, err,
              bad[i].want);
    }
    if (old_path) { setenv("PATH", old_path, 1); free(old_path); }
    unsetenv("ALSIM_DATA");
}

/* spamassassin's token rows against its TF-IDF load: the same split (n and labels row by row). */
static void test_spamassassin(const WordPiece *wp) {
    char emails[600];
    snprintf(emails, sizeof emails, "%s/spamassassin/emails.bin", dataset_cache_dir());
    if (access(emails, R_OK) != 0 && getenv("ALSIM_E2E_QUICK")) {
        printf("test_tokens: spamassassin is not cached and ALSIM_E2E_QUICK is set: its checks skipped\n");
        return;
    }
    char err[1024] = "";
    Dataset pool, test, tpool, ttest;
    int rc = dataset_open(&pool, &test, "spamassassin", 7, err, sizeof err);
    CHECK(rc == 0, "spamassassin (TF-IDF): rc %d '%s'", rc, err);
    if (rc) return;
    DatasetOptions o = { .test_frac = DATASET_TEST_FRAC, .wp = wp, .max_tokens = 32 };
    rc = dataset_open_with(&tpool, &ttest, "spamassassin", &o, 7, err, sizeof err);
    CHECK(rc == 0, "spamassassin (tokens): rc %d '%s'", rc, err);
    if (!rc) {
        CHECK(tpool.n == pool.n && ttest.n == test.n && tpool.n + ttest.n == 6046, "split sizes %d + %d, TF-IDF's %d + %d",
              tpool.n, ttest.n, pool.n, test.n);
        CHECK(tpool.d == 32 && tpool.text_tokens == 32 && ttest.text_tokens == 32 && tpool.x && tpool.k == 2 &&
              !strcmp(tpool.class_names[1], "spam") && !strcmp(tpool.name, "spamassassin"), "shape d %d", tpool.d);
        int same = tpool.n == pool.n && ttest.n == test.n, cls = 1, sep = 1;
        for (int i = 0; same && i < pool.n; i++) same = tpool.y[i] == pool.y[i];
        for (int i = 0; same && i < test.n; i++) same = ttest.y[i] == test.y[i];
        CHECK(same, "the labels row by row: the same split as TF-IDF");
        for (int s = 0; s < 2; s++) {
            const Dataset *d = s ? &ttest : &tpool;
            for (int i = 0; i < d->n; i++) {
                const float *row = d->x + (size_t)i * 32;
                int real = 0;
                while (real < 32 && row[real] >= 0) real++;
                cls &= row[0] == 2.0f;
                sep &= real >= 2 && row[real - 1] == 3.0f;
                for (int j = real; j < 32; j++) sep &= row[j] == -1.0f;
            }
        }
        CHECK(cls, "every row starts with [CLS] (id 2)");
        CHECK(sep, "every row ends its tokens with [SEP] (id 3), then -1 padding");
        CHECK(strcmp(tpool.sha256, pool.sha256) && !strcmp(tpool.sha256, ttest.sha256), "token rows' hash differs");
    }
    dataset_free(&pool);
    dataset_free(&test);
    dataset_free(&tpool);
    dataset_free(&ttest);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "%s/alsim-test-tokens-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    test_open_dir();
    WordPiece wp;
    char err[512];
    if (wp_open_dir(&wp, FX, err, sizeof err)) {
        CHECK(0, "%s", err);
        return check_done("test_tokens");
    }
    test_rows(&wp);
    test_csv(&wp);
    test_open(&wp);
    test_spamassassin(&wp);
    wp_close(&wp);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_done("test_tokens");
}
