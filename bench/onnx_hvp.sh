#!/usr/bin/env bash
# Imported models against PyTorch: one table of Hessian-vector-product times,
# and the accuracy of nncas's product on the imported model. A benchmark, not
# a test (docs/performance.md, "Imported models against PyTorch").
#
# For each model (bench/torch_onnx_ref.py builds it: torchvision's resnet18
# with 10 classes on 64 samples of 3x32x32; the presets lenet and mlp as
# PyTorch modules on 200 samples of 1x28x28), exported to ONNX and its data
# written to HDF5 as README's "Analyse your own model" does:
#   - nncas on the imported model (-net_file), float64 and -hessian_precision single;
#   - nncas on the preset of the same name, where one exists, on the same data;
#   - PyTorch's double backward, float64 and float32;
#   - nncas's H v for one random v against PyTorch's float64 H v: max |diff| / max |Hv| <= 1e-10.
# One rank, one thread, the same OpenBLAS kernels (bench/blas_kernels.sh).
# Times are the best of NNCAS_BENCH_REPS repetitions (default 5; 3 for
# resnet18) after a warm-up; NNCAS_BENCH_CLOCK=cpu times both programs with
# their process's CPU clock, for a machine shared with other work.
# NNCAS_BENCH_SPECTRUM=1 also runs nncas's spectrum stage once on resnet18 on
# 2 ranks (extremes with their residuals, a 48-step density, 10 trace
# vectors) and prints its wall time and extremes.
#
#   bench/onnx_hvp.sh [-o DIR] [NETS...]      default: resnet18 lenet mlp; DIR default runs/onnx_hvp
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${NNCAS_BUILD:-$here/build}
dir=runs/onnx_hvp
if [ "${1:-}" = -o ]; then dir=$2; shift 2; fi
nets=("$@")
[ ${#nets[@]} -gt 0 ] || nets=(resnet18 lenet mlp)
clock=${NNCAS_BENCH_CLOCK:-wall}
py=/usr/bin/python3 # Debian's Python, with torch, torchvision, onnx and h5py
NNCAS_EXTRA_PACKAGES="python3-torch python3-torchvision python3-onnx python3-h5py" "$here/jobs/setup.sh" "$build" >/dev/null
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1
. "$here/bench/blas_kernels.sh"
nncas_export_blas_kernels "$build" # PyTorch runs the kernels nncas runs
mkdir -p "$dir"
echo "== $(date -u '+%F %T'), load average $(cut -d' ' -f1-3 /proc/loadavg), clock $clock"
for net in "${nets[@]}"; do
  reps=${NNCAS_BENCH_REPS:-5}
  loss=hinge samples=200
  [ "$net" = resnet18 ] && reps=${NNCAS_BENCH_REPS:-3} loss=cross_entropy samples=64
  "$py" "$here/bench/torch_onnx_ref.py" export --net "$net" --dir "$dir"
  data=(-data_format h5 -data_file "$dir/$net.h5" -hessian_samples "$samples" -net_loss "$loss" -bench_reps "$reps" -bench_clock "$clock")
  # one rank unbound, as PyTorch: Open MPI would bind it to core 0, where other work may be running
  nncas() { mpiexec -q -n 1 --bind-to none "$build/bench/nncas_bench_hvp" "${data[@]}" "$@"; }
  nncas -net_file "$dir/$net.onnx" -bench_v "$dir/${net}_v.bin" -bench_hv "$dir/${net}_hv.bin" | sed 's/^/nncas imported float64: /'
  nncas -net_file "$dir/$net.onnx" -hessian_precision single | sed 's/^/nncas imported float32: /'
  if [ "$net" != resnet18 ]; then
    nncas -net_preset "$net" | sed 's/^/nncas preset   float64: /'
    nncas -net_preset "$net" -hessian_precision single | sed 's/^/nncas preset   float32: /'
  fi
  for dt in float64 float32; do
    "$py" "$here/bench/torch_onnx_ref.py" time --net "$net" --dir "$dir" --dtype "$dt" --threads 1 --reps "$reps" --clock "$clock"
  done
  "$py" "$here/bench/torch_onnx_ref.py" check --net "$net" --dir "$dir" --hv "$dir/${net}_hv.bin"
done
if [ "${NNCAS_BENCH_SPECTRUM:-0}" = 1 ]; then
  out=$dir/resnet18_spectrum
  rm -rf "$out"
  [ -f "$dir/resnet18.onnx" ] || "$py" "$here/bench/torch_onnx_ref.py" export --net resnet18 --dir "$dir"
  t0=$(date +%s.%N)
  mpiexec -q -n 2 "$build/nncas" -net_file "$dir/resnet18.onnx" -net_loss cross_entropy -data_format h5 -data_file "$dir/resnet18.h5" \
    -hessian_samples 64 -train_epochs 0 -spectrum_every 1 -spectrum_m 48 -spectrum_trace_vecs 10 -coupling_every 0 \
    -output_dir "$out" > "$out.log"
  t1=$(date +%s.%N)
  grep -E "\[spectrum\]" "$out.log" || true
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "nncas spectrum stage, resnet18, 64 samples, 2 ranks: %.1f s wall (the whole run)\n", b - a }'
  "$py" - "$out/results.h5" <<'EOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    e = f["spectrum/epoch_0000/extremes"]
    def show(g, indent=""):
        for k, v in g.attrs.items():
            print(f"{indent}{g.name}@{k} = {v}")
        for k, v in g.items():
            if isinstance(v, h5py.Dataset):
                print(f"{indent}{v.name} = {v[()]}")
            else:
                show(v, indent)
    show(e)
EOF
fi
