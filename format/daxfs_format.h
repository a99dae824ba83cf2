/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * daxfs on-disk (in-memory) image format, version 1.
 *
 * This header is shared unchanged by the kernel module and the user-space
 * tools.  Every field is little-endian and naturally aligned; the structure
 * sizes are checked at compile time below.  FORMAT.md is the normative
 * description; this file only gives the layout.
 *
 * Image layout (all offsets are bytes from the start of the image):
 *
 *   [0, 4096)                      superblock (struct daxfs_super)
 *   [inode_off, +64*inode_count)   inode table (struct daxfs_inode)
 *   [dirent_off, +16*dirent_count) directory entries (struct daxfs_dirent)
 *   [names_off, +names_size)       string table: names and symlink targets
 *   [data_off, +data_size)         file data, each file on data_align
 *
 * Inode numbers start at 1: inode number N is entry N - 1 of the table.
 */
#ifndef DAXFS_FORMAT_H
#define DAXFS_FORMAT_H

#include <linux/types.h>

#define DAXFS_IMAGE_MAGIC	0x53465844u	/* "DXFS" read as le32 */
#define DAXFS_VERSION		1u

#define DAXFS_SUPER_SIZE	4096u
#define DAXFS_INODE_SIZE	64u
#define DAXFS_DIRENT_SIZE	16u
#define DAXFS_ROOT_INO		1u

#define DAXFS_NAME_MAX		255u	/* bytes in one name */
#define DAXFS_SYMLINK_MAX	4095u	/* bytes in a symlink target */
#define DAXFS_RDEV_MAJOR_MAX	0xfffu	/* device numbers: Linux's 12:20 bits */
#define DAXFS_RDEV_MINOR_MAX	0xfffffu
#define DAXFS_LABEL_SIZE	64u
#define DAXFS_UUID_SIZE		16u

/* data_align_log2 range: 4 KiB .. 1 GiB */
#define DAXFS_ALIGN_LOG2_MIN	12u
#define DAXFS_ALIGN_LOG2_MAX	30u

/* Format limits (see FORMAT.md, "Limits") */
#define DAXFS_MAX_INODES	(1u << 31)
#define DAXFS_MAX_DIRENTS	(1u << 31)
#define DAXFS_MAX_NAMES_SIZE	0xffffffffull	/* dirent name_off is 32 bits */
#define DAXFS_MAX_IMAGE_SIZE	(1ull << 52)	/* 4 PiB */

/* Feature flags.  Version 1 defines none. */
#define DAXFS_COMPAT_SUPP	0u	/* unknown compat bits are ignored */
#define DAXFS_INCOMPAT_SUPP	0u	/* unknown incompat bits: refuse */

/* Inode types: the Linux/POSIX S_IFMT values, stored in the mode field. */
#define DAXFS_S_IFMT		0170000u
#define DAXFS_S_IFSOCK		0140000u
#define DAXFS_S_IFLNK		0120000u
#define DAXFS_S_IFREG		0100000u
#define DAXFS_S_IFBLK		0060000u
#define DAXFS_S_IFDIR		0040000u
#define DAXFS_S_IFCHR		0020000u
#define DAXFS_S_IFIFO		0010000u
#define DAXFS_S_IPERM		07777u

/* Directory entry type: the d_type (DT_*) value of the target inode. */
#define DAXFS_DT_FIFO		1u
#define DAXFS_DT_CHR		2u
#define DAXFS_DT_DIR		4u
#define DAXFS_DT_BLK		6u
#define DAXFS_DT_REG		8u
#define DAXFS_DT_LNK		10u
#define DAXFS_DT_SOCK		12u

struct daxfs_super {
	__le32	magic;		/* DAXFS_IMAGE_MAGIC */
	__le32	version;	/* DAXFS_VERSION */
	__le32	compat;		/* compatible feature flags */
	__le32	incompat;	/* incompatible feature flags */
	__le64	image_size;	/* bytes; multiple of 4096 */
	__le64	inode_off;	/* inode table; multiple of 64, >= 4096 */
	__le32	inode_count;	/* >= 1 */
	__le32	root_ino;	/* DAXFS_ROOT_INO */
	__le64	dirent_off;	/* dirent table; multiple of 16 */
	__le32	dirent_count;
	__le32	data_align_log2; /* file data alignment = 1 << this */
	__le64	names_off;	/* string table */
	__le64	names_size;
	__le64	data_off;	/* data area; multiple of the data alignment */
	__le64	data_size;
	__u8	uuid[DAXFS_UUID_SIZE];
	__u8	label[DAXFS_LABEL_SIZE];	/* NUL-padded, no NUL inside */
	__le32	crc32c;		/* over superblock (this field as 0) + metadata */
	__le32	reserved0;	/* 0 */
	__u8	reserved[3920];	/* 0 */
};

struct daxfs_inode {
	__le16	mode;		/* S_IFMT type | permission bits (07777) */
	__le16	reserved0;	/* 0 */
	__le32	nlink;
	__le32	uid;
	__le32	gid;
	/*
	 * size:   REG: file size in bytes; DIR: number of entries;
	 *         LNK: target length; others: 0.
	 * offset: REG: image offset of the data (0 when size is 0);
	 *         DIR: index of the first entry in the dirent table
	 *         (0 when size is 0); LNK: offset of the target in the
	 *         string table; others: 0.
	 */
	__le64	size;
	__le64	offset;
	__le64	mtime_sec;	/* signed seconds since the epoch */
	__le32	mtime_nsec;	/* < 1000000000 */
	__le32	parent;		/* DIR: inode number of the parent; else 0 */
	__le32	rdev_major;	/* CHR/BLK only, else 0 */
	__le32	rdev_minor;	/* CHR/BLK only, else 0 */
	__u8	reserved[8];	/* 0 */
};

struct daxfs_dirent {
	__le32	ino;		/* target inode number */
	__le32	name_off;	/* offset of the name in the string table */
	__le16	name_len;	/* 1 .. DAXFS_NAME_MAX */
	__u8	type;		/* DAXFS_DT_* of the target inode */
	__u8	reserved0;	/* 0 */
	__le32	reserved1;	/* 0 */
};

_Static_assert(sizeof(struct daxfs_super) == DAXFS_SUPER_SIZE,
	       "daxfs superblock must be 4096 bytes");
_Static_assert(sizeof(struct daxfs_inode) == DAXFS_INODE_SIZE,
	       "daxfs inode must be 64 bytes");
_Static_assert(sizeof(struct daxfs_dirent) == DAXFS_DIRENT_SIZE,
	       "daxfs dirent must be 16 bytes");

#endif /* DAXFS_FORMAT_H */
