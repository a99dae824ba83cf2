// SPDX-License-Identifier: GPL-2.0
/*
 * driver-content: an image built by mkdaxfs from a generated tree, placed in
 * a buffer of each exporter, imported and mounted, reads back exactly the
 * tree: bytes and metadata, through mount(2) and through fsconfig; readdir
 * positions, statfs, /proc/mounts, EROFS for every write, sendfile/splice,
 * lseek.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "daxfs_harness.h"

FIXTURE(content) {
	char work[64];
	char src[128], img[128], mnt[128];
	struct dxmount m;
	struct daxfs_baseline base;
};

FIXTURE_VARIANT(content) {
	enum dxt_exporter kind;
};

DAXFS_EXPORTER_VARIANTS(content);

FIXTURE_SETUP(content)
{
	struct gen_opts o = { .big = true, .many = true, .special = true, .owners = true };

	dxm_init(&self->m);
	self->work[0] = 0;
	REQUIRE_EXPORTER(variant->kind);
	FIXTURE_WORKDIR_SETUP(self);
	/* one tree and image for all tests: they only read them */
	SHARED_IMAGE("content", &o, NULL, NULL, self->src, self->img);
}

/* in the parent, once the test's process is gone: paths and numbers only */
FIXTURE_TEARDOWN_PARENT(content)
{
	WORKDIR_TEARDOWN(self);
}

static long distinct_inodes;
static ino_t seen_ino[4096];

static int count_cb(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)p; (void)type; (void)ftw;
	for (long i = 0; i < distinct_inodes; i++)
		if (seen_ino[i] == st->st_ino)
			return 0;
	if (distinct_inodes < 4096)
		seen_ino[distinct_inodes++] = st->st_ino;
	return 0;
}

TEST_F_TIMEOUT(content, mount_compare, 120)
{
	struct daxfs_info info;
	char err[ERRLEN];
	long n = 0;
	int fds0 = count_fds();

	MOUNT_IMAGE();
	TH_LOG("import id %llu, image %llu bytes, buffer %llu bytes, exporter \"%s\"",
	       (unsigned long long)self->m.imp.id, (unsigned long long)self->m.imp.image_size,
	       (unsigned long long)self->m.imp.buffer_size, self->m.imp.exporter);
	EXPECT_LT(0, self->m.imp.id);
	EXPECT_EQ(dxt_file_size(self->img), (off_t)self->m.imp.image_size);
	EXPECT_EQ(self->m.buf.size, self->m.imp.buffer_size);
	EXPECT_STREQ(dxt_exporter_kname(variant->kind), self->m.imp.exporter);

	if (compare_trees(self->src, self->mnt, err, sizeof(err), &n))
		TH_LOG("%s", err);
	ASSERT_EQ(0, compare_trees(self->src, self->mnt, err, sizeof(err), &n));
	TH_LOG("%ld entries identical", n);

	/* hard links: one inode */
	{
		struct stat a, b, c;

		ASSERT_EQ(0, stat(P(self->mnt, "hard"), &a));
		ASSERT_EQ(0, stat(P(self->mnt, "sub/hard2"), &b));
		ASSERT_EQ(0, stat(P(self->mnt, "sub/deeper/hard3"), &c));
		EXPECT_EQ(a.st_ino, b.st_ino);
		EXPECT_EQ(a.st_ino, c.st_ino);
		EXPECT_EQ(3, a.st_nlink);
	}

	ASSERT_OK_MSG(dxt_info(self->m.dev, self->m.imp.id, &info), "INFO");
	distinct_inodes = 0;
	nftw(self->src, count_cb, 16, FTW_PHYS);
	EXPECT_EQ(distinct_inodes, info.inode_count);
	EXPECT_EQ(1, info.mounts);
	EXPECT_EQ(self->m.imp.image_size, info.image_size);
	EXPECT_EQ(self->m.imp.buffer_size, info.buffer_size);
	EXPECT_EQ(0, info.offset);
	EXPECT_STREQ(dxt_exporter_kname(variant->kind), info.exporter);
	for (size_t i = 0; i < sizeof(info.reserved1); i++)
		EXPECT_EQ(0, info.reserved1[i]);

	dxm_teardown(&self->m);
	EXPECT_EQ(fds0, count_fds());
}

