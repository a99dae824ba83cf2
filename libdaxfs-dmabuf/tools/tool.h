/* SPDX-License-Identifier: GPL-2.0 */
/* Shared bits of the daxfs-dmabuf tools. */
#ifndef DAXFS_TOOL_H
#define DAXFS_TOOL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "internal.h"

#ifndef DAXFS_VERSION
#define DAXFS_VERSION "unknown"
#endif

#endif
