/* Private to src/net: the layer kernels' tables and shared helpers. */
#ifndef NNCAS_LAYERS_H
#define NNCAS_LAYERS_H

#include "netimpl.h"
#include <cblas.h>

extern const LayerOps layer_dense_ops, layer_conv_ops, layer_pool_ops, layer_act_ops, layer_bn_ops,
  layer_dropout_ops, layer_flatten_ops;

/* An elementwise layer's tensor of B samples as segments that the k-tangent
 * block repeats per direction: spatial (C, B, S) has C segments of B*S
 * elements, flat (B, F) one segment of B*F; segment g of direction j of the
 * tangent block starts at (g*k + j)*len. */
typedef struct {
  PetscInt n, len;
} NnSegments;

static inline NnSegments nn_segments(NnShape s, PetscInt B)
{
  NnSegments g;
  g.n   = s.spatial ? s.c : 1;
  g.len = s.spatial ? B * s.h * s.w : B * nn_shape_size(s);
  return g;
}

/* Row-major cblas_dgemm, its flops logged for -log_view. */
static inline void nn_dgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, PetscInt m, PetscInt n, PetscInt k, double alpha,
                            const double *A, PetscInt lda, const double *B, PetscInt ldb, double beta, double *C, PetscInt ldc)
{
  cblas_dgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
  (void)PetscLogFlops(2.0 * (double)m * (double)n * (double)k);
}

/* Direction j's non-zeros, as scanned by the latest net_rop_forward, when it
 * has few (a Hessian column e_j); NULL when it is dense. */
static inline const NnSparseDir *layer_sparse_direction(const Layer *L, PetscInt j)
{
  const NnSparseDir *s = &L->net->vsparse[j];
  return s->n >= 0 ? s : NULL;
}

/* The wanted rows of a->HV inside theta's [lo, hi): their count, the first at
 * *r (a->rows is ascending). */
static inline PetscInt rop_rows_in(const NnRopBack *a, PetscInt lo, PetscInt hi, const PetscInt **r)
{
  PetscInt b = 0, e;
  while (b < a->nrows && a->rows[b] < lo) b++;
  for (e = b; e < a->nrows && a->rows[e] < hi; e++) {}
  *r = a->rows + b;
  return e - b;
}

/* Builds net->layers from net->spec for net->input (net_spec.c). */
PetscErrorCode net_parse(Net net);

/* Doubles of a conv layer's im2col matrix per sample: C*K*K rows, OH*OW columns. */
static inline size_t conv_col_size(const Layer *L)
{
  return (size_t)L->in.c * L->k * L->k * L->out.h * L->out.w;
}

/* Number of samples whose im2col columns fit the net's workspace at once. */
PetscInt conv_chunk(const Layer *L, PetscInt B);

/* col (C*K*K, nb*OH*OW) <- im2col of samples [b0, b0+nb) of x (C, B, H, W), zero padding pad. */
void im2col(const double *x, PetscInt C, PetscInt B, PetscInt H, PetscInt W, PetscInt K, PetscInt pad, PetscInt b0,
            PetscInt nb, double *col);
/* x (C, B, H, W) samples [b0, b0+nb) += col2im of col (C*K*K, nb*OH*OW). */
void col2im(const double *col, PetscInt C, PetscInt B, PetscInt H, PetscInt W, PetscInt K, PetscInt pad, PetscInt b0,
            PetscInt nb, double *x);

#endif
