/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * daxfs_gpuexp: ioctls of /dev/daxfs_gpuexp, the test-only dma-buf
 * exporter of selftests/exporter/ that behaves like a GPU driver's TTM
 * VRAM buffers (see daxfs_gpuexp.c).  For the daxfs VM tests only.
 *
 * Every ioctl needs CAP_SYS_ADMIN.  Unknown flags, kinds and non-zero
 * reserved fields give EINVAL.
 */
#ifndef _DAXFS_GPUEXP_H
#define _DAXFS_GPUEXP_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The misc device /dev/DAXFS_GPUEXP_NAME, also the buffers' exp_name. */
#define DAXFS_GPUEXP_NAME		"daxfs_gpuexp"
#define DAXFS_GPUEXP_MAX_SIZE		0x40000000ULL	/* 1 GiB */

/* Kinds of buffer. */
/* Dynamic exporter (.pin/.unpin); MOVE moves it unless pinned. */
#define DAXFS_GPUEXP_DYNAMIC_PINNABLE	1
/* The same, but .pin always fails with EOPNOTSUPP. */
#define DAXFS_GPUEXP_DYNAMIC_UNPINNABLE	2
/* Static exporter whose vmap is I/O memory (iosys_map.is_iomem). */
#define DAXFS_GPUEXP_IOMEM		3

/*
 * DAXFS_GPUEXP_IOC_CREATE: a new zeroed buffer of @size bytes (a multiple
 * of the page size, at most DAXFS_GPUEXP_MAX_SIZE).  Returns the dma-buf
 * fd (O_RDWR, close-on-exec).  ENOMEM when the pages cannot be had.
 */
struct daxfs_gpuexp_create {
	__u64 size;
	__u32 kind;
	__u32 flags;		/* 0 */
};

/*
 * DAXFS_GPUEXP_IOC_MOVE: move buffer @fd to new pages (an eviction): copy,
 * zap the user mappings of the dma-buf, notify the dynamic importers.
 * EBUSY while pinned, EOPNOTSUPP for DAXFS_GPUEXP_IOMEM, EINVAL when @fd
 * is a dma-buf of another exporter, EBADF when it is no open file.
 */
struct daxfs_gpuexp_move {
	__s32 fd;
	__u32 flags;		/* 0 */
};

/* DAXFS_GPUEXP_IOC_STATUS: counters of buffer @fd (errors as for MOVE). */
struct daxfs_gpuexp_status {
	__s32 fd;		/* in */
	__u32 kind;		/* out */
	__u64 size;		/* out: bytes */
	__u32 pin_count;	/* out: successful .pin not yet unpinned */
	__u32 attachments;	/* out: attached importers */
	__u32 sg_mappings;	/* out: live map_dma_buf sg tables */
	__u32 vmap_count;	/* out: vmap references */
	__u32 moves;		/* out: MOVEs done */
	__u32 stale_mappings;	/* out: sg tables, vmap still on moved-away pages */
};

/*
 * DAXFS_GPUEXP_IOC_IMPORT_CHECK: the misc device as a test *importer* of
 * dma-buf @fd, from any exporter, as a device driver imports one:
 * dma_buf_attach() to the misc device (64-bit DMA mask, no IOMMU in the
 * test guests: DMA addresses are physical addresses),
 * dma_buf_map_attachment() for @dir, the mapping's DMA segments counted
 * into @nsegs and the first @max_segs of them written to the array at
 * @segs; then, with DAXFS_GPUEXP_CHECK_VMAP, dma_buf_vmap() and
 * @vmap_len bytes from @vmap_offset copied to @vmap_buf (bracketed by
 * dma_buf_begin/end_cpu_access(DMA_FROM_DEVICE)); then everything undone
 * (vunmap, unmap, detach) before returning.
 *
 * Without the flag the vmap_* fields are not looked at.
 *
 * Errors: EINVAL unknown flags or @dir, non-zero reserved fields, the vmap
 * range outside the buffer, @vmap_len above DAXFS_GPUEXP_CHECK_MAX_COPY,
 * @fd no dma-buf; EBADF no open file; EFAULT bad user pointers; any
 * other errno is the dma-buf core's or the exporter's, as it came (attach,
 * map, begin_cpu_access, vmap).
 */
struct daxfs_gpuexp_seg {
	__u64 addr;		/* sg_dma_address() */
	__u64 len;		/* sg_dma_len() */
};

#define DAXFS_GPUEXP_CHECK_VMAP		0x1U
#define DAXFS_GPUEXP_CHECK_MAX_COPY	(64ULL << 20)

/* @dir: the values of enum dma_data_direction. */
#define DAXFS_GPUEXP_DMA_BIDIRECTIONAL	0
#define DAXFS_GPUEXP_DMA_TO_DEVICE	1
#define DAXFS_GPUEXP_DMA_FROM_DEVICE	2

struct daxfs_gpuexp_import_check {
	__s32 fd;		/* in: the dma-buf */
	__u32 flags;		/* in: DAXFS_GPUEXP_CHECK_* */
	__u32 dir;		/* in: DAXFS_GPUEXP_DMA_* */
	__u32 max_segs;		/* in: room at @segs */
	__u64 segs;		/* in: struct daxfs_gpuexp_seg[max_segs] */
	__u32 nsegs;		/* out: DMA segments of the mapping */
	__u32 vmap_is_iomem;	/* out: the vmap was I/O memory */
	__u64 size;		/* out: the dma-buf's size */
	__u64 dma_bytes;	/* out: sum of the segments' lengths */
	__u64 vmap_offset;	/* in: first byte to copy */
	__u64 vmap_len;		/* in: bytes to copy */
	__u64 vmap_buf;		/* in: where to */
	__u32 reserved0;	/* in: 0 */
	__u32 reserved1;	/* in: 0 */
};

#define DAXFS_GPUEXP_IOC_MAGIC		0xDB
#define DAXFS_GPUEXP_IOC_CREATE	\
	_IOW(DAXFS_GPUEXP_IOC_MAGIC, 0x01, struct daxfs_gpuexp_create)
#define DAXFS_GPUEXP_IOC_MOVE	\
	_IOW(DAXFS_GPUEXP_IOC_MAGIC, 0x02, struct daxfs_gpuexp_move)
#define DAXFS_GPUEXP_IOC_STATUS	\
	_IOWR(DAXFS_GPUEXP_IOC_MAGIC, 0x03, struct daxfs_gpuexp_status)
#define DAXFS_GPUEXP_IOC_IMPORT_CHECK	\
	_IOWR(DAXFS_GPUEXP_IOC_MAGIC, 0x04, struct daxfs_gpuexp_import_check)

#endif /* _DAXFS_GPUEXP_H */
