/* Layers, losses and whole networks: gradients against central differences,
 * the BLAS convolution against a direct loop, batch statistics shared across
 * ranks, and the layer-string parser's errors. */
#include "testlib.h"
#include "nncas/net.h"
#include "net/layers.h" /* white-box: the layers, conv_chunk */

#include <float.h>
#include <stdlib.h>
#include <string.h>

/* A network from a layer string; workspace_mb small forces conv chunking. */
static PetscErrorCode make_net(const char *spec, PetscInt c, PetscInt h, PetscInt w, PetscInt B, PetscBool bias,
                               NnLoss loss, double workspace_mb, Net *net)
{
  PetscFunctionBeginUser;
  PetscCall(net_create(PETSC_COMM_SELF, net));
  PetscCall(net_set_spec(*net, spec));
  PetscCall(net_set_bias(*net, bias));
  PetscCall(net_set_loss(*net, loss));
  PetscCall(net_set_memory(*net, workspace_mb, 256)); /* the col caches' default */
  PetscCall(net_setup(*net, c, h, w, B));
  PetscFunctionReturn(0);
}

static void fill_normal(NnRngKey key, size_t n, double *a, double scale)
{
  for (size_t i = 0; i < n; i++) a[i] = scale * nn_rng_normal(key, i);
}

/* The pattern of every kink the function has: ReLU signs, pool arg-maxima,
 * hinge activity. A central difference is only valid if it is unchanged. */
static uint64_t kink_signature(Net net, PetscInt B, const double *t, const double *y)
{
  uint64_t h = 1469598103934665603ULL;
  for (PetscInt l = 0; l < net->nlayers; l++) {
    const Layer *L = &net->layers[l];
    size_t       n = (size_t)B * nn_shape_size(L->in);
    if (L->kind == LAYER_ACT && L->act == ACT_RELU)
      for (size_t i = 0; i < n; i++) h = (h ^ (net->state->act[l][i] > 0)) * 1099511628211ULL;
    if (L->kind == LAYER_POOL)
      for (size_t i = 0; i < (size_t)B * nn_shape_size(L->out); i++) h = (h ^ (uint64_t)net->state->cache[l].argmax[i]) * 1099511628211ULL;
  }
  for (PetscInt i = 0; i < B; i++) h = (h ^ (y[i] * t[i] < 1)) * 1099511628211ULL;
  return h;
}

/* Empirical risk R = mean_i l(T(x_i), y_i) and its kink signature. */
static PetscErrorCode risk(Net net, const NnPass *p, const double *theta, const double *x, const double *y, double *R,
                           uint64_t *sig)
{
  double *t, *l;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2(p->B, &t, p->B, &l));
  PetscCall(net_forward(net, p, theta, x, t));
  loss_eval(net->loss, p->B, 1, t, y, l, NULL, NULL);
  *R = 0;
  for (PetscInt i = 0; i < p->B; i++) *R += l[i] / p->B;
  if (sig) *sig = kink_signature(net, p->B, t, y);
  PetscCall(PetscFree2(t, l));
  PetscFunctionReturn(0);
}

/* Richardson-extrapolated central difference of R along v,
 *   D(h) = (R(theta + h v) - R(theta - h v)) / 2h,  fd = (4 D(h/2) - D(h)) / 3  (error O(h^4)),
 * with the largest h in 1e-3, 1e-4, ... whose four points keep the kink pattern
 * of theta (else *h = 0). *floor_ is the rounding error of fd. */
