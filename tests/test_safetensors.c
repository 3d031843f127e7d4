/* test_safetensors — the .safetensors reader (sim/safetensors.h) on files built here byte by
 * byte: a valid file of F32, F16, BF16 and I64 tensors with metadata and a padded header (the
 * shapes, the data pointers, every F16/BF16 conversion checked against values worked out by
 * hand, including subnormals and infinities); empty tensors; then one malformed file per
 * rule of the format, each refused with code 2 and one line that names the file and the
 * tensor or key at fault; and st_open on a real file, a missing one and a folder. */
#include "sim/safetensors.h"
#include "tests/check.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A file in memory: 8-byte length, the header text, the data bytes. buf (len) is malloc'd. */
static unsigned char *make(size_t *len, const char *header, const void *data, size_t data_len) {
    const size_t h = strlen(header);
    unsigned char *buf = malloc(8 + h + data_len + 1);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(buf + 8, header, h);
    if (data_len) memcpy(buf + 8 + h, data, data_len);
    *len = 8 + h + data_len;
    return buf;
}

/* The bytes of the valid file: a (2,3) F32, a (5) F16, a (2) BF16, a (1) I64. */
static unsigned char data_ok[24 + 10 + 4 + 8];
static const float F32_VALUES[6] = {1.5f, -2.25f, 0.0f, 3.0e-39f, 1.0e30f, -7.0f};

static void fill_ok_data(void) {
    memcpy(data_ok, F32_VALUES, sizeof F32_VALUES);     // the test machine is little-endian
    // F16: 1.0 (0x3C00), -2.0 (0xC000), 65504 (0x7BFF, the largest), 2^-24 (0x0001, the
    // smallest subnormal), -inf (0xFC00)
    const uint16_t h[5] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0xFC00};
    for (int i = 0; i < 5; i++) data_ok[24 + 2 * i] = (unsigned char)h[i], data_ok[25 + 2 * i] = (unsigned char)(h[i] >> 8);
    // BF16: 1.0 (0x3F80), -0.5 (0xBF00)
    data_ok[34] = 0x80, data_ok[35] = 0x3F, data_ok[36] = 0x00, data_ok[37] = 0xBF;
    const int64_t pos = 42;
    memcpy(data_ok + 38, &pos, 8);
}

static const char *HEADER_OK =
    "{\"__metadata__\":{\"format\":\"pt\"},"
    "\"b.half\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[24,34]},"
    "\"a.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
    "\"c.bf\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[34,38]},"
    "\"position_ids\":{\"dtype\":\"I64\",\"shape\":[1,1],\"data_offsets\":[38,46]}}    ";

