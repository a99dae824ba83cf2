// SPDX-License-Identifier: GPL-2.0
/*
 * fsck.daxfs - check a daxfs image, summarize it, list or extract its tree.
 *
 * The image is never modified: daxfs is read-only, so there is nothing to
 * repair.  The checking itself is the shared validator (daxfs_validate.c),
 * the same code the kernel module runs at mount time, so an image that
 * passes here mounts there and the message for a bad image is the one the
 * kernel would log.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/fs.h>

#include "daxfs_validate.h"
#include "fsck.h"

#ifndef FSCK_DAXFS_VERSION
#define FSCK_DAXFS_VERSION "0.1"
#endif

/*
 * The image is read through a shared mapping.  If the file shrinks while we
 * run, or a device reports a read error, touching the mapping raises
 * SIGBUS; turn that into an operational error instead of a crash.
 */
static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_armed;

static void on_sigbus(int sig)
{
	(void)sig;
	if (bus_armed)
		siglongjmp(bus_jmp, 1);
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [options] IMAGE\n"
"Check a daxfs image (a regular file or a device) and print a summary.\n"
"The image is opened read-only and never modified.\n"
"\n"
"  -l, --list           list the tree like `ls -lnbR` (times in UTC, full-iso)\n"
"  -x, --extract=DIR    recreate the tree under DIR (absent or empty)\n"
"  -q, --quiet          print nothing but errors\n"
"  -v, --verbose        more detail: layout, crc, each extracted path\n"
"  -a, -p, -n, -y, -f   accepted for fsck(8) compatibility; nothing is repaired\n"
"  -h, --help           show this help and exit\n"
"  -V, --version        show the version and exit\n"
"\n"
"Exit status: 0 clean, 4 image invalid, 8 operational error\n"
"(cannot open, read or extract; unsupported version or feature),\n"
"16 usage error.\n", fsck_prog);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", fsck_prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '%s --help' for more information.\n",
		fsck_prog);
	return FSCK_USAGE;
}

/* Size of a character device: seekable end, else the sysfs "size" file. */
static unsigned long long chardev_size(int fd, const struct stat *st)
{
	char path[64], buf[32];
	off_t end = lseek(fd, 0, SEEK_END);
	FILE *f;

	if (end > 0)
		return end;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/size",
		 major(st->st_rdev), minor(st->st_rdev));
	f = fopen(path, "re");
	if (f) {
		unsigned long long v = 0;

		if (fgets(buf, sizeof(buf), f))
			v = strtoull(buf, NULL, 0);
		fclose(f);
		if (v)
			return v;
	}
	return 0;
}

static int open_image(struct fsck_image *img)
{
	struct stat st;
	unsigned long long size = 0;
	void *map;

	img->fd = open(img->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (img->fd < 0) {
		fprintf(stderr, "%s: cannot open %s: %s\n", fsck_prog,
			img->path, strerror(errno));
		return FSCK_ERROR;
	}
	if (fstat(img->fd, &st) < 0) {
		fprintf(stderr, "%s: %s: stat: %s\n", fsck_prog, img->path,
			strerror(errno));
		return FSCK_ERROR;
	}
	if (S_ISREG(st.st_mode)) {
		img->is_reg = true;
		size = st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		uint64_t b;

		if (ioctl(img->fd, BLKGETSIZE64, &b) < 0) {
			fprintf(stderr, "%s: %s: BLKGETSIZE64: %s\n",
				fsck_prog, img->path, strerror(errno));
			return FSCK_ERROR;
		}
		size = b;
	} else if (S_ISCHR(st.st_mode)) {
		size = chardev_size(img->fd, &st);
		if (!size) {
			/*
			 * Size unknown: trust the superblock's image_size,
			 * the validator then only checks it against itself.
			 */
			struct daxfs_super sb;

			if (pread(img->fd, &sb, sizeof(sb), 0) ==
			    (ssize_t)sizeof(sb))
				size = le64toh(sb.image_size);
			if (size < DAXFS_SUPER_SIZE)
				size = DAXFS_SUPER_SIZE;
			if (fsck_verbose > 0)
				printf("%s: device size unknown, using the superblock's image size %llu\n",
				       img->path, size);
		}
	} else {
		fprintf(stderr, "%s: %s: not a regular file or a device\n",
			fsck_prog, img->path);
		return FSCK_ERROR;
	}
	if (size < DAXFS_SUPER_SIZE) {
		fprintf(stderr, "%s: %s: too small to be a daxfs image (%llu bytes, the superblock alone is %u)\n",
			fsck_prog, img->path, size, DAXFS_SUPER_SIZE);
		return FSCK_UNCORRECTED;
	}
	if (size > SIZE_MAX) {
		fprintf(stderr, "%s: %s: too large to map\n", fsck_prog,
			img->path);
		return FSCK_ERROR;
	}
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, img->fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "%s: %s: mmap: %s\n", fsck_prog, img->path,
			strerror(errno));
		return FSCK_ERROR;
	}
	img->map = map;
	img->buf_size = size;
	return FSCK_OK;
}

