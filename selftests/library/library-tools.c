// SPDX-License-Identifier: GPL-2.0
/*
 * library-tools: daxfsctl, mount.daxfs (through mount(8)) and daxfs-mountd
 * (a non-root client allowed and refused per policy) against the real
 * module; and, through each of the three, the images the load pipeline
 * must refuse (truncated, image_size past the file, a 1 TiB claim, past the
 * available memory or the memory cgroup's limit, a pipe that ends early, a
 * file that shrinks during the copy), with a pipe that is fine.
 * daxfsctl export: --exec runs a command (this program again, in its check
 * mode) with the dma-buf and its description in the environment, and exits
 * with the command's status; --socket hands the fd and its line to a
 * listener; refusals with their exit status and message.
 */
#include "vmtest.h"
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

/* ---- the command daxfsctl export --exec runs: this program, checking --------
 *
 * "library-tools --export-check": a constructor, so that it runs before the
 * harness's main.  It checks what daxfsctl handed it: the descriptor
 * DAXFS_DMABUF_FD is open, not close-on-exec, a daxfs dma-buf of
 * DAXFS_DMABUF_SIZE bytes (whole pages) holding the bytes of
 * DAXFS_DMABUF_FILE from DAXFS_DMABUF_OFFSET (zeros past its end), the
 * file's bytes in it DAXFS_DMABUF_LENGTH, and the file itself is not open
 * here.  Then it prints "export-check ok size=S offset=N length=L file=F"
 * and exits 0, or prints why not and exits 1.
 */
static int check_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int check_fail(const char *fmt, ...)
{
	va_list ap;

	printf("export-check failed: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 1;
}

static int export_check(void)
{
	const char *fds = getenv("DAXFS_DMABUF_FD"), *sz = getenv("DAXFS_DMABUF_SIZE");
	const char *of = getenv("DAXFS_DMABUF_OFFSET"), *ln = getenv("DAXFS_DMABUF_LENGTH");
	const char *file = getenv("DAXFS_DMABUF_FILE");
	unsigned long long size, off, len;
	char p[64], info[4096], link[PATH_MAX];
	unsigned char *want, *m;
	int fd, f, bad;
	DIR *d;
	struct dirent *e;

	if (!fds || !sz || !of || !ln || !file)
		return check_fail("DAXFS_DMABUF_FD, _SIZE, _OFFSET, _LENGTH, _FILE: not all set");
	fd = atoi(fds);
	size = strtoull(sz, NULL, 10);
	off = strtoull(of, NULL, 10);
	len = strtoull(ln, NULL, 10);
	if (fcntl(fd, F_GETFD) != 0)
		return check_fail("fd %d: not open, or close-on-exec", fd);
	if (lseek(fd, 0, SEEK_END) != (off_t)size || size % 4096 || len > size || size - len >= 4096)
		return check_fail("fd %d: size %lld, DAXFS_DMABUF_SIZE %llu, _LENGTH %llu", fd,
				  (long long)lseek(fd, 0, SEEK_END), size, len);
	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	if (dxt_read_file(p, info, sizeof(info)) <= 0 || !strstr(info, "exp_name:\tdaxfs\n"))
		return check_fail("fd %d is not a daxfs dma-buf: %s", fd, info);
	d = opendir("/proc/self/fd");
	while (d && (e = readdir(d))) {
		ssize_t n;

		snprintf(p, sizeof(p), "/proc/self/fd/%s", e->d_name);
		n = readlink(p, link, sizeof(link) - 1);
		if (n > 0 && (link[n] = '\0', !strcmp(link, file)))
			return check_fail("%s is open here (fd %s)", file, e->d_name);
	}
	if (d)
		closedir(d);
	want = calloc(1, size);
	f = open(file, O_RDONLY | O_CLOEXEC);
	/* The buffer's bytes: the file's from off, zeros past its end (at least len of them). */
	if (!want || f < 0 || pread(f, want, size, (off_t)off) < (ssize_t)len)
		return check_fail("%s: cannot read %llu bytes at %llu", file, len, off);
	close(f);
	m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return check_fail("mmap fd %d: %s", fd, strerror(errno));
	bad = memcmp(m, want, size);
	munmap(m, size);
	free(want);
	if (bad)
		return check_fail("the buffer's bytes are not those of %s at %llu", file, off);
	printf("export-check ok size=%llu offset=%llu length=%llu file=%s\n", size, off, len, file);
	return 0;
}

/* glibc hands constructors argc and argv. */
__attribute__((constructor)) static void export_check_mode(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--export-check")) {
		int r = export_check();

		fflush(stdout);
		_exit(r);
	}
}

FIXTURE(tools) {
	char dir[64];
	char img[PATH_MAX];
	char mnt[PATH_MAX];
	char ctl[PATH_MAX];
};

FIXTURE_SETUP(tools)
{
	char dev[64];

	if (!have_exporter("heap", dev, sizeof(dev)) && !have_exporter("udmabuf", dev, sizeof(dev)) &&
	    !have_exporter("vgem", dev, sizeof(dev))) {
		ASSERT_FALSE(getenv("CI") && !strcmp(getenv("CI"), "true"));
		SKIP(return, "no dma-buf exporter at all");
	}
	IMAGE_WORKDIR("lib-tools");
	chmod(self->dir, 0755);
	dxt_build_path(self->ctl, sizeof(self->ctl), "lib/daxfsctl");
}

FIXTURE_TEARDOWN(tools)
{
	WORKDIR_TEARDOWN();
}

