#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A small, independent reader of daxfs images, for tests.

Usage:  daxfsimg.py manifest IMAGE [--no-mtime] [--no-owner]
        daxfsimg.py super IMAGE          (superblock fields, one per line)
        daxfsimg.py layout IMAGE         (checks mkdaxfs's layout promises)

"manifest" prints the same format as "treegen.py manifest DIR", so a
directory -> image round trip is a diff of the two.  "layout" checks what
mkdaxfs promises beyond the validator: BFS inode order, memcmp-sorted
entries, file data in inode order on the alignment, zero bytes from each
file's end to the next alignment boundary and in every gap; it exits 1
with a message on the first violation.  It trusts the image otherwise: run
the validator (or mkdaxfs's self-check) for hostile input.
"""
import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import treegen  # noqa: E402

SUPER = struct.Struct("<IIIIQQIIQIIQQQQ16s64sII")
INODE = struct.Struct("<HHIIIQQqIIII8s")
DIRENT = struct.Struct("<IIHBBI")
S_IFMT = 0o170000
KIND = {0o100000: "reg", 0o040000: "dir", 0o120000: "lnk", 0o020000: "chr",
        0o060000: "blk", 0o010000: "fifo", 0o140000: "sock"}


class Image:
    def __init__(self, path):
        self.f = open(path, "rb")
        sb = SUPER.unpack(self.f.read(SUPER.size))
        (self.magic, self.version, self.compat, self.incompat,
         self.image_size, self.inode_off, self.inode_count, self.root_ino,
         self.dirent_off, self.dirent_count, self.align_log2,
         self.names_off, self.names_size, self.data_off, self.data_size,
         self.uuid, self.label, self.crc32c, _) = sb
        if self.magic != 0x53465844:
            raise SystemExit("%s: not a daxfs image" % path)
        self.f.seek(self.inode_off)
        raw = self.f.read(64 * self.inode_count)
        self.inodes = [INODE.unpack_from(raw, 64 * i)
                       for i in range(self.inode_count)]
        self.f.seek(self.dirent_off)
        raw = self.f.read(16 * self.dirent_count)
        self.dirents = [DIRENT.unpack_from(raw, 16 * i)
                        for i in range(self.dirent_count)]
        self.f.seek(self.names_off)
        self.names = self.f.read(self.names_size)

    def inode(self, ino):
        (mode, _, nlink, uid, gid, size, offset, msec, mnsec, parent,
         major, minor, _) = self.inodes[ino - 1]
        return dict(mode=mode, nlink=nlink, uid=uid, gid=gid, size=size,
                    offset=offset, mtime_ns=msec * 10**9 + mnsec,
                    parent=parent, rdev=(major, minor))

    def entries(self, ino):
        i = self.inode(ino)
        for k in range(i["offset"], i["offset"] + i["size"]):
            d_ino, off, ln, typ, _, _ = self.dirents[k]
            yield self.names[off:off + ln], d_ino, typ

    def read(self, off, n):
        self.f.seek(off)
        return self.f.read(n)

    def walk(self):
        """(path, ino) for every name, root first, breadth-first."""
        out = [(b"", 1)]
        i = 0
        while i < len(out):
            path, ino = out[i]
            i += 1
            if self.inode(ino)["mode"] & S_IFMT == 0o040000:
                for name, child, _ in self.entries(ino):
                    out.append(((path + b"/" if path else b"") + name, child))
        return out


def manifest(img):
    entries = []
    for path, ino in img.walk():
        i = img.inode(ino)
        kind = KIND[i["mode"] & S_IFMT]
        e = {"path": path, "kind": kind, "perm": i["mode"] & 0o7777,
             "uid": i["uid"], "gid": i["gid"], "mtime_ns": i["mtime_ns"],
             "key": ino}
        if kind == "reg":
            e["size"] = i["size"]
            h = hashlib.sha256()
            left, off = i["size"], i["offset"]
            while left:
                b = img.read(off, min(left, 1 << 20))
                h.update(b)
                off += len(b)
                left -= len(b)
            e["data_hash"] = h.hexdigest()
        elif kind == "lnk":
            e["target"] = img.names[i["offset"]:i["offset"] + i["size"]]
        elif kind in ("chr", "blk"):
            e["rdev"] = i["rdev"]
        entries.append(e)
    # nlink must match the number of names found
    counts = {}
    for e in entries:
        counts[e["key"]] = counts.get(e["key"], 0) + 1
    for e in entries:
        if e["kind"] != "dir" and img.inode(e["key"])["nlink"] != counts[e["key"]]:
            raise SystemExit("inode %d: nlink %d but %d names" %
                             (e["key"], img.inode(e["key"])["nlink"],
                              counts[e["key"]]))
    return entries


def is_zero(img, off, n):
    while n:
        b = img.read(off, min(n, 1 << 20))
        if b.count(0) != len(b):
            return False
        off += len(b)
        n -= len(b)
    return True


def layout(img):
    def fail(msg):
        raise SystemExit("layout: " + msg)
    align = 1 << img.align_log2
    # BFS numbering: walking dirs in inode order, new inodes appear in order
    seen = {1}
    nxt = 2
    for ino in range(1, img.inode_count + 1):
        if img.inode(ino)["mode"] & S_IFMT != 0o040000:
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
        if i["mode"] & S_IFMT != 0o100000 or not i["size"]:
            continue
        if i["offset"] != cursor:
            fail("inode %d: data at %d, expected %d" %
                 (ino, i["offset"], cursor))
        end = i["offset"] + i["size"]
        cursor = (end + align - 1) // align * align
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
    if os.fstat(img.f.fileno()).st_size != img.image_size:
        fail("file size %d != image_size %d" %
             (os.fstat(img.f.fileno()).st_size, img.image_size))


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    cmd, path = argv[1], argv[2]
    img = Image(path)
    if cmd == "manifest":
        for line in treegen.manifest_lines(manifest(img),
                                           "--no-mtime" in argv,
                                           "--no-owner" in argv):
            print(line)
    elif cmd == "super":
        for k in ("version", "image_size", "inode_off", "inode_count",
                  "dirent_off", "dirent_count", "align_log2", "names_off",
                  "names_size", "data_off", "data_size", "crc32c"):
            print("%s=%d" % (k, getattr(img, k)))
        u = img.uuid.hex()
        print("uuid=%s-%s-%s-%s-%s" % (u[:8], u[8:12], u[12:16], u[16:20],
                                        u[20:]))
        print("label=%s" % img.label.rstrip(b"\0").decode("utf-8",
                                                          "surrogateescape"))
    elif cmd == "layout":
        layout(img)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
