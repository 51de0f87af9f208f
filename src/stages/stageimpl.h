/* Private to src/stages: the stage object and the operations a stage type
 * provides (include/nncas/stage.h). */
#ifndef NNCAS_STAGES_STAGEIMPL_H
#define NNCAS_STAGES_STAGEIMPL_H

#include "nncas/stage.h"
#include "nncas/hessian.h"
#include "nncas/spectrum.h"

typedef struct {
  PetscErrorCode (*set_from_options)(NnStage st);
  /* samples per rank the stage's passes need (0 when it is off) */
  PetscErrorCode (*local_samples)(NnStage st, PetscInt train_batch, PetscInt *nlocal);
  PetscErrorCode (*setup)(NnStage st, PetscInt train_batch);
  PetscBool (*due)(NnStage st, PetscInt epoch); /* runs at this epoch (weights after epoch epochs) */
  PetscErrorCode (*run)(NnStage st, PetscInt epoch, const double *theta, RunDir rd, PetscBool *stopped);
  PetscErrorCode (*destroy)(NnStage st); /* frees st->data */
} NnStageOps;

struct _p_NnStage {
  MPI_Comm      comm;
  Dataset       ds;
  Net           net;
  PetscInt      N;     /* parameters of net (set before the type's setup) */
  const char   *type, *title;
  NnStageOps    ops;
  PetscLogEvent event; /* NnStage<Type> in -log_view */
  void         *data;  /* the type's own state */
  PetscInt      stop_after, units; /* testing (-stage_stop_after): stop after this many units of work (0: off); units done */
  NnRankGroups  groups; /* -stage_groups: a type spreads its independent units over them, or ignores them */
};

/* A stage's safe point, after each unit of its work (a batch, a vector):
 * *stop if any rank got a stop signal, or (testing) the -stage_stop_after-th
 * unit of this run is done. Collective. */
PetscErrorCode nn_stage_poll_stop(NnStage st, PetscBool *stop);
/* The same within this rank's rank group (collective over it), for the units
 * a group works on alone; the groups agree at the end of their round. */
PetscErrorCode nn_stage_poll_stop_group(NnStage st, PetscBool *stop);
/* CRC-32 (zlib) of the weights theta (N values): what saved progress belongs to. */
int64_t nn_stage_weights_crc32(NnStage st, const double *theta);

/* The samples of the Hessian h (after hessian_setup) into group of f
 * (stage_samples.c): their positions in the training split and their indices
 * in the source file, as group/hessian_{sample,source}_index (m, batch
 * order), or with by_batch as group/batch_{sample,source}_index (batches x
 * batch, -1 padded); attributes hessian_batch and hessian_seed. */
PetscErrorCode nn_stage_write_hessian_samples(NnStage st, Hessian h, NnH5File *f, const char *group, PetscBool by_batch);

/* The -hessian_* and -spectrum_* options of a stage's Hessian h and spectrum
 * sp (stage_samples.c), the extremes' tolerance loosened to 1e-6 with
 * single-precision products: the spectrum and initscale stages take the same. */
PetscErrorCode nn_stage_hessian_spectrum_options(Hessian h, Spectrum sp);

/* Rank groups (-stage_groups) for a stage's Hessian h and spectrum sp
 * (stage_samples.c): the samples per rank of h on all ranks or on a group,
 * whichever is more; hg, h's copy on this rank's group (NULL with one group;
 * before h's setup); after spectrum_set_operator, hg set up and sp's density
 * and trace vectors spread over the groups (nothing for hg NULL). */
PetscErrorCode nn_stage_hessian_local_samples(NnStage st, Hessian h, PetscInt *nlocal);
PetscErrorCode nn_stage_group_hessian(NnStage st, Hessian h, Hessian *hg);
PetscErrorCode nn_stage_group_spectrum(NnStage st, Hessian hg, Spectrum sp);

/* A type's constructor, nn_stage_create_TYPE in the type's own file
 * (declared beside the table of types, stage.c): sets title and ops,
 * allocates data with the defaults. */

#endif
