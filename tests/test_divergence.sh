#!/usr/bin/env bash
# Divergence on NP ranks: a run whose loss blows up, and stages whose Hessian
# products are NaN (-hessian_inject_nan: rank 0 alone returns NaN from its
# n-th R-operator pass, so the check must reach every rank), each end at once
# with exit status 4, a message saying what diverged and when, the verdict in
# the results file (a valid file, no temporary left), and the last good
# checkpoint byte-for-byte intact.
# Usage: test_divergence.sh NNCAS_BINARY SCRATCH_DIR NP
set -uo pipefail
nncas=$1
dir=$2
np=$3
rm -rf "$dir" && mkdir -p "$dir"
base=(-data_format mixture -synth_train 240 -synth_val 60 -synth_shape 1,6,6 -net_layers "dense:12,tanh,dense:8,relu,dense:1"
      -train_batch 40 -hessian_samples 60 -spectrum_m 12 -spectrum_nvec 1 -spectrum_extremes false
      -coupling_nb 8 -coupling_nb_high 4 -coupling_draws 1 -coupling_calibrate false -coupling_full_cc false -coupling_submatrix 0)
failures=0

# A run of 2 epochs every case continues from.
mpiexec -n "$np" --oversubscribe "$nncas" "${base[@]}" -train_epochs 2 -output_dir "$dir/run" >"$dir/run.log" 2>&1 ||
  { cat "$dir/run.log"; echo "FAIL: the reference run did not complete"; exit 1; }

# case NAME EXPECTED_MESSAGE -- options (the case runs on a copy of the run)
case_() {
  local name=$1 want=$2; shift 3
  local out=$dir/$name
  cp -r "$dir/run" "$out"
  local sum; sum=$(sha256sum <"$out/checkpoint.h5")
  local t0=$SECONDS
  timeout 120 mpiexec -q -n "$np" --oversubscribe "$nncas" "${base[@]}" -output_dir "$out" -restart "$@" >"$out.log" 2>&1
  local rc=$? dt=$((SECONDS - t0))
  local msg; msg=$(grep "^nncas: " "$out.log")
  if [ "$rc" != 4 ]; then
    echo "FAIL $name: exit status $rc (want 4, ${dt}s)"; tail -n 5 "$out.log"; failures=$((failures + 1))
  elif ! grep -q -- "$want" <<<"$msg"; then
    echo "FAIL $name: message lacks \"$want\": $msg"; failures=$((failures + 1))
  elif [ "$(sha256sum <"$out/checkpoint.h5")" != "$sum" ]; then
    echo "FAIL $name: the last good checkpoint changed"; failures=$((failures + 1))
  elif [ -n "$(find "$out" -name '*.tmp')" ]; then
    echo "FAIL $name: a temporary file is left: $(find "$out" -name '*.tmp')"; failures=$((failures + 1))
  elif ! /usr/bin/python3 - "$out/results.h5" "$want" <<'EOF'; then
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    a = f["/training"].attrs
    what = a["diverged_what"]
    what = what.decode() if isinstance(what, bytes) else str(what)
    sys.exit(0 if a["diverged"] == 1 and sys.argv[2] in what else 1)
EOF
    echo "FAIL $name: results.h5 does not record the divergence"; failures=$((failures + 1))
  else
    echo "ok   $name (${dt}s): $msg"
  fi
}

case_ training_loss "training diverged at epoch 3 step" -- -train_epochs 3 -train_lr 1e9 -restart_allow_changes
case_ spectrum_hvp "the spectrum stage diverged after 2 epoch(s) of training: a Hessian-vector product" -- \
  -train_epochs 3 -spectrum_every 1 -hessian_inject_nan 3
case_ dense_hessian "the spectrum stage diverged after 2 epoch(s) of training: the dense Hessian's columns" -- \
  -train_epochs 3 -spectrum_every 1 -spectrum_density false -hessian_dense -hessian_inject_nan 1
case_ coupling_entries "the coupling stage diverged after 2 epoch(s) of training: the per-batch Hessian entries" -- \
  -train_epochs 3 -coupling_every 1 -hessian_inject_nan 2

# After -restart FILE into another directory, the last good checkpoint is FILE
# (OUTPUT_DIR has none yet).
out=$dir/restart_file
timeout 120 mpiexec -q -n "$np" --oversubscribe "$nncas" "${base[@]}" -output_dir "$out" -restart "$dir/run/checkpoint.h5" \
  -train_epochs 3 -train_lr 1e9 -restart_allow_changes >"$out.log" 2>&1
rc=$?
if [ "$rc" != 4 ] || ! grep -q "the last good checkpoint $dir/run/checkpoint.h5 is kept" "$out.log"; then
  echo "FAIL restart_file: status $rc, message: $(grep '^nncas: ' "$out.log")"; failures=$((failures + 1))
else
  echo "ok   restart_file: $(grep '^nncas: ' "$out.log")"
fi

[ "$failures" = 0 ] || { echo "$failures case(s) failed"; exit 1; }
echo "all divergence cases passed on $np rank(s)"
