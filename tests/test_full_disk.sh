#!/usr/bin/env bash
# A full disk during a checkpoint or results write, on NP ranks: the run ends
# within the time limit (no hang: not 124) with exit status 1 (no crash: not
# 139), one error line naming the file and "No space left on device", and no
# PATH.tmp left; a run resumed with -restart auto where there is space then
# ends as an uninterrupted run does, bit for bit (tests/h5same.py), which the
# files left must allow (complete and readable).
#
# MODE inject: the disk is "full" at the N-th reservation of disk space
#   (-io_inject_enospc N) for several N, so that writes of either file are hit
#   (the checkpoint, the results of the trainer and of a stage).
# MODE tmpfs: the output directory is a small tmpfs that really fills up (needs
#   the right to mount; without it the test is skipped: exit status 77).
# Usage: test_full_disk.sh NNCAS_BINARY SCRATCH_DIR NP MODE
set -uo pipefail
nncas=$1
dir=$2
np=$3
mode=$4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rm -rf "$dir" && mkdir -p "$dir"
base=(-data_format mixture -synth_train 240 -synth_val 60 -synth_shape 1,6,6 -net_layers "dense:12,tanh,dense:8,relu,dense:1"
      -train_batch 40 -train_record_steps -spectrum_every 1 -hessian_samples 60 -spectrum_m 12 -spectrum_nvec 1
      -spectrum_extremes false)
failures=0

run() { # run LOG OPTIONS...: nncas on NP ranks, at most 120 s; prints the exit status
  local log=$1
  shift
  timeout 120 mpiexec -q -n "$np" --oversubscribe "$nncas" "${base[@]}" "$@" >"$log" 2>&1
  echo $?
}

fail() {
  echo "FAIL $*"
  failures=$((failures + 1))
}

# check_failed NAME OUT LOG RC: the failed run's exit status, message and files.
check_failed() {
  local name=$1 out=$2 log=$3 rc=$4
  local msg
  msg=$(grep "^nncas: " "$log")
  if [ "$rc" != 1 ]; then
    fail "$name: exit status $rc (want 1)"
    tail -n 5 "$log"
  elif [ "$(grep -c . <<<"$msg")" != 1 ] || ! grep -q "No space left on device" <<<"$msg" ||
    ! grep -q "$out/" <<<"$msg"; then
    fail "$name: not one error line naming a file in $out and the full disk: $msg"
  elif grep -qE "HDF5|mca_|MPI_ABORT|Segmentation" "$log"; then
    fail "$name: more than the error line: $(grep -E "HDF5|mca_|MPI_ABORT|Segmentation" "$log" | head -n 1)"
  elif [ -n "$(find "$out" -name '*.tmp')" ]; then
    fail "$name: a temporary file is left: $(find "$out" -name '*.tmp')"
  else
    echo "ok   $name: $msg"
    return 0
  fi
  return 1
}

# resume NAME OUT OPTIONS...: -restart auto where there is space completes;
# OUT joins the runs compared with the reference at the end.
resumed=()
resume() {
  local name=$1 out=$2 rc
  shift 2
  rc=$(run "$out.resume.log" -output_dir "$out" -restart auto "$@")
  if [ "$rc" != 0 ]; then
    fail "$name: the resumed run failed ($rc): $(grep "^nncas: " "$out.resume.log")"
    return 1
  fi
  resumed+=("$out")
}

