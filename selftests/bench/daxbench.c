// SPDX-License-Identifier: GPL-2.0
/*
 * daxbench: the timing helper of `make bench` (selftests/bench/run).
 * Each subcommand does one measured thing and prints "key=value" pairs on
 * one line, so the guest script can collect them without parsing prose.
 *
 *   daxbench mount-daxfs heap|udmabuf|udmabuf-huge IMAGE MNT
 *        allocate a dma-buf (udmabuf-huge: over an MFD_HUGETLB memfd, the
 *        library's DAXFS_UDMABUF_HUGETLB), fill it with IMAGE (not timed as
 *        make-available: the data is "already in memory"), then time
 *        import + mount.  A failing step prints "failed=STEP errno=N
 *        errname=E reason=TEXT" on stdout (TEXT: the library's/kernel's
 *        reason, to the end of the line) and exits 4.
 *   daxbench mount-loop erofs|squashfs IMAGE MNT   time loop setup + mount
 *        (LO_FLAGS_AUTOCLEAR: umount frees the loop device)
 *   daxbench mount-phys ADDR SIZE MNT   time mount(2) of a phys= range
 *        The three mount commands also print the kernel memory the timed
 *        step added ("k_*_kb=", see kmem_print()).
 *   daxbench seqread BS FILE...      sequential read() of every file
 *   daxbench randread BS THREADS COUNT FILE...   COUNT random preads per thread
 *   daxbench mmap-touch FILE...      map, touch one byte a page, then again;
 *                                    then count the 2 MiB windows wholly inside
 *                                    each file that are PMD-mapped (one fault
 *                                    maps the whole window; daxfs's shared
 *                                    mappings are PFN maps, which pagemap and
 *                                    PAGEMAP_SCAN do not walk)
 *   daxbench stat-list LISTFILE ROOT lstat of every path in LISTFILE
 *   daxbench readdir-all ROOT        opendir/readdir of every directory
 *   daxbench share N FILE...         N processes map + touch everything, one
 *                                    after another; MemAvailable after each
 *   daxbench export-import FILE...   each FILE (of a daxfs mount) whole as a
 *                                    dma-buf (daxfs_export_dmabuf), timed; then
 *                                    the importers, see as_dmabufs()
 *   daxbench copy-import heap|udmabuf FILE...
 *                                    each FILE read() into a new dma-buf of the
 *                                    exporter (allocation + copy timed), then the
 *                                    same importers: what a program without the
 *                                    export does to hand a file to a device
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "daxfs-dmabuf.h"
#include "daxfs_gpuexp.h"

#define HUGE_2M		(2UL << 20)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "daxbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static long meminfo_kb(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/*
 * Kernel memory before and after a timed mount (selftests/bench/scale, issue
 * 18 item 6): what the mount itself pins, in KiB.  vmalloc_kb is the kernel
 * virtual space of every area in /proc/vmallocinfo (vmap and ioremap areas
 * included, which VmallocUsed does not count); meta_kb the daxfs module's
 * own metadata charge (its meta_bytes parameter; -1: module not loaded).
 */
struct kmem {
	long memfree, slab, pagetables, vmallocused, meta_kb;
	long vmalloc_kb, vmap_kb, ioremap_kb;
};

/* has the /proc/vmallocinfo line this flag word ("vmap", "ioremap")? */
static int has_word(const char *line, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = strstr(line, w); p; p = strstr(p + 1, w))
		if (p[-1] == ' ' && (p[n] == ' ' || p[n] == '\n' || !p[n]))
			return 1;
	return 0;
}

/*
 * The kernel virtual space of every area, and of the vmap() and ioremap()
 * areas (dma_buf_vmap() of a page-backed buffer is a vmap() with 4 KiB
 * page table entries; memremap() of a phys= range an ioremap()).
 */
