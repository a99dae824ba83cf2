// SPDX-License-Identifier: GPL-2.0
/*
 * daxfs: file data.  read() copies straight from the buffer; mmap() puts
 * the buffer's own pages into the user's page tables.  No page cache.
 *
 * mmap.  The buffer's pages belong to its exporter (or to nobody, for a
 * phys= range), never to the core mm, so no mapping may let
 * get_user_pages() take references on them:
 * - MAP_SHARED is VM_PFNMAP: PTEs from vmf_insert_pfn(), and one PMD for
 *   an aligned, physically contiguous 2 MiB where the kernel has PFN PMDs.
 *   get_user_pages() refuses the whole vma with EFAULT, so a PMD may span
 *   several of the exporter's folios (or pages without struct page) safely.
 * - MAP_PRIVATE is VM_MIXEDMAP on 4 KiB PFN-special PTEs only: the first
 *   write to a page copies it into an anonymous page, which is then the
 *   process's own; get_user_pages() fails on the pages not yet copied.
 * ->access serves what get_user_pages() refuses to ptrace and
 * /proc/PID/mem: a read through the same bounds checks as read().
 * MAP_SHARED with write access is refused with EACCES, the errno of a
 * read-only file; the VFS already refuses it for our O_RDONLY-only files.
 * Buffers whose kernel mapping is I/O memory cannot be mapped: mmap()
 * fails with ENODEV and says why in the kernel log.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/pagemap.h>
#include <linux/uio.h>

#include "internal.h"
#include "compat.h"

/*
 * PTEs a fault maps at most (the faulting one included): the aligned block
 * of fault_around_pages pages it falls in, before and after the faulting
 * page (a copy that runs downwards faults at a block's last page: fio's
 * mmap engine, through glibc's memcpy(), did, and with the rest of the
 * block only after the fault it took 1.3 pages a fault and ran at 0.06x
 * tmpfs), as far as the vma and the file go.  A power of two from 1 to a
 * page table's worth; writable at run time by root, read at every fault.
 * Each PTE costs the same whatever the block (x86 PAT's memory-type lookup
 * in vmf_insert_pfn(), a page-table walk and a lock:
 * selftests/bench/notes.md has the profile); a larger block saves faults.
 * First touch of 32768 pages of a udmabuf mount, medians of 7 in one boot
 * (trixie, TCG): 16 pages 0.104 s (2050 faults, tmpfs's 64 KiB), 64 pages
 * 0.081 s (514), 256 pages 0.046 s (130); tmpfs 0.028 s.  64 is the
 * default: a quarter of the faults, while a fault in a file touched at
 * random inserts at most 64 PTEs it may not need (page tables only, no
 * memory).  Sequential loaders may raise it.
 */
static unsigned int daxfs_fault_around = 64;

static int daxfs_fault_around_set(const char *val, const struct kernel_param *kp)
{
	unsigned int n;
	int ret;

	ret = kstrtouint(val, 0, &n);
	if (ret)
		return ret;
	if (!n || n > PTRS_PER_PTE || !is_power_of_2(n))
		return -EINVAL;
	WRITE_ONCE(daxfs_fault_around, n);
	return 0;
}

static const struct kernel_param_ops daxfs_fault_around_ops = {
	.set	= daxfs_fault_around_set,
	.get	= param_get_uint,
};
module_param_cb(fault_around_pages, &daxfs_fault_around_ops,
		&daxfs_fault_around, 0644);
MODULE_PARM_DESC(fault_around_pages,
		 "PTEs a page fault maps at most: a power of two up to a page table (default 64)");

/*
 * Copy @len bytes of @r from offset @pos to @to, inside the dma-buf's
 * CPU-access bracket unless @r says the mount holds one for its whole life
 * (cpu_access=mount).  The caller has clamped @len to the range.  Returns
 * the bytes copied (short only where @to faulted), or a negative errno:
 * EIO when the image stopped the copy.
 */
