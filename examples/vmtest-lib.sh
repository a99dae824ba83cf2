# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared by the example VM tests (selftests/examples/example-*, installed as build/vmtests/example-*)
# and examples/demo-guest: paths, the TAP helpers, exporters, weights and images.

SRC=${DAXFS_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
EX=$SRC/examples
LW=$SRC/build/examples/load-weights
CTL=$SRC/build/lib/daxfsctl
MKDAXFS=$SRC/build/tools/mkdaxfs
GEN=$EX/gen-safetensors
PY=/usr/bin/python3
KERNEL=${DAXFS_KERNEL:-unknown}
WORKDIR=${EXAMPLE_WORKDIR:-/tmp/examples}
W=$WORKDIR/weights	# the model (make_weights), its image $W.img
MNT=$WORKDIR/mnt

# TAP: begin, ok, not_ok, skip, check [-o], note, diag, summary, finish
# (selftests/lib/tap.sh)
# shellcheck source=selftests/lib/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../selftests/lib/tap.sh"

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

# need_tools: the TAP header, then every program the examples run, built.
need_tools() {
	local t missing=
	begin
	for t in "$LW" "$CTL" "$MKDAXFS"; do
		[ -x "$t" ] || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		not_ok "example tools built:$missing missing (make -C examples; make userspace)"
		finish
	fi
	if [ ! -e /dev/daxfs ]; then
		not_ok "/dev/daxfs present (daxfs.ko loaded for $(uname -r))"
		finish
	fi
}

# mount_exporter DESC EXP: mount $W.img at $MNT from a buffer of exporter EXP
# (heap|udmabuf|vgem); returns 0 when mounted.  A missing exporter is a skip
# of DESC (a failure in CI where the kernel of the matrix has it), a failed
# mount a failure.
mount_exporter() {
	local desc=$1 exp=$2 opt out
	opt=$(exporter_option "$exp")
	if [ -z "$opt" ]; then
		if ci && exporter_expected "$exp"; then
			not_ok "$desc: exporter missing on $KERNEL"
		else
			skip "$desc" "no $exp exporter on this kernel"
		fi
		return 1
	fi
	if ! out=$(mount_weights "$W.img" "$MNT" "$opt" 2>&1); then
		not_ok "$desc: daxfsctl mount $opt"
		note "$out"
		return 1
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
