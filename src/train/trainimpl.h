/* Private to src/train: what trainer.c and trainer_io.c share beyond the
 * public Trainer (include/nncas/trainer.h). */
#ifndef NNCAS_TRAIN_TRAINIMPL_H
#define NNCAS_TRAIN_TRAINIMPL_H

#include "nncas/trainer.h"
#include "nncas/linalg.h"

/* -log_view events of training (trainer_initialize_package, trainer_package.c). */
typedef struct {
  PetscLogEvent batch, reduce, update, evaluate, checkpoint, results;
} TrainerEvents;
extern TrainerEvents trainer_events;

#endif
