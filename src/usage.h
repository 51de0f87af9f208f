/* What nncas says about itself (src/usage.c): which mode the command line
 * asks for, the short help, and the versions of nncas and its libraries. */
#ifndef NNCAS_USAGE_H
#define NNCAS_USAGE_H

#include "nncas/core.h"

typedef enum {
  NN_USAGE_RUN,        /* train and measure */
  NN_USAGE_HELP,       /* -help, -h, --help: nncas's own options, by component, and exit */
  NN_USAGE_HELP_PETSC, /* -help all: PETSc's -help (PETSc's and SLEPc's options first), and exit */
  NN_USAGE_VERSION     /* -version, --version: the versions, and exit */
} NnUsage;

/* The first lines of either help. */
extern const char nn_usage_intro[];

/* Before PETSc starts: the mode argv asks for. Takes -h, --help, -help (with
 * a value such as "true"), -version and --version off argv, and "all" after
 * -help, so that PETSc sees -help only for -help all: PETSc 3.18 ignores -h
 * and --help, refuses "-help all", and prints its own long help (and
 * version) for -help and -version. "-help intro" is left to PETSc (its
 * introduction, then exit). */
NnUsage nn_usage_mode(int *argc, char **argv);
/* Rank 0 prints the short help: the intro, every recorded option by
 * component with its default and description (not the "testing:" ones), the
 * presets of -net_preset, and where PETSc's own options are. */
PetscErrorCode nn_usage_help(const NnOptionRecords *known);
/* Rank 0 prints the versions of nncas (and its git hash), PETSc, SLEPc,
 * HDF5, MPI (the first line of MPI_Get_library_version) and the BLAS. */
PetscErrorCode nn_usage_version(void);

#endif
