/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test bed's dma-buf exporters: a buffer as a fixture (udmabuf from a
 * sealed memfd, the system dma-heap, a vgem dumb buffer exported with
 * PRIME), and access to it through its own mmap.  One implementation for
 * every C test; the tests of the library's own allocators
 * (daxfs_dmabuf_alloc_*) call those instead.
 */
#ifndef DXT_DMABUF_H
#define DXT_DMABUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dxt_exporter { DXT_EXP_UDMABUF, DXT_EXP_HEAP, DXT_EXP_VGEM, DXT_EXP_COUNT };

/* A dma-buf and what keeps it alive. */
struct dxt_buf {
	enum dxt_exporter kind;
	int fd;			/* the dma-buf */
	size_t size;
	int memfd;		/* udmabuf: backing memfd, else -1 */
	int drmfd;		/* vgem: the DRM device, else -1 */
	uint32_t handle;	/* vgem: GEM handle */
};

const char *dxt_exporter_name(enum dxt_exporter kind);	/* udmabuf, heap, vgem */
/* udmabuf, heap, vgem -> the kind, or -1. */
int dxt_exporter_by_name(const char *name);
/* The name the kernel gives the exporter (dma_buf->exp_name). */
const char *dxt_exporter_kname(enum dxt_exporter kind);
/* true if buffers can be allocated; else a reason in why (may be NULL). */
bool dxt_exporter_available(enum dxt_exporter kind, char *why, size_t len);
/* true if CI=true and this kernel of the matrix (DAXFS_KERNEL) must provide it. */
bool dxt_exporter_required(enum dxt_exporter kind);
/* The first available exporter; -1 with every reason in why. */
int dxt_exporter_pick(char *why, size_t len);
/* The first /dev/dri/card* driven by vgem (modprobed once), its path into
 * path (may be NULL); fd or -ENODEV. */
int dxt_vgem_open(char *path, size_t len);

/* A buffer of size (rounded up to a page); 0 or -errno with a reason in err. */
int dxt_buf_alloc(enum dxt_exporter kind, size_t size, struct dxt_buf *b, char *err, size_t len);
/* An empty buffer (nothing to free). */
void dxt_buf_init(struct dxt_buf *b);
void dxt_buf_free(struct dxt_buf *b);
/* MAP_SHARED mapping of the dma-buf fd itself (the exporter's mmap). */
void *dxt_buf_mmap(struct dxt_buf *b, int prot);
/* DMA_BUF_IOCTL_SYNC (EINTR/EAGAIN retried); 0 or -errno. */
int dxt_buf_sync(int fd, uint64_t flags);
/* Copy n bytes into the buffer at off (mmap + DMA_BUF_IOCTL_SYNC bracket). */
int dxt_buf_write(struct dxt_buf *b, size_t off, const void *p, size_t n);
int dxt_buf_read(struct dxt_buf *b, size_t off, void *p, size_t n);
/* Copy a whole file into the buffer at off. */
int dxt_buf_write_file(struct dxt_buf *b, const char *path, size_t off);

#endif
