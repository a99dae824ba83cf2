// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Mounting a dma-buf.
 *
 * Preferred path: the new mount API.  fsopen("daxfs") gives a filesystem
 * context whose fd also carries the kernel's log for this mount attempt, so
 * reading it after a failure yields the exact reason ("e daxfs: ...") without
 * dmesg.  The buffer goes in as FSCONFIG_SET_FD "dmabuf".
 * If the module does not know the "dmabuf" (or "offset") parameter we import
 * the buffer through /dev/daxfs and pass "dmabuf:ID" as the source instead,
 * still through the fs context.  Kernels without fsopen (ENOSYS) get the same
 * import followed by mount(2).  In every case the mount takes its own
 * reference to the buffer, so the import and our /dev/daxfs fd go away
 * right after.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "internal.h"

#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 0x1
#endif
#ifndef FSMOUNT_CLOEXEC
#define FSMOUNT_CLOEXEC 0x1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x4
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x40
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY	0x1
#define MOUNT_ATTR_NOSUID	0x2
#define MOUNT_ATTR_NODEV	0x4
#define MOUNT_ATTR_NOEXEC	0x8
#define MOUNT_ATTR_RELATIME	0x0
#define MOUNT_ATTR_NOATIME	0x10
#define MOUNT_ATTR_STRICTATIME	0x20
#define MOUNT_ATTR_NODIRATIME	0x80
#endif
/* fsconfig commands (stable kernel ABI values) */
enum { DX_SET_FLAG = 0, DX_SET_STRING = 1, DX_SET_FD = 5, DX_CMD_CREATE = 6 };

#ifndef SYS_fsopen
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#define SYS_move_mount 429
#endif

#define NEED_IMPORT 100000	/* internal: retry through /dev/daxfs */

static int dx_fsopen(const char *fs, unsigned int flags)
{
	return (int)syscall(SYS_fsopen, fs, flags);
}

static int dx_fsconfig(int fd, unsigned int cmd, const char *key,
		       const void *val, int aux)
{
	return (int)syscall(SYS_fsconfig, fd, cmd, key, val, aux);
}

static int dx_fsmount(int fd, unsigned int flags, unsigned int attr)
{
	return (int)syscall(SYS_fsmount, fd, flags, attr);
}

static int dx_move_mount(int from_fd, const char *from, int to_fd,
			 const char *to, unsigned int flags)
{
	return (int)syscall(SYS_move_mount, from_fd, from, to_fd, to, flags);
}

/*
 * Drain the context's log.  Keep the last error ("e ") message, or failing
 * that the last message of any kind, without the one-letter prefix.
 */
static void fc_log(int fsfd, char *out, size_t outlen)
{
	char line[1024];
	bool have_err = false;
	ssize_t n;

	out[0] = '\0';
	for (int i = 0; i < 64; i++) {
		n = read(fsfd, line, sizeof(line) - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		line[n] = '\0';
		while (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n >= 2 && line[1] == ' ') {
			if (line[0] == 'e' || !have_err) {
				daxfs__strlcpy(out, line + 2, outlen);
				have_err |= line[0] == 'e';
			}
		} else if (!have_err) {
			daxfs__strlcpy(out, line, outlen);
		}
	}
}

static int fc_fail(int fsfd, int err, const char *what)
{
	char log[512];

	fc_log(fsfd, log, sizeof(log));
	if (log[0] || daxfs__kmsg_reason(log, sizeof(log)))
		return daxfs__fail(err, "%s", log);
	return daxfs__fail(err, "%s: %s", what, strerror(err));
}

static unsigned int attr_from_flags(unsigned long fl)
{
	unsigned int a = MOUNT_ATTR_RDONLY;

	if (fl & MS_NOSUID)
		a |= MOUNT_ATTR_NOSUID;
	if (fl & MS_NODEV)
		a |= MOUNT_ATTR_NODEV;
	if (fl & MS_NOEXEC)
		a |= MOUNT_ATTR_NOEXEC;
	if (fl & MS_NODIRATIME)
		a |= MOUNT_ATTR_NODIRATIME;
	if (fl & MS_NOATIME)
		a |= MOUNT_ATTR_NOATIME;
	else if (fl & MS_STRICTATIME)
		a |= MOUNT_ATTR_STRICTATIME;
	return a;
}

/* Pass "a,b=c" to the context, one fsconfig per option. */
static int fc_options(int fsfd, const char *options)
{
	char buf[DAXFS_OPT_MAX], *save = NULL, *tok;

	if (!options || !*options)
		return 0;
	if (daxfs__strlcpy(buf, options, sizeof(buf)) >= sizeof(buf))
		return daxfs__fail(E2BIG, "option string too long");
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int r;

		if (!*tok)
			continue;
		if (eq) {
			*eq = '\0';
			r = dx_fsconfig(fsfd, DX_SET_STRING, tok, eq + 1, 0);
		} else {
			r = dx_fsconfig(fsfd, DX_SET_FLAG, tok, NULL, 0);
		}
		if (r < 0) {
			int e = errno;
			char what[300];

			snprintf(what, sizeof(what), "option \"%s\"", tok);
			return fc_fail(fsfd, e, what);
		}
	}
	return 0;
}

