/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal interfaces of libdaxfs-dmabuf.  Nothing here is exported from the
 * shared library (the version script lists only the public API); the tools
 * and the tests link the static archive and use these directly.  Every
 * internal symbol starts with daxfs__.  The daemon's own code (policy,
 * path checks, serving a request) is not in the library: see
 * daemon/daemon.h.
 */
#ifndef DAXFS_INTERNAL_H
#define DAXFS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "daxfs-dmabuf.h"

#define DX_PUBLIC __attribute__((visibility("default")))

/* ---- errors (error.c) -------------------------------------------------- */
/* Set the thread-local message; returns -err so callers can `return`. */
int daxfs__fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void daxfs__clear_error(void);

/* ---- mount internals (mount.c) ----------------------------------------- */
/*
 * Mount @dmabuf_fd onto the directory @target_fd (an O_PATH fd) when it is
 * >= 0, else onto @target.  The daemon uses the fd form so that nothing is
 * resolved again between its checks and the mount.
 */
int daxfs__mount_at(int dmabuf_fd, int target_fd, const char *target,
		    const struct daxfs_mount_opts *opts);
/* Copy @in (any caller size) into a full-size struct, zero-filling. */
void daxfs__opts_normalise(const struct daxfs_mount_opts *in,
			   struct daxfs_mount_opts *out);
#define DAXFS_ALLOWED_MS_FLAGS_ \
	(MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | \
	 MS_RELATIME | MS_STRICTATIME | MS_RDONLY | MS_SILENT)

/* ---- the kernel's reason from the kernel log (kmsg.c) ------------------- */
/*
 * A fallback for the kernel's reason (readable by root only): mark the log
 * before a mount or import, then the newest daxfs record since the mark
 * (false if none), then done (closes this thread's /dev/kmsg fd).
 */
void daxfs__kmsg_mark(void);
bool daxfs__kmsg_reason(char *out, size_t outlen);
void daxfs__kmsg_done(void);

/* ---- mount option strings (opts.c) -------------------------------------- */
#define DAXFS_OPT_MAX 4096

struct daxfs_parsed_opts {
	char image[DAXFS_OPT_MAX];	/* image= (empty: none) */
	enum daxfs_exporter exporter;	/* DAXFS_EXPORTER_* */
	char exporter_arg[256];		/* heap name or DRM device */
	bool hugetlb;			/* udmabuf with huge pages */
	uint64_t offset;		/* offset= */
	bool has_offset;
	unsigned long flags;		/* MS_* from generic options */
	bool rw;			/* "rw" was asked for */
	char kernel[DAXFS_OPT_MAX];	/* what is left for the kernel */
};
/*
 * Parse a mount(8) -o string.  Consumes image=, heap=, udmabuf,
 * udmabuf=hugetlb, drm=, offset= and the generic VFS flags; drops
 * user-space-only options (defaults, auto, user, nofail, x-*, ...);
 * everything else is appended to ->kernel.  Returns 0 or -EINVAL with a
 * message (daxfs_last_error()).
 */
int daxfs__parse_mount_options(const char *in, struct daxfs_parsed_opts *out);

/*
 * The daxfs_load_opts that parsed mount options ask for (exporter, offset,
 * flags, the options left for the kernel); @lo->size is set, the progress,
 * info and mountd fields are left zero.  @po must outlive @lo.
 */
void daxfs__load_opts_from_parsed(const struct daxfs_parsed_opts *po,
				  struct daxfs_load_opts *lo);
/* The same for daxfs_mount_device() (offset, flags, kernel options). */
void daxfs__mount_opts_from_parsed(const struct daxfs_parsed_opts *po,
				   struct daxfs_mount_opts *mo);

/* ---- the load pipeline (load.c) ------------------------------------------ */
/* Allocate @size bytes of dma-buf (or a stand-in), naming it in @name. */
typedef int (*daxfs__alloc_fn)(void *priv, size_t size, char *name, size_t namelen);
/*
 * daxfs_load_image() with @alloc instead of the exporter the options name
 * (NULL: those); the unit tests fill memfds through it.
 */
