/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A kernel-like validator environment for a compile-only check: the
 * declarations a module's daxfs_env.h would supply, nothing from libc.
 * The overflow helpers insist on identical operand types, as older
 * kernels' check_*_overflow() do.
 */
#ifndef DAXFS_ENV_H
#define DAXFS_ENV_H

#include <linux/types.h>

#define EINVAL		22
#define EFBIG		27
#define ENOMEM		12
#define EOPNOTSUPP	95
#define EUCLEAN		117

#define le16_to_cpu(x) ((__force __u16)(__le16)(x))
#define le32_to_cpu(x) ((__force __u32)(__le32)(x))
#define le64_to_cpu(x) ((__force __u64)(__le64)(x))

int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *p, int c, size_t n);
void *memset(void *p, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

u32 crc32c(u32 crc, const void *p, unsigned int len);
#define daxfs_crc32c_update(crc, p, len) crc32c(crc, p, len)

void *kvcalloc(size_t n, size_t size, unsigned int flags);
void kvfree(const void *p);
#define daxfs_zalloc(n, size) kvcalloc(n, size, 0)
#define daxfs_free(p) kvfree(p)

#define daxfs_same_type_op(op, a, b, d) ({			\
	typeof(a) __a = (a);					\
	typeof(b) __b = (b);					\
	typeof(d) __d = (d);					\
	(void)(&__a == &__b);					\
	(void)(&__a == __d);					\
	__builtin_##op##_overflow(__a, __b, __d);		\
})
#define daxfs_add_overflow(a, b, d) daxfs_same_type_op(add, a, b, d)
#define daxfs_mul_overflow(a, b, d) daxfs_same_type_op(mul, a, b, d)

int __cond_resched(void);
#define daxfs_cond_resched() __cond_resched()

#endif
