/* Options: the checks nncas adds to PETSc's options database (unknown and
 * unused options, ranges of real values, unreadable options files). */
#include "nncas/core.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

PetscErrorCode nn_options_check_unknown(const char *const prefixes[])
{
  PetscInt n;
  char   **names, **values;
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  for (PetscInt i = 0; i < n; i++)
    for (const char *const *p = prefixes; *p; p++)
      PetscCheck(strncmp(names[i], *p, strlen(*p)), PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG,
                 "unknown option -%s (nncas -help lists the options)", names[i]);
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_options_warn_unused(void)
{
  PetscInt    n;
  char      **names, **values;
  PetscMPIInt rank;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  for (PetscInt i = 0; i < n && !rank; i++)
    fprintf(stderr, "nncas: warning: option -%s was given but never used (misspelt? nncas -help lists the options)\n", names[i]);
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_option_check_real(MPI_Comm comm, const char *name, PetscReal v, const char *range)
{
  char  *end;
  double lo, hi;
  int    lo_open, hi_open;
  PetscFunctionBeginUser;
  /* range: "(" or "[", lower bound, ",", upper bound, ")" or "]" */
  lo_open = range[0] == '(';
  lo      = strtod(range + 1, &end);
  PetscCheck(*end == ',', comm, PETSC_ERR_PLIB, "malformed range \"%s\" for %s", range, name);
  hi      = strtod(end + 1, &end);
  hi_open = *end == ')';
  if (isfinite(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi)) PetscFunctionReturn(0);
  char got[32];
  snprintf(got, sizeof got, "%g", (double)v); /* C's %g: PETSc's prints "inf." */
  SETERRQ(comm, PETSC_ERR_ARG_OUTOFRANGE, "%s must be a finite number in %s (got %s)", name, range, got);
}

int nn_options_files_readable(int argc, char **argv)
{
  for (int i = 1; i + 1 < argc; i++) {
    FILE *f;
    if (strcmp(argv[i], "-options_file") && strcmp(argv[i], "-options_file_yaml")) continue;
    if ((f = fopen(argv[i + 1], "r"))) {
      fclose(f);
      continue;
    }
    const char *why = strerror(errno), *rank = getenv("OMPI_COMM_WORLD_RANK");
    if (!rank) rank = getenv("PMI_RANK");
    if (!rank || !strcmp(rank, "0")) fprintf(stderr, "nncas: error: %s %s: cannot open (%s)\n", argv[i], argv[i + 1], why);
    return 1;
  }
  return 0;
}

PetscBool nn_option_is_text(const char *name)
{
  static const char *const text[] = {"-data_dir", "-data_file", "-output_dir", "-restart", "-net_layers", "-net_preset", "-net_file", "-options_file"};
  for (size_t k = 0; k < sizeof text / sizeof text[0]; k++)
    if (!strcmp(name, text[k])) return PETSC_TRUE;
  return PETSC_FALSE;
}

PetscErrorCode nn_settings_add(NnSettings *s, const char *name, const char *fmt, ...)
{
  va_list ap;
  PetscFunctionBeginUser;
  PetscCheck(s->n < NN_MAX_SETTINGS, PETSC_COMM_SELF, PETSC_ERR_PLIB, "more than %d settings (at %s)", NN_MAX_SETTINGS, name);
  PetscCall(PetscStrncpy(s->item[s->n].name, name, sizeof s->item[s->n].name));
  va_start(ap, fmt);
  vsnprintf(s->item[s->n].value, sizeof s->item[s->n].value, fmt, ap); /* C's %g: PETSc's appends "." */
  va_end(ap);
  s->n++;
  PetscFunctionReturn(0);
}

PetscErrorCode nn_settings_add_real(NnSettings *s, const char *name, double v)
{
  char buf[32];
  PetscFunctionBeginUser;
  for (int digits = 6; digits <= 17; digits++) { /* 0.1 rather than 0.10000000000000001 */
    snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (strtod(buf, NULL) == v) break;
  }
  PetscCall(nn_settings_add(s, name, "%s", buf));
  PetscFunctionReturn(0);
}
