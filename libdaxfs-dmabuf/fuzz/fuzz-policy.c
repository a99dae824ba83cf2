// SPDX-License-Identifier: LGPL-2.1-or-later
/* libFuzzer target: the daxfs-mountd policy file parser and matcher. */
#include <stdint.h>
#include <string.h>
#include "internal.h"
#include "daemon/daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct daxfs_policy pol;
	struct daxfs_peer peer = { .uid = 1000, .gid = 1000 };
	char why[256];

	if (daxfs__policy_parse((const char *)data, size, &pol, why, sizeof(why)) == 0) {
		for (size_t i = 0; i < pol.nrules; i++) {
			/* Names are not resolved here: keep the matcher off NSS. */
			if (pol.rules[i].who == DAXFS_WHO_UID || pol.rules[i].who == DAXFS_WHO_GID)
				(void)daxfs__path_under("/srv/models/x", pol.rules[i].prefix);
			(void)daxfs__options_allowed("label=a,foo", pol.rules[i].options, why, sizeof(why));
		}
		(void)peer;
		daxfs__policy_free(&pol);
	} else if (!memchr(why, 0, sizeof(why))) {
		__builtin_trap();
	}
	return 0;
}
