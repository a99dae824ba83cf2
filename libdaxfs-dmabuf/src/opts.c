// SPDX-License-Identifier: LGPL-2.1-or-later
/* mount(8)-style option strings for mount.daxfs and daxfsctl. */
#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include "internal.h"

struct flagopt {
	const char *name;
	unsigned long set, clear;
};

static const struct flagopt flagopts[] = {
	{ "ro", MS_RDONLY, 0 },
	{ "nosuid", MS_NOSUID, 0 },	{ "suid", 0, MS_NOSUID },
	{ "nodev", MS_NODEV, 0 },	{ "dev", 0, MS_NODEV },
	{ "noexec", MS_NOEXEC, 0 },	{ "exec", 0, MS_NOEXEC },
	{ "noatime", MS_NOATIME, 0 },	{ "atime", 0, MS_NOATIME },
	{ "nodiratime", MS_NODIRATIME, 0 }, { "diratime", 0, MS_NODIRATIME },
	{ "relatime", MS_RELATIME, 0 },	{ "norelatime", 0, MS_RELATIME },
	{ "strictatime", MS_STRICTATIME, 0 }, { "nostrictatime", 0, MS_STRICTATIME },
	{ "silent", MS_SILENT, 0 },	{ "loud", 0, MS_SILENT },
};

/* Options that only mean something to mount(8) or fstab. */
static const char *const dropped[] = {
	"defaults", "auto", "noauto", "user", "nouser", "users", "owner",
	"group", "nofail", "_netdev", "async", "sync", "mand", "nomand",
};

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static int set_exporter(struct daxfs_parsed_opts *o, enum daxfs_exporter k,
			const char *arg, const char *tok)
{
	if (o->exporter != DAXFS_EXPORTER_AUTO)
		return daxfs__fail(EINVAL, "option \"%s\": more than one exporter given", tok);
	if (arg && daxfs__strlcpy(o->exporter_arg, arg, sizeof(o->exporter_arg)) >=
	    sizeof(o->exporter_arg))
		return daxfs__fail(EINVAL, "option \"%s\": value too long", tok);
	o->exporter = k;
	return 0;
}

static int append_kernel(struct daxfs_parsed_opts *o, const char *tok)
{
	size_t have = strlen(o->kernel), add = strlen(tok);

	if (have + add + 2 > sizeof(o->kernel))
		return daxfs__fail(EINVAL, "option string too long");
	if (have)
		o->kernel[have++] = ',';
	memcpy(o->kernel + have, tok, add + 1);
	return 0;
}

static int one_option(struct daxfs_parsed_opts *o, const char *tok)
{
	size_t i;

	for (i = 0; i < sizeof(flagopts) / sizeof(flagopts[0]); i++) {
		if (!strcmp(tok, flagopts[i].name)) {
			o->flags = (o->flags | flagopts[i].set) & ~flagopts[i].clear;
			if (flagopts[i].set == MS_RDONLY)
				o->rw = false;
			return 0;
		}
	}
	if (!strcmp(tok, "rw")) {
		o->rw = true;
		return 0;
	}
	for (i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		if (!strcmp(tok, dropped[i]))
			return 0;
	if (has_prefix(tok, "x-") || has_prefix(tok, "comment="))
		return 0;

	if (has_prefix(tok, "image=")) {
		if (!tok[6])
			return daxfs__fail(EINVAL, "option \"image=\": empty path");
		if (o->image[0])
			return daxfs__fail(EINVAL, "option \"image=\" given twice");
		if (daxfs__strlcpy(o->image, tok + 6, sizeof(o->image)) >= sizeof(o->image))
			return daxfs__fail(EINVAL, "option \"image=\": path too long");
		return 0;
	}
	if (has_prefix(tok, "heap=")) {
		const char *h = tok + 5;

		if (!*h || strchr(h, '/') || !strcmp(h, ".") || !strcmp(h, ".."))
			return daxfs__fail(EINVAL, "option \"%s\": bad heap name", tok);
		return set_exporter(o, DAXFS_EXPORTER_HEAP, h, tok);
	}
	if (!strcmp(tok, "udmabuf"))
		return set_exporter(o, DAXFS_EXPORTER_UDMABUF, NULL, tok);
	if (!strcmp(tok, "udmabuf=hugetlb")) {
		o->hugetlb = true;
		return set_exporter(o, DAXFS_EXPORTER_UDMABUF, NULL, tok);
	}
	if (has_prefix(tok, "udmabuf="))
		return daxfs__fail(EINVAL, "option \"%s\": udmabuf takes no value but \"hugetlb\"", tok);
	if (has_prefix(tok, "drm=")) {
		if (!tok[4])
			return daxfs__fail(EINVAL, "option \"drm=\": empty device");
		return set_exporter(o, DAXFS_EXPORTER_DRM, tok + 4, tok);
	}
	if (has_prefix(tok, "offset=")) {
		if (daxfs__parse_u64(tok + 7, &o->offset))
			return daxfs__fail(EINVAL, "option \"%s\": bad number", tok);
		o->has_offset = true;
		return 0;
	}
	return append_kernel(o, tok);
}

int daxfs__parse_mount_options(const char *in, struct daxfs_parsed_opts *out)
{
	char tok[DAXFS_OPT_MAX];
	const char *p = in;

	memset(out, 0, sizeof(*out));
	if (!in)
		return 0;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		int r;

		if (n >= sizeof(tok))
			return daxfs__fail(EINVAL, "option too long");
		memcpy(tok, p, n);
		tok[n] = '\0';
		if (n) {
			r = one_option(out, tok);
			if (r)
				return r;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (out->exporter != DAXFS_EXPORTER_AUTO && !out->image[0])
		return daxfs__fail(EINVAL, "an exporter option needs image=");
	return 0;
}

void daxfs__load_opts_from_parsed(const struct daxfs_parsed_opts *po,
				  struct daxfs_load_opts *lo)
{
	memset(lo, 0, sizeof(*lo));
	lo->size = sizeof(*lo);
	lo->exporter = po->exporter;
	if (po->exporter == DAXFS_EXPORTER_HEAP || po->exporter == DAXFS_EXPORTER_DRM)
		lo->exporter_arg = po->exporter_arg;
	if (po->hugetlb)
		lo->flags |= DAXFS_LOAD_HUGETLB;
	lo->offset = po->offset;
	lo->mount_flags = po->flags & ~(unsigned long)MS_RDONLY;
	lo->mount_options = po->kernel[0] ? po->kernel : NULL;
}

void daxfs__mount_opts_from_parsed(const struct daxfs_parsed_opts *po,
				   struct daxfs_mount_opts *mo)
{
	memset(mo, 0, sizeof(*mo));
	mo->size = sizeof(*mo);
	mo->offset = po->offset;
	mo->flags = po->flags & ~(unsigned long)MS_RDONLY;
	mo->options = po->kernel[0] ? po->kernel : NULL;
}
