#!/usr/bin/env bash
# The nncas program stopped mid-epoch and restarted from its checkpoint:
#   1 -> 1 and 2 -> 2 ranks end with weights and momentum bitwise identical to
#   an uninterrupted run on the same rank count; 2 -> 3 ranks agree to rounding.
# Usage: test_restart_ranks.sh NNCAS_BINARY SCRATCH_DIR
set -euo pipefail
nncas=$1
dir=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$dir" && mkdir -p "$dir"
opts=(-data_format idx -data_train_size 600 -data_val_size 200 -data_augment true
      -net_layers "conv:4:5,bn,relu,pool:2,dropout:0.2,dense:16,bn,relu,dropout:0.3,dense:1"
      -train_epochs 3 -train_batch 50 -train_lr 0.02 -train_lr_milestones 2)
run() { # ranks outdir [extra options]
  local np=$1 out=$2; shift 2
  mpiexec -n "$np" --oversubscribe "$nncas" "${opts[@]}" -output_dir "$out" "$@" >"$out.log" 2>&1 ||
    { local rc=$?; [ "$rc" = 3 ] || { cat "$out.log"; echo "nncas exited with $rc"; exit 1; }; }
}
for np in 1 2; do
  run "$np" "$dir/straight$np"
  run "$np" "$dir/stopped$np" -train_stop_after_steps 17   # epoch 2, step 5 of 12
  grep -q "Stopped at epoch 2 step 5" "$dir/stopped$np.log" || { cat "$dir/stopped$np.log"; exit 1; }
  run "$np" "$dir/stopped$np" -restart
  echo "restart $np -> $np:"
  /usr/bin/python3 "$here/h5compare.py" "$dir/straight$np/checkpoint.h5" "$dir/stopped$np/checkpoint.h5" --bitwise
done
run 2 "$dir/cross" -train_stop_after_steps 17
run 3 "$dir/cross" -restart
echo "restart 2 -> 3:"
/usr/bin/python3 "$here/h5compare.py" "$dir/straight2/checkpoint.h5" "$dir/cross/checkpoint.h5" --rtol 1e-9
