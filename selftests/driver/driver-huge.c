// SPDX-License-Identifier: GPL-2.0
/*
 * driver-huge: the fast paths for big files.
 *
 * PMD mappings.  Where the driver maps them (kernels with PFN PMDs, 6.12
 * and later on x86_64: driver/compat.h DAXFS_HAVE_PMD), an aligned 2 MiB
 * of a file whose buffer pages there are physically contiguous and 2 MiB-
 * aligned is mapped with one PMD in a MAP_SHARED mapping, anything else
 * with 4 KiB pages.  An image made with mkdaxfs --align=2M is placed in
 *
 *   hugetlb  a udmabuf over an MFD_HUGETLB memfd (2 MiB pages; hugepages
 *            are reserved through /proc/sys/vm/nr_hugepages and given back)
 *   shmem    a udmabuf over a plain memfd whose pages were allocated in
 *            reverse order, so never contiguous: the 4 KiB fallback
 *   heap     a system DMA heap buffer (1 MiB folios: a 2 MiB window, where
 *            contiguous, spans two folios, the case that broke GUP)
 *   phys     a phys= range: RAM reserved with memmap=64M$0x60000000, as
 *            make check boots the VM (see driver-phys)
 *
 * and files are mapped and every page touched.  Shared mappings are
 * VM_PFNMAP (smaps VmFlags "pf"), which pagemap and PAGEMAP_SCAN do not
 * walk: what maps a window is read from the page faults, window by window
 * (touching the rest of a window after its first page faults never under a
 * PMD, 511 / fault_around_pages more times under 4 KiB pages).  The
 * PFNs are read from a MAP_PRIVATE mapping of the same file, which the
 * driver fills from the same buffer offsets with 4 KiB PTEs (VM_MIXEDMAP,
 * walked by pagemap).  The oracle: a window is PMD-mapped exactly when the
 * kernel has DAXFS_HAVE_PMD and the buffer's pages of that window (pagemap
 * of the memfd or the heap buffer, or the physical range) are contiguous
 * and 2 MiB-aligned; the hugetlb and phys cases must be, the shmem case
 * must not be, the heap case may be.  Also: the bytes everywhere, no PMD
 * across EOF and SIGBUS past it, MAP_PRIVATE has no PMDs and its writes
 * copy 4 KiB pages.
 *
 * The kernel paths that take page references through a mapping (get_user
 * _pages and friends: /proc/PID/mem, process_vm_readv, O_DIRECT from the
 * mapping, vmsplice, core dumps) on a PMD-mapped file: each either works
 * with the right bytes or fails with EFAULT, and the buffer is intact
 * afterwards (the log scan fails the run on a bad-page report).
 *
 * Known kernel limitation: 6.12's udmabuf (vmap_udmabuf, since its folio
 * conversion in 6.11) vmaps the head page of a hugetlb folio for every
 * 4 KiB of it, ignoring the pages' offsets in their folios, so the module's
 * copy of the metadata is not the image and the import is refused with
 * EUCLEAN (a superblock CRC mismatch).  On 6.12 the hugetlb case checks
 * exactly that errno and skips saying so; elsewhere (sid) it must work.
 *
 * cpu_access=each|mount (driver/super.c), the read() fast path, lives here
 * too: a cpu_access=mount mount reads the same bytes and sees exporter
 * writes (x86 is coherent), /proc/mounts shows it, an unknown value is
 * EINVAL (mount(2) and fsconfig), a remount cannot change it; the time of
 * 4 KiB reads with each and with mount is logged, not judged: on x86 with
 * 6.12 and later the DMA layer skips the exporters' syncs for coherent
 * devices, and the two measure the same here.
 */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <sys/uio.h>
#include <sys/wait.h>

#include <linux/fs.h>
#include <linux/loop.h>
#include <linux/memfd.h>
#include <linux/udmabuf.h>

#include "daxfs_harness.h"
#include "daxfs_format.h"

/* PAGEMAP_SCAN (6.7) is newer than the build host's headers. */
#ifndef PAGEMAP_SCAN
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

#define PAGEMAP_SCAN		_IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_PRESENT		(1 << 3)
#define PAGE_IS_HUGE		(1 << 6)
#endif

#define HUGE		(2UL << 20)
#define PER_HUGE	(HUGE / PAGE)
/* PTEs a daxfs fault maps at most: the module's parameter (driver/data.c) */
static long fault_around(void)
{
	char buf[32];

	if (dxt_read_sysfs("/sys/module/daxfs/parameters/fault_around_pages", buf, sizeof(buf)))
		return 0;
	return strtol(buf, NULL, 10);
}

#define BIG		"big"		/* two whole 2 MiB windows */
#define BIG_SIZE	(2 * HUGE)
#define BIG_SEED	31
#define TAIL		"tail"		/* one window and 100 bytes */
#define TAIL_SIZE	(HUGE + 100)
#define TAIL_SEED	32

#define PHYS_ADDR	0x60000000ULL
#define PHYS_SIZE	(64ULL << 20)

