/* Coupling-set statistics: counts of correlation coefficients, skewness and
 * excess kurtosis above thresholds against direct loops, planted structure,
 * null counts of independent Gaussians, rank independence, and that the
 * correlation matrix is spread over the ranks. */
#include "fixture.h"
#include "nncas/coupling.h"

/* Direct loops over standardised Z (n x M): the three counts. */
static void direct_counts(PetscInt n, PetscInt M, const double *Z, const PetscBool *v, const double thr[3], double c[3])
{
  double *r = malloc(sizeof(double) * M * M);
  c[0] = c[1] = c[2] = 0;
  for (PetscInt a = 0; a < M; a++)
    for (PetscInt b = 0; b < M; b++) {
      double s = 0;
      for (PetscInt i = 0; i < n; i++) s += Z[a * n + i] * Z[b * n + i];
      r[a * M + b] = s / n;
      if (a != b && v[a] && v[b] && fabs(s / n) > thr[0]) c[0]++;
    }
  for (PetscInt a = 0; a < M; a++)
    for (PetscInt b = 0; b < M; b++)
      for (PetscInt d = 0; d < M; d++) {
        if (!v[a] || !v[b] || !v[d]) continue;
        double s = 0;
        for (PetscInt i = 0; i < n; i++) s += Z[a * n + i] * Z[b * n + i] * Z[d * n + i];
        if (fabs(s / n) > thr[1]) c[1]++;
        for (PetscInt e = 0; e < M; e++) {
          if (!v[e]) continue;
          double q = 0;
          for (PetscInt i = 0; i < n; i++) q += Z[a * n + i] * Z[b * n + i] * Z[d * n + i] * Z[e * n + i];
          q = q / n - r[a * M + b] * r[d * M + e] - r[a * M + d] * r[b * M + e] - r[a * M + e] * r[b * M + d];
          if (fabs(q) > thr[2]) c[2]++;
        }
      }
  free(r);
}

/* X: n x M skewed, partly correlated data with one constant column. */
static void make_data(PetscInt n, PetscInt M, double *X)
{
  NnRngKey k = nn_rng_key(42, 1, 1);
  for (PetscInt a = 0; a < M; a++)
    for (PetscInt i = 0; i < n; i++) {
      double g = nn_rng_normal(k, (uint64_t)(a * n + i)), shared = nn_rng_normal(k, (uint64_t)(1000000 + (a % 3) * n + i));
      X[a * n + i] = a == 5 ? 3.0 : g * g + (a % 2 ? shared : 0.3 * g);
    }
}

static PetscErrorCode counts_equal_direct_loops(void)
{
  const PetscInt n = 23, M = 11;
  const double   thr[3] = {0.3, 0.4, 1.0};
  double         X[23 * 11], Z[23 * 11], ref[3];
  PetscBool      v[11];
  PetscInt       nconst;
  NnStatCount    cc, sk, ku;
  PetscFunctionBeginUser;
  make_data(n, M, X);
  PetscCall(cumulant_standardize(n, M, X, Z, v, &nconst));
  NN_CHECK(nconst == 1 && !v[5], "constant column not detected (%d)", (int)nconst);
  direct_counts(n, M, Z, v, thr, ref);
  PetscCall(cc_count(PETSC_COMM_WORLD, n, M, Z, v, thr[0], NULL, NULL, &cc));
  PetscCall(skewness_count(PETSC_COMM_WORLD, n, M, Z, v, thr[1], NULL, &sk));
  PetscCall(kurtosis_count(PETSC_COMM_WORLD, n, M, Z, v, thr[2], NULL, &ku));
  NN_CHECK(cc.count == ref[0] && sk.count == ref[1] && ku.count == ref[2], "counts %g %g %g vs direct %g %g %g", cc.count, sk.count, ku.count,
           ref[0], ref[1], ref[2]);
  NN_CHECK(cc.total == 10 * 9 && sk.total == 1000 && ku.total == 10000, "totals %g %g %g", cc.total, sk.total, ku.total);
  NN_CHECK(ref[0] > 0 && ref[1] > 0 && ref[2] > 0, "the case counts nothing: %g %g %g", ref[0], ref[1], ref[2]);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     counts %g %g %g equal the direct loops\n", cc.count, sk.count, ku.count));
  PetscFunctionReturn(0);
}

/* 10 blocks of 10 variables sharing a factor: exactly the 10*10*9 ordered
 * within-block pairs are correlated above 0.4; independent Gaussians of the
 * same shape give (almost) none. */
