// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Host-side unit tests: no kernel module needed.  Option strings, the
 * policy file, the mountd wire format, path checks, mountinfo lines,
 * image probing and filling (into a memfd), and the mountd protocol end to
 * end over a Unix socket with a fake mount backend.  TAP on stdout.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "internal.h"
#include "daxfs_format.h"
#include "tap.h"

static char tmpdir[256];

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

/* ---------------------------------------------------------------- options */
static void test_options(void)
{
	struct daxfs_parsed_opts o;
	uint64_t v;

	is_int(daxfs__parse_u64("4096", &v), 0, "parse_u64 decimal");
	is_int(v, 4096, "parse_u64 value");
	is_int(daxfs__parse_u64("2M", &v), 0, "parse_u64 suffix");
	is_int(v, 2 << 20, "parse_u64 2M");
	is_int(daxfs__parse_u64("0x1000", &v), 0, "parse_u64 hex");
	ok(daxfs__parse_u64("-1", &v) < 0, "parse_u64 refuses negatives");
	ok(daxfs__parse_u64("12x", &v) < 0, "parse_u64 refuses junk");
	ok(daxfs__parse_u64("99999999999999999999", &v) < 0, "parse_u64 refuses overflow");
	ok(daxfs__parse_u64("17179869184G", &v) < 0, "parse_u64 refuses suffix overflow");

	is_int(daxfs__parse_mount_options("image=/tmp/x.img,heap=system,nosuid,noexec,foo=bar,"
					  "defaults,x-systemd.automount,ro,,label=a", &o), 0,
	       "parse a full option string");
	is_str(o.image, "/tmp/x.img", "image= consumed");
	is_int(o.exporter, DAXFS_EXP_HEAP, "heap= selects the heap exporter");
	is_str(o.exporter_arg, "system", "heap name");
	is_int(o.flags, MS_NOSUID | MS_NOEXEC | MS_RDONLY, "generic flags become MS_ flags");
	is_str(o.kernel, "foo=bar,label=a", "unknown options go to the kernel, user-space ones dropped");

	is_int(daxfs__parse_mount_options("image=/i,udmabuf=hugetlb,offset=2M", &o), 0, "udmabuf=hugetlb");
	ok(o.exporter == DAXFS_EXP_UDMABUF && o.hugetlb, "hugetlb udmabuf");
	ok(o.has_offset && o.offset == 2u << 20, "offset=2M");
	is_int(daxfs__parse_mount_options("image=/i,drm=/dev/dri/card0,nodev,exec,suid", &o), 0, "drm=");
	ok(o.exporter == DAXFS_EXP_DRM && !strcmp(o.exporter_arg, "/dev/dri/card0"), "drm device");
	is_int(o.flags, MS_NODEV, "clearing flags (exec, suid)");
	is_int(daxfs__parse_mount_options("rw,nosuid", &o), 0, "rw accepted");
	ok(o.rw && !o.image[0], "rw recorded, no image");
	is_int(daxfs__parse_mount_options("", &o), 0, "empty string");
	is_int(daxfs__parse_mount_options(NULL, &o), 0, "NULL string");

	is_int(daxfs__parse_mount_options("image=/i,heap=system,udmabuf", &o), -EINVAL, "two exporters refused");
	ok(strstr(daxfs_last_error(), "more than one exporter") != NULL, "two exporters: reason");
	is_int(daxfs__parse_mount_options("heap=system", &o), -EINVAL, "exporter without image= refused");
	is_int(daxfs__parse_mount_options("image=", &o), -EINVAL, "empty image= refused");
	is_int(daxfs__parse_mount_options("image=/a,image=/b", &o), -EINVAL, "image= twice refused");
	is_int(daxfs__parse_mount_options("image=/a,heap=../x", &o), -EINVAL, "heap name with / refused");
	is_int(daxfs__parse_mount_options("image=/a,udmabuf=big", &o), -EINVAL, "udmabuf=junk refused");
	is_int(daxfs__parse_mount_options("offset=abc", &o), -EINVAL, "bad offset refused");
	{
		char big[DAXFS_OPT_MAX * 2];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		is_int(daxfs__parse_mount_options(big, &o), -EINVAL, "oversize option refused");
		for (size_t i = 1; i < sizeof(big) - 1; i += 2)
			big[i] = ',';
		is_int(daxfs__parse_mount_options(big, &o), -EINVAL, "oversize kernel string refused");
	}
}

