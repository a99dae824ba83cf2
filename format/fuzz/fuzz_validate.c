// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target of the shared validator.
 *
 * Input: one flag byte, then the image.  Flag bit 0: recompute the CRC
 * before validating, so that mutations reach the structural checks
 * (a fuzzer almost never guesses a CRC).  Bit 1: give the validator a
 * reader, so that the data-tail check runs too.
 *
 * Both steps run as the kernel runs them: on a private copy of the
 * superblock, then on a private, exactly sized copy of the metadata.  Any
 * out-of-bounds access is reported by ASan; the reader traps when asked
 * for bytes outside the image, and the target traps when the validator
 * returns an errno outside its contract or an error without a message.
 */
#include <stdint.h>

#include "daxfs_env.h"
#include "daxfs_validate.h"

#define FLAG_FIX_CRC	1u
#define FLAG_READER	2u

struct img {
	const uint8_t *p;
	size_t size;
};

static int rd(void *priv, __u64 off, void *dst, __u32 len)
{
	const struct img *im = priv;

	if (!len || len > 4095 || off > im->size || len > im->size - off)
		__builtin_trap();
	memcpy(dst, im->p + off, len);
	return 0;
}

static void check_result(int ret, const struct daxfs_verr *err)
{
	if (ret != 0 && ret != -EINVAL && ret != -EOPNOTSUPP &&
	    ret != -EFBIG && ret != -EUCLEAN)
		__builtin_trap();
	if (ret && !err->msg[0])
		__builtin_trap();
	if (!memchr(err->msg, 0, sizeof(err->msg)))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct daxfs_super sb;
	struct daxfs_verr err;
	struct img im;
	uint8_t *buf;
	u64 meta_len, off;
	void *meta;
	unsigned int flags;
	int ret;

	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	im.p = buf;
	im.size = size;

	memset(&sb, 0, sizeof(sb));
	memcpy(&sb, buf, size < sizeof(sb) ? size : sizeof(sb));
	if ((flags & FLAG_FIX_CRC) && size >= sizeof(sb) &&
	    !daxfs_check_super(&sb, size, &meta_len, &err)) {
		off = le64_to_cpu(sb.inode_off);
		sb.crc32c = cpu_to_le32(daxfs_image_crc(&sb, buf + off,
							meta_len));
		memcpy(buf, &sb, sizeof(sb));
	}

	memset(&err, 0, sizeof(err));
	ret = daxfs_check_super(&sb, size, &meta_len, &err);
	check_result(ret, &err);
	if (!ret) {
		off = le64_to_cpu(sb.inode_off);
		if (off > size || meta_len > size - off)
			__builtin_trap();
		meta = malloc(meta_len ? meta_len : 1);
		if (meta) {
			memcpy(meta, buf + off, meta_len);
			memset(&err, 0, sizeof(err));
			ret = daxfs_check_meta(&sb, meta,
					       (flags & FLAG_READER) ? rd : NULL,
					       &im, &err);
			check_result(ret, &err);
			free(meta);
		}
	}
	free(buf);
	return 0;
}
