/* The Hessian operator: products against central differences of the gradient
 * for every layer type and loss, the Gauss-Newton split, layer blocks, and
 * (with the dense verification mode) symmetry, spectra and closed forms. */
#include "fixture.h"
#include "hessian/hessianimpl.h" /* white-box: the slices and their samples */
#include "net/layers.h"          /* white-box: the layers' activations (double state) */

#include <float.h>
#include <string.h>

/* Hash of every kink of the risk at theta (ReLU signs, pool arg-maxima, hinge
 * and absolute-loss activity), summed over the ranks: a central difference is
 * valid only where it does not change. */
static PetscErrorCode kink_pattern(HCase *hc, const double *theta, uint64_t *sig)
{
  Hessian        h = hc->h;
  const PetscInt F = hc->h->F;
  uint64_t       s = 1469598103934665603ULL;
  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < h->nslices; k++) {
    const HessianSlice *sl = &h->slices[k];
    NnPass              p  = {.B = sl->n, .Bglobal = sl->size, .batch_comm = sl->comm};
    double              t[256];
    PetscCheck(sl->n * h->K <= 256, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "kink_pattern: slice too large");
    PetscCall(net_forward(hc->net, &p, theta, h->x + (size_t)sl->first * F, t));
    for (PetscInt l = 0; l < hc->net->nlayers; l++) {
      const Layer *L = &hc->net->layers[l];
      if (L->kind == LAYER_ACT && L->act == ACT_RELU)
        for (PetscInt i = 0; i < sl->n * nn_shape_size(L->in); i++) s = (s ^ (hc->net->state->act[l][i] > 0)) * 1099511628211ULL;
      if (L->kind == LAYER_POOL)
        for (PetscInt i = 0; i < sl->n * nn_shape_size(L->out); i++) s = (s ^ (uint64_t)hc->net->state->cache[l].argmax[i]) * 1099511628211ULL;
    }
    for (PetscInt i = 0; i < sl->n && h->K == 1; i++) {
      double y = h->y[sl->first + i];
      s        = (s ^ (y * t[i] < 1)) * 1099511628211ULL;
      s        = (s ^ (t[i] > y)) * 1099511628211ULL;
    }
    for (PetscInt i = 0; i < sl->n && h->K > 1; i++) { /* multi_hinge: which margins are violated */
      const double *ti = t + i * h->K, ty = ti[(PetscInt)h->y[sl->first + i]];
      for (PetscInt k = 0; k < h->K; k++) s = (s ^ (1 - ty + ti[k] > 0)) * 1099511628211ULL;
    }
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &s, 1, MPI_UINT64_T, MPI_SUM, PETSC_COMM_WORLD));
  *sig = s;
  PetscFunctionReturn(0);
}

/* fd <- Richardson-extrapolated central difference of the gradient along v,
 *   D(h) = (g(theta + h v) - g(theta - h v)) / 2h,  fd = (4 D(h/2) - D(h)) / 3,
 * with the largest h in 1e-4, 1e-5, ... keeping the kink pattern (else *h = 0);
 * *floor_ is the rounding error of fd. */
