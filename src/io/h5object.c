/* Objects: groups, existence, external links; opening, creating and checking datasets. */
#include "h5impl.h"

#include <stdio.h>
#include <string.h>

static PetscErrorCode check_object_path(NnH5File *f, const char *path)
{
  PetscFunctionBeginUser;
  PetscCheck(f->file >= 0, f->comm, PETSC_ERR_ARG_WRONGSTATE, "%s: file is not open (accessing %s)", f->path, path);
  PetscCheck(path[0] == '/' && !strstr(path, "//") && (!path[1] || path[strlen(path) - 1] != '/'), f->comm,
             PETSC_ERR_ARG_WRONG, "%s: object path \"%s\" is not of the form /a/b", f->path, path);
  PetscCheck(strlen(path) < PETSC_MAX_PATH_LEN, f->comm, PETSC_ERR_ARG_SIZ, "%s: object path %s too long", f->path,
             path);
  PetscFunctionReturn(0);
}

static PetscErrorCode object_type(NnH5File *f, const char *path, H5I_type_t *type)
{
  hid_t o = H5Oopen(f->file, path, H5P_DEFAULT);
  PetscFunctionBeginUser;
  PetscCheck(o >= 0, f->comm, PETSC_ERR_FILE_READ, "%s: cannot open %s%s", f->path, path, h5_why());
  *type = H5Iget_type(o);
  PetscCheck(H5Oclose(o) >= 0, f->comm, PETSC_ERR_FILE_READ, "%s: cannot close %s%s", f->path, path, h5_why());
  PetscFunctionReturn(0);
}

/* PETSC_TRUE if every component of path exists, all but the last being groups
 * (H5Lexists alone fails when a parent is missing). */
PetscErrorCode nn_h5_exists(NnH5File *f, const char *path, PetscBool *exists)
{
  char       buf[PETSC_MAX_PATH_LEN];
  char      *p = buf + 1, *slash;
  H5I_type_t type;
  PetscFunctionBeginUser;
  PetscCall(check_object_path(f, path));
  PetscCall(PetscStrncpy(buf, path, sizeof buf));
  *exists = PETSC_TRUE;
  while (*exists && *p) {
    htri_t e;
    if ((slash = strchr(p, '/'))) *slash = 0;
    e = H5Lexists(f->file, buf, H5P_DEFAULT);
    PetscCheck(e >= 0, f->comm, PETSC_ERR_FILE_READ, "%s: cannot look up %s%s", f->path, buf, h5_why());
    *exists = e > 0 ? PETSC_TRUE : PETSC_FALSE;
    if (!slash) break;
    if (*exists) {
      PetscCall(object_type(f, buf, &type));
      *exists = type == H5I_GROUP ? PETSC_TRUE : PETSC_FALSE;
    }
    *slash = '/';
    p      = slash + 1;
  }
  PetscFunctionReturn(0);
}

