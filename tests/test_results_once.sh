#!/usr/bin/env bash
# Each result is written once (docs/files.md, "results.h5 and results/"):
# - a run of 3 epochs (a spectrum every epoch, coupling every 2), continued to
#   5, leaves the files of the earlier results untouched (same inode and
#   modification time; but the curves, Algorithm 3's null counts, which each
#   run computes, and the stages at epoch 3, run again at the start) and adds
#   the new ones; results.h5 links every one,
#   stays small, and every dataset reads through it from another working
#   directory (h5py, h5dump);
# - a run started afresh in that directory (-output_overwrite) removes the
#   earlier run's results when it writes its first;
# - a run continued where results.h5 is of the layout before 2026-12-07 is
#   refused with one line naming it, before anything is written.
# Usage: test_results_once.sh NNCAS_BINARY SCRATCH_DIR
set -uo pipefail
nncas=$1
dir=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rm -rf "$dir" && mkdir -p "$dir"
out=$dir/run
opts=(-data_format mixture -synth_train 240 -synth_val 60 -synth_shape 1,6,6 -net_layers "dense:12,tanh,dense:8,relu,dense:1"
      -train_batch 40 -spectrum_every 1 -hessian_samples 60 -spectrum_m 12 -spectrum_m0 12 -spectrum_extremes false
      -coupling_every 2 -coupling_nb 6 -coupling_nb_high 4 -coupling_submatrix 10 -coupling_draws 1 -coupling_null_draws 1)
run() { # run LOG OPTIONS...
  local log=$1
  shift
  mpiexec -q -n 2 --oversubscribe "$nncas" "${opts[@]}" "$@" >"$log" 2>&1
}
parts() { (cd "$out/results" && find . -name '*.h5' -printf '%P %i %T@\n' | sort); }

run "$dir/first.log" -output_dir "$out" -train_epochs 3 || { tail -n 5 "$dir/first.log"; echo "FAIL: the first run"; exit 1; }
parts >"$dir/first.parts"
sleep 1 # a rewrite would show in the modification time
run "$dir/second.log" -output_dir "$out" -restart -train_epochs 5 ||
  { tail -n 5 "$dir/second.log"; echo "FAIL: the continued run"; exit 1; }
parts >"$dir/second.parts"
(cd / && /usr/bin/python3 - "$here" "$out" "$dir/first.parts" "$dir/second.parts") <<'PY' || exit 1
import os, sys
sys.path.insert(0, sys.argv[1])
import h5py, h5same
out = sys.argv[2]
first, second = ({l.split()[0]: l.split()[1:] for l in open(p)} for p in sys.argv[3:5])
want = [f"spectrum/epoch_{e:04d}.h5" for e in range(6)] + [f"coupling/epoch_{e:04d}.h5" for e in (0, 2, 4)]
want += ["coupling/null.h5", "training.h5"]
bad = [f"{p}: missing" for p in want if p not in second] + [f"{p}: not expected" for p in second if p not in want]
# rewritten by design: the curves; Algorithm 3, once per run; the stages at the epoch the run continues from
again = ("training.h5", "coupling/null.h5", "spectrum/epoch_0003.h5")
bad += [f"{p}: rewritten by the continued run" for p in first if p not in again and first[p] != second.get(p)]
with h5py.File(f"{out}/results.h5", "r") as f:
    links = sorted(f"{g}/{k}.h5" for g in ("spectrum", "coupling") for k in f[g]) + ["training.h5"] * ("training" in f)
    if links != sorted(want):
        bad.append(f"results.h5 links {links}")
    n = sum(isinstance(o, h5py.Dataset) and o[()] is not None for o in h5same.objects(f).values())
size = os.path.getsize(f"{out}/results.h5")
if size > 32768:
    bad.append(f"results.h5 is {size} bytes: more than an index")
for b in bad:
    print("FAIL", b)
if bad:
    sys.exit(1)
print(f"ok: {len(first) - len(again)} results kept as written, {len(second) - len(first)} added; {n} datasets read through "
      f"results.h5 ({size} bytes)")
PY
(cd / && h5dump -d /spectrum/epoch_0005/density/grid "$out/results.h5" >"$dir/h5dump.txt" 2>&1) ||
  { head -n 5 "$dir/h5dump.txt"; echo "FAIL: h5dump does not read through the link"; exit 1; }

cp -r "$out" "$dir/old"
run "$dir/fresh.log" -output_dir "$out" -output_overwrite -train_epochs 1 ||
  { tail -n 5 "$dir/fresh.log"; echo "FAIL: the fresh run"; exit 1; }
got=$(parts | cut -d' ' -f1 | tr '\n' ' ')
want="coupling/epoch_0000.h5 coupling/null.h5 spectrum/epoch_0000.h5 spectrum/epoch_0001.h5 training.h5 "
[ "$got" = "$want" ] || { echo "FAIL: after a fresh run the results are: $got (want $want)"; exit 1; }
echo "ok: a fresh run leaves only its own results"

# The layout before 2026-12-07: results inside results.h5, no results/.
rm -rf "$dir/old/results"
/usr/bin/python3 -c "
import h5py, sys
with h5py.File(sys.argv[1], 'w') as f:
    f.attrs['kind'] = 'nncas results'
    f['training/epoch'] = [1, 2, 3, 4, 5]
" "$dir/old/results.h5"
sum=$(md5sum <"$dir/old/results.h5")
if run "$dir/old.log" -output_dir "$dir/old" -restart -train_epochs 6; then
  echo "FAIL: a run continued on a results.h5 of the old layout"
  exit 1
fi
msg=$(grep "^nncas: " "$dir/old.log")
[ "$(grep -c . <<<"$msg")" = 1 ] && grep -q "$dir/old/results.h5 holds its results inside it" <<<"$msg" ||
  { cat "$dir/old.log"; echo "FAIL: not one line naming the old results.h5"; exit 1; }
[ "$(md5sum <"$dir/old/results.h5")" = "$sum" ] && [ ! -e "$dir/old/results" ] ||
  { echo "FAIL: the old results.h5 was changed, or results/ written"; exit 1; }
echo "ok: the old layout is refused: $msg"
