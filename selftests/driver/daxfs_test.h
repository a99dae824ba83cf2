/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the driver-* tests (buffers, commands, files and probes
 * come from the test bed's library, selftests/lib/): image building,
 * /dev/daxfs ioctls, mounting (mount(2) and the fsopen/fsconfig API), tree
 * generation and comparison, pagemap/meminfo/kmsg probes.
 *
 * Nothing here uses the kselftest harness (it cannot be linked into two
 * translation units): functions return 0 or -errno and, where useful, write
 * a human-readable reason into a caller's buffer.  daxfs_harness.h adds the
 * harness-side glue.
 */
#ifndef DAXFS_TEST_H
#define DAXFS_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/daxfs.h>

#include "dxt_dmabuf.h"
#include "dxt_util.h"

#define ERRLEN 512
#define PAGE 4096UL

/* The running kernel as major * 100 + minor (612 for 6.12), 0 if unknown. */
int dxt_kernel_version(void);
/*
 * Is [addr, addr+size) an entry named @name in /proc/iomem: a top-level one,
 * or (@nested) one inside another?  (The addresses show only to root.)
 */
bool dxt_iomem_has(const char *name, uint64_t addr, uint64_t size, bool nested);
/* How make check boots the VM for the phys= and legacy pmem tests. */
#define DXT_MEMMAP_HINT \
	"boot with DAXFS_VM_APPEND='memmap=64M$0x60000000 memmap=64M!0x70000000'"

/* /sys/module/daxfs/refcnt, or -1 */
long module_refcnt(void);

/* /dev/daxfs (dxt_: test helpers, not the library's daxfs_import() and co.) */
int dxt_dev_open(void);		/* fd or -errno */
int dxt_import(int dev, int fd, uint64_t off, struct daxfs_import *out);
int dxt_release(int dev, uint64_t id);
int dxt_info(int dev, uint64_t id, struct daxfs_info *out);
/* raw ioctl, returns 0 or -errno */
int dxt_ioctl(int dev, unsigned long cmd, void *arg);

/* Mounting.  Return 0 or -errno. */
int mount_id(uint64_t id, const char *target, unsigned long flags, const char *opts);
int mount_src(const char *src, const char *target, unsigned long flags, const char *opts);
/* fsopen("daxfs") + fsconfig(FSCONFIG_SET_FD, "dmabuf", fd) + fsmount + move_mount. */
int mount_fd(int dmabuf_fd, const char *target, const char *const *extra_opts);
int sys_fsopen(const char *fs, unsigned int flags);
int sys_fsconfig(int fd, unsigned int cmd, const char *key, const void *val, int aux);
int sys_fsmount(int fd, unsigned int flags, unsigned int attr);
int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to, unsigned int flags);
int umount_path(const char *target, int flags);
/* MNT_DETACH everything mounted at or below prefix; returns how many. */
int umount_all_under(const char *prefix);
/* The /proc/self/mounts line of target: fields into the caller's buffers. */
int proc_mounts_find(const char *target, char *src, char *fstype, char *opts, size_t len);

/* Parse an image in memory: find path (relative, no leading '/'). */
struct daxfs_inode;
int image_lookup(const void *img, size_t len, const char *path, uint32_t *ino,
		 struct daxfs_inode *out);
uint32_t crc32c(uint32_t crc, const void *p, size_t n);	/* raw update */
/* Recompute the superblock CRC of an image in memory. */
int image_fix_crc(void *img, size_t len);

/* Trees */
struct gen_opts {
	bool big;		/* a > 1 MiB file */
	bool many;		/* a directory with many entries */
	bool special;		/* fifo, devices, socket */
	bool owners;		/* non-root uid/gid */
};
int gen_tree(const char *dir, const struct gen_opts *o, char *err, size_t len);
/*
 * src/ (gen_tree with o, or empty if o is NULL; then add(src) if add is
 * not NULL) and img (mkdaxfs
 * mkopts... img src) named name, built by the first test of the program
 * that asks and reused by the others (read only!), removed when the program
 * exits.  Paths into src and img.  add returns 0, or -1 with a reason.
 */
typedef int (*tree_add_fn)(const char *src, char *err, size_t len);
int shared_image(const char *name, const struct gen_opts *o, tree_add_fn add,
		 const char *const *mkopts, char *src, char *img, size_t plen,
		 char *err, size_t len);
/* Compare every entry (bytes and metadata).  0 or -1 with a reason. */
int compare_trees(const char *src, const char *mnt, char *err, size_t len, long *nentries);
int compare_files(const char *a, const char *b, char *err, size_t len);
int fill_file(const char *path, size_t size, unsigned int seed, mode_t mode);
/* A table of files (fill_file) to make in a directory. */
struct tree_file {
	const char *name;	/* relative to the directory */
	size_t size;
	unsigned int seed;
	mode_t mode;
};
int fill_files(const char *dir, const struct tree_file *f, size_t n, char *err, size_t len);
void pattern(void *p, size_t n, unsigned int seed, uint64_t off);

/* Probes */
int count_fds(void);
/* Wait up to secs seconds for path to appear: 0 or -ENOENT. */
int wait_for_path(const char *path, int secs);
/* PFN backing addr in this process (page touched first), 0 if none shown. */
uint64_t pagemap_pfn(const void *addr);
int drop_caches(void);
/* /dev/kmsg positioned at its end; kmsg_find reads new records. */
int kmsg_open(void);
bool kmsg_find(int fd, const char *const *needles, char *line, size_t len);

/*
 * A mounted image in a buffer: the usual setup of most tests.
 * mnt_setup: alloc a buffer of the image's size + extra, fill, import,
 * mount (mount(2), MS_RDONLY) at dir/mnt.  Each stage's error comes back
 * as -errno with a message.
 */
struct dxmount {
	struct dxt_buf buf;
	int dev;
	struct daxfs_import imp;
	char mnt[4096];
	bool mounted;
	bool imported;
};
void dxm_init(struct dxmount *m);
int dxm_setup(struct dxmount *m, enum dxt_exporter kind, const char *img, size_t extra,
	      const char *mnt, char *err, size_t len);
void dxm_teardown(struct dxmount *m);

/*
 * DAXFS_IOC_EXPORT_DMABUF on @fd (a file of a mount) for [off, off + len):
 * the new dma-buf fd (the whole struct as returned into out, may be NULL),
 * or -errno.
 */
int dxt_export(int fd, uint64_t off, uint64_t len, struct daxfs_export *out);
/*
 * The PFNs of @npages pages from @addr (each touched first; 0 for a page
 * not present or not walked, as in a PFN map) into out: 0 or -errno.
 */
int pagemap_pfns(const void *addr, size_t npages, uint64_t *out);
/* /sys/module/daxfs/parameters/meta_bytes, or -1 */
long long meta_bytes(void);
/* The value of "KEY:" in /proc/self/fdinfo/FD into val: 0, -ENOENT or -errno. */
int fdinfo_field(int fd, const char *key, char *val, size_t len);

/* "dir/name" in one of 8 rotating static buffers */
char *P(const char *dir, const char *name);
/*
 * Read *p into *out: 0, or the signal it raised (SIGBUS, SIGSEGV) when
 * touch_signal is that signal's handler (sigaction, no SA_NODEFER needed).
 */
void touch_signal(int sig);
int touch(const volatile char *p, char *out);

#endif
