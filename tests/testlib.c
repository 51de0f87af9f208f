#include "testlib.h"

#include "nncas/init.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static char scratch[PETSC_MAX_PATH_LEN];

const char *nn_test_dir(void) { return NNCAS_TEST_DIR; }

static char expect_msg[512];

void nn_expect_failed(const char *fmt, ...)
{
  va_list ap;
  if (expect_msg[0]) return; /* the first failure is the one reported */
  va_start(ap, fmt);
  vsnprintf(expect_msg, sizeof expect_msg, fmt, ap);
  va_end(ap);
}

PetscErrorCode nn_expectations_met(void)
{
  char msg[sizeof expect_msg];
  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(msg, expect_msg, sizeof msg));
  expect_msg[0] = 0;
  NN_CHECK(!msg[0], "%s", msg);
  PetscFunctionReturn(0);
}

PetscErrorCode nn_expect_error(PetscErrorCode ierr, const char *what, const char *n1, const char *n2, const char *n3)
{
  const char *needle[] = {n1, n2, n3};
  char        msg[1024];
  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(msg, nn_error_last(), sizeof msg));
  nn_error_clear();
  NN_EXPECT(ierr != 0, "%s succeeded", what);
  for (int k = 0; k < 3; k++)
    NN_EXPECT(!needle[k] || strstr(msg, needle[k]), "%s: message \"%s\" lacks \"%s\"", what, msg, needle[k]);
  PetscFunctionReturn(0);
}

int nn_test_rank(void)
{
  int r;
  MPI_Comm_rank(PETSC_COMM_WORLD, &r);
  return r;
}

int nn_test_size(void)
{
  int s;
  MPI_Comm_size(PETSC_COMM_WORLD, &s);
  return s;
}
const char *nn_test_scratch(void) { return scratch; }

/* Runs the cases (only -test NAME's, if given); *failed <- how many failed. */
static PetscErrorCode run_cases(const char *prog, const NnTestCase *cases, int ncases, int *failed)
{
  char        only[256] = "";
  PetscBool   set       = PETSC_FALSE;
  int         ran       = 0;
  PetscMPIInt rank;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-test", only, sizeof only, &set));
  PetscCall(PetscSNPrintf(scratch, sizeof scratch, "%s/scratch_%s", NNCAS_TEST_BINARY_DIR, prog ? strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog : "t"));
  if (!rank) mkdir(scratch, 0755);
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  for (int i = 0; i < ncases; i++) {
    if (set && strcmp(only, cases[i].name)) continue;
    nn_error_clear();
    double         t0  = nn_wtime();
    PetscErrorCode ierr = cases[i].fn();
    int            bad = ierr != 0, anybad;
    /* A test that fails on one rank may leave the others in a collective;
     * tests are written so that checks are made on all ranks alike. */
    PetscCallMPI(MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, PETSC_COMM_WORLD));
    ran++;
    if (bad) fprintf(stderr, "[rank %d] FAIL %s: %s\n", rank, cases[i].name, nn_error_last());
    if (!rank) printf("%s %s (%.2fs)\n", anybad ? "FAIL" : "ok  ", cases[i].name, nn_wtime() - t0);
    fflush(stdout);
    *failed += anybad;
  }
  if (set && !ran) {
    if (!rank) fprintf(stderr, "no test named %s\n", only);
    *failed = 1;
  }
  PetscFunctionReturn(0);
}

int nn_test_main(int argc, char **argv, const NnTestCase *cases, int ncases)
{
  int            failed = 0;
  PetscErrorCode ierr;
  if (nn_initialize(&argc, &argv, NULL, NULL)) return NN_EXIT_ERROR;
  ierr = run_cases(argv[0], cases, ncases, &failed);
  return nn_finalize(ierr, failed ? NN_EXIT_ERROR : NN_EXIT_OK);
}
