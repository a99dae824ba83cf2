// SPDX-License-Identifier: GPL-2.0
/*
 * daxfs: backings.  A backing maps the buffer that holds an image (a
 * dma-buf, a physical range, a DAX block device or a device-dax character
 * device), copies the superblock
 * and the metadata into kernel memory, validates that copy with the shared
 * validator and from then on serves the tree from the copy only.
 *
 * The buffer stays writable by others (the exporter, a GPU, the process
 * that made it): file data read from it may be garbage, but every access
 * stays inside [offset, offset + image_size) of the buffer, computed from
 * the validated copy.
 */
#include <linux/blkdev.h>
#include <linux/cdev.h>
#include <linux/dax.h>
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-direction.h>
#include <linux/dma-resv.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/namei.h>
#include <linux/notifier.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "internal.h"
#include "compat.h"
#include "../format/daxfs_validate.h"

/* Bounce buffer size for buffers whose vmap is I/O memory. */
#define DAXFS_IO_CHUNK	256u

/*
 * The metadata budget.  Every backing (an import, or a mount made straight
 * from a dma-buf fd, a phys= range or a DAX device) keeps a private copy of
 * the image metadata, up to INT_MAX bytes each; the count limits of dev.c
 * bound how many, not how big.  All copies together may hold at most
 * max_meta_mb MiB; a load that would exceed it fails with ENOSPC (the errno
 * of the other "too many imports" limit) and says so in the kernel log.
 * The bytes are charged when the copy is allocated and given back when the
 * backing is freed (last import release or unmount).
 *
 * max_meta_mb: 0 (the default) means an eighth of the RAM, as is writing 0.
 * Writable at run time by root; lowering it below what is in use refuses
 * new loads until enough is released, and takes nothing away.
 * meta_bytes (read-only): the bytes charged now.
 *
 * The copies are also charged to the memory cgroup of the process that
 * imports or mounts (GFP_KERNEL_ACCOUNT), so a confined importer is held
 * by its own memory.max as well.
 */
static u64 daxfs_max_meta_mb;
static atomic64_t daxfs_meta_bytes = ATOMIC64_INIT(0);

#define DAXFS_MAX_META_MB_MAX	(U64_MAX >> 20)

static u64 daxfs_meta_limit_mb(void)
{
	u64 mb = READ_ONCE(daxfs_max_meta_mb);

	if (mb)
		return mb;
	/* An eighth of the RAM, at least 1 MiB. */
	return max_t(u64, (u64)totalram_pages() >> (20 - PAGE_SHIFT) >> 3, 1);
}

static int daxfs_max_meta_mb_set(const char *val, const struct kernel_param *kp)
{
	u64 mb;
	int ret;

	ret = kstrtou64(val, 0, &mb);
	if (ret)
		return ret;
	if (mb > DAXFS_MAX_META_MB_MAX)
		return -ERANGE;
	WRITE_ONCE(daxfs_max_meta_mb, mb);
	return 0;
}

static int daxfs_max_meta_mb_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%llu\n", daxfs_meta_limit_mb());
}

static const struct kernel_param_ops daxfs_max_meta_mb_ops = {
	.set	= daxfs_max_meta_mb_set,
	.get	= daxfs_max_meta_mb_get,
};
module_param_cb(max_meta_mb, &daxfs_max_meta_mb_ops, NULL, 0644);
MODULE_PARM_DESC(max_meta_mb,
		 "MiB of image metadata all imports and mounts may copy into the kernel (0: RAM/8)");

static int daxfs_meta_bytes_set(const char *val, const struct kernel_param *kp)
{
	return -EPERM;
}

static int daxfs_meta_bytes_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lld\n", (s64)atomic64_read(&daxfs_meta_bytes));
}

static const struct kernel_param_ops daxfs_meta_bytes_ops = {
	.set	= daxfs_meta_bytes_set,
	.get	= daxfs_meta_bytes_get,
};
module_param_cb(meta_bytes, &daxfs_meta_bytes_ops, NULL, 0444);
MODULE_PARM_DESC(meta_bytes, "bytes of image metadata held now (read-only)");

/* Charge @len bytes of metadata to the budget, or -ENOSPC. */
static int daxfs_meta_charge(struct daxfs_backing *b, u64 len)
{
	u64 limit = daxfs_meta_limit_mb() << 20;
	s64 used = atomic64_read(&daxfs_meta_bytes);

	do {
		if (len > limit || (u64)used > limit - len) {
			pr_err_ratelimited("(%s): metadata of %llu bytes refused: %lld of the %llu bytes of max_meta_mb=%llu already held\n",
					   b->name, len, used, limit, limit >> 20);
			return -ENOSPC;
		}
	} while (!atomic64_try_cmpxchg(&daxfs_meta_bytes, &used, used + len));
	b->meta_charged = len;
	return 0;
}

static struct daxfs_backing *daxfs_backing_alloc(enum daxfs_kind kind)
{
	struct daxfs_backing *b = kzalloc(sizeof(*b), GFP_KERNEL_ACCOUNT);

	if (!b)
		return NULL;
	kref_init(&b->ref);
	b->kind = kind;
	atomic_set(&b->mounts, 0);
	INIT_LIST_HEAD(&b->phys_node);
	mutex_init(&b->devdax_lock);
	return b;
}

/*
 * Dynamic exporters (TTM: amdgpu, xe, radeon, nouveau) may move a buffer's
 * backing store while it is only vmapped, leaving the kernel mapping and
 * the user PTEs made from it pointing at freed pages.  An import of such a
 * buffer attaches dynamically and pins it for its whole life, so the
 * exporter keeps it in place; a buffer that cannot be pinned is refused.
 * Static exporters (udmabuf, DMA heaps, vgem) never move a buffer: their
 * vmap holds the pages, and no attachment is needed.
 *
 * The pin is why the move callback has nothing to do: an exporter that
 * honours pins does not move the buffer, so the mappings stay valid.  One
 * that sends the notification anyway is named in the log.
 */
