// SPDX-License-Identifier: GPL-2.0
/*
 * library-mount: the library against the real module, for each exporter the
 * kernel has: allocate, fill from an mkdaxfs image, daxfs_mount_dmabuf,
 * read, daxfs_umount; through each mount path (fsconfig fd, import + fs
 * context, import + mount(2)); and the kernel's reason on refusal.
 * Then daxfs_mount_image() / daxfs_load_image() per exporter: a good image,
 * at an offset, from a pipe, from a block device (loop); refused: a truncated
 * file or block device, image_size past the
 * file, a 1 TiB claim, a 1 TiB image (memory), a pipe that ends early, a
 * file that shrinks during the copy (a second process truncates it).
 * Files back out as dma-bufs, per exporter: daxfs_export_dmabuf() of a
 * whole file and of ranges, the bytes through the new buffer's mmap those
 * of read(), read-only, outliving the mount; every refusal with its errno
 * (the kernel's own, where the library checks first) and its message; a
 * mount of reserved RAM (phys=) and one of I/O memory cannot export.
 */
#include "vmtest.h"
#include <linux/dma-buf.h>
#include <linux/loop.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include "../exporter/daxfs_gpuexp.h"

FIXTURE(lib) {
	char dir[64];
	char img[PATH_MAX];
	char mnt[PATH_MAX];
	char dev[64];
	int buf;
	off_t imgsize;
};

FIXTURE_VARIANT(lib) {
	const char *kind;
	const char *path;	/* NULL: fsconfig fd; "import"; "legacy" */
};

FIXTURE_VARIANT_ADD(lib, heap) { .kind = "heap" };
FIXTURE_VARIANT_ADD(lib, udmabuf) { .kind = "udmabuf" };
FIXTURE_VARIANT_ADD(lib, vgem) { .kind = "vgem" };
FIXTURE_VARIANT_ADD(lib, udmabuf_import) { .kind = "udmabuf", .path = "import" };
FIXTURE_VARIANT_ADD(lib, vgem_legacy) { .kind = "vgem", .path = "legacy" };
FIXTURE_VARIANT_ADD(lib, heap_legacy) { .kind = "heap", .path = "legacy" };

FIXTURE_SETUP(lib)
{
	self->buf = -1;
	REQUIRE_KIND(variant->kind, self->dev);
	unsetenv("DAXFS_FORCE_IMPORT_MOUNT");
	unsetenv("DAXFS_FORCE_LEGACY_MOUNT");
	if (variant->path && !strcmp(variant->path, "import"))
		setenv("DAXFS_FORCE_IMPORT_MOUNT", "1", 1);
	if (variant->path && !strcmp(variant->path, "legacy"))
		setenv("DAXFS_FORCE_LEGACY_MOUNT", "1", 1);
	IMAGE_WORKDIR("lib-mount");
	self->imgsize = dxt_file_size(self->img);
	self->buf = alloc_kind(variant->kind, self->dev, (size_t)self->imgsize + (64 << 10));
	if (self->buf < 0)
		TH_LOG("allocate from %s: %s", variant->kind, daxfs_last_error());
	ASSERT_LE(0, self->buf);
}

FIXTURE_TEARDOWN(lib)
{
	if (self->buf >= 0)
		close(self->buf);
	WORKDIR_TEARDOWN();
}

TEST_F(lib, mount_read_umount)
{
	struct daxfs_image_desc d;
	struct statfs sf;
	char p[PATH_MAX], buf[256];
	int fd = open(self->img, O_RDONLY);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, daxfs_dmabuf_fill(self->buf, fd, 0, NULL, NULL)) TH_LOG("%s", daxfs_last_error());
	close(fd);
	ASSERT_EQ(0, daxfs_image_probe(self->buf, 0, &d)) TH_LOG("%s", daxfs_last_error());
	EXPECT_STREQ("libtest", d.label);
	EXPECT_EQ((uint64_t)self->imgsize, d.image_size);

	ASSERT_EQ(0, daxfs_mount_dmabuf(self->buf, self->mnt)) TH_LOG("%s", daxfs_last_error());
	/* The mount holds the buffer: drop ours before reading. */
	close(self->buf);
	self->buf = -1;
	snprintf(p, sizeof(p), "%s/hello.txt", self->mnt);
	ASSERT_EQ((int)strlen(HELLO), dxt_read_file(p, buf, sizeof(buf)));
	EXPECT_STREQ(HELLO, buf);
	snprintf(p, sizeof(p), "%s/sub/big.bin", self->mnt);
	EXPECT_EQ(0, check_big(p));
	ASSERT_EQ(0, statfs(self->mnt, &sf));
	EXPECT_EQ(DAXFS_FS_MAGIC, (uint32_t)sf.f_type);
	EXPECT_TRUE(mountinfo_has(self->mnt, " ro"));
	ASSERT_EQ(0, daxfs_umount(self->mnt)) TH_LOG("%s", daxfs_last_error());
	EXPECT_FALSE(mountinfo_has(self->mnt, NULL));
	EXPECT_EQ(-EINVAL, daxfs_umount(self->mnt));
}

