#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# mapcheck.py - the guest's mmap checks for selftests/shared (runs in the
# guest, as root, over the host's python3).
#
#   mapcheck.py hash ROOT
#       "PATH SHA256" for every regular file under ROOT, hashed through a
#       MAP_SHARED mapping (hashlib reads the mapped pages in place; an
#       empty file, which cannot be mapped, hashes as b"").
#   mapcheck.py private ROOT IMAGE BASE SIZE
#       Maps every regular file MAP_PRIVATE (never written, so its pages
#       are the backing's own), touches each page and reads its PFN from
#       /proc/self/pagemap: every page must lie in the physical range
#       [BASE, BASE+SIZE) where the image's first byte is BASE, a file's
#       pages must be physically contiguous, and the image file's bytes at
#       the offset its first PFN gives (PFN*4096 - BASE) must be the file's
#       first page.  (A MAP_SHARED mapping is a PFN map, which pagemap does
#       not walk; a private mapping before any write maps the same pages.)
#   mapcheck.py hold ROOT
#       Maps every regular file MAP_SHARED, prints "held PATH SHA256" for
#       each and "held-done", then waits for one line on stdin, hashes the
#       same mappings again ("reheld PATH SHA256", "reheld-done") and exits.
#
# PATHs are relative to ROOT.  Exit status 0 iff every check passed.
import hashlib
import mmap
import os
import struct
import sys

PAGE = os.sysconf("SC_PAGE_SIZE")


def files(root):
    out = []
    for d, dirs, names in os.walk(root):
        dirs.sort()
        for n in sorted(names):
            p = os.path.join(d, n)
            if os.path.isfile(p) and not os.path.islink(p):
                out.append((os.path.relpath(p, root), p))
    return out


def map_shared(p):
    fd = os.open(p, os.O_RDONLY)
    try:
        if os.fstat(fd).st_size == 0:
            return None
        return mmap.mmap(fd, 0, mmap.MAP_SHARED, mmap.PROT_READ)
    finally:
        os.close(fd)


def sha(m):
    return hashlib.sha256(m if m is not None else b"").hexdigest()


def cmd_hash(root):
    for rel, p in files(root):
        m = map_shared(p)
        print(rel, sha(m), flush=True)
        if m is not None:
            m.close()
    return 0


def cmd_hold(root):
    held = [(rel, map_shared(p)) for rel, p in files(root)]
    for rel, m in held:
        print("held", rel, sha(m))
    print("held-done", flush=True)
    sys.stdin.readline()
    for rel, m in held:
        print("reheld", rel, sha(m))
    print("reheld-done", flush=True)
    return 0


def cmd_private(root, image, base, size):
    base = int(base, 0)
    size = int(size, 0)
    lo, hi = base // PAGE, (base + size) // PAGE
    pm = os.open("/proc/self/pagemap", os.O_RDONLY)
    img = os.open(image, os.O_RDONLY)
    bad = 0
    pages = 0
    nfiles = 0
    for rel, p in files(root):
        fd = os.open(p, os.O_RDONLY)
        n = os.fstat(fd).st_size
        if n == 0:
            os.close(fd)
            continue
        m = mmap.mmap(fd, 0, mmap.MAP_PRIVATE, mmap.PROT_READ)
        os.close(fd)
        npg = (n + PAGE - 1) // PAGE
        for i in range(npg):		# fault every page in (read only)
            m[i * PAGE]
        # where it is mapped: /proc/self/maps, by inode and path
        ino = os.stat(p).st_ino
        addr = None
        with open("/proc/self/maps") as f:
            for line in f:
                fld = line.split()
                if len(fld) >= 6 and int(fld[4]) == ino and fld[5] == p:
                    a, b = (int(x, 16) for x in fld[0].split("-"))
                    if b - a >= npg * PAGE and fld[1].startswith("r--p"):
                        addr = a
        if addr is None:
            print("# %s: mapping not found in /proc/self/maps" % rel)
            bad += 1
            m.close()
            continue
        raw = os.pread(pm, 8 * npg, (addr // PAGE) * 8)
        pfns = []
        for i in range(npg):
            e, = struct.unpack_from("<Q", raw, 8 * i)
            if not e >> 63 & 1:
                pfns.append(None)
            else:
                pfns.append(e & ((1 << 55) - 1))
        m0 = bytes(m[:min(n, PAGE)])
        m.close()
        nfiles += 1
        pages += npg
        if None in pfns:
            print("# %s: %d of %d pages not present" % (rel, pfns.count(None), npg))
            bad += 1
            continue
        if pfns[0] == 0:
            print("# %s: pagemap hides PFNs (no CAP_SYS_ADMIN?)" % rel)
            bad += 1
            continue
        out = [x for x in pfns if not lo <= x < hi]
        if out:
            print("# %s: %d pages outside [0x%x, 0x%x): first PFN 0x%x"
                  % (rel, len(out), base, base + size, out[0]))
            bad += 1
            continue
        if pfns != list(range(pfns[0], pfns[0] + npg)):
            print("# %s: pages not physically contiguous" % rel)
            bad += 1
            continue
        off = pfns[0] * PAGE - base
        if os.pread(img, len(m0), off) != m0:
            print("# %s: page at image offset 0x%x differs from the file" % (rel, off))
            bad += 1
            continue
    print("# %d files, %d pages: every page in [0x%x, 0x%x), at its image offset"
          % (nfiles, pages, base, base + size) if not bad else
          "# %d of %d files failed" % (bad, nfiles))
    return 1 if bad or not nfiles else 0


def main(argv):
    if len(argv) == 3 and argv[1] == "hash":
        return cmd_hash(argv[2])
    if len(argv) == 3 and argv[1] == "hold":
        return cmd_hold(argv[2])
    if len(argv) == 6 and argv[1] == "private":
        return cmd_private(*argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