static void daxfs_move_notify(struct dma_buf_attachment *attach)
{
	struct daxfs_backing *b = attach->importer_priv;

	pr_warn_ratelimited("(%s): the exporter announced a move of a buffer daxfs holds pinned; its mappings are kept\n",
			    b->name);
}

static const struct dma_buf_attach_ops daxfs_importer_ops = {
	.allow_peer2peer	= false,
	.DAXFS_ATTACH_OPS_MOVE	= daxfs_move_notify,
};

static int daxfs_dmabuf_attach_pin(struct daxfs_backing *b)
{
	struct dma_buf_attachment *attach;
	int ret;

	if (!dma_buf_is_dynamic(b->dmabuf))
		return 0;
	attach = dma_buf_dynamic_attach(b->dmabuf, daxfs_dev_device(),
					&daxfs_importer_ops, b);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		pr_err("(%s): cannot attach to the buffer (%d)\n", b->name, ret);
		return ret;
	}
	b->attach = attach;
	ret = dma_resv_lock_interruptible(b->dmabuf->resv, NULL);
	if (ret)
		return ret;
	ret = dma_buf_pin(attach);
	dma_resv_unlock(b->dmabuf->resv);
	if (ret) {
		pr_err("(%s): cannot pin the buffer (%d): its exporter could move it under the mount; refused\n",
		       b->name, ret);
		return ret;
	}
	b->pinned = true;
	return 0;
}

static void daxfs_dmabuf_detach(struct daxfs_backing *b)
{
	if (!b->attach)
		return;
	if (b->pinned) {
		dma_resv_lock(b->dmabuf->resv, NULL);
		dma_buf_unpin(b->attach);
		dma_resv_unlock(b->dmabuf->resv);
	}
	dma_buf_detach(b->dmabuf, b->attach);
	b->attach = NULL;
	b->pinned = false;
}

/*
 * Live phys= backings, each holding its claim on its range: a mount of the
 * same range (address, size and offset) shares the backing, one that
 * overlaps it otherwise fails with EBUSY.
 */
static LIST_HEAD(daxfs_phys_list);
static DEFINE_MUTEX(daxfs_phys_lock);	/* protects daxfs_phys_list */

/*
 * Reads and faults of a device-dax backing run inside this SRCU and check
 * dax_dead; the unbind notification sets it and waits for them to end
 * before it removes the mappings (daxfs_devdax_notify()).
 */
DEFINE_STATIC_SRCU(daxfs_devdax_srcu);

static void daxfs_backing_release(struct kref *ref)
{
	struct daxfs_backing *b = container_of(ref, struct daxfs_backing, ref);

	kvfree(b->meta);
	if (b->meta_charged)
		atomic64_sub(b->meta_charged, &daxfs_meta_bytes);
	switch (b->kind) {
	case DAXFS_DMABUF:
		if (b->dmabuf) {
			if (!iosys_map_is_null(&b->map))
				daxfs_dma_buf_vunmap(b->dmabuf, &b->map);
			daxfs_dmabuf_detach(b);
			dma_buf_put(b->dmabuf);
		}
		break;
	case DAXFS_PHYS:
		if (b->vaddr)
			memunmap(b->vaddr);
		mutex_lock(&daxfs_phys_lock);
		list_del(&b->phys_node);
		if (b->phys_res)
			release_mem_region(b->phys, b->buf_size);
		mutex_unlock(&daxfs_phys_lock);
		break;
	case DAXFS_DAX:
		if (b->dax_dev) {
			fs_put_dax(b->dax_dev, b);
			/* No notification still looking at @b (super.c). */
			daxfs_dax_holder_sync();
		}
		break;
	case DAXFS_DEVDAX:
		/* Waits for a notification that is running. */
		if (b->devdax_nb_registered)
			bus_unregister_notifier(b->devdax_dev->bus, &b->devdax_nb);
		if (b->vaddr)
			memunmap(b->vaddr);
		mutex_lock(&daxfs_phys_lock);
		list_del(&b->phys_node);
		mutex_unlock(&daxfs_phys_lock);
		put_device(b->devdax_dev);
		if (b->devdax_file)
			fput(b->devdax_file);
		break;
	}
	mutex_destroy(&b->devdax_lock);
	kfree(b);
}

void daxfs_backing_get(struct daxfs_backing *b)
{
	kref_get(&b->ref);
}

void daxfs_backing_put(struct daxfs_backing *b)
{
	if (b)
		kref_put(&b->ref, daxfs_backing_release);
}

/*
 * Copy @len bytes at image offset @off.  The caller has checked that the
 * range lies inside the image; this checks again, as it is cheap.
 */
int daxfs_backing_read(struct daxfs_backing *b, u64 off, void *dst, size_t len)
{
	u64 end;

	if (check_add_overflow(off, (u64)len, &end) || end > b->image_size)
		return -EIO;
	off += b->offset;
	if (b->is_iomem) {
		memcpy_fromio(dst, b->vaddr_iomem + off, len);
	} else if (b->kind == DAXFS_DAX) {
		/*
		 * Known bad blocks (dax_direct_access() refuses them), or a
		 * media error met by the copy: EIO, not a machine check.
		 * The caller holds the dax read lock.
		 */
		u64 at = b->dax_start_off + off;
		long nr = DIV_ROUND_UP(offset_in_page(at) + len, PAGE_SIZE);
		void *kaddr;

		if (dax_direct_access(b->dax_dev, PHYS_PFN(at), nr, DAX_ACCESS,
				      &kaddr, NULL) < nr ||
		    copy_mc_to_kernel(dst, kaddr + offset_in_page(at), len))
			return -EIO;
	} else if (b->kind == DAXFS_DEVDAX) {
		/* pmem or CXL memory: a media error is EIO, not a machine check */
		if (copy_mc_to_kernel(dst, b->vaddr + off, len))
			return -EIO;
	} else {
		memcpy(dst, b->vaddr + off, len);
	}
	return 0;
}

