// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The load pipeline, the one place that turns an image file into a mounted
 * dma-buf: daxfs_mount_image() and daxfs_load_image().
 *
 *   1. arguments (exporter, flags, offset, mount flags), before opening;
 *   2. the image: open it, read the superblock and check it with the
 *      module's own validator (format/daxfs_validate.c) against the size
 *      of the file or device, so that an image_size past the end of the
 *      file is "truncated" here instead of a buffer whose tail stays zero;
 *   3. the size: offset + image_size, and nothing larger; refused when the
 *      machine (MemAvailable, the memory cgroup, the hugetlb pool) cannot
 *      give it, before any exporter is asked;
 *   4. for a file or a block device, the metadata and the file tails with
 *      the validator too, still before allocating;
 *   5. allocate from the chosen exporter, map it, copy exactly image_size
 *      bytes, refusing a source that ends early (a file that shrinks while
 *      it is read, a pipe that delivers less); a pipe's metadata is
 *      validated from the buffer once it has arrived;
 *   6. mount (directly or through daxfs-mountd), drop our buffer fd: the
 *      mount keeps its own reference.
 * Every failure undoes what came before: nothing stays mounted or
 * allocated, and daxfs_last_error() says why.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include "internal.h"
#include "daxfs_validate.h"

#define HUGE_2M (2u << 20)
#define ALL_LOAD_FLAGS (DAXFS_LOAD_HUGETLB | DAXFS_LOAD_MOUNTD | DAXFS_LOAD_DRY_RUN | \
			DAXFS_LOAD_NO_MEMCHECK)

struct load {
	struct daxfs_load_opts o;	/* the caller's, normalised */
	struct daxfs_load_info info;	/* copied out at the end */
	struct daxfs_source src;
	struct daxfs_super *sb;		/* private copy, DAXFS_SUPER_SIZE bytes */
	uint64_t image_size;
	__u64 meta_len;
	uint64_t need;			/* offset + image_size */
	const uint8_t *map;		/* validator reads from here when set */
	char read_err[160];		/* a read error inside the validator */
	bool huge_first;		/* auto: a hugetlb udmabuf first, if pages are free */
	bool huge_used;			/* ... and that is what was allocated */
};

static void stage(struct load *l, unsigned int st)
{
	l->info.stage = st;
}

static void normalise(const struct daxfs_load_opts *in, struct daxfs_load_opts *out)
{
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!in)
		return;
	n = in->size < sizeof(*out) ? in->size : sizeof(*out);
	if (n > sizeof(size_t))
		memcpy((char *)out + sizeof(size_t), (const char *)in + sizeof(size_t),
		       n - sizeof(size_t));
	out->size = sizeof(*out);
}

static void copy_info(const struct load *l, struct daxfs_load_info *out)
{
	size_t n;

	if (!out || out->size <= sizeof(size_t))
		return;
	n = out->size < sizeof(l->info) ? out->size : sizeof(l->info);
	memcpy((char *)out + sizeof(size_t), (const char *)&l->info + sizeof(size_t),
	       n - sizeof(size_t));
}

static bool bad_heap_name(const char *h)
{
	return !*h || strchr(h, '/') || !strcmp(h, ".") || !strcmp(h, "..") || strlen(h) > 200;
}

static int check_args(struct load *l, const struct daxfs_load_opts *opts, const char *image,
		      bool mount, const char *target)
{
	const struct daxfs_load_opts *o = &l->o;

	if (opts && opts->size < offsetof(struct daxfs_load_opts, exporter))
		return daxfs__fail(EINVAL, "struct daxfs_load_opts: size %zu too small", opts->size);
	if (!image || !*image)
		return daxfs__fail(EINVAL, "no image");
	if (mount && (!target || !*target))
		return daxfs__fail(EINVAL, "no mount point");
	if (o->exporter > DAXFS_EXPORTER_DRM)
		return daxfs__fail(EINVAL, "unknown exporter %u", o->exporter);
	if (o->flags & ~ALL_LOAD_FLAGS)
		return daxfs__fail(EINVAL, "unknown flags %#x", o->flags & ~ALL_LOAD_FLAGS);
	if ((o->flags & DAXFS_LOAD_HUGETLB) && o->exporter != DAXFS_EXPORTER_UDMABUF)
		return daxfs__fail(EINVAL, "DAXFS_LOAD_HUGETLB needs the udmabuf exporter");
	if (o->exporter == DAXFS_EXPORTER_HEAP && o->exporter_arg && bad_heap_name(o->exporter_arg))
		return daxfs__fail(EINVAL, "bad heap name \"%s\"", o->exporter_arg);
	if (o->exporter == DAXFS_EXPORTER_DRM && (!o->exporter_arg || !*o->exporter_arg))
		return daxfs__fail(EINVAL, "the DRM exporter needs a device");
	if (o->offset % daxfs__page_size())
		return daxfs__fail(EINVAL, "offset %" PRIu64 " is not page-aligned", o->offset);
	if (mount && (o->mount_flags & ~(unsigned long)DAXFS_ALLOWED_MS_FLAGS_))
		return daxfs__fail(EINVAL, "unsupported mount flags %#lx",
				   o->mount_flags & ~(unsigned long)DAXFS_ALLOWED_MS_FLAGS_);
	return 0;
}

