#!/usr/bin/python3
"""Compare the weights (and momentum) of two nncas checkpoints.

    h5compare.py A.h5 B.h5 --bitwise        every tensor identical, bit for bit
    h5compare.py A.h5 B.h5 --rtol 1e-10     max |a-b| below rtol * max |a| over the group

Differences are measured against the largest entry of the whole group
(/weights or /momentum): a tensor whose exact value is zero (the bias before a
batch normalization has a zero gradient) holds only rounding noise, which a
per-tensor relative measure would magnify.

Prints the largest relative difference; exit status 1 if the check fails.
"""
import argparse
import sys

import h5py
import numpy as np


def tensors(f, group):
    out = {}
    f[group].visititems(lambda name, obj: out.__setitem__(f"{group}/{name}", obj[()])
                        if isinstance(obj, h5py.Dataset) else None)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--bitwise", action="store_true")
    ap.add_argument("--rtol", type=float, default=0.0)
    ap.add_argument("--groups", default="weights,momentum")
    args = ap.parse_args()
    worst, bad = 0.0, []
    with h5py.File(args.a, "r") as fa, h5py.File(args.b, "r") as fb:
        for g in args.groups.split(","):
            ta, tb = tensors(fa, "/" + g), tensors(fb, "/" + g)
            if ta.keys() != tb.keys():
                bad.append(f"{g}: different tensors {sorted(ta)} vs {sorted(tb)}")
                continue
            scale = max([float(np.max(np.abs(a))) for a in ta.values()] + [1e-300])
            for k in sorted(ta):
                a, b = ta[k], tb[k]
                if a.shape != b.shape:
                    bad.append(f"{k}: shapes {a.shape} vs {b.shape}")
                    continue
                rel = float(np.max(np.abs(a - b))) / scale
                worst = max(worst, rel)
                if args.bitwise and not np.array_equal(a.view(np.uint64), b.view(np.uint64)):
                    bad.append(f"{k}: not bitwise identical (max relative difference {rel:.3e})")
                elif not args.bitwise and rel > args.rtol:
                    bad.append(f"{k}: relative difference {rel:.3e} > {args.rtol:g}")
    print(f"largest relative difference: {worst:.3e}")
    for m in bad:
        print("MISMATCH", m)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
