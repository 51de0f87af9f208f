/* The correlation counts at several N_b (-coupling_nb 10,20,50,100) and the
 * exponent of N_b fitted across them (Sec. 5.1, Fig. 1f), and the first
 * draw's counts by layer block.
 *
 * Nested draws: the index vectors of a smaller N_b are the first N_b entries
 * of the same draw's vectors (prefixes of one permutation of [N]), so its
 * N_b^2 variables are the sub-block p, q < N_b of the largest one's and need
 * no Hessian columns of their own: only the counting is repeated. The
 * standardisation is per variable, so the sub-block of the standardised
 * sample is the standardised sub-sample, and the counts at a smaller N_b are
 * those of a run with that single N_b and the same seed.
 *
 * Layer blocks: variable v = p N_b + q, entry (i_p, j_q), belongs to block
 * (layer(i_p), layer(j_q)) of the L x L weight layers (weight and bias of a
 * layer together). For the first draw at the largest N_b: the variables and
 * the varying variables per block, and the ordered pairs (a, b), a != b, both
 * varying, |r_ab| > threshold, by (block of a, block of b) (L^2 x L^2); their
 * sum is the draw's s_0.
 *
 * Geometry, every draw at the largest N_b: the same pairs by the first class
 * that fits, sharing the row index p, the column index q, the layer block, or
 * none; beside them the split of all ordered pairs of varying variables (the
 * null: a count blind to geometry). Sampled rows and columns make a pair share
 * p or q far more often than N_b^2 entries drawn uniformly from the N^2 would
 * (docs/reproduction.md, "N-scaling"). */
#include "couplingimpl.h"

#include <math.h>
#include <string.h>

PetscErrorCode coupling_nested_counts(Coupling cp, PetscInt d, const double *Z, const PetscBool *valid, PetscInt nconst,
                                      const NnStatCount *c, DrawRecord *r)
{
  const PetscInt K = cp->knb, nb = cp->nb[STAT_CC], n = cp->nbatches;
  double        *Zs;
  PetscBool     *vs;
  PetscFunctionBeginUser;
  r->count_by_nb[d * K + K - 1]   = c->count;
  r->varying_by_nb[d * K + K - 1] = (double)(nb * nb - nconst);
  if (K == 1) PetscFunctionReturn(0);
  PetscCall(PetscMalloc2((size_t)n * cp->nbs[K - 2] * cp->nbs[K - 2], &Zs, cp->nbs[K - 2] * cp->nbs[K - 2], &vs));
  for (PetscInt k = 0; k < K - 1; k++) {
    const PetscInt m = cp->nbs[k];
    PetscInt       varying = 0;
    NnStatCount    ck;
    for (PetscInt p = 0; p < m; p++) /* the sub-block p, q < m: variable p m + q is p nb + q of the largest */
      for (PetscInt q = 0; q < m; q++) {
        vs[p * m + q] = valid[p * nb + q];
        varying += vs[p * m + q];
        PetscCall(PetscArraycpy(Zs + (size_t)(p * m + q) * n, Z + (size_t)(p * nb + q) * n, n));
      }
    PetscCall(cc_count(cp->comm, n, m * m, Zs, vs, cp->thr[STAT_CC], NULL, NULL, &ck));
    r->count_by_nb[d * K + k]   = ck.count;
    r->varying_by_nb[d * K + k] = (double)varying;
  }
  PetscCall(PetscFree2(Zs, vs));
  PetscFunctionReturn(0);
}

/* The weight layer (0-based) holding theta index idx. */
static PetscInt layer_of(Coupling cp, PetscInt idx)
{
  for (PetscInt l = 0; l < cp->L; l++)
    if (idx >= cp->layer_off[l] && idx < cp->layer_off[l] + cp->layer_len[l]) return l;
  return -1;
}

typedef struct {
  const PetscInt  *blk; /* block of each variable, layer(i_p) L + layer(j_q) */
  const PetscBool *valid;
  PetscInt         L2, nb;
  double           thr, *pairs; /* pairs: NULL but for the first draw */
  double           geometry[NN_GEOMETRY_CLASSES];
} BlockTally;

