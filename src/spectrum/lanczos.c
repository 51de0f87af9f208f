/* Lanczos with full reorthogonalisation on SLEPc's BV (the Krylov basis,
 * distributed like the operator's vectors) and the tridiagonal eigenproblem on
 * SLEPc's DS; the Wasserstein-1 distance of discrete measures. */
#include "spectrumimpl.h"

#include <stdlib.h>

/* Eigen-decomposition of the tridiagonal T = tridiag(beta, alpha, beta) of
 * order m by DS: Ritz values (ascending) and weights (first components^2). */
static PetscErrorCode tridiagonal_eigen(MPI_Comm comm, PetscInt m, const double *alpha, const double *beta, double *ritz,
                                        double *weights)
{
  DS           ds;
  PetscReal   *T;
  PetscScalar *X, *eig;
  PetscInt     ld;
  PetscFunctionBeginUser;
  PetscCall(DSCreate(PETSC_COMM_SELF, &ds));
  PetscCall(DSSetType(ds, DSHEP));
  PetscCall(DSAllocate(ds, m));
  PetscCall(DSSetCompact(ds, PETSC_TRUE));
  PetscCall(DSSetDimensions(ds, m, 0, 0));
  PetscCall(DSGetLeadingDimension(ds, &ld));
  PetscCall(DSGetArrayReal(ds, DS_MAT_T, &T));
  for (PetscInt i = 0; i < m; i++) T[i] = alpha[i];               /* diagonal */
  for (PetscInt i = 0; i + 1 < m; i++) T[ld + i] = beta[i];       /* off-diagonal */
  PetscCall(DSRestoreArrayReal(ds, DS_MAT_T, &T));
  PetscCall(DSSetState(ds, DS_STATE_INTERMEDIATE));              /* already tridiagonal */
  PetscCall(PetscMalloc1(m, &eig));
  PetscCall(DSSolve(ds, eig, NULL));
  PetscCall(DSVectors(ds, DS_MAT_X, NULL, NULL));
  PetscCall(DSGetArray(ds, DS_MAT_X, &X));
  /* sort by eigenvalue (DSSolve's order is not guaranteed without a sorting criterion) */
  PetscInt *perm;
  PetscCall(PetscMalloc1(m, &perm));
  for (PetscInt i = 0; i < m; i++) perm[i] = i;
  PetscCall(PetscSortRealWithPermutation(m, (PetscReal *)eig, perm));
  for (PetscInt i = 0; i < m; i++) {
    ritz[i]    = PetscRealPart(eig[perm[i]]);
    weights[i] = PetscRealPart(X[perm[i] * ld]) * PetscRealPart(X[perm[i] * ld]); /* tau_i = (e_1^T q_i)^2 */
  }
  PetscCall(DSRestoreArray(ds, DS_MAT_X, &X));
  PetscCall(PetscFree(perm));
  PetscCall(PetscFree(eig));
  PetscCall(DSDestroy(&ds));
  (void)comm;
  PetscFunctionReturn(0);
}

PetscErrorCode lanczos_tridiagonal(Mat A, Vec v0, PetscInt M, PetscInt *m, double *ritz, double *weights)
{
  BV        V;
  double   *alpha, *beta;
  PetscReal norm, scale = 0;
  PetscBool lindep = PETSC_FALSE;
  PetscInt  j;
  MPI_Comm  comm;
  PetscScalar *h;
  PetscFunctionBeginUser;
  PetscCall(PetscObjectGetComm((PetscObject)A, &comm));
  PetscCall(BVCreate(comm, &V));
  PetscCall(BVSetSizesFromVec(V, v0, M + 1));
  PetscCall(BVSetOrthogonalization(V, BV_ORTHOG_CGS, BV_ORTHOG_REFINE_ALWAYS, PETSC_DEFAULT, BV_ORTHOG_BLOCK_GS));
  PetscCall(BVSetOptionsPrefix(V, "spectrum_"));
  PetscCall(BVSetFromOptions(V));
  PetscCall(PetscMalloc3(M, &alpha, M, &beta, M + 1, &h));
  PetscCall(BVInsertVec(V, 0, v0));
  for (j = 0; j < M; j++) {
    PetscCall(BVMatMultColumn(V, A, j));                    /* v_{j+1} = A v_j */
    PetscCall(BVOrthogonalizeColumn(V, j + 1, h, &norm, &lindep)); /* against v_0..v_j, twice (full reorthogonalisation) */
    alpha[j] = PetscRealPart(h[j]);                          /* alpha_j = v_j^T A v_j */
    scale    = PetscMax(scale, PetscMax(PetscAbsReal(alpha[j]), j ? beta[j - 1] : 0));
    if (j + 1 == M || lindep || norm <= 1e-12 * scale) { /* done, or an invariant subspace */
      j++;
      break;
    }
    beta[j] = norm;                                          /* beta_j = ||w|| */
    PetscCall(BVScaleColumn(V, j + 1, 1.0 / norm));
  }
  *m = j;
  PetscCall(tridiagonal_eigen(comm, *m, alpha, beta, ritz, weights));
  PetscCall(PetscFree3(alpha, beta, h));
  PetscCall(BVDestroy(&V));
  PetscFunctionReturn(0);
}
