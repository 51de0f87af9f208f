/* The coupling stage (-coupling_every k): Algorithm 1 of App. E at epoch 0 and
 * every k epochs, into /coupling/epoch_EEEE: B draws (-coupling_draws) of row
 * and column index vectors i, j over [N]; for each of the n batches of an
 * epoch (the training split in batches of -train_batch, whole batches per
 * rank) the submatrix H_b[i, j]; the correlation coefficients of its N_b^2
 * entries (N_b = -coupling_nb, 100) and the skewness and excess kurtosis (N_b
 * = -coupling_nb_high, 10) counted above thresholds (Table 2's 0.4, 0.4, 1, or
 * from Algorithm 3 with -coupling_auto_thresholds), the counts per entry and
 * as exponents of N_b (Fig. 1f, 6), with a list -coupling_nb 10,20,50,100
 * the correlation counts at each N_b from nested draws and the exponent
 * fitted across them (coupling_nested.c), a uniformly sampled 100 x 100
 * correlation submatrix (Fig. 1d/e). The Monte Carlo null counts of
 * Algorithm 3 (Table 2, Fig. 5) go to /coupling/null once per run. */
#include "coupling_stage.h"

static PetscErrorCode coupling_stage_set_from_options(NnStage stage)
{
  CouplingStage *st      = (CouplingStage *)stage->data;
  PetscInt         nb_high = st->nb[STAT_SKEWNESS], knb = COUPLING_MAX_NB;
  PetscBool        set;
  HessianPrecision precision;
  PetscFunctionBeginUser;
  PetscOptionsBegin(stage->comm, NULL, "Coupling-set statistics (App. E)", NULL);
  PetscCall(PetscOptionsInt("-coupling_every", "Algorithm 1 at epoch 0 and every k epochs (0: never; the paper: 10)", NULL, st->every, &st->every, NULL));
  PetscCall(PetscOptionsInt("-coupling_draws", "bootstrap draws B of Algorithm 1 (the paper: 3)", NULL, st->draws, &st->draws, NULL));
  PetscCall(PetscOptionsIntArray("-coupling_nb",
                                 "N_b of the correlation coefficients (N_b^2 variables; App. E.4: 100); a list 10,20,50,100 counts at each from nested draws and fits the exponent of N_b (Sec. 5.1)",
                                 NULL, st->nbs, &knb, &set));
  if (set) st->knb = knb;
  PetscCall(PetscOptionsInt("-coupling_nb_high", "N_b of the skewness and excess kurtosis", NULL, nb_high, &nb_high, NULL));
  st->nb[STAT_SKEWNESS] = st->nb[STAT_KURTOSIS] = nb_high;
  PetscCall(PetscOptionsReal("-coupling_threshold_cc", "threshold of |correlation coefficient| (Table 2: 0.4)", NULL, st->thr[0], &st->thr[0], NULL));
  PetscCall(PetscOptionsReal("-coupling_threshold_skewness", "threshold of |skewness| (Table 2: 0.4)", NULL, st->thr[1], &st->thr[1], NULL));
  PetscCall(PetscOptionsReal("-coupling_threshold_kurtosis", "threshold of |excess kurtosis| (Table 2: 1)", NULL, st->thr[2], &st->thr[2], NULL));
  PetscCall(PetscOptionsBool("-coupling_calibrate", "Algorithm 3: Monte Carlo null counts at the thresholds (once per run)", NULL, st->calibrate, &st->calibrate, NULL));
  PetscCall(PetscOptionsBool("-coupling_auto_thresholds", "choose the thresholds by Algorithm 3 (null count <= target/100)", NULL, st->auto_thr, &st->auto_thr, NULL));
  PetscCall(PetscOptionsInt("-coupling_null_draws", "null samples of Algorithm 3 (Table 2: 5)", NULL, st->null_draws, &st->null_draws, NULL));
  PetscCall(PetscOptionsBool("-coupling_full_cc", "also write the whole correlation matrix of the first draw", NULL, st->full_cc, &st->full_cc, NULL));
  PetscCall(PetscOptionsInt("-coupling_submatrix", "size of the uniformly sampled correlation submatrix kept (Fig. 1d/e)", NULL, st->sub, &st->sub, NULL));
  PetscCall(PetscOptionsInt("-coupling_block", "Hessian columns computed per R-operator pass", NULL, st->kmax, &st->kmax, NULL));
  PetscCall(PetscOptionsInt("-coupling_seed", "seed of the index draws and the null samples", NULL, st->seed, &st->seed, NULL));
  PetscCall(hessian_get_precision(st->h, &precision));
  PetscCall(PetscOptionsEnum("-coupling_precision",
                             "precision of the network's passes for the per-batch Hessian entries: double, or single (float32 SGEMM; "
                             "the entries are kept and every statistic computed in double)",
                             "hessian_set_precision", HessianPrecisions, (PetscEnum)precision, (PetscEnum *)&precision, NULL));
  PetscOptionsEnd();
  PetscCall(hessian_set_precision(st->h, precision));
  PetscCheck(st->every >= 0 && st->draws > 0 && st->null_draws > 0 && st->kmax > 0, stage->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-coupling_every must be non-negative; -coupling_draws, -coupling_null_draws, -coupling_block positive");
  PetscCheck(st->knb > 0, stage->comm, PETSC_ERR_ARG_OUTOFRANGE, "-coupling_nb needs a value (or a list of at most %d)", COUPLING_MAX_NB);
  for (PetscInt k = 1; k < st->knb; k++)
    PetscCheck(st->nbs[k] > st->nbs[k - 1], stage->comm, PETSC_ERR_ARG_OUTOFRANGE, "-coupling_nb: the list must increase (%" PetscInt_FMT " after %" PetscInt_FMT ")",
               st->nbs[k], st->nbs[k - 1]);
  st->nb[STAT_CC] = st->nbs[st->knb - 1]; /* the draws' Hessian entries are those of the largest N_b */
  PetscCheck(st->nbs[0] > 1 && nb_high > 1, stage->comm, PETSC_ERR_ARG_OUTOFRANGE, "-coupling_nb and -coupling_nb_high must exceed 1");
  PetscCheck(st->sub >= 0 && st->sub <= st->nb[0] * st->nb[0], stage->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-coupling_submatrix must be at most -coupling_nb squared");
  PetscFunctionReturn(0);
}

static PetscErrorCode coupling_stage_local_samples(NnStage stage, PetscInt train_batch, PetscInt *nlocal)
{
  CouplingStage *st = (CouplingStage *)stage->data;
  PetscFunctionBeginUser;
  *nlocal = st->every ? train_batch : 0;
  PetscFunctionReturn(0);
}

/* The weight layers' ranges in theta, for the counts by layer block. */
static PetscErrorCode coupling_stage_layers(CouplingStage *st, Net net)
{
  NnParamGroup pg;
  PetscFunctionBeginUser;
  PetscCall(net_get_num_param_groups(net, &st->L));
  PetscCall(PetscMalloc2(st->L, &st->layer_off, st->L, &st->layer_len));
  for (PetscInt l = 0; l < st->L; l++) {
    PetscCall(net_get_param_group(net, l, &pg));
    PetscCheck(!pg.nbias || pg.boff == pg.woff + pg.nw, st->comm, PETSC_ERR_PLIB, "layer %s: bias not after its weight", pg.name);
    st->layer_off[l] = pg.woff, st->layer_len[l] = pg.nw + pg.nbias;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode coupling_stage_setup(NnStage stage, PetscInt train_batch)
{
  CouplingStage   *st = (CouplingStage *)stage->data;
  const NnSamples *train;
  PetscInt         n;
  PetscMPIInt      size;
  PetscFunctionBeginUser;
  if (!st->every) PetscFunctionReturn(0);
  PetscCall(dataset_get_split(stage->ds, NN_SPLIT_TRAIN, &train));
  n = (train->n + train_batch - 1) / train_batch;
  PetscCallMPI(MPI_Comm_size(stage->comm, &size));
  /* the whole training split: n = ceil(m / batch) batches */
  PetscCall(hessian_set_samples(st->h, train->n, train_batch, st->seed));
  PetscCall(hessian_set_block(st->h, st->kmax));
  PetscCall(nn_stage_group_hessian(stage, st->h, &st->hg)); /* the same batches, on this rank's group */
  st->groups = stage->groups;
  PetscCheck(n >= size, stage->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-coupling_every: %" PetscInt_FMT " batches for %d ranks; each rank needs a whole batch", n, (int)size);
  for (int k = 0; k < 2; k++)
    PetscCheck(st->nb[k] <= stage->N, stage->comm, PETSC_ERR_ARG_OUTOFRANGE, "-coupling_nb%s %" PetscInt_FMT " exceeds N = %" PetscInt_FMT,
               k ? "_high" : "", st->nb[k], stage->N);
  PetscCall(hessian_setup(st->h));
  if (st->hg) {
    PetscCall(hessian_setup(st->hg));
    PetscCall(PetscPrintf(stage->comm, "[coupling] %" PetscInt_FMT " rank groups, each with its own copy of the Hessian: the draws' per-batch entries side by side\n",
                          st->groups.n));
  }
  PetscCall(hessian_get_samples(st->h, NULL, NULL, &st->nbatches));
  st->N = stage->N; /* known once the net is set up */
  PetscCall(coupling_stage_layers(st, stage->net));
  st->batch = train_batch;
  PetscFunctionReturn(0);
}

static PetscBool coupling_stage_due(NnStage stage, PetscInt epoch)
{
  CouplingStage *st = (CouplingStage *)stage->data;
  return st->every && epoch % st->every == 0 ? PETSC_TRUE : PETSC_FALSE;
}

static PetscErrorCode coupling_stage_run(NnStage stage, PetscInt epoch, const double *theta, RunDir rd, PetscBool *stopped)
{
  CouplingStage *st = (CouplingStage *)stage->data;
  NnH5File       *f;
  DrawRecord     rec[3];
  char           g[96];
  double         t0 = nn_wtime();
  PetscFunctionBeginUser;
  if (st->calibrate && !st->calibrated) PetscCall(coupling_calibrate(st, rd));
  PetscCall(PetscPrintf(stage->comm, "[coupling] epoch %" PetscInt_FMT ": %d draws over %" PetscInt_FMT " batches of %" PetscInt_FMT "\n", epoch,
                        (int)st->draws, st->nbatches, st->batch));
  PetscCall(hessian_set_point(st->h, theta));
  if (st->hg) PetscCall(hessian_set_point(st->hg, theta));
  PetscCall(coupling_progress_start(st, epoch, theta, rd));
  for (int k = 0; k < 3; k++) PetscCall(coupling_record_alloc(st->draws, st->nb[k], k ? 0 : st->knb, k ? 0 : st->L, &rec[k]));
  PetscCall(PetscSNPrintf(g, sizeof g, "/coupling/epoch_%04d", (int)epoch));
  PetscCall(rundir_results_create(rd, g, &f));
  PetscCall(nn_h5_group(f, g));
  for (PetscInt d0 = 0, d1, d; d0 < st->draws && !*stopped; d0 = d1) { /* a round: with rank groups, one draw's entries per group */
    const PetscInt w = nn_rank_groups_round(&st->groups, d0, st->draws, &d);
    d1 = d0 + w;
    if (w > 1) PetscCall(coupling_round_entries(st, epoch, d0, d1, d, stopped));
    for (PetscInt e = d0; e < d1 && !*stopped; e++) {
      PetscCall(coupling_draw(st, epoch, f, e, PETSC_FALSE, rec, stopped));
      if (!*stopped) PetscCall(coupling_draw(st, epoch, f, e, PETSC_TRUE, rec, stopped));
    }
  }
  if (*stopped) { /* no results: they are computed again, from the saved entries, by the run that finishes */
    for (int k = 0; k < 3; k++) PetscCall(coupling_record_free(&rec[k]));
    PetscCall(rundir_results_discard(rd));
    PetscCall(coupling_progress_save(st, epoch, theta, rd));
    PetscCall(coupling_progress_end(st, rd, PETSC_FALSE));
    PetscFunctionReturn(0);
  }
  for (int k = 0; k < 3; k++) {
    char gk[128];
    PetscCall(PetscSNPrintf(gk, sizeof gk, "%s/%s", g, NnStatNames[k]));
    PetscCall(coupling_record_write(st, f, gk, k, &rec[k]));
    PetscCall(coupling_record_free(&rec[k]));
  }
  PetscCall(nn_h5_attr_int64(f, g, "epoch", epoch));
  PetscCall(nn_h5_attr_int64(f, g, "n", st->nbatches));
  PetscCall(nn_h5_attr_int64(f, g, "batch", st->batch));
  PetscCall(nn_h5_attr_int64(f, g, "draws", st->draws));
  PetscCall(nn_h5_attr_int64(f, g, "N", stage->N));
  PetscCall(nn_stage_write_hessian_samples(stage, st->h, f, g, PETSC_TRUE)); /* the batches' samples */
  PetscCall(nn_h5_attr_string(f, "/coupling", "description", "coupling-set statistics of Hessian entries (App. E), one group per epoch"));
  PetscCall(rundir_results_commit(rd));
  PetscCall(coupling_progress_end(st, rd, PETSC_TRUE));
  PetscCall(PetscPrintf(stage->comm, "[coupling] epoch %" PetscInt_FMT " done in %.1fs\n", epoch, nn_wtime() - t0));
  PetscFunctionReturn(0);
}

static PetscErrorCode coupling_stage_destroy(NnStage stage)
{
  CouplingStage *st = (CouplingStage *)stage->data;
  PetscFunctionBeginUser;
  PetscCall(hessian_destroy(&st->h));
  PetscCall(hessian_destroy(&st->hg));
  PetscCall(PetscFree2(st->layer_off, st->layer_len));
  PetscCall(PetscFree(stage->data));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_stage_create_coupling(NnStage stage)
{
  CouplingStage *s;
  PetscFunctionBeginUser;
  PetscCall(PetscNew(&s));
  s->draws = 3, s->null_draws = 5, s->seed = 1, s->kmax = 16, s->sub = 100;
  s->nbs[0] = s->nb[STAT_CC] = 100, s->knb = 1, s->nb[STAT_SKEWNESS] = s->nb[STAT_KURTOSIS] = 10;
  s->thr[STAT_CC] = 0.4, s->thr[STAT_SKEWNESS] = 0.4, s->thr[STAT_KURTOSIS] = 1.0; /* Table 2 */
  s->calibrate = PETSC_TRUE;
  PetscCall(hessian_create(stage->ds, stage->net, &s->h));
  s->comm      = stage->comm;
  s->stage     = stage;
  stage->data  = s;
  stage->title = "the coupling stage";
  stage->ops   = (NnStageOps){coupling_stage_set_from_options, coupling_stage_local_samples, coupling_stage_setup,
                              coupling_stage_due, coupling_stage_run, coupling_stage_destroy};
  PetscFunctionReturn(0);
}
