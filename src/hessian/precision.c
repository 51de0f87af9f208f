/* The precision of the Hessian's products (-hessian_precision). In double the
 * slice's passes run on the operator's own vectors. In single the network's
 * passes run in float32 (hessian_slice_passes_single, slice.c) and the
 * conversions happen here, at the network's boundary: theta once per point,
 * the directions once per pass, and the float products accumulated into the
 * double HV, which is what the reductions over batches and ranks, the Krylov
 * vectors and every statistic see. */
#include "hessianimpl.h"

#include <math.h>
#include <string.h>

const char *const HessianPrecisions[] = {"double", "single", "HessianPrecision", "HESSIAN_PRECISION_", NULL};

static PetscLogEvent ev_slice;

PetscErrorCode hessian_slice_register_events(PetscClassId cls)
{
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventRegister("NnHessianSlice", cls, &ev_slice));
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_set_precision(Hessian h, HessianPrecision precision)
{
  PetscFunctionBeginUser;
  PetscCheck(!h->hv, h->comm, PETSC_ERR_ORDER, "hessian_set_precision: call it before hessian_setup()");
  h->precision = precision;
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_get_precision(Hessian h, HessianPrecision *precision)
{
  PetscFunctionBeginUser;
  *precision = h->precision;
  PetscFunctionReturn(0);
}

/* The float buffers of single precision: theta, k directions and their products. */
PetscErrorCode hessian_precision_setup(Hessian h)
{
  const size_t n = (size_t)h->kmax * h->N;
  PetscFunctionBeginUser;
  if (h->precision == HESSIAN_PRECISION_DOUBLE) {
    PetscCall(net_setup_tangents(h->net, h->kmax));
    PetscFunctionReturn(0);
  }
  PetscCall(net_setup_tangents_single(h->net, h->kmax));
  PetscCall(PetscMalloc3(h->N, &h->theta_single, n, &h->v_single, n, &h->hv_single));
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_precision_destroy(Hessian h)
{
  PetscFunctionBeginUser;
  if (h->theta_single) PetscCall(PetscFree3(h->theta_single, h->v_single, h->hv_single));
  PetscFunctionReturn(0);
}

/* hv (k x N) <- 0 where the pass adds: the rows, or everywhere. */
static void zero_products(PetscInt k, PetscInt N, const PetscInt *rows, PetscInt nrows, float *hv)
{
  for (PetscInt j = 0; j < k && rows; j++)
    for (PetscInt r = 0; r < nrows; r++) hv[(size_t)j * N + rows[r]] = 0;
  if (!rows) memset(hv, 0, (size_t)k * N * sizeof *hv);
}

/* HV (k x N) += hv where the pass added: the rows, or everywhere. */
static void add_products(PetscInt k, PetscInt N, const PetscInt *rows, PetscInt nrows, const float *hv, double *HV)
{
  for (PetscInt j = 0; j < k && rows; j++)
    for (PetscInt r = 0; r < nrows; r++) HV[(size_t)j * N + rows[r]] += hv[(size_t)j * N + rows[r]];
  for (size_t e = 0; e < (size_t)k * N && !rows; e++) HV[e] += hv[e];
}

/* The single-precision product: theta converted once per point
 * (hessian_set_point marks it stale), V per pass, HV accumulated in double. */
static PetscErrorCode slice_apply_single(Hessian h, PetscInt s, HessianPart part, PetscInt k, const double *V, double scale,
                                         const PetscInt *rows, PetscInt nrows, double *HV)
{
  const PetscInt N = h->N;
  PetscFunctionBeginUser;
  if (!h->theta_single_ok)
    for (PetscInt i = 0; i < N; i++) h->theta_single[i] = (float)h->theta[i];
  h->theta_single_ok = PETSC_TRUE;
  for (size_t e = 0; e < (size_t)k * N; e++) h->v_single[e] = (float)V[e];
  zero_products(k, N, rows, nrows, h->hv_single);
  PetscCall(hessian_slice_passes_single(h, s, part, k, h->v_single, scale, rows, nrows, h->hv_single));
  add_products(k, N, rows, nrows, h->hv_single, HV);
  PetscFunctionReturn(0);
}

PetscErrorCode hessian_slice_apply(Hessian h, PetscInt s, HessianPart part, PetscInt k, const double *V, double scale,
                                   const PetscInt *rows, PetscInt nrows, double *HV)
{
  PetscFunctionBeginUser;
  PetscCheck(h->theta, h->comm, PETSC_ERR_ORDER, "hessian_set_point() was not called");
  PetscCall(PetscLogEventBegin(ev_slice, 0, 0, 0, 0));
  if (h->precision == HESSIAN_PRECISION_SINGLE) PetscCall(slice_apply_single(h, s, part, k, V, scale, rows, nrows, HV));
  else PetscCall(hessian_slice_passes(h, s, part, k, V, scale, rows, nrows, HV));
  if (++h->napplies == h->inject_nan && h->rank == 0)
    for (size_t e = 0; e < (size_t)k * h->N; e++) HV[e] = NAN;
  PetscCall(PetscLogEventEnd(ev_slice, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}
