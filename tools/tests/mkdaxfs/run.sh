#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkdaxfs tests.  TAP on stdout and in $TAP_OUT.
#
#   MKDAXFS   the binary under test (make uses the ASan+UBSan build)
#   TESTDIR   scratch directory (emptied first)
#   TAP_OUT   where the TAP goes (default: TESTDIR/tools-mkdaxfs.tap)
#   FSCK      optional fsck.daxfs, a second opinion on every image
#
# Trees come from ../lib/treegen.py; images are read back with the
# independent reader ../lib/daxfsimg.py (manifest = round trip, layout =
# mkdaxfs's own placement promises).  Every image is also checked by the
# shared validator inside mkdaxfs (a rejection exits 4 and fails the test).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
LIB=$(cd "$HERE/../../../selftests/lib" && pwd)
MKDAXFS=${MKDAXFS:?set MKDAXFS to the mkdaxfs binary}
TESTDIR=${TESTDIR:-/tmp/mkdaxfs-tests}
TAP_OUT=${TAP_OUT:-$TESTDIR/tools-mkdaxfs.tap}
FSCK=${FSCK:-$(dirname "$MKDAXFS")/../fsck.daxfs}
[ -x "$FSCK" ] || FSCK=
PY=$(command -v /usr/bin/python3 || command -v python3)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
unset SOURCE_DATE_EPOCH

# Each run works in its own directory: several "make check" may run at once.
mkdir -p "$TESTDIR" "$(dirname "$TAP_OUT")"
WORK=$(mktemp -d "$TESTDIR/run.XXXXXX") || exit 1
TAP_TMP=$WORK.tap
: > "$TAP_TMP"
cd "$WORK" || exit 1

# shellcheck source=selftests/lib/tap.sh
. "$LIB/tap.sh"
TAP_FILE=$TAP_TMP
TAP_DIAG_LINES=20

gen() { "$PY" "$LIB/treegen.py" "$@" > /dev/null; }
manifest_dir() { "$PY" "$LIB/treegen.py" manifest "$@"; }
manifest_img() { "$PY" "$LIB/daxfsimg.py" manifest "$@"; }
# offset_of_size IMAGE SIZE: the data offset of the (first) file of SIZE bytes
offset_of_size() {
	"$PY" "$LIB/daxfsimg.py" info "$1" | awk -v s="size=$2" '$1 == "inode" {
		f = 0; o = ""
		for (i = 3; i <= NF; i++) { if ($i == s) f = 1; if ($i ~ /^offset=/) o = substr($i, 8) }
		if (f) { print o; exit } }'
}
# LAYOUT_ARGS: the --align/--align-min the image was made with
layout_ok() { "$PY" "$LIB/daxfsimg.py" layout "$1" ${LAYOUT_ARGS:-}; }
superf() { "$PY" "$LIB/daxfsimg.py" super "$1" | sed -n "s/^$2=//p"; }
export PY LIB MKDAXFS
export -f superf

# No IMAGE and no temporary left in IMAGE's directory.
clean_dir() {
	local dir=$1
	[ -z "$(ls -A "$dir")" ]
}

# expect CODE SUBSTRING DESC -- mkdaxfs ARGS...: exit code, message, and no
# file left in out/ (the IMAGE directory every failing case uses).
expect() {
	local code=$1 msg=$2 desc=$3 rc
	shift 4
	rm -rf out && mkdir out
	"$MKDAXFS" "$@" > .stdout 2> .stderr
	rc=$?
	if [ "$rc" != "$code" ]; then
		not_ok "$desc (exit $rc, wanted $code)"
		diag .stderr 5
	elif ! grep -qF -- "$msg" .stderr; then
		not_ok "$desc (message lacks '$msg')"
		diag .stderr 5
	elif ! clean_dir out; then
		not_ok "$desc (left files: $(ls -A out | tr '\n' ' '))"
	elif grep -q 'Sanitizer\|runtime error' .stderr; then
		not_ok "$desc (sanitizer report)"
		diag .stderr 20
	else
		ok "$desc"
	fi
}

# roundtrip DESC IMAGE SRC [manifest flags]: image == source tree, layout ok
roundtrip() {
	local desc=$1 img=$2 src=$3
	shift 3
	manifest_dir "$src" "$@" > .want 2>&1
	if ! manifest_img "$img" "$@" > .got 2>&1; then
		not_ok "$desc (reader failed)"
		diag .got 5
	elif ! diff .want .got > .diff; then
		not_ok "$desc (trees differ)"
		diag .diff 10
	elif ! layout_ok "$img" > .lay 2>&1; then
		not_ok "$desc ($(cat .lay))"
	elif [ -n "$FSCK" ] && ! "$FSCK" -q "$img" > .fsck 2>&1; then
		not_ok "$desc (fsck.daxfs rejects it: $(head -1 .fsck))"
	else
		ok "$desc"
	fi
}

