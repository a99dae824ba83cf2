/* SPDX-License-Identifier: GPL-2.0 */
/*
 * daxfs: internal declarations of the module.
 */
#ifndef DAXFS_INTERNAL_H
#define DAXFS_INTERNAL_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/iosys-map.h>
#include <linux/types.h>
#include <linux/uio.h>

#include "../format/daxfs_format.h"
#include "../uapi/linux/daxfs.h"

#undef pr_fmt
#define pr_fmt(fmt) "daxfs " fmt

struct dma_buf;
struct dax_device;

enum daxfs_kind {
	DAXFS_DMABUF,		/* a dma-buf, vmapped */
	DAXFS_PHYS,		/* a physical range, memremap()ed */
	DAXFS_DAX,		/* a DAX-capable block device */
	DAXFS_DEVDAX,		/* a device-dax character device, memremap()ed */
};

/*
 * A backing: where the image bytes are, plus the validated private copy of
 * the superblock and metadata.  Everything the file system needs to know
 * about the tree is served from @super and @meta, never again from the
 * buffer; file data is read from the buffer within bounds computed from the
 * copy.  Refcounted: the import holds one reference, every mount one.
 */
struct daxfs_backing {
	struct kref ref;
	enum daxfs_kind kind;
	char name[96];			/* for messages: "dmabuf:udmabuf id 3" */
	char exporter[DAXFS_EXPORTER_LEN];

	/* The buffer: [0, buf_size), the image at [offset, +image_size). */
	u64 buf_size;
	u64 offset;
	u64 image_size;
	bool is_iomem;
	void *vaddr;			/* buffer start, !is_iomem */
	void __iomem *vaddr_iomem;	/* buffer start, is_iomem */

	/* DAXFS_DMABUF */
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;	/* dynamic exporters only */
	bool pinned;
	struct iosys_map map;
	bool vmap_in_vmalloc;

	/* DAXFS_PHYS */
	phys_addr_t phys;

	/* DAXFS_DAX */
	struct dax_device *dax_dev;
	unsigned long dax_pfn;		/* PFN of the buffer start */
	u64 dax_pfn_flags;

	/* Validated private copy. */
	struct daxfs_super super;
	void *meta;
	u64 meta_len;
	u64 meta_charged;		/* bytes of the module's metadata budget */
	const struct daxfs_inode *inodes;
	const struct daxfs_dirent *dirents;
	const char *names;
	u32 inode_count;
	u32 dirent_count;
	u64 names_size;

	atomic_t mounts;

	/*
	 * DAXFS_PHYS: the claim on [phys, phys + buf_size) in /proc/iomem,
	 * held for the life of the backing; every live phys= backing is on
	 * a list, so that a second mount of the same range shares it.
	 */
	struct resource *phys_res;
	struct list_head phys_node;

	/* DAXFS_DAX: the holder of the device (see daxfs_dax_holder_ops). */
	struct super_block *sb;		/* the one superblock on the device */
	u64 dax_start_off;		/* bytes from the dax device's start */
	bool dax_dead;			/* going away: no new mappings or reads */

	/*
	 * DAXFS_DEVDAX (also uses phys, vaddr, phys_node, sb, dax_dead): the
	 * open character device, held for the life of the backing, its
	 * struct device on the dax bus, and the bus notifier that learns of
	 * the device's unbinding.  devdax_lock orders that notification
	 * against setting and clearing @sb.
	 */
	struct file *devdax_file;
	struct device *devdax_dev;
	struct notifier_block devdax_nb;
	bool devdax_nb_registered;
	struct mutex devdax_lock;	/* the notifier against @sb */
};

struct daxfs_sb_info {
	struct daxfs_backing *b;
	bool counted;			/* holds one of b->mounts */
	bool cpu_access_mount;		/* cpu_access=mount */
	bool cpu_access_begun;		/* a dma-buf's CPU access begun at mount */
	bool devnodes;			/* -o devnodes: device nodes may be opened */
	bool mmap_refused;		/* data_align below PAGE_SIZE: no mmap() */
};

