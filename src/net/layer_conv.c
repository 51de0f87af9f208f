/* 2-D convolution, stride 1, zero padding, by im2col + GEMM.
 *   in is (C, B, H, W), weight W is (OC, C, K, K) = (OC, C*K*K) row-major,
 *   bias b is (OC), out is (OC, B, OH, OW) with OH = H + 2 pad - K + 1.
 *   forward   Y = W col(X) + b 1^T
 *   backward  dW += dY col(X)^T,  db += dY 1,  dX = col2im(W^T dY)
 * R-operator for directions V = (V_W, V_b), tangents of the k*B-sample block:
 *   forward   RY_j = W col(RX_j) + V_W,j col(X) + V_b,j 1^T
 *   backward  HV_W,j += RdY_j col(X)^T + dY col(RX_j)^T,  HV_b,j += RdY_j 1
 *             RdX_j = col2im(W^T RdY_j + V_W,j^T dY)
 * The batch is processed in chunks whose im2col matrix fits the workspace;
 * a chunk of nb samples is a column block of width nb*OH*OW of Y and dY.
 * When L->col is allocated (-net_colcache_mb), the forward pass keeps col(X)
 * of the whole batch there, and the backward and R-passes of the same
 * forward pass use it instead of a fresh im2col. */
#include "layers.h"

#include <string.h>

void im2col(const double *x, PetscInt C, PetscInt B, PetscInt H, PetscInt W, PetscInt K, PetscInt pad, PetscInt b0,
            PetscInt nb, double *col)
{
  const PetscInt OH = H + 2 * pad - K + 1, OW = W + 2 * pad - K + 1, ncol = nb * OH * OW;
  for (PetscInt c = 0; c < C; c++)
    for (PetscInt kh = 0; kh < K; kh++)
      for (PetscInt kw = 0; kw < K; kw++) {
        double *row = col + ((c * K + kh) * K + kw) * (size_t)ncol;
        for (PetscInt b = 0; b < nb; b++) {
          const double *xb = x + ((size_t)c * B + b0 + b) * H * W;
          for (PetscInt oh = 0; oh < OH; oh++) {
            PetscInt ih  = oh + kh - pad;
            double  *dst = row + ((size_t)b * OH + oh) * OW;
            if (ih < 0 || ih >= H) {
              memset(dst, 0, (size_t)OW * sizeof *dst);
              continue;
            }
            /* iw = ow + kw - pad is inside [0, W) for ow in [lo, hi) */
            const PetscInt lo = PetscMax(0, pad - kw), hi = PetscMin(OW, W + pad - kw);
            for (PetscInt ow = 0; ow < lo; ow++) dst[ow] = 0.0;
            if (hi > lo) memcpy(dst + lo, xb + ih * W + lo + kw - pad, (size_t)(hi - lo) * sizeof *dst);
            for (PetscInt ow = PetscMax(lo, hi); ow < OW; ow++) dst[ow] = 0.0;
          }
        }
      }
}

void col2im(const double *col, PetscInt C, PetscInt B, PetscInt H, PetscInt W, PetscInt K, PetscInt pad, PetscInt b0,
            PetscInt nb, double *x)
{
  const PetscInt OH = H + 2 * pad - K + 1, OW = W + 2 * pad - K + 1, ncol = nb * OH * OW;
  for (PetscInt c = 0; c < C; c++)
    for (PetscInt kh = 0; kh < K; kh++)
      for (PetscInt kw = 0; kw < K; kw++) {
        const double *row = col + ((c * K + kh) * K + kw) * (size_t)ncol;
        for (PetscInt b = 0; b < nb; b++) {
          double *xb = x + ((size_t)c * B + b0 + b) * H * W;
          for (PetscInt oh = 0; oh < OH; oh++) {
            PetscInt ih = oh + kh - pad;
            if (ih < 0 || ih >= H) continue;
            const double  *src = row + ((size_t)b * OH + oh) * OW;
            const PetscInt lo = PetscMax(0, pad - kw), hi = PetscMin(OW, W + pad - kw);
            double        *dst = xb + ih * W + (lo + kw - pad); /* x at column iw = ow + kw - pad, from ow = lo */
            for (PetscInt ow = lo; ow < hi; ow++) dst[ow - lo] += src[ow];
          }
        }
      }
}