/* The validator's verdict as our error. */
static int validator_fail(struct load *l, int rc, const struct daxfs_verr *err)
{
	switch (rc) {
	case -EINVAL:
		return daxfs__fail(EINVAL, "not a daxfs image (%s)", err->msg);
	case -EOPNOTSUPP:
		return daxfs__fail(EOPNOTSUPP, "unsupported image: %s", err->msg);
	case -EUCLEAN:
		return daxfs__fail(EUCLEAN, "invalid image: %s", err->msg);
	case -ENOMEM:
		return daxfs__fail(ENOMEM, "validating the image: %s", err->msg);
	default:
		/* an error of our read function, which said why */
		return daxfs__fail(rc, "%s", l->read_err[0] ? l->read_err : err->msg);
	}
}

/* The validator's reader for the file tails: from the source or our mapping. */
static int read_image(void *priv, __u64 off, void *dst, __u32 len)
{
	struct load *l = priv;
	ssize_t n;

	if (off > l->image_size || len > l->image_size - off) {
		snprintf(l->read_err, sizeof(l->read_err), "read past the image end at %llu",
			 (unsigned long long)off);
		return -ERANGE;
	}
	if (l->map) {
		memcpy(dst, l->map + off, len);
		return 0;
	}
	n = daxfs__pread_full(l->src.fd, dst, len, off);
	if (n < 0) {
		snprintf(l->read_err, sizeof(l->read_err), "read image: %s", strerror((int)-n));
		return (int)n;
	}
	if ((size_t)n < len) {
		snprintf(l->read_err, sizeof(l->read_err),
			 "image shrank while loading: image_size %llu, only %llu bytes could be read",
			 (unsigned long long)l->image_size, (unsigned long long)(off + (uint64_t)n));
		return -ENODATA;
	}
	return 0;
}

/* Step 2: the superblock, against the size of a file or a device. */
static int read_super(struct load *l)
{
	struct daxfs_verr verr = { { 0 } };
	ssize_t n;
	int rc;

	l->sb = malloc(DAXFS_SUPER_SIZE);
	if (!l->sb)
		return daxfs__fail(ENOMEM, "out of memory");
	if (l->src.seekable)
		n = daxfs__pread_full(l->src.fd, l->sb, DAXFS_SUPER_SIZE, 0);
	else
		n = daxfs__read_full(l->src.fd, l->sb, DAXFS_SUPER_SIZE);
	if (n < 0)
		return daxfs__fail((int)-n, "read image: %s", strerror((int)-n));
	if (n < DAXFS_SUPER_SIZE) {
		bool magic = (size_t)n >= sizeof(l->sb->magic) &&
			     le32toh(l->sb->magic) == DAXFS_IMAGE_MAGIC;
		size_t head = offsetof(struct daxfs_super, image_size) + sizeof(l->sb->image_size);

		if (magic && (size_t)n >= head)
			return daxfs__fail_truncated(le64toh(l->sb->image_size), &l->src, (uint64_t)n);
		if (magic)
			return daxfs__fail(ENODATA, "truncated: the %s has %zd bytes, less than a superblock",
					   l->src.noun, n);
		if (n == 0)
			return daxfs__fail(EINVAL, "not a daxfs image (the %s is empty)", l->src.noun);
		return daxfs__fail(EINVAL, "not a daxfs image (%zd bytes, shorter than a superblock)", n);
	}
	/* A stream's size is unknown: only what arrives will tell (step 5). */
	rc = daxfs_check_super(l->sb, l->src.seekable ? l->src.size : DAXFS_MAX_IMAGE_SIZE,
			       &l->meta_len, &verr);
	if (rc == -EFBIG)
		return daxfs__fail_truncated(le64toh(l->sb->image_size), &l->src, l->src.size);
	if (rc)
		return validator_fail(l, rc, &verr);
	l->image_size = le64toh(l->sb->image_size);
	daxfs__desc_from_super(l->sb, &l->info.desc);
	return 0;
}

