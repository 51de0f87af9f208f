#!/usr/bin/env bash
# A stop signal in the middle of a stage, on NP ranks: the stage saves its
# progress (OUTPUT_DIR/<stage>_progress.h5), the run checkpoints and exits
# with status 3; `-restart` takes the progress up, and the finished run's
# results.h5 and checkpoint.h5 are bit for bit those of a run never stopped
# (tests/h5same.py, timings and provenance aside), with the progress file gone.
# -STAGE_stop_after K acts as if the signal came after the stage's K-th unit
# of work (a coupling batch; the spectrum's normalization with its extremes, a density
# or trace vector), deterministic; with REAL=1 (coupling) a SIGUSR1 is sent to
# mpiexec in the middle of the stage. Options after REAL go to every run
# (-stage_groups G: the stop comes inside a round of the groups).
# Usage: test_stage_stop.sh NNCAS_BINARY SCRATCH_DIR NP STAGE [REAL [NNCAS_OPTIONS...]]
set -uo pipefail
nncas=$1
dir=$2
np=$3
stage=$4
real=${5:-0}
extra=("${@:6}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rm -rf "$dir" && mkdir -p "$dir"
base=(-data_format mixture -synth_train 240 -synth_val 60 -synth_shape 1,6,6 -net_layers "dense:12,tanh,dense:8,relu,dense:1"
      -train_batch 40 -train_epochs 2)
case $stage in
  coupling) base+=(-coupling_every 1 -coupling_nb 4,8 -coupling_nb_high 4 -coupling_draws 2 -coupling_calibrate false -coupling_submatrix 16)
            stop_after=5 ;;
  spectrum) base+=(-spectrum_every 1 -hessian_samples 60 -spectrum_m 12 -spectrum_m0 12 -spectrum_nvec 3 -spectrum_trace_vecs 4
                   -spectrum_topk 2)
            stop_after=3 ;; # the normalization (density vector 1) with the extremes: one unit; two more density vectors
  *) echo "unknown stage $stage"; exit 2 ;;
esac
base+=("${extra[@]}")
if [ "$real" = 1 ]; then # a stage long enough to be signalled in the middle
  base=(-data_format mixture -synth_train 2400 -synth_val 60 -synth_shape 1,12,12 -net_layers "dense:64,tanh,dense:32,relu,dense:1"
        -train_batch 40 -train_epochs 1 -coupling_every 1 -coupling_nb 40 -coupling_nb_high 4 -coupling_draws 2
        -coupling_calibrate false -coupling_submatrix 16 -coupling_block 8)
fi
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
run() { timeout 600 mpiexec -q -n "$np" --oversubscribe "$nncas" "${base[@]}" "$@"; }

run -output_dir "$dir/ref" >"$dir/ref.log" 2>&1 || { tail -n 5 "$dir/ref.log"; echo "FAIL: the reference run did not complete"; exit 1; }

out=$dir/stopped
if [ "$real" = 1 ]; then
  mpiexec -q -n "$np" --oversubscribe "$nncas" "${base[@]}" -output_dir "$out" >"$dir/stop.log" 2>&1 & # Open MPI forwards SIGUSR1
  pid=$!
  # the signal as the first draw's skewness batches end: the second draw is still to come
  for _ in $(seq 3000); do grep -q '^\[coupling draw 1/2 N_b=4\]' "$dir/stop.log" && break; sleep 0.1; done
  kill -USR1 "$pid"
  wait "$pid"
  rc=$?
else
  run -output_dir "$out" "-${stage}_stop_after" "$stop_after" >"$dir/stop.log" 2>&1
  rc=$?
fi
if [ "$rc" != 3 ]; then
  fail "stop: exit status $rc (want 3)"; tail -n 5 "$dir/stop.log"
elif ! grep -q "^\[$stage\] stopped: progress saved" "$dir/stop.log" || [ ! -f "$out/${stage}_progress.h5" ]; then
  fail "stop: the $stage stage did not save its progress"; tail -n 5 "$dir/stop.log"
else
  echo "ok   stopped in the $stage stage: $(grep '^Stopped in' "$dir/stop.log")"
fi

run -output_dir "$out" -restart >"$dir/resume.log" 2>&1
rc=$?
if [ "$rc" != 0 ]; then
  fail "resume: exit status $rc"; tail -n 5 "$dir/resume.log"
elif ! grep -q "^\[$stage\] resuming from" "$dir/resume.log"; then
  fail "resume: the saved progress was not taken up"
elif [ -e "$out/${stage}_progress.h5" ]; then
  fail "resume: the progress file is left after the stage finished"
else
  for f in results checkpoint; do
    /usr/bin/python3 "$here/h5same.py" "$dir/ref/$f.h5" "$out/$f.h5" || fail "resume: $f.h5 differs from the run never stopped"
  done
fi

[ "$failures" = 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "a stopped $stage stage resumes bit for bit on $np rank(s)"
