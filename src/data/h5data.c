/* -data_format h5: the user's samples in an HDF5 file.
 *
 *   /train/x   (n, F) or (n, C, H, W), float32 or float64: the samples
 *              (a flat sample of F features has the shape F x 1 x 1)
 *   /train/y   (n), any integer type or floats holding integers: the labels
 *   /val/x, /val/y   the validation split, the same way (optional group)
 *
 * Every rank opens the file on its own (HDF5's sequential driver, read-only)
 * and reads all of it, as every rank reads the IDX files: the outcome, and any
 * error, is the same on every rank without communication, so no rank waits.
 * An error is one line naming the file, the object and the problem. HDF5
 * converts the values to double (exactly: float32, and integers up to 2^53);
 * they are used as given.
 *
 * Nothing a file claims is trusted before it is checked: the shapes are
 * checked before anything is allocated, and an uncompressed dataset must have
 * all its bytes stored inside the file, so a damaged header claiming billions
 * of samples fails at once. (A compressed dataset's size is taken as HDF5
 * reports it.) */
#include "data_impl.h"

#include "nncas/h5io.h" /* nn_h5_init: HDF5's own error printing off */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define H5DATA_WHY_LEN 256

/* One split's datasets, opened, and what their metadata say. */
typedef struct {
  const char *group;    /* "/train" or "/val" */
  char        xname[16], yname[16];
  hid_t       x, y;     /* H5I_INVALID_HID when not open */
  PetscInt    n, shape[3];
} H5Split;

static herr_t why_walk(unsigned n, const H5E_error2_t *e, void *ctx)
{
  if (n == 0 && e->desc) snprintf((char *)ctx, H5DATA_WHY_LEN, " (HDF5: %s)", e->desc);
  return 0;
}

/* why <- " (HDF5: <innermost message>)" of the failure HDF5 reported last. */
static void h5data_why(char *why)
{
  why[0] = 0;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, why_walk, why);
}

/* ----------------------------------------------------------------- file -- */

/* Whether path begins with HDF5's signature (after H5Fopen failed: then it is
 * an HDF5 file that is truncated or damaged, rather than something else). */
static PetscBool h5data_has_signature(const char *path)
{
  static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  unsigned char              head[8];
  FILE                      *f   = fopen(path, "rb");
  size_t                     got = f ? fread(head, 1, sizeof head, f) : 0;
  if (f) fclose(f);
  return got == sizeof head && !memcmp(head, sig, sizeof sig) ? PETSC_TRUE : PETSC_FALSE;
}

/* *file <- path opened read-only by this rank alone. */
static PetscErrorCode h5data_open(MPI_Comm comm, const char *path, hid_t *file)
{
  char  why[H5DATA_WHY_LEN];
  FILE *f;
  hid_t fapl;
  PetscFunctionBeginUser;
  PetscCall(nn_h5_init());
  f = fopen(path, "rb");
  PetscCheck(f, comm, PETSC_ERR_FILE_OPEN, "%s: cannot open (%s)", path, strerror(errno));
  fclose(f);
  fapl = H5Pcreate(H5P_FILE_ACCESS);
  PetscCheck(fapl >= 0, comm, PETSC_ERR_LIB, "%s: cannot create a file access list", path);
#if H5_VERSION_GE(1, 10, 7)
  (void)H5Pset_file_locking(fapl, 0, 1); /* reading only: no lock (some file systems refuse them) */
#endif
  *file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  h5data_why(why);
  H5Pclose(fapl);
  if (*file >= 0) PetscFunctionReturn(0);
  PetscCheck(h5data_has_signature(path), comm, PETSC_ERR_FILE_UNEXPECTED, "%s: not an HDF5 file", path);
  SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "%s: truncated or damaged HDF5 file%s", path, why);
}

/* *obj <- the object `name` opened, or H5I_INVALID_HID if there is none; an
 * object of another kind there (a dataset where a group belongs) is an error. */
static PetscErrorCode h5data_find(MPI_Comm comm, const char *path, hid_t file, const char *name, H5I_type_t want,
                                  hid_t *obj)
{
  char       why[H5DATA_WHY_LEN];
  htri_t     exists = H5Lexists(file, name, H5P_DEFAULT);
  H5I_type_t kind;
  PetscFunctionBeginUser;
  *obj = H5I_INVALID_HID;
  h5data_why(why);
  PetscCheck(exists >= 0, comm, PETSC_ERR_FILE_UNEXPECTED, "%s: cannot look up %s%s", path, name, why);
  if (!exists) PetscFunctionReturn(0);
  *obj = H5Oopen(file, name, H5P_DEFAULT);
  h5data_why(why);
  PetscCheck(*obj >= 0, comm, PETSC_ERR_FILE_UNEXPECTED, "%s: cannot open %s%s", path, name, why);
  kind = H5Iget_type(*obj);
  if (kind == want) PetscFunctionReturn(0);
  H5Oclose(*obj);
  *obj = H5I_INVALID_HID;
  SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s is not a %s", path, name, want == H5I_GROUP ? "group" : "dataset");
}

