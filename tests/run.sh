#!/usr/bin/env bash
# Sets nncas up (Debian packages, build) and runs the whole test suite:
# ctest (C tests on 1, 2 and 3 MPI ranks, end-to-end runs) and the Python
# tests. The exit status is the verdict.
#
#   tests/run.sh [ctest arguments...]      e.g. tests/run.sh -R restart
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${NNCAS_BUILD:-$here/build}

# The tests also need pytest and PyTorch (the reference for the cross-checks).
NNCAS_EXTRA_PACKAGES="python3-pytest python3-torch ${NNCAS_EXTRA_PACKAGES:-}" "$here/jobs/setup.sh" "$build"

export OPENBLAS_NUM_THREADS=1
if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
cd "$build"
ctest --output-on-failure --timeout 900 -j 2 "$@"
