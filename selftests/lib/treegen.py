#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tree generators and tree manifests for the daxfs format tests.

Shared by the mkdaxfs tests and anyone else who needs source trees (the
fsck round-trip tests, for instance).  Every generator is deterministic:
same arguments, same tree, same mtimes (fixed, nanosecond-precise), so two
runs in different places give trees that must produce identical images.
--order changes only the creation order (and so, on most file systems, the
readdir order), never the result.

Usage:  treegen.py GENERATOR DIR [ARGS...] [--order=forward|reverse|shuffle]
        treegen.py manifest DIR [--no-mtime] [--no-owner]
        treegen.py tar OUT.tar DIR --format=gnu|pax|ustar

Generators (DIR is created; it must not exist):
  empty-dirs DIR            nested and sibling empty directories
  deep DIR [DEPTH=256]      a chain of DEPTH nested directories ("d000"...),
                            a file at the bottom
  wide DIR [N=10000]        N empty files in one directory
  allbytes DIR              names using every byte 0x01-0xff except '/':
                            one file per byte, plus one 254-byte name with
                            all of them
  symlinks DIR              symlinks with targets of 1, 100, 255, 4095 bytes
  hardlinks DIR             hard-link groups of 2 and 3 names across dirs
  zero DIR                  zero-length files
  aligned DIR [ALIGN=4096]  files of exactly ALIGN, ALIGN-1, ALIGN+1 and
                            2*ALIGN bytes
  sparse DIR [SIZE=1G]      a file of SIZE with two small data extents,
                            the rest a hole
  special DIR               fifo, char and block device, socket (root only
                            for the devices)
  mixed DIR                 a bit of everything above, small
  modes DIR                 set-id/sticky/odd modes, owners, times before
                            1970 and in 2100 (root only)
  srctree DIR [FILES=100000] [SEED=1] [EMPTY=0]
                            FILES files shaped like a source checkout
                            (selftests/bench/gen-tree)
  many DIR [DIRS=100] [PER_DIR=1000]
                            DIRS directories of PER_DIR files of 1-4096 bytes

manifest DIR prints one line per path, sorted by bytes, with the type,
permissions, owner, mtime (ns), and per type: size + sha256, link target,
device numbers; hard links as "link=FIRST" where FIRST is the smallest path
of the group, nlink counted inside the tree.  The image reader
daxfsimg.py prints the same format, so a round trip is a diff.

tar OUT DIR writes DIR as a tar archive with python's tarfile in the given
format (gnu: 'L'/'K' long names; pax: PAX headers incl. fractional mtimes;
ustar: prefix field), members sorted, so the archive is deterministic.
"""
import hashlib
import os
import random
import socket
import stat
import sys
import tarfile

MTIME_NS = 1_600_000_000_123_456_789   # base mtime; entries get +k seconds
EPOCH = 1_600_000_000


class Gen:
    """Collects operations, then runs them in the requested order."""

    def __init__(self, root, order):
        self.root = os.fsencode(root)
        self.order = order
        self.ops = []          # (path, kind, arg)
        self.attrs = []        # (path, mode, (uid, gid), mtime_ns)

    def dir(self, p):
        self.ops.append((p, "dir", None))

    def file(self, p, data=b""):
        self.ops.append((p, "file", data))

    def symlink(self, p, target):
        self.ops.append((p, "symlink", target))

    def link(self, p, existing):
        self.ops.append((p, "link", existing))

    def sparse(self, p, size, extents):
        self.ops.append((p, "sparse", (size, extents)))

    def node(self, p, mode, dev=0):
        self.ops.append((p, "node", (mode, dev)))

    def attr(self, p, mode=None, owner=None, mtime_ns=None):
        """Permission bits, (uid, gid) and mtime for P (b"": the root),
        set after everything exists and after the deterministic times."""
        self.attrs.append((p, mode, owner, mtime_ns))

    def files(self):
        """The regular files' paths, in creation order ("forward")."""
        return [p for p, kind, _ in self.ops if kind == "file"]

    def run(self):
        os.mkdir(self.root)
        ops = list(self.ops)
        # Directories (and hard-link sources) must exist before use, so
        # reorder only within "waves": all dirs first (by depth), then
        # plain entries, then links.
        dirs = sorted([o for o in ops if o[1] == "dir"],
                      key=lambda o: o[0].count(b"/"))
        rest = [o for o in ops if o[1] not in ("dir", "link")]
        links = [o for o in ops if o[1] == "link"]
        if self.order == "reverse":
            rest.reverse()
            links.reverse()
            dirs = sorted(dirs, key=lambda o: o[0].count(b"/"))
            dirs = [d for depth in sorted({d[0].count(b"/") for d in dirs})
                    for d in reversed([x for x in dirs
                                       if x[0].count(b"/") == depth])]
        elif self.order == "shuffle":
            rnd = random.Random(1234)
            rnd.shuffle(rest)
            rnd.shuffle(links)
        for p, kind, arg in dirs + rest + links:
            full = self.root + b"/" + p
            if kind == "dir":
                os.mkdir(full, 0o755)
            elif kind == "file":
                with open(full, "wb") as f:
                    f.write(arg)
                os.chmod(full, 0o644)
            elif kind == "symlink":
                os.symlink(arg, full)
            elif kind == "link":
                os.link(self.root + b"/" + arg, full)
            elif kind == "sparse":
                size, extents = arg
                with open(full, "wb") as f:
                    for off, data in extents:
                        f.seek(off)
                        f.write(data)
                    f.truncate(size)
            elif kind == "node":
                mode, dev = arg
                if stat.S_ISSOCK(mode):
                    s = socket.socket(socket.AF_UNIX)
                    try:
                        s.bind(full)
                    finally:
                        s.close()
                    os.chmod(full, mode & 0o7777)
                else:
                    os.mknod(full, mode, dev)
        self.fix_times()
        for p, mode, owner, mtime_ns in self.attrs:
            full = self.root + (b"/" + p if p else b"")
            if owner is not None:        # before chmod: chown clears set-id
                os.chown(full, *owner, follow_symlinks=False)
            if mode is not None:
                os.chmod(full, mode)
            if mtime_ns is not None:
                os.utime(full, ns=(mtime_ns, mtime_ns), follow_symlinks=False)

    def fix_times(self):
        """Deterministic mtimes, bottom-up so directory times stick."""
        paths = sorted({o[0] for o in self.ops}, reverse=True)
        for p in paths + [b""]:
            full = self.root + (b"/" + p if p else b"")
            k = sum(p) % 1000 if p else 0
            ns = MTIME_NS + k * 1_000_000_000
            os.utime(full, ns=(ns, ns), follow_symlinks=False)


