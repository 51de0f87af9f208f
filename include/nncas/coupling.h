/* Coupling-set statistics of Hessian entries (App. E, Sec. 5.1).
 *
 * A sample is n observations (one per batch of an epoch) of M variables (the
 * entries of an N_b x N_b submatrix H_b[i, j]), held as X (n x M, column-
 * major) on every rank. After standardisation (mean 0, population standard
 * deviation 1; variables of zero variance are left out), the statistics of
 * App. E.1 are counted where they exceed a threshold:
 *   correlation coefficients  r(a, b)      = <z_a z_b>,                     ordered pairs a != b
 *   skewness                  k3(a, b, c)  = <z_a z_b z_c>,                 all ordered triples
 *   excess kurtosis           k4(a, b, c, d) = <z_a z_b z_c z_d> - r_ab r_cd - r_ac r_bd - r_ad r_bc,
 *                                                                           all ordered quadruples
 * (<.> the mean over the n observations; Mardia's normalisation). The
 * correlation matrix (M x M, 10^4 x 10^4 for N_b = 100) lives in ScaLAPACK's
 * block-cyclic layout (ScaMat) across the ranks; the skewness and kurtosis
 * work is split across the ranks by their first index (pair). */
#ifndef NNCAS_COUPLING_H
#define NNCAS_COUPLING_H

#include "nncas/scamat.h"

/* A histogram of statistic values: nbins bins over [lo, hi]; values outside
 * go to the end bins. */
typedef struct {
  PetscInt nbins;
  double   lo, hi;
  double  *count; /* (nbins), summed over the ranks */
} NnHistogram;

typedef struct {
  double   count;  /* statistics with |value| > threshold (over all ranks) */
  double   total;  /* statistics counted over (valid variables) */
  PetscInt nconst; /* variables of zero variance, left out */
} NnStatCount;

/* Z <- X standardised per column; valid[a] = PETSC_FALSE for a constant column (Z column zeroed). */
PetscErrorCode cumulant_standardize(PetscInt n, PetscInt M, const double *X, double *Z, PetscBool *valid, PetscInt *nconst);

/* Counts over the standardised Z (n x M, replicated), collective over comm.
 * hist may be NULL. cc_count keeps the correlation matrix in *C if C is not
 * NULL (the caller destroys it). */
PetscErrorCode cc_count(MPI_Comm comm, PetscInt n, PetscInt M, const double *Z, const PetscBool *valid, double thr,
                        NnHistogram *hist, ScaMat *C, NnStatCount *out);
PetscErrorCode skewness_count(MPI_Comm comm, PetscInt n, PetscInt M, const double *Z, const PetscBool *valid, double thr,
                              NnHistogram *hist, NnStatCount *out);
PetscErrorCode kurtosis_count(MPI_Comm comm, PetscInt n, PetscInt M, const double *Z, const PetscBool *valid, double thr,
                              NnHistogram *hist, NnStatCount *out);

/* The three statistics by kind, their names ("cc", "skewness", "kurtosis")
 * and the null targets of Algorithm 3: the count N_b^2 N_b^e the thresholds
 * must keep the null count two orders of magnitude below (e = 1/2, 1, 3/2). */
typedef enum { STAT_CC, STAT_SKEWNESS, STAT_KURTOSIS } NnStatKind;
extern const char *const NnStatNames[];
extern const double      nn_stat_target_exponent[];
PetscErrorCode stat_count(MPI_Comm comm, NnStatKind kind, PetscInt n, PetscInt M, const double *Z, const PetscBool *valid,
                          double thr, NnHistogram *hist, NnStatCount *out);
/* Algorithm 3: counts above thr in B samples of n observations of N_b^2
 * independent N(0, 1) variables (drawn by seed, identical on every rank);
 * hist (may be NULL) collects draw 0's statistics. */
PetscErrorCode coupling_null_counts(MPI_Comm comm, NnStatKind kind, PetscInt n, PetscInt nb, double thr, PetscInt B,
                                    uint64_t seed, NnHistogram *hist, double *counts);
/* Smallest threshold on the grid {step k} whose null count, read off the
 * histogram hist, is at most target; the histogram must cover the values. */
double coupling_threshold_from_histogram(const NnHistogram *hist, double target, double step);

/* The scaling exponent of a count across N_b (Sec. 5.1: the count per entry
 * ~ N_b^e). count and norm are (B x K), row d holding draw d's counts at
 * nb[0..K) and what each is divided by (N_b^2, or the varying entries); per
 * draw, e_d is the least-squares slope of log(count/norm) against log N_b
 * over the N_b with a non-zero count (undefined with fewer than two). The
 * fit reports the mean of the defined e_d with its standard error over the
 * draws (sd/sqrt(B), NaN for fewer than two), and the slope of the pooled
 * count per entry sum_d count / sum_d norm (for norm = N_b^2 the mean over
 * the draws of count/norm). Nested draws (the smaller N_b's entries a
 * sub-block of the larger's) make a draw's points correlated; the error over
 * draws accounts for that. */
