/* runs — see runs.h. */
#include "reports/runs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/config.h"
#include "sim/jsonw.h"
#include "sim/util.h"

int runs_json_int(const cJSON *o, const char *key, int dflt) {
    double v = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return v >= -2147483647.0 && v <= 2147483647.0 ? (int)v : dflt;   /* NaN fails both */
}

cJSON *runs_read_json(const char *path, char *err, size_t errlen) {
    size_t len;
    char *buf;
    if (util_read_file(&buf, &len, path, err, errlen)) return NULL;
    const char *end = NULL;
    cJSON *j = strlen(buf) == len ? cJSON_ParseWithOpts(buf, &end, 1) : NULL;   /* no NUL inside */
    if (!j) {
        int line = 1;
        for (const char *p = buf; end && p < end && *p; p++) line += *p == '\n';
        snprintf(err, errlen, "%s: line %d: malformed JSON", path, line);
    } else if (!cJSON_IsObject(j)) {
        snprintf(err, errlen, "%s: line 1: not a JSON object", path);
        cJSON_Delete(j);
        j = NULL;
    }
    free(buf);
    return j;
}

static const cJSON *member(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* Splits line at commas in place (empty fields kept, a trailing '\r' dropped) into f (cap);
 * returns the number of fields, which may exceed cap (only cap are stored). */
static int split_csv(char **f, int cap, char *line) {
    size_t len = strlen(line);
    if (len && line[len - 1] == '\r') line[len - 1] = 0;
    int n = 0;
    for (char *p = line;; p++) {
        if (n < cap) f[n] = p;
        n++;
        p = strchr(p, ',');
        if (!p) return n;
        *p = 0;
    }
}

/* Grows the three curve arrays of r to hold cap rows; 0 or -1. */
static int curve_grow(Run *r, int cap) {
    double **arrays[3] = {&r->n_labeled, &r->accuracy, &r->macro_f1};
    for (int i = 0; i < 3; i++) {
        double *a = realloc(*arrays[i], (size_t)cap * sizeof *a);
        if (!a) return -1;
        *arrays[i] = a;
    }
    return 0;
}

/* Reads curve.csv into r: the columns round (0, 1, 2, ... in order), n_labeled, accuracy,
 * macro_f1, found by name in the header. "nan" is a number here (a diverged round). */
static int read_curve(Run *r, const char *path, char *err, size_t errlen) {
    char *buf;
    int read_rc = util_read_file(&buf, NULL, path, err, errlen);
    if (read_rc) return read_rc;
    enum { ROUND, LABELS, ACC, F1, NCOL, MAXF = 64 };
    static const char *const want[NCOL] = {"round", "n_labeled", "accuracy", "macro_f1"};
    int col[NCOL] = {-1, -1, -1, -1}, ncols = 0, rc = 0, cap = 0, line = 0;
    char *f[MAXF];
    for (char *p = buf, *next; *p && !rc; p = next) {
        char *nl = strchr(p, '\n');
        next = nl ? nl + 1 : p + strlen(p);
        if (nl) *nl = 0;
        line++;
        int k = split_csv(f, MAXF, p);
        if (line == 1) {
            ncols = k;
            for (int i = 0; i < k && i < MAXF; i++)
                for (int c = 0; c < NCOL; c++) if (!strcmp(f[i], want[c])) col[c] = i;
            for (int c = 0; c < NCOL && !rc; c++)
                if (col[c] < 0) { snprintf(err, errlen, "%s: line 1: no column \"%s\" in the header", path, want[c]); rc = ALSIM_BAD_INPUT; }
            continue;
        }
        if (k != ncols) { snprintf(err, errlen, "%s: line %d: %d fields, the header has %d", path, line, k, ncols); rc = ALSIM_BAD_INPUT; break; }
        if (r->m == cap && curve_grow(r, cap = cap ? 2 * cap : 32)) { snprintf(err, errlen, "%s: out of memory", path); rc = ALSIM_RUNTIME; break; }
        double v[NCOL] = {0};
        for (int c = 0; c < NCOL && !rc; c++) {
            char *end;
            errno = 0;
            v[c] = strtod(f[col[c]], &end);
            if (end == f[col[c]] || *end || errno == ERANGE) {
                snprintf(err, errlen, "%s: line %d: %s \"%s\" is not a number", path, line, want[c], f[col[c]]);
                rc = ALSIM_BAD_INPUT;
            }
        }
        if (!rc && v[ROUND] != r->m) {
            snprintf(err, errlen, "%s: line %d: round %g, expected %d (rounds in order from 0)", path, line, v[ROUND], r->m);
            rc = ALSIM_BAD_INPUT;
        } else if (!rc && !(v[LABELS] >= (r->m ? r->n_labeled[r->m - 1] : 0) && v[LABELS] <= 1e12)) {
            snprintf(err, errlen, "%s: line %d: n_labeled %g is not a count that never decreases", path, line, v[LABELS]);
            rc = ALSIM_BAD_INPUT;
        } else if (!rc && (!(isnan(v[ACC]) || (v[ACC] >= 0 && v[ACC] <= 1)) || !(isnan(v[F1]) || (v[F1] >= 0 && v[F1] <= 1)))) {
            snprintf(err, errlen, "%s: line %d: accuracy and macro_f1 must lie in [0, 1] (or be nan)", path, line);
            rc = ALSIM_BAD_INPUT;
        } else if (!rc) {
            r->n_labeled[r->m] = v[LABELS];
            r->accuracy[r->m] = v[ACC];
            r->macro_f1[r->m] = v[F1];
            r->m++;
        }
    }
    if (!rc && r->m == 0) { snprintf(err, errlen, "%s: line %d: no rounds", path, line + 1); rc = ALSIM_BAD_INPUT; }
    free(buf);
    return rc;
}

/* The string member k of o into out, or a reason. */
static int get_str(char *out, size_t len, const cJSON *o, const char *k, const char *path, char *err, size_t errlen) {
    const char *s = cJSON_GetStringValue(member(o, k));
    if (!s) { snprintf(err, errlen, "%s: no string \"%s\"", path, k); return ALSIM_BAD_INPUT; }
    if (strlen(s) >= len) { snprintf(err, errlen, "%s: \"%s\" is too long", path, k); return ALSIM_BAD_INPUT; }
    strcpy(out, s);
    return 0;
}

/* Reads one run folder into r (zeroed by the caller). */
static int read_run(Run *r, const char *dir, char *err, size_t errlen) {
    char path[4200];
    snprintf(r->path, sizeof r->path, "%s", dir);
    snprintf(path, sizeof path, "%s/config.json", dir);
    cJSON *cfg = runs_read_json(path, err, errlen);
    if (!cfg) return ALSIM_BAD_INPUT;
    const cJSON *c = member(cfg, "config"), *ds = member(cfg, "dataset"), *seed = member(cfg, "run_seed");
    int rc = 0;
    if (!cJSON_IsObject(c) || !cJSON_IsObject(ds) || !cJSON_IsNumber(seed) || seed->valuedouble < 0) {
        snprintf(err, errlen, "%s: needs the objects \"config\" and \"dataset\" and the number \"run_seed\"", path);
        rc = ALSIM_BAD_INPUT;
    }
    if (!rc) rc = get_str(r->dataset, sizeof r->dataset, c, "dataset", path, err, errlen);
    if (!rc) rc = get_str(r->strategy, sizeof r->strategy, c, "strategy", path, err, errlen);
    if (!rc) rc = get_str(r->name, sizeof r->name, ds, "name", path, err, errlen);
    if (!rc) rc = get_str(r->sha256, sizeof r->sha256, ds, "sha256", path, err, errlen);
    if (!rc) {
        r->seed = (uint64_t)seed->valuedouble;
        r->full_data = cJSON_IsTrue(member(c, "full_data"));
        if (r->full_data) strcpy(r->strategy, "full-data");
        r->batch = runs_json_int(c, "batch", 0);
        double t = cJSON_GetNumberValue(member(c, "target"));
        r->config_target = isnan(t) ? 0 : t;
        r->config = cJSON_Duplicate(c, 1);
        if (!r->config) { snprintf(err, errlen, "out of memory"); rc = ALSIM_RUNTIME; }
    }
    cJSON_Delete(cfg);
    if (rc) return rc;
    /* Keep only what changes results (config.c's table says which keys do); an unknown key
     * (a newer alsim's) is kept, so it is compared. */
    for (cJSON *it = r->config->child, *next; it; it = next) {
        next = it->next;
        if (config_key_known(it->string) && !config_key_affects_results(it->string))
            cJSON_DeleteItemFromObjectCaseSensitive(r->config, it->string);
    }
    if (!cJSON_AddStringToObject(r->config, "dataset_sha256", r->sha256)) { snprintf(err, errlen, "out of memory"); return ALSIM_RUNTIME; }

    snprintf(path, sizeof path, "%s/summary.json", dir);
    cJSON *sum = runs_read_json(path, err, errlen);
    if (!sum) return ALSIM_BAD_INPUT;
    rc = get_str(r->status, sizeof r->status, sum, "status", path, err, errlen);
    cJSON_Delete(sum);
    if (rc) return rc;
    snprintf(path, sizeof path, "%s/curve.csv", dir);
    return read_curve(r, path, err, errlen);
}

static int has_summary(const char *dir) {
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/summary.json", dir);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* 1 when dir/summary.json is a report's (it carries "alsim_report"), not a run's: a report
 * written among runs is never read as a run. */
static int is_report(const char *dir) {
    char path[4200], err[64];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    cJSON *j = runs_read_json(path, err, sizeof err);
    int yes = j && member(j, "alsim_report");
    cJSON_Delete(j);
    return yes;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int cmp_run(const void *a, const void *b) {
    const Run *x = a, *y = b;
    int c = strcmp(x->dataset, y->dataset);
    if (!c) c = x->full_data - y->full_data;
    if (!c) c = strcmp(x->strategy, y->strategy);
    if (!c) c = (x->seed > y->seed) - (x->seed < y->seed);
    return c;
}

/* Appends the run folder dir to set (growing it); 0 or an exit code. */
static int add_run(RunSet *set, int *cap, const char *dir, char *err, size_t errlen) {
    if (set->n == *cap) {
        int bigger = *cap ? 2 * *cap : 16;
        Run *runs = realloc(set->runs, (size_t)bigger * sizeof *runs);
        if (!runs) { snprintf(err, errlen, "out of memory"); return ALSIM_RUNTIME; }
        set->runs = runs;
        *cap = bigger;
    }
    Run *r = &set->runs[set->n++];
    memset(r, 0, sizeof *r);
    if (strlen(dir) >= sizeof r->path) { snprintf(err, errlen, "%.200s...: the path is too long", dir); return ALSIM_BAD_INPUT; }
    return read_run(r, dir, err, errlen);
}

/* The non-hidden entries of the open folder fd (named path), sorted (a stable order, whatever
 * readdir gives), in *names (n of them, malloc'd; each to free). 0 or an exit code. */
static int list_dir(char ***names, int *n, int fd, const char *path, char *err, size_t errlen) {
    *names = NULL;
    *n = 0;
    DIR *d = util_read_dir(fd, path, err, errlen);
    if (!d) return ALSIM_BAD_INPUT;
    int cap = 0, rc = 0;
    for (struct dirent *e; !rc && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;        /* runs in progress (.partial-*), temporaries */
        if (*n == cap) {
            char **more = realloc(*names, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *more);
            if (!more) { rc = ALSIM_RUNTIME; break; }
            *names = more;
        }
        if (!((*names)[*n] = strdup(e->d_name))) rc = ALSIM_RUNTIME;
        else (*n)++;
    }
    closedir(d);
    if (rc) snprintf(err, errlen, "out of memory");
    else if (*n) qsort(*names, (size_t)*n, sizeof **names, cmp_str);   /* names is NULL when n is 0 */
    return rc;
}

/* The run folders in the folder fd (named path, depth levels below a path given) and below
 * it, added to set; *found counts them. Symbolic links are never followed (counted in
 * set->links), so the folders walked form a tree (Linux has no hard links to folders) and the
 * walk cannot loop; a run folder or a report's folder is not searched further; a subfolder
 * with no run in or below it counts once in set->skipped. 0 or an exit code. */
static int walk(RunSet *set, int *cap, int *found, int fd, const char *path, int depth, char *err, size_t errlen) {
    char **names;
    int n, rc = list_dir(&names, &n, fd, path, err, errlen);
    for (int i = 0; i < n && !rc; i++) {
        struct stat st;
        if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISLNK(st.st_mode)) { set->links++; continue; }
        if (!S_ISDIR(st.st_mode)) continue;
        size_t len = strlen(path) + strlen(names[i]) + 2;
        char *sub = malloc(len);
        if (!sub) { snprintf(err, errlen, "out of memory"); rc = ALSIM_RUNTIME; break; }
        snprintf(sub, len, "%s/%s", path, names[i]);
        if (has_summary(sub)) {
            if (is_report(sub)) set->skipped++;
            else { rc = add_run(set, cap, sub, err, errlen); (*found)++; }
        } else if (depth + 1 > RUNS_MAX_DEPTH) {
            snprintf(err, errlen, "%s: more than %d folder levels below the folder given; alsim searches no deeper: "
                     "give a folder nearer the runs", sub, RUNS_MAX_DEPTH);
            rc = ALSIM_BAD_INPUT;
        } else {
            int sub_fd = openat(fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub_fd < 0 && (errno == ELOOP || errno == ENOTDIR)) set->links++;   /* replaced by a link */
            else if (sub_fd < 0) {
                snprintf(err, errlen, "%s: cannot read: %s", sub, strerror(errno));
                rc = ALSIM_BAD_INPUT;
            } else {
                int below = 0, skipped = set->skipped;
                rc = walk(set, cap, &below, sub_fd, sub, depth + 1, err, errlen);
                close(sub_fd);
                if (!below) set->skipped = skipped + 1;
                *found += below;
            }
        }
        free(sub);
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

/* The run folders of path: itself, or every run folder below it (walk). path itself may be
 * a symbolic link (it was named); nothing below it is followed. */
static int add_path(RunSet *set, int *cap, const char *path, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a folder", path);
        return ALSIM_BAD_INPUT;
    }
    char **roots = realloc(set->roots, (size_t)(set->n_roots + 1) * sizeof *roots);
    if (roots) set->roots = roots;
    if (!roots || !(roots[set->n_roots] = realpath(path, NULL))) {
        snprintf(err, errlen, "%s: %s", path, roots ? strerror(errno) : "out of memory");
        return roots ? ALSIM_BAD_INPUT : ALSIM_RUNTIME;
    }
    set->n_roots++;
    if (has_summary(path) && !is_report(path)) return add_run(set, cap, path, err, errlen);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) { snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno)); return ALSIM_BAD_INPUT; }
    int found = 0, rc = walk(set, cap, &found, fd, path, 0, err, errlen);
    close(fd);
    if (!rc && !found) {
        snprintf(err, errlen, "%s: no run folders in it or below it (a run folder holds config.json, curve.csv and "
                 "summary.json)", path);
        rc = ALSIM_BAD_INPUT;
    }
    return rc;
}

