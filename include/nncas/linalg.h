/* Small numerical helpers that know nothing of networks (src/linalg/):
 * PETSc layouts as MPI counts and displacements, the moments of a sample
 * (mean, standard deviation, standard error), and the 1-Wasserstein distance
 * of two discrete measures. The ScaLAPACK matrix is in nncas/scamat.h. */
#ifndef NNCAS_LINALG_H
#define NNCAS_LINALG_H

#include "nncas/core.h"

/* The counts and displacements (PetscMalloc2'd, size of comm entries each;
 * PetscFree2 them) of n entries laid out over comm as a PetscLayout does,
 * and this rank's share nlocal (may be NULL). */
PetscErrorCode nn_layout_counts(MPI_Comm comm, PetscInt n, PetscMPIInt **counts, PetscMPIInt **displs, PetscInt *nlocal);

/* The moments of a sample, accumulated value by value:
 *   mean = sum / n,  var = (sum2 - sum^2 / n) / (n - 1) (clipped at 0),
 *   sd = sqrt(var) (0 for one value),  se = sqrt(var / n) (NaN for one value). */
typedef struct {
  PetscInt n;
  double   sum, sum2;
} NnMoments;
static inline void nn_moments_add(NnMoments *m, double x)
{
  m->n++;
  m->sum += x;
  m->sum2 += x * x;
}
double nn_moments_mean(const NnMoments *m);
double nn_moments_sd(const NnMoments *m);
double nn_moments_se(const NnMoments *m);

/* W1 between the discrete measures sum_i w1[i] delta(x1[i]) and
 * sum_j w2[j] delta(x2[j]) of equal total mass: the integral of |F1 - F2|. */
PetscErrorCode nn_wasserstein1(PetscInt n1, const double *x1, const double *w1, PetscInt n2, const double *x2, const double *w2,
                               double *W);

#endif
