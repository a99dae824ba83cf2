# SPDX-License-Identifier: GPL-2.0
#
# daxfs-dmabuf: top-level entry points.
#
#   make            the tools and the library, and daxfs.ko for the running
#                   kernel when its build tree (linux-headers) is installed;
#                   make KDIR=/path/to/build for another kernel
#   make deps       install the Debian packages the project needs (root)
#   make check      every test: user space, then the VM suite on each kernel;
#                   ends with "N passed, N failed[, N skipped]"
#   make demo       the main job in a VM: model weights in a dma-buf, mounted
#   make demo-shared  two VMs mount one image in one shared memory region
#   make bench      benchmarks in a VM (report in build/bench/benchmarks.md),
#                   then the referee: fio and a safetensors loader
#                   (build/bench/referee.md), then make-available and kernel
#                   memory at 1, 4 and 16 GiB (build/bench/scale.md);
#                   make bench-publish also copies the three reports to docs/
#   make bench-referee  the referee alone (REFEREE_ARGS=--quick to try it)
#   make bench-scale    the scaling run alone (SCALE_ARGS=--quick to try it)
#   make bench-notes    selftests/bench/notes.md into docs/benchmarks.md (no run)
#   make bench-profile  perf profiles of the read and mmap rows (build/bench/profile.md)
#   make fuzz       the libFuzzer targets, for longer than make check does
#   make fuzz-kernel ITER=N   mutated images against the module, debug kernel
#   make install    tools, library, headers, man pages (PREFIX, DESTDIR)
#   make deb        Debian packages (DKMS module, library, -dev, tools,
#                   Python) into build/deb/, then lintian over them
#   make clean
#
# The test bed (make check builds what it needs):
#   make matrix-modules  daxfs.ko and the test exporter for every kernel of
#                   the matrix, into build/driver/ and build/exporter/
#   make vmtests    the VM test programs, into build/vmtests/
#   make checkpatch checkpatch --strict over the module and the exporter
# KERNELS selects the kernels of the matrix (default: all four).

KERNELS ?= bookworm trixie sid debug
PREFIX  ?= /usr/local
DESTDIR ?=
export KERNELS PREFIX DESTDIR

USERSPACE_DIRS := format tools libdaxfs-dmabuf

KDIR ?= /lib/modules/$(shell uname -r)/build

all: userspace module

userspace:
	@for d in $(USERSPACE_DIRS); do \
		[ -f $$d/Makefile ] || continue; \
		$(MAKE) -C $$d || exit 1; \
	done

# daxfs.ko for one kernel.  Without a build tree of the running kernel the
# module is skipped with a message; a KDIR given on the command line must
# exist.
module:
ifeq ($(origin KDIR),command line)
	$(MAKE) -C driver KDIR="$(KDIR)"
else
	@if [ -d "$(KDIR)/" ]; then \
		$(MAKE) -C driver KDIR="$(KDIR)"; \
	else \
		echo "daxfs.ko skipped: no kernel build tree at $(KDIR) (install linux-headers-$$(uname -r), or make KDIR=/path/to/kernel/build)"; \
	fi
endif

# The test bed: daxfs.ko, and the test-only exporter the VM tests load
# beside it, for every kernel of the matrix.
matrix-modules:
	$(MAKE) -f selftests/kernels/modules.mk KERNELS="$(KERNELS)"

checkpatch:
	$(MAKE) -f selftests/kernels/modules.mk checkpatch

vmtests: userspace
	$(MAKE) -C selftests

deps:
	scripts/deps.sh

# As root, install what is missing first, so that make check works on a
# fresh machine; deps.sh is idempotent and quick when nothing is missing.
check:
	@if [ "$$(id -u)" = 0 ]; then scripts/deps.sh; fi
	scripts/check

fuzz:
	$(MAKE) -C format fuzz
	$(MAKE) -C libdaxfs-dmabuf fuzz
	$(MAKE) -C examples fuzz

ITER ?= 2000
fuzz-kernel: userspace vmtests
	$(MAKE) matrix-modules KERNELS="$${FUZZ_KERNEL:-debug}"
	selftests/fuzz-kernel/run $(ITER)

demo:
	examples/demo

# two QEMU guests mount one image in one shared memory region
demo-shared:
	examples/demo-shared

bench:
	selftests/bench/run $(BENCH_ARGS)
	selftests/bench/referee $(BENCH_ARGS) $(REFEREE_ARGS)
	selftests/bench/scale $(BENCH_ARGS) $(SCALE_ARGS)

# fio and a real safetensors loader as outside referees (issue 18)
bench-referee:
	selftests/bench/referee $(BENCH_ARGS) $(REFEREE_ARGS)

# make-available time and kernel memory at 1, 4 and 16 GiB (issue 18 item 6)
bench-scale:
	selftests/bench/scale $(BENCH_ARGS) $(SCALE_ARGS)

# where the time of the read and mmap rows goes (perf in the guest)
bench-profile:
	selftests/bench/profile $(PROFILE_ARGS)

# the hand-written analysis (selftests/bench/notes.md) into docs/benchmarks.md
bench-notes:
	selftests/bench/report --notes docs/benchmarks.md

# the same, then the report replaces the committed one in docs/
bench-publish:
	selftests/bench/run --publish $(BENCH_ARGS)
	selftests/bench/referee --publish $(BENCH_ARGS) $(REFEREE_ARGS)
	selftests/bench/scale --publish $(BENCH_ARGS) $(SCALE_ARGS)

install:
	$(MAKE) -C format install
	$(MAKE) -C tools install
	$(MAKE) -C libdaxfs-dmabuf install
	$(MAKE) -C python install

# Debian packages from a clean copy of the tree (scripts/deb-test tests them).
deb:
	scripts/deb-build

# The DKMS source tree (dkms.conf + driver/ + the format and uapi headers),
# named by dkms.conf's version.
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
install-dkms:
	scripts/dkms-test --stage $(DESTDIR)/usr/src/daxfs-dmabuf-$(DKMS_VERSION)

clean:
	rm -rf build
	$(MAKE) -C driver clean KDIR="$(KDIR)"

.PHONY: all userspace module matrix-modules checkpatch vmtests deps check fuzz fuzz-kernel demo demo-shared bench bench-publish bench-notes bench-referee bench-scale bench-profile install install-dkms deb clean
