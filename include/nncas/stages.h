/* Measurement stages run during training (Trainer epoch hooks), each writing
 * its group of the results file. */
#ifndef NNCAS_STAGES_H
#define NNCAS_STAGES_H

#include "nncas/trainer.h"
#include "nncas/hessian.h"
#include "nncas/spectrum.h"
#include "nncas/coupling.h"

/* -spectrum_every k: at epoch 0 and every k epochs (and at the end if k
 * divides the epoch count), the Hessian at the current weights: extreme
 * eigenvalues, Lanczos density, trace, Theorem 1 statistics, into
 * /spectrum/epoch_EEEE of the results file. With -hessian_dense also the
 * dense Hessian's symmetry error and eigenvalues (PDSYEVD) in .../dense. */
typedef struct {
  PetscInt  every;
  PetscBool dense, dense_matrix; /* -hessian_dense: also the dense Hessian (ScaLAPACK); -hessian_dense_matrix: write it */
  PetscInt  dense_max;          /* -hessian_dense_max: refuse larger N */
  Hessian   h;
  Spectrum  sp;
} SpectrumStage;

PetscErrorCode spectrum_stage_create(Dataset ds, Net net, SpectrumStage **st);
PetscErrorCode spectrum_stage_set_from_options(SpectrumStage *st);
/* Samples per rank the stage's Hessian needs (for net_setup). */
PetscInt       spectrum_stage_local_samples(const SpectrumStage *st, PetscMPIInt size);
PetscErrorCode spectrum_stage_setup(SpectrumStage *st);
PetscErrorCode spectrum_stage_hook(Trainer t, void *ctx);
PetscErrorCode spectrum_stage_destroy(SpectrumStage **st);

/* -initscale: the initialisation-scaling study of Sec. 5.2 / App. F, run once
 * before training (epoch 0), into /initscale of the results file. For each
 * factor c of -initscale_c (weights N(0, c/fan_in), biases 0):
 *  - ||grad R||^2 over -initscale_inits random initialisations (the same
 *    seeds for every c), its mean and standard deviation; the fitted
 *    exponent of c (Lemma F.1 predicts growth like (c/2)^L);
 *  - with -initscale_spectra, the Hessian spectrum at the first
 *    initialisation, and the scaling exponent of its extreme eigenvalues
 *    between consecutive c (Corollary F.1: (L-2)/2). */
#define NN_MAX_INITSCALE 16
typedef struct {
  PetscBool on, spectra;
  PetscReal c[NN_MAX_INITSCALE];
  PetscInt  nc, ninit;
  Hessian   h;
  Spectrum  sp;
  double   *gn2;           /* (nc, ninit) squared gradient norms */
  double   *lmax, *lmin;   /* (nc) extreme eigenvalues at the first init */
} InitScaleStage;

PetscErrorCode initscale_stage_create(Dataset ds, Net net, InitScaleStage **st);
PetscErrorCode initscale_stage_set_from_options(InitScaleStage *st);
PetscInt       initscale_stage_local_samples(const InitScaleStage *st, PetscMPIInt size);
PetscErrorCode initscale_stage_setup(InitScaleStage *st);
PetscErrorCode initscale_stage_hook(Trainer t, void *ctx);
PetscErrorCode initscale_stage_destroy(InitScaleStage **st);

/* -coupling_every k: Algorithm 1 of App. E at epoch 0 and every k epochs, into
 * /coupling/epoch_EEEE: B draws (-coupling_draws) of row and column index
 * vectors i, j over [N]; for each of the n batches of an epoch (the training
 * split in batches of -train_batch, whole batches per rank) the submatrix
 * H_b[i, j]; the correlation coefficients of its N_b^2 entries (N_b =
 * -coupling_nb, 100) and the skewness and excess kurtosis (N_b =
 * -coupling_nb_high, 10) counted above thresholds (Table 2's 0.4, 0.4, 1, or
 * from Algorithm 3 with -coupling_auto_thresholds), the counts per entry and
 * as exponents of N_b (Fig. 1f, 6), a uniformly sampled 100 x 100 correlation
 * submatrix (Fig. 1d/e). The Monte Carlo null counts of Algorithm 3 (Table 2,
 * Fig. 5) go to /coupling/null once per run. */
typedef struct {
  PetscInt  every, draws, nb[3], null_draws, seed, kmax, sub;
  PetscReal thr[3];
  PetscBool auto_thr, calibrate, full_cc, calibrated;
  PetscInt  batch;
  Hessian   h;
} CouplingStage;

PetscErrorCode coupling_stage_create(Dataset ds, Net net, CouplingStage **st);
PetscErrorCode coupling_stage_set_from_options(CouplingStage *st);
PetscInt       coupling_stage_local_samples(const CouplingStage *st, PetscInt train_batch);
PetscErrorCode coupling_stage_setup(CouplingStage *st, PetscInt train_batch);
PetscErrorCode coupling_stage_hook(Trainer t, void *ctx);
PetscErrorCode coupling_stage_destroy(CouplingStage **st);

#endif