static ssize_t daxfs_range_copy(const struct daxfs_range *r, u64 pos,
				size_t len, struct iov_iter *to)
{
	ssize_t done;
	int cookie = 0;

	if (r->bracket) {
		cookie = daxfs_backing_begin_read(r->b);
		if (cookie < 0)
			return cookie;
	}
	done = daxfs_backing_copy_to_iter(r->b, r->data + pos, len, to);
	if (r->bracket)
		daxfs_backing_end_read(r->b, cookie);
	return done;
}

/* The range of @inode's data. */
static void daxfs_inode_range(struct inode *inode, struct daxfs_range *r)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);
	const struct daxfs_inode *di = daxfs_raw_inode(inode);

	r->b = sbi->b;
	r->data = le64_to_cpu(di->offset);
	r->size = le64_to_cpu(di->size);
	r->bracket = !sbi->cpu_access_begun;
}

static ssize_t daxfs_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct daxfs_range r;
	u64 pos = iocb->ki_pos;
	ssize_t done;

	daxfs_inode_range(file_inode(iocb->ki_filp), &r);
	if (iocb->ki_pos < 0)
		return -EINVAL;
	if (pos >= r.size || !iov_iter_count(to))
		return 0;
	done = daxfs_range_copy(&r, pos,
				min_t(u64, iov_iter_count(to), r.size - pos), to);
	if (done < 0)
		return done;	/* EIO: the image, not the caller's buffer */
	if (!done)
		return -EFAULT;
	iocb->ki_pos += done;
	return done;
}

/*
 * One PTE: a PFN map PTE in a shared (VM_PFNMAP) mapping, a mixed-map one
 * in a private mapping (DAX pages keep their pfn_t flags there).
 */
static vm_fault_t daxfs_insert_pte(struct vm_area_struct *vma,
				   unsigned long addr, unsigned long pfn,
				   u64 flags)
{
	if (vma->vm_flags & VM_PFNMAP)
		return vmf_insert_pfn(vma, addr, pfn);
	return daxfs_insert_mixed(vma, addr, pfn, flags);
}

/*
 * The range a vma maps: an exported buffer's (export.c) is the vma's
 * private data, a file's is the file's.
 */
static void daxfs_vma_range(struct vm_area_struct *vma, struct daxfs_range *r)
{
	if (vma->vm_private_data)
		*r = *(struct daxfs_range *)vma->vm_private_data;
	else
		daxfs_inode_range(file_inode(vma->vm_file), r);
}

static vm_fault_t daxfs_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct daxfs_range r;
	struct daxfs_backing *b;
	u64 data;
	pgoff_t npages;
	unsigned long addr = vmf->address & PAGE_MASK;
	pgoff_t pgoff = vmf->pgoff;
	unsigned long pfn, start, end, a, block;
	vm_fault_t ret;
	u64 flags;
	int cookie;

	daxfs_vma_range(vma, &r);
	b = r.b;
	data = r.data;
	npages = DIV_ROUND_UP_ULL(r.size, PAGE_SIZE);
	if (pgoff >= npages)
		return VM_FAULT_SIGBUS;
	/* No cpu-access bracketing here: user space syncs its mappings. */
	cookie = daxfs_backing_guarded(b) ? daxfs_backing_begin_read(b) : 0;
	if (cookie < 0)
		return VM_FAULT_SIGBUS;
	ret = VM_FAULT_SIGBUS;
	if (!daxfs_backing_pfn(b, data + ((u64)pgoff << PAGE_SHIFT), &pfn, &flags))
		ret = daxfs_insert_pte(vma, addr, pfn, flags);
	if (ret != VM_FAULT_NOPAGE)
		goto out;

	/*
	 * Map the other pages of the same aligned block too, inside the vma
	 * and the file (pgoff - vm_pgoff pages lie between vm_start and
	 * addr); PTEs already present are left alone.  Whatever the order in
	 * which a block is touched, its first fault maps all of it.
	 */
	block = (unsigned long)READ_ONCE(daxfs_fault_around) << PAGE_SHIFT;
	start = max(ALIGN_DOWN(addr, block), vma->vm_start);
	end = min(ALIGN_DOWN(addr, block) + block, vma->vm_end);
	if (npages - pgoff < (end - addr) >> PAGE_SHIFT)
		end = addr + ((npages - pgoff) << PAGE_SHIFT);
	pgoff -= (addr - start) >> PAGE_SHIFT;
	for (a = start; a < end; a += PAGE_SIZE, pgoff++) {
		if (a == addr)
			continue;
		if (daxfs_backing_pfn(b, data + ((u64)pgoff << PAGE_SHIFT),
				      &pfn, &flags))
			break;
		if (daxfs_insert_pte(vma, a, pfn, flags) != VM_FAULT_NOPAGE)
			break;
	}
