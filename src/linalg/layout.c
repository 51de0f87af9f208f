/* PETSc layouts as the counts and displacements of MPI's v-collectives. */
#include "nncas/linalg.h"

#include <petscis.h> /* PetscLayout */

PetscErrorCode nn_layout_counts(MPI_Comm comm, PetscInt n, PetscMPIInt **counts, PetscMPIInt **displs, PetscInt *nlocal)
{
  PetscLayout     l;
  const PetscInt *r;
  PetscMPIInt     size;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscLayoutCreate(comm, &l));
  PetscCall(PetscLayoutSetSize(l, n));
  PetscCall(PetscLayoutSetBlockSize(l, 1));
  PetscCall(PetscLayoutSetUp(l));
  PetscCall(PetscLayoutGetRanges(l, &r));
  PetscCall(PetscMalloc2(size, counts, size, displs));
  for (PetscMPIInt q = 0; q < size; q++) (*counts)[q] = (PetscMPIInt)(r[q + 1] - r[q]), (*displs)[q] = (PetscMPIInt)r[q];
  if (nlocal) PetscCall(PetscLayoutGetLocalSize(l, nlocal));
  PetscCall(PetscLayoutDestroy(&l));
  PetscFunctionReturn(0);
}
