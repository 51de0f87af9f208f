/* Shared by the libFuzzer targets (see fuzz_common.h). */
#include "fuzz_common.h"

#include "nncas/h5io.h"

#include <sanitizer/lsan_interface.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NN_FUZZ_MAX_FILES 8
static char nn_fuzz_files[NN_FUZZ_MAX_FILES][PETSC_MAX_PATH_LEN];
static int  nn_fuzz_nfiles;

/* LeakSanitizer runs after every input that allocated more than it freed;
 * what Open MPI keeps is not ours to judge, and neither is what it holds at
 * exit (PETSc and MPI are not finalized: libFuzzer exits from anywhere). */
__attribute__((weak)) const char *const nn_fuzz_extra_asan_options = "";
__attribute__((weak)) const char *const nn_fuzz_extra_suppressions  = "";

/* buf (len bytes) <- a then b. Neither libc nor instrumented: the sanitizers
 * ask for their options while they start, before their interceptors and
 * shadow memory may be used. */
__attribute__((no_sanitize("address", "undefined"))) static const char *concat(char *buf, size_t len, const char *a,
                                                                               const char *b)
{
  size_t n = 0;
  for (; *a && n + 1 < len; a++) buf[n++] = *a;
  for (; *b && n + 1 < len; b++) buf[n++] = *b;
  buf[n] = 0;
  return buf;
}

const char *__asan_default_options(void)
{
  static char all[256];
  return concat(all, sizeof all, "leak_check_at_exit=0", nn_fuzz_extra_asan_options);
}
const char *__lsan_default_suppressions(void)
{
  static char all[512];
  return concat(all, sizeof all,
                "leak:libmpi.so\nleak:libopen-pal.so\nleak:libopen-rte.so\nleak:libhwloc.so\nleak:libpmix.so\nleak:mca_\n",
                nn_fuzz_extra_suppressions);
}

static void nn_fuzz_cleanup(void)
{
  for (int i = nn_fuzz_nfiles - 1; i >= 0; i--) remove(nn_fuzz_files[i]); /* files, then directories */
}

_Noreturn void nn_fuzz_fail(const char *what)
{
  fprintf(stderr, "nncas fuzz: invariant broken: %s\n", what);
  abort();
}

void nn_fuzz_init(void)
{
  static char  arg0[] = "nncas-fuzz", a1[] = "-no_signal_handler", a2[] = "-malloc_coalesce", a3[] = "0";
  static char *args[] = {arg0, a1, a2, a3, NULL};
  char       **argv   = args;
  int          argc   = 4; /* not libFuzzer's own arguments: PETSc would take them for options */
  setenv("OMPI_MCA_opal_signal", "", 0); /* no Open MPI handler in front of libFuzzer's on SIGABRT, SIGSEGV... */
  __lsan_disable();                       /* what MPI and PETSc allocate to start is never a leak */
  if (PetscInitialize(&argc, &argv, NULL, NULL)) nn_fuzz_fail("PetscInitialize failed");
  if (PetscPushErrorHandler(PetscReturnErrorHandler, NULL) || nn_h5_init())
    nn_fuzz_fail("cannot set up PETSc for fuzzing");
  __lsan_enable();
  atexit(nn_fuzz_cleanup);
}

const char *nn_fuzz_path(const char *name)
{
  struct stat sb;
  char        p[PETSC_MAX_PATH_LEN];
  const char *dir = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp";
  snprintf(p, sizeof p, "%s/nncas-fuzz-%ld-%s", dir, (long)getpid(), name);
  for (int i = 0; i < nn_fuzz_nfiles; i++)
    if (!strcmp(nn_fuzz_files[i], p)) return nn_fuzz_files[i];
  if (nn_fuzz_nfiles == NN_FUZZ_MAX_FILES) nn_fuzz_fail("too many scratch files");
  memcpy(nn_fuzz_files[nn_fuzz_nfiles], p, sizeof p);
  return nn_fuzz_files[nn_fuzz_nfiles++];
}

const char *nn_fuzz_write_file(const char *name, const uint8_t *data, size_t size)
{
  const char *path = nn_fuzz_path(name);
  FILE       *f    = fopen(path, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) nn_fuzz_fail("cannot write the scratch file");
  return path;
}

unsigned nn_fuzz_touch(const uint8_t *buf, size_t n)
{
  volatile unsigned sum = 0;
  for (size_t i = 0; i < n; i++) sum += buf[i];
  return sum;
}
