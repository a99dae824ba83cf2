// SPDX-License-Identifier: GPL-2.0
/*
 * daxfs_gpuexp: a test-only dma-buf exporter that behaves like the VRAM
 * buffers of a GPU driver built on TTM, so that the daxfs VM tests
 * (selftests/driver/driver-gpuexp.c) can import buffers that move, that
 * refuse to be pinned and whose kernel mapping is I/O memory; and a test
 * importer of any dma-buf (selftests/driver/driver-export.c).  Any root
 * process can allocate and move its buffers: never load it outside a test
 * VM.
 *
 * /dev/daxfs_gpuexp creates buffers of three kinds (daxfs_gpuexp.h):
 *
 * DYNAMIC_PINNABLE	a dynamic exporter: .pin/.unpin, so that
 *			dma_buf_is_dynamic() is true and importers attach
 *			with importer_ops (move_notify).  A pin is counted;
 *			DAXFS_GPUEXP_IOC_MOVE moves the backing store to new
 *			pages as an eviction would: copy, zap the user
 *			mappings of the dma-buf file, swap, then
 *			dma_buf_move_notify() under the reservation lock.
 *			EBUSY while pinned.
 * DYNAMIC_UNPINNABLE	the same, but .pin always fails with EOPNOTSUPP
 *			(VRAM that may not be pinned, e.g. without P2P).
 * IOMEM		a static exporter (no .pin; like drm_gem_vram, whose
 *			vmap of VRAM is I/O memory): vmap returns an
 *			iosys_map with is_iomem set.  Never moves.
 *
 * The memory, all kinds.  Pages of RAM, write-combined as TTM makes the
 * pages of write-combined buffers: set_pages_array_wc() switches their
 * linear mapping to WC (so that no cacheable alias of them exists), vmap
 * uses pgprot_writecombine(), the dma-buf's own mmap is WC (PFN map,
 * refaulted after a move).  map_dma_buf builds an sg_table of the pages
 * and dma_map_sgtable()s it for attach->dev; begin/end_cpu_access sync
 * the live tables.
 *
 * The "I/O memory" of the IOMEM kind is that same WC vmap of RAM pages,
 * handed out as __iomem.  This is sound on x86: the __iomem accessors
 * (memcpy_fromio(), readl()...) are plain loads and stores there, the
 * pages have one memory type everywhere (WC), and an importer's PFN
 * mapping of them gets WC from PAT as well.  A real I/O range was not
 * used: the test guests run QEMU with -nodefaults (no VGA or other BAR to
 * borrow, and a BAR would need a PCI driver and a QEMU device), the only
 * reserved RAM (make check's memmap=) belongs to driver-phys and
 * driver-huge, and ioremap() of RAM is refused with a WARN on x86.  What
 * the daxfs side does with is_iomem (memcpy_fromio() for read(), mmap()
 * refused) depends on the flag only, so the simulation tests it fully.
 * Elsewhere than x86 the pages stay cached (compat section).
 *
 * Lifetime of the pages.  A store (a set of pages) is referenced by the
 * buffer while it is its backing store, by every sg_table mapped from it
 * and by the kernel vmap made of it.  A move swaps the buffer's store;
 * the old one lives on until its last table is unmapped and its vmap
 * undone.  An importer that keeps a vmap of an unpinned dynamic buffer
 * (wrongly: the mapping is only stable while pinned) reads stale, never
 * freed, memory; STATUS counts such stale mappings.
 *
 * Locking.  buf->lock protects the store, the counters and the list of
 * live tables.  It nests inside the reservation lock (pin, unpin,
 * map_dma_buf, unmap_dma_buf of dynamic buffers and vmap from 6.2 are
 * called with it held; vmap holds dmabuf->lock on 6.1), inside mmap_lock
 * (the fault handler) and outside i_mmap_rwsem (the zap of a move).  It
 * is never held across a call into the dma-buf core or user memory
 * access.  The reservation lock is taken by MOVE only, as an exporter's
 * eviction takes it (and by the dma-buf core for the test importer below).
 *
 * The test importer.  The same misc device also imports dma-bufs of any
 * exporter, as a device driver would (DAXFS_GPUEXP_IOC_IMPORT_CHECK), so
 * that the daxfs tests (driver-export) see what a device gets from a
 * buffer: attach, map for a direction, the DMA segments (physical
 * addresses: no IOMMU in the test guests), the kernel vmap's bytes, all
 * undone before the ioctl returns.  It holds no lock of its own, takes no
 * buf->lock (the buffer may be anyone's), and calls the core's unlocked
 * importer entry points (compat section).  The misc device is given a
 * 64-bit DMA mask at load for it.
 */
