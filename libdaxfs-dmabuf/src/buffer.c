// SPDX-License-Identifier: LGPL-2.1-or-later
/* Allocating, sizing, filling and probing dma-bufs. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
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
#include "internal.h"
#include "daxfs_format.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)
#endif

#define HUGE_2M (2u << 20)

static size_t page_size(void)
{
	return daxfs__page_size();
}

static int round_up_size(size_t size, size_t align, size_t *out)
{
	if (size == 0)
		return -EINVAL;
	if (size > SIZE_MAX - (align - 1))
		return -EOVERFLOW;
	*out = (size + align - 1) & ~(align - 1);
	return 0;
}

DX_PUBLIC int daxfs_dmabuf_alloc_heap(const char *heap_name, size_t size)
{
	struct dma_heap_allocation_data a;
	char path[300];
	size_t len;
	int hfd, r;

	daxfs__clear_error();
	if (!heap_name || !*heap_name || strchr(heap_name, '/') ||
	    !strcmp(heap_name, ".") || !strcmp(heap_name, "..") || strlen(heap_name) > 200)
		return daxfs__fail(EINVAL, "bad heap name");
	if (round_up_size(size, page_size(), &len))
		return daxfs__fail(EINVAL, "bad buffer size %zu", size);
	snprintf(path, sizeof(path), "/dev/dma_heap/%s", heap_name);
	hfd = open(path, O_RDONLY | O_CLOEXEC);
	if (hfd < 0)
		return daxfs__fail(errno, "%s: %s", path, strerror(errno));
	memset(&a, 0, sizeof(a));
	a.len = len;
	a.fd_flags = O_RDWR | O_CLOEXEC;
	r = ioctl(hfd, DMA_HEAP_IOCTL_ALLOC, &a);
	if (r < 0) {
		r = daxfs__fail(errno, "%s: allocate %zu bytes: %s", path, len, strerror(errno));
		close(hfd);
		return r;
	}
	close(hfd);
	return (int)a.fd;
}

uint64_t daxfs__udmabuf_limit_mb(void)
{
	char buf[32];
	uint64_t v;

	if (daxfs__read_small(DAXFS_UDMABUF_LIMIT, buf, sizeof(buf)) <= 0)
		return 0;
	buf[strcspn(buf, "\n")] = '\0';
	return daxfs__parse_u64(buf, &v) ? 0 : v;
}

/* Why UDMABUF_CREATE of LEN bytes failed with ERR, and the fix when known. */
static int udmabuf_create_failed(int err, size_t len, bool huge)
{
	uint64_t limit = daxfs__udmabuf_limit_mb(), need = (len + (1u << 20) - 1) >> 20;

	if (limit && need > limit)
		return daxfs__fail(err, "UDMABUF_CREATE (%zu bytes%s): %s: udmabuf's size_limit_mb "
				   "is %llu MiB and this buffer needs %llu MiB; as root: echo %llu > %s "
				   "(or boot with udmabuf.size_limit_mb=%llu), or use a DMA heap",
				   len, huge ? ", hugetlb" : "", strerror(err),
				   (unsigned long long)limit, (unsigned long long)need,
				   (unsigned long long)need, DAXFS_UDMABUF_LIMIT,
				   (unsigned long long)need);
	return daxfs__fail(err, "UDMABUF_CREATE (%zu bytes%s): %s", len,
			   huge ? ", hugetlb" : "", strerror(err));
}

