// SPDX-License-Identifier: GPL-2.0
/*
 * smoke-dmabuf: the dma-buf exporters of the VM test bed work.
 *
 * For every exporter the kernel has (udmabuf from a sealed memfd, the system
 * dma-heap, a vgem dumb buffer exported with PRIME) get a dma-buf from the
 * test bed's allocator (selftests/lib/dxt_dmabuf.c), write a
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

#include "kselftest_harness.h"
#include "dxt_dmabuf.h"

#define BUF_SIZE (256 * 1024)

/* An exporter is missing: fail in CI if the matrix has it, else skip. */
#define EXPORTER_ABSENT(e, why) do {						\
	if (dxt_exporter_required(e)) {						\
		TH_LOG("CI: kernel %s must provide %s (%s)",			\
		       getenv("DAXFS_KERNEL"), dxt_exporter_name(e), why);	\
		ASSERT_TRUE(false);						\
	}									\
	SKIP(return false, "%s not available on this kernel: %s", dxt_exporter_name(e), why); \
} while (0)

static uint32_t pattern(size_t i, uint32_t seed)
{
	uint32_t x = (uint32_t)i * 2654435761u ^ seed;

	return x ^ (x >> 15);
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

	ASSERT_EQ(0, !!dxt_buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE))
		TH_LOG("SYNC_START: %s", strerror(errno));
	for (i = 0; i < n; i++)
		w[i] = pattern(i, seed);
	ASSERT_EQ(0, !!dxt_buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));

	ASSERT_EQ(0, !!dxt_buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	for (i = 0; i < n; i++) {
		if (r[i] != pattern(i, seed)) {
			bad = (long)i;
			break;
		}
	}
	ASSERT_EQ(0, !!dxt_buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));

	if (bad >= 0)
		TH_LOG("word %ld: read %#x, wrote %#x", bad, r[bad],
		       pattern((size_t)bad, seed));
	munmap(w, size);
	munmap(r, size);
	return bad;
}

/*
 * A buffer of kind e from the test bed's allocator (selftests/lib/dxt_dmabuf.c,
 * the one every driver, library and fuzz test uses), checked through two
 * mappings.  Fills *b (the caller frees it); false if the test skipped.
 */
static bool smoke_exporter(struct __test_metadata *_metadata, enum dxt_exporter e,
			   uint32_t seed, struct dxt_buf *b)
{
	char why[512];

	dxt_buf_init(b);
	if (!dxt_exporter_available(e, why, sizeof(why)))
		EXPORTER_ABSENT(e, why);
	ASSERT_EQ(0, dxt_buf_alloc(e, BUF_SIZE, b, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_LE((size_t)BUF_SIZE, b->size);
	EXPECT_EQ(-1, check_dmabuf(_metadata, b->fd, b->size, seed));
	return true;
}

TEST(udmabuf_memfd)
{
	struct dxt_buf b;
	uint32_t word;

	if (smoke_exporter(_metadata, DXT_EXP_UDMABUF, 0x75646d61, &b) && b.fd >= 0) {
		/* the dma-buf is the memfd's pages: what was written shows there */
		ASSERT_EQ((ssize_t)sizeof(word), pread(b.memfd, &word, sizeof(word), 4096));
		EXPECT_EQ(pattern(4096 / sizeof(word), 0x75646d61), word);
	}
	dxt_buf_free(&b);
}

TEST(dma_heap_system)
{
	struct dxt_buf b;

	smoke_exporter(_metadata, DXT_EXP_HEAP, 0x68656170, &b);
	dxt_buf_free(&b);
}

TEST(vgem_dumb_prime)
{
	struct dxt_buf b;

	smoke_exporter(_metadata, DXT_EXP_VGEM, 0x7667656d, &b);
	dxt_buf_free(&b);
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
