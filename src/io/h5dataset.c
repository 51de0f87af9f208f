/* Datasets: replicated (every rank passes the same data, rank 0 writes it) and
 * flat ranges of distributed ones, each with its checksum (h5checksum.c). */
#include "h5impl.h"

/* Every rank creates (or checks) the dataset; rank 0 selects the data, the
 * others select none. */
static PetscErrorCode write_replicated(NnH5File *f, H5Scope *s, const char *path, int ndims, const hsize_t *dims,
                                       hid_t memtype, const void *data)
{
  hid_t dset, fspace, mspace;
  PetscFunctionBeginUser;
  PetscCheck(data || !h5_dims_product(ndims, dims), f->comm, PETSC_ERR_ARG_NULL, "%s: dataset %s: no data given", f->path,
             path);
  PetscCall(h5_dataset_for_write(f, s, path, ndims, dims, memtype, &dset));
  if (!h5_dims_product(ndims, dims)) PetscFunctionReturn(0); /* no storage to write to */
  fspace = h5_scope_add(s, H5Dget_space(dset));
  mspace = fspace >= 0 ? h5_scope_add(s, H5Scopy(fspace)) : H5I_INVALID_HID;
  PetscCheck(mspace >= 0, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s: cannot get its dataspace%s", f->path,
             path, h5_why());
  if (h5_comm_rank(f->comm) != 0)
    PetscCheck(H5Sselect_none(fspace) >= 0 && H5Sselect_none(mspace) >= 0, f->comm, PETSC_ERR_FILE_UNEXPECTED,
               "%s: dataset %s: cannot select%s", f->path, path, h5_why());
  PetscCall(h5_transfer(f, path, XFER_WRITE, dset, memtype, mspace, fspace, data));
  PetscFunctionReturn(0);
}

/* The file must hold the bytes of every element the dataset's shape claims
 * (at most deflate's 1032:1 less when it is compressed): a header claiming more
 * than was ever written is an error, so no reader allocates for it. */
static PetscErrorCode dataset_check_storage(NnH5File *f, H5Scope *s, hid_t dset, const char *path, int n,
                                            const hsize_t *d)
{
  hid_t   type = h5_scope_add(s, H5Dget_type(dset)), dcpl = h5_scope_add(s, H5Dget_create_plist(dset));
  size_t  size     = type >= 0 ? H5Tget_size(type) : 0;
  int     nfilters = dcpl >= 0 ? H5Pget_nfilters(dcpl) : -1;
  hsize_t stored = H5Dget_storage_size(dset), cap;
  double  elems = 1; /* exact below 2^53, and no overflow above */
  PetscFunctionBeginUser;
  PetscCheck(size > 0 && nfilters >= 0, f->comm, PETSC_ERR_FILE_READ, "%s: cannot read the layout of dataset %s%s",
             f->path, path, h5_why());
  cap = (nfilters ? 1032 * stored : stored) / size; /* elements the stored bytes can hold */
  for (int i = 0; i < n; i++) elems *= (double)d[i];
  PetscCheck(elems <= (double)cap, f->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: dataset %s: its shape claims more elements than the file holds (%llu bytes stored): truncated or never written",
             f->path, path, (unsigned long long)stored);
  PetscFunctionReturn(0);
}

