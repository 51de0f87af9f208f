/* Dense N x N matrices in ScaLAPACK's 2-D block-cyclic layout (see
 * include/nncas/scamat.h): process grid, column assembly from a callback,
 * asymmetry, eigenvalues (PDSYEVD), products (PDGEMV), entries, HDF5 output. */
#include "nncas/scamat.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------ BLACS and ScaLAPACK -- */
/* Debian's libscalapack-openmpi, BLACS included. The C BLACS interface takes
 * values; Fortran routines take every argument by pointer, and gfortran
 * appends the length of each CHARACTER argument (size_t) after the others,
 * which is passed here. The PBLAS (pdgemv_, pdtran_) are C. */
extern int    Csys2blacs_handle(MPI_Comm comm);
extern void   Cfree_blacs_system_handle(int handle);
extern void   Cblacs_gridinit(int *ctxt, const char *order, int nprow, int npcol);
extern void   Cblacs_gridinfo(int ctxt, int *nprow, int *npcol, int *myrow, int *mycol);
extern int    Cblacs_pnum(int ctxt, int prow, int pcol);
extern void   Cblacs_gridexit(int ctxt);
extern int    numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc, const int *nprocs);
extern void   descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb, const int *irsrc,
                        const int *icsrc, const int *ictxt, const int *lld, int *info);
extern void   pdsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *ia, const int *ja,
                       const int *desca, double *w, double *z, const int *iz, const int *jz, const int *descz,
                       double *work, const int *lwork, int *iwork, const int *liwork, int *info, size_t ljobz,
                       size_t luplo);
extern double pdlange_(const char *norm, const int *m, const int *n, const double *a, const int *ia, const int *ja,
                       const int *desca, double *work, size_t lnorm);
extern void   pdtran_(const int *m, const int *n, const double *alpha, const double *a, const int *ia, const int *ja,
                      const int *desca, const double *beta, double *c, const int *ic, const int *jc, const int *descc);
extern void   pdgemv_(const char *trans, const int *m, const int *n, const double *alpha, const double *a, const int *ia,
                      const int *ja, const int *desca, const double *x, const int *ix, const int *jx, const int *descx,
                      const int *incx, const double *beta, double *y, const int *iy, const int *jy, const int *descy,
                      const int *incy);

struct _p_ScaMat {
  MPI_Comm    comm;
  PetscMPIInt rank, size;
  PetscInt    N, nb;                  /* order; block size (rows = columns), min(requested, N) */
  int         handle, ctxt;           /* BLACS system handle of comm; grid context */
  int         nprow, npcol, myrow, mycol;
  PetscBool   setup;
  int         mloc, nloc, lld;        /* local rows, columns, leading dimension max(1, mloc) */
  int         desc[9];                /* ScaLAPACK descriptor of A */
  double     *a;                      /* local part, column-major: a[li + lj lld] */
};

static PetscLogEvent ev_assemble, ev_eigen, ev_symmetry, ev_mult, ev_write;

