/* Average pooling over a window (kernel, stride, zero padding; floor sizes),
 * and global average pooling as the window of the whole image.
 *   in is (C, B, H, W), out is (C, B, OH, OW)
 *   forward   y = (1/n) sum of x over the window's pixels inside the image,
 *             n = KH*KW with count_pad (PyTorch's count_include_pad), else the pixels inside
 *   backward  dx += dy / n over the window
 * A linear map without parameters: Ry = pool(Rx), Rdx = pool^T(Rdy). A
 * tangent block (C, k*B, H, W) is pooled as a batch of k*B samples. */
#include "layers.h"

/* The window of output (oh, ow) clipped to the image, and its divisor n. */
typedef struct {
  PetscInt h0, h1, w0, w1;
  double   n;
} AvgWindow;

static AvgWindow avg_window(const Layer *L, PetscInt oh, PetscInt ow)
{
  const NnWindow *w   = &L->win;
  const PetscInt  ih0 = oh * w->sh - w->pt, iw0 = ow * w->sw - w->pl;
  AvgWindow       a   = {PetscMax(ih0, 0), PetscMin(ih0 + w->kh, L->in.h), PetscMax(iw0, 0), PetscMin(iw0 + w->kw, L->in.w), 0};
  a.n = L->count_pad ? (double)(PetscMin(ih0 + w->kh, L->in.h + w->pb) - ih0) * (PetscMin(iw0 + w->kw, L->in.w + w->pr) - iw0)
                     : (double)(a.h1 - a.h0) * (a.w1 - a.w0);
  return a;
}

/* y <- pool(x) for `planes` planes of H x W. */
static void avgpool_apply(const Layer *L, PetscInt planes, const nn_real *in, nn_real *out)
{
  const PetscInt H = L->in.h, W = L->in.w, OH = L->out.h, OW = L->out.w;
  for (PetscInt q = 0; q < planes; q++) {
    const nn_real *x = in + (size_t)q * H * W;
    for (PetscInt oh = 0; oh < OH; oh++)
      for (PetscInt ow = 0; ow < OW; ow++) {
        const AvgWindow a = avg_window(L, oh, ow);
        double          s = 0;
        for (PetscInt ih = a.h0; ih < a.h1; ih++)
          for (PetscInt iw = a.w0; iw < a.w1; iw++) s += x[ih * W + iw];
        out[((size_t)q * OH + oh) * OW + ow] = (nn_real)(s / a.n); /* y = sum x / n */
      }
  }
}

/* dx <- pool^T(dy) for `planes` planes. */
static void avgpool_transpose(const Layer *L, PetscInt planes, const nn_real *dout, nn_real *din)
{
  const PetscInt H = L->in.h, W = L->in.w, OH = L->out.h, OW = L->out.w;
  for (size_t e = 0; e < (size_t)planes * H * W; e++) din[e] = 0;
  for (PetscInt q = 0; q < planes; q++) {
    nn_real *dx = din + (size_t)q * H * W;
    for (PetscInt oh = 0; oh < OH; oh++)
      for (PetscInt ow = 0; ow < OW; ow++) {
        const AvgWindow a = avg_window(L, oh, ow);
        const nn_real   g = (nn_real)(dout[((size_t)q * OH + oh) * OW + ow] / a.n);
        for (PetscInt ih = a.h0; ih < a.h1; ih++)
          for (PetscInt iw = a.w0; iw < a.w1; iw++) dx[ih * W + iw] += g; /* dx += dy / n */
      }
  }
}

static PetscErrorCode avgpool_forward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, nn_real *out)
{
  PetscFunctionBeginUser;
  (void)theta;
  avgpool_apply(L, L->in.c * p->B, in, out);
  PetscFunctionReturn(0);
}

static PetscErrorCode avgpool_backward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, const nn_real *out,
                                       const nn_real *dout, nn_real *din, nn_real *grad)
{
  PetscFunctionBeginUser;
  (void)theta, (void)in, (void)out, (void)grad;
  if (din) avgpool_transpose(L, L->in.c * p->B, dout, din);
  PetscFunctionReturn(0);
}

static PetscErrorCode avgpool_rop_forward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                          PetscInt ldv, const nn_real *in, const nn_real *Rin, nn_real *Rout)
{
  PetscFunctionBeginUser;
  (void)theta, (void)V, (void)ldv, (void)in;
  if (Rin) avgpool_apply(L, L->in.c * k * p->B, Rin, Rout); /* Ry = pool(Rx) */
  else PetscCall(PetscArrayzero(Rout, (size_t)k * p->B * nn_shape_size(L->out)));
  PetscFunctionReturn(0);
}

static PetscErrorCode avgpool_rop_backward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                           PetscInt ldv, const NnRopBack *a)
{
  PetscFunctionBeginUser;
  (void)theta, (void)V, (void)ldv;
  if (a->Rdin) avgpool_transpose(L, L->in.c * k * p->B, a->Rdout, a->Rdin); /* Rdx = pool^T(Rdy) */
  PetscFunctionReturn(0);
}

const LayerOps layer_avgpool_ops = {"avgpool", avgpool_forward, avgpool_backward, avgpool_rop_forward, avgpool_rop_backward};
