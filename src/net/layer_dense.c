/* Dense (fully connected) layer.
 *   in is (B, Fi), weight W is (Fo, Fi) (PyTorch's layout), bias b is (Fo), out is (B, Fo)
 *   forward   Y = X W^T + 1 b^T
 *   backward  dX = dY W,  dW += dY^T X,  db += dY^T 1 */
#include "layers.h"

static PetscErrorCode dense_forward(Layer *L, const NnPass *p, const double *theta, const double *in, double *out)
{
  const PetscInt Fi = nn_shape_size(L->in), Fo = L->out.c, B = p->B;
  const double  *W = theta + L->woff, *b = L->nb ? theta + L->boff : NULL;
  PetscFunctionBeginUser;
  if (!B) PetscFunctionReturn(0);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, Fo, Fi, 1.0, in, Fi, W, Fi, 0.0, out, Fo); /* Y = X W^T */
  if (b)
    for (PetscInt i = 0; i < B; i++)
      for (PetscInt o = 0; o < Fo; o++) out[i * Fo + o] += b[o]; /* Y += 1 b^T */
  PetscFunctionReturn(0);
}

static PetscErrorCode dense_backward(Layer *L, const NnPass *p, const double *theta, const double *in, const double *out,
                                     const double *dout, double *din, double *grad)
{
  const PetscInt Fi = nn_shape_size(L->in), Fo = L->out.c, B = p->B;
  const double  *W = theta + L->woff;
  PetscFunctionBeginUser;
  (void)out;
  if (!B) PetscFunctionReturn(0);
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Fo, Fi, B, 1.0, dout, Fo, in, Fi, 1.0, grad + L->woff, Fi); /* dW += dY^T X */
  if (L->nb) {
    double *db = grad + L->boff;
    for (PetscInt i = 0; i < B; i++)
      for (PetscInt o = 0; o < Fo; o++) db[o] += dout[i * Fo + o]; /* db += dY^T 1 */
  }
  if (din) cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, Fi, Fo, 1.0, dout, Fo, W, Fi, 0.0, din, Fi); /* dX = dY W */
  PetscFunctionReturn(0);
}

const LayerOps layer_dense_ops = {"dense", dense_forward, dense_backward};
