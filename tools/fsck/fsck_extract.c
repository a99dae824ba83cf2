// SPDX-License-Identifier: GPL-2.0
/*
 * fsck.daxfs --extract=DIR: recreate an image's tree under DIR.
 *
 * Safety: the image is validated before we get here, but the extractor
 * does not rely on that for anything that touches the host file system.
 * Every object is created relative to a directory file descriptor with a
 * single-component name that is checked again here (no '/', no NUL, not
 * "." or ".."); nothing is opened through a symbolic link (O_NOFOLLOW,
 * AT_SYMLINK_NOFOLLOW, O_EXCL on creation); directories are created 0700
 * and get their final mode, owner and mtime only after their contents,
 * so a read-only directory can still be filled and its mtime survives.
 *
 * Walk: iterative depth-first, one small frame per level on a heap stack.
 * Only the directory being filled is open (plus DIR itself); going back
 * up reopens ".." and checks it is the directory we came from, so a deep
 * tree needs no more file descriptors than a shallow one.
 *
 * Hard links: the first name met for an inode with nlink > 1 creates it
 * and records its path; later names link() to it, walking that path one
 * component at a time with O_NOFOLLOW.
 *
 * Errors on single entries are reported and the walk goes on; the exit
 * status is then FSCK_ERROR.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fsck.h"

#define GRANULE		(64u << 10)	/* zero runs this long become holes */
#define MAX_WRITE	(1u << 30)	/* bytes per write() */

struct xframe {
	unsigned int ino;
	unsigned long long next;
	size_t path_len;	/* length of this dir's path in x->path */
	dev_t dev;		/* identity of the created directory */
	ino_t st_ino;
};

struct xstate {
	const struct fsck_image *img;
	const char *dir;	/* DIR as given */
	int rootfd;
	int cur;		/* the directory being filled */
	bool as_root;		/* set owners */
	uid_t euid;		/* what new files are owned by */
	gid_t egid;
	bool chown_always;	/* DIR is set-group-ID: groups are inherited */
	unsigned long errors;
	char *path;		/* relative path of the current object */
	size_t path_cap;
	char **first;		/* ino - 1 -> path of its first name */
};

static void xerr(struct xstate *x, size_t len, const char *what, int err)
{
	fprintf(stderr, "%s: extract: %s/", fsck_prog, x->dir);
	fsck_put_escaped(stderr, (const unsigned char *)x->path, len,
			 false);
	fprintf(stderr, ": %s: %s\n", what, strerror(err));
	x->errors++;
}

static bool safe_name(const unsigned char *name, size_t len)
{
	if (len == 0 || len > DAXFS_NAME_MAX)
		return false;
	if (memchr(name, '/', len) || memchr(name, 0, len))
		return false;
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return false;
	return true;
}

static bool all_zero(const unsigned char *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

static int write_all(int fd, const unsigned char *p, size_t len, off_t pos)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len > MAX_WRITE ? MAX_WRITE : len,
				   pos);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		pos += n;
		len -= n;
	}
	return 0;
}

/*
 * Copy file bytes [start, end) from the image at @base; runs of whole
 * zero granules are skipped (they stay holes), the rest is written in
 * large pieces straight from the mapping.
 */
static int copy_range(int fd, const unsigned char *base,
		      unsigned long long start, unsigned long long end)
{
	unsigned long long run = start, pos = start;
	int rc;

	while (pos < end) {
		unsigned long long g = (pos / GRANULE + 1) * GRANULE;

		if (g > end)
			g = end;
		if (all_zero(base + pos, g - pos)) {
			if (pos > run) {
				rc = write_all(fd, base + run, pos - run, run);
				if (rc)
					return rc;
			}
			run = g;
		}
		pos = g;
	}
	if (end > run)
		return write_all(fd, base + run, end - run, run);
	return 0;
}

static int write_data(struct xstate *x, int fd, const struct daxfs_inode *di)
{
	const struct fsck_image *img = x->img;
	unsigned long long off = le64toh(di->offset);
	unsigned long long size = le64toh(di->size);
	unsigned long long pos = 0;
	const unsigned char *base = img->map + off;
	int rc;

	if (off > img->buf_size || size > img->buf_size - off)
		return -ERANGE;	/* cannot happen after validation */
	while (pos < size) {
		unsigned long long ds = pos, de = size;

		if (img->is_reg) {
			/* Skip the image file's own holes without reading. */
			off_t d = lseek(img->fd, off + pos, SEEK_DATA);

			if (d < 0 && errno == ENXIO)
				break;
			if (d >= 0) {
				off_t h;

				if ((unsigned long long)d >= off + size)
					break;
				ds = d - off;
				h = lseek(img->fd, d, SEEK_HOLE);
				if (h >= 0 && (unsigned long long)h < off + size)
					de = h - off;
			}
		}
		rc = copy_range(fd, base, ds, de);
		if (rc)
			return rc;
		pos = de;
	}
	/* The size, whatever holes the copy left at the end. */
	if (size && ftruncate(fd, size) < 0)
		return -errno;
	return 0;
}

