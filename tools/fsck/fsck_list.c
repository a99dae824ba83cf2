// SPDX-License-Identifier: GPL-2.0
/*
 * fsck.daxfs --list: print the tree the way
 *   LC_ALL=C TZ=UTC ls -lnbR --time-style=full-iso
 * run in the image's root would, minus the "total" lines (block counts mean
 * nothing in an image).  Directory sizes are the entry counts stored in the
 * image.  The order is the image's, which is byte order, as ls in the C
 * locale sorts.
 *
 * The walk is depth-first like ls -R (a directory's listing, then each of
 * its subdirectories in order) and iterative: its stack grows on the heap,
 * one small frame per level, so depth is bounded only by the inode count.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsck.h"

struct frame {
	unsigned int ino;
	unsigned long long next;	/* next entry index to look at */
	size_t path_len;		/* length of this dir's path */
};

static int ndigits(unsigned long long v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static void mode_string(unsigned int mode, char s[11])
{
	static const char rwx[] = "rwxrwxrwx";
	int i;

	switch (mode & DAXFS_S_IFMT) {
	case DAXFS_S_IFDIR:  s[0] = 'd'; break;
	case DAXFS_S_IFLNK:  s[0] = 'l'; break;
	case DAXFS_S_IFCHR:  s[0] = 'c'; break;
	case DAXFS_S_IFBLK:  s[0] = 'b'; break;
	case DAXFS_S_IFIFO:  s[0] = 'p'; break;
	case DAXFS_S_IFSOCK: s[0] = 's'; break;
	default:             s[0] = '-'; break;
	}
	for (i = 0; i < 9; i++)
		s[1 + i] = mode & (0400 >> i) ? rwx[i] : '-';
	if (mode & 04000)
		s[3] = mode & 0100 ? 's' : 'S';
	if (mode & 02000)
		s[6] = mode & 0010 ? 's' : 'S';
	if (mode & 01000)
		s[9] = mode & 0001 ? 't' : 'T';
	s[10] = 0;
}

static bool is_dev(unsigned int mode)
{
	unsigned int t = mode & DAXFS_S_IFMT;

	return t == DAXFS_S_IFCHR || t == DAXFS_S_IFBLK;
}

static void print_time(FILE *out, const struct daxfs_inode *di)
{
	int64_t sec = (int64_t)le64toh(di->mtime_sec);
	time_t t = (time_t)sec;
	struct tm tm;
	char buf[64];

	if ((int64_t)t == sec && gmtime_r(&t, &tm) &&
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm))
		fprintf(out, "%s.%09u +0000", buf, le32toh(di->mtime_nsec));
	else
		fprintf(out, "%" PRId64, sec);
}

