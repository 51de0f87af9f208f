#!/usr/bin/env bash
# Hessian-vector-product times in double and in single precision
# (-hessian_precision single: the network's passes in float32 SGEMM) on one
# rank, one OpenBLAS thread, Fashion-MNIST samples; prints the speed-up of
# single over double. A benchmark, not a test (issue 15 item 3: >= 1.8x).
#
#   bench/precision.sh [PRESET...]             default: lenet vgg12
#   NNCAS_BENCH_SAMPLES=200 NNCAS_BENCH_REPS=3 (the defaults)
#
# vgg12 at 200 samples takes a few minutes per precision; run it on a quiet machine.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${NNCAS_BUILD:-$here/build}
samples=${NNCAS_BENCH_SAMPLES:-200}
reps=${NNCAS_BENCH_REPS:-3}
"$here/jobs/setup.sh" "$build" >/dev/null
export OPENBLAS_NUM_THREADS=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(lenet vgg12)

# "HVP fresh F ms  HVP R ms" of one nncas_bench_hvp line -> "F R"
times() { sed -n 's/.*HVP fresh *\([0-9.]*\) ms *HVP *\([0-9.]*\) ms.*/\1 \2/p'; }

for preset in "${presets[@]}"; do
  declare -A t=()
  for precision in double single; do
    line=$(mpiexec -q -n 1 "$build/bench/nncas_bench_hvp" -net_preset "$preset" -hessian_samples "$samples" \
      -data_train_size 1000 -data_val_size 10 -bench_reps "$reps" -hessian_precision "$precision" | head -n 1)
    echo "$precision: $line"
    read -r t[$precision,fresh] t[$precision,reused] < <(echo "$line" | times)
  done
  awk -v p="$preset" -v df="${t[double,fresh]}" -v dr="${t[double,reused]}" -v sf="${t[single,fresh]}" -v sr="${t[single,reused]}" \
    'BEGIN { printf "%-8s single over double: HVP fresh %.2fx, HVP reused %.2fx\n", p, df / sf, dr / sr }'
  unset t
done
