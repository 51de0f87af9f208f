/* One draw of Algorithm 1 (App. E): index vectors i, j over [N]; the entries
 * H_b[i, j] of every batch's Hessian; their standardised values and the
 * counts of correlation coefficients (or skewness and kurtosis) above the
 * thresholds; for the first draw the histogram and a uniformly sampled
 * correlation submatrix (Fig. 1d/e). */
#include "coupling_stage.h"

#include <math.h>

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

/* X (n x nb^2, column-major, replicated): observation b (batch b) of
 * variable p nb + q is H_b[i_p, j_q]. The entries of progress slot `slot`
 * are reused and completed; a stop signal leaves X unset and *stopped. */
static PetscErrorCode coupling_sample(CouplingStage *st, PetscInt slot, PetscInt nb, const PetscInt *i, const PetscInt *j, double *X,
                                      const char *what, PetscBool *stopped)
{
  const PetscInt M = nb * nb, n = st->nbatches;
  const double  *all = st->progress.all[slot];
  PetscFunctionBeginUser;
  PetscCall(hessian_entries_resumable(st->h, nb, i, nb, j, what, poll_stage, st->stage, st->progress.done[slot],
                                      st->progress.all[slot], stopped));
  if (*stopped) PetscFunctionReturn(0);
  for (PetscInt b = 0; b < n; b++)
    for (PetscInt v = 0; v < M; v++) X[(size_t)v * n + b] = all[(size_t)b * M + v];
  PetscFunctionReturn(0);
}

/* nb distinct indices of [N] from stream (epoch, draw, which). */
static PetscErrorCode draw_indices(CouplingStage *st, PetscInt epoch, PetscInt d, PetscInt which, PetscInt nb, PetscInt *idx)
{
  const PetscInt N = st->N;
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
static PetscErrorCode cc_submatrix(CouplingStage *st, PetscInt epoch, ScaMat C, PetscInt M, const PetscBool *valid, Submatrix *S)
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
  PetscCall(scamat_foreach_local(C, submatrix_collect, S));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, S->sub, (int)(S->m * S->m), MPI_DOUBLE, MPI_SUM, st->comm));
  PetscCall(PetscFree(perm));
  PetscFunctionReturn(0);
}

/* The first draw's histogram and correlation submatrix and, with
 * -coupling_full_cc, the whole matrix, under /coupling/epoch_EEEE/cc. */
static PetscErrorCode write_first_draw(CouplingStage *st, PetscInt epoch, NnH5File *f, ScaMat C, PetscInt M, const PetscBool *valid,
                                       const NnHistogram *hist)
{
  char      g[96], path[160];
  Submatrix S;
  hsize_t   d2[2], dm;
  int64_t  *var;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(g, sizeof g, "/coupling/epoch_%04d/cc", (int)epoch));
  PetscCall(nn_h5_group(f, g));
  PetscCall(coupling_write_histogram(f, g, hist));
  PetscCall(cc_submatrix(st, epoch, C, M, valid, &S));
  d2[0] = d2[1] = dm = (hsize_t)S.m;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/submatrix", g));
  PetscCall(nn_h5_write_double(f, path, 2, d2, S.sub));
  PetscCall(nn_h5_describe(f, path, "1", "correlation coefficients among a uniformly sampled set of the first draw's varying entries (Fig. 1d/e); fewer than -coupling_submatrix if fewer vary"));
  PetscCall(PetscMalloc1(S.m + 1, &var));
  for (PetscInt q = 0; q < S.m; q++) var[q] = S.var[q];
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/submatrix_variables", g));
  PetscCall(nn_h5_write_int64(f, path, 1, &dm, var));
  PetscCall(nn_h5_describe(f, path, "1", "variables of the submatrix: v = p N_b + q is entry (i_p, j_q)"));
  PetscCall(PetscFree(var));
  PetscCall(PetscFree3(S.var, S.pos, S.sub));
  if (st->full_cc) {
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/full", g));
    PetscCall(scamat_write(C, f, path));
    PetscCall(nn_h5_describe(f, path, "1", "the whole correlation matrix of the first draw (N_b^2 x N_b^2)"));
  }
  PetscFunctionReturn(0);
}

/* Draw d's per-batch entries, both statistics, by this rank's group on its
 * copy hg of the Hessian, into their progress slots (completing them). */
