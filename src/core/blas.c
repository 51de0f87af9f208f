/* Which OpenBLAS kernels run the GEMMs.
 *
 * OpenBLAS picks its kernels at load time from the CPU's family and model.
 * A release does not know CPUs newer than itself: Debian 12's 0.3.21 takes
 * an Intel Xeon of family 6, model 207 (Emerald Rapids, AVX-512) for an
 * unknown CPU and falls back to its generic SSE3 "Prescott" kernels, which
 * run DGEMM at 15.8 GFLOP/s on one core where its SkylakeX kernels reach 77
 * (bench/dgemm.c, docs/performance.md). OPENBLAS_CORETYPE overrides the
 * choice, but only before the library loads. So the first thing nncas's
 * programs do is to ask OpenBLAS which kernels it chose; if they lack the
 * AVX2 the CPU has, and OPENBLAS_CORETYPE is unset, the program sets it and
 * executes itself again, before MPI starts. A user who sets
 * OPENBLAS_CORETYPE keeps what they set.
 *
 * Built against another BLAS (NNCAS_HAVE_OPENBLAS undefined: the configure
 * found no openblas_get_corename in it, cmake/nncas_deps.cmake), the kernels
 * are "not OpenBLAS" and nothing is replaced. */
#include "nncas/core.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define NN_BLAS_FROM "NNCAS_BLAS_CORE_FROM" /* the core OpenBLAS chose itself; also the guard against a loop */
#define NN_NOT_OPENBLAS "not OpenBLAS"

#ifdef NNCAS_HAVE_OPENBLAS
/* OpenBLAS's own queries. Weak: a libblas.so.3 chosen at run time (Debian's
 * alternatives) may be another BLAS, and then they are NULL. */
extern char *openblas_get_corename(void) __attribute__((weak));
extern char *openblas_get_config(void) __attribute__((weak));

const char *nn_blas_core(void) { return openblas_get_corename ? openblas_get_corename() : NN_NOT_OPENBLAS; }
const char *nn_blas_config(void) { return openblas_get_config ? openblas_get_config() : NN_NOT_OPENBLAS; }
#else
const char *nn_blas_core(void) { return NN_NOT_OPENBLAS; }
const char *nn_blas_config(void) { return NN_NOT_OPENBLAS; }
#endif

const char *nn_blas_better_core(const char *core, PetscBool avx512, PetscBool avx2)
{
  /* OpenBLAS 0.3.21's cores whose DGEMM kernels use AVX2 or AVX-512 */
  static const char *const vector_cores[] = {"Haswell", "SkylakeX", "Cooperlake", "SapphireRapids", "Zen", "Excavator"};
  if (!core || !avx2) return NULL;
  for (size_t i = 0; i < sizeof vector_cores / sizeof *vector_cores; i++)
    if (!strcasecmp(core, vector_cores[i])) return NULL;
  if (!strcmp(core, NN_NOT_OPENBLAS)) return NULL;
  return avx512 ? "SkylakeX" : "Haswell";
}

const char *nn_blas_better_than_current(void)
{
  __builtin_cpu_init();
  return nn_blas_better_core(nn_blas_core(),
                             __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                                 __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"),
                             __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
}

void nn_blas_select(char **argv)
{
  const char *better;
  if (getenv("OPENBLAS_CORETYPE") || getenv(NN_BLAS_FROM)) return;
  if (!(better = nn_blas_better_than_current())) return;
  if (setenv(NN_BLAS_FROM, nn_blas_core(), 1) || setenv("OPENBLAS_CORETYPE", better, 1)) return;
  execv("/proc/self/exe", argv);
  unsetenv("OPENBLAS_CORETYPE"); /* exec failed: carry on with the kernels OpenBLAS chose */
  unsetenv(NN_BLAS_FROM);
}

const char *nn_blas_replaced(void) { return getenv(NN_BLAS_FROM); }
