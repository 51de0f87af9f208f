/* 2-D convolution, stride 1, zero padding, by im2col + GEMM.
 *   in is (C, B, H, W), weight W is (OC, C, K, K) = (OC, C*K*K) row-major,
 *   bias b is (OC), out is (OC, B, OH, OW) with OH = H + 2 pad - K + 1.
 *   forward   Y = W col(X) + b 1^T
 *   backward  dW += dY col(X)^T,  db += dY 1,  dX = col2im(W^T dY)
 * The batch is processed in chunks whose im2col matrix fits the workspace;
 * a chunk of nb samples is a column block of width nb*OH*OW of Y and dY. */
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
            for (PetscInt ow = 0; ow < OW; ow++) {
              PetscInt iw = ow + kw - pad;
              dst[ow]     = (iw >= 0 && iw < W) ? xb[ih * W + iw] : 0.0;
            }
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
            const double *src = row + ((size_t)b * OH + oh) * OW;
            for (PetscInt ow = 0; ow < OW; ow++) {
              PetscInt iw = ow + kw - pad;
              if (iw >= 0 && iw < W) xb[ih * W + iw] += src[ow];
            }
          }
        }
      }
}

PetscInt conv_chunk(const Layer *L, PetscInt B)
{
  const size_t per = (size_t)L->in.c * L->k * L->k * L->out.h * L->out.w; /* im2col doubles per sample */
  PetscInt     nb  = (PetscInt)(L->net->nwork / per);
  return nb < 1 ? 1 : (nb > B ? B : nb);
}

static PetscErrorCode conv_forward(Layer *L, const NnPass *p, const double *theta, const double *in, double *out)
{
  const PetscInt C = L->in.c, H = L->in.h, Wd = L->in.w, K = L->k, OC = L->out.c, S = L->out.h * L->out.w,
                 CKK = C * K * K, B = p->B, ld = B * S;
  const double  *W = theta + L->woff;
  double        *col = L->net->work;
  PetscFunctionBeginUser;
  for (PetscInt b0 = 0, nb; b0 < B; b0 += nb) {
    nb = PetscMin(conv_chunk(L, B), B - b0);
    im2col(in, C, B, H, Wd, K, L->pad, b0, nb, col);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, nb * S, CKK, 1.0, W, CKK, col, nb * S, 0.0, out + b0 * S,
                ld); /* Y[:, chunk] = W col */
  }
  if (L->nb) {
    const double *b = theta + L->boff;
    for (PetscInt oc = 0; oc < OC; oc++)
      for (PetscInt j = 0; j < ld; j++) out[oc * ld + j] += b[oc]; /* Y += b 1^T */
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode conv_backward(Layer *L, const NnPass *p, const double *theta, const double *in, const double *out,
                                    const double *dout, double *din, double *grad)
{
  const PetscInt C = L->in.c, H = L->in.h, Wd = L->in.w, K = L->k, OC = L->out.c, S = L->out.h * L->out.w,
                 CKK = C * K * K, B = p->B, ld = B * S;
  const double  *W = theta + L->woff;
  double        *col = L->net->work;
  PetscFunctionBeginUser;
  (void)out;
  if (!B) PetscFunctionReturn(0);
  if (L->nb) {
    double *db = grad + L->boff;
    for (PetscInt oc = 0; oc < OC; oc++)
      for (PetscInt j = 0; j < ld; j++) db[oc] += dout[oc * ld + j]; /* db += dY 1 */
  }
  if (din) PetscCall(PetscArrayzero(din, (size_t)C * B * H * Wd));
  for (PetscInt b0 = 0, nb; b0 < B; b0 += nb) {
    nb = PetscMin(conv_chunk(L, B), B - b0);
    im2col(in, C, B, H, Wd, K, L->pad, b0, nb, col);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, CKK, nb * S, 1.0, dout + b0 * S, ld, col, nb * S, 1.0,
                grad + L->woff, CKK); /* dW += dY col^T */
    if (!din) continue;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, nb * S, OC, 1.0, W, CKK, dout + b0 * S, ld, 0.0, col,
                nb * S); /* dcol = W^T dY */
    col2im(col, C, B, H, Wd, K, L->pad, b0, nb, din);
  }
  PetscFunctionReturn(0);
}

const LayerOps layer_conv_ops = {"conv", conv_forward, conv_backward};