int runs_config_diff(char *what, size_t len, const cJSON *a, const cJSON *b, int strict) {
    const cJSON *x;
    size_t used = 0;
    what[0] = 0;
    cJSON_ArrayForEach(x, a) {
        const cJSON *y = member(b, x->string);
        if (y && cJSON_Compare(x, y, 1)) continue;
        if (!y && !strict) {
            if (used < len) used += (size_t)snprintf(what + used, len - used, "%s%s (first only)", used ? ", " : "", x->string);
            continue;
        }
        char *vx = cJSON_PrintUnformatted(x), *vy = y ? cJSON_PrintUnformatted(y) : NULL;
        snprintf(what, len, "%s: %s vs %s", x->string, vx ? vx : "?", y ? (vy ? vy : "?") : "(absent)");
        free(vx); free(vy);
        return 1;
    }
    cJSON_ArrayForEach(x, b) {
        if (member(a, x->string)) continue;
        if (strict) {
            snprintf(what, len, "%s: (absent) vs present", x->string);
            return 1;
        }
        if (used < len) used += (size_t)snprintf(what + used, len - used, "%s%s (second only)", used ? ", " : "", x->string);
    }
    return 0;
}

/* Every run of a dataset shares the config of the first (full-data runs among themselves);
 * no (dataset, strategy, seed) twice. The set is sorted. */
