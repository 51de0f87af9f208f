/* Normalization without affine parameters (a scale layer after it holds
 * batch normalization's gamma and beta), with one of two statistics.
 * Running statistics (PyTorch's eval mode, -net_bn_statistics running): the
 * fixed mean mu_c and variance var_c of the model file, a linear map
 *   y = (x - mu_c) / s,  dx = dy / s,  Ry = Rx / s,  Rdx = Rdy / s   (s = sqrt(var_c + eps)).
 * Batch statistics (App. G.3): per channel c, over the batch (and the
 * spatial positions),
 *   mu_c = mean(x),  var_c = mean((x - mu_c)^2),  y = (x - mu_c) / sqrt(var_c + eps)
 *   backward  dx = (dy - mean(dy) - y mean(dy y)) / sqrt(var_c + eps)
 * The means run over every sample of the batch on batch_comm, so a batch split
 * across ranks is normalized exactly as if one rank held it.
 * R-operator (<.> is the channel's mean over the batch, s = sqrt(var + eps)):
 *   Ry  = (Rx - <Rx> - y <y Rx>) / s
 *   Rdx = (Rdy - <Rdy> - y <y Rdy>) / s
 *         - (Ry <y dy> + y <Ry dy>) / s - dx <y Rx> / s
 * the second line being the terms in dy (absent from the Gauss-Newton part).
 * Layout: spatial (C, B, S) or flat (B, C); element (c, b, s) is at
 * c*cs + b*bs + s; in the k-direction tangent block, direction j's sample b
 * is sample j*B + b. */
#include "layers.h"

#include <math.h>

typedef NnChannelIndex BnIndex;

static inline BnIndex bn_index(const Layer *L, PetscInt B) { return nn_channel_index(L->in, B); }

/* s[c] = sum over (b, s) of a[c,b,s] * (w ? w[c,b,s] : 1), summed over batch_comm */
static PetscErrorCode bn_channel_sums(const NnPass *p, BnIndex ix, const nn_real *a, const nn_real *w, double *s)
{
  PetscMPIInt size;
  PetscFunctionBeginUser;
  for (PetscInt c = 0; c < ix.C; c++) {
    double acc = 0;
    for (PetscInt b = 0; b < ix.B; b++)
      for (PetscInt q = 0; q < ix.S; q++) {
        size_t at = (size_t)c * ix.cs + (size_t)b * ix.bs + q;
        acc += w ? a[at] * w[at] : a[at];
      }
    s[c] = acc;
  }
  PetscCallMPI(MPI_Comm_size(p->batch_comm, &size));
  if (size > 1) PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, s, (int)ix.C, MPI_DOUBLE, MPI_SUM, p->batch_comm));
  PetscFunctionReturn(0);
}

/* y[c, b, q] = (x[c, b, q] - mu_c) s_c^{-1} with the fixed statistics (mu NULL: y = x s^{-1}, the tangents' map);
 * x and y hold nb samples (k*B for a tangent block). */
static void bn_fixed_map(const Layer *L, PetscInt nb, const double *mu, const nn_real *x, nn_real *y)
{
  const NnChannelIndex ix = nn_channel_index(L->in, nb);
  for (PetscInt c = 0; c < ix.C; c++)
    for (PetscInt b = 0; b < ix.B; b++)
      for (PetscInt q = 0; q < ix.S; q++) {
        const size_t at = nn_channel_at(ix, c, b, q);
        y[at]           = (nn_real)((x[at] - (mu ? mu[c] : 0)) * L->stat_invstd[c]);
      }
}

static PetscErrorCode bn_forward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, nn_real *out)
{
  BnIndex      ix    = bn_index(L, p->B);
  const double count = (double)p->Bglobal * ix.S;
  NnLayerCache  *lc = layer_cache(L);
  PetscFunctionBeginUser;
  (void)theta;
  if (L->stat_mean) { /* running statistics */
    bn_fixed_map(L, p->B, L->stat_mean, in, out);
    PetscFunctionReturn(0);
  }
  PetscCall(bn_channel_sums(p, ix, in, NULL, lc->mean));
  for (PetscInt c = 0; c < ix.C; c++) lc->mean[c] /= count; /* mu = mean(x) */
  for (PetscInt c = 0; c < ix.C; c++)
    for (PetscInt b = 0; b < ix.B; b++)
      for (PetscInt q = 0; q < ix.S; q++) {
        size_t at = (size_t)c * ix.cs + (size_t)b * ix.bs + q;
        out[at]   = in[at] - lc->mean[c];
      }
  PetscCall(bn_channel_sums(p, ix, out, out, lc->invstd));
  for (PetscInt c = 0; c < ix.C; c++) lc->invstd[c] = 1.0 / sqrt(lc->invstd[c] / count + L->eps);
  for (PetscInt c = 0; c < ix.C; c++)
    for (PetscInt b = 0; b < ix.B; b++)
      for (PetscInt q = 0; q < ix.S; q++) out[(size_t)c * ix.cs + (size_t)b * ix.bs + q] *= lc->invstd[c];
  PetscFunctionReturn(0);
}