DX_PUBLIC int daxfs_dmabuf_alloc_udmabuf(size_t size, unsigned int flags)
{
	struct udmabuf_create c;
	bool huge = flags & DAXFS_UDMABUF_HUGETLB;
	size_t len;
	int mfd, ufd, fd, r;

	daxfs__clear_error();
	if (flags & ~DAXFS_UDMABUF_HUGETLB)
		return daxfs__fail(EINVAL, "unknown udmabuf flags %#x", flags);
	if (round_up_size(size, huge ? HUGE_2M : page_size(), &len))
		return daxfs__fail(EINVAL, "bad buffer size %zu", size);
	mfd = memfd_create(huge ? "daxfs-udmabuf-huge" : "daxfs-udmabuf",
			   MFD_CLOEXEC | MFD_ALLOW_SEALING |
			   (huge ? MFD_HUGETLB | MFD_HUGE_2MB : 0));
	if (mfd < 0)
		return daxfs__fail(errno, "memfd_create%s: %s", huge ? " (hugetlb)" : "",
				   strerror(errno));
	if (ftruncate(mfd, (off_t)len) < 0) {
		r = daxfs__fail(errno, "memfd: size %zu: %s%s", len, strerror(errno),
				huge ? " (are 2 MiB huge pages reserved? see nr_hugepages)" : "");
		goto out_mfd;
	}
	/*
	 * Allocate the huge pages now, through hugetlbfs: left to
	 * UDMABUF_CREATE, 6.12's memfd_pin_folios() allocates them without a
	 * reservation (a VM_BUG_ON in alloc_hugetlb_folio_reserve() on a
	 * debug kernel, the pool's reserve count off on others).
	 */
	if (huge && fallocate(mfd, 0, 0, (off_t)len) < 0) {
		r = daxfs__fail(errno, "memfd: %zu bytes of 2 MiB huge pages: %s%s", len,
				strerror(errno),
				errno == ENOSPC ? " (not enough free huge pages: see nr_hugepages)" : "");
		goto out_mfd;
	}
	/* udmabuf insists on F_SEAL_SHRINK and refuses F_SEAL_WRITE. */
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
		r = daxfs__fail(errno, "memfd: seal: %s", strerror(errno));
		goto out_mfd;
	}
	ufd = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (ufd < 0) {
		r = daxfs__fail(errno, "/dev/udmabuf: %s", strerror(errno));
		goto out_mfd;
	}
	memset(&c, 0, sizeof(c));
	c.memfd = (__u32)mfd;
	c.flags = UDMABUF_FLAGS_CLOEXEC;
	c.offset = 0;
	c.size = len;
	fd = ioctl(ufd, UDMABUF_CREATE, &c);
	if (fd < 0)
		r = udmabuf_create_failed(errno, len, huge);
	else
		r = fd;
	close(ufd);
out_mfd:
	close(mfd);	/* the udmabuf keeps the pages */
	return r;
}

DX_PUBLIC int daxfs_dmabuf_alloc_auto(size_t size, char *chosen, size_t chosen_len)
{
	char why[3][160];
	glob_t g;
	int fd;

	fd = daxfs_dmabuf_alloc_heap("system", size);
	if (fd >= 0) {
		if (chosen)
			daxfs__strlcpy(chosen, "heap:system", chosen_len);
		return fd;
	}
	daxfs__strlcpy(why[0], daxfs_last_error(), sizeof(why[0]));
	fd = daxfs_dmabuf_alloc_udmabuf(size, 0);
	if (fd >= 0) {
		if (chosen)
			daxfs__strlcpy(chosen, "udmabuf", chosen_len);
		return fd;
	}
	daxfs__strlcpy(why[1], daxfs_last_error(), sizeof(why[1]));
	snprintf(why[2], sizeof(why[2]), "no DRM card");
	if (glob("/dev/dri/card*", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			fd = daxfs_dmabuf_alloc_drm(g.gl_pathv[i], size);
			if (fd >= 0) {
				if (chosen)
					snprintf(chosen, chosen_len, "drm:%s", g.gl_pathv[i]);
				globfree(&g);
				return fd;
			}
			daxfs__strlcpy(why[2], daxfs_last_error(), sizeof(why[2]));
		}
		globfree(&g);
	}
	return daxfs__fail(ENODEV, "no dma-buf exporter could allocate %zu bytes: heap: %s; udmabuf: %s; drm: %s",
			   size, why[0], why[1], why[2]);
}

DX_PUBLIC int64_t daxfs_dmabuf_size(int dmabuf_fd)
{
	off_t end = lseek(dmabuf_fd, 0, SEEK_END);

	if (end < 0)
		return daxfs__fail(errno, "size of fd %d: %s", dmabuf_fd, strerror(errno));
	lseek(dmabuf_fd, 0, SEEK_SET);
	return end;
}

