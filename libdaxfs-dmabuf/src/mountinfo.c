// SPDX-License-Identifier: LGPL-2.1-or-later
/* Parsing /proc/PID/mountinfo lines (proc(5)). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* Copy the next space-separated field, undoing the kernel's \ooo escapes. */
static const char *field(const char *p, char *out, size_t outlen, bool *ok)
{
	size_t n = 0;

	while (*p == ' ')
		p++;
	if (!*p || *p == '\n') {
		*ok = false;
		return p;
	}
	while (*p && *p != ' ' && *p != '\n') {
		char c = *p++;

		if (c == '\\' && p[0] >= '0' && p[0] <= '3' && p[1] >= '0' && p[1] <= '7' &&
		    p[2] >= '0' && p[2] <= '7') {
			c = (char)(((p[0] - '0') << 6) | ((p[1] - '0') << 3) | (p[2] - '0'));
			p += 3;
		}
		if (n + 1 >= outlen) {
			*ok = false;
			return p;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	return p;
}

int daxfs__mountinfo_parse_line(const char *line, struct daxfs_mountinfo *mi)
{
	char tmp[4096], devs[64];
	bool ok = true;
	const char *p = line;
	char *end;
	long v;

	memset(mi, 0, sizeof(*mi));
	p = field(p, tmp, sizeof(tmp), &ok);	/* mount id */
	if (!ok)
		return -EINVAL;
	v = strtol(tmp, &end, 10);
	if (*end || v < 0 || v > 0x7fffffff)
		return -EINVAL;
	mi->mount_id = (int)v;
	p = field(p, tmp, sizeof(tmp), &ok);	/* parent id */
	p = field(p, devs, sizeof(devs), &ok);
	if (!ok || sscanf(devs, "%u:%u", &mi->major, &mi->minor) != 2)
		return -EINVAL;
	p = field(p, mi->root, sizeof(mi->root), &ok);	/* root */
	p = field(p, mi->mountpoint, sizeof(mi->mountpoint), &ok);
	p = field(p, mi->mnt_opts, sizeof(mi->mnt_opts), &ok);
	if (!ok)
		return -EINVAL;
	for (;;) {	/* optional fields up to "-" */
		p = field(p, tmp, sizeof(tmp), &ok);
		if (!ok)
			return -EINVAL;
		if (!strcmp(tmp, "-"))
			break;
	}
	p = field(p, mi->fstype, sizeof(mi->fstype), &ok);
	p = field(p, mi->source, sizeof(mi->source), &ok);
	p = field(p, mi->super_opts, sizeof(mi->super_opts), &ok);
	return ok ? 0 : -EINVAL;
}
