/* Dense block-cyclic matrices: eigenvalues against closed forms and serial
 * LAPACK, asymmetry, products, entries and HDF5 output against serial
 * references, on any number of ranks, block sizes and orders (N smaller than
 * the block or the process grid, N not a multiple of the block). Columns come
 * from a callback to which every rank contributes a share. */
#include "testlib.h"
#include "nncas/scamat.h"

#include <float.h>
#include <stdio.h>
#include <string.h>

extern void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w, double *work,
                   const int *lwork, int *info, size_t ljobz, size_t luplo);

/* ------------------------------------------------------------ helpers -- */

/* -------------------------------------------------- matrices by formula -- */
/* A matrix is a formula for its entries; a Source hands its columns to
 * scamat_assemble_columns, each rank adding a share of every entry. */
typedef double (*EntryFn)(const void *m, PetscInt i, PetscInt j);

typedef enum {
  SHARE_SPLIT,     /* entry (i, j) added whole by rank (i + j) mod P: the sum is exact */
  SHARE_FRACTIONAL /* every rank adds (r + 1) / (P (P + 1) / 2) of every entry */
} ShareMode;

typedef struct {
  MPI_Comm    comm; /* the matrix's communicator */
  PetscInt    N;
  EntryFn     entry;
  const void *m;
  ShareMode   share;
} Source;

static PetscErrorCode source_columns(void *ctx, PetscInt j0, PetscInt k, double *cols)
{
  const Source *s = ctx;
  int           r, P;
  double        frac;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(s->comm, &r));
  PetscCallMPI(MPI_Comm_size(s->comm, &P));
  frac = (r + 1.0) / (0.5 * P * (P + 1.0));
  for (PetscInt c = 0; c < k; c++)
    for (PetscInt i = 0; i < s->N; i++) {
      double a = s->entry(s->m, i, j0 + c);
      if (s->share == SHARE_FRACTIONAL) cols[c * s->N + i] += frac * a;
      else if ((i + j0 + c) % P == r) cols[c * s->N + i] += a;
    }
  PetscFunctionReturn(0);
}

/* The whole matrix, column-major, on this rank (the serial reference). */
static PetscErrorCode source_full(const Source *s, double **full)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1((size_t)s->N * s->N, full));
  for (PetscInt j = 0; j < s->N; j++)
    for (PetscInt i = 0; i < s->N; i++) (*full)[j * s->N + i] = s->entry(s->m, i, j);
  PetscFunctionReturn(0);
}

/* A <- the source's matrix with block size nb (0: default), in blocks of kmax columns. */
static PetscErrorCode dense_from(const Source *s, PetscInt nb, PetscInt kmax, ScaMat *A)
{
  PetscFunctionBeginUser;
  PetscCall(scamat_create(s->comm, s->N, A));
  if (nb) PetscCall(scamat_set_block_size(*A, nb));
  PetscCall(scamat_assemble_columns(*A, kmax, source_columns, (void *)s, NULL));
  PetscFunctionReturn(0);
}

/* tridiag(-1, 2, -1); m points to N. */
static double tridiagonal(const void *m, PetscInt i, PetscInt j)
{
  (void)m;
  return i == j ? 2.0 : (i - j == 1 || j - i == 1) ? -1.0 : 0.0;
}

/* tridiag(-1, 2, -1) + 1e-6 e_1 e_2^T (1-based). */
static double tridiagonal_perturbed(const void *m, PetscInt i, PetscInt j)
{
  return tridiagonal(m, i, j) + (i == 0 && j == 1 ? 1e-6 : 0.0);
}

static double zero_entry(const void *m, PetscInt i, PetscInt j)
{
  (void)m, (void)i, (void)j;
  return 0.0;
}

/* A non-symmetric matrix of exactly representable entries. */
static double general(const void *m, PetscInt i, PetscInt j)
{
  PetscInt N = *(const PetscInt *)m;
  return 0.25 * (double)(i * N + j) - 3.0 * (double)((i * 7 + j * 3) % 5);
}

