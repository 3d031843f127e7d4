/* loader — private helpers shared by the file loaders (csv.c, svmlight.c, npy.c, arff.c, idx.c).
 *
 * Not part of the dataset API (dataset.h): included only by the loaders, their tests and
 * their fuzzers (tests/fuzz/, through the *_mem entry points at the end). Three pieces:
 *   - LineReader: the text formats read a file (or a memory block) in chunks and hand out one
 *     NUL-terminated, writable line at a time, so a 1 GB CSV never sits in memory whole (peak
 *     memory stays near the parsed data's size) and every parser sees a NUL-bounded string;
 *     it also hashes what it reads (SHA-256), refuses gzip and NUL bytes, skips a UTF-8 BOM.
 *   - LabelMap: label text -> class id, with the class names kept. Labels that are decimal
 *     numbers are compared as numbers, exactly (not as doubles): "1", "+1", "01", "1.0",
 *     "1e0" and "10e-1" are one class, named by the number's canonical spelling, as
 *     JavaScript writes numbers but on the exact digits ("1", "0.5", "-2.25", "1e+21",
 *     "2.5e-7"; see labels_id). Final class order: sorted, numbers first by value, then other
 *     labels by their bytes (so shuffling the rows never changes the ids or the names, and a
 *     test file maps onto the training classes by name: its "1.0" is the training "1").
 *   - one-line errors: "PATH: line L: reason" (text) or "PATH: byte B: reason" (binary), return
 *     2 for bad input and 3 for out of memory. Nothing here exits.
 * Sources: a regular file, or a pipe (`<(zcat data.csv.gz)`, a FIFO) read up to LD_PIPE_MAX
 * bytes; devices (/dev/zero, a terminal) are refused. Binary formats (npy, IDX) read their
 * header first (LdBinary) and check it against the file's size and the machine's memory
 * before reading the body. A SIGINT or SIGTERM (sim/signals.h) stops any read between chunks
 * and while it waits on a pipe: the loader returns ALSIM_SIGNALLED + the signal's number with
 * "stopped by SIGTERM while loading PATH".
 */
#ifndef ALSIM_LOADER_H
#define ALSIM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "datasets/dataset.h"
#include "datasets/sha256.h"

#define LD_MAX_CLASSES 65536     /* more distinct labels than this: surely not a class column */
#define LD_NUM_MAX 64            /* a label longer than this is text, even when all digits */

/* The largest feature magnitude alsim loads. The learner trains in float32 and Adam squares
 * each gradient, a feature times an error of order 1: past sqrt(FLT_MAX) ~ 1.8e19 the square
 * is infinite and the weight silently stops learning (3e38 features gave a "finite" loss of
 * 5.9e37). 1e18 keeps a factor of ~300 below that for sums and hidden layers, and refuses
 * the usual missing-value markers (1e20, 1e30, FLT_MAX, INT64_MAX) with a message. */
#define LD_MAX_FEATURE 1e18

#define LD_MAX_LINE (1u << 28)          /* bytes in one text line: 256 MiB (~25M fields) */
#define LD_PIPE_MAX (1ull << 34)        /* bytes read from a pipe, which cannot be sized: 16 GiB */

/* Formats err like snprintf and returns code. */
int ld_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Copies up to 40 bytes of s (n) into out (out_len >= 48) for a message: bytes outside
 * printable ASCII become '?' (keeps messages on one line), "..." marks a cut. Returns out. */
char *ld_quote(char *out, size_t out_len, const char *s, size_t n);

/* 1 when s (n bytes) is valid UTF-8 (no overlong forms, surrogates or code points > 10FFFF). */
int ld_utf8_valid(const char *s, size_t n);

/* Parses s (n bytes, NUL-terminated, no surrounding spaces) as a finite float32 with strtof
 * (C locale). Returns 0, 1 not a number (or empty), 2 NaN or infinite, 3 beyond float32,
 * 4 beyond +-LD_MAX_FEATURE (*out is set). */
