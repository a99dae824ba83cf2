// SPDX-License-Identifier: GPL-2.0
/*
 * lib-mount: the library against the real module, for each exporter the
 * kernel has: allocate, fill from an mkdaxfs image, daxfs_mount_dmabuf,
 * read, daxfs_umount; through each mount path (fsconfig fd, import + fs
 * context, import + mount(2)); and the kernel's reason on refusal.
 */
#include "vmtest.h"
#include <sys/statfs.h>

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
	char err[4096];

	self->buf = -1;
	if (!have_exporter(variant->kind, self->dev, sizeof(self->dev))) {
		if (exporter_required(variant->kind)) {
			TH_LOG("CI=true: kernel %s must provide %s", getenv("DAXFS_KERNEL") ?: "?",
			       variant->kind);
			ASSERT_TRUE(false);
		}
		SKIP(return, "no %s exporter on this kernel", variant->kind);
	}
	unsetenv("DAXFS_FORCE_IMPORT_MOUNT");
	unsetenv("DAXFS_FORCE_LEGACY_MOUNT");
	if (variant->path && !strcmp(variant->path, "import"))
		setenv("DAXFS_FORCE_IMPORT_MOUNT", "1", 1);
	if (variant->path && !strcmp(variant->path, "legacy"))
		setenv("DAXFS_FORCE_LEGACY_MOUNT", "1", 1);
	strcpy(self->dir, "/tmp/lib-mount.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	if (make_image(self->dir, self->img, sizeof(self->img), err, sizeof(err))) {
		TH_LOG("%s", err);
		ASSERT_TRUE(false);
	}
	self->imgsize = fsize(self->img);
	snprintf(self->mnt, sizeof(self->mnt), "%s/mnt", self->dir);
	ASSERT_EQ(0, mkdir(self->mnt, 0755));
	self->buf = alloc_kind(variant->kind, self->dev, (size_t)self->imgsize + (64 << 10));
	if (self->buf < 0)
		TH_LOG("allocate from %s: %s", variant->kind, daxfs_last_error());
	ASSERT_LE(0, self->buf);
}

FIXTURE_TEARDOWN(lib)
{
	if (self->buf >= 0)
		close(self->buf);
	if (self->dir[0]) {
		umount2(self->mnt, MNT_DETACH);
		if (rm_tree(self->dir))
			TH_LOG("cleanup of %s failed: %s", self->dir, strerror(errno));
	}
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
	ASSERT_EQ((int)strlen(HELLO), read_file(p, buf, sizeof(buf)));
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

TEST_HARNESS_MAIN
