#!/usr/bin/env bash
# The requeue chain mode (NNCAS_CHAIN_MODE=requeue, sbatch --requeue) on a
# real (one-node) SLURM.
#
#   test_requeue.sh BUILD_DIR SCRATCH_DIR
#
# Starts munged, slurmctld and slurmd (tests/slurm/cluster.sh), then with
# jobs/slurm/quickstart.sbatch on 2 tasks (training only, 2000 samples):
#  1. reference: one job with time to spare finishes the run;
#  2. requeue: one job gets the wall-time warning (SIGUSR1 to its batch
#     shell, sent by the test at chosen epochs, as --signal=B:USR1 would)
#     twice; each time nncas checkpoints and the job requeues itself
#     (scontrol requeue: same job id, one output file appended to); the
#     third start finishes the run, with the reference's weights bit for bit;
#  3. limit: with NNCAS_MAX_RESUBMITS=0 the warning ends the job with a
#     checkpoint and an error, and SLURM does not requeue it.
# Stops the cluster at the end, also on failure. Exit 77 (skipped) without
# root or without SLURM/munge installed (tests/run.sh installs them).
set -euo pipefail
build=$(cd "$1" && pwd)
scratch=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
script=$repo/jobs/slurm/quickstart.sbatch
# 30 epochs of 2,000 samples (0.1-0.2 s each on 2 idle cores): the test sees
# a checkpoint up to a second late, and with 10 a requeued job could finish
# before the second warning reached it (seen 2026-12-07 on an idle machine).
epochs=${NNCAS_SLURM_REQUEUE_EPOCHS:-30}
run_opts=(-spectrum_every 0 -coupling_every 0 -train_epochs "$epochs" -data_train_size 2000 -data_val_size 500)
source "$here/lib.sh"

reference_scenario() {
  note "reference: one job with time to spare ($epochs epochs, 2 tasks)"
  local id; id=$(submit "$scratch/ref" --time=10)
  wait_idle "$scratch/ref" 180
  grep -q "nncas-job: run finished" "$scratch/ref/nncas-quickstart-$id.out" ||
    { show_jobs "$scratch/ref"; fail "the reference job did not finish"; }
  note "reference done (job $id)"
}

# The job is warned at epochs 3 and 6 (it has checkpointed them and runs
# the next): each time it must requeue itself; SLURM then starts the same
# job again with SLURM_RESTART_COUNT 1, then 2, which continues from the
# checkpoint and, the third time, finishes the run.
requeue_scenario() {
  note "requeue: one job warned at epochs 3 and 6, requeued by itself twice"
  local dir=$scratch/requeue id out link
  id=$(NNCAS_CHAIN_MODE=requeue NNCAS_MAX_RESUBMITS=2 submit "$dir" --time=10 --requeue)
  out=$dir/nncas-quickstart-$id.out
  for link in 1 2; do
    wait_epoch "$dir" $((3 * link))
    note "job $id at epoch $(ckpt_state "$dir/out/checkpoint.h5" | cut -d' ' -f1): the wall-time warning"
    warn "$id"
    wait_running "$id" "$link" "$dir"
    note "job $id runs again (Restarts=$link)"
  done
  wait_idle "$dir" 180
  grep -h -E "^nncas-job: (job|got|requeued|run)|^Stopped|^Restarted|DUE TO JOB REQUEUE" "$out" | sed 's/^/    /'
  grep -q "nncas-job: run finished: $dir/out (chain of 3 jobs)" "$out" || { show_jobs "$dir"; fail "the run did not finish in the third start"; }
  ! grep -q "nncas-job: error" "$out" || { show_jobs "$dir"; fail "job $id reported an error"; }
  [ "$(grep -c "^nncas-job: requeued job $id (chain link [12])" "$out")" = 2 ] || { show_jobs "$dir"; fail "not 2 requeues in $out"; }
  [ "$(grep -c "^Stopped at epoch" "$out")" = 2 ] || { show_jobs "$dir"; fail "not 2 checkpoints at the warning"; }
  [ "$(grep -c "^Restarted from $dir/out/checkpoint.h5" "$out")" = 2 ] || { show_jobs "$dir"; fail "not 2 restarts"; }
  if ! [ "$(job_field "$id" JobState)" = COMPLETED ] || ! [ "$(job_field "$id" Restarts)" = 2 ]; then
    show_jobs "$dir"; fail "job $id: $(job_field "$id" JobState), Restarts=$(job_field "$id" Restarts)"
  fi
  same_weights "requeued twice vs uninterrupted" "$scratch/ref/out/checkpoint.h5" "$dir/out/checkpoint.h5"
  note "requeue done: job $id, 3 starts"
}

# NNCAS_MAX_RESUBMITS=0: the warning stops the run with a checkpoint, the job
# fails with the message and stays finished.
limit_scenario() {
  note "limit: NNCAS_MAX_RESUBMITS=0, warned at epoch 1"
  local dir=$scratch/limit id out
  id=$(NNCAS_CHAIN_MODE=requeue NNCAS_MAX_RESUBMITS=0 submit "$dir" --time=10 --requeue)
  out=$dir/nncas-quickstart-$id.out
  wait_epoch "$dir" 1
  warn "$id"
  wait_idle "$dir" 120
  grep -q "^Stopped at epoch" "$out" || { show_jobs "$dir"; fail "job $id: no checkpoint at the warning"; }
  grep -q "nncas-job: error: the chain reached NNCAS_MAX_RESUBMITS=0" "$out" || { show_jobs "$dir"; fail "job $id: no message of the limit"; }
  ! grep -q "requeued job" "$out" || fail "job $id requeued itself beyond NNCAS_MAX_RESUBMITS=0"
  if ! [ "$(job_field "$id" JobState)" = FAILED ] || ! [ "$(job_field "$id" Restarts)" = 0 ]; then
    show_jobs "$dir"; fail "job $id: $(job_field "$id" JobState), Restarts=$(job_field "$id" Restarts)"
  fi
  note "limit done"
}

skip_unless_possible
start_cluster
reference_scenario
requeue_scenario
limit_scenario
note "PASS: the run was requeued twice and finished as the uninterrupted one; total $((SECONDS - t0)) s"
