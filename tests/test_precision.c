/* -hessian_precision single against double: products with dense directions,
 * the per-batch Hessian columns and entries of the coupling stage, and the
 * extremes and density of a small spectrum.
 *
 * The tolerance: float32 rounds every stored value to a relative 2^-24 =
 * 6.0e-8 (u). theta, the directions and every activation and tangent carry
 * such an error, and a GEMM of inner dimension K adds about sqrt(K) u (the
 * sums of rounding errors of random sign); through the few layers of these
 * nets that is at most ~30 u = 2e-6 of ||H v||, and measured 2-7e-7 (printed
 * below). The tests allow 1e-5 relative, 5x above the estimate: what fails
 * it is not float rounding but a wrong conversion or a path left in double
 * or in float where it should not be. An eigenvalue moves by at most the
 * perturbation's norm, so the extremes get the same 1e-5 relative to the
 * spectral radius. */
#include "fixture.h"
#include "nncas/spectrum.h"
#include "nncas/linalg.h"
#include "hessian/hessianimpl.h"   /* white-box: the slices */
#include "spectrum/spectrumimpl.h" /* white-box: the extremes and the Ritz measure */

#define SINGLE_TOL 1e-5

/* A dense net, a convolutional one, and one with batch-statistics normalization. */
static const char *const nets[3] = {"dense:12,tanh,dense:8,swish,dense:1",
                                    "conv:4:3:1,relu,pool:2,conv:3:3,tanh,dense:6,sigmoid,dense:1",
                                    "conv:3:3:1,bn,relu,pool:2,dense:5,bn,tanh,dense:1"};

/* hc[0] in double, hc[1] in single precision, otherwise the same. */
static PetscErrorCode pair_create(HCaseOpts o, HCase hc[2])
{
  PetscFunctionBeginUser;
  for (int q = 0; q < 2; q++) {
    o.precision = q ? HESSIAN_PRECISION_SINGLE : HESSIAN_PRECISION_DOUBLE;
    PetscCall(hcase_create(PETSC_COMM_WORLD, o, &hc[q]));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode pair_destroy(HCase hc[2])
{
  PetscFunctionBeginUser;
  for (int q = 0; q < 2; q++) PetscCall(hcase_destroy(&hc[q]));
  PetscFunctionReturn(0);
}

/* ||a - b|| / ||b|| */
static double relative_difference(PetscInt n, const double *a, const double *b)
{
  double d = 0, r = 0;
  for (PetscInt i = 0; i < n; i++) d += (a[i] - b[i]) * (a[i] - b[i]), r += b[i] * b[i];
  return sqrt(d / r);
}

/* H v, G v and (H - G) v of each net through the operators (the Krylov
 * solvers' path), in single precision within SINGLE_TOL of double, and not
 * equal to it: the passes did run in float. */
static PetscErrorCode single_precision_products_within_1e_5_of_double(void)
{
  PetscFunctionBeginUser;
  for (int n = 0; n < 3; n++) {
    HCase hc[2];
    PetscCall(pair_create((HCaseOpts){.spec = nets[n], .loss = LOSS_LOGISTIC, .m = 12, .batch = n == 2 ? 6 : 0}, hc));
    const PetscInt N = hc[0].N;
    double        *v, *y[2];
    PetscCall(PetscMalloc3(N, &v, N, &y[0], N, &y[1]));
    fill_normal(nn_rng_key(3, NN_STREAM_TEST, (uint64_t)n), N, v);
    for (int part = HESSIAN_FULL; part <= HESSIAN_REMAINDER; part++) {
      for (int q = 0; q < 2; q++) {
        Mat A;
        PetscCall(hessian_get_mat(hc[q].h, (HessianPart)part, &A));
        PetscCall(mat_apply_replicated(A, v, N, y[q]));
      }
      const double e = relative_difference(N, y[1], y[0]);
      PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     %-58s %-12s N = %4d: ||HV_single - HV_double|| / ||HV_double|| = %.1e\n", nets[n],
                            HessianParts[part], (int)N, e));
      NN_CHECK(e <= SINGLE_TOL && e > 0, "%s, %s: relative difference %.3e", nets[n], HessianParts[part], e);
    }
    PetscCall(PetscFree3(v, y[0], y[1]));
    PetscCall(pair_destroy(hc));
  }
  PetscFunctionReturn(0);
}

/* The coupling stage's path: Hessian columns H_b e_j of each local batch
 * (unit directions, all rows) and entries H_b[i, j] (only the wanted rows),
 * single against double, relative to the largest entry of the columns. */
