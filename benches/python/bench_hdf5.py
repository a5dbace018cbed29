#!/usr/bin/env python3
"""The HDF5 workloads of `benches/hdf5/` (W1-W3) with Python anamnesis 1.0.4.

    .venv/bin/python benches/python/bench_hdf5.py --json OUT.json [--quick] [--dir DIR]

Writes the medians as JSON in the schema of the Rust harness (`ANAM_BENCH_JSON`), with
`impl` = `python`. Objects are written as the anamnesis tutorials do
(`obj.to_hdf5(h5py.File(path, 'w').create_group(name))`) and read with
`obj_from_hdf5file(path, name)`.

* W1: a collection of N objects (name, value, 3-element array), with and without the
  array; the reader of anamnesis 1.0.4 is quadratic in N (it lists a list group's members
  once per item), so N = 20,000 is read once, in a child process, with a time limit
  (300 s; "> 300 s" when it runs out).
* W2: a 4096x4096 float64 and a 2048x4096 complex64 array; also the peak RSS of a child
  process writing and reading them (`/usr/bin/time -v`).
* W3: an object 200 levels deep, a dict of 10,000 entries, a list of 10,000 mixed items;
  reads in a child process with a time limit.
* W5: a 4096x8192 float64 array that compresses (256 MiB), written with h5py alone
  (anamnesis has no compression) with gzip level 1 after shuffle, in chunks of 16x8192 as
  the Rust harness does, and read back with `dataset[()]`; also the file's size. Its
  records have `impl` = `h5py`.

`--only W5` (a comma-separated list) runs only those workloads.

`--quick` (or ANAM_BENCH_QUICK=1) uses the reduced sizes of the Rust harness.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
from anamnesis import obj_from_hdf5file

import bench_classes as bc

HERE = os.path.abspath(__file__)


def sizes(quick):
    """The sizes of the mode, then ANAM_BENCH_W3_MAP and ANAM_BENCH_W3_LIST if set (as the
    Rust harness)."""
    if quick:
        s = dict(w1_n=500, w1_big=2000, w1_big_timeout=60, w2_side=1024, w3_depth=200,
                 w3_map=1000, w3_list=1000, reps=3, budget=5.0, w3_timeout=60, w5_rows=512)
    else:
        s = dict(w1_n=2000, w1_big=20000, w1_big_timeout=300, w2_side=4096, w3_depth=200,
                 w3_map=10000, w3_list=10000, reps=5, budget=30.0, w3_timeout=120,
                 w5_rows=4096)
    for key in ("w3_map", "w3_list"):
        value = os.environ.get("ANAM_BENCH_" + key.upper())
        if value:
            s[key] = int(value)
    return s


# --- data (as in benches/hdf5/workloads.rs) -----------------------------------------------


def small_collection(n, with_array=True):
    if with_array:
        return bc.SmallCollection([
            bc.SmallObject(name="object %d" % i, value=i,
                           data=np.array([i, i + 0.5, -float(i)], dtype=np.float64))
            for i in range(n)])
    return bc.SmallCollectionNoArray([
        bc.SmallObjectNoArray(name="object %d" % i, value=i) for i in range(n)])


def big_arrays(side):
    real = np.arange(side * side, dtype=np.float64).reshape(side, side) * 0.25
    i, j = np.meshgrid(np.arange(side // 2, dtype=np.float32),
                       np.arange(side, dtype=np.float32), indexing="ij")
    cplx = (i + 1j * (j * 0.5)).astype(np.complex64)
    return bc.BigArrays(real=real, cplx=cplx)


# W5's chunk shape (benches/hdf5/workloads.rs, W5_CHUNKS).
W5_CHUNKS = (16, 8192)


def compressible(rows):
    """W5's array: ((7 i + j) mod 1024) / 4, rows x 8192 (as `compressible` in Rust)."""
    i = np.arange(rows, dtype=np.int64)[:, None]
    j = np.arange(W5_CHUNKS[1], dtype=np.int64)[None, :]
    return ((i * 7 + j) % 1024).astype(np.float64) * 0.25


def w5_write(path, data):
    with h5py.File(path, "w") as f:
        g = f.create_group("compressed")
        g.attrs["class"] = "bench_classes.CompressedArray"
        g.create_dataset("data", data=data, chunks=W5_CHUNKS, compression="gzip",
                         compression_opts=1, shuffle=True)


def w5_read(path):
    with h5py.File(path, "r") as f:
        return f["compressed/data"][()]


def deep_tree(depth):
    node = bc.Node(level=depth - 1, child=None)
    for level in range(depth - 2, -1, -1):
        node = bc.Node(level=level, child=node)
    return node


def wide_map(n):
    return bc.MapHolder(entries={"k%06d" % i: i * 3 for i in range(n)})


