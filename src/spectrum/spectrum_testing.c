/* The spectrum's test-only seams (spectrum_testing.h). */
#include "spectrumimpl.h"
#include "spectrum_testing.h"

PetscErrorCode spectrum_testing_set_measure(Spectrum s, PetscInt m, const double ritz[], const double weights[], double lo, double hi,
                                            double sigma, double est_min, double est_max)
{
  PetscFunctionBeginUser;
  PetscCheck(m > 0 && lo < hi && sigma > 0, s->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "spectrum_testing_set_measure: needs m > 0 Ritz values, lo < hi and sigma > 0");
  s->nvec       = 1;
  s->M          = m;
  s->do_density = PETSC_TRUE;
  PetscCall(spectrum_density_allocate(s));
  PetscCall(PetscArraycpy(s->ritz, ritz, m));
  PetscCall(PetscArraycpy(s->weights, weights, m));
  s->steps[0] = m;
  s->lo       = lo;
  s->hi       = hi;
  s->sigma    = sigma;
  s->est_min  = est_min;
  s->est_max  = est_max;
  PetscFunctionReturn(0);
}
