// SPDX-License-Identifier: GPL-2.0
/*
 * driver-devdax: a device-dax character device as the source.
 *
 *   daxfsctl mount /dev/dax0.0 /mnt
 *   mount -t daxfs /dev/dax0.0 /mnt      (mount.daxfs)
 *
 * The VM must boot with a legacy pmem region (selftests/vm/run):
 *
 *   DAXFS_VM_APPEND='memmap=64M$0x60000000 memmap=64M!0x70000000'
 *
 * and the kernel must have device-dax (dax_pmem, device_dax): the test turns
 * namespace0.0 into a devdax namespace with the host's ndctl, writes the
 * image through the device's own mapping (device-dax has no write()), and
 * gives the namespace back in raw mode (/dev/pmem0) at the end, for the
 * tests that run after it.  Without the region, ndctl or device-dax the
 * tests skip and say which (under CI=true they fail).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <sched.h>
#include <unistd.h>

#include "daxfs_harness.h"
#include "daxfs_format.h"

#define DEV "/dev/dax0.0"
#define SYSDEV "/sys/bus/dax/devices/dax0.0"
#define NS "namespace0.0"
#define BIG "big.bin"
#define BIG_SIZE (4u << 20)
#define BIG_SEED 11
#define MB2 (2u << 20)

/* Run a command (arguments up to a NULL); exit status, output in @out. */
static int run(char *out, size_t len, ...)
{
	const char *argv[16];
	va_list ap;
	int n = 0;

	va_start(ap, len);
	while (n < 15 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	return dxt_run_cmd(argv, out, len);
}

static int write_sys(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

static uint64_t read_sys_u64(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return strtoull(buf, NULL, 0);
}

/*
 * Make /dev/dax0.0 out of namespace0.0.  0, or the reason it cannot be
 * made in @why (a skip).
 */
static int make_devdax(char *why, size_t len)
{
	char out[1024];
	struct stat st;

	if (stat(DEV, &st) == 0)
		return 0;
	run(out, sizeof(out), "modprobe", "-q", "-a", "nd_e820", "nd_pmem", "dax_pmem",
	    "device_dax", (char *)NULL);
	if (access("/sys/bus/nd/devices/" NS, F_OK)) {
		snprintf(why, len, "no %s (a legacy pmem region: boot with %s)", NS,
			 DXT_MEMMAP_HINT);
		return -1;
	}
	if (access("/sys/bus/dax", F_OK) || access("/sys/bus/dax/drivers/device_dax", F_OK)) {
		snprintf(why, len, "kernel %s has no device-dax (CONFIG_DEV_DAX, "
			 "CONFIG_DEV_DAX_PMEM: modules device_dax, dax_pmem)",
			 getenv("DAXFS_KERNEL") ?: "?");
		return -1;
	}
	if (access("/usr/bin/ndctl", X_OK) && access("/bin/ndctl", X_OK)) {
		snprintf(why, len, "no ndctl on the host (apt-get install ndctl)");
		return -1;
	}
	if (run(out, sizeof(out), "ndctl", "create-namespace", "-f", "-e", NS, "--mode=devdax",
		"--align=2M", (char *)NULL)) {
		snprintf(why, len, "ndctl create-namespace --mode=devdax failed: %s", out);
		return -1;
	}
	for (int i = 0; i < 50 && stat(DEV, &st); i++)
		usleep(100000);
	if (stat(DEV, &st)) {
		snprintf(why, len, "ndctl made the namespace, but no %s appeared", DEV);
		return -1;
	}
	return 0;
}

/* Back to a raw namespace (/dev/pmem0) for the tests after this one. */
static void restore_pmem(void)
{
	char out[4096];

	if (access(DEV, F_OK))
		return;
	if (run(out, sizeof(out), "ndctl", "create-namespace", "-f", "-e", NS, "--mode=raw", (char *)NULL))
		printf("# restoring %s in raw mode failed: %s\n", NS, out);
}

FIXTURE(devdax) {
	char work[64];
	char src[128], img[128], mnt[128];
	uint64_t start, size;
	struct daxfs_baseline base;
};

FIXTURE_SETUP(devdax)
{
	static const struct tree_file big[] = { { BIG, BIG_SIZE, BIG_SEED, 0644 } };
	static const char *const mk[] = { "--align=2M", "--align-min=2M", NULL };
	struct gen_opts o = { .special = true, .owners = true, .many = true };
	char why[2048] = "", err[ERRLEN];
	struct stat st;
	void *dev;
	int fd, img;

	self->work[0] = 0;
	baseline_take(&self->base);
	_metadata->setup_completed = true;
	NEED(make_devdax(why, sizeof(why)) == 0, "%s", why);
	self->start = read_sys_u64(SYSDEV "/resource");
	self->size = read_sys_u64(SYSDEV "/size");
	TH_LOG("%s: %#llx+%llu, align %llu", DEV, (unsigned long long)self->start,
	       (unsigned long long)self->size,
	       (unsigned long long)read_sys_u64(SYSDEV "/align"));
	WORKDIR_SETUP(self);
	GEN_TREE(self->src, &o);
	ASSERT_EQ(0, fill_files(self->src, big, 1, err, sizeof(err))) TH_LOG("%s", err);
	MKIMAGE(self->img, self->src, mk);
	/* the image, through the device's mapping (device-dax has no write()) */
	img = open(self->img, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, img);
	ASSERT_EQ(0, fstat(img, &st));
	ASSERT_LE((uint64_t)st.st_size, self->size);
	fd = open(DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	dev = mmap(NULL, (st.st_size + MB2 - 1) & ~(size_t)(MB2 - 1), PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, dev);
	ASSERT_EQ(st.st_size, read(img, dev, st.st_size));
	munmap(dev, (st.st_size + MB2 - 1) & ~(size_t)(MB2 - 1));
	close(fd);
	close(img);
}

FIXTURE_TEARDOWN_PARENT(devdax)
{
	WORKDIR_TEARDOWN(self);
	restore_pmem();
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* The tree, the big file's bytes, and its mapping: a PMD where the kernel has PFN PMDs. */
static void check_mount(struct __test_metadata *_metadata, FIXTURE_DATA(devdax) *self)
{
	char err[ERRLEN], path[PATH_MAX], src[256], ty[64], opts[256];
	unsigned char *want, *m;
	long f0, faults;
	int fd;

	EXPECT_EQ(0, compare_trees(self->src, self->mnt, err, sizeof(err), NULL)) {
		TH_LOG("%s", err);
	}
	ASSERT_EQ(0, proc_mounts_find(self->mnt, src, ty, opts, sizeof(opts)));
	TH_LOG("/proc/mounts: %s %s %s", src, ty, opts);
	EXPECT_STREQ(DEV, src);
	snprintf(path, sizeof(path), "%s/%s", self->mnt, BIG);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	want = malloc(BIG_SIZE);
	ASSERT_NE(NULL, want);
	pattern(want, BIG_SIZE, BIG_SEED, 0);
	m = mmap(NULL, BIG_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	f0 = minflt();
	EXPECT_EQ(0, memcmp(m, want, BIG_SIZE));
	faults = minflt() - f0;
	TH_LOG("%ld page faults mapped the %u pages of %s", faults, BIG_SIZE / PAGE, BIG);
	if (dxt_kernel_version() >= 612)
		EXPECT_GE(4, faults) TH_LOG("2 MiB windows not PMD-mapped");
	munmap(m, BIG_SIZE);
	/* private mappings: 4 KiB pages, same bytes */
	m = mmap(NULL, BIG_SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(0, memcmp(m, want, BIG_SIZE));
	munmap(m, BIG_SIZE);
	close(fd);
	free(want);
}

TEST_F_TIMEOUT(devdax, daxfsctl_mount, 300)
{
	char out[8192], tool[PATH_MAX], opts[128];

	dxt_build_path(tool, sizeof(tool), "lib/daxfsctl");
	ASSERT_EQ(0, run(out, sizeof(out), tool, "mount", DEV, self->mnt, (char *)NULL))
		TH_LOG("%s", out);
	TH_LOG("%s", out);
	check_mount(_metadata, self);

	/* a second mount of the device: EBUSY */
	EXPECT_ERRNO(EBUSY, mount_src(DEV, self->work, MS_RDONLY, (char *)NULL));
	/* phys= and size= must be the device's range */
	snprintf(opts, sizeof(opts), "phys=%#llx,size=%llu",
		 (unsigned long long)self->start + PAGE, (unsigned long long)self->size - PAGE);
	EXPECT_ERRNO(EINVAL, mount_src(DEV, self->work, MS_RDONLY, opts));
	/* the range cannot be mounted as phys= either: device-dax claims it */
	snprintf(opts, sizeof(opts), "phys=%#llx,size=%llu", (unsigned long long)self->start,
		 (unsigned long long)self->size);
	EXPECT_ERRNO(EBUSY, mount_src("none", self->work, MS_RDONLY, opts));
	/*
	 * No size change under the mount: device-dax refuses it while bound
	 * (EBUSY), and a static device's (pmem) size is read-only (EACCES).
	 */
	{
		int r = write_sys(SYSDEV "/size", "0");

		TH_LOG("write 0 to %s/size: %s", SYSDEV, strerror(-r));
		EXPECT_TRUE(r == -EBUSY || r == -EACCES);
	}
	EXPECT_EQ(self->size, read_sys_u64(SYSDEV "/size"));
	/* device_dax cannot be unloaded: the mount holds the device open */
	EXPECT_NE(0, run(out, sizeof(out), "rmmod", "device_dax", (char *)NULL)) TH_LOG("rmmod device_dax succeeded under a mount");

	ASSERT_EQ(0, run(out, sizeof(out), tool, "umount", self->mnt, (char *)NULL)) TH_LOG("%s", out);
}

TEST_F_TIMEOUT(devdax, bad_input, 300)
{
	char opts[128];

	/* not a device-dax device */
	EXPECT_ERRNO(ENODEV, mount_src("/dev/null", self->mnt, MS_RDONLY, (char *)NULL));
	/* offset beyond the device, unaligned */
	snprintf(opts, sizeof(opts), "offset=%llu", (unsigned long long)self->size);
	EXPECT_ERRNO(EINVAL, mount_src(DEV, self->mnt, MS_RDONLY, opts));
	EXPECT_ERRNO(EINVAL, mount_src(DEV, self->mnt, MS_RDONLY, "offset=100"));
	/* an offset where there is no image */
	EXPECT_ERRNO(EINVAL, mount_src(DEV, self->mnt, MS_RDONLY, "offset=4096"));
	/* and it still mounts */
	ASSERT_EQ(0, mount_src(DEV, self->mnt, MS_RDONLY, (char *)NULL));
	EXPECT_EQ(0, umount_path(self->mnt, 0));
}


TEST_F_TIMEOUT(devdax, mount_helper, 300)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		char out[8192];
		int r = dxt_mount_helper_ns(self->work);

		if (r) {
			printf("# namespace setup failed: %d %s\n", r, strerror(errno));
			_exit(10);
		}
		r = run(out, sizeof(out), "/usr/bin/mount", "-t", "daxfs", DEV, self->mnt, (char *)NULL);
		if (r) {
			printf("# mount -t daxfs %s: exit %d: %s\n", DEV, r, out);
			_exit(11);
		}
		check_mount(_metadata, self);
		if (_metadata->exit_code)
			_exit(12);
		r = run(out, sizeof(out), "/usr/bin/umount", self->mnt, (char *)NULL);
		_exit(r ? 13 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * Unbinding device_dax under the mount cannot be refused: the mount goes
 * dead (mappings removed, SIGBUS; read() ENXIO) before the memory is
 * released; after the unmount the device binds again and mounts.
 */
TEST_F_TIMEOUT(devdax, unbind, 300)
{
	static const char *const needles[] = { "the device is unbinding", NULL };
	char path[PATH_MAX], line[512], c, buf[64];
	struct sigaction sa = { .sa_handler = touch_signal, .sa_flags = SA_NODEFER };
	unsigned char *m;
	int fd, kfd;

	ASSERT_EQ(0, mount_src(DEV, self->mnt, MS_RDONLY, (char *)NULL));
	snprintf(path, sizeof(path), "%s/%s", self->mnt, BIG);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	m = mmap(NULL, BIG_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, touch((char *)m, &c));
	kfd = kmsg_open();
	ASSERT_EQ(0, write_sys("/sys/bus/dax/drivers/device_dax/unbind", "dax0.0"));
	EXPECT_TRUE(kmsg_find(kfd, needles, line, sizeof(line)));
	TH_LOG("kernel: %s", line);
	close(kfd);
	sigaction(SIGBUS, &sa, NULL);
	EXPECT_EQ(SIGBUS, touch((char *)m, &c));
	EXPECT_EQ(SIGBUS, touch((char *)m + MB2 + PAGE, &c));
	EXPECT_EQ(-1, pread(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(ENXIO, errno);
	munmap(m, BIG_SIZE);
	close(fd);
	EXPECT_EQ(0, umount_path(self->mnt, 0));
	/* usable again */
	ASSERT_EQ(0, write_sys("/sys/bus/dax/drivers/device_dax/bind", "dax0.0"));
	for (int i = 0; i < 50 && access(DEV, F_OK); i++)
		usleep(100000);
	ASSERT_EQ(0, mount_src(DEV, self->mnt, MS_RDONLY, (char *)NULL));
	check_mount(_metadata, self);
	EXPECT_EQ(0, umount_path(self->mnt, 0));
}

TEST_HARNESS_MAIN