TEST_F_TIMEOUT(content, fsconfig_compare, 120)
{
	struct dxt_buf b;
	char err[ERRLEN], src[256], ty[256], opts[256];
	long n = 0, bufs0 = dxt_dmabuf_count();
	int fds0 = count_fds();

	if (dxt_buf_alloc(variant->kind, dxt_file_size(self->img), &b, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_NE(-1, b.fd);
	ASSERT_EQ(0, dxt_buf_write_file(&b, self->img, 0));
	ASSERT_OK_MSG(mount_fd(b.fd, self->mnt, NULL), "fsopen/fsconfig(FSCONFIG_SET_FD)/fsmount");
	ASSERT_EQ(0, proc_mounts_find(self->mnt, src, ty, opts, sizeof(src)));
	TH_LOG("/proc/mounts: %s %s %s", src, ty, opts);
	EXPECT_STREQ("daxfs", ty);
	if (compare_trees(self->src, self->mnt, err, sizeof(err), &n))
		TH_LOG("%s", err);
	EXPECT_EQ(0, compare_trees(self->src, self->mnt, err, sizeof(err), &n));
	/* the mount holds its own reference: drop ours and read again */
	dxt_buf_free(&b);
	EXPECT_EQ(0, compare_trees(self->src, self->mnt, err, sizeof(err), &n));
	ASSERT_EQ(0, umount_path(self->mnt, 0));
	EXPECT_EQ(fds0, count_fds());
	if (bufs0 >= 0)
		EXPECT_EQ(bufs0, dxt_dmabuf_count());	/* the buffer went with the mount */
}

/* getdents64 with a buffer that holds one long entry at most */
static void getdents_check(struct __test_metadata *_metadata, const char *dir,
			   char (*names)[300], int n)
{
	char buf[280] __attribute__((aligned(8)));
	static long offs[400];
	int m = 0, calls = 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ASSERT_LE(0, fd);
	for (;;) {
		long k = syscall(SYS_getdents64, fd, buf, sizeof(buf));

		ASSERT_LE(0, k);
		if (k == 0)
			break;
		calls++;
		for (long o = 0; o < k;) {
			struct {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *de = (void *)(buf + o);

			ASSERT_LT(m, n);
			EXPECT_STREQ(names[m], de->name);
			offs[m++] = de->off;
			o += de->reclen;
		}
	}
	EXPECT_EQ(n, m);
	TH_LOG("getdents64 with a %zu-byte buffer: %d calls", sizeof(buf), calls);
	/* lseek to each d_off continues after that entry */
	for (int i = 0; i < m - 1; i += 13) {
		long k;

		ASSERT_EQ(offs[i], lseek(fd, offs[i], SEEK_SET));
		k = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		ASSERT_LT(0, k);
		EXPECT_STREQ(names[i + 1], buf + 19);
	}
	/* past the end: nothing, no error */
	ASSERT_EQ(offs[m - 1], lseek(fd, offs[m - 1], SEEK_SET));
	EXPECT_EQ(0, syscall(SYS_getdents64, fd, buf, sizeof(buf)));
	/* a buffer too small for one entry */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	EXPECT_ERRNO(EINVAL, SYS(syscall(SYS_getdents64, fd, buf, 8)));
	close(fd);
}

/* mount -o dmabuf=FD: the fd given as a string through mount(2) */
TEST_F_TIMEOUT(content, mount_option_fd, 120)
{
	struct dxt_buf b;
	char err[ERRLEN], opts[64];

	if (dxt_buf_alloc(variant->kind, dxt_file_size(self->img), &b, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_NE(-1, b.fd);
	ASSERT_EQ(0, dxt_buf_write_file(&b, self->img, 0));
	snprintf(opts, sizeof(opts), "dmabuf=%d", b.fd);
	ASSERT_OK_MSG(mount_src("none", self->mnt, MS_RDONLY, opts), opts);
	EXPECT_EQ(0, compare_trees(self->src, self->mnt, err, sizeof(err), NULL)) {
		TH_LOG("%s", err);
	}
	ASSERT_EQ(0, umount_path(self->mnt, 0));
	dxt_buf_free(&b);
}

TEST_F_TIMEOUT(content, readdir_positions, 120)
{
	char dir[PATH_MAX];
	static char names[400][300];
	long pos[400];
	int n = 0;
	struct dirent *e;
	DIR *d;

	MOUNT_IMAGE();
	snprintf(dir, sizeof(dir), "%s/many", self->mnt);
	d = opendir(dir);
	ASSERT_NE(NULL, d);
	for (;;) {
		long p = telldir(d);

		e = readdir(d);
		if (!e)
			break;
		ASSERT_LT(n, 400);
		pos[n] = p;
		snprintf(names[n++], sizeof(names[0]), "%s", e->d_name);
	}
	/* 300 files + . and .. */
	ASSERT_EQ(302, n);
	for (int i = 0; i < n; i++) {
		char sp[PATH_MAX];
		struct stat st;

		if (!strcmp(names[i], ".") || !strcmp(names[i], ".."))
			continue;
		snprintf(sp, sizeof(sp), "%.100s/many/%.255s", self->src, names[i]);
		EXPECT_EQ(0, lstat(sp, &st)) {
			TH_LOG("readdir gave \"%s\", not in the source", names[i]);
		}
		for (int j = 0; j < i; j++)
			ASSERT_NE(0, strcmp(names[i], names[j]));
	}
	/* seekdir to every remembered position, in a scrambled order */
	for (int k = 0; k < n; k++) {
		int i = (k * 101) % n;

		seekdir(d, pos[i]);
		e = readdir(d);
		ASSERT_NE(NULL, e);
		ASSERT_STREQ(names[i], e->d_name);
	}
	rewinddir(d);
	e = readdir(d);
	ASSERT_NE(NULL, e);
	EXPECT_STREQ(names[0], e->d_name);
	closedir(d);

	getdents_check(_metadata, dir, names, n);

	/* the empty directory: . and .. only */
	d = opendir(P(self->mnt, "emptydir"));
	ASSERT_NE(NULL, d);
	n = 0;
	while ((e = readdir(d)))
		n++;
	EXPECT_EQ(2, n);
	closedir(d);
}

TEST_F_TIMEOUT(content, statfs, 120)
{
	struct daxfs_info info;
	struct statfs s;
	struct statvfs v;

	MOUNT_IMAGE();
	ASSERT_EQ(0, statfs(self->mnt, &s));
	ASSERT_EQ(0, statvfs(self->mnt, &v));
	ASSERT_OK_MSG(dxt_info(self->m.dev, self->m.imp.id, &info), "INFO");
	TH_LOG("f_type 0x%lx bsize %ld blocks %lu bfree %lu files %lu ffree %lu namelen %ld",
	       (long)s.f_type, (long)s.f_bsize, s.f_blocks, s.f_bfree, s.f_files, s.f_ffree,
	       (long)s.f_namelen);
	EXPECT_EQ(DAXFS_FS_MAGIC, (unsigned long)s.f_type);
	EXPECT_LT(0, s.f_bsize);
	EXPECT_LE(self->m.imp.image_size, (uint64_t)s.f_blocks * s.f_bsize);
	EXPECT_GE(self->m.imp.buffer_size, (uint64_t)s.f_blocks * s.f_bsize);
	EXPECT_EQ(0, s.f_bfree);
	EXPECT_EQ(0, s.f_bavail);
	EXPECT_EQ(info.inode_count, s.f_files);
	EXPECT_EQ(0, s.f_ffree);
	EXPECT_EQ(255, s.f_namelen);
	EXPECT_TRUE(v.f_flag & ST_RDONLY);
}

TEST_F_TIMEOUT(content, proc_mounts, 120)
{
	char src[256], ty[256], opts[256], want[64];

	MOUNT_IMAGE();
	ASSERT_EQ(0, proc_mounts_find(self->mnt, src, ty, opts, sizeof(src)));
	TH_LOG("/proc/mounts: %s %s %s %s", src, self->mnt, ty, opts);
	EXPECT_STREQ("daxfs", ty);
	snprintf(want, sizeof(want), "dmabuf:%llu", (unsigned long long)self->m.imp.id);
	EXPECT_STREQ(want, src);
	EXPECT_EQ(0, strncmp(opts, "ro", 2));
	EXPECT_TRUE(opts[2] == ',' || opts[2] == 0);
	/*
	 * The exporter as an option that mounts again (exporter=<name>); no
	 * size= (that is a phys= range's size on input): statfs gives the
	 * image's.  driver-review mounts again with these options.
	 */
	snprintf(want, sizeof(want), ",exporter=%s,", dxt_exporter_kname(variant->kind));
	{
		char o2[300];

		snprintf(o2, sizeof(o2), ",%s,", opts);
		EXPECT_NE(NULL, strstr(o2, want)) {
			TH_LOG("options do not name the exporter (\"%s\")", want);
		}
		EXPECT_EQ(NULL, strstr(o2, ",size=")) {
			TH_LOG("size= shown for a dma-buf mount: %s", opts);
		}
	}
}

#define EROFS_OP(expr) EXPECT_ERRNO(EROFS, SYS(expr))

static void erofs_ops(struct __test_metadata *_metadata, const char *m)
{
	struct timespec ts[2] = { { 1, 0 }, { 1, 0 } };
	int fd;

	EROFS_OP(open(P(m, "small"), O_WRONLY | O_CLOEXEC));
	EROFS_OP(open(P(m, "small"), O_RDWR | O_CLOEXEC));
	EROFS_OP(open(P(m, "small"), O_RDONLY | O_TRUNC | O_CLOEXEC));
	EROFS_OP(open(P(m, "small"), O_WRONLY | O_APPEND | O_CLOEXEC));
	EROFS_OP(open(P(m, "new"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	EROFS_OP(open(P(m, "new"), O_RDONLY | O_CREAT | O_CLOEXEC, 0644));
	EROFS_OP(open(P(m, "new"), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
	EROFS_OP(open(m, O_RDWR | O_TMPFILE | O_CLOEXEC, 0644));
	EROFS_OP(mkdir(P(m, "newdir"), 0755));
	EROFS_OP(rmdir(P(m, "emptydir")));
	EROFS_OP(unlink(P(m, "small")));
	EROFS_OP(unlink(P(m, "sym-rel")));
	EROFS_OP(rename(P(m, "small"), P(m, "small2")));
	EROFS_OP(rename(P(m, "small"), P(m, "tiny")));
	EROFS_OP(rename(P(m, "sub"), P(m, "sub2")));
	EROFS_OP(chmod(P(m, "small"), 0777));
	EROFS_OP(chmod(m, 0700));
	EROFS_OP(chown(P(m, "small"), 1, 1));
	EROFS_OP(lchown(P(m, "sym-rel"), 1, 1));
	EROFS_OP(utimensat(AT_FDCWD, P(m, "small"), NULL, 0));
	EROFS_OP(utimensat(AT_FDCWD, P(m, "small"), ts, 0));
	EROFS_OP(truncate(P(m, "small"), 0));
	EROFS_OP(truncate(P(m, "small"), 1 << 20));
	EROFS_OP(link(P(m, "small"), P(m, "link2")));
	EROFS_OP(symlink("x", P(m, "sym2")));
	EROFS_OP(mknod(P(m, "fifo2"), S_IFIFO | 0644, 0));
	EROFS_OP(mkfifo(P(m, "fifo3"), 0644));
	EROFS_OP(setxattr(P(m, "small"), "user.test", "v", 1, 0));
	EROFS_OP(setxattr(P(m, "small"), "trusted.test", "v", 1, 0));
	EROFS_OP(removexattr(P(m, "small"), "user.test"));
	fd = open(P(m, "small"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EROFS_OP(fchmod(fd, 0777));
	EROFS_OP(fchown(fd, 1, 1));
	EROFS_OP(futimens(fd, NULL));
	EROFS_OP(fsetxattr(fd, "user.test", "v", 1, 0));
	close(fd);
	/* nothing changed */
	EXPECT_ERRNO(ENOENT, SYS(access(P(m, "new"), F_OK)));
	EXPECT_ERRNO(ENOENT, SYS(access(P(m, "newdir"), F_OK)));
}

TEST_F_TIMEOUT(content, erofs_everywhere, 120)
{
	MOUNT_IMAGE();
	erofs_ops(_metadata, self->mnt);
}

/* Asking for a read-write mount: refused with EROFS, or forced read-only. */
TEST_F_TIMEOUT(content, rw_mount_refused_or_forced_ro, 120)
{
	char m2[256];
	struct statvfs v;
	int r;

	MOUNT_IMAGE();
	snprintf(m2, sizeof(m2), "%s/rw", self->work);
	ASSERT_EQ(0, mkdir(m2, 0755));
	r = mount_id(self->m.imp.id, m2, 0, NULL);
	TH_LOG("mount without MS_RDONLY: %s", r ? strerrorname_np(-r) : "mounted");
	if (r) {
		EXPECT_EQ(-EROFS, r);
		return;
	}
	ASSERT_EQ(0, statvfs(m2, &v));
	EXPECT_TRUE(v.f_flag & ST_RDONLY);

	erofs_ops(_metadata, m2);
	/* remounting read-write is refused as well */
	EXPECT_NE(0, mount(NULL, m2, NULL, MS_REMOUNT, NULL));
	ASSERT_EQ(0, umount_path(m2, 0));
}

TEST_F_TIMEOUT(content, sendfile_splice, 120)
{
	char copy[256], err[ERRLEN];
	static char buf[1 << 16], want[1 << 16];
	int in, out, p[2];
	off_t size = dxt_file_size(P(self->src, "big")), done = 0, off;

	MOUNT_IMAGE();
	snprintf(copy, sizeof(copy), "%s/copy", self->work);
	in = open(P(self->mnt, "big"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, in);
	out = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_LE(0, out);
	while (done < size) {
		ssize_t k = sendfile(out, in, NULL, size - done);

		ASSERT_LT(0, k);
		done += k;
	}
	EXPECT_EQ(0, sendfile(out, in, NULL, 4096));	/* at EOF */
	close(out);
	if (compare_files(P(self->src, "big"), copy, err, sizeof(err)))
		TH_LOG("sendfile: %s", err);
	EXPECT_EQ(0, compare_files(P(self->src, "big"), copy, err, sizeof(err)));

	/* splice file -> pipe at unaligned offsets */
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	for (off = 4095; off < size; off += 300007) {
		off_t o = off;
		ssize_t k = splice(in, &o, p[1], NULL, 10000, 0);

		ASSERT_LT(0, k);
		EXPECT_EQ(off + k, o);
		ASSERT_EQ(k, read(p[0], buf, k));
		pattern(want, k, 14, off);
		EXPECT_EQ(0, memcmp(buf, want, k)) {
			TH_LOG("splice at %lld: wrong bytes", (long long)off);
		}
	}
	/*
	 * copy_file_range across file system types: EXDEV since 5.19 (the VFS
	 * fallback is for one fs type only); or a correct copy.
	 */
	out = open(copy, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ASSERT_LE(0, out);
	for (done = 0, off = 0; done < size;) {
		ssize_t k = copy_file_range(in, &off, out, NULL, size - done, 0);

		if (k < 0 && errno == EXDEV && done == 0)
			break;
		ASSERT_LT(0, k);
		done += k;
	}
	close(out);
	if (done)
		EXPECT_EQ(0, compare_files(P(self->src, "big"), copy, err, sizeof(err)));
	close(p[0]);
	close(p[1]);
	close(in);
}

TEST_F_TIMEOUT(content, lseek_pread, 120)
{
	char buf[8192], want[8192];
	int fd;

	MOUNT_IMAGE();
	fd = open(P(self->mnt, "odd"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(12345, lseek(fd, 0, SEEK_END));
	EXPECT_EQ(12300, lseek(fd, -45, SEEK_END));
	EXPECT_EQ(45, read(fd, buf, sizeof(buf)));
	pattern(want, 45, 6, 12300);
	EXPECT_EQ(0, memcmp(buf, want, 45));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, lseek(fd, 0, SEEK_DATA));
	EXPECT_EQ(100, lseek(fd, 100, SEEK_DATA));
	EXPECT_EQ(12344, lseek(fd, 12344, SEEK_DATA));
	EXPECT_ERRNO(ENXIO, SYS(lseek(fd, 12345, SEEK_DATA)));
	EXPECT_ERRNO(ENXIO, SYS(lseek(fd, 1 << 20, SEEK_DATA)));
	EXPECT_EQ(12345, lseek(fd, 0, SEEK_HOLE));
	EXPECT_EQ(12345, lseek(fd, 5000, SEEK_HOLE));
	EXPECT_ERRNO(EINVAL, SYS(lseek(fd, -1, SEEK_SET)));
	EXPECT_ERRNO(EINVAL, SYS(lseek(fd, -12346, SEEK_END)));
	/* pread across a page boundary, across EOF, past EOF */
	EXPECT_EQ(100, pread(fd, buf, 100, 4046));
	pattern(want, 100, 6, 4046);
	EXPECT_EQ(0, memcmp(buf, want, 100));
	EXPECT_EQ(45, pread(fd, buf, 4096, 12300));
	EXPECT_EQ(0, pread(fd, buf, 4096, 12345));
	EXPECT_EQ(0, pread(fd, buf, 4096, 1ll << 40));
	close(fd);

	fd = open(P(self->mnt, "empty"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, lseek(fd, 0, SEEK_END));
	EXPECT_ERRNO(ENXIO, SYS(lseek(fd, 0, SEEK_DATA)));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	close(fd);

	/* exactly one page */
	fd = open(P(self->mnt, "page"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(4096, read(fd, buf, sizeof(buf)));
	pattern(want, 4096, 3, 0);
	EXPECT_EQ(0, memcmp(buf, want, 4096));
	EXPECT_EQ(4096, lseek(fd, 0, SEEK_END));
	close(fd);
}

static void lookup_more(struct __test_metadata *_metadata, const char *m)
{
	char b[4096];
	/* special files are inert: a fifo opens for reading with O_NONBLOCK */
	int fd = open(P(m, "fifo"), O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	/* readlink of the longest target */
	EXPECT_EQ(4000, readlink(P(m, "sym-long"), b, sizeof(b)));
}

TEST_F_TIMEOUT(content, lookup_errors, 120)
{
	char longname[300];
	char t[8];
	struct stat st;

	MOUNT_IMAGE();
	EXPECT_ERRNO(ENOENT, SYS(stat(P(self->mnt, "nonexistent"), &st)));
	EXPECT_ERRNO(ENOENT, SYS(stat(P(self->mnt, "smal"), &st)));
	EXPECT_ERRNO(ENOENT, SYS(stat(P(self->mnt, "smalll"), &st)));
	EXPECT_ERRNO(ENOTDIR, SYS(stat(P(self->mnt, "small/x"), &st)));
	EXPECT_ERRNO(ENOENT, SYS(stat(P(self->mnt, "sym-dangling"), &st)));
	EXPECT_EQ(0, stat(P(self->mnt, "sym-dir/deepest/file"), &st));
	EXPECT_EQ(8192, st.st_size);
	EXPECT_ERRNO(EINVAL, SYS(readlink(P(self->mnt, "small"), t, sizeof(t))));
	memset(longname, 'L', 256);
	longname[256] = 0;
	EXPECT_ERRNO(ENAMETOOLONG, SYS(stat(P(self->mnt, longname), &st)));
	longname[255] = 0;
	EXPECT_EQ(0, stat(P(self->mnt, longname), &st));
	EXPECT_EQ(0, stat(P(self->mnt, "sub/deeper/.."), &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	lookup_more(_metadata, self->mnt);
}

/*
 * --align=2M: files of at least 2 MiB on a 2 MiB boundary, the small ones
 * packed after them (in the big file's last huge page); same content
 */
TEST_F_TIMEOUT(content, align_2m, 120)
{
	const char *opts[] = { "--align=2M", NULL };
	char src[160], img[160], mnt[160], err[ERRLEN];
	struct dxmount m2;
	int r;

	WORK_TREE(self, "2m", src, img, mnt);
	ASSERT_EQ(0, fill_file(P(src, "empty"), 0, 0, 0644));
	ASSERT_EQ(0, fill_file(P(src, "page"), 4096, 3, 0644));
	ASSERT_EQ(0, fill_file(P(src, "two-mib"), 2 << 20, 21, 0644));
	ASSERT_EQ(0, fill_file(P(src, "four-mib-plus"), (4 << 20) + 12345, 22, 0644));
	ASSERT_EQ(0, fill_file(P(src, "tail"), 100, 23, 0644));
	MKIMAGE(img, src, opts);
	dxm_init(&m2);
	r = dxm_setup(&m2, variant->kind, img, 0, mnt, err, sizeof(err));
	if (r)
		TH_LOG("%s", err);
	ASSERT_EQ(0, r);
	EXPECT_EQ(0, compare_trees(src, mnt, err, sizeof(err), NULL)) {
		TH_LOG("%s", err);
	}
	/* mapped, across the 2 MiB boundary of the big file */
	{
		static char want[16384];
		char *map;
		int fd = open(P(mnt, "four-mib-plus"), O_RDONLY | O_CLOEXEC);

		ASSERT_LE(0, fd);
		map = mmap(NULL, (4 << 20) + 12345, PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, map);
		pattern(want, 8192, 22, (2 << 20) - 4096);
		EXPECT_EQ(0, memcmp(map + (2 << 20) - 4096, want, 8192));
		pattern(want, 12345, 22, 4 << 20);
		EXPECT_EQ(0, memcmp(map + (4 << 20), want, 12345));
		munmap(map, (4 << 20) + 12345);
		close(fd);
	}
	dxm_teardown(&m2);
}

/* O_DIRECT: refused at open (EINVAL) or served correctly; fadvise and readahead harmless */
TEST_F_TIMEOUT(content, odirect_fadvise_readahead, 120)
{
	static char buf[65536] __attribute__((aligned(4096))), want[65536];
	int fd;

	MOUNT_IMAGE();
	fd = open(P(self->mnt, "big"), O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		TH_LOG("O_DIRECT open: %s", strerror(errno));
		EXPECT_EQ(EINVAL, errno);
	} else {
		ssize_t k = pread(fd, buf, sizeof(buf), 8192);

		TH_LOG("O_DIRECT read: %zd%s%s", k, k < 0 ? " " : "", k < 0 ? strerror(errno) : "");
		if (k > 0) {
			pattern(want, k, 14, 8192);
			EXPECT_EQ(0, memcmp(buf, want, k));
		} else {
			EXPECT_EQ(-1, k);
			EXPECT_EQ(EINVAL, errno);
		}
		close(fd);
	}
	fd = open(P(self->mnt, "big"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED));
	EXPECT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
	EXPECT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL));
	readahead(fd, 0, 1 << 20);	/* EINVAL or 0: either is fine, no crash */
	EXPECT_EQ((ssize_t)sizeof(buf), pread(fd, buf, sizeof(buf), 123457));
	pattern(want, sizeof(want), 14, 123457);
	EXPECT_EQ(0, memcmp(buf, want, sizeof(want)));
	close(fd);
}

TEST_HARNESS_MAIN
