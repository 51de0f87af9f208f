/* Rank groups (-stage_groups): the ranks of a communicator split into G
 * contiguous groups that work on independent units side by side, and the
 * exact sharing of each round's results. */
#include "nncas/core.h"

#include <string.h>

PetscErrorCode nn_rank_groups_create(MPI_Comm comm, PetscInt ngroups, NnRankGroups *g)
{
  PetscMPIInt rank, size;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCheck(ngroups >= 1 && ngroups <= size, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-stage_groups %" PetscInt_FMT ": between 1 and the number of ranks (%d)", ngroups, size);
  g->comm       = comm;
  g->n          = ngroups;
  g->index      = (PetscInt)(((long long)rank * ngroups) / size);
  g->group_comm = MPI_COMM_NULL;
  g->group_rank = 0;
  if (ngroups > 1) {
    PetscCallMPI(MPI_Comm_split(comm, (int)g->index, rank, &g->group_comm));
    PetscCallMPI(MPI_Comm_rank(g->group_comm, &g->group_rank));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode nn_rank_groups_destroy(NnRankGroups *g)
{
  PetscFunctionBeginUser;
  if (g->group_comm != MPI_COMM_NULL) PetscCallMPI(MPI_Comm_free(&g->group_comm));
  g->n = 1, g->index = 0, g->group_rank = 0;
  PetscFunctionReturn(0);
}

PetscInt nn_rank_groups_round(const NnRankGroups *g, PetscInt k0, PetscInt n, PetscInt *mine)
{
  const PetscInt w = g->n > 1 && n - k0 >= g->n ? g->n : 1;
  *mine            = w > 1 ? k0 + g->index : k0;
  return w;
}

PetscErrorCode nn_rank_groups_first_rank(const NnRankGroups *g, PetscInt index, PetscMPIInt *rank)
{
  PetscMPIInt size;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(g->comm, &size));
  *rank = (PetscMPIInt)(((long long)index * size + g->n - 1) / g->n); /* the least r with r G / P >= index */
  PetscFunctionReturn(0);
}

PetscErrorCode nn_rank_groups_share(const NnRankGroups *g, PetscInt k0, PetscInt k1, PetscInt n, MPI_Datatype t, void *buf)
{
  int      tsize;
  PetscInt mine = k0 + g->index;
  char    *b    = (char *)buf;
  PetscFunctionBeginUser;
  if (k1 - k0 <= 1) PetscFunctionReturn(0); /* a unit on all ranks */
  PetscCallMPI(MPI_Type_size(t, &tsize));
  for (PetscInt k = k0; k < k1; k++)
    if (k != mine || g->group_rank) memset(b + (size_t)k * n * tsize, 0, (size_t)n * tsize);
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, b + (size_t)k0 * n * tsize, (int)((k1 - k0) * n), t, MPI_SUM, g->comm));
  PetscFunctionReturn(0);
}
