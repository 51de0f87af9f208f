/* The exact Hessian of the empirical risk as a distributed PETSc operator.
 *
 * Definition (docs/hessian.md): a fixed set of m training samples (App. G.1:
 * m = 200, -hessian_samples), in the order drawn by -hessian_seed, is cut into
 * consecutive batches of -hessian_batch samples; dropout and augmentation are
 * off; batch-statistics normalization uses the statistics of each fixed batch.
 * The risk is
 *     R(theta) = (1/m) sum_b sum_{i in b} l(T(x_i; theta, batch b), y_i)
 * and H = d^2 R / d theta^2 = sum_b (|b|/m) H_b, where H_b is the Hessian of
 * the batch's mean loss. With equal batches this is the mean of the per-batch
 * Hessians; without normalization it is the per-example mean whatever the
 * batches.
 *
 * Distribution: theta's entries are owned by the ranks (PETSc's default
 * layout of N); when there are at least as many batches as ranks each rank
 * owns whole batches, otherwise every batch is split across all ranks (its
 * normalization statistics then reduced over them). One product H v gathers
 * v (MPI_Allgatherv), computes the local samples' contributions by the
 * R-operator (net_rop_forward/backward), and reduce-scatters the result
 * (MPI_Reduce_scatter) into the owned slices. */
#ifndef NNCAS_HESSIAN_H
#define NNCAS_HESSIAN_H

#include "nncas/dataset.h"
#include "nncas/scamat.h"
#include "nncas/net.h"
#include <petscmat.h>

typedef enum { HESSIAN_FULL, HESSIAN_GAUSS_NEWTON, HESSIAN_REMAINDER } HessianPart;
extern const char *const HessianParts[];
/* The precision of the network's passes in a product (-hessian_precision):
 * single runs them in float32 (SGEMM); directions, products, their
 * reductions and everything computed from them stay double (docs/hessian.md). */
typedef enum { HESSIAN_PRECISION_DOUBLE, HESSIAN_PRECISION_SINGLE } HessianPrecision;
extern const char *const HessianPrecisions[];

typedef struct _p_Hessian *Hessian; /* private: src/hessian/hessianimpl.h */

PetscErrorCode hessian_create(Dataset ds, Net net, Hessian *h);
/* The same operator (net, data set, samples, batches, seed, block, precision)
 * over the ranks of comm, a sub-communicator of h's such as a rank group
 * (the data set is replicated, so any ranks can hold any samples); before
 * hessian_setup of h. The copy shares h's net, whose buffers the two use in
 * turn, so the net must hold hessian_local_samples(dup, size of comm). */
PetscErrorCode hessian_duplicate(Hessian h, MPI_Comm comm, Hessian *dup);
/* -log_view events NnHessianMult, NnHessianSlice, NnHessianComm (hessian_create calls it). */
PetscErrorCode hessian_initialize_package(void);
PetscErrorCode hessian_set_from_options(Hessian h);
/* Instead of -hessian_samples, -hessian_batch, -hessian_seed: nsamples training
 * samples in batches of batch (0: one batch), drawn with seed; before hessian_setup. */
PetscErrorCode hessian_set_samples(Hessian h, PetscInt nsamples, PetscInt batch, PetscInt seed);
/* Samples per rank of the operator's passes on size ranks: a batch split
 * across the ranks when there are fewer batches than ranks, else whole
 * batches (for net_setup; valid after the options are set). */
PetscInt hessian_local_samples(const Hessian h, PetscMPIInt size);
/* The sample set after hessian_setup: nsamples samples in nbatches batches
 * of batch samples (the last may be smaller). Any output may be NULL. */
PetscErrorCode hessian_get_samples(Hessian h, PetscInt *nsamples, PetscInt *batch, PetscInt *nbatches);
/* Which samples those are, after hessian_setup: ids (nsamples, replicated,
 * owned by h) are positions in the training split (dataset_get_split), in
 * batch order: batch b is ids[b batch, min((b + 1) batch, nsamples)); seed is
 * -hessian_seed, which drew them. Either output may be NULL. */
PetscErrorCode hessian_get_sample_ids(Hessian h, const PetscInt **ids, PetscInt *seed);
/* The entries H_b[i_p, j_q] of every batch's Hessian, replicated: all (nbatches
 * x ni nj, row-major by batch; entry p nj + q of row b). Every rank computes
 * those of its own batches (whole batches per rank), with a progress line
 * named what; a non-finite entry is divergence (hessian_check_finite). */