def gen_empty_dirs(g):
    for p in [b"a", b"a/b", b"a/b/c", b"d", b"e", b"e/f"]:
        g.dir(p)


def gen_deep(g, depth=256):
    p = b""
    for i in range(depth):
        p = (p + b"/" if p else b"") + b"d%03d" % i
        g.dir(p)
    g.file(p + b"/bottom", b"deep\n")


def gen_wide(g, n=10000):
    for i in range(n):
        g.file(b"f%07d" % i)


def gen_allbytes(g):
    allowed = bytes(b for b in range(1, 256) if b != 0x2f)
    for b in allowed:
        g.file(b"x" + bytes([b]), bytes([b]))
    g.file(allowed, b"all")          # 254 bytes, every allowed byte


def gen_symlinks(g):
    for n in (1, 100, 255, 4095):
        target = (b"t" * 9 + b"/") * (n // 10) + b"u" * (n % 10)
        g.symlink(b"l%04d" % n, target[:n])
    g.symlink(b"dangling", b"does/not/exist")


def gen_hardlinks(g):
    g.dir(b"d1")
    g.dir(b"d2")
    g.file(b"d1/two", b"two names\n")
    g.link(b"d2/two-again", b"d1/two")
    g.file(b"three", b"three names\n")
    g.link(b"d1/three-b", b"three")
    g.link(b"d2/three-c", b"three")
    g.file(b"d2/empty")
    g.link(b"d1/empty-link", b"d2/empty")


def gen_zero(g):
    for i in range(5):
        g.file(b"zero%d" % i)
    g.dir(b"sub")
    g.file(b"sub/zero")


def gen_aligned(g, align=4096):
    for name, n in ((b"exact", align), (b"minus1", align - 1),
                    (b"plus1", align + 1), (b"double", 2 * align)):
        g.file(name, bytes((i * 7 + len(name)) & 0xff for i in range(n))
               if n <= (4 << 20) else _pattern(n))


def _pattern(n):
    block = bytes((i * 13) & 0xff for i in range(65536))
    return (block * (n // 65536 + 1))[:n]


def gen_sparse(g, size=1 << 30):
    g.sparse(b"sparse", size, [(4096, b"head" * 1024),
                               (size // 2, b"middle")])


def gen_special(g):
    g.node(b"fifo", stat.S_IFIFO | 0o640)
    g.node(b"sock", stat.S_IFSOCK | 0o600)
    if os.geteuid() == 0:
        g.node(b"null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
        g.node(b"loop9", stat.S_IFBLK | 0o660, os.makedev(7, 9))
        g.node(b"bigdev", stat.S_IFCHR | 0o600, os.makedev(4000, 1 << 19))


def gen_mixed(g):
    g.dir(b"etc")
    g.dir(b"usr")
    g.dir(b"usr/bin")
    g.dir(b"usr/lib")
    g.dir(b"empty")
    g.file(b"etc/hostname", b"daxfs\n")
    g.file(b"etc/zero")
    g.file(b"usr/bin/tool", _pattern(10000))
    g.file(b"usr/lib/page", _pattern(4096))
    g.link(b"usr/bin/tool-alias", b"usr/bin/tool")
    g.symlink(b"usr/bin/sh", b"tool")
    g.symlink(b"etc/abs", b"/etc/hostname")
    g.node(b"etc/fifo", stat.S_IFIFO | 0o600)
    g.file(b"etc/" + b"n" * 255, b"long name\n")
    g.file(b"usr/lib/\xff\x01 odd", b"odd bytes\n")


def gen_modes(g):
    """What the other generators do not make (root only: chown): set-id,
    sticky and odd permission bits, owners, times before 1970 and in 2100."""
    for i, m in enumerate((0o4755, 0o2755, 0o6711, 0o1777, 0o0000, 0o0444,
                           0o7777, 0o0641)):
        g.file(b"f%o" % m, b"mode %o\n" % m)
        g.attr(b"f%o" % m, m, (1000 + i, 2000 + i), -10**9 * (i + 1) + i)
    for i, m in enumerate((0o1777, 0o2775, 0o0500, 0o0000)):
        g.dir(b"d%o" % m)
        g.file(b"d%o/inside" % m, b"x")
        g.attr(b"d%o" % m, m, (4294967294 - i, 65534),
               4102444800 * 10**9 + i)
    g.symlink(b"sym", b"f4755")
    g.attr(b"sym", None, (33, 44), 123456789)
    g.node(b"fifo", stat.S_IFIFO | 0o604)
    g.attr(b"", 0o750, None, 1234567890987654321)


SRC_WORDS = tuple(b"core lib net fs mm drivers include tools arch block "
                  b"crypto sound video usb pci gpu media common util test "
                  b"docs api impl".split())
SRC_EXTS = (b".c", b".h", b".py", b".txt", b".json", b".md", b".rs", b".go",
            b".so", b"")


def gen_srctree(g, files=100000, seed=1, empty=0):
    """Exactly FILES regular files shaped like a source checkout: nested
    directories of 2-60 entries, mostly small files with a long tail up to
    256 KiB, a few empty ones (all of them with EMPTY=1)."""
    rnd = random.Random(seed)
    # one pool of pseudo-random bytes; each file is a slice of it
    pool = memoryview(rnd.randbytes(1 << 20))
    made = ndir = 0
    queue = [(b"", 0)]
    while made < files:
        if not queue:
            queue.append((b"d%d" % ndir, 0))
        d, depth = queue.pop(0)
        if d:
            g.dir(d)
        ndir += 1
        for i in range(min(rnd.randint(2, 60), files - made)):
            name = b"%s_%d%s" % (rnd.choice(SRC_WORDS), i,
                                 rnd.choice(SRC_EXTS))
            if empty or rnd.random() < 0.03:
                size = 0
            else:
                size = min(int(rnd.lognormvariate(7.0, 1.4)), 256 << 10)
            off = rnd.randrange(0, len(pool) - size) if size else 0
            g.file((d + b"/" if d else b"") + name, pool[off:off + size])
            made += 1
        if depth < 5:
            for j in range(rnd.randint(1, 6) if depth < 2 else
                           rnd.randint(0, 4)):
                sub = b"%s%d" % (rnd.choice(SRC_WORDS), j)
                queue.append(((d + b"/" if d else b"") + sub, depth + 1))


def gen_many(g, dirs=100, per_dir=1000):
    """DIRS directories of PER_DIR files of 1..4096 bytes each."""
    block = bytes((i * 31 + 7) & 0xff for i in range(4096))
    n = 0
    for d in range(dirs):
        g.dir(b"d%03d" % d)
        for f in range(per_dir):
            g.file(b"d%03d/f%04d" % (d, f),
                   block[:(n * 2654435761) % 4096 + 1])
            n += 1


GENERATORS = {
    "empty-dirs": gen_empty_dirs, "deep": gen_deep, "wide": gen_wide,
    "allbytes": gen_allbytes, "symlinks": gen_symlinks,
    "hardlinks": gen_hardlinks, "zero": gen_zero, "aligned": gen_aligned,
    "sparse": gen_sparse, "special": gen_special, "mixed": gen_mixed,
    "modes": gen_modes, "srctree": gen_srctree, "many": gen_many,
}


def parse_size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if s[-1:].upper() in mult:
        return int(s[:-1]) * mult[s[-1:].upper()]
    return int(s)


# --- manifest ---------------------------------------------------------------

def esc(b):
    """Bytes as printable text: %XX for anything but [A-Za-z0-9._/+-]."""
    return "".join(chr(c) if (0x30 <= c <= 0x39 or 0x41 <= c <= 0x5a or
                              0x61 <= c <= 0x7a or c in b"._/+-")
                   else "%%%02X" % c for c in b)


def manifest_lines(entries, no_mtime=False, no_owner=False):
    """entries: list of dicts with path(bytes), kind, perm, uid, gid,
    mtime_ns, size, data_hash, target, rdev, key (hard-link identity)."""
    groups = {}
    for e in entries:
        if e["kind"] != "dir":
            groups.setdefault(e["key"], []).append(e["path"])
    out = []
    for e in sorted(entries, key=lambda e: e["path"]):
        f = [esc(e["path"]) or ".", e["kind"], "%04o" % e["perm"]]
        if not no_owner:
            f.append("%d:%d" % (e["uid"], e["gid"]))
        if not no_mtime:
            f.append("mtime=%d" % e["mtime_ns"])
        if e["kind"] == "reg":
            f.append("size=%d sha256=%s" % (e["size"], e["data_hash"]))
        elif e["kind"] == "lnk":
            f.append("target=" + esc(e["target"]))
        elif e["kind"] in ("chr", "blk"):
            f.append("dev=%d:%d" % e["rdev"])
        if e["kind"] != "dir":
            g = sorted(groups[e["key"]])
            f.append("nlink=%d" % len(g))
            if len(g) > 1:
                f.append("link=" + esc(g[0]))
        out.append(" ".join(f))
    return out


KINDS = {stat.S_IFREG: "reg", stat.S_IFDIR: "dir", stat.S_IFLNK: "lnk",
         stat.S_IFCHR: "chr", stat.S_IFBLK: "blk", stat.S_IFIFO: "fifo",
         stat.S_IFSOCK: "sock"}


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def walk(root):
    """(rel, full, lstat) for ROOT (rel b"") and everything below it, depth
    first, paths as bytes; does not follow symlinks."""
    root = os.fsencode(root)
    yield b"", root, os.lstat(root)
    stack = [b""]
    while stack:
        rel = stack.pop()
        with os.scandir(root + (b"/" + rel if rel else b"")) as it:
            for e in it:
                r = rel + b"/" + e.name if rel else e.name
                st = e.stat(follow_symlinks=False)
                yield r, e.path, st
                if stat.S_ISDIR(st.st_mode):
                    stack.append(r)


def scan(root):
    entries = []
    for rel, full, st in walk(root):
        kind = KINDS[stat.S_IFMT(st.st_mode)]
        e = {"path": rel, "kind": kind, "perm": stat.S_IMODE(st.st_mode),
             "uid": st.st_uid, "gid": st.st_gid, "mtime_ns": st.st_mtime_ns,
             "key": (st.st_dev, st.st_ino)}
        if kind == "reg":
            e["size"] = st.st_size
            e["data_hash"] = sha256_file(full)
        elif kind == "lnk":
            e["target"] = os.readlink(full)
        elif kind in ("chr", "blk"):
            e["rdev"] = (os.major(st.st_rdev), os.minor(st.st_rdev))
        entries.append(e)
    return entries


def write_tar(out, root, fmt):
    fmts = {"gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT,
            "ustar": tarfile.USTAR_FORMAT}
    with tarfile.open(out, "w", format=fmts[fmt],
                      encoding="utf-8", errors="surrogateescape") as t:
        for rel, full in sorted((r, f) for r, f, _ in walk(root)):
            arc = os.fsdecode(rel) if rel else "."
            ti = t.gettarinfo(os.fsdecode(full), arcname=arc)
            if fmt == "pax":
                ns = os.lstat(full).st_mtime_ns
                ti.pax_headers["mtime"] = "%d.%09d" % divmod(ns, 10**9)
            if ti.isreg():
                with open(full, "rb") as f:
                    t.addfile(ti, f)
            else:
                t.addfile(ti)


def main(argv):
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2
    cmd, target = argv[1], argv[2]
    args = [a for a in argv[3:] if not a.startswith("--")]
    flags = dict((a[2:].split("=", 1) + [""])[:2]
                 for a in argv[3:] if a.startswith("--"))
    if cmd == "manifest":
        for line in manifest_lines(scan(target), "no-mtime" in flags,
                                   "no-owner" in flags):
            print(line)
        return 0
    if cmd == "tar":
        write_tar(target, args[0], flags.get("format", "gnu"))
        return 0
    if cmd not in GENERATORS:
        print("treegen.py: unknown generator %r" % cmd, file=sys.stderr)
        return 2
    g = Gen(target, flags.get("order", "forward"))
    conv = [parse_size(a) for a in args]
    GENERATORS[cmd](g, *conv)
    g.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