static PetscErrorCode central_difference(Net net, const NnPass *p, const double *theta, const double *v, const double *x,
                                         const double *y, double *tp, double *fd, double *h, double *floor_)
{
  const PetscInt N = net->N;
  uint64_t       s0, s;
  double         R0;
  PetscFunctionBeginUser;
  PetscCall(risk(net, p, theta, x, y, &R0, &s0));
  for (*h = 1e-3; *h > 1e-9; *h /= 10) {
    double   D[2], Rmax = fabs(R0);
    PetscBool same = PETSC_TRUE;
    for (int k = 0; k < 2; k++) {
      double hk = *h / (1 << k), R[2];
      for (int sgn = 0; sgn < 2; sgn++) {
        for (PetscInt i = 0; i < N; i++) tp[i] = theta[i] + (sgn ? -hk : hk) * v[i];
        PetscCall(risk(net, p, tp, x, y, &R[sgn], &s));
        same = same && s == s0;
        Rmax = fmax(Rmax, fabs(R[sgn]));
      }
      D[k] = (R[0] - R[1]) / (2 * hk);
    }
    *fd     = (4 * D[1] - D[0]) / 3;
    *floor_ = 64 * DBL_EPSILON * fmax(Rmax, 1e-3) / *h;
    if (same) PetscFunctionReturn(0);
  }
  *h = 0;
  PetscFunctionReturn(0);
}

/* Gradient of R by backward; then compares g.v with the central difference
 * (R(theta + h v) - R(theta - h v)) / 2h for nv random directions v and for
 * single coordinates, to relative tolerance tol. */
static PetscErrorCode check_gradient(Net net, PetscInt B, double xscale, double tol, const char *what)
{
  NnPass   p = {.B = B, .Bglobal = B, .batch_comm = PETSC_COMM_SELF, .train = PETSC_FALSE};
  double  *theta, *grad, *x, *y, *t, *dl, *v, *tp;
  PetscInt N = net->N, F = net->input.c * net->input.h * net->input.w;
  double   maxerr = 0;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc4(N, &theta, N, &grad, (size_t)B * F, &x, B, &y));
  PetscCall(PetscMalloc4(B, &t, B, &dl, N, &v, N, &tp));
  PetscCall(net_init_params(net, theta));
  fill_normal(nn_rng_key(7, 1, 0), (size_t)B * F, x, xscale);
  for (PetscInt i = 0; i < B; i++) y[i] = (i % 2) ? 1 : -1;
  /* backward: dR/dT_i = l'(T_i) / B */
  PetscCall(net_forward(net, &p, theta, x, t));
  loss_eval(net->loss, B, 1, t, y, NULL, dl, NULL);
  for (PetscInt i = 0; i < B; i++) dl[i] /= B;
  PetscCall(PetscArrayzero(grad, N));
  PetscCall(net_backward(net, &p, theta, dl, grad));

  for (PetscInt trial = 0; trial < 6; trial++) {
    if (trial < 3) fill_normal(nn_rng_key(11, 2, trial), N, v, 1.0);
    else { /* one coordinate: first, middle, last parameter */
      PetscCall(PetscArrayzero(v, N));
      v[trial == 3 ? 0 : trial == 4 ? N / 2 : N - 1] = 1;
    }
    double gv = 0, fd = 0, h = 0, floor_ = 0;
    for (PetscInt i = 0; i < N; i++) gv += grad[i] * v[i];
    PetscCall(central_difference(net, &p, theta, v, x, y, tp, &fd, &h, &floor_));
    NN_CHECK(h > 0, "%s: no step keeps the kink pattern", what);
    NN_CHECK(fabs(gv - fd) <= tol * fmax(fabs(gv), fabs(fd)) + floor_,
             "%s: direction %d: gradient %.12e, central difference %.12e (h %g), relative error %.2e > %.1e", what,
             (int)trial, gv, fd, h, nn_relerr(gv, fd, 0), tol);
    maxerr = fmax(maxerr, fabs(gv - fd) / fmax(fmax(fabs(gv), fabs(fd)), floor_ / tol));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     %-60s max relative error %.1e\n", what, maxerr));
  PetscCall(PetscFree4(theta, grad, x, y));
  PetscCall(PetscFree4(t, dl, v, tp));
  PetscFunctionReturn(0);
}

static PetscErrorCode grad_case(const char *spec, PetscInt c, PetscInt h, PetscInt w, PetscBool bias, NnLoss loss)
{
  Net net;
  PetscFunctionBeginUser;
  PetscCall(make_net(spec, c, h, w, 6, bias, loss, 0.01, &net));
  PetscCall(check_gradient(net, 6, 1.0, 1e-7, spec));
  PetscCall(net_destroy(&net));
  PetscFunctionReturn(0);
}