/* The bytes of the superblock up to and including image_size. */
#define SB_HEAD (offsetof(struct daxfs_super, image_size) + sizeof(__le64))

/* A daxfs image in @head (@n bytes of it) that claims more than @have bytes. */
static int check_truncated(const uint8_t *head, size_t n, uint64_t have,
			   const struct daxfs_source *src)
{
	uint32_t magic;
	uint64_t isz;

	if (n < SB_HEAD)
		return 0;
	memcpy(&magic, head + offsetof(struct daxfs_super, magic), sizeof(magic));
	memcpy(&isz, head + offsetof(struct daxfs_super, image_size), sizeof(isz));
	if (le32toh(magic) != DAXFS_IMAGE_MAGIC)
		return 0;
	isz = le64toh(isz);
	return isz > have ? daxfs__fail_truncated(isz, src, have) : 0;
}

DX_PUBLIC int daxfs_dmabuf_fill(int dmabuf_fd, int image_fd, off_t offset,
				daxfs_progress_fn progress, void *arg)
{
	struct daxfs_source src;
	uint8_t head[SB_HEAD], *map, *base;
	uint64_t room, len;
	int64_t bufsz, got;
	size_t maplen;
	ssize_t n;
	int r, r2;

	daxfs__clear_error();
	if (offset < 0 || (size_t)offset % page_size())
		return daxfs__fail(EINVAL, "offset %lld is not page-aligned", (long long)offset);
	bufsz = daxfs_dmabuf_size(dmabuf_fd);
	if (bufsz < 0)
		return (int)bufsz;
	if ((uint64_t)offset >= (uint64_t)bufsz)
		return daxfs__fail(EFBIG, "offset %lld is not inside the buffer (%lld bytes)",
				   (long long)offset, (long long)bufsz);
	room = (uint64_t)bufsz - (uint64_t)offset;
	r = daxfs__source_init(&src, image_fd);
	if (r)
		return daxfs__fail(r, "image: %s", strerror(-r));
	if (src.seekable) {
		if (src.size == 0)
			return daxfs__fail(EINVAL, "image is empty");
		if (src.size > room)
			return daxfs__fail(EFBIG, "image (%llu bytes) does not fit in the buffer (%lld bytes) at offset %lld",
					   (unsigned long long)src.size, (long long)bufsz,
					   (long long)offset);
		/* A daxfs image that claims more than the file holds: refuse before copying. */
		n = daxfs__pread_full(image_fd, head, sizeof(head), 0);
		if (n < 0)
			return daxfs__fail((int)-n, "read image: %s", strerror((int)-n));
		r = check_truncated(head, (size_t)n, src.size, &src);
		if (r)
			return r;
		len = src.size;
	} else {
		len = room;	/* a stream: up to its end or the buffer's */
	}
	/*
	 * Map from the start of the buffer and write at +offset: DRM shmem
	 * exporters (vgem) fault pages in by address and ignore the mmap
	 * offset, so a mapping at a non-zero offset would land at 0.
	 */
	maplen = (size_t)offset + (size_t)len;
	base = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf_fd, 0);
	if (base == MAP_FAILED)
		return daxfs__fail(errno, "mmap dma-buf: %s", strerror(errno));
	map = base + offset;
	r = daxfs__dmabuf_sync(dmabuf_fd, DMA_BUF_SYNC_START |
			       (src.seekable ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_RW));
	if (r) {
		r = daxfs__fail(r, "DMA_BUF_IOCTL_SYNC start: %s", strerror(-r));
		goto out;
	}
	if (progress)
		progress(0, src.seekable ? len : 0, arg);
	got = daxfs__copy_in(map, &src, 0, len, 0, src.seekable ? len : 0, progress, arg);
	r = 0;
	if (got < 0) {
		r = (int)got;
	} else if (src.seekable && (uint64_t)got < len) {
		r = daxfs__fail(ENODATA, "image shrank while loading: the file had %llu bytes, only %llu could be read",
				(unsigned long long)len, (unsigned long long)got);
	} else if (!src.seekable && got == 0) {
		r = daxfs__fail(EINVAL, "image is empty");
	} else if (!src.seekable && (uint64_t)got == room) {
		uint8_t more;

		n = daxfs__read_full(image_fd, &more, 1);
		if (n != 0)
			r = daxfs__fail(n < 0 ? (int)-n : EFBIG,
					"image does not fit in the buffer (%lld bytes) at offset %lld: the stream has more than %llu bytes",
					(long long)bufsz, (long long)offset, (unsigned long long)room);
	}
	if (!r && !src.seekable)
		r = check_truncated(map, (size_t)got, (uint64_t)got, &src);
	r2 = daxfs__dmabuf_sync(dmabuf_fd, DMA_BUF_SYNC_END |
				(src.seekable ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_RW));
	if (!r && r2)
		r = daxfs__fail(r2, "DMA_BUF_IOCTL_SYNC end: %s", strerror(-r2));