static PetscErrorCode scamat_initialize_package(void)
{
  static PetscBool done = PETSC_FALSE;
  PetscClassId     cls;
  PetscFunctionBeginUser;
  if (done) PetscFunctionReturn(0);
  PetscCall(PetscClassIdRegister("nncas dense", &cls));
  PetscCall(PetscLogEventRegister("DenseAssemble", cls, &ev_assemble));
  PetscCall(PetscLogEventRegister("DenseEigPDSYEVD", cls, &ev_eigen));
  PetscCall(PetscLogEventRegister("DenseSymmetry", cls, &ev_symmetry));
  PetscCall(PetscLogEventRegister("DenseMultPDGEMV", cls, &ev_mult));
  PetscCall(PetscLogEventRegister("DenseWrite", cls, &ev_write));
  done = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* ----------------------------------------------------- block-cyclic map -- */
/* Global index g (0-based), block nb, np processes, first block on process 0:
 * owner (g / nb) mod np, local index (g / (nb np)) nb + g mod nb. */
static inline int bc_owner(PetscInt g, PetscInt nb, int np) { return (int)((g / nb) % np); }
static inline PetscInt bc_local(PetscInt g, PetscInt nb, int np) { return (g / (nb * np)) * nb + g % nb; }
/* The inverse on process p: global = ((l / nb) np + p) nb + l mod nb. */
static inline PetscInt bc_global(PetscInt l, PetscInt nb, int p, int np) { return ((l / nb) * np + p) * nb + l % nb; }

/* Local length of N indices on process p of np (NUMROC). */
static int bc_count(PetscInt N, PetscInt nb, int p, int np)
{
  int n = (int)N, b = (int)nb, zero = 0;
  return numroc_(&n, &b, &p, &zero, &np);
}

static size_t scamat_local_size(ScaMat A) { return (size_t)A->lld * (size_t)PetscMax(A->nloc, 1); }

/* Entries of the largest local part, process (0, 0)'s (the same on every rank). */
static double scamat_largest_local(ScaMat A)
{
  return (double)bc_count(A->N, A->nb, 0, A->nprow) * (double)bc_count(A->N, A->nb, 0, A->npcol);
}

/* ------------------------------------------------------------- life cycle -- */

/* nprow = the largest divisor of P not above sqrt(P), npcol = P / nprow. */
static void grid_shape(int P, int *nprow, int *npcol)
{
  int r = 1;
  for (int d = 1; d * d <= P; d++)
    if (P % d == 0) r = d;
  *nprow = r;
  *npcol = P / r;
}

/* The BLACS grid on comm; rank = prow npcol + pcol is checked. */
static PetscErrorCode scamat_grid_create(ScaMat A)
{
  int nprow, npcol;
  PetscFunctionBeginUser;
  grid_shape(A->size, &nprow, &npcol);
  A->handle = Csys2blacs_handle(A->comm);
  A->ctxt   = A->handle;
  Cblacs_gridinit(&A->ctxt, "Row", nprow, npcol);
  Cblacs_gridinfo(A->ctxt, &A->nprow, &A->npcol, &A->myrow, &A->mycol);
  PetscCheck(A->nprow == nprow && A->npcol == npcol && A->myrow >= 0 && A->mycol >= 0, A->comm, PETSC_ERR_LIB,
             "BLACS: cannot make a %d x %d process grid on %d ranks", nprow, npcol, (int)A->size);
  PetscCheck(Cblacs_pnum(A->ctxt, A->myrow, A->mycol) == A->rank && A->myrow == A->rank / npcol, A->comm, PETSC_ERR_LIB,
             "BLACS: grid process (%d, %d) is not rank %d of the communicator", A->myrow, A->mycol, (int)A->rank);
  PetscFunctionReturn(0);
}

PetscErrorCode scamat_create(MPI_Comm comm, PetscInt N, ScaMat *A)
{
  ScaMat d;
  PetscFunctionBeginUser;
  PetscCheck(N >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "dense matrix: order %" PetscInt_FMT " must be >= 1", N);
  PetscCall(scamat_initialize_package());
  PetscCall(PetscNew(&d));
  d->comm = comm;
  PetscCallMPI(MPI_Comm_rank(comm, &d->rank));
  PetscCallMPI(MPI_Comm_size(comm, &d->size));
  d->N  = N;
  d->nb = PetscMin(64, N);
  *A    = d;
  PetscCall(scamat_grid_create(d));
  PetscFunctionReturn(0);
}

PetscErrorCode scamat_set_block_size(ScaMat A, PetscInt nb)
{
  PetscFunctionBeginUser;
  PetscCheck(nb >= 1, A->comm, PETSC_ERR_ARG_OUTOFRANGE, "dense matrix: block size %" PetscInt_FMT " must be >= 1", nb);
  PetscCheck(!A->setup, A->comm, PETSC_ERR_ORDER, "dense matrix: the block size must be set before scamat_setup");
  A->nb = PetscMin(nb, A->N);
  PetscFunctionReturn(0);
}

PetscErrorCode scamat_set_from_options(ScaMat A)
{
  PetscInt  nb = A->nb;
  PetscBool set;
  PetscFunctionBeginUser;
  PetscOptionsBegin(A->comm, NULL, "Dense matrix (ScaLAPACK) options", NULL);
  PetscCall(PetscOptionsInt("-dense_block", "block size of the block-cyclic layout (bounded by N)", NULL, nb, &nb, &set));
  PetscOptionsEnd();
  if (set) PetscCall(scamat_set_block_size(A, nb));
  PetscFunctionReturn(0);
}

PetscErrorCode scamat_setup(ScaMat A)
{
  int n = (int)A->N, nb = (int)A->nb, zero = 0, info;
  PetscFunctionBeginUser;
  if (A->setup) PetscFunctionReturn(0);
  A->mloc = bc_count(A->N, A->nb, A->myrow, A->nprow);
  A->nloc = bc_count(A->N, A->nb, A->mycol, A->npcol);
  A->lld  = PetscMax(1, A->mloc);
  PetscCheck(scamat_largest_local(A) <= INT_MAX, A->comm, PETSC_ERR_SUP,
             "dense matrix: N = %" PetscInt_FMT " on %d ranks: a local part exceeds ScaLAPACK's int indices; use more ranks",
             A->N, (int)A->size);
  descinit_(A->desc, &n, &n, &nb, &nb, &zero, &zero, &A->ctxt, &A->lld, &info);
  PetscCheck(info == 0, A->comm, PETSC_ERR_LIB, "DESCINIT failed: info = %d", info);
  PetscCall(PetscCalloc1(scamat_local_size(A), &A->a));
  A->setup = PETSC_TRUE;
  PetscFunctionReturn(0);
}

PetscErrorCode scamat_get_layout(ScaMat A, PetscInt *N, PetscInt *nb, PetscInt *nprow, PetscInt *npcol)
{
  PetscFunctionBeginUser;
  if (N) *N = A->N;
  if (nb) *nb = A->nb;
  if (nprow) *nprow = A->nprow;
  if (npcol) *npcol = A->npcol;
  PetscFunctionReturn(0);
}

PetscErrorCode scamat_view(ScaMat A, PetscViewer v)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(v,
                                   "Dense matrix: N = %" PetscInt_FMT ", %d x %d process grid, block %" PetscInt_FMT
                                   ", %.3g MB per rank (about x5 in scamat_eigenvalues)\n",
                                   A->N, A->nprow, A->npcol, A->nb, 8.0 * scamat_largest_local(A) / 1048576.0));
  PetscFunctionReturn(0);
}