PetscInt conv_chunk(const Layer *L, PetscInt B)
{
  const size_t per = conv_col_size(L);
  PetscInt     nb  = (PetscInt)(L->net->nwork / per);
  return nb < 1 ? 1 : (nb > B ? B : nb);
}

/* Shapes of a convolution layer, named once. */
typedef struct {
  PetscInt C, H, W, K, pad, OC, S, CKK;
} ConvDims;

static ConvDims conv_dims(const Layer *L)
{
  ConvDims d = {L->in.c, L->in.h, L->in.w, L->k, L->pad, L->out.c, L->out.h * L->out.w, 0};
  d.CKK      = d.C * d.K * d.K;
  return d;
}

/* Whether L->col holds col(x) for x of Bx samples, from the latest forward pass. */
static PetscBool conv_cached(const Layer *L, const double *x, PetscInt Bx)
{
  return L->col && L->col_of == x && L->col_B == Bx && L->col_gen == L->net->fwd_gen;
}

/* Samples per chunk of col(x): all n when col(x) is cached. */
static PetscInt conv_chunk_of(const Layer *L, const double *x, PetscInt Bx, PetscInt n)
{
  return conv_cached(L, x, Bx) ? n : conv_chunk(L, n);
}

/* col of samples [x0, x0 + nb) of x (Bx samples): the cached copy (leading
 * dimension Bx*S) or a fresh im2col in the workspace (leading dimension nb*S). */
static const double *conv_col(Layer *L, const double *x, PetscInt Bx, PetscInt x0, PetscInt nb, PetscInt *ld)
{
  ConvDims d = conv_dims(L);
  if (conv_cached(L, x, Bx)) {
    *ld = Bx * d.S;
    return L->col + (size_t)x0 * d.S;
  }
  im2col(x, d.C, Bx, d.H, d.W, d.K, d.pad, x0, nb, L->net->work);
  *ld = nb * d.S;
  return L->net->work;
}

/* out[:, b*S] (+)= Wm col(x[:, x0 + b]) for the n samples b, out with leading
 * dimension ld; x has Bx samples. */
static void conv_weights_times_col(Layer *L, const double *Wm, const double *x, PetscInt Bx, PetscInt x0, PetscInt n,
                                   double *out, PetscInt ld, double beta)
{
  ConvDims d = conv_dims(L);
  for (PetscInt b0 = 0, nb, ldc; b0 < n; b0 += nb) {
    nb                = PetscMin(conv_chunk_of(L, x, Bx, n), n - b0);
    const double *col = conv_col(L, x, Bx, x0 + b0, nb, &ldc);
    nn_dgemm(CblasNoTrans, CblasNoTrans, d.OC, nb * d.S, d.CKK, 1.0, Wm, d.CKK, col, ldc, beta, out + b0 * d.S,
             ld); /* out = Wm col (+ beta out) */
  }
}

/* gW += A col(x[:, x0 + b])^T over the n samples b; A (OC, n*S) has leading dimension lda. */
static void conv_param_grad(Layer *L, const double *A, PetscInt lda, const double *x, PetscInt Bx, PetscInt x0, PetscInt n,
                            double *gW)
{
  ConvDims d = conv_dims(L);
  for (PetscInt b0 = 0, nb, ldc; b0 < n; b0 += nb) {
    nb                = PetscMin(conv_chunk_of(L, x, Bx, n), n - b0);
    const double *col = conv_col(L, x, Bx, x0 + b0, nb, &ldc);
    nn_dgemm(CblasNoTrans, CblasTrans, d.OC, d.CKK, nb * d.S, 1.0, A + b0 * d.S, lda, col, ldc, 1.0, gW, d.CKK); /* gW += A col^T */
  }
}

