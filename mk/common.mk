# SPDX-License-Identifier: GPL-2.0
#
# What every user-space Makefile of the tree shares: where things go, the
# compilers and their flags, the sanitizer and fuzzer settings, the install
# directories and the lookup of the kernel source tree whose kselftest
# harness the VM tests include.  A Makefile includes it first:
#
#   include $(dir $(lastword $(MAKEFILE_LIST)))../mk/common.mk
#
# and may set any ?= variable before the include to change its default.
# (The kernel module's Makefiles are Kbuild's: driver/Makefile for one
# kernel, selftests/kernels/modules.mk for the matrix.)

TOP    := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
BUILD  := $(TOP)/build
RES    := $(BUILD)/results
VT     := $(BUILD)/vmtests
KERNELS_DIR := $(TOP)/selftests/kernels

CC     ?= cc
CLANG  ?= clang

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -fno-strict-aliasing
# ASan+UBSan twins of the tools, the library and its tests.
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer
# libFuzzer targets (clang).
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -fno-strict-aliasing \
	       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# How long make fuzz runs each target, and how long make check does.
FUZZ_SECONDS       ?= 60
FUZZ_CHECK_SECONDS ?= 5

PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/daxfs-dmabuf

DRM_CFLAGS = $(shell pkg-config --cflags libdrm)
DRM_LIBS   = $(shell pkg-config --libs libdrm)

# KSRC: the kernel source tree whose tools/testing/selftests holds the
# kselftest harness (Debian's linux-source, unpacked by
# selftests/kernels/kernel-env; never copied into the repository).  From
# the environment, else the cache, else kernel-env fetches it.  Looked up
# on first use only (a variable that replaces itself), so that a plain
# `make` of the product never fetches a kernel.
CACHE := $(or $(DAXFS_CACHE),$(HOME)/.cache/daxfs)
ifeq ($(KSRC),)
KSRC = $(eval KSRC := $(or $(firstword $(wildcard $(CACHE)/src/current/linux-source-*)),$\
	$(shell $(KERNELS_DIR)/kernel-env --kernel trixie 2>/dev/null | sed -n 's/^KSRC=//p')))$(KSRC)
endif
HARNESS_DIR = $(KSRC)/tools/testing/selftests
# A recipe's first line for programs that include the harness.
check_harness = @test -f "$(HARNESS_DIR)/kselftest_harness.h" || \
	{ echo "$@: no kselftest_harness.h in KSRC='$(KSRC)'; run" \
	       "selftests/kernels/kernel-env --kernel trixie or set KSRC" >&2; exit 1; }

# $(eval $(call c_objects,DIR)): objects DIR/X.o from X.c and their
# ASan+UBSan twins DIR/san/X.o, with dependency files.
define c_objects
$(1)/%.o: %.c
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) -MMD -MP -c -o $$@ $$<
$(1)/san/%.o: %.c
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) $$(SANFLAGS) -MMD -MP -c -o $$@ $$<
endef

# $(eval $(call c_program,DIR,NAME,SOURCES,ARCHIVE,SAN_ARCHIVE)): DIR/NAME
# from the objects of SOURCES and ARCHIVE, and its sanitized twin
# DIR/san/NAME from the san/ objects and SAN_ARCHIVE.
define c_program
$(1)/$(2): $(addprefix $(1)/,$(3:.c=.o)) $(4)
	$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
$(1)/san/$(2): $(addprefix $(1)/san/,$(3:.c=.o)) $(5)
	$$(CC) $$(CFLAGS) $$(SANFLAGS) -o $$@ $$^ $$(LDLIBS)
endef

.DELETE_ON_ERROR:
