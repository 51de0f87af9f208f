#!/usr/bin/env bash
# Bad input to the nncas program on 2 ranks: each case must end within
# seconds with a non-zero status and one line "nncas: error: ..." naming the
# option or file, and must leave an existing checkpoint and results file
# byte-for-byte intact.
# Usage: test_cli.sh NNCAS_BINARY SCRATCH_DIR
set -uo pipefail
nncas=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
fm=/usr/share/datasets/fashion-mnist
small=(-data_train_size 200 -data_val_size 100 -net_preset lenet_small -train_epochs 1 -train_batch 50)
failures=0

# A finished run whose files must survive every case below.
run_dir=$dir/run
mpiexec -n 2 --oversubscribe "$nncas" "${small[@]}" -output_dir "$run_dir" >"$dir/setup.log" 2>&1 ||
  { cat "$dir/setup.log"; echo "FAIL: the reference run did not complete"; exit 1; }
sums() { sha256sum "$run_dir/checkpoint.h5" "$run_dir/results.h5"; }
before=$(sums)

# Data directories with broken files.
mk() { mkdir -p "$dir/$1"; for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do ln -sf "$fm/$f" "$dir/$1/$f"; done; }
mk truncated && rm "$dir/truncated/train-images-idx3-ubyte.gz" && head -c 100000 "$fm/train-images-idx3-ubyte.gz" >"$dir/truncated/train-images-idx3-ubyte.gz"
mk magic && ln -sf "$fm/train-labels-idx1-ubyte.gz" "$dir/magic/train-images-idx3-ubyte.gz"
mk count && ln -sf "$fm/t10k-labels-idx1-ubyte.gz" "$dir/count/train-labels-idx1-ubyte.gz"
mk missing && rm "$dir/missing/t10k-images-idx3-ubyte.gz"
printf 'not an hdf5 file\n' >"$dir/not_hdf5.h5"
# Copies of the run's checkpoint with 8 bytes of one dataset's raw data
# overwritten: a weight tensor, and the training samples' source indices.
corrupt() {
  cp "$run_dir/checkpoint.h5" "$2"
  /usr/bin/python3 - "$2" "$1" <<'EOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    off = f[sys.argv[2]].id.get_offset()
with open(sys.argv[1], "r+b") as g:
    g.seek(off + 40)
    g.write(b"\x7f" * 8)
EOF
}
corrupt /weights/L00_conv/weight "$dir/corrupt.h5"
corrupt /data/train_source_index "$dir/corrupt_order.h5"

# case NAME EXPECTED_SUBSTRING -- nncas options...
case_() {
  local name=$1 want=$2; shift 3
  local t0=$SECONDS
  # -q: no Open MPI banner about the non-zero exit; stderr is then nncas's alone.
  timeout 60 mpiexec -q -n 2 --oversubscribe "$nncas" "$@" >"$dir/$name.out" 2>"$dir/$name.err"
  local rc=$? dt=$((SECONDS - t0))
  local lines; lines=$(wc -l <"$dir/$name.err")
  local msg; msg=$(head -1 "$dir/$name.err")
  if [ "$rc" = 0 ] || [ "$rc" = 124 ]; then
    echo "FAIL $name: exit status $rc (${dt}s)"; failures=$((failures + 1))
  elif [ "$lines" != 1 ] || [ "${msg#nncas: error: }" = "$msg" ]; then
    echo "FAIL $name: stderr is not one \"nncas: error:\" line:"; cat "$dir/$name.err"; failures=$((failures + 1))
  elif ! grep -q -- "$want" <<<"$msg"; then
    echo "FAIL $name: message lacks \"$want\": $msg"; failures=$((failures + 1))
  elif [ "$(sums)" != "$before" ]; then
    echo "FAIL $name: the existing run's files changed"; failures=$((failures + 1))
  else
    echo "ok   $name (status $rc, ${dt}s): $msg"
  fi
}

o=$dir/out
case_ missing_data_dir "/nonexistent/train-images" -- -data_dir /nonexistent -output_dir "$o"
case_ missing_file "t10k-images" -- -data_dir "$dir/missing" "${small[@]}" -output_dir "$o"
case_ truncated_file "truncated" -- -data_dir "$dir/truncated" "${small[@]}" -output_dir "$o"
case_ wrong_magic "magic" -- -data_dir "$dir/magic" "${small[@]}" -output_dir "$o"
case_ label_count_mismatch "labels" -- -data_dir "$dir/count" "${small[@]}" -output_dir "$o"
case_ unknown_preset "-net_preset" -- "${small[@]}" -net_preset lenet7 -output_dir "$o"
case_ malformed_layers "-net_layers" -- "${small[@]}" -net_layers "conv:8:5,relu,pool,,dense:1" -output_dir "$o"
case_ unknown_layer "-net_layers" -- "${small[@]}" -net_layers "conv:8:5,gelu,dense:1" -output_dir "$o"
case_ zero_batch "-train_batch" -- "${small[@]}" -train_batch 0 -output_dir "$o"
case_ negative_batch "-train_batch" -- "${small[@]}" -train_batch -5 -output_dir "$o"
case_ bad_number "option -train_lr" -- "${small[@]}" -train_lr fast -output_dir "$o"
case_ bad_integer "option -train_epochs: cannot read \"2.5\" as an integer" -- "${small[@]}" -train_epochs 2.5 -output_dir "$o"
case_ integer_beside_a_path "option -train_epochs: cannot read \"2.5\"" -- "${small[@]}" -data_dir 2.5 -train_epochs 2.5 -output_dir "$o"
case_ missing_options_file "-options_file $dir/none.opts: cannot open" -- -options_file "$dir/none.opts" -output_dir "$o"
case_ nan_gamma "-train_lr_gamma must be a finite number" -- "${small[@]}" -train_lr_gamma nan -train_lr_milestones 0 -output_dir "$o"
case_ negative_gamma "-train_lr_gamma must be a finite number in (0, inf) (got -1)" -- "${small[@]}" -train_lr_gamma -1 -output_dir "$o"
case_ infinite_init_std "-net_init_std must be a finite number" -- "${small[@]}" -net_init normal -net_init_std inf -output_dir "$o"
case_ infinite_width "-spectrum_width must be a finite number" -- "${small[@]}" -spectrum_width inf -output_dir "$o"
case_ infinite_margin "-spectrum_margin must be a finite number" -- "${small[@]}" -spectrum_margin inf -output_dir "$o"
case_ nan_zero_tol "-spectrum_zero_tol must be a finite number" -- "${small[@]}" -spectrum_zero_tol nan -output_dir "$o"
case_ negative_stop_after "-train_stop_after_steps" -- "${small[@]}" -train_stop_after_steps -3 -output_dir "$o"
case_ huge_density_grid "-spectrum_k 2000000000 exceeds" -- "${small[@]}" -spectrum_k 2000000000 -output_dir "$o"
case_ lanczos_longer_than_n "-spectrum_m 100000000" -- "${small[@]}" -spectrum_every 1 -spectrum_m 100000000 -output_dir "$o"
case_ bad_bool "option -net_bias" -- "${small[@]}" -net_bias maybe -output_dir "$o"
case_ bad_enum "-net_loss" -- "${small[@]}" -net_loss crossentropy -output_dir "$o"
case_ misspelt_option "unknown option -train_epoch (did you mean -train_epochs?" -- "${small[@]}" -train_epoch 3 -output_dir "$o"
case_ misspelt_foreign_option "unknown option -lr (did you mean -train_lr?" -- "${small[@]}" -lr 0.1 -output_dir "$o"
case_ misspelt_petsc_option "unknown option -log_veiw (did you mean -log_view?" -- "${small[@]}" -log_veiw -output_dir "$o"
case_ positive_class "-data_positive_class" -- "${small[@]}" -data_positive_class 12 -output_dir "$o"
case_ other_architecture "different network" -- "${small[@]}" -net_preset lenet -output_dir "$run_dir" -restart
case_ changed_data_seed "made with other settings: -data_seed 1 (the options give 2)" -- "${small[@]}" -data_seed 2 -output_dir "$run_dir" -restart
case_ changed_loss_and_lr "-net_loss hinge (the options give absolute); -train_lr 0.01 (the options give 0.02)" -- \
  "${small[@]}" -net_loss absolute -train_lr 0.02 -output_dir "$run_dir" -restart
case_ changed_normalisation "-data_normalize true (the options give false)" -- "${small[@]}" -data_normalize false -output_dir "$run_dir" -restart
case_ corrupted_weights "/weights/L00_conv/weight does not match its CRC-32" -- "${small[@]}" -output_dir "$o" -restart "$dir/corrupt.h5"
case_ corrupted_sample_index "/data/train_source_index does not match its CRC-32" -- "${small[@]}" -output_dir "$o" -restart "$dir/corrupt_order.h5"
case_ used_output_dir "already holds a run" -- "${small[@]}" -output_dir "$run_dir"
case_ restart_not_hdf5 "not_hdf5.h5" -- "${small[@]}" -output_dir "$o" -restart "$dir/not_hdf5.h5"
# Another run holds the directory's lock (a sleep holding it in its place).
mkdir -p "$dir/busy"
(exec 9>"$dir/busy/.nncas.lock" && flock 9 && exec sleep 120) </dev/null >/dev/null 2>&1 &
holder=$!
sleep 0.2
case_ output_dir_in_use "in use by another nncas run" -- "${small[@]}" -output_dir "$dir/busy"
# The lock file that stands in for flock where the file system refuses it
# (-output_lock_file forces it here): one naming a live process on this host,
# and one naming another host (which cannot be checked), are in use; the
# message says how to remove a stale one.
mkdir -p "$dir/busy_file" "$dir/busy_elsewhere"
echo "$(hostname) $holder" >"$dir/busy_file/.nncas.lock.owner"
echo "some-other-node 12345" >"$dir/busy_elsewhere/.nncas.lock.owner"
case_ output_dir_in_use_lock_file "in use by another nncas run: $dir/busy_file/.nncas.lock.owner names host and pid \"$(hostname) $holder\"" -- \
  "${small[@]}" -output_dir "$dir/busy_file" -output_lock_file
