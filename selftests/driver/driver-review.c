// SPDX-License-Identifier: GPL-2.0
/*
 * driver-review: the findings of the review of issue 13, section 4, each a
 * test that fails on the module before the fix.
 *
 *   api      ioctls of /dev/daxfs: argsz bounded by a page (E2BIG), the
 *            command's direction and size checked (ENOTTY)
 *   buf      per exporter: /proc/mounts options mount again with the same
 *            meaning (dmabuf:ID, with an offset); exporter= and size= mean
 *            what they say
 *   one      on one exporter: device nodes refused without devnodes, the
 *            UUID through FS_IOC_GETFSUUID, directory SEEK_END, symlink
 *            targets charged to the memory cgroup of whoever looks them up
 *   phys     phys= ranges (RAM reserved with memmap=64M$0x60000000): the
 *            range claimed in /proc/iomem while mounted, overlaps refused,
 *            the address hidden from readers without CAP_SYS_ADMIN, the
 *            options mount again
 *   pmem     a DAX block device (legacy pmem from memmap=64M!0x70000000):
 *            a second mount with other options refused, the options mount
 *            again, a media error (badblocks) fails the read with EIO, and
 *            the device going away (driver unbound) unmaps every mapping
 *
 * The phys and pmem tests need the VM booted with
 *   DAXFS_VM_APPEND='memmap=64M$0x60000000 memmap=64M!0x70000000'
 * (as make check does); without it they skip, except under CI=true.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daxfs_harness.h"
#include "daxfs_format.h"

/* FS_IOC_GETFSUUID (6.8): the build host's headers may predate it. */
struct review_fsuuid2 {
	uint8_t len;
	uint8_t uuid[16];
};
#define REVIEW_FS_IOC_GETFSUUID _IOR(0x15, 0, struct review_fsuuid2)

#define PHYS_ADDR	0x60000000ULL
#define PMEM_ADDR	0x70000000ULL
#define RANGE_SIZE	(64ULL << 20)


static bool kernel_at_least(int maj, int min)
{
	return dxt_kernel_version() >= maj * 100 + min;
}

/*
 * mount(8) in C: the options of a /proc/mounts line, the VFS's own words
 * as mount flags, the rest as the file system's data.
 */
static int mount_with_options(const char *src, const char *target, const char *opts)
{
	static const struct { const char *name; unsigned long flag; } vfs[] = {
		{ "ro", MS_RDONLY }, { "rw", 0 }, { "nosuid", MS_NOSUID },
		{ "nodev", MS_NODEV }, { "noexec", MS_NOEXEC },
		{ "sync", MS_SYNCHRONOUS }, { "dirsync", MS_DIRSYNC },
		{ "noatime", MS_NOATIME }, { "nodiratime", MS_NODIRATIME },
		{ "relatime", MS_RELATIME }, { "strictatime", MS_STRICTATIME },
		{ "lazytime", MS_LAZYTIME }, { "mand", MS_MANDLOCK },
	};
	char copy[2048], data[2048] = "", *tok, *save;
	unsigned long flags = 0;

	snprintf(copy, sizeof(copy), "%s", opts);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < sizeof(vfs) / sizeof(vfs[0]); i++)
			if (!strcmp(tok, vfs[i].name))
				break;
		if (i < sizeof(vfs) / sizeof(vfs[0])) {
			flags |= vfs[i].flag;
			continue;
		}
		if (data[0])
			strncat(data, ",", sizeof(data) - strlen(data) - 1);
		strncat(data, tok, sizeof(data) - strlen(data) - 1);
	}
	return mount(src, target, "daxfs", flags, data) ? -errno : 0;
}

/* ",opt," in ",opts," */
static bool has_opt(const char *opts, const char *opt)
{
	char a[2100], b[300];

	snprintf(a, sizeof(a), ",%s,", opts);
	snprintf(b, sizeof(b), ",%s,", opt);
	return strstr(a, b) != NULL;
}

/*
 * The options /proc/mounts shows for @mnt mount its source again on @mnt2:
 * beside the first mount (compared with @tree if @compare_beside), then,
 * once both are unmounted, alone (compared).  @want: options it must show.
 */
static void mount_again_from_proc(struct __test_metadata *_metadata, const char *tree,
				  const char *mnt, const char *mnt2, bool compare_beside,
				  const char *const *want)
{
	char src[256], opts[2048], err[ERRLEN];

	ASSERT_EQ(0, proc_mounts_find(mnt, src, NULL, opts, sizeof(opts)));
	TH_LOG("/proc/mounts: %s %s", src, opts);
	for (; want && *want; want++)
		EXPECT_TRUE(has_opt(opts, *want));
	for (int alone = 0; alone < 2; alone++) {
		ASSERT_OK_MSG(mount_with_options(src, mnt2, opts), opts);
		if (alone || compare_beside) {
			EXPECT_EQ(0, compare_trees(tree, mnt2, err, sizeof(err), NULL)) {
				TH_LOG("%s", err);
			}
		}
		EXPECT_EQ(0, umount_path(mnt2, 0));
		if (!alone)
			EXPECT_EQ(0, umount_path(mnt, 0));
	}
}

/* ----------------------------------------------------------------- api */

FIXTURE(api) {
	int dev;
};

FIXTURE_SETUP(api)
{
	self->dev = dxt_dev_open();
	ASSERT_LE(0, self->dev) {
		TH_LOG("open /dev/daxfs: %s (module not loaded?)", strerror(-self->dev));
	}
}

FIXTURE_TEARDOWN(api)
{
	if (self->dev >= 0)
		close(self->dev);
}

/*
 * argsz above a page: E2BIG, even when the bytes beyond the known struct
 * are zero (before, the kernel scanned up to 4 GiB of them).
 */
