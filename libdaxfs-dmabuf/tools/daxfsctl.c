// SPDX-License-Identifier: GPL-2.0
/*
 * daxfsctl - load daxfs images into dma-bufs, mount, unmount and inspect
 * them, and hand a file of a mount on as a dma-buf.  See daxfsctl(8).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "tool.h"

enum {
	EX_OK = 0,
	EX_FAIL = 1,		/* the operation failed (kernel refused, not mounted, ...) */
	EX_USAGE = 2,		/* bad command line */
	EX_NOEXPORTER = 3,	/* no dma-buf exporter could allocate the buffer */
	EX_IMAGE = 4,		/* the image file cannot be read or is not a daxfs image */
};

static const char *prog = "daxfsctl";

static void usage(FILE *f)
{
	fprintf(f,
"usage: daxfsctl mount IMAGE|- MOUNTPOINT [--heap=NAME | --udmabuf[=hugetlb] | --drm=DEVICE]\n"
"                      [--offset=N] [-o OPTIONS] [--mountd[=SOCKET]]\n"
"       daxfsctl mount --fd=N MOUNTPOINT [--offset=N] [-o OPTIONS] [--mountd[=SOCKET]]\n"
"       daxfsctl mount DEVICE MOUNTPOINT [--offset=N] [-o OPTIONS]\n"
"       daxfsctl umount MOUNTPOINT\n"
"       daxfsctl list\n"
"       daxfsctl info MOUNTPOINT\n"
"       daxfsctl export FILE [--offset=N] [--length=N] --exec CMD [ARG...]\n"
"       daxfsctl export FILE [--offset=N] [--length=N] --socket=PATH\n"
"       daxfsctl --help | --version\n"
"\n"
"IMAGE is validated before anything is allocated; - reads it from standard\n"
"input.  Without an exporter option the buffer comes from DMA heap \"system\",\n"
"else /dev/udmabuf, else the first DRM card that can export.  OPTIONS are\n"
"mount(8) style: nosuid, nodev, noexec, noatime, ... and file system options.\n"
"Exit status: 0 ok, 1 failed, 2 usage, 3 no buffer (no exporter, not enough\n"
"memory), 4 bad image (unreadable, not daxfs, invalid, truncated).\n"
"DEVICE, a device-dax character device (/dev/daxX.Y) or a DAX block device\n"
"(/dev/pmemN), holds the image itself and is mounted in place.\n"
"export makes the bytes [N, N + length) of FILE, a file of a daxfs mount of a\n"
"dma-buf, a new read-only dma-buf of the mounted buffer's own pages (length 0,\n"
"the default: to the end of the file; N page-aligned; K, M, G suffixes).\n"
"--exec runs CMD with it open and DAXFS_DMABUF_FD, DAXFS_DMABUF_SIZE,\n"
"DAXFS_DMABUF_OFFSET, DAXFS_DMABUF_LENGTH and DAXFS_DMABUF_FILE in its\n"
"environment, and exits with CMD's status (126, 127: CMD could not be run).\n"
"--socket connects to the Unix stream socket PATH and sends the fd\n"
"(SCM_RIGHTS) with the line \"size=S offset=N length=L file=FILE\\n\".\n");
}

static int die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

struct progress {
	const char *name;
	int last;
	bool tty;
};

static void show_progress(uint64_t done, uint64_t total, void *arg)
{
	struct progress *p = arg;
	int pct = total ? (int)(done * 100 / total) : 100;
	char bar[41];

	if (!p->tty || pct == p->last)
		return;
	p->last = pct;
	memset(bar, ' ', 40);
	memset(bar, '#', (size_t)(pct * 40 / 100));
	bar[40] = '\0';
	fprintf(stderr, "\rloading %s [%s] %3d%% %" PRIu64 "/%" PRIu64 " MiB", p->name, bar, pct,
		done >> 20, total >> 20);
	if (done == total)
		fputc('\n', stderr);
	fflush(stderr);
}

