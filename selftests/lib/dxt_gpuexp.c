// SPDX-License-Identifier: GPL-2.0
/*
 * The test exporter and importer from C tests (see dxt_gpuexp.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "dxt_gpuexp.h"
#include "dxt_util.h"

#define ERR(...) do { if (err) snprintf(err, len, __VA_ARGS__); } while (0)

int dxt_gpuexp_open(char *why, size_t len)
{
	int fd = open(DXT_GPUEXP_DEV, O_RDWR | O_CLOEXEC), e;

	if (fd >= 0)
		return fd;
	e = -errno;
	if (why)
		snprintf(why, len, "%s: %s: the test exporter daxfs_gpuexp.ko is not loaded "
			 "(make matrix-modules builds build/exporter/%s/daxfs_gpuexp.ko, "
			 "selftests/vm/guest-run loads it)", DXT_GPUEXP_DEV, strerror(-e),
			 getenv("DAXFS_KVER") ?: "KVER");
	return e;
}

int dxt_gpuexp_create(int gdev, uint32_t kind, uint64_t size, struct dxt_buf *b)
{
	struct daxfs_gpuexp_create c = { .size = size, .kind = kind };
	int fd = ioctl(gdev, DAXFS_GPUEXP_IOC_CREATE, &c);
	int e = fd < 0 ? -errno : 0;

	dxt_buf_init(b);
	b->kind = DXT_EXP_COUNT;
	if (fd < 0)
		return e;
	b->fd = fd;
	b->size = size;
	return 0;
}

int dxt_gpuexp_move(int gdev, int fd)
{
	struct daxfs_gpuexp_move m = { .fd = fd };

	return ioctl(gdev, DAXFS_GPUEXP_IOC_MOVE, &m) ? -errno : 0;
}

int dxt_gpuexp_status(int gdev, int fd, struct daxfs_gpuexp_status *st)
{
	memset(st, 0, sizeof(*st));
	st->fd = fd;
	return ioctl(gdev, DAXFS_GPUEXP_IOC_STATUS, st) ? -errno : 0;
}

int dxt_gpuexp_import_check(int gdev, struct daxfs_gpuexp_import_check *c)
{
	return ioctl(gdev, DAXFS_GPUEXP_IOC_IMPORT_CHECK, c) ? -errno : 0;
}

int dxt_gpuexp_dma_pfns(int gdev, int fd, uint32_t dir, uint64_t **pfns, size_t *npages,
			uint32_t *nsegs, char *err, size_t len)
{
	struct daxfs_gpuexp_import_check c = { .fd = fd, .dir = dir };
	struct daxfs_gpuexp_seg *segs = NULL;
	off_t size = lseek(fd, 0, SEEK_END);
	uint64_t *out = NULL;
	size_t n = 0, max;
	int r;

	*pfns = NULL;
	*npages = 0;
	if (size < 0) {
		r = -errno;
		ERR("lseek of the dma-buf: %s", strerror(errno));
		return r;
	}
	/* at most one segment a page, and one more to see a table that is too long */
	max = (size_t)size / DXT_PAGE + 1;
	segs = calloc(max, sizeof(*segs));
	out = calloc(max, sizeof(*out));
	if (!segs || !out) {
		r = -ENOMEM;
		ERR("out of memory");
		goto fail;
	}
	c.max_segs = max;
	c.segs = (uintptr_t)segs;
	r = dxt_gpuexp_import_check(gdev, &c);
	if (r) {
		ERR("IMPORT_CHECK (attach, map %s): %s",
		    dir == DAXFS_GPUEXP_DMA_TO_DEVICE ? "DMA_TO_DEVICE" :
		    dir == DAXFS_GPUEXP_DMA_BIDIRECTIONAL ? "DMA_BIDIRECTIONAL" : "?",
		    strerror(-r));
		goto fail;
	}
	if (nsegs)
		*nsegs = c.nsegs;
	if (c.size != (uint64_t)size || c.dma_bytes != (uint64_t)size || c.nsegs > max) {
		r = -EINVAL;
		ERR("the mapping of a %lld-byte dma-buf (the kernel says %llu) has %u segments "
		    "of %llu bytes in all", (long long)size, (unsigned long long)c.size, c.nsegs,
		    (unsigned long long)c.dma_bytes);
		goto fail;
	}
	for (uint32_t i = 0; i < c.nsegs; i++) {
		if ((segs[i].addr | segs[i].len) & (DXT_PAGE - 1) || !segs[i].len) {
			r = -EINVAL;
			ERR("DMA segment %u of %u: address 0x%llx, %llu bytes: not whole pages", i,
			    c.nsegs, (unsigned long long)segs[i].addr,
			    (unsigned long long)segs[i].len);
			goto fail;
		}
		for (uint64_t o = 0; o < segs[i].len; o += DXT_PAGE)
			out[n++] = (segs[i].addr + o) / DXT_PAGE;
	}
	free(segs);
	*pfns = out;
	*npages = n;
	return 0;
fail:
	free(segs);
	free(out);
	return r;
}

int dxt_gpuexp_vmap_read(int gdev, int fd, uint32_t dir, uint64_t off, void *out, size_t n)
{
	struct daxfs_gpuexp_import_check c = {
		.fd = fd, .dir = dir, .flags = DAXFS_GPUEXP_CHECK_VMAP,
		.vmap_offset = off, .vmap_len = n, .vmap_buf = (uintptr_t)out,
	};

	return dxt_gpuexp_import_check(gdev, &c);
}
