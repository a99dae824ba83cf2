// SPDX-License-Identifier: GPL-2.0
/*
 * driver-lifecycle: a mount outlives every fd of its maker, an unmounted
 * mapping keeps working, the module cannot go while in use, 200 mount
 * cycles leak nothing, one buffer mounted at several places, and 8 threads
 * reading and faulting while another scribbles over the buffer through the
 * exporter's own mapping (three phases of $DAXFS_SCRIBBLE_SECS, default 2 s;
 * set it higher to hunt races: fuzz-kernel-scribble is the longer run).
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "daxfs_harness.h"
#include "daxfs_format.h"

#define DATA "three-pages-and-100"
#define DATA_SIZE (3 * 4096 + 100)
#define DATA_SEED 5
#define A5_SIZE (1 << 20)

FIXTURE(life) {
	char work[64];
	char src[128], img[128], mnt[128];
	struct dxmount m;
	void *image;
	size_t image_len;
	long bufs0;
	struct daxfs_baseline base;
};

FIXTURE_VARIANT(life) {
	enum dxt_exporter kind;
};

DAXFS_EXPORTER_VARIANTS(life);

/* The scribble target, added to the shared tree: a file of 0xA5 bytes. */
static int add_a5(const char *src, char *err, size_t len)
{
	static char a5[A5_SIZE];
	int fd, r = 0;

	memset(a5, 0xA5, sizeof(a5));
	fd = open(P(src, "a5"), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, a5, A5_SIZE) != A5_SIZE) {
		snprintf(err, len, "write %s/a5: %s", src, strerror(errno));
		r = -1;
	}
	if (fd >= 0)
		close(fd);
	return r;
}

FIXTURE_SETUP(life)
{
	struct gen_opts o = { .special = true, .owners = true };

	dxm_init(&self->m);
	self->work[0] = 0;
	self->image = NULL;
	REQUIRE_EXPORTER(variant->kind);
	self->bufs0 = dxt_dmabuf_count();
	FIXTURE_WORKDIR_SETUP(self);
	SHARED_IMAGE_MAPPED(self, "life", &o, add_a5);
}

/* in the parent, once the test's process is gone: paths and numbers only */
FIXTURE_TEARDOWN_PARENT(life)
{
	WORKDIR_TEARDOWN(self);
}

/* after everything of ours is gone, the module must have let the buffer go */
#define EXPECT_BUFFERS_FREED() do {					\
	if (self->bufs0 >= 0) {						\
		EXPECT_EQ(self->bufs0, dxt_dmabuf_count()) {		\
			TH_LOG("the dma-buf outlived its last user");	\
		}							\
	}								\
} while (0)

TEST_F_TIMEOUT(life, close_everything_then_read, 120)
{
	char err[ERRLEN];
	int fds0 = count_fds();

	MOUNT_IMAGE();
	/* the import may go once mounted */
	EXPECT_EQ(0, dxt_release(self->m.dev, self->m.imp.id));
	self->m.imported = false;
	close(self->m.dev);
	self->m.dev = -1;
	dxt_buf_free(&self->m.buf);
	EXPECT_EQ(fds0, count_fds());
	EXPECT_EQ(0, compare_trees(self->src, self->mnt, err, sizeof(err), NULL)) {
		TH_LOG("%s", err);
	}
	ASSERT_EQ(0, umount_path(self->mnt, 0));
	self->m.mounted = false;
	EXPECT_BUFFERS_FREED();
}