/* gb[oc] += sum of row oc of A (OC, n) with leading dimension lda. */
static void conv_bias_grad(PetscInt OC, PetscInt n, const double *A, PetscInt lda, double *gb)
{
  for (PetscInt oc = 0; oc < OC; oc++)
    for (PetscInt j = 0; j < n; j++) gb[oc] += A[oc * lda + j];
}

/* din[:, d0 + b] += col2im(W1^T A1 + W2^T A2) over the n samples b (W2, A2 may be
 * NULL); A1, A2 (OC, n*S) have leading dimensions lda1, lda2; din has Bd samples. */
static void conv_input_grad(Layer *L, const double *W1, const double *A1, PetscInt lda1, const double *W2, const double *A2,
                            PetscInt lda2, PetscInt n, double *din, PetscInt Bd, PetscInt d0)
{
  ConvDims d   = conv_dims(L);
  double  *col = L->net->work;
  for (PetscInt b0 = 0, nb; b0 < n; b0 += nb) {
    nb = PetscMin(conv_chunk(L, n), n - b0);
    nn_dgemm(CblasTrans, CblasNoTrans, d.CKK, nb * d.S, d.OC, 1.0, W1, d.CKK, A1 + b0 * d.S, lda1, 0.0, col, nb * d.S); /* dcol = W1^T A1 */
    if (W2)
      nn_dgemm(CblasTrans, CblasNoTrans, d.CKK, nb * d.S, d.OC, 1.0, W2, d.CKK, A2 + b0 * d.S, lda2, 1.0, col,
               nb * d.S); /* dcol += W2^T A2 */
    col2im(col, d.C, Bd, d.H, d.W, d.K, d.pad, d0 + b0, nb, din);
  }
}

/* out[oc, :] += b[oc] for the n columns of each row (leading dimension ld). */
static void conv_add_bias(PetscInt OC, PetscInt n, const double *b, double *out, PetscInt ld)
{
  for (PetscInt oc = 0; oc < OC; oc++)
    for (PetscInt j = 0; j < n; j++) out[oc * ld + j] += b[oc];
}

static PetscErrorCode conv_forward(Layer *L, const NnPass *p, const double *theta, const double *in, double *out)
{
  ConvDims d = conv_dims(L);
  PetscFunctionBeginUser;
  if (!p->B) PetscFunctionReturn(0);
  if (L->col) { /* keep col(X) for the backward and R-passes of this forward pass */
    im2col(in, d.C, p->B, d.H, d.W, d.K, d.pad, 0, p->B, L->col);
    L->col_of = in, L->col_B = p->B, L->col_gen = L->net->fwd_gen;
  }
  conv_weights_times_col(L, theta + L->woff, in, p->B, 0, p->B, out, p->B * d.S, 0.0); /* Y = W col(X) */
  if (L->nbias) conv_add_bias(d.OC, p->B * d.S, theta + L->boff, out, p->B * d.S);     /* Y += b 1^T */
  PetscFunctionReturn(0);
}

