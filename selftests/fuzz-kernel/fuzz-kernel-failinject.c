// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-kernel-failinject: import, mount, readdir, lookup, readlink, read,
 * page faults, exports of files as dma-bufs (mapped, and imported by the
 * test importer of selftests/exporter when it is loaded) with allocation
 * failures injected (failslab, fail_page_alloc).
 *
 * Two phases:
 *  1. Systematic: for each operation, fail its 1st, 2nd, ... allocation
 *     (/proc/thread-self/fail-nth) until it runs through without one.  The
 *     operation must succeed or fail with ENOMEM, and undo what it did.
 *  2. Random: failslab and fail_page_alloc with probability, task-filter=Y and
 *     /proc/self/make-it-fail=1 so that only this process sees failures,
 *     over whole import-mount-walk-unmount-release cycles.
 * Then every import slot must be free again and no dma-buf left; the VM
 * runner scans kmemleak on the debug kernel afterwards.
 *
 * Kernels without fault injection (the stock ones): SKIP, except CI=true on
 * the debug kernel, which is built with it (a failure).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dxt_gpuexp.h"
#include "fuzzk.h"

#define DBG "/sys/kernel/debug"
#define MAXN 400
#define RANDOM_CYCLES 60

static const char *mnt = "/tmp/fuzz-failinject-mnt";
static int nth_fd = -1;
static struct dxt_buf buf;
static int dev = -1;
static uint64_t cur_id;

static int fi_set(const char *attr, const char *file, const char *val)
{
	char p[256];

	snprintf(p, sizeof(p), DBG "/%s/%s", attr, file);
	return dxt_write_sysfs(p, val);
}

/*
 * Fault injector @attr (failslab, fail_page_alloc) armed but idle: sleeping
 * allocations fail too, no stack dumps, only tasks with make-it-fail.
 */
static void fi_prepare(const char *attr)
{
	fi_set(attr, "ignore-gfp-wait", "N");
	fi_set(attr, "verbose", "0");
	fi_set(attr, "probability", "0");
	fi_set(attr, "task-filter", "Y");
}

/* Fault injector @attr failing every call with @probability percent. */
static void fi_random(const char *attr, const char *probability)
{
	fi_set(attr, "interval", "1");
	fi_set(attr, "times", "-1");
	fi_set(attr, "space", "0");
	fi_set(attr, "probability", probability);
}

/* dxt_write_sysfs(), retried while injected failures make it fail. */
static int write_retried(const char *path, const char *val)
{
	int r = -1;

	for (int k = 0; k < 1000 && r; k++)
		r = dxt_write_sysfs(path, val);
	return r;
}

static bool have(const char *attr)
{
	char p[256];

	snprintf(p, sizeof(p), DBG "/%s/probability", attr);
	return !access(p, W_OK);
}

static void nth_arm(unsigned int n)
{
	char s[16];
	int l = snprintf(s, sizeof(s), "%u", n);

	if (pwrite(nth_fd, s, l, 0) != l)
		dxt_tap_note("writing fail-nth: %s", strerror(errno));
}

/* true if the armed failure was injected */
static bool nth_fired(void)
{
	char s[16] = "";
	bool fired;

	if (pread(nth_fd, s, sizeof(s) - 1, 0) <= 0)
		return false;
	fired = atoi(s) == 0;
	if (pwrite(nth_fd, "0", 1, 0) != 1)
		dxt_tap_note("resetting fail-nth: %s", strerror(errno));
	return fired;
}

/* ---- the operations: setup (no injection), op (injected), teardown ---- */

static int setup_none(void) { return 0; }
static void teardown_none(void) {}

/* Import buf: its id in cur_id (0 on failure). */
static int do_import(void)
{
	struct daxfs_import imp;
	int r = dxt_import(dev, buf.fd, 0, &imp);

	cur_id = r ? 0 : imp.id;
	return r;
}

static void teardown_import(void)
{
	if (cur_id)
		dxt_release(dev, cur_id);
	cur_id = 0;
}

static int setup_mounted(void)
{
	int r = do_import();

	if (!r)
		r = mount_id(cur_id, mnt, MS_RDONLY, NULL);
	if (r)
		teardown_import();
	return r;
}

