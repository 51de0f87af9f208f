/* One draw of Algorithm 1 (App. E): index vectors i, j over [N]; the entries
 * H_b[i, j] of every batch's Hessian; their standardised values and the
 * counts of correlation coefficients (or skewness and kurtosis) above the
 * thresholds; for the first draw the histogram and a uniformly sampled
 * correlation submatrix (Fig. 1d/e). */
#include "couplingimpl.h"

#include <math.h>

/* X (n x nb^2, column-major, replicated): observation b (batch b) of
 * variable p nb + q is H_b[i_p, j_q]. The entries of progress slot `slot`
 * are reused and completed; a stop signal leaves X unset and *stopped. */
static PetscErrorCode coupling_sample(Coupling cp, PetscInt slot, PetscInt nb, const PetscInt *i, const PetscInt *j, double *X,
                                      const char *what, PetscBool *stopped)
{
  const PetscInt M = nb * nb, n = cp->nbatches;
  const double  *all = cp->progress.all[slot];
  PetscFunctionBeginUser;
  PetscCall(cp->entries(cp->ctx, PETSC_FALSE, nb, i, nb, j, what, cp->progress.done[slot], cp->progress.all[slot], stopped));
  if (*stopped) PetscFunctionReturn(0);
  for (PetscInt b = 0; b < n; b++)
    for (PetscInt v = 0; v < M; v++) X[(size_t)v * n + b] = all[(size_t)b * M + v];
  PetscFunctionReturn(0);
}

/* nb distinct indices of [N] from stream (epoch, draw, which). */
static PetscErrorCode draw_indices(Coupling cp, PetscInt d, PetscInt which, PetscInt nb, PetscInt *idx)
{
  const PetscInt N = cp->N;
  PetscInt      *perm;
  uint64_t       stream, substream;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(N, &perm));
  nn_coupling_index_stream((uint64_t)cp->epoch, (uint64_t)d, (uint64_t)which, &stream, &substream);
  nn_rng_permutation(nn_rng_key((uint64_t)cp->seed, stream, substream), N, perm);
  PetscCall(PetscArraycpy(idx, perm, nb));
  PetscCall(PetscFree(perm));
  PetscFunctionReturn(0);
}

typedef struct {
  PetscInt  m;
  PetscInt *pos; /* pos[v] = position of variable v in the sample, or -1 */
  double   *sub; /* (m x m) */
} SubmatrixFill;

static PetscErrorCode submatrix_collect(void *ctx, PetscInt i, PetscInt j, double *a)
{
  SubmatrixFill *S = (SubmatrixFill *)ctx;
  if (S->pos[i] >= 0 && S->pos[j] >= 0) S->sub[S->pos[i] * S->m + S->pos[j]] = *a;
  return 0;
}

/* The first draw's uniformly sampled m x m submatrix of the correlation
 * matrix C among the variables that vary (constant entries have no
 * correlation), replicated, into cp->first. */
static PetscErrorCode cc_submatrix(Coupling cp, ScaMat C, PetscInt M, const PetscBool *valid)
{
  FirstDraw    *F = &cp->first;
  PetscInt     *perm, nvalid = 0;
  SubmatrixFill S;
  PetscFunctionBeginUser;
  for (PetscInt v = 0; v < M; v++) nvalid += valid[v];
  F->m = PetscMin(cp->sub, nvalid);
  PetscCall(PetscMalloc2(M, &perm, M, &S.pos));
  PetscCall(PetscMalloc2(F->m + 1, &F->var, (size_t)F->m * F->m + 1, &F->sub));
  nn_rng_permutation(nn_rng_key((uint64_t)cp->seed, NN_STREAM_COUPLING_SUB, (uint64_t)cp->epoch), M, perm);
  for (PetscInt v = 0; v < M; v++) S.pos[v] = -1;
  for (PetscInt q = 0, k = 0; q < M && k < F->m; q++)
    if (valid[perm[q]]) F->var[k] = perm[q], S.pos[perm[q]] = k++;
  PetscCall(PetscArrayzero(F->sub, (size_t)F->m * F->m));
  S.m = F->m, S.sub = F->sub;
  PetscCall(scamat_foreach_local(C, submatrix_collect, &S));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, F->sub, (int)(F->m * F->m), MPI_DOUBLE, MPI_SUM, cp->comm));
  PetscCall(PetscFree2(perm, S.pos));
  PetscFunctionReturn(0);
}

