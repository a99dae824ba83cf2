/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libdaxfs-dmabuf: mount a daxfs image that lives in a dma-buf.
 *
 * Every function that returns int returns 0 (or a non-negative fd / value)
 * on success and a negative errno on failure; errno is left unspecified.
 * daxfs_last_error() then gives a human-readable reason, for mounts the
 * kernel's own message when it provided one.  See daxfs_mount_dmabuf(3).
 */
#ifndef DAXFS_DMABUF_H
#define DAXFS_DMABUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/daxfs.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DAXFS_DMABUF_VERSION_MAJOR 1
#define DAXFS_DMABUF_VERSION_MINOR 0
#define DAXFS_DMABUF_VERSION_STRING "1.0.0"

/* The default socket of daxfs-mountd(8). */
#define DAXFS_MOUNTD_SOCKET "/run/daxfs-mountd.sock"

/*
 * Extended mount options.  Set size to sizeof(struct daxfs_mount_opts);
 * later versions only append fields, and fields past the caller's size
 * are taken as zero.
 */
struct daxfs_mount_opts {
	size_t size;		/* sizeof(struct daxfs_mount_opts) */
	uint64_t offset;	/* byte offset of the image in the buffer (page-aligned) */
	unsigned long flags;	/* MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
				 * MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;
				 * MS_RDONLY is always implied */
	const char *options;	/* extra comma-separated fs options, or NULL */
};

/* Mounting (daxfs_mount_dmabuf(3)) */
int daxfs_mount_dmabuf(int dmabuf_fd, const char *target);
int daxfs_mount_dmabuf_opts(int dmabuf_fd, const char *target,
			    const struct daxfs_mount_opts *opts);
int daxfs_umount(const char *target);
const char *daxfs_last_error(void);
const char *daxfs_version(void);

/* Buffers (daxfs_dmabuf_alloc_heap(3)) */
#define DAXFS_UDMABUF_HUGETLB	0x1u	/* back the memfd with 2 MiB huge pages */

int daxfs_dmabuf_alloc_heap(const char *heap_name, size_t size);
int daxfs_dmabuf_alloc_udmabuf(size_t size, unsigned int flags);
int daxfs_dmabuf_alloc_drm(const char *device, size_t size);
/*
 * Try heap "system", then udmabuf, then each /dev/dri/card* in turn.
 * On success the exporter used ("heap:system", "udmabuf", "drm:/dev/dri/card0")
 * is written to @chosen if it is not NULL.
 */
int daxfs_dmabuf_alloc_auto(size_t size, char *chosen, size_t chosen_len);
/* Size of a dma-buf in bytes, or a negative errno. */
int64_t daxfs_dmabuf_size(int dmabuf_fd);

/* Filling (daxfs_dmabuf_fill(3)) */
typedef void (*daxfs_progress_fn)(uint64_t done, uint64_t total, void *arg);

int daxfs_dmabuf_fill(int dmabuf_fd, int image_fd, off_t offset,
		      daxfs_progress_fn progress, void *arg);

struct daxfs_image_desc {
	uint64_t image_size;	/* from the superblock */
	uint32_t version;
	uint32_t inode_count;
	uint8_t uuid[DAXFS_UUID_LEN];
	char label[DAXFS_LABEL_LEN + 1];
};
/* Read the superblock at @offset of a file or a dma-buf.  -EINVAL: no daxfs magic. */
int daxfs_image_probe(int fd, off_t offset, struct daxfs_image_desc *desc);

/* /dev/daxfs wrappers (daxfs_import(3)) */
int daxfs_ctl_open(void);
int daxfs_import(int ctl_fd, int dmabuf_fd, uint64_t offset,
		 struct daxfs_import *out);
int daxfs_import_info(int ctl_fd, uint64_t id, struct daxfs_info *out);
int daxfs_release(int ctl_fd, uint64_t id);

/* Fd passing to daxfs-mountd(8) (daxfs_mountd_request(3)); NULL socket_path = default */
int daxfs_mountd_request(const char *socket_path, int dmabuf_fd,
			 const char *target,
			 const struct daxfs_mount_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* DAXFS_DMABUF_H */
