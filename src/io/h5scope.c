/* Handle scopes, HDF5's error text, and agreement across ranks: the pieces
 * every other file of the HDF5 layer (h5impl.h) uses. */
#include "h5impl.h"

#include <stdio.h>

static herr_t h5_close(hid_t id)
{
  switch (H5Iget_type(id)) {
  case H5I_DATASPACE: return H5Sclose(id);
  case H5I_ATTR: return H5Aclose(id);
  case H5I_GENPROP_LST: return H5Pclose(id);
  case H5I_DATATYPE: return H5Tclose(id);
  case H5I_GROUP:
  case H5I_DATASET: return H5Oclose(id);
  default: return -1;
  }
}

hid_t h5_scope_add(H5Scope *s, hid_t id)
{
  if (id < 0) return id;
  if (s->n == H5_SCOPE_MAX) {
    h5_close(id);
    return H5I_INVALID_HID;
  }
  s->id[s->n++] = id;
  return id;
}

PetscErrorCode h5_scope_end(NnH5File *f, H5Scope *s, PetscErrorCode ierr)
{
  PetscBool failed = PETSC_FALSE;
  PetscFunctionBeginUser;
  while (s->n > 0)
    if (h5_close(s->id[--s->n]) < 0) failed = PETSC_TRUE;
  PetscCall(ierr);
  PetscCheck(!failed, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: cannot close an HDF5 object", f->path);
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------ errors -- */

static herr_t why_walk(unsigned n, const H5E_error2_t *e, void *ctx)
{
  if (n == 0 && e->desc) snprintf((char *)ctx, H5_WHY_LEN, " (HDF5: %s)", e->desc);
  return 0;
}

const char *h5_why(void)
{
  static char why[H5_WHY_LEN];
  why[0] = 0;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, why_walk, why);
  return why;
}

PetscErrorCode h5_agree(MPI_Comm comm, PetscBool here, char *why, PetscBool *any)
{
  PetscMPIInt rank, size, me, first;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  me = here ? rank : size;
  PetscCallMPI(MPI_Allreduce(&me, &first, 1, MPI_INT, MPI_MIN, comm));
  *any = first < size ? PETSC_TRUE : PETSC_FALSE;
  if (*any && why) PetscCallMPI(MPI_Bcast(why, H5_WHY_LEN, MPI_CHAR, first, comm));
  PetscFunctionReturn(0);
}

int h5_comm_rank(MPI_Comm comm)
{
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  return rank;
}

PetscErrorCode h5_bcast_status(MPI_Comm comm, int st[2])
{
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Bcast(st, 2, MPI_INT, 0, comm));
  PetscFunctionReturn(0);
}

hsize_t h5_dims_product(int n, const hsize_t *d)
{
  hsize_t p = 1;
  for (int i = 0; i < n; i++) p *= d[i];
  return p;
}
