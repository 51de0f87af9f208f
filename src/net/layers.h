/* Private to src/net: the layer kernels' tables, the state of the passes and
 * shared helpers, in the precision of the including source (nn_real,
 * include/nncas/real.h): the layer files and net_pass.c are compiled once per
 * precision, and each object sees only its own precision's types. */
#ifndef NNCAS_LAYERS_H
#define NNCAS_LAYERS_H

#include "netimpl.h"
#include "nncas/real.h"
#include <cblas.h>

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

/* Row-major GEMM in nn_real (cblas_dgemm or cblas_sgemm), its flops logged for -log_view. */
static inline void nn_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, PetscInt m, PetscInt n, PetscInt k, nn_real alpha,
                           const nn_real *A, PetscInt lda, const nn_real *B, PetscInt ldb, nn_real beta, nn_real *C, PetscInt ldc)
{
#ifdef NN_SINGLE
  cblas_sgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
#else
  cblas_dgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
#endif
  (void)PetscLogFlops(2.0 * (double)m * (double)n * (double)k);
}

/* Arguments of a layer's second-order backward pass (R-operator) for k
 * tangent directions. Tangent tensors hold k blocks of the same B samples,
 * i.e. a batch of k*B in the layer's layout. NULL Rin means a zero input
 * tangent; NULL dout means a zero first-order gradient (the Gauss-Newton part). */
typedef struct {
  const nn_real *in, *out;   /* forward tensors of the B samples */
  const nn_real *Rin, *Rout; /* their tangents (k*B samples) */
  const nn_real *dout;       /* dL/dout (B samples), or NULL */
  const nn_real *Rdout;      /* its tangent (k*B samples) */
  nn_real       *Rdin;       /* <- tangent of dL/din (k*B samples); NULL if not needed */
  nn_real       *HV;         /* += second-order parameter terms, row j at HV + j*ldh */
  PetscInt       ldh;
  const PetscInt *rows;      /* only these entries of HV are needed (ascending theta indices), or NULL: all */
  PetscInt       nrows;
} NnRopBack;

/* A tangent direction's non-zero entries when it has at most NN_SPARSE_MAX of
 * them (a Hessian column e_j): theta indices and values; n = -1 when dense.
 * Set by net_rop_forward for each direction, read by the layers through their
 * net (layer_sparse_direction) in both R-passes. */
#define NN_SPARSE_MAX 32
typedef struct {
  PetscInt n, idx[NN_SPARSE_MAX];
  nn_real  val[NN_SPARSE_MAX];
} NnSparseDir;

typedef struct {
  const char *name;
  /* out <- layer(in) */
  PetscErrorCode (*forward)(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, nn_real *out);
  /* din <- dL/din (din may be NULL), grad += dL/dtheta of this layer */
  PetscErrorCode (*backward)(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, const nn_real *out,
                             const nn_real *dout, nn_real *din, nn_real *grad);
  /* R-operator, forward: Rout <- d out[theta + t V_j, in + t Rin_j]/dt at t = 0
   * for the k parameter directions V_j (row j at V + j*ldv). V is NULL when
   * the directions vanish on this layer's parameters (also in rop_backward). */
  PetscErrorCode (*rop_forward)(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V, PetscInt ldv,
                                const nn_real *in, const nn_real *Rin, nn_real *Rout);
  /* R-operator, backward: the tangents of backward's outputs (see NnRopBack). */
  PetscErrorCode (*rop_backward)(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V, PetscInt ldv,
                                 const NnRopBack *a);
} LayerOps;

extern const LayerOps layer_dense_ops, layer_conv_ops, layer_pool_ops, layer_act_ops, layer_bn_ops, layer_dropout_ops,
  layer_flatten_ops, layer_avgpool_ops, layer_scale_ops;

/* The kernels of a layer kind (net_pass.c); NULL for LAYER_ADD, which the passes do themselves. */
const LayerOps *layer_ops(LayerKind kind);

/* What a forward pass leaves in a layer for its backward and R-passes. */
typedef struct {
  PetscInt          *argmax; /* pool: input index of each output */
  uint8_t           *mask;   /* dropout: kept elements */
  double            *mean, *invstd; /* bn: per channel (statistics in double in either precision) */
  nn_real           *col;    /* conv: im2col of the forward input, when it fits -net_colcache_mb */
  const nn_real     *col_of; /* conv: the input col holds (with col_B samples, forward col_gen) */
  PetscInt           col_B;
  unsigned long long col_gen;
} NnLayerCache;

