/* The one entry point of nncas's programs (src/init/init.c): nncas itself,
 * the test programs, the benchmarks and the helpers all start and end here.
 *
 *   int main(int argc, char **argv)
 *   {
 *     PetscErrorCode ierr;
 *     if (nn_initialize(&argc, &argv, NULL, NULL)) return NN_EXIT_ERROR;
 *     ierr = work();
 *     return nn_finalize(ierr, NN_EXIT_OK);
 *   }
 *
 * The exit status is decided in nn_finalize: the work's own status
 * (NN_EXIT_OK, NN_EXIT_PREEMPTED, NN_EXIT_DIVERGED, include/nncas/core.h)
 * when it succeeded, NN_EXIT_ERROR when it or the finalization failed. */
#ifndef NNCAS_INIT_H
#define NNCAS_INIT_H

#include "nncas/core.h"

/* The mode nncas's command line asks for. */
typedef enum {
  NN_USAGE_RUN,        /* train and measure */
  NN_USAGE_HELP,       /* -help, -h, --help: nncas's own options, by component, and exit */
  NN_USAGE_HELP_PETSC, /* -help all (or -help in an options file or PETSC_OPTIONS): PETSc's -help, and exit */
  NN_USAGE_VERSION     /* -version, --version: the versions, and exit */
} NnUsage;

/* Starts a program, in this order: the OpenBLAS kernels for this CPU
 * (nn_blas_select, which may execute the program again with argv), every
 * -options_file readable (else one "nncas: error:" line), MPI, PETSc and
 * SLEPc (help: the intro of PETSc's -help, or NULL), the one-line error
 * handler (nn_error_handler_push), and the HDF5 layer (nn_h5_init).
 * usage NULL: a helper program (test, benchmark): PETSc handles -help and
 * -version, and stop signals keep their default action. usage not NULL: the
 * program is nncas: *usage is the mode of the command line, whose -help,
 * -h, --help and -version are taken off argv before PETSc sees them
 * (nn_usage_mode); SIGTERM, SIGINT and SIGUSR1 are held from the start and
 * then set the flag the stages poll (nn_signals_block, nn_signals_install);
 * nn_finalize warns about the options a run never read. Returns 0, or
 * nonzero after printing why, when the program must exit NN_EXIT_ERROR. */
int nn_initialize(int *argc, char ***argv, const char help[], NnUsage *usage);

/* Ends a program started by nn_initialize, and returns its exit status.
 * ierr: the first error of its work (0 if none). On an error: the one line
 * of it, all ranks waiting at most 10 s for each other (nn_error_exit), then
 * PETSc ends; NN_EXIT_ERROR. Otherwise: under nncas's run mode a warning for
 * every option given but never read (nn_options_warn_unused), then PETSc
 * ends; status, or NN_EXIT_ERROR if finalizing failed. */
int nn_finalize(PetscErrorCode ierr, int status);

/* Before PETSc starts: the mode argv asks for. Takes -h, --help, -help (with
 * a value such as "true"), -version and --version off argv, and "all" after
 * -help, so that PETSc sees -help only for -help all: PETSc 3.18 ignores -h
 * and --help, refuses "-help all", and prints its own long help (and
 * version) for -help and -version. "-help intro" is left to PETSc (its
 * introduction, then exit). */
NnUsage nn_usage_mode(int *argc, char **argv);

#endif