/* The first draw's histogram and correlation submatrix and, with
 * -coupling_full_cc, the whole matrix, under g/cc. */
PetscErrorCode coupling_first_draw_write(Coupling cp, NnH5File *f, const char *g)
{
  const FirstDraw *F = &cp->first;
  char             gc[PETSC_MAX_PATH_LEN], path[PETSC_MAX_PATH_LEN + 32];
  hsize_t          d2[2], dm;
  int64_t         *var;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(gc, sizeof gc, "%s/cc", g));
  PetscCall(nn_h5_group(f, gc));
  PetscCall(coupling_write_histogram(f, gc, &F->hist));
  d2[0] = d2[1] = dm = (hsize_t)F->m;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/submatrix", gc));
  PetscCall(nn_h5_write_double(f, path, 2, d2, F->sub));
  PetscCall(nn_h5_describe(f, path, "1", "correlation coefficients among a uniformly sampled set of the first draw's varying entries (Fig. 1d/e); fewer than -coupling_submatrix if fewer vary"));
  PetscCall(PetscMalloc1(F->m + 1, &var));
  for (PetscInt q = 0; q < F->m; q++) var[q] = F->var[q];
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/submatrix_variables", gc));
  PetscCall(nn_h5_write_int64(f, path, 1, &dm, var));
  PetscCall(nn_h5_describe(f, path, "1", "variables of the submatrix: v = p N_b + q is entry (i_p, j_q)"));
  PetscCall(PetscFree(var));
  if (F->full) {
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/full", gc));
    PetscCall(scamat_write(F->full, f, path));
    PetscCall(nn_h5_describe(f, path, "1", "the whole correlation matrix of the first draw (N_b^2 x N_b^2)"));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_first_draw_free(Coupling cp)
{
  FirstDraw *F = &cp->first;
  PetscFunctionBeginUser;
  if (F->hist.count) PetscCall(histogram_destroy(&F->hist));
  PetscCall(PetscFree2(F->var, F->sub));
  if (F->full) PetscCall(scamat_destroy(&F->full));
  PetscCall(PetscMemzero(F, sizeof *F));
  PetscFunctionReturn(0);
}

/* Draw d's per-batch entries, both statistics, by this rank's group alone,
 * into their progress slots (completing them). */
static PetscErrorCode coupling_draw_entries_group(Coupling cp, PetscInt d, PetscBool *stopped)
{
  PetscFunctionBeginUser;
  for (int high = 0; high < 2 && !*stopped; high++) {
    const PetscInt nb = cp->nb[high ? STAT_SKEWNESS : STAT_CC], slot = 2 * d + high;
    PetscInt      *i, *j;
    char           what[80];
    PetscCall(PetscMalloc2(nb, &i, nb, &j));
    PetscCall(draw_indices(cp, d, 2 * high, nb, i));
    PetscCall(draw_indices(cp, d, 2 * high + 1, nb, j));
    PetscCall(PetscSNPrintf(what, sizeof what, "coupling draw %d/%d N_b=%d, rank group %d", (int)d + 1, (int)cp->draws, (int)nb,
                            (int)cp->groups->index + 1));
    PetscCall(cp->entries(cp->ctx, PETSC_TRUE, nb, i, nb, j, what, cp->progress.done[slot], cp->progress.all[slot], stopped));
    PetscCall(PetscFree2(i, j));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_round_entries(Coupling cp, PetscInt d0, PetscInt d1, PetscInt d, PetscBool *stopped)
{
  const PetscInt n = cp->nbatches;
  PetscFunctionBeginUser;
  PetscCall(coupling_draw_entries_group(cp, d, stopped));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, stopped, 1, MPIU_BOOL, MPI_LOR, cp->comm)); /* a stop in any group stops all */
  for (PetscInt e = d0; e < d1; e++) { /* draw e is group e - d0's: from its first rank to all */
    PetscMPIInt root;
    PetscCall(nn_rank_groups_first_rank(cp->groups, e - d0, &root));
    for (int high = 0; high < 2; high++) {
      const PetscInt nb = cp->nb[high ? STAT_SKEWNESS : STAT_CC], slot = 2 * e + high;
      PetscCallMPI(MPI_Bcast(cp->progress.all[slot], (int)(n * nb * nb), MPI_DOUBLE, root, cp->comm));
      PetscCallMPI(MPI_Bcast(cp->progress.done[slot], (int)n, MPIU_BOOL, root, cp->comm));
    }
  }
  PetscFunctionReturn(0);
}

/* One draw for the statistics using N_b = nb[k0] (CC, or skewness and kurtosis together). */
PetscErrorCode coupling_draw(Coupling cp, PetscInt d, PetscBool high, PetscBool *stopped)
{
  const int      k0 = high ? STAT_SKEWNESS : STAT_CC;
  const PetscInt nb = cp->nb[k0], M = nb * nb, n = cp->nbatches;
  DrawRecord    *rec = cp->rec;
  PetscInt      *i = rec[k0].rows + d * nb, *j = rec[k0].cols + d * nb, nconst;
  double        *X, *Z;
  PetscBool     *valid;
  NnStatCount    c;
  char           what[64];
  PetscFunctionBeginUser;
  PetscCall(draw_indices(cp, d, 2 * high, nb, i));
  PetscCall(draw_indices(cp, d, 2 * high + 1, nb, j));
  PetscCall(PetscMalloc3((size_t)n * M, &X, (size_t)n * M, &Z, M, &valid));
  PetscCall(PetscSNPrintf(what, sizeof what, "coupling draw %d/%d N_b=%d", (int)d + 1, (int)cp->draws, (int)nb));
  PetscCall(coupling_sample(cp, 2 * d + high, nb, i, j, X, what, stopped));
  if (*stopped) {
    PetscCall(PetscFree3(X, Z, valid));
    PetscFunctionReturn(0);
  }
  PetscCall(cumulant_standardize(n, M, X, Z, valid, &nconst));
  if (!high) {
    ScaMat    C;
    NnHistogram hist;
    PetscCall(histogram_create(2000, -1, 1, &hist));
    PetscCall(cc_count(cp->comm, n, M, Z, valid, cp->thr[STAT_CC], &hist, &C, &c));
    coupling_record_set(&rec[STAT_CC], d, nb, &c, nconst);
    PetscCall(coupling_nested_counts(cp, d, Z, valid, nconst, &c, &rec[STAT_CC]));
    PetscCall(coupling_block_counts(cp, d, C, i, j, valid, &rec[STAT_CC]));
    if (!d) { /* kept for coupling_view */
      PetscCall(cc_submatrix(cp, C, M, valid));
      cp->first.hist = hist;
      if (cp->full_cc) cp->first.full = C;
    } else PetscCall(histogram_destroy(&hist));
    if (C != cp->first.full) PetscCall(scamat_destroy(&C));
  } else {
    PetscCall(stat_count(cp->comm, STAT_SKEWNESS, n, M, Z, valid, cp->thr[STAT_SKEWNESS], NULL, &c));
    coupling_record_set(&rec[STAT_SKEWNESS], d, nb, &c, nconst);
    PetscCall(stat_count(cp->comm, STAT_KURTOSIS, n, M, Z, valid, cp->thr[STAT_KURTOSIS], NULL, &c));
    coupling_record_set(&rec[STAT_KURTOSIS], d, nb, &c, nconst);
    for (PetscInt q = 0; q < nb; q++) rec[STAT_KURTOSIS].rows[d * nb + q] = i[q], rec[STAT_KURTOSIS].cols[d * nb + q] = j[q];
  }
  PetscCall(PetscFree3(X, Z, valid));
  PetscFunctionReturn(0);
}