#include <linux/cache.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/iosys-map.h>
#include <linux/kernel.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/vmalloc.h>
#ifdef CONFIG_X86
#include <asm/set_memory.h>
#endif

#include "daxfs_gpuexp.h"

/* ----------------------------------------------------------------------
 * Compat: every difference between the kernels of the matrix (Debian
 * bookworm 6.1, trixie 6.12 and its debug build, sid 7.2) is here.
 */

/*
 * Namespace import of the dma-buf symbols: a bare identifier up to 6.12
 * (bookworm, trixie), a string literal from 6.13 (sid).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
MODULE_IMPORT_NS("DMA_BUF");
#else
MODULE_IMPORT_NS(DMA_BUF);
#endif

/* vm_flags_set() from 6.3 (trixie, sid); 6.1 (bookworm) writes the field. */
static inline void gpuexp_vm_flags_set(struct vm_area_struct *vma,
				       vm_flags_t flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * Telling dynamic importers that the buffer moved: dma_buf_move_notify()
 * (importer callback .move_notify) up to 7.0 (bookworm, trixie), renamed
 * dma_buf_invalidate_mappings() (.invalidate_mappings) by upstream commit
 * 95308225e5ba, first released in 7.1 (sid 7.2 has it; no kernel between
 * 6.12 and 7.2 is in the matrix to pin the boundary down further).  Both
 * want the reservation lock held.
 */
static inline void gpuexp_notify_move(struct dma_buf *dmabuf)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 1, 0)
	dma_buf_invalidate_mappings(dmabuf);
#else
	dma_buf_move_notify(dmabuf);
#endif
}

/*
 * The test importer's calls (DAXFS_GPUEXP_IOC_IMPORT_CHECK).  From 6.2
 * (trixie, sid) dma_buf_map_attachment(), dma_buf_unmap_attachment() and
 * dma_buf_vmap()/vunmap() want the reservation lock held by the caller,
 * and an importer that does not hold it calls the _unlocked variants,
 * which take it.  6.1 (bookworm) has the plain calls only in upstream
 * (Debian's 6.1 also carries a backport of the map_attachment ones): they
 * need no lock from a static importer (the core maps a dynamic exporter's
 * buffer for one at attach time, under the lock) and dma_buf_vmap() takes
 * the buffer's own mutex.  6.1 importers call those.
 */
static inline struct sg_table *
gpuexp_importer_map(struct dma_buf_attachment *attach,
		    enum dma_data_direction dir)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return dma_buf_map_attachment_unlocked(attach, dir);
#else
	return dma_buf_map_attachment(attach, dir);
#endif
}

static inline void gpuexp_importer_unmap(struct dma_buf_attachment *attach,
					 struct sg_table *sgt,
					 enum dma_data_direction dir)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	dma_buf_unmap_attachment_unlocked(attach, sgt, dir);
#else
	dma_buf_unmap_attachment(attach, sgt, dir);
#endif
}

static inline int gpuexp_importer_vmap(struct dma_buf *dmabuf,
				       struct iosys_map *map)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return dma_buf_vmap_unlocked(dmabuf, map);
#else
	return dma_buf_vmap(dmabuf, map);
#endif
}