static PetscErrorCode read_replicated(NnH5File *f, H5Scope *s, const char *path, int maxdims, int *ndims, hsize_t *dims,
                                      size_t count, hid_t memtype, void *data)
{
  hid_t   dset, space;
  int     n;
  hsize_t d[H5S_MAX_RANK];
  PetscFunctionBeginUser;
  PetscCall(h5_dataset_open(f, s, path, &dset));
  PetscCall(h5_dataset_shape(f, s, dset, path, &space, &n, d));
  PetscCheck(n <= maxdims, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s has %d dimensions, expected at most %d",
             f->path, path, n, maxdims);
  PetscCall(dataset_check_storage(f, s, dset, path, n, d));
  if (ndims) *ndims = n;
  if (dims)
    for (int i = 0; i < n; i++) dims[i] = d[i];
  if (!data) PetscFunctionReturn(0);
  PetscCall(h5_dataset_check_class(f, s, dset, path, memtype));
  PetscCheck(h5_dims_product(n, d) == (hsize_t)count, f->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: dataset %s has %llu elements, the buffer holds %zu", f->path, path,
             (unsigned long long)h5_dims_product(n, d), count);
  if (!count) PetscFunctionReturn(0); /* no storage to read from */
  PetscCall(h5_transfer(f, path, XFER_READ, dset, memtype, H5S_ALL, H5S_ALL, data));
  PetscFunctionReturn(0);
}

/* Replicated data of memtype (H5T_NATIVE_DOUBLE or H5T_NATIVE_INT64) and its
 * checksum: one path for every element type. */
static PetscErrorCode write_whole(NnH5File *f, const char *path, int ndims, const hsize_t *dims, hid_t memtype,
                                  const void *data)
{
  H5Scope s = {{0}, 0};
  int64_t crc;
  PetscFunctionBeginUser;
  PetscCall(h5_scope_end(f, &s, write_replicated(f, &s, path, ndims, dims, memtype, data)));
  PetscCall(h5_crc32_root(f->comm, data, (size_t)h5_dims_product(ndims, dims) * H5Tget_size(memtype), &crc));
  PetscCall(nn_h5_attr_int64(f, path, "crc32", crc));
  PetscFunctionReturn(0);
}

