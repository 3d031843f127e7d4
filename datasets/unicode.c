/* unicode — the Unicode facts BERT's basic tokenizer needs (contract: unicode.h): lookups in
 * the tables datasets/gen_unicode.py generates into datasets/unicode_tables.inc. */
#include "datasets/unicode.h"

#include <stddef.h>

#include "datasets/unicode_tables.inc"

UniClass uni_class(uint32_t cp) {
    size_t lo = 0, hi = sizeof CLASS / sizeof CLASS[0];
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (cp < CLASS[mid].first) hi = mid;
        else if (cp > CLASS[mid].last) lo = mid + 1;
        else return (UniClass)CLASS[mid].cls;
    }
    return UNI_OTHER;
}

/* The row of table (n rows of w) whose first entry is cp, or NULL. */
static const uint32_t *row(const uint32_t *table, size_t n, size_t w, uint32_t cp) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (table[mid * w] < cp) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && table[lo * w] == cp ? table + lo * w : NULL;
}

int uni_lower(uint32_t out[2], uint32_t cp) {
    const uint32_t *r = row(&LOWER[0][0], sizeof LOWER / sizeof LOWER[0], 3, cp);
    if (!r) {
        out[0] = cp;
        return 1;
    }
    out[0] = r[1];
    out[1] = r[2];
    return r[2] ? 2 : 1;
}

int uni_nfd(uint32_t out[4], uint32_t cp) {
    if (cp >= 0xAC00 && cp <= 0xD7A3) {     // Hangul syllable: L V (T), Unicode 3.12
        const uint32_t s = cp - 0xAC00, t = s % 28;
        out[0] = 0x1100 + s / 588;
        out[1] = 0x1161 + s % 588 / 28;
        if (!t) return 2;
        out[2] = 0x11A7 + t;
        return 3;
    }
    const uint32_t *r = row(&NFD[0][0], sizeof NFD / sizeof NFD[0], 5, cp);
    if (!r) {
        out[0] = cp;
        return 1;
    }
    int n = 0;
    while (n < 4 && r[1 + n]) out[n] = r[1 + n], n++;
    return n;
}