/* A symmetric matrix of N(0, 1) entries: A_ij = A_ji = draw min(i,j) N + max(i,j). */
static double random_symmetric(const void *m, PetscInt i, PetscInt j)
{
  PetscInt N = *(const PetscInt *)m;
  return nn_rng_normal(nn_rng_key(7, NN_STREAM_TEST, 1), (uint64_t)(PetscMin(i, j) * N + PetscMax(i, j)));
}

/* Q D Q^T with the Householder reflection Q = I - beta u u^T, beta = 2 / (u^T u):
 * A_ij = d_i delta_ij - beta u_i u_j (d_i + d_j) + beta^2 (u^T D u) u_i u_j. */
typedef struct {
  PetscInt N;
  double  *u, *d, beta, uDu;
} Rotated;

static double rotated(const void *m, PetscInt i, PetscInt j)
{
  const Rotated *q = m;
  double         uu = q->u[i] * q->u[j];
  return (i == j ? q->d[i] : 0.0) - q->beta * uu * (q->d[i] + q->d[j]) + q->beta * q->beta * q->uDu * uu;
}

/* ------------------------------------------------------------ references -- */

/* Eigenvalues (ascending) of the full symmetric matrix by serial LAPACK; full is destroyed. */
static PetscErrorCode lapack_eigenvalues(PetscInt N, double *full, double *w)
{
  int     n = (int)N, lwork = -1, info;
  double  q, *work;
  PetscFunctionBeginUser;
  dsyev_("N", "L", &n, full, &n, w, &q, &lwork, &info, 1, 1);
  lwork = (int)q;
  PetscCall(PetscMalloc1(lwork, &work));
  dsyev_("N", "L", &n, full, &n, w, work, &lwork, &info, 1, 1);
  PetscCall(PetscFree(work));
  NN_CHECK(!info, "dsyev info %d", info);
  PetscFunctionReturn(0);
}

static double max_abs(PetscInt n, const double *v)
{
  double m = 0;
  for (PetscInt i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
  return m;
}

/* Eigenvalues of A against the reference w_ref within tol * max(|w_ref|, floor). */
static PetscErrorCode expect_eigenvalues(ScaMat A, PetscInt N, const double *w_ref, double tol, double floor_,
                                         const char *what)
{
  double *w, scale = fmax(max_abs(N, w_ref), floor_);
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(N, &w));
  PetscCall(scamat_eigenvalues(A, w));
  for (PetscInt i = 0; i < N; i++)
    NN_EXPECT(fabs(w[i] - w_ref[i]) <= tol * scale, "%s: eigenvalue %d is %.17g, expected %.17g", what, (int)i, w[i],
           w_ref[i]);
  PetscCall(PetscFree(w));
  PetscFunctionReturn(0);
}

/* Every entry of A equals the reference (column-major) within tol |A_ij| (tol = 0: exactly). */
static PetscErrorCode expect_entries(ScaMat A, PetscInt N, const double *full, double tol, const char *what)
{
  double aij;
  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < N; j++)
    for (PetscInt i = 0; i < N; i++) {
      PetscCall(scamat_get(A, i, j, &aij));
      NN_EXPECT(fabs(aij - full[j * N + i]) <= tol * fabs(full[j * N + i]), "%s: A(%d, %d) is %.17g, expected %.17g", what,
             (int)i, (int)j, aij, full[j * N + i]);
    }
  PetscFunctionReturn(0);
}

/* A x against the direct sum y_i = sum_j A_ij x_j, within 1e-14 sum_j |A_ij x_j|. */
static PetscErrorCode expect_product(ScaMat A, PetscInt N, const double *full, const char *what)
{
  double *x, *y;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2(N, &x, N, &y));
  for (PetscInt i = 0; i < N; i++) x[i] = nn_rng_normal(nn_rng_key(3, NN_STREAM_TEST, 2), (uint64_t)i);
  PetscCall(scamat_mult(A, x, y));
  for (PetscInt i = 0; i < N; i++) {
    double yi = 0, mag = 0;
    for (PetscInt j = 0; j < N; j++) yi += full[j * N + i] * x[j], mag += fabs(full[j * N + i] * x[j]);
    NN_EXPECT(fabs(y[i] - yi) <= 1e-14 * mag, "%s: (A x)_%d is %.17g, expected %.17g", what, (int)i, y[i], yi);
  }
  PetscCall(PetscFree2(x, y));
  PetscFunctionReturn(0);
}

