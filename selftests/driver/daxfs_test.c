// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of the driver-* tests (see daxfs_test.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <xf86drm.h>

#include "daxfs_format.h"
#include "daxfs_test.h"

#define ERR(...) do { if (err) snprintf(err, len, __VA_ARGS__); } while (0)

/* ------------------------------------------------------------ exporters */

long module_refcnt(void)
{
	char b[32];

	return dxt_read_sysfs("/sys/module/daxfs/refcnt", b, sizeof(b)) ? -1 : atol(b);
}

/* ------------------------------------------------------------ /dev/daxfs */

int dxt_dev_open(void)
{
	int fd = open("/dev/" DAXFS_DEV_NAME, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int dxt_ioctl(int dev, unsigned long cmd, void *arg)
{
	return ioctl(dev, cmd, arg) ? -errno : 0;
}

int dxt_import(int dev, int fd, uint64_t off, struct daxfs_import *out)
{
	struct daxfs_import a = { 0 };
	int r;

	a.argsz = sizeof(a);
	a.fd = fd;
	a.offset = off;
	r = dxt_ioctl(dev, DAXFS_IOC_IMPORT, &a);
	if (out)
		*out = a;
	return r;
}

int dxt_release(int dev, uint64_t id)
{
	struct daxfs_release a = { .argsz = sizeof(a), .id = id };

	return dxt_ioctl(dev, DAXFS_IOC_RELEASE, &a);
}

int dxt_info(int dev, uint64_t id, struct daxfs_info *out)
{
	struct daxfs_info a;

	memset(&a, 0, sizeof(a));
	a.argsz = sizeof(a);
	a.id = id;
	int r = dxt_ioctl(dev, DAXFS_IOC_INFO, &a);

	if (out)
		*out = a;
	return r;
}

/* ------------------------------------------------------------ mounting */

int mount_src(const char *src, const char *target, unsigned long flags, const char *opts)
{
	return mount(src, target, "daxfs", flags, opts) ? -errno : 0;
}

int mount_id(uint64_t id, const char *target, unsigned long flags, const char *opts)
{
	char src[64];

	snprintf(src, sizeof(src), "dmabuf:%llu", (unsigned long long)id);
	return mount_src(src, target, flags, opts);
}

int sys_fsopen(const char *fs, unsigned int flags)
{
	return syscall(__NR_fsopen, fs, flags);
}

int sys_fsconfig(int fd, unsigned int cmd, const char *key, const void *val, int aux)
{
	return syscall(__NR_fsconfig, fd, cmd, key, val, aux);
}

int sys_fsmount(int fd, unsigned int flags, unsigned int attr)
{
	return syscall(__NR_fsmount, fd, flags, attr);
}

int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to, unsigned int flags)
{
	return syscall(__NR_move_mount, from_dfd, from, to_dfd, to, flags);
}

int mount_fd(int dmabuf_fd, const char *target, const char *const *extra)
{
	int fs, mfd = -1, r = 0;

	fs = sys_fsopen("daxfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	if (sys_fsconfig(fs, FSCONFIG_SET_FD, "dmabuf", NULL, dmabuf_fd)) {
		r = -errno;
		goto out;
	}
	for (; extra && *extra; extra++) {
		char key[256], *eq;

		snprintf(key, sizeof(key), "%s", *extra);
		eq = strchr(key, '=');
		if (eq)
			*eq++ = 0;
		if (sys_fsconfig(fs, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, eq, 0)) {
			r = -errno;
			goto out;
		}
	}
	if (sys_fsconfig(fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) ||
	    sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) {
		r = -errno;
		goto out;
	}
	mfd = sys_fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
	if (mfd < 0) {
		r = -errno;
		goto out;
	}
	if (sys_move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH))
		r = -errno;
out:
	if (r) {	/* the fs context's log says why */
		char msg[512];
		ssize_t k;

		while ((k = read(fs, msg, sizeof(msg) - 1)) > 0) {
			msg[k] = 0;
			fprintf(stderr, "# fscontext: %s\n", msg);
		}
	}
	if (mfd >= 0)
		close(mfd);
	close(fs);
	return r;
}

