// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Host-side unit tests: no kernel module needed.  Option strings, the
 * policy file, the mountd wire format, path checks, mountinfo lines,
 * image probing and filling (into a memfd, from files and pipes, with
 * EINTR and a file that shrinks), the available-memory check, the load
 * pipeline of daxfs_mount_image() (validation, sizes, truncated, corrupt
 * and oversized images; memfds stand in for the exporters), and the
 * mountd protocol end to end over a Unix socket with a fake mount
 * backend, and the arguments daxfs_export_dmabuf() refuses before it asks
 * the kernel.  TAP on stdout.
 */
#include <ctype.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"
#include "daemon/daemon.h"
#include "daxfs_format.h"
#include "daxfs_validate.h"
#include "dxt_tap.h"
#include "dxt_util.h"

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

	dxt_is_int(daxfs__parse_u64("4096", &v), 0, "parse_u64 decimal");
	dxt_is_int(v, 4096, "parse_u64 value");
	dxt_is_int(daxfs__parse_u64("2M", &v), 0, "parse_u64 suffix");
	dxt_is_int(v, 2 << 20, "parse_u64 2M");
	dxt_is_int(daxfs__parse_u64("0x1000", &v), 0, "parse_u64 hex");
	dxt_ok(daxfs__parse_u64("-1", &v) < 0, "parse_u64 refuses negatives");
	dxt_ok(daxfs__parse_u64("12x", &v) < 0, "parse_u64 refuses junk");
	dxt_ok(daxfs__parse_u64("99999999999999999999", &v) < 0, "parse_u64 refuses overflow");
	dxt_ok(daxfs__parse_u64("17179869184G", &v) < 0, "parse_u64 refuses suffix overflow");

	dxt_is_int(daxfs__parse_mount_options("image=/tmp/x.img,heap=system,nosuid,noexec,foo=bar,"
					  "defaults,x-systemd.automount,ro,,label=a", &o), 0,
	       "parse a full option string");
	dxt_is_str(o.image, "/tmp/x.img", "image= consumed");
	dxt_is_int(o.exporter, DAXFS_EXPORTER_HEAP, "heap= selects the heap exporter");
	dxt_is_str(o.exporter_arg, "system", "heap name");
	dxt_is_int(o.flags, MS_NOSUID | MS_NOEXEC | MS_RDONLY, "generic flags become MS_ flags");
	dxt_is_str(o.kernel, "foo=bar,label=a", "unknown options go to the kernel, user-space ones dropped");

	dxt_is_int(daxfs__parse_mount_options("image=/i,udmabuf=hugetlb,offset=2M", &o), 0, "udmabuf=hugetlb");
	dxt_ok(o.exporter == DAXFS_EXPORTER_UDMABUF && o.hugetlb, "hugetlb udmabuf");
	dxt_ok(o.has_offset && o.offset == 2u << 20, "offset=2M");
	dxt_is_int(daxfs__parse_mount_options("image=/i,drm=/dev/dri/card0,nodev,exec,suid", &o), 0, "drm=");
	dxt_ok(o.exporter == DAXFS_EXPORTER_DRM && !strcmp(o.exporter_arg, "/dev/dri/card0"), "drm device");
	dxt_is_int(o.flags, MS_NODEV, "clearing flags (exec, suid)");
	dxt_is_int(daxfs__parse_mount_options("rw,nosuid", &o), 0, "rw accepted");
	dxt_ok(o.rw && !o.image[0], "rw recorded, no image");
	dxt_is_int(daxfs__parse_mount_options("", &o), 0, "empty string");
	dxt_is_int(daxfs__parse_mount_options(NULL, &o), 0, "NULL string");

	dxt_is_int(daxfs__parse_mount_options("image=/i,heap=system,udmabuf", &o), -EINVAL, "two exporters refused");
	dxt_ok(strstr(daxfs_last_error(), "more than one exporter") != NULL, "two exporters: reason");
	dxt_is_int(daxfs__parse_mount_options("heap=system", &o), -EINVAL, "exporter without image= refused");
	dxt_is_int(daxfs__parse_mount_options("image=", &o), -EINVAL, "empty image= refused");
	dxt_is_int(daxfs__parse_mount_options("image=/a,image=/b", &o), -EINVAL, "image= twice refused");
	dxt_is_int(daxfs__parse_mount_options("image=/a,heap=../x", &o), -EINVAL, "heap name with / refused");
	dxt_is_int(daxfs__parse_mount_options("image=/a,udmabuf=big", &o), -EINVAL, "udmabuf=junk refused");
	dxt_is_int(daxfs__parse_mount_options("offset=abc", &o), -EINVAL, "bad offset refused");
	{
		char big[DAXFS_OPT_MAX * 2];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		dxt_is_int(daxfs__parse_mount_options(big, &o), -EINVAL, "oversize option refused");
		for (size_t i = 1; i < sizeof(big) - 1; i += 2)
			big[i] = ',';
		dxt_is_int(daxfs__parse_mount_options(big, &o), -EINVAL, "oversize kernel string refused");
	}
}

