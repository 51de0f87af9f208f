#!/usr/bin/env bash
# `cmake --install BUILD --prefix P` gives a tree that works on its own
# (cmake/nncas_install.cmake): P/bin holds nncas and the benchmarks, P/share/
# nncas/inputs every option file, P/lib/python3/site-packages the package
# nncas_post, P/share/nncas/modulefiles the module that Lmod loads. Then, from
# the module's environment alone: a one-epoch run of the installed quick-start
# preset, and its figures drawn by python3 -m nncas_post.quickstart_figures.
#
#   tests/test_install.sh SOURCE_DIR BUILD_DIR WORK_DIR      (WORK_DIR is emptied)
set -euo pipefail
src=$1 build=$2 work=$3
fail() { echo "test_install: $*" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
P=$work/prefix
cmake --install "$build" --prefix "$P" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "cmake --install failed"; }
version=$(sed -n 's/^project(nncas VERSION \([^ ]*\) .*/\1/p' "$src/CMakeLists.txt")
grep -q "^version = \"$version\"$" "$src/pyproject.toml" || fail "pyproject.toml's version is not CMakeLists.txt's $version"

for p in nncas nncas_bench_hvp nncas_bench_table2 nncas_bench_dgemm; do
  [ -x "$P/bin/$p" ] || fail "no executable $P/bin/$p"
done
for f in "$src"/inputs/*.opts; do
  cmp -s "$f" "$P/share/nncas/inputs/$(basename "$f")" || fail "inputs/$(basename "$f") not installed in $P/share/nncas/inputs"
done
[ -f "$P/lib/python3/site-packages/nncas_post/__init__.py" ] || fail "no package nncas_post in $P/lib/python3/site-packages"
modulefile=$P/share/nncas/modulefiles/nncas/$version
[ -f "$modulefile" ] || fail "no module file $modulefile"
# The programs keep the run path of PETSc's library directory (not a system directory).
petsc_libdir=$(sed -n 's/^libdir=//p' /usr/lib/petsc/lib/pkgconfig/PETSc.pc | sed "s|\${prefix}|$(sed -n 's/^prefix=//p' /usr/lib/petsc/lib/pkgconfig/PETSc.pc)|")
readelf -d "$P/bin/nncas" | grep -E "R(UN)?PATH" | grep -qF "$petsc_libdir" || fail "$P/bin/nncas has no run path to $petsc_libdir"

# The module, loaded by Lmod (Debian's lmod) in a clean environment.
lmod=/usr/share/lmod/lmod/libexec/lmod
[ -x "$lmod" ] || fail "Lmod not found ($lmod; Debian package lmod)"
env -i HOME="$work" PATH=/usr/bin:/bin bash -c "
  set -e
  eval \"\$($lmod bash use $P/share/nncas/modulefiles)\"
  eval \"\$($lmod bash load nncas/$version)\"
  env | grep -E '^(PATH|PYTHONPATH|NNCAS_SHARE|NNCAS_INPUTS)='
" >"$work/module.env" 2>"$work/module.log" || { cat "$work/module.log"; fail "Lmod could not load nncas/$version"; }
grep -qx "PATH=$P/bin:/usr/bin:/bin" "$work/module.env" || { cat "$work/module.env"; fail "the module does not put $P/bin first on PATH"; }
grep -qx "PYTHONPATH=$P/lib/python3/site-packages" "$work/module.env" || fail "the module does not set PYTHONPATH"
grep -qx "NNCAS_SHARE=$P/share/nncas" "$work/module.env" || fail "the module does not set NNCAS_SHARE"

# Run from the module's environment: the installed program, preset and package.
for v in PATH PYTHONPATH NNCAS_SHARE; do
  export "$v=$(sed -n "s/^$v=//p" "$work/module.env")"
done
command -v nncas | grep -qx "$P/bin/nncas" || fail "nncas on PATH is not $P/bin/nncas"
cd "$work"
nncas -help >"$work/help.log" 2>&1 || { cat "$work/help.log"; fail "nncas -help failed"; }
mpiexec -n 1 nncas -options_file "$NNCAS_SHARE/inputs/quickstart.opts" -data_train_size 64 -data_val_size 16 \
  -train_epochs 1 -spectrum_every 0 -coupling_every 0 -output_dir "$work/run" >"$work/run.log" 2>&1 ||
  { cat "$work/run.log"; fail "a one-epoch quick-start run of the installed nncas failed"; }
grep -q "^Done" "$work/run.log" || { cat "$work/run.log"; fail "the run did not end with Done."; }
/usr/bin/python3 -c 'import nncas_post, nncas_post.scripts; print(nncas_post.__file__)' | grep -q "^$P/" ||
  fail "import nncas_post does not find the installed package"
/usr/bin/python3 -m nncas_post.quickstart_figures "$work/run" --out "$work/figures" >"$work/figures.log" 2>&1 ||
  { cat "$work/figures.log"; fail "python3 -m nncas_post.quickstart_figures failed"; }
ls "$work/figures" | grep -q . || fail "no figures written"
echo "test_install: ok ($(ls "$work/figures" | wc -l) files of figures)"
