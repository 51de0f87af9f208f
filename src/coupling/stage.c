/* The coupling stage: Algorithms 1 and 3 of App. E on the per-batch Hessians
 * of the training split, recorded per epoch (see include/nncas/stages.h). */
#include "nncas/stages.h"

#include <math.h>

PetscErrorCode coupling_stage_create(Dataset ds, Net net, CouplingStage **st)
{
  CouplingStage *s;
  PetscFunctionBeginUser;
  PetscCall(PetscNew(&s));
  s->draws = 3, s->null_draws = 5, s->seed = 1, s->kmax = 16, s->sub = 100;
  s->nb[STAT_CC] = 100, s->nb[STAT_SKEWNESS] = s->nb[STAT_KURTOSIS] = 10;
  s->thr[STAT_CC] = 0.4, s->thr[STAT_SKEWNESS] = 0.4, s->thr[STAT_KURTOSIS] = 1.0; /* Table 2 */
  s->calibrate = PETSC_TRUE;
  PetscCall(hessian_create(ds, net, &s->h));
  *st = s;
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_stage_set_from_options(CouplingStage *st)
{
  PetscInt nb_high = st->nb[STAT_SKEWNESS];
  PetscFunctionBeginUser;
  PetscOptionsBegin(st->h->comm, NULL, "Coupling-set statistics (App. E)", NULL);
  PetscCall(PetscOptionsInt("-coupling_every", "Algorithm 1 at epoch 0 and every k epochs (0: never; the paper: 10)", NULL, st->every, &st->every, NULL));
  PetscCall(PetscOptionsInt("-coupling_draws", "bootstrap draws B of Algorithm 1 (the paper: 3)", NULL, st->draws, &st->draws, NULL));
  PetscCall(PetscOptionsInt("-coupling_nb", "N_b of the correlation coefficients (N_b^2 variables)", NULL, st->nb[STAT_CC], &st->nb[STAT_CC], NULL));
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
  PetscOptionsEnd();
  PetscCheck(st->every >= 0 && st->draws > 0 && st->null_draws > 0 && st->kmax > 0, st->h->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-coupling_every must be non-negative; -coupling_draws, -coupling_null_draws, -coupling_block positive");
  PetscCheck(st->nb[0] > 1 && nb_high > 1, st->h->comm, PETSC_ERR_ARG_OUTOFRANGE, "-coupling_nb and -coupling_nb_high must exceed 1");
  PetscCheck(st->sub >= 0 && st->sub <= st->nb[0] * st->nb[0], st->h->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-coupling_submatrix must be at most -coupling_nb squared");
  PetscFunctionReturn(0);
}

PetscInt coupling_stage_local_samples(const CouplingStage *st, PetscInt train_batch) { return st->every ? train_batch : 0; }

PetscErrorCode coupling_stage_setup(CouplingStage *st, PetscInt train_batch)
{
  Hessian h = st->h;
  PetscFunctionBeginUser;
  if (!st->every) PetscFunctionReturn(0);
  h->nsamples = h->ds->train.n; /* the whole training split: n = ceil(m / batch) batches */
  h->batch    = train_batch;
  h->kmax     = st->kmax;
  h->seed     = st->seed;
  PetscCheck((h->nsamples + train_batch - 1) / train_batch >= h->size, h->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-coupling_every: %" PetscInt_FMT " batches for %d ranks; each rank needs a whole batch", (h->nsamples + train_batch - 1) / train_batch,
             (int)h->size);
  for (int k = 0; k < 2; k++)
    PetscCheck(st->nb[k] <= h->net->N, h->comm, PETSC_ERR_ARG_OUTOFRANGE, "-coupling_nb%s %" PetscInt_FMT " exceeds N = %" PetscInt_FMT,
               k ? "_high" : "", st->nb[k], h->net->N);
  PetscCall(hessian_setup(h));
  st->batch = train_batch;
  PetscFunctionReturn(0);
}

/* X (n x nb^2, column-major, replicated): observation b (batch b) of
 * variable p nb + q is H_b[i_p, j_q]. */
static PetscErrorCode coupling_sample(CouplingStage *st, PetscInt nb, const PetscInt *i, const PetscInt *j, double *X, const char *what)
{
  Hessian        h = st->h;
  const PetscInt M = nb * nb, n = h->nbatches;
  double        *rows, *all;
  PetscMPIInt   *cnt, *dsp;
  NnProgress     prog;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2((size_t)(h->nslices + 1) * M, &rows, (size_t)n * M, &all));
  PetscCall(PetscMalloc2(h->size, &cnt, h->size, &dsp));
  nn_progress_start(&prog, what, h->nslices);
  for (PetscInt s = 0; s < h->nslices; s++) {
    PetscCall(hessian_batch_entries(h, s, nb, i, nb, j, rows + (size_t)s * M));
    PetscCall(nn_progress_report(&prog, s + 1, 10.0, "local batches"));
  }
  /* every rank owns batches [n r / P, n (r+1) / P) (hessian_make_slices) */
  for (PetscMPIInt r = 0; r < h->size; r++) {
    PetscInt b0 = n * r / h->size, b1 = n * (r + 1) / h->size;
    cnt[r] = (PetscMPIInt)((b1 - b0) * M), dsp[r] = (PetscMPIInt)(b0 * M);
  }
  PetscCallMPI(MPI_Allgatherv(rows, cnt[h->rank], MPI_DOUBLE, all, cnt, dsp, MPI_DOUBLE, h->comm));
  PetscCall(hessian_check_finite(h, (size_t)cnt[h->rank], rows, "the per-batch Hessian entries"));
  for (PetscInt b = 0; b < n; b++)
    for (PetscInt v = 0; v < M; v++) X[(size_t)v * n + b] = all[(size_t)b * M + v];
  PetscCall(PetscFree2(cnt, dsp));
  PetscCall(PetscFree2(rows, all));
  PetscFunctionReturn(0);
}

/* nb distinct indices of [N] from stream (epoch, draw, which). */
static PetscErrorCode draw_indices(CouplingStage *st, PetscInt epoch, PetscInt d, PetscInt which, PetscInt nb, PetscInt *idx)
{
  const PetscInt N = st->h->net->N;
  PetscInt      *perm;
  uint64_t       stream, substream;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(N, &perm));
  nn_coupling_index_stream((uint64_t)epoch, (uint64_t)d, (uint64_t)which, &stream, &substream);
  nn_rng_permutation(nn_rng_key((uint64_t)st->seed, stream, substream), N, perm);
  PetscCall(PetscArraycpy(idx, perm, nb));
  PetscCall(PetscFree(perm));
  PetscFunctionReturn(0);
}

typedef struct {
  PetscInt  m, *var; /* the sampled variables */
  PetscInt *pos;     /* pos[v] = position of variable v in var, or -1 */
  double   *sub;     /* (m x m) */
} Submatrix;

static PetscErrorCode submatrix_collect(void *ctx, PetscInt i, PetscInt j, double *a)
{
  Submatrix *S = (Submatrix *)ctx;
  if (S->pos[i] >= 0 && S->pos[j] >= 0) S->sub[S->pos[i] * S->m + S->pos[j]] = *a;
  return 0;
}

/* A uniformly sampled m x m submatrix of the correlation matrix C among the
 * variables that vary (constant entries have no correlation), replicated. */
static PetscErrorCode cc_submatrix(CouplingStage *st, PetscInt epoch, DenseMat C, PetscInt M, const PetscBool *valid, Submatrix *S)
{
  PetscInt *perm, nvalid = 0;
  PetscFunctionBeginUser;
  for (PetscInt v = 0; v < M; v++) nvalid += valid[v];
  S->m = PetscMin(st->sub, nvalid);
  PetscCall(PetscMalloc1(M, &perm));
  PetscCall(PetscMalloc3(S->m + 1, &S->var, M, &S->pos, (size_t)S->m * S->m + 1, &S->sub));
  nn_rng_permutation(nn_rng_key((uint64_t)st->seed, NN_STREAM_COUPLING_SUB, (uint64_t)epoch), M, perm);
  for (PetscInt v = 0; v < M; v++) S->pos[v] = -1;
  for (PetscInt q = 0, k = 0; q < M && k < S->m; q++)
    if (valid[perm[q]]) S->var[k] = perm[q], S->pos[perm[q]] = k++;
  PetscCall(PetscArrayzero(S->sub, (size_t)S->m * S->m));
  PetscCall(dense_foreach_local(C, submatrix_collect, S));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, S->sub, (int)(S->m * S->m), MPI_DOUBLE, MPI_SUM, st->h->comm));
  PetscCall(PetscFree(perm));
  PetscFunctionReturn(0);
}

