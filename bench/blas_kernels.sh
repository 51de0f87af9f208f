# Sourced by the benchmarks. nncas_export_blas_kernels BUILD exports
# OPENBLAS_CORETYPE as the OpenBLAS kernels that BUILD's programs run on
# (src/core/blas.c), so that PyTorch, which calls the same OpenBLAS, and
# builds older than that choice run the same kernels. A value the user set
# stays.
nncas_export_blas_kernels() {
  [ -n "${OPENBLAS_CORETYPE:-}" ] && return 0
  local core
  core=$(OPENBLAS_NUM_THREADS=1 "$1/bench/nncas_bench_dgemm" 64 | sed -n 's/.*OpenBLAS kernels: \(.*\))$/\1/p')
  if [ -n "$core" ] && [ "$core" != "not OpenBLAS" ]; then export OPENBLAS_CORETYPE=$core; fi
  echo "OpenBLAS kernels: ${OPENBLAS_CORETYPE:-as OpenBLAS chooses}"
}
