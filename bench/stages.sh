#!/usr/bin/env bash
# Time to the answer of whole stages, for one build or two side by side.
#   spectrum  the paper's LeNet at initialisation, the Hessian on 200 samples:
#             extremes at both ends, the Lanczos density (M0 = M = 128) and a
#             100-vector trace
#   coupling  one draw of Algorithm 1 on the same LeNet: N_b = 100 for the
#             correlations and 10 for skewness and kurtosis, over n = 157
#             batches of 64 (10,000 samples)
# on NP ranks with one OpenBLAS thread each. With a second build each stage
# runs on both, one after the other; the script prints the ratio of the times
# and compares the results files (bench/stages_compare.py). A benchmark, not a
# test: it takes about 15 minutes with two builds of today's code.
#
#   bench/stages.sh [-n NP] [-s spectrum,coupling] [-o DIR] BUILD [BASELINE_BUILD]
#
# -o keeps the runs in DIR (default: a temporary directory, removed).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
np=2 stages=spectrum,coupling out=
while getopts "n:s:o:" opt; do
  case $opt in
    n) np=$OPTARG ;;
    s) stages=$OPTARG ;;
    o) out=$OPTARG ;;
    *) echo "usage: $0 [-n NP] [-s spectrum,coupling] [-o DIR] BUILD [BASELINE_BUILD]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-n NP] [-s spectrum,coupling] [-o DIR] BUILD [BASELINE_BUILD]" >&2; exit 2; }
builds=("$@")
. "$here/bench/stages_common.sh"
nncas_bench_start "$out" "${builds[@]}"
out=$nncas_bench_out
common=("${nncas_lenet_common[@]}") spectrum_opts=("${nncas_lenet_spectrum[@]}") coupling_opts=("${nncas_lenet_coupling[@]}")

# run STAGE INDEX: the stage on build INDEX; prints its seconds
run() {
  local stage=$1 i=$2 dir="$out/$1_$2" opts
  if [ "$stage" = spectrum ]; then opts=("${spectrum_opts[@]}"); else opts=("${coupling_opts[@]}"); fi
  rm -rf "$dir"
  mpiexec -q -n "$np" --oversubscribe "${builds[$i]}/nncas" "${common[@]}" "${opts[@]}" -output_dir "$dir" > "$dir.log" 2>&1 ||
    { echo "$0: $stage on ${builds[$i]} failed; see $dir.log" >&2; tail -5 "$dir.log" >&2; exit 1; }
  sed -n "s/^\[$stage\] epoch 0 done in \([0-9.]*\)s.*/\1/p" "$dir.log"
}

printf "%-9s %12s" stage "${builds[0]##*/}"
[ ${#builds[@]} -gt 1 ] && printf " %12s %8s" "baseline" "speed-up"
printf "   (%s ranks, seconds)\n" "$np"
for stage in ${stages//,/ }; do
  t0=$(run "$stage" 0)
  printf "%-9s %12s" "$stage" "$t0"
  if [ ${#builds[@]} -gt 1 ]; then
    t1=$(run "$stage" 1)
    printf " %12s %7.2fx" "$t1" "$(awk -v a="$t1" -v b="$t0" 'BEGIN { print a / b }')"
  fi
  printf "\n"
  grep -E "^\[$stage\] (extremes|trace|cc |skewness|kurtosis|\|\|H)" "$out/${stage}_0.log" | sed 's/^/    /' || true
done
if [ ${#builds[@]} -gt 1 ]; then
  for stage in ${stages//,/ }; do
    /usr/bin/python3 "$here/bench/stages_compare.py" "$out/${stage}_0/results.h5" "$out/${stage}_1/results.h5"
  done
fi
