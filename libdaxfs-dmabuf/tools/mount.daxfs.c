// SPDX-License-Identifier: GPL-2.0
/*
 * mount.daxfs - mount(8) helper: mount -t daxfs [-o image=PATH,...] SPEC DIR
 *
 * Called by util-linux as: mount.daxfs SPEC DIR [-sfnv] [-o OPTIONS].
 * With image=PATH it allocates a dma-buf (heap=NAME, udmabuf[=hugetlb],
 * drm=DEVICE, or the default order), loads the image and mounts it; SPEC is
 * ignored (write "none").  Without image= it is a plain mount(2) of SPEC
 * (e.g. dmabuf:ID).  Options it does not consume go to the kernel.
 * Exit codes follow mount(8): 0 ok, 1 usage, 2 system error, 32 mount failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tool.h"

#define MNT_EX_USAGE	1
#define MNT_EX_SYSERR	2
#define MNT_EX_FAIL	32

static bool verbose;

static void usage(void)
{
	fprintf(stderr, "usage: mount.daxfs SPEC DIR [-sfnv] [-o OPTIONS]\n"
		"  OPTIONS: image=PATH [heap=NAME | udmabuf[=hugetlb] | drm=DEVICE] [offset=N]\n"
		"           plus mount flags (nosuid, nodev, noexec, noatime, ...) and daxfs options\n");
}

int main(int argc, char **argv)
{
	struct daxfs_parsed_opts po;
	const char *spec = NULL, *dir = NULL, *opts = "";
	bool fake = false, sloppy = false;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] == '-' && a[1]) {
			if (!strcmp(a, "-o") || !strcmp(a, "-t")) {
				if (++i >= argc) {
					usage();
					return MNT_EX_USAGE;
				}
				if (a[1] == 'o')
					opts = argv[i];
				continue;
			}
			if (!strncmp(a, "-o", 2)) {
				opts = a + 2;
				continue;
			}
			for (const char *f = a + 1; *f; f++) {
				switch (*f) {
				case 's': sloppy = true; break;
				case 'f': fake = true; break;
				case 'n': break;	/* no mtab: there is none */
				case 'v': verbose = true; break;
				case 'h': usage(); return 0;
				default:
					fprintf(stderr, "mount.daxfs: unknown flag -%c\n", *f);
					usage();
					return MNT_EX_USAGE;
				}
			}
		} else if (!spec) {
			spec = a;
		} else if (!dir) {
			dir = a;
		} else {
			usage();
			return MNT_EX_USAGE;
		}
	}
	(void)sloppy;
	if (!spec || !dir) {
		usage();
		return MNT_EX_USAGE;
	}
	if (daxfs__parse_mount_options(opts, &po)) {
		fprintf(stderr, "mount.daxfs: %s\n", daxfs_last_error());
		return MNT_EX_USAGE;
	}
	if (po.rw && verbose)
		fprintf(stderr, "mount.daxfs: daxfs is read-only; mounting read-only\n");

	if (!po.image[0]) {
		char kopts[DAXFS_OPT_MAX + 32];

		snprintf(kopts, sizeof(kopts), "%s", po.kernel);
		if (po.has_offset) {
			size_t l = strlen(kopts);

			snprintf(kopts + l, sizeof(kopts) - l, "%soffset=%llu", l ? "," : "",
				 (unsigned long long)po.offset);
		}
		if (verbose)
			fprintf(stderr, "mount.daxfs: mount(%s, %s, daxfs, %#lx, \"%s\")\n", spec, dir,
				po.flags | MS_RDONLY, kopts);
		if (fake)
			return 0;
		if (mount(spec, dir, "daxfs", (po.flags & ~(unsigned long)MS_RDONLY) | MS_RDONLY,
			  kopts[0] ? kopts : NULL) < 0) {
			fprintf(stderr, "mount.daxfs: mount %s on %s: %s%s\n", spec, dir, strerror(errno),
				errno == ENODEV ? " (is daxfs.ko loaded?)" : " (see dmesg)");
			return MNT_EX_FAIL;
		}
		return 0;
	}

	{
		struct daxfs_image_desc desc;
		struct daxfs_mount_opts mo = { .size = sizeof(mo) };
		char chosen[300];
		struct stat st;
		size_t need;
		int ifd, bfd, r;

		ifd = open(po.image, O_RDONLY | O_CLOEXEC);
		if (ifd < 0 || fstat(ifd, &st) < 0) {
			fprintf(stderr, "mount.daxfs: %s: %s\n", po.image, strerror(errno));
			return MNT_EX_FAIL;
		}
		if (daxfs_image_probe(ifd, 0, &desc)) {
			fprintf(stderr, "mount.daxfs: %s: %s\n", po.image, daxfs_last_error());
			close(ifd);
			return MNT_EX_FAIL;
		}
		if (fake) {
			close(ifd);
			return 0;
		}
		need = (size_t)po.offset + (S_ISREG(st.st_mode) && (uint64_t)st.st_size > desc.image_size ?
					    (size_t)st.st_size : (size_t)desc.image_size);
		switch (po.exporter) {
		case DAXFS_EXP_HEAP:
			bfd = daxfs_dmabuf_alloc_heap(po.exporter_arg, need);
			snprintf(chosen, sizeof(chosen), "heap:%s", po.exporter_arg);
			break;
		case DAXFS_EXP_UDMABUF:
			bfd = daxfs_dmabuf_alloc_udmabuf(need, po.hugetlb ? DAXFS_UDMABUF_HUGETLB : 0);
			snprintf(chosen, sizeof(chosen), "udmabuf");
			break;
		case DAXFS_EXP_DRM:
			bfd = daxfs_dmabuf_alloc_drm(po.exporter_arg, need);
			snprintf(chosen, sizeof(chosen), "drm:%s", po.exporter_arg);
			break;
		default:
			bfd = daxfs_dmabuf_alloc_auto(need, chosen, sizeof(chosen));
			break;
		}
		if (bfd < 0) {
			fprintf(stderr, "mount.daxfs: allocate %zu bytes: %s\n", need, daxfs_last_error());
			close(ifd);
			return MNT_EX_SYSERR;
		}
		r = daxfs_dmabuf_fill(bfd, ifd, (off_t)po.offset, NULL, NULL);
		close(ifd);
		if (r) {
			fprintf(stderr, "mount.daxfs: load %s: %s\n", po.image, daxfs_last_error());
			close(bfd);
			return MNT_EX_SYSERR;
		}
		mo.offset = po.offset;
		mo.flags = po.flags & ~(unsigned long)MS_RDONLY;
		mo.options = po.kernel[0] ? po.kernel : NULL;
		r = daxfs_mount_dmabuf_opts(bfd, dir, &mo);
		close(bfd);	/* the mount keeps the buffer */
		if (r) {
			fprintf(stderr, "mount.daxfs: mount %s on %s: %s\n", po.image, dir,
				daxfs_last_error());
			return MNT_EX_FAIL;
		}
		if (verbose)
			fprintf(stderr, "mount.daxfs: %s (%llu bytes) from %s mounted on %s\n", po.image,
				(unsigned long long)desc.image_size, chosen, dir);
	}
	return 0;
}
