/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the library-* VM tests (kselftest harness, run by selftests/vm/run);
 * buffers, commands and files come from the test bed's library, selftests/lib/.
 */
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
#include "dxt_dmabuf.h"
#include "dxt_util.h"

/* Is the exporter there?  kind: "heap", "udmabuf", "vgem" (its card into dev). */
static inline bool have_exporter(const char *kind, char *dev, size_t devlen)
{
	int k = dxt_exporter_by_name(kind), fd;

	if (k != DXT_EXP_VGEM)
		return k >= 0 && dxt_exporter_available(k, NULL, 0);
	fd = dxt_vgem_open(dev, devlen);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* CI=true: the matrix promises vgem everywhere, heap and udmabuf beyond 6.1. */
static inline bool exporter_required(const char *kind)
{
	int k = dxt_exporter_by_name(kind);

	return k >= 0 && dxt_exporter_required(k);
}

static inline int alloc_kind(const char *kind, const char *dev, size_t size)
{
	if (!strcmp(kind, "heap"))
		return daxfs_dmabuf_alloc_heap("system", size);
	if (!strcmp(kind, "udmabuf"))
		return daxfs_dmabuf_alloc_udmabuf(size, 0);
	return daxfs_dmabuf_alloc_drm(dev, size);
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
	if (dxt_write_file(p, HELLO, strlen(HELLO)))
		return snprintf(err, errlen, "write %s", p), -1;
	snprintf(p, sizeof(p), "%s/empty", src);
	if (dxt_write_file(p, "", 0))
		return snprintf(err, errlen, "write %s", p), -1;
	snprintf(p, sizeof(p), "%s/sub", src);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/sub/big.bin", src);
	big = malloc(BIG_SIZE);
	for (size_t i = 0; i < BIG_SIZE; i++)
		big[i] = big_byte(i);
	r = dxt_write_file(p, big, BIG_SIZE);
	free(big);
	if (r)
		return snprintf(err, errlen, "write %s", p), -1;
	snprintf(img, imglen, "%s/image.daxfs", dir);
	dxt_build_path(mk, sizeof(mk), "tools/mkdaxfs");
	{
		const char *argv[] = { mk, "-q", "--label=libtest", img, src, NULL };

		r = dxt_run_cmd(argv, out, sizeof(out));
	}
	if (r)
		return snprintf(err, errlen, "mkdaxfs exit %d: %s", r, out), -1;
	return 0;
}

/*
 * In a fixture setup: skip without exporter kind, its card into dev; fail
 * instead under CI=true where the matrix promises it.
 */
#define REQUIRE_KIND(kind, dev) do {					\
	if (!have_exporter((kind), (dev), sizeof(dev))) {		\
		if (exporter_required(kind)) {				\
			TH_LOG("CI=true: kernel %s must provide %s",	\
			       getenv("DAXFS_KERNEL") ?: "?", (kind));	\
			ASSERT_TRUE(false);				\
		}							\
		SKIP(return, "no %s exporter on this kernel", (kind));	\
	}								\
} while (0)

/*
 * In a fixture setup, for a fixture with char dir[], img[] and mnt[]: a new
 * /tmp/PREFIX.XXXXXX in self->dir holding make_image()'s tree and image
 * (self->img) and an empty mnt/ (self->mnt).  WORKDIR_TEARDOWN undoes it.
 */
#define IMAGE_WORKDIR(prefix) do {					\
	char _e[4096];							\
	ASSERT_EQ(0, dxt_make_workdir((prefix), self->dir, sizeof(self->dir)));	\
	ASSERT_EQ(0, make_image(self->dir, self->img, sizeof(self->img), _e, sizeof(_e))) \
		TH_LOG("%s", _e);					\
	snprintf(self->mnt, sizeof(self->mnt), "%s/mnt", self->dir);	\
	ASSERT_EQ(0, mkdir(self->mnt, 0755));				\
} while (0)

#define WORKDIR_TEARDOWN() do {						\
	if (self->dir[0]) {						\
		umount2(self->mnt, MNT_DETACH);				\
		if (dxt_rm_rf(self->dir))				\
			TH_LOG("cleanup of %s failed: %s", self->dir, strerror(errno)); \
	}								\
} while (0)

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

