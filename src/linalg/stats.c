/* The moments of a sample and the 1-Wasserstein distance of two discrete
 * measures (include/nncas/linalg.h). */
#include "nncas/linalg.h"

#include <math.h>
#include <stdlib.h>

double nn_moments_mean(const NnMoments *m) { return m->sum / m->n; }

/* (sum2 - sum^2 / n) / (n - 1), clipped at 0 against rounding */
static double moments_var(const NnMoments *m) { return PetscMax(0, (m->sum2 - m->sum * m->sum / m->n) / (m->n - 1)); }

double nn_moments_sd(const NnMoments *m) { return m->n > 1 ? sqrt(moments_var(m)) : 0; }

double nn_moments_se(const NnMoments *m) { return m->n > 1 ? sqrt(moments_var(m) / m->n) : NAN; }

typedef struct {
  double x, w;
} Atom;

static int atom_cmp(const void *a, const void *b)
{
  double d = ((const Atom *)a)->x - ((const Atom *)b)->x;
  return d < 0 ? -1 : d > 0;
}

/* W1 = integral |F1 - F2| dx over the merged, sorted atoms (weights of the
 * second measure negated, so the running sum is F1 - F2). */
PetscErrorCode nn_wasserstein1(PetscInt n1, const double *x1, const double *w1, PetscInt n2, const double *x2, const double *w2,
                               double *W)
{
  Atom  *a;
  double F = 0;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(n1 + n2, &a));
  for (PetscInt i = 0; i < n1; i++) a[i] = (Atom){x1[i], w1[i]};
  for (PetscInt i = 0; i < n2; i++) a[n1 + i] = (Atom){x2[i], -w2[i]};
  qsort(a, (size_t)(n1 + n2), sizeof(Atom), atom_cmp);
  *W = 0;
  for (PetscInt i = 0; i + 1 < n1 + n2; i++) {
    F += a[i].w;
    *W += fabs(F) * (a[i + 1].x - a[i].x);
  }
  PetscCall(PetscFree(a));
  PetscFunctionReturn(0);
}