/*
 * Image bytes mapped to user space or read: a file's data, or the range of
 * it an exported dma-buf holds (export.c).
 */
struct daxfs_range {
	struct daxfs_backing *b;
	u64 data;			/* image offset of the first byte */
	u64 size;			/* bytes; faults past the last page: SIGBUS */
	bool bracket;			/* reads need begin/end_cpu_access */
};

static inline struct daxfs_sb_info *DAXFS_SB(struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline const struct daxfs_inode *daxfs_raw_inode(struct inode *inode)
{
	return inode->i_private;
}

/* buf.c */
int daxfs_backing_dmabuf(struct dma_buf *dmabuf, u64 offset,
			 const char *what, struct daxfs_backing **out);
int daxfs_backing_phys(phys_addr_t phys, u64 size, u64 offset,
		       struct daxfs_backing **out);
int daxfs_backing_dax(struct super_block *sb, u64 offset,
		      struct daxfs_backing **out);
bool daxfs_source_is_chrdev(const char *src);
int daxfs_backing_devdax(const char *path, const u64 *phys, const u64 *size,
			 u64 offset, struct daxfs_backing **out);
int daxfs_backing_devdax_attach(struct daxfs_backing *b, struct super_block *sb);
void daxfs_backing_devdax_detach(struct daxfs_backing *b, struct super_block *sb);
void daxfs_backing_get(struct daxfs_backing *b);
void daxfs_backing_put(struct daxfs_backing *b);
int daxfs_backing_read(struct daxfs_backing *b, u64 off, void *dst, size_t len);
ssize_t daxfs_backing_copy_to_iter(struct daxfs_backing *b, u64 off,
				   size_t len, struct iov_iter *to);
int daxfs_backing_begin_read(struct daxfs_backing *b);
void daxfs_backing_end_read(struct daxfs_backing *b, int cookie);
bool daxfs_backing_dax_ok(struct daxfs_backing *b, u64 off, long nr);

/* Faults and reads of these go through daxfs_backing_begin_read(). */
static inline bool daxfs_backing_guarded(const struct daxfs_backing *b)
{
	return b->kind == DAXFS_DAX || b->kind == DAXFS_DEVDAX;
}

int daxfs_backing_pfn(struct daxfs_backing *b, u64 off, unsigned long *pfn,
		      u64 *flags);

/* dev.c */
int daxfs_dev_init(void);
void daxfs_dev_exit(void);
struct device *daxfs_dev_device(void);
struct daxfs_backing *daxfs_import_get(u64 id);
bool daxfs_ioc_is(unsigned int cmd, unsigned int want);
int daxfs_get_arg(void *karg, size_t ksize, size_t min, void __user *uarg,
		  u32 *argsz);
int daxfs_put_arg(void __user *uarg, const void *karg, size_t ksize,
		  u32 argsz);

/* inode.c */
struct inode *daxfs_iget(struct super_block *sb, u32 ino);
extern const struct inode_operations daxfs_file_iops;
extern const struct inode_operations daxfs_symlink_iops;
extern const struct inode_operations daxfs_special_iops;

extern const struct inode_operations daxfs_dir_iops;

/* namei.c */
struct dentry *daxfs_lookup(struct inode *dir, struct dentry *dentry,
			    unsigned int flags);

/* dir.c */
extern const struct file_operations daxfs_dir_fops;

/* data.c */
extern const struct file_operations daxfs_file_fops;
int daxfs_range_mmap(const struct daxfs_range *r, bool mmap_refused,
		     struct vm_area_struct *vma);

/* export.c */
long daxfs_file_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* super.c */
extern struct file_system_type daxfs_fs_type;
struct dax_holder_operations;
extern const struct dax_holder_operations daxfs_dax_holder_ops;
void daxfs_dax_holder_sync(void);
void daxfs_unmap_all(struct super_block *sb);

#endif /* DAXFS_INTERNAL_H */
