# SPDX-License-Identifier: LGPL-2.1-or-later
"""daxfs_dmabuf: mount daxfs images held in dma-bufs, from Python.

A thin layer over the C library libdaxfs-dmabuf (ctypes; no compiled
extension).  Every call that fails raises OSError with the errno of the C
call; its message adds the kernel's reason (daxfs_last_error) when there is
one, e.g.

    OSError(22, 'Invalid argument: daxfs (dmabuf:system ...): bad magic')

    import daxfs_dmabuf as dx
    with dx.mounted_image("weights.img", "/mnt/weights", exporter="heap"):
        arr = numpy.memmap("/mnt/weights/model.bin", mode="r")
        buf = dx.export_dmabuf("/mnt/weights/model.bin")   # (fd, size): a dma-buf

The library is found as $DAXFS_DMABUF_LIB, else by the system's linker
(libdaxfs-dmabuf.so.1).
"""
import collections
import contextlib
import ctypes
import ctypes.util
import errno as _errno
import os

__all__ = [
    "LoadInfo", "mount_dmabuf", "mount_image", "load_image", "probe_image",
    "umount", "alloc_heap", "alloc_udmabuf", "alloc_drm", "alloc_auto",
    "dmabuf_size", "fill", "mounted_image", "mounted_dmabuf", "version",
    "ExportedDmabuf", "export_dmabuf",
    "MS_NOSUID", "MS_NODEV", "MS_NOEXEC", "MS_NOATIME",
]

MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_NOATIME = 0x400

_EXPORTERS = {"auto": 0, "heap": 1, "udmabuf": 2, "drm": 3}
_LOAD_HUGETLB = 0x1
_LOAD_MOUNTD = 0x2
_LOAD_DRY_RUN = 0x4
_LOAD_NO_MEMCHECK = 0x8
_UDMABUF_HUGETLB = 0x1
_STAGES = ["args", "image", "memory", "alloc", "fill", "mount", "done"]

_UUID_LEN = 16
_LABEL_LEN = 64

_PROGRESS = ctypes.CFUNCTYPE(None, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_void_p)


class _MountOpts(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("offset", ctypes.c_uint64),
                ("flags", ctypes.c_ulong), ("options", ctypes.c_char_p)]


class _ImageDesc(ctypes.Structure):
    _fields_ = [("image_size", ctypes.c_uint64), ("version", ctypes.c_uint32),
                ("inode_count", ctypes.c_uint32),
                ("uuid", ctypes.c_uint8 * _UUID_LEN),
                ("label", ctypes.c_char * (_LABEL_LEN + 1))]


class _LoadInfo(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("stage", ctypes.c_uint),
                ("buffer_size", ctypes.c_uint64), ("desc", _ImageDesc),
                ("exporter", ctypes.c_char * 128)]


class _LoadOpts(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("exporter", ctypes.c_uint),
                ("flags", ctypes.c_uint), ("exporter_arg", ctypes.c_char_p),
                ("offset", ctypes.c_uint64), ("mount_flags", ctypes.c_ulong),
                ("mount_options", ctypes.c_char_p), ("mountd_socket", ctypes.c_char_p),
                ("progress", _PROGRESS), ("progress_arg", ctypes.c_void_p),
                ("info", ctypes.POINTER(_LoadInfo))]


class LoadInfo:
    """What mount_image()/load_image() found and did (also on failure: OSError.info)."""

    def __init__(self, raw):
        self.stage = _STAGES[raw.stage] if raw.stage < len(_STAGES) else str(raw.stage)
        self.buffer_size = raw.buffer_size
        self.image_size = raw.desc.image_size
        self.version = raw.desc.version
        self.inode_count = raw.desc.inode_count
        self.uuid = bytes(raw.desc.uuid)
        self.label = raw.desc.label.decode(errors="replace")
        self.exporter = raw.exporter.decode(errors="replace")

    def __repr__(self):
        return ("LoadInfo(stage=%r, image_size=%d, buffer_size=%d, inodes=%d, label=%r, "
                "exporter=%r)" % (self.stage, self.image_size, self.buffer_size,
                                  self.inode_count, self.label, self.exporter))