static void vmallocinfo(struct kmem *k)
{
	char line[1024];
	long long all = 0, vmap = 0, io = 0;
	FILE *f = fopen("/proc/vmallocinfo", "r");

	if (!f)
		die("/proc/vmallocinfo");
	while (fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');
		long long sz;

		if (!sp)
			continue;
		sz = strtoll(sp + 1, NULL, 10);
		all += sz;
		if (has_word(sp, "vmap"))
			vmap += sz;
		if (has_word(sp, "ioremap"))
			io += sz;
	}
	fclose(f);
	k->vmalloc_kb = all / 1024;
	k->vmap_kb = vmap / 1024;
	k->ioremap_kb = io / 1024;
}

static void kmem_sample(struct kmem *k)
{
	FILE *f = fopen("/sys/module/daxfs/parameters/meta_bytes", "r");
	long long mb = -1024;

	k->memfree = meminfo_kb("MemFree");
	k->slab = meminfo_kb("Slab");
	k->pagetables = meminfo_kb("PageTables");
	k->vmallocused = meminfo_kb("VmallocUsed");
	vmallocinfo(k);
	if (f) {
		if (fscanf(f, "%lld", &mb) != 1)
			mb = -1024;
		fclose(f);
	}
	k->meta_kb = mb / 1024;
}

/* the deltas, "after - before" (memfree: what was taken, "before - after") */
static void kmem_print(const struct kmem *a, const struct kmem *b)
{
	printf("k_memfree_kb=%ld k_slab_kb=%ld k_pagetables_kb=%ld k_vmallocused_kb=%ld k_vmalloc_kb=%ld k_vmap_kb=%ld k_ioremap_kb=%ld k_meta_kb=%ld ",
	       a->memfree - b->memfree, b->slab - a->slab,
	       b->pagetables - a->pagetables, b->vmallocused - a->vmallocused,
	       b->vmalloc_kb - a->vmalloc_kb, b->vmap_kb - a->vmap_kb,
	       b->ioremap_kb - a->ioremap_kb,
	       a->meta_kb < 0 || b->meta_kb < 0 ? -1 : b->meta_kb - a->meta_kb);
}

/* a failed step of mount-daxfs, for the report: errno and the reason */
static int mount_failed(const char *step, int err)
{
	err = err < 0 ? -err : err;
	printf("failed=%s errno=%d errname=%s reason=%s\n", step, err,
	       strerrorname_np(err) ?: "?", daxfs_last_error());
	fprintf(stderr, "daxbench: %s: %s\n", step, daxfs_last_error());
	return 4;
}

static int cmd_mount(int argc, char **argv)
{
	struct daxfs_image_desc d;
	struct kmem k0, k1;
	int img, buf, r;
	double t0, t1, t2;

	if (argc != 3)
		return 2;
	img = open(argv[1], O_RDONLY);
	if (img < 0)
		die(argv[1]);
	r = daxfs_image_probe(img, 0, &d);
	if (r < 0) {
		fprintf(stderr, "daxbench: probe: %s\n", daxfs_last_error());
		return 1;
	}
	t0 = now();
	if (!strcmp(argv[0], "heap"))
		buf = daxfs_dmabuf_alloc_heap("system", d.image_size);
	else if (!strcmp(argv[0], "udmabuf-huge"))
		buf = daxfs_dmabuf_alloc_udmabuf(d.image_size, DAXFS_UDMABUF_HUGETLB);
	else
		buf = daxfs_dmabuf_alloc_udmabuf(d.image_size, 0);
	if (buf < 0)
		return mount_failed("alloc", buf);
	r = daxfs_dmabuf_fill(buf, img, 0, NULL, NULL);
	if (r < 0)
		return mount_failed("fill", r);
	t1 = now();
	/* the data is now "already in memory": the baseline of the deltas */
	printf("filled_avail_kb=%ld filled_shmem_kb=%ld filled_cached_kb=%ld ",
	       meminfo_kb("MemAvailable"), meminfo_kb("Shmem"), meminfo_kb("Cached"));
	kmem_sample(&k0);
	t1 = now();
	r = daxfs_mount_dmabuf(buf, argv[2]);
	t2 = now();
	if (r < 0)
		return mount_failed("import+mount", r);
	kmem_sample(&k1);
	kmem_print(&k0, &k1);
	close(buf);
	close(img);
	printf("alloc_fill_s=%.6f mount_s=%.6f inodes=%u bytes=%llu\n", t1 - t0,
	       t2 - t1, d.inode_count, (unsigned long long)d.image_size);
	return 0;
}

