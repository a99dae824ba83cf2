// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: st_parse() on arbitrary bytes as a whole file.  On
 * success every view must lie inside the input and be readable (ASan checks
 * the reads), names and metadata must be C strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct st_file f;
	char err[256];
	size_t i;
	/* a copy of exactly @size bytes so that ASan sees any overrun */
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (st_parse(buf, size, &f, err, sizeof(err)) == 0) {
		for (i = 0; i < f.ntensors; i++) {
			const struct st_tensor *t = &f.tensors[i];
			const uint8_t *p = t->data;

			if (p < buf || p + t->size > buf + size || t->size != t->end - t->begin)
				abort();
			(void)st_crc32(0, p, t->size);
			(void)strlen(t->name);
			(void)st_find(&f, t->name);
		}
		for (i = 0; i < f.nmeta; i++)
			(void)st_meta_get(&f, f.meta[i].key);
		st_free(&f);
	} else if (!err[0]) {
		abort();	/* every failure explains itself */
	}
	free(buf);
	return 0;
}