class ExportedDmabuf(collections.namedtuple("ExportedDmabuf", ["fd", "size"])):
    """What export_dmabuf() returns: a (fd, size) tuple with names.

    fd is the new dma-buf's file descriptor (close-on-exec), the caller's to
    close (os.close(e.fd)); size its size in bytes, the exported length
    rounded up to the page size.
    """
    __slots__ = ()


def _load():
    path = os.environ.get("DAXFS_DMABUF_LIB") or ctypes.util.find_library("daxfs-dmabuf") \
        or "libdaxfs-dmabuf.so.1"
    lib = ctypes.CDLL(path, use_errno=True)
    sig = {
        "daxfs_mount_dmabuf_opts": (ctypes.c_int, [ctypes.c_int, ctypes.c_char_p,
                                                   ctypes.POINTER(_MountOpts)]),
        "daxfs_umount": (ctypes.c_int, [ctypes.c_char_p]),
        "daxfs_last_error": (ctypes.c_char_p, []),
        "daxfs_version": (ctypes.c_char_p, []),
        "daxfs_dmabuf_alloc_heap": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_size_t]),
        "daxfs_dmabuf_alloc_udmabuf": (ctypes.c_int, [ctypes.c_size_t, ctypes.c_uint]),
        "daxfs_dmabuf_alloc_drm": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_size_t]),
        "daxfs_dmabuf_alloc_auto": (ctypes.c_int, [ctypes.c_size_t, ctypes.c_char_p,
                                                   ctypes.c_size_t]),
        "daxfs_dmabuf_size": (ctypes.c_int64, [ctypes.c_int]),
        "daxfs_dmabuf_fill": (ctypes.c_int, [ctypes.c_int, ctypes.c_int, ctypes.c_long,
                                             _PROGRESS, ctypes.c_void_p]),
        "daxfs_image_probe": (ctypes.c_int, [ctypes.c_int, ctypes.c_long,
                                             ctypes.POINTER(_ImageDesc)]),
        "daxfs_mount_image": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_char_p,
                                             ctypes.POINTER(_LoadOpts)]),
        "daxfs_load_image": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(_LoadOpts)]),
        # 1.3.0
        "daxfs_export_dmabuf": (ctypes.c_int, [ctypes.c_int, ctypes.c_uint64, ctypes.c_uint64,
                                               ctypes.POINTER(ctypes.c_uint64)]),
        "daxfs_export_dmabuf_path": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_uint64,
                                                    ctypes.c_uint64,
                                                    ctypes.POINTER(ctypes.c_uint64)]),
    }
    for name, (res, args) in sig.items():
        f = getattr(lib, name, None)
        if f is None and name in _SINCE_1_3:
            continue    # an older library: the rest works, export_dmabuf() says why not
        f = getattr(lib, name)
        f.restype = res
        f.argtypes = args
    return lib


_SINCE_1_3 = ("daxfs_export_dmabuf", "daxfs_export_dmabuf_path")


_lib = None


def _L():
    global _lib
    if _lib is None:
        _lib = _load()
    return _lib


def _b(s):
    if s is None:
        return None
    return os.fsencode(s)


def _check(ret, what, info=None):
    """ret < 0 is -errno: raise OSError with the kernel's reason, if any."""
    if ret >= 0:
        return ret
    err = -ret
    msg = os.strerror(err)
    why = _L().daxfs_last_error()
    if why:
        msg = "%s: %s" % (msg, why.decode(errors="replace"))
    e = OSError(err, msg, what)
    e.info = info
    raise e


def version():
    """The C library's version string."""
    return _L().daxfs_version().decode()


def _flags(nosuid, nodev, noexec, noatime):
    return ((MS_NOSUID if nosuid else 0) | (MS_NODEV if nodev else 0) |
            (MS_NOEXEC if noexec else 0) | (MS_NOATIME if noatime else 0))