static void get_times(const struct daxfs_inode *di, struct timespec ts[2])
{
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = (time_t)(int64_t)le64toh(di->mtime_sec);
	ts[1].tv_nsec = le32toh(di->mtime_nsec);
}

/* Does the owner need setting?  Not when it is the creator already. */
static bool needs_chown(const struct xstate *x, const struct daxfs_inode *di)
{
	return x->as_root && (x->chown_always || le32toh(di->uid) != x->euid ||
			      le32toh(di->gid) != x->egid);
}

/* Owner, mode, mtime of an open file or directory, in that order. */
static void finish_fd(struct xstate *x, size_t len, int fd,
		      const struct daxfs_inode *di)
{
	struct timespec ts[2];

	get_times(di, ts);
	/* chown first: it clears set-user-ID and set-group-ID. */
	if (needs_chown(x, di) &&
	    fchown(fd, le32toh(di->uid), le32toh(di->gid)) < 0)
		xerr(x, len, "chown", errno);
	if (fchmod(fd, fsck_mode(di) & DAXFS_S_IPERM) < 0)
		xerr(x, len, "chmod", errno);
	if (futimens(fd, ts) < 0)
		xerr(x, len, "set mtime", errno);
}

/* The same for a name in x->cur that must not be followed. */
static void finish_at(struct xstate *x, size_t len, const char *name,
		      const struct daxfs_inode *di, bool chmod)
{
	struct timespec ts[2];

	get_times(di, ts);
	if (needs_chown(x, di) &&
	    fchownat(x->cur, name, le32toh(di->uid), le32toh(di->gid),
		     AT_SYMLINK_NOFOLLOW) < 0)
		xerr(x, len, "chown", errno);
	if (chmod) {
		mode_t m = fsck_mode(di) & DAXFS_S_IPERM;

		if (fchmodat(x->cur, name, m, AT_SYMLINK_NOFOLLOW) < 0 &&
		    ((errno != EOPNOTSUPP && errno != ENOSYS) ||
		     fchmodat(x->cur, name, m, 0) < 0))
			xerr(x, len, "chmod", errno);
	}
	if (utimensat(x->cur, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		xerr(x, len, "set mtime", errno);
}

/* link() @name in x->cur to the relative path @rel (from DIR). */
static int link_to(struct xstate *x, const char *rel, const char *name)
{
	char *copy = strdup(rel), *p, *slash;
	int dfd = x->rootfd, rc = 0;

	if (!copy)
		return -ENOMEM;
	for (p = copy; (slash = strchr(p, '/')); p = slash + 1) {
		int nfd;

		*slash = 0;
		nfd = openat(dfd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW |
			     O_CLOEXEC);
		if (nfd < 0)
			rc = -errno;
		if (dfd != x->rootfd)
			close(dfd);
		if (rc)
			goto out;
		dfd = nfd;
	}
	if (linkat(dfd, p, x->cur, name, 0) < 0)
		rc = -errno;
	if (dfd != x->rootfd)
		close(dfd);
out:
	free(copy);
	return rc;
}

static int extract_reg(struct xstate *x, size_t len, const char *name,
		       const struct daxfs_inode *di)
{
	int fd, rc;

	fd = openat(x->cur, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0) {
		xerr(x, len, "create", errno);
		return -1;
	}
	rc = write_data(x, fd, di);
	if (rc) {
		xerr(x, len, "write", -rc);
		close(fd);
		return -1;
	}
	finish_fd(x, len, fd, di);
	if (close(fd) < 0) {
		xerr(x, len, "close", errno);
		return -1;
	}
	return 0;
}

static int extract_symlink(struct xstate *x, size_t len, const char *name,
			   const struct daxfs_inode *di)
{
	unsigned long long tlen = le64toh(di->size);
	unsigned long long toff = le64toh(di->offset);
	char target[DAXFS_SYMLINK_MAX + 1];

	if (tlen == 0 || tlen > DAXFS_SYMLINK_MAX ||
	    toff > x->img->names_size || tlen > x->img->names_size - toff ||
	    memchr(x->img->names + toff, 0, tlen)) {
		xerr(x, len, "bad symlink target", EUCLEAN);
		return -1;
	}
	memcpy(target, x->img->names + toff, tlen);
	target[tlen] = 0;
	if (symlinkat(target, x->cur, name) < 0) {
		xerr(x, len, "symlink", errno);
		return -1;
	}
	finish_at(x, len, name, di, false);
	return 0;
}

static int extract_node(struct xstate *x, size_t len, const char *name,
			const struct daxfs_inode *di)
{
	mode_t type = fsck_mode(di) & DAXFS_S_IFMT;
	dev_t dev = 0;

	if (type == DAXFS_S_IFCHR || type == DAXFS_S_IFBLK) {
		unsigned int maj = le32toh(di->rdev_major);
		unsigned int min = le32toh(di->rdev_minor);

		/* The format has 32 bits each; Linux's dev_t 12 and 20. */
		if (maj > 0xfff || min > 0xfffff) {
			fprintf(stderr, "%s: extract: %s/", fsck_prog, x->dir);
			fsck_put_escaped(stderr, (const unsigned char *)x->path,
					 len, false);
			fprintf(stderr, ": device number %u:%u does not fit Linux's 12:20 bits\n",
				maj, min);
			x->errors++;
			return -1;
		}
		dev = makedev(maj, min);
	}
	if (mknodat(x->cur, name, type | 0600, dev) < 0) {
		xerr(x, len, "mknod", errno);
		return -1;
	}
	finish_at(x, len, name, di, true);
	return 0;
}

static bool grow_path(struct xstate *x, size_t need)
{
	char *p;
	size_t cap = x->path_cap;

	if (need <= cap)
		return true;
	while (cap < need)
		cap *= 2;
	p = realloc(x->path, cap);
	if (!p)
		return false;
	x->path = p;
	x->path_cap = cap;
	return true;
}

/* Create the object for one entry; for a directory return its open fd. */
static int extract_entry(struct xstate *x, const struct daxfs_dirent *de,
			 size_t len, const char *name)
{
	unsigned int ino = le32toh(de->ino);
	const struct daxfs_inode *di = fsck_inode(x->img, ino);
	unsigned int type = fsck_mode(di) & DAXFS_S_IFMT;
	int rc, fd;

	if (fsck_verbose > 0) {
		fsck_put_escaped(stdout, (const unsigned char *)x->path, len,
				 false);
		putchar('\n');
	}
	if (type == DAXFS_S_IFDIR) {
		if (mkdirat(x->cur, name, 0700) < 0) {
			xerr(x, len, "mkdir", errno);
			return -1;
		}
		fd = openat(x->cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
		if (fd < 0)
			xerr(x, len, "open directory", errno);
		return fd;
	}

	if (le32toh(di->nlink) > 1 && x->first[ino - 1]) {
		rc = link_to(x, x->first[ino - 1], name);
		if (rc)
			xerr(x, len, "link", -rc);
		return -1;
	}

	switch (type) {
	case DAXFS_S_IFREG:
		rc = extract_reg(x, len, name, di);
		break;
	case DAXFS_S_IFLNK:
		rc = extract_symlink(x, len, name, di);
		break;
	case DAXFS_S_IFCHR:
	case DAXFS_S_IFBLK:
	case DAXFS_S_IFIFO:
	case DAXFS_S_IFSOCK:
		rc = extract_node(x, len, name, di);
		break;
	default:
		xerr(x, len, "unknown file type", EUCLEAN);
		rc = -1;
	}
	if (!rc && le32toh(di->nlink) > 1) {
		x->first[ino - 1] = strndup(x->path, len);
		if (!x->first[ino - 1])
			xerr(x, len, "remember hard link", ENOMEM);
	}
	return -1;
}

static int open_target(struct xstate *x)
{
	bool created = false;
	DIR *d;
	struct dirent *e;
	int fd;

	if (mkdir(x->dir, 0700) == 0)
		created = true;
	else if (errno != EEXIST) {
		fprintf(stderr, "%s: extract: cannot create %s: %s\n",
			fsck_prog, x->dir, strerror(errno));
		return -1;
	}
	x->rootfd = open(x->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x->rootfd < 0) {
		fprintf(stderr, "%s: extract: cannot open %s: %s\n",
			fsck_prog, x->dir, strerror(errno));
		return -1;
	}
	if (created)
		return 0;
	fd = dup(x->rootfd);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		fprintf(stderr, "%s: extract: %s: %s\n", fsck_prog, x->dir,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			fprintf(stderr, "%s: extract: %s exists and is not empty\n",
				fsck_prog, x->dir);
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

int fsck_extract(const struct fsck_image *img, const char *dir)
{
	struct xstate x = {
		.img = img, .dir = dir, .rootfd = -1, .cur = -1,
		.as_root = geteuid() == 0, .euid = geteuid(), .egid = getegid(),
	};
	struct xframe *stack = NULL;
	size_t depth = 0, cap = 64;
	struct stat st;
	unsigned int i;
	int rc = FSCK_ERROR;

	umask(0);
	if (open_target(&x))
		goto out;
	x.path_cap = 256;
	x.path = malloc(x.path_cap);
	x.first = calloc(img->inode_count, sizeof(*x.first));
	stack = malloc(cap * sizeof(*stack));
	if (!x.path || !x.first || !stack)
		goto oom;
	if (fstat(x.rootfd, &st) < 0) {
		fprintf(stderr, "%s: extract: %s: %s\n", fsck_prog, dir,
			strerror(errno));
		goto out;
	}
	x.chown_always = st.st_mode & S_ISGID;
	stack[depth++] = (struct xframe){ DAXFS_ROOT_INO, 0, 0,
					  st.st_dev, st.st_ino };
	x.cur = x.rootfd;

	while (depth) {
		struct xframe *f = &stack[depth - 1];
		const struct daxfs_inode *dir_di = fsck_inode(img, f->ino);
		unsigned long long first = le64toh(dir_di->offset);
		const struct daxfs_dirent *de;
		const unsigned char *name;
		char cname[DAXFS_NAME_MAX + 1];
		size_t len, plen;
		int fd;

		if (f->next >= le64toh(dir_di->size)) {
			/* Done with this directory: go up, then finish it. */
			int up = -1;

			if (depth > 1) {
				struct xframe *pf = &stack[depth - 2];

				up = depth == 2 ? x.rootfd :
					openat(x.cur, "..", O_RDONLY |
					       O_DIRECTORY | O_NOFOLLOW |
					       O_CLOEXEC);
				if (up < 0 || fstat(up, &st) < 0 ||
				    st.st_dev != pf->dev ||
				    st.st_ino != pf->st_ino) {
					fprintf(stderr, "%s: extract: %s: the tree was changed while extracting, giving up\n",
						fsck_prog, dir);
					if (up >= 0 && up != x.rootfd)
						close(up);
					x.errors++;
					goto out;
				}
			}
			finish_fd(&x, f->path_len, x.cur, dir_di);
			if (x.cur != x.rootfd)
				close(x.cur);
			x.cur = up;
			depth--;
			continue;
		}

		de = &img->dirents[first + f->next++];
		name = fsck_name(img, de, &len);
		plen = f->path_len ? f->path_len + 1 + len : len;
		if (!grow_path(&x, plen + 1))
			goto oom;
		if (f->path_len)
			x.path[f->path_len] = '/';
		memcpy(x.path + plen - len, name, len);
		if (!safe_name(name, len) ||
		    le32toh(de->ino) < 1 || le32toh(de->ino) > img->inode_count) {
			xerr(&x, plen, "unsafe entry skipped", EUCLEAN);
			continue;
		}
		memcpy(cname, name, len);
		cname[len] = 0;

		fd = extract_entry(&x, de, plen, cname);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) < 0) {
			xerr(&x, plen, "stat", errno);
			close(fd);
			continue;
		}
		if (depth == cap) {
			struct xframe *s = realloc(stack, 2 * cap * sizeof(*s));

			if (!s) {
				close(fd);
				goto oom;
			}
			stack = s;
			cap *= 2;
		}
		if (x.cur != x.rootfd)
			close(x.cur);
		x.cur = fd;
		stack[depth++] = (struct xframe){ le32toh(de->ino), 0, plen,
						  st.st_dev, st.st_ino };
	}
	rc = x.errors ? FSCK_ERROR : FSCK_OK;
	if (x.errors)
		fprintf(stderr, "%s: extract: %lu error%s\n", fsck_prog,
			x.errors, x.errors == 1 ? "" : "s");
	goto out;
oom:
	fprintf(stderr, "%s: extract: out of memory\n", fsck_prog);
out:
	if (x.cur >= 0 && x.cur != x.rootfd)
		close(x.cur);
	if (x.rootfd >= 0)
		close(x.rootfd);
	if (x.first)
		for (i = 0; i < img->inode_count; i++)
			free(x.first[i]);
	free(x.first);
	free(x.path);
	free(stack);
	return rc;
}
