# SPDX-License-Identifier: GPL-2.0
#
# mkdaxfs: build a daxfs image from a directory or a tar archive.
#
#   make mkdaxfs-check   the tests; TAP into build/results/format-mkdaxfs.tap
#                        (run with the ASan+UBSan build, build/format/san/)
#   make bench-mkdaxfs   the benchmark against mkfs.erofs (not a test);
#                        writes docs/bench-mkdaxfs.md

PROGS += mkdaxfs
mkdaxfs_SRCS := mkdaxfs.c mkdaxfs_dir.c mkdaxfs_tar.c mkdaxfs_util.c

CHECKS += mkdaxfs-check

mkdaxfs-check: $(B)/san/mkdaxfs
	@mkdir -p $(RES)
	MKDAXFS=$(B)/san/mkdaxfs TESTDIR=$(B)/tests/mkdaxfs \
	TAP_OUT=$(RES)/format-mkdaxfs.tap \
		$(TOP)/format/tests/mkdaxfs/run.sh

bench-mkdaxfs: $(B)/mkdaxfs
	MKDAXFS=$(B)/mkdaxfs BENCHDIR=$(B)/bench/mkdaxfs \
	REPORT=$(TOP)/docs/bench-mkdaxfs.md \
		$(TOP)/format/tests/mkdaxfs/bench.sh

.PHONY: bench-mkdaxfs
