// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the shared validator (daxfs_validate.c), TAP on stdout.
 *
 * Images are built in memory (builder.c).  Besides hand-written cases with
 * exact errno and message checks, every field of the superblock, of each
 * inode and of each directory entry is mutated (with the CRC recomputed so
 * that the structural checks are reached) and the validator's verdict is
 * compared with ref_check(), a second, deliberately naive reading of
 * FORMAT.md written in a different style (raw byte offsets, 128-bit sums,
 * pairwise name comparisons, a recursive tree walk).  Run under ASan+UBSan
 * this also proves that no mutation makes the validator read out of bounds.
 */
#include <stdarg.h>
#include <stdint.h>
#include <time.h>

#include "dxt_builder.h"
#include "dxt_tap.h"

/* ---------- running the validator like the kernel does ---------- */

struct rd_ctx {
	const u8 *img;
	size_t size;
	int bad;		/* the validator read out of bounds */
	int fail_with;		/* make reads fail with this errno */
	u64 bytes;
};

static int rd(void *priv, __u64 off, void *dst, __u32 len)
{
	struct rd_ctx *c = priv;

	if (len == 0 || len > 4095 || off > c->size || len > c->size - off) {
		c->bad++;
		return -EINVAL;
	}
	if (c->fail_with)
		return c->fail_with;
	memcpy(dst, c->img + off, len);
	c->bytes += len;
	return 0;
}

static int read_errors;

/*
 * Both steps on a private copy of the superblock and of the metadata (the
 * metadata copy is exactly meta_len bytes, so ASan sees any over-read).
 */
static int validate_ex(const u8 *img, size_t size, bool tails, int fail_with,
		       struct daxfs_verr *err)
{
	struct rd_ctx c = { .img = img, .size = size, .fail_with = fail_with };
	struct daxfs_super sb;
	u64 meta_len = 0, off;
	void *meta;
	int ret;

	memset(&sb, 0, sizeof(sb));
	memcpy(&sb, img, size < sizeof(sb) ? size : sizeof(sb));
	memset(err->msg, 0, sizeof(err->msg));
	ret = daxfs_check_super(&sb, size, &meta_len, err);
	if (ret)
		return ret;
	off = le64_to_cpu(sb.inode_off);
	if (off > size || meta_len > size - off) {
		dxt_tap_note("check_super accepted metadata outside the buffer");
		read_errors++;
		return -1000;
	}
	meta = malloc(meta_len ? meta_len : 1);
	if (!meta)
		abort();
	memcpy(meta, img + off, meta_len);
	ret = daxfs_check_meta(&sb, meta, tails ? rd : NULL, &c, err);
	free(meta);
	if (c.bad) {
		dxt_tap_note("validator read outside the image (%d times)", c.bad);
		read_errors++;
	}
	return ret;
}

static int validate(const u8 *img, size_t size, bool tails,
		    struct daxfs_verr *err)
{
	return validate_ex(img, size, tails, 0, err);
}

/* ---------- the reference reading of FORMAT.md ---------- */

typedef unsigned __int128 u128;

static u64 g(const u8 *p, size_t off, unsigned int w)
{
	u64 v = 0;

	while (w--)
		v = v << 8 | p[off + w];
	return v;
}

static void put(u8 *p, size_t off, unsigned int w, u64 v)
{
	unsigned int i;

	for (i = 0; i < w; i++)
		p[off + i] = (u8)(v >> (8 * i));
}

struct ref {
	const u8 *img;
	u64 isz, io, ic, dofs, dc, no, ns, dao, dsz, al;
	u32 *owner;		/* dirent -> directory */
	u32 *refs, *sub, *last;	/* per inode */
	u8 *seen;
};

static const u8 *ri(const struct ref *r, u64 ino)
{
	return r->img + r->io + (ino - 1) * 64;
}

static const u8 *rdnt(const struct ref *r, u64 j)
{
	return r->img + r->dofs + j * 16;
}

static u32 rtype(const struct ref *r, u64 ino)
{
	return (u32)g(ri(r, ino), 0, 2) & 0170000;
}

