#!/usr/bin/env bash
# SLURM jobs that survive their wall time, on a real (one-node) SLURM.
#
#   test_chain.sh BUILD_DIR SCRATCH_DIR
#
# Starts munged, slurmctld and slurmd (tests/slurm/cluster.sh), then with
# jobs/slurm/quickstart.sbatch on 2 tasks (training only: no spectrum or
# coupling stage, which would not look at the signal while they run):
#  1. reference: one job with time to spare finishes the run and does not
#     resubmit itself;
#  2. chain: jobs with a 1-minute limit get SIGUSR1 before it, checkpoint,
#     resubmit themselves, and the chain ends with the reference's weights,
#     bit for bit; prints how many resubmissions it took (at least one);
#  3. kill: a job whose ranks are killed without warning (SIGKILL), and one
#     cancelled with scancel --signal=KILL, each submitted again, resume from
#     the last checkpoint on disk; the run ends with the reference's weights,
#     bit for bit.
# Stops the cluster at the end, also on failure. Exit 77 (skipped) without
# root or without SLURM/munge installed (tests/run.sh installs them).
set -euo pipefail
build=$(cd "$1" && pwd)
scratch=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
script=$repo/jobs/slurm/quickstart.sbatch
# About 45 s of training on 2 cores: longer than the most one 1-minute job can
# do after SIGUSR1 (see chain_scenario), so the chain needs a resubmission.
epochs=${NNCAS_SLURM_TEST_EPOCHS:-60}
run_opts=(-spectrum_every 0 -coupling_every 0 -train_epochs "$epochs")
source "$here/lib.sh"

reference_scenario() {
  note "reference: one job with time to spare ($epochs epochs, 2 tasks)"
  local id; id=$(submit "$scratch/ref" --time=10)
  wait_idle "$scratch/ref" 180
  local out=$scratch/ref/nncas-quickstart-$id.out
  grep -q "nncas-job: run finished" "$out" || { show_jobs "$scratch/ref"; fail "the reference job did not finish"; }
  ! grep -q "resubmitted" "$out" || fail "a finished run resubmitted itself"
  [ "$(job_state "$id")" = COMPLETED ] || { show_jobs "$scratch/ref"; fail "reference job $id: $(job_state "$id")"; }
  note "reference done (job $id, no resubmission)"
}

# A 1-minute limit and SIGUSR1 25 s before it: slurmctld checks limits every
# 30 s and sends the signal at the first check less than lead + 30 s before
# the end, i.e. 5-35 s into each job. Options given on sbatch's command line
# (--time, --ntasks) are carried over by the resubmission; --signal is not
# (SLURM does not tell the job), so it goes in SBATCH_SIGNAL, which is.
chain_scenario() {
  note "chain: jobs of 1 minute with SIGUSR1 25 s before the limit"
  local first; first=$(SBATCH_SIGNAL=B:USR1@25 submit "$scratch/chain" --time=1)
  wait_idle "$scratch/chain" 420
  local outs=("$scratch"/chain/nncas-quickstart-*.out)
  cat "${outs[@]}" | grep -q "nncas-job: run finished" || { show_jobs "$scratch/chain"; fail "the chain did not finish"; }
  ! cat "${outs[@]}" | grep -q "nncas-job: error" || { show_jobs "$scratch/chain"; fail "a job of the chain failed"; }
  resubmissions=$(cat "${outs[@]}" | grep -c "nncas-job: resubmitted as job" || true)
  # Each resubmission follows a checkpoint at the signal, or (rarely, on a
  # slow start) ranks killed by a signal that came before nncas's handler.
  local stops early
  stops=$(cat "${outs[@]}" | grep -c "^Stopped at epoch" || true)
  early=$(cat "${outs[@]}" | grep -c "after the wall-time warning; continuing" || true)
  [ "$resubmissions" -ge 1 ] ||
    fail "no resubmission: the run fits in one job here; raise NNCAS_SLURM_TEST_EPOCHS (now $epochs)"
  [ $((stops + early)) = "$resubmissions" ] ||
    { show_jobs "$scratch/chain"; fail "$stops checkpoints on a signal, $early early kills, but $resubmissions resubmissions"; }
  [ "$early" = 0 ] || note "$early jobs got the signal before nncas could handle it (killed; continued from the checkpoint)"
  local f
  for f in "${outs[@]}"; do # when each job got its signal, for the record
    grep -h -E "^nncas-job: (job|got)|^Stopped|^Restarted" "$f" | sed 's/^/    /'
  done
  same_weights "chain of $((resubmissions + 1)) jobs vs uninterrupted" "$scratch/ref/out/checkpoint.h5" "$scratch/chain/out/checkpoint.h5"
  note "chain done: $resubmissions resubmissions (first job $first)"
}