int ld_parse_float(float *out, const char *s, size_t n);

/* The words for a nonzero ld_parse_float result, e.g. "is not a finite number". */
const char *ld_float_error(int code);

/* Physical memory in bytes (SIZE_MAX when unknown): a declared shape needing more is refused
 * up front (exit 3), and no growing array of a loader may take more than half of it. */
size_t ld_phys_bytes(void);

/* Writes "N bytes (X.Y GiB)" for n into out (len >= 48). Returns out. */
char *ld_bytes_text(char *out, size_t len, double n);

/* The status and message of a pending stop request (SIGINT/SIGTERM): ALSIM_SIGNALLED + the
 * signal with "stopped by SIG... while loading PATH" in err, or 0 when none is pending. */
int ld_stopped(const char *path, char *err, size_t errlen);

/* The first name given twice among names (n, NUL-terminated; empty names are skipped):
 * *first < *second their indices, the second occurrence as early as any. Returns 1 found,
 * 0 none, -2 out of memory. */
int ld_duplicate_name(int *first, int *second, char *const *names /*(n)*/, int n);

/* Returns p, or p moved to a block of at least need elements of esize bytes (capacity *cap,
 * in elements, grown by half again), or NULL when out of memory or when the block would take
 * more than half of ld_phys_bytes() (p and *cap untouched). */
void *ld_grow(void *p, size_t *cap, size_t need, size_t esize);

/* The file name after the last '/'. */
const char *ld_basename(const char *path);

/* Reads a binary file whole: *buf (malloc'd, *len bytes, one NUL byte after them) and the
 * hex SHA-256 of its content into sha (NULL: not hashed). Returns 0, 2 (cannot open, a folder
 * or device, read error), 3 (larger than memory, a pipe past LD_PIPE_MAX) or a stop. */
int ld_read_file(uint8_t **buf, size_t *len, char sha[65], const char *path,
                 char *err, size_t errlen);

/* ---- binary files, header first ---- */

typedef struct {
    const char *path;       /* for messages */
    void *fp;               /* FILE * */
    long long size;         /* from fstat; -1 for a pipe (known only at its end) */
    uint8_t *buf;           /* (len) the bytes read so far, a NUL byte after them */
    size_t len, cap;
    int eof;                /* buf holds the whole file */
} LdBinary;

/* Opens path (a regular file or a pipe; folders and devices are refused) and reads its first
 * head bytes, or all of it when shorter, into b->buf. Returns 0, 2, 3 or a stop. */
int ld_bin_open(LdBinary *b, const char *path, size_t head, char *err, size_t errlen);

/* The file's length when known (a regular file, or a pipe read to its end), else SIZE_MAX. */
size_t ld_bin_size(const LdBinary *b);

/* Reads on until b->buf holds total bytes and the file is seen to end there, or more: at most
 * total + 1 bytes are read (SIZE_MAX: to the end), so a pipe that goes on past what its header
 * declares is not read further (b->eof stays 0). A regular file larger than total bytes is
 * not read past total + 1 either. Returns 0, 2, 3 or a stop. */
int ld_bin_read(LdBinary *b, size_t total, char *err, size_t errlen);

/* Closes the file and frees the buffer (unless taken: set b->buf to NULL first). */
void ld_bin_close(LdBinary *b);

/* ---- LineReader ---- */

typedef struct {
    const char *path;       /* for messages */
    void *fp;               /* FILE *, or NULL when reading from mem */
    const char *mem;        /* memory source (mem_len bytes), when fp is NULL */
    size_t mem_len, mem_pos;
    char *buf;              /* (cap + 1) chunks of the source; [pos, len) not yet handed out */
    size_t cap, len, pos;
    unsigned long long total;   /* bytes read from the source */
    int pipe;               /* the source is a pipe: LD_PIPE_MAX applies */
    long line;              /* number of the line last handed out, 1-based */
    int eof, started;
    Sha256 sha;
} LineReader;

