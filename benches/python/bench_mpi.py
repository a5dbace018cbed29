#!/usr/bin/env python3
"""The MPI workloads of `benches/mpi.rs` with Python anamnesis 1.0.4 and mpi4py.

    HYDRA_LAUNCHER=fork mpiexec -n 2 .venv/bin/python benches/python/bench_mpi.py --json OUT.json [--quick]

As the Rust bench: each sample is `Barrier; start; operation; Barrier; stop` on rank 0,
after one warm-up, and the median is kept. The objects go through `MPIHandler().bcast`,
as the anamnesis MPI tutorial does (the root passes the object, the others receive it
without naming its class).

* M1: a 2-field object (a string and an int);
* M2: a collection of 50 members (a string, an int and a 3-element array each);
* M3: an object holding a 32 MiB float64 array;
* `scatter_array` of 32 MiB (rows of 1 KiB) from rank 0, and `gather` of the same back.

Rank 0 writes the medians as JSON (`impl` = `python`).
"""

import argparse
import json
import os
import sys
import time

import numpy as np
from mpi4py import MPI

from anamnesis import MPIHandler

import bench_classes as bc

MIB32 = 32 << 20


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--json", required=True)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    quick = args.quick or os.environ.get("ANAM_BENCH_QUICK", "") not in ("", "0")

    m = MPIHandler(use_mpi=True)
    comm = MPI.COMM_WORLD
    rank, size = m.rank, m.size
    out = []

    def timed(name, samples, op, note):
        if quick:
            samples = min(samples, 11)
        op()  # warm-up
        t = []
        for _ in range(samples):
            comm.Barrier()
            start = time.perf_counter()
            op()
            comm.Barrier()
            t.append(time.perf_counter() - start)
        t.sort()
        median = t[samples // 2]
        out.append(dict(group="MPI", case=name, op=note, impl="python", median_s=median,
                        reps=samples, ranks=size))
        if rank == 0:
            print("MPI %-8s python %10.1f us (%d reps)" % (name, median * 1e6, samples),
                  file=sys.stderr, flush=True)

    def bcast(obj):
        # The root sends, the others receive a new object of the class named in the message.
        if rank == 0:
            m.bcast(obj)
        else:
            got = m.bcast()
            assert got is not None

    # M1: a small object.
    small = bc.MpiSmallObject(name="Fred", age=42)
    timed("M1", 2001, lambda: bcast(small), "bcast small object")

    # M2: a collection of 50 members.
    members = bc.MpiMembers([
        bc.MpiMember(name="m%d" % i, index=i, values=np.full(3, float(i)))
        for i in range(50)])
    timed("M2", 201, lambda: bcast(members), "bcast 50-member collection")

    # M3: an object with a 32 MiB float64 array.
    big = bc.MpiArrayObject(label="big", data=np.full(MIB32 // 8, 1.5))
    timed("M3", 41, lambda: bcast(big), "bcast object with 32 MiB f64 array")

    # scatter_array and gather of 32 MiB (rows of 1 KiB).
    total_rows = MIB32 // 1024
    full = np.full((total_rows, 128), 2.0) if rank == 0 else None
    timed("scatter", 41, lambda: m.scatter_array(full if rank == 0 else None),
          "scatter_array 32 MiB")
    a, b = m.get_scatter_indices(total_rows)[rank]
    mine = np.full((b - a, 128), 3.0)
    timed("gather", 41, lambda: m.gather(mine), "gather 32 MiB")

    if rank == 0:
        import mpi4py

        doc = dict(harness="benches/python/bench_mpi.py", quick=quick, ranks=size,
                   mpi4py=mpi4py.__version__, mpi_library=MPI.Get_library_version().strip(),
                   results=out)
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
    m.done()


if __name__ == "__main__":
    main()
