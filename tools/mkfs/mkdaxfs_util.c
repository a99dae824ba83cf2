// SPDX-License-Identifier: GPL-2.0
/*
 * mkdaxfs helpers: errors, allocation, the tree's inode list, a small hash
 * table, the content hash for reproducible UUIDs, the data copier and the
 * progress line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include "mkdaxfs.h"

const char *mk_prog = "mkdaxfs";
struct mk_opts mk_opt;
void (*mk_cleanup_hook)(void);

static void progress_clear(void);

__attribute__((noreturn))
static void vdie(int code, int err, const char *fmt, va_list ap)
{
	progress_clear();
	fprintf(stderr, "%s: ", mk_prog);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
	if (mk_cleanup_hook)
		mk_cleanup_hook();
	exit(code);
}

void mk_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(MK_EXIT_ERROR, 0, fmt, ap);
}

void mk_die_code(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(code, 0, fmt, ap);
}

void mk_die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vdie(MK_EXIT_ERROR, err, fmt, ap);
}

void *mk_alloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p)
		mk_die("out of memory");
	return p;
}

void *mk_realloc_array(void *p, size_t n, size_t size)
{
	void *q = reallocarray(p, n ? n : 1, size);

	if (!q)
		mk_die("out of memory");
	return q;
}

char *mk_strndup(const char *s, size_t n)
{
	char *d = mk_alloc(n + 1);

	memcpy(d, s, n);
	return d;
}

struct mk_inode **mk_all;
size_t mk_all_count;
static size_t mk_all_cap;

struct mk_inode *mk_new_inode(uint32_t mode)
{
	struct mk_inode *ino = mk_alloc(sizeof(*ino));

	ino->mode = mode;
	ino->srcfd = -1;
	if (mk_all_count == mk_all_cap) {
		mk_all_cap = mk_all_cap ? 2 * mk_all_cap : 1024;
		mk_all = mk_realloc_array(mk_all, mk_all_cap, sizeof(*mk_all));
	}
	mk_all[mk_all_count++] = ino;
	return ino;
}

uint32_t mk_add_entry(struct mk_inode *dir, const char *name, size_t len,
		      struct mk_inode *child)
{
	struct mk_entry *e;

	if (dir->nents == UINT32_MAX)
		mk_die("%s: too many entries in one directory",
		       mk_path(dir, NULL));
	if (dir->nents == dir->cap) {
		dir->cap = dir->cap ? (dir->cap > UINT32_MAX / 2 ? UINT32_MAX :
				       2 * dir->cap) : 8;
		dir->ents = mk_realloc_array(dir->ents, dir->cap,
					     sizeof(*dir->ents));
	}
	e = &dir->ents[dir->nents];
	e->name = mk_strndup(name, len);
	e->len = len;
	e->ino = child;
	return dir->nents++;
}

const char *mk_path(const struct mk_inode *dir, const char *name)
{
	static char *buf;
	static size_t cap;
	const struct mk_inode *d;
	size_t len = 0, pos, l;

	for (d = dir; d->parent != d; d = d->parent)
		len += strlen(d->dname) + 1;
	if (name)
		len += strlen(name) + 1;
	if (len == 0)
		return ".";
	if (len + 1 > cap) {
		cap = len + 1;
		buf = mk_realloc_array(buf, cap, 1);
	}
	/* Fill from the end: every component is preceded by a '/'. */
	pos = len;
	buf[pos] = 0;
	if (name) {
		l = strlen(name);
		pos -= l;
		memcpy(buf + pos, name, l);
		buf[--pos] = '/';
	}
	for (d = dir; d->parent != d; d = d->parent) {
		l = strlen(d->dname);
		pos -= l;
		memcpy(buf + pos, d->dname, l);
		buf[--pos] = '/';
	}
	return buf + 1;
}

/* --- hash table ---------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

uint64_t mk_hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = mix64(seed ^ n), w;

	while (n >= 8) {
		memcpy(&w, s, 8);
		h = mix64(h ^ w) + 0x9e3779b97f4a7c15ull;
		s += 8;
		n -= 8;
	}
	w = 0;
	memcpy(&w, s, n);
	return mix64(h ^ w ^ 0x5851f42d4c957f2dull);
}

/* Key 0 marks an empty slot; real keys are mapped away from it. */
static uint64_t fixkey(uint64_t k)
{
	return k ? k : 1;
}

bool mk_hash_slot_used(const struct mk_hash *h, size_t slot)
{
	return h->keys && slot <= h->mask && h->keys[slot] != 0;
}

size_t mk_hash_next(const struct mk_hash *h, size_t slot, uint64_t key)
{
	key = fixkey(key);
	if (!h->keys)
		return 0;
	for (slot = (slot + 1) & h->mask; h->keys[slot]; slot = (slot + 1) & h->mask)
		if (h->keys[slot] == key)
			return slot;
	return slot;		/* an empty slot: no (more) matches */
}

