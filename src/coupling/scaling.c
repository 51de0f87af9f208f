/* The scaling exponent of a count with N_b (Sec. 5.1, Fig. 1f): counts at
 * several N_b from the same draws, the exponent fitted across them; see
 * include/nncas/coupling.h. */
#include "nncas/coupling.h"

#include <math.h>

/* Least-squares slope of y against x over the m points (NaN for fewer than 2
 * distinct x). */
static double ls_slope(PetscInt m, const double *x, const double *y)
{
  double mx = 0, my = 0, sxx = 0, sxy = 0;
  if (m < 2) return NAN;
  for (PetscInt k = 0; k < m; k++) mx += x[k], my += y[k];
  mx /= m, my /= m;
  for (PetscInt k = 0; k < m; k++) sxx += (x[k] - mx) * (x[k] - mx), sxy += (x[k] - mx) * (y[k] - my);
  return sxx > 0 ? sxy / sxx : NAN; /* slope = sum (x - mx)(y - my) / sum (x - mx)^2 */
}

/* The slope of log(y_k) against log(nb_k) over the k with y_k > 0. */
static double log_log_slope(PetscInt K, const PetscInt *nb, const double *y, double *lx, double *ly)
{
  PetscInt m = 0;
  for (PetscInt k = 0; k < K; k++)
    if (y[k] > 0 && isfinite(y[k])) lx[m] = log((double)nb[k]), ly[m] = log(y[k]), m++;
  return ls_slope(m, lx, ly);
}

PetscErrorCode coupling_fit_exponent(PetscInt K, const PetscInt *nb, PetscInt B, const double *count, const double *norm,
                                     NnScalingFit *fit)
{
  double  *y, *ymean, *lx, *ly, *nsum, sum = 0, sum2 = 0;
  PetscInt nfit = 0;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc5(K, &y, K, &ymean, K, &lx, K, &ly, K, &nsum));
  PetscCall(PetscArrayzero(ymean, K));
  PetscCall(PetscArrayzero(nsum, K));
  for (PetscInt d = 0; d < B; d++) {
    for (PetscInt k = 0; k < K; k++) {
      y[k] = norm[d * K + k] > 0 ? count[d * K + k] / norm[d * K + k] : NAN; /* count per entry */
      ymean[k] += count[d * K + k], nsum[k] += norm[d * K + k];
    }
    const double e = log_log_slope(K, nb, y, lx, ly);
    if (isnan(e)) continue;
    nfit++, sum += e, sum2 += e * e;
  }
  fit->draws_fitted = nfit;
  fit->exponent     = nfit ? sum / nfit : NAN;
  /* standard error over the draws: sd / sqrt(B), sd with B - 1 */
  fit->standard_error = nfit > 1 ? sqrt(PetscMax(sum2 - nfit * fit->exponent * fit->exponent, 0) / (nfit - 1) / nfit) : NAN;
  for (PetscInt k = 0; k < K; k++) ymean[k] = nsum[k] > 0 ? ymean[k] / nsum[k] : NAN; /* sum_d count / sum_d norm */
  fit->exponent_of_mean = log_log_slope(K, nb, ymean, lx, ly);
  PetscCall(PetscFree5(y, ymean, lx, ly, nsum));
  PetscFunctionReturn(0);
}
