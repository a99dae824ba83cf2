#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM test of the Python binding (root, daxfs.ko loaded): TAP on stdout.

For each exporter the kernel has (heap, udmabuf, drm: vgem), an image of a
generated tree is mounted with mount_image(); the bytes read back through
read(), mmap and numpy.memmap; the shared mapping is a PFN map of the
driver (VmFlags "pf") and touching every page adds no page cache; then the
mount goes.  Also: the context managers, alloc_auto() + fill() +
mount_dmabuf(), and the errors (a truncated image, a file that is not a
dma-buf) as OSError with the right errno, nothing left mounted.
export_dmabuf(): a file of a mount (by path and by file object, whole and a
range) as a dma-buf whose mmap shows the file's bytes, read-only, still
readable after the umount; its refusals as OSError with errno and reason.

Env: DAXFS_KERNEL, CI, MKDAXFS, DAXFS_DMABUF_LIB (set by python-binding).
"""
import errno
import mmap
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import daxfs_dmabuf as dx  # noqa: E402

n = 0
failed = 0
CI = os.environ.get("CI") == "true"
KERNEL = os.environ.get("DAXFS_KERNEL", "?")
SIZE = 8 << 20


def check(cond, what, detail=None):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, what))
    if not cond:
        failed += 1
        if detail is not None:
            for line in str(detail).splitlines():
                print("#   " + line)
    return cond


def skip(what, why):
    global n
    n += 1
    print("ok %d - %s # SKIP %s" % (n, what, why))


def mounted(target):
    with open("/proc/self/mounts") as f:
        return any(l.split()[1] == target for l in f)


def meminfo(key):
    with open("/proc/meminfo") as f:
        for l in f:
            if l.startswith(key + ":"):
                return int(l.split()[1]) * 1024
    return -1


def vmflags(addr):
    with open("/proc/self/smaps") as f:
        cur = False
        for l in f:
            head = l.split()[0]
            if "-" in head and ":" not in head:
                cur = int(head.split("-")[0], 16) == addr
            elif cur and l.startswith("VmFlags:"):
                return l.split()[1:]
    return []


def vgem_card():
    for c in sorted(os.listdir("/sys/class/drm")):
        dev = os.path.join("/sys/class/drm", c, "device")
        if c.startswith("card") and "vgem" in os.path.basename(os.path.realpath(dev)):
            return "/dev/dri/" + c
    return None


def exporters():
    """(name, kwargs for mount_image, expected on this kernel)."""
    out = [("heap", {"exporter": "heap"}, os.path.exists("/dev/dma_heap/system"),
            KERNEL != "bookworm"),
           ("udmabuf", {"exporter": "udmabuf"}, os.path.exists("/dev/udmabuf"),
            KERNEL != "bookworm")]
    card = vgem_card()
    out.append(("vgem", {"exporter": "drm", "device": card}, card is not None, True))
    return out


def pattern(size):
    return bytes((i * 7 + (i >> 12)) & 0xff for i in range(4096 * 3)) * (size // (4096 * 3)) + \
        bytes(size % (4096 * 3))


def one_exporter(name, kw, img, mnt, want):
    info = dx.mount_image(img, mnt, **kw)
    if not check(mounted(mnt) and info.stage == "done",
                 "%s: mount_image mounted it (%r)" % (name, info), info):
        return
    check(info.image_size == os.path.getsize(img), "%s: LoadInfo.image_size is the file's" % name)
    path = os.path.join(mnt, "model.bin")
    with open(path, "rb") as f:
        check(f.read() == want, "%s: read() gives the file's bytes" % name)
        cached0, shmem0 = meminfo("Cached"), meminfo("Shmem")
        m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
        try:
            check(m[:] == want, "%s: mmap gives the file's bytes" % name)
            grew = (meminfo("Cached") - cached0) + (meminfo("Shmem") - shmem0)
            check(grew < SIZE // 4, "%s: touching every page added %d bytes of page cache "
                  "(zero copy: < %d)" % (name, grew, SIZE // 4))
        finally:
            m.close()
    try:
        import numpy as np
        a = np.memmap(path, dtype=np.uint8, mode="r")
        check(bytes(a[:4096]) == want[:4096] and int(a.sum(dtype=np.uint64)) ==
              sum(want), "%s: numpy.memmap sees the same bytes" % name)
        flags = vmflags(a.ctypes.data - (a.ctypes.data % 4096))
        check("pf" in flags, "%s: numpy.memmap's mapping is the driver's PFN map (VmFlags %s)"
              % (name, " ".join(flags)))
        del a
    except ImportError:
        (check(False, "%s: numpy importable" % name) if CI else
         skip("%s: numpy.memmap" % name, "python3-numpy not installed"))
    dx.umount(mnt)
    check(not mounted(mnt), "%s: umount() removed the mount" % name)


def export_checks(img, mnt, want):
    """export_dmabuf() on a mount of @img, whose model.bin holds @want."""
    page = mmap.PAGESIZE
    with dx.mounted_image(img, mnt) as info:
        path = os.path.join(mnt, "model.bin")
        e = dx.export_dmabuf(path)
        check(isinstance(e, dx.ExportedDmabuf) and e.size == len(want) and
              dx.dmabuf_size(e.fd) == e.size,
              "export_dmabuf(path): a dma-buf of the file's size (%s, %s)" % (e, info.exporter))
        m = mmap.mmap(e.fd, e.size, prot=mmap.PROT_READ)
        check(m[:] == want, "export_dmabuf: the buffer's mmap shows the file's bytes")
        try:
            mmap.mmap(e.fd, page, prot=mmap.PROT_READ | mmap.PROT_WRITE)
            check(False, "export_dmabuf: a writable shared mapping is refused")
        except OSError as err:
            check(err.errno == errno.EACCES, "export_dmabuf: a writable shared mapping: EACCES",
                  err)
        with open(path, "rb") as f:
            fd, size = dx.export_dmabuf(f, offset=3 * page, length=2 * page + 5)
            try:
                check(size == 3 * page, "export_dmabuf(file, range): the length in whole pages "
                      "(%d)" % size)
                with mmap.mmap(fd, size, prot=mmap.PROT_READ) as r:
                    check(r[:] == want[3 * page:6 * page],
                          "export_dmabuf(file, range): the range's bytes")
            finally:
                os.close(fd)
    check(not mounted(mnt), "export_dmabuf: unmounted while the buffer lives")
    check(m[:page] == want[:page], "export_dmabuf: the buffer's mapping still reads after umount")
    m.close()
    with mmap.mmap(e.fd, e.size, prot=mmap.PROT_READ) as m2:
        check(m2[-page:] == want[-page:], "export_dmabuf: the buffer maps again after umount")
    os.close(e.fd)


def export_refusals(img, mnt, want):
    """export_dmabuf()'s refusals: OSError with the errno and the library's reason."""
    with dx.mounted_image(img, mnt):
        path = os.path.join(mnt, "model.bin")
        for target, kw, err, why in ((path, {"offset": len(want)}, errno.EINVAL,
                                      "is at or past the end of the file"),
                                     (path, {"offset": 5}, errno.EINVAL,
                                      "is not a multiple of the page size"),
                                     (path, {"length": len(want) + mmap.PAGESIZE}, errno.EINVAL,
                                      "ends past the file's last page"),
                                     (os.path.join(mnt, "sub"), {}, errno.ENOTTY,
                                      "is a directory, not a regular file"),
                                     (img, {}, errno.ENOTTY, "is not on a daxfs mount")):
            try:
                os.close(dx.export_dmabuf(target, **kw).fd)
                check(False, "export_dmabuf(%s, %r): refused" % (target, kw))
            except OSError as e:
                check(e.errno == err and why in str(e),
                      "export_dmabuf(%s, %r): %s (%s)" % (os.path.basename(target), kw,
                                                          errno.errorcode[err], e))


def main():
    print("TAP version 13")
    mk = os.environ["MKDAXFS"]
    work = tempfile.mkdtemp(prefix="daxfs-py-")
    try:
        src, mnt = os.path.join(work, "src"), os.path.join(work, "mnt")
        os.makedirs(os.path.join(src, "sub"))
        os.makedirs(mnt)
        want = pattern(SIZE)
        with open(os.path.join(src, "model.bin"), "wb") as f:
            f.write(want)
        with open(os.path.join(src, "sub", "note"), "w") as f:
            f.write("hello\n")
        img = os.path.join(work, "img")
        subprocess.run([mk, img, src], check=True, capture_output=True)
        check(dx.version().count(".") == 2, "version() %s" % dx.version())

        for name, kw, have, expected in exporters():
            if not have:
                if CI and expected:
                    check(False, "%s: exporter present on %s" % (name, KERNEL))
                else:
                    skip(name, "no %s exporter on %s" % (name, KERNEL))
                continue
            try:
                one_exporter(name, kw, img, mnt, want)
            except OSError as e:
                check(False, "%s: no error" % name, "%r %s" % (e, getattr(e, "info", "")))
                if mounted(mnt):
                    subprocess.run(["umount", mnt])

        # the context manager
        with dx.mounted_image(img, mnt) as info:
            check(mounted(mnt) and os.path.exists(os.path.join(mnt, "sub", "note")),
                  "mounted_image: mounted inside the block (%s)" % info.exporter)
        check(not mounted(mnt), "mounted_image: unmounted after the block")

        # a buffer of our own: alloc_auto, fill, mount_dmabuf
        fd, which = dx.alloc_auto(os.path.getsize(img))
        try:
            with open(img, "rb") as f:
                dx.fill(fd, f.fileno())
            check(dx.dmabuf_size(fd) >= os.path.getsize(img), "alloc_auto (%s) + fill" % which)
            with dx.mounted_dmabuf(fd, mnt):
                with open(os.path.join(mnt, "sub", "note")) as f:
                    check(f.read() == "hello\n", "mounted_dmabuf: the tree is there")
            check(not mounted(mnt), "mounted_dmabuf: unmounted after the block")
        finally:
            os.close(fd)

        # files back out as dma-bufs
        export_checks(img, mnt, want)
        export_refusals(img, mnt, want)

        # errors
        half = os.path.join(work, "half.img")
        with open(img, "rb") as f, open(half, "wb") as g:
            g.write(f.read(os.path.getsize(img) // 2))
        try:
            dx.mount_image(half, mnt)
            check(False, "truncated image: refused")
        except OSError as e:
            check(e.info.stage == "image" and "truncated" in str(e) and not mounted(mnt),
                  "truncated image: OSError (%s) at the image stage, nothing mounted" % e)
        with open(img, "rb") as f:
            try:
                dx.mount_dmabuf(f.fileno(), mnt)
                check(False, "mount_dmabuf of a regular file: refused")
            except OSError as e:
                check(e.errno == errno.EINVAL and not mounted(mnt),
                      "mount_dmabuf of a regular file: EINVAL (%s)" % e)
    finally:
        if mounted(os.path.join(work, "mnt")):
            subprocess.run(["umount", os.path.join(work, "mnt")])
        shutil.rmtree(work, ignore_errors=True)
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
