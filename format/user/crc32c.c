// SPDX-License-Identifier: GPL-2.0 OR LGPL-2.1-or-later
/*
 * CRC-32C (Castagnoli) for the user-space tools, slicing-by-8.
 *
 * Reflected polynomial 0x82F63B78.  daxfs_crc32c_update() is the raw update
 * step (no inversion), matching the kernel's crc32c(); callers start from
 * ~0 and invert the result, see daxfs_crc32c() in daxfs_env.h.
 *
 * Slicing-by-8: table[k][b] is the CRC contribution of byte b followed by
 * k zero bytes, so eight input bytes fold into the CRC with eight lookups
 * instead of eight dependent shift/lookup rounds.
 */
#include <stdint.h>

#include "daxfs_env.h"

#define CRC32C_POLY 0x82F63B78u

static __u32 crc32c_table[8][256];

__attribute__((constructor))
static void crc32c_init(void)
{
	unsigned int i, k;

	for (i = 0; i < 256; i++) {
		__u32 c = i;

		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
		crc32c_table[0][i] = c;
	}
	for (k = 1; k < 8; k++)
		for (i = 0; i < 256; i++) {
			__u32 c = crc32c_table[k - 1][i];

			crc32c_table[k][i] = (c >> 8) ^ crc32c_table[0][c & 0xff];
		}
}

static inline __u32 load_le32(const unsigned char *p)
{
	return (__u32)p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16 |
	       (__u32)p[3] << 24;
}

__u32 daxfs_crc32c_update(__u32 crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	/* Byte-wise up to an 8-byte boundary keeps the 8-byte loop aligned. */
	while (len && ((uintptr_t)p & 7)) {
		crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		__u32 lo = crc ^ load_le32(p);
		__u32 hi = load_le32(p + 4);

		crc = crc32c_table[7][lo & 0xff] ^
		      crc32c_table[6][(lo >> 8) & 0xff] ^
		      crc32c_table[5][(lo >> 16) & 0xff] ^
		      crc32c_table[4][lo >> 24] ^
		      crc32c_table[3][hi & 0xff] ^
		      crc32c_table[2][(hi >> 8) & 0xff] ^
		      crc32c_table[1][(hi >> 16) & 0xff] ^
		      crc32c_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *p++) & 0xff];
	return crc;
}
