// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-kernel-scribble: a mounted image whose buffer is rewritten under the
 * readers' feet.  8 threads readdir, lstat, readlink, read and mmap + fault
 * over the tree in loops while another thread writes random runs of bytes
 * over the superblock, the metadata and the data through the exporter's
 * own mapping of the dma-buf.
 *
 * Every file holds only 0xA5 and the scribbler writes only 0xA5 and 0x5A,
 * so every byte a reader gets from a file must be one of those two (in an
 * mmap, past EOF in the last page, also 0x00, the tail as written): any
 * other byte came from somewhere that is not the buffer.  The module copied
 * the metadata at import, so names, types, sizes, link counts and symlink
 * targets must stay exactly as they were at mount.
 *
 *   fuzz-kernel-scribble [SECONDS]     (default $FUZZ_SCRIBBLE_SECONDS or 5)
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "fuzzk.h"

#define READERS		8
#define MAX_ENTRIES	256

struct entry {
	char path[PATH_MAX];
	struct stat st;
	char link[256];
	char names[2048];	/* a directory's entries, '\n'-separated, in order */
};

static struct entry ents[MAX_ENTRIES];
static int nents;
static atomic_bool stop;
static atomic_long nops, nbytes, nscribbles;
static pthread_mutex_t errlock = PTHREAD_MUTEX_INITIALIZER;
static char first_err[ERRLEN];
static atomic_int nerr;
static const char *mnt = "/tmp/fuzz-scribble-mnt";

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&nerr, 1))
		return;
	pthread_mutex_lock(&errlock);
	va_start(ap, fmt);
	vsnprintf(first_err, sizeof(first_err), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&errlock);
}

static int list_dir(const char *path, char *out, size_t len)
{
	struct dirent *d;
	size_t used = 0;
	DIR *dir = opendir(path);

	if (!dir)
		return -errno;
	out[0] = 0;
	while ((d = readdir(dir))) {
		used += snprintf(out + used, used < len ? len - used : 0, "%s:%u\n",
				 d->d_name, d->d_type);
	}
	closedir(dir);
	return used < len ? 0 : -ENOSPC;
}

/* Snapshot the tree at mount: breadth-first, into ents[]. */
static int snapshot(void)
{
	int head = 0;

	snprintf(ents[0].path, sizeof(ents[0].path), "%s", mnt);
	nents = 1;
	while (head < nents) {
		struct entry *e = &ents[head++];
		struct dirent *d;
		DIR *dir;

		if (lstat(e->path, &e->st))
			return -errno;
		if (S_ISLNK(e->st.st_mode) && readlink(e->path, e->link, sizeof(e->link) - 1) < 0)
			return -errno;
		if (!S_ISDIR(e->st.st_mode))
			continue;
		if (list_dir(e->path, e->names, sizeof(e->names)))
			return -ENOSPC;
		dir = opendir(e->path);
		if (!dir)
			return -errno;
		while ((d = readdir(dir))) {
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			if (nents == MAX_ENTRIES)
				break;
			snprintf(ents[nents].path, sizeof(ents[nents].path), "%.2048s/%.255s",
				 e->path, d->d_name);
			nents++;
		}
		closedir(dir);
	}
	return 0;
}

static bool byte_ok(uint8_t b)
{
	return b == 0xa5 || b == 0x5a;
}

static void check_file(const struct entry *e, uint8_t *buf, size_t blen)
{
	off_t size = e->st.st_size, done = 0;
	int fd = open(e->path, O_RDONLY | O_CLOEXEC);
	uint8_t *m;

	if (fd < 0) {
		fail("open %s: %s", e->path, strerror(errno));
		return;
	}
	while (done < size) {
		ssize_t k = read(fd, buf, blen);

		if (k <= 0) {
			fail("read %s at %lld: %s", e->path, (long long)done,
			     k ? strerror(errno) : "early EOF");
			break;
		}
		for (ssize_t i = 0; i < k; i++)
			if (!byte_ok(buf[i])) {
				fail("read %s: byte %lld is 0x%02x, not from the buffer",
				     e->path, (long long)(done + i), buf[i]);
				break;
			}
		done += k;
		atomic_fetch_add(&nbytes, k);
	}
	if (size) {
		size_t ml = (size + PAGE - 1) & ~(PAGE - 1);

		m = mmap(NULL, ml, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) {
			fail("mmap %s: %s", e->path, strerror(errno));
		} else {
			for (size_t i = 0; i < ml; i++) {
				uint8_t b = ((volatile uint8_t *)m)[i];

				if (!byte_ok(b) && !((off_t)i >= size && b == 0)) {
					fail("mmap %s: byte %zu is 0x%02x, not from the buffer",
					     e->path, i, b);
					break;
				}
			}
			munmap(m, ml);
		}
	}
	close(fd);
}

