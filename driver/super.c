// SPDX-License-Identifier: GPL-2.0
/*
 * daxfs: mounting.
 *
 * Sources:
 *   mount -t daxfs dmabuf:ID /mnt           an import made on /dev/daxfs
 *   fsconfig(FSCONFIG_SET_FD, "dmabuf", fd) a dma-buf fd (also -o dmabuf=FD)
 *   mount -t daxfs -o phys=ADDR,size=SIZE none /mnt
 *   mount -t daxfs /dev/pmem0 /mnt          a DAX-capable block device
 *   mount -t daxfs /dev/dax0.0 /mnt         a device-dax character device
 *                                           (buf.c; phys= and size=, if
 *                                           given, must be its range)
 * Option offset= places the image inside the buffer (with dmabuf:ID only
 * the offset given at import, which is fixed: another one is refused).
 * Option size= is the size of a phys= range, and only that.
 * Option exporter=NAME mounts only a source whose exporter is NAME (the
 * dma-buf's exporter, "phys" or "dax"): /proc/mounts shows it for dma-bufs.
 *
 * Device nodes in the image cannot be opened (as with nodev, for every
 * mount of the superblock) unless the option devnodes is given: the image
 * is untrusted input, whoever made it.  The name is not "dev", which
 * mount(8), libmount and libdaxfs-dmabuf take for the mount flag and never
 * pass to the file system.
 *
 * What /proc/mounts shows mounts again with the same meaning: the options
 * of a dmabuf:ID, phys= or DAX mount, given again with the same source,
 * make a mount of the same image (a dma-buf given as an fd has no name to
 * give again).  The address of a phys= range is shown only to readers with
 * CAP_SYS_ADMIN, as /proc/iomem does.
 *
 * A DAX block device has one superblock, whatever the number of mounts:
 * mounting it again with another offset=, cpu_access= or devnodes fails
 * with EBUSY (as get_tree_bdev() fails a read-write mount of a read-only
 * superblock) instead of silently giving the first mount's image.
 *
 * Option cpu_access=each|mount (dma-buf sources; no effect on phys= and
 * DAX, which have no CPU-access bracketing):
 *   each   (default) every read() is bracketed by
 *          dma_buf_begin_cpu_access()/dma_buf_end_cpu_access(), so the
 *          exporter makes what a device wrote visible to the CPU first.
 *          Exporters that sync the whole buffer each time make small
 *          reads of big buffers slow: udmabuf syncs its scatterlist, one
 *          entry per page, on every call, unless the DMA layer skips the
 *          sync for a coherent device (from 6.11, without DMA API debug
 *          or swiotlb bouncing; so on x86 with 6.12 and later the bracket
 *          costs almost nothing).
 *   mount  begin once when the file system is mounted, end when it goes
 *          away; read() does no bracketing.  For exporters the user knows
 *          to be CPU-coherent with every device that writes the buffer
 *          (udmabuf and the system heap on x86, or a buffer no device
 *          writes after mount): on a system that is not coherent, what a
 *          device writes after the mount may never become visible to
 *          read(), or only partly.  mmap() is never bracketed either way.
 * It shows in /proc/mounts when it is mount; a remount cannot change it.
 *
 * Every mount is read-only: a read-write request is turned into a
 * read-only mount, as iso9660 and erofs do; remounting read-write fails
 * with EROFS.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/dax.h>
#include <linux/dma-buf.h>
#include <linux/dma-direction.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/statfs.h>
#include <linux/user_namespace.h>

#include "internal.h"
#include "compat.h"

struct daxfs_fs_context {
	struct daxfs_backing *b;	/* validated, for fill_super */
	struct dma_buf *dmabuf;		/* from dmabuf=FD */
	int dmabuf_fd;
	u64 phys, size, offset;
	bool has_phys, has_size, has_offset;
	bool cpu_access_mount, has_cpu_access;
	bool devnodes, has_devnodes;
	char *exporter;			/* exporter=, or NULL */
};

enum {
	DAXFS_OPT_DMABUF, DAXFS_OPT_PHYS, DAXFS_OPT_SIZE, DAXFS_OPT_OFFSET,
	DAXFS_OPT_CPU_ACCESS, DAXFS_OPT_EXPORTER, DAXFS_OPT_DEVNODES,
};

/*
 * cpu_access=: see the top of this file.  each brackets every read(),
 * mount brackets the whole life of the mount (CPU-coherent exporters
 * only: device writes after mount may stay invisible otherwise).
 */
