// SPDX-License-Identifier: GPL-2.0
/*
 * export-tensor: hand one tensor of a safetensors file on a daxfs mount to
 * another process as a dma-buf, without copying it.
 *
 *   export-tensor [-q] FILE TENSOR
 *
 * The producer (this process) parses FILE's header (safetensors.c, bounds
 * checked), finds TENSOR, and asks the kernel for a dma-buf of exactly the
 * pages that hold it (libdaxfs-dmabuf's daxfs_export_dmabuf(), the ioctl
 * DAXFS_IOC_EXPORT_DMABUF: the file offset rounded down to the page size,
 * the length rounded up).  The dma-buf is made of the
 * mounted buffer's own pages.  It computes the tensor's CRC-32 from read()
 * of the file, and sends the dma-buf fd with that CRC, the tensor's offset in
 * the first page and its length over a unix socket (SCM_RIGHTS) to the
 * consumer: a child forked before the file was even opened, so the fd it
 * gets can only have come through the socket.  The producer closes the
 * dma-buf, the file and its own mapping before the consumer answers.
 *
 * The consumer maps the dma-buf itself, brackets its reads with
 * DMA_BUF_IOCTL_SYNC (READ start/end, as any CPU reader of a dma-buf must),
 * computes the CRC-32 of the tensor bytes in its mapping, compares it with
 * the producer's and answers with its CRC and the exporter's name (from
 * /proc/self/fdinfo).  A GPU runtime would import the same fd instead (see
 * docs/export.md).
 *
 * The dma-buf shows whole pages: the bytes of the header or of neighbouring
 * tensors that share the first and last page are visible to the consumer
 * too (read-only, as in the file).
 *
 * Output: human lines, then a machine line
 *   "result: file_offset=O bytes=N export_offset=A export_length=L
 *    dmabuf_size=S in_page=P crc_read=X crc_dmabuf=Y crc_meta=Z|none
 *    exp_name=E consumer_pid=C match=0|1 tensor=NAME"
 * Exit status: 0 the consumer saw the tensor's bytes, 1 a failure (a bad
 * file, the export refused, a CRC mismatch), 2 usage, 3 no such tensor or
 * an empty one (a dma-buf cannot be empty, and a length of 0 would mean
 * "to the end of the file").
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/dma-buf.h>

#include "daxfs-dmabuf.h"
#include "safetensors.h"

#define EXIT_USAGE	2
#define EXIT_NOTENSOR	3

/* producer -> consumer, with the dma-buf fd as SCM_RIGHTS */
struct offer {
	uint64_t in_page;	/* the tensor's first byte in the dma-buf */
	uint64_t bytes;		/* the tensor's length */
	uint64_t dmabuf_size;	/* what the kernel said the dma-buf holds */
	uint32_t crc_read;	/* CRC-32 of the tensor from read() of the file */
	uint32_t pad;
};

/* consumer -> producer */
struct verdict {
	int32_t err;		/* 0, or the errno of the step in @why */
	uint32_t crc;		/* CRC-32 of the tensor in the consumer's mapping */
	uint64_t size_seen;	/* the dma-buf's size, by lseek(SEEK_END) */
	int32_t pid;
	uint32_t match;		/* crc == offer.crc_read */
	char exp_name[32];	/* from /proc/self/fdinfo/FD */
	char why[192];
};

static bool quiet;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: export-tensor [-q] FILE TENSOR\n"
		"Export the pages of TENSOR in the safetensors FILE (on a daxfs mount) as a\n"
		"read-only dma-buf, pass it over a unix socket to a consumer process that maps\n"
		"it and checks the tensor's CRC-32 against read() of the file.\n"
		"  -q      only the result line\n"
		"Exit status: 0 verified, 1 failure, 2 usage, 3 no such tensor or an empty one.\n");
}

/* ---- the consumer ------------------------------------------------------ */

static void fd_exp_name(int fd, char *out, size_t len)
{
	char path[64], line[256];
	FILE *f;

	snprintf(out, len, "?");
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "exp_name:", 9)) {
			char *v = line + 9;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = 0;
			snprintf(out, len, "%s", v);
			break;
		}
	fclose(f);
}

static int dmabuf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };
	int r;

	do
		r = ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
	while (r < 0 && (errno == EINTR || errno == EAGAIN));
	return r;
}