/* Mean and standard error of x[0..B). */
static void mean_se(PetscInt B, const double *x, double *mean, double *se)
{
  double s = 0, s2 = 0;
  for (PetscInt b = 0; b < B; b++) s += x[b], s2 += x[b] * x[b];
  *mean = s / B;
  *se   = B > 1 ? sqrt(PetscMax(0, (s2 - s * s / B) / (B - 1)) / B) : NAN;
}

/* A standard error for the log: "n/a" when undefined (a single draw). */
static const char *se_text(double se, const char *fmt, char *buf, size_t len)
{
  if (isnan(se)) return "n/a (one draw)";
  PetscSNPrintf(buf, len, fmt, se);
  return buf;
}

static PetscErrorCode write_vec(NnH5File *f, const char *g, const char *name, PetscInt n, const double *v, const char *units, const char *about)
{
  char    path[256];
  hsize_t d = (hsize_t)n;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s", g, name));
  PetscCall(nn_h5_write_double(f, path, 1, &d, v));
  PetscCall(nn_h5_describe(f, path, units, about));
  PetscFunctionReturn(0);
}

static PetscErrorCode write_histogram(NnH5File *f, const char *g, const NnHistogram *h)
{
  char path[256];
  PetscFunctionBeginUser;
  PetscCall(write_vec(f, g, "histogram", h->nbins, h->count, "count", "histogram of the statistic's values (first draw); bins over [lo, hi]"));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/histogram", g));
  PetscCall(nn_h5_attr_double(f, path, "lo", h->lo));
  PetscCall(nn_h5_attr_double(f, path, "hi", h->hi));
  PetscFunctionReturn(0);
}

