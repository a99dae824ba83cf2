/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test exporter and importer of selftests/exporter/ (daxfs_gpuexp.ko,
 * /dev/daxfs_gpuexp) from C tests: its buffers as struct dxt_buf, MOVE and
 * STATUS, and the test importer (DAXFS_GPUEXP_IOC_IMPORT_CHECK), which
 * shows what a device gets from any dma-buf: the DMA addresses of its
 * mapping and the bytes of its kernel vmap.
 *
 * Functions return 0 (or an fd) or -errno.
 */
#ifndef DXT_GPUEXP_H
#define DXT_GPUEXP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../exporter/daxfs_gpuexp.h"
#include "dxt_dmabuf.h"

#define DXT_GPUEXP_DEV	"/dev/" DAXFS_GPUEXP_NAME

/* Open the device: fd, or -errno with the reason (module not loaded?) in why. */
int dxt_gpuexp_open(char *why, size_t len);
/* A buffer of @kind (DAXFS_GPUEXP_*) as a struct dxt_buf (kind DXT_EXP_COUNT). */
int dxt_gpuexp_create(int gdev, uint32_t kind, uint64_t size, struct dxt_buf *b);
int dxt_gpuexp_move(int gdev, int fd);
int dxt_gpuexp_status(int gdev, int fd, struct daxfs_gpuexp_status *st);
/* The raw DAXFS_GPUEXP_IOC_IMPORT_CHECK. */
int dxt_gpuexp_import_check(int gdev, struct daxfs_gpuexp_import_check *c);

/*
 * The pages a device gets when it maps dma-buf @fd for @dir
 * (DAXFS_GPUEXP_DMA_*): the DMA segments of the mapping, cut into 4 KiB
 * pages, as page frame numbers (DMA address / 4096: no IOMMU in the test
 * guests) into *pfns (malloc'd, *npages of them), the number of segments
 * into *nsegs (may be NULL).  -EINVAL with a reason when a segment is not
 * page-aligned or the segments do not add up to the buffer's size.
 */
int dxt_gpuexp_dma_pfns(int gdev, int fd, uint32_t dir, uint64_t **pfns, size_t *npages,
			uint32_t *nsegs, char *err, size_t len);
/*
 * @n bytes at @off of dma-buf @fd as the test importer's kernel vmap
 * shows them (mapped for @dir while it reads), into @out.
 */
int dxt_gpuexp_vmap_read(int gdev, int fd, uint32_t dir, uint64_t off, void *out, size_t n);

#endif