enum { DAXFS_CPU_ACCESS_EACH, DAXFS_CPU_ACCESS_MOUNT };

static const struct constant_table daxfs_cpu_access_values[] = {
	{ "each",	DAXFS_CPU_ACCESS_EACH },
	{ "mount",	DAXFS_CPU_ACCESS_MOUNT },
	{}
};

static const struct fs_parameter_spec daxfs_fs_parameters[] = {
	fsparam_fd("dmabuf", DAXFS_OPT_DMABUF),
	fsparam_string("phys", DAXFS_OPT_PHYS),
	fsparam_string("size", DAXFS_OPT_SIZE),
	fsparam_string("offset", DAXFS_OPT_OFFSET),
	fsparam_enum("cpu_access", DAXFS_OPT_CPU_ACCESS, daxfs_cpu_access_values),
	fsparam_string("exporter", DAXFS_OPT_EXPORTER),
	fsparam_flag_no("devnodes", DAXFS_OPT_DEVNODES),
	{}
};

/* A number with an optional K/M/G/T suffix; the whole string must match. */
static int daxfs_parse_u64(struct fs_context *fc, struct fs_parameter *param,
			   u64 *out)
{
	char *end;

	*out = memparse(param->string, &end);
	if (end == param->string || *end)
		return invalfc(fc, "bad value for %s: %s", param->key,
			       param->string);
	return 0;
}

static int daxfs_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct daxfs_fs_context *ctx = fc->fs_private;
	struct fs_parse_result result;
	struct dma_buf *dmabuf;
	int opt;

	/*
	 * A remount may repeat what /proc/mounts shows (exporter=, phys=,
	 * size=, offset=; dmabuf= and dax from older modules): the source
	 * cannot change, accept and ignore it.
	 */
	if (fc->purpose == FS_CONTEXT_FOR_RECONFIGURE &&
	    (!strcmp(param->key, "dmabuf") || !strcmp(param->key, "phys") ||
	     !strcmp(param->key, "size") || !strcmp(param->key, "offset") ||
	     !strcmp(param->key, "exporter") || !strcmp(param->key, "dax")))
		return 0;

	opt = fs_parse(fc, daxfs_fs_parameters, param, &result);
	if (opt < 0)
		return opt;	/* an unknown cpu_access= value: EINVAL */
	/* Both are checked against the mount's own by daxfs_reconfigure(). */
	switch (opt) {
	case DAXFS_OPT_CPU_ACCESS:
		ctx->cpu_access_mount = result.uint_32 == DAXFS_CPU_ACCESS_MOUNT;
		ctx->has_cpu_access = true;
		return 0;
	case DAXFS_OPT_DEVNODES:
		ctx->devnodes = !result.negated;
		ctx->has_devnodes = true;
		return 0;
	}
	if (fc->purpose == FS_CONTEXT_FOR_RECONFIGURE)
		return 0;

	switch (opt) {
	case DAXFS_OPT_EXPORTER:
		kfree(ctx->exporter);
		ctx->exporter = param->string;
		param->string = NULL;
		return 0;
	case DAXFS_OPT_DMABUF:
		if (ctx->dmabuf)
			return invalfc(fc, "dmabuf given twice");
		if (param->type == fs_value_is_file) {
			/* FSCONFIG_SET_FD: the VFS already holds the file. */
			dmabuf = daxfs_file_to_dma_buf(param->file);
			if (!dmabuf)
				return invalfc(fc, "dmabuf: not a dma-buf");
			ctx->dmabuf_fd = -1;
		} else {
			/* -o dmabuf=FD: resolved now, in the caller's context. */
			dmabuf = dma_buf_get(result.uint_32);
			if (IS_ERR(dmabuf))
				return PTR_ERR(dmabuf);
			ctx->dmabuf_fd = result.uint_32;
		}
		ctx->dmabuf = dmabuf;
		return 0;
	case DAXFS_OPT_PHYS:
		ctx->has_phys = true;
		return daxfs_parse_u64(fc, param, &ctx->phys);
	case DAXFS_OPT_SIZE:
		ctx->has_size = true;
		return daxfs_parse_u64(fc, param, &ctx->size);
	case DAXFS_OPT_OFFSET:
		ctx->has_offset = true;
		return daxfs_parse_u64(fc, param, &ctx->offset);
	}
	return -EINVAL;
}