/* 0 when the full-data run c measures the ceiling of the AL runs of config a: the same data
 * and test set (every key but RUNS_CEILING_FREE_KEYS); else 1 with the key in what. */
static int ceiling_diff(char *what, size_t len, const Run *al, const Run *c) {
    static const char *const free_keys[] = RUNS_CEILING_FREE_KEYS;
    cJSON *x = cJSON_Duplicate(al->config, 1), *y = cJSON_Duplicate(c->config, 1);
    for (size_t k = 0; k < sizeof free_keys / sizeof free_keys[0]; k++) {
        cJSON_DeleteItemFromObjectCaseSensitive(x, free_keys[k]);
        cJSON_DeleteItemFromObjectCaseSensitive(y, free_keys[k]);
    }
    int rc = x && y ? runs_config_diff(what, len, x, y, 1) : (snprintf(what, len, "(out of memory)"), 1);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return rc;
}

static int check_set(const RunSet *set, char *err, size_t errlen) {
    const Run *ref = NULL, *al = NULL;
    for (int i = 0; i < set->n; i++) {
        const Run *r = &set->runs[i];
        if (!ref || strcmp(ref->dataset, r->dataset) || ref->full_data != r->full_data) ref = r;
        if (!r->full_data) al = r;                /* AL runs sort before the full-data runs */
        else if (al && strcmp(al->dataset, r->dataset)) al = NULL;
        char what[512];
        if (r->full_data && al && ceiling_diff(what, sizeof what, al, r)) {
            snprintf(err, errlen, "%s cannot be the accuracy ceiling of %s: it differs from the active-learning runs "
                     "(e.g. %s) in %s", r->path, r->dataset, al->path, what);
            return ALSIM_BAD_INPUT;
        }
        if (runs_config_diff(what, sizeof what, ref->config, r->config, 1)) {
            snprintf(err, errlen, "runs of %s with different configs: %s and %s differ in %s; report them separately",
                     r->dataset, ref->path, r->path, what);
            return ALSIM_BAD_INPUT;
        }
        if (i > 0 && !cmp_run(&set->runs[i - 1], r)) {
            snprintf(err, errlen, "%s and %s are the same run (%s, %s, seed %llu): pass it once",
                     set->runs[i - 1].path, r->path, r->dataset, r->strategy, (unsigned long long)r->seed);
            return ALSIM_BAD_INPUT;
        }
    }
    return 0;
}

