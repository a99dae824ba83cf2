# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tap.sh - the TAP helpers of the test bed's shell scripts.  Source it by a
# path relative to the script itself, e.g.
#	. "$(dirname "$0")/../lib/tap.sh"
# Results are numbered "ok N - DESC" / "not ok N - DESC" (docs/CONVENTIONS.md:
# a result line starts at column 0, "# SKIP why" on an ok line is a skip,
# "#" lines are commentary).  The plan comes last (plan, summary, finish).
#
#   begin [FILE]           the header "TAP version 13"; with FILE, stdout
#                          from here on also goes to FILE (tee)
#   ok DESC...             a pass
#   not_ok DESC...         a failure
#   skip [--ci] DESC WHY   "ok N - DESC # SKIP WHY"; with --ci, in CI
#                          (CI=true) a failure instead: the matrix must
#                          provide what is missing
#   check DESC CMD...      ok if CMD succeeds, else not_ok; CMD's output
#                          passes through
#   check -o DESC CMD...   the same with CMD's output captured: shown after
#                          the result as commentary ("# " after ok, "#   "
#                          after not ok, which also gets " (exit N)")
#   note [TEXT...]         TEXT (or stdin) as "# " commentary
#   diag [FILE|- [MAX]]    FILE (or stdin) as "#   " commentary, at most MAX
#                          lines (default TAP_DIAG_LINES, 0 = all)
#   relay PREFIX [INDENT]  stdin's TAP as results of ours: each result line
#                          renumbered, PREFIX before its description; the
#                          version line and plans dropped, the rest printed
#                          after INDENT; feed it with a redirection
#                          (< FILE, < <(CMD)), not a pipe, which would run
#                          it in a subshell and lose the count
#   plan                   "1..N", N the results so far
#   summary                plan; returns 1 if anything failed, else 0
#   finish                 summary, then exit with its status
#
# State: TAP_N results, TAP_FAIL failures so far.  TAP_FILE, when set: every
# line these functions print is also appended to that file.

TAP_N=0
TAP_FAIL=0
TAP_FILE=${TAP_FILE:-}
TAP_DIAG_LINES=${TAP_DIAG_LINES:-0}

# _tap_out: stdin to stdout, and to TAP_FILE when set.
_tap_out() {
	if [ -n "$TAP_FILE" ]; then tee -a "$TAP_FILE"; else cat; fi
}
_tap_line() { printf '%s\n' "$1" | _tap_out; }

begin() {
	if [ $# -gt 0 ]; then
		mkdir -p "$(dirname "$1")"
		exec > >(tee "$1")
	fi
	_tap_line "TAP version 13"
}

ok() {
	TAP_N=$((TAP_N + 1))
	_tap_line "ok $TAP_N - $*"
}

not_ok() {
	TAP_N=$((TAP_N + 1))
	TAP_FAIL=$((TAP_FAIL + 1))
	_tap_line "not ok $TAP_N - $*"
}

skip() {
	local ci=
	[ "$1" = --ci ] && { ci=1; shift; }
	if [ -n "$ci" ] && [ "${CI:-}" = true ]; then
		not_ok "$1 (would skip: $2)"
	else
		ok "$1 # SKIP $2"
	fi
}

check() {
	local d out rc
	if [ "$1" != -o ]; then	# (both forms return 0)
		d=$1
		shift
		if "$@"; then ok "$d"; else not_ok "$d"; fi
		return 0
	fi
	d=$2
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$d"
		[ -z "$out" ] || printf '%s\n' "$out" | note
	else
		not_ok "$d (exit $rc)"
		[ -z "$out" ] || printf '%s\n' "$out" | diag
	fi
}

# shellcheck disable=SC2120	# (arguments are optional)
note() {
	if [ $# -gt 0 ]; then
		printf '%s\n' "$*" | sed 's/^/# /' | _tap_out
	else
		sed 's/^/# /' | _tap_out
	fi
}

# shellcheck disable=SC2120
diag() {
	local max=${2:-$TAP_DIAG_LINES}
	if [ "$max" -gt 0 ]; then
		sed "s/^/#   /;${max}q" -- "${1:--}"
	else
		sed 's/^/#   /' -- "${1:--}"
	fi | _tap_out
}

relay() {
	local prefix=$1 indent=${2:-} line st rest
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		"ok"|"ok "*|"not ok"|"not ok "*)
			st=ok
			rest=${line#ok}
			case $line in not*) st=not_ok; rest=${line#not ok} ;; esac
			rest=${rest# }
			case $rest in [0-9]*) rest=${rest#"${rest%%[!0-9]*}"}; rest=${rest# } ;; esac
			rest=${rest#- }
			"$st" "$prefix$rest" ;;
		"TAP version"*|1..*) ;;
		*) _tap_line "$indent$line" ;;
		esac
	done
}

plan() { _tap_line "1..$TAP_N"; }

summary() {
	plan
	[ "$TAP_FAIL" -eq 0 ]
}

finish() {
	summary
	exit
}
