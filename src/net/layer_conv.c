/* 2-D convolution (any kernel KH x KW, strides SH, SW, zero padding), by im2col + GEMM.
 *   in is (C, B, H, W), weight W is (OC, C, KH, KW) = (OC, C*KH*KW) row-major,
 *   bias b is (OC), out is (OC, B, OH, OW) with OH = (H + PT + PB - KH) / SH + 1.
 *   forward   Y = W col(X) + b 1^T
 *   backward  dW += dY col(X)^T,  db += dY 1,  dX = col2im(W^T dY)
 * R-operator for directions V = (V_W, V_b), tangents of the k*B-sample block:
 *   forward   RY_j = W col(RX_j) + V_W,j col(X) + V_b,j 1^T
 *   backward  HV_W,j += RdY_j col(X)^T + dY col(RX_j)^T,  HV_b,j += RdY_j 1
 *             RdX_j = col2im(W^T RdY_j + V_W,j^T dY)
 * A sparse direction (a Hessian column) adds its V terms tap by tap, and
 * wanted rows of HV are single shifted dot products over the batch.
 * The batch is processed in chunks whose im2col matrix fits the workspace;
 * a chunk of nb samples is a column block of width nb*OH*OW of Y and dY.
 * When the layer's col cache is allocated (-net_colcache_mb), the forward pass keeps col(X)
 * of the whole batch there, and the backward and R-passes of the same
 * forward pass use it instead of a fresh im2col. */
#include "layers.h"

#include <string.h>

/* The output columns ow in [lo, hi) whose input column ow*SW + kw - PL is inside [0, W). */
static void col_range(const NnColDims *d, PetscInt kw, PetscInt *lo, PetscInt *hi)
{
  const PetscInt sw = d->w->sw, a = d->w->pl - kw, e = d->W - 1 + d->w->pl - kw;
  *lo = a > 0 ? (a + sw - 1) / sw : 0;
  *hi = e < 0 ? 0 : PetscMin(d->OW, e / sw + 1);
  if (*hi < *lo) *hi = *lo;
}

void im2col(const nn_real *x, const NnColDims *d, PetscInt B, PetscInt b0, PetscInt nb, nn_real *col)
{
  const NnWindow *w = d->w;
  const PetscInt  H = d->H, W = d->W, OH = d->OH, OW = d->OW, ncol = nb * OH * OW;
  for (PetscInt c = 0; c < d->C; c++)
    for (PetscInt kh = 0; kh < w->kh; kh++)
      for (PetscInt kw = 0; kw < w->kw; kw++) {
        nn_real *row = col + ((c * w->kh + kh) * w->kw + kw) * (size_t)ncol;
        PetscInt lo, hi;
        col_range(d, kw, &lo, &hi);
        for (PetscInt b = 0; b < nb; b++) {
          const nn_real *xb = x + ((size_t)c * B + b0 + b) * H * W;
          for (PetscInt oh = 0; oh < OH; oh++) {
            const PetscInt ih  = oh * w->sh + kh - w->pt;
            nn_real       *dst = row + ((size_t)b * OH + oh) * OW;
            if (ih < 0 || ih >= H) {
              memset(dst, 0, (size_t)OW * sizeof *dst);
              continue;
            }
            const nn_real *src = xb + ih * W + kw - w->pl; /* input column ow*SW + kw - PL */
            for (PetscInt ow = 0; ow < lo; ow++) dst[ow] = 0.0;
            if (w->sw == 1 && hi > lo) memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof *dst);
            else
              for (PetscInt ow = lo; ow < hi; ow++) dst[ow] = src[ow * w->sw];
            for (PetscInt ow = hi; ow < OW; ow++) dst[ow] = 0.0;
          }
        }
      }
}

void col2im(const nn_real *col, const NnColDims *d, PetscInt B, PetscInt b0, PetscInt nb, nn_real *x)
{
  const NnWindow *w = d->w;
  const PetscInt  H = d->H, W = d->W, OH = d->OH, OW = d->OW, ncol = nb * OH * OW;
  for (PetscInt c = 0; c < d->C; c++)
    for (PetscInt kh = 0; kh < w->kh; kh++)
      for (PetscInt kw = 0; kw < w->kw; kw++) {
        const nn_real *row = col + ((c * w->kh + kh) * w->kw + kw) * (size_t)ncol;
        PetscInt       lo, hi;
        col_range(d, kw, &lo, &hi);
        for (PetscInt b = 0; b < nb; b++) {
          nn_real *xb = x + ((size_t)c * B + b0 + b) * H * W;
          for (PetscInt oh = 0; oh < OH; oh++) {
            const PetscInt ih = oh * w->sh + kh - w->pt;
            if (ih < 0 || ih >= H) continue;
            const nn_real *src = row + ((size_t)b * OH + oh) * OW;
            nn_real       *dst = xb + ih * W + kw - w->pl; /* x at column ow*SW + kw - PL */
            if (w->sw == 1) /* apart, so that it vectorizes */
              for (PetscInt ow = lo; ow < hi; ow++) dst[ow] += src[ow];
            else
              for (PetscInt ow = lo; ow < hi; ow++) dst[ow * w->sw] += src[ow];
          }
        }
      }
}