def mount_dmabuf(fd, target, offset=0, options=None, nosuid=True, nodev=True,
                 noexec=False, noatime=False):
    """Mount the daxfs image in dma-buf @fd (at @offset) on @target, read-only."""
    o = _MountOpts(ctypes.sizeof(_MountOpts), offset,
                   _flags(nosuid, nodev, noexec, noatime), _b(options))
    _check(_L().daxfs_mount_dmabuf_opts(int(fd), _b(target), ctypes.byref(o)), target)


def _load_opts(exporter, heap, device, hugetlb, offset, options, flags, progress,
               mountd, mountd_socket, dry_run, memcheck, info):
    if exporter not in _EXPORTERS:
        raise ValueError("exporter must be one of %s, not %r" % (sorted(_EXPORTERS), exporter))
    if heap is not None and exporter != "heap":
        raise ValueError("heap= goes with exporter='heap'")
    if device is not None and exporter != "drm":
        raise ValueError("device= goes with exporter='drm'")
    lf = (_LOAD_HUGETLB if hugetlb else 0) | (_LOAD_MOUNTD if mountd else 0) | \
         (_LOAD_DRY_RUN if dry_run else 0) | (0 if memcheck else _LOAD_NO_MEMCHECK)
    cb = _PROGRESS()
    if progress is not None:
        cb = _PROGRESS(lambda done, total, _arg: progress(done, total))
    o = _LoadOpts(ctypes.sizeof(_LoadOpts), _EXPORTERS[exporter], lf,
                  _b(heap if exporter == "heap" else device), offset, flags,
                  _b(options), _b(mountd_socket), cb, None, ctypes.pointer(info))
    return o, cb


def mount_image(image, target, exporter="auto", heap=None, device=None, hugetlb=False,
                offset=0, options=None, nosuid=True, nodev=True, noexec=False,
                noatime=False, progress=None, mountd=False, mountd_socket=None,
                dry_run=False, memcheck=True):
    """Validate image file @image, copy it into a new dma-buf and mount it on @target.

    exporter: "auto", "heap" (heap=NAME, default "system"), "udmabuf"
    (hugetlb=True for 2 MiB pages) or "drm" (device="/dev/dri/card0").
    progress(done, total) is called during the copy.  mountd=True asks
    daxfs-mountd (for unprivileged callers).  dry_run=True validates and
    sizes only.  Returns a LoadInfo; on failure the OSError has .info.
    """
    info = _LoadInfo()
    info.size = ctypes.sizeof(_LoadInfo)
    o, cb = _load_opts(exporter, heap, device, hugetlb, offset, options,
                       _flags(nosuid, nodev, noexec, noatime), progress, mountd,
                       mountd_socket, dry_run, memcheck, info)
    ret = _L().daxfs_mount_image(_b(image), _b(target), ctypes.byref(o))
    del cb
    _check(ret, image, LoadInfo(info))
    return LoadInfo(info)


def load_image(image, exporter="auto", heap=None, device=None, hugetlb=False, offset=0,
               progress=None, dry_run=False, memcheck=True):
    """mount_image() without the mount: returns (dma-buf fd, LoadInfo); close the fd."""
    info = _LoadInfo()
    info.size = ctypes.sizeof(_LoadInfo)
    o, cb = _load_opts(exporter, heap, device, hugetlb, offset, None, 0, progress, False,
                       None, dry_run, memcheck, info)
    ret = _L().daxfs_load_image(_b(image), ctypes.byref(o))
    del cb
    fd = _check(ret, image, LoadInfo(info))
    return fd, LoadInfo(info)


def probe_image(fd, offset=0):
    """The superblock of the image at @offset of file or buffer @fd, as a LoadInfo."""
    info = _LoadInfo()
    _check(_L().daxfs_image_probe(int(fd), offset, ctypes.byref(info.desc)), "probe")
    info.stage = _STAGES.index("image")
    return LoadInfo(info)


def umount(target):
    """Unmount the daxfs mount at @target."""
    _check(_L().daxfs_umount(_b(target)), target)


def alloc_heap(size, name="system"):
    """A new dma-buf of @size bytes from DMA heap @name; returns its fd."""
    return _check(_L().daxfs_dmabuf_alloc_heap(_b(name), size), name)