static const double hist_range[3] = {1.0, 3.0, 10.0}; /* |values| shown in the histograms */

/* Algorithm 3 once per run: null counts at the thresholds (chosen here with
 * -coupling_auto_thresholds), with the histograms of Fig. 5. */
static PetscErrorCode coupling_calibrate(CouplingStage *st, Trainer t)
{
  NnH5File f;
  char     g[64];
  double  *counts;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(st->null_draws, &counts));
  PetscCall(rundir_results_open(t->rundir, &f));
  PetscCall(nn_h5_delete(&f, "/coupling/null"));
  PetscCall(nn_h5_group(&f, "/coupling/null"));
  PetscCall(nn_h5_attr_string(&f, "/coupling/null", "description",
                              "Algorithm 3 (App. E.3): statistics of n observations of N_b^2 independent N(0,1) variables"));
  for (int k = 0; k < 3; k++) {
    const PetscInt n = st->h->nbatches, nb = st->nb[k];
    const double   target = nb * nb * pow((double)nb, nn_stat_target_exponent[k]);
    NnHistogram    hist;
    double         mean, se;
    PetscCall(histogram_create(2000, -hist_range[k], hist_range[k], &hist));
    if (st->auto_thr) {
      double c0;
      PetscCall(coupling_null_counts(st->h->comm, (NnStatKind)k, n, nb, 1e300, 1, (uint64_t)st->seed, &hist, &c0));
      st->thr[k] = coupling_threshold_from_histogram(&hist, target / 100, 0.05);
      PetscCall(PetscArrayzero(hist.count, hist.nbins));
    }
    PetscCall(coupling_null_counts(st->h->comm, (NnStatKind)k, n, nb, st->thr[k], st->null_draws, (uint64_t)st->seed, &hist, counts));
    mean_se(st->null_draws, counts, &mean, &se);
    PetscCall(PetscPrintf(st->h->comm, "[coupling] null %-8s N_b %3d n %d: threshold %.2f, null count %.2f +- %.2f (target/100 = %.1f)\n",
                          NnStatNames[k], (int)nb, (int)n, st->thr[k], mean, se, target / 100));
    if (mean > target / 100)
      PetscCall(PetscPrintf(st->h->comm, "[coupling] warning: at threshold %.2f independent variables already give %.3g %s counts, more than target/100: "
                                         "the counts of this statistic are not above chance (raise the threshold, -coupling_auto_thresholds, or use more batches)\n",
                            st->thr[k], mean, NnStatNames[k]));
    PetscCall(PetscSNPrintf(g, sizeof g, "/coupling/null/%s", NnStatNames[k]));
    PetscCall(nn_h5_group(&f, g));
    PetscCall(write_vec(&f, g, "counts", st->null_draws, counts, "count", "null count above the threshold per Monte Carlo sample"));
    PetscCall(write_histogram(&f, g, &hist));
    PetscCall(nn_h5_attr_double(&f, g, "threshold", st->thr[k]));
    PetscCall(nn_h5_attr_double(&f, g, "count_mean", mean));
    PetscCall(nn_h5_attr_double(&f, g, "count_standard_error", se));
    PetscCall(nn_h5_attr_double(&f, g, "target", target));
    {
      double total = 0;
      for (PetscInt b = 0; b < hist.nbins; b++) total += hist.count[b];
      PetscCall(nn_h5_attr_double(&f, g, "statistics_per_draw", total));
    }
    PetscCall(nn_h5_attr_int64(&f, g, "N_b", nb));
    PetscCall(nn_h5_attr_int64(&f, g, "n", n));
    PetscCall(histogram_destroy(&hist));
  }
  PetscCall(nn_h5_commit(&f));
  PetscCall(PetscFree(counts));
  st->calibrated = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* Counts, per-entry counts s_0/N_b^2 and exponents log(s_0/N_b^2)/log(N_b) of B draws of one statistic. */