def list_item(i):
    k = i % 4
    if k == 0:
        return i
    if k == 1:
        return i + 0.5
    if k == 2:
        return "item %d" % i
    return bc.Item(name="obj %d" % i, value=i)


def mixed_list(n):
    return bc.ListHolder(items=[list_item(i) for i in range(n)])


# --- I/O -----------------------------------------------------------------------------------


def write(path, group, obj):
    f = h5py.File(path, "w")
    obj.to_hdf5(f.create_group(group))
    f.close()


def read(path, group):
    return obj_from_hdf5file(path, group)


def remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def timed_runs(op, reps, budget, prepare=lambda: None):
    """Up to `reps` timings of `op`; stops early (after one) once they add up to `budget`."""
    samples = []
    while len(samples) < reps and (not samples or sum(samples) < budget):
        prepare()
        start = time.perf_counter()
        op()
        samples.append(time.perf_counter() - start)
    return samples


def rec(out, group, case, op, items, samples, impl="python", **extra):
    r = dict(group=group, case=case, op=op, impl=impl, items=items,
             median_s=statistics.median(samples) if samples else None,
             reps=len(samples), samples_s=samples)
    r.update(extra)
    out.append(r)
    shown = "%10.3f ms" % (r["median_s"] * 1e3) if samples else "   (none)"
    more = "".join(" %s=%s" % kv for kv in extra.items())
    print("%s %-20s %s %-5s %s (%d reps)%s" % (group, case, impl, op, shown, len(samples), more),
          file=sys.stderr, flush=True)


def measure(out, group, case, items, path, name, obj, s, guarded_read=False, check=None):
    """Times writes of `obj` (each on a new file) and reads of the file back."""
    writes = timed_runs(lambda: write(path, name, obj), s["reps"], s["budget"],
                        prepare=lambda: remove(path))
    rec(out, group, case, "write", items, writes)
    if guarded_read:
        samples, timed_out = child_reads(path, name, s["reps"], s["budget"], s["w3_timeout"])
        extra = {"timeout_s": s["w3_timeout"]} if timed_out else {}
        rec(out, group, case, "read", items, samples, **extra)
    else:
        back = read(path, name)  # untimed: checks the data, warms the cache
        if check is not None:
            check(back)
        del back
        reads = timed_runs(lambda: read(path, name), s["reps"], s["budget"])
        rec(out, group, case, "read", items, reads)
    remove(path)


