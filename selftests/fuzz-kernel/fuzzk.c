// SPDX-License-Identifier: GPL-2.0
/*
 * Shared code of the fuzz-kernel-* VM tests (see fuzzk.h).
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fuzzk.h"

/* ------------------------------------------------------------ PRNG */

uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

bool rng_chance(struct rng *r, unsigned int percent)
{
	return rng_below(r, 100) < percent;
}

uint64_t mix_seed(uint64_t seed, uint64_t i)
{
	struct rng r = { seed ^ (i * 0xd1b54a32d192ed03ull) };

	return rng_next(&r);
}

static void usage(const char *prog, const struct fuzzk_opt *o)
{
	fprintf(stderr, "usage: %s", prog);
	for (; o->name; o++)
		fprintf(stderr, o->type == FUZZK_FLAG ? " [--%s]" : " [--%s V]", o->name);
	fprintf(stderr, "\n");
}

int fuzzk_options(int argc, char **argv, const struct fuzzk_opt *opts)
{
	for (int i = 1; i < argc; i++) {
		const struct fuzzk_opt *o = opts;
		const char *a = argv[i], *v = NULL;
		size_t nl;

		if (strncmp(a, "--", 2))
			goto bad;
		a += 2;
		nl = strcspn(a, "=");
		while (o->name && (strlen(o->name) != nl || strncmp(o->name, a, nl)))
			o++;
		if (!o->name)
			goto bad;
		if (o->type != FUZZK_FLAG) {
			v = a[nl] == '=' ? a + nl + 1 : ++i < argc ? argv[i] : NULL;
			if (!v)
				goto bad;
		}
		switch (o->type) {
		case FUZZK_FLAG: *(bool *)o->dst = true; break;
		case FUZZK_LONG: *(long *)o->dst = atol(v); break;
		case FUZZK_ULL: *(unsigned long long *)o->dst = strtoull(v, NULL, 0); break;
		case FUZZK_DOUBLE: *(double *)o->dst = atof(v); break;
		case FUZZK_PATH: snprintf(o->dst, PATH_MAX, "%s", v); break;
		}
	}
	return 0;
bad:
	usage(argv[0], opts);
	return -1;
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ verdict */

struct view_ctx {
	const uint8_t *view;
	uint64_t image_size;
};

static int view_read(void *priv, __u64 off, void *dst, __u32 len)
{
	struct view_ctx *c = priv;

	/* Like the module's daxfs_backing_read(): inside the image only. */
	if (off + len < off || off + len > c->image_size)
		return -EIO;
	memcpy(dst, c->view + off, len);
	return 0;
}

int user_verdict(const uint8_t *view, uint64_t buf_size, uint64_t off,
		 char *msg, size_t len)
{
	struct daxfs_verr err = { { 0 } };
	struct daxfs_super sb;
	struct view_ctx c;
	uint64_t avail;
	__u64 meta_len;
	void *meta;
	int r;

	msg[0] = 0;
	if (off % PAGE || off >= buf_size) {
		snprintf(msg, len, "offset %llu not page-aligned or beyond the buffer",
			 (unsigned long long)off);
		return -EINVAL;
	}
	avail = buf_size - off;
	if (avail < DAXFS_SUPER_SIZE) {
		snprintf(msg, len, "buffer too small for a superblock");
		return -EINVAL;
	}
	memcpy(&sb, view, sizeof(sb));
	r = daxfs_check_super(&sb, avail, &meta_len, &err);
	if (r) {
		snprintf(msg, len, "%s", err.msg);
		return r;
	}
	meta = malloc(meta_len ? meta_len : 1);
	if (!meta) {
		snprintf(msg, len, "user space: out of memory");
		return -ENOMEM;
	}
	memcpy(meta, view + le64toh(sb.inode_off), meta_len);
	c.view = view;
	c.image_size = le64toh(sb.image_size);
	r = daxfs_check_meta(&sb, meta, view_read, &c, &err);
	free(meta);
	if (r)
		snprintf(msg, len, "%s", err.msg);
	return r;
}

void kmsg_last_daxfs(int kfd, char *line, size_t len)
{
	char rec[8192];
	ssize_t k;

	if (len)
		line[0] = 0;
	if (kfd < 0)
		return;
	for (;;) {
		char *msg, *nl;

		k = read(kfd, rec, sizeof(rec) - 1);
		if (k < 0 && errno == EPIPE)
			continue;
		if (k <= 0)
			return;
		rec[k] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = 0;
		if (strstr(msg, "daxfs ("))
			snprintf(line, len, "%s", msg);
	}
}

/* ------------------------------------------------------------ walking */

struct img {
	const uint8_t *p;
	size_t len;
	uint64_t inode_off, dirent_off, names_off;
	uint32_t inode_count;
};

static void get_inode(const struct img *im, uint32_t ino, struct daxfs_inode *di)
{
	memcpy(di, im->p + im->inode_off + (uint64_t)(ino - 1) * DAXFS_INODE_SIZE,
	       sizeof(*di));
}

static void get_dirent(const struct img *im, uint64_t i, struct daxfs_dirent *de)
{
	memcpy(de, im->p + im->dirent_off + i * DAXFS_DIRENT_SIZE, sizeof(*de));
}

/*
 * An owner that is not a valid id ((uid_t)-1) is not mapped in any user
 * namespace, and then CAP_DAC_OVERRIDE does not apply: permission bits
 * decide, even for root.  EACCES is right for such inodes.
 */
static bool unmapped(const struct daxfs_inode *di)
{
	return le32toh(di->uid) == 0xffffffffu || le32toh(di->gid) == 0xffffffffu;
}

#define WERR(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

static int check_stat(const char *path, const struct stat *st, uint32_t ino,
		      const struct daxfs_inode *di, char *err, size_t errlen)
{
	uint16_t mode = le16toh(di->mode);
	uint32_t uid = le32toh(di->uid), gid = le32toh(di->gid);
	uint64_t size = le64toh(di->size), want_size = 0;

	if (st->st_ino != ino)
		WERR("%s: st_ino %llu, image inode %u", path,
		     (unsigned long long)st->st_ino, ino);
	if (st->st_mode != mode)
		WERR("%s: st_mode 0%o, image 0%o", path, st->st_mode, mode);
	if (st->st_nlink != le32toh(di->nlink))
		WERR("%s: st_nlink %llu, image %u", path,
		     (unsigned long long)st->st_nlink, le32toh(di->nlink));
	/* (uid_t)-1 is not a valid id: the kernel shows the overflow id. */
	if (st->st_uid != (uid == 0xffffffffu ? 65534 : uid) ||
	    st->st_gid != (gid == 0xffffffffu ? 65534 : gid))
		WERR("%s: owner %u:%u, image %u:%u", path, st->st_uid,
		     st->st_gid, uid, gid);
	switch (mode & DAXFS_S_IFMT) {
	case DAXFS_S_IFREG:
	case DAXFS_S_IFLNK:
		want_size = size;
		break;
	case DAXFS_S_IFDIR:
		want_size = size * DAXFS_DIRENT_SIZE;
		break;
	case DAXFS_S_IFCHR:
	case DAXFS_S_IFBLK: {
		uint32_t ma = le32toh(di->rdev_major), mi = le32toh(di->rdev_minor);

		if (ma >= 4096 || mi > 0xfffff)
			ma = mi = 0;
		if (st->st_rdev != makedev(ma, mi))
			WERR("%s: st_rdev %u:%u, image %u:%u", path,
			     major(st->st_rdev), minor(st->st_rdev), ma, mi);
		break;
	}
	}
	if ((uint64_t)st->st_size != want_size)
		WERR("%s: st_size %lld, expected %llu", path,
		     (long long)st->st_size, (unsigned long long)want_size);
	if (st->st_mtim.tv_sec != (time_t)le64toh(di->mtime_sec) ||
	    st->st_mtim.tv_nsec != (long)le32toh(di->mtime_nsec))
		WERR("%s: mtime %lld.%09ld, image %lld.%09u", path,
		     (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
		     (long long)le64toh(di->mtime_sec), le32toh(di->mtime_nsec));
	return 0;
}

/*
 * The file back out as a dma-buf (DAXFS_IOC_EXPORT_DMABUF) over [@foff,
 * +@len): its size, and its mapping shows @want (the file's @size bytes
 * from @foff on, then zeros to the page's end); the child's fd is closed
 * before its mapping is used, which keeps it.
 */
static int check_export(int fd, const char *path, uint64_t foff, uint64_t len,
			const uint8_t *want, uint64_t size, char *err, size_t errlen)
{
	uint64_t mlen = (len + PAGE - 1) & ~(PAGE - 1);
	struct daxfs_export e;
	int c = dxt_export(fd, foff, len == size - foff ? 0 : len, &e);
	uint8_t *m;

	if (c < 0) {
		snprintf(err, errlen, "export of %s [%llu, +%llu): %s", path,
			 (unsigned long long)foff, (unsigned long long)len, strerror(-c));
		return -1;
	}
	if (e.size != mlen) {
		snprintf(err, errlen, "export of %s [%llu, +%llu): size %llu, want %llu", path,
			 (unsigned long long)foff, (unsigned long long)len,
			 (unsigned long long)e.size, (unsigned long long)mlen);
		close(c);
		return -1;
	}
	m = mmap(NULL, mlen, PROT_READ, MAP_SHARED, c, 0);
	close(c);
	if (m == MAP_FAILED) {
		snprintf(err, errlen, "mmap of the export of %s: %s", path, strerror(errno));
		return -1;
	}
	for (uint64_t i = 0; i < mlen; i++) {
		uint8_t w = foff + i < size ? want[foff + i] : 0;

		if (m[i] != w) {
			snprintf(err, errlen, "the export of %s [%llu, +%llu): byte %llu is "
				 "0x%02x, the file's 0x%02x", path, (unsigned long long)foff,
				 (unsigned long long)len, (unsigned long long)i, m[i], w);
			munmap(m, mlen);
			return -1;
		}
	}
	munmap(m, mlen);
	return 0;
}

static int check_file(const char *path, const struct img *im,
		      const struct daxfs_inode *di, struct walk_stats *ws,
		      char *err, size_t errlen)
{
	uint64_t size = le64toh(di->size), off = le64toh(di->offset), done = 0;
	static uint8_t buf[65536];
	int fd, ret = -1;
	ssize_t k;
	uint8_t *m;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && unmapped(di))
		return 0;
	if (fd < 0)
		WERR("open %s: %s", path, strerror(errno));
	while (done < size) {
		k = read(fd, buf, sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			snprintf(err, errlen, "read %s at %llu of %llu: %s", path,
				 (unsigned long long)done, (unsigned long long)size,
				 k ? strerror(errno) : "early EOF");
			goto out;
		}
		if ((uint64_t)k > size - done || memcmp(buf, im->p + off + done, k)) {
			snprintf(err, errlen, "read %s at %llu: bytes differ from the buffer",
				 path, (unsigned long long)done);
			goto out;
		}
		done += k;
	}
	if (read(fd, buf, 1) != 0) {
		snprintf(err, errlen, "read %s at EOF did not return 0", path);
		goto out;
	}
	ws->bytes += size;
	if (size && (pread(fd, buf, 2, size - 1) != 1 || buf[0] != im->p[off + size - 1])) {
		snprintf(err, errlen, "pread %s of the last byte", path);
		goto out;
	}
	if (size) {
		uint64_t mlen = (size + PAGE - 1) & ~(PAGE - 1);

		m = mmap(NULL, mlen, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) {
			snprintf(err, errlen, "mmap %s: %s", path, strerror(errno));
			goto out;
		}
		for (uint64_t p = 0; p < mlen; p += PAGE) {
			uint64_t n = size - p < PAGE ? size - p : PAGE;

			ws->pages++;
			if (memcmp(m + p, im->p + off + p, n)) {
				snprintf(err, errlen, "mmap %s page %llu differs from the buffer",
					 path, (unsigned long long)(p / PAGE));
				munmap(m, mlen);
				goto out;
			}
			for (uint64_t t = n; t < PAGE; t++)
				if (m[p + t]) {
					snprintf(err, errlen, "mmap %s: byte %llu past EOF is 0x%02x",
						 path, (unsigned long long)(p + t), m[p + t]);
					munmap(m, mlen);
					goto out;
				}
		}
		munmap(m, mlen);
		/* A private write copies the page; the buffer must not change. */
		m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) {
			snprintf(err, errlen, "mmap private %s: %s", path, strerror(errno));
			goto out;
		}
		m[0] ^= 0xff;
		munmap(m, PAGE);
		if (pread(fd, buf, 1, 0) != 1 || buf[0] != im->p[off]) {
			snprintf(err, errlen, "%s: a MAP_PRIVATE write reached the file", path);
			goto out;
		}
		/* as a dma-buf: the whole file, and its second page alone */
		if (check_export(fd, path, 0, size, im->p + off, size, err, errlen) ||
		    (size > PAGE && check_export(fd, path, PAGE, size - PAGE > PAGE ? PAGE :
						 size - PAGE, im->p + off, size, err, errlen)))
			goto out;
		ws->exports++;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

struct wnode {
	char *path;
	uint32_t ino;
};

static int name_in_dir(const struct img *im, uint64_t first, uint64_t n,
		       const char *name, size_t nl)
{
	struct daxfs_dirent de;

	for (uint64_t i = 0; i < n; i++) {
		get_dirent(im, first + i, &de);
		if (le16toh(de.name_len) == nl &&
		    !memcmp(im->p + im->names_off + le32toh(de.name_off), name, nl))
			return 1;
	}
	return 0;
}

static int check_dir(const struct wnode *w, const struct img *im,
		     const struct daxfs_inode *di, struct wnode **stack,
		     size_t *sp, size_t *cap, struct walk_stats *ws,
		     char *err, size_t errlen)
{
	uint64_t first = le64toh(di->offset), n = le64toh(di->size), i = 0;
	char path[PATH_MAX + 1], lbuf[DAXFS_SYMLINK_MAX + 2];
	char miss[DAXFS_NAME_MAX + 2];
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int ret = -1;

	dir = opendir(w->path);
	if (!dir && errno == EACCES && unmapped(di))
		return 0;
	if (!dir)
		WERR("opendir %s: %s", w->path, strerror(errno));
	while ((errno = 0, d = readdir(dir))) {
		struct daxfs_dirent de;
		struct daxfs_inode ci;
		const char *name;
		uint32_t ino;
		size_t nl, pl;

		if (!strcmp(d->d_name, "..") || !strcmp(d->d_name, ".")) {
			if (d->d_name[1] == 0 && d->d_ino != w->ino) {
				snprintf(err, errlen, "%s: '.' has ino %llu", w->path,
					 (unsigned long long)d->d_ino);
				goto out;
			}
			continue;
		}
		if (i >= n) {
			snprintf(err, errlen, "%s: readdir returned more than %llu entries",
				 w->path, (unsigned long long)n);
			goto out;
		}
		get_dirent(im, first + i, &de);
		name = (const char *)im->p + im->names_off + le32toh(de.name_off);
		nl = le16toh(de.name_len);
		ino = le32toh(de.ino);
		if (strlen(d->d_name) != nl || memcmp(d->d_name, name, nl) ||
		    d->d_ino != ino || d->d_type != de.type) {
			snprintf(err, errlen, "%s: readdir entry %llu is '%s' ino %llu type %u, image '%.*s' ino %u type %u",
				 w->path, (unsigned long long)i, d->d_name,
				 (unsigned long long)d->d_ino, d->d_type, (int)nl,
				 name, ino, de.type);
			goto out;
		}
		i++;
		pl = strlen(w->path);
		if (pl + 1 + nl > PATH_MAX)
			continue;	/* deep trees of long names: not walked */
		memcpy(path, w->path, pl);
		path[pl] = '/';
		memcpy(path + pl + 1, name, nl);
		path[pl + 1 + nl] = 0;
		if (lstat(path, &st)) {
			if (errno == EACCES && unmapped(di))
				continue;	/* not searchable: see unmapped() */
			snprintf(err, errlen, "lstat %s: %s", path, strerror(errno));
			goto out;
		}
		get_inode(im, ino, &ci);
		if (check_stat(path, &st, ino, &ci, err, errlen))
			goto out;
		switch (le16toh(ci.mode) & DAXFS_S_IFMT) {
		case DAXFS_S_IFDIR:
			if (*sp == *cap) {
				*cap = *cap ? 2 * *cap : 64;
				*stack = realloc(*stack, *cap * sizeof(**stack));
				if (!*stack) {
					snprintf(err, errlen, "out of memory");
					goto out;
				}
			}
			(*stack)[*sp].path = strdup(path);
			(*stack)[(*sp)++].ino = ino;
			break;
		case DAXFS_S_IFREG:
			ws->files++;
			if (check_file(path, im, &ci, ws, err, errlen))
				goto out;
			break;
		case DAXFS_S_IFLNK: {
			ssize_t k = readlink(path, lbuf, sizeof(lbuf));
			uint64_t sl = le64toh(ci.size);

			ws->links++;
			if (k < 0 || (uint64_t)k != sl ||
			    memcmp(lbuf, im->p + im->names_off + le64toh(ci.offset), sl)) {
				snprintf(err, errlen, "readlink %s: %zd bytes, image %llu (%s)",
					 path, k, (unsigned long long)sl,
					 k < 0 ? strerror(errno) : "content");
				goto out;
			}
			break;
		}
		default:
			ws->specials++;	/* never opened: numbers come from images */
			break;
		}
	}
	if (errno) {
		snprintf(err, errlen, "readdir %s: %s", w->path, strerror(errno));
		goto out;
	}
	if (i != n) {
		snprintf(err, errlen, "%s: readdir returned %llu entries, image %llu",
			 w->path, (unsigned long long)i, (unsigned long long)n);
		goto out;
	}
	/* Failed lookups: a name not in the directory, and one too long. */
	for (int t = 0; t < 4; t++) {
		size_t ml = 1 + t * 7;

		memset(miss, "\x01zZ~"[t], ml);
		miss[ml] = 0;
		if (name_in_dir(im, first, n, miss, ml))
			continue;
		if (!fstatat(dirfd(dir), miss, &st, AT_SYMLINK_NOFOLLOW) ||
		    (errno != ENOENT && !(errno == EACCES && unmapped(di)))) {
			snprintf(err, errlen, "%s: lookup of a missing name gave %s",
				 w->path, strerror(errno));
			goto out;
		}
	}
	memset(miss, 'n', DAXFS_NAME_MAX + 1);
	miss[DAXFS_NAME_MAX + 1] = 0;
	if (!fstatat(dirfd(dir), miss, &st, AT_SYMLINK_NOFOLLOW) ||
	    (errno != ENAMETOOLONG && !(errno == EACCES && unmapped(di)))) {
		snprintf(err, errlen, "%s: lookup of a 256-byte name gave %s", w->path,
			 strerror(errno));
		goto out;
	}
	ret = 0;
out:
	closedir(dir);
	return ret;
}

int walk_check(const char *mnt, const uint8_t *p, size_t len,
	       struct walk_stats *ws, char *err, size_t errlen)
{
	const struct daxfs_super *sb = (const void *)p;
	struct wnode *stack = NULL, w;
	size_t sp = 0, cap = 0;
	struct daxfs_inode di;
	struct img im;
	struct stat st;
	int ret = 0;

	im.p = p;
	im.len = len;
	im.inode_off = le64toh(sb->inode_off);
	im.dirent_off = le64toh(sb->dirent_off);
	im.names_off = le64toh(sb->names_off);
	im.inode_count = le32toh(sb->inode_count);

	get_inode(&im, DAXFS_ROOT_INO, &di);
	if (stat(mnt, &st))
		WERR("stat %s: %s", mnt, strerror(errno));
	if (check_stat(mnt, &st, DAXFS_ROOT_INO, &di, err, errlen))
		return -1;
	stack = malloc(64 * sizeof(*stack));
	if (!stack)
		WERR("out of memory");
	cap = 64;
	stack[sp].path = strdup(mnt);
	stack[sp++].ino = DAXFS_ROOT_INO;
	while (sp) {
		w = stack[--sp];
		ws->dirs++;
		get_inode(&im, w.ino, &di);
		if (!ret)
			ret = check_dir(&w, &im, &di, &stack, &sp, &cap, ws, err, errlen);
		free(w.path);
		if (!stack)
			return -1;
	}
	free(stack);
	return ret;
}

/* ------------------------------------------------------------ seeds */

#define J(...) (snprintf(p, sizeof(p), "%s/%s", dir, __VA_ARGS__), p)
#define TRYZ(x) do { if ((x) < 0) { snprintf(err, len, "seed_tree %d: %s: %s", \
	flavor, #x, strerror(errno)); return -1; } } while (0)
#define TRYN(x) do { int _r = (x); if (_r < 0) { snprintf(err, len, "seed_tree %d: %s: %s", \
	flavor, #x, strerror(-_r)); return -1; } } while (0)

int seed_flavors(void)
{
	return 5;
}

/* Flavor 0's plain files: sizes around a page, set-id and read-only modes. */
static const struct tree_file every_type[] = {
	{ "empty", 0, 0, 0644 }, { "one", 1, 1, 0644 }, { "small", 100, 2, 0600 },
	{ "page-1", 4095, 3, 0644 }, { "page", 4096, 4, 0644 }, { "page+1", 4097, 5, 04755 },
	{ "multi", 3 * 4096 + 5, 6, 0444 },
};

int seed_tree(const char *dir, int flavor, char *err, size_t len)
{
	char p[PATH_MAX], q[PATH_MAX], name[64];

	if (mkdir(dir, 0755) && errno != EEXIST)
		TRYZ(-1);
	switch (flavor) {
	case 0: {	/* every inode type */
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		char target[301];
		int s;

		if (fill_files(dir, every_type, sizeof(every_type) / sizeof(every_type[0]),
			       err, len))
			return -1;
		TRYZ(mkdir(J("d"), 0755));
		TRYZ(mkdir(J("d/e"), 0700));
		TRYZ(mkdir(J("d/e/f"), 0755));
		TRYZ(mkdir(J("empty-dir"), 01777));
		TRYN(fill_file(J("d/e/f/deep"), 5000, 7, 0644));
		TRYN(fill_file(J("d/hard"), 777, 8, 0644));
		snprintf(q, sizeof(q), "%s/d/hard", dir);
		TRYZ(link(q, J("hard2")));
		TRYZ(link(q, J("d/e/hard3")));
		TRYZ(symlink("small", J("sym")));
		TRYZ(symlink("d/e", J("sym-dir")));
		memset(target, 'x', 300);
		target[300] = 0;
		for (int i = 10; i < 300; i += 10)
			target[i] = '/';
		TRYZ(symlink(target, J("sym-long")));
		TRYZ(mkfifo(J("fifo"), 0640));
		TRYZ(mknod(J("chr"), S_IFCHR | 0666, makedev(1, 3)));
		TRYZ(mknod(J("blk"), S_IFBLK | 0660, makedev(7, 0)));
		if (strlen(J("sock")) >= sizeof(sa.sun_path)) {
			snprintf(err, len, "socket path too long: %s", p);
			return -1;
		}
		memcpy(sa.sun_path, p, strlen(p) + 1);
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		TRYZ(s);
		if (bind(s, (struct sockaddr *)&sa, sizeof(sa))) {
			snprintf(err, len, "bind %s: %s", p, strerror(errno));
			close(s);
			return -1;
		}
		close(s);
		break;
	}
	case 1:		/* the smallest tree with data */
		TRYN(fill_file(J("f"), 1, 9, 0644));
		break;
	case 2:		/* only the root */
		break;
	case 3:		/* a wide directory and a deep chain */
		TRYZ(mkdir(J("w"), 0755));
		for (int i = 0; i < 40; i++) {
			snprintf(name, sizeof(name), "w/%c%02d%s", 'a' + i % 26, i,
				 i % 3 ? "" : "-long-name-for-the-binary-search");
			TRYN(fill_file(J(name), i % 5 ? (size_t)i * 50 : 0, 10 + i, 0644));
		}
		snprintf(q, sizeof(q), "%s", dir);
		for (int i = 0; i < 8; i++) {
			size_t ql = strlen(q);

			snprintf(q + ql, sizeof(q) - ql, "/%d", i);
			TRYZ(mkdir(q, 0755));
		}
		snprintf(q + strlen(q), sizeof(q) - strlen(q), "/leaf");
		TRYN(fill_file(q, 4096 * 2, 60, 0644));
		TRYZ(link(q, J("w/leaf-link")));
		TRYZ(symlink("0/1/2/3/4/5/6/7/leaf", J("to-leaf")));
		break;
	case 4:		/* a few pages, for large alignments */
		TRYN(fill_file(J("a"), 3 * 4096 + 1, 70, 0644));
		TRYN(fill_file(J("b"), 10, 71, 0644));
		TRYZ(symlink("a", J("l")));
		break;
	default:
		snprintf(err, len, "no seed flavor %d", flavor);
		return -1;
	}
	return 0;
}

int seed_image(const char *work, int flavor, const char *const *extra,
	       uint8_t **out, size_t *outlen, char *err, size_t len)
{
	static int n;
	const char *opts[16] = { "-q", "-T", "1700000000" };
	char tree[PATH_MAX], img[PATH_MAX];
	struct stat st;
	int k = 3, r;

	snprintf(tree, sizeof(tree), "%s/tree-%d", work, flavor);
	if (stat(tree, &st) && seed_tree(tree, flavor, err, len))
		return -1;
	for (; extra && *extra && k < 15; extra++)
		opts[k++] = *extra;
	opts[k] = NULL;
	snprintf(img, sizeof(img), "%s/seed-%d-%d.img", work, flavor, n++);
	if (dxt_mkimage(img, tree, opts, err, len))
		return -1;
	r = dxt_slurp(img, out, outlen);
	if (r) {
		snprintf(err, len, "reading %s: %s", img, strerror(-r));
		return -1;
	}
	return 0;
}

int fuzzk_tree_image(const char *work, const char *name, int (*make)(const char *dir),
		     uint8_t **image, size_t *ilen, char *err, size_t len)
{
	const char *opts[] = { "-q", "-T", "1700000000", NULL };
	char tree[PATH_MAX], img[PATH_MAX + 8];
	int r;

	snprintf(tree, sizeof(tree), "%s/%s", work, name);
	snprintf(img, sizeof(img), "%s.img", tree);
	if (make(tree)) {
		snprintf(err, len, "%s: %s", tree, strerror(errno));
		return -1;
	}
	if (dxt_mkimage(img, tree, opts, err, len))
		return -1;
	r = dxt_slurp(img, image, ilen);
	if (r)
		snprintf(err, len, "reading %s: %s", img, strerror(-r));
	return r;
}

int fuzzk_begin(const struct fuzzk_start *s, char *work, size_t wlen,
		uint8_t **image, size_t *ilen, int *rc)
{
	char err[2 * ERRLEN];
	int kind = dxt_exporter_pick(err, sizeof(err)), r;

	if (kind < 0) {
		if (s->must)
			dxt_tap_ok(false, "no dma-buf exporter: %s", err);
		else
			dxt_tap_skip(s->prog, "no dma-buf exporter: %s", err);
		*rc = s->must ? dxt_tap_done() : dxt_tap_done() ? 1 : 4;
		return -1;
	}
	r = dxt_make_workdir("daxfs-test", work, wlen);
	if (r) {
		snprintf(err, sizeof(err), "workdir: %s", strerror(-r));
	} else if (s->flavor >= 0) {
		r = seed_image(work, s->flavor, NULL, image, ilen, err, sizeof(err));
	} else if (s->tree) {
		r = fuzzk_tree_image(work, "tree", s->tree, image, ilen, err, sizeof(err));
	}
	if (r) {
		dxt_tap_ok(false, "%s: %s", s->what, err);
		*rc = dxt_tap_done();
		return -1;
	}
	return kind;
}

/* ------------------------------------------------------------ saving */

static void print_base64(const uint8_t *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char line[80];
	size_t col = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = p[i] << 16;

		v |= i + 1 < n ? p[i + 1] << 8 : 0;
		v |= i + 2 < n ? p[i + 2] : 0;
		line[col++] = tab[v >> 18 & 63];
		line[col++] = tab[v >> 12 & 63];
		line[col++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		line[col++] = i + 2 < n ? tab[v & 63] : '=';
		if (col == 76) {
			printf("# %.*s\n", (int)col, line);
			col = 0;
		}
	}
	if (col)
		printf("# %.*s\n", (int)col, line);
}

void save_image(const char *tag, const void *p, size_t n)
{
	static int printed;
	char path[PATH_MAX], gz[PATH_MAX + 4];
	const char *argv[] = { "gzip", "-9", "-n", "-k", "-f", path, NULL };
	uint8_t *z = NULL;
	size_t zl = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/fuzz-fail-%s.img", tag);
	f = fopen(path, "we");
	if (!f || fwrite(p, 1, n, f) != n) {
		dxt_tap_note("cannot write %s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	dxt_tap_note("offending image saved as %s (%zu bytes)", path, n);
	if (printed++ >= 8) {
		dxt_tap_note("(not printed: more than 8 images in this run)");
		return;
	}
	snprintf(gz, sizeof(gz), "%s.gz", path);
	fflush(stdout);
	if (!dxt_run_cmd(argv, NULL, 0) && !dxt_slurp(gz, &z, &zl)) {
		printf("# FUZZ-IMAGE-BEGIN regress-%s.img %zu gzip\n", tag, n);
		print_base64(z, zl);
	} else {
		printf("# FUZZ-IMAGE-BEGIN regress-%s.img %zu raw\n", tag, n);
		print_base64(p, n);
	}
	printf("# FUZZ-IMAGE-END\n");
	free(z);
	unlink(gz);
}

/* ------------------------------------------------------------ limits */

long count_free_imports(int dmabuf_fd, int *errp)
{
	int devs[64], nd = 0, r = 0;
	long n = 0;

	*errp = 0;
	while (nd < 64) {
		devs[nd] = dxt_dev_open();
		if (devs[nd] < 0) {
			r = devs[nd];
			break;
		}
		nd++;
		for (;;) {
			r = dxt_import(devs[nd - 1], dmabuf_fd, 0, NULL);
			if (r)
				break;
			n++;
		}
		if (r != -EMFILE)
			break;
	}
	for (int i = 0; i < nd; i++)
		close(devs[i]);
	*errp = r;
	return n;
}