/* A link creation property list that creates missing parent groups. */
static PetscErrorCode lcpl_with_parents(NnH5File *f, H5Scope *s, const char *path, hid_t *lcpl)
{
  PetscFunctionBeginUser;
  *lcpl = h5_scope_add(s, H5Pcreate(H5P_LINK_CREATE));
  PetscCheck(*lcpl >= 0 && H5Pset_create_intermediate_group(*lcpl, 1) >= 0, f->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: cannot prepare to create %s%s", f->path, path, h5_why());
  PetscFunctionReturn(0);
}

static PetscErrorCode group_create(NnH5File *f, H5Scope *s, const char *path)
{
  hid_t lcpl, g;
  PetscFunctionBeginUser;
  PetscCall(h5_reserve(f, 0, path));
  PetscCall(lcpl_with_parents(f, s, path, &lcpl));
  g = h5_scope_add(s, H5Gcreate2(f->file, path, lcpl, H5P_DEFAULT, H5P_DEFAULT));
  PetscCheck(g >= 0, f->comm, PETSC_ERR_FILE_WRITE, "%s: cannot create group %s%s", f->path, path, h5_why());
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_group(NnH5File *f, const char *path)
{
  PetscBool  exists;
  H5I_type_t type;
  H5Scope    s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(nn_h5_exists(f, path, &exists));
  if (exists) {
    PetscCall(object_type(f, path, &type));
    PetscCheck(type == H5I_GROUP, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s exists and is not a group", f->path,
               path);
    PetscFunctionReturn(0);
  }
  PetscCall(h5_scope_end(f, &s, group_create(f, &s, path)));
  PetscFunctionReturn(0);
}

/* An external link (HDF5 resolves a relative file name from the directory of f). */
static PetscErrorCode link_create(NnH5File *f, H5Scope *s, const char *path, const char *file, const char *target)
{
  hid_t lcpl;
  PetscFunctionBeginUser;
  PetscCall(h5_reserve(f, strlen(file) + strlen(target), path));
  PetscCall(lcpl_with_parents(f, s, path, &lcpl));
  PetscCheck(H5Lcreate_external(file, target, f->file, path, lcpl, H5P_DEFAULT) >= 0, f->comm, PETSC_ERR_FILE_WRITE,
             "%s: cannot link %s to %s:%s%s", f->path, path, file, target, h5_why());
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_link_external(NnH5File *f, const char *path, const char *file, const char *target)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(check_object_path(f, path));
  PetscCall(h5_scope_end(f, &s, link_create(f, &s, path, file, target)));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------- datasets -- */

PetscErrorCode h5_dataset_open(NnH5File *f, H5Scope *s, const char *path, hid_t *dset)
{
  PetscBool  exists;
  H5I_type_t type;
  char       why[256];
  PetscFunctionBeginUser;
  PetscCall(check_object_path(f, path));
  *dset = h5_scope_add(s, H5Dopen2(f->file, path, H5P_DEFAULT));
  if (*dset >= 0) PetscFunctionReturn(0);
  PetscCall(PetscStrncpy(why, h5_why(), sizeof why));
  PetscCall(nn_h5_exists(f, path, &exists));
  PetscCheck(exists, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: no dataset %s", f->path, path);
  PetscCall(object_type(f, path, &type));
  PetscCheck(type == H5I_DATASET, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s is not a dataset", f->path, path);
  SETERRQ(f->comm, PETSC_ERR_FILE_READ, "%s: cannot open dataset %s%s", f->path, path, why);
}

static void format_dims(int n, const hsize_t *d, char *buf, size_t len) /* "(2, 3)" */
{
  size_t k = (size_t)snprintf(buf, len, "(");
  for (int i = 0; i < n && k < len; i++)
    k += (size_t)snprintf(buf + k, len - k, "%s%llu", i ? ", " : "", (unsigned long long)d[i]);
  if (k < len) snprintf(buf + k, len - k, ")");
}

PetscErrorCode h5_dataset_shape(NnH5File *f, H5Scope *s, hid_t dset, const char *path, hid_t *space, int *ndims,
                                hsize_t dims[H5S_MAX_RANK])
{
  PetscFunctionBeginUser;
  *space = h5_scope_add(s, H5Dget_space(dset));
  *ndims = *space >= 0 ? H5Sget_simple_extent_ndims(*space) : -1;
  PetscCheck(*ndims >= 0 && H5Sget_simple_extent_dims(*space, dims, NULL) >= 0, f->comm, PETSC_ERR_FILE_READ,
             "%s: cannot read the shape of dataset %s%s", f->path, path, h5_why());
  PetscFunctionReturn(0);
}

PetscErrorCode h5_dataset_check_shape(NnH5File *f, const char *path, int have_n, const hsize_t *have, int n,
                                      const hsize_t *dims)
{
  PetscBool same = have_n == n ? PETSC_TRUE : PETSC_FALSE;
  char      hs[128], ws[128];
  PetscFunctionBeginUser;
  for (int i = 0; same && i < n; i++) same = have[i] == dims[i] ? PETSC_TRUE : PETSC_FALSE;
  if (same) PetscFunctionReturn(0);
  format_dims(have_n, have, hs, sizeof hs);
  format_dims(n, dims, ws, sizeof ws);
  SETERRQ(f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s has shape %s, expected %s", f->path, path, hs, ws);
}

const char *h5_class_name(H5T_class_t c)
{
  return c == H5T_FLOAT     ? "floating-point numbers"
         : c == H5T_INTEGER ? "integers"
         : c == H5T_STRING  ? "strings"
                            : "non-numeric data";
}

/* The dataset's element type must be of memtype's class (float / integer);
 * HDF5 converts sizes within a class. */
PetscErrorCode h5_dataset_check_class(NnH5File *f, H5Scope *s, hid_t dset, const char *path, hid_t memtype)
{
  hid_t       t = h5_scope_add(s, H5Dget_type(dset));
  H5T_class_t have, want = H5Tget_class(memtype);
  PetscFunctionBeginUser;
  have = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
  PetscCheck(have != H5T_NO_CLASS, f->comm, PETSC_ERR_FILE_READ, "%s: cannot read the type of dataset %s%s", f->path,
             path, h5_why());
  PetscCheck(have == want, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s holds %s, expected %s", f->path, path,
             h5_class_name(have), h5_class_name(want));
  PetscFunctionReturn(0);
}

/* Little-endian file type for a native memory type (double or int64). */
hid_t h5_file_type(hid_t memtype) { return H5Tget_class(memtype) == H5T_FLOAT ? H5T_IEEE_F64LE : H5T_STD_I64LE; }

/* New contiguous dataset (missing parent groups are created). */
static PetscErrorCode dataset_create(NnH5File *f, H5Scope *s, const char *path, int ndims, const hsize_t *dims,
                                     hid_t memtype, hid_t *dset)
{
  hid_t space, lcpl;
  PetscFunctionBeginUser;
  PetscCheck(ndims >= 0 && ndims <= H5S_MAX_RANK, f->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "%s: dataset %s: %d dimensions (at most %d)", f->path, path, ndims, H5S_MAX_RANK);
  space = h5_scope_add(s, ndims ? H5Screate_simple(ndims, dims, NULL) : H5Screate(H5S_SCALAR));
  PetscCheck(space >= 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: dataset %s: invalid shape%s", f->path, path, h5_why());
  PetscCall(h5_reserve(f, h5_dims_product(ndims, dims) * H5Tget_size(memtype), path)); /* its storage: allocated now */
  PetscCall(lcpl_with_parents(f, s, path, &lcpl));
  *dset = h5_scope_add(s, H5Dcreate2(f->file, path, h5_file_type(memtype), space, lcpl, H5P_DEFAULT, H5P_DEFAULT));
  PetscCheck(*dset >= 0, f->comm, PETSC_ERR_FILE_WRITE, "%s: cannot create dataset %s%s", f->path, path, h5_why());
  PetscFunctionReturn(0);
}

/* The dataset to write at path: created if absent, else checked to have this
 * shape and element class. */
PetscErrorCode h5_dataset_for_write(NnH5File *f, H5Scope *s, const char *path, int ndims, const hsize_t *dims,
                                    hid_t memtype, hid_t *dset)
{
  PetscBool exists;
  hid_t     space;
  int       have_n;
  hsize_t   have[H5S_MAX_RANK];
  PetscFunctionBeginUser;
  PetscCall(nn_h5_exists(f, path, &exists));
  if (!exists) {
    PetscCall(dataset_create(f, s, path, ndims, dims, memtype, dset));
    PetscFunctionReturn(0);
  }
  PetscCall(h5_dataset_open(f, s, path, dset));
  PetscCall(h5_dataset_shape(f, s, *dset, path, &space, &have_n, have));
  PetscCall(h5_dataset_check_shape(f, path, have_n, have, ndims, dims));
  PetscCall(h5_dataset_check_class(f, s, *dset, path, memtype));
  PetscFunctionReturn(0);
}

PetscErrorCode h5_transfer(NnH5File *f, const char *path, XferDir dir, hid_t dset, hid_t memtype, hid_t mspace,
                           hid_t fspace, const void *buf)
{
  static double dummy; /* HDF5 rejects a NULL buffer even for an empty selection */
  void         *b    = buf ? (void *)buf : &dummy;
  hid_t         dxpl = H5Pcreate(H5P_DATASET_XFER);
  herr_t        st   = dxpl >= 0 ? H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) : -1;
  char          why[H5_WHY_LEN] = "";
  PetscBool     failed;
  PetscFunctionBeginUser;
  if (st >= 0)
    st = dir == XFER_WRITE ? H5Dwrite(dset, memtype, mspace, fspace, dxpl, b)
                           : H5Dread(dset, memtype, mspace, fspace, dxpl, b);
  if (st < 0) PetscCall(PetscStrncpy(why, h5_why(), sizeof why)); /* before H5Pclose clears HDF5's error stack */
  if (dxpl >= 0) H5Pclose(dxpl);
  PetscCall(h5_agree(f->comm, st < 0, why, &failed));
  PetscCheck(!failed, f->comm, dir == XFER_WRITE ? PETSC_ERR_FILE_WRITE : PETSC_ERR_FILE_READ,
             "%s: cannot %s dataset %s%s", f->path, dir == XFER_WRITE ? "write" : "read", path, why);
  PetscFunctionReturn(0);
}