/* LOOP_CTL_GET_FREE + LOOP_CONFIGURE (read-only) + mount(2), all timed */
static int cmd_mount_loop(int argc, char **argv)
{
	struct loop_config lc;
	struct kmem k0, k1;
	char dev[64];
	int ctl, n, lfd, img;
	double t0, t1;

	if (argc != 3)
		return 2;
	img = open(argv[1], O_RDONLY);
	if (img < 0)
		die(argv[1]);
	kmem_sample(&k0);
	t0 = now();
	ctl = open("/dev/loop-control", O_RDWR);
	if (ctl < 0)
		die("/dev/loop-control");
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	if (n < 0)
		die("LOOP_CTL_GET_FREE");
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	lfd = open(dev, O_RDONLY);
	if (lfd < 0)
		die(dev);
	memset(&lc, 0, sizeof(lc));
	lc.fd = img;
	lc.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
	if (ioctl(lfd, LOOP_CONFIGURE, &lc))
		die("LOOP_CONFIGURE");
	if (mount(dev, argv[2], argv[0], MS_RDONLY, NULL))
		die("mount");
	t1 = now();
	close(lfd);
	close(ctl);
	close(img);
	kmem_sample(&k1);
	kmem_print(&k0, &k1);
	printf("loop=%s mount_s=%.6f\n", dev, t1 - t0);
	return 0;
}

/* mount(2) of a phys= range (guest RAM kept from the kernel by memmap=), timed */
static int cmd_mount_phys(int argc, char **argv)
{
	struct kmem k0, k1;
	char opts[128];
	double t0, t1;

	if (argc != 3)
		return 2;
	snprintf(opts, sizeof(opts), "phys=%s,size=%s", argv[0], argv[1]);
	kmem_sample(&k0);
	t0 = now();
	if (mount("none", argv[2], "daxfs", MS_RDONLY, opts))
		die("mount -t daxfs -o phys=");
	t1 = now();
	kmem_sample(&k1);
	kmem_print(&k0, &k1);
	printf("mount_s=%.6f\n", t1 - t0);
	return 0;
}

static int cmd_seqread(int argc, char **argv)
{
	size_t bs;
	char *buf;
	unsigned long long total = 0;
	double t0;

	if (argc < 2)
		return 2;
	bs = strtoul(argv[0], NULL, 0);
	buf = aligned_alloc(4096, bs);
	if (!buf)
		die("malloc");
	t0 = now();
	for (int i = 1; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY);
		ssize_t n;

		if (fd < 0)
			die(argv[i]);
		while ((n = read(fd, buf, bs)) > 0)
			total += n;
		if (n < 0)
			die("read");
		close(fd);
	}
	t0 = now() - t0;
	printf("bytes=%llu s=%.6f MBps=%.1f\n", total, t0, total / t0 / 1e6);
	return 0;
}

struct rnd {
	int nfiles;
	int *fds;
	off_t *sizes;
	size_t bs;
	long count;
	unsigned int seed;
};

static void *rnd_thread(void *p)
{
	struct rnd *r = p;
	char *buf = aligned_alloc(4096, r->bs);
	uint64_t x = 0x9e3779b97f4a7c15ull * (r->seed + 1);

	if (!buf)
		die("malloc");
	for (long i = 0; i < r->count; i++) {
		int f;
		off_t blocks, off;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		f = x % r->nfiles;
		blocks = r->sizes[f] / r->bs;
		if (blocks < 1)
			blocks = 1;
		off = (off_t)((x >> 20) % blocks) * r->bs;
		if (pread(r->fds[f], buf, r->bs, off) < 0)
			die("pread");
	}
	free(buf);
	return NULL;
}