/*
 * munmap() allocates too (maple tree nodes), so under injected failures it
 * can fail with ENOMEM and leave the mapping, and with it the mount, in
 * use: retry until it is gone.
 */
static void munmap_retry(void *p, size_t len)
{
	while (munmap(p, len) && errno == ENOMEM)
		;
}

/*
 * Unmount @mnt; an injected failure of the unmount (ENOMEM, the mount stays)
 * is retried, so that no mount is left for the next round to stack on.
 * Returns 0, -ENOMEM if a failure was injected, or another -errno.
 */
static int umount_retry(void)
{
	int r = 0;

	while (umount2(mnt, 0)) {
		if (errno != ENOMEM)
			return -errno;
		r = -ENOMEM;
	}
	return r;
}

static void teardown_mounted(void)
{
	umount_retry();
	teardown_import();
}

static int op_open_dev(void)
{
	int fd = dxt_dev_open();

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int op_mount(void)
{
	int r = mount_id(cur_id, mnt, MS_RDONLY, NULL);

	return r ? r : umount_retry();
}

static int op_mount_fd(void)
{
	int r = mount_fd(buf.fd, mnt, NULL);

	return r ? r : umount_retry();
}

static int op_readdir(void)
{
	struct dirent *d;
	DIR *dir;
	int n = 0;

	dir = opendir(mnt);
	if (!dir)
		return -errno;
	errno = 0;
	while ((d = readdir(dir)))
		n++;
	n = errno ? -errno : 0;
	closedir(dir);
	return n;
}

static int op_lookup(void)
{
	struct stat st;
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/d/e/f/deep", mnt);
	if (stat(p, &st))
		return -errno;
	snprintf(p, sizeof(p), "%s/missing", mnt);
	if (!stat(p, &st) || errno != ENOENT)
		return errno == ENOENT ? -EEXIST : -errno;
	return 0;
}

static int op_readlink(void)
{
	char p[PATH_MAX], t[512];

	snprintf(p, sizeof(p), "%s/sym-long", mnt);
	if (readlink(p, t, sizeof(t)) < 0)
		return -errno;
	snprintf(p, sizeof(p), "%s/sym-dir/f", mnt);	/* follow it */
	if (access(p, F_OK))
		return -errno;
	return 0;
}

static int op_read(void)
{
	char p[PATH_MAX], b[20000];
	ssize_t k;
	int fd, r = 0;

	snprintf(p, sizeof(p), "%s/multi", mnt);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((k = read(fd, b, sizeof(b))) > 0)
		;
	if (k < 0)
		r = -errno;
	close(fd);
	return r;
}

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t faulted;
static void on_sigbus(int sig)
{
	faulted = sig;
	siglongjmp(fault_jmp, 1);
}

static uint8_t *fmap;
static size_t fmap_len;

static int setup_mapped(void)
{
	char p[PATH_MAX];
	int fd, r = setup_mounted();

	if (r)
		return r;
	snprintf(p, sizeof(p), "%s/multi", mnt);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		teardown_mounted();
		return r;
	}
	fmap_len = 4 * PAGE;
	fmap = mmap(NULL, fmap_len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (fmap == MAP_FAILED) {
		r = -errno;
		teardown_mounted();
		return r;
	}
	return 0;
}

static void teardown_mapped(void)
{
	munmap_retry(fmap, fmap_len);
	teardown_mounted();
}

/* Faults: a failed allocation must not show up as a signal. */
static int op_fault(void)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, o1, o2;
	unsigned int sum = 0;
	int r = 0;

	sigaction(SIGBUS, &sa, &o1);
	sigaction(SIGSEGV, &sa, &o2);
	faulted = 0;
	if (!sigsetjmp(fault_jmp, 1)) {
		for (size_t i = 0; i < fmap_len; i += PAGE)
			sum += ((volatile uint8_t *)fmap)[i];
	} else {
		r = -EFAULT;
	}
	sigaction(SIGBUS, &o1, NULL);
	sigaction(SIGSEGV, &o2, NULL);
	(void)sum;
	return r;
}

static int op_mmap_fault(void)
{
	char p[PATH_MAX];
	uint8_t *m;
	int fd, r;

	snprintf(p, sizeof(p), "%s/page+1", mnt);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	m = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	r = m == MAP_FAILED ? -errno : 0;
	close(fd);
	if (r)
		return r;
	fmap = m;
	fmap_len = 2 * PAGE;
	r = op_fault();
	munmap_retry(m, 2 * PAGE);
	return r;
}

