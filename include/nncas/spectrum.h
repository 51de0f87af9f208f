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
 * With the density on, the extremes come from the Krylov space of the
 * density's normalization run (checked, and refined by Krylov-Schur where
 * they miss its convergence test): spectrum_normalization_extremes.
 * Random vectors are drawn by global index, so results do not depend on the
 * number of ranks beyond rounding. Memory: M+1 distributed vectors (O(N/P)). */
#ifndef NNCAS_SPECTRUM_H
#define NNCAS_SPECTRUM_H

#include "nncas/h5io.h"
#include <slepceps.h>

typedef struct _p_Spectrum *Spectrum;
typedef PetscErrorCode (*SpectrumPoll)(void *ctx, PetscBool *stop);

PetscErrorCode spectrum_create(MPI_Comm comm, Spectrum *sp);
/* -log_view events NnSpecExtremes, NnSpecLanczos, NnSpecTrace (spectrum_create calls it). */
PetscErrorCode spectrum_initialize_package(void);
PetscErrorCode spectrum_set_from_options(Spectrum sp);
/* The options (prefixes ending in "_", without the dash; NULL-terminated)
 * that the SLEPc objects of a computation read when they are created, long
 * after spectrum_set_from_options: SLEPc's -eps_*, -st_*, ... and the
 * Lanczos basis's -spectrum_bv_*. */
const char *const *spectrum_options_read_later(void);
/* The settings without the options database, before the computation (each
 * is the value of the option named; spectrum_set_from_options may change
 * them again): the extremes' eigenvalues at each end and of largest
 * magnitude (-spectrum_nev, -spectrum_topk, 0: off); the density's Lanczos
 * sizes (-spectrum_m0, -spectrum_m, -spectrum_nvec, as
 * spectrum_get_lanczos_sizes gives them); Papyan's separate normalization
 * run (-spectrum_normalization_run); the density's grid points
 * (-spectrum_k); Hutchinson's vectors (-spectrum_trace_vecs, 0: no trace in
 * spectrum_compute). Logically collective on the spectrum's communicator. */
PetscErrorCode spectrum_set_extremes(Spectrum sp, PetscInt nev, PetscInt topk);
PetscErrorCode spectrum_set_lanczos_sizes(Spectrum sp, PetscInt M0, PetscInt M, PetscInt nvec);
PetscErrorCode spectrum_set_normalization_run(Spectrum sp, PetscBool separate);
PetscErrorCode spectrum_set_grid_size(Spectrum sp, PetscInt K);
PetscErrorCode spectrum_set_trace_vectors(Spectrum sp, PetscInt n);
PetscErrorCode spectrum_set_operator(Spectrum sp, Mat A);
/* Rank groups (-stage_groups): g splits the ranks of sp's communicator and
 * Ag is this rank's group's own copy of the operator over the group's ranks
 * (the same operator: a Hessian duplicated on g->group_comm; g is copied, its
 * communicators must outlive sp). The density's starting vectors and the
 * trace's vectors are then spread over the groups in rounds
 * (nn_rank_groups_round) whose results every rank receives at the end of the
 * round; the polls come between rounds. The extremes and the normalization
 * run stay on the whole operator. Results equal those of one group to
 * rounding (the reductions inside a product are over fewer ranks). */
PetscErrorCode spectrum_set_groups(Spectrum sp, Mat Ag, const NnRankGroups *g);
/* The extremes' convergence tolerance unless -eps_tol gives one: Krylov-Schur's
 * and the Ritz pairs' test (default 1e-10; an operator computed in float32
 * cannot reach it, see docs/hessian.md). */
PetscErrorCode spectrum_set_tolerance(Spectrum sp, PetscReal tol);
/* Each stage prints a progress line. spectrum_extremes: Krylov-Schur from a
 * random vector. spectrum_normalization_extremes: the density's normalization
 * (as spectrum_density computes it, bit for bit) and the extremes from its
 * Lanczos run, each Ritz pair checked by its true residual against EPS's
 * convergence test and an end refined by Krylov-Schur from its Ritz vectors
 * where one fails (the top-k by magnitude by Krylov-Schur as above);
 * spectrum_compute uses it when the density is on. */
PetscErrorCode spectrum_extremes(Spectrum sp);
PetscErrorCode spectrum_normalization_extremes(Spectrum sp);
PetscErrorCode spectrum_density(Spectrum sp);
PetscErrorCode spectrum_trace(Spectrum sp);
/* The Theorem 1 statistics from what was computed; mean_abs_dl = E_m[|l'|]. */
PetscErrorCode spectrum_statistics(Spectrum sp, double mean_abs_dl);
/* All enabled stages, then the statistics. With a poll function set, it is
 * called (collectively) after each unit of work: the extremes, the
 * normalization, each density vector, each trace vector; when it says stop,
 * spectrum_compute returns at once with spectrum_stopped true, keeping what
 * is done, and the next spectrum_compute continues from there (the results
 * are bit for bit those of one uninterrupted call). spectrum_reset forgets the
 * progress (a new operator or point). */
PetscErrorCode spectrum_compute(Spectrum sp, double mean_abs_dl);
PetscErrorCode spectrum_set_poll(Spectrum sp, SpectrumPoll poll, void *ctx);
PetscErrorCode spectrum_reset(Spectrum sp);
PetscErrorCode spectrum_stopped(Spectrum sp, PetscBool *stopped);
/* The progress, to a file and back (spectrum_progress_read after
 * spectrum_reset; the file must come from a computation with the same
 * settings, which it checks). */
PetscErrorCode spectrum_progress_write(Spectrum sp, NnH5File *f, const char *group);
PetscErrorCode spectrum_progress_read(Spectrum sp, NnH5File *f, const char *group);
/* Writes the results under `group` (created). */
PetscErrorCode spectrum_write(Spectrum sp, NnH5File *f, const char *group);
/* After spectrum_compute: the smallest and largest eigenvalue, Krylov-Schur's
 * where the extremes were computed, else the Lanczos estimates of the
 * density's normalisation run. */
PetscErrorCode spectrum_get_range(Spectrum sp, double *lmin, double *lmax);
/* The Lanczos sizes of the density: M0 (normalisation), M steps per vector, n_vec vectors. */
PetscErrorCode spectrum_get_lanczos_sizes(Spectrum sp, PetscInt *M0, PetscInt *M, PetscInt *nvec);
PetscErrorCode spectrum_view(Spectrum sp, PetscViewer v);
PetscErrorCode spectrum_destroy(Spectrum *sp);

/* Lanczos with full reorthogonalisation from the unit vector v0: the
 * tridiagonal alpha (m), beta (m-1) of m <= M steps (fewer if an invariant
 * subspace is found), its eigenvalues (Ritz values, ascending) and the squared
 * first components of its eigenvectors (weights). */
PetscErrorCode lanczos_tridiagonal(Mat A, Vec v0, PetscInt M, PetscInt *m, double *ritz, double *weights);

#endif
