/* Checksums of raw data. HDF5 checksums its metadata, not the values of a
 * dataset, so every dataset nncas writes whole (replicated) or in flat ranges
 * that together cover it gets an attribute crc32: the CRC-32 (zlib) of its
 * values in native byte order, combined over the ranks' parts in the order of
 * the elements (crc32_combine), so it does not depend on the rank count. A
 * read of the whole dataset (or of ranges that cover it) recomputes it and
 * refuses a mismatch. An attribute rather than HDF5's Fletcher32 filter:
 * filters need chunked storage and, in parallel, collective filtered writes,
 * which Debian's HDF5 1.10 does not offer for nncas's independent-range
 * writes. Datasets written in 2-D blocks (dense matrices) carry no checksum. */
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

PetscErrorCode nn_h5_write_double(NnH5File *f, const char *path, int ndims, const hsize_t *dims, const double *data)
{
  int64_t crc;
  PetscFunctionBeginUser;
  PetscCall(h5_raw_write_double(f, path, ndims, dims, data));
  PetscCall(h5_crc32_root(f->comm, data, (size_t)h5_dims_product(ndims, dims) * sizeof(double), &crc));
  PetscCall(nn_h5_attr_int64(f, path, "crc32", crc));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_write_int64(NnH5File *f, const char *path, int ndims, const hsize_t *dims, const int64_t *data)
{
  int64_t crc;
  PetscFunctionBeginUser;
  PetscCall(h5_raw_write_int64(f, path, ndims, dims, data));
  PetscCall(h5_crc32_root(f->comm, data, (size_t)h5_dims_product(ndims, dims) * sizeof(int64_t), &crc));
  PetscCall(nn_h5_attr_int64(f, path, "crc32", crc));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_read_double(NnH5File *f, const char *path, int maxdims, int *ndims, hsize_t *dims, size_t count, double *data)
{
  PetscFunctionBeginUser;
  PetscCall(h5_raw_read_double(f, path, maxdims, ndims, dims, count, data));
  if (data) PetscCall(h5_crc32_check(f, path, h5_crc32(data, count * sizeof(double))));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_read_int64(NnH5File *f, const char *path, int maxdims, int *ndims, hsize_t *dims, size_t count, int64_t *data)
{
  PetscFunctionBeginUser;
  PetscCall(h5_raw_read_int64(f, path, maxdims, ndims, dims, count, data));
  if (data) PetscCall(h5_crc32_check(f, path, h5_crc32(data, count * sizeof(int64_t))));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_write_double_range(NnH5File *f, const char *path, int ndims, const hsize_t *dims, hsize_t start, hsize_t count,
                                        const double *local)
{
  PetscBool whole;
  int64_t   crc;
  PetscFunctionBeginUser;
  PetscCall(h5_raw_write_double_range(f, path, ndims, dims, start, count, local));
  PetscCall(h5_crc32_parts(f->comm, start, count, sizeof(double), local, h5_dims_product(ndims, dims), &whole, &crc));
  if (whole) PetscCall(nn_h5_attr_int64(f, path, "crc32", crc));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_read_double_range(NnH5File *f, const char *path, int ndims, const hsize_t *dims, hsize_t start, hsize_t count,
                                       double *local)
{
  PetscBool whole;
  int64_t   crc;
  PetscFunctionBeginUser;
  PetscCall(h5_raw_read_double_range(f, path, ndims, dims, start, count, local));
  PetscCall(h5_crc32_parts(f->comm, start, count, sizeof(double), local, h5_dims_product(ndims, dims), &whole, &crc));
  if (whole) PetscCall(h5_crc32_check(f, path, crc));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_write_vector(NnH5File *f, const char *group, const char *name, hsize_t n, const double *v,
                                  const char *units, const char *description)
{
  char path[PETSC_MAX_PATH_LEN];
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s", group, name));
  PetscCall(nn_h5_write_double(f, path, 1, &n, v));
  PetscCall(nn_h5_describe(f, path, units, description));
  PetscFunctionReturn(0);
}
