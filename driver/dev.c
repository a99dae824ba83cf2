// SPDX-License-Identifier: GPL-2.0
/*
 * daxfs: the misc device /dev/daxfs and its import ioctls.
 *
 * An import is a validated backing with an id in one global namespace.
 * It belongs to the open file that made it; closing the file drops every
 * import it still has (a mount holds its own reference on the backing).
 *
 * Limits, so that a process importing in a loop cannot exhaust kernel
 * memory: DAXFS_MAX_IMPORTS_PER_FILE imports per open file (EMFILE beyond)
 * and DAXFS_MAX_IMPORTS imports in total (ENOSPC beyond); the metadata the
 * imports copy is bounded by the max_meta_mb budget of buf.c (ENOSPC too)
 * and charged to the importer's memory cgroup.
 */
#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/dma-buf.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "internal.h"
#include "compat.h"

#define DAXFS_MAX_IMPORTS_PER_FILE	64
#define DAXFS_MAX_IMPORTS		1024

struct daxfs_file {
	struct mutex lock;		/* protects imports, count */
	struct list_head imports;
	unsigned int count;
};

struct daxfs_imp {
	u32 id;
	struct daxfs_backing *b;
	struct daxfs_file *owner;
	struct list_head node;
};

/* id -> struct daxfs_imp; lookups hold the xarray lock. */
static DEFINE_XARRAY_ALLOC1(daxfs_imports);
static u32 daxfs_next_id;
static atomic_t daxfs_nr_imports = ATOMIC_INIT(0);

/* A reference to the backing of import @id, or NULL. */
struct daxfs_backing *daxfs_import_get(u64 id)
{
	struct daxfs_imp *imp;
	struct daxfs_backing *b = NULL;

	if (!id || id > U32_MAX)
		return NULL;
	xa_lock(&daxfs_imports);
	imp = xa_load(&daxfs_imports, id);
	if (imp) {
		b = imp->b;
		daxfs_backing_get(b);
	}
	xa_unlock(&daxfs_imports);
	return b;
}

/* Called with f->lock held. */
static void daxfs_imp_drop(struct daxfs_file *f, struct daxfs_imp *imp)
{
	xa_erase(&daxfs_imports, imp->id);
	list_del(&imp->node);
	f->count--;
	atomic_dec(&daxfs_nr_imports);
	daxfs_backing_put(imp->b);
	kfree(imp);
}

/* Called with f->lock held. */
static struct daxfs_imp *daxfs_imp_find(struct daxfs_file *f, u64 id)
{
	struct daxfs_imp *imp;

	list_for_each_entry(imp, &f->imports, node)
		if (imp->id == id)
			return imp;
	return NULL;
}

/*
 * What RELEASE and INFO share once their argument is read: no @flags are
 * defined (EINVAL), then import @id of @f (ENOENT if it has none such).
 * With @bp NULL (RELEASE) drop the import; else (INFO) store a reference
 * on its backing in *@bp.
 */
static int daxfs_imp_by_id(struct daxfs_file *f, u32 flags, u64 id,
			   struct daxfs_backing **bp)
{
	struct daxfs_imp *imp;

	if (flags)
		return -EINVAL;
	mutex_lock(&f->lock);
	imp = daxfs_imp_find(f, id);
	if (imp && bp) {
		*bp = imp->b;
		daxfs_backing_get(*bp);
	} else if (imp) {
		daxfs_imp_drop(f, imp);
	}
	mutex_unlock(&f->lock);
	return imp ? 0 : -ENOENT;
}

/*
 * Read a versioned argument struct: argsz first, at least @min bytes and at
 * most a page (E2BIG above: the zero check of the unknown tail would
 * otherwise walk up to 4 GiB of the caller's memory), bytes beyond what we
 * know must be zero (E2BIG from copy_struct_from_user).
 */
