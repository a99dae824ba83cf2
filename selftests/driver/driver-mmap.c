// SPDX-License-Identifier: GPL-2.0
/*
 * driver-mmap: zero copy proven (pagemap PFNs of a private file mapping ==
 * the buffer's own pages; a shared one is a PFN map, which pagemap does not
 * walk, and sees writes through the exporter at once; no page cache growth
 * reading a big file), MAP_PRIVATE copy-on-write isolation,
 * MAP_SHARED+PROT_WRITE refused, SIGBUS past EOF, programs executed from the
 * mount (static, dynamic, and with the loader and libc from the mount).
 */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daxfs_harness.h"
#include "daxfs_format.h"
#include <linux/dma-buf.h>

#define DATA "three-pages-and-100"	/* from gen_tree: 3 * 4096 + 100, seed 5 */
#define DATA_SIZE (3 * 4096 + 100)
#define DATA_SEED 5

FIXTURE(mm) {
	char work[64];
	char src[128], img[128], mnt[128];
	struct dxmount m;
	struct dxmount big;
	void *image;		/* the image file, mapped */
	size_t image_len;
	struct daxfs_baseline base;
};

FIXTURE_VARIANT(mm) {
	enum dxt_exporter kind;
};

DAXFS_EXPORTER_VARIANTS(mm);

