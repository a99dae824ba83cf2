// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A file of a daxfs mount back out as a dma-buf: DAXFS_IOC_EXPORT_DMABUF
 * (uapi/linux/daxfs.h) on the open file.
 *
 * Before the ioctl the library checks what it can without the kernel (the
 * offset's alignment, a range that wraps around, a descriptor not open for
 * reading) and that the file is a regular file on daxfs: the command
 * number means nothing to other file systems and devices, and must not
 * reach them.  When the kernel refuses, the file's size and its mount's
 * entry in /proc/self/mountinfo say which of the reasons of the errno it
 * was.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include "internal.h"

/* What a message calls the file: the path of /proc/self/fd/FD, else "fd FD". */
static void fd_name(int fd, char *out, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, out, len - 1);
	if (n <= 0 || (size_t)n >= len - 1)
		snprintf(out, len, "fd %d", fd);
	else
		out[n] = '\0';
}

/* The mountinfo entry of the mount @fd was opened on; 0 or -errno. */
static int fd_mount(int fd, struct daxfs_mountinfo *mi)
{
	char path[64], buf[1024], line[8192];
	const char *p;
	long id;
	FILE *f;
	int r = -ENOENT;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (daxfs__read_small(path, buf, sizeof(buf)) < 0)
		return -ENOENT;
	p = strstr(buf, "mnt_id:");
	if (!p)
		return -ENOENT;
	id = strtol(p + strlen("mnt_id:"), NULL, 10);
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (r && fgets(line, sizeof(line), f))
		if (daxfs__mountinfo_parse_line(line, mi) == 0 && mi->mount_id == id)
			r = 0;
	fclose(f);
	return r;
}

/* The value of option @key in a comma-separated list, into @out; false if absent. */
static bool opt_value(const char *opts, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);

	for (const char *p = opts; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			size_t n = strcspn(p + kl + 1, ",");

			if (n >= len)
				n = len - 1;
			memcpy(out, p + kl + 1, n);
			out[n] = '\0';
			return true;
		}
	}
	return false;
}

/* EOPNOTSUPP: the mount is not a dma-buf's, or its buffer cannot be exported. */
static int explain_unsupported(int fd, const char *name, size_t page)
{
	struct daxfs_mountinfo mi;
	char exporter[DAXFS_EXPORTER_LEN];

	if (fd_mount(fd, &mi))
		return daxfs__fail(EOPNOTSUPP, "%s: the mount is not backed by a dma-buf, "
				   "or its buffer cannot be exported (I/O memory, or data_align "
				   "below the page size %zu)", name, page);
	if (!opt_value(mi.super_opts, "exporter", exporter, sizeof(exporter)))
		return daxfs__fail(EOPNOTSUPP, "%s: the mount is not backed by a dma-buf "
				   "(mounted from %s at %s): only mounts of a dma-buf export",
				   name, mi.source, mi.mountpoint);
	/* FORMAT.md: data_align is at least 4 KiB, so only I/O memory is left there. */
	if (page <= 4096)
		return daxfs__fail(EOPNOTSUPP, "%s: the buffer of the mount at %s (exporter %s) "
				   "is I/O memory in the kernel: it cannot be exported",
				   name, mi.mountpoint, exporter);
	return daxfs__fail(EOPNOTSUPP, "%s: the buffer of the mount at %s (exporter %s) cannot "
			   "be exported: it is I/O memory in the kernel, or the image's data_align "
			   "is below the page size %zu", name, mi.mountpoint, exporter, page);
}

/* EINVAL after the checks above passed: the range against the file's size. */
static int explain_range(int fd, const char *name, uint64_t offset, uint64_t length,
			 size_t page)
{
	struct stat st;
	uint64_t size, pages_end;

	if (fstat(fd, &st))
		return daxfs__fail(EINVAL, "%s: the kernel refused the range (offset %" PRIu64
				   ", length %" PRIu64 ")", name, offset, length);
	size = (uint64_t)st.st_size;
	pages_end = (size + page - 1) / page * page;
	if (size == 0)
		return daxfs__fail(EINVAL, "%s is empty: there is nothing to export", name);
	if (offset >= size)
		return daxfs__fail(EINVAL, "%s: offset %" PRIu64 " is at or past the end of the "
				   "file (%" PRIu64 " bytes)", name, offset, size);
	if (length && offset + length > pages_end)
		return daxfs__fail(EINVAL, "%s: the range [%" PRIu64 ", %" PRIu64 ") ends past "
				   "the file's last page (%" PRIu64 " bytes, pages up to %" PRIu64 ")",
				   name, offset, offset + length, size, pages_end);
	return daxfs__fail(EINVAL, "%s: the kernel refused the export of [%" PRIu64 ", +%" PRIu64
			   "): %s", name, offset, length, strerror(EINVAL));
}