/* Opens path for reading lines. Returns 0, 2 (cannot open, a folder or device) or 3. Reading
 * stops with an error at a line of LD_MAX_LINE bytes, past LD_PIPE_MAX bytes of a pipe (3),
 * at a NUL byte (2) and on a stop request. */
int lr_open(LineReader *r, const char *path, char *err, size_t errlen);

/* Reads lines from data (len bytes, not NUL-terminated, not copied: keep it alive); name is
 * used in messages. Reads it in small chunks on purpose, so the fuzzers exercise the
 * refilling and growing that large files go through. */
void lr_open_mem(LineReader *r, const char *name, const void *data, size_t len);

/* The next line: *line (*n bytes, writable, NUL-terminated where the newline was; a '\r'
 * before it is dropped). Returns 1, 0 at the end, or 2/3 with err set (read error, a NUL
 * byte, gzip data, out of memory). */
int lr_next(LineReader *r, char **line, size_t *n, char *err, size_t errlen);

/* Reads to the end (hashing) and writes the hex SHA-256 of everything read. Returns 0/2/3. */
int lr_finish(LineReader *r, char sha[65], char *err, size_t errlen);

void lr_close(LineReader *r);

/* Formats "PATH: line L: " + fmt into err and returns code; lr_fail: L is the line last read. */
int lr_fail_at(const LineReader *r, long line, char *err, size_t errlen, int code,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));
#define lr_fail(r, ...) lr_fail_at((r), (r)->line, __VA_ARGS__)

/* Splits the next field off *p (in a writable NUL-terminated line), delimiter delim. Spaces
 * and tabs around a field are dropped (tabs only when delim is not a tab). Quoting: arff 0 is
 * CSV's ("..." may hold delimiters, "" is a quote), arff 1 is ARFF's ('...' or "...", a
 * backslash escapes the next character). *field (*flen bytes) is the content, unescaped and
 * NUL-terminated in place; *p moves past the delimiter, or to NULL after the last field.
 * Returns 0, or -1 for an unterminated quote or text after a closing quote. */
int ld_next_field(char **p, char delim, int arff, char **field, size_t *flen);

/* The fields of one line (pointers into it), for CSV and ARFF rows; a zeroed struct is empty. */
typedef struct {
    char **f;               /* (n) field texts, NUL-terminated */
    size_t *len;            /* (n) */
    int n, cap;
} LdFields;

/* Splits line into fs with ld_next_field; at_most > 0: stops after at_most + 1 fields (enough
 * to tell a row is too long). Returns 0, -1 for a bad quote, -2 out of memory. */
int ld_split(LdFields *fs, char *line, char delim, int arff, int at_most);
void ld_fields_free(LdFields *fs);

/* ---- LabelMap ---- */

typedef struct {
    char **names;           /* (n) label texts by id */
    int n, cap;
    int32_t *slots;         /* (nslots) open addressing on the text: id + 1, 0 = empty */
    size_t nslots;
    int fixed;              /* 1: lookups only; an unknown label is not added */
} LabelMap;

/* The id of label s (len bytes), adding it when new and the map is not fixed. A number
 * ([+-] digits [. digits] [e|E [+-] digits], up to LD_NUM_MAX bytes and a 6-digit exponent;
 * no hex, inf or nan) is looked up and kept under its canonical spelling: integers in full up
 * to 21 digits, other values from 1e-6 up as plain decimals without trailing zeros, the rest
 * as D[.DDD]e+N / e-N; zero is "0" whatever its sign. Returns the id, -1 unknown (fixed map),
 * -2 out of memory, -3 more than LD_MAX_CLASSES labels, -4 not valid UTF-8, -5 empty. */
int labels_id(LabelMap *m, const char *s, size_t len);