typedef struct {
  double   *count, *per_entry, *exponent, *total, *nconst;
  PetscInt *rows, *cols; /* (B x N_b) */
} DrawRecord;

static PetscErrorCode record_write(CouplingStage *st, NnH5File *f, const char *g, int k, DrawRecord *r)
{
  const PetscInt B = st->draws, nb = st->nb[k];
  double         m, se;
  hsize_t        d2[2] = {(hsize_t)B, (hsize_t)nb};
  int64_t       *ix;
  char           path[256];
  PetscFunctionBeginUser;
  PetscCall(nn_h5_group(f, g));
  PetscCall(write_vec(f, g, "counts", B, r->count, "count", "statistics above the threshold (s_0) per draw"));
  PetscCall(write_vec(f, g, "per_entry", B, r->per_entry, "count", "s_0 / N_b^2 per draw (Algorithm 1 step 4)"));
  PetscCall(write_vec(f, g, "exponent", B, r->exponent, "1", "log(s_0 / N_b^2) / log(N_b) per draw (NaN when s_0 = 0); exponent_mean is that of the mean per-entry count"));
  PetscCall(write_vec(f, g, "total", B, r->total, "count", "statistics counted over per draw"));
  PetscCall(write_vec(f, g, "constant_variables", B, r->nconst, "count", "Hessian entries constant across the batches (left out)"));
  PetscCall(PetscMalloc1((size_t)B * nb, &ix));
  for (PetscInt q = 0; q < B * nb; q++) ix[q] = r->rows[q];
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/row_index", g));
  PetscCall(nn_h5_write_int64(f, path, 2, d2, ix));
  PetscCall(nn_h5_describe(f, path, "1", "row index vector i of each draw (indices into theta)"));
  for (PetscInt q = 0; q < B * nb; q++) ix[q] = r->cols[q];
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/col_index", g));
  PetscCall(nn_h5_write_int64(f, path, 2, d2, ix));
  PetscCall(nn_h5_describe(f, path, "1", "column index vector j of each draw"));
  PetscCall(PetscFree(ix));
  mean_se(B, r->per_entry, &m, &se);
  PetscCall(nn_h5_attr_double(f, g, "per_entry_mean", m));
  PetscCall(nn_h5_attr_double(f, g, "per_entry_standard_error", se));
  char sebuf[32];
  PetscCall(PetscPrintf(st->h->comm, "[coupling] %-8s N_b %3d: non-zero per entry %.4g +- %s", NnStatNames[k], (int)nb, m,
                        se_text(se, "%.2g", sebuf, sizeof sebuf)));
  /* exponent of the mean per-entry count, its error by the delta method */
  double pm = m, pse = se;
  m  = pm > 0 ? log(pm) / log((double)nb) : NAN;
  se = pm > 0 ? pse / (pm * log((double)nb)) : NAN;
  PetscCall(nn_h5_attr_double(f, g, "exponent_mean", m));
  PetscCall(nn_h5_attr_double(f, g, "exponent_standard_error", se));
  PetscCall(nn_h5_attr_double(f, g, "threshold", st->thr[k]));
  PetscCall(nn_h5_attr_int64(f, g, "N_b", nb));
  PetscCall(PetscPrintf(st->h->comm, " = N_b^%.3f (+- %s)\n", m, se_text(se, "%.3f", sebuf, sizeof sebuf)));
  PetscFunctionReturn(0);
}

