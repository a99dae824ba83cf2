// SPDX-License-Identifier: GPL-2.0
/*
 * lib-tools: daxfsctl, mount.daxfs (through mount(8)) and daxfs-mountd
 * (a non-root client allowed and refused per policy) against the real
 * module.
 */
#include "vmtest.h"
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

FIXTURE(tools) {
	char dir[64];
	char img[PATH_MAX];
	char mnt[PATH_MAX];
	char ctl[PATH_MAX];
};

FIXTURE_SETUP(tools)
{
	char err[4096], dev[64];

	if (!have_exporter("heap", dev, sizeof(dev)) && !have_exporter("udmabuf", dev, sizeof(dev)) &&
	    !have_exporter("vgem", dev, sizeof(dev))) {
		ASSERT_FALSE(getenv("CI") && !strcmp(getenv("CI"), "true"));
		SKIP(return, "no dma-buf exporter at all");
	}
	strcpy(self->dir, "/tmp/lib-tools.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	chmod(self->dir, 0755);
	if (make_image(self->dir, self->img, sizeof(self->img), err, sizeof(err))) {
		TH_LOG("%s", err);
		ASSERT_TRUE(false);
	}
	snprintf(self->mnt, sizeof(self->mnt), "%s/mnt", self->dir);
	ASSERT_EQ(0, mkdir(self->mnt, 0755));
	tool_path(self->ctl, sizeof(self->ctl), "lib/daxfsctl");
}

FIXTURE_TEARDOWN(tools)
{
	if (self->dir[0]) {
		umount2(self->mnt, MNT_DETACH);
		if (rm_tree(self->dir))
			TH_LOG("cleanup of %s failed: %s", self->dir, strerror(errno));
	}
}

TEST_F(tools, daxfsctl_end_to_end)
{
	char out[16384], p[PATH_MAX], buf[256];

	{
		const char *argv[] = { self->ctl, "mount", self->img, self->mnt, NULL };

		ASSERT_EQ(0, run(out, sizeof(out), argv)) TH_LOG("%s", out);
		TH_LOG("%s", out);
	}
	snprintf(p, sizeof(p), "%s/hello.txt", self->mnt);
	ASSERT_LT(0, read_file(p, buf, sizeof(buf)));
	EXPECT_STREQ(HELLO, buf);
	{
		const char *argv[] = { self->ctl, "list", NULL };

		EXPECT_EQ(0, run(out, sizeof(out), argv));
		EXPECT_NE(NULL, strstr(out, self->mnt)) TH_LOG("%s", out);
		TH_LOG("list:\n%s", out);
	}
	{
		const char *argv[] = { self->ctl, "info", self->mnt, NULL };

		EXPECT_EQ(0, run(out, sizeof(out), argv));
		EXPECT_NE(NULL, strstr(out, "daxfs options")) TH_LOG("%s", out);
		TH_LOG("info:\n%s", out);
	}
	{
		const char *argv[] = { self->ctl, "umount", self->mnt, NULL };

		EXPECT_EQ(0, run(out, sizeof(out), argv)) TH_LOG("%s", out);
		EXPECT_FALSE(mountinfo_has(self->mnt, NULL));
		EXPECT_EQ(1, run(out, sizeof(out), argv)) TH_LOG("second umount: %s", out);
	}
	{
		const char *argv[] = { self->ctl, "mount", "--heap=no-such-heap", self->img, self->mnt, NULL };

		EXPECT_EQ(3, run(out, sizeof(out), argv)) TH_LOG("%s", out);
	}
	{
		const char *argv[] = { self->ctl, "mount", "/etc/hostname", self->mnt, NULL };

		EXPECT_EQ(4, run(out, sizeof(out), argv)) TH_LOG("%s", out);
	}
	{
		const char *argv[] = { self->ctl, "mount", self->img, NULL };

		EXPECT_EQ(2, run(out, sizeof(out), argv));
	}
}

TEST_F(tools, daxfsctl_fd)
{
	char out[4096], fdarg[32], p[PATH_MAX], buf[256];
	int img = open(self->img, O_RDONLY), b;

	ASSERT_LE(0, img);
	b = daxfs_dmabuf_alloc_auto((size_t)fsize(self->img), NULL, 0);
	ASSERT_LE(0, b) TH_LOG("%s", daxfs_last_error());
	ASSERT_EQ(0, daxfs_dmabuf_fill(b, img, 0, NULL, NULL));
	close(img);
	ASSERT_EQ(0, fcntl(b, F_SETFD, 0));	/* inherited by daxfsctl */
	snprintf(fdarg, sizeof(fdarg), "--fd=%d", b);
	{
		const char *argv[] = { self->ctl, "mount", fdarg, "-o", "nodev", self->mnt, NULL };

		ASSERT_EQ(0, run(out, sizeof(out), argv)) TH_LOG("%s", out);
	}
	close(b);
	snprintf(p, sizeof(p), "%s/hello.txt", self->mnt);
	ASSERT_LT(0, read_file(p, buf, sizeof(buf)));
	EXPECT_TRUE(mountinfo_has(self->mnt, "nodev"));
	EXPECT_EQ(0, daxfs_umount(self->mnt));
}

/*
 * mount(8) runs /sbin/mount.TYPE; the guest's root is read-only, so in a
 * private mount namespace put a tmpfs over /usr/sbin that holds links to
 * every original entry plus our helper.
 */
static int with_helper_ns(const char *dir)
{
	char orig[PATH_MAX], farm[PATH_MAX], p[PATH_MAX], q[PATH_MAX], helper[PATH_MAX];
	struct dirent *e;
	DIR *d;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -1;
	snprintf(orig, sizeof(orig), "%s/orig-sbin", dir);
	snprintf(farm, sizeof(farm), "%s/sbin", dir);
	mkdir(orig, 0755);
	mkdir(farm, 0755);
	if (mount("/usr/sbin", orig, NULL, MS_BIND, NULL))
		return -2;
	d = opendir(orig);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", orig, e->d_name);
		snprintf(q, sizeof(q), "%s/%s", farm, e->d_name);
		if (symlink(p, q))
			return -3;
	}
	if (d)
		closedir(d);
	tool_path(helper, sizeof(helper), "lib/mount.daxfs");
	snprintf(q, sizeof(q), "%s/mount.daxfs", farm);
	if (symlink(helper, q))
		return -4;
	if (mount(farm, "/usr/sbin", NULL, MS_BIND, NULL))
		return -5;
	return 0;
}

