# shellcheck shell=bash
# Shared logic of nncas's SLURM batch scripts (jobs/slurm/*.sbatch), sourced
# by them: run one experiment with `-restart auto`, pass SLURM's wall-time
# warning on to nncas, and continue the run in a next job while it is
# unfinished, by one of two chain modes (NNCAS_CHAIN_MODE):
#
#   nncas_job NAME [extra nncas options...]     runs inputs/NAME.opts
#
# How a chain works:
#  1. The job asks SLURM for SIGUSR1 some time before its limit
#     (`#SBATCH --signal=B:USR1@SECONDS`). `B:` sends it to this batch shell
#     only, which runs the launcher (srun or mpirun) in the background and
#     forwards the signal to it; both pass SIGUSR1 on to every rank.
#  2. nncas finishes its current unit of work (a training step; in the
#     spectrum and coupling stages a Lanczos or trace vector or a batch of a
#     draw, whose finished units it saves to OUTPUT_DIR/*_progress.h5),
#     writes OUTPUT_DIR/checkpoint.h5 and exits with status 3.
#  3. resubmit (the default): this script submits the same script again, with
#     the same arguments, environment, node/task counts, time limit,
#     partition, account and QOS, depending on this job (afterany), and ends.
#     requeue: this script runs `scontrol requeue` on its own job (submitted
#     with --requeue) and ends; SLURM puts the same job, same id, back in the
#     queue (it waits there the credential lifetime, 120 s by default) and
#     runs the script again from the start with SLURM_RESTART_COUNT one higher.
#     No sbatch from the compute node; the output file is appended to
#     (--open-mode=append). Either way the next job starts nncas with
#     `-restart auto`, which continues from the checkpoint.
#  4. Status 0 (the run is complete) ends the chain; status 1 (error) or 4
#     (diverged) stops it with a message. SIGTERM without the warning before
#     it means scancel (SLURM's cancel sends SIGTERM, then SIGKILL KillWait
#     seconds later, even for `scancel --signal=KILL JOBID`): nncas still
#     writes its checkpoint, but the job is not resubmitted nor requeued.
#
# In a job array (sbatch --array=0-N) each task runs in its own output
# directory NNCAS_OUT/task_I and may take its own options from NNCAS_SWEEP or
# NNCAS_SWEEP_FILE (jobs/slurm/sweep.sbatch); a task's chain continues that
# task alone (resubmit: sbatch --array=I; requeue: scontrol requeue JOB_I).
#
# An analysis job (jobs/slurm/analysis.sbatch, NNCAS_TRAIN set) runs the
# stages of one epoch E of a training run from its kept checkpoint
# NNCAS_TRAIN/checkpoints/epoch_EEEE.h5 (-restart FILE -train_epochs E, which
# trains nothing), in NNCAS_OUT/epoch_EEEE; E is the array task's id, or
# NNCAS_EPOCH. Epoch 0 needs no checkpoint: -train_epochs 0 draws the same
# initialisation again. A stopped stage continues from its progress file there.
#
# Environment (all optional):
#   NNCAS_OUT            output directory (default runs/NAME, relative paths
#                        from the submission directory); an array task's is
#                        NNCAS_OUT/task_I
#   NNCAS_DATA           data directory, passed as -data_dir (default: the opts file's)
#   NNCAS_BUILD          build directory holding nncas (default: the repository's build/)
#   NNCAS_LAUNCHER       srun (default) or mpirun (Open MPI inside the allocation)
#   NNCAS_SRUN_MPI       srun's --mpi plugin (default pmix; empty: the site's MpiDefault)
#   NNCAS_CPU_BIND       srun's --cpu-bind (default cores; empty: the site's default)
#   NNCAS_SRUN_ARGS      extra srun options (e.g. --hint=nomultithread, with NNCAS_CPU_BIND=)
#   NNCAS_CHAIN_MODE     resubmit (default) or requeue (submit with sbatch --requeue)
#   NNCAS_SBATCH_ARGS    extra sbatch options for the resubmissions
#   NNCAS_MAX_RESUBMITS  the longest chain: resubmissions or requeues (default 100)
#   NNCAS_SWEEP          in a job array: "OPTION V0 V1 ...", task I adds OPTION V_I
#   NNCAS_SWEEP_FILE     in a job array: a file, task I adds the options of its
#                        I-th line (0-based; blank lines and # comments skipped)
#   NNCAS_TRAIN          an analysis job: the training run's output directory
#                        (its checkpoints/epoch_EEEE.h5); NNCAS_OUT defaults to
#                        NNCAS_TRAIN/analysis, a task's is NNCAS_OUT/epoch_EEEE
#   NNCAS_EPOCH          an analysis job that is not an array: its epoch E
#   NNCAS_SITE           a file sourced first, for the site's `module load` lines
#                        (default jobs/slurm/site.sh if it exists; not in git)
#   NNCAS_CHAIN          set by the script: this job's position in the chain (0
#                        first; in requeue mode SLURM_RESTART_COUNT)
#   OPENBLAS_NUM_THREADS default: --cpus-per-task, else 1 (the ranks fill the cores)

