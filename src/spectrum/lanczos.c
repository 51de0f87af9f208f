/* Lanczos with full reorthogonalisation on SLEPc's BV (the Krylov basis,
 * distributed like the operator's vectors) and the tridiagonal eigenproblem on
 * SLEPc's DS: Ritz values and weights (lanczos_tridiagonal), and also Ritz
 * vectors and residual estimates at both ends (lanczos_ritz_pairs). */
#include "spectrumimpl.h"

#include <stdlib.h>

/* Eigen-decomposition of the tridiagonal T = tridiag(beta, alpha, beta) of
 * order m by DS: Ritz values (ascending), weights (first components^2) and,
 * if S is not NULL, the eigenvectors s_i as the columns of S (m x m, in the
 * order of the Ritz values). */
static PetscErrorCode tridiagonal_eigen(PetscInt m, const double *alpha, const double *beta, double *ritz, double *weights, double *S)
{
  DS           ds;
  PetscReal   *T;
  PetscScalar *X, *eig;
  PetscInt     ld, *perm;
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
  PetscCall(PetscMalloc2(m, &eig, m, &perm));
  PetscCall(DSSolve(ds, eig, NULL));
  PetscCall(DSVectors(ds, DS_MAT_X, NULL, NULL));
  PetscCall(DSGetArray(ds, DS_MAT_X, &X));
  /* sort by eigenvalue (DSSolve's order is not guaranteed without a sorting criterion) */
  for (PetscInt i = 0; i < m; i++) perm[i] = i;
  PetscCall(PetscSortRealWithPermutation(m, (PetscReal *)eig, perm));
  for (PetscInt i = 0; i < m; i++) {
    ritz[i]    = PetscRealPart(eig[perm[i]]);
    weights[i] = PetscRealPart(X[perm[i] * ld]) * PetscRealPart(X[perm[i] * ld]); /* tau_i = (e_1^T q_i)^2 */
    for (PetscInt r = 0; S && r < m; r++) S[i * m + r] = PetscRealPart(X[perm[i] * ld + r]);
  }
  PetscCall(DSRestoreArray(ds, DS_MAT_X, &X));
  PetscCall(PetscFree2(eig, perm));
  PetscCall(DSDestroy(&ds));
  PetscFunctionReturn(0);
}

/* w -= beta v_{j-1} + alpha_j v_j, the three-term step of Lanczos on column
 * j + 1 (w = A v_j) of V, with alpha_j = v_j^T w (beta = beta_{j-1}, 0 at j = 0). */
static PetscErrorCode lanczos_three_term(BV V, PetscInt j, PetscReal beta, PetscScalar *alpha)
{
  Vec w, v;
  PetscFunctionBeginUser;
  PetscCall(BVGetColumn(V, j + 1, &w));
  if (j) {
    PetscCall(BVGetColumn(V, j - 1, &v));
    PetscCall(VecAXPY(w, -beta, v));
    PetscCall(BVRestoreColumn(V, j - 1, &v));
  }
  PetscCall(BVGetColumn(V, j, &v));
  PetscCall(VecDot(w, v, alpha));
  PetscCall(VecAXPY(w, -*alpha, v));
  PetscCall(BVRestoreColumn(V, j, &v));
  PetscCall(BVRestoreColumn(V, j + 1, &w));
  PetscFunctionReturn(0);
}

/* m <= M Lanczos steps from the unit vector v0 into the basis *Vout (M+1
 * columns: v_0..v_{m-1}, then the orthogonalised residual w_m of the last
 * step, not normalised): A V_m = V_m T_m + w_m e_m^T, T_m = tridiag(beta,
 * alpha, beta), beta_m = ||w_m||. Full reorthogonalisation: after the
 * three-term step, w is orthogonalised against every v_i by one classical
 * Gram-Schmidt pass, refined only if the pass shrinks w (DGKS; SLEPc's
 * "ifneeded"). The three-term step leaves w with only rounding's components
 * on the older v_i, so the pass is a small correction and one suffices; on
 * the full product, without that step, every pass needs its refinement: two
 * reads of the basis per step instead of one. */
