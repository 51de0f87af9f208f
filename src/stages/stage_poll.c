/* A stage's safe points (stageimpl.h): stop signals, agreed across the ranks,
 * and the testing option -<type>_stop_after; and the key of saved progress. Apart from stage.c, so that the
 * stage types can call it without calling into their own registry. */
#include "stageimpl.h"

#include <zlib.h>

PetscErrorCode nn_stage_poll_stop(NnStage st, PetscBool *stop)
{
  PetscFunctionBeginUser;
  PetscCall(nn_signal_agreed(st->comm, stop));
  if (st->stop_after && ++st->units >= st->stop_after) *stop = PETSC_TRUE;
  PetscFunctionReturn(0);
}

PetscErrorCode nn_stage_poll_stop_group(NnStage st, PetscBool *stop)
{
  PetscFunctionBeginUser;
  PetscCall(nn_signal_agreed(st->groups.group_comm, stop));
  if (st->stop_after && ++st->units >= st->stop_after) *stop = PETSC_TRUE;
  PetscFunctionReturn(0);
}

int64_t nn_stage_weights_crc32(NnStage st, const double *theta)
{
  return (int64_t)crc32_z(crc32(0L, Z_NULL, 0), (const Bytef *)theta, (z_size_t)st->N * sizeof(double));
}
