#!/usr/bin/python3
"""Are two nncas HDF5 files the same, bit for bit, apart from provenance?

    h5same.py A.h5 B.h5 [--ignore-attr NAME ...]

Compares the set of groups and datasets (following external links, as a
reader of results.h5 does), every dataset's shape, type and bytes,
and every attribute of every object (values compared as bytes; NaN equals NaN
of the same bits). The root's provenance attributes that name the build, the
time and the command line (git_hash, nncas_version, written_at, options) are
left out by default, and so are the wall-clock timings (TIMINGS: epoch
seconds and throughput); --ignore-attr adds more. Prints each difference; exit
status 1 if there is one. Used to show that a refactoring left results alone.
"""
import argparse
import sys

import h5py
import numpy as np

PROVENANCE = ("git_hash", "nncas_version", "written_at", "options")
# Wall-clock measurements: they differ from run to run of the same binary.
TIMINGS = ("/training/seconds", "/training/samples_per_second", "/history/seconds", "/history/samples_per_second",
           "/state@epoch_seconds")


def as_bytes(v):
    if isinstance(v, (bytes, str)):
        return v.encode() if isinstance(v, str) else v
    a = np.asarray(v)
    if a.dtype.kind == "O":
        return repr(a.tolist()).encode()
    return a.dtype.str.encode() + repr(a.shape).encode() + a.tobytes()


def objects(f):
    """Every group and dataset by path, through external links (results.h5
    links each result to its own file; visititems would not follow)."""
    out = {"/": f}

    def walk(group, prefix):
        for name in group:
            obj = group.get(name)
            if obj is None:
                raise SystemExit(f"h5same: {group.file.filename}: {prefix}{name} is a link to a missing file or object")
            out[prefix + name] = obj
            if isinstance(obj, h5py.Group):
                walk(obj, prefix + name + "/")

    walk(f, "/")
    return out


def compare(a, b, ignore):
    diffs = []
    oa, ob = objects(a), objects(b)
    for name in sorted(set(oa) ^ set(ob)):
        diffs.append(f"{name}: only in {'A' if name in oa else 'B'}")
    for name in sorted(set(oa) & set(ob)):
        x, y = oa[name], ob[name]
        if isinstance(x, h5py.Dataset) != isinstance(y, h5py.Dataset):
            diffs.append(f"{name}: a dataset in one file only")
            continue
        if isinstance(x, h5py.Dataset) and name in TIMINGS:
            continue
        if isinstance(x, h5py.Dataset):
            if x.shape != y.shape or x.dtype != y.dtype:
                diffs.append(f"{name}: shape/type {x.shape} {x.dtype} vs {y.shape} {y.dtype}")
            elif as_bytes(x[()]) != as_bytes(y[()]):
                diffs.append(f"{name}: values differ")
        skip = ignore if name == "/" else ()
        skip += tuple(t.split("@")[1] for t in TIMINGS if t.startswith(name + "@"))
        ka, kb = set(x.attrs) - set(skip), set(y.attrs) - set(skip)
        for k in sorted(ka ^ kb):
            diffs.append(f"{name} @{k}: only in {'A' if k in ka else 'B'}")
        for k in sorted(ka & kb):
            if as_bytes(x.attrs[k]) != as_bytes(y.attrs[k]):
                diffs.append(f"{name} @{k}: {x.attrs[k]!r} vs {y.attrs[k]!r}")
    return diffs, len(oa)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--ignore-attr", action="append", default=[], help="another root attribute to leave out")
    args = ap.parse_args(argv)
    with h5py.File(args.a, "r") as a, h5py.File(args.b, "r") as b:
        diffs, n = compare(a, b, tuple(PROVENANCE) + tuple(args.ignore_attr))
    for d in diffs:
        print("h5same:", d)
    print(f"h5same: {args.a} vs {args.b}: {n} objects, {len(diffs)} differences"
          f" (left out: root attributes {', '.join(PROVENANCE + tuple(args.ignore_attr))}; timings {', '.join(TIMINGS)})")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
