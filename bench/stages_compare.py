#!/usr/bin/python3
"""Compare the spectrum and coupling results of two nncas runs (bench/stages.sh).

    stages_compare.py NEW/results.h5 BASELINE/results.h5

For every epoch in both files:
  spectrum  the extreme eigenvalues (largest relative difference) and their
            residuals, whether the Ritz values and weights and the smoothed
            density are identical bit for bit or how far apart, and the trace;
  coupling  whether the counts of every statistic are identical, and the
            largest difference of the correlation submatrix.
Exit status 1 if any coupling count differs or an extreme eigenvalue differs
by more than 1e-8 relative.
"""
import sys

import h5py
import numpy as np


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))) if a.size else 0.0


def spectrum(ga, gb, name):
    ok = True
    if "extremes" in ga and "extremes" in gb:
        for key in ("lambda_max", "lambda_min"):
            r = rel(ga["extremes"][key][()], gb["extremes"][key][()])
            res = max(ga["extremes"]["residual" + key[6:]][()].max(initial=0), 0)
            print(f"  {name} {key}: {ga['extremes'][key][()][:1]} vs {gb['extremes'][key][()][:1]}, "
                  f"relative difference {r:.1e}, residual {res:.1e}")
            ok &= r <= 1e-8
    if "density" in ga and "density" in gb:
        da, db = ga["density"], gb["density"]
        ritz = all(np.array_equal(da[k][()], db[k][()]) for k in ("ritz_values", "ritz_weights", "steps"))
        dens = all(np.array_equal(da[k][()], db[k][()]) for k in ("grid", "density"))
        scaled = max(float(np.max(np.abs(da[k][()] - db[k][()])) / np.max(np.abs(db[k][()]))) for k in ("grid", "density"))
        print(f"  {name} density: Ritz values and weights " + ("identical" if ritz else "DIFFER") + ", grid and density "
              + ("identical bit for bit" if dens else f"differ by {scaled:.1e} of their largest value")
              + f"; [lo, hi] relative difference {max(rel(da.attrs['lo'], db.attrs['lo']), rel(da.attrs['hi'], db.attrs['hi'])):.1e}")
    sa, sb = ga["statistics"].attrs, gb["statistics"].attrs
    if "trace" in sa and "trace" in sb:
        print(f"  {name} trace: {sa['trace']:.6e} +- {sa['trace_standard_error']:.1e} vs "
              f"{sb['trace']:.6e} +- {sb['trace_standard_error']:.1e}")
    return ok


def coupling(ga, gb, name):
    ok = True
    for stat in ("cc", "skewness", "kurtosis"):
        if stat not in ga or stat not in gb:
            continue
        same = all(np.array_equal(ga[stat][k][()], gb[stat][k][()]) for k in ("counts", "total", "constant_variables"))
        print(f"  {name} {stat}: counts {ga[stat]['counts'][()].tolist()} vs {gb[stat]['counts'][()].tolist()}: "
              + ("identical" if same else "DIFFERENT"))
        ok &= same
    if "cc" in ga and "cc" in gb and "submatrix" in ga["cc"] and "submatrix" in gb["cc"]:
        a, b = ga["cc/submatrix"][()], gb["cc/submatrix"][()]
        d = float(np.max(np.abs(a - b))) if a.shape == b.shape and a.size else float("nan")
        print(f"  {name} correlation submatrix {a.shape}: largest difference {d:.1e}")
    return ok


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ok = True
    with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
        for kind, check in (("spectrum", spectrum), ("coupling", coupling)):
            if kind not in a or kind not in b:
                continue
            for ep in sorted(set(a[kind]) & set(b[kind])):
                ok &= check(a[kind][ep], b[kind][ep], f"{kind}/{ep}")
    sys.exit(0 if ok else 1)


main()
