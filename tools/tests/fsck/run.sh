#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fsck.daxfs tests.  TAP on stdout and into $TAP_OUT.
#
#   FSCK     the fsck.daxfs under test (the ASan+UBSan build)
#   MKDAXFS  mkdaxfs, for the round trip (skipped when it is not built)
#   TESTDIR  scratch directory (emptied first)
#   FSCK_MUTATIONS       number of random mutations (default 100)
#   FSCK_TEST_NO_TMPFS   set: round trips in TESTDIR, not on /dev/shm
#
# Parts: command line and exit codes; an image crafted by daxfsimg.py with one
# of everything (summary, --list against a golden listing and against ls of
# the extracted tree, extraction into new/empty/non-empty targets, without
# privilege, from a loop block device); a 300-deep image; corruptions of one
# field each, CRC re-sealed so that each reaches its own rule; random
# metadata mutations (mutate.py); then the round trip through mkdaxfs
# (directory and tar input) of the trees made by selftests/lib/, compared
# with treecmp.py and with ls (roundtrip.sh).  Tests that need root or a
# loop device skip without them (in CI only the loop device may be missing).
set -u
here=$(cd "$(dirname "$0")" && pwd)
lib=$(cd "$here/../../../selftests/lib" && pwd)
FSCK=${FSCK:?set FSCK to the fsck.daxfs to test}
MKDAXFS=${MKDAXFS:-}
TESTDIR=${TESTDIR:-${TMPDIR:-/tmp}/fsck-daxfs-tests}
TAP_OUT=${TAP_OUT:-/dev/null}
export LC_ALL=C TZ=UTC
# Leaks are bugs too (run() also fails a test on any sanitizer report).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
daxfsimg="python3 $lib/daxfsimg.py"
treecmp="python3 $here/treecmp.py"

rm -rf "$TESTDIR"
mkdir -p "$TESTDIR"
T=$TESTDIR
: >"$TAP_OUT"
# shellcheck source=selftests/lib/tap.sh
. "$lib/tap.sh"
TAP_FILE=$TAP_OUT
TAP_DIAG_LINES=15	# diag FILE: the first lines of FILE as commentary
t_start=$(date +%s)

# run EXPECTED_RC NAME ARGS...: run fsck.daxfs, check its exit status;
# stdout in $T/out, stderr in $T/err.
run() {
	local want=$1 name=$2 rc
	shift 2
	"$FSCK" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		ok "$name (exit $rc)"
	else
		not_ok "$name (exit $rc, want $want)"
		diag "$T/err"
	fi
	# A sanitizer report is a failure whatever the exit status.
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/err"; then
		not_ok "$name: sanitizer report"
		diag "$T/err" 30
	fi
}

# elapsed T0: seconds since T0 (date +%s.%N), one decimal.
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# Is the text $2 in file $1 (fixed string)?
has() { grep -qF -- "$2" "$1" || { diag - <<<"'$2' not in $(basename "$1"):"; diag "$1"; return 1; }; }

# ls_tree DIR: what fsck.daxfs --list prints for an image of DIR, from ls.
# Directory sizes differ by nature (bytes vs entries) and Linux symlinks
# are always 0777: both are masked, on both sides, by norm.
ls_tree() { (cd "$1" && ls -lnbR --time-style=full-iso .) | grep -v '^total '; }
norm() {
	awk '/^d/ { $5 = "-" } /^l/ { $1 = "l---------" } { $1 = $1; print }'
}

########################################################################
# Command line
run 0 "--help" --help
check "--help prints the usage" has "$T/out" "Usage: fsck.daxfs"
run 0 "--version" --version
check "--version names the format version" has "$T/out" "image format version 1"
run 16 "no operand"
run 16 "two operands" a b
run 16 "unknown option" --no-such-option img
run 16 "empty --extract=" --extract= img
run 16 "--extract without argument" img --extract
run 8 "missing image" "$T/does-not-exist"
check "missing image: says why" has "$T/err" "No such file or directory"
run 8 "a directory as image" "$T"
: >"$T/empty"
run 4 "empty file" "$T/empty"
head -c 4095 /dev/urandom >"$T/short"
run 4 "file shorter than a superblock" "$T/short"
head -c 1048576 /dev/urandom >"$T/garbage"
run 4 "1 MiB of random bytes" "$T/garbage"
check "garbage: validator's message" has "$T/err" "garbage: invalid: "
run 4 "/dev/zero (character device, no size)" /dev/zero

