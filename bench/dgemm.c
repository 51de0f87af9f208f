/* The machine's DGEMM rate (OpenBLAS, threads from OPENBLAS_NUM_THREADS):
 * the ceiling against which bench/perf.sh states the kernels' fractions. */
#include <cblas.h>
#include <nncas/core.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv)
{
  nn_blas_select(argv); /* the kernels nncas runs with (src/core/blas.c) */
  int     n = argc > 1 ? atoi(argv[1]) : 2048, reps = 5;
  double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n), *c = malloc(sizeof(double) * n * n), best = 1e30;
  if (!a || !b || !c) return 1;
  for (long i = 0; i < (long)n * n; i++) a[i] = (double)(i % 7) - 3, b[i] = (double)(i % 5) - 2, c[i] = 0;
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
    double t = now() - t0;
    if (t < best) best = t;
  }
  printf("DGEMM %d^3: %.1f GFLOP/s (OpenBLAS kernels: %s)\n", n, 2.0 * n * n * (double)n / best / 1e9, nn_blas_core());
  free(a), free(b), free(c);
  return 0;
}
