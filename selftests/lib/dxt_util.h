/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test bed's small helpers, shared by every C test (selftests/driver,
 * selftests/fuzz-kernel, selftests/library, selftests/smoke): running a
 * command, files and trees, sysfs and /proc probes, the source tree.
 *
 * Nothing here uses the kselftest harness: functions return 0 or -errno
 * (or what they say) and, where useful, write a reason into a caller's
 * buffer.  Every name starts with dxt_ (never daxfs_: that is the
 * library's public API).
 */
#ifndef DXT_UTIL_H
#define DXT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DXT_PAGE 4096UL

static inline size_t dxt_round_up_page(size_t n)
{
	return (n + DXT_PAGE - 1) & ~(DXT_PAGE - 1);
}

/* An fd closed when it goes out of scope (if open): int fd DXT_AUTOCLOSE = open(...). */
void dxt_closep(int *fd);
#define DXT_AUTOCLOSE __attribute__((cleanup(dxt_closep)))

/* CI=true: a test must not skip for lack of what the matrix provides. */
bool dxt_ci(void);

/*
 * Run argv (PATH searched) with stdin_fd as its standard input (-1:
 * /dev/null), stdout+stderr into out (NUL-terminated, may be NULL).
 * Returns the exit status, 128 + the signal that killed it, or -errno.
 */
int dxt_run(const char *const argv[], int stdin_fd, char *out, size_t len);
static inline int dxt_run_cmd(const char *const argv[], char *out, size_t len)
{
	return dxt_run(argv, -1, out, len);
}
/* waitpid (EINTR retried): the exit status, 128 + the signal, or -errno. */
int dxt_wait(pid_t pid);

/*
 * A second process that truncates path to size when told, for loads that
 * must notice a file shrinking under them: dxt_shrinker_progress is the
 * load's progress callback (arg: the shrinker); its first call tells the
 * process and waits until the file is truncated.
 */
struct dxt_shrinker {
	pid_t pid;
	int go, done;		/* pipes to and from the process */
	int calls;		/* of dxt_shrinker_progress */
};
/* 0 or -errno (then dxt_shrinker_end is still safe). */
int dxt_shrinker_start(struct dxt_shrinker *s, const char *path, off_t size);
void dxt_shrinker_progress(uint64_t done, uint64_t total, void *arg);
/* Its exit status: 0 when it truncated the file. */
int dxt_shrinker_end(struct dxt_shrinker *s);

/* Read fd to its end into out (NUL-terminated, the rest dropped). */
size_t dxt_read_fd(int fd, char *out, size_t len);
/* Read exactly n bytes from fd (EINTR retried); 0, or -errno / -EIO at EOF. */
int dxt_read_full(int fd, void *p, size_t n);

/* Small files: the first len-1 bytes, NUL-terminated, trailing newlines
 * dropped by dxt_read_sysfs only.  0 (dxt_read_file: bytes read) or -errno. */
int dxt_read_sysfs(const char *path, char *buf, size_t len);
int dxt_write_sysfs(const char *path, const char *val);
int dxt_read_file(const char *path, char *buf, size_t len);
int dxt_write_file(const char *path, const void *p, size_t n);
/* The value of "KEY" (with its colon, e.g. "MemAvailable:") in /proc/meminfo, in kB, or -1. */
long dxt_meminfo_kb(const char *key);
/* Number of live dma-bufs per debugfs bufinfo, or -1 if unavailable. */
long dxt_dmabuf_count(void);

off_t dxt_file_size(const char *path);		/* or -errno */
/* A private read-only mapping of a whole non-empty file, or NULL. */
void *dxt_map_file(const char *path, size_t *len);
/* open(path, O_RDONLY) and its size: the fd, or -errno. */
int dxt_open_sized(const char *path, off_t *size);
/* The end of writing a file: fchmod(fd, mode) (umask-proof), close; r, or
 * the chmod's -errno if r was 0. */
int dxt_close_file(int fd, mode_t mode, int r);
/* Read a whole file (malloc); 0 or -errno. */
int dxt_slurp(const char *path, uint8_t **out, size_t *len);
/* Copy the first max bytes (-1: all) of from to to, created with mode. 0 or -errno. */
int dxt_copy_file(const char *from, const char *to, off_t max, mode_t mode);
/* rm -rf without a fork (staying on one file system); 0 or -1. */
int dxt_rm_rf(const char *path);
/* A fresh /tmp/PREFIX.XXXXXX into out; 0 or -errno. */
int dxt_make_workdir(const char *prefix, char *out, size_t len);

/*
 * A child cgroup with the memory controller, for tests of memory charging:
 * cgroup2 is mounted at mnt when /sys/fs/cgroup is not one, the memory
 * controller enabled in the root's subtree_control when it is not, and
 * ROOT/name made.
 */
struct dxt_memcg {
	char root[256];		/* /sys/fs/cgroup, or mnt */
	char child[512];	/* root/name */
	bool mounted;		/* cgroup2 mounted at root by us */
	bool enabled;		/* +memory written by us */
};
/* 0, -ENODEV without cgroup2 in the kernel, else -errno with a reason in
 * err; on failure nothing is left behind. */
int dxt_memcg_setup(struct dxt_memcg *cg, const char *mnt, const char *name,
		    char *err, size_t len);
/* Remove the child, undo what the setup did; 0 or the child's rmdir -errno. */
int dxt_memcg_teardown(struct dxt_memcg *cg);
/* Write / read a cgroup's file (dir/file): 0 or -errno; the number, or -1. */
int dxt_cg_write(const char *dir, const char *file, const char *val);
long long dxt_cg_read(const char *dir, const char *file);

/* The source tree: $DAXFS_SRC, else found from /proc/self/exe (exits if neither). */
const char *dxt_src_dir(void);
/* $DAXFS_SRC/build/REL into out. */
void dxt_build_path(char *out, size_t len, const char *rel);
/* $DAXFS_MKDAXFS, else the tree's build/tools/mkdaxfs. */
const char *dxt_mkdaxfs_path(void);
/* mkdaxfs [opts...] IMAGE SOURCE; returns 0 or -1 with the output in err. */
int dxt_mkimage(const char *img, const char *src, const char *const *opts, char *err, size_t len);

/* A private mount namespace where mount(8) finds this tree's mount.daxfs. */
int dxt_mount_helper_ns(const char *dir);

/*
 * A free loop device over the file @backing, opened with @flags (O_DIRECT
 * for I/O that pins user pages), LO_FLAGS_AUTOCLEAR: detached with its last
 * close.  The fd, or -errno with the reason in err.
 */
int dxt_loop_open(const char *backing, int flags, char *err, size_t len);

#endif