case_ output_dir_locked_on_another_host "some-other-node 12345\". If that run has ended .* remove $dir/busy_elsewhere/.nncas.lock.owner" -- \
  "${small[@]}" -output_dir "$dir/busy_elsewhere" -output_lock_file
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
case_ output_dir_is_a_file "-output_dir" -- "${small[@]}" -output_dir "$dir/not_hdf5.h5/sub"

# A lock file left by a process of this host that has ended is stale: the
# run replaces it, and removes its own at the end.
mkdir -p "$dir/stale" && echo "$(hostname) $holder" >"$dir/stale/.nncas.lock.owner"
mpiexec -q -n 2 --oversubscribe "$nncas" "${small[@]}" -output_dir "$dir/stale" -output_lock_file >"$dir/stale.log" 2>&1
rc=$?
if [ "$rc" != 0 ] || [ -e "$dir/stale/.nncas.lock.owner" ]; then
  echo "FAIL stale_lock_file_replaced: status $rc, lock file $(ls "$dir/stale/.nncas.lock.owner" 2>&1)"; tail -n 3 "$dir/stale.log"
  failures=$((failures + 1))
else
  echo "ok   stale_lock_file_replaced"
fi

# -output_overwrite replaces damaged files (an empty checkpoint.h5 and
# results.h5) instead of failing on them, and starts results.h5 anew.
mkdir -p "$dir/damaged" && : >"$dir/damaged/checkpoint.h5" && : >"$dir/damaged/results.h5"
mpiexec -q -n 2 --oversubscribe "$nncas" "${small[@]}" -output_dir "$dir/damaged" -output_overwrite >"$dir/damaged.log" 2>&1
rc=$?
if [ "$rc" != 0 ] || ! h5ls "$dir/damaged/checkpoint.h5" >/dev/null 2>&1 || ! h5ls "$dir/damaged/results.h5" >/dev/null 2>&1; then
  echo "FAIL overwrite_damaged_files: status $rc"; tail -n 3 "$dir/damaged.log"; failures=$((failures + 1))
else
  echo "ok   overwrite_damaged_files"
fi

# -restart_allow_changes continues with changed settings, with a warning.
cp -r "$run_dir" "$dir/changed"
mpiexec -q -n 2 --oversubscribe "$nncas" "${small[@]}" -train_epochs 2 -train_lr 0.02 -output_dir "$dir/changed" -restart \
  -restart_allow_changes >"$dir/changed.out" 2>"$dir/changed.err"
rc=$?
if [ "$rc" != 0 ] || ! grep -q "warning: continuing from .* with changed settings (-restart_allow_changes): -train_lr 0.01 (the options give 0.02)" "$dir/changed.err"; then
  echo "FAIL restart_allow_changes: status $rc"; cat "$dir/changed.err"; failures=$((failures + 1))
else
  echo "ok   restart_allow_changes"
fi

# An option nobody reads under a prefix that SLEPc's objects read only when
# a spectrum runs (-eps_*, -spectrum_bv_*; not refused before the work) is
# named in a warning after a successful run; -options_left, which
# PetscFinalize reads, is not. (Other unknown options: tests/test_usage.sh.)
mpiexec -q -n 2 --oversubscribe "$nncas" "${small[@]}" -output_dir "$dir/unused" -spectrum_bv_typo 1 -eps_tol_typo 1 \
  -options_left >"$dir/unused.out" 2>"$dir/unused.err"
rc=$?
if [ "$rc" != 0 ] || [ "$(grep -c 'nncas: warning: option -\(spectrum_bv_typo\|eps_tol_typo\) was given but never used' "$dir/unused.err")" != 2 ] ||
  [ "$(wc -l <"$dir/unused.err")" != 2 ]; then
  echo "FAIL unused_options_warned: status $rc, stderr:"; cat "$dir/unused.err"; failures=$((failures + 1))
else
  echo "ok   unused_options_warned"
fi

[ "$failures" = 0 ] || { echo "$failures case(s) failed"; exit 1; }
echo "all bad-input cases passed"