int daxfs__load_image_with(const char *image, const struct daxfs_load_opts *opts,
			   daxfs__alloc_fn alloc, void *priv);

/* ---- mountd wire protocol (proto.c) ------------------------------------- */
#define DAXFS_MOUNTD_MAGIC	0x52584d44u	/* "DMXR" little-endian */
#define DAXFS_MOUNTD_VERSION	1u
#define DAXFS_MOUNTD_TARGET_MAX	4096
#define DAXFS_MOUNTD_OPTS_MAX	1024
#define DAXFS_MOUNTD_MSG_MAX	256
/* header: magic u32, version u16, size u16 (sizeof the whole message / 8,
 * see below), flags u32, reserved u32, offset u64, mount flags u64 */
#define DAXFS_MOUNTD_REQ_HDR	32
#define DAXFS_MOUNTD_REQ_SIZE	(DAXFS_MOUNTD_REQ_HDR + DAXFS_MOUNTD_TARGET_MAX + \
				 DAXFS_MOUNTD_OPTS_MAX)
#define DAXFS_MOUNTD_REPLY_SIZE	(16 + DAXFS_MOUNTD_MSG_MAX)

struct daxfs_mountd_req {
	uint64_t offset;
	uint64_t ms_flags;
	char target[DAXFS_MOUNTD_TARGET_MAX];
	char options[DAXFS_MOUNTD_OPTS_MAX];
};

struct daxfs_mountd_reply {
	int32_t error;			/* 0 or a positive errno */
	char message[DAXFS_MOUNTD_MSG_MAX];
};

/* The client's half (proto.c); the daemon's is in daemon/daemon.h. */
int daxfs__req_encode(const struct daxfs_mountd_req *req,
		      uint8_t buf[DAXFS_MOUNTD_REQ_SIZE]);
int daxfs__reply_decode(const uint8_t *buf, size_t len,
			struct daxfs_mountd_reply *rep);

/* ---- mountinfo (mountinfo.c) -------------------------------------------- */
struct daxfs_mountinfo {
	char root[4096];		/* the directory of the file system mounted here */
	char mountpoint[4096];
	char source[512];
	char fstype[64];
	char mnt_opts[512];
	char super_opts[1024];
	unsigned int major, minor;
	int mount_id;
};
/* Parse one /proc/PID/mountinfo line; 0 or -EINVAL. */
int daxfs__mountinfo_parse_line(const char *line, struct daxfs_mountinfo *mi);

/* ---- reading (io.c) ---------------------------------------------------- */
/*
 * read(2) / pread(2) until @len bytes arrived or end of file, retrying on
 * EINTR and short reads.  Returns the bytes read (< @len only at end of
 * file) or -errno.
 */
ssize_t daxfs__read_full(int fd, void *buf, size_t len);
ssize_t daxfs__pread_full(int fd, void *buf, size_t len, uint64_t off);
/*
 * A small text file (/proc, sysfs, cgroupfs) into @buf of @len bytes,
 * NUL-terminated: the bytes read (at most @len - 1) or -errno.
 */
ssize_t daxfs__read_small(const char *path, char *buf, size_t len);

/* udmabuf's limit on one buffer, in MiB (0: not known); root may raise it. */
#define DAXFS_UDMABUF_LIMIT "/sys/module/udmabuf/parameters/size_limit_mb"
uint64_t daxfs__udmabuf_limit_mb(void);

/*
 * An image source: a regular file or a block device (seekable, known size,
 * read with pread) or anything else read() works on, a pipe, a FIFO, a
 * socket, a character device (a stream: read from its current position,
 * size unknown).
 */
