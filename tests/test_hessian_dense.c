/* The dense verification mode: the Hessian assembled through the operator
 * into a ScaLAPACK matrix, its symmetry, its product and spectrum on any rank
 * count, and the paper's closed forms (Theorem 1(b), Corollary F.1). */
#include "fixture.h"

#include <string.h>

extern void dgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, double *a, const int *lda, double *s,
                    double *u, const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork, int *info);

/* Dense H of an HCase on its communicator, and its eigenvalues. */
static PetscErrorCode dense_hessian(HCase *hc, ScaMat *A, double *w)
{
  MPI_Comm comm;
  PetscFunctionBeginUser;
  PetscCall(PetscObjectGetComm((PetscObject)hc->H, &comm));
  PetscCall(scamat_create(comm, hc->N, A));
  PetscCall(scamat_set_block_size(*A, 16));
  PetscCall(hessian_dense_assemble(hc->h, HESSIAN_FULL, *A));
  if (w) PetscCall(scamat_eigenvalues(*A, w));
  PetscFunctionReturn(0);
}

static PetscErrorCode dense_hessian_is_symmetric_and_matches_the_operator(void)
{
  const char *specs[3] = {"conv:3:3:1,bn,swish,pool:2,dense:5,bn,tanh,dense:1", "conv:3:3,relu,pool:2,dense:4,relu,dense:1",
                          "dense:7,sigmoid,dense:4,tanh,dense:1"};
  const NnLoss losses[3] = {LOSS_LOGISTIC, LOSS_HINGE, LOSS_SQUARED};
  PetscFunctionBeginUser;
  for (int c = 0; c < 3; c++) {
    HCase    hc;
    ScaMat A;
    double   sym, *v, *hv, *dv, err = 0;
    PetscCall(hcase_create(PETSC_COMM_WORLD, (HCaseOpts){.spec = specs[c], .loss = losses[c], .m = 12, .batch = 6}, &hc));
    const PetscInt N = hc.N;
    PetscCall(dense_hessian(&hc, &A, NULL));
    PetscCall(scamat_symmetry_error(A, &sym));
    PetscCall(PetscMalloc3(N, &v, N, &hv, N, &dv));
    fill_normal(nn_rng_key(2, 2, (uint64_t)c), N, v);
    PetscCall(mat_apply_replicated(hc.H, v, N, hv));
    PetscCall(scamat_mult(A, v, dv));
    for (PetscInt i = 0; i < N; i++) err = fmax(err, fabs(hv[i] - dv[i]));
    err /= max_abs(N, dv);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     %-50s N = %4d: ||H - H^T||/||H|| %.1e, |Hv - H_dense v|/|Hv| %.1e\n", specs[c], (int)N, sym, err));
    NN_CHECK(sym <= 1e-12, "%s: ||H - H^T||_F / ||H||_F = %.3e", specs[c], sym);
    NN_CHECK(err <= 1e-12, "%s: operator and dense products differ by %.3e", specs[c], err);
    PetscCall(PetscFree3(v, hv, dv));
    PetscCall(scamat_destroy(&A));
    PetscCall(hcase_destroy(&hc));
  }
  PetscFunctionReturn(0);
}

/* Eigenvalues from all ranks equal those of the same Hessian built on this rank alone. */
static PetscErrorCode dense_spectrum_same_on_every_rank_count(void)
{
  HCase      world, self;
  ScaMat   Aw, As;
  HCaseOpts  o = {.spec = "conv:3:3:1,bn,relu,pool:2,dense:6,tanh,dense:1", .loss = LOSS_LOGISTIC, .m = 12, .batch = 4};
  PetscFunctionBeginUser;
  PetscCall(hcase_create(PETSC_COMM_WORLD, o, &world));
  PetscCall(hcase_create(PETSC_COMM_SELF, o, &self));
  const PetscInt N = world.N;
  double        *ww, *ws, d = 0;
  PetscCall(PetscMalloc2(N, &ww, N, &ws));
  PetscCall(dense_hessian(&world, &Aw, ww));
  PetscCall(dense_hessian(&self, &As, ws));
  for (PetscInt i = 0; i < N; i++) d = fmax(d, fabs(ww[i] - ws[i]));
  d /= fmax(fabs(ws[0]), fabs(ws[N - 1]));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     N = %d: largest eigenvalue difference to one rank %.1e (relative to ||H||)\n", (int)N, d));
  NN_CHECK(d <= 1e-12, "eigenvalues differ by %.3e from one rank's", d);
  PetscCall(PetscFree2(ww, ws));
  PetscCall(scamat_destroy(&Aw));
  PetscCall(scamat_destroy(&As));
  PetscCall(hcase_destroy(&world));
  PetscCall(hcase_destroy(&self));
  PetscFunctionReturn(0);
}