out:
	if (daxfs_backing_guarded(b))
		daxfs_backing_end_read(b, cookie);
	return ret;
}

#ifdef DAXFS_HAVE_PMD
/*
 * One PMD for an aligned 2 MiB of the file when the buffer's pages there
 * are physically contiguous and 2 MiB-aligned (a hugetlb-backed udmabuf,
 * a system heap buffer whose chunks happen to be adjacent, a phys= range,
 * a DAX device), else fall back to 4 KiB pages.  Never across EOF (a fault
 * past EOF must still raise SIGBUS).  Only shared (VM_PFNMAP) mappings
 * have this handler: the PMD is PFN-special there, whatever folios or
 * struct pages lie behind it.
 */
static vm_fault_t daxfs_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long haddr = vmf->address & PMD_MASK;
	struct daxfs_backing *b;
	struct daxfs_range r;
	unsigned long pfn0, pfn;
	pgoff_t npages;
	u64 data;
	vm_fault_t ret = VM_FAULT_FALLBACK;
	u64 f;
	pgoff_t pgoff;
	int cookie, i;

	if (order != PMD_ORDER || !(vma->vm_flags & VM_PFNMAP))
		return VM_FAULT_FALLBACK;
	daxfs_vma_range(vma, &r);
	b = r.b;
	data = r.data;
	npages = DIV_ROUND_UP_ULL(r.size, PAGE_SIZE);
	if (haddr < vma->vm_start || haddr + PMD_SIZE > vma->vm_end)
		return VM_FAULT_FALLBACK;
	pgoff = linear_page_index(vma, haddr);
	if (!IS_ALIGNED(pgoff, HPAGE_PMD_NR) || pgoff + HPAGE_PMD_NR > npages)
		return VM_FAULT_FALLBACK;

	cookie = daxfs_backing_guarded(b) ? daxfs_backing_begin_read(b) : 0;
	if (cookie < 0)
		return VM_FAULT_SIGBUS;
	if (daxfs_backing_pfn(b, data + ((u64)pgoff << PAGE_SHIFT), &pfn0, &f) ||
	    !IS_ALIGNED(pfn0, HPAGE_PMD_NR))
		goto out;
	/* no bad blocks anywhere in the window: the PTE path refuses them one by one */
	if (b->kind == DAXFS_DAX &&
	    !daxfs_backing_dax_ok(b, data + ((u64)pgoff << PAGE_SHIFT), HPAGE_PMD_NR))
		goto out;
	/* phys= and DAX ranges are contiguous; a dma-buf's vmap may not be. */
	if (b->kind == DAXFS_DMABUF) {
		for (i = 1; i < HPAGE_PMD_NR; i++) {
			if (daxfs_backing_pfn(b, data + ((u64)(pgoff + i) << PAGE_SHIFT),
					      &pfn, &f) || pfn != pfn0 + i)
				goto out;
		}
	}
	ret = daxfs_insert_pfn_pmd(vmf, pfn0);
out:
	if (daxfs_backing_guarded(b))
		daxfs_backing_end_read(b, cookie);
	return ret;
}
#endif

/*
 * ptrace, /proc/PID/mem and the like, where get_user_pages() refused the
 * page: copy from the file at the address's offset, one page at a time
 * (in a private mapping the next page may be an anonymous copy, which
 * get_user_pages() then serves).  Bytes of the last page past EOF read as
 * zeros; past that page, nothing (as a fault there raises SIGBUS).
 * Writes are refused: the file system is read-only and the shared
 * mappings never writable.
 */
