// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * daxfs-mountd wire format.  One request and one reply per connection, each
 * exactly one SOCK_SEQPACKET message of fixed size, little-endian:
 *
 * request (DAXFS_MOUNTD_REQ_SIZE bytes), the dma-buf fd in SCM_RIGHTS:
 *    0 u32 magic "DMXR"     4 u16 version (1)   6 u16 flags (0)
 *    8 u32 message size    12 u32 reserved (0)
 *   16 u64 offset          24 u64 mount flags (MS_*)
 *   32 char target[4096]   4128 char options[1024]   (NUL-terminated,
 *                                                     zero-padded)
 * reply (DAXFS_MOUNTD_REPLY_SIZE bytes):
 *    0 u32 magic "DMXA"     4 u16 version   6 u16 0
 *    8 s32 errno (0 = mounted)  12 u32 0   16 char message[256]
 *
 * A later version may grow the request; the size field says which.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include "internal.h"

#define REPLY_MAGIC 0x41584d44u	/* "DMXA" */

static void put16(uint8_t *p, uint16_t v) { v = htole16(v); memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return le16toh(v); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }

int daxfs__req_encode(const struct daxfs_mountd_req *req,
		      uint8_t buf[DAXFS_MOUNTD_REQ_SIZE])
{
	size_t tl = strnlen(req->target, sizeof(req->target));
	size_t ol = strnlen(req->options, sizeof(req->options));

	if (tl == 0 || tl >= sizeof(req->target))
		return -ENAMETOOLONG;
	if (ol >= sizeof(req->options))
		return -E2BIG;
	memset(buf, 0, DAXFS_MOUNTD_REQ_SIZE);
	put32(buf, DAXFS_MOUNTD_MAGIC);
	put16(buf + 4, DAXFS_MOUNTD_VERSION);
	put32(buf + 8, DAXFS_MOUNTD_REQ_SIZE);
	put64(buf + 16, req->offset);
	put64(buf + 24, req->ms_flags);
	memcpy(buf + DAXFS_MOUNTD_REQ_HDR, req->target, tl);
	memcpy(buf + DAXFS_MOUNTD_REQ_HDR + DAXFS_MOUNTD_TARGET_MAX, req->options, ol);
	return 0;
}

/* A NUL-terminated string in a fixed field, zero after the NUL. */
static bool clean_field(const uint8_t *p, size_t n, bool nonempty)
{
	const uint8_t *nul = memchr(p, 0, n);

	if (!nul || (nonempty && nul == p))
		return false;
	for (const uint8_t *q = nul; q < p + n; q++)
		if (*q)
			return false;
	return true;
}

int daxfs__req_decode(const uint8_t *buf, size_t len,
		      struct daxfs_mountd_req *req, char *why, size_t whylen)
{
	const uint8_t *t = buf + DAXFS_MOUNTD_REQ_HDR;
	const uint8_t *o = t + DAXFS_MOUNTD_TARGET_MAX;

	if (len < DAXFS_MOUNTD_REQ_HDR) {
		snprintf(why, whylen, "short request (%zu bytes)", len);
		return -EPROTO;
	}
	if (get32(buf) != DAXFS_MOUNTD_MAGIC) {
		snprintf(why, whylen, "bad magic");
		return -EPROTO;
	}
	if (get16(buf + 4) != DAXFS_MOUNTD_VERSION) {
		snprintf(why, whylen, "unsupported protocol version %u", get16(buf + 4));
		return -EPROTO;
	}
	if (get32(buf + 8) != len || len != DAXFS_MOUNTD_REQ_SIZE) {
		snprintf(why, whylen, "request size %zu (header says %u), expected %u",
			 len, get32(buf + 8), DAXFS_MOUNTD_REQ_SIZE);
		return -EPROTO;
	}
	if (get16(buf + 6) || get32(buf + 12)) {
		snprintf(why, whylen, "non-zero flags or reserved field");
		return -EINVAL;
	}
	if (!clean_field(t, DAXFS_MOUNTD_TARGET_MAX, true)) {
		snprintf(why, whylen, "malformed target field");
		return -EINVAL;
	}
	if (!clean_field(o, DAXFS_MOUNTD_OPTS_MAX, false)) {
		snprintf(why, whylen, "malformed options field");
		return -EINVAL;
	}
	memset(req, 0, sizeof(*req));
	req->offset = get64(buf + 16);
	req->ms_flags = get64(buf + 24);
	if (req->ms_flags & ~(uint64_t)DAXFS_ALLOWED_MS_FLAGS_) {
		snprintf(why, whylen, "unsupported mount flags %#llx",
			 (unsigned long long)(req->ms_flags & ~(uint64_t)DAXFS_ALLOWED_MS_FLAGS_));
		return -EINVAL;
	}
	memcpy(req->target, t, DAXFS_MOUNTD_TARGET_MAX);
	memcpy(req->options, o, DAXFS_MOUNTD_OPTS_MAX);
	return 0;
}

void daxfs__reply_encode(const struct daxfs_mountd_reply *rep,
			 uint8_t buf[DAXFS_MOUNTD_REPLY_SIZE])
{
	memset(buf, 0, DAXFS_MOUNTD_REPLY_SIZE);
	put32(buf, REPLY_MAGIC);
	put16(buf + 4, DAXFS_MOUNTD_VERSION);
	put32(buf + 8, (uint32_t)rep->error);
	memcpy(buf + 16, rep->message, strnlen(rep->message, DAXFS_MOUNTD_MSG_MAX - 1));
}

int daxfs__reply_decode(const uint8_t *buf, size_t len, struct daxfs_mountd_reply *rep)
{
	if (len != DAXFS_MOUNTD_REPLY_SIZE || get32(buf) != REPLY_MAGIC ||
	    get16(buf + 4) != DAXFS_MOUNTD_VERSION)
		return -EPROTO;
	rep->error = (int32_t)get32(buf + 8);
	if (rep->error < 0 || rep->error > 4095)
		return -EPROTO;
	memcpy(rep->message, buf + 16, DAXFS_MOUNTD_MSG_MAX);
	rep->message[DAXFS_MOUNTD_MSG_MAX - 1] = '\0';
	return 0;
}
