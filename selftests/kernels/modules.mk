# SPDX-License-Identifier: GPL-2.0
#
# The test bed's module builds, for each kernel of the matrix with that
# kernel's headers and compiler (selftests/kernels/kbuild):
#   daxfs.ko          into build/driver/$KVER/, where the VM runner loads it
#                     (driver/Makefile is the product's ordinary Kbuild
#                     Makefile, for one kernel)
#   daxfs_gpuexp.ko   the test-only exporter (selftests/exporter/), into
#                     build/exporter/$KVER/; guest-run loads it after daxfs.ko
#
#   make -f selftests/kernels/modules.mk                       all kernels
#   make -f selftests/kernels/modules.mk KERNELS="trixie sid"  a choice
#   make -f selftests/kernels/modules.mk W=1 C=1               extra warnings, sparse
#   make -f selftests/kernels/modules.mk checkpatch            checkpatch --strict
#   make -f selftests/kernels/modules.mk clean
#
# (make matrix-modules, make checkpatch at the top do the same.)
#
# Each module and kernel gets its own staged copy of the sources in
# build/MODULE-DIR/src-$KVER/ (with the relative paths of the repository:
# the driver includes ../format and ../uapi), so that builds for several
# kernels run in parallel (make -j) without sharing object files.

TOP      := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../..)
KERNELS_DIR := $(TOP)/selftests/kernels
KERNELS  ?= bookworm trixie sid debug

# (not the files of an in-place build of driver/: *.mod.c)
DRV_SRCS := $(filter-out %.mod.c,$(wildcard $(TOP)/driver/*.c $(TOP)/driver/*.h)) \
	    $(TOP)/driver/Kbuild
FMT_SRCS := $(TOP)/format/daxfs_format.h $(TOP)/format/daxfs_validate.h \
	    $(TOP)/format/daxfs_validate.c
UAPI     := $(TOP)/uapi/linux/daxfs.h
EXP_SRCS := $(addprefix $(TOP)/selftests/exporter/,daxfs_gpuexp.c daxfs_gpuexp.h Kbuild)

all:

# Make variables handed to Kbuild.
KARGS    := $(if $(W),W=$(W)) $(if $(C),C=$(C)) $(if $(V),V=$(V))

# $(call matrix_module,NAME,OUT,SUBDIR,STAGE): the rules module-NAME-K for
# every kernel K: STAGE copies the sources into $$s (the staging root),
# Kbuild runs in $$s/SUBDIR, NAME.ko lands in build/OUT/$KVER/.
define matrix_module
$(1)_TARGETS := $(addprefix module-$(1)-,$(KERNELS))
$$($(1)_TARGETS): module-$(1)-%:
	@set -e; mkdir -p $(TOP)/build/$(2); \
	eval "$$$$($(KERNELS_DIR)/kernel-env --kernel $$* 2>$(TOP)/build/$(2)/kernel-env-$$*.log || \
		{ cat $(TOP)/build/$(2)/kernel-env-$$*.log >&2; echo false; })"; \
	[ -n "$$$$KVER" ]; \
	s=$(TOP)/build/$(2)/src-$$$$KVER; \
	mkdir -p $$$$s/$(3) $(TOP)/build/$(2)/$$$$KVER; \
	$(4); \
	echo "  KBUILD  $(1) $$* ($$$$KVER)"; \
	$(KERNELS_DIR)/kbuild --kernel $$* -C $$$$s/$(3) $(KARGS) modules; \
	cp $$$$s/$(3)/$(1).ko $(TOP)/build/$(2)/$$$$KVER/$(1).ko.tmp; \
	mv $(TOP)/build/$(2)/$$$$KVER/$(1).ko.tmp $(TOP)/build/$(2)/$$$$KVER/$(1).ko; \
	echo "  MODULE  $(TOP)/build/$(2)/$$$$KVER/$(1).ko"
endef

STAGE_DRV := mkdir -p $$$$s/format $$$$s/uapi/linux; cp -u $(DRV_SRCS) $$$$s/driver/; \
	cp -u $(FMT_SRCS) $$$$s/format/; cp -u $(UAPI) $$$$s/uapi/linux/
STAGE_EXP := cp -u $(EXP_SRCS) $$$$s/exporter/

$(eval $(call matrix_module,daxfs,driver,driver,$(STAGE_DRV)))
$(eval $(call matrix_module,daxfs_gpuexp,exporter,exporter,$(STAGE_EXP)))

all: $(daxfs_TARGETS) $(daxfs_gpuexp_TARGETS)

# compat.h and the exporter's compat section exist to test kernel versions:
# LINUX_VERSION_CODE is their job.  The format files are shared with user
# space, where BIT() does not exist, and use the C11 keyword _Static_assert
# (a CamelCase false positive).
CP_DRV   := $(filter-out %/compat.h %.mod.c,$(sort $(wildcard $(TOP)/driver/*.[ch])))
CP_FMT   := $(FMT_SRCS) $(UAPI)
CP_VER   := $(TOP)/driver/compat.h $(TOP)/selftests/exporter/daxfs_gpuexp.c

checkpatch:
	@set -e; mkdir -p $(TOP)/build/driver; \
	eval "$$($(KERNELS_DIR)/kernel-env --kernel trixie 2>$(TOP)/build/driver/kernel-env-checkpatch.log)"; \
	cp="perl $$KSRC/scripts/checkpatch.pl --strict --no-tree --root=$$KSRC -q --show-types"; \
	rc=0; \
	$$cp -f $(CP_DRV) $(TOP)/selftests/exporter/daxfs_gpuexp.h || rc=1; \
	$$cp --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f $(CP_VER) || rc=1; \
	$$cp --ignore BIT_MACRO,CAMELCASE -f $(CP_FMT) || rc=1; \
	[ $$rc = 0 ] && echo "  CHECKPATCH clean"

clean:
	rm -rf $(TOP)/build/driver $(TOP)/build/exporter

.PHONY: all checkpatch clean $(daxfs_TARGETS) $(daxfs_gpuexp_TARGETS)
