/* Normalised cumulants of standardised variables and their counts above a
 * threshold (App. E.1-E.3); see include/nncas/coupling.h. */
#include "nncas/coupling.h"

#include <cblas.h>
#include <math.h>

PetscErrorCode histogram_create(PetscInt nbins, double lo, double hi, NnHistogram *h)
{
  PetscFunctionBeginUser;
  h->nbins = nbins, h->lo = lo, h->hi = hi;
  PetscCall(PetscCalloc1(nbins, &h->count));
  PetscFunctionReturn(0);
}

PetscErrorCode histogram_destroy(NnHistogram *h)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(h->count));
  PetscFunctionReturn(0);
}

static inline void histogram_add(NnHistogram *h, double v)
{
  if (!h) return;
  PetscInt b = (PetscInt)floor((v - h->lo) / (h->hi - h->lo) * h->nbins);
  h->count[PetscMax(0, PetscMin(h->nbins - 1, b))] += 1;
}

/* Sums the local tallies over comm. */
static PetscErrorCode tally_reduce(MPI_Comm comm, NnHistogram *h, NnStatCount *out)
{
  double t[2] = {out->count, out->total};
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, t, 2, MPI_DOUBLE, MPI_SUM, comm));
  out->count = t[0], out->total = t[1];
  if (h) PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, h->count, (int)h->nbins, MPI_DOUBLE, MPI_SUM, comm));
  PetscFunctionReturn(0);
}

PetscErrorCode cumulant_standardize(PetscInt n, PetscInt M, const double *X, double *Z, PetscBool *valid, PetscInt *nconst)
{
  PetscFunctionBeginUser;
  *nconst = 0;
  for (PetscInt a = 0; a < M; a++) {
    const double *x = X + (size_t)a * n;
    double       *z = Z + (size_t)a * n, mean = 0, var = 0, scale = 0;
    for (PetscInt i = 0; i < n; i++) mean += x[i], scale = PetscMax(scale, PetscAbsReal(x[i]));
    mean /= n;
    for (PetscInt i = 0; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
    var /= n; /* population variance, as kappa_2 = (1/n) sum */
    valid[a] = var > 1e-28 * PetscMax(scale * scale, 1e-300);
    if (!valid[a]) (*nconst)++;
    for (PetscInt i = 0; i < n; i++) z[i] = valid[a] ? (x[i] - mean) / sqrt(var) : 0; /* z = (x - mean) / sigma */
  }
  PetscFunctionReturn(0);
}

typedef struct {
  const PetscBool *valid;
  double           thr;
  NnHistogram     *hist;
  NnStatCount     *out;
} CcTally;

static PetscErrorCode cc_tally(void *ctx, PetscInt i, PetscInt j, double *r)
{
  CcTally *t = (CcTally *)ctx;
  if (i == j || !t->valid[i] || !t->valid[j]) return 0;
  t->out->total += 1;
  t->out->count += PetscAbsReal(*r) > t->thr;
  histogram_add(t->hist, *r);
  return 0;
}

PetscErrorCode cc_count(MPI_Comm comm, PetscInt n, PetscInt M, const double *Z, const PetscBool *valid, double thr,
                        NnHistogram *hist, ScaMat *C, NnStatCount *out)
{
  ScaMat R;
  CcTally  t = {valid, thr, hist, out};
  PetscFunctionBeginUser;
  out->count = out->total = 0;
  PetscCall(scamat_create(comm, M, &R));
  PetscCall(scamat_gram(R, n, Z, n, 1.0 / n)); /* r = Z^T Z / n, block-cyclic */
  PetscCall(scamat_foreach_local(R, cc_tally, &t));
  PetscCall(tally_reduce(comm, hist, out));
  if (C) *C = R;
  else PetscCall(scamat_destroy(&R));
  PetscFunctionReturn(0);
}

/* This rank's share [lo, hi) of count items. */
static PetscErrorCode share(MPI_Comm comm, PetscInt count, PetscInt *lo, PetscInt *hi)
{
  PetscMPIInt rank, size;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  *lo = (PetscInt)((int64_t)count * rank / size);
  *hi = (PetscInt)((int64_t)count * (rank + 1) / size);
  PetscFunctionReturn(0);
}

PetscErrorCode skewness_count(MPI_Comm comm, PetscInt n, PetscInt M, const double *Z, const PetscBool *valid, double thr,
                              NnHistogram *hist, NnStatCount *out)
{
  double  *P, *S;
  PetscInt lo, hi;
  PetscFunctionBeginUser;
  out->count = out->total = 0;
  PetscCall(share(comm, M, &lo, &hi));
  PetscCall(PetscMalloc2((size_t)n * M, &P, (size_t)M * M, &S));
  for (PetscInt a = lo; a < hi; a++) {
    if (!valid[a]) continue;
    for (PetscInt b = 0; b < M; b++)
      for (PetscInt i = 0; i < n; i++) P[(size_t)b * n + i] = Z[(size_t)a * n + i] * Z[(size_t)b * n + i]; /* z_a z_b */
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)M, (int)M, (int)n, 1.0 / n, P, (int)n, Z, (int)n, 0.0, S,
                (int)M); /* S[b, c] = <z_a z_b z_c> */
    for (PetscInt c = 0; c < M; c++)
      for (PetscInt b = 0; b < M; b++) {
        if (!valid[b] || !valid[c]) continue;
        const double k3 = S[b + (size_t)c * M];
        out->total += 1;
        out->count += PetscAbsReal(k3) > thr;
        histogram_add(hist, k3);
      }
  }
  PetscCall(PetscFree2(P, S));
  PetscCall(tally_reduce(comm, hist, out));
  PetscFunctionReturn(0);
}

