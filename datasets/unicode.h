/* unicode — the Unicode facts BERT's basic tokenizer needs, as Python's unicodedata states
 * them (the tables are generated: datasets/gen_unicode.py writes datasets/unicode_tables.inc). */
#ifndef ALSIM_UNICODE_H
#define ALSIM_UNICODE_H

#include <stdint.h>

typedef enum {
    UNI_OTHER = 0,
    UNI_SPACE,      /* " ", \t, \n, \r, or category Zs */
    UNI_CONTROL,    /* a category C* other than \t \n \r */
    UNI_PUNCT,      /* category P*, or an ASCII symbol (33-47, 58-64, 91-96, 123-126) */
    UNI_MARK,       /* category Mn: what stripping accents removes after NFD */
} UniClass;

/* The Unicode version of the tables, e.g. "14.0.0". */
extern const char UNI_VERSION[];

/* cp's class. */
UniClass uni_class(uint32_t cp);

/* out = str.lower() of cp: 1 or 2 code points (returned). */
int uni_lower(uint32_t out[2], uint32_t cp);

/* out = the canonical decomposition (NFD) of cp: 1 to 4 code points (returned); cp itself
 * when it has none. */
int uni_nfd(uint32_t out[4], uint32_t cp);

#endif
