#!/usr/bin/env bash
# nncas configures and builds as on a cluster, where Debian's pkg-config names
# (hdf5-openmpi, openblas, scalapack-openmpi, libprotobuf-c) do not exist:
# PKG_CONFIG_PATH and PKG_CONFIG_LIBDIR are an empty directory, and only what a
# cluster user sets is given: PETSC_DIR, SLEPC_DIR, HDF5_ROOT, BLA_VENDOR and
# SCALAPACK_LIBRARIES (cmake/nncas_deps.cmake). Checks that each dependency
# came from that setting (the configure's "nncas: NAME: ..." lines), builds
# nncas (with nncas_core) and runs `nncas -help`. First, a PETSC_DIR without
# PETSc stops the configure with one error that names PETSC_DIR.
#
#   tests/test_build_portable.sh SOURCE_DIR WORK_DIR      (WORK_DIR is emptied)
set -euo pipefail
src=$1 work=$2
fail() { echo "test_build_portable: $*" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work/empty-pkgconfig"
arch=$(gcc -print-multiarch)

# What a cluster user sets, and nothing of Debian's pkg-config.
export PKG_CONFIG_PATH=$work/empty-pkgconfig PKG_CONFIG_LIBDIR=$work/empty-pkgconfig
unset PETSC_ARCH CMAKE_PREFIX_PATH PROTOBUFC_ROOT
export PETSC_DIR=/usr/lib/petsc SLEPC_DIR=/usr/lib/slepc HDF5_ROOT=/usr/lib/$arch/hdf5/openmpi
settings=(-DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DBLA_VENDOR=OpenBLAS
          -DSCALAPACK_LIBRARIES=/usr/lib/$arch/libscalapack-openmpi.so)

# A PETSC_DIR that holds no PETSc: one error, naming the variable to set.
if PETSC_DIR=$work/no-petsc cmake -S "$src" -B "$work/bad" "${settings[@]}" >"$work/bad.log" 2>&1; then
  fail "configured with PETSC_DIR=$work/no-petsc"
fi
[ "$(grep -c "CMake Error" "$work/bad.log")" = 1 ] || { cat "$work/bad.log"; fail "not exactly one CMake error for a wrong PETSC_DIR"; }
grep -q "set PETSC_DIR" "$work/bad.log" || { cat "$work/bad.log"; fail "the error does not say to set PETSC_DIR"; }

start=$SECONDS
cmake -S "$src" -B "$work/build" "${settings[@]}" >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; fail "configure failed"; }
echo "configure: $((SECONDS - start)) s"
grep "nncas: " "$work/configure.log"
expect() { grep -qE "nncas: $1" "$work/configure.log" || fail "expected a line 'nncas: $1' in $work/configure.log"; }
expect "PETSc: .*, $PETSC_DIR/lib/pkgconfig/PETSc.pc$"
expect "SLEPc: .*, $SLEPC_DIR/lib/pkgconfig/SLEPc.pc$"
expect "HDF5: .* parallel, $HDF5_ROOT/include$"
expect "ScaLAPACK: SCALAPACK_LIBRARIES="
expect "BLAS: OpenBLAS, "
expect "protobuf-c: .*default paths"
if grep -E "nncas: .*pkg-config" "$work/configure.log"; then fail "a dependency came from pkg-config"; fi

start=$SECONDS
cmake --build "$work/build" -j "$(nproc)" --target nncas >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log"; fail "build failed"; }
echo "build of nncas: $((SECONDS - start)) s"
OPENBLAS_NUM_THREADS=1 "$work/build/nncas" -help >"$work/help.log" 2>&1 || { cat "$work/help.log"; fail "nncas -help failed"; }
grep -q "^nncas .*trains neural networks" "$work/help.log" || fail "nncas -help printed no banner"
echo "test_build_portable: ok"