PetscInt conv_chunk(const Layer *L, PetscInt B)
{
  const size_t per = conv_col_size(L);
  PetscInt     nb  = (PetscInt)(layer_state(L)->nwork / per);
  return nb < 1 ? 1 : (nb > B ? B : nb);
}

/* Shapes of a convolution layer, named once. */
typedef struct {
  PetscInt  C, H, W, OC, OH, OW, S, CKK;
  NnColDims cd;
} ConvDims;

static ConvDims conv_dims(const Layer *L)
{
  ConvDims d = {L->in.c, L->in.h, L->in.w, L->out.c, L->out.h, L->out.w, L->out.h * L->out.w, 0,
                {L->in.c, L->in.h, L->in.w, L->out.h, L->out.w, &L->win}};
  d.CKK      = d.C * L->win.kh * L->win.kw;
  return d;
}

/* The output pixels (oh, ow) in [oh0, oh1) x [ow0, ow1) whose input pixel
 * (oh SH + kh - PT, ow SW + kw - PL) is inside the image: the pixels that
 * kernel tap (kh, kw) connects; the input pixel of (oh, ow) is at offset
 * oh SH W + ow SW + shift of its map. */
typedef struct {
  PetscInt oh0, oh1, ow0, ow1, shift, rs, cs; /* rs = SH W, cs = SW: the input's strides per output row and column */
} ConvWindow;

static ConvWindow conv_window(const ConvDims *d, PetscInt kh, PetscInt kw)
{
  const NnWindow *w = d->cd.w;
  const PetscInt  a = w->pt - kh, e = d->H - 1 + w->pt - kh;
  ConvWindow      r;
  r.oh0 = a > 0 ? (a + w->sh - 1) / w->sh : 0;
  r.oh1 = e < 0 ? 0 : PetscMin(d->OH, e / w->sh + 1);
  col_range(&d->cd, kw, &r.ow0, &r.ow1);
  if (r.oh1 < r.oh0) r.oh1 = r.oh0;
  r.shift = (kh - w->pt) * d->W + kw - w->pl;
  r.rs = w->sh * d->W, r.cs = w->sw;
  return r;
}

/* sum over B samples and the window of y[oh, ow] x[oh SH + kh - PT, ow SW + kw - PL]:
 * y an output map (S per sample), x an input map (H W per sample). */
static double conv_window_dot(const ConvDims *d, ConvWindow w, PetscInt B, const nn_real *y, const nn_real *x)
{
  double h = 0;
  for (PetscInt b = 0; b < B; b++)
    for (PetscInt oh = w.oh0; oh < w.oh1; oh++) {
      const nn_real *yr = y + (size_t)b * d->S + oh * d->OW, *xr = x + (size_t)b * d->H * d->W + oh * w.rs + w.shift;
      if (w.cs == 1)
        for (PetscInt ow = w.ow0; ow < w.ow1; ow++) h += yr[ow] * xr[ow];
      else
        for (PetscInt ow = w.ow0; ow < w.ow1; ow++) h += yr[ow] * xr[ow * w.cs];
    }
  return h;
}

/* y[oh, ow] += v x[oh SH + kh - PT, ow SW + kw - PL] over B samples and the window. */
static void conv_window_axpy(const ConvDims *d, ConvWindow w, PetscInt B, nn_real v, const nn_real *x, nn_real *y)
{
  for (PetscInt b = 0; b < B; b++)
    for (PetscInt oh = w.oh0; oh < w.oh1; oh++) {
      const nn_real *xr = x + (size_t)b * d->H * d->W + oh * w.rs + w.shift;
      nn_real       *yr = y + (size_t)b * d->S + oh * d->OW;
      for (PetscInt ow = w.ow0; ow < w.ow1; ow++) yr[ow] += v * xr[ow * w.cs];
    }
}

