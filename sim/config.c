/* config — the option table and everything driven by it. See config.h. */
#include "sim/config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "sim/jsonw.h"
#include "strategies/strategy.h"

enum { OPT_INT, OPT_U64, OPT_DOUBLE, OPT_STR, OPT_FLAG, OPT_HIDDEN };

typedef struct {
    const char *name;       /* --name on the command line; name with '_' for '-' in JSON */
    int type;
    size_t offset;          /* into Config */
    size_t size;            /* OPT_STR: buffer size */
    double min, max;        /* allowed range for numbers (inclusive) */
    int affects_results;    /* part of config_hash */
    const char *arg, *help;
} Option;

#define F(field) offsetof(Config, field)
#define S(field) sizeof(((Config *)0)->field)
static const Option options[] = {
    {"dataset",      OPT_STR,    F(dataset), S(dataset), 0, 0, 1, "NAME|PATH",
     "mnist, synthetic:blobs[:k=..,d=..], a folder of IDX files, idx:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS], "
     "FILE.csv|.tsv|.svm|.arff, csv:|svmlight:|arff:FILE, npy:X.npy,y.npy"},
    {"label",        OPT_STR,    F(label), S(label), 0, 0, 1, "NAME|INDEX",
     "class column (csv) or attribute (arff): a name or 0-based index; default the last (nominal) one"},
    {"test",         OPT_STR,    F(test), S(test), 0, 0, 1, "PATH", "a fixed test set in the dataset's format (npy: XT.npy,YT.npy)"},
    {"test-frac",    OPT_DOUBLE, F(test_frac), 0, 0.01, 0.99, 1, "f", "share of each class split off as the test set, without --test"},
    {"strategy",     OPT_STR,    F(strategy), S(strategy), 0, 0, 0, "S", "query strategy (alsim --list)"},
    {"model",        OPT_STR,    F(model), S(model), 0, 0, 1, "M", "the model fitted each round (mlp)"},
    {"rounds",       OPT_INT,    F(rounds), 0, 1, 1e6, 1, "R", "acquisition rounds"},
    {"batch",        OPT_INT,    F(batch), 0, 1, 1e7, 1, "b", "rows queried per round"},
    {"init",         OPT_INT,    F(init), 0, 1, 1e7, 1, "n", "initial labeled rows, class-balanced"},
    {"seed",         OPT_U64,    F(seed), 0, 0, 0, 0, "s", "first seed"},
    {"seeds",        OPT_INT,    F(seeds), 0, 1, 1e5, 0, "N", "number of seeds: runs for seed s..s+N-1"},
    {"epochs",       OPT_INT,    F(epochs), 0, 1, 1e6, 1, "E", "training budget per round: epochs over the labeled set"},
    {"minibatch",    OPT_INT,    F(minibatch), 0, 1, 1e6, 1, "m", "rows per optimizer step"},
    {"hidden",       OPT_HIDDEN, F(hidden), 0, 0, 1e6, 1, "H[,H..]", "hidden layer widths (0: softmax regression); sparse data (text) without it: 64"},
    {"dropout",      OPT_DOUBLE, F(dropout), 0, 0, 0.99, 1, "p", "dropout after each hidden layer, [0, 0.99]"},
    {"lr",           OPT_DOUBLE, F(lr), 0, 1e-12, 10, 1, "x", "AdamW learning rate"},
    {"weight-decay", OPT_DOUBLE, F(weight_decay), 0, 0, 10, 1, "x", "AdamW decoupled weight decay"},
    {"mc",           OPT_INT,    F(mc), 0, 1, 1e5, 1, "T", "MC-dropout samples for bald, var-ratios, mean-std"},
    {"warm-start",   OPT_FLAG,   F(warm_start), 0, 0, 1, 1, NULL, "fine-tune the previous round's model instead of retraining"},
    {"pool-size",    OPT_INT,    F(pool_size), 0, 0, 1e9, 1, "N", "use a seeded random subset of N pool rows (0: all)"},
    {"test-size",    OPT_INT,    F(test_size), 0, 0, 1e9, 1, "N", "use a seeded random subset of N test rows (0: all)"},
    {"noise",        OPT_DOUBLE, F(noise), 0, 0, 1, 1, "r", "oracle label-noise rate"},
    {"target",       OPT_DOUBLE, F(target), 0, 0, 1, 0, "acc", "accuracy target for labels-to-target (0: none)"},
    {"full-data",    OPT_FLAG,   F(full_data), 0, 0, 1, 1, NULL, "train once on the whole pool: the accuracy ceiling"},
    {"device",       OPT_STR,    F(device), S(device), 0, 0, 0, "D", "cpu, cuda or auto"},
    {"out",          OPT_STR,    F(out), S(out), 0, 0, 0, "DIR", "output root; each run goes to DIR/<run-id>/"},
    {"force",        OPT_FLAG,   F(force), 0, 0, 1, 0, NULL, "replace a finished run with the same id"},
    {"policy",       OPT_STR,    F(policy), S(policy), 0, 0, 0, "FILE", "the rl strategy's trained policy (alsim train-policy)"},
    {"resume",       OPT_FLAG,   F(resume), 0, 0, 1, 0, NULL, "continue a killed or interrupted run from its last complete round"},
    {"quiet",        OPT_FLAG,   F(quiet), 0, 0, 1, 0, NULL, "no progress lines"},
};
#undef F
#undef S
enum { N_OPTIONS = sizeof options / sizeof options[0] };