TEST_F_TIMEOUT(life, umount_while_mapped, 120)
{
	char want[DATA_SIZE], got[DATA_SIZE];
	char *map;
	int fd, fd2;

	pattern(want, DATA_SIZE, DATA_SEED, 0);
	MOUNT_IMAGE();
	fd = open(P(self->mnt, DATA), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	fd2 = open(P(self->mnt, DATA), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	map = mmap(NULL, 4 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	close(fd);
	/* a mapping keeps the mount busy */
	EXPECT_ERRNO(EBUSY, umount_path(self->mnt, 0));
	ASSERT_EQ(0, umount_path(self->mnt, MNT_DETACH));
	self->m.mounted = false;
	/* and the buffer alive: drop every other reference */
	dxt_release(self->m.dev, self->m.imp.id);
	self->m.imported = false;
	close(self->m.dev);
	self->m.dev = -1;
	dxt_buf_free(&self->m.buf);
	/* untouched pages fault in after the unmount */
	EXPECT_EQ(0, memcmp(map, want, DATA_SIZE));
	EXPECT_EQ(DATA_SIZE, pread(fd2, got, sizeof(got), 0));
	EXPECT_EQ(0, memcmp(got, want, DATA_SIZE));
	munmap(map, 4 * PAGE);
	close(fd2);
	EXPECT_BUFFERS_FREED();

	/* normal umount once the mapping is gone */
	MOUNT_IMAGE();
	fd = open(P(self->mnt, DATA), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	map = mmap(NULL, 4 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(0, memcmp(map, want, DATA_SIZE));
	munmap(map, 4 * PAGE);
	close(fd);
	EXPECT_EQ(0, umount_path(self->mnt, 0));
	self->m.mounted = false;
}

static int try_unload(void)
{
	return syscall(SYS_delete_module, "daxfs", O_NONBLOCK) ? -errno : 0;
}

/* if the module went away after all, put it back for the tests that follow */
static void reload(struct __test_metadata *_metadata)
{
	char ko[PATH_MAX];
	struct utsname u;
	int fd;

	uname(&u);
	snprintf(ko, sizeof(ko), "%s/build/driver/%s/daxfs.ko", dxt_src_dir(), u.release);
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || syscall(SYS_finit_module, fd, "", 0))
		TH_LOG("could not reload %s: %s", ko, strerror(errno));
	if (fd >= 0)
		close(fd);
}

TEST_F_TIMEOUT(life, rmmod_refused_while_used, 120)
{
	char rc[32];
	int r;

	MOUNT_IMAGE();
	ASSERT_EQ(0, dxt_read_sysfs("/sys/module/daxfs/refcnt", rc, sizeof(rc)));
	TH_LOG("refcnt while mounted and /dev/daxfs open: %s", rc);
	EXPECT_LT(0, atoi(rc));
	/* delete_module(2) of a module in use: EWOULDBLOCK (rmmod(8) says "in use") */
	r = try_unload();
	EXPECT_ERRNO(EWOULDBLOCK, r);
	if (!r)
		reload(_metadata);

	/* mounted, but no /dev/daxfs open and no import */
	dxt_release(self->m.dev, self->m.imp.id);
	self->m.imported = false;
	close(self->m.dev);
	self->m.dev = -1;
	r = try_unload();
	EXPECT_ERRNO(EWOULDBLOCK, r);
	if (!r)
		reload(_metadata);
	ASSERT_EQ(0, umount_path(self->mnt, 0));
	self->m.mounted = false;

	/* only /dev/daxfs open, with an import */
	self->m.dev = dxt_dev_open();
	ASSERT_LE(0, self->m.dev);
	ASSERT_EQ(0, dxt_import(self->m.dev, self->m.buf.fd, 0, &self->m.imp));
	self->m.imported = true;
	r = try_unload();
	EXPECT_ERRNO(EWOULDBLOCK, r);
	if (!r)
		reload(_metadata);
}

TEST_F_TIMEOUT(life, mount_cycles_200, 280)
{
	struct daxfs_info info;
	char b;
	int fds0, i, fd;

	MOUNT_IMAGE();
	ASSERT_EQ(0, umount_path(self->mnt, 0));
	self->m.mounted = false;
	fds0 = count_fds();
	for (i = 0; i < 200; i++) {
		if (i % 2)
			ASSERT_OK_MSG(mount_fd(self->m.buf.fd, self->mnt, NULL), "fsconfig mount");
		else
			ASSERT_OK_MSG(mount_id(self->m.imp.id, self->mnt, MS_RDONLY, NULL), "mount");
		fd = open(P(self->mnt, "sub/deeper/deepest/file"), O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(1, pread(fd, &b, 1, 4096 + i));
		close(fd);
		ASSERT_EQ(0, umount_path(self->mnt, 0)) {
			TH_LOG("cycle %d", i);
		}
	}
	EXPECT_EQ(fds0, count_fds());
	ASSERT_EQ(0, dxt_info(self->m.dev, self->m.imp.id, &info));
	EXPECT_EQ(0, info.mounts);
	dxm_teardown(&self->m);
	EXPECT_BUFFERS_FREED();
}

TEST_F_TIMEOUT(life, one_buffer_many_mounts, 120)
{
	struct daxfs_import imp2;
	struct daxfs_info info;
	char m2[128], m3[128], m4[128], err[ERRLEN];
	char *f1, *f2, *bm;
	uint64_t off;
	struct daxfs_inode in;
	int fd1, fd2, r;

	MOUNT_IMAGE();
	snprintf(m2, sizeof(m2), "%s/m2", self->work);
	snprintf(m3, sizeof(m3), "%s/m3", self->work);
	snprintf(m4, sizeof(m4), "%s/m4", self->work);
	ASSERT_EQ(0, mkdir(m2, 0755));
	ASSERT_EQ(0, mkdir(m3, 0755));
	ASSERT_EQ(0, mkdir(m4, 0755));
	/* a second import of the same buffer */
	ASSERT_EQ(0, dxt_import(self->m.dev, self->m.buf.fd, 0, &imp2));
	EXPECT_NE(self->m.imp.id, imp2.id);
	ASSERT_EQ(0, mount_id(imp2.id, m2, MS_RDONLY, NULL));
	/* the first import mounted a second time */
	r = mount_id(self->m.imp.id, m3, MS_RDONLY, NULL);
	TH_LOG("same import mounted twice: %s", r ? strerrorname_np(-r) : "ok");
	EXPECT_EQ(0, r);
	/* and the buffer directly through fsconfig */
	ASSERT_EQ(0, mount_fd(self->m.buf.fd, m4, NULL));
	EXPECT_EQ(0, compare_trees(self->src, self->mnt, err, sizeof(err), NULL)) {
		TH_LOG("%s", err);
	}
	EXPECT_EQ(0, compare_trees(self->src, m2, err, sizeof(err), NULL)) {
		TH_LOG("%s", err);
	}
	EXPECT_EQ(0, compare_trees(self->src, m4, err, sizeof(err), NULL)) {
		TH_LOG("%s", err);
	}
	ASSERT_EQ(0, dxt_info(self->m.dev, self->m.imp.id, &info));
	EXPECT_EQ(r ? 1 : 2, info.mounts);
	ASSERT_EQ(0, dxt_info(self->m.dev, imp2.id, &info));
	EXPECT_EQ(1, info.mounts);

	/* one write through the exporter shows in every mount */
	ASSERT_EQ(0, image_lookup(self->image, self->image_len, DATA, NULL, &in));
	off = le64toh(in.offset);
	fd1 = open(P(self->mnt, DATA), O_RDONLY | O_CLOEXEC);
	fd2 = open(P(m2, DATA), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd1);
	ASSERT_LE(0, fd2);
	/* private mappings: pagemap walks them (shared ones are PFN maps) */
	f1 = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd1, 0);
	f2 = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd2, 0);
	ASSERT_NE(MAP_FAILED, f1);
	ASSERT_NE(MAP_FAILED, f2);
	EXPECT_NE(0, pagemap_pfn(f1));
	EXPECT_EQ(pagemap_pfn(f1), pagemap_pfn(f2));
	bm = dxt_buf_mmap(&self->m.buf, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, bm);
	bm[off + 123] = 0x3c;
	EXPECT_EQ(0x3c, f1[123]);
	EXPECT_EQ(0x3c, f2[123]);
	munmap(bm, self->m.buf.size);
	munmap(f1, PAGE);
	munmap(f2, PAGE);
	close(fd1);
	close(fd2);
	EXPECT_EQ(0, umount_path(m2, 0));
	if (!r)
		EXPECT_EQ(0, umount_path(m3, 0));
	EXPECT_EQ(0, umount_path(m4, 0));
	EXPECT_EQ(0, dxt_release(self->m.dev, imp2.id));
}

/* ---------------------------------------------------------------- scribbling */

struct scribble {
	struct __test_metadata *md;
	const char *mnt;
	char a5path[PATH_MAX];
	uint8_t *bm;		/* the exporter's mapping */
	size_t bsize;
	uint64_t a5off;
	atomic_int stop;
	/*
	 * 1: 0xA5/0x5A over the a5 data only; 2: 0xA5/0x5A anywhere;
	 * 3: random bytes over the metadata [0, data_off) only
	 */
	atomic_int phase;
	uint64_t data_off;
	atomic_long reads, faults, walks, errors, sigbus, bad;
	atomic_long scribbles;
	atomic_int walk_errors_phase1;
};

/* The counters so far: "@what, @secs s): N reads, ...". */
static void log_scribble(struct __test_metadata *_metadata, const char *what, int secs,
			 struct scribble *s)
{
	TH_LOG("%s, %d s): %ld reads, %ld fault rounds, %ld walks, %ld errors, "
	       "%ld SIGBUS, %ld scribbles, %ld bad", what, secs, atomic_load(&s->reads),
	       atomic_load(&s->faults), atomic_load(&s->walks), atomic_load(&s->errors),
	       atomic_load(&s->sigbus), atomic_load(&s->scribbles), atomic_load(&s->bad));
}

static __thread sigjmp_buf tjb;
static __thread volatile int tjb_armed;

static void on_fault(int sig)
{
	if (tjb_armed)
		siglongjmp(tjb, sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int check_bytes(struct scribble *s, const uint8_t *p, size_t n, uint64_t where)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != 0xA5 && p[i] != 0x5A) {
			if (atomic_fetch_add(&s->bad, 1) < 5)
				fprintf(stderr, "# a5 byte %llu read as 0x%02x (phase %d)\n",
					(unsigned long long)(where + i), p[i],
					atomic_load(&s->phase));
			return -1;
		}
	}
	return 0;
}

static void walk(struct scribble *s, const char *dir, int depth)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d) {
		atomic_fetch_add(&s->errors, 1);
		if (atomic_load(&s->phase) == 1)
			s->walk_errors_phase1++;
		return;
	}
	while ((e = readdir(d))) {
		char p[PATH_MAX], buf[512];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%.2000s/%.255s", dir, e->d_name);
		if (lstat(p, &st)) {
			atomic_fetch_add(&s->errors, 1);
			if (atomic_load(&s->phase) == 1)
				s->walk_errors_phase1++;
			continue;
		}
		if (S_ISLNK(st.st_mode)) {
			if (readlink(p, buf, sizeof(buf)) < 0)
				atomic_fetch_add(&s->errors, 1);
		} else if (S_ISREG(st.st_mode) && strcmp(e->d_name, "a5")) {
			int fd = open(p, O_RDONLY | O_CLOEXEC);

			if (fd >= 0) {
				while (read(fd, buf, sizeof(buf)) > 0)
					;
				close(fd);
			}
		} else if (S_ISDIR(st.st_mode) && depth < 8) {
			walk(s, p, depth + 1);
		}
	}
	closedir(d);
	atomic_fetch_add(&s->walks, 1);
}