static int ref_cmp(const u8 *a, u64 al, const u8 *b, u64 bl)
{
	u64 i;

	for (i = 0; i < al && i < bl; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return al < bl ? -1 : al > bl;
}

/* Depth-first from the root: every directory is met exactly once. */
static bool ref_walk(struct ref *r, u64 dir)
{
	const u8 *d = ri(r, dir);
	u64 j;

	if (r->seen[dir - 1])
		return false;
	r->seen[dir - 1] = 1;
	for (j = g(d, 24, 8); j < g(d, 24, 8) + g(d, 16, 8); j++) {
		u64 t = g(rdnt(r, j), 0, 4);

		if (rtype(r, t) == 0040000) {
			if (!ref_walk(r, t))
				return false;
		} else {
			r->seen[t - 1] = 1;
		}
	}
	return true;
}

static bool ref_body(struct ref *r, const u8 *sb, bool tails)
{
	static const u32 types[] = { 0140000, 0120000, 0100000, 0060000,
				     0040000, 0020000, 0010000 };
	u64 A, ino, j, k, cur_dir = 0, i;
	u128 prev_end;
	u8 *crcbuf;
	bool nul = false, ok;

	if (g(sb, 36, 4) != 1)
		return false;
	r->io = g(sb, 24, 8);
	r->ic = g(sb, 32, 4);
	r->dofs = g(sb, 40, 8);
	r->dc = g(sb, 48, 4);
	r->al = g(sb, 52, 4);
	r->no = g(sb, 56, 8);
	r->ns = g(sb, 64, 8);
	r->dao = g(sb, 72, 8);
	r->dsz = g(sb, 80, 8);
	if (r->ic < 1 || r->ic > (1ull << 31) || r->dc > (1ull << 31))
		return false;
	if (r->al < 12 || r->al > 30)
		return false;
	A = 1ull << r->al;
	if (r->io < 4096 || r->io % 64 || (u128)r->io + 64 * r->ic > r->isz)
		return false;
	if (r->dofs < r->io + 64 * r->ic || r->dofs % 16 ||
	    (u128)r->dofs + 16 * r->dc > r->isz)
		return false;
	if (r->no < r->dofs + 16 * r->dc || r->ns > 0xffffffffull ||
	    (u128)r->no + r->ns > r->isz)
		return false;
	if (r->dao < r->no + r->ns || r->dao % A ||
	    (u128)r->dao + r->dsz > r->isz)
		return false;
	for (i = 104; i < 168; i++) {
		if (!sb[i])
			nul = true;
		else if (nul)
			return false;
	}
	for (i = 172; i < 4096; i++)
		if (sb[i])
			return false;

	/* CRC over a concatenated copy: superblock with crc 0, metadata. */
	crcbuf = malloc(4096 + r->no + r->ns - r->io);
	memcpy(crcbuf, sb, 4096);
	put(crcbuf, 168, 4, 0);
	memcpy(crcbuf + 4096, r->img + r->io, r->no + r->ns - r->io);
	ok = daxfs_crc32c(crcbuf, 4096 + r->no + r->ns - r->io) ==
	     g(sb, 168, 4);
	free(crcbuf);
	if (!ok)
		return false;

	prev_end = r->dao;
	for (ino = 1; ino <= r->ic; ino++) {
		const u8 *p = ri(r, ino);
		u32 t = rtype(r, ino);
		u64 size = g(p, 16, 8), off = g(p, 24, 8), par = g(p, 44, 4);

		for (k = 0; k < 7 && types[k] != t; k++)
			;
		if (k == 7 || (ino == 1 && t != 0040000))
			return false;
		if (g(p, 2, 2) || g(p, 56, 8) || g(p, 40, 4) >= 1000000000)
			return false;
		if (g(p, 48, 4) > 0xfff || g(p, 52, 4) > 0xfffff)
			return false;
		if (t != 0020000 && t != 0060000 && (g(p, 48, 4) || g(p, 52, 4)))
			return false;
		if (t != 0040000 && par)
			return false;
		if (t == 0040000 && ino == 1 && par != 1)
			return false;
		if (t == 0040000 && ino > 1 &&
		    (par == 0 || par >= ino || rtype(r, par) != 0040000))
			return false;
		if (t == 0100000) {
			if (!size) {
				if (off)
					return false;
				continue;
			}
			if (off % A || off < r->dao ||
			    off < (prev_end + A - 1) / A * A ||
			    (u128)off + size > (u128)r->dao + r->dsz)
				return false;
			prev_end = (u128)off + size;
		} else if (t == 0040000) {
			if (!size) {
				if (off)
					return false;
				continue;
			}
			if (off != cur_dir || (u128)off + size > r->dc)
				return false;
			for (j = off; j < off + size; j++)
				r->owner[j] = (u32)ino;
			cur_dir += size;
		} else if (t == 0120000) {
			if (size < 1 || size > 4095 || (u128)off + size > r->ns)
				return false;
			if (memchr(r->img + r->no + off, 0, size))
				return false;
		} else if (size || off) {
			return false;
		}
	}
	if (cur_dir != r->dc)
		return false;

	for (j = 0; j < r->dc; j++) {
		const u8 *d = rdnt(r, j);
		u64 t = g(d, 0, 4), no = g(d, 4, 4), nl = g(d, 8, 2);
		const u8 *name = r->img + r->no + no;

		if (t < 2 || t > r->ic || d[11] || g(d, 12, 4))
			return false;
		if (nl < 1 || nl > 255 || no + nl > r->ns)
			return false;
		for (k = 0; k < nl; k++)
			if (name[k] == '/' || name[k] == 0)
				return false;
		if ((nl == 1 && name[0] == '.') ||
		    (nl == 2 && name[0] == '.' && name[1] == '.'))
			return false;
		if (d[10] != rtype(r, t) >> 12)
			return false;
	}
	/* Strictly sorted: every pair (capped, then neighbours only). */
	for (j = 0; j < r->dc; j++) {
		for (k = j + 1; k < r->dc && r->owner[k] == r->owner[j] &&
		     (k - j < 64 || k == j + 1); k++) {
			const u8 *a = rdnt(r, j), *b = rdnt(r, k);

			if (ref_cmp(r->img + r->no + g(a, 4, 4), g(a, 8, 2),
				    r->img + r->no + g(b, 4, 4),
				    g(b, 8, 2)) >= 0)
				return false;
		}
	}
	/* Per inode: references, subdirectories, last referencing dir. */
	for (j = 0; j < r->dc; j++) {
		u64 t = g(rdnt(r, j), 0, 4);

		r->refs[t - 1]++;
		r->last[t - 1] = r->owner[j];
		if (rtype(r, t) == 0040000)
			r->sub[r->owner[j] - 1]++;
	}
	for (ino = 1; ino <= r->ic; ino++) {
		const u8 *p = ri(r, ino);

		if (rtype(r, ino) == 0040000) {
			if (g(p, 4, 4) != 2 + (u64)r->sub[ino - 1])
				return false;
			if (ino > 1 && (r->refs[ino - 1] != 1 ||
					r->last[ino - 1] != g(p, 44, 4)))
				return false;
		} else if (r->refs[ino - 1] < 1 ||
			   g(p, 4, 4) != r->refs[ino - 1]) {
			return false;
		}
	}
	if (!ref_walk(r, 1))
		return false;
	for (ino = 1; ino <= r->ic; ino++)
		if (!r->seen[ino - 1])
			return false;
	if (!tails)
		return true;
	for (ino = 1; ino <= r->ic; ino++) {
		const u8 *p = ri(r, ino);
		u64 end = g(p, 24, 8) + g(p, 16, 8);

		if (rtype(r, ino) != 0100000 || !g(p, 16, 8))
			continue;
		for (; end % 4096; end++)
			if (r->img[end])
				return false;
	}
	return true;
}

static int ref_check(const u8 *img, size_t size, bool tails)
{
	u8 sb[4096];
	struct ref r = { .img = img };
	bool ok;

	memset(sb, 0, sizeof(sb));
	memcpy(sb, img, size < 4096 ? size : 4096);
	if (g(sb, 0, 4) != DAXFS_IMAGE_MAGIC)
		return -EINVAL;
	if (g(sb, 4, 4) != 1 || g(sb, 12, 4))
		return -EOPNOTSUPP;
	r.isz = g(sb, 16, 8);
	if (!r.isz || r.isz % 4096 || r.isz > (1ull << 52))
		return -EUCLEAN;
	if (r.isz > size)
		return -EFBIG;
	/*
	 * Both tables lie inside the image (L2, L4): refuse larger counts
	 * before sizing the arrays below by them.
	 */
	r.ic = g(sb, 32, 4);
	r.dc = g(sb, 48, 4);
	if (r.ic * 64 > r.isz || r.dc * 16 > r.isz)
		return -EUCLEAN;
	r.owner = calloc(r.dc + 1, sizeof(*r.owner));
	r.seen = calloc(r.ic + 1, 1);
	r.refs = calloc(r.ic + 1, sizeof(u32));
	r.sub = calloc(r.ic + 1, sizeof(u32));
	r.last = calloc(r.ic + 1, sizeof(u32));
	ok = ref_body(&r, sb, tails);
	free(r.refs);
	free(r.sub);
	free(r.last);
	free(r.owner);
	free(r.seen);
	return ok ? 0 : -EUCLEAN;
}

/* ---------- helpers ---------- */

static const char *ename(int e)
{
	switch (e) {
	case 0: return "0";
	case -EINVAL: return "-EINVAL";
	case -EOPNOTSUPP: return "-EOPNOTSUPP";
	case -EFBIG: return "-EFBIG";
	case -EUCLEAN: return "-EUCLEAN";
	case -ENOMEM: return "-ENOMEM";
	case -EIO: return "-EIO";
	default: return "?";
	}
}

static u64 rng_state = 0x9e3779b97f4a7c15ull;

static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static struct tb_image build(struct tb *t)
{
	struct tb_image img;

	if (tb_build(t, &img))
		abort();
	tb_free(t);
	return img;
}

static u8 *dup_img(const struct tb_image *img)
{
	u8 *p = malloc(img->size);

	if (!p)
		abort();
	return memcpy(p, img->buf, img->size);
}

/* Image offsets of inode @ino and of dirent @j. */
static size_t inode_at(const u8 *img, u32 ino)
{
	return (size_t)g(img, 24, 8) + (ino - 1) * 64;
}

static size_t dirent_at(const u8 *img, u32 j)
{
	return (size_t)g(img, 40, 8) + j * 16;
}

/* The dirent index of entry @name of directory @dir, or -1. */
static int find_entry(const u8 *img, u32 dir, const char *name)
{
	size_t ip = inode_at(img, dir);
	u64 j, names = g(img, 56, 8);

	for (j = g(img, ip + 24, 8); j < g(img, ip + 24, 8) + g(img, ip + 16, 8);
	     j++) {
		size_t d = dirent_at(img, (u32)j);

		if (g(img, d + 8, 2) == strlen(name) &&
		    !memcmp(img + names + g(img, d + 4, 4), name, strlen(name)))
			return (int)j;
	}
	return -1;
}

static u32 lookup(const u8 *img, const char *path)
{
	char buf[256], *s, *save = NULL;
	u32 ino = 1;
	int j;

	snprintf(buf, sizeof(buf), "%s", path);
	for (s = strtok_r(buf, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		j = find_entry(img, ino, s);
		if (j < 0)
			return 0;
		ino = (u32)g(img, dirent_at(img, (u32)j), 4);
	}
	return ino;
}

/* ---------- tests ---------- */

static void test_crc(void)
{
	static const char kat[] = "123456789";
	u8 buf[1024 + 8];
	u32 whole, part, bit;
	size_t i, k, split;
	bool ok = true;

	dxt_tap_ok(daxfs_crc32c(kat, 9) == 0xE3069283u,
	    "crc32c(\"123456789\") == 0xE3069283 (got 0x%08x)",
	    daxfs_crc32c(kat, 9));
	dxt_tap_ok(daxfs_crc32c("", 0) == 0, "crc32c of nothing is 0");
	/* Slicing-by-8 against a bit-at-a-time CRC at every alignment. */
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)rnd();
	for (k = 0; k < 8 && ok; k++) {
		for (split = 0; split < 40 && ok; split++) {
			size_t len = 1000 - split * 7;

			bit = ~0u;
			for (i = 0; i < len; i++) {
				int b;

				bit ^= buf[k + i];
				for (b = 0; b < 8; b++)
					bit = (bit >> 1) ^
					      (0x82F63B78u & (0u - (bit & 1)));
			}
			whole = daxfs_crc32c_update(~0u, buf + k, len);
			part = daxfs_crc32c_update(~0u, buf + k, split);
			part = daxfs_crc32c_update(part, buf + k + split,
						   len - split);
			ok = whole == bit && part == bit;
		}
	}
	dxt_tap_ok(ok, "crc32c slicing-by-8 == bitwise CRC, all alignments and splits");
}

static void check_valid(const char *what, const struct tb_image *img)
{
	struct daxfs_verr err;
	int r1 = validate(img->buf, img->size, true, &err);
	int r2 = validate(img->buf, img->size, false, &err);
	int rr = ref_check(img->buf, img->size, true);

	dxt_tap_ok(r1 == 0 && r2 == 0 && rr == 0, "valid: %s (%s/%s, ref %s)%s%s",
	    what, ename(r1), ename(r2), ename(rr), r1 ? ": " : "",
	    r1 ? err.msg : "");
}

static void test_valid(void)
{
	struct tb_image img;
	struct daxfs_super *sb;
	struct daxfs_verr err;
	struct tb *t;
	u32 d, i;
	u64 len;
	clock_t c0;

	img = build(tb_sample(12));
	check_valid("sample tree, 4 KiB alignment", &img);
	sb = (struct daxfs_super *)img.buf;
	dxt_tap_ok(daxfs_check_super(sb, img.size, &len, &err) == 0 &&
	    len == le64_to_cpu(sb->names_off) + le64_to_cpu(sb->names_size) -
		   le64_to_cpu(sb->inode_off),
	    "check_super yields the metadata length names_end - inode_off");
	free(img.buf);

	img = build(tb_sample(21));
	check_valid("sample tree, 2 MiB alignment", &img);
	free(img.buf);

	img = build(tb_new(12));
	check_valid("only the root directory", &img);
	free(img.buf);

	t = tb_sample(12);
	tb_set_extra(t, 3 * 4096);
	tb_set_slack(t, 5000);
	img = build(t);
	check_valid("image_size beyond the data, buffer larger than image",
		    &img);
	free(img.buf);

	/* A wide directory and a deep chain: linear, and no recursion. */
	t = tb_new(12);
	tb_fill(t, tb_dir(t, 1, "wide"), "f%07u", 20000, 1000, false);
	d = 1;
	for (i = 0; i < 3000; i++)
		d = tb_dir(t, d, "deeper");
	img = build(t);
	c0 = clock();
	check_valid("20000 entries in one directory, 3000 nested directories",
		    &img);
	dxt_tap_note("large image: %zu KiB metadata+data checked in %.1f ms (with ref)",
	     img.size / 1024, (clock() - c0) * 1000.0 / CLOCKS_PER_SEC);
	free(img.buf);
}

/* One mutation: the validator agrees with the reference, and is sane. */
struct agg {
	unsigned int runs, accepted, mismatches;
};

static void compare(struct agg *a, const char *what, u64 val, u8 *img,
		    size_t size)
{
	struct daxfs_verr err;
	int v1, v2, r1, r2;
	bool nomsg;

	v1 = validate(img, size, true, &err);
	nomsg = v1 && !err.msg[0];
	if (nomsg && a->mismatches < 5)
		dxt_tap_note("%s = 0x%llx: %s without a message", what,
		     (unsigned long long)val, ename(v1));
	r1 = ref_check(img, size, true);
	v2 = validate(img, size, false, &err);
	r2 = ref_check(img, size, false);
	a->runs++;
	if (!v1)
		a->accepted++;
	if (v1 != r1 || v2 != r2 || nomsg) {
		if (a->mismatches++ < 5) {
			validate(img, size, true, &err);
			dxt_tap_note("%s = 0x%llx: validator %s/%s, reference %s/%s: %s",
			     what, (unsigned long long)val, ename(v1),
			     ename(v2), ename(r1), ename(r2), err.msg);
		}
	}
}

static void mutate_value(struct agg *a, const char *what,
			 const struct tb_image *base, size_t off,
			 unsigned int w, u64 v, bool fix)
{
	u8 *img = dup_img(base);

	put(img, off, w, v);
	if (fix)
		tb_fix_crc(img, base->size);
	compare(a, what, v, img, base->size);
	free(img);
}

static void mutate_field(struct agg *a, const char *what,
			 const struct tb_image *base, size_t off,
			 unsigned int w, bool fix)
{
	u64 max = w == 8 ? ~0ull : (1ull << (8 * w)) - 1;
	u64 o = g(base->buf, off, w);
	u64 vals[] = { 0, 1, 2, max, max - 1, o - 1, o + 1, o ^ 1, o << 1,
		       o >> 1, o + 16, o - 16, o + 64, o + 4096, o - 4096,
		       1ull << 31, (1ull << 31) + 1, 4095, 4096, 12, 30, 31,
		       0x1000000000000ull, 0x10000000000000ull,
		       rnd(), rnd(), rnd() & 0xffff, rnd() & 0xff };
	size_t i;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		mutate_value(a, what, base, off, w, vals[i] & max, fix);
}

struct field {
	const char *name;
	size_t off;
	unsigned int w;
};

static const struct field super_fields[] = {
	{ "magic", 0, 4 }, { "version", 4, 4 }, { "compat", 8, 4 },
	{ "incompat", 12, 4 }, { "image_size", 16, 8 },
	{ "inode_off", 24, 8 }, { "inode_count", 32, 4 },
	{ "root_ino", 36, 4 }, { "dirent_off", 40, 8 },
	{ "dirent_count", 48, 4 }, { "data_align_log2", 52, 4 },
	{ "names_off", 56, 8 }, { "names_size", 64, 8 },
	{ "data_off", 72, 8 }, { "data_size", 80, 8 },
	{ "uuid[0]", 88, 1 }, { "uuid[15]", 103, 1 },
	{ "label[0]", 104, 1 }, { "label[9]", 113, 1 },
	{ "label[10]", 114, 1 }, { "label[63]", 167, 1 },
	{ "crc32c", 168, 4 }, { "reserved0", 172, 4 },
	{ "reserved[0]", 176, 1 }, { "reserved[1960]", 2136, 8 },
	{ "reserved[3919]", 4095, 1 },
};

static const struct field inode_fields[] = {
	{ "mode", 0, 2 }, { "reserved0", 2, 2 }, { "nlink", 4, 4 },
	{ "uid", 8, 4 }, { "gid", 12, 4 }, { "size", 16, 8 },
	{ "offset", 24, 8 }, { "mtime_sec", 32, 8 },
	{ "mtime_nsec", 40, 4 }, { "parent", 44, 4 },
	{ "rdev_major", 48, 4 }, { "rdev_minor", 52, 4 },
	{ "reserved[0]", 56, 1 }, { "reserved[7]", 63, 1 },
};

static const struct field dirent_fields[] = {
	{ "ino", 0, 4 }, { "name_off", 4, 4 }, { "name_len", 8, 2 },
	{ "type", 10, 1 }, { "reserved0", 11, 1 }, { "reserved1", 12, 4 },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void test_field_layout(void)
{
	/* Every byte offset of FORMAT.md's tables (ref_check() uses them). */
#define OFF(s, f, o) { #s "." #f, offsetof(struct s, f), o }
	static const struct { const char *name; size_t got, want; } t[] = {
		OFF(daxfs_super, magic, 0), OFF(daxfs_super, version, 4),
		OFF(daxfs_super, compat, 8), OFF(daxfs_super, incompat, 12),
		OFF(daxfs_super, image_size, 16),
		OFF(daxfs_super, inode_off, 24),
		OFF(daxfs_super, inode_count, 32),
		OFF(daxfs_super, root_ino, 36),
		OFF(daxfs_super, dirent_off, 40),
		OFF(daxfs_super, dirent_count, 48),
		OFF(daxfs_super, data_align_log2, 52),
		OFF(daxfs_super, names_off, 56),
		OFF(daxfs_super, names_size, 64),
		OFF(daxfs_super, data_off, 72),
		OFF(daxfs_super, data_size, 80), OFF(daxfs_super, uuid, 88),
		OFF(daxfs_super, label, 104), OFF(daxfs_super, crc32c, 168),
		OFF(daxfs_super, reserved0, 172),
		OFF(daxfs_super, reserved, 176),
		OFF(daxfs_inode, mode, 0), OFF(daxfs_inode, reserved0, 2),
		OFF(daxfs_inode, nlink, 4), OFF(daxfs_inode, uid, 8),
		OFF(daxfs_inode, gid, 12), OFF(daxfs_inode, size, 16),
		OFF(daxfs_inode, offset, 24), OFF(daxfs_inode, mtime_sec, 32),
		OFF(daxfs_inode, mtime_nsec, 40), OFF(daxfs_inode, parent, 44),
		OFF(daxfs_inode, rdev_major, 48),
		OFF(daxfs_inode, rdev_minor, 52),
		OFF(daxfs_inode, reserved, 56),
		OFF(daxfs_dirent, ino, 0), OFF(daxfs_dirent, name_off, 4),
		OFF(daxfs_dirent, name_len, 8), OFF(daxfs_dirent, type, 10),
		OFF(daxfs_dirent, reserved0, 11),
		OFF(daxfs_dirent, reserved1, 12),
	};
#undef OFF
	size_t i;
	bool ok = true;

	for (i = 0; i < NELEM(t); i++) {
		if (t[i].got != t[i].want) {
			dxt_tap_note("%s at %zu, FORMAT.md says %zu", t[i].name,
			     t[i].got, t[i].want);
			ok = false;
		}
	}
	dxt_tap_ok(ok, "all %zu field offsets match FORMAT.md", NELEM(t));
}

/*
 * Every field of every record of one kind (@kind "inode" or "dirent", numbers
 * @first .. @first + @n - 1, at offset @at of the image): one line a field.
 */
static void mutate_records(const char *tag, const struct tb_image *base,
			   const char *kind, const struct field *fields,
			   size_t nf, u32 first, u32 n,
			   size_t (*at)(const u8 *img, u32 i))
{
	struct agg a;
	size_t f;
	u32 i;

	for (f = 0; f < nf; f++) {
		memset(&a, 0, sizeof(a));
		for (i = first; i < first + n; i++) {
			char what[64];

			snprintf(what, sizeof(what), "%s %u %s", kind, i,
				 fields[f].name);
			mutate_field(&a, what, base, at(base->buf, i) + fields[f].off,
				     fields[f].w, true);
		}
		dxt_tap_ok(!a.mismatches, "%s %s.%s: %u mutations over %u %s agree (%u accepted)",
			   tag, kind, fields[f].name, a.runs, n,
			   !strcmp(kind, "inode") ? "inodes" : "entries", a.accepted);
	}
}

static void test_mutations(const char *tag, const struct tb_image *base)
{
	struct agg a;
	size_t f;

	for (f = 0; f < NELEM(super_fields); f++) {
		memset(&a, 0, sizeof(a));
		mutate_field(&a, super_fields[f].name, base, super_fields[f].off,
			     super_fields[f].w, f != 21);
		dxt_tap_ok(!a.mismatches, "%s super.%s: %u mutations agree with the reference (%u accepted)",
		    tag, super_fields[f].name, a.runs, a.accepted);
	}
	mutate_records(tag, base, "inode", inode_fields, NELEM(inode_fields), 1,
		       (u32)g(base->buf, 32, 4), inode_at);
	mutate_records(tag, base, "dirent", dirent_fields, NELEM(dirent_fields), 0,
		       (u32)g(base->buf, 48, 4), dirent_at);
}

static void test_flips(const struct tb_image *base, unsigned int n, bool fix)
{
	u64 meta_end = g(base->buf, 56, 8) + g(base->buf, 64, 8);
	struct agg a;
	unsigned int i, k, nb;

	memset(&a, 0, sizeof(a));
	for (i = 0; i < n; i++) {
		u8 *img = dup_img(base);
		size_t pos = 0;

		nb = 1 + (unsigned int)(rnd() % 4);
		for (k = 0; k < nb; k++) {
			switch (rnd() % 4) {
			case 0:		/* superblock fields */
				pos = rnd() % 176;
				break;
			case 1:		/* anywhere */
				pos = rnd() % base->size;
				break;
			default:	/* metadata */
				pos = 4096 + rnd() % (meta_end - 4096);
				break;
			}
			img[pos] ^= (u8)(1u << (rnd() % 8));
			if (rnd() % 4 == 0)
				img[pos] = (u8)rnd();
		}
		if (fix)
			tb_fix_crc(img, base->size);
		compare(&a, fix ? "flip+crc" : "flip", pos, img, base->size);
		free(img);
	}
	dxt_tap_ok(!a.mismatches, "%u random multi-byte flips %s CRC fix-up agree with the reference (%u accepted)",
	    a.runs, fix ? "with" : "without", a.accepted);
}

static void test_truncations(const struct tb_image *base)
{
	static const size_t sizes[] = { 0, 1, 3, 4, 7, 8, 23, 24, 4095, 4096,
					4097, 8192 };
	struct daxfs_verr err;
	bool ok = true;
	size_t i, t;
	int r, want;

	for (i = 0; i < NELEM(sizes) + 4; i++) {
		if (i < NELEM(sizes))
			t = sizes[i];
		else
			t = base->image_size - (i - NELEM(sizes)) * 1000 - 1;
		r = validate(base->buf, t, true, &err);
		/* Cut inside the superblock: whatever its zero fill says. */
		want = t < 4 ? -EINVAL : t < 24 ? ref_check(base->buf, t, true) :
		       -EFBIG;
		if (r != want || ref_check(base->buf, t, true) != want) {
			ok = false;
			dxt_tap_note("truncated to %zu: %s, want %s: %s", t, ename(r),
			     ename(want), err.msg);
		}
	}
	dxt_tap_ok(ok, "truncated buffers: -EINVAL/-EOPNOTSUPP/-EUCLEAN/-EFBIG as the cut allows");
}

/* ---------- named corruptions, exact errno and message ---------- */

static void expect(const char *what, u8 *img, size_t size, bool fix,
		   int want, const char *msg1, const char *msg2)
{
	struct daxfs_verr err;
	int r;

	if (fix)
		tb_fix_crc(img, size);
	r = validate(img, size, true, &err);
	dxt_tap_ok(r == want && (!msg1 || strstr(err.msg, msg1)) &&
	    (!msg2 || strstr(err.msg, msg2)),
	    "%s: %s \"%s\"", what, ename(r), err.msg);
	if (r != want)
		dxt_tap_note("expected %s", ename(want));
	else if ((msg1 && !strstr(err.msg, msg1)) ||
		 (msg2 && !strstr(err.msg, msg2)))
		dxt_tap_note("expected the message to contain \"%s\" and \"%s\"",
		     msg1 ? msg1 : "", msg2 ? msg2 : "");
}

/*
 * One field of one inode: @w bytes at @off in the inode at @path set to
 * @val.  The validator must say EUCLEAN, with @fmt (one %u: the inode
 * number) and @msg2 in its message.
 */
struct inode_case {
	const char *what, *path;
	unsigned int off, w;
	u64 val;
	const char *fmt, *msg2;
};

static void expect_inode_cases(const struct tb_image *base,
			       const struct inode_case *c, size_t n)
{
	char want[96];
	u8 *p;
	u32 ino;

	for (; n--; c++) {
		p = dup_img(base);
		ino = lookup(p, c->path);
		put(p, inode_at(p, ino) + c->off, c->w, c->val);
		snprintf(want, sizeof(want), c->fmt, ino);
		expect(c->what, p, base->size, true, -EUCLEAN, want, c->msg2);
		free(p);
	}
}

#define EXPECT_INODE_CASES(base, ...) do {				\
	static const struct inode_case _c[] = { __VA_ARGS__ };		\
	expect_inode_cases((base), _c, sizeof(_c) / sizeof(_c[0]));	\
} while (0)

static void test_super_cases(const struct tb_image *base)
{
	u8 *img;
	struct daxfs_verr err;
	struct daxfs_super sb;
	u64 len;
	void *one;
	int r1, r2;

#define CASE(desc, off, w, val, fix, want, m1, m2) do {			\
		img = dup_img(base);					\
		put(img, off, w, val);					\
		expect(desc, img, base->size, fix, want, m1, m2);	\
		free(img);						\
	} while (0)

	CASE("bad magic", 0, 4, 0x53465845, true, -EINVAL, "superblock",
	     "magic");
	CASE("version 2", 4, 4, 2, true, -EOPNOTSUPP, "superblock", "version");
	CASE("version 0", 4, 4, 0, true, -EOPNOTSUPP, "superblock", "version");
	CASE("unknown incompat bit", 12, 4, 0x80000000u, true, -EOPNOTSUPP,
	     "superblock", "incompat");
	CASE("unknown compat bits are ignored", 8, 4, 0xffffffffu, true, 0,
	     NULL, NULL);
	CASE("image larger than the buffer", 16, 8, base->image_size + 4096,
	     true, -EFBIG, "superblock", "larger than buffer");
	CASE("image size not a multiple of 4096", 16, 8,
	     base->image_size - 1, true, -EUCLEAN, "superblock", "image size");
	CASE("root_ino 2", 36, 4, 2, true, -EUCLEAN, "superblock", "root");
	CASE("inode_count 0", 32, 4, 0, true, -EUCLEAN, "superblock",
	     "inode count");
	CASE("data_align_log2 11", 52, 4, 11, true, -EUCLEAN, "superblock",
	     "data_align_log2");
	CASE("data_align_log2 31", 52, 4, 31, true, -EUCLEAN, "superblock",
	     "data_align_log2");
	CASE("inode table misaligned", 24, 8, 4096 + 16, true, -EUCLEAN,
	     "superblock", "inode table");
	CASE("inode table inside the superblock", 24, 8, 0, true, -EUCLEAN,
	     "superblock", "inode table");
	CASE("inode_off near 2^64 (wraps)", 24, 8, 0xffffffffffffffc0ull,
	     true, -EUCLEAN, "superblock", "inode table");
	CASE("dirent table overlaps the inode table", 40, 8,
	     g(base->buf, 40, 8) - 16, true, -EUCLEAN, "superblock",
	     "dirent table");
	CASE("names_size above 2^32-1", 64, 8, 0x100000000ull, true,
	     -EUCLEAN, "superblock", "string table size");
	CASE("data_size wraps", 80, 8, ~0ull - 4095, true, -EUCLEAN,
	     "superblock", "data area");
	CASE("label with a byte after its NUL", 120, 1, 'x', true, -EUCLEAN,
	     "superblock", "label");
	CASE("reserved byte set", 3000, 1, 1, true, -EUCLEAN, "superblock",
	     "reserved");
	CASE("crc32c off by one", 168, 4, g(base->buf, 168, 4) ^ 1, false,
	     -EUCLEAN, "superblock: crc32c", "does not match computed");
	CASE("uuid is free", 90, 4, 0xdeadbeef, true, 0, NULL, NULL);

	/* Only data_off misaligned: names end and data start 4 KiB earlier. */
	{
		struct tb *t = tb_new(21);
		struct tb_image big;

		tb_file(t, 1, "f", 100);
		big = build(t);
		put(big.buf, 64, 8, g(big.buf, 64, 8) - 4096);
		put(big.buf, 72, 8, g(big.buf, 72, 8) - 4096);
		put(big.buf, 80, 8, g(big.buf, 80, 8) + 4096);
		expect("data area not aligned to data_align", big.buf, big.size,
		       true, -EUCLEAN, "superblock: data offset 0x1ff000",
		       "not aligned to 0x200000");
		free(big.buf);
	}

	/* CRC first: a bad CRC and a structural error report the CRC. */
	img = dup_img(base);
	put(img, inode_at(img, 1) + 4, 4, 77);
	expect("metadata corrupt and CRC stale reports the CRC", img,
	       base->size, false, -EUCLEAN, "crc32c", "does not match");
	free(img);

	/* Step 2 alone re-checks the superblock without touching meta. */
	img = dup_img(base);
	put(img, 32, 4, 0);
	memcpy(&sb, img, sizeof(sb));
	one = malloc(1);
	r1 = daxfs_check_super(&sb, base->size, &len, &err);
	r2 = daxfs_check_meta(&sb, one, NULL, NULL, &err);
	dxt_tap_ok(r1 == -EUCLEAN && r2 == -EUCLEAN,
	    "check_meta alone rejects a bad superblock without reading meta");
	free(one);
	free(img);
#undef CASE
}

