#!/usr/bin/env bash
# Peak memory per rank of one Lanczos density run (SLEPc BV basis of M+1
# vectors, full reorthogonalisation) on the VGG preset (8.7 M parameters), for
# M = 32 and 128 on 1, 2 and 3 ranks. The basis should take (M+1) N/P
# doubles per rank; the rest (network buffers, the operator's gathered
# vector) does not depend on M. A benchmark, not a test (about 10 minutes).
#
#   bench/krylov_memory.sh [PRESET] [RANKS...]     default: vgg12 1 2 3
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${NNCAS_BUILD:-$here/build}
preset=${1:-vgg12}
shift || true
ranks=("${@:-1 2 3}")
read -r -a ranks <<< "${ranks[*]}"
"$here/jobs/setup.sh" "$build" >/dev/null
export OPENBLAS_NUM_THREADS=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf "%-8s %5s %5s %12s %14s %16s\n" preset ranks M "N" "peak MB/rank" "(M+1)N/P MB"
for np in "${ranks[@]}"; do
  for M in 32 128; do
    # 6 samples (any rank count divides them): the products are cheap, the basis is not
    mpiexec -q -n "$np" --oversubscribe sh -c '/usr/bin/time -f "peak %M" -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' "$tmp/rss" \
      "$build/bench/nncas_bench_hvp" -net_preset "$preset" -data_format mixture -synth_shape 3,32,32 -synth_train 60 \
      -synth_val 6 -hessian_samples 6 -bench_reps 1 -bench_density -spectrum_m "$M" -spectrum_m0 8 -spectrum_nvec 1 \
      >"$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
    N=$(sed -n 's/.*N=\([0-9]*\).*/\1/p' "$tmp/out" | head -1)
    peak=$(cat "$tmp"/rss.* | awk '{if ($2 > m) m = $2} END {print m}')
    awk -v p="$preset" -v np="$np" -v M="$M" -v N="$N" -v peak="$peak" \
      'BEGIN { printf "%-8s %5d %5d %12d %14.0f %16.0f\n", p, np, M, N, peak / 1024, (M + 1) * N * 8 / np / 1048576 }'
    rm -f "$tmp"/rss.*
  done
done
