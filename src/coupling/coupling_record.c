/* A statistic's counts over the draws of Algorithm 1, what they give per
 * entry and as exponents of N_b, and writing them to the results file. */
#include "couplingimpl.h"

#include <math.h>

void coupling_mean_se(PetscInt B, const double *x, double *mean, double *se)
{
  NnMoments m = {0, 0, 0};
  for (PetscInt b = 0; b < B; b++) nn_moments_add(&m, x[b]);
  *mean = nn_moments_mean(&m);
  *se   = nn_moments_se(&m);
}

/* A standard error for the log: "n/a" when undefined (a single draw). */
static const char *se_text(double se, const char *fmt, char *buf, size_t len)
{
  if (isnan(se)) return "n/a (one draw)";
  PetscSNPrintf(buf, len, fmt, se);
  return buf;
}

PetscErrorCode coupling_write_histogram(NnH5File *f, const char *g, const NnHistogram *h)
{
  char path[256];
  PetscFunctionBeginUser;
  PetscCall(nn_h5_write_vector(f, g, "histogram", (hsize_t)h->nbins, h->count, "count", "histogram of the statistic's values (first draw); bins over [lo, hi]"));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/histogram", g));
  PetscCall(nn_h5_attr_double(f, path, "lo", h->lo));
  PetscCall(nn_h5_attr_double(f, path, "hi", h->hi));
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_record_write(Coupling cp, NnH5File *f, const char *g, int k, DrawRecord *r)
{
  const PetscInt B = cp->draws, nb = cp->nb[k];
  double         m, se;
  hsize_t        d2[2] = {(hsize_t)B, (hsize_t)nb};
  int64_t       *ix;
  char           path[256];
  PetscFunctionBeginUser;
  PetscCall(nn_h5_group(f, g));
  PetscCall(nn_h5_write_vector(f, g, "counts", (hsize_t)B, r->count, "count", "statistics above the threshold (s_0) per draw"));
  PetscCall(nn_h5_write_vector(f, g, "per_entry", (hsize_t)B, r->per_entry, "1", "s_0 / N_b^2 per draw (Algorithm 1 step 4)"));
  PetscCall(nn_h5_write_vector(f, g, "exponent", (hsize_t)B, r->exponent, "1", "log(s_0 / N_b^2) / log(N_b) per draw (NaN when s_0 = 0); exponent_mean is that of the mean per-entry count"));
  PetscCall(nn_h5_write_vector(f, g, "total", (hsize_t)B, r->total, "count", "statistics counted over per draw"));
  PetscCall(nn_h5_write_vector(f, g, "constant_variables", (hsize_t)B, r->nconst, "count", "Hessian entries constant across the batches (left out)"));
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
  coupling_mean_se(B, r->per_entry, &m, &se);
  PetscCall(nn_h5_attr_double(f, g, "per_entry_mean", m));
  PetscCall(nn_h5_attr_double(f, g, "per_entry_standard_error", se));
  char sebuf[32];
  PetscCall(PetscPrintf(cp->comm, "[coupling] %-8s N_b %3d: non-zero per entry %.4g +- %s SE", NnStatNames[k], (int)nb, m,
                        se_text(se, "%.2g", sebuf, sizeof sebuf)));
  /* exponent of the mean per-entry count, its error by the delta method */
  double pm = m, pse = se;
  m  = pm > 0 ? log(pm) / log((double)nb) : NAN;
  se = pm > 0 ? pse / (pm * log((double)nb)) : NAN;
  PetscCall(nn_h5_attr_double(f, g, "exponent_mean", m));
  PetscCall(nn_h5_attr_double(f, g, "exponent_standard_error", se));
  PetscCall(nn_h5_attr_double(f, g, "threshold", cp->thr[k]));
  PetscCall(nn_h5_attr_int64(f, g, "N_b", nb));
  PetscCall(PetscPrintf(cp->comm, " = N_b^%.3f (+- %s SE)\n", m, se_text(se, "%.3f", sebuf, sizeof sebuf)));
  if (k == STAT_CC) PetscCall(coupling_nested_write(cp, f, g, r));
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_record_alloc(PetscInt B, PetscInt nb, PetscInt K, PetscInt L, DrawRecord *r)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc5(B, &r->count, B, &r->per_entry, B, &r->exponent, B, &r->total, B, &r->nconst));
  PetscCall(PetscMalloc2((size_t)B * nb, &r->rows, (size_t)B * nb, &r->cols));
  r->K = K, r->L = L;
  PetscCall(PetscCalloc2((size_t)B * K, &r->count_by_nb, (size_t)B * K, &r->varying_by_nb));
  PetscCall(PetscCalloc4((size_t)L * L, &r->block_vars, (size_t)L * L, &r->block_varying, (size_t)L * L * L * L, &r->block_pairs,
                         (size_t)B * 2 * NN_GEOMETRY_CLASSES * (L > 0), &r->geometry));
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_record_free(DrawRecord *r)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree5(r->count, r->per_entry, r->exponent, r->total, r->nconst));
  PetscCall(PetscFree2(r->rows, r->cols));
  PetscCall(PetscFree2(r->count_by_nb, r->varying_by_nb));
  PetscCall(PetscFree4(r->block_vars, r->block_varying, r->block_pairs, r->geometry));
  PetscFunctionReturn(0);
}

void coupling_record_set(DrawRecord *r, PetscInt d, PetscInt nb, const NnStatCount *c, PetscInt nconst)
{
  r->count[d]     = c->count;
  r->per_entry[d] = c->count / ((double)nb * nb);
  r->exponent[d]  = c->count > 0 ? log(r->per_entry[d]) / log((double)nb) : NAN;
  r->total[d]     = c->total;
  r->nconst[d]    = (double)nconst;
}
