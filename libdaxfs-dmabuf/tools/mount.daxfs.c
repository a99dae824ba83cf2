// SPDX-License-Identifier: GPL-2.0
/*
 * mount.daxfs - mount(8) helper: mount -t daxfs [-o image=PATH,...] SPEC DIR
 *
 * Called by util-linux as: mount.daxfs SPEC DIR [-sfnv] [-o OPTIONS].
 * With image=PATH it validates the image, allocates a dma-buf (heap=NAME,
 * udmabuf[=hugetlb], drm=DEVICE, or the default order), loads the image and
 * mounts it, all through daxfs_mount_image(); SPEC is ignored (write
 * "none").  Without image= it is a plain mount(2) of SPEC (e.g. dmabuf:ID,
 * /dev/pmem0), or for a device-dax character device (/dev/dax0.0) a mount
 * through daxfs_mount_device(), which reports the kernel's reason.
 * Options it does not consume go to the kernel.
 * Exit codes follow mount(8): 0 ok, 1 usage, 2 system error (not enough
 * memory, no buffer, the copy), 32 mount failure (also a bad image).
 */
#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include "tool.h"

#define MNT_EX_USAGE	1
#define MNT_EX_SYSERR	2
#define MNT_EX_FAIL	32

static bool verbose;

static bool is_chrdev(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

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
		/* A device-dax device: through the library, for the kernel's reason. */
		if (is_chrdev(spec)) {
			struct daxfs_mount_opts mo;

			daxfs__mount_opts_from_parsed(&po, &mo);
			if (daxfs_mount_device(spec, dir, &mo)) {
				fprintf(stderr, "mount.daxfs: mount %s on %s: %s\n", spec, dir,
					daxfs_last_error());
				return MNT_EX_FAIL;
			}
			return 0;
		}
		if (mount(spec, dir, "daxfs", (po.flags & ~(unsigned long)MS_RDONLY) | MS_RDONLY,
			  kopts[0] ? kopts : NULL) < 0) {
			fprintf(stderr, "mount.daxfs: mount %s on %s: %s%s\n", spec, dir, strerror(errno),
				errno == ENODEV ? " (is daxfs.ko loaded?)" : " (see dmesg)");
			return MNT_EX_FAIL;
		}
		return 0;
	}

	{
		struct daxfs_load_info info = { .size = sizeof(info) };
		struct daxfs_load_opts lo;

		daxfs__load_opts_from_parsed(&po, &lo);
		lo.info = &info;
		if (fake)
			lo.flags |= DAXFS_LOAD_DRY_RUN;
		if (daxfs_mount_image(po.image, dir, &lo)) {
			switch (info.stage) {
			case DAXFS_STAGE_ARGS:
				fprintf(stderr, "mount.daxfs: %s\n", daxfs_last_error());
				return MNT_EX_USAGE;
			case DAXFS_STAGE_MEMORY:
				fprintf(stderr, "mount.daxfs: %s: %s\n", po.image, daxfs_last_error());
				return MNT_EX_SYSERR;
			case DAXFS_STAGE_ALLOC:
				fprintf(stderr, "mount.daxfs: allocate %llu bytes: %s\n",
					(unsigned long long)info.buffer_size, daxfs_last_error());
				return MNT_EX_SYSERR;
			case DAXFS_STAGE_FILL:
				fprintf(stderr, "mount.daxfs: load %s: %s\n", po.image, daxfs_last_error());
				return MNT_EX_SYSERR;
			case DAXFS_STAGE_MOUNT:
				fprintf(stderr, "mount.daxfs: mount %s on %s: %s\n", po.image, dir,
					daxfs_last_error());
				return MNT_EX_FAIL;
			default:	/* the image: unreadable, not daxfs, invalid, truncated */
				fprintf(stderr, "mount.daxfs: %s: %s\n", po.image, daxfs_last_error());
				return MNT_EX_FAIL;
			}
		}
		if (verbose)
			fprintf(stderr, "mount.daxfs: %s (%llu bytes) %s %s%s%s\n", po.image,
				(unsigned long long)info.desc.image_size,
				fake ? "is valid, would be mounted on" : "mounted on", dir,
				fake ? "" : " from ", fake ? "" : info.exporter);
	}
	return 0;
}