static inline void gpuexp_importer_vunmap(struct dma_buf *dmabuf,
					  struct iosys_map *map)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	dma_buf_vunmap_unlocked(dmabuf, map);
#else
	dma_buf_vunmap(dmabuf, map);
#endif
}

/*
 * Write-combined pages (an architecture difference, not a version one):
 * x86 switches the linear mapping of the pages with set_pages_array_wc()
 * (exported on every kernel of the matrix) and back to write-back before
 * they are freed.  Elsewhere the pages stay cached and so do the mappings.
 */
#ifdef CONFIG_X86
static inline int gpuexp_pages_set_wc(struct page **pages, unsigned long n)
{
	return set_pages_array_wc(pages, n);
}

static inline void gpuexp_pages_set_wb(struct page **pages, unsigned long n)
{
	set_pages_array_wb(pages, n);
}

static inline pgprot_t gpuexp_prot(pgprot_t prot)
{
	return pgprot_writecombine(prot);
}
#else
static inline int gpuexp_pages_set_wc(struct page **pages, unsigned long n)
{
	return 0;
}

static inline void gpuexp_pages_set_wb(struct page **pages, unsigned long n)
{
}

static inline pgprot_t gpuexp_prot(pgprot_t prot)
{
	return prot;
}
#endif

/* ---------------------------------------------------------------------- */

/* A backing store: the pages of a buffer, now or before a move. */
struct gpuexp_store {
	struct kref ref;
	struct page **pages;
	unsigned long npages;	/* allocated so far */
	bool wc;		/* linear mapping switched to WC */
};

struct gpuexp_buf {
	struct dma_buf *dmabuf;
	u32 kind;
	unsigned long npages;
	struct mutex lock;		/* everything below */
	struct gpuexp_store *store;	/* the backing store now */
	struct list_head maps;		/* live sg tables, struct gpuexp_map */
	unsigned int nmaps;
	unsigned int attachments;
	unsigned int pins;
	unsigned int moves;
	void *vaddr;			/* the kernel vmap, of vstore */
	struct gpuexp_store *vstore;
	unsigned int vmaps;
};

/* One map_dma_buf: the table handed out and what it maps. */
struct gpuexp_map {
	struct sg_table sgt;
	struct list_head node;
	struct device *dev;
	enum dma_data_direction dir;
	struct gpuexp_store *store;
};

static void gpuexp_store_free(struct gpuexp_store *s)
{
	unsigned long i;

	if (s->wc)
		gpuexp_pages_set_wb(s->pages, s->npages);
	for (i = 0; i < s->npages; i++)
		__free_page(s->pages[i]);
	kvfree(s->pages);
	kfree(s);
}

static void gpuexp_store_release(struct kref *ref)
{
	gpuexp_store_free(container_of(ref, struct gpuexp_store, ref));
}

static void gpuexp_store_put(struct gpuexp_store *s)
{
	kref_put(&s->ref, gpuexp_store_release);
}

static struct gpuexp_store *gpuexp_store_alloc(unsigned long npages)
{
	struct gpuexp_store *s;
	int ret = -ENOMEM;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return ERR_PTR(-ENOMEM);
	kref_init(&s->ref);
	s->pages = kvcalloc(npages, sizeof(*s->pages), GFP_KERNEL);
	if (!s->pages)
		goto fail;
	while (s->npages < npages) {
		struct page *page;

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto fail;
		}
		page = alloc_page(GFP_KERNEL | __GFP_ZERO |
				  __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
		if (!page)
			goto fail;
		s->pages[s->npages++] = page;
		cond_resched();
	}
	ret = gpuexp_pages_set_wc(s->pages, s->npages);
	if (ret)
		goto fail;
	s->wc = true;
	return s;
fail:
	gpuexp_store_free(s);
	return ERR_PTR(ret);
}

/* ------------------------------------------------------- dma_buf_ops */

static int gpuexp_attach(struct dma_buf *dmabuf,
			 struct dma_buf_attachment *attach)
{
	struct gpuexp_buf *buf = dmabuf->priv;