/* One hidden layer, bias-free ReLU, hinge loss: H = [[0, B^T], [B, 0]], so
 * H_11 = H_22 = 0 and the eigenvalues are +-sigma_i(B) and zeros. */
static PetscErrorCode one_hidden_layer_relu_hinge_spectrum_is_plus_minus_singular_values(void)
{
  HCase    hc;
  ScaMat A;
  PetscFunctionBeginUser;
  PetscCall(hcase_create(PETSC_COMM_WORLD, (HCaseOpts){.spec = "dense:9,relu,dense:1", .loss = LOSS_HINGE, .nobias = PETSC_TRUE, .m = 20, .shape = "1,2,3"}, &hc));
  const PetscInt N = hc.N;
  PetscInt       o1, n1, o2, n2;
  double        *w, *v, *y, *Bm, *sv, scale;
  PetscCall(hessian_layer_range(hc.h, 1, &o1, &n1));
  PetscCall(hessian_layer_range(hc.h, 2, &o2, &n2));
  PetscCall(PetscMalloc5(N, &w, N, &v, N, &y, (size_t)n1 * n2, &Bm, N, &sv));
  PetscCall(dense_hessian(&hc, &A, w));
  scale = fmax(fabs(w[0]), fabs(w[N - 1]));
  NN_CHECK(scale > 0, "H = 0: no sample on the hinge's linear side");
  /* diagonal blocks vanish */
  for (PetscInt p = 1; p <= 2; p++) {
    Mat      Hpp;
    PetscInt op, np;
    PetscCall(hessian_layer_range(hc.h, p, &op, &np));
    PetscCall(hessian_block_create(hc.h, p, p, &Hpp));
    fill_normal(nn_rng_key(4, 4, (uint64_t)p), np, v);
    PetscCall(mat_apply_replicated(Hpp, v, np, y));
    NN_CHECK(max_abs(np, y) <= 1e-14 * scale, "H_%d%d v has entries up to %.3e", (int)p, (int)p, max_abs(np, y));
    PetscCall(MatDestroy(&Hpp));
  }
  /* B = H_21 (n2 x n1), column by column, then its singular values (LAPACK) */
  Mat H21;
  PetscCall(hessian_block_create(hc.h, 2, 1, &H21));
  for (PetscInt j = 0; j < n1; j++) {
    PetscCall(PetscArrayzero(v, n1));
    v[j] = 1;
    PetscCall(mat_apply_replicated(H21, v, n2, Bm + (size_t)j * n2)); /* column-major n2 x n1 */
  }
  PetscCall(MatDestroy(&H21));
  int    m_ = (int)n2, n_ = (int)n1, one = 1, lwork = 4 * (m_ + n_) * 8, info;
  double *work;
  PetscCall(PetscMalloc1(lwork, &work));
  dgesvd_("N", "N", &m_, &n_, Bm, &m_, sv, NULL, &one, NULL, &one, work, &lwork, &info);
  NN_CHECK(!info, "dgesvd info %d", info);
  const PetscInt r = PetscMin(n1, n2);
  double         symerr = 0, sverr = 0;
  for (PetscInt i = 0; i < N; i++) symerr = fmax(symerr, fabs(w[i] + w[N - 1 - i])); /* lambda_i = -lambda_{N-1-i} */
  for (PetscInt i = 0; i < r; i++) sverr = fmax(sverr, fabs(w[N - 1 - i] - sv[i]) + fabs(w[i] + sv[i]));
  for (PetscInt i = r; i < N - r; i++) sverr = fmax(sverr, fabs(w[i])); /* the rest are zero */
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     N = %d: max |lambda_i + lambda_(N-1-i)| = %.1e, max |lambda - (+-sigma, 0)| = %.1e, ||H|| = %.3e\n",
                        (int)N, symerr, sverr, scale));
  NN_CHECK(symerr <= 1e-12 * scale, "spectrum not symmetric: %.3e", symerr);
  NN_CHECK(sverr <= 1e-12 * scale, "eigenvalues are not +-sigma(B) and zeros: %.3e", sverr);
  PetscCall(PetscFree(work));
  PetscCall(PetscFree5(w, v, y, Bm, sv));
  PetscCall(scamat_destroy(&A));
  PetscCall(hcase_destroy(&hc));
  PetscFunctionReturn(0);
}

