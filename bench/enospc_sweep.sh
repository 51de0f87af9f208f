#!/usr/bin/env bash
# A full disk at every write point of a run: for n = 1, 2, ... the n-th
# reservation of disk space fails (-io_inject_enospc n) until a run gets
# through. Each failing run must end within 60 s with status 1, one
# "nncas: error: ... No space left on device" line, and no *.tmp left; then
# `-restart auto` with space completes, and its results.h5 and checkpoint.h5
# equal those of a run that never failed (tests/h5same.py). Prints the number
# of write points and any case that ended otherwise.
#
#   bench/enospc_sweep.sh BUILD_DIR SCRATCH [NP...]     (default NP: 1 2)
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
nncas=$1/nncas
dir=$2
shift 2
nps=("${@:-1 2}")
[ $# -eq 0 ] && nps=(1 2)
export OPENBLAS_NUM_THREADS=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
base=(-data_format mixture -synth_train 240 -synth_val 60 -synth_shape 1,6,6 -net_layers "dense:12,tanh,dense:8,relu,dense:1"
      -train_batch 40 -train_epochs 2 -spectrum_every 1 -hessian_samples 60 -spectrum_m 12 -spectrum_m0 12 -spectrum_extremes false
      -coupling_every 2 -coupling_nb 8 -coupling_nb_high 4 -coupling_draws 1 -coupling_calibrate false -coupling_submatrix 16)
for np in "${nps[@]}"; do
  d=$dir/np$np
  rm -rf "$d" && mkdir -p "$d"
  mpiexec -q -n "$np" --oversubscribe "$nncas" "${base[@]}" -output_dir "$d/ref" >"$d/ref.log" 2>&1 || { echo "np $np: the reference run failed"; exit 1; }
  bad=0
  for n in $(seq 1 5000); do
    out=$d/run
    rm -rf "$out"
    timeout 60 mpiexec -q -n "$np" --oversubscribe "$nncas" "${base[@]}" -output_dir "$out" -io_inject_enospc "$n" >"$d/fail.log" 2>"$d/fail.err"
    rc=$?
    if [ "$rc" = 0 ]; then echo "np $np: $((n - 1)) write points, each failed cleanly: $((n - 1 - bad)); not cleanly: $bad"; break; fi
    lines=$(grep -c . "$d/fail.err")
    if [ "$rc" != 1 ] || [ "$lines" != 1 ] || ! grep -q '^nncas: error: .*No space left on device' "$d/fail.err" ||
       ls "$out"/*.tmp >/dev/null 2>&1; then
      echo "np $np n $n: status $rc, $lines stderr lines: $(head -c 300 "$d/fail.err")"; bad=$((bad + 1)); continue
    fi
    if ! timeout 120 mpiexec -q -n "$np" --oversubscribe "$nncas" "${base[@]}" -output_dir "$out" -restart auto >"$d/resume.log" 2>&1; then
      echo "np $np n $n: the restart failed: $(tail -n 1 "$d/resume.log")"; bad=$((bad + 1)); continue
    fi
    for f in results checkpoint; do
      /usr/bin/python3 "$here/tests/h5same.py" "$d/ref/$f.h5" "$out/$f.h5" >"$d/same.log" 2>&1 ||
        { echo "np $np n $n: $f.h5 differs: $(tail -n 1 "$d/same.log" | head -c 300)"; bad=$((bad + 1)); }
    done
  done
done
