// SPDX-License-Identifier: GPL-2.0
/*
 * The test bed's dma-buf exporters (see dxt_dmabuf.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <xf86drm.h>

#include "dxt_dmabuf.h"
#include "dxt_util.h"

#define ERR(...) do { if (err) snprintf(err, len, __VA_ARGS__); } while (0)

const char *dxt_exporter_name(enum dxt_exporter kind)
{
	switch (kind) {
	case DXT_EXP_UDMABUF: return "udmabuf";
	case DXT_EXP_HEAP: return "heap";
	case DXT_EXP_VGEM: return "vgem";
	default: return "?";
	}
}

int dxt_exporter_by_name(const char *name)
{
	for (int k = 0; k < DXT_EXP_COUNT; k++)
		if (!strcmp(name, dxt_exporter_name(k)))
			return k;
	return -1;
}

const char *dxt_exporter_kname(enum dxt_exporter kind)
{
	switch (kind) {
	case DXT_EXP_UDMABUF: return "udmabuf";
	case DXT_EXP_HEAP: return "system";
	case DXT_EXP_VGEM: return "drm";	/* drm_gem_prime_export's "white lie" */
	default: return "?";
	}
}

static void try_modprobe(const char *mod)
{
	const char *argv[] = { "modprobe", "-q", mod, NULL };

	dxt_run_cmd(argv, NULL, 0);
}

int dxt_vgem_open(char *out, size_t outlen)
{
	static bool probed;
	char path[64];
	int i, fd;

	for (int pass = 0; pass < 2; pass++) {
		for (i = 0; i < 16; i++) {
			drmVersionPtr v;

			snprintf(path, sizeof(path), "/dev/dri/card%d", i);
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				continue;
			v = drmGetVersion(fd);
			if (v && v->name && !strcmp(v->name, "vgem")) {
				drmFreeVersion(v);
				if (out)
					snprintf(out, outlen, "%s", path);
				return fd;
			}
			if (v)
				drmFreeVersion(v);
			close(fd);
		}
		if (probed)
			break;
		probed = true;
		try_modprobe("vgem");
	}
	return -ENODEV;
}

bool dxt_exporter_available(enum dxt_exporter kind, char *why, size_t len)
{
	char *err = why;
	int fd;

	switch (kind) {
	case DXT_EXP_UDMABUF:
		if (access("/dev/udmabuf", F_OK))
			try_modprobe("udmabuf");
		if (access("/dev/udmabuf", R_OK | W_OK)) {
			ERR("udmabuf: /dev/udmabuf: %s (CONFIG_UDMABUF not set?)", strerror(errno));
			return false;
		}
		return true;
	case DXT_EXP_HEAP:
		if (access("/dev/dma_heap/system", R_OK)) {
			ERR("dma-heap: /dev/dma_heap/system: %s (CONFIG_DMABUF_HEAPS_SYSTEM not set?)",
			    strerror(errno));
			return false;
		}
		return true;
	case DXT_EXP_VGEM:
		fd = dxt_vgem_open(NULL, 0);
		if (fd < 0) {
			ERR("vgem: no /dev/dri/card* driven by vgem (CONFIG_DRM_VGEM not set or module missing)");
			return false;
		}
		close(fd);
		return true;
	default:
		ERR("unknown exporter %d", kind);
		return false;
	}
}

bool dxt_exporter_required(enum dxt_exporter kind)
{
	const char *k = getenv("DAXFS_KERNEL");

	if (!dxt_ci())
		return false;
	if (kind == DXT_EXP_VGEM)
		return true;
	/* bookworm's 6.1 has neither UDMABUF nor DMABUF_HEAPS_SYSTEM */
	return !(k && !strcmp(k, "bookworm"));
}

int dxt_exporter_pick(char *why, size_t len)
{
	char one[512];
	size_t used = 0;

	why[0] = 0;
	for (int k = 0; k < DXT_EXP_COUNT; k++) {
		if (dxt_exporter_available(k, one, sizeof(one)))
			return k;
		used += snprintf(why + used, used < len ? len - used : 0, "%s%s",
				 used ? "; " : "", one);
	}
	return -1;
}

static int udmabuf_alloc(size_t size, struct dxt_buf *b, char *err, size_t len)
{
	struct udmabuf_create c = { 0 };
	char lim[32];
	int dev, fd, e;

	/* udmabuf refuses buffers above size_limit_mb (default 64): raise it */
	if (!dxt_read_sysfs("/sys/module/udmabuf/parameters/size_limit_mb", lim, sizeof(lim)) &&
	    (size_t)atol(lim) * 1024 * 1024 < size) {
		snprintf(lim, sizeof(lim), "%zu", size / (1024 * 1024) + 1);
		dxt_write_sysfs("/sys/module/udmabuf/parameters/size_limit_mb", lim);
	}
	b->memfd = memfd_create("daxfs-test", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (b->memfd < 0) {
		e = -errno;
		ERR("memfd_create: %s", strerror(errno));
		return e;
	}
	if (ftruncate(b->memfd, size) || fcntl(b->memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		e = -errno;
		ERR("memfd ftruncate/seal: %s", strerror(errno));
		return e;
	}
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		e = -errno;
		ERR("open /dev/udmabuf: %s", strerror(errno));
		return e == -ENOENT ? -ENODEV : e;
	}
	c.memfd = b->memfd;
	c.flags = UDMABUF_FLAGS_CLOEXEC;
	c.offset = 0;
	c.size = size;
	fd = ioctl(dev, UDMABUF_CREATE, &c);
	e = -errno;
	close(dev);
	if (fd < 0) {
		ERR("UDMABUF_CREATE size %zu: %s", size, strerror(-e));
		return e;
	}
	b->fd = fd;
	return 0;
}

static int heap_alloc(size_t size, struct dxt_buf *b, char *err, size_t len)
{
	struct dma_heap_allocation_data d = { 0 };
	int heap, e;

	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap < 0) {
		e = -errno;
		ERR("open /dev/dma_heap/system: %s", strerror(errno));
		return e == -ENOENT ? -ENODEV : e;
	}
	d.len = size;
	d.fd_flags = O_RDWR | O_CLOEXEC;
	e = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d) ? -errno : 0;
	close(heap);
	if (e) {
		ERR("DMA_HEAP_IOCTL_ALLOC %zu: %s", size, strerror(-e));
		return e;
	}
	b->fd = d.fd;
	return 0;
}

