/* The Hessian's product on one slice by the network's passes, written once
 * and compiled once per precision (include/nncas/real.h): hessian_slice_passes
 * runs the double passes at h->theta, hessian_slice_passes_single the float
 * ones at h->theta_single. The loss and its derivatives stay double in both. */
#include "hessianimpl.h"
#include "nncas/real.h"

/* HV (k x N) += scale * part * V on slice s, for the k directions V (k x N)
 * (with rows, only those entries of HV; see net_rop_backward):
 *   forward, first-order backward keeping each layer's output gradient
 *   (dR/dT_i = scale l'_i), R-forward (RT = J V), and the R-backward with
 *   R{dR/dT} = scale l''_i RT_i, l''_i the K x K output Hessian of sample i
 *   (zero for the remainder H - G); the Gauss-Newton part drops the
 *   first-order terms, leaving J^T (scale l'') J V. */
PetscErrorCode hessian_slice_passes(Hessian h, PetscInt s, HessianPart part, PetscInt k, const nn_real *V, double scale,
                                          const PetscInt *rows, PetscInt nrows, nn_real *HV)
{
  const HessianSlice *sl = &h->slices[s];
  const PetscInt      N = h->N, F = h->F, B = sl->n;
#ifdef NN_SINGLE
  const nn_real *theta = h->theta_single;
#else
  const nn_real *theta = h->theta;
#endif
  NnPass              p = {.B = B, .Bglobal = sl->size, .batch_comm = sl->comm, .train = PETSC_FALSE};
  unsigned long long  passes;
  const nn_real      *RT;
  PetscFunctionBeginUser;
  PetscCall(net_get_pass_count(h->net, &passes));
  /* The first-order pass depends on the point, the slice and the scale only:
   * between products at one point (a Krylov solve) it is still in the net's
   * buffers unless another pass (any net_forward/net_backward) came between. */
  if (!(h->reuse && h->cache_ok && h->cache_slice == s && h->cache_scale == scale && h->cache_gen == passes)) {
    PetscCall(net_forward(h->net, &p, theta, h->x + (size_t)sl->first * F, h->t));
    loss_eval(h->loss, B, h->K, h->t, h->y + sl->first, NULL, h->dl, h->d2l);
    for (PetscInt e = 0; e < B * h->K; e++) h->dl[e] *= scale;
    PetscCall(net_backward(h->net, &p, theta, h->dl, NULL));
    h->cache_ok    = PETSC_TRUE;
    h->cache_slice = s;
    h->cache_scale = scale;
    PetscCall(net_get_pass_count(h->net, &h->cache_gen));
  }
  PetscCall(net_rop_forward(h->net, &p, k, theta, V, N));
  PetscCall(net_get_output_tangents(h->net, &RT));
  if (part == HESSIAN_REMAINDER) PetscCall(PetscArrayzero(h->rdt, (size_t)k * B * h->K));
  else {
    for (size_t e = 0; e < (size_t)k * B * h->K; e++) h->rt[e] = RT[e];
    loss_output_hessian(h->loss, B, h->K, h->d2l, k, h->rt, scale, h->rdt); /* R{dR/dT} = scale l'' RT */
  }
  PetscCall(net_rop_backward(h->net, &p, k, theta, V, N, h->rdt, part != HESSIAN_GAUSS_NEWTON, rows, nrows, HV, N));
  PetscFunctionReturn(0);
}
