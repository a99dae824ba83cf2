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
#define DAXFS_DMABUF_VERSION_MINOR 3
#define DAXFS_DMABUF_VERSION_STRING "1.3.0"

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
/*
 * Mount a DAX device: a device-dax character device (/dev/daxX.Y, whose
 * physical range the kernel takes from the device) or a DAX-capable block
 * device (/dev/pmemN), given by absolute path; opts->offset places the image
 * in it (daxfs_mount_device(3)).
 */
int daxfs_mount_device(const char *device, const char *target,
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

/*
 * Loading an image file into a new dma-buf and mounting it: the whole
 * pipeline in one call (daxfs_mount_image(3)).  The image is validated with
 * the module's own validator before anything is allocated; the buffer is
 * exactly offset + image_size bytes (rounded up to the page size).
 */
enum daxfs_exporter {
	DAXFS_EXPORTER_AUTO = 0,	/* heap "system", then udmabuf, then each DRM card;
					 * daxfs_mount_image(): a hugetlb udmabuf first
					 * when free 2 MiB pages hold the image */
	DAXFS_EXPORTER_HEAP = 1,	/* exporter_arg: heap name (NULL: "system") */
	DAXFS_EXPORTER_UDMABUF = 2,	/* DAXFS_LOAD_HUGETLB for 2 MiB pages */
	DAXFS_EXPORTER_DRM = 3,		/* exporter_arg: DRM device node (required) */
};

#define DAXFS_LOAD_HUGETLB	0x1u	/* udmabuf: back the memfd with 2 MiB huge pages */
#define DAXFS_LOAD_MOUNTD	0x2u	/* mount through daxfs-mountd(8) at mountd_socket */
#define DAXFS_LOAD_DRY_RUN	0x4u	/* validate and size only: allocate and mount nothing */
#define DAXFS_LOAD_NO_MEMCHECK	0x8u	/* skip the comparison with the available memory */

/* Where daxfs_mount_image() stopped (struct daxfs_load_info.stage). */
enum daxfs_load_stage {
	DAXFS_STAGE_ARGS = 0,	/* bad arguments: nothing was opened */
	DAXFS_STAGE_IMAGE,	/* opening, reading or validating the image, also during the copy */
	DAXFS_STAGE_MEMORY,	/* the buffer would exceed the memory available */
	DAXFS_STAGE_ALLOC,	/* the exporter could not allocate the buffer */
	DAXFS_STAGE_FILL,	/* mapping or synchronising the buffer */
	DAXFS_STAGE_MOUNT,	/* the kernel or daxfs-mountd refused the mount */
	DAXFS_STAGE_DONE,	/* success */
};

/*
 * Results.  Set size to sizeof(struct daxfs_load_info); the library writes
 * no more than that many bytes, so the struct can grow.
 */
struct daxfs_load_info {
	size_t size;			/* sizeof(struct daxfs_load_info) */
	unsigned int stage;		/* enum daxfs_load_stage */
	uint64_t buffer_size;		/* bytes asked of the exporter, 0 if none */
	struct daxfs_image_desc desc;	/* the image's superblock, once it was read */
	char exporter[128];		/* "heap:system", "udmabuf", "drm:/dev/dri/card0" */
};

/* Options.  Set size to sizeof(struct daxfs_load_opts), as for daxfs_mount_opts. */
struct daxfs_load_opts {
	size_t size;			/* sizeof(struct daxfs_load_opts) */
	unsigned int exporter;		/* enum daxfs_exporter */
	unsigned int flags;		/* DAXFS_LOAD_* */
	const char *exporter_arg;	/* heap name or DRM device, see enum daxfs_exporter */
	uint64_t offset;		/* image offset in the buffer (page-aligned) */
	unsigned long mount_flags;	/* MS_* as struct daxfs_mount_opts.flags */
	const char *mount_options;	/* extra comma-separated fs options, or NULL */
	const char *mountd_socket;	/* DAXFS_LOAD_MOUNTD: NULL = DAXFS_MOUNTD_SOCKET */
	daxfs_progress_fn progress;	/* called during the copy, or NULL */
	void *progress_arg;
	struct daxfs_load_info *info;	/* filled in when not NULL */
};

/* Validate @image, allocate, fill, mount on @target; @opts may be NULL. */
int daxfs_mount_image(const char *image, const char *target,
		      const struct daxfs_load_opts *opts);
/* The same without the mount: returns the filled dma-buf fd (O_CLOEXEC). */
int daxfs_load_image(const char *image, const struct daxfs_load_opts *opts);

/* /dev/daxfs wrappers (daxfs_import(3)) */
int daxfs_ctl_open(void);
int daxfs_import(int ctl_fd, int dmabuf_fd, uint64_t offset,
		 struct daxfs_import *out);
int daxfs_import_info(int ctl_fd, uint64_t id, struct daxfs_info *out);
int daxfs_release(int ctl_fd, uint64_t id);

/*
 * A file of a daxfs mount back out as a dma-buf (daxfs_export_dmabuf(3)):
 * a new read-only dma-buf of the file's bytes [offset, offset + length)
 * (length 0: to the end of the file), made of the mounted buffer's own
 * pages.  @offset must be a multiple of the page size; the buffer's size,
 * @length rounded up to the page size, goes to @size if it is not NULL.
 * Returns the dma-buf's fd (close-on-exec).  Only mounts of a dma-buf
 * export.
 */
int daxfs_export_dmabuf(int fd, uint64_t offset, uint64_t length, uint64_t *size);
/* The same for the file at @path (opened read-only for the call). */
int daxfs_export_dmabuf_path(const char *path, uint64_t offset, uint64_t length,
			     uint64_t *size);

/* Fd passing to daxfs-mountd(8) (daxfs_mountd_request(3)); NULL socket_path = default */
int daxfs_mountd_request(const char *socket_path, int dmabuf_fd,
			 const char *target,
			 const struct daxfs_mount_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* DAXFS_DMABUF_H */
