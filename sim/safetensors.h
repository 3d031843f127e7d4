/* safetensors — reads a Hugging Face `model.safetensors` file, for loading pretrained encoders
 * from a local model folder (no network).
 *
 * The format: 8 bytes, the header's length N as a little-endian uint64; N bytes of UTF-8 JSON,
 * an object whose keys are tensor names and whose values are
 *     {"dtype": "F32", "shape": [768, 768], "data_offsets": [BEGIN, END]}
 * (offsets into the byte buffer that follows the header), plus an optional "__metadata__"
 * object of strings; then the byte buffer, each tensor's elements little-endian and row-major.
 * What st_parse checks, refusing with code 2 and one line naming the file, and the tensor or
 * key, and the reason: N fits the file and is at most ST_MAX_HEADER bytes; the JSON is one
 * object (trailing spaces allowed, as writers pad the header); every tensor has a known dtype,
 * at most ST_MAX_DIMS non-negative dimensions and two offsets; END - BEGIN is the shape's
 * element count times the dtype's size (without overflow); the tensors tile the byte buffer
 * exactly, with no hole, overlap or byte past its end; names are unique.
 */
#ifndef ALSIM_SAFETENSORS_H
#define ALSIM_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define ST_MAX_HEADER (100u << 20)  /* bytes: the reference implementation's own limit */
#define ST_MAX_DIMS 8

typedef enum {
    ST_BOOL, ST_U8, ST_I8, ST_I16, ST_U16, ST_F16, ST_BF16, ST_I32, ST_U32, ST_F32, ST_I64,
    ST_U64, ST_F64, ST_DTYPES
} StDtype;

typedef struct {
    char *name;
    StDtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];     /* (ndim) */
    int64_t numel;                  /* product of the shape (1 for ndim 0) */
    const unsigned char *data;      /* (nbytes) its elements, inside the file's bytes */
    size_t nbytes;
} StTensor;

typedef struct {
    int n;
    StTensor *tensors;              /* (n) in the order of their data */
    void *map;                      /* the file mapped by st_open, else NULL */
    size_t map_len;
} SafeTensors;

/* Parses the len bytes at buf (a whole .safetensors file; they must outlive st) into st,
 * whose tensors point into buf. file names the input in messages. Returns 0; 2 (malformed,
 * err says why); or 3 (out of memory), st then empty. */
int st_parse(SafeTensors *st, const unsigned char *buf, size_t len, const char *file, char *err,
             size_t errlen);

/* st_parse of the file at path, mapped read-only. Returns 0, 2 (malformed, or cannot be
 * opened or read) or 3 (out of memory). */
int st_open(SafeTensors *st, const char *path, char *err, size_t errlen);

/* Frees st's table and unmaps its file; accepts an empty st. */
void st_close(SafeTensors *st);

/* The tensor named name, or NULL. */
const StTensor *st_find(const SafeTensors *st, const char *name);

/* The dtype's name as the format spells it ("F32"), and its size in bytes. */
const char *st_dtype_name(StDtype d);
int st_dtype_size(StDtype d);

/* out (t->numel) = the elements of t as floats, from F32, F16 or BF16 (exactly: every F16
 * and BF16 value is a float). Returns 0, or 2 (another dtype; err names file, tensor and
 * dtype). */
int st_to_float(float *out, const StTensor *t, const char *file, char *err, size_t errlen);

#endif
