/* The start and the end of every nncas program (include/nncas/init.h).
 *
 * What must come before MPI starts comes first: OpenBLAS's kernels are
 * chosen when the library loads, so a better choice means executing the
 * program again (core/blas.c); a stop signal during start-up must be held,
 * not kill the job (core/signals.c); nncas's -help and -version must leave
 * argv before PETSc reads them; an unreadable options file would otherwise
 * get PETSc's traceback. Then PETSc and SLEPc, the one-line errors
 * (core/error.c) and the HDF5 layer (io: HDF5's own error printing off, the
 * Open MPI workaround set before any MPI file opens, -io_inject_enospc read
 * before nncas looks for unknown options). */
#include "nncas/init.h"

#include "nncas/h5io.h"

#include <ctype.h>
#include <slepcsys.h>
#include <string.h>
#include <strings.h>

/* Set by nn_initialize for nncas's run mode: nn_finalize then warns about
 * the options never read. Process state, as PETSc's own initialization. */
static PetscBool warn_unused_at_end;

/* PETSc's rule for an option name: '-' (or "--") and a letter. */
static int is_key(const char *s) { return s[0] == '-' && isalpha((unsigned char)s[s[1] == '-' ? 2 : 1]); }

/* Removes argv[i], ..., argv[i + k - 1] (argv[argc] is NULL and moves too). */
static void argv_remove(int *argc, char **argv, int i, int k)
{
  for (int j = i; j + k <= *argc; j++) argv[j] = argv[j + k];
  *argc -= k;
}

NnUsage nn_usage_mode(int *argc, char **argv)
{
  NnUsage mode = NN_USAGE_RUN;
  for (int i = 1; i < *argc;) {
    const char *a = argv[i], *v = i + 1 < *argc && !is_key(argv[i + 1]) ? argv[i + 1] : NULL;
    PetscBool   help = !strcasecmp(a, "-help") ? PETSC_TRUE : PETSC_FALSE;
    if (help && v && !strcasecmp(v, "intro")) i += 2;
    else if (help && v && !strcasecmp(v, "all")) {
      mode = NN_USAGE_HELP_PETSC;
      argv_remove(argc, argv, i + 1, 1);
      i++;
    } else if (help || !strcasecmp(a, "--help") || !strcasecmp(a, "-h")) {
      if (mode != NN_USAGE_HELP_PETSC) mode = NN_USAGE_HELP;
      argv_remove(argc, argv, i, help && v ? 2 : 1);
    } else if (!strcasecmp(a, "-version") || !strcasecmp(a, "--version")) {
      if (mode == NN_USAGE_RUN) mode = NN_USAGE_VERSION;
      argv_remove(argc, argv, i, 1);
    } else i++;
  }
  return mode;
}

/* Once PETSc runs: the error handler, the mode (-help in an options file or
 * PETSC_OPTIONS: PETSc has printed its long help already), the HDF5 layer. */
static PetscErrorCode initialize_packages(NnUsage *usage)
{
  PetscBool help;
  PetscFunctionBeginUser;
  PetscCall(nn_error_handler_push());
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (usage && help && *usage == NN_USAGE_RUN) *usage = NN_USAGE_HELP_PETSC;
  warn_unused_at_end = usage && *usage == NN_USAGE_RUN ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(nn_h5_init());
  PetscFunctionReturn(0);
}

int nn_initialize(int *argc, char ***argv, const char help[], NnUsage *usage)
{
  PetscErrorCode ierr;
  nn_blas_select(*argv); /* may execute the program again: argv as it came */
  if (usage) {
    nn_signals_block();
    *usage = nn_usage_mode(argc, *argv);
  }
  if (nn_options_files_readable(*argc, *argv)) return NN_EXIT_ERROR;
  if (SlepcInitialize(argc, argv, NULL, help)) return NN_EXIT_ERROR;
  if (usage) nn_signals_install();
  ierr = initialize_packages(usage);
  return ierr ? nn_finalize(ierr, NN_EXIT_OK) : 0;
}

int nn_finalize(PetscErrorCode ierr, int status)
{
  if (ierr) {
    nn_error_exit(ierr, 10.0);
    SlepcFinalize();
    return NN_EXIT_ERROR;
  }
  if (warn_unused_at_end) ierr = nn_options_warn_unused(); /* -eps_* and the like that nothing read after all */
  if (SlepcFinalize() || ierr) return NN_EXIT_ERROR;
  return status;
}
