// SPDX-License-Identifier: GPL-2.0
/*
 * driver-export: files back out as dma-bufs (DAXFS_IOC_EXPORT_DMABUF on a
 * file of a mount, uapi/linux/daxfs.h; issue 19).
 *
 * The oracle for "the child's pages ARE the mounted buffer's pages": a
 * MAP_PRIVATE mapping of the file and one of the child, read-faulted
 * (4 KiB PTEs of the buffer's pages, walked by pagemap; shared mappings are
 * PFN maps, which pagemap does not walk), must show the same PFN page by
 * page; and the test importer of selftests/exporter (daxfs_gpuexp.ko,
 * DAXFS_GPUEXP_IOC_IMPORT_CHECK: attach + map for a device, as a driver
 * does) must get DMA segments that are exactly those physical pages (no
 * IOMMU in the guests) and a kernel vmap with the file's bytes.
 *
 * Per parent exporter (udmabuf, heap, vgem; a kernel without one skips that
 * variant, saying why, except under CI=true on a kernel that must have it):
 *  - whole_and_ranges: whole files and page-aligned ranges (to EOF, up to
 *    the last page, lengths that are no page multiple): the size returned,
 *    close-on-exec, the child's mmap equals read() of the file and the
 *    file's own mmap (the tail of the last page too), the same PFNs, the
 *    importer's DMA pages for DMA_BIDIRECTIONAL (what DRM importers map) and
 *    DMA_TO_DEVICE (DMA_FROM_DEVICE, a device writing the window: EPERM),
 *    its vmap bytes, fdinfo's exp_name "daxfs" and size; two children of
 *    one file alive at once, the file closed under them;
 *  - vgem_import: vgem imports a child (PRIME fd-to-handle, as a GPU
 *    runtime given a tensor would; on 6.1 and 6.12 vgem maps it at import),
 *    twice to the same object; the child's fd, the import and the mount go,
 *    and vgem's object alone keeps the child: PRIME hands the same dma-buf
 *    back for the handle (DRM has no dumb-buffer mapping of an imported
 *    object: drm_gem_dumb_map_offset refuses it with EINVAL, logged), whose
 *    mmap shows the file's bytes; after GEM_CLOSE and the last unmap,
 *    meta_bytes is back where it was before the mount;
 *  - nested_image: a file that is itself a daxfs image, exported, imported
 *    through /dev/daxfs (exporter "daxfs") and mounted again: the inner
 *    tree is right, and every page of the nested mount's files is the
 *    outer file's page (zero copies); a file of the nested mount exports
 *    too (a window on a window: the same pages, DMA addresses, bytes); the
 *    nested mount outlives the outer one;
 *  - write_refusals: PROT_WRITE shared mmap and mprotect to PROT_WRITE
 *    EACCES, DMA_BUF_IOCTL_SYNC with a write (or read-write) bracket EPERM
 *    and with a read bracket 0, mmap past the child's end EINVAL, a
 *    MAP_PRIVATE write stays private;
 *  - lifetime: the parent unmounts while a child is open and mapped, the
 *    mapping and new mappings read right, the module cannot be removed
 *    (EWOULDBLOCK, as for any module in use), a forked process reads the
 *    inherited mapping, /proc/self/mem reads it through the driver,
 *    process_vm_readv, vmsplice and O_DIRECT from it fail with EFAULT
 *    (PFN map), and meta_bytes is back where it was before the mount once
 *    the child is closed and unmapped.
 *
 * On any exporter (the first the kernel has), each errno of the uapi
 * comment: flags, reserved0, offsets not page-aligned, at and after EOF,
 * ranges past the last page, empty files, argsz below version 1 (EINVAL),
 * larger with a non-zero tail or above a page (E2BIG), ioctl sizes, a
 * directory (ENOTTY), an O_PATH fd (EBADF), /dev/daxfs (ENOTTY), no fd left
 * (EMFILE), a phys= and a DAX block device mount (EOPNOTSUPP; reserved RAM
 * and legacy pmem as make check boots the VM, see driver-phys), an
 * I/O-memory parent from the test exporter (EOPNOTSUPP), and a dynamic,
 * pinnable parent (exports; its MOVE stays EBUSY while a child lives, even
 * after the unmount).  An unprivileged process may export a file it can
 * read.  The data_align EOPNOTSUPP cannot happen with 4 KiB pages (the
 * format's least alignment is 4 KiB).
 */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <xf86drm.h>

#include "daxfs_harness.h"
#include "daxfs_format.h"
#include "dxt_gpuexp.h"

/* Files of gen_tree() (o.big) */
#define BIG		"big"
#define BIG_SIZE	((1 << 20) + 3 * 4096 + 77)
#define BIG_SEED	14
#define BIG_PAGES	((BIG_SIZE + PAGE - 1) / PAGE)		/* 260 */
#define DATA		"three-pages-and-100"
#define DATA_SIZE	(3 * 4096 + 100)
#define TINY		"tiny"					/* 1 byte, 0644 */
#define ONE_PAGE	"page"					/* 4096 bytes */

/* The nested image: a daxfs image of inner_files, a file of the tree. */
#define INNER		"inner.img"
static const struct tree_file inner_files[] = {
	{ "a", 3 * 4096 + 7, 40, 0644 }, { "b", 5000, 41, 0644 }, { "d/c", 8192, 42, 0600 },
};

#define PHYS_ADDR	0x60000000ULL
#define PHYS_SIZE	(64ULL << 20)
#define PMEM_ADDR	0x70000000ULL
#define PMEM_SIZE	(64ULL << 20)

#define BIDI		DAXFS_GPUEXP_DMA_BIDIRECTIONAL
#define TO_DEV		DAXFS_GPUEXP_DMA_TO_DEVICE

/* SRC/../inner-src: the nested image's tree, beside the shared tree. */
static void inner_src_of(const char *src, char *out, size_t len)
{
	snprintf(out, len, "%.*s/inner-src", (int)(strrchr(src, '/') - src), src);
}

static int add_inner(const char *src, char *err, size_t len)
{
	char dir[PATH_MAX], img[PATH_MAX];

	inner_src_of(src, dir, sizeof(dir));
	if (mkdir(dir, 0755) || mkdir(P(dir, "d"), 0755)) {
		snprintf(err, len, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (fill_files(dir, inner_files, sizeof(inner_files) / sizeof(inner_files[0]), err, len))
		return -1;
	snprintf(img, sizeof(img), "%s/%s", src, INNER);
	return dxt_mkimage(img, dir, NULL, err, len);
}

/*
 * The test importer, /dev/daxfs_gpuexp, into self->gdev: without it the
 * test fails under CI=true (a kernel-side test that cannot run) and skips
 * elsewhere.
 */
#define REQUIRE_IMPORTER(self) do {					\
	char _why[ERRLEN];						\
	(self)->gdev = dxt_gpuexp_open(_why, sizeof(_why));		\
	NEED((self)->gdev >= 0, "%s", _why);				\
} while (0)

/* An export that must succeed: the child's fd, its struct into *e. */
#define EXPORT_OK(fd, off, len, e) ({					\
	int _c = dxt_export((fd), (off), (len), (e));			\
	if (_c < 0)							\
		TH_LOG("export of [%llu, +%llu): %s",			\
		       (unsigned long long)(off), (unsigned long long)(len), \
		       strerror(-_c));					\
	ASSERT_LE(0, _c);						\
	_c;								\
})