static PetscErrorCode dense_gradient_matches_central_difference(void)
{
  PetscFunctionBeginUser;
  PetscCall(grad_case("dense:7,tanh,dense:1", 5, 1, 1, PETSC_TRUE, LOSS_SQUARED));
  PetscCall(grad_case("dense:7,tanh,dense:1", 5, 1, 1, PETSC_FALSE, LOSS_SQUARED));
  PetscFunctionReturn(0);
}

static PetscErrorCode conv_gradient_matches_central_difference(void)
{
  PetscFunctionBeginUser;
  PetscCall(grad_case("conv:3:3,tanh,conv:2:2:1,tanh,dense:1", 2, 6, 5, PETSC_TRUE, LOSS_SQUARED));
  PetscCall(grad_case("conv:3:3:2,sigmoid,dense:1", 2, 4, 4, PETSC_FALSE, LOSS_LOGISTIC));
  PetscFunctionReturn(0);
}

static PetscErrorCode pool_gradient_matches_central_difference(void)
{
  PetscFunctionBeginUser;
  PetscCall(grad_case("conv:3:3,pool:2,tanh,dense:1", 2, 7, 7, PETSC_TRUE, LOSS_SQUARED));
  PetscCall(grad_case("pool:2,tanh,conv:3:2,tanh,dense:1", 2, 7, 7, PETSC_TRUE, LOSS_SQUARED)); /* no weights below layer 2 */
  PetscFunctionReturn(0);
}

static PetscErrorCode activations_gradient_matches_central_difference(void)
{
  PetscFunctionBeginUser;
  PetscCall(grad_case("dense:6,relu,dense:1", 4, 1, 1, PETSC_TRUE, LOSS_SQUARED));
  PetscCall(grad_case("dense:6,swish,dense:1", 4, 1, 1, PETSC_TRUE, LOSS_SQUARED));
  PetscCall(grad_case("dense:6,sigmoid,dense:1", 4, 1, 1, PETSC_TRUE, LOSS_SQUARED));
  PetscCall(grad_case("dense:6,tanh,dense:1", 4, 1, 1, PETSC_TRUE, LOSS_SQUARED));
  PetscFunctionReturn(0);
}

static PetscErrorCode batchnorm_gradient_matches_central_difference(void)
{
  PetscFunctionBeginUser;
  PetscCall(grad_case("conv:3:3,bn,tanh,dense:1", 2, 5, 5, PETSC_TRUE, LOSS_SQUARED)); /* spatial (C, B, S) */
  PetscCall(grad_case("dense:5,bn,tanh,dense:1", 4, 1, 1, PETSC_TRUE, LOSS_SQUARED));  /* flat (B, C) */
  PetscFunctionReturn(0);
}

static PetscErrorCode losses_gradient_matches_central_difference(void)
{
  PetscFunctionBeginUser;
  for (int l = LOSS_HINGE; l <= LOSS_SQUARED; l++) PetscCall(grad_case("dense:5,tanh,dense:1", 3, 1, 1, PETSC_TRUE, (NnLoss)l));
  /* l'' against a central difference of l' */
  for (int l = LOSS_LOGISTIC; l <= LOSS_SQUARED; l++) {
    double t = 0.3, y = -1, d2, dp, dm, h = 1e-6, tp = t + h, tm = t - h;
    loss_eval((NnLoss)l, 1, 1, &t, &y, NULL, NULL, &d2);
    loss_eval((NnLoss)l, 1, 1, &tp, &y, NULL, &dp, NULL);
    loss_eval((NnLoss)l, 1, 1, &tm, &y, NULL, &dm, NULL);
    NN_CHECK(nn_relerr(d2, (dp - dm) / (2 * h), 1e-8) < 1e-8, "loss %s: l'' %.12g vs difference %.12g", NnLosses[l], d2,
             (dp - dm) / (2 * h));
  }
  PetscFunctionReturn(0);
}

/* A NaN output must not hide behind a flat side (the hinge's 0 for y t >= 1):
 * every loss gives NaN for the loss and its derivative, so divergence is seen. */
