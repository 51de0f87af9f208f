/* Per-channel affine map: batch normalization's gamma (the weight, C values)
 * and beta (the bias, C values), after a normalization layer.
 *   in and out are (C, B, S) or (B, C) (nn_channel_index)
 *   forward   y = g_c x + b_c
 *   backward  dg_c += sum dy x,  db_c += sum dy,  dx = g_c dy
 * R-operator for directions V = (V_g, V_b):
 *   forward   Ry = g_c Rx + V_g,c x + V_b,c
 *   backward  HV_g,c += sum (Rdy x + dy Rx),  HV_b,c += sum Rdy,  Rdx = g_c Rdy + V_g,c dy
 * (sums over the samples and positions of channel c). The channel's few
 * entries are computed whole, wanted rows or not. */
#include "layers.h"

static PetscErrorCode scale_forward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, nn_real *out)
{
  const NnChannelIndex ix = nn_channel_index(L->in, p->B);
  const nn_real       *g = theta + L->woff, *beta = theta + L->boff;
  PetscFunctionBeginUser;
  for (PetscInt c = 0; c < ix.C; c++)
    for (PetscInt b = 0; b < ix.B; b++)
      for (PetscInt q = 0; q < ix.S; q++) {
        const size_t at = nn_channel_at(ix, c, b, q);
        out[at]         = g[c] * in[at] + beta[c]; /* y = g x + b */
      }
  PetscFunctionReturn(0);
}

/* gw[c] += sum over channel c of a * x (x NULL: 1); a, x hold nb samples. */
static void scale_channel_sums(NnChannelIndex ix, const nn_real *a, const nn_real *x, nn_real *gw)
{
  for (PetscInt c = 0; c < ix.C; c++) {
    double acc = 0;
    for (PetscInt b = 0; b < ix.B; b++)
      for (PetscInt q = 0; q < ix.S; q++) {
        const size_t at = nn_channel_at(ix, c, b, q);
        acc += x ? (double)a[at] * x[at] : a[at];
      }
    gw[c] += (nn_real)acc;
  }
}

/* y = g_c x: tensors of nb samples (ix). */
static void scale_channels(NnChannelIndex ix, const nn_real *g, const nn_real *x, nn_real *y)
{
  for (PetscInt c = 0; c < ix.C; c++)
    for (PetscInt b = 0; b < ix.B; b++)
      for (PetscInt q = 0; q < ix.S; q++) {
        const size_t at = nn_channel_at(ix, c, b, q);
        y[at]           = g[c] * x[at];
      }
}

static PetscErrorCode scale_backward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, const nn_real *out,
                                     const nn_real *dout, nn_real *din, nn_real *grad)
{
  const NnChannelIndex ix = nn_channel_index(L->in, p->B);
  PetscFunctionBeginUser;
  (void)out;
  if (grad) {
    scale_channel_sums(ix, dout, in, grad + L->woff);   /* dg += sum dy x */
    scale_channel_sums(ix, dout, NULL, grad + L->boff); /* db += sum dy */
  }
  if (din) scale_channels(ix, theta + L->woff, dout, din); /* dx = g dy */
  PetscFunctionReturn(0);
}

static PetscErrorCode scale_rop_forward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                        PetscInt ldv, const nn_real *in, const nn_real *Rin, nn_real *Rout)
{
  const NnChannelIndex ix = nn_channel_index(L->in, p->B);
  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < k; j++)
    for (PetscInt c = 0; c < ix.C; c++)
      for (PetscInt b = 0; b < ix.B; b++)
        for (PetscInt q = 0; q < ix.S; q++) {
          const size_t t = nn_channel_tan_at(ix, k, j, c, b, q), f = nn_channel_at(ix, c, b, q);
          nn_real      r = Rin ? theta[L->woff + c] * Rin[t] : 0;                               /* g Rx */
          if (V) r += V[j * ldv + L->woff + c] * in[f] + V[j * ldv + L->boff + c];              /* + V_g x + V_b */
          Rout[t] = r;
        }
  PetscFunctionReturn(0);
}

static PetscErrorCode scale_rop_backward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                         PetscInt ldv, const NnRopBack *a)
{
  const NnChannelIndex ix = nn_channel_index(L->in, p->B), tx = nn_channel_index(L->in, k * p->B);
  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < k; j++) {
    nn_real *H = a->HV + j * a->ldh;
    for (PetscInt c = 0; c < ix.C; c++) {
      double hg = 0, hb = 0;
      for (PetscInt b = 0; b < ix.B; b++)
        for (PetscInt q = 0; q < ix.S; q++) {
          const size_t t = nn_channel_tan_at(ix, k, j, c, b, q), f = nn_channel_at(ix, c, b, q);
          hg += (double)a->Rdout[t] * a->in[f] + (a->dout && a->Rin ? (double)a->dout[f] * a->Rin[t] : 0); /* Rdy x + dy Rx */
          hb += a->Rdout[t];                                                                             /* Rdy */
        }
      H[L->woff + c] += (nn_real)hg;
      H[L->boff + c] += (nn_real)hb;
    }
  }
  if (!a->Rdin) PetscFunctionReturn(0);
  scale_channels(tx, theta + L->woff, a->Rdout, a->Rdin); /* Rdx = g Rdy */
  for (PetscInt j = 0; j < k && V && a->dout; j++)
    for (PetscInt c = 0; c < ix.C; c++)
      for (PetscInt b = 0; b < ix.B; b++)
        for (PetscInt q = 0; q < ix.S; q++)
          a->Rdin[nn_channel_tan_at(ix, k, j, c, b, q)] += V[j * ldv + L->woff + c] * a->dout[nn_channel_at(ix, c, b, q)]; /* + V_g dy */
  PetscFunctionReturn(0);
}

const LayerOps layer_scale_ops = {"scale", scale_forward, scale_backward, scale_rop_forward, scale_rop_backward};