/*
 * One step of a read from memory that may hold media errors: copy @n bytes
 * from @src to @to with a machine-check-safe copy and add them to *@done.
 * False when the read must stop: the copy was short (*@err becomes -EIO if
 * the source stopped it; else the caller's buffer faulted) or a fatal
 * signal is pending.
 */
static bool daxfs_copy_mc(void *src, size_t n, struct iov_iter *to,
			  size_t *done, int *err)
{
	size_t c = _copy_mc_to_iter(src, n, to);
	u8 probe;

	*done += c;
	if (c < n) {
		if (copy_mc_to_kernel(&probe, src + c, 1))
			*err = -EIO;
		return false;
	}
	if (fatal_signal_pending(current))
		return false;
	cond_resched();
	return true;
}

/*
 * Reads from a DAX device, as fs/dax.c makes them: dax_direct_access() for
 * each piece, which refuses a range with known bad blocks (pmem: -EHWPOISON
 * for the whole request, so a failed piece is tried again one page at a
 * time), then a machine-check-safe copy, which stops short at a media
 * error.  dax_copy_to_iter() is not exported: _copy_mc_to_iter() is what it
 * does for pmem.  The read stops at the first bad page, and read() returns
 * the bytes before it (EIO when there are none).  The caller holds the dax
 * read lock (daxfs_backing_begin_read()); @off is a buffer offset.
 */
static ssize_t daxfs_dax_copy_to_iter(struct daxfs_backing *b, u64 off,
				      size_t len, struct iov_iter *to)
{
	bool one_page = false;
	size_t done = 0;
	int err = 0;

	while (done < len) {
		u64 at = b->dax_start_off + off + done;
		size_t in_page = offset_in_page(at);
		size_t n = min_t(size_t, len - done, SZ_1M);
		void *kaddr;
		long got;

		if (READ_ONCE(b->dax_dead)) {
			err = -EIO;
			break;
		}
		if (one_page)
			n = min_t(size_t, n, PAGE_SIZE - in_page);
		got = dax_direct_access(b->dax_dev, PHYS_PFN(at),
					DIV_ROUND_UP(in_page + n, PAGE_SIZE),
					DAX_ACCESS, &kaddr, NULL);
		if (got <= 0) {
			if (!one_page && in_page + n > PAGE_SIZE) {
				one_page = true;
				continue;
			}
			err = -EIO;
			break;
		}
		n = min_t(size_t, n, ((size_t)got << PAGE_SHIFT) - in_page);
		if (!daxfs_copy_mc(kaddr + in_page, n, to, &done, &err))
			break;
	}
	return done ? (ssize_t)done : err;
}

/*
 * Reads from device-dax memory: a machine-check-safe copy, which stops
 * short at a media error (then EIO, or the bytes before it).  The caller
 * holds the read side (daxfs_backing_begin_read()); @off is a buffer offset.
 */
static ssize_t daxfs_devdax_copy_to_iter(struct daxfs_backing *b, u64 off,
					 size_t len, struct iov_iter *to)
{
	size_t done = 0;
	int err = 0;

	while (done < len &&
	       daxfs_copy_mc(b->vaddr + off + done, min_t(size_t, len - done, SZ_1M),
			     to, &done, &err))
		;
	return done ? (ssize_t)done : err;
}

/*
 * Copy file bytes to an iterator.  Returns the number of bytes copied (0 or
 * short only where the destination faulted, or on a fatal signal), or -EIO
 * when nothing was copied because of the source: a range outside the image
 * (a bounds check that cannot fail on a validated copy), a media error or
 * a dead DAX device.
 */
ssize_t daxfs_backing_copy_to_iter(struct daxfs_backing *b, u64 off,
				   size_t len, struct iov_iter *to)
{
	size_t done = 0;
	u64 end;

	if (check_add_overflow(off, (u64)len, &end) || end > b->image_size)
		return -EIO;
	off += b->offset;

	if (b->kind == DAXFS_DAX)
		return daxfs_dax_copy_to_iter(b, off, len, to);
	if (b->kind == DAXFS_DEVDAX)
		return daxfs_devdax_copy_to_iter(b, off, len, to);
	if (!b->is_iomem) {
		while (done < len) {
			size_t n = min_t(size_t, len - done, SZ_1M);
			size_t c = copy_to_iter(b->vaddr + off + done, n, to);

			done += c;
			if (c < n || fatal_signal_pending(current))
				break;
			cond_resched();
		}
		return done;
	}

	while (done < len) {
		u8 bounce[DAXFS_IO_CHUNK];
		size_t n = min_t(size_t, len - done, sizeof(bounce));
		size_t c;

		memcpy_fromio(bounce, b->vaddr_iomem + off + done, n);
		c = copy_to_iter(bounce, n, to);
		done += c;
		if (c < n)
			break;
		if (!(done & (SZ_64K - 1))) {
			if (fatal_signal_pending(current))
				break;
			cond_resched();
		}
	}
	return done;
}

/*
 * Bracket CPU reads: begin/end_cpu_access for a dma-buf; for a DAX device
 * the dax read lock, and refuse once the device is going away (its kernel
 * mapping goes with it).  Returns a cookie for daxfs_backing_end_read() or
 * a negative errno.
 */