	mutex_lock(&buf->lock);
	buf->attachments++;
	mutex_unlock(&buf->lock);
	return 0;
}

static void gpuexp_detach(struct dma_buf *dmabuf,
			  struct dma_buf_attachment *attach)
{
	struct gpuexp_buf *buf = dmabuf->priv;

	mutex_lock(&buf->lock);
	if (!WARN_ON_ONCE(!buf->attachments))
		buf->attachments--;
	mutex_unlock(&buf->lock);
}

/* Called with the reservation lock held. */
static int gpuexp_pin(struct dma_buf_attachment *attach)
{
	struct gpuexp_buf *buf = attach->dmabuf->priv;

	if (buf->kind == DAXFS_GPUEXP_DYNAMIC_UNPINNABLE)
		return -EOPNOTSUPP;
	mutex_lock(&buf->lock);
	buf->pins++;
	mutex_unlock(&buf->lock);
	return 0;
}

static void gpuexp_unpin(struct dma_buf_attachment *attach)
{
	struct gpuexp_buf *buf = attach->dmabuf->priv;

	mutex_lock(&buf->lock);
	if (!WARN_ON_ONCE(!buf->pins))
		buf->pins--;
	mutex_unlock(&buf->lock);
}

static struct sg_table *gpuexp_map_dma_buf(struct dma_buf_attachment *attach,
					   enum dma_data_direction dir)
{
	struct gpuexp_buf *buf = attach->dmabuf->priv;
	struct gpuexp_store *s;
	struct gpuexp_map *m;
	int ret;

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	mutex_lock(&buf->lock);
	s = buf->store;
	kref_get(&s->ref);
	mutex_unlock(&buf->lock);
	m->store = s;
	m->dev = attach->dev;
	m->dir = dir;
	ret = sg_alloc_table_from_pages(&m->sgt, s->pages, s->npages, 0,
					s->npages << PAGE_SHIFT, GFP_KERNEL);
	if (ret)
		goto fail_store;
	ret = dma_map_sgtable(attach->dev, &m->sgt, dir, 0);
	if (ret)
		goto fail_table;
	mutex_lock(&buf->lock);
	list_add(&m->node, &buf->maps);
	buf->nmaps++;
	mutex_unlock(&buf->lock);
	return &m->sgt;

fail_table:
	sg_free_table(&m->sgt);
fail_store:
	gpuexp_store_put(s);
	kfree(m);
	return ERR_PTR(ret);
}

static void gpuexp_unmap_dma_buf(struct dma_buf_attachment *attach,
				 struct sg_table *sgt,
				 enum dma_data_direction dir)
{
	struct gpuexp_buf *buf = attach->dmabuf->priv;
	struct gpuexp_map *m = container_of(sgt, struct gpuexp_map, sgt);

	mutex_lock(&buf->lock);
	list_del(&m->node);
	buf->nmaps--;
	mutex_unlock(&buf->lock);
	dma_unmap_sgtable(m->dev, &m->sgt, m->dir, 0);
	sg_free_table(&m->sgt);
	gpuexp_store_put(m->store);
	kfree(m);
}

/* Sync every device mapping of the buffer for the CPU, or back for devices. */
static int gpuexp_sync(struct dma_buf *dmabuf, enum dma_data_direction dir,
		       bool for_cpu)
{
	struct gpuexp_buf *buf = dmabuf->priv;
	struct gpuexp_map *m;

	mutex_lock(&buf->lock);
	list_for_each_entry(m, &buf->maps, node) {
		if (for_cpu)
			dma_sync_sgtable_for_cpu(m->dev, &m->sgt, dir);
		else
			dma_sync_sgtable_for_device(m->dev, &m->sgt, dir);
	}
	mutex_unlock(&buf->lock);
	return 0;
}

static int gpuexp_begin_cpu_access(struct dma_buf *dmabuf,
				   enum dma_data_direction dir)
{
	return gpuexp_sync(dmabuf, dir, true);
}