static PetscErrorCode gradient_difference(HCase *hc, const double *v, double *fd, double *hstep, double *floor_)
{
  const PetscInt N = hc->N;
  double        *tp, *g[2][2], R, gmax = 0;
  uint64_t       s0, s;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc5(N, &tp, N, &g[0][0], N, &g[0][1], N, &g[1][0], N, &g[1][1]));
  PetscCall(kink_pattern(hc, hc->theta, &s0));
  for (*hstep = 1e-4; *hstep > 1e-9; *hstep /= 10) {
    PetscBool same = PETSC_TRUE;
    for (int k = 0; k < 2; k++)
      for (int sg = 0; sg < 2; sg++) {
        double hk = *hstep / (1 << k) * (sg ? -1 : 1);
        for (PetscInt i = 0; i < N; i++) tp[i] = hc->theta[i] + hk * v[i];
        PetscCall(hessian_set_point(hc->h, tp));
        PetscCall(hessian_risk(hc->h, &R, g[k][sg], NULL));
        PetscCall(kink_pattern(hc, tp, &s));
        same = same && s == s0;
      }
    PetscCall(hessian_set_point(hc->h, hc->theta));
    for (PetscInt i = 0; i < N; i++) {
      double D0 = (g[0][0][i] - g[0][1][i]) / (2 * *hstep), D1 = (g[1][0][i] - g[1][1][i]) / *hstep;
      fd[i]     = (4 * D1 - D0) / 3;
      gmax      = fmax(gmax, fabs(g[0][0][i]));
    }
    *floor_ = 64 * DBL_EPSILON * fmax(gmax, 1e-6) / *hstep;
    if (same) break;
  }
  if (*hstep <= 1e-9) *hstep = 0;
  PetscCall(PetscFree5(tp, g[0][0], g[0][1], g[1][0], g[1][1]));
  PetscFunctionReturn(0);
}

