// SPDX-License-Identifier: GPL-2.0
/*
 * smoke-dmabuf: the dma-buf exporters of the VM test bed work.
 *
 * For every exporter the kernel has (udmabuf from a sealed memfd, the system
 * dma-heap, a vgem dumb buffer exported with PRIME) get a dma-buf, write a
 * pattern through one mmap (DMA_BUF_IOCTL_SYNC around it), read it back
 * through a second mmap of the same fd.  The driver's tests build on these
 * exporters, so this tells "the test bed is broken" apart from "daxfs is".
 *
 * An absent exporter is a SKIP, except in CI (CI=true) when the kernel
 * matrix says this kernel (DAXFS_KERNEL) has it: then it is a failure.
 *
 * failure_is_reported runs smoke-must-fail, whose tests fail on purpose,
 * and checks the failures are counted, by the harness and by
 * scripts/tap-summary: a suite that cannot fail proves nothing.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <xf86drm.h>

#include "kselftest_harness.h"

#define BUF_SIZE (256 * 1024)

/* Which exporters each kernel of the matrix must have (docs, ENVIRONMENT). */
static const struct {
	const char *kernel;
	bool udmabuf, heap, vgem;
} matrix[] = {
	{ "bookworm", false, false, true },
	{ "trixie", true, true, true },
	{ "sid", true, true, true },
	{ "debug", true, true, true },
};

enum exporter { UDMABUF, HEAP, VGEM };

static bool in_ci(void)
{
	const char *ci = getenv("CI");

	return ci && !strcmp(ci, "true");
}

/* Does the matrix promise this exporter on the kernel we run on? */
static bool expected(enum exporter e)
{
	const char *k = getenv("DAXFS_KERNEL");
	size_t i;

	if (!k)
		return false;
	for (i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++) {
		if (strcmp(matrix[i].kernel, k))
			continue;
		switch (e) {
		case UDMABUF: return matrix[i].udmabuf;
		case HEAP: return matrix[i].heap;
		case VGEM: return matrix[i].vgem;
		}
	}
	return false;
}

/* An exporter is missing: fail in CI if the matrix has it, else skip. */
#define EXPORTER_ABSENT(e, name, why) do {					\
	if (in_ci() && expected(e)) {						\
		TH_LOG("CI: kernel %s must provide %s (%s)",			\
		       getenv("DAXFS_KERNEL"), name, why);			\
		ASSERT_TRUE(false);						\
	}									\
	SKIP(return, "%s not available on this kernel: %s", name, why);	\
} while (0)

static uint32_t pattern(size_t i, uint32_t seed)
{
	uint32_t x = (uint32_t)i * 2654435761u ^ seed;

	return x ^ (x >> 15);
}

static int sync_buf(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };
	int ret;

	do {
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
	} while (ret && (errno == EINTR || errno == EAGAIN));
	return ret;
}

/*
 * Write through one shared mapping, read through another: both must see the
 * same pages.  Returns the index of the first bad word, or -1.
 */
static long check_dmabuf(struct __test_metadata *_metadata, int fd, size_t size,
			 uint32_t seed)
{
	uint32_t *w, *r;
	size_t i, n = size / sizeof(uint32_t);
	long bad = -1;

	/* dma-buf fds report their size through lseek */
	ASSERT_EQ((off_t)size, lseek(fd, 0, SEEK_END));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));

	w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, w) TH_LOG("mmap rw: %s", strerror(errno));
	r = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, r) TH_LOG("mmap ro: %s", strerror(errno));
	ASSERT_NE(w, r);

	ASSERT_EQ(0, sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE))
		TH_LOG("SYNC_START: %s", strerror(errno));
	for (i = 0; i < n; i++)
		w[i] = pattern(i, seed);
	ASSERT_EQ(0, sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));

	ASSERT_EQ(0, sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	for (i = 0; i < n; i++) {
		if (r[i] != pattern(i, seed)) {
			bad = (long)i;
			break;
		}
	}
	ASSERT_EQ(0, sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));

	if (bad >= 0)
		TH_LOG("word %ld: read %#x, wrote %#x", bad, r[bad],
		       pattern((size_t)bad, seed));
	munmap(w, size);
	munmap(r, size);
	return bad;
}

TEST(udmabuf_memfd)
{
	struct udmabuf_create create = { 0 };
	uint32_t word;
	int dev, memfd, buf;

	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		EXPORTER_ABSENT(UDMABUF, "udmabuf", strerror(errno));

	memfd = memfd_create("smoke-udmabuf", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, BUF_SIZE));
	/* udmabuf insists on F_SEAL_SHRINK and refuses F_SEAL_WRITE */
	ASSERT_EQ(0, fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK));

	create.memfd = memfd;
	create.flags = UDMABUF_FLAGS_CLOEXEC;
	create.offset = 0;
	create.size = BUF_SIZE;
	buf = ioctl(dev, UDMABUF_CREATE, &create);
	ASSERT_LE(0, buf) TH_LOG("UDMABUF_CREATE: %s", strerror(errno));

	EXPECT_EQ(-1, check_dmabuf(_metadata, buf, BUF_SIZE, 0x75646d61));

	/* the dma-buf is the memfd's pages: what was written shows there */
	ASSERT_EQ((ssize_t)sizeof(word), pread(memfd, &word, sizeof(word), 4096));
	EXPECT_EQ(pattern(4096 / sizeof(word), 0x75646d61), word);

	close(buf);
	close(memfd);
	close(dev);
}

