/* Elementwise activations y = f(x): ReLU, Swish x*sigmoid(x), sigmoid, tanh
 * (the S-System seed, Sec. 4.1). Any layout; in and out have the same shape.
 *   backward  dx = f'(x) dy */
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

static PetscErrorCode act_forward(Layer *L, const NnPass *p, const double *theta, const double *in, double *out)
{
  const size_t n = (size_t)p->B * nn_shape_size(L->in);
  PetscFunctionBeginUser;
  (void)theta;
  for (size_t i = 0; i < n; i++) out[i] = act_f(L->act, in[i]);
  PetscFunctionReturn(0);
}

static PetscErrorCode act_backward(Layer *L, const NnPass *p, const double *theta, const double *in, const double *out,
                                   const double *dout, double *din, double *grad)
{
  const size_t n = (size_t)p->B * nn_shape_size(L->in);
  PetscFunctionBeginUser;
  (void)theta, (void)out, (void)grad;
  if (din)
    for (size_t i = 0; i < n; i++) din[i] = act_df(L->act, in[i]) * dout[i]; /* dx = f'(x) dy */
  PetscFunctionReturn(0);
}

const LayerOps layer_act_ops = {"act", act_forward, act_backward};
