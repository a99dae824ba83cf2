/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny in-memory daxfs image builder for the validator's tests and the
 * fuzz seed corpus.  It does not validate what it is told: tests use it to
 * lay out deliberately broken trees too (duplicate names, "..", a second
 * link to a directory).  Inode numbers are handed out in creation order,
 * so a directory created before its children has a smaller number.
 */
#ifndef DXT_BUILDER_H
#define DXT_BUILDER_H

#include "daxfs_env.h"
#include "daxfs_validate.h"

struct tb;

struct tb_image {
	u8 *buf;		/* image_size bytes (+ slack), malloc'd */
	size_t size;		/* buffer size */
	u64 image_size;
};

/* A builder whose root directory is inode 1. */
struct tb *tb_new(u32 align_log2);
void tb_free(struct tb *t);

u32 tb_dir(struct tb *t, u32 parent, const char *name);
/* A regular file of @size bytes, filled with a pattern that has no 0. */
u32 tb_file(struct tb *t, u32 parent, const char *name, u64 size);
u32 tb_symlink(struct tb *t, u32 parent, const char *name,
	       const char *target);
/* @type: DAXFS_S_IFCHR, _IFBLK, _IFIFO or _IFSOCK. */
u32 tb_special(struct tb *t, u32 parent, const char *name, u32 type,
	       u32 major, u32 minor);
/* One more directory entry for an existing inode (a hard link). */
void tb_link(struct tb *t, u32 parent, const char *name, u32 ino);
/*
 * @count entries in @dir named @fmt (one %u: the index i, from 0): empty
 * files, but for each i that is a multiple of @every, with @nest a new
 * directory that the entries after it go into, else a file of 1 + i / 100
 * bytes.  Returns the last directory filled.
 */
u32 tb_fill(struct tb *t, u32 dir, const char *fmt, u32 count, u32 every,
	    bool nest) __attribute__((format(printf, 3, 0)));

/* Extra bytes of zero after the image in the buffer. */
void tb_set_slack(struct tb *t, size_t slack);
/* Make image_size this much larger than needed (multiple of 4096). */
void tb_set_extra(struct tb *t, u64 extra);

/* Lay the image out and compute its CRC; 0 or -ENOMEM. */
int tb_build(struct tb *t, struct tb_image *img);

/* Recompute the superblock CRC, if the layout allows it. */
void tb_fix_crc(u8 *buf, size_t size);

/* The sample tree used by the tests and the corpus. */
struct tb *tb_sample(u32 align_log2);

#endif