static int cmd_randread(int argc, char **argv)
{
	int nt, nf;
	struct rnd *r;
	pthread_t *th;
	double t0;
	long count;

	if (argc < 4)
		return 2;
	nt = atoi(argv[1]);
	count = atol(argv[2]);
	nf = argc - 3;
	r = calloc(nt, sizeof(*r));
	th = calloc(nt, sizeof(*th));
	if (!r || !th)
		die("calloc");
	r[0].fds = calloc(nf, sizeof(int));
	r[0].sizes = calloc(nf, sizeof(off_t));
	for (int i = 0; i < nf; i++) {
		struct stat st;

		r[0].fds[i] = open(argv[3 + i], O_RDONLY);
		if (r[0].fds[i] < 0 || fstat(r[0].fds[i], &st))
			die(argv[3 + i]);
		r[0].sizes[i] = st.st_size;
	}
	for (int t = 0; t < nt; t++) {
		r[t] = r[0];
		r[t].nfiles = nf;
		r[t].bs = strtoul(argv[0], NULL, 0);
		r[t].count = count;
		r[t].seed = t;
	}
	t0 = now();
	for (int t = 0; t < nt; t++)
		pthread_create(&th[t], NULL, rnd_thread, &r[t]);
	for (int t = 0; t < nt; t++)
		pthread_join(th[t], NULL);
	t0 = now() - t0;
	printf("ops=%ld s=%.6f iops=%.0f\n", count * nt, t0, count * nt / t0);
	return 0;
}

struct map {
	char *p;
	size_t len;
};

static struct map *map_all(int n, char **files)
{
	struct map *m = calloc(n, sizeof(*m));

	if (!m)
		die("calloc");
	for (int i = 0; i < n; i++) {
		struct stat st;
		int fd = open(files[i], O_RDONLY);

		if (fd < 0 || fstat(fd, &st))
			die(files[i]);
		m[i].len = st.st_size;
		if (m[i].len) {
			m[i].p = mmap(NULL, m[i].len, PROT_READ, MAP_SHARED, fd, 0);
			if (m[i].p == MAP_FAILED)
				die("mmap");
		}
		close(fd);
	}
	return m;
}

static unsigned long touch_all(int n, struct map *m)
{
	volatile unsigned char sink = 0;
	unsigned long pages = 0;

	for (int i = 0; i < n; i++)
		for (size_t o = 0; o < m[i].len; o += 4096, pages++)
			sink ^= m[i].p[o];
	(void)sink;
	return pages;
}

/*
 * Of the 2 MiB windows wholly inside the files, how many one fault maps
 * whole (a huge PMD entry): in a new mapping of each file, touch a
 * window's first page, then its other pages, and count the faults of the
 * second part (none under a PMD).  Page faults, not PAGEMAP_SCAN, as
 * daxfs's shared mappings are PFN maps, which pagemap does not walk.
 */
