/* Spectra of the Hessian operator against the dense Hessian diagonalised by
 * LAPACK: SLEPc's extreme eigenvalues, the Lanczos density (Wasserstein-1),
 * Hutchinson's trace, the symmetry statistics, and rank independence. */
#include "fixture.h"
#include "nncas/spectrum.h"
#include "spectrum/spectrumimpl.h"    /* white-box: the results, read */
#include "spectrum/spectrum_testing.h" /* spectrum_testing_set_measure */
#include "nncas/linalg.h"

#include <string.h>

extern void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w, double *work,
                   const int *lwork, int *info);

/* The dense N x N matrix of A (replicated), column by column through MatMult. */
static PetscErrorCode dense_of(Mat A, PetscInt N, double *D)
{
  Vec                x, y;
  PetscInt           lo, hi;
  const PetscScalar *ya;
  PetscFunctionBeginUser;
  PetscCall(MatCreateVecs(A, &x, &y));
  PetscCall(VecGetOwnershipRange(y, &lo, &hi));
  PetscCall(PetscArrayzero(D, (size_t)N * N));
  for (PetscInt j = 0; j < N; j++) {
    PetscCall(VecZeroEntries(x));
    if (j >= lo && j < hi) PetscCall(VecSetValue(x, j, 1.0, INSERT_VALUES));
    PetscCall(VecAssemblyBegin(x));
    PetscCall(VecAssemblyEnd(x));
    PetscCall(MatMult(A, x, y));
    PetscCall(VecGetArrayRead(y, &ya));
    for (PetscInt i = lo; i < hi; i++) D[(size_t)j * N + i] = ya[i - lo];
    PetscCall(VecRestoreArrayRead(y, &ya));
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, D, (int)(N * N), MPI_DOUBLE, MPI_SUM, PETSC_COMM_WORLD));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&y));
  PetscFunctionReturn(0);
}

/* Eigenvalues (ascending) of the symmetric part of D by LAPACK; D is destroyed. */
static PetscErrorCode lapack_eigenvalues(PetscInt N, double *D, double *w)
{
  int     n = (int)N, lwork = -1, info;
  double  q, *work;
  PetscFunctionBeginUser;
  dsyev_("N", "L", &n, D, &n, w, &q, &lwork, &info);
  lwork = (int)q;
  PetscCall(PetscMalloc1(lwork, &work));
  dsyev_("N", "L", &n, D, &n, w, work, &lwork, &info);
  PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "dsyev info %d", info);
  PetscCall(PetscFree(work));
  PetscFunctionReturn(0);
}

#define SPEC "dense:12,tanh,dense:8,tanh,dense:1"

static PetscErrorCode extremes_match_dense_eigenvalues(void)
{
  HCase    hc;
  Spectrum s;
  PetscFunctionBeginUser;
  PetscCall(hcase_create(PETSC_COMM_WORLD, (HCaseOpts){.spec = SPEC, .loss = LOSS_LOGISTIC, .m = 40}, &hc));
  const PetscInt N = hc.N;
  double        *D, *w;
  PetscCall(PetscMalloc2((size_t)N * N, &D, N, &w));
  PetscCall(dense_of(hc.H, N, D));
  PetscCall(lapack_eigenvalues(N, D, w));
  PetscCall(spectrum_create(PETSC_COMM_WORLD, &s));
  PetscCall(spectrum_set_extremes(s, 3, 2));
  PetscCall(spectrum_set_operator(s, hc.H));
  PetscCall(spectrum_extremes(s));
  const double scale = fmax(fabs(w[0]), fabs(w[N - 1]));
  NN_CHECK(s->nmax == 3 && s->nmin == 3 && s->ntop == 2, "converged %d %d %d", (int)s->nmax, (int)s->nmin, (int)s->ntop);
  for (int i = 0; i < 3; i++) {
    NN_CHECK(fabs(s->lmax[i] - w[N - 1 - i]) <= 1e-8 * scale, "lambda_max[%d] %.15e vs dense %.15e", i, s->lmax[i], w[N - 1 - i]);
    NN_CHECK(fabs(s->lmin[i] - w[i]) <= 1e-8 * scale, "lambda_min[%d] %.15e vs dense %.15e", i, s->lmin[i], w[i]);
    NN_CHECK(s->rmax[i] <= 1e-8 * scale && s->rmin[i] <= 1e-8 * scale, "residuals %.2e %.2e", s->rmax[i], s->rmin[i]);
  }
  NN_CHECK(fabs(fabs(s->ltop[0]) - scale) <= 1e-8 * scale, "top magnitude %.15e vs %.15e", s->ltop[0], scale);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     N = %d: lambda_max %.10e (dense %.10e), lambda_min %.10e (dense %.10e)\n", (int)N,
                        s->lmax[0], w[N - 1], s->lmin[0], w[0]));
  PetscCall(spectrum_destroy(&s));
  PetscCall(PetscFree2(D, w));
  PetscCall(hcase_destroy(&hc));
  PetscFunctionReturn(0);
}