static PetscErrorCode planted_blocks_give_planted_counts(void)
{
  const PetscInt n = 157, M = 100;
  double        *X, *Z;
  PetscBool      v[100];
  PetscInt       nconst;
  NnStatCount    cc;
  NnRngKey       k = nn_rng_key(7, 7, 7);
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2(n * M, &X, n * M, &Z));
  for (PetscInt a = 0; a < M; a++)
    for (PetscInt i = 0; i < n; i++) X[a * n + i] = nn_rng_normal(k, (uint64_t)((a / 10) * n + i)) + 0.1 * nn_rng_normal(k, (uint64_t)(100000 + a * n + i));
  PetscCall(cumulant_standardize(n, M, X, Z, v, &nconst));
  PetscCall(cc_count(PETSC_COMM_WORLD, n, M, Z, v, 0.4, NULL, NULL, &cc));
  NN_CHECK(cc.count == 900, "planted blocks: %g correlations above 0.4, expected 900", cc.count);
  for (PetscInt a = 0; a < M * n; a++) X[a] = nn_rng_normal(k, (uint64_t)(10000000 + a));
  PetscCall(cumulant_standardize(n, M, X, Z, v, &nconst));
  PetscCall(cc_count(PETSC_COMM_WORLD, n, M, Z, v, 0.4, NULL, NULL, &cc));
  NN_CHECK(cc.count <= 2, "independent Gaussians: %g correlations above 0.4 (expected ~0.002)", cc.count);
  PetscCall(PetscFree2(X, Z));
  PetscFunctionReturn(0);
}

/* Null counts of N(0, I) samples (Algorithm 3) for a reduced Table 2 shape
 * match the tail probabilities of the statistics' distributions. */
static PetscErrorCode null_counts_match_gaussian_tails(void)
{
  const PetscInt n = 157, M = 400;
  double        *X, *Z;
  PetscBool     *v;
  PetscInt       nconst;
  NnStatCount    cc;
  NnHistogram    h;
  NnRngKey       k = nn_rng_key(9, 9, 9);
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc3(n * M, &X, n * M, &Z, M, &v));
  for (PetscInt a = 0; a < M * n; a++) X[a] = nn_rng_normal(k, (uint64_t)a);
  PetscCall(cumulant_standardize(n, M, X, Z, v, &nconst));
  PetscCall(histogram_create(200, -1, 1, &h));
  PetscCall(cc_count(PETSC_COMM_WORLD, n, M, Z, v, 0.2, &h, NULL, &cc));
  /* under the null r ~ N(0, 1/n) nearly: P(|r| > 0.2) = P(|N(0,1)| > 2.51) ~ 0.0121 (t distribution: 0.0125) */
  const double expect = cc.total * 0.0125, sd = sqrt(expect);
  double       hsum = 0;
  for (PetscInt b = 0; b < h.nbins; b++) hsum += h.count[b];
  NN_CHECK(hsum == cc.total, "histogram holds %g of %g values", hsum, cc.total);
  NN_CHECK(fabs(cc.count - expect) < 6 * sd + 0.1 * expect, "null count %g, expected about %g", cc.count, expect);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     null count above 0.2: %g (t-distribution tail: %.0f)\n", cc.count, expect));
  PetscCall(histogram_destroy(&h));
  PetscCall(PetscFree3(X, Z, v));
  PetscFunctionReturn(0);
}

/* The N_b = 100 correlation matrix (10^4 x 10^4) is held in parts of about
 * 1/P of it by each rank. */
static PetscErrorCode correlation_matrix_is_spread_over_the_ranks(void)
{
  const PetscInt n = 20, M = 10000;
  double        *Z;
  PetscBool     *v;
  ScaMat       C;
  NnStatCount    cc;
  size_t         bytes, most;
  PetscMPIInt    size;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscMalloc2((size_t)n * M, &Z, M, &v));
  for (PetscInt a = 0; a < M; a++) {
    v[a] = PETSC_TRUE;
    for (PetscInt i = 0; i < n; i++) Z[a * n + i] = (i == a % n) ? sqrt((double)n) : 0; /* r_ab = 1 iff a = b mod n */
  }
  PetscCall(cc_count(PETSC_COMM_WORLD, n, M, Z, v, 0.5, NULL, &C, &cc));
  PetscCall(scamat_local_bytes(C, &bytes));
  PetscCallMPI(MPI_Allreduce(&bytes, &most, 1, MPI_UNSIGNED_LONG, MPI_MAX, PETSC_COMM_WORLD));
  const double full = 8.0 * M * M;
  NN_CHECK(cc.count == (double)M * (M / n - 1), "count %g", cc.count);
  NN_CHECK(most <= 1.05 * full / size, "a rank holds %zu bytes of the %.0f-byte matrix", most, full);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     10^4 x 10^4 correlation matrix: at most %.0f MB of %.0f MB per rank on %d ranks\n", most / 1e6, full / 1e6,
                        (int)size));
  PetscCall(scamat_destroy(&C));
  PetscCall(PetscFree2(Z, v));
  PetscFunctionReturn(0);
}

