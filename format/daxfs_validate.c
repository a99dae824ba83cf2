// SPDX-License-Identifier: GPL-2.0 OR LGPL-2.1-or-later
/*
 * The daxfs image validator, shared unchanged by the kernel module and the
 * user-space tools.  FORMAT.md states the rules; this file checks them in
 * the order FORMAT.md gives ("Validation order") and reports the first
 * problem found.
 *
 * Everything read from the image is untrusted: each value is range-checked
 * before it is used as an offset, an index or a count, and every sum that
 * could wrap goes through daxfs_add_overflow().  The only allocation is one
 * u32 per inode (the reference counts), and every pass is a single loop over
 * the inode table or the dirent table, so the work is linear in the size of
 * the metadata.
 */
#include "daxfs_env.h"
#include "daxfs_validate.h"

#define DAXFS_PAGE_SIZE		4096u
#define DAXFS_TAIL_CHUNK	256u		/* stack buffer of the tail check */
#define DAXFS_CRC_CHUNK		(1u << 20)	/* CRC this much per resched */
#define DAXFS_RESCHED_MASK	1023u		/* resched every 1024 items */
#define DAXFS_NSEC_PER_SEC	1000000000u

/* Store a message in @err and evaluate to @code. */
#define daxfs_fail(err, code, fmt, ...)					\
	(snprintf((err)->msg, DAXFS_VERR_SIZE, fmt, ##__VA_ARGS__), (code))

/* The superblock fields a validated superblock yields, in CPU order. */
struct daxfs_layout {
	u64 image_size;
	u64 inode_off;
	u64 dirent_off;
	u64 names_off;
	u64 names_size;
	u64 data_off;
	u64 data_end;
	u64 align;
	u64 meta_len;
	u32 inode_count;
	u32 dirent_count;
};

static bool daxfs_all_zero(const u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * One region [off, off + count * unit) that must start at or after @min,
 * on a multiple of @unit, and end inside the image.  Yields its end.
 */
static int daxfs_check_region(const char *what, u64 off, u64 count, u64 unit,
			      u64 min, u64 image_size, u64 *end,
			      struct daxfs_verr *err)
{
	u64 len;

	if (off < min)
		return daxfs_fail(err, -EUCLEAN,
				  "superblock: %s offset 0x%llx before 0x%llx",
				  what, (unsigned long long)off,
				  (unsigned long long)min);
	if (off % unit)
		return daxfs_fail(err, -EUCLEAN,
				  "superblock: %s offset 0x%llx not a multiple of %llu",
				  what, (unsigned long long)off,
				  (unsigned long long)unit);
	if (daxfs_mul_overflow(count, unit, &len) ||
	    daxfs_add_overflow(off, len, end) || *end > image_size)
		return daxfs_fail(err, -EUCLEAN,
				  "superblock: %s [0x%llx, +0x%llx) beyond image size 0x%llx",
				  what, (unsigned long long)off,
				  (unsigned long long)count * unit,
				  (unsigned long long)image_size);
	return 0;
}

static int daxfs_check_layout(const struct daxfs_super *sb, u64 buf_size,
			      struct daxfs_layout *l, struct daxfs_verr *err)
{
	u32 magic = le32_to_cpu(sb->magic);
	u32 version = le32_to_cpu(sb->version);
	u32 incompat = le32_to_cpu(sb->incompat);
	u32 root = le32_to_cpu(sb->root_ino);
	u32 align_log2 = le32_to_cpu(sb->data_align_log2);
	u64 inode_end, dirent_end, names_end;
	const u8 *nul;
	int ret;

	if (magic != DAXFS_IMAGE_MAGIC)
		return daxfs_fail(err, -EINVAL,
				  "superblock: magic 0x%x is not daxfs (0x%x)",
				  magic, DAXFS_IMAGE_MAGIC);
	if (version != DAXFS_VERSION)
		return daxfs_fail(err, -EOPNOTSUPP,
				  "superblock: version %u not supported (only %u)",
				  version, DAXFS_VERSION);
	if (incompat & ~DAXFS_INCOMPAT_SUPP)
		return daxfs_fail(err, -EOPNOTSUPP,
				  "superblock: unsupported incompat features 0x%x",
				  incompat & ~DAXFS_INCOMPAT_SUPP);

	l->image_size = le64_to_cpu(sb->image_size);
	if (l->image_size < DAXFS_SUPER_SIZE ||
	    l->image_size > DAXFS_MAX_IMAGE_SIZE ||
	    l->image_size % DAXFS_PAGE_SIZE)
		return daxfs_fail(err, -EUCLEAN,
				  "superblock: image size 0x%llx invalid (multiple of 4096 in [0x1000, 0x%llx])",
				  (unsigned long long)l->image_size,
				  (unsigned long long)DAXFS_MAX_IMAGE_SIZE);
	if (l->image_size > buf_size)
		return daxfs_fail(err, -EFBIG,
				  "superblock: image size 0x%llx larger than buffer size 0x%llx",
				  (unsigned long long)l->image_size,
				  (unsigned long long)buf_size);

	if (root != DAXFS_ROOT_INO)
		return daxfs_fail(err, -EUCLEAN,
				  "superblock: root inode %u, expected %u",
				  root, DAXFS_ROOT_INO);
	l->inode_count = le32_to_cpu(sb->inode_count);
	if (l->inode_count < 1 || l->inode_count > DAXFS_MAX_INODES)
		return daxfs_fail(err, -EUCLEAN,
				  "superblock: inode count %u not in 1..%u",
				  l->inode_count, DAXFS_MAX_INODES);
	l->dirent_count = le32_to_cpu(sb->dirent_count);
	if (l->dirent_count > DAXFS_MAX_DIRENTS)
		return daxfs_fail(err, -EUCLEAN,
				  "superblock: dirent count %u above %u",
				  l->dirent_count, DAXFS_MAX_DIRENTS);
	if (align_log2 < DAXFS_ALIGN_LOG2_MIN ||
	    align_log2 > DAXFS_ALIGN_LOG2_MAX)
		return daxfs_fail(err, -EUCLEAN,
				  "superblock: data_align_log2 %u not in %u..%u",
				  align_log2, DAXFS_ALIGN_LOG2_MIN,
				  DAXFS_ALIGN_LOG2_MAX);
	l->align = 1ull << align_log2;

	l->inode_off = le64_to_cpu(sb->inode_off);
	ret = daxfs_check_region("inode table", l->inode_off, l->inode_count,
				 DAXFS_INODE_SIZE, DAXFS_SUPER_SIZE,
				 l->image_size, &inode_end, err);
	if (ret)
		return ret;
	l->dirent_off = le64_to_cpu(sb->dirent_off);
	ret = daxfs_check_region("dirent table", l->dirent_off,
				 l->dirent_count, DAXFS_DIRENT_SIZE, inode_end,
				 l->image_size, &dirent_end, err);
	if (ret)
		return ret;
	l->names_size = le64_to_cpu(sb->names_size);
	if (l->names_size > DAXFS_MAX_NAMES_SIZE)
		return daxfs_fail(err, -EUCLEAN,
				  "superblock: string table size 0x%llx above 0x%llx",
				  (unsigned long long)l->names_size,
				  (unsigned long long)DAXFS_MAX_NAMES_SIZE);
	l->names_off = le64_to_cpu(sb->names_off);
	ret = daxfs_check_region("string table", l->names_off, l->names_size,
				 1, dirent_end, l->image_size, &names_end, err);
	if (ret)
		return ret;
	l->data_off = le64_to_cpu(sb->data_off);
	ret = daxfs_check_region("data area", l->data_off,
				 le64_to_cpu(sb->data_size), 1, names_end,
				 l->image_size, &l->data_end, err);
	if (ret)
		return ret;
	if (l->data_off % l->align)
		return daxfs_fail(err, -EUCLEAN,
				  "superblock: data offset 0x%llx not aligned to 0x%llx",
				  (unsigned long long)l->data_off,
				  (unsigned long long)l->align);
	l->meta_len = names_end - l->inode_off;

	/* The label is NUL-padded: nothing but NULs after the first NUL. */
	nul = memchr(sb->label, 0, DAXFS_LABEL_SIZE);
	if (nul && !daxfs_all_zero(nul, sb->label + DAXFS_LABEL_SIZE - nul))
		return daxfs_fail(err, -EUCLEAN,
				  "superblock: label has bytes after its NUL terminator");
	if (sb->reserved0 || !daxfs_all_zero(sb->reserved,
					     sizeof(sb->reserved)))
		return daxfs_fail(err, -EUCLEAN,
				  "superblock: reserved bytes not zero");
	return 0;
}

int daxfs_check_super(const struct daxfs_super *sb, __u64 buf_size,
		      __u64 *meta_len, struct daxfs_verr *err)
{
	struct daxfs_layout l;
	int ret;

	ret = daxfs_check_layout(sb, buf_size, &l, err);
	if (ret)
		return ret;
	*meta_len = l.meta_len;
	return 0;
}

__u32 daxfs_image_crc(const struct daxfs_super *sb, const void *meta,
		      __u64 meta_len)
{
	const u8 *p = (const u8 *)sb;
	const u8 *field = (const void *)&sb->crc32c;
	const u8 zero[sizeof(sb->crc32c)] = { 0 };
	size_t at = field - p;
	size_t n;
	u32 crc = ~0u;

	crc = daxfs_crc32c_update(crc, p, at);
	crc = daxfs_crc32c_update(crc, zero, sizeof(zero));
	at += sizeof(zero);
	crc = daxfs_crc32c_update(crc, p + at, DAXFS_SUPER_SIZE - at);

	p = meta;
	while (meta_len) {
		n = meta_len < DAXFS_CRC_CHUNK ? meta_len : DAXFS_CRC_CHUNK;
		crc = daxfs_crc32c_update(crc, p, n);
		p += n;
		meta_len -= n;
		daxfs_cond_resched();
	}
	return ~crc;
}

static u32 daxfs_type(const struct daxfs_inode *di)
{
	return le16_to_cpu(di->mode) & DAXFS_S_IFMT;
}

/* Running state of the inode pass: the next free data offset and dirent. */
struct daxfs_cursor {
	u64 data;
	u64 dirent;
};

/*
 * An empty regular file or directory (@type) places nothing: its offset,
 * the data offset or the first entry, must be 0.
 */
static int daxfs_check_empty(u32 ino, u32 type, u64 off,
			     struct daxfs_verr *err)
{
	if (!off)
		return 0;
	return daxfs_fail(err, -EUCLEAN,
			  type == DAXFS_S_IFDIR ?
			  "directory %u: empty, but first entry %llu" :
			  "inode %u: empty file with data offset 0x%llx",
			  ino, (unsigned long long)off);
}

static int daxfs_check_reg(const struct daxfs_layout *l, u32 ino, u64 size,
			   u64 off, struct daxfs_cursor *cur,
			   struct daxfs_verr *err)
{
	u64 end;

	if (!size)
		return daxfs_check_empty(ino, DAXFS_S_IFREG, off, err);
	if (off % l->align)
		return daxfs_fail(err, -EUCLEAN,
				  "inode %u: data offset 0x%llx not aligned to 0x%llx",
				  ino, (unsigned long long)off,
				  (unsigned long long)l->align);
	if (off < l->data_off)
		return daxfs_fail(err, -EUCLEAN,
				  "inode %u: data offset 0x%llx before data area start 0x%llx",
				  ino, (unsigned long long)off,
				  (unsigned long long)l->data_off);
	if (off < cur->data)
		return daxfs_fail(err, -EUCLEAN,
				  "inode %u: data offset 0x%llx overlaps the previous file (next free 0x%llx)",
				  ino, (unsigned long long)off,
				  (unsigned long long)cur->data);
	if (daxfs_add_overflow(off, size, &end) || end > l->data_end)
		return daxfs_fail(err, -EUCLEAN,
				  "inode %u: data end 0x%llx+0x%llx beyond data area end 0x%llx",
				  ino, (unsigned long long)off,
				  (unsigned long long)size,
				  (unsigned long long)l->data_end);
	/* end <= 2^52 and align <= 2^30: rounding up cannot wrap. */
	cur->data = (end + l->align - 1) & ~(l->align - 1);
	return 0;
}

static int daxfs_check_dir(const struct daxfs_layout *l, u32 ino, u64 size,
			   u64 off, struct daxfs_cursor *cur,
			   struct daxfs_verr *err)
{
	if (!size)
		return daxfs_check_empty(ino, DAXFS_S_IFDIR, off, err);
	if (off != cur->dirent)
		return daxfs_fail(err, -EUCLEAN,
				  "directory %u: first entry %llu, expected %llu (after the previous directory's)",
				  ino, (unsigned long long)off,
				  (unsigned long long)cur->dirent);
	if (size > l->dirent_count - cur->dirent)
		return daxfs_fail(err, -EUCLEAN,
				  "directory %u: %llu entries from %llu beyond dirent count %u",
				  ino, (unsigned long long)size,
				  (unsigned long long)off, l->dirent_count);
	cur->dirent += size;
	return 0;
}

static int daxfs_check_inode(const struct daxfs_layout *l,
			     const struct daxfs_inode *tab, const u8 *names,
			     u32 ino, struct daxfs_cursor *cur,
			     struct daxfs_verr *err)
{
	const struct daxfs_inode *di = &tab[ino - 1];
	u32 type = daxfs_type(di);
	u32 parent = le32_to_cpu(di->parent);
	u64 size = le64_to_cpu(di->size);
	u64 off = le64_to_cpu(di->offset);

	switch (type) {
	case DAXFS_S_IFREG:
	case DAXFS_S_IFDIR:
	case DAXFS_S_IFLNK:
	case DAXFS_S_IFCHR:
	case DAXFS_S_IFBLK:
	case DAXFS_S_IFIFO:
	case DAXFS_S_IFSOCK:
		break;
	default:
		return daxfs_fail(err, -EUCLEAN,
				  "inode %u: invalid file type in mode 0%o",
				  ino, (unsigned int)le16_to_cpu(di->mode));
	}
	if (ino == DAXFS_ROOT_INO && type != DAXFS_S_IFDIR)
		return daxfs_fail(err, -EUCLEAN,
				  "inode %u: root is not a directory (mode 0%o)",
				  ino, (unsigned int)le16_to_cpu(di->mode));
	if (di->reserved0 || !daxfs_all_zero(di->reserved,
					     sizeof(di->reserved)))
		return daxfs_fail(err, -EUCLEAN,
				  "inode %u: reserved bytes not zero", ino);
	if (le32_to_cpu(di->mtime_nsec) >= DAXFS_NSEC_PER_SEC)
		return daxfs_fail(err, -EUCLEAN,
				  "inode %u: mtime_nsec %u not below 1000000000",
				  ino, le32_to_cpu(di->mtime_nsec));
	if (le32_to_cpu(di->rdev_major) > DAXFS_RDEV_MAJOR_MAX ||
	    le32_to_cpu(di->rdev_minor) > DAXFS_RDEV_MINOR_MAX)
		return daxfs_fail(err, -EUCLEAN,
				  "inode %u: device number %u:%u beyond 12:20 bits",
				  ino, le32_to_cpu(di->rdev_major),
				  le32_to_cpu(di->rdev_minor));
	if (type != DAXFS_S_IFCHR && type != DAXFS_S_IFBLK &&
	    (di->rdev_major || di->rdev_minor))
		return daxfs_fail(err, -EUCLEAN,
				  "inode %u: device number %u:%u on a non-device",
				  ino, le32_to_cpu(di->rdev_major),
				  le32_to_cpu(di->rdev_minor));

	if (type != DAXFS_S_IFDIR) {
		if (parent)
			return daxfs_fail(err, -EUCLEAN,
					  "inode %u: parent %u on a non-directory",
					  ino, parent);
	} else if (ino == DAXFS_ROOT_INO) {
		if (parent != DAXFS_ROOT_INO)
			return daxfs_fail(err, -EUCLEAN,
					  "directory %u: root's parent is %u, not itself",
					  ino, parent);
	} else if (parent < 1 || parent >= ino) {
		return daxfs_fail(err, -EUCLEAN,
				  "directory %u: parent %u not in 1..%u",
				  ino, parent, ino - 1);
	} else if (daxfs_type(&tab[parent - 1]) != DAXFS_S_IFDIR) {
		return daxfs_fail(err, -EUCLEAN,
				  "directory %u: parent %u is not a directory",
				  ino, parent);
	}

	switch (type) {
	case DAXFS_S_IFREG:
		return daxfs_check_reg(l, ino, size, off, cur, err);
	case DAXFS_S_IFDIR:
		return daxfs_check_dir(l, ino, size, off, cur, err);
	case DAXFS_S_IFLNK:
		if (size < 1 || size > DAXFS_SYMLINK_MAX)
			return daxfs_fail(err, -EUCLEAN,
					  "inode %u: symlink target length %llu not in 1..%u",
					  ino, (unsigned long long)size,
					  DAXFS_SYMLINK_MAX);
		if (off > l->names_size || size > l->names_size - off)
			return daxfs_fail(err, -EUCLEAN,
					  "inode %u: symlink target [0x%llx, +%llu) beyond string table size 0x%llx",
					  ino, (unsigned long long)off,
					  (unsigned long long)size,
					  (unsigned long long)l->names_size);
		if (memchr(names + off, 0, size))
			return daxfs_fail(err, -EUCLEAN,
					  "inode %u: symlink target contains a NUL byte",
					  ino);
		return 0;
	default:
		if (size || off)
			return daxfs_fail(err, -EUCLEAN,
					  "inode %u: special file with size %llu offset 0x%llx",
					  ino, (unsigned long long)size,
					  (unsigned long long)off);
		return 0;
	}
}

static int daxfs_check_inodes(const struct daxfs_layout *l,
			      const struct daxfs_inode *tab, const u8 *names,
			      struct daxfs_verr *err)
{
	struct daxfs_cursor cur = { .data = l->data_off, .dirent = 0 };
	u32 ino;
	int ret;

	for (ino = 1; ino <= l->inode_count; ino++) {
		ret = daxfs_check_inode(l, tab, names, ino, &cur, err);
		if (ret)
			return ret;
		if (!(ino & DAXFS_RESCHED_MASK))
			daxfs_cond_resched();
	}
	if (cur.dirent != l->dirent_count)
		return daxfs_fail(err, -EUCLEAN,
				  "dirent table: directories own %llu of its %u entries",
				  (unsigned long long)cur.dirent, l->dirent_count);
	return 0;
}

/* memcmp order on the common length, then the shorter name first. */
static int daxfs_name_cmp(const u8 *a, u32 alen, const u8 *b, u32 blen)
{
	int cmp = memcmp(a, b, alen < blen ? alen : blen);

	if (cmp)
		return cmp;
	if (alen == blen)
		return 0;
	return alen < blen ? -1 : 1;
}

/* The entries of one directory, checked in order. */
struct daxfs_dir_walk {
	const struct daxfs_layout *l;
	const struct daxfs_inode *tab;
	const u8 *names;
	u32 *refs;
	u32 dir;
	u64 subdirs;
	const u8 *prev;
	u32 prev_len;
};

static int daxfs_check_dirent(struct daxfs_dir_walk *w,
			      const struct daxfs_dirent *de, u64 k,
			      struct daxfs_verr *err)
{
	const struct daxfs_layout *l = w->l;
	u32 ino = le32_to_cpu(de->ino);
	u32 name_off = le32_to_cpu(de->name_off);
	u32 len = le16_to_cpu(de->name_len);
	unsigned long long e = k;
	const struct daxfs_inode *ti;
	const u8 *name;
	u32 type;

	if (ino < 1 || ino > l->inode_count)
		return daxfs_fail(err, -EUCLEAN,
				  "directory %u entry %llu (ino %u): inode number not in 1..%u",
				  w->dir, e, ino, l->inode_count);
	if (ino == DAXFS_ROOT_INO)
		return daxfs_fail(err, -EUCLEAN,
				  "directory %u entry %llu (ino %u): refers to the root directory",
				  w->dir, e, ino);
	if (de->reserved0 || de->reserved1)
		return daxfs_fail(err, -EUCLEAN,
				  "directory %u entry %llu (ino %u): reserved bytes not zero",
				  w->dir, e, ino);
	if (len < 1 || len > DAXFS_NAME_MAX)
		return daxfs_fail(err, -EUCLEAN,
				  "directory %u entry %llu (ino %u): name length %u not in 1..%u",
				  w->dir, e, ino, len, DAXFS_NAME_MAX);
	if ((u64)name_off + len > l->names_size)
		return daxfs_fail(err, -EUCLEAN,
				  "directory %u entry %llu (ino %u): name [0x%x, +%u) beyond string table size 0x%llx",
				  w->dir, e, ino, name_off, len,
				  (unsigned long long)l->names_size);
	name = w->names + name_off;
	if (memchr(name, '/', len) || memchr(name, 0, len))
		return daxfs_fail(err, -EUCLEAN,
				  "directory %u entry %llu (ino %u): name contains '/' or NUL",
				  w->dir, e, ino);
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return daxfs_fail(err, -EUCLEAN,
				  "directory %u entry %llu (ino %u): name is \".\" or \"..\"",
				  w->dir, e, ino);
	if (w->prev) {
		int cmp = daxfs_name_cmp(w->prev, w->prev_len, name, len);

		if (!cmp)
			return daxfs_fail(err, -EUCLEAN,
					  "directory %u entry %llu (ino %u): duplicate of the previous entry's name",
					  w->dir, e, ino);
		if (cmp > 0)
			return daxfs_fail(err, -EUCLEAN,
					  "directory %u entry %llu (ino %u): name not sorted after previous entry",
					  w->dir, e, ino);
	}
	w->prev = name;
	w->prev_len = len;

	ti = &w->tab[ino - 1];
	type = daxfs_type(ti);
	/* For the seven valid types, S_IFMT >> 12 is the DT_* value. */
	if (de->type != type >> 12)
		return daxfs_fail(err, -EUCLEAN,
				  "directory %u entry %llu (ino %u): type %u, but the inode's type is %u",
				  w->dir, e, ino, de->type, type >> 12);
	if (type == DAXFS_S_IFDIR) {
		if (le32_to_cpu(ti->parent) != w->dir)
			return daxfs_fail(err, -EUCLEAN,
					  "directory %u entry %llu (ino %u): directory whose parent is %u",
					  w->dir, e, ino,
					  le32_to_cpu(ti->parent));
		if (w->refs[ino - 1])
			return daxfs_fail(err, -EUCLEAN,
					  "directory %u entry %llu (ino %u): directory referenced twice",
					  w->dir, e, ino);
		w->subdirs++;
	}
	/* At most dirent_count <= 2^31 references: no overflow. */
	w->refs[ino - 1]++;
	return 0;
}

static int daxfs_check_dirs(const struct daxfs_layout *l,
			    const struct daxfs_inode *tab,
			    const struct daxfs_dirent *dirents,
			    const u8 *names, u32 *refs, struct daxfs_verr *err)
{
	struct daxfs_dir_walk w = {
		.l = l, .tab = tab, .names = names, .refs = refs,
	};
	const struct daxfs_inode *di;
	u64 k, off, size, done = 0;
	u32 nlink;
	int ret;

	for (w.dir = 1; w.dir <= l->inode_count; w.dir++) {
		di = &tab[w.dir - 1];
		if (daxfs_type(di) != DAXFS_S_IFDIR)
			continue;
		/* The inode pass proved [off, off + size) is in the table. */
		off = le64_to_cpu(di->offset);
		size = le64_to_cpu(di->size);
		w.subdirs = 0;
		w.prev = NULL;
		w.prev_len = 0;
		for (k = 0; k < size; k++) {
			ret = daxfs_check_dirent(&w, &dirents[off + k], k, err);
			if (ret)
				return ret;
			if (!(++done & DAXFS_RESCHED_MASK))
				daxfs_cond_resched();
		}
		nlink = le32_to_cpu(di->nlink);
		if (nlink != 2 + w.subdirs)
			return daxfs_fail(err, -EUCLEAN,
					  "directory %u: nlink %u, expected %llu (2 + %llu subdirectories)",
					  w.dir, nlink,
					  (unsigned long long)(2 + w.subdirs),
					  (unsigned long long)w.subdirs);
	}
	return 0;
}

static int daxfs_check_links(const struct daxfs_layout *l,
			     const struct daxfs_inode *tab, const u32 *refs,
			     struct daxfs_verr *err)
{
	const struct daxfs_inode *di;
	u32 ino, nlink;

	for (ino = DAXFS_ROOT_INO + 1; ino <= l->inode_count; ino++) {
		di = &tab[ino - 1];
		if (!refs[ino - 1])
			return daxfs_fail(err, -EUCLEAN,
					  "inode %u: not referenced by any directory entry",
					  ino);
		nlink = le32_to_cpu(di->nlink);
		if (daxfs_type(di) != DAXFS_S_IFDIR && nlink != refs[ino - 1])
			return daxfs_fail(err, -EUCLEAN,
					  "inode %u: nlink %u, but %u directory entries refer to it",
					  ino, nlink, refs[ino - 1]);
		if (!(ino & DAXFS_RESCHED_MASK))
			daxfs_cond_resched();
	}
	return 0;
}

/* The bytes from the end of a file to the next 4096 boundary are zero. */
static int daxfs_check_tail(u32 ino, u64 end, daxfs_read_fn read, void *priv,
			    struct daxfs_verr *err)
{
	u8 buf[DAXFS_TAIL_CHUNK];
	u64 pos = end;
	u32 n, i;
	int ret;

	while (pos % DAXFS_PAGE_SIZE) {
		n = DAXFS_PAGE_SIZE - pos % DAXFS_PAGE_SIZE;
		if (n > sizeof(buf))
			n = sizeof(buf);
		ret = read(priv, pos, buf, n);
		if (ret < 0)
			return daxfs_fail(err, ret,
					  "inode %u: reading the tail at 0x%llx failed (%d)",
					  ino, (unsigned long long)pos, ret);
		for (i = 0; i < n; i++)
			if (buf[i])
				return daxfs_fail(err, -EUCLEAN,
						  "inode %u: byte 0x%llx after the file end 0x%llx is not zero",
						  ino,
						  (unsigned long long)(pos + i),
						  (unsigned long long)end);
		pos += n;
	}
	return 0;
}

static int daxfs_check_tails(const struct daxfs_layout *l,
			     const struct daxfs_inode *tab,
			     daxfs_read_fn read, void *priv,
			     struct daxfs_verr *err)
{
	const struct daxfs_inode *di;
	u64 size;
	u32 ino;
	int ret;

	for (ino = 1; ino <= l->inode_count; ino++) {
		di = &tab[ino - 1];
		size = le64_to_cpu(di->size);
		if (daxfs_type(di) != DAXFS_S_IFREG || !size)
			continue;
		/* Checked by the inode pass: offset + size <= data end. */
		ret = daxfs_check_tail(ino, le64_to_cpu(di->offset) + size,
				       read, priv, err);
		if (ret)
			return ret;
		if (!(ino & DAXFS_RESCHED_MASK))
			daxfs_cond_resched();
	}
	return 0;
}

int daxfs_check_meta(const struct daxfs_super *sb, const void *meta,
		     daxfs_read_fn read, void *priv, struct daxfs_verr *err)
{
	const struct daxfs_inode *tab = meta;
	const struct daxfs_dirent *dirents;
	struct daxfs_layout l;
	const u8 *names;
	u32 crc, want;
	u32 *refs;
	int ret;

	/*
	 * Re-derive the layout (cheap) so that this step is safe on its own,
	 * whatever the caller did with daxfs_check_super().  The buffer size
	 * is not known here; the caller checked it.
	 */
	ret = daxfs_check_layout(sb, DAXFS_MAX_IMAGE_SIZE, &l, err);
	if (ret)
		return ret;

	want = le32_to_cpu(sb->crc32c);
	crc = daxfs_image_crc(sb, meta, l.meta_len);
	if (crc != want)
		return daxfs_fail(err, -EUCLEAN,
				  "superblock: crc32c 0x%08x does not match computed 0x%08x",
				  want, crc);

	dirents = (const void *)((const u8 *)meta +
				 (l.dirent_off - l.inode_off));
	names = (const u8 *)meta + (l.names_off - l.inode_off);

	ret = daxfs_check_inodes(&l, tab, names, err);
	if (ret)
		return ret;

	refs = daxfs_zalloc(l.inode_count, sizeof(*refs));
	if (!refs)
		return daxfs_fail(err, -ENOMEM,
				  "out of memory for %u link counts",
				  l.inode_count);
	ret = daxfs_check_dirs(&l, tab, dirents, names, refs, err);
	if (!ret)
		ret = daxfs_check_links(&l, tab, refs, err);
	daxfs_free(refs);
	if (ret)
		return ret;

	if (read)
		return daxfs_check_tails(&l, tab, read, priv, err);
	return 0;
}