static int gpuexp_end_cpu_access(struct dma_buf *dmabuf,
				 enum dma_data_direction dir)
{
	return gpuexp_sync(dmabuf, dir, false);
}

/*
 * The dma-buf's own mmap: a PFN map of the current store, filled by
 * faults, so that a move (which zaps it) is followed by the new pages.
 */
static vm_fault_t gpuexp_fault(struct vm_fault *vmf)
{
	struct gpuexp_buf *buf = vmf->vma->vm_private_data;
	vm_fault_t ret;

	if (vmf->pgoff >= buf->npages)
		return VM_FAULT_SIGBUS;
	mutex_lock(&buf->lock);
	ret = vmf_insert_pfn(vmf->vma, vmf->address,
			     page_to_pfn(buf->store->pages[vmf->pgoff]));
	mutex_unlock(&buf->lock);
	return ret;
}

static const struct vm_operations_struct gpuexp_vm_ops = {
	.fault = gpuexp_fault,
};

static int gpuexp_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	/* A PFN map cannot be copy-on-write. */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	gpuexp_vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND |
			    VM_DONTDUMP);
	vma->vm_page_prot = gpuexp_prot(vm_get_page_prot(vma->vm_flags));
	vma->vm_ops = &gpuexp_vm_ops;
	vma->vm_private_data = dmabuf->priv;
	return 0;
}

static int gpuexp_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct gpuexp_buf *buf = dmabuf->priv;

	mutex_lock(&buf->lock);
	if (!buf->vmaps) {
		struct gpuexp_store *s = buf->store;
		void *vaddr;

		vaddr = vmap(s->pages, s->npages, VM_MAP,
			     s->wc ? gpuexp_prot(PAGE_KERNEL) : PAGE_KERNEL);
		if (!vaddr) {
			mutex_unlock(&buf->lock);
			return -ENOMEM;
		}
		kref_get(&s->ref);
		buf->vstore = s;
		buf->vaddr = vaddr;
	}
	buf->vmaps++;
	if (buf->kind == DAXFS_GPUEXP_IOMEM)
		iosys_map_set_vaddr_iomem(map, (void __iomem __force *)buf->vaddr);
	else
		iosys_map_set_vaddr(map, buf->vaddr);
	mutex_unlock(&buf->lock);
	return 0;
}

static void gpuexp_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct gpuexp_buf *buf = dmabuf->priv;
	struct gpuexp_store *s = NULL;
	void *vaddr = NULL;

	mutex_lock(&buf->lock);
	if (!WARN_ON_ONCE(!buf->vmaps) && !--buf->vmaps) {
		vaddr = buf->vaddr;
		s = buf->vstore;
		buf->vaddr = NULL;
		buf->vstore = NULL;
	}
	mutex_unlock(&buf->lock);
	if (vaddr) {
		vunmap(vaddr);
		gpuexp_store_put(s);
	}
}

static void gpuexp_release(struct dma_buf *dmabuf)
{
	struct gpuexp_buf *buf = dmabuf->priv;

	/* The core detaches and unmaps everything before the last put. */
	WARN_ON(buf->vmaps || buf->nmaps || buf->pins || buf->attachments);
	gpuexp_store_put(buf->store);
	mutex_destroy(&buf->lock);
	kfree(buf);
}

static const struct dma_buf_ops gpuexp_dynamic_ops = {
	.attach = gpuexp_attach,
	.detach = gpuexp_detach,
	.pin = gpuexp_pin,
	.unpin = gpuexp_unpin,
	.map_dma_buf = gpuexp_map_dma_buf,
	.unmap_dma_buf = gpuexp_unmap_dma_buf,
	.release = gpuexp_release,
	.begin_cpu_access = gpuexp_begin_cpu_access,
	.end_cpu_access = gpuexp_end_cpu_access,
	.mmap = gpuexp_mmap,
	.vmap = gpuexp_vmap,
	.vunmap = gpuexp_vunmap,
};

