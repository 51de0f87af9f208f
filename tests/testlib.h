/* A minimal test harness: each test is a function returning a PetscErrorCode;
 * a failed PetscCheck inside it fails that test with its message. Tests run
 * in order; -test NAME runs one. Every rank runs every test; a test passes
 * only if it passes on all ranks. */
#ifndef NNCAS_TESTLIB_H
#define NNCAS_TESTLIB_H

#include "nncas/core.h"
#include <math.h>

typedef struct {
  const char *name;
  PetscErrorCode (*fn)(void);
} NnTestCase;

int nn_test_main(int argc, char **argv, const NnTestCase *cases, int ncases);

/* Fail the current test unless cond holds. */
#define NN_CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)

/* |a - b| / max(|a|, |b|, floor) */
static inline double nn_relerr(double a, double b, double floor_)
{
  double s = fmax(fmax(fabs(a), fabs(b)), floor_);
  return fabs(a - b) / s;
}

/* Fail the current test at its end, after its last collective call, unless
 * cond holds: failing at once on some ranks only would leave the others
 * waiting in a collective. The first failed expectation's message is kept;
 * nn_expectations_met() raises it (and forgets it). */
#define NN_EXPECT(cond, ...)                                                                                           \
  do {                                                                                                                 \
    if (!(cond)) nn_expect_failed(__VA_ARGS__);                                                                        \
  } while (0)
void           nn_expect_failed(const char *fmt, ...) PETSC_ATTRIBUTE_FORMAT(1, 2);
PetscErrorCode nn_expectations_met(void);

/* Expects that the call named what failed (ierr != 0) with a message holding
 * every non-NULL needle n1, n2, n3, and clears the error (nn_error_clear), so
 * the test goes on; a miss is an NN_EXPECT failure. */
PetscErrorCode nn_expect_error(PetscErrorCode ierr, const char *what, const char *n1, const char *n2, const char *n3);

/* Rank and size of PETSC_COMM_WORLD. */
int nn_test_rank(void);
int nn_test_size(void);

/* Directory of the test's data files (set by CMake as NNCAS_TEST_DIR). */
const char *nn_test_dir(void);
/* A fresh scratch directory for this test run (removed by nobody: under the build tree). */
const char *nn_test_scratch(void);

#define NN_TEST_CASE(fn) { #fn, fn }
#define NN_TEST_MAIN(...)                                                   \
  int main(int argc, char **argv)                                           \
  {                                                                         \
    static const NnTestCase cases[] = {__VA_ARGS__};                        \
    return nn_test_main(argc, argv, cases, (int)(sizeof cases / sizeof cases[0])); \
  }

#endif