static PetscErrorCode lanczos_steps(Mat A, Vec v0, PetscInt M, BV *Vout, double *alpha, double *beta, PetscInt *m, PetscReal *beta_m)
{
  BV           V;
  PetscReal    norm = 0, scale = 0;
  PetscBool    lindep = PETSC_FALSE;
  PetscInt     j;
  MPI_Comm     comm;
  PetscScalar *h, a;
  PetscFunctionBeginUser;
  PetscCall(PetscObjectGetComm((PetscObject)A, &comm));
  PetscCall(BVCreate(comm, &V));
  PetscCall(BVSetSizesFromVec(V, v0, M + 1));
  PetscCall(BVSetOrthogonalization(V, BV_ORTHOG_CGS, BV_ORTHOG_REFINE_IFNEEDED, PETSC_DEFAULT, BV_ORTHOG_BLOCK_GS));
  PetscCall(BVSetOptionsPrefix(V, SPECTRUM_BV_PREFIX));
  PetscCall(BVSetFromOptions(V));
  PetscCall(PetscMalloc1(M + 1, &h));
  PetscCall(BVInsertVec(V, 0, v0));
  for (j = 0; j < M; j++) {
    PetscCall(BVMatMultColumn(V, A, j));                          /* w = A v_j */
    PetscCall(lanczos_three_term(V, j, j ? beta[j - 1] : 0, &a)); /* w -= beta_{j-1} v_{j-1} + alpha_j v_j */
    PetscCall(BVOrthogonalizeColumn(V, j + 1, h, &norm, &lindep)); /* against v_0..v_j: the reorthogonalisation */
    alpha[j] = PetscRealPart(a + h[j]);                             /* alpha_j = v_j^T A v_j */
    scale    = PetscMax(scale, PetscMax(PetscAbsReal(alpha[j]), j ? beta[j - 1] : 0));
    if (j + 1 == M || lindep || norm <= 1e-12 * scale) { /* done, or an invariant subspace */
      j++;
      break;
    }
    beta[j] = norm;                                          /* beta_j = ||w|| */
    PetscCall(BVScaleColumn(V, j + 1, 1.0 / norm));
  }
  *m      = j;
  *beta_m = norm;
  *Vout   = V;
  PetscCall(PetscFree(h));
  PetscFunctionReturn(0);
}

PetscErrorCode lanczos_tridiagonal(Mat A, Vec v0, PetscInt M, PetscInt *m, double *ritz, double *weights)
{
  BV        V;
  double   *alpha, *beta;
  PetscReal beta_m;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2(M, &alpha, M, &beta));
  PetscCall(lanczos_steps(A, v0, M, &V, alpha, beta, m, &beta_m));
  PetscCall(tridiagonal_eigen(*m, alpha, beta, ritz, weights, NULL));
  PetscCall(PetscFree2(alpha, beta));
  PetscCall(BVDestroy(&V));
  PetscFunctionReturn(0);
}

/* x = V_m s_i, the Ritz vector of the i-th Ritz value (column i of S), and
 * its residual estimate ||A x - theta_i x|| = beta_m |e_m^T s_i|. */
static PetscErrorCode ritz_vector(BV V, PetscInt m, const double *S, PetscInt i, PetscReal beta_m, Vec x, double *est)
{
  PetscFunctionBeginUser;
  PetscCall(BVSetActiveColumns(V, 0, m));
  PetscCall(BVMultVec(V, 1.0, 0.0, x, (PetscScalar *)(S + i * m))); /* x = V_m s_i */
  *est = beta_m * PetscAbsReal(S[i * m + m - 1]);                     /* beta_m |s_{m,i}| */
  PetscFunctionReturn(0);
}

PetscErrorCode lanczos_ritz_pairs(Mat A, Vec v0, PetscInt M, PetscInt nev, LanczosRitz *r)
{
  BV        V;
  double   *alpha, *beta, *S;
  PetscReal beta_m;
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(r, sizeof *r));
  PetscCall(PetscMalloc2(M, &r->ritz, M, &r->weights));
  PetscCall(PetscMalloc2(M, &alpha, M, &beta));
  PetscCall(lanczos_steps(A, v0, M, &V, alpha, beta, &r->m, &beta_m));
  const PetscInt m = r->m;
  PetscCall(PetscMalloc1((size_t)m * m, &S));
  PetscCall(tridiagonal_eigen(m, alpha, beta, r->ritz, r->weights, S));
  r->nx = PetscMin(nev, m);
  PetscCall(VecDuplicateVecs(v0, r->nx, &r->xmax));
  PetscCall(VecDuplicateVecs(v0, r->nx, &r->xmin));
  PetscCall(PetscMalloc2(r->nx, &r->emax, r->nx, &r->emin));
  for (PetscInt i = 0; i < r->nx; i++) {
    PetscCall(ritz_vector(V, m, S, m - 1 - i, beta_m, r->xmax[i], &r->emax[i])); /* largest Ritz values, descending */
    PetscCall(ritz_vector(V, m, S, i, beta_m, r->xmin[i], &r->emin[i]));         /* smallest, ascending */
  }
  PetscCall(PetscFree(S));
  PetscCall(PetscFree2(alpha, beta));
  PetscCall(BVDestroy(&V));
  PetscFunctionReturn(0);
}

PetscErrorCode lanczos_ritz_destroy(LanczosRitz *r)
{
  PetscFunctionBeginUser;
  if (r->xmax) PetscCall(VecDestroyVecs(r->nx, &r->xmax));
  if (r->xmin) PetscCall(VecDestroyVecs(r->nx, &r->xmin));
  PetscCall(PetscFree2(r->emax, r->emin));
  PetscCall(PetscFree2(r->ritz, r->weights));
  PetscFunctionReturn(0);
}
