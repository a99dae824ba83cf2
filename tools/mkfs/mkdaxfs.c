// SPDX-License-Identifier: GPL-2.0
/*
 * mkdaxfs - build a daxfs image from a directory or a tar archive.
 *
 *   mkdaxfs [OPTIONS] IMAGE SOURCE
 *
 * See mkdaxfs.8 for the options and exit codes, FORMAT.md for the layout
 * rules this file implements:
 *   - inodes are numbered breadth-first from the root, so every directory's
 *     parent has a smaller number; each directory's entries are sorted by
 *     memcmp and the directories' entry ranges follow inode order;
 *   - names and symlink targets go to one string table, deduplicated;
 *   - regular files' data follow inode order, each starting on its
 *     alignment (--align for files of at least --align-min bytes, 4 KiB for
 *     smaller ones) and zero-padded to the superblock's data_align: the
 *     alignment every file has, 4 KiB as soon as one file is small;
 *   - the image is written to a temporary file in IMAGE's directory (an
 *     O_TMPFILE when possible), checked with the shared validator, and only
 *     then linked/renamed to IMAGE, so a failure never leaves a partial one.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include "daxfs_validate.h"
#include "mkdaxfs.h"

#define MKDAXFS_VERSION	"0.1"

static struct {
	bool tar, all_root;
	uint32_t align_log2;
	uint64_t align_min;		/* UINT64_MAX: the --align itself */
	char label[DAXFS_LABEL_SIZE];
	bool have_uuid;
	uint8_t uuid[DAXFS_UUID_SIZE];
	uint64_t size;			/* 0: just large enough */
	bool force_mtime, clamp_mtime;
	int64_t mtime;
	/* Format limits; only --debug-limits lowers them (for tests). */
	uint64_t max_inodes, max_dirents, max_names, max_image;
} opt = {
	.align_log2 = 12,
	.align_min = UINT64_MAX,
	.max_inodes = DAXFS_MAX_INODES,
	.max_dirents = DAXFS_MAX_DIRENTS,
	.max_names = DAXFS_MAX_NAMES_SIZE,
	.max_image = DAXFS_MAX_IMAGE_SIZE,
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [OPTIONS] IMAGE SOURCE\n"
"Build a daxfs image IMAGE ('-' for stdout) from the directory SOURCE,\n"
"or with --tar from the tar archive SOURCE ('-' for stdin).\n"
"\n"
"  --tar              SOURCE is a tar archive (ustar, GNU, PAX)\n"
"  --align=SIZE       file data alignment, a power of two from 4K to 1G\n"
"                     (default 4K; suffixes K, M, G), for files of at\n"
"                     least --align-min bytes\n"
"  --align-min=SIZE   smallest file that gets --align (default: the\n"
"                     alignment itself); smaller files get 4K\n"
"  -L, --label=LABEL  volume label, at most 64 bytes\n"
"  -U, --uuid=UUID    volume UUID (default: random, or derived from the\n"
"                     content when --mtime or SOURCE_DATE_EPOCH is set)\n"
"  --all-root         make every file owned by uid 0, gid 0\n"
"  --size=SIZE        make the image exactly SIZE bytes (multiple of 4K)\n"
"  -T, --mtime=SECS   set every mtime to SECS (SOURCE_DATE_EPOCH instead\n"
"                     clamps mtimes newer than it)\n"
"  -q, --quiet        no progress line\n"
"  -v, --verbose      list every entry and print a summary (on stderr)\n"
"  -h, --help         show this help\n"
"  -V, --version      show the version\n"
"\n"
"Exit status: 0 success, 1 error, 4 internal error (bug), 16 usage error.\n",
		mk_prog);
}

__attribute__((noreturn, format(printf, 1, 2)))
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", mk_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", mk_prog);
	exit(MK_EXIT_USAGE);
}

