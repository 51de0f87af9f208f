/* Extreme eigenvalues of the operator:
 *  - without the density (and for the top-k by magnitude): SLEPc's
 *    Krylov-Schur from a random start vector (spectrum_extremes);
 *  - with the density: from the Krylov space its normalization run builds
 *    anyway (spectrum_normalization_extremes). The M0-step Lanczos run gives
 *    the nev Ritz pairs at each end; each is checked by its true residual
 *    r = ||A x - rho x||, rho = x^T A x, against EPS's own convergence test
 *    and tolerance (default: relative, r/|rho| < 1e-10, spectrum_set_tolerance), and an end with a
 *    pair that fails is refined by Krylov-Schur started from its Ritz
 *    vectors (EPSSetInitialSpace).
 * Products with the operator go through a counting shell, so the work of
 * the extremes is recorded (ext_products). */
#include "spectrumimpl.h"

#include <math.h>

/* y = A x, counted. */
static PetscErrorCode counted_mult(Mat B, Vec x, Vec y)
{
  Spectrum s;
  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(B, &s));
  s->ext_products++;
  PetscCall(MatMult(s->A, x, y));
  PetscFunctionReturn(0);
}

/* B: the operator A behind a shell that counts its products in s->ext_products. */
static PetscErrorCode counted_operator(Spectrum s, Mat *B)
{
  PetscInt m, n, M, N;
  Vec      x;
  VecType  vt;
  PetscFunctionBeginUser;
  PetscCall(MatGetLocalSize(s->A, &m, &n));
  PetscCall(MatGetSize(s->A, &M, &N));
  PetscCall(MatCreateShell(s->comm, m, n, M, N, s, B));
  PetscCall(MatShellSetOperation(*B, MATOP_MULT, (void (*)(void))counted_mult));
  PetscCall(MatCreateVecs(s->A, &x, NULL));
  PetscCall(VecGetType(x, &vt));
  PetscCall(MatShellSetVecType(*B, vt)); /* EPS's vectors like the operator's */
  PetscCall(VecDestroy(&x));
  PetscFunctionReturn(0);
}

/* A Krylov-Schur solver for the nev eigenvalues of B selected by which, from
 * the start vector v0; every -eps_* option applies. */