TEST_F(lib, offset_and_flags)
{
	struct daxfs_mount_opts o = { .size = sizeof(o), .offset = 64 << 10,
				      .flags = MS_NOSUID | MS_NODEV | MS_NOEXEC };
	int fd = open(self->img, O_RDONLY);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, daxfs_dmabuf_fill(self->buf, fd, 64 << 10, NULL, NULL)) TH_LOG("%s", daxfs_last_error());
	close(fd);
	ASSERT_EQ(0, daxfs_mount_dmabuf_opts(self->buf, self->mnt, &o)) TH_LOG("%s", daxfs_last_error());
	EXPECT_TRUE(mountinfo_has(self->mnt, "nosuid,nodev,noexec"));
	EXPECT_EQ(0, daxfs_umount(self->mnt)) TH_LOG("%s", daxfs_last_error());
}

TEST_F(lib, kernel_reason)
{
	int fd = open(self->img, O_RDONLY);
	unsigned char junk[64];

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, daxfs_dmabuf_fill(self->buf, fd, 0, NULL, NULL));
	close(fd);
	/* Not a daxfs image at offset 64K (zeroes) */
	{
		struct daxfs_mount_opts o = { .size = sizeof(o), .offset = 64 << 10 };
		int r = daxfs_mount_dmabuf_opts(self->buf, self->mnt, &o);

		EXPECT_NE(0, r);
		TH_LOG("offset 64K: %s: %s", strerror(-r), daxfs_last_error());
		EXPECT_NE(0, strlen(daxfs_last_error()));
	}
	/* Corrupt the metadata (CRC mismatch). */
	{
		void *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, self->buf, 0);
		int r;

		ASSERT_NE(MAP_FAILED, m);
		memset(junk, 0x5a, sizeof(junk));
		memcpy((char *)m + 4096 + 8, junk, 8);
		munmap(m, 8192);
		r = daxfs_mount_dmabuf(self->buf, self->mnt);
		EXPECT_EQ(-EUCLEAN, r);
		TH_LOG("corrupt: %s: %s", strerror(-r), daxfs_last_error());
		EXPECT_NE(0, strlen(daxfs_last_error()));
	}
	EXPECT_FALSE(mountinfo_has(self->mnt, NULL));
}

/* ------------------------------------------------------------------------
 * daxfs_mount_image() and daxfs_load_image() per exporter: a good image,
 * and what they must refuse, each leaving no mount and no dma-buf.
 */
FIXTURE(image) {
	char dir[64];
	char img[PATH_MAX];
	char mnt[PATH_MAX];
	char dev[64];
	long long isz;
	long bufs0;
	struct daxfs_load_info info;
	struct daxfs_load_opts o;
};

FIXTURE_VARIANT(image) {
	const char *kind;	/* NULL: DAXFS_EXPORTER_AUTO */
};

FIXTURE_VARIANT_ADD(image, auto) { .kind = NULL };
FIXTURE_VARIANT_ADD(image, heap) { .kind = "heap" };
FIXTURE_VARIANT_ADD(image, udmabuf) { .kind = "udmabuf" };
FIXTURE_VARIANT_ADD(image, vgem) { .kind = "vgem" };

FIXTURE_SETUP(image)
{
	if (variant->kind)
		REQUIRE_KIND(variant->kind, self->dev);
	IMAGE_WORKDIR("lib-image");
	self->isz = dxt_file_size(self->img);
	self->bufs0 = dxt_dmabuf_count();
	ASSERT_LE(0, self->bufs0) TH_LOG("no /sys/kernel/debug/dma_buf/bufinfo");
	memset(&self->o, 0, sizeof(self->o));
	self->o.size = sizeof(self->o);
	self->o.info = &self->info;
	if (!variant->kind) {
		self->o.exporter = DAXFS_EXPORTER_AUTO;
	} else if (!strcmp(variant->kind, "heap")) {
		self->o.exporter = DAXFS_EXPORTER_HEAP;
	} else if (!strcmp(variant->kind, "udmabuf")) {
		self->o.exporter = DAXFS_EXPORTER_UDMABUF;
	} else {
		self->o.exporter = DAXFS_EXPORTER_DRM;
		self->o.exporter_arg = self->dev;
	}
}

FIXTURE_TEARDOWN(image)
{
	WORKDIR_TEARDOWN();
}

