/* Best times of the gradient and of one Hessian-vector product (MatMult of the
 * Hessian shell) on a network (-net_preset, -net_layers or -net_file), batch
 * of -hessian_samples training samples. A benchmark, not a test: bench/hvp.sh,
 * bench/perf.sh and bench/onnx_hvp.sh run it.
 *
 *   mpiexec -n P nncas_bench_hvp -net_preset lenet -hessian_samples 200 -bench_reps 5
 *
 * -bench_clock cpu times with the process's CPU clock instead of the wall
 * clock: on a machine shared with other work it leaves out the time the
 * process waits for a core (one rank, one OpenBLAS thread).
 * -bench_v FILE -bench_hv FILE: the direction v (N float64 in theta's order,
 * raw; default: random) and the product H v written the same way. */
#include "nncas/hessian.h"
#include "nncas/spectrum.h"
#include "nncas/init.h"
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static PetscBool cpu_clock; /* -bench_clock cpu */

static double bench_now(void)
{
  struct timespec t;
  if (!cpu_clock) return MPI_Wtime();
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* x <- the N float64 of a raw file (every rank reads its own range). */
static PetscErrorCode read_direction(const char *path, Vec x)
{
  PetscInt     lo, hi;
  PetscScalar *xa;
  FILE        *f;
  size_t       got = 0;
  PetscFunctionBeginUser;
  PetscCall(VecGetOwnershipRange(x, &lo, &hi));
  PetscCall(VecGetArray(x, &xa));
  f = fopen(path, "rb");
  if (f && fseek(f, (long)(lo * (PetscInt)sizeof(double)), SEEK_SET) == 0) got = fread(xa, sizeof(double), (size_t)(hi - lo), f);
  if (f) fclose(f);
  PetscCall(VecRestoreArray(x, &xa));
  PetscCheck(got == (size_t)(hi - lo), PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "-bench_v %s: cannot read values %" PetscInt_FMT "..%" PetscInt_FMT, path, lo, hi);
  PetscFunctionReturn(0);
}

/* The N float64 of y, raw, into a file written by rank 0. */
static PetscErrorCode write_vector(const char *path, Vec y)
{
  VecScatter         sc;
  Vec                all;
  const PetscScalar *a;
  PetscInt           n;
  PetscMPIInt        rank;
  PetscFunctionBeginUser;
  PetscCall(VecScatterCreateToZero(y, &sc, &all));
  PetscCall(VecScatterBegin(sc, y, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, y, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  if (!rank) {
    FILE  *f = fopen(path, "wb");
    size_t put = 0;
    PetscCall(VecGetLocalSize(all, &n));
    PetscCall(VecGetArrayRead(all, &a));
    if (f) put = fwrite(a, sizeof(double), (size_t)n, f);
    if (f && fclose(f)) put = 0;
    PetscCall(VecRestoreArrayRead(all, &a));
    PetscCheck(put == (size_t)n, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "-bench_hv %s: cannot write", path);
  }
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&all));
  PetscFunctionReturn(0);
}

/* Best time of reps calls of the gradient (H == NULL) or of y = H x. */
static PetscErrorCode best_time(Hessian h, Mat H, Vec x, Vec y, double *grad, PetscInt reps, double *best)
{
  double R, t0;
  PetscFunctionBeginUser;
  *best = PETSC_MAX_REAL; /* best of the repetitions, as bench/torch_ref.py */
  for (PetscInt r = 0; r < reps; r++) {
    PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
    t0 = bench_now();
    if (H) PetscCall(MatMult(H, x, y));
    else PetscCall(hessian_risk(h, &R, grad, NULL));
    *best = PetscMin(*best, bench_now() - t0);
  }
  PetscFunctionReturn(0);
}

/* One full Lanczos density: M0 + n_vec * M products. */
static PetscErrorCode bench_density(Mat H, const char *name, PetscMPIInt size)
{
  Spectrum sp;
  PetscInt M0, M, nvec;
  double   t0;
  PetscFunctionBeginUser;
  PetscCall(spectrum_create(PETSC_COMM_WORLD, &sp));
  PetscCall(spectrum_set_from_options(sp));
  PetscCall(spectrum_set_operator(sp, H));
  t0 = MPI_Wtime();
  PetscCall(spectrum_density(sp));
  PetscCall(spectrum_get_lanczos_sizes(sp, &M0, &M, &nvec));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%-12s ranks=%d  density (M0 %d + M %d x n_vec %d) %.1f s\n", name, (int)size, (int)M0, (int)M,
                        (int)nvec, MPI_Wtime() - t0));
  PetscCall(spectrum_destroy(&sp));
  PetscFunctionReturn(0);
}

