// SPDX-License-Identifier: GPL-2.0
/*
 * daxfs: inodes, built from the validated in-memory inode table.
 */
#include <linux/fs.h>
#include <linux/slab.h>

#include "internal.h"
#include "compat.h"

/* Every write-type operation: the file system is read-only. */
static int daxfs_setattr(DAXFS_IDMAP_T *idmap, struct dentry *dentry,
			 struct iattr *attr)
{
	return -EROFS;
}

const struct inode_operations daxfs_file_iops = {
	.setattr	= daxfs_setattr,
};

const struct inode_operations daxfs_symlink_iops = {
	.get_link	= simple_get_link,
	.setattr	= daxfs_setattr,
};

const struct inode_operations daxfs_special_iops = {
	.setattr	= daxfs_setattr,
};

const struct inode_operations daxfs_dir_iops = {
	.lookup		= daxfs_lookup,
	.setattr	= daxfs_setattr,
};

struct inode *daxfs_iget(struct super_block *sb, u32 ino)
{
	struct daxfs_backing *b = DAXFS_SB(sb)->b;
	const struct daxfs_inode *di;
	struct timespec64 ts;
	struct inode *inode;
	u32 major, minor;
	char *link = NULL;
	u64 size, off;
	umode_t mode;

	/* Dirents were validated; this only guards the table index. */
	if (ino < 1 || ino > b->inode_count)
		return ERR_PTR(-EUCLEAN);
	di = &b->inodes[ino - 1];
	mode = le16_to_cpu(di->mode);
	size = le64_to_cpu(di->size);
	off = le64_to_cpu(di->offset);

	inode = iget_locked(sb, ino);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!daxfs_inode_is_new(inode))
		return inode;

	if (S_ISLNK(mode)) {
		/*
		 * The string table holds targets without a NUL.  Charged to
		 * the memory cgroup of the task that looks the link up, like
		 * the inode itself.
		 */
		link = kmemdup_nul(b->names + off, size, GFP_KERNEL_ACCOUNT);
		if (!link) {
			iget_failed(inode);
			return ERR_PTR(-ENOMEM);
		}
	}

	inode->i_private = (void *)di;
	inode->i_mode = mode;
	i_uid_write(inode, le32_to_cpu(di->uid));
	i_gid_write(inode, le32_to_cpu(di->gid));
	set_nlink(inode, le32_to_cpu(di->nlink));
	ts.tv_sec = (s64)le64_to_cpu(di->mtime_sec);
	ts.tv_nsec = le32_to_cpu(di->mtime_nsec);
	daxfs_set_inode_times(inode, ts);

	switch (mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &daxfs_file_iops;
		inode->i_fop = &daxfs_file_fops;
		inode->i_size = size;
		inode->i_blocks = DIV_ROUND_UP_ULL(size, 512);
		break;
	case S_IFDIR:
		inode->i_op = &daxfs_dir_iops;
		inode->i_fop = &daxfs_dir_fops;
		inode->i_size = size * DAXFS_DIRENT_SIZE;
		break;
	case S_IFLNK:
		inode->i_op = &daxfs_symlink_iops;
		inode->i_link = link;
		inode->i_size = size;
		break;
	default:
		/* Inert: the device numbers are shown, nothing is opened here. */
		major = le32_to_cpu(di->rdev_major);
		minor = le32_to_cpu(di->rdev_minor);
		if (major >= (1U << (32 - MINORBITS)) || minor > MINORMASK) {
			major = 0;
			minor = 0;
		}
		inode->i_op = &daxfs_special_iops;
		init_special_inode(inode, mode, MKDEV(major, minor));
		break;
	}
	unlock_new_inode(inode);
	return inode;
}
