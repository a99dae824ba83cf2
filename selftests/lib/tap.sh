# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tap.sh - the TAP helpers of the test bed's shell scripts.  Source it by a
# path relative to the script itself, e.g.
#	. "$(dirname "$0")/../lib/tap.sh"
# Results are numbered "ok N - DESC" / "not ok N - DESC" (docs/CONVENTIONS.md:
# a result line starts at column 0, "# SKIP why" on an ok line is a skip,
# "#" lines are commentary).  The plan comes last (plan, summary, finish).
# Bash scopes locals dynamically: what check runs sees check's locals, so
# every local here is named _tap_* and cannot hide a caller's variable.
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
	local _tap_ci=
	[ "$1" = --ci ] && { _tap_ci=1; shift; }
	if [ -n "$_tap_ci" ] && [ "${CI:-}" = true ]; then
		not_ok "$1 (would skip: $2)"
	else
		ok "$1 # SKIP $2"
	fi
}

check() {
	local _tap_d _tap_o _tap_rc
	if [ "$1" != -o ]; then	# (both forms return 0)
		_tap_d=$1
		shift
		if "$@"; then ok "$_tap_d"; else not_ok "$_tap_d"; fi
		return 0
	fi
	_tap_d=$2
	shift 2
	_tap_o=$("$@" 2>&1)
	_tap_rc=$?
	if [ $_tap_rc -eq 0 ]; then
		ok "$_tap_d"
		[ -z "$_tap_o" ] || printf '%s\n' "$_tap_o" | note
	else
		not_ok "$_tap_d (exit $_tap_rc)"
		[ -z "$_tap_o" ] || printf '%s\n' "$_tap_o" | diag
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
	local _tap_max=${2:-$TAP_DIAG_LINES}
	if [ "$_tap_max" -gt 0 ]; then
		sed "s/^/#   /;${_tap_max}q" -- "${1:--}"
	else
		sed 's/^/#   /' -- "${1:--}"
	fi | _tap_out
}

relay() {
	local _tap_prefix=$1 _tap_indent=${2:-} _tap_l _tap_st _tap_rest
	while IFS= read -r _tap_l || [ -n "$_tap_l" ]; do
		case $_tap_l in
		"ok"|"ok "*|"not ok"|"not ok "*)
			_tap_st=ok
			_tap_rest=${_tap_l#ok}
			case $_tap_l in not*) _tap_st=not_ok; _tap_rest=${_tap_l#not ok} ;; esac
			_tap_rest=${_tap_rest# }
			case $_tap_rest in [0-9]*) _tap_rest=${_tap_rest#"${_tap_rest%%[!0-9]*}"}; _tap_rest=${_tap_rest# } ;; esac
			_tap_rest=${_tap_rest#- }
			"$_tap_st" "$_tap_prefix$_tap_rest" ;;
		"TAP version"*|1..*) ;;
		*) _tap_line "$_tap_indent$_tap_l" ;;
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
