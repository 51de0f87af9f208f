/* Max-pooling with a K x K window and stride K (no padding, floor sizes).
 *   in is (C, B, H, W), out is (C, B, H/K, W/K)
 *   forward   y = max over the window; argmax keeps the input index (first maximum)
 *   backward  dx[argmax] += dy */
#include "layers.h"

static PetscErrorCode pool_forward(Layer *L, const NnPass *p, const double *theta, const double *in, double *out)
{
  const PetscInt K = L->k, H = L->in.h, W = L->in.w, OH = L->out.h, OW = L->out.w, planes = L->in.c * p->B;
  PetscFunctionBeginUser;
  (void)theta;
  for (PetscInt q = 0; q < planes; q++) {
    const double *x = in + (size_t)q * H * W;
    for (PetscInt oh = 0; oh < OH; oh++)
      for (PetscInt ow = 0; ow < OW; ow++) {
        PetscInt best = (oh * K) * W + ow * K;
        for (PetscInt i = 0; i < K; i++)
          for (PetscInt j = 0; j < K; j++) {
            PetscInt at = (oh * K + i) * W + ow * K + j;
            if (x[at] > x[best]) best = at;
          }
        size_t o     = ((size_t)q * OH + oh) * OW + ow;
        out[o]       = x[best];
        L->argmax[o] = (PetscInt)((size_t)q * H * W + best);
      }
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode pool_backward(Layer *L, const NnPass *p, const double *theta, const double *in, const double *out,
                                    const double *dout, double *din, double *grad)
{
  const size_t nout = (size_t)p->B * nn_shape_size(L->out);
  PetscFunctionBeginUser;
  (void)theta, (void)in, (void)out, (void)grad;
  if (!din) PetscFunctionReturn(0);
  PetscCall(PetscArrayzero(din, (size_t)p->B * nn_shape_size(L->in)));
  for (size_t o = 0; o < nout; o++) din[L->argmax[o]] += dout[o]; /* dx[argmax] += dy */
  PetscFunctionReturn(0);
}

const LayerOps layer_pool_ops = {"pool", pool_forward, pool_backward};
