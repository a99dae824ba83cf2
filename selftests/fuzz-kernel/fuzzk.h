/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared code of the fuzz-kernel-* VM tests (TAP output comes from
 * selftests/lib/dxt_tap.h): a seeded PRNG,
 * the user-space verdict (the same validator the module runs, from
 * build/format/libformat.a), a tree walk that checks a mount against the
 * image it was made from, seed trees and images, and saving an offending
 * image (file in /tmp plus gzip+base64 between markers on stdout, which
 * selftests/fuzz-kernel/extract turns into corpus/regress-*.img).
 *
 * Buffers, /dev/daxfs and mounting come from selftests/driver/daxfs_test.c
 * (linked, not copied).
 */
#ifndef FUZZK_H
#define FUZZK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daxfs_format.h"
#include "daxfs_validate.h"
#include "daxfs_test.h"
#include "dxt_tap.h"

/* ---- PRNG (splitmix64), reproducible from a seed ---- */
struct rng {
	uint64_t s;
};
uint64_t rng_next(struct rng *r);
uint64_t rng_below(struct rng *r, uint64_t n);	/* [0, n), n > 0 */
bool rng_chance(struct rng *r, unsigned int percent);
uint64_t mix_seed(uint64_t seed, uint64_t i);

/* ---- options: --NAME VALUE, --NAME=VALUE or --FLAG ---- */
enum fuzzk_opt_type { FUZZK_FLAG, FUZZK_LONG, FUZZK_ULL, FUZZK_DOUBLE, FUZZK_PATH };
struct fuzzk_opt {
	const char *name;		/* NULL ends the table */
	enum fuzzk_opt_type type;
	void *dst;			/* bool, long, unsigned long long, double, char[PATH_MAX] */
};
/* Parse argv into the table; 0, or -1 after a usage line on stderr. */
int fuzzk_options(int argc, char **argv, const struct fuzzk_opt *o);

/* ---- time ---- */
double now_s(void);

/*
 * The user-space verdict for an image that starts at byte @off of a
 * buffer of @buf_size bytes whose bytes from @off on are @view: what
 * DAXFS_IOC_IMPORT must return (0 or -errno), with the reason in @msg.
 */
int user_verdict(const uint8_t *view, uint64_t buf_size, uint64_t off,
		 char *msg, size_t len);

/* The last "daxfs (" line in the kernel log since the previous call. */
void kmsg_last_daxfs(int kfd, char *line, size_t len);

/* ---- walking a mounted, valid image ---- */
struct walk_stats {
	long dirs, files, links, specials, bytes, pages, exports;
};
/*
 * Walk the whole tree under @mnt iteratively (readdir, lstat, readlink,
 * read every file, mmap and touch every page, export every non-empty file
 * as a dma-buf and map it, failed lookups) and compare everything with the
 * valid image @img of @len bytes.  0, or -1 with the first difference in
 * @err.
 */
int walk_check(const char *mnt, const uint8_t *img, size_t len,
	       struct walk_stats *st, char *err, size_t errlen);

/* ---- seed trees and images ---- */
/* Builds seed tree @flavor (0..) under @dir; -1 with a reason. */
int seed_tree(const char *dir, int flavor, char *err, size_t len);
int seed_flavors(void);
/* mkdaxfs -q -T... [extra] img dir; the file's bytes via *out (malloc). */
int seed_image(const char *work, int flavor, const char *const *extra,
	       uint8_t **out, size_t *outlen, char *err, size_t len);

/* make(WORK/NAME), mkdaxfs -q -T... it into WORK/NAME.img, read that (malloc). */
int fuzzk_tree_image(const char *work, const char *name, int (*make)(const char *dir),
		     uint8_t **image, size_t *ilen, char *err, size_t len);

/* How a fuzz-kernel program starts (fuzzk_begin). */
struct fuzzk_start {
	const char *prog;		/* its name, for the skip line */
	bool must;			/* no exporter is a failure, not a skip */
	int flavor;			/* the seed image of this flavor (seed_image) */
	int (*tree)(const char *dir);	/* flavor < 0: this tree's image (NULL: none) */
	const char *what;		/* the image, in a failure line */
};
/*
 * After dxt_tap_init(): pick an exporter (none: a skip, or with must a
 * failure), make the work directory and the image (into *image, malloc'd).
 * Returns the exporter, or -1 with *rc the program's exit status.
 */
int fuzzk_begin(const struct fuzzk_start *s, char *work, size_t wlen,
		uint8_t **image, size_t *ilen, int *rc);

/*
 * Save an offending image: /tmp/fuzz-fail-TAG.img, and on stdout
 *   # FUZZ-IMAGE-BEGIN regress-TAG.img LEN gzip|raw
 *   # <base64>
 *   # FUZZ-IMAGE-END
 * at most @limit times per process (later calls only write the file).
 */
void save_image(const char *tag, const void *p, size_t n);

/* Helpers of the import bound: total imports the module still allows. */
long count_free_imports(int dmabuf_fd, int *err);

#endif
