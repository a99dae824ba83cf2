// SPDX-License-Identifier: LGPL-2.1-or-later
/* Thread-local last error message and the version string. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static __thread char last_error[512];

int daxfs__fail(int err, const char *fmt, ...)
{
	va_list ap;

	if (err < 0)
		err = -err;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return -err;
}

void daxfs__clear_error(void)
{
	last_error[0] = '\0';
}

DX_PUBLIC const char *daxfs_last_error(void)
{
	return last_error;
}

DX_PUBLIC const char *daxfs_version(void)
{
	return DAXFS_DMABUF_VERSION_STRING;
}