/* The extremes taken from the normalization's Lanczos run (nev = 2 at each
 * end) equal the dense Hessian's extreme eigenvalues, with true residuals
 * below 1e-8 relative, and the normalization is that of spectrum_density bit
 * for bit: from Papyan's separate run of M0 steps, or (the default) from the
 * first density vector's run, whose Ritz values and weights the density then
 * holds as spectrum_density computes them. With 8 steps the Ritz pairs cannot
 * pass the test: both ends are refined by Krylov-Schur from the Ritz vectors,
 * and converge as well. */
static PetscErrorCode extremes_from_normalization_match_dense_eigenvalues(void)
{
  HCase           hc;
  Spectrum        s, d;
  const PetscInt  steps[4] = {128, 8, 128, 8};
  const PetscBool separate[4] = {PETSC_TRUE, PETSC_TRUE, PETSC_FALSE, PETSC_FALSE};
  PetscFunctionBeginUser;
  PetscCall(hcase_create(PETSC_COMM_WORLD, (HCaseOpts){.spec = SPEC, .loss = LOSS_LOGISTIC, .m = 40}, &hc));
  const PetscInt N = hc.N;
  double        *D, *w;
  PetscCall(PetscMalloc2((size_t)N * N, &D, N, &w));
  PetscCall(dense_of(hc.H, N, D));
  PetscCall(lapack_eigenvalues(N, D, w));
  const double scale = fmax(fabs(w[0]), fabs(w[N - 1]));
  for (int c = 0; c < 4; c++) {
    PetscCall(spectrum_create(PETSC_COMM_WORLD, &s));
    PetscCall(spectrum_create(PETSC_COMM_WORLD, &d));
    const PetscInt M0 = separate[c] ? steps[c] : 128, M = separate[c] ? 128 : steps[c]; /* the other at its default */
    PetscCall(spectrum_set_extremes(s, 2, 0));
    for (int q = 0; q < 2; q++) {
      PetscCall(spectrum_set_normalization_run(q ? d : s, separate[c]));
      PetscCall(spectrum_set_lanczos_sizes(q ? d : s, M0, M, 1));
    }
    PetscCall(spectrum_set_operator(s, hc.H));
    PetscCall(spectrum_set_operator(d, hc.H));
    PetscCall(spectrum_normalization_extremes(s));
    PetscCall(spectrum_density(d));
    NN_CHECK(s->lo == d->lo && s->hi == d->hi && s->est_min == d->est_min && s->est_max == d->est_max,
             "normalization [%.17g, %.17g] differs from spectrum_density's [%.17g, %.17g]", s->lo, s->hi, d->lo, d->hi);
    NN_CHECK(separate[c] || (s->done_vecs == 1 && s->steps[0] == d->steps[0] && !memcmp(s->ritz, d->ritz, sizeof(double) * s->M) &&
                             !memcmp(s->weights, d->weights, sizeof(double) * s->M)),
             "the first density vector differs from spectrum_density's");
    NN_CHECK(s->nmax == 2 && s->nmin == 2 && s->ext_steps == steps[c], "converged %d %d from %d steps", (int)s->nmax, (int)s->nmin, (int)s->ext_steps);
    for (int i = 0; i < 2; i++) {
      NN_CHECK(fabs(s->lmax[i] - w[N - 1 - i]) <= 1e-9 * scale, "lambda_max[%d] %.15e vs dense %.15e", i, s->lmax[i], w[N - 1 - i]);
      NN_CHECK(fabs(s->lmin[i] - w[i]) <= 1e-9 * scale, "lambda_min[%d] %.15e vs dense %.15e", i, s->lmin[i], w[i]);
      NN_CHECK(s->rmax[i] <= 1e-8 * scale && s->rmin[i] <= 1e-8 * scale, "residuals %.2e %.2e", s->rmax[i], s->rmin[i]);
    }
    if (steps[c] == 8) NN_CHECK(s->ext_refined[0] && s->ext_refined[1] && s->eps_its[0] > 0 && s->eps_its[1] > 0, "8 steps were not refined");
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     %s, %d steps: lambda_max %.12e, lambda_min %.12e, residuals %.1e %.1e, %d products, refined %d %d\n",
                          separate[c] ? "separate run" : "density vector", (int)steps[c], s->lmax[0], s->lmin[0], s->rmax[0], s->rmin[0],
                          (int)s->ext_products, (int)s->ext_refined[0], (int)s->ext_refined[1]));
    PetscCall(spectrum_destroy(&s));
    PetscCall(spectrum_destroy(&d));
  }
  PetscCall(PetscFree2(D, w));
  PetscCall(hcase_destroy(&hc));
  PetscFunctionReturn(0);
}

