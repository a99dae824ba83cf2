#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""numpy-mmap.py: numpy arrays straight over a safetensors file, no copy.

    numpy-mmap.py [--tensor NAME] [--all] FILE

Maps FILE (on a daxfs mount, typically) with mmap, parses the safetensors
header with the json module, and makes the tensor an ndarray with
np.frombuffer over the mapping, and once more with np.memmap.  Then it shows
that nothing was copied:

  - the array does not own its data and its base is the mmap object;
  - its data pointer is the mapping's address plus the tensor's file offset;
  - with /proc/self/pagemap (root): each page of a private mapping of the
    file and of np.memmap(mode="c") has the same physical frame (on daxfs:
    the dma-buf's pages).  A shared mapping (the array's, np.memmap's
    mode="r") is a PFN map on daxfs (VmFlags "pf" in smaps: the driver's
    pages, which get_user_pages may not pin), and pagemap does not report
    PFN maps, so the private ones, filled by the same driver code from the
    same buffer offsets, are what pagemap can show;

and that the values are right: zlib.crc32 over the array's memory (a
memoryview, again no copy) equals the file's "crc32:NAME" metadata, and the
values equal what examples/gen-safetensors computes for that tensor.

Default tensor: the largest F32/F16/BF16 one.  --all checks every tensor's
CRC-32 (views only).  Exit status 0 iff every check passed.
"""
import argparse
import importlib.machinery
import importlib.util
import json
import mmap
import os
import struct
import sys
import zlib

import numpy as np

NP_DTYPE = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": np.uint16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U64": np.uint64, "U32": np.uint32, "U16": np.uint16, "U8": np.uint8, "BOOL": np.bool_,
}
PAGE = os.sysconf("SC_PAGE_SIZE")
failures = 0


def check(ok, what):
    global failures
    print("  %s %s" % ("ok:    " if ok else "FAILED:", what))
    if not ok:
        failures += 1


def header(mm):
    (n,) = struct.unpack_from("<Q", mm, 0)
    if n > len(mm) - 8:
        raise ValueError("header length %d beyond the file" % n)
    h = json.loads(bytes(mm[8:8 + n]))
    return 8 + n, h


def pfns(addr, length):
    """Physical frame numbers of the pages of [addr, addr+length), None if not readable."""
    out = []
    with open("/proc/self/pagemap", "rb") as f:
        for page in range(addr // PAGE, (addr + length + PAGE - 1) // PAGE):
            f.seek(page * 8)
            (e,) = struct.unpack("<Q", f.read(8))
            if not e >> 63 & 1:
                return None  # not present
            out.append(e & ((1 << 55) - 1))
    return out


def as_float(a, dtype):
    if dtype == "BF16":
        return (a.astype(np.uint32) << np.uint32(16)).view(np.float32)
    return a.astype(np.float32)


def generator():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen-safetensors")
    if not os.path.exists(path):  # installed as build/vmtests/...: use the repo's
        path = os.path.join(os.environ.get("DAXFS_SRC", ""), "examples", "gen-safetensors")
    loader = importlib.machinery.SourceFileLoader("gen_safetensors", path)
    spec = importlib.util.spec_from_loader("gen_safetensors", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def one_tensor(path, fd, mm, data_start, h, meta, name):
    t = h[name]
    begin, end = t["data_offsets"]
    dt = NP_DTYPE[t["dtype"]]
    count = (end - begin) // np.dtype(dt).itemsize
    print("%s: tensor %s %s %s, %d bytes at file offset %d" %
          (path, name, t["dtype"], t["shape"], end - begin, data_start + begin))

    # the zero-copy view
    arr = np.frombuffer(mm, dtype=dt, count=count, offset=data_start + begin).reshape(t["shape"])
    base = np.frombuffer(mm, dtype=np.uint8)  # the whole mapping, also a view
    map_addr = base.ctypes.data
    check(not arr.flags.owndata, "array does not own its data (flags.owndata is False)")
    b = arr
    while isinstance(b, np.ndarray):  # reshape adds a view level
        b = b.base
    check(isinstance(b, memoryview) and b.obj is mm,
          "array's base is a memoryview of the mmap object")
    check(arr.ctypes.data == map_addr + data_start + begin,
          "array data at mapping 0x%x + offset %d" % (map_addr, data_start + begin))
    check(not arr.flags.writeable, "array is read-only (the mount is read-only)")

    # values: checksum over the array's own memory, then against the generator
    crc = "%08x" % zlib.crc32(memoryview(arr).cast("B"))
    want = meta.get("crc32:" + name)
    check(crc == want, "crc32 of the array's memory %s == metadata %s" % (crc, want))
    try:
        gen = generator()
        expect = gen.tensor_bytes(int(meta.get("seed", "1")), name, t["dtype"], count)
        check(np.array_equal(arr.reshape(-1).view(np.uint8), expect.view(np.uint8)),
              "values equal the generator's (%s ...)" % ", ".join(
                  "%g" % v for v in as_float(arr.reshape(-1)[:3], t["dtype"])))
    except (OSError, ImportError, KeyError) as e:
        check(False, "generator comparison: %s" % e)

    # np.memmap: the same without the explicit mmap
    mp = np.memmap(path, dtype=dt, mode="r", offset=data_start + begin, shape=tuple(t["shape"]))
    check(isinstance(mp.base, mmap.mmap) and not mp.flags.owndata,
          "np.memmap array's base is an mmap too")
    check(np.array_equal(mp.reshape(-1).view(np.uint8), arr.reshape(-1).view(np.uint8)),
          "np.memmap sees the same values")

    # physical frames: two private mappings and np.memmap(mode="c") share memory
    if os.geteuid() == 0 and os.path.exists("/proc/self/pagemap"):
        mm2 = mmap.mmap(fd, 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ)
        mm3 = mmap.mmap(fd, 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ)
        mc = np.memmap(path, dtype=np.uint8, mode="c", offset=data_start + begin,
                       shape=(end - begin,))
        second = np.frombuffer(mm2, dtype=np.uint8)
        third = np.frombuffer(mm3, dtype=np.uint8)
        n = min(end - begin, 64 * PAGE)
        for off in list(range(0, n, PAGE)) + [n - 1]:  # fault them in
            _ = int(second[data_start + begin + off]) + int(third[data_start + begin + off])
            _ += int(mc[off])
        p1 = pfns(second.ctypes.data + data_start + begin, n)
        p2 = pfns(third.ctypes.data + data_start + begin, n)
        p3 = pfns(mc.ctypes.data, n)
        same = p1 is not None and p1 == p2 == p3 and any(p1)
        check(same, "pagemap: %d pages of two private mappings and np.memmap(mode='c') "
              "have the same physical frames (first pfn 0x%x)" %
              (len(p1 or []), (p1 or [0])[0]))
        check(np.array_equal(second[data_start + begin:data_start + end],
                             arr.reshape(-1).view(np.uint8)),
              "the shared array and the private mappings hold the same bytes")
        del second, third, mc
        mm2.close()
        mm3.close()
    else:
        print("  skip:   pagemap check needs root")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tensor", action="append", help="tensor to view (repeatable)")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("file")
    a = ap.parse_args()

    fd = os.open(a.file, os.O_RDONLY)
    mm = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
    data_start, h = header(mm)
    meta = h.pop("__metadata__", {})
    if a.tensor:
        names = a.tensor
    else:
        floats = [k for k, v in h.items() if v["dtype"] in ("F32", "F16", "BF16")]
        names = [max(floats, key=lambda k: h[k]["data_offsets"][1] - h[k]["data_offsets"][0])]
    for name in names:
        one_tensor(a.file, fd, mm, data_start, h, meta, name)

    if a.all:
        bad = 0
        for k, v in h.items():
            b0, b1 = v["data_offsets"]
            view = memoryview(mm)[data_start + b0:data_start + b1]
            if "%08x" % zlib.crc32(view) != meta.get("crc32:" + k):
                bad += 1
            view.release()
        check(bad == 0, "crc32 of all %d tensors through memoryviews" % len(h))

    # views still reference the mapping: leave it to the interpreter's exit
    os.close(fd)
    print("numpy-mmap: %s" % ("all checks passed" if not failures else "%d checks FAILED" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