int runs_load(RunSet *set, char **paths, int npaths, char *err, size_t errlen) {
    memset(set, 0, sizeof *set);
    int cap = 0, rc = 0;
    if (npaths == 0) { snprintf(err, errlen, "no run folders given"); return ALSIM_BAD_INPUT; }
    for (int i = 0; i < npaths && !rc; i++) rc = add_path(set, &cap, paths[i], err, errlen);
    if (!rc) {
        qsort(set->runs, (size_t)set->n, sizeof *set->runs, cmp_run);
        rc = check_set(set, err, errlen);
    }
    if (rc) runs_free(set);
    return rc;
}

void runs_free(RunSet *set) {
    for (int i = 0; i < set->n; i++) {
        Run *r = &set->runs[i];
        free(r->n_labeled); free(r->accuracy); free(r->macro_f1);
        cJSON_Delete(r->config);
    }
    free(set->runs);
    for (int i = 0; i < set->n_roots; i++) free(set->roots[i]);
    free(set->roots);
    memset(set, 0, sizeof *set);
}

int runs_unusable(const Run *r, char why[64]) {
    if (strcmp(r->status, "ok")) { snprintf(why, 64, "status \"%s\"", r->status); return 1; }
    for (int i = 0; i < r->m; i++)
        if (isnan(r->accuracy[i])) { snprintf(why, 64, "NaN accuracy in round %d", i); return 1; }
    why[0] = 0;
    return 0;
}

void runs_write_json(JsonW *w, const cJSON *v) {
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        if (cJSON_IsObject(v)) jw_object(w); else jw_array(w);
        const cJSON *c;
        cJSON_ArrayForEach(c, v) {
            if (cJSON_IsObject(v)) jw_key(w, c->string);
            runs_write_json(w, c);
        }
        jw_end(w);
    } else if (cJSON_IsNumber(v)) {
        double x = v->valuedouble;                /* integers as integers: 50, not 5e+01 */
        if (x == floor(x) && fabs(x) < 9007199254740992.0) jw_int(w, (int64_t)x); else jw_num(w, x);
    }
    else if (cJSON_IsString(v)) jw_str(w, v->valuestring);
    else if (cJSON_IsBool(v)) jw_bool(w, cJSON_IsTrue(v));
    else jw_null(w);
}
