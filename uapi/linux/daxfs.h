/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * daxfs: ioctls of the misc device /dev/daxfs, and of files of a mount.
 *
 * A privileged process imports a dma-buf that holds a daxfs image; the
 * module takes its own reference to the buffer, maps it, validates the image
 * and returns an import id.  The id is then the mount source:
 *
 *	mount -t daxfs dmabuf:ID /mnt
 *
 * Imports belong to the open file of /dev/daxfs that made them: closing it
 * releases every import that is not mounted (a mount keeps its own
 * reference to the buffer, so the import may go once mounted).
 *
 * Every argument struct starts with argsz, the size of the struct as the
 * caller knows it, so that it can grow: the kernel accepts any argsz from
 * the version-1 size (else EINVAL) up to the page size (else E2BIG),
 * requires bytes it does not know to be zero (else E2BIG) and writes back
 * at most argsz bytes.  Unknown flags and non-zero reserved fields give
 * EINVAL.
 *
 * A command must have the type, number and direction defined below, and a
 * size (_IOC_SIZE) from that of the version-1 struct up to the page size;
 * any other command fails with ENOTTY.
 */
#ifndef _UAPI_LINUX_DAXFS_H
#define _UAPI_LINUX_DAXFS_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define DAXFS_DEV_NAME		"daxfs"
#define DAXFS_FS_MAGIC		0x53465844	/* statfs f_type, == image magic */
#define DAXFS_EXPORTER_LEN	32
#define DAXFS_LABEL_LEN		64
#define DAXFS_UUID_LEN		16

/*
 * DAXFS_IOC_IMPORT: import the dma-buf @fd; the image starts @offset bytes
 * into the buffer (a multiple of the page size).
 * Errors: EBADF bad fd, EINVAL fd is not a dma-buf / bad flags / offset not
 * page-aligned or beyond the buffer, EFBIG image larger than the buffer,
 * EUCLEAN corrupt image, EOPNOTSUPP unsupported version or feature,
 * EMFILE more than 64 imports on this open file, ENOSPC 1024 imports in
 * total or the image's metadata copy would exceed the module-wide budget
 * (module parameter max_meta_mb, default RAM/8; what is held is in
 * /sys/module/daxfs/parameters/meta_bytes), E2BIG argsz larger than known
 * with non-zero bytes beyond or above the page size, ENOMEM (also metadata
 * above INT_MAX bytes).
 * The metadata copy is charged to the importer's memory cgroup.
 * The kernel log names the buffer and the validator's reason on refusal.
 *
 * Mounting an id that is unknown or released fails with ENOENT.
 */
struct daxfs_import {
	__u32 argsz;		/* in: sizeof(struct daxfs_import) */
	__u32 flags;		/* in: 0 */
	__s32 fd;		/* in: dma-buf fd */
	__u32 reserved0;	/* in: 0 */
	__u64 offset;		/* in: byte offset of the image in the buffer */
	__u64 id;		/* out: import id, > 0 */
	__u64 image_size;	/* out: bytes used by the image */
	__u64 buffer_size;	/* out: bytes in the dma-buf */
	char exporter[DAXFS_EXPORTER_LEN];	/* out: exporter name, NUL-terminated */
};

/* DAXFS_IOC_RELEASE: drop an import.  ENOENT if unknown to this file. */
struct daxfs_release {
	__u32 argsz;
	__u32 flags;		/* 0 */
	__u64 id;
};

/* DAXFS_IOC_INFO: describe an import of this file.  ENOENT if unknown. */
struct daxfs_info {
	__u32 argsz;
	__u32 flags;		/* in: 0 */
	__u64 id;		/* in */
	__u64 offset;		/* out */
	__u64 image_size;	/* out */
	__u64 buffer_size;	/* out */
	__u32 inode_count;	/* out */
	__u32 mounts;		/* out: live mounts made from this import */
	__u8 uuid[DAXFS_UUID_LEN];		/* out */
	char label[DAXFS_LABEL_LEN + 1];	/* out, NUL-terminated */
	char exporter[DAXFS_EXPORTER_LEN];	/* out, NUL-terminated */
	__u8 reserved1[7];	/* out: 0 */
};

/*
 * DAXFS_IOC_EXPORT_DMABUF, on an open regular file of a daxfs mount (not on
 * /dev/daxfs): a new dma-buf holding bytes [offset, offset + size) of the
 * file, made of the mounted buffer's own pages: no copy.  @offset must be a
 * multiple of the page size; @length 0 means "to the end of the file"; the
 * dma-buf's size is @length rounded up to the page size (the bytes of the
 * file's last page past its end are what the image holds there, as for
 * mmap()).  The range must lie inside the file's pages.
 *
 * The new buffer is read-only: its mmap() refuses PROT_WRITE with EACCES,
 * a CPU write bracket (DMA_BUF_IOCTL_SYNC with DMA_BUF_SYNC_WRITE) fails
 * with EPERM, and devices get mappings the exporter makes for reading
 * (DMA_TO_DEVICE: read-only where an IOMMU enforces it).  It holds the
 * mounted buffer: unmounting succeeds, and the buffer (and its pin) is freed
 * when the last exported buffer made from it is released.  Any process that
 * may read the file may export it.  The fd is close-on-exec.
 *
 * Errors: EINVAL unknown flags, non-zero reserved0, @offset not page-aligned
 * or at/after the end of the file (so an empty file cannot be exported),
 * the range past the file's last page; EOPNOTSUPP the mount is not backed
 * by a dma-buf (phys=, DAX and device-dax mounts), the buffer's kernel
 * mapping is I/O memory, or data_align is below the page size (a page
 * would show other files); EBADF the file is not open for reading;
 * E2BIG/EINVAL on argsz as above; EMFILE/ENFILE no fd; ENOMEM.
 */
struct daxfs_export {
	__u32 argsz;		/* in: sizeof(struct daxfs_export) */
	__u32 flags;		/* in: 0 */
	__u64 offset;		/* in: file offset, a multiple of the page size */
	__u64 length;		/* in: bytes, 0: to the end of the file */
	__s32 fd;		/* out: the new dma-buf */
	__u32 reserved0;	/* in: 0 */
	__u64 size;		/* out: bytes of the new dma-buf */
};

#define DAXFS_IOC_MAGIC		0xDA
#define DAXFS_IOC_IMPORT	_IOWR(DAXFS_IOC_MAGIC, 0x01, struct daxfs_import)
#define DAXFS_IOC_RELEASE	_IOW(DAXFS_IOC_MAGIC, 0x02, struct daxfs_release)
#define DAXFS_IOC_INFO		_IOWR(DAXFS_IOC_MAGIC, 0x03, struct daxfs_info)
#define DAXFS_IOC_EXPORT_DMABUF	_IOWR(DAXFS_IOC_MAGIC, 0x04, struct daxfs_export)

#endif /* _UAPI_LINUX_DAXFS_H */
