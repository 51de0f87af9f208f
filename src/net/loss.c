/* Losses of a scalar output t against a label y = +-1.
 *   hinge     l = max(0, 1 - y t)        l' = -y [y t < 1]         l'' = 0
 *   absolute  l = |t - y|                l' = sign(t - y)          l'' = 0
 *   logistic  l = log(1 + exp(-y t))     l' = -y s(-y t)           l'' = s(y t) s(-y t)
 *   squared   l = (t - y)^2 / 2          l' = t - y                l'' = 1
 * (s is the logistic sigmoid). Hinge and absolute are the class L0 of Sec. 3.1;
 * at their kinks the derivative taken is 0, as PyTorch's autograd does. A NaN
 * output gives a NaN loss and derivative for every loss, so divergence is seen. */
#include "nncas/net.h"

#include <math.h>

static inline double softplus(double z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); }
static inline double sigmoid(double z) { return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)); }

void loss_eval(NnLoss loss, PetscInt n, const double *t, const double *y, double *l, double *dl, double *d2l)
{
  for (PetscInt i = 0; i < n; i++) {
    const double yt = y[i] * t[i], r = t[i] - y[i];
    double       v = 0, d = 0, d2 = 0;
    switch (loss) {
    case LOSS_HINGE: /* written so that a NaN output gives NaN, not the flat side's 0 */
      v = yt >= 1 ? 0 : 1 - yt;
      d = yt >= 1 ? 0 : yt < 1 ? -y[i] : yt;
      break;
    case LOSS_ABSOLUTE:
      v = fabs(r);
      d = r > 0 ? 1 : r < 0 ? -1 : r == 0 ? 0 : r; /* r is NaN in the last case */
      break;
    case LOSS_LOGISTIC:
      v  = softplus(-yt);
      d  = -y[i] * sigmoid(-yt);
      d2 = sigmoid(yt) * sigmoid(-yt) * y[i] * y[i];
      break;
    case LOSS_SQUARED:
      v  = 0.5 * r * r;
      d  = r;
      d2 = 1;
      break;
    }
    if (l) l[i] = v;
    if (dl) dl[i] = d;
    if (d2l) d2l[i] = d2;
  }
}