/* IOMEM: a static exporter, the same operations without .pin/.unpin. */
static struct dma_buf_ops gpuexp_static_ops __ro_after_init;

/* ------------------------------------------------------------ ioctls */

/* The buffer behind @fd with a reference on its dma-buf, or an error. */
static struct gpuexp_buf *gpuexp_buf_get(int fd)
{
	struct dma_buf *dmabuf = dma_buf_get(fd);

	if (IS_ERR(dmabuf))
		return ERR_CAST(dmabuf);
	if (dmabuf->ops != &gpuexp_dynamic_ops &&
	    dmabuf->ops != &gpuexp_static_ops) {
		dma_buf_put(dmabuf);
		return ERR_PTR(-EINVAL);
	}
	return dmabuf->priv;
}

static long gpuexp_ioc_create(void __user *uarg)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp);
	struct daxfs_gpuexp_create arg;
	struct dma_buf *dmabuf;
	struct gpuexp_buf *buf;
	int fd, ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags || arg.kind < DAXFS_GPUEXP_DYNAMIC_PINNABLE ||
	    arg.kind > DAXFS_GPUEXP_IOMEM)
		return -EINVAL;
	if (!arg.size || !PAGE_ALIGNED(arg.size) ||
	    arg.size > DAXFS_GPUEXP_MAX_SIZE)
		return -EINVAL;

	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	mutex_init(&buf->lock);
	INIT_LIST_HEAD(&buf->maps);
	buf->kind = arg.kind;
	buf->npages = arg.size >> PAGE_SHIFT;
	buf->store = gpuexp_store_alloc(buf->npages);
	if (IS_ERR(buf->store)) {
		ret = PTR_ERR(buf->store);
		goto fail;
	}

	exp.ops = arg.kind == DAXFS_GPUEXP_IOMEM ? &gpuexp_static_ops :
						   &gpuexp_dynamic_ops;
	exp.size = arg.size;
	exp.flags = O_RDWR;
	exp.priv = buf;
	dmabuf = dma_buf_export(&exp);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		gpuexp_store_put(buf->store);
		goto fail;
	}
	buf->dmabuf = dmabuf;
	fd = dma_buf_fd(dmabuf, O_CLOEXEC);
	if (fd < 0)
		dma_buf_put(dmabuf);	/* frees buf */
	return fd;

fail:
	mutex_destroy(&buf->lock);
	kfree(buf);
	return ret;
}

static int gpuexp_move(struct gpuexp_buf *buf)
{
	struct dma_resv *resv = buf->dmabuf->resv;
	struct gpuexp_store *new, *drop;
	unsigned long i;
	int ret;

	new = gpuexp_store_alloc(buf->npages);
	if (IS_ERR(new))
		return PTR_ERR(new);
	drop = new;
	ret = dma_resv_lock_interruptible(resv, NULL);
	if (ret)
		goto out;
	mutex_lock(&buf->lock);
	if (buf->pins) {
		ret = -EBUSY;
		goto unlock;
	}
	/* No user mapping may write the old pages from now on. */
	unmap_mapping_range(buf->dmabuf->file->f_mapping, 0, 0, 1);
	for (i = 0; i < buf->npages; i++) {
		copy_highpage(new->pages[i], buf->store->pages[i]);
		cond_resched();
	}
	drop = buf->store;
	buf->store = new;
	buf->moves++;
	mutex_unlock(&buf->lock);
	gpuexp_notify_move(buf->dmabuf);
	dma_resv_unlock(resv);
	/* What the importers still run on the old pages (no fences here). */
	dma_resv_wait_timeout(resv, DMA_RESV_USAGE_BOOKKEEP, false,
			      MAX_SCHEDULE_TIMEOUT);
	goto out;

unlock:
	mutex_unlock(&buf->lock);
	dma_resv_unlock(resv);
out:
	gpuexp_store_put(drop);
	return ret;
}

