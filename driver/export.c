// SPDX-License-Identifier: GPL-2.0
/*
 * daxfs: files back out as dma-bufs.  DAXFS_IOC_EXPORT_DMABUF on an open
 * file of a mount backed by a dma-buf makes a new, read-only dma-buf of a
 * page-aligned range of the file: a window on the mounted buffer, whose
 * pages it shares, so that a device can be handed a tensor file without a
 * copy.
 *
 * The window holds a reference on the backing, hence on the parent
 * dma-buf, its vmap and its pin: the mount may go while windows live, the
 * memory stays until the last of them is released.  It shares the parent's
 * reservation object: fences on the window are fences on the same memory.
 *
 * Importers.  map_dma_buf builds an sg_table of the window's own pages
 * (found as mmap finds them, through the parent's kernel mapping that the
 * backing holds) and maps it for the importer's device, DMA_TO_DEVICE:
 * the device gets the window and nothing else of the parent (an IOMMU
 * confines it there and, reading only, makes it read-only), and the cost
 * is the window's.  An importer that asks for a device-write-only mapping
 * (DMA_FROM_DEVICE) is refused with EPERM.  The pages stay: the backing
 * holds the parent's vmap and, for a dynamic exporter, its pin.  Cache
 * maintenance is the DMA API's at map and unmap: a writer that changes the
 * parent while a device holds a mapping of a window brackets the parent,
 * whose exporter syncs its own mappings, not the window's; on the x86
 * matrix DMA is coherent and there is nothing to sync.
 *
 * CPU.  mmap is the file's own mapping code (data.c) over the window;
 * begin/end_cpu_access forward to the parent for reads and refuse a write
 * bracket (EPERM); vmap is the parent's kernel mapping, which the backing
 * holds for its life, at the window.
 */
#include <linux/dma-buf.h>
#include <linux/dma-direction.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"
#include "compat.h"

struct daxfs_window {
	struct daxfs_range r;		/* r.b: our reference on the backing */
	u64 buf_off;			/* byte offset in the parent dma-buf */
};

/*
 * The pages of the window, as an sg_table of physically contiguous runs
 * (at most 1 GiB each).  Two passes over the window's PFNs: count the runs,
 * then fill them, so that no page array of the window's size is needed.
 * Every page of a window has a struct page (export refuses I/O memory).
 */
static int daxfs_window_sgt(struct daxfs_window *w, struct sg_table *sgt)
{
	unsigned long npages = w->r.size >> PAGE_SHIFT, i, run = 0;
	unsigned long pfn, start = 0, prev = 0;
	struct scatterlist *sg = NULL;
	unsigned int nruns = 0;
	int pass, ret;
	u64 flags;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i <= npages; i++) {
			if (i < npages) {
				if (!(i & 4095))
					cond_resched();
				ret = daxfs_backing_pfn(w->r.b,
							w->r.data + ((u64)i << PAGE_SHIFT),
							&pfn, &flags);
				if (!ret && !pfn_valid(pfn))
					ret = -EFAULT;
				if (ret)
					goto fail;
				if (run && pfn == prev + 1 &&
				    run < (SZ_1G >> PAGE_SHIFT)) {
					run++;
					prev = pfn;
					continue;
				}
			}
			if (run && pass == 0) {
				nruns++;
			} else if (run) {
				sg_set_page(sg, pfn_to_page(start), run << PAGE_SHIFT, 0);
				sg = sg_next(sg);
			}
			start = pfn;
			prev = pfn;
			run = 1;
		}
		if (pass == 0) {
			ret = sg_alloc_table(sgt, nruns, GFP_KERNEL);
			if (ret)
				return ret;
			sg = sgt->sgl;
			run = 0;
		}
	}
	return 0;

fail:
	if (pass)
		sg_free_table(sgt);
	return ret;
}

/*
 * A device mapping of the window's pages only, made for the importer's
 * device: an IOMMU confines the device to the window, and the cost is the
 * window's, not the parent buffer's.  Always DMA_TO_DEVICE: devices read
 * the window (read-only where an IOMMU enforces directions); a
 * device-write-only mapping is refused.
 */
static struct sg_table *daxfs_window_map_buf(struct dma_buf_attachment *attach,
					     enum dma_data_direction dir)
{
	struct daxfs_window *w = attach->dmabuf->priv;
	struct sg_table *sgt;
	int ret;

	if (dir == DMA_FROM_DEVICE)
		return ERR_PTR(-EPERM);
	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = daxfs_window_sgt(w, sgt);
	if (ret)
		goto out_free;
	ret = dma_map_sgtable(attach->dev, sgt, DMA_TO_DEVICE, 0);
	if (ret)
		goto out_table;
	return sgt;

out_table:
	sg_free_table(sgt);
out_free:
	kfree(sgt);
	return ERR_PTR(ret);
}

static void daxfs_window_unmap_buf(struct dma_buf_attachment *attach,
				   struct sg_table *sgt,
				   enum dma_data_direction dir)
{
	dma_unmap_sgtable(attach->dev, sgt, DMA_TO_DEVICE, 0);
	sg_free_table(sgt);
	kfree(sgt);
}

static void daxfs_window_release(struct dma_buf *dmabuf)
{
	struct daxfs_window *w = dmabuf->priv;

	daxfs_backing_put(w->r.b);
	kfree(w);
}