static int daxfs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct super_block *sb = dentry->d_sb;
	struct daxfs_backing *b = DAXFS_SB(sb)->b;

	buf->f_type = DAXFS_FS_MAGIC;
	buf->f_bsize = PAGE_SIZE;
	buf->f_frsize = PAGE_SIZE;
	buf->f_blocks = b->image_size >> PAGE_SHIFT;
	buf->f_bfree = 0;
	buf->f_bavail = 0;
	buf->f_files = b->inode_count;
	buf->f_ffree = 0;
	buf->f_namelen = DAXFS_NAME_MAX;
	buf->f_fsid = uuid_to_fsid(b->super.uuid);
	return 0;
}

/*
 * May the reader of these mount options see a physical address?  Only with
 * CAP_SYS_ADMIN, judged like /proc/iomem does: by the credentials that
 * opened /proc/PID/mounts (or mountinfo), not by whoever reads the open
 * file later.  statmount() has no file: its caller is the reader.
 */
static bool daxfs_reader_sees_phys(struct seq_file *m)
{
	if (m->file)
		return file_ns_capable(m->file, &init_user_ns, CAP_SYS_ADMIN);
	return ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN);
}

/*
 * Every option shown means on input what it says on output (see the top
 * of this file): exporter= is checked against the source, size= is the
 * phys= range's size (statfs gives the image's), offset= the image's place
 * in the buffer.
 */
static int daxfs_show_options(struct seq_file *m, struct dentry *root)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(root->d_sb);
	struct daxfs_backing *b = sbi->b;

	switch (b->kind) {
	case DAXFS_DMABUF:
		seq_puts(m, ",exporter=");
		seq_escape(m, b->exporter, ", \t\n\\");
		break;
	case DAXFS_PHYS:
	case DAXFS_DEVDAX:
		if (daxfs_reader_sees_phys(m))
			seq_printf(m, ",phys=%#llx,size=%llu", (u64)b->phys,
				   b->buf_size);
		break;
	case DAXFS_DAX:
		break;	/* the source is the device */
	}
	if (b->offset)
		seq_printf(m, ",offset=%llu", b->offset);
	/* The default (each) is not shown; mount trades coherency for speed. */
	if (sbi->cpu_access_mount)
		seq_puts(m, ",cpu_access=mount");
	if (sbi->devnodes)
		seq_puts(m, ",devnodes");
	return 0;
}

static void daxfs_free_inode(struct inode *inode)
{
	if (S_ISLNK(inode->i_mode))
		kfree(inode->i_link);
	free_inode_nonrcu(inode);
}

static const struct super_operations daxfs_sops = {
	.statfs		= daxfs_statfs,
	.show_options	= daxfs_show_options,
	.free_inode	= daxfs_free_inode,
};

/*
 * A fault maps whole pages.  Files start on data_align boundaries and only
 * zeros follow each one up to the next boundary, so a page of a file holds
 * nothing of another file as long as a page is no larger than data_align.
 * With larger pages (arm64 or ppc64 with 16 or 64 KiB pages, an image made
 * with the default 4 KiB alignment), a mapped page would show the bytes of
 * the files around it: mmap() is refused on such a mount (data.c), read()
 * still works.  On x86 (4 KiB pages, data_align at least 4 KiB by FORMAT.md)
 * it never happens.
 */
static bool daxfs_page_fits_align(struct daxfs_backing *b)
{
	return le32_to_cpu(b->super.data_align_log2) >= PAGE_SHIFT;
}

/*
 * Set up @sb on a validated backing; takes over the caller's reference.
 * With cpu_access=mount, begin the one CPU access of a dma-buf's mount;
 * daxfs_kill_sb() ends it.
 */
