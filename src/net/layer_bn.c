/* Batch-statistics normalization without affine parameters and without
 * running statistics (App. G.3): per channel c, over the batch (and the
 * spatial positions),
 *   mu_c = mean(x),  var_c = mean((x - mu_c)^2),  y = (x - mu_c) / sqrt(var_c + eps)
 *   backward  dx = (dy - mean(dy) - y mean(dy y)) / sqrt(var_c + eps)
 * The means run over every sample of the batch on batch_comm, so a batch split
 * across ranks is normalized exactly as if one rank held it.
 * Layout: spatial (C, B, S) or flat (B, C); element (c, b, s) is at
 * c*cs + b*bs + s. */
#include "layers.h"

#include <math.h>

#define BN_EPS 1e-5 /* PyTorch's default */

typedef struct {
  PetscInt C, B, S, cs, bs;
} BnIndex;

static BnIndex bn_index(const Layer *L, PetscInt B)
{
  BnIndex ix;
  ix.C = L->in.c;
  ix.B = B;
  if (L->in.spatial) {
    ix.S  = L->in.h * L->in.w;
    ix.cs = B * ix.S;
    ix.bs = ix.S;
  } else {
    ix.S  = 1;
    ix.cs = 1;
    ix.bs = L->in.c;
  }
  return ix;
}

/* s[c] = sum over (b, s) of a[c,b,s] * (w ? w[c,b,s] : 1), summed over batch_comm */
static PetscErrorCode bn_channel_sums(const NnPass *p, BnIndex ix, const double *a, const double *w, double *s)
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

static PetscErrorCode bn_forward(Layer *L, const NnPass *p, const double *theta, const double *in, double *out)
{
  BnIndex      ix    = bn_index(L, p->B);
  const double count = (double)p->Bglobal * ix.S;
  PetscFunctionBeginUser;
  (void)theta;
  PetscCall(bn_channel_sums(p, ix, in, NULL, L->mean));
  for (PetscInt c = 0; c < ix.C; c++) L->mean[c] /= count; /* mu = mean(x) */
  for (PetscInt c = 0; c < ix.C; c++)
    for (PetscInt b = 0; b < ix.B; b++)
      for (PetscInt q = 0; q < ix.S; q++) {
        size_t at = (size_t)c * ix.cs + (size_t)b * ix.bs + q;
        out[at]   = in[at] - L->mean[c];
      }
  PetscCall(bn_channel_sums(p, ix, out, out, L->invstd));
  for (PetscInt c = 0; c < ix.C; c++) L->invstd[c] = 1.0 / sqrt(L->invstd[c] / count + BN_EPS);
  for (PetscInt c = 0; c < ix.C; c++)
    for (PetscInt b = 0; b < ix.B; b++)
      for (PetscInt q = 0; q < ix.S; q++) out[(size_t)c * ix.cs + (size_t)b * ix.bs + q] *= L->invstd[c];
  PetscFunctionReturn(0);
}

static PetscErrorCode bn_backward(Layer *L, const NnPass *p, const double *theta, const double *in, const double *out,
                                  const double *dout, double *din, double *grad)
{
  BnIndex      ix    = bn_index(L, p->B);
  const double count = (double)p->Bglobal * ix.S;
  double      *sdy, *sdyy;
  PetscFunctionBeginUser;
  (void)theta, (void)in, (void)grad;
  if (!din) PetscFunctionReturn(0);
  PetscCall(PetscMalloc2(ix.C, &sdy, ix.C, &sdyy));
  PetscCall(bn_channel_sums(p, ix, dout, NULL, sdy));
  PetscCall(bn_channel_sums(p, ix, dout, out, sdyy));
  for (PetscInt c = 0; c < ix.C; c++) {
    const double mdy = sdy[c] / count, mdyy = sdyy[c] / count;
    for (PetscInt b = 0; b < ix.B; b++)
      for (PetscInt q = 0; q < ix.S; q++) {
        size_t at = (size_t)c * ix.cs + (size_t)b * ix.bs + q;
        din[at]   = L->invstd[c] * (dout[at] - mdy - out[at] * mdyy); /* dx = (dy - mean dy - y mean(dy y)) / s */
      }
  }
  PetscCall(PetscFree2(sdy, sdyy));
  PetscFunctionReturn(0);
}

const LayerOps layer_bn_ops = {"bn", bn_forward, bn_backward};
