# Sourced by the whole-stage benchmarks (stages.sh, groups.sh, pyhessian.sh):
# their start and the paper's LeNet stages they time.
#
# nncas_bench_start OUT BUILD [BUILD...]: every BUILD has an nncas program;
# one OpenBLAS thread per rank, the kernels of the first BUILD
# (blas_kernels.sh), mpiexec allowed as root; OUT (empty: a temporary
# directory, removed at exit) created. Sets nncas_bench_out.
nncas_bench_start() {
  local out=$1 b
  shift
  for b in "$@"; do
    [ -x "$b/nncas" ] || { echo "$0: $b/nncas: no such program (give a build directory)" >&2; exit 2; }
  done
  export OPENBLAS_NUM_THREADS=1
  . "$(dirname "${BASH_SOURCE[0]}")/blas_kernels.sh"
  nncas_export_blas_kernels "$1" # a baseline older than src/core/blas.c runs the same kernels
  if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
  if [ -z "$out" ]; then
    out=$(mktemp -d)
    trap 'rm -rf "$nncas_bench_out"' EXIT
  fi
  mkdir -p "$out"
  nncas_bench_out=$out
}

# The stages timed: the paper's LeNet at initialisation. spectrum: the
# Hessian on 200 samples, both extremes, the Lanczos density (M = 128) and a
# 100-vector trace; coupling: one draw of Algorithm 1, N_b = 100 and 10 over
# n = 157 batches of 64.
nncas_lenet_common=(-net_preset lenet -data_val_size 100 -train_epochs 0)
nncas_lenet_spectrum=(-data_train_size 1000 -hessian_samples 200 -spectrum_every 1 -spectrum_trace_vecs 100 -coupling_every 0)
nncas_lenet_coupling=(-data_train_size 10000 -train_batch 64 -spectrum_every 0 -coupling_every 1 -coupling_draws 1
  -coupling_calibrate false -coupling_block 16)