TEST_F(tools, daxfsctl_end_to_end)
{
	char out[16384], p[PATH_MAX], buf[256];

	{
		const char *argv[] = { self->ctl, "mount", self->img, self->mnt, NULL };

		ASSERT_EQ(0, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
		TH_LOG("%s", out);
	}
	snprintf(p, sizeof(p), "%s/hello.txt", self->mnt);
	ASSERT_LT(0, dxt_read_file(p, buf, sizeof(buf)));
	EXPECT_STREQ(HELLO, buf);
	{
		const char *argv[] = { self->ctl, "list", NULL };

		EXPECT_EQ(0, dxt_run_cmd(argv, out, sizeof(out)));
		EXPECT_NE(NULL, strstr(out, self->mnt)) TH_LOG("%s", out);
		TH_LOG("list:\n%s", out);
	}
	{
		const char *argv[] = { self->ctl, "info", self->mnt, NULL };

		EXPECT_EQ(0, dxt_run_cmd(argv, out, sizeof(out)));
		EXPECT_NE(NULL, strstr(out, "daxfs options")) TH_LOG("%s", out);
		TH_LOG("info:\n%s", out);
	}
	{
		const char *argv[] = { self->ctl, "umount", self->mnt, NULL };

		EXPECT_EQ(0, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
		EXPECT_FALSE(mountinfo_has(self->mnt, NULL));
		EXPECT_EQ(1, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("second umount: %s", out);
	}
	{
		const char *argv[] = { self->ctl, "mount", "--heap=no-such-heap", self->img, self->mnt, NULL };

		EXPECT_EQ(3, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
	}
	{
		const char *argv[] = { self->ctl, "mount", "/etc/hostname", self->mnt, NULL };

		EXPECT_EQ(4, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
	}
	{
		const char *argv[] = { self->ctl, "mount", self->img, NULL };

		EXPECT_EQ(2, dxt_run_cmd(argv, out, sizeof(out)));
	}
}

TEST_F(tools, daxfsctl_fd)
{
	char out[4096], fdarg[32], p[PATH_MAX], buf[256];
	int img = open(self->img, O_RDONLY), b;

	ASSERT_LE(0, img);
	b = daxfs_dmabuf_alloc_auto((size_t)dxt_file_size(self->img), NULL, 0);
	ASSERT_LE(0, b) TH_LOG("%s", daxfs_last_error());
	ASSERT_EQ(0, daxfs_dmabuf_fill(b, img, 0, NULL, NULL));
	close(img);
	ASSERT_EQ(0, fcntl(b, F_SETFD, 0));	/* inherited by daxfsctl */
	snprintf(fdarg, sizeof(fdarg), "--fd=%d", b);
	{
		const char *argv[] = { self->ctl, "mount", fdarg, "-o", "nodev", self->mnt, NULL };

		ASSERT_EQ(0, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
	}
	close(b);
	snprintf(p, sizeof(p), "%s/hello.txt", self->mnt);
	ASSERT_LT(0, dxt_read_file(p, buf, sizeof(buf)));
	EXPECT_TRUE(mountinfo_has(self->mnt, "nodev"));
	EXPECT_EQ(0, daxfs_umount(self->mnt));
}


TEST_F(tools, mount_helper)
{
	char out[8192], opts[PATH_MAX + 64], p[PATH_MAX], buf[256];
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int r = dxt_mount_helper_ns(self->dir);

		if (r) {
			printf("# namespace setup failed: %d %s\n", r, strerror(errno));
			_exit(10);
		}
		snprintf(opts, sizeof(opts), "image=%s,nosuid", self->img);
		{
			const char *argv[] = { "/usr/bin/mount", "-t", "daxfs", "-o", opts, "none",
					       self->mnt, NULL };

			r = dxt_run_cmd(argv, out, sizeof(out));
			if (r) {
				printf("# mount -o image=: exit %d: %s\n", r, out);
				_exit(11);
			}
		}
		snprintf(p, sizeof(p), "%s/hello.txt", self->mnt);
		if (dxt_read_file(p, buf, sizeof(buf)) <= 0 || strcmp(buf, HELLO))
			_exit(12);
		if (!mountinfo_has(self->mnt, "nosuid"))
			_exit(13);
		{
			const char *argv[] = { "/usr/bin/umount", self->mnt, NULL };

			if (dxt_run_cmd(argv, out, sizeof(out)))
				_exit(14);
		}
		/* Without image=: an import id as the source, straight to mount(2). */
		{
			struct daxfs_import imp;
			char src[64];
			int ctl = daxfs_ctl_open(), b, img = open(self->img, O_RDONLY);

			b = daxfs_dmabuf_alloc_auto((size_t)dxt_file_size(self->img), NULL, 0);
			if (ctl < 0 || b < 0 || img < 0 || daxfs_dmabuf_fill(b, img, 0, NULL, NULL) ||
			    daxfs_import(ctl, b, 0, &imp))
				_exit(15);
			snprintf(src, sizeof(src), "dmabuf:%llu", (unsigned long long)imp.id);
			const char *argv[] = { "/usr/bin/mount", "-t", "daxfs", src, self->mnt, NULL };

			r = dxt_run_cmd(argv, out, sizeof(out));
			if (r) {
				printf("# mount %s: exit %d: %s\n", src, r, out);
				_exit(16);
			}
			close(ctl);
			close(b);
			if (dxt_read_file(p, buf, sizeof(buf)) <= 0 || strcmp(buf, HELLO))
				_exit(17);
			umount2(self->mnt, 0);
		}
		_exit(0);
	}
	waitpid(pid, &status, 0);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * Start daxfs-mountd with its log (stderr) on a pipe, and return once it
 * says it listens (its socket is bound by then).  *log gets the pipe's
 * read end, non-blocking from then on, for mountd_log().
 */
static pid_t start_mountd(const char *dir, char *sock, size_t socklen, int *log)
{
	char bin[PATH_MAX], pol[PATH_MAX], sockarg[PATH_MAX + 16], polarg[PATH_MAX + 16];
	char line[4096];
	size_t got = 0;
	int p[2];
	pid_t pid;

	dxt_build_path(bin, sizeof(bin), "lib/daxfs-mountd");
	snprintf(sock, socklen, "%s/mountd.sock", dir);
	snprintf(pol, sizeof(pol), "%s/mountd.conf", dir);
	snprintf(sockarg, sizeof(sockarg), "--socket=%s", sock);
	snprintf(polarg, sizeof(polarg), "--policy=%s", pol);
	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execl(bin, bin, sockarg, polarg, "--timeout=2000", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	line[0] = '\0';
	while (!strstr(line, "listening on") && got < sizeof(line) - 1) {
		ssize_t n = read(p[0], line + got, sizeof(line) - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		line[got] = '\0';
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	*log = p[0];
	return strstr(line, "listening on") ? pid : -1;
}

/* What the daemon logged since the last call (its stderr pipe). */
static void mountd_log(int log, char *out, size_t outlen)
{
	size_t got = 0;
	ssize_t n;

	while (got < outlen - 1 && (n = read(log, out + got, outlen - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
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
	int b, img, rc, status, log;
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
	ASSERT_EQ(0, dxt_write_file(pol, text, strlen(text)));

	img = open(self->img, O_RDONLY);
	b = daxfs_dmabuf_alloc_auto((size_t)dxt_file_size(self->img), NULL, 0);
	ASSERT_LE(0, b) TH_LOG("%s", daxfs_last_error());
	ASSERT_EQ(0, daxfs_dmabuf_fill(b, img, 0, NULL, NULL));
	close(img);

	d = start_mountd(self->dir, sock, sizeof(sock), &log);
	ASSERT_LT(0, d);
	ASSERT_EQ(0, access(sock, F_OK));

	rc = client_as_nobody(sock, b, m);
	EXPECT_EQ(0, rc);
	EXPECT_TRUE(mountinfo_has(m, "nosuid,nodev"));
	snprintf(p, sizeof(p), "%s/hello.txt", m);
	EXPECT_LT(0, dxt_read_file(p, buf, sizeof(buf)));
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
	close(log);
}

/* ------------------------------------------------------------------------
 * Images the loaders must refuse before (or while) they allocate, through
 * each front end of the one pipeline (daxfs_mount_image): daxfsctl,
 * mount(8) with mount.daxfs, daxfsctl --mountd with daxfs-mountd.  Each
 * with its exact message and exit status, nothing mounted, no dma-buf
 * left, and a good image still mounting after them.
 */
enum front { DAXFSCTL, MOUNT_HELPER, MOUNTD };

struct load_case {
	const char *name;
	char file[PATH_MAX];	/* the image given */
	off_t pipe_len;		/* > 0: fed through a pipe, this many bytes of file */
	int status[3];		/* exit status per front end */
	char want[256];		/* part of the message, exact */
};

#define N_CASES 6

struct env {
	char dir[PATH_MAX], src[PATH_MAX], img[PATH_MAX], mnt[PATH_MAX];
	char ctl[PATH_MAX], sock[PATH_MAX];
	long long isz;
	struct load_case c[N_CASES];
};

static unsigned long long mem_total(void)
{
	char line[256];
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb << 10;
}

/* The bad images, in e->dir next to the fixture's good e->img. */
static int build_cases(struct env *e, char *err, size_t errlen)
{
	unsigned long long tib = 1ull << 40, big = ((mem_total() >> 30) + 2) << 30;
	char out[4096], size[32];
	struct load_case *c = e->c;
	long long isz = e->isz;

	memset(c, 0, sizeof(e->c));
	c[0].name = "truncated file";
	snprintf(c[0].file, sizeof(c[0].file), "%s/half.img", e->dir);
	if (dxt_copy_file(e->img, c[0].file, isz / 2, 0644))
		return snprintf(err, errlen, "copy %s", c[0].file), -1;
	snprintf(c[0].want, sizeof(c[0].want), "truncated: image_size %lld, file has %lld bytes", isz, isz / 2);

	c[1].name = "image_size past the file";
	snprintf(c[1].file, sizeof(c[1].file), "%s/past.img", e->dir);
	if (dxt_copy_file(e->img, c[1].file, -1, 0644) || set_image_size(c[1].file, (uint64_t)isz + (2 << 20)))
		return snprintf(err, errlen, "copy %s", c[1].file), -1;
	snprintf(c[1].want, sizeof(c[1].want), "truncated: image_size %lld, file has %lld bytes",
		 isz + (2 << 20), isz);

	c[2].name = "a 1 TiB claim in a small file";
	snprintf(c[2].file, sizeof(c[2].file), "%s/claim.img", e->dir);
	if (dxt_copy_file(e->img, c[2].file, -1, 0644) || set_image_size(c[2].file, tib))
		return snprintf(err, errlen, "copy %s", c[2].file), -1;
	snprintf(c[2].want, sizeof(c[2].want), "truncated: image_size %llu, file has %lld bytes", tib, isz);

	c[3].name = "a 1 TiB image (sparse)";
	snprintf(c[3].file, sizeof(c[3].file), "%s/tib.img", e->dir);
	if (make_sized_image(e->src, c[3].file, "1T", out, sizeof(out)))
		return snprintf(err, errlen, "mkdaxfs --size=1T: %s", out), -1;
	snprintf(c[3].want, sizeof(c[3].want), "not enough memory: the buffer needs %llu bytes, ", tib);

	c[4].name = "past the available memory";
	snprintf(c[4].file, sizeof(c[4].file), "%s/big.img", e->dir);
	snprintf(size, sizeof(size), "%lluG", big >> 30);
	if (make_sized_image(e->src, c[4].file, size, out, sizeof(out)))
		return snprintf(err, errlen, "mkdaxfs --size=%s: %s", size, out), -1;
	snprintf(c[4].want, sizeof(c[4].want), "not enough memory: the buffer needs %llu bytes, ", big);

	c[5].name = "a pipe that ends early";
	snprintf(c[5].file, sizeof(c[5].file), "%s", e->img);
	c[5].pipe_len = isz - (1 << 20);
	snprintf(c[5].want, sizeof(c[5].want), "truncated: image_size %lld, stream ended after %lld bytes",
		 isz, isz - (1 << 20));

	for (int i = 0; i < N_CASES; i++) {
		bool memory = i == 3 || i == 4;

		c[i].status[DAXFSCTL] = c[i].status[MOUNTD] = memory ? 3 : 4;
		c[i].status[MOUNT_HELPER] = memory ? 2 : 32;
	}
	return 0;
}

static int env_setup(struct env *e, const char *dir, const char *img, const char *mnt,
		     char *err, size_t errlen)
{
	snprintf(e->dir, sizeof(e->dir), "%s", dir);
	snprintf(e->src, sizeof(e->src), "%s/src", dir);
	snprintf(e->img, sizeof(e->img), "%s", img);
	snprintf(e->mnt, sizeof(e->mnt), "%s", mnt);
	dxt_build_path(e->ctl, sizeof(e->ctl), "lib/daxfsctl");
	e->isz = dxt_file_size(img);
	return build_cases(e, err, errlen);
}

/* The command line of @front for @image ("-" or /proc/self/fd/0 for a pipe). */
static void front_argv(const struct env *e, enum front front, const char *image, bool pipe,
		       const char *argv[8], char *optbuf, size_t optlen, char *sockbuf, size_t socklen)
{
	int n = 0;

	switch (front) {
	case DAXFSCTL:
	case MOUNTD:
		argv[n++] = e->ctl;
		argv[n++] = "mount";
		if (front == MOUNTD) {
			snprintf(sockbuf, socklen, "--mountd=%s", e->sock);
			argv[n++] = sockbuf;
		}
		argv[n++] = pipe ? "-" : image;
		argv[n++] = e->mnt;
		break;
	case MOUNT_HELPER:
		snprintf(optbuf, optlen, "image=%s", pipe ? "/proc/self/fd/0" : image);
		argv[n++] = "/usr/bin/mount";
		argv[n++] = "-t";
		argv[n++] = "daxfs";
		argv[n++] = "-o";
		argv[n++] = optbuf;
		argv[n++] = "none";
		argv[n++] = e->mnt;
		break;
	}
	argv[n] = NULL;
}

static const char *front_name[] = { "daxfsctl", "mount -t daxfs -o image=", "daxfsctl --mountd" };

/* One front end: every bad case, the file that shrinks, a pipe that is fine. */
static void check_front(struct __test_metadata *_metadata, struct env *e, enum front front)
{
	char out[16384], opt[PATH_MAX + 16], sockarg[PATH_MAX + 16], p[PATH_MAX], buf[256];
	const char *argv[8];
	long bufs0 = dxt_dmabuf_count();
	pid_t feeder = -1;
	int rc;

	EXPECT_LE(0, bufs0) TH_LOG("no /sys/kernel/debug/dma_buf/bufinfo");
	for (int i = 0; i < N_CASES; i++) {
		const struct load_case *c = &e->c[i];
		int in = -1;

		front_argv(e, front, c->file, c->pipe_len > 0, argv, opt, sizeof(opt), sockarg, sizeof(sockarg));
		if (c->pipe_len > 0)
			in = pipe_from_file(c->file, c->pipe_len, &feeder);
		rc = dxt_run(argv, in, out, sizeof(out));
		if (in >= 0) {
			close(in);
			waitpid(feeder, NULL, 0);
		}
		TH_LOG("%s, %s: exit %d: %s", front_name[front], c->name, rc, out);
		EXPECT_EQ(c->status[front], rc) TH_LOG("%s: %s: wrong exit status", front_name[front], c->name);
		EXPECT_NE(NULL, strstr(out, c->want)) TH_LOG("%s: %s: want \"%s\"", front_name[front], c->name, c->want);
		EXPECT_FALSE(mountinfo_has(e->mnt, NULL)) TH_LOG("%s: %s: mounted", front_name[front], c->name);
		EXPECT_EQ(bufs0, dxt_dmabuf_count()) TH_LOG("%s: %s: a dma-buf was left", front_name[front], c->name);
	}

	/* A file that shrinks during the copy: truncated by us while the loader is stopped. */
	{
		char shrink[PATH_MAX];
		char want[256];
		bool hit;

		snprintf(shrink, sizeof(shrink), "%s/shrink.img", e->dir);
		ASSERT_EQ(0, dxt_copy_file(e->img, shrink, -1, 0644));
		front_argv(e, front, shrink, false, argv, opt, sizeof(opt), sockarg, sizeof(sockarg));
		rc = run_truncating_at_sync(out, sizeof(out), argv, shrink, 1 << 20, &hit);
		TH_LOG("%s, a file that shrinks during the load: exit %d: %s", front_name[front], rc, out);
		EXPECT_TRUE(hit) TH_LOG("the loader never started the copy");
		snprintf(want, sizeof(want), "image shrank while loading: image_size %lld, only %d bytes could be read",
			 e->isz, 1 << 20);
		EXPECT_EQ(front == MOUNT_HELPER ? 32 : 4, rc);
		EXPECT_NE(NULL, strstr(out, want)) TH_LOG("want \"%s\"", want);
		EXPECT_FALSE(mountinfo_has(e->mnt, NULL));
		EXPECT_EQ(bufs0, dxt_dmabuf_count());
	}

	/* A pipe with the whole image: mounted, readable; then unmounted, nothing left. */
	{
		int in = pipe_from_file(e->img, -1, &feeder);

		front_argv(e, front, e->img, true, argv, opt, sizeof(opt), sockarg, sizeof(sockarg));
		rc = dxt_run(argv, in, out, sizeof(out));
		close(in);
		waitpid(feeder, NULL, 0);
		EXPECT_EQ(0, rc) TH_LOG("%s from a pipe: %s", front_name[front], out);
		snprintf(p, sizeof(p), "%s/hello.txt", e->mnt);
		EXPECT_LT(0, dxt_read_file(p, buf, sizeof(buf)));
		EXPECT_STREQ(HELLO, buf);
		snprintf(p, sizeof(p), "%s/sub/big.bin", e->mnt);
		EXPECT_EQ(0, check_big(p));
		EXPECT_EQ(0, daxfs_umount(e->mnt)) TH_LOG("%s", daxfs_last_error());
		EXPECT_EQ(bufs0, dxt_dmabuf_count());
	}
	/* And the file itself, after all that. */
	front_argv(e, front, e->img, false, argv, opt, sizeof(opt), sockarg, sizeof(sockarg));
	rc = dxt_run_cmd(argv, out, sizeof(out));
	EXPECT_EQ(0, rc) TH_LOG("%s: %s", front_name[front], out);
	EXPECT_TRUE(mountinfo_has(e->mnt, NULL));
	EXPECT_EQ(0, daxfs_umount(e->mnt)) TH_LOG("%s", daxfs_last_error());
}

TEST_F(tools, daxfsctl_refuses_bad_images)
{
	static struct env e;
	char err[4096];

	ASSERT_EQ(0, env_setup(&e, self->dir, self->img, self->mnt, err, sizeof(err))) TH_LOG("%s", err);
	check_front(_metadata, &e, DAXFSCTL);
}

TEST_F(tools, mount_helper_refuses_bad_images)
{
	static struct env e;
	char err[4096];
	int status;
	pid_t pid;

	ASSERT_EQ(0, env_setup(&e, self->dir, self->img, self->mnt, err, sizeof(err))) TH_LOG("%s", err);
	/* In a child: its mount namespace has our mount.daxfs in /usr/sbin. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int r = dxt_mount_helper_ns(self->dir);

		EXPECT_EQ(0, r) TH_LOG("namespace setup: %s", strerror(errno));
		if (!r)
			check_front(_metadata, &e, MOUNT_HELPER);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(tools, mountd_client_refuses_bad_images)
{
	static struct env e;
	char err[4096], pol[PATH_MAX], text[64], log[8192];
	int status, logfd;
	pid_t d;

	ASSERT_EQ(0, env_setup(&e, self->dir, self->img, self->mnt, err, sizeof(err))) TH_LOG("%s", err);
	snprintf(pol, sizeof(pol), "%s/mountd.conf", self->dir);
	snprintf(text, sizeof(text), "# root only\n");
	ASSERT_EQ(0, dxt_write_file(pol, text, strlen(text)));
	d = start_mountd(self->dir, e.sock, sizeof(e.sock), &logfd);
	ASSERT_LT(0, d);
	mountd_log(logfd, log, sizeof(log));
	check_front(_metadata, &e, MOUNTD);
	/* The refusals happened in the client: the daemon saw the two good mounts only. */
	mountd_log(logfd, log, sizeof(log));
	TH_LOG("daxfs-mountd:\n%s", log);
	{
		int mounted = 0, refused = 0;

		for (char *l = strtok(log, "\n"); l; l = strtok(NULL, "\n")) {
			mounted += strstr(l, ": mounted: uid=0 ") != NULL;
			refused += strstr(l, ": refused") != NULL;
		}
		EXPECT_EQ(2, mounted);
		EXPECT_EQ(0, refused);
	}
	EXPECT_EQ(0, kill(d, 0));
	kill(d, SIGTERM);
	waitpid(d, &status, 0);
	EXPECT_TRUE(WIFEXITED(status));
	close(logfd);
}

/*
 * The caller's memory cgroup: a limit below the image is refused with the
 * cgroup in the message, before any exporter is asked; a limit above it
 * lets the same image mount.
 */
#define CG_MNT "/tmp/lib-tools-cg"

TEST_F(tools, memory_cgroup_limit)
{
	char img[PATH_MAX], src[PATH_MAX], out[8192], err[512], cmd[4 * PATH_MAX];
	long bufs0 = dxt_dmabuf_count();
	struct dxt_memcg cg;
	int rc;

	rc = dxt_memcg_setup(&cg, CG_MNT, "daxfs-lib-tools", err, sizeof(err));
	if (rc == -ENODEV) {
		/* The debug kernel is built without cgroups (selftests/kernels/debug.config). */
		ASSERT_EQ(0, strcmp(getenv("DAXFS_KERNEL") ?: "", "debug")) TH_LOG("%s", err);
		SKIP(return, "no cgroup2 file system on this kernel");
	}
	ASSERT_EQ(0, rc) TH_LOG("%s", err);
	ASSERT_EQ(0, dxt_cg_write(cg.child, "memory.max", "33554432"));

	snprintf(src, sizeof(src), "%s/src", self->dir);
	snprintf(img, sizeof(img), "%s/64m.img", self->dir);
	ASSERT_EQ(0, make_sized_image(src, img, "64M", out, sizeof(out))) TH_LOG("%s", out);
	snprintf(cmd, sizeof(cmd), "echo 0 > %s/cgroup.procs && exec %s mount %s %s", cg.child,
		 self->ctl, img, self->mnt);
	{
		const char *argv[] = { "/bin/sh", "-c", cmd, NULL };

		rc = dxt_run_cmd(argv, out, sizeof(out));
		TH_LOG("memory.max 32M: exit %d: %s", rc, out);
		EXPECT_EQ(3, rc);
		EXPECT_NE(NULL, strstr(out, "not enough memory: the buffer needs 67108864 bytes, "));
		EXPECT_NE(NULL, strstr(out, "(cgroup /daxfs-lib-tools: memory.max 33554432, memory.current "));
		EXPECT_FALSE(mountinfo_has(self->mnt, NULL));
		EXPECT_EQ(bufs0, dxt_dmabuf_count());

		ASSERT_EQ(0, dxt_cg_write(cg.child, "memory.max", "536870912"));
		rc = dxt_run_cmd(argv, out, sizeof(out));
		EXPECT_EQ(0, rc) TH_LOG("memory.max 512M: %s", out);
		EXPECT_TRUE(mountinfo_has(self->mnt, NULL));
		EXPECT_EQ(0, daxfs_umount(self->mnt)) TH_LOG("%s", daxfs_last_error());
	}
	rc = dxt_memcg_teardown(&cg);
	EXPECT_EQ(0, rc) TH_LOG("rmdir the cgroup: %s", strerror(-rc));
}

/*
 * udmabuf refuses buffers above its size_limit_mb: with the size known (an
 * image file) daxfsctl --udmabuf raises it as root and says so; from a
 * pipe the library's error names the limit and the fix.
 */
/* A block device without DAX (a loop device) holds an image to load, like a file. */
TEST_F(tools, daxfsctl_block_device_image)
{
	char out[4096], loop[64] = "", p[PATH_MAX], buf[256];
	const char *setup[] = { "losetup", "--find", "--show", "--read-only", self->img, NULL };

	const char *modprobe[] = { "modprobe", "loop", NULL };

	dxt_run_cmd(modprobe, out, sizeof(out));	/* built in on some kernels */
	if (dxt_run_cmd(setup, out, sizeof(out)) || sscanf(out, "%63s", loop) != 1 ||
	    strncmp(loop, "/dev/loop", 9)) {
		ASSERT_FALSE(dxt_ci()) TH_LOG("CI=true: no loop device: %s", out);
		SKIP(return, "no loop device: %s", out);
	}
	{
		const char *argv[] = { self->ctl, "mount", loop, self->mnt, NULL };

		EXPECT_EQ(0, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
	}
	snprintf(p, sizeof(p), "%s/hello.txt", self->mnt);
	EXPECT_LT(0, dxt_read_file(p, buf, sizeof(buf)));
	EXPECT_STREQ(HELLO, buf);
	EXPECT_EQ(0, daxfs_umount(self->mnt)) TH_LOG("%s", daxfs_last_error());
	{
		const char *argv[] = { "losetup", "-d", loop, NULL };

		EXPECT_EQ(0, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
	}
}

/* ---- daxfsctl export ------------------------------------------------------- */

/* The fixture's image mounted (by the library, from the first exporter there is). */
#define MOUNT_FIXTURE_IMAGE() \
	ASSERT_EQ(0, daxfs_mount_image(self->img, self->mnt, NULL)) TH_LOG("%s", daxfs_last_error())

TEST_F(tools, export_exec)
{
	char out[16384], big[PATH_MAX], self_exe[PATH_MAX], want[PATH_MAX + 128];
	ssize_t n;

	MOUNT_FIXTURE_IMAGE();
	snprintf(big, sizeof(big), "%s/sub/big.bin", self->mnt);
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	ASSERT_LT(0, n);
	self_exe[n] = '\0';

	/* The whole file; a range with K suffixes and a length that is not whole pages. */
	{
		const char *argv[] = { self->ctl, "export", big, "--exec", self_exe, "--export-check",
				       NULL };

		EXPECT_EQ(0, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
		snprintf(want, sizeof(want), "export-check ok size=%u offset=0 length=%u file=%s\n",
			 BIG_SIZE, BIG_SIZE, big);
		EXPECT_STREQ(want, out);
	}
	{
		const char *argv[] = { self->ctl, "export", "--offset=8K", big, "--length", "5000",
				       "--exec", self_exe, "--export-check", NULL };

		EXPECT_EQ(0, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
		snprintf(want, sizeof(want), "export-check ok size=8192 offset=8192 length=5000 file=%s\n",
			 big);
		EXPECT_STREQ(want, out);
	}
	/* A short file: its length, its page. */
	{
		char hello[PATH_MAX];
		const char *argv[] = { self->ctl, "export", hello, "--exec", self_exe, "--export-check",
				       NULL };

		snprintf(hello, sizeof(hello), "%s/hello.txt", self->mnt);
		EXPECT_EQ(0, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
		snprintf(want, sizeof(want), "export-check ok size=4096 offset=0 length=%zu file=%s\n",
			 strlen(HELLO), hello);
		EXPECT_STREQ(want, out);
	}
	/* The command's exit status is daxfsctl's; 127 and 126 when it cannot run. */
	{
		const char *argv[] = { self->ctl, "export", big, "--exec", "/bin/sh", "-c",
				       "test -n \"$DAXFS_DMABUF_FD\" && exit 7", NULL };

		EXPECT_EQ(7, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
	}
	{
		const char *argv[] = { self->ctl, "export", big, "--exec", "/nonexistent/cmd", NULL };

		EXPECT_EQ(127, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
		EXPECT_STREQ("daxfsctl: /nonexistent/cmd: No such file or directory\n", out);
	}
	{
		const char *argv[] = { self->ctl, "export", big, "--exec", self->dir, NULL };

		EXPECT_EQ(126, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
	}
	/* Refused exports: exit 1 with the library's reason; bad command lines: 2. */
	{
		const char *argv[] = { self->ctl, "export", big, "--offset=4097", "--exec", "/bin/true",
				       NULL };

		EXPECT_EQ(1, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
		snprintf(want, sizeof(want), "daxfsctl: export: %s: offset 4097 is not a multiple "
			 "of the page size 4096\n", big);
		EXPECT_STREQ(want, out);
	}
	{
		const char *argv[] = { self->ctl, "export", self->img, "--exec", "/bin/true", NULL };

		EXPECT_EQ(1, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
		snprintf(want, sizeof(want), "daxfsctl: export: %s is not on a daxfs mount", self->img);
		EXPECT_EQ(0, strncmp(want, out, strlen(want))) TH_LOG("%s", out);
	}
	{
		const char *argv[] = { self->ctl, "export", big, "--exec", NULL };

		EXPECT_EQ(2, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
	}
	{
		const char *argv[] = { self->ctl, "export", big, "--socket=/x", "--exec", "/bin/true",
				       NULL };

		EXPECT_EQ(2, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
	}
	{
		const char *argv[] = { self->ctl, "export", big, NULL };

		EXPECT_EQ(2, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
	}
	EXPECT_EQ(0, daxfs_umount(self->mnt)) TH_LOG("%s", daxfs_last_error());
}

/* A listening Unix stream socket at @path: its fd, or -errno. */
static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 4)) {
		int e = errno;

		close(s);
		return -e;
	}
	return s;
}

/*
 * Accept one connection on @l and take what daxfsctl export --socket sends:
 * the fd (*fd) and the line, without its newline, into @line; then the end
 * of the stream.  0, or -1 with the reason in @line.
 */
static int receive_export(int l, int *fd, char *line, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c;
	struct iovec iov;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	size_t n = 0;
	ssize_t r;
	int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);

	*fd = -1;
	if (s < 0)
		return snprintf(line, len, "accept: %s", strerror(errno)), -1;
	/* The fd comes with the first byte. */
	iov.iov_base = &c;
	iov.iov_len = 1;
	r = recvmsg(s, &msg, MSG_CMSG_CLOEXEC);
	cm = CMSG_FIRSTHDR(&msg);
	if (r != 1 || !cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int))) {
		close(s);
		return snprintf(line, len, "no fd with the first byte (%zd)", r), -1;
	}
	memcpy(fd, CMSG_DATA(cm), sizeof(int));
	while (c != '\n' && n + 1 < len) {
		line[n++] = c;
		if (read(s, &c, 1) != 1) {
			close(s);
			return snprintf(line, len, "the stream ended before a newline"), -1;
		}
	}
	line[n] = '\0';
	r = read(s, &c, 1);
	close(s);
	if (r != 0)
		return snprintf(line, len, "more after the line (%zd)", r), -1;
	return 0;
}

TEST_F(tools, export_socket)
{
	char out[16384], big[PATH_MAX], sock[PATH_MAX], sockarg[PATH_MAX + 16], line[PATH_MAX * 4];
	char want[PATH_MAX + 128];
	unsigned char *m, *bytes;
	int l, fd, f;

	MOUNT_FIXTURE_IMAGE();
	snprintf(big, sizeof(big), "%s/sub/big.bin", self->mnt);
	snprintf(sock, sizeof(sock), "%s/export.sock", self->dir);
	snprintf(sockarg, sizeof(sockarg), "--socket=%s", sock);
	l = listen_at(sock);
	ASSERT_LE(0, l) TH_LOG("listen on %s: %s", sock, strerror(-l));

	/* daxfsctl connects, sends and exits before we accept: the socket queues it all. */
	{
		const char *argv[] = { self->ctl, "export", big, "--offset=1M", "--length=1M", sockarg,
				       NULL };

		ASSERT_EQ(0, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
		TH_LOG("%s", out);
	}
	ASSERT_EQ(0, receive_export(l, &fd, line, sizeof(line))) TH_LOG("%s", line);
	snprintf(want, sizeof(want), "size=1048576 offset=1048576 length=1048576 file=%s", big);
	EXPECT_STREQ(want, line);
	EXPECT_EQ(1 << 20, lseek(fd, 0, SEEK_END));
	/* The bytes through the received buffer are the file's. */
	bytes = malloc(1 << 20);
	ASSERT_NE(NULL, bytes);
	f = open(big, O_RDONLY | O_CLOEXEC);
	ASSERT_EQ(1 << 20, pread(f, bytes, 1 << 20, 1 << 20));
	close(f);
	m = mmap(NULL, 1 << 20, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(0, memcmp(m, bytes, 1 << 20));
	munmap(m, 1 << 20);
	free(bytes);
	/* It holds the mounted buffer: the mount goes, the buffer stays readable. */
	EXPECT_EQ(0, daxfs_umount(self->mnt)) TH_LOG("%s", daxfs_last_error());
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	for (size_t i = 0; i < 4096; i++)
		if (m[i] != big_byte((1 << 20) + i)) {
			EXPECT_EQ(big_byte((1 << 20) + i), m[i]) TH_LOG("byte %zu after umount", i);
			break;
		}
	munmap(m, 4096);
	close(fd);

	/* Nobody listening: exit 1, the reason. */
	close(l);
	unlink(sock);
	{
		const char *argv[] = { self->ctl, "export", big, sockarg, NULL };

		MOUNT_FIXTURE_IMAGE();
		EXPECT_EQ(1, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
		snprintf(want, sizeof(want), "daxfsctl: connect to %s: No such file or directory\n", sock);
		EXPECT_STREQ(want, out);
		EXPECT_EQ(0, daxfs_umount(self->mnt)) TH_LOG("%s", daxfs_last_error());
	}
}

/* A file whose name holds a backslash and a newline: escaped in the line, as in mountinfo. */
TEST_F(tools, export_socket_escapes)
{
	char out[8192], src[PATH_MAX], img[PATH_MAX], mnt[PATH_MAX], file[PATH_MAX], err[4096];
	char sock[PATH_MAX], sockarg[PATH_MAX + 16], line[PATH_MAX * 4], want[PATH_MAX * 4];
	int l, fd;

	snprintf(src, sizeof(src), "%s/odd-src", self->dir);
	ASSERT_EQ(0, mkdir(src, 0755));
	snprintf(file, sizeof(file), "%s/back\\slash\nnewline", src);
	ASSERT_EQ(0, dxt_write_file(file, "odd\n", 4));
	snprintf(img, sizeof(img), "%s/odd.img", self->dir);
	ASSERT_EQ(0, dxt_mkimage(img, src, NULL, err, sizeof(err))) TH_LOG("%s", err);
	snprintf(mnt, sizeof(mnt), "%s/odd-mnt", self->dir);
	ASSERT_EQ(0, mkdir(mnt, 0755));
	ASSERT_EQ(0, daxfs_mount_image(img, mnt, NULL)) TH_LOG("%s", daxfs_last_error());
	snprintf(file, sizeof(file), "%s/back\\slash\nnewline", mnt);
	snprintf(sock, sizeof(sock), "%s/odd.sock", self->dir);
	snprintf(sockarg, sizeof(sockarg), "--socket=%s", sock);
	l = listen_at(sock);
	ASSERT_LE(0, l) TH_LOG("listen on %s: %s", sock, strerror(-l));
	{
		const char *argv[] = { self->ctl, "export", file, sockarg, NULL };

		EXPECT_EQ(0, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
	}
	EXPECT_EQ(0, receive_export(l, &fd, line, sizeof(line))) TH_LOG("%s", line);
	snprintf(want, sizeof(want), "size=4096 offset=0 length=4 file=%s/back\\134slash\\012newline",
		 mnt);
	EXPECT_STREQ(want, line);
	if (fd >= 0)
		close(fd);
	close(l);
	EXPECT_EQ(0, daxfs_umount(mnt)) TH_LOG("%s", daxfs_last_error());
}

#define UDMABUF_LIMIT "/sys/module/udmabuf/parameters/size_limit_mb"

TEST_F(tools, udmabuf_size_limit)
{
	char out[8192], dev[64], old[32], src[PATH_MAX], big[PATH_MAX], cmd[4 * PATH_MAX], err[256];
	int fd;

	REQUIRE_KIND("udmabuf", dev);
	ASSERT_LT(0, dxt_read_file(UDMABUF_LIMIT, old, sizeof(old)));
	snprintf(src, sizeof(src), "%s/big-src", self->dir);
	snprintf(big, sizeof(big), "%s/big.img", self->dir);
	ASSERT_EQ(0, mkdir(src, 0755));
	snprintf(cmd, sizeof(cmd), "%s/w.safetensors", src);
	fd = open(cmd, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 12 << 20));	/* sparse: 12 MiB of zeros */
	close(fd);
	ASSERT_EQ(0, dxt_mkimage(big, src, NULL, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_LE(0, dxt_write_sysfs(UDMABUF_LIMIT, "8"));

	/* a pipe: the size is not known up front, nothing is raised */
	snprintf(cmd, sizeof(cmd), "exec %s mount --udmabuf - %s < %s", self->ctl, self->mnt, big);
	{
		const char *argv[] = { "/bin/sh", "-c", cmd, NULL };

		EXPECT_NE(0, dxt_run_cmd(argv, out, sizeof(out)));
		EXPECT_NE(NULL, strstr(out, "size_limit_mb is 8 MiB")) TH_LOG("%s", out);
		EXPECT_NE(NULL, strstr(out, "echo 13 > " UDMABUF_LIMIT)) TH_LOG("%s", out);
		EXPECT_FALSE(mountinfo_has(self->mnt, NULL));
	}
	/* the file: raised to what the image needs, said on stderr, mounted */
	{
		const char *argv[] = { self->ctl, "mount", "--udmabuf", big, self->mnt, NULL };

		EXPECT_EQ(0, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
		EXPECT_NE(NULL, strstr(out, "raised udmabuf's size_limit_mb from 8 to 13 MiB"))
			TH_LOG("%s", out);
		EXPECT_TRUE(mountinfo_has(self->mnt, NULL));
		EXPECT_EQ(0, daxfs_umount(self->mnt)) TH_LOG("%s", daxfs_last_error());
	}
	EXPECT_LE(0, dxt_write_sysfs(UDMABUF_LIMIT, old));
}

/*
 * Automatic choice: 2 MiB huge pages that are reserved and free make
 * daxfs_mount_image() take a hugetlb udmabuf first (PMD mappings); where
 * the kernel cannot import one (6.12's udmabuf vmap of hugetlb pages is
 * wrong) it mounts in the usual order and says so.  The oracle is an
 * explicit --udmabuf=hugetlb mount of the same image.  Without free huge
 * pages the choice is what it was.
 */
#define NR_HUGE "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
#define FREE_HUGE "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"

TEST_F(tools, auto_takes_free_huge_pages)
{
	char out[8192], dev[64], old[32], val[32], src[PATH_MAX], img[PATH_MAX], f[PATH_MAX];
	char err[256], *want, *got;
	const size_t len = 6 << 20;
	bool huge_ok;
	int fd;

	REQUIRE_KIND("udmabuf", dev);
	if (access(NR_HUGE, W_OK)) {
		SKIP(return, "no 2 MiB huge page pool in this kernel (%s: %s)", NR_HUGE,
		     strerror(errno));
	}
	ASSERT_EQ(0, dxt_read_sysfs(NR_HUGE, old, sizeof(old)));
	snprintf(src, sizeof(src), "%s/huge-src", self->dir);
	snprintf(img, sizeof(img), "%s/huge.img", self->dir);
	snprintf(f, sizeof(f), "%s/w.bin", src);
	ASSERT_EQ(0, mkdir(src, 0755));
	want = malloc(len);
	got = malloc(len);
	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, got);
	for (size_t i = 0; i < len; i++)
		want[i] = (char)(i * 7 + (i >> 12));
	ASSERT_EQ(0, dxt_write_file(f, want, len));
	ASSERT_EQ(0, dxt_mkimage(img, src, NULL, err, sizeof(err))) TH_LOG("%s", err);

	/* enough free pages for the image (6 MiB and metadata: 4 pages) */
	snprintf(val, sizeof(val), "%ld", strtol(old, NULL, 10) + 8);
	ASSERT_EQ(0, dxt_write_sysfs(NR_HUGE, val));
	ASSERT_EQ(0, dxt_read_sysfs(FREE_HUGE, val, sizeof(val)));
	if (strtol(val, NULL, 10) < 4) {
		dxt_write_sysfs(NR_HUGE, old);
		SKIP(return, "could not reserve 4 huge pages (free: %s)", val);
	}

	/* the oracle: can this kernel import a hugetlb udmabuf? */
	{
		const char *argv[] = { self->ctl, "mount", "--udmabuf=hugetlb", img, self->mnt, NULL };

		huge_ok = dxt_run_cmd(argv, out, sizeof(out)) == 0;
		TH_LOG("explicit hugetlb udmabuf: %s", huge_ok ? "mounted" : out);
		if (huge_ok) {
			EXPECT_EQ(0, daxfs_umount(self->mnt)) TH_LOG("%s", daxfs_last_error());
		} else {
			EXPECT_NE(NULL, strstr(out, "crc32c")) TH_LOG("%s", out);
		}
	}
	{
		const char *argv[] = { self->ctl, "mount", img, self->mnt, NULL };

		EXPECT_EQ(0, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
		if (huge_ok) {
			EXPECT_NE(NULL, strstr(out, " from udmabuf (hugetlb) at ")) TH_LOG("%s", out);
		} else {
			EXPECT_NE(NULL, strstr(out, "(udmabuf (hugetlb) refused by this kernel) at "))
				TH_LOG("%s", out);
		}
		snprintf(f, sizeof(f), "%s/w.bin", self->mnt);
		fd = open(f, O_RDONLY | O_CLOEXEC);
		EXPECT_LE(0, fd);
		if (fd >= 0) {
			EXPECT_EQ(0, dxt_read_full(fd, got, len));
			EXPECT_EQ(0, memcmp(want, got, len));
			close(fd);
		}
		EXPECT_EQ(0, daxfs_umount(self->mnt)) TH_LOG("%s", daxfs_last_error());
	}

	/* no free huge pages: the usual order, no note */
	ASSERT_EQ(0, dxt_write_sysfs(NR_HUGE, old));
	ASSERT_EQ(0, dxt_read_sysfs(FREE_HUGE, val, sizeof(val)));
	if (strtol(val, NULL, 10) * (2 << 20) < (long)len) {
		const char *argv[] = { self->ctl, "mount", img, self->mnt, NULL };

		EXPECT_EQ(0, dxt_run_cmd(argv, out, sizeof(out))) TH_LOG("%s", out);
		EXPECT_EQ(NULL, strstr(out, "hugetlb")) TH_LOG("%s", out);
		EXPECT_EQ(0, daxfs_umount(self->mnt)) TH_LOG("%s", daxfs_last_error());
	}
	free(want);
	free(got);
}

TEST_HARNESS_MAIN
