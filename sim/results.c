/* results — see results.h. */
#define _GNU_SOURCE     /* renameat2: replace a finished run folder in one step */
#include "sim/results.h"

#include <cblas.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gsl/gsl_version.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sim/bert.h"
#include "sim/jsonw.h"
#include "sim/model.h"
#include "sim/util.h"

#define ALSIM_VERSION "0.1.0"

/* The files a run folder may hold: the only ones results_abort and --force remove. */
static const char *const run_files[] = {
    "config.json", "curve.csv", "rounds.jsonl", "timings.csv", "summary.json",
    "checkpoint.bin", "checkpoint.bin.tmp", "lock",
};
enum { N_RUN_FILES = sizeof run_files / sizeof run_files[0] };

/* s with every byte but letters, digits, '.' and '_' made '_', and leading dots too (.data.csv:
 * no hidden run folder). */
static void safe_name(char *s) {
    for (char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '_'))
            *p = '_';
    for (char *p = s; *p == '.'; p++) *p = '_';
}

void results_run_id(char out[256], const Config *c, const char *dataset_name,
                    const char *backend, uint64_t seed) {
    char ds[64], model[64], hash[9];
    snprintf(ds, sizeof ds, "%s", dataset_name);
    /* bert:DIR: "bert_" and the folder's name (the path is in the config hash, so two folders of
     * one name still get two ids); a path's slashes never reach the run folder's name */
    const char *dir = model_folder(c);
    if (dir) {
        int end = (int)strlen(dir), start;
        while (end > 0 && dir[end - 1] == '/') end--;
        for (start = end; start > 0 && dir[start - 1] != '/'; start--) {}
        snprintf(model, sizeof model, "bert_%.*s", end - start, dir + start);
    } else {
        snprintf(model, sizeof model, "%.63s", c->model);
    }
    safe_name(ds);
    safe_name(model);
    config_hash(hash, c);
    if (strcmp(backend, "cpu")) {   /* another backend rounds differently: another run */
        uint64_t h = util_fnv1a(strtoull(hash, NULL, 16), backend, strlen(backend));
        snprintf(hash, sizeof hash, "%08x", (uint32_t)h);
    }
    snprintf(out, 256, "%s-%s-%s-seed%llu-%s", ds, model, c->full_data ? "full-data" : c->strategy,
             (unsigned long long)seed, hash);
}

/* The file name of entry e of a folder; 1 when it is one of run_files. */
static int is_run_file(const char *name) {
    for (int i = 0; i < N_RUN_FILES; i++) if (!strcmp(name, run_files[i])) return 1;
    return 0;
}

/* Opens the folder name in root without following a link: its fd, or -1 with errno (ELOOP or
 * ENOTDIR when a link or a file stands there). */
