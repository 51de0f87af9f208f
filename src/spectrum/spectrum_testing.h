/* Test-only seams of the spectrum: what the tests set up that no program
 * needs. Declared here, implemented in src/spectrum; tests include it instead
 * of writing the spectrum's private fields (tests/arch/check_layers.py). */
#ifndef NNCAS_SPECTRUM_TESTING_H
#define NNCAS_SPECTRUM_TESTING_H

#include "nncas/spectrum.h"

/* A known density, as if one Lanczos vector of m steps had given it, for
 * spectrum_statistics: the m Ritz values (lambda units) and their weights,
 * the normalization interval [lo, hi], the kernel width sigma on [-1, 1] and
 * the Lanczos estimates of the extremes. The density is on, its grid has the
 * points set before (spectrum_set_grid_size); the extremes are not computed. */
PetscErrorCode spectrum_testing_set_measure(Spectrum sp, PetscInt m, const double ritz[], const double weights[], double lo, double hi,
                                            double sigma, double est_min, double est_max);

#endif
