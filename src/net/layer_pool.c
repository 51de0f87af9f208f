/* Max-pooling with a K x K window and stride K (no padding, floor sizes).
 *   in is (C, B, H, W), out is (C, B, H/K, W/K)
 *   forward   y = max over the window; argmax keeps the input index (first maximum)
 *   backward  dx[argmax] += dy
 * R-operator (the arg-maxima of the forward pass are fixed):
 *   Ry = Rx[argmax],  Rdx[argmax] += Rdy */
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

/* Index in the k-tangent block (C, k*B, H, W) of direction j of the input
 * element argmax[o], and of output element o. */
static inline void pool_tangent_index(const Layer *L, PetscInt B, PetscInt k, PetscInt j, size_t o, size_t *ti, size_t *to)
{
  const size_t HW = (size_t)L->in.h * L->in.w, OHW = (size_t)L->out.h * L->out.w;
  const size_t q  = o / OHW; /* plane c*B + b */
  const size_t c = q / (size_t)B, b = q % (size_t)B, plane = (c * (size_t)k + (size_t)j) * (size_t)B + b;
  *ti = plane * HW + ((size_t)L->argmax[o] - q * HW);
  *to = plane * OHW + o % OHW;
}

static PetscErrorCode pool_rop_forward(Layer *L, const NnPass *p, PetscInt k, const double *theta, const double *V,
                                       PetscInt ldv, const double *in, const double *Rin, double *Rout)
{
  const size_t nout = (size_t)p->B * nn_shape_size(L->out);
  PetscFunctionBeginUser;
  (void)theta, (void)V, (void)ldv, (void)in;
  for (PetscInt j = 0; j < k; j++)
    for (size_t o = 0, ti, to; o < nout; o++) {
      pool_tangent_index(L, p->B, k, j, o, &ti, &to);
      Rout[to] = Rin ? Rin[ti] : 0; /* Ry = Rx[argmax] */
    }
  PetscFunctionReturn(0);
}

static PetscErrorCode pool_rop_backward(Layer *L, const NnPass *p, PetscInt k, const double *theta, const double *V,
                                        PetscInt ldv, const NnRopBack *a)
{
  const size_t nout = (size_t)p->B * nn_shape_size(L->out);
  PetscFunctionBeginUser;
  (void)theta, (void)V, (void)ldv;
  if (!a->Rdin) PetscFunctionReturn(0);
  PetscCall(PetscArrayzero(a->Rdin, (size_t)k * p->B * nn_shape_size(L->in)));
  for (PetscInt j = 0; j < k; j++)
    for (size_t o = 0, ti, to; o < nout; o++) {
      pool_tangent_index(L, p->B, k, j, o, &ti, &to);
      a->Rdin[ti] += a->Rdout[to]; /* Rdx[argmax] += Rdy */
    }
  PetscFunctionReturn(0);
}

const LayerOps layer_pool_ops = {"pool", pool_forward, pool_backward, pool_rop_forward, pool_rop_backward};
