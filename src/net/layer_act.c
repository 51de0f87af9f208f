/* Elementwise activations y = f(x): ReLU, Swish x*sigmoid(x), sigmoid, tanh
 * (the S-System seed, Sec. 4.1). Any layout; in and out have the same shape.
 *   backward  dx = f'(x) dy
 * R-operator: Ry = f'(x) Rx,  Rdx = f''(x) Rx dy + f'(x) Rdy */
#include "layers.h"

#include <math.h>

static inline double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* f(x) */
static inline double act_f(ActKind a, double x)
{
  switch (a) {
  case ACT_RELU: return x > 0 ? x : 0;
  case ACT_SWISH: return x * sigmoid(x);
  case ACT_SIGMOID: return sigmoid(x);
  case ACT_TANH: return tanh(x);
  }
  return 0;
}

/* f'(x) */
static inline double act_df(ActKind a, double x)
{
  double s, t;
  switch (a) {
  case ACT_RELU: return x > 0 ? 1 : 0;
  case ACT_SWISH: s = sigmoid(x); return s + x * s * (1 - s);
  case ACT_SIGMOID: s = sigmoid(x); return s * (1 - s);
  case ACT_TANH: t = tanh(x); return 1 - t * t;
  }
  return 0;
}

/* f''(x) (ReLU: 0 almost everywhere) */
static inline double act_d2f(ActKind a, double x)
{
  double s, ds, t;
  switch (a) {
  case ACT_RELU: return 0;
  case ACT_SWISH: s = sigmoid(x); ds = s * (1 - s); return 2 * ds + x * ds * (1 - 2 * s);
  case ACT_SIGMOID: s = sigmoid(x); ds = s * (1 - s); return ds * (1 - 2 * s);
  case ACT_TANH: t = tanh(x); return -2 * t * (1 - t * t);
  }
  return 0;
}

static PetscErrorCode act_forward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, nn_real *out)
{
  const size_t n = (size_t)p->B * nn_shape_size(L->in);
  PetscFunctionBeginUser;
  (void)theta;
  if (L->act == ACT_RELU)
    for (size_t i = 0; i < n; i++) out[i] = in[i] > 0 ? in[i] : 0;
  else
    for (size_t i = 0; i < n; i++) out[i] = act_f(L->act, in[i]);
  PetscFunctionReturn(0);
}

static PetscErrorCode act_backward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, const nn_real *out,
                                   const nn_real *dout, nn_real *din, nn_real *grad)
{
  const size_t n = (size_t)p->B * nn_shape_size(L->in);
  PetscFunctionBeginUser;
  (void)theta, (void)out, (void)grad;
  if (din && L->act == ACT_RELU)
    for (size_t i = 0; i < n; i++) { /* dx = f'(x) dy; dy loaded unconditionally, so that the loop vectorizes (a select, not a branch) */
      const nn_real d = dout[i];
      din[i]          = in[i] > 0 ? d : 0;
    }
  else if (din)
    for (size_t i = 0; i < n; i++) din[i] = act_df(L->act, in[i]) * dout[i];
  PetscFunctionReturn(0);
}

static PetscErrorCode act_rop_forward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                      PetscInt ldv, const nn_real *in, const nn_real *Rin, nn_real *Rout)
{
  const NnSegments g = nn_segments(L->in, p->B);
  PetscFunctionBeginUser;
  (void)theta, (void)V, (void)ldv;
  for (PetscInt s = 0; s < g.n; s++)
    for (PetscInt j = 0; j < k; j++) {
      const nn_real *x  = in + s * g.len;
      const size_t  to = (size_t)(s * k + j) * g.len;
      nn_real       *ry = Rout + to;
      const nn_real *rx = Rin ? Rin + to : NULL;
      if (!rx) PetscCall(PetscArrayzero(ry, g.len));
      else if (L->act == ACT_RELU)
        for (PetscInt i = 0; i < g.len; i++) { /* Ry = f'(x) Rx (Rx loaded unconditionally: a select, vectorized) */
          const nn_real r = rx[i];
          ry[i]           = x[i] > 0 ? r : 0;
        }
      else
        for (PetscInt i = 0; i < g.len; i++) ry[i] = act_df(L->act, x[i]) * rx[i];
    }
  PetscFunctionReturn(0);
}

static PetscErrorCode act_rop_backward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                       PetscInt ldv, const NnRopBack *a)
{
  const NnSegments g = nn_segments(L->in, p->B);
  PetscFunctionBeginUser;
  (void)theta, (void)V, (void)ldv;
  if (!a->Rdin) PetscFunctionReturn(0);
  for (PetscInt s = 0; s < g.n; s++)
    for (PetscInt j = 0; j < k; j++) {
      const nn_real *x  = a->in + s * g.len, *dy = a->dout ? a->dout + s * g.len : NULL;
      const size_t  to = (size_t)(s * k + j) * g.len;
      const nn_real *rdy = a->Rdout + to, *rx = a->Rin ? a->Rin + to : NULL;
      nn_real       *rdx = a->Rdin + to;
      if (L->act == ACT_RELU) /* f'' = 0 */
        for (PetscInt i = 0; i < g.len; i++) { /* Rdy loaded unconditionally: a select, vectorized */
          const nn_real r = rdy[i];
          rdx[i]          = x[i] > 0 ? r : 0;
        }
      else if (dy && rx)
        for (PetscInt i = 0; i < g.len; i++) rdx[i] = act_df(L->act, x[i]) * rdy[i] + act_d2f(L->act, x[i]) * rx[i] * dy[i];
      else
        for (PetscInt i = 0; i < g.len; i++) rdx[i] = act_df(L->act, x[i]) * rdy[i]; /* f'(x) Rdy (+ f''(x) Rx dy) */
    }
  PetscFunctionReturn(0);
}

const LayerOps layer_act_ops = {"act", act_forward, act_backward, act_rop_forward, act_rop_backward};