/* Step 3: the size, against what the machine can give. */
static int check_memory(struct load *l)
{
	bool huge = l->o.flags & DAXFS_LOAD_HUGETLB;
	uint64_t align = huge ? HUGE_2M : daxfs__page_size(), avail;
	char why[PATH_MAX + 128];

	if (l->o.offset > UINT64_MAX - l->image_size ||
	    l->o.offset + l->image_size > (uint64_t)SIZE_MAX - align)
		return daxfs__fail(EOVERFLOW, "offset %" PRIu64 " + image_size %" PRIu64 " is too large",
				   l->o.offset, l->image_size);
	l->need = l->o.offset + l->image_size;
	l->info.buffer_size = (l->need + align - 1) & ~(align - 1);
	if (l->o.flags & DAXFS_LOAD_NO_MEMCHECK)
		return 0;
	avail = daxfs__mem_available(NULL, huge, why, sizeof(why));
	if (l->info.buffer_size > avail)
		return daxfs__fail(ENOMEM, "not enough memory: the buffer needs %" PRIu64
				   " bytes, %" PRIu64 " are available (%s)",
				   l->info.buffer_size, avail, why);
	return 0;
}

/* The metadata (copied out of @from, or read from the source) and the tails. */
static int check_meta(struct load *l, const uint8_t *from)
{
	struct daxfs_verr verr = { { 0 } };
	uint64_t inode_off = le64toh(l->sb->inode_off);
	void *meta;
	int rc;

	if (l->meta_len > SIZE_MAX)
		return daxfs__fail(ENOMEM, "metadata of %llu bytes", (unsigned long long)l->meta_len);
	meta = malloc(l->meta_len ? (size_t)l->meta_len : 1);
	if (!meta)
		return daxfs__fail(ENOMEM, "out of memory for %llu bytes of metadata",
				   (unsigned long long)l->meta_len);
	if (from) {
		memcpy(meta, from + inode_off, (size_t)l->meta_len);
	} else {
		ssize_t n = daxfs__pread_full(l->src.fd, meta, (size_t)l->meta_len, inode_off);

		if (n < 0 || (uint64_t)n < l->meta_len) {
			free(meta);
			if (n < 0)
				return daxfs__fail((int)-n, "read image: %s", strerror((int)-n));
			return daxfs__fail(ENODATA,
					   "image shrank while loading: image_size %" PRIu64
					   ", only %" PRIu64 " bytes could be read",
					   l->image_size, inode_off + (uint64_t)n);
		}
	}
	l->map = from;
	rc = daxfs_check_meta(l->sb, meta, read_image, l, &verr);
	l->map = NULL;
	free(meta);
	return rc ? validator_fail(l, rc, &verr) : 0;
}

/*
 * Are there free 2 MiB huge pages, not promised to anyone, for @need bytes?
 * Images under 2 MiB would only waste one.
 */
static bool huge_pages_for(uint64_t need)
{
	uint64_t avail;

	if (need < (2u << 20))
		return false;
	avail = daxfs__mem_available(NULL, true, NULL, 0);
	return avail != UINT64_MAX && avail >= ((need + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1));
}