static int consumer_fail(struct verdict *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int consumer_fail(struct verdict *v, const char *fmt, ...)
{
	va_list ap;

	v->err = errno ? errno : EINVAL;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* What a separate program would do with the fd: map, bracket, read. */
static int consume(int fd, const struct offer *o, struct verdict *v)
{
	const uint8_t *p;
	off_t size;

	fd_exp_name(fd, v->exp_name, sizeof(v->exp_name));
	errno = 0;
	size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		return consumer_fail(v, "lseek(SEEK_END) of the dma-buf: %s", strerror(errno));
	v->size_seen = (uint64_t)size;
	if ((uint64_t)size != o->dmabuf_size || o->bytes > (uint64_t)size ||
	    o->in_page > (uint64_t)size - o->bytes)
		return consumer_fail(v, "a dma-buf of %lld bytes cannot hold %" PRIu64
				     " bytes at %" PRIu64 " (the producer said %" PRIu64 ")",
				     (long long)size, o->bytes, o->in_page, o->dmabuf_size);
	p = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return consumer_fail(v, "mmap of the dma-buf: %s", strerror(errno));
	if (dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ)) {
		consumer_fail(v, "DMA_BUF_IOCTL_SYNC(START|READ): %s", strerror(errno));
		munmap((void *)p, (size_t)size);
		return -1;
	}
	v->crc = st_crc32(0, p + o->in_page, (size_t)o->bytes);
	if (dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ)) {
		consumer_fail(v, "DMA_BUF_IOCTL_SYNC(END|READ): %s", strerror(errno));
		munmap((void *)p, (size_t)size);
		return -1;
	}
	munmap((void *)p, (size_t)size);
	v->match = v->crc == o->crc_read;
	return 0;
}

/* The child: one offer, one verdict.  Exit 0 matched (or nothing offered). */
static int consumer(int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct offer o;
	struct verdict v;
	struct iovec iov = { .iov_base = &o, .iov_len = sizeof(o) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	ssize_t n;
	int fd = -1;

	memset(&v, 0, sizeof(v));
	v.pid = (int32_t)getpid();
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;	/* the producer stopped before exporting: it says why */
	c = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (n < 0) {
		consumer_fail(&v, "recvmsg: %s", strerror(errno));
	} else if ((size_t)n != sizeof(o) || fd < 0 || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		errno = EPROTO;
		consumer_fail(&v, "a message of %zd bytes%s", n, fd < 0 ? " without an fd" : "");
	} else {
		consume(fd, &o, &v);
	}
	if (fd >= 0)
		close(fd);
	if (send(sock, &v, sizeof(v), MSG_NOSIGNAL) != (ssize_t)sizeof(v))
		return 1;
	return !v.err && v.match ? 0 : 1;
}

/* ---- the producer ------------------------------------------------------ */

static int crc_by_read(int fd, uint64_t off, uint64_t len, uint32_t *crc)
{
	static char buf[1 << 20];
	uint32_t c = 0;

	while (len) {
		size_t want = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)
				errno = EIO;	/* the file ended inside the tensor */
			return -1;
		}
		c = st_crc32(c, buf, (size_t)n);
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	*crc = c;
	return 0;
}

static void shape_str(const struct st_tensor *t, char *out, size_t len)
{
	size_t n = 0;
	unsigned int d;

	out[0] = 0;
	for (d = 0; d < t->ndim && n + 24 < len; d++)
		n += (size_t)snprintf(out + n, len - n, "%s%" PRIu64, d ? "," : "", t->shape[d]);
}

static int send_offer(int sock, int dmabuf, const struct offer *o)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)o, .iov_len = sizeof(*o) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	ssize_t n;

	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &dmabuf, sizeof(int));
	do
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*o) ? 0 : -1;
}