/* mmap(2) that must fail: 0 (the mapping undone) or -errno. */
static int mmap_errno(size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

static int try_unload(void)
{
	return syscall(SYS_delete_module, "daxfs", O_NONBLOCK) ? -errno : 0;
}

/* ------------------------------------------------------------ checks */

/*
 * Everything about child @cfd of file @fd for [off, off + size): bytes,
 * PFNs, the importer's view (when gdev >= 0), fdinfo.
 */
static void check_child(struct __test_metadata *_metadata, int gdev, int fd, uint64_t off,
			uint64_t size, int cfd, const char *what)
{
	size_t npages = size / PAGE, nread;
	uint64_t *fpfn, *cpfn, *dpfn = NULL;
	char *fm, *cm, *fp, *cp, *rd, *vb, val[64], err[ERRLEN];
	struct stat st;
	ssize_t k;

	ASSERT_EQ(0, size % PAGE);
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_LT(off, (uint64_t)st.st_size);
	nread = (uint64_t)st.st_size - off < size ? (uint64_t)st.st_size - off : size;
	rd = malloc(size);
	vb = malloc(size);
	fpfn = calloc(npages, sizeof(*fpfn));
	cpfn = calloc(npages, sizeof(*cpfn));
	ASSERT_TRUE(rd && vb && fpfn && cpfn);
	k = pread(fd, rd, size, off);
	ASSERT_EQ((ssize_t)nread, k);

	/* the dma-buf's size and flags */
	EXPECT_EQ((off_t)size, lseek(cfd, 0, SEEK_END));
	EXPECT_EQ(FD_CLOEXEC, fcntl(cfd, F_GETFD) & FD_CLOEXEC) {
		TH_LOG("%s: the child's fd is not close-on-exec", what);
	}
	EXPECT_EQ(0, fdinfo_field(cfd, "exp_name", val, sizeof(val)));
	EXPECT_STREQ("daxfs", val);
	EXPECT_EQ(0, fdinfo_field(cfd, "size", val, sizeof(val)));
	EXPECT_EQ(size, strtoull(val, NULL, 10));

	/* shared mappings: the child's bytes are read()'s, and the file's mmap's */
	fm = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, off);
	ASSERT_NE(MAP_FAILED, fm);
	cm = mmap(NULL, size, PROT_READ, MAP_SHARED, cfd, 0);
	ASSERT_NE(MAP_FAILED, cm) {
		TH_LOG("%s: mmap of the child: %s", what, strerror(errno));
	}
	EXPECT_EQ(0, memcmp(cm, rd, nread)) {
		TH_LOG("%s: the child's mmap differs from read() of the file", what);
	}
	EXPECT_EQ(0, memcmp(cm, fm, size)) {
		TH_LOG("%s: the child's mmap differs from the file's (past EOF?)", what);
	}

	/* private mappings: the same pages */
	fp = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, off);
	ASSERT_NE(MAP_FAILED, fp);
	cp = mmap(NULL, size, PROT_READ, MAP_PRIVATE, cfd, 0);
	ASSERT_NE(MAP_FAILED, cp) {
		TH_LOG("%s: MAP_PRIVATE mmap of the child: %s", what, strerror(errno));
	}
	EXPECT_EQ(0, memcmp(cp, fm, size));
	ASSERT_EQ(0, pagemap_pfns(fp, npages, fpfn));
	ASSERT_EQ(0, pagemap_pfns(cp, npages, cpfn));
	for (size_t i = 0; i < npages; i++) {
		EXPECT_NE(0, fpfn[i]);
		EXPECT_EQ(fpfn[i], cpfn[i]) {
			TH_LOG("%s: page %zu: the child maps PFN 0x%llx, the file 0x%llx: "
			       "not the mounted buffer's page", what, i,
			       (unsigned long long)cpfn[i], (unsigned long long)fpfn[i]);
			break;
		}
	}

	/* a device's view: DMA pages and the kernel vmap */
	if (gdev >= 0) {
		static const uint32_t dirs[] = { BIDI, TO_DEV };

		for (size_t d = 0; d < 2; d++) {
			size_t n = 0;
			uint32_t nsegs = 0;
			int r = dxt_gpuexp_dma_pfns(gdev, cfd, dirs[d], &dpfn, &n, &nsegs, err,
						    sizeof(err));

			EXPECT_EQ(0, r) {
				TH_LOG("%s: the test importer: %s", what, err);
			}
			if (r)
				continue;
			EXPECT_EQ(npages, n);
			for (size_t i = 0; i < n && i < npages; i++) {
				EXPECT_EQ(fpfn[i], dpfn[i]) {
					TH_LOG("%s: DMA page %zu (%s, %u segments) is 0x%llx, the "
					       "file's page 0x%llx", what, i,
					       dirs[d] == BIDI ? "BIDIRECTIONAL" : "TO_DEVICE",
					       nsegs, (unsigned long long)dpfn[i],
					       (unsigned long long)fpfn[i]);
					break;
				}
			}
			free(dpfn);
			dpfn = NULL;
		}
		memset(vb, 0, size);
		EXPECT_EQ(0, dxt_gpuexp_vmap_read(gdev, cfd, BIDI, 0, vb, size));
		EXPECT_EQ(0, memcmp(vb, fm, size)) {
			TH_LOG("%s: the child's kernel vmap differs from the file", what);
		}
		/* a window at an odd offset */
		if (size > PAGE) {
			memset(vb, 0, size);
			EXPECT_EQ(0, dxt_gpuexp_vmap_read(gdev, cfd, TO_DEV, PAGE - 17, vb, 1000));
			EXPECT_EQ(0, memcmp(vb, fm + PAGE - 17, 1000));
		}
	}
	munmap(fm, size);
	munmap(cm, size);
	munmap(fp, size);
	munmap(cp, size);
	free(rd);
	free(vb);
	free(fpfn);
	free(cpfn);
}

/* ------------------------------------------- per exporter of the parent */

FIXTURE(ex) {
	char work[64];
	char src[128], img[128], mnt[128], mnt2[128];
	char inner_src[160];
	struct dxmount m;
	long long meta0;	/* meta_bytes before the mount */
	int gdev;
	struct daxfs_baseline base;
};

FIXTURE_VARIANT(ex) {
	enum dxt_exporter kind;
};

DAXFS_EXPORTER_VARIANTS(ex);

FIXTURE_SETUP(ex)
{
	struct gen_opts o = { .big = true };

	dxm_init(&self->m);
	self->work[0] = 0;
	self->gdev = -1;
	REQUIRE_EXPORTER(variant->kind);
	FIXTURE_WORKDIR_SETUP_MNT2(self);
	SHARED_IMAGE("export", &o, add_inner, NULL, self->src, self->img);
	inner_src_of(self->src, self->inner_src, sizeof(self->inner_src));
	self->meta0 = meta_bytes();
	MOUNT_IMAGE();
}

/* in the parent, once the test's process is gone: paths and numbers only */
FIXTURE_TEARDOWN_PARENT(ex)
{
	WORKDIR_TEARDOWN(self);
}