/* ---------------------------------------------------------------- paths */
static void test_paths(void)
{
	char why[256], p[512];
	int fd;

	is_int(daxfs__path_check_lexical("/", why, sizeof(why)), 0, "lexical: /");
	is_int(daxfs__path_check_lexical("/srv/models", why, sizeof(why)), 0, "lexical: clean path");
	is_int(daxfs__path_check_lexical("srv", why, sizeof(why)), -EINVAL, "lexical: relative refused");
	is_int(daxfs__path_check_lexical("/a//b", why, sizeof(why)), -EINVAL, "lexical: // refused");
	is_int(daxfs__path_check_lexical("/a/./b", why, sizeof(why)), -EINVAL, "lexical: . refused");
	is_int(daxfs__path_check_lexical("/a/../etc", why, sizeof(why)), -EINVAL, "lexical: .. refused");
	is_int(daxfs__path_check_lexical("/a/..", why, sizeof(why)), -EINVAL, "lexical: trailing .. refused");
	ok(daxfs__path_check_lexical("", why, sizeof(why)) < 0, "lexical: empty refused");

	ok(daxfs__path_under("/srv/models", "/srv/models"), "under: equal");
	ok(daxfs__path_under("/srv/models/a", "/srv/models"), "under: below");
	ok(!daxfs__path_under("/srv/models2", "/srv/models"), "under: sibling with same prefix refused");
	ok(!daxfs__path_under("/srv", "/srv/models"), "under: parent refused");
	ok(daxfs__path_under("/x", "/"), "under: root prefix");
	ok(daxfs__path_under("/srv/models/a", "/srv/models/"), "under: prefix with trailing slash");

	snprintf(p, sizeof(p), "%s/real", tmpdir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/real/sub", tmpdir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/link", tmpdir);
	symlink("real", p);
	snprintf(p, sizeof(p), "%s/file", tmpdir);
	close(open(p, O_CREAT | O_WRONLY, 0644));

	snprintf(p, sizeof(p), "%s/real/sub", tmpdir);
	fd = daxfs__open_dir_nofollow(p, why, sizeof(why));
	ok(fd >= 0, "nofollow: real directory opens");
	if (fd >= 0)
		close(fd);
	snprintf(p, sizeof(p), "%s/link/sub", tmpdir);
	is_int(daxfs__open_dir_nofollow(p, why, sizeof(why)), -ELOOP, "nofollow: symlink in the middle refused");
	ok(strstr(why, "symbolic link") != NULL, "nofollow: reason names the symlink");
	snprintf(p, sizeof(p), "%s/link", tmpdir);
	is_int(daxfs__open_dir_nofollow(p, why, sizeof(why)), -ELOOP, "nofollow: final symlink refused");
	snprintf(p, sizeof(p), "%s/file", tmpdir);
	is_int(daxfs__open_dir_nofollow(p, why, sizeof(why)), -ENOTDIR, "nofollow: file refused");
	snprintf(p, sizeof(p), "%s/missing", tmpdir);
	is_int(daxfs__open_dir_nofollow(p, why, sizeof(why)), -ENOENT, "nofollow: missing");
}

