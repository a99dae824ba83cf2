// SPDX-License-Identifier: GPL-2.0
/*
 * daxfs: mounting.
 *
 * Sources:
 *   mount -t daxfs dmabuf:ID /mnt           an import made on /dev/daxfs
 *   fsconfig(FSCONFIG_SET_FD, "dmabuf", fd) a dma-buf fd (also -o dmabuf=FD)
 *   mount -t daxfs -o phys=ADDR,size=SIZE none /mnt
 *   mount -t daxfs /dev/pmem0 /mnt          a DAX-capable block device
 * Option offset= places the image inside the buffer (not with dmabuf:ID,
 * whose offset was given at import).
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
#include <linux/dma-buf.h>
#include <linux/dma-direction.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/statfs.h>

#include "internal.h"
#include "compat.h"

struct daxfs_fs_context {
	struct daxfs_backing *b;	/* validated, for fill_super */
	struct dma_buf *dmabuf;		/* from dmabuf=FD */
	int dmabuf_fd;
	u64 phys, size, offset;
	bool has_phys, has_size, has_offset;
	bool cpu_access_mount, has_cpu_access;
};

enum {
	DAXFS_OPT_DMABUF, DAXFS_OPT_PHYS, DAXFS_OPT_SIZE, DAXFS_OPT_OFFSET,
	DAXFS_OPT_CPU_ACCESS,
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
	 * A remount may repeat what /proc/mounts shows (dmabuf=<exporter>,
	 * dax, size=...): the source cannot change, accept and ignore it.
	 */
	if (fc->purpose == FS_CONTEXT_FOR_RECONFIGURE &&
	    (!strcmp(param->key, "dmabuf") || !strcmp(param->key, "phys") ||
	     !strcmp(param->key, "size") || !strcmp(param->key, "offset") ||
	     !strcmp(param->key, "dax")))
		return 0;

	opt = fs_parse(fc, daxfs_fs_parameters, param, &result);
	if (opt < 0)
		return opt;	/* an unknown cpu_access= value: EINVAL */
	if (opt == DAXFS_OPT_CPU_ACCESS) {
		/* Checked against the mount's own by daxfs_reconfigure(). */
		ctx->cpu_access_mount = result.uint_32 == DAXFS_CPU_ACCESS_MOUNT;
		ctx->has_cpu_access = true;
		return 0;
	}
	if (fc->purpose == FS_CONTEXT_FOR_RECONFIGURE)
		return 0;

	switch (opt) {
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

static int daxfs_show_options(struct seq_file *m, struct dentry *root)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(root->d_sb);
	struct daxfs_backing *b = sbi->b;

	switch (b->kind) {
	case DAXFS_DMABUF:
		seq_puts(m, ",dmabuf=");
		seq_escape(m, b->exporter, ", \t\n\\");
		break;
	case DAXFS_PHYS:
		seq_printf(m, ",phys=%#llx", (u64)b->phys);
		break;
	case DAXFS_DAX:
		seq_puts(m, ",dax");
		break;
	}
	if (b->offset)
		seq_printf(m, ",offset=%llu", b->offset);
	seq_printf(m, ",size=%llu", b->image_size);
	/* The default (each) is not shown; mount trades coherency for speed. */
	if (sbi->cpu_access_mount)
		seq_puts(m, ",cpu_access=mount");
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
 * Set up @sb on a validated backing; takes over the caller's reference.
 * With cpu_access=mount, begin the one CPU access of a dma-buf's mount;
 * daxfs_kill_sb() ends it.
 */
static int daxfs_fill_common(struct super_block *sb, struct daxfs_backing *b,
			     bool cpu_access_mount)
{
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
	atomic_inc(&b->mounts);
	sbi->counted = true;
	sbi->cpu_access_mount = cpu_access_mount;
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
	memcpy(&sb->s_uuid, b->super.uuid, sizeof(sb->s_uuid));

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
	return daxfs_fill_common(sb, b, ctx->cpu_access_mount);
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
	return daxfs_fill_common(sb, b, ctx->cpu_access_mount);
}

static int daxfs_get_tree(struct fs_context *fc)
{
	struct daxfs_fs_context *ctx = fc->fs_private;
	const char *src = fc->source;
	struct daxfs_backing *b;
	char what[24];
	u64 id;
	int ret;

	/* Read-only, always. */
	fc->sb_flags |= SB_RDONLY;

	if (ctx->dmabuf && ctx->has_phys)
		return invalfc(fc, "dmabuf and phys are exclusive");
	if (ctx->dmabuf) {
		if (ctx->dmabuf_fd < 0)
			strscpy(what, "fsconfig fd", sizeof(what));
		else
			snprintf(what, sizeof(what), "fd %d", ctx->dmabuf_fd);
		ret = daxfs_backing_dmabuf(ctx->dmabuf, ctx->offset, what, &b);
		ctx->dmabuf = NULL;
	} else if (ctx->has_phys) {
		if (!ctx->has_size)
			return invalfc(fc, "phys needs size");
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		ret = daxfs_backing_phys(ctx->phys, ctx->size, ctx->offset, &b);
	} else if (src && !strncmp(src, "dmabuf:", 7)) {
		if (ctx->has_offset)
			return invalfc(fc, "offset is fixed at import");
		if (kstrtou64(src + 7, 10, &id))
			return invalfc(fc, "bad source %s", src);
		b = daxfs_import_get(id);
		if (!b) {
			errorfc(fc, "no import %llu", id);
			return -ENOENT;
		}
		ret = 0;
	} else if (src && *src) {
		return get_tree_bdev(fc, daxfs_fill_super_dax);
	} else {
		return invalfc(fc, "no source");
	}
	if (ret)
		return ret;
	ctx->b = b;
	return get_tree_nodev(fc, daxfs_fill_super);
}

static int daxfs_reconfigure(struct fs_context *fc)
{
	struct daxfs_fs_context *ctx = fc->fs_private;
	struct daxfs_sb_info *sbi = DAXFS_SB(fc->root->d_sb);

	if (!(fc->sb_flags & SB_RDONLY))
		return -EROFS;
	if (ctx->has_cpu_access &&
	    ctx->cpu_access_mount != sbi->cpu_access_mount)
		return invalfc(fc, "cpu_access cannot change on remount");
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
