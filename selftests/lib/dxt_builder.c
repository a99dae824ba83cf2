// SPDX-License-Identifier: GPL-2.0
/*
 * In-memory daxfs image builder for tests and the fuzz corpus; see
 * dxt_builder.h.  Deliberately simple: arrays grown with realloc, entries
 * sorted with qsort, everything laid out in one pass.
 */
#include "dxt_builder.h"

struct tb_ino {
	u32 type;
	u32 perm;
	u32 parent;		/* directories */
	u64 size;		/* files */
	char *target;		/* symlinks */
	u32 major, minor;
};

struct tb_ent {
	u32 dir;
	u32 ino;
	char *name;
	size_t len;
	size_t seq;		/* creation order, to keep qsort stable */
};

struct tb {
	u32 align_log2;
	struct tb_ino *ino;
	size_t nino, cap_ino;
	struct tb_ent *ent;
	size_t nent, cap_ent;
	size_t slack;
	u64 extra;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "builder: out of memory\n");
		abort();
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xrealloc(NULL, n), s, n);
}

static u32 add_ino(struct tb *t, u32 type, u32 perm)
{
	struct tb_ino *i;

	if (t->nino == t->cap_ino) {
		t->cap_ino = t->cap_ino ? 2 * t->cap_ino : 16;
		t->ino = xrealloc(t->ino, t->cap_ino * sizeof(*t->ino));
	}
	i = &t->ino[t->nino++];
	memset(i, 0, sizeof(*i));
	i->type = type;
	i->perm = perm;
	return (u32)t->nino;
}

void tb_link(struct tb *t, u32 parent, const char *name, u32 ino)
{
	struct tb_ent *e;

	if (t->nent == t->cap_ent) {
		t->cap_ent = t->cap_ent ? 2 * t->cap_ent : 16;
		t->ent = xrealloc(t->ent, t->cap_ent * sizeof(*t->ent));
	}
	e = &t->ent[t->nent];
	e->dir = parent;
	e->ino = ino;
	e->name = xstrdup(name);
	e->len = strlen(name);
	e->seq = t->nent++;
}

struct tb *tb_new(u32 align_log2)
{
	struct tb *t = xrealloc(NULL, sizeof(*t));

	memset(t, 0, sizeof(*t));
	t->align_log2 = align_log2;
	add_ino(t, DAXFS_S_IFDIR, 0755);
	t->ino[0].parent = DAXFS_ROOT_INO;
	return t;
}

void tb_free(struct tb *t)
{
	size_t i;

	for (i = 0; i < t->nino; i++)
		free(t->ino[i].target);
	for (i = 0; i < t->nent; i++)
		free(t->ent[i].name);
	free(t->ino);
	free(t->ent);
	free(t);
}

u32 tb_dir(struct tb *t, u32 parent, const char *name)
{
	u32 ino = add_ino(t, DAXFS_S_IFDIR, 0755);

	t->ino[ino - 1].parent = parent;
	tb_link(t, parent, name, ino);
	return ino;
}

u32 tb_file(struct tb *t, u32 parent, const char *name, u64 size)
{
	u32 ino = add_ino(t, DAXFS_S_IFREG, 0644);

	t->ino[ino - 1].size = size;
	tb_link(t, parent, name, ino);
	return ino;
}

u32 tb_fill(struct tb *t, u32 dir, const char *fmt, u32 count, u32 every,
	    bool nest)
{
	char name[256];
	u32 i;

	for (i = 0; i < count; i++) {
		snprintf(name, sizeof(name), fmt, i);
		if (i % every)
			tb_file(t, dir, name, 0);
		else if (nest)
			dir = tb_dir(t, dir, name);
		else
			tb_file(t, dir, name, 1 + i / 100);
	}
	return dir;
}

u32 tb_symlink(struct tb *t, u32 parent, const char *name,
	       const char *target)
{
	u32 ino = add_ino(t, DAXFS_S_IFLNK, 0777);

	t->ino[ino - 1].target = xstrdup(target);
	tb_link(t, parent, name, ino);
	return ino;
}

u32 tb_special(struct tb *t, u32 parent, const char *name, u32 type,
	       u32 major, u32 minor)
{
	u32 ino = add_ino(t, type, 0600);

	t->ino[ino - 1].major = major;
	t->ino[ino - 1].minor = minor;
	tb_link(t, parent, name, ino);
	return ino;
}

