/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * daxfs-mountd's own code: the policy file, path checks, the daemon's half
 * of the wire format and serving one request.  Built into
 * build/lib/libdaxfs-mountd.a, which only daxfs-mountd and the tests and
 * fuzzers that need it link (before libdaxfs-dmabuf.a); none of it is in
 * the shared library.
 */
#ifndef DAXFS_DAEMON_H
#define DAXFS_DAEMON_H

#include "internal.h"

/* ---- wire format, the daemon's half (daemon/proto.c) ------------------- */
/* 0, or -EPROTO / -EINVAL with a reason in @why. */
int daxfs__req_decode(const uint8_t *buf, size_t len,
		      struct daxfs_mountd_req *req, char *why, size_t whylen);
void daxfs__reply_encode(const struct daxfs_mountd_reply *rep,
			 uint8_t buf[DAXFS_MOUNTD_REPLY_SIZE]);

/* ---- policy (daemon/policy.c) ------------------------------------------ */
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

/* ---- paths (daemon/path.c) --------------------------------------------- */
/* Lexical check: absolute, no empty, "." or ".." components, < PATH_MAX. */
int daxfs__path_check_lexical(const char *path, char *why, size_t whylen);
/* @path equals @prefix or lies below it (both lexically clean). */
bool daxfs__path_under(const char *path, const char *prefix);
/*
 * Open the directory @path component by component without following any
 * symbolic link (O_PATH|O_NOFOLLOW); returns an O_PATH fd or -errno.
 */
int daxfs__open_dir_nofollow(const char *path, char *why, size_t whylen);

/* ---- serving a request (daemon/serve.c) -------------------------------- */
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

#endif /* DAXFS_DAEMON_H */