size_t mk_hash_first(const struct mk_hash *h, uint64_t key)
{
	size_t slot;

	key = fixkey(key);
	if (!h->keys)
		return 0;
	slot = key & h->mask;
	if (!h->keys[slot] || h->keys[slot] == key)
		return slot;
	return mk_hash_next(h, slot, key);
}

static void hash_put(struct mk_hash *h, uint64_t key, void *val)
{
	size_t slot = key & h->mask;

	while (h->keys[slot])
		slot = (slot + 1) & h->mask;
	h->keys[slot] = key;
	h->vals[slot] = val;
}

void mk_hash_insert(struct mk_hash *h, uint64_t key, void *val)
{
	key = fixkey(key);
	if (!h->keys || (h->count + 1) * 4 > (h->mask + 1) * 3) {
		struct mk_hash old = *h;
		size_t size = old.keys ? 2 * (old.mask + 1) : 1024, i;

		h->keys = mk_alloc(size * sizeof(*h->keys));
		h->vals = mk_alloc(size * sizeof(*h->vals));
		h->mask = size - 1;
		if (old.keys) {
			for (i = 0; i <= old.mask; i++)
				if (old.keys[i])
					hash_put(h, old.keys[i], old.vals[i]);
			free(old.keys);
			free(old.vals);
		}
	}
	hash_put(h, key, val);
	h->count++;
}

void mk_hash_free(struct mk_hash *h)
{
	free(h->keys);
	free(h->vals);
	memset(h, 0, sizeof(*h));
}

/* --- 128-bit content hash ------------------------------------------------ */

void mk_h128_init(struct mk_h128 *h)
{
	h->a = 0x6a09e667f3bcc908ull;
	h->b = 0xbb67ae8584caa73bull;
	h->len = 0;
}

static void h128_word(struct mk_h128 *h, uint64_t w)
{
	h->a = mix64(h->a ^ w);
	h->b = mix64(h->b + w + (h->a >> 17)) ^ (h->b << 7);
}

/* Streams must be fed in multiples of 8 bytes except for the last call. */
void mk_h128_update(struct mk_h128 *h, const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t w;

	h->len += n;
	while (n >= 8) {
		memcpy(&w, s, 8);
		h128_word(h, w);
		s += 8;
		n -= 8;
	}
	if (n) {
		w = 0;
		memcpy(&w, s, n);
		h128_word(h, w ^ ((uint64_t)n << 56));
	}
}

void mk_h128_final(struct mk_h128 *h, uint8_t out[16])
{
	uint64_t a, b;

	h128_word(h, h->len);
	a = mix64(h->a ^ mix64(h->b));
	b = mix64(h->b + a);
	memcpy(out, &a, 8);
	memcpy(out + 8, &b, 8);
}

/* --- data copy ----------------------------------------------------------- */

#define COPY_CHUNK	(8u << 20)	/* per copy_file_range/sendfile call */
#define BUF_SIZE	(1u << 20)	/* pread/pwrite fallback */

enum copy_method { USE_CFR, USE_SENDFILE, USE_RW };
static enum copy_method method = USE_CFR;
static uint64_t progress_files, progress_bytes;

