/* One clear line per error, and no rank left hanging.
 *
 * PETSc reports an error by calling the handler once where it is raised
 * (PETSC_ERROR_INITIAL) and again in every caller on the way up
 * (PETSC_ERROR_REPEAT). We keep the first message and print nothing while the
 * stack unwinds; nn_finalize() then calls nn_error_exit(), which decides whether the
 * failure was collective (every rank failed: print once, finalize cleanly) or
 * local (abort the job so that no rank waits forever in a collective). */
#include "nncas/core.h"

#include <stddef.h>
#include <string.h>
#include <unistd.h>

static char nn_error_text[1024];
static int  nn_error_have;

static PetscErrorCode nn_error_handler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n,
                                       PetscErrorType p, const char *mess, void *ctx)
{
  (void)comm;
  (void)ctx;
  if (p != PETSC_ERROR_INITIAL || nn_error_have) return n;
  if (mess && mess[0]) {
    PetscSNPrintf(nn_error_text, sizeof nn_error_text, "%s", mess);
  } else {
    const char *text = NULL;
    PetscErrorMessage(n, &text, NULL);
    PetscSNPrintf(nn_error_text, sizeof nn_error_text, "%s (in %s() at %s:%d)", text ? text : "unknown error", fun, file,
                  line);
  }
  nn_error_have = 1;
  return n;
}

const char *nn_error_last(void) { return nn_error_have ? nn_error_text : ""; }

_Static_assert(NN_ERR_DIVERGED > PETSC_ERR_MAX_VALUE, "NN_ERR_DIVERGED must not be one of PETSc's error codes");

void nn_error_clear(void)
{
  nn_error_have   = 0;
  nn_error_text[0] = 0;
}

PetscErrorCode nn_error_handler_push(void)
{
  PetscFunctionBeginUser;
  PetscCall(PetscPushErrorHandler(nn_error_handler, NULL));
  PetscFunctionReturn(0);
}

/* Wait for all ranks to arrive, polling, at most timeout_s seconds. */
static int nn_all_ranks_failed(double timeout_s)
{
  MPI_Request req;
  int         done = 0;
  double      t0   = MPI_Wtime();
  if (MPI_Ibarrier(MPI_COMM_WORLD, &req) != MPI_SUCCESS) return 0;
  while (!done && MPI_Wtime() - t0 < timeout_s) {
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (!done) usleep(2000);
  }
  return done;
}

/* PETSc's messages for unreadable option values do not name the option
 * ("Input string fast has no numeric value"): find the option holding that
 * value and say which it is. */
static void nn_error_name_option(void)
{
  static const char *const forms[][3] = {{"Input string ", " has no integer", "an integer"},
                                         {"Input string ", " has no numeric", "a number"},
                                         {"Unknown logical value: ", "", "true or false"}};
  char                     value[256], *all = NULL;
  for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
    const char *a = forms[k][0], *b = forms[k][1], *what = forms[k][2];
    if (strncmp(nn_error_text, a, strlen(a))) continue;
    const char *v = nn_error_text + strlen(a), *e = b[0] ? strstr(v, b) : v + strlen(v);
    if (!e || e - v >= (ptrdiff_t)sizeof value) continue;
    memcpy(value, v, (size_t)(e - v));
    value[e - v] = 0;
    if (PetscOptionsGetAll(NULL, &all) || !all) return;
    /* all is "-name value -name value ..." */
    char *save = NULL, *prev = NULL;
    for (char *tok = strtok_r(all, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
      if (prev && prev[0] == '-' && !strcmp(tok, value) && !nn_option_is_text(prev)) {
        char msg[sizeof nn_error_text];
        PetscSNPrintf(msg, sizeof msg, "option %s: cannot read \"%s\" as %s", prev, value, what);
        PetscStrncpy(nn_error_text, msg, sizeof nn_error_text);
        break;
      }
      prev = tok;
    }
    PetscFree(all);
    return;
  }
}

void nn_error_exit(PetscErrorCode ierr, double timeout_s)
{
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (!nn_error_have) PetscSNPrintf(nn_error_text, sizeof nn_error_text, "failed with PETSc error code %d", (int)ierr);
  nn_error_name_option();
  if (size == 1 || !nn_all_ranks_failed(timeout_s)) {
    if (size > 1) fprintf(stderr, "nncas: error (rank %d): %s\n", rank, nn_error_text);
    else fprintf(stderr, "nncas: error: %s\n", nn_error_text);
    fflush(stderr);
    if (size > 1) MPI_Abort(MPI_COMM_WORLD, 1);
    return;
  }
  /* Every rank failed: rank 0 prints each distinct message once. */
  char *all = NULL;
  if (!rank) all = malloc((size_t)size * sizeof nn_error_text);
  MPI_Gather(nn_error_text, (int)sizeof nn_error_text, MPI_CHAR, all, (int)sizeof nn_error_text, MPI_CHAR, 0,
             MPI_COMM_WORLD);
  if (!rank && all) {
    for (int r = 0; r < size; r++) {
      const char *m    = all + (size_t)r * sizeof nn_error_text;
      int         seen = 0;
      for (int q = 0; q < r && !seen; q++) seen = !strcmp(m, all + (size_t)q * sizeof nn_error_text);
      if (!seen) fprintf(stderr, "nncas: error: %s\n", m);
    }
    fflush(stderr);
  }
  free(all);
}