static void *reader(void *arg)
{
	struct rng r = { (uintptr_t)arg * 7919 + 1 };
	static __thread uint8_t buf[16384];
	char names[2048], link[256];
	struct stat st;

	while (!atomic_load(&stop) && !atomic_load(&nerr)) {
		const struct entry *e = &ents[rng_below(&r, nents)];

		if (lstat(e->path, &st)) {
			fail("lstat %s: %s", e->path, strerror(errno));
			break;
		}
		if (st.st_mode != e->st.st_mode || st.st_size != e->st.st_size ||
		    st.st_nlink != e->st.st_nlink || st.st_ino != e->st.st_ino ||
		    st.st_mtim.tv_sec != e->st.st_mtim.tv_sec) {
			fail("lstat %s changed: mode 0%o size %lld nlink %lu ino %lu, at mount 0%o %lld %lu %lu",
			     e->path, st.st_mode, (long long)st.st_size,
			     (unsigned long)st.st_nlink, (unsigned long)st.st_ino, e->st.st_mode,
			     (long long)e->st.st_size, (unsigned long)e->st.st_nlink,
			     (unsigned long)e->st.st_ino);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			if (list_dir(e->path, names, sizeof(names)) || strcmp(names, e->names)) {
				fail("readdir %s changed:\n%s\nat mount:\n%s", e->path, names,
				     e->names);
				break;
			}
		} else if (S_ISLNK(st.st_mode)) {
			ssize_t k = readlink(e->path, link, sizeof(link) - 1);

			if (k < 0 || (link[k] = 0, strcmp(link, e->link))) {
				fail("readlink %s changed", e->path);
				break;
			}
		} else if (S_ISREG(st.st_mode)) {
			check_file(e, buf, 1 + rng_below(&r, sizeof(buf)));
		}
		atomic_fetch_add(&nops, 1);
	}
	return NULL;
}

struct scribble_arg {
	struct dxt_buf *b;
	uint8_t *map;
	size_t meta_end, data_off, image_size;
};

static void *scribbler(void *arg)
{
	struct scribble_arg *a = arg;
	struct rng r = { 12345 };

	while (!atomic_load(&stop)) {
		size_t lo, hi, off, n;
		bool bracket = rng_chance(&r, 50);

		switch (rng_below(&r, 3)) {
		case 0:		/* superblock and metadata */
			lo = 0;
			hi = a->meta_end;
			break;
		case 1:		/* data */
			lo = a->data_off;
			hi = a->image_size;
			break;
		default:	/* anywhere in the buffer */
			lo = 0;
			hi = a->b->size;
			break;
		}
		if (hi <= lo)
			continue;
		off = lo + rng_below(&r, hi - lo);
		n = 1 + rng_below(&r, rng_chance(&r, 80) ? 64 : 8192);
		if (n > hi - off)
			n = hi - off;
		if (bracket)
			dxt_buf_sync(a->b->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
		for (size_t i = 0; i < n; i++)
			a->map[off + i] = rng_chance(&r, 50) ? 0xa5 : 0x5a;
		if (bracket)
			dxt_buf_sync(a->b->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
		atomic_fetch_add(&nscribbles, 1);
	}
	return NULL;
}

static int fill_a5(const char *path, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);
	int fd, r = 0;

	memset(b, 0xa5, size);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (size && write(fd, b, size) != (ssize_t)size))
		r = -1;
	if (fd >= 0)
		close(fd);
	free(b);
	return r;
}

static int make_tree(const char *dir)
{
	static const size_t sizes[] = { 0, 1, 100, 4095, 4096, 4097, 3 * 4096 + 7, 65536 + 3 };
	char p[2 * PATH_MAX];
	int r = 0;

	mkdir(dir, 0755);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(p, sizeof(p), "%s/f%zu", dir, sizes[i]);
		r |= fill_a5(p, sizes[i]);
		snprintf(p, sizeof(p), "%s/sub", dir);
		mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/sub/g%zu", dir, sizes[i]);
		r |= fill_a5(p, sizes[i] / 2);
	}
	snprintf(p, sizeof(p), "%s/sub/deeper", dir);
	r |= mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/sub/deeper/file", dir);
	r |= fill_a5(p, 20000);
	snprintf(p, sizeof(p), "%s/link", dir);
	r |= symlink("sub/deeper/file", p);
	snprintf(p, sizeof(p), "%s/fifo", dir);
	r |= mkfifo(p, 0600);
	return r;
}

