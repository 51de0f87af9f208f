#!/usr/bin/env bash
# One table: nncas's gradient and Hessian-vector-product times against
# PyTorch's (float64 and float32, same threads) for the LeNet, the MLP and the
# VGG preset at batch 200, the machine's DGEMM rate, 1 rank x 2 threads
# against 2 ranks x 1 thread, and the peak memory of each process. A
# benchmark, not a test: about a minute for lenet and mlp, 20 minutes for
# vgg12. Times are the best of NNCAS_BENCH_REPS repetitions after a warm-up
# (default 3; 1 for vgg12). One rank runs unbound (--bind-to none), as
# PyTorch does: Open MPI binds a single rank to core 0 by default, and on a
# host shared with other work that alone made nncas's MLP products up to 2x
# slower than PyTorch's (docs/performance.md, "Imported models against PyTorch").
#
#   bench/perf.sh [NETS...]        default: lenet mlp vgg12
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${NNCAS_BUILD:-$here/build}
NNCAS_EXTRA_PACKAGES="python3-torch" "$here/jobs/setup.sh" "$build" >/dev/null
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
nets=("${@:-lenet mlp vgg12}")
read -r -a nets <<< "${nets[*]}"
. "$here/bench/blas_kernels.sh"
nncas_export_blas_kernels "$build" # PyTorch runs the kernels nncas runs
echo "== DGEMM"
OPENBLAS_NUM_THREADS=1 "$build/bench/nncas_bench_dgemm"
OPENBLAS_NUM_THREADS=2 "$build/bench/nncas_bench_dgemm"
for net in "${nets[@]}"; do
  data=(-data_train_size 1000 -data_val_size 10)
  reps=${NNCAS_BENCH_REPS:-3}
  [ "$net" = vgg12 ] && data=(-data_format mixture -synth_shape 3,32,32 -synth_train 400 -synth_val 10) && reps=${NNCAS_BENCH_REPS:-1}
  echo "== $net, batch 200"
  OPENBLAS_NUM_THREADS=1 mpiexec -q -n 1 --bind-to none "$build/bench/nncas_bench_hvp" -net_preset "$net" -hessian_samples 200 "${data[@]}" -bench_reps "$reps" | sed 's/^/nncas 1 rank  x 1 thread : /'
  OPENBLAS_NUM_THREADS=2 mpiexec -q -n 1 --bind-to none "$build/bench/nncas_bench_hvp" -net_preset "$net" -hessian_samples 200 "${data[@]}" -bench_reps "$reps" | sed 's/^/nncas 1 rank  x 2 threads: /'
  OPENBLAS_NUM_THREADS=1 mpiexec -q -n 2 "$build/bench/nncas_bench_hvp" -net_preset "$net" -hessian_samples 200 "${data[@]}" -bench_reps "$reps" | sed 's/^/nncas 2 ranks x 1 thread : /'
  for dt in float64 float32; do
    for th in 1 2; do /usr/bin/python3 "$here/bench/torch_ref.py" --net "$net" --batch 200 --dtype "$dt" --threads "$th" --reps "$reps"; done
  done
done
