/* fuzz_csv — libFuzzer harness for the CSV parser (datasets/csv.c), from memory. The input's
 * size picks the variant, so the seeds (tests/corpus/csv/) stay plain files: comma- or
 * tab-separated, and --label none, 0, -1 or a name; with size & 8, a text column (--text-column
 * 1, 0, -1 or "text", tokenized by tests/fixtures/tiny-bert's vocabulary: run from the
 * repository root) whose rows must be token rows. */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const labels[4] = { NULL, "0", "-1", "label" };
    static const char *const texts[4] = { "1", "0", "-1", "text" };
    static WordPiece wp;
    static int have_wp = -1;
    Dataset ds;
    char err[512];
    const char *name = size & 4 ? "fuzz.tsv" : "fuzz.csv";
    if (have_wp < 0) {
        const WpOptions opt = { .lower = 1, .strip_accents = -1, .chinese = 1 };
        have_wp = wp_open(&wp, "tests/fixtures/tiny-bert/vocab.txt", &opt, err, sizeof err) == 0;
        FUZZ_ASSERT(have_wp);
    }
    if (size & 8) {
        const int max_tokens = 2 + (int)(size >> 4 & 7);
        int rc = csv_text_parse_mem(&ds, name, data, size, size & 3 ? labels[size & 3] : NULL,
                                    texts[size >> 7 & 3], &wp, max_tokens, err, sizeof err);
        fuzz_check(rc, err, &ds);
        if (!rc) {
            FUZZ_ASSERT(ds.text_tokens == max_tokens && ds.d == max_tokens && ds.x);
            for (int i = 0; i < ds.n; i++) {
                const float *row = ds.x + (size_t)i * (size_t)max_tokens;
                int real = 0;
                while (real < max_tokens && row[real] >= 0) {
                    FUZZ_ASSERT(row[real] == (float)(int)row[real] && row[real] < (float)wp.n);
                    real++;
                }
                FUZZ_ASSERT(real >= 2 && row[0] == (float)wp.cls && row[real - 1] == (float)wp.sep);
                for (int j = real; j < max_tokens; j++) FUZZ_ASSERT(row[j] == -1.0f);
            }
        }
    } else {
        int rc = csv_parse_mem(&ds, name, data, size, labels[size & 3], err, sizeof err);
        fuzz_check(rc, err, &ds);
    }
    dataset_free(&ds);
    return 0;
}
