/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Harness glue of the driver-* tests: include once per test program, after
 * nothing else of the harness.
 *
 * Every fixture that runs per exporter declares
 *
 *	FIXTURE_VARIANT(name) { enum dxt_exporter kind; };
 *	DAXFS_EXPORTER_VARIANTS(name);
 *
 * and calls REQUIRE_EXPORTER(variant->kind) first in its setup: a missing
 * exporter skips with the reason, except in CI (CI=true) on a kernel of the
 * matrix that must have it, where it fails.
 */
#ifndef DAXFS_HARNESS_H
#define DAXFS_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "daxfs_test.h"

#define DAXFS_EXPORTER_VARIANTS(f)					\
	FIXTURE_VARIANT_ADD(f, udmabuf) { .kind = DXT_EXP_UDMABUF };	\
	FIXTURE_VARIANT_ADD(f, heap) { .kind = DXT_EXP_HEAP };		\
	FIXTURE_VARIANT_ADD(f, vgem) { .kind = DXT_EXP_VGEM }

#define REQUIRE_EXPORTER(k) do {					\
	char _why[ERRLEN];						\
	if (!dxt_exporter_available((k), _why, sizeof(_why))) {		\
		if (dxt_exporter_required(k)) {				\
			TH_LOG("CI=true and kernel %s must provide it: %s", \
			       getenv("DAXFS_KERNEL") ?: "?", _why);	\
			ASSERT_TRUE(false);				\
		}							\
		SKIP(return, "%s", _why);				\
	}								\
} while (0)

/* ASSERT that an expression returning 0 / -errno is 0, logging msg. */
#define ASSERT_OK_MSG(expr, msg) do {					\
	int _r = (expr);						\
	if (_r)								\
		TH_LOG("%s: %s (%s)", #expr, strerror(-_r), (msg));	\
	ASSERT_EQ(0, _r);						\
} while (0)

/* Log when r is not -err; returns r (for EXPECT_ERRNO/ASSERT_ERRNO). */
static inline int dxt_errno_check(struct __test_metadata *_metadata, int err, int r,
				    const char *what, int line)
{
	if (r != -err)
		TH_LOG("line %d: %s: expected %s, got %s", line, what, strerrorname_np(err) ?: "?",
		       r ? strerrorname_np(-r) ?: "?" : "success");
	return r;
}

/* /dev/daxfs opened, or the test fails. */
static inline int dev_or_fail(struct __test_metadata *_metadata)
{
	int dev = dxt_dev_open();

	if (dev < 0)
		TH_LOG("open /dev/daxfs: %s (module not loaded?)", strerror(-dev));
	ASSERT_LE(0, dev);
	return dev;
}

/* DAXFS_IOC_IMPORT of the dma-buf fd into *imp, or the test fails (logging what). */
static inline void import_or_fail(struct __test_metadata *_metadata, int dev, int fd,
				  struct daxfs_import *imp, const char *what)
{
	int r = dxt_import(dev, fd, 0, imp);

	if (r)
		TH_LOG("DAXFS_IOC_IMPORT of %s: %s", what, strerror(-r));
	ASSERT_EQ(0, r);
}

/*
 * EXPECT/ASSERT that an expression returning 0 / -errno gave exactly -err.
 * Like EXPECT_EQ, a { block } may follow as the failure handler.
 */
