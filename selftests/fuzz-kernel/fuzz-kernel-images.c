// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-kernel-images: mutate valid daxfs images, import each from a
 * dma-buf, and require the module's verdict to equal the user-space
 * validator's (the same daxfs_validate.c, from libformat.a).  Accepted
 * images are mounted and walked completely (readdir, lstat, readlink, read,
 * mmap + touch, each file exported as a dma-buf and mapped, failed
 * lookups), and what the mount shows is compared with the image.  The kernel log is checked by the VM runner (KASAN, lockdep,
 * WARN, BUG, kmemleak on the debug kernel).
 *
 *   fuzz-kernel-images [--seed N] [--iter N] [--timeout SECS]
 *                      [--corpus DIR] [--only I] [--verbose]
 *
 * --iter defaults to $FUZZ_KERNEL_ITER, else 500 on the debug kernel and
 * 300 elsewhere; --seed to $FUZZ_KERNEL_SEED, else 1; --timeout (whole run,
 * a watchdog thread also catches one iteration stuck for 120 s) to
 * $FUZZ_KERNEL_TIMEOUT, else the VM runner's per-test limit less 30 s
 * ($DAXFS_TEST_TIMEOUT), else 280.  --only I runs iteration I alone (with the
 * same seed: the same image).  The regression corpus (default
 * $DAXFS_SRC/selftests/fuzz-kernel/corpus/ *.img) is replayed first.
 *
 * A failing image is saved as /tmp/fuzz-fail-TAG.img and printed (gzip,
 * base64) between "# FUZZ-IMAGE-BEGIN/END" lines; selftests/fuzz-kernel/
 * extract writes those into the corpus.  A corpus image is the bytes the
 * module sees from the import offset to the end of the buffer.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "fuzzk.h"

#define MAX_SEEDS	16
#define MAX_REPORTS	20
#define STALL_SECS	120

struct seed {
	uint8_t *p;
	size_t len;
	char what[64];
};

static struct seed seeds[MAX_SEEDS];
static int nseeds;
static const char *mnt = "/tmp/fuzz-kernel-mnt";
static bool verbose;
static int kfd = -1;

/* For the watchdog: what the main thread is doing. */
static volatile long progress;
static volatile const uint8_t *cur_view;
static volatile size_t cur_len;
static char cur_tag[64];
static char cur_desc[512];
static double deadline;

/* ------------------------------------------------------------ the buffer */

struct fbuf {
	struct dxt_buf d;
	uint8_t *map;
};

static int fbuf_alloc(int kind, size_t size, struct fbuf *fb, char *err, size_t len)
{
	int r = dxt_buf_alloc(kind, size, &fb->d, err, len);

	if (r)
		return r;
	fb->map = dxt_buf_mmap(&fb->d, PROT_READ | PROT_WRITE);
	if (!fb->map) {
		snprintf(err, len, "mmap of the dma-buf: %s", strerror(errno));
		dxt_buf_free(&fb->d);
		return -ENODEV;
	}
	return 0;
}

static void fbuf_free(struct fbuf *fb)
{
	if (fb->map)
		munmap(fb->map, fb->d.size);
	fb->map = NULL;
	dxt_buf_free(&fb->d);
}

