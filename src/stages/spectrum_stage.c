/* The spectrum stage (-spectrum_every k): at epoch 0 and every k epochs (and at
 * the end if k divides the epoch count), the Hessian of the fixed sample set
 * at the current weights: extreme eigenvalues, Lanczos density, trace,
 * Theorem 1 statistics, into /spectrum/epoch_EEEE of the results file. With
 * -hessian_dense also the dense Hessian's symmetry error and eigenvalues
 * (PDSYEVD) in .../dense. */
#include "stageimpl.h"

typedef struct {
  PetscInt  every;
  PetscBool dense, dense_matrix; /* -hessian_dense: also the dense Hessian (ScaLAPACK); -hessian_dense_matrix: write it */
  PetscInt  dense_max;          /* -hessian_dense_max: refuse larger N */
  PetscInt  dense_block;        /* -dense_block: ScaLAPACK's block size (0: the matrix's default) */
  PetscBool save_weights;       /* -spectrum_save_weights */
  MPI_Comm  comm;
  Net       net;
  Hessian   h;
  Hessian   hg;                 /* with -stage_groups: h's copy on this rank's group */
  Spectrum  sp;
} SpectrumStage;

static PetscErrorCode spectrum_stage_set_from_options(NnStage stage)
{
  SpectrumStage *st = (SpectrumStage *)stage->data;
  PetscFunctionBeginUser;
  PetscOptionsBegin(stage->comm, NULL, "Spectrum stage", NULL);
  PetscCall(PetscOptionsInt("-spectrum_every", "Hessian spectrum at epoch 0 and every k epochs (0: never)", NULL, st->every,
                            &st->every, NULL));
  PetscCall(PetscOptionsBool("-hessian_dense", "also assemble the dense Hessian (ScaLAPACK), check symmetry, all eigenvalues by PDSYEVD", NULL,
                             st->dense, &st->dense, NULL));
  PetscCall(PetscOptionsBool("-hessian_dense_matrix", "write the dense Hessian to the results file", NULL, st->dense_matrix,
                             &st->dense_matrix, NULL));
  PetscCall(PetscOptionsInt("-hessian_dense_max", "largest N the dense mode accepts", NULL, st->dense_max, &st->dense_max, NULL));
  /* read here, not by scamat_set_from_options when the matrix is made: every option is read before the work */
  PetscCall(PetscOptionsBoundedInt("-dense_block", "block size of the dense Hessian's block-cyclic layout (bounded by N; 0: 64)",
                                   NULL, st->dense_block, &st->dense_block, NULL, 0));
  PetscCall(PetscOptionsBool("-spectrum_save_weights",
                             "record the weights of each spectrum with it (8 N bytes each, in the spectrum's own file)",
                             NULL, st->save_weights, &st->save_weights, NULL));
  PetscOptionsEnd();
  PetscCheck(st->every >= 0, stage->comm, PETSC_ERR_ARG_OUTOFRANGE, "-spectrum_every must be non-negative");
  PetscCall(nn_stage_hessian_spectrum_options(st->h, st->sp));
  PetscFunctionReturn(0);
}

static PetscErrorCode spectrum_stage_local_samples(NnStage stage, PetscInt train_batch, PetscInt *nlocal)
{
  SpectrumStage *st = (SpectrumStage *)stage->data;
  PetscFunctionBeginUser;
  (void)train_batch;
  *nlocal = 0;
  if (st->every) PetscCall(nn_stage_hessian_local_samples(stage, st->h, nlocal));
  PetscFunctionReturn(0);
}

static PetscErrorCode spectrum_stage_setup(NnStage stage, PetscInt train_batch)
{
  SpectrumStage *st = (SpectrumStage *)stage->data;
  PetscFunctionBeginUser;
  (void)train_batch;
  if (!st->every) PetscFunctionReturn(0);
  PetscCheck(!st->dense || stage->N <= st->dense_max, stage->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-hessian_dense: N = %" PetscInt_FMT " exceeds -hessian_dense_max %" PetscInt_FMT " (the dense mode stores N^2 doubles)",
             stage->N, st->dense_max);
  PetscCall(nn_stage_group_hessian(stage, st->h, &st->hg));
  PetscCall(hessian_setup(st->h));
  PetscCall(hessian_view(st->h, PETSC_VIEWER_STDOUT_(stage->comm)));
  Mat H;
  PetscCall(hessian_get_mat(st->h, HESSIAN_FULL, &H));
  PetscCall(spectrum_set_operator(st->sp, H));
  PetscCall(nn_stage_group_spectrum(stage, st->hg, st->sp));
  PetscCall(spectrum_view(st->sp, PETSC_VIEWER_STDOUT_(stage->comm)));
  PetscFunctionReturn(0);
}

static PetscBool spectrum_stage_due(NnStage stage, PetscInt epoch)
{
  SpectrumStage *st = (SpectrumStage *)stage->data;
  return st->every && epoch % st->every == 0 ? PETSC_TRUE : PETSC_FALSE;
}