static int daxfs_vm_access(struct vm_area_struct *vma, unsigned long addr,
			   void *buf, int len, int write)
{
	u64 pos = ((u64)vma->vm_pgoff << PAGE_SHIFT) + (addr - vma->vm_start);
	struct daxfs_range r;
	struct iov_iter to;
	struct kvec kv;
	size_t n, data;
	ssize_t done;
	u64 size;

	daxfs_vma_range(vma, &r);
	size = r.size;
	if (write)
		return -EACCES;
	if (len <= 0 || pos >= round_up(size, PAGE_SIZE))
		return -EIO;
	n = min_t(size_t, len, PAGE_SIZE - offset_in_page(addr));
	n = min_t(size_t, n, vma->vm_end - addr);
	data = pos < size ? min_t(u64, n, size - pos) : 0;
	if (data) {
		kv.iov_base = buf;
		kv.iov_len = data;
		iov_iter_kvec(&to, ITER_DEST, &kv, 1, data);
		done = daxfs_range_copy(&r, pos, data, &to);
		if (done < 0)
			return done;
		if (done != data)	/* a kernel buffer does not fault */
			return -EIO;
	}
	memset(buf + data, 0, n - data);
	return n;
}

static const struct vm_operations_struct daxfs_vm_ops_shared = {
	.fault		= daxfs_fault,
#ifdef DAXFS_HAVE_PMD
	.huge_fault	= daxfs_huge_fault,
#endif
	.access		= daxfs_vm_access,
};

static const struct vm_operations_struct daxfs_vm_ops_private = {
	.fault		= daxfs_fault,
	.access		= daxfs_vm_access,
};

/*
 * Set up a mapping of @r: a file's, or an exported range's (whose struct
 * the caller then makes the vma's private data).  @mmap_refused: the
 * mount's data_align is below the page size.
 */
int daxfs_range_mmap(const struct daxfs_range *r, bool mmap_refused,
		     struct vm_area_struct *vma)
{
	if (r->b->is_iomem) {
		pr_warn_ratelimited("(%s): mmap refused: the buffer is I/O memory\n",
				    r->b->name);
		return -ENODEV;
	}
	/* Pages larger than data_align would show other files (super.c). */
	if (mmap_refused) {
		pr_warn_ratelimited("(%s): mmap refused: data_align is below the page size %lu\n",
				    r->b->name, PAGE_SIZE);
		return -ENODEV;
	}
	/*
	 * MAP_SHARED: VM_MAYSHARE (mmap() drops VM_SHARED for a read-only
	 * file, and ours are all read-only).
	 */
	if (vma->vm_flags & VM_MAYSHARE) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		/* Not a COW mapping, as vmf_insert_pfn*() require. */
		daxfs_vm_flags_mod(vma, VM_PFNMAP | VM_DONTEXPAND, VM_MAYWRITE);
		vma->vm_ops = &daxfs_vm_ops_shared;
	} else {
		daxfs_vm_flags_mod(vma, VM_MIXEDMAP, 0);
		vma->vm_ops = &daxfs_vm_ops_private;
	}
	return 0;
}

static int daxfs_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct inode *inode = file_inode(file);
	struct daxfs_range r;
	int ret;

	daxfs_inode_range(inode, &r);
	ret = daxfs_range_mmap(&r, DAXFS_SB(inode->i_sb)->mmap_refused, vma);
	if (ret)
		return ret;
	/* Faults find the range through the file (daxfs_vma_range()). */
	vma->vm_private_data = NULL;
	file_accessed(file);
	return 0;
}

const struct file_operations daxfs_file_fops = {
	.llseek		= generic_file_llseek,
	.read_iter	= daxfs_read_iter,
	.mmap		= daxfs_mmap,
	.splice_read	= daxfs_splice_read,
	.unlocked_ioctl	= daxfs_file_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
#ifdef DAXFS_HAVE_PMD
	.get_unmapped_area = thp_get_unmapped_area,
#endif
};