/* Its transpose: x[oh SH + kh - PT, ow SW + kw - PL] += v y[oh, ow]. */
static void conv_window_axpy_t(const ConvDims *d, ConvWindow w, PetscInt B, nn_real v, const nn_real *y, nn_real *x)
{
  for (PetscInt b = 0; b < B; b++)
    for (PetscInt oh = w.oh0; oh < w.oh1; oh++) {
      const nn_real *yr = y + (size_t)b * d->S + oh * d->OW;
      nn_real       *xr = x + (size_t)b * d->H * d->W + oh * w.rs + w.shift;
      for (PetscInt ow = w.ow0; ow < w.ow1; ow++) xr[ow * w.cs] += v * yr[ow];
    }
}

/* Weight index t of theta (inside L's weight) as (oc, c, kh, kw). */
static void conv_weight_index(const Layer *L, PetscInt t, PetscInt *oc, PetscInt *c, PetscInt *kh, PetscInt *kw)
{
  PetscInt r = t - L->woff;
  *kw = r % L->win.kw, r /= L->win.kw;
  *kh = r % L->win.kh, r /= L->win.kh;
  *c = r % L->in.c, *oc = r / L->in.c;
}

/* Whether the col cache holds col(x) for x of Bx samples, from the latest forward pass. */
static PetscBool conv_cached(const Layer *L, const nn_real *x, PetscInt Bx)
{
  const NnLayerCache *c = layer_cache(L);
  return c->col && c->col_of == x && c->col_B == Bx && c->col_gen == L->net->fwd_gen;
}

/* Samples per chunk of col(x): all n when col(x) is cached. */
static PetscInt conv_chunk_of(const Layer *L, const nn_real *x, PetscInt Bx, PetscInt n)
{
  return conv_cached(L, x, Bx) ? n : conv_chunk(L, n);
}

/* col of samples [x0, x0 + nb) of x (Bx samples): the cached copy (leading
 * dimension Bx*S) or a fresh im2col in the workspace (leading dimension nb*S). */
static const nn_real *conv_col(Layer *L, const nn_real *x, PetscInt Bx, PetscInt x0, PetscInt nb, PetscInt *ld)
{
  ConvDims d = conv_dims(L);
  if (conv_cached(L, x, Bx)) {
    *ld = Bx * d.S;
    return layer_cache(L)->col + (size_t)x0 * d.S;
  }
  im2col(x, &d.cd, Bx, x0, nb, layer_state(L)->work);
  *ld = nb * d.S;
  return layer_state(L)->work;
}

/* out[:, b*S] (+)= Wm col(x[:, x0 + b]) for the n samples b, out with leading
 * dimension ld; x has Bx samples. */
static void conv_weights_times_col(Layer *L, const nn_real *Wm, const nn_real *x, PetscInt Bx, PetscInt x0, PetscInt n,
                                   nn_real *out, PetscInt ld, nn_real beta)
{
  ConvDims d = conv_dims(L);
  for (PetscInt b0 = 0, nb, ldc; b0 < n; b0 += nb) {
    nb                = PetscMin(conv_chunk_of(L, x, Bx, n), n - b0);
    const nn_real *col = conv_col(L, x, Bx, x0 + b0, nb, &ldc);
    nn_gemm(CblasNoTrans, CblasNoTrans, d.OC, nb * d.S, d.CKK, 1.0, Wm, d.CKK, col, ldc, beta, out + b0 * d.S,
             ld); /* out = Wm col (+ beta out) */
  }
}

/* gW += A col(x[:, x0 + b])^T over the n samples b; A (OC, n*S) has leading dimension lda. */
static void conv_param_grad(Layer *L, const nn_real *A, PetscInt lda, const nn_real *x, PetscInt Bx, PetscInt x0, PetscInt n,
                            nn_real *gW)
{
  ConvDims d = conv_dims(L);
  for (PetscInt b0 = 0, nb, ldc; b0 < n; b0 += nb) {
    nb                = PetscMin(conv_chunk_of(L, x, Bx, n), n - b0);
    const nn_real *col = conv_col(L, x, Bx, x0 + b0, nb, &ldc);
    nn_gemm(CblasNoTrans, CblasTrans, d.OC, d.CKK, nb * d.S, 1.0, A + b0 * d.S, lda, col, ldc, 1.0, gW, d.CKK); /* gW += A col^T */
  }
}

