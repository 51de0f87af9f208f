#!/usr/bin/env bash
# The quick start: sets nncas up (Debian packages, build), then trains the
# binary Fashion-MNIST task on 2 MPI ranks with inputs/quickstart.opts and
# prints where the checkpoint and the results are.
#
#   jobs/quickstart.sh [extra nncas options...]
#
# Environment: NNCAS_BUILD (build directory, default build/), NNCAS_OUT
# (output directory, default runs/quickstart), NNCAS_RANKS (default 2).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${NNCAS_BUILD:-$here/build}
out=${NNCAS_OUT:-$here/runs/quickstart}
ranks=${NNCAS_RANKS:-2}

"$here/jobs/setup.sh" "$build"

export OPENBLAS_NUM_THREADS=1 # one BLAS thread per rank: the ranks fill the cores
if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
echo "nncas quickstart: $ranks ranks, output in $out"
mpiexec -n "$ranks" --oversubscribe "$build/nncas" -options_file "$here/inputs/quickstart.opts" \
  -output_dir "$out" -output_overwrite "$@"
echo "Inspect with: h5ls -r --follow-symlinks $out/results.h5   (or h5py; layout in docs/files.md, docs/spectrum.md)"
echo "Figures (Fig. 1b-1f, Fig. 5), Table 2 and the summary table:"
/usr/bin/python3 "$here/postprocess/quickstart_figures.py" "$out/results.h5" --out "$out/figures"
