/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers of the lib-* VM tests (kselftest harness, run by selftests/vm/run). */
#ifndef DAXFS_LIB_VMTEST_H
#define DAXFS_LIB_VMTEST_H

#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "daxfs-dmabuf.h"

static inline const char *src_dir(void)
{
	const char *s = getenv("DAXFS_SRC");

	return s && *s ? s : BUILD_LIB "/../..";
}

static inline void tool_path(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/build/%s", src_dir(), rel);
}

/* Is the exporter there?  kind: "heap", "udmabuf", "vgem". */
static inline bool have_exporter(const char *kind, char *dev, size_t devlen)
{
	if (!strcmp(kind, "heap"))
		return access("/dev/dma_heap/system", R_OK) == 0;
	if (!strcmp(kind, "udmabuf"))
		return access("/dev/udmabuf", R_OK | W_OK) == 0;
	if (!strcmp(kind, "vgem")) {
		/* Ask each card its driver name (DRM_IOCTL_VERSION). */
		struct { int maj, min, patch; size_t name_len; char *name; size_t date_len;
			 char *date; size_t desc_len; char *desc; } v;
		glob_t g;
		bool found = false;

		if (glob("/dev/dri/card*", 0, NULL, &g))
			return false;
		for (size_t i = 0; i < g.gl_pathc && !found; i++) {
			char name[32] = "";
			int fd = open(g.gl_pathv[i], O_RDWR | O_CLOEXEC);

			if (fd < 0)
				continue;
			memset(&v, 0, sizeof(v));
			v.name = name;
			v.name_len = sizeof(name) - 1;
			if (ioctl(fd, _IOWR('d', 0x00, v), &v) == 0 && !strcmp(name, "vgem")) {
				snprintf(dev, devlen, "%s", g.gl_pathv[i]);
				found = true;
			}
			close(fd);
		}
		globfree(&g);
		return found;
	}
	return false;
}

/* CI=true: the matrix promises vgem everywhere, heap and udmabuf beyond 6.1. */
static inline bool exporter_required(const char *kind)
{
	const char *ci = getenv("CI"), *k = getenv("DAXFS_KERNEL");

	if (!ci || strcmp(ci, "true"))
		return false;
	if (!strcmp(kind, "vgem"))
		return true;
	return !(k && !strcmp(k, "bookworm"));
}

static inline int alloc_kind(const char *kind, const char *dev, size_t size)
{
	if (!strcmp(kind, "heap"))
		return daxfs_dmabuf_alloc_heap("system", size);
	if (!strcmp(kind, "udmabuf"))
		return daxfs_dmabuf_alloc_udmabuf(size, 0);
	return daxfs_dmabuf_alloc_drm(dev, size);
}

/* Run argv; capture stdout+stderr into out; return the exit status or -1. */
static inline int run(char *out, size_t outlen, const char *const argv[])
{
	int p[2], status;
	size_t got = 0;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], out + got, outlen - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == outlen - 1)
			break;
	}
	out[got] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static inline int rm_tree_cb(const char *p, const struct stat *st, int type, struct FTW *f)
{
	(void)st; (void)f;
	return (type == FTW_DP ? rmdir(p) : unlink(p)) ? -1 : 0;
}

/*
 * rm -rf without a fork: a fork+exec costs up to a second in the debug
 * kernel's guest.  0, or -1 with errno.
 */
static inline int rm_tree(const char *path)
{
	return nftw(path, rm_tree_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static inline int write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ssize_t w;

	if (fd < 0)
		return -errno;
	w = write(fd, p, n);
	close(fd);
	return w == (ssize_t)n ? 0 : -EIO;
}

static inline int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

#define HELLO "hello from a dma-buf\n"
#define BIG_SIZE (3u << 20)

static inline unsigned char big_byte(size_t i)
{
	return (unsigned char)((i * 2654435761u) >> 11);
}

/* A source tree and its image under dir; 0 or -1 with the reason in err. */
static inline int make_image(const char *dir, char *img, size_t imglen, char *err, size_t errlen)
{
	char src[PATH_MAX], p[PATH_MAX], mk[PATH_MAX], out[4096];
	unsigned char *big;
	int r;

	snprintf(src, sizeof(src), "%s/src", dir);
	mkdir(src, 0755);
	snprintf(p, sizeof(p), "%s/hello.txt", src);
	if (write_file(p, HELLO, strlen(HELLO)))
		return snprintf(err, errlen, "write %s", p), -1;
	snprintf(p, sizeof(p), "%s/sub", src);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/sub/big.bin", src);
	big = malloc(BIG_SIZE);
	for (size_t i = 0; i < BIG_SIZE; i++)
		big[i] = big_byte(i);
	r = write_file(p, big, BIG_SIZE);
	free(big);
	if (r)
		return snprintf(err, errlen, "write %s", p), -1;
	snprintf(img, imglen, "%s/image.daxfs", dir);
	tool_path(mk, sizeof(mk), "format/mkdaxfs");
	{
		const char *argv[] = { mk, "-q", "--label=libtest", img, src, NULL };

		r = run(out, sizeof(out), argv);
	}
	if (r)
		return snprintf(err, errlen, "mkdaxfs exit %d: %s", r, out), -1;
	return 0;
}

static inline int check_big(const char *path)
{
	int fd = open(path, O_RDONLY);
	unsigned char *b = malloc(BIG_SIZE);
	ssize_t n;
	int bad = 0;

	if (fd < 0 || !b) {
		free(b);
		return -1;
	}
	n = read(fd, b, BIG_SIZE);
	close(fd);
	if (n != BIG_SIZE)
		bad = 1;
	for (size_t i = 0; !bad && i < BIG_SIZE; i++)
		if (b[i] != big_byte(i))
			bad = 1;
	free(b);
	return bad ? -1 : 0;
}

static inline off_t fsize(const char *p)
{
	struct stat st;

	return stat(p, &st) ? -1 : st.st_size;
}

static inline bool mountinfo_has(const char *mnt, const char *needle)
{
	char line[8192];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	bool found = false;

	while (f && fgets(line, sizeof(line), f)) {
		char pat[PATH_MAX + 4];

		snprintf(pat, sizeof(pat), " %s ", mnt);
		if (strstr(line, pat) && strstr(line, " - daxfs ") && (!needle || strstr(line, needle)))
			found = true;
	}
	if (f)
		fclose(f);
	return found;
}

#endif