/* Sorts the classes (numbers by value first, then the rest by bytes), renumbers y (n) to
 * match, and fixes the map. Returns 0 or -2 (out of memory). */
int labels_sort(LabelMap *m, int32_t *y /*(n)*/, size_t n);

/* Copies the class names into ds (ds->k = m->n). Returns 0 or 3. */
int labels_to_dataset(Dataset *ds, const LabelMap *m, char *err, size_t errlen);

/* Turns a labels_id failure (< 0) into a message on line `line` of r. Returns 2 or 3. */
int labels_fail(const LineReader *r, long line, int id, const char *label, size_t len,
                char *err, size_t errlen);

void labels_free(LabelMap *m);

/* ---- text files: one training file, an optional test file ---- */

/* Parses every row of r into ds (n, d, x or CSR, y as ids in classes); ctx is the format's
 * state, shared by the training and the test file (the test file sees what the training file
 * set). is_test: classes is fixed, the labels must be among the training ones. */
typedef int (*TextParser)(Dataset *ds, LineReader *r, LabelMap *classes, void *ctx,
                          int is_test, char *err, size_t errlen);

/* Loads path into train with parse, and test_path (NULL: none) into test: the training
 * labels define the classes (sorted, unless parse fixed the map itself, as ARFF does), the
 * test labels must be among them. Both get the class names, name (path's file name) and
 * sha256 (ld_hash_files of the one or two files). Returns 0/2/3; on failure both are
 * zeroed. A dataset needs at least 2 classes. */
int ld_load_text(Dataset *train, Dataset *test, const char *path, const char *test_path,
                 TextParser parse, void *ctx, char *err, size_t errlen);

/* Parses a text file held in memory (the fuzzers' entry point): what ld_load_text does for
 * one file. */
int ld_parse_text_mem(Dataset *ds, const char *name, const void *data, size_t len,
                      TextParser parse, void *ctx, char *err, size_t errlen);

/* The hash of a dataset made of n files with hex hashes h (n): h[0] when n is 1, else the hex
 * SHA-256 of the text "H1\nH2\n...", the way dataset_open_idx hashes its files. */
void ld_hash_files(char out[65], const char *const *h /*(n)*/, int n);

/* ---- memory entry points of each parser (for tests/fuzz/) ----
 * Each parses one file held in memory (data, len bytes) with the same code, checks and
 * messages (name standing for the path) as its file loader, and returns 0/2/3 as it does;
 * label: as DatasetOptions.label (NULL: the format's default). */
int csv_parse_mem(Dataset *ds, const char *name, const void *data, size_t len,
                  const char *label, char *err, size_t errlen);
/* The CSV parser with a text column (dataset_load_csv_text): token rows of max_tokens (2..
 * DATASET_MAX_TOKENS) tokenized by wp. */
int csv_text_parse_mem(Dataset *ds, const char *name, const void *data, size_t len, const char *label,
                       const char *text_column, const WordPiece *wp, int max_tokens, char *err, size_t errlen);
int svmlight_parse_mem(Dataset *ds, const char *name, const void *data, size_t len,
                       char *err, size_t errlen);
int arff_parse_mem(Dataset *ds, const char *name, const void *data, size_t len,
                   const char *label, char *err, size_t errlen);
/* An .npy file in memory as features: *x (n,d) row-major float32, malloc'd. */
int npy_features_mem(float **x, int *n, int *d, const void *data, size_t len,
                     const char *name, char *err, size_t errlen);
/* An .npy file in memory as labels: *y (n) ids in m (a fresh map, or a fixed one). */
int npy_labels_mem(int32_t **y, int *n, LabelMap *m, const void *data, size_t len,
                   const char *name, char *err, size_t errlen);
/* An IDX file in memory: what idx_load does with a file. */
int idx_load_mem(IdxArray *out, const char *name, const void *data, size_t len,
                 char *err, size_t errlen);

#endif