/* Hv by the operator against the central difference, for two directions. */
static PetscErrorCode check_hvp(const char *spec, NnLoss loss, PetscBool bias, PetscInt m, PetscInt batch)
{
  HCase   hc;
  double *v, *hv, *fd, h = 0, floor_ = 0, worst = 0;
  PetscFunctionBeginUser;
  PetscCall(hcase_create(PETSC_COMM_WORLD, (HCaseOpts){.spec = spec, .loss = loss, .nobias = !bias, .m = m, .batch = batch}, &hc));
  const PetscInt N = hc.N;
  PetscCall(PetscMalloc3(N, &v, N, &hv, N, &fd));
  for (int trial = 0; trial < 2; trial++) {
    fill_normal(nn_rng_key(3, 4, (uint64_t)trial), N, v);
    PetscCall(mat_apply_replicated(hc.H, v, N, hv));
    PetscCall(gradient_difference(&hc, v, fd, &h, &floor_));
    NN_CHECK(h > 0, "%s: no step keeps the kink pattern", spec);
    double diff = 0, scale = max_abs(N, hv);
    for (PetscInt i = 0; i < N; i++) diff = fmax(diff, fabs(hv[i] - fd[i]));
    NN_CHECK(scale > 0, "%s (%s): H v = 0", spec, NnLosses[loss]);
    NN_CHECK(diff <= 1e-7 * scale + floor_, "%s (%s, bias %d, batch %d): |Hv - difference| = %.3e, |Hv| = %.3e (h %g)", spec,
             NnLosses[loss], (int)bias, (int)batch, diff, scale, h);
    worst = fmax(worst, diff / scale);
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     %-52s %-8s relative error %.1e\n", spec, NnLosses[loss], worst));
  PetscCall(PetscFree3(v, hv, fd));
  PetscCall(hcase_destroy(&hc));
  PetscFunctionReturn(0);
}

static PetscErrorCode hvp_matches_central_difference_of_gradient(void)
{
  PetscFunctionBeginUser;
  PetscCall(check_hvp("dense:6,tanh,dense:5,swish,dense:1", LOSS_SQUARED, PETSC_TRUE, 10, 0));
  PetscCall(check_hvp("dense:6,sigmoid,dense:1", LOSS_LOGISTIC, PETSC_FALSE, 10, 0));
  PetscCall(check_hvp("conv:3:3,relu,pool:2,dense:4,relu,dense:1", LOSS_HINGE, PETSC_TRUE, 10, 5));
  PetscCall(check_hvp("conv:3:3,relu,pool:2,dense:4,relu,dense:1", LOSS_HINGE, PETSC_FALSE, 9, 3));
  PetscCall(check_hvp("conv:3:3:1,bn,swish,pool:2,dense:5,bn,tanh,dense:1", LOSS_LOGISTIC, PETSC_TRUE, 12, 6));
  PetscCall(check_hvp("conv:3:3:1,bn,swish,pool:2,dense:5,bn,tanh,dense:1", LOSS_SQUARED, PETSC_FALSE, 12, 0));
  PetscCall(check_hvp("conv:2:3,bn,relu,dense:1", LOSS_ABSOLUTE, PETSC_TRUE, 8, 0));
  PetscCall(check_hvp("dense:6,tanh,dropout:0.5,dense:3,sigmoid,dense:1", LOSS_SQUARED, PETSC_TRUE, 8, 4));
  PetscCall(check_hvp("swish,conv:3:3,tanh,dense:1", LOSS_LOGISTIC, PETSC_TRUE, 8, 0)); /* no weights below layer 1 */
  PetscFunctionReturn(0);
}

/* The same for K outputs: softmax cross-entropy (a full K x K output Hessian)
 * and the multi-class hinge (zero output Hessian), with batch statistics. */
static PetscErrorCode hvp_matches_central_difference_for_multiclass_losses(void)
{
  PetscFunctionBeginUser;
  PetscCall(check_hvp("conv:3:3:1,bn,tanh,pool:2,dense:5,swish,dense:4", LOSS_CROSS_ENTROPY, PETSC_TRUE, 12, 6));
  PetscCall(check_hvp("dense:6,tanh,dense:3", LOSS_CROSS_ENTROPY, PETSC_FALSE, 10, 0));
  PetscCall(check_hvp("conv:3:3,tanh,dense:5,bn,sigmoid,dense:3", LOSS_MULTI_HINGE, PETSC_TRUE, 12, 4));
  PetscFunctionReturn(0);
}

/* G v + (H - G) v = H v, and G v = J^T diag(l''/m) J v built from the rows
 * J_i = dT_i/dtheta (one backward pass per sample). */
static PetscErrorCode gauss_newton_split_is_exact(void)
{
  HCase       hc;
  PetscMPIInt size;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(hcase_create(PETSC_COMM_WORLD, (HCaseOpts){.spec = "conv:3:3,bn,tanh,dense:4,swish,dense:1", .loss = LOSS_LOGISTIC, .m = 12, .batch = 4}, &hc));
  const PetscInt N = hc.N, F = hc.h->F;
  double        *v, *hv, *gv, *rv, *ref, *J, t[16], dl[16], d2l[16], e[16];
  PetscCall(PetscMalloc6(N, &v, N, &hv, N, &gv, N, &rv, N, &ref, N, &J));
  fill_normal(nn_rng_key(5, 5, 5), N, v);
  PetscCall(mat_apply_replicated(hc.H, v, N, hv));
  PetscCall(mat_apply_replicated(hc.h->G, v, N, gv));
  PetscCall(mat_apply_replicated(hc.h->Rm, v, N, rv));
  for (PetscInt i = 0; i < N; i++) NN_CHECK(fabs(gv[i] + rv[i] - hv[i]) <= 1e-13 * max_abs(N, hv), "G + (H-G) != H at %d", (int)i);
  /* explicit J^T diag(l''/m) J v over the local whole batches */
  PetscCall(PetscArrayzero(ref, N));
  for (PetscInt s = 0; s < hc.h->nslices; s++) {
    const HessianSlice *sl = &hc.h->slices[s];
    NnPass              p  = {.B = sl->n, .Bglobal = sl->size, .batch_comm = sl->comm};
    PetscCall(net_forward(hc.net, &p, hc.theta, hc.h->x + (size_t)sl->first * F, t));
    loss_eval(hc.h->loss, sl->n, 1, t, hc.h->y + sl->first, NULL, dl, d2l);
    for (PetscInt i = 0; i < sl->n; i++) {
      PetscCall(PetscArrayzero(e, sl->n));
      e[i] = 1;
      PetscCall(PetscArrayzero(J, N));
      PetscCall(net_forward(hc.net, &p, hc.theta, hc.h->x + (size_t)sl->first * F, t));
      PetscCall(net_backward(hc.net, &p, hc.theta, e, J)); /* J_i */
      double Jv = 0;
      for (PetscInt q = 0; q < N; q++) Jv += J[q] * v[q];
      for (PetscInt q = 0; q < N; q++) ref[q] += d2l[i] / hc.h->nsamples * Jv * J[q];
    }
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, ref, (int)N, MPI_DOUBLE, MPI_SUM, PETSC_COMM_WORLD));
  double err = 0;
  for (PetscInt i = 0; i < N; i++) err = fmax(err, fabs(gv[i] - ref[i]));
  NN_CHECK(err <= 1e-12 * max_abs(N, ref), "G v differs from J^T diag(l''/m) J v by %.3e (scale %.3e)", err, max_abs(N, ref));
  PetscCall(PetscFree6(v, hv, gv, rv, ref, J));
  PetscCall(hcase_destroy(&hc));
  (void)size;
  PetscFunctionReturn(0);
}

