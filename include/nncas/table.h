/* A table of records (rows) with named, described columns, kept in memory and
 * stored as one 1-D dataset per column under an HDF5 group: the training
 * curves, the per-step records, anything a stage records row by row.
 *
 * Life cycle: table_init -> table_append / table_resize -> table_write /
 * table_read -> table_destroy. */
#ifndef NNCAS_TABLE_H
#define NNCAS_TABLE_H

#include "nncas/h5io.h"

#define NN_TABLE_MAXCOLS 8
typedef struct {
  const char *name, *units, *about; /* dataset name, its units and description attributes */
} NnColumn;
typedef struct {
  PetscInt        n, cap, ncols;
  const NnColumn *cols;
  double         *col[NN_TABLE_MAXCOLS];
} NnTable;

PetscErrorCode table_init(NnTable *t, PetscInt ncols, const NnColumn *cols);
PetscErrorCode table_append(NnTable *t, const double *row);
PetscErrorCode table_resize(NnTable *t, PetscInt n); /* n rows (contents kept up to n) */
PetscErrorCode table_destroy(NnTable *t);

/* The table as datasets group/<column>, and back (its columns must exist, 1-D,
 * of equal length, at most maxrows rows: a bound from the file's state, so a
 * corrupt file cannot make the reader allocate more). */
PetscErrorCode table_write(NnH5File *f, const NnTable *t, const char *group);
PetscErrorCode table_read(NnH5File *f, NnTable *t, const char *group, PetscInt maxrows);

#endif