void config_defaults(Config *c) {
    memset(c, 0, sizeof *c);
    strcpy(c->dataset, "mnist");
    c->test_frac = DATASET_TEST_FRAC;
    strcpy(c->strategy, "bald");
    strcpy(c->model, "mlp");
    c->rounds = 20;
    c->batch = 10;
    c->init = 20;
    c->seed = 0;
    c->seeds = 1;
    c->epochs = 50;
    c->minibatch = 64;
    c->n_hidden = 1;
    c->hidden[0] = 512;
    c->dropout = 0.5;
    c->lr = 1e-3;
    c->weight_decay = 1e-4;
    c->mc = 20;
    strcpy(c->device, "auto");
    strcpy(c->out, "runs");
    snprintf(c->policy, sizeof c->policy, "%s", ALSIM_DEFAULT_POLICY);
}

/* Option names match with '-' and '_' treated alike. */
static int same_name(const char *a, const char *b, size_t blen) {
    size_t i = 0;
    for (; i < blen && a[i]; i++) {
        char x = a[i] == '_' ? '-' : a[i], y = b[i] == '_' ? '-' : b[i];
        if (x != y) return 0;
    }
    return a[i] == 0 && i == blen;
}

static const Option *find_option(const char *name, size_t len) {
    for (int i = 0; i < N_OPTIONS; i++)
        if (same_name(options[i].name, name, len)) return &options[i];
    return NULL;
}

static int parse_hidden(Config *c, const char *s, char *why, size_t whylen) {
    int n = 0;
    const char *p = s;
    if (strcmp(s, "0") == 0 || *s == 0) { c->n_hidden = 0; return 0; }
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 1 || v > 1000000) {
            snprintf(why, whylen, "'%s' is not a comma-separated list of widths >= 1", s);
            return -1;
        }
        if (n == LEARNER_MAX_HIDDEN) {
            snprintf(why, whylen, "at most %d hidden layers", LEARNER_MAX_HIDDEN);
            return -1;
        }
        c->hidden[n++] = (int)v;
        p = end;
        if (*p == ',') p++;
        else if (*p) { snprintf(why, whylen, "'%s' is not a comma-separated list of widths", s); return -1; }
    }
    c->n_hidden = n;
    return 0;
}

