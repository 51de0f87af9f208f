# shellcheck shell=bash
# shellcheck disable=SC2154 # build, scratch, here, repo, script and run_opts are the sourcing test's
# What the SLURM tests (tests/slurm/test_*.sh) share, sourced by them: skip
# without root or SLURM, start and stop the one-node cluster (cluster.sh),
# wait for jobs while their output grows, read and compare checkpoints.
# The sourcing script sets build, scratch, here and repo first.
export PATH=$PATH:/usr/sbin:/sbin # the daemons, for a PATH without sbin
t0=$SECONDS

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "[$((SECONDS - t0)) s] $*"; }

skip_unless_possible() {
  local t
  [ "$(id -u)" = 0 ] || { echo "SKIP: the SLURM test runs the daemons as root"; exit 77; }
  for t in munged slurmctld slurmd sbatch; do
    command -v "$t" >/dev/null || { echo "SKIP: $t missing (Debian packages slurm-wlm munge; tests/run.sh installs them)"; exit 77; }
  done
}

# The cluster's directory is fixed for a scratch directory, so that a cluster
# left by an interrupted test is found and stopped; it is short because
# munged's socket path must fit in 108 bytes.
start_cluster() {
  cluster=$scratch/cluster
  [ ${#cluster} -lt 60 ] || cluster=/tmp/nncas-slurm-$(echo "$scratch" | md5sum | cut -c1-10)
  [ ! -d "$cluster" ] || "$here/cluster.sh" stop "$cluster" >/dev/null
  rm -rf "$cluster" "$scratch" && mkdir -p "$scratch"
  trap 'stop_cluster' EXIT
  trap 'exit 1' INT TERM
  "$here/cluster.sh" start "$cluster"
  export SLURM_CONF=$cluster/slurm.conf
}

stop_cluster() {
  local rc=$?
  "$here/cluster.sh" stop "$cluster" || rc=1
  [ $rc = 0 ] || echo "cluster logs kept in $cluster/log"
  exit $rc
}

# show_jobs DIR: the state of every job of DIR and the tail of its output, for a failure.
show_jobs() {
  local f id
  squeue || true
  for f in "$1"/*.out; do
    [ -f "$f" ] || continue
    id=${f##*-}; id=${id%.out}
    scontrol show job "$id" 2>/dev/null | grep -E "JobId|JobState|RunTime|StartTime|ExitCode" || true
    echo "---- $f (tail)"; tail -n 15 "$f"
  done
  tail -n 20 "$cluster/log/slurmctld.log"
}

# submit DIR [sbatch options]: submits the quick-start job from DIR (where
# its output files go) with the output directory DIR/out; prints the job id.
submit() {
  local dir=$1; shift
  mkdir -p "$dir"
  (cd "$dir" && NNCAS_BUILD=$build NNCAS_OUT=out sbatch --parsable --ntasks=2 "$@" "$script" "${run_opts[@]}")
}

# wait_idle DIR SECONDS: waits until no job is queued or running (a chain
# always has its next job queued before the current one ends). The deadline
# follows the jobs' progress: it fails when their output (DIR/*.out) has not
# grown for SECONDS, so a busy machine that runs the jobs slower does not fail
# the test, while a hung job does; and when the whole test has run for
# budget seconds, so that it always stops the cluster before ctest's TIMEOUT.
budget=${NNCAS_SLURM_BUDGET:-1500}
wait_idle() {
  local stall=$2 size last=-1 end
  while [ -n "$(squeue -h -o %i)" ]; do
    size=$( (cat "$1"/*.out 2>/dev/null || true) | wc -c)
    if [ "$size" != "$last" ]; then
      last=$size
      end=$((SECONDS + stall))
    fi
    [ $SECONDS -lt $end ] || { show_jobs "$1"; fail "jobs still queued, their output unchanged for $stall s"; }
    [ $SECONDS -lt "$budget" ] || { show_jobs "$1"; fail "jobs still queued after $budget s of the test"; }
    sleep 1
  done
}

# job_state ID: SLURM's final state of a job (kept MinJobAge seconds).
job_state() { scontrol show job "$1" | sed -n 's/^ *JobState=\([A-Z_]*\).*/\1/p'; }

# ckpt_state FILE: "epoch step" of a checkpoint (the next step to run).
ckpt_state() {
  /usr/bin/python3 -c 'import h5py, sys; s = h5py.File(sys.argv[1], "r")["state"].attrs; print(int(s["epoch"]), int(s["step"]))' "$1"
}

# same_weights WHAT A B: the weights and momentum of checkpoints A and B are
# bitwise identical.
same_weights() {
  local r
  r=$(/usr/bin/python3 "$repo/tests/h5compare.py" "$2" "$3" --bitwise) ||
    { echo "$r"; fail "$1: the weights differ from the uninterrupted run"; }
  echo "$1: $r"
}

# wait_epoch DIR EPOCH [CHECKPOINT]: waits until CHECKPOINT (default
# DIR/out/checkpoint.h5) is at EPOCH or later, then a moment more, so that
# the run is inside the next epoch. Fails when the jobs' output (DIR/*.out)
# has not grown for 60 s (as wait_idle).
wait_epoch() {
  local ck=${3:-$1/out/checkpoint.h5} e size last=-1 end
  while :; do
    e=$(ckpt_state "$ck" 2>/dev/null | cut -d' ' -f1) || true
    [ "${e:-0}" -lt "$2" ] || break
    size=$( (cat "$1"/*.out 2>/dev/null || true) | wc -c)
    if [ "$size" != "$last" ]; then
      last=$size
      end=$((SECONDS + 60))
    fi
    [ $SECONDS -lt $end ] || { show_jobs "$1"; fail "no checkpoint of epoch $2, the output unchanged for 60 s"; }
    [ $SECONDS -lt "$budget" ] || { show_jobs "$1"; fail "no checkpoint of epoch $2 after $budget s of the test"; }
    sleep 0.2
  done
  sleep 0.3
}


# job_field ID FIELD: one field of a job's record (JobState, Restarts, ExitCode, ...).
job_field() { scontrol show job "$1" | sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" | head -n 1; }

# wait_running ID RESTARTS DIR: waits until job ID runs for the RESTARTS-th
# time after a requeue (SLURM_RESTART_COUNT = RESTARTS). A requeued job waits
# the credential lifetime (slurm.conf.in: cred_expire) and the next
# scheduling pass; fails after 240 s or at the test's budget.
wait_running() {
  local end=$((SECONDS + 240))
  until [ "$(job_field "$1" JobState)" = RUNNING ] && [ "$(job_field "$1" Restarts)" = "$2" ]; do
    [ $SECONDS -lt $end ] || { show_jobs "$3"; fail "job $1 not running with Restarts=$2 after 240 s"; }
    [ $SECONDS -lt "$budget" ] || { show_jobs "$3"; fail "job $1 not running with Restarts=$2 after $budget s of the test"; }
    sleep 1
  done
}

# warn JOB: the wall-time warning as `--signal=B:USR1@...` sends it, now:
# SIGUSR1 to the batch shell alone.
warn() { scancel --batch --signal=USR1 "$1"; }