/* ---------------------------------------------------------------- paths */
static void test_paths(void)
{
	char why[256], p[512];
	int fd;

	dxt_is_int(daxfs__path_check_lexical("/", why, sizeof(why)), 0, "lexical: /");
	dxt_is_int(daxfs__path_check_lexical("/srv/models", why, sizeof(why)), 0, "lexical: clean path");
	dxt_is_int(daxfs__path_check_lexical("srv", why, sizeof(why)), -EINVAL, "lexical: relative refused");
	dxt_is_int(daxfs__path_check_lexical("/a//b", why, sizeof(why)), -EINVAL, "lexical: // refused");
	dxt_is_int(daxfs__path_check_lexical("/a/./b", why, sizeof(why)), -EINVAL, "lexical: . refused");
	dxt_is_int(daxfs__path_check_lexical("/a/../etc", why, sizeof(why)), -EINVAL, "lexical: .. refused");
	dxt_is_int(daxfs__path_check_lexical("/a/..", why, sizeof(why)), -EINVAL, "lexical: trailing .. refused");
	dxt_ok(daxfs__path_check_lexical("", why, sizeof(why)) < 0, "lexical: empty refused");

	dxt_ok(daxfs__path_under("/srv/models", "/srv/models"), "under: equal");
	dxt_ok(daxfs__path_under("/srv/models/a", "/srv/models"), "under: below");
	dxt_ok(!daxfs__path_under("/srv/models2", "/srv/models"), "under: sibling with same prefix refused");
	dxt_ok(!daxfs__path_under("/srv", "/srv/models"), "under: parent refused");
	dxt_ok(daxfs__path_under("/x", "/"), "under: root prefix");
	dxt_ok(daxfs__path_under("/srv/models/a", "/srv/models/"), "under: prefix with trailing slash");

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
	dxt_ok(fd >= 0, "nofollow: real directory opens");
	if (fd >= 0)
		close(fd);
	snprintf(p, sizeof(p), "%s/link/sub", tmpdir);
	dxt_is_int(daxfs__open_dir_nofollow(p, why, sizeof(why)), -ELOOP, "nofollow: symlink in the middle refused");
	dxt_ok(strstr(why, "symbolic link") != NULL, "nofollow: reason names the symlink");
	snprintf(p, sizeof(p), "%s/link", tmpdir);
	dxt_is_int(daxfs__open_dir_nofollow(p, why, sizeof(why)), -ELOOP, "nofollow: final symlink refused");
	snprintf(p, sizeof(p), "%s/file", tmpdir);
	dxt_is_int(daxfs__open_dir_nofollow(p, why, sizeof(why)), -ENOTDIR, "nofollow: file refused");
	snprintf(p, sizeof(p), "%s/missing", tmpdir);
	dxt_is_int(daxfs__open_dir_nofollow(p, why, sizeof(why)), -ENOENT, "nofollow: missing");
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

	dxt_is_int(daxfs__policy_parse(good, strlen(good), &pol, why, sizeof(why)), 0, "policy: parse good file");
	dxt_is_int(pol.nrules, 4, "policy: four rules");
	if (pol.nrules == 4) {
		dxt_is_str(pol.rules[1].prefix, "/mnt/weights", "policy: trailing slash of prefix dropped");
		dxt_ok(pol.rules[1].flags & DAXFS_POLICY_OPT_FORCE_NOEXEC, "policy: noexec flag");
		dxt_is_str(pol.rules[1].options, "label:foo", "policy: option list");
		dxt_ok(pol.rules[2].who == DAXFS_WHO_USER && pol.rules[2].flags & DAXFS_POLICY_OPT_ANY_OWNER,
		   "policy: user rule, any-owner");
		dxt_is_int(pol.rules[2].line, 5, "policy: line numbers");
	}

	r = daxfs__policy_match(&pol, &peer, "/srv/models/m1", why, sizeof(why));
	dxt_ok(r == &pol.rules[0], "match: uid rule under prefix");
	r = daxfs__policy_match(&pol, &peer, "/srv/models2", why, sizeof(why));
	dxt_ok(!r && strstr(why, "outside"), "match: outside the prefix refused (%s)", why);
	peer.uid = 1001;
	peer.gid = 1001;
	r = daxfs__policy_match(&pol, &peer, "/srv/models", why, sizeof(why));
	dxt_ok(!r && strstr(why, "no policy rule"), "match: unknown uid refused (%s)", why);
	peer.groups = groups;
	peer.ngroups = 2;
	r = daxfs__policy_match(&pol, &peer, "/mnt/weights/a", why, sizeof(why));
	dxt_ok(r == &pol.rules[1], "match: supplementary group");
	peer.uid = 0;
	r = daxfs__policy_match(&pol, &peer, "/anywhere", why, sizeof(why));
	dxt_ok(r != NULL, "match: root may mount anywhere");
	peer.uid = 1002;
	peer.gid = 0;
	peer.ngroups = 0;
	r = daxfs__policy_match(&pol, &peer, "/y/z", why, sizeof(why));
	dxt_ok(r == &pol.rules[3], "match: group by name (root = gid 0)");
	daxfs__policy_free(&pol);

	dxt_ok(daxfs__options_allowed("", "", why, sizeof(why)), "options: none is fine");
	dxt_ok(daxfs__options_allowed("label=x,foo", "label:foo", why, sizeof(why)), "options: allowed keys");
	dxt_ok(!daxfs__options_allowed("phys=0x1000", "label", why, sizeof(why)), "options: phys= refused");
	dxt_ok(!daxfs__options_allowed("lab", "label", why, sizeof(why)), "options: prefix of a key refused");

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

			dxt_ok(e == -EINVAL && strstr(why, bad[i].reason), "policy refuses %.*s (%s)",
			   (int)strcspn(bad[i].text, "\n"), bad[i].text, why);
		}
		dxt_ok(daxfs__policy_parse("allow uid:1 /a\0x", 16, &pol, why, sizeof(why)) == -EINVAL,
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
		dxt_is_int(daxfs__policy_load(path, &pol, why, sizeof(why)), 0, "policy_load: 0644 file");
		daxfs__policy_free(&pol);
		chmod(path, 0666);
		dxt_is_int(daxfs__policy_load(path, &pol, why, sizeof(why)), -EPERM,
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
	dxt_is_int(daxfs__req_encode(&req, buf), 0, "proto: encode");
	dxt_is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE, &out, why, sizeof(why)), 0, "proto: decode");
	dxt_ok(out.offset == 8192 && out.ms_flags == MS_NOSUID && !strcmp(out.target, req.target) &&
	   !strcmp(out.options, req.options), "proto: round trip");
	dxt_is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE - 1, &out, why, sizeof(why)), -EPROTO, "proto: short refused");
	dxt_is_int(daxfs__req_decode(buf, 10, &out, why, sizeof(why)), -EPROTO, "proto: truncated header refused");
	dxt_is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE + 8, &out, why, sizeof(why)), -EPROTO, "proto: long refused");
	buf[0] ^= 1;
	dxt_is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE, &out, why, sizeof(why)), -EPROTO, "proto: bad magic");
	buf[0] ^= 1;
	buf[4] = 2;
	dxt_is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE, &out, why, sizeof(why)), -EPROTO, "proto: bad version");
	buf[4] = 1;
	buf[12] = 1;
	dxt_is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE, &out, why, sizeof(why)), -EINVAL, "proto: reserved field");
	buf[12] = 0;
	buf[DAXFS_MOUNTD_REQ_HDR + 100] = 'x';
	dxt_is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE, &out, why, sizeof(why)), -EINVAL, "proto: junk after NUL");
	buf[DAXFS_MOUNTD_REQ_HDR + 100] = 0;
	memset(buf + DAXFS_MOUNTD_REQ_HDR, 'a', DAXFS_MOUNTD_TARGET_MAX);
	dxt_is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE, &out, why, sizeof(why)), -EINVAL, "proto: unterminated target");
	daxfs__req_encode(&req, buf);
	buf[24] = 0xff;
	buf[25] = 0xff;
	buf[26] = 0xff;
	dxt_is_int(daxfs__req_decode(buf, DAXFS_MOUNTD_REQ_SIZE, &out, why, sizeof(why)), -EINVAL, "proto: unknown mount flags");
	req.target[0] = '\0';
	dxt_ok(daxfs__req_encode(&req, buf) < 0, "proto: empty target not encodable");

	strcpy(rep.message, "no");
	daxfs__reply_encode(&rep, rbuf);
	dxt_is_int(daxfs__reply_decode(rbuf, sizeof(rbuf), &rout), 0, "reply: decode");
	dxt_ok(rout.error == EPERM && !strcmp(rout.message, "no"), "reply: round trip");
	dxt_is_int(daxfs__reply_decode(rbuf, sizeof(rbuf) - 1, &rout), -EPROTO, "reply: short refused");
}

/* ---------------------------------------------------------------- mountinfo */
static void test_mountinfo(void)
{
	struct daxfs_mountinfo mi;

	dxt_is_int(daxfs__mountinfo_parse_line(
		"36 35 0:42 / /mnt/my\\040weights ro,nosuid,relatime shared:5 master:1 - daxfs "
		"dmabuf:system-heap ro,size=1048576\n", &mi), 0, "mountinfo: parse");
	dxt_is_str(mi.mountpoint, "/mnt/my weights", "mountinfo: octal escape");
	dxt_is_str(mi.fstype, "daxfs", "mountinfo: fstype after optional fields");
	dxt_is_str(mi.source, "dmabuf:system-heap", "mountinfo: source");
	dxt_is_str(mi.super_opts, "ro,size=1048576", "mountinfo: super options");
	dxt_ok(mi.mount_id == 36 && mi.major == 0 && mi.minor == 42, "mountinfo: ids");
	dxt_ok(daxfs__mountinfo_parse_line("36 35 0:42 / /mnt ro\n", &mi) < 0, "mountinfo: no separator refused");
	dxt_ok(daxfs__mountinfo_parse_line("", &mi) < 0, "mountinfo: empty refused");
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
	dxt_ok(write(fd, &sb, sizeof(sb)) == sizeof(sb), "image: write superblock");
	{
		char page[4096];

		for (int i = 0; i < 2; i++) {
			memset(page, 'A' + i, sizeof(page));
			if (write(fd, page, sizeof(page)) != sizeof(page))
				break;
		}
	}
	dxt_is_int(daxfs_image_probe(fd, 0, &d), 0, "probe: superblock read");
	dxt_ok(d.image_size == 3 * 4096 && d.inode_count == 7 && d.version == 1 &&
	   !strcmp(d.label, "weights") && d.uuid[0] == 0xab, "probe: fields");
	dxt_is_int(daxfs_image_probe(fd, 4096, &d), -EINVAL, "probe: no magic at offset 4096");

	mfd = memfd_create("fake-dmabuf", MFD_CLOEXEC);
	ftruncate(mfd, 8 * 4096);
	dxt_is_int(daxfs_dmabuf_size(mfd), 8 * 4096, "dmabuf_size via lseek");
	r = daxfs_dmabuf_fill(mfd, fd, 4096, (daxfs_progress_fn)(void (*)(void))NULL, NULL);
	dxt_is_int(r, 0, "fill: into a memfd at offset 4096");
	m = mmap(NULL, 8 * 4096, PROT_READ, MAP_SHARED, mfd, 0);
	dxt_ok(m != MAP_FAILED && !memcmp(m + 4096, &sb, sizeof(sb)) && m[2 * 4096] == 'A' &&
	   m[4 * 4096 - 1] == 'B' && m[0] == 0, "fill: bytes in place");
	if (m != MAP_FAILED)
		munmap(m, 8 * 4096);
	dxt_is_int(daxfs_image_probe(mfd, 4096, &d), 0, "probe: through a mapping-capable fd at an offset");
	{
		int p[2];
		char c = 0;

		dxt_ok(pipe(p) == 0 && write(p[1], "D", 1) == 1, "probe: a pipe with a byte in it");
		dxt_is_int(daxfs_image_probe(p[0], 0, &d), -ESPIPE, "probe: a pipe refused");
		dxt_ok(read(p[0], &c, 1) == 1 && c == 'D', "probe: the pipe's data not consumed");
		close(p[0]);
		close(p[1]);
	}
	dxt_is_int(daxfs_dmabuf_fill(mfd, fd, 100, NULL, NULL), -EINVAL, "fill: unaligned offset refused");
	dxt_is_int(daxfs_dmabuf_fill(mfd, fd, 6 * 4096, NULL, NULL), -EFBIG, "fill: image past the end refused");
	dxt_ok(strstr(daxfs_last_error(), "does not fit") != NULL, "fill: reason given");
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
	dxt_ok(write(fd, src, sz) == (ssize_t)sz, "fill large: write source");
	mfd = memfd_create("fake-dmabuf", MFD_CLOEXEC);
	ftruncate(mfd, (off_t)sz);
	dxt_is_int(daxfs_dmabuf_fill(mfd, fd, 0, progress_cb, NULL), 0, "fill large: 20 MiB");
	dxt_ok(prog_done == sz && prog_total == sz && prog_calls >= 3, "fill large: progress reported (%d calls)", prog_calls);
	m = mmap(NULL, sz, PROT_READ, MAP_SHARED, mfd, 0);
	dxt_ok(m != MAP_FAILED && !memcmp(m, src, sz), "fill large: identical bytes");
	if (m != MAP_FAILED)
		munmap(m, sz);
	free(src);
	close(mfd);
	close(fd);
}

