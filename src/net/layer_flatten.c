/* Flatten: (C, B, S) channel-major -> (B, C*S) in PyTorch's flatten order.
 *   forward   y[b, c*S + s] = x[c, b, s]
 *   backward  dx[c, b, s] = dy[b, c*S + s]
 * The R-operator applies the same permutations to the k*B-sample tangents. */
#include "layers.h"

/* y (B, C*S) <- x (C, B, S) */
static void flatten_permute(PetscInt C, PetscInt B, PetscInt S, const nn_real *x, nn_real *y)
{
  for (PetscInt c = 0; c < C; c++)
    for (PetscInt b = 0; b < B; b++)
      for (PetscInt s = 0; s < S; s++) y[((size_t)b * C + c) * S + s] = x[((size_t)c * B + b) * S + s];
}

/* x (C, B, S) <- y (B, C*S) */
static void flatten_unpermute(PetscInt C, PetscInt B, PetscInt S, const nn_real *y, nn_real *x)
{
  for (PetscInt c = 0; c < C; c++)
    for (PetscInt b = 0; b < B; b++)
      for (PetscInt s = 0; s < S; s++) x[((size_t)c * B + b) * S + s] = y[((size_t)b * C + c) * S + s];
}

static PetscErrorCode flatten_forward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, nn_real *out)
{
  PetscFunctionBeginUser;
  (void)theta;
  flatten_permute(L->in.c, p->B, L->in.h * L->in.w, in, out);
  PetscFunctionReturn(0);
}

static PetscErrorCode flatten_backward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in,
                                       const nn_real *out, const nn_real *dout, nn_real *din, nn_real *grad)
{
  PetscFunctionBeginUser;
  (void)theta, (void)in, (void)out, (void)grad;
  if (din) flatten_unpermute(L->in.c, p->B, L->in.h * L->in.w, dout, din);
  PetscFunctionReturn(0);
}

static PetscErrorCode flatten_rop_forward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                          PetscInt ldv, const nn_real *in, const nn_real *Rin, nn_real *Rout)
{
  PetscFunctionBeginUser;
  (void)theta, (void)V, (void)ldv, (void)in;
  if (Rin) flatten_permute(L->in.c, k * p->B, L->in.h * L->in.w, Rin, Rout);
  else PetscCall(PetscArrayzero(Rout, (size_t)k * p->B * nn_shape_size(L->in)));
  PetscFunctionReturn(0);
}

static PetscErrorCode flatten_rop_backward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                           PetscInt ldv, const NnRopBack *a)
{
  PetscFunctionBeginUser;
  (void)theta, (void)V, (void)ldv;
  if (a->Rdin) flatten_unpermute(L->in.c, k * p->B, L->in.h * L->in.w, a->Rdout, a->Rdin);
  PetscFunctionReturn(0);
}

const LayerOps layer_flatten_ops = {"flatten", flatten_forward, flatten_backward, flatten_rop_forward,
                                    flatten_rop_backward};