static PetscErrorCode eps_create(Spectrum s, Mat B, EPSWhich which, PetscInt nev, EPS *eps)
{
  PetscFunctionBeginUser;
  PetscCall(EPSCreate(s->comm, eps));
  PetscCall(EPSSetOperators(*eps, B, NULL));
  PetscCall(EPSSetProblemType(*eps, EPS_HEP));
  PetscCall(EPSSetType(*eps, EPSKRYLOVSCHUR));
  PetscCall(EPSSetWhichEigenpairs(*eps, which));
  PetscCall(EPSSetDimensions(*eps, nev, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(EPSSetTolerances(*eps, s->eps_tol, 10000));
  PetscCall(EPSSetFromOptions(*eps));
  PetscFunctionReturn(0);
}

/* Solves eps from v0: the first nconv <= nev eigenvalues with their residuals
 * ||A x - k x|| for unit x (vals, res: nev allocated), and the restarts. */
static PetscErrorCode eps_run(EPS eps, Vec v0, PetscInt nev, double **vals, double **res, PetscInt *nconv, PetscInt *its)
{
  PetscFunctionBeginUser;
  PetscCall(EPSSetInitialSpace(eps, 1, &v0));
  PetscCall(EPSSolve(eps));
  PetscCall(EPSGetConverged(eps, nconv));
  PetscCall(EPSGetIterationNumber(eps, its));
  *nconv = PetscMin(*nconv, nev);
  PetscCall(PetscMalloc2(nev, vals, nev, res));
  for (PetscInt i = 0; i < *nconv; i++) {
    PetscScalar k;
    PetscReal   err;
    PetscCall(EPSGetEigenpair(eps, i, &k, NULL, NULL, NULL));
    PetscCall(EPSComputeError(eps, i, EPS_ERROR_ABSOLUTE, &err)); /* ||A x - k x|| for unit x */
    (*vals)[i] = PetscRealPart(k);
    (*res)[i]  = err;
  }
  PetscFunctionReturn(0);
}

/* One Krylov-Schur solve from the random start vector. */
static PetscErrorCode eps_solve(Spectrum s, Mat B, EPSWhich which, PetscInt nev, double **vals, double **res, PetscInt *nconv, PetscInt *its)
{
  EPS eps;
  Vec v0;
  PetscFunctionBeginUser;
  PetscCall(MatCreateVecs(s->A, &v0, NULL));
  PetscCall(spectrum_random_vector(s, NN_SPECTRUM_START, PETSC_FALSE, v0)); /* start vector independent of the rank count */
  PetscCall(eps_create(s, B, which, nev, &eps));
  PetscCall(eps_run(eps, v0, nev, vals, res, nconv, its));
  PetscCall(EPSDestroy(&eps));
  PetscCall(VecDestroy(&v0));
  PetscFunctionReturn(0);
}

static PetscErrorCode extremes_free(Spectrum s)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree2(s->lmax, s->rmax));
  PetscCall(PetscFree2(s->lmin, s->rmin));
  PetscCall(PetscFree2(s->ltop, s->rtop));
  s->nmax = s->nmin = s->ntop = 0;
  s->eps_its[0] = s->eps_its[1] = s->eps_its[2] = 0;
  s->ext_steps = s->ext_products = 0;
  s->ext_refined[0] = s->ext_refined[1] = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* "[spectrum] extremes: ..." with how they were obtained. */
static PetscErrorCode extremes_report(Spectrum s, double seconds)
{
  char how[160];
  PetscFunctionBeginUser;
  if (s->ext_steps)
    PetscCall(PetscSNPrintf(how, sizeof how, "from the normalization's %" PetscInt_FMT " Lanczos steps + %" PetscInt_FMT " products (refined: max %s, min %s; %" PetscInt_FMT "+%" PetscInt_FMT " restarts)",
                            s->ext_steps, s->ext_products, s->ext_refined[0] ? "yes" : "no", s->ext_refined[1] ? "yes" : "no", s->eps_its[0], s->eps_its[1]));
  else PetscCall(PetscSNPrintf(how, sizeof how, "Krylov-Schur, %" PetscInt_FMT " products, %" PetscInt_FMT "+%" PetscInt_FMT " restarts", s->ext_products, s->eps_its[0], s->eps_its[1]));
  PetscCall(PetscPrintf(s->comm, "[spectrum] extremes: lambda_max %.6e (residual %.1e), lambda_min %.6e (residual %.1e), %s, %.1fs\n",
                        s->nmax ? s->lmax[0] : NAN, s->nmax ? s->rmax[0] : NAN, s->nmin ? s->lmin[0] : NAN, s->nmin ? s->rmin[0] : NAN, how, seconds));
  if (s->nmax < s->nev || s->nmin < s->nev)
    PetscCall(PetscPrintf(s->comm, "[spectrum] warning: only %" PetscInt_FMT " and %" PetscInt_FMT " of %" PetscInt_FMT " eigenvalues converged (see -eps_max_it, -eps_tol)\n",
                          s->nmax, s->nmin, s->nev));
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_extremes(Spectrum s)
{
  double t0 = nn_wtime();
  Mat    B;
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(spectrum_ev_extremes, 0, 0, 0, 0));
  PetscCall(extremes_free(s));
  PetscCall(counted_operator(s, &B));
  PetscCall(eps_solve(s, B, EPS_LARGEST_REAL, s->nev, &s->lmax, &s->rmax, &s->nmax, &s->eps_its[0]));
  PetscCall(eps_solve(s, B, EPS_SMALLEST_REAL, s->nev, &s->lmin, &s->rmin, &s->nmin, &s->eps_its[1]));
  if (s->topk) PetscCall(eps_solve(s, B, EPS_LARGEST_MAGNITUDE, s->topk, &s->ltop, &s->rtop, &s->ntop, &s->eps_its[2]));
  PetscCall(MatDestroy(&B));
  PetscCall(PetscLogEventEnd(spectrum_ev_extremes, 0, 0, 0, 0));
  PetscCall(extremes_report(s, nn_wtime() - t0));
  PetscFunctionReturn(0);
}

/* EPS's convergence test on the residual r of the pair (rho, x): errest < tol. */
static PetscErrorCode eps_converged(EPS eps, PetscReal rho, PetscReal r, PetscBool *ok)
{
  EPSConv   conv;
  PetscReal tol, errest = PETSC_INFINITY;
  PetscFunctionBeginUser;
  PetscCall(EPSGetTolerances(eps, &tol, NULL));
  PetscCall(EPSGetConvergenceTest(eps, &conv));
  if (conv == EPS_CONV_REL) PetscCall(EPSConvergedRelative(eps, rho, 0, r, &errest, NULL)); /* r / |rho| */
  else if (conv == EPS_CONV_ABS) PetscCall(EPSConvergedAbsolute(eps, rho, 0, r, &errest, NULL)); /* r */
  /* EPS_CONV_NORM needs the norms EPSSetUp computes, EPS_CONV_USER the user's test: refine */
  *ok = errest < tol ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* The Ritz vector x checked: y = A x, rho = x^T y, r = ||y - rho x||. */
static PetscErrorCode ritz_check(Mat B, Vec x, double *rho, double *r)
{
  Vec         y;
  PetscScalar q;
  PetscReal   nr;
  PetscFunctionBeginUser;
  PetscCall(VecDuplicate(x, &y));
  PetscCall(VecNormalize(x, NULL));
  PetscCall(MatMult(B, x, y)); /* y = A x */
  PetscCall(VecDot(y, x, &q)); /* rho = x^T A x, the Rayleigh quotient */
  PetscCall(VecAXPY(y, -q, x)); /* y <- A x - rho x */
  PetscCall(VecNorm(y, NORM_2, &nr));
  *rho = PetscRealPart(q), *r = nr;
  PetscCall(VecDestroy(&y));
  PetscFunctionReturn(0);
}

/* One end (which: EPS_LARGEST_REAL or EPS_SMALLEST_REAL) from the Ritz pairs
 * of the Lanczos run r: each of the nev pairs checked by its true residual
 * (a pair whose estimate beta_m |s_{m,i}| misses the test 100-fold is not
 * checked: it is refined anyway); all accepted, or Krylov-Schur started from
 * v0 = sum_i x_i (Krylov-Schur takes one start vector; the sum holds every
 * wanted direction). */
static PetscErrorCode extremes_end(Spectrum s, Mat B, EPSWhich which, const LanczosRitz *r, double **vals, double **res, PetscInt *nconv,
                                   PetscInt *its, PetscBool *refined)
{
  const PetscBool top = which == EPS_LARGEST_REAL;
  Vec            *x   = top ? r->xmax : r->xmin;
  const double   *est = top ? r->emax : r->emin;
  PetscBool       ok  = r->nx == s->nev ? PETSC_TRUE : PETSC_FALSE;
  EPS             eps;
  PetscFunctionBeginUser;
  PetscCall(eps_create(s, B, which, s->nev, &eps));
  PetscCall(PetscMalloc2(s->nev, vals, s->nev, res));
  for (PetscInt i = 0; i < r->nx && ok; i++) {
    const double theta = r->ritz[top ? r->m - 1 - i : i];
    PetscCall(eps_converged(eps, theta, 0.01 * est[i], &ok)); /* hopeful: estimate within 100 times the test */
    if (ok) PetscCall(ritz_check(B, x[i], &(*vals)[i], &(*res)[i]));
    if (ok) PetscCall(eps_converged(eps, (*vals)[i], (*res)[i], &ok));
  }
  *nconv = ok ? s->nev : 0, *its = 0, *refined = ok ? PETSC_FALSE : PETSC_TRUE;
  if (!ok) {
    Vec v0;
    PetscCall(PetscFree2(*vals, *res));
    PetscCall(VecDuplicate(x[0], &v0));
    PetscCall(VecZeroEntries(v0));
    for (PetscInt i = 0; i < r->nx; i++) PetscCall(VecAXPY(v0, 1.0, x[i])); /* v0 = sum_i x_i */
    PetscCall(VecNormalize(v0, NULL));
    PetscCall(eps_run(eps, v0, s->nev, vals, res, nconv, its));
    PetscCall(VecDestroy(&v0));
  }
  PetscCall(EPSDestroy(&eps));
  PetscFunctionReturn(0);
}

/* The extremes from the Lanczos run r of the normalization (spectrum_ev_extremes). */
static PetscErrorCode extremes_from_lanczos(Spectrum s, const LanczosRitz *r)
{
  Mat B;
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(spectrum_ev_extremes, 0, 0, 0, 0));
  PetscCall(extremes_free(s));
  PetscCall(counted_operator(s, &B));
  s->ext_steps = r->m;
  PetscCall(extremes_end(s, B, EPS_LARGEST_REAL, r, &s->lmax, &s->rmax, &s->nmax, &s->eps_its[0], &s->ext_refined[0]));
  PetscCall(extremes_end(s, B, EPS_SMALLEST_REAL, r, &s->lmin, &s->rmin, &s->nmin, &s->eps_its[1], &s->ext_refined[1]));
  if (s->topk) PetscCall(eps_solve(s, B, EPS_LARGEST_MAGNITUDE, s->topk, &s->ltop, &s->rtop, &s->ntop, &s->eps_its[2]));
  PetscCall(MatDestroy(&B));
  PetscCall(PetscLogEventEnd(spectrum_ev_extremes, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* The Lanczos run the normalization takes: Papyan's separate M0 steps, or
 * the first density vector's M steps, which the density then keeps. */
static PetscErrorCode normalization_run(Spectrum s, Vec v, LanczosRitz *r)
{
  PetscFunctionBeginUser;
  if (s->separate_normalization) {
    PetscCall(spectrum_random_vector(s, NN_SPECTRUM_NORMALISATION, PETSC_FALSE, v));
    PetscCall(lanczos_ritz_pairs(s->A, v, s->M0, s->nev, r)); /* the steps of lanczos_tridiagonal, keeping the basis */
    PetscFunctionReturn(0);
  }
  PetscCall(spectrum_random_vector(s, nn_spectrum_density_substream(0), PETSC_FALSE, v));
  PetscCall(lanczos_ritz_pairs(s->A, v, s->M, s->nev, r));
  s->steps[0] = r->m; /* density vector 0, as spectrum_density_continue would compute it */
  PetscCall(PetscArraycpy(s->ritz, r->ritz, r->m));
  PetscCall(PetscArraycpy(s->weights, r->weights, r->m));
  s->done_vecs = 1;
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_normalization_extremes(Spectrum s)
{
  double      t0 = nn_wtime();
  LanczosRitz r;
  Vec         v;
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(spectrum_ev_density, 0, 0, 0, 0));
  if (!s->done_normalization && !s->done_vecs) PetscCall(spectrum_density_allocate(s)); /* a fresh density */
  PetscCall(MatCreateVecs(s->A, &v, NULL));
  PetscCall(normalization_run(s, v, &r));
  spectrum_set_interval(s, r.ritz, r.m);
  s->done_normalization = PETSC_TRUE;
  PetscCall(PetscLogEventEnd(spectrum_ev_density, 0, 0, 0, 0));
  PetscCall(PetscPrintf(s->comm, "[spectrum] normalization: [%.4e, %.4e] from %" PetscInt_FMT " Lanczos steps (%s), %.1fs\n", s->lo, s->hi, r.m,
                        s->separate_normalization ? "a separate run" : "density vector 1", nn_wtime() - t0));
  PetscCall(extremes_from_lanczos(s, &r));
  PetscCall(lanczos_ritz_destroy(&r));
  PetscCall(VecDestroy(&v));
  PetscCall(extremes_report(s, nn_wtime() - t0));
  PetscFunctionReturn(0);
}
