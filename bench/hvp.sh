#!/usr/bin/env bash
# Gradient and Hessian-vector-product times of a preset on 1 and 2 ranks (one
# OpenBLAS thread per rank), Fashion-MNIST samples. A benchmark, not a test.
#
#   bench/hvp.sh [PRESET] [SAMPLES] [options]    default: lenet 200
#   bench/hvp.sh lenet 200 -bench_density        also one full Lanczos density
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${NNCAS_BUILD:-$here/build}
"$here/jobs/setup.sh" "$build" >/dev/null
export OPENBLAS_NUM_THREADS=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for np in 1 2; do
  mpiexec -q -n "$np" --oversubscribe "$build/bench/nncas_bench_hvp" -net_preset "${1:-lenet}" \
    -hessian_samples "${2:-200}" -data_train_size 1000 -data_val_size 10 -bench_reps 5 "${@:3}"
done