/* ---------------------------------------------------------------- policy */
static void test_policy(void)
{
	struct daxfs_policy pol;
	struct daxfs_peer peer = { .uid = 1000, .gid = 1000 };
	const struct daxfs_policy_rule *r;
	gid_t groups[] = { 44, 105 };
	char why[256];
	const char *good =
		"# comment\n"
		"\n"
		"allow uid:1000 /srv/models   # trailing comment\n"
		"allow gid:44 /mnt/weights/ noexec options=label:foo\n"
		"  allow user:root /x any-owner\n"
		"allow group:root /y\n";

	is_int(daxfs__policy_parse(good, strlen(good), &pol, why, sizeof(why)), 0, "policy: parse good file");
	is_int(pol.nrules, 4, "policy: four rules");
	if (pol.nrules == 4) {
		is_str(pol.rules[1].prefix, "/mnt/weights", "policy: trailing slash of prefix dropped");
		ok(pol.rules[1].flags & DAXFS_POLICY_OPT_FORCE_NOEXEC, "policy: noexec flag");
		is_str(pol.rules[1].options, "label:foo", "policy: option list");
		ok(pol.rules[2].who == DAXFS_WHO_USER && pol.rules[2].flags & DAXFS_POLICY_OPT_ANY_OWNER,
		   "policy: user rule, any-owner");
		is_int(pol.rules[2].line, 5, "policy: line numbers");
	}

	r = daxfs__policy_match(&pol, &peer, "/srv/models/m1", why, sizeof(why));
	ok(r == &pol.rules[0], "match: uid rule under prefix");
	r = daxfs__policy_match(&pol, &peer, "/srv/models2", why, sizeof(why));
	ok(!r && strstr(why, "outside"), "match: outside the prefix refused (%s)", why);
	peer.uid = 1001;
	peer.gid = 1001;
	r = daxfs__policy_match(&pol, &peer, "/srv/models", why, sizeof(why));
	ok(!r && strstr(why, "no policy rule"), "match: unknown uid refused (%s)", why);
	peer.groups = groups;
	peer.ngroups = 2;
	r = daxfs__policy_match(&pol, &peer, "/mnt/weights/a", why, sizeof(why));
	ok(r == &pol.rules[1], "match: supplementary group");
	peer.uid = 0;
	r = daxfs__policy_match(&pol, &peer, "/anywhere", why, sizeof(why));
	ok(r != NULL, "match: root may mount anywhere");
	peer.uid = 1002;
	peer.gid = 0;
	peer.ngroups = 0;
	r = daxfs__policy_match(&pol, &peer, "/y/z", why, sizeof(why));
	ok(r == &pol.rules[3], "match: group by name (root = gid 0)");
	daxfs__policy_free(&pol);

	ok(daxfs__options_allowed("", "", why, sizeof(why)), "options: none is fine");
	ok(daxfs__options_allowed("label=x,foo", "label:foo", why, sizeof(why)), "options: allowed keys");
	ok(!daxfs__options_allowed("phys=0x1000", "label", why, sizeof(why)), "options: phys= refused");
	ok(!daxfs__options_allowed("lab", "label", why, sizeof(why)), "options: prefix of a key refused");

	{
		static const struct { const char *text; const char *reason; } bad[] = {
			{ "permit uid:1 /a\n", "unknown keyword" },
			{ "allow uid:x /a\n", "bad number" },
			{ "allow uid:4294967295 /a\n", "bad number" },
			{ "allow uid:1\n", "expected" },
			{ "allow pid:1 /a\n", "WHO must be" },
			{ "allow uid:1 relative\n", "absolute canonical" },
			{ "allow uid:1 /a/../etc\n", "absolute canonical" },
			{ "allow uid:1 /a nosuid\n", "unknown rule option" },
			{ "allow uid:1 /a options=Phys\n", "unknown rule option" },
			{ "allow user:a/b /a\n", "bad user name" },
			{ "allow uid:1 /a a b c d e f\n", "too many words" },
			{ "allow uid:1 /a\nallow\n", "line 2" },
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			int e = daxfs__policy_parse(bad[i].text, strlen(bad[i].text), &pol, why, sizeof(why));

			ok(e == -EINVAL && strstr(why, bad[i].reason), "policy refuses %.*s (%s)",
			   (int)strcspn(bad[i].text, "\n"), bad[i].text, why);
		}
		ok(daxfs__policy_parse("allow uid:1 /a\0x", 16, &pol, why, sizeof(why)) == -EINVAL,
		   "policy: NUL byte refused");
	}
	{
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/policy", tmpdir);
		f = fopen(path, "w");
		fputs("allow uid:5 /a\n", f);
		fclose(f);
		chmod(path, 0644);
		is_int(daxfs__policy_load(path, &pol, why, sizeof(why)), 0, "policy_load: 0644 file");
		daxfs__policy_free(&pol);
		chmod(path, 0666);
		is_int(daxfs__policy_load(path, &pol, why, sizeof(why)), -EPERM,
		       "policy_load: world-writable file refused");
	}
}