static int vgem_alloc(size_t size, struct dxt_buf *b, char *err, size_t len)
{
	struct drm_mode_create_dumb c = { 0 };
	int fd, e;

	b->drmfd = dxt_vgem_open(NULL, 0);
	if (b->drmfd < 0) {
		ERR("no vgem device");
		return -ENODEV;
	}
	c.width = 1024;
	c.bpp = 32;		/* pitch 4096 */
	c.height = size / 4096;
	if (drmIoctl(b->drmfd, DRM_IOCTL_MODE_CREATE_DUMB, &c)) {
		e = -errno;
		ERR("vgem CREATE_DUMB %zu: %s", size, strerror(errno));
		return e;
	}
	b->handle = c.handle;
	if (c.size < size) {
		ERR("vgem dumb buffer of %llu bytes < %zu", (unsigned long long)c.size, size);
		return -EINVAL;
	}
	if (drmPrimeHandleToFD(b->drmfd, c.handle, DRM_CLOEXEC | DRM_RDWR, &fd)) {
		e = -errno;
		ERR("vgem PRIME export: %s", strerror(errno));
		return e;
	}
	b->fd = fd;
	return 0;
}

int dxt_buf_alloc(enum dxt_exporter kind, size_t size, struct dxt_buf *b, char *err, size_t len)
{
	int r;

	dxt_buf_init(b);
	b->kind = kind;
	size = dxt_round_up_page(size);
	b->size = size;
	switch (kind) {
	case DXT_EXP_UDMABUF: r = udmabuf_alloc(size, b, err, len); break;
	case DXT_EXP_HEAP: r = heap_alloc(size, b, err, len); break;
	case DXT_EXP_VGEM: r = vgem_alloc(size, b, err, len); break;
	default: r = -EINVAL;
	}
	if (r) {
		dxt_buf_free(b);
		b->size = 0;
	}
	return r;
}

void dxt_buf_init(struct dxt_buf *b)
{
	memset(b, 0, sizeof(*b));
	b->fd = b->memfd = b->drmfd = -1;
}

void dxt_buf_free(struct dxt_buf *b)
{
	if (b->fd >= 0)
		close(b->fd);
	if (b->drmfd >= 0 && b->handle) {
		struct drm_mode_destroy_dumb d = { .handle = b->handle };

		drmIoctl(b->drmfd, DRM_IOCTL_MODE_DESTROY_DUMB, &d);
	}
	if (b->drmfd >= 0)
		close(b->drmfd);
	if (b->memfd >= 0)
		close(b->memfd);
	b->fd = b->drmfd = b->memfd = -1;
	b->handle = 0;
}

void *dxt_buf_mmap(struct dxt_buf *b, int prot)
{
	void *p = mmap(NULL, b->size, prot, MAP_SHARED, b->fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

int dxt_buf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	while (ioctl(fd, DMA_BUF_IOCTL_SYNC, &s)) {
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
	return 0;
}

static int dxt_buf_rw(struct dxt_buf *b, size_t off, void *p, size_t n, bool wr)
{
	uint64_t dir = wr ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ;
	char *m;
	int r;

	if (off > b->size || n > b->size - off)
		return -ERANGE;
	m = dxt_buf_mmap(b, PROT_READ | (wr ? PROT_WRITE : 0));
	if (!m)
		return -errno;
	r = dxt_buf_sync(b->fd, DMA_BUF_SYNC_START | dir);
	if (!r) {
		if (wr)
			memcpy(m + off, p, n);
		else
			memcpy(p, m + off, n);
		r = dxt_buf_sync(b->fd, DMA_BUF_SYNC_END | dir);
	}
	munmap(m, b->size);
	return r;
}

int dxt_buf_write(struct dxt_buf *b, size_t off, const void *p, size_t n)
{
	return dxt_buf_rw(b, off, (void *)p, n, true);
}

int dxt_buf_read(struct dxt_buf *b, size_t off, void *p, size_t n)
{
	return dxt_buf_rw(b, off, p, n, false);
}

int dxt_buf_write_file(struct dxt_buf *b, const char *path, size_t off)
{
	off_t size;
	char *m;
	int fd = dxt_open_sized(path, &size), r;

	if (fd < 0)
		return fd;
	if (off > b->size || (size_t)size > b->size - off)
		r = -EFBIG;
	else if (!(m = dxt_buf_mmap(b, PROT_READ | PROT_WRITE)))
		r = -errno;
	else {
		r = dxt_buf_sync(b->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
		if (!r)
			r = dxt_read_full(fd, m + off, size);
		if (dxt_buf_sync(b->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE) && !r)
			r = -EIO;
		munmap(m, b->size);
	}
	close(fd);
	return r;
}
