/* The spectrum stage: the Hessian of the fixed sample set at the current
 * weights, its spectrum and statistics, recorded per epoch. */
#include "nncas/stages.h"

PetscErrorCode spectrum_stage_create(Dataset ds, Net net, SpectrumStage **st)
{
  SpectrumStage *s;
  PetscFunctionBeginUser;
  PetscCall(PetscNew(&s));
  PetscCall(hessian_create(ds, net, &s->h));
  PetscCall(spectrum_create(ds->comm, &s->sp));
  *st = s;
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_stage_set_from_options(SpectrumStage *st)
{
  PetscFunctionBeginUser;
  PetscOptionsBegin(st->h->comm, NULL, "Spectrum stage", NULL);
  PetscCall(PetscOptionsInt("-spectrum_every", "Hessian spectrum at epoch 0 and every k epochs (0: never)", NULL, st->every,
                            &st->every, NULL));
  PetscCall(PetscOptionsBool("-hessian_dense", "also assemble the dense Hessian (ScaLAPACK), check symmetry, all eigenvalues by PDSYEVD", NULL,
                             st->dense, &st->dense, NULL));
  PetscCall(PetscOptionsBool("-hessian_dense_matrix", "write the dense Hessian to the results file", NULL, st->dense_matrix,
                             &st->dense_matrix, NULL));
  st->dense_max = 20000;
  PetscCall(PetscOptionsInt("-hessian_dense_max", "largest N the dense mode accepts", NULL, st->dense_max, &st->dense_max, NULL));
  PetscOptionsEnd();
  PetscCheck(st->every >= 0, st->h->comm, PETSC_ERR_ARG_OUTOFRANGE, "-spectrum_every must be non-negative");
  PetscCall(hessian_set_from_options(st->h));
  PetscCall(spectrum_set_from_options(st->sp));
  PetscFunctionReturn(0);
}

PetscInt spectrum_stage_local_samples(const SpectrumStage *st, PetscMPIInt size)
{
  const Hessian  h = st->h;
  const PetscInt B = h->batch ? PetscMin(h->batch, h->nsamples) : h->nsamples, nb = (h->nsamples + B - 1) / B;
  if (!st->every) return 0;
  return nb < size ? (B + size - 1) / size : B; /* a split batch, or whole batches */
}

PetscErrorCode spectrum_stage_setup(SpectrumStage *st)
{
  PetscFunctionBeginUser;
  if (!st->every) PetscFunctionReturn(0);
  PetscCheck(!st->dense || st->h->net->N <= st->dense_max, st->h->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-hessian_dense: N = %" PetscInt_FMT " exceeds -hessian_dense_max %" PetscInt_FMT " (the dense mode stores N^2 doubles)",
             st->h->net->N, st->dense_max);
  PetscCall(hessian_setup(st->h));
  PetscCall(hessian_view(st->h, PETSC_VIEWER_STDOUT_(st->h->comm)));
  PetscCall(spectrum_set_operator(st->sp, st->h->H));
  PetscCall(spectrum_view(st->sp, PETSC_VIEWER_STDOUT_(st->h->comm)));
  PetscFunctionReturn(0);
}

/* The dense Hessian: symmetry error, all eigenvalues, optionally the matrix, under group/dense. */
static PetscErrorCode spectrum_stage_dense(SpectrumStage *st, NnH5File *f, const char *group)
{
  DenseMat       A;
  const PetscInt N = st->h->net->N;
  double        *w, sym;
  char           g[128], path[160];
  hsize_t        n = (hsize_t)N;
  PetscFunctionBeginUser;
  PetscCall(dense_create(st->h->comm, N, &A));
  PetscCall(dense_set_from_options(A));
  PetscCall(hessian_dense_assemble(st->h, HESSIAN_FULL, A));
  PetscCall(dense_symmetry_error(A, &sym));
  PetscCall(PetscMalloc1(N, &w));
  PetscCall(dense_eigenvalues(A, w));
  PetscCall(PetscPrintf(st->h->comm, "[dense] ||H - H^T||_F/||H||_F %.2e; PDSYEVD lambda_min %.10e lambda_max %.10e\n", sym, w[0], w[N - 1]));
  PetscCall(PetscSNPrintf(g, sizeof g, "%s/dense", group));
  PetscCall(nn_h5_group(f, g));
  PetscCall(nn_h5_attr_double(f, g, "symmetry_error", sym));
  PetscCall(nn_h5_attr_string(f, g, "description", "dense Hessian assembled through the operator (ScaLAPACK); symmetry_error = ||H - H^T||_F / ||H||_F"));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/eigenvalues", g));
  PetscCall(nn_h5_write_double(f, path, 1, &n, w));
  PetscCall(nn_h5_describe(f, path, "1", "all eigenvalues of H, ascending (PDSYEVD)"));
  if (st->dense_matrix) {
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/H", g));
    PetscCall(dense_write(A, f, path));
    PetscCall(nn_h5_describe(f, path, "1", "the Hessian, H[i][j] = d^2 R / dtheta_i dtheta_j"));
  }
  PetscCall(PetscFree(w));
  PetscCall(dense_destroy(&A));
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_stage_hook(Trainer t, void *ctx)
{
  SpectrumStage *st = (SpectrumStage *)ctx;
  double         R, mean_abs_dl, t0 = nn_wtime();
  char           group[64];
  NnH5File       f;
  PetscFunctionBeginUser;
  if (!st->every || t->epoch % st->every) PetscFunctionReturn(0);
  PetscCall(PetscPrintf(t->comm, "[spectrum] epoch %" PetscInt_FMT ": Hessian on %" PetscInt_FMT " samples, N = %" PetscInt_FMT "\n", t->epoch,
                        st->h->nsamples, t->net->N));
  PetscCall(hessian_set_point(st->h, t->theta));
  PetscCall(hessian_risk(st->h, &R, NULL, &mean_abs_dl));
  PetscCall(spectrum_compute(st->sp, mean_abs_dl));
  PetscCall(rundir_results_open(t->rundir, &f));
  PetscCall(PetscSNPrintf(group, sizeof group, "/spectrum/epoch_%04d", (int)t->epoch));
  PetscCall(nn_h5_delete(&f, group));
  PetscCall(spectrum_write(st->sp, &f, group));
  if (st->dense) PetscCall(spectrum_stage_dense(st, &f, group));
  PetscCall(nn_h5_attr_int64(&f, group, "epoch", t->epoch));
  PetscCall(nn_h5_attr_double(&f, group, "risk", R));
  PetscCall(nn_h5_attr_int64(&f, group, "hessian_samples", st->h->nsamples));
  PetscCall(nn_h5_attr_int64(&f, group, "hessian_batch", st->h->batch ? st->h->batch : st->h->nsamples));
  PetscCall(nn_h5_attr_string(&f, "/spectrum", "description",
                              "Hessian spectra of the risk on a fixed sample set, one group per epoch (weights after that many epochs)"));
  PetscCall(nn_h5_commit(&f));
  PetscCall(PetscPrintf(t->comm, "[spectrum] epoch %" PetscInt_FMT " done in %.1fs (risk %.5f)\n", t->epoch, nn_wtime() - t0, R));
  PetscFunctionReturn(0);
}

PetscErrorCode spectrum_stage_destroy(SpectrumStage **st)
{
  PetscFunctionBeginUser;
  if (!*st) PetscFunctionReturn(0);
  PetscCall(spectrum_destroy(&(*st)->sp));
  PetscCall(hessian_destroy(&(*st)->h));
  PetscCall(PetscFree(*st));
  PetscFunctionReturn(0);
}
