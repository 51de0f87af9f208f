#include "fixture.h"

PetscErrorCode hcase_create(MPI_Comm comm, HCaseOpts o, HCase *hc)
{
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsSetValue(NULL, "-data_format", "mixture"));
  PetscCall(PetscOptionsSetValue(NULL, "-synth_train", "64"));
  PetscCall(PetscOptionsSetValue(NULL, "-synth_val", "8"));
  PetscCall(PetscOptionsSetValue(NULL, "-synth_shape", o.shape ? o.shape : "2,6,6"));
  PetscCall(dataset_create(comm, &hc->ds));
  PetscCall(dataset_set_from_options(hc->ds));
  PetscCall(dataset_setup(hc->ds));
  PetscCall(net_create(comm, &hc->net));
  PetscCall(net_set_spec(hc->net, o.spec));
  PetscCall(net_set_loss(hc->net, o.loss));
  PetscCall(net_set_bias(hc->net, o.nobias ? PETSC_FALSE : PETSC_TRUE));
  PetscCall(net_set_init(hc->net, o.init, o.c > 0 ? o.c : 1, o.c > 0 ? o.c : 1)); /* std, c */
  const PetscInt m  = o.m ? o.m : 10;
  PetscInt c, h, w;
  PetscCall(dataset_get_shape(hc->ds, &c, &h, &w));
  PetscCall(net_setup(hc->net, c, h, w, m));
  PetscCall(net_get_size(hc->net, &hc->N));
  if (loss_is_multiclass(o.loss)) { /* the mixture's +-1 labels made classes (i * 7 + 3) mod K */
    const NnSamples *train;
    PetscInt         K;
    PetscCall(dataset_get_split(hc->ds, NN_SPLIT_TRAIN, &train));
    PetscCall(net_get_outputs(hc->net, &K));
    for (PetscInt i = 0; i < train->n; i++) train->label[i] = (double)((i * 7 + 3) % K);
  }
  PetscCall(hessian_create(hc->ds, hc->net, &hc->h));
  PetscCall(hessian_set_samples(hc->h, m, o.batch, 1));
  PetscCall(hessian_set_block(hc->h, o.kmax ? o.kmax : 3));
  PetscCall(hessian_set_precision(hc->h, o.precision));
  PetscCall(hessian_setup(hc->h));
  PetscCall(hessian_get_mat(hc->h, HESSIAN_FULL, &hc->H));
  PetscCall(PetscMalloc1(hc->N, &hc->theta));
  PetscCall(net_init_params(hc->net, hc->theta));
  PetscCall(hessian_set_point(hc->h, hc->theta));
  PetscFunctionReturn(0);
}

PetscErrorCode hcase_destroy(HCase *hc)
{
  PetscFunctionBeginUser;
  PetscCall(hessian_destroy(&hc->h));
  PetscCall(net_destroy(&hc->net));
  PetscCall(dataset_destroy(&hc->ds));
  PetscCall(PetscFree(hc->theta));
  PetscFunctionReturn(0);
}

void fill_normal(NnRngKey key, PetscInt n, double *a)
{
  for (PetscInt i = 0; i < n; i++) a[i] = nn_rng_normal(key, (uint64_t)i);
}

double max_abs(PetscInt n, const double *a)
{
  double m = 0;
  for (PetscInt i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
  return m;
}

PetscErrorCode mat_apply_replicated(Mat A, const double *v, PetscInt nout, double *y)
{
  Vec                x, b;
  PetscInt           lo, hi;
  const PetscScalar *ba;
  MPI_Comm           comm;
  PetscFunctionBeginUser;
  PetscCall(PetscObjectGetComm((PetscObject)A, &comm));
  PetscCall(MatCreateVecs(A, &x, &b));
  PetscCall(VecGetOwnershipRange(x, &lo, &hi));
  for (PetscInt i = lo; i < hi; i++) PetscCall(VecSetValue(x, i, v[i], INSERT_VALUES));
  PetscCall(VecAssemblyBegin(x));
  PetscCall(VecAssemblyEnd(x));
  PetscCall(MatMult(A, x, b));
  PetscCall(PetscArrayzero(y, nout));
  PetscCall(VecGetOwnershipRange(b, &lo, &hi));
  PetscCall(VecGetArrayRead(b, &ba));
  for (PetscInt i = lo; i < hi; i++) y[i] = ba[i - lo];
  PetscCall(VecRestoreArrayRead(b, &ba));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, y, (int)nout, MPI_DOUBLE, MPI_SUM, comm));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&b));
  PetscFunctionReturn(0);
}