/* The geometry class of the ordered pair (a, b) of variables v = p N_b + q. */
static int geometry_class(const BlockTally *t, PetscInt a, PetscInt b)
{
  if (a / t->nb == b / t->nb) return 0;
  if (a % t->nb == b % t->nb) return 1;
  return t->blk[a] == t->blk[b] ? 2 : 3;
}

static PetscErrorCode block_tally(void *ctx, PetscInt a, PetscInt b, double *r)
{
  BlockTally *t = (BlockTally *)ctx;
  if (a == b || !t->valid[a] || !t->valid[b] || !(PetscAbsReal(*r) > t->thr)) return 0; /* as cc_count counts s_0 */
  if (t->pairs) t->pairs[t->blk[a] * t->L2 + t->blk[b]] += 1;
  t->geometry[geometry_class(t, a, b)] += 1;
  return 0;
}

/* The ordered pairs of distinct varying variables by geometry class, in
 * closed form from the counts of varying variables per row p, per column q,
 * per block, per (row, layer of the column index) and per (column, layer of
 * the row index): what a count blind to geometry would give. */
static PetscErrorCode geometry_null(Coupling cp, const BlockTally *t, double null[NN_GEOMETRY_CLASSES])
{
  const PetscInt nb = t->nb, L = cp->L;
  double        *row, *col, *blk, *rowl, *coll, V = 0, same_blk = 0, row_blk = 0, col_blk = 0;
  PetscFunctionBeginUser;
  PetscCall(PetscCalloc5(nb, &row, nb, &col, L * L, &blk, nb * L, &rowl, nb * L, &coll));
  for (PetscInt v = 0; v < nb * nb; v++) {
    const PetscInt p = v / nb, q = v % nb;
    if (!t->valid[v]) continue;
    V += 1, row[p] += 1, col[q] += 1, blk[t->blk[v]] += 1;
    rowl[p * L + t->blk[v] % L] += 1; /* the layer of j_q */
    coll[q * L + t->blk[v] / L] += 1; /* the layer of i_p */
  }
  for (int c = 0; c < NN_GEOMETRY_CLASSES; c++) null[c] = 0;
  for (PetscInt p = 0; p < nb; p++) null[0] += row[p] * (row[p] - 1), null[1] += col[p] * (col[p] - 1);
  for (PetscInt k = 0; k < L * L; k++) same_blk += blk[k] * (blk[k] - 1);
  for (PetscInt k = 0; k < nb * L; k++) row_blk += rowl[k] * (rowl[k] - 1), col_blk += coll[k] * (coll[k] - 1);
  null[2] = same_blk - row_blk - col_blk; /* same block, neither row nor column (one pair cannot share both) */
  null[3] = V * (V - 1) - null[0] - null[1] - null[2];
  PetscCall(PetscFree5(row, col, blk, rowl, coll));
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_block_counts(Coupling cp, PetscInt d, ScaMat C, const PetscInt *i, const PetscInt *j, const PetscBool *valid,
                                     DrawRecord *r)
{
  const PetscInt nb = cp->nb[STAT_CC], L = cp->L;
  double        *g = r->geometry + d * 2 * NN_GEOMETRY_CLASSES;
  PetscInt      *blk;
  BlockTally     t;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(nb * nb, &blk));
  for (PetscInt p = 0; p < nb; p++)
    for (PetscInt q = 0; q < nb; q++) {
      const PetscInt lp = layer_of(cp, i[p]), lq = layer_of(cp, j[q]), v = p * nb + q;
      PetscCheck(lp >= 0 && lq >= 0, cp->comm, PETSC_ERR_PLIB, "coupling: index %" PetscInt_FMT " or %" PetscInt_FMT " in no weight layer", i[p], j[q]);
      blk[v] = lp * L + lq;
      if (!d) r->block_vars[blk[v]] += 1, r->block_varying[blk[v]] += valid[v];
    }
  t = (BlockTally){blk, valid, L * L, nb, cp->thr[STAT_CC], d ? NULL : r->block_pairs, {0}};
  PetscCall(scamat_foreach_local(C, block_tally, &t));
  if (!d) PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, r->block_pairs, (int)(L * L * L * L), MPI_DOUBLE, MPI_SUM, cp->comm));
  PetscCallMPI(MPI_Allreduce(t.geometry, g, NN_GEOMETRY_CLASSES, MPI_DOUBLE, MPI_SUM, cp->comm));
  PetscCall(geometry_null(cp, &t, g + NN_GEOMETRY_CLASSES));
  PetscCall(PetscFree(blk));
  PetscFunctionReturn(0);
}