def child_reads(path, name, reps, budget, timeout):
    """Reads in a child process with a time limit: (samples, timed_out)."""
    cmd = [sys.executable, HERE, "--child-read", path, "--group", name,
           "--reps", str(reps), "--budget", str(budget)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        output, timed_out = done.stdout, False
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            raise RuntimeError("child read of %s failed" % path)
    except subprocess.TimeoutExpired as e:
        output, timed_out = e.stdout or "", True
        if isinstance(output, bytes):
            output = output.decode()
    samples = [float(line.split()[1]) for line in output.splitlines()
               if line.startswith("sample ")]
    return samples, timed_out


def child_read(args):
    # Each sample is printed as it completes, so that a time limit keeps the finished ones.
    timed_runs(lambda: print("sample %r" % timed_one(lambda: read(args.child_read, args.group)),
                             flush=True), args.reps, args.budget)


def timed_one(op):
    start = time.perf_counter()
    op()
    return time.perf_counter() - start


# --- W2 peak memory --------------------------------------------------------------------------


def peak_rss_kib(which, side, tmpdir):
    cmd = [sys.executable, HERE, "--child-w2", which, "--side", str(side), "--dir", tmpdir]
    if os.path.exists("/usr/bin/time"):
        cmd = ["/usr/bin/time", "-v"] + cmd
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        return None
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    if m:
        return int(m.group(1))
    m = re.search(r"^VmHWM_kib (\d+)", done.stdout, re.M)
    return int(m.group(1)) if m else None


def child_w2(args):
    path = os.path.join(args.dir, "w2_child_python.hdf5")
    data = big_arrays(args.side)
    if args.child_w2 == "python":
        # Write, free the source, then read (as the Rust children do).
        write(path, "big", data)
        del data
        back = read(path, "big")
        assert back.real.shape == (args.side, args.side)
        remove(path)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                print("VmHWM_kib %d" % int(line.split()[1]))


# --- main ----------------------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--json", help="write the results here")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--dir", help="scratch directory (default: the system temp dir)")
    p.add_argument("--only", help="run only these workloads (comma-separated: W1,W5)")
    p.add_argument("--child-read", help=argparse.SUPPRESS)
    p.add_argument("--group", help=argparse.SUPPRESS)
    p.add_argument("--reps", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--budget", type=float, default=0.0, help=argparse.SUPPRESS)
    p.add_argument("--child-w2", help=argparse.SUPPRESS)
    p.add_argument("--side", type=int, default=4096, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child_read:
        return child_read(args)
    if args.child_w2:
        return child_w2(args)
    if not args.json:
        p.error("--json is required")

    quick = args.quick or os.environ.get("ANAM_BENCH_QUICK", "") not in ("", "0")
    s = sizes(quick)
    if args.dir:
        os.makedirs(args.dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="anam-bench-py-", dir=args.dir)
    out = []
    started = time.perf_counter()
    only = {g.strip() for g in (args.only or "").split(",") if g.strip()}
    selected = lambda group: not only or group in only

    if selected("W1"):
        w1(out, s, tmp)
    if selected("W2"):
        w2(out, s, tmp)
    if selected("W3"):
        w3(out, s, tmp)
    if selected("W5"):
        w5(out, s, tmp)

    try:
        os.rmdir(tmp)
    except OSError:
        pass
    doc = dict(harness="benches/python/bench_hdf5.py", quick=quick, sizes=s,
               elapsed_s=time.perf_counter() - started, results=out)
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=1)
    print("wrote %s in %.0f s" % (args.json, doc["elapsed_s"]), file=sys.stderr)


def w1(out, s, tmp):
    # W1: the main comparison, with and without the array.
    n = s["w1_n"]
    path = os.path.join(tmp, "w1.hdf5")

    def check_w1(c):
        assert len(c) == n and c[n - 1].value == n - 1, "W1 read back"

    measure(out, "W1", "n=%d" % n, n, path, "collection", small_collection(n), s,
            check=check_w1)
    measure(out, "W1", "n=%d noarray" % n, n, path, "collection",
            small_collection(n, with_array=False), s, check=check_w1)

    # W1 at N = 20,000 (with the array): one write, one read in a child with a time limit.
    big_n = s["w1_big"]
    coll = small_collection(big_n)
    remove(path)
    rec(out, "W1", "n=%d" % big_n, "write", big_n, [timed_one(lambda: write(path, "collection", coll))])
    del coll
    samples, timed_out = child_reads(path, "collection", 1, 0.0, s["w1_big_timeout"])
    rec(out, "W1", "n=%d" % big_n, "read", big_n, samples,
        **({"timeout_s": s["w1_big_timeout"]} if timed_out else {}))
    remove(path)


def w2(out, s, tmp):
    side = s["w2_side"]
    nbytes = side * side * 8 + side // 2 * side * 8
    case = "%d MiB" % (nbytes >> 20)
    measure(out, "W2", case, nbytes, os.path.join(tmp, "w2.hdf5"), "big", big_arrays(side),
            dict(s, reps=min(s["reps"], 5)))
    for which in ("data", "python"):
        kib = peak_rss_kib(which, side, tmp)
        print("W2 peak RSS %s: %s KiB" % (which, kib), file=sys.stderr, flush=True)
        out.append(dict(group="W2", case="peak_rss", op="write+read", impl=which,
                        max_rss_kib=kib, bytes=nbytes))


def w3(out, s, tmp):
    # W3 (reads in a child, with a time limit: AnamList reading is quadratic).
    d, m, ln = s["w3_depth"], s["w3_map"], s["w3_list"]
    measure(out, "W3", "deep%d" % d, d, os.path.join(tmp, "deep.hdf5"), "deep", deep_tree(d), s)
    measure(out, "W3", "map%d" % m, m, os.path.join(tmp, "map.hdf5"), "map", wide_map(m), s,
            guarded_read=True)
    measure(out, "W3", "list%d" % ln, ln, os.path.join(tmp, "list.hdf5"), "list",
            mixed_list(ln), s, guarded_read=True)


def w5(out, s, tmp):
    """W5 with h5py: writes (each to a new file), the file's size, then reads, as the Rust
    harness's `record` (one untimed read first)."""
    rows = s["w5_rows"]
    data = compressible(rows)
    nbytes = data.nbytes
    case = "%d MiB gzip1 shuffle" % (nbytes >> 20)
    path = os.path.join(tmp, "w5.hdf5")
    reps = min(s["reps"], 5)
    writes = timed_runs(lambda: w5_write(path, data), reps, s["budget"],
                        prepare=lambda: remove(path))
    size = os.path.getsize(path)
    rec(out, "W5", case, "write", nbytes, writes, impl="h5py", file_bytes=size)
    back = w5_read(path)  # untimed: checks the data, warms the cache
    assert np.array_equal(back, data), "W5 read back"
    del back
    reads = timed_runs(lambda: w5_read(path), reps, s["budget"])
    rec(out, "W5", case, "read", nbytes, reads, impl="h5py")
    remove(path)


if __name__ == "__main__":
    main()
