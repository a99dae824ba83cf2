# SPDX-License-Identifier: GPL-2.0
"""Tiny independent reader/writer of daxfs v1 images for the fsck tests.

It exists so that the fsck tests can (1) craft images with exactly the
properties a test needs (odd modes, devices, negative times) without going
through mkdaxfs, and (2) corrupt one field of a valid image and re-seal the
CRC, so that a test reaches the validator rule it means to and not the
checksum.  Written from FORMAT.md and daxfs_format.h.

Command line (used by run.sh):
  daximg.py build OUT SPEC.json       write an image from a JSON tree spec
  daximg.py set IMG WHAT VALUE...     patch a field, then re-seal the CRC
  daximg.py info IMG                  print the fields, one per line
"""
import json
import struct
import sys

SUPER = struct.Struct('<IIIIQQIIQIIQQQQ16s64sII')   # then reserved[3920]
INODE = struct.Struct('<HHIIIQQqIIII8s')
DIRENT = struct.Struct('<IIHBBI')
MAGIC = 0x53465844
S_IFMT = 0o170000
TYPES = {'dir': 0o040000, 'reg': 0o100000, 'lnk': 0o120000, 'chr': 0o020000,
         'blk': 0o060000, 'fifo': 0o010000, 'sock': 0o140000}
DT = {0o040000: 4, 0o100000: 8, 0o120000: 10, 0o020000: 2, 0o060000: 6,
      0o010000: 1, 0o140000: 12}
SUPER_FIELDS = ('magic', 'version', 'compat', 'incompat', 'image_size',
                'inode_off', 'inode_count', 'root_ino', 'dirent_off',
                'dirent_count', 'data_align_log2', 'names_off', 'names_size',
                'data_off', 'data_size', 'uuid', 'label', 'crc32c',
                'reserved0')
INODE_FIELDS = ('mode', 'reserved0', 'nlink', 'uid', 'gid', 'size', 'offset',
                'mtime_sec', 'mtime_nsec', 'parent', 'rdev_major',
                'rdev_minor', 'reserved')
DIRENT_FIELDS = ('ino', 'name_off', 'name_len', 'type', 'reserved0',
                 'reserved1')


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


assert crc32c(b'123456789') == 0xE3069283


def round_up(v, a):
    return (v + a - 1) // a * a


def seal(img):
    """Recompute the CRC of a bytearray image in place."""
    sb = dict(zip(SUPER_FIELDS, SUPER.unpack_from(img, 0)))
    meta_end = sb['names_off'] + sb['names_size']
    hdr = bytearray(img[:4096])
    hdr[168:172] = b'\0\0\0\0'
    crc = crc32c(bytes(hdr) + bytes(img[sb['inode_off']:meta_end]))
    struct.pack_into('<I', img, 168, crc)


def parse(img):
    sb = dict(zip(SUPER_FIELDS, SUPER.unpack_from(img, 0)))
    inodes = [dict(zip(INODE_FIELDS, INODE.unpack_from(
        img, sb['inode_off'] + 64 * i))) for i in range(sb['inode_count'])]
    dirents = [dict(zip(DIRENT_FIELDS, DIRENT.unpack_from(
        img, sb['dirent_off'] + 16 * i))) for i in range(sb['dirent_count'])]
    return sb, inodes, dirents


def build(spec):
    """spec: {"align_log2": 12, "label": "...", "uuid": hex, "root": node}
    node: {"type": "dir"|"reg"|..., "mode": perm, "uid", "gid", "mtime":
    [sec, nsec], "entries": {name: node} (dir), "data": str (reg, latin-1),
    "size": n (reg: zero-filled when no data), "target": str (lnk),
    "rdev": [major, minor], "link": "id"/"id": for hard links: a node with
    "id" is defined once; others {"link": id} refer to it}."""
    align = 1 << spec.get('align_log2', 12)
    root = spec['root']
    ids = {}

    def collect(node):
        stack = [node]
        while stack:
            n = stack.pop()
            if 'id' in n:
                ids[n['id']] = n
            for c in n.get('entries', {}).values():
                stack.append(c)
    collect(root)

    def resolve(n):
        return ids[n['link']] if 'link' in n else n

    # Number inodes breadth first: parents before children.
    order = [root]
    num = {id(root): 1}
    i = 0
    while i < len(order):
        n = order[i]
        i += 1
        if n['type'] != 'dir':
            continue
        for name in sorted(n.get('entries', {}), key=lambda s: s.encode('latin-1')):
            c = resolve(n['entries'][name])
            if id(c) not in num:
                num[id(c)] = len(order) + 1
                order.append(c)
    names = bytearray()
    dirents = []
    nlink = {}
    dirinfo = {}
    for n in order:          # in inode order: contiguous dirent ranges
        if n['type'] != 'dir':
            continue
        ents = sorted(n.get('entries', {}).items(),
                      key=lambda kv: kv[0].encode('latin-1'))
        dirinfo[id(n)] = (len(dirents) if ents else 0, len(ents))
        for name, c in ents:
            c = resolve(c)
            nb = name.encode('latin-1')
            dirents.append((num[id(c)], len(names), len(nb),
                            DT[TYPES[c['type']]]))
            names += nb
            nlink[id(c)] = nlink.get(id(c), 0) + 1
            if c['type'] == 'dir':
                c['_parent'] = num[id(n)]
    targets = {}
    for n in order:
        if n['type'] == 'lnk':
            tb = n['target'].encode('latin-1')
            targets[id(n)] = (len(names), len(tb))
            names += tb
    inode_off = 4096
    dirent_off = inode_off + 64 * len(order)
    names_off = dirent_off + 16 * len(dirents)
    data_off = round_up(max(names_off + len(names), 4096), align)
    cursor = data_off
    datas = {}
    for n in order:
        if n['type'] == 'reg':
            d = n.get('data', '').encode('latin-1')
            size = n.get('size', len(d))
            if size:
                datas[id(n)] = (cursor, d, size)
                cursor = round_up(cursor + size, align)
    image_size = round_up(max(cursor, data_off), 4096)
    img = bytearray(image_size)
    for idx, n in enumerate(order):
        t = TYPES[n['type']]
        size = off = parent = 0
        nl = nlink.get(id(n), 0)
        if t == TYPES['dir']:
            off, size = dirinfo[id(n)]
            parent = 1 if idx == 0 else n['_parent']
            nl = 2 + sum(1 for c in n.get('entries', {}).values()
                         if resolve(c)['type'] == 'dir')
        elif t == TYPES['reg'] and id(n) in datas:
            off, d, size = datas[id(n)]
            img[off:off + len(d)] = d
        elif t == TYPES['lnk']:
            off, size = targets[id(n)]
        dflt = 0o755 if t == TYPES['dir'] else 0o644
        mt = n.get('mtime', [1700000000, 123456789])
        rdev = n.get('rdev', [0, 0])
        INODE.pack_into(img, inode_off + 64 * idx, t | n.get('mode', dflt),
                        0, nl, n.get('uid', 0), n.get('gid', 0), size, off,
                        mt[0], mt[1], parent, rdev[0], rdev[1], bytes(8))
    for k, (ino, noff, nlen, dt) in enumerate(dirents):
        DIRENT.pack_into(img, dirent_off + 16 * k, ino, noff, nlen, dt, 0, 0)
    img[names_off:names_off + len(names)] = names
    label = spec.get('label', '').encode('latin-1')
    uuid = bytes.fromhex(spec.get('uuid', '00112233445566778899aabbccddeeff'))
    SUPER.pack_into(img, 0, MAGIC, 1, 0, 0, image_size, inode_off, len(order),
                    1, dirent_off, len(dirents), align.bit_length() - 1,
                    names_off, len(names), data_off, cursor - data_off,
                    uuid, label, 0, 0)
    seal(img)
    return img