# Prints a line of the job's log, marked so it stands out from nncas's output.
nncas_say() { echo "nncas-job: $*"; }
nncas_die() { echo "nncas-job: error: $*" >&2; exit 1; }

# nncas_abspath PATH: PATH made absolute from the submission directory, so that
# every job of the chain means the same directory.
nncas_abspath() {
  case $1 in
    /*) echo "$1" ;;
    *) echo "${SLURM_SUBMIT_DIR:-$PWD}/$1" ;;
  esac
}

# nncas_settings NAME: reads and checks the environment; exports what the
# resubmitted jobs must see unchanged (absolute paths).
nncas_settings() {
  local name=$1
  [ -n "${SLURM_JOB_ID:-}" ] || nncas_die "not inside a SLURM job: submit with sbatch"
  [ -n "${NNCAS_HOME:-}" ] || nncas_die "NNCAS_HOME (the repository) is not set"
  export NNCAS_HOME
  # The site's environment (modules) before anything looks for programs.
  local site=${NNCAS_SITE:-$NNCAS_HOME/jobs/slurm/site.sh}
  if [ -f "$site" ]; then
    # shellcheck source=/dev/null
    source "$site"
  elif [ -n "${NNCAS_SITE:-}" ]; then
    nncas_die "NNCAS_SITE=$NNCAS_SITE does not exist"
  fi
  export NNCAS_JOB_SCRIPT=${NNCAS_JOB_SCRIPT:-$NNCAS_HOME/jobs/slurm/$name.sbatch}
  export NNCAS_BUILD; NNCAS_BUILD=$(nncas_abspath "${NNCAS_BUILD:-$NNCAS_HOME/build}")
  [ -z "${NNCAS_TRAIN:-}" ] || { export NNCAS_TRAIN; NNCAS_TRAIN=$(nncas_abspath "$NNCAS_TRAIN"); }
  local out=${NNCAS_OUT:-runs/$name}
  [ -n "${NNCAS_OUT:-}" ] || [ -z "${NNCAS_TRAIN:-}" ] || out=$NNCAS_TRAIN/analysis
  export NNCAS_OUT; NNCAS_OUT=$(nncas_abspath "$out")
  [ -z "${NNCAS_DATA:-}" ] || { export NNCAS_DATA; NNCAS_DATA=$(nncas_abspath "$NNCAS_DATA"); }
  [ -z "${NNCAS_SWEEP_FILE:-}" ] || { export NNCAS_SWEEP_FILE; NNCAS_SWEEP_FILE=$(nncas_abspath "$NNCAS_SWEEP_FILE"); }
  # An array task is named ARRAYID_TASK: the plain id of an array's last
  # task is also the whole array's (scontrol requeue ID would requeue them all).
  nncas_job_id=${SLURM_ARRAY_JOB_ID:+${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}}
  nncas_job_id=${nncas_job_id:-$SLURM_JOB_ID}
  case ${NNCAS_CHAIN_MODE:=resubmit} in
    resubmit) export NNCAS_CHAIN=${NNCAS_CHAIN:-0} ;;
    requeue)
      # The requeued job has the environment of its submission: its place in
      # the chain is SLURM's count of its restarts.
      export NNCAS_CHAIN=${SLURM_RESTART_COUNT:-0}
      [[ $(scontrol show job "$nncas_job_id") == *" Requeue=1 "* ]] ||
        nncas_die "NNCAS_CHAIN_MODE=requeue needs a job that may be requeued: submit with sbatch --requeue" \
          "(or #SBATCH --requeue; the site's JobRequeue=0 makes it the exception)"
      ;;
    *) nncas_die "NNCAS_CHAIN_MODE must be resubmit or requeue, not '$NNCAS_CHAIN_MODE'" ;;
  esac
  export NNCAS_CHAIN_MODE
  export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-${SLURM_CPUS_PER_TASK:-1}}
  nncas_opts=$NNCAS_HOME/inputs/$name.opts
  [ -f "$nncas_opts" ] || nncas_die "no option file $nncas_opts"
  [ -x "$NNCAS_BUILD/nncas" ] || nncas_die "no $NNCAS_BUILD/nncas: build it first (jobs/setup.sh, or set NNCAS_BUILD)"
  nncas_sweep_task
  mkdir -p "$nncas_out"
}

# nncas_sweep_task: this job's output directory nncas_out (NNCAS_OUT, or
# NNCAS_OUT/task_I for task I of a job array) and the options its task of a
# sweep adds (nncas_sweep_opts: from NNCAS_SWEEP or NNCAS_SWEEP_FILE).
nncas_sweep_task() {
  nncas_out=$NNCAS_OUT
  nncas_sweep_opts=()
  local i=${SLURM_ARRAY_TASK_ID:-} words line
  if [ -n "${NNCAS_TRAIN:-}" ]; then
    nncas_analysis_task
    return 0
  fi
  [ -z "${NNCAS_EPOCH:-}" ] || nncas_die "NNCAS_EPOCH is for an analysis job (NNCAS_TRAIN, jobs/slurm/analysis.sbatch)"
  if [ -z "$i" ]; then
    [ -z "${NNCAS_SWEEP:-}${NNCAS_SWEEP_FILE:-}" ] ||
      nncas_die "NNCAS_SWEEP and NNCAS_SWEEP_FILE are for a job array: sbatch --array=0-N"
    return 0
  fi
  nncas_out=$NNCAS_OUT/task_$i
  [ -z "${NNCAS_SWEEP:-}" ] || [ -z "${NNCAS_SWEEP_FILE:-}" ] || nncas_die "give NNCAS_SWEEP or NNCAS_SWEEP_FILE, not both"
  if [ -n "${NNCAS_SWEEP:-}" ]; then
    read -r -a words <<<"$NNCAS_SWEEP"
    [ ${#words[@]} -ge 2 ] || nncas_die "NNCAS_SWEEP='$NNCAS_SWEEP' must be an option and its values: '-OPTION V0 V1 ...'"
    [ $((i + 1)) -lt ${#words[@]} ] ||
      nncas_die "array task $i, but NNCAS_SWEEP='$NNCAS_SWEEP' has values for tasks 0 to $((${#words[@]} - 2)) only"
    nncas_sweep_opts=("${words[0]}" "${words[i + 1]}")
  elif [ -n "${NNCAS_SWEEP_FILE:-}" ]; then
    [ -f "$NNCAS_SWEEP_FILE" ] || nncas_die "NNCAS_SWEEP_FILE=$NNCAS_SWEEP_FILE does not exist"
    line=$(grep -v '^[[:space:]]*\(#.*\)\?$' "$NNCAS_SWEEP_FILE" | sed -n "$((i + 1))p")
    [ -n "$line" ] || nncas_die "array task $i, but $NNCAS_SWEEP_FILE has no line $i (0-based; blank lines and # comments skipped)"
    read -r -a nncas_sweep_opts <<<"$line"
  fi
}

# nncas_analysis_task: an analysis job's epoch E (the array task's id, or
# NNCAS_EPOCH), its output directory NNCAS_OUT/epoch_EEEE and the options
# that run E's stages (nncas_sweep_opts): -restart with the kept checkpoint
# of E and -train_epochs E, which trains nothing; for E = 0 -train_epochs 0
# alone (the initialisation is drawn again from the options' seeds). After
# the script's arguments, so they win; -restart FILE after the job's own
# -restart auto, so a resubmitted or requeued job starts again from the kept
# checkpoint and continues the stage from its progress file in
# NNCAS_OUT/epoch_EEEE.
nncas_analysis_task() {
  local e=${SLURM_ARRAY_TASK_ID:-${NNCAS_EPOCH:-}} ck
  [ -z "${NNCAS_SWEEP:-}${NNCAS_SWEEP_FILE:-}" ] || nncas_die "an analysis job (NNCAS_TRAIN) takes no NNCAS_SWEEP or NNCAS_SWEEP_FILE"
  [ -z "${SLURM_ARRAY_TASK_ID:-}" ] || [ -z "${NNCAS_EPOCH:-}" ] ||
    nncas_die "NNCAS_EPOCH=$NNCAS_EPOCH in a job array: the array task's id is the epoch (sbatch --array=0-300:10)"
  [ -n "$e" ] || nncas_die "an analysis job needs its epoch: sbatch --array=E0,E1,... (the task id is the epoch) or NNCAS_EPOCH=E"
  [[ $e =~ ^[0-9]+$ ]] || nncas_die "NNCAS_EPOCH=$e is not an epoch number"
  e=$((10#$e))
  nncas_out=$(printf '%s/epoch_%04d' "$NNCAS_OUT" "$e")
  nncas_task_label="analysis of epoch $e"
  if [ "$e" = 0 ]; then
    nncas_sweep_opts=(-train_epochs 0)
    return 0
  fi
  ck=$(printf '%s/checkpoints/epoch_%04d.h5' "$NNCAS_TRAIN" "$e")
  [ -f "$ck" ] || nncas_die "no kept checkpoint $ck: train with -checkpoint_keep K (K dividing $e), and submit once the training has passed epoch $e"
  nncas_sweep_opts=(-restart "$ck" -train_epochs "$e")
}

# nncas_launcher_cmd: the command that starts one rank per task of the allocation.
nncas_launcher_cmd() {
  case ${NNCAS_LAUNCHER:-srun} in
    srun)
      # --kill-on-bad-exit: a rank that dies must not leave the others waiting
      # in a collective until the time limit.
      nncas_launch=(srun --kill-on-bad-exit=1)
      [ -z "${NNCAS_SRUN_MPI-pmix}" ] || nncas_launch+=(--mpi="${NNCAS_SRUN_MPI-pmix}")
      # Since Slurm 22.05 srun does not take sbatch's --cpus-per-task: say it
      # (SRUN_CPUS_PER_TASK for any srun of the job, the option for this one).
      if [ -n "${SLURM_CPUS_PER_TASK:-}" ]; then
        export SRUN_CPUS_PER_TASK=$SLURM_CPUS_PER_TASK
        nncas_launch+=(--cpus-per-task="$SLURM_CPUS_PER_TASK")
      fi
      # Each rank bound to its cores (its BLAS threads with it), unless the
      # site's default binding is wanted (NNCAS_CPU_BIND=).
      [ -z "${NNCAS_CPU_BIND-cores}" ] || nncas_launch+=(--cpu-bind="${NNCAS_CPU_BIND-cores}")
      local extra=()
      read -r -a extra <<<"${NNCAS_SRUN_ARGS:-}"
      nncas_launch+=("${extra[@]}")
      ;;
    mpirun)
      # Open MPI reads the allocation from SLURM; one rank per task.
      nncas_launch=(mpirun -n "${SLURM_NTASKS:-1}")
      ;;
    *) nncas_die "NNCAS_LAUNCHER must be srun or mpirun, not '$NNCAS_LAUNCHER'" ;;
  esac
}

# Signal handling. The launcher runs in the background so that this shell can
# take SLURM's signal (bash runs a trap only between commands, and `wait`
# returns early for it); the handler passes SIGUSR1 on to the launcher.
# nncas_signalled lists the signals this shell got ("USR1", "TERM", "USR1 TERM").
nncas_signalled=
nncas_launcher_pid=
nncas_on_signal() {
  nncas_signalled="${nncas_signalled:+$nncas_signalled }$1"
  if [ -n "$nncas_launcher_pid" ]; then
    nncas_say "got SIG$1 ($(date +%T)): asking nncas to write a checkpoint and stop"
    kill -USR1 "$nncas_launcher_pid" 2>/dev/null || true
  else
    nncas_say "got SIG$1 ($(date +%T)) while nncas is not running"
  fi
}
nncas_got() { [[ " $nncas_signalled " == *" $1 "* ]]; }

# nncas_run_launcher ARGS...: runs the launcher, waits through signals, and
# sets nncas_status to its exit status.
nncas_run_launcher() {
  "${nncas_launch[@]}" "$@" &
  nncas_launcher_pid=$!
  # A signal that came just before the launcher existed is passed on now.
  [ -z "$nncas_signalled" ] || kill -USR1 "$nncas_launcher_pid" 2>/dev/null || true
  while :; do
    nncas_status=0
    wait "$nncas_launcher_pid" || nncas_status=$?
    # wait returned for a trap while the launcher still runs: wait again.
    kill -0 "$nncas_launcher_pid" 2>/dev/null || break
  done
  nncas_launcher_pid=
}

# nncas_continue_hint ARGS...: the command that continues the run by hand.
nncas_continue_hint() {
  local how="sbatch [the same sbatch options]"
  [ "$NNCAS_CHAIN_MODE" = resubmit ] || how="NNCAS_CHAIN_MODE=requeue sbatch --requeue [the same sbatch options]"
  [ -z "${SLURM_ARRAY_TASK_ID:-}" ] || how+=" --array=$SLURM_ARRAY_TASK_ID"
  echo "NNCAS_OUT=$NNCAS_OUT $how $NNCAS_JOB_SCRIPT$(printf ' %q' "$@")"
}

# nncas_checkpoint_stamp: changes whenever nncas replaces the checkpoint.
nncas_checkpoint_stamp() { stat -c '%i %Y %s' "$nncas_out/checkpoint.h5" 2>/dev/null || echo none; }

# nncas_continue_point: what the next job of the chain starts from: the
# checkpoint in the output directory, or for an analysis job the kept
# checkpoint of its epoch and the stage's progress file in its directory.
nncas_continue_point() {
  if [ -n "${NNCAS_TRAIN:-}" ]; then
    local from="the initialisation"
    [ "${nncas_sweep_opts[0]:-}" != -restart ] || from=${nncas_sweep_opts[1]}
    echo "$from and the stage's progress in $nncas_out"
  else
    echo "$nncas_out/checkpoint.h5"
  fi
}

# nncas_resubmit ARGS...: submits the next job of the chain (same script,
# arguments, environment and allocation), starting after this one ends.
nncas_resubmit() {
  local next=$((NNCAS_CHAIN + 1)) limit id var
  local opts=(--parsable --dependency="afterany:$nncas_job_id" --job-name="$SLURM_JOB_NAME")
  # An array task continues alone, as task I of an array of one.
  [ -z "${SLURM_ARRAY_TASK_ID:-}" ] || opts+=(--array="$SLURM_ARRAY_TASK_ID")
  # What was asked on sbatch's command line is not in the script: carry it over.
  limit=$(scontrol show job "$nncas_job_id" | sed -n 's/.*TimeLimit=\([^ ]*\).*/\1/p')
  [ -z "$limit" ] || [ "$limit" = UNLIMITED ] || opts+=(--time="$limit")
  [ -z "${SLURM_JOB_NUM_NODES:-}" ] || opts+=(--nodes="$SLURM_JOB_NUM_NODES")
  [ -z "${SLURM_NTASKS:-}" ] || opts+=(--ntasks="$SLURM_NTASKS")
  [ -z "${SLURM_CPUS_PER_TASK:-}" ] || opts+=(--cpus-per-task="$SLURM_CPUS_PER_TASK")
  [ -z "${SLURM_MEM_PER_NODE:-}" ] || opts+=(--mem="$SLURM_MEM_PER_NODE")
  [ -z "${SLURM_MEM_PER_CPU:-}" ] || opts+=(--mem-per-cpu="$SLURM_MEM_PER_CPU")
  [ -z "${SLURM_JOB_PARTITION:-}" ] || opts+=(--partition="$SLURM_JOB_PARTITION")
  [ -z "${SLURM_JOB_ACCOUNT:-}" ] || opts+=(--account="$SLURM_JOB_ACCOUNT")
  [ -z "${SLURM_JOB_QOS:-}" ] || opts+=(--qos="$SLURM_JOB_QOS")
  local extra=()
  read -r -a extra <<<"${NNCAS_SBATCH_ARGS:-}"
  # The next job must not inherit this job's SLURM_* variables (srun would
  # read stale ones); SLURM_CONF names the cluster and stays.
  local unset=()
  for var in $(compgen -e | grep '^SLURM_' | grep -v '^SLURM_CONF$'); do unset+=(-u "$var"); done
  id=$(cd "$SLURM_SUBMIT_DIR" && env "${unset[@]}" NNCAS_CHAIN="$next" \
         sbatch "${opts[@]}" "${extra[@]}" "$NNCAS_JOB_SCRIPT" "$@") ||
    nncas_die "sbatch failed; continue by hand (it restarts from the checkpoint): $(nncas_continue_hint "$@")"
  nncas_say "resubmitted as job ${id%%;*} (chain link $next), to continue from $(nncas_continue_point)"
}

