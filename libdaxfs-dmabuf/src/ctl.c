// SPDX-License-Identifier: LGPL-2.1-or-later
/* Thin wrappers over the /dev/daxfs ioctls (uapi/linux/daxfs.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "internal.h"

static const char *import_reason(int e)
{
	switch (e) {
	case EBADF: return "bad file descriptor";
	case EINVAL: return "not a dma-buf, bad offset or not a daxfs image";
	case EFBIG: return "image larger than the buffer";
	case EUCLEAN: return "corrupt image";
	case EOPNOTSUPP: return "unsupported image version or feature";
	case EMFILE: case ENOSPC: return "too many imports";
	default: return strerror(e);
	}
}

DX_PUBLIC int daxfs_ctl_open(void)
{
	int fd = open("/dev/" DAXFS_DEV_NAME, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return daxfs__fail(errno, "/dev/daxfs: %s%s", strerror(errno),
				   errno == ENOENT ? " (is daxfs.ko loaded?)" : "");
	return fd;
}

DX_PUBLIC int daxfs_import(int ctl_fd, int dmabuf_fd, uint64_t offset,
			   struct daxfs_import *out)
{
	struct daxfs_import imp;

	daxfs__clear_error();
	memset(&imp, 0, sizeof(imp));
	imp.argsz = sizeof(imp);
	imp.fd = dmabuf_fd;
	imp.offset = offset;
	daxfs__kmsg_mark();
	if (ioctl(ctl_fd, DAXFS_IOC_IMPORT, &imp) < 0) {
		int e = errno;
		char why[512];

		if (daxfs__kmsg_reason(why, sizeof(why)))
			e = daxfs__fail(e, "import: %s", why);
		else
			e = daxfs__fail(e, "import: %s", import_reason(e));
		daxfs__kmsg_done();
		return e;
	}
	daxfs__kmsg_done();
	imp.exporter[DAXFS_EXPORTER_LEN - 1] = '\0';
	if (out)
		*out = imp;
	return 0;
}

/* INFO and RELEASE: @req on import @id; a failure reads "@what @id: why". */
static int id_ioctl(int ctl_fd, unsigned long req, void *arg, const char *what,
		    uint64_t id)
{
	daxfs__clear_error();
	if (ioctl(ctl_fd, req, arg) < 0)
		return daxfs__fail(errno, "%s %llu: %s", what,
				   (unsigned long long)id, strerror(errno));
	return 0;
}

DX_PUBLIC int daxfs_import_info(int ctl_fd, uint64_t id, struct daxfs_info *out)
{
	struct daxfs_info info;
	int e;

	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	info.id = id;
	e = id_ioctl(ctl_fd, DAXFS_IOC_INFO, &info, "info on import", id);
	if (e)
		return e;
	info.label[DAXFS_LABEL_LEN] = '\0';
	info.exporter[DAXFS_EXPORTER_LEN - 1] = '\0';
	if (out)
		*out = info;
	return 0;
}

DX_PUBLIC int daxfs_release(int ctl_fd, uint64_t id)
{
	struct daxfs_release rel;

	memset(&rel, 0, sizeof(rel));
	rel.argsz = sizeof(rel);
	rel.id = id;
	return id_ioctl(ctl_fd, DAXFS_IOC_RELEASE, &rel, "release import", id);
}