#define EXPECT_ERRNO(err, expr) \
	EXPECT_EQ(-(err), dxt_errno_check(_metadata, (err), (expr), #expr, __LINE__))
#define ASSERT_ERRNO(err, expr) \
	ASSERT_EQ(-(err), dxt_errno_check(_metadata, (err), (expr), #expr, __LINE__))

/* Generate a tree / build an image or fail with the reason. */
#define GEN_TREE(dir, opts) do {					\
	char _e[ERRLEN];						\
	int _r = gen_tree((dir), (opts), _e, sizeof(_e));		\
	if (_r)								\
		TH_LOG("%s", _e);					\
	ASSERT_EQ(0, _r);						\
} while (0)

/*
 * The work directory of a fixture whose data has char work[], src[], img[]
 * and mnt[]: a new /tmp/daxfs-test.XXXXXX holding src, img and an empty
 * mnt/.  self->work[0] must be 0 before, so that the teardown knows.
 */
#define WORKDIR_SETUP(self) do {					\
	ASSERT_EQ(0, dxt_make_workdir("daxfs-test", (self)->work, sizeof((self)->work)));	\
	snprintf((self)->src, sizeof((self)->src), "%s/src", (self)->work); \
	snprintf((self)->img, sizeof((self)->img), "%s/img", (self)->work); \
	snprintf((self)->mnt, sizeof((self)->mnt), "%s/mnt", (self)->work); \
	ASSERT_EQ(0, mkdir((self)->mnt, 0755));				\
} while (0)

/*
 * The usual start of a fixture setup that works in a directory (fixture
 * data: work[], src[], img[], mnt[], base): the leak baseline, taken before
 * anything is opened; the teardown armed, so that it also runs when an
 * ASSERT below fails; then WORKDIR_SETUP.  _MNT2 adds a second empty mount
 * point, self->mnt2.
 */
#define FIXTURE_WORKDIR_SETUP(self) do {				\
	baseline_take(&(self)->base);					\
	_metadata->setup_completed = true;				\
	WORKDIR_SETUP(self);						\
} while (0)

#define FIXTURE_WORKDIR_SETUP_MNT2(self) do {				\
	FIXTURE_WORKDIR_SETUP(self);					\
	snprintf((self)->mnt2, sizeof((self)->mnt2), "%s/mnt2", (self)->work); \
	ASSERT_EQ(0, mkdir((self)->mnt2, 0755));			\
} while (0)

/*
 * A private copy of the image file self->img in memory: self->image
 * (malloc'd), its size into self->len_field.
 */
#define IMAGE_COPY(self, len_field) do {				\
	uint8_t *_b;							\
	size_t _n;							\
	int _r = dxt_slurp((self)->img, &_b, &_n);			\
	ASSERT_EQ(0, _r) {						\
		TH_LOG("reading %s: %s", (self)->img, strerror(-_r));	\
	}								\
	(self)->image = (void *)_b;					\
	(self)->len_field = _n;						\
} while (0)

/*
 * A second tree of a test in the work directory: WORK/NAME-src and
 * WORK/NAME-mnt made empty, WORK/NAME-img its image's path, into the
 * caller's arrays src, img and mnt.
 */
#define WORK_TREE(self, name, src, img, mnt) do {			\
	snprintf((src), sizeof(src), "%s/%s-src", (self)->work, (name));	\
	snprintf((img), sizeof(img), "%s/%s-img", (self)->work, (name));	\
	snprintf((mnt), sizeof(mnt), "%s/%s-mnt", (self)->work, (name));	\
	ASSERT_EQ(0, mkdir((src), 0755));				\
	ASSERT_EQ(0, mkdir((mnt), 0755));				\
} while (0)

/*
 * In a FIXTURE_TEARDOWN_PARENT: unmount what is left under the work
 * directory, remove it, then the leak check against self->base.  Nothing
 * when the setup stopped before making the directory.
 */
#define WORKDIR_TEARDOWN(self) do {					\
	if ((self)->work[0]) {						\
		umount_all_under((self)->work);				\
		dxt_rm_rf((self)->work);					\
		EXPECT_BASELINE((self)->base);				\
	}								\
} while (0)

/*
 * Import self->img from a new buffer of variant->kind into self->m and
 * mount it (mount(2)) on self->mnt.
 */
#define MOUNT_IMAGE() do {						\
	char _e[ERRLEN];						\
	int _r = dxm_setup(&self->m, variant->kind, self->img, 0,	\
			   self->mnt, _e, sizeof(_e));			\
	if (_r)								\
		TH_LOG("%s", _e);					\
	ASSERT_EQ(0, _r);						\
} while (0)

/* The program's shared tree + image called name (see shared_image()). */
#define SHARED_IMAGE(name, opts, add, mkopts, src, img) do {		\
	char _e[ERRLEN];						\
	int _r = shared_image((name), (opts), (add), (mkopts), (src),	\
			      (img), sizeof(src), _e, sizeof(_e));	\
	if (_r)								\
		TH_LOG("%s", _e);					\
	ASSERT_EQ(0, _r);						\
} while (0)

/*
 * The shared tree + image (SHARED_IMAGE into self->src, self->img), mapped
 * read-only into self->image, self->image_len.
 */
#define SHARED_IMAGE_MAPPED(self, name, opts, add) do {		\
	SHARED_IMAGE((name), (opts), (add), NULL, (self)->src, (self)->img); \
	(self)->image = dxt_map_file((self)->img, &(self)->image_len);	\
	ASSERT_NE(NULL, (self)->image);					\
} while (0)