/* Sets option o from text s. Returns 0, or -1 with the reason in why. */
static int set_option(Config *c, const Option *o, const char *s, char *why, size_t whylen) {
    char *base = (char *)c + o->offset, *end;
    errno = 0;
    switch (o->type) {
    case OPT_INT: {
        long v = strtol(s, &end, 10);
        if (end == s || *end || errno || v < o->min || v > o->max) {
            snprintf(why, whylen, "'%s' is not an integer in [%.0f, %.0f]", s, o->min, o->max);
            return -1;
        }
        *(int *)base = (int)v;
        return 0;
    }
    case OPT_U64: {
        unsigned long long v = strtoull(s, &end, 10);
        if (end == s || *end || errno || *s == '-') {
            snprintf(why, whylen, "'%s' is not a non-negative integer", s);
            return -1;
        }
        *(uint64_t *)base = v;
        return 0;
    }
    case OPT_DOUBLE: {
        double v = strtod(s, &end);
        if (end == s || *end || errno || !isfinite(v) || v < o->min || v > o->max) {
            snprintf(why, whylen, "'%s' is not a number in [%g, %g]", s, o->min, o->max);
            return -1;
        }
        *(double *)base = v;   /* cppcheck-suppress invalidPointerCast ; base points at a double field */
        return 0;
    }
    case OPT_STR:
        if (strlen(s) >= o->size) { snprintf(why, whylen, "longer than %zu characters", o->size - 1); return -1; }
        if (!*s) { snprintf(why, whylen, "empty"); return -1; }
        strcpy(base, s);
        return 0;
    case OPT_FLAG:
        if (!strcmp(s, "1") || !strcmp(s, "true")) { *(int *)base = 1; return 0; }
        if (!strcmp(s, "0") || !strcmp(s, "false")) { *(int *)base = 0; return 0; }
        snprintf(why, whylen, "'%s' is not true or false", s);
        return -1;
    case OPT_HIDDEN:
        c->hidden_set = 1;
        return parse_hidden(c, s, why, whylen);
    }
    return -1;
}

/* The line of the first occurrence of "key" in text, for messages about a JSON member. */
static int line_of_key(const char *text, const char *key) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(text, pat);
    int line = 1;
    if (!p) return 1;
    for (const char *q = text; q < p; q++) line += *q == '\n';
    return line;
}

int config_load_json(Config *c, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno)); return 2; }
    char *text = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 8192;
            char *t = realloc(text, cap);
            if (!t) { free(text); fclose(f); snprintf(err, errlen, "%s: out of memory", path); return 3; }
            text = t;
        }
        size_t got = fread(text + n, 1, 4096, f);
        n += got;
        if (got < 4096) break;
    }
    fclose(f);
    text[n] = 0;

    int rc = 0;
    cJSON *root = cJSON_ParseWithLength(text, n);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        int line = 1;
        for (const char *q = text; at && q < at && *q; q++) line += *q == '\n';
        snprintf(err, errlen, "%s: line %d: malformed JSON", path, line);
        rc = 2;
    } else if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "%s: line 1: a config is a JSON object of option names", path);
        rc = 2;
    } else {
        for (cJSON *it = root->child; it && !rc; it = it->next) {
            const Option *o = find_option(it->string, strlen(it->string));
            char val[1100], why[256];
            int line = line_of_key(text, it->string);
            if (!o) {
                snprintf(err, errlen, "%s: line %d: unknown option \"%s\" (alsim --help lists them)", path, line, it->string);
                rc = 2;
                break;
            }
            if (cJSON_IsString(it)) snprintf(val, sizeof val, "%s", it->valuestring);
            else if (cJSON_IsBool(it)) snprintf(val, sizeof val, "%s", cJSON_IsTrue(it) ? "true" : "false");
            else if (cJSON_IsNumber(it)) {
                /* Integers are printed as integers so strtol accepts them; others exactly. */
                if (o->type == OPT_DOUBLE) snprintf(val, sizeof val, "%.17g", it->valuedouble);
                else if (it->valuedouble == floor(it->valuedouble) && fabs(it->valuedouble) < 1e18)
                    snprintf(val, sizeof val, "%.0f", it->valuedouble);
                else snprintf(val, sizeof val, "%.17g", it->valuedouble);
            } else if (cJSON_IsArray(it) && o->type == OPT_HIDDEN) {
                size_t len = 0;
                val[0] = 0;
                for (cJSON *e = it->child; e; e = e->next) {
                    if (!cJSON_IsNumber(e)) { snprintf(val, sizeof val, "x"); break; }
                    len += snprintf(val + len, sizeof val - len, "%s%d", len ? "," : "", e->valueint);
                    if (len >= sizeof val) break;
                }
            } else {
                snprintf(err, errlen, "%s: line %d: \"%s\" has a value of the wrong type", path, line, it->string);
                rc = 2;
                break;
            }
            if (set_option(c, o, val, why, sizeof why)) {
                snprintf(err, errlen, "%s: line %d: \"%s\": %s", path, line, it->string, why);
                rc = 2;
            }
        }
    }
    cJSON_Delete(root);
    free(text);
    return rc;
}

