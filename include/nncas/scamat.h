/* ScaMat: dense N x N matrices distributed over the ranks of a communicator in
 * ScaLAPACK's 2-D block-cyclic layout: the dense verification mode of the
 * Hessian (docs/hessian.md) assembles H column by column into one, measures
 * its asymmetry and diagonalises it with PDSYEVD. The module knows nothing
 * about networks: columns come from a callback.
 *
 * Layout: the P ranks form an nprow x npcol process grid (nprow * npcol = P,
 * as square as possible, nprow <= npcol, row-major: rank = prow * npcol + pcol).
 * Entry (i, j) (0-based) lives on process ((i / nb) mod nprow, (j / nb) mod npcol)
 * of the grid, at local row (i / (nb nprow)) nb + i mod nb and local column
 * (j / (nb npcol)) nb + j mod nb; local storage is column-major. Memory per rank
 * is about N^2 / P doubles, plus 2 N kmax doubles during scamat_assemble_columns,
 * another N^2 / P in scamat_symmetry_error and scamat_write, and about four more
 * in scamat_eigenvalues (the copy PDSYEVD overwrites, the eigenvectors it always
 * computes, and its workspace); never N^2 on one rank.
 *
 * Life cycle: scamat_create -> [scamat_set_block_size | scamat_set_from_options]
 * -> [scamat_setup] -> scamat_assemble_columns -> scamat_symmetry_error,
 * scamat_eigenvalues, scamat_mult, scamat_get, scamat_write, scamat_view ->
 * scamat_destroy. The local storage is laid out (and zeroed) by scamat_setup,
 * which every other operation calls if needed. Every function is collective
 * over the matrix's communicator. */
#ifndef NNCAS_SCAMAT_H
#define NNCAS_SCAMAT_H

#include "nncas/core.h"
#include "nncas/h5io.h"

typedef struct _p_ScaMat *ScaMat;

/* Columns [j0, j0 + k) of an N x N matrix: each rank ADDS its contribution into
 * cols (N x k, column j at cols + (j - j0) * N, zeroed by the caller); the matrix
 * is the sum over the ranks of comm. Collective: every rank calls fn for every
 * block, with the same j0 and k. */
typedef PetscErrorCode (*ScaMatColumnsFn)(void *ctx, PetscInt j0, PetscInt k, double *cols);

/* An N x N matrix over comm: the process grid nprow x npcol (as square as
 * possible, nprow * npcol = size of comm) and block size 64 (bounded by N). */
PetscErrorCode scamat_create(MPI_Comm comm, PetscInt N, ScaMat *A);
/* Block size nb >= 1 (rows = columns; min(nb, N) is used); before scamat_setup. */
PetscErrorCode scamat_set_block_size(ScaMat A, PetscInt nb);
/* -dense_block: the block size, as scamat_set_block_size. */
PetscErrorCode scamat_set_from_options(ScaMat A);
/* Lays out and zeroes the local storage (a no-op when done). */
PetscErrorCode scamat_setup(ScaMat A);
/* The order, the block size in use, and the process grid. Any pointer may be NULL. */
PetscErrorCode scamat_get_layout(ScaMat A, PetscInt *N, PetscInt *nb, PetscInt *nprow, PetscInt *npcol);

/* A <- the matrix whose columns fn gives, in blocks of up to kmax columns: for
 * each block the ranks' contributions are summed and every entry goes to its
 * owner only (MPI_Reduce_scatter). Prints "[stage] j/N columns ..." on rank 0
 * at most every 10 s and at the end (stage NULL: silent). */
PetscErrorCode scamat_assemble_columns(ScaMat A, PetscInt kmax, ScaMatColumnsFn fn, void *ctx, const char *stage);

/* rel <- ||A - A^T||_F / ||A||_F (PDTRAN + PDLANGE); 0 for A = 0. */
PetscErrorCode scamat_symmetry_error(ScaMat A, double *rel);
/* w[0..N) <- the eigenvalues of the symmetric matrix whose lower triangle is
 * that of A, ascending, on every rank (PDSYEVD on a copy: A is kept). */
PetscErrorCode scamat_eigenvalues(ScaMat A, double *w);
/* y <- A x, x and y of length N replicated on every rank (PDGEMV); x != y. */
PetscErrorCode scamat_mult(ScaMat A, const double *x, double *y);
/* aij <- A_ij (0-based) on every rank; for tests and spot checks. */
PetscErrorCode scamat_get(ScaMat A, PetscInt i, PetscInt j, double *aij);
/* The N x N dataset path of f with file[i][j] = A_ij (row-major), each rank
 * writing its own blocks (nn_h5_write_double_blocks). f's communicator must be
 * the matrix's. */
PetscErrorCode scamat_write(ScaMat A, NnH5File *f, const char *path);
/* One line: N, process grid, block size, the largest local part of a rank. */
PetscErrorCode scamat_view(ScaMat A, PetscViewer v);
/* A <- alpha Z^T Z for Z (n x N, column-major, leading dimension ldz) held
 * by every rank; each rank computes its own blocks (local GEMMs). */
PetscErrorCode scamat_gram(ScaMat A, PetscInt n, const double *Z, PetscInt ldz, double alpha);
/* fn(ctx, i, j, &A_ij) for every entry this rank owns (global 0-based i, j). */
PetscErrorCode scamat_foreach_local(ScaMat A, PetscErrorCode (*fn)(void *ctx, PetscInt i, PetscInt j, double *aij), void *ctx);
/* Bytes of this rank's local part. */
PetscErrorCode scamat_local_bytes(ScaMat A, size_t *bytes);
PetscErrorCode scamat_destroy(ScaMat *A);

#endif