static void test_tree_cases(void)
{
	struct tb_image base, img;
	struct daxfs_verr err;
	struct tb *t;
	u8 *p;
	u32 a, b, f1, f2, ino, hosts, sh;
	size_t ip, dp, names = 0;
	int j, r;
	char want[96];

	base = build(tb_sample(12));
	names = (size_t)g(base.buf, 56, 8);

	/* Directory cycle via parent numbers: 2's parent made 3. */
	t = tb_new(12);
	a = tb_dir(t, 1, "a");
	b = tb_dir(t, a, "b");
	tb_file(t, b, "f", 10);
	img = build(t);
	put(img.buf, inode_at(img.buf, a) + 44, 4, b);
	snprintf(want, sizeof(want), "directory %u: parent %u", a, b);
	expect("directory cycle (parent number not below child)", img.buf,
	       img.size, true, -EUCLEAN, want, NULL);
	free(img.buf);

	/* Directory cycle via an entry: b contains a link back to a. */
	t = tb_new(12);
	a = tb_dir(t, 1, "a");
	b = tb_dir(t, a, "b");
	tb_link(t, b, "up", a);
	img = build(t);
	snprintf(want, sizeof(want), "directory %u entry 0 (ino %u)", b, a);
	expect("directory cycle (entry back to an ancestor)", img.buf,
	       img.size, true, -EUCLEAN, want, "parent is 1");
	free(img.buf);

	/*
	 * The root listing itself, with the root's nlink counting it: only
	 * the "never the root" rule stops this loop.
	 */
	t = tb_new(12);
	tb_link(t, 1, "self", 1);
	img = build(t);
	expect("root directory entry pointing at the root", img.buf, img.size,
	       true, -EUCLEAN, "directory 1 entry 0 (ino 1)",
	       "refers to the root");
	free(img.buf);

	/* A directory whose parent field names a regular file. */
	t = tb_new(12);
	f1 = tb_file(t, 1, "file", 0);
	a = tb_dir(t, 1, "a");
	img = build(t);
	put(img.buf, inode_at(img.buf, a) + 44, 4, f1);
	snprintf(want, sizeof(want), "directory %u: parent %u is not a directory",
		 a, f1);
	expect("parent is not a directory", img.buf, img.size, true, -EUCLEAN,
	       want, NULL);
	free(img.buf);

	/*
	 * Directory ranges whose sizes wrap the 64-bit cursor back to
	 * dirent_count: root claims 2^64 - 1 entries, "a" starts there.
	 */
	t = tb_new(12);
	a = tb_dir(t, 1, "a");
	tb_file(t, a, "f", 0);
	img = build(t);
	put(img.buf, inode_at(img.buf, 1) + 16, 8, ~0ull);
	put(img.buf, inode_at(img.buf, a) + 24, 8, ~0ull);
	put(img.buf, inode_at(img.buf, a) + 16, 8, 3);
	expect("directory entry ranges wrapping around 2^64", img.buf,
	       img.size, true, -EUCLEAN, "directory 1: 18446744073709551615 entries",
	       "beyond dirent count 2");
	free(img.buf);

	/* An entry no directory owns (the last one, a second hard link). */
	t = tb_new(12);
	a = tb_dir(t, 1, "a");
	f1 = tb_file(t, a, "x", 0);
	tb_link(t, a, "y", f1);
	img = build(t);
	put(img.buf, inode_at(img.buf, a) + 16, 8, 1);
	put(img.buf, inode_at(img.buf, f1) + 4, 4, 1);
	expect("dirent not owned by any directory", img.buf, img.size, true,
	       -EUCLEAN, "dirent table: directories own 2 of its 3 entries",
	       NULL);
	free(img.buf);

	/* Directory referenced twice from its own parent. */
	t = tb_new(12);
	a = tb_dir(t, 1, "a");
	tb_link(t, 1, "b", a);
	img = build(t);
	snprintf(want, sizeof(want), "directory 1 entry 1 (ino %u)", a);
	expect("directory referenced twice", img.buf, img.size, true,
	       -EUCLEAN, want, "referenced twice");
	free(img.buf);

	/* Bad nlink on a hard-linked file, a directory and a symlink. */
	EXPECT_INODE_CASES(&base,
		{ "hard-linked file with nlink 1 instead of 3", "etc/passwd",
		  4, 4, 1, "inode %u: nlink 1, but 3", NULL },
		{ "directory nlink without its subdirectory", "etc",
		  4, 4, 2, "directory %u: nlink 2, expected 3", NULL },
		{ "symlink nlink 0", "bin/ls", 4, 4, 0, "inode %u: nlink 0", NULL });

	/* Unsorted: swap two entries of /etc. */
	p = dup_img(&base);
	ino = lookup(p, "etc");
	j = (int)g(p, inode_at(p, ino) + 24, 8);
	{
		u8 tmp[16];

		memcpy(tmp, p + dirent_at(p, (u32)j), 16);
		memcpy(p + dirent_at(p, (u32)j), p + dirent_at(p, (u32)j + 1),
		       16);
		memcpy(p + dirent_at(p, (u32)j + 1), tmp, 16);
	}
	snprintf(want, sizeof(want), "directory %u entry 1 (ino %u)", ino,
		 (u32)g(p, dirent_at(p, (u32)j + 1), 4));
	expect("unsorted names", p, base.size, true, -EUCLEAN, want,
	       "not sorted");
	free(p);

	/* Duplicate names (two links with the same name). */
	t = tb_new(12);
	f1 = tb_file(t, 1, "same", 0);
	tb_link(t, 1, "same", f1);
	img = build(t);
	snprintf(want, sizeof(want), "directory 1 entry 1 (ino %u)", f1);
	expect("duplicate names", img.buf, img.size, true, -EUCLEAN, want,
	       "duplicate");
	free(img.buf);

	/* '/' and NUL inside a name: rewrite a byte of "passwd". */
	for (r = 0; r < 2; r++) {
		p = dup_img(&base);
		ino = lookup(p, "etc");
		j = find_entry(p, ino, "passwd");
		p[names + g(p, dirent_at(p, (u32)j) + 4, 4) + 3] = r ? 0 : '/';
		snprintf(want, sizeof(want), "directory %u entry %d (ino %u)",
			 ino, j - (int)g(p, inode_at(p, ino) + 24, 8),
			 lookup(base.buf, "etc/passwd"));
		expect(r ? "NUL in a name" : "'/' in a name", p, base.size,
		       true, -EUCLEAN, want, "'/' or NUL");
		free(p);
	}

	/* "." and ".." as names. */
	for (r = 0; r < 2; r++) {
		t = tb_new(12);
		f1 = tb_file(t, 1, r ? ".." : ".", 0);
		img = build(t);
		snprintf(want, sizeof(want), "directory 1 entry 0 (ino %u)",
			 f1);
		expect(r ? "name \"..\"" : "name \".\"", img.buf, img.size,
		       true, -EUCLEAN, want, "\".\" or \"..\"");
		free(img.buf);
	}

	/* name_len 0 and 256. */
	for (r = 0; r < 2; r++) {
		p = dup_img(&base);
		dp = dirent_at(p, 0);
		put(p, dp + 8, 2, r ? 256 : 0);
		snprintf(want, sizeof(want), "directory 1 entry 0 (ino %u)",
			 (u32)g(p, dp, 4));
		expect(r ? "name_len 256" : "name_len 0", p, base.size, true,
		       -EUCLEAN, want, r ? "name length 256" : "name length 0");
		free(p);
	}

	/* Symlink target length 0 and 4096. */
	EXPECT_INODE_CASES(&base,
		{ "symlink target length 0", "lib", 16, 8, 0,
		  "inode %u: symlink target length 0", NULL },
		{ "symlink target length 4096", "lib", 16, 8, 4096,
		  "inode %u: symlink target length 4096", NULL });
	/* A NUL inside a symlink target. */
	p = dup_img(&base);
	ino = lookup(p, "lib");
	p[names + g(p, inode_at(p, ino) + 24, 8) + 2] = 0;
	snprintf(want, sizeof(want), "inode %u: symlink target contains a NUL",
		 ino);
	expect("NUL in a symlink target", p, base.size, true, -EUCLEAN, want,
	       NULL);
	free(p);

	/* Overlapping files: hosts placed on top of passwd. */
	p = dup_img(&base);
	f1 = lookup(p, "etc/passwd");
	hosts = lookup(p, "etc/hosts");
	put(p, inode_at(p, hosts) + 24, 8, g(p, inode_at(p, f1) + 24, 8));
	snprintf(want, sizeof(want), "inode %u: data offset", hosts);
	expect("overlapping files", p, base.size, true, -EUCLEAN, want,
	       "overlaps the previous file");
	free(p);

	/* Files out of inode order (swap the offsets of two files). */
	p = dup_img(&base);
	sh = lookup(p, "bin/sh");
	f2 = lookup(p, "usr/lib/libc.so");
	{
		u64 o1 = g(p, inode_at(p, sh) + 24, 8);
		u64 o2 = g(p, inode_at(p, f2) + 24, 8);

		put(p, inode_at(p, sh) + 24, 8, o2);
		put(p, inode_at(p, f2) + 24, 8, o1);
	}
	expect("file data out of inode order", p, base.size, true, -EUCLEAN,
	       "inode ", "overlaps the previous file");
	free(p);

	/* Misaligned data. */
	p = dup_img(&base);
	ip = inode_at(p, hosts);
	put(p, ip + 24, 8, g(p, ip + 24, 8) + 512);
	snprintf(want, sizeof(want), "inode %u: data offset", hosts);
	expect("misaligned file data", p, base.size, true, -EUCLEAN, want,
	       "not aligned to 0x1000");
	free(p);

	/* Data end beyond the data area. */
	EXPECT_INODE_CASES(&base,
		{ "file data beyond the data area", "mix/ab", 16, 8, 5000,
		  "inode %u: data end", "beyond data area end" });

	/* Non-zero tail byte: rejected with a reader, invisible without. */
	p = dup_img(&base);
	f1 = lookup(p, "etc/passwd");
	ip = inode_at(p, f1);
	p[g(p, ip + 24, 8) + g(p, ip + 16, 8) + 3000] = 0x5a;
	snprintf(want, sizeof(want), "inode %u: byte 0x%llx", f1,
		 (unsigned long long)(g(p, ip + 24, 8) + g(p, ip + 16, 8) +
				      3000));
	expect("non-zero byte in a file's tail", p, base.size, true,
	       -EUCLEAN, want, "after the file end");
	r = validate(p, base.size, false, &err);
	dxt_tap_ok(r == 0, "the same image without a reader: %s", ename(r));
	free(p);

	/* The reader's error is returned as is. */
	r = validate_ex(base.buf, base.size, true, -EIO, &err);
	dxt_tap_ok(r == -EIO && strstr(err.msg, "reading the tail"),
	    "a failing reader's errno is returned: %s \"%s\"", ename(r),
	    err.msg);

	/* Wrong dirent type, device number on a file, bad mtime_nsec. */
	p = dup_img(&base);
	ino = lookup(p, "dev");
	j = find_entry(p, ino, "sda");
	p[dirent_at(p, (u32)j) + 10] = DAXFS_DT_CHR;
	expect("dirent type CHR for a block device", p, base.size, true,
	       -EUCLEAN, "(ino ", "type 2, but the inode's type is 6");
	free(p);
	EXPECT_INODE_CASES(&base,
		{ "device number on a regular file", "etc/hosts", 48, 4, 1,
		  "inode %u: device number 1:0", NULL });
	p = dup_img(&base);
	put(p, inode_at(p, 2) + 40, 4, 1000000000);
	expect("mtime_nsec 10^9", p, base.size, true, -EUCLEAN, "inode 2:",
	       "mtime_nsec");
	free(p);

	/* An unreferenced inode (drop the last entry of /mix). */
	t = tb_new(12);
	tb_file(t, 1, "a", 0);
	f2 = tb_file(t, 1, "b", 0);
	img = build(t);
	put(img.buf, 48, 4, 1);
	put(img.buf, inode_at(img.buf, 1) + 16, 8, 1);
	snprintf(want, sizeof(want), "inode %u: not referenced", f2);
	expect("inode not referenced by any entry", img.buf, img.size, true,
	       -EUCLEAN, want, NULL);
	free(img.buf);

	free(base.buf);
}

