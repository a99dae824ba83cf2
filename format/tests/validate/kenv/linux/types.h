/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stand-in for the kernel's <linux/types.h>, used only to prove that
 * daxfs_validate.c builds with nothing but the kernel-side environment
 * FORMAT.md lists: no libc header is reachable (-nostdinc).
 */
#ifndef DAXFS_KENV_LINUX_TYPES_H
#define DAXFS_KENV_LINUX_TYPES_H

#ifdef __CHECKER__
#define __bitwise __attribute__((bitwise))
#define __force __attribute__((force))
#else
#define __bitwise
#define __force
#endif

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed int __s32;
typedef signed long long __s64;
typedef __u16 __bitwise __le16;
typedef __u32 __bitwise __le32;
typedef __u64 __bitwise __le64;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef _Bool bool;
typedef __SIZE_TYPE__ size_t;

#define true 1
#define false 0
#define NULL ((void *)0)

#endif