static long huge_windows(int n, char **files, long *windows)
{
	volatile unsigned char sink = 0;
	long huge = 0;

	*windows = 0;
	for (int i = 0; i < n; i++) {
		struct stat st;
		unsigned char *p;
		int fd = open(files[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fstat(fd, &st))
			die(files[i]);
		if ((size_t)st.st_size < HUGE_2M) {
			close(fd);
			continue;
		}
		p = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			die("mmap");
		close(fd);
		for (size_t w = 0; (w + 1) * HUGE_2M <= (size_t)st.st_size; w++) {
			long f;

			sink ^= p[w * HUGE_2M];
			f = minflt();
			for (size_t o = 4096; o < HUGE_2M; o += 4096)
				sink ^= p[w * HUGE_2M + o];
			huge += minflt() == f;
			(*windows)++;
		}
		munmap(p, st.st_size);
	}
	(void)sink;
	return huge;
}

static int cmd_mmap_touch(int argc, char **argv)
{
	struct map *m;
	unsigned long pages;
	long hw, nw;
	long f0, f1, f2;
	double t0, t1, t2;

	if (argc < 1)
		return 2;
	m = map_all(argc, argv);
	f0 = minflt();
	t0 = now();
	pages = touch_all(argc, m);
	t1 = now();
	f1 = minflt();
	touch_all(argc, m);
	t2 = now();
	f2 = minflt();
	printf("pages=%lu first_s=%.6f first_pps=%.0f first_faults=%ld retouch_s=%.6f retouch_pps=%.0f retouch_faults=%ld ",
	       pages, t1 - t0, pages / (t1 - t0), f1 - f0, t2 - t1,
	       pages / (t2 - t1), f2 - f1);
	hw = huge_windows(argc, argv, &nw);
	printf("huge_windows=%ld windows=%ld\n", hw, nw);
	return 0;
}

static int cmd_stat_list(int argc, char **argv)
{
	FILE *f;
	char line[4096], path[8192];
	struct stat st;
	long n = 0;
	double t0;

	if (argc != 2)
		return 2;
	f = fopen(argv[0], "r");
	if (!f)
		die(argv[0]);
	/* read the list first so that only lookups are timed */
	char **paths = NULL;
	size_t cap = 0;

	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if ((size_t)n == cap) {
			cap = cap ? cap * 2 : 4096;
			paths = realloc(paths, cap * sizeof(*paths));
			if (!paths)
				die("realloc");
		}
		snprintf(path, sizeof(path), "%s/%s", argv[1], line);
		paths[n++] = strdup(path);
	}
	fclose(f);
	t0 = now();
	for (long i = 0; i < n; i++)
		if (lstat(paths[i], &st))
			die(paths[i]);
	t0 = now() - t0;
	printf("files=%ld s=%.6f per_s=%.0f\n", n, t0, n / t0);
	return 0;
}

static long dirs, entries;

static void walk(int dfd)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;

	if (!d)
		die("fdopendir");
	dirs++;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] ||
		    (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		entries++;
		if (e->d_type == DT_DIR) {
			int c = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY);

			if (c < 0)
				die(e->d_name);
			walk(c);
		}
	}
	closedir(d);
}

