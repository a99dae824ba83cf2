// SPDX-License-Identifier: GPL-2.0
/*
 * The test bed's small helpers (see dxt_util.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/loop.h>

#include "dxt_util.h"

void dxt_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

bool dxt_ci(void)
{
	const char *c = getenv("CI");

	return c && !strcmp(c, "true");
}

size_t dxt_read_fd(int fd, char *out, size_t len)
{
	size_t used = 0;

	for (;;) {
		char tmp[1024];
		ssize_t k = read(fd, tmp, sizeof(tmp));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (out && len > 1 && used < len - 1) {
			size_t c = (size_t)k < len - 1 - used ? (size_t)k : len - 1 - used;

			memcpy(out + used, tmp, c);
			used += c;
		}
	}
	if (out && len)
		out[used] = 0;
	return used;
}

int dxt_read_full(int fd, void *p, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = read(fd, (char *)p + done, n - done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		done += k;
	}
	return 0;
}

int dxt_run(const char *const argv[], int stdin_fd, char *out, size_t len)
{
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		int in = stdin_fd >= 0 ? stdin_fd : open("/dev/null", O_RDONLY);

		dup2(in, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	dxt_read_fd(pfd[0], out, len);
	close(pfd[0]);
	return dxt_wait(pid);
}

int dxt_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int dxt_shrinker_start(struct dxt_shrinker *s, const char *path, off_t size)
{
	int g[2], d[2];

	memset(s, 0, sizeof(*s));
	s->pid = -1;
	s->go = s->done = -1;
	if (pipe(g))
		return -errno;
	if (pipe(d)) {
		close(g[0]);
		close(g[1]);
		return -errno;
	}
	s->pid = fork();
	if (s->pid == 0) {
		char c;

		close(g[1]);
		close(d[0]);
		if (read(g[0], &c, 1) != 1)
			_exit(1);
		if (truncate(path, size))
			_exit(2);
		_exit(write(d[1], "t", 1) == 1 ? 0 : 3);
	}
	close(g[0]);
	close(d[1]);
	s->go = g[1];
	s->done = d[0];
	return s->pid < 0 ? -errno : 0;
}

void dxt_shrinker_progress(uint64_t done, uint64_t total, void *arg)
{
	struct dxt_shrinker *s = arg;
	char c;

	(void)done;
	(void)total;
	if (s->calls++ == 0 && (write(s->go, "g", 1) != 1 || read(s->done, &c, 1) != 1))
		printf("# the truncating process did not answer\n");
}

int dxt_shrinker_end(struct dxt_shrinker *s)
{
	if (s->go >= 0)
		close(s->go);
	if (s->done >= 0)
		close(s->done);
	s->go = s->done = -1;
	return s->pid > 0 ? dxt_wait(s->pid) : -1;
}

/* One read(2) (sysfs attributes come whole): the bytes read, or -errno. */
static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;
	ssize_t k;

	if (fd < 0)
		return -errno;
	k = read(fd, buf, len - 1);
	e = errno;		/* close() may change it */
	close(fd);
	buf[k < 0 ? 0 : k] = 0;
	return k < 0 ? -e : (int)k;
}

int dxt_read_file(const char *path, char *buf, size_t len)
{
	return read_small(path, buf, len);
}

int dxt_read_sysfs(const char *path, char *buf, size_t len)
{
	int k = read_small(path, buf, len);

	if (k < 0)
		return k;
	while (k > 0 && buf[k - 1] == '\n')
		buf[--k] = 0;
	return 0;
}

static int write_small(const char *path, int flags, const void *p, size_t n)
{
	int fd = open(path, flags | O_CLOEXEC, 0644), r = 0;
	ssize_t w;

	if (fd < 0)
		return -errno;
	w = write(fd, p, n);
	if (w < 0)
		r = -errno;
	else if ((size_t)w != n)
		r = -EIO;
	close(fd);
	return r;
}

int dxt_write_sysfs(const char *path, const char *val)
{
	return write_small(path, O_WRONLY, val, strlen(val));
}

int dxt_write_file(const char *path, const void *p, size_t n)
{
	return write_small(path, O_WRONLY | O_CREAT | O_TRUNC, p, n);
}

long dxt_meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	size_t kl = strlen(key);
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl)) {
			v = atol(line + kl);
			break;
		}
	fclose(f);
	return v;
}

long dxt_dmabuf_count(void)
{
	FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "re");
	char line[512];
	long n = -1;

	if (!f)
		return -1;
	/*
	 * The last line is "Total N objects, M bytes"; every buffer's entry
	 * has a "Total N devices attached" line first, which a plain
	 * sscanf("Total %ld objects") would take (it stops at the first
	 * mismatch after the number): require the whole word.
	 */
	while (fgets(line, sizeof(line), f)) {
		long v;
		int end = 0;

		if (sscanf(line, "Total %ld objects%n", &v, &end) == 1 && end > 0) {
			n = v;
			break;
		}
	}
	fclose(f);
	return n;
}

off_t dxt_file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -errno : st.st_size;
}