static void test_valid(void) {
    size_t len;
    unsigned char *buf = make(&len, HEADER_OK, data_ok, sizeof data_ok);
    SafeTensors st;
    char err[512] = "";
    int rc = st_parse(&st, buf, len, "ok.safetensors", err, sizeof err);
    CHECK(rc == 0, "the valid file refused (%d): %s", rc, err);
    if (rc) {
        free(buf);
        return;
    }
    CHECK(st.n == 4, "4 tensors, got %d (metadata is not one)", st.n);
    CHECK(st.tensors[0].data == buf + 8 + strlen(HEADER_OK), "tensors in data order, pointing into the buffer");
    const StTensor *a = st_find(&st, "a.weight"), *b = st_find(&st, "b.half"), *c = st_find(&st, "c.bf");
    const StTensor *p = st_find(&st, "position_ids");
    CHECK(a && b && c && p && !st_find(&st, "__metadata__") && !st_find(&st, "a"), "st_find by exact name");
    if (!a || !b || !c || !p) {
        st_close(&st);
        free(buf);
        return;
    }
    CHECK(a->dtype == ST_F32 && a->ndim == 2 && a->shape[0] == 2 && a->shape[1] == 3 && a->numel == 6 &&
          a->nbytes == 24, "a.weight: F32 (2,3), 24 bytes");
    CHECK(p->dtype == ST_I64 && p->ndim == 2 && p->numel == 1 && p->nbytes == 8, "position_ids: I64 (1,1)");
    float out[6];
    CHECK(st_to_float(out, a, "ok.safetensors", err, sizeof err) == 0 && !memcmp(out, F32_VALUES, sizeof F32_VALUES),
          "F32 read bit for bit (a subnormal among them)");
    const float half_want[5] = {1.0f, -2.0f, 65504.0f, 0x1p-24f, -INFINITY};
    CHECK(st_to_float(out, b, "ok.safetensors", err, sizeof err) == 0 && !memcmp(out, half_want, sizeof half_want),
          "F16 to float exactly: %g %g %g %g %g", out[0], out[1], out[2], out[3], out[4]);
    CHECK(st_to_float(out, c, "ok.safetensors", err, sizeof err) == 0 && out[0] == 1.0f && out[1] == -0.5f,
          "BF16 to float exactly: %g %g", out[0], out[1]);
    rc = st_to_float(out, p, "ok.safetensors", err, sizeof err);
    CHECK(rc == 2 && strstr(err, "position_ids") && strstr(err, "I64") && !strchr(err, '\n'),
          "an I64 tensor is not read as weights, naming it: %s", err);
    st_close(&st);
    CHECK(st.n == 0 && !st.tensors, "st_close empties it");
    st_close(&st);      // twice is fine
    free(buf);

    // every F16 bit pattern: the conversion agrees with the arithmetic definition
    int bad = 0;
    for (uint32_t bits = 0; bits < 0x10000; bits++) {
        const unsigned char d2[2] = {(unsigned char)bits, (unsigned char)(bits >> 8)};
        const char *hd = "{\"h\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[0,2]}}";
        unsigned char *f = make(&len, hd, d2, 2);
        SafeTensors s1;
        float v = 0;
        if (st_parse(&s1, f, len, "h", err, sizeof err) || st_to_float(&v, &s1.tensors[0], "h", err, sizeof err)) {
            bad++;
        } else {
            const int e = (bits >> 10) & 0x1f, m = bits & 0x3ff;
            double want = e == 0 ? m * 0x1p-24 : e == 31 ? (m ? NAN : INFINITY) : (1 + m / 1024.0) * ldexp(1, e - 15);
            if (bits & 0x8000) want = -want;
            if (isnan(want) ? !isnan(v) : (double)v != want || !signbit(v) != !signbit(want)) {
                if (!bad) printf("  first wrong F16: 0x%04x gives %g, not %g\n", (unsigned)bits, v, want);
                bad++;
            }
        }
        st_close(&s1);
        free(f);
    }
    CHECK(bad == 0, "all 65,536 F16 values convert exactly: %d wrong", bad);

    // empty tensors (a 0 dimension) tile the buffer at any offset; a 0-d tensor is one element
    const char *he = "{\"e\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[0,0]},"
                     "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                     "\"z\":{\"dtype\":\"F32\",\"shape\":[3,0],\"data_offsets\":[4,4]}}";
    const float one = 1.0f;
    unsigned char *f = make(&len, he, &one, 4);
    rc = st_parse(&st, f, len, "empty.safetensors", err, sizeof err);
    CHECK(rc == 0 && st.n == 3 && st_find(&st, "e")->numel == 0 && st_find(&st, "s")->numel == 1 &&
          st_find(&st, "s")->ndim == 0, "empty and 0-d tensors: rc %d %s", rc, err);
    st_close(&st);
    free(f);
    // no tensor at all: an empty object and no data
    f = make(&len, "{}", NULL, 0);
    rc = st_parse(&st, f, len, "none.safetensors", err, sizeof err);
    CHECK(rc == 0 && st.n == 0, "a file of no tensors is valid: %d %s", rc, err);
    st_close(&st);
    free(f);
}

/* A malformed header (with data of data_len bytes of zeros): refused with 2, one line, naming
 * the file and containing each of want1 and want2. */
static void refused(const char *what, const char *header, size_t data_len, const char *want1, const char *want2) {
    unsigned char *zeros = calloc(data_len + 1, 1);
    size_t len;
    unsigned char *buf = make(&len, header, zeros, data_len);
    SafeTensors st;
    char err[512] = "";
    const int rc = st_parse(&st, buf, len, "bad.safetensors", err, sizeof err);
    CHECK(rc == 2 && !strncmp(err, "bad.safetensors: ", 17) && !strchr(err, '\n') && strstr(err, want1) &&
          (!want2 || strstr(err, want2)), "%s: rc %d, message \"%s\" (wanted \"%s\"%s%s)", what, rc, err, want1,
          want2 ? " and " : "", want2 ? want2 : "");
    CHECK(st.n == 0 && st.tensors == NULL, "%s: nothing left in st", what);
    free(buf);
    free(zeros);
}

