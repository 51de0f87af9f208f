#!/usr/bin/env bash
# nncas's spectrum stage against PyHessian's, in one run, on one machine and
# the same OpenBLAS: the paper's LeNet at initialisation, the Hessian on 200
# samples (as bench/stages.sh). nncas on NP ranks (one OpenBLAS thread each),
# in float64 and with -hessian_precision single: both extremes, the Lanczos
# density (M = 128, one vector; the extremes come from its Krylov space) and
# a 100-vector trace. PyHessian (bench/pyhessian_ref.py) on the same weights
# and samples with NP threads, in float32: its power iteration for the top
# eigenvalue, a 100-vector trace and its density (128 Lanczos steps). Prints
# each run's seconds and the speed-ups; PyHessian's own lines say how many
# products each stage took and what it found.
#
#   bench/pyhessian.sh [-n NP] [-r ROUNDS] [-o DIR] BUILD PYHESSIAN_DIR
#
# PYHESSIAN_DIR: a checkout of github.com/amirgholami/PyHessian (fetched for
# the benchmark, not part of nncas). -r runs the three ROUNDS times,
# interleaved, and reports each round (the machine's load varies). A
# benchmark, not a test: about 2 minutes a round on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
np=2 rounds=1 out=
usage="usage: $0 [-n NP] [-r ROUNDS] [-o DIR] BUILD PYHESSIAN_DIR"
while getopts "n:r:o:" opt; do
  case $opt in
    n) np=$OPTARG ;;
    r) rounds=$OPTARG ;;
    o) out=$OPTARG ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# = 2 ] || { echo "$usage" >&2; exit 2; }
build=$1 pyh=$2
[ -f "$pyh/pyhessian/hessian.py" ] || { echo "$0: $pyh: not a PyHessian checkout (no pyhessian/hessian.py)" >&2; exit 2; }
. "$here/bench/stages_common.sh"
nncas_bench_start "$out" "$build"
out=$nncas_bench_out
opts=("${nncas_lenet_common[@]}" "${nncas_lenet_spectrum[@]}" -spectrum_save_weights true)

nncas_run() { # PRECISION ROUND: the stage's seconds
  local dir="$out/nncas_$1_$2"
  rm -rf "$dir"
  mpiexec -q -n "$np" --oversubscribe "$build/nncas" "${opts[@]}" -hessian_precision "$1" -output_dir "$dir" >"$dir.log" 2>&1 ||
    { echo "$0: nncas ($1) failed; see $dir.log" >&2; tail -5 "$dir.log" >&2; exit 1; }
  sed -n 's/^\[spectrum\] epoch 0 done in \([0-9.]*\)s.*/\1/p' "$dir.log"
}

printf "%-6s %14s %14s %16s %10s %10s   (%s ranks / threads, seconds)\n" round "nncas float64" "nncas single" "PyHessian fp32" \
  "f64 ratio" "single" "$np"
for r in $(seq "$rounds"); do
  t64=$(nncas_run double "$r")
  t32=$(nncas_run single "$r")
  /usr/bin/python3 "$here/bench/pyhessian_ref.py" "$out/nncas_double_$r/results.h5" --pyhessian "$pyh" --dtype float32 \
    --threads "$np" >"$out/pyhessian_$r.log" 2>&1 || { echo "$0: PyHessian failed; see $out/pyhessian_$r.log" >&2; tail -5 "$out/pyhessian_$r.log" >&2; exit 1; }
  tp=$(sed -n 's/^pyhessian total \([0-9.]*\) s.*/\1/p' "$out/pyhessian_$r.log")
  printf "%-6s %14s %14s %16s %9.2fx %9.2fx\n" "$r" "$t64" "$t32" "$tp" "$(awk -v a="$tp" -v b="$t64" 'BEGIN { print a / b }')" \
    "$(awk -v a="$tp" -v b="$t32" 'BEGIN { print a / b }')"
done
echo "nncas (round $rounds, float64):"
grep -E "^\[spectrum\] (normalization|extremes|trace|\|\|H)" "$out/nncas_double_$rounds.log" | sed 's/^/    /'
echo "nncas (round $rounds, single):"
grep -E "^\[spectrum\] (normalization|extremes|trace)" "$out/nncas_single_$rounds.log" | sed 's/^/    /'
echo "PyHessian (round $rounds):"
sed 's/^/    /' "$out/pyhessian_$rounds.log"
