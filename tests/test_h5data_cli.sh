#!/usr/bin/env bash
# The nncas program on each malformed HDF5 data file of tests/h5data_fixtures.py,
# on NP ranks: each must end within the timeout with a non-zero status and
# stderr exactly one line "nncas: error: FILE: MESSAGE"; and a good file must
# run (one epoch of a small dense network).
# Usage: test_h5data_cli.sh NNCAS_BINARY FIXTURE_DIR NP SCRATCH_DIR
set -uo pipefail
nncas=$1
fx=$2
np=$3
dir=$4
rm -rf "$dir" && mkdir -p "$dir"
failures=0

# case FILE EXPECTED_MESSAGE_AFTER_"FILE: " [prefix]
case_() {
  local name=$1 want="nncas: error: $fx/$1: $2" prefix=${3:-}
  local t0=$SECONDS
  timeout 60 mpiexec -q -n "$np" --oversubscribe "$nncas" -data_format h5 -data_file "$fx/$name" \
    -net_layers dense:4,relu,dense:1 -train_epochs 1 -output_dir "$dir/run_$name" >"$dir/$name.out" 2>"$dir/$name.err"
  local rc=$? dt=$((SECONDS - t0))
  local lines; lines=$(wc -l <"$dir/$name.err")
  local msg; msg=$(head -1 "$dir/$name.err")
  if [ "$rc" = 0 ] || [ "$rc" = 124 ]; then
    echo "FAIL $name: exit status $rc (${dt}s)"; failures=$((failures + 1))
  elif [ "$lines" != 1 ]; then
    echo "FAIL $name: stderr is not one line:"; cat "$dir/$name.err"; failures=$((failures + 1))
  elif [ -z "$prefix" ] && [ "$msg" != "$want" ]; then
    echo "FAIL $name: message \"$msg\", expected \"$want\""; failures=$((failures + 1))
  elif [ -n "$prefix" ] && [ "${msg#"$want"}" = "$msg" ]; then
    echo "FAIL $name: message \"$msg\" does not begin \"$want\""; failures=$((failures + 1))
  else
    echo "ok   $name (status $rc, ${dt}s): $msg"
  fi
}

case_ no_train.h5 "no group /train"
case_ no_y.h5 "no dataset /train/y"
case_ count.h5 "/train/y: 3 labels for 4 samples of /train/x"
case_ nan.h5 "/train/x: sample 17 holds NaN or Inf"
case_ nonint.h5 "/train/y: label 2.5 is not an integer"
case_ rank3.h5 "/train/x: rank 3 (expected samples x features or samples x C x H x W)"
case_ empty.h5 "/train/x is empty"
case_ shape.h5 "/val/x: per-sample shape 3x32x32 differs from /train/x's 1x28x28"
case_ truncated.h5 "truncated or damaged HDF5 file (HDF5: truncated file" prefix
case_ text.h5 "not an HDF5 file"
case_ missing.h5 "cannot open (No such file or directory)"

# A good file runs to the end.
if timeout 120 mpiexec -q -n "$np" --oversubscribe "$nncas" -data_format h5 -data_file "$fx/good_f64_rank4_pm.h5" \
    -data_normalize -net_layers dense:4,relu,dense:1 -train_epochs 1 -train_batch 8 -output_dir "$dir/good" \
    >"$dir/good.out" 2>&1 && grep -q "^Data: HDF5 file $fx/good_f64_rank4_pm.h5 (/train, /val)" "$dir/good.out"; then
  echo "ok   good_f64_rank4_pm.h5 trains one epoch"
else
  echo "FAIL good_f64_rank4_pm.h5 did not train:"; cat "$dir/good.out"; failures=$((failures + 1))
fi
[ "$failures" = 0 ] || { echo "$failures case(s) failed"; exit 1; }
