/* Options: the checks nncas adds to PETSc's options database (unknown and
 * unused options, ranges of real values, unreadable options files). */
#include "nncas/core.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Read by PetscFinalize (PETSc 3.18, src/sys/objects/pinit.c), after the
 * check; PetscInitialize reads -log_view, -malloc_*, -info, -on_error_*,
 * -options_file and the like itself, so they are never left over. */
static const char *const petsc_read_at_finalize[] = {"options_left", "options_view", "memory_view", "get_total_flops",
                                                     "citations", "mpidump", "nox", "nox_warning", "x_virtual",
                                                     "saw_options", "log", "mpi_linear_solver_server", "tellmycell",
                                                     "textbelt", NULL};
/* PETSc's and SLEPc's options a user may mean (PETSc's -help, "Options for
 * all PETSc programs"; SLEPc's commonest for the extreme eigenvalues): only
 * candidates for "did you mean". */
static const char *const petsc_names[] = {"version", "help", "log_view", "log_view_memory", "log_trace", "log_exclude",
                                          "info", "on_error_abort", "on_error_attach_debugger", "start_in_debugger",
                                          "debugger_ranks", "fp_trap", "no_signal_handler", "malloc_debug",
                                          "malloc_dump", "malloc_view", "malloc_info", "options_file", "options_monitor",
                                          "eps_view", "eps_monitor", "eps_tol", "eps_max_it", "eps_ncv",
                                          "eps_converged_reason", NULL};

/* Does name match an entry of list: a whole name, or a prefix when the entry ends in "_"? */
static PetscBool name_in(const char *name, const char *const list[])
{
  for (const char *const *p = list; p && *p; p++) {
    size_t n = strlen(*p);
    if ((*p)[n - 1] == '_' ? !strncasecmp(name, *p, n) : !strcasecmp(name, *p)) return PETSC_TRUE;
  }
  return PETSC_FALSE;
}

/* Optimal string alignment distance (Levenshtein with transpositions: "trian" to
 * "train" is one edit), ignoring case; names longer than 63 characters are cut. */
static int edit_distance(const char *a, const char *b)
{
  int    d[64][64];
  size_t m = PetscMin(strlen(a), 63), n = PetscMin(strlen(b), 63);
  for (size_t i = 0; i <= m; i++) d[i][0] = (int)i;
  for (size_t j = 0; j <= n; j++) d[0][j] = (int)j;
  for (size_t i = 1; i <= m; i++)
    for (size_t j = 1; j <= n; j++) {
      int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
      d[i][j] = PetscMin(PetscMin(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + (ca != cb));
      if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) && tolower((unsigned char)a[i - 2]) == cb)
        d[i][j] = PetscMin(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[m][n];
}

/* How far name is from a candidate: the whole, or (one more) its part after
 * the component's prefix, so that -lr finds -train_lr. */
static int name_distance(const char *name, const char *candidate)
{
  const char *tail = strchr(candidate, '_');
  int         d    = edit_distance(name, candidate);
  return tail ? PetscMin(d, edit_distance(name, tail + 1) + 1) : d;
}

static const char *nearest_name(const char *name, const NnOptionRecords *known)
{
  const char *best = NULL;
  int         dbest = 0;
  for (PetscInt i = 0; i < known->n; i++) {
    int d = name_distance(name, known->item[i].name);
    if (!best || d < dbest) best = known->item[i].name, dbest = d;
  }
  for (const char *const *p = petsc_names; *p; p++) {
    int d = name_distance(name, *p);
    if (!best || d < dbest) best = *p, dbest = d;
  }
  return best;
}

PetscErrorCode nn_options_check_unknown(const NnOptionRecords *known, const char *const later[])
{
  PetscInt n;
  char   **names, **values, unknown[256] = "", nearest[256] = "";
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  for (PetscInt i = 0; i < n && !unknown[0]; i++) {
    if (name_in(names[i], later) || name_in(names[i], petsc_read_at_finalize)) continue;
    PetscCall(PetscStrncpy(unknown, names[i], sizeof unknown));
    PetscCall(PetscStrncpy(nearest, nearest_name(names[i], known), sizeof nearest));
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  PetscCheck(!unknown[0], PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "unknown option -%s (did you mean -%s? nncas -help lists the options)",
             unknown, nearest);
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
    if (!name_in(names[i], petsc_read_at_finalize))
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