def main(argv):
    if argv[1] == 'build':
        with open(argv[3]) as f:
            spec = json.load(f)
        with open(argv[2], 'wb') as f:
            f.write(build(spec))
        return 0
    with open(argv[2], 'rb') as f:
        img = bytearray(f.read())
    sb, inodes, dirents = parse(img)
    if argv[1] == 'info':
        for k in SUPER_FIELDS:
            print('%s %s' % (k, sb[k].hex() if isinstance(sb[k], bytes) else sb[k]))
        for i, n in enumerate(inodes):
            print('inode %d %s' % (i + 1, ' '.join('%s=%s' % (k, n[k]) for k in INODE_FIELDS[:-1])))
        for i, d in enumerate(dirents):
            name = img[sb['names_off'] + d['name_off']:][:d['name_len']]
            print('dirent %d %s name=%r' % (i, ' '.join('%s=%s' % (k, d[k]) for k in DIRENT_FIELDS), name))
        return 0
    if argv[1] != 'set':
        print('unknown command', file=sys.stderr)
        return 2
    # set IMG super FIELD VALUE | inode INO FIELD VALUE |
    #     dirent IDX FIELD VALUE | name IDX BYTES(hex) | byte OFF VALUE |
    #     tail INO (a nonzero byte just past the file's data) ... [noseal]
    what = argv[3]
    reseal = argv[-1] != 'noseal'
    if what == 'super':
        field, val = argv[4], int(argv[5], 0)
        offs = {'magic': 0, 'version': 4, 'compat': 8, 'incompat': 12,
                'image_size': 16, 'inode_count': 32, 'root_ino': 36,
                'dirent_count': 48, 'data_align_log2': 52, 'reserved0': 172}
        fmt = '<Q' if field == 'image_size' else '<I'
        struct.pack_into(fmt, img, offs[field], val)
    elif what == 'label':
        img[104:168] = bytes.fromhex(argv[4]).ljust(64, b'\0')
    elif what == 'inode':
        ino, field, val = int(argv[4]), argv[5], int(argv[6], 0)
        n = inodes[ino - 1]
        n[field] = val
        INODE.pack_into(img, sb['inode_off'] + 64 * (ino - 1),
                        *[n[k] for k in INODE_FIELDS])
    elif what == 'dirent':
        idx, field, val = int(argv[4]), argv[5], int(argv[6], 0)
        d = dirents[idx]
        d[field] = val
        DIRENT.pack_into(img, sb['dirent_off'] + 16 * idx,
                         *[d[k] for k in DIRENT_FIELDS])
    elif what == 'swap-dirents':
        a, b = int(argv[4]), int(argv[5])
        pa, pb = sb['dirent_off'] + 16 * a, sb['dirent_off'] + 16 * b
        img[pa:pa + 16], img[pb:pb + 16] = img[pb:pb + 16], img[pa:pa + 16]
    elif what == 'name':
        d = dirents[int(argv[4])]
        nb = bytes.fromhex(argv[5])
        assert len(nb) == d['name_len']
        p = sb['names_off'] + d['name_off']
        img[p:p + len(nb)] = nb
    elif what == 'byte':
        img[int(argv[4], 0)] = int(argv[5], 0)
    elif what == 'tail':
        n = inodes[int(argv[4]) - 1]
        img[n['offset'] + n['size']] = 0x5a
    else:
        print('unknown field group', what, file=sys.stderr)
        return 2
    if reseal:
        seal(img)
    with open(argv[2], 'wb') as f:
        f.write(img)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
