// SPDX-License-Identifier: GPL-2.0
/*
 * driver-phys: the two non-dma-buf sources.
 *
 *   mount -t daxfs -o phys=ADDR,size=SIZE none /mnt   RAM kept from the kernel
 *                                                     by memmap=SIZE$ADDR
 *   mount -t daxfs /dev/pmem0 /mnt                    a legacy pmem region from
 *                                                     memmap=SIZE!ADDR
 *
 * The VM must boot with (selftests/vm/run):
 *
 *   DAXFS_VM_APPEND='memmap=64M$0x60000000 memmap=64M!0x70000000'
 *
 * (overridable in the guest with DAXFS_PHYS=ADDR,SIZE and DAXFS_PMEM=ADDR,SIZE).
 * Without them the tests skip, except under CI=true where they fail.
 *
 * The image is written into the reserved RAM through /dev/mem: with
 * STRICT_DEVMEM, x86 still allows /dev/mem on ranges that are neither System
 * RAM nor claimed busy (e820 "Reserved" is not busy until a driver requests
 * it).  Into pmem it is written with write(2) on /dev/pmem0.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "daxfs_harness.h"
#include "daxfs_format.h"

#define DATA "three-pages-and-100"
#define DATA_SIZE (3 * 4096 + 100)
#define DATA_SEED 5

/* Parse "ADDR,SIZE" (env) or the default. */
static void range_from(const char *env, uint64_t def_addr, uint64_t def_size, uint64_t *addr,
		       uint64_t *size)
{
	const char *e = getenv(env);

	*addr = def_addr;
	*size = def_size;
	if (e && *e) {
		char *end;

		*addr = strtoull(e, &end, 0);
		if (*end == ',')
			*size = strtoull(end + 1, NULL, 0);
	}
}

FIXTURE(phys) {
	char work[64];
	char src[128], img[128], mnt[128];
	void *image;
	size_t image_len;
	struct daxfs_baseline base;
};

FIXTURE_SETUP(phys)
{
	struct gen_opts o = { .special = true, .owners = true, .many = true };

	self->work[0] = 0;
	self->image = NULL;
	FIXTURE_WORKDIR_SETUP(self);
	GEN_TREE(self->src, &o);
	MKIMAGE(self->img, self->src, NULL);
	IMAGE_COPY(self, image_len);
}

/* in the parent, once the test's process is gone: paths and numbers only */
FIXTURE_TEARDOWN_PARENT(phys)
{
	WORKDIR_TEARDOWN(self);
}


