// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The client side of daxfs-mountd (daxfs_mountd_request()): one connection
 * carries one request, a SOCK_SEQPACKET message with the dma-buf fd, and
 * one reply.  The daemon's side is in daemon/serve.c.
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

int daxfs__mountd_client(int sock, int dmabuf_fd, const char *target,
			 const struct daxfs_mount_opts *opts, int timeout_ms)
{
	static __thread struct daxfs_mountd_req req;
	struct daxfs_mount_opts o;
	uint8_t buf[DAXFS_MOUNTD_REQ_SIZE];
	uint8_t rbuf[DAXFS_MOUNTD_REPLY_SIZE + 1];
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int))];
	} ctrl;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctrl.b, .msg_controllen = sizeof(ctrl.b),
	};
	struct cmsghdr *c;
	struct daxfs_mountd_reply rep;
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	ssize_t n;
	int r;

	daxfs__clear_error();
	if (opts && opts->size < offsetof(struct daxfs_mount_opts, offset))
		return daxfs__fail(EINVAL, "struct daxfs_mount_opts: size too small");
	daxfs__opts_normalise(opts, &o);
	if (dmabuf_fd < 0)
		return daxfs__fail(EBADF, "bad dma-buf fd");
	if (!target)
		return daxfs__fail(EINVAL, "no mount point");
	memset(&req, 0, sizeof(req));
	req.offset = o.offset;
	req.ms_flags = o.flags;
	if (daxfs__strlcpy(req.target, target, sizeof(req.target)) >= sizeof(req.target))
		return daxfs__fail(ENAMETOOLONG, "mount point path too long");
	if (o.options && daxfs__strlcpy(req.options, o.options, sizeof(req.options)) >=
	    sizeof(req.options))
		return daxfs__fail(E2BIG, "option string too long");
	r = daxfs__req_encode(&req, buf);
	if (r)
		return daxfs__fail(-r, "cannot encode the request: %s", strerror(-r));
	memset(&ctrl, 0, sizeof(ctrl));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &dmabuf_fd, sizeof(int));
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(buf))
		return daxfs__fail(n < 0 ? errno : EIO, "send to daxfs-mountd: %s",
				   strerror(n < 0 ? errno : EIO));
	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return daxfs__fail(ETIMEDOUT, "daxfs-mountd did not answer");
	do
		n = recv(sock, rbuf, sizeof(rbuf), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return daxfs__fail(errno, "receive from daxfs-mountd: %s", strerror(errno));
	if (daxfs__reply_decode(rbuf, (size_t)n, &rep))
		return daxfs__fail(EPROTO, "malformed reply from daxfs-mountd");
	if (rep.error)
		return daxfs__fail(rep.error, "daxfs-mountd: %s", rep.message);
	return 0;
}

DX_PUBLIC int daxfs_mountd_request(const char *socket_path, int dmabuf_fd,
				   const char *target, const struct daxfs_mount_opts *opts)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s, r;

	daxfs__clear_error();
	if (!socket_path)
		socket_path = DAXFS_MOUNTD_SOCKET;
	if (daxfs__strlcpy(sa.sun_path, socket_path, sizeof(sa.sun_path)) >= sizeof(sa.sun_path))
		return daxfs__fail(ENAMETOOLONG, "socket path too long");
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return daxfs__fail(errno, "socket: %s", strerror(errno));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = daxfs__fail(errno, "connect %s: %s (is daxfs-mountd running?)", socket_path,
				strerror(errno));
		close(s);
		return r;
	}
	r = daxfs__mountd_client(s, dmabuf_fd, target, opts, 30000);
	close(s);
	return r;
}
