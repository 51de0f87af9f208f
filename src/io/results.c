/* The results file of a run, and the provenance attributes shared by all files.
 *
 * results.h5 layout (docs/files.md):
 *   /           attributes: kind "nncas results", provenance
 *   /training/epoch, /training/<curve>   per-epoch curves (units and description
 *                                        as attributes of each dataset)
 * Later stages add their own groups; the file is updated through a copy that
 * replaces it atomically, so those groups are kept. */
#include "nncas/checkpoint.h"
#include "nncas/version.h"

#include <time.h>

PetscErrorCode provenance_write(Trainer t, NnH5File *f, const char *kind)
{
  char  *opts, when[64];
  time_t now = time(NULL);
  PetscFunctionBeginUser;
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  PetscCall(PetscOptionsGetAll(NULL, &opts));
  PetscCall(nn_h5_attr_string(f, "/", "kind", kind));
  PetscCall(nn_h5_attr_string(f, "/", "nncas_version", NNCAS_VERSION));
  PetscCall(nn_h5_attr_string(f, "/", "git_hash", NNCAS_GIT_HASH));
  PetscCall(nn_h5_attr_int64(f, "/", "mpi_ranks", t->size));
  PetscCall(nn_h5_attr_string(f, "/", "written_at", when));
  PetscCall(nn_h5_attr_string(f, "/", "options", opts));
  PetscCall(nn_h5_attr_string(f, "/", "net_spec", t->net->spec));
  PetscCall(nn_h5_attr_int64(f, "/", "net_parameters", t->net->N));
  PetscCall(nn_h5_attr_int64(f, "/", "net_bias", t->net->bias));
  PetscCall(nn_h5_attr_string(f, "/", "net_loss", NnLosses[t->net->loss]));
  PetscCall(nn_h5_attr_string(f, "/", "net_init", NnInits[t->net->init]));
  PetscCall(nn_h5_attr_string(f, "/", "data_format", NnDataFormats[t->ds->format]));
  PetscCall(nn_h5_attr_string(f, "/", "data_dir", t->ds->dir));
  PetscCall(nn_h5_attr_int64(f, "/", "data_channels", t->ds->c));
  PetscCall(nn_h5_attr_int64(f, "/", "data_height", t->ds->h));
  PetscCall(nn_h5_attr_int64(f, "/", "data_width", t->ds->w));
  PetscCall(nn_h5_attr_int64(f, "/", "train_samples", t->ds->train.n));
  PetscCall(nn_h5_attr_int64(f, "/", "val_samples", t->ds->val.n));
  PetscCall(nn_h5_attr_double_array(f, "/", "data_channel_mean", (hsize_t)t->ds->c, t->ds->mean));
  PetscCall(nn_h5_attr_double_array(f, "/", "data_channel_std", (hsize_t)t->ds->c, t->ds->stdev));
  PetscCall(PetscFree(opts));
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

PetscErrorCode results_open(Trainer t, NnH5File *f)
{
  PetscBool exists;
  PetscFunctionBeginUser;
  PetscCall(nn_h5_file_exists(t->comm, t->results_path, &exists));
  if (exists) PetscCall(nn_h5_open_update(t->comm, t->results_path, f));
  else PetscCall(nn_h5_create(t->comm, t->results_path, f));
  PetscCall(provenance_write(t, f, "nncas results"));
  PetscFunctionReturn(0);
}

PetscErrorCode results_write_training(Trainer t)
{
  NnH5File  f;
  hsize_t   n = (hsize_t)t->hist.n;
  int64_t  *epoch;
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(nn_events.io_results, 0, 0, 0, 0));
  PetscCall(results_open(t, &f));
  PetscCall(nn_h5_delete(&f, "/training"));
  PetscCall(nn_h5_group(&f, "/training"));
  PetscCall(nn_h5_attr_string(&f, "/training", "description", "training curves, one entry per finished epoch"));
  PetscCall(PetscMalloc1(n + 1, &epoch));
  for (hsize_t e = 0; e < n; e++) epoch[e] = (int64_t)e + 1;
  PetscCall(nn_h5_write_int64(&f, "/training/epoch", 1, &n, epoch));
  PetscCall(nn_h5_describe(&f, "/training/epoch", "epoch", "number of epochs finished (1-based) when the row was recorded"));
  PetscCall(PetscFree(epoch));
  PetscCall(table_write(&f, &t->hist, "/training"));
  if (t->record_steps || t->steps.n) {
    PetscCall(table_write(&f, &t->steps, "/training/steps"));
    PetscCall(nn_h5_attr_string(&f, "/training/steps", "description", "one record per SGD step (-train_record_steps)"));
  }
  PetscCall(nn_h5_attr_string(&f, "/training", "step_rule", NnStepRules[t->step_rule]));
  PetscCall(nn_h5_attr_int64(&f, "/training", "diverged", t->diverged));
  if (t->diverged) PetscCall(nn_h5_attr_string(&f, "/training", "diverged_what", t->diverged_what));
  PetscCall(nn_h5_commit(&f));
  PetscCall(PetscLogEventEnd(nn_events.io_results, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}
