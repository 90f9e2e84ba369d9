#!/usr/bin/python3
"""Compares two roisim results files for tests/test_mpi.sh: the same datasets (names, shapes,
dtypes, chunking, filters, attributes) and the same bytes in every one; the same root attributes
except those that record the run or the build itself (created_utc, command_line, and git_sha,
which differs when the two build folders were configured at different commits)."""
import sys

import h5py
import numpy as np

SKIP_ATTRS = {"created_utc", "command_line", "git_sha"}


def attrs(obj):
    out = {}
    for k, v in obj.attrs.items():
        if k in ("DIMENSION_LIST", "REFERENCE_LIST"):
            continue  # object references: compared through the dimension names below
        out[k] = v.tolist() if isinstance(v, np.ndarray) else v
    return out


def dims(ds):
    return [[s.name for s in d.values()] for d in ds.dims]


def main(a_path, b_path):
    problems = []
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        if list(a.keys()) != list(b.keys()):
            problems.append(f"datasets differ: {sorted(set(a) ^ set(b))} (order {list(a)} vs {list(b)})")
        ra = {k: v for k, v in attrs(a).items() if k not in SKIP_ATTRS}
        rb = {k: v for k, v in attrs(b).items() if k not in SKIP_ATTRS}
        if ra != rb:
            problems.append(f"root attributes differ: {sorted(k for k in set(ra) | set(rb) if ra.get(k) != rb.get(k))}")
        for name in a:
            if name not in b:
                continue
            x, y = a[name], b[name]
            for what in ("shape", "dtype", "chunks", "compression", "compression_opts", "shuffle", "fletcher32"):
                if getattr(x, what) != getattr(y, what):
                    problems.append(f"{name}: {what} {getattr(x, what)} vs {getattr(y, what)}")
            if attrs(x) != attrs(y):
                problems.append(f"{name}: attributes differ")
            if dims(x) != dims(y):
                problems.append(f"{name}: dimension scales {dims(x)} vs {dims(y)}")
            if x.dtype.kind == "O":  # variable-length strings (scenario, funded, input, ...)
                if [s for s in x.asstr()[()]] != [s for s in y.asstr()[()]]:
                    problems.append(f"{name}: strings differ")
            elif x[()].tobytes() != y[()].tobytes():
                problems.append(f"{name}: bytes differ")
    for p in problems:
        print(f"  {b_path}: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
