/* Losses of a sample's K outputs t against its label y.
 * Binary (K = 1, y = +-1):
 *   hinge     l = max(0, 1 - y t)        l' = -y [y t < 1]         l'' = 0
 *   absolute  l = |t - y|                l' = sign(t - y)          l'' = 0
 *   logistic  l = log(1 + exp(-y t))     l' = -y s(-y t)           l'' = s(y t) s(-y t)
 *   squared   l = (t - y)^2 / 2          l' = t - y                l'' = 1
 * (s is the logistic sigmoid). Hinge and absolute are the class L0 of Sec. 3.1.
 * Multi-class (K outputs, y in 0..K-1), PyTorch's CrossEntropyLoss and
 * MultiMarginLoss (p = 1, margin 1):
 *   cross_entropy  l = log sum_k exp(t_k) - t_y    dl = p - e_y    d2l = diag(p) - p p^T,  p = softmax(t)
 *   multi_hinge    l = (1/K) sum_{k != y} max(0, 1 - t_y + t_k)
 *                  dl_k = [1 - t_y + t_k > 0] / K (k != y), dl_y = -sum_{k != y} dl_k;  d2l = 0
 * At kinks the derivative taken is 0, as PyTorch's autograd does. A NaN output
 * gives a NaN loss and derivative for every loss, so divergence is seen. */
#include "nncas/net.h"

#include <math.h>

static inline double softplus(double z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); }
static inline double sigmoid(double z) { return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)); }

PetscBool loss_is_multiclass(NnLoss loss) { return loss == LOSS_CROSS_ENTROPY || loss == LOSS_MULTI_HINGE ? PETSC_TRUE : PETSC_FALSE; }

/* One binary sample: l, l', l'' of output t against y = +-1. */
static void loss_binary(NnLoss loss, double t, double y, double *l, double *dl, double *d2l)
{
  const double yt = y * t, r = t - y;
  double       v = 0, d = 0, d2 = 0;
  switch (loss) {
  case LOSS_HINGE: /* written so that a NaN output gives NaN, not the flat side's 0 */
    v = yt >= 1 ? 0 : 1 - yt;
    d = yt >= 1 ? 0 : yt < 1 ? -y : yt;
    break;
  case LOSS_ABSOLUTE:
    v = fabs(r);
    d = r > 0 ? 1 : r < 0 ? -1 : r == 0 ? 0 : r; /* r is NaN in the last case */
    break;
  case LOSS_LOGISTIC:
    v  = softplus(-yt);
    d  = -y * sigmoid(-yt);
    d2 = sigmoid(yt) * sigmoid(-yt) * y * y;
    break;
  case LOSS_SQUARED:
    v  = 0.5 * r * r;
    d  = r;
    d2 = 1;
    break;
  default: break;
  }
  if (l) *l = v;
  if (dl) *dl = d;
  if (d2l) *d2l = d2;
}

/* Cross-entropy of one sample's K outputs t against class y: l, dl = p - e_y, and p (the output Hessian's data). */
static void loss_cross_entropy(PetscInt K, const double *t, PetscInt y, double *l, double *dl, double *p)
{
  double m = t[0], s = 0;
  for (PetscInt k = 1; k < K; k++) m = t[k] > m || isnan(t[k]) ? t[k] : m;
  for (PetscInt k = 0; k < K; k++) s += exp(t[k] - m);
  if (l) *l = m + log(s) - t[y]; /* log sum exp(t) - t_y */
  for (PetscInt k = 0; k < K; k++) {
    const double pk = exp(t[k] - m) / s; /* softmax */
    if (dl) dl[k] = pk - (k == y);
    if (p) p[k] = pk;
  }
}

/* Multi-class hinge of one sample (MultiMarginLoss, p = 1, margin 1): l and dl; its output Hessian is zero. */
static void loss_multi_hinge(PetscInt K, const double *t, PetscInt y, double *l, double *dl, double *d2l)
{
  double v = 0, dy = 0;
  for (PetscInt k = 0; k < K; k++) {
    const double z = 1 - t[y] + t[k]; /* margin violation of class k */
    double       d = k == y ? 0 : z > 0 ? 1.0 / K : z <= 0 ? 0 : z; /* z is NaN in the last case */
    if (k != y) v += z > 0 || isnan(z) ? z : 0;
    if (dl) dl[k] = d;
    if (d2l) d2l[k] = 0;
    dy -= d;
  }
  if (l) *l = v / K;
  if (dl) dl[y] = dy;
}

void loss_eval(NnLoss loss, PetscInt n, PetscInt K, const double *t, const double *y, double *l, double *dl, double *d2l)
{
  for (PetscInt i = 0; i < n; i++) {
    const size_t o = (size_t)i * K;
    if (!loss_is_multiclass(loss)) loss_binary(loss, t[i], y[i], l ? l + i : NULL, dl ? dl + i : NULL, d2l ? d2l + i : NULL);
    else if (loss == LOSS_CROSS_ENTROPY) loss_cross_entropy(K, t + o, (PetscInt)y[i], l ? l + i : NULL, dl ? dl + o : NULL, d2l ? d2l + o : NULL);
    else loss_multi_hinge(K, t + o, (PetscInt)y[i], l ? l + i : NULL, dl ? dl + o : NULL, d2l ? d2l + o : NULL);
  }
}

void loss_output_hessian(NnLoss loss, PetscInt n, PetscInt K, const double *d2l, PetscInt k, const double *RT, double scale, double *RdT)
{
  const size_t nk = (size_t)n * K;
  if (loss != LOSS_CROSS_ENTROPY) { /* diagonal: l'' per output (zero for the piecewise-linear losses) */
    for (PetscInt j = 0; j < k; j++)
      for (size_t e = 0; e < nk; e++) RdT[j * nk + e] = scale * d2l[e] * RT[j * nk + e];
    return;
  }
  for (PetscInt j = 0; j < k; j++)
    for (PetscInt i = 0; i < n; i++) {
      const double *p = d2l + (size_t)i * K, *v = RT + j * nk + (size_t)i * K;
      double       *o = RdT + j * nk + (size_t)i * K, pv = 0;
      for (PetscInt c = 0; c < K; c++) pv += p[c] * v[c];
      for (PetscInt c = 0; c < K; c++) o[c] = scale * p[c] * (v[c] - pv); /* (diag(p) - p p^T) v */
    }
}

double loss_correct(NnLoss loss, PetscInt n, PetscInt K, const double *t, const double *y)
{
  double c = 0;
  for (PetscInt i = 0; i < n; i++) {
    if (!loss_is_multiclass(loss)) {
      c += ((t[i] > 0 ? 1.0 : -1.0) == y[i]);
      continue;
    }
    PetscInt best = 0; /* argmax, the first of equal maxima (torch.argmax) */
    for (PetscInt k = 1; k < K; k++)
      if (t[(size_t)i * K + k] > t[(size_t)i * K + best]) best = k;
    c += best == (PetscInt)y[i];
  }
  return c;
}
