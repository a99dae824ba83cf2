// SPDX-License-Identifier: LGPL-2.1-or-later
/* libFuzzer target: mount option strings, mountinfo lines and path checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "daemon/daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct daxfs_parsed_opts o;
	static struct daxfs_mountinfo mi;
	char *s = malloc(size + 1), why[256];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (daxfs__parse_mount_options(s, &o) == 0) {
		if (strnlen(o.kernel, sizeof(o.kernel)) == sizeof(o.kernel) ||
		    strnlen(o.image, sizeof(o.image)) == sizeof(o.image))
			__builtin_trap();
	}
	(void)daxfs__mountinfo_parse_line(s, &mi);
	if (daxfs__path_check_lexical(s, why, sizeof(why)) == 0 && !daxfs__path_under(s, "/"))
		__builtin_trap();
	(void)daxfs__options_allowed(s, "label:ro:foo", why, sizeof(why));
	free(s);
	return 0;
}