/* W1 between the Lanczos quadrature measure and the exact eigenvalue
 * distribution, relative to the spectral range, for several M and n_vec. */
static PetscErrorCode lanczos_density_is_close_in_wasserstein1(void)
{
  HCase    hc;
  Spectrum s;
  PetscFunctionBeginUser;
  PetscCall(hcase_create(PETSC_COMM_WORLD, (HCaseOpts){.spec = SPEC, .loss = LOSS_LOGISTIC, .m = 40}, &hc));
  const PetscInt N = hc.N;
  double        *D, *w, *u;
  PetscCall(PetscMalloc3((size_t)N * N, &D, N, &w, N, &u));
  PetscCall(dense_of(hc.H, N, D));
  PetscCall(lapack_eigenvalues(N, D, w));
  for (PetscInt i = 0; i < N; i++) u[i] = 1.0 / N;
  const double   range = w[N - 1] - w[0];
  const PetscInt Ms[4] = {16, 32, 64, 128}, nvs[2] = {1, 4};
  double         W[4][2];
  for (int a = 0; a < 4; a++)
    for (int b = 0; b < 2; b++) {
      PetscCall(spectrum_create(PETSC_COMM_WORLD, &s));
      PetscCall(spectrum_set_lanczos_sizes(s, 128, Ms[a], nvs[b]));
      PetscCall(spectrum_set_grid_size(s, 512));
      PetscCall(spectrum_set_operator(s, hc.H));
      PetscCall(spectrum_density(s));
      double *x, *q;
      PetscInt n = 0;
      PetscCall(PetscMalloc2(s->nvec * s->M, &x, s->nvec * s->M, &q));
      for (PetscInt v = 0; v < s->nvec; v++)
        for (PetscInt i = 0; i < s->steps[v]; i++, n++) x[n] = s->ritz[v * s->M + i], q[n] = s->weights[v * s->M + i] / s->nvec;
      PetscCall(nn_wasserstein1(n, x, q, N, w, u, &W[a][b]));
      W[a][b] /= range;
      /* the smoothed density integrates to 1 */
      double integral = 0;
      for (PetscInt k = 0; k + 1 < s->K; k++) integral += 0.5 * (s->density[k] + s->density[k + 1]) * (s->grid[k + 1] - s->grid[k]);
      NN_CHECK(fabs(integral - 1) < 1e-3, "density integrates to %.6f", integral);
      NN_CHECK(s->lo <= w[0] && s->hi >= w[N - 1], "normalization [%g, %g] misses [%g, %g]", s->lo, s->hi, w[0], w[N - 1]);
      PetscCall(PetscFree2(x, q));
      PetscCall(spectrum_destroy(&s));
    }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     N = %d, W1 / range:   M = 16      32      64      128\n", (int)N));
  for (int b = 0; b < 2; b++)
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "       n_vec = %d             %.2e %.2e %.2e %.2e\n", (int)nvs[b], W[0][b], W[1][b], W[2][b], W[3][b]));
  NN_CHECK(W[3][1] < 0.01, "W1 with M = 128, n_vec = 4 is %.3e of the range", W[3][1]);
  NN_CHECK(W[3][1] < W[0][1], "W1 does not fall with M");
  PetscCall(PetscFree3(D, w, u));
  PetscCall(hcase_destroy(&hc));
  PetscFunctionReturn(0);
}

