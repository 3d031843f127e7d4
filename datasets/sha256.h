/* sha256 — FIPS 180-4 SHA-256, for dataset verification and content hashes. */
#ifndef ALSIM_SHA256_H
#define ALSIM_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct { uint32_t h[8]; uint64_t len; uint8_t buf[64]; size_t nbuf; } Sha256;

void sha256_init(Sha256 *s);
void sha256_update(Sha256 *s, const void *data, size_t n);
void sha256_final(uint8_t digest[32], Sha256 *s);
/* hex (65 bytes, NUL-terminated) = SHA-256 of data. */
void sha256_hex(char hex[65], const void *data, size_t n);
/* hex of a whole file; returns 0, or -1 when it cannot be read. */
int sha256_file_hex(char hex[65], const char *path);

#endif