# check_restart DIR JOB STATE: job JOB continued from "epoch step" STATE (the
# checkpoint's 0-based epoch; nncas prints epochs 1-based).
check_restart() {
  local out=$1/nncas-quickstart-$2.out
  local want="Restarted from $1/out/checkpoint.h5 at epoch $((${3% *} + 1)) step ${3#* }"
  grep -qx "$want" "$out" || { grep "^Restarted" "$out"; fail "job $2 did not start with: $want"; }
}

# Two interruptions of one run, each followed by submitting the same job again:
#  - SIGKILL to every rank at once (scancel --signal=KILL JOB.0, the job
#    step), as a node failure would: no warning, no checkpoint; the next job
#    continues from the last checkpoint on disk (the last finished epoch);
#  - scancel --signal=KILL JOB: SLURM cancels the job, which means SIGTERM
#    first and SIGKILL only KillWait (30 s) later; nncas checkpoints at the
#    step it was in, and the job does not resubmit itself (it was cancelled).
# The run, finished, has the reference's weights bit for bit.
kill_scenario() {
  note "kill: SIGKILL to the ranks mid-epoch, then submit again"
  local dir=$scratch/kill id out on_disk printed
  local ck=$dir/out/checkpoint.h5
  id=$(submit "$dir" --time=10)
  wait_epoch "$dir" 3
  scancel --signal=KILL "$id.0"
  wait_idle "$dir" 60
  out=$dir/nncas-quickstart-$id.out
  grep -q "nncas-job: error: nncas ended with status" "$out" || { show_jobs "$dir"; fail "job $id: no report of the killed ranks"; }
  ! grep -q "resubmitted\|^Stopped at" "$out" || fail "job $id wrote a checkpoint or resubmitted itself after SIGKILL"
  on_disk=$(ckpt_state "$ck")
  printed=$(grep -c "^epoch .*/$epochs:" "$out" || true)
  note "killed job $id after $printed epochs; the checkpoint on disk: epoch ${on_disk% *} step ${on_disk#* }"
  # Every finished epoch is checkpointed (-checkpoint_every 1): the one on
  # disk is the last epoch printed, or the one before if the kill came
  # between the epoch's line and its checkpoint.
  [ "${on_disk% *}" -ge $((printed - 1)) ] || fail "checkpoint at epoch ${on_disk% *}, but $printed epochs were done"

  id=$(submit "$dir" --time=10)
  wait_epoch "$dir" $((${on_disk% *} + 3))
  check_restart "$dir" "$id" "$on_disk"
  note "job $id resumed there; now scancel --signal=KILL $id"
  scancel --signal=KILL "$id"
  wait_idle "$dir" 60
  out=$dir/nncas-quickstart-$id.out
  grep -q "^Stopped at epoch" "$out" || { show_jobs "$dir"; fail "job $id: no checkpoint when cancelled"; }
  if ! grep -q "not resubmitting" "$out" || grep -q "resubmitted as" "$out"; then
    show_jobs "$dir"; fail "the cancelled job $id resubmitted itself"
  fi
  on_disk=$(ckpt_state "$ck")
  note "cancelled job $id checkpointed at epoch ${on_disk% *} step ${on_disk#* }"

  id=$(submit "$dir" --time=10)
  wait_idle "$dir" 180
  out=$dir/nncas-quickstart-$id.out
  grep -q "nncas-job: run finished" "$out" || { show_jobs "$dir"; fail "the last job $id did not finish"; }
  check_restart "$dir" "$id" "$on_disk"
  same_weights "killed, cancelled, resubmitted vs uninterrupted" "$scratch/ref/out/checkpoint.h5" "$ck"
  note "kill done"
}

skip_unless_possible
start_cluster
reference_scenario
chain_scenario
kill_scenario
note "PASS: $resubmissions resubmissions in the wall-time chain; the killed job resumed; total $((SECONDS - t0)) s"