# Each resumed run's checkpoint.h5 and results.h5 equal the uninterrupted run's
# (one Python for all: its start-up is most of the time of a check).
same_as_reference() {
  [ ${#resumed[@]} -gt 0 ] || return 0
  /usr/bin/python3 - "$here" "$dir/reference" "${resumed[@]}" <<'PY' || fail "a resumed run differs from the uninterrupted run"
import sys
sys.path.insert(0, sys.argv[1])
import h5py, h5same
bad = 0
for out in sys.argv[3:]:
    for name in ("checkpoint.h5", "results.h5"):
        with h5py.File(f"{out}/{name}", "r") as a, h5py.File(f"{sys.argv[2]}/{name}", "r") as b:
            diffs, n = h5same.compare(a, b, h5same.PROVENANCE)
        print(f"{'FAIL' if diffs else 'ok  '} {out}/{name}: resumed, {len(diffs)} differences from the uninterrupted run")
        for d in diffs[:5]:
            print("     ", d)
        bad += bool(diffs)
sys.exit(1 if bad else 0)
PY
}

inject() {
  local epochs=(-train_epochs 4) hit=() n out rc
  [ "$(run "$dir/reference.log" -output_dir "$dir/reference" "${epochs[@]}")" = 0 ] ||
    { cat "$dir/reference.log"; echo "FAIL: the reference run did not complete"; exit 1; }
  [ "$(run "$dir/run.log" -output_dir "$dir/run" -train_epochs 2)" = 0 ] ||
    { cat "$dir/run.log"; echo "FAIL: the first run did not complete"; exit 1; }
  # The restarted run reserves space some 300 times an epoch: the trainer's
  # results (results/training.h5), the index results.h5, the spectrum's
  # results (results/spectrum/epoch_EEEE.h5, with its samples and weights),
  # the index again, then the checkpoint. At this commit these hit creating
  # results/training.h5, writing it, writing the spectrum's, writing the
  # index, and writing the checkpoint.
  for n in 1 45 130 260 290; do
    out=$dir/enospc_$n
    cp -r "$dir/run" "$out"
    rc=$(run "$out.log" -output_dir "$out" -restart "${epochs[@]}" -io_inject_enospc "$n")
    if [ "$rc" = 0 ]; then
      echo "note enospc_$n: the run made fewer reservations"
      continue
    fi
    check_failed "enospc_$n" "$out" "$out.log" "$rc" && resume "enospc_$n" "$out" "${epochs[@]}"
    hit+=("$(grep -o "results[^ ]*\.h5:\|checkpoint\.h5:" "$out.log" | head -n 1)")
  done
  if [ ${#hit[@]} -lt 5 ] || ! grep -q checkpoint <<<"${hit[*]}" || ! grep -q "results.h5:" <<<"${hit[*]}" ||
    ! grep -q "results/spectrum/" <<<"${hit[*]}"; then
    fail "the injected failures hit too few writes: ${hit[*]}"
  fi
}

# Every HDF5 file in DIR opens and every dataset reads in full.
readable() {
  /usr/bin/python3 - "$1" <<'PY'
import glob, sys, h5py
for path in glob.glob(sys.argv[1] + "/**/*.h5", recursive=True):
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: obj[()] if isinstance(obj, h5py.Dataset) else None)
PY
}

tmpfs() {
  local epochs=(-train_epochs 12) size mnt rc
  [ "$(run "$dir/reference.log" -output_dir "$dir/reference" "${epochs[@]}")" = 0 ] ||
    { cat "$dir/reference.log"; echo "FAIL: the reference run did not complete"; exit 1; }
  # 48k: the first results file does not fit; 160k: a later write does not.
  for size in 48k 160k; do
    mnt=$dir/tmpfs_$size
    mkdir -p "$mnt"
    if ! mount -t tmpfs -o size=$size tmpfs "$mnt" 2>/dev/null; then
      echo "SKIP: cannot mount a tmpfs (not root, or no CAP_SYS_ADMIN)"
      exit 77
    fi
    trap 'umount "$mnt" 2>/dev/null' EXIT
    rc=$(run "$dir/tmpfs_$size.log" -output_dir "$mnt/out" "${epochs[@]}")
    if check_failed "tmpfs_$size" "$mnt/out" "$dir/tmpfs_$size.log" "$rc"; then
      readable "$mnt/out" || fail "tmpfs_$size: an HDF5 file left is not readable"
      cp -r "$mnt/out" "$dir/out_$size"
      resume "tmpfs_$size" "$dir/out_$size" "${epochs[@]}"
    fi
    umount "$mnt"
    trap - EXIT
  done
}

case $mode in
inject) inject ;;
tmpfs) tmpfs ;;
*)
  echo "unknown mode $mode"
  exit 2
  ;;
esac
same_as_reference
[ "$failures" = 0 ] || { echo "$failures case(s) failed on $np rank(s)"; exit 1; }
echo "a full disk fails cleanly and the run resumes ($mode, $np rank(s))"
