// SPDX-License-Identifier: GPL-2.0
/*
 * mkdaxfs: build the tree from a tar archive.
 *
 * Understood: ustar (with its prefix field), old v7 headers, GNU long
 * names ('L') and long link targets ('K'), base-256 numbers, and PAX
 * extended headers, per entry ('x') and global ('g'), with the keys path,
 * linkpath, size, mtime (with a fraction), uid and gid; other PAX keys are
 * ignored (they describe things a daxfs image cannot hold, such as atime
 * or xattrs).  Entry types: regular ('0', '\0', '7'), hard link ('1'),
 * symlink ('2'), char/block device ('3', '4'), directory ('5') and fifo
 * ('6').  Anything else (GNU sparse files, multi-volume, volume labels,
 * PAX sparse keys) is refused with an error rather than skipped.
 *
 * Paths: a leading '/' and "." components are dropped; ".." is refused.
 * Missing parent directories are created (mode 0755, owner 0:0, and the
 * newest mtime found directly inside them, so that the result does not
 * depend on the order of the members).  A later entry with the same path
 * replaces an earlier one, as extraction would; a directory can only be
 * "replaced" by a directory (its attributes are updated).
 *
 * File data: from a seekable archive it is copied straight out of the
 * archive later (as it is: zeros stored in the archive stay data); from a
 * pipe it is spooled into an unlinked temporary file, with all-zero 4 KiB
 * blocks left as holes, so those become holes in the image.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "mkdaxfs.h"

#define BLK		512u
#define RD_BUF		(1u << 20)
#define META_MAX	(16u << 20)	/* longest 'L', 'K', 'x', 'g' payload */

/* --- buffered reader ----------------------------------------------------- */

static struct {
	int fd;
	const char *name;
	bool seekable;
	uint64_t file_size;	/* seekable only */
	uint64_t pos;		/* archive offset of buf[off] */
	char *buf;
	size_t off, len;
} rd;

/* Read up to @n bytes into @dst; returns the count (short only at EOF). */
static size_t rd_read(void *dst, size_t n)
{
	char *p = dst;
	size_t done = 0;

	while (done < n) {
		size_t k;

		if (rd.off == rd.len) {
			ssize_t r = read(rd.fd, rd.buf, RD_BUF);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				mk_die_errno("%s: read", rd.name);
			if (r == 0)
				break;
			rd.off = 0;
			rd.len = r;
		}
		k = rd.len - rd.off;
		if (k > n - done)
			k = n - done;
		memcpy(p + done, rd.buf + rd.off, k);
		rd.off += k;
		done += k;
		rd.pos += k;
	}
	return done;
}

static void rd_need(void *dst, size_t n)
{
	if (rd_read(dst, n) != n)
		mk_die("%s: unexpected end of archive at byte %llu", rd.name,
		       (unsigned long long)rd.pos);
}

static void rd_skip(uint64_t n)
{
	uint64_t inbuf = rd.len - rd.off;

	if (n <= inbuf) {
		rd.off += n;
		rd.pos += n;
		return;
	}
	if (rd.seekable) {
		rd.pos += n;
		rd.off = rd.len = 0;
		if (rd.pos > rd.file_size)
			mk_die("%s: unexpected end of archive at byte %llu",
			       rd.name, (unsigned long long)rd.file_size);
		if (lseek(rd.fd, rd.pos, SEEK_SET) < 0)
			mk_die_errno("%s: seek", rd.name);
		return;
	}
	while (n) {
		static char sink[65536];
		size_t k = n < sizeof(sink) ? n : sizeof(sink);

		rd_need(sink, k);
		n -= k;
	}
}

/* --- spool for piped archives -------------------------------------------- */

static struct {
	int fd;
	uint64_t end;		/* next free (4096-aligned) offset */
	char *stage;		/* RD_BUF bytes, flushed at 4 KiB granularity */
} sp = { .fd = -1 };

static bool zero_block(const char *p, size_t n)
{
	static const char zeros[4096];

	return !memcmp(p, zeros, n);
}

