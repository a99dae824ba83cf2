// SPDX-License-Identifier: GPL-2.0
/*
 * load-weights: load a model stored as safetensors files the zero-copy way.
 *
 *   load-weights [OPTIONS] DIR [DIR...]
 *   load-weights [OPTIONS] --image=IMAGE --mount=DIR [--exporter=E]
 *
 * For each DIR: mmap every *.safetensors file read-only, parse its header,
 * build tensor views (pointers into the mapping: nothing is copied), verify
 * each tensor's CRC-32 against "crc32:<name>" in the file's __metadata__
 * (written by examples/gen-safetensors), and print the time to the first
 * verified tensor and the total time.  With two or more DIRs (the daxfs mount
 * and a tmpfs copy, say) it prints them side by side.
 *
 * With --image it does the whole daxfs path itself through libdaxfs-dmabuf's
 * daxfs_mount_image(): validate IMAGE, allocate a dma-buf of its size
 * (--exporter: auto, heap:NAME, udmabuf, drm:DEVICE), fill it, mount it on
 * DIR; then load, and unmount (unless --keep).  The mount holds the buffer.
 *
 * Options:
 *   --no-verify   only touch every page of every tensor (no checksum)
 *   --hold        after loading, print "ready" and keep the mappings until
 *                 stdin reaches end-of-file (examples/many-readers)
 *   -v            list the tensors
 *   -q            only the result lines
 *
 * Output: a human line per DIR and a machine line
 *   "result: dir=D files=F tensors=T bytes=B first_us=X total_us=Y verified=V bad=Z"
 * Exit status: 0 all verified, 1 a bad file or checksum, 2 usage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daxfs-dmabuf.h"
#include "safetensors.h"

static bool verify = true, hold, verbose, quiet;

struct result {
	const char *dir;
	unsigned int files;
	size_t tensors, verified, bad, nocrc;
	uint64_t bytes;
	double first_us, total_us;
};

struct mapping {
	void *addr;
	size_t len;
	struct st_file st;
};

static struct mapping *maps;
static size_t nmaps;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_st(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 12 && !strcmp(d->d_name + n - 12, ".safetensors");
}

/* Reads every page: what a loader that hands views to a GPU copy engine costs at least. */
static uint64_t touch(const void *p, uint64_t len)
{
	const volatile uint8_t *b = p;
	uint64_t i, sum = 0;

	for (i = 0; i < len; i += 4096)
		sum += b[i];
	if (len)
		sum += b[len - 1];
	return sum;
}

static void show(const struct st_tensor *t)
{
	char shape[128];
	size_t n = 0;
	unsigned int d;

	shape[0] = 0;
	for (d = 0; d < t->ndim && n < sizeof(shape) - 24; d++)
		n += (size_t)snprintf(shape + n, sizeof(shape) - n, "%s%llu", d ? "," : "",
				      (unsigned long long)t->shape[d]);
	printf("  %-48s %-5s [%s] %llu bytes at %p", t->name, st_dtype_name(t->dtype), shape,
	       (unsigned long long)t->size, t->data);
	if (t->dtype == ST_F32 && t->nelem)
		printf("  first %g", (double)*(const float *)t->data);
	printf("\n");
}