/* CPU brackets: reads go to the parent; the window is never written. */
static int daxfs_window_begin_cpu(struct dma_buf *dmabuf,
				  enum dma_data_direction dir)
{
	struct daxfs_window *w = dmabuf->priv;

	if (dir != DMA_FROM_DEVICE)
		return -EPERM;
	return dma_buf_begin_cpu_access(w->r.b->dmabuf, dir);
}

static int daxfs_window_end_cpu(struct dma_buf *dmabuf,
				enum dma_data_direction dir)
{
	struct daxfs_window *w = dmabuf->priv;

	if (dir != DMA_FROM_DEVICE)
		return -EPERM;
	return dma_buf_end_cpu_access(w->r.b->dmabuf, dir);
}

/* The core has checked the vma against the window's size. */
static int daxfs_window_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct daxfs_window *w = dmabuf->priv;
	int ret;

	ret = daxfs_range_mmap(&w->r, false, vma);
	if (ret)
		return ret;
	vma->vm_private_data = &w->r;
	return 0;
}

/* The parent's vmap, held by the backing for its life, at the window. */
static int daxfs_window_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct daxfs_window *w = dmabuf->priv;

	*map = w->r.b->map;
	iosys_map_incr(map, w->buf_off);
	return 0;
}

static void daxfs_window_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
}

static const struct dma_buf_ops daxfs_window_ops = {
	.map_dma_buf		= daxfs_window_map_buf,
	.unmap_dma_buf		= daxfs_window_unmap_buf,
	.release		= daxfs_window_release,
	.begin_cpu_access	= daxfs_window_begin_cpu,
	.end_cpu_access		= daxfs_window_end_cpu,
	.mmap			= daxfs_window_mmap,
	.vmap			= daxfs_window_vmap,
	.vunmap			= daxfs_window_vunmap,
};

/*
 * Check the request against the file and the backing; fill @r (without a
 * reference) and the parent offset.
 */
static int daxfs_window_range(struct file *file, struct daxfs_export *arg,
			      struct daxfs_window *w)
{
	struct inode *inode = file_inode(file);
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);
	const struct daxfs_inode *di = daxfs_raw_inode(inode);
	struct daxfs_backing *b = sbi->b;
	u64 size = le64_to_cpu(di->size);
	u64 len, end;

	if (arg->flags || arg->reserved0)
		return -EINVAL;
	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	if (b->kind != DAXFS_DMABUF) {
		pr_warn_ratelimited("(%s): export refused: the mount is not backed by a dma-buf\n",
				    b->name);
		return -EOPNOTSUPP;
	}
	if (b->is_iomem) {
		pr_warn_ratelimited("(%s): export refused: the buffer is I/O memory\n",
				    b->name);
		return -EOPNOTSUPP;
	}
	if (sbi->mmap_refused) {
		pr_warn_ratelimited("(%s): export refused: data_align is below the page size %lu\n",
				    b->name, PAGE_SIZE);
		return -EOPNOTSUPP;
	}
	if (!PAGE_ALIGNED(arg->offset) || arg->offset >= size)
		return -EINVAL;
	len = arg->length ? arg->length : size - arg->offset;
	if (check_add_overflow(arg->offset, len, &end) ||
	    end > round_up(size, PAGE_SIZE))
		return -EINVAL;
	len = round_up(len, PAGE_SIZE);

	w->r.b = b;
	w->r.data = le64_to_cpu(di->offset) + arg->offset;
	w->r.size = len;
	w->r.bracket = true;
	w->buf_off = b->offset + w->r.data;
	/* Validated data lies in the image, and the buffer holds whole pages. */
	if (w->buf_off + len > b->buf_size)
		return -EINVAL;
	return 0;
}

static long daxfs_ioc_export(struct file *file, void __user *uarg)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct daxfs_export arg;
	struct daxfs_window *w;
	struct dma_buf *dmabuf;
	u32 argsz;
	int fd, ret;

	ret = daxfs_get_arg(&arg, sizeof(arg), sizeof(arg), uarg, &argsz);
	if (ret)
		return ret;
	w = kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);
	if (!w)
		return -ENOMEM;
	ret = daxfs_window_range(file, &arg, w);
	if (ret) {
		kfree(w);
		return ret;
	}
	daxfs_backing_get(w->r.b);

	info.ops = &daxfs_window_ops;
	info.size = w->r.size;
	info.flags = O_RDONLY;
	info.priv = w;
	info.resv = w->r.b->dmabuf->resv;
	dmabuf = dma_buf_export(&info);
	if (IS_ERR(dmabuf)) {
		daxfs_backing_put(w->r.b);
		kfree(w);
		return PTR_ERR(dmabuf);
	}
	/* From here the dma-buf owns @w: its release drops it. */

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}
	arg.fd = fd;
	arg.size = w->r.size;
	ret = daxfs_put_arg(uarg, &arg, sizeof(arg), argsz);
	if (ret) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return ret;
	}
	fd_install(fd, dmabuf->file);
	return 0;
}

long daxfs_file_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (daxfs_ioc_is(cmd, DAXFS_IOC_EXPORT_DMABUF))
		return daxfs_ioc_export(file, (void __user *)arg);
	return -ENOTTY;
}