static PetscErrorCode losses_of_a_nan_output_are_nan(void)
{
  PetscFunctionBeginUser;
  for (int l = LOSS_HINGE; l <= LOSS_SQUARED; l++)
    for (int s = -1; s <= 1; s += 2) {
      double t = NAN, y = s, v, d;
      loss_eval((NnLoss)l, 1, 1, &t, &y, &v, &d, NULL);
      NN_CHECK(isnan(v) && isnan(d), "loss %s, label %d: NaN output gives l = %g, l' = %g", NnLosses[l], s, v, d);
    }
  PetscFunctionReturn(0);
}

static PetscErrorCode dropout_gradient_matches_central_difference_with_fixed_mask(void)
{
  Net      net;
  PetscInt ids[6] = {10, 11, 12, 13, 14, 15};
  PetscFunctionBeginUser;
  PetscCall(make_net("dense:8,tanh,dropout:0.5,dense:1", 4, 1, 1, 6, PETSC_TRUE, LOSS_SQUARED, 1, &net));
  /* In training mode with a fixed key the mask is a fixed function of the
   * sample ids, so the risk is differentiable; check through a training pass. */
  NnPass   p = {.B = 6, .Bglobal = 6, .batch_comm = PETSC_COMM_SELF, .train = PETSC_TRUE,
                .dropout_key = nn_rng_key(3, NN_STREAM_DROPOUT, 0), .sample_ids = ids};
  double  *theta, *grad, x[24], y[6], t[6], dl[6], *v, *tp, Rp = 0, Rm = 0, gv = 0, lp[6], lm[6];
  PetscCall(PetscMalloc4(net->N, &theta, net->N, &grad, net->N, &v, net->N, &tp));
  PetscCall(net_init_params(net, theta));
  fill_normal(nn_rng_key(1, 1, 1), 24, x, 1);
  fill_normal(nn_rng_key(1, 1, 2), net->N, v, 1);
  for (int i = 0; i < 6; i++) y[i] = i % 2 ? 1 : -1;
  PetscCall(net_forward(net, &p, theta, x, t));
  loss_eval(net->loss, 6, 1, t, y, NULL, dl, NULL);
  PetscCall(PetscArrayzero(grad, net->N));
  PetscCall(net_backward(net, &p, theta, dl, grad));
  double h = 1e-6;
  for (PetscInt i = 0; i < net->N; i++) gv += grad[i] * v[i], tp[i] = theta[i] + h * v[i];
  PetscCall(net_forward(net, &p, tp, x, t));
  loss_eval(net->loss, 6, 1, t, y, lp, NULL, NULL);
  for (PetscInt i = 0; i < net->N; i++) tp[i] = theta[i] - h * v[i];
  PetscCall(net_forward(net, &p, tp, x, t));
  loss_eval(net->loss, 6, 1, t, y, lm, NULL, NULL);
  for (int i = 0; i < 6; i++) Rp += lp[i], Rm += lm[i];
  double fd = (Rp - Rm) / (2 * h);
  NN_CHECK(nn_relerr(gv, fd, 1e-8) < 1e-7, "dropout: gradient %.12e vs difference %.12e", gv, fd);
  /* about half of the units are dropped */
  const uint8_t *mask = net->state->cache[2].mask;
  int            kept = 0;
  for (int i = 0; i < 48; i++) kept += mask[i];
  NN_CHECK(kept > 12 && kept < 36, "dropout 0.5 kept %d of 48", kept);
  PetscCall(PetscFree4(theta, grad, v, tp));
  PetscCall(net_destroy(&net));
  PetscFunctionReturn(0);
}

static PetscErrorCode lenet_with_bn_and_biases_gradient_matches_central_difference(void)
{
  Net net;
  PetscFunctionBeginUser;
  PetscCall(make_net("conv:4:5,bn,relu,pool:2,conv:6:5,bn,relu,pool:2,dense:12,bn,relu,dense:1", 1, 28, 28, 4, PETSC_TRUE,
                     LOSS_HINGE, 0.05, &net));
  PetscCall(check_gradient(net, 4, 1.0, 1e-7, "LeNet with BN and biases"));
  PetscCall(net_destroy(&net));
  PetscFunctionReturn(0);
}

