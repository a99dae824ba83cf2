// SPDX-License-Identifier: GPL-2.0
/* Linked with -static; driver-mmap runs it from a daxfs mount. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	printf("hello from daxfs%s%s\n", argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
	return argc > 2 && !strcmp(argv[2], "fail") ? 3 : 0;
}
