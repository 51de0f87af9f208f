#!/usr/bin/python3
"""The stages of one epoch run apart from training (an analysis run from a
kept checkpoint, at another rank count or with rank groups) against those the
training run computed for the same epoch.

    stages_agree.py TRAIN/results.h5 STAGES/results.h5 EPOCH [--label TEXT] [--tol 1e-9]

- spectrum/epoch_EEEE: Ritz values within tol of ||H|| (norm2), Ritz weights
  within tol, the trace within tol relative. Only the rank count or the
  grouping differs, so only rounding: a product's reduction order.
- coupling/epoch_EEEE (if the training run has it): the draws' row and column
  indices and the counts of every statistic equal; the correlation
  submatrix within tol (its sums are formed in other blocks on other ranks).
- STAGES holds this epoch's results only.

Prints one line per stage; exit status 1 if a check fails.
"""
import argparse
import sys

import h5py
import numpy as np


def spectrum(a, b, tol, label):
    norm = a["statistics"].attrs["norm2"]
    dr = np.max(np.abs(a["density/ritz_values"][()] - b["density/ritz_values"][()])) / norm
    dw = np.max(np.abs(a["density/ritz_weights"][()] - b["density/ritz_weights"][()]))
    ta, tb = a["statistics"].attrs["trace"], b["statistics"].attrs["trace"]
    dt = abs(ta - tb) / abs(ta)
    print(f"{label}: spectrum: Ritz values {dr:.1e} of ||H||, weights {dw:.1e}, trace {dt:.1e} from the training run's")
    return [] if (dr <= tol and dw <= tol and dt <= tol) else [f"{label}: the spectrum differs beyond {tol:g}"]


def coupling(a, b, tol, label):
    bad, same = [], 0
    for stat in sorted(k for k in a if isinstance(a[k], h5py.Group) and "counts" in a[k]):
        for name in ("row_index", "col_index", "counts"):
            x, y = a[f"{stat}/{name}"][()], b[f"{stat}/{name}"][()]
            if x.shape != y.shape or not np.array_equal(x, y):
                bad.append(f"{label}: coupling {stat}/{name} differs: {x.tolist()} against {y.tolist()}")
            else:
                same += 1
    ds = 0.0
    if "cc/submatrix" in a:
        x, y = a["cc/submatrix"][()], b["cc/submatrix"][()]
        ds = np.max(np.abs(x - y)) if x.size else 0.0
        if x.shape != y.shape or not ds <= tol:
            bad.append(f"{label}: cc/submatrix differs by {ds:.1e}")
    print(f"{label}: coupling: {same} index and count datasets equal, correlation submatrix within {ds:.1e}")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("train")
    ap.add_argument("stages")
    ap.add_argument("epoch", type=int)
    ap.add_argument("--label", default=None)
    ap.add_argument("--tol", type=float, default=1e-9)
    o = ap.parse_args()
    key, label = f"epoch_{o.epoch:04d}", o.label or f"epoch {o.epoch}"
    bad = []
    with h5py.File(o.train, "r") as r, h5py.File(o.stages, "r") as s:
        for stage, check in (("spectrum", spectrum), ("coupling", coupling)):
            if stage not in r or key not in r[stage]:
                continue
            got = sorted(s[stage]) if stage in s else []
            if got != [key]:
                bad.append(f"{label}: {stage} {got}, want {key} only")
                continue
            bad += check(r[f"{stage}/{key}"], s[f"{stage}/{key}"], o.tol, label)
        if not any(st in r and key in r[st] for st in ("spectrum", "coupling")):
            bad.append(f"{label}: the training run has no stage at {key}")
    for b in bad:
        print("FAIL", b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
