#!/usr/bin/env bash
# Rank groups (-stage_groups G) end to end: on 4 ranks, G = 2 and G = 4 give
# the spectrum of G = 1 (Ritz values to 1e-9 of ||H||_2, weights, density and
# trace to 1e-9; extremes, which run on all ranks, identical), the coupling
# stage's records bit for bit (its draws' entries computed by the groups) and the init-scaling study's gradient norms (1e-9) and spectra
# (as the spectrum's), and a G the ranks cannot form is refused before any
# work.
# Usage: test_stage_groups.sh NNCAS_BINARY SCRATCH_DIR
set -euo pipefail
nncas=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
opts=(-data_format idx -data_train_size 400 -data_val_size 100
      -net_layers "conv:4:5,relu,pool:2,dense:12,relu,dense:1" -net_loss hinge
      -train_epochs 1 -train_batch 50
      -spectrum_every 1 -hessian_samples 40 -spectrum_m 24 -spectrum_k 128 -spectrum_nvec 5 -spectrum_trace_vecs 9
      -coupling_every 1 -coupling_nb 10 -coupling_nb_high 5 -coupling_draws 4 -coupling_calibrate false
      -initscale -initscale_inits 5)
for g in 1 2 4; do
  mpiexec -n 4 --oversubscribe "$nncas" "${opts[@]}" -stage_groups "$g" -output_dir "$dir/G$g" >"$dir/G$g.log" 2>&1 ||
    { cat "$dir/G$g.log"; echo "nncas -stage_groups $g exited with $?"; exit 1; }
done
grep -q "4 rank groups" "$dir/G4.log" || { cat "$dir/G4.log"; echo "G = 4: no rank groups reported"; exit 1; }
/usr/bin/python3 - "$dir" <<'PY'
import sys
import h5py
import numpy as np
d = sys.argv[1]
ref = h5py.File(f"{d}/G1/results.h5", "r")
bad = []
for g in (2, 4):
    f = h5py.File(f"{d}/G{g}/results.h5", "r")
    spectra = [(f"spectrum/{e}", ref["spectrum"][e], f["spectrum"][e]) for e in ref["spectrum"]]
    spectra += [(f"initscale/{c}", ref["initscale"][c], f["initscale"][c]) for c in ref["initscale"] if c.startswith("c_")]
    a, b = ref["initscale/grad_norm_sq"][()], f["initscale/grad_norm_sq"][()]
    dg = np.max(np.abs(a - b) / np.abs(a))
    print(f"G = {g}, initscale: ||grad R||^2 of {a.size} initialisations within {dg:.1e} (relative)")
    if not dg <= 1e-9:
        bad.append(f"G = {g} initscale gradients")
    for e, a, b in spectra:
        norm = a["statistics"].attrs["norm2"]
        dr = np.max(np.abs(a["density/ritz_values"][()] - b["density/ritz_values"][()])) / norm
        dw = np.max(np.abs(a["density/ritz_weights"][()] - b["density/ritz_weights"][()]))
        dd = np.max(np.abs(a["density/density"][()] - b["density/density"][()])) / np.max(a["density/density"][()])
        ta, tb = a["statistics"].attrs["trace"], b["statistics"].attrs["trace"]
        dt = abs(ta - tb) / abs(ta)
        same = all(np.array_equal(a[k][()], b[k][()]) for k in ("extremes/lambda_max", "extremes/lambda_min", "density/steps"))
        print(f"G = {g}, {e}: Ritz values {dr:.1e} of ||H||, weights {dw:.1e}, density {dd:.1e}, trace {dt:.1e}; "
              f"extremes and steps {'identical' if same else 'DIFFER'}")
        if not (dr <= 1e-9 and dw <= 1e-9 and dd <= 1e-9 and dt <= 1e-9 and same):
            bad.append(f"G = {g} {e}")
    # each batch's entries are computed whole on one rank: the coupling records are identical, bit for bit
    names = []  # through results.h5's links to each part
    for part in ref["coupling"]:
        ref["coupling"][part].visititems(lambda n, o, p=part: names.append(f"{p}/{n}") if isinstance(o, h5py.Dataset) else None)
    differ = [n for n in names if n not in f["coupling"] or
              not np.array_equal(ref["coupling"][n][()], f["coupling"][n][()], equal_nan=ref["coupling"][n].dtype.kind == "f")]
    print(f"G = {g}, coupling: {len(names) - len(differ)} of {len(names)} datasets identical")
    bad += [f"G = {g} coupling/{n}" for n in differ]
if bad:
    sys.exit("differ from G = 1: " + ", ".join(bad))
PY
for g in 0 5; do
  rc=0
  mpiexec -n 4 --oversubscribe "$nncas" "${opts[@]}" -stage_groups "$g" -output_dir "$dir/bad$g" >"$dir/bad$g.log" 2>&1 || rc=$?
  [ "$rc" != 0 ] && grep -q -- "-stage_groups $g: between 1 and the number of ranks (4)" "$dir/bad$g.log" ||
    { cat "$dir/bad$g.log"; echo "-stage_groups $g: not refused (exit $rc)"; exit 1; }
  [ ! -e "$dir/bad$g/results.h5" ] || { echo "-stage_groups $g: a results file was written"; exit 1; }
done
echo "rank groups: G = 2, 4 agree with G = 1; G = 0, 5 refused"
