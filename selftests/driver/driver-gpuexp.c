// SPDX-License-Identifier: GPL-2.0
/*
 * driver-gpuexp: daxfs on buffers that behave like a GPU's TTM VRAM, from
 * the test-only exporter selftests/exporter/daxfs_gpuexp.ko (loaded by the
 * VM runner after daxfs.ko; /dev/daxfs_gpuexp).  Its buffers are of three
 * kinds: dynamic and pinnable, dynamic and never pinnable, and static with
 * an I/O-memory vmap.  The image is written into each buffer through the
 * exporter's own mmap (with DMA_BUF_IOCTL_SYNC around it).
 *
 * The contract checked (issue 13):
 *  - DYNAMIC_PINNABLE: the import attaches dynamically and pins the buffer
 *    for as long as an import or a mount uses it: the exporter's STATUS
 *    shows pin count 1 and one attachment while imported or mounted (in
 *    every order of release and unmount, for a mount made from an import
 *    and one made straight from the fd), 0 and 0 after the last release
 *    or unmount (or the close of /dev/daxfs).  A MOVE is refused with
 *    EBUSY meanwhile, and read() of every file and mmap() of files give
 *    the image's bytes before and after the refused move.  After unmount
 *    and release a MOVE succeeds and keeps the bytes.
 *  - DYNAMIC_UNPINNABLE: the import fails with EOPNOTSUPP (the pin's
 *    errno), the kernel log has a line with "daxfs" and "cannot pin", and
 *    nothing stays attached.  A mount straight from the fd fails too.
 *  - IOMEM: the import and the mount work, read() of every file gives the
 *    source tree's bytes, mmap() of a file fails with ENODEV.
 * exporter_basics and static_importer check the exporter itself, without
 * daxfs; the second has vgem import each kind (a static importer, which
 * the core pins while mapped; on 6.1 and 6.12 vgem maps at import, so the
 * exporter's map_dma_buf, unmap_dma_buf and cpu-access syncs run there).
 *
 * Without the exporter module the tests fail under CI=true (a kernel-side
 * test that cannot run is a failure there) and skip elsewhere.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xf86drm.h>

#include "daxfs_harness.h"
#include "daxfs_gpuexp.h"

#define GPUEXP_DEV	"/dev/" DAXFS_GPUEXP_NAME

/* Files of gen_tree() mapped by the tests. */
#define DATA		"three-pages-and-100"
#define DATA_SIZE	(3 * 4096 + 100)
#define DATA_SEED	5
#define BIG		"big"			/* gen_opts.big */
#define BIG_SIZE	((1 << 20) + 3 * 4096 + 77)
#define BIG_SEED	14

/*
 * Open /dev/daxfs_gpuexp into self->gdev, or fail (CI=true) or skip with
 * the reason.
 */
#define REQUIRE_GPUEXP(self) do {					\
	(self)->gdev = open(GPUEXP_DEV, O_RDWR | O_CLOEXEC);		\
	if ((self)->gdev < 0) {						\
		char _why[ERRLEN];					\
		snprintf(_why, sizeof(_why), "%s: %s: the exporter "	\
			 "daxfs_gpuexp.ko is not loaded (make matrix-modules "	\
			 "builds build/exporter/%s/daxfs_gpuexp.ko, "	\
			 "selftests/vm/guest-run loads it)", GPUEXP_DEV, \
			 strerror(errno), getenv("DAXFS_KVER") ?: "KVER"); \
		if (dxt_ci()) {						\
			TH_LOG("CI=true: a kernel-side test that cannot " \
			       "run fails: %s", _why);			\
			ASSERT_TRUE(false);				\
		}							\
		SKIP(return, "%s", _why);				\
	}								\
} while (0)

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case DAXFS_GPUEXP_DYNAMIC_PINNABLE: return "DYNAMIC_PINNABLE";
	case DAXFS_GPUEXP_DYNAMIC_UNPINNABLE: return "DYNAMIC_UNPINNABLE";
	case DAXFS_GPUEXP_IOMEM: return "IOMEM";
	default: return "?";
	}
}

