/* Flatten: (C, B, S) channel-major -> (B, C*S) in PyTorch's flatten order.
 *   forward   y[b, c*S + s] = x[c, b, s]
 *   backward  dx[c, b, s] = dy[b, c*S + s] */
#include "layers.h"

static PetscErrorCode flatten_forward(Layer *L, const NnPass *p, const double *theta, const double *in, double *out)
{
  const PetscInt C = L->in.c, S = L->in.h * L->in.w, B = p->B;
  PetscFunctionBeginUser;
  (void)theta;
  for (PetscInt c = 0; c < C; c++)
    for (PetscInt b = 0; b < B; b++)
      for (PetscInt s = 0; s < S; s++) out[((size_t)b * C + c) * S + s] = in[((size_t)c * B + b) * S + s];
  PetscFunctionReturn(0);
}

static PetscErrorCode flatten_backward(Layer *L, const NnPass *p, const double *theta, const double *in,
                                       const double *out, const double *dout, double *din, double *grad)
{
  const PetscInt C = L->in.c, S = L->in.h * L->in.w, B = p->B;
  PetscFunctionBeginUser;
  (void)theta, (void)in, (void)out, (void)grad;
  if (!din) PetscFunctionReturn(0);
  for (PetscInt c = 0; c < C; c++)
    for (PetscInt b = 0; b < B; b++)
      for (PetscInt s = 0; s < S; s++) din[((size_t)c * B + b) * S + s] = dout[((size_t)b * C + c) * S + s];
  PetscFunctionReturn(0);
}

const LayerOps layer_flatten_ops = {"flatten", flatten_forward, flatten_backward};
