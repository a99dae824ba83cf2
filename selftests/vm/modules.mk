# SPDX-License-Identifier: GPL-2.0
#
# The test bed's build of daxfs.ko: for each kernel of the matrix with that
# kernel's headers and compiler (selftests/vm/kbuild), into
# build/driver/$KVER/daxfs.ko, where the VM runner loads it.  (driver/Makefile
# is the product's ordinary Kbuild Makefile, for one kernel.)
#
#   make -f selftests/vm/modules.mk                       all kernels
#   make -f selftests/vm/modules.mk KERNELS="trixie sid"  a choice
#   make -f selftests/vm/modules.mk W=1 C=1               extra warnings, sparse
#   make -f selftests/vm/modules.mk checkpatch            checkpatch --strict
#   make -f selftests/vm/modules.mk clean
#
# (make matrix-modules, make checkpatch at the top do the same.)
#
# Each kernel gets its own staged copy of the sources in
# build/driver/src-$KVER/ (driver/, format/, uapi/ with the relative paths
# of the repository), so that builds for several kernels run in parallel
# (make -j) without sharing object files.

TOP      := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../..)
B        := $(TOP)/build/driver
VM       := $(TOP)/selftests/vm
KERNELS  ?= bookworm trixie sid debug

# (not the files of an in-place build of driver/: *.mod.c)
DRV_SRCS := $(filter-out %.mod.c,$(wildcard $(TOP)/driver/*.c $(TOP)/driver/*.h)) \
	    $(TOP)/driver/Kbuild
FMT_SRCS := $(TOP)/format/daxfs_format.h $(TOP)/format/daxfs_validate.h \
	    $(TOP)/format/daxfs_validate.c
UAPI     := $(TOP)/uapi/linux/daxfs.h

# Make variables handed to Kbuild.
KARGS    := $(if $(W),W=$(W)) $(if $(C),C=$(C)) $(if $(V),V=$(V))

MODULES  := $(addprefix module-,$(KERNELS))

all: $(MODULES)

$(MODULES): module-%: | $(B)
	@set -e; \
	eval "$$($(VM)/kernel-env --kernel $* 2>$(B)/kernel-env-$*.log || \
		{ cat $(B)/kernel-env-$*.log >&2; echo false; })"; \
	[ -n "$$KVER" ]; \
	s=$(B)/src-$$KVER; \
	mkdir -p $$s/driver $$s/format $$s/uapi/linux $(B)/$$KVER; \
	cp -u $(DRV_SRCS) $$s/driver/; \
	cp -u $(FMT_SRCS) $$s/format/; \
	cp -u $(UAPI) $$s/uapi/linux/; \
	echo "  KBUILD  $* ($$KVER)"; \
	$(VM)/kbuild --kernel $* -C $$s/driver $(KARGS) modules; \
	cp $$s/driver/daxfs.ko $(B)/$$KVER/daxfs.ko.tmp; \
	mv $(B)/$$KVER/daxfs.ko.tmp $(B)/$$KVER/daxfs.ko; \
	echo "  MODULE  $(B)/$$KVER/daxfs.ko"

$(B):
	@mkdir -p $@

# compat.h exists to test kernel versions: LINUX_VERSION_CODE is its job.
# The format files are shared with user space, where BIT() does not exist,
# and use the C11 keyword _Static_assert (a CamelCase false positive).
CP_DRV   := $(filter-out %/compat.h %.mod.c,$(sort $(wildcard $(TOP)/driver/*.[ch])))
CP_FMT   := $(FMT_SRCS) $(UAPI)

checkpatch: | $(B)
	@set -e; \
	eval "$$($(VM)/kernel-env --kernel trixie 2>$(B)/kernel-env-checkpatch.log)"; \
	cp="perl $$KSRC/scripts/checkpatch.pl --strict --no-tree --root=$$KSRC -q --show-types"; \
	rc=0; \
	$$cp -f $(CP_DRV) || rc=1; \
	$$cp --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f $(TOP)/driver/compat.h || rc=1; \
	$$cp --ignore BIT_MACRO,CAMELCASE -f $(CP_FMT) || rc=1; \
	[ $$rc = 0 ] && echo "  CHECKPATCH clean"

clean:
	rm -rf $(B)

.PHONY: all checkpatch clean $(MODULES)
