#!/usr/bin/env bash
# Crash consistency: a training run on 2 ranks is killed with SIGKILL at random
# moments (many of them during checkpoint and results writes, which take most
# of each tiny epoch) and continued with -restart auto from whatever is on
# disk, again and again until it finishes. Every restart must succeed, and the
# finished run must equal an uninterrupted one bit for bit: weights, momentum
# and the per-epoch losses and accuracies in the checkpoint and results files.
# Campaigns repeat until at least KILLS kills have been survived.
# Usage: test_kill_restart.sh NNCAS_BINARY SCRATCH_DIR [KILLS] [SEED]
set -uo pipefail
nncas=$1
dir=$2
want=${3:-50}
RANDOM=${4:-20261123}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$dir" && mkdir -p "$dir"
# A killed job cannot remove its shared-memory files: keep them in the scratch
# directory rather than pile them up in /dev/shm.
export OMPI_MCA_btl_vader_backing_directory=$dir
opts=(-data_format mixture -synth_train 400 -synth_val 100 -synth_shape 1,8,8 -net_layers "dense:32,relu,dropout:0.1,dense:1"
      -train_epochs 150 -train_batch 50 -train_lr 0.05 -train_lr_milestones 75 -checkpoint_every 1)
fail() { echo "FAIL: $*"; exit 1; }

mpiexec -n 2 --oversubscribe "$nncas" "${opts[@]}" -output_dir "$dir/straight" >"$dir/straight.log" 2>&1 ||
  { cat "$dir/straight.log"; fail "the uninterrupted run failed"; }

# Each run is a session of its own (Open MPI gives every rank a process group
# of its own, so a group kill would miss them): one kill of the session takes
# mpiexec and both ranks at once, as a node failure would.
kills=0 campaigns=0 in_checkpoint=0 in_results=0 before_first=0
while [ "$kills" -lt "$want" ]; do
  campaigns=$((campaigns + 1))
  out=$dir/killed$campaigns
  attempt=0
  while :; do
    touch "$dir/started"
    setsid mpiexec -n 2 --oversubscribe "$nncas" "${opts[@]}" -output_dir "$out" -restart auto >>"$out.log" 2>&1 &
    pid=$!
    # A campaign's first kill comes within 0.05-0.65 s, often during start-up,
    # before the first checkpoint exists; the others after 0.1-1.7 s, most
    # inside training (longer while no checkpoint exists, so a slow start-up
    # cannot stall the campaign).
    attempt=$((attempt + 1))
    if [ "$attempt" -gt 1 ]; then
      sleep "$(printf '0.%03d' $((RANDOM % 1000)))"
      [ -e "$out/checkpoint.h5" ] || sleep "$((attempt / 3))"
    fi
    sleep "$(printf '0.%03d' $((50 + RANDOM % 600)))"
    if kill -0 "$pid" 2>/dev/null; then
      pkill -KILL -s "$pid"
      wait "$pid"
      while pgrep -s "$pid" >/dev/null; do sleep 0.05; done
      kills=$((kills + 1))
      # A PATH.tmp written by this run means the kill interrupted that file's write.
      [ -n "$(find "$out" -name checkpoint.h5.tmp -newer "$dir/started")" ] && in_checkpoint=$((in_checkpoint + 1))
      [ -n "$(find "$out" \( -name results.h5.tmp -o -path "$out/results/*.tmp" \) -newer "$dir/started")" ] &&
        in_results=$((in_results + 1))
      [ -e "$out/checkpoint.h5" ] || before_first=$((before_first + 1))
      continue
    fi
    wait "$pid"
    rc=$?
    [ "$rc" = 0 ] || { tail -n 20 "$out.log"; fail "campaign $campaigns: a restart exited with status $rc"; }
    break
  done 2>/dev/null # bash's "Killed" notices
  grep -q "^Done\." "$out.log" || fail "campaign $campaigns: no \"Done.\" line"
  /usr/bin/python3 "$here/h5compare.py" "$dir/straight/checkpoint.h5" "$out/checkpoint.h5" --bitwise >/dev/null ||
    fail "campaign $campaigns: the weights differ from the uninterrupted run"
  /usr/bin/python3 - "$dir/straight" "$out" <<'EOF' || fail "campaign $campaigns: the recorded history differs"
import sys, h5py, numpy as np
cols = ["train_loss", "train_acc", "val_loss", "val_acc", "lr"]
def hist(path, group):
    with h5py.File(path, "r") as f:
        return np.array([f[f"{group}/{c}"][()] for c in cols])
for name, group in (("checkpoint.h5", "/history"), ("results.h5", "/training")):
    a, b = hist(f"{sys.argv[1]}/{name}", group), hist(f"{sys.argv[2]}/{name}", group)
    if a.shape != b.shape or not np.array_equal(a, b):
        print(f"{name}{group}: {a.shape} vs {b.shape}")
        sys.exit(1)
EOF
  echo "campaign $campaigns: finished after $kills kill(s) so far; equal bit for bit"
done
echo "$kills SIGKILLs at random moments in $campaigns campaign(s) ($in_checkpoint during a checkpoint write, $in_results during a" \
  "results write, $before_first before the first checkpoint), each followed by a restart from disk: all succeeded, all runs equal bit for bit"