int daxfs_backing_begin_read(struct daxfs_backing *b)
{
	int id;

	switch (b->kind) {
	case DAXFS_DMABUF:
		return dma_buf_begin_cpu_access(b->dmabuf, DMA_FROM_DEVICE);
	case DAXFS_DAX:
		id = dax_read_lock();
		/* dax_dead: told the device goes, before dax_alive() says so. */
		if (!dax_alive(b->dax_dev) || READ_ONCE(b->dax_dead)) {
			dax_read_unlock(id);
			return -ENXIO;
		}
		return id;
	case DAXFS_DEVDAX:
		id = srcu_read_lock(&daxfs_devdax_srcu);
		/* dax_dead: the device is unbinding (daxfs_devdax_notify()). */
		if (READ_ONCE(b->dax_dead)) {
			srcu_read_unlock(&daxfs_devdax_srcu, id);
			return -ENXIO;
		}
		/* Held until daxfs_backing_end_read(): tell sparse. */
		__release(&daxfs_devdax_srcu);
		return id;
	default:
		return 0;
	}
}

void daxfs_backing_end_read(struct daxfs_backing *b, int cookie)
{
	switch (b->kind) {
	case DAXFS_DMABUF:
		dma_buf_end_cpu_access(b->dmabuf, DMA_FROM_DEVICE);
		break;
	case DAXFS_DAX:
		dax_read_unlock(cookie);
		break;
	case DAXFS_DEVDAX:
		__acquire(&daxfs_devdax_srcu);	/* taken by begin_read */
		srcu_read_unlock(&daxfs_devdax_srcu, cookie);
		break;
	default:
		break;
	}
}

/*
 * PFN (and pfn_t flags, for DAX) of the page at image offset @off, for
 * mmap.  -ENODEV when the buffer's pages cannot be mapped to user space.
 */
int daxfs_backing_pfn(struct daxfs_backing *b, u64 off, unsigned long *pfn,
		      u64 *flags)
{
	u64 at;

	if (off >= b->image_size)
		return -EFAULT;
	at = b->offset + off;
	*flags = 0;
	switch (b->kind) {
	case DAXFS_DMABUF: {
		void *p;

		if (b->is_iomem)
			return -ENODEV;
		p = b->vaddr + at;
		if (b->vmap_in_vmalloc) {
			*pfn = vmalloc_to_pfn(p);
			if (!*pfn)
				return -EFAULT;
		} else {
			*pfn = PHYS_PFN(virt_to_phys(p));
		}
		return 0;
	}
	case DAXFS_PHYS:
	case DAXFS_DEVDAX:
		*pfn = PHYS_PFN(b->phys + at);
		return 0;
	case DAXFS_DAX:
		if (!daxfs_backing_dax_ok(b, off, 1))
			return -EIO;
		*pfn = b->dax_pfn + PHYS_PFN(at);
		*flags = b->dax_pfn_flags;
		return 0;
	}
	return -EINVAL;
}

/*
 * May @nr pages of a DAX device from image offset @off be mapped?  Not
 * where the device knows bad blocks (dax_direct_access() refuses a range
 * with any: pmem gives -EHWPOISON), so that a fault raises SIGBUS there,
 * as for a file on fsdax, instead of mapping poisoned memory.  The caller
 * holds the dax read lock (daxfs_backing_begin_read()).
 */
bool daxfs_backing_dax_ok(struct daxfs_backing *b, u64 off, long nr)
{
	void *kaddr;

	return dax_direct_access(b->dax_dev,
				 PHYS_PFN(b->dax_start_off + b->offset + off), nr,
				 DAX_ACCESS, &kaddr, NULL) >= nr;
}

static int daxfs_read_cb(void *priv, __u64 off, void *dst, __u32 len)
{
	return daxfs_backing_read(priv, off, dst, len);
}

/*
 * Copy and validate the superblock and the metadata.  On failure a line
 * naming the source and the validator's message goes to the kernel log.
 */