/*
 * A file exported as a dma-buf (DAXFS_IOC_EXPORT_DMABUF), mapped, every
 * page touched, unmapped, closed: the export's own allocations (the window,
 * dma_buf_export's, the fd) and the mapping's.
 */
static int op_export(void)
{
	struct daxfs_export e;
	char p[PATH_MAX];
	uint8_t *m;
	int fd, c, r;

	snprintf(p, sizeof(p), "%s/multi", mnt);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	c = dxt_export(fd, 0, 0, &e);
	close(fd);
	if (c < 0)
		return c;
	m = mmap(NULL, e.size, PROT_READ, MAP_SHARED, c, 0);
	r = m == MAP_FAILED ? -errno : 0;
	close(c);
	if (r)
		return r;
	fmap = m;
	fmap_len = e.size;
	r = op_fault();
	munmap_retry(m, e.size);
	return r;
}

/*
 * A device imports an exported file (the test importer of
 * selftests/exporter: attach, which attaches the mounted buffer for the
 * device, map, vmap, and back); without daxfs_gpuexp.ko only the export.
 */
static int gdev = -1;

static int op_export_import(void)
{
	struct daxfs_gpuexp_import_check ic = { .dir = DAXFS_GPUEXP_DMA_BIDIRECTIONAL };
	struct daxfs_gpuexp_seg segs[8];
	uint8_t b[64];
	char p[PATH_MAX];
	int fd, c, r;

	snprintf(p, sizeof(p), "%s/multi", mnt);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	c = dxt_export(fd, PAGE, 0, NULL);
	close(fd);
	if (c < 0 || gdev < 0)
		return c < 0 ? c : (close(c), 0);
	ic.fd = c;
	ic.max_segs = 8;
	ic.segs = (uintptr_t)segs;
	ic.flags = DAXFS_GPUEXP_CHECK_VMAP;
	ic.vmap_offset = 100;
	ic.vmap_len = sizeof(b);
	ic.vmap_buf = (uintptr_t)b;
	r = dxt_gpuexp_import_check(gdev, &ic);
	close(c);
	return r;
}

struct op {
	const char *name;
	int (*setup)(void);
	int (*op)(void);
	void (*teardown)(void);
};

static const struct op ops[] = {
	{ "open /dev/daxfs", setup_none, op_open_dev, teardown_none },
	{ "import", setup_none, do_import, teardown_import },
	{ "mount dmabuf:ID + umount", do_import, op_mount, teardown_import },
	{ "mount with a dmabuf fd + umount", setup_none, op_mount_fd, teardown_none },
	{ "readdir", setup_mounted, op_readdir, teardown_mounted },
	{ "lookup", setup_mounted, op_lookup, teardown_mounted },
	{ "readlink", setup_mounted, op_readlink, teardown_mounted },
	{ "read", setup_mounted, op_read, teardown_mounted },
	{ "page faults", setup_mapped, op_fault, teardown_mapped },
	{ "mmap + faults", setup_mounted, op_mmap_fault, teardown_mounted },
	{ "export + mmap + faults", setup_mounted, op_export, teardown_mounted },
	{ "export + a device's import", setup_mounted, op_export_import, teardown_mounted },
};

/* Mark the window in which dma_buf_vmap() may warn (see selftests/vm/logscan). */
static void expect_warn(const char *what)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	char msg[64];
	int len;

	/* one write() per record: /dev/kmsg refuses a record in pieces */
	len = snprintf(msg, sizeof(msg), "daxfs-vm: expect-warn %s dma_buf_vmap\n", what);
	if (fd < 0 || write(fd, msg, len) != len)
		dxt_tap_ok(false, "announce the expected dma_buf_vmap warning in /dev/kmsg: %s",
		       strerror(errno));
	if (fd >= 0)
		close(fd);
}

/*
 * udmabuf's vmap returns EINVAL when vm_map_ram() fails, which it does when
 * an allocation fails (drivers/dma-buf/udmabuf.c, 6.12); the driver passes
 * the exporter's errno on and names it in its log line.  Such an EINVAL is
 * an injected allocation failure, not a bug: seen as ENOMEM here, and only
 * when the log line is exactly that one.  Call kmsg_skip() before the
 * operation.
 */