/* ------------------------------------------------ reading, EINTR, short reads */

/*
 * Wait until @pid sits in a blocking read(2) (its /proc/PID/syscall names
 * SYS_read): an observed state, not a sleep.  false after 10 s.
 */
static bool wait_blocked_in_read(pid_t pid)
{
	struct timespec t0, t;
	char path[64], buf[128];

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = '\0';
			if (atol(buf) == SYS_read && isdigit((unsigned char)buf[0]))
				return true;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10)
			return false;
		sched_yield();
	}
}

/* SIGUSR1 without SA_RESTART: the handler delivers the rest of the data. */
static int eintr_wfd = -1;
static const char *eintr_rest;
static volatile sig_atomic_t eintr_seen;

static void eintr_handler(int sig)
{
	(void)sig;
	eintr_seen = 1;
	if (write(eintr_wfd, eintr_rest, strlen(eintr_rest)) < 0)
		_exit(90);
	close(eintr_wfd);
}

/* A child that signals @target once @target blocks in read(2). */
static pid_t signal_when_blocked(pid_t target)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(wait_blocked_in_read(target) && kill(target, SIGUSR1) == 0 ? 0 : 1);
	return pid;
}

/* A child that writes @len bytes of @p to @fd in pieces of @piece bytes. */
static pid_t feeder(int fd, const void *p, size_t len, size_t piece, int close_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		if (close_fd >= 0)
			close(close_fd);
		for (size_t off = 0; off < len; off += piece) {
			size_t n = len - off < piece ? len - off : piece;

			if (write(fd, (const char *)p + off, n) != (ssize_t)n)
				_exit(1);
		}
		_exit(0);
	}
	return pid;
}

static void test_io(void)
{
	struct sigaction sa, old;
	char buf[64], path[512];
	int p[2], fd;
	pid_t k;

	/* Short reads: a pipe fed in 5-byte pieces. */
	{
		static const char msg[] = "0123456789abcdefghijklmnopqrstuvwxyz";
		pid_t f;

		dxt_ok(pipe(p) == 0, "io: pipe");
		f = feeder(p[1], msg, sizeof(msg) - 1, 5, p[0]);
		close(p[1]);
		memset(buf, 0, sizeof(buf));
		dxt_is_int(daxfs__read_full(p[0], buf, sizeof(msg) - 1), sizeof(msg) - 1,
		       "read_full: whole message from 5-byte writes");
		dxt_is_str(buf, msg, "read_full: bytes in order");
		dxt_is_int(daxfs__read_full(p[0], buf, 10), 0, "read_full: 0 at end of file");
		close(p[0]);
		dxt_is_int(dxt_wait(f), 0, "read_full: feeder done");
	}
	/* EINTR: blocked in read, interrupted by a signal whose handler writes the rest. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = eintr_handler;	/* no SA_RESTART: read(2) fails with EINTR */
	sigaction(SIGUSR1, &sa, &old);
	dxt_ok(pipe(p) == 0, "io: pipe");
	dxt_ok(write(p[1], "head-", 5) == 5, "io: first part written");
	eintr_wfd = p[1];
	eintr_rest = "tail";
	eintr_seen = 0;
	k = signal_when_blocked(getpid());
	memset(buf, 0, sizeof(buf));
	dxt_is_int(daxfs__read_full(p[0], buf, 9), 9, "read_full: retried after EINTR");
	dxt_is_str(buf, "head-tail", "read_full: both parts after EINTR");
	dxt_is_int(dxt_wait(k), 0, "read_full: the signal came while blocked in read");
	dxt_ok(eintr_seen, "read_full: the handler ran");
	close(p[0]);
	sigaction(SIGUSR1, &old, NULL);

	snprintf(path, sizeof(path), "%s/pread", tmpdir);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	dxt_ok(write(fd, "abcdefgh", 8) == 8, "io: file written");
	memset(buf, 0, sizeof(buf));
	dxt_is_int(daxfs__pread_full(fd, buf, 4, 2), 4, "pread_full: 4 bytes at 2");
	dxt_is_str(buf, "cdef", "pread_full: bytes");
	dxt_is_int(daxfs__pread_full(fd, buf, 10, 6), 2, "pread_full: short only at end of file");
	dxt_is_int(daxfs__pread_full(fd, buf, 10, UINT64_MAX - 4), -EOVERFLOW, "pread_full: offset overflow");
	close(fd);
}

