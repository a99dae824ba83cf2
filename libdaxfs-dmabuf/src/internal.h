/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal interfaces of libdaxfs-dmabuf.  Nothing here is exported from the
 * shared library (the version script lists only the public API); the tools
 * and the tests link the static archive and use these directly.  Every
 * internal symbol starts with daxfs__.
 */
#ifndef DAXFS_INTERNAL_H
#define DAXFS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "daxfs-dmabuf.h"

#define DX_PUBLIC __attribute__((visibility("default")))

/* ---- errors (error.c) -------------------------------------------------- */
/* Set the thread-local message; returns -err so callers can `return`. */
int daxfs__fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void daxfs__clear_error(void);

/* ---- mount internals (mount.c) ----------------------------------------- */
/*
 * Mount @dmabuf_fd onto the directory @target_fd (an O_PATH fd) when it is
 * >= 0, else onto @target.  The daemon uses the fd form so that nothing is
 * resolved again between its checks and the mount.
 */
int daxfs__mount_at(int dmabuf_fd, int target_fd, const char *target,
		    const struct daxfs_mount_opts *opts);
/* Kernel log fallback for the kernel's reason (root only). */
void daxfs__kmsg_mark(void);
void daxfs__kmsg_done(void);
bool daxfs__kmsg_reason(char *out, size_t outlen);
/* Copy @in (any caller size) into a full-size struct, zero-filling. */
void daxfs__opts_normalise(const struct daxfs_mount_opts *in,
			   struct daxfs_mount_opts *out);
#define DAXFS_ALLOWED_MS_FLAGS_ \
	(MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | \
	 MS_RELATIME | MS_STRICTATIME | MS_RDONLY | MS_SILENT)

/* ---- mount option strings (opts.c) -------------------------------------- */
enum daxfs_exporter_kind {
	DAXFS_EXP_AUTO = 0,
	DAXFS_EXP_HEAP,
	DAXFS_EXP_UDMABUF,
	DAXFS_EXP_DRM,
};

#define DAXFS_OPT_MAX 4096

struct daxfs_parsed_opts {
	char image[DAXFS_OPT_MAX];	/* image= (empty: none) */
	enum daxfs_exporter_kind exporter;
	char exporter_arg[256];		/* heap name or DRM device */
	bool hugetlb;			/* udmabuf with huge pages */
	uint64_t offset;		/* offset= */
	bool has_offset;
	unsigned long flags;		/* MS_* from generic options */
	bool rw;			/* "rw" was asked for */
	char kernel[DAXFS_OPT_MAX];	/* what is left for the kernel */
};
/*
 * Parse a mount(8) -o string.  Consumes image=, heap=, udmabuf,
 * udmabuf=hugetlb, drm=, offset= and the generic VFS flags; drops
 * user-space-only options (defaults, auto, user, nofail, x-*, ...);
 * everything else is appended to ->kernel.  Returns 0 or -EINVAL with a
 * message (daxfs_last_error()).
 */
int daxfs__parse_mount_options(const char *in, struct daxfs_parsed_opts *out);

/* ---- mountd wire protocol (proto.c) ------------------------------------- */
#define DAXFS_MOUNTD_MAGIC	0x52584d44u	/* "DMXR" little-endian */
#define DAXFS_MOUNTD_VERSION	1u
#define DAXFS_MOUNTD_TARGET_MAX	4096
#define DAXFS_MOUNTD_OPTS_MAX	1024
#define DAXFS_MOUNTD_MSG_MAX	256
/* header: magic u32, version u16, size u16 (sizeof the whole message / 8,
 * see below), flags u32, reserved u32, offset u64, mount flags u64 */
#define DAXFS_MOUNTD_REQ_HDR	32
#define DAXFS_MOUNTD_REQ_SIZE	(DAXFS_MOUNTD_REQ_HDR + DAXFS_MOUNTD_TARGET_MAX + \
				 DAXFS_MOUNTD_OPTS_MAX)
#define DAXFS_MOUNTD_REPLY_SIZE	(16 + DAXFS_MOUNTD_MSG_MAX)

struct daxfs_mountd_req {
	uint64_t offset;
	uint64_t ms_flags;
	char target[DAXFS_MOUNTD_TARGET_MAX];
	char options[DAXFS_MOUNTD_OPTS_MAX];
};

struct daxfs_mountd_reply {
	int32_t error;			/* 0 or a positive errno */
	char message[DAXFS_MOUNTD_MSG_MAX];
};

int daxfs__req_encode(const struct daxfs_mountd_req *req,
		      uint8_t buf[DAXFS_MOUNTD_REQ_SIZE]);
/* 0, or -EPROTO / -EINVAL with a reason in @why. */
int daxfs__req_decode(const uint8_t *buf, size_t len,
		      struct daxfs_mountd_req *req, char *why, size_t whylen);