def alloc_udmabuf(size, hugetlb=False):
    """A new udmabuf of @size bytes (hugetlb: 2 MiB pages); returns its fd."""
    return _check(_L().daxfs_dmabuf_alloc_udmabuf(size, _UDMABUF_HUGETLB if hugetlb else 0),
                  "udmabuf")


def alloc_drm(size, device="/dev/dri/card0"):
    """A new dumb buffer of DRM device @device, exported; returns its fd."""
    return _check(_L().daxfs_dmabuf_alloc_drm(_b(device), size), device)


def alloc_auto(size):
    """A new dma-buf from the first exporter that works; returns (fd, which)."""
    chosen = ctypes.create_string_buffer(128)
    fd = _check(_L().daxfs_dmabuf_alloc_auto(size, chosen, len(chosen)), "auto")
    return fd, chosen.value.decode()


def dmabuf_size(fd):
    """The size of dma-buf @fd in bytes."""
    return _check(_L().daxfs_dmabuf_size(int(fd)), "dmabuf")


def fill(fd, image_fd, offset=0, progress=None):
    """Copy the image read from @image_fd into dma-buf @fd at @offset."""
    cb = _PROGRESS()
    if progress is not None:
        cb = _PROGRESS(lambda done, total, _arg: progress(done, total))
    ret = _L().daxfs_dmabuf_fill(int(fd), int(image_fd), offset, cb, None)
    del cb
    _check(ret, "fill")


def export_dmabuf(path_or_fd, offset=0, length=0):
    """A file of a daxfs mount as a new read-only dma-buf: an ExportedDmabuf (fd, size).

    path_or_fd: a path (str, bytes, os.PathLike), an open file descriptor
    or a file object (its fileno()) of a regular file on a daxfs mount of a
    dma-buf.  The buffer holds the file's bytes [offset, offset + length)
    (length 0: to the end of the file; offset a multiple of the page size),
    made of the mounted buffer's own pages: no copy.  Its size is the
    length rounded up to the page size.  Close the fd when done; the buffer
    outlives the mount.  Errors: OSError as daxfs_export_dmabuf(3) (EINVAL
    bad range, ENOTTY not a daxfs file, EOPNOTSUPP not a dma-buf mount...),
    ValueError for an offset or length outside [0, 2**64).
    """
    if not (0 <= offset < 1 << 64 and 0 <= length < 1 << 64):
        raise ValueError("offset and length must be in [0, 2**64), not %r and %r"
                         % (offset, length))
    lib = _L()
    if not hasattr(lib, "daxfs_export_dmabuf") or not hasattr(lib, "daxfs_export_dmabuf_path"):
        raise OSError(_errno.ENOSYS, "libdaxfs-dmabuf %s has no daxfs_export_dmabuf "
                      "(1.3.0 or later needed)" % version())
    size = ctypes.c_uint64(0)
    if isinstance(path_or_fd, int) and not isinstance(path_or_fd, bool):
        fd = _check(lib.daxfs_export_dmabuf(path_or_fd, offset, length, ctypes.byref(size)),
                    "fd %d" % path_or_fd)
    elif hasattr(path_or_fd, "fileno"):
        f = path_or_fd.fileno()
        fd = _check(lib.daxfs_export_dmabuf(f, offset, length, ctypes.byref(size)),
                    getattr(path_or_fd, "name", "fd %d" % f))
    else:
        path = os.fspath(path_or_fd)
        fd = _check(lib.daxfs_export_dmabuf_path(_b(path), offset, length, ctypes.byref(size)),
                    path)
    return ExportedDmabuf(fd, size.value)


@contextlib.contextmanager
def mounted_image(image, target, **kw):
    """mount_image() for a with block: unmounted at its end, also on an exception."""
    info = mount_image(image, target, **kw)
    try:
        yield info
    finally:
        umount(target)


@contextlib.contextmanager
def mounted_dmabuf(fd, target, **kw):
    """mount_dmabuf() for a with block."""
    mount_dmabuf(fd, target, **kw)
    try:
        yield target
    finally:
        umount(target)


# errno names for callers that compare: dx.errno.ENOENT
errno = _errno
