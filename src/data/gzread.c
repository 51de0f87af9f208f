/* Reading data files through zlib, which reads gzip and raw files alike: a
 * buffer that grows only as bytes arrive (so a header's claimed size costs
 * nothing until the bytes exist), errors naming the file. */
#include "data_impl.h"

#include <errno.h>
#include <string.h>

#define NN_GZ_CHUNK ((size_t)1 << 20) /* first buffer size and largest single gzread */

/* Opens a data file for reading through zlib (gzip or raw alike). */
PetscErrorCode nn_gz_open(MPI_Comm comm, const char *path, gzFile *f)
{
  PetscFunctionBeginUser;
  errno = 0;
  *f    = gzopen(path, "rb");
  PetscCheck(*f, comm, PETSC_ERR_FILE_OPEN, "data file %s: cannot open (%s)", path,
             errno ? strerror(errno) : "out of memory");
  (void)gzbuffer(*f, 1 << 18); /* a larger zlib buffer: fewer read() calls */
  PetscFunctionReturn(0);
}

/* zlib's message for the error state of f without the "path: " prefix zlib adds. */
static const char *gz_message(gzFile f, const char *path, int *errnum)
{
  const char *msg = gzerror(f, errnum);
  size_t      len = strlen(path);
  if (*errnum == Z_ERRNO) return strerror(errno);
  if (!strncmp(msg, path, len) && !strncmp(msg + len, ": ", 2)) msg += len + 2;
  return msg;
}

/* Fails naming path if zlib reports an error on f (corrupt or cut gzip stream, I/O error). */
static PetscErrorCode gz_check(MPI_Comm comm, gzFile f, const char *path)
{
  int         errnum = Z_OK;
  const char *msg    = gz_message(f, path, &errnum);
  PetscFunctionBeginUser;
  PetscCheck(errnum != Z_BUF_ERROR, comm, PETSC_ERR_FILE_READ,
             "data file %s: the gzip stream ends early (the compressed file is truncated)", path);
  PetscCheck(errnum != Z_DATA_ERROR, comm, PETSC_ERR_FILE_READ, "data file %s: corrupt gzip stream (%s)", path, msg);
  PetscCheck(errnum == Z_OK, comm, PETSC_ERR_FILE_READ, "data file %s: read error (%s)", path, msg);
  PetscFunctionReturn(0);
}

/* Grows *buf (capacity *size) geometrically, to at most cap bytes. */
static PetscErrorCode gz_grow(uint8_t **buf, size_t *size, size_t cap)
{
  size_t nsize = *size ? 2 * *size : NN_GZ_CHUNK;
  PetscFunctionBeginUser;
  if (nsize > cap || nsize < *size) nsize = cap;
  if (*buf) PetscCall(PetscRealloc(nsize, buf));
  else PetscCall(PetscMalloc1(nsize, buf));
  *size = nsize;
  PetscFunctionReturn(0);
}

/* Reads up to cap bytes of f into a buffer that grows as bytes arrive; stops at
 * the end of the file or on a zlib error (left in f's error state). */
static PetscErrorCode gz_read_loop(gzFile f, size_t cap, uint8_t **buf, size_t *got)
{
  size_t size = 0;
  PetscFunctionBeginUser;
  while (*got < cap) {
    if (*got == size) PetscCall(gz_grow(buf, &size, cap));
    size_t want = PetscMin(size - *got, NN_GZ_CHUNK);
    int    r    = gzread(f, *buf + *got, (unsigned)want);
    if (r <= 0) break;
    *got += (size_t)r;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode nn_gz_read_upto(MPI_Comm comm, gzFile f, const char *path, size_t cap, uint8_t **buf, size_t *got)
{
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  *buf = NULL;
  *got = 0;
  ierr = gz_read_loop(f, cap, buf, got);
  if (!ierr) ierr = gz_check(comm, f, path);
  if (ierr) {
    PetscCall(PetscFree(*buf));
    *got = 0;
    PetscCall(ierr);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode nn_check_labels(MPI_Comm comm, const char *path, size_t n, const uint8_t *labels)
{
  PetscFunctionBeginUser;
  for (size_t i = 0; i < n; i++)
    PetscCheck(labels[i] < NN_NUM_CLASSES, comm, PETSC_ERR_FILE_UNEXPECTED,
               "data file %s: label %d of sample %zu is out of range 0..%d", path, (int)labels[i], i,
               NN_NUM_CLASSES - 1);
  PetscFunctionReturn(0);
}
