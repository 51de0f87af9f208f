/* Dense (fully connected) layer.
 *   in is (B, Fi), weight W is (Fo, Fi) (PyTorch's layout), bias b is (Fo), out is (B, Fo)
 *   forward   Y = X W^T + 1 b^T
 *   backward  dX = dY W,  dW += dY^T X,  db += dY^T 1
 * R-operator for directions V = (V_W, V_b), tangents of the k*B-sample block:
 *   forward   RY_j = RX_j W^T + X V_W,j^T + 1 V_b,j^T
 *   backward  RdX_j = RdY_j W + dY V_W,j
 *             HV_W,j += RdY_j^T X + dY^T RX_j,   HV_b,j += RdY_j^T 1
 * A sparse direction (a Hessian column) adds its V terms entry by entry, and
 * wanted rows of HV are single dot products over the batch. */
#include "layers.h"

static PetscErrorCode dense_forward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, nn_real *out)
{
  const PetscInt Fi = nn_shape_size(L->in), Fo = L->out.c, B = p->B;
  const nn_real  *W = theta + L->woff, *b = L->nbias ? theta + L->boff : NULL;
  PetscFunctionBeginUser;
  if (!B) PetscFunctionReturn(0);
  nn_gemm(CblasNoTrans, CblasTrans, B, Fo, Fi, 1.0, in, Fi, W, Fi, 0.0, out, Fo); /* Y = X W^T */
  if (b)
    for (PetscInt i = 0; i < B; i++)
      for (PetscInt o = 0; o < Fo; o++) out[i * Fo + o] += b[o]; /* Y += 1 b^T */
  PetscFunctionReturn(0);
}

/* dW += A^T X (A is (B, Fo), X is (B, Fi)), db += A^T 1; grad points at the layer's weight. */
static void dense_param_grad(const Layer *L, PetscInt B, const nn_real *A, const nn_real *X, nn_real *gW, nn_real *gb)
{
  const PetscInt Fi = nn_shape_size(L->in), Fo = L->out.c;
  nn_gemm(CblasTrans, CblasNoTrans, Fo, Fi, B, 1.0, A, Fo, X, Fi, 1.0, gW, Fi); /* dW += A^T X */
  if (gb)
    for (PetscInt i = 0; i < B; i++)
      for (PetscInt o = 0; o < Fo; o++) gb[o] += A[i * Fo + o]; /* db += A^T 1 */
}

static PetscErrorCode dense_backward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, const nn_real *out,
                                     const nn_real *dout, nn_real *din, nn_real *grad)
{
  const PetscInt Fi = nn_shape_size(L->in), Fo = L->out.c, B = p->B;
  const nn_real  *W = theta + L->woff;
  PetscFunctionBeginUser;
  (void)out;
  if (!B) PetscFunctionReturn(0);
  if (grad) dense_param_grad(L, B, dout, in, grad + L->woff, L->nbias ? grad + L->boff : NULL);
  if (din) nn_gemm(CblasNoTrans, CblasNoTrans, B, Fi, Fo, 1.0, dout, Fo, W, Fi, 0.0, din, Fi); /* dX = dY W */
  PetscFunctionReturn(0);
}

/* Rj (B, Fo) += X V_W^T + 1 V_b^T for a sparse direction s: a non-zero
 * V_W[o, i] = v adds v X[:, i] to column o, a non-zero V_b[o] = v adds v. */
static void dense_sparse_vx(const Layer *L, PetscInt B, const NnSparseDir *s, const nn_real *X, nn_real *Rj)
{
  const PetscInt Fi = nn_shape_size(L->in), Fo = L->out.c;
  for (PetscInt e = 0; e < s->n; e++) {
    const PetscInt t = s->idx[e];
    const nn_real   v = s->val[e];
    if (t >= L->woff && t < L->woff + L->nw) {
      const PetscInt o = (t - L->woff) / Fi, i = (t - L->woff) % Fi;
      for (PetscInt b = 0; b < B; b++) Rj[b * Fo + o] += v * X[b * Fi + i];
    } else if (t >= L->boff && t < L->boff + L->nbias)
      for (PetscInt b = 0; b < B; b++) Rj[b * Fo + t - L->boff] += v;
  }
}

/* RdXj (B, Fi) += dY V_W for a sparse direction s: a non-zero V_W[o, i] = v
 * adds v dY[:, o] to column i. */
static void dense_sparse_vtdy(const Layer *L, PetscInt B, const NnSparseDir *s, const nn_real *dY, nn_real *RdXj)
{
  const PetscInt Fi = nn_shape_size(L->in), Fo = L->out.c;
  for (PetscInt e = 0; e < s->n; e++) {
    const PetscInt t = s->idx[e];
    if (t < L->woff || t >= L->woff + L->nw) continue;
    const PetscInt o = (t - L->woff) / Fi, i = (t - L->woff) % Fi;
    for (PetscInt b = 0; b < B; b++) RdXj[b * Fi + i] += s->val[e] * dY[b * Fo + o];
  }
}