/* Write the non-zero 4 KiB blocks of @n staged bytes at @off. */
static void spool_flush(size_t n, uint64_t off)
{
	size_t i = 0;

	while (i < n) {
		size_t run = i, blk;

		while (run < n) {
			blk = n - run < 4096 ? n - run : 4096;
			if (zero_block(sp.stage + run, blk))
				break;
			run += blk;
		}
		if (run > i)
			mk_pwrite_all(sp.fd, sp.stage + i, run - i, off + i,
				      "spool file");
		if (run < n)
			run += n - run < 4096 ? n - run : 4096;
		i = run;
	}
}

static uint64_t spool_copy(uint64_t size)
{
	uint64_t start = sp.end, off = start;

	while (size) {
		size_t want = size < RD_BUF ? size : RD_BUF;

		rd_need(sp.stage, want);
		spool_flush(want, off);
		off += want;
		size -= want;
	}
	/*
	 * Leave at least one 4 KiB hole after each file: the copy's SEEK_HOLE
	 * then stops at the file's end instead of scanning the spool to its
	 * end for every file (quadratic on tmpfs).
	 */
	sp.end = ((off + 4095) & ~4095ull) + 4096;
	return start;
}

/* --- header fields ------------------------------------------------------- */

struct ustar {
	char name[100], mode[8], uid[8], gid[8], size[12], mtime[12];
	char chksum[8], typeflag, linkname[100], magic[6], version[2];
	char uname[32], gname[32], devmajor[8], devminor[8], prefix[155];
	char pad[12];
};
_Static_assert(sizeof(struct ustar) == BLK, "tar header is 512 bytes");

static uint64_t entry_no;

/* Octal (space/NUL terminated) or GNU base-256 number. */
static int64_t num(const char *f, size_t n, const char *what)
{
	const unsigned char *u = (const unsigned char *)f;
	uint64_t v = 0;
	size_t i = 0;

	if (u[0] == 0x80 || u[0] == 0xff) {	/* base-256 */
		bool neg = u[0] == 0xff;

		v = neg ? ~0ull : 0;
		for (i = 1; i < n; i++) {
			if ((neg && (v >> 55) != 0x1ff) || (!neg && (v >> 55)))
				goto range;
			v = v << 8 | u[i];
		}
		if (neg ? (int64_t)v >= 0 : (int64_t)v < 0)
			goto range;
		return (int64_t)v;
	}
	while (i < n && f[i] == ' ')
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			goto range;
		v = v << 3 | (f[i] - '0');
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != 0)
			mk_die("%s: entry %llu: bad %s field", rd.name,
			       (unsigned long long)entry_no, what);
	return (int64_t)v;
range:
	mk_die("%s: entry %llu: %s field out of range", rd.name,
	       (unsigned long long)entry_no, what);
}

static bool checksum_ok(const struct ustar *h)
{
	const unsigned char *p = (const unsigned char *)h;
	int64_t want = 0, ssum = 0;
	uint64_t usum = 0;
	size_t i = 0;

	/* Parsed here, not with num(): garbage must say "bad checksum". */
	while (i < sizeof(h->chksum) && h->chksum[i] == ' ')
		i++;
	if (i == sizeof(h->chksum) || h->chksum[i] < '0' || h->chksum[i] > '7')
		return false;
	for (; i < sizeof(h->chksum) && h->chksum[i] >= '0' &&
	     h->chksum[i] <= '7'; i++)
		want = want * 8 + (h->chksum[i] - '0');
	for (; i < sizeof(h->chksum); i++)
		if (h->chksum[i] != ' ' && h->chksum[i] != 0)
			return false;

	for (i = 0; i < BLK; i++) {
		unsigned char c = (i >= 148 && i < 156) ? ' ' : p[i];

		usum += c;
		ssum += (signed char)c;
	}
	return (int64_t)usum == want || ssum == want;
}

/* --- PAX ----------------------------------------------------------------- */

