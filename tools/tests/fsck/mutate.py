#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""mutate.py FSCK IMAGE WORKDIR SEED COUNT - random metadata mutations.

Changes 1-3 random bytes of IMAGE's metadata, re-seals the CRC so the
change reaches the structural rules, and runs FSCK -q --list --extract on
it.  Whatever the image, fsck.daxfs must exit 0, 4 or 8 without a
sanitizer report; mutations that stay valid exercise --list and --extract
on odd but legal images.  Prints one line per problem (at most 5), then a
summary "exit codes: {...}"; exits 1 on any problem.  The failing image is
kept as WORKDIR/bad-N.img.
"""
import os
import random
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', '..', '..', 'selftests', 'lib'))
import daxfsimg  # noqa: E402


def main(argv):
    fsck, image, work, seed, count = argv[1], argv[2], argv[3], \
        int(argv[4]), int(argv[5])
    with open(image, 'rb') as f:
        base = bytearray(f.read())
    sb = daxfsimg.parse_super(base)
    lo, hi = sb['inode_off'], sb['names_off'] + sb['names_size']
    rnd = random.Random(seed)
    os.makedirs(work, exist_ok=True)
    img_path, out = os.path.join(work, 'm.img'), os.path.join(work, 'x')
    codes, problems = {}, 0
    for it in range(count):
        img = bytearray(base)
        for _ in range(rnd.randint(1, 3)):
            off = rnd.randrange(lo, hi)
            if rnd.random() < 0.5:
                img[off] = rnd.randrange(256)
            else:
                img[off] ^= 1 << rnd.randrange(8)
        daxfsimg.seal(img)
        with open(img_path, 'wb') as f:
            f.write(img)
        shutil.rmtree(out, ignore_errors=True)
        p = subprocess.run([fsck, '-q', '--list', '--extract=' + out,
                            img_path], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        codes[p.returncode] = codes.get(p.returncode, 0) + 1
        err = p.stderr.decode('utf-8', 'replace')
        if p.returncode not in (0, 4, 8) or 'Sanitizer' in err or \
                'runtime error' in err:
            problems += 1
            keep = os.path.join(work, 'bad-%d.img' % it)
            shutil.copy(img_path, keep)
            print('mutation %d: exit %d, kept %s: %s' % (
                it, p.returncode, keep, err.strip()[-300:]))
            if problems >= 5:
                break
    shutil.rmtree(out, ignore_errors=True)
    print('exit codes: %s' % dict(sorted(codes.items())))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