int config_parse_args(Config *c, int argc, char **argv, char *err, size_t errlen) {
    /* -c FILE first, so the command line overrides it wherever it stands. */
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) { snprintf(err, errlen, "%s needs a FILE", argv[i]); return 2; }
            int rc = config_load_json(c, argv[i + 1], err, errlen);
            if (rc) return rc;
        }
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-c") || !strcmp(a, "--config")) { i++; continue; }
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument '%s' (options start with --; alsim --help)", a);
            return 2;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int negate = 0;
        const Option *o = find_option(name, len);
        if (!o && len > 3 && !strncmp(name, "no-", 3)) {
            o = find_option(name + 3, len - 3);
            negate = o && o->type == OPT_FLAG;
            if (!negate) o = NULL;
        }
        if (!o) {
            snprintf(err, errlen, "unknown option '--%.*s' (alsim --help lists them)", (int)len, name);
            return 2;
        }
        const char *val;
        if (o->type == OPT_FLAG && !eq) val = negate ? "false" : "true";
        else if (eq) val = eq + 1;
        else if (i + 1 < argc) val = argv[++i];
        else { snprintf(err, errlen, "--%s needs a value (%s)", o->name, o->arg); return 2; }
        char why[256];
        if (set_option(c, o, val, why, sizeof why)) {
            snprintf(err, errlen, "--%s: %s", o->name, why);
            return 2;
        }
    }
    return 0;
}

int config_check(const Config *c, char *err, size_t errlen) {
    if (!c->full_data && !strategy_find(c->strategy)) {
        snprintf(err, errlen, "--strategy: unknown strategy '%s' (alsim --list shows them)", c->strategy);
        return 2;
    }
    const Strategy *st = c->full_data ? NULL : strategy_find(c->strategy);
    if (st && st->hooks) {      /* rl: a hidden layer to embed with, and a policy that loads */
        if (c->n_hidden < 1) {
            snprintf(err, errlen, "--strategy %s needs a hidden layer (its features use the last hidden layer); --hidden 0 has none", c->strategy);
            return 2;
        }
        void *state = NULL;
        int rc = st->hooks->open(&state, c->policy, 1, err, errlen);
        if (rc) return rc;
        st->hooks->close(state);
    }
    if (strcmp(c->device, "cpu") && strcmp(c->device, "cuda") && strcmp(c->device, "auto")) {
        snprintf(err, errlen, "--device: '%s' is not cpu, cuda or auto", c->device);
        return 2;
    }
    /* Ranges were checked as each value was set; these are the cross-field rules. */
    if (c->seed + (uint64_t)c->seeds - 1 < c->seed) {
        snprintf(err, errlen, "--seed %llu with --seeds %d overflows", (unsigned long long)c->seed, c->seeds);
        return 2;
    }
    return 0;
}

void config_adapt(Config *c, int sparse_input) {
    if (!sparse_input || c->hidden_set) return;
    c->n_hidden = 1;
    c->hidden[0] = CONFIG_SPARSE_HIDDEN;
}

