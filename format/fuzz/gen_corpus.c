// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the seed corpus of fuzz_validate: a few small valid images made
 * with the test builder, each prefixed by the target's flag byte (fix the
 * CRC, use a reader).  Usage: gen-corpus DIR
 */
#include "dxt_builder.h"

static int emit(const char *dir, const char *name, unsigned char flags,
		struct tb *t)
{
	struct tb_image img;
	char path[4096];
	FILE *f;
	int ok;

	if (tb_build(t, &img))
		return -1;
	tb_free(t);
	if (img.size + 1 > 65536) {
		fprintf(stderr, "%s: %zu bytes, over 64 KiB\n", name, img.size);
		free(img.buf);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		free(img.buf);
		return -1;
	}
	ok = fputc(flags, f) != EOF &&
	     fwrite(img.buf, 1, img.size, f) == img.size;
	ok = (fclose(f) == 0) && ok;
	free(img.buf);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct tb *t;
	u32 d, e, f;
	int ret = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}

	ret |= emit(argv[1], "root-only", 3, tb_new(12));

	/* Every inode type, a hard link, nested directories. */
	t = tb_new(12);
	d = tb_dir(t, 1, "dir");
	e = tb_dir(t, d, "sub");
	f = tb_file(t, d, "file", 300);
	tb_link(t, e, "hardlink", f);
	tb_file(t, 1, "page", 4096);
	tb_file(t, 1, "empty", 0);
	tb_symlink(t, 1, "link", "dir/file");
	tb_special(t, 1, "chr", DAXFS_S_IFCHR, 1, 3);
	tb_special(t, 1, "blk", DAXFS_S_IFBLK, 8, 1);
	tb_special(t, 1, "fifo", DAXFS_S_IFIFO, 0, 0);
	tb_special(t, 1, "sock", DAXFS_S_IFSOCK, 0, 0);
	ret |= emit(argv[1], "all-types", 3, t);

	/* Metadata only: many names, no data. */
	t = tb_new(12);
	tb_fill(t, tb_dir(t, 1, "many"), "n%02u", 60, 10, true);
	ret |= emit(argv[1], "meta-only", 3, t);

	/* Same tree as all-types, CRC left as is, no reader. */
	t = tb_new(12);
	d = tb_dir(t, 1, "a");
	tb_file(t, d, "\xc3\xa9", 5);
	tb_file(t, d, "Z", 9);
	tb_symlink(t, d, "up", "..");
	ret |= emit(argv[1], "crc-intact", 0, t);
	return ret ? 1 : 0;
}
