/* embed — a frozen encoder's pooled vectors in place of token rows, cached (contract: embed.h). */
#include "sim/embed.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/sha256.h"
#include "datasets/tokens.h"
#include "sim/bert.h"
#include "sim/model.h"
#include "sim/util.h"

enum { KEY = 32, CHUNK = 32 };      /* key bytes; sequences encoded a call */
static const char MAGIC[8] = {'A', 'L', 'S', 'I', 'M', 'E', 'M', 'B'};

typedef struct {
    int H;
    size_t n, cap;
    uint8_t *rec;           /* (n) records of KEY bytes then H floats, sorted by key */
} Cache;

static size_t rec_size(int H) { return KEY + (size_t)H * sizeof(float); }

static int cmp_key(const void *a, const void *b) { return memcmp(a, b, KEY); }

/* The vector of key in the cache, or NULL. */
static const float *cache_find(const Cache *k, const uint8_t key[KEY]) {
    const uint8_t *r = k->n ? bsearch(key, k->rec, k->n, rec_size(k->H), cmp_key) : NULL;
    return r ? (const float *)(const void *)(r + KEY) : NULL;
}

/* k = the cache file at path (an empty cache of width H when there is none, or when it does
 * not read back whole: then a warning). Returns 0, or 3 when out of memory. */
static int cache_read(Cache *k, const char *path, int H, char *err, size_t errlen) {
    memset(k, 0, sizeof *k);
    k->H = H;
    char *data = NULL, why[512];
    size_t len = 0;
    if (util_read_file(&data, &len, path, why, sizeof why)) {   /* none yet, or unreadable: computed again */
        if (errno != ENOENT) fprintf(stderr, "alsim: warning: %s; the vectors are computed again\n", why);
        return 0;
    }
    uint32_t version = 0, width = 0;
    uint64_t count = 0;
    const size_t head = sizeof MAGIC + 2 * sizeof(uint32_t) + sizeof(uint64_t);
    const char *bad = NULL;
    if (len < head || memcmp(data, MAGIC, sizeof MAGIC)) bad = "not an alsim embedding cache";
    else {
        memcpy(&version, data + 8, 4), memcpy(&width, data + 12, 4), memcpy(&count, data + 16, 8);
        if (version != 1) bad = "an unknown version";
        else if ((int)width != H) bad = "vectors of another width";
        else if (count > (len - head) / rec_size(H) || len - head != count * rec_size(H)) bad = "truncated or too long";
    }
    for (size_t i = 1; !bad && i < count; i++)
        if (memcmp(data + head + (i - 1) * rec_size(H), data + head + i * rec_size(H), KEY) >= 0) bad = "keys out of order";
    if (bad) {
        fprintf(stderr, "alsim: warning: %s: %s; it is rebuilt\n", path, bad);
        free(data);
        return 0;
    }
    k->rec = malloc(count ? count * rec_size(H) : 1);
    if (!k->rec) {
        free(data);
        snprintf(err, errlen, "out of memory for the embedding cache %s", path);
        return 3;
    }
    memcpy(k->rec, data + head, count * rec_size(H));
    k->n = k->cap = count;
    free(data);
    return 0;
}

static int cache_write(const Cache *k, const char *path, char *err, size_t errlen) {
    char tmp[4200];
    FILE *f = util_open_atomic(tmp, path, err, errlen);
    if (!f) return 3;
    const uint32_t version = 1, width = (uint32_t)k->H;
    const uint64_t count = k->n;
    int ok = fwrite(MAGIC, sizeof MAGIC, 1, f) == 1 && fwrite(&version, 4, 1, f) == 1 && fwrite(&width, 4, 1, f) == 1 &&
             fwrite(&count, 8, 1, f) == 1 && (!k->n || fwrite(k->rec, rec_size(k->H), k->n, f) == k->n);
    return util_commit_atomic(f, ok, tmp, path, err, errlen) ? 3 : 0;
}

/* The cache file's path for c and a dataset hash (embed.h). Returns 0, or 2/3 (the model's
 * files cannot be read, the cache's folder cannot be made). */
