# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared by the example VM tests (selftests/examples/example-*, installed as build/vmtests/example-*)
# and examples/demo-guest: paths, TAP helpers, exporters, weights and images.

SRC=${DAXFS_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
EX=$SRC/examples
LW=$SRC/build/examples/load-weights
CTL=$SRC/build/lib/daxfsctl
MKDAXFS=$SRC/build/tools/mkdaxfs
GEN=$EX/gen-safetensors
PY=/usr/bin/python3
KERNEL=${DAXFS_KERNEL:-unknown}
WORKDIR=${EXAMPLE_WORKDIR:-/tmp/examples}

T_N=0
T_FAIL=0
tap_ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
tap_not_ok() { T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $*"; }
tap_skip() { T_N=$((T_N + 1)); echo "ok $T_N - $1 # SKIP $2"; }
tap_check() {	# tap_check DESCRIPTION COMMAND...: ok iff the command succeeds
	local d=$1 out
	shift
	if out=$("$@" 2>&1); then
		tap_ok "$d"
		printf '%s\n' "$out" | sed 's/^/# /'
	else
		tap_not_ok "$d (exit $?)"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}
tap_done() { echo "1..$T_N"; [ "$T_FAIL" -eq 0 ]; }
comment() { printf '%s\n' "$*" | sed 's/^/# /'; }

# The exporters of this kernel: "NAME DAXFSCTL-OPTION" lines.
vgem_card() {
	local c
	for c in /sys/class/drm/card*; do
		[ -e "$c/device" ] || continue
		case "$(basename "$(readlink -f "$c/device")")" in
		vgem*) echo "/dev/dri/$(basename "$c")"; return 0 ;;
		esac
	done
	return 1
}
exporter_option() {	# heap|udmabuf|vgem -> daxfsctl option, or fail
	case $1 in
	heap) [ -e /dev/dma_heap/system ] && echo --heap=system ;;
	udmabuf) [ -e /dev/udmabuf ] && echo --udmabuf ;;
	vgem) local c; c=$(vgem_card) && echo "--drm=$c" ;;
	*) return 1 ;;
	esac
}
# Which exporters the kernel of the matrix must have (CI fails without them).
exporter_expected() {
	case "$KERNEL:$1" in
	bookworm:vgem) return 0 ;;
	bookworm:*) return 1 ;;
	*) return 0 ;;
	esac
}
ci() { [ "${CI:-}" = true ]; }

# need_tools: every program the examples run, built.
need_tools() {
	local t missing=
	for t in "$LW" "$CTL" "$MKDAXFS"; do
		[ -x "$t" ] || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		tap_not_ok "example tools built:$missing missing (make -C examples; make userspace)"
		tap_done
		exit 1
	fi
	if [ ! -e /dev/daxfs ]; then
		tap_not_ok "/dev/daxfs present (daxfs.ko loaded for $(uname -r))"
		tap_done
		exit 1
	fi
}

# make_weights SIZE FILES DIR: generate the model and its image DIR.img.
make_weights() {
	local size=$1 files=$2 dir=$3
	rm -rf "$dir" "$dir.img"
	"$PY" "$GEN" -q --size="$size" --files="$files" "$dir" &&
		"$MKDAXFS" -q --align=2M -L weights "$dir.img" "$dir"
}

# udmabuf refuses buffers above its size_limit_mb parameter (64 by
# default); raise it (root, writable at run time) when the image needs more.
udmabuf_allow() {	# udmabuf_allow BYTES
	local p=/sys/module/udmabuf/parameters/size_limit_mb mb
	mb=$((($1 >> 20) + 2))
	[ -w $p ] && [ "$(cat $p)" -lt "$mb" ] && echo "$mb" > $p
	return 0
}

# mount_weights IMAGE MNT OPTION: daxfsctl mount with the exporter OPTION.
mount_weights() {
	[ "$3" = --udmabuf ] && udmabuf_allow "$(stat -c %s "$1")"
	mkdir -p "$2" && "$CTL" mount "$3" "$1" "$2"
}
umount_weights() {
	"$CTL" umount "$1"
}

# result_field LINE KEY: value of KEY=... in a "result:" line.
result_field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

megs() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
