/* nncas's HDF5 layer: parallel HDF5 over MPI-IO, files replaced atomically.
 *
 * Conventions (see include/nncas/h5io.h for the contract):
 * - Every function is collective over f->comm. Metadata calls (create a group,
 *   dataset or attribute) are made by all ranks with identical arguments; data
 *   transfers are collective (H5FD_MPIO_COLLECTIVE), and a rank with nothing
 *   to transfer selects none but still takes part.
 * - Every failure is raised on every rank, so no rank waits in a collective:
 *   what only rank 0 knows (stat, copy, fsync, rename) is broadcast, and the
 *   status of opens and data transfers is agreed with an MPI_Allreduce.
 * - Errors name the file and the object ("PATH: no dataset /a/b").
 * - Every hid_t a function opens is registered in an H5Scope, which the public
 *   function closes on every exit, errors included. */
#include "nncas/h5io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ scopes -- */

/* The HDF5 handles one operation holds, closed in reverse order. */
#define H5_SCOPE_MAX 16
typedef struct {
  hid_t id[H5_SCOPE_MAX];
  int   n;
} H5Scope;

static herr_t h5_close(hid_t id)
{
  switch (H5Iget_type(id)) {
  case H5I_DATASPACE: return H5Sclose(id);
  case H5I_ATTR: return H5Aclose(id);
  case H5I_GENPROP_LST: return H5Pclose(id);
  case H5I_DATATYPE: return H5Tclose(id);
  case H5I_GROUP:
  case H5I_DATASET: return H5Oclose(id);
  default: return -1;
  }
}

/* Registers id (when valid) and returns it: `dset = scope_add(s, H5Dopen2(...))`.
 * A full scope is a programming error: the handle is closed and the call fails. */
static hid_t scope_add(H5Scope *s, hid_t id)
{
  if (id < 0) return id;
  if (s->n == H5_SCOPE_MAX) {
    h5_close(id);
    return H5I_INVALID_HID;
  }
  s->id[s->n++] = id;
  return id;
}

/* Closes the scope's handles and passes ierr on; a failed close of an otherwise
 * successful operation is itself an error. */
static PetscErrorCode scope_end(NnH5File *f, H5Scope *s, PetscErrorCode ierr)
{
  PetscBool failed = PETSC_FALSE;
  PetscFunctionBeginUser;
  while (s->n > 0)
    if (h5_close(s->id[--s->n]) < 0) failed = PETSC_TRUE;
  PetscCall(ierr);
  PetscCheck(!failed, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: cannot close an HDF5 object", f->path);
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------ errors -- */

static herr_t why_walk(unsigned n, const H5E_error2_t *e, void *ctx)
{
  if (n == 0 && e->desc) snprintf((char *)ctx, 256, " (HDF5: %s)", e->desc);
  return 0;
}

/* " (HDF5: <innermost message>)" of the failure HDF5 reported last; only valid
 * right after the failing call (the next HDF5 call clears the stack). */
static const char *h5_why(void)
{
  static char why[256];
  why[0] = 0;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, why_walk, why);
  return why;
}

/* *any = some rank has `here` set. */
static PetscErrorCode any_rank(MPI_Comm comm, PetscBool here, PetscBool *any)
{
  int h = here ? 1 : 0, a;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(&h, &a, 1, MPI_INT, MPI_LOR, comm));
  *any = a ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* The reason of a collectively detected failure: HDF5's on the failing rank. */
static const char *why_here(PetscBool failed_here) { return failed_here ? h5_why() : " (failed on another rank)"; }

static int comm_rank(MPI_Comm comm)
{
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  return rank;
}

/* Rank 0's outcome st = {code, errno} of a file-system operation, on every rank. */
static PetscErrorCode bcast_status(MPI_Comm comm, int st[2])
{
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Bcast(st, 2, MPI_INT, 0, comm));
  PetscFunctionReturn(0);
}

static void format_dims(int n, const hsize_t *d, char *buf, size_t len)
{
  size_t k = (size_t)snprintf(buf, len, "(");
  for (int i = 0; i < n && k < len; i++)
    k += (size_t)snprintf(buf + k, len - k, "%s%llu", i ? ", " : "", (unsigned long long)d[i]);
  if (k < len) snprintf(buf + k, len - k, ")");
}

static hsize_t dims_product(int n, const hsize_t *d)
{
  hsize_t p = 1;
  for (int i = 0; i < n; i++) p *= d[i];
  return p;
}

/* ------------------------------------------- Open MPI 4.1.0 - 4.1.4 -- */
/* OMPIO's data sieving, new in Open MPI 4.1, returns wrong data for some
 * collective reads of non-contiguous selections (open-mpi/ompi#10546, fixed in
 * 4.1.5): range reads on 3 ranks fail tests/test_h5io without this. Its MCA
 * parameters are read from the environment when the first MPI file is opened,
 * so nn_h5_init() turns it off, unless the user chose the I/O component or the
 * parameter (mpiexec --mca sets OMPI_MCA_*), and the first open checks through
 * MPI_T that this came in time. */
#if defined(OMPI_MAJOR_VERSION) && OMPI_MAJOR_VERSION == 4 && OMPI_MINOR_VERSION == 1 && OMPI_RELEASE_VERSION < 5
#define NN_OMPIO_SIEVING_BUG 1
#endif

static int ompio_sieving_turned_off; /* by us, through the environment */

static void ompio_sieving_off(void)
{
#ifdef NN_OMPIO_SIEVING_BUG
  static int done;
  if (done) return;
  done = 1;
  if (getenv("OMPI_MCA_io") || getenv("OMPI_MCA_fbtl_posix_read_datasieving")) return;
  setenv("OMPI_MCA_fbtl_posix_read_datasieving", "0", 1);
  setenv("OMPI_MCA_fbtl_posix_write_datasieving", "0", 0);
  ompio_sieving_turned_off = 1;
#endif
}

