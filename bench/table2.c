/* Table 2 of the paper by Algorithm 3: null counts of the correlation
 * coefficients (N_b = 100), skewness and excess kurtosis (N_b = 10) of n = 157
 * observations of independent N(0, 1) variables, B = 5 samples, at the
 * thresholds 0.4, 0.4, 1 (override with -table2_*), on any number of ranks. */
#include "nncas/coupling.h"
#include "nncas/init.h"
#include <math.h>

static PetscErrorCode table2(void)
{
  PetscInt  n = 157, B = 5, nb[3] = {100, 10, 10};
  PetscReal thr[3] = {0.4, 0.4, 1.0};
  PetscInt  three = 3;
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-table2_n", &n, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-table2_draws", &B, NULL));
  PetscCall(PetscOptionsGetRealArray(NULL, NULL, "-table2_thresholds", thr, &three, NULL));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%-10s %5s %10s %20s %12s   (paper)\n", "statistic", "N_b", "threshold", "null count", "seconds"));
  const char *paper[3] = {"16.00 +- 6.69", "67.80 +- 73.74", "2.20 +- 2.32"};
  for (int k = 0; k < 3; k++) {
    double counts[64], s = 0, s2 = 0, t0 = MPI_Wtime();
    PetscCall(coupling_null_counts(PETSC_COMM_WORLD, (NnStatKind)k, n, nb[k], thr[k], B, 1, NULL, counts));
    for (PetscInt b = 0; b < B; b++) s += counts[b], s2 += counts[b] * counts[b];
    double mean = s / B, se = sqrt(PetscMax(0, (s2 - s * s / B) / (B - 1)) / B);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%-10s %5d %10.2f %12.2f +- %6.2f SE %9.1f   (%s)\n", NnStatNames[k], (int)nb[k], (double)thr[k], mean, se,
                          MPI_Wtime() - t0, paper[k]));
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr;
  if (nn_initialize(&argc, &argv, NULL, NULL)) return NN_EXIT_ERROR;
  ierr = table2();
  return nn_finalize(ierr, NN_EXIT_OK);
}