static int load_dir(const char *dir, struct result *r)
{
	struct dirent **ents;
	double t0 = now_us();
	uint64_t sink = 0;
	int n, i, ret = 0;

	memset(r, 0, sizeof(*r));
	r->dir = dir;
	r->first_us = -1;
	n = scandir(dir, &ents, is_st, by_name);
	if (n < 0) {
		fprintf(stderr, "load-weights: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (n == 0) {
		fprintf(stderr, "load-weights: %s: no *.safetensors files\n", dir);
		ret = 1;
	}
	for (i = 0; i < n; i++) {
		char path[4096], err[256];
		struct mapping *m;
		struct stat st;
		void *a;
		size_t k;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st)) {
			fprintf(stderr, "load-weights: %s: %s\n", path, strerror(errno));
			ret = 1;
			if (fd >= 0)
				close(fd);
			continue;
		}
		a = st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
		close(fd);
		if (a == MAP_FAILED) {
			fprintf(stderr, "load-weights: %s: mmap: %s\n", path,
				st.st_size ? strerror(errno) : "empty file");
			ret = 1;
			continue;
		}
		m = realloc(maps, (nmaps + 1) * sizeof(*maps));
		if (!m) {
			munmap(a, (size_t)st.st_size);
			ret = 1;
			break;
		}
		maps = m;
		m = &maps[nmaps];
		m->addr = a;
		m->len = (size_t)st.st_size;
		if (st_parse(a, m->len, &m->st, err, sizeof(err))) {
			fprintf(stderr, "load-weights: %s: %s\n", path, err);
			munmap(a, m->len);
			ret = 1;
			continue;
		}
		nmaps++;
		r->files++;
		if (verbose)
			printf("%s: %zu tensors, header %llu bytes, mapped at %p\n", path,
			       m->st.ntensors, (unsigned long long)m->st.header_len, a);
		for (k = 0; k < m->st.ntensors; k++) {
			const struct st_tensor *t = &m->st.tensors[k];
			char key[1024];
			const char *want;

			r->tensors++;
			r->bytes += t->size;
			if (verbose)
				show(t);
			if (!verify) {
				sink += touch(t->data, t->size);
			} else {
				snprintf(key, sizeof(key), "crc32:%s", t->name);
				want = st_meta_get(&m->st, key);
				if (!want) {
					r->nocrc++;
					sink += touch(t->data, t->size);
				} else {
					char got[16];

					snprintf(got, sizeof(got), "%08x",
						 st_crc32(0, t->data, t->size));
					if (strcmp(got, want)) {
						fprintf(stderr, "load-weights: %s: tensor %s: crc32 %s, expected %s\n",
							path, t->name, got, want);
						r->bad++;
						ret = 1;
					} else {
						r->verified++;
					}
				}
			}
			if (r->first_us < 0)
				r->first_us = now_us() - t0;
		}
	}
	r->total_us = now_us() - t0;
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	if (verify && r->nocrc) {
		fprintf(stderr, "load-weights: %s: %zu tensors without a crc32 in __metadata__\n",
			dir, r->nocrc);
		ret = 1;
	}
	if (sink == 1)	/* keep the reads */
		fprintf(stderr, " ");
	return ret;
}

static void report(const struct result *r)
{
	double mib = r->bytes / 1048576.0;

	if (!quiet)
		printf("%s: %u files, %zu tensors, %.1f MiB: first tensor %.2f ms, all %.1f ms (%.0f MiB/s), %s\n",
		       r->dir, r->files, r->tensors, mib, r->first_us / 1e3, r->total_us / 1e3,
		       r->total_us > 0 ? mib / (r->total_us / 1e6) : 0.0,
		       !verify ? "pages touched, not verified" :
		       r->bad ? "CHECKSUM MISMATCH" : "every crc32 verified");
	printf("result: dir=%s files=%u tensors=%zu bytes=%llu first_us=%.0f total_us=%.0f verified=%zu bad=%zu\n",
	       r->dir, r->files, r->tensors, (unsigned long long)r->bytes, r->first_us, r->total_us,
	       r->verified, r->bad);
}

