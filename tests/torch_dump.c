/* For the PyTorch cross-check (tests/python/test_torch_crosscheck.py): writes
 * a checkpoint of freshly initialised weights to -output_dir, and to
 * -dump_file the first -dump_batch validation samples, their labels, the
 * network's outputs and the gradient of the mean loss over them, computed
 * with the batch split across the ranks (BN statistics shared). */
#include "nncas/trainer.h"
#include "nncas/init.h"
/* white-box: the trainer's weights and run directory, the data and the net, read */
#include "train/trainimpl.h"
#include "data/datasetimpl.h"
#include "net/netimpl.h"

static PetscErrorCode dump(void)
{
  Dataset     ds;
  Net         net;
  Trainer     t;
  char        file[PETSC_MAX_PATH_LEN] = "dump.h5";
  PetscInt    B = 16, lo, hi;
  PetscMPIInt size;
  NnH5File    f;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-dump_file", file, sizeof file, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-dump_batch", &B, NULL));
  PetscCall(dataset_create(PETSC_COMM_WORLD, &ds));
  PetscCall(dataset_set_from_options(ds));
  PetscCall(net_create(PETSC_COMM_WORLD, &net));
  PetscCall(net_set_from_options(net));
  PetscCall(trainer_create(ds, net, &t));
  PetscCall(trainer_set_from_options(t));
  PetscCall(dataset_setup(ds));
  PetscCheck(B <= ds->val.n, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE, "-dump_batch exceeds the validation split");
  PetscCall(trainer_set_batch_sizes(t, B, B));
  PetscCall(net_setup(net, ds->c, ds->h, ds->w, B));
  PetscCall(trainer_setup(t));
  PetscCall(trainer_checkpoint_write(t, rundir_checkpoint_path(t->rundir)));

  const PetscInt F = ds->c * ds->h * ds->w;
  double        *x, *y, *out, *dl, *grad;
  PetscInt      *ids;
  PetscCall(PetscMalloc6((size_t)B * F, &x, B, &y, B, &out, B, &dl, net->N, &grad, B, &ids));
  for (PetscInt i = 0; i < B; i++) ids[i] = i;
  const NnSamples *val;
  PetscCall(dataset_get_split(ds, NN_SPLIT_VAL, &val));
  PetscCall(dataset_fill_batch(ds, val, B, ids, PETSC_FALSE, 0, x, y));
  trainer_batch_slice(t, B, &lo, &hi);
  NnPass p = {.B = hi - lo, .Bglobal = B, .batch_comm = PETSC_COMM_WORLD, .train = PETSC_FALSE};
  PetscCall(net_forward(net, &p, t->theta, x + lo * F, out + lo));
  loss_eval(net->loss, hi - lo, 1, out + lo, y + lo, NULL, dl, NULL);
  for (PetscInt i = 0; i < hi - lo; i++) dl[i] /= B; /* R = mean loss */
  PetscCall(PetscArrayzero(grad, net->N));
  PetscCall(net_backward(net, &p, t->theta, dl, grad));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, grad, (int)net->N, MPI_DOUBLE, MPI_SUM, PETSC_COMM_WORLD));
  PetscMPIInt *cnt, *dsp;
  PetscCall(PetscMalloc2(size, &cnt, size, &dsp));
  for (PetscMPIInt r = 0; r < size; r++) dsp[r] = (PetscMPIInt)(B * r / size), cnt[r] = (PetscMPIInt)(B * (r + 1) / size) - dsp[r];
  PetscCallMPI(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, out, cnt, dsp, MPI_DOUBLE, PETSC_COMM_WORLD));

  hsize_t dx[4] = {(hsize_t)B, (hsize_t)ds->c, (hsize_t)ds->h, (hsize_t)ds->w}, db = (hsize_t)B, dn = (hsize_t)net->N;
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, file, &f));
  PetscCall(nn_h5_write_double(&f, "/x", 4, dx, x));
  PetscCall(nn_h5_write_double(&f, "/y", 1, &db, y));
  PetscCall(nn_h5_write_double(&f, "/out", 1, &db, out));
  PetscCall(nn_h5_write_double(&f, "/grad", 1, &dn, grad));
  PetscCall(nn_h5_commit(&f));
  PetscCall(PetscFree2(cnt, dsp));
  PetscCall(PetscFree6(x, y, out, dl, grad, ids));
  PetscCall(trainer_destroy(&t));
  PetscCall(net_destroy(&net));
  PetscCall(dataset_destroy(&ds));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr;
  if (nn_initialize(&argc, &argv, NULL, NULL)) return NN_EXIT_ERROR;
  ierr = dump();
  return nn_finalize(ierr, NN_EXIT_OK);
}
