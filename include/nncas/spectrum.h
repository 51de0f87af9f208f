/* Spectra of a symmetric operator (the Hessian shell) with SLEPc:
 *  - extreme eigenvalues by Krylov-Schur (EPS): largest and smallest
 *    algebraic, top-k by magnitude, with residual norms; every -eps_* option
 *    applies;
 *  - the spectral density by Papyan's Lanczos spectrum approximation
 *    (App. G.1): Normalization (M0 Lanczos steps estimate lambda_min/max,
 *    widened by the margin kappa, define the map to [-1, 1]), then for each
 *    of n_vec random unit vectors M Lanczos steps with full
 *    reorthogonalisation (SLEPc BV), the Ritz values and weights from the
 *    tridiagonal matrix (SLEPc DS), and Gaussian smoothing on K grid points;
 *  - the trace by Hutchinson's estimator (Rademacher vectors);
 *  - the statistics of the paper's claims (Theorem 1).
 * Random vectors are drawn by global index, so results do not depend on the
 * number of ranks beyond rounding. Memory: M+1 distributed vectors (O(N/P)). */
#ifndef NNCAS_SPECTRUM_H
#define NNCAS_SPECTRUM_H

#include "nncas/h5io.h"
#include <slepceps.h>

typedef struct _p_Spectrum *Spectrum;
struct _p_Spectrum {
  MPI_Comm comm;
  Mat      A;
  /* options */
  PetscInt  nev, topk;        /* -spectrum_nev (each end), -spectrum_topk (by magnitude) */
  PetscInt  M0, M, K, nvec;   /* -spectrum_m0, -spectrum_m, -spectrum_k, -spectrum_nvec */
  PetscInt  trace_vecs, seed; /* -spectrum_trace_vecs, -spectrum_seed */
  PetscReal margin, width;    /* -spectrum_margin (kappa, App. G.1), -spectrum_width (Papyan's kernel kappa) */
  PetscReal zero_tol;         /* -spectrum_zero_tol: |lambda| below this times ||A|| counts as zero */
  PetscBool do_extremes, do_density, do_trace;
  /* results: extremes */
  PetscInt nmax, nmin, ntop;
  double  *lmax, *rmax, *lmin, *rmin, *ltop, *rtop; /* eigenvalues, residual norms ||A x - l x|| */
  PetscInt eps_its[3];
  /* results: density */
  double   lo, hi;            /* the normalization interval (with margin) */
  double   est_min, est_max;  /* Lanczos estimates of the extremes (M0 steps) */
  double   sigma;             /* kernel width on [-1, 1] */
  double  *grid, *density, *density_std; /* (K) */
  double  *ritz, *weights;    /* (nvec, M) Ritz values (lambda units) and weights; unused tail 0 */
  PetscInt *steps;            /* (nvec) Lanczos steps actually taken (fewer at an invariant subspace) */
  /* results: trace */
  double trace, trace_se;
  /* results: statistics */
  double neg_mass, abs_ratio, sym_tv, sym_w1, norm2, ratio_c; /* ratio_c = ||A||_2 / E_m[|l'|] */
  double mean_abs_dl;
};

PetscErrorCode spectrum_create(MPI_Comm comm, Spectrum *sp);
/* -log_view events NnSpecExtremes, NnSpecLanczos, NnSpecTrace (spectrum_create calls it). */
PetscErrorCode spectrum_initialize_package(void);
PetscErrorCode spectrum_set_from_options(Spectrum sp);
PetscErrorCode spectrum_set_operator(Spectrum sp, Mat A);
/* Each stage prints a progress line. */
PetscErrorCode spectrum_extremes(Spectrum sp);
PetscErrorCode spectrum_density(Spectrum sp);
PetscErrorCode spectrum_trace(Spectrum sp);
/* The Theorem 1 statistics from what was computed; mean_abs_dl = E_m[|l'|]. */
PetscErrorCode spectrum_statistics(Spectrum sp, double mean_abs_dl);
/* All enabled stages, then the statistics. */
PetscErrorCode spectrum_compute(Spectrum sp, double mean_abs_dl);
/* Writes the results under `group` (created). */
PetscErrorCode spectrum_write(Spectrum sp, NnH5File *f, const char *group);
PetscErrorCode spectrum_view(Spectrum sp, PetscViewer v);
PetscErrorCode spectrum_destroy(Spectrum *sp);

/* Lanczos with full reorthogonalisation from the unit vector v0: the
 * tridiagonal alpha (m), beta (m-1) of m <= M steps (fewer if an invariant
 * subspace is found), its eigenvalues (Ritz values, ascending) and the squared
 * first components of its eigenvectors (weights). */
PetscErrorCode lanczos_tridiagonal(Mat A, Vec v0, PetscInt M, PetscInt *m, double *ritz, double *weights);

#endif