/* Counts per entry c_d N_b^e_d planted at N_b = 10, 20, 50, 100: the fitted
 * exponent is the mean of the e_d with standard error sd/sqrt(B); a zero count
 * leaves its N_b out of the draw's fit, a draw with one non-zero count is not
 * fitted; with one exponent for all draws the pooled fit is that exponent. */
static PetscErrorCode fitted_exponent_recovers_planted_power_laws(void)
{
  const PetscInt nb[4] = {10, 20, 50, 100}, K = 4;
  const double   e[3] = {1.4, 1.5, 1.6}, scale[3] = {0.02, 0.05, 0.03};
  double         count[5 * 4], norm[5 * 4];
  NnScalingFit   fit;
  PetscFunctionBeginUser;
  for (PetscInt d = 0; d < 5; d++)
    for (PetscInt k = 0; k < K; k++) {
      norm[d * K + k]  = (double)nb[k] * nb[k];
      count[d * K + k] = d < 3 ? scale[d] * pow((double)nb[k], e[d]) * norm[d * K + k] : 0; /* per entry c_d N_b^e_d */
    }
  PetscCall(coupling_fit_exponent(K, nb, 3, count, norm, &fit));
  NN_CHECK(fit.draws_fitted == 3 && fabs(fit.exponent - 1.5) < 1e-12, "fitted %g over %d draws, planted mean 1.5", fit.exponent, (int)fit.draws_fitted);
  NN_CHECK(fabs(fit.standard_error - 0.1 / sqrt(3.0)) < 1e-12, "standard error %g, expected sd/sqrt(B) = %g", fit.standard_error, 0.1 / sqrt(3.0));
  count[0] = 0;                                        /* draw 0 loses N_b = 10: still exactly 1.4 */
  count[3 * K + 2] = 7, count[4 * K + 1] = 3, count[4 * K + 3] = 3e4; /* draw 3: one point; draw 4: 3 per 400 and 3 per 10^4 */
  PetscCall(coupling_fit_exponent(K, nb, 5, count, norm, &fit));
  const double e4 = log((3e4 / 1e4) / (3.0 / 400)) / log(100.0 / 20);
  NN_CHECK(fit.draws_fitted == 4 && fabs(fit.exponent - (1.4 + 1.5 + 1.6 + e4) / 4) < 1e-12, "with zeros: fitted %g over %d draws, expected %g over 4",
           fit.exponent, (int)fit.draws_fitted, (1.4 + 1.5 + 1.6 + e4) / 4);
  for (PetscInt d = 0; d < 3; d++)
    for (PetscInt k = 0; k < K; k++) count[d * K + k] = scale[d] * pow((double)nb[k], 1.25) * norm[d * K + k];
  PetscCall(coupling_fit_exponent(K, nb, 3, count, norm, &fit));
  NN_CHECK(fabs(fit.exponent_of_mean - 1.25) < 1e-12 && fabs(fit.standard_error) < 1e-6, "one planted exponent 1.25: pooled fit %g, standard error %g",
           fit.exponent_of_mean, fit.standard_error);
  PetscCall(coupling_fit_exponent(1, nb, 3, count, norm, &fit));
  NN_CHECK(isnan(fit.exponent) && fit.draws_fitted == 0, "one N_b gives no exponent (%g)", fit.exponent);
  PetscFunctionReturn(0);
}

NN_TEST_MAIN(NN_TEST_CASE(fitted_exponent_recovers_planted_power_laws), NN_TEST_CASE(counts_equal_direct_loops), NN_TEST_CASE(planted_blocks_give_planted_counts),
             NN_TEST_CASE(null_counts_match_gaussian_tails), NN_TEST_CASE(correlation_matrix_is_spread_over_the_ranks))