/* The exit status for a failure of daxfs_mount_image() at @stage. */
static int stage_status(unsigned int stage)
{
	switch (stage) {
	case DAXFS_STAGE_ARGS: return EX_USAGE;
	case DAXFS_STAGE_IMAGE: return EX_IMAGE;
	case DAXFS_STAGE_MEMORY:
	case DAXFS_STAGE_ALLOC: return EX_NOEXPORTER;
	default: return EX_FAIL;
	}
}

static int do_mount_image(const char *image, const char *mnt, const struct daxfs_parsed_opts *po,
			  const char *mountd)
{
	struct daxfs_load_info info = { .size = sizeof(info) };
	struct progress pr = { .last = -1 };
	struct daxfs_load_opts lo;
	const char *path = strcmp(image, "-") ? image : "/proc/self/fd/0";
	const char *shown = strcmp(image, "-") ? image : "standard input";

	daxfs__load_opts_from_parsed(po, &lo);
	pr.name = shown;
	pr.tty = isatty(STDERR_FILENO);
	lo.progress = show_progress;
	lo.progress_arg = &pr;
	lo.info = &info;
	if (mountd) {
		lo.flags |= DAXFS_LOAD_MOUNTD;
		lo.mountd_socket = *mountd ? mountd : NULL;
	}
	if (daxfs_mount_image(path, mnt, &lo) == 0) {
		printf("mounted %s (%" PRIu64 " bytes, label \"%s\") from %s at %s\n", shown,
		       info.desc.image_size, info.desc.label, info.exporter, mnt);
		return EX_OK;
	}
	if (pr.tty && pr.last >= 0 && pr.last < 100)
		fputc('\n', stderr);	/* end the progress line */
	switch (info.stage) {
	case DAXFS_STAGE_ALLOC:
		return die(EX_NOEXPORTER, "allocate %" PRIu64 " bytes: %s", info.buffer_size,
			   daxfs_last_error());
	case DAXFS_STAGE_FILL:
		return die(EX_FAIL, "load %s: %s", shown, daxfs_last_error());
	case DAXFS_STAGE_MOUNT:
		return die(EX_FAIL, "mount on %s: %s", mnt, daxfs_last_error());
	default:
		return die(stage_status(info.stage), "%s: %s", shown, daxfs_last_error());
	}
}

static int do_mount_fd(int fd, const char *mnt, const struct daxfs_parsed_opts *po,
		       const char *mountd)
{
	struct daxfs_mount_opts mo = { .size = sizeof(mo) };
	int r;

	mo.offset = po->offset;
	mo.flags = po->flags & ~(unsigned long)MS_RDONLY;
	mo.options = po->kernel[0] ? po->kernel : NULL;
	if (mountd)
		r = daxfs_mountd_request(*mountd ? mountd : NULL, fd, mnt, &mo);
	else
		r = daxfs_mount_dmabuf_opts(fd, mnt, &mo);
	if (r)
		return die(EX_FAIL, "mount on %s: %s", mnt, daxfs_last_error());
	return EX_OK;
}

static int do_mount_device(const char *dev, const char *mnt, const struct daxfs_parsed_opts *po)
{
	struct daxfs_mount_opts mo;

	daxfs__mount_opts_from_parsed(po, &mo);
	if (daxfs_mount_device(dev, mnt, &mo))
		return die(EX_FAIL, "mount %s on %s: %s", dev, mnt, daxfs_last_error());
	printf("mounted %s at %s\n", dev, mnt);
	return EX_OK;
}

/* Is @path a device node (a DAX device to mount in place)? */
/* Does the block device @rdev support DAX (its queue's, or its disk's)? */
static bool blk_dax(dev_t rdev)
{
	char p[96], v[8];

	snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/queue/dax", major(rdev), minor(rdev));
	if (daxfs__read_small(p, v, sizeof(v)) <= 0) {
		snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/../queue/dax",
			 major(rdev), minor(rdev));
		if (daxfs__read_small(p, v, sizeof(v)) <= 0)
			return false;
	}
	return v[0] == '1';
}

/*
 * Is @path a device that holds the image in place: a device-dax character
 * device, or a DAX-capable block device?  Any other block device holds an
 * image to load into a buffer, like a file.
 */