# nncas_requeue ARGS...: puts this job back in the queue; SLURM runs it again
# (same id, same script, arguments, environment and allocation request) once
# it has ended. SLURM answers `scontrol requeue` by sending SIGTERM to the
# job's processes at once: this shell and scontrol ignore it from here on, so
# that it cannot cut scontrol short after the requeue took effect.
nncas_requeue() {
  local next=$((NNCAS_CHAIN + 1)) msg
  trap '' TERM
  msg=$(scontrol requeue "$nncas_job_id" 2>&1) ||
    nncas_die "scontrol requeue $nncas_job_id failed ($msg); continue by hand (it restarts from the checkpoint):" \
      "$(nncas_continue_hint "$@")"
  nncas_say "requeued job $nncas_job_id (chain link $next), to continue from $(nncas_continue_point)"
}

# nncas_job NAME [extra nncas options...]: the whole batch job.
nncas_job() {
  local name=$1; shift
  # From here to the end a signal is noted (and passed on while nncas runs),
  # never fatal to this shell: it must get to resubmitting.
  trap 'nncas_on_signal USR1' USR1
  trap 'nncas_on_signal TERM' TERM
  nncas_settings "$name"
  nncas_launcher_cmd
  nncas_say "job $nncas_job_id (chain link $NNCAS_CHAIN, $NNCAS_CHAIN_MODE): $name on ${SLURM_NTASKS:-1} tasks," \
    "${SLURM_CPUS_PER_TASK:-1} CPUs each, ${SLURM_JOB_NUM_NODES:-1} nodes ($SLURM_JOB_NODELIST), started $(date +%T); output $nncas_out"
  [ ${#nncas_sweep_opts[@]} = 0 ] || nncas_say "${nncas_task_label:-sweep task $SLURM_ARRAY_TASK_ID}: ${nncas_sweep_opts[*]}"
  nncas_say "launching: ${nncas_launch[*]}"
  local data=()
  [ -z "${NNCAS_DATA:-}" ] || data=(-data_dir "$NNCAS_DATA")
  local before; before=$(nncas_checkpoint_stamp)
  # A new chain forgets a stall noted by an earlier one in this directory.
  [ "$NNCAS_CHAIN" != 0 ] || rm -f "$nncas_out/.nncas-job.stalled"
  [ -z "$nncas_signalled" ] ||
    nncas_die "SIG$nncas_signalled came before nncas started; not starting it" \
      "(is the --signal lead time shorter than the time limit, by a minute or more?)"
  nncas_run_launcher "$NNCAS_BUILD/nncas" -options_file "$nncas_opts" "${data[@]}" \
    -output_dir "$nncas_out" -restart auto "$@" "${nncas_sweep_opts[@]}"
  nncas_after "$before" "$@"
}

# nncas_after STAMP ARGS...: what the chain does after nncas's exit status.
nncas_after() {
  local before=$1; shift
  local stalled=$nncas_out/.nncas-job.stalled # the last job added no checkpoint (see below)
  case $nncas_status in
    0) rm -f "$stalled"; nncas_say "run finished: $nncas_out (chain of $((NNCAS_CHAIN + 1)) jobs)"; exit 0 ;;
    1) nncas_die "nncas failed (status 1, its message is above); the chain stops" ;;
    4) echo "nncas-job: error: training diverged (status 4); the last good checkpoint is kept; the chain stops" >&2; exit 4 ;;
    3) rm -f "$stalled" ;;
    *)
      # Killed rather than stopped: SIGUSR1 may have reached a rank before it
      # installed its handler. After the wall-time warning, continue from the
      # last checkpoint, unless this job added nothing to it twice in a row
      # (noted in a file: a requeued job does not see this one's environment).
      nncas_got USR1 ||
        nncas_die "nncas ended with status $nncas_status (killed?); the chain stops." \
          "Continue from its last checkpoint with: $(nncas_continue_hint "$@")"
      if [ "$(nncas_checkpoint_stamp)" != "$before" ]; then
        rm -f "$stalled"
      elif [ ! -e "$stalled" ]; then
        : >"$stalled"
      else
        rm -f "$stalled"
        nncas_die "nncas ended with status $nncas_status twice without a new checkpoint; the chain stops"
      fi
      nncas_say "nncas ended with status $nncas_status after the wall-time warning; continuing from its last checkpoint"
      ;;
  esac
  if nncas_got TERM && ! nncas_got USR1; then
    nncas_say "stopped with a checkpoint after SIGTERM without the wall-time warning (scancel):" \
      "not $([ "$NNCAS_CHAIN_MODE" = requeue ] && echo requeuing || echo resubmitting). Continue with: $(nncas_continue_hint "$@")"
    exit 0
  fi
  [ $((NNCAS_CHAIN + 1)) -le "${NNCAS_MAX_RESUBMITS:-100}" ] ||
    nncas_die "the chain reached NNCAS_MAX_RESUBMITS=${NNCAS_MAX_RESUBMITS:-100} links after the first job; not continuing." \
      "Continue from the checkpoint with: $(nncas_continue_hint "$@")"
  if [ "$NNCAS_CHAIN_MODE" = requeue ]; then nncas_requeue "$@"; else nncas_resubmit "$@"; fi
  exit 0
}