/* The driver maps PMDs from 6.12 (compat.h DAXFS_HAVE_PMD; THP is on in Debian). */
static bool kernel_has_pmd(void)
{
	return dxt_kernel_version() >= 612;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/*
 * Bytes of [addr, addr + len) mapped by huge (PMD) entries, by PAGEMAP_SCAN;
 * -errno when the kernel has no PAGEMAP_SCAN (6.1).
 */
static long huge_bytes(const void *addr, size_t len)
{
	struct page_region r[64];
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.start = (uintptr_t)addr,
		.end = (uintptr_t)addr + len,
		.vec = (uintptr_t)r,
		.vec_len = 64,
		.category_mask = PAGE_IS_HUGE | PAGE_IS_PRESENT,
		.return_mask = PAGE_IS_HUGE | PAGE_IS_PRESENT,
	};
	long n, sum = 0;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = ioctl(fd, PAGEMAP_SCAN, &a);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	for (long i = 0; i < n; i++)
		sum += r[i].end - r[i].start;
	return sum;
}

/* ------------------------------------------------------------ huge */

enum huge_src { SRC_HUGETLB, SRC_SHMEM, SRC_HEAP, SRC_PHYS };

FIXTURE(huge) {
	char work[64];
	char src[128], img[128], mnt[128];
	uint8_t *image;
	size_t image_len;
	struct daxfs_baseline base;
	long nr_huge0;		/* nr_hugepages to put back, or -1 */
	int memfd, dmabuf, dev;
	char *bufmap;		/* the memfd or heap buffer, mapped: its PFNs are the buffer's */
	struct dxt_buf hbuf;	/* SRC_HEAP */
	size_t buf_size;
	bool pmd;		/* kernel_has_pmd() */
};

FIXTURE_VARIANT(huge) {
	enum huge_src src;
};

FIXTURE_VARIANT_ADD(huge, hugetlb) { .src = SRC_HUGETLB };
FIXTURE_VARIANT_ADD(huge, shmem) { .src = SRC_SHMEM };
FIXTURE_VARIANT_ADD(huge, heap) { .src = SRC_HEAP };
FIXTURE_VARIANT_ADD(huge, phys) { .src = SRC_PHYS };

/* Two files of pattern under src (the fixtures' shared trees). */
static int fill_two(const char *src, const char *a, size_t asize, unsigned int aseed,
		    const char *b, size_t bsize, unsigned int bseed, char *err, size_t len)
{
	int r = fill_file(P(src, a), asize, aseed, 0644);

	if (!r)
		r = fill_file(P(src, b), bsize, bseed, 0644);
	if (r)
		snprintf(err, len, "fill files under %s: %s", src, strerror(-r));
	return r ? -1 : 0;
}

/* The huge fixture's shared tree: two files, one of two huge pages. */
static int add_big_tail(const char *src, char *err, size_t len)
{
	return fill_two(src, BIG, BIG_SIZE, BIG_SEED, TAIL, TAIL_SIZE, TAIL_SEED, err, len);
}

FIXTURE_SETUP(huge)
{
	static const char *const opts[] = { "--align=2M", NULL };

	self->work[0] = 0;
	self->image = NULL;
	self->nr_huge0 = -1;
	self->memfd = self->dmabuf = self->dev = -1;
	self->bufmap = NULL;
	memset(&self->hbuf, 0, sizeof(self->hbuf));
	self->hbuf.fd = self->hbuf.memfd = self->hbuf.drmfd = -1;
	self->pmd = kernel_has_pmd();
	if (variant->src == SRC_HEAP)
		REQUIRE_EXPORTER(DXT_EXP_HEAP);
	else if (variant->src != SRC_PHYS)
		REQUIRE_EXPORTER(DXT_EXP_UDMABUF);
	FIXTURE_WORKDIR_SETUP(self);
	SHARED_IMAGE("huge", NULL, add_big_tail, opts, self->src, self->img);
	IMAGE_COPY(self, image_len);
	TH_LOG("kernel %s: the driver %s PMD mappings; image of %zu bytes", getenv("DAXFS_KERNEL") ?: "?",
	       self->pmd ? "makes" : "makes no", self->image_len);
}

/* in the parent, once the test's process is gone: paths and numbers only */
FIXTURE_TEARDOWN_PARENT(huge)
{
	char v[32];

	WORKDIR_TEARDOWN(self);
	if (self->nr_huge0 >= 0) {
		snprintf(v, sizeof(v), "%ld", self->nr_huge0);
		dxt_write_sysfs("/proc/sys/vm/nr_hugepages", v);
	}
}

/* Image offset of a file's data. */
static uint64_t data_offset(struct __test_metadata *_metadata, FIXTURE_DATA(huge) *self,
			    const char *path)
{
	struct daxfs_inode in;

	ASSERT_EQ(0, image_lookup(self->image, self->image_len, path, NULL, &in));
	return le64toh(in.offset);
}

/* A udmabuf over self->memfd (self->buf_size bytes), imported and mounted: 0 or -errno. */
static int udmabuf_mount(struct __test_metadata *_metadata, FIXTURE_DATA(huge) *self)
{
	struct udmabuf_create c = { 0 };
	struct daxfs_import imp;
	int dev, r;

	if (fcntl(self->memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		TH_LOG("F_SEAL_SHRINK: %s", strerror(errno));
		return -errno;
	}
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		TH_LOG("/dev/udmabuf: %s", strerror(errno));
		return -errno;
	}
	c.memfd = self->memfd;
	c.flags = UDMABUF_FLAGS_CLOEXEC;
	c.size = self->buf_size;
	self->dmabuf = ioctl(dev, UDMABUF_CREATE, &c);
	r = self->dmabuf < 0 ? -errno : 0;
	close(dev);
	if (r) {
		TH_LOG("UDMABUF_CREATE of %zu bytes: %s", self->buf_size, strerror(-r));
		return r;
	}
	self->dev = dxt_dev_open();
	if (self->dev < 0)
		return self->dev;
	r = dxt_import(self->dev, self->dmabuf, 0, &imp);
	if (r)
		return r;
	r = mount_id(imp.id, self->mnt, MS_RDONLY, NULL);
	dxt_release(self->dev, imp.id);	/* the mount keeps the buffer */
	return r;
}

