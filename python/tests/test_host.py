#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host tests of the Python binding: no kernel module needed.

The ctypes structures against the C header (sizes and offsets, compiled
from the public header at test time), errors as OSError with the C errno,
dry runs of mount_image() on good and bad image files, argument checks and
the context managers' clean-up.  TAP on stdout.

Env: DAXFS_DMABUF_LIB (the built library), MKDAXFS, DAXFS_INCLUDE (the
directories of daxfs-dmabuf.h and linux/daxfs.h, colon-separated), CC.
"""
import ctypes
import errno
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import daxfs_dmabuf as dx  # noqa: E402

n = 0
failed = 0


def check(cond, what, detail=None):
    global n, failed
    n += 1
    if cond:
        print("ok %d - %s" % (n, what))
    else:
        failed += 1
        print("not ok %d - %s" % (n, what))
        if detail is not None:
            for line in str(detail).splitlines():
                print("#   " + line)


def raises(fn, exc=OSError):
    try:
        fn()
    except exc as e:
        return e
    return None


C_LAYOUT = r'''
#include <stddef.h>
#include <stdio.h>
#include "daxfs-dmabuf.h"
#define F(s, f) printf(#s "." #f " %zu %zu\n", offsetof(struct s, f), sizeof(((struct s *)0)->f))
#define S(s) printf(#s " %zu\n", sizeof(struct s))
int main(void)
{
	S(daxfs_mount_opts); F(daxfs_mount_opts, offset); F(daxfs_mount_opts, flags);
	F(daxfs_mount_opts, options);
	S(daxfs_image_desc); F(daxfs_image_desc, image_size); F(daxfs_image_desc, version); F(daxfs_image_desc, inode_count);
	F(daxfs_image_desc, uuid); F(daxfs_image_desc, label);
	S(daxfs_load_info); F(daxfs_load_info, stage); F(daxfs_load_info, buffer_size);
	F(daxfs_load_info, desc); F(daxfs_load_info, exporter);
	S(daxfs_load_opts); F(daxfs_load_opts, exporter); F(daxfs_load_opts, flags);
	F(daxfs_load_opts, exporter_arg); F(daxfs_load_opts, offset);
	F(daxfs_load_opts, mount_flags); F(daxfs_load_opts, mount_options);
	F(daxfs_load_opts, mountd_socket); F(daxfs_load_opts, progress);
	F(daxfs_load_opts, progress_arg); F(daxfs_load_opts, info);
	printf("version %s\n", DAXFS_DMABUF_VERSION_STRING);
	return 0;
}
'''


def c_layout(tmp):
    src = os.path.join(tmp, "layout.c")
    exe = os.path.join(tmp, "layout")
    with open(src, "w") as f:
        f.write(C_LAYOUT)
    inc = [a for d in os.environ.get("DAXFS_INCLUDE", "").split(":") if d for a in ("-I", d)]
    subprocess.run([os.environ.get("CC", "cc")] + inc + ["-o", exe, src], check=True)
    out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    return dict((l.split(" ", 1)[0], l.split(" ", 1)[1]) for l in out.splitlines())


def py_layout():
    m = {}
    for cname, cls in (("daxfs_mount_opts", dx._MountOpts), ("daxfs_image_desc", dx._ImageDesc),
                       ("daxfs_load_info", dx._LoadInfo), ("daxfs_load_opts", dx._LoadOpts)):
        m[cname] = str(ctypes.sizeof(cls))
        for fname, _t in cls._fields_:
            if fname == "size":
                continue
            fld = getattr(cls, fname)
            m["%s.%s" % (cname, fname)] = "%d %d" % (fld.offset, fld.size)
    return m


def main():
    print("TAP version 13")
    mk = os.environ["MKDAXFS"]
    with tempfile.TemporaryDirectory() as tmp:
        want = c_layout(tmp)
        got = py_layout()
        for k in sorted(got):
            check(got[k] == want.get(k), "layout of %s matches the C header" % k,
                  "ctypes %s, C %s" % (got[k], want.get(k)))
        check(dx.version() == want["version"], "version() is the header's (%s)" % want["version"],
              dx.version())

        src = os.path.join(tmp, "tree")
        os.makedirs(os.path.join(src, "sub"))
        with open(os.path.join(src, "model.bin"), "wb") as f:
            f.write(bytes(range(256)) * 4096)
        with open(os.path.join(src, "sub", "note"), "w") as f:
            f.write("hello\n")
        img = os.path.join(tmp, "good.img")
        subprocess.run([mk, "--label=pytest", img, src], check=True, capture_output=True)
        size = os.path.getsize(img)

        info = dx.mount_image(img, "/nonexistent-target", dry_run=True)
        check(info.image_size == size, "dry run: image_size is the file's size (%d)" % size,
              info)
        check(info.label == "pytest", "dry run: the label", info)
        check(info.inode_count == 4, "dry run: 4 inodes (root, sub, two files)", info)
        check(info.buffer_size >= size and info.buffer_size % 4096 == 0,
              "dry run: a page-rounded buffer size", info)
        with open(img, "rb") as f:
            p = dx.probe_image(f.fileno())
        check(p.image_size == size and p.label == "pytest", "probe_image reads the superblock", p)

        half = os.path.join(tmp, "half.img")
        with open(img, "rb") as f, open(half, "wb") as g:
            g.write(f.read(size // 2))
        e = raises(lambda: dx.mount_image(half, "/nonexistent-target", dry_run=True))
        check(e is not None and e.errno != 0 and e.info is not None and e.info.stage == "image",
              "truncated image: OSError at the image stage", e and (e, e.info))
        check(e is not None and "truncated" in str(e),
              "truncated image: the message says so", e)
        e = raises(lambda: dx.mount_image(os.path.join(tmp, "missing.img"), "/x", dry_run=True))
        check(e is not None and e.errno == errno.ENOENT, "missing image: ENOENT", e)
        garbage = os.path.join(tmp, "garbage.img")
        with open(garbage, "wb") as f:
            f.write(b"\0" * 8192)
        e = raises(lambda: dx.mount_image(garbage, "/x", dry_run=True))
        check(e is not None and e.errno != 0 and e.info.stage == "image",
              "not an image: OSError at the image stage", e)

        check(raises(lambda: dx.mount_image(img, "/x", exporter="gpu"), ValueError) is not None,
              "unknown exporter: ValueError")
        check(raises(lambda: dx.mount_image(img, "/x", heap="system"), ValueError) is not None,
              "heap= without exporter='heap': ValueError")
        e = raises(lambda: dx.umount(tmp))
        check(e is not None and e.errno == errno.EINVAL, "umount of a non-daxfs directory: EINVAL",
              e)

        # the context managers unmount on the way out, exception or not
        calls = []
        real = (dx.mount_image, dx.umount)
        dx.mount_image = lambda *a, **k: calls.append(("mount", a[1])) or "info"
        dx.umount = lambda t: calls.append(("umount", t))
        try:
            try:
                with dx.mounted_image(img, "/m") as i:
                    check(i == "info", "mounted_image yields mount_image's result")
                    raise KeyError("boom")
            except KeyError:
                pass
        finally:
            dx.mount_image, dx.umount = real
        check(calls == [("mount", "/m"), ("umount", "/m")],
              "mounted_image unmounts when the block raises", calls)
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
