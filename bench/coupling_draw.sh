#!/usr/bin/env bash
# Time of one full Algorithm 1 draw (N_b = 100 for the correlations, N_b = 10
# for skewness and kurtosis; n = 157 batches of 64 = ceil(10000/64)) on a
# preset, on 1 and 2 ranks. A benchmark, not a test.
#
#   bench/coupling_draw.sh [PRESET] [BLOCK]     default: lenet 16
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${NNCAS_BUILD:-$here/build}
"$here/jobs/setup.sh" "$build" >/dev/null
export OPENBLAS_NUM_THREADS=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for np in 1 2; do
  /usr/bin/time -f "%e s wall, %M KB peak per rank" mpiexec -q -n "$np" "$build/nncas" -net_preset "${1:-lenet}" \
    -data_train_size 10000 -data_val_size 100 -train_epochs 0 -train_batch 64 -coupling_every 1 -coupling_draws 1 \
    -coupling_calibrate false -coupling_block "${2:-16}" -output_dir "$tmp/np$np" 2>&1 | grep -E "coupling\] (epoch 0 done|cc|skew|kurt)|peak" |
    sed "s/^/np=$np  /"
done