/* The times of one network on its Hessian h at theta. */
static PetscErrorCode bench_times(Hessian h, const char *name, PetscInt N, PetscInt m, double *theta, PetscInt reps)
{
  Mat         H;
  Vec         x, y;
  double     *grad, tg, tf, th, peak;
  PetscMPIInt size;
  PetscBool   reuse, density = PETSC_FALSE, set;
  char        path[PETSC_MAX_PATH_LEN];
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(hessian_get_mat(h, HESSIAN_FULL, &H));
  PetscCall(PetscMalloc1(N, &grad));
  PetscCall(hessian_set_point(h, theta));
  PetscCall(MatCreateVecs(H, &x, &y));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-bench_v", path, sizeof path, &set));
  if (set) PetscCall(read_direction(path, x));
  else PetscCall(VecSetRandom(x, NULL));
  PetscCall(best_time(h, NULL, x, y, grad, 1, &tg)); /* warm-up */
  PetscCall(MatMult(H, x, y));
  PetscCall(best_time(h, NULL, x, y, grad, reps, &tg));
  /* "fresh": a product that also runs the forward and first-order backward
   * pass (the first at a point); "HVP": later products at the same point,
   * which reuse them (-hessian_reuse_forward, the case of a Krylov solve) */
  PetscCall(hessian_get_reuse_forward(h, &reuse));
  PetscCall(hessian_set_reuse_forward(h, PETSC_FALSE));
  PetscCall(best_time(h, H, x, y, NULL, reps, &tf));
  PetscCall(hessian_set_reuse_forward(h, reuse));
  PetscCall(MatMult(H, x, y)); /* the pass the timed products reuse */
  PetscCall(best_time(h, H, x, y, NULL, reps, &th));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-bench_hv", path, sizeof path, &set));
  if (set) PetscCall(write_vector(path, y));
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  peak = (double)ru.ru_maxrss / 1024.0; /* MB; Linux reports KB */
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &peak, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "%-12s N=%-9" PetscInt_FMT " samples=%-4" PetscInt_FMT " ranks=%d  gradient %8.1f ms  HVP fresh %8.1f ms  HVP %8.1f ms  HVP/gradient %.2f  peak %.0f MB/rank%s\n",
                        name, N, m, (int)size, 1e3 * tg, 1e3 * tf, 1e3 * th, th / tg, peak, cpu_clock ? "  (cpu clock)" : ""));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-bench_density", &density, NULL));
  if (density) PetscCall(bench_density(H, name, size));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&y));
  PetscCall(PetscFree(grad));
  PetscFunctionReturn(0);
}

static PetscErrorCode bench(void)
{
  Dataset     ds;
  Net         net;
  Hessian     h;
  PetscInt    m, c, hh, w, N, reps = 5;
  double     *theta;
  const char *preset;
  char        clock[8] = "wall", file[PETSC_MAX_PATH_LEN] = "";
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_reps", &reps, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-bench_clock", clock, sizeof clock, NULL));
  PetscCheck(!strcmp(clock, "wall") || !strcmp(clock, "cpu"), PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "-bench_clock %s: wall or cpu", clock);
  cpu_clock = !strcmp(clock, "cpu");
  PetscCall(PetscOptionsGetString(NULL, NULL, "-net_file", file, sizeof file, NULL));
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
  PetscCall(PetscMalloc1(N, &theta));
  PetscCall(net_init_params(net, theta)); /* -net_file: the model's own weights */
  const char *base = strrchr(file, '/');
  PetscCall(bench_times(h, file[0] ? (base ? base + 1 : file) : preset, N, m, theta, reps));
  PetscCall(PetscFree(theta));
  PetscCall(hessian_destroy(&h));
  PetscCall(net_destroy(&net));
  PetscCall(dataset_destroy(&ds));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr;
  if (nn_initialize(&argc, &argv, NULL, NULL)) return NN_EXIT_ERROR;
  ierr = bench();
  return nn_finalize(ierr, NN_EXIT_OK);
}