########################################################################
# A crafted image with one of everything.
cat >"$T/spec.json" <<'EOF'
{"label": "test \"label\"", "uuid": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
 "root": {"type": "dir", "mode": 493, "uid": 7, "gid": 8,
          "mtime": [1600000000, 5], "entries": {
  "a": {"type": "reg", "data": "hello\n", "uid": 1000, "gid": 100},
  "b dir": {"type": "dir", "mode": 1023, "mtime": [-1, 999999999], "entries": {
     "link": {"type": "lnk", "target": "../a b\\c\nd", "mode": 511},
     "cdev": {"type": "chr", "rdev": [1, 3], "mode": 438},
     "bdev": {"type": "blk", "rdev": [259, 65536], "mode": 432},
     "fifo": {"type": "fifo", "mode": 420},
     "sock": {"type": "sock", "mode": 493},
     "hard": {"link": "f1"}}},
  "f1": {"id": "f1", "type": "reg", "data": "linked", "mode": 3565,
         "uid": 4294967294, "gid": 65534},
  "empty": {"type": "dir", "mode": 448},
  "nl\nx\u00ff": {"type": "reg", "size": 4096, "mode": 384},
  "zz": {"type": "reg", "size": 0, "mtime": [4102444800, 0]}
}}}
EOF
$daxfsimg build "$T/one.img" "$T/spec.json"
run 0 "crafted image is clean" "$T/one.img"
for s in "one.img: clean" "version            1" \
	 "compat 0x00000000, incompat 0x00000000 (none)" \
	 'label              "test \"label\""' \
	 "uuid               0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0" \
	 "image size         20480 bytes" "data alignment     4096 bytes" \
	 "inodes             12" "directories        3" \
	 "regular files      4" "symbolic links     1" \
	 "character devices  1" "block devices      1" "fifos              1" \
	 "sockets            1" "directory entries  12" \
	 "file data          4108 bytes"; do
	check "summary: $s" has "$T/out" "$s"
done
run 0 "-q on a clean image" -q "$T/one.img"
check "-q prints nothing" test ! -s "$T/out"
run 0 "-v" -v "$T/one.img"
check "-v shows the crc" has "$T/out" "crc32c"
run 0 "fsck(8) flags -a -p -n -y -f accepted" -a -p -n -y -f "$T/one.img"

run 0 "--list" -q --list "$T/one.img"
cat >"$T/golden" <<'EOF'
.:
-rw-r--r-- 1       1000   100    6 2023-11-14 22:13:20.123456789 +0000 a
drwxrwxrwt 2          0     0    6 1969-12-31 23:59:59.999999999 +0000 b\ dir
drwx------ 2          0     0    0 2023-11-14 22:13:20.123456789 +0000 empty
-rwsr-sr-x 2 4294967294 65534    6 2023-11-14 22:13:20.123456789 +0000 f1
-rw------- 1          0     0 4096 2023-11-14 22:13:20.123456789 +0000 nl\nx\377
-rw-r--r-- 1          0     0    0 2100-01-01 00:00:00.000000000 +0000 zz

./b dir:
brw-rw---- 1          0     0 259, 65536 2023-11-14 22:13:20.123456789 +0000 bdev
crw-rw-rw- 1          0     0   1,     3 2023-11-14 22:13:20.123456789 +0000 cdev
prw-r--r-- 1          0     0          0 2023-11-14 22:13:20.123456789 +0000 fifo
-rwsr-sr-x 2 4294967294 65534          6 2023-11-14 22:13:20.123456789 +0000 hard
lrwxrwxrwx 1          0     0         10 2023-11-14 22:13:20.123456789 +0000 link -> ../a\ b\\c\nd
srwxr-xr-x 1          0     0          0 2023-11-14 22:13:20.123456789 +0000 sock

./empty:
EOF
if diff -u "$T/golden" "$T/out" >"$T/diff"; then
	ok "--list matches the golden listing"
else
	not_ok "--list matches the golden listing"
	diag "$T/diff" 40