TEST_F_TIMEOUT(ex, whole_and_ranges, 300)
{
	static const struct {
		const char *file;
		uint64_t off, len, size;
	} cases[] = {
		{ BIG, 0, 0, BIG_PAGES * PAGE },			/* whole */
		{ BIG, 16 * PAGE, 37 * PAGE + 5, 38 * PAGE },		/* middle */
		{ BIG, 200 * PAGE, 0, (BIG_PAGES - 200) * PAGE },	/* to EOF */
		{ BIG, (BIG_PAGES - 1) * PAGE, 0, PAGE },		/* the last page */
		{ BIG, 0, BIG_SIZE, BIG_PAGES * PAGE },			/* exactly the file */
		{ BIG, 0, BIG_PAGES * PAGE, BIG_PAGES * PAGE },		/* up to its last page */
		{ BIG, 3 * PAGE, 1, PAGE },				/* one byte */
		{ DATA, 0, 0, 4 * PAGE },
		{ TINY, 0, 0, PAGE },
		{ ONE_PAGE, 0, 0, PAGE },
	};
	struct daxfs_export e;
	char what[128];
	int fd, cfd, cfd2;

	REQUIRE_IMPORTER(self);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(what, sizeof(what), "%s [%llu, +%llu)", cases[i].file,
			 (unsigned long long)cases[i].off, (unsigned long long)cases[i].len);
		fd = open(P(self->mnt, cases[i].file), O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd);
		memset(&e, 0xA5, sizeof(e));
		e.argsz = sizeof(e);
		e.flags = 0;
		e.reserved0 = 0;
		e.offset = cases[i].off;
		e.length = cases[i].len;
		cfd = ioctl(fd, DAXFS_IOC_EXPORT_DMABUF, &e);
		ASSERT_EQ(0, cfd) {
			TH_LOG("%s: %s", what, strerror(errno));
		}
		cfd = e.fd;
		ASSERT_LE(0, cfd);
		EXPECT_EQ(cases[i].size, e.size) {
			TH_LOG("%s: size %llu, want %llu", what, (unsigned long long)e.size,
			       (unsigned long long)cases[i].size);
		}
		/* the inputs come back as they went in */
		EXPECT_EQ(cases[i].off, e.offset);
		EXPECT_EQ(cases[i].len, e.length);
		EXPECT_EQ(0, e.flags);
		EXPECT_EQ(0, e.reserved0);
		check_child(_metadata, self->gdev, fd, cases[i].off, cases[i].size, cfd, what);
		close(cfd);
		close(fd);
	}

	/* a device may not ask for a mapping it writes (DMA_FROM_DEVICE): EPERM */
	fd = open(P(self->mnt, DATA), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	cfd = EXPORT_OK(fd, 0, 0, &e);
	{
		struct daxfs_gpuexp_import_check c = {
			.fd = cfd, .dir = DAXFS_GPUEXP_DMA_FROM_DEVICE,
		};

		EXPECT_ERRNO(EPERM, dxt_gpuexp_import_check(self->gdev, &c));
	}
	close(cfd);
	close(fd);

	/* two children of one file at once, and the file closed under them */
	fd = open(P(self->mnt, BIG), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	cfd = EXPORT_OK(fd, 0, 0, &e);
	cfd2 = EXPORT_OK(fd, 8 * PAGE, 8 * PAGE, &e);
	EXPECT_NE(cfd, cfd2);
	close(fd);
	fd = open(P(self->mnt, BIG), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	check_child(_metadata, self->gdev, fd, 0, BIG_PAGES * PAGE, cfd, "big, file closed");
	check_child(_metadata, self->gdev, fd, 8 * PAGE, 8 * PAGE, cfd2, "big [8p, +8p), file closed");
	close(cfd);
	close(cfd2);
	close(fd);
}

TEST_F_TIMEOUT(ex, vgem_import, 300)
{
	const uint64_t off = 8 * PAGE, len = 100 * PAGE;
	struct drm_mode_map_dumb md = { 0 };
	struct drm_gem_close gc = { 0 };
	struct daxfs_export e;
	struct stat st1, st2;
	uint32_t handle = 0, handle2 = 0;
	char *want, *vm, val[64];
	int fd, cfd, vfd, back = -1, r;

	REQUIRE_EXPORTER(DXT_EXP_VGEM);
	want = malloc(len);
	ASSERT_NE(NULL, want);
	pattern(want, len, BIG_SEED, off);
	vfd = dxt_vgem_open(NULL, 0);
	ASSERT_LE(0, vfd);
	fd = open(P(self->mnt, BIG), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	cfd = EXPORT_OK(fd, off, len, &e);
	ASSERT_EQ(len, e.size);
	ASSERT_EQ(0, fstat(cfd, &st1));
	close(fd);
	r = drmPrimeFDToHandle(vfd, cfd, &handle) ? -errno : 0;
	ASSERT_EQ(0, r) {
		TH_LOG("vgem PRIME import of the child: %s", strerror(-r));
	}
	/* the same buffer imported twice is the same GEM object */
	r = drmPrimeFDToHandle(vfd, cfd, &handle2) ? -errno : 0;
	EXPECT_EQ(0, r);
	EXPECT_EQ(handle, handle2);
	/* vgem's object holds the child now: its fd, the import and the mount may go */
	close(cfd);
	EXPECT_EQ(0, dxt_release(self->m.dev, self->m.imp.id));
	self->m.imported = false;
	r = umount_path(self->mnt, 0);
	EXPECT_EQ(0, r) {
		TH_LOG("umount while vgem holds a child: %s", strerror(-r));
	}
	if (!r)
		self->m.mounted = false;
	/*
	 * DRM gives no dumb-buffer mapping of an imported object
	 * (drm_gem_dumb_map_offset: EINVAL); the CPU view of an import is the
	 * dma-buf itself, which PRIME hands back for the handle.
	 */
	md.handle = handle;
	r = drmIoctl(vfd, DRM_IOCTL_MODE_MAP_DUMB, &md) ? -errno : 0;
	TH_LOG("MAP_DUMB of the imported child: %s", r ? strerror(-r) : "an offset");
	r = drmPrimeHandleToFD(vfd, handle, DRM_CLOEXEC, &back) ? -errno : 0;
	ASSERT_EQ(0, r) {
		TH_LOG("PRIME export of vgem's handle of the child: %s", strerror(-r));
	}
	ASSERT_EQ(0, fstat(back, &st2));
	EXPECT_EQ(st1.st_ino, st2.st_ino) {
		TH_LOG("vgem hands back another dma-buf than the child it imported");
	}
	EXPECT_EQ(0, fdinfo_field(back, "exp_name", val, sizeof(val)));
	EXPECT_STREQ("daxfs", val);
	vm = mmap(NULL, len, PROT_READ, MAP_SHARED, back, 0);
	ASSERT_NE(MAP_FAILED, vm) {
		TH_LOG("mmap of the child vgem holds: %s", strerror(errno));
	}
	EXPECT_EQ(0, memcmp(vm, want, len)) {
		TH_LOG("the child held by vgem shows other bytes than the file");
	}
	EXPECT_ERRNO(EACCES, mmap_errno(len, PROT_READ | PROT_WRITE, MAP_SHARED, back, 0));
	/* the last holder is vgem's object: GEM_CLOSE lets the child go */
	close(back);
	gc.handle = handle;
	EXPECT_EQ(0, drmIoctl(vfd, DRM_IOCTL_GEM_CLOSE, &gc));
	EXPECT_EQ(0, memcmp(vm, want, len));
	munmap(vm, len);
	EXPECT_EQ(self->meta0, meta_bytes()) {
		TH_LOG("meta_bytes %lld after vgem and every mapping let the child go, %lld "
		       "before the mount", meta_bytes(), self->meta0);
	}
	close(vfd);
	free(want);
}

TEST_F_TIMEOUT(ex, nested_image, 300)
{
	static const char *const files[] = { "a", "b", "d/c" };
	struct daxfs_import imp;
	struct daxfs_export e;
	uint8_t *inner;
	size_t inner_len, opages;
	uint64_t *opfn, pfn[4];
	char err[ERRLEN], path[PATH_MAX];
	char *om;
	int fd, cfd, r;

	snprintf(path, sizeof(path), "%s/%s", self->src, INNER);
	ASSERT_EQ(0, dxt_slurp(path, &inner, &inner_len));
	fd = open(P(self->mnt, INNER), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	cfd = EXPORT_OK(fd, 0, 0, &e);
	EXPECT_EQ(dxt_round_up_page(inner_len), e.size);
	import_or_fail(_metadata, self->m.dev, cfd, &imp, "the child holding inner.img");
	EXPECT_STREQ("daxfs", imp.exporter);
	EXPECT_EQ(inner_len, imp.image_size);
	EXPECT_EQ(e.size, imp.buffer_size);
	r = mount_id(imp.id, self->mnt2, MS_RDONLY, NULL);
	ASSERT_EQ(0, r) {
		TH_LOG("mount of the nested import: %s", strerror(-r));
	}
	/* the nested mount holds what it needs: the fd and the import may go */
	close(cfd);
	EXPECT_EQ(0, dxt_release(self->m.dev, imp.id));
	EXPECT_EQ(0, compare_trees(self->inner_src, self->mnt2, err, sizeof(err), NULL)) {
		TH_LOG("the nested mount: %s", err);
	}

	/* zero copies: every page of a nested file is the outer file's page */
	opages = e.size / PAGE;
	opfn = calloc(opages, sizeof(*opfn));
	ASSERT_NE(NULL, opfn);
	om = mmap(NULL, e.size, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, om);
	ASSERT_EQ(0, pagemap_pfns(om, opages, opfn));
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		struct daxfs_inode in;
		uint64_t first, fsize;
		size_t n;
		int nfd;
		char *nm;

		ASSERT_EQ(0, image_lookup(inner, inner_len, files[f], NULL, &in));
		first = le64toh(in.offset) / PAGE;
		fsize = le64toh(in.size);
		n = (fsize + PAGE - 1) / PAGE;
		ASSERT_GE(4, n);
		ASSERT_GE(opages, first + n);
		nfd = open(P(self->mnt2, files[f]), O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, nfd);
		nm = mmap(NULL, n * PAGE, PROT_READ, MAP_PRIVATE, nfd, 0);
		ASSERT_NE(MAP_FAILED, nm);
		ASSERT_EQ(0, pagemap_pfns(nm, n, pfn));
		for (size_t i = 0; i < n; i++) {
			EXPECT_NE(0, pfn[i]);
			EXPECT_EQ(opfn[first + i], pfn[i]) {
				TH_LOG("nested %s page %zu: PFN 0x%llx, the outer inner.img's "
				       "page %llu is 0x%llx: a copy", files[f], i,
				       (unsigned long long)pfn[i],
				       (unsigned long long)(first + i),
				       (unsigned long long)opfn[first + i]);
			}
		}
		munmap(nm, n * PAGE);
		close(nfd);
	}
	munmap(om, e.size);
	free(opfn);
	close(fd);

	/* a file of the nested mount exports too: a window on a window */
	self->gdev = dxt_gpuexp_open(NULL, 0);
	fd = open(P(self->mnt2, "a"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	cfd = EXPORT_OK(fd, 0, 0, &e);
	EXPECT_EQ(4 * PAGE, e.size);
	check_child(_metadata, self->gdev, fd, 0, e.size, cfd, "nested a");
	close(cfd);
	close(fd);
	if (self->gdev < 0)
		TH_LOG("no test importer: the device view of a nested export is not checked");
	else
		close(self->gdev);

	/* the outer mount goes first; the nested one keeps working */
	EXPECT_EQ(0, umount_path(self->mnt, 0));
	self->m.mounted = false;
	EXPECT_EQ(0, compare_trees(self->inner_src, self->mnt2, err, sizeof(err), NULL)) {
		TH_LOG("the nested mount after the outer unmount: %s", err);
	}
	EXPECT_EQ(0, umount_path(self->mnt2, 0));
	free(inner);
}

TEST_F_TIMEOUT(ex, write_refusals, 300)
{
	const uint64_t off = 4 * PAGE, size = 10 * PAGE;
	struct daxfs_export e;
	char *p, *q, b;
	int fd, cfd;

	fd = open(P(self->mnt, BIG), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	cfd = EXPORT_OK(fd, off, size, &e);
	TH_LOG("the child's file mode: %s",
	       (fcntl(cfd, F_GETFL) & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : "writable");

	/* writable shared mappings */
	EXPECT_ERRNO(EACCES, mmap_errno(size, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0));
	EXPECT_ERRNO(EACCES, mmap_errno(size, PROT_WRITE, MAP_SHARED, cfd, 0));
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, cfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_ERRNO(EACCES, SYS(mprotect(p, size, PROT_READ | PROT_WRITE)));
	EXPECT_ERRNO(EACCES, SYS(mprotect(p + PAGE, PAGE, PROT_WRITE)));

	/* CPU access brackets: read only */
	EXPECT_ERRNO(EPERM, dxt_buf_sync(cfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	EXPECT_ERRNO(EPERM, dxt_buf_sync(cfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
	EXPECT_EQ(0, dxt_buf_sync(cfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(0, dxt_buf_sync(cfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));

	/* nothing past the child's end */
	EXPECT_ERRNO(EINVAL, mmap_errno(size + PAGE, PROT_READ, MAP_SHARED, cfd, 0));
	EXPECT_ERRNO(EINVAL, mmap_errno(PAGE, PROT_READ, MAP_SHARED, cfd, size));
	EXPECT_ERRNO(EINVAL, mmap_errno(2 * PAGE, PROT_READ, MAP_SHARED, cfd, size - PAGE));
	EXPECT_ERRNO(EINVAL, mmap_errno(size + PAGE, PROT_READ, MAP_PRIVATE, cfd, 0));

	/* a private write copies the page: the child, the file, the buffer unchanged */
	q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, cfd, 0);
	ASSERT_NE(MAP_FAILED, q) {
		TH_LOG("MAP_PRIVATE PROT_WRITE of the child: %s", strerror(errno));
	}
	b = q[PAGE + 3];
	q[PAGE + 3] = ~b;
	EXPECT_EQ(b, p[PAGE + 3]);
	EXPECT_EQ((char)~b, q[PAGE + 3]);
	{
		char r;

		EXPECT_EQ(1, pread(fd, &r, 1, off + PAGE + 3));
		EXPECT_EQ(b, r);
	}
	munmap(q, size);
	check_child(_metadata, -1, fd, off, size, cfd, "after the refused writes");
	munmap(p, size);
	close(cfd);
	close(fd);
}

TEST_F_TIMEOUT(ex, lifetime, 300)
{
	const size_t off = 5 * PAGE + 100, size = BIG_PAGES * PAGE;
	char *m1, *m2, *m3, *want, *buf = NULL, rc[32];
	struct daxfs_export e;
	long long held;
	int fd, cfd, memfd, st, r;
	pid_t pid;

	want = malloc(size);
	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, posix_memalign((void **)&buf, PAGE, 2 * PAGE));
	memset(want, 0, size);
	pattern(want, BIG_SIZE, BIG_SEED, 0);
	self->gdev = dxt_gpuexp_open(NULL, 0);

	/* only the mount holds the buffer; then only the child */
	EXPECT_EQ(0, dxt_release(self->m.dev, self->m.imp.id));
	self->m.imported = false;
	fd = open(P(self->mnt, BIG), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	cfd = EXPORT_OK(fd, 0, 0, &e);
	ASSERT_EQ(size, e.size);
	close(fd);
	m1 = mmap(NULL, size, PROT_READ, MAP_SHARED, cfd, 0);
	ASSERT_NE(MAP_FAILED, m1);
	EXPECT_EQ(0, memcmp(m1, want, PAGE));	/* a page faulted in before */
	r = umount_path(self->mnt, 0);
	EXPECT_EQ(0, r) {
		TH_LOG("umount of the parent while a child is open and mapped: %s",
		       strerror(-r));
	}
	if (!r)
		self->m.mounted = false;
	close(self->m.dev);
	self->m.dev = -1;
	dxt_buf_free(&self->m.buf);

	/* the mapping, and new ones, read the file's bytes */
	EXPECT_EQ(0, memcmp(m1, want, size));
	m2 = mmap(NULL, size, PROT_READ, MAP_SHARED, cfd, 0);
	ASSERT_NE(MAP_FAILED, m2) {
		TH_LOG("a new mmap of the child after the unmount: %s", strerror(errno));
	}
	EXPECT_EQ(0, memcmp(m2, want, size));
	m3 = mmap(NULL, size, PROT_READ, MAP_PRIVATE, cfd, 0);
	ASSERT_NE(MAP_FAILED, m3);
	EXPECT_EQ(0, memcmp(m3, want, size));
	if (self->gdev >= 0) {
		memset(buf, 0, PAGE);
		EXPECT_EQ(0, dxt_gpuexp_vmap_read(self->gdev, cfd, BIDI, 7 * PAGE, buf, PAGE));
		EXPECT_EQ(0, memcmp(buf, want + 7 * PAGE, PAGE));
	} else {
		TH_LOG("no test importer: the device view after the unmount is not checked");
	}
	held = meta_bytes();
	TH_LOG("meta_bytes: %lld before the mount, %lld with only the child left", self->meta0,
	       held);
	EXPECT_LT(self->meta0, held) {
		TH_LOG("the child does not hold the mounted buffer's metadata copy");
	}

	/* the module is in use while a child exists */
	ASSERT_EQ(0, dxt_read_sysfs("/sys/module/daxfs/refcnt", rc, sizeof(rc)));
	TH_LOG("daxfs refcnt with only a child left: %s", rc);
	ASSERT_LT(0, atoi(rc)) {
		TH_LOG("nothing holds the module while a child of it exists: not trying "
		       "delete_module, it would succeed");
	}
	EXPECT_ERRNO(EWOULDBLOCK, try_unload());

	/* a forked process reads the inherited mapping */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(memcmp(m1, want, size) ? 1 : 0);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		TH_LOG("the forked process saw other bytes (status 0x%x)", st);
	}

	/* /proc/self/mem: get_user_pages fails, the driver's ->access reads */
	memfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, memfd);
	memset(buf, 0, PAGE);
	EXPECT_EQ((ssize_t)PAGE, pread(memfd, buf, PAGE, (off_t)(uintptr_t)(m1 + off))) {
		TH_LOG("/proc/self/mem pread of the child's mapping: %s", strerror(errno));
	}
	EXPECT_EQ(0, memcmp(buf, want + off, PAGE));
	EXPECT_ERRNO(EIO, SYS(pwrite(memfd, buf, 16, (off_t)(uintptr_t)(m1 + off))));
	close(memfd);

	/* what pins pages through the mapping: EFAULT */
	expect_pins_refused(_metadata, m1 + off, m1 + PAGE, self->work);

	/* the buffer goes with the last of the child: fd, then mappings */
	close(cfd);
	EXPECT_EQ(0, memcmp(m2, want, size));
	munmap(m2, size);
	munmap(m3, size);
	EXPECT_EQ(held, meta_bytes()) {
		TH_LOG("meta_bytes dropped while a mapping of the child is left");
	}
	EXPECT_EQ(0, memcmp(m1, want, size));
	munmap(m1, size);
	EXPECT_EQ(self->meta0, meta_bytes()) {
		TH_LOG("meta_bytes %lld after the last of the child, %lld before the mount: "
		       "the mounted buffer was not freed", meta_bytes(), self->meta0);
	}
	if (self->gdev >= 0)
		close(self->gdev);
	free(buf);
	free(want);
}

/* -------------------------------------------------- on any one exporter */

FIXTURE(one) {
	char work[64];
	char src[128], img[128], mnt[128], mnt2[128];
	struct dxmount m;
	enum dxt_exporter kind;
	int gdev;
	struct daxfs_baseline base;
};

FIXTURE_SETUP(one)
{
	struct gen_opts o = { .big = true };
	char why[ERRLEN];
	int k;

	dxm_init(&self->m);
	self->work[0] = 0;
	self->gdev = -1;
	k = dxt_exporter_pick(why, sizeof(why));
	ASSERT_LE(0, k) {
		TH_LOG("no dma-buf exporter: %s", why);
	}
	self->kind = k;
	FIXTURE_WORKDIR_SETUP_MNT2(self);
	SHARED_IMAGE("export", &o, add_inner, NULL, self->src, self->img);
}

FIXTURE_TEARDOWN_PARENT(one)
{
	WORKDIR_TEARDOWN(self);
}

/* The shared image from a buffer of self->kind, mounted on self->mnt. */
static void mount_one(struct __test_metadata *_metadata, FIXTURE_DATA(one) *self)
{
	char err[ERRLEN];
	int r = dxm_setup(&self->m, self->kind, self->img, 0, self->mnt, err, sizeof(err));

	if (r)
		TH_LOG("%s", err);
	ASSERT_EQ(0, r);
}

/* An export that must fail with @err; logs what was asked. */
#define EXPECT_EXPORT_ERRNO(err, file, e) do {				\
	struct daxfs_export _e = (e);					\
	int _r = ioctl((file), DAXFS_IOC_EXPORT_DMABUF, &_e) < 0 ? -errno : _e.fd; \
	if (_r >= 0)							\
		close(_r);						\
	EXPECT_ERRNO((err), _r) {					\
		TH_LOG("argsz %u flags 0x%x offset %llu length %llu reserved0 0x%x", \
		       (e).argsz, (e).flags, (unsigned long long)(e).offset, \
		       (unsigned long long)(e).length, (e).reserved0);	\
	}								\
} while (0)

#define EXP(...) ((struct daxfs_export){ .argsz = sizeof(struct daxfs_export), __VA_ARGS__ })

TEST_F_TIMEOUT(one, bad_arguments, 120)
{
	int big, page, empty, fds0;
	long bufs0;

	mount_one(_metadata, self);
	big = open(P(self->mnt, BIG), O_RDONLY | O_CLOEXEC);
	page = open(P(self->mnt, ONE_PAGE), O_RDONLY | O_CLOEXEC);
	empty = open(P(self->mnt, "empty"), O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(big >= 0 && page >= 0 && empty >= 0);
	fds0 = count_fds();
	bufs0 = dxt_dmabuf_count();

	/* flags and reserved0 */
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.flags = 1));
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.flags = 2));
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.flags = 0x80000000u));
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.reserved0 = 1));
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.reserved0 = 0xffffffffu));
	/* an output field on input is ignored */
	{
		struct daxfs_export e = EXP(.fd = 12345, .size = 7);
		int c = ioctl(big, DAXFS_IOC_EXPORT_DMABUF, &e) < 0 ? -errno : e.fd;

		EXPECT_LE(0, c);
		EXPECT_EQ(BIG_PAGES * PAGE, e.size);
		if (c >= 0)
			close(c);
	}

	/* offsets not page-aligned */
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.offset = 1));
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.offset = 512));
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.offset = PAGE - 1));
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.offset = PAGE + 1, .length = PAGE));
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.offset = ~0ull));
	/* at and after the end of the file */
	EXPECT_EXPORT_ERRNO(EINVAL, page, EXP(.offset = PAGE));
	EXPECT_EXPORT_ERRNO(EINVAL, page, EXP(.offset = PAGE, .length = PAGE));
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.offset = BIG_PAGES * PAGE));
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.offset = (BIG_PAGES + 1) * PAGE));
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.offset = 1ull << 62));
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.offset = ~0ull & ~(PAGE - 1)));
	/* ranges past the last page, and ones that wrap around */
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.length = BIG_PAGES * PAGE + 1));
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.offset = (BIG_PAGES - 1) * PAGE, .length = PAGE + 1));
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.offset = 100 * PAGE, .length = BIG_PAGES * PAGE));
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.length = ~0ull));
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.offset = PAGE, .length = ~0ull - PAGE + 2));
	EXPECT_EXPORT_ERRNO(EINVAL, big, EXP(.offset = PAGE, .length = 1ull << 63));
	EXPECT_EXPORT_ERRNO(EINVAL, page, EXP(.length = PAGE + 1));
	EXPECT_EXPORT_ERRNO(EINVAL, page, EXP(.length = 2 * PAGE));
	/* empty files */
	EXPECT_EXPORT_ERRNO(EINVAL, empty, EXP());
	EXPECT_EXPORT_ERRNO(EINVAL, empty, EXP(.length = 1));
	EXPECT_EXPORT_ERRNO(EINVAL, empty, EXP(.length = PAGE));
	/* a bad pointer */
	EXPECT_ERRNO(EFAULT, dxt_ioctl(big, DAXFS_IOC_EXPORT_DMABUF, NULL));
	EXPECT_ERRNO(EFAULT, dxt_ioctl(big, DAXFS_IOC_EXPORT_DMABUF, (void *)16));

	/* nothing made by the refusals */
	EXPECT_EQ(fds0, count_fds());
	if (bufs0 >= 0)
		EXPECT_EQ(bufs0, dxt_dmabuf_count());

	/* and the edges that are allowed */
	{
		static const struct { uint64_t off, len, size; } ok[] = {
			{ 0, BIG_PAGES * PAGE, BIG_PAGES * PAGE },
			{ (BIG_PAGES - 1) * PAGE, PAGE, PAGE },
			{ (BIG_PAGES - 1) * PAGE, 1, PAGE },
			{ 0, 1, PAGE },
		};

		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
			struct daxfs_export e;
			int c = dxt_export(big, ok[i].off, ok[i].len, &e);

			EXPECT_LE(0, c) {
				TH_LOG("[%llu, +%llu): %s", (unsigned long long)ok[i].off,
				       (unsigned long long)ok[i].len, strerror(-c));
			}
			if (c >= 0) {
				EXPECT_EQ(ok[i].size, e.size);
				close(c);
			}
		}
		for (uint64_t len = 0; len <= PAGE; len += PAGE) {
			struct daxfs_export e;
			int c = dxt_export(page, 0, len, &e);

			EXPECT_LE(0, c);
			if (c >= 0) {
				EXPECT_EQ(PAGE, e.size);
				close(c);
			}
		}
	}
	close(big);
	close(page);
	close(empty);
}