/* A buffer of the exporter as a struct dxt_buf (dbuf_* helpers work on it). */
static int gx_create(int gdev, uint32_t kind, uint64_t size, struct dxt_buf *b)
{
	struct daxfs_gpuexp_create c = { .size = size, .kind = kind };
	int fd = ioctl(gdev, DAXFS_GPUEXP_IOC_CREATE, &c);

	memset(b, 0, sizeof(*b));
	b->kind = DXT_EXP_COUNT;
	b->memfd = b->drmfd = -1;
	b->fd = fd < 0 ? -1 : fd;
	b->size = fd < 0 ? 0 : size;
	return fd < 0 ? -errno : 0;
}

static int gx_status(int gdev, int fd, struct daxfs_gpuexp_status *st)
{
	memset(st, 0, sizeof(*st));
	st->fd = fd;
	return ioctl(gdev, DAXFS_GPUEXP_IOC_STATUS, st) ? -errno : 0;
}

static int gx_move(int gdev, int fd)
{
	struct daxfs_gpuexp_move m = { .fd = fd };

	return ioctl(gdev, DAXFS_GPUEXP_IOC_MOVE, &m) ? -errno : 0;
}

/* EXPECT the exporter's pin count and attachments of buffer fd, at "when". */
#define EXPECT_PINNED(gdev, fd, pins, atts, when) do {			\
	struct daxfs_gpuexp_status _st;					\
	ASSERT_EQ(0, gx_status((gdev), (fd), &_st));			\
	EXPECT_EQ((pins), _st.pin_count) {				\
		TH_LOG("%s: pin count %u, want %u", (when),		\
		       _st.pin_count, (pins));				\
	}								\
	EXPECT_EQ((atts), _st.attachments) {				\
		TH_LOG("%s: %u attachments, want %u", (when),		\
		       _st.attachments, (atts));			\
	}								\
	if (_st.stale_mappings)						\
		TH_LOG("%s: %u mappings (sg tables, vmap) still on pages "\
		       "moved away from: an importer kept a mapping of "	\
		       "an unpinned buffer", (when), _st.stale_mappings); \
} while (0)

FIXTURE(gx) {
	char work[64];
	char src[128], img[128], mnt[128];
	int gdev;		/* /dev/daxfs_gpuexp */
	void *image;		/* the image file, mapped */
	size_t image_len;
	struct daxfs_baseline base;
};

FIXTURE_SETUP(gx)
{
	struct gen_opts o = { .big = true };

	self->work[0] = 0;
	self->image = NULL;
	self->gdev = -1;
	REQUIRE_GPUEXP(self);
	FIXTURE_WORKDIR_SETUP(self);
	SHARED_IMAGE_MAPPED(self, "gpuexp", &o, NULL);
}

/* in the parent, once the test's process is gone: paths and numbers only */
FIXTURE_TEARDOWN_PARENT(gx)
{
	WORKDIR_TEARDOWN(self);
}

/* A buffer of @kind holding the image, written through the exporter's mmap. */
static void filled_buffer(struct __test_metadata *_metadata, FIXTURE_DATA(gx) *self,
			  uint32_t kind, struct dxt_buf *b)
{
	size_t size = (self->image_len + PAGE - 1) & ~(PAGE - 1);
	int r;

	ASSERT_EQ(0, gx_create(self->gdev, kind, size, b)) {
		TH_LOG("CREATE %s of %zu bytes: %s", kind_name(kind), size, strerror(errno));
	}
	r = dxt_buf_write_file(b, self->img, 0);
	ASSERT_EQ(0, r) {
		TH_LOG("writing the image through the exporter's mmap: %s", strerror(-r));
	}
}

/* The buffer (read through the exporter's mmap) still holds the image. */
static void expect_image_in(struct __test_metadata *_metadata, FIXTURE_DATA(gx) *self,
			    struct dxt_buf *b, const char *when)
{
	char *got = malloc(self->image_len);

	ASSERT_NE(NULL, got);
	EXPECT_EQ(0, dxt_buf_read(b, 0, got, self->image_len));
	EXPECT_EQ(0, memcmp(got, self->image, self->image_len)) {
		TH_LOG("%s: the buffer no longer holds the image", when);
	}
	free(got);
}