static PetscErrorCode hinge_loss_has_no_gauss_newton_part(void)
{
  HCase hc;
  PetscFunctionBeginUser;
  PetscCall(hcase_create(PETSC_COMM_WORLD, (HCaseOpts){.spec = "dense:5,relu,dense:4,relu,dense:1", .loss = LOSS_HINGE, .m = 10, .batch = 0}, &hc));
  const PetscInt N = hc.N;
  double        *v, *gv, *hv;
  PetscCall(PetscMalloc3(N, &v, N, &gv, N, &hv));
  fill_normal(nn_rng_key(6, 6, 6), N, v);
  PetscCall(mat_apply_replicated(hc.h->G, v, N, gv));
  PetscCall(mat_apply_replicated(hc.H, v, N, hv));
  NN_CHECK(max_abs(N, gv) == 0, "hinge: G v has entries up to %.3e", max_abs(N, gv));
  NN_CHECK(max_abs(N, hv) > 0, "hinge: H v = 0 (no sample on the loss's linear side?)");
  PetscCall(PetscFree3(v, gv, hv));
  PetscCall(hcase_destroy(&hc));
  PetscFunctionReturn(0);
}

/* H_pq x = (H [0; x in layer q; 0]) restricted to layer p. */
static PetscErrorCode layer_block_is_the_restriction_of_H(void)
{
  HCase hc;
  PetscFunctionBeginUser;
  PetscCall(hcase_create(PETSC_COMM_WORLD, (HCaseOpts){.spec = "dense:5,tanh,dense:4,relu,dense:1", .loss = LOSS_SQUARED, .m = 10, .batch = 0}, &hc));
  const PetscInt N = hc.N;
  double        *v, *hv, *bx;
  PetscCall(PetscMalloc3(N, &v, N, &hv, N, &bx));
  for (PetscInt p = 1; p <= 3; p++)
    for (PetscInt q = 1; q <= 3; q++) {
      Mat      A;
      PetscInt po, pn, qo, qn;
      PetscCall(hessian_layer_range(hc.h, p, &po, &pn));
      PetscCall(hessian_layer_range(hc.h, q, &qo, &qn));
      PetscCall(PetscArrayzero(v, N));
      fill_normal(nn_rng_key(8, (uint64_t)p, (uint64_t)q), qn, v + qo);
      PetscCall(mat_apply_replicated(hc.H, v, N, hv));
      PetscCall(hessian_block_create(hc.h, p, q, &A));
      PetscCall(mat_apply_replicated(A, v + qo, pn, bx));
      for (PetscInt i = 0; i < pn; i++)
        NN_CHECK(fabs(bx[i] - hv[po + i]) <= 1e-14 * (1 + max_abs(N, hv)), "H_%d%d entry %d: %.17g vs %.17g", (int)p, (int)q, (int)i,
                 bx[i], hv[po + i]);
      PetscCall(MatDestroy(&A));
    }
  PetscCall(PetscFree3(v, hv, bx));
  PetscCall(hcase_destroy(&hc));
  PetscFunctionReturn(0);
}