static void reset_info(struct daxfs_load_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
}

/* Mounted, the content right, unmounted, no dma-buf left. */
static void check_mounted(struct __test_metadata *_metadata, const char *mnt, long bufs0)
{
	char p[PATH_MAX], buf[256];

	snprintf(p, sizeof(p), "%s/hello.txt", mnt);
	EXPECT_EQ((int)strlen(HELLO), dxt_read_file(p, buf, sizeof(buf)));
	EXPECT_STREQ(HELLO, buf);
	snprintf(p, sizeof(p), "%s/sub/big.bin", mnt);
	EXPECT_EQ(0, check_big(p));
	EXPECT_TRUE(mountinfo_has(mnt, " ro"));
	EXPECT_EQ(0, daxfs_umount(mnt)) TH_LOG("%s", daxfs_last_error());
	EXPECT_EQ(bufs0, dxt_dmabuf_count());
}

/* Refused with errno @err, message @want, stage @stage: nothing mounted or left. */
#define EXPECT_REFUSED(r, err, want, at) do {					\
		EXPECT_EQ(-(err), (r));							\
		EXPECT_STREQ((want), daxfs_last_error());				\
		EXPECT_EQ((unsigned int)(at), self->info.stage);			\
		EXPECT_FALSE(mountinfo_has(self->mnt, NULL));				\
		EXPECT_EQ(self->bufs0, dxt_dmabuf_count());					\
	} while (0)

TEST_F(image, mount_image)
{
	self->o.mount_flags = MS_NODEV;
	reset_info(&self->info);
	ASSERT_EQ(0, daxfs_mount_image(self->img, self->mnt, &self->o)) TH_LOG("%s", daxfs_last_error());
	EXPECT_EQ(DAXFS_STAGE_DONE, self->info.stage);
	EXPECT_EQ((uint64_t)self->isz, self->info.desc.image_size);
	EXPECT_EQ((uint64_t)self->isz, self->info.buffer_size);
	EXPECT_STREQ("libtest", self->info.desc.label);
	TH_LOG("exporter: %s", self->info.exporter);
	if (variant->kind)
		EXPECT_EQ(0, strncmp(self->info.exporter, variant->kind[0] == 'v' ? "drm:" : variant->kind,
				     variant->kind[0] == 'v' ? 4 : strlen(variant->kind)));
	EXPECT_TRUE(mountinfo_has(self->mnt, "nodev"));
	check_mounted(_metadata, self->mnt, self->bufs0);

	/* At an offset: the buffer is offset + image_size. */
	self->o.offset = 64 << 10;
	reset_info(&self->info);
	ASSERT_EQ(0, daxfs_mount_image(self->img, self->mnt, &self->o)) TH_LOG("%s", daxfs_last_error());
	EXPECT_EQ((uint64_t)self->isz + (64 << 10), self->info.buffer_size);
	check_mounted(_metadata, self->mnt, self->bufs0);
}

TEST_F(image, load_image)
{
	int fd;

	reset_info(&self->info);
	fd = daxfs_load_image(self->img, &self->o);
	ASSERT_LE(0, fd) TH_LOG("%s", daxfs_last_error());
	EXPECT_EQ(self->bufs0 + 1, dxt_dmabuf_count());
	EXPECT_EQ(self->isz, daxfs_dmabuf_size(fd));
	ASSERT_EQ(0, daxfs_mount_dmabuf(fd, self->mnt)) TH_LOG("%s", daxfs_last_error());
	close(fd);
	check_mounted(_metadata, self->mnt, self->bufs0);
}

