/* results — see results.h. */
#include "sim/results.h"

#include <cblas.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <gsl/gsl_version.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sim/jsonw.h"
#include "sim/util.h"

#define ALSIM_VERSION "0.1.0"

/* The files a run folder may hold: the only ones results_abort and --force remove. */
static const char *const run_files[] = {
    "config.json", "curve.csv", "rounds.jsonl", "timings.csv", "summary.json",
    "checkpoint.bin", "checkpoint.bin.tmp", "lock",
};
enum { N_RUN_FILES = sizeof run_files / sizeof run_files[0] };

void results_run_id(char out[256], const Config *c, const char *dataset_name,
                    const char *backend, uint64_t seed) {
    char ds[64], hash[9];
    snprintf(ds, sizeof ds, "%s", dataset_name);
    for (char *p = ds; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '_'))
            *p = '_';
    for (char *p = ds; *p == '.'; p++) *p = '_';   /* .data.csv: no hidden run folder */
    config_hash(hash, c);
    if (strcmp(backend, "cpu")) {   /* another backend rounds differently: another run */
        uint64_t h = util_fnv1a(strtoull(hash, NULL, 16), backend, strlen(backend));
        snprintf(hash, sizeof hash, "%08x", (uint32_t)h);
    }
    snprintf(out, 256, "%s-%s-%s-seed%llu-%s", ds, c->model, c->full_data ? "full-data" : c->strategy,
             (unsigned long long)seed, hash);
}

/* Removes a run folder holding only run files; -1 when something else is in it. */
static int remove_run_dir(const char *dir) {
    char path[4200];
    for (int i = 0; i < N_RUN_FILES; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, run_files[i]);
        unlink(path);
    }
    return rmdir(dir);
}

static FILE *open_in(const Results *r, const char *name, const char *mode, char *err, size_t errlen) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", r->tmp, name);
    FILE *f = fopen(path, mode);
    if (!f) snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    return f;
}

/* Cuts name back to size bytes and opens it for appending. */
static FILE *reopen_at(const Results *r, const char *name, int64_t size, char *err, size_t errlen) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", r->tmp, name);
    if (truncate(path, (off_t)size) != 0) {
        snprintf(err, errlen, "%s: cannot resume it: %s", path, strerror(errno));
        return NULL;
    }
    return open_in(r, name, "a", err, errlen);
}