static PetscErrorCode record_alloc(PetscInt B, PetscInt nb, DrawRecord *r)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc5(B, &r->count, B, &r->per_entry, B, &r->exponent, B, &r->total, B, &r->nconst));
  PetscCall(PetscMalloc2((size_t)B * nb, &r->rows, (size_t)B * nb, &r->cols));
  PetscFunctionReturn(0);
}

static PetscErrorCode record_free(DrawRecord *r)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree5(r->count, r->per_entry, r->exponent, r->total, r->nconst));
  PetscCall(PetscFree2(r->rows, r->cols));
  PetscFunctionReturn(0);
}

static void record_set(DrawRecord *r, PetscInt d, PetscInt nb, const NnStatCount *c, PetscInt nconst)
{
  r->count[d]     = c->count;
  r->per_entry[d] = c->count / ((double)nb * nb);
  r->exponent[d]  = c->count > 0 ? log(r->per_entry[d]) / log((double)nb) : NAN;
  r->total[d]     = c->total;
  r->nconst[d]    = (double)nconst;
}

/* One draw for the statistics using N_b = nb[k0] (CC, or skewness and kurtosis together). */
static PetscErrorCode coupling_draw(CouplingStage *st, Trainer t, NnH5File *f, PetscInt d, PetscBool high, DrawRecord *rec)
{
  const int      k0 = high ? STAT_SKEWNESS : STAT_CC;
  const PetscInt nb = st->nb[k0], M = nb * nb, n = st->h->nbatches;
  PetscInt      *i = rec[k0].rows + d * nb, *j = rec[k0].cols + d * nb, nconst;
  double        *X, *Z;
  PetscBool     *valid;
  NnStatCount    c;
  char           what[64];
  PetscFunctionBeginUser;
  PetscCall(draw_indices(st, t->epoch, d, 2 * high, nb, i));
  PetscCall(draw_indices(st, t->epoch, d, 2 * high + 1, nb, j));
  PetscCall(PetscMalloc3((size_t)n * M, &X, (size_t)n * M, &Z, M, &valid));
  PetscCall(PetscSNPrintf(what, sizeof what, "coupling draw %d/%d N_b=%d", (int)d + 1, (int)st->draws, (int)nb));
  PetscCall(coupling_sample(st, nb, i, j, X, what));
  PetscCall(cumulant_standardize(n, M, X, Z, valid, &nconst));
  if (!high) {
    DenseMat    C;
    NnHistogram hist;
    char        g[96];
    PetscCall(histogram_create(2000, -1, 1, &hist));
    PetscCall(cc_count(st->h->comm, n, M, Z, valid, st->thr[STAT_CC], &hist, &C, &c));
    record_set(&rec[STAT_CC], d, nb, &c, nconst);
    if (!d) { /* the first draw's submatrix, histogram and, on request, the whole matrix */
      Submatrix S;
      hsize_t   d2[2] = {(hsize_t)st->sub, (hsize_t)st->sub};
      int64_t  *var;
      PetscCall(PetscSNPrintf(g, sizeof g, "/coupling/epoch_%04d/cc", (int)t->epoch));
      PetscCall(nn_h5_group(f, g));
      PetscCall(write_histogram(f, g, &hist));
      PetscCall(cc_submatrix(st, t->epoch, C, M, valid, &S));
      char path[160];
      d2[0] = d2[1] = (hsize_t)S.m;
      PetscCall(PetscSNPrintf(path, sizeof path, "%s/submatrix", g));
      PetscCall(nn_h5_write_double(f, path, 2, d2, S.sub));
      PetscCall(nn_h5_describe(f, path, "1", "correlation coefficients among a uniformly sampled set of the first draw's varying entries (Fig. 1d/e); fewer than -coupling_submatrix if fewer vary"));
      PetscCall(PetscMalloc1(S.m + 1, &var));
      for (PetscInt q = 0; q < S.m; q++) var[q] = S.var[q];
      PetscCall(PetscSNPrintf(path, sizeof path, "%s/submatrix_variables", g));
      hsize_t dm = (hsize_t)S.m;
      PetscCall(nn_h5_write_int64(f, path, 1, &dm, var));
      PetscCall(nn_h5_describe(f, path, "1", "variables of the submatrix: v = p N_b + q is entry (i_p, j_q)"));
      PetscCall(PetscFree(var));
      PetscCall(PetscFree3(S.var, S.pos, S.sub));
      if (st->full_cc) {
        PetscCall(PetscSNPrintf(path, sizeof path, "%s/full", g));
        PetscCall(dense_write(C, f, path));
        PetscCall(nn_h5_describe(f, path, "1", "the whole correlation matrix of the first draw (N_b^2 x N_b^2)"));
      }
    }
    PetscCall(histogram_destroy(&hist));
    PetscCall(dense_destroy(&C));
  } else {
    PetscCall(stat_count(st->h->comm, STAT_SKEWNESS, n, M, Z, valid, st->thr[STAT_SKEWNESS], NULL, &c));
    record_set(&rec[STAT_SKEWNESS], d, nb, &c, nconst);
    PetscCall(stat_count(st->h->comm, STAT_KURTOSIS, n, M, Z, valid, st->thr[STAT_KURTOSIS], NULL, &c));
    record_set(&rec[STAT_KURTOSIS], d, nb, &c, nconst);
    for (PetscInt q = 0; q < nb; q++) rec[STAT_KURTOSIS].rows[d * nb + q] = i[q], rec[STAT_KURTOSIS].cols[d * nb + q] = j[q];
  }
  PetscCall(PetscFree3(X, Z, valid));
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_stage_hook(Trainer t, void *ctx)
{
  CouplingStage *st = (CouplingStage *)ctx;
  NnH5File       f;
  DrawRecord     rec[3];
  char           g[96];
  double         t0 = nn_wtime();
  PetscFunctionBeginUser;
  if (!st->every || t->epoch % st->every) PetscFunctionReturn(0);
  if (st->calibrate && !st->calibrated) PetscCall(coupling_calibrate(st, t));
  PetscCall(PetscPrintf(t->comm, "[coupling] epoch %" PetscInt_FMT ": %d draws over %" PetscInt_FMT " batches of %" PetscInt_FMT "\n", t->epoch,
                        (int)st->draws, st->h->nbatches, st->batch));
  PetscCall(hessian_set_point(st->h, t->theta));
  for (int k = 0; k < 3; k++) PetscCall(record_alloc(st->draws, st->nb[k], &rec[k]));
  PetscCall(rundir_results_open(t->rundir, &f));
  PetscCall(PetscSNPrintf(g, sizeof g, "/coupling/epoch_%04d", (int)t->epoch));
  PetscCall(nn_h5_delete(&f, g));
  PetscCall(nn_h5_group(&f, g));
  for (PetscInt d = 0; d < st->draws; d++) {
    PetscCall(coupling_draw(st, t, &f, d, PETSC_FALSE, rec));
    PetscCall(coupling_draw(st, t, &f, d, PETSC_TRUE, rec));
  }
  for (int k = 0; k < 3; k++) {
    char gk[128];
    PetscCall(PetscSNPrintf(gk, sizeof gk, "%s/%s", g, NnStatNames[k]));
    PetscCall(record_write(st, &f, gk, k, &rec[k]));
    PetscCall(record_free(&rec[k]));
  }
  PetscCall(nn_h5_attr_int64(&f, g, "epoch", t->epoch));
  PetscCall(nn_h5_attr_int64(&f, g, "n", st->h->nbatches));
  PetscCall(nn_h5_attr_int64(&f, g, "batch", st->batch));
  PetscCall(nn_h5_attr_int64(&f, g, "draws", st->draws));
  PetscCall(nn_h5_attr_int64(&f, g, "N", t->net->N));
  PetscCall(nn_h5_attr_string(&f, "/coupling", "description", "coupling-set statistics of Hessian entries (App. E), one group per epoch"));
  PetscCall(nn_h5_commit(&f));
  PetscCall(PetscPrintf(t->comm, "[coupling] epoch %" PetscInt_FMT " done in %.1fs\n", t->epoch, nn_wtime() - t0));
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_stage_destroy(CouplingStage **st)
{
  PetscFunctionBeginUser;
  if (!*st) PetscFunctionReturn(0);
  PetscCall(hessian_destroy(&(*st)->h));
  PetscCall(PetscFree(*st));
  PetscFunctionReturn(0);
}
