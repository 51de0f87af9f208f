/* A thin layer over parallel HDF5 (MPI-IO driver) for nncas's checkpoint and
 * results files. Every call is collective over the file's communicator, and
 * every error names the file (and the object inside it).
 *
 * Files are written once and never modified in place: nn_h5_create() works
 * on PATH.tmp; nn_h5_commit() closes it, flushes it to disk (fsync) and
 * renames it over PATH, so a crash at any moment leaves either the old or the
 * new complete file. nn_h5_discard() drops the temporary file instead.
 *
 * A full disk is an error on every rank ("PATH: cannot write /a/b (No space
 * left on device)") before HDF5 writes where there is no space: disk space is
 * reserved ahead of HDF5's allocations (see h5_reserve in src/io/h5impl.h).
 * After any error, nn_h5_discard() drops PATH.tmp and leaves PATH as it was;
 * files still neither committed nor discarded when PETSc finalizes are
 * discarded then. */
#ifndef NNCAS_H5IO_H
#define NNCAS_H5IO_H

#include "nncas/core.h"
#include <hdf5.h>

typedef struct {
  MPI_Comm comm;
  hid_t    file;                        /* H5I_INVALID_HID when closed */
  char     path[PETSC_MAX_PATH_LEN];    /* final path */
  char     tmppath[PETSC_MAX_PATH_LEN]; /* where writes go ("" when read-only) */
  off_t    reserved;                    /* rank 0: bytes of tmppath reserved on disk */
} NnH5File;

/* Silence HDF5's own error printing (errors are reported by nncas). */
PetscErrorCode nn_h5_init(void);
/* The HDF5 library in use: "1.10.8 (parallel)". */
PetscErrorCode nn_h5_library_version(char *buf, size_t len);

PetscErrorCode nn_h5_create(MPI_Comm comm, const char *path, NnH5File *f);      /* new file at PATH.tmp */
PetscErrorCode nn_h5_open_read(MPI_Comm comm, const char *path, NnH5File *f);   /* PATH itself, read-only */
PetscErrorCode nn_h5_commit(NnH5File *f); /* close; for writable files fsync + rename over PATH */
PetscErrorCode nn_h5_discard(NnH5File *f); /* close; remove PATH.tmp; PATH untouched */
/* PETSC_TRUE if path exists and is an HDF5 file; an existing non-HDF5 file is an error naming it. */
PetscErrorCode nn_h5_file_exists(MPI_Comm comm, const char *path, PetscBool *exists);

/* Objects. Paths are absolute inside the file ("/weights/L00_conv/weight"). */
PetscErrorCode nn_h5_group(NnH5File *f, const char *path); /* create with missing parents; no-op if it exists */
/* PETSC_TRUE if every component of path exists, all but the last being groups. */
PetscErrorCode nn_h5_exists(NnH5File *f, const char *path, PetscBool *exists);
/* path (its missing parents created) becomes an external link to the object
 * target of the HDF5 file `file`, a name relative to f's directory or absolute;
 * readers (h5py, h5dump, HDF5) follow it as if the object were in f. */
PetscErrorCode nn_h5_link_external(NnH5File *f, const char *path, const char *file, const char *target);

/* Replicated data: every rank passes identical data; rank 0 writes it. */
PetscErrorCode nn_h5_write_double(NnH5File *f, const char *path, int ndims, const hsize_t *dims, const double *data);
PetscErrorCode nn_h5_write_int64(NnH5File *f, const char *path, int ndims, const hsize_t *dims, const int64_t *data);
/* Reads the whole dataset onto every rank. Pass data = NULL to query ndims and
 * dims only. maxdims is the capacity of dims; the product of the dims must equal
 * the capacity `count` of data when data is given (else an error naming it). */
PetscErrorCode nn_h5_read_double(NnH5File *f, const char *path, int maxdims, int *ndims, hsize_t *dims, size_t count,
                                 double *data);
PetscErrorCode nn_h5_read_int64(NnH5File *f, const char *path, int maxdims, int *ndims, hsize_t *dims, size_t count,
                                int64_t *data);

/* Distributed data: the dataset of shape dims (row-major) is viewed as a flat
 * array; this rank writes/reads elements [start, start + count) of it. The
 * ranks' ranges may be empty; written collectively (H5FD_MPIO_COLLECTIVE). */
PetscErrorCode nn_h5_write_double_range(NnH5File *f, const char *path, int ndims, const hsize_t *dims, hsize_t start,
                                        hsize_t count, const double *local);
PetscErrorCode nn_h5_read_double_range(NnH5File *f, const char *path, int ndims, const hsize_t *dims, hsize_t start,
                                       hsize_t count, double *local);
/* Distributed 2-D blocks (ScaLAPACK-style): this rank writes the nblocks blocks
 * rows [r0[b], r0[b]+nr[b]) x cols [c0[b], c0[b]+nc[b]) of the (M, N) dataset;
 * block b's data is row-major at local + off[b]. */
PetscErrorCode nn_h5_write_double_blocks(NnH5File *f, const char *path, hsize_t M, hsize_t N, PetscInt nblocks,
                                         const hsize_t *r0, const hsize_t *nr, const hsize_t *c0, const hsize_t *nc,
                                         const size_t *off, const double *local);

/* Attributes on an existing object (group or dataset); replicated values. */
PetscErrorCode nn_h5_attr_string(NnH5File *f, const char *obj, const char *name, const char *value);
PetscErrorCode nn_h5_attr_double(NnH5File *f, const char *obj, const char *name, double value);
PetscErrorCode nn_h5_attr_int64(NnH5File *f, const char *obj, const char *name, int64_t value);
PetscErrorCode nn_h5_attr_double_array(NnH5File *f, const char *obj, const char *name, hsize_t n, const double *v);
/* Getters: a missing attribute is an error naming file, object and attribute. */
PetscErrorCode nn_h5_get_attr_string(NnH5File *f, const char *obj, const char *name, size_t len, char *value);
PetscErrorCode nn_h5_get_attr_double(NnH5File *f, const char *obj, const char *name, double *value);
PetscErrorCode nn_h5_get_attr_int64(NnH5File *f, const char *obj, const char *name, int64_t *value);
PetscErrorCode nn_h5_has_attr(NnH5File *f, const char *obj, const char *name, PetscBool *has);
/* n must be the attribute's number of values (else an error naming it). */
PetscErrorCode nn_h5_get_attr_double_array(NnH5File *f, const char *obj, const char *name, hsize_t n, double *v);

/* Convenience: a dataset with the attributes every nncas dataset carries. */
PetscErrorCode nn_h5_describe(NnH5File *f, const char *obj, const char *units, const char *description);
/* A replicated, described 1-D dataset group/name of n doubles. */
PetscErrorCode nn_h5_write_vector(NnH5File *f, const char *group, const char *name, hsize_t n, const double *v,
                                  const char *units, const char *description);

#endif