struct pax {
	char *path, *linkpath;
	bool has_size, has_mtime, has_uid, has_gid;
	uint64_t size;
	int64_t mtime_sec;
	uint32_t mtime_nsec, uid, gid;
};

static struct pax pax_global, pax_local;

static void pax_clear(struct pax *p)
{
	free(p->path);
	free(p->linkpath);
	memset(p, 0, sizeof(*p));
}

static bool parse_dec(const char *s, const char *end, uint64_t *out)
{
	uint64_t v = 0;

	if (s == end)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return true;
}

static bool parse_pax_time(const char *s, const char *end, int64_t *sec,
			   uint32_t *nsec)
{
	const char *dot = memchr(s, '.', end - s);
	bool neg = s < end && *s == '-';
	uint64_t v, ns = 0;
	int digits = 0;

	if (neg)
		s++;
	if (!parse_dec(s, dot ? dot : end, &v) || v > INT64_MAX)
		return false;
	if (dot) {
		for (s = dot + 1; s < end; s++) {
			if (*s < '0' || *s > '9')
				return false;
			if (digits++ < 9)
				ns = ns * 10 + (*s - '0');
		}
		for (; digits < 9; digits++)
			ns *= 10;
	}
	if (neg) {
		*sec = -(int64_t)v - (ns ? 1 : 0);
		*nsec = ns ? 1000000000 - ns : 0;
	} else {
		*sec = v;
		*nsec = ns;
	}
	return true;
}

static void pax_parse(struct pax *p, const char *data, size_t n)
{
	const char *s = data, *end = data + n;

	while (s < end) {
		const char *sp_ = memchr(s, ' ', end - s), *eq, *val, *rec_end;
		uint64_t len, v = 0;
		size_t klen;

		if (!sp_ || !parse_dec(s, sp_, &len) || len > (uint64_t)(end - s) ||
		    len < 5 || s[len - 1] != '\n')
			mk_die("%s: entry %llu: malformed PAX header", rd.name,
			       (unsigned long long)entry_no);
		rec_end = s + len - 1;
		eq = memchr(sp_ + 1, '=', rec_end - (sp_ + 1));
		if (!eq)
			mk_die("%s: entry %llu: malformed PAX record", rd.name,
			       (unsigned long long)entry_no);
		klen = eq - (sp_ + 1);
		val = eq + 1;
#define KEY(k) (klen == strlen(k) && !memcmp(sp_ + 1, k, klen))
		if (KEY("path")) {
			free(p->path);
			p->path = val < rec_end ? mk_strndup(val, rec_end - val) : NULL;
		} else if (KEY("linkpath")) {
			free(p->linkpath);
			p->linkpath = val < rec_end ?
				mk_strndup(val, rec_end - val) : NULL;
		} else if (KEY("size")) {
			p->has_size = val < rec_end;
			if (p->has_size && (!parse_dec(val, rec_end, &p->size) ||
					    p->size > INT64_MAX))
				goto bad;
		} else if (KEY("mtime")) {
			p->has_mtime = val < rec_end;
			if (p->has_mtime && !parse_pax_time(val, rec_end,
							    &p->mtime_sec,
							    &p->mtime_nsec))
				goto bad;
		} else if (KEY("uid") || KEY("gid")) {
			bool is_uid = KEY("uid");

			if (val < rec_end && (!parse_dec(val, rec_end, &v) ||
					      v > UINT32_MAX))
				goto bad;
			if (is_uid) {
				p->has_uid = val < rec_end;
				p->uid = v;
			} else {
				p->has_gid = val < rec_end;
				p->gid = v;
			}
		} else if (klen >= 11 && !memcmp(sp_ + 1, "GNU.sparse.", 11)) {
			mk_die("%s: entry %llu: PAX sparse files are not supported",
			       rd.name, (unsigned long long)entry_no);
		}
#undef KEY
		s += len;
		continue;
bad:
		mk_die("%s: entry %llu: bad PAX value '%.*s=%.*s'", rd.name,
		       (unsigned long long)entry_no, (int)klen, sp_ + 1,
		       (int)(rec_end - val), val);
	}
}