/* Columns H_b e_j of the per-batch Hessians, summed with weights |b|/m, give H e_j. */
static PetscErrorCode batch_columns_sum_to_hessian_columns(void)
{
  HCase hc;
  PetscFunctionBeginUser;
  PetscCall(hcase_create(PETSC_COMM_WORLD, (HCaseOpts){.spec = "conv:2:3,bn,relu,dense:3,tanh,dense:1", .loss = LOSS_LOGISTIC, .m = 12, .batch = 4}, &hc));
  const PetscInt N = hc.N, cols[3] = {0, N / 2, N - 1};
  double        *col, *sum, *v, *ref;
  PetscCall(PetscMalloc4(3 * N, &col, 3 * N, &sum, N, &v, N, &ref));
  PetscCall(PetscArrayzero(sum, 3 * N));
  for (PetscInt s = 0; s < hc.h->nslices; s++) {
    PetscCall(hessian_batch_columns(hc.h, s, 3, cols, col));
    for (PetscInt i = 0; i < 3 * N; i++) sum[i] += col[i] * hc.h->slices[s].size / hc.h->nsamples;
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sum, (int)(3 * N), MPI_DOUBLE, MPI_SUM, PETSC_COMM_WORLD));
  for (int c = 0; c < 3; c++) {
    PetscCall(PetscArrayzero(v, N));
    v[cols[c]] = 1;
    PetscCall(mat_apply_replicated(hc.H, v, N, ref));
    for (PetscInt i = 0; i < N; i++)
      NN_CHECK(fabs(sum[c * N + i] - ref[i]) <= 1e-13 * (1 + max_abs(N, ref)), "column %d entry %d: %.17g vs %.17g", (int)cols[c],
               (int)i, sum[c * N + i], ref[i]);
  }
  PetscCall(PetscFree4(col, sum, v, ref));
  PetscCall(hcase_destroy(&hc));
  PetscFunctionReturn(0);
}

/* A net with every kind of parameter layer: a padded and an unpadded
 * convolution, batch normalization, pooling and two dense layers. */
static const char *const sparse_spec = "conv:3:3:1,bn,relu,pool:2,conv:2:3,relu,dense:4,tanh,dense:1";

/* Theta indices spread over every layer: each one's first and last weight
 * and bias, and a few inside (taps with kh != kw in a 3x3 kernel). */
static PetscInt spread_indices(Net net, PetscInt nmax, PetscInt *idx)
{
  PetscInt ng, n = 0;
  net_get_num_param_groups(net, &ng);
  for (PetscInt g = 0; g < ng; g++) {
    NnParamGroup pg;
    net_get_param_group(net, g, &pg);
    const PetscInt cand[6] = {pg.woff, pg.woff + 5 % pg.nw, pg.woff + (pg.nw / 2 + 1) % pg.nw, pg.woff + pg.nw - 1, pg.boff, pg.boff + pg.nbias - 1};
    for (int c = 0; c < 6 && n < nmax; c++)
      if (c < 4 || pg.nbias) idx[n++] = cand[c];
  }
  return n;
}

/* A unit direction e_j takes the sparse path (its own terms entry by entry);
 * in one pass with dense directions, H e_j = H (v + e_j) - H v, the latter
 * two by GEMMs. With and without biases. */