static bool is_device(const char *path)
{
	struct stat st;

	if (!strcmp(path, "-") || stat(path, &st))
		return false;
	return S_ISCHR(st.st_mode) || (S_ISBLK(st.st_mode) && blk_dax(st.st_rdev));
}

/*
 * --udmabuf as root: udmabuf refuses buffers above its size_limit_mb (64 MiB
 * by default); raise it to what IMAGE needs, saying so.  Without root, or
 * when the size is not known up front (a pipe), the library's error names
 * the limit and the fix.
 */
static void udmabuf_fit(const char *image, bool hugetlb)
{
	uint64_t limit = daxfs__udmabuf_limit_mb(), need, unit = hugetlb ? 2 : 1;
	struct stat st;
	char val[32];
	int fd;

	if (!limit || geteuid() != 0 || !strcmp(image, "-") || stat(image, &st) ||
	    !S_ISREG(st.st_mode))
		return;
	need = ((uint64_t)st.st_size + (unit << 20) - 1) / (unit << 20) * unit;
	if (need <= limit)
		return;
	fd = open(DAXFS_UDMABUF_LIMIT, O_WRONLY | O_CLOEXEC);
	snprintf(val, sizeof(val), "%llu\n", (unsigned long long)need);
	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		fprintf(stderr, "%s: cannot raise udmabuf's size_limit_mb from %llu to %llu MiB: %s\n",
			prog, (unsigned long long)limit, (unsigned long long)need,
			strerror(errno));
	else
		fprintf(stderr, "%s: raised udmabuf's size_limit_mb from %llu to %llu MiB for %s\n",
			prog, (unsigned long long)limit, (unsigned long long)need, image);
	if (fd >= 0)
		close(fd);
}

static int cmd_mount(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "heap", required_argument, NULL, 'H' },
		{ "udmabuf", optional_argument, NULL, 'U' },
		{ "drm", required_argument, NULL, 'D' },
		{ "fd", required_argument, NULL, 'F' },
		{ "offset", required_argument, NULL, 'O' },
		{ "options", required_argument, NULL, 'o' },
		{ "mountd", optional_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daxfs_parsed_opts po;
	const char *mountd = NULL;
	char opts[DAXFS_OPT_MAX] = "", *end;
	long fdnum = -1;
	uint64_t offset = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		char add[DAXFS_OPT_MAX];

		add[0] = '\0';
		switch (c) {
		case 'H': snprintf(add, sizeof(add), "heap=%s", optarg); break;
		case 'U': snprintf(add, sizeof(add), "udmabuf%s%s", optarg ? "=" : "",
				   optarg ? optarg : ""); break;
		case 'D': snprintf(add, sizeof(add), "drm=%s", optarg); break;
		case 'O':
			if (daxfs__parse_u64(optarg, &offset))
				return die(EX_USAGE, "bad --offset: %s", optarg);
			break;
		case 'o': daxfs__strlcpy(add, optarg, sizeof(add)); break;
		case 'F':
			errno = 0;
			fdnum = strtol(optarg, &end, 10);
			if (errno || *end || fdnum < 0 || fdnum > INT_MAX)
				return die(EX_USAGE, "bad --fd: %s", optarg);
			break;
		case 'M': mountd = optarg ? optarg : ""; break;
		case 'h': usage(stdout); return EX_OK;
		default: usage(stderr); return EX_USAGE;
		}
		if (add[0]) {
			if (strlen(opts) + strlen(add) + 2 > sizeof(opts))
				return die(EX_USAGE, "options too long");
			if (opts[0])
				strcat(opts, ",");
			strcat(opts, add);
		}
	}
	/* Exporter options need image= to parse; give a placeholder. */
	{
		char full[DAXFS_OPT_MAX + 16];

		snprintf(full, sizeof(full), "%s%simage=-", opts, opts[0] ? "," : "");
		if (daxfs__parse_mount_options(full, &po))
			return die(EX_USAGE, "%s", daxfs_last_error());
	}
	if (po.has_offset && !offset)
		offset = po.offset;
	po.offset = offset;
	if (po.rw)
		fprintf(stderr, "%s: daxfs is read-only; mounting read-only\n", prog);

	if (fdnum >= 0) {
		if (argc - optind != 1) {
			usage(stderr);
			return EX_USAGE;
		}
		if (po.exporter != DAXFS_EXPORTER_AUTO)
			return die(EX_USAGE, "--fd and an exporter option exclude each other");
		if (fcntl((int)fdnum, F_GETFD) < 0)
			return die(EX_USAGE, "--fd=%ld: %s", fdnum, strerror(errno));
		return do_mount_fd((int)fdnum, argv[optind], &po, mountd);
	}
	if (argc - optind != 2) {
		usage(stderr);
		return EX_USAGE;
	}
	if (is_device(argv[optind])) {
		if (po.exporter != DAXFS_EXPORTER_AUTO)
			return die(EX_USAGE, "%s is a device: it needs no exporter option",
				   argv[optind]);
		if (mountd)
			return die(EX_USAGE, "%s is a device: daxfs-mountd mounts dma-bufs only",
				   argv[optind]);
		return do_mount_device(argv[optind], argv[optind + 1], &po);
	}
	if (po.exporter == DAXFS_EXPORTER_UDMABUF && !mountd)
		udmabuf_fit(argv[optind], po.hugetlb);
	return do_mount_image(argv[optind], argv[optind + 1], &po, mountd);
}

