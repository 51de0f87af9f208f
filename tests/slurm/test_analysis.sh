#!/usr/bin/env bash
# The analysis job (jobs/slurm/analysis.sbatch) on a real (one-node) SLURM:
# the stages of a training run's kept epochs, run afterwards as a job array
# at another rank count with rank groups, give the training run's results.
#
#   test_analysis.sh BUILD_DIR SCRATCH_DIR
#
# Starts munged, slurmctld and slurmd (tests/slurm/cluster.sh), then on the
# quick start's net (600 samples; spectra and Algorithm 1 at epochs 0, 2, 4
# on 60 Hessian samples):
#  1. training: quickstart.sbatch on 1 task, 4 epochs, -checkpoint_keep 2,
#     computing the stages itself (for the comparison);
#  2. analysis: analysis.sbatch --array=0,2,4 on 2 tasks with -stage_groups 2:
#     task E runs epoch E's stages in OUT/epoch_EEEE (E = 0 from the
#     initialisation, 2 and 4 from checkpoints/epoch_EEEE.h5), trains nothing;
#     task 2 is warned inside its spectrum stage, once it has the extremes
#     (SIGUSR1 to its batch shell, as --signal=B:USR1 would): it stops after
#     its current trace vector with the stage's progress saved and resubmits
#     itself alone (sbatch --array=2); that job starts again from the kept
#     checkpoint, takes up the progress and finishes the stages;
#  3. every epoch's spectrum and Algorithm 1 agree with the training run's
#     (tests/stages_agree.py, as stages_from_kept_checkpoint_np3: Ritz values
#     and weights within 1e-9 of ||H||, trace 1e-9 relative, coupling indices
#     and counts equal, the CC submatrix within 1e-9);
#  4. NNCAS_EPOCH=3, an epoch not kept: the job stops with one error line.
# Stops the cluster at the end, also on failure. Exit 77 (skipped) without
# root or without SLURM/munge installed (tests/run.sh installs them).
set -euo pipefail
build=$(cd "$1" && pwd)
scratch=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
run_opts=(-train_epochs 4 -data_train_size 600 -data_val_size 100 -spectrum_every 2 -hessian_samples 60 -spectrum_m 16
  -spectrum_trace_vecs 600 -coupling_every 2 -coupling_draws 2 -coupling_nb 10 -coupling_nb_high 5 -coupling_calibrate false)
source "$here/lib.sh"

# sbatch_in DIR [ENV=VALUE...] -- SBATCH_ARGS...: sbatch from DIR (where the logs go); prints the job id.
sbatch_in() {
  local dir=$1 env=()
  shift
  while [ "$1" != -- ]; do env+=("$1"); shift; done
  shift
  mkdir -p "$dir"
  # The headers' warnings (15 min before the limit) would come at once with a
  # 10-minute limit: 1 minute, in the environment (SBATCH_SIGNAL), which a
  # resubmitted job keeps (sbatch's --signal it would not).
  (cd "$dir" && env NNCAS_BUILD="$build" SBATCH_SIGNAL=B:USR1@60 "${env[@]}" sbatch --parsable --time=10 "$@")
}

# wait_line LOG PATTERN: waits until LOG has a line matching PATTERN (60 s at most).
wait_line() {
  local end=$((SECONDS + 60))
  until grep -q "$2" "$1" 2>/dev/null; do
    [ $SECONDS -lt $end ] || { show_jobs "$(dirname "$1")"; fail "$1: no line '$2' after 60 s"; }
    sleep 0.1
  done
}

train() {
  note "training: quickstart.sbatch on 1 task, -checkpoint_keep 2, the stages at epochs 0, 2, 4"
  local dir=$scratch/train id
  id=$(sbatch_in "$dir" NNCAS_OUT=out -- --ntasks=1 "$repo/jobs/slurm/quickstart.sbatch" "${run_opts[@]}" -checkpoint_keep 2)
  wait_idle "$dir" 180
  grep -q "nncas-job: run finished: $dir/out " "$dir/nncas-quickstart-$id.out" || { show_jobs "$dir"; fail "the training did not finish"; }
  [ -f "$dir/out/checkpoints/epoch_0002.h5" ] && [ -f "$dir/out/checkpoints/epoch_0004.h5" ] ||
    fail "no kept checkpoints: $(ls "$dir/out/checkpoints" 2>&1)"
  note "training done: kept $(cd "$dir/out/checkpoints" && echo *)"
}