/* Read an 'L', 'K', 'x' or 'g' payload of @size bytes (NUL-terminated). */
static char *read_meta(uint64_t size, char type)
{
	char *p;

	if (size > META_MAX)
		mk_die("%s: entry %llu: '%c' header of %llu bytes is too large",
		       rd.name, (unsigned long long)entry_no, type,
		       (unsigned long long)size);
	p = mk_alloc(size + 1);
	rd_need(p, size);
	rd_skip((BLK - size % BLK) % BLK);
	return p;
}

/* --- tree ---------------------------------------------------------------- */

static struct mk_inode *root;
static struct mk_hash lookup;	/* (dir, name) -> struct slot */

struct slot {
	struct mk_inode *dir;
	uint32_t idx;
};

static uint64_t name_key(const struct mk_inode *dir, const char *name,
			 size_t len)
{
	return mk_hash_bytes(name, len, (uintptr_t)dir);
}

static struct slot *find(const struct mk_inode *dir, const char *name,
			 size_t len)
{
	uint64_t h = name_key(dir, name, len);
	size_t s;

	for (s = mk_hash_first(&lookup, h); mk_hash_slot_used(&lookup, s);
	     s = mk_hash_next(&lookup, s, h)) {
		struct slot *sl = lookup.vals[s];
		struct mk_entry *e = &sl->dir->ents[sl->idx];

		if (sl->dir == dir && e->len == len && !memcmp(e->name, name, len))
			return sl;
	}
	return NULL;
}

static void add(struct mk_inode *dir, const char *name, size_t len,
		struct mk_inode *child)
{
	struct slot *sl = mk_alloc(sizeof(*sl));

	sl->dir = dir;
	sl->idx = mk_add_entry(dir, name, len, child);
	mk_hash_insert(&lookup, name_key(dir, name, len), sl);
	if ((child->mode & S_IFMT) == S_IFDIR) {
		child->parent = dir;
		child->dname = dir->ents[sl->idx].name;
	}
}

/* Split @path into components, checking each; returns the count. */
static size_t split(char *path, char ***comps, const char *orig)
{
	size_t n = 0, cap = 16;
	char *save = NULL, *c;

	*comps = mk_realloc_array(NULL, cap, sizeof(**comps));
	for (c = strtok_r(path, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, ".."))
			mk_die("%s: '%s': paths with '..' are not accepted",
			       rd.name, orig);
		if (strlen(c) > DAXFS_NAME_MAX)
			mk_die("%s: '%s': a name is %zu bytes, longer than %u",
			       rd.name, orig, strlen(c), DAXFS_NAME_MAX);
		if (n == cap) {
			cap *= 2;
			*comps = mk_realloc_array(*comps, cap, sizeof(**comps));
		}
		(*comps)[n++] = c;
	}
	return n;
}

/* Walk to the parent directory of the last component, creating it. */
static struct mk_inode *walk_parents(char **comps, size_t n, const char *orig,
				     bool create)
{
	struct mk_inode *dir = root;
	size_t i;

	for (i = 0; i + 1 < n; i++) {
		struct slot *sl = find(dir, comps[i], strlen(comps[i]));
		struct mk_inode *next;

		if (!sl) {
			if (!create)
				return NULL;
			next = mk_new_inode(S_IFDIR | 0755);
			next->implicit = true;
			add(dir, comps[i], strlen(comps[i]), next);
		} else {
			next = sl->dir->ents[sl->idx].ino;
			if ((next->mode & S_IFMT) != S_IFDIR) {
				if (!create)
					return NULL;
				mk_die("%s: '%s': '%s' is not a directory",
				       rd.name, orig, comps[i]);
			}
		}
		dir = next;
	}
	return dir;
}

/* An explicit entry for an existing directory: its attributes, not its entries. */
static void take_attrs(struct mk_inode *dir, const struct mk_inode *node)
{
	dir->implicit = false;
	dir->mode = node->mode;
	dir->uid = node->uid;
	dir->gid = node->gid;
	dir->mtime_sec = node->mtime_sec;
	dir->mtime_nsec = node->mtime_nsec;
}