PetscErrorCode kurtosis_count(MPI_Comm comm, PetscInt n, PetscInt M, const double *Z, const PetscBool *valid, double thr,
                              NnHistogram *hist, NnStatCount *out)
{
  const PetscInt M2 = M * M, blk = 64;
  double        *P, *r, *K;
  PetscInt       lo, hi;
  PetscFunctionBeginUser;
  out->count = out->total = 0;
  PetscCall(share(comm, M2, &lo, &hi));
  PetscCall(PetscMalloc3((size_t)n * M2, &P, (size_t)M * M, &r, (size_t)blk * M2, &K));
  for (PetscInt p = 0; p < M2; p++) /* column p = (a, b), p = a M + b: z_a z_b */
    for (PetscInt i = 0; i < n; i++) P[(size_t)p * n + i] = Z[(size_t)(p / M) * n + i] * Z[(size_t)(p % M) * n + i];
  cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)M, (int)M, (int)n, 1.0 / n, Z, (int)n, Z, (int)n, 0.0, r, (int)M); /* r = <z z^T> */
  for (PetscInt p0 = lo; p0 < hi; p0 += blk) {
    const PetscInt nb = PetscMin(blk, hi - p0);
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)nb, (int)M2, (int)n, 1.0 / n, P + (size_t)p0 * n, (int)n, P, (int)n, 0.0, K,
                (int)nb); /* K[p, q] = <z_a z_b z_c z_d> */
    for (PetscInt q = 0; q < M2; q++) {
      const PetscInt c = q / M, d = q % M;
      if (!valid[c] || !valid[d]) continue;
      for (PetscInt pp = 0; pp < nb; pp++) {
        const PetscInt a = (p0 + pp) / M, b = (p0 + pp) % M;
        if (!valid[a] || !valid[b]) continue;
        /* k4 = <z_a z_b z_c z_d> - r_ab r_cd - r_ac r_bd - r_ad r_bc */
        const double k4 = K[pp + (size_t)q * nb] - r[a + b * M] * r[c + d * M] - r[a + c * M] * r[b + d * M] - r[a + d * M] * r[b + c * M];
        out->total += 1;
        out->count += PetscAbsReal(k4) > thr;
        histogram_add(hist, k4);
      }
    }
  }
  PetscCall(PetscFree3(P, r, K));
  PetscCall(tally_reduce(comm, hist, out));
  PetscFunctionReturn(0);
}

const char *const NnStatNames[]           = {"cc", "skewness", "kurtosis"};
const double      nn_stat_target_exponent[] = {0.5, 1.0, 1.5};

PetscErrorCode stat_count(MPI_Comm comm, NnStatKind kind, PetscInt n, PetscInt M, const double *Z, const PetscBool *valid,
                          double thr, NnHistogram *hist, NnStatCount *out)
{
  PetscFunctionBeginUser;
  switch (kind) {
  case STAT_CC: PetscCall(cc_count(comm, n, M, Z, valid, thr, hist, NULL, out)); break;
  case STAT_SKEWNESS: PetscCall(skewness_count(comm, n, M, Z, valid, thr, hist, out)); break;
  case STAT_KURTOSIS: PetscCall(kurtosis_count(comm, n, M, Z, valid, thr, hist, out)); break;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_null_counts(MPI_Comm comm, NnStatKind kind, PetscInt n, PetscInt nb, double thr, PetscInt B,
                                    uint64_t seed, NnHistogram *hist, double *counts)
{
  const PetscInt M = nb * nb;
  double        *X, *Z;
  PetscBool     *valid;
  PetscInt       nconst;
  NnStatCount    c;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc3((size_t)n * M, &X, (size_t)n * M, &Z, M, &valid));
  for (PetscInt b = 0; b < B; b++) {
    uint64_t stream, substream;
    nn_null_stream((uint64_t)kind, (uint64_t)b, &stream, &substream);
    NnRngKey key = nn_rng_key(seed, stream, substream);
    for (size_t q = 0; q < (size_t)n * M; q++) X[q] = nn_rng_normal(key, q); /* vec H_0 ~ N(0, I) */
    PetscCall(cumulant_standardize(n, M, X, Z, valid, &nconst));
    PetscCall(stat_count(comm, kind, n, M, Z, valid, thr, b ? NULL : hist, &c));
    counts[b] = c.count;
  }
  PetscCall(PetscFree3(X, Z, valid));
  PetscFunctionReturn(0);
}

double coupling_threshold_from_histogram(const NnHistogram *h, double target, double step)
{
  const double width = (h->hi - h->lo) / h->nbins;
  for (double thr = step;; thr += step) {
    double above = 0;
    for (PetscInt b = 0; b < h->nbins; b++) {
      double mid = h->lo + (b + 0.5) * width;
      if (PetscAbsReal(mid) > thr) above += h->count[b];
    }
    if (above <= target || thr > PetscMax(PetscAbsReal(h->lo), PetscAbsReal(h->hi))) return thr;
  }
}
