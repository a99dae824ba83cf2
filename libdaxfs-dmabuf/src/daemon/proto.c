// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * daxfs-mountd wire format, the daemon's half: decode a request, encode a
 * reply.  The format and the client's half are in ../proto.c.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include "internal.h"
#include "wire.h"
#include "daemon/daemon.h"

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
	put32(buf, DAXFS_MOUNTD_REPLY_MAGIC);
	put16(buf + 4, DAXFS_MOUNTD_VERSION);
	put32(buf + 8, (uint32_t)rep->error);
	memcpy(buf + 16, rep->message, strnlen(rep->message, DAXFS_MOUNTD_MSG_MAX - 1));
}