static int fbuf_put(struct fbuf *fb, size_t off, const uint8_t *p, size_t n)
{
	int r = dxt_buf_sync(fb->d.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);

	if (r)
		return r;
	memcpy(fb->map + off, p, n);
	return dxt_buf_sync(fb->d.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
}

/* ------------------------------------------------------------ one image */

struct tally {
	long runs, accepted, rejected, disagree, failures;
	long by_errno[5];	/* EINVAL EOPNOTSUPP EFBIG EUCLEAN other */
	struct walk_stats ws;
};

static int errno_slot(int e)
{
	switch (e) {
	case EINVAL: return 0;
	case EOPNOTSUPP: return 1;
	case EFBIG: return 2;
	case EUCLEAN: return 3;
	default: return 4;
	}
}

static const char *ename(int r)
{
	return r ? strerrorname_np(-r) ?: "?" : "accepted";
}

/*
 * The view (@avail bytes) is what the module sees from import offset
 * @off on, in a buffer of @fb->d.size bytes.  Returns false on a failure
 * (already reported).
 */
static bool run_one(int dev, struct fbuf *fb, size_t off, const uint8_t *view,
		    size_t avail, const char *tag, const char *desc, struct tally *t)
{
	char umsg[DAXFS_VERR_SIZE + 64], kmsg[1024], err[ERRLEN];
	struct daxfs_import imp;
	bool ok = true, released = false;
	int uv, kv, r;

	snprintf(cur_tag, sizeof(cur_tag), "%s", tag);
	snprintf(cur_desc, sizeof(cur_desc), "%s", desc);
	cur_view = view;
	cur_len = avail;
	t->runs++;
	r = fbuf_put(fb, off, view, avail);
	if (r) {
		dxt_tap_ok(false, "%s: writing the dma-buf: %s", tag, strerror(-r));
		t->failures++;
		return false;
	}
	uv = user_verdict(view, fb->d.size, off, umsg, sizeof(umsg));
	kmsg_last_daxfs(kfd, kmsg, sizeof(kmsg));	/* drain */
	kv = dxt_import(dev, fb->d.fd, off, &imp);
	if (uv != kv) {
		kmsg_last_daxfs(kfd, kmsg, sizeof(kmsg));
		t->disagree++;
		if (t->disagree + t->failures <= MAX_REPORTS)
			dxt_tap_ok(false, "%s: kernel %s, user space %s (%s)", tag, ename(kv),
			       ename(uv), desc);
		dxt_tap_note("  user space: %s", uv ? umsg : "valid");
		dxt_tap_note("  kernel:     %s", kv ? kmsg : "imported");
		save_image(tag, view, avail);
		if (!kv)
			dxt_release(dev, imp.id);
		return false;
	}
	if (verbose)
		dxt_tap_note("%s: %s (%s) %s", tag, ename(kv), desc, uv ? umsg : "");
	if (kv) {
		t->rejected++;
		t->by_errno[errno_slot(-kv)]++;
		return true;
	}
	t->accepted++;
	const struct daxfs_super *sb = (const void *)view;

	if (imp.image_size != le64toh(sb->image_size) || imp.buffer_size != fb->d.size) {
		snprintf(err, sizeof(err), "import reports image %llu buffer %llu, expected %llu %zu",
			 (unsigned long long)imp.image_size, (unsigned long long)imp.buffer_size,
			 (unsigned long long)le64toh(sb->image_size), fb->d.size);
		ok = false;
		goto out;
	}
	r = mount_id(imp.id, mnt, MS_RDONLY, NULL);
	if (r) {
		snprintf(err, sizeof(err), "mount of an accepted image: %s", strerror(-r));
		ok = false;
		goto out;
	}
	/* Half the time the import goes first: the mount holds the buffer. */
	if (progress & 1) {
		released = true;
		r = dxt_release(dev, imp.id);
		if (r) {
			snprintf(err, sizeof(err), "release while mounted: %s", strerror(-r));
			ok = false;
		}
	}
	if (ok && walk_check(mnt, view, avail, &t->ws, err, sizeof(err)))
		ok = false;
	if (umount2(mnt, 0)) {
		if (ok)
			snprintf(err, sizeof(err), "umount: %s", strerror(errno));
		ok = false;
		umount2(mnt, MNT_DETACH);
	}
out:
	if (!released)
		dxt_release(dev, imp.id);
	if (!ok) {
		t->failures++;
		if (t->disagree + t->failures <= MAX_REPORTS)
			dxt_tap_ok(false, "%s: accepted image: %s (%s)", tag, err, desc);
		save_image(tag, view, avail);
	}
	return ok;
}

/* ------------------------------------------------------------ mutations */

struct field {
	const char *name;
	unsigned int off, size;
};

static const struct field sb_fields[] = {
	{ "magic", 0, 4 }, { "version", 4, 4 }, { "compat", 8, 4 },
	{ "incompat", 12, 4 }, { "image_size", 16, 8 }, { "inode_off", 24, 8 },
	{ "inode_count", 32, 4 }, { "root_ino", 36, 4 }, { "dirent_off", 40, 8 },
	{ "dirent_count", 48, 4 }, { "data_align_log2", 52, 4 },
	{ "names_off", 56, 8 }, { "names_size", 64, 8 }, { "data_off", 72, 8 },
	{ "data_size", 80, 8 }, { "uuid", 88, 8 }, { "label", 104, 8 },
	{ "label_end", 160, 8 }, { "crc32c", 168, 4 }, { "reserved0", 172, 4 },
	{ "reserved", 176, 8 }, { "reserved_end", 4088, 8 },
};

static const struct field ino_fields[] = {
	{ "mode", 0, 2 }, { "reserved0", 2, 2 }, { "nlink", 4, 4 }, { "uid", 8, 4 },
	{ "gid", 12, 4 }, { "size", 16, 8 }, { "offset", 24, 8 },
	{ "mtime_sec", 32, 8 }, { "mtime_nsec", 40, 4 }, { "parent", 44, 4 },
	{ "rdev_major", 48, 4 }, { "rdev_minor", 52, 4 }, { "reserved", 56, 8 },
};

static const struct field de_fields[] = {
	{ "ino", 0, 4 }, { "name_off", 4, 4 }, { "name_len", 8, 2 }, { "type", 10, 1 },
	{ "reserved0", 11, 1 }, { "reserved1", 12, 4 },
};

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

struct mut {
	struct rng r;
	uint8_t *v;		/* the view */
	size_t avail;		/* view length */
	size_t imglen;		/* the seed image's length (before mutation) */
	char desc[512];
	size_t dl;
};

static uint64_t getn(const uint8_t *p, unsigned int size)
{
	uint64_t v = 0;

	memcpy(&v, p, size);
	return le64toh(v);
}

static void putn(uint8_t *p, unsigned int size, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, size);
}