static int cmd_umount(int argc, char **argv)
{
	if (argc != 2) {
		usage(stderr);
		return EX_USAGE;
	}
	if (daxfs_umount(argv[1]))
		return die(EX_FAIL, "%s", daxfs_last_error());
	return EX_OK;
}

static FILE *open_mountinfo(void)
{
	return fopen("/proc/self/mountinfo", "re");
}

static bool find_mount(const char *mnt, struct daxfs_mountinfo *out)
{
	char line[8192], real[PATH_MAX];
	struct daxfs_mountinfo mi;
	bool found = false;
	FILE *f;

	if (!realpath(mnt, real))
		daxfs__strlcpy(real, mnt, sizeof(real));
	f = open_mountinfo();
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (daxfs__mountinfo_parse_line(line, &mi) == 0 && !strcmp(mi.mountpoint, real) &&
		    !strcmp(mi.fstype, "daxfs")) {
			*out = mi;	/* the last one is the top of the stack */
			found = true;
		}
	}
	fclose(f);
	return found;
}

static void print_statfs(const char *mnt, const char *indent)
{
	struct statfs sf;

	if (statfs(mnt, &sf) == 0)
		printf("%ssize %llu bytes, %llu blocks of %ld, %llu files\n", indent,
		       (unsigned long long)sf.f_blocks * (unsigned long long)sf.f_bsize,
		       (unsigned long long)sf.f_blocks, (long)sf.f_bsize,
		       (unsigned long long)sf.f_files);
}

static int cmd_list(int argc, char **argv)
{
	char line[8192];
	struct daxfs_mountinfo mi;
	int n = 0;
	DIR *d;
	FILE *f;

	(void)argv;
	if (argc != 1) {
		usage(stderr);
		return EX_USAGE;
	}
	f = open_mountinfo();
	if (!f)
		return die(EX_FAIL, "/proc/self/mountinfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (daxfs__mountinfo_parse_line(line, &mi) || strcmp(mi.fstype, "daxfs"))
			continue;
		n++;
		printf("%s\n  source %s\n  mount options %s\n  daxfs options %s\n", mi.mountpoint,
		       mi.source, mi.mnt_opts, mi.super_opts);
		print_statfs(mi.mountpoint, "  ");
	}
	fclose(f);
	if (!n)
		printf("no daxfs mounts\n");
	/*
	 * Imports that are not mounted belong to an open /dev/daxfs file; we
	 * cannot list another file's imports, but we can say who holds one.
	 */
	d = opendir("/proc");
	while (d) {
		struct dirent *e = readdir(d);
		char p[300], t[PATH_MAX];
		DIR *fdd;

		if (!e)
			break;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/fd", e->d_name);
		fdd = opendir(p);
		while (fdd) {
			struct dirent *fe = readdir(fdd);
			char lp[600];
			ssize_t l;

			if (!fe)
				break;
			snprintf(lp, sizeof(lp), "%s/%s", p, fe->d_name);
			l = readlink(lp, t, sizeof(t) - 1);
			if (l <= 0)
				continue;
			t[l] = '\0';
			if (!strcmp(t, "/dev/daxfs")) {
				char comm[64] = "?";
				FILE *cf;

				snprintf(lp, sizeof(lp), "/proc/%s/comm", e->d_name);
				cf = fopen(lp, "re");
				if (cf) {
					if (fgets(comm, sizeof(comm), cf))
						comm[strcspn(comm, "\n")] = '\0';
					fclose(cf);
				}
				printf("import holder: pid %s (%s) has /dev/daxfs open (fd %s)\n",
				       e->d_name, comm, fe->d_name);
			}
		}
		if (fdd)
			closedir(fdd);
	}
	if (d)
		closedir(d);
	return EX_OK;
}