typedef struct {
  double   exponent, standard_error, exponent_of_mean;
  PetscInt draws_fitted;
} NnScalingFit;
PetscErrorCode coupling_fit_exponent(PetscInt K, const PetscInt *nb, PetscInt B, const double *count, const double *norm,
                                     NnScalingFit *fit);

PetscErrorCode histogram_create(PetscInt nbins, double lo, double hi, NnHistogram *h);
PetscErrorCode histogram_destroy(NnHistogram *h);

/* ------------------------------------------------------------ Coupling -- */
/* Algorithm 1 of App. E at one set of weights: B draws (-coupling_draws) of
 * row and column index vectors i, j over [N]; for each of n batches the
 * submatrix H_b[i, j] of the batch's Hessian; the correlation coefficients of
 * its N_b^2 entries (N_b = -coupling_nb, 100) and the skewness and excess
 * kurtosis (N_b = -coupling_nb_high, 10) counted above thresholds (Table 2's
 * 0.4, 0.4, 1, or from Algorithm 3 with -coupling_auto_thresholds), the
 * counts per entry and as exponents of N_b (Fig. 1f, 6); with a list
 * -coupling_nb 10,20,50,100 the correlation counts at each N_b from nested
 * draws and the exponent fitted across them; a uniformly sampled 100 x 100
 * correlation submatrix (Fig. 1d/e). Algorithm 3's Monte Carlo null counts
 * (Table 2, Fig. 5) by coupling_calibrate.
 *
 * The Hessian entries come from the caller (coupling_set_entries), which
 * knows the batches; the draws' indices and the statistics are the object's.
 *
 *   coupling_create -> coupling_set_from_options -> coupling_set_problem,
 *   coupling_set_entries -> coupling_setup -> [coupling_calibrate ->
 *   coupling_null_view] -> per set of weights: coupling_epoch_begin ->
 *   [coupling_progress_read] -> coupling_compute -> coupling_view |
 *   coupling_progress_write -> coupling_epoch_end -> coupling_destroy.
 *
 * Collective over the communicator. A stop (the entries' poll) ends
 * coupling_compute early with *stopped; the entries computed so far go to a
 * progress file and are taken up by a later coupling_progress_read, and the
 * results are then bit for bit those of a run never stopped. */
typedef struct _p_Coupling *Coupling;

/* The per-batch entries all (n x ni nj, batch-major) of H_b[i, j] for the
 * batches not yet done[b], completing done; *stopped: a stop came (poll).
 * group: computed by this rank's rank group alone (coupling_set_entries). */
typedef PetscErrorCode (*CouplingEntries)(void *ctx, PetscBool group, PetscInt ni, const PetscInt *i, PetscInt nj, const PetscInt *j,
                                          const char *what, PetscBool *done, double *all, PetscBool *stopped);

PetscErrorCode coupling_create(MPI_Comm comm, Coupling *cp);
PetscErrorCode coupling_set_from_options(Coupling cp); /* -coupling_draws, _nb, _nb_high, _threshold_*, _auto_thresholds, ... */
/* N parameters, n batches, and the L weight layers' ranges theta[off, off + len) (the counts by layer block). */
PetscErrorCode coupling_set_problem(Coupling cp, PetscInt N, PetscInt n, PetscInt L, const PetscInt *off, const PetscInt *len);
/* The entries' source; with groups (NULL or one group: none) the draws' entries
 * are computed in rounds, one draw per group (entries called with group true). */
PetscErrorCode coupling_set_entries(Coupling cp, CouplingEntries entries, void *ctx, const NnRankGroups *groups);
PetscErrorCode coupling_setup(Coupling cp);
PetscErrorCode coupling_get_seed(Coupling cp, PetscInt *seed);  /* -coupling_seed */
PetscErrorCode coupling_get_draws(Coupling cp, PetscInt *draws); /* -coupling_draws */
/* Algorithm 3 once: null counts at the thresholds (chosen here with -coupling_auto_thresholds). */
PetscErrorCode coupling_calibrate(Coupling cp);
PetscErrorCode coupling_null_view(Coupling cp, NnH5File *f); /* into /coupling/null */
/* The draws at the weights after `epoch` epochs (their index vectors' seed). */
PetscErrorCode coupling_epoch_begin(Coupling cp, PetscInt epoch);
PetscErrorCode coupling_compute(Coupling cp, PetscBool *stopped);
/* The statistics into group g of f (g/cc, g/skewness, g/kurtosis; attributes epoch, n, draws, N). */
PetscErrorCode coupling_view(Coupling cp, NnH5File *f, const char *g);
/* The entries computed so far, to and from a progress file's root (settings as
 * its attributes; a file of other settings: *match false, nothing read). */
PetscErrorCode coupling_progress_write(Coupling cp, NnH5File *f);
PetscErrorCode coupling_progress_read(Coupling cp, NnH5File *f, PetscBool *match);
PetscErrorCode coupling_epoch_end(Coupling cp);
PetscErrorCode coupling_destroy(Coupling *cp);

#endif
