/* Dropout with probability p (inverted scaling), active only in training.
 *   forward   y = x * m / (1 - p),  m ~ Bernoulli(1 - p)
 *   backward  dx = dy * m / (1 - p)
 * Sample i's mask element e is draw e of the stream keyed by (step key, layer,
 * global sample id), e in PyTorch's (c, h, w) order: the mask does not depend
 * on the rank that holds the sample nor on the layout. */
#include "layers.h"

/* Flat index inside the layer's tensor of element e = (c, q) of local sample b. */
static inline size_t drop_at(const Layer *L, PetscInt B, PetscInt b, PetscInt e)
{
  const PetscInt S = L->in.h * L->in.w;
  if (!L->in.spatial) return (size_t)b * nn_shape_size(L->in) + e;
  return ((size_t)(e / S) * B + b) * S + e % S; /* (C, B, S) */
}

static PetscErrorCode dropout_forward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, nn_real *out)
{
  const PetscInt F = nn_shape_size(L->in);
  const nn_real   scale = 1.0 / (1.0 - L->p);
  PetscFunctionBeginUser;
  (void)theta;
  if (!p->train || L->p == 0) {
    PetscCall(PetscArraycpy(out, in, (size_t)p->B * F));
    PetscFunctionReturn(0);
  }
  PetscCheck(p->sample_ids, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "dropout in training needs the samples' ids");
  for (PetscInt b = 0; b < p->B; b++) {
    NnRngKey key = nn_rng_key(p->dropout_key, (uint64_t)L->index, (uint64_t)p->sample_ids[b]);
    for (PetscInt e = 0; e < F; e++) {
      size_t at   = drop_at(L, p->B, b, e);
      layer_cache(L)->mask[at] = nn_rng_uniform(key, (uint64_t)e) >= L->p;
      out[at]     = layer_cache(L)->mask[at] ? in[at] * scale : 0.0;
    }
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode dropout_backward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in,
                                       const nn_real *out, const nn_real *dout, nn_real *din, nn_real *grad)
{
  const size_t n     = (size_t)p->B * nn_shape_size(L->in);
  const nn_real scale = 1.0 / (1.0 - L->p);
  PetscFunctionBeginUser;
  (void)theta, (void)in, (void)out, (void)grad;
  if (!din) PetscFunctionReturn(0);
  if (!p->train || L->p == 0) {
    PetscCall(PetscArraycpy(din, dout, n));
    PetscFunctionReturn(0);
  }
  for (size_t i = 0; i < n; i++) din[i] = layer_cache(L)->mask[i] ? dout[i] * scale : 0.0;
  PetscFunctionReturn(0);
}

/* The Hessian is taken with dropout off (App. G.1's deterministic operator):
 * the layer is then the identity, and so are its tangents. */
static PetscErrorCode dropout_rop_check(const Layer *L, const NnPass *p)
{
  PetscFunctionBeginUser;
  PetscCheck(!p->train || L->p == 0, PETSC_COMM_SELF, PETSC_ERR_SUP, "the R-operator is defined with dropout off (evaluation mode)");
  PetscFunctionReturn(0);
}

static PetscErrorCode dropout_rop_forward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                          PetscInt ldv, const nn_real *in, const nn_real *Rin, nn_real *Rout)
{
  const size_t n = (size_t)k * p->B * nn_shape_size(L->in);
  PetscFunctionBeginUser;
  (void)theta, (void)V, (void)ldv, (void)in;
  PetscCall(dropout_rop_check(L, p));
  if (Rin) PetscCall(PetscArraycpy(Rout, Rin, n));
  else PetscCall(PetscArrayzero(Rout, n));
  PetscFunctionReturn(0);
}

static PetscErrorCode dropout_rop_backward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                           PetscInt ldv, const NnRopBack *a)
{
  PetscFunctionBeginUser;
  (void)theta, (void)V, (void)ldv;
  PetscCall(dropout_rop_check(L, p));
  if (a->Rdin) PetscCall(PetscArraycpy(a->Rdin, a->Rdout, (size_t)k * p->B * nn_shape_size(L->in)));
  PetscFunctionReturn(0);
}

const LayerOps layer_dropout_ops = {"dropout", dropout_forward, dropout_backward, dropout_rop_forward,
                                    dropout_rop_backward};