static int alloc_buffer(struct load *l, daxfs__alloc_fn alloc, void *priv)
{
	const struct daxfs_load_opts *o = &l->o;
	char *name = l->info.exporter;
	size_t nl = sizeof(l->info.exporter);
	const char *heap = o->exporter_arg ? o->exporter_arg : "system";
	int fd;

	if (alloc)
		return alloc(priv, (size_t)l->need, name, nl);
	switch (o->exporter) {
	case DAXFS_EXPORTER_HEAP:
		snprintf(name, nl, "heap:%s", heap);
		return daxfs_dmabuf_alloc_heap(heap, (size_t)l->need);
	case DAXFS_EXPORTER_UDMABUF:
		snprintf(name, nl, "udmabuf%s", o->flags & DAXFS_LOAD_HUGETLB ? " (hugetlb)" : "");
		return daxfs_dmabuf_alloc_udmabuf((size_t)l->need,
						  o->flags & DAXFS_LOAD_HUGETLB ? DAXFS_UDMABUF_HUGETLB : 0);
	case DAXFS_EXPORTER_DRM:
		snprintf(name, nl, "drm:%s", o->exporter_arg);
		return daxfs_dmabuf_alloc_drm(o->exporter_arg, (size_t)l->need);
	default:
		/*
		 * Huge pages the administrator reserved and nobody holds give
		 * PMD mappings: take them first (daxfs_mount_image() only, which
		 * can fall back if the kernel cannot import the buffer).
		 */
		if (l->huge_first && l->src.seekable && huge_pages_for(l->need)) {
			fd = daxfs_dmabuf_alloc_udmabuf((size_t)l->need, DAXFS_UDMABUF_HUGETLB);
			if (fd >= 0) {
				snprintf(name, nl, "udmabuf (hugetlb)");
				l->huge_used = true;
				return fd;
			}
			daxfs__clear_error();	/* the usual order then */
		}
		return daxfs_dmabuf_alloc_auto((size_t)l->need, name, nl);
	}
}

/* Step 5: copy image_size bytes into the buffer at the offset. */
static int fill(struct load *l, int bfd)
{
	const struct daxfs_load_opts *o = &l->o;
	uint64_t flags = DMA_BUF_SYNC_WRITE | (l->src.seekable ? 0 : DMA_BUF_SYNC_READ);
	uint64_t total = l->image_size, start = 0;
	uint8_t *base, *map;
	int64_t got;
	int r, r2;

	stage(l, DAXFS_STAGE_FILL);
	/* Mapped from 0 and written at +offset: see daxfs_dmabuf_fill(). */
	base = mmap(NULL, (size_t)l->need, PROT_READ | PROT_WRITE, MAP_SHARED, bfd, 0);
	if (base == MAP_FAILED)
		return daxfs__fail(errno, "mmap dma-buf: %s", strerror(errno));
	map = base + o->offset;
	r = daxfs__dmabuf_sync(bfd, DMA_BUF_SYNC_START | flags);
	if (r) {
		r = daxfs__fail(r, "DMA_BUF_IOCTL_SYNC start: %s", strerror(-r));
		goto out;
	}
	stage(l, DAXFS_STAGE_IMAGE);
	if (o->progress)
		o->progress(0, total, o->progress_arg);
	if (!l->src.seekable) {
		/* The superblock came first, for the validator. */
		memcpy(map, l->sb, DAXFS_SUPER_SIZE);
		start = DAXFS_SUPER_SIZE;
		if (o->progress)
			o->progress(start, total, o->progress_arg);
	}
	got = daxfs__copy_in(map + start, &l->src, start, total - start, start, total,
			     o->progress, o->progress_arg);
	if (got < 0) {
		r = (int)got;
	} else if ((uint64_t)got < total - start) {
		if (l->src.seekable)
			r = daxfs__fail(ENODATA, "image shrank while loading: image_size %" PRIu64
					", only %" PRIu64 " bytes could be read",
					total, start + (uint64_t)got);
		else
			r = daxfs__fail_truncated(total, &l->src, start + (uint64_t)got);
	} else if (!l->src.seekable) {
		/* Only now has a stream's metadata arrived. */
		r = check_meta(l, map);
	}
	if (!r)
		stage(l, DAXFS_STAGE_FILL);
	r2 = daxfs__dmabuf_sync(bfd, DMA_BUF_SYNC_END | flags);
	if (!r && r2)
		r = daxfs__fail(r2, "DMA_BUF_IOCTL_SYNC end: %s", strerror(-r2));
out:
	munmap(base, (size_t)l->need);
	return r;
}

