// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-kernel-export: DAXFS_IOC_EXPORT_DMABUF (uapi/linux/daxfs.h) with
 * random and edge arguments on the files of a mount, each result checked
 * against a model of the uapi comment's rules, and the dma-bufs it returns
 * used and dropped in random order across unmounts and new mounts, so that
 * KASAN, lockdep and kmemleak on the debug kernel see every lifetime.
 *
 * Each iteration does one of:
 *  - an export: a file (regular files of sizes around pages, and sometimes
 *    a directory: ENOTTY, or an O_PATH fd: EBADF), argsz (mostly the
 *    version-1 size; below it, above it with a zero or non-zero tail, a
 *    page, above a page), flags, reserved0, offset and length from edges
 *    around the file's size and pages, wrap-arounds and random 64-bit
 *    values.  The model gives the errnos the arguments allow (every rule
 *    broken adds its errno; no rule broken: success with size = length
 *    rounded up to a page); the kernel's answer must be one of them.  A new
 *    buffer joins a pool of live children (64 at most), with its fd, maybe
 *    a shared or private mapping, touched, compared with the image;
 *  - a use of a live child: touch a page of its mapping, a new mmap, a
 *    DMA_BUF_IOCTL_SYNC (read bracket 0, write bracket EPERM, bad flags
 *    EINVAL), the test importer's DMA pages and vmap bytes (when
 *    daxfs_gpuexp.ko is loaded; DMA_FROM_DEVICE EPERM);
 *  - closing a child's fd or unmapping its mapping (the other may stay);
 *  - a new mount: the old one unmounted (lazily, while children and files
 *    of it live), its import released, the buffer imported and mounted
 *    again, the files opened anew.
 * Then a race phase: two threads export, map, touch and close on the files
 * of the mount while the main thread detaches and remounts it.  At the end
 * every child is closed and unmapped: meta_bytes must be back to its value
 * before the first import, and the number of dma-bufs to what it was.
 *
 *   fuzz-kernel-export [--seed N] [--iter N] [--timeout SECS] [--race SECS]
 *                      [--verbose]
 *
 * --iter defaults to $FUZZ_EXPORT_ITER, else 1500 on the debug kernel and
 * 4000 elsewhere; --seed to $FUZZ_KERNEL_SEED, else 1; --timeout (the loop
 * stops there, saying so) to the runner's per-test limit less 60 s, else
 * 240; --race to 3 s.
 */
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
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "dxt_gpuexp.h"
#include "fuzzk.h"

#define MAX_LIVE	64
#define MAX_REPORTS	20
#define V1_SIZE		sizeof(struct daxfs_export)

/* The tree: regular files of sizes around pages (and a directory). */
static const struct tree_file files[] = {
	{ "empty", 0, 0, 0644 }, { "one", 1, 1, 0644 }, { "small", 100, 2, 0644 },
	{ "page-1", 4095, 3, 0644 }, { "page", 4096, 4, 0644 }, { "page+1", 4097, 5, 0644 },
	{ "three+5", 3 * 4096 + 5, 6, 0644 }, { "sixteen", 16 * 4096, 7, 0644 },
	{ "k64+3", 65536 + 3, 8, 0444 }, { "k300", 300 * 1024 + 17, 9, 0600 },
};
#define NFILES	(sizeof(files) / sizeof(files[0]))

static const char *mnt = "/tmp/fuzz-export-mnt";
static const uint8_t *image;
static size_t image_len;
static uint64_t data_off[NFILES];	/* each file's data in the image */
static bool verbose;

/* The mount, its files. */
static int dev = -1;
static struct dxt_buf buf;
static void *buf_keep;			/* a mapping of the buffer, kept (vgem on 6.1) */
static uint64_t import_id;
static bool mounted;
static int ffd[NFILES], dirfd_ = -1, pathfd = -1;
static int gdev = -1;

struct tally {
	long exports, ok, refused, by_errno[8], wrong;
	long uses, bad_bytes, closes, unmaps, remounts;
};
static struct tally t;
static atomic_long failures;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;

