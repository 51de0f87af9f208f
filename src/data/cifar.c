/* CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin): records of one
 * label byte followed by 3072 pixel bytes, the 1024 red, 1024 green and 1024
 * blue values of a 32x32 image, each plane row-major. A record's pixels are
 * therefore already in (c, h, w) order. Files are read through zlib, so a
 * gzip-compressed batch is read as well. */
#include "data_impl.h"

#include <string.h>

#define CIFAR_PIXELS 3072               /* 3 x 32 x 32 */
#define CIFAR_RECORD (1 + CIFAR_PIXELS) /* label byte + pixels */

/* Reads a whole CIFAR-10 batch file; *nrec <- its number of records. */
static PetscErrorCode cifar_read_file(MPI_Comm comm, const char *path, size_t *nrec, uint8_t **rec)
{
  gzFile         f;
  size_t         got = 0;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(nn_gz_open(comm, path, &f));
  ierr = nn_gz_read_upto(comm, f, path, SIZE_MAX, rec, &got);
  (void)gzclose(f);
  PetscCall(ierr);
  if (got == 0 || got % CIFAR_RECORD) {
    PetscCall(PetscFree(*rec));
    PetscCheck(got, comm, PETSC_ERR_FILE_UNEXPECTED, "data file %s: empty, expected CIFAR-10 records", path);
    SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED,
            "data file %s: size %zu bytes is not a multiple of the %d-byte CIFAR-10 record (%zu records and %zu bytes)",
            path, got, CIFAR_RECORD, got / CIFAR_RECORD, got % CIFAR_RECORD);
  }
  *nrec = got / CIFAR_RECORD;
  PetscFunctionReturn(0);
}

/* Appends nrec records to (pixels, labels), which hold `have` samples. */
static PetscErrorCode cifar_append(const uint8_t *rec, size_t nrec, size_t have, uint8_t **pixels, uint8_t **labels)
{
  PetscFunctionBeginUser;
  PetscCall(PetscRealloc((have + nrec) * CIFAR_PIXELS, pixels));
  PetscCall(PetscRealloc(have + nrec, labels));
  for (size_t r = 0; r < nrec; r++) {
    (*labels)[have + r] = rec[r * CIFAR_RECORD];
    memcpy(*pixels + (have + r) * CIFAR_PIXELS, rec + r * CIFAR_RECORD + 1, CIFAR_PIXELS);
  }
  PetscFunctionReturn(0);
}

/* Reads one batch file and appends its samples to (*n, pixels, labels). */
static PetscErrorCode cifar_read_one(MPI_Comm comm, const char *path, size_t *n, uint8_t **pixels, uint8_t **labels)
{
  uint8_t       *rec  = NULL;
  size_t         nrec = 0;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(cifar_read_file(comm, path, &nrec, &rec));
  ierr = cifar_append(rec, nrec, *n, pixels, labels);
  if (!ierr) ierr = nn_check_labels(comm, path, nrec, *labels + *n);
  PetscCall(PetscFree(rec));
  PetscCall(ierr);
  *n += nrec;
  PetscCheck(*n <= PETSC_MAX_INT, comm, PETSC_ERR_FILE_UNEXPECTED,
             "data file %s: %zu CIFAR-10 samples are more than this build's indices can count", path, *n);
  PetscFunctionReturn(0);
}

PetscErrorCode cifar10_read(MPI_Comm comm, PetscInt npaths, const char *const *paths, PetscInt *n, uint8_t **pixels,
                            uint8_t **labels)
{
  uint8_t       *pix = NULL, *lab = NULL;
  size_t         total = 0;
  PetscErrorCode ierr  = 0;
  PetscFunctionBeginUser;
  *n      = 0;
  *pixels = NULL;
  *labels = NULL;
  PetscCall(PetscMalloc1(1, &pix)); /* PetscRealloc then only ever grows a live pointer */
  PetscCall(PetscMalloc1(1, &lab));
  for (PetscInt k = 0; k < npaths && !ierr; k++) ierr = cifar_read_one(comm, paths[k], &total, &pix, &lab);
  if (ierr) {
    PetscCall(PetscFree(pix));
    PetscCall(PetscFree(lab));
    PetscCall(ierr);
  }
  *n      = (PetscInt)total;
  *pixels = pix;
  *labels = lab;
  PetscFunctionReturn(0);
}