int umount_all_under(const char *prefix)
{
	size_t pl = strlen(prefix);
	int n = 0;

	/* innermost (last mounted) first; repeat while something went */
	for (int pass = 0; pass < 64; pass++) {
		FILE *f = fopen("/proc/self/mounts", "re");
		char line[4096], s[1024], t[1024], last[1024] = "";

		if (!f)
			return -errno;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%1023s %1023s", s, t) == 2 &&
			    !strncmp(t, prefix, pl) && (t[pl] == '/' || !t[pl]))
				snprintf(last, sizeof(last), "%s", t);
		fclose(f);
		if (!last[0] || umount2(last, MNT_DETACH))
			break;
		n++;
	}
	return n;
}

int umount_path(const char *target, int flags)
{
	return umount2(target, flags) ? -errno : 0;
}

int proc_mounts_find(const char *target, char *src, char *fstype, char *opts, size_t len)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char line[4096], s[1024], t[1024], ty[256], o[2048];
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%1023s %1023s %255s %2047s", s, t, ty, o) != 4)
			continue;
		if (strcmp(t, target))
			continue;
		/* the last matching line is the visible mount */
		if (src)
			snprintf(src, len, "%s", s);
		if (fstype)
			snprintf(fstype, len, "%s", ty);
		if (opts)
			snprintf(opts, len, "%s", o);
		r = 0;
	}
	fclose(f);
	return r;
}

/* ------------------------------------------------------------ images */




static uint32_t crc_table[256];

uint32_t crc32c(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;

	if (!crc_table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
			crc_table[i] = c;
		}
	}
	while (n--)
		crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return crc;
}

int image_fix_crc(void *img, size_t len)
{
	struct daxfs_super sb;
	uint64_t ioff, nend;
	uint32_t c;

	if (len < sizeof(sb))
		return -EINVAL;
	memcpy(&sb, img, sizeof(sb));
	ioff = le64toh(sb.inode_off);
	nend = le64toh(sb.names_off) + le64toh(sb.names_size);
	if (ioff > nend || nend > len)
		return -EINVAL;
	sb.crc32c = 0;
	c = crc32c(0xFFFFFFFFu, &sb, sizeof(sb));
	c = crc32c(c, (char *)img + ioff, nend - ioff);
	((struct daxfs_super *)img)->crc32c = htole32(c ^ 0xFFFFFFFFu);
	return 0;
}

static int get_inode(const uint8_t *img, size_t len, uint32_t ino, struct daxfs_inode *out)
{
	const struct daxfs_super *sb = (const void *)img;
	uint64_t off = le64toh(sb->inode_off) + (uint64_t)(ino - 1) * DAXFS_INODE_SIZE;

	if (ino < 1 || ino > le32toh(sb->inode_count) || off + DAXFS_INODE_SIZE > len)
		return -EINVAL;
	memcpy(out, img + off, sizeof(*out));
	return 0;
}

int image_lookup(const void *image, size_t len, const char *path, uint32_t *ino_out,
		 struct daxfs_inode *out)
{
	const uint8_t *img = image;
	const struct daxfs_super *sb = image;
	struct daxfs_inode in;
	uint32_t ino = DAXFS_ROOT_INO;
	const char *p = path;

	if (len < DAXFS_SUPER_SIZE || le32toh(sb->magic) != DAXFS_IMAGE_MAGIC)
		return -EINVAL;
	if (get_inode(img, len, ino, &in))
		return -EINVAL;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t nl = slash ? (size_t)(slash - p) : strlen(p);
		bool found = false;