/* ---------------------------------------------------------------- protocol */
static void test_proto(void)
{
	static struct daxfs_mountd_req req, out;
	static uint8_t buf[DAXFS_MOUNTD_REQ_SIZE + 8];
	struct daxfs_mountd_reply rep = { .error = EPERM }, rout;
	uint8_t rbuf[DAXFS_MOUNTD_REPLY_SIZE];
	char why[256];

	req.offset = 8192;
	req.ms_flags = MS_NOSUID;
	strcpy(req.target, "/srv/models/a");
	strcpy(req.options, "label=x");
	is_int(daxfs__req_encode(&req, buf), 0, "proto: encode");
	is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE, &out, why, sizeof(why)), 0, "proto: decode");
	ok(out.offset == 8192 && out.ms_flags == MS_NOSUID && !strcmp(out.target, req.target) &&
	   !strcmp(out.options, req.options), "proto: round trip");
	is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE - 1, &out, why, sizeof(why)), -EPROTO, "proto: short refused");
	is_int(daxfs__req_decode(buf, 10, &out, why, sizeof(why)), -EPROTO, "proto: truncated header refused");
	is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE + 8, &out, why, sizeof(why)), -EPROTO, "proto: long refused");
	buf[0] ^= 1;
	is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE, &out, why, sizeof(why)), -EPROTO, "proto: bad magic");
	buf[0] ^= 1;
	buf[4] = 2;
	is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE, &out, why, sizeof(why)), -EPROTO, "proto: bad version");
	buf[4] = 1;
	buf[12] = 1;
	is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE, &out, why, sizeof(why)), -EINVAL, "proto: reserved field");
	buf[12] = 0;
	buf[DAXFS_MOUNTD_REQ_HDR + 100] = 'x';
	is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE, &out, why, sizeof(why)), -EINVAL, "proto: junk after NUL");
	buf[DAXFS_MOUNTD_REQ_HDR + 100] = 0;
	memset(buf + DAXFS_MOUNTD_REQ_HDR, 'a', DAXFS_MOUNTD_TARGET_MAX);
	is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE, &out, why, sizeof(why)), -EINVAL, "proto: unterminated target");
	daxfs__req_encode(&req, buf);
	buf[24] = 0xff;
	buf[25] = 0xff;
	buf[26] = 0xff;
	is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE, &out, why, sizeof(why)), -EINVAL, "proto: unknown mount flags");
	req.target[0] = '\0';
	ok(daxfs__req_encode(&req, buf) < 0, "proto: empty target not encodable");

	strcpy(rep.message, "no");
	daxfs__reply_encode(&rep, rbuf);
	is_int(daxfs__reply_decode(rbuf, sizeof(rbuf), &rout), 0, "reply: decode");
	ok(rout.error == EPERM && !strcmp(rout.message, "no"), "reply: round trip");
	is_int(daxfs__reply_decode(rbuf, sizeof(rbuf) - 1, &rout), -EPROTO, "reply: short refused");
}

/* ---------------------------------------------------------------- mountinfo */
static void test_mountinfo(void)
{
	struct daxfs_mountinfo mi;

	is_int(daxfs__mountinfo_parse_line(
		"36 35 0:42 / /mnt/my\\040weights ro,nosuid,relatime shared:5 master:1 - daxfs "
		"dmabuf:system-heap ro,size=1048576\n", &mi), 0, "mountinfo: parse");
	is_str(mi.mountpoint, "/mnt/my weights", "mountinfo: octal escape");
	is_str(mi.fstype, "daxfs", "mountinfo: fstype after optional fields");
	is_str(mi.source, "dmabuf:system-heap", "mountinfo: source");
	is_str(mi.super_opts, "ro,size=1048576", "mountinfo: super options");
	ok(mi.mount_id == 36 && mi.major == 0 && mi.minor == 42, "mountinfo: ids");
	ok(daxfs__mountinfo_parse_line("36 35 0:42 / /mnt ro\n", &mi) < 0, "mountinfo: no separator refused");
	ok(daxfs__mountinfo_parse_line("", &mi) < 0, "mountinfo: empty refused");
}

