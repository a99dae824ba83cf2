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
 * reservation object, so fences and the reservation lock are the parent's:
 * the core calls map/unmap with that lock held (from 6.2), which is the lock
 * the parent's own map/unmap want.
 *
 * Importers.  Each attachment to the window is an attachment of the parent
 * for the same device, made when the importer attaches; map_dma_buf maps
 * the parent through it (the parent's exporter makes the device mapping,
 * with its own IOMMU and cache handling) and hands out the part of that
 * sg_table that covers the window, DMA addresses only (importers must not
 * use the pages of an imported sg_table).  The parent is always mapped
 * DMA_TO_DEVICE: devices read the window, and an IOMMU makes that
 * read-only; an importer that asks for a device-write-only mapping
 * (DMA_FROM_DEVICE) is refused with EPERM.
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
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"
#include "compat.h"

struct daxfs_window {
	struct daxfs_range r;		/* r.b: our reference on the backing */
	u64 buf_off;			/* byte offset in the parent dma-buf */
};

/* A mapping handed to an importer, and the parent's that it slices. */
struct daxfs_window_map {
	struct sg_table sgt;
	struct sg_table *parent_sgt;
};

static int daxfs_window_attach(struct dma_buf *dmabuf,
			       struct dma_buf_attachment *attach)
{
	struct daxfs_window *w = dmabuf->priv;
	struct dma_buf_attachment *pa;

	/* Not under the reservation lock: the parent's attach takes it. */
	pa = dma_buf_attach(w->r.b->dmabuf, attach->dev);
	if (IS_ERR(pa))
		return PTR_ERR(pa);
	attach->priv = pa;
	return 0;
}

static void daxfs_window_detach(struct dma_buf *dmabuf,
				struct dma_buf_attachment *attach)
{
	struct daxfs_window *w = dmabuf->priv;

	dma_buf_detach(w->r.b->dmabuf, attach->priv);
}

/*
 * Fill @dst with the DMA segments of @src that cover [@start, @start +
 * @len) of the buffer @src maps.  -EINVAL when @src is shorter.
 */
static int daxfs_sg_slice(struct sg_table *src, u64 start, u64 len,
			  struct sg_table *dst)
{
	struct scatterlist *sg, *d;
	u64 end = start + len, pos = 0;
	unsigned int i, n = 0;
	int ret;

	for_each_sgtable_dma_sg(src, sg, i) {
		if (pos + sg_dma_len(sg) > start && pos < end)
			n++;
		pos += sg_dma_len(sg);
	}
	if (pos < end || !n)
		return -EINVAL;
	ret = sg_alloc_table(dst, n, GFP_KERNEL);
	if (ret)
		return ret;

	d = dst->sgl;
	pos = 0;
	for_each_sgtable_dma_sg(src, sg, i) {
		u64 s = pos, e = pos + sg_dma_len(sg);
		u64 from = max(s, start), to = min(e, end);

		pos = e;
		if (from >= to)
			continue;
		/* No page: the CPU side of an imported table is off limits. */
		d->length = to - from;
		sg_dma_address(d) = sg_dma_address(sg) + (from - s);
		sg_dma_len(d) = to - from;
		d = sg_next(d);
	}
	dst->nents = n;
	return 0;
}

static struct sg_table *daxfs_window_map_buf(struct dma_buf_attachment *attach,
					     enum dma_data_direction dir)
{
	struct daxfs_window *w = attach->dmabuf->priv;
	struct daxfs_window_map *m;
	struct sg_table *psgt;
	int ret;

	if (dir == DMA_FROM_DEVICE)
		return ERR_PTR(-EPERM);
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	/*
	 * The reservation lock is the parent's: held here from 6.2, as the
	 * parent's map wants it; on 6.1 neither a static parent nor the
	 * mapping a dynamic one made at attach time needs it.
	 */
	psgt = dma_buf_map_attachment(attach->priv, DMA_TO_DEVICE);
	if (IS_ERR(psgt)) {
		kfree(m);
		return psgt;
	}
	ret = daxfs_sg_slice(psgt, w->buf_off, w->r.size, &m->sgt);
	if (ret) {
		dma_buf_unmap_attachment(attach->priv, psgt, DMA_TO_DEVICE);
		kfree(m);
		return ERR_PTR(ret);
	}
	m->parent_sgt = psgt;
	return &m->sgt;
}

static void daxfs_window_unmap_buf(struct dma_buf_attachment *attach,
				   struct sg_table *sgt,
				   enum dma_data_direction dir)
{
	struct daxfs_window_map *m = container_of(sgt, struct daxfs_window_map,
						  sgt);

	dma_buf_unmap_attachment(attach->priv, m->parent_sgt, DMA_TO_DEVICE);
	sg_free_table(&m->sgt);
	kfree(m);
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
	.attach			= daxfs_window_attach,
	.detach			= daxfs_window_detach,
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