static int daxfs_fill_common(struct super_block *sb, struct daxfs_backing *b,
			     const struct daxfs_fs_context *ctx)
{
	bool cpu_access_mount = ctx->cpu_access_mount;
	struct daxfs_sb_info *sbi;
	struct inode *root;
	int ret;

	sbi = kzalloc(sizeof(*sbi), GFP_KERNEL_ACCOUNT);
	if (!sbi) {
		daxfs_backing_put(b);
		return -ENOMEM;
	}
	sbi->b = b;
	sb->s_fs_info = sbi;
	if (b->kind == DAXFS_DEVDAX) {
		ret = daxfs_backing_devdax_attach(b, sb);
		if (ret)
			return ret;
	}
	atomic_inc(&b->mounts);
	sbi->counted = true;
	sbi->cpu_access_mount = cpu_access_mount;
	sbi->devnodes = ctx->devnodes;
	if (!sbi->devnodes)
		sb->s_iflags |= SB_I_NODEV;
	if (!daxfs_page_fits_align(b)) {
		sbi->mmap_refused = true;
		pr_warn("(%s): data_align %lu is below the page size %lu: mmap() is refused on this mount, read() works\n",
			b->name,
			1UL << le32_to_cpu(b->super.data_align_log2),
			PAGE_SIZE);
	}
	if (cpu_access_mount && b->kind == DAXFS_DMABUF) {
		ret = dma_buf_begin_cpu_access(b->dmabuf, DMA_FROM_DEVICE);
		if (ret) {
			pr_err("(%s): cpu_access=mount: begin_cpu_access failed (%d)\n",
			       b->name, ret);
			return ret;
		}
		sbi->cpu_access_begun = true;
	}

	sb->s_flags |= SB_RDONLY | SB_NOATIME;
	sb->s_magic = DAXFS_FS_MAGIC;
	sb->s_op = &daxfs_sops;
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_time_gran = 1;
	if (!sb->s_bdev) {
		sb->s_blocksize = PAGE_SIZE;
		sb->s_blocksize_bits = PAGE_SHIFT;
	}
	daxfs_set_uuid(sb, b->super.uuid, sizeof(b->super.uuid));

	root = daxfs_iget(sb, DAXFS_ROOT_INO);
	if (IS_ERR(root))
		return PTR_ERR(root);
	sb->s_root = d_make_root(root);
	if (!sb->s_root)
		return -ENOMEM;
	return 0;
}

static int daxfs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct daxfs_fs_context *ctx = fc->fs_private;
	struct daxfs_backing *b = ctx->b;

	ctx->b = NULL;
	return daxfs_fill_common(sb, b, ctx);
}

static int daxfs_fill_super_dax(struct super_block *sb, struct fs_context *fc)
{
	struct daxfs_fs_context *ctx = fc->fs_private;
	struct daxfs_backing *b;
	int ret;

	if (!sb_set_blocksize(sb, PAGE_SIZE))
		return invalfc(fc, "cannot use a %lu-byte block size", PAGE_SIZE);
	ret = daxfs_backing_dax(sb, ctx->offset, &b);
	if (ret)
		return ret;
	return daxfs_fill_common(sb, b, ctx);
}

/* exporter=NAME: the source must come from exporter NAME. */
static int daxfs_check_exporter(struct fs_context *fc, struct daxfs_backing *b)
{
	struct daxfs_fs_context *ctx = fc->fs_private;

	if (ctx->exporter && strcmp(ctx->exporter, b->exporter))
		return invalfc(fc, "%s: the exporter is %s, not %s", b->name,
			       b->exporter, ctx->exporter);
	return 0;
}

static const char *daxfs_cpu_access_name(bool mount)
{
	return mount ? "mount" : "each";
}

/*
 * get_tree_bdev() gives the device's superblock as it is when it is
 * mounted already: refuse to mount it with other options than it has,
 * rather than give the first mount's image under the new options.  EBUSY,
 * as get_tree_bdev() refuses a read-write mount of a read-only superblock.
 * Called with fc->root set and the superblock locked.
 */
static int daxfs_check_bdev_sb(struct fs_context *fc)
{
	struct daxfs_fs_context *ctx = fc->fs_private;
	struct super_block *sb = fc->root->d_sb;
	struct daxfs_sb_info *sbi = DAXFS_SB(sb);
	int ret;

	ret = daxfs_check_exporter(fc, sbi->b);
	if (!ret && (sbi->b->offset != ctx->offset ||
		     sbi->cpu_access_mount != ctx->cpu_access_mount ||
		     sbi->devnodes != ctx->devnodes)) {
		errorfc(fc, "%pg is mounted already, with offset=%llu,cpu_access=%s,%sdevnodes",
			sb->s_bdev, sbi->b->offset,
			daxfs_cpu_access_name(sbi->cpu_access_mount),
			sbi->devnodes ? "" : "no");
		ret = -EBUSY;
	}
	if (ret) {
		dput(fc->root);
		fc->root = NULL;
		deactivate_locked_super(sb);
	}
	return ret;
}

