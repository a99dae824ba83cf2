// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * How much memory a new dma-buf can take, so that daxfs_mount_image()
 * refuses a too-large image before it asks an exporter (whose failure mode
 * for a huge request may be the OOM killer rather than an error):
 * MemAvailable from /proc/meminfo, lowered by the headroom of the caller's
 * memory cgroup and of every ancestor (a limit there fails or OOM-kills in
 * the cgroup long before the machine runs out).  Huge-page udmabufs come
 * from the hugetlb pool instead: its free 2 MiB pages.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

#define SMALL_FILE 65536	/* /proc/meminfo, /proc/self/cgroup, cgroup files */

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Decimal digits to a u64 without wrapping; advances *pp. */
static int parse_dec(const char **pp, uint64_t *v)
{
	const char *p = *pp;
	uint64_t x = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		unsigned int d = (unsigned int)(*p - '0');

		if (x > (UINT64_MAX - d) / 10)
			return -EINVAL;
		x = x * 10 + d;
		p++;
	}
	*pp = p;
	*v = x;
	return 0;
}

int daxfs__meminfo_value(const char *text, const char *key, uint64_t *bytes)
{
	size_t kl = strlen(key);
	const char *line = text;

	while (line && *line) {
		const char *eol = strchr(line, '\n');

		if (!strncmp(line, key, kl) && line[kl] == ':') {
			const char *p = line + kl + 1;
			uint64_t v;

			while (is_space(*p))
				p++;
			if (parse_dec(&p, &v))
				return -EINVAL;
			while (is_space(*p))
				p++;
			if (p[0] == 'k' && p[1] == 'B') {
				if (v > UINT64_MAX / 1024)
					return -EINVAL;
				v *= 1024;
				p += 2;
			}
			while (is_space(*p))
				p++;
			if (*p && *p != '\n')
				return -EINVAL;
			*bytes = v;
			return 0;
		}
		line = eol ? eol + 1 : NULL;
	}
	return -ENOENT;
}

/* Is @want one of the comma-separated names in [p, end)? */
static bool in_list(const char *p, const char *end, const char *want)
{
	size_t wl = strlen(want);

	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		size_t n = c ? (size_t)(c - p) : (size_t)(end - p);

		if (n == wl && !memcmp(p, want, wl))
			return true;
		p += n + (c ? 1 : 0);
	}
	return false;
}