static PetscErrorCode unit_directions_match_dense_directions(void)
{
  PetscFunctionBeginUser;
  for (int nobias = 0; nobias < 2; nobias++) {
    HCase hc;
    PetscCall(hcase_create(PETSC_COMM_WORLD, (HCaseOpts){.spec = sparse_spec, .loss = LOSS_LOGISTIC, .nobias = (PetscBool)nobias, .m = 12, .batch = 4, .shape = "2,8,8"}, &hc));
    const PetscInt N = hc.N;
    PetscInt       cols[32], nc = spread_indices(hc.net, 32, cols);
    double        *V, *HV;
    PetscCall(PetscMalloc2(3 * N, &V, 3 * N, &HV));
    for (PetscInt c = 0; c < nc; c++) {
      PetscCall(PetscArrayzero(V, 3 * N));
      fill_normal(nn_rng_key(9, NN_STREAM_TEST, (uint64_t)c), N, V + N); /* v + e_j, then v */
      PetscCall(PetscArraycpy(V + 2 * N, V + N, N));
      V[cols[c]] = 1, V[N + cols[c]] += 1;
      PetscCall(PetscArrayzero(HV, 3 * N));
      PetscCall(hessian_apply_local(hc.h, HESSIAN_FULL, 3, V, HV));
      PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, HV, (int)(3 * N), MPI_DOUBLE, MPI_SUM, PETSC_COMM_WORLD));
      const double scale = 1 + max_abs(N, HV) + max_abs(N, HV + N);
      for (PetscInt i = 0; i < N; i++)
        NN_CHECK(fabs(HV[i] - (HV[N + i] - HV[2 * N + i])) <= 1e-13 * scale, "bias %d, column %d, entry %d: %.17g vs %.17g", nobias,
                 (int)cols[c], (int)i, HV[i], HV[N + i] - HV[2 * N + i]);
    }
    PetscCall(PetscFree2(V, HV));
    PetscCall(hcase_destroy(&hc));
  }
  PetscFunctionReturn(0);
}

/* hessian_batch_entries (columns sorted into blocks, only the wanted rows,
 * the R-backward stopped at the lowest of them) equals the entries read off
 * the full columns H_b e_j; rows and columns unsorted, with a repeat. */
static PetscErrorCode batch_entries_equal_full_columns(void)
{
  HCase hc;
  PetscFunctionBeginUser;
  PetscCall(hcase_create(PETSC_COMM_WORLD, (HCaseOpts){.spec = sparse_spec, .loss = LOSS_LOGISTIC, .m = 12, .batch = 4, .shape = "2,8,8", .kmax = 4}, &hc));
  const PetscInt N = hc.N;
  PetscInt       idx[32], n = spread_indices(hc.net, 32, idx), rows[4][8], cols[9];
  double        *full, ent[8 * 9];
  for (PetscInt q = 0; q < 9; q++) cols[q] = idx[(7 * q + 3) % n]; /* unsorted, across layers */
  cols[8] = cols[2];                                               /* a repeat */
  for (PetscInt p = 0; p < 8; p++) {
    rows[0][p] = idx[(5 * p + 1) % n];     /* across layers */
    rows[1][p] = idx[n - 1 - p % 3];       /* the top layer only: the backward stops there */
    rows[2][p] = idx[p % 2] + p / 2;       /* the lowest layer and its neighbours */
    rows[3][p] = idx[(3 * p) % n];
  }
  rows[3][7] = rows[3][0]; /* a repeated row */
  PetscCall(PetscMalloc1(9 * N, &full));
  for (PetscInt s = 0; s < hc.h->nslices; s++) {
    PetscCall(hessian_batch_columns(hc.h, s, 9, cols, full));
    for (int r = 0; r < 4; r++) {
      PetscCall(hessian_batch_entries(hc.h, s, 8, rows[r], 9, cols, ent));
      for (PetscInt p = 0; p < 8; p++)
        for (PetscInt q = 0; q < 9; q++) {
          const double ref = full[q * N + rows[r][p]];
          NN_CHECK(fabs(ent[p * 9 + q] - ref) <= 1e-13 * (1 + max_abs(9 * N, full)), "set %d, H_b[%d, %d]: %.17g vs %.17g", r,
                   (int)rows[r][p], (int)cols[q], ent[p * 9 + q], ref);
        }
    }
  }
  PetscCall(PetscFree(full));
  PetscCall(hcase_destroy(&hc));
  PetscFunctionReturn(0);
}

/* y <- H v with the first-order pass reused or not; counts the net's passes. */
static PetscErrorCode hvp_reuse(HCase *hc, PetscBool reuse, const double *v, double *y, unsigned long long *passes)
{
  unsigned long long g0, g1;
  PetscFunctionBeginUser;
  PetscCall(net_get_pass_count(hc->net, &g0));
  PetscCall(hessian_set_reuse_forward(hc->h, reuse));
  PetscCall(mat_apply_replicated(hc->H, v, hc->N, y));
  PetscCall(net_get_pass_count(hc->net, &g1));
  *passes = g1 - g0;
  PetscFunctionReturn(0);
}