static long gpuexp_ioc_move(void __user *uarg)
{
	struct daxfs_gpuexp_move arg;
	struct gpuexp_buf *buf;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags)
		return -EINVAL;
	buf = gpuexp_buf_get(arg.fd);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	if (buf->kind == DAXFS_GPUEXP_IOMEM)
		ret = -EOPNOTSUPP;
	else
		ret = gpuexp_move(buf);
	dma_buf_put(buf->dmabuf);
	return ret;
}

static long gpuexp_ioc_status(void __user *uarg)
{
	struct daxfs_gpuexp_status st = {};
	struct gpuexp_buf *buf;
	struct gpuexp_map *m;

	if (get_user(st.fd, (__s32 __user *)uarg))
		return -EFAULT;
	buf = gpuexp_buf_get(st.fd);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	mutex_lock(&buf->lock);
	st.kind = buf->kind;
	st.size = (u64)buf->npages << PAGE_SHIFT;
	st.pin_count = buf->pins;
	st.attachments = buf->attachments;
	st.sg_mappings = buf->nmaps;
	st.vmap_count = buf->vmaps;
	st.moves = buf->moves;
	if (buf->vmaps && buf->vstore != buf->store)
		st.stale_mappings++;
	list_for_each_entry(m, &buf->maps, node)
		if (m->store != buf->store)
			st.stale_mappings++;
	mutex_unlock(&buf->lock);
	dma_buf_put(buf->dmabuf);
	if (copy_to_user(uarg, &st, sizeof(st)))
		return -EFAULT;
	return 0;
}

/* ------------------------------------------------------ test importer */

/* Bytes copied out of a vmap per round (DAXFS_GPUEXP_IOC_IMPORT_CHECK). */
#define GPUEXP_BOUNCE	SZ_64K

/*
 * vmap @dmabuf and copy arg->vmap_len bytes from arg->vmap_offset out to
 * arg->vmap_buf, inside a CPU read bracket.
 */
static int gpuexp_check_vmap(struct dma_buf *dmabuf,
			     struct daxfs_gpuexp_import_check *arg)
{
	u8 __user *dst = u64_to_user_ptr(arg->vmap_buf);
	struct iosys_map map;
	u64 done = 0;
	void *bounce;
	int ret, end;

	bounce = kmalloc(GPUEXP_BOUNCE, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	ret = dma_buf_begin_cpu_access(dmabuf, DMA_FROM_DEVICE);
	if (ret)
		goto out;
	ret = gpuexp_importer_vmap(dmabuf, &map);
	if (ret)
		goto end_access;
	arg->vmap_is_iomem = map.is_iomem;
	while (done < arg->vmap_len) {
		size_t n = min_t(u64, arg->vmap_len - done, GPUEXP_BOUNCE);

		iosys_map_memcpy_from(bounce, &map, arg->vmap_offset + done, n);
		if (copy_to_user(dst + done, bounce, n)) {
			ret = -EFAULT;
			break;
		}
		done += n;
		cond_resched();
	}
	gpuexp_importer_vunmap(dmabuf, &map);
end_access:
	end = dma_buf_end_cpu_access(dmabuf, DMA_FROM_DEVICE);
	if (!ret)
		ret = end;
out:
	kfree(bounce);
	return ret;
}

/* The segments of @sgt to user space; their number and length into @arg. */
static int gpuexp_check_segs(struct sg_table *sgt,
			     struct daxfs_gpuexp_import_check *arg)
{
	struct daxfs_gpuexp_seg __user *usegs = u64_to_user_ptr(arg->segs);
	struct scatterlist *sg;
	int i;