fi

rm -rf "$T/x1"
run 0 "--extract the crafted image" -q --extract="$T/x1" "$T/one.img"
ls_tree "$T/x1" | norm >"$T/ls.norm"
norm <"$T/golden" >"$T/golden.norm"
if diff -u "$T/golden.norm" "$T/ls.norm" >"$T/diff"; then
	ok "ls -lnbR of the extracted tree matches --list"
else
	not_ok "ls -lnbR of the extracted tree matches --list"
	diag "$T/diff" 40
fi
check "extract: hard link shares the inode" \
	test "$T/x1/f1" -ef "$T/x1/b dir/hard"
check "extract: root gets the root inode's owner" \
	test "$(stat -c %u:%g:%a "$T/x1")" = "7:8:755"
check "extract: sparse 4 KiB zero file is a hole" \
	test "$(stat -c %b "$T/x1/nl"$'\n'"x"$'\377')" = 0
run 8 "--extract into a non-empty directory" -q --extract="$T/x1" "$T/one.img"
check "non-empty target: says so" has "$T/err" "not empty"
run 8 "--extract onto a regular file" -q --extract="$T/garbage" "$T/one.img"
mkdir -p "$T/x2"
run 0 "--extract into an existing empty directory" -q --extract="$T/x2" "$T/one.img"
run 8 "--extract below a missing directory" -q --extract="$T/nope/x" "$T/one.img"
rm -rf "$T/x3"
run 4 "--extract of an invalid image" -q --extract="$T/x3" "$T/garbage"
check "invalid image: nothing extracted" test ! -e "$T/x3"
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	# nobody must reach the program, the image and the target: a world-
	# traversable directory of its own, not under the checkout, whose
	# parents may be closed to others (Debian homes are 0700).
	U=$(mktemp -d /tmp/fsck-daxfs-unpriv.XXXXXX)
	chmod 755 "$U"
	cp "$FSCK" "$U/fsck.daxfs" && cp "$T/one.img" "$U/one.img"
	chmod 755 "$U/fsck.daxfs"; chmod 644 "$U/one.img"
	mkdir "$U/x4" && chown nobody "$U/x4"
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$U/fsck.daxfs" -q --extract="$U/x4" "$U/one.img" >"$T/out" 2>"$T/err"
	rc=$?
	check "unprivileged --extract: exit 8 (cannot mknod devices) ($rc)" \
		test "$rc" = 8
	check "unprivileged --extract: the rest is there, owned by the caller" \
		test "$(stat -c %U "$U/x4/f1")" = nobody -a -p "$U/x4/b dir/fifo"
	rm -rf "$U"
else
	skip --ci "unprivileged --extract" "needs root and setpriv"
fi

# The same image on a block device (a read-only loop device).
if [ "$(id -u)" = 0 ] && command -v losetup >/dev/null &&
   loop=$(losetup -f --show -r "$T/one.img" 2>/dev/null); then
	run 0 "block device image ($loop)" "$loop"
	check "block device: summary" has "$T/out" "$loop: clean"
	rm -rf "$T/xl"
	run 0 "block device: --extract" -q --extract="$T/xl" "$loop"
	losetup -d "$loop"
	if $treecmp "$T/x1" "$T/xl" >"$T/cmp" 2>&1; then
		ok "block device: same tree as from the file"
	else
		not_ok "block device: same tree as from the file"
		diag "$T/cmp"
	fi
else
	# Loop devices are not something CI promises: a plain skip there too.
	n=$((n + 1))
	skip "block device image" "needs root and a free loop device"
fi

# 300 levels of directories, each with a file: iterative walks.
python3 - "$T/deep.json" <<'EOF'
import json, sys
node = {"type": "reg", "data": "bottom"}
for i in range(300):
    node = {"type": "dir", "entries": {"d%03d" % i: node, "f": {"type": "reg", "data": str(i)}}}
