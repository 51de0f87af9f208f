/* Measurement stages run during training (Trainer epoch hooks), each writing
 * its group of the results file. */
#ifndef NNCAS_STAGES_H
#define NNCAS_STAGES_H

#include "nncas/checkpoint.h"
#include "nncas/hessian.h"
#include "nncas/spectrum.h"

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

#endif
