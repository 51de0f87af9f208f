#!/usr/bin/env bash
# Sweeps as SLURM job arrays (jobs/slurm/sweep.sbatch) on a real (one-node)
# SLURM: each task runs its own value in its own output directory and
# continues through a wall-time warning alone, in either chain mode.
#
#   test_array.sh BUILD_DIR SCRATCH_DIR
#
# Starts munged, slurmctld and slurmd (tests/slurm/cluster.sh), then the
# quick start (training only, 2000 samples) on 1 task per array task:
#  1. resubmit: NNCAS_SWEEP="-train_seed 1 2 3", --array=0-2: every task
#     finishes in OUT/task_I with its seed; task 1, warned (SIGUSR1 to its
#     batch shell, as --signal=B:USR1 would), checkpoints and resubmits
#     itself alone (sbatch --array=1), and that job finishes the task;
#  2. requeue: NNCAS_SWEEP_FILE with seed 2 for tasks 0 and 1, --array=0-1,
#     --requeue: task 1 (whose plain job id is also the array's), warned,
#     requeues itself alone (task 0 is not restarted) and finishes;
#  3. the three runs of seed 2 (one uninterrupted, one resubmitted, one
#     requeued) have the same weights, bit for bit.
# Stops the cluster at the end, also on failure. Exit 77 (skipped) without
# root or without SLURM/munge installed (tests/run.sh installs them).
set -euo pipefail
build=$(cd "$1" && pwd)
scratch=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
script=$repo/jobs/slurm/sweep.sbatch
epochs=${NNCAS_SLURM_ARRAY_EPOCHS:-6}
run_opts=(-spectrum_every 0 -coupling_every 0 -train_epochs "$epochs" -data_train_size 2000 -data_val_size 500)
source "$here/lib.sh"

# submit_array DIR [sbatch options]: the quick start as a sweep from DIR, output DIR/out/task_I;
# prints the array's job id. The sweep and the chain mode come from the environment.
submit_array() {
  local dir=$1; shift
  mkdir -p "$dir"
  # The header's warning (600 s before the limit) would come at once with a 10-minute limit.
  (cd "$dir" && NNCAS_BUILD=$build NNCAS_OUT=out NNCAS_INPUT=quickstart \
     sbatch --parsable --ntasks=1 --time=10 --signal=B:USR1@60 "$@" "$script" "${run_opts[@]}")
}

# task_options DIR I: the options recorded in task I's results.h5.
task_options() {
  /usr/bin/python3 -c 'import h5py, sys; o = h5py.File(sys.argv[1], "r").attrs["options"]; print(o.decode() if isinstance(o, bytes) else o)' \
    "$1/out/task_$2/results.h5"
}

# finished DIR LOG I SEED: task I's run finished (LOG says so) in DIR/out/task_I with -train_seed SEED.
finished() {
  grep -q "nncas-job: run finished: $1/out/task_$3 " "$2" || { show_jobs "$1"; fail "$2: task $3 did not finish"; }
  grep -q "nncas-job: sweep task $3: -train_seed $4\$" "$2" || { show_jobs "$1"; fail "$2: task $3 is not the sweep's -train_seed $4"; }
  task_options "$1" "$3" | grep -q -- "-train_seed $4\\b" || fail "task $3's results.h5 lacks -train_seed $4"
}

resubmit_scenario() {
  note "resubmit: NNCAS_SWEEP=\"-train_seed 1 2 3\", --array=0-2, task 1 warned at epoch 2"
  local dir=$scratch/resubmit a b i
  a=$(NNCAS_SWEEP="-train_seed 1 2 3" submit_array "$dir" --array=0-2)
  wait_epoch "$dir" 2 "$dir/out/task_1/checkpoint.h5"
  warn "${a}_1"
  wait_idle "$dir" 180
  for i in 0 2; do
    finished "$dir" "$dir/nncas-sweep-${a}_$i.out" "$i" $((i + 1))
    ! grep -q "^Restarted\|resubmitted" "$dir/nncas-sweep-${a}_$i.out" || fail "task $i was not warned, but restarted"
  done
  b=$(sed -n 's/^nncas-job: resubmitted as job \([0-9]*\) (chain link 1).*/\1/p' "$dir/nncas-sweep-${a}_1.out")
  [ -n "$b" ] || { show_jobs "$dir"; fail "task 1 of array $a did not resubmit itself"; }
  [ -f "$dir/nncas-sweep-${b}_1.out" ] || { show_jobs "$dir"; fail "the resubmitted job $b is not task 1 of an array"; }
  grep -q "^Restarted from $dir/out/task_1/checkpoint.h5" "$dir/nncas-sweep-${b}_1.out" || { show_jobs "$dir"; fail "job ${b}_1 did not restart"; }
  finished "$dir" "$dir/nncas-sweep-${b}_1.out" 1 2
  note "resubmit done: tasks ${a}_0, ${a}_2 finished; ${a}_1 continued as ${b}_1 and finished"
}

requeue_scenario() {
  note "requeue: NNCAS_SWEEP_FILE, --array=0-1 --requeue, task 1 warned at epoch 2"
  local dir=$scratch/requeue a
  mkdir -p "$dir"
  printf '%s\n' "# seed 2 twice: task 0 uninterrupted, task 1 requeued" "-train_seed 2" "" "-train_seed 2" >"$dir/seeds.sweep"
  a=$(NNCAS_CHAIN_MODE=requeue NNCAS_SWEEP_FILE=seeds.sweep submit_array "$dir" --array=0-1 --requeue)
  wait_epoch "$dir" 2 "$dir/out/task_1/checkpoint.h5"
  warn "${a}_1"
  wait_running "${a}_1" 1 "$dir"
  wait_idle "$dir" 180
  finished "$dir" "$dir/nncas-sweep-${a}_0.out" 0 2
  finished "$dir" "$dir/nncas-sweep-${a}_1.out" 1 2
  grep -q "^nncas-job: requeued job ${a}_1 (chain link 1)" "$dir/nncas-sweep-${a}_1.out" || { show_jobs "$dir"; fail "task 1 did not requeue itself"; }
  if ! [ "$(job_field "${a}_0" Restarts)" = 0 ] || ! [ "$(job_field "${a}_1" Restarts)" = 1 ]; then
    show_jobs "$dir"; fail "Restarts: task 0 $(job_field "${a}_0" Restarts), task 1 $(job_field "${a}_1" Restarts) (want 0 and 1)"
  fi
  [ "$(grep -c "^nncas-job: job " "$dir/nncas-sweep-${a}_0.out")" = 1 ] || fail "task 0 ran more than once"
  note "requeue done: task ${a}_1 requeued alone and finished"
}

skip_unless_possible
start_cluster
resubmit_scenario
requeue_scenario
same_weights "seed 2 resubmitted vs uninterrupted" "$scratch/requeue/out/task_0/checkpoint.h5" "$scratch/resubmit/out/task_1/checkpoint.h5"
same_weights "seed 2 requeued vs uninterrupted" "$scratch/requeue/out/task_0/checkpoint.h5" "$scratch/requeue/out/task_1/checkpoint.h5"
note "PASS: arrays of 3 and 2 tasks, one output directory each; a task continued alone in each chain mode; total $((SECONDS - t0)) s"
