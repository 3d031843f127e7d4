/* safetensors — the .safetensors reader (contract: safetensors.h). */
#include "sim/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *name;
    int size;
} DTYPES[ST_DTYPES] = {
    [ST_BOOL] = {"BOOL", 1}, [ST_U8] = {"U8", 1},   [ST_I8] = {"I8", 1},     [ST_I16] = {"I16", 2},
    [ST_U16] = {"U16", 2},   [ST_F16] = {"F16", 2}, [ST_BF16] = {"BF16", 2}, [ST_I32] = {"I32", 4},
    [ST_U32] = {"U32", 4},   [ST_F32] = {"F32", 4}, [ST_I64] = {"I64", 8},   [ST_U64] = {"U64", 8},
    [ST_F64] = {"F64", 8},
};

const char *st_dtype_name(StDtype d) { return d >= 0 && d < ST_DTYPES ? DTYPES[d].name : "?"; }
int st_dtype_size(StDtype d) { return d >= 0 && d < ST_DTYPES ? DTYPES[d].size : 0; }

/* out: name as it may appear in a one-line message: at most 80 bytes, control bytes as '?'. */
static void printable(char *out, size_t outlen, const char *name) {
    size_t j = 0;
    for (size_t i = 0; name[i] && j + 4 < outlen && i < 80; i++)
        out[j++] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
    if (strlen(name) > 80 && j + 4 < outlen) out[j++] = '.', out[j++] = '.', out[j++] = '.';
    out[j] = '\0';
}

void st_close(SafeTensors *st) {
    for (int i = 0; i < st->n; i++) free(st->tensors[i].name);
    free(st->tensors);
    if (st->map) munmap(st->map, st->map_len);
    memset(st, 0, sizeof *st);
}

/* By where the data begins; an empty tensor before a non-empty one at the same byte. */
static int by_begin(const void *a, const void *b) {
    const StTensor *x = a, *y = b;
    if (x->data != y->data) return x->data < y->data ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const StTensor *)a)->name, ((const StTensor *)b)->name);
}

/* A JSON number that is an integer in [0, max], into out. */
static int json_count(int64_t *out, const cJSON *v, double max) {
    if (!cJSON_IsNumber(v)) return 0;
    const double d = v->valuedouble;
    if (!(d >= 0 && d <= max) || d != floor(d)) return 0;
    *out = (int64_t)d;
    return 1;
}

/* Fills t from the header entry e (name already set). data_len: the byte buffer's length.
 * Returns 0, or 2 with err. */
static int tensor_entry(StTensor *t, const cJSON *e, const unsigned char *data, size_t data_len,
                        const char *file, char *err, size_t errlen) {
    char nm[100];
    printable(nm, sizeof nm, t->name);
    if (!cJSON_IsObject(e)) {
        snprintf(err, errlen, "%s: tensor '%s': its header entry is not an object", file, nm);
        return 2;
    }
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(off)) {
        snprintf(err, errlen, "%s: tensor '%s': needs \"dtype\" (a string), \"shape\" and \"data_offsets\" (arrays)",
                 file, nm);
        return 2;
    }
    t->dtype = ST_DTYPES;
    for (int d = 0; d < ST_DTYPES; d++)
        if (!strcmp(dt->valuestring, DTYPES[d].name)) t->dtype = (StDtype)d;
    if (t->dtype == ST_DTYPES) {
        char dn[100];
        printable(dn, sizeof dn, dt->valuestring);
        snprintf(err, errlen, "%s: tensor '%s': unknown dtype \"%s\"", file, nm, dn);
        return 2;
    }
    t->ndim = cJSON_GetArraySize(sh);
    if (t->ndim > ST_MAX_DIMS) {
        snprintf(err, errlen, "%s: tensor '%s': %d dimensions, more than %d", file, nm, t->ndim, ST_MAX_DIMS);
        return 2;
    }
    // the element count in double: 8 dimensions of at most 9e15 cannot overflow it, and any
    // count a buffer can hold (< 2^53 bytes) is exact
    double numel = 1;
    for (int i = 0; i < t->ndim; i++) {
        if (!json_count(&t->shape[i], cJSON_GetArrayItem(sh, i), 9.0e15)) {
            snprintf(err, errlen, "%s: tensor '%s': shape entry %d is not a non-negative integer", file, nm, i);
            return 2;
        }
        numel *= (double)t->shape[i];
    }
    int64_t begin, end;
    if (cJSON_GetArraySize(off) != 2 || !json_count(&begin, cJSON_GetArrayItem(off, 0), 9.0e15) ||
        !json_count(&end, cJSON_GetArrayItem(off, 1), 9.0e15) || begin > end) {
        snprintf(err, errlen, "%s: tensor '%s': data_offsets must be [begin, end], integers with begin <= end",
                 file, nm);
        return 2;
    }
    if ((uint64_t)end > data_len) {
        snprintf(err, errlen, "%s: tensor '%s': data_offsets end %lld past the data's %zu bytes", file, nm,
                 (long long)end, data_len);
        return 2;
    }
    const double need = numel * DTYPES[t->dtype].size;
    if (need != (double)(end - begin)) {
        char shape[160] = "";
        for (int i = 0, at = 0; i < t->ndim && at < (int)sizeof shape - 24; i++)
            at += snprintf(shape + at, sizeof shape - (size_t)at, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
        snprintf(err, errlen, "%s: tensor '%s': data_offsets [%lld, %lld] hold %lld bytes, shape [%s] of %s needs %.0f",
                 file, nm, (long long)begin, (long long)end, (long long)(end - begin), shape,
                 DTYPES[t->dtype].name, need);
        return 2;
    }
    t->numel = (int64_t)numel;
    t->data = data + begin;
    t->nbytes = (size_t)(end - begin);
    return 0;
}

