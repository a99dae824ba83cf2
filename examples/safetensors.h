/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A bounds-checked reader of the safetensors format, for zero-copy loading.
 *
 * A safetensors file is: an 8-byte little-endian header length N, N bytes of
 * JSON, then the data.  The JSON is an object whose keys are tensor names
 * and whose values are {"dtype": STR, "shape": [INT...], "data_offsets":
 * [BEGIN, END]} with offsets relative to the first byte after the header;
 * the optional key "__metadata__" maps strings to strings.
 *
 * st_parse() never reads outside [file, file + len), never trusts a length
 * or an offset it has not checked, and builds views that point into the
 * caller's buffer (normally an mmap of the file): no tensor byte is copied.
 */
#ifndef EXAMPLES_SAFETENSORS_H
#define EXAMPLES_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define ST_MAX_HEADER	(100u << 20)	/* the reference implementation's limit */
#define ST_MAX_DIMS	8
#define ST_MAX_DEPTH	16		/* nesting depth of skipped values */
#define ST_MAX_TENSORS	(1u << 20)

enum st_dtype {
	ST_BOOL, ST_U8, ST_I8, ST_F8_E5M2, ST_F8_E4M3, ST_I16, ST_U16, ST_F16,
	ST_BF16, ST_I32, ST_U32, ST_F32, ST_I64, ST_U64, ST_F64, ST_NDTYPES
};

struct st_tensor {
	char *name;			/* decoded, NUL-terminated (heap) */
	enum st_dtype dtype;
	unsigned int ndim;
	uint64_t shape[ST_MAX_DIMS];
	uint64_t nelem;
	uint64_t begin, end;		/* data_offsets, relative to data */
	const void *data;		/* view: points into the caller's buffer */
	uint64_t size;			/* end - begin */
};

struct st_meta {
	char *key, *value;		/* decoded, NUL-terminated (heap) */
};

struct st_file {
	const uint8_t *base;		/* the whole file */
	uint64_t len;
	uint64_t header_len;		/* N */
	const uint8_t *data;		/* base + 8 + N */
	uint64_t data_len;
	struct st_tensor *tensors;	/* in file (data offset) order */
	size_t ntensors;
	struct st_meta *meta;
	size_t nmeta;
};

/*
 * Parse the file at @buf of @len bytes into @f.  Returns 0, or -1 with a
 * message in @err.  On success free @f with st_free(); on failure @f holds
 * nothing that needs freeing.
 */
int st_parse(const void *buf, uint64_t len, struct st_file *f, char *err, size_t errlen);
void st_free(struct st_file *f);

const char *st_dtype_name(enum st_dtype t);
unsigned int st_dtype_size(enum st_dtype t);
/* The metadata value for @key, or NULL. */
const char *st_meta_get(const struct st_file *f, const char *key);
const struct st_tensor *st_find(const struct st_file *f, const char *name);

/* CRC-32 with the zlib/IEEE polynomial (reflected 0xEDB88320), as zlib.crc32(). */
uint32_t st_crc32(uint32_t crc, const void *buf, size_t len);

#endif