static struct mk_inode *lookup_path(const char *path)
{
	char *copy = mk_strndup(path, strlen(path)), **comps;
	struct mk_inode *dir, *res = NULL;
	size_t n = split(copy, &comps, path);
	struct slot *sl;

	if (n == 0) {
		res = root;
	} else {
		dir = walk_parents(comps, n, path, false);
		if (dir) {
			sl = find(dir, comps[n - 1], strlen(comps[n - 1]));
			if (sl)
				res = sl->dir->ents[sl->idx].ino;
		}
	}
	free(comps);
	free(copy);
	return res;
}

/* Put @node at @path (or, for a hard link, the existing @node). */
static void place(const char *path, struct mk_inode *node, bool is_link)
{
	char *copy = mk_strndup(path, strlen(path)), **comps;
	size_t n = split(copy, &comps, path);
	bool new_dir = (node->mode & S_IFMT) == S_IFDIR;
	struct mk_inode *dir, *old;
	struct slot *sl;

	if (n == 0) {
		if (!new_dir || is_link)
			mk_die("%s: '%s': only a directory can be the root",
			       rd.name, path);
		take_attrs(root, node);
		goto out;
	}
	dir = walk_parents(comps, n, path, true);
	sl = find(dir, comps[n - 1], strlen(comps[n - 1]));
	if (!sl) {
		add(dir, comps[n - 1], strlen(comps[n - 1]), node);
		goto out;
	}
	old = sl->dir->ents[sl->idx].ino;
	if ((old->mode & S_IFMT) == S_IFDIR) {
		if (!new_dir || is_link)
			mk_die("%s: '%s': would replace a directory with a non-directory",
			       rd.name, path);
		/* A directory again: it keeps its entries, takes the attributes. */
		take_attrs(old, node);
		goto out;
	}
	sl->dir->ents[sl->idx].ino = node;	/* later entry wins */
	if (new_dir) {
		node->parent = sl->dir;
		node->dname = sl->dir->ents[sl->idx].name;
	}
out:
	free(comps);
	free(copy);
}

/*
 * Directories the archive did not list get the newest mtime of their
 * entries: deepest first, so implicit subdirectories are settled before
 * their parents look at them.
 */
static void implicit_times(void)
{
	struct mk_inode **order = mk_realloc_array(NULL, mk_all_count,
						   sizeof(*order));
	size_t n = 0, i;
	uint32_t k;

	order[n++] = root;
	for (i = 0; i < n; i++)
		for (k = 0; k < order[i]->nents; k++)
			if ((order[i]->ents[k].ino->mode & S_IFMT) == S_IFDIR)
				order[n++] = order[i]->ents[k].ino;
	while (n--) {
		struct mk_inode *d = order[n];

		if (!d->implicit)
			continue;
		for (k = 0; k < d->nents; k++) {
			const struct mk_inode *c = d->ents[k].ino;

			if (k == 0 || c->mtime_sec > d->mtime_sec ||
			    (c->mtime_sec == d->mtime_sec &&
			     c->mtime_nsec > d->mtime_nsec)) {
				d->mtime_sec = c->mtime_sec;
				d->mtime_nsec = c->mtime_nsec;
			}
		}
	}
	free(order);
}

/* --- main loop ----------------------------------------------------------- */

static char *field(const char *f, size_t n)
{
	return mk_strndup(f, strnlen(f, n));
}

struct mk_inode *mk_read_tar(const char *source, const char *spool_dir)
{
	char *longname = NULL, *longlink = NULL;
	uint64_t bytes = 0, files = 0;
	struct ustar h;
	struct stat st;