/* A decimal byte count with an optional K, M, G or T (binary) suffix. */
static bool parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end)
		return false;
	if (shift && v > (~0ull >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

static bool parse_int64(const char *s, int64_t *out)
{
	long long v;
	char *end;

	if (!*s)
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The canonical 8-4-4-4-12 form, any case. */
static bool parse_uuid(const char *s, uint8_t out[16])
{
	int i, n = 0;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
			continue;
		}
		if (hexval(s[i]) < 0)
			return false;
	}
	for (i = 0; i < 36; i += 2) {
		if (s[i] == '-')
			i++;
		out[n++] = hexval(s[i]) << 4 | hexval(s[i + 1]);
	}
	return true;
}

static void parse_debug_limits(const char *s)
{
	uint64_t *dst[] = { &opt.max_inodes, &opt.max_dirents,
			    &opt.max_names, &opt.max_image };
	char *copy = strdup(s), *p = copy, *tok;
	size_t i = 0;

	if (!copy)
		mk_die("out of memory");
	while ((tok = strsep(&p, ",")) != NULL) {
		uint64_t v;

		if (i == 4)
			usage_error("--debug-limits: too many fields");
		if (*tok) {
			if (!parse_size(tok, &v) || v > *dst[i])
				usage_error("--debug-limits: bad value '%s'", tok);
			*dst[i] = v;
		}
		i++;
	}
	free(copy);
}

enum {
	OPT_TAR = 256, OPT_ALIGN, OPT_ALIGN_MIN, OPT_ALL_ROOT, OPT_SIZE, OPT_DEBUG_LIMITS,
};

static const struct option longopts[] = {
	{ "tar",	no_argument,		NULL, OPT_TAR },
	{ "align",	required_argument,	NULL, OPT_ALIGN },
	{ "align-min",	required_argument,	NULL, OPT_ALIGN_MIN },
	{ "label",	required_argument,	NULL, 'L' },
	{ "uuid",	required_argument,	NULL, 'U' },
	{ "all-root",	no_argument,		NULL, OPT_ALL_ROOT },
	{ "size",	required_argument,	NULL, OPT_SIZE },
	{ "mtime",	required_argument,	NULL, 'T' },
	{ "quiet",	no_argument,		NULL, 'q' },
	{ "verbose",	no_argument,		NULL, 'v' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "version",	no_argument,		NULL, 'V' },
	{ "debug-limits", required_argument,	NULL, OPT_DEBUG_LIMITS },
	{ NULL, 0, NULL, 0 }
};

static void parse_args(int argc, char **argv, const char **image,
		       const char **source)
{
	const char *sde;
	uint64_t v;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":L:U:T:qvhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TAR:
			opt.tar = true;
			break;
		case OPT_ALIGN:
			if (!parse_size(optarg, &v) || v < (1u << DAXFS_ALIGN_LOG2_MIN) ||
			    v > (1u << DAXFS_ALIGN_LOG2_MAX) || (v & (v - 1)))
				usage_error("--align: '%s' is not a power of two from 4K to 1G",
					    optarg);
			opt.align_log2 = __builtin_ctzll(v);
			break;
		case OPT_ALIGN_MIN:
			if (!parse_size(optarg, &opt.align_min))
				usage_error("--align-min: '%s' is not a size (bytes, or with K, M, G, T)",
					    optarg);
			break;
		case 'L':
			if (strlen(optarg) > DAXFS_LABEL_SIZE)
				usage_error("--label: '%s' is %zu bytes, longer than %u",
					    optarg, strlen(optarg), DAXFS_LABEL_SIZE);
			memset(opt.label, 0, sizeof(opt.label));
			memcpy(opt.label, optarg, strlen(optarg));
			break;
		case 'U':
			if (!parse_uuid(optarg, opt.uuid))
				usage_error("--uuid: '%s' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
					    optarg);
			opt.have_uuid = true;
			break;
		case OPT_ALL_ROOT:
			opt.all_root = true;
			break;
		case OPT_SIZE:
			if (!parse_size(optarg, &v) || v == 0 || v % 4096)
				usage_error("--size: '%s' is not a positive multiple of 4096",
					    optarg);
			opt.size = v;
			break;
		case 'T':
			if (!parse_int64(optarg, &opt.mtime))
				usage_error("--mtime: '%s' is not a number of seconds",
					    optarg);
			opt.force_mtime = true;
			break;
		case 'q':
			mk_opt.quiet = true;
			break;
		case 'v':
			mk_opt.verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(MK_EXIT_OK);
		case 'V':
			printf("mkdaxfs (daxfs-dmabuf) %s, image format version %u\n",
			       MKDAXFS_VERSION, DAXFS_VERSION);
			exit(MK_EXIT_OK);
		case OPT_DEBUG_LIMITS:
			parse_debug_limits(optarg);
			break;
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		usage_error("expected IMAGE and SOURCE, got %d argument%s",
			    argc - optind, argc - optind == 1 ? "" : "s");
	*image = argv[optind];
	*source = argv[optind + 1];
	if (!**image || !**source)
		usage_error("IMAGE and SOURCE must not be empty");
	if (!strcmp(*source, "-") && !opt.tar)
		usage_error("SOURCE '-' (stdin) needs --tar");

	sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde && !opt.force_mtime) {
		int64_t t;

		if (!parse_int64(sde, &t) || t < 0)
			usage_error("SOURCE_DATE_EPOCH: '%s' is not a number of seconds",
				    sde);
		opt.mtime = t;
		opt.clamp_mtime = true;
	}
}

