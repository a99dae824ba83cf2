# SPDX-License-Identifier: GPL-2.0
#
# fsck.daxfs: check, summarize, list and extract daxfs images.
#
#   make fsck-check    the fsck tests; TAP into build/results/format-fsck.tap
#
# The tests run the sanitized twins (build/format/san/) of fsck.daxfs and,
# for the round trip, of mkdaxfs.

PROGS += fsck.daxfs
fsck_daxfs_SRCS := fsck.c fsck_list.c fsck_extract.c fsck_util.c

CHECKS += fsck-check

# mkdaxfs comes from its own fragment (included after this one): depend on
# it by file name so the rule does not need PROGS to be complete.
FSCK_TEST_DEPS := $(B)/san/fsck.daxfs \
	$(if $(wildcard $(CURDIR)/mkdaxfs.mk),$(B)/san/mkdaxfs)

fsck-check: $(FSCK_TEST_DEPS)
	@mkdir -p $(RES)
	FSCK=$(B)/san/fsck.daxfs MKDAXFS=$(B)/san/mkdaxfs \
	TESTDIR=$(B)/tests/fsck TAP_OUT=$(RES)/format-fsck.tap \
		$(TOP)/format/tests/fsck/run.sh