int main(void)
{
	struct tb_image s12, s21;

	test_crc();
	test_field_layout();
	test_valid();

	s12 = build(tb_sample(12));
	test_super_cases(&s12);
	test_tree_cases();
	test_truncations(&s12);
	test_mutations("4K", &s12);
	{
		/* A small 2 MiB-aligned tree: copies stay cheap. */
		struct tb *t = tb_new(21);
		u32 d = tb_dir(t, 1, "d");

		tb_file(t, d, "weights", 3 << 20);
		tb_file(t, 1, "small", 10);
		tb_symlink(t, 1, "l", "d/weights");
		s21 = build(t);
	}
	{
		struct agg a;
		size_t f;

		/*
		 * The alignment-related superblock fields only: the 2 MiB
		 * image is large.
		 */
		for (f = 0; f < NELEM(super_fields); f++) {
			if (super_fields[f].off < 16 ||
			    (super_fields[f].off > 24 &&
			     super_fields[f].off < 52) ||
			    super_fields[f].off > 80)
				continue;
			memset(&a, 0, sizeof(a));
			mutate_field(&a, super_fields[f].name, &s21,
				     super_fields[f].off, super_fields[f].w,
				     f != 21);
			dxt_tap_ok(!a.mismatches, "2M super.%s: %u mutations agree with the reference (%u accepted)",
			    super_fields[f].name, a.runs, a.accepted);
		}
	}
	free(s21.buf);
	test_flips(&s12, 5000, true);
	test_flips(&s12, 5000, false);
	free(s12.buf);

	dxt_tap_ok(read_errors == 0, "the validator never read outside the image");
	return dxt_tap_done();
}