/*
 * The file must be a regular file on daxfs: 0, else -ENOTTY (what the ioctl
 * gives on other file systems and on other files) with the reason.
 */
static int check_file(const char *name, const struct statfs *sf, const struct stat *st)
{
	if ((uint32_t)sf->f_type != DAXFS_FS_MAGIC)
		return daxfs__fail(ENOTTY, "%s is not on a daxfs mount (file system magic %#" PRIx32
				   ")", name, (uint32_t)sf->f_type);
	if (!S_ISREG(st->st_mode))
		return daxfs__fail(ENOTTY, "%s is %s, not a regular file", name,
				   S_ISDIR(st->st_mode) ? "a directory" :
				   S_ISLNK(st->st_mode) ? "a symbolic link" :
				   S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? "a device" :
				   "a FIFO or a socket");
	return 0;
}

/* What needs no file: 0, or -EINVAL with the reason. */
static int check_range(const char *name, uint64_t offset, uint64_t length, size_t page)
{
	if (offset % page)
		return daxfs__fail(EINVAL, "%s: offset %" PRIu64 " is not a multiple of the page "
				   "size %zu", name, offset, page);
	if (length > UINT64_MAX - offset)
		return daxfs__fail(EINVAL, "%s: offset %" PRIu64 " + length %" PRIu64
				   " is past 2^64", name, offset, length);
	return 0;
}

static int export_fd(int fd, const char *name, uint64_t offset, uint64_t length,
		     uint64_t *size)
{
	size_t page = daxfs__page_size();
	struct daxfs_export ex;
	struct statfs sf;
	struct stat st;
	int fl, e;

	e = check_range(name, offset, length, page);
	if (e)
		return e;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return daxfs__fail(errno, "%s: %s", name, strerror(errno));
	if (fstatfs(fd, &sf) || fstat(fd, &st))
		return daxfs__fail(errno, "%s: %s", name, strerror(errno));
	e = check_file(name, &sf, &st);
	if (e)
		return e;
	if ((fl & O_PATH) || (fl & O_ACCMODE) == O_WRONLY)
		return daxfs__fail(EBADF, "%s is not open for reading%s", name,
				   fl & O_PATH ? " (an O_PATH descriptor)" : "");

	memset(&ex, 0, sizeof(ex));
	ex.argsz = sizeof(ex);
	ex.offset = offset;
	ex.length = length;
	if (ioctl(fd, DAXFS_IOC_EXPORT_DMABUF, &ex) == 0) {
		if (size)
			*size = ex.size;
		return ex.fd;
	}
	e = errno;
	switch (e) {
	case EINVAL:
		return explain_range(fd, name, offset, length, page);
	case EOPNOTSUPP:
		return explain_unsupported(fd, name, page);
	case ENOTTY:
		return daxfs__fail(e, "%s: the daxfs module does not know DAXFS_IOC_EXPORT_DMABUF "
				   "(a module older than the library?)", name);
	case EBADF:
		return daxfs__fail(e, "%s is not open for reading", name);
	case EMFILE:
		return daxfs__fail(e, "%s: no file descriptor for the new dma-buf: the process "
				   "has as many open as RLIMIT_NOFILE allows", name);
	case ENFILE:
		return daxfs__fail(e, "%s: no file descriptor for the new dma-buf: the system's "
				   "file table is full", name);
	default:
		return daxfs__fail(e, "%s: export: %s", name, strerror(e));
	}
}

DX_PUBLIC int daxfs_export_dmabuf(int fd, uint64_t offset, uint64_t length, uint64_t *size)
{
	char name[4096];

	daxfs__clear_error();
	if (fd < 0)
		return daxfs__fail(EBADF, "bad file descriptor %d", fd);
	fd_name(fd, name, sizeof(name));
	return export_fd(fd, name, offset, length, size);
}

DX_PUBLIC int daxfs_export_dmabuf_path(const char *path, uint64_t offset, uint64_t length,
				       uint64_t *size)
{
	struct statfs sf;
	struct stat st;
	int fd, r;

	daxfs__clear_error();
	if (!path || !*path)
		return daxfs__fail(EINVAL, "no file");
	r = check_range(path, offset, length, daxfs__page_size());
	if (r)
		return r;
	/* Devices and FIFOs of an image are not opened at all. */
	if (statfs(path, &sf) || stat(path, &st))
		return daxfs__fail(errno, "%s: %s", path, strerror(errno));
	r = check_file(path, &sf, &st);
	if (r)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return daxfs__fail(errno, "%s: %s", path, strerror(errno));
	r = export_fd(fd, path, offset, length, size);
	close(fd);
	return r;
}
