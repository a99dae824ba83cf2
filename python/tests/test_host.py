#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host tests of the Python binding: no kernel module needed.

The ctypes structures against the C header (sizes and offsets, compiled
from the public header at test time), errors as OSError with the C errno,
dry runs of mount_image() on good and bad image files, argument checks and
the context managers' clean-up; export_dmabuf(): what the library refuses
before the kernel is asked, for a path, an fd and a file object, and its
result from a stand-in library.  TAP on stdout.

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


def export_checks(tmp):
    """export_dmabuf() without a daxfs mount: refusals, and the glue on a stand-in."""
    page = os.sysconf("SC_PAGESIZE")
    plain = os.path.join(tmp, "plain")
    with open(plain, "wb") as f:
        f.write(b"x" * 100)
    check("export_dmabuf" in dx.__all__ and "ExportedDmabuf" in dx.__all__,
          "export_dmabuf and ExportedDmabuf are exported")
    e = raises(lambda: dx.export_dmabuf(plain))
    check(e is not None and e.errno == errno.ENOTTY and "is not on a daxfs mount" in str(e)
          and e.filename == plain, "export_dmabuf(path) off daxfs: ENOTTY, the reason", e)
    with open(plain, "rb") as f:
        e = raises(lambda: dx.export_dmabuf(f.fileno()))
        check(e is not None and e.errno == errno.ENOTTY and "not on a daxfs mount" in str(e),
              "export_dmabuf(fd) off daxfs: ENOTTY", e)
        e = raises(lambda: dx.export_dmabuf(f))
        check(e is not None and e.errno == errno.ENOTTY and e.filename == plain,
              "export_dmabuf(file object) off daxfs: ENOTTY, named by the file", e)
        e = raises(lambda: dx.export_dmabuf(f, offset=page + 1))
        check(e is not None and e.errno == errno.EINVAL and
              "offset %d is not a multiple of the page size %d" % (page + 1, page) in str(e),
              "export_dmabuf: unaligned offset: EINVAL, the reason", e)
    e = raises(lambda: dx.export_dmabuf(-1))
    check(e is not None and e.errno == errno.EBADF, "export_dmabuf(-1): EBADF", e)
    e = raises(lambda: dx.export_dmabuf(os.path.join(tmp, "missing")))
    check(e is not None and e.errno == errno.ENOENT, "export_dmabuf of a missing file: ENOENT", e)
    for bad in ({"offset": -4096}, {"length": -1}, {"offset": 1 << 64}):
        check(raises(lambda: dx.export_dmabuf(plain, **bad), ValueError) is not None,
              "export_dmabuf(%r): ValueError" % bad)
    check(raises(lambda: dx.export_dmabuf(True), TypeError) is not None,
          "export_dmabuf(True): TypeError, not fd 1")

    # the glue: arguments in, (fd, size) out, from a stand-in for the library
    class Fake:
        calls = []

        def daxfs_export_dmabuf_path(self, path, offset, length, size):
            self.calls.append((path, offset, length))
            size._obj.value = 3 * page
            return 7

        daxfs_export_dmabuf = daxfs_export_dmabuf_path

    real = dx._lib
    dx._lib = Fake()
    try:
        r = dx.export_dmabuf(os.fsencode(plain), offset=page, length=2 * page + 1)
        r2 = dx.export_dmabuf(9)
    finally:
        dx._lib = real
    check(r == (7, 3 * page) and r.fd == 7 and r.size == 3 * page and
          isinstance(r, dx.ExportedDmabuf), "export_dmabuf returns ExportedDmabuf(fd, size)", r)
    check(Fake.calls == [(os.fsencode(plain), page, 2 * page + 1), (9, 0, 0)],
          "export_dmabuf passes path or fd, offset and length", Fake.calls)
    fd, size = r2
    check((fd, size) == (7, 3 * page), "ExportedDmabuf unpacks as (fd, size)", r2)


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
        export_checks(tmp)
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
