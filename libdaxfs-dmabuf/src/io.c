// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reading image sources: whole reads that survive EINTR and short reads,
 * what kind of source an fd is, and the chunked copy into a mapping that
 * daxfs_dmabuf_fill() and daxfs_mount_image() share.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"

#define COPY_CHUNK (8u << 20)

size_t daxfs__page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (size_t)p : 4096;
}

/* Read until @len bytes, EOF or an error; at @off with pread(), or read() for off < 0. */
static ssize_t read_loop(int fd, void *buf, size_t len, int64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = off < 0 ? read(fd, (char *)buf + got, len - got) :
			    pread(fd, (char *)buf + got, len - got, (off_t)(off + (int64_t)got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

ssize_t daxfs__read_full(int fd, void *buf, size_t len)
{
	return read_loop(fd, buf, len, -1);
}

ssize_t daxfs__pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
		return -EOVERFLOW;
	return read_loop(fd, buf, len, (int64_t)off);
}

ssize_t daxfs__read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = daxfs__read_full(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return n;
	buf[n] = '\0';
	return n;
}

int daxfs__source_init(struct daxfs_source *src, int fd)
{
	struct stat st;

	memset(src, 0, sizeof(*src));
	src->fd = fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		src->seekable = true;
		src->size = (uint64_t)st.st_size;
		src->noun = "file";
	} else if (S_ISBLK(st.st_mode)) {
		uint64_t b;

		if (ioctl(fd, BLKGETSIZE64, &b) < 0)
			return -errno;
		src->seekable = true;
		src->size = b;
		src->noun = "device";
	} else if (S_ISDIR(st.st_mode)) {
		return -EISDIR;
	} else {
		src->noun = "stream";
	}
	return 0;
}

int64_t daxfs__copy_in(uint8_t *dst, const struct daxfs_source *src, uint64_t src_off,
		       uint64_t len, uint64_t done0, uint64_t total,
		       daxfs_progress_fn progress, void *arg)
{
	uint64_t done = 0;

	while (done < len) {
		size_t want = len - done < COPY_CHUNK ? (size_t)(len - done) : COPY_CHUNK;
		ssize_t n;

		if (src->seekable)
			n = daxfs__pread_full(src->fd, dst + done, want, src_off + done);
		else
			n = daxfs__read_full(src->fd, dst + done, want);
		if (n < 0)
			return daxfs__fail((int)-n, "read image: %s", strerror((int)-n));
		done += (uint64_t)n;
		if (progress && n > 0)
			progress(done0 + done, total, arg);
		if ((size_t)n < want)
			break;	/* end of file */
	}
	return (int64_t)done;
}

int daxfs__dmabuf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };
	int r;

	do
		r = ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
	while (r < 0 && (errno == EINTR || errno == EAGAIN));
	/* ENOTTY: not a dma-buf (a memfd or a file): nothing to synchronise. */
	return r < 0 && errno != ENOTTY ? -errno : 0;
}

int daxfs__fail_truncated(uint64_t image_size, const struct daxfs_source *src, uint64_t have)
{
	if (!src->seekable)
		return daxfs__fail(ENODATA, "truncated: image_size %llu, stream ended after %llu bytes",
				   (unsigned long long)image_size, (unsigned long long)have);
	return daxfs__fail(ENODATA, "truncated: image_size %llu, %s has %llu bytes",
			   (unsigned long long)image_size, src->noun, (unsigned long long)have);
}
