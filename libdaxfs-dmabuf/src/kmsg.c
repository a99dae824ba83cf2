// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel's reason for a failed mount or import, from the kernel log:
 * mount.c (mount(2), and the fs context when its log is empty) and ctl.c
 * (DAXFS_IOC_IMPORT) mark the log before the attempt and read what daxfs
 * wrote since.  Reading /dev/kmsg needs privilege; without it there is
 * simply no reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

/*
 * Fallback when the module did not put its reason into the context log:
 * the newest "daxfs" record of the kernel log written since
 * daxfs__kmsg_mark() positioned this thread's /dev/kmsg fd at its end (just
 * before the attempt).  Racy against other daxfs mounts at the same moment,
 * hence only a fallback.
 */
static __thread int kmsg_fd = -1;

void daxfs__kmsg_mark(void)
{
	daxfs__kmsg_done();
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
}

void daxfs__kmsg_done(void)
{
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	kmsg_fd = -1;
}

bool daxfs__kmsg_reason(char *out, size_t outlen)
{
	char rec[2048];
	bool found = false;
	ssize_t n;

	if (kmsg_fd < 0)
		return false;
	for (int i = 0; i < 1024; i++) {
		char *text;

		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && (errno == EPIPE || errno == EINTR))
			continue;	/* overwritten records; a signal */
		if (n <= 0)
			break;
		rec[n] = '\0';
		text = strchr(rec, ';');
		if (!text)
			continue;
		text++;
		text[strcspn(text, "\n")] = '\0';
		if (strstr(text, "daxfs")) {
			daxfs__strlcpy(out, text, outlen);
			found = true;
		}
	}
	return found;
}