static PetscErrorCode bn_backward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, const nn_real *out,
                                  const nn_real *dout, nn_real *din, nn_real *grad)
{
  BnIndex      ix    = bn_index(L, p->B);
  const double count = (double)p->Bglobal * ix.S;
  double      *sdy, *sdyy;
  NnLayerCache  *lc = layer_cache(L);
  PetscFunctionBeginUser;
  (void)theta, (void)in, (void)grad;
  if (!din) PetscFunctionReturn(0);
  if (L->stat_mean) { /* dx = dy / s */
    bn_fixed_map(L, p->B, NULL, dout, din);
    PetscFunctionReturn(0);
  }
  PetscCall(PetscMalloc2(ix.C, &sdy, ix.C, &sdyy));
  PetscCall(bn_channel_sums(p, ix, dout, NULL, sdy));
  PetscCall(bn_channel_sums(p, ix, dout, out, sdyy));
  for (PetscInt c = 0; c < ix.C; c++) {
    const double mdy = sdy[c] / count, mdyy = sdyy[c] / count;
    for (PetscInt b = 0; b < ix.B; b++)
      for (PetscInt q = 0; q < ix.S; q++) {
        size_t at = (size_t)c * ix.cs + (size_t)b * ix.bs + q;
        din[at]   = lc->invstd[c] * (dout[at] - mdy - out[at] * mdyy); /* dx = (dy - mean dy - y mean(dy y)) / s */
      }
  }
  PetscCall(PetscFree2(sdy, sdyy));
  PetscFunctionReturn(0);
}

/* One product to average per (direction, channel): a * b, each a forward
 * tensor (B samples) or a tangent (k*B samples); b may be NULL (1). */
typedef struct {
  const nn_real *a, *b;
  PetscBool     a_tan, b_tan;
} BnProduct;

/* m[(j*C + c)*np + i] = <prod_i> of direction j, channel c, over batch_comm. */
static PetscErrorCode bn_tangent_means(const NnPass *p, BnIndex ix, PetscInt k, PetscInt np, const BnProduct *prod,
                                       double *m)
{
  const double count = (double)p->Bglobal * ix.S;
  PetscMPIInt  size;
  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < k; j++)
    for (PetscInt c = 0; c < ix.C; c++)
      for (PetscInt i = 0; i < np; i++) {
        double acc = 0;
        for (PetscInt b = 0; b < ix.B; b++)
          for (PetscInt q = 0; q < ix.S; q++) {
            size_t t = nn_channel_tan_at(ix, k, j, c, b, q), f = nn_channel_at(ix, c, b, q);
            double x = prod[i].a[prod[i].a_tan ? t : f];
            acc += prod[i].b ? x * prod[i].b[prod[i].b_tan ? t : f] : x;
          }
        m[(j * ix.C + c) * np + i] = acc;
      }
  PetscCallMPI(MPI_Comm_size(p->batch_comm, &size));
  if (size > 1) PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, m, (int)(k * ix.C * np), MPI_DOUBLE, MPI_SUM, p->batch_comm));
  for (PetscInt i = 0; i < k * ix.C * np; i++) m[i] /= count;
  PetscFunctionReturn(0);
}

