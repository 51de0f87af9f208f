/* The coupling stage (-coupling_every k): Algorithm 1 of App. E (the Coupling
 * object, include/nncas/coupling.h) at epoch 0 and every k epochs, into
 * /coupling/epoch_EEEE, on the per-batch Hessians of the training split in
 * batches of -train_batch (whole batches per rank); Algorithm 3's null
 * counts into /coupling/null once per run. The stage schedules: it owns the
 * Hessians (on all ranks, and with -stage_groups on this rank's group), the
 * results parts and the progress file of a stopped run. */
#include "stageimpl.h"
#include "nncas/coupling.h"

typedef struct {
  PetscInt  every, kmax;
  PetscBool calibrate, calibrated;
  PetscInt  batch;    /* the training mini-batch: one per-batch Hessian per batch */
  PetscInt  nbatches; /* n: batches of the training split (after setup) */
  Hessian   h;
  Hessian   hg;       /* with -stage_groups: h's copy on this rank's group */
  Coupling  cp;
  NnStage   stage;    /* for the polls between batches */
} CouplingStage;

static PetscErrorCode coupling_stage_set_from_options(NnStage stage)
{
  CouplingStage   *st = (CouplingStage *)stage->data;
  HessianPrecision precision;
  PetscFunctionBeginUser;
  PetscCall(hessian_get_precision(st->h, &precision));
  PetscOptionsBegin(stage->comm, NULL, "Coupling stage", NULL);
  PetscCall(PetscOptionsInt("-coupling_every", "Algorithm 1 at epoch 0 and every k epochs (0: never; the paper: 10)", NULL, st->every, &st->every, NULL));
  PetscCall(PetscOptionsBool("-coupling_calibrate", "Algorithm 3: Monte Carlo null counts at the thresholds (once per run)", NULL, st->calibrate, &st->calibrate, NULL));
  PetscCall(PetscOptionsInt("-coupling_block", "Hessian columns computed per R-operator pass", NULL, st->kmax, &st->kmax, NULL));
  PetscCall(PetscOptionsEnum("-coupling_precision",
                             "precision of the network's passes for the per-batch Hessian entries: double, or single (float32 SGEMM; "
                             "the entries are kept and every statistic computed in double)",
                             "hessian_set_precision", HessianPrecisions, (PetscEnum)precision, (PetscEnum *)&precision, NULL));
  PetscOptionsEnd();
  PetscCall(hessian_set_precision(st->h, precision));
  PetscCheck(st->every >= 0 && st->kmax > 0, stage->comm, PETSC_ERR_ARG_OUTOFRANGE, "-coupling_every must be non-negative; -coupling_block positive");
  PetscCall(coupling_set_from_options(st->cp));
  PetscFunctionReturn(0);
}

static PetscErrorCode coupling_stage_local_samples(NnStage stage, PetscInt train_batch, PetscInt *nlocal)
{
  CouplingStage *st = (CouplingStage *)stage->data;
  PetscFunctionBeginUser;
  *nlocal = st->every ? train_batch : 0;
  PetscFunctionReturn(0);
}

static PetscErrorCode poll_stage(void *ctx, PetscBool *stop)
{
  PetscFunctionBeginUser;
  PetscCall(nn_stage_poll_stop((NnStage)ctx, stop));
  PetscFunctionReturn(0);
}

static PetscErrorCode poll_group(void *ctx, PetscBool *stop)
{
  PetscFunctionBeginUser;
  PetscCall(nn_stage_poll_stop_group((NnStage)ctx, stop));
  PetscFunctionReturn(0);
}

/* The Coupling's entries: every batch's H_b[i, j], on all ranks or on this rank's group. */
static PetscErrorCode coupling_stage_entries(void *ctx, PetscBool group, PetscInt ni, const PetscInt *i, PetscInt nj, const PetscInt *j,
                                             const char *what, PetscBool *done, double *all, PetscBool *stopped)
{
  CouplingStage *st = (CouplingStage *)ctx;
  PetscFunctionBeginUser;
  PetscCall(hessian_entries_resumable(group ? st->hg : st->h, ni, i, nj, j, what, group ? poll_group : poll_stage, st->stage, done, all, stopped));
  PetscFunctionReturn(0);
}

/* The problem of the Coupling: N, the batches and the weight layers' ranges in theta (the counts by layer block). */
static PetscErrorCode coupling_stage_problem(CouplingStage *st, NnStage stage)
{
  NnParamGroup pg;
  PetscInt     L, *off, *len;
  PetscFunctionBeginUser;
  PetscCall(net_get_num_param_groups(stage->net, &L));
  PetscCall(PetscMalloc2(L, &off, L, &len));
  for (PetscInt l = 0; l < L; l++) {
    PetscCall(net_get_param_group(stage->net, l, &pg));
    PetscCheck(!pg.nbias || pg.boff == pg.woff + pg.nw, stage->comm, PETSC_ERR_PLIB, "layer %s: bias not after its weight", pg.name);
    off[l] = pg.woff, len[l] = pg.nw + pg.nbias;
  }
  PetscCall(coupling_set_problem(st->cp, stage->N, st->nbatches, L, off, len));
  PetscCall(PetscFree2(off, len));
  PetscFunctionReturn(0);
}

