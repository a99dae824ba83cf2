# SPDX-License-Identifier: GPL-2.0
# Sourced by run.sh: the mkdaxfs -> fsck.daxfs --extract round trip of the
# trees that selftests/lib/treegen.py makes (odd modes, owners and times
# too, as root).  Uses run.sh's helpers and roundtrip_tree.

treegen="python3 $lib/treegen.py"

# gen NAME GENERATOR [ARGS...]: make $R/src-NAME, or report why not.
gen() {
	local name=$1
	shift
	rm -rf "$R/src-$name"
	if ! $treegen "$1" "$R/src-$name" "${@:2}" >"$T/gen.out" 2>&1; then
		not_ok "$name: treegen $*"
		diag "$T/gen.out"
		return 1
	fi
}

for spec in "empty-dirs" "deep 256" "wide 100000" "allbytes" "symlinks" \
	    "hardlinks" "zero" "aligned 4096" "special" "mixed"; do
	set -- $spec
	name=$1
	gen "$name" "$@" || continue
	roundtrip_tree "$name" "$R/src-$name"
	rm -rf "$R/src-$name"
done

# Files of exactly a larger alignment, in an image with that alignment.
if gen aligned-2m aligned 2097152; then
	rm -f "$R/rt.img"
	if "$MKDAXFS" -q --align=2M --align-min=0 "$R/rt.img" "$R/src-aligned-2m" \
		>"$T/mk.out" 2>&1; then
		run 0 "aligned-2m: --align=2M --align-min=0 image is clean" "$R/rt.img"
		check "aligned-2m: summary shows the alignment" \
			has "$T/out" "data alignment     2097152 bytes"
		rm -rf "$R/rt.x"
		run 0 "aligned-2m: --extract" -q --extract="$R/rt.x" "$R/rt.img"
		if $treecmp "$R/src-aligned-2m" "$R/rt.x" >"$T/cmp" 2>&1; then
			ok "aligned-2m: extracted tree equals the source"
		else
			not_ok "aligned-2m: extracted tree equals the source"
			diag "$T/cmp"
		fi
	else
		not_ok "aligned-2m: mkdaxfs --align=2M --align-min=0"
		diag "$T/mk.out"
	fi
	rm -rf "$R/rt.x" "$R/rt.img" "$R/src-aligned-2m"
fi

# A 1 GiB file that is almost all hole: the image keeps the hole (mkdaxfs
# copies hole by hole) and so must the extraction, or this would write and
# compare a gigabyte.  Directory input only: tar would have to write the
# gigabyte (mkdaxfs does not read PAX sparse entries), so the tar path
# gets a 64 MiB one.
if gen sparse sparse 1G; then
	roundtrip_tree sparse-1g "$R/src-sparse" --dir-only
	rm -f "$R/rt.img"
	"$MKDAXFS" -q "$R/rt.img" "$R/src-sparse" >/dev/null 2>&1
	rm -rf "$R/rt.x"
	"$FSCK" -q --extract="$R/rt.x" "$R/rt.img" >/dev/null 2>&1
	used=$(du -k "$R/rt.x/sparse" 2>/dev/null | cut -f1)
	check "sparse-1g: the extracted file stays sparse (${used:-?} KiB used)" \
		test "${used:-999999}" -lt 1024
	rm -rf "$R/rt.x" "$R/rt.img" "$R/src-sparse"
fi
if gen sparse sparse 64M; then
	roundtrip_tree sparse-64m "$R/src-sparse"
	rm -rf "$R/src-sparse"
fi

# Modes (set-id, sticky, odd permissions), owners and times (treegen.py's
# "modes"): root only (chown).
if [ "$(id -u)" = 0 ]; then
	gen modes modes &&
	roundtrip_tree modes "$R/src-modes"
	chmod -R u+rwx "$R/src-modes" 2>/dev/null
	rm -rf "$R/src-modes"
else
	skip --ci "modes/owners round trip" "needs root"
fi