		if ((le16toh(in.mode) & DAXFS_S_IFMT) != DAXFS_S_IFDIR)
			return -ENOTDIR;
		for (uint64_t i = 0; i < le64toh(in.size); i++) {
			struct daxfs_dirent d;
			uint64_t doff = le64toh(sb->dirent_off) +
					(le64toh(in.offset) + i) * DAXFS_DIRENT_SIZE;

			if (doff + sizeof(d) > len)
				return -EINVAL;
			memcpy(&d, img + doff, sizeof(d));
			if (le16toh(d.name_len) != nl ||
			    le64toh(sb->names_off) + le32toh(d.name_off) + nl > len)
				continue;
			if (!memcmp(img + le64toh(sb->names_off) + le32toh(d.name_off), p, nl)) {
				ino = le32toh(d.ino);
				if (get_inode(img, len, ino, &in))
					return -EINVAL;
				found = true;
				break;
			}
		}
		if (!found)
			return -ENOENT;
		p += nl;
		while (*p == '/')
			p++;
	}
	if (ino_out)
		*ino_out = ino;
	if (out)
		*out = in;
	return 0;
}

/* ------------------------------------------------------------ trees */

void pattern(void *p, size_t n, unsigned int seed, uint64_t off)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		uint64_t pos = off + i, x = (pos >> 3) * 0x9E3779B97F4A7C15ull ^
				((uint64_t)seed + 1) * 0xBF58476D1CE4E5B9ull;

		x ^= x >> 29;
		x *= 0x94D049BB133111EBull;
		x ^= x >> 32;
		b[i] = (uint8_t)(x >> ((pos & 7) * 8));
	}
}

int fill_file(const char *path, size_t size, unsigned int seed, mode_t mode)
{
	static char buf[1 << 16];
	size_t done = 0;
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (done < size) {
		size_t n = size - done < sizeof(buf) ? size - done : sizeof(buf);

		pattern(buf, n, seed, done);
		if (write(fd, buf, n) != (ssize_t)n) {
			r = -EIO;
			break;
		}
		done += n;
	}
	return dxt_close_file(fd, mode, r);
}





/*
 * Trees and images shared by the tests of one program (see shared_image()):
 * under /tmp/daxfs-shared.PID, PID being the harness's main process, which
 * removes the directory when it exits (its test processes end in _exit()).
 */
static pid_t shared_owner;

__attribute__((constructor)) static void shared_init(void)
{
	shared_owner = getpid();
}

static void shared_root(char *out, size_t len)
{
	snprintf(out, len, "/tmp/daxfs-shared.%d", (int)shared_owner);
}

__attribute__((destructor)) static void shared_fini(void)
{
	char root[64];

	if (getpid() != shared_owner)
		return;
	shared_root(root, sizeof(root));
	if (!access(root, F_OK))
		dxt_rm_rf(root);
}

int shared_image(const char *name, const struct gen_opts *o, tree_add_fn add,
		 const char *const *mkopts, char *src, char *img, size_t plen,
		 char *err, size_t len)
{
	char root[64], dir[PATH_MAX], tmp[PATH_MAX / 2], p[PATH_MAX], q[PATH_MAX];

	shared_root(root, sizeof(root));
	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	if ((size_t)snprintf(src, plen, "%s/src", dir) >= plen ||
	    (size_t)snprintf(img, plen, "%s/img", dir) >= plen) {
		ERR("shared_image: %s: path too long for the caller's buffer", dir);
		return -1;
	}
	if (!access(dir, F_OK))
		return 0;
	if (mkdir(root, 0755) && errno != EEXIST) {
		ERR("mkdir %s: %s", root, strerror(errno));
		return -1;
	}
	/* built aside and renamed: a test killed half-way leaves no half tree */
	snprintf(tmp, sizeof(tmp), "%s/.%s.%d", root, name, (int)getpid());
	dxt_rm_rf(tmp);
	if (mkdir(tmp, 0755)) {
		ERR("mkdir %s: %s", tmp, strerror(errno));
		return -1;
	}
	snprintf(p, sizeof(p), "%s/src", tmp);
	if (!o && mkdir(p, 0755)) {
		ERR("mkdir %s: %s", p, strerror(errno));
		return -1;
	}
	if ((o && gen_tree(p, o, err, len)) || (add && add(p, err, len)))
		return -1;
	snprintf(q, sizeof(q), "%s/img", tmp);
	if (dxt_mkimage(q, p, mkopts, err, len))
		return -1;
	if (rename(tmp, dir)) {
		ERR("rename %s %s: %s", tmp, dir, strerror(errno));
		return -1;
	}
	return 0;
}

static unsigned int mt_counter;

