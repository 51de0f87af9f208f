#!/usr/bin/env bash
# Training throughput (samples/s) of a preset on 1 and 2 ranks (one OpenBLAS
# thread per rank), on binary Fashion-MNIST. A benchmark, not a test.
#
#   bench/train_throughput.sh [PRESET] [SAMPLES]     default: lenet 6000
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${NNCAS_BUILD:-$here/build}
preset=${1:-lenet}
samples=${2:-6000}
"$here/jobs/setup.sh" "$build" >/dev/null
export OPENBLAS_NUM_THREADS=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf "%-12s %5s %8s %14s %10s\n" preset ranks batch samples/s speedup
base=""
for np in 1 2; do
  mpiexec -q -n "$np" --oversubscribe "$build/nncas" -net_preset "$preset" -data_train_size "$samples" \
    -data_val_size 200 -train_epochs 2 -train_batch 64 -output_dir "$tmp/np$np" >"$tmp/np$np.log"
  # the second epoch's rate (the first includes warm-up)
  rate=$(/usr/bin/python3 -c "import h5py,sys; print('%.1f' % h5py.File(sys.argv[1])['/training/samples_per_second'][-1])" "$tmp/np$np/results.h5")
  [ -n "$base" ] || base=$rate
  printf "%-12s %5d %8d %14s %9.2fx\n" "$preset" "$np" 64 "$rate" "$(/usr/bin/python3 -c "print($rate / $base)")"
done
