/* The spectrum stages: their order (spectrum_compute; the extremes are in
 * extremes.c), Lanczos density (App. G.1), Hutchinson trace, Theorem 1
 * statistics, and their HDF5 record. */
#include "spectrumimpl.h"
#include "nncas/linalg.h"

#include <math.h>

#define NN_SPECTRUM_MAX_K 10000000 /* density grid points: K doubles in three arrays */

PetscErrorCode spectrum_create(MPI_Comm comm, Spectrum *sp)
{
  Spectrum s;
  PetscFunctionBeginUser;
  PetscCall(spectrum_initialize_package());
  PetscCall(PetscNew(&s));
  s->comm        = comm;
  s->nev         = 1;
  s->topk        = 0;
  s->M0          = 128;
  s->M           = 128;
  s->K           = 1024;
  s->nvec        = 1;
  s->trace_vecs  = 0;
  s->seed        = 1;
  s->margin      = 0.05;
  s->width       = 3.0;
  s->zero_tol    = 1e-3;
  s->eps_tol     = 1e-10;
  s->do_extremes = s->do_density = PETSC_TRUE;
  s->groups      = (NnRankGroups){.comm = comm, .group_comm = MPI_COMM_NULL, .n = 1};
  *sp = s;
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_set_from_options(Spectrum s)
{
  PetscFunctionBeginUser;
  PetscOptionsBegin(s->comm, NULL, "Spectrum options (SLEPc's -eps_* options apply to the extreme eigenvalues)", NULL);
  PetscCall(PetscOptionsBool("-spectrum_extremes", "compute extreme eigenvalues (with the density: from its normalization's Lanczos run, refined by Krylov-Schur where needed; else Krylov-Schur)", NULL, s->do_extremes, &s->do_extremes, NULL));
  PetscCall(PetscOptionsInt("-spectrum_nev", "eigenvalues at each end of the spectrum", NULL, s->nev, &s->nev, NULL));
  PetscCall(PetscOptionsInt("-spectrum_topk", "also the k eigenvalues of largest magnitude (0: off)", NULL, s->topk, &s->topk, NULL));
  PetscCall(PetscOptionsBool("-spectrum_density", "compute the Lanczos spectral density (App. G.1)", NULL, s->do_density, &s->do_density, NULL));
  PetscCall(PetscOptionsBool("-spectrum_normalization_run",
                             "Papyan's separate normalization run of M0 Lanczos steps (App. G.1); false: the interval and the extremes from the first density vector's run",
                             NULL, s->separate_normalization, &s->separate_normalization, NULL));
  PetscCall(PetscOptionsInt("-spectrum_m0", "Lanczos iterations of the separate normalization run (M0)", NULL, s->M0, &s->M0, NULL));
  PetscCall(PetscOptionsInt("-spectrum_m", "Lanczos iterations per starting vector (M)", NULL, s->M, &s->M, NULL));
  PetscCall(PetscOptionsInt("-spectrum_k", "grid points of the density (K)", NULL, s->K, &s->K, NULL));
  PetscCall(PetscOptionsInt("-spectrum_nvec", "random starting vectors (n_vec)", NULL, s->nvec, &s->nvec, NULL));
  PetscCall(PetscOptionsReal("-spectrum_margin", "relative margin kappa around [lambda_min, lambda_max] (App. G.1)", NULL, s->margin, &s->margin, NULL));
  PetscCall(PetscOptionsReal("-spectrum_width", "Papyan's kernel parameter: Gaussian width 2/(M-1)/sqrt(8 ln width) on [-1, 1]", NULL, s->width, &s->width, NULL));
  PetscCall(PetscOptionsInt("-spectrum_trace_vecs", "Rademacher vectors of Hutchinson's trace estimate (0: off)", NULL, s->trace_vecs, &s->trace_vecs, NULL));
  PetscCall(PetscOptionsReal("-spectrum_zero_tol", "eigenvalues below this times ||H||_2 (or below the kernel width) count as zero in the statistics", NULL, s->zero_tol, &s->zero_tol, NULL));
  PetscCall(PetscOptionsInt("-spectrum_seed", "seed of the random vectors", NULL, s->seed, &s->seed, NULL));
  PetscOptionsEnd();
  PetscCheck(s->nev > 0 && s->topk >= 0, s->comm, PETSC_ERR_ARG_OUTOFRANGE, "-spectrum_nev must be positive and -spectrum_topk non-negative");
  PetscCheck(s->M0 > 1 && s->M > 1 && s->K > 1 && s->nvec > 0, s->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-spectrum_m0, -spectrum_m, -spectrum_k must exceed 1 and -spectrum_nvec be positive");
  PetscCheck(s->K <= NN_SPECTRUM_MAX_K, s->comm, PETSC_ERR_ARG_OUTOFRANGE, "-spectrum_k %" PetscInt_FMT " exceeds %d grid points", s->K,
             NN_SPECTRUM_MAX_K);
  PetscCall(nn_option_check_real(s->comm, "-spectrum_width", s->width, "(1, inf)"));
  PetscCall(nn_option_check_real(s->comm, "-spectrum_margin", s->margin, "[0, inf)"));
  PetscCall(nn_option_check_real(s->comm, "-spectrum_zero_tol", s->zero_tol, "[0, inf)"));
  PetscCheck(s->trace_vecs >= 0, s->comm, PETSC_ERR_ARG_OUTOFRANGE, "-spectrum_trace_vecs must be non-negative");
  s->do_trace = s->trace_vecs > 0;
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_set_extremes(Spectrum s, PetscInt nev, PetscInt topk)
{
  PetscFunctionBeginUser;
  PetscCheck(nev > 0 && topk >= 0, s->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "spectrum_set_extremes: -spectrum_nev must be positive and -spectrum_topk non-negative");
  s->nev  = nev;
  s->topk = topk;
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_set_lanczos_sizes(Spectrum s, PetscInt M0, PetscInt M, PetscInt nvec)
{
  PetscFunctionBeginUser;
  PetscCheck(M0 > 1 && M > 1 && nvec > 0, s->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "spectrum_set_lanczos_sizes: -spectrum_m0 and -spectrum_m must exceed 1 and -spectrum_nvec be positive");
  s->M0   = M0;
  s->M    = M;
  s->nvec = nvec;
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_set_normalization_run(Spectrum s, PetscBool separate)
{
  PetscFunctionBeginUser;
  s->separate_normalization = separate;
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_set_grid_size(Spectrum s, PetscInt K)
{
  PetscFunctionBeginUser;
  PetscCheck(K > 1 && K <= NN_SPECTRUM_MAX_K, s->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "spectrum_set_grid_size: -spectrum_k must exceed 1 and be at most %d", NN_SPECTRUM_MAX_K);
  s->K = K;
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_set_trace_vectors(Spectrum s, PetscInt n)
{
  PetscFunctionBeginUser;
  PetscCheck(n >= 0, s->comm, PETSC_ERR_ARG_OUTOFRANGE, "spectrum_set_trace_vectors: -spectrum_trace_vecs must be non-negative");
  s->trace_vecs = n;
  s->do_trace   = n > 0;
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_set_tolerance(Spectrum s, PetscReal tol)
{
  PetscFunctionBeginUser;
  PetscCall(nn_option_check_real(s->comm, "the extremes' tolerance", tol, "(0, 1)"));
  s->eps_tol = tol;
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_set_operator(Spectrum s, Mat A)
{
  PetscInt N;
  PetscFunctionBeginUser;
  PetscCall(MatGetSize(A, &N, NULL));
  /* Lanczos finds an invariant subspace within N steps: more cannot be taken */
  PetscCheck(!s->separate_normalization || s->M0 <= N, s->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-spectrum_m0 %" PetscInt_FMT " must not exceed the operator's order N = %" PetscInt_FMT, s->M0, N);
  PetscCheck(!s->do_density || s->M <= N, s->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-spectrum_m %" PetscInt_FMT " must not exceed the operator's order N = %" PetscInt_FMT, s->M, N);
  s->A = A;
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_set_groups(Spectrum s, Mat Ag, const NnRankGroups *g)
{
  PetscInt N, Ng;
  PetscFunctionBeginUser;
  PetscCheck(g->comm == s->comm || g->n == 1, s->comm, PETSC_ERR_ARG_WRONG, "spectrum_set_groups: the groups split another communicator");
  s->groups = *g, s->Ag = NULL;
  if (g->n == 1) PetscFunctionReturn(0);
  PetscCheck(s->A, s->comm, PETSC_ERR_ORDER, "spectrum_set_groups: call spectrum_set_operator() first");
  PetscCall(MatGetSize(s->A, &N, NULL));
  PetscCall(MatGetSize(Ag, &Ng, NULL));
  PetscCheck(N == Ng, s->comm, PETSC_ERR_ARG_SIZ, "spectrum_set_groups: the group's operator has order %" PetscInt_FMT ", the whole one %" PetscInt_FMT,
             Ng, N);
  s->Ag = Ag;
  PetscFunctionReturn(0);
}

/* Papyan's Normalization: [lo, hi] from the Ritz values of M0 Lanczos steps. */
static PetscErrorCode spectrum_normalization(Spectrum s, Vec v)
{
  double  *ritz, *w;
  PetscInt m;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2(s->M0, &ritz, s->M0, &w));
  PetscCall(spectrum_random_vector(s, NN_SPECTRUM_NORMALISATION, PETSC_FALSE, v));
  PetscCall(lanczos_tridiagonal(s->A, v, s->M0, &m, ritz, w));
  spectrum_set_interval(s, ritz, m);
  PetscCall(PetscFree2(ritz, w));
  PetscFunctionReturn(0);
}

/* density(lambda_k) = (1/n_vec) sum_v sum_i w_vi N(t_k; t_vi, sigma) / d on the
 * grid t_k in [-1, 1], t = (lambda - c)/d; and its spread across vectors. */
static void spectrum_smooth(Spectrum s)
{
  const double c = 0.5 * (s->hi + s->lo), d = 0.5 * (s->hi - s->lo), norm = 1.0 / (sqrt(2 * M_PI) * s->sigma);
  for (PetscInt k = 0; k < s->K; k++) {
    const double t = -1 + 2.0 * k / (s->K - 1);
    NnMoments    m   = {0, 0, 0};
    s->grid[k] = c + d * t;
    for (PetscInt v = 0; v < s->nvec; v++) {
      double rho = 0;
      for (PetscInt i = 0; i < s->steps[v]; i++) {
        double z = (t - (s->ritz[v * s->M + i] - c) / d) / s->sigma;
        rho += s->weights[v * s->M + i] * norm * exp(-0.5 * z * z);
      }
      nn_moments_add(&m, rho / d);
    }
    s->density[k]     = nn_moments_mean(&m);
    s->density_std[k] = nn_moments_sd(&m);
  }
}

/* The density from the progress on: the normalization unless done, the
 * starting vectors from done_vecs on, polling after each; then the smoothing. */
static PetscErrorCode spectrum_density_continue(Spectrum s)
{
  Vec        v, vg;
  NnProgress prog;
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(spectrum_ev_density, 0, 0, 0, 0));
  if (!s->done_normalization && !s->done_vecs) PetscCall(spectrum_density_allocate(s)); /* a fresh density */
  PetscCall(MatCreateVecs(s->A, &v, NULL));
  vg = NULL;
  if (s->groups.n > 1) PetscCall(MatCreateVecs(s->Ag, &vg, NULL));
  nn_progress_start(&prog, "spectrum density", s->nvec + 1);
  if (!s->done_normalization && s->separate_normalization) {
    PetscCall(spectrum_normalization(s, v));
    PetscCall(nn_progress_report(&prog, 1, 0, "normalization: [%.4e, %.4e]", s->lo, s->hi));
    s->done_normalization = PETSC_TRUE;
    PetscCall(spectrum_poll(s, &s->stopped));
  }
  for (PetscInt k0 = s->done_vecs, k1, k; k0 < s->nvec && !s->stopped; k0 = k1) {
    const PetscInt w = nn_rank_groups_round(&s->groups, k0, s->nvec, &k); /* k: this rank's vector */
    k1 = k0 + w;
    if (k < k1) {
      PetscCall(spectrum_random_vector(s, nn_spectrum_density_substream((uint64_t)k), PETSC_FALSE, w > 1 ? vg : v));
      PetscCall(lanczos_tridiagonal(w > 1 ? s->Ag : s->A, w > 1 ? vg : v, s->M, &s->steps[k], s->ritz + k * s->M, s->weights + k * s->M));
    }
    PetscCall(nn_rank_groups_share(&s->groups, k0, k1, s->M, MPI_DOUBLE, s->ritz));
    PetscCall(nn_rank_groups_share(&s->groups, k0, k1, s->M, MPI_DOUBLE, s->weights));
    PetscCall(nn_rank_groups_share(&s->groups, k0, k1, 1, MPIU_INT, s->steps));
    if (!s->done_normalization) spectrum_set_interval(s, s->ritz, s->steps[0]), s->done_normalization = PETSC_TRUE; /* from vector 0 */
    PetscCall(nn_progress_report(&prog, k1 + 1, 10.0, "starting vector %" PetscInt_FMT "/%" PetscInt_FMT, k1, s->nvec));
    s->done_vecs = k1;
    PetscCall(spectrum_poll(s, &s->stopped));
  }
  if (!s->stopped) {
    s->sigma = 2.0 / (s->M - 1) / sqrt(8 * log(s->width));
    spectrum_smooth(s);
  }
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&vg));
  PetscCall(PetscLogEventEnd(spectrum_ev_density, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_density(Spectrum s)
{
  PetscFunctionBeginUser;
  s->done_normalization = PETSC_FALSE, s->done_vecs = 0;
  PetscCall(spectrum_density_continue(s));
  PetscFunctionReturn(0);
}

/* Hutchinson's samples z_k^T A z_k from done_trace on, polling after each;
 * then their mean and standard error, added in the order of k. */
static PetscErrorCode spectrum_trace_continue(Spectrum s)
{
  Vec        z[2], y[2]; /* on all ranks, on the group */
  NnMoments  m = {0, 0, 0};
  NnProgress prog;
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(spectrum_ev_trace, 0, 0, 0, 0));
  if (!s->done_trace) {
    PetscCall(PetscFree(s->trace_samples));
    PetscCall(PetscMalloc1(s->trace_vecs, &s->trace_samples));
  }
  PetscCall(MatCreateVecs(s->A, &z[0], &y[0]));
  z[1] = y[1] = NULL;
  if (s->groups.n > 1) PetscCall(MatCreateVecs(s->Ag, &z[1], &y[1]));
  nn_progress_start(&prog, "spectrum trace", s->trace_vecs);
  for (PetscInt k0 = s->done_trace, k1, k; k0 < s->trace_vecs && !s->stopped; k0 = k1) {
    const PetscInt w = nn_rank_groups_round(&s->groups, k0, s->trace_vecs, &k), g = w > 1; /* k: this rank's vector, on its group */
    PetscScalar    q;
    k1 = k0 + w;
    PetscCall(spectrum_random_vector(s, nn_spectrum_trace_substream((uint64_t)k), PETSC_TRUE, z[g]));
    PetscCall(MatMult(g ? s->Ag : s->A, z[g], y[g]));
    PetscCall(VecDot(z[g], y[g], &q)); /* z^T A z, E[z^T A z] = tr A */
    s->trace_samples[k] = PetscRealPart(q);
    PetscCall(nn_rank_groups_share(&s->groups, k0, k1, 1, MPI_DOUBLE, s->trace_samples));
    s->done_trace = k1;
    PetscCall(nn_progress_report(&prog, k1, 10.0, NULL));
    PetscCall(spectrum_poll(s, &s->stopped));
  }
  for (PetscInt k = 0; k < s->done_trace; k++) nn_moments_add(&m, s->trace_samples[k]);
  s->trace    = nn_moments_mean(&m);
  s->trace_se = nn_moments_se(&m);
  for (int g = 0; g < 2; g++) {
    PetscCall(VecDestroy(&z[g]));
    PetscCall(VecDestroy(&y[g]));
  }
  PetscCall(PetscLogEventEnd(spectrum_ev_trace, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_trace(Spectrum s)
{
  PetscFunctionBeginUser;
  s->done_trace = 0;
  PetscCall(spectrum_trace_continue(s));
  PetscFunctionReturn(0);
}

/* Smoothed density of the pooled Ritz measure at x (lambda units). */
static double smoothed_at(Spectrum s, double x, double sig)
{
  double rho = 0;
  for (PetscInt v = 0; v < s->nvec; v++)
    for (PetscInt i = 0; i < s->steps[v]; i++) {
      double z = (x - s->ritz[v * s->M + i]) / sig;
      rho += s->weights[v * s->M + i] * exp(-0.5 * z * z);
    }
  return rho / (s->nvec * sqrt(2 * M_PI) * sig);
}

/* The symmetry statistics of the Ritz measure nu (all vectors pooled):
 * negative fraction of the non-zero mass, W1(nu(x), nu(-x)) relative to the
 * spectral range, and the total variation 1/2 int |rho(x) - rho(-x)| dx of
 * the smoothed density. */
static PetscErrorCode spectrum_symmetry(Spectrum s)
{
  const PetscInt n = s->nvec * s->M;
  /* "zero": below zero_tol ||H|| or the kernel width, the resolution of the
   * Lanczos quadrature (nodes closer to 0 than that are the zero cluster) */
  double *x, *w, *xr, neg = 0, nz = 0, eps0 = PetscMax(s->zero_tol * s->norm2, s->sigma * 0.5 * (s->hi - s->lo));
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc3(n, &x, n, &w, n, &xr));
  PetscInt a = 0;
  for (PetscInt v = 0; v < s->nvec; v++)
    for (PetscInt i = 0; i < s->steps[v]; i++, a++) {
      x[a]  = s->ritz[v * s->M + i];
      w[a]  = s->weights[v * s->M + i] / s->nvec;
      xr[a] = -x[a];
      if (fabs(x[a]) > eps0) nz += w[a];
      if (x[a] < -eps0) neg += w[a];
    }
  s->neg_mass = nz > 0 ? neg / nz : NAN;
  PetscCall(nn_wasserstein1(a, x, w, a, xr, w, &s->sym_w1));
  s->sym_w1 /= 2 * s->norm2;
  const double R = PetscMax(PetscAbsReal(s->lo), PetscAbsReal(s->hi)), sig = s->sigma * 0.5 * (s->hi - s->lo), dx = R / s->K;
  double       tv = 0;
  for (PetscInt k = 0; k < s->K; k++) { /* x in (0, R]: |rho(x) - rho(-x)| is even */
    double t = (k + 0.5) * dx;
    tv += fabs(smoothed_at(s, t, sig) - smoothed_at(s, -t, sig)) * dx;
  }
  s->sym_tv = tv; /* 1/2 int over [-R, R] = int over [0, R] */
  PetscCall(PetscFree3(x, w, xr));
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_statistics(Spectrum s, double mean_abs_dl)
{
  PetscFunctionBeginUser;
  double top = s->nmax ? s->lmax[0] : s->do_density ? s->est_max : NAN;
  double bot = s->nmin ? s->lmin[0] : s->do_density ? s->est_min : NAN;
  s->norm2       = PetscMax(PetscAbsReal(top), PetscAbsReal(bot));
  s->abs_ratio   = top > 0 ? PetscAbsReal(bot) / top : NAN;
  s->mean_abs_dl = mean_abs_dl;
  s->ratio_c     = mean_abs_dl > 0 ? s->norm2 / mean_abs_dl : NAN;
  s->neg_mass = s->sym_w1 = s->sym_tv = NAN;
  if (s->ritz && s->norm2 > 0) PetscCall(spectrum_symmetry(s));
  PetscCall(PetscPrintf(s->comm,
                        "[spectrum] ||H||_2 %.4e, |lambda_min|/lambda_max %.4f, negative mass %.4f, symmetry W1 %.2e TV %.3f, "
                        "||H||_2/E|l'| %.4e%s\n",
                        s->norm2, s->abs_ratio, s->neg_mass, s->sym_w1, s->sym_tv, s->ratio_c,
                        s->do_trace ? "" : ""));
  if (s->do_trace) PetscCall(PetscPrintf(s->comm, "[spectrum] trace %.6e +- %.2e SE (%" PetscInt_FMT " Rademacher vectors)\n", s->trace, s->trace_se, s->trace_vecs));
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_compute(Spectrum s, double mean_abs_dl)
{
  PetscFunctionBeginUser;
  s->stopped = PETSC_FALSE;
  if (s->do_extremes && !s->done_extremes) { /* with the density: one unit with its normalization */
    if (s->do_density) PetscCall(spectrum_normalization_extremes(s));
    else PetscCall(spectrum_extremes(s));
    s->done_extremes = PETSC_TRUE;
    PetscCall(spectrum_poll(s, &s->stopped));
  }
  if (s->do_density && !s->stopped) PetscCall(spectrum_density_continue(s));
  if (s->do_trace && !s->stopped) PetscCall(spectrum_trace_continue(s));
  if (s->stopped) PetscFunctionReturn(0);
  PetscCall(spectrum_statistics(s, mean_abs_dl));
  s->done_extremes = s->done_normalization = PETSC_FALSE; /* finished: the next call computes afresh */
  s->done_vecs = s->done_trace = 0;
  PetscFunctionReturn(0);
}

/* How the extremes were obtained, as attributes of group/extremes. */
static PetscErrorCode spectrum_write_extremes_method(Spectrum s, NnH5File *f, const char *g)
{
  PetscFunctionBeginUser;
  PetscCall(nn_h5_attr_string(f, g, "method",
                              s->ext_steps ? "Ritz pairs of the density's normalization Lanczos run (lanczos_steps), accepted by their true residual "
                                             "under EPS's convergence test, an end refined by Krylov-Schur from its Ritz vectors where not"
                                           : "Krylov-Schur from a random vector"));
  PetscCall(nn_h5_attr_int64(f, g, "lanczos_steps", s->ext_steps));
  PetscCall(nn_h5_attr_int64(f, g, "products", s->ext_products));
  PetscCall(nn_h5_attr_int64(f, g, "refined_max", s->ext_refined[0]));
  PetscCall(nn_h5_attr_int64(f, g, "refined_min", s->ext_refined[1]));
  PetscCall(nn_h5_attr_int64(f, g, "restarts_max", s->eps_its[0]));
  PetscCall(nn_h5_attr_int64(f, g, "restarts_min", s->eps_its[1]));
  if (s->topk) PetscCall(nn_h5_attr_int64(f, g, "restarts_top", s->eps_its[2]));
  PetscFunctionReturn(0);
}

/* group/extremes: the eigenvalues, residuals and how they were obtained. */
static PetscErrorCode spectrum_write_extremes(Spectrum s, NnH5File *f, const char *group)
{
  char g[256];
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(g, sizeof g, "%s/extremes", group));
  PetscCall(nn_h5_group(f, g));
  PetscCall(nn_h5_attr_string(f, g, "description", "extreme eigenvalues (SLEPc, EPS_HEP; see method), residual = ||H x - lambda x|| for unit x"));
  PetscCall(spectrum_write_extremes_method(s, f, g));
  PetscCall(nn_h5_write_vector(f, g, "lambda_max", (hsize_t)s->nmax, s->lmax, "1", "largest algebraic eigenvalues, descending"));
  PetscCall(nn_h5_write_vector(f, g, "residual_max", (hsize_t)s->nmax, s->rmax, "1", "residual norms of lambda_max"));
  PetscCall(nn_h5_write_vector(f, g, "lambda_min", (hsize_t)s->nmin, s->lmin, "1", "smallest algebraic eigenvalues, ascending"));
  PetscCall(nn_h5_write_vector(f, g, "residual_min", (hsize_t)s->nmin, s->rmin, "1", "residual norms of lambda_min"));
  if (s->topk) {
    PetscCall(nn_h5_write_vector(f, g, "lambda_top", (hsize_t)s->ntop, s->ltop, "1", "eigenvalues of largest magnitude"));
    PetscCall(nn_h5_write_vector(f, g, "residual_top", (hsize_t)s->ntop, s->rtop, "1", "residual norms of lambda_top"));
  }
  PetscFunctionReturn(0);
}

/* group/density: the smoothed density, its quadrature and its settings. */
static PetscErrorCode spectrum_write_density(Spectrum s, NnH5File *f, const char *group)
{
  hsize_t  d2[2] = {(hsize_t)s->nvec, (hsize_t)s->M};
  int64_t *steps;
  char     g[256], path[256];
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(g, sizeof g, "%s/density", group));
  PetscCall(nn_h5_group(f, g));
  PetscCall(nn_h5_attr_string(f, g, "description",
                              "Lanczos spectrum approximation (Papyan's LanczosApproxSpec, App. G.1): Gaussian-smoothed "
                              "quadrature of the spectral measure, normalised to integrate to 1"));
  PetscCall(nn_h5_write_vector(f, g, "grid", (hsize_t)s->K, s->grid, "1", "eigenvalue grid (K points over [lo, hi])"));
  PetscCall(nn_h5_write_vector(f, g, "density", (hsize_t)s->K, s->density, "1/eigenvalue", "density averaged over the starting vectors"));
  PetscCall(nn_h5_write_vector(f, g, "density_std", (hsize_t)s->K, s->density_std, "1/eigenvalue", "standard deviation of the density across starting vectors"));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/ritz_values", g));
  PetscCall(nn_h5_write_double(f, path, 2, d2, s->ritz));
  PetscCall(nn_h5_describe(f, path, "1", "Ritz values of each starting vector (row), ascending; entries past steps[v] are 0"));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/ritz_weights", g));
  PetscCall(nn_h5_write_double(f, path, 2, d2, s->weights));
  PetscCall(nn_h5_describe(f, path, "1", "quadrature weights (squared first components of the tridiagonal's eigenvectors)"));
  PetscCall(PetscMalloc1(s->nvec, &steps));
  for (PetscInt v = 0; v < s->nvec; v++) steps[v] = s->steps[v];
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/steps", g));
  hsize_t nv = (hsize_t)s->nvec;
  PetscCall(nn_h5_write_int64(f, path, 1, &nv, steps));
  PetscCall(nn_h5_describe(f, path, "1", "Lanczos steps taken per starting vector (< M at an invariant subspace)"));
  PetscCall(PetscFree(steps));
  PetscCall(nn_h5_attr_double(f, g, "lo", s->lo));
  PetscCall(nn_h5_attr_double(f, g, "hi", s->hi));
  PetscCall(nn_h5_attr_double(f, g, "lanczos_min_estimate", s->est_min));
  PetscCall(nn_h5_attr_double(f, g, "lanczos_max_estimate", s->est_max));
  PetscCall(nn_h5_attr_int64(f, g, "M0", s->separate_normalization ? s->M0 : 0));
  PetscCall(nn_h5_attr_string(f, g, "normalization",
                              s->separate_normalization ? "Papyan's separate run of M0 Lanczos steps" : "the Ritz values of the first density vector's run (M steps)"));
  PetscCall(nn_h5_attr_int64(f, g, "M", s->M));
  PetscCall(nn_h5_attr_int64(f, g, "K", s->K));
  PetscCall(nn_h5_attr_int64(f, g, "n_vec", s->nvec));
  PetscCall(nn_h5_attr_int64(f, g, "seed", s->seed)); /* -spectrum_seed: the starting vectors (recompute_spectrum.py) */
  PetscCall(nn_h5_attr_double(f, g, "margin_kappa", s->margin));
  PetscCall(nn_h5_attr_double(f, g, "kernel_width_parameter", s->width));
  PetscCall(nn_h5_attr_double(f, g, "sigma_normalized", s->sigma));
  PetscFunctionReturn(0);
}

/* group/statistics: Theorem 1's statistics and the trace. */
static PetscErrorCode spectrum_write_statistics(Spectrum s, NnH5File *f, const char *group)
{
  char g[256];
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(g, sizeof g, "%s/statistics", group));
  PetscCall(nn_h5_group(f, g));
  PetscCall(nn_h5_attr_string(f, g, "description", "Theorem 1 statistics; see docs/spectrum.md"));
  PetscCall(nn_h5_attr_double(f, g, "norm2", s->norm2));
  PetscCall(nn_h5_attr_double(f, g, "abs_min_over_max", s->abs_ratio));
  PetscCall(nn_h5_attr_double(f, g, "negative_mass_fraction", s->neg_mass));
  PetscCall(nn_h5_attr_double(f, g, "symmetry_w1", s->sym_w1));
  PetscCall(nn_h5_attr_double(f, g, "symmetry_tv", s->sym_tv));
  PetscCall(nn_h5_attr_double(f, g, "mean_abs_loss_derivative", s->mean_abs_dl));
  PetscCall(nn_h5_attr_double(f, g, "norm2_over_mean_abs_loss_derivative", s->ratio_c));
  PetscCall(nn_h5_attr_double(f, g, "zero_tol", s->zero_tol));
  if (s->do_trace) {
    PetscCall(nn_h5_attr_double(f, g, "trace", s->trace));
    PetscCall(nn_h5_attr_double(f, g, "trace_standard_error", s->trace_se));
    PetscCall(nn_h5_attr_int64(f, g, "trace_vectors", s->trace_vecs));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_write(Spectrum s, NnH5File *f, const char *group)
{
  PetscFunctionBeginUser;
  PetscCall(nn_h5_group(f, group));
  if (s->do_extremes) PetscCall(spectrum_write_extremes(s, f, group));
  if (s->do_density) PetscCall(spectrum_write_density(s, f, group));
  PetscCall(spectrum_write_statistics(s, f, group));
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_get_range(Spectrum s, double *lmin, double *lmax)
{
  PetscFunctionBeginUser;
  if (lmin) *lmin = s->nmin ? s->lmin[0] : s->est_min;
  if (lmax) *lmax = s->nmax ? s->lmax[0] : s->est_max;
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_get_lanczos_sizes(Spectrum s, PetscInt *M0, PetscInt *M, PetscInt *nvec)
{
  PetscFunctionBeginUser;
  if (M0) *M0 = s->M0;
  if (M) *M = s->M;
  if (nvec) *nvec = s->nvec;
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_view(Spectrum s, PetscViewer v)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(v, "Spectrum: extremes %s (nev %" PetscInt_FMT "), density %s (M0 %" PetscInt_FMT ", M %" PetscInt_FMT ", K %" PetscInt_FMT ", n_vec %" PetscInt_FMT ", margin %g), trace %s\n",
                                   s->do_extremes ? "on" : "off", s->nev, s->do_density ? "on" : "off", s->M0, s->M, s->K, s->nvec,
                                   (double)s->margin, s->do_trace ? "on" : "off"));
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_destroy(Spectrum *sp)
{
  Spectrum s = *sp;
  PetscFunctionBeginUser;
  if (!s) PetscFunctionReturn(0);
  PetscCall(PetscFree2(s->lmax, s->rmax));
  PetscCall(PetscFree2(s->lmin, s->rmin));
  PetscCall(PetscFree2(s->ltop, s->rtop));
  PetscCall(PetscFree3(s->grid, s->density, s->density_std));
  PetscCall(PetscFree3(s->ritz, s->weights, s->steps));
  PetscCall(PetscFree(s->trace_samples));
  PetscCall(PetscFree(s));
  *sp = NULL;
  PetscFunctionReturn(0);
}