/* A (rows x cols) array of doubles g/name with its description. */
static PetscErrorCode write_matrix(NnH5File *f, const char *g, const char *name, PetscInt rows, PetscInt cols, const double *x,
                                   const char *units, const char *about)
{
  char    path[256];
  hsize_t dims[2] = {(hsize_t)rows, (hsize_t)cols};
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s", g, name));
  PetscCall(nn_h5_write_double(f, path, 2, dims, x));
  PetscCall(nn_h5_describe(f, path, units, about));
  PetscFunctionReturn(0);
}

/* gb/layer_range (L x 2): offset and length of each weight layer in theta. */
static PetscErrorCode write_layer_ranges(Coupling cp, NnH5File *f, const char *gb)
{
  int64_t *lr;
  hsize_t  d2[2] = {(hsize_t)cp->L, 2};
  char     path[300];
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(2 * cp->L, &lr));
  for (PetscInt l = 0; l < cp->L; l++) lr[2 * l] = cp->layer_off[l], lr[2 * l + 1] = cp->layer_len[l];
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/layer_range", gb));
  PetscCall(nn_h5_write_int64(f, path, 2, d2, lr));
  PetscCall(nn_h5_describe(f, path, "1", "weight layer l holds theta[offset, offset + length) (weight and bias)"));
  PetscCall(PetscFree(lr));
  PetscFunctionReturn(0);
}

/* g/blocks: the first draw's counts by layer block. */
static PetscErrorCode write_blocks(Coupling cp, NnH5File *f, const char *g, DrawRecord *r)
{
  const PetscInt L = r->L, L2 = L * L;
  char           gb[256];
  double        *x;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(gb, sizeof gb, "%s/blocks", g));
  PetscCall(nn_h5_group(f, gb));
  PetscCall(nn_h5_attr_string(f, gb, "description", "the first draw at the largest N_b by layer block: variable (i_p, j_q) is in block (layer(i_p), layer(j_q)) of the weight layers"));
  PetscCall(PetscMalloc1(L2, &x));
  PetscCall(write_layer_ranges(cp, f, gb));
  PetscCall(write_matrix(f, gb, "variables", L, L, r->block_vars, "count", "sampled entries (i_p, j_q) by (layer(i_p), layer(j_q))"));
  PetscCall(write_matrix(f, gb, "varying", L, L, r->block_varying, "count", "of them, entries that vary over the batches"));
  for (PetscInt a = 0; a < L2; a++) {
    x[a] = 0;
    for (PetscInt b = 0; b < L2; b++) x[a] += r->block_pairs[a * L2 + b];
  }
  PetscCall(write_matrix(f, gb, "correlated", L, L, x, "count", "correlated ordered pairs (a, b) by the block of a (sums to counts[0])"));
  PetscCall(write_matrix(f, gb, "pairs", L2, L2, r->block_pairs, "count", "correlated ordered pairs (a, b) by (block of a, block of b); block (l, m) is row l L + m"));
  PetscCall(PetscFree(x));
  PetscFunctionReturn(0);
}