TEST_F(api, argsz_bounded_by_a_page)
{
	size_t page = sysconf(_SC_PAGESIZE);
	uint8_t *buf = calloc(1, 2 * page + 64);
	struct daxfs_release *r = (void *)buf;
	struct daxfs_info *in = (void *)buf;

	ASSERT_NE(NULL, buf);
	r->id = 987654321;
	/* a page exactly: accepted, the id is unknown */
	r->argsz = page;
	EXPECT_ERRNO(ENOENT, dxt_ioctl(self->dev, DAXFS_IOC_RELEASE, buf));
	r->argsz = page + 1;
	EXPECT_ERRNO(E2BIG, dxt_ioctl(self->dev, DAXFS_IOC_RELEASE, buf));
	r->argsz = 2 * page;
	EXPECT_ERRNO(E2BIG, dxt_ioctl(self->dev, DAXFS_IOC_RELEASE, buf));
	r->argsz = UINT32_MAX;
	EXPECT_ERRNO(E2BIG, dxt_ioctl(self->dev, DAXFS_IOC_RELEASE, buf));

	memset(buf, 0, 2 * page + 64);
	in->id = 987654321;
	in->argsz = page;
	EXPECT_ERRNO(ENOENT, dxt_ioctl(self->dev, DAXFS_IOC_INFO, buf));
	in->argsz = page + 8;
	EXPECT_ERRNO(E2BIG, dxt_ioctl(self->dev, DAXFS_IOC_INFO, buf));
	free(buf);
}

/*
 * The command's direction and size are checked, not only its number: a
 * command that would be misread is ENOTTY.  A larger size (a caller built
 * against a grown struct) is accepted.
 */
TEST_F(api, command_direction_and_size)
{
	struct {
		struct daxfs_release r;
		uint8_t tail[64];
	} rel;
	struct daxfs_import imp;

	memset(&rel, 0, sizeof(rel));
	rel.r.argsz = sizeof(rel.r);
	rel.r.id = 987654321;
	/* the right command: ENOENT for the unknown id */
	EXPECT_ERRNO(ENOENT, dxt_ioctl(self->dev, DAXFS_IOC_RELEASE, &rel));
	/* wrong direction */
	EXPECT_ERRNO(ENOTTY, dxt_ioctl(self->dev, _IOR(DAXFS_IOC_MAGIC, 0x02,
							  struct daxfs_release), &rel));
	EXPECT_ERRNO(ENOTTY, dxt_ioctl(self->dev, _IOWR(DAXFS_IOC_MAGIC, 0x02,
							   struct daxfs_release), &rel));
	EXPECT_ERRNO(ENOTTY, dxt_ioctl(self->dev, _IO(DAXFS_IOC_MAGIC, 0x02), &rel));
	/* smaller than the version-1 struct */
	EXPECT_ERRNO(ENOTTY, dxt_ioctl(self->dev, _IOW(DAXFS_IOC_MAGIC, 0x02, uint32_t),
					 &rel));
	/* larger than a page */
	EXPECT_ERRNO(ENOTTY, dxt_ioctl(self->dev, _IOW(DAXFS_IOC_MAGIC, 0x02, char[8192]),
					 &rel));
	/* grown: accepted */
	rel.r.argsz = sizeof(rel);
	EXPECT_ERRNO(ENOENT, dxt_ioctl(self->dev, _IOW(DAXFS_IOC_MAGIC, 0x02, rel), &rel));

	/* IMPORT and INFO read and write: the write-only or read-only forms are not them */
	memset(&imp, 0, sizeof(imp));
	imp.argsz = sizeof(imp);
	imp.fd = -1;
	EXPECT_ERRNO(EBADF, dxt_ioctl(self->dev, DAXFS_IOC_IMPORT, &imp));
	EXPECT_ERRNO(ENOTTY, dxt_ioctl(self->dev, _IOW(DAXFS_IOC_MAGIC, 0x01,
							  struct daxfs_import), &imp));
	EXPECT_ERRNO(ENOTTY, dxt_ioctl(self->dev, _IOR(DAXFS_IOC_MAGIC, 0x03,
							  struct daxfs_info), &imp));
}

/* ----------------------------------------------------- buf (per exporter) */

FIXTURE(buf) {
	char work[64];
	char src[128], img[128], mnt[128], mnt2[160];
	struct dxt_buf b;
	int dev;
	struct daxfs_baseline base;
};

FIXTURE_VARIANT(buf) {
	enum dxt_exporter kind;
};

DAXFS_EXPORTER_VARIANTS(buf);

FIXTURE_SETUP(buf)
{
	struct gen_opts o = { .special = true, .owners = true };

	self->work[0] = 0;
	self->dev = -1;
	self->b.fd = self->b.memfd = self->b.drmfd = -1;
	REQUIRE_EXPORTER(variant->kind);
	FIXTURE_WORKDIR_SETUP_MNT2(self);
	SHARED_IMAGE("review", &o, NULL, NULL, self->src, self->img);
}

FIXTURE_TEARDOWN_PARENT(buf)
{
	WORKDIR_TEARDOWN(self);
}

/*
 * What /proc/mounts shows for a dmabuf:ID mount mounts the same image again
 * with exactly those options: the offset fixed at import may be repeated,
 * exporter= names the buffer's exporter.  (Before: dmabuf=<exporter>, not
 * an fd, and size= of the image, which means a phys= range on input.)
 */