/* --- layout -------------------------------------------------------------- */

static struct mk_inode **byino;		/* [1..ninodes] */
static uint64_t ninodes, ndirents;
static char *names;
static uint64_t names_size, names_cap;
static struct super_layout {
	uint64_t inode_off, dirent_off, names_off, data_off, data_size;
	uint64_t meta_len, image_size;
	uint64_t file_bytes;		/* sum of the files' sizes */
	uint32_t align_log2;		/* the superblock's data_align_log2 */
} L;

static int ent_cmp(const void *a, const void *b)
{
	const struct mk_entry *x = a, *y = b;
	int c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);

	if (c)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

static uint8_t dtype(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO: return DAXFS_DT_FIFO;
	case S_IFCHR: return DAXFS_DT_CHR;
	case S_IFDIR: return DAXFS_DT_DIR;
	case S_IFBLK: return DAXFS_DT_BLK;
	case S_IFREG: return DAXFS_DT_REG;
	case S_IFLNK: return DAXFS_DT_LNK;
	default:      return DAXFS_DT_SOCK;
	}
}

/* String table with deduplication of identical strings. */
static struct mk_hash strs;

static uint64_t add_string(const char *s, uint32_t len)
{
	uint64_t h = mk_hash_bytes(s, len, 0x57), off;
	size_t slot;

	for (slot = mk_hash_first(&strs, h); mk_hash_slot_used(&strs, slot);
	     slot = mk_hash_next(&strs, slot, h)) {
		/* vals hold off << 16 | len (len <= 4095, off < 2^32) */
		uint64_t v = (uintptr_t)strs.vals[slot];

		if ((v & 0xffff) == len && !memcmp(names + (v >> 16), s, len))
			return v >> 16;
	}
	off = names_size;
	if (off + len > opt.max_names)
		mk_die("the string table would exceed the format limit of %llu bytes",
		       (unsigned long long)opt.max_names);
	if (off + len > names_cap) {
		names_cap = names_cap ? 2 * names_cap : 65536;
		if (names_cap < off + len)
			names_cap = off + len;
		names = mk_realloc_array(names, names_cap, 1);
	}
	memcpy(names + off, s, len);
	names_size += len;
	mk_hash_insert(&strs, h, (void *)(uintptr_t)(off << 16 | len));
	return off;
}

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static const char *type_name(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return "dir";
	case S_IFREG: return "file";
	case S_IFLNK: return "symlink";
	case S_IFCHR: return "chardev";
	case S_IFBLK: return "blockdev";
	case S_IFIFO: return "fifo";
	default:      return "socket";
	}
}

/* The alignment of a non-empty regular file of SIZE bytes. */
static uint64_t file_align(uint64_t size)
{
	uint64_t align = 1ull << opt.align_log2;
	uint64_t min = opt.align_min == UINT64_MAX ? align : opt.align_min;

	return size >= min ? align : 1ull << DAXFS_ALIGN_LOG2_MIN;
}