static int producer(int sock, const char *path, const char *name)
{
	const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	const struct st_tensor *t;
	struct st_file st = { 0 };
	struct verdict v;
	struct offer o;
	struct stat sb;
	char err[256], shape[128], key[1024], meta[16], got[16];
	const char *want;
	uint64_t off, start, length, size = 0;
	uint32_t crc;
	void *map = MAP_FAILED;
	ssize_t n;
	int fd, buf = -1, ret = 1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb)) {
		fprintf(stderr, "export-tensor: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size <= 0) {
		fprintf(stderr, "export-tensor: %s: not a regular file with data\n", path);
		goto out;
	}
	/* the header is parsed from a mapping; the tensor's bytes are read() */
	map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "export-tensor: %s: mmap: %s\n", path, strerror(errno));
		goto out;
	}
	if (st_parse(map, (uint64_t)sb.st_size, &st, err, sizeof(err))) {
		fprintf(stderr, "export-tensor: %s: %s\n", path, err);
		goto out;
	}
	t = st_find(&st, name);
	if (!t) {
		fprintf(stderr, "export-tensor: %s: no tensor '%s' (the file has %zu)\n", path,
			name, st.ntensors);
		ret = EXIT_NOTENSOR;
		goto out;
	}
	shape_str(t, shape, sizeof(shape));
	if (!t->size) {
		/* and a length of 0 would ask for the rest of the file */
		fprintf(stderr, "export-tensor: %s: tensor '%s' (%s [%s]) has no bytes: nothing to export\n",
			path, name, st_dtype_name(t->dtype), shape);
		ret = EXIT_NOTENSOR;
		goto out;
	}
	off = 8 + st.header_len + t->begin;
	start = off - off % page;
	length = (off - start + t->size + page - 1) / page * page;
	if (crc_by_read(fd, off, t->size, &crc)) {
		fprintf(stderr, "export-tensor: %s: read: %s\n", path, strerror(errno));
		goto out;
	}
	snprintf(key, sizeof(key), "crc32:%s", name);
	want = st_meta_get(&st, key);
	snprintf(meta, sizeof(meta), "%s", want ? want : "none");
	snprintf(got, sizeof(got), "%08x", crc);
	if (want && strcmp(want, got)) {
		fprintf(stderr, "export-tensor: %s: tensor '%s': read() gives crc32 %08x, the file's __metadata__ says %s\n",
			path, name, crc, want);
		goto out;
	}
	if (!quiet)
		printf("%s: tensor %s, %s [%s], %" PRIu64 " bytes at file offset %" PRIu64
		       ", crc32 %08x by read()\n", path, name, st_dtype_name(t->dtype), shape,
		       t->size, off, crc);

	/* libdaxfs-dmabuf: DAXFS_IOC_EXPORT_DMABUF on the open file, with the reason on failure */
	buf = daxfs_export_dmabuf(fd, start, length, &size);
	if (buf < 0) {
		fprintf(stderr, "export-tensor: export of bytes [%" PRIu64 ", %" PRIu64 "): %s: %s\n",
			start, start + length, strerror(-buf), daxfs_last_error());
		goto out;
	}
	if (size != length) {
		fprintf(stderr, "export-tensor: %s: asked for %" PRIu64 " bytes, the dma-buf has %" PRIu64 "\n",
			path, length, size);
		goto out;
	}
	o = (struct offer){ .in_page = off - start, .bytes = t->size, .dmabuf_size = size,
			    .crc_read = crc };
	if (send_offer(sock, buf, &o)) {
		fprintf(stderr, "export-tensor: sending the dma-buf: %s\n", strerror(errno));
		goto out;
	}
	/* from here on only the consumer holds the buffer (and the mount's pages) */
	close(buf);
	buf = -1;
	st_free(&st);
	munmap(map, (size_t)sb.st_size);
	map = MAP_FAILED;
	close(fd);
	fd = -1;
	if (!quiet)
		printf("exported: a dma-buf of %" PRIu64 " bytes = file bytes [%" PRIu64 ", %" PRIu64
		       "), the tensor at offset %" PRIu64 " in it; sent over a unix socket\n",
		       size, start, start + length, o.in_page);

	do
		n = recv(sock, &v, sizeof(v), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(v)) {
		fprintf(stderr, "export-tensor: no answer from the consumer%s%s\n",
			n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		goto out;
	}
	v.exp_name[sizeof(v.exp_name) - 1] = 0;
	v.why[sizeof(v.why) - 1] = 0;
	if (v.err) {
		fprintf(stderr, "export-tensor: consumer pid %d: %s\n", v.pid, v.why);
		goto out;
	}
	if (!quiet)
		printf("consumer pid %d: mapped the dma-buf (exporter \"%s\", %" PRIu64
		       " bytes), crc32 %08x of bytes [%" PRIu64 ", %" PRIu64 "): %s\n",
		       v.pid, v.exp_name, v.size_seen, v.crc, o.in_page, o.in_page + o.bytes,
		       v.match ? "the same as read()" : "DIFFERENT FROM read()");
	printf("result: file_offset=%" PRIu64 " bytes=%" PRIu64 " export_offset=%" PRIu64
	       " export_length=%" PRIu64 " dmabuf_size=%" PRIu64 " in_page=%" PRIu64
	       " crc_read=%08x crc_dmabuf=%08x crc_meta=%s exp_name=%s consumer_pid=%d match=%u tensor=%s\n",
	       off, o.bytes, start, length, size, o.in_page, crc, v.crc, meta,
	       v.exp_name, v.pid, v.match, name);
	if (!v.match) {
		fprintf(stderr, "export-tensor: %s: tensor '%s': crc32 %08x in the dma-buf, %08x by read()\n",
			path, name, v.crc, crc);
		goto out;
	}
	ret = 0;
out:
	if (buf >= 0)
		close(buf);
	st_free(&st);
	if (map != MAP_FAILED)
		munmap(map, (size_t)sb.st_size);
	if (fd >= 0)
		close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int sv[2], c, ret, status;
	pid_t pid;

	while ((c = getopt_long(argc, argv, "qh", lo, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "export-tensor: need FILE and TENSOR (try --help)\n");
		return EXIT_USAGE;
	}
	/*
	 * The consumer is forked before anything is opened: the dma-buf it
	 * maps reaches it through the socket or not at all.
	 */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		fprintf(stderr, "export-tensor: socketpair: %s\n", strerror(errno));
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "export-tensor: fork: %s\n", strerror(errno));
		return 1;
	}
	if (!pid) {
		close(sv[0]);
		_exit(consumer(sv[1]));
	}
	close(sv[1]);
	ret = producer(sv[0], argv[optind], argv[optind + 1]);
	close(sv[0]);	/* a consumer still waiting sees the end and exits */
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fprintf(stderr, "export-tensor: waitpid: %s\n", strerror(errno));
			return 1;
		}
	if (!WIFEXITED(status)) {
		fprintf(stderr, "export-tensor: the consumer died (signal %d)\n", WTERMSIG(status));
		return 1;
	}
	if (!ret && WEXITSTATUS(status))
		ret = 1;
	return ret;
}
