/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mkdaxfs internals shared by its source files.
 *
 * The tool works in three phases:
 *   1. build an in-memory tree (mk_inode / mk_entry) from a directory
 *      (mkdaxfs_dir.c) or a tar stream (mkdaxfs_tar.c);
 *   2. lay it out per FORMAT.md (mkdaxfs.c): sort, number, place;
 *   3. write the data and the metadata, self-check, publish (mkdaxfs.c).
 */
#ifndef MKDAXFS_H
#define MKDAXFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daxfs_format.h"

/* Exit codes (documented in mkdaxfs.8). */
#define MK_EXIT_OK		0
#define MK_EXIT_ERROR		1	/* bad input, I/O error, format limit */
#define MK_EXIT_INTERNAL	4	/* our output failed the validator: a bug */
#define MK_EXIT_USAGE		16	/* bad command line or option value */

struct mk_inode;

/* One directory entry.  @name is NUL-terminated and @len bytes long. */
struct mk_entry {
	char *name;
	uint32_t len;
	struct mk_inode *ino;
};

struct mk_inode {
	uint32_t mode;			/* S_IFMT type | 07777 */
	uint32_t uid, gid;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	uint32_t rdev_major, rdev_minor;
	uint64_t size;			/* REG: bytes; LNK: target length */

	/* Directory: the parent (root: itself), its own name, its entries. */
	struct mk_inode *parent;
	const char *dname;
	struct mk_entry *ents;
	uint32_t nents, cap;

	char *target;			/* LNK: the target, NUL-terminated */
	bool implicit;			/* tar: directory the archive never listed */

	/*
	 * REG data source.  Directory input: the file is @srcname in the
	 * source directory @srcdir (srcfd < 0).  Tar input: @size bytes at
	 * @srcoff in @srcfd (the tar file itself, or the spool file).
	 */
	struct mk_inode *srcdir;
	const char *srcname;
	int srcfd;
	bool srcholes;			/* tar: @srcfd is the spool */
	uint64_t srcoff;

	/* Layout results. */
	uint32_t ino;			/* 0 until numbered */
	uint32_t nlink;
	uint64_t offset;		/* REG: data; DIR: first dirent; LNK: name */
};

/* Options that reach the tree builders. */
struct mk_opts {
	bool quiet, verbose;
};

extern const char *mk_prog;
extern struct mk_opts mk_opt;

/* Errors: print "mkdaxfs: ..." and exit.  mk_die() exits MK_EXIT_ERROR. */
__attribute__((noreturn, format(printf, 1, 2)))
void mk_die(const char *fmt, ...);
__attribute__((noreturn, format(printf, 2, 3)))
void mk_die_code(int code, const char *fmt, ...);
/* Like mk_die() with ": strerror(errno)" appended. */
__attribute__((noreturn, format(printf, 1, 2)))
void mk_die_errno(const char *fmt, ...);
/* Called by mk_die*() before exit (removes the temporary image). */
extern void (*mk_cleanup_hook)(void);

void *mk_alloc(size_t n);		/* zeroed, dies on failure */
void *mk_realloc_array(void *p, size_t n, size_t size);
char *mk_strndup(const char *s, size_t n);

/* All inodes ever created, in creation order (the layout numbers them). */
struct mk_inode *mk_new_inode(uint32_t mode);
extern struct mk_inode **mk_all;
extern size_t mk_all_count;

/* Append an entry to a directory; returns its index. */
uint32_t mk_add_entry(struct mk_inode *dir, const char *name, size_t len,
		      struct mk_inode *child);

/*
 * The path of entry @name in directory @dir (or of @dir itself when @name
 * is NULL), relative to the source root, for messages.  Static buffer.
 */
const char *mk_path(const struct mk_inode *dir, const char *name);

/* Open hash table from a 64-bit hash to a pointer; the caller compares. */
struct mk_hash {
	uint64_t *keys;
	void **vals;
	size_t mask, count;
};
uint64_t mk_hash_bytes(const void *p, size_t n, uint64_t seed);
/* Returns the slot of the first match of @key, scanning from its start. */
size_t mk_hash_first(const struct mk_hash *h, uint64_t key);
size_t mk_hash_next(const struct mk_hash *h, size_t slot, uint64_t key);
bool mk_hash_slot_used(const struct mk_hash *h, size_t slot);
void mk_hash_insert(struct mk_hash *h, uint64_t key, void *val);
void mk_hash_free(struct mk_hash *h);

/* 128-bit non-cryptographic content hash (for the reproducible UUID). */
struct mk_h128 {
	uint64_t a, b, len;
};
void mk_h128_init(struct mk_h128 *h);
void mk_h128_update(struct mk_h128 *h, const void *p, size_t n);
void mk_h128_final(struct mk_h128 *h, uint8_t out[16]);

/*
 * Copy @len bytes at @in_off of @in to @out at @out_off.  With @holes,
 * holes in @in are skipped (the output was extended with ftruncate, so they
 * read as zeros and stay sparse); SEEK_HOLE may scan up to the next hole,
 * so only ask for it where one is near (a file of its own, or the spool,
 * which leaves a hole after each file).  @what names the source.
 */
void mk_copy_range(int in, uint64_t in_off, int out, uint64_t out_off,
		   uint64_t len, bool holes, const char *what);
/* Write all of @buf at @off, dying with @what on error. */
void mk_pwrite_all(int fd, const void *buf, size_t n, uint64_t off,
		   const char *what);

/* Progress line on a TTY: call mk_progress() often, mk_progress_end() once. */
void mk_progress_start(const char *phase, uint64_t files_total,
		       uint64_t bytes_total);
void mk_progress(uint64_t files_done, uint64_t bytes_done);
void mk_progress_end(void);

/* Tree builders: return the root directory inode. */
struct mk_inode *mk_scan_dir(const char *source);
struct mk_inode *mk_read_tar(const char *source, const char *spool_dir);
/* Directory input: open the source directory @dir (O_PATH not used). */
int mk_open_srcdir(const struct mk_inode *dir);

#endif /* MKDAXFS_H */