mk() { "$MKDAXFS" -q "$@"; }

note "mkdaxfs: $MKDAXFS"
[ -n "$FSCK" ] && note "second opinion: $FSCK" || note "fsck.daxfs not built: validator self-check only"

# --- command line ------------------------------------------------------------
mkdir -p src/sub && echo hi > src/sub/f
expect 16 "expected IMAGE and SOURCE" "no arguments is a usage error" --
expect 16 "expected IMAGE and SOURCE" "one argument is a usage error" -- out/img
expect 16 "expected IMAGE and SOURCE" "three arguments is a usage error" -- out/img src src
expect 16 "unknown option '--bogus'" "unknown long option" -- --bogus out/img src
expect 16 "unknown option '-Z'" "unknown short option" -- -Z out/img src
expect 16 "needs a value" "option without its value" -- out/img src --align
for a in 0 512 2048 3000 6K 2G 4097 abc 4K5 -4096; do
	expect 16 "--align" "--align=$a is refused" -- --align=$a out/img src
done
for m in abc -1 1X ""; do
	expect 16 "--align-min" "--align-min=$m is refused" -- --align-min=$m out/img src
done
expect 16 "longer than 64" "a 65-byte label is refused" -- \
	--label="$(printf 'L%.0s' $(seq 65))" out/img src
for u in nope 12345678-1234-1234-1234-12345678901 12345678-1234-1234-1234-1234567890123 \
	 1234567801234-1234-1234-123456789012 g2345678-1234-1234-1234-123456789012; do
	expect 16 "is not a UUID" "--uuid=$u is refused" -- --uuid=$u out/img src
done
for s in 0 1000 4097 1x -4096; do
	expect 16 "--size" "--size=$s is refused" -- --size=$s out/img src
done
expect 16 "--mtime" "--mtime=abc is refused" -- --mtime=abc out/img src
SOURCE_DATE_EPOCH=abc expect 16 "SOURCE_DATE_EPOCH" \
	"SOURCE_DATE_EPOCH=abc is refused" -- out/img src
expect 16 "needs --tar" "SOURCE - without --tar" -- out/img -
expect 16 "must not be empty" "an empty IMAGE operand" -- "" src

if "$MKDAXFS" --help > .h 2>&1 && grep -q '^Usage: ' .h && grep -q -- '--align' .h; then
	ok "--help prints the usage, exit 0"
else
	not_ok "--help prints the usage, exit 0"
fi
if "$MKDAXFS" --version > .v 2>&1 && grep -q 'format version 1' .v; then
	ok "--version, exit 0"
else
	not_ok "--version, exit 0"
fi

# A label of exactly 64 bytes, a UUID, and the other options land in the
# superblock.
L64=$(printf 'x%.0s' $(seq 64))
rm -rf out && mkdir out
check -o "64-byte label, --uuid, -L/-U short forms" bash -c '
	"$0" -q --label='"$L64"' --uuid=0123ABCD-4567-89ab-CDEF-0123456789ab out/a src &&
	"$0" -q -L '"$L64"' -U 0123abcd-4567-89ab-cdef-0123456789ab out/b src &&
	cmp out/a out/b &&
	[ "$('"$PY"' '"$LIB"'/daxfsimg.py super out/a | sed -n s/^uuid=//p)" = 0123abcd-4567-89ab-cdef-0123456789ab ] &&
	[ "$('"$PY"' '"$LIB"'/daxfsimg.py super out/a | sed -n s/^label=//p)" = '"$L64"' ]' "$MKDAXFS"

# --- errors: input ---------------------------------------------------------------
expect 1 "nonexistent: No such file or directory" "missing SOURCE" -- out/img nonexistent
echo x > afile
expect 1 "afile: not a directory" "SOURCE is a file" -- out/img afile
expect 1 "is a directory" "--tar with a directory" -- --tar out/img src
expect 1 "exists and is not a regular file" "IMAGE is a directory" -- out src
expect 1 "No such file or directory" "IMAGE in a missing directory" -- out/nodir/img src

