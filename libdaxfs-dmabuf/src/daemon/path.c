// SPDX-License-Identifier: LGPL-2.1-or-later
/* Path checks for daxfs-mountd: lexical form and symlink-free resolution. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "daemon/daemon.h"

int daxfs__path_check_lexical(const char *path, char *why, size_t whylen)
{
	const char *p;
	size_t len;

	if (!path || path[0] != '/') {
		snprintf(why, whylen, "path is not absolute");
		return -EINVAL;
	}
	len = strnlen(path, PATH_MAX);
	if (len >= PATH_MAX) {
		snprintf(why, whylen, "path too long");
		return -ENAMETOOLONG;
	}
	if (len == 1)
		return 0;
	for (p = path + 1; ; ) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n == 0 && slash) {
			snprintf(why, whylen, "empty path component (\"//\")");
			return -EINVAL;
		}
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
			snprintf(why, whylen, "\".\" or \"..\" in path");
			return -EINVAL;
		}
		if (n > NAME_MAX) {
			snprintf(why, whylen, "path component too long");
			return -ENAMETOOLONG;
		}
		if (!slash)
			break;
		p = slash + 1;
	}
	return 0;
}

bool daxfs__path_under(const char *path, const char *prefix)
{
	size_t pl = strlen(prefix);

	if (pl == 1 && prefix[0] == '/')
		return path[0] == '/';
	while (pl > 1 && prefix[pl - 1] == '/')
		pl--;
	if (strncmp(path, prefix, pl))
		return false;
	return path[pl] == '\0' || (path[pl] == '/');
}

int daxfs__open_dir_nofollow(const char *path, char *why, size_t whylen)
{
	char comp[NAME_MAX + 1];
	const char *p;
	int fd, r;

	r = daxfs__path_check_lexical(path, why, whylen);
	if (r)
		return r;
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (p = path + 1; *p; ) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		int nfd;

		if (n == 0)	/* trailing slash */
			break;
		memcpy(comp, p, n);
		comp[n] = '\0';
		nfd = openat(fd, comp, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
		if (nfd < 0) {
			int e = errno;
			struct stat st;

			if (e == ENOTDIR && fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode)) {
				snprintf(why, whylen, "%s: symbolic link in path (component \"%s\")", path, comp);
				e = ELOOP;
			} else {
				snprintf(why, whylen, "%s: component \"%s\": %s", path, comp, strerror(e));
			}
			close(fd);
			return -e;
		}
		close(fd);
		fd = nfd;
		p += n;
		if (*p == '/')
			p++;
	}
	return fd;
}
