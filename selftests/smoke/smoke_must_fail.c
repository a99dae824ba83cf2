// SPDX-License-Identifier: GPL-2.0
/*
 * smoke-must-fail: tests that fail on purpose.  Not a VM test program by
 * itself (it is built into build/smoke/, not build/vmtests/): smoke-dmabuf's
 * failure_is_reported runs it and checks that exactly the two failures
 * below are counted, and that the passing test still counts as passed.
 */
#include <signal.h>
#include <unistd.h>

#include "kselftest_harness.h"

TEST(passes)
{
	ASSERT_EQ(2, 1 + 1);
}

TEST(assertion_fails)
{
	ASSERT_EQ(3, 1 + 1) TH_LOG("this failure is deliberate");
}

TEST(crashes)
{
	raise(SIGSEGV);
}

TEST_HARNESS_MAIN