static int set_times_cb(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	struct timespec ts[2];
	unsigned int i = ++mt_counter;

	(void)st; (void)type; (void)ftw;
	ts[0].tv_sec = 1500000000 + i * 7919;
	ts[0].tv_nsec = 0;
	ts[1].tv_sec = 1600000000 + (long)i * 104729;
	ts[1].tv_nsec = (i * 123456789u) % 1000000000u;
	if (strstr(p, "/old"))
		ts[1].tv_sec = -31536000;	/* 1969 */
	return utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW) ? -1 : 0;
}

#define P(...) (snprintf(path, sizeof(path), "%s/%s", dir, __VA_ARGS__), path)
#define TRY(x) do { if ((x) < 0) { ERR("gen_tree: %s: %s", #x, strerror(errno)); return -1; } } while (0)
#define TRYR(x) do { int _r = (x); if (_r < 0) { \
	ERR("gen_tree: %s: %s", #x, strerror(-_r)); return -1; } } while (0)

int fill_files(const char *dir, const struct tree_file *f, size_t n, char *err, size_t len)
{
	char path[PATH_MAX];
	int r;

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, f[i].name);
		r = fill_file(path, f[i].size, f[i].seed, f[i].mode);
		if (r) {
			ERR("%s: %s", path, strerror(-r));
			return -1;
		}
	}
	return 0;
}

/* gen_tree's plain files: sizes around pages, every mode bit, odd names. */
static const struct tree_file files[] = {
	{ "empty", 0, 0, 0644 }, { "tiny", 1, 1, 0644 }, { "small", 100, 2, 0600 },
	{ "page", 4096, 3, 0644 }, { "page-plus-1", 4097, 4, 0444 },
	{ "three-pages-and-100", 3 * 4096 + 100, 5, 0644 }, { "odd", 12345, 6, 0640 },
	{ "exec.sh", 0, 0, 0755 }, { "suid", 10, 7, 04755 }, { "sgid", 10, 8, 02711 },
	{ "mode000", 10, 9, 0 }, { "old", 10, 10, 0644 }, { "sp ace", 5, 12, 0644 },
	{ "\xc3\xbc" "n\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9", 5, 13, 0644 },
};