/* The dense Hessian: symmetry error, all eigenvalues, optionally the matrix, under group/dense. */
static PetscErrorCode spectrum_stage_dense(SpectrumStage *st, NnH5File *f, const char *group)
{
  ScaMat   A;
  PetscInt N;
  double  *w, sym;
  char     g[128], path[160];
  hsize_t  n;
  PetscFunctionBeginUser;
  PetscCall(net_get_size(st->net, &N));
  n = (hsize_t)N;
  PetscCall(scamat_create(st->comm, N, &A));
  if (st->dense_block) PetscCall(scamat_set_block_size(A, st->dense_block));
  PetscCall(hessian_dense_assemble(st->h, HESSIAN_FULL, A));
  PetscCall(scamat_symmetry_error(A, &sym));
  PetscCall(PetscMalloc1(N, &w));
  PetscCall(scamat_eigenvalues(A, w));
  PetscCall(PetscPrintf(st->comm, "[dense] ||H - H^T||_F/||H||_F %.2e; PDSYEVD lambda_min %.10e lambda_max %.10e\n", sym, w[0], w[N - 1]));
  PetscCall(PetscSNPrintf(g, sizeof g, "%s/dense", group));
  PetscCall(nn_h5_group(f, g));
  PetscCall(nn_h5_attr_double(f, g, "symmetry_error", sym));
  PetscCall(nn_h5_attr_string(f, g, "description", "dense Hessian assembled through the operator (ScaLAPACK); symmetry_error = ||H - H^T||_F / ||H||_F"));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/eigenvalues", g));
  PetscCall(nn_h5_write_double(f, path, 1, &n, w));
  PetscCall(nn_h5_describe(f, path, "1", "all eigenvalues of H, ascending (PDSYEVD)"));
  if (st->dense_matrix) {
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/H", g));
    PetscCall(scamat_write(A, f, path));
    PetscCall(nn_h5_describe(f, path, "1", "the Hessian, H[i][j] = d^2 R / dtheta_i dtheta_j"));
  }
  PetscCall(PetscFree(w));
  PetscCall(scamat_destroy(&A));
  PetscFunctionReturn(0);
}

/* The spectrum (and the dense Hessian) into group of the open results file. */
static PetscErrorCode spectrum_stage_record(SpectrumStage *st, NnH5File *f, const char *group, PetscInt epoch, double R)
{
  PetscInt nsamples, batch;
  PetscFunctionBeginUser;
  PetscCall(spectrum_write(st->sp, f, group));
  if (st->dense) PetscCall(spectrum_stage_dense(st, f, group));
  PetscCall(nn_h5_attr_int64(f, group, "epoch", epoch));
  PetscCall(nn_h5_attr_double(f, group, "risk", R));
  PetscCall(hessian_get_samples(st->h, &nsamples, &batch, NULL));
  PetscCall(nn_h5_attr_int64(f, group, "hessian_samples", nsamples));
  PetscCall(nn_h5_attr_int64(f, group, "hessian_batch", batch));
  PetscCall(nn_h5_attr_string(f, "/spectrum", "description",
                              "Hessian spectra of the risk on a fixed sample set, one group per epoch (weights after that many epochs)"));
  PetscFunctionReturn(0);
}

/* What the spectrum was taken on: the Hessian's samples and (-spectrum_save_weights) the weights. */
static PetscErrorCode spectrum_stage_provenance(NnStage stage, NnH5File *f, const char *group, const double *theta, RunDir rd)
{
  SpectrumStage *st = (SpectrumStage *)stage->data;
  char           g[96];
  PetscFunctionBeginUser;
  PetscCall(nn_stage_write_hessian_samples(stage, st->h, f, group, PETSC_FALSE));
  if (!st->save_weights) PetscFunctionReturn(0);
  PetscCall(PetscSNPrintf(g, sizeof g, "%s/weights", group));
  PetscCall(rundir_write_weights(rd, f, g, theta));
  PetscFunctionReturn(0);
}

static PetscErrorCode poll_stage(void *ctx, PetscBool *stop)
{
  PetscFunctionBeginUser;
  PetscCall(nn_stage_poll_stop((NnStage)ctx, stop));
  PetscFunctionReturn(0);
}

/* OUTPUT_DIR/spectrum_progress.h5: what a stopped spectrum had finished, for
 * epoch and the weights' CRC-32 (root attributes); a file of another epoch or
 * other weights is not used. */
static PetscErrorCode spectrum_stage_resume(NnStage stage, PetscInt epoch, const double *theta, RunDir rd)
{
  SpectrumStage *st = (SpectrumStage *)stage->data;
  char           path[PETSC_MAX_PATH_LEN];
  PetscBool      exists;
  int64_t        e = -1, crc = -1;
  NnH5File       f;
  PetscFunctionBeginUser;
  PetscCall(spectrum_reset(st->sp));
  PetscCall(rundir_progress_path(rd, "spectrum", path, sizeof path));
  PetscCall(nn_h5_file_exists(stage->comm, path, &exists));
  if (!exists) PetscFunctionReturn(0);
  PetscCall(nn_h5_open_read(stage->comm, path, &f));
  PetscCall(nn_h5_get_attr_int64(&f, "/", "epoch", &e));
  PetscCall(nn_h5_get_attr_int64(&f, "/", "weights_crc32", &crc));
  if (e == epoch && crc == nn_stage_weights_crc32(stage, theta)) {
    PetscCall(spectrum_progress_read(st->sp, &f, "/spectrum"));
    PetscCall(PetscPrintf(stage->comm, "[spectrum] resuming from %s\n", path));
  } else PetscCall(PetscPrintf(stage->comm, "[spectrum] %s belongs to another epoch or weights: not used\n", path));
  PetscCall(nn_h5_commit(&f));
  PetscFunctionReturn(0);
}

