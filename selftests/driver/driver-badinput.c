// SPDX-License-Identifier: GPL-2.0
/*
 * driver-badinput: every bad argument and every bad image gets exactly the
 * errno that uapi/linux/daxfs.h documents, a corrupt image a dmesg line with
 * the reason, and nothing leaks (fds, dma-buf references).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daxfs_harness.h"
#include "daxfs_format.h"

/* mount(2) of a dmabuf:ID that names no import (uapi: "fails with ENOENT") */
#ifndef MOUNT_UNKNOWN_ID_ERRNO
#define MOUNT_UNKNOWN_ID_ERRNO ENOENT
#endif

/* ---------------------------------------------------------------- no buffer */

FIXTURE(api) {
	struct daxfs_baseline base;
};

FIXTURE_SETUP(api)
{
	baseline_take(&self->base);
}

/* in the parent, once the test's process is gone */
FIXTURE_TEARDOWN_PARENT(api)
{
	EXPECT_BASELINE(self->base);
}

TEST_F(api, not_a_dmabuf)
{
	int fds0 = count_fds(), dev = dev_or_fail(_metadata);
	char path[] = "/tmp/daxfs-notdmabuf.XXXXXX";
	int reg, mfd, nul, p[2], dir;

	reg = mkstemp(path);
	ASSERT_LE(0, reg);
	unlink(path);
	ASSERT_EQ(0, ftruncate(reg, 1 << 20));
	mfd = memfd_create("x", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, 1 << 20));
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nul);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dir);

	EXPECT_ERRNO(EINVAL, dxt_import(dev, reg, 0, NULL));
	EXPECT_ERRNO(EINVAL, dxt_import(dev, mfd, 0, NULL));
	EXPECT_ERRNO(EINVAL, dxt_import(dev, nul, 0, NULL));
	EXPECT_ERRNO(EINVAL, dxt_import(dev, p[0], 0, NULL));
	EXPECT_ERRNO(EINVAL, dxt_import(dev, dir, 0, NULL));
	EXPECT_ERRNO(EINVAL, dxt_import(dev, dev, 0, NULL));
	/* the fsconfig path rejects them the same way */
	{
		int fs = sys_fsopen("daxfs", FSOPEN_CLOEXEC);

		ASSERT_LE(0, fs);
		EXPECT_ERRNO(EINVAL, SYS(sys_fsconfig(fs, FSCONFIG_SET_FD, "dmabuf", NULL, mfd)));
		EXPECT_ERRNO(EINVAL, SYS(sys_fsconfig(fs, FSCONFIG_SET_FD, "dmabuf", NULL, reg)));
		close(fs);
	}
	close(reg);
	close(mfd);
	close(nul);
	close(p[0]);
	close(p[1]);
	close(dir);
	close(dev);
	EXPECT_EQ(fds0, count_fds());
}

TEST_F(api, bad_fd)
{
	int dev = dev_or_fail(_metadata), fd;

	/* a closed fd well above anything fsopen() below could reuse */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	{
		int hi = fcntl(fd, F_DUPFD_CLOEXEC, 900);

		ASSERT_LE(900, hi);
		close(fd);
		close(hi);
		fd = hi;
	}
	EXPECT_ERRNO(EBADF, dxt_import(dev, fd, 0, NULL));
	EXPECT_ERRNO(EBADF, dxt_import(dev, -1, 0, NULL));
	EXPECT_ERRNO(EBADF, dxt_import(dev, INT_MAX, 0, NULL));
	EXPECT_ERRNO(EBADF, dxt_import(dev, INT_MIN, 0, NULL));
	{
		int fs = sys_fsopen("daxfs", FSOPEN_CLOEXEC);

		ASSERT_LE(0, fs);
		EXPECT_ERRNO(EBADF, SYS(sys_fsconfig(fs, FSCONFIG_SET_FD, "dmabuf", NULL, fd)));
		close(fs);
	}
	close(dev);
}