static PetscBool same_bits(PetscInt n, const double *a, const double *b) { return memcmp(a, b, (size_t)n * sizeof *a) ? PETSC_FALSE : PETSC_TRUE; }

/* Products at one point reuse the forward and first-order backward pass and
 * equal, bit for bit, products that redo it; a new point (even at the same
 * address) or any other pass through the net in between is noticed. */
static PetscErrorCode reused_forward_pass_is_exact_and_invalidated(void)
{
  HCase              hc;
  unsigned long long passes;
  PetscFunctionBeginUser;
  PetscCall(hcase_create(PETSC_COMM_WORLD, (HCaseOpts){.spec = "conv:3:3:1,bn,relu,pool:2,dense:5,bn,tanh,dense:1", .loss = LOSS_LOGISTIC, .m = 12}, &hc));
  const PetscInt N = hc.N;
  double        *v1, *v2, *y[6];
  PetscCall(PetscMalloc2(N, &v1, N, &v2));
  for (int k = 0; k < 6; k++) PetscCall(PetscMalloc1(N, &y[k]));
  fill_normal(nn_rng_key(7, NN_STREAM_TEST, 0), N, v1);
  fill_normal(nn_rng_key(7, NN_STREAM_TEST, 1), N, v2);
  PetscCall(hvp_reuse(&hc, PETSC_TRUE, v1, y[0], &passes));
  NN_CHECK(passes == 2, "first product: %llu passes through the net, expected forward and backward", passes);
  PetscCall(hvp_reuse(&hc, PETSC_TRUE, v2, y[1], &passes));
  NN_CHECK(passes == 0, "second product at the same point: %llu passes, expected none", passes);
  PetscCall(hvp_reuse(&hc, PETSC_FALSE, v2, y[2], &passes));
  NN_CHECK(passes == 2 && same_bits(N, y[1], y[2]), "reused and recomputed products differ");
  PetscCall(hessian_risk(hc.h, NULL, NULL, NULL)); /* another pass through the net */
  PetscCall(hvp_reuse(&hc, PETSC_TRUE, v1, y[3], &passes));
  NN_CHECK(passes == 2 && same_bits(N, y[0], y[3]), "after another pass: %llu passes, or a different product", passes);
  for (PetscInt i = 0; i < N; i++) hc.theta[i] *= 1.25; /* new values at the same address */
  PetscCall(hessian_set_point(hc.h, hc.theta));
  PetscCall(hvp_reuse(&hc, PETSC_TRUE, v1, y[4], &passes));
  PetscCall(hvp_reuse(&hc, PETSC_FALSE, v1, y[5], &passes));
  NN_CHECK(same_bits(N, y[4], y[5]) && !same_bits(N, y[4], y[0]), "a new point at the same address was not noticed");
  for (int k = 0; k < 6; k++) PetscCall(PetscFree(y[k]));
  PetscCall(PetscFree2(v1, v2));
  PetscCall(hcase_destroy(&hc));
  PetscFunctionReturn(0);
}

NN_TEST_MAIN(NN_TEST_CASE(hvp_matches_central_difference_of_gradient), NN_TEST_CASE(hvp_matches_central_difference_for_multiclass_losses),
             NN_TEST_CASE(gauss_newton_split_is_exact),
             NN_TEST_CASE(hinge_loss_has_no_gauss_newton_part), NN_TEST_CASE(layer_block_is_the_restriction_of_H),
             NN_TEST_CASE(batch_columns_sum_to_hessian_columns), NN_TEST_CASE(unit_directions_match_dense_directions),
             NN_TEST_CASE(batch_entries_equal_full_columns), NN_TEST_CASE(reused_forward_pass_is_exact_and_invalidated))