TEST_F(image, refusals)
{
	char bad[PATH_MAX], want[256], pp[64];
	pid_t feeder;
	int in, r;

	/* Truncated file. */
	snprintf(bad, sizeof(bad), "%s/half.img", self->dir);
	ASSERT_EQ(0, dxt_copy_file(self->img, bad, self->isz / 2, 0644));
	reset_info(&self->info);
	r = daxfs_mount_image(bad, self->mnt, &self->o);
	snprintf(want, sizeof(want), "truncated: image_size %lld, file has %lld bytes", self->isz, self->isz / 2);
	EXPECT_REFUSED(r, ENODATA, want, DAXFS_STAGE_IMAGE);

	/* image_size past the file, then a 1 TiB claim. */
	ASSERT_EQ(0, dxt_copy_file(self->img, bad, -1, 0644));
	ASSERT_EQ(0, set_image_size(bad, (uint64_t)self->isz + 4096));
	reset_info(&self->info);
	r = daxfs_mount_image(bad, self->mnt, &self->o);
	snprintf(want, sizeof(want), "truncated: image_size %lld, file has %lld bytes", self->isz + 4096, self->isz);
	EXPECT_REFUSED(r, ENODATA, want, DAXFS_STAGE_IMAGE);
	ASSERT_EQ(0, set_image_size(bad, 1ull << 40));
	reset_info(&self->info);
	r = daxfs_load_image(bad, &self->o);
	snprintf(want, sizeof(want), "truncated: image_size %llu, file has %lld bytes", 1ull << 40, self->isz);
	EXPECT_REFUSED(r, ENODATA, want, DAXFS_STAGE_IMAGE);

	/* A 1 TiB image (sparse): more than the memory, refused before the exporter. */
	{
		char src[PATH_MAX], out[4096];

		snprintf(src, sizeof(src), "%s/src", self->dir);
		ASSERT_EQ(0, make_sized_image(src, bad, "1T", out, sizeof(out))) TH_LOG("%s", out);
		reset_info(&self->info);
		r = daxfs_mount_image(bad, self->mnt, &self->o);
		EXPECT_EQ(-ENOMEM, r);
		EXPECT_EQ(0, strncmp(daxfs_last_error(), "not enough memory: the buffer needs 1099511627776 bytes, ", 57))
			TH_LOG("%s", daxfs_last_error());
		EXPECT_EQ(DAXFS_STAGE_MEMORY, self->info.stage);
		EXPECT_EQ(self->bufs0, dxt_dmabuf_count());
	}

	/* A pipe: fine, then one that ends early. */
	in = pipe_from_file(self->img, -1, &feeder);
	ASSERT_LE(0, in);
	snprintf(pp, sizeof(pp), "/proc/self/fd/%d", in);
	reset_info(&self->info);
	r = daxfs_mount_image(pp, self->mnt, &self->o);
	close(in);
	waitpid(feeder, NULL, 0);
	ASSERT_EQ(0, r) TH_LOG("%s", daxfs_last_error());
	check_mounted(_metadata, self->mnt, self->bufs0);
	in = pipe_from_file(self->img, self->isz - 8192, &feeder);
	snprintf(pp, sizeof(pp), "/proc/self/fd/%d", in);
	reset_info(&self->info);
	r = daxfs_mount_image(pp, self->mnt, &self->o);
	close(in);
	waitpid(feeder, NULL, 0);
	snprintf(want, sizeof(want), "truncated: image_size %lld, stream ended after %lld bytes",
		 self->isz, self->isz - 8192);
	EXPECT_REFUSED(r, ENODATA, want, DAXFS_STAGE_IMAGE);
}

/*
 * A second process truncates the file when the copy starts; the progress
 * callback tells it to and waits for its answer (pipes, no sleeping).
 */
TEST_F(image, file_shrinks_during_load)
{
	struct dxt_shrinker s;
	char shrink[PATH_MAX], want[256];
	int r;

	snprintf(shrink, sizeof(shrink), "%s/shrink.img", self->dir);
	ASSERT_EQ(0, dxt_copy_file(self->img, shrink, -1, 0644));
	ASSERT_EQ(0, dxt_shrinker_start(&s, shrink, 1 << 20));
	self->o.progress = dxt_shrinker_progress;
	self->o.progress_arg = &s;
	reset_info(&self->info);
	r = daxfs_mount_image(shrink, self->mnt, &self->o);
	snprintf(want, sizeof(want), "image shrank while loading: image_size %lld, only %d bytes could be read",
		 self->isz, 1 << 20);
	EXPECT_REFUSED(r, ENODATA, want, DAXFS_STAGE_IMAGE);
	EXPECT_EQ(0, dxt_shrinker_end(&s)) TH_LOG("the truncating process failed");
	EXPECT_LE(1, s.calls);
}

/* A read-only, auto-clearing loop device over @file; its fd (keep it open) or -1. */
static int loop_over(const char *file, char *dev, size_t devlen)
{
	int img DXT_AUTOCLOSE = open(file, O_RDONLY | O_CLOEXEC);
	int ctl DXT_AUTOCLOSE = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	struct loop_config lc;
	int n, lfd;

	if (img < 0 || ctl < 0)
		return -1;
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	if (n < 0)
		return -1;
	snprintf(dev, devlen, "/dev/loop%d", n);
	lfd = open(dev, O_RDONLY | O_CLOEXEC);
	if (lfd < 0)
		return -1;
	memset(&lc, 0, sizeof(lc));
	lc.fd = (__u32)img;
	lc.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
	if (ioctl(lfd, LOOP_CONFIGURE, &lc)) {
		close(lfd);
		return -1;
	}
	return lfd;
}

