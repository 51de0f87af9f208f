/* Private to src/coupling: the Coupling object of include/nncas/coupling.h
 * (Algorithms 1 and 3 of App. E), split into its parts:
 *   coupling.c           life cycle, options, an epoch's draws in rounds
 *   coupling_draw.c      one draw: index vectors, the per-batch Hessian
 *                        entries, their statistics, the first draw's
 *                        correlation submatrix
 *   coupling_null.c      Algorithm 3's null counts
 *   coupling_record.c    a statistic's counts over the draws, and writing them
 *   coupling_nested.c    the correlation counts at each N_b of -coupling_nb
 *                        (nested sub-blocks of the largest), the exponent
 *                        fitted across them, and the first draw's counts by
 *                        layer block and by geometry
 *   coupling_progress.c  the draws' per-batch entries so far, to and from a
 *                        progress file
 *   cumulants.c, scaling.c  the statistics and the fits themselves */
#ifndef NNCAS_COUPLING_COUPLINGIMPL_H
#define NNCAS_COUPLING_COUPLINGIMPL_H

#include "nncas/coupling.h"
#include "nncas/linalg.h"

#define COUPLING_MAX_NB 16 /* values of -coupling_nb */

/* Counts, per-entry counts s_0/N_b^2 and exponents log(s_0/N_b^2)/log(N_b) of B draws of one statistic. */
typedef struct {
  double   *count, *per_entry, *exponent, *total, *nconst;
  PetscInt *rows, *cols; /* (B x N_b) */
  /* the correlations only (K = knb, L = layers; otherwise K = L = 0): */
  PetscInt K, L;
  double  *count_by_nb, *varying_by_nb; /* (B x K): s_0 and the varying variables V at each N_b */
  double  *block_vars, *block_varying;  /* (L x L): the first draw's variables (i_p, j_q) by (layer(i_p), layer(j_q)) */
  double  *block_pairs;                 /* (L^2 x L^2): its correlated ordered pairs (a, b) by (block of a, block of b) */
  double  *geometry;                    /* (B x 8): per draw, the correlated ordered pairs by geometry (NN_GEOMETRY_CLASSES), then all
                                           ordered pairs of varying variables by the same classes (the null split) */
} DrawRecord;

/* Geometry classes of an ordered pair (a, b) of variables, a = (i_p, j_q), b = (i_p', j_q'): the first that fits. */
#define NN_GEOMETRY_CLASSES 4 /* same row index (p = p'), same column index (q = q'), same layer block, none */

/* Algorithm 3's outcome for one statistic. */
typedef struct {
  double     *counts; /* (null_draws) */
  NnHistogram hist;   /* the first null sample's statistics */
  double      mean, se, target;
} NullRecord;

/* The first draw's correlations beyond the counts (Fig. 1d/e). */
typedef struct {
  NnHistogram hist;
  PetscInt    m, *var; /* the sampled varying variables */
  double     *sub;     /* (m x m) their correlation coefficients */
  ScaMat      full;    /* with -coupling_full_cc: the whole matrix */
} FirstDraw;

struct _p_Coupling {
  MPI_Comm comm;
  /* options */
  PetscInt  draws, nb[3], null_draws, seed, sub;
  PetscInt  nbs[COUPLING_MAX_NB], knb; /* -coupling_nb: K ascending N_b of the correlations; nb[STAT_CC] = nbs[K - 1] */
  PetscReal thr[3];
  PetscBool auto_thr, full_cc;
  /* the problem */
  PetscInt            N, nbatches;            /* parameters; n, the batches (observations) */
  PetscInt            L, *layer_off, *layer_len; /* weight layers: theta[off, off + len) */
  CouplingEntries     entries;
  void               *ctx;
  const NnRankGroups *groups; /* NULL: one group */
  /* results */
  PetscBool  calibrated;
  NullRecord null[3];
  PetscInt   epoch; /* of the draws below (-1: none) */
  DrawRecord rec[3];
  FirstDraw  first;
  struct {
    double   **all;  /* [2 B] slot 2 d + high: draw d's per-batch entries (n x N_b^2) */
    PetscBool **done; /* [2 B] (n): the batches computed */
  } progress;
};

/* coupling_draw.c: draw d at the epoch for the statistics using N_b = nb[0]
 * (CC; high: skewness and kurtosis with nb[1]), into rec; the first CC
 * draw's histogram and submatrix into first. */
PetscErrorCode coupling_draw(Coupling cp, PetscInt d, PetscBool high, PetscBool *stopped);
/* coupling_draw.c, with rank groups: a round of draws [d0, d1), one per
 * group; this rank's group computes draw d's per-batch entries (both
 * statistics) into their progress slots, the groups agree on a stop, and
 * every slot of the round goes from its group to all ranks. The draws'
 * statistics then run on all ranks as without groups (coupling_draw finds
 * their entries done). */
PetscErrorCode coupling_round_entries(Coupling cp, PetscInt d0, PetscInt d1, PetscInt d, PetscBool *stopped);
PetscErrorCode coupling_first_draw_write(Coupling cp, NnH5File *f, const char *g);
PetscErrorCode coupling_first_draw_free(Coupling cp);

/* coupling_progress.c: the slots, allocated zero (or freed) */
PetscErrorCode coupling_progress_alloc(Coupling cp);
PetscErrorCode coupling_progress_free(Coupling cp);

/* coupling_nested.c: draw d's correlation counts at each N_b of -coupling_nb
 * from the largest one's standardised sample Z (n x N_b^2) and count c; draw
 * d's counts by geometry (and the first draw's by layer block) from its
 * correlation matrix C; writing them, with the fitted exponents, into the
 * group g of the correlations. */
PetscErrorCode coupling_nested_counts(Coupling cp, PetscInt d, const double *Z, const PetscBool *valid, PetscInt nconst,
                                      const NnStatCount *c, DrawRecord *r);
PetscErrorCode coupling_block_counts(Coupling cp, PetscInt d, ScaMat C, const PetscInt *i, const PetscInt *j, const PetscBool *valid,
                                     DrawRecord *r);
PetscErrorCode coupling_nested_write(Coupling cp, NnH5File *f, const char *g, DrawRecord *r);

/* coupling_null.c */
PetscErrorCode coupling_null_free(Coupling cp);

/* coupling_record.c */
PetscErrorCode coupling_record_alloc(PetscInt B, PetscInt nb, PetscInt K, PetscInt L, DrawRecord *r);
PetscErrorCode coupling_record_free(DrawRecord *r);
void           coupling_record_set(DrawRecord *r, PetscInt d, PetscInt nb, const NnStatCount *c, PetscInt nconst);
PetscErrorCode coupling_record_write(Coupling cp, NnH5File *f, const char *g, int k, DrawRecord *r);
/* A histogram (with its range as attributes) g/histogram. */
PetscErrorCode coupling_write_histogram(NnH5File *f, const char *g, const NnHistogram *h);
/* Mean and standard error of x[0..B) (NaN for one value). */
void coupling_mean_se(PetscInt B, const double *x, double *mean, double *se);

#endif