/* Direct loops: out[oc, b, oh, ow] = b[oc] + sum W[oc, c, kh, kw] x[c, b, oh+kh-pad, ow+kw-pad]. */
static void conv_reference(const double *x, const double *W, const double *bias, PetscInt C, PetscInt B, PetscInt H,
                           PetscInt Wd, PetscInt OC, PetscInt K, PetscInt pad, double *out)
{
  PetscInt OH = H + 2 * pad - K + 1, OW = Wd + 2 * pad - K + 1;
  for (PetscInt oc = 0; oc < OC; oc++)
    for (PetscInt b = 0; b < B; b++)
      for (PetscInt oh = 0; oh < OH; oh++)
        for (PetscInt ow = 0; ow < OW; ow++) {
          double s = bias ? bias[oc] : 0;
          for (PetscInt c = 0; c < C; c++)
            for (PetscInt kh = 0; kh < K; kh++)
              for (PetscInt kw = 0; kw < K; kw++) {
                PetscInt ih = oh + kh - pad, iw = ow + kw - pad;
                if (ih >= 0 && ih < H && iw >= 0 && iw < Wd)
                  s += W[((oc * C + c) * K + kh) * K + kw] * x[((c * B + b) * H + ih) * Wd + iw];
              }
          out[((oc * B + b) * OH + oh) * OW + ow] = s;
        }
}

static PetscErrorCode conv_gemm_matches_direct_loops_with_and_without_chunking(void)
{
  const PetscInt C = 3, B = 5, H = 9, W = 8, OC = 4, K = 3, pad = 1;
  PetscFunctionBeginUser;
  for (int chunked = 0; chunked < 2; chunked++) {
    Net     net;
    double *theta, x[3 * 5 * 72], *out, ref[4 * 5 * 72];
    NnPass  p = {.B = B, .Bglobal = B, .batch_comm = PETSC_COMM_SELF};
    PetscCall(make_net("conv:4:3:1,flatten,dense:1", C, H, W, B, PETSC_TRUE, LOSS_SQUARED, chunked ? 1e-4 : 100, &net));
    Layer *L = &net->layers[0];
    NN_CHECK(conv_chunk(L, B) == (chunked ? 1 : B), "chunk %d", (int)conv_chunk(L, B));
    PetscCall(PetscMalloc1(net->N, &theta));
    PetscCall(net_init_params(net, theta));
    fill_normal(nn_rng_key(5, 5, 5), sizeof x / sizeof x[0], x, 1);
    /* feed the channel-major input directly to the conv layer */
    PetscCall(PetscMalloc1((size_t)OC * B * H * W, &out));
    PetscCall(layer_ops(L->kind)->forward(L, &p, theta, x, out));
    conv_reference(x, theta + L->woff, theta + L->boff, C, B, H, W, OC, K, pad, ref);
    for (PetscInt i = 0; i < OC * B * H * W; i++)
      NN_CHECK(fabs(out[i] - ref[i]) <= 1e-13 * (1 + fabs(ref[i])), "conv output %d: %.17g vs %.17g", (int)i, out[i], ref[i]);
    PetscCall(PetscFree(out));
    PetscCall(PetscFree(theta));
    PetscCall(net_destroy(&net));
  }
  PetscFunctionReturn(0);
}

/* Passes of nets with and without the conv layers' col(X) cache agree to
 * rounding, also after a second forward pass on other inputs (the cache must
 * follow the latest forward), for the gradient and the R-passes. */