TEST_F_TIMEOUT(buf, proc_mounts_options_mount_again, 120)
{
	char err[ERRLEN], src[256], opts[2048], opts2[2048], bad[2100];
	struct daxfs_import imp;
	off_t sz = dxt_file_size(self->img);

	ASSERT_LT(0, sz);
	/* the image one page into the buffer: offset= is shown */
	ASSERT_EQ(0, dxt_buf_alloc(variant->kind, PAGE + sz, &self->b, err, sizeof(err))) {
		TH_LOG("%s", err);
	}
	ASSERT_EQ(0, dxt_buf_write_file(&self->b, self->img, PAGE));
	self->dev = dxt_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, dxt_import(self->dev, self->b.fd, PAGE, &imp));
	ASSERT_EQ(0, mount_id(imp.id, self->mnt, MS_RDONLY, NULL));
	ASSERT_EQ(0, proc_mounts_find(self->mnt, src, NULL, opts, sizeof(opts)));
	TH_LOG("/proc/mounts: %s %s", src, opts);
	EXPECT_TRUE(has_opt(opts, "offset=4096"));
	{
		char want[64];

		snprintf(want, sizeof(want), "exporter=%s", dxt_exporter_kname(variant->kind));
		EXPECT_TRUE(has_opt(opts, want));
	}
	EXPECT_EQ(NULL, strstr(opts, "size=")) {
		TH_LOG("size= is shown for phys= ranges only: %s", opts);
	}

	ASSERT_OK_MSG(mount_with_options(src, self->mnt2, opts), opts);
	EXPECT_EQ(0, compare_trees(self->src, self->mnt2, err, sizeof(err), NULL)) {
		TH_LOG("%s", err);
	}
	ASSERT_EQ(0, proc_mounts_find(self->mnt2, NULL, NULL, opts2, sizeof(opts2)));
	EXPECT_STREQ(opts, opts2);
	EXPECT_EQ(0, umount_path(self->mnt2, 0));

	/* each option means what it says: another offset, exporter, a size */
	snprintf(bad, sizeof(bad), "%s,offset=8192", opts);
	EXPECT_ERRNO(EINVAL, mount_with_options(src, self->mnt2, bad));
	EXPECT_ERRNO(EINVAL, mount_with_options(src, self->mnt2, "exporter=no-such-exporter"));
	EXPECT_ERRNO(EINVAL, mount_with_options(src, self->mnt2, "size=4096"));
	/* through an fd as well: exporter= checked, size= refused */
	{
		const char *ok[] = { "offset=4096", NULL, NULL };
		const char *no[] = { "offset=4096", "exporter=no-such-exporter", NULL };
		const char *sz4k[] = { "offset=4096", "size=4096", NULL };
		char ex[64];

		snprintf(ex, sizeof(ex), "exporter=%s", dxt_exporter_kname(variant->kind));
		ok[1] = ex;
		EXPECT_EQ(0, mount_fd(self->b.fd, self->mnt2, ok));
		EXPECT_EQ(0, umount_path(self->mnt2, 0));
		EXPECT_ERRNO(EINVAL, mount_fd(self->b.fd, self->mnt2, no));
		EXPECT_ERRNO(EINVAL, mount_fd(self->b.fd, self->mnt2, sz4k));
	}
	EXPECT_EQ(0, umount_path(self->mnt, 0));
	EXPECT_EQ(0, dxt_release(self->dev, imp.id));
	close(self->dev);
	self->dev = -1;
	dxt_buf_free(&self->b);
}

/* --------------------------------------------------- one (any exporter) */

FIXTURE(one) {
	char work[64];
	char src[128], img[128], mnt[128];
	struct dxmount m;
	enum dxt_exporter kind;
	struct daxfs_baseline base;
};

/* The first exporter this kernel has (every kernel of the matrix has one). */
static bool first_exporter(enum dxt_exporter *kind, char *why, size_t len)
{
	static const enum dxt_exporter order[] = { DXT_EXP_HEAP, DXT_EXP_UDMABUF, DXT_EXP_VGEM };

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (dxt_exporter_available(order[i], why, len)) {
			*kind = order[i];
			return true;
		}
	return false;
}

FIXTURE_SETUP(one)
{
	char why[ERRLEN];

	dxm_init(&self->m);
	self->work[0] = 0;
	ASSERT_TRUE(first_exporter(&self->kind, why, sizeof(why))) {
		TH_LOG("no dma-buf exporter: %s", why);
	}
	FIXTURE_WORKDIR_SETUP(self);
}

FIXTURE_TEARDOWN_PARENT(one)
{
	WORKDIR_TEARDOWN(self);
}

static void mount_one(struct __test_metadata *_metadata, FIXTURE_DATA(one) *self,
		      const char *opts)
{
	char err[ERRLEN];
	int r = dxm_setup(&self->m, self->kind, self->img, 0, NULL, err, sizeof(err));

	if (r)
		TH_LOG("%s", err);
	ASSERT_EQ(0, r);
	snprintf(self->m.mnt, sizeof(self->m.mnt), "%s", self->mnt);
	ASSERT_OK_MSG(mount_id(self->m.imp.id, self->mnt, MS_RDONLY, opts), opts ?: "");
	self->m.mounted = true;
}

/*
 * Device nodes of an image cannot be opened unless the mount says
 * devnodes, even by root; the option shows, and cannot change on remount.
 */