/* The validator's reader: copy from the mapping, bounds-checked. */
static int read_image(void *priv, __u64 off, void *dst, __u32 len)
{
	const struct fsck_image *img = priv;

	if (off > img->buf_size || len > img->buf_size - off)
		return -ERANGE;
	memcpy(dst, img->map + off, len);
	return 0;
}

static int verr_status(int rc)
{
	switch (rc) {
	case -EINVAL:
	case -EFBIG:
	case -EUCLEAN:
		return FSCK_UNCORRECTED;
	default:	/* -EOPNOTSUPP: cannot check; -ENOMEM, read errors */
		return FSCK_ERROR;
	}
}

static int report_verr(const struct fsck_image *img, int rc,
		       const struct daxfs_verr *err)
{
	const char *what = "invalid";

	if (rc == -EOPNOTSUPP)
		what = "unsupported";
	else if (verr_status(rc) == FSCK_ERROR)
		what = "cannot check";
	fprintf(stderr, "%s: %s: %s: %s\n", fsck_prog, img->path, what,
		err->msg[0] ? err->msg : strerror(-rc));
	return verr_status(rc);
}

static int check_image(struct fsck_image *img)
{
	struct daxfs_verr err = { { 0 } };
	__u64 meta_len = 0;
	int rc;

	memcpy(&img->sb, img->map, sizeof(img->sb));
	rc = daxfs_check_super(&img->sb, img->buf_size, &meta_len, &err);
	if (rc)
		return report_verr(img, rc, &err);
	if (fsck_verbose > 0)
		printf("%s: superblock valid, %llu bytes of metadata\n",
		       img->path, (unsigned long long)meta_len);
	img->meta_len = meta_len;
	img->meta = malloc(meta_len ? meta_len : 1);
	if (!img->meta) {
		fprintf(stderr, "%s: %s: cannot allocate %llu bytes for the metadata\n",
			fsck_prog, img->path, (unsigned long long)meta_len);
		return FSCK_ERROR;
	}
	memcpy(img->meta, img->map + le64toh(img->sb.inode_off), meta_len);
	rc = daxfs_check_meta(&img->sb, img->meta, read_image, img, &err);
	if (rc)
		return report_verr(img, rc, &err);

	img->inode_count = le32toh(img->sb.inode_count);
	img->dirent_count = le32toh(img->sb.dirent_count);
	img->names_size = le64toh(img->sb.names_size);
	img->data_align = 1u << le32toh(img->sb.data_align_log2);
	img->inodes = (const void *)img->meta;
	img->dirents = (const void *)(img->meta +
		(le64toh(img->sb.dirent_off) - le64toh(img->sb.inode_off)));
	img->names = img->meta +
		(le64toh(img->sb.names_off) - le64toh(img->sb.inode_off));
	return FSCK_OK;
}

