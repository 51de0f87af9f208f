#!/usr/bin/env bash
# Training throughput (samples/s) of a preset on 1 and 2 ranks (one OpenBLAS
# thread per rank), on binary Fashion-MNIST. A benchmark, not a test. The two
# rank counts alternate REPS times (this host's speed drifts); the best rate
# of each is reported.
#
#   bench/train_throughput.sh [PRESET] [SAMPLES] [BATCH] [REPS]    default: lenet 6000 64 3
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${NNCAS_BUILD:-$here/build}
preset=${1:-lenet}
samples=${2:-6000}
batch=${3:-64}
reps=${4:-3}
"$here/jobs/setup.sh" "$build" >/dev/null
export OPENBLAS_NUM_THREADS=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
declare -A best=([1]=0 [2]=0)
for ((r = 0; r < reps; r++)); do
  for np in 1 2; do
    rm -rf "$tmp/np$np"
    mpiexec -q -n "$np" --oversubscribe "$build/nncas" -net_preset "$preset" -data_train_size "$samples" \
      -data_val_size 200 -train_epochs 2 -train_batch "$batch" -output_dir "$tmp/np$np" >"$tmp/np$np.log"
    # the second epoch's rate (the first includes warm-up)
    rate=$(/usr/bin/python3 -c "import h5py,sys; print('%.1f' % h5py.File(sys.argv[1])['/training/samples_per_second'][-1])" "$tmp/np$np/results.h5")
    best[$np]=$(/usr/bin/python3 -c "print(max($rate, ${best[$np]}))")
  done
done
printf "%-12s %5s %8s %14s %10s\n" preset ranks batch samples/s speedup
for np in 1 2; do
  printf "%-12s %5d %8d %14s %9.2fx\n" "$preset" "$np" "$batch" "${best[$np]}" "$(/usr/bin/python3 -c "print(${best[$np]} / ${best[1]})")"
done