/* Reserve hugepages for @n more 2 MiB pages; 0 or a reason. */
static int reserve_hugepages(FIXTURE_DATA(huge) *self, long n, char *why, size_t len)
{
	char v[32];
	long cur, free_;

	if (dxt_read_sysfs("/proc/sys/vm/nr_hugepages", v, sizeof(v))) {
		snprintf(why, len, "/proc/sys/vm/nr_hugepages: %s", strerror(errno));
		return -1;
	}
	cur = atol(v);
	free_ = dxt_meminfo_kb("HugePages_Free:");
	if (dxt_meminfo_kb("Hugepagesize:") != (long)(HUGE / 1024)) {
		snprintf(why, len, "default huge page size is %ld kB, not 2048", dxt_meminfo_kb("Hugepagesize:"));
		return -1;
	}
	if (free_ >= n)
		return 0;
	self->nr_huge0 = cur;
	snprintf(v, sizeof(v), "%ld", cur + n - free_);
	dxt_write_sysfs("/proc/sys/vm/nr_hugepages", v);
	free_ = dxt_meminfo_kb("HugePages_Free:");
	if (free_ < n) {
		snprintf(why, len, "asked for %ld free 2 MiB pages, the kernel has %ld", n, free_);
		return -1;
	}
	return 0;
}

/*
 * Make the variant's buffer, hold the image at offset 0, mount it at
 * self->mnt.  false when the test was skipped.
 */
static bool setup_source(struct __test_metadata *_metadata, FIXTURE_DATA(huge) *self,
			 const FIXTURE_VARIANT(huge) *variant)
{
	char why[256], opts[128];
	int r, kfd;

	switch (variant->src) {
	case SRC_HUGETLB:
		self->buf_size = (self->image_len + HUGE - 1) & ~(HUGE - 1);
		ASSERT_EQ(0, reserve_hugepages(self, self->buf_size / HUGE, why, sizeof(why))) {
			TH_LOG("hugepages: %s", why);
		}
		self->memfd = memfd_create("daxfs-huge", MFD_HUGETLB | MFD_ALLOW_SEALING | MFD_CLOEXEC);
		ASSERT_LE(0, self->memfd) {
			TH_LOG("memfd_create(MFD_HUGETLB): %s", strerror(errno));
		}
		ASSERT_EQ(0, ftruncate(self->memfd, self->buf_size));
		self->bufmap = mmap(NULL, self->buf_size, PROT_READ | PROT_WRITE, MAP_SHARED,
				    self->memfd, 0);
		ASSERT_NE(MAP_FAILED, self->bufmap);
		memcpy(self->bufmap, self->image, self->image_len);
		kfd = kmsg_open();
		r = udmabuf_mount(_metadata, self);
		if (r == -EUCLEAN && dxt_kernel_version() == 612) {
			const char *needles[] = { "daxfs", "dmabuf:udmabuf", NULL };
			char line[512] = "";

			if (kfd >= 0 && kmsg_find(kfd, needles, line, sizeof(line)))
				TH_LOG("kernel log: %s", strtok(line, "\n"));
			close(kfd);
			SKIP(return false, "known 6.12 limitation: udmabuf's vmap of a hugetlb memfd repeats "
			     "the first 4 KiB of each 2 MiB page (vmap_udmabuf ignores the folio "
			     "offsets), so the import is refused with EUCLEAN, as checked; the PMD "
			     "path is covered here by the phys case, and by this case on sid");
		}
		if (kfd >= 0)
			close(kfd);
		ASSERT_EQ(0, r) {
			TH_LOG("import/mount of the hugetlb udmabuf: %s", strerror(-r));
		}
		break;
	case SRC_SHMEM:
		self->buf_size = (self->image_len + PAGE - 1) & ~(PAGE - 1);
		self->memfd = memfd_create("daxfs-shmem", MFD_ALLOW_SEALING | MFD_CLOEXEC);
		ASSERT_LE(0, self->memfd);
		ASSERT_EQ(0, ftruncate(self->memfd, self->buf_size));
		/* last page first: the allocator hands out descending pages */
		for (size_t off = self->buf_size; off; ) {
			size_t n;

			off -= PAGE;
			n = off < self->image_len ? self->image_len - off : 0;
			n = n > PAGE ? PAGE : n;
			if (!n) {
				ASSERT_EQ(1, pwrite(self->memfd, "", 1, off));
			} else {
				ASSERT_EQ((ssize_t)n, pwrite(self->memfd, self->image + off, n, off));
			}
		}
		self->bufmap = mmap(NULL, self->buf_size, PROT_READ, MAP_SHARED, self->memfd, 0);
		ASSERT_NE(MAP_FAILED, self->bufmap);
		r = udmabuf_mount(_metadata, self);
		ASSERT_EQ(0, r) {
			TH_LOG("import/mount of the shmem udmabuf: %s", strerror(-r));
		}
		break;
	case SRC_HEAP: {
		char err[ERRLEN];
		struct daxfs_import imp;

		r = dxt_buf_alloc(DXT_EXP_HEAP, self->image_len, &self->hbuf, err, sizeof(err));
		ASSERT_EQ(0, r) {
			TH_LOG("%s", err);
		}
		self->buf_size = self->hbuf.size;
		ASSERT_EQ(0, dxt_buf_write(&self->hbuf, 0, self->image, self->image_len));
		self->bufmap = dxt_buf_mmap(&self->hbuf, PROT_READ);
		ASSERT_NE(NULL, self->bufmap);
		self->dev = dxt_dev_open();
		ASSERT_LE(0, self->dev);
		ASSERT_EQ(0, dxt_import(self->dev, self->hbuf.fd, 0, &imp));
		r = mount_id(imp.id, self->mnt, MS_RDONLY, NULL);
		dxt_release(self->dev, imp.id);	/* the mount keeps the buffer */
		ASSERT_EQ(0, r) {
			TH_LOG("mount of the heap buffer: %s", strerror(-r));
		}
		break;
	}
	case SRC_PHYS: {
		char line[256];
		int fd;

		if (!dxt_iomem_has("Reserved", PHYS_ADDR, PHYS_SIZE, false)) {
			if (dxt_ci()) {
				TH_LOG("CI=true: no reserved RAM at 0x%llx: %s", PHYS_ADDR, DXT_MEMMAP_HINT);
				ASSERT_TRUE(false);
			}
			SKIP(return false, "no reserved RAM at 0x%llx+64M in /proc/iomem: %s", PHYS_ADDR,
			     DXT_MEMMAP_HINT);
		}
		ASSERT_LE(self->image_len, PHYS_SIZE);
		fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ((ssize_t)self->image_len,
			  pwrite(fd, self->image, self->image_len, PHYS_ADDR));
		close(fd);
		/* cpu_access=mount is accepted, and shown, for phys= too (a no-op there) */
		snprintf(opts, sizeof(opts), "phys=0x%llx,size=%llu,cpu_access=mount", PHYS_ADDR,
			 PHYS_SIZE);
		ASSERT_OK_MSG(mount_src("none", self->mnt, MS_RDONLY, opts), opts);
		ASSERT_EQ(0, proc_mounts_find(self->mnt, NULL, NULL, line, sizeof(line)));
		EXPECT_NE(NULL, strstr(line, ",cpu_access=mount")) {
			TH_LOG("/proc/mounts options: %s", line);
		}
		break;
	}
	}
	return true;
}