/* A failure: the first MAX_REPORTS as result lines (from any thread). */
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (atomic_fetch_add(&failures, 1) < MAX_REPORTS) {
		pthread_mutex_lock(&fail_lock);
		dxt_tap_ok(false, "%s", msg);
		pthread_mutex_unlock(&fail_lock);
	}
}

static int make_tree(const char *dir)
{
	char err[ERRLEN];

	if (mkdir(dir, 0755) || fill_files(dir, files, NFILES, err, sizeof(err)) ||
	    mkdir(P(dir, "d"), 0755))
		return -1;
	return 0;
}

/* ------------------------------------------------------------ the mount */

static int mount_fresh(char *err, size_t len)
{
	struct daxfs_import imp;
	int r;

	r = dxt_import(dev, buf.fd, 0, &imp);
	if (r) {
		snprintf(err, len, "import: %s", strerror(-r));
		return r;
	}
	import_id = imp.id;
	r = mount_id(import_id, mnt, MS_RDONLY, NULL);
	if (r) {
		snprintf(err, len, "mount: %s", strerror(-r));
		return r;
	}
	mounted = true;
	for (size_t i = 0; i < NFILES; i++) {
		ffd[i] = open(P(mnt, files[i].name), O_RDONLY | O_CLOEXEC);
		if (ffd[i] < 0) {
			snprintf(err, len, "open %s: %s", files[i].name, strerror(errno));
			return -errno;
		}
	}
	dirfd_ = open(P(mnt, "d"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pathfd = open(P(mnt, "page+1"), O_PATH | O_CLOEXEC);
	if (dirfd_ < 0 || pathfd < 0) {
		snprintf(err, len, "open d or an O_PATH fd: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Unmount (lazily when @lazy: files and children of it live on), release. */
static void mount_drop(bool lazy, bool close_files)
{
	if (close_files) {
		for (size_t i = 0; i < NFILES; i++) {
			if (ffd[i] >= 0)
				close(ffd[i]);
			ffd[i] = -1;
		}
		if (dirfd_ >= 0)
			close(dirfd_);
		if (pathfd >= 0)
			close(pathfd);
		dirfd_ = pathfd = -1;
	}
	if (mounted && umount2(mnt, lazy ? MNT_DETACH : 0))
		fail("umount%s: %s", lazy ? " -l" : "", strerror(errno));
	mounted = false;
	if (import_id)
		dxt_release(dev, import_id);
	import_id = 0;
}

/* ------------------------------------------------------------ children */

struct child {
	int fd;			/* -1: closed */
	char *map;		/* NULL: none */
	size_t size;
	bool private;
	int file;		/* index into files[] */
	uint64_t off;		/* file offset of its first byte */
};

static struct child live[MAX_LIVE];
static int nlive;

/* The image's byte at file offset @o of file @f (0 past the image). */
static uint8_t image_byte(int f, uint64_t o)
{
	uint64_t at = data_off[f] + o;

	return at < image_len ? image[at] : 0;
}

/* Compare page @pg of @c's mapping with the image. */
static void touch_check(struct child *c, size_t pg, const char *when)
{
	uint64_t base = c->off + pg * PAGE;

	for (size_t i = 0; i < PAGE; i += 97) {
		uint8_t want = image_byte(c->file, base + i);

		if ((uint8_t)c->map[pg * PAGE + i] != want) {
			t.bad_bytes++;
			fail("%s: %s child of %s at +%llu, page %zu byte %zu: 0x%02x, the image "
			     "has 0x%02x", when, c->private ? "private" : "shared",
			     files[c->file].name, (unsigned long long)c->off, pg, i,
			     (uint8_t)c->map[pg * PAGE + i], want);
			return;
		}
	}
	t.uses++;
}

static void child_drop(int i)
{
	struct child *c = &live[i];

	if (c->fd >= 0)
		close(c->fd);
	if (c->map)
		munmap(c->map, c->size);
	live[i] = live[--nlive];
}

static void child_map(struct rng *r, struct child *c)
{
	void *m;

	c->private = rng_chance(r, 30);
	m = mmap(NULL, c->size, PROT_READ, c->private ? MAP_PRIVATE : MAP_SHARED, c->fd, 0);
	if (m == MAP_FAILED) {
		fail("mmap of a %zu-byte child of %s: %s", c->size, files[c->file].name,
		     strerror(errno));
		return;
	}
	c->map = m;
	touch_check(c, rng_below(r, c->size / PAGE), "new mapping");
}

/* A use of live child @c. */
static void child_use(struct rng *r, struct child *c)
{
	static const uint64_t syncs[] = {
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW,
		DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE, 0x10, ~0ull,
	};
	unsigned int what = rng_below(r, 4);

	if (c->map && what == 0) {
		touch_check(c, rng_below(r, c->size / PAGE), "touch");
	} else if (c->fd >= 0 && !c->map && what <= 1) {
		child_map(r, c);
	} else if (c->fd >= 0 && what == 2) {
		size_t k = rng_below(r, sizeof(syncs) / sizeof(syncs[0]));
		int got = dxt_buf_sync(c->fd, syncs[k]);
		int want = k < 2 ? 0 : k < 5 ? -EPERM : -EINVAL;

		/* a write bracket, START or END: EPERM; unknown flags: the core's EINVAL */
		if (got != want)
			fail("DMA_BUF_IOCTL_SYNC 0x%llx on a child: %s, want %s",
			     (unsigned long long)syncs[k], got ? strerrorname_np(-got) : "0",
			     want ? strerrorname_np(-want) : "0");
		t.uses++;
	} else if (c->fd >= 0 && gdev >= 0 && what == 3) {
		uint64_t *pfns = NULL;
		size_t n = 0;
		char err[ERRLEN];
		uint32_t dir = rng_below(r, 3);
		int got = dxt_gpuexp_dma_pfns(gdev, c->fd, dir, &pfns, &n, NULL, err, sizeof(err));

		if (dir == DAXFS_GPUEXP_DMA_FROM_DEVICE ? got != -EPERM : got || n != c->size / PAGE)
			fail("the test importer on a %zu-byte child (dir %u): %s", c->size, dir,
			     got ? err : "a wrong page count");
		free(pfns);
		if (!got || dir == DAXFS_GPUEXP_DMA_FROM_DEVICE) {
			uint8_t b[256];
			uint64_t o = rng_below(r, c->size - sizeof(b) + 1);

			got = dxt_gpuexp_vmap_read(gdev, c->fd, DAXFS_GPUEXP_DMA_TO_DEVICE, o, b,
						   sizeof(b));
			if (got)
				fail("the test importer's vmap of a child: %s", strerror(-got));
			for (size_t i = 0; !got && i < sizeof(b); i++)
				if (b[i] != image_byte(c->file, c->off + o + i)) {
					t.bad_bytes++;
					fail("the vmap of a child of %s at +%llu: byte %llu differs",
					     files[c->file].name, (unsigned long long)c->off,
					     (unsigned long long)(o + i));
					break;
				}
		}
		t.uses++;
	}
}

/* ------------------------------------------------------------ exports */

/* A value around the edges of a file of @size bytes. */
static uint64_t edge(struct rng *r, uint64_t size)
{
	uint64_t pages = (size + PAGE - 1) / PAGE * PAGE;
	uint64_t v[] = {
		0, 1, PAGE - 1, PAGE, PAGE + 1, size, size - 1, size + 1, pages, pages - PAGE,
		pages + PAGE, pages - 1, pages + 1, size / 2, (size / 2) & ~(PAGE - 1),
		~0ull, ~0ull & ~(PAGE - 1), 1ull << 63, (1ull << 63) - PAGE, 1ull << 32,
		0xffffffffull, ~0ull - PAGE + 2, -(uint64_t)pages,
	};

	if (rng_chance(r, 10))
		return rng_next(r);
	if (rng_chance(r, 30))
		return rng_below(r, pages + 2 * PAGE) & (rng_chance(r, 70) ? ~(PAGE - 1) : ~0ull);
	return v[rng_below(r, sizeof(v) / sizeof(v[0]))];
}

enum { E_OK = 1, E_INVAL = 2, E_2BIG = 4, E_NOTTY = 8, E_BADF = 16 };

static const char *set_str(unsigned int s, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s%s%s", s & E_OK ? " success" : "", s & E_INVAL ? " EINVAL" : "",
		 s & E_2BIG ? " E2BIG" : "", s & E_NOTTY ? " ENOTTY" : "",
		 s & E_BADF ? " EBADF" : "");
	return out;
}

static int errno_slot(int e)
{
	switch (e) {
	case EINVAL: return 0;
	case E2BIG: return 1;
	case ENOTTY: return 2;
	case EBADF: return 3;
	case EOPNOTSUPP: return 4;
	case EMFILE: return 5;
	case ENOMEM: return 6;
	default: return 7;
	}
}

static void one_export(struct rng *r, long it)
{
	static uint8_t arg[2 * PAGE + 64];
	struct daxfs_export *e = (void *)arg;
	unsigned int want = 0, target = rng_below(r, 100);
	uint64_t fsize = 0, len, end;
	int f = rng_below(r, NFILES), fd, res;
	uint32_t argsz = V1_SIZE;
	char ws[64];

	memset(arg, 0, sizeof(arg));
	if (target < 3) {
		fd = dirfd_;
		want = E_NOTTY;
	} else if (target < 5) {
		fd = pathfd;
		want = E_BADF;
	} else {
		fd = ffd[f];
		fsize = files[f].size;
	}
	if (fd < 0)
		return;

	/* argsz and what lies beyond version 1 */
	switch (rng_below(r, 16)) {
	case 0:
		argsz = rng_below(r, V1_SIZE);
		break;
	case 1:
		argsz = V1_SIZE + 1 + rng_below(r, 64);
		if (rng_chance(r, 50))
			arg[V1_SIZE + rng_below(r, argsz - V1_SIZE)] = 1 + rng_below(r, 255);
		break;
	case 2:
		argsz = rng_chance(r, 50) ? PAGE : PAGE + 1 + rng_below(r, PAGE);
		if (rng_chance(r, 30))
			arg[V1_SIZE + rng_below(r, PAGE - V1_SIZE)] = 0x80;
		break;
	case 3:
		argsz = rng_chance(r, 50) ? 0xffffffffu : (uint32_t)rng_next(r);
		break;
	default:
		break;
	}
	e->argsz = argsz;
	e->flags = rng_chance(r, 5) ? (rng_chance(r, 50) ? 1u << rng_below(r, 32) :
				       (uint32_t)rng_next(r)) : 0;
	e->reserved0 = rng_chance(r, 3) ? (uint32_t)rng_next(r) | 1 : 0;
	if (fsize && rng_chance(r, 45)) {
		/* a range the uapi allows, mostly */
		uint64_t pages = (fsize + PAGE - 1) / PAGE, first = rng_below(r, pages);

		e->offset = first * PAGE;
		e->length = rng_chance(r, 40) ? 0 : 1 + rng_below(r, (pages - first) * PAGE);
	} else {
		e->offset = rng_chance(r, 25) ? 0 : edge(r, fsize);
		e->length = rng_chance(r, 30) ? 0 : edge(r, fsize);
	}
	if (rng_chance(r, 5))
		e->fd = (int32_t)rng_next(r);	/* outputs on input: ignored */
	if (rng_chance(r, 5))
		e->size = rng_next(r);

	/* the model */
	if (!want) {
		if (argsz < V1_SIZE)
			want |= E_INVAL;
		if (argsz > PAGE)
			want |= E_2BIG;
		for (size_t i = V1_SIZE; argsz <= PAGE && i < argsz; i++)
			if (arg[i])
				want |= E_2BIG;
		if (e->flags || e->reserved0)
			want |= E_INVAL;
		if (e->offset % PAGE || e->offset >= fsize)
			want |= E_INVAL;
		len = e->length ? e->length : fsize - e->offset;
		if (e->offset >= fsize || __builtin_add_overflow(e->offset, len, &end) ||
		    end > (fsize + PAGE - 1) / PAGE * PAGE)
			want |= E_INVAL;
		if (!want)
			want = E_OK;
	}

	{
		uint64_t in_off = e->offset, in_len = e->length;

		res = ioctl(fd, DAXFS_IOC_EXPORT_DMABUF, arg) < 0 ? -errno : 0;
		t.exports++;
		if (!res) {
			bool good = want & E_OK;
			uint64_t sz = (in_len ? in_len : fsize - in_off);

			sz = (sz + PAGE - 1) / PAGE * PAGE;
			t.ok++;
			if (!good || e->size != sz || e->fd < 0 ||
			    !(fcntl(e->fd, F_GETFD) & FD_CLOEXEC)) {
				t.wrong++;
				fail("iteration %ld: export of %s argsz %u flags 0x%x reserved0 0x%x "
				     "offset 0x%llx length 0x%llx: fd %d size %llu, want%s (size %llu)",
				     it, fd == ffd[f] ? files[f].name : "?", argsz, e->flags,
				     e->reserved0, (unsigned long long)in_off,
				     (unsigned long long)in_len, e->fd,
				     (unsigned long long)e->size, set_str(want, ws, sizeof(ws)),
				     (unsigned long long)sz);
				if (e->fd >= 0)
					close(e->fd);
				return;
			}
			if (nlive == MAX_LIVE)
				child_drop(rng_below(r, nlive));
			live[nlive] = (struct child){
				.fd = e->fd, .size = e->size, .file = f, .off = in_off,
			};
			if (rng_chance(r, 60))
				child_map(r, &live[nlive]);
			nlive++;
			return;
		}
		t.refused++;
		t.by_errno[errno_slot(-res)]++;
		if (!((res == -EINVAL && (want & E_INVAL)) || (res == -E2BIG && (want & E_2BIG)) ||
		      (res == -ENOTTY && (want & E_NOTTY)) || (res == -EBADF && (want & E_BADF)))) {
			t.wrong++;
			fail("iteration %ld: export of %s argsz %u flags 0x%x reserved0 0x%x "
			     "offset 0x%llx length 0x%llx: %s, want%s", it,
			     fd == ffd[f] ? files[f].name : fd == dirfd_ ? "a directory" : "O_PATH",
			     argsz, e->flags, e->reserved0, (unsigned long long)in_off,
			     (unsigned long long)in_len, strerrorname_np(-res) ?: "?",
			     set_str(want, ws, sizeof(ws)));
		} else if (verbose) {
			dxt_tap_note("%ld: %s", it, strerrorname_np(-res));
		}
	}
}

/* ------------------------------------------------------------ race */

static atomic_bool race_stop;
static atomic_long race_exports, race_touches;

/*
 * Export, map, touch and drop, with the file and the child closed at
 * random points, on whatever is mounted at @mnt at the moment.
 */
static void *racer(void *arg)
{
	struct rng r = { (uintptr_t)arg };
	char path[PATH_MAX];

	while (!atomic_load(&race_stop)) {
		int f = rng_below(&r, NFILES), fd, c;
		struct daxfs_export e;
		char *m;

		if (!files[f].size)
			continue;
		snprintf(path, sizeof(path), "%s/%s", mnt, files[f].name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* between a detach and the next mount */
		c = dxt_export(fd, 0, 0, &e);
		if (rng_chance(&r, 50)) {
			close(fd);
			fd = -1;
		}
		if (c >= 0) {
			atomic_fetch_add(&race_exports, 1);
			m = mmap(NULL, e.size, PROT_READ, MAP_SHARED, c, 0);
			if (rng_chance(&r, 50)) {
				close(c);
				c = -1;
			}
			if (m != MAP_FAILED) {
				for (size_t o = 0; o < e.size; o += PAGE) {
					if ((uint8_t)m[o] != image_byte(f, o)) {
						fail("race: a child of %s, page %zu differs",
						     files[f].name, o / PAGE);
						break;
					}
					atomic_fetch_add(&race_touches, 1);
				}
				munmap(m, e.size);
			}
			if (c >= 0)
				close(c);
		}
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

static void race_phase(double secs)
{
	pthread_t th[2];
	char err[ERRLEN];
	long remounts = 0;
	double end = now_s() + secs;

	atomic_store(&race_stop, false);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, racer, (void *)(uintptr_t)(0x5eed + i));
	while (now_s() < end) {
		usleep(20000);
		mount_drop(true, true);
		if (mount_fresh(err, sizeof(err))) {
			fail("race: a new mount: %s", err);
			break;
		}
		remounts++;
	}
	atomic_store(&race_stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	dxt_tap_ok(true, "race: %ld exports, %ld pages touched by 2 threads across %ld "
		   "detached mounts in %.0f s", atomic_load(&race_exports),
		   atomic_load(&race_touches), remounts, secs);
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	const char *kernel = getenv("DAXFS_KERNEL") ?: "?";
	unsigned long long seed = 1;
	long iter = !strcmp(kernel, "debug") ? 1500 : 4000, i, dmabufs0;
	double timeout = 240, race = 3, t0;
	char work[PATH_MAX], err[2 * ERRLEN];
	long long meta0;
	uint8_t *img;
	size_t ilen;
	const char *e;
	int kind, rc;

	if ((e = getenv("FUZZ_EXPORT_ITER")) && *e)
		iter = atol(e);
	if ((e = getenv("FUZZ_KERNEL_SEED")) && *e)
		seed = strtoull(e, NULL, 0);
	if ((e = getenv("DAXFS_TEST_TIMEOUT")) && atof(e) > 2 * 60)
		timeout = atof(e) - 60;
	{
		const struct fuzzk_opt opts[] = {
			{ "seed", FUZZK_ULL, &seed }, { "iter", FUZZK_LONG, &iter },
			{ "timeout", FUZZK_DOUBLE, &timeout }, { "race", FUZZK_DOUBLE, &race },
			{ "verbose", FUZZK_FLAG, &verbose }, { NULL, 0, NULL },
		};

		if (fuzzk_options(argc, argv, opts))
			return 2;
	}
	dxt_tap_init();
	dxt_tap_note("fuzz-kernel-export: kernel %s, seed %llu, %ld iterations, time limit %.0f s",
		     kernel, seed, iter, timeout);
	t0 = now_s();
	kind = fuzzk_begin(&(struct fuzzk_start){ .prog = "fuzz-kernel-export", .flavor = -1,
						  .tree = make_tree, .what = "the tree's image" },
			   work, sizeof(work), &img, &ilen, &rc);
	if (kind < 0)
		return rc;
	image = img;
	image_len = ilen;
	for (size_t f = 0; f < NFILES; f++) {
		struct daxfs_inode in;

		if (image_lookup(image, image_len, files[f].name, NULL, &in)) {
			dxt_tap_ok(false, "%s not in the image", files[f].name);
			return dxt_tap_done();
		}
		data_off[f] = le64toh(in.offset);
		ffd[f] = -1;
	}
	meta0 = meta_bytes();
	dmabufs0 = dxt_dmabuf_count();
	gdev = dxt_gpuexp_open(err, sizeof(err));
	if (gdev < 0)
		dxt_tap_note("no test importer, device views not fuzzed: %s", err);
	dev = dxt_dev_open();
	if (dev < 0) {
		dxt_tap_ok(false, "open /dev/daxfs: %s (module not loaded?)", strerror(-dev));
		return dxt_tap_done();
	}
	if (dxt_buf_alloc(kind, image_len, &buf, err, sizeof(err)) ||
	    !(buf_keep = dxt_buf_mmap(&buf, PROT_READ)) || dxt_buf_write(&buf, 0, image, image_len)) {
		dxt_tap_ok(false, "a %s buffer with the image: %s", dxt_exporter_name(kind), err);
		return dxt_tap_done();
	}
	mkdir(mnt, 0755);
	if (mount_fresh(err, sizeof(err))) {
		dxt_tap_ok(false, "the first mount: %s", err);
		return dxt_tap_done();
	}
	dxt_tap_ok(true, "mounted a %zu-byte image of %zu files from a %s buffer", image_len,
		   NFILES, dxt_exporter_name(kind));

	for (i = 0; i < iter && now_s() - t0 < timeout; i++) {
		struct rng r = { mix_seed(seed, i) };
		unsigned int what = rng_below(&r, 100);

		if (what < 60 || !nlive) {
			one_export(&r, i);
		} else if (what < 80) {
			child_use(&r, &live[rng_below(&r, nlive)]);
		} else if (what < 88) {
			struct child *c = &live[rng_below(&r, nlive)];

			if (c->fd >= 0) {
				close(c->fd);
				c->fd = -1;
				t.closes++;
			}
			if (!c->map)
				child_drop(c - live);
		} else if (what < 96) {
			struct child *c = &live[rng_below(&r, nlive)];

			if (c->map) {
				munmap(c->map, c->size);
				c->map = NULL;
				t.unmaps++;
			}
			if (c->fd < 0)
				child_drop(c - live);
		} else if (what < 98) {
			/* unmounting works while children live; lazily, files may stay */
			mount_drop(rng_chance(&r, 50), true);
			if (mount_fresh(err, sizeof(err))) {
				fail("iteration %ld: a new mount: %s", i, err);
				break;
			}
			t.remounts++;
		} else {
			/* the old mount's children still read right after it went */
			for (int k = 0; k < nlive; k++)
				if (live[k].map)
					touch_check(&live[k], rng_below(&r, live[k].size / PAGE),
						    "sweep");
		}
	}
	if (i < iter)
		dxt_tap_note("stopped at the time limit after %ld of %ld iterations", i, iter);
	dxt_tap_ok(!t.wrong, "%ld exports: %ld made, %ld refused, %ld answers outside the model",
		   t.exports, t.ok, t.refused, t.wrong);
	dxt_tap_note("refusals: EINVAL %ld, E2BIG %ld, ENOTTY %ld, EBADF %ld, EOPNOTSUPP %ld, "
		     "EMFILE %ld, ENOMEM %ld, other %ld", t.by_errno[0], t.by_errno[1],
		     t.by_errno[2], t.by_errno[3], t.by_errno[4], t.by_errno[5], t.by_errno[6],
		     t.by_errno[7]);
	dxt_tap_ok(!t.bad_bytes, "%ld uses of live children (touches, syncs, device views), "
		   "%ld with wrong bytes; %ld fds closed and %ld unmapped apart, %ld new mounts",
		   t.uses, t.bad_bytes, t.closes, t.unmaps, t.remounts);
	dxt_tap_note("replay with: fuzz-kernel-export --seed %llu --iter %ld", seed, i);

	if (race > 0)
		race_phase(race);

	/* everything let go: the buffer's metadata and every dma-buf */
	while (nlive)
		child_drop(nlive - 1);
	mount_drop(false, true);
	close(dev);
	if (gdev >= 0)
		close(gdev);
	munmap(buf_keep, buf.size);
	dxt_buf_free(&buf);
	{
		long long m = meta_bytes();

		dxt_tap_ok(m == meta0, "meta_bytes back to %lld (now %lld)", meta0, m);
	}
	if (dmabufs0 >= 0) {
		long n = dxt_dmabuf_count();

		dxt_tap_ok(n == dmabufs0, "dma-bufs back to %ld (now %ld)", dmabufs0, n);
	}
	dxt_tap_ok(!failures, "no failure in %.0f s (%ld reported)", now_s() - t0, failures);
	dxt_rm_rf(work);
	return dxt_tap_done();
}