int st_parse(SafeTensors *st, const unsigned char *buf, size_t len, const char *file, char *err,
             size_t errlen) {
    memset(st, 0, sizeof *st);
    if (len < 8) {
        snprintf(err, errlen, "%s: %zu bytes, too short for a safetensors file (8-byte header length)", file, len);
        return 2;
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | buf[i];
    if (hlen > ST_MAX_HEADER || hlen > len - 8) {
        snprintf(err, errlen, "%s: header length %llu %s", file, (unsigned long long)hlen,
                 hlen > ST_MAX_HEADER ? "exceeds the format's 100 MB limit" : "runs past the end of the file");
        return 2;
    }
    const char *json = (const char *)buf + 8, *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, (size_t)hlen, &end, 0);
    if (!root) {
        const size_t at = cJSON_GetErrorPtr() ? (size_t)(cJSON_GetErrorPtr() - json) : 0;
        snprintf(err, errlen, "%s: header: not valid JSON (near byte %zu of %llu)", file,
                 at < hlen ? at : (size_t)hlen, (unsigned long long)hlen);
        return 2;
    }
    int rc = 0;
    for (const char *p = end; p && p < json + hlen; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != '\0') {
            snprintf(err, errlen, "%s: header: text after the JSON object (byte %zu of %llu)", file,
                     (size_t)(p - json), (unsigned long long)hlen);
            rc = 2;
            break;
        }
    if (!rc && !cJSON_IsObject(root)) {
        snprintf(err, errlen, "%s: header: not a JSON object", file);
        rc = 2;
    }
    const unsigned char *data = buf + 8 + hlen;
    const size_t data_len = len - 8 - (size_t)hlen;
    int n = 0;
    for (const cJSON *e = rc ? NULL : root->child; e; e = e->next) n += strcmp(e->string, "__metadata__") != 0;
    if (!rc && n > 0 && !(st->tensors = calloc((size_t)n, sizeof *st->tensors))) {
        snprintf(err, errlen, "%s: out of memory for %d tensors", file, n);
        rc = 3;
    }
    for (const cJSON *e = rc ? NULL : root->child; e && !rc; e = e->next) {
        if (!strcmp(e->string, "__metadata__")) {
            for (const cJSON *m = cJSON_IsObject(e) ? e->child : NULL; m; m = m->next)
                if (!cJSON_IsString(m)) {
                    rc = 2;
                    break;
                }
            if (rc || !cJSON_IsObject(e)) {
                snprintf(err, errlen, "%s: header: \"__metadata__\" must be an object of strings", file);
                rc = 2;
            }
            continue;
        }
        StTensor *t = &st->tensors[st->n];
        if (!(t->name = strdup(e->string))) {
            snprintf(err, errlen, "%s: out of memory for tensor names", file);
            rc = 3;
            break;
        }
        st->n++;
        rc = tensor_entry(t, e, data, data_len, file, err, errlen);
    }
    cJSON_Delete(root);
    if (!rc && st->n > 1) {     // unique names
        qsort(st->tensors, (size_t)st->n, sizeof *st->tensors, by_name);
        for (int i = 1; i < st->n && !rc; i++)
            if (!strcmp(st->tensors[i].name, st->tensors[i - 1].name)) {
                char nm[100];
                printable(nm, sizeof nm, st->tensors[i].name);
                snprintf(err, errlen, "%s: header: tensor '%s' appears twice", file, nm);
                rc = 2;
            }
    }
    if (!rc) {                  // the tensors tile the byte buffer: no hole, no overlap
        if (st->n > 1) qsort(st->tensors, (size_t)st->n, sizeof *st->tensors, by_begin);
        size_t at = 0;
        for (int i = 0; i < st->n && !rc; i++) {
            const StTensor *t = &st->tensors[i];
            const size_t b = (size_t)(t->data - data);
            if (b != at) {
                char nm[100];
                printable(nm, sizeof nm, t->name);
                snprintf(err, errlen, "%s: tensor '%s': data begins at byte %zu where %zu was expected (%s)", file,
                         nm, b, at, b > at ? "a hole before it" : "it overlaps the tensor before");
                rc = 2;
            }
            at = b + t->nbytes;
        }
        if (!rc && at != data_len) {
            snprintf(err, errlen, "%s: %zu bytes of data past the last tensor's end (%zu of %zu used)", file,
                     data_len - at, at, data_len);
            rc = 2;
        }
    }
    if (rc) st_close(st);
    return rc;
}