static PetscErrorCode conv_col_cache_gives_the_same_passes(void)
{
  const PetscInt B = 5, F = 2 * 7 * 7;
  NnPass         p = {.B = B, .Bglobal = B, .batch_comm = PETSC_COMM_SELF};
  Net            net[2];
  double        *theta, *v, *g[2], *hv[2], x[2][5 * 98], dl[5], rd[5];
  PetscFunctionBeginUser;
  for (int c = 0; c < 2; c++) {
    PetscCall(net_create(PETSC_COMM_SELF, &net[c]));
    PetscCall(net_set_spec(net[c], "conv:3:3:1,relu,conv:4:3,tanh,pool:2,dense:1"));
    PetscCall(net_set_memory(net[c], 256, c ? 0 : 1)); /* the workspace's default */
    PetscCall(net_setup(net[c], 2, 7, 7, B));
    PetscCall(net_setup_tangents(net[c], 1));
  }
  NN_CHECK(net[0]->state->cache[0].col && net[0]->state->cache[2].col && !net[1]->state->cache[0].col, "col caches not as configured");
  const PetscInt N = net[0]->N;
  PetscCall(PetscMalloc6(N, &theta, N, &v, N, &g[0], N, &g[1], N, &hv[0], N, &hv[1]));
  PetscCall(net_init_params(net[0], theta));
  fill_normal(nn_rng_key(8, 1, 0), N, v, 1);
  fill_normal(nn_rng_key(8, 2, 0), (size_t)B * F, x[0], 1);
  fill_normal(nn_rng_key(8, 3, 0), (size_t)B * F, x[1], 1);
  fill_normal(nn_rng_key(8, 4, 0), B, dl, 1);
  fill_normal(nn_rng_key(8, 5, 0), B, rd, 1);
  for (int c = 0; c < 2; c++) {
    PetscCall(PetscArrayzero(g[c], N));
    PetscCall(PetscArrayzero(hv[c], N));
    PetscCall(net_forward(net[c], &p, theta, x[0], NULL));
    PetscCall(net_forward(net[c], &p, theta, x[1], NULL)); /* the passes below belong to x[1] */
    PetscCall(net_backward(net[c], &p, theta, dl, g[c]));
    PetscCall(net_rop_forward(net[c], &p, 1, theta, v, N));
    PetscCall(net_rop_backward(net[c], &p, 1, theta, v, N, rd, PETSC_TRUE, NULL, 0, hv[c], N));
  }
  for (PetscInt i = 0; i < N; i++) {
    NN_CHECK(fabs(g[0][i] - g[1][i]) <= 1e-13 * (1 + fabs(g[1][i])), "gradient %d: %.17g cached vs %.17g", (int)i, g[0][i], g[1][i]);
    NN_CHECK(fabs(hv[0][i] - hv[1][i]) <= 1e-13 * (1 + fabs(hv[1][i])), "R-pass %d: %.17g cached vs %.17g", (int)i, hv[0][i], hv[1][i]);
  }
  PetscCall(PetscFree6(theta, v, g[0], g[1], hv[0], hv[1]));
  for (int c = 0; c < 2; c++) PetscCall(net_destroy(&net[c]));
  PetscFunctionReturn(0);
}

/* The batch split across the ranks of PETSC_COMM_WORLD gives the same outputs
 * and (summed) gradients as one rank holding it, to rounding. */