LearnerConfig config_learner(const Config *c, int d, int k) {
    LearnerConfig lc = {0};
    lc.d = d;
    lc.k = k;
    lc.n_hidden = c->n_hidden;
    memcpy(lc.hidden, c->hidden, sizeof lc.hidden);
    lc.dropout = (float)c->dropout;
    lc.lr = (float)c->lr;
    lc.weight_decay = (float)c->weight_decay;
    lc.beta1 = 0.9f;
    lc.beta2 = 0.999f;
    lc.eps = 1e-8f;
    lc.minibatch = c->minibatch;
    return lc;
}

/* The value of option o in c as text (for --help and the config hash). */
static void option_text(char *buf, size_t len, const Config *c, const Option *o) {
    const char *base = (const char *)c + o->offset;
    switch (o->type) {
    case OPT_INT: snprintf(buf, len, "%d", *(const int *)base); break;
    case OPT_U64: snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)base); break;
    case OPT_DOUBLE: {
        char t[32];
        fmt_double(t, *(const double *)base);   /* cppcheck-suppress invalidPointerCast */
        snprintf(buf, len, "%s", t);
        break;
    }
    case OPT_STR: snprintf(buf, len, "%s", base); break;
    case OPT_FLAG: snprintf(buf, len, "%s", *(const int *)base ? "true" : "false"); break;
    case OPT_HIDDEN: {
        size_t n = 0;
        buf[0] = 0;
        if (c->n_hidden == 0) snprintf(buf, len, "0");
        for (int i = 0; i < c->n_hidden && n < len; i++)
            n += snprintf(buf + n, len - n, "%s%d", i ? "," : "", c->hidden[i]);
        break;
    }
    }
}

void config_print_options(FILE *f, const Config *c) {
    for (int i = 0; i < N_OPTIONS; i++) {
        const Option *o = &options[i];
        char flag[64], val[1100];
        snprintf(flag, sizeof flag, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        option_text(val, sizeof val, c, o);
        fprintf(f, "  %-22s %s", flag, o->help);
        if (o->type == OPT_FLAG) fprintf(f, "%s\n", *(const int *)((const char *)c + o->offset) ? " (on)" : "");
        else fprintf(f, " [%s]\n", val);
    }
}

void config_write_json(JsonW *w, const Config *c) {
    for (int i = 0; i < N_OPTIONS; i++) {
        const Option *o = &options[i];
        const char *base = (const char *)c + o->offset;
        char key[64];
        snprintf(key, sizeof key, "%s", o->name);
        for (char *p = key; *p; p++) if (*p == '-') *p = '_';
        jw_key(w, key);
        switch (o->type) {
        case OPT_INT: jw_int(w, *(const int *)base); break;
        case OPT_U64: jw_int(w, (int64_t)*(const uint64_t *)base); break;
        case OPT_DOUBLE: jw_num(w, *(const double *)base); break;   /* cppcheck-suppress invalidPointerCast */
        case OPT_STR: jw_str(w, base); break;
        case OPT_FLAG: jw_bool(w, *(const int *)base); break;
        case OPT_HIDDEN:
            jw_array(w);
            for (int h = 0; h < c->n_hidden; h++) jw_int(w, c->hidden[h]);
            jw_end(w);
            break;
        }
    }
}

int config_key_known(const char *key) {
    return find_option(key, strlen(key)) != NULL;
}

int config_key_affects_results(const char *key) {
    const Option *o = find_option(key, strlen(key));
    return o && o->affects_results;
}

void config_hash(char out[9], const Config *c) {
    uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a over "name=value;" of result-changing options */
    for (int i = 0; i < N_OPTIONS; i++) {
        const Option *o = &options[i];
        if (!o->affects_results) continue;
        char val[1200];
        snprintf(val, sizeof val, "%s=", o->name);
        size_t n = strlen(val);
        option_text(val + n, sizeof val - n, c, o);
        strcat(val, ";");
        for (const unsigned char *p = (const unsigned char *)val; *p; p++) h = (h ^ *p) * 0x100000001b3ull;
    }
    snprintf(out, 9, "%08x", (unsigned)(h ^ (h >> 32)));
}