/* The symmetric source's matrix with block nb and kmax: eigenvalues against
 * LAPACK, every entry, products and asymmetry. */
static PetscErrorCode expect_matches_serial(const Source *s, PetscInt nb, PetscInt kmax, const char *what)
{
  ScaMat A;
  double  *full, *w_ref, rel;
  PetscFunctionBeginUser;
  PetscCall(dense_from(s, nb, kmax, &A));
  PetscCall(source_full(s, &full));
  PetscCall(expect_entries(A, s->N, full, s->share == SHARE_SPLIT ? 0 : 4 * DBL_EPSILON, what));
  PetscCall(expect_product(A, s->N, full, what));
  PetscCall(scamat_symmetry_error(A, &rel));
  NN_EXPECT(rel < 1e-15, "%s: a symmetric matrix has asymmetry %g", what, rel);
  PetscCall(PetscMalloc1(s->N, &w_ref));
  PetscCall(lapack_eigenvalues(s->N, full, w_ref));
  PetscCall(expect_eigenvalues(A, s->N, w_ref, 1e-12, 0, what));
  PetscCall(PetscFree(w_ref));
  PetscCall(PetscFree(full));
  PetscCall(scamat_destroy(&A));
  PetscFunctionReturn(0);
}

/* expect_matches_serial for the random symmetric matrix of order N on comm. */
static PetscErrorCode expect_random_matches_serial(MPI_Comm comm, PetscInt N, ShareMode share, PetscInt nb, PetscInt kmax,
                                                   const char *what)
{
  Source s = {comm, N, random_symmetric, &N, share};
  PetscFunctionBeginUser;
  PetscCall(expect_matches_serial(&s, nb, kmax, what));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------ tests -- */

/* Block sizes through -dense_block; eigenvalues 2 - 2 cos(k pi / (N + 1)). */
static PetscErrorCode eigenvalues_of_tridiagonal_match_closed_form(void)
{
  const PetscInt Ns[] = {97, 200}, nbs[] = {4, 16, 64};
  PetscFunctionBeginUser;
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 3; b++) {
      const PetscInt N = Ns[a];
      Source         s = {PETSC_COMM_WORLD, N, tridiagonal, NULL, SHARE_SPLIT};
      ScaMat       A;
      PetscInt       nb;
      double        *w_ref;
      char           opt[16], what[64];
      PetscCall(PetscSNPrintf(opt, sizeof opt, "%d", (int)nbs[b]));
      PetscCall(PetscSNPrintf(what, sizeof what, "N = %d, block %d", (int)N, (int)nbs[b]));
      PetscCall(PetscOptionsSetValue(NULL, "-dense_block", opt));
      PetscCall(scamat_create(PETSC_COMM_WORLD, N, &A));
      PetscCall(scamat_set_from_options(A));
      PetscCall(PetscOptionsClearValue(NULL, "-dense_block"));
      PetscCall(scamat_get_layout(A, NULL, &nb, NULL, NULL));
      NN_EXPECT(nb == nbs[b], "%s: -dense_block gave block %d", what, (int)nb);
      PetscCall(scamat_assemble_columns(A, 7, source_columns, &s, a == 0 && b == 0 ? "tridiagonal" : NULL));
      PetscCall(PetscMalloc1(N, &w_ref));
      for (PetscInt k = 1; k <= N; k++) w_ref[k - 1] = 2.0 - 2.0 * cos((double)k * M_PI / (double)(N + 1));
      PetscCall(expect_eigenvalues(A, N, w_ref, 1e-12, 1.0, what)); /* absolute: max |w| < 4 */
      PetscCall(PetscFree(w_ref));
      PetscCall(scamat_destroy(&A));
    }
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

static int cmp_double(const void *x, const void *y)
{
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* Q D Q^T, every rank adding a fraction of each entry: eigenvalues = sorted d. */
static PetscErrorCode eigenvalues_of_rotated_diagonal_match(void)
{
  const PetscInt N = 150;
  Rotated        q = {N, NULL, NULL, 0, 0};
  Source         s = {PETSC_COMM_WORLD, N, rotated, &q, SHARE_FRACTIONAL};
  ScaMat       A;
  double        *sorted, uu = 0;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc3(N, &q.u, N, &q.d, N, &sorted));
  for (PetscInt i = 0; i < N; i++) {
    q.u[i] = nn_rng_normal(nn_rng_key(5, NN_STREAM_TEST, 3), (uint64_t)i);
    q.d[i] = 1.5 * (double)((7 * i) % 11) - 6.0; /* 11 values in [-6, 9], each repeated, 4 negative */
    uu += q.u[i] * q.u[i];
  }
  q.beta = 2.0 / uu;
  for (PetscInt i = 0; i < N; i++) q.uDu += q.u[i] * q.d[i] * q.u[i];
  PetscCall(PetscArraycpy(sorted, q.d, N));
  qsort(sorted, (size_t)N, sizeof *sorted, cmp_double);
  PetscCall(dense_from(&s, 16, 10, &A));
  PetscCall(expect_eigenvalues(A, N, sorted, 1e-12, 0, "Q D Q^T"));
  PetscCall(scamat_destroy(&A));
  PetscCall(PetscFree3(q.u, q.d, sorted));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* ||A - A^T||_F / ||A||_F of one matrix. */
static PetscErrorCode asymmetry_of(EntryFn entry, PetscInt N, double *rel)
{
  Source   s = {PETSC_COMM_WORLD, N, entry, NULL, SHARE_SPLIT};
  ScaMat A;
  PetscFunctionBeginUser;
  PetscCall(dense_from(&s, 8, 5, &A));
  PetscCall(scamat_symmetry_error(A, rel));
  PetscCall(scamat_destroy(&A));
  PetscFunctionReturn(0);
}

/* Symmetric: 0; zero: 0; tridiag + 1e-6 e_1 e_2^T: sqrt(2) 1e-6 / ||A||_F. */
static PetscErrorCode symmetry_error_detects_an_asymmetric_matrix(void)
{
  const PetscInt N = 60;
  const double   e = 1e-6, normF = sqrt(4.0 * N + 2.0 * (N - 1) - 1.0 + (e - 1.0) * (e - 1.0));
  double         rel;
  PetscFunctionBeginUser;
  PetscCall(asymmetry_of(tridiagonal, N, &rel));
  NN_EXPECT(rel < 1e-15, "symmetric tridiagonal: asymmetry %g", rel);
  PetscCall(asymmetry_of(zero_entry, N, &rel));
  NN_EXPECT(rel == 0, "zero matrix: asymmetry %g", rel);
  PetscCall(asymmetry_of(tridiagonal_perturbed, N, &rel));
  NN_EXPECT(nn_relerr(rel, sqrt(2.0) * e / normF, 0) < 1e-8, "perturbed: asymmetry %.10e, expected %.10e", rel,
         sqrt(2.0) * e / normF);
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

static PetscErrorCode mult_matches_direct_product(void)
{
  const PetscInt N = 83;
  Source         s = {PETSC_COMM_WORLD, N, general, &N, SHARE_FRACTIONAL};
  ScaMat       A;
  double        *full;
  PetscFunctionBeginUser;
  PetscCall(dense_from(&s, 5, 9, &A));
  PetscCall(source_full(&s, &full));
  PetscCall(expect_product(A, N, full, "general 83 x 83, block 5"));
  PetscCall(PetscFree(full));
  PetscCall(scamat_destroy(&A));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

static PetscErrorCode get_returns_every_entry(void)
{
  const PetscInt N = 13;
  Source         s = {PETSC_COMM_WORLD, N, general, &N, SHARE_SPLIT};
  ScaMat       A;
  double        *full;
  PetscFunctionBeginUser;
  PetscCall(dense_from(&s, 3, 4, &A));
  PetscCall(source_full(&s, &full));
  PetscCall(expect_entries(A, N, full, 0, "general 13 x 13, block 3"));
  PetscCall(PetscFree(full));
  PetscCall(scamat_destroy(&A));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* file[i][j] = A_ij (row-major) for a non-symmetric A. */
static PetscErrorCode write_then_read_back_matches(void)
{
  const PetscInt N = 37;
  Source         s = {PETSC_COMM_WORLD, N, general, &N, SHARE_SPLIT};
  ScaMat       A;
  NnH5File       f;
  char           path[PETSC_MAX_PATH_LEN];
  hsize_t        dims[2] = {0, 0};
  int            nd      = 0;
  double        *file;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/np%d_dense.h5", nn_test_scratch(), nn_test_size()));
  PetscCall(dense_from(&s, 4, 6, &A));
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f));
  PetscCall(scamat_write(A, &f, "/hessian/dense"));
  PetscCall(nn_h5_commit(&f));
  PetscCall(PetscMalloc1((size_t)N * N, &file));
  PetscCall(nn_h5_open_read(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_h5_read_double(&f, "/hessian/dense", 2, &nd, dims, (size_t)N * N, file));
  PetscCall(nn_h5_commit(&f));
  NN_EXPECT(nd == 2 && dims[0] == (hsize_t)N && dims[1] == (hsize_t)N, "dataset has %d dims %llu x %llu", nd,
         (unsigned long long)dims[0], (unsigned long long)dims[1]);
  for (PetscInt i = 0; i < N; i++)
    for (PetscInt j = 0; j < N; j++)
      NN_EXPECT(file[i * N + j] == general(&N, i, j), "file[%d][%d] is %.17g, expected A_ij = %.17g", (int)i, (int)j,
             file[i * N + j], general(&N, i, j));
  PetscCall(PetscFree(file));
  PetscCall(scamat_destroy(&A));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* Against serial LAPACK on the full matrix (the same on any rank count); the
 * checksum sum_k k w_k is printed to compare runs. */
static PetscErrorCode results_identical_on_every_rank_count(void)
{
  const PetscInt N = 120;
  Source         s = {PETSC_COMM_WORLD, N, random_symmetric, &N, SHARE_FRACTIONAL};
  ScaMat       A;
  double        *w, sum = 0;
  PetscFunctionBeginUser;
  PetscCall(expect_random_matches_serial(PETSC_COMM_WORLD, N, SHARE_SPLIT, 8, 16, "random symmetric 120"));
  PetscCall(dense_from(&s, 8, 16, &A));
  PetscCall(PetscMalloc1(N, &w));
  PetscCall(scamat_eigenvalues(A, w));
  for (PetscInt k = 0; k < N; k++) sum += (double)(k + 1) * w[k];
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     %d ranks: checksum sum_k k w_k = %.15e\n", nn_test_size(), sum));
  PetscCall(PetscFree(w));
  PetscCall(scamat_destroy(&A));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

static PetscErrorCode block_size_larger_than_N_works(void)
{
  PetscInt N = 10, nb;
  ScaMat A;
  PetscFunctionBeginUser;
  PetscCall(scamat_create(PETSC_COMM_WORLD, N, &A));
  PetscCall(scamat_set_block_size(A, 100));
  PetscCall(scamat_get_layout(A, NULL, &nb, NULL, NULL));
  NN_EXPECT(nb == N, "block 100 for N = 10 became %d, expected 10", (int)nb);
  PetscCall(scamat_destroy(&A));
  PetscCall(expect_random_matches_serial(PETSC_COMM_WORLD, N, SHARE_SPLIT, 100, 3, "N = 10, block 100"));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

static PetscErrorCode N_not_a_multiple_of_the_block_size_works(void)
{
  const PetscInt N = 50;
  PetscFunctionBeginUser;
  PetscCall(expect_random_matches_serial(PETSC_COMM_WORLD, N, SHARE_SPLIT, 7, 11, "N = 50, block 7"));
  PetscCall(expect_random_matches_serial(PETSC_COMM_WORLD, N, SHARE_FRACTIONAL, 1, 50, "N = 50, block 1"));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* N = 1 and 2 (fewer blocks than grid columns on 3 ranks), block 1 and the default. */
static PetscErrorCode N_smaller_than_the_grid_works(void)
{
  PetscFunctionBeginUser;
  for (PetscInt N = 1; N <= 2; N++) {
    PetscCall(expect_random_matches_serial(PETSC_COMM_WORLD, N, SHARE_SPLIT, 1, 1, "tiny, block 1"));
    PetscCall(expect_random_matches_serial(PETSC_COMM_WORLD, N, SHARE_SPLIT, 0, 5, "tiny, default block"));
  }
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* The grid is as square as possible; the view line, written to a file and
 * read back on every rank, states it. */
static PetscErrorCode view_states_order_grid_and_block(void)
{
  ScaMat    A;
  PetscViewer v;
  char        path[PETSC_MAX_PATH_LEN], line[256] = "", want[64];
  PetscInt    nprow, npcol;
  FILE       *fp;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/np%d_dense_view.txt", nn_test_scratch(), nn_test_size()));
  PetscCall(scamat_create(PETSC_COMM_WORLD, 100, &A));
  PetscCall(scamat_set_block_size(A, 16));
  PetscCall(scamat_get_layout(A, NULL, NULL, &nprow, &npcol));
  PetscCall(PetscViewerASCIIOpen(PETSC_COMM_WORLD, path, &v));
  PetscCall(scamat_view(A, v));
  PetscCall(PetscViewerDestroy(&v));
  PetscCall(scamat_destroy(&A));
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  fp = fopen(path, "r");
  NN_EXPECT(fp && fgets(line, sizeof line, fp), "cannot read %s", path);
  if (fp) fclose(fp);
  PetscCall(PetscSNPrintf(want, sizeof want, "%d x %d process grid", (int)nprow, (int)npcol));
  NN_EXPECT(nprow * npcol == nn_test_size() && nprow <= npcol, "grid %d x %d on %d ranks", (int)nprow, (int)npcol, nn_test_size());
  for (int d = (int)nprow + 1; d * d <= nn_test_size(); d++) /* no squarer grid */
    NN_EXPECT(nn_test_size() % d, "grid %d x %d on %d ranks: %d x %d is squarer", (int)nprow, (int)npcol, nn_test_size(), d,
           nn_test_size() / d);
  NN_EXPECT(strstr(line, "N = 100") && strstr(line, want) && strstr(line, "block 16") && strstr(line, "MB per rank"),
         "view line \"%s\" lacks N, grid, block or memory", line);
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* Two matrices at once on the halves of the ranks (even and odd ranks), each
 * on its own BLACS grid. */
static PetscErrorCode works_on_a_subcommunicator(void)
{
  const PetscInt N = 45;
  MPI_Comm half;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_split(PETSC_COMM_WORLD, nn_test_rank() % 2, nn_test_rank(), &half));
  PetscCall(expect_random_matches_serial(half, N, SHARE_FRACTIONAL, 4, 8, "half of the ranks"));
  PetscCallMPI(MPI_Comm_free(&half));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

static PetscErrorCode failing_columns(void *ctx, PetscInt j0, PetscInt k, double *cols)
{
  PetscFunctionBeginUser;
  (void)ctx, (void)k, (void)cols;
  PetscCheck(j0 < 4, PETSC_COMM_SELF, PETSC_ERR_USER, "columns from %d fail", (int)j0);
  PetscFunctionReturn(0);
}

/* Order 0, block 0, a block size after set-up, kmax 0, an entry outside, a failing callback. */
static PetscErrorCode invalid_arguments_are_errors(void)
{
  PetscInt N = 6;
  Source   s = {PETSC_COMM_WORLD, N, general, &N, SHARE_SPLIT};
  ScaMat A = NULL;
  double   aij;
  PetscFunctionBeginUser;
  PetscCall(nn_expect_error(scamat_create(PETSC_COMM_WORLD, 0, &A), "scamat_create(N = 0)", "order 0", NULL, NULL));
  PetscCall(scamat_create(PETSC_COMM_WORLD, N, &A));
  PetscCall(nn_expect_error(scamat_set_block_size(A, 0), "scamat_set_block_size(0)", "block size 0", NULL, NULL));
  PetscCall(nn_expect_error(scamat_assemble_columns(A, 0, source_columns, &s, NULL),
                            "scamat_assemble_columns(kmax = 0)", "kmax = 0", NULL, NULL));
  PetscCall(nn_expect_error(scamat_assemble_columns(A, 2, failing_columns, NULL, NULL), "a failing column callback",
                            "columns from 4 fail", NULL, NULL));
  PetscCall(nn_expect_error(scamat_set_block_size(A, 2), "scamat_set_block_size after set-up", "before scamat_setup",
                            NULL, NULL));
  PetscCall(nn_expect_error(scamat_get(A, N, 0, &aij), "scamat_get(N, 0)", "(6, 0) is outside", NULL, NULL));
  PetscCall(nn_expect_error(scamat_get(A, 0, -1, &aij), "scamat_get(0, -1)", "(0, -1) is outside", NULL, NULL));
  PetscCall(scamat_assemble_columns(A, 4, source_columns, &s, NULL)); /* still usable */
  PetscCall(scamat_get(A, 5, 4, &aij));
  NN_EXPECT(aij == general(&N, 5, 4), "A(5, 4) is %g after the errors, expected %g", aij, general(&N, 5, 4));
  PetscCall(scamat_destroy(&A));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* OpenBLAS's fallback kernels are replaced by the CPU's vector kernels
 * (src/core/blas.c), and this test process runs on them. */
static PetscErrorCode blas_kernels_use_the_cpus_vector_units(void)
{
  static const struct {
    const char *core;
    PetscBool   avx512, avx2;
    const char *better;
  } cases[] = {
    {"Prescott", PETSC_TRUE, PETSC_TRUE, "SkylakeX"}, {"Prescott", PETSC_FALSE, PETSC_TRUE, "Haswell"},
    {"Prescott", PETSC_FALSE, PETSC_FALSE, NULL},     {"Sandybridge", PETSC_FALSE, PETSC_TRUE, "Haswell"},
    {"SkylakeX", PETSC_TRUE, PETSC_TRUE, NULL},       {"Haswell", PETSC_FALSE, PETSC_TRUE, NULL},
    {"Zen", PETSC_TRUE, PETSC_TRUE, NULL},            {"not OpenBLAS", PETSC_TRUE, PETSC_TRUE, NULL},
  };
  PetscFunctionBeginUser;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const char *b = nn_blas_better_core(cases[i].core, cases[i].avx512, cases[i].avx2);
    NN_EXPECT(b == cases[i].better || (b && cases[i].better && !strcmp(b, cases[i].better)), "core %s (AVX-512 %d, AVX2 %d): %s, expected %s",
              cases[i].core, cases[i].avx512, cases[i].avx2, b ? b : "none", cases[i].better ? cases[i].better : "none");
  }
  const char *user = nn_blas_replaced() ? NULL : getenv("OPENBLAS_CORETYPE"), *better = nn_blas_better_than_current();
  NN_EXPECT(user || !better, "this process runs OpenBLAS's %s kernels; the CPU's are %s", nn_blas_core(), better ? better : "");
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

NN_TEST_MAIN(NN_TEST_CASE(eigenvalues_of_tridiagonal_match_closed_form), NN_TEST_CASE(eigenvalues_of_rotated_diagonal_match),
             NN_TEST_CASE(symmetry_error_detects_an_asymmetric_matrix), NN_TEST_CASE(mult_matches_direct_product),
             NN_TEST_CASE(get_returns_every_entry), NN_TEST_CASE(write_then_read_back_matches),
             NN_TEST_CASE(results_identical_on_every_rank_count), NN_TEST_CASE(block_size_larger_than_N_works),
             NN_TEST_CASE(N_not_a_multiple_of_the_block_size_works), NN_TEST_CASE(N_smaller_than_the_grid_works),
             NN_TEST_CASE(view_states_order_grid_and_block), NN_TEST_CASE(works_on_a_subcommunicator),
             NN_TEST_CASE(invalid_arguments_are_errors), NN_TEST_CASE(blas_kernels_use_the_cpus_vector_units))