/* The sum of a[0..n), in double over 8 lanes: a bias row is B*S long
 * (57,600 for the LeNet's first layer at 100 samples), and one running sum
 * would wait on each addition in turn. */
static double conv_row_sum(const nn_real *a, PetscInt n)
{
  double   s[8] = {0}, t = 0;
  PetscInt j    = 0;
  for (; j + 8 <= n; j += 8)
    for (int l = 0; l < 8; l++) s[l] += a[j + l];
  for (; j < n; j++) t += a[j];
  for (int l = 0; l < 8; l++) t += s[l];
  return t;
}

/* gb[oc] += sum of row oc of A (OC, n) with leading dimension lda. */
static void conv_bias_grad(PetscInt OC, PetscInt n, const nn_real *A, PetscInt lda, nn_real *gb)
{
  for (PetscInt oc = 0; oc < OC; oc++) gb[oc] += conv_row_sum(A + oc * lda, n);
}

/* din[:, d0 + b] += col2im(W1^T A1 + W2^T A2) over the n samples b (W2, A2 may be
 * NULL); A1, A2 (OC, n*S) have leading dimensions lda1, lda2; din has Bd samples. */
static void conv_input_grad(Layer *L, const nn_real *W1, const nn_real *A1, PetscInt lda1, const nn_real *W2, const nn_real *A2,
                            PetscInt lda2, PetscInt n, nn_real *din, PetscInt Bd, PetscInt d0)
{
  ConvDims d   = conv_dims(L);
  nn_real  *col = layer_state(L)->work;
  for (PetscInt b0 = 0, nb; b0 < n; b0 += nb) {
    nb = PetscMin(conv_chunk(L, n), n - b0);
    nn_gemm(CblasTrans, CblasNoTrans, d.CKK, nb * d.S, d.OC, 1.0, W1, d.CKK, A1 + b0 * d.S, lda1, 0.0, col, nb * d.S); /* dcol = W1^T A1 */
    if (W2)
      nn_gemm(CblasTrans, CblasNoTrans, d.CKK, nb * d.S, d.OC, 1.0, W2, d.CKK, A2 + b0 * d.S, lda2, 1.0, col,
               nb * d.S); /* dcol += W2^T A2 */
    col2im(col, &d.cd, Bd, d0 + b0, nb, din);
  }
}

/* out[oc, :] += b[oc] for the n columns of each row (leading dimension ld). */
static void conv_add_bias(PetscInt OC, PetscInt n, const nn_real *b, nn_real *out, PetscInt ld)
{
  for (PetscInt oc = 0; oc < OC; oc++)
    for (PetscInt j = 0; j < n; j++) out[oc * ld + j] += b[oc];
}

static PetscErrorCode conv_forward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, nn_real *out)
{
  ConvDims      d = conv_dims(L);
  NnLayerCache *c = layer_cache(L);
  PetscFunctionBeginUser;
  if (!p->B) PetscFunctionReturn(0);
  if (c->col) { /* keep col(X) for the backward and R-passes of this forward pass */
    im2col(in, &d.cd, p->B, 0, p->B, c->col);
    c->col_of = in, c->col_B = p->B, c->col_gen = L->net->fwd_gen;
  }
  conv_weights_times_col(L, theta + L->woff, in, p->B, 0, p->B, out, p->B * d.S, 0.0); /* Y = W col(X) */
  if (L->nbias) conv_add_bias(d.OC, p->B * d.S, theta + L->boff, out, p->B * d.S);     /* Y += b 1^T */
  PetscFunctionReturn(0);
}

static PetscErrorCode conv_backward(Layer *L, const NnPass *p, const nn_real *theta, const nn_real *in, const nn_real *out,
                                    const nn_real *dout, nn_real *din, nn_real *grad)
{
  ConvDims       d  = conv_dims(L);
  const PetscInt B = p->B, ld = B * d.S;
  PetscFunctionBeginUser;
  (void)out;
  if (!B) PetscFunctionReturn(0);
  if (grad) {
    conv_param_grad(L, dout, ld, in, B, 0, B, grad + L->woff);     /* dW += dY col(X)^T */
    if (L->nbias) conv_bias_grad(d.OC, ld, dout, ld, grad + L->boff); /* db += dY 1 */
  }
  if (din) {
    PetscCall(PetscArrayzero(din, (size_t)d.C * B * d.H * d.W));
    conv_input_grad(L, theta + L->woff, dout, ld, NULL, NULL, 0, B, din, B, 0); /* dX = col2im(W^T dY) */
  }
  PetscFunctionReturn(0);
}