/* ------------------------------------------------------------ memory check */
static void put_file(const char *dir, const char *name, const char *text)
{
	char p[1024];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_memavail(void)
{
	char base[512], cg[600], d[700], mi[2048], why[512], path[600];
	struct daxfs_mem_env env;
	uint64_t v;

	dxt_is_int(daxfs__meminfo_value("MemTotal: 4 kB\nMemAvailable:    1024 kB\n", "MemAvailable", &v), 0,
	       "meminfo: MemAvailable");
	dxt_is_int(v, 1 << 20, "meminfo: kB to bytes");
	dxt_is_int(daxfs__meminfo_value("HugePages_Free:       7\n", "HugePages_Free", &v), 0, "meminfo: bare number");
	dxt_is_int(v, 7, "meminfo: bare value");
	dxt_is_int(daxfs__meminfo_value("MemAvailableX: 5 kB\n", "MemAvailable", &v), -ENOENT,
	       "meminfo: a longer key does not match");
	dxt_is_int(daxfs__meminfo_value("MemAvailable: 5 MB\n", "MemAvailable", &v), -EINVAL, "meminfo: bad unit");
	dxt_is_int(daxfs__meminfo_value("MemAvailable: 99999999999999999999 kB\n", "MemAvailable", &v), -EINVAL,
	       "meminfo: overflow refused");
	dxt_is_int(daxfs__meminfo_value("MemAvailable: 18014398509481984 kB\n", "MemAvailable", &v), -EINVAL,
	       "meminfo: kB overflow refused");
	dxt_is_int(daxfs__meminfo_value("", "MemAvailable", &v), -ENOENT, "meminfo: empty");

	dxt_is_int(daxfs__cgroup_path("1:name=systemd:/x\n0::/a/b\n", NULL, path, sizeof(path)), 0, "cgroup: v2 line");
	dxt_is_str(path, "/a/b", "cgroup: v2 path");
	dxt_is_int(daxfs__cgroup_path("4:cpu,memory:/m:x\n0::/a\n", "memory", path, sizeof(path)), 0, "cgroup: v1 memory line");
	dxt_is_str(path, "/m:x", "cgroup: v1 path (colons kept)");
	dxt_is_int(daxfs__cgroup_path("4:memoryx:/m\n", "memory", path, sizeof(path)), -ENOENT, "cgroup: similar controller name");
	dxt_is_int(daxfs__cgroup_path("0::relative\n", NULL, path, sizeof(path)), -EINVAL, "cgroup: relative path refused");
	dxt_is_int(daxfs__cgroup_path("0::/abc\n", NULL, path, 3), -EINVAL, "cgroup: path too long refused");
	dxt_is_int(daxfs__cgroup_number("max\n", &v), 0, "cgroup number: max");
	dxt_ok(v == UINT64_MAX, "cgroup number: max is unlimited");
	dxt_is_int(daxfs__cgroup_number("536870912\n", &v), 0, "cgroup number: decimal");
	dxt_is_int(v, 536870912, "cgroup number: value");
	dxt_is_int(daxfs__cgroup_number("12a\n", &v), -EINVAL, "cgroup number: junk refused");
	dxt_is_int(daxfs__cgroup_number("", &v), -EINVAL, "cgroup number: empty refused");

	/* A fake /proc and cgroup2 tree: MemAvailable 1 GiB; /a limited to 512 MiB. */
	snprintf(base, sizeof(base), "%s/mem", tmpdir);
	mkdir(base, 0755);
	snprintf(cg, sizeof(cg), "%s/cg", base);
	mkdir(cg, 0755);
	snprintf(d, sizeof(d), "%s/a", cg);
	mkdir(d, 0755);
	put_file(d, "memory.max", "536870912\n");
	put_file(d, "memory.current", "104857600\n");
	snprintf(d, sizeof(d), "%s/a/b", cg);
	mkdir(d, 0755);
	put_file(d, "memory.max", "max\n");
	put_file(d, "memory.current", "1000\n");
	put_file(base, "meminfo", "MemTotal: 2097152 kB\nMemAvailable: 1048576 kB\n");
	put_file(base, "cgroup", "0::/a/b\n");
	snprintf(mi, sizeof(mi), "22 1 0:21 / /proc rw - proc proc rw\n"
		 "30 22 0:26 / %s rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n", cg);
	put_file(base, "mountinfo", mi);
	snprintf(path, sizeof(path), "%s/meminfo", base);
	{
		char p_mi[600], p_cg[600];

		snprintf(p_mi, sizeof(p_mi), "%s/mountinfo", base);
		snprintf(p_cg, sizeof(p_cg), "%s/cgroup", base);
		env = (struct daxfs_mem_env){ .meminfo = path, .mountinfo = p_mi, .cgroup = p_cg,
					      .hugepages = base };
		v = daxfs__mem_available(&env, false, why, sizeof(why));
		dxt_is_int(v, 536870912 - 104857600, "memavail: the ancestor's limit binds");
		dxt_is_str(why, "cgroup /a: memory.max 536870912, memory.current 104857600", "memavail: the reason names it");
		put_file(d, "memory.max", "2000000\n");
		v = daxfs__mem_available(&env, false, why, sizeof(why));
		dxt_is_int(v, 2000000 - 1000, "memavail: the own cgroup's lower limit binds");
		put_file(d, "memory.max", "500\n");
		v = daxfs__mem_available(&env, false, why, sizeof(why));
		dxt_is_int(v, 0, "memavail: usage above the limit leaves nothing");
		put_file(d, "memory.max", "max\n");
		put_file(base, "cgroup", "0::/\n");
		v = daxfs__mem_available(&env, false, why, sizeof(why));
		dxt_is_int(v, 1 << 30, "memavail: root cgroup: MemAvailable");
		dxt_is_str(why, "MemAvailable in /proc/meminfo", "memavail: reason MemAvailable");
		/* A cgroup mount whose root is /a (a namespace, a bind mount). */
		snprintf(mi, sizeof(mi), "30 22 0:26 /a %s/a rw - cgroup2 cgroup2 rw\n", cg);
		put_file(base, "mountinfo", mi);
		put_file(base, "cgroup", "0::/a/b\n");
		put_file(d, "memory.max", "3000\n");
		v = daxfs__mem_available(&env, false, why, sizeof(why));
		dxt_is_int(v, 2000, "memavail: mount root /a: /a/b found as /b");
		put_file(base, "cgroup", "0::/../outside\n");
		v = daxfs__mem_available(&env, false, why, sizeof(why));
		dxt_is_int(v, 1 << 30, "memavail: a cgroup outside the namespace is ignored");
		put_file(base, "free_hugepages", "3\n");
		v = daxfs__mem_available(&env, true, why, sizeof(why));
		dxt_is_int(v, 3 * (2 << 20), "memavail: hugetlb: free 2 MiB pages");
		dxt_is_str(why, "free 2 MiB huge pages: 3", "memavail: hugetlb reason");
		put_file(base, "resv_hugepages", "1\n");
		v = daxfs__mem_available(&env, true, why, sizeof(why));
		dxt_is_int(v, 2 * (2 << 20), "memavail: hugetlb: pages reserved for mappings are not free");
		put_file(base, "resv_hugepages", "5\n");
		dxt_is_int(daxfs__mem_available(&env, true, NULL, 0), 0,
			   "memavail: hugetlb: more reserved than free: none");
		env.meminfo = "/nonexistent/meminfo";
		env.cgroup = "/nonexistent/cgroup";
		dxt_ok(daxfs__mem_available(&env, false, why, sizeof(why)) == UINT64_MAX,
		   "memavail: nothing known: no limit");
	}
	v = daxfs__mem_available(NULL, false, why, sizeof(why));
	dxt_ok(v > 0 && v < UINT64_MAX, "memavail: this machine: %llu bytes (%s)", (unsigned long long)v, why);
}

/* ------------------------------------------------------------ images */

/*
 * A valid image in @path: root directory, one file "hello" of @data_len
 * bytes at 8192, image_size rounded up to 4096 plus @extra bytes.  Returns
 * image_size.  The data bytes are data_byte(i).
 */
static unsigned char data_byte(size_t i)
{
	return (unsigned char)((i * 2654435761u) >> 7) | 1;
}

static uint64_t build_image(const char *path, size_t data_len, uint64_t extra)
{
	static struct daxfs_super sb;
	uint8_t meta[2 * 64 + 16 + 5];
	struct daxfs_inode *in = (void *)meta;
	struct daxfs_dirent *de = (void *)(meta + 128);
	uint64_t isz = ((8192 + data_len + 4095) & ~4095ull) + extra;
	unsigned char *data = malloc(data_len ? data_len : 1);
	int fd;

	memset(&sb, 0, sizeof(sb));
	memset(meta, 0, sizeof(meta));
	in[0].mode = htole16(DAXFS_S_IFDIR | 0755);
	in[0].nlink = htole32(2);
	in[0].size = htole64(1);
	in[0].parent = htole32(1);
	in[1].mode = htole16(0100644);
	in[1].nlink = htole32(1);
	in[1].size = htole64(data_len);
	in[1].offset = htole64(data_len ? 8192 : 0);
	de->ino = htole32(2);
	de->name_len = htole16(5);
	de->type = DAXFS_DT_REG;
	memcpy(meta + 144, "hello", 5);
	sb.magic = htole32(DAXFS_IMAGE_MAGIC);
	sb.version = htole32(DAXFS_VERSION);
	sb.image_size = htole64(isz);
	sb.inode_off = htole64(4096);
	sb.inode_count = htole32(2);
	sb.root_ino = htole32(1);
	sb.dirent_off = htole64(4096 + 128);
	sb.dirent_count = htole32(1);
	sb.data_align_log2 = htole32(12);
	sb.names_off = htole64(4096 + 144);
	sb.names_size = htole64(5);
	sb.data_off = htole64(8192);
	sb.data_size = htole64(data_len);
	memcpy(sb.label, "unit", 4);
	sb.crc32c = htole32(daxfs_image_crc(&sb, meta, sizeof(meta)));
	for (size_t i = 0; i < data_len; i++)
		data[i] = data_byte(i);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (fd < 0 || pwrite(fd, &sb, sizeof(sb), 0) != sizeof(sb) ||
	    pwrite(fd, meta, sizeof(meta), 4096) != sizeof(meta) ||
	    (data_len && pwrite(fd, data, data_len, 8192) != (ssize_t)data_len) ||
	    ftruncate(fd, (off_t)isz))
		isz = 0;
	if (fd >= 0)
		close(fd);
	free(data);
	return isz;
}

/* Rewrite a field of the superblock of @path (and, if @crc, the CRC). */
static void patch_image(const char *path, size_t off, const void *val, size_t len, bool crc)
{
	static struct daxfs_super sb;
	uint8_t meta[2 * 64 + 16 + 5];
	int fd = open(path, O_RDWR);

	if (fd < 0 || pread(fd, &sb, sizeof(sb), 0) != sizeof(sb) ||
	    pread(fd, meta, sizeof(meta), 4096) != sizeof(meta)) {
		if (fd >= 0)
			close(fd);
		return;
	}
	memcpy((uint8_t *)&sb + off, val, len);
	if (crc)
		sb.crc32c = htole32(daxfs_image_crc(&sb, meta, sizeof(meta)));
	if (pwrite(fd, &sb, sizeof(sb), 0) != sizeof(sb))
		printf("# patch_image: write failed\n");
	close(fd);
}

/* A memfd stand-in for an exporter; counts its calls. */
static int memfd_allocs, memfd_last = -1;
static int memfd_alloc(void *priv, size_t size, char *name, size_t namelen)
{
	int fd = memfd_create("unit-buffer", MFD_CLOEXEC);

	(void)priv;
	memfd_allocs++;
	snprintf(name, namelen, "memfd");
	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	memfd_last = fd;
	return fd;
}

/* Does buffer @fd hold the bytes of file @path at @off? */
static bool same_bytes(int fd, uint64_t off, const char *path)
{
	struct stat st;
	int f = open(path, O_RDONLY);
	uint8_t *a, *b;
	bool same;

	if (f < 0 || fstat(f, &st)) {
		if (f >= 0)
			close(f);
		return false;
	}
	a = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, f, 0);
	b = mmap(NULL, off + (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	same = a != MAP_FAILED && b != MAP_FAILED && !memcmp(a, b + off, (size_t)st.st_size);
	if (a != MAP_FAILED)
		munmap(a, (size_t)st.st_size);
	if (b != MAP_FAILED)
		munmap(b, off + (size_t)st.st_size);
	close(f);
	return same;
}

static void test_fill_sources(void)
{
	char img[512], half[512], want[160];
	uint64_t isz;
	int mfd, p[2], fd;
	uint8_t *m;
	pid_t f;

	snprintf(img, sizeof(img), "%s/fill.img", tmpdir);
	isz = build_image(img, 100000, 0);
	dxt_ok(isz == 110592, "fill: test image built (%llu bytes)", (unsigned long long)isz);

	/* From a pipe (a stream): every byte, in pieces. */
	{
		int src = open(img, O_RDONLY);
		uint8_t *b = malloc(isz);

		dxt_ok(src >= 0 && b && pread(src, b, isz, 0) == (ssize_t)isz, "fill: image read back");
		dxt_ok(pipe(p) == 0, "fill: pipe");
		f = feeder(p[1], b, isz, 5000, p[0]);
		close(p[1]);
		mfd = memfd_create("fill-pipe", MFD_CLOEXEC);
		ftruncate(mfd, 2 * isz);
		dxt_is_int(daxfs_dmabuf_fill(mfd, p[0], 4096, NULL, NULL), 0, "fill: from a pipe");
		dxt_ok(same_bytes(mfd, 4096, img), "fill: pipe bytes in place");
		close(p[0]);
		dxt_is_int(dxt_wait(f), 0, "fill: feeder done");
		close(mfd);

		/* A pipe with more than the buffer holds. */
		dxt_ok(pipe(p) == 0, "fill: pipe");
		f = feeder(p[1], b, isz, 65536, p[0]);
		close(p[1]);
		mfd = memfd_create("fill-small", MFD_CLOEXEC);
		ftruncate(mfd, 65536);
		dxt_is_int(daxfs_dmabuf_fill(mfd, p[0], 0, NULL, NULL), -EFBIG, "fill: pipe larger than the buffer refused");
		dxt_ok(strstr(daxfs_last_error(), "the stream has more than 65536 bytes") != NULL,
		   "fill: reason (%s)", daxfs_last_error());
		close(p[0]);
		dxt_wait(f);
		close(mfd);

		/* A pipe that ends before the image does. */
		dxt_ok(pipe(p) == 0, "fill: pipe");
		f = feeder(p[1], b, 50000, 7000, p[0]);
		close(p[1]);
		mfd = memfd_create("fill-trunc", MFD_CLOEXEC);
		ftruncate(mfd, isz);
		dxt_is_int(daxfs_dmabuf_fill(mfd, p[0], 0, NULL, NULL), -ENODATA, "fill: truncated image from a pipe refused");
		snprintf(want, sizeof(want), "truncated: image_size %llu, stream ended after 50000 bytes",
			 (unsigned long long)isz);
		dxt_is_str(daxfs_last_error(), want, "fill: pipe truncation message");
		close(p[0]);
		dxt_wait(f);
		close(mfd);
		free(b);
		close(src);
	}

	/* A truncated image file: refused before anything is copied. */
	snprintf(half, sizeof(half), "%s/fill-half.img", tmpdir);
	isz = build_image(half, 100000, 0);
	dxt_ok(truncate(half, 60000) == 0, "fill: image cut to 60000 bytes");
	fd = open(half, O_RDONLY);
	mfd = memfd_create("fill-half", MFD_CLOEXEC);
	ftruncate(mfd, isz);
	dxt_is_int(daxfs_dmabuf_fill(mfd, fd, 0, NULL, NULL), -ENODATA, "fill: truncated image file refused");
	snprintf(want, sizeof(want), "truncated: image_size %llu, file has 60000 bytes", (unsigned long long)isz);
	dxt_is_str(daxfs_last_error(), want, "fill: truncation message");
	m = mmap(NULL, isz, PROT_READ, MAP_SHARED, mfd, 0);
	dxt_ok(m != MAP_FAILED && m[0] == 0 && m[4096] == 0, "fill: nothing copied");
	if (m != MAP_FAILED)
		munmap(m, isz);
	close(fd);
	close(mfd);

	/* A file that shrinks while it is copied (a second process truncates it). */
	{
		struct dxt_shrinker s;
		char big[512];
		size_t sz = 20u << 20;
		unsigned char *src = malloc(sz);

		snprintf(big, sizeof(big), "%s/fill-shrink", tmpdir);
		for (size_t i = 0; i < sz; i++)
			src[i] = data_byte(i);
		fd = open(big, O_CREAT | O_RDWR | O_TRUNC, 0644);
		dxt_ok(write(fd, src, sz) == (ssize_t)sz, "fill shrink: source written");
		free(src);
		mfd = memfd_create("fill-shrink", MFD_CLOEXEC);
		ftruncate(mfd, (off_t)sz);
		dxt_shrinker_start(&s, big, 12345);
		dxt_is_int(daxfs_dmabuf_fill(mfd, fd, 0, dxt_shrinker_progress, &s), -ENODATA,
		       "fill shrink: refused");
		snprintf(want, sizeof(want), "image shrank while loading: the file had %zu bytes, only 12345 could be read", sz);
		dxt_is_str(daxfs_last_error(), want, "fill shrink: message");
		dxt_is_int(dxt_shrinker_end(&s), 0, "fill shrink: the second process truncated the file");
		close(fd);
		close(mfd);
	}

	/* A stream that is interrupted by a signal while fill() waits for it. */
	{
		struct sigaction sa, old;
		pid_t k;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = eintr_handler;
		sigaction(SIGUSR1, &sa, &old);
		dxt_ok(pipe(p) == 0, "fill eintr: pipe");
		eintr_wfd = p[1];
		eintr_rest = "data after the signal";
		k = signal_when_blocked(getpid());
		mfd = memfd_create("fill-eintr", MFD_CLOEXEC);
		ftruncate(mfd, 4096);
		dxt_is_int(daxfs_dmabuf_fill(mfd, p[0], 0, NULL, NULL), 0, "fill eintr: completed");
		dxt_is_int(dxt_wait(k), 0, "fill eintr: signalled while blocked in read");
		m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, mfd, 0);
		dxt_ok(m != MAP_FAILED && !memcmp(m, "data after the signal", 21), "fill eintr: data in place");
		if (m != MAP_FAILED)
			munmap(m, 4096);
		close(mfd);
		close(p[0]);
		sigaction(SIGUSR1, &old, NULL);
	}
}

static int load_with(const char *image, struct daxfs_load_opts *o)
{
	memfd_allocs = 0;
	memfd_last = -1;
	return daxfs__load_image_with(image, o, memfd_alloc, NULL);
}

/*
 * Load the first @len bytes of @b fed through a pipe in pieces of @piece
 * bytes (the image "/proc/self/fd/N"); the feeder's exit status into
 * *@fed once the pipe is closed.
 */
static int load_piped(const uint8_t *b, size_t len, size_t piece,
		      struct daxfs_load_opts *o, int *fed)
{
	char pp[64];
	int p[2], r;
	pid_t f;

	*fed = -1;
	if (!dxt_ok(pipe(p) == 0, "load pipe: pipe"))
		return -EPIPE;
	f = feeder(p[1], b, len, piece, p[0]);
	close(p[1]);
	snprintf(pp, sizeof(pp), "/proc/self/fd/%d", p[0]);
	r = load_with(pp, o);
	close(p[0]);
	*fed = dxt_wait(f);
	return r;
}

static void test_load(void)
{
	struct daxfs_load_info info;
	struct daxfs_load_opts o;
	char img[512], bad[512], want[200];
	uint64_t isz, tib = 1ull << 40;
	int fd, fds0;

#define RESET() do {							\
		memset(&info, 0xa5, sizeof(info));			\
		info.size = sizeof(info);				\
		memset(&o, 0, sizeof(o));				\
		o.size = sizeof(o);					\
		o.info = &info;						\
	} while (0)

	fds0 = count_fds();
	snprintf(img, sizeof(img), "%s/load.img", tmpdir);
	isz = build_image(img, 300000, 0);
	dxt_ok(isz > 0, "load: image built (%llu bytes)", (unsigned long long)isz);

	RESET();
	prog_calls = 0;
	o.progress = progress_cb;
	fd = load_with(img, &o);
	dxt_ok(fd >= 0, "load: valid image loaded (%s)", daxfs_last_error());
	dxt_ok(fd >= 0 && same_bytes(fd, 0, img), "load: buffer holds the image");
	dxt_is_int(memfd_allocs, 1, "load: one allocation");
	dxt_is_int(info.stage, DAXFS_STAGE_DONE, "load: stage DONE");
	dxt_ok(info.buffer_size == isz && info.desc.image_size == isz && !strcmp(info.desc.label, "unit") &&
	   info.desc.inode_count == 2 && !strcmp(info.exporter, "memfd"), "load: info filled in");
	dxt_ok(prog_total == isz && prog_done == isz && prog_calls >= 2, "load: progress to the end (%d calls)", prog_calls);
	if (fd >= 0)
		close(fd);

	RESET();
	o.offset = 8192;
	fd = load_with(img, &o);
	dxt_ok(fd >= 0 && same_bytes(fd, 8192, img) && info.buffer_size == isz + 8192,
	   "load: at offset 8192, buffer exactly offset + image_size");
	if (fd >= 0)
		close(fd);

	RESET();
	o.flags = DAXFS_LOAD_DRY_RUN;
	dxt_is_int(load_with(img, &o), 0, "load: dry run of a valid image");
	dxt_ok(memfd_allocs == 0 && info.stage == DAXFS_STAGE_DONE, "load: dry run allocates nothing");

	/* The image file cut in half. */
	snprintf(bad, sizeof(bad), "%s/half.img", tmpdir);
	build_image(bad, 300000, 0);
	dxt_ok(truncate(bad, (off_t)(isz / 2)) == 0, "load: image cut in half");
	RESET();
	dxt_is_int(load_with(bad, &o), -ENODATA, "load: truncated file refused");
	snprintf(want, sizeof(want), "truncated: image_size %llu, file has %llu bytes",
		 (unsigned long long)isz, (unsigned long long)isz / 2);
	dxt_is_str(daxfs_last_error(), want, "load: truncated: message");
	dxt_ok(memfd_allocs == 0 && info.stage == DAXFS_STAGE_IMAGE, "load: truncated: nothing allocated, stage IMAGE");

	/* image_size past the end of an intact file. */
	build_image(bad, 300000, 0);
	{
		uint64_t v = htole64(isz + 4096);

		patch_image(bad, offsetof(struct daxfs_super, image_size), &v, sizeof(v), false);
	}
	RESET();
	dxt_is_int(load_with(bad, &o), -ENODATA, "load: image_size past the file refused");
	snprintf(want, sizeof(want), "truncated: image_size %llu, file has %llu bytes",
		 (unsigned long long)isz + 4096, (unsigned long long)isz);
	dxt_is_str(daxfs_last_error(), want, "load: image_size past the file: message");
	dxt_is_int(memfd_allocs, 0, "load: image_size past the file: nothing allocated");

	/* A superblock that claims 1 TiB. */
	{
		uint64_t v = htole64(tib);

		patch_image(bad, offsetof(struct daxfs_super, image_size), &v, sizeof(v), true);
	}
	RESET();
	dxt_is_int(load_with(bad, &o), -ENODATA, "load: 1 TiB claim in a small file refused");
	snprintf(want, sizeof(want), "truncated: image_size %llu, file has %llu bytes",
		 (unsigned long long)tib, (unsigned long long)isz);
	dxt_is_str(daxfs_last_error(), want, "load: 1 TiB claim: message");
	dxt_is_int(memfd_allocs, 0, "load: 1 TiB claim: nothing allocated");

	/* ... and a sparse file that really is 1 TiB: more than the memory. */
	dxt_ok(truncate(bad, (off_t)tib) == 0, "load: sparse 1 TiB file");
	RESET();
	{
		char why[512];
		uint64_t avail = daxfs__mem_available(NULL, false, why, sizeof(why));

		dxt_ok(avail < tib, "load: this machine has less than 1 TiB available (%llu)", (unsigned long long)avail);
		dxt_is_int(load_with(bad, &o), -ENOMEM, "load: 1 TiB image refused for memory");
		dxt_ok(!strncmp(daxfs_last_error(), "not enough memory: the buffer needs 1099511627776 bytes, ", 57),
		   "load: memory message (%s)", daxfs_last_error());
		dxt_ok(memfd_allocs == 0 && info.stage == DAXFS_STAGE_MEMORY && info.buffer_size == tib,
		   "load: memory: nothing allocated, stage MEMORY");
		RESET();
		o.flags = DAXFS_LOAD_NO_MEMCHECK | DAXFS_LOAD_DRY_RUN;
		dxt_is_int(load_with(bad, &o), 0, "load: NO_MEMCHECK: the 1 TiB image validates");
	}
	/* Huge pages come from their pool. */
	{
		char b[32] = "";
		FILE *hp = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
		long freep = hp && fgets(b, sizeof(b), hp) ? atol(b) : -1;

		if (hp)
			fclose(hp);
		RESET();
		o.exporter = DAXFS_EXPORTER_UDMABUF;
		o.flags = DAXFS_LOAD_HUGETLB | DAXFS_LOAD_DRY_RUN;
		if (freep == 0) {
			dxt_is_int(load_with(img, &o), -ENOMEM, "load: hugetlb without free huge pages refused");
			dxt_ok(strstr(daxfs_last_error(), "(free 2 MiB huge pages: 0)") != NULL,
			   "load: hugetlb reason (%s)", daxfs_last_error());
			dxt_is_int(info.buffer_size, 2 << 20, "load: hugetlb buffer rounded to 2 MiB");
		} else {
			dxt_is_int(load_with(img, &o), 0, "load: hugetlb dry run (%ld free pages)", freep);
		}
	}

	/* Corrupt metadata: the validator's CRC check. */
	build_image(bad, 300000, 0);
	{
		int b = open(bad, O_RDWR);

		dxt_ok(b >= 0 && pwrite(b, "J", 1, 4096 + 144) == 1, "load: a name byte changed");
		if (b >= 0)
			close(b);
	}
	RESET();
	dxt_is_int(load_with(bad, &o), -EUCLEAN, "load: corrupt metadata refused");
	dxt_ok(!strncmp(daxfs_last_error(), "invalid image: superblock: crc32c ", 34), "load: corrupt: message (%s)",
	   daxfs_last_error());
	dxt_is_int(memfd_allocs, 0, "load: corrupt: nothing allocated");

	/* A non-zero tail byte after the file's end (R4, read from the file). */
	build_image(bad, 300000, 0);
	{
		int b = open(bad, O_RDWR);

		dxt_ok(b >= 0 && pwrite(b, "x", 1, 8192 + 300000 + 7) == 1, "load: a tail byte set");
		if (b >= 0)
			close(b);
	}
	RESET();
	dxt_is_int(load_with(bad, &o), -EUCLEAN, "load: dirty file tail refused");
	dxt_ok(strstr(daxfs_last_error(), "is not zero") != NULL, "load: tail: message (%s)", daxfs_last_error());

	build_image(bad, 1000, 0);
	{
		uint32_t v = htole32(0x12345678);

		patch_image(bad, 0, &v, sizeof(v), false);
	}
	RESET();
	dxt_is_int(load_with(bad, &o), -EINVAL, "load: bad magic refused");
	dxt_ok(!strncmp(daxfs_last_error(), "not a daxfs image (superblock: magic 0x12345678", 47),
	   "load: bad magic: message (%s)", daxfs_last_error());
	build_image(bad, 1000, 0);
	{
		uint32_t v = htole32(2);

		patch_image(bad, offsetof(struct daxfs_super, version), &v, sizeof(v), true);
	}
	RESET();
	dxt_is_int(load_with(bad, &o), -EOPNOTSUPP, "load: version 2 refused");
	dxt_is_int(info.stage, DAXFS_STAGE_IMAGE, "load: version 2: stage IMAGE");
	dxt_ok(truncate(bad, 0) == 0, "load: empty file");
	RESET();
	dxt_is_int(load_with(bad, &o), -EINVAL, "load: empty file refused");
	dxt_is_str(daxfs_last_error(), "not a daxfs image (the file is empty)", "load: empty: message");
	build_image(bad, 1000, 0);
	dxt_ok(truncate(bad, 100) == 0, "load: file cut inside the superblock");
	RESET();
	dxt_is_int(load_with(bad, &o), -ENODATA, "load: cut superblock refused");
	snprintf(want, sizeof(want), "truncated: image_size 12288, file has 100 bytes");
	dxt_is_str(daxfs_last_error(), want, "load: cut superblock: message");
	RESET();
	dxt_is_int(load_with(tmpdir, &o), -EISDIR, "load: a directory refused");
	RESET();
	snprintf(bad, sizeof(bad), "%s/no-such.img", tmpdir);
	dxt_is_int(load_with(bad, &o), -ENOENT, "load: missing file");
	dxt_is_int(info.stage, DAXFS_STAGE_IMAGE, "load: missing file: stage IMAGE");

	/* Arguments, checked before anything is opened. */
	{
		static const struct { unsigned int exp, flags; const char *arg; uint64_t off; const char *why; } bad_args[] = {
			{ 7, 0, NULL, 0, "unknown exporter 7" },
			{ 0, 0x100, NULL, 0, "unknown flags 0x100" },
			{ 0, DAXFS_LOAD_HUGETLB, NULL, 0, "DAXFS_LOAD_HUGETLB needs the udmabuf exporter" },
			{ DAXFS_EXPORTER_DRM, 0, NULL, 0, "the DRM exporter needs a device" },
			{ DAXFS_EXPORTER_HEAP, 0, "../x", 0, "bad heap name \"../x\"" },
			{ 0, 0, NULL, 100, "offset 100 is not page-aligned" },
		};
		for (size_t i = 0; i < sizeof(bad_args) / sizeof(bad_args[0]); i++) {
			RESET();
			o.exporter = bad_args[i].exp;
			o.flags = bad_args[i].flags;
			o.exporter_arg = bad_args[i].arg;
			o.offset = bad_args[i].off;
			dxt_is_int(load_with(img, &o), -EINVAL, "load args: %s", bad_args[i].why);
			dxt_ok(!strcmp(daxfs_last_error(), bad_args[i].why) && info.stage == DAXFS_STAGE_ARGS,
			   "load args: message and stage (%s)", daxfs_last_error());
		}
		RESET();
		dxt_is_int(load_with(NULL, &o), -EINVAL, "load args: no image");
		RESET();
		o.size = 4;
		dxt_is_int(load_with(img, &o), -EINVAL, "load args: opts size too small");
		RESET();
		dxt_is_int(daxfs_mount_image(img, NULL, &o), -EINVAL, "mount_image: no mount point");
		RESET();
		o.mount_flags = MS_BIND;
		dxt_is_int(daxfs_mount_image(img, "/mnt", &o), -EINVAL, "mount_image: MS_BIND refused");
		dxt_is_int(info.stage, DAXFS_STAGE_ARGS, "mount_image: stage ARGS");
	}
	/* Size-versioned structs: an older caller's opts and info. */
	{
		struct { size_t size; unsigned int exporter, flags; } old_o = { sizeof(old_o), 0, DAXFS_LOAD_DRY_RUN };

		dxt_is_int(daxfs_load_image(img, (const struct daxfs_load_opts *)&old_o), 0,
		       "load: opts of an older size (no info field)");
		RESET();
		info.size = offsetof(struct daxfs_load_info, stage) + sizeof(info.stage);
		o.flags = DAXFS_LOAD_DRY_RUN;
		dxt_is_int(load_with(img, &o), 0, "load: info of an older size");
		dxt_ok(info.stage == DAXFS_STAGE_DONE && info.buffer_size == 0xa5a5a5a5a5a5a5a5ull,
		   "load: only the fields of the caller's size written");
		fd = daxfs__load_image_with(img, NULL, memfd_alloc, NULL);
		dxt_ok(fd >= 0, "load: NULL opts accepted");
		if (fd >= 0)
			close(fd);
	}
	/* mount_image validates first: a truncated file never reaches an exporter. */
	snprintf(bad, sizeof(bad), "%s/half.img", tmpdir);
	build_image(bad, 300000, 0);
	dxt_ok(truncate(bad, 20000) == 0, "mount_image: truncated image");
	RESET();
	dxt_is_int(daxfs_mount_image(bad, "/nonexistent-mnt", &o), -ENODATA, "mount_image: truncated file refused");
	snprintf(want, sizeof(want), "truncated: image_size %llu, file has 20000 bytes", (unsigned long long)isz);
	dxt_is_str(daxfs_last_error(), want, "mount_image: truncated: message");
	RESET();
	o.flags = DAXFS_LOAD_DRY_RUN;
	dxt_is_int(daxfs_mount_image(img, "/nonexistent-mnt", &o), 0, "mount_image: dry run mounts nothing");

	/* A pipe: validated as it arrives. */
	{
		int src = open(img, O_RDONLY);
		uint8_t *b = malloc(isz);
		int fed;

		dxt_ok(src >= 0 && b && pread(src, b, isz, 0) == (ssize_t)isz, "load pipe: image read back");
		close(src);
		RESET();
		fd = load_piped(b, isz, 3000, &o, &fed);
		dxt_ok(fd >= 0 && same_bytes(fd, 0, img) && info.stage == DAXFS_STAGE_DONE, "load pipe: valid image loaded (%s)",
		   daxfs_last_error());
		if (fd >= 0)
			close(fd);
		dxt_is_int(fed, 0, "load pipe: feeder done");

		RESET();
		dxt_is_int(load_piped(b, isz - 8192, 3000, &o, &fed), -ENODATA,
			   "load pipe: truncated stream refused");
		snprintf(want, sizeof(want), "truncated: image_size %llu, stream ended after %llu bytes",
			 (unsigned long long)isz, (unsigned long long)isz - 8192);
		dxt_is_str(daxfs_last_error(), want, "load pipe: truncated: message");
		dxt_ok(memfd_allocs == 1 && fcntl(memfd_last, F_GETFD) < 0 && info.stage == DAXFS_STAGE_IMAGE,
		   "load pipe: truncated: the buffer is gone, stage IMAGE");

		b[4096 + 144] = 'J';	/* corrupt metadata, seen once it arrived */
		RESET();
		dxt_is_int(load_piped(b, isz, 65536, &o, &fed), -EUCLEAN,
			   "load pipe: corrupt metadata refused");
		dxt_ok(memfd_allocs == 1 && fcntl(memfd_last, F_GETFD) < 0, "load pipe: corrupt: the buffer is gone");

		b[0] = 'X';
		RESET();
		dxt_is_int(load_piped(b, isz, 65536, &o, &fed), -EINVAL, "load pipe: not daxfs refused");
		dxt_is_int(memfd_allocs, 0, "load pipe: not daxfs: nothing allocated");
		free(b);
	}

	/* The file shrinks while it is loaded (a second process truncates it). */
	{
		struct dxt_shrinker s;

		snprintf(bad, sizeof(bad), "%s/shrink.img", tmpdir);
		isz = build_image(bad, 300000, 0);
		dxt_shrinker_start(&s, bad, 100000);
		RESET();
		o.progress = dxt_shrinker_progress;
		o.progress_arg = &s;
		dxt_is_int(load_with(bad, &o), -ENODATA, "load shrink: refused");
		snprintf(want, sizeof(want), "image shrank while loading: image_size %llu, only 100000 bytes could be read",
			 (unsigned long long)isz);
		dxt_is_str(daxfs_last_error(), want, "load shrink: message");
		dxt_ok(memfd_allocs == 1 && fcntl(memfd_last, F_GETFD) < 0 && info.stage == DAXFS_STAGE_IMAGE,
		   "load shrink: the buffer is gone, stage IMAGE");
		dxt_is_int(dxt_shrinker_end(&s), 0, "load shrink: the second process truncated the file");
	}
	dxt_is_int(count_fds(), fds0, "load: no fd leaked");
#undef RESET
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
		pause();	/* connected, silent, until the parent kills us */
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
		dxt_ok(0, "mountd: policy: %s", why);
		return;
	}

	snprintf(sock_path, sizeof(sock_path), "%s/sock", tmpdir);
	strcpy(sa.sun_path, sock_path);
	listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(sock_path, 0666) ||
	    listen(listen_fd, 4)) {
		dxt_ok(0, "mountd: listen: %s", strerror(errno));
		return;
	}
	fds_before = count_fds();
	printf("# mountd tests: client uid %u\n", (unsigned)client_uid);

	{
		struct client_job j = { .target = mnt, .options = "label=w", .flags = MS_NOATIME };

		rc = run_case(&cfg, &j, &served);
		dxt_is_int(rc, 0, "mountd: allowed request mounted");
		dxt_ok(fake.calls == 1 && !strcmp(fake.target, mnt) && !strcmp(fake.options, "label=w"),
		   "mountd: backend got target and options");
		if (nonroot_client)
			dxt_ok((fake.flags & (MS_NOSUID | MS_NODEV | MS_NOATIME)) == (MS_NOSUID | MS_NODEV | MS_NOATIME),
			   "mountd: nosuid,nodev forced for non-root (flags %#lx)", fake.flags);
	}
	fake.calls = 0;
	{
		struct client_job j = { .target = other };

		rc = run_case(&cfg, &j, &served);
		dxt_is_int(rc, nonroot_client ? EPERM : 0, "mountd: target outside the allowed prefix refused");
		if (nonroot_client)
			dxt_ok(fake.calls == 0 && strstr(logbuf, "refused") && strstr(logbuf, "outside"),
			   "mountd: refusal logged with the reason, backend not called");
	}
	fake.calls = 0;
	{
		char escape[700];
		struct client_job j = { .target = escape };

		snprintf(escape, sizeof(escape), "%s/m", linkp);
		mkdir_owned(other, client_uid);
		rc = run_case(&cfg, &j, &served);
		dxt_is_int(rc, ELOOP, "mountd: symlink escape refused");
		dxt_ok(fake.calls == 0, "mountd: symlink escape: backend not called");
		j.target = linkp;
		rc = run_case(&cfg, &j, &served);
		dxt_is_int(rc, ELOOP, "mountd: target that is a symlink refused");
		snprintf(escape, sizeof(escape), "%s/m/../../other", allowed);
		j.target = escape;
		rc = run_case(&cfg, &j, &served);
		dxt_is_int(rc, EINVAL, "mountd: .. in the target refused");
	}
	if (nonroot_client) {
		struct client_job j = { .target = notmine };

		rc = run_case(&cfg, &j, &served);
		dxt_is_int(rc, EPERM, "mountd: directory owned by someone else refused");
		j.target = mnt;
		j.options = "phys=0x100000,size=4096";
		rc = run_case(&cfg, &j, &served);
		dxt_is_int(rc, EPERM, "mountd: option not in the policy (phys=) refused");
	}
	{
		struct daxfs_policy empty = { 0 };
		const struct daxfs_policy *save = cfg.policy;
		struct client_job j = { .target = mnt };

		cfg.policy = &empty;
		rc = run_case(&cfg, &j, &served);
		dxt_is_int(rc, nonroot_client ? EPERM : 0, "mountd: no rule for the client refused");
		cfg.policy = save;
	}
	fake.calls = 0;
	fake.ret = -EUCLEAN;
	{
		struct client_job j = { .target = mnt };

		rc = run_case(&cfg, &j, &served);
		dxt_is_int(rc, EUCLEAN, "mountd: backend error returned to the client");
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
			dxt_is_int(rc, raws[i].want, "mountd: %s refused cleanly", raws[i].name);
		}
		dxt_ok(fake.calls == 0, "mountd: no bad request reached the backend");
	}
	{
		struct client_job j = { .raw = RAW_DISCONNECT, .target = mnt };

		run_case(&cfg, &j, &served);
		dxt_is_int(served, -ECONNRESET, "mountd: client gone before the request");
		j.raw = RAW_CLOSE_EARLY;
		run_case(&cfg, &j, &served);
		dxt_ok(served == 0 || served > 0, "mountd: client gone before the reply: handled (%d)", served);
		j.raw = RAW_SILENT;
		run_case(&cfg, &j, &served);
		dxt_is_int(served, ETIMEDOUT, "mountd: silent client times out");
	}
	dxt_is_int(count_fds(), fds_before, "mountd: no fd leaked by the server side");
	close(listen_fd);
	daxfs__policy_free(&pol);
	printf("# log:\n");
	for (char *l = strtok(logbuf, "\n"); l; l = strtok(NULL, "\n"))
		printf("#   %s\n", l);
}

