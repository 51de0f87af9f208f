/* Dense (fully connected) layer.
 *   in is (B, Fi), weight W is (Fo, Fi) (PyTorch's layout), bias b is (Fo), out is (B, Fo)
 *   forward   Y = X W^T + 1 b^T
 *   backward  dX = dY W,  dW += dY^T X,  db += dY^T 1
 * R-operator for directions V = (V_W, V_b), tangents of the k*B-sample block:
 *   forward   RY_j = RX_j W^T + X V_W,j^T + 1 V_b,j^T
 *   backward  RdX_j = RdY_j W + dY V_W,j
 *             HV_W,j += RdY_j^T X + dY^T RX_j,   HV_b,j += RdY_j^T 1 */
#include "layers.h"

static PetscErrorCode dense_forward(Layer *L, const NnPass *p, const double *theta, const double *in, double *out)
{
  const PetscInt Fi = nn_shape_size(L->in), Fo = L->out.c, B = p->B;
  const double  *W = theta + L->woff, *b = L->nbias ? theta + L->boff : NULL;
  PetscFunctionBeginUser;
  if (!B) PetscFunctionReturn(0);
  nn_dgemm(CblasNoTrans, CblasTrans, B, Fo, Fi, 1.0, in, Fi, W, Fi, 0.0, out, Fo); /* Y = X W^T */
  if (b)
    for (PetscInt i = 0; i < B; i++)
      for (PetscInt o = 0; o < Fo; o++) out[i * Fo + o] += b[o]; /* Y += 1 b^T */
  PetscFunctionReturn(0);
}

/* dW += A^T X (A is (B, Fo), X is (B, Fi)), db += A^T 1; grad points at the layer's weight. */
static void dense_param_grad(const Layer *L, PetscInt B, const double *A, const double *X, double *gW, double *gb)
{
  const PetscInt Fi = nn_shape_size(L->in), Fo = L->out.c;
  nn_dgemm(CblasTrans, CblasNoTrans, Fo, Fi, B, 1.0, A, Fo, X, Fi, 1.0, gW, Fi); /* dW += A^T X */
  if (gb)
    for (PetscInt i = 0; i < B; i++)
      for (PetscInt o = 0; o < Fo; o++) gb[o] += A[i * Fo + o]; /* db += A^T 1 */
}

static PetscErrorCode dense_backward(Layer *L, const NnPass *p, const double *theta, const double *in, const double *out,
                                     const double *dout, double *din, double *grad)
{
  const PetscInt Fi = nn_shape_size(L->in), Fo = L->out.c, B = p->B;
  const double  *W = theta + L->woff;
  PetscFunctionBeginUser;
  (void)out;
  if (!B) PetscFunctionReturn(0);
  if (grad) dense_param_grad(L, B, dout, in, grad + L->woff, L->nbias ? grad + L->boff : NULL);
  if (din) nn_dgemm(CblasNoTrans, CblasNoTrans, B, Fi, Fo, 1.0, dout, Fo, W, Fi, 0.0, din, Fi); /* dX = dY W */
  PetscFunctionReturn(0);
}

static PetscErrorCode dense_rop_forward(Layer *L, const NnPass *p, PetscInt k, const double *theta, const double *V,
                                        PetscInt ldv, const double *in, const double *Rin, double *Rout)
{
  const PetscInt Fi = nn_shape_size(L->in), Fo = L->out.c, B = p->B;
  PetscFunctionBeginUser;
  if (!B) PetscFunctionReturn(0);
  if (Rin) nn_dgemm(CblasNoTrans, CblasTrans, k * B, Fo, Fi, 1.0, Rin, Fi, theta + L->woff, Fi, 0.0, Rout, Fo); /* RY = RX W^T */
  else PetscCall(PetscArrayzero(Rout, (size_t)k * B * Fo));
  for (PetscInt j = 0; j < k && V; j++) {
    const double *Vj = V + j * ldv;
    double       *Rj = Rout + (size_t)j * B * Fo;
    nn_dgemm(CblasNoTrans, CblasTrans, B, Fo, Fi, 1.0, in, Fi, Vj + L->woff, Fi, 1.0, Rj, Fo); /* += X V_W^T */
    if (L->nbias)
      for (PetscInt i = 0; i < B; i++)
        for (PetscInt o = 0; o < Fo; o++) Rj[i * Fo + o] += Vj[L->boff + o]; /* += 1 V_b^T */
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode dense_rop_backward(Layer *L, const NnPass *p, PetscInt k, const double *theta, const double *V,
                                         PetscInt ldv, const NnRopBack *a)
{
  const PetscInt Fi = nn_shape_size(L->in), Fo = L->out.c, B = p->B;
  PetscFunctionBeginUser;
  if (!B) PetscFunctionReturn(0);
  for (PetscInt j = 0; j < k; j++) {
    double       *H   = a->HV + j * a->ldh;
    const double *Rdj = a->Rdout + (size_t)j * B * Fo;
    dense_param_grad(L, B, Rdj, a->in, H + L->woff, L->nbias ? H + L->boff : NULL); /* HV_W += RdY^T X, HV_b += RdY^T 1 */
    if (a->dout && a->Rin) dense_param_grad(L, B, a->dout, a->Rin + (size_t)j * B * Fi, H + L->woff, NULL); /* HV_W += dY^T RX */
  }
  if (!a->Rdin) PetscFunctionReturn(0);
  nn_dgemm(CblasNoTrans, CblasNoTrans, k * B, Fi, Fo, 1.0, a->Rdout, Fo, theta + L->woff, Fi, 0.0, a->Rdin, Fi); /* RdX = RdY W */
  if (a->dout && V)
    for (PetscInt j = 0; j < k; j++)
      nn_dgemm(CblasNoTrans, CblasNoTrans, B, Fi, Fo, 1.0, a->dout, Fo, V + j * ldv + L->woff, Fi, 1.0,
               a->Rdin + (size_t)j * B * Fi, Fi); /* RdX += dY V_W */
  PetscFunctionReturn(0);
}

const LayerOps layer_dense_ops = {"dense", dense_forward, dense_backward, dense_rop_forward, dense_rop_backward};
