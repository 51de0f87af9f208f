/* The checkpoint fuzz targets' fixture: a small training run (synthetic data,
 * a small conv net, two finished epochs) on PETSC_COMM_SELF and a valid
 * checkpoint of it, which each input alters before checkpoint_read reads it. */
#ifndef NNCAS_FUZZ_CHECKPOINT_FIXTURE_H
#define NNCAS_FUZZ_CHECKPOINT_FIXTURE_H

#include "fuzz_common.h"

#include "nncas/trainer.h"
#include "train/trainer_testing.h" /* the fixture sets the trainer's state */
/* white-box: nn_ckpt_check_restored reads the restored state */
#include "train/trainimpl.h"
#include "data/datasetimpl.h"
#include "net/netimpl.h"

typedef struct {
  Dataset  ds;
  Net      net;
  Trainer  t;
  uint8_t *base;   /* the bytes of the valid checkpoint */
  size_t   nbase;
} NnCkptFixture;

/* Sets up PETSc (nn_fuzz_init), the run and its checkpoint; exits on failure. */
void nn_ckpt_fixture_init(NnCkptFixture *fx);
/* After checkpoint_read succeeded: the state it restored is one a run can continue from. */
void nn_ckpt_check_restored(const NnCkptFixture *fx);

#endif