TEST_F_TIMEOUT(one, device_nodes_need_devnodes, 120)
{
	struct gen_opts o = { .special = true };
	char opts[2048], c;
	int fd;

	SHARED_IMAGE("review-special", &o, NULL, NULL, self->src, self->img);
	mount_one(_metadata, self, NULL);
	/* "chr" is 1:3, /dev/null */
	EXPECT_ERRNO(EACCES, SYS(fd = open(P(self->mnt, "chr"), O_RDONLY | O_CLOEXEC)));
	if (fd >= 0)
		close(fd);
	EXPECT_ERRNO(EACCES, SYS(fd = open(P(self->mnt, "blk"), O_RDONLY | O_CLOEXEC)));
	if (fd >= 0)
		close(fd);
	/* other special files are not devices: a fifo opens */
	fd = open(P(self->mnt, "fifo"), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(0, proc_mounts_find(self->mnt, NULL, NULL, opts, sizeof(opts)));
	EXPECT_FALSE(has_opt(opts, "devnodes"));
	EXPECT_ERRNO(EINVAL, SYS(mount(NULL, self->mnt, NULL, MS_REMOUNT | MS_RDONLY,
				       "devnodes")));
	EXPECT_EQ(0, umount_path(self->mnt, 0));
	self->m.mounted = false;

	ASSERT_OK_MSG(mount_id(self->m.imp.id, self->mnt, MS_RDONLY, "devnodes"), "devnodes");
	self->m.mounted = true;
	fd = open(P(self->mnt, "chr"), O_RDONLY | O_CLOEXEC);
	EXPECT_LE(0, fd) {
		TH_LOG("open chr (1:3) with devnodes: %s", strerror(errno));
	}
	if (fd >= 0) {
		EXPECT_EQ(0, read(fd, &c, 1));	/* /dev/null */
		close(fd);
	}
	ASSERT_EQ(0, proc_mounts_find(self->mnt, NULL, NULL, opts, sizeof(opts)));
	EXPECT_TRUE(has_opt(opts, "devnodes"));
	EXPECT_ERRNO(EINVAL, SYS(mount(NULL, self->mnt, NULL, MS_REMOUNT | MS_RDONLY,
				       "nodevnodes")));
	EXPECT_EQ(0, SYS(mount(NULL, self->mnt, NULL, MS_REMOUNT | MS_RDONLY, "devnodes")));
	/* and nodev still wins */
	EXPECT_EQ(0, SYS(mount(NULL, self->mnt, NULL, MS_REMOUNT | MS_RDONLY | MS_NODEV |
			       MS_BIND, NULL)));
	EXPECT_ERRNO(EACCES, SYS(fd = open(P(self->mnt, "chr"), O_RDONLY | O_CLOEXEC)));
	if (fd >= 0)
		close(fd);
	dxm_teardown(&self->m);
}

/* FS_IOC_GETFSUUID gives the image's UUID (6.8 and later; 6.1 has no such ioctl). */
TEST_F_TIMEOUT(one, fs_uuid, 120)
{
	static const char *uuid_s = "6a1f2c3d-4e5f-4071-8293-a4b5c6d7e8f9";
	static const uint8_t uuid[16] = { 0x6a, 0x1f, 0x2c, 0x3d, 0x4e, 0x5f, 0x40, 0x71,
					  0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8, 0xf9 };
	char uuid_opt[64];
	const char *mk[] = { uuid_opt, NULL };
	struct review_fsuuid2 u;
	int fd, r;

	snprintf(uuid_opt, sizeof(uuid_opt), "--uuid=%s", uuid_s);
	ASSERT_EQ(0, mkdir(self->src, 0755));
	ASSERT_EQ(0, fill_file(P(self->src, "f"), 100, 1, 0644));
	MKIMAGE(self->img, self->src, mk);
	mount_one(_metadata, self, NULL);
	fd = open(self->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	memset(&u, 0, sizeof(u));
	r = ioctl(fd, REVIEW_FS_IOC_GETFSUUID, &u) ? -errno : 0;
	close(fd);
	if (!kernel_at_least(6, 8)) {
		TH_LOG("kernel before 6.8: no FS_IOC_GETFSUUID");
		EXPECT_ERRNO(ENOTTY, r);
	} else {
		ASSERT_EQ(0, r) {
			TH_LOG("FS_IOC_GETFSUUID: %s", strerror(-r));
		}
		EXPECT_EQ(16, u.len);
		EXPECT_EQ(0, memcmp(u.uuid, uuid, 16));
	}
	dxm_teardown(&self->m);
}

static int getdents_names(int fd, char names[][300], int max)
{
	char buf[4096];
	int n = 0;

	for (;;) {
		long k = syscall(SYS_getdents64, fd, buf, sizeof(buf));

		if (k < 0)
			return -errno;
		if (k == 0)
			return n;
		for (long off = 0; off < k;) {
			struct dirent64 *d = (void *)(buf + off);

			if (n < max)
				snprintf(names[n], 300, "%s", d->d_name);
			n++;
			off += d->d_reclen;
		}
	}
}

/*
 * SEEK_END of a directory is its end as readdir knows it: the position a
 * whole readdir leaves, from which nothing more is read, one before which
 * the last entry is read again.  Past it, EINVAL.
 */
TEST_F_TIMEOUT(one, dir_seek_end, 120)
{
	static char names[400][300];
	struct gen_opts o = { .many = true };
	int fd, n, k;
	off_t end, cur;

	SHARED_IMAGE("review-many", &o, NULL, NULL, self->src, self->img);
	mount_one(_metadata, self, NULL);
	fd = open(P(self->mnt, "many"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	n = getdents_names(fd, names, 400);
	ASSERT_EQ(302, n);	/* 300 entries, . and .. */
	cur = lseek(fd, 0, SEEK_CUR);
	end = lseek(fd, 0, SEEK_END);
	TH_LOG("after readdir at %lld, SEEK_END at %lld", (long long)cur, (long long)end);
	EXPECT_EQ(cur, end);
	EXPECT_EQ(302, end);
	EXPECT_EQ(0, getdents_names(fd, names, 400));
	EXPECT_EQ(301, lseek(fd, -1, SEEK_END));
	k = getdents_names(fd, names, 400);
	EXPECT_EQ(1, k);
	if (k == 1) {
		char last[300];

		/* the last entry of a full listing */
		ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
		ASSERT_EQ(302, getdents_names(fd, names, 400));
		snprintf(last, sizeof(last), "%s", names[301]);
		ASSERT_EQ(301, lseek(fd, -1, SEEK_END));
		ASSERT_EQ(1, getdents_names(fd, names, 400));
		EXPECT_STREQ(last, names[0]);
	}
	EXPECT_ERRNO(EINVAL, SYS(lseek(fd, 1, SEEK_END)));
	EXPECT_ERRNO(EINVAL, SYS(lseek(fd, 303, SEEK_SET)));
	close(fd);

	/* an empty directory ends after . and .. */
	fd = open(P(self->mnt, "emptydir"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(2, lseek(fd, 0, SEEK_END));
	EXPECT_EQ(0, getdents_names(fd, names, 400));
	close(fd);
	dxm_teardown(&self->m);
}

/* ---- symlink targets are charged to the memory cgroup that looks them up */

#define CG_MNT		"/tmp/driver-review-cg"
#define NLINKS		512
#define LINKLEN		4000

static int add_long_links(const char *src, char *err, size_t len)
{
	static char t[LINKLEN + 1];
	char p[PATH_MAX];

	for (int i = 0; i < LINKLEN; i++)
		t[i] = 'a' + i % 26;
	for (int i = 0; i < NLINKS; i++) {
		t[0] = 'a' + i % 26;	/* distinct targets */
		t[1] = 'a' + i / 26 % 26;
		snprintf(p, sizeof(p), "%s/l%04d", src, i);
		if (symlink(t, p)) {
			snprintf(err, len, "symlink %s: %s", p, strerror(errno));
			return -1;
		}
	}
	return 0;
}

TEST_F_TIMEOUT(one, symlinks_charged_to_memcg, 180)
{
	char target[LINKLEN + 16], err[ERRLEN];
	struct dxt_memcg cg;
	long long before, after;
	int r;

	SHARED_IMAGE("review-links", NULL, add_long_links, NULL, self->src, self->img);
	r = dxt_memcg_setup(&cg, CG_MNT, "driver-review", err, sizeof(err));
	/* tinyconfig without cgroups (selftests/kernels/debug.config) */
	if (r == -ENODEV && !strcmp(getenv("DAXFS_KERNEL") ?: "", "debug"))
		SKIP(return, "the debug kernel is built without cgroups");
	ASSERT_EQ(0, r) {
		TH_LOG("%s", err);
	}
	/* mounted outside, looked up inside */
	mount_one(_metadata, self, NULL);
	ASSERT_EQ(0, dxt_cg_write(cg.child, "cgroup.procs", "0"));
	before = dxt_cg_read(cg.child, "memory.current");
	for (int i = 0; i < NLINKS; i++) {
		char p[64];
		ssize_t k;

		snprintf(p, sizeof(p), "l%04d", i);
		k = readlink(P(self->mnt, p), target, sizeof(target));
		ASSERT_EQ(LINKLEN, k);
	}
	after = dxt_cg_read(cg.child, "memory.current");
	TH_LOG("memory cgroup charged %lld bytes for %d symlinks of %d bytes",
	       after - before, NLINKS, LINKLEN);
	EXPECT_LE((long long)NLINKS * LINKLEN, after - before);
	ASSERT_EQ(0, dxt_cg_write(cg.root, "cgroup.procs", "0"));
	dxm_teardown(&self->m);
	dxt_memcg_teardown(&cg);
}

/* ---------------------------------------------------------------- phys */

FIXTURE(phys) {
	char work[64];
	char src[128], img[128], mnt[128], mnt2[160];
	struct daxfs_baseline base;
};

FIXTURE_SETUP(phys)
{
	struct gen_opts o = { .special = true, .owners = true };
	ssize_t k;
	size_t len;
	void *image;
	int fd;

	self->work[0] = 0;
	FIXTURE_WORKDIR_SETUP_MNT2(self);
	NEED(dxt_iomem_has("Reserved", PHYS_ADDR, RANGE_SIZE, false),
	     "no reserved RAM at 0x%llx+64M in /proc/iomem: %s", PHYS_ADDR, DXT_MEMMAP_HINT);
	SHARED_IMAGE("review", &o, NULL, NULL, self->src, self->img);
	image = dxt_map_file(self->img, &len);
	ASSERT_NE(NULL, image);
	fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
	ASSERT_LE(0, fd);
	/* the image at the start of the range and 2 MiB in */
	k = pwrite(fd, image, len, PHYS_ADDR);
	EXPECT_EQ((ssize_t)len, k);
	k = pwrite(fd, image, len, PHYS_ADDR + (2 << 20));
	EXPECT_EQ((ssize_t)len, k);
	close(fd);
	munmap(image, len);
}

FIXTURE_TEARDOWN_PARENT(phys)
{
	WORKDIR_TEARDOWN(self);
}

static void phys_opts(char *o, size_t len, uint64_t addr, uint64_t size, uint64_t off)
{
	snprintf(o, len, "phys=0x%llx,size=%llu,offset=%llu", (unsigned long long)addr,
		 (unsigned long long)size, (unsigned long long)off);
}

/*
 * The range is claimed in /proc/iomem while mounted: a second mount of the
 * same range shares it, a mount of an overlapping range fails with EBUSY,
 * and so does a range a driver holds; unmounting releases it.
 */
TEST_F_TIMEOUT(phys, range_claimed, 120)
{
	char o[256], err[ERRLEN];

	phys_opts(o, sizeof(o), PHYS_ADDR, RANGE_SIZE, 0);
	ASSERT_OK_MSG(mount_src("none", self->mnt, MS_RDONLY, o), o);
	EXPECT_TRUE(dxt_iomem_has("daxfs", PHYS_ADDR, RANGE_SIZE, true)) {
		TH_LOG("no \"daxfs\" claim at 0x%llx+64M in /proc/iomem", PHYS_ADDR);
	}
	/* the same range again: shares the claim */
	EXPECT_EQ(0, mount_src("none", self->mnt2, MS_RDONLY, o));
	EXPECT_EQ(0, compare_trees(self->src, self->mnt2, err, sizeof(err), NULL)) {
		TH_LOG("%s", err);
	}
	EXPECT_EQ(0, umount_path(self->mnt2, 0));
	/* overlapping ranges, however valid the image they hold */
	phys_opts(o, sizeof(o), PHYS_ADDR, RANGE_SIZE / 2, 0);
	EXPECT_ERRNO(EBUSY, mount_src("none", self->mnt2, MS_RDONLY, o));
	phys_opts(o, sizeof(o), PHYS_ADDR, RANGE_SIZE, 2 << 20);
	EXPECT_ERRNO(EBUSY, mount_src("none", self->mnt2, MS_RDONLY, o));
	phys_opts(o, sizeof(o), PHYS_ADDR + (2 << 20), RANGE_SIZE / 2, 0);
	EXPECT_ERRNO(EBUSY, mount_src("none", self->mnt2, MS_RDONLY, o));
	EXPECT_EQ(0, umount_path(self->mnt, 0));
	EXPECT_FALSE(dxt_iomem_has("daxfs", PHYS_ADDR, RANGE_SIZE, true));

	/* released: the smaller range mounts now, and claims only itself */
	phys_opts(o, sizeof(o), PHYS_ADDR + (2 << 20), RANGE_SIZE / 2, 0);
	ASSERT_OK_MSG(mount_src("none", self->mnt2, MS_RDONLY, o), o);
	EXPECT_TRUE(dxt_iomem_has("daxfs", PHYS_ADDR + (2 << 20), RANGE_SIZE / 2, true));
	EXPECT_EQ(0, umount_path(self->mnt2, 0));
	EXPECT_FALSE(dxt_iomem_has("daxfs", PHYS_ADDR + (2 << 20), RANGE_SIZE / 2, true));
}

/* A range a driver holds (the legacy pmem namespace) is not ours to map. */
TEST_F_TIMEOUT(phys, driver_range_refused, 120)
{
	const char *mp[] = { "modprobe", "-q", "nd_e820", NULL };
	const char *mp2[] = { "modprobe", "-q", "nd_pmem", NULL };
	char o[256];

	NEED(dxt_iomem_has("Persistent Memory (legacy)", PMEM_ADDR, RANGE_SIZE, false),
	     "no legacy pmem at 0x%llx+64M in /proc/iomem: %s", PMEM_ADDR, DXT_MEMMAP_HINT);
	dxt_run_cmd(mp, NULL, 0);
	dxt_run_cmd(mp2, NULL, 0);
	/* the nd bus registers namespaces asynchronously after modprobe */
	NEED(!wait_for_path("/dev/pmem0", 10), "no /dev/pmem0 after modprobe nd_e820 nd_pmem");
	phys_opts(o, sizeof(o), PMEM_ADDR, RANGE_SIZE, 0);
	EXPECT_ERRNO(EBUSY, mount_src("none", self->mnt, MS_RDONLY, o));
}

/*
 * In /proc/mounts, the range's address shows only to readers with
 * CAP_SYS_ADMIN, judged by the credentials that opened the file.
 */
static int read_mounts_line(const char *mnt, bool drop_before_open, char *line, size_t len)
{
	char buf[65536];
	ssize_t k, n = 0;
	int fd = -1;

	if (!drop_before_open)
		fd = open("/proc/self/mounts", O_RDONLY | O_CLOEXEC);
	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		return -errno;
	if (drop_before_open)
		fd = open("/proc/self/mounts", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((k = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += k;
	buf[n] = 0;
	close(fd);
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		char s[512], t[512];

		if (sscanf(l, "%511s %511s", s, t) == 2 && !strcmp(t, mnt)) {
			snprintf(line, len, "%s", l);
			return 0;
		}
	}
	return -ENOENT;
}

TEST_F_TIMEOUT(phys, address_hidden_from_unprivileged, 120)
{
	char o[256], line[2048];
	int pfd[2], st;

	phys_opts(o, sizeof(o), PHYS_ADDR, RANGE_SIZE, 0);
	ASSERT_OK_MSG(mount_src("none", self->mnt, MS_RDONLY, o), o);
	for (int drop_first = 0; drop_first < 2; drop_first++) {
		pid_t pid;
		ssize_t k;

		ASSERT_EQ(0, pipe(pfd));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			int r = read_mounts_line(self->mnt, drop_first, line, sizeof(line));

			if (r)
				snprintf(line, sizeof(line), "error %d", r);
			k = write(pfd[1], line, strlen(line) + 1);
			_exit(k > 0 ? 0 : 1);
		}
		close(pfd[1]);
		memset(line, 0, sizeof(line));
		k = read(pfd[0], line, sizeof(line) - 1);
		close(pfd[0]);
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
		ASSERT_LT(0, k);
		TH_LOG("uid 65534, /proc/self/mounts opened %s dropping root: %s",
		       drop_first ? "after" : "before", line);
		if (drop_first) {
			EXPECT_EQ(NULL, strstr(line, "phys="));
			EXPECT_EQ(NULL, strstr(line, "60000000"));
			EXPECT_EQ(NULL, strstr(line, "size="));
		} else {
			EXPECT_NE(NULL, strstr(line, "phys=0x60000000,size=67108864"));
		}
	}
	ASSERT_EQ(0, proc_mounts_find(self->mnt, NULL, NULL, line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, "phys=0x60000000,size=67108864"));
	EXPECT_EQ(0, umount_path(self->mnt, 0));
}

/*
 * The options /proc/mounts shows mount the same image again, both beside
 * the first mount (sharing its backing) and after it is gone; size= is the
 * range's size (before: the image's, which on input means the range).
 */
TEST_F_TIMEOUT(phys, proc_mounts_options_mount_again, 120)
{
	static const char *const want[] = { "size=67108864", "offset=2097152", NULL };
	char o[256];

	phys_opts(o, sizeof(o), PHYS_ADDR, RANGE_SIZE, 2 << 20);
	ASSERT_OK_MSG(mount_src("none", self->mnt, MS_RDONLY, o), o);
	mount_again_from_proc(_metadata, self->src, self->mnt, self->mnt2, true, want);
}

/* ---------------------------------------------------------------- pmem */

FIXTURE(pmem) {
	char work[64];
	char src[128], img[128], mnt[128], mnt2[160];
	char ns[64];			/* namespace0.0 */
	char drv[PATH_MAX];		/* /sys/bus/nd/drivers/nd_pmem */
	void *image;
	size_t len;
	struct daxfs_baseline base;
};

static int write_image(const void *image, size_t len, off_t at)
{
	int fd = open("/dev/pmem0", O_RDWR | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (pwrite(fd, image, len, at) != (ssize_t)len || fsync(fd))
		r = -EIO;
	close(fd);
	return r;
}

FIXTURE_SETUP(pmem)
{
	const char *mp[] = { "modprobe", "-q", "nd_e820", NULL };
	const char *mp2[] = { "modprobe", "-q", "nd_pmem", NULL };
	struct gen_opts o = { .big = true, .special = true };
	char link[PATH_MAX], *b;
	ssize_t k;

	self->work[0] = 0;
	self->ns[0] = 0;
	self->image = NULL;
	FIXTURE_WORKDIR_SETUP_MNT2(self);
	NEED(dxt_iomem_has("Persistent Memory (legacy)", PMEM_ADDR, RANGE_SIZE, false),
	     "no legacy pmem at 0x%llx+64M in /proc/iomem: %s", PMEM_ADDR, DXT_MEMMAP_HINT);
	dxt_run_cmd(mp, NULL, 0);
	dxt_run_cmd(mp2, NULL, 0);
	ASSERT_EQ(0, wait_for_path("/dev/pmem0", 10)) {
		TH_LOG("no /dev/pmem0 after modprobe nd_e820 nd_pmem");
	}
	k = readlink("/sys/block/pmem0/device", link, sizeof(link) - 1);
	ASSERT_LT(0, k);
	link[k] = 0;
	b = strrchr(link, '/');
	b = b ? b + 1 : link;
	ASSERT_GT(sizeof(self->ns), strlen(b));
	memcpy(self->ns, b, strlen(b) + 1);
	snprintf(self->drv, sizeof(self->drv), "/sys/bus/nd/drivers/nd_pmem");
	TH_LOG("/dev/pmem0 is %s", self->ns);
	SHARED_IMAGE("review-pmem", &o, NULL, NULL, self->src, self->img);
	self->image = dxt_map_file(self->img, &self->len);
	ASSERT_NE(NULL, self->image);
	ASSERT_EQ(0, write_image(self->image, self->len, 0));
	ASSERT_EQ(0, write_image(self->image, self->len, 2 << 20));
}

FIXTURE_TEARDOWN_PARENT(pmem)
{
	char p[PATH_MAX + 16];

	WORKDIR_TEARDOWN(self);
	/* a test that unbound the namespace and stopped half-way */
	if (self->ns[0] && access("/dev/pmem0", F_OK)) {
		snprintf(p, sizeof(p), "%s/bind", self->drv);
		dxt_write_sysfs(p, self->ns);
	}
}

/*
 * One superblock per device: a second mount with other options fails with
 * EBUSY (before: it silently got the first mount's image); with the same
 * options it is the same file system.
 */
TEST_F_TIMEOUT(pmem, second_mount_other_options, 120)
{
	struct stat a, b;

	ASSERT_OK_MSG(mount_src("/dev/pmem0", self->mnt, MS_RDONLY, NULL), "/dev/pmem0");
	EXPECT_ERRNO(EBUSY, mount_src("/dev/pmem0", self->mnt2, MS_RDONLY, "offset=2097152"));
	EXPECT_ERRNO(EBUSY, mount_src("/dev/pmem0", self->mnt2, MS_RDONLY, "cpu_access=mount"));
	EXPECT_ERRNO(EBUSY, mount_src("/dev/pmem0", self->mnt2, MS_RDONLY, "devnodes"));
	EXPECT_ERRNO(EINVAL, mount_src("/dev/pmem0", self->mnt2, MS_RDONLY, "exporter=udmabuf"));
	ASSERT_EQ(0, mount_src("/dev/pmem0", self->mnt2, MS_RDONLY, "offset=0,exporter=dax"));
	ASSERT_EQ(0, stat(self->mnt, &a));
	ASSERT_EQ(0, stat(self->mnt2, &b));
	EXPECT_EQ(a.st_dev, b.st_dev);
	EXPECT_EQ(0, umount_path(self->mnt2, 0));
	EXPECT_EQ(0, umount_path(self->mnt, 0));
}

/* The options of a DAX mount (before: ",dax,size=...", not options) mount again. */
TEST_F_TIMEOUT(pmem, proc_mounts_options_mount_again, 120)
{
	ASSERT_OK_MSG(mount_src("/dev/pmem0", self->mnt, MS_RDONLY, "offset=2097152"),
		      "offset=2097152");
	mount_again_from_proc(_metadata, self->src, self->mnt, self->mnt2, false, NULL);
}

static int unbind(FIXTURE_DATA(pmem) *self, bool bind)
{
	char p[PATH_MAX + 16];

	snprintf(p, sizeof(p), "%s/%s", self->drv, bind ? "bind" : "unbind");
	return dxt_write_sysfs(p, self->ns);
}

/*
 * A media error (a bad block of the pmem device) under a file: read()
 * returns the bytes before it, then fails with EIO (before: it returned
 * whatever the memory held).  Other files read as before.  Unbinding and
 * binding the namespace forgets the bad block.
 */
TEST_F_TIMEOUT(pmem, media_error_is_eio, 120)
{
	struct daxfs_inode in;
	char bb[64], *buf, *want;
	uint64_t data_off, bad_in_file = 3 * PAGE;
	ssize_t k;
	int fd;

	ASSERT_EQ(0, image_lookup(self->image, self->len, "big", NULL, &in));
	data_off = le64toh(in.offset);
	ASSERT_LT(bad_in_file + PAGE, le64toh(in.size));
	ASSERT_OK_MSG(mount_src("/dev/pmem0", self->mnt, MS_RDONLY, NULL), "/dev/pmem0");
	fd = open(P(self->mnt, "big"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	buf = malloc(le64toh(in.size));
	want = malloc(le64toh(in.size));
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, want);
	pattern(want, le64toh(in.size), 14, 0);	/* gen_tree's "big" */
	ASSERT_EQ((ssize_t)le64toh(in.size), pread(fd, buf, le64toh(in.size), 0));
	EXPECT_EQ(0, memcmp(buf, want, le64toh(in.size)));

	/* one bad sector in the file's fourth page */
	snprintf(bb, sizeof(bb), "%llu 1",
		 (unsigned long long)((data_off + bad_in_file + 512) / 512));
	ASSERT_EQ(0, dxt_write_sysfs("/sys/block/pmem0/badblocks", bb));
	k = pread(fd, buf, le64toh(in.size), 0);
	TH_LOG("read of %llu bytes over a bad sector at file byte %llu: %zd",
	       (unsigned long long)le64toh(in.size), (unsigned long long)bad_in_file + 512, k);
	EXPECT_EQ((ssize_t)bad_in_file, k);
	if (k > 0)
		EXPECT_EQ(0, memcmp(buf, want, k));
	EXPECT_ERRNO(EIO, SYS(pread(fd, buf, PAGE, bad_in_file)));
	/*
	 * ptrace and /proc/PID/mem read a shared mapping through the
	 * driver (get_user_pages() refuses its PFN map): EIO there too.
	 */
	{
		char *m = mmap(NULL, bad_in_file + PAGE, PROT_READ, MAP_SHARED, fd, 0);
		int mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);

		ASSERT_NE(MAP_FAILED, m);
		ASSERT_LE(0, mem);
		EXPECT_EQ((ssize_t)PAGE, pread(mem, buf, PAGE, (off_t)(uintptr_t)m));
		EXPECT_ERRNO(EIO, SYS(pread(mem, buf, PAGE, (off_t)(uintptr_t)(m + bad_in_file))));
		close(mem);
		/*
		 * A fault never maps a page with a known bad block: SIGBUS
		 * there (as on fsdax), the page before it maps and reads.
		 */
		{
			struct sigaction sa = { .sa_handler = touch_signal };
			char *p = mmap(NULL, bad_in_file + PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
			char c = 0;

			ASSERT_NE(MAP_FAILED, p);
			ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
			ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
			EXPECT_EQ(0, touch(m + bad_in_file - PAGE, &c));
			EXPECT_EQ(want[bad_in_file - PAGE], c);
			EXPECT_EQ(SIGBUS, touch(m + bad_in_file, &c));
			EXPECT_EQ(0, touch(p, &c));
			EXPECT_EQ(want[0], c);
			EXPECT_EQ(SIGBUS, touch(p + bad_in_file, &c));
			munmap(p, bad_in_file + PAGE);
		}
		munmap(m, bad_in_file + PAGE);
	}
	/* a page before it, and another file, read */
	EXPECT_EQ((ssize_t)PAGE, pread(fd, buf, PAGE, bad_in_file - PAGE));
	{
		char err[ERRLEN];

		EXPECT_EQ(0, compare_files(P(self->src, "page"), P(self->mnt, "page"), err,
					   sizeof(err))) {
			TH_LOG("%s", err);
		}
	}
	close(fd);
	free(buf);
	free(want);
	EXPECT_EQ(0, umount_path(self->mnt, 0));
	/* forget the bad block: a new device */
	ASSERT_EQ(0, unbind(self, false));
	ASSERT_EQ(0, unbind(self, true));
	ASSERT_EQ(0, access("/dev/pmem0", F_OK));
}

/*
 * The device goes away (its driver unbound) while files are mapped: every
 * mapping is removed at once (an access raises SIGBUS, shared and private
 * alike), new faults and reads fail, and the mount can be unmounted.  6.1
 * does not tell holders before a device goes (compat.h): there, only the
 * new faults and reads fail.
 */
TEST_F_TIMEOUT(pmem, device_removal_unmaps, 120)
{
	struct sigaction sa = { .sa_handler = touch_signal };
	bool notified = kernel_at_least(6, 7);
	char *ms, *mp, *mn, c = 0, buf[16];
	int fd;

	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	ASSERT_OK_MSG(mount_src("/dev/pmem0", self->mnt, MS_RDONLY, NULL), "/dev/pmem0");
	fd = open(P(self->mnt, "big"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ms = mmap(NULL, 4 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	mp = mmap(NULL, 4 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	mn = mmap(NULL, 4 * PAGE, PROT_READ, MAP_SHARED, fd, 8 * PAGE);
	ASSERT_NE(MAP_FAILED, ms);
	ASSERT_NE(MAP_FAILED, mp);
	ASSERT_NE(MAP_FAILED, mn);
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(0, touch(ms + i * PAGE, &c));
		ASSERT_EQ(0, touch(mp + i * PAGE, &c));
	}

	ASSERT_EQ(0, unbind(self, false));
	ASSERT_NE(0, access("/dev/pmem0", F_OK));
	if (notified) {
		for (int i = 0; i < 4; i++) {
			EXPECT_EQ(SIGBUS, touch(ms + i * PAGE, &c));
			EXPECT_EQ(SIGBUS, touch(mp + i * PAGE, &c));
		}
	} else {
		TH_LOG("kernel before 6.7: no notification, the mapped pages stay");
	}
	/* never mapped before: the fault is refused */
	EXPECT_EQ(SIGBUS, touch(mn, &c));
	EXPECT_ERRNO(ENXIO, SYS(pread(fd, buf, sizeof(buf), 0)));
	munmap(ms, 4 * PAGE);
	munmap(mp, 4 * PAGE);
	munmap(mn, 4 * PAGE);
	close(fd);
	EXPECT_EQ(0, umount_path(self->mnt, 0));
	ASSERT_EQ(0, unbind(self, true));
	ASSERT_EQ(0, access("/dev/pmem0", F_OK));
	/* the device works again */
	ASSERT_EQ(0, write_image(self->image, self->len, 0));
	ASSERT_OK_MSG(mount_src("/dev/pmem0", self->mnt, MS_RDONLY, NULL), "/dev/pmem0 again");
	EXPECT_EQ(0, umount_path(self->mnt, 0));
}

TEST_HARNESS_MAIN