void daxfs__reply_encode(const struct daxfs_mountd_reply *rep,
			 uint8_t buf[DAXFS_MOUNTD_REPLY_SIZE]);
int daxfs__reply_decode(const uint8_t *buf, size_t len,
			struct daxfs_mountd_reply *rep);

/* ---- policy (policy.c) -------------------------------------------------- */
enum daxfs_who { DAXFS_WHO_UID, DAXFS_WHO_USER, DAXFS_WHO_GID, DAXFS_WHO_GROUP };

#define DAXFS_POLICY_OPT_FORCE_NOEXEC	0x1u
#define DAXFS_POLICY_OPT_ANY_OWNER	0x2u

struct daxfs_policy_rule {
	enum daxfs_who who;
	uint32_t id;			/* uid / gid */
	char name[64];			/* user / group name */
	char prefix[DAXFS_MOUNTD_TARGET_MAX];
	unsigned int flags;		/* DAXFS_POLICY_OPT_* */
	char options[256];		/* fs options a non-root client may pass,
					 * comma-separated keys */
	unsigned int line;
};

struct daxfs_policy {
	struct daxfs_policy_rule *rules;
	size_t nrules;
};

/* Parse policy text; 0 or -EINVAL with "line N: reason" in @why. */
int daxfs__policy_parse(const char *text, size_t len, struct daxfs_policy *pol,
			char *why, size_t whylen);
int daxfs__policy_load(const char *path, struct daxfs_policy *pol,
		       char *why, size_t whylen);
void daxfs__policy_free(struct daxfs_policy *pol);

struct daxfs_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	const gid_t *groups;		/* supplementary groups */
	size_t ngroups;
};
/*
 * Find the first rule that lets @peer mount at canonical path @target;
 * NULL (and a reason in @why) if none.  Root (uid 0) is always allowed.
 */
const struct daxfs_policy_rule *
daxfs__policy_match(const struct daxfs_policy *pol, const struct daxfs_peer *peer,
		    const char *target, char *why, size_t whylen);
/* Is option string @opts allowed by a rule's option list @allowed? */
bool daxfs__options_allowed(const char *opts, const char *allowed,
			    char *why, size_t whylen);

/* ---- paths (path.c) ----------------------------------------------------- */
/* Lexical check: absolute, no empty, "." or ".." components, < PATH_MAX. */
int daxfs__path_check_lexical(const char *path, char *why, size_t whylen);
/* @path equals @prefix or lies below it (both lexically clean). */
bool daxfs__path_under(const char *path, const char *prefix);
/*
 * Open the directory @path component by component without following any
 * symbolic link (O_PATH|O_NOFOLLOW); returns an O_PATH fd or -errno.
 */
int daxfs__open_dir_nofollow(const char *path, char *why, size_t whylen);

/* ---- mountinfo (mountinfo.c) -------------------------------------------- */
struct daxfs_mountinfo {
	char mountpoint[4096];
	char source[512];
	char fstype[64];
	char mnt_opts[512];
	char super_opts[1024];
	unsigned int major, minor;
	int mount_id;
};
/* Parse one /proc/PID/mountinfo line; 0 or -EINVAL. */
int daxfs__mountinfo_parse_line(const char *line, struct daxfs_mountinfo *mi);

/* ---- mountd core (mountd.c) ------------------------------------------------ */
struct daxfs_mountd_backend {
	/* Mount; 0 or -errno, message in @msg.  @target_fd is O_PATH. */
	int (*mount)(void *priv, int dmabuf_fd, int target_fd, const char *target,
		     const struct daxfs_mount_opts *opts, char *msg, size_t msglen);
	void *priv;
};

struct daxfs_mountd_cfg {
	const struct daxfs_policy *policy;
	const struct daxfs_mountd_backend *backend;
	int timeout_ms;			/* for the request to arrive */
	void (*log)(void *priv, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
	void *log_priv;
};

/*
 * Serve one connection: read one request (with the timeout), check it
 * and the peer, mount via the backend, send the reply.  Closes every
 * received fd; does not close @conn.  Returns the errno sent (0 = mounted),
 * negative on a transport error where no reply could be sent.
 */
int daxfs__mountd_serve(int conn, const struct daxfs_mountd_cfg *cfg);

/* Send a request with @dmabuf_fd over a connected socket and wait for the
 * reply (used by daxfs_mountd_request and the tests). */
int daxfs__mountd_client(int sock, int dmabuf_fd, const char *target,
			 const struct daxfs_mount_opts *opts, int timeout_ms);

/* ---- misc (util.c) ----------------------------------------------------- */
size_t daxfs__strlcpy(char *dst, const char *src, size_t size);
int daxfs__parse_u64(const char *s, uint64_t *out);	/* decimal/0x, K/M/G suffixes */

#endif /* DAXFS_INTERNAL_H */