static int cache_path(char *path, size_t len, const Config *c, const char *dataset_sha, char *err, size_t errlen) {
    char model[65], text[512], name[65], dir[1100];
    int rc = bert_model_hash(model, model_folder(c), err, errlen);
    if (rc) return rc;
    snprintf(text, sizeof text, "%s\n%s\n%d\n%s\n", model, dataset_sha, c->max_tokens, c->pooling);
    sha256_hex(name, text, strlen(text));
    snprintf(dir, sizeof dir, "%s/embeddings", dataset_cache_dir());
    if (util_mkdir_p(dir, err, errlen)) return 3;
    snprintf(path, len, "%s/%s.emb", dir, name);
    return 0;
}

/* vecs (rows n, H) of token rows x (n, d) by the encoder: CHUNK sequences a call, each at its
 * longest sequence's length. Returns 0, 2 or 3 with err. */
static int encode_rows(float *vecs, const Bert *b, const Backend *be, const float *x, int n, int d, int cls,
                       int quiet, const char *what, char *err, size_t errlen) {
    const int H = b->c.hidden;
    int32_t *ids = malloc((size_t)CHUNK * d * sizeof(int32_t));
    int32_t *types = calloc((size_t)CHUNK * d, sizeof(int32_t));     // one segment: all 0
    uint8_t *mask = malloc((size_t)CHUNK * d);
    float *hidden = malloc((size_t)CHUNK * d * H * sizeof(float));
    BertEncoder e = {0};
    int rc = 0;
    if (!ids || !types || !mask || !hidden) {
        snprintf(err, errlen, "out of memory encoding %s", what);
        rc = 3;
    } else {
        rc = bert_encoder_open(&e, b, be, CHUNK, d, err, errlen);
    }
    if (rc) {
        free(ids); free(types); free(mask); free(hidden);
        return rc;
    }
    double t0 = util_seconds(), said = t0;
    for (int off = 0; off < n && !rc; off += CHUNK) {
        const int B = n - off < CHUNK ? n - off : CHUNK;
        const int T = dataset_tokens_unpack(ids, mask, x, d, NULL, off, B);
        rc = bert_encoder_run(hidden, &e, ids, types, mask, B, T, err, errlen);
        if (!rc) backend_cpu.pool_forward(vecs + (size_t)off * H, hidden, mask, B, T, H, cls);
        if (!quiet && util_seconds() - said > 10) {
            said = util_seconds();
            fprintf(stderr, "alsim: encoding %s: %d of %d rows, %.0f s\n", what, off + B, n, said - t0);
        }
    }
    bert_encoder_close(&e);
    free(ids); free(types); free(mask); free(hidden);
    return rc;
}