static int daxfs_get_tree(struct fs_context *fc)
{
	struct daxfs_fs_context *ctx = fc->fs_private;
	const char *src = fc->source;
	struct daxfs_backing *b = NULL;
	char what[24];
	bool chrdev;
	u64 id;
	int ret;

	/* Read-only, always. */
	fc->sb_flags |= SB_RDONLY;

	chrdev = daxfs_source_is_chrdev(src);
	if (ctx->dmabuf && ctx->has_phys)
		return invalfc(fc, "dmabuf and phys are exclusive");
	if (ctx->has_size && !ctx->has_phys && !chrdev)
		return invalfc(fc, "%s: size is the size of a phys range, and only that",
			       src ?: "none");
	if (ctx->dmabuf) {
		if (ctx->dmabuf_fd < 0)
			strscpy(what, "fsconfig fd", sizeof(what));
		else
			snprintf(what, sizeof(what), "fd %d", ctx->dmabuf_fd);
		ret = daxfs_backing_dmabuf(ctx->dmabuf, ctx->offset, what, &b);
		ctx->dmabuf = NULL;
	} else if (chrdev) {
		/* A device-dax device: phys= and size= are checked, if given. */
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		ret = daxfs_backing_devdax(src, ctx->has_phys ? &ctx->phys : NULL,
					   ctx->has_size ? &ctx->size : NULL,
					   ctx->offset, &b);
	} else if (ctx->has_phys) {
		if (!ctx->has_size)
			return invalfc(fc, "phys needs size");
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		ret = daxfs_backing_phys(ctx->phys, ctx->size, ctx->offset, &b);
	} else if (src && !strncmp(src, "dmabuf:", 7)) {
		if (kstrtou64(src + 7, 10, &id))
			return invalfc(fc, "bad source %s", src);
		b = daxfs_import_get(id);
		if (!b) {
			errorfc(fc, "no import %llu", id);
			return -ENOENT;
		}
		ret = 0;
		/* The offset shown in /proc/mounts may be given again. */
		if (ctx->has_offset && ctx->offset != b->offset)
			ret = invalfc(fc, "%s: offset is fixed at import (%llu)",
				      src, b->offset);
	} else if (src && *src) {
		ret = get_tree_bdev(fc, daxfs_fill_super_dax);
		if (ret)
			return ret;
		return daxfs_check_bdev_sb(fc);
	} else {
		return invalfc(fc, "no source");
	}
	if (ret)
		goto fail;
	ret = daxfs_check_exporter(fc, b);
	if (ret)
		goto fail;
	ctx->b = b;
	return get_tree_nodev(fc, daxfs_fill_super);
fail:
	daxfs_backing_put(b);	/* NULL after a failed load */
	return ret;
}

static int daxfs_reconfigure(struct fs_context *fc)
{
	struct daxfs_fs_context *ctx = fc->fs_private;
	struct daxfs_sb_info *sbi = DAXFS_SB(fc->root->d_sb);

	if (!(fc->sb_flags & SB_RDONLY))
		return -EROFS;
	if (ctx->has_cpu_access &&
	    ctx->cpu_access_mount != sbi->cpu_access_mount)
		return invalfc(fc, "%s: cpu_access cannot change on remount",
			       sbi->b->name);
	if (ctx->has_devnodes && ctx->devnodes != sbi->devnodes)
		return invalfc(fc, "%s: devnodes cannot change on remount",
			       sbi->b->name);
	return 0;
}

static void daxfs_free_fc(struct fs_context *fc)
{
	struct daxfs_fs_context *ctx = fc->fs_private;

	if (ctx) {
		if (ctx->dmabuf)
			dma_buf_put(ctx->dmabuf);
		/* A backing not yet taken by fill_super. */
		daxfs_backing_put(ctx->b);
		kfree(ctx->exporter);
		kfree(ctx);
	}
}

static const struct fs_context_operations daxfs_context_ops = {
	.parse_param	= daxfs_parse_param,
	.get_tree	= daxfs_get_tree,
	.reconfigure	= daxfs_reconfigure,
	.free		= daxfs_free_fc,
};

static int daxfs_init_fs_context(struct fs_context *fc)
{
	struct daxfs_fs_context *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	fc->fs_private = ctx;
	fc->ops = &daxfs_context_ops;
	return 0;
}

static void daxfs_kill_sb(struct super_block *sb)
{
	struct daxfs_sb_info *sbi = sb->s_fs_info;

	/* No unbind notification may look at @sb from here on. */
	if (sbi && sbi->b->kind == DAXFS_DEVDAX)
		daxfs_backing_devdax_detach(sbi->b, sb);
	if (sb->s_bdev)
		kill_block_super(sb);
	else
		kill_anon_super(sb);
	if (sbi) {
		if (sbi->cpu_access_begun)
			dma_buf_end_cpu_access(sbi->b->dmabuf, DMA_FROM_DEVICE);
		if (sbi->counted)
			atomic_dec(&sbi->b->mounts);
		daxfs_backing_put(sbi->b);
		kfree(sbi);
	}
}