int gen_tree(const char *dir, const struct gen_opts *o, char *err, size_t len)
{
	char path[PATH_MAX], p2[PATH_MAX], name[300];
	mode_t old = umask(0);
	int i;

	umask(old);
	mkdir(dir, 0755);
	TRY(chmod(dir, 0755));
	if (fill_files(dir, files, sizeof(files) / sizeof(files[0]), err, len))
		return -1;
	memset(name, 'L', 255);
	name[255] = 0;
	TRYR(fill_file(P(name), 5, 11, 0644));
	if (o->big)
		TRYR(fill_file(P("big"), (1 << 20) + 3 * 4096 + 77, 14, 0644));
	TRY(mkdir(P("sub"), 0750));
	TRY(mkdir(P("sub/deeper"), 0755));
	TRY(mkdir(P("sub/deeper/deepest"), 0700));
	TRYR(fill_file(P("sub/deeper/deepest/file"), 8192, 15, 0644));
	TRY(mkdir(P("emptydir"), 01777));
	TRY(chmod(P("emptydir"), 01777));
	TRYR(fill_file(P("hard"), 5000, 16, 0644));
	snprintf(p2, sizeof(p2), "%s/hard", dir);
	TRY(link(p2, P("sub/hard2")));
	TRY(link(p2, P("sub/deeper/hard3")));
	TRY(symlink("small", P("sym-rel")));
	TRY(symlink("sub/deeper", P("sym-dir")));
	TRY(symlink("/etc/hostname", P("sym-abs")));
	TRY(symlink("does/not/exist", P("sym-dangling")));
	{
		char t[4001];

		for (i = 0; i < 4000; i++)
			t[i] = i % 2 ? '/' : 'a' + (i / 2) % 26;
		t[3999] = 'z';
		t[4000] = 0;
		TRY(symlink(t, P("sym-long")));
	}
	if (o->special) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int s;

		TRY(mkfifo(P("fifo"), 0640));
		TRY(mknod(P("chr"), S_IFCHR | 0666, makedev(1, 3)));
		TRY(mknod(P("blk"), S_IFBLK | 0660, makedev(7, 0)));
		TRY(mknod(P("chr-big"), S_IFCHR | 0600, makedev(511, 1048575)));
		if (strlen(P("sock")) >= sizeof(sa.sun_path)) {
			ERR("socket path %s too long", path);
			return -1;
		}
		memcpy(sa.sun_path, path, strlen(path) + 1);
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		TRY(s);
		if (bind(s, (struct sockaddr *)&sa, sizeof(sa))) {
			ERR("bind %s: %s", sa.sun_path, strerror(errno));
			close(s);
			return -1;
		}
		close(s);
		TRY(chmod(P("sock"), 0755));
	}
	if (o->many) {
		TRY(mkdir(P("many"), 0755));
		for (i = 0; i < 300; i++) {
			char n[300];
			int l = 6 + (i * 37) % 120;

			snprintf(n, sizeof(n), "many/e%04d-", i);
			for (int k = strlen(n); k < l + 6; k++)
				n[k] = 'a' + (i + k) % 26;
			n[l + 6] = 0;
			TRYR(fill_file(P(n), i % 7 == 0 ? 0 : i, 100 + i, 0644));
		}
	}
	if (o->owners) {
		TRY(chown(P("small"), 1234, 5678));
		TRY(chown(P("sub"), 4321, 8765));
		TRY(lchown(P("sym-rel"), 1000, 1001));
		TRY(chown(P("hard"), 65534, 65534));
		if (o->special)
			TRY(chown(P("chr"), 7, 8));
		/* chown clears set-id bits: put them back */
		TRY(chown(P("suid"), 1, 2));
		TRY(chmod(P("suid"), 04755));
	}
	mt_counter = 0;
	if (nftw(dir, set_times_cb, 32, FTW_DEPTH | FTW_PHYS)) {
		ERR("gen_tree: setting times: %s", strerror(errno));
		return -1;
	}
	return 0;
}

struct inomap {
	ino_t a, b;
};

struct cmpctx {
	char *err;
	size_t len;
	long n;
	struct inomap *map;
	size_t nmap, cap;
};

static int cmp_fail(struct cmpctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (c->err)
		vsnprintf(c->err, c->len, fmt, ap);
	va_end(ap);
	return -1;
}