PetscErrorCode scamat_destroy(ScaMat *A)
{
  PetscFunctionBeginUser;
  if (!*A) PetscFunctionReturn(0);
  PetscCall(PetscFree((*A)->a));
  Cblacs_gridexit((*A)->ctxt);
  Cfree_blacs_system_handle((*A)->handle);
  PetscCall(PetscFree(*A));
  PetscFunctionReturn(0);
}

/* --------------------------------------------------------------- assembly -- */
/* Local columns [*l0, *l0 + *kl) are the columns of [j0, j0 + k) this process
 * column owns (consecutive in local storage). */
static void owned_columns(ScaMat A, PetscInt j0, PetscInt k, PetscInt *l0, PetscInt *kl)
{
  PetscInt first = -1, n = 0;
  for (PetscInt j = j0; j < j0 + k; j++) {
    if (bc_owner(j, A->nb, A->npcol) != A->mycol) continue;
    if (first < 0) first = bc_local(j, A->nb, A->npcol);
    n++;
  }
  *l0 = first < 0 ? 0 : first;
  *kl = n;
}

/* Packs the entries of cols (columns [j0, j0 + k)) owned by grid process
 * (pr, pc) at buf, column by column, rows in increasing order: the order of
 * that process's local storage. Returns the count. */
static size_t pack_for_process(ScaMat A, PetscInt j0, PetscInt k, const double *cols, int pr, int pc, double *buf)
{
  const PetscInt N = A->N, nb = A->nb;
  size_t         n = 0;
  for (PetscInt j = j0; j < j0 + k; j++) {
    if (bc_owner(j, nb, A->npcol) != pc) continue;
    for (PetscInt r0 = (PetscInt)pr * nb; r0 < N; r0 += nb * A->nprow) { /* the row blocks of process row pr */
      PetscInt len = PetscMin(nb, N - r0);
      memcpy(buf + n, cols + (j - j0) * N + r0, (size_t)len * sizeof *buf);
      n += (size_t)len;
    }
  }
  return n;
}

