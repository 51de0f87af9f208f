/* Shared by the libFuzzer targets: PETSc/MPI started once on one process,
 * errors returned quietly, and the fuzz input handed to the readers as a file. */
#ifndef NNCAS_FUZZ_COMMON_H
#define NNCAS_FUZZ_COMMON_H

#include "nncas/core.h"

#include <stddef.h>
#include <stdint.h>

/* More LeakSanitizer suppressions ("leak:PATTERN\n" lines) and AddressSanitizer
 * options (":name=value..."), for a target to define; fuzz_common.c's weak
 * defaults are "". */
extern const char *const nn_fuzz_extra_suppressions;
extern const char *const nn_fuzz_extra_asan_options;
/* LLVMFuzzerInitialize's work: PETSc (and MPI) without PETSc's signal handler,
 * so that the sanitizers see crashes, and with separate allocations for
 * PetscMalloc2..7, so that ASan sees an overrun of one array into the next;
 * errors return their code without printing. Exits on failure. */
void nn_fuzz_init(void);
/* A private scratch path for this process, "<dir>/nncas-fuzz-<pid>-<name>"
 * (in /dev/shm when it exists); removed at exit. */
const char *nn_fuzz_path(const char *name);
/* Writes the bytes to nn_fuzz_path(name) and returns that path; exits on failure. */
const char *nn_fuzz_write_file(const char *name, const uint8_t *data, size_t size);
/* Reads every byte of a buffer the code under test claims to have filled, so
 * ASan checks its whole extent; returns their sum. */
unsigned nn_fuzz_touch(const uint8_t *buf, size_t n);
/* A broken invariant: print it and abort, which libFuzzer reports as a crash. */
_Noreturn void nn_fuzz_fail(const char *what);

#endif