/* One directory's listing with ls's column widths. */
static void list_dir(const struct fsck_image *img, FILE *out,
		     const struct daxfs_inode *dir)
{
	unsigned long long first = le64toh(dir->offset);
	unsigned long long n = le64toh(dir->size), i;
	int wl = 0, wu = 0, wg = 0, ws = 0, wmaj = 0, wmin = 0;

	for (i = 0; i < n; i++) {
		const struct daxfs_dirent *de = &img->dirents[first + i];
		const struct daxfs_inode *di = fsck_inode(img, le32toh(de->ino));
		int w;

		if (ndigits(le32toh(di->nlink)) > wl)
			wl = ndigits(le32toh(di->nlink));
		if (ndigits(le32toh(di->uid)) > wu)
			wu = ndigits(le32toh(di->uid));
		if (ndigits(le32toh(di->gid)) > wg)
			wg = ndigits(le32toh(di->gid));
		if (is_dev(fsck_mode(di))) {
			if (ndigits(le32toh(di->rdev_major)) > wmaj)
				wmaj = ndigits(le32toh(di->rdev_major));
			if (ndigits(le32toh(di->rdev_minor)) > wmin)
				wmin = ndigits(le32toh(di->rdev_minor));
		} else {
			w = ndigits(le64toh(di->size));
			if (w > ws)
				ws = w;
		}
	}
	if (wmaj && wmaj + 2 + wmin > ws)
		ws = wmaj + 2 + wmin;

	for (i = 0; i < n; i++) {
		const struct daxfs_dirent *de = &img->dirents[first + i];
		const struct daxfs_inode *di = fsck_inode(img, le32toh(de->ino));
		unsigned int mode = fsck_mode(di);
		const unsigned char *name;
		size_t len;
		char ms[11];

		mode_string(mode, ms);
		fprintf(out, "%s %*u %*u %*u ", ms, wl, le32toh(di->nlink),
			wu, le32toh(di->uid), wg, le32toh(di->gid));
		if (is_dev(mode)) {
			int pad = ws - (wmaj + 2 + wmin);

			fprintf(out, "%*s%*u, %*u ", pad, "", wmaj,
				le32toh(di->rdev_major), wmin,
				le32toh(di->rdev_minor));
		} else {
			fprintf(out, "%*llu ", ws,
				(unsigned long long)le64toh(di->size));
		}
		print_time(out, di);
		putc(' ', out);
		name = fsck_name(img, de, &len);
		fsck_put_escaped(out, name, len, false);
		if ((mode & DAXFS_S_IFMT) == DAXFS_S_IFLNK) {
			fputs(" -> ", out);
			fsck_put_escaped(out, img->names + le64toh(di->offset),
					 le64toh(di->size), false);
		}
		putc('\n', out);
	}
}

int fsck_list(const struct fsck_image *img, FILE *out)
{
	struct frame *stack = NULL;
	size_t depth = 0, cap = 0;
	char *path = NULL;
	size_t path_cap = 0;
	int rc = FSCK_ERROR;

	path_cap = 256;
	path = malloc(path_cap);
	if (!path)
		goto oom;
	path[0] = '.';

	cap = 64;
	stack = malloc(cap * sizeof(*stack));
	if (!stack)
		goto oom;
	stack[depth++] = (struct frame){ DAXFS_ROOT_INO, 0, 1 };
	fputs(".:\n", out);
	list_dir(img, out, fsck_inode(img, DAXFS_ROOT_INO));

	while (depth) {
		struct frame *f = &stack[depth - 1];
		const struct daxfs_inode *dir = fsck_inode(img, f->ino);
		unsigned long long first = le64toh(dir->offset);
		unsigned long long n = le64toh(dir->size);
		const struct daxfs_dirent *de = NULL;
		const unsigned char *name;
		size_t len, need;

		while (f->next < n) {
			de = &img->dirents[first + f->next++];
			if (de->type == DAXFS_DT_DIR)
				break;
			de = NULL;
		}
		if (!de) {
			depth--;
			continue;
		}
		name = fsck_name(img, de, &len);
		need = f->path_len + 1 + len;
		if (need > path_cap) {
			char *p;

			while (need > path_cap)
				path_cap *= 2;
			p = realloc(path, path_cap);
			if (!p)
				goto oom;
			path = p;
		}
		path[f->path_len] = '/';
		memcpy(path + f->path_len + 1, name, len);
		if (depth == cap) {
			struct frame *s = realloc(stack, 2 * cap * sizeof(*s));

			if (!s)
				goto oom;
			stack = s;
			cap *= 2;
		}
		stack[depth++] = (struct frame){ le32toh(de->ino), 0, need };

		putc('\n', out);
		fsck_put_escaped(out, (const unsigned char *)path, need, true);
		fputs(":\n", out);
		list_dir(img, out, fsck_inode(img, le32toh(de->ino)));
	}
	rc = FSCK_OK;
	goto out;
oom:
	fprintf(stderr, "%s: --list: out of memory\n", fsck_prog);
out:
	free(stack);
	free(path);
	return rc;
}
