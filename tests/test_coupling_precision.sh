#!/usr/bin/env bash
# -coupling_precision single: the per-batch Hessian entries by float32 passes,
# every statistic in double. On 2 ranks against double: the same counts of
# every statistic and draw, correlation coefficients within 1e-5, and the
# precision recorded (hessian_precision of /coupling/epoch_EEEE).
# Usage: test_coupling_precision.sh NNCAS_BINARY SCRATCH_DIR
set -euo pipefail
nncas=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
opts=(-data_format idx -data_train_size 640 -data_val_size 100 -net_layers "conv:4:5,tanh,pool:2,dense:16,tanh,dense:1"
      -net_loss hinge -train_epochs 0 -train_batch 32 -coupling_every 1 -coupling_nb 10,20 -coupling_nb_high 5 -coupling_draws 2
      -coupling_calibrate false)
for p in double single; do
  mpiexec -n 2 --oversubscribe "$nncas" "${opts[@]}" -coupling_precision "$p" -output_dir "$dir/$p" >"$dir/$p.log" 2>&1 ||
    { cat "$dir/$p.log"; echo "nncas -coupling_precision $p failed"; exit 1; }
done
/usr/bin/python3 - "$dir" <<'PY'
import sys
import h5py
import numpy as np
d = sys.argv[1]
a, b = (h5py.File(f"{d}/{p}/results.h5", "r")["coupling/epoch_0000"] for p in ("double", "single"))
bad = []
for p, g in (("double", a), ("single", b)):
    got = g.attrs["hessian_precision"]
    got = got.decode() if isinstance(got, bytes) else got
    if got != p:
        bad.append(f"hessian_precision {got!r}, want {p!r}")
for s in ("cc", "skewness", "kurtosis"):
    ca, cb = a[s]["counts"][()], b[s]["counts"][()]
    print(f"{s}: counts {ca.tolist()} (double) vs {cb.tolist()} (single)")
    if not np.array_equal(ca, cb):
        bad.append(f"{s} counts differ")
da = np.max(np.abs(a["cc/submatrix"][()] - b["cc/submatrix"][()]))
print(f"correlation submatrix {a['cc/submatrix'].shape}: largest difference {da:.1e}")
if not da <= 1e-5:
    bad.append(f"correlations differ by {da:.1e}")
if bad:
    sys.exit("single against double: " + "; ".join(bad))
PY
echo "coupling in single precision: counts of double, correlations within 1e-5"
