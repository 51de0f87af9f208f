/* Checksums of raw data. HDF5 checksums its metadata, not the values of a
 * dataset, so every dataset nncas writes whole (replicated) or in flat ranges
 * that together cover it gets an attribute crc32: the CRC-32 (zlib) of its
 * values in native byte order, combined over the ranks' parts in the order of
 * the elements (crc32_combine), so it does not depend on the rank count. A
 * read of the whole dataset (or of ranges that cover it) recomputes it and
 * refuses a mismatch. An attribute rather than HDF5's Fletcher32 filter:
 * filters need chunked storage and, in parallel, collective filtered writes,
 * which Debian's HDF5 1.10 does not offer for nncas's independent-range
 * writes. Datasets written in 2-D blocks (dense matrices) carry no checksum.
 * The dataset functions (h5dataset.c) call these. */
#include "h5impl.h"

#include <zlib.h>

int64_t h5_crc32(const void *data, size_t nbytes)
{
  return (int64_t)crc32_z(crc32(0L, Z_NULL, 0), (const Bytef *)data, (z_size_t)nbytes);
}

PetscErrorCode h5_crc32_root(MPI_Comm comm, const void *data, size_t nbytes, int64_t *crc)
{
  PetscMPIInt rank;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) *crc = h5_crc32(data, nbytes);
  PetscCallMPI(MPI_Bcast(crc, 1, MPI_INT64_T, 0, comm));
  PetscFunctionReturn(0);
}

typedef struct {
  unsigned long long start, count, crc;
} Part;

static int part_cmp(const void *a, const void *b)
{
  const Part *p = a, *q = b;
  return p->start < q->start ? -1 : p->start > q->start;
}

PetscErrorCode h5_crc32_parts(MPI_Comm comm, hsize_t start, hsize_t count, size_t elsize, const void *local, hsize_t total,
                              PetscBool *whole, int64_t *crc)
{
  Part        mine = {start, count, 0}, *all;
  PetscMPIInt size;
  uLong       c    = crc32(0L, Z_NULL, 0);
  hsize_t     next = 0;
  PetscFunctionBeginUser;
  mine.crc = (unsigned long long)h5_crc32(local, (size_t)count * elsize);
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMalloc1(size, &all));
  PetscCallMPI(MPI_Allgather(&mine, 3, MPI_UNSIGNED_LONG_LONG, all, 3, MPI_UNSIGNED_LONG_LONG, comm));
  qsort(all, (size_t)size, sizeof *all, part_cmp);
  *whole = PETSC_TRUE;
  for (PetscMPIInt r = 0; r < size; r++) {
    if (!all[r].count) continue;
    if (all[r].start != next) *whole = PETSC_FALSE; /* a gap or an overlap: not the whole dataset */
    c = crc32_combine(c, (uLong)all[r].crc, (z_off_t)(all[r].count * elsize));
    next = all[r].start + all[r].count;
  }
  if (next != total) *whole = PETSC_FALSE;
  *crc = (int64_t)c;
  PetscCall(PetscFree(all));
  PetscFunctionReturn(0);
}

PetscErrorCode h5_crc32_check(NnH5File *f, const char *path, int64_t crc)
{
  PetscBool has;
  int64_t   want;
  PetscFunctionBeginUser;
  PetscCall(nn_h5_has_attr(f, path, "crc32", &has));
  if (!has) PetscFunctionReturn(0); /* written before nncas recorded checksums */
  PetscCall(nn_h5_get_attr_int64(f, path, "crc32", &want));
  PetscCheck(crc == want, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s does not match its CRC-32 (the file is damaged)", f->path, path);
  PetscFunctionReturn(0);
}
