// SPDX-License-Identifier: GPL-2.0
/*
 * daxfs: readdir.  Positions are stable: 0 is ".", 1 is "..", 2 + i is
 * entry i of the directory, so telldir/seekdir work and a getdents with a
 * small buffer resumes exactly where it stopped.  The end of a directory
 * of N entries is position N + 2, where a whole readdir leaves the file
 * position and where SEEK_END counts from (as ext4's hashed and erofs'
 * directories do with their own positions); beyond it lseek() fails with
 * EINVAL.
 */
#include <linux/fs.h>

#include "internal.h"

static int daxfs_readdir(struct file *file, struct dir_context *ctx)
{
	struct inode *inode = file_inode(file);
	struct daxfs_backing *b = DAXFS_SB(inode->i_sb)->b;
	const struct daxfs_inode *di = daxfs_raw_inode(inode);
	u64 first = le64_to_cpu(di->offset);
	u64 count = le64_to_cpu(di->size);

	if (!dir_emit_dots(file, ctx))
		return 0;
	while (ctx->pos >= 2 && (u64)ctx->pos - 2 < count) {
		const struct daxfs_dirent *de =
			&b->dirents[first + (u64)ctx->pos - 2];

		if (!dir_emit(ctx, b->names + le32_to_cpu(de->name_off),
			      le16_to_cpu(de->name_len), le32_to_cpu(de->ino),
			      de->type))
			return 0;
		ctx->pos++;
	}
	return 0;
}

static loff_t daxfs_dir_llseek(struct file *file, loff_t offset, int whence)
{
	const struct daxfs_inode *di = daxfs_raw_inode(file_inode(file));
	/* At most 2^32 entries: no overflow. */
	loff_t end = le64_to_cpu(di->size) + 2;

	return generic_file_llseek_size(file, offset, whence, end, end);
}

const struct file_operations daxfs_dir_fops = {
	.read		= generic_read_dir,
	.iterate_shared	= daxfs_readdir,
	.llseek		= daxfs_dir_llseek,
};