static void layout(struct mk_inode *root)
{
	uint64_t align, i, cursor, cap;
	uint32_t k;

	/* Number the inodes breadth-first; count entries and links. */
	cap = mk_all_count + 1;
	byino = mk_realloc_array(NULL, cap, sizeof(*byino));
	byino[1] = root;
	root->ino = 1;
	ninodes = 1;
	for (i = 1; i <= ninodes; i++) {
		struct mk_inode *dir = byino[i];
		uint32_t subdirs = 0;

		if ((dir->mode & S_IFMT) != S_IFDIR)
			continue;
		if (dir->nents > 1)
			qsort(dir->ents, dir->nents, sizeof(*dir->ents),
			      ent_cmp);
		for (k = 0; k < dir->nents; k++) {
			struct mk_inode *child = dir->ents[k].ino;

			if (k && !ent_cmp(&dir->ents[k - 1], &dir->ents[k]))
				mk_die_code(MK_EXIT_INTERNAL,
					    "internal error: duplicate name %s",
					    mk_path(dir, dir->ents[k].name));
			if ((child->mode & S_IFMT) == S_IFDIR) {
				subdirs++;
				if (child->ino)
					mk_die_code(MK_EXIT_INTERNAL,
						    "internal error: directory %s linked twice",
						    mk_path(dir, dir->ents[k].name));
			}
			if (!child->ino) {
				if (ninodes >= opt.max_inodes)
					mk_die("too many inodes: the format allows at most %llu",
					       (unsigned long long)opt.max_inodes);
				child->ino = ++ninodes;
				byino[ninodes] = child;
			}
			child->nlink++;
			if (mk_opt.verbose)
				fprintf(stderr, "%10u %-8s %s\n", child->ino,
					type_name(child->mode),
					mk_path(dir, dir->ents[k].name));
		}
		dir->nlink = 2 + subdirs;
		dir->size = dir->nents;
		dir->offset = dir->nents ? ndirents : 0;
		ndirents += dir->nents;
		if (ndirents > opt.max_dirents)
			mk_die("too many directory entries: the format allows at most %llu",
			       (unsigned long long)opt.max_dirents);
	}

	/* Attributes the options override. */
	for (i = 1; i <= ninodes; i++) {
		struct mk_inode *n = byino[i];

		if (opt.all_root)
			n->uid = n->gid = 0;
		if (opt.force_mtime ||
		    (opt.clamp_mtime && n->mtime_sec >= opt.mtime &&
		     (n->mtime_sec > opt.mtime || n->mtime_nsec))) {
			n->mtime_sec = opt.mtime;
			n->mtime_nsec = 0;
		}
	}

	/* The string table: entry names, then targets, in inode order. */
	for (i = 1; i <= ninodes; i++) {
		struct mk_inode *n = byino[i];

		if ((n->mode & S_IFMT) == S_IFDIR)
			for (k = 0; k < n->nents; k++)
				add_string(n->ents[k].name, n->ents[k].len);
		else if ((n->mode & S_IFMT) == S_IFLNK)
			n->offset = add_string(n->target, n->size);
	}
	/* add_string() stores name offsets only in the hash; redo lookups later. */

	L.inode_off = DAXFS_SUPER_SIZE;
	L.dirent_off = L.inode_off + DAXFS_INODE_SIZE * ninodes;
	L.names_off = L.dirent_off + DAXFS_DIRENT_SIZE * ndirents;
	L.meta_len = L.names_off + names_size - L.inode_off;
	/* The superblock's data_align: what every file's alignment is a multiple of. */
	L.align_log2 = opt.align_log2;
	for (i = 1; i <= ninodes; i++)
		if ((byino[i]->mode & S_IFMT) == S_IFREG && byino[i]->size &&
		    file_align(byino[i]->size) < (1ull << L.align_log2))
			L.align_log2 = DAXFS_ALIGN_LOG2_MIN;
	align = 1ull << L.align_log2;
	L.data_off = round_up(L.names_off + names_size, align);
	if (L.data_off > opt.max_image)
		mk_die("the metadata alone exceeds the image size limit of %llu bytes",
		       (unsigned long long)opt.max_image);

	/* File data in inode order, each on its alignment. */
	cursor = L.data_off;
	L.file_bytes = 0;
	for (i = 1; i <= ninodes; i++) {
		struct mk_inode *n = byino[i];
		uint64_t fa;

		if ((n->mode & S_IFMT) != S_IFREG || !n->size)
			continue;
		fa = file_align(n->size);
		if (n->size > opt.max_image ||
		    round_up(cursor, fa) + n->size > opt.max_image ||
		    round_up(round_up(cursor, fa) + n->size, align) > opt.max_image)
			mk_die("%s: the image would exceed the format limit of %llu bytes",
			       n->srcdir ? mk_path(n->srcdir, n->srcname) :
			       n->srcname,
			       (unsigned long long)opt.max_image);
		/*
		 * The tail is zeroed to data_align only: the module maps a
		 * file's last, partial huge page with base pages, so small
		 * files may follow a large one in its last huge page.
		 */
		n->offset = round_up(cursor, fa);
		cursor = round_up(n->offset + n->size, align);
		L.file_bytes += n->size;
	}
	L.data_size = cursor - L.data_off;
	L.image_size = cursor;	/* a multiple of data_align, >= 4096 */
	if (opt.size) {
		if (opt.size < L.image_size)
			mk_die("--size=%llu is too small: the image needs %llu bytes",
			       (unsigned long long)opt.size,
			       (unsigned long long)L.image_size);
		if (opt.size > opt.max_image)
			mk_die("--size=%llu exceeds the format limit of %llu bytes",
			       (unsigned long long)opt.size,
			       (unsigned long long)opt.max_image);
		L.image_size = opt.size;
	}
}