/* PFN of the buffer's byte @off. */
static uint64_t buf_pfn(FIXTURE_DATA(huge) *self, const FIXTURE_VARIANT(huge) *variant,
			uint64_t off)
{
	if (variant->src == SRC_PHYS)
		return (PHYS_ADDR + off) / PAGE;
	return pagemap_pfn(self->bufmap + off);
}

/* Are the buffer's pages of [off, off + 2 MiB) contiguous and 2 MiB-aligned? */
static bool buf_window_contiguous(FIXTURE_DATA(huge) *self, const FIXTURE_VARIANT(huge) *variant,
				  uint64_t off)
{
	uint64_t pfn0 = buf_pfn(self, variant, off);

	if (!pfn0 || pfn0 % PER_HUGE)
		return false;
	for (unsigned long i = 1; i < PER_HUGE; i++)
		if (buf_pfn(self, variant, off + i * PAGE) != pfn0 + i)
			return false;
	return true;
}

/* smaps VmFlags of the vma at @addr has flag @fl ("pf", "mm")? -1 unknown */
static int vma_has_flag(const void *addr, const char *fl)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	bool in = false;
	int r = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = s == (uintptr_t)addr;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			char want[8];

			snprintf(want, sizeof(want), " %s", fl);
			r = strstr(line, want) != NULL;
			break;
		}
	}
	fclose(f);
	return r;
}

/*
 * Map @maplen bytes of file @name (@size bytes of pattern @seed) shared,
 * and check, per 2 MiB window: PMD or not as the oracle says (by the page
 * faults of touching the window's first page, then its other pages), the
 * bytes; the PFNs of a private mapping of the file are the buffer's; then
 * SIGBUS past the file's last page.  Returns how many windows were
 * PMD-mapped.
 */
