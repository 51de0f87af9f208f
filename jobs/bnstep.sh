#!/usr/bin/env bash
# Sec. 5.2's BN claim as a sweep: "it enables NNs to be trained in ~100 times
# larger step sizes". Fig. 3's small net (jobs/reproduce.sh initscale: the
# small VGG of Fashion-MNIST with vgg12's dropout, bias-free) at c = 2, with
# and without batch normalization, trained with plain gradient descent at a
# constant step size eta for STEPS steps (batches of 64); for each net the
# largest eta of the grid at which the run neither diverges (nncas's exit
# status 4: a non-finite or > -train_divergence_loss mini-batch loss) nor
# ends with a training loss above its first step's. The ratio of the two
# largest stable steps is the sweep's answer to the paper's ~100x (the grid's
# factor of sqrt(10) bounds its resolution). The dynamic-step runs'
# gradient-norm ratio is the paper's own statistic
# (postprocess/fig3_initscale.py, docs/reproduction.md's Fig. 3c/d row).
#
#   jobs/bnstep.sh [-n NP] [-o OUT] [-s STEPS]      default 2 ranks, runs/bnstep, 60 steps
#
# Resumable: each run is OUT/NET_etaETA with its DONE (exit status); a second
# call skips finished runs and prints the table. Environment: NNCAS_BUILD
# (default build/), NNCAS_FASHION (default Debian's Fashion-MNIST).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${NNCAS_BUILD:-$here/build}
np=2 out=runs/bnstep steps=60
while getopts "n:o:s:" opt; do
  case $opt in
    n) np=$OPTARG ;;
    o) out=$OPTARG ;;
    s) steps=$OPTARG ;;
    *) echo "usage: $0 [-n NP] [-o OUT] [-s STEPS]" >&2; exit 2 ;;
  esac
done
fashion=${NNCAS_FASHION:-/usr/share/datasets/fashion-mnist}
etas=(0.001 0.00316 0.01 0.0316 0.1 0.316 1 3.16 10 31.6)
# the nets of jobs/reproduce.sh's initscale runs
source "$here/jobs/fig3_nets.sh"
plain=$fig3_small bn=$fig3_small_bn

"$here/jobs/setup.sh" "$build" >/dev/null
export OPENBLAS_NUM_THREADS=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$out"
for net in plain bn; do
  for eta in "${etas[@]}"; do
    dir=$out/${net}_eta$eta
    [ -f "$dir/DONE" ] && continue
    mkdir -p "$dir"
    status=0
    mpiexec -n "$np" --oversubscribe "$build/nncas" -options_file "$here/inputs/initscale_c2_constant.opts" \
      -data_format idx -data_dir "$fashion" -data_positive_class 0 -data_train_size $((64 * steps)) -data_val_size 640 \
      -data_augment false -net_layers "${!net}" -train_lr "$eta" -train_epochs 1 -output_dir "$dir" -restart auto \
      >"$dir/log" 2>&1 || status=$?
    case $status in
      0 | 4) echo "$status" >"$dir/DONE" ;;
      *) echo "$0: $dir failed (exit status $status); see $dir/log" >&2; exit 1 ;;
    esac
  done
done
/usr/bin/python3 - "$out" "${etas[@]}" <<'EOF'
import os, sys
import h5py
out, etas = sys.argv[1], sys.argv[2:]
best = {}
print(f"{'net':6} {'eta':>8} {'status':>7} {'first loss':>11} {'last loss':>10} {'epoch loss':>11}  stable")
for net in ("plain", "bn"):
    for eta in etas:
        d = os.path.join(out, f"{net}_eta{eta}")
        status = int(open(os.path.join(d, "DONE")).read())
        with h5py.File(os.path.join(d, "results.h5"), "r") as f:
            loss = f["training/steps/loss"][()]
            ep = f["training/train_loss"][()] if "training/train_loss" in f else []
        first, last = float(loss[0]), float(loss[-1])
        epoch = float(ep[-1]) if len(ep) else float("nan")
        stable = status == 0 and epoch < first
        if stable:
            best[net] = float(eta)
        print(f"{net:6} {eta:>8} {status:>7} {first:11.4g} {last:10.4g} {epoch:11.4g}  {'yes' if stable else 'no'}")
if "plain" in best and "bn" in best:
    print(f"largest stable step: {best['plain']:g} without BN, {best['bn']:g} with BN: ratio {best['bn'] / best['plain']:.3g} "
          "(grid factor sqrt(10))")
else:
    print("largest stable step: " + ", ".join(f"{k} {v:g}" for k, v in best.items()) + " (a net without a stable step in the grid)")
EOF