static PetscErrorCode hutchinson_trace_within_three_standard_errors(void)
{
  HCase    hc;
  Spectrum s;
  PetscFunctionBeginUser;
  PetscCall(hcase_create(PETSC_COMM_WORLD, (HCaseOpts){.spec = SPEC, .loss = LOSS_SQUARED, .m = 40}, &hc));
  const PetscInt N = hc.N;
  double        *D, tr = 0;
  PetscCall(PetscMalloc1((size_t)N * N, &D));
  PetscCall(dense_of(hc.H, N, D));
  for (PetscInt i = 0; i < N; i++) tr += D[(size_t)i * N + i];
  PetscCall(spectrum_create(PETSC_COMM_WORLD, &s));
  PetscCall(spectrum_set_trace_vectors(s, 200));
  PetscCall(spectrum_set_operator(s, hc.H));
  PetscCall(spectrum_trace(s));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     trace %.6e, Hutchinson %.6e +- %.2e (200 vectors)\n", tr, s->trace, s->trace_se));
  NN_CHECK(fabs(s->trace - tr) <= 3 * s->trace_se, "Hutchinson %.6e +- %.2e vs exact %.6e", s->trace, s->trace_se, tr);
  PetscCall(spectrum_destroy(&s));
  PetscCall(PetscFree(D));
  PetscCall(hcase_destroy(&hc));
  PetscFunctionReturn(0);
}

/* The statistics on exactly symmetric and one-sided measures. */
static PetscErrorCode symmetry_statistics_on_known_measures(void)
{
  Spectrum s;
  PetscFunctionBeginUser;
  PetscCall(spectrum_create(PETSC_COMM_WORLD, &s));
  const double sym[6] = {-3, -1, -0.5, 0.5, 1, 3};
  double       x[6], w[6];
  for (int i = 0; i < 6; i++) x[i] = sym[i], w[i] = 1.0 / 6;
  PetscCall(spectrum_set_grid_size(s, 256));
  PetscCall(spectrum_testing_set_measure(s, 6, x, w, -3.3, 3.3, 0.02, -3, 3));
  PetscCall(spectrum_statistics(s, 2.0));
  NN_CHECK(fabs(s->neg_mass - 0.5) < 1e-15 && s->sym_w1 < 1e-15 && s->sym_tv < 1e-12, "symmetric: %g %g %g", s->neg_mass, s->sym_w1, s->sym_tv);
  NN_CHECK(fabs(s->ratio_c - 1.5) < 1e-15 && fabs(s->abs_ratio - 1) < 1e-15, "ratio %g, |min|/max %g", s->ratio_c, s->abs_ratio);
  for (int i = 0; i < 6; i++) x[i] = fabs(sym[i]); /* all positive */
  PetscCall(spectrum_testing_set_measure(s, 6, x, w, -3.3, 3.3, 0.02, 0.5, 3));
  PetscCall(spectrum_statistics(s, 2.0));
  NN_CHECK(s->neg_mass == 0 && s->sym_tv > 0.99, "one-sided: negative mass %g, TV %g", s->neg_mass, s->sym_tv);
  /* W1 of point masses: |a - b| */
  double x1 = 1, x2 = 4, one = 1, w1;
  PetscCall(nn_wasserstein1(1, &x1, &one, 1, &x2, &one, &w1));
  NN_CHECK(fabs(w1 - 3) < 1e-15, "W1(delta_1, delta_4) != 3");
  PetscCall(spectrum_destroy(&s));
  PetscFunctionReturn(0);
}

/* Ritz values and weights of the density on all ranks equal those of the same
 * Hessian built on this rank alone, to rounding. */