/*
 * Give the context a parameter of the mount from a dma-buf fd.  On failure
 * close @fsfd: a module too old to know the parameter ("Unknown parameter",
 * or EINVAL with nothing logged) wants the import through /dev/daxfs
 * (-NEED_IMPORT); else the kernel's reason.
 */
static int fc_fd_param(int fsfd, unsigned int cmd, const char *key,
		       const void *val, int aux)
{
	char log[512];
	int e;

	if (dx_fsconfig(fsfd, cmd, key, val, aux) >= 0)
		return 0;
	e = errno;
	fc_log(fsfd, log, sizeof(log));
	close(fsfd);
	if (e == EINVAL && (strstr(log, "nknown parameter") || !log[0]))
		return -NEED_IMPORT;
	return daxfs__fail(e, "%s", log[0] ? log : strerror(e));
}

/*
 * @source: mount that source (a device path), the options only; else
 * import_id == 0: hand the fd to the kernel; else use "dmabuf:ID".
 */
static int mount_fc_src(const char *source, int dmabuf_fd, uint64_t import_id,
			int target_fd, const char *target,
			const struct daxfs_mount_opts *o)
{
	char num[32];
	int fsfd, mfd, r;

	daxfs__kmsg_mark();
	fsfd = dx_fsopen("daxfs", FSOPEN_CLOEXEC);
	if (fsfd < 0) {
		if (errno == ENOSYS)
			return -ENOSYS;
		if (errno == ENODEV)
			return daxfs__fail(ENODEV, "filesystem type daxfs is not registered (is daxfs.ko loaded?)");
		return daxfs__fail(errno, "fsopen(daxfs): %s", strerror(errno));
	}
	if (source) {
		if (dx_fsconfig(fsfd, DX_SET_STRING, "source", source, 0) < 0) {
			r = fc_fail(fsfd, errno, "source");
			goto out;
		}
		if (o->offset) {
			snprintf(num, sizeof(num), "%" PRIu64, o->offset);
			if (dx_fsconfig(fsfd, DX_SET_STRING, "offset", num, 0) < 0) {
				r = fc_fail(fsfd, errno, "option \"offset\"");
				goto out;
			}
		}
	} else if (import_id == 0) {
		r = fc_fd_param(fsfd, DX_SET_FD, "dmabuf", NULL, dmabuf_fd);
		if (r)
			return r;
		if (o->offset) {
			snprintf(num, sizeof(num), "%" PRIu64, o->offset);
			r = fc_fd_param(fsfd, DX_SET_STRING, "offset", num, 0);
			if (r)
				return r;
		}
	} else {
		snprintf(num, sizeof(num), "dmabuf:%" PRIu64, import_id);
		if (dx_fsconfig(fsfd, DX_SET_STRING, "source", num, 0) < 0) {
			r = fc_fail(fsfd, errno, "source");
			goto out;
		}
	}
	r = fc_options(fsfd, o->options);
	if (r)
		goto out;
	if (dx_fsconfig(fsfd, DX_CMD_CREATE, NULL, NULL, 0) < 0) {
		r = fc_fail(fsfd, errno, "mount");
		goto out;
	}
	mfd = dx_fsmount(fsfd, FSMOUNT_CLOEXEC, attr_from_flags(o->flags));
	if (mfd < 0) {
		r = fc_fail(fsfd, errno, "fsmount");
		goto out;
	}
	if (target_fd >= 0)
		r = dx_move_mount(mfd, "", target_fd, "",
				  MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
	else
		r = dx_move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
	if (r < 0)
		r = daxfs__fail(errno, "attach mount at %s: %s",
				target ? target : "target", strerror(errno));
	close(mfd);
out:
	close(fsfd);
	return r;
}

static int mount_fc(int dmabuf_fd, uint64_t import_id, int target_fd,
		    const char *target, const struct daxfs_mount_opts *o)
{
	return mount_fc_src(NULL, dmabuf_fd, import_id, target_fd, target, o);
}

/* mount(2) of @src with @o's flags and @options, the kernel's reason on failure. */
static int mount_legacy_src(const char *src, int target_fd, const char *target,
			    const struct daxfs_mount_opts *o, const char *options)
{
	char tpath[64];

	if (target_fd >= 0) {
		snprintf(tpath, sizeof(tpath), "/proc/self/fd/%d", target_fd);
		target = tpath;
	}
	daxfs__kmsg_mark();
	if (mount(src, target, "daxfs", MS_RDONLY | (o->flags & DAXFS_ALLOWED_MS_FLAGS_),
		  options && *options ? options : NULL) < 0) {
		int e = errno;
		char why[512];

		/* The module's reason first: ENODEV also means "not device-dax". */
		if (daxfs__kmsg_reason(why, sizeof(why)))
			return daxfs__fail(e, "%s", why);
		if (e == ENODEV)
			return daxfs__fail(e, "filesystem type daxfs is not registered (is daxfs.ko loaded?)");
		return daxfs__fail(e, "mount %s on %s: %s", src, target, strerror(e));
	}
	return 0;
}

static int mount_legacy(uint64_t id, int target_fd, const char *target,
			const struct daxfs_mount_opts *o)
{
	char src[40];

	snprintf(src, sizeof(src), "dmabuf:%" PRIu64, id);
	return mount_legacy_src(src, target_fd, target, o, o->options);
}

void daxfs__opts_normalise(const struct daxfs_mount_opts *in,
			   struct daxfs_mount_opts *out)
{
	memset(out, 0, sizeof(*out));
	if (!in)
		return;
	size_t n = in->size < sizeof(*out) ? in->size : sizeof(*out);

	if (n > sizeof(size_t))
		memcpy((char *)out + sizeof(size_t), (const char *)in + sizeof(size_t),
		       n - sizeof(size_t));
	out->size = sizeof(*out);
}

int daxfs__mount_at(int dmabuf_fd, int target_fd, const char *target,
		    const struct daxfs_mount_opts *opts)
{
	struct daxfs_mount_opts o;
	struct daxfs_import imp;
	bool legacy = getenv("DAXFS_FORCE_LEGACY_MOUNT") != NULL;
	int ctl, r;

	daxfs__clear_error();
	if (opts && opts->size < offsetof(struct daxfs_mount_opts, offset))
		return daxfs__fail(EINVAL, "struct daxfs_mount_opts: size %zu too small", opts->size);
	daxfs__opts_normalise(opts, &o);
	if (dmabuf_fd < 0)
		return daxfs__fail(EBADF, "bad dma-buf fd %d", dmabuf_fd);
	if (target_fd < 0 && (!target || !*target))
		return daxfs__fail(EINVAL, "no mount point");
	if (o.flags & ~(unsigned long)DAXFS_ALLOWED_MS_FLAGS_)
		return daxfs__fail(EINVAL, "unsupported mount flags %#lx",
				   o.flags & ~(unsigned long)DAXFS_ALLOWED_MS_FLAGS_);

	if (!legacy && !getenv("DAXFS_FORCE_IMPORT_MOUNT")) {
		r = mount_fc(dmabuf_fd, 0, target_fd, target, &o);
		daxfs__kmsg_done();
		if (r != -NEED_IMPORT && r != -ENOSYS)
			return r;
		legacy = r == -ENOSYS;
	}
	ctl = daxfs_ctl_open();
	if (ctl < 0)
		return ctl;
	r = daxfs_import(ctl, dmabuf_fd, o.offset, &imp);
	if (r == 0) {
		if (!legacy)
			r = mount_fc(dmabuf_fd, imp.id, target_fd, target, &o);
		if (legacy || r == -ENOSYS)
			r = mount_legacy(imp.id, target_fd, target, &o);
	}
	/* Closing the control file drops the import; the mount keeps its own reference. */
	close(ctl);
	daxfs__kmsg_done();
	return r;
}

DX_PUBLIC int daxfs_mount_dmabuf_opts(int dmabuf_fd, const char *target,
				      const struct daxfs_mount_opts *opts)
{
	return daxfs__mount_at(dmabuf_fd, -1, target, opts);
}

DX_PUBLIC int daxfs_mount_dmabuf(int dmabuf_fd, const char *target)
{
	return daxfs__mount_at(dmabuf_fd, -1, target, NULL);
}

/*
 * Is the character device @st a device-dax instance?  Its sysfs node
 * (/sys/dev/char/MAJ:MIN) sits on the dax bus.  The kernel checks again;
 * this only gives a clear message early.
 */
static bool is_devdax(const struct stat *st)
{
	char link[128], bus[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u/subsystem",
		 major(st->st_rdev), minor(st->st_rdev));
	n = readlink(link, bus, sizeof(bus) - 1);
	if (n <= 0)
		return false;
	bus[n] = '\0';
	return !strcmp(strrchr(bus, '/') ? strrchr(bus, '/') + 1 : bus, "dax");
}

DX_PUBLIC int daxfs_mount_device(const char *device, const char *target,
				 const struct daxfs_mount_opts *opts)
{
	struct daxfs_mount_opts o;
	struct stat st;
	int r;

	daxfs__clear_error();
	if (opts && opts->size < offsetof(struct daxfs_mount_opts, offset))
		return daxfs__fail(EINVAL, "struct daxfs_mount_opts: size %zu too small", opts->size);
	daxfs__opts_normalise(opts, &o);
	if (!device || !*device)
		return daxfs__fail(EINVAL, "no device");
	if (!target || !*target)
		return daxfs__fail(EINVAL, "no mount point");
	if (o.flags & ~(unsigned long)DAXFS_ALLOWED_MS_FLAGS_)
		return daxfs__fail(EINVAL, "unsupported mount flags %#lx",
				   o.flags & ~(unsigned long)DAXFS_ALLOWED_MS_FLAGS_);
	if (device[0] != '/')
		return daxfs__fail(EINVAL, "%s: give the device's absolute path", device);
	if (stat(device, &st) < 0)
		return daxfs__fail(errno, "%s: %s", device, strerror(errno));
	if (S_ISCHR(st.st_mode) && !is_devdax(&st))
		return daxfs__fail(ENODEV, "%s is a character device but not a device-dax device (/dev/daxX.Y)",
				   device);
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		return daxfs__fail(ENOTBLK, "%s is neither a DAX block device nor a device-dax device",
				   device);

	if (!getenv("DAXFS_FORCE_LEGACY_MOUNT")) {
		r = mount_fc_src(device, -1, 0, -1, target, &o);
		daxfs__kmsg_done();
		if (r != -ENOSYS)
			return r;
	}
	{
		char kopts[DAXFS_OPT_MAX + 32];
		size_t l;

		snprintf(kopts, sizeof(kopts), "%s", o.options ? o.options : "");
		l = strlen(kopts);
		if (o.offset)
			snprintf(kopts + l, sizeof(kopts) - l, "%soffset=%" PRIu64, l ? "," : "",
				 o.offset);
		r = mount_legacy_src(device, -1, target, &o, kopts);
		daxfs__kmsg_done();
	}
	return r;
}

DX_PUBLIC int daxfs_umount(const char *target)
{
	struct statfs st;

	daxfs__clear_error();
	if (!target || !*target)
		return daxfs__fail(EINVAL, "no mount point");
	if (statfs(target, &st) < 0)
		return daxfs__fail(errno, "%s: %s", target, strerror(errno));
	if ((uint32_t)st.f_type != DAXFS_FS_MAGIC)
		return daxfs__fail(EINVAL, "%s is not a daxfs mount", target);
	if (umount2(target, UMOUNT_NOFOLLOW) < 0)
		return daxfs__fail(errno, "umount %s: %s", target, strerror(errno));
	return 0;
}
