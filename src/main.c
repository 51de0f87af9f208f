/* nncas: train a network and measure its loss landscape.
 *
 *   mpiexec -n 2 nncas -options_file inputs/quickstart.opts
 *
 * Stages: data set -> network -> training (with checkpoints); later stages
 * (Hessian spectra, coupling statistics) hook into the training loop. Every
 * option is in PETSc's options database; -help lists them. */
#include "nncas/stages.h"
#include "nncas/version.h"
#include <slepcsys.h>

static const char help[] = "nncas " NNCAS_VERSION " (" NNCAS_GIT_HASH "): trains neural networks and measures their loss landscape.\n"
                           "Usage: mpiexec -n P nncas [-options_file FILE] [options]\n\n";

/* Options starting with these are nncas's own: one that no component read is a typo. */
static const char *const own_prefixes[] = {"data_",      "synth_",   "net_",    "train_",  "output_",
                                           "checkpoint_", "restart", "hessian_", "spectrum_", "dense_", "initscale", "coupling_", NULL};

typedef struct {
  Dataset ds;
  Net     net;
  Trainer        trainer;
  SpectrumStage  *spectrum;
  InitScaleStage *initscale;
  CouplingStage  *coupling;
  int            status; /* exit status on success paths */
} App;

/* Creates the components and reads their options (this is what -help lists). */
static PetscErrorCode app_configure(App *app)
{
  PetscFunctionBeginUser;
  PetscCall(dataset_create(PETSC_COMM_WORLD, &app->ds));
  PetscCall(dataset_set_from_options(app->ds));
  PetscCall(net_create(PETSC_COMM_WORLD, &app->net));
  PetscCall(net_set_from_options(app->net));
  PetscCall(trainer_create(app->ds, app->net, &app->trainer));
  PetscCall(trainer_set_from_options(app->trainer));
  PetscCall(spectrum_stage_create(app->ds, app->net, &app->spectrum));
  PetscCall(spectrum_stage_set_from_options(app->spectrum));
  PetscCall(initscale_stage_create(app->ds, app->net, &app->initscale));
  PetscCall(initscale_stage_set_from_options(app->initscale));
  PetscCall(coupling_stage_create(app->ds, app->net, &app->coupling));
  PetscCall(coupling_stage_set_from_options(app->coupling));
  PetscCall(nn_options_check_unknown(own_prefixes));
  PetscFunctionReturn(0);
}

static PetscErrorCode app_run(App *app)
{
  PetscMPIInt size;
  PetscInt    bloc;
  Trainer     t = app->trainer;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "nncas %s (%s) on %d MPI ranks\n", NNCAS_VERSION, NNCAS_GIT_HASH, (int)size));
  PetscCall(dataset_setup(app->ds));
  PetscCall(dataset_view(app->ds, PETSC_VIEWER_STDOUT_WORLD));
  bloc = (PetscMax(t->batch, t->eval_batch) + size - 1) / size;
  bloc = PetscMax(bloc, spectrum_stage_local_samples(app->spectrum, size));
  bloc = PetscMax(bloc, initscale_stage_local_samples(app->initscale, size));
  bloc = PetscMax(bloc, coupling_stage_local_samples(app->coupling, t->batch));
  PetscCall(net_setup(app->net, app->ds->c, app->ds->h, app->ds->w, bloc));
  PetscCall(net_view(app->net, PETSC_VIEWER_STDOUT_WORLD));
  PetscCall(trainer_setup(t));
  PetscCall(spectrum_stage_setup(app->spectrum));
  PetscCall(initscale_stage_setup(app->initscale));
  PetscCall(trainer_add_epoch_hook(t, "the initscale stage", initscale_stage_hook, app->initscale));
  PetscCall(trainer_add_epoch_hook(t, "the spectrum stage", spectrum_stage_hook, app->spectrum));
  PetscCall(coupling_stage_setup(app->coupling, t->batch));
  PetscCall(trainer_add_epoch_hook(t, "the coupling stage", coupling_stage_hook, app->coupling));
  PetscCall(trainer_train(t));
  if (t->diverged) app->status = NN_EXIT_DIVERGED;
  else if (t->preempted) app->status = NN_EXIT_PREEMPTED;
  else PetscCall(PetscPrintf(PETSC_COMM_WORLD, "Done. Checkpoint: %s\nResults:    %s\n", rundir_checkpoint_path(t->rundir), rundir_results_path(t->rundir)));
  PetscFunctionReturn(0);
}

static PetscErrorCode app_destroy(App *app)
{
  PetscFunctionBeginUser;
  PetscCall(coupling_stage_destroy(&app->coupling));
  PetscCall(initscale_stage_destroy(&app->initscale));
  PetscCall(spectrum_stage_destroy(&app->spectrum));
  PetscCall(trainer_destroy(&app->trainer));
  PetscCall(net_destroy(&app->net));
  PetscCall(dataset_destroy(&app->ds));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  App            app = {0};
  PetscBool      want_help;
  PetscErrorCode ierr;

  nn_signals_block(); /* a preemption signal during start-up must not kill the job */
  if (SlepcInitialize(&argc, &argv, NULL, help)) return NN_EXIT_ERROR;
  nn_signals_install();
  ierr = nn_error_handler_push();
  if (!ierr) ierr = nn_register_events();
  if (!ierr) ierr = nn_h5_init();
  if (!ierr) ierr = app_configure(&app);
  if (!ierr) ierr = PetscOptionsHasHelp(NULL, &want_help);
  if (!ierr && !want_help) ierr = app_run(&app);
  if (ierr && nn_divergence_marked() && app.trainer && app.trainer->running) {
    /* a Hessian product in a stage was not finite, on every rank alike */
    char what[sizeof app.trainer->diverged_what];
    PetscStrncpy(what, nn_error_last(), sizeof what);
    nn_error_clear();
    ierr = nn_h5_discard_open(); /* the stage's unfinished results file */
    if (!ierr) ierr = trainer_stage_diverged(app.trainer, what);
    if (!ierr) app.status = NN_EXIT_DIVERGED;
  }
  if (ierr) {
    nn_error_exit(ierr, 10.0);
    SlepcFinalize();
    return NN_EXIT_ERROR;
  }
  ierr = app_destroy(&app);
  if (SlepcFinalize() || ierr) return NN_EXIT_ERROR;
  return app.status;
}
