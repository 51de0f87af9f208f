#!/usr/bin/env bash
# A one-node SLURM cluster on localhost, for the tests: our own munged,
# slurmctld and slurmd, with the configuration of tests/slurm/slurm.conf.in
# and all state, logs, sockets and pid files under one directory.
#
#   tests/slurm/cluster.sh start DIR    start it (idempotent) and wait for the node to be idle
#   tests/slurm/cluster.sh stop DIR     cancel every job, stop the daemons (idempotent)
#   tests/slurm/cluster.sh status DIR   sinfo and squeue
#
# Clients find it through SLURM_CONF=DIR/slurm.conf. Needs root and Debian's
# slurm-wlm and munge (tests/run.sh installs them). slurmctld listens on the
# first port from 6917 on (or NNCAS_SLURM_PORT) whose pair is free, slurmd on
# the next one: two build trees can run the test at the same time, and a
# site's own SLURM on the default ports is not touched.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin # the daemons, for a PATH without sbin
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "cluster.sh: $*" >&2; exit 1; }
log() { echo "cluster.sh: $*"; }

# pid_alive PIDFILE: the daemon that wrote PIDFILE still runs.
pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_for SECONDS COMMAND...: polls COMMAND every half second; fails after SECONDS.
wait_for() {
  local secs=$1; shift
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.5
  done
}

# show_logs: what the daemons said, for a failed start.
show_logs() {
  local f
  for f in "$dir"/log/*.log; do
    if [ -f "$f" ]; then echo "---- $f (tail)"; tail -n 20 "$f"; fi
  done >&2
}

check_tools() {
  [ "$(id -u)" = 0 ] || die "must run as root (the daemons run as root)"
  local t
  for t in munged mungekey munge unmunge slurmctld slurmd sinfo squeue scontrol scancel sbatch srun; do
    command -v "$t" >/dev/null || die "$t not found: install the Debian packages slurm-wlm and munge (tests/run.sh does)"
  done
}

# port_busy PORT: something listens on localhost:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port: the first even-spaced port pair from NNCAS_SLURM_PORT (6917) on
# with nothing listening; a running cluster of ours keeps its ports.
free_port() {
  local p=${NNCAS_SLURM_PORT:-6917}
  if [ -f "$dir/slurm.conf" ] && pid_alive "$dir/run/slurmctld.pid"; then
    sed -n 's/^SlurmctldPort=//p' "$dir/slurm.conf"
    return
  fi
  while port_busy "$p" || port_busy $((p + 1)); do
    p=$((p + 2))
    [ "$p" -lt $((${NNCAS_SLURM_PORT:-6917} + 200)) ] || die "no free port pair from ${NNCAS_SLURM_PORT:-6917} on"
  done
  echo "$p"
}

write_config() {
  local port; port=$(free_port)
  mkdir -p "$dir"/{state,spool,run,log,munge,tmp}
  chmod 755 "$dir/munge" # munged wants clients to reach its socket
  : >"$dir/plugstack.conf" # no SPANK plugins (not even the site's /etc/slurm/plugstack.conf)
  sed -e "s|@DIR@|$dir|g" -e "s|@HOST@|$host|g" -e "s|@CPUS@|$(nproc)|g" \
      -e "s|@CTLD_PORT@|$port|g" -e "s|@SLURMD_PORT@|$((port + 1))|g" \
      "$here/slurm.conf.in" >"$dir/slurm.conf"
}

munge_ok() { munge -S "$dir/munge/munge.socket" -n | unmunge -S "$dir/munge/munge.socket"; }

start_munge() {
  pid_alive "$dir/run/munged.pid" && munge_ok >/dev/null 2>&1 && return 0
  local key=$dir/munge/munge.key
  if [ ! -s "$key" ]; then # our own key: the cluster is ours alone
    mungekey --create --keyfile="$key" 2>/dev/null ||
      dd if=/dev/urandom of="$key" bs=1 count=1024 status=none
  fi
  chmod 400 "$key"
  # munged refuses a socket path longer than sun_path (108 bytes).
  [ ${#dir} -lt 80 ] || die "cluster directory path too long for munge's socket: $dir"
  munged --force --key-file="$key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/munge/munged.seed" ||
    start_failed "munged did not start"
  wait_for 20 munge_ok || start_failed "munged does not answer on $dir/munge/munge.socket"
}

node_idle() { [ "$(sinfo -h -n "$host" -o %T 2>/dev/null)" = idle ]; }

# start_failed MESSAGE: logs, stop whatever did start, fail.
start_failed() {
  show_logs
  stop >/dev/null 2>&1 || true
  die "$1"
}

start() {
  check_tools
  write_config
  export SLURM_CONF=$dir/slurm.conf
  start_munge
  if ! pid_alive "$dir/run/slurmctld.pid"; then
    # -c: forget jobs of an earlier, interrupted test.
    slurmctld -c -f "$SLURM_CONF" || start_failed "slurmctld did not start"
  fi
  wait_for 30 scontrol ping || start_failed "slurmctld does not answer (scontrol ping) after 30 s"
  if ! pid_alive "$dir/run/slurmd.pid"; then
    slurmd -f "$SLURM_CONF" || start_failed "slurmd did not start"
  fi
  if ! wait_for 60 node_idle; then
    { sinfo -N -l; scontrol show node "$host"; } >&2 || true
    start_failed "node $host not idle after 60 s"
  fi
  log "SLURM up: SLURM_CONF=$SLURM_CONF ($(sinfo -h -o '%D node, %c CPUs, partition %P'))"
}

# stop_daemon NAME: SIGTERM by pid file, SIGKILL if it is still there after 15 s.
stop_daemon() {
  local pidfile=$dir/run/$1.pid pid
  pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_for 15 bash -c "! kill -0 $pid"; then
    log "$1 (pid $pid) ignored SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

queue_empty() { [ -z "$(squeue -h -o %i 2>/dev/null)" ]; }

stop() {
  export SLURM_CONF=$dir/slurm.conf
  if pid_alive "$dir/run/slurmctld.pid" && [ -f "$SLURM_CONF" ]; then
    # Cancel jobs first so that slurmd's step daemons and their tasks end with
    # them; repeat, because a job that was signalled may resubmit itself.
    local end=$((SECONDS + 60))
    while ! queue_empty && [ $SECONDS -lt $end ]; do
      squeue -h -o %i | xargs -r scancel --full 2>/dev/null || true
      sleep 1
    done
    queue_empty || { log "jobs still listed after 60 s:"; squeue || true; }
  fi
  stop_daemon slurmd
  stop_daemon slurmctld
  stop_daemon munged
  log "SLURM stopped ($dir)"
}

[ $# = 2 ] || die "usage: cluster.sh start|stop|status DIR"
mkdir -p "$2"
dir=$(cd "$2" && pwd)
host=$(hostname -s)
case $1 in
  start) start ;;
  stop) stop ;;
  status) export SLURM_CONF=$dir/slurm.conf; sinfo; squeue ;;
  *) die "usage: cluster.sh start|stop|status DIR" ;;
esac
