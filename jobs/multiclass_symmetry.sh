#!/usr/bin/env bash
# Does Theorem 1(b)'s symmetric spectrum survive a multi-class loss? The quick
# start's net and training (inputs/quickstart.opts) on all ten Fashion-MNIST
# classes, with the piecewise-linear multi_hinge (l'' = 0, as hinge) and the
# smooth cross_entropy, spectra at epochs 0..4 on 200 samples; prints
# Theorem 1's statistics per epoch (docs/spectrum.md). Resumable: a finished
# run is skipped. About 3 minutes per loss on 2 cores.
#
#   jobs/multiclass_symmetry.sh [OUT_DIR]      default /work/runs/multiclass_symmetry
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${NNCAS_BUILD:-$here/build}
out=${1:-/work/runs/multiclass_symmetry}
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1
mkdir -p "$out"
for loss in multi_hinge cross_entropy; do
  if [ ! -f "$out/$loss/done" ]; then
    restart=(); [ -f "$out/$loss/checkpoint.h5" ] && restart=(-restart)
    mpiexec -n 2 "$build/nncas" -options_file "$here/inputs/quickstart.opts" -data_classes all -net_loss "$loss" \
      -data_train_size 10000 -data_val_size 2000 -train_epochs 4 -train_lr_milestones 3 -spectrum_every 1 -coupling_every 0 \
      -output_dir "$out/$loss" "${restart[@]}" > "$out/$loss.log" 2>&1
    touch "$out/$loss/done"
  fi
  /usr/bin/python3 - "$out/$loss/results.h5" "$loss" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    acc = f["training/val_acc"][()]
    for name in sorted(f["spectrum"]):
        g = f["spectrum"][name]; s = g["statistics"].attrs; e = int(name[-4:])
        lmax, lmin = g["extremes/lambda_max"][0], g["extremes/lambda_min"][0]
        print(f"{sys.argv[2]:13s} epoch {e}: val acc {acc[e-1] if e else float('nan'):.3f}  lambda_min {lmin:+.4g}  lambda_max {lmax:+.4g}  "
              f"|min|/max {abs(lmin)/lmax:.3f}  negative mass {s['negative_mass_fraction']:.3f}  symmetry_w1 {s['symmetry_w1']:.3g}  symmetry_tv {s['symmetry_tv']:.3f}")
PY
done