# Unreadable file and directory: run as nobody (root reads everything).
rm -rf unr-secret unr-closed nobody-out
mkdir -p unr-secret unr-closed/closed nobody-out && chmod 777 nobody-out
echo s > unr-secret/secret && chmod 000 unr-secret/secret
echo x > unr-closed/closed/x && chmod 000 unr-closed/closed
if command -v setpriv > /dev/null && [ "$(id -u)" = 0 ]; then
	for what in secret closed; do
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$MKDAXFS" -q nobody-out/img unr-$what > .stdout 2> .stderr
		rc=$?
		if [ $rc = 1 ] && grep -q "$what: Permission denied" .stderr &&
		   [ -z "$(ls -A nobody-out)" ]; then
			ok "unreadable $what: exit 1, path in message, no image"
		else
			not_ok "unreadable $what: exit $rc: $(head -1 .stderr)"
		fi
	done
else
	skip "unreadable file" "needs root and setpriv"
	skip "unreadable directory" "needs root and setpriv"
fi

# Format limits, lowered with the test-only --debug-limits.
rm -rf lim && gen wide lim 20
expect 1 "too many inodes" "more inodes than the limit" -- --debug-limits=10 out/img lim
expect 1 "too many directory entries" "more entries than the limit" -- --debug-limits=,10 out/img lim
expect 1 "string table would exceed" "names over the limit" -- --debug-limits=,,100 out/img lim
rm -rf big && mkdir big && truncate -s 3M big/f
expect 1 "exceed the format limit" "image over the size limit" -- --debug-limits=,,,2M out/img big
check -o "exactly at the limits succeeds" mk --debug-limits=21,20,160 ok.img lim

# --- --size ----------------------------------------------------------------------
rm -rf mixed && gen mixed mixed
mk sz.img mixed
NEED=$(stat -c %s sz.img)
check -o "--size=needed: image of exactly that size" bash -c \
	"'$MKDAXFS' -q --size=$NEED out.sz mixed && [ \$(stat -c %s out.sz) = $NEED ]"
check -o "--size=64M: padded, valid, sparse" bash -c \
	"'$MKDAXFS' -q --size=64M out.sz mixed && [ \$(stat -c %s out.sz) = 67108864 ] &&
	 [ \$(du -k out.sz | cut -f1) -lt 1024 ] && '$PY' '$LIB/daxfsimg.py' layout out.sz"
expect 1 "is too small" "--size smaller than needed" -- --size=$((NEED - 4096)) out/img mixed
expect 1 "is too small" "--size=4K" -- --size=4K out/img mixed

# A failed build keeps the previous IMAGE untouched.
rm -rf keep && mkdir keep && echo old > keep/img
"$MKDAXFS" -q --size=4K keep/img mixed 2> /dev/null
check -o "failure keeps an existing IMAGE intact" bash -c \
	'[ "$(cat keep/img)" = old ] && [ "$(ls -A keep)" = img ]'

# --- round trips: every generator -------------------------------------------------
for g in empty-dirs deep wide allbytes symlinks hardlinks zero aligned special mixed; do
	rm -rf "t-$g"
	if [ "$g" = wide ]; then gen wide t-wide 3000; else gen "$g" "t-$g"; fi
	if mk "t-$g.img" "t-$g" 2> .err; then
		roundtrip "directory round trip: $g" "t-$g.img" "t-$g"
	else
		not_ok "directory round trip: $g (mkdaxfs failed: $(head -1 .err))"
	fi
done
rm -rf t-sparse && gen sparse t-sparse 1G
if mk t-sparse.img t-sparse; then
	check -o "1 GiB sparse file: image stays sparse" bash -c \
		'[ $(du -k t-sparse.img | cut -f1) -lt 4096 ]'
	roundtrip "1 GiB sparse file round trip" t-sparse.img t-sparse
else
	not_ok "1 GiB sparse file"
fi
rm -rf t-empty && mkdir t-empty
mk t-empty.img t-empty && roundtrip "empty SOURCE directory" t-empty.img t-empty
check -o "empty tree image is 8 KiB (super + root inode)" bash -c \
	'[ $(stat -c %s t-empty.img) = 8192 ]'