/* The ranks' contributions to columns [j0, j0 + k) summed, each entry
 * delivered to its owner only: the block packed by owner in rank order
 * (counts[p] entries for rank p), then MPI_Reduce_scatter straight into the
 * owned local columns [l0, l0 + kl). Each rank sends and receives about
 * N k (P - 1) / P doubles per block, half of what MPI_Allreduce of the whole
 * block moves (3 ranks, N = 3000: 1.3 to 2.9 times faster than MPI_Allreduce
 * and a copy of the owned entries, for kmax from 1024 down to 1). */
static PetscErrorCode store_columns(ScaMat A, PetscInt j0, PetscInt k, const double *cols, double *pack,
                                    PetscMPIInt *counts)
{
  size_t   n = 0;
  PetscInt l0, kl;
  PetscFunctionBeginUser;
  for (PetscMPIInt p = 0; p < A->size; p++) { /* rank p is grid process (p / npcol, p mod npcol) */
    size_t np = pack_for_process(A, j0, k, cols, p / A->npcol, p % A->npcol, pack + n);
    counts[p] = (PetscMPIInt)np;
    n += np;
  }
  owned_columns(A, j0, k, &l0, &kl);
  PetscCallMPI(MPI_Reduce_scatter(pack, A->a + (size_t)l0 * A->lld, counts, MPI_DOUBLE, MPI_SUM, A->comm));
  PetscFunctionReturn(0);
}

/* For each block of columns: cols <- 0, fn adds this rank's share, the shares
 * are summed into the owners' local columns. */
