/* Attributes: numeric, arrays, and strings (UTF-8, variable or fixed length). */
#include "h5impl.h"

#include <string.h>

static PetscErrorCode require_object(NnH5File *f, const char *obj, const char *name)
{
  PetscBool exists;
  PetscFunctionBeginUser;
  PetscCall(nn_h5_exists(f, obj, &exists));
  PetscCheck(exists, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: no object %s (for attribute \"%s\")", f->path, obj, name);
  PetscFunctionReturn(0);
}

/* The bytes of an attribute's value: a variable-length string's characters,
 * else the values' size in memory. */
static hsize_t attr_bytes(hid_t space, hid_t memtype, const void *value)
{
  hssize_t n = H5Sget_simple_extent_npoints(space);
  if (H5Tis_variable_str(memtype) > 0) return strlen(*(const char *const *)value) + 1;
  return (hsize_t)(n > 0 ? n : 0) * H5Tget_size(memtype);
}

/* Writes attribute name of obj (replacing one of that name, whose type or size
 * may differ): every rank creates and writes it with the same value. */
static PetscErrorCode attr_write(NnH5File *f, H5Scope *s, const char *obj, const char *name, hid_t ftype, hid_t space,
                                 hid_t memtype, const void *value)
{
  htri_t has;
  hid_t  attr;
  char   what[PETSC_MAX_PATH_LEN + 64];
  PetscFunctionBeginUser;
  PetscCall(require_object(f, obj, name));
  PetscCheck(space >= 0, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s: attribute \"%s\": cannot create its dataspace%s",
             f->path, obj, name, h5_why());
  PetscCall(PetscSNPrintf(what, sizeof what, "attribute \"%s\" of %s", name, obj));
  PetscCall(h5_reserve(f, attr_bytes(space, memtype, value), what));
  has = H5Aexists_by_name(f->file, obj, name, H5P_DEFAULT);
  PetscCheck(has >= 0 && (!has || H5Adelete_by_name(f->file, obj, name, H5P_DEFAULT) >= 0), f->comm,
             PETSC_ERR_FILE_WRITE, "%s: %s: cannot replace attribute \"%s\"%s", f->path, obj, name, h5_why());
  attr = h5_scope_add(s, H5Acreate_by_name(f->file, obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCheck(attr >= 0 && H5Awrite(attr, memtype, value) >= 0, f->comm, PETSC_ERR_FILE_WRITE,
             "%s: %s: cannot write attribute \"%s\"%s", f->path, obj, name, h5_why());
  PetscFunctionReturn(0);
}

/* Variable-length UTF-8 string type (what h5py writes and reads as str). */
static PetscErrorCode utf8_string_type(NnH5File *f, H5Scope *s, hid_t *type)
{
  PetscFunctionBeginUser;
  *type = h5_scope_add(s, H5Tcopy(H5T_C_S1));
  PetscCheck(*type >= 0 && H5Tset_size(*type, H5T_VARIABLE) >= 0 && H5Tset_cset(*type, H5T_CSET_UTF8) >= 0, f->comm,
             PETSC_ERR_FILE_UNEXPECTED, "%s: cannot make a string type%s", f->path, h5_why());
  PetscFunctionReturn(0);
}

static PetscErrorCode attr_write_string(NnH5File *f, H5Scope *s, const char *obj, const char *name, const char *value)
{
  hid_t type;
  PetscFunctionBeginUser;
  PetscCall(utf8_string_type(f, s, &type));
  PetscCall(attr_write(f, s, obj, name, type, h5_scope_add(s, H5Screate(H5S_SCALAR)), type, &value));
  PetscFunctionReturn(0);
}

/* A numeric attribute of n values (n = 0: scalar). */
static PetscErrorCode attr_write_numeric(NnH5File *f, H5Scope *s, const char *obj, const char *name, hid_t memtype,
                                         int ndims, hsize_t n, const void *v)
{
  static double none; /* HDF5 rejects a NULL buffer even for no values */
  hid_t         space;
  PetscFunctionBeginUser;
  space = h5_scope_add(s, ndims ? H5Screate_simple(1, &n, NULL) : H5Screate(H5S_SCALAR));
  PetscCall(attr_write(f, s, obj, name, h5_file_type(memtype), space, memtype, v ? v : &none));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_attr_string(NnH5File *f, const char *obj, const char *name, const char *value)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(h5_scope_end(f, &s, attr_write_string(f, &s, obj, name, value)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_attr_double(NnH5File *f, const char *obj, const char *name, double value)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(h5_scope_end(f, &s, attr_write_numeric(f, &s, obj, name, H5T_NATIVE_DOUBLE, 0, 1, &value)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_attr_int64(NnH5File *f, const char *obj, const char *name, int64_t value)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(h5_scope_end(f, &s, attr_write_numeric(f, &s, obj, name, H5T_NATIVE_INT64, 0, 1, &value)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_attr_double_array(NnH5File *f, const char *obj, const char *name, hsize_t n, const double *v)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(h5_scope_end(f, &s, attr_write_numeric(f, &s, obj, name, H5T_NATIVE_DOUBLE, 1, n, v)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_describe(NnH5File *f, const char *obj, const char *units, const char *description)
{
  PetscFunctionBeginUser;
  PetscCall(nn_h5_attr_string(f, obj, "units", units));
  PetscCall(nn_h5_attr_string(f, obj, "description", description));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_has_attr(NnH5File *f, const char *obj, const char *name, PetscBool *has)
{
  htri_t e;
  PetscFunctionBeginUser;
  PetscCall(require_object(f, obj, name));
  e = H5Aexists_by_name(f->file, obj, name, H5P_DEFAULT);
  PetscCheck(e >= 0, f->comm, PETSC_ERR_FILE_READ, "%s: %s: cannot look up attribute \"%s\"%s", f->path, obj, name,
             h5_why());
  *has = e > 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* Opens attribute name of obj with its type and its number of values; a
 * missing one is an error naming file, object and attribute. */
static PetscErrorCode attr_open(NnH5File *f, H5Scope *s, const char *obj, const char *name, hid_t *attr, hid_t *type,
                                hid_t *space, hssize_t *n)
{
  PetscBool has;
  hid_t     o;
  PetscFunctionBeginUser;
  PetscCall(nn_h5_has_attr(f, obj, name, &has));
  PetscCheck(has, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s has no attribute \"%s\"", f->path, obj, name);
  /* through the object, which keeps the file it is in open (an external
   * link's target) while a variable-length value is read from that file */
  o      = h5_scope_add(s, H5Oopen(f->file, obj, H5P_DEFAULT));
  *attr  = o >= 0 ? h5_scope_add(s, H5Aopen(o, name, H5P_DEFAULT)) : H5I_INVALID_HID;
  *type  = *attr >= 0 ? h5_scope_add(s, H5Aget_type(*attr)) : H5I_INVALID_HID;
  *space = *type >= 0 ? h5_scope_add(s, H5Aget_space(*attr)) : H5I_INVALID_HID;
  *n     = *space >= 0 ? H5Sget_simple_extent_npoints(*space) : -1;
  PetscCheck(*n >= 0, f->comm, PETSC_ERR_FILE_READ, "%s: %s: cannot open attribute \"%s\"%s", f->path, obj, name,
             h5_why());
  PetscFunctionReturn(0);
}

/* Reads a numeric attribute of exactly n values. */
static PetscErrorCode attr_read_numeric(NnH5File *f, H5Scope *s, const char *obj, const char *name, hid_t memtype,
                                        hsize_t n, void *v)
{
  hid_t    attr = H5I_INVALID_HID, type = H5I_INVALID_HID, space = H5I_INVALID_HID;
  hssize_t have;
  PetscFunctionBeginUser;
  PetscCall(attr_open(f, s, obj, name, &attr, &type, &space, &have));
  PetscCheck(H5Tget_class(type) == H5Tget_class(memtype), f->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: %s: attribute \"%s\" holds %s, expected %s", f->path, obj, name, h5_class_name(H5Tget_class(type)),
             h5_class_name(H5Tget_class(memtype)));
  PetscCheck((hsize_t)have == n, f->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: %s: attribute \"%s\" has %lld values, expected %llu", f->path, obj, name, (long long)have,
             (unsigned long long)n);
  PetscCheck(!n || H5Aread(attr, memtype, v) >= 0, f->comm, PETSC_ERR_FILE_READ,
             "%s: %s: cannot read attribute \"%s\"%s", f->path, obj, name, h5_why());
  PetscFunctionReturn(0);
}

static PetscErrorCode copy_attr_string(NnH5File *f, const char *obj, const char *name, const char *src, size_t len,
                                       char *value)
{
  PetscFunctionBeginUser;
  PetscCheck(strlen(src) < len, f->comm, PETSC_ERR_ARG_SIZ, "%s: %s: attribute \"%s\" (%zu bytes) is too long for %zu",
             f->path, obj, name, strlen(src), len);
  PetscCall(PetscStrncpy(value, src, len));
  PetscFunctionReturn(0);
}

/* Variable-length string: HDF5 allocates it, H5Dvlen_reclaim frees it. */
static PetscErrorCode attr_read_vlen_string(NnH5File *f, H5Scope *s, const char *obj, const char *name, hid_t attr,
                                            hid_t space, size_t len, char *value)
{
  hid_t          mtype;
  char          *p = NULL;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(utf8_string_type(f, s, &mtype));
  PetscCheck(H5Aread(attr, mtype, &p) >= 0, f->comm, PETSC_ERR_FILE_READ, "%s: %s: cannot read attribute \"%s\"%s",
             f->path, obj, name, h5_why());
  ierr = copy_attr_string(f, obj, name, p ? p : "", len, value);
  H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, &p);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* Fixed-length string of `size` bytes, NUL- or space-padded. */
static PetscErrorCode attr_read_fixed_string(NnH5File *f, const char *obj, const char *name, hid_t attr, hid_t type,
                                             size_t len, char *value)
{
  size_t         size = H5Tget_size(type), n;
  char          *buf;
  herr_t         st;
  PetscErrorCode ierr = 0;
  PetscFunctionBeginUser;
  PetscCall(PetscCalloc1(size + 1, &buf));
  st = H5Aread(attr, type, buf);
  if (st >= 0 && H5Tget_strpad(type) == H5T_STR_SPACEPAD)
    for (n = strlen(buf); n > 0 && buf[n - 1] == ' '; n--) buf[n - 1] = 0;
  if (st >= 0) ierr = copy_attr_string(f, obj, name, buf, len, value);
  PetscCall(PetscFree(buf));
  PetscCheck(st >= 0, f->comm, PETSC_ERR_FILE_READ, "%s: %s: cannot read attribute \"%s\"", f->path, obj, name);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

static PetscErrorCode attr_read_string(NnH5File *f, H5Scope *s, const char *obj, const char *name, size_t len,
                                       char *value)
{
  hid_t    attr = H5I_INVALID_HID, type = H5I_INVALID_HID, space = H5I_INVALID_HID;
  hssize_t n;
  htri_t   vlen;
  PetscFunctionBeginUser;
  PetscCall(attr_open(f, s, obj, name, &attr, &type, &space, &n));
  PetscCheck(H5Tget_class(type) == H5T_STRING && n == 1, f->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: %s: attribute \"%s\" is not a string", f->path, obj, name);
  vlen = H5Tis_variable_str(type);
  PetscCheck(vlen >= 0, f->comm, PETSC_ERR_FILE_READ, "%s: %s: attribute \"%s\": cannot read its type%s", f->path, obj,
             name, h5_why());
  if (vlen)
    PetscCall(attr_read_vlen_string(f, s, obj, name, attr, space, len, value));
  else
    PetscCall(attr_read_fixed_string(f, obj, name, attr, type, len, value));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_get_attr_string(NnH5File *f, const char *obj, const char *name, size_t len, char *value)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(h5_scope_end(f, &s, attr_read_string(f, &s, obj, name, len, value)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_get_attr_double(NnH5File *f, const char *obj, const char *name, double *value)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(h5_scope_end(f, &s, attr_read_numeric(f, &s, obj, name, H5T_NATIVE_DOUBLE, 1, value)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_get_attr_int64(NnH5File *f, const char *obj, const char *name, int64_t *value)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(h5_scope_end(f, &s, attr_read_numeric(f, &s, obj, name, H5T_NATIVE_INT64, 1, value)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_get_attr_double_array(NnH5File *f, const char *obj, const char *name, hsize_t n, double *v)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(h5_scope_end(f, &s, attr_read_numeric(f, &s, obj, name, H5T_NATIVE_DOUBLE, n, v)));
  PetscFunctionReturn(0);
}