TEST_F(api, unknown_ids)
{
	int dev = dev_or_fail(_metadata);
	struct daxfs_info info;
	char mnt[] = "/tmp/daxfs-mnt.XXXXXX";

	EXPECT_ERRNO(ENOENT, dxt_release(dev, 0));
	EXPECT_ERRNO(ENOENT, dxt_release(dev, 987654321));
	EXPECT_ERRNO(ENOENT, dxt_release(dev, ~0ull));
	EXPECT_ERRNO(ENOENT, dxt_info(dev, 0, &info));
	EXPECT_ERRNO(ENOENT, dxt_info(dev, 987654321, &info));
	ASSERT_NE(NULL, mkdtemp(mnt));
	EXPECT_ERRNO(MOUNT_UNKNOWN_ID_ERRNO, mount_id(987654321, mnt, MS_RDONLY, NULL));
	EXPECT_ERRNO(MOUNT_UNKNOWN_ID_ERRNO, mount_id(0, mnt, MS_RDONLY, NULL));
	EXPECT_ERRNO(EINVAL, mount_src("dmabuf:abc", mnt, MS_RDONLY, NULL));
	EXPECT_ERRNO(EINVAL, mount_src("dmabuf:", mnt, MS_RDONLY, NULL));
	EXPECT_ERRNO(EINVAL, mount_src("dmabuf:-1", mnt, MS_RDONLY, NULL));
	EXPECT_ERRNO(EINVAL, mount_src("dmabuf:99999999999999999999999", mnt, MS_RDONLY, NULL));
	EXPECT_ERRNO(EINVAL, mount_src("", mnt, MS_RDONLY, NULL));
	umount_all_under(mnt);
	rmdir(mnt);
	close(dev);
}

TEST_F(api, bad_ioctl)
{
	int dev = dev_or_fail(_metadata);
	char buf[256] = { 0 };

	EXPECT_ERRNO(ENOTTY, dxt_ioctl(dev, _IOWR(DAXFS_IOC_MAGIC, 0x7f, struct daxfs_import),
					 buf));
	EXPECT_ERRNO(ENOTTY, dxt_ioctl(dev, _IO('x', 1), buf));
	EXPECT_ERRNO(EFAULT, dxt_ioctl(dev, DAXFS_IOC_IMPORT, NULL));
	EXPECT_ERRNO(EFAULT, dxt_ioctl(dev, DAXFS_IOC_RELEASE, (void *)16));
	close(dev);
}