TEST_F(tools, mount_helper)
{
	char out[8192], opts[PATH_MAX + 64], p[PATH_MAX], buf[256];
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int r = with_helper_ns(self->dir);

		if (r) {
			printf("# namespace setup failed: %d %s\n", r, strerror(errno));
			_exit(10);
		}
		snprintf(opts, sizeof(opts), "image=%s,nosuid", self->img);
		{
			const char *argv[] = { "/usr/bin/mount", "-t", "daxfs", "-o", opts, "none",
					       self->mnt, NULL };

			r = run(out, sizeof(out), argv);
			if (r) {
				printf("# mount -o image=: exit %d: %s\n", r, out);
				_exit(11);
			}
		}
		snprintf(p, sizeof(p), "%s/hello.txt", self->mnt);
		if (read_file(p, buf, sizeof(buf)) <= 0 || strcmp(buf, HELLO))
			_exit(12);
		if (!mountinfo_has(self->mnt, "nosuid"))
			_exit(13);
		{
			const char *argv[] = { "/usr/bin/umount", self->mnt, NULL };

			if (run(out, sizeof(out), argv))
				_exit(14);
		}
		/* Without image=: an import id as the source, straight to mount(2). */
		{
			struct daxfs_import imp;
			char src[64];
			int ctl = daxfs_ctl_open(), b, img = open(self->img, O_RDONLY);

			b = daxfs_dmabuf_alloc_auto((size_t)fsize(self->img), NULL, 0);
			if (ctl < 0 || b < 0 || img < 0 || daxfs_dmabuf_fill(b, img, 0, NULL, NULL) ||
			    daxfs_import(ctl, b, 0, &imp))
				_exit(15);
			snprintf(src, sizeof(src), "dmabuf:%llu", (unsigned long long)imp.id);
			const char *argv[] = { "/usr/bin/mount", "-t", "daxfs", src, self->mnt, NULL };

			r = run(out, sizeof(out), argv);
			if (r) {
				printf("# mount %s: exit %d: %s\n", src, r, out);
				_exit(16);
			}
			close(ctl);
			close(b);
			if (read_file(p, buf, sizeof(buf)) <= 0 || strcmp(buf, HELLO))
				_exit(17);
			umount2(self->mnt, 0);
		}
		_exit(0);
	}
	waitpid(pid, &status, 0);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