/* The passes' buffers in this precision (sized for the net's Bmax). */
#ifdef NN_SINGLE
typedef struct NnState_single NnState;
struct NnState_single {
#else
typedef struct NnState NnState;
struct NnState {
#endif
  nn_real     **act;     /* act[t]: tensor t (0: the input; t > 0: layer t-1's output; act[nlayers]: (Bmax, K)) */
  nn_real      *gbuf[2]; /* a chain's ping-pong buffers for activation gradients; a DAG's scratch (gbuf[0]) */
  nn_real     **gt;      /* a DAG's gradient of every tensor t >= 1 (without tangents set up) */
  nn_real      *work;    /* im2col workspace */
  size_t        nwork;
  NnLayerCache *cache;   /* (nlayers) */
  /* second order (net_setup_tangents) */
  PetscInt     kmax;     /* directions per tangent pass */
  nn_real    **dact;     /* dact[l] = dL/d act[l], l = 1..nlayers, kept by net_backward */
  nn_real    **ract;     /* ract[l]: tangents of act[l] for k directions (k*Bmax samples) */
  PetscBool   *rzero;    /* rzero[l]: the tangents of act[l] are zero (not computed) */
  NnSparseDir *vsparse;  /* (kmax) the directions of the latest net_rop_forward, when sparse */
  nn_real     *rbuf[2];  /* a chain's ping-pong buffers for the tangents of the gradients; a DAG's scratch (rbuf[0]) */
  nn_real    **rgt;      /* a DAG's tangents of the gradient of every tensor t >= 1 (k*Bmax samples) */
};

/* The net's state in this precision: its field state (double) or state_single (float). */
#ifdef NN_SINGLE
#define net_state_of(net) ((net)->state_single)
#else
#define net_state_of(net) ((net)->state)
#endif

/* The state of L's net in this precision, and L's caches in it. */
static inline NnState *layer_state(const Layer *L) { return net_state_of(L->net); }
static inline NnLayerCache *layer_cache(const Layer *L) { return &net_state_of(L->net)->cache[L->index]; }

/* Direction j's non-zeros, as scanned by the latest net_rop_forward, when it
 * has few (a Hessian column e_j); NULL when it is dense. */
static inline const NnSparseDir *layer_sparse_direction(const Layer *L, PetscInt j)
{
  const NnSparseDir *s = &layer_state(L)->vsparse[j];
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

/* Elements of a conv layer's im2col matrix per sample: C*K*K rows, OH*OW columns. */
static inline size_t conv_col_size(const Layer *L)
{
  return (size_t)L->in.c * L->win.kh * L->win.kw * L->out.h * L->out.w;
}

/* Number of samples whose im2col columns fit the net's workspace at once. */
PetscInt conv_chunk(const Layer *L, PetscInt B);

/* The image sizes of an im2col: input (C, H, W) and output (OH, OW) under window w. */
typedef struct {
  PetscInt        C, H, W, OH, OW;
  const NnWindow *w;
} NnColDims;

/* col (C*KH*KW, nb*OH*OW) <- im2col of samples [b0, b0+nb) of x (C, B, H, W). */
void im2col(const nn_real *x, const NnColDims *d, PetscInt B, PetscInt b0, PetscInt nb, nn_real *col);
/* x (C, B, H, W) samples [b0, b0+nb) += col2im of col (C*KH*KW, nb*OH*OW). */
void col2im(const nn_real *col, const NnColDims *d, PetscInt B, PetscInt b0, PetscInt nb, nn_real *x);

/* Per-channel indexing of a tensor of B samples: spatial (C, B, S) or flat
 * (B, C); element (c, b, q) is at c*cs + b*bs + q (bn, scale). */
typedef struct {
  PetscInt C, B, S, cs, bs;
} NnChannelIndex;

static inline NnChannelIndex nn_channel_index(NnShape in, PetscInt B)
{
  NnChannelIndex ix;
  ix.C  = in.c;
  ix.B  = B;
  ix.S  = in.spatial ? in.h * in.w : 1;
  ix.cs = in.spatial ? B * ix.S : 1;
  ix.bs = in.spatial ? ix.S : in.c;
  return ix;
}

/* Element (c, b, q) of the forward tensor, and of direction j in the tangent block of k*B samples. */
static inline size_t nn_channel_at(NnChannelIndex ix, PetscInt c, PetscInt b, PetscInt q)
{
  return (size_t)c * ix.cs + (size_t)b * ix.bs + q;
}
static inline size_t nn_channel_tan_at(NnChannelIndex ix, PetscInt k, PetscInt j, PetscInt c, PetscInt b, PetscInt q)
{
  const size_t cs = ix.cs == 1 ? 1 : (size_t)k * ix.cs; /* spatial: channel stride k*B*S */
  return (size_t)c * cs + (size_t)(j * ix.B + b) * ix.bs + q;
}

#endif
