// SPDX-License-Identifier: GPL-2.0
/*
 * daxfs: the one image validator of the project (format/daxfs_validate.c),
 * compiled into the module with the kernel's daxfs_env.h.
 */
#include "daxfs_env.h"
#include "../format/daxfs_validate.c"