static PetscErrorCode bn_rop_forward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                     PetscInt ldv, const nn_real *in, const nn_real *Rin, nn_real *Rout)
{
  BnIndex         ix      = bn_index(L, p->B);
  const nn_real   *y       = layer_state(L)->act[L->index + 1];
  const BnProduct prod[2] = {{Rin, NULL, PETSC_TRUE, PETSC_FALSE}, {Rin, y, PETSC_TRUE, PETSC_FALSE}};
  double         *m;
  NnLayerCache  *lc = layer_cache(L);
  PetscFunctionBeginUser;
  (void)theta, (void)V, (void)ldv, (void)in;
  if (!Rin) {
    PetscCall(PetscArrayzero(Rout, (size_t)k * p->B * nn_shape_size(L->in)));
    PetscFunctionReturn(0);
  }
  if (L->stat_mean) { /* Ry = Rx / s */
    bn_fixed_map(L, k * p->B, NULL, Rin, Rout);
    PetscFunctionReturn(0);
  }
  PetscCall(PetscMalloc1(2 * k * ix.C, &m));
  PetscCall(bn_tangent_means(p, ix, k, 2, prod, m));
  for (PetscInt j = 0; j < k; j++)
    for (PetscInt c = 0; c < ix.C; c++) {
      const double mRx = m[(j * ix.C + c) * 2], myRx = m[(j * ix.C + c) * 2 + 1], is = lc->invstd[c];
      for (PetscInt b = 0; b < ix.B; b++)
        for (PetscInt q = 0; q < ix.S; q++) {
          size_t t = nn_channel_tan_at(ix, k, j, c, b, q);
          Rout[t]  = is * (Rin[t] - mRx - y[nn_channel_at(ix, c, b, q)] * myRx); /* Ry = (Rx - <Rx> - y <y Rx>) / s */
        }
    }
  PetscCall(PetscFree(m));
  PetscFunctionReturn(0);
}

static PetscErrorCode bn_rop_backward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                      PetscInt ldv, const NnRopBack *a)
{
  BnIndex       ix = bn_index(L, p->B);
  const nn_real *y = a->out, *dy = a->dout, *Rx = a->Rin, *Ry = a->Rout;
  /* per direction and channel: <Rdy>, <y Rdy>, and with dy: <Ry dy>, <y Rx> */
  const BnProduct prod[4] = {{a->Rdout, NULL, PETSC_TRUE, PETSC_FALSE},
                             {a->Rdout, y, PETSC_TRUE, PETSC_FALSE},
                             {Ry, dy, PETSC_TRUE, PETSC_FALSE},
                             {Rx, y, PETSC_TRUE, PETSC_FALSE}};
  const PetscInt  np      = dy && Rx ? 4 : 2;
  const BnProduct fprod[2] = {{dy, NULL, PETSC_FALSE, PETSC_FALSE}, {dy, y, PETSC_FALSE, PETSC_FALSE}};
  double         *m, *fmean;
  NnLayerCache  *lc = layer_cache(L);
  PetscFunctionBeginUser;
  (void)theta, (void)V, (void)ldv;
  if (!a->Rdin) PetscFunctionReturn(0);
  if (L->stat_mean) { /* Rdx = Rdy / s: a linear map has no second-order terms */
    bn_fixed_map(L, k * p->B, NULL, a->Rdout, a->Rdin);
    PetscFunctionReturn(0);
  }
  PetscCall(PetscMalloc2(4 * k * ix.C, &m, 2 * ix.C, &fmean));
  PetscCall(bn_tangent_means(p, ix, k, np, prod, m));
  if (dy) PetscCall(bn_tangent_means(p, ix, 1, 2, fprod, fmean)); /* <dy>, <y dy> of the forward batch */
  for (PetscInt j = 0; j < k; j++)
    for (PetscInt c = 0; c < ix.C; c++) {
      const double *mj = m + (j * ix.C + c) * np, is = lc->invstd[c];
      for (PetscInt b = 0; b < ix.B; b++)
        for (PetscInt q = 0; q < ix.S; q++) {
          size_t t = nn_channel_tan_at(ix, k, j, c, b, q), f = nn_channel_at(ix, c, b, q);
          double r = is * (a->Rdout[t] - mj[0] - y[f] * mj[1]); /* (Rdy - <Rdy> - y <y Rdy>) / s */
          if (dy && Rx) {
            const double md = fmean[2 * c], m1 = fmean[2 * c + 1];
            const double dx = is * (dy[f] - md - y[f] * m1);
            r -= is * (Ry[t] * m1 + y[f] * mj[2]) + dx * mj[3] * is; /* - (Ry <y dy> + y <Ry dy>)/s - dx <y Rx>/s */
          }
          a->Rdin[t] = r;
        }
    }
  PetscCall(PetscFree2(m, fmean));
  PetscFunctionReturn(0);
}

const LayerOps layer_bn_ops = {"bn", bn_forward, bn_backward, bn_rop_forward, bn_rop_backward};
