/* Private to src/spectrum (and white-box tests): the struct behind the opaque
 * Spectrum of include/nncas/spectrum.h. */
#ifndef NNCAS_SPECTRUMIMPL_H
#define NNCAS_SPECTRUMIMPL_H

#include "nncas/spectrum.h"

/* The options prefix of the Lanczos basis (BVSetOptionsPrefix): -spectrum_bv_* */
#define SPECTRUM_BV_PREFIX "spectrum_"

struct _p_Spectrum {
  MPI_Comm comm;
  Mat      A;
  /* rank groups (spectrum_set_groups): density and trace vectors spread over
   * ngroups copies of A, unit k on group k mod ngroups, shared after each round */
  Mat          Ag;         /* this rank's group's copy of A */
  NnRankGroups groups;     /* one group (all ranks) unless spectrum_set_groups */
  /* options */
  PetscInt  nev, topk;        /* -spectrum_nev (each end), -spectrum_topk (by magnitude) */
  PetscInt  M0, M, K, nvec;   /* -spectrum_m0, -spectrum_m, -spectrum_k, -spectrum_nvec */
  PetscBool separate_normalization; /* -spectrum_normalization_run: Papyan's own M0-step run, else the first density vector's */
  PetscInt  trace_vecs, seed; /* -spectrum_trace_vecs, -spectrum_seed */
  PetscReal margin, width;    /* -spectrum_margin (kappa, App. G.1), -spectrum_width (Papyan's kernel kappa) */
  PetscReal zero_tol;         /* -spectrum_zero_tol: |lambda| below this times ||A|| counts as zero */
  PetscReal eps_tol;          /* the extremes' default -eps_tol (spectrum_set_tolerance) */
  PetscBool do_extremes, do_density, do_trace;
  /* results: extremes */
  PetscInt nmax, nmin, ntop;
  double  *lmax, *rmax, *lmin, *rmin, *ltop, *rtop; /* eigenvalues, residual norms ||A x - l x|| */
  PetscInt eps_its[3];        /* Krylov-Schur restarts: max, min, top-k end (0 where none ran) */
  PetscInt ext_steps;         /* Lanczos steps (the normalization's) the extremes were taken from; 0: Krylov-Schur from a random vector */
  PetscInt ext_products;      /* operator products of the extremes beyond those steps (residual checks, Krylov-Schur) */
  PetscBool ext_refined[2];   /* the max, min end was refined by Krylov-Schur from the Ritz vectors */
  /* results: density */
  double   lo, hi;            /* the normalization interval (with margin) */
  double   est_min, est_max;  /* Lanczos estimates of the extremes (the normalization's run) */
  double   sigma;             /* kernel width on [-1, 1] */
  double  *grid, *density, *density_std; /* (K) */
  double  *ritz, *weights;    /* (nvec, M) Ritz values (lambda units) and weights; unused tail 0 */
  PetscInt *steps;            /* (nvec) Lanczos steps actually taken (fewer at an invariant subspace) */
  /* results: trace */
  double trace, trace_se;
  /* results: statistics */
  double neg_mass, abs_ratio, sym_tv, sym_w1, norm2, ratio_c; /* ratio_c = ||A||_2 / E_m[|l'|] */
  double mean_abs_dl;
  /* progress of spectrum_compute (spectrum_progress.c): what is done is not done again */
  SpectrumPoll poll;          /* called after each unit of work (may be NULL) */
  void        *poll_ctx;
  PetscBool    stopped;       /* the last spectrum_compute was stopped by poll */
  PetscBool    done_extremes, done_normalization;
  PetscInt     done_vecs, done_trace; /* density vectors and trace vectors finished */
  double      *trace_samples; /* (trace_vecs) z_k^T A z_k */
};

/* The Ritz pairs of a Lanczos run (lanczos.c). */
typedef struct {
  PetscInt m;              /* Lanczos steps taken */
  double  *ritz, *weights; /* (M; m used) Ritz values ascending and weights, as lanczos_tridiagonal gives them */
  PetscInt nx;             /* Ritz vectors kept at each end, min(nev, m) */
  Vec     *xmax, *xmin;    /* (nx) unit Ritz vectors of ritz[m-1], ritz[m-2], ... and of ritz[0], ritz[1], ... */
  double  *emax, *emin;    /* (nx) their residual estimates beta_m |s_{m,i}| */
} LanczosRitz;

/* lanczos_tridiagonal (the same steps and values, bit for bit) that also
 * returns the nev Ritz vectors at each end and their residual estimates. */
PetscErrorCode lanczos_ritz_pairs(Mat A, Vec v0, PetscInt M, PetscInt nev, LanczosRitz *r);
PetscErrorCode lanczos_ritz_destroy(LanczosRitz *r);

/* spectrum_common.c: the log events (registered by spectrum_initialize_package). */
extern PetscLogEvent spectrum_ev_extremes, spectrum_ev_density, spectrum_ev_trace;
/* v <- a random vector drawn by global index from stream (seed, which):
 * normal entries scaled to unit norm, or Rademacher (+-1) entries. */
PetscErrorCode spectrum_random_vector(Spectrum s, uint64_t which, PetscBool rademacher, Vec v);
/* Papyan's Normalization [lo, hi] from the m Ritz values (ascending) of the M0 steps. */
void spectrum_set_interval(Spectrum s, const double *ritz, PetscInt m);
/* The density's arrays, as a fresh computation needs them (ritz, weights, steps zeroed). */
PetscErrorCode spectrum_density_allocate(Spectrum s);

/* Density and trace vectors from done_vecs and done_trace on (allocating
 * what a fresh computation needs), polling after each; spectrum_progress.c. */
PetscErrorCode spectrum_poll(Spectrum s, PetscBool *stop);

#endif
