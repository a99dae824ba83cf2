// SPDX-License-Identifier: GPL-2.0
/*
 * daxfs: name lookup, a binary search in the directory's sorted entries.
 */
#include <linux/fs.h>
#include <linux/string.h>

#include "internal.h"

/* Compare entry @de's name with @name as unsigned bytes, shorter first. */
static int daxfs_namecmp(struct daxfs_backing *b,
			 const struct daxfs_dirent *de,
			 const unsigned char *name, unsigned int len)
{
	unsigned int dlen = le16_to_cpu(de->name_len);
	const char *dname = b->names + le32_to_cpu(de->name_off);
	int c = memcmp(dname, name, min(dlen, len));

	if (c)
		return c;
	if (dlen == len)
		return 0;
	return dlen < len ? -1 : 1;
}

struct dentry *daxfs_lookup(struct inode *dir, struct dentry *dentry,
			    unsigned int flags)
{
	struct daxfs_backing *b = DAXFS_SB(dir->i_sb)->b;
	const struct daxfs_inode *di = daxfs_raw_inode(dir);
	const unsigned char *name = dentry->d_name.name;
	unsigned int len = dentry->d_name.len;
	u64 first = le64_to_cpu(di->offset);
	u64 lo = 0, hi = le64_to_cpu(di->size);
	struct inode *inode = NULL;

	if (len > DAXFS_NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	while (lo < hi) {
		u64 mid = lo + (hi - lo) / 2;
		const struct daxfs_dirent *de = &b->dirents[first + mid];
		int c = daxfs_namecmp(b, de, name, len);

		if (!c) {
			inode = daxfs_iget(dir->i_sb, le32_to_cpu(de->ino));
			break;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return d_splice_alias(inode, dentry);
}
