/* Private to src/io: what the files of nncas's HDF5 layer share.
 *
 * Conventions (the contract is include/nncas/h5io.h):
 * - Every function is collective over f->comm. Metadata calls (create a group,
 *   dataset or attribute) are made by all ranks with identical arguments; data
 *   transfers are collective (H5FD_MPIO_COLLECTIVE), and a rank with nothing
 *   to transfer selects none but still takes part.
 * - Every failure is raised on every rank, so no rank waits in a collective:
 *   what only rank 0 knows (stat, fsync, rename) is broadcast, and the
 *   status of opens and data transfers is agreed with an MPI_Allreduce.
 * - Errors name the file and the object ("PATH: no dataset /a/b").
 * - Every hid_t a function opens is registered in an H5Scope, which the public
 *   function closes on every exit, errors included.
 * - Disk space for a file being written is reserved before HDF5 allocates more
 *   of it (h5_reserve): HDF5 writes metadata inside collective calls, where a
 *   write failing on one rank only would leave the others waiting.
 *
 * The files, lowest first (each uses only those above it):
 *   h5scope.c    handle scopes, HDF5's error text, agreement across ranks
 *   h5ompio.c    the Open MPI 4.1.0-4.1.4 data-sieving workaround
 *   posixfile.c  rank 0's file-system work: probe, create, reserve space, atomic replace
 *   h5file.c     files: create / open / commit / discard; disk space reserved ahead of HDF5
 *   h5object.c   groups, existence, external links; opening and checking datasets
 *   h5attr.c     attributes
 *   h5checksum.c CRC-32 checksums of datasets (an attribute crc32)
 *   h5dataset.c  replicated datasets and flat ranges of distributed ones
 *   h5blocks.c   distributed 2-D blocks (ScaLAPACK layouts) */
#ifndef NNCAS_IO_H5IMPL_H
#define NNCAS_IO_H5IMPL_H

#include "nncas/h5io.h"

/* ------------------------------------------------------------- h5scope.c -- */
/* The HDF5 handles one operation holds, closed in reverse order. */
#define H5_SCOPE_MAX 16
typedef struct {
  hid_t id[H5_SCOPE_MAX];
  int   n;
} H5Scope;

/* Registers id (when valid) and returns it: `dset = h5_scope_add(s, H5Dopen2(...))`.
 * A full scope is a programming error: the handle is closed and the call fails. */
hid_t h5_scope_add(H5Scope *s, hid_t id);
/* Closes the scope's handles and passes ierr on; a failed close of an otherwise
 * successful operation is itself an error. */
PetscErrorCode h5_scope_end(NnH5File *f, H5Scope *s, PetscErrorCode ierr);
/* " (HDF5: <innermost message>)" of the failure HDF5 reported last; only valid
 * right after the failing call (the next HDF5 call clears the stack). */
const char *h5_why(void);
#define H5_WHY_LEN 256
/* *any = some rank has `here` set; why (H5_WHY_LEN chars, or NULL) becomes, on
 * every rank, that of the lowest rank with `here` set: every rank raises the
 * same error. */
PetscErrorCode h5_agree(MPI_Comm comm, PetscBool here, char *why, PetscBool *any);
int            h5_comm_rank(MPI_Comm comm);
/* Rank 0's outcome st = {code, errno} of a file-system operation, on every rank. */
PetscErrorCode h5_bcast_status(MPI_Comm comm, int st[2]);
hsize_t        h5_dims_product(int n, const hsize_t *d);

/* ------------------------------------------------------------- h5ompio.c -- */
void           h5_ompio_sieving_off(void);      /* before the first MPI file is opened */
PetscErrorCode h5_ompio_check(MPI_Comm comm);   /* after the first open: it came in time */

/* ----------------------------------------------------------- posixfile.c -- */
/* Rank 0 does the file-system work; the outcome st = {code, errno} is then
 * broadcast with h5_bcast_status (fs_probe does it itself). */
enum { FILE_HDF5, FILE_MISSING, FILE_NOT_HDF5, FILE_IS_DIR, FILE_UNREADABLE };
enum { REPLACE_OK, REPLACE_SYNC_FILE, REPLACE_RENAME, REPLACE_SYNC_DIR };
PetscErrorCode fs_probe(MPI_Comm comm, const char *path, int st[2]); /* st = {FILE_*, errno}, on every rank */
/* Raises the error for a probe that did not find an HDF5 file. */
PetscErrorCode fs_probe_error(MPI_Comm comm, const char *path, const int st[2]);
/* Creates (or truncates) path, so that an unwritable location is reported with
 * its errno before HDF5 tries. st = {failed, errno}. */