static void test_malformed(void) {
    char err[512];
    SafeTensors st;
    // sizes
    CHECK(st_parse(&st, (const unsigned char *)"abc", 3, "bad.safetensors", err, sizeof err) == 2 &&
          strstr(err, "too short"), "3 bytes: %s", err);
    unsigned char huge[16] = {0, 0, 0, 0x0c, 0, 0, 0, 0};      // 200 MB header claimed
    CHECK(st_parse(&st, huge, sizeof huge, "bad.safetensors", err, sizeof err) == 2 && strstr(err, "100 MB"),
          "a header over the format's limit: %s", err);
    unsigned char past[16] = {100, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    CHECK(st_parse(&st, past, 10, "bad.safetensors", err, sizeof err) == 2 && strstr(err, "past the end"),
          "a header longer than the file: %s", err);
    // the JSON
    refused("not JSON", "{\"a\":", 0, "not valid JSON", NULL);
    refused("an array", "[1,2]", 0, "not a JSON object", NULL);
    refused("text after the object", "{} x", 0, "text after", NULL);
    refused("metadata not strings", "{\"__metadata__\":{\"a\":1}}", 0, "__metadata__", NULL);
    refused("metadata not an object", "{\"__metadata__\":3}", 0, "__metadata__", NULL);
    // one tensor's entry
    refused("entry not an object", "{\"t\":3}", 0, "'t'", "not an object");
    refused("no dtype", "{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "'t'", "dtype");
    refused("unknown dtype", "{\"w.q\":{\"dtype\":\"F8_E4M3X\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
            "'w.q'", "unknown dtype \"F8_E4M3X\"");
    refused("negative dimension", "{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "'t'",
            "shape entry 0");
    refused("fractional dimension", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "'t'",
            "shape entry 0");
    refused("nine dimensions", "{\"t\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
            "'t'", "9 dimensions");
    refused("offsets reversed", "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,0]}}", 1, "'t'",
            "begin <= end");
    refused("three offsets", "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 1, "'t'",
            "data_offsets");
    refused("offsets past the data", "{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "'t'",
            "past the data's 8 bytes");
    refused("the header lies about the shape",
            "{\"enc.w\":{\"dtype\":\"F32\",\"shape\":[64,64],\"data_offsets\":[0,100]}}", 100, "'enc.w'",
            "hold 100 bytes, shape [64, 64] of F32 needs 16384");
    refused("a shape whose size overflows",
            "{\"t\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}", 8, "'t'",
            "needs");
    // how the tensors tile the data
    refused("overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "'b'", "overlaps");
    refused("a hole", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                      "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "'b'", "a hole");
    refused("bytes after the last tensor", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 9,
            "5 bytes of data past", NULL);
    refused("a name twice", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                            "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2, "'a'", "twice");
    refused("a control byte in a name stays on one line",
            "{\"x\\ny\":{\"dtype\":\"X\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "'x?y'", "unknown dtype");
}

static void test_open(void) {
    char path[] = "/tmp/alsim-st-XXXXXX";
    const int fd = mkstemp(path);
    size_t len;
    unsigned char *buf = make(&len, HEADER_OK, data_ok, sizeof data_ok);
    CHECK(fd >= 0 && write(fd, buf, len) == (ssize_t)len, "wrote %s", path);
    if (fd >= 0) close(fd);
    free(buf);
    SafeTensors st;
    char err[512] = "";
    int rc = st_open(&st, path, err, sizeof err);
    float w[6] = {0};
    CHECK(rc == 0 && st.n == 4 && st.map && st_to_float(w, st_find(&st, "a.weight"), path, err, sizeof err) == 0 &&
          !memcmp(w, F32_VALUES, sizeof w), "st_open of a real file: %d %s", rc, err);
    st_close(&st);
    CHECK(st.map == NULL, "st_close unmaps");
    unlink(path);
    rc = st_open(&st, path, err, sizeof err);
    CHECK(rc == 2 && strstr(err, path) && strstr(err, "cannot open"), "a missing file: %d %s", rc, err);
    rc = st_open(&st, "/tmp", err, sizeof err);
    CHECK(rc == 2 && strstr(err, "not a regular file"), "a folder: %d %s", rc, err);
    // an empty file
    const int fd2 = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    if (fd2 >= 0) close(fd2);
    rc = st_open(&st, path, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "too short"), "an empty file: %d %s", rc, err);
    unlink(path);
}

int main(void) {
    fill_ok_data();
    test_valid();
    test_malformed();
    test_open();
    return check_done("test_safetensors");
}