/*
 * Holder of a DAX device (buf.c registers the backing with these
 * operations).  The device reports a failed range, or, from 6.7, that it
 * is going away (kill_dax(): MF_MEM_PRE_REMOVE over the whole device, the
 * driver unbinding or the memory being unplugged); see compat.h for 6.1.
 *
 * Going away: every mapping of every file is removed and the backing
 * marked dead, so that new faults and reads fail (once kill_dax() is done,
 * dax_alive() says so as well); the mount stays until unmounted.  A failed
 * range is left to the kernel's generic handler (-EOPNOTSUPP): it signals
 * the process that touched the poison, and read() over the range fails
 * with EIO (machine-check-safe copies, badblocks).
 *
 * daxfs_holder_lock keeps the backing (the holder) and its superblock
 * alive while the notification takes an active reference on the
 * superblock: the backing's release clears the holder and then passes the
 * lock (daxfs_dax_holder_sync()) before freeing it.  A superblock without
 * active references is being unmounted and has no mappings left.
 */
static DEFINE_SPINLOCK(daxfs_holder_lock);

void daxfs_dax_holder_sync(void)
{
	spin_lock(&daxfs_holder_lock);
	spin_unlock(&daxfs_holder_lock);
}

/* Remove every user mapping of the files of @sb (private copies stay). */
void daxfs_unmap_all(struct super_block *sb)
{
	struct inode *inode, *prev = NULL;

	spin_lock(&sb->s_inode_list_lock);
	list_for_each_entry(inode, &sb->s_inodes, i_sb_list) {
		if (!mapping_mapped(inode->i_mapping) || !igrab(inode))
			continue;
		spin_unlock(&sb->s_inode_list_lock);
		unmap_mapping_range(inode->i_mapping, 0, 0, 0);
		iput(prev);
		prev = inode;
		cond_resched();
		spin_lock(&sb->s_inode_list_lock);
	}
	spin_unlock(&sb->s_inode_list_lock);
	iput(prev);
}

static int daxfs_dax_notify_failure(struct dax_device *dax_dev, u64 offset,
				    u64 len, int mf_flags)
{
	bool pre_remove = daxfs_mf_pre_remove(mf_flags);
	struct super_block *sb = NULL;
	struct daxfs_backing *b;

	spin_lock(&daxfs_holder_lock);
	b = dax_holder(dax_dev);
	if (b && pre_remove)
		WRITE_ONCE(b->dax_dead, true);
	if (b && atomic_inc_not_zero(&b->sb->s_active))
		sb = b->sb;
	spin_unlock(&daxfs_holder_lock);
	if (!sb)
		return pre_remove ? 0 : -EOPNOTSUPP;

	/* The active reference keeps the superblock, and with it @b. */
	if (pre_remove) {
		pr_warn("(%s): the device is going away: every file mapping removed, reads and faults fail from now on\n",
			b->name);
		daxfs_unmap_all(sb);
	} else {
		pr_warn_ratelimited("(%s): memory failure in device bytes [%llu, +%llu): left to the kernel's handler, read() there fails with EIO\n",
				    b->name, offset, len);
	}
	deactivate_super(sb);
	return pre_remove ? 0 : -EOPNOTSUPP;
}

const struct dax_holder_operations daxfs_dax_holder_ops = {
	.notify_failure	= daxfs_dax_notify_failure,
};

struct file_system_type daxfs_fs_type = {
	.owner			= THIS_MODULE,
	.name			= "daxfs",
	.init_fs_context	= daxfs_init_fs_context,
	.parameters		= daxfs_fs_parameters,
	.kill_sb		= daxfs_kill_sb,
};
MODULE_ALIAS_FS("daxfs");

static int __init daxfs_init(void)
{
	int ret;

	ret = register_filesystem(&daxfs_fs_type);
	if (ret)
		return ret;
	ret = daxfs_dev_init();
	if (ret)
		unregister_filesystem(&daxfs_fs_type);
	return ret;
}

static void __exit daxfs_exit(void)
{
	daxfs_dev_exit();
	unregister_filesystem(&daxfs_fs_type);
}

module_init(daxfs_init);
module_exit(daxfs_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The daxfs-dmabuf authors");
MODULE_DESCRIPTION("Read-only file system on a dma-buf, physical range or DAX device");
DAXFS_IMPORT_DMA_BUF_NS();