#define MKIMAGE(img, src, opts) do {					\
	char _e[ERRLEN];						\
	int _r = dxt_mkimage((img), (src), (opts), _e, sizeof(_e));		\
	if (_r)								\
		TH_LOG("%s", _e);					\
	ASSERT_EQ(0, _r);						\
} while (0)

/*
 * Leak check around one test: the module's refcount and the number of live
 * dma-bufs, taken in the setup before anything is opened, compared in a
 * FIXTURE_TEARDOWN_PARENT, i.e. after the test's process is gone (its fds
 * closed, its mappings unmapped).  A teardown in the parent must touch no
 * fd or pointer of the test process: only paths and numbers.
 */
struct daxfs_baseline {
	long refcnt;
	long bufs;
};

static inline void baseline_take(struct daxfs_baseline *b)
{
	b->refcnt = module_refcnt();
	b->bufs = dxt_dmabuf_count();
}

/*
 * No { handler } here: in the parent the harness's failure trigger may still
 * be set by an ASSERT of the test's process, which would run any handler.
 */
#define EXPECT_BASELINE(b) do {						\
	long _r = module_refcnt(), _c = dxt_dmabuf_count();			\
	if ((b).refcnt >= 0 && _r >= 0 && _r != (b).refcnt)		\
		TH_LOG("daxfs module refcnt %ld after the test, %ld before: " \
		       "a module reference leaked", _r, (b).refcnt);	\
	if ((b).refcnt >= 0 && _r >= 0)					\
		EXPECT_EQ((b).refcnt, _r);				\
	if ((b).bufs >= 0 && _c >= 0 && _c != (b).bufs)			\
		TH_LOG("%ld dma-bufs alive after the test, %ld before: " \
		       "a buffer reference leaked", _c, (b).bufs);	\
	if ((b).bufs >= 0 && _c >= 0)					\
		EXPECT_EQ((b).bufs, _c);				\
} while (0)

/* a libc call returning -1/errno as 0/-errno */
#define SYS(x) ((x) < 0 ? -errno : 0)

/* Skip (fail under CI=true) when the VM lacks something the test needs. */
#define NEED(cond, ...) do {						\
	if (!(cond)) {							\
		char _w[512];						\
		snprintf(_w, sizeof(_w), __VA_ARGS__);			\
		if (dxt_ci()) {						\
			TH_LOG("CI=true: %s", _w);			\
			ASSERT_TRUE(false);				\
		}							\
		SKIP(return, "%s", _w);					\
	}								\
} while (0)

/*
 * What takes page references through a mapping of daxfs memory (a PFN map)
 * fails with EFAULT: process_vm_readv() and vmsplice() of the page at
 * @pin_at, and an O_DIRECT write from the page-aligned @dio_page to a loop
 * device over a file made in @workdir; the same write from an ordinary
 * buffer works, so the errno is the mapping's.
 */
static inline void expect_pins_refused(struct __test_metadata *_metadata, char *pin_at,
				       char *dio_page, const char *workdir)
{
	struct iovec local, remote = { .iov_base = pin_at, .iov_len = 4096 };
	char path[PATH_MAX], err[256];
	void *buf;
	int p[2], b, lfd;

	ASSERT_EQ(0, posix_memalign(&buf, 4096, 4096));
	local.iov_base = buf;
	local.iov_len = 4096;
	EXPECT_ERRNO(EFAULT, SYS(process_vm_readv(getpid(), &local, 1, &remote, 1, 0)));
	ASSERT_EQ(0, pipe(p));
	EXPECT_ERRNO(EFAULT, SYS(vmsplice(p[1], &remote, 1, 0)));
	close(p[0]);
	close(p[1]);

	snprintf(path, sizeof(path), "%s/loop-backing", workdir);
	b = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, ftruncate(b, 1 << 20));
	close(b);
	lfd = dxt_loop_open(path, O_RDWR | O_DIRECT, err, sizeof(err));
	ASSERT_LE(0, lfd) {
		TH_LOG("%s", err);
	}
	EXPECT_ERRNO(EFAULT, SYS(pwrite(lfd, dio_page, 4096, 0)));
	memcpy(buf, dio_page, 4096);
	EXPECT_EQ(4096, pwrite(lfd, buf, 4096, 0));
	close(lfd);
	free(buf);
}

#endif
