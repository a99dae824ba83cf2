#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""treecmp.py [options] SRC DST - compare two trees for the round-trip tests.

Compares, for every path (names as bytes), including the roots:
  type, permission bits (07777; not for symlinks, whose mode Linux fixes),
  uid and gid, mtime in nanoseconds, regular file size and content,
  symlink target, device numbers, the link count of non-directories, and
  the link structure: the partition of non-directory paths into groups that
  share an inode must be the same on both sides.

Options:
  --no-sockets   sockets in SRC are expected to be missing in DST (tar
                 does not archive them)
  --no-owner     do not compare uid/gid
  --no-root      do not compare the attributes of the roots themselves

Prints each difference (up to 20) and exits 1 if there is any, else
prints one line "same: N paths" and exits 0.  Walks iteratively, so depth
does not matter.
"""
import os
import stat
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', '..', '..', 'selftests', 'lib'))
import treegen  # noqa: E402


def walk(root):
    """{relpath(bytes): lstat} for everything under root, root as b'.'."""
    return {rel or b'.': st for rel, _, st in treegen.walk(root)}


def same_content(a, b, size):
    with open(a, 'rb') as fa, open(b, 'rb') as fb:
        fda, fdb = fa.fileno(), fb.fileno()
        pos = 0
        while pos < size:
            # Skip what is a hole in both files: sparse test files are large.
            try:
                da = os.lseek(fda, pos, os.SEEK_DATA)
            except OSError:
                da = size
            try:
                db = os.lseek(fdb, pos, os.SEEK_DATA)
            except OSError:
                db = size
            start = min(da, db)
            if start >= size:
                return True
            n = min(1 << 22, size - start)
            if os.pread(fda, n, start) != os.pread(fdb, n, start):
                return False
            pos = start + n
    return True


def main(argv):
    opts = {a for a in argv[1:] if a.startswith('--')}
    args = [a for a in argv[1:] if not a.startswith('--')]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = (os.fsencode(a) for a in args)
    s, d = walk(src), walk(dst)
    diffs = []

    def diff(path, what):
        diffs.append('%r: %s' % (path, what))

    if '--no-sockets' in opts:
        s = {k: v for k, v in s.items() if not stat.S_ISSOCK(v.st_mode)}
    for p in sorted(set(s) - set(d)):
        diff(p, 'missing in DST')
    for p in sorted(set(d) - set(s)):
        diff(p, 'extra in DST')
    for p in sorted(set(s) & set(d)):
        a, b = s[p], d[p]
        if p == b'.' and '--no-root' in opts:
            continue
        if stat.S_IFMT(a.st_mode) != stat.S_IFMT(b.st_mode):
            diff(p, 'type %o != %o' % (stat.S_IFMT(a.st_mode),
                                       stat.S_IFMT(b.st_mode)))
            continue
        if not stat.S_ISLNK(a.st_mode) and \
                stat.S_IMODE(a.st_mode) != stat.S_IMODE(b.st_mode):
            diff(p, 'mode %04o != %04o' % (stat.S_IMODE(a.st_mode),
                                           stat.S_IMODE(b.st_mode)))
        if '--no-owner' not in opts and \
                (a.st_uid, a.st_gid) != (b.st_uid, b.st_gid):
            diff(p, 'owner %d:%d != %d:%d' % (a.st_uid, a.st_gid,
                                              b.st_uid, b.st_gid))
        if a.st_mtime_ns != b.st_mtime_ns:
            diff(p, 'mtime %d != %d' % (a.st_mtime_ns, b.st_mtime_ns))
        if not stat.S_ISDIR(a.st_mode) and a.st_nlink != b.st_nlink:
            diff(p, 'nlink %d != %d' % (a.st_nlink, b.st_nlink))
        if stat.S_ISREG(a.st_mode):
            if a.st_size != b.st_size:
                diff(p, 'size %d != %d' % (a.st_size, b.st_size))
            elif a.st_size and not same_content(os.path.join(src, p), os.path.join(dst, p),
                                  a.st_size):
                diff(p, 'content differs')
        elif stat.S_ISLNK(a.st_mode):
            ta = os.readlink(os.path.join(src, p))
            tb = os.readlink(os.path.join(dst, p))
            if ta != tb:
                diff(p, 'symlink target %r != %r' % (ta[:60], tb[:60]))
        elif stat.S_ISCHR(a.st_mode) or stat.S_ISBLK(a.st_mode):
            if a.st_rdev != b.st_rdev:
                diff(p, 'rdev %d:%d != %d:%d' % (
                    os.major(a.st_rdev), os.minor(a.st_rdev),
                    os.major(b.st_rdev), os.minor(b.st_rdev)))

    def groups(tree):
        g = {}
        for p, st in tree.items():
            if not stat.S_ISDIR(st.st_mode):
                g.setdefault((st.st_dev, st.st_ino), set()).add(p)
        return {frozenset(v) for v in g.values() if len(v) > 1}

    gs, gd = groups(s), groups(d)
    for g in sorted(gs - gd, key=sorted):
        diff(sorted(g)[0], 'hard link group %r not in DST' % sorted(g)[:4])
    for g in sorted(gd - gs, key=sorted):
        diff(sorted(g)[0], 'hard link group %r not in SRC' % sorted(g)[:4])

    for line in diffs[:20]:
        print(line)
    if len(diffs) > 20:
        print('... %d differences in all' % len(diffs))
    if diffs:
        return 1
    print('same: %d paths, %d hard link groups' % (len(s), len(gs)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
