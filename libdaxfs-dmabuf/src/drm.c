// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * DRM exporter: a dumb buffer exported with PRIME.
 *
 * libdrm is loaded with dlopen() (libdrm.so.2) rather than linked, so the
 * library and its tools carry no hard dependency on it; drmIoctl() and
 * drmPrimeHandleToFD() are used when it is there.  Without it the same
 * two kernel ioctls are issued directly (their ABI is stable and declared
 * below), so the exporter works either way.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "internal.h"

/* From the kernel's DRM uapi (drm.h / drm_mode.h). */
struct dx_drm_create_dumb {
	uint32_t height, width, bpp, flags;
	uint32_t handle, pitch;
	uint64_t size;
};
struct dx_drm_destroy_dumb {
	uint32_t handle;
};
struct dx_drm_prime_handle {
	uint32_t handle, flags;
	int32_t fd;
};
#define DX_DRM_IOCTL_MODE_CREATE_DUMB	_IOWR('d', 0xB2, struct dx_drm_create_dumb)
#define DX_DRM_IOCTL_MODE_DESTROY_DUMB	_IOWR('d', 0xB4, struct dx_drm_destroy_dumb)
#define DX_DRM_IOCTL_PRIME_HANDLE_TO_FD	_IOWR('d', 0x2d, struct dx_drm_prime_handle)
#define DX_DRM_CLOEXEC	O_CLOEXEC
#define DX_DRM_RDWR	O_RDWR

static int (*p_drmIoctl)(int, unsigned long, void *);
static int (*p_drmPrimeHandleToFD)(int, uint32_t, uint32_t, int *);
static pthread_once_t drm_once = PTHREAD_ONCE_INIT;

static void drm_load(void)
{
	void *h = dlopen("libdrm.so.2", RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return;
	*(void **)&p_drmIoctl = dlsym(h, "drmIoctl");
	*(void **)&p_drmPrimeHandleToFD = dlsym(h, "drmPrimeHandleToFD");
	if (!p_drmIoctl || !p_drmPrimeHandleToFD)
		p_drmIoctl = NULL, p_drmPrimeHandleToFD = NULL;
}

static int drm_ioctl(int fd, unsigned long req, void *arg)
{
	int r;

	if (p_drmIoctl)
		return p_drmIoctl(fd, req, arg);
	do
		r = ioctl(fd, req, arg);
	while (r < 0 && (errno == EINTR || errno == EAGAIN));
	return r;
}

static int drm_prime_to_fd(int fd, uint32_t handle, int *out)
{
	struct dx_drm_prime_handle p = { .handle = handle,
					 .flags = DX_DRM_CLOEXEC | DX_DRM_RDWR, .fd = -1 };

	if (p_drmPrimeHandleToFD)
		return p_drmPrimeHandleToFD(fd, handle, DX_DRM_CLOEXEC | DX_DRM_RDWR, out);
	if (drm_ioctl(fd, DX_DRM_IOCTL_PRIME_HANDLE_TO_FD, &p) < 0)
		return -1;
	*out = p.fd;
	return 0;
}

DX_PUBLIC int daxfs_dmabuf_alloc_drm(const char *device, size_t size)
{
	struct dx_drm_create_dumb c;
	struct dx_drm_destroy_dumb d;
	const uint32_t pitch = 4096;	/* 1024 pixels of 32 bits per row */
	uint64_t rows;
	int dfd, fd = -1, r;

	daxfs__clear_error();
	pthread_once(&drm_once, drm_load);
	if (!device || !*device)
		return daxfs__fail(EINVAL, "no DRM device");
	if (size == 0)
		return daxfs__fail(EINVAL, "bad buffer size 0");
	rows = ((uint64_t)size + pitch - 1) / pitch;
	if (rows > UINT32_MAX)
		return daxfs__fail(EOVERFLOW, "buffer too large for a dumb buffer");
	dfd = open(device, O_RDWR | O_CLOEXEC);
	if (dfd < 0)
		return daxfs__fail(errno, "%s: %s", device, strerror(errno));
	memset(&c, 0, sizeof(c));
	c.width = pitch / 4;
	c.height = (uint32_t)rows;
	c.bpp = 32;
	if (drm_ioctl(dfd, DX_DRM_IOCTL_MODE_CREATE_DUMB, &c) < 0) {
		r = daxfs__fail(errno, "%s: create dumb buffer: %s", device, strerror(errno));
		goto out;
	}
	if (drm_prime_to_fd(dfd, c.handle, &fd) < 0 || fd < 0) {
		r = daxfs__fail(errno ? errno : EIO, "%s: PRIME export: %s", device,
				strerror(errno ? errno : EIO));
		fd = -1;
	} else {
		r = fd;
	}
	/* The dma-buf holds the GEM object; drop our handle to it. */
	d.handle = c.handle;
	drm_ioctl(dfd, DX_DRM_IOCTL_MODE_DESTROY_DUMB, &d);
out:
	close(dfd);
	return r;
}