/* read() of every file and entry of the mount matches the source tree. */
static void expect_tree(struct __test_metadata *_metadata, FIXTURE_DATA(gx) *self,
			const char *when)
{
	char err[ERRLEN];
	long n = 0;
	int r = compare_trees(self->src, self->mnt, err, sizeof(err), &n);

	EXPECT_EQ(0, r) {
		TH_LOG("%s: read() of the mount differs from the source: %s", when, err);
	}
	EXPECT_LT(20, n);
}

/* Shared read-only mappings of DATA and BIG on the mount. */
struct maps {
	int fd[2];
	char *p[2];
};

static const struct {
	const char *name;
	size_t size;
	unsigned int seed;
} mapped[2] = { { DATA, DATA_SIZE, DATA_SEED }, { BIG, BIG_SIZE, BIG_SEED } };

static void maps_open(struct __test_metadata *_metadata, FIXTURE_DATA(gx) *self,
		      struct maps *m)
{
	for (int i = 0; i < 2; i++) {
		m->fd[i] = open(P(self->mnt, mapped[i].name), O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, m->fd[i]);
		m->p[i] = mmap(NULL, mapped[i].size, PROT_READ, MAP_SHARED, m->fd[i], 0);
		ASSERT_NE(MAP_FAILED, m->p[i]) {
			TH_LOG("mmap of %s: %s", mapped[i].name, strerror(errno));
		}
	}
}

static void maps_check(struct __test_metadata *_metadata, struct maps *m, const char *when)
{
	static char want[BIG_SIZE];

	for (int i = 0; i < 2; i++) {
		pattern(want, mapped[i].size, mapped[i].seed, 0);
		EXPECT_EQ(0, memcmp(m->p[i], want, mapped[i].size)) {
			TH_LOG("%s: mmap() of %s does not show the file's bytes", when,
			       mapped[i].name);
		}
	}
}

static void maps_close(struct maps *m)
{
	for (int i = 0; i < 2; i++) {
		munmap(m->p[i], mapped[i].size);
		close(m->fd[i]);
	}
}

/* The exporter alone: arguments, kinds, its mmap, MOVE. */
TEST_F_TIMEOUT(gx, exporter_basics, 180)
{
	static const uint32_t kinds[] = {
		DAXFS_GPUEXP_DYNAMIC_PINNABLE, DAXFS_GPUEXP_DYNAMIC_UNPINNABLE,
		DAXFS_GPUEXP_IOMEM,
	};
	struct daxfs_gpuexp_create bad[] = {
		{ .size = 0, .kind = DAXFS_GPUEXP_DYNAMIC_PINNABLE },
		{ .size = PAGE + 1, .kind = DAXFS_GPUEXP_DYNAMIC_PINNABLE },
		{ .size = DAXFS_GPUEXP_MAX_SIZE + PAGE, .kind = DAXFS_GPUEXP_IOMEM },
		{ .size = PAGE, .kind = 0 },
		{ .size = PAGE, .kind = 4 },
		{ .size = PAGE, .kind = DAXFS_GPUEXP_IOMEM, .flags = 1 },
	};
	size_t size = 8 * PAGE;
	char *want = malloc(size), *got = malloc(size);

	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, got);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = ioctl(self->gdev, DAXFS_GPUEXP_IOC_CREATE, &bad[i]);
		int e = errno;

		if (r >= 0)
			close(r);
		EXPECT_EQ(-1, r);
		EXPECT_EQ(EINVAL, e) {
			TH_LOG("CREATE size %llu kind %u flags %u: %s, want EINVAL",
			       (unsigned long long)bad[i].size, bad[i].kind, bad[i].flags,
			       strerror(e));
		}
	}
	EXPECT_ERRNO(EBADF, gx_move(self->gdev, -1));
	EXPECT_ERRNO(EINVAL, gx_move(self->gdev, self->gdev));	/* not a dma-buf */

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct daxfs_gpuexp_status st;
		struct dxt_buf b;
		char *m;
		int r;

		ASSERT_EQ(0, gx_create(self->gdev, kinds[k], size, &b));
		ASSERT_EQ(0, gx_status(self->gdev, b.fd, &st));
		EXPECT_EQ(kinds[k], st.kind);
		EXPECT_EQ(size, st.size);
		EXPECT_EQ(0, st.pin_count + st.attachments + st.sg_mappings +
			     st.vmap_count + st.moves + st.stale_mappings);
		/* the exporter's mmap: MAP_SHARED only */
		EXPECT_EQ(MAP_FAILED, mmap(NULL, size, PROT_READ, MAP_PRIVATE, b.fd, 0));
		pattern(want, size, 100 + k, 0);
		EXPECT_EQ(0, dxt_buf_write(&b, 0, want, size));
		EXPECT_EQ(0, dxt_buf_read(&b, 0, got, size));
		EXPECT_EQ(0, memcmp(got, want, size));
		m = dxt_buf_mmap(&b, PROT_READ | PROT_WRITE);
		ASSERT_NE(NULL, m);
		EXPECT_EQ(0, memcmp(m, want, size));
		r = gx_move(self->gdev, b.fd);
		if (kinds[k] == DAXFS_GPUEXP_IOMEM) {
			EXPECT_EQ(-EOPNOTSUPP, r);
		} else {
			EXPECT_EQ(0, r) {
				TH_LOG("MOVE of an unused %s buffer: %s", kind_name(kinds[k]),
				       strerror(-r));
			}
			/* the mapping made before the move follows the buffer */
			EXPECT_EQ(0, memcmp(m, want, size));
			m[5 * PAGE + 3] ^= 0x5a;
			want[5 * PAGE + 3] ^= 0x5a;
			EXPECT_EQ(0, gx_move(self->gdev, b.fd));
			EXPECT_EQ(0, dxt_buf_read(&b, 0, got, size));
			EXPECT_EQ(0, memcmp(got, want, size)) {
				TH_LOG("a write through the old mapping after a move is "
				       "lost: the move did not zap the exporter's mmap");
			}
			ASSERT_EQ(0, gx_status(self->gdev, b.fd, &st));
			EXPECT_EQ(2, st.moves);
		}
		munmap(m, size);
		dxt_buf_free(&b);
	}
	free(want);
	free(got);
}

