/* nncas: train a network and measure its loss landscape.
 *
 *   mpiexec -n 2 nncas -options_file inputs/quickstart.opts
 *
 * Stages: data set -> network -> training (with checkpoints); later stages
 * (Hessian spectra, coupling statistics) hook into the training loop. Every
 * option is in PETSc's options database; -help lists nncas's, -help all
 * PETSc's too, -version the versions (src/usage.c). An option that no
 * component reads stops the run before any work. Start-up and the exit
 * status: nn_initialize, nn_finalize (src/init/init.c). */
#include "nncas/spectrum.h"
#include "nncas/stage.h"
#include "nncas/trainer.h"
#include "nncas/version.h"
#include "usage.h"

#define NN_MAX_STAGES 8
typedef struct {
  Dataset ds;
  Net     net;
  Trainer trainer;
  NnStage stages[NN_MAX_STAGES]; /* one of each nn_stage_type, in order */
  int     nstages;
  int     status; /* the trainer's: NN_EXIT_OK, NN_EXIT_PREEMPTED or NN_EXIT_DIVERGED */
} App;

/* Creates the components and reads their options. */
static PetscErrorCode app_create(App *app)
{
  PetscFunctionBeginUser;
  PetscCall(dataset_create(PETSC_COMM_WORLD, &app->ds));
  PetscCall(dataset_set_from_options(app->ds));
  PetscCall(net_create(PETSC_COMM_WORLD, &app->net));
  PetscCall(net_set_from_options(app->net));
  PetscCall(trainer_create(app->ds, app->net, &app->trainer));
  PetscCall(trainer_set_from_options(app->trainer));
  for (app->nstages = 0; nn_stage_type(app->nstages); app->nstages++) {
    NnStage *st = &app->stages[app->nstages];
    PetscCheck(app->nstages < NN_MAX_STAGES, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "more than %d stage types", NN_MAX_STAGES);
    PetscCall(nn_stage_create(nn_stage_type(app->nstages), app->ds, app->net, st));
    PetscCall(nn_stage_set_from_options(*st));
  }
  PetscFunctionReturn(0);
}

/* The components with their options, and the records of PETSc's -help text
 * of them (under -help all PETSc prints it instead); before a run, an option
 * nothing read is refused. Every option is read here but those of the SLEPc
 * objects a spectrum makes when it runs, and those PetscFinalize reads. */
static PetscErrorCode app_configure(App *app, NnUsage usage, NnOptionRecords *known)
{
  PetscFunctionBeginUser;
  if (usage != NN_USAGE_HELP_PETSC) PetscCall(nn_options_record_begin());
  PetscCall(app_create(app));
  if (usage == NN_USAGE_HELP_PETSC) PetscFunctionReturn(0);
  PetscCall(nn_options_record_end(known));
  if (usage == NN_USAGE_RUN) PetscCall(nn_options_check_unknown(known, spectrum_options_read_later()));
  PetscFunctionReturn(0);
}

/* The trainer's epoch hook of a stage: the weights after `epoch` epochs. */
static PetscErrorCode app_run_stage(void *ctx, PetscInt epoch, const double *theta, RunDir rd, PetscBool *stopped)
{
  PetscFunctionBeginUser;
  PetscCall(nn_stage_run((NnStage)ctx, epoch, theta, rd, stopped));
  PetscFunctionReturn(0);
}

/* Samples per rank the network's passes need: training, evaluation, every stage. */
static PetscErrorCode app_local_samples(App *app, PetscInt *bloc)
{
  PetscInt    batch, eval_batch;
  PetscMPIInt size;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(trainer_get_batch_sizes(app->trainer, &batch, &eval_batch));
  *bloc = (PetscMax(batch, eval_batch) + size - 1) / size;
  for (int k = 0; k < app->nstages; k++) {
    PetscInt n;
    PetscCall(nn_stage_local_samples(app->stages[k], batch, &n));
    *bloc = PetscMax(*bloc, n);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode app_run(App *app)
{
  PetscMPIInt size;
  PetscInt    bloc = 0, batch, c, h, w;
  Trainer     t = app->trainer;
  RunDir      rd;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "nncas %s (%s) on %d MPI ranks, OpenBLAS kernels %s", NNCAS_VERSION, NNCAS_GIT_HASH, (int)size,
                        nn_blas_core()));
  if (nn_blas_replaced()) /* src/core/blas.c */
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, " (OPENBLAS_CORETYPE set by nncas: OpenBLAS chose its generic %s kernels)", nn_blas_replaced()));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "\n"));
  PetscCall(dataset_setup(app->ds));
  PetscCall(dataset_view(app->ds, PETSC_VIEWER_STDOUT_WORLD));
  PetscCall(app_local_samples(app, &bloc));
  PetscCall(dataset_get_shape(app->ds, &c, &h, &w));
  PetscCall(net_setup(app->net, c, h, w, bloc));
  PetscCall(net_view(app->net, PETSC_VIEWER_STDOUT_WORLD));
  PetscCall(trainer_setup(t));
  PetscCall(trainer_get_batch_sizes(t, &batch, NULL));
  for (int k = 0; k < app->nstages; k++) {
    PetscCall(nn_stage_setup(app->stages[k], batch));
    PetscCall(trainer_add_epoch_hook(t, nn_stage_title(app->stages[k]), app_run_stage, app->stages[k]));
  }
  PetscCall(trainer_train(t));
  PetscCall(trainer_get_exit_status(t, &app->status));
  PetscCall(trainer_get_rundir(t, &rd));
  if (app->status == NN_EXIT_OK)
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "Done. Checkpoint: %s\nResults:    %s\n", rundir_checkpoint_path(rd), rundir_results_path(rd)));
  PetscFunctionReturn(0);
}

static PetscErrorCode app_destroy(App *app)
{
  PetscFunctionBeginUser;
  for (int k = app->nstages - 1; k >= 0; k--) PetscCall(nn_stage_destroy(&app->stages[k]));
  PetscCall(trainer_destroy(&app->trainer));
  PetscCall(net_destroy(&app->net));
  PetscCall(dataset_destroy(&app->ds));
  PetscFunctionReturn(0);
}

/* The versions, the short help or the run, as the command line asks. */
static PetscErrorCode app_main(App *app, NnUsage usage)
{
  NnOptionRecords known = {0};
  PetscFunctionBeginUser;
  if (usage == NN_USAGE_VERSION) {
    PetscCall(nn_usage_version());
    PetscFunctionReturn(0);
  }
  PetscCall(app_configure(app, usage, &known));
  if (usage == NN_USAGE_HELP) PetscCall(nn_usage_help(&known));
  if (usage == NN_USAGE_RUN) PetscCall(app_run(app));
  PetscCall(app_destroy(app));
  PetscCall(nn_options_records_destroy(&known));
  PetscFunctionReturn(0);
}

/* Start-up and the end, the mode of the command line and the exit status:
 * nn_initialize and nn_finalize (src/init/init.c). */
int main(int argc, char **argv)
{
  App            app = {0};
  NnUsage        usage;
  PetscErrorCode ierr;
  if (nn_initialize(&argc, &argv, nn_usage_intro, &usage)) return NN_EXIT_ERROR;
  ierr = app_main(&app, usage);
  return nn_finalize(ierr, app.status);
}
