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

#define DAXFS_GPUEXP_IOC_MAGIC		0xDB
#define DAXFS_GPUEXP_IOC_CREATE	\
	_IOW(DAXFS_GPUEXP_IOC_MAGIC, 0x01, struct daxfs_gpuexp_create)
#define DAXFS_GPUEXP_IOC_MOVE	\
	_IOW(DAXFS_GPUEXP_IOC_MAGIC, 0x02, struct daxfs_gpuexp_move)
#define DAXFS_GPUEXP_IOC_STATUS	\
	_IOWR(DAXFS_GPUEXP_IOC_MAGIC, 0x03, struct daxfs_gpuexp_status)

#endif /* _DAXFS_GPUEXP_H */