static int cmd_info(int argc, char **argv)
{
	struct daxfs_mountinfo mi;
	struct statfs sf;

	if (argc != 2) {
		usage(stderr);
		return EX_USAGE;
	}
	if (statfs(argv[1], &sf) < 0)
		return die(EX_FAIL, "%s: %s", argv[1], strerror(errno));
	if ((uint32_t)sf.f_type != DAXFS_FS_MAGIC)
		return die(EX_FAIL, "%s is not on daxfs", argv[1]);
	printf("%s\n", argv[1]);
	if (find_mount(argv[1], &mi))
		printf("  mount id %d, device %u:%u\n  source %s\n  mount options %s\n"
		       "  daxfs options %s\n", mi.mount_id, mi.major, mi.minor, mi.source,
		       mi.mnt_opts, mi.super_opts);
	else
		printf("  (not the root of a daxfs mount)\n");
	print_statfs(argv[1], "  ");
	printf("  free %llu blocks, name max %ld\n", (unsigned long long)sf.f_bfree,
	       (long)sf.f_namelen);
	return EX_OK;
}

/* What export hands on besides the fd. */
struct export_desc {
	uint64_t size;		/* of the dma-buf */
	uint64_t offset;	/* in the file */
	uint64_t length;	/* the file's bytes in it (the rest of its last page is padding) */
	char file[PATH_MAX];	/* absolute */
};

/* --exec: CMD with the buffer open (not close-on-exec) and described in its environment. */
static int export_exec(int buf, const struct export_desc *d, char **cmd)
{
	char v[32];
	int e;

	if (fcntl(buf, F_SETFD, 0))
		return die(EX_FAIL, "fcntl: %s", strerror(errno));
	snprintf(v, sizeof(v), "%d", buf);
	setenv("DAXFS_DMABUF_FD", v, 1);
	snprintf(v, sizeof(v), "%" PRIu64, d->size);
	setenv("DAXFS_DMABUF_SIZE", v, 1);
	snprintf(v, sizeof(v), "%" PRIu64, d->offset);
	setenv("DAXFS_DMABUF_OFFSET", v, 1);
	snprintf(v, sizeof(v), "%" PRIu64, d->length);
	setenv("DAXFS_DMABUF_LENGTH", v, 1);
	setenv("DAXFS_DMABUF_FILE", d->file, 1);
	fflush(NULL);
	execvp(cmd[0], cmd);
	e = errno;
	return die(e == ENOENT ? 127 : 126, "%s: %s", cmd[0], strerror(e));
}

/*
 * --socket: the fd (SCM_RIGHTS, with the line's first byte) and the line
 * "size=S offset=N length=L file=FILE\n"; in FILE a backslash and a newline
 * are written \134 and \012, as in /proc/self/mountinfo.
 */