/* ------------------------------------------------------------- metadata -- */

/* The element type and dimensions of dataset dset (rank <= H5S_MAX_RANK). */
static PetscErrorCode h5data_describe(MPI_Comm comm, const char *path, const char *name, hid_t dset, H5T_class_t *cls,
                                      size_t *size, int *rank, hsize_t *dims)
{
  hid_t type = H5Dget_type(dset), space = H5Dget_space(dset);
  PetscFunctionBeginUser;
  *cls  = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
  *size = type >= 0 ? H5Tget_size(type) : 0;
  *rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
  if (*rank >= 0 && H5Sget_simple_extent_dims(space, dims, NULL) < 0) *rank = -1;
  if (type >= 0) H5Tclose(type);
  if (space >= 0) H5Sclose(space);
  PetscCheck(*rank >= 0 && *cls != H5T_NO_CLASS, comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: %s: cannot read its type and shape", path, name);
  PetscFunctionReturn(0);
}

static const char *h5data_class_name(H5T_class_t cls)
{
  return cls == H5T_INTEGER ? "integer" : cls == H5T_FLOAT ? "float" : cls == H5T_STRING ? "string" : "non-numeric";
}

/* sp->n, sp->shape <- the samples dataset sp->x: float32 or float64, rank 2
 * (n, F: per-sample shape F x 1 x 1) or 4 (n, C, H, W), not empty, and small
 * enough to index. */
static PetscErrorCode h5data_x_shape(MPI_Comm comm, const char *path, H5Split *sp)
{
  H5T_class_t cls;
  size_t      size;
  int         rank;
  hsize_t     dims[H5S_MAX_RANK], d = 1;
  PetscFunctionBeginUser;
  PetscCall(h5data_describe(comm, path, sp->xname, sp->x, &cls, &size, &rank, dims));
  PetscCheck(cls == H5T_FLOAT && (size == 4 || size == 8), comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: %s: %zu-byte %s elements (expected float32 or float64)", path, sp->xname, size,
             h5data_class_name(cls));
  PetscCheck(rank == 2 || rank == 4, comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: %s: rank %d (expected samples x features or samples x C x H x W)", path, sp->xname, rank);
  for (int k = 1; k < rank; k++) d *= dims[k]; /* each factor < 2^31 once d > 0 is checked below */
  PetscCheck(dims[0] > 0 && d > 0, comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s is empty", path, sp->xname);
  for (int k = 1; k < rank; k++)
    PetscCheck(dims[k] <= PETSC_MAX_INT, comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s: dimension %d is too large", path,
               sp->xname, k);
  PetscCheck(d <= PETSC_MAX_INT && dims[0] <= PETSC_MAX_INT && dims[0] <= SIZE_MAX / sizeof(double) / d, comm,
             PETSC_ERR_FILE_UNEXPECTED, "%s: %s: %llu samples of %llu values are too many to hold", path, sp->xname,
             (unsigned long long)dims[0], (unsigned long long)d);
  sp->n        = (PetscInt)dims[0];
  sp->shape[0] = (PetscInt)dims[1];
  sp->shape[1] = rank == 4 ? (PetscInt)dims[2] : 1;
  sp->shape[2] = rank == 4 ? (PetscInt)dims[3] : 1;
  PetscFunctionReturn(0);
}

/* The labels dataset sp->y: integers or floats, rank 1, one per sample of x. */
static PetscErrorCode h5data_y_check(MPI_Comm comm, const char *path, const H5Split *sp)
{
  H5T_class_t cls;
  size_t      size;
  int         rank;
  hsize_t     dims[H5S_MAX_RANK];
  PetscFunctionBeginUser;
  PetscCall(h5data_describe(comm, path, sp->yname, sp->y, &cls, &size, &rank, dims));
  PetscCheck(cls == H5T_INTEGER || cls == H5T_FLOAT, comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: %s: %s elements (expected integer labels)", path, sp->yname, h5data_class_name(cls));
  PetscCheck(rank == 1, comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s: rank %d (expected one label per sample)", path,
             sp->yname, rank);
  PetscCheck(dims[0] == (hsize_t)sp->n, comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s: %llu labels for %" PetscInt_FMT
             " samples of %s", path, sp->yname, (unsigned long long)dims[0], sp->n, sp->xname);
  PetscFunctionReturn(0);
}

/* Opens and checks the metadata of split sp->group; *present <- whether the
 * group exists (the training group must). */
static PetscErrorCode h5data_split_open(MPI_Comm comm, const char *path, hid_t file, PetscBool required, H5Split *sp,
                                        PetscBool *present)
{
  hid_t group;
  PetscFunctionBeginUser;
  PetscCall(h5data_find(comm, path, file, sp->group, H5I_GROUP, &group));
  *present = group >= 0 ? PETSC_TRUE : PETSC_FALSE;
  if (group >= 0) H5Oclose(group);
  PetscCheck(*present || !required, comm, PETSC_ERR_FILE_UNEXPECTED, "%s: no group %s", path, sp->group);
  if (!*present) PetscFunctionReturn(0);
  PetscCall(h5data_find(comm, path, file, sp->xname, H5I_DATASET, &sp->x));
  PetscCheck(sp->x >= 0, comm, PETSC_ERR_FILE_UNEXPECTED, "%s: no dataset %s", path, sp->xname);
  PetscCall(h5data_find(comm, path, file, sp->yname, H5I_DATASET, &sp->y));
  PetscCheck(sp->y >= 0, comm, PETSC_ERR_FILE_UNEXPECTED, "%s: no dataset %s", path, sp->yname);
  PetscCall(h5data_x_shape(comm, path, sp));
  PetscCall(h5data_y_check(comm, path, sp));
  PetscFunctionReturn(0);
}

/* The validation samples must have the training samples' shape. */
static PetscErrorCode h5data_same_shape(MPI_Comm comm, const char *path, const H5Split *val, const H5Split *train)
{
  const PetscInt *v = val->shape, *t = train->shape;
  PetscFunctionBeginUser;
  PetscCheck(v[0] == t[0] && v[1] == t[1] && v[2] == t[2], comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: %s: per-sample shape %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT " differs from %s's %" PetscInt_FMT
             "x%" PetscInt_FMT "x%" PetscInt_FMT,
             path, val->xname, v[0], v[1], v[2], train->xname, t[0], t[1], t[2]);
  PetscFunctionReturn(0);
}

/* ----------------------------------------------------------------- data -- */

/* An uncompressed dataset (no filter) of nelem elements must have all its
 * bytes stored, inside the file: else the file is damaged or was written
 * incompletely, and nothing is allocated for what it claims. */
static PetscErrorCode h5data_check_stored(MPI_Comm comm, const char *path, hid_t file, const char *name, hid_t dset,
                                          hsize_t nelem)
{
  hid_t   dcpl = H5Dget_create_plist(dset), type = H5Dget_type(dset);
  int     nfilters = dcpl >= 0 ? H5Pget_nfilters(dcpl) : -1;
  hsize_t stored = H5Dget_storage_size(dset), fsize = 0, bytes = nelem * (type >= 0 ? H5Tget_size(type) : 0);
  PetscFunctionBeginUser;
  if (H5Fget_filesize(file, &fsize) < 0) fsize = 0;
  if (dcpl >= 0) H5Pclose(dcpl);
  if (type >= 0) H5Tclose(type);
  if (nfilters > 0) PetscFunctionReturn(0);
  PetscCheck(nfilters == 0 && stored >= bytes && bytes <= fsize, comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: %s: only %llu of its %llu bytes are stored in the file (damaged, or written incompletely?)", path,
             name, (unsigned long long)stored, (unsigned long long)bytes);
  PetscFunctionReturn(0);
}

/* out (count doubles, allocated by the caller) <- dataset dset, converted by HDF5. */
static PetscErrorCode h5data_read_doubles(MPI_Comm comm, const char *path, const char *name, hid_t dset, double *out)
{
  char why[H5DATA_WHY_LEN];
  PetscFunctionBeginUser;
  if (H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0) PetscFunctionReturn(0);
  h5data_why(why);
  SETERRQ(comm, PETSC_ERR_FILE_READ, "%s: %s: cannot read%s", path, name, why);
}

/* buf <- v in the shortest decimal form that reads back exactly ("2.5"). */
static void h5data_format_real(double v, char *buf, size_t len)
{
  for (int digits = 6; digits <= 17; digits++) {
    snprintf(buf, len, "%.*g", digits, v);
    if (strtod(buf, NULL) == v) return;
  }
}

/* Every value finite, every label an integer. */
static PetscErrorCode h5data_check_values(MPI_Comm comm, const char *path, const H5Split *sp, const NnSamples *s)
{
  const size_t d = (size_t)sp->shape[0] * (size_t)sp->shape[1] * (size_t)sp->shape[2];
  char         text[64];
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < s->n; i++)
    for (size_t k = (size_t)i * d; k < (size_t)(i + 1) * d; k++)
      PetscCheck(isfinite(s->values[k]), comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s: sample %" PetscInt_FMT
                 " holds NaN or Inf", path, sp->xname, i);
  for (PetscInt i = 0; i < s->n; i++) {
    if (isfinite(s->label[i]) && s->label[i] == floor(s->label[i])) continue;
    h5data_format_real(s->label[i], text, sizeof text);
    SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s: label %s is not an integer", path, sp->yname, text);
  }
  PetscFunctionReturn(0);
}

/* s <- the samples and labels of the opened split sp (s is freed by the caller on error). */
static PetscErrorCode h5data_split_read(MPI_Comm comm, const char *path, hid_t file, const H5Split *sp, NnSamples *s)
{
  const PetscInt d = sp->shape[0] * sp->shape[1] * sp->shape[2];
  PetscFunctionBeginUser;
  PetscCall(h5data_check_stored(comm, path, file, sp->xname, sp->x, (hsize_t)sp->n * (hsize_t)d));
  PetscCall(h5data_check_stored(comm, path, file, sp->yname, sp->y, (hsize_t)sp->n));
  PetscCall(nn_samples_alloc_values(s, sp->n, d));
  PetscCall(h5data_read_doubles(comm, path, sp->xname, sp->x, s->values));
  PetscCall(h5data_read_doubles(comm, path, sp->yname, sp->y, s->label));
  PetscCall(h5data_check_values(comm, path, sp, s));
  PetscFunctionReturn(0);
}

static void h5data_split_close(H5Split *sp)
{
  if (sp->x >= 0) H5Dclose(sp->x);
  if (sp->y >= 0) H5Dclose(sp->y);
  sp->x = sp->y = H5I_INVALID_HID;
}

static void h5data_split_init(H5Split *sp, const char *group)
{
  memset(sp, 0, sizeof *sp);
  sp->group = group;
  snprintf(sp->xname, sizeof sp->xname, "%s/x", group);
  snprintf(sp->yname, sizeof sp->yname, "%s/y", group);
  sp->x = sp->y = H5I_INVALID_HID;
}

/* ------------------------------------------------------------- the file -- */

/* Both splits' metadata first (so a bad /val fails before any reading), then their data. */
static PetscErrorCode h5data_read_splits(MPI_Comm comm, const char *path, hid_t file, H5Split *tr, H5Split *va,
                                         NnSamples *train, NnSamples *val)
{
  PetscBool present;
  PetscFunctionBeginUser;
  PetscCall(h5data_split_open(comm, path, file, PETSC_TRUE, tr, &present));
  PetscCall(h5data_split_open(comm, path, file, PETSC_FALSE, va, &present));
  if (present) PetscCall(h5data_same_shape(comm, path, va, tr));
  PetscCall(h5data_split_read(comm, path, file, tr, train));
  if (present) PetscCall(h5data_split_read(comm, path, file, va, val));
  PetscFunctionReturn(0);
}

PetscErrorCode h5data_read(MPI_Comm comm, const char *path, PetscInt *c, PetscInt *h, PetscInt *w, NnSamples *train,
                           NnSamples *val)
{
  H5Split        tr, va;
  hid_t          file = H5I_INVALID_HID;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  *c = *h = *w = 0;
  PetscCall(nn_samples_free(train));
  PetscCall(nn_samples_free(val));
  h5data_split_init(&tr, "/train");
  h5data_split_init(&va, "/val");
  PetscCall(h5data_open(comm, path, &file));
  ierr = h5data_read_splits(comm, path, file, &tr, &va, train, val);
  h5data_split_close(&tr);
  h5data_split_close(&va);
  H5Fclose(file);
  if (ierr) {
    PetscCall(nn_samples_free(train));
    PetscCall(nn_samples_free(val));
  }
  PetscCall(ierr);
  *c = tr.shape[0];
  *h = tr.shape[1];
  *w = tr.shape[2];
  PetscFunctionReturn(0);
}