# --- alignment ---------------------------------------------------------------------
# --align-min=0: every file (and the data area) on the alignment, as data_align.
# By default only files of at least the alignment get it; the smaller ones
# ("minus1" of the aligned tree) start on 4 KiB, so data_align becomes 4 KiB.
for a in 4K 8K 64K 2M; do
	bytes=$("$PY" -c "import sys; sys.path.insert(0,'$LIB'); import treegen; print(treegen.parse_size('$a'))")
	rm -rf "al-$a" && gen aligned "al-$a" "$bytes"
	if mk --align=$a --align-min=0 "al-$a.img" "al-$a"; then
		LAYOUT_ARGS="--align=$a --align-min=0" \
			roundtrip "--align=$a --align-min=0 with files of exactly the alignment" "al-$a.img" "al-$a"
		check -o "--align=$a --align-min=0 recorded in the superblock" bash -c \
			"[ \$(( 1 << \$(superf al-$a.img align_log2) )) = $bytes ]"
	else
		not_ok "--align=$a --align-min=0"
	fi
	if mk --align=$a "al-$a-d.img" "al-$a"; then
		LAYOUT_ARGS="--align=$a" \
			roundtrip "--align=$a: files of at least $a on $a, smaller ones on 4K" "al-$a-d.img" "al-$a"
		check -o "--align=$a with a smaller file: data_align 4096 in the superblock" bash -c \
			"[ \$(superf al-$a-d.img align_log2) = 12 ]"
	else
		not_ok "--align=$a"
	fi
done
# The threshold: a 1.5 MiB file is aligned with --align-min=1M, not by default.
rm -rf al-min && mkdir al-min && head -c 1572864 /dev/urandom > al-min/mid &&
	echo cfg > al-min/a.json && head -c 3000000 /dev/urandom > al-min/big
for m in "" 1M 1536K 0; do
	if mk --align=2M ${m:+--align-min=$m} "al-min$m.img" al-min; then
		LAYOUT_ARGS="--align=2M${m:+ --align-min=$m}" \
			roundtrip "--align=2M --align-min=${m:-default}: each file on its alignment" "al-min$m.img" al-min
	else
		not_ok "--align=2M --align-min=${m:-default}"
	fi
done
o1=$(offset_of_size al-min1M.img 1572864)
o2=$(offset_of_size al-min.img 1572864)
check "--align-min=1M puts the 1.5 MiB file on 2 MiB ($o1), the default on 4 KiB ($o2)" \
	test -n "$o1" -a -n "$o2" -a $((o1 % 2097152)) = 0 -a $((o2 % 2097152)) != 0
# Weights and small configs: within a few percent of their data at --align=2M
# (every file on 2 MiB would add up to 2 MiB per config file).
rm -rf al-w && mkdir -p al-w/cfg && for i in 1 2 3; do truncate -s 96M "al-w/w$i.safetensors"; done
for i in $(seq 1 40); do echo "{\"layer\": $i}" > "al-w/cfg/c$i.json"; done
echo '{}' > al-w/config.json
if "$MKDAXFS" -q -v --align=2M al-w.img al-w 2> al-w.out; then
	data=$(du -sb --apparent-size al-w | cut -f1)
	check -o "--align=2M, weights + 41 configs: image within 3% of the data ($(stat -c %s al-w.img) for $data bytes)" \
		bash -c "[ \$(stat -c %s al-w.img) -le \$(( $data * 103 / 100 )) ]"
	check -o "-v reports the file bytes and the alignment padding" \
		grep -Eq "bytes of file data, [0-9]+ bytes of alignment padding" al-w.out
	LAYOUT_ARGS="--align=2M" roundtrip "--align=2M weights + configs round trip" al-w.img al-w
else
	not_ok "--align=2M of weights + configs"
fi
if mk --align=2M --align-min=0 al-w0.img al-w; then
	check -o "--align-min=0 pads every small file to 2 MiB (image > 80 MiB larger)" \
		bash -c "[ \$(stat -c %s al-w0.img) -gt \$(( \$(stat -c %s al-w.img) + 80 * 1048576 )) ]"
else
	not_ok "--align=2M --align-min=0 of weights + configs"
fi
if mk --align=1G --align-min=0 al-1g.img mixed; then
	check -o "--align=1G --align-min=0: data_off on 1 GiB, image sparse" bash -c \
		"[ \$('$PY' '$LIB/daxfsimg.py' super al-1g.img | sed -n s/^data_off=//p) = 1073741824 ] &&
		 [ \$(du -k al-1g.img | cut -f1) -lt 4096 ]"
else
	not_ok "--align=1G"
fi

# --- ownership and times -------------------------------------------------------------
chown -R 1234:5678 t-mixed 2> /dev/null
mk --all-root ar.img t-mixed
check -o "--all-root: every inode 0:0" bash -c \
	"'$PY' '$LIB/daxfsimg.py' manifest ar.img | awk '{print \$4}' | sort -u | grep -qx 0:0 &&
	 [ \$('$PY' '$LIB/daxfsimg.py' manifest ar.img | awk '{print \$4}' | sort -u | wc -l) = 1 ]"