/* Serialise the inode table, dirents and names into one buffer. */
static uint8_t *build_meta(void)
{
	uint8_t *meta = mk_alloc(L.meta_len);
	struct daxfs_inode *it = (struct daxfs_inode *)meta;
	struct daxfs_dirent *dt =
		(struct daxfs_dirent *)(meta + (L.dirent_off - L.inode_off));
	uint64_t i, d = 0;
	uint32_t k;

	for (i = 1; i <= ninodes; i++) {
		struct mk_inode *n = byino[i];
		struct daxfs_inode *di = &it[i - 1];

		di->mode = htole16(n->mode);
		di->nlink = htole32(n->nlink);
		di->uid = htole32(n->uid);
		di->gid = htole32(n->gid);
		di->mtime_sec = htole64((uint64_t)n->mtime_sec);
		di->mtime_nsec = htole32(n->mtime_nsec);
		switch (n->mode & S_IFMT) {
		case S_IFDIR:
			di->size = htole64(n->size);
			di->offset = htole64(n->offset);
			di->parent = htole32(n->parent->ino);
			for (k = 0; k < n->nents; k++, d++) {
				struct mk_entry *e = &n->ents[k];

				dt[d].ino = htole32(e->ino->ino);
				dt[d].name_off = htole32(add_string(e->name, e->len));
				dt[d].name_len = htole16(e->len);
				dt[d].type = dtype(e->ino->mode);
			}
			break;
		case S_IFREG:
		case S_IFLNK:
			di->size = htole64(n->size);
			di->offset = htole64(n->offset);
			break;
		case S_IFCHR:
		case S_IFBLK:
			di->rdev_major = htole32(n->rdev_major);
			di->rdev_minor = htole32(n->rdev_minor);
			break;
		}
	}
	if (names_size)
		memcpy(meta + (L.names_off - L.inode_off), names, names_size);
	return meta;
}

/* --- output -------------------------------------------------------------- */

static struct {
	int fd;
	bool to_stdout;
	bool anonymous;		/* O_TMPFILE (or already unlinked) */
	char *tmppath;		/* named temporary, removed on failure */
	char *dir, *image;
} out = { .fd = -1 };

static volatile sig_atomic_t tmppath_live;

static void cleanup(void)
{
	if (out.tmppath && tmppath_live) {
		unlink(out.tmppath);
		tmppath_live = 0;
	}
}

static void on_signal(int sig)
{
	if (out.tmppath && tmppath_live)
		unlink(out.tmppath);
	signal(sig, SIG_DFL);
	raise(sig);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return mk_strndup(".", 1);
	if (slash == path)
		return mk_strndup("/", 1);
	return mk_strndup(path, slash - path);
}

static const char *tmp_dir(void)
{
	const char *t = getenv("TMPDIR");

	return t && *t ? t : "/tmp";
}

