/* A compacted copy of an HDF5 file, made by one process (rank 0) with HDF5's
 * serial driver: every group, dataset and attribute, read and written again
 * into a new file in nncas's format (HDF5 1.8). HDF5 does not reclaim the
 * space of replaced or deleted objects, so a results file updated in place
 * grows with every rewrite; the copy leaves that space behind. (Not H5Ocopy:
 * HDF5 1.10 crashes copying variable-length string attributes kept in dense
 * storage, H5T__conv_vlen.) */
#include "h5impl.h"

#include <errno.h>
#include <stdlib.h>

static herr_t copy_attribute(hid_t loc, const char *name, const H5A_info_t *info, void *dst)
{
  hid_t  a = H5Aopen(loc, name, H5P_DEFAULT), type = -1, space = -1, b = -1;
  herr_t rc = -1;
  void  *buf = NULL;
  (void)info;
  if (a >= 0) type = H5Aget_type(a), space = H5Aget_space(a);
  if (type >= 0 && space >= 0) {
    size_t n = H5Tget_size(type) * (size_t)PetscMax(H5Sget_simple_extent_npoints(space), 1);
    buf      = calloc(1, n);
    b        = H5Acreate2(*(hid_t *)dst, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (buf && b >= 0 && H5Aread(a, type, buf) >= 0 && H5Awrite(b, type, buf) >= 0) rc = 0;
  }
  if (buf && type >= 0 && space >= 0 && H5Tis_variable_str(type) > 0) H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf);
  free(buf);
  if (b >= 0) H5Aclose(b);
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  if (a >= 0) H5Aclose(a);
  return rc;
}

/* All attributes of object src onto object dst. */
static int copy_attributes(hid_t src, hid_t dst) { return H5Aiterate2(src, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, copy_attribute, &dst) >= 0; }

/* Dataset name of group src, its values, creation properties (layout,
 * chunks) and attributes, into group dst. */
static int copy_dataset(hid_t src, const char *name, hid_t dst)
{
  hid_t  d = H5Dopen2(src, name, H5P_DEFAULT), type = -1, space = -1, dcpl = -1, e = -1;
  int    ok = 0;
  void  *buf = NULL;
  if (d >= 0) type = H5Dget_type(d), space = H5Dget_space(d), dcpl = H5Dget_create_plist(d);
  if (type >= 0 && space >= 0 && dcpl >= 0) {
    size_t n = H5Tget_size(type) * (size_t)PetscMax(H5Sget_simple_extent_npoints(space), 1);
    buf      = calloc(1, n);
    e        = H5Dcreate2(dst, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ok       = buf && e >= 0 && H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0 &&
         H5Dwrite(e, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0 && copy_attributes(d, e);
  }
  if (buf && H5Tdetect_class(type, H5T_VLEN) > 0) H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf);
  free(buf);
  if (e >= 0) H5Dclose(e);
  if (dcpl >= 0) H5Pclose(dcpl);
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  if (d >= 0) H5Dclose(d);
  return ok;
}

static herr_t copy_link(hid_t src, const char *name, const H5L_info_t *info, void *dstp);

/* Group name of group src, with everything in it, into group dst. */
static int copy_group(hid_t src, const char *name, hid_t dst)
{
  hid_t g = H5Gopen2(src, name, H5P_DEFAULT), h = g >= 0 ? H5Gcreate2(dst, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
  int   ok = h >= 0 && copy_attributes(g, h) && H5Literate(g, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, copy_link, &h) >= 0;
  if (h >= 0) H5Gclose(h);
  if (g >= 0) H5Gclose(g);
  return ok;
}

static herr_t copy_link(hid_t src, const char *name, const H5L_info_t *info, void *dstp)
{
  H5O_info_t o;
  hid_t      dst = *(hid_t *)dstp;
  if (info->type != H5L_TYPE_HARD || H5Oget_info_by_name(src, name, &o, H5P_DEFAULT) < 0) return -1; /* nncas writes hard links only */
  if (o.type == H5O_TYPE_GROUP) return copy_group(src, name, dst) ? 0 : -1;
  if (o.type == H5O_TYPE_DATASET) return copy_dataset(src, name, dst) ? 0 : -1;
  return -1;
}

void h5_compact_copy(const char *src, const char *dst, int st[2])
{
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), in = -1, out = -1, root = -1;
  int   ok   = fapl >= 0 && H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) >= 0;
  if (ok) ok = (in = H5Fopen(src, H5F_ACC_RDONLY, H5P_DEFAULT)) >= 0;
  if (ok) ok = (out = H5Fcreate(dst, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)) >= 0;
  if (ok) ok = (root = H5Gopen2(out, "/", H5P_DEFAULT)) >= 0;
  if (ok) ok = H5Literate(in, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, copy_link, &root) >= 0;
  if (ok) ok = copy_attributes(in, root);
  if (root >= 0) H5Gclose(root);
  if (out >= 0 && H5Fclose(out) < 0) ok = 0;
  if (in >= 0) H5Fclose(in);
  if (fapl >= 0) H5Pclose(fapl);
  if (!ok) (void)fs_remove(dst);
  st[0] = !ok;
  st[1] = ok ? 0 : errno ? errno : EIO;
}