void mk_pwrite_all(int fd, const void *buf, size_t n, uint64_t off,
		   const char *what)
{
	const char *p = buf;

	while (n) {
		ssize_t w = pwrite(fd, p, n, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			mk_die_errno("%s: write", what);
		p += w;
		n -= w;
		off += w;
	}
}

static void copy_rw(int in, uint64_t in_off, int out, uint64_t out_off,
		    uint64_t len, const char *what)
{
	static char *buf;

	if (!buf)
		buf = mk_alloc(BUF_SIZE);
	while (len) {
		size_t n = len < BUF_SIZE ? len : BUF_SIZE;
		ssize_t r = pread(in, buf, n, in_off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			mk_die_errno("%s: read", what);
		if (r == 0)
			mk_die("%s: file shrank while being copied", what);
		mk_pwrite_all(out, buf, r, out_off, what);
		in_off += r;
		out_off += r;
		len -= r;
		progress_bytes += r;
		mk_progress(progress_files, progress_bytes);
	}
}

/*
 * One step of the in-kernel copy METHOD: bytes copied (0: the source ended
 * early), or -1 with errno.
 */
static ssize_t copy_step(enum copy_method m, int in, uint64_t in_off, int out,
			 uint64_t out_off, size_t n)
{
	loff_t io = in_off, oo = out_off;

	if (m == USE_CFR)
		return copy_file_range(in, &io, out, &oo, n, 0);
	if (lseek(out, out_off, SEEK_SET) < 0)
		return -1;
	return sendfile(out, in, &io, n);
}

/* Does errno E say that METHOD cannot copy between these files at all? */
static bool copy_unsupported(enum copy_method m, int e)
{
	if (m == USE_CFR)
		return e == EXDEV || e == EINVAL || e == EOPNOTSUPP ||
		       e == ENOSYS || e == EBADF || e == EPERM;
	return e == EINVAL || e == ENOSYS;
}

/*
 * Copy one data extent with the fastest method that works: copy_file_range,
 * then sendfile, then read/write; a method that fails as unsupported is not
 * tried again for the rest of the run.
 */
static void copy_extent(int in, uint64_t in_off, int out, uint64_t out_off,
			uint64_t len, const char *what)
{
	while (len && method != USE_RW) {
		ssize_t n = copy_step(method, in, in_off, out, out_off,
				      len < COPY_CHUNK ? len : COPY_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && copy_unsupported(method, errno)) {
			method = method == USE_CFR ? USE_SENDFILE : USE_RW;
			continue;
		}
		if (n < 0)
			mk_die_errno("%s: copy", what);
		if (n == 0)
			mk_die("%s: file shrank while being copied", what);
		in_off += n;
		out_off += n;
		len -= n;
		progress_bytes += n;
		mk_progress(progress_files, progress_bytes);
	}
	if (len)
		copy_rw(in, in_off, out, out_off, len, what);
}

void mk_copy_range(int in, uint64_t in_off, int out, uint64_t out_off,
		   uint64_t len, bool holes, const char *what)
{
	uint64_t end = in_off + len, pos = in_off;

	if (!holes) {
		copy_extent(in, in_off, out, out_off, len, what);
		pos = end;
	}
	while (pos < end) {
		off_t d = lseek(in, pos, SEEK_DATA), h;

		if (d < 0 && errno == ENXIO)
			break;			/* only a hole is left */
		if (d < 0)
			d = pos;		/* no SEEK_DATA: all data */
		if ((uint64_t)d >= end)
			break;
		h = lseek(in, d, SEEK_HOLE);
		if (h < 0 || (uint64_t)h > end)
			h = end;
		if (h <= d)	/* raced with a writer; copy the rest */
			h = end;
		progress_bytes += d - pos;	/* the hole before this extent */
		copy_extent(in, d, out, out_off + (d - in_off), h - d, what);
		pos = h;
	}
	progress_bytes += end - pos;	/* count the trailing hole as done */
	progress_files++;
	mk_progress(progress_files, progress_bytes);
}

/* --- progress ------------------------------------------------------------ */

static bool prog_on, prog_shown;
static const char *prog_phase;
static uint64_t prog_ftotal, prog_btotal;
static uint64_t prog_files, prog_bytes;	/* last values shown */
static double prog_t0, prog_last;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void mk_progress_start(const char *phase, uint64_t files_total,
		       uint64_t bytes_total)
{
	prog_on = !mk_opt.quiet && isatty(STDERR_FILENO);
	prog_phase = phase;
	prog_ftotal = files_total;
	prog_btotal = bytes_total;
	prog_t0 = now();
	prog_last = 0;
	progress_files = progress_bytes = 0;
	prog_files = prog_bytes = 0;
}

static void progress_print(uint64_t files, uint64_t bytes, double t)
{
	double el = t - prog_t0;
	double rate = el > 0 ? bytes / el / 1048576.0 : 0;

	if (strcmp(prog_phase, "writing") == 0)
		fprintf(stderr, "\r%s: %s: %llu/%llu files, %.1f/%.1f MiB, %.1f MiB/s\033[K",
			mk_prog, prog_phase, (unsigned long long)files,
			(unsigned long long)prog_ftotal, bytes / 1048576.0,
			prog_btotal / 1048576.0, rate);
	else
		fprintf(stderr, "\r%s: %s: %llu entries, %.1f MiB\033[K",
			mk_prog, prog_phase, (unsigned long long)files,
			bytes / 1048576.0);
	prog_shown = true;
}

void mk_progress(uint64_t files, uint64_t bytes)
{
	double t;

	if (!prog_on)
		return;
	prog_files = files;
	prog_bytes = bytes;
	t = now();
	if (t - prog_last < 0.2)
		return;
	prog_last = t;
	progress_print(files, bytes, t);
}

static void progress_clear(void)
{
	if (prog_shown)
		fputs("\r\033[K", stderr);
	prog_shown = false;
}

void mk_progress_end(void)
{
	if (prog_on) {
		progress_print(prog_files, prog_bytes, now());
		fputc('\n', stderr);
	}
	prog_shown = false;
	prog_on = false;
}
