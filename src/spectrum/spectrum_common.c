/* What the spectrum's files share: the log events, the options read late,
 * the random vectors, the normalization interval and the density's arrays. */
#include "spectrumimpl.h"

PetscLogEvent spectrum_ev_extremes, spectrum_ev_density, spectrum_ev_trace;

PetscErrorCode spectrum_initialize_package(void)
{
  static PetscBool done;
  PetscClassId     cls;
  PetscFunctionBeginUser;
  if (done) PetscFunctionReturn(0);
  done = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("nncas spectrum", &cls));
  PetscCall(PetscLogEventRegister("NnSpecExtremes", cls, &spectrum_ev_extremes));
  PetscCall(PetscLogEventRegister("NnSpecLanczos", cls, &spectrum_ev_density));
  PetscCall(PetscLogEventRegister("NnSpecTrace", cls, &spectrum_ev_trace));
  PetscFunctionReturn(0);
}

const char *const *spectrum_options_read_later(void)
{
  /* EPSSetFromOptions and EPSSolve (extremes.c, no prefix) read -eps_*, and
   * through the solver's ST (with its KSP and PC), BV, DS and RG -st_*,
   * -bv_*, -ds_*, -rg_*, -fn_*; the small dense matrices SLEPc assembles
   * inside read -mat_* (MatAssemblyEnd: -mat_view); BVSetFromOptions of the
   * Lanczos basis reads -spectrum_bv_*. */
  static const char *const later[] = {"eps_", "st_", "bv_", "ds_", "rg_", "fn_", "mat_", SPECTRUM_BV_PREFIX "bv_", NULL};
  return later;
}

PetscErrorCode spectrum_random_vector(Spectrum s, uint64_t which, PetscBool rademacher, Vec v)
{
  PetscInt     lo, hi;
  PetscScalar *a;
  NnRngKey     key = nn_rng_key((uint64_t)s->seed, NN_STREAM_SPECTRUM, which);
  PetscFunctionBeginUser;
  PetscCall(VecGetOwnershipRange(v, &lo, &hi));
  PetscCall(VecGetArray(v, &a));
  for (PetscInt i = lo; i < hi; i++)
    a[i - lo] = rademacher ? (nn_rng_bits(key, (uint64_t)i) >> 63 ? 1.0 : -1.0) : nn_rng_normal(key, (uint64_t)i);
  PetscCall(VecRestoreArray(v, &a));
  if (!rademacher) PetscCall(VecNormalize(v, NULL));
  PetscFunctionReturn(0);
}

/* [lo, hi] = [l_min - kappa D, l_max + kappa D], D = l_max - l_min (App. G.1). */
void spectrum_set_interval(Spectrum s, const double *ritz, PetscInt m)
{
  double width;
  s->est_min = ritz[0];
  s->est_max = ritz[m - 1];
  width      = s->est_max - s->est_min;
  if (width <= 1e-14 * PetscMax(PetscAbsReal(s->est_max), PetscAbsReal(s->est_min))) width = PetscMax(PetscAbsReal(s->est_max), 1e-30);
  s->lo = s->est_min - s->margin * width;
  s->hi = s->est_max + s->margin * width;
}

PetscErrorCode spectrum_density_allocate(Spectrum s)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree3(s->grid, s->density, s->density_std));
  PetscCall(PetscFree3(s->ritz, s->weights, s->steps));
  PetscCall(PetscMalloc3(s->K, &s->grid, s->K, &s->density, s->K, &s->density_std));
  PetscCall(PetscCalloc3((size_t)s->nvec * s->M, &s->ritz, (size_t)s->nvec * s->M, &s->weights, s->nvec, &s->steps));
  PetscFunctionReturn(0);
}