static uint64_t sbf(const struct mut *m, unsigned int off, unsigned int size)
{
	return getn(m->v + off, size);
}

static void note(struct mut *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct mut *m, const char *fmt, ...)
{
	va_list ap;

	if (m->dl >= sizeof(m->desc) - 1)
		return;
	if (m->dl)
		m->desc[m->dl++] = ';', m->desc[m->dl] = 0;
	va_start(ap, fmt);
	m->dl += vsnprintf(m->desc + m->dl, sizeof(m->desc) - m->dl, fmt, ap);
	va_end(ap);
	if (m->dl > sizeof(m->desc) - 1)
		m->dl = sizeof(m->desc) - 1;
}

/* A value at or around a boundary for a field of @size bytes now @cur. */
static uint64_t interesting(struct mut *m, unsigned int size, uint64_t cur)
{
	uint64_t isz = sbf(m, 16, 8), ioff = sbf(m, 24, 8), doff = sbf(m, 40, 8);
	uint64_t noff = sbf(m, 56, 8), nsz = sbf(m, 64, 8), dat = sbf(m, 72, 8);
	uint64_t dsz = sbf(m, 80, 8), al = 1ull << (sbf(m, 52, 4) & 31);
	uint64_t mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
	uint64_t base[] = {
		0, 1, 2, cur - 1, cur + 1, cur + 16, cur - 16, cur + 64, cur - 64,
		cur + 4096, cur - 4096, cur * 2, cur / 2, cur + al, cur - al,
		mask, mask - 1, mask >> 1, (mask >> 1) + 1, 1ull << 31, (1ull << 31) - 1,
		0xffffffffull, 1ull << 32, 1ull << 52, (1ull << 52) - 4096,
		(1ull << 52) + 4096, isz, isz - 1, isz + 1, isz + 4096, m->avail,
		m->avail + 4096, ioff, doff, noff, noff + nsz, nsz, nsz - 1, dat,
		dat + dsz, dat + dsz - 1, dsz, al - 1, al, al + 1, 4095, 4096, 4097,
		sbf(m, 32, 4), sbf(m, 32, 4) + 1, sbf(m, 48, 4), sbf(m, 48, 4) + 1,
	};

	if (rng_chance(&m->r, 10))
		return rng_next(&m->r) & mask;
	return base[rng_below(&m->r, sizeof(base) / sizeof(base[0]))] & mask;
}

static bool layout_ok(const struct mut *m)
{
	uint64_t ioff = sbf(m, 24, 8), ic = sbf(m, 32, 4), doff = sbf(m, 40, 8);
	uint64_t dc = sbf(m, 48, 4), noff = sbf(m, 56, 8), nsz = sbf(m, 64, 8);

	return ioff >= 4096 && ic && ioff + ic * 64 <= m->avail && doff + dc * 16 <= m->avail &&
	       noff <= m->avail && nsz <= m->avail - noff && doff >= ioff && noff >= doff;
}

static uint32_t n_inodes(const struct mut *m)
{
	return sbf(m, 32, 4);
}

static uint8_t *inode_at(struct mut *m, uint32_t i)	/* i from 0 */
{
	return m->v + sbf(m, 24, 8) + (uint64_t)i * 64;
}

/* A random inode: its index into *i, and the inode, or NULL when the
 * layout does not let it be addressed. */
static uint8_t *random_inode(struct mut *m, uint32_t *i)
{
	*i = rng_below(&m->r, n_inodes(m));
	return layout_ok(m) ? inode_at(m, *i) : NULL;
}

static uint8_t *dirent_at(struct mut *m, uint32_t i)
{
	return m->v + sbf(m, 40, 8) + (uint64_t)i * 16;
}

static void fix_crc(struct mut *m)
{
	uint64_t ioff = sbf(m, 24, 8), end = sbf(m, 56, 8) + sbf(m, 64, 8);
	struct daxfs_super sb;

	if (ioff < 4096 || end < ioff || end > m->avail)
		return;
	memcpy(&sb, m->v, sizeof(sb));
	putn(m->v + 168, 4, daxfs_image_crc(&sb, m->v + ioff, end - ioff));
	note(m, "crc fixed");
}

static void mutate_kind(struct mut *m, unsigned int kind);

static void mutate_benign(struct mut *m)
{
	mutate_kind(m, rng_chance(&m->r, 30) ? 10 : 11);
}

static void mutate_once(struct mut *m)
{
	mutate_kind(m, rng_below(&m->r, 16));
}