/*
 * vgem imports each kind through PRIME (dma_buf_attach: a static
 * importer): the exporter's attach, then, where vgem maps at import (6.1,
 * 6.12: the core pins and maps at attach), pin, map_dma_buf,
 * begin/end_cpu_access over a live table, unmap_dma_buf, and detach.  There
 * the unpinnable kind cannot be imported; where vgem attaches without a
 * mapping (7.2) nothing is pinned or mapped and the import succeeds.
 */
TEST_F_TIMEOUT(gx, static_importer, 180)
{
	static const uint32_t kinds[] = {
		DAXFS_GPUEXP_DYNAMIC_PINNABLE, DAXFS_GPUEXP_DYNAMIC_UNPINNABLE,
		DAXFS_GPUEXP_IOMEM,
	};
	size_t size = 8 * PAGE;
	char *want = malloc(size), *got = malloc(size);
	char why[ERRLEN];
	struct dxt_buf v;

	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, got);
	REQUIRE_EXPORTER(DXT_EXP_VGEM);
	ASSERT_EQ(0, dxt_buf_alloc(DXT_EXP_VGEM, PAGE, &v, why, sizeof(why))) {
		TH_LOG("a vgem buffer (for its DRM fd): %s", why);
	}
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct daxfs_gpuexp_status st;
		struct drm_gem_close gc = { 0 };
		uint32_t handle = 0;
		struct dxt_buf b;
		int r;

		ASSERT_EQ(0, gx_create(self->gdev, kinds[k], size, &b));
		pattern(want, size, 200 + k, 0);
		ASSERT_EQ(0, dxt_buf_write(&b, 0, want, size));
		r = drmPrimeFDToHandle(v.drmfd, b.fd, &handle) ? -errno : 0;
		ASSERT_EQ(0, gx_status(self->gdev, b.fd, &st));
		TH_LOG("%s imported by vgem: %s; %u pins, %u attachments, %u sg tables",
		       kind_name(kinds[k]), r ? strerror(-r) : "ok", st.pin_count,
		       st.attachments, st.sg_mappings);
		if (r) {
			/* the core pins a static importer's attachment: 6.1, 6.12 */
			EXPECT_EQ(DAXFS_GPUEXP_DYNAMIC_UNPINNABLE, kinds[k]);
			EXPECT_EQ(0, st.attachments + st.pin_count + st.sg_mappings);
			dxt_buf_free(&b);
			continue;
		}
		EXPECT_EQ(1, st.attachments);
		if (!st.sg_mappings)
			TH_LOG("vgem attached without mapping (seen on 7.2): map_dma_buf not run here");
		/* a static importer is pinned exactly when mapped */
		if (kinds[k] == DAXFS_GPUEXP_IOMEM) {
			EXPECT_EQ(0, st.pin_count);
			EXPECT_ERRNO(EOPNOTSUPP, gx_move(self->gdev, b.fd));
		} else if (st.sg_mappings) {
			EXPECT_EQ(1, st.pin_count);
			EXPECT_EQ(DAXFS_GPUEXP_DYNAMIC_PINNABLE, kinds[k]);
			EXPECT_ERRNO(EBUSY, gx_move(self->gdev, b.fd));
		} else {
			EXPECT_EQ(0, st.pin_count);
			EXPECT_EQ(0, gx_move(self->gdev, b.fd));
		}
		/* begin/end_cpu_access with the importer's table live */
		EXPECT_EQ(0, dxt_buf_read(&b, 0, got, size));
		EXPECT_EQ(0, memcmp(got, want, size));
		gc.handle = handle;
		EXPECT_EQ(0, drmIoctl(v.drmfd, DRM_IOCTL_GEM_CLOSE, &gc));
		ASSERT_EQ(0, gx_status(self->gdev, b.fd, &st));
		EXPECT_EQ(0, st.attachments + st.pin_count + st.sg_mappings) {
			TH_LOG("%s after vgem closed it: %u pins, %u attachments, %u sg tables",
			       kind_name(kinds[k]), st.pin_count, st.attachments,
			       st.sg_mappings);
		}
		if (kinds[k] == DAXFS_GPUEXP_DYNAMIC_PINNABLE)
			EXPECT_EQ(0, gx_move(self->gdev, b.fd));
		dxt_buf_free(&b);
	}
	dxt_buf_free(&v);
	free(want);
	free(got);
}

