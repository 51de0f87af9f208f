/* Private to src/stages: the coupling stage (App. E), split into its parts:
 *   coupling_stage.c      options, set-up, one epoch's run (Algorithm 1)
 *   coupling_draw.c       one draw: index vectors, the per-batch Hessian
 *                         entries, their statistics and the first draw's
 *                         correlation submatrix
 *   coupling_calibrate.c  Algorithm 3's null counts, once per run
 *   coupling_record.c     a statistic's counts over the draws, and writing them
 *   coupling_nested.c     the correlation counts at each N_b of -coupling_nb
 *                         (nested sub-blocks of the largest), the exponent
 *                         fitted across them, and the first draw's counts by
 *                         layer block
 *   coupling_progress.c   the draws' per-batch entries so far: saved on a stop
 *                         signal, taken up by the next run at the same epoch */
#ifndef NNCAS_STAGES_COUPLING_STAGE_H
#define NNCAS_STAGES_COUPLING_STAGE_H

#include "stageimpl.h"
#include "nncas/coupling.h"
#include "nncas/linalg.h"

#define COUPLING_MAX_NB 16 /* values of -coupling_nb */

typedef struct {
  PetscInt  every, draws, nb[3], null_draws, seed, kmax, sub;
  PetscInt  nbs[COUPLING_MAX_NB], knb; /* -coupling_nb: K ascending N_b of the correlations; nb[STAT_CC] = nbs[K - 1] */
  PetscInt  L, *layer_off, *layer_len; /* weight layers: theta[off, off + len) (after setup) */
  PetscReal thr[3];
  PetscBool auto_thr, calibrate, full_cc, calibrated;
  PetscInt  batch;    /* the training mini-batch: one per-batch Hessian per batch */
  PetscInt  nbatches; /* n: batches of the training split (after setup) */
  MPI_Comm  comm;
  PetscInt  N;        /* parameters (after setup) */
  Hessian   h;
  Hessian   hg;       /* with -stage_groups: h's copy on this rank's group */
  NnRankGroups groups; /* the stage's: the draws' per-batch entries in rounds */
  NnStage   stage;    /* its stage: nn_stage_poll_stop between batches */
  struct {
    double   **all;   /* [2 B] slot 2 d + high: draw d's per-batch entries (n x N_b^2) */
    PetscBool **done; /* [2 B] (n): the batches computed */
  } progress;
} CouplingStage;

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

/* coupling_draw.c: draw d at epoch for the statistics using N_b = nb[0] (CC;
 * high: skewness and kurtosis with nb[1]), into rec; the first CC draw's
 * histogram and submatrix go to f's /coupling/epoch_EEEE/cc. */
PetscErrorCode coupling_draw(CouplingStage *st, PetscInt epoch, NnH5File *f, PetscInt d, PetscBool high, DrawRecord *rec,
                             PetscBool *stopped);

/* coupling_draw.c, with rank groups: a round of draws [d0, d1), one per
 * group; this rank's group computes draw d's per-batch entries (both
 * statistics) on hg into their progress slots, the groups agree on a stop,
 * and every slot of the round goes from its group to all ranks. The draws'
 * statistics then run on all ranks as without groups (coupling_draw finds
 * their entries done). */
PetscErrorCode coupling_round_entries(CouplingStage *st, PetscInt epoch, PetscInt d0, PetscInt d1, PetscInt d, PetscBool *stopped);

/* coupling_progress.c: the progress of the run at epoch with weights theta:
 * start (allocate, take up OUTPUT_DIR/coupling_progress.h5 if it matches),
 * save (on a stop), end (free; finished: remove the file). */
PetscErrorCode coupling_progress_start(CouplingStage *st, PetscInt epoch, const double *theta, RunDir rd);
PetscErrorCode coupling_progress_save(CouplingStage *st, PetscInt epoch, const double *theta, RunDir rd);
PetscErrorCode coupling_progress_end(CouplingStage *st, RunDir rd, PetscBool finished);

/* coupling_nested.c: draw d's correlation counts at each N_b of -coupling_nb
 * from the largest one's standardised sample Z (n x N_b^2) and count c; draw
 * d's counts by geometry (and the first draw's by layer block) from its
 * correlation matrix C; writing them, with the fitted exponents, into the
 * group g of the correlations. */
PetscErrorCode coupling_nested_counts(CouplingStage *st, PetscInt d, const double *Z, const PetscBool *valid, PetscInt nconst,
                                      const NnStatCount *c, DrawRecord *r);
PetscErrorCode coupling_block_counts(CouplingStage *st, PetscInt d, ScaMat C, const PetscInt *i, const PetscInt *j, const PetscBool *valid,
                                     DrawRecord *r);
PetscErrorCode coupling_nested_write(CouplingStage *st, NnH5File *f, const char *g, DrawRecord *r);

/* coupling_calibrate.c: Algorithm 3 into /coupling/null (thresholds chosen there with -coupling_auto_thresholds). */
PetscErrorCode coupling_calibrate(CouplingStage *st, RunDir rd);

/* coupling_record.c */
PetscErrorCode coupling_record_alloc(PetscInt B, PetscInt nb, PetscInt K, PetscInt L, DrawRecord *r);
PetscErrorCode coupling_record_free(DrawRecord *r);
void           coupling_record_set(DrawRecord *r, PetscInt d, PetscInt nb, const NnStatCount *c, PetscInt nconst);
PetscErrorCode coupling_record_write(CouplingStage *st, NnH5File *f, const char *g, int k, DrawRecord *r);
/* A histogram (with its range as attributes) g/histogram. */
PetscErrorCode coupling_write_histogram(NnH5File *f, const char *g, const NnHistogram *h);
/* Mean and standard error of x[0..B) (NaN for one value). */
void coupling_mean_se(PetscInt B, const double *x, double *mean, double *se);

#endif
