/* SPDX-License-Identifier: GPL-2.0 */
/*
 * daxfs: every difference between the kernels of the matrix lives here.
 *
 * Matrix: Debian bookworm 6.1, trixie 6.12 (and the 6.12 debug build),
 * sid (7.2 when written).  Each entry says which kernels need which side.
 */
#ifndef DAXFS_COMPAT_H
#define DAXFS_COMPAT_H

#include <linux/version.h>
#include <linux/dma-buf.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/splice.h>
#include <linux/crc32c.h>
#include <linux/magic.h>

/*
 * Namespace import of the dma-buf symbols: a bare identifier up to 6.12
 * (bookworm, trixie), a string literal from 6.13 (sid).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define DAXFS_IMPORT_DMA_BUF_NS() MODULE_IMPORT_NS("DMA_BUF")
#else
#define DAXFS_IMPORT_DMA_BUF_NS() MODULE_IMPORT_NS(DMA_BUF)
#endif

/*
 * Importer vmap.  6.1 (bookworm): dma_buf_vmap() takes the buffer's own
 * lock.  From 6.2 (trixie, sid) dma_buf_vmap() wants the reservation lock
 * held by the caller and importers use the _unlocked variants.
 */
static inline int daxfs_dma_buf_vmap(struct dma_buf *dmabuf,
				     struct iosys_map *map)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return dma_buf_vmap_unlocked(dmabuf, map);
#else
	return dma_buf_vmap(dmabuf, map);
#endif
}

static inline void daxfs_dma_buf_vunmap(struct dma_buf *dmabuf,
					struct iosys_map *map)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	dma_buf_vunmap_unlocked(dmabuf, map);
#else
	dma_buf_vunmap(dmabuf, map);
#endif
}

/*
 * vma flags are written through vm_flags_set()/vm_flags_clear() from 6.3
 * (trixie, sid); 6.1 (bookworm) writes vma->vm_flags.
 */
static inline void daxfs_vm_flags_mod(struct vm_area_struct *vma,
				      unsigned long set, unsigned long clear)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

/*
 * splice_read without the page cache: copy_splice_read() from 6.5 (trixie,
 * sid).  In 6.1 (bookworm) generic_file_splice_read() feeds ->read_iter a
 * pipe iterator and touches no page cache itself, so it does the same.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define daxfs_splice_read copy_splice_read
#else
#define daxfs_splice_read generic_file_splice_read
#endif

/*
 * PFNs handed to vmf_insert_mixed() and returned by dax_direct_access():
 * a pfn_t (PFN plus PFN_DEV/PFN_MAP flags) until pfn_t was removed (6.17;
 * bookworm and trixie have it), a plain unsigned long after (sid).
 * daxfs keeps a PFN and the flags of the source separately.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 17, 0)
#include <linux/pfn_t.h>
#define daxfs_dax_pfn_t pfn_t

static inline unsigned long daxfs_dax_pfn(daxfs_dax_pfn_t p)
{
	return pfn_t_to_pfn(p);
}

static inline u64 daxfs_dax_pfn_flags(daxfs_dax_pfn_t p)
{
	return p.val & PFN_FLAGS_MASK;
}

static inline vm_fault_t daxfs_insert_mixed(struct vm_area_struct *vma,
					    unsigned long addr,
					    unsigned long pfn, u64 flags)
{
	return vmf_insert_mixed(vma, addr, __pfn_to_pfn_t(pfn, flags));
}
#else
#define daxfs_dax_pfn_t unsigned long

static inline unsigned long daxfs_dax_pfn(daxfs_dax_pfn_t p)
{
	return p;
}

static inline u64 daxfs_dax_pfn_flags(daxfs_dax_pfn_t p)
{
	return 0;
}

static inline vm_fault_t daxfs_insert_mixed(struct vm_area_struct *vma,
					    unsigned long addr,
					    unsigned long pfn, u64 flags)
{
	return vmf_insert_mixed(vma, addr, pfn);
}
#endif

/*
 * A dma-buf from the struct file that FSCONFIG_SET_FD hands the file system.
 * 6.1 (bookworm) leaves param->dirfd at 0 for FSCONFIG_SET_FD (6.12 and sid
 * set it to the fd), so the fd number cannot be given to dma_buf_get() on
 * every kernel; and dma-buf exports no "file to dma-buf" helper.  Every
 * dma-buf file, and nothing else, lives on the dma-buf pseudo file system
 * (DMA_BUF_MAGIC), whose files carry the dma_buf in private_data: the same
 * test dma_buf_get() makes, through the superblock instead of the f_op.
 * Returns a new reference, or NULL.
 */
static inline struct dma_buf *daxfs_file_to_dma_buf(struct file *file)
{
	struct dma_buf *dmabuf;

	if (!file || file_inode(file)->i_sb->s_magic != DMA_BUF_MAGIC)
		return NULL;
	dmabuf = file->private_data;
	if (!dmabuf || dmabuf->file != file)
		return NULL;
	get_dma_buf(dmabuf);
	return dmabuf;
}