static void print_summary(const struct fsck_image *img)
{
	static const struct {
		unsigned int type;
		const char *name;
	} types[] = {
		{ DAXFS_S_IFDIR, "directories" },
		{ DAXFS_S_IFREG, "regular files" },
		{ DAXFS_S_IFLNK, "symbolic links" },
		{ DAXFS_S_IFCHR, "character devices" },
		{ DAXFS_S_IFBLK, "block devices" },
		{ DAXFS_S_IFIFO, "fifos" },
		{ DAXFS_S_IFSOCK, "sockets" },
	};
	unsigned long long count[sizeof(types) / sizeof(types[0])] = { 0 };
	unsigned long long data = 0;
	const struct daxfs_super *sb = &img->sb;
	unsigned int compat = le32toh(sb->compat);
	unsigned int incompat = le32toh(sb->incompat);
	size_t i, t, label_len;

	for (i = 1; i <= img->inode_count; i++) {
		const struct daxfs_inode *di = fsck_inode(img, i);
		unsigned int type = fsck_mode(di) & DAXFS_S_IFMT;

		for (t = 0; t < sizeof(types) / sizeof(types[0]); t++)
			if (types[t].type == type)
				count[t]++;
		if (type == DAXFS_S_IFREG)
			data += le64toh(di->size);
	}

	printf("%s: clean\n", img->path);
	printf("  version            %u\n", le32toh(sb->version));
	printf("  features           compat 0x%08x, incompat 0x%08x%s\n",
	       compat, incompat,
	       compat & ~DAXFS_COMPAT_SUPP ? " (unknown compat bits ignored)" :
	       incompat ? "" : " (none)");
	label_len = strnlen((const char *)sb->label, DAXFS_LABEL_SIZE);
	printf("  label              \"");
	for (i = 0; i < label_len; i++) {
		unsigned char c = sb->label[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	printf("\"\n");
	printf("  uuid               ");
	for (i = 0; i < DAXFS_UUID_SIZE; i++)
		printf("%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ?
		       "-" : "", sb->uuid[i]);
	printf("\n");
	printf("  image size         %llu bytes\n",
	       (unsigned long long)le64toh(sb->image_size));
	printf("  data alignment     %u bytes\n", img->data_align);
	printf("  inodes             %u\n", img->inode_count);
	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++)
		printf("    %-17s  %llu\n", types[t].name, count[t]);
	printf("  directory entries  %u\n", img->dirent_count);
	printf("  file data          %llu bytes\n", data);
	if (fsck_verbose > 0) {
		printf("  metadata           %llu bytes at %llu (inodes %llu, dirents %llu, names %llu)\n",
		       img->meta_len,
		       (unsigned long long)le64toh(sb->inode_off),
		       (unsigned long long)le64toh(sb->inode_off),
		       (unsigned long long)le64toh(sb->dirent_off),
		       (unsigned long long)le64toh(sb->names_off));
		printf("  data area          %llu bytes at %llu\n",
		       (unsigned long long)le64toh(sb->data_size),
		       (unsigned long long)le64toh(sb->data_off));
		printf("  crc32c             0x%08x\n", le32toh(sb->crc32c));
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "list",    no_argument,       NULL, 'l' },
		{ "extract", required_argument, NULL, 'x' },
		{ "quiet",   no_argument,       NULL, 'q' },
		{ "verbose", no_argument,       NULL, 'v' },
		{ "help",    no_argument,       NULL, 'h' },
		{ "version", no_argument,       NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	/* static: they live across sigsetjmp() */
	static struct fsck_image img = { .fd = -1 };
	static const char *extract;
	static bool list;
	struct sigaction sa;
	int c, rc;

	while ((c = getopt_long(argc, argv, "lx:qvhVapnyf", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			list = true;
			break;
		case 'x':
			if (!*optarg)
				return usage_error("--extract needs a directory%s",
						   "");
			extract = optarg;
			break;
		case 'q':
			fsck_verbose = -1;
			break;
		case 'v':
			if (fsck_verbose >= 0)
				fsck_verbose++;
			break;
		case 'h':
			usage(stdout);
			return FSCK_OK;
		case 'V':
			printf("%s (daxfs-dmabuf) %s, image format version %u\n",
			       fsck_prog, FSCK_DAXFS_VERSION, DAXFS_VERSION);
			return FSCK_OK;
		case 'a': case 'p': case 'n': case 'y': case 'f':
			break;	/* fsck(8) passes these; nothing to repair */
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n",
				fsck_prog);
			return FSCK_USAGE;
		}
	}
	if (optind == argc)
		return usage_error("missing IMAGE operand%s", "");
	if (optind + 1 < argc)
		return usage_error("extra operand '%s'", argv[optind + 1]);
	img.path = argv[optind];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	if (sigsetjmp(bus_jmp, 1)) {
		bus_armed = 0;
		fprintf(stderr, "%s: %s: read error (image truncated or I/O error while reading, SIGBUS)\n",
			fsck_prog, img.path);
		return FSCK_ERROR;
	}

	rc = open_image(&img);
	if (rc)
		return rc;
	bus_armed = 1;
	rc = check_image(&img);
	if (rc)
		return rc;
	if (fsck_verbose >= 0)
		print_summary(&img);
	if (list) {
		rc = fsck_list(&img, stdout);
		if (fflush(stdout) || ferror(stdout)) {
			fprintf(stderr, "%s: writing the listing: %s\n",
				fsck_prog, strerror(errno));
			rc = FSCK_ERROR;
		}
		if (rc)
			return rc;
	}
	if (extract) {
		rc = fsck_extract(&img, extract);
		if (rc)
			return rc;
	}
	bus_armed = 0;
	if (fflush(stdout) || ferror(stdout))
		return FSCK_ERROR;
	free(img.meta);
	munmap((void *)img.map, img.buf_size);
	close(img.fd);
	return FSCK_OK;
}