int daxfs__cgroup_path(const char *text, const char *v1_controller, char *out, size_t outlen)
{
	const char *line = text;

	while (line && *line) {
		const char *eol = strchr(line, '\n');
		const char *end = eol ? eol : line + strlen(line);
		const char *c1 = memchr(line, ':', (size_t)(end - line));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		bool match;

		if (c1 && c2) {
			if (v1_controller)
				match = !(c1 - line == 1 && line[0] == '0') &&
					in_list(c1 + 1, c2, v1_controller);
			else
				match = c1 - line == 1 && line[0] == '0' && c2 == c1 + 1;
			if (match) {
				size_t n = (size_t)(end - c2 - 1);

				if (n == 0 || c2[1] != '/' || n >= outlen)
					return -EINVAL;
				memcpy(out, c2 + 1, n);
				out[n] = '\0';
				return 0;
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	return -ENOENT;
}

int daxfs__cgroup_number(const char *text, uint64_t *v)
{
	const char *p = text;

	while (is_space(*p))
		p++;
	if (!strncmp(p, "max", 3)) {
		*v = UINT64_MAX;
		p += 3;
	} else if (parse_dec(&p, v)) {
		return -EINVAL;
	}
	while (is_space(*p) || *p == '\n')
		p++;
	return *p ? -EINVAL : 0;
}

static int read_number(const char *dir, const char *file, uint64_t *v)
{
	char path[PATH_MAX + 64], buf[64];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return -ENAMETOOLONG;
	if (daxfs__read_small(path, buf, sizeof(buf)) < 0)
		return -ENOENT;
	return daxfs__cgroup_number(buf, v);
}

struct cg_fs {
	char mnt[PATH_MAX];
	char root[PATH_MAX];
	bool found;
};

/* The cgroup2 mount and the v1 "memory" mount of our mount namespace. */
static void find_cgroup_mounts(const char *mountinfo, struct cg_fs *v2, struct cg_fs *v1)
{
	struct daxfs_mountinfo *mi = malloc(sizeof(*mi));
	char *line = NULL;
	size_t cap = 0;
	FILE *f = mi ? fopen(mountinfo, "re") : NULL;

	if (!f) {
		free(mi);
		return;
	}
	while (getline(&line, &cap, f) > 0) {
		struct cg_fs *which = NULL;

		if (daxfs__mountinfo_parse_line(line, mi))
			continue;
		if (!strcmp(mi->fstype, "cgroup2"))
			which = v2;
		else if (!strcmp(mi->fstype, "cgroup") &&
			 in_list(mi->super_opts, mi->super_opts + strlen(mi->super_opts), "memory"))
			which = v1;
		if (which && !which->found &&
		    strlen(mi->mountpoint) < sizeof(which->mnt) && strlen(mi->root) < sizeof(which->root)) {
			strcpy(which->mnt, mi->mountpoint);
			strcpy(which->root, mi->root);
			which->found = true;
		}
	}
	free(line);
	free(mi);
	fclose(f);
}

static bool has_dotdot(const char *path)
{
	const char *p = path;

	while ((p = strstr(p, "..")) != NULL) {
		if ((p == path || p[-1] == '/') && (p[2] == '/' || !p[2]))
			return true;
		p += 2;
	}
	return false;
}

/*
 * Walk from the caller's cgroup up to the mount's root, lowering *avail
 * to the smallest limit - usage on the way.
 */
static void cgroup_walk(const struct cg_fs *fs, const char *cgpath, const char *max_file,
			const char *cur_file, uint64_t *avail, char *why, size_t whylen)
{
	char dir[PATH_MAX];
	size_t rl = strlen(fs->root), base;
	const char *rel;

	if (has_dotdot(cgpath))
		return;	/* outside our cgroup namespace */
	if (!strcmp(fs->root, "/")) {
		rel = cgpath;
	} else if (!strncmp(cgpath, fs->root, rl) && (cgpath[rl] == '/' || !cgpath[rl])) {
		rel = cgpath + rl;
	} else {
		return;	/* our cgroup is not visible under this mount */
	}
	base = strlen(fs->mnt);
	if ((size_t)snprintf(dir, sizeof(dir), "%s%s", fs->mnt, rel) >= sizeof(dir))
		return;
	while (strlen(dir) > base) {
		uint64_t max, cur;
		char *slash;

		if (read_number(dir, max_file, &max) == 0 && max != UINT64_MAX &&
		    read_number(dir, cur_file, &cur) == 0) {
			uint64_t room = max > cur ? max - cur : 0;

			if (room < *avail) {
				*avail = room;
				if (why)
					snprintf(why, whylen, "cgroup %s: %s %" PRIu64 ", %s %" PRIu64,
						 strlen(dir) > base ? dir + base : "/", max_file, max,
						 cur_file, cur);
			}
		}
		slash = strrchr(dir, '/');
		if (!slash || (size_t)(slash - dir) < base)
			break;
		*slash = '\0';
	}
}

uint64_t daxfs__mem_available(const struct daxfs_mem_env *env, bool hugetlb,
			      char *why, size_t whylen)
{
	static const struct daxfs_mem_env real = {
		.meminfo = "/proc/meminfo",
		.mountinfo = "/proc/self/mountinfo",
		.cgroup = "/proc/self/cgroup",
		.hugepages = "/sys/kernel/mm/hugepages/hugepages-2048kB",
	};
	char *buf, path[PATH_MAX];
	uint64_t avail = UINT64_MAX, v;
	struct cg_fs *v2 = NULL, *v1 = NULL;

	if (why && whylen)
		snprintf(why, whylen, "no limit known");
	buf = malloc(SMALL_FILE);
	if (!buf)
		return avail;
	if (hugetlb) {
		const char *hp = env && env->hugepages ? env->hugepages : real.hugepages;
		uint64_t resv;

		/* free_hugepages counts the pages promised to mappings too */
		if (read_number(hp, "resv_hugepages", &resv))
			resv = 0;
		if (read_number(hp, "free_hugepages", &v) == 0) {
			v = v > resv ? v - resv : 0;
			if (v <= UINT64_MAX / (2u << 20)) {
				avail = v * (2u << 20);
				if (why)
					snprintf(why, whylen, "free 2 MiB huge pages: %" PRIu64, v);
			}
		}
		free(buf);
		return avail;
	}
	if (daxfs__read_small(env && env->meminfo ? env->meminfo : real.meminfo, buf, SMALL_FILE) > 0 &&
	    daxfs__meminfo_value(buf, "MemAvailable", &v) == 0) {
		avail = v;
		if (why)
			snprintf(why, whylen, "MemAvailable in /proc/meminfo");
	}
	if (daxfs__read_small(env && env->cgroup ? env->cgroup : real.cgroup, buf, SMALL_FILE) <= 0)
		goto out;
	v2 = calloc(1, sizeof(*v2));
	v1 = calloc(1, sizeof(*v1));
	if (!v2 || !v1)
		goto out;
	find_cgroup_mounts(env && env->mountinfo ? env->mountinfo : real.mountinfo, v2, v1);
	if (v2->found && daxfs__cgroup_path(buf, NULL, path, sizeof(path)) == 0)
		cgroup_walk(v2, path, "memory.max", "memory.current", &avail, why, whylen);
	if (v1->found && daxfs__cgroup_path(buf, "memory", path, sizeof(path)) == 0)
		cgroup_walk(v1, path, "memory.limit_in_bytes", "memory.usage_in_bytes", &avail,
			    why, whylen);
out:
	free(v2);
	free(v1);
	free(buf);
	return avail;
}