/* Whether OMPIO's read data sieving is on (0 when the parameter is unknown). */
static int ompio_read_sieving(void)
{
  int on = 0;
#ifdef NN_OMPIO_SIEVING_BUG
  int               provided, idx, count;
  MPI_T_cvar_handle h;
  if (MPI_T_init_thread(MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS) return 0;
  if (MPI_T_cvar_get_index("fbtl_posix_read_datasieving", &idx) == MPI_SUCCESS &&
      MPI_T_cvar_handle_alloc(idx, NULL, &h, &count) == MPI_SUCCESS) {
    if (MPI_T_cvar_read(h, &on) != MPI_SUCCESS) on = 0;
    MPI_T_cvar_handle_free(&h);
  }
  MPI_T_finalize();
#endif
  return on;
}

/* After the first open: the environment must have been read after
 * ompio_sieving_off(), i.e. no MPI file was opened before nn_h5_init(). */
static PetscErrorCode ompio_check(MPI_Comm comm)
{
  static int checked;
  PetscBool  on;
  PetscFunctionBeginUser;
  if (checked || !ompio_sieving_turned_off) PetscFunctionReturn(0);
  checked = 1;
  PetscCall(any_rank(comm, ompio_read_sieving() ? PETSC_TRUE : PETSC_FALSE, &on));
  PetscCheck(!on, comm, PETSC_ERR_SUP_SYS,
             "Open MPI 4.1.0-4.1.4 can read wrong data with OMPIO's data sieving (open-mpi/ompi#10546), and an MPI "
             "file was opened before nn_h5_init() could turn it off: call nn_h5_init() first, or set "
             "OMPI_MCA_fbtl_posix_read_datasieving=0 (or OMPI_MCA_io=^ompio)");
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_init(void)
{
  PetscFunctionBeginUser;
  ompio_sieving_off();
  PetscCheck(H5Eset_auto2(H5E_DEFAULT, NULL, NULL) >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB,
             "cannot silence HDF5's error printing");
  PetscFunctionReturn(0);
}

/* ------------------------------------------ rank 0's file-system work -- */

enum { FILE_HDF5, FILE_MISSING, FILE_NOT_HDF5, FILE_IS_DIR, FILE_UNREADABLE };

/* What is at path: st = {FILE_*, errno}. */
static void probe_file(const char *path, int st[2])
{
  struct stat sb;
  int         fd;
  htri_t      is;
  st[1] = 0;
  if (stat(path, &sb)) {
    st[0] = errno == ENOENT ? FILE_MISSING : FILE_UNREADABLE;
    st[1] = errno;
    return;
  }
  if (S_ISDIR(sb.st_mode)) {
    st[0] = FILE_IS_DIR;
    return;
  }
  if ((fd = open(path, O_RDONLY)) < 0) { /* for the errno of an unreadable file */
    st[0] = FILE_UNREADABLE;
    st[1] = errno;
    return;
  }
  close(fd);
  is    = H5Fis_hdf5(path);
  st[0] = is > 0 ? FILE_HDF5 : is == 0 ? FILE_NOT_HDF5 : FILE_UNREADABLE;
}

static PetscErrorCode probe_on_root(MPI_Comm comm, const char *path, int st[2])
{
  PetscFunctionBeginUser;
  if (comm_rank(comm) == 0) probe_file(path, st);
  PetscCall(bcast_status(comm, st));
  PetscFunctionReturn(0);
}

/* Raises the error for a probe that did not find an HDF5 file. */
static PetscErrorCode probe_error(MPI_Comm comm, const char *path, const int st[2])
{
  PetscFunctionBeginUser;
  switch (st[0]) {
  case FILE_MISSING: SETERRQ(comm, PETSC_ERR_FILE_OPEN, "%s: no such file", path);
  case FILE_NOT_HDF5: SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "%s: not an HDF5 file", path);
  case FILE_IS_DIR: SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "%s: is a directory, not an HDF5 file", path);
  case FILE_UNREADABLE:
    SETERRQ(comm, PETSC_ERR_FILE_READ, "%s: cannot read (%s)", path, st[1] ? strerror(st[1]) : "HDF5 cannot open it");
  }
  PetscFunctionReturn(0);
}

/* Creates (or truncates) path, so that an unwritable location is reported with
 * its errno before HDF5 tries. st = {failed, errno}. */
static void touch_file(const char *path, int st[2])
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  st[1]  = fd < 0 ? errno : 0;
  if (fd >= 0 && close(fd)) st[1] = errno;
  st[0] = st[1] != 0;
}

/* Copies the bytes of in to out; 0 or errno. */
static int copy_fd(int in, int out)
{
  static char buf[1 << 20];
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : 0;
    for (ssize_t w = 0; w < n;) {
      ssize_t k = write(out, buf + w, (size_t)(n - w));
      if (k < 0 && errno != EINTR) return errno;
      if (k > 0) w += k;
    }
  }
}

/* Copies src to dst (same permission bits) and fsyncs dst. st = {failed, errno}. */
static void copy_file(const char *src, const char *dst, int st[2])
{
  struct stat sb;
  int         in = open(src, O_RDONLY), out = -1, err = 0;
  if (in < 0 || fstat(in, &sb)) err = errno;
  if (!err && (out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, sb.st_mode & 0777)) < 0) err = errno;
  if (!err) err = copy_fd(in, out);
  if (!err && fsync(out)) err = errno;
  if (out >= 0 && close(out) && !err) err = errno;
  if (in >= 0) close(in);
  st[0] = err != 0;
  st[1] = err;
}

/* 0 or errno of open(path, flags) + fsync. */
static int fsync_path(const char *path, int flags)
{
  int fd = open(path, flags), err;
  if (fd < 0) return errno;
  err = fsync(fd) ? errno : 0;
  close(fd);
  return err;
}

static void parent_dir(const char *path, char *dir, size_t len)
{
  const char *slash = strrchr(path, '/');
  if (!slash)
    snprintf(dir, len, ".");
  else if (slash == path)
    snprintf(dir, len, "/");
  else
    snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

enum { REPLACE_OK, REPLACE_SYNC_FILE, REPLACE_RENAME, REPLACE_SYNC_DIR };

/* tmp is flushed to disk, renamed over path, and the rename flushed to disk
 * (fsync of the directory). st = {REPLACE_* step that failed, errno}. */
static void replace_file(const char *tmp, const char *path, int st[2])
{
  char dir[PETSC_MAX_PATH_LEN];
  st[0] = REPLACE_SYNC_FILE;
  if ((st[1] = fsync_path(tmp, O_RDONLY))) return;
  st[0] = REPLACE_RENAME;
  if (rename(tmp, path)) {
    st[1] = errno;
    return;
  }
  parent_dir(path, dir, sizeof dir);
  st[0] = REPLACE_SYNC_DIR;
  st[1] = fsync_path(dir, O_RDONLY | O_DIRECTORY);
  /* Some file systems cannot fsync a directory; the rename has happened. */
  if (st[1] == EINVAL || st[1] == ENOTSUP) st[1] = 0;
  if (!st[1]) st[0] = REPLACE_OK;
}

/* ---------------------------------------------------------- files -- */

static PetscErrorCode file_init(MPI_Comm comm, const char *path, PetscBool writable, NnH5File *f)
{
  PetscFunctionBeginUser;
  PetscCall(nn_h5_init());
  f->comm       = comm;
  f->file       = H5I_INVALID_HID;
  f->tmppath[0] = 0;
  PetscCheck(strlen(path) + sizeof ".tmp" <= sizeof f->path, comm, PETSC_ERR_ARG_SIZ, "%s: path too long", path);
  PetscCall(PetscStrncpy(f->path, path, sizeof f->path));
  if (writable) PetscCall(PetscSNPrintf(f->tmppath, sizeof f->tmppath, "%s.tmp", path));
  PetscFunctionReturn(0);
}

/* Opens (create: creates, truncating) name with the MPI-IO driver on f->comm. */
static PetscErrorCode file_open_mpio(NnH5File *f, H5Scope *s, const char *name, PetscBool create, unsigned flags)
{
  hid_t     fapl;
  PetscBool failed;
  PetscFunctionBeginUser;
  fapl = scope_add(s, H5Pcreate(H5P_FILE_ACCESS));
  /* HDF5 1.8 format: attributes larger than 64 KiB (dense storage), readable by any HDF5 since 1.8 */
  PetscCheck(fapl >= 0 && H5Pset_fapl_mpio(fapl, f->comm, MPI_INFO_NULL) >= 0 &&
                 H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) >= 0,
             f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: cannot set up the MPI-IO driver%s", name, h5_why());
  f->file = create ? H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl) : H5Fopen(name, flags, fapl);
  PetscCall(any_rank(f->comm, f->file < 0, &failed));
  /* Closing is collective: were the outcome mixed, a rank that opened the file
   * keeps its handle rather than wait for the others in H5Fclose. */
  PetscCheck(!failed, f->comm, PETSC_ERR_FILE_OPEN, "%s: cannot %s%s", name, create ? "create" : "open",
             why_here(f->file < 0));
  PetscCall(ompio_check(f->comm));
  PetscFunctionReturn(0);
}

