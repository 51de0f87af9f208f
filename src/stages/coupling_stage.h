/* Private to src/stages: the coupling stage (App. E), split into its parts:
 *   coupling_stage.c      options, set-up, one epoch's run (Algorithm 1)
 *   coupling_draw.c       one draw: index vectors, the per-batch Hessian
 *                         entries, their statistics and the first draw's
 *                         correlation submatrix
 *   coupling_calibrate.c  Algorithm 3's null counts, once per run
 *   coupling_record.c     a statistic's counts over the draws, and writing them
 *   coupling_progress.c   the draws' per-batch entries so far: saved on a stop
 *                         signal, taken up by the next run at the same epoch */
#ifndef NNCAS_STAGES_COUPLING_STAGE_H
#define NNCAS_STAGES_COUPLING_STAGE_H

#include "stageimpl.h"
#include "nncas/coupling.h"
#include "nncas/linalg.h"

typedef struct {
  PetscInt  every, draws, nb[3], null_draws, seed, kmax, sub;
  PetscReal thr[3];
  PetscBool auto_thr, calibrate, full_cc, calibrated;
  PetscInt  batch;    /* the training mini-batch: one per-batch Hessian per batch */
  PetscInt  nbatches; /* n: batches of the training split (after setup) */
  MPI_Comm  comm;
  PetscInt  N;        /* parameters (after setup) */
  Hessian   h;
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
} DrawRecord;

/* coupling_draw.c: draw d at epoch for the statistics using N_b = nb[0] (CC;
 * high: skewness and kurtosis with nb[1]), into rec; the first CC draw's
 * histogram and submatrix go to f's /coupling/epoch_EEEE/cc. */
PetscErrorCode coupling_draw(CouplingStage *st, PetscInt epoch, NnH5File *f, PetscInt d, PetscBool high, DrawRecord *rec,
                             PetscBool *stopped);

/* coupling_progress.c: the progress of the run at epoch with weights theta:
 * start (allocate, take up OUTPUT_DIR/coupling_progress.h5 if it matches),
 * save (on a stop), end (free; finished: remove the file). */
PetscErrorCode coupling_progress_start(CouplingStage *st, PetscInt epoch, const double *theta, RunDir rd);
PetscErrorCode coupling_progress_save(CouplingStage *st, PetscInt epoch, const double *theta, RunDir rd);
PetscErrorCode coupling_progress_end(CouplingStage *st, RunDir rd, PetscBool finished);

/* coupling_calibrate.c: Algorithm 3 into /coupling/null (thresholds chosen there with -coupling_auto_thresholds). */
PetscErrorCode coupling_calibrate(CouplingStage *st, RunDir rd);

/* coupling_record.c */
PetscErrorCode coupling_record_alloc(PetscInt B, PetscInt nb, DrawRecord *r);
PetscErrorCode coupling_record_free(DrawRecord *r);
void           coupling_record_set(DrawRecord *r, PetscInt d, PetscInt nb, const NnStatCount *c, PetscInt nconst);
PetscErrorCode coupling_record_write(CouplingStage *st, NnH5File *f, const char *g, int k, DrawRecord *r);
/* A histogram (with its range as attributes) g/histogram. */
PetscErrorCode coupling_write_histogram(NnH5File *f, const char *g, const NnHistogram *h);
/* Mean and standard error of x[0..B) (NaN for one value). */
void coupling_mean_se(PetscInt B, const double *x, double *mean, double *se);

#endif