void tb_set_slack(struct tb *t, size_t slack)
{
	t->slack = slack;
}

void tb_set_extra(struct tb *t, u64 extra)
{
	t->extra = extra;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct tb_ent *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c;

	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	c = memcmp(x->name, y->name, n);
	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static u64 round_up(u64 v, u64 a)
{
	return (v + a - 1) / a * a;
}

static u8 pattern(u32 ino, u64 i)
{
	return (u8)((i * 131 + ino * 7) % 255 + 1);
}

int tb_build(struct tb *t, struct tb_image *img)
{
	u64 align = 1ull << t->align_log2;
	u64 inode_off = DAXFS_SUPER_SIZE, dirent_off, names_off, data_off;
	u64 names_used = 0, cursor, end, *foff;
	u32 *nlink, *first, *count;
	struct daxfs_super *sb;
	size_t i, n = t->nino;
	u8 *names;

	if (t->nent)
		qsort(t->ent, t->nent, sizeof(*t->ent), ent_cmp);
	nlink = calloc(n, sizeof(*nlink));
	first = calloc(n, sizeof(*first));
	count = calloc(n, sizeof(*count));
	foff = calloc(n, sizeof(*foff));
	if (!nlink || !first || !count || !foff)
		abort();
	for (i = 0; i < t->nent; i++) {
		const struct tb_ent *e = &t->ent[i];

		if (!count[e->dir - 1])
			first[e->dir - 1] = (u32)i;
		count[e->dir - 1]++;
		names_used += e->len;
		if (t->ino[e->ino - 1].type == DAXFS_S_IFDIR)
			nlink[e->dir - 1]++;
		else
			nlink[e->ino - 1]++;
	}
	for (i = 0; i < n; i++) {
		if (t->ino[i].type == DAXFS_S_IFDIR)
			nlink[i] += 2;
		if (t->ino[i].target)
			names_used += strlen(t->ino[i].target);
	}

	dirent_off = inode_off + (u64)n * DAXFS_INODE_SIZE;
	names_off = dirent_off + (u64)t->nent * DAXFS_DIRENT_SIZE;
	/* An odd multiple of the alignment: no larger alignment fits. */
	data_off = round_up(names_off + names_used, align);
	if (!((data_off >> t->align_log2) & 1))
		data_off += align;
	cursor = data_off;
	end = data_off;
	for (i = 0; i < n; i++) {
		if (t->ino[i].type != DAXFS_S_IFREG || !t->ino[i].size)
			continue;
		foff[i] = round_up(cursor, align);
		cursor = end = foff[i] + t->ino[i].size;
	}
	img->image_size = round_up(end, 4096) + t->extra;
	img->size = img->image_size + t->slack;
	img->buf = calloc(1, img->size);
	if (!img->buf)
		return -ENOMEM;

	sb = (struct daxfs_super *)img->buf;
	sb->magic = cpu_to_le32(DAXFS_IMAGE_MAGIC);
	sb->version = cpu_to_le32(DAXFS_VERSION);
	sb->image_size = cpu_to_le64(img->image_size);
	sb->inode_off = cpu_to_le64(inode_off);
	sb->inode_count = cpu_to_le32((u32)n);
	sb->root_ino = cpu_to_le32(DAXFS_ROOT_INO);
	sb->dirent_off = cpu_to_le64(dirent_off);
	sb->dirent_count = cpu_to_le32((u32)t->nent);
	sb->data_align_log2 = cpu_to_le32(t->align_log2);
	sb->names_off = cpu_to_le64(names_off);
	sb->names_size = cpu_to_le64(data_off - names_off);
	sb->data_off = cpu_to_le64(data_off);
	sb->data_size = cpu_to_le64(end - data_off);
	for (i = 0; i < DAXFS_UUID_SIZE; i++)
		sb->uuid[i] = (u8)(0xa0 + i);
	memcpy(sb->label, "daxfs-test", 10);

	names = img->buf + names_off;
	for (i = 0; i < t->nent; i++) {
		struct daxfs_dirent *d = (struct daxfs_dirent *)
			(img->buf + dirent_off + i * DAXFS_DIRENT_SIZE);
		const struct tb_ent *e = &t->ent[i];

		d->ino = cpu_to_le32(e->ino);
		d->name_off = cpu_to_le32((u32)(names - img->buf - names_off));
		d->name_len = cpu_to_le16((u16)e->len);
		d->type = (u8)(t->ino[e->ino - 1].type >> 12);
		memcpy(names, e->name, e->len);
		names += e->len;
	}
	for (i = 0; i < n; i++) {
		struct daxfs_inode *d = (struct daxfs_inode *)
			(img->buf + inode_off + i * DAXFS_INODE_SIZE);
		const struct tb_ino *s = &t->ino[i];
		u64 k;

		d->mode = cpu_to_le16((u16)(s->type | s->perm));
		d->nlink = cpu_to_le32(nlink[i]);
		d->uid = cpu_to_le32((u32)(1000 + i));
		d->gid = cpu_to_le32((u32)(100 + i));
		d->mtime_sec = cpu_to_le64((u64)(1700000000 + i));
		d->mtime_nsec = cpu_to_le32((u32)(i * 1001));
		switch (s->type) {
		case DAXFS_S_IFDIR:
			d->parent = cpu_to_le32(s->parent);
			d->size = cpu_to_le64(count[i]);
			d->offset = cpu_to_le64(count[i] ? first[i] : 0);
			break;
		case DAXFS_S_IFREG:
			d->size = cpu_to_le64(s->size);
			d->offset = cpu_to_le64(foff[i]);
			for (k = 0; k < s->size; k++)
				img->buf[foff[i] + k] = pattern((u32)i + 1, k);
			break;
		case DAXFS_S_IFLNK:
			d->size = cpu_to_le64(strlen(s->target));
			d->offset = cpu_to_le64((u64)(names - img->buf -
						      names_off));
			memcpy(names, s->target, strlen(s->target));
			names += strlen(s->target);
			break;
		default:
			d->rdev_major = cpu_to_le32(s->major);
			d->rdev_minor = cpu_to_le32(s->minor);
			break;
		}
	}
	free(nlink);
	free(first);
	free(count);
	free(foff);
	tb_fix_crc(img->buf, img->size);
	return 0;
}

void tb_fix_crc(u8 *buf, size_t size)
{
	struct daxfs_super sb;
	struct daxfs_verr err;
	u64 len, off;

	if (size < DAXFS_SUPER_SIZE)
		return;
	memcpy(&sb, buf, sizeof(sb));
	if (daxfs_check_super(&sb, size, &len, &err))
		return;
	off = le64_to_cpu(sb.inode_off);
	sb.crc32c = cpu_to_le32(daxfs_image_crc(&sb, buf + off, len));
	memcpy(buf + ((u8 *)&sb.crc32c - (u8 *)&sb), &sb.crc32c, 4);
}

struct tb *tb_sample(u32 align_log2)
{
	struct tb *t = tb_new(align_log2);
	u32 bin, dev, etc, ssl, usr, lib, passwd, mix;

	bin = tb_dir(t, 1, "bin");
	dev = tb_dir(t, 1, "dev");
	etc = tb_dir(t, 1, "etc");
	tb_file(t, bin, "sh", 5000);
	tb_symlink(t, bin, "ls", "sh");
	tb_special(t, dev, "null", DAXFS_S_IFCHR, 1, 3);
	tb_special(t, dev, "sda", DAXFS_S_IFBLK, 8, 0);
	tb_special(t, dev, "initctl", DAXFS_S_IFIFO, 0, 0);
	tb_special(t, dev, "log", DAXFS_S_IFSOCK, 0, 0);
	passwd = tb_file(t, etc, "passwd", 100);
	tb_file(t, etc, "hosts", 4096);
	tb_file(t, etc, "empty", 0);
	tb_link(t, etc, "motd", passwd);
	ssl = tb_dir(t, etc, "ssl");
	tb_dir(t, ssl, "certs");
	tb_symlink(t, 1, "lib", "usr/lib");
	usr = tb_dir(t, 1, "usr");
	lib = tb_dir(t, usr, "lib");
	tb_file(t, lib, "libc.so", 9000);
	tb_link(t, 1, "passwd.bak", passwd);
	tb_file(t, 1, "zz", 1);
	/* Unsigned byte order: 'A' < 'Z' < 'a' < 0xc3 < 0xff. */
	mix = tb_dir(t, 1, "mix");
	tb_file(t, mix, "\xff", 3);
	tb_file(t, mix, "a", 2);
	tb_file(t, mix, "\xc3\xa9t\xc3\xa9", 7);
	tb_file(t, mix, "Z", 4);
	tb_file(t, mix, "A", 5);
	tb_file(t, mix, "ab", 6);
	return t;
}
