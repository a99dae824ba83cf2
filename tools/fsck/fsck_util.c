// SPDX-License-Identifier: GPL-2.0
/*
 * fsck.daxfs: what the checker (fsck.c), the lister (fsck_list.c) and the
 * extractor (fsck_extract.c) share, declared in fsck.h: the program name
 * and verbosity for messages, and name escaping.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "fsck.h"

const char *fsck_prog = "fsck.daxfs";
int fsck_verbose;

void fsck_put_escaped(FILE *f, const unsigned char *s, size_t len,
		      bool header)
{
	static const char cesc[] = "abtnvfr";	/* for bytes 7 .. 13 */
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c >= 7 && c <= 13)
			fprintf(f, "\\%c", cesc[c - 7]);
		else if (c == '\\' || c == (header ? ':' : ' '))
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\%03o", c);
		else
			putc(c, f);
	}
}