TEST_F_TIMEOUT(one, argsz, 120)
{
	static const uint32_t small[] = { 0, 1, 4, 8, 16, offsetof(struct daxfs_export, fd),
					  offsetof(struct daxfs_export, size),
					  sizeof(struct daxfs_export) - 1 };
	struct {
		struct daxfs_export e;
		uint8_t tail[64];
	} big;
	static uint8_t page[2 * PAGE];
	struct daxfs_export *pe = (void *)page;
	int fd, c;

	mount_one(_metadata, self);
	fd = open(P(self->mnt, BIG), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);

	/* below version 1 */
	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		struct daxfs_export a = { .argsz = small[i] };

		EXPECT_EXPORT_ERRNO(EINVAL, fd, a);
	}

	/* larger, with a zero tail: accepted, the tail left zero */
	memset(&big, 0, sizeof(big));
	big.e.argsz = sizeof(big);
	c = ioctl(fd, DAXFS_IOC_EXPORT_DMABUF, &big) < 0 ? -errno : big.e.fd;
	EXPECT_LE(0, c) {
		TH_LOG("argsz %zu with a zero tail: %s", sizeof(big), strerror(-c));
	}
	if (c >= 0)
		close(c);
	EXPECT_EQ(BIG_PAGES * PAGE, big.e.size);
	for (size_t i = 0; i < sizeof(big.tail); i++)
		EXPECT_EQ(0, big.tail[i]);
	/* a non-zero byte the kernel does not know: E2BIG */
	for (size_t pos = 0; pos < sizeof(big.tail); pos += 13) {
		memset(&big, 0, sizeof(big));
		big.e.argsz = sizeof(big);
		big.tail[pos] = 0x40;
		c = ioctl(fd, DAXFS_IOC_EXPORT_DMABUF, &big) < 0 ? -errno : big.e.fd;
		if (c >= 0)
			close(c);
		EXPECT_ERRNO(E2BIG, c) {
			TH_LOG("non-zero tail byte %zu", pos);
		}
	}
	/* up to a page: accepted; above: E2BIG, even with zeros */
	memset(page, 0, sizeof(page));
	pe->argsz = PAGE;
	c = ioctl(fd, DAXFS_IOC_EXPORT_DMABUF, pe) < 0 ? -errno : pe->fd;
	EXPECT_LE(0, c) {
		TH_LOG("argsz %lu (a page) of zeros: %s", PAGE, strerror(-c));
	}
	if (c >= 0)
		close(c);
	memset(page, 0, sizeof(page));
	pe->argsz = PAGE + 1;
	c = ioctl(fd, DAXFS_IOC_EXPORT_DMABUF, pe) < 0 ? -errno : pe->fd;
	if (c >= 0)
		close(c);
	EXPECT_ERRNO(E2BIG, c);
	memset(page, 0, sizeof(page));
	pe->argsz = 0xffffffffu;
	c = ioctl(fd, DAXFS_IOC_EXPORT_DMABUF, pe) < 0 ? -errno : pe->fd;
	if (c >= 0)
		close(c);
	EXPECT_ERRNO(E2BIG, c);

	/* the kernel writes back at most argsz bytes */
	memset(&big, 0xA5, sizeof(big));
	memset(&big.e, 0, sizeof(big.e));
	big.e.argsz = sizeof(big.e);
	c = ioctl(fd, DAXFS_IOC_EXPORT_DMABUF, &big) < 0 ? -errno : big.e.fd;
	EXPECT_LE(0, c);
	if (c >= 0)
		close(c);
	for (size_t i = 0; i < sizeof(big.tail); i++)
		EXPECT_EQ(0xA5, big.tail[i]);

	/* the command's own size: from version 1 up to a page, else ENOTTY */
	memset(page, 0, sizeof(page));
	pe->argsz = sizeof(*pe);
	c = ioctl(fd, _IOWR(DAXFS_IOC_MAGIC, 0x04, uint8_t[256]), pe) < 0 ? -errno : pe->fd;
	EXPECT_LE(0, c) {
		TH_LOG("a command of size 256: %s", strerror(-c));
	}
	if (c >= 0)
		close(c);
	EXPECT_ERRNO(ENOTTY, dxt_ioctl(fd, _IOWR(DAXFS_IOC_MAGIC, 0x04, uint8_t[16]), pe));
	EXPECT_ERRNO(ENOTTY, dxt_ioctl(fd, _IOWR(DAXFS_IOC_MAGIC, 0x04, uint8_t[8192]), pe));
	EXPECT_ERRNO(ENOTTY, dxt_ioctl(fd, _IOW(DAXFS_IOC_MAGIC, 0x04, struct daxfs_export), pe));
	EXPECT_ERRNO(ENOTTY, dxt_ioctl(fd, _IOR(DAXFS_IOC_MAGIC, 0x04, struct daxfs_export), pe));
	close(fd);
}