static void mutate_kind(struct mut *m, unsigned int kind)
{
	uint64_t meta_end = m->imglen;
	const struct field *f;
	uint8_t *p = NULL;
	uint64_t v;
	uint32_t i = 0, j;

	if (layout_ok(m))
		meta_end = sbf(m, 56, 8) + sbf(m, 64, 8);
	if (meta_end > m->avail)
		meta_end = m->avail;
	if ((kind >= 3 && kind <= 9) && !layout_ok(m))
		kind = 0;
	switch (kind) {
	case 0:		/* bit flips, mostly in the superblock and metadata */
	case 1:
		for (int k = 1 + rng_below(&m->r, 4); k; k--) {
			v = rng_chance(&m->r, 80) ? rng_below(&m->r, meta_end) :
			    rng_below(&m->r, m->avail);
			m->v[v] ^= 1u << rng_below(&m->r, 8);
			note(m, "flip@%llu", (unsigned long long)v);
		}
		break;
	case 2:		/* an interesting byte */
		v = rng_below(&m->r, meta_end);
		m->v[v] = "\x00\xff\x80\x7f/.\x01\xa5"[rng_below(&m->r, 8)];
		note(m, "byte@%llu=0x%02x", (unsigned long long)v, m->v[v]);
		break;
	case 3:		/* a superblock field */
	case 4:
		f = &sb_fields[rng_below(&m->r, NFIELDS(sb_fields))];
		v = interesting(m, f->size, getn(m->v + f->off, f->size));
		putn(m->v + f->off, f->size, v);
		note(m, "sb.%s=%#llx", f->name, (unsigned long long)v);
		break;
	case 5:		/* an inode field */
	case 6:
		i = rng_chance(&m->r, 25) ? 0 : rng_below(&m->r, n_inodes(m));
		f = &ino_fields[rng_below(&m->r, NFIELDS(ino_fields))];
		p = inode_at(m, i);
		if (!strcmp(f->name, "mode") && rng_chance(&m->r, 60)) {
			static const uint16_t types[] = { 0010000, 0020000, 0040000, 0060000,
				0100000, 0120000, 0140000, 0, 0170000, 0030000, 0050000 };
			v = (getn(p, 2) & 07777) | types[rng_below(&m->r, 11)];
		} else {
			v = interesting(m, f->size, getn(p + f->off, f->size));
		}
		putn(p + f->off, f->size, v);
		note(m, "inode %u.%s=%#llx", i + 1, f->name, (unsigned long long)v);
		break;
	case 7:		/* a directory entry field */
		if (!sbf(m, 48, 4))
			break;
		i = rng_below(&m->r, sbf(m, 48, 4));
		f = &de_fields[rng_below(&m->r, NFIELDS(de_fields))];
		p = dirent_at(m, i);
		if (!strcmp(f->name, "ino") && rng_chance(&m->r, 50))
			v = rng_below(&m->r, n_inodes(m) + 2);
		else if (!strcmp(f->name, "type") && rng_chance(&m->r, 50))
			v = "\x01\x02\x04\x06\x08\x0a\x0c\x00\x03\x0e"[rng_below(&m->r, 10)];
		else
			v = interesting(m, f->size, getn(p + f->off, f->size));
		putn(p + f->off, f->size, v);
		note(m, "dirent %u.%s=%#llx", i, f->name, (unsigned long long)v);
		break;
	case 8: {	/* a name: its bytes, its length, "." and ".." */
		uint64_t noff = sbf(m, 56, 8), nsz = sbf(m, 64, 8), no, nl;

		if (!sbf(m, 48, 4))
			break;
		i = rng_below(&m->r, sbf(m, 48, 4));
		p = dirent_at(m, i);
		no = getn(p + 4, 4);
		nl = getn(p + 8, 2);
		if (no + nl > nsz || !nl)
			break;
		switch (rng_below(&m->r, 5)) {
		case 0:
			v = rng_below(&m->r, nl);
			m->v[noff + no + v] = "/\x00.\xff\x01"[rng_below(&m->r, 5)];
			note(m, "dirent %u name[%llu]=0x%02x", i, (unsigned long long)v,
			     m->v[noff + no + v]);
			break;
		case 1:
			m->v[noff + no] = '.';
			putn(p + 8, 2, 1);
			note(m, "dirent %u name='.'", i);
			break;
		case 2:
			if (nl < 2)
				break;
			m->v[noff + no] = m->v[noff + no + 1] = '.';
			putn(p + 8, 2, 2);
			note(m, "dirent %u name='..'", i);
			break;
		case 3:
			putn(p + 8, 2, nl + (rng_chance(&m->r, 50) ? 1 : -1));
			note(m, "dirent %u name_len %llu±1", i, (unsigned long long)nl);
			break;
		case 4:	/* point at a neighbour's name: duplicates, order */
			j = rng_below(&m->r, sbf(m, 48, 4));
			memcpy(p + 4, dirent_at(m, j) + 4, 6);
			note(m, "dirent %u name=dirent %u's", i, j);
			break;
		}
		break;
	}
	case 9:		/* swap two entries or two inodes */
		if (rng_chance(&m->r, 50) && sbf(m, 48, 4) > 1) {
			uint8_t tmp[16];

			i = rng_below(&m->r, sbf(m, 48, 4) - 1);
			j = rng_chance(&m->r, 70) ? i + 1 : rng_below(&m->r, sbf(m, 48, 4));
			memcpy(tmp, dirent_at(m, i), 16);
			memcpy(dirent_at(m, i), dirent_at(m, j), 16);
			memcpy(dirent_at(m, j), tmp, 16);
			note(m, "swap dirents %u %u", i, j);
		} else if (n_inodes(m) > 1) {
			uint8_t tmp[64];

			i = rng_below(&m->r, n_inodes(m));
			j = rng_below(&m->r, n_inodes(m));
			memcpy(tmp, inode_at(m, i), 64);
			memcpy(inode_at(m, i), inode_at(m, j), 64);
			memcpy(inode_at(m, j), tmp, 64);
			note(m, "swap inodes %u %u", i + 1, j + 1);
		}
		break;
	case 10:	/* file data and tails (not covered by the CRC) */
		if (!layout_ok(m))
			break;
		for (int tries = 0; tries < 8; tries++) {
			uint64_t sz, off, end;

			i = rng_below(&m->r, n_inodes(m));
			p = inode_at(m, i);
			if ((getn(p, 2) & 0170000) != 0100000 || !(sz = getn(p + 16, 8)))
				continue;
			off = getn(p + 24, 8);
			end = off + sz;
			if (end < off || ((end + 4095) & ~4095ull) > m->avail)
				break;
			if (rng_chance(&m->r, 50) && (end & 4095)) {
				v = end + rng_below(&m->r, 4096 - (end & 4095));
				m->v[v] = 1 + rng_below(&m->r, 255);
				note(m, "inode %u tail byte %llu", i + 1, (unsigned long long)(v - off));
			} else {
				v = off + rng_below(&m->r, sz);
				m->v[v] ^= 0x5a;
				note(m, "inode %u data byte %llu", i + 1, (unsigned long long)(v - off));
			}
			break;
		}
		break;
	case 11: {	/* benign: ids, permissions, times, label, uuid, compat */
		unsigned int what = rng_below(&m->r, 6);

		/* 0-2 change a random inode */
		if (what <= 2) {
			p = random_inode(m, &i);
			if (!p)
				break;
		}
		switch (what) {
		case 0:
			putn(p + 8 + 4 * rng_below(&m->r, 2), 4,
			     rng_chance(&m->r, 30) ? 0xffffffffu : rng_next(&m->r));
			note(m, "inode %u owner", i + 1);
			break;
		case 1:
			putn(p, 2, (getn(p, 2) & 0170000) | rng_below(&m->r, 010000));
			note(m, "inode %u permissions", i + 1);
			break;
		case 2:
			putn(p + 32, 8, interesting(m, 8, getn(p + 32, 8)));
			putn(p + 40, 4, rng_below(&m->r, 1000000000));
			note(m, "inode %u mtime", i + 1);
			break;
		case 3:
			v = rng_below(&m->r, 65);
			memset(m->v + 104, 0, 64);
			for (uint64_t k = 0; k < v; k++)
				m->v[104 + k] = 1 + rng_below(&m->r, 255);
			note(m, "label of %llu bytes", (unsigned long long)v);
			break;
		case 4:
			putn(m->v + 88, 8, rng_next(&m->r));
			note(m, "uuid");
			break;
		case 5:
			putn(m->v + 8, 4, rng_next(&m->r));
			note(m, "compat bits");
			break;
		}
		break;
	}
	case 12:	/* image_size against the buffer: extension */
		v = sbf(m, 16, 8) + 4096 * (1 + rng_below(&m->r, 4));
		putn(m->v + 16, 8, v);
		note(m, "image_size+=%llu", (unsigned long long)(v - getn(m->v + 16, 8)));
		break;
	case 13:	/* image_size shrunk below what the layout needs */
		v = sbf(m, 16, 8);
		v = v > 4096 ? v - 4096 * (1 + rng_below(&m->r, v / 4096 - 1 ? v / 4096 - 1 : 1)) : v;
		putn(m->v + 16, 8, v);
		note(m, "image_size=%llu", (unsigned long long)v);
		break;
	case 14: {	/* splice a run of bytes from another seed */
		const struct seed *s = &seeds[rng_below(&m->r, nseeds)];
		uint64_t at = rng_below(&m->r, meta_end), n = 1 + rng_below(&m->r, 256);

		if (at + n > s->len || at + n > m->avail)
			break;
		memcpy(m->v + at, s->p + at, n);
		note(m, "splice %llu bytes at %llu", (unsigned long long)n,
		     (unsigned long long)at);
		break;
	}
	case 15:	/* an offset field at and around the others' boundaries */
		f = &sb_fields[rng_chance(&m->r, 50) ? 5 : 8 + 3 * rng_below(&m->r, 3)];
		v = getn(m->v + f->off, f->size) + (int64_t)rng_below(&m->r, 5) * 16 - 32;
		putn(m->v + f->off, f->size, v);
		note(m, "sb.%s=%#llx", f->name, (unsigned long long)v);
		break;
	}
}

