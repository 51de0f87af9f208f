/* Checkpoint and results files (HDF5), see docs/files.md for their layout.
 *
 * checkpoint.h5 holds everything a run needs to continue bit for bit: the
 * weights and momentum (per layer, in PyTorch's layout), epoch, step, the
 * seeds from which every random draw derives, the sample order, the epoch's
 * running sums, the per-epoch history, the options and provenance.
 * results.h5 holds what a run measured; training writes /training, later
 * stages add their own groups. Both are replaced atomically (h5io.h). */
#ifndef NNCAS_CHECKPOINT_H
#define NNCAS_CHECKPOINT_H

#include "nncas/h5io.h"
#include "nncas/trainer.h"

PetscErrorCode checkpoint_write(Trainer t, const char *path);
/* Restores t's state; errors name the file and what does not match the
 * current options (network, training set, batch size, seed). */
PetscErrorCode checkpoint_read(Trainer t, const char *path);
PetscErrorCode results_write_training(Trainer t);
/* The run's results file for an update by a stage (created if missing), its
 * provenance refreshed; the caller adds its groups and calls nn_h5_commit. */
PetscErrorCode results_open(Trainer t, NnH5File *f);

/* A table as datasets group/<column>, and back (its columns must exist, 1-D,
 * of equal length, at most maxrows rows: a bound from the file's state, so a
 * corrupt file cannot make the reader allocate more). */
PetscErrorCode table_write(NnH5File *f, const NnTable *t, const char *group);
PetscErrorCode table_read(NnH5File *f, NnTable *t, const char *group, PetscInt maxrows);

/* Root attributes of every nncas file: kind, version, git hash, rank count,
 * time, the options database, the network and the data. */
PetscErrorCode provenance_write(Trainer t, NnH5File *f, const char *kind);

#endif