static PetscErrorCode dense_rop_forward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                        PetscInt ldv, const nn_real *in, const nn_real *Rin, nn_real *Rout)
{
  const PetscInt Fi = nn_shape_size(L->in), Fo = L->out.c, B = p->B;
  PetscFunctionBeginUser;
  if (!B) PetscFunctionReturn(0);
  if (Rin) nn_gemm(CblasNoTrans, CblasTrans, k * B, Fo, Fi, 1.0, Rin, Fi, theta + L->woff, Fi, 0.0, Rout, Fo); /* RY = RX W^T */
  else PetscCall(PetscArrayzero(Rout, (size_t)k * B * Fo));
  for (PetscInt j = 0; j < k && V; j++) {
    const nn_real      *Vj = V + j * ldv;
    const NnSparseDir *sj = layer_sparse_direction(L, j);
    nn_real            *Rj = Rout + (size_t)j * B * Fo;
    if (sj) {
      dense_sparse_vx(L, B, sj, in, Rj); /* += X V_W^T + 1 V_b^T */
      continue;
    }
    nn_gemm(CblasNoTrans, CblasTrans, B, Fo, Fi, 1.0, in, Fi, Vj + L->woff, Fi, 1.0, Rj, Fo); /* += X V_W^T */
    if (L->nbias)
      for (PetscInt i = 0; i < B; i++)
        for (PetscInt o = 0; o < Fo; o++) Rj[i * Fo + o] += Vj[L->boff + o]; /* += 1 V_b^T */
  }
  PetscFunctionReturn(0);
}

/* The wanted rows of HV_j alone: HV_W[o, i] += sum_b RdY_j[b, o] X[b, i] +
 * dY[b, o] RX_j[b, i] and HV_b[o] += sum_b RdY_j[b, o], one dot product each. */
static void dense_hv_rows(const Layer *L, PetscInt B, PetscInt j, const NnRopBack *a, nn_real *H)
{
  const PetscInt  Fi = nn_shape_size(L->in), Fo = L->out.c;
  const nn_real   *Rd = a->Rdout + (size_t)j * B * Fo, *RX = a->dout && a->Rin ? a->Rin + (size_t)j * B * Fi : NULL;
  const PetscInt *r;
  PetscInt        n = rop_rows_in(a, L->woff, L->woff + L->nw, &r);
  for (PetscInt q = 0; q < n; q++) {
    const PetscInt o = (r[q] - L->woff) / Fi, i = (r[q] - L->woff) % Fi;
    double         h = 0;
    for (PetscInt b = 0; b < B; b++) h += Rd[b * Fo + o] * a->in[b * Fi + i];
    for (PetscInt b = 0; b < B && RX; b++) h += a->dout[b * Fo + o] * RX[b * Fi + i];
    H[r[q]] += h;
  }
  n = rop_rows_in(a, L->boff, L->boff + L->nbias, &r);
  for (PetscInt q = 0; q < n; q++) {
    double h = 0;
    for (PetscInt b = 0; b < B; b++) h += Rd[b * Fo + r[q] - L->boff];
    H[r[q]] += h;
  }
}

static PetscErrorCode dense_rop_backward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                         PetscInt ldv, const NnRopBack *a)
{
  const PetscInt Fi = nn_shape_size(L->in), Fo = L->out.c, B = p->B;
  PetscFunctionBeginUser;
  if (!B) PetscFunctionReturn(0);
  for (PetscInt j = 0; j < k; j++) {
    nn_real       *H   = a->HV + j * a->ldh;
    const nn_real *Rdj = a->Rdout + (size_t)j * B * Fo;
    if (a->rows) {
      dense_hv_rows(L, B, j, a, H);
      continue;
    }
    dense_param_grad(L, B, Rdj, a->in, H + L->woff, L->nbias ? H + L->boff : NULL); /* HV_W += RdY^T X, HV_b += RdY^T 1 */
    if (a->dout && a->Rin) dense_param_grad(L, B, a->dout, a->Rin + (size_t)j * B * Fi, H + L->woff, NULL); /* HV_W += dY^T RX */
  }
  if (!a->Rdin) PetscFunctionReturn(0);
  nn_gemm(CblasNoTrans, CblasNoTrans, k * B, Fi, Fo, 1.0, a->Rdout, Fo, theta + L->woff, Fi, 0.0, a->Rdin, Fi); /* RdX = RdY W */
  for (PetscInt j = 0; j < k && a->dout && V; j++) {
    const NnSparseDir *sj = layer_sparse_direction(L, j);
    if (sj) dense_sparse_vtdy(L, B, sj, a->dout, a->Rdin + (size_t)j * B * Fi); /* RdX += dY V_W */
    else
      nn_gemm(CblasNoTrans, CblasNoTrans, B, Fi, Fo, 1.0, a->dout, Fo, V + j * ldv + L->woff, Fi, 1.0, a->Rdin + (size_t)j * B * Fi,
               Fi); /* RdX += dY V_W */
  }
  PetscFunctionReturn(0);
}

const LayerOps layer_dense_ops = {"dense", dense_forward, dense_backward, dense_rop_forward, dense_rop_backward};