int daxfs_get_arg(void *karg, size_t ksize, size_t min, void __user *uarg,
		  u32 *argsz)
{
	int ret;

	if (get_user(*argsz, (u32 __user *)uarg))
		return -EFAULT;
	if (*argsz > PAGE_SIZE)
		return -E2BIG;
	if (*argsz < min)
		return -EINVAL;
	ret = copy_struct_from_user(karg, ksize, uarg, *argsz);
	if (ret)
		return ret;
	return 0;
}

int daxfs_put_arg(void __user *uarg, const void *karg, size_t ksize,
		  u32 argsz)
{
	if (copy_to_user(uarg, karg, min_t(size_t, ksize, argsz)))
		return -EFAULT;
	return 0;
}

static long daxfs_ioc_import(struct daxfs_file *f, void __user *uarg)
{
	struct daxfs_import arg;
	struct daxfs_backing *b;
	struct daxfs_imp *imp;
	struct dma_buf *dmabuf;
	char what[24];
	u32 argsz, id;
	int ret;

	ret = daxfs_get_arg(&arg, sizeof(arg), sizeof(arg), uarg, &argsz);
	if (ret)
		return ret;
	if (arg.flags || arg.reserved0)
		return -EINVAL;

	imp = kzalloc(sizeof(*imp), GFP_KERNEL_ACCOUNT);
	if (!imp)
		return -ENOMEM;

	/* Reserve a slot in both limits and an id before the heavy work. */
	mutex_lock(&f->lock);
	if (f->count >= DAXFS_MAX_IMPORTS_PER_FILE) {
		mutex_unlock(&f->lock);
		kfree(imp);
		return -EMFILE;
	}
	f->count++;
	mutex_unlock(&f->lock);
	ret = -ENOSPC;
	if (atomic_inc_return(&daxfs_nr_imports) > DAXFS_MAX_IMPORTS)
		goto out_unreserve;
	/* A NULL entry reserves the id: lookups see nothing until stored. */
	ret = xa_alloc_cyclic(&daxfs_imports, &id, NULL, XA_LIMIT(1, INT_MAX),
			      &daxfs_next_id, GFP_KERNEL);
	if (ret < 0)
		goto out_unreserve;

	dmabuf = dma_buf_get(arg.fd);
	if (IS_ERR(dmabuf)) {
		/* dma_buf_get(): EBADF bad fd, EINVAL not a dma-buf. */
		ret = PTR_ERR(dmabuf);
		goto out_id;
	}
	snprintf(what, sizeof(what), "id %u", id);
	ret = daxfs_backing_dmabuf(dmabuf, arg.offset, what, &b);
	if (ret)
		goto out_id;

	imp->id = id;
	imp->b = b;
	imp->owner = f;
	mutex_lock(&f->lock);
	list_add_tail(&imp->node, &f->imports);
	xa_store(&daxfs_imports, id, imp, GFP_KERNEL);
	mutex_unlock(&f->lock);

	arg.id = id;
	arg.image_size = b->image_size;
	arg.buffer_size = b->buf_size;
	memset(arg.exporter, 0, sizeof(arg.exporter));
	strscpy(arg.exporter, b->exporter, sizeof(arg.exporter));
	ret = daxfs_put_arg(uarg, &arg, sizeof(arg), argsz);
	if (ret) {
		mutex_lock(&f->lock);
		daxfs_imp_drop(f, imp);
		mutex_unlock(&f->lock);
	}
	return ret;

out_id:
	xa_erase(&daxfs_imports, id);
out_unreserve:
	atomic_dec(&daxfs_nr_imports);
	mutex_lock(&f->lock);
	f->count--;
	mutex_unlock(&f->lock);
	kfree(imp);
	return ret;
}

static long daxfs_ioc_release(struct daxfs_file *f, void __user *uarg)
{
	struct daxfs_release arg;
	u32 argsz;
	int ret;

	ret = daxfs_get_arg(&arg, sizeof(arg), sizeof(arg), uarg, &argsz);
	if (ret)
		return ret;
	return daxfs_imp_by_id(f, arg.flags, arg.id, NULL);
}