static int cmp_content(struct cmpctx *c, const char *a, const char *b, off_t size)
{
	static char ba[1 << 16], bb[1 << 16];
	int fa, fb, r = 0;
	off_t pos = 0;

	fa = open(a, O_RDONLY | O_CLOEXEC);
	fb = open(b, O_RDONLY | O_CLOEXEC);
	if (fa < 0 || fb < 0) {
		r = cmp_fail(c, "open %s: %s", fa < 0 ? a : b, strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t ka = read(fa, ba, sizeof(ba));
		ssize_t kb = read(fb, bb, sizeof(bb));

		if (ka < 0 || kb < 0) {
			r = cmp_fail(c, "read %s at %lld: %s", ka < 0 ? a : b, (long long)pos,
				     strerror(errno));
			break;
		}
		if (ka != kb) {
			r = cmp_fail(c, "%s: read at %lld gave %zd bytes, source %zd", b,
				     (long long)pos, kb, ka);
			break;
		}
		if (ka == 0)
			break;
		if (memcmp(ba, bb, ka)) {
			ssize_t i = 0;

			while (ba[i] == bb[i])
				i++;
			r = cmp_fail(c, "%s: byte %lld differs: 0x%02x, source 0x%02x", b,
				     (long long)(pos + i), (uint8_t)bb[i], (uint8_t)ba[i]);
			break;
		}
		pos += ka;
	}
	if (!r && pos != size)
		r = cmp_fail(c, "%s: read %lld bytes, size %lld", b, (long long)pos,
			     (long long)size);
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return r;
}

static int cmp_entry(struct cmpctx *c, const char *a, const char *b, bool root);

static int cmp_dir(struct cmpctx *c, const char *a, const char *b)
{
	DIR *da = opendir(a), *db = opendir(b);
	struct dirent *e;
	long na = 0, nb = 0;
	int r = 0;

	if (!da || !db) {
		r = cmp_fail(c, "opendir %s: %s", da ? b : a, strerror(errno));
		goto out;
	}
	while (!r && (e = readdir(da))) {
		char pa[PATH_MAX], pb[PATH_MAX];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		na++;
		snprintf(pa, sizeof(pa), "%s/%s", a, e->d_name);
		snprintf(pb, sizeof(pb), "%s/%s", b, e->d_name);
		r = cmp_entry(c, pa, pb, false);
	}
	if (r)
		goto out;
	errno = 0;
	while ((e = readdir(db))) {
		struct stat st;
		char pb[PATH_MAX];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		nb++;
		snprintf(pb, sizeof(pb), "%s/%s", b, e->d_name);
		if (fstatat(dirfd(db), e->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
			r = cmp_fail(c, "readdir gave %s but lstat fails: %s", pb, strerror(errno));
			goto out;
		}
		if (e->d_ino != st.st_ino) {
			r = cmp_fail(c, "%s: d_ino %llu != st_ino %llu", pb,
				     (unsigned long long)e->d_ino, (unsigned long long)st.st_ino);
			goto out;
		}
		if (e->d_type != DT_UNKNOWN && e->d_type != IFTODT(st.st_mode)) {
			r = cmp_fail(c, "%s: d_type %u, mode 0%o", pb, e->d_type, st.st_mode);
			goto out;
		}
	}
	if (errno) {
		r = cmp_fail(c, "readdir %s: %s", b, strerror(errno));
		goto out;
	}
	if (na != nb)
		r = cmp_fail(c, "%s: %ld entries, source %ld", b, nb, na);
out:
	if (da)
		closedir(da);
	if (db)
		closedir(db);
	return r;
}

static int cmp_entry(struct cmpctx *c, const char *a, const char *b, bool root)
{
	struct stat sa, sb;

	c->n++;
	if (lstat(a, &sa))
		return cmp_fail(c, "lstat %s: %s", a, strerror(errno));
	if (lstat(b, &sb))
		return cmp_fail(c, "lstat %s: %s", b, strerror(errno));
#define F(f, fmt) if (sa.f != sb.f) \
	return cmp_fail(c, "%s: " #f " " fmt ", source " fmt, b, sb.f, sa.f)
	F(st_mode, "0%o");
	F(st_uid, "%u");
	F(st_gid, "%u");
	F(st_nlink, "%lu");
	F(st_mtim.tv_sec, "%ld");
	F(st_mtim.tv_nsec, "%ld");
	if (!S_ISDIR(sa.st_mode))
		F(st_size, "%ld");
	if (S_ISCHR(sa.st_mode) || S_ISBLK(sa.st_mode)) {
		F(st_rdev, "0x%lx");
	} else if (sb.st_rdev)
		return cmp_fail(c, "%s: st_rdev 0x%lx on a non-device", b, sb.st_rdev);
#undef F
	if (!S_ISDIR(sa.st_mode) && sa.st_nlink > 1) {
		size_t i;

		for (i = 0; i < c->nmap; i++) {
			if (c->map[i].a == sa.st_ino && c->map[i].b != sb.st_ino)
				return cmp_fail(c, "%s: hard link has inode %lu, another link %lu",
						b, sb.st_ino, c->map[i].b);
			if (c->map[i].b == sb.st_ino && c->map[i].a != sa.st_ino)
				return cmp_fail(c, "%s: inode %lu shared by unrelated files", b,
						sb.st_ino);
			if (c->map[i].a == sa.st_ino)
				break;
		}
		if (i == c->nmap) {
			if (c->nmap == c->cap) {
				c->cap = c->cap ? 2 * c->cap : 64;
				c->map = realloc(c->map, c->cap * sizeof(*c->map));
				if (!c->map)
					return cmp_fail(c, "out of memory");
			}
			c->map[c->nmap].a = sa.st_ino;
			c->map[c->nmap++].b = sb.st_ino;
		}
	}
	if (S_ISLNK(sa.st_mode)) {
		char ta[PATH_MAX + 1], tb[PATH_MAX + 1];
		ssize_t la = readlink(a, ta, sizeof(ta) - 1), lb = readlink(b, tb, sizeof(tb) - 1);

		if (lb < 0)
			return cmp_fail(c, "readlink %s: %s", b, strerror(errno));
		if (la != lb || memcmp(ta, tb, la))
			return cmp_fail(c, "%s: symlink target differs (%zd/%zd bytes)", b, lb, la);
	} else if (S_ISREG(sa.st_mode)) {
		return cmp_content(c, a, b, sa.st_size);
	} else if (S_ISDIR(sa.st_mode)) {
		(void)root;
		return cmp_dir(c, a, b);
	}
	return 0;
}

int compare_files(const char *a, const char *b, char *err, size_t len)
{
	struct cmpctx c = { .err = err, .len = len };
	struct stat st;

	if (stat(a, &st))
		return cmp_fail(&c, "stat %s: %s", a, strerror(errno));
	return cmp_content(&c, a, b, st.st_size);
}

int compare_trees(const char *src, const char *mnt, char *err, size_t len, long *n)
{
	struct cmpctx c = { .err = err, .len = len };
	int r = cmp_entry(&c, src, mnt, true);

	free(c.map);
	if (n)
		*n = c.n;
	return r;
}

/* ------------------------------------------------------------ probes */

int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the DIR's own fd */
}

uint64_t pagemap_pfn(const void *addr)
{
	uint64_t e = 0;
	int fd;

	(void)*(volatile const char *)addr;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), ((uintptr_t)addr / PAGE) * 8) != sizeof(e))
		e = 0;
	close(fd);
	if (!(e & (1ull << 63)))
		return 0;
	return e & ((1ull << 55) - 1);
}


