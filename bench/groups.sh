#!/usr/bin/env bash
# Rank groups (-stage_groups G) against one group: the same stages as
# bench/stages.sh (the paper's LeNet at initialisation: the spectrum with a
# 100-vector trace; one coupling draw of Algorithm 1), each run once per G on
# NP ranks with one OpenBLAS thread each. Prints the stage's seconds per G and
# compares every grouped results file with G = 1's (bench/stages_compare.py:
# extremes, Ritz values, density, trace, coupling counts). A benchmark, not a
# test: about 2 minutes per spectrum run on 2 ranks.
#
#   bench/groups.sh [-n NP] [-G "1 2"] [-s spectrum,coupling] [-v NVEC] [-o DIR] BUILD [-- NNCAS_OPTIONS...]
#
# -v sets -spectrum_nvec (default 4: the groups share the density's vectors);
# -o keeps the runs in DIR (default: a temporary directory, removed).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
np=2 groups="1 2" stages=spectrum nvec=4 out=
usage="usage: $0 [-n NP] [-G \"1 2\"] [-s spectrum,coupling] [-v NVEC] [-o DIR] BUILD [-- NNCAS_OPTIONS...]"
while getopts "n:G:s:v:o:" opt; do
  case $opt in
    n) np=$OPTARG ;;
    G) groups=$OPTARG ;;
    s) stages=$OPTARG ;;
    v) nvec=$OPTARG ;;
    o) out=$OPTARG ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
build=$1
shift
[ "${1:-}" = -- ] && shift
extra=("$@")
case " $groups " in *" 1 "*) ;; *) groups="1 $groups" ;; esac # the reference
. "$here/bench/stages_common.sh"
nncas_bench_start "$out" "$build"
out=$nncas_bench_out
common=("${nncas_lenet_common[@]}") spectrum_opts=("${nncas_lenet_spectrum[@]}" -spectrum_nvec "$nvec") coupling_opts=("${nncas_lenet_coupling[@]}")

printf "%-9s" stage
for g in $groups; do printf " %9s" "G=$g"; done
printf "   (%s ranks, seconds; n_vec %s)\n" "$np" "$nvec"
for stage in ${stages//,/ }; do
  if [ "$stage" = spectrum ]; then opts=("${spectrum_opts[@]}"); else opts=("${coupling_opts[@]}"); fi
  printf "%-9s" "$stage"
  for g in $groups; do
    dir="$out/${stage}_G$g"
    rm -rf "$dir"
    mpiexec -q -n "$np" --oversubscribe "$build/nncas" "${common[@]}" "${opts[@]}" -stage_groups "$g" "${extra[@]}" \
      -output_dir "$dir" > "$dir.log" 2>&1 ||
      { echo; echo "$0: $stage with G = $g failed; see $dir.log" >&2; tail -5 "$dir.log" >&2; exit 1; }
    printf " %9s" "$(sed -n "s/^\[$stage\] epoch 0 done in \([0-9.]*\)s.*/\1/p" "$dir.log")"
  done
  printf "\n"
done
status=0
for stage in ${stages//,/ }; do
  for g in $groups; do
    [ "$g" = 1 ] && continue
    echo "$stage, G = $g against G = 1:"
    /usr/bin/python3 "$here/bench/stages_compare.py" "$out/${stage}_G$g/results.h5" "$out/${stage}_G1/results.h5" || status=1
  done
done
exit $status