/* The temporary file in @dir: anonymous if the kernel and fs allow it. */
static void open_temp(const char *dir, const char *base, bool named_ok)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	size_t i;

	out.fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0666);
	if (out.fd >= 0 && (!named_ok || access("/proc/self/fd", X_OK) == 0)) {
		out.anonymous = true;
		return;
	}
	if (out.fd >= 0)
		close(out.fd);
	out.tmppath = mk_alloc(strlen(dir) + strlen(base) + 16);
	sprintf(out.tmppath, "%s/.%s.XXXXXX", dir, base);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_signal);
	out.fd = mkostemp(out.tmppath, O_CLOEXEC);
	if (out.fd < 0)
		mk_die_errno("%s: cannot create a temporary file", dir);
	tmppath_live = 1;
	mk_cleanup_hook = cleanup;
	if (!named_ok) {
		unlink(out.tmppath);
		tmppath_live = 0;
		out.anonymous = true;
	}
}

static void open_output(const char *image)
{
	struct stat st;
	const char *base;

	if (!strcmp(image, "-")) {
		if (isatty(STDOUT_FILENO))
			usage_error("refusing to write an image to a terminal");
		out.to_stdout = true;
		open_temp(tmp_dir(), "mkdaxfs", false);
		return;
	}
	if (stat(image, &st) == 0 && !S_ISREG(st.st_mode))
		mk_die("%s: exists and is not a regular file", image);
	out.image = mk_strndup(image, strlen(image));
	out.dir = dir_of(image);
	base = strrchr(image, '/') ? strrchr(image, '/') + 1 : image;
	if (!*base)
		mk_die("%s: is a directory name", image);
	if (access(out.dir, W_OK) < 0)
		mk_die_errno("%s: cannot write to directory", out.dir);
	open_temp(out.dir, base, true);
}

/* Give the finished file its name IMAGE (replacing an older one). */
static void publish(void)
{
	char proc[64], *tmp;
	mode_t um;
	int i;

	if (out.to_stdout) {
		off_t off = 0;
		uint64_t left = L.image_size;
		static char buf[1 << 20];

		while (left) {
			ssize_t n = sendfile(STDOUT_FILENO, out.fd, &off,
					     left < (1u << 30) ? left : (1u << 30));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			left -= n;
		}
		while (left) {	/* sendfile refused: plain read/write */
			ssize_t n = pread(out.fd, buf, left < sizeof(buf) ?
					  left : sizeof(buf), off), w, done = 0;

			if (n <= 0)
				mk_die_errno("temporary image: read");
			while (done < n) {
				w = write(STDOUT_FILENO, buf + done, n - done);
				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0)
					mk_die_errno("stdout: write");
				done += w;
			}
			off += n;
			left -= n;
		}
		return;
	}

	if (fsync(out.fd) < 0)
		mk_die_errno("%s: fsync", out.image);
	if (!out.anonymous) {
		um = umask(0);
		umask(um);
		if (fchmod(out.fd, 0666 & ~um) < 0)
			mk_die_errno("%s: chmod", out.tmppath);
		if (rename(out.tmppath, out.image) < 0)
			mk_die_errno("%s: rename", out.image);
		tmppath_live = 0;
		return;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", out.fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, out.image, AT_SYMLINK_FOLLOW) == 0)
		return;
	if (errno != EEXIST)
		mk_die_errno("%s: link", out.image);
	/* IMAGE exists: link under a temporary name, then rename over it. */
	tmp = mk_alloc(strlen(out.image) + 32);
	for (i = 0; i < 100; i++) {
		uint32_t r;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = getpid() + i;
		sprintf(tmp, "%s/.mkdaxfs.%08x", out.dir, r);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0)
			break;
		if (errno != EEXIST)
			mk_die_errno("%s: link", tmp);
	}
	if (i == 100)
		mk_die("%s: cannot find a free temporary name", out.dir);
	out.tmppath = tmp;
	tmppath_live = 1;
	mk_cleanup_hook = cleanup;
	if (rename(tmp, out.image) < 0)
		mk_die_errno("%s: rename", out.image);
	tmppath_live = 0;
}

/* --- data ---------------------------------------------------------------- */