void *dxt_map_file(const char *path, size_t *len)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || st.st_size <= 0) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	*len = st.st_size;
	return p;
}

int dxt_open_sized(const char *path, off_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;

	if (fd < 0 || !fstat(fd, &st)) {
		if (fd >= 0)
			*size = st.st_size;
		return fd < 0 ? -errno : fd;
	}
	e = errno;
	close(fd);
	return -e;
}

int dxt_close_file(int fd, mode_t mode, int r)
{
	if (fchmod(fd, mode) && !r)	/* umask-proof */
		r = -errno;
	close(fd);
	return r;
}

int dxt_slurp(const char *path, uint8_t **out, size_t *outlen)
{
	off_t size;
	uint8_t *b;
	int fd = dxt_open_sized(path, &size), r;

	if (fd < 0)
		return fd;
	b = malloc(size ? size : 1);
	r = b ? dxt_read_full(fd, b, size) : -ENOMEM;
	close(fd);
	if (r) {
		free(b);
		return r;
	}
	*out = b;
	*outlen = size;
	return 0;
}

int dxt_copy_file(const char *from, const char *to, off_t max, mode_t mode)
{
	char buf[1 << 16];
	int in, out, r = 0;
	off_t done = 0;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	while (max < 0 || done < max) {
		size_t want = max < 0 || max - done > (off_t)sizeof(buf) ?
			      sizeof(buf) : (size_t)(max - done);
		ssize_t k = read(in, buf, want);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			r = -errno;
		if (k <= 0)
			break;
		if (write(out, buf, k) != k) {
			r = -EIO;
			break;
		}
		done += k;
	}
	close(in);
	return dxt_close_file(out, mode, r);
}

static int rm_failed;

/* Goes on past a failure (removes what it can), remembers it. */
static int rm_cb(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st; (void)ftw;
	if ((type == FTW_DP ? rmdir(p) : unlink(p)) && errno != ENOENT)
		rm_failed = 1;
	return 0;
}

int dxt_rm_rf(const char *path)
{
	rm_failed = 0;
	if (nftw(path, rm_cb, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT))
		return -1;
	return rm_failed ? -1 : 0;
}

int dxt_make_workdir(const char *prefix, char *out, size_t len)
{
	snprintf(out, len, "/tmp/%s.XXXXXX", prefix);
	return mkdtemp(out) ? 0 : -errno;
}

int dxt_cg_write(const char *dir, const char *file, const char *val)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return dxt_write_sysfs(p, val);
}

long long dxt_cg_read(const char *dir, const char *file)
{
	char p[PATH_MAX], b[64];

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return dxt_read_sysfs(p, b, sizeof(b)) ? -1 : atoll(b);
}

int dxt_memcg_setup(struct dxt_memcg *cg, const char *mnt, const char *name,
		    char *err, size_t len)
{
	char p[PATH_MAX], ctl[512];
	struct stat st;
	int r;

	memset(cg, 0, sizeof(*cg));
	snprintf(cg->root, sizeof(cg->root), "/sys/fs/cgroup");
	if (stat("/sys/fs/cgroup/cgroup.controllers", &st)) {
		mkdir(mnt, 0755);
		if (mount("cgroup2", mnt, "cgroup2", 0, NULL)) {
			r = -errno;
			rmdir(mnt);
			snprintf(err, len, "mount cgroup2 on %s: %s", mnt, strerror(-r));
			return r;
		}
		cg->mounted = true;
		snprintf(cg->root, sizeof(cg->root), "%s", mnt);
	}
	snprintf(cg->child, sizeof(cg->child), "%s/%s", cg->root, name);
	snprintf(p, sizeof(p), "%s/cgroup.subtree_control", cg->root);
	if (dxt_read_sysfs(p, ctl, sizeof(ctl)) || !strstr(ctl, "memory")) {
		r = dxt_cg_write(cg->root, "cgroup.subtree_control", "+memory");
		if (r) {
			snprintf(err, len, "enable memory in %s: %s", cg->root, strerror(-r));
			goto fail;
		}
		cg->enabled = true;
	}
	if (mkdir(cg->child, 0755) && errno != EEXIST) {
		r = -errno;
		snprintf(err, len, "mkdir %s: %s", cg->child, strerror(-r));
		goto fail;
	}
	return 0;
fail:
	dxt_memcg_teardown(cg);
	return r;
}

int dxt_memcg_teardown(struct dxt_memcg *cg)
{
	int r = 0;

	if (cg->child[0] && rmdir(cg->child))
		r = -errno;
	cg->child[0] = 0;
	if (cg->enabled)
		dxt_cg_write(cg->root, "cgroup.subtree_control", "-memory");
	cg->enabled = false;
	if (cg->mounted) {
		umount2(cg->root, 0);
		rmdir(cg->root);
	}
	cg->mounted = false;
	return r;
}

/*
 * The source tree: $DAXFS_SRC, else the tree this test binary was built in,
 * found from /proc/self/exe (build/vmtests/NAME: two levels up; the first
 * ancestor that holds format/daxfs_format.h, so that the ASan twins in
 * build/selftests/driver/san/ find it too).  Neither: a message and exit 2.
 */