/* The same, resumable: batches b with done[b] (replicated, nbatches) are
 * taken from all as they are, the others computed; after each local batch
 * poll(ctx, &stop) (collective) may stop the loop early. On return done and
 * all hold, on every rank, every batch finished so far; *stopped says whether
 * poll stopped it. A batch's entries do not depend on when it was computed. */
typedef PetscErrorCode (*HessianPoll)(void *ctx, PetscBool *stop);
PetscErrorCode hessian_entries_resumable(Hessian h, PetscInt ni, const PetscInt *i, PetscInt nj, const PetscInt *j, const char *what,
                                         HessianPoll poll, void *ctx, PetscBool *done, double *all, PetscBool *stopped);
PetscErrorCode hessian_entries_all_batches(Hessian h, PetscInt ni, const PetscInt *i, PetscInt nj, const PetscInt *j, const char *what,
                                           double *all);
/* Instead of -hessian_reuse_forward. */
PetscErrorCode hessian_set_reuse_forward(Hessian h, PetscBool reuse);
PetscErrorCode hessian_get_reuse_forward(Hessian h, PetscBool *reuse);
/* Instead of -hessian_precision; before hessian_setup. */
PetscErrorCode hessian_set_precision(Hessian h, HessianPrecision precision);
PetscErrorCode hessian_get_precision(Hessian h, HessianPrecision *precision);
/* Instead of -hessian_block: directions per R-operator pass; before hessian_setup. */
PetscErrorCode hessian_set_block(Hessian h, PetscInt kmax);
/* Draws the sample set, assembles this rank's samples, creates the shells.
 * Needs dataset_setup and net_setup. */
PetscErrorCode hessian_setup(Hessian h);
/* The parameters at which H is taken (replicated, length N; kept by reference:
 * call it again whenever their values change, even at the same address). */
PetscErrorCode hessian_set_point(Hessian h, const double *theta);
PetscErrorCode hessian_view(Hessian h, PetscViewer v);
/* Divergence check, collective: if any of the n values v on any rank is NaN or
 * Inf, raises NN_ERR_DIVERGED on every rank, naming what. */
PetscErrorCode hessian_check_finite(Hessian h, size_t n, const double *v, const char *what);
PetscErrorCode hessian_destroy(Hessian *h);

/* The operators (global size N x N, symmetric). */
PetscErrorCode hessian_get_mat(Hessian h, HessianPart part, Mat *A);
/* The block H_pq = d^2 R / dtheta_p dtheta_q between weight layers p and q
 * (1-based, Eq. (5)-(6)), an operator of size N_p x N_q (MatDestroy it). */
PetscErrorCode hessian_block_create(Hessian h, PetscInt p, PetscInt q, Mat *A);
/* Parameter range [off, off + n) of weight layer p (1-based). */
PetscErrorCode hessian_layer_range(Hessian h, PetscInt p, PetscInt *off, PetscInt *n);

/* The risk R, its gradient (length N, replicated; may be NULL) and the mean
 * |l'| over the m samples (Theorem 1(c)'s E_m[|l'|]; may be NULL). Collective. */
PetscErrorCode hessian_risk(Hessian h, double *R, double *grad, double *mean_abs_dl);

/* HV (k x N, row j at HV + j*N) += this rank's contribution to part * V_j for
 * the k <= kmax directions V (k x N, replicated). Collective when batches are
 * split across ranks; the sum over ranks is the product. */
PetscErrorCode hessian_apply_local(Hessian h, HessianPart part, PetscInt k, const double *V, double *HV);
/* Dense verification: A (N x N) <- part, assembled column by column through
 * the operator (blocks of kmax columns), with a progress line. */
PetscErrorCode hessian_dense_assemble(Hessian h, HessianPart part, ScaMat A);

/* Columns of the per-batch Hessians: out (nj x N, row c at out + c*N) <-
 * H_b e_{j[c]} for the local slice s (whole batches only: no communication). */
PetscErrorCode hessian_batch_columns(Hessian h, PetscInt s, PetscInt nj, const PetscInt *j, double *out);

/* Entries H_b[i[p], j[q]] of the per-batch Hessian of local slice s (a whole
 * batch): out (ni x nj, row-major), computed kmax columns at a time. */
PetscErrorCode hessian_batch_entries(Hessian h, PetscInt s, PetscInt ni, const PetscInt *i, PetscInt nj, const PetscInt *j, double *out);

#endif