static void write_data(void)
{
	const struct mk_inode *cur_dir = NULL;
	uint64_t i, files = 0, bytes = 0;
	int dfd = -1;

	for (i = 1; i <= ninodes; i++)
		if ((byino[i]->mode & S_IFMT) == S_IFREG && byino[i]->size) {
			files++;
			bytes += byino[i]->size;
		}
	mk_progress_start("writing", files, bytes);
	for (i = 1; i <= ninodes; i++) {
		struct mk_inode *n = byino[i];
		struct stat st;
		const char *what;
		int fd;

		if ((n->mode & S_IFMT) != S_IFREG || !n->size)
			continue;
		if (n->srcfd >= 0) {	/* tar: spool or archive */
			mk_copy_range(n->srcfd, n->srcoff, out.fd, n->offset,
				      n->size, n->srcholes, n->srcname);
			continue;
		}
		if (n->srcdir != cur_dir) {
			if (dfd >= 0)
				close(dfd);
			dfd = mk_open_srcdir(n->srcdir);
			cur_dir = n->srcdir;
		}
		what = mk_path(n->srcdir, n->srcname);
		fd = openat(dfd, n->srcname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			mk_die_errno("%s", what);
		if (fstat(fd, &st) < 0)
			mk_die_errno("%s", what);
		if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != n->size)
			mk_die("%s: changed while mkdaxfs was running", what);
		/* mk_path()'s buffer may be reused below; keep a copy. */
		what = mk_strndup(what, strlen(what));
		mk_copy_range(fd, 0, out.fd, n->offset, n->size, true, what);
		free((char *)what);
		close(fd);
	}
	if (dfd >= 0)
		close(dfd);
	mk_progress_end();
}

