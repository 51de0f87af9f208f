#!/usr/bin/env bash
# Installs nncas's dependencies (Debian 12 packages; only what is missing) and
# configures and builds it.
#
#   jobs/setup.sh [BUILD_DIR] [extra cmake arguments...]
#
# BUILD_DIR defaults to build/ in the repository. Idempotent: a second run
# installs nothing and rebuilds only what changed. NNCAS_SKIP_APT=1 skips the
# package check (e.g. on a cluster with modules instead of Debian packages;
# then PETSC_DIR, SLEPC_DIR, HDF5_ROOT, ... say where they are: README.md,
# "Install on a cluster", and cmake/nncas_deps.cmake).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$here/build}
[ $# -gt 0 ] && shift

packages=(
  build-essential cmake pkg-config git curl ca-certificates
  openmpi-bin libopenmpi-dev
  petsc-dev slepc-dev
  libscalapack-openmpi-dev libhdf5-openmpi-dev hdf5-tools
  libopenblas-dev zlib1g-dev
  libprotobuf-c-dev protobuf-c-compiler python3-onnx
  dataset-fashion-mnist
  python3-h5py python3-numpy python3-matplotlib
)
# Extra packages a caller needs (tests/run.sh adds pytest and PyTorch).
read -r -a extra <<< "${NNCAS_EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")

missing_packages() {
  local p
  for p in "${packages[@]}"; do
    [ -n "$p" ] || continue
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

if [ "${NNCAS_SKIP_APT:-0}" != 1 ]; then
  mapfile -t missing < <(missing_packages)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "nncas setup: missing Debian packages: ${missing[*]}" >&2
      echo "nncas setup: run as root, or: sudo apt-get install ${missing[*]}" >&2
      exit 1
    fi
    echo "nncas setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

echo "nncas setup: building in $build"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
log=$build/build.log
if ! cmake --build "$build" -j "$(nproc)" >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "nncas setup: the build failed (full log: $log)" >&2
  exit 1
fi
grep -E "warning:" "$log" >&2 || true
