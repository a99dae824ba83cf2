/* SPDX-License-Identifier: GPL-2.0 OR LGPL-2.1-or-later */
/*
 * The daxfs image validator: one implementation (daxfs_validate.c), compiled
 * into the kernel module and into the user-space tools.  Each side supplies
 * "daxfs_env.h" on its include path with the few helpers listed in
 * FORMAT.md ("Validator environment").
 *
 * Validation happens in two steps so that the kernel can copy the metadata
 * out of a buffer that others may still write:
 *   1. daxfs_check_super() on a private copy of the 4096-byte superblock;
 *      it yields the length of the metadata (inode table through string
 *      table, starting at inode_off).
 *   2. daxfs_check_meta() on a private copy of that metadata.  It checks
 *      the CRC, every inode, every directory entry and name, the link
 *      counts and the tree shape.  If @read is not NULL it also reads the
 *      tail of the last page of each regular file through it and checks
 *      that those bytes are zero.
 * Both run in time linear in the metadata size, use no recursion and
 * allocate at most 4 bytes per inode.
 *
 * Return: 0 when valid, else a negative errno and a message in @err:
 *   -EINVAL     not a daxfs image (bad magic)
 *   -EOPNOTSUPP unsupported version or incompatible feature
 *   -EFBIG      the image is larger than the buffer that holds it
 *   -EUCLEAN    the image is corrupt (any other inconsistency)
 *   -ENOMEM     out of memory; or an error returned by @read
 */
#ifndef DAXFS_VALIDATE_H
#define DAXFS_VALIDATE_H

#include "daxfs_format.h"

#define DAXFS_VERR_SIZE 192

struct daxfs_verr {
	char msg[DAXFS_VERR_SIZE];
};

/* Copy @len bytes at image offset @off into @dst; 0 or a negative errno. */
typedef int (*daxfs_read_fn)(void *priv, __u64 off, void *dst, __u32 len);

int daxfs_check_super(const struct daxfs_super *sb, __u64 buf_size,
		      __u64 *meta_len, struct daxfs_verr *err);
int daxfs_check_meta(const struct daxfs_super *sb, const void *meta,
		     daxfs_read_fn read, void *priv, struct daxfs_verr *err);

/* The standard CRC-32C of the superblock (crc32c as 0) and @meta. */
__u32 daxfs_image_crc(const struct daxfs_super *sb, const void *meta,
		      __u64 meta_len);

#endif /* DAXFS_VALIDATE_H */