/* The reproducible UUID: a hash of the metadata and all file data. */
static void content_uuid(const struct daxfs_super *sb, const uint8_t *meta,
			 uint8_t uuid[16])
{
	static uint8_t buf[1 << 20];
	struct mk_h128 h;
	uint64_t off = L.data_off, end = L.data_off + L.data_size;

	mk_h128_init(&h);
	mk_h128_update(&h, sb, sizeof(*sb));
	mk_h128_update(&h, meta, L.meta_len & ~7ull);
	mk_h128_update(&h, meta + (L.meta_len & ~7ull), L.meta_len & 7);
	while (off < end) {
		size_t n = end - off < sizeof(buf) ? end - off : sizeof(buf);
		ssize_t r = pread(out.fd, buf, n, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			mk_die_errno("temporary image: read");
		mk_h128_update(&h, buf, r);
		off += r;
	}
	mk_h128_final(&h, uuid);
	uuid[6] = (uuid[6] & 0x0f) | 0x80;	/* version 8: custom */
	uuid[8] = (uuid[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
}

/*
 * The validator's reader.  It asks for each file's tail in small pieces;
 * serve those from one cached 64 KiB window instead of a pread per piece
 * (that was most of the system time for trees of many small files).
 */
#define WIN_SIZE	65536u

static int read_image(void *priv, __u64 off, void *dst, __u32 len)
{
	static char win[WIN_SIZE];
	static uint64_t win_off = UINT64_MAX, win_len;
	int fd = *(int *)priv;
	char *p = dst;

	if (len <= WIN_SIZE / 2) {
		if (off < win_off || off + len > win_off + win_len) {
			uint64_t want = WIN_SIZE;
			ssize_t r;

			win_off = off & ~4095ull;
			if (win_off + want > L.image_size)
				want = L.image_size - win_off;
			do
				r = pread(fd, win, want, win_off);
			while (r < 0 && errno == EINTR);
			win_len = r > 0 ? r : 0;
			if (off + len > win_off + win_len) {
				win_off = UINT64_MAX;
				return r < 0 ? -errno : -EIO;
			}
		}
		memcpy(dst, win + (off - win_off), len);
		return 0;
	}
	while (len) {
		ssize_t r = pread(fd, p, len, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		p += r;
		len -= r;
		off += r;
	}
	return 0;
}

/* Read the image back and run the shared validator over it. */
static void self_check(void)
{
	struct daxfs_super *sb = mk_alloc(sizeof(*sb));
	struct daxfs_verr err = { { 0 } };
	__u64 meta_len = 0;
	void *meta;
	int r;

	if (read_image(&out.fd, 0, sb, sizeof(*sb)))
		mk_die_errno("temporary image: read");
	r = daxfs_check_super(sb, L.image_size, &meta_len, &err);
	if (r)
		mk_die_code(MK_EXIT_INTERNAL,
			    "internal error: the image fails validation (%d): %s",
			    r, err.msg);
	meta = mk_alloc(meta_len);
	if (read_image(&out.fd, le64toh(sb->inode_off), meta, meta_len))
		mk_die_errno("temporary image: read");
	r = daxfs_check_meta(sb, meta, read_image, &out.fd, &err);
	if (r)
		mk_die_code(MK_EXIT_INTERNAL,
			    "internal error: the image fails validation (%d): %s",
			    r, err.msg);
	free(meta);
	free(sb);
}

int main(int argc, char **argv)
{
	const char *image, *source;
	struct daxfs_super *sb;
	struct mk_inode *root;
	uint8_t *meta;

	parse_args(argc, argv, &image, &source);

	if (opt.tar) {
		/* Spool a piped archive next to the image (same fs: reflinks). */
		char *spool = strcmp(image, "-") ? dir_of(image) : NULL;

		root = mk_read_tar(source, spool ? spool : tmp_dir());
		free(spool);
	} else {
		root = mk_scan_dir(source);
	}
	layout(root);
	open_output(image);
	if (ftruncate(out.fd, L.image_size) < 0)
		mk_die_errno("%s: cannot make a %llu-byte file",
			     out.image ? out.image : "temporary image",
			     (unsigned long long)L.image_size);
	write_data();
	meta = build_meta();

	sb = mk_alloc(sizeof(*sb));
	sb->magic = htole32(DAXFS_IMAGE_MAGIC);
	sb->version = htole32(DAXFS_VERSION);
	sb->image_size = htole64(L.image_size);
	sb->inode_off = htole64(L.inode_off);
	sb->inode_count = htole32(ninodes);
	sb->root_ino = htole32(DAXFS_ROOT_INO);
	sb->dirent_off = htole64(L.dirent_off);
	sb->dirent_count = htole32(ndirents);
	sb->data_align_log2 = htole32(L.align_log2);
	sb->names_off = htole64(L.names_off);
	sb->names_size = htole64(names_size);
	sb->data_off = htole64(L.data_off);
	sb->data_size = htole64(L.data_size);
	memcpy(sb->label, opt.label, sizeof(sb->label));
	if (opt.have_uuid)
		memcpy(sb->uuid, opt.uuid, sizeof(sb->uuid));
	else if (opt.force_mtime || opt.clamp_mtime)
		content_uuid(sb, meta, sb->uuid);
	else {
		if (getrandom(sb->uuid, sizeof(sb->uuid), 0) != sizeof(sb->uuid))
			mk_die_errno("getrandom");
		sb->uuid[6] = (sb->uuid[6] & 0x0f) | 0x40;
		sb->uuid[8] = (sb->uuid[8] & 0x3f) | 0x80;
	}
	sb->crc32c = htole32(daxfs_image_crc(sb, meta, L.meta_len));

	mk_pwrite_all(out.fd, sb, sizeof(*sb), 0, "image");
	mk_pwrite_all(out.fd, meta, L.meta_len, L.inode_off, "image");
	self_check();
	publish();

	if (mk_opt.verbose) {
		int i;

		fprintf(stderr, "%s: %llu inodes, %llu entries, %llu bytes of names, "
			"%llu bytes of file data, %llu bytes of alignment padding "
			"(align %llu from %llu bytes, data_align %llu), image %llu bytes, uuid ",
			mk_prog, (unsigned long long)ninodes,
			(unsigned long long)ndirents,
			(unsigned long long)names_size,
			(unsigned long long)L.file_bytes,
			(unsigned long long)(L.data_size - L.file_bytes),
			1ull << opt.align_log2,
			opt.align_min == UINT64_MAX ? 1ull << opt.align_log2 :
			(unsigned long long)opt.align_min,
			1ull << L.align_log2,
			(unsigned long long)L.image_size);
		for (i = 0; i < 16; i++)
			fprintf(stderr, "%02x%s", sb->uuid[i],
				(i == 3 || i == 5 || i == 7 || i == 9) ? "-" : "");
		fputc('\n', stderr);
	}
	close(out.fd);
	free(meta);
	free(sb);
	return MK_EXIT_OK;
}