int st_open(SafeTensors *st, const char *path, char *err, size_t errlen) {
    memset(st, 0, sizeof *st);
    const int fd = open(path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return 2;
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return 2;
    }
    const size_t len = (size_t)sb.st_size;
    void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (len && map == MAP_FAILED) {
        snprintf(err, errlen, "%s: cannot map %zu bytes: %s", path, len, strerror(errno));
        return 2;
    }
    static const unsigned char empty[1];
    const int rc = st_parse(st, map ? map : empty, len, path, err, errlen);
    if (rc) {
        if (map) munmap(map, len);
        return rc;
    }
    st->map = map;
    st->map_len = len;
    return 0;
}

const StTensor *st_find(const SafeTensors *st, const char *name) {
    for (int i = 0; i < st->n; i++)
        if (!strcmp(st->tensors[i].name, name)) return &st->tensors[i];
    return NULL;
}

/* IEEE half (binary16) bits to float, exactly. */
static float half_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    uint32_t bits;
    if (e == 0x1f) bits = sign | 0x7f800000u | m << 13;            // inf, NaN
    else if (e) bits = sign | (e + 112) << 23 | m << 13;          // normal: bias 15 -> 127
    else {                                                        // zero, subnormal: m·2^-24
        const float v = (float)m * 0x1p-24f;
        return sign ? -v : v;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

int st_to_float(float *out, const StTensor *t, const char *file, char *err, size_t errlen) {
    const unsigned char *p = t->data;
    switch (t->dtype) {
    case ST_F32:
        for (int64_t i = 0; i < t->numel; i++, p += 4) {
            const uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            memcpy(&out[i], &bits, sizeof bits);
        }
        return 0;
    case ST_F16:
        for (int64_t i = 0; i < t->numel; i++, p += 2) out[i] = half_to_float((uint16_t)(p[0] | p[1] << 8));
        return 0;
    case ST_BF16:
        for (int64_t i = 0; i < t->numel; i++, p += 2) {
            const uint32_t bits = ((uint32_t)p[0] | (uint32_t)p[1] << 8) << 16;
            memcpy(&out[i], &bits, sizeof bits);
        }
        return 0;
    default: {
        char nm[100];
        printable(nm, sizeof nm, t->name);
        snprintf(err, errlen, "%s: tensor '%s': dtype %s is not one alsim reads as weights (F32, F16 or BF16)", file,
                 nm, st_dtype_name(t->dtype));
        return 2;
    }
    }
}
