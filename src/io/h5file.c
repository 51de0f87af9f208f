/* Files: created at PATH.tmp, committed by an atomic rename over
 * PATH, or discarded (include/nncas/h5io.h). */
#include "h5impl.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static PetscInt inject_enospc, nreserved; /* -io_inject_enospc; reservations counted on rank 0 */
static PetscErrorCode discard_at_finalize(void);

/* Testing: the n-th reservation of disk space from now on fails as on a full disk (0: none). */
void h5_inject_enospc(PetscInt n)
{
  inject_enospc = n;
  nreserved     = 0;
}

PetscErrorCode nn_h5_init(void)
{
  static PetscBool done;
  PetscFunctionBeginUser;
  h5_ompio_sieving_off();
  PetscCheck(H5Eset_auto2(H5E_DEFAULT, NULL, NULL) >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB,
             "cannot silence HDF5's error printing");
  if (done) PetscFunctionReturn(0);
  done = PETSC_TRUE;
  /* A package option, as -hessian_inject_nan: testing a full disk at every
   * point where disk space is reserved (tests/test_full_disk.sh). */
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-io_inject_enospc", &inject_enospc, NULL));
  PetscCall(PetscRegisterFinalize(discard_at_finalize));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_library_version(char *buf, size_t len)
{
  unsigned major, minor, release;
  PetscFunctionBeginUser;
  PetscCheck(H5get_libversion(&major, &minor, &release) >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "cannot ask HDF5 its version");
#if defined(H5_HAVE_PARALLEL)
  PetscCall(PetscSNPrintf(buf, len, "%u.%u.%u (parallel)", major, minor, release));
#else
  PetscCall(PetscSNPrintf(buf, len, "%u.%u.%u", major, minor, release));
#endif
  PetscFunctionReturn(0);
}

static PetscErrorCode file_init(MPI_Comm comm, const char *path, PetscBool writable, NnH5File *f)
{
  PetscFunctionBeginUser;
  PetscCall(nn_h5_init());
  f->comm       = comm;
  f->file       = H5I_INVALID_HID;
  f->tmppath[0] = 0;
  f->reserved   = 0;
  PetscCheck(strlen(path) + sizeof ".tmp" <= sizeof f->path, comm, PETSC_ERR_ARG_SIZ, "%s: path too long", path);
  PetscCall(PetscStrncpy(f->path, path, sizeof f->path));
  if (writable) PetscCall(PetscSNPrintf(f->tmppath, sizeof f->tmppath, "%s.tmp", path));
  PetscFunctionReturn(0);
}

/* Opens (create: creates, truncating) name with the MPI-IO driver on f->comm. */
static PetscErrorCode file_open_mpio(NnH5File *f, H5Scope *s, const char *name, PetscBool create, unsigned flags)
{
  hid_t     fapl;
  char      why[H5_WHY_LEN] = "";
  PetscBool failed;
  PetscFunctionBeginUser;
  fapl = h5_scope_add(s, H5Pcreate(H5P_FILE_ACCESS));
  /* HDF5 1.8 format: attributes larger than 64 KiB (dense storage), readable by any HDF5 since 1.8 */
  PetscCheck(fapl >= 0 && H5Pset_fapl_mpio(fapl, f->comm, MPI_INFO_NULL) >= 0 &&
                 H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) >= 0,
             f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: cannot set up the MPI-IO driver%s", name, h5_why());
  f->file = create ? H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl) : H5Fopen(name, flags, fapl);
  if (f->file < 0) PetscCall(PetscStrncpy(why, h5_why(), sizeof why));
  PetscCall(h5_agree(f->comm, f->file < 0, why, &failed));
  /* Closing is collective: were the outcome mixed, a rank that opened the file
   * keeps its handle rather than wait for the others in H5Fclose. */
  PetscCheck(!failed, f->comm, PETSC_ERR_FILE_OPEN, "%s: cannot %s%s", name, create ? "create" : "open", why);
  PetscCall(h5_ompio_check(f->comm));
  PetscFunctionReturn(0);
}

/* Copies of the files whose PATH.tmp is neither committed nor discarded (their
 * handles kept current), so that PetscFinalize() can drop what an error that
 * ends the run left open: HDF5 would otherwise close (and flush) it inside
 * MPI_Finalize, onto a disk that may be full, and PATH.tmp would stay. A
 * safety net only: the owners discard their files on the errors they handle
 * (RunDir the results file of a failed stage). */
static NnH5File pending[16];
static int      npending;

static NnH5File *pending_find(const char *tmppath)
{
  for (int k = 0; k < npending; k++)
    if (!strcmp(pending[k].tmppath, tmppath)) return &pending[k];
  return NULL;
}

