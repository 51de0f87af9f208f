/* The trainer's test-only seams (trainer_testing.h). */
#include "trainimpl.h"
#include "trainer_testing.h"

PetscErrorCode trainer_testing_set_stop_after_steps(Trainer t, PetscInt steps)
{
  PetscFunctionBeginUser;
  PetscCheck(steps >= 0, t->comm, PETSC_ERR_ARG_OUTOFRANGE, "trainer_testing_set_stop_after_steps: the steps (-train_stop_after_steps) must be non-negative (0: off)");
  t->stop_after_steps = steps;
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_testing_set_position(Trainer t, PetscInt epoch, PetscInt step, PetscInt global_step, double acc_loss,
                                            double acc_correct, double acc_n)
{
  PetscFunctionBeginUser;
  PetscCheck(t->theta, t->comm, PETSC_ERR_ORDER, "trainer_testing_set_position: call trainer_setup() first");
  PetscCheck(epoch >= 0 && step >= 0 && global_step >= 0, t->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "trainer_testing_set_position: the epoch and the steps must be non-negative");
  t->epoch       = epoch;
  t->step        = step;
  t->global_step = global_step;
  t->acc_loss    = acc_loss;
  t->acc_correct = acc_correct;
  t->acc_n       = acc_n;
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_testing_get_records(Trainer t, NnTable **hist, NnTable **steps)
{
  PetscFunctionBeginUser;
  PetscCheck(t->theta, t->comm, PETSC_ERR_ORDER, "trainer_testing_get_records: call trainer_setup() first");
  if (hist) *hist = &t->hist;
  if (steps) *steps = &t->steps;
  PetscFunctionReturn(0);
}