/* RY_j += V_W,j col(X) + V_b,j 1^T for a sparse direction s: a non-zero
 * V_W[oc, c, kh, kw] = v adds v times the shifted input map c to output map
 * oc; a non-zero V_b[oc] = v adds v. Rout is (OC, k B, S), X is (C, B, H, W). */
static void conv_sparse_vx(const Layer *L, PetscInt B, PetscInt k, PetscInt j, const NnSparseDir *s, const nn_real *X, nn_real *Rout)
{
  ConvDims d = conv_dims(L);
  for (PetscInt e = 0; e < s->n; e++) {
    const PetscInt t = s->idx[e];
    PetscInt       oc, c, kh, kw;
    if (t >= L->woff && t < L->woff + L->nw) {
      conv_weight_index(L, t, &oc, &c, &kh, &kw);
      conv_window_axpy(&d, conv_window(&d, kh, kw), B, s->val[e], X + (size_t)c * B * d.H * d.W, Rout + ((size_t)oc * k + j) * B * d.S);
    } else if (t >= L->boff && t < L->boff + L->nbias) {
      nn_real *y = Rout + ((size_t)(t - L->boff) * k + j) * B * d.S;
      for (PetscInt q = 0; q < B * d.S; q++) y[q] += s->val[e];
    }
  }
}

/* RdX_j += col2im(V_W,j^T dY) for a sparse direction s: a non-zero
 * V_W[oc, c, kh, kw] = v adds v times output map oc of dY, shifted back, to
 * input map c. RdX is (C, k B, H, W), dY is (OC, B, S). */
static void conv_sparse_vtdy(const Layer *L, PetscInt B, PetscInt k, PetscInt j, const NnSparseDir *s, const nn_real *dY, nn_real *RdX)
{
  ConvDims d = conv_dims(L);
  for (PetscInt e = 0; e < s->n; e++) {
    PetscInt oc, c, kh, kw;
    if (s->idx[e] < L->woff || s->idx[e] >= L->woff + L->nw) continue;
    conv_weight_index(L, s->idx[e], &oc, &c, &kh, &kw);
    conv_window_axpy_t(&d, conv_window(&d, kh, kw), B, s->val[e], dY + (size_t)oc * B * d.S, RdX + ((size_t)c * k + j) * B * d.H * d.W);
  }
}

static PetscErrorCode conv_rop_forward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                       PetscInt ldv, const nn_real *in, const nn_real *Rin, nn_real *Rout)
{
  ConvDims       d  = conv_dims(L);
  const PetscInt B = p->B, ldk = k * B * d.S;
  PetscBool      dense = PETSC_FALSE;
  PetscFunctionBeginUser;
  if (!B) PetscFunctionReturn(0);
  if (Rin) conv_weights_times_col(L, theta + L->woff, Rin, k * B, 0, k * B, Rout, ldk, 0.0); /* RY = W col(RX) */
  else PetscCall(PetscArrayzero(Rout, (size_t)d.OC * ldk));
  for (PetscInt j = 0; j < k && V; j++) {
    const NnSparseDir *sj = layer_sparse_direction(L, j);
    if (sj) conv_sparse_vx(L, B, k, j, sj, in, Rout); /* RY_j += V_W,j col(X) + V_b,j 1^T */
    else dense = PETSC_TRUE;
  }
  for (PetscInt b0 = 0, nb, ldc; b0 < B && dense; b0 += nb) { /* RY_j += V_W,j col(X): one col(X) for all dense j */
    nb                = PetscMin(conv_chunk_of(L, in, B, B), B - b0);
    const nn_real *col = conv_col(L, in, B, b0, nb, &ldc);
    for (PetscInt j = 0; j < k; j++)
      if (!layer_sparse_direction(L, j))
        nn_gemm(CblasNoTrans, CblasNoTrans, d.OC, nb * d.S, d.CKK, 1.0, V + j * ldv + L->woff, d.CKK, col, ldc, 1.0,
                 Rout + (j * B + b0) * d.S, ldk);
  }
  for (PetscInt j = 0; j < k && dense && L->nbias; j++)
    if (!layer_sparse_direction(L, j)) conv_add_bias(d.OC, B * d.S, V + j * ldv + L->boff, Rout + j * B * d.S, ldk); /* += V_b 1^T */
  PetscFunctionReturn(0);
}

