/* Measurement stages: what runs at epoch boundaries of training and records
 * into the run's results file (the spectrum of Sec. 3, the coupling
 * statistics of App. E, the initialisation-scaling study of Sec. 5.2).
 *
 * A stage sees the data set and the network it was created with, and at each
 * run the weights after `epoch` epochs and the run's directory: nothing of the
 * trainer. A stop signal (nn_signal_agreed) ends a run early: the stage saves
 * its progress (rundir_progress_path), reports *stopped, and a later run at
 * the same epoch with the same weights resumes from it; the resumed results
 * are bit for bit those of a run never stopped. Every stage has the same life
 * cycle:
 *
 *   nn_stage_create(type, ds, net)  the type's defaults
 *   nn_stage_set_from_options       its options (what -help lists)
 *   nn_stage_local_samples          samples per rank it passes through the net (for net_setup)
 *   nn_stage_setup                  after net_setup: operators, buffers; prints its settings
 *   nn_stage_run(epoch, theta, rd, &stopped)  at epoch 0 .. epochs, when due (the stage decides)
 *   nn_stage_destroy
 *
 * A new stage is one file in src/stages/ defining its NnStageOps, and one line
 * in the table of stage types (stage.c). All functions are collective over
 * the data set's communicator. */
#ifndef NNCAS_STAGE_H
#define NNCAS_STAGE_H

#include "nncas/rundir.h"

typedef struct _p_NnStage *NnStage;

/* The k-th registered stage type (0, 1, ...), in the order a run creates and
 * runs them; NULL past the last. */
const char *nn_stage_type(int k);

PetscErrorCode nn_stage_create(const char *type, Dataset ds, Net net, NnStage *st);
PetscErrorCode nn_stage_set_from_options(NnStage st);
/* The global training mini-batch: the coupling stage's per-batch Hessians use it. */
PetscErrorCode nn_stage_local_samples(NnStage st, PetscInt train_batch, PetscInt *nlocal);
PetscErrorCode nn_stage_setup(NnStage st, PetscInt train_batch);
/* Runs the stage on the weights theta (replicated, N) after epoch epochs, if it
 * is due then; its results go to rd's results file. *stopped: a stop signal
 * came, the progress is saved and no results were written. */
PetscErrorCode nn_stage_run(NnStage st, PetscInt epoch, const double *theta, RunDir rd, PetscBool *stopped);
PetscErrorCode nn_stage_destroy(NnStage *st);
/* "the spectrum stage": for messages. */
const char *nn_stage_title(NnStage st);

/* Each module's log events, registered once (PETSc's XInitializePackage). */
PetscErrorCode nn_stage_initialize_package(void);

#endif