static PetscErrorCode batchnorm_split_across_ranks_equals_whole_batch(void)
{
  const PetscInt B = 7, F = 2 * 6 * 6;
  PetscMPIInt    rank, size;
  Net            net;
  double        *theta, *gw, *gs, x[7 * 72], y[7], t[7], ts[7], dl[7];
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(make_net("conv:3:3,bn,relu,dense:4,bn,tanh,dense:1", 2, 6, 6, B, PETSC_TRUE, LOSS_SQUARED, 1, &net));
  PetscCall(PetscMalloc3(net->N, &theta, net->N, &gw, net->N, &gs));
  PetscCall(net_init_params(net, theta));
  fill_normal(nn_rng_key(9, 9, 9), (size_t)B * F, x, 1);
  for (int i = 0; i < B; i++) y[i] = i % 3 ? 1 : -1;
  /* whole batch on this rank */
  NnPass whole = {.B = B, .Bglobal = B, .batch_comm = PETSC_COMM_SELF};
  PetscCall(net_forward(net, &whole, theta, x, t));
  loss_eval(net->loss, B, 1, t, y, NULL, dl, NULL);
  PetscCall(PetscArrayzero(gw, net->N));
  PetscCall(net_backward(net, &whole, theta, dl, gw));
  /* this rank's contiguous slice, statistics over the world */
  PetscInt lo = B * rank / size, hi = B * (rank + 1) / size;
  NnPass   split = {.B = hi - lo, .Bglobal = B, .batch_comm = PETSC_COMM_WORLD};
  PetscCall(net_forward(net, &split, theta, x + lo * F, ts));
  loss_eval(net->loss, hi - lo, 1, ts, y + lo, NULL, dl, NULL);
  PetscCall(PetscArrayzero(gs, net->N));
  PetscCall(net_backward(net, &split, theta, dl, gs));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, gs, (int)net->N, MPI_DOUBLE, MPI_SUM, PETSC_COMM_WORLD));
  for (PetscInt i = lo; i < hi; i++)
    NN_CHECK(fabs(ts[i - lo] - t[i]) < 1e-13, "output %d: split %.17g whole %.17g", (int)i, ts[i - lo], t[i]);
  for (PetscInt i = 0; i < net->N; i++)
    NN_CHECK(fabs(gs[i] - gw[i]) <= 1e-12 * (1 + fabs(gw[i])), "gradient %d: split %.17g whole %.17g", (int)i, gs[i], gw[i]);
  PetscCall(PetscFree3(theta, gw, gs));
  PetscCall(net_destroy(&net));
  PetscFunctionReturn(0);
}

static PetscErrorCode presets_have_the_papers_shapes(void)
{
  Net  net;
  char spec[4096];
  PetscFunctionBeginUser;
  PetscCall(net_spec_expand_preset("lenet", spec, sizeof spec));
  PetscCall(make_net(spec, 1, 28, 28, 2, PETSC_TRUE, LOSS_HINGE, 1, &net));
  /* 32*25+32 + 64*32*25+64 + 512*1024+512 + 512+1 */
  NN_CHECK(net->N == 577409, "lenet has %d parameters", (int)net->N);
  PetscCall(net_destroy(&net));
  PetscCall(net_spec_expand_preset("lenet_paper", spec, sizeof spec));
  PetscCall(make_net(spec, 1, 28, 28, 2, PETSC_TRUE, LOSS_HINGE, 1, &net));
  /* App. G.2's 1,232,768 plus the output bias: conv2 padded by 2 gives 12x12 -> 6x6x64 = 2304 features,
     32*25+32 + 64*32*25+64 + 512*2304+512 + 512+1 */
  NN_CHECK(net->N == 1232769, "lenet_paper has %d parameters", (int)net->N);
  PetscCall(net_destroy(&net));
  PetscCall(net_spec_expand_preset("vgg12", spec, sizeof spec));
  PetscCall(make_net(spec, 3, 32, 32, 2, PETSC_TRUE, LOSS_HINGE, 1, &net));
  NN_CHECK(net->N == 8684865, "vgg12 has %d parameters", (int)net->N);
  PetscInt convs = 0, denses = 0;
  for (PetscInt l = 0; l < net->nlayers; l++) convs += net->layers[l].kind == LAYER_CONV, denses += net->layers[l].kind == LAYER_DENSE;
  NN_CHECK(convs == 10 && denses == 2, "vgg12 has %d conv and %d dense layers", (int)convs, (int)denses);
  PetscCall(net_destroy(&net));
  /* Fig. 3's net: vgg12 with every bn item removed and nothing else changed */
  char nobn[4096], *o = nobn;
  for (const char *p = spec; *p;)
    if (!strncmp(p, ",bn", 3) && (p[3] == ',' || !p[3])) p += 3;
    else *o++ = *p++;
  *o = 0;
  PetscCall(net_spec_expand_preset("vgg12_nobn_dropout", spec, sizeof spec));
  NN_CHECK(!strcmp(spec, nobn), "vgg12_nobn_dropout is \"%s\", not vgg12 without bn \"%s\"", spec, nobn);
  PetscFunctionReturn(0);
}