/* ------------------------------------------------------------------ export */
/* daxfs_export_dmabuf(): what is refused before the kernel is asked. */
static void test_export(void)
{
	char path[512], want[1024];
	uint64_t size = 12345;
	long page = sysconf(_SC_PAGESIZE);
	int fd, fds;

	dxt_is_int(daxfs_export_dmabuf(-1, 0, 0, &size), -EBADF, "export: fd -1 refused");
	dxt_ok(strstr(daxfs_last_error(), "bad file descriptor -1") != NULL,
	       "export: fd -1: reason (%s)", daxfs_last_error());
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	close(fd);
	dxt_is_int(daxfs_export_dmabuf(fd, 0, 0, &size), -EBADF, "export: a closed fd refused");
	dxt_is_int(size, 12345, "export: *size untouched on failure");

	snprintf(path, sizeof(path), "%s/plain", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	dxt_ok(fd >= 0 && write(fd, "x", 1) == 1, "export: a file on the host's file system");
	dxt_is_int(daxfs_export_dmabuf(fd, 0, 0, &size), -ENOTTY, "export: file not on daxfs: ENOTTY");
	snprintf(want, sizeof(want), "%s is not on a daxfs mount (file system magic 0x", path);
	dxt_ok(!strncmp(daxfs_last_error(), want, strlen(want)),
	       "export: not on daxfs: the file and the reason (%s)", daxfs_last_error());
	dxt_is_int(daxfs_export_dmabuf(fd, (uint64_t)page + 1, 0, NULL), -EINVAL,
		   "export: unaligned offset refused");
	snprintf(want, sizeof(want), "%s: offset %ld is not a multiple of the page size %ld", path,
		 page + 1, page);
	dxt_is_str(daxfs_last_error(), want, "export: unaligned offset: reason");
	dxt_is_int(daxfs_export_dmabuf(fd, (uint64_t)page, UINT64_MAX - 1, NULL), -EINVAL,
		   "export: offset + length past 2^64 refused");
	dxt_ok(strstr(daxfs_last_error(), "past 2^64") != NULL, "export: wrap-around: reason (%s)",
	       daxfs_last_error());
	if (fd >= 0)
		close(fd);

	fds = count_fds();
	dxt_is_int(daxfs_export_dmabuf_path(path, 0, 0, &size), -ENOTTY,
		   "export_path: file not on daxfs: ENOTTY");
	snprintf(want, sizeof(want), "%s is not on a daxfs mount", path);
	dxt_ok(!strncmp(daxfs_last_error(), want, strlen(want)), "export_path: reason (%s)",
	       daxfs_last_error());
	dxt_is_int(daxfs_export_dmabuf_path(tmpdir, 0, 0, &size), -ENOTTY,
		   "export_path: a directory not on daxfs: ENOTTY");
	dxt_is_int(daxfs_export_dmabuf_path(path, 3, 0, &size), -EINVAL,
		   "export_path: unaligned offset refused");
	snprintf(want, sizeof(want), "%s: offset 3 is not a multiple of the page size %ld", path,
		 page);
	dxt_is_str(daxfs_last_error(), want, "export_path: unaligned offset: reason");
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	dxt_is_int(daxfs_export_dmabuf_path(path, 0, 0, &size), -ENOENT,
		   "export_path: missing file: ENOENT");
	snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
	dxt_is_str(daxfs_last_error(), want, "export_path: missing file: reason");
	dxt_is_int(daxfs_export_dmabuf_path(NULL, 0, 0, &size), -EINVAL, "export_path: NULL refused");
	dxt_is_int(daxfs_export_dmabuf_path("", 0, 0, &size), -EINVAL, "export_path: \"\" refused");
	dxt_is_str(daxfs_last_error(), "no file", "export_path: \"\": reason");
	dxt_is_int(count_fds(), fds, "export_path: no fd left open by its failures");
	dxt_is_int(size, 12345, "export_path: *size untouched on failure");
}

static void test_public_errors(void)
{
	dxt_is_int(daxfs_mount_dmabuf(-1, "/mnt"), -EBADF, "mount: bad fd");
	dxt_is_int(daxfs_mount_dmabuf(0, NULL), -EINVAL, "mount: no target");
	{
		struct daxfs_mount_opts o = { .size = sizeof(o), .flags = MS_BIND };

		dxt_is_int(daxfs_mount_dmabuf_opts(0, "/mnt", &o), -EINVAL, "mount: unsupported flag refused");
		o.size = 2;
		dxt_is_int(daxfs_mount_dmabuf_opts(0, "/mnt", &o), -EINVAL, "mount: opts size too small");
	}
	dxt_is_int(daxfs_umount("/"), -EINVAL, "umount: not a daxfs mount refused");
	dxt_ok(strstr(daxfs_last_error(), "not a daxfs mount") != NULL, "umount: reason");
	dxt_is_int(daxfs_dmabuf_alloc_heap("../x", 4096), -EINVAL, "heap: bad name");
	dxt_is_int(daxfs_dmabuf_alloc_heap("system", 0), -EINVAL, "heap: zero size");
	dxt_is_int(daxfs_dmabuf_alloc_udmabuf(4096, 0x80), -EINVAL, "udmabuf: unknown flag");
	dxt_is_int(daxfs_dmabuf_alloc_drm(NULL, 4096), -EINVAL, "drm: no device");
	dxt_ok(daxfs_dmabuf_alloc_drm("/nonexistent/card", 4096) == -ENOENT, "drm: missing device");
	dxt_is_int(daxfs_mountd_request("/nonexistent/sock", 0, "/mnt", NULL), -ENOENT, "mountd_request: no daemon");
	dxt_ok(strstr(daxfs_last_error(), "daxfs-mountd") != NULL, "mountd_request: reason");
	dxt_is_str(daxfs_version(), DAXFS_DMABUF_VERSION_STRING, "version string");
}

int main(void)
{
	dxt_tap_init();
	if (dxt_make_workdir("daxfs-unit", tmpdir, sizeof(tmpdir))) {
		dxt_tap_ok(false, "mkdtemp");
		return 1;
	}
	test_options();
	test_paths();
	test_policy();
	test_proto();
	test_mountinfo();
	test_image();
	test_fill_large();
	test_io();
	test_memavail();
	test_fill_sources();
	test_load();
	test_public_errors();
	test_export();
	test_mountd();
	if (dxt_rm_rf(tmpdir))
		dxt_tap_note("could not remove %s", tmpdir);
	return dxt_tap_done();
}
