#!/usr/bin/env bash
# Sets nncas up (Debian packages, build) and runs the whole test suite:
# ctest (C tests on 1, 2 and 3 MPI ranks, end-to-end runs) and the Python
# tests, then the C unit tests again in a build with AddressSanitizer and
# UndefinedBehaviorSanitizer (any finding fails; NNCAS_SKIP_SANITIZE=1 skips
# it; it is skipped when ctest arguments select a subset), and last the
# libFuzzer targets for 20 s each on their seed corpora (tests/fuzz.sh, with
# clang; NNCAS_SKIP_FUZZ=1 skips it, as do ctest arguments). The exit status
# is the verdict.
#
#   tests/run.sh [ctest arguments...]      e.g. tests/run.sh -R restart
#   tests/run.sh --quick                   the tests labelled quick (ctest -L quick:
#                                          C unit tests, ONNX import; a few minutes)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${NNCAS_BUILD:-$here/build}

# The tests also need pytest, PyTorch and torchvision (the reference for the cross-checks and the exported models),
# SLURM, clang with libFuzzer for tests/fuzz.sh, and Lmod (tests/test_install.sh loads the module file).
NNCAS_EXTRA_PACKAGES="python3-pytest python3-torch python3-torchvision slurm-wlm munge clang libclang-rt-14-dev lmod ${NNCAS_EXTRA_PACKAGES:-}" "$here/jobs/setup.sh" "$build"

export OPENBLAS_NUM_THREADS=1
if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
cd "$build"
if [ "${1:-}" = --quick ]; then
  shift
  set -- -L quick "$@"
fi
ctest --output-on-failure --timeout 900 -j 2 "$@"

if [ $# -eq 0 ] && [ "${NNCAS_SKIP_SANITIZE:-0}" != 1 ]; then
  san=${build}-sanitize
  echo "nncas tests: the C unit tests under AddressSanitizer and UndefinedBehaviorSanitizer ($san)"
  cmake -S "$here" -B "$san" -DCMAKE_BUILD_TYPE=Debug -DNNCAS_SANITIZE=ON >/dev/null
  cmake --build "$san" -j "$(nproc)" >"$san/build.log" 2>&1 || { tail -n 30 "$san/build.log"; exit 1; }
  # Leak checking on, with Open MPI's own allocations suppressed (tests/lsan.supp);
  # the C tests are test_* and the ONNX reader's onnx_* (tests/import.cmake).
  cd "$san" && ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:abort_on_error=1 \
    LSAN_OPTIONS=suppressions=$here/tests/lsan.supp:print_suppressions=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure --timeout 900 -j 2 -R '^test_|^onnx_'
fi

if [ $# -eq 0 ] && [ "${NNCAS_SKIP_FUZZ:-0}" != 1 ]; then
  "$here/tests/fuzz.sh" "$build"
fi