static void pending_forget(const char *tmppath)
{
  NnH5File *p = pending_find(tmppath);
  if (p) *p = pending[--npending];
}

static PetscErrorCode discard_pending(void)
{
  PetscFunctionBeginUser;
  while (npending) {
    NnH5File f = pending[npending - 1];
    pending_forget(f.tmppath);
    PetscCall(nn_h5_discard(&f));
  }
  PetscFunctionReturn(0);
}

/* Run by PetscFinalize(): after an error every rank reaches it (errors are
 * agreed), so the discards are collective; their own errors are left unsaid,
 * the run's error has been reported. Else HDF5 would close the files in
 * MPI_Finalize() and PATH.tmp would stay. */
static PetscErrorCode discard_at_finalize(void)
{
  (void)discard_pending();
  return 0;
}

/* Opens f at its PATH.tmp (or PATH when read-only); a PATH.tmp that cannot be
 * opened is removed. */
static PetscErrorCode file_open(NnH5File *f, const char *name, PetscBool create, unsigned flags)
{
  H5Scope        s = {{0}, 0};
  PetscErrorCode ierr;
  int            st[2] = {0, 0};
  PetscFunctionBeginUser;
  /* the space of what H5Fcreate allocates (it truncates only a non-empty file: fs_touch left it empty) */
  ierr = f->tmppath[0] && create ? h5_reserve(f, 0, "") : 0;
  if (!ierr) ierr = h5_scope_end(f, &s, file_open_mpio(f, &s, name, create, flags));
  if (ierr && f->tmppath[0]) {
    if (h5_comm_rank(f->comm) == 0) st[1] = fs_remove(f->tmppath);
    PetscCall(h5_bcast_status(f->comm, st)); /* every rank is here: the error was agreed */
    f->tmppath[0] = 0;
  }
  PetscCall(ierr);
  if (f->tmppath[0] && npending < (int)(sizeof pending / sizeof pending[0])) pending[npending++] = *f;
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_create(MPI_Comm comm, const char *path, NnH5File *f)
{
  int st[2] = {0, 0};
  PetscFunctionBeginUser;
  PetscCall(file_init(comm, path, PETSC_TRUE, f));
  if (h5_comm_rank(comm) == 0) fs_touch(f->tmppath, st);
  PetscCall(h5_bcast_status(comm, st));
  PetscCheck(!st[0], comm, PETSC_ERR_FILE_OPEN, "%s: cannot create (%s)", f->tmppath, strerror(st[1]));
  PetscCall(file_open(f, f->tmppath, PETSC_TRUE, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_open_read(MPI_Comm comm, const char *path, NnH5File *f)
{
  int st[2];
  PetscFunctionBeginUser;
  PetscCall(file_init(comm, path, PETSC_FALSE, f));
  PetscCall(fs_probe(comm, path, st));
  if (st[0] != FILE_HDF5) PetscCall(fs_probe_error(comm, path, st));
  PetscCall(file_open(f, path, PETSC_FALSE, H5F_ACC_RDONLY));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_file_exists(MPI_Comm comm, const char *path, PetscBool *exists)
{
  int st[2];
  PetscFunctionBeginUser;
  PetscCall(nn_h5_init());
  PetscCall(fs_probe(comm, path, st));
  *exists = st[0] == FILE_HDF5 ? PETSC_TRUE : PETSC_FALSE;
  if (st[0] != FILE_HDF5 && st[0] != FILE_MISSING) PetscCall(fs_probe_error(comm, path, st));
  PetscFunctionReturn(0);
}

/* Closes the HDF5 file; flush: first write everything to storage on every
 * rank (H5Fflush, which syncs the MPI file). */
static PetscErrorCode file_close(NnH5File *f, PetscBool flush)
{
  herr_t    fl = 0, cl;
  char      why[H5_WHY_LEN] = "";
  PetscBool failed;
  NnH5File *p;
  PetscFunctionBeginUser;
  PetscCheck(f->file >= 0, f->comm, PETSC_ERR_ARG_WRONGSTATE, "%s: file is not open", f->path);
  if (flush && (fl = H5Fflush(f->file, H5F_SCOPE_GLOBAL)) < 0) PetscCall(PetscStrncpy(why, h5_why(), sizeof why));
  cl = H5Fclose(f->file); /* even after a failed flush, to release the file */
  if (cl >= 0) f->file = H5I_INVALID_HID;
  else if (fl >= 0) PetscCall(PetscStrncpy(why, h5_why(), sizeof why));
  if (f->tmppath[0] && (p = pending_find(f->tmppath))) p->file = f->file;
  PetscCall(h5_agree(f->comm, fl < 0 || cl < 0, why, &failed));
  PetscCheck(!failed, f->comm, PETSC_ERR_FILE_WRITE, "%s: cannot %s%s", f->tmppath[0] ? f->tmppath : f->path,
             fl < 0 ? "write to disk" : "close", why);
  PetscFunctionReturn(0);
}

/* Raises the error of a failed fs_replace() step st = {REPLACE_*, errno}. */
static PetscErrorCode replace_error(NnH5File *f, const int st[2])
{
  PetscFunctionBeginUser;
  switch (st[0]) {
  case REPLACE_SYNC_FILE:
    SETERRQ(f->comm, PETSC_ERR_FILE_WRITE, "%s: cannot flush to disk (%s)", f->tmppath, strerror(st[1]));
  case REPLACE_RENAME:
    SETERRQ(f->comm, PETSC_ERR_FILE_WRITE, "%s: cannot rename %s over it (%s)", f->path, f->tmppath, strerror(st[1]));
  case REPLACE_SYNC_DIR:
    SETERRQ(f->comm, PETSC_ERR_FILE_WRITE, "%s: renamed, but cannot flush its directory to disk (%s)", f->path,
            strerror(st[1]));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_commit(NnH5File *f)
{
  int st[2] = {REPLACE_OK, 0};
  PetscFunctionBeginUser;
  if (f->tmppath[0] && f->file >= 0) PetscCall(h5_reserve(f, 0, "")); /* for what the flush writes */
  PetscCall(file_close(f, f->tmppath[0] ? PETSC_TRUE : PETSC_FALSE));
  if (!f->tmppath[0]) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Barrier(f->comm));
  if (h5_comm_rank(f->comm) == 0) fs_replace(f->tmppath, f->path, st);
  PetscCall(h5_bcast_status(f->comm, st));
  if (st[0] == REPLACE_OK || st[0] == REPLACE_SYNC_DIR) pending_forget(f->tmppath); /* PATH.tmp is gone */
  PetscCall(replace_error(f, st));
  f->tmppath[0] = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_discard(NnH5File *f)
{
  int st[2] = {0, 0};
  PetscFunctionBeginUser;
  if (f->file >= 0) PetscCall(file_close(f, PETSC_FALSE));
  if (!f->tmppath[0]) PetscFunctionReturn(0);
  if (h5_comm_rank(f->comm) == 0) st[1] = fs_remove(f->tmppath);
  PetscCall(h5_bcast_status(f->comm, st));
  PetscCheck(!st[1], f->comm, PETSC_ERR_FILE_WRITE, "%s: cannot remove (%s)", f->tmppath, strerror(st[1]));
  pending_forget(f->tmppath);
  f->tmppath[0] = 0;
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------ disk space -- */

/* Beyond the bytes of its data, what one operation may allocate: object
 * headers, link and attribute storage (a string starts a 4 KiB heap), and
 * HDF5's free space in its two 2 KiB allocation blocks (metadata, small
 * data). Measured against HDF5's internal EOA over every operation of runs
 * with all stages, on 1 and 2 ranks: at most 5935 bytes. */
#define RESERVE_MARGIN ((off_t)16 << 10)

/* A bound of HDF5's end of allocated space (EOA; H5Fget_eoa refuses the MPI-IO
 * driver) after an operation adding `bytes`, as a number of bytes past the end
 * of what is on disk: beyond that end HDF5 holds only metadata not yet written
 * (in parallel, all of it is in the metadata cache until a sync point writes
 * it), raw data allocated but not yet written (this operation's), and free
 * space in its allocation blocks. */
static off_t reserve_past_eof(NnH5File *f, hsize_t bytes)
{
  size_t max_size, min_clean, cache = 0;
  int    nentries;
  if (f->file >= 0 && H5Fget_mdc_size(f->file, &max_size, &min_clean, &cache, &nentries) < 0) return -1;
  return (off_t)cache + (off_t)bytes + RESERVE_MARGIN;
}

PetscErrorCode h5_reserve(NnH5File *f, hsize_t bytes, const char *what)
{
  off_t more;
  int   st[2] = {0, 0};
  PetscFunctionBeginUser;
  if (!f->tmppath[0]) PetscFunctionReturn(0);
  if (h5_comm_rank(f->comm) == 0) {
    more = reserve_past_eof(f, bytes);
    if (more < 0) st[0] = 2; /* HDF5 cannot tell */
    else if (++nreserved == inject_enospc) st[0] = 1, st[1] = ENOSPC;
    else fs_reserve(f->tmppath, more, &f->reserved, st);
  }
  PetscCall(h5_bcast_status(f->comm, st));
  PetscCheck(!st[0], f->comm, PETSC_ERR_FILE_WRITE, "%s: cannot write%s%s (%s)", f->path, what[0] ? " " : "", what,
             st[0] == 2 ? "HDF5 cannot tell the size of its metadata" : strerror(st[1]));
  PetscFunctionReturn(0);
}