static pid_t start_mountd(const char *dir, char *sock, size_t socklen)
{
	char bin[PATH_MAX], pol[PATH_MAX], sockarg[PATH_MAX + 16], polarg[PATH_MAX + 16];
	pid_t pid;

	tool_path(bin, sizeof(bin), "lib/daxfs-mountd");
	snprintf(sock, socklen, "%s/mountd.sock", dir);
	snprintf(pol, sizeof(pol), "%s/mountd.conf", dir);
	snprintf(sockarg, sizeof(sockarg), "--socket=%s", sock);
	snprintf(polarg, sizeof(polarg), "--policy=%s", pol);
	pid = fork();
	if (pid == 0) {
		execl(bin, bin, sockarg, polarg, "--timeout=2000", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && access(sock, F_OK); i++)
		usleep(20000);
	return pid;
}

/* Child as uid/gid 65534 asks for a mount; exit code = errno. */
static int client_as_nobody(const char *sock, int buf, const char *target)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int r;

		setgroups(0, NULL);
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(99);
		r = daxfs_mountd_request(sock, buf, target, NULL);
		if (r)
			printf("# client: %s\n", daxfs_last_error());
		_exit(-r);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(tools, mountd_policy)
{
	char sock[PATH_MAX], pol[PATH_MAX], allowed[PATH_MAX], m[PATH_MAX], denied[PATH_MAX];
	char text[PATH_MAX + 64], p[PATH_MAX], buf[256];
	int b, img, rc, status;
	pid_t d;

	snprintf(allowed, sizeof(allowed), "%s/allowed", self->dir);
	snprintf(m, sizeof(m), "%s/m", allowed);
	snprintf(denied, sizeof(denied), "%s/denied", self->dir);
	ASSERT_EQ(0, mkdir(allowed, 0755));
	ASSERT_EQ(0, mkdir(m, 0755));
	ASSERT_EQ(0, mkdir(denied, 0755));
	ASSERT_EQ(0, chown(m, 65534, 65534));
	ASSERT_EQ(0, chown(denied, 65534, 65534));
	snprintf(pol, sizeof(pol), "%s/mountd.conf", self->dir);
	snprintf(text, sizeof(text), "allow uid:65534 %s\n", allowed);
	ASSERT_EQ(0, write_file(pol, text, strlen(text)));

	img = open(self->img, O_RDONLY);
	b = daxfs_dmabuf_alloc_auto((size_t)fsize(self->img), NULL, 0);
	ASSERT_LE(0, b) TH_LOG("%s", daxfs_last_error());
	ASSERT_EQ(0, daxfs_dmabuf_fill(b, img, 0, NULL, NULL));
	close(img);

	d = start_mountd(self->dir, sock, sizeof(sock));
	ASSERT_LT(0, d);
	ASSERT_EQ(0, access(sock, F_OK));

	rc = client_as_nobody(sock, b, m);
	EXPECT_EQ(0, rc);
	EXPECT_TRUE(mountinfo_has(m, "nosuid,nodev"));
	snprintf(p, sizeof(p), "%s/hello.txt", m);
	EXPECT_LT(0, read_file(p, buf, sizeof(buf)));
	EXPECT_EQ(0, daxfs_umount(m)) TH_LOG("%s", daxfs_last_error());

	EXPECT_EQ(EPERM, client_as_nobody(sock, b, denied));
	EXPECT_FALSE(mountinfo_has(denied, NULL));

	/* A malformed request and a silent client; the daemon must go on. */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		char junk[100] = "junk";

		strcpy(sa.sun_path, sock);
		ASSERT_EQ(0, connect(s, (struct sockaddr *)&sa, sizeof(sa)));
		EXPECT_EQ((ssize_t)sizeof(junk), send(s, junk, sizeof(junk), 0));
		EXPECT_LT(0, recv(s, buf, sizeof(buf), 0));
		close(s);
		s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		ASSERT_EQ(0, connect(s, (struct sockaddr *)&sa, sizeof(sa)));
		close(s);
	}
	EXPECT_EQ(0, kill(d, 0));
	EXPECT_EQ(0, client_as_nobody(sock, b, m));
	EXPECT_EQ(0, daxfs_umount(m));
	close(b);
	kill(d, SIGTERM);
	waitpid(d, &status, 0);
	EXPECT_TRUE(WIFEXITED(status));
}

TEST_HARNESS_MAIN
