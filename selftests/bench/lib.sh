# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# selftests/bench/lib.sh: what the host halves of the benchmarks (run,
# referee, scale) share.  Sourced after the script has set
#   NAME   its name: the prefix of its messages, of its guest's "# NAME: "
#          progress lines and of its result files (build/results/NAME-K.*)
#   LOG    where the output of the quiet steps goes
#   B      its build directory (manifest, results, meta)
# and with the checkout ($top) as the current directory.
#
#   step TEXT...        a heading on the terminal
#   die TEXT...         "NAME: TEXT" on stderr, exit 1
#   quiet CMD...        CMD's output into $LOG; on failure its end, and exit 1
#   build_steps NEEDED CMD...
#                       runs each CMD (a string, word-split) into $LOG.  A
#                       failure (someone's unrelated work in progress) is
#                       only a warning when every file of NEEDED (a list) is
#                       already built; otherwise it stops the run.
#   add_disk FILE       FILE (under $B) as the next read-only virtio disk
#                       (vda, vdb, ...): "FILE BYTES" into $B/manifest, the
#                       drive into $qargs; a raw disk is rounded down to 512
#                       bytes, so FILE is padded when needed
#   boot_guest K GUEST APPEND
#                       boots kernel K under QEMU TCG for GUEST (a path in
#                       the checkout) with $qargs, $DAXFS_VM_MEM and the kernel
#                       command line APPEND, for at most $TIMEOUT s per test;
#                       shows the guest's progress lines, sets rc,
#                       load_before and load_after, and writes the guest's
#                       "# R " lines to $B/results-K.txt (or stops the run
#                       when there are none)
#   meta_common K QUICK the meta lines every report reads (kernel, date,
#                       command, VM and host, load, wall time, exit status)

: "${top:?}" "${NAME:?}" "${LOG:?}" "${B:?}"
T0=$(date +%s)
qargs=

step() { printf '\n== %s\n' "$*"; }
die() { echo "$NAME: $*" >&2; exit 1; }
quiet() {
	if ! "$@" >>"$LOG" 2>&1; then
		echo "$NAME: '$*' failed; the end of $LOG:" >&2
		tail -n 30 "$LOG" >&2
		exit 1
	fi
}

build_steps() {
	local need=$1 t f
	shift
	for t in "$@"; do
		# shellcheck disable=SC2086
		$t >>"$LOG" 2>&1 && continue
		for f in $need; do
			[ -e "$f" ] || die "'$t' failed and $f is missing; see $LOG"
		done
		echo "$NAME: warning: '$t' failed (see $LOG); using the binaries already built"
	done
}

add_disk() {
	local sz
	sz=$(stat -c %s "$B/$1")
	echo "$1 $sz" >> "$B/manifest"
	[ $((sz % 512)) = 0 ] || truncate -s $(((sz + 511) / 512 * 512)) "$B/$1"
	qargs+=" -drive file=$top/$B/$1,if=virtio,format=raw,readonly=on"
}

boot_guest() {
	local k=$1 guest=$2 append=$3
	step "booting $k under QEMU TCG for ${guest#"$top"/}"
	load_before=$(cat /proc/loadavg)
	echo "host load before: $load_before"
	set +e
	# shellcheck disable=SC2094 # the guest's stderr and tee append alike
	DAXFS_VM_QEMU_ARGS="${DAXFS_VM_QEMU_ARGS:-}$qargs" DAXFS_VM_MEM=$DAXFS_VM_MEM \
		DAXFS_VM_APPEND="${DAXFS_VM_APPEND:-}${DAXFS_VM_APPEND:+${append:+ }}$append" \
		selftests/vm/run --kernel "$k" --results "$NAME-$k" --timeout "$TIMEOUT" \
		"$guest" 2>>"$LOG" | tee -a "$LOG" |
		sed -u -n -e "s/^# $NAME: /  /p" -e '/^not ok/p'
	rc=${PIPESTATUS[0]}
	set -e
	load_after=$(cat /proc/loadavg)
	echo "host load after: $load_after"
	# From our own copy of the TAP stream: the runner's .tap file is
	# written at its very end, and a stale one of an earlier run must
	# never be reported.
	grep '^# R ' "$LOG" | sed 's/^# R //' > "$B/results-$k.txt" || true
	[ -s "$B/results-$k.txt" ] ||
		die "no results (log: $LOG; TAP: build/results/$NAME-$k.tap, console: build/results/$NAME-$k.console.log)"
}

meta_common() {
	echo "kernel=$1"
	echo "kver=$(sed -n 's/^# vm: kernel [^ ]* (\([^)]*\)).*/\1/p' "$LOG" | head -n1)"
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "command=selftests/bench/${0##*/} --kernel $1$([ "$2" = 1 ] && echo ' --quick')"
	echo "vm_mem=$DAXFS_VM_MEM"
	echo "vm_smp=${DAXFS_VM_SMP:-2}"
	echo "host_cpus=$(nproc)"
	echo "host_model=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n1)"
	echo "load_before=$load_before"
	echo "load_after=$load_after"
	echo "wall_s=$(($(date +%s) - T0))"
	echo "vm_rc=$rc"
}
