/* The checkpoint fuzz targets' fixture (see checkpoint_fixture.h). */
#include "checkpoint_fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static PetscErrorCode fixture_run(NnCkptFixture *fx, const char *outdir)
{
  double   row[NN_EPOCH_NCOLS > NN_STEP_NCOLS ? NN_EPOCH_NCOLS : NN_STEP_NCOLS];
  RunDir   rd;
  NnTable *hist, *steps;
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsSetValue(NULL, "-data_format", "mixture"));
  PetscCall(PetscOptionsSetValue(NULL, "-synth_train", "24"));
  PetscCall(PetscOptionsSetValue(NULL, "-synth_val", "8"));
  PetscCall(PetscOptionsSetValue(NULL, "-synth_shape", "1,6,6"));
  PetscCall(dataset_create(PETSC_COMM_SELF, &fx->ds));
  PetscCall(dataset_set_from_options(fx->ds));
  PetscCall(dataset_setup(fx->ds));
  PetscCall(net_create(PETSC_COMM_SELF, &fx->net));
  PetscCall(net_set_spec(fx->net, "conv:2:3,relu,pool:2,dense:3,bn,relu,dense:1"));
  PetscCall(net_setup(fx->net, fx->ds->c, fx->ds->h, fx->ds->w, 8));
  PetscCall(trainer_create(fx->ds, fx->net, &fx->t));
  PetscCall(trainer_set_batch_sizes(fx->t, 8, 0));
  PetscCall(trainer_set_overwrite(fx->t, PETSC_TRUE));
  PetscCall(trainer_get_rundir(fx->t, &rd));
  PetscCall(rundir_set_path(rd, outdir));
  PetscCall(trainer_setup(fx->t));
  /* the state after two epochs and one step of the third, with recorded steps */
  PetscCall(trainer_testing_get_records(fx->t, &hist, &steps));
  for (int k = 0; k < NN_EPOCH_NCOLS; k++) row[k] = 0.5 + k;
  PetscCall(table_append(hist, row));
  PetscCall(table_append(hist, row));
  for (int k = 0; k < NN_STEP_NCOLS; k++) row[k] = k;
  for (int s = 0; s < 7; s++) PetscCall(table_append(steps, row));
  PetscCall(trainer_testing_set_position(fx->t, 2, 1, 7, 3.5, 6, 8));
  PetscCall(trainer_checkpoint_write(fx->t, nn_fuzz_path("base.h5")));
  PetscFunctionReturn(0);
}

void nn_ckpt_fixture_init(NnCkptFixture *fx)
{
  const char *out = nn_fuzz_path("out"); /* trainer_setup makes the directory, removed at exit */
  FILE       *f;
  long        n = 0;
  nn_fuzz_init();
  if (fixture_run(fx, out)) nn_fuzz_fail("cannot make the fixture's checkpoint");
  f = fopen(nn_fuzz_path("base.h5"), "rb");
  if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET)) nn_fuzz_fail("cannot read the checkpoint");
  fx->nbase = (size_t)n;
  fx->base  = malloc(fx->nbase);
  if (!fx->base || fread(fx->base, 1, fx->nbase, f) != fx->nbase) nn_fuzz_fail("cannot read the checkpoint");
  fclose(f);
  if (trainer_checkpoint_read(fx->t, nn_fuzz_path("base.h5"))) nn_fuzz_fail("the fixture's own checkpoint does not read back");
  nn_ckpt_check_restored(fx);
}

void nn_ckpt_check_restored(const NnCkptFixture *fx)
{
  const Trainer  t      = fx->t;
  const PetscInt nsteps = (t->ds->train.n + t->batch - 1) / t->batch;
  if (t->epoch < 0 || t->step < 0 || t->step > nsteps || t->global_step < 0)
    nn_fuzz_fail("checkpoint_read accepted an impossible epoch or step");
  if (t->hist.n != t->epoch || t->steps.n > t->global_step) nn_fuzz_fail("checkpoint_read accepted inconsistent histories");
  if (!isfinite(t->acc_loss) || !(t->acc_n >= 0) || !(t->acc_correct >= 0) || !(t->epoch_seconds >= 0))
    nn_fuzz_fail("checkpoint_read accepted impossible running sums");
  for (PetscInt i = 0; i < t->net->N; i++)
    if (!isfinite(t->theta[i])) nn_fuzz_fail("checkpoint_read accepted non-finite weights");
  for (PetscInt i = 0; i < t->counts[t->rank]; i++)
    if (!isfinite(t->velocity[i])) nn_fuzz_fail("checkpoint_read accepted a non-finite momentum");
}