/* touch 16 random bytes of the a5 mapping; a signal is counted, not fatal */
static __attribute__((noinline)) void fault_round(struct scribble *s, const uint8_t *map,
						  uint64_t *seed)
{
	int sig;

	tjb_armed = 1;
	sig = sigsetjmp(tjb, 1);
	if (!sig) {
		for (int i = 0; i < 16; i++) {
			uint64_t o = rnd(seed) % A5_SIZE;
			uint8_t v = map[o];

			check_bytes(s, &v, 1, o);
		}
	} else {
		atomic_fetch_add(&s->sigbus, 1);
	}
	tjb_armed = 0;
	atomic_fetch_add(&s->faults, 1);
}

static void *reader(void *arg)
{
	struct scribble *s = arg;
	uint64_t seed = (uintptr_t)&seed ^ 0x9E3779B97F4A7C15ull;
	static __thread uint8_t buf[65536];
	uint8_t *map = MAP_FAILED;
	int fd = open(s->a5path, O_RDONLY | O_CLOEXEC);
	unsigned long it = 0;

	if (fd >= 0)
		map = mmap(NULL, A5_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	while (!atomic_load(&s->stop)) {
		uint64_t off = rnd(&seed) % A5_SIZE, len = 1 + rnd(&seed) % sizeof(buf);
		ssize_t k;

		if (fd >= 0) {
			k = pread(fd, buf, len, off);
			if (k < 0)
				atomic_fetch_add(&s->errors, 1);
			else
				check_bytes(s, buf, k, off);
			atomic_fetch_add(&s->reads, 1);
		}
		if (map != MAP_FAILED)
			fault_round(s, map, &seed);
		if (++it % 64 == 0)
			walk(s, s->mnt, 0);
	}
	if (map != MAP_FAILED)
		munmap(map, A5_SIZE);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void *scribbler(void *arg)
{
	struct scribble *s = arg;
	uint64_t seed = 0x123456789abcdefull;

	while (!atomic_load(&s->stop)) {
		uint64_t base = 0, range = s->bsize;
		uint64_t off, len;

		int phase = atomic_load(&s->phase);

		if (phase == 1) {
			base = s->a5off;
			range = A5_SIZE;
		} else if (phase == 3) {
			range = s->data_off;
		}
		off = base + rnd(&seed) % range;
		len = 1 + rnd(&seed) % 512;
		if (off + len > base + range)
			len = base + range - off;
		if (phase == 3) {
			for (uint64_t i = 0; i < len; i++)
				s->bm[off + i] = rnd(&seed);
		} else {
			memset(s->bm + off, rnd(&seed) & 1 ? 0xA5 : 0x5A, len);
		}
		atomic_fetch_add(&s->scribbles, 1);
	}
	return NULL;
}

TEST_F_TIMEOUT(life, scribble_while_reading, 200)
{
	const char *e = getenv("DAXFS_SCRIBBLE_SECS");
	int secs = e ? atoi(e) : 2;
	struct sigaction sa = { .sa_handler = on_fault, .sa_flags = SA_NODEFER };
	struct scribble s = { .md = _metadata, .mnt = self->mnt };
	struct daxfs_inode in;
	pthread_t rd[8], wr;

	MOUNT_IMAGE();
	ASSERT_EQ(0, image_lookup(self->image, self->image_len, "a5", NULL, &in));
	s.a5off = le64toh(in.offset);
	s.data_off = le64toh(((struct daxfs_super *)self->image)->data_off);
	ASSERT_LT(0, s.data_off);
	ASSERT_LE(s.data_off, s.a5off);
	snprintf(s.a5path, sizeof(s.a5path), "%s/a5", self->mnt);
	s.bsize = self->m.buf.size;
	s.bm = dxt_buf_mmap(&self->m.buf, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, s.bm);
	atomic_store(&s.phase, 1);
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	for (int i = 0; i < 8; i++)
		ASSERT_EQ(0, pthread_create(&rd[i], NULL, reader, &s));
	ASSERT_EQ(0, pthread_create(&wr, NULL, scribbler, &s));
	sleep(secs);
	log_scribble(_metadata, "phase 1 (data only", secs, &s);
	EXPECT_EQ(0, atomic_load(&s.errors));
	EXPECT_EQ(0, atomic_load(&s.sigbus));
	atomic_store(&s.phase, 2);
	sleep(secs);
	atomic_store(&s.phase, 3);
	sleep(secs);
	atomic_store(&s.stop, 1);
	for (int i = 0; i < 8; i++)
		pthread_join(rd[i], NULL);
	pthread_join(wr, NULL);
	log_scribble(_metadata, "total (then 0xA5/0x5A anywhere, then random bytes over the metadata",
		     secs, &s);
	/* every byte read from a5 came from the buffer: only 0xA5 / 0x5A */
	EXPECT_EQ(0, atomic_load(&s.bad));
	EXPECT_LT(0, atomic_load(&s.reads));
	EXPECT_LT(0, atomic_load(&s.scribbles));
	EXPECT_EQ(0, atomic_load(&s.walk_errors_phase1));
	munmap(s.bm, s.bsize);
	EXPECT_EQ(0, umount_path(self->mnt, 0));
	self->m.mounted = false;
}

TEST_HARNESS_MAIN