/* Steps 1-5; the filled buffer's fd, 0 for a dry run, or -errno. */
static int load(struct load *l, const char *image, const struct daxfs_load_opts *opts,
		bool mount, const char *target, daxfs__alloc_fn alloc, void *priv)
{
	int ifd = -1, bfd = -1, r;

	daxfs__clear_error();
	normalise(opts, &l->o);
	l->info.size = sizeof(l->info);
	l->src.fd = -1;
	stage(l, DAXFS_STAGE_ARGS);
	r = check_args(l, opts, image, mount, target);
	if (r)
		return r;

	stage(l, DAXFS_STAGE_IMAGE);
	ifd = open(image, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (ifd < 0)
		return daxfs__fail(errno, "%s", strerror(errno));
	r = daxfs__source_init(&l->src, ifd);
	if (r) {
		r = daxfs__fail(r, "%s", strerror(-r));
		goto out;
	}
	r = read_super(l);
	if (r)
		goto out;

	stage(l, DAXFS_STAGE_MEMORY);
	r = check_memory(l);
	if (r)
		goto out;

	if (l->src.seekable) {
		stage(l, DAXFS_STAGE_IMAGE);
		r = check_meta(l, NULL);
		if (r)
			goto out;
	}
	if (l->o.flags & DAXFS_LOAD_DRY_RUN) {
		stage(l, DAXFS_STAGE_DONE);
		r = 0;
		goto out;
	}

	stage(l, DAXFS_STAGE_ALLOC);
	bfd = alloc_buffer(l, alloc, priv);
	if (bfd < 0) {
		r = bfd;
		goto out;
	}
	r = fill(l, bfd);
	if (r) {
		close(bfd);
		goto out;
	}
	r = bfd;
out:
	free(l->sb);
	l->sb = NULL;
	if (ifd >= 0)
		close(ifd);
	return r;
}

int daxfs__load_image_with(const char *image, const struct daxfs_load_opts *opts,
			   daxfs__alloc_fn alloc, void *priv)
{
	struct load l;
	int r;

	memset(&l, 0, sizeof(l));
	r = load(&l, image, opts, false, NULL, alloc, priv);
	if (r >= 0)
		stage(&l, DAXFS_STAGE_DONE);
	copy_info(&l, l.o.info);
	return r;
}

DX_PUBLIC int daxfs_load_image(const char *image, const struct daxfs_load_opts *opts)
{
	return daxfs__load_image_with(image, opts, NULL, NULL);
}

/* Load and mount once; the fd is closed, @l keeps what happened. */
static int mount_once(struct load *l, const char *image, const char *target,
		      const struct daxfs_load_opts *opts)
{
	struct daxfs_mount_opts mo = { .size = sizeof(mo) };
	int bfd, r;

	bfd = load(l, image, opts, true, target, NULL, NULL);
	if (bfd < 0 || (l->o.flags & DAXFS_LOAD_DRY_RUN))
		return bfd;
	stage(l, DAXFS_STAGE_MOUNT);
	mo.offset = l->o.offset;
	mo.flags = l->o.mount_flags;
	mo.options = l->o.mount_options;
	if (l->o.flags & DAXFS_LOAD_MOUNTD)
		r = daxfs_mountd_request(l->o.mountd_socket, bfd, target, &mo);
	else
		r = daxfs_mount_dmabuf_opts(bfd, target, &mo);
	/* The mount holds its own reference to the buffer. */
	close(bfd);
	if (!r)
		stage(l, DAXFS_STAGE_DONE);
	return r;
}

DX_PUBLIC int daxfs_mount_image(const char *image, const char *target,
				const struct daxfs_load_opts *opts)
{
	char first[sizeof(((struct daxfs_load_info *)0)->exporter)];
	struct load l;
	int r;

	memset(&l, 0, sizeof(l));
	l.huge_first = true;
	r = mount_once(&l, image, target, opts);
	/*
	 * The image was validated on the way in, so a kernel that finds it
	 * corrupt read other bytes through the buffer: udmabuf's vmap of
	 * hugetlb pages is wrong on some kernels (6.12).  Once more, in the
	 * usual order, saying so.
	 */
	if (r == -EUCLEAN && l.huge_used) {
		snprintf(first, sizeof(first), "%s", l.info.exporter);
		memset(&l, 0, sizeof(l));
		r = mount_once(&l, image, target, opts);
		if (r == 0) {
			size_t n = strlen(l.info.exporter);

			snprintf(l.info.exporter + n, sizeof(l.info.exporter) - n,
				 " (%s refused by this kernel)", first);
		}
	}
	copy_info(&l, l.o.info);
	return r;
}
