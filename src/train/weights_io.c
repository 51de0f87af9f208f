/* The parameter tensors of a network as HDF5 datasets, in checkpoint.h5's
 * /weights layout (docs/files.md): group/Lii_kind/weight in PyTorch's shape
 * and group/Lii_kind/bias, each written or read by the ranks as flat ranges
 * of their owned slices of theta. Shared by the checkpoint (trainer_io.c) and
 * the weights a stage records (rundir_write_weights). */
#include "trainimpl.h"

PetscErrorCode nn_weights_for_each(Net net, NnH5File *f, const char *group, PetscBool writing, NnTensorFn fn, void *ctx)
{
  char     path[256];
  PetscInt ngroups;
  PetscFunctionBeginUser;
  PetscCall(net_get_num_param_groups(net, &ngroups));
  for (PetscInt g = 0; g < ngroups; g++) {
    NnParamGroup pg;
    hsize_t      dims[4], bdim;
    PetscCall(net_get_param_group(net, g, &pg));
    for (int k = 0; k < pg.ndims; k++) dims[k] = (hsize_t)pg.dims[k];
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s", group, pg.name));
    if (writing) PetscCall(nn_h5_group(f, path));
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s/weight", group, pg.name));
    PetscCall(fn(ctx, f, path, pg.ndims, dims, pg.woff, pg.nw));
    if (!pg.nbias) continue;
    bdim = (hsize_t)pg.nbias;
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s/bias", group, pg.name));
    PetscCall(fn(ctx, f, path, 1, &bdim, pg.boff, pg.nbias));
  }
  PetscFunctionReturn(0);
}

void nn_weights_owned_part(PetscInt lo, PetscInt hi, PetscInt off, PetscInt len, double *own, hsize_t *start, hsize_t *count,
                           double **ptr)
{
  PetscInt a = PetscMax(off, lo), b = PetscMin(off + len, hi);
  *start = (hsize_t)(b > a ? a - off : 0);
  *count = (hsize_t)(b > a ? b - a : 0);
  *ptr   = b > a ? own + (a - lo) : own;
}