int embed_datasets(Dataset *const *parts, int n, const Config *c, const Backend *be, char *err, size_t errlen) {
    const Dataset *first = NULL;
    for (int p = 0; p < n && !first; p++)
        if (parts[p] && parts[p]->n > 0) first = parts[p];
    if (!first) return 0;
    for (int p = 0; p < n; p++)
        if (parts[p] && parts[p]->n > 0 && parts[p]->text_tokens < 1) {
            snprintf(err, errlen, "--model %s reads text: %s is not token rows (spamassassin, or a CSV with "
                     "--text-column)", c->model, parts[p]->name);
            return ALSIM_BAD_INPUT;
        }
    BertConfig bc;
    char cfg_path[1100], path[1200];
    snprintf(cfg_path, sizeof cfg_path, "%s/config.json", model_folder(c));
    int rc = bert_config_read(&bc, cfg_path, err, errlen);
    if (!rc) rc = cache_path(path, sizeof path, c, first->sha256, err, errlen);
    Cache k;
    if (!rc) rc = cache_read(&k, path, bc.hidden, err, errlen);
    if (rc) return rc;
    const int H = bc.hidden, cls = !strcmp(c->pooling, "cls");
    const size_t rs = rec_size(H);
    Bert b = {0};
    int loaded = 0;
    long from_cache = 0, encoded = 0;
    for (int p = 0; p < n && !rc; p++) {
        Dataset *ds = parts[p];
        if (!ds || ds->n < 1) continue;
        const int d = ds->d;
        // each row's key; the rows the cache lacks, in order
        uint8_t *keys = malloc((size_t)ds->n * KEY);
        int *miss = malloc((size_t)ds->n * sizeof(int));
        float *vecs = malloc((size_t)ds->n * H * sizeof(float));
        float *mx = NULL, *mv = NULL;
        int nm = 0;
        int oom = !keys || !miss || !vecs;
        if (oom) rc = 3;
        for (int i = 0; !rc && i < ds->n; i++) {
            Sha256 s;
            sha256_init(&s);
            sha256_update(&s, ds->x + (size_t)i * d, (size_t)d * sizeof(float));
            sha256_final(keys + (size_t)i * KEY, &s);
            const float *v = cache_find(&k, keys + (size_t)i * KEY);
            if (v) memcpy(vecs + (size_t)i * H, v, (size_t)H * sizeof(float));
            else miss[nm++] = i;
        }
        if (!rc && nm) {        // encode the missing rows, then add them to the cache
            if (!loaded && !(rc = bert_load(&b, model_folder(c), err, errlen))) loaded = 1;
            mx = rc ? NULL : malloc((size_t)nm * d * sizeof(float));
            mv = rc ? NULL : malloc((size_t)nm * H * sizeof(float));
            if (!rc && (!mx || !mv)) rc = 3, oom = 1;
            for (int j = 0; !rc && j < nm; j++)
                memcpy(mx + (size_t)j * d, ds->x + (size_t)miss[j] * d, (size_t)d * sizeof(float));
            char what[200];
            snprintf(what, sizeof what, "%d rows of %s", nm, ds->name);
            if (!rc && !c->quiet)
                fprintf(stderr, "alsim: encoding %s with %s (%s pooling, %d tokens at most)\n", what, c->model, c->pooling,
                        d);
            if (!rc) rc = encode_rows(mv, &b, be, mx, nm, d, cls, c->quiet, what, err, errlen);
            if (!rc && k.n + nm > k.cap) {
                const size_t cap = k.n + nm + k.n / 2;
                uint8_t *grown = realloc(k.rec, cap * rs);
                if (!grown) rc = 3, oom = 1;
                else k.rec = grown, k.cap = cap;
            }
            for (int j = 0; !rc && j < nm; j++) {
                memcpy(vecs + (size_t)miss[j] * H, mv + (size_t)j * H, (size_t)H * sizeof(float));
                uint8_t *r = k.rec + (k.n + j) * rs;
                memcpy(r, keys + (size_t)miss[j] * KEY, KEY);
                memcpy(r + KEY, mv + (size_t)j * H, (size_t)H * sizeof(float));
            }
            if (!rc) {      // sorted again, a row that came twice kept once
                k.n += nm;
                qsort(k.rec, k.n, rs, cmp_key);
                size_t u = 0;
                for (size_t i = 0; i < k.n; i++)
                    if (!u || memcmp(k.rec + (u - 1) * rs, k.rec + i * rs, KEY))
                        memmove(k.rec + u++ * rs, k.rec + i * rs, rs);
                k.n = u;
            }
        }
        if (!rc) {      // the rows become their vectors
            free(ds->x);
            ds->x = vecs, vecs = NULL;
            ds->d = H;
            ds->text_tokens = 0;
            from_cache += ds->n - nm;
            encoded += nm;
        }
        if (rc == 3 && oom) snprintf(err, errlen, "out of memory for the pooled vectors of %s", ds->name);
        free(keys); free(miss); free(vecs); free(mx); free(mv);
    }
    if (!rc && encoded) rc = cache_write(&k, path, err, errlen);
    if (!rc && !c->quiet)
        fprintf(stderr, "alsim: %s: %ld rows' vectors from the cache, %ld encoded (%s)\n", c->model, from_cache, encoded,
                path);
    if (loaded) bert_free(&b);
    free(k.rec);
    return rc;
}