static int map_check(struct __test_metadata *_metadata, FIXTURE_DATA(huge) *self,
		     const FIXTURE_VARIANT(huge) *variant, const char *name, size_t size,
		     unsigned int seed, size_t maplen)
{
	uint64_t data = data_offset(_metadata, self, name);
	size_t npages = (size + PAGE - 1) / PAGE, nwin = maplen / HUGE;
	struct sigaction sa = { .sa_handler = touch_signal };
	int fd, huge_wins = 0, expect_wins = 0;
	long faults = 0;
	char *m, *pm, *want, c = 0;

	ASSERT_EQ(0, data % HUGE) {
		TH_LOG("%s: data at 0x%llx, not 2 MiB-aligned (mkdaxfs --align=2M)", name,
		       (unsigned long long)data);
	}
	fd = open(P(self->mnt, name), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	m = mmap(NULL, maplen, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	pm = mmap(NULL, npages * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, pm);
	close(fd);
	TH_LOG("%s: %zu bytes at image offset 0x%llx mapped at %p", name, size,
	       (unsigned long long)data, m);
	if (self->pmd) {
		EXPECT_EQ(0, (uintptr_t)m % HUGE) {
			TH_LOG("the driver's get_unmapped_area (thp_get_unmapped_area) should align "
			       "a %zu-byte mapping to 2 MiB", maplen);
		}
	}
	/* shared: a PFN map (get_user_pages refuses it); private: a mixed map */
	EXPECT_EQ(1, vma_has_flag(m, "pf"));
	EXPECT_EQ(0, vma_has_flag(m, "mm"));
	EXPECT_EQ(1, vma_has_flag(pm, "mm"));
	EXPECT_EQ(0, vma_has_flag(pm, "pf"));

	for (size_t w = 0; w < nwin; w++) {
		/* the driver maps a PMD only for a window wholly inside the file */
		bool inside = (w + 1) * PER_HUGE <= npages;
		bool contig = inside && buf_window_contiguous(self, variant, data + w * HUGE);
		bool expect = self->pmd && contig && !((uintptr_t)m % HUGE);
		/* the heap's own mmap is a PFN map too: its PFNs are unknown */
		bool known = variant->src != SRC_HEAP;
		size_t first = w * PER_HUGE, last = first + PER_HUGE;
		long f0, f1, f2;

		if (first >= npages)
			break;
		last = last < npages ? last : npages;
		f0 = minflt();
		c += *(volatile char *)(m + first * PAGE);
		f1 = minflt();
		for (size_t i = first + 1; i < last; i++)
			c += *(volatile char *)(m + i * PAGE);
		f2 = minflt();
		faults += f2 - f0;
		TH_LOG("%s window %zu: %s, buffer pages %scontiguous+aligned; faults: %ld for its "
		       "first page, %ld for its other %zu pages", name, w,
		       inside ? "inside the file" : "past EOF",
		       !known ? "(unknown: heap) " : contig ? "" : "not ",
		       f1 - f0, f2 - f1, last - first - 1);
		if ((variant->src == SRC_HUGETLB || variant->src == SRC_PHYS) && inside)
			EXPECT_TRUE(contig);	/* hugetlb pages and phys= ranges are */
		if (variant->src == SRC_SHMEM && inside)
			EXPECT_FALSE(contig);	/* reverse-allocated pages are not */
		expect_wins += expect;
		if (!known && f1 - f0 == 1 && f2 - f1 == 0 && inside && self->pmd) {
			huge_wins++;	/* a PMD: the heap's pages happened to be contiguous */
		} else if (expect) {
			/* one PMD mapped the whole window */
			EXPECT_EQ(1, f1 - f0);
			EXPECT_EQ(0, f2 - f1);
			huge_wins += f1 - f0 == 1 && f2 - f1 == 0;
		} else {
			/*
			 * 4 KiB pages, fault_around_pages at a time (aligned blocks;
			 * an unaligned mapping's first block may have been
			 * mapped by the window before)
			 */
			long fa = fault_around(), want_f;

			ASSERT_LT(0, fa);	/* the module's parameter is readable */
			want_f = (long)((last - first + fa - 1) / fa);
			EXPECT_LE(want_f - 1, f2 - f0);
			EXPECT_GE(want_f + 2, f2 - f0);
			if (last - first > 2 * (size_t)fa)
				EXPECT_LT(0, f2 - f1);
		}
	}
	TH_LOG("%s: %ld page faults touching %zu pages (%d PMD windows expected)", name, faults,
	       npages, expect_wins);

	/* zero copy: the PFNs the driver maps are the buffer's, around the windows' edges */
	for (int k = 0; k < 9; k++) {
		static const size_t at[] = { 0, 1, 17, PER_HUGE - 1, PER_HUGE, PER_HUGE + 1,
					     2 * PER_HUGE - 1, 2 * PER_HUGE, 2 * PER_HUGE + 1 };
		size_t i = at[k];
		uint64_t f, b;

		if (i >= npages)
			break;
		c += *(volatile char *)(pm + i * PAGE);
		f = pagemap_pfn(pm + i * PAGE);
		b = buf_pfn(self, variant, data + i * PAGE);

		if (!f) {
			TH_LOG("%s page %zu: no PFN in pagemap for the private mapping", name, i);
			EXPECT_NE(0, f);
			break;
		}
		/* pagemap does not walk the shared PFN map */
		EXPECT_EQ(0, pagemap_pfn(m + i * PAGE));
		if (variant->src == SRC_HEAP)
			continue;	/* the heap's own mapping shows no PFNs */
		EXPECT_EQ(b, f) {
			TH_LOG("%s page %zu: mapped pfn 0x%llx, buffer pfn 0x%llx", name, i,
			       (unsigned long long)f, (unsigned long long)b);
		}
	}

	/* the bytes */
	want = malloc(size);
	ASSERT_NE(NULL, want);
	pattern(want, size, seed, 0);
	EXPECT_EQ(0, memcmp(m, want, size));
	EXPECT_EQ(0, memcmp(pm, want, size));
	free(want);
	for (size_t i = size; i < npages * PAGE; i += 211) {
		EXPECT_EQ(0, m[i]);	/* the zero tail of the last page */
		if (m[i])
			break;
	}

	/* past the file's last page: SIGBUS, with or without a PMD before it */
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	if (npages * PAGE < maplen) {
		EXPECT_EQ(SIGBUS, touch(m + npages * PAGE, &c));
		EXPECT_EQ(SIGBUS, touch(m + maplen - 1, &c));
	}
	munmap(m, maplen);
	munmap(pm, npages * PAGE);
	return huge_wins;
}

TEST_F_TIMEOUT(huge, map_files, 300)
{
	int wins;

	if (!setup_source(_metadata, self, variant))
		return;
	wins = map_check(_metadata, self, variant, BIG, BIG_SIZE, BIG_SEED, BIG_SIZE);
	/* 4 MiB mapped of a 2 MiB + 100 file: one window, then EOF */
	wins += map_check(_metadata, self, variant, TAIL, TAIL_SIZE, TAIL_SEED, 2 * HUGE);
	TH_LOG("%d of 3 file windows PMD-mapped (%s, %s)", wins,
	       variant->src == SRC_HUGETLB ? "hugetlb udmabuf" :
	       variant->src == SRC_SHMEM ? "shmem udmabuf" :
	       variant->src == SRC_HEAP ? "system heap" : "phys= range",
	       self->pmd ? "a kernel with PFN PMDs" : "a kernel without PFN PMDs");
	if (self->pmd && (variant->src == SRC_HUGETLB || variant->src == SRC_PHYS)) {
		EXPECT_EQ(3, wins);
	} else if (!self->pmd || variant->src == SRC_SHMEM) {
		EXPECT_EQ(0, wins);
	}
}

/* A private mapping: no PMDs (copy-on-write needs pages); a write copies one 4 KiB page. */
TEST_F_TIMEOUT(huge, private_write, 300)
{
	uint64_t data;
	char *m, *want;
	long before, after;
	int fd;

	if (!setup_source(_metadata, self, variant))
		return;
	data = data_offset(_metadata, self, BIG);
	fd = open(P(self->mnt, BIG), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	m = mmap(NULL, BIG_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	want = malloc(BIG_SIZE);
	ASSERT_NE(NULL, want);
	pattern(want, BIG_SIZE, BIG_SEED, 0);
	EXPECT_EQ(0, memcmp(m, want, BIG_SIZE));	/* read faults first */
	before = huge_bytes(m, BIG_SIZE);
	m[3 * PAGE + 5] ^= 0x5a;
	after = huge_bytes(m, BIG_SIZE);
	TH_LOG("private mapping: %ld huge bytes after reading, %ld after one write%s", before, after,
	       before < 0 ? " (no PAGEMAP_SCAN)" : "");
	if (before >= 0) {
		EXPECT_EQ(0, before);
		EXPECT_EQ(0, after);
	}
	/* the copy is private: this mapping changed, the buffer and the file did not */
	EXPECT_EQ((char)(want[3 * PAGE + 5] ^ 0x5a), m[3 * PAGE + 5]);
	want[3 * PAGE + 5] ^= 0x5a;
	EXPECT_EQ(0, memcmp(m, want, BIG_SIZE));
	want[3 * PAGE + 5] ^= 0x5a;
	if (variant->src != SRC_HEAP) {	/* the heap's own mapping shows no PFNs */
		EXPECT_NE(buf_pfn(self, variant, data + 3 * PAGE), pagemap_pfn(m + 3 * PAGE));
		EXPECT_EQ(buf_pfn(self, variant, data + 4 * PAGE), pagemap_pfn(m + 4 * PAGE));
	}
	{
		char b[16];

		ASSERT_EQ(16, pread(fd, b, 16, 3 * PAGE));
		EXPECT_EQ(0, memcmp(b, want + 3 * PAGE, 16));
	}
	munmap(m, BIG_SIZE);
	close(fd);
	free(want);
}

/*
 * The paths that take page references through a mapping, on a mapped and
 * touched (PMD-mapped where the kernel and buffer allow) shared mapping:
 * get_user_pages() refuses the PFN map, so each fails with EFAULT (or, for
 * /proc/PID/mem and ptrace, reads through the driver's ->access with the
 * right bytes), and the buffer's pages are intact and unreferenced after.
 */
TEST_F_TIMEOUT(huge, gup_paths, 300)
{
	/* inside the second MiB of the first window: another folio for the heap */
	const size_t off = HUGE / 2 + 3 * PAGE;
	char *m, *want, *buf = NULL, core_pat[256] = "", path[192];
	int fd, memfd;
	ssize_t n;
	pid_t pid;
	int st;

	if (!setup_source(_metadata, self, variant))
		return;
	want = malloc(BIG_SIZE);
	ASSERT_NE(NULL, want);
	pattern(want, BIG_SIZE, BIG_SEED, 0);
	ASSERT_EQ(0, posix_memalign((void **)&buf, PAGE, 2 * PAGE));
	fd = open(P(self->mnt, BIG), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	m = mmap(NULL, BIG_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	{
		long f0 = minflt();

		ASSERT_EQ(0, memcmp(m, want, BIG_SIZE));	/* every page faulted in */
		TH_LOG("%ld page faults mapped the %lu pages (%s)", minflt() - f0, BIG_SIZE / PAGE,
		       minflt() - f0 < 8 ? "PMDs" : "some or all by 4 KiB pages");
	}

	/* /proc/self/mem: get_user_pages fails, the driver's ->access reads */
	memfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, memfd);
	memset(buf, 0, PAGE);
	n = pread(memfd, buf, PAGE, (off_t)(uintptr_t)(m + off));
	TH_LOG("/proc/self/mem pread of 4 KiB at +%zu: %zd (%s)", off, n,
	       n < 0 ? strerror(errno) : "bytes");
	EXPECT_EQ((ssize_t)PAGE, n);
	EXPECT_EQ(0, memcmp(buf, want + off, PAGE));
	/* across a window's edge, unaligned */
	n = pread(memfd, buf, PAGE + 100, (off_t)(uintptr_t)(m + HUGE - PAGE + 50));
	EXPECT_EQ((ssize_t)(PAGE + 100), n);
	EXPECT_EQ(0, memcmp(buf, want + HUGE - PAGE + 50, PAGE + 100));
	/* writes through /proc/self/mem are refused */
	EXPECT_ERRNO(EIO, SYS(pwrite(memfd, buf, 16, (off_t)(uintptr_t)(m + off))));
	close(memfd);

	/* process_vm_readv, vmsplice, O_DIRECT from the mapping: EFAULT */
	expect_pins_refused(_metadata, m + off, m + off, self->work);

	/* a core dump of a process with the mapping (coredump_filter: shared file maps) */
	ASSERT_EQ(0, dxt_read_sysfs("/proc/sys/kernel/core_pattern", core_pat, sizeof(core_pat)));
	core_pat[strcspn(core_pat, "\n")] = 0;
	snprintf(path, sizeof(path), "%s/core", self->work);
	ASSERT_EQ(0, dxt_write_sysfs("/proc/sys/kernel/core_pattern", path));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
		int cf = open("/proc/self/coredump_filter", O_WRONLY);

		setrlimit(RLIMIT_CORE, &rl);
		if (cf >= 0) {
			if (write(cf, "0x3f", 4) != 4)
				_exit(3);
			close(cf);
		}
		(void)*(volatile char *)(m + off);
		abort();
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	dxt_write_sysfs("/proc/sys/kernel/core_pattern", core_pat);
	EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	EXPECT_TRUE(WCOREDUMP(st));
	TH_LOG("core dump of a process with the mapping: %lld bytes at %s",
	       (long long)dxt_file_size(path), path);
	EXPECT_LT(0, dxt_file_size(path));
	unlink(path);

	/* the buffer is intact: the mapping and read() still see the file */
	EXPECT_EQ(0, memcmp(m, want, BIG_SIZE));
	{
		char *r = malloc(BIG_SIZE);

		ASSERT_NE(NULL, r);
		EXPECT_EQ((ssize_t)BIG_SIZE, pread(fd, r, BIG_SIZE, 0));
		EXPECT_EQ(0, memcmp(r, want, BIG_SIZE));
		free(r);
	}
	munmap(m, BIG_SIZE);
	close(fd);
	free(buf);
	free(want);
}

/* ------------------------------------------------------------ cpu_access */

#define DATA		"data"
#define DATA_SIZE	(16UL << 20)
#define DATA_SEED	41
#define SMALL		"small"
#define SMALL_SIZE	5000
#define SMALL_SEED	42

FIXTURE(cpu) {
	char work[64];
	char src[128], img[128], mnt[128], mnt2[128];
	struct dxmount m;
	struct daxfs_baseline base;
};

FIXTURE_VARIANT(cpu) {
	enum dxt_exporter kind;
};

DAXFS_EXPORTER_VARIANTS(cpu);

/* The cpu fixture's shared tree: 16 MiB of data and a small file. */
static int add_data_small(const char *src, char *err, size_t len)
{
	return fill_two(src, DATA, DATA_SIZE, DATA_SEED, SMALL, SMALL_SIZE, SMALL_SEED, err, len);
}

FIXTURE_SETUP(cpu)
{
	char err[ERRLEN];
	int r;

	dxm_init(&self->m);
	self->work[0] = 0;
	REQUIRE_EXPORTER(variant->kind);
	FIXTURE_WORKDIR_SETUP_MNT2(self);
	SHARED_IMAGE("cpu", NULL, add_data_small, NULL, self->src, self->img);
	r = dxm_setup(&self->m, variant->kind, self->img, 0, NULL, err, sizeof(err));
	if (r)
		TH_LOG("%s", err);
	ASSERT_EQ(0, r);
}

FIXTURE_TEARDOWN_PARENT(cpu)
{
	WORKDIR_TEARDOWN(self);
}

/* Seconds to read @path in 4 KiB read()s; -1 on error or wrong bytes. */
static double read_4k(const char *path, size_t size, unsigned int seed)
{
	static char buf[4096], want[4096];
	struct timespec a, b;
	size_t off = 0;
	bool same = true;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t k;

	if (fd < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	while ((k = read(fd, buf, sizeof(buf))) > 0) {
		if (!(off & ((1 << 20) - 1))) {	/* spot-check one block per MiB */
			pattern(want, k, seed, off);
			same = same && !memcmp(buf, want, k);
		}
		off += k;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	close(fd);
	if (k < 0 || off != size || !same)
		return -1;
	return (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
}

TEST_F_TIMEOUT(cpu, cpu_access_mount, 300)
{
	char opts[512], err[ERRLEN];
	double t_each, t_mount;
	uint64_t id = self->m.imp.id;

	/* the same import, mounted both ways */
	ASSERT_OK_MSG(mount_id(id, self->mnt, MS_RDONLY, "cpu_access=mount"), "cpu_access=mount");
	ASSERT_OK_MSG(mount_id(id, self->mnt2, MS_RDONLY, "cpu_access=each"), "cpu_access=each");
	ASSERT_EQ(0, proc_mounts_find(self->mnt, NULL, NULL, opts, sizeof(opts)));
	TH_LOG("/proc/mounts, cpu_access=mount: %s", opts);
	EXPECT_NE(NULL, strstr(opts, ",cpu_access=mount"));
	ASSERT_EQ(0, proc_mounts_find(self->mnt2, NULL, NULL, opts, sizeof(opts)));
	TH_LOG("/proc/mounts, cpu_access=each (the default, not shown): %s", opts);
	EXPECT_EQ(NULL, strstr(opts, "cpu_access"));

	/* identical bytes through read() */
	EXPECT_EQ(0, compare_trees(self->src, self->mnt, err, sizeof(err), NULL)) {
		TH_LOG("cpu_access=mount: %s", err);
	}
	EXPECT_EQ(0, compare_trees(self->src, self->mnt2, err, sizeof(err), NULL)) {
		TH_LOG("cpu_access=each: %s", err);
	}

	/* the cost of bracketing each read() */
	t_each = read_4k(P(self->mnt2, DATA), DATA_SIZE, DATA_SEED);
	t_mount = read_4k(P(self->mnt, DATA), DATA_SIZE, DATA_SEED);
	TH_LOG("%s: 4 KiB read()s of a %lu MiB file: %.3f s with cpu_access=each, "
	       "%.3f s with cpu_access=mount", dxt_exporter_name(variant->kind), DATA_SIZE >> 20,
	       t_each, t_mount);
	EXPECT_LT(0, t_each);
	EXPECT_LT(0, t_mount);

	/* x86 is coherent: an exporter write after the mount is seen either way */
	{
		static char want[SMALL_SIZE], flip[16], got[16];
		struct daxfs_inode in;
		void *image;
		size_t len = dxt_file_size(self->img);
		int fd = open(self->img, O_RDONLY | O_CLOEXEC);

		ASSERT_LE(0, fd);
		image = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		close(fd);
		ASSERT_NE(MAP_FAILED, image);
		ASSERT_EQ(0, image_lookup(image, len, SMALL, NULL, &in));
		munmap(image, len);
		pattern(want, SMALL_SIZE, SMALL_SEED, 0);
		for (int i = 0; i < 16; i++)
			flip[i] = ~want[100 + i];
		ASSERT_EQ(0, dxt_buf_write(&self->m.buf, le64toh(in.offset) + 100, flip, 16));
		fd = open(P(self->mnt, SMALL), O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(16, pread(fd, got, 16, 100));
		close(fd);
		EXPECT_EQ(0, memcmp(got, flip, 16));
		ASSERT_EQ(0, dxt_buf_write(&self->m.buf, le64toh(in.offset) + 100, want + 100, 16));
	}

	/* a remount may repeat the option, not change it */
	EXPECT_EQ(0, SYS(mount(NULL, self->mnt, NULL, MS_REMOUNT | MS_RDONLY, "cpu_access=mount")));
	EXPECT_ERRNO(EINVAL, SYS(mount(NULL, self->mnt, NULL, MS_REMOUNT | MS_RDONLY,
				       "cpu_access=each")));
	EXPECT_ERRNO(EINVAL, SYS(mount(NULL, self->mnt2, NULL, MS_REMOUNT | MS_RDONLY,
				       "cpu_access=mount")));
	ASSERT_EQ(0, proc_mounts_find(self->mnt, NULL, NULL, opts, sizeof(opts)));
	EXPECT_NE(NULL, strstr(opts, ",cpu_access=mount"));
	EXPECT_EQ(0, umount_path(self->mnt, 0));
	EXPECT_EQ(0, umount_path(self->mnt2, 0));
}

TEST_F_TIMEOUT(cpu, cpu_access_bad_value, 120)
{
	const char *bogus[] = { "cpu_access=bogus", NULL };
	const char *good[] = { "cpu_access=mount", NULL };
	char opts[512];

	EXPECT_ERRNO(EINVAL, mount_id(self->m.imp.id, self->mnt, MS_RDONLY, "cpu_access=sometimes"));
	EXPECT_ERRNO(EINVAL, mount_id(self->m.imp.id, self->mnt, MS_RDONLY, "cpu_access="));
	EXPECT_ERRNO(EINVAL, mount_id(self->m.imp.id, self->mnt, MS_RDONLY, "cpu_access"));
	EXPECT_ERRNO(EINVAL, mount_fd(self->m.buf.fd, self->mnt, bogus));
	/* and through fsconfig, from the fd */
	ASSERT_OK_MSG(mount_fd(self->m.buf.fd, self->mnt, good), "fsconfig cpu_access=mount");
	ASSERT_EQ(0, proc_mounts_find(self->mnt, NULL, NULL, opts, sizeof(opts)));
	EXPECT_NE(NULL, strstr(opts, ",cpu_access=mount")) {
		TH_LOG("/proc/mounts options: %s", opts);
	}
	EXPECT_EQ(0, access(P(self->mnt, SMALL), R_OK));
	EXPECT_EQ(0, umount_path(self->mnt, 0));
}

TEST_HARNESS_MAIN