/* The mounted tree is the source; a file's pages are the range's own. */
static void check_mount(struct __test_metadata *_metadata, FIXTURE_DATA(phys) *self,
			uint64_t data_phys)
{
	struct daxfs_inode in;
	struct statfs s;
	char err[ERRLEN], path[PATH_MAX], want[DATA_SIZE];
	char *m;
	int fd;

	EXPECT_EQ(0, compare_trees(self->src, self->mnt, err, sizeof(err), NULL)) {
		TH_LOG("%s", err);
	}
	ASSERT_EQ(0, statfs(self->mnt, &s));
	EXPECT_EQ(DAXFS_FS_MAGIC, (unsigned long)s.f_type);
	ASSERT_EQ(0, image_lookup(self->image, self->image_len, DATA, NULL, &in));
	snprintf(path, sizeof(path), "%s/%s", self->mnt, DATA);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	/* private: pagemap walks it (a shared mapping is a PFN map) */
	m = mmap(NULL, 4 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	pattern(want, DATA_SIZE, DATA_SEED, 0);
	EXPECT_EQ(0, memcmp(m, want, DATA_SIZE));
	for (int i = 0; i < 4; i++) {
		uint64_t pfn = pagemap_pfn(m + i * PAGE);
		uint64_t exp = (data_phys + le64toh(in.offset) + i * PAGE) / PAGE;

		TH_LOG("page %d: pfn 0x%llx, the range's page 0x%llx", i,
		       (unsigned long long)pfn, (unsigned long long)exp);
		EXPECT_EQ(exp, pfn);
	}
	munmap(m, 4 * PAGE);
	close(fd);
}

TEST_F_TIMEOUT(phys, phys_range, 120)
{
	uint64_t addr, size;
	char opts[128], src[256], ty[256], o[256];
	int fd;
	ssize_t k;
	uint8_t *back;

	range_from("DAXFS_PHYS", 0x60000000, 64 << 20, &addr, &size);
	NEED(dxt_iomem_has("Reserved", addr, size, false),
	     "no reserved RAM at 0x%llx+0x%llx in /proc/iomem: %s",
	     (unsigned long long)addr, (unsigned long long)size, DXT_MEMMAP_HINT);
	ASSERT_LE(self->image_len, size);
	fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
	ASSERT_LE(0, fd) {
		TH_LOG("/dev/mem: %s", strerror(errno));
	}
	k = pwrite(fd, self->image, self->image_len, addr);
	if (k != (ssize_t)self->image_len)
		TH_LOG("writing the image to /dev/mem at 0x%llx: %zd, %s",
		       (unsigned long long)addr, k, strerror(errno));
	ASSERT_EQ((ssize_t)self->image_len, k);
	back = malloc(self->image_len);
	ASSERT_NE(NULL, back);
	ASSERT_EQ((ssize_t)self->image_len, pread(fd, back, self->image_len, addr));
	EXPECT_EQ(0, memcmp(back, self->image, self->image_len));
	free(back);
	close(fd);

	/* bad ranges first */
	snprintf(opts, sizeof(opts), "phys=0x%llx", (unsigned long long)addr);
	EXPECT_ERRNO(EINVAL, mount_src("none", self->mnt, MS_RDONLY, opts));	/* no size */
	snprintf(opts, sizeof(opts), "phys=0x%llx,size=%llu", (unsigned long long)addr + 1,
		 (unsigned long long)size - PAGE);
	EXPECT_ERRNO(EINVAL, mount_src("none", self->mnt, MS_RDONLY, opts));	/* unaligned */
	snprintf(opts, sizeof(opts), "phys=0x1000000,size=%llu", (unsigned long long)size);
	EXPECT_ERRNO(EINVAL, mount_src("none", self->mnt, MS_RDONLY, opts));	/* System RAM */

	snprintf(opts, sizeof(opts), "phys=0x%llx,size=%llu", (unsigned long long)addr,
		 (unsigned long long)size);
	ASSERT_OK_MSG(mount_src("none", self->mnt, MS_RDONLY, opts), opts);
	ASSERT_EQ(0, proc_mounts_find(self->mnt, src, ty, o, sizeof(src)));
	TH_LOG("/proc/mounts: %s %s %s", src, ty, o);
	EXPECT_NE(NULL, strstr(o, "phys="));
	check_mount(_metadata, self, addr);
	/* the same range mounted twice */
	{
		char m2[160];

		snprintf(m2, sizeof(m2), "%s/m2", self->work);
		ASSERT_EQ(0, mkdir(m2, 0755));
		EXPECT_EQ(0, mount_src("none", m2, MS_RDONLY, opts));
		umount_path(m2, 0);
	}
	EXPECT_EQ(0, umount_path(self->mnt, 0));
}

TEST_F_TIMEOUT(phys, pmem_dax, 120)
{
	uint64_t addr, size;
	const char *mp[] = { "modprobe", "-q", "nd_e820", NULL };
	const char *mp2[] = { "modprobe", "-q", "nd_pmem", NULL };
	char src[256], ty[256], o[256];
	ssize_t k;
	int fd;

	range_from("DAXFS_PMEM", 0x70000000, 64 << 20, &addr, &size);
	NEED(dxt_iomem_has("Persistent Memory (legacy)", addr, size, false),
	     "no legacy pmem at 0x%llx+0x%llx in /proc/iomem: %s",
	     (unsigned long long)addr, (unsigned long long)size, DXT_MEMMAP_HINT);
	dxt_run_cmd(mp, NULL, 0);
	dxt_run_cmd(mp2, NULL, 0);
	ASSERT_EQ(0, wait_for_path("/dev/pmem0", 10)) {
		TH_LOG("no /dev/pmem0 after modprobe nd_e820 nd_pmem");
	}
	fd = open("/dev/pmem0", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	k = pwrite(fd, self->image, self->image_len, 0);
	ASSERT_EQ((ssize_t)self->image_len, k);
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	ASSERT_OK_MSG(mount_src("/dev/pmem0", self->mnt, MS_RDONLY, NULL), "mount /dev/pmem0");
	ASSERT_EQ(0, proc_mounts_find(self->mnt, src, ty, o, sizeof(src)));
	TH_LOG("/proc/mounts: %s %s %s", src, ty, o);
	EXPECT_STREQ("/dev/pmem0", src);
	/* raw legacy e820 pmem: data starts at the region's start */
	check_mount(_metadata, self, addr);
	/* the block device is busy while mounted */
	fd = open("/dev/pmem0", O_RDWR | O_EXCL | O_CLOEXEC);
	EXPECT_EQ(-1, fd);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(0, umount_path(self->mnt, 0));
	/* a corrupt image on the device: refused */
	fd = open("/dev/pmem0", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(4, pwrite(fd, "XXXX", 4, 0));
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	EXPECT_ERRNO(EINVAL, mount_src("/dev/pmem0", self->mnt, MS_RDONLY, NULL));
}

TEST_HARNESS_MAIN