mk mt.img t-mixed
check -o "owners are kept without --all-root" bash -c \
	"'$PY' '$LIB/daxfsimg.py' manifest mt.img | grep -q ' 1234:5678 '"
mk --mtime=42 mt.img t-mixed
check -o "--mtime forces every mtime" bash -c \
	"[ \"\$('$PY' '$LIB/daxfsimg.py' manifest mt.img | grep -o 'mtime=[0-9]*' | sort -u)\" = mtime=42000000000 ]"
SOURCE_DATE_EPOCH=1600000500 mk sde.img t-mixed
check -o "SOURCE_DATE_EPOCH clamps newer mtimes, keeps older ones" bash -c \
	"'$PY' '$LIB/daxfsimg.py' manifest sde.img | grep -o 'mtime=[0-9]*' | sort -u > .m &&
	 grep -qx mtime=1600000500000000000 .m && grep -qx mtime=1600000000123456789 .m &&
	 ! awk -F= '\$2 > 1600000500000000000' .m | grep -q ."

# --- reproducibility ------------------------------------------------------------------
for order in forward reverse shuffle; do
	rm -rf "r-$order" && mkdir "r-$order"
	for g in mixed hardlinks allbytes wide; do
		gen "$g" "r-$order/$g" --order=$order
	done
	touch -h -d @1600000000 "r-$order"
done
# Different directories, creation orders, and a tmpfs (reverse readdir order).
TMPFS=
if mkdir -p tmpfs && mount -t tmpfs none tmpfs 2> /dev/null; then
	TMPFS=tmpfs
	cp -a r-shuffle tmpfs/r
fi
for o in forward reverse shuffle; do
	SOURCE_DATE_EPOCH=1700000000 mk "r-$o.img" "r-$o"
done
check -o "SOURCE_DATE_EPOCH: same tree, different creation order -> same bytes" \
	bash -c 'cmp r-forward.img r-reverse.img && cmp r-forward.img r-shuffle.img'
if [ -n "$TMPFS" ]; then
	SOURCE_DATE_EPOCH=1700000000 mk r-tmpfs.img tmpfs/r
	check -o "... and from a tmpfs copy (other readdir order)" cmp r-forward.img r-tmpfs.img
	umount tmpfs
else
	skip "reproducible from tmpfs" "cannot mount tmpfs"
fi
U=11111111-2222-3333-4444-555555555555
mk -U $U u1.img r-forward && mk -U $U u2.img r-reverse
check -o "--uuid without SOURCE_DATE_EPOCH: same bytes" cmp u1.img u2.img
mk n1.img r-forward && mk n2.img r-forward
check -o "no --uuid/--mtime/SOURCE_DATE_EPOCH: random UUIDs differ" bash -c \
	"! cmp -s n1.img n2.img && [ \$(cmp -l n1.img n2.img | awk '\$1 < 89 || \$1 > 172' | wc -l) = 0 ]"
SOURCE_DATE_EPOCH=1700000000 mk c1.img r-forward
printf 'X' | dd of=r-forward/mixed/usr/lib/page bs=1 seek=100 conv=notrunc 2> /dev/null
touch -d @1600000164.123456789 r-forward/mixed/usr/lib/page
SOURCE_DATE_EPOCH=1700000000 mk c2.img r-forward
check -o "derived UUID changes when only file contents change" bash -c \
	"[ \"\$('$PY' '$LIB/daxfsimg.py' super c1.img | grep uuid)\" != \"\$('$PY' '$LIB/daxfsimg.py' super c2.img | grep uuid)\" ]"

# --- output to stdout -------------------------------------------------------------------
mk -U $U - t-mixed > stdout.img
mk -U $U file.img t-mixed
check -o "IMAGE - writes the same image to stdout" cmp stdout.img file.img
mk -U $U - t-mixed | cat > pipe.img
check -o "IMAGE - into a pipe" cmp pipe.img file.img