static PetscErrorCode conv_backward(Layer *L, const NnPass *p, const double *theta, const double *in, const double *out,
                                    const double *dout, double *din, double *grad)
{
  ConvDims       d  = conv_dims(L);
  const PetscInt B = p->B, ld = B * d.S;
  PetscFunctionBeginUser;
  (void)out;
  if (!B) PetscFunctionReturn(0);
  if (grad) {
    conv_param_grad(L, dout, ld, in, B, 0, B, grad + L->woff);     /* dW += dY col(X)^T */
    if (L->nbias) conv_bias_grad(d.OC, ld, dout, ld, grad + L->boff); /* db += dY 1 */
  }
  if (din) {
    PetscCall(PetscArrayzero(din, (size_t)d.C * B * d.H * d.W));
    conv_input_grad(L, theta + L->woff, dout, ld, NULL, NULL, 0, B, din, B, 0); /* dX = col2im(W^T dY) */
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode conv_rop_forward(Layer *L, const NnPass *p, PetscInt k, const double *theta, const double *V,
                                       PetscInt ldv, const double *in, const double *Rin, double *Rout)
{
  ConvDims       d  = conv_dims(L);
  const PetscInt B = p->B, ldk = k * B * d.S;
  PetscFunctionBeginUser;
  if (!B) PetscFunctionReturn(0);
  if (Rin) conv_weights_times_col(L, theta + L->woff, Rin, k * B, 0, k * B, Rout, ldk, 0.0); /* RY = W col(RX) */
  else if (!V) PetscCall(PetscArrayzero(Rout, (size_t)d.OC * ldk));
  for (PetscInt b0 = 0, nb, ldc; b0 < B && V; b0 += nb) { /* RY_j (+)= V_W,j col(X): one col(X) for all j */
    nb                = PetscMin(conv_chunk_of(L, in, B, B), B - b0);
    const double *col = conv_col(L, in, B, b0, nb, &ldc);
    for (PetscInt j = 0; j < k; j++)
      nn_dgemm(CblasNoTrans, CblasNoTrans, d.OC, nb * d.S, d.CKK, 1.0, V + j * ldv + L->woff, d.CKK, col, ldc,
               Rin ? 1.0 : 0.0, Rout + (j * B + b0) * d.S, ldk);
  }
  if (L->nbias && V)
    for (PetscInt j = 0; j < k; j++) conv_add_bias(d.OC, B * d.S, V + j * ldv + L->boff, Rout + j * B * d.S, ldk); /* += V_b 1^T */
  PetscFunctionReturn(0);
}

static PetscErrorCode conv_rop_backward(Layer *L, const NnPass *p, PetscInt k, const double *theta, const double *V,
                                        PetscInt ldv, const NnRopBack *a)
{
  ConvDims       d  = conv_dims(L);
  const PetscInt B = p->B, ld = B * d.S, ldk = k * ld;
  PetscFunctionBeginUser;
  if (!B) PetscFunctionReturn(0);
  for (PetscInt b0 = 0, nb, ldc; b0 < B; b0 += nb) { /* HV_W,j += RdY_j col(X)^T: one col(X) for all j */
    nb                = PetscMin(conv_chunk_of(L, a->in, B, B), B - b0);
    const double *col = conv_col(L, a->in, B, b0, nb, &ldc);
    for (PetscInt j = 0; j < k; j++)
      nn_dgemm(CblasNoTrans, CblasTrans, d.OC, d.CKK, nb * d.S, 1.0, a->Rdout + j * ld + b0 * d.S, ldk, col, ldc, 1.0,
               a->HV + j * a->ldh + L->woff, d.CKK);
  }
  for (PetscInt j = 0; j < k; j++) {
    double       *H   = a->HV + j * a->ldh;
    const double *Rdj = a->Rdout + j * ld;
    if (a->dout && a->Rin) conv_param_grad(L, a->dout, ld, a->Rin, k * B, j * B, B, H + L->woff); /* HV_W += dY col(RX)^T */
    if (L->nbias) conv_bias_grad(d.OC, ld, Rdj, ldk, H + L->boff);                                /* HV_b += RdY 1 */
  }
  if (!a->Rdin) PetscFunctionReturn(0);
  PetscCall(PetscArrayzero(a->Rdin, (size_t)d.C * k * B * d.H * d.W));
  for (PetscInt j = 0; j < k; j++) /* RdX = col2im(W^T RdY + V_W^T dY) */
    conv_input_grad(L, theta + L->woff, a->Rdout + j * ld, ldk, a->dout && V ? V + j * ldv + L->woff : NULL, a->dout, ld, B,
                    a->Rdin, k * B, j * B);
  PetscFunctionReturn(0);
}

const LayerOps layer_conv_ops = {"conv", conv_forward, conv_backward, conv_rop_forward, conv_rop_backward};