	arg->nsegs = 0;
	arg->dma_bytes = 0;
	for_each_sgtable_dma_sg(sgt, sg, i) {
		struct daxfs_gpuexp_seg seg = {
			.addr = sg_dma_address(sg),
			.len = sg_dma_len(sg),
		};

		if (arg->nsegs < arg->max_segs &&
		    copy_to_user(&usegs[arg->nsegs], &seg, sizeof(seg)))
			return -EFAULT;
		arg->nsegs++;
		arg->dma_bytes += seg.len;
	}
	return 0;
}

static long gpuexp_ioc_import_check(struct device *dev, void __user *uarg)
{
	struct daxfs_gpuexp_import_check arg;
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf;
	struct sg_table *sgt;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if ((arg.flags & ~DAXFS_GPUEXP_CHECK_VMAP) || arg.reserved0 ||
	    arg.reserved1 || arg.dir > DAXFS_GPUEXP_DMA_FROM_DEVICE)
		return -EINVAL;
	if ((arg.flags & DAXFS_GPUEXP_CHECK_VMAP) &&
	    arg.vmap_len > DAXFS_GPUEXP_CHECK_MAX_COPY)
		return -EINVAL;
	arg.vmap_is_iomem = 0;

	dmabuf = dma_buf_get(arg.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	arg.size = dmabuf->size;
	if ((arg.flags & DAXFS_GPUEXP_CHECK_VMAP) &&
	    (arg.vmap_offset > dmabuf->size ||
	     arg.vmap_len > dmabuf->size - arg.vmap_offset)) {
		ret = -EINVAL;
		goto put;
	}
	attach = dma_buf_attach(dmabuf, dev);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto put;
	}
	sgt = gpuexp_importer_map(attach, arg.dir);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto detach;
	}
	ret = gpuexp_check_segs(sgt, &arg);
	/* the kernel mapping while the device mapping lives, as a GPU has both */
	if (!ret && (arg.flags & DAXFS_GPUEXP_CHECK_VMAP))
		ret = gpuexp_check_vmap(dmabuf, &arg);
	gpuexp_importer_unmap(attach, sgt, arg.dir);
detach:
	dma_buf_detach(dmabuf, attach);
put:
	dma_buf_put(dmabuf);
	if (ret)
		return ret;
	if (copy_to_user(uarg, &arg, sizeof(arg)))
		return -EFAULT;
	return 0;
}

static long gpuexp_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	/* misc_open() left the miscdevice here */
	struct miscdevice *misc = file->private_data;
	void __user *uarg = (void __user *)arg;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	switch (cmd) {
	case DAXFS_GPUEXP_IOC_CREATE:
		return gpuexp_ioc_create(uarg);
	case DAXFS_GPUEXP_IOC_MOVE:
		return gpuexp_ioc_move(uarg);
	case DAXFS_GPUEXP_IOC_STATUS:
		return gpuexp_ioc_status(uarg);
	case DAXFS_GPUEXP_IOC_IMPORT_CHECK:
		return gpuexp_ioc_import_check(misc->this_device, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations gpuexp_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = gpuexp_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice gpuexp_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = DAXFS_GPUEXP_NAME,
	.fops = &gpuexp_fops,
	.mode = 0600,
};

static int __init gpuexp_init(void)
{
	struct device *dev;
	int ret;

	gpuexp_static_ops = gpuexp_dynamic_ops;
	gpuexp_static_ops.pin = NULL;
	gpuexp_static_ops.unpin = NULL;
	ret = misc_register(&gpuexp_misc);
	if (ret)
		return ret;
	/*
	 * The misc device is also the test importer's device: exporters map
	 * their buffers for it, and the DMA API refuses a device without a
	 * DMA mask (a misc device has none).  It reaches all memory.
	 */
	dev = gpuexp_misc.this_device;
	if (!dev->dma_mask) {
		ret = dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(64));
		if (ret) {
			misc_deregister(&gpuexp_misc);
			return ret;
		}
	}
	return 0;
}

static void __exit gpuexp_exit(void)
{
	misc_deregister(&gpuexp_misc);
}

module_init(gpuexp_init);
module_exit(gpuexp_exit);

MODULE_DESCRIPTION("daxfs tests: a dma-buf exporter like a GPU's TTM VRAM buffers");
MODULE_AUTHOR("The daxfs-dmabuf authors");
MODULE_LICENSE("GPL");