/* --image: the library's one load pipeline (validate, size, allocate, fill, mount). */
static int mount_image(const char *image, const char *dir, const char *exporter)
{
	struct daxfs_load_info info = { .size = sizeof(info) };
	struct daxfs_load_opts o = { .size = sizeof(o), .info = &info };
	int ret;

	if (!exporter || !strcmp(exporter, "auto")) {
		o.exporter = DAXFS_EXPORTER_AUTO;
	} else if (!strncmp(exporter, "heap:", 5)) {
		o.exporter = DAXFS_EXPORTER_HEAP;
		o.exporter_arg = exporter + 5;
	} else if (!strcmp(exporter, "udmabuf")) {
		o.exporter = DAXFS_EXPORTER_UDMABUF;
	} else if (!strncmp(exporter, "drm:", 4)) {
		o.exporter = DAXFS_EXPORTER_DRM;
		o.exporter_arg = exporter + 4;
	} else {
		fprintf(stderr, "load-weights: --exporter: auto, heap:NAME, udmabuf or drm:DEVICE\n");
		return -1;
	}
	ret = daxfs_mount_image(image, dir, &o);
	if (ret) {
		fprintf(stderr, "load-weights: %s on %s: %s: %s\n", image, dir, strerror(-ret),
			daxfs_last_error());
		return -1;
	}
	printf("mounted: %s (%llu bytes, %u inodes) from a %s dma-buf on %s\n", image,
	       (unsigned long long)info.desc.image_size, info.desc.inode_count, info.exporter, dir);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "no-verify", no_argument, NULL, 'n' },
		{ "hold", no_argument, NULL, 'H' },
		{ "image", required_argument, NULL, 'i' },
		{ "mount", required_argument, NULL, 'm' },
		{ "exporter", required_argument, NULL, 'e' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *image = NULL, *mnt = NULL, *exporter = NULL;
	struct result *res;
	bool keep = false;
	int c, i, ndirs, ret = 0;

	while ((c = getopt_long(argc, argv, "vqh", lo, NULL)) != -1) {
		switch (c) {
		case 'n': verify = false; break;
		case 'H': hold = true; break;
		case 'i': image = optarg; break;
		case 'm': mnt = optarg; break;
		case 'e': exporter = optarg; break;
		case 'k': keep = true; break;
		case 'v': verbose = true; break;
		case 'q': quiet = true; break;
		case 'h':
			printf("usage: load-weights [--no-verify] [--hold] [-v|-q] DIR...\n"
			       "       load-weights [...] --image=IMAGE --mount=DIR [--exporter=auto|heap:NAME|udmabuf|drm:DEV] [--keep] [DIR...]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (!!image != !!mnt) {
		fprintf(stderr, "load-weights: --image and --mount go together\n");
		return 2;
	}
	if (image && mount_image(image, mnt, exporter))
		return 1;
	ndirs = argc - optind + (mnt ? 1 : 0);
	if (ndirs < 1) {
		fprintf(stderr, "load-weights: no directory (try --help)\n");
		return 2;
	}
	res = calloc((size_t)ndirs, sizeof(*res));
	if (!res)
		return 1;
	for (i = 0; i < ndirs; i++) {
		const char *d = mnt ? (i ? argv[optind + i - 1] : mnt) : argv[optind + i];

		ret |= load_dir(d, &res[i]);
		report(&res[i]);
	}
	if (ndirs >= 2 && !quiet)
		for (i = 1; i < ndirs; i++)
			printf("compare: %s loads in %.1f ms, %s in %.1f ms (first tensor %.2f vs %.2f ms)\n",
			       res[0].dir, res[0].total_us / 1e3, res[i].dir, res[i].total_us / 1e3,
			       res[0].first_us / 1e3, res[i].first_us / 1e3);
	fflush(stdout);
	if (hold) {
		char b[64];

		printf("ready pid=%d\n", (int)getpid());
		fflush(stdout);
		while (read(0, b, sizeof(b)) > 0)
			;
	}
	for (size_t k = 0; k < nmaps; k++) {
		st_free(&maps[k].st);
		munmap(maps[k].addr, maps[k].len);
	}
	free(maps);
	free(res);
	if (image && !keep) {
		int r = daxfs_umount(mnt);

		if (r) {
			fprintf(stderr, "load-weights: umount %s: %s: %s\n", mnt, strerror(-r),
				daxfs_last_error());
			ret = 1;
		}
	}
	return ret ? 1 : 0;
}