TEST(dma_heap_system)
{
	struct dma_heap_allocation_data alloc = {
		.len = BUF_SIZE,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heap;

	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap < 0)
		EXPORTER_ABSENT(HEAP, "dma_heap/system", strerror(errno));

	ASSERT_EQ(0, ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc))
		TH_LOG("DMA_HEAP_IOCTL_ALLOC: %s", strerror(errno));
	ASSERT_LE(0, (int)alloc.fd);

	EXPECT_EQ(-1, check_dmabuf(_metadata, alloc.fd, BUF_SIZE, 0x68656170));

	close(alloc.fd);
	close(heap);
}

/* The first /dev/dri/card* driven by vgem, or -1. */
static int open_vgem(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir("/dev/dri");
	int fd = -1;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		drmVersionPtr v;

		if (strncmp(de->d_name, "card", 4))
			continue;
		snprintf(path, sizeof(path), "/dev/dri/%s", de->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		v = drmGetVersion(fd);
		if (v && !strcmp(v->name, "vgem")) {
			drmFreeVersion(v);
			break;
		}
		if (v)
			drmFreeVersion(v);
		close(fd);
		fd = -1;
	}
	closedir(d);
	return fd;
}

TEST(vgem_dumb_prime)
{
	struct drm_mode_create_dumb create = {
		.width = 1024,
		.height = BUF_SIZE / 4096,
		.bpp = 32,
	};
	struct drm_mode_destroy_dumb destroy = { 0 };
	int card, buf = -1;

	card = open_vgem();
	if (card < 0)
		EXPORTER_ABSENT(VGEM, "vgem", "no /dev/dri/card* driven by vgem");

	ASSERT_EQ(0, drmIoctl(card, DRM_IOCTL_MODE_CREATE_DUMB, &create))
		TH_LOG("CREATE_DUMB: %s", strerror(errno));
	ASSERT_LE((uint64_t)BUF_SIZE, create.size);
	ASSERT_EQ(0, drmPrimeHandleToFD(card, create.handle, DRM_CLOEXEC | DRM_RDWR, &buf))
		TH_LOG("PRIME export: %s", strerror(errno));

	EXPECT_EQ(-1, check_dmabuf(_metadata, buf, create.size, 0x7667656d));

	close(buf);
	destroy.handle = create.handle;
	EXPECT_EQ(0, drmIoctl(card, DRM_IOCTL_MODE_DESTROY_DUMB, &destroy));
	close(card);
}

/* smoke-must-fail lives in build/smoke/, we in build/vmtests/. */
static int must_fail_path(char *path, size_t len)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return -1;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = 0;
	if ((size_t)snprintf(path, len, "%s/../smoke/smoke-must-fail", self) >= len)
		return -1;
	return access(path, X_OK);
}

/* Run ARGV with stdout+stderr into OUT; return the wait status. */
static int run_to_file(char *const argv[], const char *out)
{
	int status, fd;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static int count_lines(const char *file, const char *prefix)
{
	char line[4096];
	FILE *f = fopen(file, "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, prefix, strlen(prefix)))
			n++;
	fclose(f);
	return n;
}

TEST(failure_is_reported)
{
	char prog[PATH_MAX], out[] = "/tmp/smoke-must-fail.XXXXXX";
	char summary[PATH_MAX + 64], result[256] = "";
	const char *src = getenv("DAXFS_SRC");
	char *argv[] = { prog, NULL };
	int status, fd;
	FILE *p;

	ASSERT_EQ(0, must_fail_path(prog, sizeof(prog)))
		TH_LOG("%s: %s (make -C selftests/smoke)", prog, strerror(errno));
	fd = mkstemp(out);
	ASSERT_LE(0, fd);
	close(fd);

	status = run_to_file(argv, out);
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %#x", status);
	/* the harness exits KSFT_FAIL when a test failed */
	EXPECT_EQ(1, WEXITSTATUS(status));
	/* one passing test, an assertion failure and a crash */
	EXPECT_EQ(1, count_lines(out, "ok "));
	EXPECT_EQ(2, count_lines(out, "not ok "));

	/* and make check's summary counts them the same way */
	if (src) {
		snprintf(summary, sizeof(summary), "%s/scripts/tap-summary %s", src, out);
		p = popen(summary, "r");
		ASSERT_NE(NULL, p);
		while (fgets(result, sizeof(result), p))
			;
		status = pclose(p);
		EXPECT_STREQ("1 passed, 2 failed\n", result);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	} else {
		TH_LOG("DAXFS_SRC unset, tap-summary not checked");
	}
	unlink(out);
}

TEST_HARNESS_MAIN
