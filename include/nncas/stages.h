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

#endif