static PetscErrorCode expect_spec_error(const char *spec, PetscInt c, PetscInt h, PetscInt w, const char *needle)
{
  Net            net;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(net_create(PETSC_COMM_SELF, &net));
  PetscCall(net_set_spec(net, spec));
  ierr = net_setup(net, c, h, w, 2);
  NN_CHECK(ierr != 0, "layer string \"%s\" was accepted", spec);
  NN_CHECK(strstr(nn_error_last(), needle) && strstr(nn_error_last(), "-net_layers"),
           "layer string \"%s\": message \"%s\" lacks \"%s\"", spec, nn_error_last(), needle);
  nn_error_clear();
  PetscCall(net_destroy(&net));
  PetscFunctionReturn(0);
}

/* -net_outputs K: the last dense layer of a preset gets K outputs; a string that does not end with one is refused. */
static PetscErrorCode presets_take_k_outputs(void)
{
  char spec[NN_NET_SPEC_MAX];
  Net  net;
  PetscFunctionBeginUser;
  PetscCall(net_spec_expand_preset("lenet_small", spec, sizeof spec));
  PetscCall(net_spec_set_outputs(spec, sizeof spec, 10));
  NN_CHECK(!strcmp(spec, "conv:8:5,relu,pool:2,conv:16:5,relu,pool:2,dense:64,relu,dense:10"), "lenet_small with 10 outputs: %s", spec);
  PetscCall(make_net(spec, 1, 28, 28, 4, PETSC_TRUE, LOSS_CROSS_ENTROPY, 1, &net));
  NN_CHECK(net->K == 10, "K = %d", (int)net->K);
  PetscCall(net_destroy(&net));
  PetscCall(PetscStrncpy(spec, "dense:5,relu", sizeof spec));
  PetscCall(nn_expect_error(net_spec_set_outputs(spec, sizeof spec, 3), "-net_outputs on a string ending with relu", "must end with a dense layer", NULL, NULL));
  PetscFunctionReturn(0);
}

static PetscErrorCode layer_string_errors_are_reported(void)
{
  PetscFunctionBeginUser;
  PetscCall(expect_spec_error("conv:8:5,relu,blah,dense:1", 1, 28, 28, "unknown layer"));
  PetscCall(expect_spec_error("conv:8,dense:1", 1, 28, 28, "expected"));
  PetscCall(expect_spec_error("conv:0:3,dense:1", 1, 28, 28, "integer"));
  PetscCall(expect_spec_error("conv:2:3", 1, 28, 28, "as a flat layer"));
  PetscCall(expect_spec_error("flatten", 10, 1, 1, "leaves no layer"));
  PetscCall(expect_spec_error("conv:2:40,dense:1", 1, 28, 28, "window is larger"));
  PetscCall(expect_spec_error("dense:4,conv:2:3,dense:1", 1, 28, 28, "spatial"));
  PetscCall(expect_spec_error("dropout:1.5,dense:1", 4, 1, 1, "probability"));
  PetscCall(expect_spec_error("dense:4,,dense:1", 4, 1, 1, "empty item"));
  PetscCall(expect_spec_error("", 4, 1, 1, "empty"));
  PetscFunctionReturn(0);
}

NN_TEST_MAIN(NN_TEST_CASE(dense_gradient_matches_central_difference), NN_TEST_CASE(presets_take_k_outputs),
             NN_TEST_CASE(conv_gradient_matches_central_difference),
             NN_TEST_CASE(pool_gradient_matches_central_difference),
             NN_TEST_CASE(activations_gradient_matches_central_difference),
             NN_TEST_CASE(batchnorm_gradient_matches_central_difference),
             NN_TEST_CASE(losses_gradient_matches_central_difference), NN_TEST_CASE(losses_of_a_nan_output_are_nan),
             NN_TEST_CASE(dropout_gradient_matches_central_difference_with_fixed_mask),
             NN_TEST_CASE(lenet_with_bn_and_biases_gradient_matches_central_difference),
             NN_TEST_CASE(conv_gemm_matches_direct_loops_with_and_without_chunking),
             NN_TEST_CASE(conv_col_cache_gives_the_same_passes),
             NN_TEST_CASE(batchnorm_split_across_ranks_equals_whole_batch),
             NN_TEST_CASE(presets_have_the_papers_shapes), NN_TEST_CASE(layer_string_errors_are_reported))