/* ------------------------------------------------------------ watchdog */

static void *watchdog(void *arg)
{
	long last = -1;
	double since = now_s();

	(void)arg;
	for (;;) {
		sleep(1);
		if (progress != last) {
			last = progress;
			since = now_s();
		}
		if (now_s() - since > STALL_SECS || now_s() > deadline) {
			bool stall = now_s() - since > STALL_SECS;

			dxt_tap_ok(false, "%s at %s (%s)", stall ? "no progress for 120 s" :
			       "time limit reached", cur_tag, cur_desc);
			if (stall && cur_view)
				save_image(cur_tag, (const void *)cur_view, cur_len);
			/*
			 * The main thread may be inside an iteration: detach
			 * its mount, or it would hold the module after _exit().
			 */
			umount2(mnt, MNT_DETACH);
			dxt_tap_done();
			fflush(stdout);
			_exit(1);
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ main */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_corpus(int dev, int kind, const char *dir, struct tally *t)
{
	char path[2 * PATH_MAX], err[ERRLEN], tag[300];
	char **names = NULL;
	struct dirent *d;
	size_t n = 0;
	DIR *dd;
	long before = t->disagree + t->failures;

	dd = opendir(dir);
	if (!dd) {
		dxt_tap_skip("regression corpus", "%s: %s", dir, strerror(errno));
		return;
	}
	while ((d = readdir(dd))) {
		size_t l = strlen(d->d_name);

		if (l < 5 || strcmp(d->d_name + l - 4, ".img"))
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		names[n++] = strdup(d->d_name);
	}
	closedir(dd);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct fbuf fb = { 0 };
		uint8_t *img, *view;
		size_t len, avail;
		int r;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(tag, sizeof(tag), "corpus-%.*s", (int)strlen(names[i]) - 4, names[i]);
		r = dxt_slurp(path, &img, &len);
		if (r || !len) {
			dxt_tap_ok(false, "%s: %s", path, r ? strerror(-r) : "empty");
			continue;
		}
		avail = (len + PAGE - 1) & ~(PAGE - 1);
		view = calloc(1, avail);
		memcpy(view, img, len);
		if (fbuf_alloc(kind, avail, &fb, err, sizeof(err))) {
			dxt_tap_ok(false, "%s: buffer of %zu bytes: %s", path, avail, err);
		} else {
			progress++;
			run_one(dev, &fb, 0, view, avail, tag, names[i], t);
			fbuf_free(&fb);
		}
		free(view);
		free(img);
		free(names[i]);
	}
	free(names);
	dxt_tap_ok(t->disagree + t->failures == before,
	       "regression corpus: %zu images replayed from %s", n, dir);
}

static bool build_seeds(const char *work)
{
	static const struct {
		int flavor;
		const char *opts[4];
	} spec[] = {
		{ 0, { NULL } },
		{ 0, { "--align=8K", "--align-min=0", NULL } },
		{ 0, { "-L", "fuzz-label", "--size=256K", NULL } },
		{ 1, { NULL } },
		{ 2, { NULL } },
		{ 3, { NULL } },
		{ 4, { "--align=64K", "--align-min=0", NULL } },
		{ 4, { "--align=16K", NULL } },
		{ 4, { "--align=64K", NULL } },
	};
	char err[ERRLEN];

	for (size_t i = 0; i < sizeof(spec) / sizeof(spec[0]); i++) {
		struct seed *s = &seeds[nseeds];
		char vmsg[256];
		int v;

		if (seed_image(work, spec[i].flavor, spec[i].opts, &s->p, &s->len, err,
			       sizeof(err))) {
			dxt_tap_ok(false, "seed image %zu: %s", i, err);
			return false;
		}
		snprintf(s->what, sizeof(s->what), "tree %d%s%s", spec[i].flavor,
			 spec[i].opts[0] ? " " : "", spec[i].opts[0] ?: "");
		v = user_verdict(s->p, (s->len + PAGE - 1) & ~(PAGE - 1), 0, vmsg, sizeof(vmsg));
		if (v || s->len % PAGE) {
			dxt_tap_ok(false, "seed image %zu (%s) not valid: %s", i, s->what, vmsg);
			return false;
		}
		nseeds++;
	}
	return true;
}

/*
 * The verdicts are only worth comparing if the user-space validator works:
 * a stale or half-edited build/format/libformat.a shows up here first.
 */
static bool validator_sane(void)
{
	const struct seed *s = &seeds[0];
	size_t len = s->len;
	uint8_t *v = malloc(len);
	char msg[256];
	int r1, r2;

	memcpy(v, s->p, len);
	v[le64toh(((const struct daxfs_super *)v)->inode_off) + 5] ^= 1;	/* nlink, CRC stale */
	r1 = user_verdict(v, len, 0, msg, sizeof(msg));
	memcpy(v, s->p, len);
	for (uint32_t i = 0; i < le32toh(((const struct daxfs_super *)v)->inode_count); i++) {
		struct daxfs_inode di;
		uint64_t end;

		memcpy(&di, v + le64toh(((const struct daxfs_super *)v)->inode_off) + 64ull * i,
		       sizeof(di));
		end = le64toh(di.offset) + le64toh(di.size);
		if ((le16toh(di.mode) & DAXFS_S_IFMT) == DAXFS_S_IFREG && (end & 4095)) {
			v[end] = 1;	/* a tail byte: R4 */
			break;
		}
	}
	r2 = user_verdict(v, len, 0, msg, sizeof(msg));
	free(v);
	dxt_tap_ok(r1 == -EUCLEAN && r2 == -EUCLEAN,
	       "user-space validator sane: stale CRC %s, non-zero file tail %s (expected EUCLEAN)",
	       ename(r1), ename(r2));
	return r1 == -EUCLEAN && r2 == -EUCLEAN;
}

int main(int argc, char **argv)
{
	const char *kernel = getenv("DAXFS_KERNEL") ?: "?";
	const char *e;
	char work[PATH_MAX], why[2 * ERRLEN], corpus[PATH_MAX], tag[64];
	unsigned long long seed = 1;
	long iter = !strcmp(kernel, "debug") ? 500 : 300, only = -1;
	double timeout = 280, t0;
	struct tally t = { 0 }, tc = { 0 };
	struct fbuf fb = { 0 };
	size_t maxlen = 0, bsize;
	uint8_t *view;
	pthread_t wd;
	int kind, dev, c, r;
	long dmabufs0;

	if ((e = getenv("FUZZ_KERNEL_ITER")) && *e)
		iter = atol(e);
	if ((e = getenv("FUZZ_KERNEL_SEED")) && *e)
		seed = strtoull(e, NULL, 0);
	/*
	 * The time limit only says where a run too slow to finish was: give
	 * it the runner's per-test limit (less a margin to report), so that a
	 * slow host fails it no sooner than any other test.
	 */
	if ((e = getenv("DAXFS_TEST_TIMEOUT")) && atof(e) > 2 * 30)
		timeout = atof(e) - 30;
	if ((e = getenv("FUZZ_KERNEL_TIMEOUT")) && *e)
		timeout = atof(e);
	snprintf(corpus, sizeof(corpus), "%s/selftests/fuzz-kernel/corpus", dxt_src_dir());
	{
		const struct fuzzk_opt opts[] = {
			{ "seed", FUZZK_ULL, &seed }, { "iter", FUZZK_LONG, &iter },
			{ "timeout", FUZZK_DOUBLE, &timeout },
			{ "corpus", FUZZK_PATH, corpus }, { "only", FUZZK_LONG, &only },
			{ "verbose", FUZZK_FLAG, &verbose }, { NULL, 0, NULL },
		};

		if (fuzzk_options(argc, argv, opts))
			return 2;
	}
	dxt_tap_init();
	dxt_tap_note("fuzz-kernel-images: kernel %s, seed %llu, %ld iterations, time limit %.0f s",
		 kernel, seed, iter, timeout);
	t0 = now_s();
	deadline = t0 + timeout;
	pthread_create(&wd, NULL, watchdog, NULL);

	kind = fuzzk_begin(&(struct fuzzk_start){ .prog = "fuzz-kernel-images", .flavor = -1,
						  .what = "setup" },
			   work, sizeof(work), NULL, NULL, &r);
	if (kind < 0)
		return r;
	dev = dxt_dev_open();
	if (dev < 0) {
		dxt_tap_ok(false, "open /dev/daxfs: %s (module not loaded?)", strerror(-dev));
		return dxt_tap_done();
	}
	kfd = kmsg_open();
	mkdir(mnt, 0755);
	if (!build_seeds(work))
		return dxt_tap_done();
	for (int i = 0; i < nseeds; i++) {
		maxlen = seeds[i].len > maxlen ? seeds[i].len : maxlen;
		dxt_tap_note("seed %d: %s, %zu bytes", i, seeds[i].what, seeds[i].len);
	}
	dxt_tap_ok(true, "%d seed images built with mkdaxfs and valid (exporter %s)", nseeds,
	       dxt_exporter_name(kind));
	if (!validator_sane())
		return dxt_tap_done();
	dmabufs0 = dxt_dmabuf_count();

	/* Regression images first. */
	replay_corpus(dev, kind, corpus, &tc);

	bsize = maxlen + 8 * PAGE;
	r = fbuf_alloc(kind, bsize, &fb, why, sizeof(why));
	if (r) {
		dxt_tap_ok(false, "a %zu-byte %s buffer: %s", bsize, dxt_exporter_name(kind), why);
		return dxt_tap_done();
	}
	view = malloc(bsize);

	/* Offsets at and beyond the end of the buffer, and unaligned. */
	{
		static const uint64_t offs[] = { 1, 4095, 4097 };
		uint64_t more[] = { bsize, bsize + PAGE, bsize - 1, ~0ull & ~(PAGE - 1),
				    1ull << 63 };
		bool good = true;

		for (size_t i = 0; i < 8; i++) {
			uint64_t off = i < 3 ? offs[i] : more[i - 3];
			struct daxfs_import imp;

			r = dxt_import(dev, fb.d.fd, off, &imp);
			if (r != -EINVAL) {
				dxt_tap_note("import at offset %llu: %s, expected EINVAL",
					 (unsigned long long)off, ename(r));
				if (!r)
					dxt_release(dev, imp.id);
				good = false;
			}
		}
		dxt_tap_ok(good, "imports at unaligned offsets and at or beyond the buffer's end: EINVAL");
	}

	for (long i = only >= 0 ? only : 0; i < (only >= 0 ? only + 1 : iter); i++) {
		struct mut m = { .r = { mix_seed(seed, i) }, .v = view };
		const struct seed *s = &seeds[rng_below(&m.r, nseeds)];
		size_t img_pages = (s->len + PAGE - 1) / PAGE, avail;

		progress++;
		/* Where the image sits: exact fit, slack after it, or cut. */
		switch (rng_below(&m.r, 10)) {
		case 0:
		case 1:
			avail = (img_pages + 1 + rng_below(&m.r, bsize / PAGE - img_pages)) * PAGE;
			if (avail > bsize)
				avail = bsize;
			note(&m, "avail %zu pages", avail / PAGE);
			break;
		case 2:
			avail = img_pages > 1 ? (1 + rng_below(&m.r, img_pages - 1)) * PAGE : PAGE;
			note(&m, "cut to %zu of %zu pages", avail / PAGE, img_pages);
			break;
		default:
			avail = img_pages * PAGE;
			break;
		}
		m.avail = avail;
		m.imglen = s->len < avail ? s->len : avail;
		memcpy(view, s->p, m.imglen);
		if (avail > m.imglen) {
			if (rng_chance(&m.r, 50)) {
				memset(view + m.imglen, 0, avail - m.imglen);
			} else {
				for (size_t k = m.imglen; k < avail; k++)
					view[k] = rng_next(&m.r);
				note(&m, "junk after the image");
			}
		}
		c = rng_below(&m.r, 100);
		if (c < 20) {
			/* Changes a valid image may have: mostly accepted. */
			for (int k = rng_below(&m.r, 3); k; k--)
				mutate_benign(&m);
			fix_crc(&m);
		} else {
			for (int k = 1 + rng_below(&m.r, 3); k; k--)
				mutate_once(&m);
			if (rng_chance(&m.r, 75))
				fix_crc(&m);
		}
		snprintf(tag, sizeof(tag), "s%llu-i%ld", seed, i);
		{
			char d[600];

			snprintf(d, sizeof(d), "%s: %s", s->what, m.desc);
			run_one(dev, &fb, bsize - avail, view, avail, tag, d, &t);
		}
	}
	progress++;
	snprintf(cur_tag, sizeof(cur_tag), "after the loop");
	cur_view = NULL;
	dxt_tap_ok(!t.disagree && !t.failures,
	       "%ld mutated images: %ld rejected, %ld accepted, %ld disagreements, %ld failures (%.0f s)",
	       t.runs, t.rejected, t.accepted, t.disagree, t.failures, now_s() - t0);
	dxt_tap_note("rejections: EINVAL %ld, EOPNOTSUPP %ld, EFBIG %ld, EUCLEAN %ld, other %ld",
		 t.by_errno[0], t.by_errno[1], t.by_errno[2], t.by_errno[3], t.by_errno[4]);
	dxt_tap_note("walked: %ld dirs, %ld files (%ld bytes read, %ld pages touched, %ld exported), "
		     "%ld symlinks, %ld special", t.ws.dirs, t.ws.files, t.ws.bytes, t.ws.pages,
		     t.ws.exports, t.ws.links, t.ws.specials);
	dxt_tap_note("replay with: fuzz-kernel-images --seed %llu --only I", seed);

	/* Nothing kept: every import slot free, every dma-buf gone. */
	close(dev);
	{
		int err;
		long n;

		/* A valid image to import: the first seed, at offset 0. */
		memset(view, 0, bsize);
		memcpy(view, seeds[0].p, seeds[0].len);
		fbuf_put(&fb, 0, view, bsize);
		n = count_free_imports(fb.d.fd, &err);

		dxt_tap_ok(n == 1024 && err == -ENOSPC,
		       "afterwards all 1024 import slots are free (%ld, then %s)", n, ename(err));
	}
	fbuf_free(&fb);
	if (dmabufs0 >= 0) {
		long n = dxt_dmabuf_count();

		dxt_tap_ok(n == dmabufs0, "dma-bufs back to %ld (now %ld)", dmabufs0, n);
	}
	dxt_rm_rf(work);
	return dxt_tap_done();
}