static PetscErrorCode read_whole(NnH5File *f, const char *path, int maxdims, int *ndims, hsize_t *dims, size_t count,
                                 hid_t memtype, void *data)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(h5_scope_end(f, &s, read_replicated(f, &s, path, maxdims, ndims, dims, count, memtype, data)));
  if (data) PetscCall(h5_crc32_check(f, path, h5_crc32(data, count * H5Tget_size(memtype))));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_write_double(NnH5File *f, const char *path, int ndims, const hsize_t *dims, const double *data)
{
  PetscFunctionBeginUser;
  PetscCall(write_whole(f, path, ndims, dims, H5T_NATIVE_DOUBLE, data));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_write_int64(NnH5File *f, const char *path, int ndims, const hsize_t *dims, const int64_t *data)
{
  PetscFunctionBeginUser;
  PetscCall(write_whole(f, path, ndims, dims, H5T_NATIVE_INT64, data));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_read_double(NnH5File *f, const char *path, int maxdims, int *ndims, hsize_t *dims, size_t count,
                                 double *data)
{
  PetscFunctionBeginUser;
  PetscCall(read_whole(f, path, maxdims, ndims, dims, count, H5T_NATIVE_DOUBLE, data));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_read_int64(NnH5File *f, const char *path, int maxdims, int *ndims, hsize_t *dims, size_t count,
                                int64_t *data)
{
  PetscFunctionBeginUser;
  PetscCall(read_whole(f, path, maxdims, ndims, dims, count, H5T_NATIVE_INT64, data));
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

/* ------------------------------------------------------ flat ranges -- */

herr_t h5_add_hyperslab(hid_t space, H5S_seloper_t *op, const hsize_t *start, const hsize_t *count)
{
  herr_t st = H5Sselect_hyperslab(space, *op, start, NULL, count, NULL);
  *op       = H5S_SELECT_OR;
  return st;
}

/* Adds the flat elements [a, b) (a < b) of the sub-array dims[d..n-1] at the
 * outer coordinates corner[0..d-1]. With `row` the size of one index of
 * dimension d, they are: a partial leading row (recursively), the whole rows
 * [ceil(a/row), floor(b/row)) as one hyperslab, a partial trailing row
 * (recursively); each recursion has only a leading or only a trailing part,
 * so there are at most 2(n-d)-1 hyperslabs. */
static herr_t select_flat_rec(hid_t space, int n, const hsize_t *dims, int d, hsize_t *corner, hsize_t a, hsize_t b,
                              H5S_seloper_t *op)
{
  hsize_t row = h5_dims_product(n - d - 1, dims + d + 1), i0 = a / row, i1 = b / row;
  hsize_t start[H5S_MAX_RANK], count[H5S_MAX_RANK];
  herr_t  st = 0;
  if (i0 == i1) { /* inside one row */
    corner[d] = i0;
    return select_flat_rec(space, n, dims, d + 1, corner, a - i0 * row, b - i0 * row, op);
  }
  if (a % row) {
    corner[d] = i0++;
    st        = select_flat_rec(space, n, dims, d + 1, corner, a % row, row, op);
  }
  if (st >= 0 && i1 > i0) {
    for (int k = 0; k < n; k++) {
      start[k] = k < d ? corner[k] : k == d ? i0 : 0;
      count[k] = k < d ? 1 : k == d ? i1 - i0 : dims[k];
    }
    st = h5_add_hyperslab(space, op, start, count);
  }
  if (st >= 0 && b % row) {
    corner[d] = i1;
    st        = select_flat_rec(space, n, dims, d + 1, corner, 0, b % row, op);
  }
  return st;
}

/* Selects the flat (row-major) elements [start, start + count) of the space of
 * shape dims as a union of hyperslabs, which HDF5 traverses in row-major order,
 * i.e. in flat order. */
static PetscErrorCode select_flat(NnH5File *f, const char *path, hid_t space, int ndims, const hsize_t *dims,
                                  hsize_t start, hsize_t count)
{
  hsize_t       corner[H5S_MAX_RANK];
  H5S_seloper_t op = H5S_SELECT_SET;
  herr_t        st;
  PetscFunctionBeginUser;
  st = count ? select_flat_rec(space, ndims, dims, 0, corner, start, start + count, &op) : H5Sselect_none(space);
  PetscCheck(st >= 0, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s: cannot select elements [%llu, %llu)%s",
             f->path, path, (unsigned long long)start, (unsigned long long)(start + count), h5_why());
  PetscCheck(H5Sget_select_npoints(space) == (hssize_t)count, f->comm, PETSC_ERR_PLIB,
             "%s: dataset %s: selection of [%llu, %llu) has the wrong size", f->path, path, (unsigned long long)start,
             (unsigned long long)(start + count));
  PetscFunctionReturn(0);
}

/* This rank's range must lie inside the dataset and have a buffer; checked on
 * every rank at once. */
static PetscErrorCode check_range(NnH5File *f, const char *path, int ndims, const hsize_t *dims, hsize_t start,
                                  hsize_t count, const double *local)
{
  hsize_t   total = h5_dims_product(ndims, dims);
  PetscBool bad   = count > total || start > total - count || (count && !local) ? PETSC_TRUE : PETSC_FALSE, any;
  PetscFunctionBeginUser;
  PetscCheck(ndims >= 1 && ndims <= H5S_MAX_RANK, f->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "%s: dataset %s: %d dimensions (1 to %d for a range)", f->path, path, ndims, H5S_MAX_RANK);
  PetscCall(h5_agree(f->comm, bad, NULL, &any));
  PetscCheck(!bad, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: dataset %s: elements [%llu, %llu) %s (it has %llu elements)",
             f->path, path, (unsigned long long)start, (unsigned long long)start + count,
             local ? "out of bounds" : "without a buffer", (unsigned long long)total);
  PetscCheck(!any, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: dataset %s: another rank's element range is out of bounds",
             f->path, path);
  PetscFunctionReturn(0);
}

/* Collective transfer of this rank's flat range: file selection a union of
 * hyperslabs, memory a 1-D space of count elements. */
static PetscErrorCode range_transfer(NnH5File *f, H5Scope *s, const char *path, XferDir dir, hid_t dset, int ndims,
                                     const hsize_t *dims, hsize_t start, hsize_t count, const double *local)
{
  hsize_t mcount = count ? count : 1;
  hid_t   fspace, mspace;
  PetscFunctionBeginUser;
  if (!h5_dims_product(ndims, dims)) PetscFunctionReturn(0); /* no storage */
  fspace = h5_scope_add(s, H5Dget_space(dset));
  mspace = h5_scope_add(s, H5Screate_simple(1, &mcount, NULL));
  PetscCheck(fspace >= 0 && mspace >= 0 && (count || H5Sselect_none(mspace) >= 0), f->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: dataset %s: cannot set up dataspaces%s", f->path, path, h5_why());
  PetscCall(select_flat(f, path, fspace, ndims, dims, start, count));
  PetscCall(h5_transfer(f, path, dir, dset, H5T_NATIVE_DOUBLE, mspace, fspace, local));
  PetscFunctionReturn(0);
}

static PetscErrorCode write_range(NnH5File *f, H5Scope *s, const char *path, int ndims, const hsize_t *dims,
                                  hsize_t start, hsize_t count, const double *local)
{
  hid_t dset;
  PetscFunctionBeginUser;
  PetscCall(check_range(f, path, ndims, dims, start, count, local));
  PetscCall(h5_dataset_for_write(f, s, path, ndims, dims, H5T_NATIVE_DOUBLE, &dset));
  PetscCall(range_transfer(f, s, path, XFER_WRITE, dset, ndims, dims, start, count, local));
  PetscFunctionReturn(0);
}

static PetscErrorCode read_range(NnH5File *f, H5Scope *s, const char *path, int ndims, const hsize_t *dims,
                                 hsize_t start, hsize_t count, double *local)
{
  hid_t   dset, space;
  int     have_n;
  hsize_t have[H5S_MAX_RANK];
  PetscFunctionBeginUser;
  PetscCall(check_range(f, path, ndims, dims, start, count, local));
  PetscCall(h5_dataset_open(f, s, path, &dset));
  PetscCall(h5_dataset_shape(f, s, dset, path, &space, &have_n, have));
  PetscCall(h5_dataset_check_shape(f, path, have_n, have, ndims, dims));
  PetscCall(h5_dataset_check_class(f, s, dset, path, H5T_NATIVE_DOUBLE));
  PetscCall(range_transfer(f, s, path, XFER_READ, dset, ndims, dims, start, count, local));
  PetscFunctionReturn(0);
}

/* A range's checksum is the dataset's when the ranks' ranges cover it. */
PetscErrorCode nn_h5_write_double_range(NnH5File *f, const char *path, int ndims, const hsize_t *dims, hsize_t start,
                                        hsize_t count, const double *local)
{
  H5Scope   s = {{0}, 0};
  PetscBool whole;
  int64_t   crc;
  PetscFunctionBeginUser;
  PetscCall(h5_scope_end(f, &s, write_range(f, &s, path, ndims, dims, start, count, local)));
  PetscCall(h5_crc32_parts(f->comm, start, count, sizeof(double), local, h5_dims_product(ndims, dims), &whole, &crc));
  if (whole) PetscCall(nn_h5_attr_int64(f, path, "crc32", crc));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_read_double_range(NnH5File *f, const char *path, int ndims, const hsize_t *dims, hsize_t start,
                                       hsize_t count, double *local)
{
  H5Scope   s = {{0}, 0};
  PetscBool whole;
  int64_t   crc;
  PetscFunctionBeginUser;
  PetscCall(h5_scope_end(f, &s, read_range(f, &s, path, ndims, dims, start, count, local)));
  PetscCall(h5_crc32_parts(f->comm, start, count, sizeof(double), local, h5_dims_product(ndims, dims), &whole, &crc));
  if (whole) PetscCall(h5_crc32_check(f, path, crc));
  PetscFunctionReturn(0);
}