static int kfd = -1;
static int vmap_einval;

static void kmsg_skip(void)
{
	char line[512];

	kmsg_last_daxfs(kfd, line, sizeof(line));
}

static int exporter_enomem(int r)
{
	char line[512];

	if (r != -EINVAL)
		return r;
	kmsg_last_daxfs(kfd, line, sizeof(line));
	if (strstr(line, "(dmabuf:udmabuf ") && strstr(line, "cannot vmap the buffer (-22)")) {
		vmap_einval++;
		return -ENOMEM;
	}
	return r;
}

/* One whole cycle, for the random phase: ENOMEM anywhere is fine. */
static int cycle(void)
{
	int r, bad = 0;

	kmsg_skip();
	r = exporter_enomem(do_import());
	if (r)
		return r == -ENOMEM ? 0 : r;
	kmsg_skip();
	r = exporter_enomem(mount_id(cur_id, mnt, MS_RDONLY, NULL));
	if (!r) {
		int (*const walk[])(void) = { op_readdir, op_lookup, op_readlink, op_read,
					      op_mmap_fault, op_export, op_export_import };

		for (size_t i = 0; i < sizeof(walk) / sizeof(walk[0]); i++) {
			r = walk[i]();
			if (r && r != -ENOMEM && !bad)
				bad = r;
		}
		r = umount_retry();
		if (r && r != -ENOMEM && !bad) {
			dxt_tap_note("cycle: umount failed: %s", strerror(-r));
			bad = r;
		}
	} else if (r != -ENOMEM) {
		bad = r;
	}
	while (dxt_release(dev, cur_id) == -ENOMEM)
		;
	cur_id = 0;
	return bad;
}