static PetscErrorCode single_precision_hessian_entries_within_1e_5_of_double(void)
{
  HCase hc[2];
  PetscFunctionBeginUser;
  PetscCall(pair_create((HCaseOpts){.spec = nets[2], .loss = LOSS_LOGISTIC, .m = 12, .batch = 4, .kmax = 4}, hc));
  const PetscInt N = hc[0].N;
  PetscInt       cols[6], rows[5];
  double        *full[2], ent[2][30];
  for (PetscInt q = 0; q < 6; q++) cols[q] = (q * 7919 + 11) % N;
  for (PetscInt p = 0; p < 5; p++) rows[p] = (p * 104729 + 5) % N;
  PetscCall(PetscMalloc2(6 * N, &full[0], 6 * N, &full[1]));
  for (PetscInt s = 0; s < hc[0].h->nslices; s++) {
    for (int q = 0; q < 2; q++) {
      PetscCall(hessian_batch_columns(hc[q].h, s, 6, cols, full[q]));
      PetscCall(hessian_batch_entries(hc[q].h, s, 5, rows, 6, cols, ent[q]));
    }
    const double scale = max_abs(6 * N, full[0]), ec = relative_difference(6 * N, full[1], full[0]);
    NN_CHECK(ec <= SINGLE_TOL && ec > 0, "batch %d: columns differ by %.3e relative", (int)s, ec);
    for (PetscInt e = 0; e < 30; e++)
      NN_CHECK(fabs(ent[1][e] - ent[0][e]) <= SINGLE_TOL * scale, "batch %d, entry %d: %.9e vs %.9e", (int)s, (int)e, ent[1][e], ent[0][e]);
    if (s == 0) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     columns of batch 0: relative difference %.1e\n", ec));
  }
  PetscCall(PetscFree2(full[0], full[1]));
  PetscCall(pair_destroy(hc));
  PetscFunctionReturn(0);
}

/* The extremes (from the density's Lanczos run, checked by their residuals)
 * within SINGLE_TOL of the spectral radius of double's, and the Lanczos
 * densities' Ritz measures within 1e-3 of the range in Wasserstein-1. */
static PetscErrorCode single_precision_extremes_and_density_match_double(void)
{
  HCase    hc[2];
  Spectrum s[2];
  double   W;
  PetscFunctionBeginUser;
  PetscCall(pair_create((HCaseOpts){.spec = nets[1], .loss = LOSS_LOGISTIC, .m = 40}, hc));
  for (int q = 0; q < 2; q++) {
    PetscCall(spectrum_create(PETSC_COMM_WORLD, &s[q]));
    PetscCall(spectrum_set_lanczos_sizes(s[q], 128, 64, 1)); /* M0 and n_vec at their defaults */
    PetscCall(spectrum_set_grid_size(s[q], 256));
    PetscCall(spectrum_set_operator(s[q], hc[q].H));
    PetscCall(spectrum_extremes(s[q]));
    PetscCall(spectrum_density(s[q]));
  }
  const double rho = fmax(fabs(s[0]->lmax[0]), fabs(s[0]->lmin[0]));
  const double dmax = fabs(s[1]->lmax[0] - s[0]->lmax[0]) / rho, dmin = fabs(s[1]->lmin[0] - s[0]->lmin[0]) / rho;
  PetscCall(nn_wasserstein1(s[0]->steps[0], s[0]->ritz, s[0]->weights, s[1]->steps[0], s[1]->ritz, s[1]->weights, &W));
  W /= s[0]->lmax[0] - s[0]->lmin[0];
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "     N = %d: lambda_max %.9e vs %.9e, lambda_min %.9e vs %.9e: %.1e, %.1e of the radius; density W1 %.1e of the range\n",
                        (int)hc[0].N, s[1]->lmax[0], s[0]->lmax[0], s[1]->lmin[0], s[0]->lmin[0], dmax, dmin, W));
  NN_CHECK(dmax <= SINGLE_TOL && dmin <= SINGLE_TOL, "extremes differ by %.3e and %.3e of the spectral radius", dmax, dmin);
  NN_CHECK(W <= 1e-3, "densities differ by %.3e of the range in W1", W);
  for (int q = 0; q < 2; q++) PetscCall(spectrum_destroy(&s[q]));
  PetscCall(pair_destroy(hc));
  PetscFunctionReturn(0);
}

NN_TEST_MAIN(NN_TEST_CASE(single_precision_products_within_1e_5_of_double), NN_TEST_CASE(single_precision_hessian_entries_within_1e_5_of_double),
             NN_TEST_CASE(single_precision_extremes_and_density_match_double))