# --- tar input --------------------------------------------------------------------------
for fmt in gnu pax ustar; do
	for g in mixed hardlinks symlinks zero aligned empty-dirs allbytes deep; do
		[ $fmt = ustar ] && case $g in mixed|symlinks|allbytes|deep) continue;; esac
		"$PY" "$LIB/treegen.py" tar "tar-$fmt-$g.tar" "t-$g" --format=$fmt 2> .err ||
			{ not_ok "tar ($fmt) of $g: cannot make the archive: $(tail -1 .err)"; continue; }
		flags=--no-mtime
		[ $fmt = pax ] && flags=
		if mk --tar "tar-$fmt-$g.img" "tar-$fmt-$g.tar" 2> .err; then
			roundtrip "tar ($fmt) round trip: $g" "tar-$fmt-$g.img" "t-$g" $flags
		else
			not_ok "tar ($fmt) round trip: $g: $(head -1 .err)"
		fi
	done
done
"$PY" "$LIB/treegen.py" tar tar-special.tar t-special --format=pax 2> /dev/null
rm -rf t-special-nosock && cp -a t-special t-special-nosock && rm -f t-special-nosock/sock
"$PY" "$LIB/treegen.py" tar tar-special.tar t-special-nosock --format=pax
mk --tar tar-special.img tar-special.tar &&
	roundtrip "tar: devices and fifo" tar-special.img t-special-nosock

# GNU tar itself, from a file and from stdin, in two readdir orders.
(cd r-shuffle && tar --format=gnu -cf ../gt-f.tar mixed hardlinks allbytes)
(cd r-reverse && tar --format=gnu -cf ../gt-r.tar mixed hardlinks allbytes)
SOURCE_DATE_EPOCH=1700000000 mk --tar gt-f.img gt-f.tar
SOURCE_DATE_EPOCH=1700000000 mk --tar gt-r.img - < gt-r.tar
SOURCE_DATE_EPOCH=1700000000 mk --tar gt-p.img - < <(cat gt-f.tar)
check -o "tar: different member order -> same bytes (file and stdin)" \
	bash -c 'cmp gt-f.img gt-r.img && cmp gt-f.img gt-p.img'
cat t-sparse/sparse > /dev/null
tar -C t-sparse -cf - . | mk --tar tsp.img - 
check -o "tar from a pipe: a 1 GiB mostly-zero file stays sparse in the image" bash -c \
	'[ $(du -k tsp.img | cut -f1) -lt 8192 ]'
roundtrip "tar from a pipe: sparse file round trip" tsp.img t-sparse --no-mtime