json.dump({"root": node}, open(sys.argv[1], "w"))
EOF
$daxfsimg build "$T/deep.img" "$T/deep.json"
run 0 "300-deep crafted image: --list" -q --list "$T/deep.img"
check "300-deep: 300 directory listings" test "$(grep -c ':$' "$T/out")" = 300
norm <"$T/out" >"$T/list.norm"
rm -rf "$T/x5"
run 0 "300-deep crafted image: --extract" -q --extract="$T/x5" "$T/deep.img"
ls_tree "$T/x5" | norm >"$T/ls.norm"
check "300-deep: ls of the extraction matches --list" \
	cmp -s "$T/ls.norm" "$T/list.norm"

########################################################################
# Corruptions: one field each, CRC re-sealed unless said otherwise.
# corrupt NAME WANT_RC MESSAGE_PART daxfsimg-set-args...
corrupt() {
	local name=$1 want=$2 msg=$3
	shift 3
	cp "$T/one.img" "$T/bad.img"
	if ! $daxfsimg set "$T/bad.img" "$@" 2>"$T/err"; then
		not_ok "corrupt: $name: cannot patch"
		diag "$T/err"
		return
	fi
	rm -rf "$T/xbad"
	run "$want" "corrupt: $name" --extract="$T/xbad" "$T/bad.img"
	cat "$T/out" "$T/err" >"$T/all"
	check "corrupt: $name: says '$msg'" has "$T/all" "$msg"
	if [ "$want" != 0 ]; then
		check "corrupt: $name: nothing extracted" test ! -e "$T/xbad"
	fi
}
# The inode and dirent numbers below are those of one.img (daxfsimg.py info):
# inode 2 is "a", 3 "b dir", 5 "f1"; dirent 0 is "a", 5 "zz".
corrupt "CRC mismatch" 4 "invalid: " byte 5000 0x41 noseal
corrupt "bad magic" 4 "invalid: " super magic 0x12345678
corrupt "version 2" 8 "unsupported: " super version 2
corrupt "unknown incompat feature" 8 "unsupported: " super incompat 0x80
corrupt "unknown compat feature is ignored" 0 "unknown compat bits ignored" \
	super compat 0x1
corrupt "image_size beyond the file (truncated)" 4 "invalid: " \
	super image_size 0x100000
corrupt "non-zero superblock reserved0" 4 "invalid: " super reserved0 1
corrupt "label with bytes after its NUL" 4 "invalid: " label 41004200
corrupt "file nlink off by one" 4 "invalid: " inode 2 nlink 2
corrupt "directory nlink off by one" 4 "invalid: " inode 3 nlink 3
corrupt "mtime_nsec = 1e9" 4 "invalid: " inode 2 mtime_nsec 1000000000
corrupt "file data outside the image" 4 "invalid: " inode 2 size 0x10000000
corrupt "unknown file type" 4 "invalid: " inode 2 mode 0o170644
corrupt "dirent type mismatch" 4 "invalid: " dirent 0 type 4
corrupt "dirent to inode 0" 4 "invalid: " dirent 0 ino 0
corrupt "name with a slash" 4 "invalid: " name 5 2f7a
corrupt "name '..'" 4 "invalid: " name 5 2e2e
corrupt "name with a NUL" 4 "invalid: " name 5 7a00
corrupt "entries out of order" 4 "invalid: " swap-dirents 0 1
corrupt "non-zero byte after a file's end" 4 "invalid: " tail 2 noseal
# The format limits device numbers to Linux's dev_t (12:20 bits).
corrupt "device number beyond 12:20 bits" 4 "invalid: " inode 9 rdev_major 5000
cp "$T/one.img" "$T/trunc.img"
truncate -s 16384 "$T/trunc.img"
run 4 "image truncated by one page" "$T/trunc.img"
truncate -s 4096 "$T/trunc.img"
run 4 "image truncated to its superblock" "$T/trunc.img"

# Random mutations of the metadata, CRC re-sealed: never a crash, and the
# ones that stay valid are listed and extracted.
mutations=${FSCK_MUTATIONS:-100}
if python3 "$here/mutate.py" "$FSCK" "$T/one.img" "$T/mut" 1 "$mutations" \
	>"$T/mut.out" 2>&1; then
	ok "$mutations random metadata mutations: $(tail -n1 "$T/mut.out")"
else
	not_ok "$mutations random metadata mutations"
	diag "$T/mut.out"
fi
rm -rf "$T/mut"