static int cmd_readdir_all(int argc, char **argv)
{
	double t0;
	int fd;

	if (argc != 1)
		return 2;
	fd = open(argv[0], O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		die(argv[0]);
	t0 = now();
	walk(fd);
	t0 = now() - t0;
	printf("dirs=%ld entries=%ld s=%.6f dirs_per_s=%.0f\n", dirs, entries, t0,
	       dirs / t0);
	return 0;
}

static int cmd_share(int argc, char **argv)
{
	int n, ready[2], go[2];
	pid_t *pids;
	long before, prev;

	if (argc < 2)
		return 2;
	n = atoi(argv[0]);
	pids = calloc(n, sizeof(*pids));
	if (!pids || pipe(go))
		die("setup");
	before = prev = meminfo_kb("MemAvailable");
	printf("memavail_kb_before=%ld", before);
	for (int i = 0; i < n; i++) {
		char c;

		if (pipe(ready))
			die("pipe");
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (!pids[i]) {
			/* only the parent may hold the write end, or "go" never closes */
			close(go[1]);
			struct map *m = map_all(argc - 1, argv + 1);

			touch_all(argc - 1, m);
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			/* hold the mappings until the parent closes "go" */
			(void)!read(go[0], &c, 1);
			_exit(0);
		}
		close(ready[1]);
		if (read(ready[0], &c, 1) != 1)
			die("child");
		close(ready[0]);
		long cur = meminfo_kb("MemAvailable");

		printf(" growth_kb_%d=%ld", i + 1, prev - cur);
		prev = cur;
	}
	printf(" total_kb=%ld\n", before - prev);
	close(go[1]);
	for (int i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
	return 0;
}

/* ---- export / copy into dma-bufs, then import -------------------------- */

static int dmabuf_sync(int fd, unsigned long long flags)
{
	struct dma_buf_sync s = { .flags = flags };
	int r;

	do
		r = ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
	while (r < 0 && (errno == EINTR || errno == EAGAIN));
	return r;
}

static int step_failed(const char *step, int err, const char *why)
{
	err = err < 0 ? -err : err;
	printf("failed=%s errno=%d errname=%s reason=%s\n", step, err,
	       strerrorname_np(err) ?: "?", why);
	fprintf(stderr, "daxbench: %s: %s\n", step, why);
	return 4;
}

/* The first and the last page of @buf against pread() of @file. */
static int same_ends(int buf, size_t size, const char *file, size_t fsize)
{
	char a[4096], b[4096];
	size_t first = fsize < 4096 ? fsize : 4096;
	size_t last = (fsize - 1) / 4096 * 4096, n = fsize - last;
	unsigned char *p;
	int fd, ok = 0;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, buf, 0);
	if (p != MAP_FAILED && !dmabuf_sync(buf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ)) {
		ok = pread(fd, a, first, 0) == (ssize_t)first && !memcmp(a, p, first) &&
		     pread(fd, b, n, (off_t)last) == (ssize_t)n && !memcmp(b, p + last, n);
		ok &= !dmabuf_sync(buf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	}
	if (p != MAP_FAILED)
		munmap(p, size);
	close(fd);
	return ok ? 0 : -1;
}

/*
 * The importers of @n dma-bufs, the same for an export and for a copy:
 * each mapped read-only and read one byte a page inside a read bracket
 * (a CPU importer), all mappings held while memory is sampled; again at
 * 2 MiB-aligned addresses, one at a time; then, when
 * the test exporter's module is there (/dev/daxfs_gpuexp), each imported by
 * its test importer as a device would be (DAXFS_GPUEXP_IOC_IMPORT_CHECK:
 * dma_buf_attach, map for DMA_TO_DEVICE, unmap, detach).  Prints the rest
 * of the line; @t_make is the export's (or allocation + copy's) time and
 * @avail0/@slab0 MemAvailable and Slab before it.
 */
static int as_dmabufs(int n, const int *bufs, const size_t *sizes, double t_make,
		      long avail0, long slab0)
{
	volatile unsigned char sink = 0;
	unsigned long pages = 0;
	unsigned long long segs = 0;
	unsigned char **maps = calloc(n, sizeof(*maps));
	long f0, f1, fa0, fa1, avail1, slab1;
	double t0, t1, ta0, ta1, dev = 0;
	int gx, dev_err = 0;

	if (!maps)
		die("calloc");
	f0 = minflt();
	t0 = now();
	for (int i = 0; i < n; i++) {
		maps[i] = mmap(NULL, sizes[i], PROT_READ, MAP_SHARED, bufs[i], 0);
		if (maps[i] == MAP_FAILED)
			return step_failed("import-mmap", errno, strerror(errno));
		if (dmabuf_sync(bufs[i], DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ))
			return step_failed("import-sync", errno, strerror(errno));
		for (size_t o = 0; o < sizes[i]; o += 4096, pages++)
			sink ^= maps[i][o];
		if (dmabuf_sync(bufs[i], DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ))
			return step_failed("import-sync", errno, strerror(errno));
	}
	t1 = now();
	f1 = minflt();
	avail1 = meminfo_kb("MemAvailable");
	slab1 = meminfo_kb("Slab");
	for (int i = 0; i < n; i++)
		munmap(maps[i], sizes[i]);

	/*
	 * Again at 2 MiB-aligned addresses: a dma-buf's file has no
	 * get_unmapped_area, so mmap(NULL, ...) places it at any page, and a
	 * PMD needs the address and the offset aligned alike.  An importer
	 * can choose the address: reserve 2 MiB more, map over it with
	 * MAP_FIXED.
	 */
	fa0 = minflt();
	ta0 = now();
	for (int i = 0; i < n; i++) {
		size_t span = sizes[i] + HUGE_2M;
		char *r = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		unsigned char *p;

		if (r == MAP_FAILED)
			return step_failed("import-aligned", errno, strerror(errno));
		p = (unsigned char *)(((uintptr_t)r + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
		if (mmap(p, sizes[i], PROT_READ, MAP_SHARED | MAP_FIXED, bufs[i], 0) == MAP_FAILED)
			return step_failed("import-aligned", errno, strerror(errno));
		if (dmabuf_sync(bufs[i], DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ))
			return step_failed("import-sync", errno, strerror(errno));
		for (size_t o = 0; o < sizes[i]; o += 4096)
			sink ^= p[o];
		if (dmabuf_sync(bufs[i], DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ))
			return step_failed("import-sync", errno, strerror(errno));
		munmap(r, span);
	}
	ta1 = now();
	fa1 = minflt();
	free(maps);
	(void)sink;

	gx = open("/dev/" DAXFS_GPUEXP_NAME, O_RDWR | O_CLOEXEC);
	if (gx < 0)
		dev_err = errno;
	for (int i = 0; gx >= 0 && i < n; i++) {
		struct daxfs_gpuexp_import_check c = {
			.fd = bufs[i], .dir = DAXFS_GPUEXP_DMA_TO_DEVICE,
		};
		double d0 = now();

		if (ioctl(gx, DAXFS_GPUEXP_IOC_IMPORT_CHECK, &c)) {
			dev_err = errno;
			break;
		}
		dev += now() - d0;
		segs += c.nsegs;
		if (c.dma_bytes != sizes[i] || c.size != sizes[i])
			return step_failed("device-import", EIO, "the mapping does not cover the buffer");
	}
	if (gx >= 0)
		close(gx);

	printf("export_s=%.6f import_map_s=%.6f total_s=%.6f import_faults=%ld pages=%lu "
	       "aligned_map_s=%.6f aligned_faults=%ld mem_avail_kb=%ld mem_slab_kb=%ld ",
	       t_make, t1 - t0, t_make + (t1 - t0), f1 - f0, pages, ta1 - ta0, fa1 - fa0,
	       avail0 - avail1, slab1 - slab0);
	if (dev_err)
		printf("dev_import_errno=%d dev_import_errname=%s\n", dev_err,
		       strerrorname_np(dev_err) ?: "?");
	else
		printf("dev_import_s=%.6f dev_segs=%llu\n", dev, segs);
	return 0;
}

static int open_sizes(int n, char **files, size_t *fsizes, size_t *sizes)
{
	for (int i = 0; i < n; i++) {
		struct stat st;

		if (stat(files[i], &st))
			die(files[i]);
		if (!st.st_size)
			return step_failed("stat", EINVAL, "an empty file cannot be a dma-buf");
		fsizes[i] = st.st_size;
		sizes[i] = (fsizes[i] + 4095) / 4096 * 4096;
	}
	return 0;
}

static int cmd_export_import(int argc, char **argv)
{
	int *bufs = calloc(argc, sizeof(int));
	size_t *fsizes = calloc(argc, sizeof(size_t)), *sizes = calloc(argc, sizeof(size_t));
	long avail0, slab0;
	double t0, t;
	int r;

	if (argc < 1)
		return 2;
	if (!bufs || !fsizes || !sizes)
		die("calloc");
	r = open_sizes(argc, argv, fsizes, sizes);
	if (r)
		return r;
	avail0 = meminfo_kb("MemAvailable");
	slab0 = meminfo_kb("Slab");
	t0 = now();
	for (int i = 0; i < argc; i++) {
		uint64_t size = 0;
		int fd = open(argv[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			die(argv[i]);
		bufs[i] = daxfs_export_dmabuf(fd, 0, 0, &size);
		close(fd);
		if (bufs[i] < 0)
			return step_failed("export", bufs[i], daxfs_last_error());
		if (size != sizes[i])
			return step_failed("export", EIO, "the dma-buf is not the file's pages");
	}
	t = now() - t0;
	for (int i = 0; i < argc; i++)
		if (same_ends(bufs[i], sizes[i], argv[i], fsizes[i]))
			return step_failed("verify", EIO, "the dma-buf's first or last page is not the file's");
	printf("files=%d ", argc);
	r = as_dmabufs(argc, bufs, sizes, t, avail0, slab0);
	for (int i = 0; i < argc; i++)
		close(bufs[i]);
	return r;
}

static int cmd_copy_import(int argc, char **argv)
{
	int n = argc - 1, *bufs = calloc(argc, sizeof(int));
	size_t *fsizes = calloc(argc, sizeof(size_t)), *sizes = calloc(argc, sizeof(size_t));
	long avail0, slab0;
	double t0, t;
	int r;

	if (argc < 2)
		return 2;
	if (!bufs || !fsizes || !sizes)
		die("calloc");
	r = open_sizes(n, argv + 1, fsizes, sizes);
	if (r)
		return r;
	avail0 = meminfo_kb("MemAvailable");
	slab0 = meminfo_kb("Slab");
	t0 = now();
	for (int i = 0; i < n; i++) {
		const char *file = argv[1 + i];
		unsigned char *p;
		size_t done = 0;
		int fd;

		bufs[i] = !strcmp(argv[0], "heap") ? daxfs_dmabuf_alloc_heap("system", sizes[i]) :
			  daxfs_dmabuf_alloc_udmabuf(sizes[i], 0);
		if (bufs[i] < 0)
			return step_failed("alloc", bufs[i], daxfs_last_error());
		p = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE, MAP_SHARED, bufs[i], 0);
		if (p == MAP_FAILED)
			return step_failed("copy-mmap", errno, strerror(errno));
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die(file);
		if (dmabuf_sync(bufs[i], DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE))
			return step_failed("copy-sync", errno, strerror(errno));
		while (done < fsizes[i]) {
			ssize_t got = read(fd, p + done, fsizes[i] - done);

			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				return step_failed("copy-read", got ? errno : EIO,
						   got ? strerror(errno) : "the file ended early");
			done += got;
		}
		if (dmabuf_sync(bufs[i], DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE))
			return step_failed("copy-sync", errno, strerror(errno));
		close(fd);
		munmap(p, sizes[i]);
	}
	t = now() - t0;
	for (int i = 0; i < n; i++)
		if (same_ends(bufs[i], sizes[i], argv[1 + i], fsizes[i]))
			return step_failed("verify", EIO, "the copy's first or last page is not the file's");
	printf("files=%d ", n);
	r = as_dmabufs(n, bufs, sizes, t, avail0, slab0);
	for (int i = 0; i < n; i++)
		close(bufs[i]);
	return r;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "mount-daxfs", cmd_mount },	{ "mount-loop", cmd_mount_loop },
		{ "mount-phys", cmd_mount_phys },	{ "seqread", cmd_seqread },
		{ "randread", cmd_randread },	{ "mmap-touch", cmd_mmap_touch },
		{ "stat-list", cmd_stat_list }, { "readdir-all", cmd_readdir_all },
		{ "share", cmd_share },		{ "export-import", cmd_export_import },
		{ "copy-import", cmd_copy_import },
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name)) {
			int r = cmds[i].fn(argc - 2, argv + 2);

			if (r == 2)
				fprintf(stderr, "daxbench: %s: bad arguments\n", argv[1]);
			return r;
		}
	fprintf(stderr, "usage: daxbench mount-daxfs|mount-loop|mount-phys|seqread|randread|mmap-touch|stat-list|readdir-all|share|export-import|copy-import ...\n");
	return 2;
}