static PetscErrorCode coupling_stage_setup(NnStage stage, PetscInt train_batch)
{
  CouplingStage   *st = (CouplingStage *)stage->data;
  const NnSamples *train;
  PetscInt         n, seed;
  PetscMPIInt      size;
  PetscFunctionBeginUser;
  if (!st->every) PetscFunctionReturn(0);
  PetscCall(dataset_get_split(stage->ds, NN_SPLIT_TRAIN, &train));
  n = (train->n + train_batch - 1) / train_batch;
  PetscCallMPI(MPI_Comm_size(stage->comm, &size));
  /* the whole training split: n = ceil(m / batch) batches */
  PetscCall(coupling_get_seed(st->cp, &seed));
  PetscCall(hessian_set_samples(st->h, train->n, train_batch, seed));
  PetscCall(hessian_set_block(st->h, st->kmax));
  PetscCall(nn_stage_group_hessian(stage, st->h, &st->hg)); /* the same batches, on this rank's group */
  PetscCheck(n >= size, stage->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-coupling_every: %" PetscInt_FMT " batches for %d ranks; each rank needs a whole batch", n, (int)size);
  PetscCall(hessian_setup(st->h));
  if (st->hg) {
    PetscCall(hessian_setup(st->hg));
    PetscCall(PetscPrintf(stage->comm, "[coupling] %" PetscInt_FMT " rank groups, each with its own copy of the Hessian: the draws' per-batch entries side by side\n",
                          stage->groups.n));
  }
  PetscCall(hessian_get_samples(st->h, NULL, NULL, &st->nbatches));
  st->batch = train_batch;
  PetscCall(coupling_stage_problem(st, stage));
  PetscCall(coupling_set_entries(st->cp, coupling_stage_entries, st, st->hg ? &stage->groups : NULL));
  PetscCall(coupling_setup(st->cp));
  PetscFunctionReturn(0);
}

static PetscBool coupling_stage_due(NnStage stage, PetscInt epoch)
{
  CouplingStage *st = (CouplingStage *)stage->data;
  return st->every && epoch % st->every == 0 ? PETSC_TRUE : PETSC_FALSE;
}

/* Algorithm 3, once per run, into its results part /coupling/null. */
static PetscErrorCode coupling_stage_calibrate(CouplingStage *st, RunDir rd)
{
  NnH5File *f;
  PetscFunctionBeginUser;
  PetscCall(coupling_calibrate(st->cp));
  PetscCall(rundir_results_create(rd, "/coupling/null", &f));
  PetscCall(coupling_null_view(st->cp, f));
  PetscCall(rundir_results_commit(rd));
  st->calibrated = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* The entries a stopped run left at this epoch and weights
 * (OUTPUT_DIR/coupling_progress.h5; root attributes epoch and
 * weights_crc32, and the Coupling's settings). */
static PetscErrorCode coupling_stage_resume(CouplingStage *st, PetscInt epoch, const double *theta, RunDir rd)
{
  char      path[PETSC_MAX_PATH_LEN];
  NnH5File  f;
  PetscBool exists, match = PETSC_TRUE, has;
  int64_t   key[2] = {epoch, nn_stage_weights_crc32(st->stage, theta)}, v;
  const char *const names[2] = {"epoch", "weights_crc32"};
  PetscFunctionBeginUser;
  PetscCall(rundir_progress_path(rd, "coupling", path, sizeof path));
  PetscCall(nn_h5_file_exists(st->stage->comm, path, &exists));
  if (!exists) PetscFunctionReturn(0);
  PetscCall(nn_h5_open_read(st->stage->comm, path, &f));
  for (int k = 0; k < 2 && match; k++) {
    PetscCall(nn_h5_has_attr(&f, "/", names[k], &has));
    if (has) PetscCall(nn_h5_get_attr_int64(&f, "/", names[k], &v));
    match = has && v == key[k];
  }
  if (match) PetscCall(coupling_progress_read(st->cp, &f, &match));
  PetscCall(nn_h5_commit(&f));
  if (match) PetscCall(PetscPrintf(st->stage->comm, "[coupling] resuming from %s\n", path));
  else PetscCall(PetscPrintf(st->stage->comm, "[coupling] %s belongs to another run or epoch: not used\n", path));
  PetscFunctionReturn(0);
}

static PetscErrorCode coupling_stage_save(CouplingStage *st, PetscInt epoch, const double *theta, RunDir rd)
{
  char     path[PETSC_MAX_PATH_LEN];
  NnH5File f;
  PetscFunctionBeginUser;
  PetscCall(rundir_progress_path(rd, "coupling", path, sizeof path));
  PetscCall(nn_h5_create(st->stage->comm, path, &f));
  PetscCall(nn_h5_attr_int64(&f, "/", "epoch", epoch));
  PetscCall(nn_h5_attr_int64(&f, "/", "weights_crc32", nn_stage_weights_crc32(st->stage, theta)));
  PetscCall(coupling_progress_write(st->cp, &f));
  PetscCall(nn_h5_commit(&f));
  PetscCall(PetscPrintf(st->stage->comm, "[coupling] stopped: progress saved to %s\n", path));
  PetscFunctionReturn(0);
}

/* The draws' statistics, with the batches' samples, into the results part /coupling/epoch_EEEE. */
static PetscErrorCode coupling_stage_record(CouplingStage *st, NnStage stage, RunDir rd, PetscInt epoch)
{
  NnH5File *f;
  char      g[96];
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(g, sizeof g, "/coupling/epoch_%04d", (int)epoch));
  PetscCall(rundir_results_create(rd, g, &f));
  PetscCall(coupling_view(st->cp, f, g));
  PetscCall(nn_h5_attr_int64(f, g, "batch", st->batch));
  PetscCall(nn_stage_write_hessian_samples(stage, st->h, f, g, PETSC_TRUE)); /* the batches' samples */
  PetscCall(nn_h5_attr_string(f, "/coupling", "description", "coupling-set statistics of Hessian entries (App. E), one group per epoch"));
  PetscCall(rundir_results_commit(rd));
  PetscFunctionReturn(0);
}

static PetscErrorCode coupling_stage_run(NnStage stage, PetscInt epoch, const double *theta, RunDir rd, PetscBool *stopped)
{
  CouplingStage *st = (CouplingStage *)stage->data;
  char           path[PETSC_MAX_PATH_LEN];
  PetscInt       draws;
  double         t0 = nn_wtime();
  PetscFunctionBeginUser;
  if (st->calibrate && !st->calibrated) PetscCall(coupling_stage_calibrate(st, rd));
  PetscCall(coupling_get_draws(st->cp, &draws));
  PetscCall(PetscPrintf(stage->comm, "[coupling] epoch %" PetscInt_FMT ": %d draws over %" PetscInt_FMT " batches of %" PetscInt_FMT "\n", epoch,
                        (int)draws, st->nbatches, st->batch));
  PetscCall(hessian_set_point(st->h, theta));
  if (st->hg) PetscCall(hessian_set_point(st->hg, theta));
  PetscCall(coupling_epoch_begin(st->cp, epoch));
  PetscCall(coupling_stage_resume(st, epoch, theta, rd));
  PetscCall(coupling_compute(st->cp, stopped));
  if (*stopped) PetscCall(coupling_stage_save(st, epoch, theta, rd)); /* results are computed again, from the saved entries, by the run that finishes */
  else PetscCall(coupling_stage_record(st, stage, rd, epoch));
  PetscCall(coupling_epoch_end(st->cp));
  if (*stopped) PetscFunctionReturn(0);
  PetscCall(rundir_progress_path(rd, "coupling", path, sizeof path));
  PetscCall(rundir_remove(rd, path));
  PetscCall(PetscPrintf(stage->comm, "[coupling] epoch %" PetscInt_FMT " done in %.1fs\n", epoch, nn_wtime() - t0));
  PetscFunctionReturn(0);
}

static PetscErrorCode coupling_stage_destroy(NnStage stage)
{
  CouplingStage *st = (CouplingStage *)stage->data;
  PetscFunctionBeginUser;
  PetscCall(coupling_destroy(&st->cp));
  PetscCall(hessian_destroy(&st->h));
  PetscCall(hessian_destroy(&st->hg));
  PetscCall(PetscFree(stage->data));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_stage_create_coupling(NnStage stage)
{
  CouplingStage *s;
  PetscFunctionBeginUser;
  PetscCall(PetscNew(&s));
  s->kmax      = 16;
  s->calibrate = PETSC_TRUE;
  PetscCall(hessian_create(stage->ds, stage->net, &s->h));
  PetscCall(coupling_create(stage->comm, &s->cp));
  s->stage     = stage;
  stage->data  = s;
  stage->title = "the coupling stage";
  stage->ops   = (NnStageOps){coupling_stage_set_from_options, coupling_stage_local_samples, coupling_stage_setup,
                              coupling_stage_due, coupling_stage_run, coupling_stage_destroy};
  PetscFunctionReturn(0);
}