int wait_for_path(const char *path, int secs)
{
	for (int i = 0; i < secs * 10; i++) {
		if (!access(path, F_OK))
			return 0;
		usleep(100000);
	}
	return -ENOENT;
}

int drop_caches(void)
{
	sync();
	return dxt_write_sysfs("/proc/sys/vm/drop_caches", "3");
}

int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	lseek(fd, 0, SEEK_END);
	return fd;
}

bool kmsg_find(int fd, const char *const *needles, char *line, size_t len)
{
	char rec[8192];
	ssize_t k;

	for (;;) {
		const char *const *n;
		char *msg;

		k = read(fd, rec, sizeof(rec) - 1);
		if (k < 0 && errno == EPIPE)
			continue;	/* overwritten records */
		if (k <= 0)
			return false;
		rec[k] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		for (n = needles; *n; n++)
			if (!strcasestr(msg, *n))
				break;
		if (!*n) {
			if (line)
				snprintf(line, len, "%s", msg);
			return true;
		}
	}
}



/* ------------------------------------------------------------ dxmount */

void dxm_init(struct dxmount *m)
{
	memset(m, 0, sizeof(*m));
	dxt_buf_init(&m->buf);
	m->dev = -1;
}

int dxm_setup(struct dxmount *m, enum dxt_exporter kind, const char *img, size_t extra,
	      const char *mnt, char *err, size_t len)
{
	off_t sz = dxt_file_size(img);
	char e2[ERRLEN];
	int r;

	if (sz < 0) {
		ERR("image %s: %s", img, strerror(-sz));
		return sz;
	}
	r = dxt_buf_alloc(kind, dxt_round_up_page(sz) + extra, &m->buf, e2, sizeof(e2));
	if (r) {
		ERR("allocating a %s buffer: %s", dxt_exporter_name(kind), e2);
		return r;
	}
	r = dxt_buf_write_file(&m->buf, img, 0);
	if (r) {
		ERR("copying %s into the buffer: %s", img, strerror(-r));
		return r;
	}
	m->dev = dxt_dev_open();
	if (m->dev < 0) {
		r = m->dev;
		ERR("open /dev/daxfs: %s (module not loaded?)", strerror(-r));
		return r;
	}
	r = dxt_import(m->dev, m->buf.fd, 0, &m->imp);
	if (r) {
		ERR("DAXFS_IOC_IMPORT: %s", strerror(-r));
		return r;
	}
	m->imported = true;
	if (!mnt)
		return 0;
	snprintf(m->mnt, sizeof(m->mnt), "%s", mnt);
	mkdir(mnt, 0755);
	r = mount_id(m->imp.id, mnt, MS_RDONLY, NULL);
	if (r) {
		ERR("mount dmabuf:%llu on %s: %s", (unsigned long long)m->imp.id, mnt,
		    strerror(-r));
		return r;
	}
	m->mounted = true;
	return 0;
}

