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
 *
 * Here the client's half: encode a request, decode a reply.  The daemon's
 * half (decode a request, encode a reply) is daemon/proto.c.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include "internal.h"
#include "wire.h"

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

int daxfs__reply_decode(const uint8_t *buf, size_t len, struct daxfs_mountd_reply *rep)
{
	if (len != DAXFS_MOUNTD_REPLY_SIZE || get32(buf) != DAXFS_MOUNTD_REPLY_MAGIC ||
	    get16(buf + 4) != DAXFS_MOUNTD_VERSION)
		return -EPROTO;
	rep->error = (int32_t)get32(buf + 8);
	if (rep->error < 0 || rep->error > 4095)
		return -EPROTO;
	memcpy(rep->message, buf + 16, DAXFS_MOUNTD_MSG_MAX);
	rep->message[DAXFS_MOUNTD_MSG_MAX - 1] = '\0';
	return 0;
}