struct daxfs_source {
	int fd;
	bool seekable;
	uint64_t size;			/* seekable only */
	const char *noun;		/* "file", "device", "stream", for messages */
};
/* Describe @fd; 0 or -errno (no message; a directory is -EISDIR). */
int daxfs__source_init(struct daxfs_source *src, int fd);
/*
 * Copy @len bytes of @src into @dst: seekable sources from byte @src_off,
 * streams from their current position.  After each chunk @progress (if
 * not NULL) gets @done0 + the bytes copied so far and @total.  Returns
 * the bytes copied, fewer than @len only at end of file, or -errno with a
 * message ("read image: ...").
 */
int64_t daxfs__copy_in(uint8_t *dst, const struct daxfs_source *src, uint64_t src_off,
		       uint64_t len, uint64_t done0, uint64_t total,
		       daxfs_progress_fn progress, void *arg);
/*
 * The error for a daxfs image whose superblock claims @image_size bytes
 * when @src has only @have: -ENODATA, "truncated: image_size N, file has M
 * bytes" ("device has", "stream ended after" for the other kinds).
 */
int daxfs__fail_truncated(uint64_t image_size, const struct daxfs_source *src, uint64_t have);
/* The public description of a superblock (4096 bytes, magic checked by the caller). */
void daxfs__desc_from_super(const void *sb, struct daxfs_image_desc *desc);
/* DMA_BUF_IOCTL_SYNC with retries; 0 (also for fds that are not dma-bufs) or -errno. */
int daxfs__dmabuf_sync(int fd, uint64_t flags);
size_t daxfs__page_size(void);

/* ---- available memory (memavail.c) ----------------------------------------- */
/* Where the memory figures come from; a NULL field means the real file. */
struct daxfs_mem_env {
	const char *meminfo;		/* /proc/meminfo */
	const char *mountinfo;		/* /proc/self/mountinfo (cgroup file systems) */
	const char *cgroup;		/* /proc/self/cgroup */
	const char *hugepages;		/* /sys/kernel/mm/hugepages/hugepages-2048kB */
};
/*
 * The bytes a new buffer can take: MemAvailable, lowered by the headroom
 * (limit - usage) of the caller's memory cgroup and each of its ancestors
 * (v2 memory.max - memory.current; v1 memory.limit_in_bytes -
 * memory.usage_in_bytes); with @hugetlb instead the free 2 MiB huge pages
 * not reserved for a mapping (free_hugepages - resv_hugepages).
 * UINT64_MAX when nothing is known.  @why (if not NULL) names the figure
 * that gave the result.
 */
uint64_t daxfs__mem_available(const struct daxfs_mem_env *env, bool hugetlb,
			      char *why, size_t whylen);
/* The parsers (fuzz-meminfo): 0 or -EINVAL / -ENOENT. */
/* "Key:   N kB" of /proc/meminfo (or a bare "Key: N"), in bytes. */
int daxfs__meminfo_value(const char *text, const char *key, uint64_t *bytes);
/*
 * The caller's cgroup path in /proc/self/cgroup text: the v2 line
 * ("0::/path") with @v1_controller NULL, else the v1 line whose controller
 * list holds @v1_controller.
 */
int daxfs__cgroup_path(const char *text, const char *v1_controller, char *out, size_t outlen);
/* A cgroup limit or counter file: a decimal number, or "max" (UINT64_MAX). */
int daxfs__cgroup_number(const char *text, uint64_t *v);

/* ---- daxfs-mountd client (mountd.c) ------------------------------------- */
/* Send a request with @dmabuf_fd over a connected socket and wait for the
 * reply (used by daxfs_mountd_request and the tests). */
int daxfs__mountd_client(int sock, int dmabuf_fd, const char *target,
			 const struct daxfs_mount_opts *opts, int timeout_ms);

/* ---- misc (util.c) ----------------------------------------------------- */
size_t daxfs__strlcpy(char *dst, const char *src, size_t size);
int daxfs__parse_u64(const char *s, uint64_t *out);	/* decimal/0x, K/M/G suffixes */

#endif /* DAXFS_INTERNAL_H */