static int daxfs_backing_load(struct daxfs_backing *b)
{
	struct daxfs_verr err = {};
	u64 avail = b->buf_size - b->offset;
	u64 meta_len, inode_off, dirent_off, names_off;
	int ret;

	if (avail < DAXFS_SUPER_SIZE) {
		pr_err("(%s): buffer too small for a superblock (%llu bytes)\n",
		       b->name, avail);
		return -EINVAL;
	}
	/* The validated sizes are checked against the buffer, not the image. */
	b->image_size = avail;
	ret = daxfs_backing_read(b, 0, &b->super, sizeof(b->super));
	if (ret)
		return ret;
	ret = daxfs_check_super(&b->super, avail, &meta_len, &err);
	if (ret) {
		pr_err("(%s): %s\n", b->name, err.msg);
		return ret;
	}
	inode_off = le64_to_cpu(b->super.inode_off);
	if (meta_len > INT_MAX) {
		pr_err("(%s): metadata too large to copy (%llu bytes)\n",
		       b->name, meta_len);
		return -ENOMEM;
	}
	ret = daxfs_meta_charge(b, meta_len);
	if (ret)
		return ret;
	/*
	 * vmalloc above a page: kvmalloc() would first try kmalloc(), which
	 * rounds up to a power of two (1.3 MB of metadata took 2 MiB).
	 */
	if (meta_len > PAGE_SIZE)
		b->meta = __vmalloc(meta_len, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	else
		b->meta = kmalloc(meta_len, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!b->meta)
		return -ENOMEM;
	b->meta_len = meta_len;
	ret = daxfs_backing_read(b, inode_off, b->meta, meta_len);
	if (ret)
		return ret;
	b->image_size = le64_to_cpu(b->super.image_size);
	ret = daxfs_check_meta(&b->super, b->meta, daxfs_read_cb, b, &err);
	if (ret) {
		pr_err("(%s): %s\n", b->name, err.msg);
		return ret;
	}

	dirent_off = le64_to_cpu(b->super.dirent_off);
	names_off = le64_to_cpu(b->super.names_off);
	b->inode_count = le32_to_cpu(b->super.inode_count);
	b->dirent_count = le32_to_cpu(b->super.dirent_count);
	b->names_size = le64_to_cpu(b->super.names_size);
	b->inodes = b->meta;
	b->dirents = b->meta + (dirent_off - inode_off);
	b->names = b->meta + (names_off - inode_off);
	return 0;
}

/*
 * daxfs_backing_load() inside one bracketed read (daxfs_backing_begin_read()),
 * for a dma-buf, a DAX device and a device-dax device.  An exporter's refusal
 * is logged; a DAX device refuses (ENXIO) only when it is going away.
 */
static int daxfs_backing_load_bracketed(struct daxfs_backing *b)
{
	int cookie, ret;

	cookie = daxfs_backing_begin_read(b);
	if (cookie < 0) {
		if (b->kind == DAXFS_DMABUF)
			pr_err("(%s): begin_cpu_access failed (%d)\n", b->name,
			       cookie);
		return cookie;
	}
	ret = daxfs_backing_load(b);
	daxfs_backing_end_read(b, cookie);
	return ret;
}

/*
 * The last step of daxfs_backing_dmabuf() and daxfs_backing_dax(), which
 * takes over @b: load it and hand it to *@out, or drop it.
 */
static int daxfs_backing_finish(struct daxfs_backing *b,
				struct daxfs_backing **out)
{
	int ret = daxfs_backing_load_bracketed(b);

	if (ret) {
		daxfs_backing_put(b);
		return ret;
	}
	*out = b;
	return 0;
}

/*
 * vmap the dma-buf of @b and take its kernel address: I/O memory (read()
 * works, mmap() is refused), or a vmalloc or linear address.
 */
static int daxfs_dmabuf_vmap(struct daxfs_backing *b)
{
	int ret;

	ret = daxfs_dma_buf_vmap(b->dmabuf, &b->map);
	if (ret) {
		pr_err("(%s): cannot vmap the buffer (%d)\n", b->name, ret);
		iosys_map_clear(&b->map);
		return ret;
	}
	if (b->map.is_iomem) {
		b->is_iomem = true;
		b->vaddr_iomem = b->map.vaddr_iomem;
		pr_info("(%s): buffer is I/O memory: read() works, mmap() is refused\n",
			b->name);
		return 0;
	}
	b->vaddr = b->map.vaddr;
	b->vmap_in_vmalloc = is_vmalloc_addr(b->vaddr);
	if (!b->vmap_in_vmalloc && !virt_addr_valid(b->vaddr)) {
		pr_err("(%s): vmap address is neither vmalloc nor linear\n",
		       b->name);
		return -EINVAL;
	}
	return 0;
}

/*
 * Map and validate a dma-buf.  Takes over the caller's reference to
 * @dmabuf in every case.  @what names the source in messages.
 */
int daxfs_backing_dmabuf(struct dma_buf *dmabuf, u64 offset,
			 const char *what, struct daxfs_backing **out)
{
	struct daxfs_backing *b;
	int ret;

	b = daxfs_backing_alloc(DAXFS_DMABUF);
	if (!b) {
		dma_buf_put(dmabuf);
		return -ENOMEM;
	}
	b->dmabuf = dmabuf;
	strscpy(b->exporter, dmabuf->exp_name ?: "?", sizeof(b->exporter));
	snprintf(b->name, sizeof(b->name), "dmabuf:%s %s", b->exporter, what);
	b->buf_size = dmabuf->size;
	b->offset = offset;
	if (!PAGE_ALIGNED(offset) || offset >= b->buf_size) {
		pr_err("(%s): offset %llu not page-aligned or beyond the buffer (%llu bytes)\n",
		       b->name, offset, b->buf_size);
		ret = -EINVAL;
		goto fail;
	}

	ret = daxfs_dmabuf_attach_pin(b);
	if (ret)
		goto fail;
	ret = daxfs_dmabuf_vmap(b);
	if (ret)
		goto fail;

	/*
	 * One bracketed access before anything runs concurrently: some
	 * exporters (udmabuf) set up their CPU-access state on the first
	 * call without locking.
	 */
	return daxfs_backing_finish(b, out);
fail:
	daxfs_backing_put(b);
	return ret;
}

/*
 * A physical range (phys= or a device-dax device's) that may back a mount:
 * page-aligned, not empty, not wrapping, addressable, with the image offset
 * inside it, and none of it System RAM (never hand the kernel's own memory
 * to user space).  False after a log line naming the reason.
 */
static bool daxfs_phys_range_ok(struct daxfs_backing *b, u64 phys, u64 size,
				u64 offset)
{
	if (!PAGE_ALIGNED(phys) || !PAGE_ALIGNED(size) || !size ||
	    phys + size - 1 < phys || (u64)(size_t)size != size) {
		pr_err("(%s): range %#llx+%llu must be page-aligned and non-empty\n",
		       b->name, phys, size);
		return false;
	}
	if (!PAGE_ALIGNED(offset) || offset >= size) {
		pr_err("(%s): offset %llu not page-aligned or beyond the range (%llu bytes)\n",
		       b->name, offset, size);
		return false;
	}
	if (region_intersects(phys, size, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		pr_err("(%s): range overlaps System RAM\n", b->name);
		return false;
	}
	return true;
}

/*
 * Map a physical range (CXL, pmem, RAM reserved with memmap=).
 *
 * The range is claimed in /proc/iomem ("daxfs", busy) for the life of the
 * backing, so that no driver takes it meanwhile and no other backing maps
 * it: request_mem_region() nests the claim inside a resource that is not
 * busy, such as the "Reserved" entry of memmap=SIZE$ADDR RAM, and fails
 * for a range a driver holds (a pmem namespace) or that straddles the end
 * of a resource.  With CONFIG_IO_STRICT_DEVMEM (Debian's kernels), /dev/mem
 * stops reaching the range too until the claim goes.
 *
 * A mount of the same range with the same offset shares the backing (and
 * its metadata copy) of the mounts before; any other overlap, and a range
 * claimed by someone else, fails with EBUSY.
 */
int daxfs_backing_phys(phys_addr_t phys, u64 size, u64 offset,
		       struct daxfs_backing **out)
{
	struct daxfs_backing *b, *o;
	int ret;

	b = daxfs_backing_alloc(DAXFS_PHYS);
	if (!b)
		return -ENOMEM;
	snprintf(b->name, sizeof(b->name), "phys:%pa+%llu", &phys, size);
	strscpy(b->exporter, "phys", sizeof(b->exporter));
	b->phys = phys;
	b->buf_size = size;
	b->offset = offset;
	ret = -EINVAL;
	if (!daxfs_phys_range_ok(b, phys, size, offset))
		goto fail;

	mutex_lock(&daxfs_phys_lock);
	list_for_each_entry(o, &daxfs_phys_list, phys_node) {
		if (o->phys > phys + size - 1 || phys > o->phys + o->buf_size - 1)
			continue;
		if (o->kind == DAXFS_PHYS && o->phys == phys &&
		    o->buf_size == size && o->offset == offset &&
		    kref_get_unless_zero(&o->ref)) {
			mutex_unlock(&daxfs_phys_lock);
			daxfs_backing_put(b);
			*out = o;
			return 0;
		}
		pr_err("(%s): overlaps the range of a mount (%s, offset %llu)\n",
		       b->name, o->name, o->offset);
		ret = -EBUSY;
		goto unlock;
	}
	b->phys_res = request_mem_region(phys, size, "daxfs");
	if (!b->phys_res) {
		pr_err("(%s): range claimed by another driver (see /proc/iomem)\n",
		       b->name);
		ret = -EBUSY;
		goto unlock;
	}
	b->vaddr = memremap(phys, size, MEMREMAP_WB);
	if (!b->vaddr) {
		pr_err("(%s): memremap failed\n", b->name);
		ret = -ENOMEM;
		goto unlock;
	}
	ret = daxfs_backing_load(b);
	if (ret)
		goto unlock;
	list_add(&b->phys_node, &daxfs_phys_list);
	mutex_unlock(&daxfs_phys_lock);
	*out = b;
	return 0;
unlock:
	mutex_unlock(&daxfs_phys_lock);
fail:
	daxfs_backing_put(b);
	return ret;
}

/*
 * Device-dax: a character device /dev/daxX.Y (a pmem namespace in devdax
 * mode, CXL memory, soft-reserved memory), mounted by naming it as the
 * source: mount -t daxfs /dev/dax0.0 /mnt.
 *
 * Its dax_device has no dax_operations (dax_direct_access() does not work
 * on it) and it takes no holder, so the backing is a physical range like
 * phys=, with these differences:
 * - the range is the device's own: read from the device's sysfs attributes
 *   "resource" and "size" (Documentation/ABI/testing/sysfs-bus-dax) through
 *   their show methods, and checked against /proc/iomem, where the
 *   device_dax driver claimed it busy under the device's name: one busy
 *   resource must be exactly [phys, phys + size).  A device of several
 *   ranges (made with the "mapping" attribute) fails that check and is
 *   refused.  phys= and size=, if given, must be that range.
 * - the range is not claimed again (it cannot be: it is busy); the
 *   device's claim protects it for as long as the device stays bound.
 * - the backing holds the character device open for its life, which holds
 *   the device_dax module (and so the dax core) and the struct device, and
 *   keeps the device's size, align and mapping from changing (device-dax
 *   refuses those with EBUSY while bound).
 * - nothing holds a device bound: unbinding device_dax (daxctl
 *   reconfigure-device, ndctl create-namespace -f, disable-namespace, a CXL
 *   region torn down) cannot be refused.  A bus notifier learns of it
 *   before the driver releases the memory: the backing is marked dead,
 *   reads and faults in flight are waited for, every mapping of every
 *   file is removed (an access then raises SIGBUS) and new reads fail with
 *   ENXIO, until the mount is unmounted.  So no file maps memory that has
 *   gone back to the device's next owner (the page allocator, through
 *   kmem).
 * A device-dax backing is never shared: mounting the device a second time
 * fails with EBUSY (bind-mount the first mount instead).
 */

/* Is @src an absolute path to a character device? */
bool daxfs_source_is_chrdev(const char *src)
{
	struct path path;
	bool chr;

	if (!src || src[0] != '/')
		return false;
	if (kern_path(src, LOOKUP_FOLLOW, &path))
		return false;
	chr = S_ISCHR(d_inode(path.dentry)->i_mode);
	path_put(&path);
	return chr;
}

/*
 * The device on the dax bus behind an open character device, or NULL if
 * it is not a device-dax instance.  Only device-dax's open points the
 * file's mapping at an inode of the dax pseudo file system (DAXFS_MAGIC),
 * and device-dax makes its device the parent of the cdev.
 */
static struct device *daxfs_devdax_device(struct file *file)
{
	struct inode *inode = file_inode(file);
	struct address_space *mapping = file->f_mapping;
	struct kobject *parent;
	struct device *dev;

	if (!S_ISCHR(inode->i_mode) || !inode->i_cdev || !mapping ||
	    !mapping->host || mapping->host->i_sb->s_magic != DAXFS_MAGIC)
		return NULL;
	parent = inode->i_cdev->kobj.parent;
	if (!parent)
		return NULL;
	dev = kobj_to_dev(parent);
	if (!dev->bus || strcmp(dev->bus->name, "dax"))
		return NULL;
	return dev;
}

/*
 * A number from attribute @name of the device's own attribute groups,
 * read through its show method as sysfs does (into a page).
 */
static int daxfs_devdax_attr(struct device *dev, const char *name, u64 *val)
{
	const struct attribute_group *const *g;
	struct attribute *const *a;
	struct device_attribute *da = NULL;
	char *buf;
	ssize_t n;
	int ret;

	for (g = dev->type ? dev->type->groups : NULL; g && *g && !da; g++)
		for (a = (*g)->attrs; a && *a; a++)
			if (!strcmp((*a)->name, name)) {
				da = container_of(*a, struct device_attribute,
						  attr);
				break;
			}
	if (!da || !da->show)
		return -ENOENT;
	buf = (char *)__get_free_page(GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	n = da->show(dev, da, buf);
	if (n < 0) {
		ret = n;
	} else {
		buf[min_t(size_t, n, PAGE_SIZE - 1)] = '\0';
		ret = kstrtou64(buf, 0, val);
	}
	free_page((unsigned long)buf);
	return ret;
}

struct daxfs_iomem_check {
	u64 start, end;
	bool exact, other;
};

static int daxfs_iomem_check_cb(struct resource *res, void *arg)
{
	struct daxfs_iomem_check *c = arg;

	if (res->end < c->start || res->start > c->end)
		return 0;	/* a neighbour, seen through the window's edges */
	if (res->start == c->start && res->end == c->end)
		c->exact = true;
	else
		c->other = true;
	return 0;
}

/*
 * Is [start, end] exactly one busy resource of /proc/iomem?  The walk
 * looks one byte beyond each end, so that a resource reaching past the
 * range shows as larger than it; busy resources nested in a busy one are
 * not reported (the outer one is).
 */
static bool daxfs_iomem_is_one_claim(u64 start, u64 end)
{
	struct daxfs_iomem_check c = { .start = start, .end = end };

	walk_iomem_res_desc(IORES_DESC_NONE, IORESOURCE_MEM | IORESOURCE_BUSY,
			    start ? start - 1 : start,
			    end < U64_MAX ? end + 1 : end, &c,
			    daxfs_iomem_check_cb);
	return c.exact && !c.other;
}

/*
 * The device is unbinding from its driver, or going away: its memory is
 * about to be released.  Called before the driver's remove, with the
 * device locked.  See the top of this part.
 */
static int daxfs_devdax_notify(struct notifier_block *nb,
			       unsigned long action, void *data)
{
	struct daxfs_backing *b = container_of(nb, struct daxfs_backing,
					       devdax_nb);

	if (data != b->devdax_dev ||
	    (action != BUS_NOTIFY_UNBIND_DRIVER &&
	     action != BUS_NOTIFY_DEL_DEVICE))
		return NOTIFY_DONE;
	mutex_lock(&b->devdax_lock);
	if (!b->dax_dead) {
		WRITE_ONCE(b->dax_dead, true);
		/* No read or fault that saw it alive is still running. */
		synchronize_srcu(&daxfs_devdax_srcu);
		if (b->sb) {
			pr_warn("(%s): the device is unbinding: every file mapping removed, reads and faults fail from now on\n",
				b->name);
			daxfs_unmap_all(b->sb);
		}
	}
	mutex_unlock(&b->devdax_lock);
	return NOTIFY_OK;
}

/* The superblock of @b (one only); ENXIO when the device went already. */
int daxfs_backing_devdax_attach(struct daxfs_backing *b, struct super_block *sb)
{
	int ret = 0;

	mutex_lock(&b->devdax_lock);
	if (b->dax_dead) {
		pr_err("(%s): the device unbound while it was being mounted\n",
		       b->name);
		ret = -ENXIO;
	} else {
		b->sb = sb;
	}
	mutex_unlock(&b->devdax_lock);
	return ret;
}

/* Before @sb goes: no notification may look at it any more. */
void daxfs_backing_devdax_detach(struct daxfs_backing *b, struct super_block *sb)
{
	mutex_lock(&b->devdax_lock);
	if (b->sb == sb)
		b->sb = NULL;
	mutex_unlock(&b->devdax_lock);
}

/* Is the device bound to device_dax?  Its range is claimed only then. */
static bool daxfs_devdax_bound(struct device *dev, const char **drv)
{
	bool bound;

	device_lock(dev);
	*drv = dev->driver ? dev->driver->name : NULL;
	bound = *drv && !strcmp(*drv, "device_dax");
	device_unlock(dev);
	return bound;
}

/*
 * Open, check and map the device-dax device at @path.  @phys and @size
 * (NULL when not given) must be the device's range.
 */
int daxfs_backing_devdax(const char *path, const u64 *phys, const u64 *size,
			 u64 offset, struct daxfs_backing **out)
{
	struct daxfs_backing *b, *o;
	struct device *dev;
	const char *drv;
	u64 start, len;
	int ret;

	b = daxfs_backing_alloc(DAXFS_DEVDAX);
	if (!b)
		return -ENOMEM;
	snprintf(b->name, sizeof(b->name), "devdax:%s", path);
	strscpy(b->exporter, "devdax", sizeof(b->exporter));
	b->offset = offset;

	b->devdax_file = filp_open(path, O_RDONLY | O_NONBLOCK | O_LARGEFILE, 0);
	if (IS_ERR(b->devdax_file)) {
		ret = PTR_ERR(b->devdax_file);
		b->devdax_file = NULL;
		pr_err("(%s): cannot open the device (%d)\n", b->name, ret);
		goto fail;
	}
	dev = daxfs_devdax_device(b->devdax_file);
	if (!dev) {
		pr_err("(%s): not a device-dax device (/dev/daxX.Y)\n", b->name);
		ret = -ENODEV;
		goto fail;
	}
	b->devdax_dev = get_device(dev);
	snprintf(b->name, sizeof(b->name), "devdax:%s", dev_name(dev));

	/* Before the check of the binding: an unbind after it is seen. */
	b->devdax_nb.notifier_call = daxfs_devdax_notify;
	ret = bus_register_notifier(dev->bus, &b->devdax_nb);
	if (ret) {
		pr_err("(%s): cannot watch the dax bus (%d)\n", b->name, ret);
		goto fail;
	}
	b->devdax_nb_registered = true;
	if (!daxfs_devdax_bound(dev, &drv)) {
		pr_err("(%s): the device is bound to %s, not device_dax: refused\n",
		       b->name, drv ?: "no driver");
		ret = -ENXIO;
		goto fail;
	}

	ret = daxfs_devdax_attr(dev, "resource", &start);
	if (!ret)
		ret = daxfs_devdax_attr(dev, "size", &len);
	if (ret) {
		pr_err("(%s): cannot read the device's resource and size (%d)\n",
		       b->name, ret);
		goto fail;
	}
	ret = -EINVAL;
	if ((phys && *phys != start) || (size && *size != len)) {
		pr_err("(%s): phys=%#llx,size=%llu is not the device's range %#llx+%llu\n",
		       b->name, phys ? *phys : start, size ? *size : len,
		       start, len);
		goto fail;
	}
	if (!daxfs_phys_range_ok(b, start, len, offset))
		goto fail;
	b->phys = start;
	b->buf_size = len;
	if (!daxfs_iomem_is_one_claim(start, start + len - 1)) {
		pr_err("(%s): %#llx+%llu is not one claim in /proc/iomem: a device of several ranges is not supported\n",
		       b->name, start, len);
		goto fail;
	}

	mutex_lock(&daxfs_phys_lock);
	list_for_each_entry(o, &daxfs_phys_list, phys_node) {
		if (o->phys > start + len - 1 || start > o->phys + o->buf_size - 1)
			continue;
		pr_err("(%s): the device is mounted already (%s): bind-mount that mount instead\n",
		       b->name, o->name);
		ret = -EBUSY;
		mutex_unlock(&daxfs_phys_lock);
		goto fail;
	}
	list_add(&b->phys_node, &daxfs_phys_list);
	mutex_unlock(&daxfs_phys_lock);

	b->vaddr = memremap(start, len, MEMREMAP_WB);
	if (!b->vaddr) {
		pr_err("(%s): memremap failed\n", b->name);
		ret = -ENOMEM;
		goto fail;
	}
	return daxfs_backing_finish(b, out);
fail:
	daxfs_backing_put(b);
	return ret;
}

/* Use the DAX device behind the block device of @sb. */
int daxfs_backing_dax(struct super_block *sb, u64 offset,
		      struct daxfs_backing **out)
{
	struct daxfs_backing *b;
	daxfs_dax_pfn_t pfn;
	u64 start_off = 0, size;
	long want, got;
	void *kaddr;
	int ret, id;

	b = daxfs_backing_alloc(DAXFS_DAX);
	if (!b)
		return -ENOMEM;
	snprintf(b->name, sizeof(b->name), "dax:%pg", sb->s_bdev);
	strscpy(b->exporter, "dax", sizeof(b->exporter));
	b->offset = offset;
	/* Before the holder is set: a notification may come at once. */
	b->sb = sb;
	b->dax_dev = fs_dax_get_by_bdev(sb->s_bdev, &start_off, b,
					&daxfs_dax_holder_ops);
	if (!b->dax_dev) {
		pr_err("(%s): block device does not support DAX\n", b->name);
		ret = -EINVAL;
		goto fail;
	}
	size = bdev_nr_bytes(sb->s_bdev);
	if (!PAGE_ALIGNED(start_off) || size < PAGE_SIZE) {
		pr_err("(%s): unaligned or too small DAX range\n", b->name);
		ret = -EINVAL;
		goto fail;
	}
	want = min_t(u64, PHYS_PFN(size), LONG_MAX);
	id = dax_read_lock();
	got = dax_direct_access(b->dax_dev, PHYS_PFN(start_off), want,
				DAX_ACCESS, &kaddr, &pfn);
	dax_read_unlock(id);
	if (got <= 0) {
		pr_err("(%s): dax_direct_access failed (%ld)\n", b->name, got);
		ret = got ? (int)got : -EIO;
		goto fail;
	}
	/* Use what is mapped in one piece. */
	b->dax_start_off = start_off;
	b->buf_size = (u64)min(got, want) << PAGE_SHIFT;
	b->vaddr = kaddr;
	b->dax_pfn = daxfs_dax_pfn(pfn);
	b->dax_pfn_flags = daxfs_dax_pfn_flags(pfn);
	if (!PAGE_ALIGNED(offset) || offset >= b->buf_size) {
		pr_err("(%s): offset %llu not page-aligned or beyond the device\n",
		       b->name, offset);
		ret = -EINVAL;
		goto fail;
	}
	return daxfs_backing_finish(b, out);
fail:
	daxfs_backing_put(b);
	return ret;
}