/*
 * Does /proc/iomem have a top-level range named @name that is exactly
 * [@addr, @addr + @size)?
 */
static inline bool iomem_has(const char *name, uint64_t addr, uint64_t size)
{
	char line[256], n[128];
	unsigned long long a, e;
	FILE *f = fopen("/proc/iomem", "re");
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = line[0] != ' ' && sscanf(line, "%llx-%llx : %127[^\n]", &a, &e, n) == 3 &&
			a == addr && e + 1 == addr + size && !strcmp(n, name);
	if (f)
		fclose(f);
	return found;
}

/* Overwrite the superblock's image_size (the CRC is left as it was). */
static inline int set_image_size(const char *img, uint64_t v)
{
	int fd = open(img, O_WRONLY);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = pwrite(fd, &v, sizeof(v), 16);	/* little-endian host, offset of image_size */
	close(fd);
	return w == (ssize_t)sizeof(v) ? 0 : -1;
}

/* mkdaxfs --size=SIZE IMG SRCDIR: a valid image padded with a hole. */
static inline int make_sized_image(const char *src, const char *img, const char *size,
				   char *out, size_t outlen)
{
	char mk[PATH_MAX], sz[64];
	const char *argv[] = { mk, "-q", sz, img, src, NULL };

	dxt_build_path(mk, sizeof(mk), "tools/mkdaxfs");
	snprintf(sz, sizeof(sz), "--size=%s", size);
	return dxt_run_cmd(argv, out, outlen);
}

/* A pipe whose write end a child fills with the first len bytes of path (-1: all), then closes. */
static inline int pipe_from_file(const char *path, off_t len, pid_t *feeder)
{
	int p[2];

	if (pipe(p))
		return -1;
	*feeder = fork();
	if (*feeder == 0) {
		char buf[65536];
		int in = open(path, O_RDONLY);
		off_t done = 0;

		signal(SIGPIPE, SIG_IGN);
		close(p[0]);
		while (in >= 0 && (len < 0 || done < len)) {
			size_t want = len < 0 || len - done > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)(len - done);
			ssize_t n = read(in, buf, want);

			if (n <= 0 || write(p[1], buf, (size_t)n) != n)
				break;
			done += n;
		}
		_exit(0);
	}
	close(p[1]);
	return p[0];
}

/*
 * Run argv (and whatever it forks and execs) under ptrace.  At the first
 * DMA_BUF_IOCTL_SYNC ioctl any of them makes (the start of the copy into
 * the buffer, after the image was validated and the buffer allocated),
 * truncate path to len bytes while they are stopped, then let them run to
 * the end.  Output into out; returns the exit status (-1 on error) and
 * sets *hit when the truncation happened.
 */
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <linux/dma-buf.h>

static inline int run_truncating_at_sync(char *out, size_t outlen, const char *const argv[],
					 const char *path, off_t len, bool *hit)
{
	int p[2], status = 0, rc = -1;
	pid_t pid;

	*hit = false;
	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(126);
		raise(SIGSTOP);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		goto out;
	ptrace(PTRACE_SETOPTIONS, pid, NULL,
	       (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
			      PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL));
	ptrace(PTRACE_SYSCALL, pid, NULL, NULL);
	for (;;) {
		pid_t w = waitpid(-1, &status, __WALL);
		int sig = 0;

		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			if (w == pid) {
				rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
				break;
			}
			continue;
		}
		if (!WIFSTOPPED(status))
			continue;
		if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
			struct user_regs_struct regs;

			if (!*hit && ptrace(PTRACE_GETREGS, w, NULL, &regs) == 0 &&
			    regs.orig_rax == SYS_ioctl && regs.rsi == DMA_BUF_IOCTL_SYNC) {
				*hit = truncate(path, len) == 0;
			}
		} else if (status >> 16) {
			/* a fork, clone or exec event: nothing to pass on */
		} else if (WSTOPSIG(status) != SIGSTOP && WSTOPSIG(status) != SIGTRAP) {
			sig = WSTOPSIG(status);
		}
		ptrace(*hit ? PTRACE_CONT : PTRACE_SYSCALL, w, NULL, (void *)(long)sig);
	}
out:
	dxt_read_fd(p[0], out, outlen);
	close(p[0]);
	return rc;
}

#endif
