// SPDX-License-Identifier: GPL-2.0
/*
 * daxfs-mountd - mount dma-bufs on behalf of unprivileged clients.
 * See daxfs-mountd(8) for the policy file and the protocol.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>
#include "tool.h"
#include "daemon/daemon.h"

static volatile sig_atomic_t stop, reload;
static bool use_syslog;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stop = 1;
}

static void logmsg(void *priv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logmsg(void *priv, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	(void)priv;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (use_syslog)
		syslog(strncmp(buf, "refused", 7) ? LOG_INFO : LOG_WARNING, "%s", buf);
	else
		fprintf(stderr, "daxfs-mountd: %s\n", buf);
}

static int backend_mount(void *priv, int dmabuf_fd, int target_fd, const char *target,
			 const struct daxfs_mount_opts *opts, char *msg, size_t msglen)
{
	int r;

	(void)priv;
	r = daxfs__mount_at(dmabuf_fd, target_fd, target, opts);
	if (r)
		daxfs__strlcpy(msg, daxfs_last_error(), msglen);
	return r;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: daxfs-mountd [--socket=PATH] [--policy=FILE] [--timeout=MS] [--once] [--syslog]\n"
		"  defaults: --socket=%s --policy=/etc/daxfs/mountd.conf --timeout=5000\n"
		"  With systemd socket activation (LISTEN_FDS) the passed socket is used.\n",
		DAXFS_MOUNTD_SOCKET);
}

static int load_policy(const char *path, struct daxfs_policy *pol)
{
	char why[512];
	int r = daxfs__policy_load(path, pol, why, sizeof(why));

	if (r == -ENOENT) {
		logmsg(NULL, "no policy file %s: only root may mount", path);
		pol->rules = NULL;
		pol->nrules = 0;
		return 0;
	}
	if (r)
		logmsg(NULL, "policy %s: %s", path, why);
	else
		logmsg(NULL, "policy %s: %zu rule(s)", path, pol->nrules);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "policy", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "once", no_argument, NULL, '1' },
		{ "syslog", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock_path = DAXFS_MOUNTD_SOCKET, *policy_path = "/etc/daxfs/mountd.conf";
	struct daxfs_mountd_backend be = { .mount = backend_mount };
	struct daxfs_mountd_cfg cfg = { .backend = &be, .timeout_ms = 5000, .log = logmsg };
	struct daxfs_policy pol = { 0 };
	struct sigaction sa;
	bool once = false, own_socket = false;
	const char *lp, *lf;
	int c, lfd = -1;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': sock_path = optarg; break;
		case 'p': policy_path = optarg; break;
		case 't': cfg.timeout_ms = atoi(optarg); break;
		case '1': once = true; break;
		case 'l': use_syslog = true; break;
		case 'V': printf("daxfs-mountd %s\n", DAXFS_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || cfg.timeout_ms <= 0) {
		usage(stderr);
		return 2;
	}
	if (use_syslog)
		openlog("daxfs-mountd", LOG_PID, LOG_DAEMON);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (load_policy(policy_path, &pol))
		return 1;
	cfg.policy = &pol;

	lp = getenv("LISTEN_PID");
	lf = getenv("LISTEN_FDS");
	if (lp && lf && atol(lp) == (long)getpid() && atoi(lf) >= 1) {
		lfd = 3;	/* SD_LISTEN_FDS_START */
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
	} else {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		if (daxfs__strlcpy(sun.sun_path, sock_path, sizeof(sun.sun_path)) >= sizeof(sun.sun_path)) {
			logmsg(NULL, "socket path too long");
			return 1;
		}
		lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (lfd < 0) {
			logmsg(NULL, "socket: %s", strerror(errno));
			return 1;
		}
		unlink(sock_path);
		if (bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
		    chmod(sock_path, 0666) < 0 || listen(lfd, 16) < 0) {
			logmsg(NULL, "%s: %s", sock_path, strerror(errno));
			return 1;
		}
		own_socket = true;
	}
	logmsg(NULL, "listening on %s", own_socket ? sock_path : "the socket from systemd");

	while (!stop) {
		int conn;

		if (reload) {
			struct daxfs_policy np;

			reload = 0;
			if (load_policy(policy_path, &np) == 0) {
				daxfs__policy_free(&pol);
				pol = np;
			} else {
				logmsg(NULL, "keeping the previous policy");
			}
		}
		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			logmsg(NULL, "accept: %s", strerror(errno));
			sleep(1);
			continue;
		}
		daxfs__mountd_serve(conn, &cfg);
		close(conn);
		if (once)
			break;
	}
	if (own_socket)
		unlink(sock_path);
	daxfs__policy_free(&pol);
	return 0;
}