static PetscErrorCode coupling_draw_entries_group(CouplingStage *st, PetscInt epoch, PetscInt d, PetscBool *stopped)
{
  PetscFunctionBeginUser;
  for (int high = 0; high < 2 && !*stopped; high++) {
    const PetscInt nb = st->nb[high ? STAT_SKEWNESS : STAT_CC], slot = 2 * d + high;
    PetscInt      *i, *j;
    char           what[80];
    PetscCall(PetscMalloc2(nb, &i, nb, &j));
    PetscCall(draw_indices(st, epoch, d, 2 * high, nb, i));
    PetscCall(draw_indices(st, epoch, d, 2 * high + 1, nb, j));
    PetscCall(PetscSNPrintf(what, sizeof what, "coupling draw %d/%d N_b=%d, rank group %d", (int)d + 1, (int)st->draws, (int)nb,
                            (int)st->groups.index + 1));
    PetscCall(hessian_entries_resumable(st->hg, nb, i, nb, j, what, poll_group, st->stage, st->progress.done[slot], st->progress.all[slot],
                                        stopped));
    PetscCall(PetscFree2(i, j));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_round_entries(CouplingStage *st, PetscInt epoch, PetscInt d0, PetscInt d1, PetscInt d, PetscBool *stopped)
{
  const PetscInt n = st->nbatches;
  PetscFunctionBeginUser;
  PetscCall(coupling_draw_entries_group(st, epoch, d, stopped));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, stopped, 1, MPIU_BOOL, MPI_LOR, st->comm)); /* a stop in any group stops all */
  for (PetscInt e = d0; e < d1; e++) { /* draw e is group e - d0's: from its first rank to all */
    PetscMPIInt root;
    PetscCall(nn_rank_groups_first_rank(&st->groups, e - d0, &root));
    for (int high = 0; high < 2; high++) {
      const PetscInt nb = st->nb[high ? STAT_SKEWNESS : STAT_CC], slot = 2 * e + high;
      PetscCallMPI(MPI_Bcast(st->progress.all[slot], (int)(n * nb * nb), MPI_DOUBLE, root, st->comm));
      PetscCallMPI(MPI_Bcast(st->progress.done[slot], (int)n, MPIU_BOOL, root, st->comm));
    }
  }
  PetscFunctionReturn(0);
}

/* One draw for the statistics using N_b = nb[k0] (CC, or skewness and kurtosis together). */
PetscErrorCode coupling_draw(CouplingStage *st, PetscInt epoch, NnH5File *f, PetscInt d, PetscBool high, DrawRecord *rec,
                             PetscBool *stopped)
{
  const int      k0 = high ? STAT_SKEWNESS : STAT_CC;
  const PetscInt nb = st->nb[k0], M = nb * nb, n = st->nbatches;
  PetscInt      *i = rec[k0].rows + d * nb, *j = rec[k0].cols + d * nb, nconst;
  double        *X, *Z;
  PetscBool     *valid;
  NnStatCount    c;
  char           what[64];
  PetscFunctionBeginUser;
  PetscCall(draw_indices(st, epoch, d, 2 * high, nb, i));
  PetscCall(draw_indices(st, epoch, d, 2 * high + 1, nb, j));
  PetscCall(PetscMalloc3((size_t)n * M, &X, (size_t)n * M, &Z, M, &valid));
  PetscCall(PetscSNPrintf(what, sizeof what, "coupling draw %d/%d N_b=%d", (int)d + 1, (int)st->draws, (int)nb));
  PetscCall(coupling_sample(st, 2 * d + high, nb, i, j, X, what, stopped));
  if (*stopped) {
    PetscCall(PetscFree3(X, Z, valid));
    PetscFunctionReturn(0);
  }
  PetscCall(cumulant_standardize(n, M, X, Z, valid, &nconst));
  if (!high) {
    ScaMat    C;
    NnHistogram hist;
    PetscCall(histogram_create(2000, -1, 1, &hist));
    PetscCall(cc_count(st->comm, n, M, Z, valid, st->thr[STAT_CC], &hist, &C, &c));
    coupling_record_set(&rec[STAT_CC], d, nb, &c, nconst);
    PetscCall(coupling_nested_counts(st, d, Z, valid, nconst, &c, &rec[STAT_CC]));
    PetscCall(coupling_block_counts(st, d, C, i, j, valid, &rec[STAT_CC]));
    if (!d) PetscCall(write_first_draw(st, epoch, f, C, M, valid, &hist));
    PetscCall(histogram_destroy(&hist));
    PetscCall(scamat_destroy(&C));
  } else {
    PetscCall(stat_count(st->comm, STAT_SKEWNESS, n, M, Z, valid, st->thr[STAT_SKEWNESS], NULL, &c));
    coupling_record_set(&rec[STAT_SKEWNESS], d, nb, &c, nconst);
    PetscCall(stat_count(st->comm, STAT_KURTOSIS, n, M, Z, valid, st->thr[STAT_KURTOSIS], NULL, &c));
    coupling_record_set(&rec[STAT_KURTOSIS], d, nb, &c, nconst);
    for (PetscInt q = 0; q < nb; q++) rec[STAT_KURTOSIS].rows[d * nb + q] = i[q], rec[STAT_KURTOSIS].cols[d * nb + q] = j[q];
  }
  PetscCall(PetscFree3(X, Z, valid));
  PetscFunctionReturn(0);
}