static int export_send(int buf, const struct export_desc *d, const char *path)
{
	char line[PATH_MAX * 4 + 128], cbuf[CMSG_SPACE(sizeof(int))];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct iovec iov;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	size_t len, done = 0;
	int s;

	if (strlen(path) >= sizeof(sa.sun_path))
		return die(EX_USAGE, "--socket: %s is longer than a socket path may be (%zu)",
			   path, sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	len = (size_t)snprintf(line, sizeof(line), "size=%" PRIu64 " offset=%" PRIu64
			       " length=%" PRIu64 " file=", d->size, d->offset, d->length);
	for (const char *p = d->file; *p; p++) {
		if (*p == '\\' || *p == '\n')
			len += (size_t)snprintf(line + len, sizeof(line) - len, "\\%03o",
						(unsigned char)*p);
		else
			line[len++] = *p;
	}
	line[len++] = '\n';

	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return die(EX_FAIL, "socket: %s", strerror(errno));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		close(s);
		return die(EX_FAIL, "connect to %s: %s", path, strerror(e));
	}
	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &buf, sizeof(int));
	while (done < len) {
		ssize_t n;

		iov.iov_base = line + done;
		iov.iov_len = len - done;
		n = sendmsg(s, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EPIPE;

			close(s);
			return die(EX_FAIL, "send to %s: %s", path, strerror(e));
		}
		done += (size_t)n;
		msg.msg_control = NULL;	/* the fd goes once, with the first byte */
		msg.msg_controllen = 0;
	}
	close(s);
	printf("sent %s [%" PRIu64 ", +%" PRIu64 "), a dma-buf of %" PRIu64 " bytes, to %s\n",
	       d->file, d->offset, d->length, d->size, path);
	return EX_OK;
}

static int cmd_export(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "offset", required_argument, NULL, 'O' },
		{ "length", required_argument, NULL, 'L' },
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct export_desc d = { 0 };
	const char *sock = NULL, *file;
	char **cmd = NULL;
	uint64_t length = 0;
	struct stat st;
	int front = argc, c, buf, r;

	/* Everything after --exec is the command, options of daxfsctl come before it. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--exec")) {
			front = i;
			cmd = argv + i + 1;
			break;
		}
	}
	optind = 1;
	while ((c = getopt_long(front, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'O':
			if (daxfs__parse_u64(optarg, &d.offset))
				return die(EX_USAGE, "bad --offset: %s", optarg);
			break;
		case 'L':
			if (daxfs__parse_u64(optarg, &length))
				return die(EX_USAGE, "bad --length: %s", optarg);
			break;
		case 'S': sock = optarg; break;
		case 'h': usage(stdout); return EX_OK;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (front - optind != 1) {
		usage(stderr);
		return EX_USAGE;
	}
	file = argv[optind];
	if (cmd && sock)
		return die(EX_USAGE, "--exec and --socket exclude each other");
	if (cmd && !cmd[0])
		return die(EX_USAGE, "--exec needs a command");
	if (!cmd && !sock)
		return die(EX_USAGE, "export needs --exec CMD or --socket=PATH");
	if (sock && !*sock)
		return die(EX_USAGE, "--socket needs a path");

	buf = daxfs_export_dmabuf_path(file, d.offset, length, &d.size);
	if (buf < 0)
		return die(EX_FAIL, "export: %s", daxfs_last_error());
	if (!realpath(file, d.file))
		daxfs__strlcpy(d.file, file, sizeof(d.file));
	/* The file's bytes in the buffer: up to length, never past the end of the file. */
	d.length = stat(file, &st) ? 0 : (uint64_t)st.st_size - d.offset;
	if (length && length < d.length)
		d.length = length;
	if (cmd)
		return export_exec(buf, &d, cmd);
	r = export_send(buf, &d, sock);
	close(buf);
	return r;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EX_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("daxfsctl %s (libdaxfs-dmabuf %s)\n", DAXFS_VERSION, daxfs_version());
		return EX_OK;
	}
	if (!strcmp(argv[1], "mount"))
		return cmd_mount(argc - 1, argv + 1);
	if (!strcmp(argv[1], "umount") || !strcmp(argv[1], "unmount"))
		return cmd_umount(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return cmd_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(argv[1], "export"))
		return cmd_export(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command \"%s\"\n", prog, argv[1]);
	usage(stderr);
	return EX_USAGE;
}