/* ---------------------------------------------------------------- images */
static void test_image(void)
{
	static struct daxfs_super sb;
	struct daxfs_image_desc d;
	char path[512];
	int fd, mfd, r;
	uint8_t *m;
	struct { int calls; uint64_t last; } prog = { 0 };

	memset(&sb, 0, sizeof(sb));
	sb.magic = htole32(DAXFS_IMAGE_MAGIC);
	sb.version = htole32(1);
	sb.image_size = htole64(3 * 4096);
	sb.inode_count = htole32(7);
	memcpy(sb.label, "weights", 7);
	sb.uuid[0] = 0xab;
	snprintf(path, sizeof(path), "%s/img", tmpdir);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	ok(write(fd, &sb, sizeof(sb)) == sizeof(sb), "image: write superblock");
	{
		char page[4096];

		for (int i = 0; i < 2; i++) {
			memset(page, 'A' + i, sizeof(page));
			if (write(fd, page, sizeof(page)) != sizeof(page))
				break;
		}
	}
	is_int(daxfs_image_probe(fd, 0, &d), 0, "probe: superblock read");
	ok(d.image_size == 3 * 4096 && d.inode_count == 7 && d.version == 1 &&
	   !strcmp(d.label, "weights") && d.uuid[0] == 0xab, "probe: fields");
	is_int(daxfs_image_probe(fd, 4096, &d), -EINVAL, "probe: no magic at offset 4096");

	mfd = memfd_create("fake-dmabuf", MFD_CLOEXEC);
	ftruncate(mfd, 8 * 4096);
	is_int(daxfs_dmabuf_size(mfd), 8 * 4096, "dmabuf_size via lseek");
	r = daxfs_dmabuf_fill(mfd, fd, 4096, (daxfs_progress_fn)(void (*)(void))NULL, NULL);
	is_int(r, 0, "fill: into a memfd at offset 4096");
	m = mmap(NULL, 8 * 4096, PROT_READ, MAP_SHARED, mfd, 0);
	ok(m != MAP_FAILED && !memcmp(m + 4096, &sb, sizeof(sb)) && m[2 * 4096] == 'A' &&
	   m[4 * 4096 - 1] == 'B' && m[0] == 0, "fill: bytes in place");
	if (m != MAP_FAILED)
		munmap(m, 8 * 4096);
	is_int(daxfs_image_probe(mfd, 4096, &d), 0, "probe: through a mapping-capable fd at an offset");
	is_int(daxfs_dmabuf_fill(mfd, fd, 100, NULL, NULL), -EINVAL, "fill: unaligned offset refused");
	is_int(daxfs_dmabuf_fill(mfd, fd, 6 * 4096, NULL, NULL), -EFBIG, "fill: image past the end refused");
	ok(strstr(daxfs_last_error(), "does not fit") != NULL, "fill: reason given");
	(void)prog;
	close(mfd);
	close(fd);
}

static uint64_t prog_done, prog_total;
static int prog_calls;
static void progress_cb(uint64_t done, uint64_t total, void *arg)
{
	(void)arg;
	prog_done = done;
	prog_total = total;
	prog_calls++;
}

static void test_fill_large(void)
{
	size_t sz = 20u << 20;	/* several chunks */
	char path[512];
	int fd, mfd;
	uint8_t *src, *m;

	snprintf(path, sizeof(path), "%s/big", tmpdir);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	src = malloc(sz);
	for (size_t i = 0; i < sz; i++)
		src[i] = (uint8_t)(i * 2654435761u >> 13);
	ok(write(fd, src, sz) == (ssize_t)sz, "fill large: write source");
	mfd = memfd_create("fake-dmabuf", MFD_CLOEXEC);
	ftruncate(mfd, (off_t)sz);
	is_int(daxfs_dmabuf_fill(mfd, fd, 0, progress_cb, NULL), 0, "fill large: 20 MiB");
	ok(prog_done == sz && prog_total == sz && prog_calls >= 3, "fill large: progress reported (%d calls)", prog_calls);
	m = mmap(NULL, sz, PROT_READ, MAP_SHARED, mfd, 0);
	ok(m != MAP_FAILED && !memcmp(m, src, sz), "fill large: identical bytes");
	if (m != MAP_FAILED)
		munmap(m, sz);
	free(src);
	close(mfd);
	close(fd);
}

/* ---------------------------------------------------------------- mountd */
struct fake {
	int calls;
	unsigned long flags;
	char target[4096];
	char options[1024];
	int ret;
};

