// SPDX-License-Identifier: GPL-2.0
/*
 * mkdaxfs: build the tree from a source directory.
 *
 * Directories are read breadth-first.  No path strings are kept: a
 * directory is reopened by walking its chain of names from the source root
 * with openat(O_NOFOLLOW), so trees deeper than PATH_MAX work and a
 * directory swapped for a symlink while we run is refused, not followed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "mkdaxfs.h"

static int root_fd = -1;
static const struct mk_inode *root_ino;
/* The last directory opened as the parent of another: (inode, fd). */
static const struct mk_inode *cache_ino;
static int cache_fd = -1;

static int open_below(int at, const char *name, const struct mk_inode *dir)
{
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC);

	if (fd < 0)
		mk_die_errno("%s", mk_path(dir, NULL));
	return fd;
}

/* Open @dir by walking from the root (no cache). */
static int walk_open(const struct mk_inode *dir)
{
	const struct mk_inode **chain = NULL, *d;
	size_t n = 0, i;
	int fd, next;

	for (d = dir; d != root_ino; d = d->parent)
		n++;
	chain = mk_realloc_array(NULL, n, sizeof(*chain));
	i = n;
	for (d = dir; d != root_ino; d = d->parent)
		chain[--i] = d;
	fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		mk_die_errno("dup");
	for (i = 0; i < n; i++) {
		next = open_below(fd, chain[i]->dname, chain[i]);
		close(fd);
		fd = next;
	}
	free(chain);
	return fd;
}

int mk_open_srcdir(const struct mk_inode *dir)
{
	if (dir == root_ino) {
		int fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);

		if (fd < 0)
			mk_die_errno("dup");
		return fd;
	}
	if (cache_ino != dir->parent) {
		if (cache_fd >= 0)
			close(cache_fd);
		cache_fd = walk_open(dir->parent);
		cache_ino = dir->parent;
	}
	return open_below(cache_fd, dir->dname, dir);
}

struct hl_key {
	dev_t dev;
	ino_t ino;
	struct mk_inode *node;
};

static struct mk_hash hardlinks;

static struct mk_inode *hardlink_find(const struct stat *st)
{
	uint64_t key[2] = { st->st_dev, st->st_ino };
	uint64_t h = mk_hash_bytes(key, sizeof(key), 0);
	size_t s;

	for (s = mk_hash_first(&hardlinks, h); mk_hash_slot_used(&hardlinks, s);
	     s = mk_hash_next(&hardlinks, s, h)) {
		struct hl_key *k = hardlinks.vals[s];

		if (k->dev == st->st_dev && k->ino == st->st_ino)
			return k->node;
	}
	return NULL;
}

static void hardlink_add(const struct stat *st, struct mk_inode *node)
{
	uint64_t key[2] = { st->st_dev, st->st_ino };
	struct hl_key *k = mk_alloc(sizeof(*k));

	k->dev = st->st_dev;
	k->ino = st->st_ino;
	k->node = node;
	mk_hash_insert(&hardlinks, mk_hash_bytes(key, sizeof(key), 0), k);
}

static struct mk_inode *inode_from_stat(const struct stat *st)
{
	struct mk_inode *ino = mk_new_inode((st->st_mode & S_IFMT) |
					    (st->st_mode & 07777));

	ino->uid = st->st_uid;
	ino->gid = st->st_gid;
	ino->mtime_sec = st->st_mtim.tv_sec;
	ino->mtime_nsec = st->st_mtim.tv_nsec;
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		ino->rdev_major = major(st->st_rdev);
		ino->rdev_minor = minor(st->st_rdev);
	}
	return ino;
}

static void scan_one(struct mk_inode *dir, int dfd, const char *name,
		     struct mk_inode ***queue, size_t *qlen, size_t *qcap,
		     uint64_t *bytes)
{
	size_t len = strlen(name);
	struct mk_inode *node;
	struct stat st;
	uint32_t idx;

	if (len > DAXFS_NAME_MAX)
		mk_die("%s: name is %zu bytes, longer than %u",
		       mk_path(dir, name), len, DAXFS_NAME_MAX);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		mk_die_errno("%s", mk_path(dir, name));

	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
	case S_IFLNK:
	case S_IFDIR:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	default:
		mk_die("%s: unsupported file type (mode 0%o)",
		       mk_path(dir, name), (unsigned int)st.st_mode);
	}

	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		node = hardlink_find(&st);
		if (node) {
			mk_add_entry(dir, name, len, node);
			return;
		}
	}
	node = inode_from_stat(&st);
	idx = mk_add_entry(dir, name, len, node);
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1)
		hardlink_add(&st, node);

	if (S_ISREG(st.st_mode)) {
		node->size = st.st_size;
		node->srcdir = dir;
		node->srcname = dir->ents[idx].name;
		*bytes += st.st_size;
	} else if (S_ISLNK(st.st_mode)) {
		char buf[DAXFS_SYMLINK_MAX + 2];
		ssize_t n = readlinkat(dfd, name, buf, sizeof(buf));

		if (n < 0)
			mk_die_errno("%s: readlink", mk_path(dir, name));
		if ((size_t)n > DAXFS_SYMLINK_MAX)
			mk_die("%s: symlink target longer than %u bytes",
			       mk_path(dir, name), DAXFS_SYMLINK_MAX);
		if (n == 0)
			mk_die("%s: empty symlink target", mk_path(dir, name));
		node->target = mk_strndup(buf, n);
		node->size = n;
	} else if (S_ISDIR(st.st_mode)) {
		node->parent = dir;
		node->dname = dir->ents[idx].name;
		if (*qlen == *qcap) {
			*qcap = *qcap ? 2 * *qcap : 256;
			*queue = mk_realloc_array(*queue, *qcap, sizeof(**queue));
		}
		(*queue)[(*qlen)++] = node;
	}
}

struct mk_inode *mk_scan_dir(const char *source)
{
	struct mk_inode **queue = NULL, *root;
	size_t qlen = 0, qcap = 0, qi;
	uint64_t bytes = 0;
	struct stat st;

	root_fd = open(source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0 && errno == ENOTDIR)
		mk_die("%s: not a directory (use --tar for a tar archive)",
		       source);
	if (root_fd < 0)
		mk_die_errno("%s", source);
	if (fstat(root_fd, &st) < 0)
		mk_die_errno("%s", source);
	root = inode_from_stat(&st);
	root->parent = root;
	root_ino = root;

	mk_progress_start("scanning", 0, 0);
	queue = mk_realloc_array(NULL, 256, sizeof(*queue));
	qcap = 256;
	queue[qlen++] = root;
	for (qi = 0; qi < qlen; qi++) {
		struct mk_inode *dir = queue[qi];
		int fd = mk_open_srcdir(dir);
		struct dirent *de;
		DIR *dp = fdopendir(fd);

		if (!dp)
			mk_die_errno("%s", mk_path(dir, NULL));
		for (;;) {
			errno = 0;
			de = readdir(dp);
			if (!de)
				break;
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			scan_one(dir, fd, de->d_name, &queue, &qlen, &qcap,
				 &bytes);
			mk_progress(mk_all_count, bytes);
		}
		if (errno)
			mk_die_errno("%s: readdir", mk_path(dir, NULL));
		closedir(dp);
	}
	mk_progress_end();
	free(queue);
	for (qi = 0; hardlinks.keys && qi <= hardlinks.mask; qi++)
		free(hardlinks.vals[qi]);
	mk_hash_free(&hardlinks);
	return root;
}
