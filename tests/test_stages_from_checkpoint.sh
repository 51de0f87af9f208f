#!/usr/bin/env bash
# The stages of an epoch run later, from a kept checkpoint, at another rank
# count (issue 29: an analysis job at a larger P than training's):
# - a training run on 2 ranks with -checkpoint_keep 2 keeps
#   checkpoints/epoch_0002.h5 and epoch_0004.h5, each holding its own epoch
#   (the later checkpoints leave the earlier ones as they were);
# - a run on 3 ranks with -restart checkpoints/epoch_0002.h5 -train_epochs 2,
#   in a directory of its own, trains nothing and gives the spectrum of epoch
#   2 of the training run (Ritz values to 1e-9 of ||H||, weights 1e-9, trace
#   1e-9 relative: only the rank count differs, so only rounding), also with
#   -stage_groups 3;
# - -checkpoint_keep -1 is refused with one line.
# Usage: test_stages_from_checkpoint.sh NNCAS_BINARY SCRATCH_DIR
set -uo pipefail
nncas=$1
dir=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rm -rf "$dir" && mkdir -p "$dir"
opts=(-data_format mixture -synth_train 240 -synth_val 60 -synth_shape 1,6,6 -net_layers "dense:12,tanh,dense:8,relu,dense:1"
      -train_batch 40 -spectrum_every 2 -hessian_samples 60 -spectrum_m 12 -spectrum_nvec 3 -spectrum_trace_vecs 6)
run() { # run NP LOG OPTIONS...
  local np=$1 log=$2
  shift 2
  mpiexec -q -n "$np" --oversubscribe "$nncas" "${opts[@]}" "$@" >"$log" 2>&1
}
run 2 "$dir/train.log" -output_dir "$dir/train" -train_epochs 4 -checkpoint_keep 2 ||
  { tail -n 5 "$dir/train.log"; echo "FAIL: the training run"; exit 1; }
for g in 1 3; do
  run 3 "$dir/stages$g.log" -output_dir "$dir/stages$g" -restart "$dir/train/checkpoints/epoch_0002.h5" -train_epochs 2 -stage_groups "$g" ||
    { tail -n 5 "$dir/stages$g.log"; echo "FAIL: the stages run from the kept checkpoint (G = $g)"; exit 1; }
  grep -q "^epoch " "$dir/stages$g.log" && { echo "FAIL: the stages run trained (G = $g)"; exit 1; }
done
/usr/bin/python3 - "$dir" <<'PY' || exit 1
import sys
import h5py
d = sys.argv[1]
bad = []
for e in (2, 4):
    with h5py.File(f"{d}/train/checkpoints/epoch_{e:04d}.h5", "r") as f:
        if f["state"].attrs["epoch"] != e:
            bad.append(f"checkpoints/epoch_{e:04d}.h5 holds epoch {f['state'].attrs['epoch']}")
for b in bad:
    print("FAIL", b)
sys.exit(1 if bad else 0)
PY
# The comparison the SLURM analysis job's test makes too (tests/stages_agree.py).
for g in 1 3; do
  /usr/bin/python3 "$here/stages_agree.py" "$dir/train/results.h5" "$dir/stages$g/results.h5" 2 \
    --label "G = $g, 3 ranks, from the kept checkpoint of epoch 2 (training on 2)" || exit 1
done
if run 2 "$dir/bad.log" -output_dir "$dir/bad" -checkpoint_keep -1; then
  echo "FAIL: -checkpoint_keep -1 accepted"
  exit 1
fi
grep -q "^nncas: error: -checkpoint_keep must be non-negative" "$dir/bad.log" || { cat "$dir/bad.log"; echo "FAIL: not one clear line"; exit 1; }
echo "ok: the stages of a kept checkpoint, run on 3 ranks, agree with the training run's on 2"