/*
 * A pinnable dynamic buffer stays pinned (and cannot move) while imported
 * or mounted: import, mount, release the import, unmount.
 */
TEST_F_TIMEOUT(gx, pinnable_pinned_while_used, 300)
{
	struct daxfs_gpuexp_status st;
	struct daxfs_import imp;
	struct maps mp;
	struct dxt_buf b;
	int dev, r;

	filled_buffer(_metadata, self, DAXFS_GPUEXP_DYNAMIC_PINNABLE, &b);
	EXPECT_PINNED(self->gdev, b.fd, 0, 0, "before the import");
	/* unused, it moves */
	EXPECT_EQ(0, gx_move(self->gdev, b.fd));
	expect_image_in(_metadata, self, &b, "after a move before the import");

	dev = dev_or_fail(_metadata);
	import_or_fail(_metadata, dev, b.fd, &imp, "a DYNAMIC_PINNABLE buffer");
	EXPECT_STREQ(DAXFS_GPUEXP_NAME, imp.exporter);
	EXPECT_PINNED(self->gdev, b.fd, 1, 1, "imported");
	EXPECT_ERRNO(EBUSY, gx_move(self->gdev, b.fd)) {
		TH_LOG("the buffer moved while imported: the import did not pin it");
	}

	ASSERT_EQ(0, mount_id(imp.id, self->mnt, MS_RDONLY, NULL));
	EXPECT_PINNED(self->gdev, b.fd, 1, 1, "imported and mounted");
	expect_tree(_metadata, self, "mounted, before a move");
	maps_open(_metadata, self, &mp);
	maps_check(_metadata, &mp, "mounted, before a move");

	EXPECT_ERRNO(EBUSY, gx_move(self->gdev, b.fd)) {
		TH_LOG("the buffer moved while mounted: the mount did not pin it");
	}
	expect_tree(_metadata, self, "mounted, after a refused move");
	maps_check(_metadata, &mp, "mounted, after a refused move");

	/* the mount keeps what the import had */
	EXPECT_EQ(0, dxt_release(dev, imp.id));
	EXPECT_PINNED(self->gdev, b.fd, 1, 1, "mounted, import released");
	EXPECT_ERRNO(EBUSY, gx_move(self->gdev, b.fd));
	expect_tree(_metadata, self, "mounted, import released, after a refused move");
	maps_check(_metadata, &mp, "mounted, import released, after a refused move");
	maps_close(&mp);

	ASSERT_EQ(0, umount_path(self->mnt, 0));
	EXPECT_PINNED(self->gdev, b.fd, 0, 0, "after the release and the unmount");
	ASSERT_EQ(0, gx_status(self->gdev, b.fd, &st));
	EXPECT_EQ(0, st.vmap_count + st.sg_mappings) {
		TH_LOG("after the release and the unmount: %u vmaps, %u sg tables left",
		       st.vmap_count, st.sg_mappings);
	}
	r = gx_move(self->gdev, b.fd);
	EXPECT_EQ(0, r) {
		TH_LOG("MOVE after the release and the unmount: %s", strerror(-r));
	}
	expect_image_in(_metadata, self, &b, "after the last move");
	close(dev);
	dxt_buf_free(&b);
}