static PetscErrorCode spectrum_stage_save(NnStage stage, PetscInt epoch, const double *theta, RunDir rd)
{
  SpectrumStage *st = (SpectrumStage *)stage->data;
  char           path[PETSC_MAX_PATH_LEN];
  NnH5File       f;
  PetscFunctionBeginUser;
  PetscCall(rundir_progress_path(rd, "spectrum", path, sizeof path));
  PetscCall(nn_h5_create(stage->comm, path, &f));
  PetscCall(nn_h5_attr_int64(&f, "/", "epoch", epoch));
  PetscCall(nn_h5_attr_int64(&f, "/", "weights_crc32", nn_stage_weights_crc32(stage, theta)));
  PetscCall(spectrum_progress_write(st->sp, &f, "/spectrum"));
  PetscCall(nn_h5_commit(&f));
  PetscCall(PetscPrintf(stage->comm, "[spectrum] stopped: progress saved to %s\n", path));
  PetscFunctionReturn(0);
}

static PetscErrorCode spectrum_stage_run(NnStage stage, PetscInt epoch, const double *theta, RunDir rd, PetscBool *stopped)
{
  SpectrumStage *st = (SpectrumStage *)stage->data;
  double         R, mean_abs_dl, t0 = nn_wtime();
  PetscInt       nsamples;
  char           group[64], path[PETSC_MAX_PATH_LEN];
  NnH5File       *f;
  PetscFunctionBeginUser;
  PetscCall(hessian_get_samples(st->h, &nsamples, NULL, NULL));
  PetscCall(PetscPrintf(stage->comm, "[spectrum] epoch %" PetscInt_FMT ": Hessian on %" PetscInt_FMT " samples, N = %" PetscInt_FMT "\n", epoch,
                        nsamples, stage->N));
  PetscCall(hessian_set_point(st->h, theta));
  if (st->hg) PetscCall(hessian_set_point(st->hg, theta));
  PetscCall(hessian_risk(st->h, &R, NULL, &mean_abs_dl));
  PetscCall(spectrum_stage_resume(stage, epoch, theta, rd));
  PetscCall(spectrum_compute(st->sp, mean_abs_dl));
  PetscCall(spectrum_stopped(st->sp, stopped));
  if (*stopped) {
    PetscCall(spectrum_stage_save(stage, epoch, theta, rd));
    PetscFunctionReturn(0);
  }
  PetscCall(PetscSNPrintf(group, sizeof group, "/spectrum/epoch_%04d", (int)epoch));
  PetscCall(rundir_results_create(rd, group, &f));
  PetscCall(spectrum_stage_record(st, f, group, epoch, R));
  PetscCall(spectrum_stage_provenance(stage, f, group, theta, rd));
  PetscCall(rundir_results_commit(rd));
  PetscCall(rundir_progress_path(rd, "spectrum", path, sizeof path));
  PetscCall(rundir_remove(rd, path));
  PetscCall(PetscPrintf(stage->comm, "[spectrum] epoch %" PetscInt_FMT " done in %.1fs (risk %.5f)\n", epoch, nn_wtime() - t0, R));
  PetscFunctionReturn(0);
}

static PetscErrorCode spectrum_stage_destroy(NnStage stage)
{
  SpectrumStage *st = (SpectrumStage *)stage->data;
  PetscFunctionBeginUser;
  PetscCall(spectrum_destroy(&st->sp));
  PetscCall(hessian_destroy(&st->h));
  PetscCall(hessian_destroy(&st->hg));
  PetscCall(PetscFree(stage->data));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_stage_create_spectrum(NnStage stage)
{
  SpectrumStage *st;
  PetscFunctionBeginUser;
  PetscCall(PetscNew(&st));
  st->dense_max    = 20000;
  st->save_weights = PETSC_TRUE;
  st->comm      = stage->comm;
  st->net       = stage->net;
  PetscCall(hessian_create(stage->ds, stage->net, &st->h));
  PetscCall(spectrum_create(stage->comm, &st->sp));
  PetscCall(spectrum_set_poll(st->sp, poll_stage, stage));
  stage->data  = st;
  stage->title = "the spectrum stage";
  stage->ops   = (NnStageOps){spectrum_stage_set_from_options, spectrum_stage_local_samples, spectrum_stage_setup,
                              spectrum_stage_due, spectrum_stage_run, spectrum_stage_destroy};
  PetscFunctionReturn(0);
}