out:
	munmap(base, maplen);
	return r;
}

void daxfs__desc_from_super(const void *p, struct daxfs_image_desc *d)
{
	const struct daxfs_super *sb = p;

	memset(d, 0, sizeof(*d));
	d->image_size = le64toh(sb->image_size);
	d->version = le32toh(sb->version);
	d->inode_count = le32toh(sb->inode_count);
	memcpy(d->uuid, sb->uuid, sizeof(d->uuid));
	memcpy(d->label, sb->label, DAXFS_LABEL_LEN);
	d->label[DAXFS_LABEL_LEN] = '\0';
}

static int parse_super(const uint8_t *p, struct daxfs_image_desc *d)
{
	const struct daxfs_super *sb = (const struct daxfs_super *)p;

	if (le32toh(sb->magic) != DAXFS_IMAGE_MAGIC)
		return daxfs__fail(EINVAL, "not a daxfs image (bad magic)");
	daxfs__desc_from_super(p, d);
	return 0;
}

/* A pipe, FIFO or socket (a dma-buf refuses pread(2) with ESPIPE too). */
static bool is_stream(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

DX_PUBLIC int daxfs_image_probe(int fd, off_t offset, struct daxfs_image_desc *desc)
{
	uint8_t *buf;
	ssize_t n;
	int r;

	daxfs__clear_error();
	if (!desc || offset < 0)
		return daxfs__fail(EINVAL, "bad argument");
	buf = malloc(DAXFS_SUPER_SIZE);
	if (!buf)
		return daxfs__fail(ENOMEM, "out of memory");
	n = daxfs__pread_full(fd, buf, DAXFS_SUPER_SIZE, (uint64_t)offset);
	if (n == DAXFS_SUPER_SIZE) {
		r = parse_super(buf, desc);
	} else if (n >= 0) {
		r = daxfs__fail(EINVAL, "not a daxfs image (%zd bytes, shorter than a superblock)", n);
	} else if (n == -ESPIPE && is_stream(fd)) {
		r = daxfs__fail(ESPIPE, "cannot probe a pipe or socket: reading the superblock would consume it");
	} else {
		/* A dma-buf has no read(): look through a mapping instead. */
		void *m;

		if ((size_t)offset % page_size()) {
			r = daxfs__fail(EINVAL, "offset not page-aligned");
		} else if ((m = mmap(NULL, (size_t)offset + DAXFS_SUPER_SIZE, PROT_READ, MAP_SHARED,
				     fd, 0)) == MAP_FAILED) {
			/* mapped from 0: see daxfs_dmabuf_fill() */
			r = daxfs__fail(errno, "read superblock: %s", strerror(errno));
		} else {
			daxfs__dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
			memcpy(buf, (uint8_t *)m + offset, DAXFS_SUPER_SIZE);
			daxfs__dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
			munmap(m, (size_t)offset + DAXFS_SUPER_SIZE);
			r = parse_super(buf, desc);
		}
	}
	free(buf);
	return r;
}