/* The wanted rows of HV_j alone: HV_W[oc, c, kh, kw] += sum over samples and
 * pixels of RdY_j[oc] X[c] + dY[oc] RX_j[c] (shifted by the tap), HV_b[oc] +=
 * sum of RdY_j[oc]. */
static void conv_hv_rows(const Layer *L, PetscInt B, PetscInt k, PetscInt j, const NnRopBack *a, nn_real *H)
{
  ConvDims        d = conv_dims(L);
  const PetscInt *r;
  PetscInt        n = rop_rows_in(a, L->woff, L->woff + L->nw, &r);
  for (PetscInt q = 0; q < n; q++) {
    PetscInt   oc, c, kh, kw;
    conv_weight_index(L, r[q], &oc, &c, &kh, &kw);
    ConvWindow w = conv_window(&d, kh, kw);
    double     h = conv_window_dot(&d, w, B, a->Rdout + ((size_t)oc * k + j) * B * d.S, a->in + (size_t)c * B * d.H * d.W);
    if (a->dout && a->Rin) h += conv_window_dot(&d, w, B, a->dout + (size_t)oc * B * d.S, a->Rin + ((size_t)c * k + j) * B * d.H * d.W);
    H[r[q]] += h;
  }
  n = rop_rows_in(a, L->boff, L->boff + L->nbias, &r);
  for (PetscInt q = 0; q < n; q++) {
    H[r[q]] += conv_row_sum(a->Rdout + ((size_t)(r[q] - L->boff) * k + j) * B * d.S, B * d.S); /* as conv_bias_grad */
  }
}

/* HV_W,j += RdY_j col(X)^T + dY col(RX_j)^T, HV_b,j += RdY_j 1, by GEMMs. */
static void conv_hv_all(Layer *L, PetscInt B, PetscInt k, const NnRopBack *a)
{
  ConvDims       d  = conv_dims(L);
  const PetscInt ld = B * d.S, ldk = k * ld;
  for (PetscInt b0 = 0, nb, ldc; b0 < B; b0 += nb) { /* HV_W,j += RdY_j col(X)^T: one col(X) for all j */
    nb                = PetscMin(conv_chunk_of(L, a->in, B, B), B - b0);
    const nn_real *col = conv_col(L, a->in, B, b0, nb, &ldc);
    for (PetscInt j = 0; j < k; j++)
      nn_gemm(CblasNoTrans, CblasTrans, d.OC, d.CKK, nb * d.S, 1.0, a->Rdout + j * ld + b0 * d.S, ldk, col, ldc, 1.0,
               a->HV + j * a->ldh + L->woff, d.CKK);
  }
  for (PetscInt j = 0; j < k; j++) {
    nn_real       *H   = a->HV + j * a->ldh;
    const nn_real *Rdj = a->Rdout + j * ld;
    if (a->dout && a->Rin) conv_param_grad(L, a->dout, ld, a->Rin, k * B, j * B, B, H + L->woff); /* HV_W += dY col(RX)^T */
    if (L->nbias) conv_bias_grad(d.OC, ld, Rdj, ldk, H + L->boff);                                /* HV_b += RdY 1 */
  }
}

static PetscErrorCode conv_rop_backward(Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                        PetscInt ldv, const NnRopBack *a)
{
  ConvDims       d  = conv_dims(L);
  const PetscInt B = p->B, ld = B * d.S, ldk = k * ld;
  PetscFunctionBeginUser;
  if (!B) PetscFunctionReturn(0);
  if (a->rows)
    for (PetscInt j = 0; j < k; j++) conv_hv_rows(L, B, k, j, a, a->HV + j * a->ldh);
  else conv_hv_all(L, B, k, a);
  if (!a->Rdin) PetscFunctionReturn(0);
  PetscCall(PetscArrayzero(a->Rdin, (size_t)d.C * k * B * d.H * d.W));
  for (PetscInt j = 0; j < k; j++) { /* RdX = col2im(W^T RdY + V_W^T dY) */
    const NnSparseDir *sj = V && a->dout ? layer_sparse_direction(L, j) : NULL;
    conv_input_grad(L, theta + L->woff, a->Rdout + j * ld, ldk, a->dout && V && !sj ? V + j * ldv + L->woff : NULL, a->dout, ld, B,
                    a->Rdin, k * B, j * B);
    if (sj) conv_sparse_vtdy(L, B, k, j, sj, a->dout, a->Rdin);
  }
  PetscFunctionReturn(0);
}

const LayerOps layer_conv_ops = {"conv", conv_forward, conv_backward, conv_rop_forward, conv_rop_backward};