analysis() {
  note "analysis: analysis.sbatch --array=0,2,4 on 2 tasks, -stage_groups 2; task 2 warned inside its spectrum stage"
  local dir=$scratch/analysis a b e log
  a=$(sbatch_in "$dir" NNCAS_INPUT=quickstart NNCAS_TRAIN="$scratch/train/out" NNCAS_OUT=out -- \
        --ntasks=2 --array=0,2,4 "$repo/jobs/slurm/analysis.sbatch" "${run_opts[@]}" -stage_groups 2)
  # The extremes take about a quarter of the spectrum stage, the trace vectors
  # the rest (2-3 s on 2 idle cores): the warning comes among them.
  wait_line "$dir/nncas-analysis-${a}_2.out" "^\[spectrum\] extremes:"
  warn "${a}_2"
  wait_idle "$dir" 180
  for e in 0 2 4; do
    log=$dir/nncas-analysis-${a}_$e.out
    grep -q "^nncas-job: analysis of epoch $e: " "$log" || { show_jobs "$dir"; fail "$log: not the analysis of epoch $e"; }
    ! grep -q "^epoch " "$log" || fail "$log: the analysis trained"
  done
  for e in 0 4; do
    grep -q "nncas-job: run finished: $dir/out/epoch_000$e " "$dir/nncas-analysis-${a}_$e.out" || { show_jobs "$dir"; fail "task $e did not finish"; }
  done
  b=$(sed -n 's/^nncas-job: resubmitted as job \([0-9]*\) (chain link 1).*/\1/p' "$dir/nncas-analysis-${a}_2.out")
  [ -n "$b" ] || { show_jobs "$dir"; fail "task 2 of array $a, warned, did not resubmit itself"; }
  log=$dir/nncas-analysis-${b}_2.out
  grep -q "nncas-job: run finished: $dir/out/epoch_0002 (chain of 2 jobs)" "$log" || { show_jobs "$dir"; fail "the resubmitted task ${b}_2 did not finish"; }
  grep -q "^\[spectrum\] stopped: progress saved to $dir/out/epoch_0002/spectrum_progress.h5" "$dir/nncas-analysis-${a}_2.out" ||
    { show_jobs "$dir"; fail "task 2 did not stop inside its spectrum stage with its progress saved"; }
  grep -q "^\[spectrum\] resuming from $dir/out/epoch_0002/spectrum_progress.h5" "$log" ||
    { show_jobs "$dir"; fail "the resubmitted task ${b}_2 did not take up the spectrum's progress"; }
  note "task 2 stopped in its spectrum stage after the extremes, progress saved; ${b}_2 took it up"
  for e in 0 2 4; do
    /usr/bin/python3 "$repo/tests/stages_agree.py" "$scratch/train/out/results.h5" "$dir/out/epoch_000$e/results.h5" "$e" \
      --label "epoch $e, 2 ranks, G = 2 (training on 1)" || fail "epoch $e: the analysis differs from the training run's stages"
  done
  note "analysis done: tasks ${a}_0, ${a}_4 finished; ${a}_2 continued as ${b}_2 and finished"
}

missing_epoch() {
  note "NNCAS_EPOCH=3 (not kept): one error line"
  local dir=$scratch/missing id
  id=$(sbatch_in "$dir" NNCAS_INPUT=quickstart NNCAS_TRAIN="$scratch/train/out" NNCAS_EPOCH=3 -- \
         --ntasks=1 "$repo/jobs/slurm/analysis.sbatch" "${run_opts[@]}")
  wait_idle "$dir" 60
  grep -q "^nncas-job: error: no kept checkpoint $scratch/train/out/checkpoints/epoch_0003.h5: train with -checkpoint_keep" \
    "$dir"/nncas-analysis-"$id"_*.out || { show_jobs "$dir"; fail "NNCAS_EPOCH=3: not the error expected"; }
  [ "$(job_field "$id" ExitCode)" = 1:0 ] || fail "NNCAS_EPOCH=3: exit code $(job_field "$id" ExitCode), want 1:0"
  ! grep -q "launching:" "$dir"/nncas-analysis-"$id"_*.out || fail "NNCAS_EPOCH=3: nncas was started"
}

skip_unless_possible
start_cluster
train
analysis
missing_epoch
note "PASS: the stages of kept epochs 0, 2, 4, run as an array on 2 ranks with 2 groups (one task warned and resubmitted), equal the training run's; total $((SECONDS - t0)) s"