void dxm_teardown(struct dxmount *m)
{
	if (m->mounted && umount2(m->mnt, 0))
		umount2(m->mnt, MNT_DETACH);
	m->mounted = false;
	if (m->imported && m->dev >= 0)
		dxt_release(m->dev, m->imp.id);
	m->imported = false;
	if (m->dev >= 0)
		close(m->dev);
	m->dev = -1;
	dxt_buf_free(&m->buf);
}

/* ------------------------------------------------------------ small helpers */

#undef P	/* gen_tree's own, above */
char *P(const char *dir, const char *name)
{
	static char buf[8][PATH_MAX];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], PATH_MAX, "%s/%s", dir, name);
	return buf[i];
}

static sigjmp_buf touch_jb;

void touch_signal(int sig)
{
	siglongjmp(touch_jb, sig);
}

int touch(const volatile char *p, char *out)
{
	int sig = sigsetjmp(touch_jb, 1);

	if (sig)
		return sig;
	*out = *p;
	return 0;
}


int dxt_kernel_version(void)
{
	struct utsname u;
	int maj = 0, min = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &maj, &min) != 2)
		return 0;
	return maj * 100 + min;
}

bool dxt_iomem_has(const char *name, uint64_t addr, uint64_t size, bool nested)
{
	FILE *f = fopen("/proc/iomem", "re");
	char line[256];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		char n[128];
		const char *p = line;

		while (*p == ' ')
			p++;
		if ((p != line) != nested)
			continue;
		if (sscanf(p, "%llx-%llx : %127[^\n]", &s, &e, n) != 3)
			continue;
		if (s == addr && e + 1 == addr + size && !strcmp(n, name))
			found = true;
	}
	fclose(f);
	return found;
}

/* ------------------------------------------------------------ exports */

int dxt_export(int fd, uint64_t off, uint64_t len, struct daxfs_export *out)
{
	struct daxfs_export e = { .argsz = sizeof(e), .offset = off, .length = len };

	if (ioctl(fd, DAXFS_IOC_EXPORT_DMABUF, &e) < 0)
		return -errno;
	if (out)
		*out = e;
	return e.fd;
}

int pagemap_pfns(const void *addr, size_t npages, uint64_t *out)
{
	uint64_t *e = calloc(npages ? npages : 1, sizeof(*e));
	size_t want = npages * sizeof(*e);
	int fd, r = 0;

	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < npages; i++)
		(void)*((volatile const char *)addr + i * PAGE);
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
	} else {
		if (pread(fd, e, want, ((uintptr_t)addr / PAGE) * 8) != (ssize_t)want)
			r = -EIO;
		close(fd);
	}
	for (size_t i = 0; !r && i < npages; i++)
		out[i] = (e[i] & (1ull << 63)) ? e[i] & ((1ull << 55) - 1) : 0;
	free(e);
	return r;
}

long long meta_bytes(void)
{
	char b[32];

	return dxt_read_sysfs("/sys/module/daxfs/parameters/meta_bytes", b, sizeof(b)) ?
	       -1 : atoll(b);
}

int fdinfo_field(int fd, const char *key, char *val, size_t len)
{
	char path[64], buf[4096], *p;
	size_t kl = strlen(key);
	int r;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	r = dxt_read_file(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, kl) || p[kl] != ':')
			continue;
		p += kl + 1;
		p += strspn(p, " \t");
		snprintf(val, len, "%.*s", (int)strcspn(p, "\n"), p);
		return 0;
	}
	return -ENOENT;
}
