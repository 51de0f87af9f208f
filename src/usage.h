/* What nncas says about itself (src/usage.c): the short help and the
 * versions of nncas and its libraries; the mode of the command line is
 * nn_initialize's (include/nncas/init.h). */
#ifndef NNCAS_USAGE_H
#define NNCAS_USAGE_H

#include "nncas/init.h" /* NnUsage, nn_usage_mode */

/* The first lines of either help. */
extern const char nn_usage_intro[];

/* Rank 0 prints the short help: the intro, every recorded option by
 * component with its default and description (not the "testing:" ones), the
 * presets of -net_preset, and where PETSc's own options are. */
PetscErrorCode nn_usage_help(const NnOptionRecords *known);
/* Rank 0 prints the versions of nncas (and its git hash), PETSc, SLEPc,
 * HDF5, MPI (the first line of MPI_Get_library_version) and the BLAS. */
PetscErrorCode nn_usage_version(void);

#endif