TEST_F_TIMEOUT(one, not_a_regular_file, 120)
{
	struct daxfs_export e = EXP();
	struct daxfs_import imp;
	int fd, dev;

	mount_one(_metadata, self);
	/* directories */
	fd = open(self->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_ERRNO(ENOTTY, dxt_ioctl(fd, DAXFS_IOC_EXPORT_DMABUF, &e));
	close(fd);
	fd = open(P(self->mnt, "sub"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_ERRNO(ENOTTY, dxt_ioctl(fd, DAXFS_IOC_EXPORT_DMABUF, &e));
	close(fd);
	/* a file not open for reading (O_PATH is the only way on a read-only mount) */
	fd = open(P(self->mnt, BIG), O_PATH | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_ERRNO(EBADF, dxt_ioctl(fd, DAXFS_IOC_EXPORT_DMABUF, &e));
	close(fd);
	fd = open(P(self->mnt, "sym-rel"), O_PATH | O_NOFOLLOW | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_ERRNO(EBADF, dxt_ioctl(fd, DAXFS_IOC_EXPORT_DMABUF, &e));
	close(fd);
	/* /dev/daxfs is no file of a mount */
	dev = dev_or_fail(_metadata);
	EXPECT_ERRNO(ENOTTY, dxt_ioctl(dev, DAXFS_IOC_EXPORT_DMABUF, &e));
	close(dev);
	/* and a file of a mount has no /dev/daxfs ioctls */
	fd = open(P(self->mnt, BIG), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	memset(&imp, 0, sizeof(imp));
	imp.argsz = sizeof(imp);
	imp.fd = self->m.buf.fd;
	EXPECT_ERRNO(ENOTTY, dxt_ioctl(fd, DAXFS_IOC_IMPORT, &imp));
	EXPECT_ERRNO(ENOTTY, dxt_ioctl(fd, _IOWR(DAXFS_IOC_MAGIC, 0x7f, struct daxfs_export), &e));
	close(fd);
}

/* Run @fn in a forked process; its int result comes back through a pipe. */
static int in_child(int (*fn)(void *), void *arg)
{
	int p[2], r = -ECHILD, st;
	pid_t pid;

	if (pipe(p))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		r = fn(arg);
		_exit(write(p[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(p[1]);
	if (read(p[0], &r, sizeof(r)) != sizeof(r))
		r = -ECHILD;
	close(p[0]);
	waitpid(pid, &st, 0);
	return r;
}

struct as_nobody {
	int dirfd;
	const char *name;
};

/* As uid/gid 65534: open @name below @dirfd, export it, map it, read a byte. */
static int export_as_nobody(void *arg)
{
	struct as_nobody *a = arg;
	struct daxfs_export e;
	int fd, c;
	char *m;

	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return -1000 - errno;
	fd = openat(a->dirfd, a->name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -2000 - errno;
	c = dxt_export(fd, 0, 0, &e);
	if (c < 0)
		return c;
	if (e.size != PAGE)
		return -4000;
	m = mmap(NULL, e.size, PROT_READ, MAP_SHARED, c, 0);
	if (m == MAP_FAILED)
		return -3000 - errno;
	return (unsigned char)m[0];
}

TEST_F_TIMEOUT(one, unprivileged, 120)
{
	struct as_nobody a = { .name = TINY };
	char want;
	int r;

	mount_one(_metadata, self);
	pattern(&want, 1, 1, 0);	/* gen_tree's "tiny": 1 byte, seed 1 */
	a.dirfd = open(self->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, a.dirfd);
	r = in_child(export_as_nobody, &a);
	EXPECT_EQ((unsigned char)want, r) {
		TH_LOG("an unprivileged export of a readable file: %d (a -errno, or a step "
		       "-1000 setuid, -2000 open, -3000 mmap, -4000 bytes, plus errno)", r);
	}
	close(a.dirfd);
}

struct no_fd {
	int fd;
};

/* With RLIMIT_NOFILE at the lowest free fd: the export has no fd to take. */
static int export_no_fd(void *arg)
{
	struct no_fd *a = arg;
	struct rlimit rl;
	int lowest = dup(0);

	if (lowest < 0)
		return -1000 - errno;
	close(lowest);
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -2000 - errno;
	rl.rlim_cur = lowest;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		return -3000 - errno;
	return dxt_export(a->fd, 0, 0, NULL);
}

TEST_F_TIMEOUT(one, no_fd_left, 120)
{
	struct no_fd a;
	long bufs0;
	int r;

	mount_one(_metadata, self);
	a.fd = open(P(self->mnt, BIG), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, a.fd);
	bufs0 = dxt_dmabuf_count();
	r = in_child(export_no_fd, &a);
	EXPECT_ERRNO(EMFILE, r);
	if (bufs0 >= 0)
		EXPECT_EQ(bufs0, dxt_dmabuf_count()) {
			TH_LOG("the refused export left a dma-buf behind");
		}
	close(a.fd);
}

/* The image file written at @addr of physical memory through /dev/mem. */
static void image_to_devmem(struct __test_metadata *_metadata, const char *img, uint64_t addr)
{
	uint8_t *b;
	size_t n;
	int fd;

	ASSERT_EQ(0, dxt_slurp(img, &b, &n));
	fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
	ASSERT_LE(0, fd) {
		TH_LOG("/dev/mem: %s", strerror(errno));
	}
	ASSERT_EQ((ssize_t)n, pwrite(fd, b, n, addr)) {
		TH_LOG("writing the image to /dev/mem at 0x%llx: %s", (unsigned long long)addr,
		       strerror(errno));
	}
	close(fd);
	free(b);
}

/* A file of a mount that is not backed by a dma-buf: EOPNOTSUPP, read() works. */
static void expect_no_export(struct __test_metadata *_metadata, const char *mnt,
			     const char *what)
{
	char want[PAGE], got[PAGE];
	int fd;

	fd = open(P(mnt, BIG), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_ERRNO(EOPNOTSUPP, dxt_export(fd, 0, 0, NULL)) {
		TH_LOG("export from %s", what);
	}
	EXPECT_ERRNO(EOPNOTSUPP, dxt_export(fd, PAGE, PAGE, NULL));
	pattern(want, PAGE, BIG_SEED, PAGE);
	EXPECT_EQ((ssize_t)PAGE, pread(fd, got, PAGE, PAGE));
	EXPECT_EQ(0, memcmp(want, got, PAGE));
	close(fd);
}

TEST_F_TIMEOUT(one, phys_refused, 120)
{
	char opts[128];

	NEED(dxt_iomem_has("Reserved", PHYS_ADDR, PHYS_SIZE, false),
	     "no reserved RAM at 0x%llx+0x%llx in /proc/iomem: %s", PHYS_ADDR, PHYS_SIZE,
	     DXT_MEMMAP_HINT);
	image_to_devmem(_metadata, self->img, PHYS_ADDR);
	snprintf(opts, sizeof(opts), "phys=0x%llx,size=%llu", PHYS_ADDR, PHYS_SIZE);
	ASSERT_OK_MSG(mount_src("none", self->mnt2, MS_RDONLY, opts), opts);
	expect_no_export(_metadata, self->mnt2, "a phys= mount");
	EXPECT_EQ(0, umount_path(self->mnt2, 0));
}

TEST_F_TIMEOUT(one, pmem_refused, 120)
{
	const char *mp[] = { "modprobe", "-q", "nd_e820", NULL };
	const char *mp2[] = { "modprobe", "-q", "nd_pmem", NULL };
	uint8_t *b;
	size_t n;
	int fd;

	NEED(dxt_iomem_has("Persistent Memory (legacy)", PMEM_ADDR, PMEM_SIZE, false),
	     "no legacy pmem at 0x%llx+0x%llx in /proc/iomem: %s", PMEM_ADDR, PMEM_SIZE,
	     DXT_MEMMAP_HINT);
	dxt_run_cmd(mp, NULL, 0);
	dxt_run_cmd(mp2, NULL, 0);
	ASSERT_EQ(0, wait_for_path("/dev/pmem0", 10)) {
		TH_LOG("no /dev/pmem0 after modprobe nd_e820 nd_pmem");
	}
	ASSERT_EQ(0, dxt_slurp(self->img, &b, &n));
	fd = open("/dev/pmem0", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)n, pwrite(fd, b, n, 0));
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	free(b);
	ASSERT_OK_MSG(mount_src("/dev/pmem0", self->mnt2, MS_RDONLY, NULL), "mount /dev/pmem0");
	expect_no_export(_metadata, self->mnt2, "a DAX block device mount");
	EXPECT_EQ(0, umount_path(self->mnt2, 0));
}

/* The shared image in a new buffer of the test exporter, imported and mounted on mnt2. */
static void gpuexp_mount(struct __test_metadata *_metadata, FIXTURE_DATA(one) *self,
			 uint32_t kind, struct dxt_buf *b, struct daxfs_import *imp)
{
	off_t size = dxt_file_size(self->img);
	int r;

	ASSERT_LT(0, size);
	r = dxt_gpuexp_create(self->gdev, kind, dxt_round_up_page(size), b);
	ASSERT_EQ(0, r) {
		TH_LOG("a test exporter buffer: %s", strerror(-r));
	}
	ASSERT_EQ(0, dxt_buf_write_file(b, self->img, 0));
	self->m.dev = dev_or_fail(_metadata);
	import_or_fail(_metadata, self->m.dev, b->fd, imp, "a test exporter buffer");
	ASSERT_EQ(0, mount_id(imp->id, self->mnt2, MS_RDONLY, NULL));
}

TEST_F_TIMEOUT(one, iomem_refused, 120)
{
	struct daxfs_import imp;
	struct dxt_buf b;

	REQUIRE_IMPORTER(self);
	gpuexp_mount(_metadata, self, DAXFS_GPUEXP_IOMEM, &b, &imp);
	expect_no_export(_metadata, self->mnt2, "a buffer whose vmap is I/O memory");
	EXPECT_EQ(0, umount_path(self->mnt2, 0));
	EXPECT_EQ(0, dxt_release(self->m.dev, imp.id));
	dxt_buf_free(&b);
}

TEST_F_TIMEOUT(one, dynamic_parent, 180)
{
	struct daxfs_gpuexp_status st;
	struct daxfs_import imp;
	struct daxfs_export e;
	struct dxt_buf b;
	char *m, *want;
	int fd, cfd;

	REQUIRE_IMPORTER(self);
	want = malloc(BIG_PAGES * PAGE);
	ASSERT_NE(NULL, want);
	memset(want, 0, BIG_PAGES * PAGE);
	pattern(want, BIG_SIZE, BIG_SEED, 0);
	gpuexp_mount(_metadata, self, DAXFS_GPUEXP_DYNAMIC_PINNABLE, &b, &imp);
	fd = open(P(self->mnt2, BIG), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	cfd = EXPORT_OK(fd, 0, 0, &e);
	check_child(_metadata, self->gdev, fd, 0, e.size, cfd, "a dynamic pinnable parent");
	ASSERT_EQ(0, dxt_gpuexp_status(self->gdev, b.fd, &st));
	TH_LOG("parent with a child, mounted: %u pins, %u attachments, %u sg tables, %u vmaps",
	       st.pin_count, st.attachments, st.sg_mappings, st.vmap_count);
	EXPECT_LE(1, st.pin_count);
	EXPECT_ERRNO(EBUSY, dxt_gpuexp_move(self->gdev, b.fd));
	m = mmap(NULL, e.size, PROT_READ, MAP_SHARED, cfd, 0);
	ASSERT_NE(MAP_FAILED, m);
	close(fd);

	/* the child alone keeps the buffer pinned */
	EXPECT_EQ(0, umount_path(self->mnt2, 0));
	EXPECT_EQ(0, dxt_release(self->m.dev, imp.id));
	ASSERT_EQ(0, dxt_gpuexp_status(self->gdev, b.fd, &st));
	TH_LOG("only a child left: %u pins, %u attachments, %u sg tables, %u vmaps",
	       st.pin_count, st.attachments, st.sg_mappings, st.vmap_count);
	EXPECT_LE(1, st.pin_count);
	EXPECT_ERRNO(EBUSY, dxt_gpuexp_move(self->gdev, b.fd)) {
		TH_LOG("the parent moved while a child of it lived");
	}
	EXPECT_EQ(0, memcmp(m, want, e.size));
	close(cfd);
	EXPECT_ERRNO(EBUSY, dxt_gpuexp_move(self->gdev, b.fd));	/* still mapped */
	munmap(m, e.size);

	/* the last of the child gone: unpinned, detached, movable */
	ASSERT_EQ(0, dxt_gpuexp_status(self->gdev, b.fd, &st));
	EXPECT_EQ(0, st.pin_count + st.attachments + st.sg_mappings + st.vmap_count) {
		TH_LOG("after the child: %u pins, %u attachments, %u sg tables, %u vmaps",
		       st.pin_count, st.attachments, st.sg_mappings, st.vmap_count);
	}
	EXPECT_EQ(0, dxt_gpuexp_move(self->gdev, b.fd));
	dxt_buf_free(&b);
	free(want);
}

TEST_HARNESS_MAIN
