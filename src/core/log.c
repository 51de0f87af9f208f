/* Progress lines, wall-clock time, small parsing helpers. */
#include "nncas/core.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double nn_wtime(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void nn_progress_start(NnProgress *p, const char *stage, PetscInt total)
{
  p->stage = stage;
  p->total = total;
  p->t0    = nn_wtime();
  p->last  = p->t0;
}

static void nn_format_duration(double s, char *buf, size_t len)
{
  if (s < 0 || s > 1e8) {
    PetscSNPrintf(buf, len, "?");
  } else if (s < 60) {
    PetscSNPrintf(buf, len, "%.0fs", s);
  } else if (s < 3600) {
    PetscSNPrintf(buf, len, "%dm%02ds", (int)(s / 60), (int)s % 60);
  } else {
    PetscSNPrintf(buf, len, "%dh%02dm", (int)(s / 3600), ((int)s % 3600) / 60);
  }
}

PetscErrorCode nn_progress_report(NnProgress *p, PetscInt done, double min_interval, const char *fmt, ...)
{
  double  now = nn_wtime();
  char    extra[256] = "", eta[32], el[32];
  va_list ap;
  PetscFunctionBeginUser;
  if (done < p->total && now - p->last < min_interval) PetscFunctionReturn(0);
  p->last = now;
  if (fmt) {
    va_start(ap, fmt);
    vsnprintf(extra, sizeof extra, fmt, ap);
    va_end(ap);
  }
  double elapsed = now - p->t0;
  nn_format_duration(elapsed, el, sizeof el);
  nn_format_duration(done > 0 ? elapsed * (double)(p->total - done) / (double)done : -1, eta, sizeof eta);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "[%s] %" PetscInt_FMT "/%" PetscInt_FMT " %s elapsed %s ETA %s\n", p->stage,
                        done, p->total, extra, el, done < p->total ? eta : "0s"));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_parse_real_list(const char *what, const char *s, PetscInt max, PetscReal *v, PetscInt *n)
{
  const char *c = s;
  PetscFunctionBeginUser;
  *n = 0;
  while (c && *c) {
    char  *end;
    double x = strtod(c, &end);
    PetscCheck(end != c, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "%s: cannot read a number at \"%s\"", what, c);
    PetscCheck(*n < max, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE, "%s: more than %" PetscInt_FMT " values", what, max);
    v[(*n)++] = x;
    c         = end;
    if (*c == ',') c++;
    else PetscCheck(*c == 0, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "%s: expected ',' at \"%s\"", what, c);
  }
  PetscFunctionReturn(0);
}