static long daxfs_ioc_info(struct daxfs_file *f, void __user *uarg)
{
	struct daxfs_info arg;
	struct daxfs_backing *b;
	u32 argsz;
	u64 id;
	int ret;

	ret = daxfs_get_arg(&arg, sizeof(arg), sizeof(arg), uarg, &argsz);
	if (ret)
		return ret;
	id = arg.id;
	ret = daxfs_imp_by_id(f, arg.flags, id, &b);
	if (ret)
		return ret;

	memset(&arg, 0, sizeof(arg));
	arg.argsz = argsz;
	arg.id = id;
	arg.offset = b->offset;
	arg.image_size = b->image_size;
	arg.buffer_size = b->buf_size;
	arg.inode_count = b->inode_count;
	arg.mounts = atomic_read(&b->mounts);
	memcpy(arg.uuid, b->super.uuid, sizeof(arg.uuid));
	/* The label is NUL-padded and may fill all 64 bytes. */
	memcpy(arg.label, b->super.label, DAXFS_LABEL_LEN);
	strscpy(arg.exporter, b->exporter, sizeof(arg.exporter));
	daxfs_backing_put(b);
	return daxfs_put_arg(uarg, &arg, sizeof(arg), argsz);
}

/*
 * Is @cmd the command @want?  Type, number and direction must be those of
 * the uapi header.  The size may differ, so that a caller built against a
 * grown struct still gets through (the struct's own argsz says how much it
 * holds), but not below the version-1 struct nor above a page.
 */
bool daxfs_ioc_is(unsigned int cmd, unsigned int want)
{
	return _IOC_TYPE(cmd) == _IOC_TYPE(want) &&
	       _IOC_NR(cmd) == _IOC_NR(want) &&
	       _IOC_DIR(cmd) == _IOC_DIR(want) &&
	       _IOC_SIZE(cmd) >= _IOC_SIZE(want) &&
	       _IOC_SIZE(cmd) <= PAGE_SIZE;
}

static long daxfs_ioctl(struct file *file, unsigned int cmd, unsigned long a)
{
	struct daxfs_file *f = file->private_data;
	void __user *uarg = (void __user *)a;

	if (daxfs_ioc_is(cmd, DAXFS_IOC_IMPORT))
		return daxfs_ioc_import(f, uarg);
	if (daxfs_ioc_is(cmd, DAXFS_IOC_RELEASE))
		return daxfs_ioc_release(f, uarg);
	if (daxfs_ioc_is(cmd, DAXFS_IOC_INFO))
		return daxfs_ioc_info(f, uarg);
	return -ENOTTY;
}

static int daxfs_dev_open(struct inode *inode, struct file *file)
{
	struct daxfs_file *f;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	INIT_LIST_HEAD(&f->imports);
	file->private_data = f;
	return 0;
}

static int daxfs_dev_release(struct inode *inode, struct file *file)
{
	struct daxfs_file *f = file->private_data;
	struct daxfs_imp *imp, *tmp;

	mutex_lock(&f->lock);
	list_for_each_entry_safe(imp, tmp, &f->imports, node)
		daxfs_imp_drop(f, imp);
	mutex_unlock(&f->lock);
	mutex_destroy(&f->lock);
	kfree(f);
	return 0;
}

static const struct file_operations daxfs_dev_fops = {
	.owner		= THIS_MODULE,
	.open		= daxfs_dev_open,
	.release	= daxfs_dev_release,
	.unlocked_ioctl	= daxfs_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice daxfs_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= DAXFS_DEV_NAME,
	.fops	= &daxfs_dev_fops,
	.mode	= 0600,
};

int daxfs_dev_init(void)
{
	return misc_register(&daxfs_misc);
}

/* The device an import attaches to its dma-buf with (buf.c). */
struct device *daxfs_dev_device(void)
{
	return daxfs_misc.this_device;
}

void daxfs_dev_exit(void)
{
	misc_deregister(&daxfs_misc);
}
