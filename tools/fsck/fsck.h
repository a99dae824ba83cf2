/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fsck.daxfs: shared state of the checker, the lister and the extractor.
 *
 * The image is mapped read-only.  The superblock and the metadata (inode
 * table through string table) are copied into private memory before they
 * are validated, so that everything the lister and the extractor rely on
 * (names without '/', tree shape, ...) cannot change under them even if
 * someone writes the image file meanwhile.  Only file data is read from
 * the mapping.
 */
#ifndef FSCK_DAXFS_H
#define FSCK_DAXFS_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "daxfs_format.h"

/* fsck(8) exit codes */
#define FSCK_OK		0
#define FSCK_UNCORRECTED 4
#define FSCK_ERROR	8
#define FSCK_USAGE	16

struct fsck_image {
	const char *path;		/* as given on the command line */
	int fd;
	bool is_reg;			/* regular file: SEEK_DATA works */
	const unsigned char *map;	/* the whole buffer, read-only */
	unsigned long long buf_size;	/* bytes mapped */

	struct daxfs_super sb;		/* private copy */
	unsigned char *meta;		/* private copy of the metadata */
	unsigned long long meta_len;

	/* Views into @meta, valid once the image is validated. */
	const struct daxfs_inode *inodes;
	const struct daxfs_dirent *dirents;
	const unsigned char *names;
	unsigned int inode_count;
	unsigned int dirent_count;
	unsigned long long names_size;
	unsigned int data_align;
};

/* fsck_util.c */
extern const char *fsck_prog;
extern int fsck_verbose;	/* -1 quiet, 0 normal, 1+ verbose */

static inline const struct daxfs_inode *
fsck_inode(const struct fsck_image *img, unsigned int ino)
{
	return &img->inodes[ino - 1];
}

static inline unsigned int fsck_mode(const struct daxfs_inode *di)
{
	return le16toh(di->mode);
}

static inline const unsigned char *
fsck_name(const struct fsck_image *img, const struct daxfs_dirent *de,
	  size_t *len)
{
	*len = le16toh(de->name_len);
	return img->names + le32toh(de->name_off);
}

/*
 * fsck_util.c: print @len bytes of a name escaped as ls -b does in the C
 * locale; @header: as ls -R's "DIR:" lines, where a space stays and ':'
 * gets a backslash.
 */
void fsck_put_escaped(FILE *f, const unsigned char *s, size_t len,
		      bool header);

/*
 * --list (fsck_list.c): print the tree like `ls -lnR --time-style=full-iso`
 * in UTC.
 */
int fsck_list(const struct fsck_image *img, FILE *out);

/* --extract=DIR (fsck_extract.c): recreate the tree; FSCK_OK or FSCK_ERROR. */
int fsck_extract(const struct fsck_image *img, const char *dir);

#endif /* FSCK_DAXFS_H */