int main(int argc, char **argv)
{
	const char *e = getenv("FUZZ_SCRIBBLE_SECONDS");
	double secs = argc > 1 ? atof(argv[1]) : e && *e ? atof(e) : 5;
	char work[PATH_MAX], err[2 * ERRLEN];
	struct scribble_arg sa;
	struct daxfs_import imp;
	struct dxt_buf b;
	pthread_t th[READERS + 1];
	uint8_t *image, *snap;
	size_t ilen;
	int kind, dev, r, rc;
	long dmabufs0;

	dxt_tap_init();
	alarm((unsigned int)secs + 120);	/* a hang ends the program */
	kind = fuzzk_begin(&(struct fuzzk_start){ .prog = "fuzz-kernel-scribble", .flavor = -1,
						  .tree = make_tree, .what = "building the 0xA5 image" },
			   work, sizeof(work), &image, &ilen, &rc);
	if (kind < 0)
		return rc;
	dmabufs0 = dxt_dmabuf_count();
	r = dxt_buf_alloc(kind, ilen, &b, err, sizeof(err));
	if (r || dxt_buf_write(&b, 0, image, ilen)) {
		dxt_tap_ok(false, "a %s buffer: %s", dxt_exporter_name(kind), err);
		return dxt_tap_done();
	}
	dev = dxt_dev_open();
	r = dev < 0 ? dev : dxt_import(dev, b.fd, 0, &imp);
	mkdir(mnt, 0755);
	if (!r)
		r = mount_id(imp.id, mnt, MS_RDONLY, NULL);
	if (r) {
		dxt_tap_ok(false, "import and mount: %s", strerror(-r));
		return dxt_tap_done();
	}
	r = snapshot();
	if (r) {
		dxt_tap_ok(false, "snapshot of the tree: %s", strerror(-r));
		umount2(mnt, MNT_DETACH);
		return dxt_tap_done();
	}
	{
		const struct daxfs_super *sb = (const void *)image;

		sa.b = &b;
		sa.map = dxt_buf_mmap(&b, PROT_READ | PROT_WRITE);
		sa.meta_end = le64toh(sb->names_off) + le64toh(sb->names_size);
		sa.data_off = le64toh(sb->data_off);
		sa.image_size = le64toh(sb->image_size);
	}
	if (!sa.map) {
		dxt_tap_ok(false, "mapping the dma-buf: %s", strerror(errno));
		return dxt_tap_done();
	}
	dxt_tap_note("%d entries, exporter %s, %.0f s, %d readers", nents, dxt_exporter_name(kind),
		 secs, READERS);
	for (long i = 0; i < READERS; i++)
		pthread_create(&th[i], NULL, reader, (void *)(i + 1));
	pthread_create(&th[READERS], NULL, scribbler, &sa);
	for (double t0 = now_s(); now_s() - t0 < secs && !atomic_load(&nerr);)
		usleep(100000);
	atomic_store(&stop, true);
	for (int i = 0; i <= READERS; i++)
		pthread_join(th[i], NULL);
	dxt_tap_ok(!nerr, "%ld reader operations (%ld file bytes) over %ld scribbles: "
	       "only buffer bytes seen, metadata as at mount%s%s",
	       atomic_load(&nops), atomic_load(&nbytes), atomic_load(&nscribbles),
	       nerr ? ": " : "", nerr ? first_err : "");

	/* The scribbled buffer, imported again: same verdict as user space. */
	snap = malloc(b.size);
	memcpy(snap, sa.map, b.size);
	{
		char umsg[256];
		struct daxfs_import i2;
		int uv = user_verdict(snap, b.size, 0, umsg, sizeof(umsg));
		int kv = dxt_import(dev, b.fd, 0, &i2);

		dxt_tap_ok(uv == kv, "the scribbled buffer imported again: kernel %s, user space %s (%s)",
		       kv ? strerrorname_np(-kv) : "accepted", uv ? strerrorname_np(-uv) : "accepted",
		       umsg);
		if (!kv)
			dxt_release(dev, i2.id);
		if (uv != kv)
			save_image("scribble", snap, b.size);
	}
	r = umount2(mnt, 0) ? -errno : 0;
	dxt_tap_ok(!r, "umount after scribbling: %s", r ? strerror(-r) : "ok");
	if (r)
		umount2(mnt, MNT_DETACH);
	dxt_release(dev, imp.id);
	close(dev);
	munmap(sa.map, b.size);
	dxt_buf_free(&b);
	if (dmabufs0 >= 0)
		dxt_tap_ok(dxt_dmabuf_count() == dmabufs0, "dma-bufs back to %ld", dmabufs0);
	dxt_rm_rf(work);
	return dxt_tap_done();
}
