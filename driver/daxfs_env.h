/* SPDX-License-Identifier: GPL-2.0 */
/*
 * daxfs: the kernel side of the validator environment (FORMAT.md,
 * "Validator environment").  format/daxfs_validate.c includes this file and
 * uses nothing else.
 */
#ifndef DAXFS_ENV_H
#define DAXFS_ENV_H

#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/mm.h>
#include <asm/byteorder.h>

#include "compat.h"

static inline __u32 daxfs_crc32c_update(__u32 crc, const void *p, size_t len)
{
	return daxfs_crc32c(crc, p, len);
}

/*
 * Large images need more than kmalloc gives: fall back to vmalloc.  Charged
 * to the memory cgroup of the importer, like the metadata copy.
 */
static inline void *daxfs_zalloc(size_t n, size_t size)
{
	return kvcalloc(n, size, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
}

static inline void daxfs_free(void *p)
{
	kvfree(p);
}

#define daxfs_add_overflow(a, b, d)	check_add_overflow(a, b, d)
#define daxfs_mul_overflow(a, b, d)	check_mul_overflow(a, b, d)
#define daxfs_cond_resched()		cond_resched()

#endif /* DAXFS_ENV_H */