/* Executables for exec_static and exec_dynamic, added to the shared tree. */
static int add_binaries(const char *src, char *err, size_t len)
{
	static const char *const files[][2] = {
		{ "build/selftests/driver/static-hello", "bin/static-hello" },
		{ "/bin/true", "bin/true" },
		{ "/lib64/ld-linux-x86-64.so.2", "lib/ld-linux-x86-64.so.2" },
		{ "/lib/x86_64-linux-gnu/libc.so.6", "lib/libc.so.6" },
	};
	char from[PATH_MAX];
	int r;

	if (mkdir(P(src, "bin"), 0755) || mkdir(P(src, "lib"), 0755)) {
		snprintf(err, len, "mkdir under %s: %s", src, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (files[i][0][0] == '/')
			snprintf(from, sizeof(from), "%s", files[i][0]);
		else
			snprintf(from, sizeof(from), "%s/%s", dxt_src_dir(), files[i][0]);
		r = dxt_copy_file(from, P(src, files[i][1]), -1, 0755);
		if (r) {
			snprintf(err, len, "copy %s: %s%s", from, strerror(-r),
				 files[i][0][0] == '/' ? "" : " (make -C selftests/driver)");
			return -1;
		}
	}
	return 0;
}

FIXTURE_SETUP(mm)
{
	struct gen_opts o = { 0 };

	dxm_init(&self->m);
	dxm_init(&self->big);
	self->work[0] = 0;
	self->image = NULL;
	REQUIRE_EXPORTER(variant->kind);
	FIXTURE_WORKDIR_SETUP(self);
	SHARED_IMAGE_MAPPED(self, "mmap", &o, add_binaries);
}

/* in the parent, once the test's process is gone: paths and numbers only */
FIXTURE_TEARDOWN_PARENT(mm)
{
	WORKDIR_TEARDOWN(self);
}

/* Image offset of a regular file's data. */
static uint64_t data_offset(struct __test_metadata *_metadata, FIXTURE_DATA(mm) *self,
			    const char *path)
{
	struct daxfs_inode in;

	ASSERT_EQ(0, image_lookup(self->image, self->image_len, path, NULL, &in));
	return le64toh(in.offset);
}

TEST_F_TIMEOUT(mm, pfn_match, 120)
{
	uint64_t off = data_offset(_metadata, self, DATA);
	char *fm, *pm, *bm, *mm = NULL;
	char want[DATA_SIZE];
	int fd, shown = 0, compared = 0;

	MOUNT_IMAGE();
	fd = open(P(self->mnt, DATA), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	fm = mmap(NULL, 4 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, fm);
	pm = mmap(NULL, 4 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, pm);
	pattern(want, DATA_SIZE, DATA_SEED, 0);
	ASSERT_EQ(0, memcmp(fm, want, DATA_SIZE));
	ASSERT_EQ(0, memcmp(pm, want, DATA_SIZE));
	bm = dxt_buf_mmap(&self->m.buf, PROT_READ);
	ASSERT_NE(NULL, bm);
	if (variant->kind == DXT_EXP_UDMABUF) {
		mm = mmap(NULL, self->m.buf.size, PROT_READ, MAP_SHARED, self->m.buf.memfd, 0);
		ASSERT_NE(MAP_FAILED, mm);
	}
	for (int i = 0; i < 4; i++) {
		uint64_t f = pagemap_pfn(fm + i * PAGE), p = pagemap_pfn(pm + i * PAGE);
		uint64_t b = pagemap_pfn(bm + off + i * PAGE);
		uint64_t m = mm ? pagemap_pfn(mm + off + i * PAGE) : 0;

		TH_LOG("page %d: file map pfn 0x%lx, private map 0x%lx, dma-buf mmap 0x%lx%s",
		       i, (unsigned long)f, (unsigned long)p, (unsigned long)b,
		       mm ? "" : "");
		if (mm)
			TH_LOG("page %d: udmabuf's memfd mapping pfn 0x%lx", i, (unsigned long)m);
		/*
		 * The shared mapping is VM_PFNMAP (get_user_pages must not take
		 * references on the exporter's pages): pagemap skips it.  The
		 * private one maps the same PFNs until written, and is walked.
		 */
		EXPECT_EQ(0, f);
		EXPECT_NE(0, p) {
			TH_LOG("page %d of the private file mapping shows no PFN in pagemap: "
			       "zero copy not provable", i);
		}
		if (b) {
			shown++;
			EXPECT_EQ(b, p);
			compared++;
		}
		if (m) {
			EXPECT_EQ(m, p);
			compared++;
		}
		for (int j = 0; j < i; j++)
			EXPECT_NE(pagemap_pfn(pm + j * PAGE), p);
	}
	if (!shown)
		TH_LOG("the %s exporter's own mmap shows no PFNs in pagemap (VM_PFNMAP)%s",
		       dxt_exporter_name(variant->kind),
		       mm ? "; compared with the memfd's pages instead" :
		       "; PFN equality not checkable for this exporter, write_visible covers it");
	if (variant->kind == DXT_EXP_UDMABUF)
		EXPECT_LT(0, compared);
	munmap(fm, 4 * PAGE);
	munmap(pm, 4 * PAGE);
	munmap(bm, self->m.buf.size);
	if (mm)
		munmap(mm, self->m.buf.size);
	close(fd);
}

TEST_F_TIMEOUT(mm, write_visible, 120)
{
	uint64_t off = data_offset(_metadata, self, DATA);
	static char want[DATA_SIZE], got[DATA_SIZE];
	char *fm, *bm;
	int fd;

	MOUNT_IMAGE();
	fd = open(P(self->mnt, DATA), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	fm = mmap(NULL, 4 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, fm);
	(void)*(volatile char *)fm;	/* mapped before the write */
	bm = dxt_buf_mmap(&self->m.buf, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, bm);
	for (int round = 0; round < 3; round++) {
		pattern(want, DATA_SIZE, 1000 + round, 0);
		ASSERT_EQ(0, dxt_buf_sync(self->m.buf.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
		memcpy(bm + off, want, DATA_SIZE);
		ASSERT_EQ(0, dxt_buf_sync(self->m.buf.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
		EXPECT_EQ(0, memcmp(fm, want, DATA_SIZE)) {
			TH_LOG("round %d: the file mapping does not show the exporter's write", round);
		}
		EXPECT_EQ(DATA_SIZE, pread(fd, got, DATA_SIZE, 0));
		EXPECT_EQ(0, memcmp(got, want, DATA_SIZE)) {
			TH_LOG("round %d: read() does not show the exporter's write", round);
		}
	}
	/* a single byte, no sync: a plain store is visible too */
	bm[off + 5000] = 0x42;
	EXPECT_EQ(0x42, fm[5000]);
	EXPECT_EQ(1, pread(fd, got, 1, 5000));
	EXPECT_EQ(0x42, got[0]);
	munmap(fm, 4 * PAGE);
	munmap(bm, self->m.buf.size);
	close(fd);
}

/*
 * Reading (and mapping) a big file must not fill the page cache: the data
 * stays in the buffer.  DAXFS_TEST_BIG_MB sizes the file (default 256, 64
 * on the debug kernel).
 */
TEST_F_TIMEOUT(mm, no_page_cache, 280)
{
	const char *e = getenv("DAXFS_TEST_BIG_MB"), *k = getenv("DAXFS_KERNEL");
	/* KASAN under TCG is several times slower: 64 MiB there, 256 elsewhere */
	size_t mb = e ? strtoul(e, NULL, 0) : k && !strcmp(k, "debug") ? 64 : 256;
	size_t size = mb << 20;
	char bsrc[256], bimg[256], bmnt[256], err[ERRLEN];
	static char buf[1 << 20], want[4096];
	long c0, c1, c2, sum = 0;
	size_t done = 0;
	char *map;
	int fd;

	WORK_TREE(self, "big", bsrc, bimg, bmnt);
	/* sparse, with a 4 KiB marker every 16 MiB */
	fd = open(P(bsrc, "big"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, size));
	for (size_t o = 0; o < size; o += 16 << 20) {
		pattern(want, sizeof(want), 77, o);
		ASSERT_EQ(4096, pwrite(fd, want, 4096, o));
	}
	close(fd);
	MKIMAGE(bimg, bsrc, NULL);
	dxt_rm_rf(bsrc);
	if (dxm_setup(&self->big, variant->kind, bimg, 0, bmnt, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(0, self->big.mounted ? 0 : -1);
	unlink(bimg);

	fd = open(P(bmnt, "big"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	drop_caches();
	c0 = dxt_meminfo_kb("Cached:");
	while (done < size) {
		ssize_t k = read(fd, buf, sizeof(buf));

		ASSERT_LT(0, k);
		if (done % (16 << 20) == 0) {
			pattern(want, sizeof(want), 77, done);
			EXPECT_EQ(0, memcmp(buf, want, sizeof(want)));
			EXPECT_EQ(0, buf[8192]);
		}
		done += k;
	}
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	c1 = dxt_meminfo_kb("Cached:");
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	for (size_t o = 0; o < size; o += PAGE)
		sum += map[o];
	c2 = dxt_meminfo_kb("Cached:");
	TH_LOG("%zu MiB file: Cached %ld kB before, %ld kB after read(), %ld kB after mmap "
	       "touch (sum %ld)", mb, c0, c1, c2, sum);
	EXPECT_GT(8192, c1 - c0) {
		TH_LOG("reading the file grew the page cache by %ld kB", c1 - c0);
	}
	EXPECT_GT(8192, c2 - c0) {
		TH_LOG("mapping the file grew the page cache by %ld kB", c2 - c0);
	}
	munmap(map, size);
	close(fd);
}

TEST_F_TIMEOUT(mm, private_cow, 120)
{
	uint64_t off = data_offset(_metadata, self, DATA);
	char orig[DATA_SIZE], b;
	char *pm, *pm2, *sm;
	uint64_t pfn0, pfn1;
	int fd;

	MOUNT_IMAGE();
	pattern(orig, DATA_SIZE, DATA_SEED, 0);
	fd = open(P(self->mnt, DATA), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	pm = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, pm) {
		TH_LOG("MAP_PRIVATE|PROT_WRITE of an O_RDONLY fd: %s", strerror(errno));
	}
	pm2 = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, pm2);
	sm = mmap(NULL, 4 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, sm);
	pfn0 = pagemap_pfn(pm);
	EXPECT_NE(0, pfn0);
	EXPECT_EQ(pagemap_pfn(pm2), pfn0);	/* both map the buffer's page */
	EXPECT_EQ(0, pagemap_pfn(sm));		/* a PFN map: not walked */

	pm[10] ^= 0xff;
	pm[PAGE + 7] = 'x';
	pm[3 * PAGE + 200] = 'y';	/* beyond EOF, inside the last page */
	EXPECT_EQ((char)(orig[10] ^ 0xff), pm[10]);
	EXPECT_EQ('x', pm[PAGE + 7]);
	EXPECT_EQ('y', pm[3 * PAGE + 200]);
	pfn1 = pagemap_pfn(pm);
	EXPECT_NE(pfn0, pfn1) {
		TH_LOG("the written private page still maps the buffer's page");
	}
	/* nobody else sees it */
	EXPECT_EQ(orig[10], sm[10]);
	EXPECT_EQ(orig[10], pm2[10]);
	EXPECT_EQ(orig[PAGE + 7], pm2[PAGE + 7]);
	EXPECT_EQ(0, sm[3 * PAGE + 200]);
	EXPECT_EQ(1, pread(fd, &b, 1, 10));
	EXPECT_EQ(orig[10], b);
	ASSERT_EQ(0, dxt_buf_read(&self->m.buf, off + 10, &b, 1));
	EXPECT_EQ(orig[10], b);
	ASSERT_EQ(0, dxt_buf_read(&self->m.buf, off + 3 * PAGE + 200, &b, 1));
	EXPECT_EQ(0, b);
	EXPECT_EQ(0, memcmp(sm, orig, DATA_SIZE));
	munmap(pm, 4 * PAGE);
	munmap(pm2, 4 * PAGE);
	munmap(sm, 4 * PAGE);
	close(fd);
}

TEST_F_TIMEOUT(mm, shared_write_refused, 120)
{
	char *sm;
	void *p;
	int fd;

	MOUNT_IMAGE();
	fd = open(P(self->mnt, DATA), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	if (p != MAP_FAILED)
		munmap(p, PAGE);
	p = mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED_VALIDATE, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	sm = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, sm);
	EXPECT_ERRNO(EACCES, SYS(mprotect(sm, PAGE, PROT_READ | PROT_WRITE)));
	munmap(sm, PAGE);
	/* read+exec shared is fine */
	sm = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	EXPECT_NE(MAP_FAILED, sm);
	if (sm != MAP_FAILED)
		munmap(sm, PAGE);
	close(fd);
}

/* mappings at page offsets, madvise, mprotect, mremap: still the file's bytes, or refused as for any PFN map */
TEST_F_TIMEOUT(mm, offsets_madvise_mremap, 120)
{
	char want[DATA_SIZE];
	char *m, *m2;
	int fd;

	MOUNT_IMAGE();
	pattern(want, DATA_SIZE, DATA_SEED, 0);
	fd = open(P(self->mnt, DATA), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (int pg = 0; pg < 4; pg++) {
		size_t n = DATA_SIZE - pg * PAGE;

		m = mmap(NULL, 4 * PAGE - pg * PAGE, PROT_READ, MAP_SHARED, fd, pg * PAGE);
		ASSERT_NE(MAP_FAILED, m);
		EXPECT_EQ(0, memcmp(m, want + pg * PAGE, n)) {
			TH_LOG("mapping at page offset %d", pg);
		}
		munmap(m, 4 * PAGE - pg * PAGE);
	}
	m = mmap(NULL, 4 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(0, memcmp(m, want, DATA_SIZE));
	/*
	 * A shared mapping is a PFN map: the core mm refuses MADV_DONTNEED on
	 * it (EINVAL), and growing it with mremap (EFAULT), as for any PFN
	 * map (GPU buffers, device memory).  Advice that needs no page
	 * tables is taken.
	 */
	EXPECT_ERRNO(EINVAL, SYS(madvise(m, 4 * PAGE, MADV_DONTNEED)));
	EXPECT_EQ(0, memcmp(m, want, DATA_SIZE));
	EXPECT_EQ(0, madvise(m, 4 * PAGE, MADV_WILLNEED));
	EXPECT_EQ(0, madvise(m, 4 * PAGE, MADV_SEQUENTIAL));
	EXPECT_EQ(0, memcmp(m, want, DATA_SIZE));
	EXPECT_EQ(0, mprotect(m, 4 * PAGE, PROT_NONE));
	EXPECT_EQ(0, mprotect(m, 4 * PAGE, PROT_READ));
	EXPECT_EQ(0, memcmp(m, want, DATA_SIZE));
	/* mremap: bigger is refused; moved (same size) and shrunk it works */
	EXPECT_EQ(MAP_FAILED, mremap(m, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE));
	EXPECT_EQ(EFAULT, errno);
	m2 = mmap(NULL, 4 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m2);	/* a place to move to */
	m2 = mremap(m, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, m2);
	ASSERT_NE(MAP_FAILED, m2);
	EXPECT_EQ(0, memcmp(m2, want, DATA_SIZE));
	m = mremap(m2, 4 * PAGE, 2 * PAGE, 0);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(0, memcmp(m, want, 2 * PAGE));
	munmap(m, 2 * PAGE);
	/* a private mapping, written, then MADV_DONTNEED: back to the file's bytes */
	m = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	m[0] ^= 0xff;
	EXPECT_EQ(0, madvise(m, 4 * PAGE, MADV_DONTNEED));
	EXPECT_EQ(want[0], m[0]);
	munmap(m, 4 * PAGE);
	close(fd);
}

TEST_F_TIMEOUT(mm, sigbus_past_eof, 120)
{
	struct sigaction sa = { .sa_handler = touch_signal };
	char *m, c = 0;
	int fd;

	MOUNT_IMAGE();
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	fd = open(P(self->mnt, DATA), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (int priv = 0; priv < 2; priv++) {
		m = mmap(NULL, 6 * PAGE, PROT_READ, priv ? MAP_PRIVATE : MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, m);
		EXPECT_EQ(0, touch(m + DATA_SIZE - 1, &c));
		/* the rest of the last page reads as zeros */
		for (int i = DATA_SIZE; i < 4 * (int)PAGE; i += 97) {
			EXPECT_EQ(0, touch(m + i, &c));
			EXPECT_EQ(0, c);
		}
		EXPECT_EQ(SIGBUS, touch(m + 4 * PAGE, &c));
		EXPECT_EQ(SIGBUS, touch(m + 5 * PAGE + 17, &c));
		munmap(m, 6 * PAGE);
	}
	/* a mapping that starts past EOF */
	m = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 16 * PAGE);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(SIGBUS, touch(m, &c));
	munmap(m, PAGE);
	close(fd);
	/* an empty file */
	fd = open(P(self->mnt, "empty"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	m = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(SIGBUS, touch(m, &c));
	munmap(m, PAGE);
	close(fd);
}

/* run argv, return exit status (or 128+signal), output in out */
static int run(const char *const argv[], char *out, size_t len)
{
	return dxt_run_cmd(argv, out, len);
}

TEST_F_TIMEOUT(mm, exec_static, 120)
{
	char out[256];
	const char *argv[] = { P(self->mnt, "bin/static-hello"), "arg", NULL };
	const char *argv2[] = { P(self->mnt, "bin/static-hello"), "x", "fail", NULL };

	MOUNT_IMAGE();
	EXPECT_EQ(0, run(argv, out, sizeof(out))) {
		TH_LOG("output: %s", out);
	}
	EXPECT_STREQ("hello from daxfs arg\n", out);
	EXPECT_EQ(3, run(argv2, out, sizeof(out)));
}

TEST_F_TIMEOUT(mm, exec_dynamic, 120)
{
	char out[2048], ld[PATH_MAX], lib[PATH_MAX], tru[PATH_MAX];

	MOUNT_IMAGE();
	snprintf(ld, sizeof(ld), "%s/lib/ld-linux-x86-64.so.2", self->mnt);
	snprintf(lib, sizeof(lib), "%s/lib", self->mnt);
	snprintf(tru, sizeof(tru), "%s/bin/true", self->mnt);
	{
		const char *argv[] = { tru, NULL };

		EXPECT_EQ(0, run(argv, out, sizeof(out))) {
			TH_LOG("%s: %s", tru, out);
		}
	}
	/* loader and libc from the mount too */
	{
		const char *argv[] = { ld, "--library-path", lib, tru, NULL };

		EXPECT_EQ(0, run(argv, out, sizeof(out))) {
			TH_LOG("%s: %s", ld, out);
		}
	}
	{
		const char *argv[] = { ld, "--library-path", lib, "--list", tru, NULL };
		char want[PATH_MAX];

		EXPECT_EQ(0, run(argv, out, sizeof(out)));
		snprintf(want, sizeof(want), "%s/lib/libc.so.6", self->mnt);
		EXPECT_NE(NULL, strstr(out, want)) {
			TH_LOG("libc not resolved from the mount: %s", out);
		}
	}
}

/* Minor faults of this process so far. */
static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

#define FAULT_AROUND "/sys/module/daxfs/parameters/fault_around_pages"

/*
 * The module parameter fault_around_pages: a power of two up to a page
 * table (else EINVAL), read at every fault: with 1 every page of a shared
 * mapping faults, with 4 one fault maps a whole aligned 4-page block,
 * whichever page of it is touched first (a backward memcpy() touches the
 * last one first), and no further than the vma.
 */
TEST_F_TIMEOUT(mm, fault_around_param, 120)
{
	static const char *const bad[] = { "0", "3", "1024", "-1", "x" };
	static char want[DATA_SIZE];
	char was[32], now[32];
	long f0, f1, f2;
	char *area, *p;
	volatile char v;
	int fd;

	ASSERT_EQ(0, dxt_read_sysfs(FAULT_AROUND, was, sizeof(was)));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, dxt_write_sysfs(FAULT_AROUND, bad[i])) {
			TH_LOG("value %s", bad[i]);
		}
	}
	ASSERT_EQ(0, dxt_read_sysfs(FAULT_AROUND, now, sizeof(now)));
	EXPECT_STREQ(was, now);

	MOUNT_IMAGE();
	fd = open(P(self->mnt, DATA), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	/* a 4-page block-aligned address: reserve 8 pages, map inside */
	area = mmap(NULL, 8 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	p = (char *)(((uintptr_t)area + 4 * PAGE - 1) & ~(uintptr_t)(4 * PAGE - 1));

	for (int round = 0; round < 2; round++) {
		const char *val = round ? "4" : "1";
		volatile char c;

		ASSERT_EQ(0, dxt_write_sysfs(FAULT_AROUND, val));
		ASSERT_EQ(p, mmap(p, 4 * PAGE, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0));
		f0 = minflt();
		c = p[0];
		f1 = minflt();
		for (int i = 1; i < 4; i++)
			c = p[i * PAGE];
		f2 = minflt();
		(void)c;
		EXPECT_EQ(1, f1 - f0) {
			TH_LOG("fault_around_pages=%s", val);
		}
		EXPECT_EQ(round ? 0 : 3, f2 - f1) {
			TH_LOG("fault_around_pages=%s", val);
		}
		ASSERT_EQ(0, munmap(p, 4 * PAGE));
	}

	/* backward: the block's last page first, then nothing faults */
	pattern(want, DATA_SIZE, DATA_SEED, 0);
	ASSERT_EQ(p, mmap(p, 4 * PAGE, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0));
	f0 = minflt();
	v = p[3 * PAGE];
	f1 = minflt();
	for (int i = 2; i >= 0; i--)
		v = p[i * PAGE];
	f2 = minflt();
	EXPECT_EQ(1, f1 - f0);
	EXPECT_EQ(0, f2 - f1);
	EXPECT_EQ(0, memcmp(p, want, DATA_SIZE));
	ASSERT_EQ(0, munmap(p, 4 * PAGE));

	/*
	 * A vma that starts inside a block (file pages 1-3 at the block's
	 * pages 1-3): the block stops at vm_start, and each page is the
	 * file's page at its own offset.
	 */
	ASSERT_EQ(p + PAGE, mmap(p + PAGE, 3 * PAGE, PROT_READ,
				 MAP_SHARED | MAP_FIXED, fd, PAGE));
	f0 = minflt();
	v = p[3 * PAGE];
	f1 = minflt();
	v = p[PAGE];
	v = p[2 * PAGE];
	f2 = minflt();
	(void)v;
	EXPECT_EQ(1, f1 - f0);
	EXPECT_EQ(0, f2 - f1);
	EXPECT_EQ(0, memcmp(p + PAGE, want + PAGE, DATA_SIZE - PAGE));
	ASSERT_EQ(0, munmap(p + PAGE, 3 * PAGE));

	munmap(area, 8 * PAGE);
	close(fd);
	EXPECT_EQ(0, dxt_write_sysfs(FAULT_AROUND, was));
}

TEST_HARNESS_MAIN
