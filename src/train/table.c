/* NnTable: rows of named columns in memory, one dataset per column on disk
 * (the trainer's curves and step records; include/nncas/table.h). */
#include "nncas/table.h"

PetscErrorCode table_init(NnTable *t, PetscInt ncols, const NnColumn *cols)
{
  PetscFunctionBeginUser;
  PetscCheck(ncols <= NN_TABLE_MAXCOLS, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "too many columns");
  PetscCall(PetscMemzero(t, sizeof *t));
  t->ncols = ncols;
  t->cols  = cols;
  PetscFunctionReturn(0);
}

PetscErrorCode table_resize(NnTable *t, PetscInt n)
{
  PetscFunctionBeginUser;
  if (n > t->cap) {
    PetscInt cap = PetscMax(n, t->cap ? 2 * t->cap : 16);
    for (PetscInt c = 0; c < t->ncols; c++) PetscCall(PetscRealloc(sizeof(double) * cap, &t->col[c]));
    t->cap = cap;
  }
  t->n = n;
  PetscFunctionReturn(0);
}

PetscErrorCode table_append(NnTable *t, const double *row)
{
  PetscFunctionBeginUser;
  PetscCall(table_resize(t, t->n + 1));
  for (PetscInt c = 0; c < t->ncols; c++) t->col[c][t->n - 1] = row[c];
  PetscFunctionReturn(0);
}

PetscErrorCode table_destroy(NnTable *t)
{
  PetscFunctionBeginUser;
  for (PetscInt c = 0; c < t->ncols; c++) PetscCall(PetscFree(t->col[c]));
  t->n = t->cap = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode table_write(NnH5File *f, const NnTable *t, const char *group)
{
  char    path[256];
  hsize_t n = (hsize_t)t->n;
  PetscFunctionBeginUser;
  PetscCall(nn_h5_group(f, group));
  for (PetscInt c = 0; c < t->ncols; c++) {
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s", group, t->cols[c].name));
    PetscCall(nn_h5_write_double(f, path, 1, &n, t->col[c]));
    PetscCall(nn_h5_describe(f, path, t->cols[c].units, t->cols[c].about));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode table_read(NnH5File *f, NnTable *t, const char *group, PetscInt maxrows)
{
  char    path[256];
  int     nd = 0;
  hsize_t n  = 0;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s", group, t->cols[0].name));
  PetscCall(nn_h5_read_double(f, path, 1, &nd, &n, 0, NULL));
  PetscCheck(nd == 1, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s has %d dimensions, expected 1", f->path, path,
             nd);
  PetscCheck(n <= (hsize_t)maxrows, f->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: dataset %s has %llu rows, more than the %" PetscInt_FMT " the file's state allows", f->path, path,
             (unsigned long long)n, maxrows);
  PetscCall(table_resize(t, (PetscInt)n));
  for (PetscInt c = 0; c < t->ncols; c++) {
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s", group, t->cols[c].name));
    PetscCall(nn_h5_read_double(f, path, 1, &nd, &n, (size_t)t->n, t->col[c]));
    PetscCheck(nd == 1, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s has %d dimensions, expected 1", f->path,
               path, nd);
  }
  PetscFunctionReturn(0);
}
