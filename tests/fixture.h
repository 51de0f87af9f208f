/* Shared test fixtures: a Hessian of a small network on synthetic data, and
 * small helpers around the distributed operators. */
#ifndef NNCAS_TEST_FIXTURE_H
#define NNCAS_TEST_FIXTURE_H

#include "testlib.h"
#include "nncas/hessian.h"

typedef struct {
  Dataset ds;
  Net     net;
  Hessian h;
  Mat      H;     /* the Hessian operator (hessian_get_mat) */
  PetscInt N;     /* its order: the net's parameters */
  double  *theta; /* (N) the point */
} HCase;

/* Options of an HCase; zero fields take the defaults noted. */
typedef struct {
  const char *spec;  /* layer string */
  NnLoss      loss;
  PetscBool   nobias;
  PetscInt    m;     /* Hessian samples (default 10) */
  PetscInt    batch; /* Hessian batch (0: one batch) */
  NnInit      init;  /* default INIT_OLD */
  double      c;     /* init_c / init_std (default 1) */
  const char *shape; /* synthetic sample shape (default "2,6,6") */
  PetscInt    kmax;  /* directions per pass (default 3) */
  HessianPrecision precision; /* of the network's passes (default double) */
} HCaseOpts;

/* Synthetic mixture data (64 training samples; labels +-1, or (i * 7 + 3)
 * mod K for a multi-class loss), the network, and its Hessian at the
 * initial weights, on comm. */
PetscErrorCode hcase_create(MPI_Comm comm, HCaseOpts o, HCase *hc);
PetscErrorCode hcase_destroy(HCase *hc);

/* y (nout, replicated) <- A v (v of the operator's column size, replicated). */
PetscErrorCode mat_apply_replicated(Mat A, const double *v, PetscInt nout, double *y);
void           fill_normal(NnRngKey key, PetscInt n, double *a);
double         max_abs(PetscInt n, const double *a);

#endif