/* Copies of the handles of the files open for writing, so that
 * nn_h5_discard_open() can drop what a failed stage left open. */
static NnH5File open_files[16];
static int      nopen;

static PetscErrorCode file_open(NnH5File *f, const char *name, PetscBool create, unsigned flags)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(scope_end(f, &s, file_open_mpio(f, &s, name, create, flags)));
  if (f->tmppath[0] && nopen < (int)(sizeof open_files / sizeof open_files[0])) open_files[nopen++] = *f;
  PetscFunctionReturn(0);
}

static void file_forget(hid_t file)
{
  for (int k = 0; k < nopen; k++)
    if (open_files[k].file == file) open_files[k--] = open_files[--nopen];
}

PetscErrorCode nn_h5_discard_open(void)
{
  PetscFunctionBeginUser;
  while (nopen) {
    NnH5File f = open_files[nopen - 1];
    file_forget(f.file);
    PetscCall(nn_h5_discard(&f));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_create(MPI_Comm comm, const char *path, NnH5File *f)
{
  int st[2] = {0, 0};
  PetscFunctionBeginUser;
  PetscCall(file_init(comm, path, PETSC_TRUE, f));
  if (comm_rank(comm) == 0) touch_file(f->tmppath, st);
  PetscCall(bcast_status(comm, st));
  PetscCheck(!st[0], comm, PETSC_ERR_FILE_OPEN, "%s: cannot create (%s)", f->tmppath, strerror(st[1]));
  PetscCall(file_open(f, f->tmppath, PETSC_TRUE, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_open_update(MPI_Comm comm, const char *path, NnH5File *f)
{
  int st[2] = {0, 0};
  PetscFunctionBeginUser;
  PetscCall(file_init(comm, path, PETSC_TRUE, f));
  PetscCall(probe_on_root(comm, path, st));
  if (st[0] != FILE_HDF5) PetscCall(probe_error(comm, path, st));
  if (comm_rank(comm) == 0) copy_file(path, f->tmppath, st);
  PetscCall(bcast_status(comm, st));
  PetscCheck(!st[0], comm, PETSC_ERR_FILE_WRITE, "%s: cannot copy to %s (%s)", path, f->tmppath, strerror(st[1]));
  PetscCall(file_open(f, f->tmppath, PETSC_FALSE, H5F_ACC_RDWR));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_open_read(MPI_Comm comm, const char *path, NnH5File *f)
{
  int st[2];
  PetscFunctionBeginUser;
  PetscCall(file_init(comm, path, PETSC_FALSE, f));
  PetscCall(probe_on_root(comm, path, st));
  if (st[0] != FILE_HDF5) PetscCall(probe_error(comm, path, st));
  PetscCall(file_open(f, path, PETSC_FALSE, H5F_ACC_RDONLY));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_file_exists(MPI_Comm comm, const char *path, PetscBool *exists)
{
  int st[2];
  PetscFunctionBeginUser;
  PetscCall(nn_h5_init());
  PetscCall(probe_on_root(comm, path, st));
  *exists = st[0] == FILE_HDF5 ? PETSC_TRUE : PETSC_FALSE;
  if (st[0] != FILE_HDF5 && st[0] != FILE_MISSING) PetscCall(probe_error(comm, path, st));
  PetscFunctionReturn(0);
}

/* Closes the HDF5 file; flush: first write everything to storage on every
 * rank (H5Fflush, which syncs the MPI file). */
static PetscErrorCode file_close(NnH5File *f, PetscBool flush)
{
  herr_t    fl = 0, cl;
  char      why[256] = " (failed on another rank)";
  PetscBool failed;
  PetscFunctionBeginUser;
  PetscCheck(f->file >= 0, f->comm, PETSC_ERR_ARG_WRONGSTATE, "%s: file is not open", f->path);
  if (flush && (fl = H5Fflush(f->file, H5F_SCOPE_GLOBAL)) < 0) PetscCall(PetscStrncpy(why, h5_why(), sizeof why));
  file_forget(f->file);
  cl = H5Fclose(f->file); /* even after a failed flush, to release the file */
  if (cl >= 0) f->file = H5I_INVALID_HID;
  else if (fl >= 0) PetscCall(PetscStrncpy(why, h5_why(), sizeof why));
  PetscCall(any_rank(f->comm, fl < 0 || cl < 0, &failed));
  PetscCheck(!failed, f->comm, PETSC_ERR_FILE_WRITE, "%s: cannot %s%s", f->tmppath[0] ? f->tmppath : f->path,
             fl < 0 ? "write to disk" : "close", why);
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_commit(NnH5File *f)
{
  int st[2] = {REPLACE_OK, 0};
  PetscFunctionBeginUser;
  PetscCall(file_close(f, f->tmppath[0] ? PETSC_TRUE : PETSC_FALSE));
  if (!f->tmppath[0]) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Barrier(f->comm));
  if (comm_rank(f->comm) == 0) replace_file(f->tmppath, f->path, st);
  PetscCall(bcast_status(f->comm, st));
  switch (st[0]) {
  case REPLACE_SYNC_FILE:
    SETERRQ(f->comm, PETSC_ERR_FILE_WRITE, "%s: cannot flush to disk (%s)", f->tmppath, strerror(st[1]));
  case REPLACE_RENAME:
    SETERRQ(f->comm, PETSC_ERR_FILE_WRITE, "%s: cannot rename %s over it (%s)", f->path, f->tmppath, strerror(st[1]));
  case REPLACE_SYNC_DIR:
    SETERRQ(f->comm, PETSC_ERR_FILE_WRITE, "%s: renamed, but cannot flush its directory to disk (%s)", f->path,
            strerror(st[1]));
  }
  f->tmppath[0] = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_discard(NnH5File *f)
{
  int st[2] = {0, 0};
  PetscFunctionBeginUser;
  if (f->file >= 0) PetscCall(file_close(f, PETSC_FALSE));
  if (!f->tmppath[0]) PetscFunctionReturn(0);
  if (comm_rank(f->comm) == 0 && unlink(f->tmppath) && errno != ENOENT && errno != ENOTDIR) st[1] = errno;
  PetscCall(bcast_status(f->comm, st));
  PetscCheck(!st[1], f->comm, PETSC_ERR_FILE_WRITE, "%s: cannot remove (%s)", f->tmppath, strerror(st[1]));
  f->tmppath[0] = 0;
  PetscFunctionReturn(0);
}

/* -------------------------------------------------------- objects -- */

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
static PetscErrorCode object_exists(NnH5File *f, const char *path, PetscBool *exists)
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

PetscErrorCode nn_h5_exists(NnH5File *f, const char *path, PetscBool *exists)
{
  PetscFunctionBeginUser;
  PetscCall(object_exists(f, path, exists));
  PetscFunctionReturn(0);
}

/* A link creation property list that creates missing parent groups. */
static PetscErrorCode lcpl_with_parents(NnH5File *f, H5Scope *s, const char *path, hid_t *lcpl)
{
  PetscFunctionBeginUser;
  *lcpl = scope_add(s, H5Pcreate(H5P_LINK_CREATE));
  PetscCheck(*lcpl >= 0 && H5Pset_create_intermediate_group(*lcpl, 1) >= 0, f->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: cannot prepare to create %s%s", f->path, path, h5_why());
  PetscFunctionReturn(0);
}

static PetscErrorCode group_create(NnH5File *f, H5Scope *s, const char *path)
{
  hid_t lcpl, g;
  PetscFunctionBeginUser;
  PetscCall(lcpl_with_parents(f, s, path, &lcpl));
  g = scope_add(s, H5Gcreate2(f->file, path, lcpl, H5P_DEFAULT, H5P_DEFAULT));
  PetscCheck(g >= 0, f->comm, PETSC_ERR_FILE_WRITE, "%s: cannot create group %s%s", f->path, path, h5_why());
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_group(NnH5File *f, const char *path)
{
  PetscBool  exists;
  H5I_type_t type;
  H5Scope    s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(object_exists(f, path, &exists));
  if (exists) {
    PetscCall(object_type(f, path, &type));
    PetscCheck(type == H5I_GROUP, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s exists and is not a group", f->path,
               path);
    PetscFunctionReturn(0);
  }
  PetscCall(scope_end(f, &s, group_create(f, &s, path)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_delete(NnH5File *f, const char *path)
{
  PetscBool exists;
  PetscFunctionBeginUser;
  PetscCall(object_exists(f, path, &exists));
  if (exists)
    PetscCheck(H5Ldelete(f->file, path, H5P_DEFAULT) >= 0, f->comm, PETSC_ERR_FILE_WRITE, "%s: cannot delete %s%s",
               f->path, path, h5_why());
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------- datasets -- */

/* Opens the dataset at path; a missing one is "PATH: no dataset /a/b". */
static PetscErrorCode dataset_open(NnH5File *f, H5Scope *s, const char *path, hid_t *dset)
{
  PetscBool  exists;
  H5I_type_t type;
  char       why[256];
  PetscFunctionBeginUser;
  PetscCall(check_object_path(f, path));
  *dset = scope_add(s, H5Dopen2(f->file, path, H5P_DEFAULT));
  if (*dset >= 0) PetscFunctionReturn(0);
  PetscCall(PetscStrncpy(why, h5_why(), sizeof why));
  PetscCall(object_exists(f, path, &exists));
  PetscCheck(exists, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: no dataset %s", f->path, path);
  PetscCall(object_type(f, path, &type));
  PetscCheck(type == H5I_DATASET, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s is not a dataset", f->path, path);
  SETERRQ(f->comm, PETSC_ERR_FILE_READ, "%s: cannot open dataset %s%s", f->path, path, why);
}

/* The dataset's file space, rank and dims. */
static PetscErrorCode dataset_shape(NnH5File *f, H5Scope *s, hid_t dset, const char *path, hid_t *space, int *ndims,
                                    hsize_t dims[H5S_MAX_RANK])
{
  PetscFunctionBeginUser;
  *space = scope_add(s, H5Dget_space(dset));
  *ndims = *space >= 0 ? H5Sget_simple_extent_ndims(*space) : -1;
  PetscCheck(*ndims >= 0 && H5Sget_simple_extent_dims(*space, dims, NULL) >= 0, f->comm, PETSC_ERR_FILE_READ,
             "%s: cannot read the shape of dataset %s%s", f->path, path, h5_why());
  PetscFunctionReturn(0);
}

static PetscErrorCode dataset_check_shape(NnH5File *f, const char *path, int have_n, const hsize_t *have, int n,
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

static const char *class_name(H5T_class_t c)
{
  return c == H5T_FLOAT     ? "floating-point numbers"
         : c == H5T_INTEGER ? "integers"
         : c == H5T_STRING  ? "strings"
                            : "non-numeric data";
}

/* The dataset's element type must be of memtype's class (float / integer);
 * HDF5 converts sizes within a class. */
static PetscErrorCode dataset_check_class(NnH5File *f, H5Scope *s, hid_t dset, const char *path, hid_t memtype)
{
  hid_t       t = scope_add(s, H5Dget_type(dset));
  H5T_class_t have, want = H5Tget_class(memtype);
  PetscFunctionBeginUser;
  have = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
  PetscCheck(have != H5T_NO_CLASS, f->comm, PETSC_ERR_FILE_READ, "%s: cannot read the type of dataset %s%s", f->path,
             path, h5_why());
  PetscCheck(have == want, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s holds %s, expected %s", f->path, path,
             class_name(have), class_name(want));
  PetscFunctionReturn(0);
}

/* Little-endian file type for a native memory type (double or int64). */
static hid_t file_type(hid_t memtype) { return H5Tget_class(memtype) == H5T_FLOAT ? H5T_IEEE_F64LE : H5T_STD_I64LE; }

/* New contiguous dataset (missing parent groups are created). */
static PetscErrorCode dataset_create(NnH5File *f, H5Scope *s, const char *path, int ndims, const hsize_t *dims,
                                     hid_t memtype, hid_t *dset)
{
  hid_t space, lcpl;
  PetscFunctionBeginUser;
  PetscCheck(ndims >= 0 && ndims <= H5S_MAX_RANK, f->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "%s: dataset %s: %d dimensions (at most %d)", f->path, path, ndims, H5S_MAX_RANK);
  space = scope_add(s, ndims ? H5Screate_simple(ndims, dims, NULL) : H5Screate(H5S_SCALAR));
  PetscCheck(space >= 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: dataset %s: invalid shape%s", f->path, path, h5_why());
  PetscCall(lcpl_with_parents(f, s, path, &lcpl));
  *dset = scope_add(s, H5Dcreate2(f->file, path, file_type(memtype), space, lcpl, H5P_DEFAULT, H5P_DEFAULT));
  PetscCheck(*dset >= 0, f->comm, PETSC_ERR_FILE_WRITE, "%s: cannot create dataset %s%s", f->path, path, h5_why());
  PetscFunctionReturn(0);
}

/* The dataset to write at path: created if absent, else checked to have this
 * shape and element class. */
static PetscErrorCode dataset_for_write(NnH5File *f, H5Scope *s, const char *path, int ndims, const hsize_t *dims,
                                        hid_t memtype, hid_t *dset)
{
  PetscBool exists;
  hid_t     space;
  int       have_n;
  hsize_t   have[H5S_MAX_RANK];
  PetscFunctionBeginUser;
  PetscCall(object_exists(f, path, &exists));
  if (!exists) {
    PetscCall(dataset_create(f, s, path, ndims, dims, memtype, dset));
    PetscFunctionReturn(0);
  }
  PetscCall(dataset_open(f, s, path, dset));
  PetscCall(dataset_shape(f, s, *dset, path, &space, &have_n, have));
  PetscCall(dataset_check_shape(f, path, have_n, have, ndims, dims));
  PetscCall(dataset_check_class(f, s, *dset, path, memtype));
  PetscFunctionReturn(0);
}

typedef enum { XFER_WRITE, XFER_READ } XferDir;

/* One H5Dwrite / H5Dread with collective transfer; a failure on any rank fails
 * every rank. */
static PetscErrorCode transfer(NnH5File *f, const char *path, XferDir dir, hid_t dset, hid_t memtype, hid_t mspace,
                               hid_t fspace, const void *buf)
{
  static double dummy; /* HDF5 rejects a NULL buffer even for an empty selection */
  void         *b    = buf ? (void *)buf : &dummy;
  hid_t         dxpl = H5Pcreate(H5P_DATASET_XFER);
  herr_t        st   = dxpl >= 0 ? H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) : -1;
  char          why[256];
  PetscBool     failed;
  PetscFunctionBeginUser;
  if (st >= 0)
    st = dir == XFER_WRITE ? H5Dwrite(dset, memtype, mspace, fspace, dxpl, b)
                           : H5Dread(dset, memtype, mspace, fspace, dxpl, b);
  PetscCall(PetscStrncpy(why, why_here(st < 0), sizeof why)); /* before H5Pclose clears HDF5's error stack */
  if (dxpl >= 0) H5Pclose(dxpl);
  PetscCall(any_rank(f->comm, st < 0, &failed));
  PetscCheck(!failed, f->comm, dir == XFER_WRITE ? PETSC_ERR_FILE_WRITE : PETSC_ERR_FILE_READ,
             "%s: cannot %s dataset %s%s", f->path, dir == XFER_WRITE ? "write" : "read", path, why);
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------- replicated data -- */

/* Every rank creates (or checks) the dataset; rank 0 selects the data, the
 * others select none. */
static PetscErrorCode write_replicated(NnH5File *f, H5Scope *s, const char *path, int ndims, const hsize_t *dims,
                                       hid_t memtype, const void *data)
{
  hid_t dset, fspace, mspace;
  PetscFunctionBeginUser;
  PetscCheck(data || !dims_product(ndims, dims), f->comm, PETSC_ERR_ARG_NULL, "%s: dataset %s: no data given", f->path,
             path);
  PetscCall(dataset_for_write(f, s, path, ndims, dims, memtype, &dset));
  if (!dims_product(ndims, dims)) PetscFunctionReturn(0); /* no storage to write to */
  fspace = scope_add(s, H5Dget_space(dset));
  mspace = fspace >= 0 ? scope_add(s, H5Scopy(fspace)) : H5I_INVALID_HID;
  PetscCheck(mspace >= 0, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s: cannot get its dataspace%s", f->path,
             path, h5_why());
  if (comm_rank(f->comm) != 0)
    PetscCheck(H5Sselect_none(fspace) >= 0 && H5Sselect_none(mspace) >= 0, f->comm, PETSC_ERR_FILE_UNEXPECTED,
               "%s: dataset %s: cannot select%s", f->path, path, h5_why());
  PetscCall(transfer(f, path, XFER_WRITE, dset, memtype, mspace, fspace, data));
  PetscFunctionReturn(0);
}

/* The file must hold the bytes of every element the dataset's shape claims
 * (at most deflate's 1032:1 less when it is compressed): a header claiming more
 * than was ever written is an error, so no reader allocates for it. */
static PetscErrorCode dataset_check_storage(NnH5File *f, H5Scope *s, hid_t dset, const char *path, int n,
                                            const hsize_t *d)
{
  hid_t   type = scope_add(s, H5Dget_type(dset)), dcpl = scope_add(s, H5Dget_create_plist(dset));
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
  PetscCall(dataset_open(f, s, path, &dset));
  PetscCall(dataset_shape(f, s, dset, path, &space, &n, d));
  PetscCheck(n <= maxdims, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s has %d dimensions, expected at most %d",
             f->path, path, n, maxdims);
  PetscCall(dataset_check_storage(f, s, dset, path, n, d));
  if (ndims) *ndims = n;
  if (dims)
    for (int i = 0; i < n; i++) dims[i] = d[i];
  if (!data) PetscFunctionReturn(0);
  PetscCall(dataset_check_class(f, s, dset, path, memtype));
  PetscCheck(dims_product(n, d) == (hsize_t)count, f->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: dataset %s has %llu elements, the buffer holds %zu", f->path, path,
             (unsigned long long)dims_product(n, d), count);
  if (!count) PetscFunctionReturn(0); /* no storage to read from */
  PetscCall(transfer(f, path, XFER_READ, dset, memtype, H5S_ALL, H5S_ALL, data));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_write_double(NnH5File *f, const char *path, int ndims, const hsize_t *dims, const double *data)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(scope_end(f, &s, write_replicated(f, &s, path, ndims, dims, H5T_NATIVE_DOUBLE, data)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_write_int64(NnH5File *f, const char *path, int ndims, const hsize_t *dims, const int64_t *data)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(scope_end(f, &s, write_replicated(f, &s, path, ndims, dims, H5T_NATIVE_INT64, data)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_read_double(NnH5File *f, const char *path, int maxdims, int *ndims, hsize_t *dims, size_t count,
                                 double *data)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(scope_end(f, &s, read_replicated(f, &s, path, maxdims, ndims, dims, count, H5T_NATIVE_DOUBLE, data)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_read_int64(NnH5File *f, const char *path, int maxdims, int *ndims, hsize_t *dims, size_t count,
                                int64_t *data)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(scope_end(f, &s, read_replicated(f, &s, path, maxdims, ndims, dims, count, H5T_NATIVE_INT64, data)));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------ flat ranges -- */

static herr_t add_hyperslab(hid_t space, H5S_seloper_t *op, const hsize_t *start, const hsize_t *count)
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
  hsize_t row = dims_product(n - d - 1, dims + d + 1), i0 = a / row, i1 = b / row;
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
    st = add_hyperslab(space, op, start, count);
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
  hsize_t   total = dims_product(ndims, dims);
  PetscBool bad   = count > total || start > total - count || (count && !local) ? PETSC_TRUE : PETSC_FALSE, any;
  PetscFunctionBeginUser;
  PetscCheck(ndims >= 1 && ndims <= H5S_MAX_RANK, f->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "%s: dataset %s: %d dimensions (1 to %d for a range)", f->path, path, ndims, H5S_MAX_RANK);
  PetscCall(any_rank(f->comm, bad, &any));
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
  if (!dims_product(ndims, dims)) PetscFunctionReturn(0); /* no storage */
  fspace = scope_add(s, H5Dget_space(dset));
  mspace = scope_add(s, H5Screate_simple(1, &mcount, NULL));
  PetscCheck(fspace >= 0 && mspace >= 0 && (count || H5Sselect_none(mspace) >= 0), f->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: dataset %s: cannot set up dataspaces%s", f->path, path, h5_why());
  PetscCall(select_flat(f, path, fspace, ndims, dims, start, count));
  PetscCall(transfer(f, path, dir, dset, H5T_NATIVE_DOUBLE, mspace, fspace, local));
  PetscFunctionReturn(0);
}

static PetscErrorCode write_range(NnH5File *f, H5Scope *s, const char *path, int ndims, const hsize_t *dims,
                                  hsize_t start, hsize_t count, const double *local)
{
  hid_t dset;
  PetscFunctionBeginUser;
  PetscCall(check_range(f, path, ndims, dims, start, count, local));
  PetscCall(dataset_for_write(f, s, path, ndims, dims, H5T_NATIVE_DOUBLE, &dset));
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
  PetscCall(dataset_open(f, s, path, &dset));
  PetscCall(dataset_shape(f, s, dset, path, &space, &have_n, have));
  PetscCall(dataset_check_shape(f, path, have_n, have, ndims, dims));
  PetscCall(dataset_check_class(f, s, dset, path, H5T_NATIVE_DOUBLE));
  PetscCall(range_transfer(f, s, path, XFER_READ, dset, ndims, dims, start, count, local));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_write_double_range(NnH5File *f, const char *path, int ndims, const hsize_t *dims, hsize_t start,
                                        hsize_t count, const double *local)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(scope_end(f, &s, write_range(f, &s, path, ndims, dims, start, count, local)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_read_double_range(NnH5File *f, const char *path, int ndims, const hsize_t *dims, hsize_t start,
                                       hsize_t count, double *local)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(scope_end(f, &s, read_range(f, &s, path, ndims, dims, start, count, local)));
  PetscFunctionReturn(0);
}

/* ----------------------------------------------------------- blocks -- */
/* HDF5 traverses a union of hyperslabs in row-major order of the whole
 * dataset, not block by block. So the blocks are written band by band: the
 * rows between consecutive block boundaries (r0 or r0 + nr of any block) form
 * a band, which every block either spans or misses; a band's rows are packed
 * row by row across its blocks in order of first column, which is the order
 * HDF5 traverses their union. One collective write per band, a bounded
 * packing buffer, and as many writes on every rank (ranks with fewer bands
 * write nothing the remaining times). For a block-cyclic layout a band is a
 * block row. */

typedef struct {
  const hsize_t *r0, *nr, *c0, *nc;
  const size_t  *off;
  PetscInt       n;       /* non-empty blocks */
  PetscInt      *byc0;    /* their indices in order of first column */
  PetscInt       nev;     /* distinct band boundaries */
  hsize_t       *ev;      /* the boundaries, increasing */
  PetscInt      *act;     /* scratch: the blocks of one band */
  PetscInt       nbands;  /* bands holding blocks */
  size_t         maxband; /* elements of the largest band */
} Bands;

typedef struct {
  hsize_t  key;
  PetscInt idx;
} KeyIdx;

static int cmp_keyidx(const void *x, const void *y)
{
  const KeyIdx *a = x, *b = y;
  return a->key < b->key ? -1 : a->key > b->key ? 1 : (a->idx > b->idx) - (a->idx < b->idx);
}

static int cmp_hsize(const void *x, const void *y)
{
  hsize_t a = *(const hsize_t *)x, b = *(const hsize_t *)y;
  return (a > b) - (a < b);
}

/* The blocks spanning band [ra, rb), in order of first column, into B->act;
 * *overlap if two of them share columns. Returns their element count. */
static size_t band_blocks(Bands *B, hsize_t ra, hsize_t rb, PetscInt *nact, PetscBool *overlap)
{
  size_t size = 0;
  *nact       = 0;
  for (PetscInt i = 0; i < B->n; i++) {
    PetscInt b = B->byc0[i];
    if (B->r0[b] > ra || B->r0[b] + B->nr[b] < rb) continue;
    if (*nact && B->c0[b] < B->c0[B->act[*nact - 1]] + B->nc[B->act[*nact - 1]]) *overlap = PETSC_TRUE;
    B->act[(*nact)++] = b;
    size += (size_t)((rb - ra) * B->nc[b]);
  }
  return size;
}

static PetscBool block_in_bounds(const Bands *B, PetscInt b, hsize_t M, hsize_t N)
{
  PetscBool rows = B->nr[b] <= M && B->r0[b] <= M - B->nr[b], cols = B->nc[b] <= N && B->c0[b] <= N - B->nc[b];
  return rows && cols ? PETSC_TRUE : PETSC_FALSE;
}

/* Sorts the non-empty blocks by first column, lists the band boundaries, and
 * counts the bands and the largest. */
static PetscErrorCode bands_setup(Bands *B, PetscInt nblocks, PetscBool *overlap)
{
  KeyIdx  *k;
  PetscInt u = 0;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(nblocks, &k));
  PetscCall(PetscMalloc3(nblocks, &B->byc0, 2 * nblocks, &B->ev, nblocks, &B->act));
  for (PetscInt b = 0; b < nblocks; b++) {
    if (!B->nr[b] || !B->nc[b]) continue;
    k[B->n]         = (KeyIdx){B->c0[b], b};
    B->ev[B->nev++] = B->r0[b];
    B->ev[B->nev++] = B->r0[b] + B->nr[b];
    B->n++;
  }
  if (B->n) qsort(k, (size_t)B->n, sizeof *k, cmp_keyidx); /* (no NULL pointer for qsort when there are none) */
  for (PetscInt i = 0; i < B->n; i++) B->byc0[i] = k[i].idx;
  PetscCall(PetscFree(k));
  if (B->nev) qsort(B->ev, (size_t)B->nev, sizeof *B->ev, cmp_hsize);
  for (PetscInt i = 0; i < B->nev; i++)
    if (!u || B->ev[i] != B->ev[u - 1]) B->ev[u++] = B->ev[i];
  B->nev = u;
  for (PetscInt j = 0; j + 1 < B->nev; j++) {
    PetscInt nact;
    size_t   size = band_blocks(B, B->ev[j], B->ev[j + 1], &nact, overlap);
    if (nact) B->nbands++;
    if (size > B->maxband) B->maxband = size;
  }
  PetscFunctionReturn(0);
}

/* This rank's blocks must lie inside the (M, N) dataset, not overlap and have
 * a buffer; checked on every rank at once. */
static PetscErrorCode bands_check(NnH5File *f, const char *path, Bands *B, PetscInt nblocks, hsize_t M, hsize_t N,
                                  const double *local)
{
  char      bad[256] = "";
  PetscBool overlap  = PETSC_FALSE, any;
  PetscFunctionBeginUser;
  PetscCheck(nblocks >= 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: dataset %s: negative block count", f->path, path);
  for (PetscInt b = 0; b < nblocks && !bad[0]; b++)
    if (!block_in_bounds(B, b, M, N))
      snprintf(bad, sizeof bad, "block %" PetscInt_FMT " (rows %llu+%llu, columns %llu+%llu) is out of bounds", b,
               (unsigned long long)B->r0[b], (unsigned long long)B->nr[b], (unsigned long long)B->c0[b],
               (unsigned long long)B->nc[b]);
  if (!bad[0]) PetscCall(bands_setup(B, nblocks, &overlap));
  if (!bad[0] && B->n && !local) snprintf(bad, sizeof bad, "blocks without a buffer");
  if (overlap) snprintf(bad, sizeof bad, "two of this rank's blocks overlap");
  PetscCall(any_rank(f->comm, bad[0] ? PETSC_TRUE : PETSC_FALSE, &any));
  PetscCheck(!bad[0], f->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: dataset %s (%llu x %llu): %s", f->path, path,
             (unsigned long long)M, (unsigned long long)N, bad);
  PetscCheck(!any, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: dataset %s: another rank's blocks are invalid", f->path,
             path);
  PetscFunctionReturn(0);
}

/* Selects the band's blocks in fspace and packs their rows into buf. */
static PetscErrorCode band_select_pack(NnH5File *f, const char *path, Bands *B, hsize_t ra, hsize_t rb, PetscInt nact,
                                       const double *local, hid_t fspace, double *buf)
{
  H5S_seloper_t op = H5S_SELECT_SET;
  size_t        n  = 0;
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < nact; i++) {
    PetscInt b        = B->act[i];
    hsize_t  start[2] = {ra, B->c0[b]}, count[2] = {rb - ra, B->nc[b]};
    PetscCheck(add_hyperslab(fspace, &op, start, count) >= 0, f->comm, PETSC_ERR_FILE_UNEXPECTED,
               "%s: dataset %s: cannot select block%s", f->path, path, h5_why());
  }
  for (hsize_t r = ra; r < rb; r++)
    for (PetscInt i = 0; i < nact; i++) { /* row r of block b starts at off[b] + (r - r0[b]) nc[b] */
      PetscInt b = B->act[i];
      PetscCall(PetscArraycpy(buf + n, local + B->off[b] + (r - B->r0[b]) * B->nc[b], B->nc[b]));
      n += B->nc[b];
    }
  PetscFunctionReturn(0);
}

/* Writes band j's blocks, or (j < 0) nothing, as ranks with fewer bands do. */
static PetscErrorCode band_write(NnH5File *f, const char *path, Bands *B, PetscInt j, hid_t dset, hid_t fspace,
                                 hid_t mspace, const double *local, double *buf)
{
  PetscInt  nact = 0;
  PetscBool overlap;
  hsize_t   n = 1;
  PetscFunctionBeginUser;
  if (j >= 0) n = band_blocks(B, B->ev[j], B->ev[j + 1], &nact, &overlap);
  PetscCheck(H5Sset_extent_simple(mspace, 1, &n, NULL) >= 0 &&
                 (j >= 0 || (H5Sselect_none(mspace) >= 0 && H5Sselect_none(fspace) >= 0)),
             f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s: cannot set up dataspaces%s", f->path, path, h5_why());
  if (j >= 0) PetscCall(band_select_pack(f, path, B, B->ev[j], B->ev[j + 1], nact, local, fspace, buf));
  PetscCall(transfer(f, path, XFER_WRITE, dset, H5T_NATIVE_DOUBLE, mspace, fspace, buf));
  PetscFunctionReturn(0);
}

/* The first band from j on that holds blocks, or -1. */
static PetscInt next_band(Bands *B, PetscInt j)
{
  PetscInt  nact;
  PetscBool overlap;
  for (; j + 1 < B->nev; j++) {
    band_blocks(B, B->ev[j], B->ev[j + 1], &nact, &overlap);
    if (nact) return j;
  }
  return -1;
}

/* One collective write per band, as many on every rank. */
static PetscErrorCode bands_write(NnH5File *f, H5Scope *s, const char *path, Bands *B, hid_t dset, const double *local,
                                  double *buf)
{
  PetscInt nmax, j = -1;
  hid_t    fspace = scope_add(s, H5Dget_space(dset)), mspace = scope_add(s, H5Screate(H5S_SIMPLE));
  PetscFunctionBeginUser;
  PetscCheck(fspace >= 0 && mspace >= 0, f->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: dataset %s: cannot set up dataspaces%s", f->path, path, h5_why());
  PetscCallMPI(MPI_Allreduce(&B->nbands, &nmax, 1, MPIU_INT, MPI_MAX, f->comm));
  for (PetscInt k = 0; k < nmax; k++) {
    j = next_band(B, j + 1);
    PetscCall(band_write(f, path, B, j, dset, fspace, mspace, local, buf));
    if (j < 0) j = B->nev; /* no more bands here: empty writes */
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode write_blocks(NnH5File *f, H5Scope *s, const char *path, hsize_t M, hsize_t N, Bands *B,
                                   PetscInt nblocks, const double *local)
{
  hsize_t        dims[2] = {M, N};
  hid_t          dset;
  double        *buf;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(bands_check(f, path, B, nblocks, M, N, local));
  PetscCall(dataset_for_write(f, s, path, 2, dims, H5T_NATIVE_DOUBLE, &dset));
  PetscCall(PetscMalloc1(B->maxband ? B->maxband : 1, &buf));
  ierr = bands_write(f, s, path, B, dset, local, buf);
  PetscCall(PetscFree(buf));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_write_double_blocks(NnH5File *f, const char *path, hsize_t M, hsize_t N, PetscInt nblocks,
                                         const hsize_t *r0, const hsize_t *nr, const hsize_t *c0, const hsize_t *nc,
                                         const size_t *off, const double *local)
{
  H5Scope        s = {{0}, 0};
  Bands          B = {r0, nr, c0, nc, off, 0, NULL, 0, NULL, NULL, 0, 0};
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  ierr = scope_end(f, &s, write_blocks(f, &s, path, M, N, &B, nblocks, local));
  PetscCall(PetscFree3(B.byc0, B.ev, B.act));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------- attributes -- */

static PetscErrorCode require_object(NnH5File *f, const char *obj, const char *name)
{
  PetscBool exists;
  PetscFunctionBeginUser;
  PetscCall(object_exists(f, obj, &exists));
  PetscCheck(exists, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: no object %s (for attribute \"%s\")", f->path, obj, name);
  PetscFunctionReturn(0);
}

/* Writes attribute name of obj (replacing one of that name, whose type or size
 * may differ): every rank creates and writes it with the same value. */
static PetscErrorCode attr_write(NnH5File *f, H5Scope *s, const char *obj, const char *name, hid_t ftype, hid_t space,
                                 hid_t memtype, const void *value)
{
  htri_t has;
  hid_t  attr;
  PetscFunctionBeginUser;
  PetscCall(require_object(f, obj, name));
  PetscCheck(space >= 0, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s: attribute \"%s\": cannot create its dataspace%s",
             f->path, obj, name, h5_why());
  has = H5Aexists_by_name(f->file, obj, name, H5P_DEFAULT);
  PetscCheck(has >= 0 && (!has || H5Adelete_by_name(f->file, obj, name, H5P_DEFAULT) >= 0), f->comm,
             PETSC_ERR_FILE_WRITE, "%s: %s: cannot replace attribute \"%s\"%s", f->path, obj, name, h5_why());
  attr = scope_add(s, H5Acreate_by_name(f->file, obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCheck(attr >= 0 && H5Awrite(attr, memtype, value) >= 0, f->comm, PETSC_ERR_FILE_WRITE,
             "%s: %s: cannot write attribute \"%s\"%s", f->path, obj, name, h5_why());
  PetscFunctionReturn(0);
}

/* Variable-length UTF-8 string type (what h5py writes and reads as str). */
static PetscErrorCode utf8_string_type(NnH5File *f, H5Scope *s, hid_t *type)
{
  PetscFunctionBeginUser;
  *type = scope_add(s, H5Tcopy(H5T_C_S1));
  PetscCheck(*type >= 0 && H5Tset_size(*type, H5T_VARIABLE) >= 0 && H5Tset_cset(*type, H5T_CSET_UTF8) >= 0, f->comm,
             PETSC_ERR_FILE_UNEXPECTED, "%s: cannot make a string type%s", f->path, h5_why());
  PetscFunctionReturn(0);
}

static PetscErrorCode attr_write_string(NnH5File *f, H5Scope *s, const char *obj, const char *name, const char *value)
{
  hid_t type;
  PetscFunctionBeginUser;
  PetscCall(utf8_string_type(f, s, &type));
  PetscCall(attr_write(f, s, obj, name, type, scope_add(s, H5Screate(H5S_SCALAR)), type, &value));
  PetscFunctionReturn(0);
}

/* A numeric attribute of n values (n = 0: scalar). */
static PetscErrorCode attr_write_numeric(NnH5File *f, H5Scope *s, const char *obj, const char *name, hid_t memtype,
                                         int ndims, hsize_t n, const void *v)
{
  static double none; /* HDF5 rejects a NULL buffer even for no values */
  hid_t         space;
  PetscFunctionBeginUser;
  space = scope_add(s, ndims ? H5Screate_simple(1, &n, NULL) : H5Screate(H5S_SCALAR));
  PetscCall(attr_write(f, s, obj, name, file_type(memtype), space, memtype, v ? v : &none));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_attr_string(NnH5File *f, const char *obj, const char *name, const char *value)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(scope_end(f, &s, attr_write_string(f, &s, obj, name, value)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_attr_double(NnH5File *f, const char *obj, const char *name, double value)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(scope_end(f, &s, attr_write_numeric(f, &s, obj, name, H5T_NATIVE_DOUBLE, 0, 1, &value)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_attr_int64(NnH5File *f, const char *obj, const char *name, int64_t value)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(scope_end(f, &s, attr_write_numeric(f, &s, obj, name, H5T_NATIVE_INT64, 0, 1, &value)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_attr_double_array(NnH5File *f, const char *obj, const char *name, hsize_t n, const double *v)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(scope_end(f, &s, attr_write_numeric(f, &s, obj, name, H5T_NATIVE_DOUBLE, 1, n, v)));
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
  PetscFunctionBeginUser;
  PetscCall(nn_h5_has_attr(f, obj, name, &has));
  PetscCheck(has, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s has no attribute \"%s\"", f->path, obj, name);
  *attr  = scope_add(s, H5Aopen_by_name(f->file, obj, name, H5P_DEFAULT, H5P_DEFAULT));
  *type  = *attr >= 0 ? scope_add(s, H5Aget_type(*attr)) : H5I_INVALID_HID;
  *space = *type >= 0 ? scope_add(s, H5Aget_space(*attr)) : H5I_INVALID_HID;
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
             "%s: %s: attribute \"%s\" holds %s, expected %s", f->path, obj, name, class_name(H5Tget_class(type)),
             class_name(H5Tget_class(memtype)));
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
  PetscCall(scope_end(f, &s, attr_read_string(f, &s, obj, name, len, value)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_get_attr_double(NnH5File *f, const char *obj, const char *name, double *value)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(scope_end(f, &s, attr_read_numeric(f, &s, obj, name, H5T_NATIVE_DOUBLE, 1, value)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_get_attr_int64(NnH5File *f, const char *obj, const char *name, int64_t *value)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(scope_end(f, &s, attr_read_numeric(f, &s, obj, name, H5T_NATIVE_INT64, 1, value)));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_get_attr_double_array(NnH5File *f, const char *obj, const char *name, hsize_t n, double *v)
{
  H5Scope s = {{0}, 0};
  PetscFunctionBeginUser;
  PetscCall(scope_end(f, &s, attr_read_numeric(f, &s, obj, name, H5T_NATIVE_DOUBLE, n, v)));
  PetscFunctionReturn(0);
}