/*
 * The other orders: unmount before the release, an import never mounted,
 * a mount straight from the fd, an import dropped by closing /dev/daxfs.
 */
TEST_F_TIMEOUT(gx, pinnable_other_orders, 300)
{
	struct daxfs_import imp;
	struct dxt_buf b;
	int dev, r;

	filled_buffer(_metadata, self, DAXFS_GPUEXP_DYNAMIC_PINNABLE, &b);
	dev = dev_or_fail(_metadata);

	/* import, mount, unmount, release */
	import_or_fail(_metadata, dev, b.fd, &imp, "the buffer");
	ASSERT_EQ(0, mount_id(imp.id, self->mnt, MS_RDONLY, NULL));
	EXPECT_PINNED(self->gdev, b.fd, 1, 1, "imported and mounted");
	ASSERT_EQ(0, umount_path(self->mnt, 0));
	EXPECT_PINNED(self->gdev, b.fd, 1, 1, "unmounted, still imported");
	EXPECT_ERRNO(EBUSY, gx_move(self->gdev, b.fd));
	EXPECT_EQ(0, dxt_release(dev, imp.id));
	EXPECT_PINNED(self->gdev, b.fd, 0, 0, "unmounted, then released");
	EXPECT_EQ(0, gx_move(self->gdev, b.fd));

	/* an import that is never mounted */
	ASSERT_EQ(0, dxt_import(dev, b.fd, 0, &imp));
	EXPECT_PINNED(self->gdev, b.fd, 1, 1, "imported, not mounted");
	EXPECT_ERRNO(EBUSY, gx_move(self->gdev, b.fd));
	EXPECT_EQ(0, dxt_release(dev, imp.id));
	EXPECT_PINNED(self->gdev, b.fd, 0, 0, "released, never mounted");

	/* a mount straight from the dma-buf fd (fsconfig FSCONFIG_SET_FD) */
	r = mount_fd(b.fd, self->mnt, NULL);
	ASSERT_EQ(0, r) {
		TH_LOG("mount from the fd: %s", strerror(-r));
	}
	EXPECT_PINNED(self->gdev, b.fd, 1, 1, "mounted from the fd");
	EXPECT_ERRNO(EBUSY, gx_move(self->gdev, b.fd));
	expect_tree(_metadata, self, "mounted from the fd, after a refused move");
	ASSERT_EQ(0, umount_path(self->mnt, 0));
	EXPECT_PINNED(self->gdev, b.fd, 0, 0, "the fd's mount unmounted");

	/* closing /dev/daxfs releases its imports */
	ASSERT_EQ(0, dxt_import(dev, b.fd, 0, &imp));
	EXPECT_PINNED(self->gdev, b.fd, 1, 1, "imported again");
	close(dev);
	EXPECT_PINNED(self->gdev, b.fd, 0, 0, "/dev/daxfs closed");
	EXPECT_EQ(0, gx_move(self->gdev, b.fd));
	expect_image_in(_metadata, self, &b, "after the last move");
	dxt_buf_free(&b);
}