const char *dxt_src_dir(void)
{
	static char dir[PATH_MAX];
	const char *s = getenv("DAXFS_SRC");
	char probe[PATH_MAX + 32];
	ssize_t n;

	if (s && *s)
		return s;
	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n > 0) {
		char *slash;

		dir[n] = '\0';
		while ((slash = strrchr(dir, '/')) && slash != dir) {
			*slash = '\0';
			snprintf(probe, sizeof(probe), "%s/format/daxfs_format.h", dir);
			if (access(probe, F_OK) == 0)
				return dir;
		}
	}
	fprintf(stderr, "dxt: DAXFS_SRC is not set and no source tree (one with "
		"format/daxfs_format.h) holds this program (/proc/self/exe: %s); "
		"set DAXFS_SRC to the daxfs-dmabuf tree\n",
		n > 0 ? "not below one" : strerror(errno));
	dir[0] = '\0';
	exit(2);
}

void dxt_build_path(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/build/%s", dxt_src_dir(), rel);
}

const char *dxt_mkdaxfs_path(void)
{
	static char p[PATH_MAX];
	const char *e = getenv("DAXFS_MKDAXFS");

	if (e && *e)
		return e;
	dxt_build_path(p, sizeof(p), "tools/mkdaxfs");
	return p;
}

int dxt_mkimage(const char *img, const char *src, const char *const *opts, char *err, size_t len)
{
	const char *argv[32];
	char out[2048];
	int n = 0, r;

	argv[n++] = dxt_mkdaxfs_path();
	for (; opts && *opts && n < 28; opts++)
		argv[n++] = *opts;
	argv[n++] = img;
	argv[n++] = src;
	argv[n] = NULL;
	if (access(argv[0], X_OK)) {
		if (err)
			snprintf(err, len, "%s: %s (is mkdaxfs built? make -C tools)",
				 argv[0], strerror(errno));
		return -1;
	}
	r = dxt_run_cmd(argv, out, sizeof(out));
	if (r) {
		if (err)
			snprintf(err, len, "%s %s %s: exit %d: %s", argv[0], img, src, r, out);
		return -1;
	}
	return 0;
}

/*
 * mount(8) runs /sbin/mount.TYPE (on Debian /usr/sbin); the guest's root is
 * read-only, so in a new private mount namespace bind a directory over
 * /usr/sbin that holds links to every original entry plus this tree's
 * build/lib/mount.daxfs (in place of any installed one: the tests are of
 * this tree's helper).  DIR is a scratch directory.  0, or a negative step
 * number.
 */
int dxt_mount_helper_ns(const char *dir)
{
	char orig[PATH_MAX], farm[PATH_MAX], p[2 * PATH_MAX], q[2 * PATH_MAX], helper[PATH_MAX];
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
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "mount.daxfs"))
			continue;
		snprintf(p, sizeof(p), "%s/%s", orig, e->d_name);
		snprintf(q, sizeof(q), "%s/%s", farm, e->d_name);
		if (symlink(p, q)) {
			closedir(d);
			return -3;
		}
	}
	if (d)
		closedir(d);
	dxt_build_path(helper, sizeof(helper), "lib/mount.daxfs");
	snprintf(q, sizeof(q), "%s/mount.daxfs", farm);
	if (symlink(helper, q))
		return -4;
	if (mount(farm, "/usr/sbin", NULL, MS_BIND, NULL))
		return -5;
	return 0;
}

int dxt_loop_open(const char *backing, int flags, char *err, size_t len)
{
	struct loop_config lc = { .block_size = 512 };
	int ctl, n, fd, bfd, e;
	char dev[32];

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		const char *const argv[] = { "modprobe", "-q", "loop", NULL };

		dxt_run_cmd(argv, NULL, 0);
		ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	}
	if (ctl < 0) {
		e = -errno;
		snprintf(err, len, "/dev/loop-control: %s", strerror(errno));
		return e;
	}
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	e = -errno;
	close(ctl);
	if (n < 0) {
		snprintf(err, len, "LOOP_CTL_GET_FREE: %s", strerror(-e));
		return e;
	}
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	bfd = open(backing, O_RDWR | O_CLOEXEC);
	if (bfd < 0) {
		e = -errno;
		snprintf(err, len, "%s: %s", backing, strerror(errno));
		return e;
	}
	fd = open(dev, flags | O_CLOEXEC);
	if (fd < 0) {
		e = -errno;
		snprintf(err, len, "%s: %s", dev, strerror(errno));
		close(bfd);
		return e;
	}
	lc.fd = bfd;
	lc.info.lo_flags = LO_FLAGS_AUTOCLEAR;
	if (ioctl(fd, LOOP_CONFIGURE, &lc)) {
		e = -errno;
		snprintf(err, len, "LOOP_CONFIGURE %s: %s", dev, strerror(errno));
		close(fd);
		close(bfd);
		return e;
	}
	close(bfd);
	return fd;
}