	rd.name = strcmp(source, "-") ? source : "stdin";
	rd.fd = strcmp(source, "-") ? open(source, O_RDONLY | O_CLOEXEC) : 0;
	if (rd.fd < 0)
		mk_die_errno("%s", source);
	if (fstat(rd.fd, &st) < 0)
		mk_die_errno("%s", rd.name);
	if (S_ISDIR(st.st_mode))
		mk_die("%s: is a directory (drop --tar to read a directory)",
		       source);
	rd.seekable = S_ISREG(st.st_mode) && lseek(rd.fd, 0, SEEK_CUR) == 0;
	if (S_ISFIFO(st.st_mode))	/* fewer, larger reads; best effort */
		(void)!fcntl(rd.fd, F_SETPIPE_SZ, RD_BUF);
	rd.file_size = st.st_size;
	rd.buf = mk_alloc(RD_BUF);

	root = mk_new_inode(S_IFDIR | 0755);
	root->parent = root;
	root->implicit = true;
	mk_progress_start("reading archive", 0, 0);

	for (;;) {
		struct pax *pl = &pax_local, *pg = &pax_global;
		char *path, *link, type;
		struct mk_inode *node;
		uint64_t size;
		uint32_t mode;
		size_t got;

		got = rd_read(&h, BLK);
		if (got == 0 && entry_no > 0)
			break;		/* no end-of-archive blocks: accept */
		if (got != BLK)
			mk_die("%s: %s", rd.name, got ? "truncated header" :
			       "empty archive");
		entry_no++;
		if (zero_block((char *)&h, BLK))
			break;		/* end of archive */
		if (!checksum_ok(&h))
			mk_die("%s: entry %llu: bad header checksum (not a tar archive?)",
			       rd.name, (unsigned long long)entry_no);

		type = h.typeflag;
		size = num(h.size, sizeof(h.size), "size");
		switch (type) {
		case 'L':
		case 'K': {
			char **dst = type == 'L' ? &longname : &longlink;

			free(*dst);
			*dst = read_meta(size, type);
			continue;
		}
		case 'x':
		case 'g': {
			char *p = read_meta(size, type);

			pax_parse(type == 'x' ? pl : pg, p, size);
			free(p);
			continue;
		}
		}

		/* A real entry: merge name sources (PAX > GNU > ustar). */
		if (pl->path || pg->path) {
			path = mk_strndup(pl->path ? pl->path : pg->path,
					  strlen(pl->path ? pl->path : pg->path));
		} else if (longname) {
			path = longname;
			longname = NULL;
		} else if (!memcmp(h.magic, "ustar", 6) && h.prefix[0]) {
			char *pre = field(h.prefix, sizeof(h.prefix));
			char *nm = field(h.name, sizeof(h.name));

			path = mk_alloc(strlen(pre) + strlen(nm) + 2);
			sprintf(path, "%s/%s", pre, nm);
			free(pre);
			free(nm);
		} else {
			path = field(h.name, sizeof(h.name));
		}
		if (pl->linkpath || pg->linkpath) {
			const char *l = pl->linkpath ? pl->linkpath : pg->linkpath;

			link = mk_strndup(l, strlen(l));
		} else if (longlink) {
			link = longlink;
			longlink = NULL;
		} else {
			link = field(h.linkname, sizeof(h.linkname));
		}
		free(longname);
		free(longlink);
		longname = longlink = NULL;
		if (pl->has_size || pg->has_size)
			size = pl->has_size ? pl->size : pg->size;
		if ((int64_t)size < 0)
			mk_die("%s: '%s': bad size", rd.name, path);

		mode = num(h.mode, sizeof(h.mode), "mode") & 07777;
		switch (type) {
		case '0': case '\0': case '7': mode |= S_IFREG; break;
		case '1': mode = 0; break;
		case '2': mode |= S_IFLNK; break;
		case '3': mode |= S_IFCHR; break;
		case '4': mode |= S_IFBLK; break;
		case '5': mode |= S_IFDIR; break;
		case '6': mode |= S_IFIFO; break;
		default:
			mk_die("%s: '%s': unsupported tar entry type '%c'",
			       rd.name, path, type >= 32 && type < 127 ? type : '?');
		}

		if (type == '1') {
			node = lookup_path(link);
			if (!node)
				mk_die("%s: '%s': hard link target '%s' not found",
				       rd.name, path, link);
			if ((node->mode & S_IFMT) == S_IFDIR)
				mk_die("%s: '%s': hard link to a directory '%s'",
				       rd.name, path, link);
			place(path, node, true);
			rd_skip((size + BLK - 1) / BLK * BLK);
			goto next;
		}

		node = mk_new_inode(mode);
		node->uid = pl->has_uid ? pl->uid : pg->has_uid ? pg->uid :
			(uint32_t)num(h.uid, sizeof(h.uid), "uid");
		node->gid = pl->has_gid ? pl->gid : pg->has_gid ? pg->gid :
			(uint32_t)num(h.gid, sizeof(h.gid), "gid");
		if (pl->has_mtime || pg->has_mtime) {
			node->mtime_sec = pl->has_mtime ? pl->mtime_sec : pg->mtime_sec;
			node->mtime_nsec = pl->has_mtime ? pl->mtime_nsec :
				pg->mtime_nsec;
		} else {
			node->mtime_sec = num(h.mtime, sizeof(h.mtime), "mtime");
		}
		if (type == '3' || type == '4') {
			int64_t ma = num(h.devmajor, sizeof(h.devmajor), "devmajor");
			int64_t mi = num(h.devminor, sizeof(h.devminor), "devminor");

			if (ma < 0 || ma > DAXFS_RDEV_MAJOR_MAX ||
			    mi < 0 || mi > DAXFS_RDEV_MINOR_MAX)
				mk_die("%s: '%s': device number out of range",
				       rd.name, path);
			node->rdev_major = ma;
			node->rdev_minor = mi;
		}
		if (type == '2') {
			size_t l = strlen(link);

			if (l == 0)
				mk_die("%s: '%s': empty symlink target", rd.name,
				       path);
			if (l > DAXFS_SYMLINK_MAX)
				mk_die("%s: '%s': symlink target is %zu bytes, longer than %u",
				       rd.name, path, l, DAXFS_SYMLINK_MAX);
			node->target = link;
			node->size = l;
			link = NULL;
		}
		if ((mode & S_IFMT) == S_IFREG) {
			node->size = size;
			node->srcname = mk_strndup(path, strlen(path));
			if (size && rd.seekable) {
				node->srcfd = rd.fd;
				node->srcoff = rd.pos;
				rd_skip(size);
			} else if (size) {
				if (sp.fd < 0) {
					sp.fd = open(spool_dir, O_TMPFILE | O_RDWR |
						     O_CLOEXEC, 0600);
					if (sp.fd < 0) {
						char *t = mk_alloc(strlen(spool_dir) + 32);

						sprintf(t, "%s/.mkdaxfs-spool.XXXXXX",
							spool_dir);
						sp.fd = mkostemp(t, O_CLOEXEC);
						if (sp.fd < 0)
							mk_die_errno("%s: cannot create a spool file",
								     spool_dir);
						unlink(t);
						free(t);
					}
					sp.stage = mk_alloc(RD_BUF);
				}
				node->srcfd = sp.fd;
				node->srcholes = true;
				node->srcoff = spool_copy(size);
			}
			rd_skip((BLK - size % BLK) % BLK);
			bytes += size;
			files++;
		} else {
			rd_skip((size + BLK - 1) / BLK * BLK);
		}
		place(path, node, false);
next:
		free(path);
		free(link);
		pax_clear(pl);
		mk_progress(files, bytes);
	}
	mk_progress_end();
	implicit_times();
	if (longname || longlink)
		mk_die("%s: archive ends after a GNU long name header", rd.name);
	if (sp.fd >= 0 && ftruncate(sp.fd, sp.end) < 0)
		mk_die_errno("spool file");
	pax_clear(&pax_local);
	pax_clear(&pax_global);
	free(rd.buf);
	rd.buf = NULL;
	free(sp.stage);
	sp.stage = NULL;
	{
		size_t i;

		for (i = 0; lookup.keys && i <= lookup.mask; i++)
			free(lookup.vals[i]);
		mk_hash_free(&lookup);
	}
	return root;
}
