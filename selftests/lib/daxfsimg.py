#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The test bed's one independent reader and writer of daxfs v1 images.

Written from format/FORMAT.md (and daxfs_format.h), not from the C code, so
that the tests have a second opinion on the format.  It trusts the image it
reads: run the validator (or mkdaxfs's self-check) for hostile input.

Usage:  daxfsimg.py manifest IMAGE [--no-mtime] [--no-owner]
        daxfsimg.py super IMAGE          (superblock fields, one per line)
        daxfsimg.py layout IMAGE [--align=A [--align-min=M]]
                                         (checks mkdaxfs's layout promises)
        daxfsimg.py info IMAGE           (every field, one line per structure)
        daxfsimg.py build OUT SPEC.json  (write an image from a JSON tree spec)
        daxfsimg.py set IMAGE WHAT ARGS... [noseal]
                                         (patch a field, re-seal the CRC)

"manifest" prints the same format as "treegen.py manifest DIR", so a
directory -> image round trip is a diff of the two.  "layout" checks what
mkdaxfs promises beyond the validator: BFS inode order, memcmp-sorted
entries, file data in inode order on the alignment, zero bytes from each
file's end to the next alignment boundary and in every gap; it exits 1
with a message on the first violation.

"build" and "set" are for the fsck tests: craft images with exactly the
properties a test needs (odd modes, devices, negative times) without going
through mkdaxfs, and corrupt one field of a valid image and re-seal the CRC,
so that a test reaches the validator rule it means to and not the checksum.
set's WHAT ARGS: super FIELD VALUE | label HEX | inode INO FIELD VALUE |
dirent IDX FIELD VALUE | swap-dirents A B | name IDX HEX | byte OFF VALUE |
tail INO (a nonzero byte just past the file's data); "noseal" last keeps
the old CRC.
"""
import hashlib
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import treegen  # noqa: E402

# --- the format (FORMAT.md sections 4-6) -------------------------------------

MAGIC = 0x53465844
SUPER_SIZE = 4096
SUPER = struct.Struct("<IIIIQQIIQIIQQQQ16s64sII")   # then reserved[3920]
INODE = struct.Struct("<HHIIIQQqIIII8s")
DIRENT = struct.Struct("<IIHBBI")
SUPER_FIELDS = ("magic", "version", "compat", "incompat", "image_size",
                "inode_off", "inode_count", "root_ino", "dirent_off",
                "dirent_count", "data_align_log2", "names_off", "names_size",
                "data_off", "data_size", "uuid", "label", "crc32c",
                "reserved0")
INODE_FIELDS = ("mode", "reserved0", "nlink", "uid", "gid", "size", "offset",
                "mtime_sec", "mtime_nsec", "parent", "rdev_major",
                "rdev_minor", "reserved")
DIRENT_FIELDS = ("ino", "name_off", "name_len", "type", "reserved0",
                 "reserved1")
CRC_OFF = 168            # offset of crc32c in the superblock
S_IFMT = 0o170000
S_IFDIR = 0o040000
S_IFREG = 0o100000
S_IFLNK = 0o120000
TYPES = {"dir": S_IFDIR, "reg": S_IFREG, "lnk": S_IFLNK, "chr": 0o020000,
         "blk": 0o060000, "fifo": 0o010000, "sock": 0o140000}
KIND = {v: k for k, v in TYPES.items()}


def dt(mode):
    """The DT_* value of an S_IFMT type: S_IFMT >> 12 (FORMAT.md 2)."""
    return (mode & S_IFMT) >> 12


def round_up(v, a):
    return (v + a - 1) // a * a


def _crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        t.append(c)
    return t


_T = _crc_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = (crc >> 8) ^ _T[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


# --- reading ------------------------------------------------------------------

def parse_super(buf):
    return dict(zip(SUPER_FIELDS, SUPER.unpack_from(buf, 0)))


def parse_tables(read, sb):
    """(inodes, dirents, names) of an image, read(offset, n) giving bytes:
    inodes and dirents as lists of field dicts (inode N is inodes[N - 1])."""
    raw = read(sb["inode_off"], INODE.size * sb["inode_count"])
    inodes = [dict(zip(INODE_FIELDS, INODE.unpack_from(raw, INODE.size * i)))
              for i in range(sb["inode_count"])]
    raw = read(sb["dirent_off"], DIRENT.size * sb["dirent_count"])
    dirents = [dict(zip(DIRENT_FIELDS,
                        DIRENT.unpack_from(raw, DIRENT.size * i)))
               for i in range(sb["dirent_count"])]
    return inodes, dirents, read(sb["names_off"], sb["names_size"])


def parse(img):
    """(superblock, inodes, dirents) of an image in memory (bytes-like)."""
    sb = parse_super(img)
    inodes, dirents, _ = parse_tables(lambda o, n: img[o:o + n], sb)
    return sb, inodes, dirents


class Image:
    """An image file: superblock fields as attributes, tables in memory,
    file data read on demand."""

    def __init__(self, path):
        self.f = open(path, "rb")
        self.sb = parse_super(self.f.read(SUPER_SIZE).ljust(SUPER_SIZE,
                                                            b"\0"))
        self.__dict__.update(self.sb)
        if self.magic != MAGIC:
            raise SystemExit("%s: not a daxfs image" % path)
        self.inodes, self.dirents, self.names = parse_tables(self.read,
                                                             self.sb)

    def inode(self, ino):
        return self.inodes[ino - 1]

    def mtime_ns(self, ino):
        i = self.inode(ino)
        return i["mtime_sec"] * 10**9 + i["mtime_nsec"]

    def is_dir(self, ino):
        return self.inode(ino)["mode"] & S_IFMT == S_IFDIR

    def entries(self, ino):
        i = self.inode(ino)
        for d in self.dirents[i["offset"]:i["offset"] + i["size"]]:
            off = d["name_off"]
            yield self.names[off:off + d["name_len"]], d["ino"], d["type"]

    def read(self, off, n):
        self.f.seek(off)
        return self.f.read(n)

    def chunks(self, off, n):
        """The bytes [off, off + n) in pieces of at most 1 MiB."""
        while n:
            b = self.read(off, min(n, 1 << 20))
            if not b:
                raise SystemExit("image ends before offset %d" % off)
            yield b
            off += len(b)
            n -= len(b)

    def walk(self):
        """(path, ino) for every name, root first, breadth-first."""
        out = [(b"", 1)]
        i = 0
        while i < len(out):
            path, ino = out[i]
            i += 1
            if self.is_dir(ino):
                for name, child, _ in self.entries(ino):
                    out.append(((path + b"/" if path else b"") + name, child))
        return out


def manifest(img):
    entries = []
    for path, ino in img.walk():
        i = img.inode(ino)
        kind = KIND[i["mode"] & S_IFMT]
        e = {"path": path, "kind": kind, "perm": i["mode"] & 0o7777,
             "uid": i["uid"], "gid": i["gid"], "mtime_ns": img.mtime_ns(ino),
             "key": ino}
        if kind == "reg":
            e["size"] = i["size"]
            h = hashlib.sha256()
            for b in img.chunks(i["offset"], i["size"]):
                h.update(b)
            e["data_hash"] = h.hexdigest()
        elif kind == "lnk":
            e["target"] = img.names[i["offset"]:i["offset"] + i["size"]]
        elif kind in ("chr", "blk"):
            e["rdev"] = (i["rdev_major"], i["rdev_minor"])
        entries.append(e)
    # nlink must match the number of names found
    counts = {}
    for e in entries:
        counts[e["key"]] = counts.get(e["key"], 0) + 1
    for e in entries:
        nlink = img.inode(e["key"])["nlink"]
        if e["kind"] != "dir" and nlink != counts[e["key"]]:
            raise SystemExit("inode %d: nlink %d but %d names" %
                             (e["key"], nlink, counts[e["key"]]))
    return entries


def is_zero(img, off, n):
    return all(b.count(0) == len(b) for b in img.chunks(off, n))


def layout(img, big=None, big_min=None):
    """mkdaxfs's placement: each file of at least BIG_MIN bytes (default:
    BIG) on BIG (the --align given; default: the superblock's data_align),
    smaller files on data_align, every file padded with zeros to data_align,
    gaps zero."""
    def fail(msg):
        raise SystemExit("layout: " + msg)
    align = 1 << img.data_align_log2
    big = big or align
    big_min = big if big_min is None else big_min
    if big < align or big % align:
        fail("--align %d is no multiple of data_align %d" % (big, align))
    # BFS numbering: walking dirs in inode order, new inodes appear in order
    seen = {1}
    nxt = 2
    for ino in range(1, img.inode_count + 1):
        if not img.is_dir(ino):
            continue
        prev = None
        for name, child, _ in img.entries(ino):
            if prev is not None and not prev < name:
                fail("inode %d: entries not sorted" % ino)
            prev = name
            if child not in seen:
                if child != nxt:
                    fail("inode %d: not numbered breadth-first" % child)
                seen.add(child)
                nxt += 1
    # Data in inode order, aligned, zero tails and gaps
    cursor = img.data_off
    if img.data_off % align:
        fail("data_off not aligned")
    for ino in range(1, img.inode_count + 1):
        i = img.inode(ino)
        if i["mode"] & S_IFMT != S_IFREG or not i["size"]:
            continue
        want = round_up(cursor, big if i["size"] >= big_min else align)
        if i["offset"] != want:
            fail("inode %d: data at %d, expected %d" %
                 (ino, i["offset"], want))
        if not is_zero(img, cursor, want - cursor):
            fail("inode %d: the gap before the data is not zero" % ino)
        end = i["offset"] + i["size"]
        cursor = round_up(end, align)
        if not is_zero(img, end, cursor - end):
            fail("inode %d: padding after the data is not zero" % ino)
    if cursor != img.data_off + img.data_size:
        fail("data_size does not end after the last file's padding")
    names_end = img.names_off + img.names_size
    if not is_zero(img, names_end, img.data_off - names_end):
        fail("gap before the data area is not zero")
    end = img.data_off + img.data_size
    if not is_zero(img, end, img.image_size - end):
        fail("bytes after the data area are not zero")
    size = os.fstat(img.f.fileno()).st_size
    if size != img.image_size:
        fail("file size %d != image_size %d" % (size, img.image_size))


# --- writing ------------------------------------------------------------------

def seal(img):
    """Recompute the CRC of a bytearray image in place (FORMAT.md 8)."""
    sb = parse_super(img)
    meta_end = sb["names_off"] + sb["names_size"]
    hdr = bytearray(img[:SUPER_SIZE])
    hdr[CRC_OFF:CRC_OFF + 4] = bytes(4)
    crc = crc32c(bytes(hdr) + bytes(img[sb["inode_off"]:meta_end]))
    struct.pack_into("<I", img, CRC_OFF, crc)


def _name_key(s):
    return s.encode("latin-1")


def build(spec):
    """spec: {"align_log2": 12, "label": "...", "uuid": hex, "root": node}
    node: {"type": "dir"|"reg"|..., "mode": perm, "uid", "gid", "mtime":
    [sec, nsec], "entries": {name: node} (dir), "data": str (reg, latin-1),
    "size": n (reg: zero-filled when no data), "target": str (lnk),
    "rdev": [major, minor], "link": "id"/"id": for hard links: a node with
    "id" is defined once; others {"link": id} refer to it}."""
    align = 1 << spec.get("align_log2", 12)
    root = spec["root"]
    ids = {}
    stack = [root]
    while stack:
        n = stack.pop()
        if "id" in n:
            ids[n["id"]] = n
        stack.extend(n.get("entries", {}).values())

    def resolve(n):
        return ids[n["link"]] if "link" in n else n

    def sorted_entries(n):
        return sorted(((name, resolve(c)) for name, c in
                       n.get("entries", {}).items()),
                      key=lambda kv: _name_key(kv[0]))

    # Number inodes breadth first: parents before children.
    order = [root]
    num = {id(root): 1}
    i = 0
    while i < len(order):
        n = order[i]
        i += 1
        if n["type"] != "dir":
            continue
        for _, c in sorted_entries(n):
            if id(c) not in num:
                num[id(c)] = len(order) + 1
                order.append(c)
    names = bytearray()
    dirents = []
    nlink = {}
    dirinfo = {}
    parent = {}
    for n in order:          # in inode order: contiguous dirent ranges
        if n["type"] != "dir":
            continue
        ents = sorted_entries(n)
        dirinfo[id(n)] = (len(dirents) if ents else 0, len(ents))
        for name, c in ents:
            nb = name.encode("latin-1")
            dirents.append((num[id(c)], len(names), len(nb),
                            dt(TYPES[c["type"]]), 0, 0))
            names += nb
            nlink[id(c)] = nlink.get(id(c), 0) + 1
            if c["type"] == "dir":
                parent[id(c)] = num[id(n)]
    targets = {}
    for n in order:
        if n["type"] == "lnk":
            tb = n["target"].encode("latin-1")
            targets[id(n)] = (len(names), len(tb))
            names += tb
    inode_off = SUPER_SIZE
    dirent_off = inode_off + INODE.size * len(order)
    names_off = dirent_off + DIRENT.size * len(dirents)
    data_off = round_up(max(names_off + len(names), SUPER_SIZE), align)
    cursor = data_off
    datas = {}
    for n in order:
        if n["type"] == "reg":
            d = n.get("data", "").encode("latin-1")
            size = n.get("size", len(d))
            if size:
                datas[id(n)] = (cursor, d, size)
                cursor = round_up(cursor + size, align)
    image_size = round_up(max(cursor, data_off), 4096)
    img = bytearray(image_size)
    for idx, n in enumerate(order):
        t = TYPES[n["type"]]
        size = off = par = 0
        nl = nlink.get(id(n), 0)
        if t == S_IFDIR:
            off, size = dirinfo[id(n)]
            par = parent.get(id(n), 1)
            nl = 2 + sum(1 for _, c in sorted_entries(n)
                         if c["type"] == "dir")
        elif t == S_IFREG and id(n) in datas:
            off, d, size = datas[id(n)]
            img[off:off + len(d)] = d
        elif t == S_IFLNK:
            off, size = targets[id(n)]
        dflt = 0o755 if t == S_IFDIR else 0o644
        mt = n.get("mtime", [1700000000, 123456789])
        rdev = n.get("rdev", [0, 0])
        INODE.pack_into(img, inode_off + INODE.size * idx,
                        t | n.get("mode", dflt), 0, nl, n.get("uid", 0),
                        n.get("gid", 0), size, off, mt[0], mt[1], par,
                        rdev[0], rdev[1], bytes(8))
    for k, d in enumerate(dirents):
        DIRENT.pack_into(img, dirent_off + DIRENT.size * k, *d)
    img[names_off:names_off + len(names)] = names
    label = spec.get("label", "").encode("latin-1")
    uuid = bytes.fromhex(spec.get("uuid", "00112233445566778899aabbccddeeff"))
    SUPER.pack_into(img, 0, MAGIC, 1, 0, 0, image_size, inode_off, len(order),
                    1, dirent_off, len(dirents), align.bit_length() - 1,
                    names_off, len(names), data_off, cursor - data_off,
                    uuid, label, 0, 0)
    seal(img)
    return img


def patch(img, args):
    """Apply one "set" patch (WHAT ARGS..., see the usage) to a bytearray
    image; returns an error message or None."""
    sb, inodes, dirents = parse(img)
    what = args[0]
    if what in ("super", "label"):
        if what == "label":        # 64s: padded with NULs
            sb["label"] = bytes.fromhex(args[1])
        elif args[1] in SUPER_FIELDS and args[1] not in ("uuid", "label"):
            sb[args[1]] = int(args[2], 0)
        else:
            return "unknown superblock field %s" % args[1]
        SUPER.pack_into(img, 0, *[sb[k] for k in SUPER_FIELDS])
    elif what == "inode":
        ino, field, val = int(args[1]), args[2], int(args[3], 0)
        n = inodes[ino - 1]
        n[field] = val
        INODE.pack_into(img, sb["inode_off"] + INODE.size * (ino - 1),
                        *[n[k] for k in INODE_FIELDS])
    elif what == "dirent":
        idx, field, val = int(args[1]), args[2], int(args[3], 0)
        d = dirents[idx]
        d[field] = val
        DIRENT.pack_into(img, sb["dirent_off"] + DIRENT.size * idx,
                         *[d[k] for k in DIRENT_FIELDS])
    elif what == "swap-dirents":
        pa, pb = (sb["dirent_off"] + DIRENT.size * int(a) for a in args[1:3])
        s = DIRENT.size
        img[pa:pa + s], img[pb:pb + s] = img[pb:pb + s], img[pa:pa + s]
    elif what == "name":
        d = dirents[int(args[1])]
        nb = bytes.fromhex(args[2])
        if len(nb) != d["name_len"]:
            return "name: %d bytes, the entry's name has %d" % (
                len(nb), d["name_len"])
        p = sb["names_off"] + d["name_off"]
        img[p:p + len(nb)] = nb
    elif what == "byte":
        img[int(args[1], 0)] = int(args[2], 0)
    elif what == "tail":
        n = inodes[int(args[1]) - 1]
        img[n["offset"] + n["size"]] = 0x5a
    else:
        return "unknown field group %s" % what
    return None


# --- command line -------------------------------------------------------------

def print_super(img):
    for k in ("version", "image_size", "inode_off", "inode_count",
              "dirent_off", "dirent_count", "data_align_log2", "names_off",
              "names_size", "data_off", "data_size", "crc32c"):
        print("%s=%d" % ("align_log2" if k == "data_align_log2" else k,
                         img.sb[k]))
    u = img.uuid.hex()
    print("uuid=%s-%s-%s-%s-%s" % (u[:8], u[8:12], u[12:16], u[16:20],
                                    u[20:]))
    print("label=%s" % img.label.rstrip(b"\0").decode("utf-8",
                                                      "surrogateescape"))


def print_info(img):
    def fields(d, keys):
        return " ".join("%s=%s" % (k, d[k]) for k in keys)
    for k in SUPER_FIELDS:
        v = img.sb[k]
        print("%s %s" % (k, v.hex() if isinstance(v, bytes) else v))
    for i, n in enumerate(img.inodes):
        print("inode %d %s" % (i + 1, fields(n, INODE_FIELDS[:-1])))
    for i, d in enumerate(img.dirents):
        name = img.names[d["name_off"]:d["name_off"] + d["name_len"]]
        print("dirent %d %s name=%r" % (i, fields(d, DIRENT_FIELDS),
                                        bytearray(name)))


def main(argv):
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2
    cmd, path = argv[1], argv[2]
    if cmd == "build":
        with open(argv[3]) as f:
            spec = json.load(f)
        with open(path, "wb") as f:
            f.write(build(spec))
        return 0
    if cmd == "set":
        with open(path, "rb") as f:
            img = bytearray(f.read())
        args = argv[3:]
        reseal = args[-1] != "noseal"
        if not reseal:
            args = args[:-1]
        err = patch(img, args)
        if err:
            print("daxfsimg.py set: " + err, file=sys.stderr)
            return 2
        if reseal:
            seal(img)
        with open(path, "wb") as f:
            f.write(img)
        return 0
    img = Image(path)
    if cmd == "manifest":
        for line in treegen.manifest_lines(manifest(img),
                                           "--no-mtime" in argv,
                                           "--no-owner" in argv):
            print(line)
    elif cmd == "super":
        print_super(img)
    elif cmd == "layout":
        opt = dict(a[2:].split("=", 1) for a in argv[3:]
                   if a.startswith(("--align=", "--align-min=")))
        layout(img, treegen.parse_size(opt["align"]) if "align" in opt else None,
               treegen.parse_size(opt["align-min"]) if "align-min" in opt else None)
    elif cmd == "info":
        print_info(img)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