TEST_F(image, block_device)
{
	char dev[64], half[PATH_MAX], want[256];
	int lfd, r;

	if (access("/dev/loop-control", F_OK)) {
		char out[1024];
		const char *argv[] = { "/sbin/modprobe", "loop", NULL };

		EXPECT_EQ(0, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("modprobe loop: %s", out);
	}
	lfd = loop_over(self->img, dev, sizeof(dev));
	ASSERT_LE(0, lfd) TH_LOG("loop device: %s", strerror(errno));
	reset_info(&self->info);
	r = daxfs_mount_image(dev, self->mnt, &self->o);
	EXPECT_EQ(0, r) TH_LOG("%s: %s", dev, daxfs_last_error());
	if (!r) {
		EXPECT_EQ((uint64_t)self->isz, self->info.buffer_size);
		check_mounted(_metadata, self->mnt, self->bufs0);
	}
	close(lfd);

	/* A device smaller than its image says. */
	snprintf(half, sizeof(half), "%s/half.img", self->dir);
	ASSERT_EQ(0, dxt_copy_file(self->img, half, self->isz / 2, 0644));
	lfd = loop_over(half, dev, sizeof(dev));
	ASSERT_LE(0, lfd) TH_LOG("loop device: %s", strerror(errno));
	reset_info(&self->info);
	r = daxfs_mount_image(dev, self->mnt, &self->o);
	snprintf(want, sizeof(want), "truncated: image_size %lld, device has %lld bytes", self->isz, self->isz / 2);
	EXPECT_REFUSED(r, ENODATA, want, DAXFS_STAGE_IMAGE);
	close(lfd);
}

/* ------------------------------------------------------------------------
 * Files back out as dma-bufs: daxfs_export_dmabuf() on a mount of each
 * exporter's buffer.
 */

static long long meta_bytes(void)
{
	char b[32];

	return dxt_read_sysfs("/sys/module/daxfs/parameters/meta_bytes", b, sizeof(b)) ?
		-1 : atoll(b);
}

/* @n bytes of @path from @off as pread() gives them, zeros past its end; malloc'd. */
static unsigned char *file_bytes(const char *path, uint64_t off, size_t n)
{
	unsigned char *b = calloc(1, n);
	int fd DXT_AUTOCLOSE = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	while (b && fd >= 0 && got < n) {
		ssize_t r = pread(fd, b + got, n - got, (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (fd < 0) {
		free(b);
		return NULL;
	}
	return b;
}

/* The first @n bytes of dma-buf @buf through its own shared mapping are @want's. */
static bool dmabuf_holds(int buf, size_t n, const unsigned char *want)
{
	void *m = mmap(NULL, n, PROT_READ, MAP_SHARED, buf, 0);
	bool same;

	if (m == MAP_FAILED)
		return false;
	same = !memcmp(m, want, n);
	munmap(m, n);
	return same;
}

/* /proc/self/fdinfo of dma-buf @fd names exporter @name. */
static bool exp_name_is(int fd, const char *name)
{
	char p[64], info[4096], want[64];

	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	snprintf(want, sizeof(want), "exp_name:\t%s\n", name);
	return dxt_read_file(p, info, sizeof(info)) > 0 && strstr(info, want);
}

/* A range of @path exported: @size bytes, holding the file's from @off. */
#define EXPECT_WINDOW(w, path, off, want_size) do {				\
	unsigned char *_b = file_bytes((path), (off), (want_size));		\
										\
	ASSERT_NE(NULL, _b);							\
	EXPECT_EQ((int64_t)(want_size), daxfs_dmabuf_size(w));			\
	EXPECT_TRUE(dmabuf_holds((w), (want_size), _b))				\
		TH_LOG("%s at %llu: the buffer's bytes are not the file's", (path), \
		       (unsigned long long)(off));				\
	free(_b);								\
} while (0)

TEST_F(image, export)
{
	char big[PATH_MAX], hello[PATH_MAX];
	unsigned char *bigwant;
	long long meta0 = meta_bytes(), meta1;
	uint64_t size = 0;
	int f, w, w2;

	reset_info(&self->info);
	ASSERT_EQ(0, daxfs_mount_image(self->img, self->mnt, &self->o)) TH_LOG("%s", daxfs_last_error());
	meta1 = meta_bytes();
	EXPECT_LT(meta0, meta1);
	snprintf(big, sizeof(big), "%s/sub/big.bin", self->mnt);
	snprintf(hello, sizeof(hello), "%s/hello.txt", self->mnt);
	f = open(big, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, f);

	/* The whole file (page-sized: no rounding). */
	w = daxfs_export_dmabuf(f, 0, 0, &size);
	ASSERT_LE(0, w) TH_LOG("%s", daxfs_last_error());
	EXPECT_EQ(BIG_SIZE, size);
	EXPECT_WINDOW(w, big, 0, BIG_SIZE);
	EXPECT_EQ(FD_CLOEXEC, fcntl(w, F_GETFD) & FD_CLOEXEC);
	EXPECT_TRUE(exp_name_is(w, "daxfs"));
	EXPECT_EQ(self->bufs0 + 2, dxt_dmabuf_count());
	bigwant = file_bytes(big, 0, BIG_SIZE);
	ASSERT_NE(NULL, bigwant);
	/* Read-only: CPU reads are bracketed, writes are not, a shared writable map is refused. */
	EXPECT_EQ(0, dxt_buf_sync(w, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	EXPECT_EQ(0, dxt_buf_sync(w, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	EXPECT_EQ(-EPERM, dxt_buf_sync(w, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, w, 0));
	EXPECT_EQ(EACCES, errno);

	/* A range: pages 5 to 8, the length rounded up to whole pages. */
	w2 = daxfs_export_dmabuf(f, 5 * 4096, 3 * 4096 + 1, &size);
	ASSERT_LE(0, w2) TH_LOG("%s", daxfs_last_error());
	EXPECT_EQ(4 * 4096, size);
	EXPECT_WINDOW(w2, big, 5 * 4096, 4 * 4096);
	close(w2);
	/* The last page, to the end of the file. */
	w2 = daxfs_export_dmabuf(f, BIG_SIZE - 4096, 0, &size);
	ASSERT_LE(0, w2) TH_LOG("%s", daxfs_last_error());
	EXPECT_EQ(4096, size);
	EXPECT_WINDOW(w2, big, BIG_SIZE - 4096, 4096);
	close(w2);
	close(f);

	/* A short file by path: its page, zeros past its end; up to the page's end is fine. */
	w2 = daxfs_export_dmabuf_path(hello, 0, 0, &size);
	ASSERT_LE(0, w2) TH_LOG("%s", daxfs_last_error());
	EXPECT_EQ(4096, size);
	EXPECT_WINDOW(w2, hello, 0, 4096);
	close(w2);
	w2 = daxfs_export_dmabuf_path(hello, 0, 4096, NULL);
	EXPECT_LE(0, w2) TH_LOG("%s", daxfs_last_error());
	if (w2 >= 0)
		close(w2);

	/* The buffer outlives the mount, holding what it held; its close frees everything. */
	ASSERT_EQ(0, daxfs_umount(self->mnt)) TH_LOG("%s", daxfs_last_error());
	EXPECT_FALSE(mountinfo_has(self->mnt, NULL));
	EXPECT_EQ(self->bufs0 + 2, dxt_dmabuf_count());
	EXPECT_EQ(meta1, meta_bytes());
	EXPECT_TRUE(dmabuf_holds(w, BIG_SIZE, bigwant));
	free(bigwant);
	close(w);
	EXPECT_EQ(self->bufs0, dxt_dmabuf_count());
	EXPECT_EQ(meta0, meta_bytes());
}

/* The library's errno @err, message @msg, and the kernel's errno for the same ioctl. */
#define EXPECT_EXPORT_REFUSED(r, err, msg) do {					\
	EXPECT_EQ(-(err), (r));							\
	EXPECT_STREQ((msg), daxfs_last_error());				\
} while (0)

/* DAXFS_IOC_EXPORT_DMABUF itself on @fd: the errno, 0 if it made a buffer. */
static int raw_export(int fd, uint64_t offset, uint64_t length)
{
	struct daxfs_export ex = { .argsz = sizeof(ex), .offset = offset, .length = length };

	if (ioctl(fd, DAXFS_IOC_EXPORT_DMABUF, &ex) == 0) {
		close(ex.fd);
		return 0;
	}
	return errno;
}

TEST_F(image, export_refusals)
{
	char big[PATH_MAX], hello[PATH_MAX], empty[PATH_MAX], sub[PATH_MAX], want[PATH_MAX + 256];
	struct rlimit rl0, rl;
	int f, d, o, fds[64], nfds = 0, r;

	reset_info(&self->info);
	ASSERT_EQ(0, daxfs_mount_image(self->img, self->mnt, &self->o)) TH_LOG("%s", daxfs_last_error());
	snprintf(big, sizeof(big), "%s/sub/big.bin", self->mnt);
	snprintf(hello, sizeof(hello), "%s/hello.txt", self->mnt);
	snprintf(empty, sizeof(empty), "%s/empty", self->mnt);
	snprintf(sub, sizeof(sub), "%s/sub", self->mnt);
	f = open(big, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, f);

	/* EINVAL: the offset not page-aligned (checked by the library first), ... */
	snprintf(want, sizeof(want), "%s: offset 4097 is not a multiple of the page size 4096", big);
	EXPECT_EXPORT_REFUSED(daxfs_export_dmabuf(f, 4097, 0, NULL), EINVAL, want);
	EXPECT_EQ(EINVAL, raw_export(f, 4097, 0));
	/* ... at or past the end of the file, ... */
	snprintf(want, sizeof(want), "%s: offset %u is at or past the end of the file (%u bytes)",
		 big, BIG_SIZE, BIG_SIZE);
	EXPECT_EXPORT_REFUSED(daxfs_export_dmabuf(f, BIG_SIZE, 0, NULL), EINVAL, want);
	EXPECT_EQ(EINVAL, raw_export(f, BIG_SIZE, 0));
	snprintf(want, sizeof(want), "%s: offset %u is at or past the end of the file (%u bytes)",
		 big, BIG_SIZE + 4096, BIG_SIZE);
	EXPECT_EXPORT_REFUSED(daxfs_export_dmabuf(f, BIG_SIZE + 4096, 0, NULL), EINVAL, want);
	/* ... the range past the file's last page, ... */
	snprintf(want, sizeof(want), "%s: the range [4096, %u) ends past the file's last page "
		 "(%u bytes, pages up to %u)", big, BIG_SIZE + 1, BIG_SIZE, BIG_SIZE);
	EXPECT_EXPORT_REFUSED(daxfs_export_dmabuf(f, 4096, BIG_SIZE - 4096 + 1, NULL), EINVAL, want);
	EXPECT_EQ(EINVAL, raw_export(f, 4096, BIG_SIZE - 4096 + 1));
	snprintf(want, sizeof(want), "%s: the range [0, 4097) ends past the file's last page "
		 "(%zu bytes, pages up to 4096)", hello, strlen(HELLO));
	EXPECT_EXPORT_REFUSED(daxfs_export_dmabuf_path(hello, 0, 4097, NULL), EINVAL, want);
	/* ... an offset + length that wraps around, ... */
	snprintf(want, sizeof(want), "%s: offset 4096 + length %llu is past 2^64", big,
		 (unsigned long long)UINT64_MAX);
	EXPECT_EXPORT_REFUSED(daxfs_export_dmabuf(f, 4096, UINT64_MAX, NULL), EINVAL, want);
	EXPECT_EQ(EINVAL, raw_export(f, 4096, UINT64_MAX));
	/* ... an empty file. */
	snprintf(want, sizeof(want), "%s is empty: there is nothing to export", empty);
	EXPECT_EXPORT_REFUSED(daxfs_export_dmabuf_path(empty, 0, 0, NULL), EINVAL, want);

	/* ENOTTY: a directory of the mount (the kernel says the same), a file elsewhere. */
	snprintf(want, sizeof(want), "%s is a directory, not a regular file", sub);
	EXPECT_EXPORT_REFUSED(daxfs_export_dmabuf_path(sub, 0, 0, NULL), ENOTTY, want);
	d = open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, d);
	EXPECT_EXPORT_REFUSED(daxfs_export_dmabuf(d, 0, 0, NULL), ENOTTY, want);
	EXPECT_EQ(ENOTTY, raw_export(d, 0, 0));
	close(d);
	snprintf(want, sizeof(want), "%s is not on a daxfs mount (file system magic 0x1021994)",
		 self->img);
	EXPECT_EXPORT_REFUSED(daxfs_export_dmabuf_path(self->img, 0, 0, NULL), ENOTTY, want);

	/* EBADF: not open for reading (an O_PATH descriptor: the VFS says so too), no fd. */
	o = open(big, O_PATH | O_CLOEXEC);
	ASSERT_LE(0, o);
	snprintf(want, sizeof(want), "%s is not open for reading (an O_PATH descriptor)", big);
	EXPECT_EXPORT_REFUSED(daxfs_export_dmabuf(o, 0, 0, NULL), EBADF, want);
	EXPECT_EQ(EBADF, raw_export(o, 0, 0));
	close(o);
	EXPECT_EXPORT_REFUSED(daxfs_export_dmabuf(-1, 0, 0, NULL), EBADF, "bad file descriptor -1");

	/* EMFILE: every descriptor the limit allows is taken. */
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl0));
	rl = rl0;
	rl.rlim_cur = 64;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	while (nfds < 64) {
		int x = dup(f);

		if (x < 0)
			break;
		fds[nfds++] = x;
	}
	ASSERT_EQ(EMFILE, errno);
	r = daxfs_export_dmabuf(f, 0, 0, NULL);
	while (nfds)
		close(fds[--nfds]);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl0));
	snprintf(want, sizeof(want), "%s: no file descriptor for the new dma-buf: the process has "
		 "as many open as RLIMIT_NOFILE allows", big);
	EXPECT_EXPORT_REFUSED(r, EMFILE, want);

	/* Nothing was made. */
	EXPECT_EQ(self->bufs0 + 1, dxt_dmabuf_count());
	close(f);
	EXPECT_EQ(0, daxfs_umount(self->mnt)) TH_LOG("%s", daxfs_last_error());
	EXPECT_EQ(self->bufs0, dxt_dmabuf_count());
}

/* ------------------------------------------------------------------------
 * Mounts that cannot export (EOPNOTSUPP): one of RAM kept from the kernel
 * (phys=, from memmap=64M$0x60000000 on the guest's command line, as for
 * driver-phys) and one of a buffer that is I/O memory (the test exporter's
 * DAXFS_GPUEXP_IOMEM).
 */
FIXTURE(noexport) {
	char dir[64];
	char img[PATH_MAX];
	char mnt[PATH_MAX];
};

FIXTURE_SETUP(noexport)
{
	IMAGE_WORKDIR("lib-noexport");
}

FIXTURE_TEARDOWN(noexport)
{
	WORKDIR_TEARDOWN();
}

#define PHYS_ADDR 0x60000000ull
#define PHYS_SIZE (64ull << 20)

TEST_F(noexport, phys)
{
	char opts[128], big[PATH_MAX], want[PATH_MAX + 256];
	uint8_t *image;
	size_t len;
	int mem;

	if (!iomem_has("Reserved", PHYS_ADDR, PHYS_SIZE)) {
		ASSERT_FALSE(dxt_ci()) TH_LOG("CI=true: the guest must boot with memmap=64M$0x60000000");
		SKIP(return, "no reserved RAM at 0x60000000 (boot with memmap=64M$0x60000000)");
	}
	ASSERT_EQ(0, dxt_slurp(self->img, &image, &len));
	mem = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
	ASSERT_LE(0, mem) TH_LOG("/dev/mem: %s", strerror(errno));
	EXPECT_EQ((ssize_t)len, pwrite(mem, image, len, PHYS_ADDR)) TH_LOG("%s", strerror(errno));
	close(mem);
	free(image);
	snprintf(opts, sizeof(opts), "phys=%#llx,size=%llu", PHYS_ADDR, PHYS_SIZE);
	ASSERT_EQ(0, mount("none", self->mnt, "daxfs", MS_RDONLY, opts)) TH_LOG("%s", strerror(errno));
	snprintf(big, sizeof(big), "%s/sub/big.bin", self->mnt);
	EXPECT_EQ(0, check_big(big));
	snprintf(want, sizeof(want), "%s: the mount is not backed by a dma-buf (mounted from none at "
		 "%s): only mounts of a dma-buf export", big, self->mnt);
	EXPECT_EXPORT_REFUSED(daxfs_export_dmabuf_path(big, 0, 0, NULL), EOPNOTSUPP, want);
	EXPECT_EQ(0, daxfs_umount(self->mnt)) TH_LOG("%s", daxfs_last_error());
}

TEST_F(noexport, iomem)
{
	struct daxfs_gpuexp_create c = { .kind = DAXFS_GPUEXP_IOMEM };
	struct dxt_buf b;
	char big[PATH_MAX], want[PATH_MAX + 256];
	int g;

	g = open("/dev/" DAXFS_GPUEXP_NAME, O_RDWR | O_CLOEXEC);
	if (g < 0) {
		ASSERT_FALSE(dxt_ci()) TH_LOG("CI=true: the test exporter must be loaded");
		SKIP(return, "no /dev/%s (the test exporter is not loaded)", DAXFS_GPUEXP_NAME);
	}
	dxt_buf_init(&b);
	c.size = dxt_round_up_page((size_t)dxt_file_size(self->img));
	b.fd = ioctl(g, DAXFS_GPUEXP_IOC_CREATE, &c);
	close(g);
	ASSERT_LE(0, b.fd) TH_LOG("CREATE IOMEM: %s", strerror(errno));
	b.size = c.size;
	ASSERT_EQ(0, dxt_buf_write_file(&b, self->img, 0));
	ASSERT_EQ(0, daxfs_mount_dmabuf(b.fd, self->mnt)) TH_LOG("%s", daxfs_last_error());
	close(b.fd);
	snprintf(big, sizeof(big), "%s/sub/big.bin", self->mnt);
	snprintf(want, sizeof(want), "%s: the buffer of the mount at %s (exporter %s) is I/O memory "
		 "in the kernel: it cannot be exported", big, self->mnt, DAXFS_GPUEXP_NAME);
	EXPECT_EXPORT_REFUSED(daxfs_export_dmabuf_path(big, 0, 0, NULL), EOPNOTSUPP, want);
	EXPECT_EQ(0, daxfs_umount(self->mnt)) TH_LOG("%s", daxfs_last_error());
}

TEST_HARNESS_MAIN