/* A dynamic buffer that cannot be pinned cannot be imported. */
TEST_F_TIMEOUT(gx, unpinnable_refused, 180)
{
	static const char *const needles[] = { "daxfs", "cannot pin", NULL };
	struct daxfs_gpuexp_status st;
	struct daxfs_import imp;
	char line[1024] = "";
	struct dxt_buf b;
	int dev, kmsg, r;

	filled_buffer(_metadata, self, DAXFS_GPUEXP_DYNAMIC_UNPINNABLE, &b);
	dev = dev_or_fail(_metadata);
	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg);
	r = dxt_import(dev, b.fd, 0, &imp);
	EXPECT_ERRNO(EOPNOTSUPP, r) {
		TH_LOG("importing a dynamic buffer that cannot be pinned must fail "
		       "with the pin's errno");
	}
	if (!r)
		EXPECT_EQ(0, dxt_release(dev, imp.id));
	EXPECT_TRUE(kmsg_find(kmsg, needles, line, sizeof(line))) {
		TH_LOG("no kernel log line with \"daxfs\" and \"cannot pin\"");
	}
	line[strcspn(line, "\n")] = 0;
	if (line[0])
		TH_LOG("kernel log: %s", line);
	EXPECT_PINNED(self->gdev, b.fd, 0, 0, "after the refused import");
	ASSERT_EQ(0, gx_status(self->gdev, b.fd, &st));
	EXPECT_EQ(0, st.vmap_count + st.sg_mappings);

	/* a mount straight from the fd pins the same way */
	r = mount_fd(b.fd, self->mnt, NULL);
	EXPECT_NE(0, r) {
		TH_LOG("a mount from the fd of an unpinnable dynamic buffer succeeded");
		umount_path(self->mnt, 0);
	}
	if (r)
		TH_LOG("mount from the fd: %s", strerror(-r));
	EXPECT_PINNED(self->gdev, b.fd, 0, 0, "after the refused mount");

	/* nothing holds it: it still moves */
	EXPECT_EQ(0, gx_move(self->gdev, b.fd));
	expect_image_in(_metadata, self, &b, "after a move");
	close(kmsg);
	close(dev);
	dxt_buf_free(&b);
}

/* An I/O-memory vmap: read() works, mmap() is refused with ENODEV. */
TEST_F_TIMEOUT(gx, iomem_read_no_mmap, 300)
{
	struct daxfs_gpuexp_status st;
	struct daxfs_import imp;
	struct dxt_buf b;
	int dev, fd;
	void *p;

	filled_buffer(_metadata, self, DAXFS_GPUEXP_IOMEM, &b);
	dev = dev_or_fail(_metadata);
	import_or_fail(_metadata, dev, b.fd, &imp, "an IOMEM buffer");
	EXPECT_STREQ(DAXFS_GPUEXP_NAME, imp.exporter);
	ASSERT_EQ(0, mount_id(imp.id, self->mnt, MS_RDONLY, NULL));
	ASSERT_EQ(0, gx_status(self->gdev, b.fd, &st));
	TH_LOG("mounted: %u pins, %u attachments, %u sg tables, %u vmaps", st.pin_count,
	       st.attachments, st.sg_mappings, st.vmap_count);
	expect_tree(_metadata, self, "IOMEM buffer mounted");

	fd = open(P(self->mnt, BIG), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (int shared = 1; shared >= 0; shared--) {
		p = mmap(NULL, BIG_SIZE, PROT_READ, shared ? MAP_SHARED : MAP_PRIVATE, fd, 0);
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(ENODEV, errno) {
			TH_LOG("%s of a file in I/O memory: %s, want ENODEV",
			       shared ? "MAP_SHARED" : "MAP_PRIVATE", strerror(errno));
		}
		if (p != MAP_FAILED)
			munmap(p, BIG_SIZE);
	}
	close(fd);
	expect_tree(_metadata, self, "IOMEM buffer, after the refused mmaps");

	ASSERT_EQ(0, umount_path(self->mnt, 0));
	EXPECT_EQ(0, dxt_release(dev, imp.id));
	EXPECT_PINNED(self->gdev, b.fd, 0, 0, "released and unmounted");
	ASSERT_EQ(0, gx_status(self->gdev, b.fd, &st));
	EXPECT_EQ(0, st.vmap_count + st.sg_mappings) {
		TH_LOG("after the release and the unmount: %u vmaps, %u sg tables left",
		       st.vmap_count, st.sg_mappings);
	}
	/* I/O memory does not move */
	EXPECT_ERRNO(EOPNOTSUPP, gx_move(self->gdev, b.fd));
	close(dev);
	dxt_buf_free(&b);
}

TEST_HARNESS_MAIN
