/* Test-only seams of the trainer: what the tests and fuzz targets set up
 * that no program needs. Declared here, implemented in src/train; tests
 * include it instead of writing the trainer's private fields
 * (tests/arch/check_layers.py). */
#ifndef NNCAS_TRAINER_TESTING_H
#define NNCAS_TRAINER_TESTING_H

#include "nncas/trainer.h"

/* Checkpoint and stop after this many SGD steps since the run's start, as a
 * stop signal would (-train_stop_after_steps; 0: off). */
PetscErrorCode trainer_testing_set_stop_after_steps(Trainer t, PetscInt steps);
/* After trainer_setup: the state a checkpoint records, as if training had
 * got there (fuzz/checkpoint_fixture.c): the next epoch and step to run, the
 * steps since the start, and the sums over the current epoch's finished
 * steps (loss, correct, samples). */
PetscErrorCode trainer_testing_set_position(Trainer t, PetscInt epoch, PetscInt step, PetscInt global_step, double acc_loss,
                                            double acc_correct, double acc_n);
/* After trainer_setup: the per-epoch curves and the per-step records, to
 * append rows to (table_append). */
PetscErrorCode trainer_testing_get_records(Trainer t, NnTable **hist, NnTable **steps);

#endif
