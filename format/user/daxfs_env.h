/* SPDX-License-Identifier: GPL-2.0 OR LGPL-2.1-or-later */
/*
 * User-space environment of the shared validator (daxfs_validate.c): the
 * few helpers listed in FORMAT.md, "Validator environment".  The kernel
 * module has its own daxfs_env.h with the same names.
 */
#ifndef DAXFS_ENV_H
#define DAXFS_ENV_H

#include <linux/types.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __CHECKER__
#define __force __attribute__((force))
#else
#define __force
#endif

/* The kernel's short type names, as <linux/types.h> gives them there. */
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define daxfs_le16(x) __builtin_bswap16(x)
#define daxfs_le32(x) __builtin_bswap32(x)
#define daxfs_le64(x) __builtin_bswap64(x)
#else
#define daxfs_le16(x) (x)
#define daxfs_le32(x) (x)
#define daxfs_le64(x) (x)
#endif

static inline __u16 le16_to_cpu(__le16 v)
{
	return daxfs_le16((__force __u16)v);
}

static inline __u32 le32_to_cpu(__le32 v)
{
	return daxfs_le32((__force __u32)v);
}

static inline __u64 le64_to_cpu(__le64 v)
{
	return daxfs_le64((__force __u64)v);
}

static inline __le16 cpu_to_le16(__u16 v)
{
	return (__force __le16)daxfs_le16(v);
}

static inline __le32 cpu_to_le32(__u32 v)
{
	return (__force __le32)daxfs_le32(v);
}

static inline __le64 cpu_to_le64(__u64 v)
{
	return (__force __le64)daxfs_le64(v);
}

/*
 * Raw CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) update: no
 * inversion on entry or exit, like the kernel's crc32c().  The standard
 * check value is ~daxfs_crc32c_update(~0, "123456789", 9) == 0xE3069283.
 */
__u32 daxfs_crc32c_update(__u32 crc, const void *p, size_t len);

/* The standard CRC-32C of a buffer (with both inversions). */
static inline __u32 daxfs_crc32c(const void *p, size_t len)
{
	return ~daxfs_crc32c_update(~(__u32)0, p, len);
}

/* A zeroed array of @n elements of @size bytes; NULL on overflow. */
static inline void *daxfs_zalloc(size_t n, size_t size)
{
	if (n == 0 || size == 0)
		n = size = 1;
	return calloc(n, size);
}

static inline void daxfs_free(void *p)
{
	free(p);
}

#define daxfs_add_overflow(a, b, d) __builtin_add_overflow(a, b, d)
#define daxfs_mul_overflow(a, b, d) __builtin_mul_overflow(a, b, d)

#define daxfs_cond_resched() do { } while (0)

#endif /* DAXFS_ENV_H */
