// SPDX-License-Identifier: LGPL-2.1-or-later
/* libFuzzer target: the daxfs-mountd request and reply decoders. */
#include <stdint.h>
#include <string.h>
#include "internal.h"
#include "daemon/daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct daxfs_mountd_req req, again;
	static uint8_t buf[DAXFS_MOUNTD_REQ_SIZE];
	struct daxfs_mountd_reply rep;
	char why[256];

	if (daxfs__req_decode(data, size, &req, why, sizeof(why)) == 0) {
		/* Whatever decodes must encode to the same bytes. */
		if (daxfs__req_encode(&req, buf) || memcmp(buf, data, DAXFS_MOUNTD_REQ_SIZE))
			__builtin_trap();
		if (daxfs__req_decode(buf, sizeof(buf), &again, why, sizeof(why)) ||
		    strcmp(again.target, req.target) || strcmp(again.options, req.options))
			__builtin_trap();
		(void)daxfs__path_check_lexical(req.target, why, sizeof(why));
	}
	if (daxfs__reply_decode(data, size, &rep) == 0 &&
	    strnlen(rep.message, sizeof(rep.message)) == sizeof(rep.message))
		__builtin_trap();
	return 0;
}