int main(void)
{
	const char *k = getenv("DAXFS_KERNEL") ?: "?";
	bool must = dxt_ci() && !strcmp(k, "debug");
	char work[PATH_MAX], err[2 * ERRLEN];
	uint8_t *image;
	size_t ilen;
	long dmabufs0;
	int kind, rc;

	dxt_tap_init();
	alarm(900);
	/*
	 * This program is read over 9p from the host: lock what it has mapped
	 * so that no injected failure lands in paging in its own code (a
	 * failed 9p read leaves the binary unreadable for later runs of the
	 * same boot).  Not MCL_FUTURE: the file mappings under test must fault.
	 */
	if (mlockall(MCL_CURRENT))
		dxt_tap_note("mlockall: %s", strerror(errno));
	if (!have("failslab") || access("/proc/thread-self/fail-nth", W_OK)) {
		if (must) {
			dxt_tap_ok(false, "fault injection: %s/failslab or /proc/thread-self/fail-nth missing on the debug kernel",
			       DBG);
			return dxt_tap_done();
		}
		dxt_tap_skip("fuzz-kernel-failinject", "no fault injection on kernel %s "
			 "(CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_DEBUG_FS)", k);
		return dxt_tap_done() ? 1 : 4;
	}
	kind = fuzzk_begin(&(struct fuzzk_start){ .prog = "fuzz-kernel-failinject", .must = must,
						  .flavor = 0, .what = "the image" },
			   work, sizeof(work), &image, &ilen, &rc);
	if (kind < 0)
		return rc;
	if (dxt_buf_alloc(kind, ilen, &buf, err, sizeof(err)) || dxt_buf_write(&buf, 0, image, ilen)) {
		dxt_tap_ok(false, "a %s buffer: %s", dxt_exporter_name(kind), err);
		return dxt_tap_done();
	}
	dev = dxt_dev_open();
	if (dev < 0) {
		dxt_tap_ok(false, "open /dev/daxfs: %s", strerror(-dev));
		return dxt_tap_done();
	}
	mkdir(mnt, 0755);
	dmabufs0 = dxt_dmabuf_count();
	gdev = dxt_gpuexp_open(err, sizeof(err));
	if (gdev < 0)
		dxt_tap_note("no test importer: exports are not imported by a device: %s", err);

	/* Allocations that may sleep fail too; no stack dumps in the log. */
	fi_prepare("failslab");
	if (have("fail_page_alloc")) {
		fi_set("fail_page_alloc", "ignore-gfp-highmem", "N");
		fi_set("fail_page_alloc", "min-order", "0");
		fi_prepare("fail_page_alloc");
	}
	dxt_tap_note("exporter %s, fail_page_alloc %s", dxt_exporter_name(kind),
		 have("fail_page_alloc") ? "yes" : "no");
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kfd >= 0)
		lseek(kfd, 0, SEEK_END);
	/*
	 * dma_buf_vmap() warns once when the exporter's vmap fails, which is
	 * what failing the exporter's allocations does: tell the runner's
	 * log scan that this warning (and only this one) is expected here.
	 */
	expect_warn("begin");

	/* Phase 1: every allocation of every operation, one at a time. */
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		const struct op *o = &ops[i];
		int enomem = 0, oks = 0, bad = 0, n, r;
		char first[256] = "";

		for (n = 1; n <= MAXN; n++) {
			bool fired;

			r = o->setup();
			if (r) {
				snprintf(first, sizeof(first), "setup failed: %s", strerror(-r));
				bad++;
				break;
			}
			kmsg_skip();
			nth_arm(n);
			r = o->op();
			fired = nth_fired();
			r = exporter_enomem(r);
			o->teardown();
			if (r == -ENOMEM)
				enomem++;
			else if (!r)
				oks++;
			else if (!bad++)
				snprintf(first, sizeof(first), "allocation %d failed: %s", n,
					 strerrorname_np(-r) ?: "?");
			if (!fired)
				break;
		}
		dxt_tap_ok(!bad && n <= MAXN, "%s: %d allocations failed in turn: %d ENOMEM, %d succeeded anyway%s%s",
		       o->name, n - 1, enomem, oks, bad ? "; " : "", first);
	}
	close(nth_fd);

	/* Phase 2: random failures for this process only. */
	{
		int bad = 0, first = 0, r;

		fi_random("failslab", "10");
		if (have("fail_page_alloc"))
			fi_random("fail_page_alloc", "5");
		dxt_write_sysfs("/proc/self/make-it-fail", "1");
		for (int c = 0; c < RANDOM_CYCLES; c++) {
			r = cycle();
			if (r && !bad++)
				first = r;
		}
		/*
		 * These writes are under injection themselves until the
		 * first one lands: retry each until it does.
		 */
		write_retried("/proc/self/make-it-fail", "0");
		write_retried(DBG "/failslab/probability", "0");
		if (have("fail_page_alloc"))
			write_retried(DBG "/fail_page_alloc/probability", "0");
		dxt_tap_ok(!bad, "%d import-mount-walk-release cycles with random failures: %d with an errno other than ENOMEM%s%s",
		       RANDOM_CYCLES, bad, bad ? ", first " : "", bad ? strerrorname_np(-first) ?: "?" : "");
	}

	expect_warn("end");
	if (vmap_einval)
		dxt_tap_note("%d of the failures came back as EINVAL from udmabuf's vmap (vm_map_ram failed)",
			 vmap_einval);
	if (kfd >= 0)
		close(kfd);

	/* Nothing left behind: no mount either (each cycle unmounted its own). */
	{
		int left = 0;

		while (!umount2(mnt, MNT_DETACH))
			left++;
		dxt_tap_ok(left == 0, "no mount left on %s (%d)", mnt, left);
	}
	close(dev);
	if (gdev >= 0)
		close(gdev);
	{
		int e;
		long n = count_free_imports(buf.fd, &e);

		dxt_tap_ok(n == 1024 && e == -ENOSPC, "all 1024 import slots free afterwards (%ld, then %s)",
		       n, strerrorname_np(-e) ?: "?");
	}
	dxt_buf_free(&buf);
	if (dmabufs0 >= 0) {
		long n = dxt_dmabuf_count();

		dxt_tap_ok(n == dmabufs0 - 1, "no dma-buf left behind (%ld now, %ld with ours before)",
		       n, dmabufs0);
		if (n != dmabufs0 - 1) {
			FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "re");
			char line[512];

			while (f && fgets(line, sizeof(line), f))
				dxt_tap_note("bufinfo: %s", strtok(line, "\n") ?: "");
			if (f)
				fclose(f);
		}
	}
	dxt_rm_rf(work);
	return dxt_tap_done();
}