/*
 * Huge (PMD) mappings of contiguous buffers, in shared (VM_PFNMAP)
 * mappings only.  Where the architecture supports PFN PMDs
 * (CONFIG_ARCH_SUPPORTS_PMD_PFNMAP, from 6.12: trixie, sid; x86_64 with
 * THP), vmf_insert_pfn_pmd() marks the PMD special (pmd_mkspecial) and the
 * core mm never treats the buffer's pages behind it as its own.  Without it
 * (6.1, bookworm; and any architecture without the symbol) a PFN PMD is
 * not marked, so daxfs maps 4 KiB pages only.  The gate is the Kconfig
 * symbol, not the version.  ->huge_fault takes an order from 6.6.
 * vmf_insert_pfn_pmd() takes a pfn_t until 6.17 (PFN_DEV without PFN_MAP
 * gives a special, not a devmap, PMD), a plain PFN after (sid).
 */
#if defined(CONFIG_ARCH_SUPPORTS_PMD_PFNMAP) && \
	defined(CONFIG_TRANSPARENT_HUGEPAGE)
#define DAXFS_HAVE_PMD 1
#include <linux/huge_mm.h>

static inline vm_fault_t daxfs_insert_pfn_pmd(struct vm_fault *vmf,
					      unsigned long pfn)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 17, 0)
	return vmf_insert_pfn_pmd(vmf, __pfn_to_pfn_t(pfn, PFN_DEV), false);
#else
	return vmf_insert_pfn_pmd(vmf, pfn, false);
#endif
}
#endif

/*
 * The importer's "the buffer moves" callback in struct dma_buf_attach_ops:
 * move_notify up to 7.0 (bookworm, trixie), invalidate_mappings from 7.1
 * (sid, 7.2), with dma_buf_move_notify() becoming
 * dma_buf_invalidate_mappings() in the same change.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 1, 0)
#define DAXFS_ATTACH_OPS_MOVE invalidate_mappings
#else
#define DAXFS_ATTACH_OPS_MOVE move_notify
#endif

/*
 * CRC-32C.  Up to 6.13 (bookworm, trixie) crc32c() comes from libcrc32c
 * (<linux/crc32c.h>, length unsigned int); later kernels (sid) declare it
 * in <linux/crc32.h> with a size_t length and keep <linux/crc32c.h> as a
 * shim.  Feed it at most 1 GiB at a time so that the narrower length type
 * never truncates.
 */
static inline u32 daxfs_crc32c(u32 crc, const void *p, size_t len)
{
	const u8 *b = p;

	while (len) {
		size_t n = min_t(size_t, len, SZ_1G);

		crc = crc32c(crc, b, n);
		b += n;
		len -= n;
	}
	return crc;
}

/*
 * Inode timestamps: direct fields in 6.1 (bookworm), accessors for ctime
 * from 6.6 and for atime/mtime from 6.7 (trixie, sid).
 */
static inline void daxfs_set_inode_times(struct inode *inode,
					 struct timespec64 ts)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	inode_set_mtime_to_ts(inode, ts);
	inode_set_atime_to_ts(inode, ts);
	inode_set_ctime_to_ts(inode, ts);
#else
	inode->i_mtime = ts;
	inode->i_atime = ts;
	inode->i_ctime = ts;
#endif
}

/*
 * I_NEW test after iget_locked(): i_state is read through
 * inode_state_read_once() from 6.19 (sid); plain field before.
 */
static inline bool daxfs_inode_is_new(struct inode *inode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
	return inode_state_read_once(inode) & I_NEW;
#else
	return inode->i_state & I_NEW;
#endif
}

/*
 * First argument of inode_operations ->setattr: struct user_namespace *
 * in 6.1 (bookworm), struct mnt_idmap * from 6.3 (trixie, sid).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define DAXFS_IDMAP_T struct mnt_idmap
#else
#define DAXFS_IDMAP_T struct user_namespace
#endif

/*
 * The file system UUID of the superblock: super_set_uuid() from 6.8
 * (trixie, sid) also sets s_uuid_len, without which FS_IOC_GETFSUUID
 * fails with ENOTTY; 6.1 (bookworm) has neither the helper nor the ioctl,
 * and s_uuid is filled directly (statfs' f_fsid is made from the UUID on
 * every kernel).
 */
static inline void daxfs_set_uuid(struct super_block *sb, const u8 *uuid,
				  unsigned int len)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	super_set_uuid(sb, uuid, len);
#else
	memcpy(&sb->s_uuid, uuid, min_t(unsigned int, len, sizeof(sb->s_uuid)));
#endif
}

/*
 * DAX holders.  fs_dax_get_by_bdev() takes a holder and its
 * dax_holder_operations on every kernel of the matrix (6.1, 6.12, 7.2),
 * and memory_failure() on a device page calls ->notify_failure() with the
 * failed range on all three.  Only from 6.7 (trixie, sid) does kill_dax()
 * (the driver unbinding, the device going away) call it first with
 * MF_MEM_PRE_REMOVE over the whole device; 6.1 (bookworm) just stops the
 * device, so there daxfs learns of it only from dax_alive() on the next
 * read or fault, and mappings made before stay in place.
 * dax_copy_to_iter() is exported by none of the three: reads use
 * _copy_mc_to_iter(), which is what it does for pmem (a machine check
 * becomes a short copy), with the badblocks check of dax_direct_access().
 */
static inline bool daxfs_mf_pre_remove(int mf_flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	return mf_flags & MF_MEM_PRE_REMOVE;
#else
	return false;
#endif
}

#endif /* DAXFS_COMPAT_H */