void fs_touch(const char *path, int st[2]);
/* Removes path; a missing one is no error. 0 or errno. */
int fs_remove(const char *path);
/* Allocates disk blocks for the first (size of path) + more bytes of path
 * without changing its size, so that no write below that end can run out of
 * space; *reserved, the end reserved so far, is raised to it.
 * st = {failed, errno}. */
void fs_reserve(const char *path, off_t more, off_t *reserved, int st[2]);
/* tmp loses its unused reserved space, is flushed to disk, renamed over path,
 * and the rename flushed to disk (fsync of the directory).
 * st = {REPLACE_* step that failed, errno}. */
void fs_replace(const char *tmp, const char *path, int st[2]);

/* -------------------------------------------------------------- h5file.c -- */
/* Reserves disk space for f's PATH.tmp (on rank 0; the outcome agreed on every
 * rank) up to a bound of HDF5's end of allocated space after an operation
 * that adds `bytes` of data; called before every operation that allocates
 * file space. HDF5 writes metadata in collective calls (H5Fflush, H5Fclose,
 * its sync points), and a write that fails on one rank there leaves the
 * others waiting forever (H5Fflush: one rank in MPI_Barrier, another in
 * MPI_Bcast); below the reserved end no write can run out of space. A full
 * disk is thus an error here, before HDF5 allocates more, and the file can
 * still be closed and discarded. `what` names the object ("/a/b", or ""). */
PetscErrorCode h5_reserve(NnH5File *f, hsize_t bytes, const char *what);
/* Testing (-io_inject_enospc n): the n-th reservation from now on fails as on a
 * full disk (0: none). */
void h5_inject_enospc(PetscInt n);

/* ------------------------------------------------------------ h5object.c -- */
/* Opens the dataset at path; a missing one is "PATH: no dataset /a/b". */
PetscErrorCode h5_dataset_open(NnH5File *f, H5Scope *s, const char *path, hid_t *dset);
/* The dataset's file space, rank and dims. */
PetscErrorCode h5_dataset_shape(NnH5File *f, H5Scope *s, hid_t dset, const char *path, hid_t *space, int *ndims,
                                hsize_t dims[H5S_MAX_RANK]);
PetscErrorCode h5_dataset_check_shape(NnH5File *f, const char *path, int have_n, const hsize_t *have, int n,
                                      const hsize_t *dims);
const char    *h5_class_name(H5T_class_t c);
/* The dataset holds values of memtype's class (float or integer). */
PetscErrorCode h5_dataset_check_class(NnH5File *f, H5Scope *s, hid_t dset, const char *path, hid_t memtype);
hid_t          h5_file_type(hid_t memtype); /* the file type nncas stores memtype as */
/* The dataset at path for writing: created, or the existing one of the same shape and class. */
PetscErrorCode h5_dataset_for_write(NnH5File *f, H5Scope *s, const char *path, int ndims, const hsize_t *dims,
                                    hid_t memtype, hid_t *dset);
typedef enum { XFER_WRITE, XFER_READ } XferDir;
/* One H5Dwrite / H5Dread with collective transfer; a failure on any rank fails every rank. */
PetscErrorCode h5_transfer(NnH5File *f, const char *path, XferDir dir, hid_t dset, hid_t memtype, hid_t mspace,
                           hid_t fspace, const void *buf);

/* ---------------------------------------------------------- h5checksum.c -- */
/* Checksums of raw data, which the dataset functions (h5dataset.c) add and check. */
int64_t h5_crc32(const void *data, size_t nbytes);
/* Of rank 0's data (what a replicated write stores), on every rank. */
PetscErrorCode h5_crc32_root(MPI_Comm comm, const void *data, size_t nbytes, int64_t *crc);
/* The CRC-32 of the elements [start, start + count) that each rank holds at
 * local, combined in element order; whole: the ranks' ranges cover [0, total)
 * exactly. Collective. */
PetscErrorCode h5_crc32_parts(MPI_Comm comm, hsize_t start, hsize_t count, size_t elsize, const void *local, hsize_t total,
                              PetscBool *whole, int64_t *crc);
/* Error naming f and path if path's crc32 attribute (when it has one) is not crc. */
PetscErrorCode h5_crc32_check(NnH5File *f, const char *path, int64_t crc);

/* ----------------------------------------------------------- h5dataset.c -- */
/* Adds the hyperslab (start, count) to space's selection with *op, then sets *op to OR. */
herr_t h5_add_hyperslab(hid_t space, H5S_seloper_t *op, const hsize_t *start, const hsize_t *count);

#endif