# Hand-made archives for the corner cases.
"$PY" - << 'EOF'
import io, tarfile
def add(t, name, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    if ti.isreg():
        ti.size = len(data)
    t.addfile(ti, io.BytesIO(data) if ti.isreg() else None)
long1 = "d" * 120 + "/f"                      # > 100 bytes
long2 = "/".join(["p" * 200] * 2) + "/" + "q" * 200   # > 255-byte path
with tarfile.open("long-gnu.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, long1, b"one", mtime=1)
    add(t, long2, b"two", mtime=2)
    add(t, "ln", type=tarfile.SYMTYPE, linkname="x" * 300)
    add(t, "big-uid", b"u", uid=3000000, gid=4000000)   # base-256 numbers
with tarfile.open("long-pax.tar", "w", format=tarfile.PAX_FORMAT) as t:
    add(t, long2, b"two", pax_headers={"mtime": "1234.5"})
    add(t, "neg", b"n", pax_headers={"mtime": "-1.25"})
    add(t, "ln", type=tarfile.SYMTYPE, linkname="y" * 4095)
    add(t, "utf8-\u00e9", b"e")
with tarfile.open("global.tar", "w", format=tarfile.PAX_FORMAT,
                  pax_headers={"uid": "777", "gid": "888"}) as t:
    add(t, "a", b"a", uid=1, gid=2)
with tarfile.open("implicit.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "x/y/z/file", b"f", mtime=77)
    add(t, "x/y", type=tarfile.DIRTYPE, mode=0o700, mtime=5)
    add(t, "dup", b"first")
    add(t, "dup", b"second")
    add(t, "h1", b"hard", mtime=3)
    add(t, "sub/h2", type=tarfile.LNKTYPE, linkname="h1")
    add(t, "./././dot", b"d")
    add(t, "/abs", b"a")
    add(t, "fifo", type=tarfile.FIFOTYPE)
    add(t, "chr", type=tarfile.CHRTYPE, devmajor=1, devminor=5)
    add(t, "blk", type=tarfile.BLKTYPE, devmajor=259, devminor=70000)
for name, order in (("order1.tar", (0, 1, 2)), ("order2.tar", (2, 0, 1))):
    members = [("a/b/f1", 10), ("a/c/f2", 20), ("d/f3", 5)]
    with tarfile.open(name, "w", format=tarfile.GNU_FORMAT) as t:
        for i in order:
            add(t, members[i][0], b"x", mtime=members[i][1])
with tarfile.open("toolong-name.tar", "w", format=tarfile.PAX_FORMAT) as t:
    add(t, "a/" + "n" * 256, b"x")
with tarfile.open("toolong-link.tar", "w", format=tarfile.PAX_FORMAT) as t:
    add(t, "l", type=tarfile.SYMTYPE, linkname="z" * 4096)
with tarfile.open("dotdot.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "a/../../etc/passwd", b"x")
with tarfile.open("badlink.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "h", type=tarfile.LNKTYPE, linkname="missing")
with tarfile.open("dirlink.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "d", type=tarfile.DIRTYPE)
    add(t, "h", type=tarfile.LNKTYPE, linkname="d")
with tarfile.open("replace-dir.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "d/f", b"x")
    add(t, "d", b"file now")
with tarfile.open("notdir.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "f", b"x")
    add(t, "f/g", b"y")
with tarfile.open("emptylink.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "l", type=tarfile.SYMTYPE, linkname="")
with tarfile.open("paxsparse.tar", "w", format=tarfile.PAX_FORMAT) as t:
    add(t, "s", b"x", pax_headers={"GNU.sparse.size": "100"})
b = io.BytesIO()
with tarfile.open(fileobj=b, mode="w", format=tarfile.GNU_FORMAT) as t:
    add(t, "v", type=b"V")
open("volhdr.tar", "wb").write(b.getvalue())
EOF

if mk --tar long-gnu.img long-gnu.tar 2> .err; then
	"$PY" "$LIB/daxfsimg.py" manifest long-gnu.img > .m
	check -o "GNU tar: >100 and >255-byte paths, long link, base-256 ids" bash -c "
		grep -q '^$(printf 'd%.0s' $(seq 120))/f reg' .m &&
		grep -q '^$(printf 'p%.0s' $(seq 200))/$(printf 'p%.0s' $(seq 200))/$(printf 'q%.0s' $(seq 200)) reg' .m &&
		grep -q '^ln lnk .*target=$(printf 'x%.0s' $(seq 300)) ' .m &&
		grep -q '^big-uid reg 0644 3000000:4000000 ' .m"
else
	not_ok "GNU tar long names: $(head -1 .err)"
fi
if mk --tar long-pax.img - < long-pax.tar 2> .err; then
	"$PY" "$LIB/daxfsimg.py" manifest long-pax.img > .m
	check -o "PAX: long path, fractional and negative mtime, 4095-byte link, UTF-8" bash -c "
		grep -q '^$(printf 'p%.0s' $(seq 200))/.* mtime=1234500000000 ' .m &&
		grep -q '^neg reg .* mtime=-1250000000 ' .m &&
		grep -q '^ln lnk .*target=$(printf 'y%.0s' $(seq 4095)) ' .m &&
		grep -q '^utf8-%C3%A9 reg' .m"
else
	not_ok "PAX archive: $(head -1 .err)"
fi
mk --tar global.img global.tar &&
	check -o "PAX global header (g) sets uid/gid for later entries" bash -c \
		"'$PY' '$LIB/daxfsimg.py' manifest global.img | grep -q '^a reg 0644 777:888 '"
if mk --tar implicit.img implicit.tar 2> .err; then
	"$PY" "$LIB/daxfsimg.py" manifest implicit.img > .m
	check -o "tar: implicit parents, later dir entry, duplicates, hard link, ./ and /, devices" bash -c "
		grep -q '^. dir 0755 0:0 mtime=5000000000' .m &&
		grep -q '^x dir 0755 0:0 mtime=5000000000' .m &&
		grep -q '^x/y/z dir 0755 0:0 mtime=77000000000' .m &&
		grep -q '^x/y dir 0700 0:0 mtime=5000000000' .m &&
		grep -q '^x/y/z/file reg' .m &&
		grep -q '^dup reg .*size=6 ' .m &&
		grep -q '^h1 reg .* nlink=2 link=h1' .m && grep -q '^sub/h2 reg .* nlink=2 link=h1' .m &&
		grep -q '^dot reg' .m && grep -q '^abs reg' .m &&
		grep -q '^fifo fifo' .m && grep -q '^chr chr .*dev=1:5' .m &&
		grep -q '^blk blk .*dev=259:70000' .m"
	layout_ok implicit.img || not_ok "implicit.tar layout"
else
	not_ok "tar corner cases: $(head -1 .err)"
fi

mk --tar -U $U order1.img order1.tar && mk --tar -U $U order2.img order2.tar
check -o "tar without directory entries: member order does not matter" cmp order1.img order2.img
check -o "... implicit directories take the newest mtime inside" bash -c \
	"'$PY' '$LIB/daxfsimg.py' manifest order1.img | grep -q '^a dir 0755 0:0 mtime=20000000000'"
expect 1 "longer than 255" "tar: a 256-byte name" -- --tar out/img toolong-name.tar
expect 1 "longer than 4095" "tar: a 4096-byte symlink target" -- --tar out/img toolong-link.tar
expect 1 "'..' are not accepted" "tar: '..' in a path" -- --tar out/img dotdot.tar
expect 1 "hard link target 'missing' not found" "tar: dangling hard link" -- --tar out/img badlink.tar
expect 1 "hard link to a directory" "tar: hard link to a directory" -- --tar out/img dirlink.tar
expect 1 "replace a directory" "tar: a file replacing a directory" -- --tar out/img replace-dir.tar
expect 1 "is not a directory" "tar: a path below a file" -- --tar out/img notdir.tar
expect 1 "empty symlink target" "tar: empty symlink target" -- --tar out/img emptylink.tar
expect 1 "sparse files are not supported" "tar: PAX sparse file" -- --tar out/img paxsparse.tar
expect 1 "unsupported tar entry type 'V'" "tar: unsupported entry type" -- --tar out/img volhdr.tar
head -c 1000 gt-f.tar > trunc-hdr.tar
expect 1 "truncated header" "tar: truncated in a header" -- --tar out/img trunc-hdr.tar
head -c $((512 * 3 + 100)) tar-gnu-aligned.tar > trunc-data.tar
expect 1 "unexpected end of archive" "tar: truncated in file data (seekable)" -- --tar out/img trunc-data.tar
expect 1 "unexpected end of archive" "tar: truncated in file data (pipe)" -- --tar out/img - < <(cat trunc-data.tar)
head -c 4096 /dev/urandom > garbage.tar
expect 1 "bad header checksum" "tar: not an archive" -- --tar out/img garbage.tar
: > empty.tar
expect 1 "empty archive" "tar: empty input" -- --tar out/img empty.tar
expect 1 "missing.tar: No such file" "tar: missing archive" -- --tar out/img missing.tar

# --- failure cleanup on a signal ---------------------------------------------------------
rm -rf out && mkdir out && rm -f .fifo && mkfifo .fifo
"$MKDAXFS" -q --tar out/img - < .fifo 2> /dev/null &
pid=$!
exec 3> .fifo
head -c 10240 gt-f.tar >&3	# part of an archive, then the writer stalls
sleep 1
kill -TERM "$pid"
wait "$pid"
rc=$?
exec 3>&-
check -o "SIGTERM mid-build (exit $rc) leaves nothing in IMAGE's directory" clean_dir out

# --- progress and verbosity --------------------------------------------------------------
if command -v script > /dev/null; then
	script -qec "'$MKDAXFS' prog.img t-mixed" /dev/null > .tty 2>&1
	check -o "progress line on a TTY" grep -q 'files.*MiB/s' .tty
	script -qec "'$MKDAXFS' -q prog.img t-mixed" /dev/null > .tty 2>&1
	check -o "-q: nothing on a TTY" bash -c '[ ! -s .tty ] || ! grep -q "files" .tty'
else
	skip "progress line on a TTY" "no script(1)"
	skip "-q on a TTY" "no script(1)"
fi
"$MKDAXFS" prog.img t-mixed > .o 2> .e
check -o "not a TTY: silent" bash -c '[ ! -s .o ] && [ ! -s .e ]'
"$MKDAXFS" -v prog.img t-mixed > .o 2> .e
check -o "-v lists entries and a summary on stderr" bash -c \
	'[ ! -s .o ] && grep -q "usr/bin/tool-alias" .e && grep -q "inodes, .* entries" .e'

plan
note "$((TAP_N - TAP_FAIL)) passed, $TAP_FAIL failed"
mv -f "$TAP_TMP" "$TAP_OUT"
cd "$TESTDIR" || exit 1
# Keep the scratch of a failed run for inspection; drop older ones.
if [ "$TAP_FAIL" = 0 ]; then
	rm -rf "$WORK"
else
	note "scratch kept in $WORK"
fi
[ "$TAP_FAIL" = 0 ]
