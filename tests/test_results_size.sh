#!/usr/bin/env bash
# results.h5 does not grow with rewrites: a run that rewrites it 41 times (the
# training curves every epoch, a spectrum every epoch, 20 epochs) leaves a
# file no larger than 1.05 times h5repack's copy of it (before, each update
# kept the space of the groups it replaced: 884 KB against 692 KB here).
# Usage: test_results_size.sh NNCAS_BINARY SCRATCH_DIR
set -uo pipefail
nncas=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
mpiexec -q -n 2 --oversubscribe "$nncas" -data_format mixture -synth_train 240 -synth_val 60 -synth_shape 1,6,6 \
  -net_layers "dense:12,tanh,dense:8,relu,dense:1" -train_batch 40 -train_epochs 20 -spectrum_every 1 -hessian_samples 60 \
  -spectrum_m 12 -spectrum_m0 12 -spectrum_extremes false -output_dir "$dir/run" >"$dir/run.log" 2>&1 ||
  { tail -n 5 "$dir/run.log"; echo "FAIL: the run did not complete"; exit 1; }
h5repack "$dir/run/results.h5" "$dir/repacked.h5" || { echo "FAIL: h5repack"; exit 1; }
size=$(stat -c %s "$dir/run/results.h5")
packed=$(stat -c %s "$dir/repacked.h5")
echo "results.h5 after 41 rewrites: $size bytes; h5repack: $packed bytes"
[ $((size * 100)) -le $((packed * 105)) ] || { echo "FAIL: results.h5 keeps the space of replaced groups"; exit 1; }
echo "results.h5 does not grow with rewrites"