TEST_F(api, nonroot_open)
{
	pid_t pid = fork();
	int st;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(100);
		fd = open("/dev/" DAXFS_DEV_NAME, O_RDWR | O_CLOEXEC);
		_exit(fd < 0 ? errno : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	TH_LOG("open /dev/daxfs as uid 65534: %s",
	       WEXITSTATUS(st) ? strerrorname_np(WEXITSTATUS(st)) : "success");
	EXPECT_TRUE(WEXITSTATUS(st) == EACCES || WEXITSTATUS(st) == EPERM);
	/* the device node itself is root-only */
	{
		struct stat s;

		ASSERT_EQ(0, stat("/dev/" DAXFS_DEV_NAME, &s));
		EXPECT_EQ(0600, s.st_mode & 07777);
		EXPECT_EQ(0, s.st_uid);
	}
}

/* ---------------------------------------------------------------- per exporter */

FIXTURE(bad) {
	char work[64];
	char src[128], img[128], mnt[128];
	uint8_t *image;		/* a valid image, in memory */
	size_t len;
	struct dxt_buf buf;	/* holds the valid image at offset 0 (+ 2 spare pages) */
	int dev;
	struct daxfs_baseline base;
};

FIXTURE_VARIANT(bad) {
	enum dxt_exporter kind;
};

DAXFS_EXPORTER_VARIANTS(bad);

FIXTURE_SETUP(bad)
{
	struct gen_opts o = { .special = true };
	char err[ERRLEN];

	self->work[0] = 0;
	self->image = NULL;
	self->buf.fd = self->buf.memfd = self->buf.drmfd = -1;
	self->dev = -1;
	REQUIRE_EXPORTER(variant->kind);
	FIXTURE_WORKDIR_SETUP(self);
	/* one tree and image for all tests: they change only their copy */
	SHARED_IMAGE("bad", &o, NULL, NULL, self->src, self->img);
	IMAGE_COPY(self, len);
	ASSERT_LT(3 * PAGE, self->len);
	/* our CRC-32C agrees with mkdaxfs' */
	{
		uint32_t crc = ((struct daxfs_super *)self->image)->crc32c;

		ASSERT_EQ(0, image_fix_crc(self->image, self->len));
		ASSERT_EQ(crc, ((struct daxfs_super *)self->image)->crc32c);
	}
	if (dxt_buf_alloc(variant->kind, self->len + 2 * PAGE, &self->buf, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_LE(0, self->buf.fd);
	ASSERT_EQ(0, dxt_buf_write(&self->buf, 0, self->image, self->len));
	self->dev = dev_or_fail(_metadata);
}

/* in the parent, once the test's process is gone: paths and numbers only */
FIXTURE_TEARDOWN_PARENT(bad)
{
	/* nothing leaked: no module reference, no dma-buf kept alive */
	WORKDIR_TEARDOWN(self);
}

/*
 * Import @img (len bytes) placed at @at in a fresh buffer of @bufsize bytes
 * (0: len rounded up), at offset @off.  Returns 0 / -errno; releases on
 * success.
 */
static int try_image(struct __test_metadata *_metadata, FIXTURE_DATA(bad) *self,
		     enum dxt_exporter kind, const void *img, size_t len, size_t bufsize,
		     size_t at, uint64_t off)
{
	struct daxfs_import imp;
	char err[ERRLEN];
	struct dxt_buf b;
	int r;

	if (!bufsize)
		bufsize = (at + len + PAGE - 1) & ~(PAGE - 1);
	r = dxt_buf_alloc(kind, bufsize, &b, err, sizeof(err));
	if (r)
		TH_LOG("%s", err);
	if (r)
		return r;
	if (len)
		r = dxt_buf_write(&b, at, img, len);
	if (!r)
		r = dxt_import(self->dev, b.fd, off, &imp);
	if (!r)
		dxt_release(self->dev, imp.id);
	dxt_buf_free(&b);
	return r;
}

#define TRY(img, len, bufsize, at, off) \
	try_image(_metadata, self, variant->kind, (img), (len), (bufsize), (at), (off))

static uint8_t *copy_image(FIXTURE_DATA(bad) *self)
{
	uint8_t *c = malloc(self->len);

	if (c)
		memcpy(c, self->image, self->len);
	return c;
}

#define SB(p) ((struct daxfs_super *)(p))

TEST_F_TIMEOUT(bad, valid_then_double_release, 120)
{
	struct daxfs_import imp;
	struct daxfs_info info;

	ASSERT_EQ(0, dxt_import(self->dev, self->buf.fd, 0, &imp));
	EXPECT_EQ(self->len, imp.image_size);
	EXPECT_EQ(self->buf.size, imp.buffer_size);
	EXPECT_EQ(0, dxt_info(self->dev, imp.id, &info));
	EXPECT_EQ(0, info.mounts);
	EXPECT_EQ(0, dxt_release(self->dev, imp.id));
	EXPECT_ERRNO(ENOENT, dxt_release(self->dev, imp.id));
	EXPECT_ERRNO(ENOENT, dxt_info(self->dev, imp.id, &info));
	EXPECT_ERRNO(MOUNT_UNKNOWN_ID_ERRNO, mount_id(imp.id, self->mnt, MS_RDONLY, NULL));
	/* ids are not reused at once */
	{
		struct daxfs_import imp2;

		ASSERT_EQ(0, dxt_import(self->dev, self->buf.fd, 0, &imp2));
		EXPECT_NE(imp.id, imp2.id);
		EXPECT_EQ(0, dxt_release(self->dev, imp2.id));
	}
}

TEST_F_TIMEOUT(bad, flags_and_reserved, 120)
{
	struct daxfs_import a;
	struct daxfs_import ok;

	memset(&a, 0, sizeof(a));
	a.argsz = sizeof(a);
	a.fd = self->buf.fd;
	a.flags = 1;
	EXPECT_ERRNO(EINVAL, dxt_ioctl(self->dev, DAXFS_IOC_IMPORT, &a));
	a.flags = 1u << 31;
	EXPECT_ERRNO(EINVAL, dxt_ioctl(self->dev, DAXFS_IOC_IMPORT, &a));
	a.flags = 0;
	a.reserved0 = 1;
	EXPECT_ERRNO(EINVAL, dxt_ioctl(self->dev, DAXFS_IOC_IMPORT, &a));
	a.reserved0 = 0x80000000u;
	EXPECT_ERRNO(EINVAL, dxt_ioctl(self->dev, DAXFS_IOC_IMPORT, &a));

	ASSERT_EQ(0, dxt_import(self->dev, self->buf.fd, 0, &ok));
	{
		struct daxfs_release r = { .argsz = sizeof(r), .flags = 1, .id = ok.id };
		struct daxfs_info i;

		EXPECT_ERRNO(EINVAL, dxt_ioctl(self->dev, DAXFS_IOC_RELEASE, &r));
		memset(&i, 0, sizeof(i));
		i.argsz = sizeof(i);
		i.flags = 2;
		i.id = ok.id;
		EXPECT_ERRNO(EINVAL, dxt_ioctl(self->dev, DAXFS_IOC_INFO, &i));
	}
	/* the failed calls did not drop it */
	EXPECT_EQ(0, dxt_release(self->dev, ok.id));
}

TEST_F_TIMEOUT(bad, argsz_too_small, 120)
{
	static const uint32_t sizes[] = { 0, 1, 4, 8, 16, offsetof(struct daxfs_import, id),
					  sizeof(struct daxfs_import) - 8,
					  sizeof(struct daxfs_import) - 1 };
	struct daxfs_import a;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(&a, 0, sizeof(a));
		a.argsz = sizes[i];
		a.fd = self->buf.fd;
		EXPECT_ERRNO(EINVAL, dxt_ioctl(self->dev, DAXFS_IOC_IMPORT, &a)) {
			TH_LOG("argsz %u", sizes[i]);
		}
	}
	{
		struct daxfs_release r = { .argsz = 8, .id = 1 };
		struct daxfs_info inf;

		EXPECT_ERRNO(EINVAL, dxt_ioctl(self->dev, DAXFS_IOC_RELEASE, &r));
		r.argsz = 0;
		EXPECT_ERRNO(EINVAL, dxt_ioctl(self->dev, DAXFS_IOC_RELEASE, &r));
		memset(&inf, 0, sizeof(inf));
		inf.argsz = sizeof(inf) - 1;
		inf.id = 1;
		EXPECT_ERRNO(EINVAL, dxt_ioctl(self->dev, DAXFS_IOC_INFO, &inf));
	}
}

TEST_F_TIMEOUT(bad, argsz_larger, 120)
{
	struct {
		struct daxfs_import a;
		uint8_t tail[64];
	} big;
	struct {
		struct daxfs_import a;
		uint8_t canary[64];
	} exact;

	/* zero tail: accepted, outputs filled */
	memset(&big, 0, sizeof(big));
	big.a.argsz = sizeof(big);
	big.a.fd = self->buf.fd;
	ASSERT_EQ(0, dxt_ioctl(self->dev, DAXFS_IOC_IMPORT, &big));
	EXPECT_LT(0, big.a.id);
	EXPECT_EQ(self->len, big.a.image_size);
	for (size_t i = 0; i < sizeof(big.tail); i++)
		EXPECT_EQ(0, big.tail[i]);
	EXPECT_EQ(0, dxt_release(self->dev, big.a.id));

	/* non-zero byte the kernel does not know: E2BIG */
	for (size_t pos = 0; pos < sizeof(big.tail); pos += 21) {
		memset(&big, 0, sizeof(big));
		big.a.argsz = sizeof(big);
		big.a.fd = self->buf.fd;
		big.tail[pos] = 1;
		EXPECT_ERRNO(E2BIG, dxt_ioctl(self->dev, DAXFS_IOC_IMPORT, &big)) {
			TH_LOG("non-zero tail byte %zu", pos);
		}
	}

	/* the kernel writes back at most argsz bytes */
	memset(&exact, 0xA5, sizeof(exact));
	memset(&exact.a, 0, sizeof(exact.a));
	exact.a.argsz = sizeof(exact.a);
	exact.a.fd = self->buf.fd;
	ASSERT_EQ(0, dxt_ioctl(self->dev, DAXFS_IOC_IMPORT, &exact));
	for (size_t i = 0; i < sizeof(exact.canary); i++)
		EXPECT_EQ(0xA5, exact.canary[i]);
	EXPECT_EQ(0, dxt_release(self->dev, exact.a.id));

	/* RELEASE and INFO grow the same way */
	{
		struct {
			struct daxfs_release r;
			uint8_t tail[16];
		} rel;
		struct daxfs_import imp;

		ASSERT_EQ(0, dxt_import(self->dev, self->buf.fd, 0, &imp));
		memset(&rel, 0, sizeof(rel));
		rel.r.argsz = sizeof(rel);
		rel.r.id = imp.id;
		rel.tail[3] = 9;
		EXPECT_ERRNO(E2BIG, dxt_ioctl(self->dev, DAXFS_IOC_RELEASE, &rel));
		rel.tail[3] = 0;
		EXPECT_EQ(0, dxt_ioctl(self->dev, DAXFS_IOC_RELEASE, &rel));
	}
}

TEST_F_TIMEOUT(bad, offsets, 120)
{
	uint64_t bs = self->buf.size;
	static const uint64_t bad[] = { 1, 512, 4095, 4097 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_ERRNO(EINVAL, dxt_import(self->dev, self->buf.fd, bad[i], NULL)) {
			TH_LOG("offset %llu", (unsigned long long)bad[i]);
		}
	}
	EXPECT_ERRNO(EINVAL, dxt_import(self->dev, self->buf.fd, bs, NULL));
	EXPECT_ERRNO(EINVAL, dxt_import(self->dev, self->buf.fd, bs + PAGE, NULL));
	EXPECT_ERRNO(EINVAL, dxt_import(self->dev, self->buf.fd, 1ull << 62, NULL));
	EXPECT_ERRNO(EINVAL, dxt_import(self->dev, self->buf.fd, ~0ull & ~(PAGE - 1), NULL));
	EXPECT_ERRNO(EINVAL, dxt_import(self->dev, self->buf.fd, ~0ull, NULL));
	/* in range and aligned, but no image there */
	EXPECT_ERRNO(EINVAL, dxt_import(self->dev, self->buf.fd, PAGE, NULL));
	/* the image at 8 KiB into a buffer */
	EXPECT_EQ(0, TRY(self->image, self->len, 0, 2 * PAGE, 2 * PAGE));
	EXPECT_ERRNO(EINVAL, TRY(self->image, self->len, 0, 2 * PAGE, 0));
	/* the image at the very end of a buffer: image_size == buffer - offset */
	EXPECT_EQ(0, TRY(self->image, self->len, 0, PAGE, PAGE));
}

TEST_F_TIMEOUT(bad, offset_mount_compare, 120)
{
	struct daxfs_import imp;
	struct daxfs_info info;
	char err[ERRLEN];
	struct dxt_buf b;

	ASSERT_EQ(0, dxt_buf_alloc(variant->kind, self->len + 4 * PAGE, &b, err, sizeof(err)));
	ASSERT_EQ(0, dxt_buf_write(&b, 3 * PAGE, self->image, self->len));
	ASSERT_EQ(0, dxt_import(self->dev, b.fd, 3 * PAGE, &imp));
	ASSERT_EQ(0, dxt_info(self->dev, imp.id, &info));
	EXPECT_EQ(3 * PAGE, info.offset);
	EXPECT_EQ(self->len, info.image_size);
	ASSERT_EQ(0, mount_id(imp.id, self->mnt, MS_RDONLY, NULL));
	EXPECT_EQ(0, compare_trees(self->src, self->mnt, err, sizeof(err), NULL)) {
		TH_LOG("%s", err);
	}
	EXPECT_EQ(0, umount_path(self->mnt, 0));
	/*
	 * offset= through fsconfig; with dmabuf:ID only the import's own
	 * (as /proc/mounts shows it), any other is refused
	 */
	{
		const char *opts[] = { "offset=12288", NULL };

		EXPECT_ERRNO(EINVAL, mount_id(imp.id, self->mnt, MS_RDONLY, "offset=8192"));
		EXPECT_ERRNO(EINVAL, mount_id(imp.id, self->mnt, MS_RDONLY, "offset=0"));
		EXPECT_EQ(0, mount_id(imp.id, self->mnt, MS_RDONLY, "offset=12288"));
		EXPECT_EQ(0, umount_path(self->mnt, 0));
		ASSERT_EQ(0, mount_fd(b.fd, self->mnt, opts));
		EXPECT_EQ(0, compare_trees(self->src, self->mnt, err, sizeof(err), NULL)) {
			TH_LOG("%s", err);
		}
		EXPECT_EQ(0, umount_path(self->mnt, 0));
	}
	EXPECT_EQ(0, dxt_release(self->dev, imp.id));
	dxt_buf_free(&b);
}

TEST_F_TIMEOUT(bad, buffer_smaller_than_image, 120)
{
	/* the buffer holds all but the last page of the image */
	EXPECT_ERRNO(EFBIG, TRY(self->image, self->len - PAGE, self->len - PAGE, 0, 0));
	/* or only the superblock */
	EXPECT_ERRNO(EFBIG, TRY(self->image, PAGE, PAGE, 0, 0));
	/* the image fits but starts too far in */
	EXPECT_ERRNO(EFBIG, TRY(self->image, self->len - PAGE, self->len, PAGE, PAGE));
	/* the fsconfig path */
	{
		struct dxt_buf b;
		char err[ERRLEN];

		ASSERT_EQ(0, dxt_buf_alloc(variant->kind, self->len - PAGE, &b, err, sizeof(err)));
		ASSERT_EQ(0, dxt_buf_write(&b, 0, self->image, self->len - PAGE));
		EXPECT_ERRNO(EFBIG, mount_fd(b.fd, self->mnt, NULL));
		dxt_buf_free(&b);
	}
}

TEST_F_TIMEOUT(bad, garbage, 120)
{
	uint8_t *g = malloc(self->len);
	unsigned int seed = 1;

	ASSERT_NE(NULL, g);
	for (size_t i = 0; i < self->len; i++) {
		seed = seed * 1103515245 + 12345;
		g[i] = seed >> 16;
	}
	EXPECT_ERRNO(EINVAL, TRY(g, self->len, 0, 0, 0));
	memset(g, 0, self->len);
	EXPECT_ERRNO(EINVAL, TRY(g, self->len, 0, 0, 0));
	memset(g, 0xff, self->len);
	EXPECT_ERRNO(EINVAL, TRY(g, self->len, 0, 0, 0));
	/* magic off by one bit */
	memcpy(g, self->image, self->len);
	SB(g)->magic ^= htole32(1u << 17);
	EXPECT_ERRNO(EINVAL, TRY(g, self->len, 0, 0, 0));
	free(g);
}

TEST_F_TIMEOUT(bad, truncated_image, 120)
{
	uint8_t *g = copy_image(self);
	uint64_t ioff = le64toh(SB(self->image)->inode_off);

	ASSERT_NE(NULL, g);
	/* only the superblock and part of the inode table made it */
	EXPECT_ERRNO(EUCLEAN, TRY(self->image, ioff + 100, self->len, 0, 0));
	/* the superblock alone, in a buffer of the right size */
	EXPECT_ERRNO(EUCLEAN, TRY(self->image, PAGE, self->len, 0, 0));
	/* image_size cut to one page (CRC fixed): the regions stick out */
	SB(g)->image_size = htole64(PAGE);
	ASSERT_EQ(0, image_fix_crc(g, self->len));
	EXPECT_ERRNO(EUCLEAN, TRY(g, self->len, 0, 0, 0));
	/* image_size not a multiple of 4096 */
	memcpy(g, self->image, self->len);
	SB(g)->image_size = htole64(self->len - 1);
	ASSERT_EQ(0, image_fix_crc(g, self->len));
	EXPECT_ERRNO(EUCLEAN, TRY(g, self->len, 0, 0, 0));
	free(g);
}

TEST_F_TIMEOUT(bad, bad_crc, 120)
{
	uint8_t *g = copy_image(self);
	struct daxfs_super *sb = SB(self->image);
	uint64_t ioff = le64toh(sb->inode_off), doff = le64toh(sb->dirent_off);
	uint64_t noff = le64toh(sb->names_off), data = le64toh(sb->data_off);

	ASSERT_NE(NULL, g);
	SB(g)->crc32c ^= htole32(0x100);
	EXPECT_ERRNO(EUCLEAN, TRY(g, self->len, 0, 0, 0));
	memcpy(g, self->image, self->len);
	g[ioff + 8] ^= 1;	/* an inode's uid */
	EXPECT_ERRNO(EUCLEAN, TRY(g, self->len, 0, 0, 0));
	memcpy(g, self->image, self->len);
	g[doff + 1] ^= 0x80;	/* a dirent */
	EXPECT_ERRNO(EUCLEAN, TRY(g, self->len, 0, 0, 0));
	memcpy(g, self->image, self->len);
	g[noff] ^= 0x20;	/* a name */
	EXPECT_ERRNO(EUCLEAN, TRY(g, self->len, 0, 0, 0));
	memcpy(g, self->image, self->len);
	SB(g)->label[0] ^= 0x41;
	EXPECT_ERRNO(EUCLEAN, TRY(g, self->len, 0, 0, 0));
	memcpy(g, self->image, self->len);
	SB(g)->uuid[5] ^= 0x41;
	EXPECT_ERRNO(EUCLEAN, TRY(g, self->len, 0, 0, 0));
	/* file data is not covered (FORMAT.md): a flipped data byte is accepted */
	memcpy(g, self->image, self->len);
	g[data] ^= 0xff;
	EXPECT_EQ(0, TRY(g, self->len, 0, 0, 0));
	free(g);
}

TEST_F_TIMEOUT(bad, unsupported_features, 120)
{
	uint8_t *g = copy_image(self);
	static const uint32_t bits[] = { 1, 2, 1u << 16, 1u << 31 };

	ASSERT_NE(NULL, g);
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		memcpy(g, self->image, self->len);
		SB(g)->incompat = htole32(bits[i]);
		ASSERT_EQ(0, image_fix_crc(g, self->len));
		EXPECT_ERRNO(EOPNOTSUPP, TRY(g, self->len, 0, 0, 0)) {
			TH_LOG("incompat 0x%x", bits[i]);
		}
		/* unknown compat features are ignored */
		memcpy(g, self->image, self->len);
		SB(g)->compat = htole32(bits[i]);
		ASSERT_EQ(0, image_fix_crc(g, self->len));
		EXPECT_EQ(0, TRY(g, self->len, 0, 0, 0)) {
			TH_LOG("compat 0x%x", bits[i]);
		}
	}
	for (uint32_t v = 0; v < 4; v += (v == 0 ? 2 : 1)) {	/* 0, 2, 3 */
		memcpy(g, self->image, self->len);
		SB(g)->version = htole32(v);
		ASSERT_EQ(0, image_fix_crc(g, self->len));
		EXPECT_ERRNO(EOPNOTSUPP, TRY(g, self->len, 0, 0, 0)) {
			TH_LOG("version %u", v);
		}
	}
	free(g);
}

TEST_F_TIMEOUT(bad, structural_errors, 120)
{
	uint8_t *g = copy_image(self);
	uint64_t ioff = le64toh(SB(self->image)->inode_off);
	struct daxfs_inode *root;

	ASSERT_NE(NULL, g);
	/* root_ino != 1 */
	SB(g)->root_ino = htole32(2);
	ASSERT_EQ(0, image_fix_crc(g, self->len));
	EXPECT_ERRNO(EUCLEAN, TRY(g, self->len, 0, 0, 0));
	/* the root's nlink off by one */
	memcpy(g, self->image, self->len);
	root = (struct daxfs_inode *)(g + ioff);
	root->nlink = htole32(le32toh(root->nlink) + 1);
	ASSERT_EQ(0, image_fix_crc(g, self->len));
	EXPECT_ERRNO(EUCLEAN, TRY(g, self->len, 0, 0, 0));
	/* the root not a directory */
	memcpy(g, self->image, self->len);
	root = (struct daxfs_inode *)(g + ioff);
	root->mode = htole16(DAXFS_S_IFREG | 0644);
	ASSERT_EQ(0, image_fix_crc(g, self->len));
	EXPECT_ERRNO(EUCLEAN, TRY(g, self->len, 0, 0, 0));
	/* inode_count past the image */
	memcpy(g, self->image, self->len);
	SB(g)->inode_count = htole32(0x7fffffff);
	ASSERT_EQ(0, image_fix_crc(g, self->len));
	EXPECT_ERRNO(EUCLEAN, TRY(g, self->len, 0, 0, 0));
	free(g);
}

TEST_F_TIMEOUT(bad, dmesg_names_the_reason, 120)
{
	uint8_t *g = copy_image(self);
	char line[1024];
	int k = kmsg_open();

	ASSERT_NE(NULL, g);
	ASSERT_LE(0, k);
	SB(g)->crc32c ^= htole32(1);
	EXPECT_ERRNO(EUCLEAN, TRY(g, self->len, 0, 0, 0));
	{
		const char *n[] = { "daxfs", "crc", NULL };

		EXPECT_TRUE(kmsg_find(k, n, line, sizeof(line))) {
			TH_LOG("no kernel log line with \"daxfs\" and \"crc\" after a bad-CRC import");
		}
		TH_LOG("bad CRC: %s", line);
	}
	memcpy(g, self->image, self->len);
	SB(g)->incompat = htole32(4);
	ASSERT_EQ(0, image_fix_crc(g, self->len));
	EXPECT_ERRNO(EOPNOTSUPP, TRY(g, self->len, 0, 0, 0));
	{
		const char *n[] = { "daxfs", "incompat", NULL };

		line[0] = 0;
		EXPECT_TRUE(kmsg_find(k, n, line, sizeof(line))) {
			TH_LOG("no kernel log line with \"daxfs\" and \"incompat\"");
		}
		TH_LOG("incompat: %s", line);
	}
	EXPECT_ERRNO(EFBIG, TRY(self->image, PAGE, PAGE, 0, 0));
	{
		const char *n[] = { "daxfs", "size", NULL };

		line[0] = 0;
		EXPECT_TRUE(kmsg_find(k, n, line, sizeof(line))) {
			TH_LOG("no kernel log line with \"daxfs\" and \"size\" for EFBIG");
		}
		TH_LOG("too big: %s", line);
	}
	close(k);
	free(g);
}

TEST_F_TIMEOUT(bad, imports_belong_to_the_file, 120)
{
	struct daxfs_import imp;
	struct daxfs_info info;
	int dev2 = dev_or_fail(_metadata);

	ASSERT_EQ(0, dxt_import(dev2, self->buf.fd, 0, &imp));
	/* another open file does not see it */
	EXPECT_ERRNO(ENOENT, dxt_info(self->dev, imp.id, &info));
	EXPECT_ERRNO(ENOENT, dxt_release(self->dev, imp.id));
	EXPECT_EQ(0, dxt_info(dev2, imp.id, &info));
	/* closing the file drops the unmounted import */
	close(dev2);
	EXPECT_ERRNO(MOUNT_UNKNOWN_ID_ERRNO, mount_id(imp.id, self->mnt, MS_RDONLY, NULL));
}

/*
 * Imports are bounded per open file (EMFILE) and in total (ENOSPC), and
 * closing the files gives everything back.
 */
TEST_F_TIMEOUT(bad, import_limits, 200)
{
	int devs[64], ndev = 0, per_file = 0, total = 0, r = 0;
	struct daxfs_import imp;

	while (!(r = dxt_import(self->dev, self->buf.fd, 0, &imp)) && per_file < 100000)
		per_file++;
	TH_LOG("imports on one open file: %d, then %s", per_file,
	       r ? strerrorname_np(-r) : "no limit");
	EXPECT_ERRNO(EMFILE, r);
	EXPECT_LT(0, per_file);
	total = per_file;
	/* more files until the global limit */
	for (r = 0; !r && ndev < 64; ndev++) {
		int n = 0;

		devs[ndev] = dev_or_fail(_metadata);
		while (!(r = dxt_import(devs[ndev], self->buf.fd, 0, &imp)))
			n++;
		total += n;
		if (r == -EMFILE)
			r = 0;
	}
	TH_LOG("imports in total over %d files: %d, then %s", ndev + 1, total,
	       r ? strerrorname_np(-r) : "no limit");
	EXPECT_ERRNO(ENOSPC, r);
	for (int i = 0; i < ndev; i++)
		close(devs[i]);
	/* the first file's imports are still there, the others went with their files */
	EXPECT_ERRNO(EMFILE, dxt_import(self->dev, self->buf.fd, 0, &imp));
	close(self->dev);
	self->dev = dev_or_fail(_metadata);
	ASSERT_EQ(0, dxt_import(self->dev, self->buf.fd, 0, &imp));
	EXPECT_EQ(0, dxt_release(self->dev, imp.id));
}

TEST_HARNESS_MAIN
