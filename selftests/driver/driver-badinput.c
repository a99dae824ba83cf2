// SPDX-License-Identifier: GPL-2.0
#include "daxfs_harness.h"
TEST(placeholder) {}
TEST_HARNESS_MAIN