static int fake_mount(void *priv, int dmabuf_fd, int target_fd, const char *target,
		      const struct daxfs_mount_opts *opts, char *msg, size_t msglen)
{
	struct fake *f = priv;
	struct stat st;

	f->calls++;
	f->flags = opts->flags;
	daxfs__strlcpy(f->target, target, sizeof(f->target));
	daxfs__strlcpy(f->options, opts->options ? opts->options : "", sizeof(f->options));
	if (fcntl(dmabuf_fd, F_GETFD) < 0 || fstat(target_fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(msg, msglen, "fake: bad fds");
		return -EBADF;
	}
	if (f->ret)
		snprintf(msg, msglen, "fake backend says no");
	return f->ret;
}

static char logbuf[8192];
static void testlog(void *priv, const char *fmt, ...)
{
	va_list ap;
	size_t l = strlen(logbuf);

	(void)priv;
	va_start(ap, fmt);
	vsnprintf(logbuf + l, sizeof(logbuf) - l, fmt, ap);
	va_end(ap);
	l = strlen(logbuf);
	if (l + 1 < sizeof(logbuf))
		strcat(logbuf, "\n");
}

static uid_t client_uid;
static char sock_path[300];
static int listen_fd = -1;

enum raw_kind { RAW_NONE, RAW_MALFORMED, RAW_NOFD, RAW_TWOFDS, RAW_OVERSIZE, RAW_DISCONNECT,
		RAW_SILENT, RAW_CLOSE_EARLY };

struct client_job {
	enum raw_kind raw;
	const char *target;
	const char *options;
	unsigned long flags;
};

static void drop_privs(void)
{
	if (getuid() == 0) {
		setgroups(0, NULL);
		if (setresgid(client_uid, client_uid, client_uid) || setresuid(client_uid, client_uid, client_uid))
			_exit(99);
	}
}

static int raw_send(int s, const void *buf, size_t len, const int *fds, int nfds)
{
	union { struct cmsghdr a; char b[CMSG_SPACE(sizeof(int) * 4)]; } ctrl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *c;

		memset(&ctrl, 0, sizeof(ctrl));
		mh.msg_control = ctrl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(s, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* Child: connect as client_uid and do the job; exit code = errno received. */
static void client(const struct client_job *j)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static uint8_t buf[DAXFS_MOUNTD_REQ_SIZE + 64];
	static struct daxfs_mountd_req req;
	struct daxfs_mountd_reply rep;
	uint8_t rbuf[DAXFS_MOUNTD_REPLY_SIZE];
	int s, fd, fds[2];
	ssize_t n;

	drop_privs();
	fd = memfd_create("stand-in", MFD_CLOEXEC);
	fds[0] = fd;
	fds[1] = memfd_create("second", MFD_CLOEXEC);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, sock_path);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		_exit(98);
	if (j->raw == RAW_NONE) {
		struct daxfs_mount_opts mo = { .size = sizeof(mo), .flags = j->flags, .options = j->options };
		int r = daxfs__mountd_client(s, fd, j->target, &mo, 5000);

		_exit(r < 0 ? -r : 0);
	}
	memset(&req, 0, sizeof(req));
	strcpy(req.target, j->target ? j->target : "/");
	daxfs__req_encode(&req, buf);
	switch (j->raw) {
	case RAW_MALFORMED:
		buf[0] = 'X';
		raw_send(s, buf, DAXFS_MOUNTD_REQ_SIZE, fds, 1);
		break;
	case RAW_NOFD:
		raw_send(s, buf, DAXFS_MOUNTD_REQ_SIZE, NULL, 0);
		break;
	case RAW_TWOFDS:
		raw_send(s, buf, DAXFS_MOUNTD_REQ_SIZE, fds, 2);
		break;
	case RAW_OVERSIZE:
		raw_send(s, buf, sizeof(buf), fds, 1);
		break;
	case RAW_DISCONNECT:
		_exit(0);
	case RAW_CLOSE_EARLY:
		raw_send(s, buf, DAXFS_MOUNTD_REQ_SIZE, fds, 1);
		_exit(0);
	case RAW_SILENT:
		sleep(2);
		_exit(0);
	default:
		break;
	}
	n = recv(s, rbuf, sizeof(rbuf), 0);
	if (n <= 0 || daxfs__reply_decode(rbuf, (size_t)n, &rep))
		_exit(97);
	_exit(rep.error);
}

/* Run one client against daxfs__mountd_serve; returns the client's exit code. */
static int run_case(const struct daxfs_mountd_cfg *cfg, const struct client_job *j, int *served)
{
	int status, conn;
	pid_t pid;

	pid = fork();
	if (pid == 0)
		client(j);
	conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	*served = conn >= 0 ? daxfs__mountd_serve(conn, cfg) : -999;
	if (conn >= 0)
		close(conn);
	if (j->raw == RAW_SILENT)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : (j->raw == RAW_SILENT ? 0 : -1);
}

static void mkdir_owned(const char *p, uid_t uid)
{
	mkdir(p, 0755);
	if (getuid() == 0)
		chown(p, uid, uid);
}

static void test_mountd(void)
{
	struct fake fake = { 0 };
	struct daxfs_mountd_backend be = { .mount = fake_mount, .priv = &fake };
	struct daxfs_policy pol;
	struct daxfs_mountd_cfg cfg = { .policy = &pol, .backend = &be, .timeout_ms = 300,
					.log = testlog };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char ptext[2048], why[256], allowed[512], mnt[600], other[600], linkp[600], notmine[600];
	int served, rc, fds_before;
	bool nonroot_client;

	client_uid = getuid() == 0 ? 65534 : getuid();
	nonroot_client = client_uid != 0;
	snprintf(allowed, sizeof(allowed), "%s/allowed", tmpdir);
	snprintf(mnt, sizeof(mnt), "%s/m", allowed);
	snprintf(other, sizeof(other), "%s/other", tmpdir);
	snprintf(linkp, sizeof(linkp), "%s/lnk", allowed);
	snprintf(notmine, sizeof(notmine), "%s/notmine", allowed);
	chmod(tmpdir, 0755);
	mkdir_owned(allowed, client_uid);
	mkdir_owned(mnt, client_uid);
	mkdir_owned(other, client_uid);
	symlink(other, linkp);
	mkdir(notmine, 0755);
	if (getuid() == 0)
		chown(notmine, 0, 0);
	snprintf(ptext, sizeof(ptext), "allow uid:%u %s options=label\n", (unsigned)client_uid, allowed);
	if (daxfs__policy_parse(ptext, strlen(ptext), &pol, why, sizeof(why))) {
		ok(0, "mountd: policy: %s", why);
		return;
	}

	snprintf(sock_path, sizeof(sock_path), "%s/sock", tmpdir);
	strcpy(sa.sun_path, sock_path);
	listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(sock_path, 0666) ||
	    listen(listen_fd, 4)) {
		ok(0, "mountd: listen: %s", strerror(errno));
		return;
	}
	fds_before = count_fds();
	printf("# mountd tests: client uid %u\n", (unsigned)client_uid);

	{
		struct client_job j = { .target = mnt, .options = "label=w", .flags = MS_NOATIME };

		rc = run_case(&cfg, &j, &served);
		is_int(rc, 0, "mountd: allowed request mounted");
		ok(fake.calls == 1 && !strcmp(fake.target, mnt) && !strcmp(fake.options, "label=w"),
		   "mountd: backend got target and options");
		if (nonroot_client)
			ok((fake.flags & (MS_NOSUID | MS_NODEV | MS_NOATIME)) == (MS_NOSUID | MS_NODEV | MS_NOATIME),
			   "mountd: nosuid,nodev forced for non-root (flags %#lx)", fake.flags);
	}
	fake.calls = 0;
	{
		struct client_job j = { .target = other };

		rc = run_case(&cfg, &j, &served);
		is_int(rc, nonroot_client ? EPERM : 0, "mountd: target outside the allowed prefix refused");
		if (nonroot_client)
			ok(fake.calls == 0 && strstr(logbuf, "refused") && strstr(logbuf, "outside"),
			   "mountd: refusal logged with the reason, backend not called");
	}
	fake.calls = 0;
	{
		char escape[700];
		struct client_job j = { .target = escape };

		snprintf(escape, sizeof(escape), "%s/m", linkp);
		mkdir_owned(other, client_uid);
		rc = run_case(&cfg, &j, &served);
		is_int(rc, ELOOP, "mountd: symlink escape refused");
		ok(fake.calls == 0, "mountd: symlink escape: backend not called");
		j.target = linkp;
		rc = run_case(&cfg, &j, &served);
		is_int(rc, ELOOP, "mountd: target that is a symlink refused");
		snprintf(escape, sizeof(escape), "%s/m/../../other", allowed);
		j.target = escape;
		rc = run_case(&cfg, &j, &served);
		is_int(rc, EINVAL, "mountd: .. in the target refused");
	}
	if (nonroot_client) {
		struct client_job j = { .target = notmine };

		rc = run_case(&cfg, &j, &served);
		is_int(rc, EPERM, "mountd: directory owned by someone else refused");
		j.target = mnt;
		j.options = "phys=0x100000,size=4096";
		rc = run_case(&cfg, &j, &served);
		is_int(rc, EPERM, "mountd: option not in the policy (phys=) refused");
	}
	{
		struct daxfs_policy empty = { 0 };
		const struct daxfs_policy *save = cfg.policy;
		struct client_job j = { .target = mnt };

		cfg.policy = &empty;
		rc = run_case(&cfg, &j, &served);
		is_int(rc, nonroot_client ? EPERM : 0, "mountd: no rule for the client refused");
		cfg.policy = save;
	}
	fake.calls = 0;
	fake.ret = -EUCLEAN;
	{
		struct client_job j = { .target = mnt };

		rc = run_case(&cfg, &j, &served);
		is_int(rc, EUCLEAN, "mountd: backend error returned to the client");
	}
	fake.ret = 0;
	fake.calls = 0;
	{
		static const struct { enum raw_kind k; int want; const char *name; } raws[] = {
			{ RAW_MALFORMED, EPROTO, "malformed request (bad magic)" },
			{ RAW_NOFD, EBADF, "request without an fd" },
			{ RAW_TWOFDS, EINVAL, "request with two fds" },
			{ RAW_OVERSIZE, EMSGSIZE, "oversize request" },
		};
		for (size_t i = 0; i < sizeof(raws) / sizeof(raws[0]); i++) {
			struct client_job j = { .raw = raws[i].k, .target = mnt };

			rc = run_case(&cfg, &j, &served);
			is_int(rc, raws[i].want, "mountd: %s refused cleanly", raws[i].name);
		}
		ok(fake.calls == 0, "mountd: no bad request reached the backend");
	}
	{
		struct client_job j = { .raw = RAW_DISCONNECT, .target = mnt };

		run_case(&cfg, &j, &served);
		is_int(served, -ECONNRESET, "mountd: client gone before the request");
		j.raw = RAW_CLOSE_EARLY;
		run_case(&cfg, &j, &served);
		ok(served == 0 || served > 0, "mountd: client gone before the reply: handled (%d)", served);
		j.raw = RAW_SILENT;
		run_case(&cfg, &j, &served);
		is_int(served, ETIMEDOUT, "mountd: silent client times out");
	}
	is_int(count_fds(), fds_before, "mountd: no fd leaked by the server side");
	close(listen_fd);
	daxfs__policy_free(&pol);
	printf("# log:\n");
	for (char *l = strtok(logbuf, "\n"); l; l = strtok(NULL, "\n"))
		printf("#   %s\n", l);
}