static int open_dir_at(int root, const char *name) {
    return openat(root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* What stands at name in root, for a message: 0 nothing there, or a refusal with the reason
 * in err (2) when it is not a real folder: alsim never writes or removes through a link. */
static int refuse_non_dir(int root, const char *name, const char *path, const char *what,
                          char *err, size_t errlen) {
    struct stat st;
    if (fstatat(root, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return 0;
    if (S_ISLNK(st.st_mode)) {
        snprintf(err, errlen, "%s: a symbolic link where %s should be; alsim never writes or removes through links: "
                 "remove the link, or use another --out", path, what);
        return ALSIM_BAD_INPUT;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a folder where %s should be: remove it, or use another --out", path, what);
        return ALSIM_BAD_INPUT;
    }
    return 0;
}

/* 0 when the folder fd holds only regular files named like run files; else 2 with the first
 * other entry named in err. */
static int only_run_files(int fd, const char *path, char *err, size_t errlen) {
    DIR *d = util_read_dir(fd, path, err, errlen);
    if (!d) return ALSIM_RUNTIME;
    int rc = 0;
    for (struct dirent *e; !rc && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        struct stat st;
        if (!is_run_file(e->d_name) || fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
            snprintf(err, errlen, "%s: holds '%s', which is not a file of an alsim run; --force replaces only a run "
                     "folder alsim wrote: move it away first", path, e->d_name);
            rc = ALSIM_BAD_INPUT;
        }
    }
    closedir(d);
    return rc;
}

/* Unlinks the run files in the folder fd (a link among them is removed, not followed). */
static void unlink_run_files(int fd) {
    for (int i = 0; i < N_RUN_FILES; i++) unlinkat(fd, run_files[i], 0);
}

/* Removes the folder name in root: its run files, then the folder itself, which must then
 * be empty. 0, or -1 with errno (a link or a file there, something else inside). */
static int remove_run_dir_at(int root, const char *name) {
    int fd = open_dir_at(root, name);
    if (fd < 0) return -1;
    unlink_run_files(fd);
    close(fd);
    return unlinkat(root, name, AT_REMOVEDIR);
}

/* The partial folder's name in OUT. */
static void partial_name(char out[300], const Results *r) { snprintf(out, 300, ".partial-%s", r->id); }

static FILE *open_in(const Results *r, const char *name, int flags, const char *mode, char *err, size_t errlen) {
    int fd = openat(r->tmp_fd, name, flags | O_NOFOLLOW | O_CLOEXEC, 0666);
    FILE *f = fd >= 0 ? fdopen(fd, mode) : NULL;
    if (!f) {
        snprintf(err, errlen, "%s/%s: cannot write: %s", r->tmp, name, errno == ELOOP ? "a symbolic link" : strerror(errno));
        if (fd >= 0) close(fd);
    }
    return f;
}

/* A new file name in the partial folder, for writing. */
static FILE *create_in(const Results *r, const char *name, char *err, size_t errlen) {
    return open_in(r, name, O_WRONLY | O_CREAT | O_TRUNC, "w", err, errlen);
}

/* Cuts name back to size bytes and opens it for appending. */
static FILE *reopen_at(const Results *r, const char *name, int64_t size, char *err, size_t errlen) {
    FILE *f = open_in(r, name, O_WRONLY | O_APPEND, "a", err, errlen);
    if (f && ftruncate(fileno(f), (off_t)size) != 0) {
        snprintf(err, errlen, "%s/%s: cannot resume it: %s", r->tmp, name, strerror(errno));
        fclose(f);
        return NULL;
    }
    return f;
}

/* Takes the partial folder's lock; 0, or 3 when another process holds it. */
static int lock_partial(Results *r, char *err, size_t errlen) {
    r->lock_fd = openat(r->tmp_fd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (r->lock_fd < 0) {
        snprintf(err, errlen, "%s/lock: cannot create the run's lock: %s", r->tmp, strerror(errno));
        return ALSIM_RUNTIME;
    }
    if (flock(r->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "%s: another alsim process is writing this run; wait for it, or use another --out",
                 r->tmp);
        close(r->lock_fd);
        r->lock_fd = -1;
        return ALSIM_RUNTIME;
    }
    return 0;
}

/* Closes what r holds open; keeps the partial folder. */
static void release(Results *r) {
    FILE **files[] = {&r->curve, &r->rounds, &r->timings};
    for (int i = 0; i < 3; i++) if (*files[i]) { fclose(*files[i]); *files[i] = NULL; }
    if (r->lock_fd >= 0) close(r->lock_fd);
    if (r->tmp_fd >= 0) close(r->tmp_fd);
    if (r->root_fd >= 0) close(r->root_fd);
    r->lock_fd = r->tmp_fd = r->root_fd = -1;
    r->tmp[0] = 0;
}

int results_open(Results *r, ResultsStart *start, Checkpoint *ck, const char *out,
                 const char *run_id, int val, int force, int resume, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    memset(ck, 0, sizeof *ck);
    r->force = force;
    r->lock_fd = r->tmp_fd = r->root_fd = -1;
    int rc = util_mkdir_p(out, err, errlen);
    if (rc) return rc;
    snprintf(r->id, sizeof r->id, "%s", run_id);
    snprintf(r->dir, sizeof r->dir, "%s/%s", out, run_id);
    char tmp[4096], pname[300];
    partial_name(pname, r);
    snprintf(tmp, sizeof tmp, "%s/%s", out, pname);
    /* OUT itself may be a link the user made; the folders in it are reached from it alone. */
    if ((r->root_fd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "%s: cannot open the output folder: %s", out, strerror(errno));
        return ALSIM_RUNTIME;
    }
    if ((rc = refuse_non_dir(r->root_fd, run_id, r->dir, "a run folder", err, errlen)) ||
        (rc = refuse_non_dir(r->root_fd, pname, tmp, "alsim's partial run folder", err, errlen))) {
        release(r);
        return rc;
    }
    int old = open_dir_at(r->root_fd, run_id);
    if (old >= 0) {     /* a finished run: skipped, or (force) replaced when it is alsim's alone */
        rc = force ? only_run_files(old, r->dir, err, errlen) : 0;
        close(old);
        if (rc || !force) {
            release(r);
            if (!rc) *start = RESULTS_FINISHED;
            return rc;
        }
    }
    if (mkdirat(r->root_fd, pname, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create the run folder: %s", tmp, strerror(errno));
        release(r);
        return ALSIM_RUNTIME;
    }
    if ((r->tmp_fd = open_dir_at(r->root_fd, pname)) < 0) {    /* a link planted meanwhile */
        snprintf(err, errlen, "%s: cannot open the run folder: %s", tmp,
                 errno == ELOOP || errno == ENOTDIR ? "not a folder (a symbolic link?); alsim never writes through links"
                                                    : strerror(errno));
        release(r);
        return errno == ELOOP || errno == ENOTDIR ? ALSIM_BAD_INPUT : ALSIM_RUNTIME;
    }
    memcpy(r->tmp, tmp, sizeof r->tmp);
    if ((rc = lock_partial(r, err, errlen))) { release(r); return rc; }
    /* The folder locked must still be the partial folder: a process that finished the run
     * meanwhile renamed it to OUT/<run-id> before giving up its lock. Then this run is done. */
    struct stat here, named;
    if (fstat(r->tmp_fd, &here) != 0 || fstatat(r->root_fd, pname, &named, AT_SYMLINK_NOFOLLOW) != 0 ||
        here.st_dev != named.st_dev || here.st_ino != named.st_ino) {
        unlinkat(r->tmp_fd, "lock", 0);     /* the lock this process made in the finished folder */
        release(r);
        *start = RESULTS_FINISHED;
        return 0;
    }

    /* --force starts over: a checkpoint is only read with --resume and without it. */
    rc = resume && !force ? checkpoint_load(ck, r->tmp_fd, r->tmp, err, errlen) : 1;
    if (rc == 0) {
        *start = RESULTS_RESUMED;   /* nothing is cut back until results_resume */
        return 0;
    }
    if (rc != 1) { release(r); return rc; }   /* a damaged checkpoint: say so, keep it */

    /* A fresh start: whatever a dead process left here goes. */
    *start = RESULTS_FRESH;
    for (size_t i = 0; i < N_RUN_FILES; i++)
        if (strcmp(run_files[i], "lock")) unlinkat(r->tmp_fd, run_files[i], 0);
    if (!(r->curve = create_in(r, "curve.csv", err, errlen)) ||
        !(r->rounds = create_in(r, "rounds.jsonl", err, errlen)) ||
        !(r->timings = create_in(r, "timings.csv", err, errlen))) {
        results_abort(r);
        return ALSIM_RUNTIME;
    }
    fprintf(r->curve, "round,n_labeled,accuracy,macro_f1,nll,train_loss,train_steps,train_samples,train_flops%s\n",
            val ? ",val_accuracy,val_macro_f1,val_nll" : "");
    fprintf(r->timings, "round,train_s,score_s,select_s,eval_s\n");
    return 0;
}

int results_resume(Results *r, const Checkpoint *ck, char *err, size_t errlen) {
    if (!(r->curve = reopen_at(r, "curve.csv", ck->off_curve, err, errlen)) ||
        !(r->rounds = reopen_at(r, "rounds.jsonl", ck->off_rounds, err, errlen)) ||
        !(r->timings = reopen_at(r, "timings.csv", ck->off_timings, err, errlen))) {
        results_suspend(r);
        return ALSIM_RUNTIME;
    }
    return 0;
}

int results_write_config(Results *r, const Config *c, uint64_t seed, const char *backend,
                         const Dataset *pool, const Dataset *test, char *err, size_t errlen) {
    char hex[65];
    const char *lm = model_folder(c);      /* a language model: its folder */
    if (lm && bert_model_hash(hex, lm, err, errlen)) return ALSIM_BAD_INPUT;
    FILE *f = create_in(r, "config.json", err, errlen);
    if (!f) return ALSIM_RUNTIME;
    JsonW w;
    jw_init(&w, f, 1);
    jw_object(&w);
    jw_key(&w, "alsim"); jw_str(&w, ALSIM_VERSION);
    jw_key(&w, "git_revision"); jw_str(&w, util_git_revision());
    jw_key(&w, "run_seed"); jw_int(&w, (int64_t)seed);
    jw_key(&w, "backend"); jw_str(&w, backend);
    jw_key(&w, "config");
    jw_object(&w);
    config_write_json(&w, c, CMD_RUN);
    jw_end(&w);
    jw_key(&w, "dataset");
    jw_object(&w);
    jw_key(&w, "name"); jw_str(&w, pool->name);
    jw_key(&w, "sha256"); jw_str(&w, pool->sha256);
    jw_key(&w, "pool_rows"); jw_int(&w, pool->n);
    jw_key(&w, "test_rows"); jw_int(&w, test->n);
    jw_key(&w, "features"); jw_int(&w, pool->d);
    if (pool->image.c) {        /* images: each row's (C, H, W), D = C·H·W */
        jw_key(&w, "image_shape");
        jw_array(&w);
        jw_int(&w, pool->image.c); jw_int(&w, pool->image.h); jw_int(&w, pool->image.w);
        jw_end(&w);
    }
    jw_key(&w, "classes");
    jw_array(&w);
    for (int i = 0; i < pool->k; i++) jw_str(&w, pool->class_names[i]);
    jw_end(&w);
    jw_key(&w, "label");
    if (pool->label) jw_str(&w, pool->label); else jw_null(&w);
    jw_key(&w, "label_from");
    if (pool->label_from) jw_str(&w, pool->label_from); else jw_null(&w);
    jw_key(&w, "dropped_classes");
    jw_array(&w);
    for (int i = 0; i < pool->n_dropped; i++) jw_str(&w, pool->dropped[i]);
    jw_end(&w);
    if (c->val_size) { jw_key(&w, "val_rows"); jw_int(&w, c->val_size); }   /* split off the pool */
    if (c->reward_size) { jw_key(&w, "reward_rows"); jw_int(&w, c->reward_size); }   /* split off the pool too */
    jw_end(&w);
    if (lm) {       /* the language model: its folder and what it holds */
        jw_key(&w, "language_model");
        jw_object(&w);
        jw_key(&w, "folder"); jw_str(&w, lm);
        jw_key(&w, "sha256"); jw_str(&w, hex);  /* of config.json's bytes, then model.safetensors' */
        jw_end(&w);
    }
    jw_key(&w, "versions");
    jw_object(&w);
    jw_key(&w, "gsl"); jw_str(&w, GSL_VERSION);
    jw_key(&w, "cjson"); jw_str(&w, cJSON_Version());
    jw_key(&w, "openblas"); jw_str(&w, openblas_get_config());
    /* sgemm's rounding depends on how many threads split it: same count, same bits. */
    jw_key(&w, "openblas_threads"); jw_int(&w, openblas_get_num_threads());
    jw_end(&w);
    char when[64];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    jw_key(&w, "started"); jw_str(&w, when);
    const Strategy *st = c->full_data ? NULL : strategy_find(c->strategy);
    if (st && (st->needs & NEEDS_LOOKAHEAD)) {  /* said where every reader of the run looks */
        jw_key(&w, "label_lookahead");
        jw_str(&w, "this strategy reads labels it has not queried (it refits the model on each candidate batch and "
                   "keeps the best on the reward split): for measurement only; its refits are outside the budget "
                   "ledger (rounds.jsonl: lookahead)");
    }
    jw_end(&w);
    jw_finish(&w);
    if (fclose(f) != 0) { snprintf(err, errlen, "%s/config.json: write failed", r->tmp); return ALSIM_RUNTIME; }
    return 0;
}

void results_round(Results *r, const RoundRecord *rec) {
    char a[32], f1[32], nll[32], loss[32], flops[32];
    fmt_double(a, rec->test.accuracy);
    fmt_double(f1, rec->test.macro_f1);
    fmt_double(nll, rec->test.nll);
    fmt_double(loss, rec->train_loss);
    fmt_double(flops, rec->ledger.budget.flops);
    fprintf(r->curve, "%d,%d,%s,%s,%s,%s,%d,%ld,%s", rec->round, rec->n_labeled, a, f1, nll, loss,
            rec->ledger.budget.steps, rec->ledger.budget.samples, flops);
    if (rec->has_val) {
        fmt_double(a, rec->val.accuracy);
        fmt_double(f1, rec->val.macro_f1);
        fmt_double(nll, rec->val.nll);
        fprintf(r->curve, ",%s,%s,%s", a, f1, nll);
    }
    fputc('\n', r->curve);

    JsonW w;
    jw_init(&w, r->rounds, 0);
    jw_object(&w);
    jw_key(&w, "round"); jw_int(&w, rec->round);
    jw_key(&w, "n_labeled"); jw_int(&w, rec->n_labeled);
    jw_key(&w, "budget");
    jw_object(&w);
    jw_key(&w, "steps"); jw_int(&w, rec->ledger.budget.steps);
    jw_key(&w, "samples"); jw_int(&w, rec->ledger.budget.samples);
    jw_key(&w, "flops"); jw_num(&w, rec->ledger.budget.flops);
    if (rec->ledger.spent.converged >= 0) {     /* a model fitted to convergence: what it used */
        jw_key(&w, "steps_used"); jw_int(&w, rec->ledger.spent.steps);
        jw_key(&w, "flops_used"); jw_num(&w, rec->ledger.spent.flops);
        jw_key(&w, "converged"); jw_bool(&w, rec->ledger.spent.converged);
    }
    jw_end(&w);
    jw_key(&w, "class_counts");
    jw_array(&w);
    for (int i = 0; i < rec->k; i++) jw_int(&w, rec->class_counts[i]);
    jw_end(&w);
    if (rec->f1) {
        jw_key(&w, "f1");
        jw_array(&w);
        for (int i = 0; i < rec->k; i++) jw_num(&w, rec->f1[i]);
        jw_end(&w);
    }
    if (rec->initial) {
        jw_key(&w, "initial");
        jw_array(&w);
        for (int i = 0; i < rec->n_initial; i++) jw_int(&w, rec->initial[i]);
        jw_end(&w);
    }
    if (rec->subset) {      /* --pool-subset: the rows scored, in the order drawn */
        jw_key(&w, "subset");
        jw_array(&w);
        for (int i = 0; i < rec->n_subset; i++) jw_int(&w, rec->subset[i]);
        jw_end(&w);
    }
    jw_key(&w, "picked");
    jw_array(&w);
    for (int i = 0; i < rec->n_picked; i++) jw_int(&w, rec->picked[i]);
    jw_end(&w);
    jw_key(&w, "picked_labels");
    jw_array(&w);
    for (int i = 0; i < rec->n_picked; i++) jw_int(&w, rec->picked_labels[i]);
    jw_end(&w);
    jw_key(&w, "queries"); jw_int(&w, rec->queries);
    if (rec->has_val) {
        jw_key(&w, "val");
        jw_object(&w);
        jw_key(&w, "accuracy"); jw_num(&w, rec->val.accuracy);
        jw_key(&w, "macro_f1"); jw_num(&w, rec->val.macro_f1);
        jw_key(&w, "nll"); jw_num(&w, rec->val.nll);
        jw_end(&w);
    }
    if (rec->lookahead) {   /* label look-ahead: the candidates, their refits and their cost */
        const Lookahead *la = rec->lookahead;
        jw_key(&w, "lookahead");
        jw_object(&w);
        jw_key(&w, "reward_accuracy"); jw_num(&w, la->base_acc);
        jw_key(&w, "reward_nll"); jw_num(&w, la->base_nll);
        jw_key(&w, "candidates");
        jw_array(&w);
        for (int i = 0; i < la->n; i++) {
            jw_object(&w);
            jw_key(&w, "name"); jw_str(&w, la->name[i]);
            jw_key(&w, "accuracy"); jw_num(&w, la->acc[i]);
            jw_key(&w, "nll"); jw_num(&w, la->nll[i]);
            jw_key(&w, "same_as");
            if (la->same_as[i] >= 0) jw_str(&w, la->name[la->same_as[i]]); else jw_null(&w);
            jw_end(&w);
        }
        jw_end(&w);
        jw_key(&w, "chosen");
        if (la->chosen >= 0) jw_str(&w, la->name[la->chosen]); else jw_null(&w);
        jw_key(&w, "refits"); jw_int(&w, rec->lookahead_fits);
        jw_key(&w, "refit_steps"); jw_int(&w, rec->lookahead_steps);
        jw_key(&w, "refit_flops"); jw_num(&w, rec->lookahead_flops);
        jw_end(&w);
    }
    jw_end(&w);
    jw_finish(&w);

    fprintf(r->timings, "%d,%.6f,%.6f,%.6f,%.6f\n", rec->round, rec->ledger.train_s,
            rec->ledger.score_s, rec->ledger.select_s, rec->ledger.eval_s);
}

/* fflush + fsync + fclose; 0 or -1. */
static int close_synced(FILE **f) {
    if (!*f) return 0;
    int bad = fflush(*f) != 0 || fsync(fileno(*f)) != 0;
    bad |= fclose(*f) != 0;
    *f = NULL;
    return bad ? -1 : 0;
}

/* Moves the finished partial folder to OUT/<run-id>. With force, a finished run of the same
 * id there is swapped out whole (renameat2 RENAME_EXCHANGE: never a moment without a run
 * folder) and then removed, when it is a real folder holding run files only. 0, or 3. */
static int move_into_place(Results *r, char *err, size_t errlen) {
    char pname[300];
    partial_name(pname, r);
    int old = open_dir_at(r->root_fd, r->id);
    if (old < 0 && errno != ENOENT) {
        snprintf(err, errlen, "%s: cannot replace it: %s", r->dir,
                 errno == ELOOP || errno == ENOTDIR ? "not a run folder (a symbolic link or a file)" : strerror(errno));
        return ALSIM_RUNTIME;
    }
    if (old >= 0) {
        int rc = r->force ? only_run_files(old, r->dir, err, errlen) : 0;
        close(old);
        if (!r->force) {
            snprintf(err, errlen, "%s: another process finished this run meanwhile; this one is discarded", r->dir);
            return ALSIM_RUNTIME;
        }
        if (rc) return ALSIM_RUNTIME;
        if (renameat2(r->root_fd, pname, r->root_fd, r->id, RENAME_EXCHANGE) == 0) {
            remove_run_dir_at(r->root_fd, pname);   /* the replaced run, now under the partial name */
            return 0;
        }
        if (errno != EINVAL && errno != ENOSYS) {
            snprintf(err, errlen, "%s: cannot replace it (--force): %s", r->dir, strerror(errno));
            return ALSIM_RUNTIME;
        }
        if (remove_run_dir_at(r->root_fd, r->id) != 0) {  /* a file system without exchange */
            snprintf(err, errlen, "%s: cannot replace it (--force): %s", r->dir, strerror(errno));
            return ALSIM_RUNTIME;
        }
    }
    int moved = renameat2(r->root_fd, pname, r->root_fd, r->id, RENAME_NOREPLACE);
    if (moved != 0 && (errno == EINVAL || errno == ENOSYS)) moved = renameat(r->root_fd, pname, r->root_fd, r->id);
    if (moved != 0) {
        snprintf(err, errlen, "%s: cannot move the finished run into place: %s", r->dir, strerror(errno));
        return ALSIM_RUNTIME;
    }
    return 0;
}

int results_finish(Results *r, const Summary *s, char *err, size_t errlen) {
    FILE *f = create_in(r, "summary.json", err, errlen);
    if (!f) { results_suspend(r); return ALSIM_RUNTIME; }
    JsonW w;
    jw_init(&w, f, 1);
    jw_object(&w);
    jw_key(&w, "status"); jw_str(&w, s->status);
    jw_key(&w, "rounds_done"); jw_int(&w, s->rounds_done);
    jw_key(&w, "aulc"); jw_num(&w, s->aulc);
    jw_key(&w, "final_accuracy"); jw_num(&w, s->final.accuracy);
    jw_key(&w, "final_macro_f1"); jw_num(&w, s->final.macro_f1);
    jw_key(&w, "final_nll"); jw_num(&w, s->final.nll);
    jw_key(&w, "final_labeled"); jw_int(&w, s->final_labeled);
    jw_key(&w, "target");
    if (s->target > 0) jw_num(&w, s->target); else jw_null(&w);
    jw_key(&w, "labels_to_target");
    if (s->target > 0 && s->labels_to_target >= 0) jw_num(&w, s->labels_to_target); else jw_null(&w);
    jw_key(&w, "queries"); jw_int(&w, s->queries);
    jw_key(&w, "seconds"); jw_num(&w, s->seconds);
    jw_end(&w);
    jw_finish(&w);
    int bad = close_synced(&f);
    bad |= close_synced(&r->curve) | close_synced(&r->rounds) | close_synced(&r->timings);
    bad |= fsync(r->tmp_fd) != 0;
    if (bad) {
        snprintf(err, errlen, "%s: writing the results failed (disk full?): %s; the run can be resumed (--resume)",
                 r->tmp, strerror(errno));
        results_suspend(r);
        return ALSIM_RUNTIME;
    }
    /* The finished folder holds the results only. The lock goes last, once the folder is in
     * place (through its descriptor): until then no other process can take the run. */
    unlinkat(r->tmp_fd, "checkpoint.bin", 0);
    int rc = move_into_place(r, err, errlen);
    if (rc) { results_abort(r); return rc; }
    unlinkat(r->tmp_fd, "lock", 0);
    fsync(r->tmp_fd);
    fsync(r->root_fd);
    release(r);
    return 0;
}

int results_checkpoint(Results *r, Checkpoint *ck, char *err, size_t errlen) {
    FILE *files[] = {r->curve, r->rounds, r->timings};
    int64_t *offs[] = {&ck->off_curve, &ck->off_rounds, &ck->off_timings};
    for (int i = 0; i < 3; i++) {
        long at;
        if (fflush(files[i]) != 0 || fsync(fileno(files[i])) != 0 || (at = ftell(files[i])) < 0) {
            snprintf(err, errlen, "%s: writing the results failed (disk full?): %s; the run can be resumed (--resume)",
                     r->tmp, strerror(errno));
            return ALSIM_RUNTIME;
        }
        *offs[i] = at;
    }
    return checkpoint_save(r->tmp_fd, r->tmp, ck, err, errlen);
}

void results_suspend(Results *r) { release(r); }

void results_abort(Results *r) {
    if (r->tmp[0] && r->tmp_fd >= 0 && r->root_fd >= 0) {
        char pname[300];
        partial_name(pname, r);
        unlink_run_files(r->tmp_fd);
        unlinkat(r->root_fd, pname, AT_REMOVEDIR);
    }
    release(r);
}
