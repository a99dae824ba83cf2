// SPDX-License-Identifier: GPL-2.0
/*
 * daxfs_testmod - a module that is buggy on purpose, to prove that the VM
 * test bed's kernel log scan (selftests/vm/logscan) catches real reports.
 *
 *   insmod daxfs_testmod.ko bug=lockdep   AB-BA order on two mutexes
 *   insmod daxfs_testmod.ko bug=kasan     one-byte heap out-of-bounds read
 *   insmod daxfs_testmod.ko bug=warn      a WARN() (any kernel, no debug options)
 *
 * Lockdep needs no second thread: it records A->B on the first pass and
 * reports the inversion when it sees B->A.  lockdep and kasan need the debug
 * kernel; warn works on the stock ones too.
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *bug = "none";
module_param(bug, charp, 0444);
MODULE_PARM_DESC(bug, "which bug to trigger: none, lockdep, kasan, warn");

static DEFINE_MUTEX(testmod_lock_a);
static DEFINE_MUTEX(testmod_lock_b);

static noinline void testmod_abba(void)
{
	mutex_lock(&testmod_lock_a);
	mutex_lock(&testmod_lock_b);
	mutex_unlock(&testmod_lock_b);
	mutex_unlock(&testmod_lock_a);

	mutex_lock(&testmod_lock_b);
	mutex_lock(&testmod_lock_a);
	mutex_unlock(&testmod_lock_a);
	mutex_unlock(&testmod_lock_b);
}

static noinline int testmod_oob(void)
{
	size_t size = 16;
	char *p = kmalloc(size, GFP_KERNEL);
	int val;

	if (!p)
		return -ENOMEM;
	OPTIMIZER_HIDE_VAR(size);
	val = READ_ONCE(p[size]);
	kfree(p);
	return val;
}

static int __init testmod_init(void)
{
	pr_info("daxfs_testmod: bug=%s\n", bug);
	if (!strcmp(bug, "lockdep"))
		testmod_abba();
	else if (!strcmp(bug, "kasan"))
		testmod_oob();
	else if (!strcmp(bug, "warn"))
		WARN(1, "daxfs_testmod: deliberate warning\n");
	return 0;
}

static void __exit testmod_exit(void)
{
}

module_init(testmod_init);
module_exit(testmod_exit);
MODULE_DESCRIPTION("Deliberately buggy module for the daxfs VM test bed");
MODULE_LICENSE("GPL");
