/* Best times of the gradient and of one Hessian-vector product (MatMult of the
 * Hessian shell) on a preset, batch of -hessian_samples training samples.
 * A benchmark, not a test: bench/hvp.sh runs it on 1 and 2 ranks.
 *
 *   mpiexec -n P nncas_bench_hvp -net_preset lenet -hessian_samples 200 -bench_reps 5 */
#include "nncas/hessian.h"
#include "nncas/spectrum.h"
#include <slepcsys.h>
#include <sys/resource.h>

static PetscErrorCode bench(void)
{
  Dataset     ds;
  Net         net;
  Hessian     h;
  Mat         H;
  PetscInt    m;
  PetscInt    reps = 5;
  PetscMPIInt size;
  double     *theta, *grad, R, t0, tg, th, tf = PETSC_MAX_REAL;
  PetscInt    c, hh, w, N;
  const char *preset;
  Vec         x, y;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_reps", &reps, NULL));
  PetscCall(dataset_create(PETSC_COMM_WORLD, &ds));
  PetscCall(dataset_set_from_options(ds));
  PetscCall(net_create(PETSC_COMM_WORLD, &net));
  PetscCall(net_set_from_options(net));
  PetscCall(hessian_create(ds, net, &h));
  PetscCall(hessian_set_from_options(h));
  PetscCall(dataset_setup(ds));
  PetscCall(hessian_get_samples(h, &m, NULL, NULL));
  PetscCall(dataset_get_shape(ds, &c, &hh, &w));
  PetscCall(net_setup(net, c, hh, w, m));
  PetscCall(net_get_size(net, &N));
  PetscCall(net_get_spec(net, NULL, &preset));
  PetscCall(hessian_setup(h));
  PetscCall(hessian_get_mat(h, HESSIAN_FULL, &H));
  PetscCall(PetscMalloc2(N, &theta, N, &grad));
  PetscCall(net_init_params(net, theta));
  PetscCall(hessian_set_point(h, theta));
  PetscCall(MatCreateVecs(H, &x, &y));
  PetscCall(VecSetRandom(x, NULL));
  PetscCall(hessian_risk(h, &R, grad, NULL)); /* warm-up */
  PetscCall(MatMult(H, x, y));
  tg = th = PETSC_MAX_REAL; /* best of the repetitions, as bench/torch_ref.py */
  for (PetscInt r = 0; r < reps; r++) {
    PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
    t0 = MPI_Wtime();
    PetscCall(hessian_risk(h, &R, grad, NULL));
    tg = PetscMin(tg, MPI_Wtime() - t0);
  }
  /* "fresh": a product that also runs the forward and first-order backward
   * pass (the first at a point); "HVP": later products at the same point,
   * which reuse them (-hessian_reuse_forward, the case of a Krylov solve) */
  PetscBool reuse;
  PetscCall(hessian_get_reuse_forward(h, &reuse));
  PetscCall(hessian_set_reuse_forward(h, PETSC_FALSE));
  for (PetscInt r = 0; r < reps; r++) {
    PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
    t0 = MPI_Wtime();
    PetscCall(MatMult(H, x, y));
    tf = PetscMin(tf, MPI_Wtime() - t0);
  }
  PetscCall(hessian_set_reuse_forward(h, reuse));
  PetscCall(MatMult(H, x, y)); /* the pass the timed products reuse */
  for (PetscInt r = 0; r < reps; r++) {
    PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
    t0 = MPI_Wtime();
    PetscCall(MatMult(H, x, y));
    th = PetscMin(th, MPI_Wtime() - t0);
  }
  struct rusage ru;
  double        peak;
  getrusage(RUSAGE_SELF, &ru);
  peak = (double)ru.ru_maxrss / 1024.0; /* MB; Linux reports KB */
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &peak, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "%-12s N=%-9" PetscInt_FMT " samples=%-4" PetscInt_FMT " ranks=%d  gradient %8.1f ms  HVP fresh %8.1f ms  HVP %8.1f ms  HVP/gradient %.2f  peak %.0f MB/rank\n",
                        preset, N, m, (int)size, 1e3 * tg, 1e3 * tf, 1e3 * th, th / tg, peak));
  PetscBool density = PETSC_FALSE;
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-bench_density", &density, NULL));
  if (density) { /* one full Lanczos density: M0 + n_vec * M products */
    Spectrum sp;
    PetscInt M0, M, nvec;
    PetscCall(spectrum_create(PETSC_COMM_WORLD, &sp));
    PetscCall(spectrum_set_from_options(sp));
    PetscCall(spectrum_set_operator(sp, H));
    t0 = MPI_Wtime();
    PetscCall(spectrum_density(sp));
    PetscCall(spectrum_get_lanczos_sizes(sp, &M0, &M, &nvec));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%-12s ranks=%d  density (M0 %d + M %d x n_vec %d) %.1f s\n", preset, (int)size, (int)M0,
                          (int)M, (int)nvec, MPI_Wtime() - t0));
    PetscCall(spectrum_destroy(&sp));
  }
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&y));
  PetscCall(PetscFree2(theta, grad));
  PetscCall(hessian_destroy(&h));
  PetscCall(net_destroy(&net));
  PetscCall(dataset_destroy(&ds));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr;
  nn_blas_select(argv); /* the kernels nncas runs with (src/core/blas.c) */
  if (SlepcInitialize(&argc, &argv, NULL, NULL)) return 1;
  ierr = nn_error_handler_push();
  if (!ierr) ierr = bench();
  if (ierr) {
    nn_error_exit(ierr, 10.0);
    SlepcFinalize();
    return 1;
  }
  return SlepcFinalize() ? 1 : 0;
}
