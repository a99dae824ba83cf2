// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: the parsers behind the available-memory check,
 * /proc/meminfo values, /proc/self/cgroup lines and cgroup limit files.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), path[256];
	uint64_t v;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (daxfs__meminfo_value(s, "MemAvailable", &v) == 0 && !strstr(s, "MemAvailable:"))
		__builtin_trap();
	(void)daxfs__meminfo_value(s, "HugePages_Free", &v);
	memset(path, 'x', sizeof(path));
	if (daxfs__cgroup_path(s, NULL, path, sizeof(path)) == 0 &&
	    (path[0] != '/' || !memchr(path, 0, sizeof(path))))
		__builtin_trap();
	if (daxfs__cgroup_path(s, "memory", path, sizeof(path)) == 0 &&
	    (path[0] != '/' || !memchr(path, 0, sizeof(path))))
		__builtin_trap();
	if (daxfs__cgroup_number(s, &v) == 0 && v == UINT64_MAX && !strstr(s, "max") &&
	    !strstr(s, "18446744073709551615"))
		__builtin_trap();
	free(s);
	return 0;
}