static PetscErrorCode assemble_blocks(ScaMat A, PetscInt kmax, ScaMatColumnsFn fn, void *ctx, const char *stage,
                                      double *cols, double *pack, PetscMPIInt *counts)
{
  NnProgress prog;
  PetscFunctionBeginUser;
  if (stage) nn_progress_start(&prog, stage, A->N);
  for (PetscInt j0 = 0; j0 < A->N; j0 += kmax) {
    PetscInt k = PetscMin(kmax, A->N - j0);
    PetscCall(PetscArrayzero(cols, (size_t)A->N * k));
    PetscCall(fn(ctx, j0, k, cols));
    PetscCall(store_columns(A, j0, k, cols, pack, counts));
    if (stage) PetscCall(nn_progress_report(&prog, j0 + k, 10.0, "columns"));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode scamat_assemble_columns(ScaMat A, PetscInt kmax, ScaMatColumnsFn fn, void *ctx, const char *stage)
{
  double        *cols, *pack;
  PetscMPIInt   *counts;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCheck(kmax >= 1, A->comm, PETSC_ERR_ARG_OUTOFRANGE, "scamat_assemble_columns: kmax = %" PetscInt_FMT " must be >= 1",
             kmax);
  PetscCall(scamat_setup(A));
  kmax = PetscMin(kmax, A->N);
  PetscCheck((double)A->N * (double)kmax <= INT_MAX, A->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "scamat_assemble_columns: a block of N x kmax = %" PetscInt_FMT " x %" PetscInt_FMT " exceeds an MPI count",
             A->N, kmax);
  PetscCall(PetscLogEventBegin(ev_assemble, 0, 0, 0, 0));
  PetscCall(PetscMalloc3((size_t)A->N * kmax, &cols, (size_t)A->N * kmax, &pack, A->size, &counts));
  ierr = assemble_blocks(A, kmax, fn, ctx, stage, cols, pack, counts); /* the buffers are freed even if fn fails */
  PetscCall(PetscFree3(cols, pack, counts));
  PetscCall(ierr);
  PetscCall(PetscLogEventEnd(ev_assemble, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------ ScaLAPACK calls -- */

/* rel <- ||A - A^T||_F / ||A||_F, with C <- A - A^T by PDTRAN (C <- beta C + alpha A^T, C = A, beta = 1, alpha = -1). */
PetscErrorCode scamat_symmetry_error(ScaMat A, double *rel)
{
  const int    n = (int)A->N, one = 1;
  const double alpha = -1.0, beta = 1.0;
  double      *c, work[1], normA, normC;
  PetscFunctionBeginUser;
  PetscCall(scamat_setup(A));
  PetscCall(PetscLogEventBegin(ev_symmetry, 0, 0, 0, 0));
  PetscCall(PetscMalloc1(scamat_local_size(A), &c));
  PetscCall(PetscArraycpy(c, A->a, scamat_local_size(A)));
  pdtran_(&n, &n, &alpha, A->a, &one, &one, A->desc, &beta, c, &one, &one, A->desc);
  normA = pdlange_("F", &n, &n, A->a, &one, &one, A->desc, work, 1);
  normC = pdlange_("F", &n, &n, c, &one, &one, A->desc, work, 1);
  PetscCall(PetscFree(c));
  *rel = normA > 0 ? normC / normA : 0.0;
  PetscCall(PetscLogEventEnd(ev_symmetry, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* PDSYEVD's workspace: the larger of its query and what its callees check
 * on WORK(2N + 1 ...): PDLASRT needs NP (NB + NQ), PDORMTR (through PDORMQR
 * on rows 2..N) max(NB (NB - 1) / 2, (MpC0 + NqC0) NB) + NB^2 with MpC0 <= NP + 1,
 * NqC0 = NQ. ScaLAPACK 2.2's query omits both: with N = 97, NB = 64 on a
 * 1 x 2 grid it returns 7179 on process (0, 1), whose PDLASRT needs 9409 + 2N
 * and fails there alone (the other ranks then wait forever). */
static double syevd_lwork(ScaMat A, double query)
{
  const double N = (double)A->N, nb = (double)A->nb, np = A->mloc, nq = A->nloc;
  const double lasrt = np * (nb + nq), ormtr = PetscMax(nb * (nb - 1) / 2, (np + 1 + nq) * nb) + nb * nb;
  return PetscMax(query, 2 * N + PetscMax(lasrt, ormtr));
}

/* The info of a ScaLAPACK call made the same on every rank: the one of
 * largest magnitude, so that every rank raises the error or none does. */
static PetscErrorCode agree_info(ScaMat A, int *info)
{
  int v[2] = {*info, -*info}, m[2];
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(v, m, 2, MPI_INT, MPI_MAX, A->comm));
  *info = m[0] >= m[1] ? m[0] : -m[1];
  PetscFunctionReturn(0);
}

/* PDSYEVD (eigenvectors are always computed: JOBZ = 'N' is not implemented)
 * on the copy b of A, eigenvectors into z; workspace query first. When
 * N <= NB, PDSTEDC solves on process (0, 0) alone and leaves the diagonal of
 * the tridiagonal form in the other ranks' W, so W is broadcast from there. */
static PetscErrorCode syevd(ScaMat A, double *b, double *z, double *w)
{
  const int n = (int)A->N, one = 1, query = -1;
  int       info, lwork, liwork, *iwork, iq;
  double    wq, *work;
  PetscFunctionBeginUser;
  pdsyevd_("V", "L", &n, b, &one, &one, A->desc, w, z, &one, &one, A->desc, &wq, &query, &iq, &query, &info, 1, 1);
  PetscCall(agree_info(A, &info));
  PetscCheck(info == 0, A->comm, PETSC_ERR_LIB, "PDSYEVD (workspace query) failed: info = %d", info);
  wq = syevd_lwork(A, wq);
  PetscCheck(wq < INT_MAX, A->comm, PETSC_ERR_SUP, "PDSYEVD: a workspace of %g doubles exceeds an int", wq);
  lwork  = (int)wq;
  liwork = iq;
  PetscCall(PetscMalloc2(lwork, &work, liwork, &iwork));
  pdsyevd_("V", "L", &n, b, &one, &one, A->desc, w, z, &one, &one, A->desc, work, &lwork, iwork, &liwork, &info, 1, 1);
  PetscCall(PetscFree2(work, iwork));
  PetscCall(agree_info(A, &info));
  PetscCheck(info == 0, A->comm, PETSC_ERR_LIB, "PDSYEVD failed: info = %d", info);
  PetscCallMPI(MPI_Bcast(w, n, MPI_DOUBLE, Cblacs_pnum(A->ctxt, 0, 0), A->comm));
  PetscFunctionReturn(0);
}

PetscErrorCode scamat_eigenvalues(ScaMat A, double *w)
{
  double *b, *z;
  PetscFunctionBeginUser;
  PetscCall(scamat_setup(A));
  PetscCall(PetscLogEventBegin(ev_eigen, 0, 0, 0, 0));
  PetscCall(PetscMalloc2(scamat_local_size(A), &b, scamat_local_size(A), &z));
  PetscCall(PetscArraycpy(b, A->a, scamat_local_size(A)));
  PetscCall(syevd(A, b, z, w));
  PetscCall(PetscFree2(b, z));
  PetscCall(PetscLogEventEnd(ev_eigen, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* y <- A x by PDGEMV, x and y as N x 1 matrices on process column 0; then y
 * replicated by summing each owner's entries (the other ranks add zeros). */
PetscErrorCode scamat_mult(ScaMat A, const double *x, double *y)
{
  const int    n = (int)A->N, nb = (int)A->nb, one = 1, zero = 0;
  const double alpha = 1.0, beta = 0.0;
  int          descv[9], info;
  double      *xl, *yl;
  PetscFunctionBeginUser;
  PetscCall(scamat_setup(A));
  PetscCall(PetscLogEventBegin(ev_mult, 0, 0, 0, 0));
  descinit_(descv, &n, &one, &nb, &nb, &zero, &zero, &A->ctxt, &A->lld, &info);
  PetscCheck(info == 0, A->comm, PETSC_ERR_LIB, "DESCINIT (vector) failed: info = %d", info);
  PetscCall(PetscCalloc2(A->lld, &xl, A->lld, &yl));
  if (A->mycol == 0)
    for (PetscInt li = 0; li < A->mloc; li++) xl[li] = x[bc_global(li, A->nb, A->myrow, A->nprow)];
  pdgemv_("N", &n, &n, &alpha, A->a, &one, &one, A->desc, xl, &one, &one, descv, &one, &beta, yl, &one, &one, descv, &one);
  PetscCall(PetscArrayzero(y, A->N));
  if (A->mycol == 0)
    for (PetscInt li = 0; li < A->mloc; li++) y[bc_global(li, A->nb, A->myrow, A->nprow)] = yl[li];
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, y, (PetscMPIInt)A->N, MPI_DOUBLE, MPI_SUM, A->comm));
  PetscCall(PetscFree2(xl, yl));
  PetscCall(PetscLogEventEnd(ev_mult, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* The owner of (i, j) reads it and broadcasts it. */
PetscErrorCode scamat_get(ScaMat A, PetscInt i, PetscInt j, double *aij)
{
  int pr, pc;
  PetscFunctionBeginUser;
  PetscCheck(i >= 0 && i < A->N && j >= 0 && j < A->N, A->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "scamat_get: entry (%" PetscInt_FMT ", %" PetscInt_FMT ") is outside the %" PetscInt_FMT " x %" PetscInt_FMT
             " matrix",
             i, j, A->N, A->N);
  PetscCall(scamat_setup(A));
  pr = bc_owner(i, A->nb, A->nprow);
  pc = bc_owner(j, A->nb, A->npcol);
  if (pr == A->myrow && pc == A->mycol)
    *aij = A->a[bc_local(i, A->nb, A->nprow) + (size_t)bc_local(j, A->nb, A->npcol) * A->lld];
  PetscCallMPI(MPI_Bcast(aij, 1, MPI_DOUBLE, Cblacs_pnum(A->ctxt, pr, pc), A->comm));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------ HDF5 -- */

typedef struct {
  PetscInt nblocks;
  hsize_t *r0, *nr, *c0, *nc;
  size_t  *off;
  double  *data; /* the blocks, each row-major */
} LocalBlocks;

/* This rank's nb x nb blocks (smaller at the edges) transposed from
 * column-major local storage into row-major: data[off + r nc + c] = A(r0 + r, c0 + c). */
static PetscErrorCode local_blocks_pack(ScaMat A, LocalBlocks *L)
{
  const PetscInt nb = A->nb, nbr = (A->mloc + nb - 1) / nb, nbc = (A->nloc + nb - 1) / nb;
  size_t         off = 0;
  PetscFunctionBeginUser;
  L->nblocks = nbr * nbc;
  PetscCall(PetscMalloc5(L->nblocks + 1, &L->r0, L->nblocks + 1, &L->nr, L->nblocks + 1, &L->c0, L->nblocks + 1, &L->nc,
                         L->nblocks + 1, &L->off));
  PetscCall(PetscMalloc1(scamat_local_size(A), &L->data));
  for (PetscInt bj = 0, b = 0; bj < nbc; bj++)
    for (PetscInt bi = 0; bi < nbr; bi++, b++) {
      const PetscInt li = bi * nb, lj = bj * nb, nr = PetscMin(nb, A->mloc - li), nc = PetscMin(nb, A->nloc - lj);
      L->r0[b]  = (hsize_t)bc_global(li, nb, A->myrow, A->nprow);
      L->c0[b]  = (hsize_t)bc_global(lj, nb, A->mycol, A->npcol);
      L->nr[b]  = (hsize_t)nr;
      L->nc[b]  = (hsize_t)nc;
      L->off[b] = off;
      for (PetscInt r = 0; r < nr; r++)
        for (PetscInt c = 0; c < nc; c++) L->data[off + r * nc + c] = A->a[(li + r) + (size_t)(lj + c) * A->lld];
      off += (size_t)(nr * nc);
    }
  PetscFunctionReturn(0);
}

PetscErrorCode scamat_write(ScaMat A, NnH5File *f, const char *path)
{
  LocalBlocks L;
  PetscFunctionBeginUser;
  PetscCall(scamat_setup(A));
  PetscCall(PetscLogEventBegin(ev_write, 0, 0, 0, 0));
  PetscCall(local_blocks_pack(A, &L));
  PetscCall(nn_h5_write_double_blocks(f, path, (hsize_t)A->N, (hsize_t)A->N, L.nblocks, L.r0, L.nr, L.c0, L.nc, L.off,
                                      L.data));
  PetscCall(PetscFree5(L.r0, L.nr, L.c0, L.nc, L.off));
  PetscCall(PetscFree(L.data));
  PetscCall(PetscLogEventEnd(ev_write, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* A = alpha Z^T Z for Z (n x N column-major, leading dimension ldz) replicated
 * on every rank: each rank computes its own blocks, block row I and block
 * column J at once, A[I, J] = alpha Z[:, I]^T Z[:, J], by a local GEMM. */
PetscErrorCode scamat_gram(ScaMat A, PetscInt n, const double *Z, PetscInt ldz, double alpha)
{
  PetscFunctionBeginUser;
  PetscCall(scamat_setup(A));
  for (PetscInt lc = 0; lc < A->nloc; lc += A->nb) {
    const PetscInt gc = bc_global(lc, A->nb, A->mycol, A->npcol), mc = PetscMin(A->nb, A->nloc - lc);
    for (PetscInt lr = 0; lr < A->mloc; lr += A->nb) {
      const PetscInt gr = bc_global(lr, A->nb, A->myrow, A->nprow), mr = PetscMin(A->nb, A->mloc - lr);
      cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)mr, (int)mc, (int)n, alpha, Z + (size_t)gr * ldz, (int)ldz,
                  Z + (size_t)gc * ldz, (int)ldz, 0.0, A->a + lr + (size_t)lc * A->lld, A->lld);
    }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode scamat_foreach_local(ScaMat A, PetscErrorCode (*fn)(void *ctx, PetscInt i, PetscInt j, double *aij), void *ctx)
{
  PetscFunctionBeginUser;
  PetscCall(scamat_setup(A));
  for (PetscInt lc = 0; lc < A->nloc; lc++) {
    const PetscInt j = bc_global(lc, A->nb, A->mycol, A->npcol);
    for (PetscInt lr = 0; lr < A->mloc; lr++)
      PetscCall(fn(ctx, bc_global(lr, A->nb, A->myrow, A->nprow), j, A->a + lr + (size_t)lc * A->lld));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode scamat_local_bytes(ScaMat A, size_t *bytes)
{
  PetscFunctionBeginUser;
  PetscCall(scamat_setup(A));
  *bytes = scamat_local_size(A) * sizeof(double);
  PetscFunctionReturn(0);
}