static void test_public_errors(void)
{
	is_int(daxfs_mount_dmabuf(-1, "/mnt"), -EBADF, "mount: bad fd");
	is_int(daxfs_mount_dmabuf(0, NULL), -EINVAL, "mount: no target");
	{
		struct daxfs_mount_opts o = { .size = sizeof(o), .flags = MS_BIND };

		is_int(daxfs_mount_dmabuf_opts(0, "/mnt", &o), -EINVAL, "mount: unsupported flag refused");
		o.size = 2;
		is_int(daxfs_mount_dmabuf_opts(0, "/mnt", &o), -EINVAL, "mount: opts size too small");
	}
	is_int(daxfs_umount("/"), -EINVAL, "umount: not a daxfs mount refused");
	ok(strstr(daxfs_last_error(), "not a daxfs mount") != NULL, "umount: reason");
	is_int(daxfs_dmabuf_alloc_heap("../x", 4096), -EINVAL, "heap: bad name");
	is_int(daxfs_dmabuf_alloc_heap("system", 0), -EINVAL, "heap: zero size");
	is_int(daxfs_dmabuf_alloc_udmabuf(4096, 0x80), -EINVAL, "udmabuf: unknown flag");
	is_int(daxfs_dmabuf_alloc_drm(NULL, 4096), -EINVAL, "drm: no device");
	ok(daxfs_dmabuf_alloc_drm("/nonexistent/card", 4096) == -ENOENT, "drm: missing device");
	is_int(daxfs_mountd_request("/nonexistent/sock", 0, "/mnt", NULL), -ENOENT, "mountd_request: no daemon");
	ok(strstr(daxfs_last_error(), "daxfs-mountd") != NULL, "mountd_request: reason");
	is_str(daxfs_version(), DAXFS_DMABUF_VERSION_STRING, "version string");
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/daxfs-unit.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		printf("not ok 1 - mkdtemp\n");
		return 1;
	}
	printf("TAP version 13\n");
	test_options();
	test_paths();
	test_policy();
	test_proto();
	test_mountinfo();
	test_image();
	test_fill_large();
	test_public_errors();
	test_mountd();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd))
			printf("# could not remove %s\n", tmpdir);
	}
	return tap_done();
}