static PetscErrorCode density_independent_of_rank_count(void)
{
  HCase    world, self;
  Spectrum sw, ss;
  PetscFunctionBeginUser;
  PetscCall(hcase_create(PETSC_COMM_WORLD, (HCaseOpts){.spec = SPEC, .loss = LOSS_LOGISTIC, .m = 40}, &world));
  PetscCall(hcase_create(PETSC_COMM_SELF, (HCaseOpts){.spec = SPEC, .loss = LOSS_LOGISTIC, .m = 40}, &self));
  PetscCall(spectrum_create(PETSC_COMM_WORLD, &sw));
  PetscCall(spectrum_create(PETSC_COMM_SELF, &ss));
  for (int q = 0; q < 2; q++) {
    PetscCall(spectrum_set_lanczos_sizes(q ? ss : sw, 48, 48, 1));
    PetscCall(spectrum_set_grid_size(q ? ss : sw, 128));
    PetscCall(spectrum_set_trace_vectors(q ? ss : sw, 5));
  }
  PetscCall(spectrum_set_operator(sw, world.H));
  PetscCall(spectrum_set_operator(ss, self.H));
  PetscCall(spectrum_compute(sw, 1));
  PetscCall(spectrum_compute(ss, 1));
  double scale = sw->norm2, dr = 0, dw = 0;
  for (PetscInt i = 0; i < sw->M; i++) dr = fmax(dr, fabs(sw->ritz[i] - ss->ritz[i])), dw = fmax(dw, fabs(sw->weights[i] - ss->weights[i]));
  NN_CHECK(sw->steps[0] == ss->steps[0], "steps %d vs %d", (int)sw->steps[0], (int)ss->steps[0]);
  NN_CHECK(dr <= 1e-9 * scale && dw <= 1e-9, "Ritz values differ by %.2e (scale %.2e), weights by %.2e", dr, scale, dw);
  NN_CHECK(fabs(sw->lmax[0] - ss->lmax[0]) <= 1e-9 * scale && fabs(sw->trace - ss->trace) <= 1e-9 * fabs(ss->trace),
           "extremes or trace differ");
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     largest difference to one rank: Ritz values %.1e (of %.1e), weights %.1e\n", dr, scale, dw));
  PetscCall(spectrum_destroy(&sw));
  PetscCall(spectrum_destroy(&ss));
  PetscCall(hcase_destroy(&world));
  PetscCall(hcase_destroy(&self));
  PetscFunctionReturn(0);
}

/* Stops a computation at every other poll (after every other unit of work). */
/* Lanczos keeps its basis orthogonal: on a diagonal matrix of order N = 160
 * whose eigenvalues are 0, 1/N, ..., and five outliers 2..6 (they converge
 * within a few steps and, without full reorthogonalisation, come back as
 * copies, "ghosts"), N steps from the unit vector of equal entries give a
 * tridiagonal T_N similar to A: its Ritz values are A's eigenvalues and each
 * weight is 1/N, to rounding. A basis that loses orthogonality cannot give
 * this: it misses eigenvalues and splits the weights among copies. */
static PetscErrorCode lanczos_full_reorthogonalisation_finds_every_eigenvalue(void)
{
  const PetscInt N = 160;
  Mat            A;
  Vec            v0;
  PetscInt       lo, hi, m;
  double        *ritz, *weights, dr = 0, dw = 0;
  PetscFunctionBeginUser;
  PetscCall(MatCreateAIJ(PETSC_COMM_WORLD, PETSC_DECIDE, PETSC_DECIDE, N, N, 1, NULL, 0, NULL, &A));
  PetscCall(MatGetOwnershipRange(A, &lo, &hi));
  for (PetscInt i = lo; i < hi; i++) PetscCall(MatSetValue(A, i, i, i < N - 5 ? (double)i / N : i - (N - 7), INSERT_VALUES));
  PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatCreateVecs(A, &v0, NULL));
  PetscCall(VecSet(v0, 1.0 / PetscSqrtReal((PetscReal)N)));
  PetscCall(PetscMalloc2(N, &ritz, N, &weights));
  PetscCall(lanczos_tridiagonal(A, v0, N, &m, ritz, weights));
  NN_CHECK(m == N, "%d Lanczos steps of %d", (int)m, (int)N);
  for (PetscInt i = 0; i < N; i++) {
    const double lambda = i < N - 5 ? (double)i / N : i - (N - 7);
    dr                  = fmax(dr, fabs(ritz[i] - lambda));
    dw                  = fmax(dw, fabs(weights[i] - 1.0 / N));
  }
  NN_CHECK(dr <= 1e-10 * 6 && dw <= 1e-10, "Ritz values differ from the eigenvalues by %.2e (norm 6), weights from 1/N by %.2e", dr, dw);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     %d steps: Ritz values within %.1e of the eigenvalues, weights within %.1e of 1/N\n", (int)N, dr, dw));
  PetscCall(PetscFree2(ritz, weights));
  PetscCall(VecDestroy(&v0));
  PetscCall(MatDestroy(&A));
  PetscFunctionReturn(0);
}

static PetscErrorCode stop_every_other(void *ctx, PetscBool *stop)
{
  int *polls = (int *)ctx;
  *stop      = ++*polls % 2 == 0;
  return 0;
}

/* Density and trace with the world's ranks in G groups (every G from 1 to the
 * ranks), each group with its own copy of the Hessian: the same Ritz values,
 * weights and trace samples as one group, to rounding; and a grouped run
 * stopped at every other poll (between rounds) and continued each time
 * equals one never stopped, bit for bit. */
