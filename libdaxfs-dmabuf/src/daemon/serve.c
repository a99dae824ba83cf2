// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * daxfs-mountd: the request handling shared by the daemon and the tests
 * (the client side is ../mountd.c).
 *
 * One connection carries one request.  The daemon polls for it with a
 * timeout, receives exactly one SOCK_SEQPACKET message with exactly one fd,
 * checks the peer (SO_PEERCRED, SO_PEERGROUPS) against the policy, resolves
 * the target without following symbolic links, mounts onto the directory
 * fd it resolved (so nothing can be swapped in between), and answers.
 * Every fd received is closed on every path.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "internal.h"
#include "daemon/daemon.h"

#define MAX_FDS_SEEN 8
#define MAX_GROUPS 1024

static int send_reply(int conn, int err, const char *msg)
{
	struct daxfs_mountd_reply rep;
	uint8_t buf[DAXFS_MOUNTD_REPLY_SIZE];

	memset(&rep, 0, sizeof(rep));
	rep.error = err;
	daxfs__strlcpy(rep.message, msg, sizeof(rep.message));
	daxfs__reply_encode(&rep, buf);
	if (send(conn, buf, sizeof(buf), MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof(buf))
		return -errno;
	return 0;
}

#define LOG(cfg, ...) do { if ((cfg)->log) (cfg)->log((cfg)->log_priv, __VA_ARGS__); } while (0)

static int refuse(int conn, const struct daxfs_mountd_cfg *cfg, const struct ucred *cr,
		  int err, const char *target, const char *why)
{
	LOG(cfg, "refused: uid=%d gid=%d pid=%d target=%s: %s (%s)",
	    cr ? (int)cr->uid : -1, cr ? (int)cr->gid : -1, cr ? (int)cr->pid : -1,
	    target && *target ? target : "-", why, strerror(err));
	send_reply(conn, err, why);
	return err;
}

int daxfs__mountd_serve(int conn, const struct daxfs_mountd_cfg *cfg)
{
	uint8_t buf[DAXFS_MOUNTD_REQ_SIZE + 1];
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * MAX_FDS_SEEN)];
	} ctrl;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctrl.b, .msg_controllen = sizeof(ctrl.b),
	};
	struct daxfs_mountd_req req;
	struct daxfs_mount_opts mo;
	struct ucred cr;
	socklen_t crl = sizeof(cr);
	gid_t groups[MAX_GROUPS];
	socklen_t gl = sizeof(groups);
	struct daxfs_peer peer;
	const struct daxfs_policy_rule *rule;
	struct pollfd pfd = { .fd = conn, .events = POLLIN };
	char why[512];
	int fds[MAX_FDS_SEEN], nfds = 0, tfd = -1, r;
	struct stat st;
	ssize_t n;

	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0) {
		LOG(cfg, "refused: SO_PEERCRED: %s", strerror(errno));
		return -errno;
	}
	do
		r = poll(&pfd, 1, cfg->timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return refuse(conn, cfg, &cr, ETIMEDOUT, NULL, "no request within the timeout");
	if (r < 0)
		return refuse(conn, cfg, &cr, errno, NULL, "poll failed");
	do
		n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r = errno;
		LOG(cfg, "refused: uid=%d pid=%d: receive: %s", (int)cr.uid, (int)cr.pid, strerror(r));
		return -r;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k && nfds < MAX_FDS_SEEN; i++)
				memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
		}
	}
	if (n == 0) {
		LOG(cfg, "refused: uid=%d pid=%d: client disconnected before sending a request",
		    (int)cr.uid, (int)cr.pid);
		r = -ECONNRESET;
		goto out;
	}
	if ((mh.msg_flags & MSG_TRUNC) || n > DAXFS_MOUNTD_REQ_SIZE) {
		r = refuse(conn, cfg, &cr, EMSGSIZE, NULL, "oversize request");
		goto out;
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		r = refuse(conn, cfg, &cr, EINVAL, NULL, "too many file descriptors");
		goto out;
	}
	r = daxfs__req_decode(buf, (size_t)n, &req, why, sizeof(why));
	if (r) {
		r = refuse(conn, cfg, &cr, -r, NULL, why);
		goto out;
	}
	if (nfds == 0) {
		r = refuse(conn, cfg, &cr, EBADF, req.target, "no dma-buf file descriptor in the request");
		goto out;
	}
	if (nfds > 1) {
		r = refuse(conn, cfg, &cr, EINVAL, req.target, "more than one file descriptor in the request");
		goto out;
	}

	memset(&peer, 0, sizeof(peer));
	peer.uid = cr.uid;
	peer.gid = cr.gid;
	peer.pid = cr.pid;
	if (getsockopt(conn, SOL_SOCKET, SO_PEERGROUPS, groups, &gl) == 0) {
		peer.groups = groups;
		peer.ngroups = gl / sizeof(gid_t);
	}

	/* Policy first, on the lexical path, so refusals reveal nothing about the tree. */
	r = daxfs__path_check_lexical(req.target, why, sizeof(why));
	if (r) {
		r = refuse(conn, cfg, &cr, -r, req.target, why);
		goto out;
	}
	rule = daxfs__policy_match(cfg->policy, &peer, req.target, why, sizeof(why));
	if (!rule) {
		r = refuse(conn, cfg, &cr, EPERM, req.target, why);
		goto out;
	}
	/* No symbolic links anywhere: the lexical path is then the real one. */
	tfd = daxfs__open_dir_nofollow(req.target, why, sizeof(why));
	if (tfd < 0) {
		r = refuse(conn, cfg, &cr, -tfd, req.target, why);
		goto out;
	}
	if (fstat(tfd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		r = refuse(conn, cfg, &cr, ENOTDIR, req.target, "target is not a directory");
		goto out;
	}

	memset(&mo, 0, sizeof(mo));
	mo.size = sizeof(mo);
	mo.offset = req.offset;
	mo.flags = (unsigned long)req.ms_flags;
	mo.options = req.options;
	if (peer.uid != 0) {
		if (!(rule->flags & DAXFS_POLICY_OPT_ANY_OWNER) && st.st_uid != peer.uid) {
			snprintf(why, sizeof(why), "%.300s is not owned by uid %u", req.target,
				 (unsigned int)peer.uid);
			r = refuse(conn, cfg, &cr, EPERM, req.target, why);
			goto out;
		}
		if (!daxfs__options_allowed(req.options, rule->options, why, sizeof(why))) {
			r = refuse(conn, cfg, &cr, EPERM, req.target, why);
			goto out;
		}
		mo.flags |= MS_NOSUID | MS_NODEV;
		if (rule->flags & DAXFS_POLICY_OPT_FORCE_NOEXEC)
			mo.flags |= MS_NOEXEC;
	}
	why[0] = '\0';
	r = cfg->backend->mount(cfg->backend->priv, fds[0], tfd, req.target, &mo, why, sizeof(why));
	if (r) {
		if (!why[0])
			snprintf(why, sizeof(why), "mount failed");
		r = refuse(conn, cfg, &cr, -r, req.target, why);
		goto out;
	}
	LOG(cfg, "mounted: uid=%d pid=%d target=%s flags=%#lx%s%s", (int)cr.uid, (int)cr.pid,
	    req.target, mo.flags, req.options[0] ? " options=" : "", req.options);
	if (send_reply(conn, 0, "mounted"))
		LOG(cfg, "uid=%d pid=%d: could not send the reply (client gone); the mount at %s stays",
		    (int)cr.uid, (int)cr.pid, req.target);
	r = 0;
out:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (tfd >= 0)
		close(tfd);
	return r;
}
