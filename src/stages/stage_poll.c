/* A stage's safe points (stageimpl.h): stop signals, agreed across the ranks,
 * and the testing option -<type>_stop_after. Apart from stage.c, so that the
 * stage types can call it without calling into their own registry. */
#include "stageimpl.h"

PetscErrorCode nn_stage_poll_stop(NnStage st, PetscBool *stop)
{
  PetscFunctionBeginUser;
  PetscCall(nn_signal_agreed(st->comm, stop));
  if (st->stop_after && ++st->units >= st->stop_after) *stop = PETSC_TRUE;
  PetscFunctionReturn(0);
}