/* The fits of count / N_b^2 and count / V across the N_b as attributes of g (prefix "fit_exponent"). */
static PetscErrorCode write_fits(Coupling cp, NnH5File *f, const char *g, DrawRecord *r, const double *nb2, NnScalingFit fit[2])
{
  static const char *const suffix[2] = {"", "_varying"};
  char                     name[64];
  PetscFunctionBeginUser;
  PetscCall(coupling_fit_exponent(r->K, cp->nbs, cp->draws, r->count_by_nb, nb2, &fit[0]));
  PetscCall(coupling_fit_exponent(r->K, cp->nbs, cp->draws, r->count_by_nb, r->varying_by_nb, &fit[1]));
  for (int v = 0; v < 2; v++) {
    PetscCall(PetscSNPrintf(name, sizeof name, "fit_exponent%s", suffix[v]));
    PetscCall(nn_h5_attr_double(f, g, name, fit[v].exponent));
    PetscCall(PetscSNPrintf(name, sizeof name, "fit_exponent%s_standard_error", suffix[v]));
    PetscCall(nn_h5_attr_double(f, g, name, fit[v].standard_error));
    PetscCall(PetscSNPrintf(name, sizeof name, "fit_exponent%s_of_mean", suffix[v]));
    PetscCall(nn_h5_attr_double(f, g, name, fit[v].exponent_of_mean));
    PetscCall(PetscSNPrintf(name, sizeof name, "fit_draws%s", suffix[v]));
    PetscCall(nn_h5_attr_int64(f, g, name, fit[v].draws_fitted));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_nested_write(Coupling cp, NnH5File *f, const char *g, DrawRecord *r)
{
  const PetscInt B = cp->draws, K = r->K;
  double        *nb2, *x;
  int64_t        nb[COUPLING_MAX_NB];
  hsize_t        dk = (hsize_t)K;
  char           path[256], list[128] = "";
  NnScalingFit   fit[2];
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2((size_t)B * K, &nb2, (size_t)B * K, &x));
  for (PetscInt k = 0; k < K; k++) {
    nb[k] = cp->nbs[k];
    PetscCall(PetscSNPrintf(list + strlen(list), sizeof list - strlen(list), "%s%d", k ? "," : "", (int)cp->nbs[k]));
    for (PetscInt d = 0; d < B; d++) nb2[d * K + k] = (double)cp->nbs[k] * cp->nbs[k];
  }
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/nb", g));
  PetscCall(nn_h5_write_int64(f, path, 1, &dk, nb));
  PetscCall(nn_h5_describe(f, path, "1", "the N_b of -coupling_nb, ascending; a smaller N_b's draw is the sub-block p, q < N_b of the largest one's"));
  PetscCall(write_matrix(f, g, "counts_by_nb", B, K, r->count_by_nb, "count", "s_0 per draw (rows) and N_b (columns)"));
  PetscCall(write_matrix(f, g, "varying_by_nb", B, K, r->varying_by_nb, "count", "V, the variables varying over the batches (N_b^2 - constant_variables), per draw and N_b"));
  for (PetscInt q = 0; q < B * K; q++) x[q] = r->count_by_nb[q] / nb2[q];
  PetscCall(write_matrix(f, g, "per_entry_by_nb", B, K, x, "1", "s_0 / N_b^2 per draw and N_b"));
  for (PetscInt q = 0; q < B * K; q++) x[q] = r->varying_by_nb[q] > 0 ? r->count_by_nb[q] / r->varying_by_nb[q] : NAN;
  PetscCall(write_matrix(f, g, "per_varying_entry_by_nb", B, K, x, "1", "s_0 / V per draw and N_b (NaN for V = 0)"));
  PetscCall(write_fits(cp, f, g, r, nb2, fit));
  if (K > 1)
    PetscCall(PetscPrintf(cp->comm, "[coupling] cc fit over N_b %s: s_0/N_b^2 ~ N_b^%.3f +- %.3f SE (%d draws; of the mean %.3f), s_0/V ~ N_b^%.3f +- %.3f SE; a fraction N_b^-1/2 of N_b^2 would be 1.5\n",
                          list, fit[0].exponent, fit[0].standard_error, (int)fit[0].draws_fitted, fit[0].exponent_of_mean, fit[1].exponent,
                          fit[1].standard_error));
  PetscCall(write_blocks(cp, f, g, r));
  PetscCall(write_matrix(f, g, "geometry", B, 2 * NN_GEOMETRY_CLASSES, r->geometry, "count",
                         "per draw at the largest N_b: correlated ordered pairs (a, b) of varying variables sharing the row index p, "
                         "the column index q (not p), the layer block (neither), none; then all ordered pairs of distinct varying "
                         "variables split the same way (the null)"));
  PetscCall(PetscFree2(nb2, x));
  PetscFunctionReturn(0);
}
