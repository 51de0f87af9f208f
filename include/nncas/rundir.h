/* A run's output directory: what the training loop and the measurement stages
 * share on disk. OUTPUT_DIR (-output_dir) is created and locked for the life
 * of the run, so that a second run (or ranks of a killed job still running)
 * cannot interleave their writes with this run's; it holds checkpoint.h5,
 * results.h5 and results/, and every file written there carries the same provenance
 * attributes (version, git hash, ranks, time, options, network, data).
 *
 * Life cycle: rundir_create -> rundir_set_from_options | rundir_set_path ->
 * rundir_setup (mkdir -p, lock) -> rundir_results_create/commit, paths ->
 * rundir_destroy (releases the lock). Collective over the data set's
 * communicator. */
#ifndef NNCAS_RUNDIR_H
#define NNCAS_RUNDIR_H

#include "nncas/dataset.h"
#include "nncas/net.h"
#include "nncas/h5io.h"

typedef struct _p_RunDir *RunDir;

/* The run's directory for a run on ds's communicator; provenance names ds and net. */
PetscErrorCode rundir_create(Dataset ds, Net net, RunDir *rd);
PetscErrorCode rundir_set_from_options(RunDir rd); /* -output_dir */
PetscErrorCode rundir_set_path(RunDir rd, const char *dir);
/* Creates the directory (with its parents) and takes its lock. */
PetscErrorCode rundir_setup(RunDir rd);
PetscErrorCode rundir_destroy(RunDir *rd);

const char *rundir_path(RunDir rd);            /* OUTPUT_DIR */
const char *rundir_checkpoint_path(RunDir rd); /* OUTPUT_DIR/checkpoint.h5 */
const char *rundir_results_path(RunDir rd);    /* OUTPUT_DIR/results.h5 */

/* Root attributes of every nncas file: kind, version, git hash, rank count,
 * time, the options database, the network and the data. */
PetscErrorCode rundir_provenance_write(RunDir rd, NnH5File *f, const char *kind);
/* OUTPUT_DIR/checkpoints/epoch_EEEE.h5 <- the checkpoint just written at the
 * end of that epoch (-checkpoint_keep): a hard link, which the next
 * checkpoint (a new file renamed over checkpoint.h5) leaves as it is; where
 * the file system has no hard links, a copy. An earlier file of that name is
 * replaced. */
PetscErrorCode rundir_checkpoint_keep(RunDir rd, PetscInt epoch);
/* OUTPUT_DIR/<stage>_progress.h5: where a stage stopped by a signal keeps
 * its progress until a later run at the same epoch finishes it. */
PetscErrorCode rundir_progress_path(RunDir rd, const char *stage, char *path, size_t len);
/* Removes a file of the run (rank 0; no error if it does not exist). */
PetscErrorCode rundir_remove(RunDir rd, const char *path);
/* The run starts afresh (no checkpoint to continue): the first results part
 * it commits replaces every earlier run's part, so none is carried over; until
 * then the old results stay. */
PetscErrorCode rundir_start_fresh(RunDir rd);
/* Results are written once, a file per stage and epoch (a "part"):
 * OUTPUT_DIR/results/GROUP.h5 holds the one group GROUP ("/training",
 * "/spectrum/epoch_0005", "/coupling/null"), with the provenance attributes.
 * results.h5 is an index of external links, GROUP -> results/GROUP.h5:GROUP
 * for every part in the directory, so that every path reads through it.
 *
 * rundir_results_create: the part for group, created at its PATH.tmp (with its
 * provenance); the caller writes the group into *f, which rd owns, and then
 * rundir_results_commit renames it into place, replacing the earlier file of
 * the same group only, and rewrites the index. One part at a time. A run that
 * continues in a directory whose results.h5 is of the layout before
 * 2026-12-07 (its results inside it) is refused here, before any write. */
PetscErrorCode rundir_results_create(RunDir rd, const char *group, NnH5File **f);
PetscErrorCode rundir_results_commit(RunDir rd);
/* Discards the part if one is open (after an error or a stop left it so). */
PetscErrorCode rundir_results_discard(RunDir rd);
/* The weights theta (replicated, N values of rd's network) under group of
 * f, in checkpoint.h5's /weights layout (group/Lii_kind/weight, .../bias), so
 * that postprocess/nncas_torch.py loads them. 8 N bytes. */
PetscErrorCode rundir_write_weights(RunDir rd, NnH5File *f, const char *group, const double *theta);
#endif
