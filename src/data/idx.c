/* IDX files (MNIST, Fashion-MNIST), read through zlib, which reads gzip and raw
 * files alike. An IDX file is a big-endian header, magic 0x00000803 then the
 * uint32 sizes n, rows, cols for images (magic 0x00000801 then n for labels),
 * followed by the n*rows*cols (or n) unsigned bytes.
 *
 * A header is not trusted: the buffer grows only as bytes actually arrive, so a
 * short file claiming billions of images fails at once with "truncated". */
#include "data_impl.h"

#include <string.h>

#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAGIC_LABELS 0x00000801u

static uint32_t be32(const uint8_t *p)
{
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* Reads an IDX header: the magic (checked against `magic`, a `kind` file) and ndims sizes. */
static PetscErrorCode idx_read_header(MPI_Comm comm, gzFile f, const char *path, uint32_t magic, const char *kind,
                                      int ndims, uint32_t *dims)
{
  uint8_t *head = NULL;
  size_t   got, len = 4 * (size_t)(ndims + 1);
  uint32_t found = 0;
  PetscFunctionBeginUser;
  PetscCall(nn_gz_read_upto(comm, f, path, len, &head, &got));
  if (got >= 4) found = be32(head);
  for (int k = 0; got == len && k < ndims; k++) dims[k] = be32(head + 4 * (k + 1));
  PetscCall(PetscFree(head));
  PetscCheck(got < 4 || found == magic, comm, PETSC_ERR_FILE_UNEXPECTED,
             "data file %s: wrong magic 0x%08x, expected 0x%08x (%s)", path, found, magic, kind);
  PetscCheck(got == len, comm, PETSC_ERR_FILE_UNEXPECTED,
             "data file %s: truncated: the file ends after %zu bytes, inside the %zu-byte IDX header", path, got, len);
  PetscFunctionReturn(0);
}

/* Checks the image header sizes; *bytes <- n*rows*cols, checked for overflow. */
static PetscErrorCode idx_image_bytes(MPI_Comm comm, const char *path, const uint32_t *dims, size_t *bytes)
{
  uint64_t per = (uint64_t)dims[1] * dims[2]; /* < 2^64: two 32-bit factors */
  PetscFunctionBeginUser;
  PetscCheck(per > 0 && per <= PETSC_MAX_INT, comm, PETSC_ERR_FILE_UNEXPECTED,
             "data file %s: implausible image size %ux%u in the header", path, dims[1], dims[2]);
  PetscCheck(dims[0] <= SIZE_MAX / per, comm, PETSC_ERR_FILE_UNEXPECTED,
             "data file %s: header claims %u images of %ux%u, more bytes than can be addressed", path, dims[0], dims[1],
             dims[2]);
  *bytes = (size_t)dims[0] * (size_t)per;
  PetscFunctionReturn(0);
}

/* Fails unless the file held exactly the `expect` bytes its header announces for
 * n items (`what`, of `item` bytes each, `shape` describing one); reading asked
 * for one more byte to detect trailing data. */
static PetscErrorCode idx_check_length(MPI_Comm comm, const char *path, size_t got, size_t expect, uint32_t n,
                                       const char *what, const char *shape, size_t item)
{
  PetscFunctionBeginUser;
  PetscCheck(got >= expect, comm, PETSC_ERR_FILE_UNEXPECTED,
             "data file %s: truncated: header says %u %s%s but the file ends after %zu %s", path, n, what, shape,
             got / item, what);
  PetscCheck(got == expect, comm, PETSC_ERR_FILE_UNEXPECTED,
             "data file %s: unexpected bytes after the %u %s announced by the header", path, n, what);
  PetscCheck(n <= PETSC_MAX_INT, comm, PETSC_ERR_FILE_UNEXPECTED,
             "data file %s: %u %s are more than this build's %d-bit indices can count", path, n, what,
             (int)(8 * sizeof(PetscInt)));
  PetscFunctionReturn(0);
}

/* Reads the header and pixels of an open IDX image file. */
static PetscErrorCode idx_read_images_from(MPI_Comm comm, gzFile f, const char *path, PetscInt *n, PetscInt *h,
                                           PetscInt *w, uint8_t **pixels)
{
  uint32_t       dims[3] = {0, 0, 0};
  size_t         bytes, got;
  uint8_t       *buf = NULL;
  PetscErrorCode ierr;
  char           shape[64];
  PetscFunctionBeginUser;
  PetscCall(idx_read_header(comm, f, path, IDX_MAGIC_IMAGES, "an IDX image file", 3, dims));
  PetscCall(idx_image_bytes(comm, path, dims, &bytes));
  PetscCall(PetscSNPrintf(shape, sizeof shape, " of %ux%u", dims[1], dims[2]));
  PetscCall(nn_gz_read_upto(comm, f, path, bytes + 1, &buf, &got));
  ierr = idx_check_length(comm, path, got, bytes, dims[0], "images", shape, (size_t)dims[1] * dims[2]);
  if (ierr) {
    PetscCall(PetscFree(buf));
    PetscCall(ierr);
  }
  *n      = (PetscInt)dims[0];
  *h      = (PetscInt)dims[1];
  *w      = (PetscInt)dims[2];
  *pixels = buf;
  PetscFunctionReturn(0);
}

/* Reads the header and labels of an open IDX label file. */
static PetscErrorCode idx_read_labels_from(MPI_Comm comm, gzFile f, const char *path, PetscInt *n, uint8_t **labels)
{
  uint32_t       dims[1] = {0};
  size_t         got;
  uint8_t       *buf = NULL;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(idx_read_header(comm, f, path, IDX_MAGIC_LABELS, "an IDX label file", 1, dims));
  PetscCall(nn_gz_read_upto(comm, f, path, (size_t)dims[0] + 1, &buf, &got));
  ierr = idx_check_length(comm, path, got, dims[0], dims[0], "labels", "", 1);
  if (ierr) {
    PetscCall(PetscFree(buf));
    PetscCall(ierr);
  }
  *n      = (PetscInt)dims[0];
  *labels = buf;
  PetscFunctionReturn(0);
}

PetscErrorCode idx_read_images(MPI_Comm comm, const char *path, PetscInt *n, PetscInt *h, PetscInt *w, uint8_t **pixels)
{
  gzFile         f;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  *pixels = NULL;
  *n = *h = *w = 0;
  PetscCall(nn_gz_open(comm, path, &f));
  ierr = idx_read_images_from(comm, f, path, n, h, w, pixels);
  (void)gzclose(f);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode idx_read_labels(MPI_Comm comm, const char *path, PetscInt *n, uint8_t **labels)
{
  gzFile         f;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  *labels = NULL;
  *n      = 0;
  PetscCall(nn_gz_open(comm, path, &f));
  ierr = idx_read_labels_from(comm, f, path, n, labels);
  (void)gzclose(f);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