/* Takes the partial folder's lock; 0, or 3 when another process holds it. */
static int lock_partial(Results *r, char *err, size_t errlen) {
    char path[4200];
    snprintf(path, sizeof path, "%s/lock", r->tmp);
    r->lock_fd = open(path, O_RDWR | O_CREAT, 0666);
    if (r->lock_fd < 0) {
        snprintf(err, errlen, "%s: cannot create the run's lock: %s", path, strerror(errno));
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

int results_open(Results *r, ResultsStart *start, Checkpoint *ck, const char *out,
                 const char *run_id, int force, int resume, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    memset(ck, 0, sizeof *ck);
    r->force = force;
    r->lock_fd = -1;
    int rc = util_mkdir_p(out, err, errlen);
    if (rc) return rc;
    snprintf(r->dir, sizeof r->dir, "%s/%s", out, run_id);
    snprintf(r->tmp, sizeof r->tmp, "%s/.partial-%s", out, run_id);
    struct stat st;
    if (!force && stat(r->dir, &st) == 0) {
        *start = RESULTS_FINISHED;
        r->tmp[0] = 0;
        return 0;
    }
    if (mkdir(r->tmp, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create the run folder: %s", r->tmp, strerror(errno));
        r->tmp[0] = 0;
        return ALSIM_RUNTIME;
    }
    if ((rc = lock_partial(r, err, errlen))) { r->tmp[0] = 0; return rc; }

    rc = resume ? checkpoint_load(ck, r->tmp, err, errlen) : 1;
    if (rc == 0) {
        *start = RESULTS_RESUMED;
        if (!(r->curve = reopen_at(r, "curve.csv", ck->off_curve, err, errlen)) ||
            !(r->rounds = reopen_at(r, "rounds.jsonl", ck->off_rounds, err, errlen)) ||
            !(r->timings = reopen_at(r, "timings.csv", ck->off_timings, err, errlen))) {
            checkpoint_free(ck);
            results_suspend(r);
            return ALSIM_RUNTIME;
        }
        return 0;
    }
    if (rc != 1) { results_suspend(r); return rc; }   /* a damaged checkpoint: say so, keep it */

    /* A fresh start: whatever a dead process left here goes. */
    *start = RESULTS_FRESH;
    char path[4200];
    for (size_t i = 0; i < N_RUN_FILES; i++) {
        if (!strcmp(run_files[i], "lock")) continue;
        snprintf(path, sizeof path, "%s/%s", r->tmp, run_files[i]);
        unlink(path);
    }
    if (!(r->curve = open_in(r, "curve.csv", "w", err, errlen)) ||
        !(r->rounds = open_in(r, "rounds.jsonl", "w", err, errlen)) ||
        !(r->timings = open_in(r, "timings.csv", "w", err, errlen))) {
        results_abort(r);
        return ALSIM_RUNTIME;
    }
    fprintf(r->curve, "round,n_labeled,accuracy,macro_f1,nll,train_loss,train_steps,train_samples,train_flops\n");
    fprintf(r->timings, "round,train_s,score_s,select_s,eval_s\n");
    return 0;
}

int results_write_config(Results *r, const Config *c, uint64_t seed, const char *backend,
                         const Dataset *pool, const Dataset *test, char *err, size_t errlen) {
    FILE *f = open_in(r, "config.json", "w", err, errlen);
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
    config_write_json(&w, c);
    jw_end(&w);
    jw_key(&w, "dataset");
    jw_object(&w);
    jw_key(&w, "name"); jw_str(&w, pool->name);
    jw_key(&w, "sha256"); jw_str(&w, pool->sha256);
    jw_key(&w, "pool_rows"); jw_int(&w, pool->n);
    jw_key(&w, "test_rows"); jw_int(&w, test->n);
    jw_key(&w, "features"); jw_int(&w, pool->d);
    jw_key(&w, "classes");
    jw_array(&w);
    for (int i = 0; i < pool->k; i++) jw_str(&w, pool->class_names[i]);
    jw_end(&w);
    jw_end(&w);
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
    fprintf(r->curve, "%d,%d,%s,%s,%s,%s,%d,%ld,%s\n", rec->round, rec->n_labeled, a, f1, nll, loss,
            rec->ledger.budget.steps, rec->ledger.budget.samples, flops);

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
    jw_key(&w, "picked");
    jw_array(&w);
    for (int i = 0; i < rec->n_picked; i++) jw_int(&w, rec->picked[i]);
    jw_end(&w);
    jw_key(&w, "picked_labels");
    jw_array(&w);
    for (int i = 0; i < rec->n_picked; i++) jw_int(&w, rec->picked_labels[i]);
    jw_end(&w);
    jw_key(&w, "queries"); jw_int(&w, rec->queries);
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

static int fsync_dir(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int results_finish(Results *r, const Summary *s, char *err, size_t errlen) {
    FILE *f = open_in(r, "summary.json", "w", err, errlen);
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
    bad |= fsync_dir(r->tmp) != 0;
    if (bad) {
        snprintf(err, errlen, "%s: writing the results failed (disk full?): %s; the run can be resumed (--resume)",
                 r->tmp, strerror(errno));
        results_suspend(r);
        return ALSIM_RUNTIME;
    }
    /* The finished folder holds the results only; the lock goes last, just before the move. */
    char path[4200];
    snprintf(path, sizeof path, "%s/checkpoint.bin", r->tmp);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock", r->tmp);
    unlink(path);
    struct stat st;
    if (r->force && stat(r->dir, &st) == 0 && remove_run_dir(r->dir) != 0) {
        snprintf(err, errlen, "%s: cannot replace it (--force): %s", r->dir, strerror(errno));
        results_abort(r);
        return ALSIM_RUNTIME;
    }
    if (rename(r->tmp, r->dir) != 0) {
        snprintf(err, errlen, "%s: cannot move the finished run into place: %s", r->dir, strerror(errno));
        results_abort(r);
        return ALSIM_RUNTIME;
    }
    char *slash = strrchr(r->dir, '/');
    if (slash) { *slash = 0; fsync_dir(r->dir); *slash = '/'; }
    r->tmp[0] = 0;
    if (r->lock_fd >= 0) close(r->lock_fd);
    r->lock_fd = -1;
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
    return checkpoint_save(r->tmp, ck, err, errlen);
}

void results_suspend(Results *r) {
    if (r->curve) fclose(r->curve);
    if (r->rounds) fclose(r->rounds);
    if (r->timings) fclose(r->timings);
    r->curve = r->rounds = r->timings = NULL;
    if (r->lock_fd >= 0) close(r->lock_fd);
    r->lock_fd = -1;
    r->tmp[0] = 0;
}

void results_abort(Results *r) {
    char tmp[sizeof r->tmp];
    memcpy(tmp, r->tmp, sizeof tmp);
    results_suspend(r);
    if (tmp[0]) remove_run_dir(tmp);
}
