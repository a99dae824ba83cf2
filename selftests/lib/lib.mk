# SPDX-License-Identifier: GPL-2.0
#
# The test bed's C helper library (selftests/lib/*.c), compiled into each
# test suite's own build directory with that suite's flags.  A Makefile that
# includes mk/common.mk includes this after it:
#
#   include $(TOP)/selftests/lib/lib.mk
#   CPPFLAGS += $(DXT_CPPFLAGS)
#   $(eval $(call dxt_rules,$(B)))            objects in $(B)/dxt/
#   $(eval $(call dxt_rules,$(B)/san,$(SANFLAGS)))
#   prog: $(call dxt_objs,$(B),dxt_util dxt_dmabuf)
#
#   dxt_util    running commands, files, trees, /proc and sysfs, the source tree
#   dxt_dmabuf  the exporters: udmabuf, the system heap, vgem (needs libdrm)
#   dxt_tap     TAP output of the tests that do not use the kselftest harness
#   dxt_builder an in-memory daxfs image builder (needs format/ and format/user/)

DXT_DIR      := $(TOP)/selftests/lib
DXT_CPPFLAGS := -I$(DXT_DIR)
DXT_HDRS     := $(wildcard $(DXT_DIR)/*.h)

# The objects of library parts $(2) for the build directory $(1).
dxt_objs = $(patsubst %,$(1)/dxt/%.o,$(2))
# The sources of library parts $(1), for one-command builds.
dxt_srcs = $(patsubst %,$(DXT_DIR)/%.c,$(1))

# The rule that compiles the library into $(1)/dxt/ with extra flags $(2).
define dxt_rules
$(1)/dxt/%.o: $$(DXT_DIR)/%.c $$(DXT_HDRS)
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(DXT_CPPFLAGS) $$(CFLAGS) $(2) -c -o $$@ $$<
endef