static PetscErrorCode groups_give_the_spectrum_of_one_group(void)
{
  const HCaseOpts o = {.spec = SPEC, .loss = LOSS_LOGISTIC, .m = 40};
  HCase           world;
  Spectrum        ref = NULL;
  PetscMPIInt     rank, size;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(hcase_create(PETSC_COMM_WORLD, o, &world));
  for (PetscInt G = 1; G <= size; G++) {
    NnRankGroups   g;
    HCase          grp;
    Spectrum       s[2];
    int            polls = 0, stops = 0;
    PetscCall(nn_rank_groups_create(PETSC_COMM_WORLD, G, &g));
    NN_CHECK(g.index == (PetscInt)rank * G / size, "rank %d in group %d of %d", rank, (int)g.index, (int)G);
    PetscCall(hcase_create(G > 1 ? g.group_comm : PETSC_COMM_WORLD, o, &grp));
    for (int r = 0; r < 2; r++) { /* r = 1: stopped at every other poll, continued */
      PetscCall(spectrum_create(PETSC_COMM_WORLD, &s[r]));
      PetscCall(spectrum_set_lanczos_sizes(s[r], 48, 48, 5));
      PetscCall(spectrum_set_grid_size(s[r], 128));
      PetscCall(spectrum_set_trace_vectors(s[r], 7));
      PetscCall(spectrum_set_operator(s[r], world.H));
      PetscCall(spectrum_set_groups(s[r], grp.H, &g));
      if (r) PetscCall(spectrum_set_poll(s[r], stop_every_other, &polls));
      PetscCall(spectrum_compute(s[r], 1));
      for (; s[r]->stopped; stops++) PetscCall(spectrum_compute(s[r], 1));
    }
    NN_CHECK(stops >= 2, "G = %d: only %d stops", (int)G, stops);
    NN_CHECK(!memcmp(s[0]->ritz, s[1]->ritz, sizeof(double) * 5 * 48) && !memcmp(s[0]->weights, s[1]->weights, sizeof(double) * 5 * 48) &&
               !memcmp(s[0]->trace_samples, s[1]->trace_samples, sizeof(double) * 7),
             "G = %d: a stopped and continued run differs from one never stopped", (int)G);
    if (!ref) ref = s[0], s[0] = NULL;
    else {
      double scale = ref->norm2, dr = 0, dw = 0, dt = 0;
      for (PetscInt i = 0; i < 5 * 48; i++) dr = fmax(dr, fabs(ref->ritz[i] - s[0]->ritz[i])), dw = fmax(dw, fabs(ref->weights[i] - s[0]->weights[i]));
      for (PetscInt k = 0; k < 7; k++) dt = fmax(dt, fabs(ref->trace_samples[k] - s[0]->trace_samples[k]) / fabs(ref->trace_samples[k]));
      NN_CHECK(!memcmp(ref->steps, s[0]->steps, sizeof(PetscInt) * 5), "G = %d: Lanczos steps differ", (int)G);
      NN_CHECK(dr <= 1e-9 * scale && dw <= 1e-9 && dt <= 1e-9, "G = %d: Ritz values differ by %.2e (scale %.2e), weights by %.2e, trace samples by %.2e",
               (int)G, dr, scale, dw, dt);
      PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     G = %d groups: Ritz values within %.1e (of %.1e), weights %.1e, trace samples %.1e (relative)\n",
                            (int)G, dr, scale, dw, dt));
    }
    PetscCall(spectrum_destroy(&s[0]));
    PetscCall(spectrum_destroy(&s[1]));
    PetscCall(hcase_destroy(&grp));
    PetscCall(nn_rank_groups_destroy(&g));
  }
  PetscCall(spectrum_destroy(&ref));
  PetscCall(hcase_destroy(&world));
  PetscFunctionReturn(0);
}

NN_TEST_MAIN(NN_TEST_CASE(extremes_match_dense_eigenvalues), NN_TEST_CASE(extremes_from_normalization_match_dense_eigenvalues),
             NN_TEST_CASE(lanczos_density_is_close_in_wasserstein1),
             NN_TEST_CASE(hutchinson_trace_within_three_standard_errors), NN_TEST_CASE(symmetry_statistics_on_known_measures),
             NN_TEST_CASE(density_independent_of_rank_count), NN_TEST_CASE(lanczos_full_reorthogonalisation_finds_every_eigenvalue),
             NN_TEST_CASE(groups_give_the_spectrum_of_one_group))
