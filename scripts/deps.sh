#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Installs the host packages the project needs (Debian 12, as root).
# Idempotent: installs only what is missing, runs `apt-get update` only when
# something is missing. Other parts append their packages to the lists below.

set -eu

# Kernel side / QEMU test bed (selftests/kernels/kernel-env, kbuild, run):
# - debootstrap builds the per-suite build roots for out-of-tree modules
# - xz-utils/zstd decompress Debian's modules, kmod gives depmod
# - gcc/make/bc/flex/bison/libelf-dev/libssl-dev/dwarves build the debug kernel
# - sparse for C=1 with the debug kernel (the build roots bring their own)
# - qemu-system-x86, busybox-static, cpio for the guest and its initramfs
KERNEL_PKGS="
	debootstrap qemu-system-x86 busybox-static cpio
	xz-utils zstd kmod util-linux ca-certificates
	gcc make bc flex bison libelf-dev libssl-dev dwarves perl python3
	sparse rsync git
"

# VM runner and smoke suite (selftests/vm/run, logscan, selftests/smoke):
# - libdrm-dev + pkg-config: vgem PRIME export in smoke-dmabuf
# - binutils (readelf): PVH check of the extracted vmlinux
# - bash, coreutils, kmod, util-linux also run *inside* the guest (the host's
#   root is its user space): timeout, modprobe/modinfo, setsid, dmesg
# - ndctl, run in the guest by driver-devdax: turns the memmap=! pmem
#   namespace into a device-dax one (/dev/dax0.0) and back
VM_PKGS="
	libdrm-dev pkg-config binutils bash coreutils ndctl
"

# User space, tests and examples:
# - clang + libclang-rt-14-dev: libFuzzer targets and sanitizer runtimes
# - python3-numpy: the safetensors generator and the numpy example (also in
#   the guest, which runs the host's root file system)
# - e2fsprogs/util-linux (losetup), tar: fsck round trips and tar input
# - erofs-utils, squashfs-tools: the mkdaxfs and VM benchmarks' contenders
# - fio: the benchmark's outside referee (selftests/bench/referee; it runs
#   in the guest from the host's root)
# - linux-perf: make bench-profile (perf record in the guest, same way)
USER_PKGS="
	clang libclang-rt-14-dev llvm python3-numpy tar util-linux
	erofs-utils squashfs-tools gnuplot-nox fio linux-perf
"

# Debian packages (make deb, scripts/deb-test):
# - debhelper (compat 13), dh-dkms, dh-python: debian/rules' sequence
# - dpkg-dev (dpkg-buildpackage, dpkg-parsechangelog, dpkg-architecture), lintian
# (dkms itself runs only in the trixie build root, installed there by deb-test)
DEB_PKGS="
	debhelper dh-dkms dh-python dpkg-dev lintian
"

PKGS="$KERNEL_PKGS $VM_PKGS $USER_PKGS $DEB_PKGS"

[ "$(id -u)" = 0 ] || { echo "deps.sh: must run as root" >&2; exit 1; }

missing=
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $st in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -n "$missing" ] || { echo "deps.sh: all packages present"; exit 0; }

echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# update first only when the lists are empty or a package is not known
need_update=
[ -n "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e '^lock$' -e '^partial$' || true)" ] || need_update=1
for p in $missing; do
	apt-cache show "$p" >/dev/null 2>&1 || need_update=1
done
[ -z "$need_update" ] || apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