########################################################################
# Round trip through mkdaxfs: directory input and tar input.
# roundtrip_tree NAME SRC [--dir-only] [treecmp options]
roundtrip_tree() {
	local name=$1 src=$2 img=$R/rt.img x=$R/rt.x dir_only=
	shift 2
	if [ "${1:-}" = --dir-only ]; then
		dir_only=1
		shift
	fi
	local t0
	t0=$(date +%s.%N)
	rm -f "$img"
	if ! "$MKDAXFS" -q "$img" "$src" >"$T/mk.out" 2>&1; then
		not_ok "$name: mkdaxfs (dir input)"
		diag "$T/mk.out"
		return
	fi
	run 0 "$name: image from the directory is clean" -q "$img"
	run 0 "$name: --list" -q --list "$img"
	ls_tree "$src" | norm >"$T/ls.norm"
	norm <"$T/out" >"$T/list.norm"
	if cmp -s "$T/ls.norm" "$T/list.norm"; then
		ok "$name: --list matches ls -lnbR of the source"
	else
		not_ok "$name: --list matches ls -lnbR of the source"
		diff -u "$T/ls.norm" "$T/list.norm" | head -n 30 >"$T/diff"
		diag "$T/diff" 30
	fi
	rm -rf "$x"
	run 0 "$name: --extract (dir input)" -q --extract="$x" "$img"
	if $treecmp "$@" "$src" "$x" >"$T/cmp" 2>&1; then
		ok "$name: extracted tree equals the source (dir input): $(tail -n1 "$T/cmp")"
	else
		not_ok "$name: extracted tree equals the source (dir input)"
		diag "$T/cmp" 20
	fi

	rm -f "$img" "$R/rt.tar"
	rm -rf "$x"
	if [ -n "$dir_only" ]; then
		note "$name: round trip in $(elapsed "$t0") s"
		return
	fi
	if ! tar --format=pax -C "$src" -cf "$R/rt.tar" . 2>"$T/tar.err"; then
		not_ok "$name: tar -c"
		diag "$T/tar.err"
		return
	fi
	if ! "$MKDAXFS" -q --tar "$img" "$R/rt.tar" >"$T/mk.out" 2>&1; then
		not_ok "$name: mkdaxfs --tar"
		diag "$T/mk.out"
		return
	fi
	run 0 "$name: image from tar is clean" -q "$img"
	run 0 "$name: --extract (tar input)" -q --extract="$x" "$img"
	if $treecmp --no-sockets "$@" "$src" "$x" >"$T/cmp" 2>&1; then
		ok "$name: extracted tree equals the source (tar input): $(tail -n1 "$T/cmp")"
	else
		not_ok "$name: extracted tree equals the source (tar input)"
		diag "$T/cmp" 20
	fi
	rm -rf "$x" "$img" "$R/rt.tar"
	note "$name: round trip in $(elapsed "$t0") s"
}

if [ -z "$MKDAXFS" ] || [ ! -x "$MKDAXFS" ]; then
	skip --ci "round trip through mkdaxfs" "mkdaxfs not built"
elif [ ! -d "$lib" ]; then
	skip --ci "round trip through mkdaxfs" "no tree generators in selftests/lib"
else
	# Round trips create and compare 100 000 files and more; on a tmpfs
	# that is several times faster than on a busy disk.  R is their
	# scratch directory.
	R=$T/rt
	shm_kib=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
	if [ -z "${FSCK_TEST_NO_TMPFS:-}" ] &&
	   [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] &&
	   [ "${shm_kib:-0}" -gt $((2 << 20)) ] &&
	   R=$(mktemp -d /dev/shm/fsck-daxfs-rt.XXXXXX 2>/dev/null); then
		trap 'chmod -R u+rwx "$R" 2>/dev/null; rm -rf "$R"' EXIT
	else
		R=$T/rt
		mkdir -p "$R"
	fi
	note "round trip scratch directory: $R"
	. "$here/roundtrip.sh"
	chmod -R u+rwx "$R" 2>/dev/null
	rm -rf "$R"
fi

########################################################################
plan
note "fsck.daxfs tests: $((TAP_N - TAP_FAIL)) of $TAP_N passed in $(( $(date +%s) - t_start )) s"
[ "$TAP_FAIL" -eq 0 ]
