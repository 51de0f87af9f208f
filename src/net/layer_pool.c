/* Max-pooling over a window (kernel, stride, zero padding that never wins;
 * floor sizes): the preset's pool:K is kernel K, stride K, no padding.
 *   in is (C, B, H, W), out is (C, B, OH, OW)
 *   forward   y = max over the window; argmax keeps the input index (first maximum)
 *   backward  dx[argmax] += dy
 * R-operator (the arg-maxima of the forward pass are fixed):
 *   Ry = Rx[argmax],  Rdx[argmax] += Rdy */
#include "layers.h"

/* The index in an H x W plane of the first maximum of x over output (oh, ow)'s window, inside the image. */
static PetscInt pool_argmax(const NnWindow *w, PetscInt H, PetscInt W, const nn_real *x, PetscInt oh, PetscInt ow)
{
  const PetscInt ih0 = oh * w->sh - w->pt, iw0 = ow * w->sw - w->pl;
  PetscInt       best = -1;
  for (PetscInt ih = PetscMax(ih0, 0); ih < PetscMin(ih0 + w->kh, H); ih++)
    for (PetscInt iw = PetscMax(iw0, 0); iw < PetscMin(iw0 + w->kw, W); iw++) {
      const PetscInt at = ih * W + iw;
      if (best < 0 || x[at] > x[best]) best = at;
    }
  return best;
}

static PetscErrorCode pool_forward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, nn_real *out)
{
  const PetscInt H = L->in.h, W = L->in.w, OH = L->out.h, OW = L->out.w, planes = L->in.c * p->B;
  PetscFunctionBeginUser;
  (void)theta;
  for (PetscInt q = 0; q < planes; q++) {
    const nn_real *x = in + (size_t)q * H * W;
    for (PetscInt oh = 0; oh < OH; oh++)
      for (PetscInt ow = 0; ow < OW; ow++) {
        const PetscInt best = pool_argmax(&L->win, H, W, x, oh, ow);
        const size_t   o    = ((size_t)q * OH + oh) * OW + ow;
        out[o]                    = x[best];
        layer_cache(L)->argmax[o] = (PetscInt)((size_t)q * H * W + best);
      }
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode pool_backward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, const nn_real *out,
                                    const nn_real *dout, nn_real *din, nn_real *grad)
{
  const size_t nout = (size_t)p->B * nn_shape_size(L->out);
  PetscFunctionBeginUser;
  (void)theta, (void)in, (void)out, (void)grad;
  if (!din) PetscFunctionReturn(0);
  PetscCall(PetscArrayzero(din, (size_t)p->B * nn_shape_size(L->in)));
  for (size_t o = 0; o < nout; o++) din[layer_cache(L)->argmax[o]] += dout[o]; /* dx[argmax] += dy */
  PetscFunctionReturn(0);
}

/* Plane q = c*B + b of the forward pass is plane (c*k + j)*B + b of direction
 * j in the k-tangent block (C, k*B, H, W). */
static inline size_t pool_tangent_plane(PetscInt q, PetscInt B, PetscInt k, PetscInt j)
{
  return ((size_t)(q / B) * (size_t)k + (size_t)j) * (size_t)B + (size_t)(q % B);
}

static PetscErrorCode pool_rop_forward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                       PetscInt ldv, const nn_real *in, const nn_real *Rin, nn_real *Rout)
{
  const PetscInt planes = L->in.c * p->B;
  const size_t   HW = (size_t)L->in.h * L->in.w, OHW = (size_t)L->out.h * L->out.w;
  PetscFunctionBeginUser;
  (void)theta, (void)V, (void)ldv, (void)in;
  for (PetscInt j = 0; j < k; j++)
    for (PetscInt q = 0; q < planes; q++) {
      const size_t    tq = pool_tangent_plane(q, p->B, k, j);
      const PetscInt *am = layer_cache(L)->argmax + q * OHW; /* indices into the forward input, plane q at q*HW */
      nn_real         *ro = Rout + tq * OHW;
      if (!Rin) {
        PetscCall(PetscArrayzero(ro, OHW));
        continue;
      }
      const nn_real *ri = Rin + (tq - (size_t)q) * HW; /* ri[am[o]]: element am[o] - q*HW of tangent plane tq */
      for (size_t o = 0; o < OHW; o++) ro[o] = ri[am[o]]; /* Ry = Rx[argmax] */
    }
  PetscFunctionReturn(0);
}

static PetscErrorCode pool_rop_backward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                        PetscInt ldv, const NnRopBack *a)
{
  const PetscInt planes = L->in.c * p->B;
  const size_t   HW = (size_t)L->in.h * L->in.w, OHW = (size_t)L->out.h * L->out.w;
  PetscFunctionBeginUser;
  (void)theta, (void)V, (void)ldv;
  if (!a->Rdin) PetscFunctionReturn(0);
  PetscCall(PetscArrayzero(a->Rdin, (size_t)k * p->B * nn_shape_size(L->in)));
  for (PetscInt j = 0; j < k; j++)
    for (PetscInt q = 0; q < planes; q++) {
      const size_t    tq = pool_tangent_plane(q, p->B, k, j);
      const PetscInt *am = layer_cache(L)->argmax + q * OHW;
      const nn_real   *rd = a->Rdout + tq * OHW;
      nn_real         *ri = a->Rdin + (tq - (size_t)q) * HW;
      for (size_t o = 0; o < OHW; o++) ri[am[o]] += rd[o]; /* Rdx[argmax] += Rdy */
    }
  PetscFunctionReturn(0);
}

const LayerOps layer_pool_ops = {"pool", pool_forward, pool_backward, pool_rop_forward, pool_rop_backward};