/* Bias-free ReLU net with L = 3 weight layers, hinge loss, every sample with
 * y T < 1 at theta and at s theta: H(s theta) = s^(L-2) H(theta) (Cor. F.1),
 * and the diagonal blocks H_pp -- so the trace -- vanish. */
static PetscErrorCode scaling_weights_by_s_scales_H_by_s_to_the_L_minus_2(void)
{
  HCase    hc;
  ScaMat A1, A2;
  const double s = 1.5;
  PetscFunctionBeginUser;
  PetscCall(hcase_create(PETSC_COMM_WORLD, (HCaseOpts){.spec = "dense:7,relu,dense:5,relu,dense:1", .loss = LOSS_HINGE, .nobias = PETSC_TRUE,
                                                       .m = 16, .shape = "1,1,5", .init = INIT_SCALED, .c = 0.05}, &hc));
  const PetscInt N = hc.N;
  double        *w1, *w2, *th2, R, ma1, ma2, err = 0, diag = 0, scale;
  PetscCall(PetscMalloc3(N, &w1, N, &w2, N, &th2));
  PetscCall(hessian_risk(hc.h, &R, NULL, &ma1));
  PetscCall(dense_hessian(&hc, &A1, w1));
  for (PetscInt i = 0; i < N; i++) th2[i] = s * hc.theta[i];
  PetscCall(hessian_set_point(hc.h, th2));
  PetscCall(hessian_risk(hc.h, &R, NULL, &ma2));
  PetscCall(dense_hessian(&hc, &A2, w2));
  /* on the linear side of the hinge every |l'| = 1 */
  NN_CHECK(ma1 == 1 && ma2 == 1, "not every sample has y T < 1: E|l'| = %g and %g", ma1, ma2);
  scale = fmax(fabs(w1[0]), fabs(w1[N - 1]));
  for (PetscInt i = 0; i < N; i++) err = fmax(err, fabs(w2[i] - s * w1[i])); /* s^(L-2) = s */
  for (PetscInt i = 0; i < N; i++) {
    double a;
    PetscCall(scamat_get(A1, i, i, &a));
    diag = fmax(diag, fabs(a));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     N = %d: max |lambda(1.5 theta) - 1.5 lambda(theta)| = %.1e (||H|| %.3e), max |H_ii| = %.1e\n", (int)N, err,
                        scale, diag));
  NN_CHECK(err <= 1e-12 * scale, "eigenvalues do not scale by s^(L-2): %.3e", err);
  NN_CHECK(diag <= 1e-14 * scale, "diagonal entries up to %.3e", diag);
  PetscCall(PetscFree3(w1, w2, th2));
  PetscCall(scamat_destroy(&A1));
  PetscCall(scamat_destroy(&A2));
  PetscCall(hcase_destroy(&hc));
  PetscFunctionReturn(0);
}

NN_TEST_MAIN(NN_TEST_CASE(dense_hessian_is_symmetric_and_matches_the_operator), NN_TEST_CASE(dense_spectrum_same_on_every_rank_count),
             NN_TEST_CASE(one_hidden_layer_relu_hinge_spectrum_is_plus_minus_singular_values),
             NN_TEST_CASE(scaling_weights_by_s_scales_H_by_s_to_the_L_minus_2))
