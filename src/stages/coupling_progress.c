/* The coupling stage's progress within one epoch's run: every draw's
 * per-batch Hessian entries computed so far. They are kept in memory while
 * the draws run; on a stop signal they go to OUTPUT_DIR/coupling_progress.h5,
 * and the next run at the same epoch with the same weights (a restart from the
 * checkpoint written at the stop) takes them from there and computes only the
 * batches that are missing. A batch's entries do not depend on when they were
 * computed, so the statistics of a resumed run are bit for bit those of a run
 * never stopped. The file records what the entries belong to (epoch, weights'
 * CRC-32, draws, N_b, batches, N, seed); a file that does not match is
 * ignored. */
#include "coupling_stage.h"

/* Slot 2 d + high: draw d of the correlation coefficients (high = 0, N_b =
 * nb[0]) or of the skewness and kurtosis (high = 1, N_b = nb[1]). */
static PetscInt slot_size(CouplingStage *st, PetscInt slot)
{
  const PetscInt nb = st->nb[slot % 2 ? STAT_SKEWNESS : STAT_CC];
  return st->nbatches * nb * nb;
}

static void slot_name(PetscInt slot, char *g, size_t len)
{
  PetscSNPrintf(g, len, "/draw_%03d_%s", (int)(slot / 2), slot % 2 ? "high" : "cc");
}

/* What the entries belong to, as integers (the file's root attributes). */
static void progress_key(CouplingStage *st, PetscInt epoch, const double *theta, int64_t key[8])
{
  key[0] = epoch, key[1] = st->draws, key[2] = st->nb[STAT_CC], key[3] = st->nb[STAT_SKEWNESS];
  key[4] = st->nbatches, key[5] = st->N, key[6] = st->seed;
  key[7] = nn_stage_weights_crc32(st->stage, theta);
}

static const char *const key_names[8] = {"epoch", "draws", "nb", "nb_high", "batches", "N", "seed", "weights_crc32"};

static PetscErrorCode progress_load(CouplingStage *st, const char *path, const int64_t key[8])
{
  NnH5File  f;
  PetscBool exists, match = PETSC_TRUE, has;
  int64_t   v, *done;
  char      g[64], p[96];
  int       nd;
  hsize_t   dims[2];
  PetscFunctionBeginUser;
  PetscCall(nn_h5_file_exists(st->comm, path, &exists));
  if (!exists) PetscFunctionReturn(0);
  PetscCall(nn_h5_open_read(st->comm, path, &f));
  for (int k = 0; k < 8 && match; k++) {
    PetscCall(nn_h5_has_attr(&f, "/", key_names[k], &has));
    if (has) PetscCall(nn_h5_get_attr_int64(&f, "/", key_names[k], &v));
    match = has && v == key[k];
  }
  PetscCall(PetscMalloc1(st->nbatches, &done));
  for (PetscInt s = 0; s < 2 * st->draws && match; s++) {
    slot_name(s, g, sizeof g);
    PetscCall(nn_h5_exists(&f, g, &has));
    if (!has) continue;
    PetscCall(PetscSNPrintf(p, sizeof p, "%s/done", g));
    PetscCall(nn_h5_read_int64(&f, p, 1, &nd, dims, (size_t)st->nbatches, done));
    for (PetscInt b = 0; b < st->nbatches; b++) st->progress.done[s][b] = done[b] ? PETSC_TRUE : PETSC_FALSE;
    PetscCall(PetscSNPrintf(p, sizeof p, "%s/entries", g));
    PetscCall(nn_h5_read_double(&f, p, 2, &nd, dims, (size_t)slot_size(st, s), st->progress.all[s]));
  }
  PetscCall(PetscFree(done));
  PetscCall(nn_h5_commit(&f));
  if (match) PetscCall(PetscPrintf(st->comm, "[coupling] resuming from %s\n", path));
  else PetscCall(PetscPrintf(st->comm, "[coupling] %s belongs to another run or epoch: not used\n", path));
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_progress_start(CouplingStage *st, PetscInt epoch, const double *theta, RunDir rd)
{
  char    path[PETSC_MAX_PATH_LEN];
  int64_t key[8];
  PetscFunctionBeginUser;
  PetscCall(PetscCalloc2(2 * st->draws, &st->progress.all, 2 * st->draws, &st->progress.done));
  for (PetscInt s = 0; s < 2 * st->draws; s++) {
    PetscCall(PetscCalloc1((size_t)slot_size(st, s), &st->progress.all[s]));
    PetscCall(PetscCalloc1(st->nbatches, &st->progress.done[s]));
  }
  progress_key(st, epoch, theta, key);
  PetscCall(rundir_progress_path(rd, "coupling", path, sizeof path));
  PetscCall(progress_load(st, path, key));
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_progress_save(CouplingStage *st, PetscInt epoch, const double *theta, RunDir rd)
{
  NnH5File f;
  char     path[PETSC_MAX_PATH_LEN], g[64], p[96];
  int64_t  key[8], *done;
  PetscFunctionBeginUser;
  progress_key(st, epoch, theta, key);
  PetscCall(rundir_progress_path(rd, "coupling", path, sizeof path));
  PetscCall(nn_h5_create(st->comm, path, &f));
  for (int k = 0; k < 8; k++) PetscCall(nn_h5_attr_int64(&f, "/", key_names[k], key[k]));
  PetscCall(PetscMalloc1(st->nbatches, &done));
  for (PetscInt s = 0; s < 2 * st->draws; s++) {
    PetscInt ndone = 0;
    hsize_t  dims[2] = {(hsize_t)st->nbatches, (hsize_t)(slot_size(st, s) / st->nbatches)}, n = (hsize_t)st->nbatches;
    for (PetscInt b = 0; b < st->nbatches; b++) ndone += done[b] = st->progress.done[s][b];
    if (!ndone) continue;
    slot_name(s, g, sizeof g);
    PetscCall(nn_h5_group(&f, g));
    PetscCall(PetscSNPrintf(p, sizeof p, "%s/done", g));
    PetscCall(nn_h5_write_int64(&f, p, 1, &n, done));
    PetscCall(PetscSNPrintf(p, sizeof p, "%s/entries", g));
    PetscCall(nn_h5_write_double(&f, p, 2, dims, st->progress.all[s]));
  }
  PetscCall(PetscFree(done));
  PetscCall(nn_h5_commit(&f));
  PetscCall(PetscPrintf(st->comm, "[coupling] stopped: progress saved to %s\n", path));
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_progress_end(CouplingStage *st, RunDir rd, PetscBool finished)
{
  char path[PETSC_MAX_PATH_LEN];
  PetscFunctionBeginUser;
  for (PetscInt s = 0; s < 2 * st->draws && st->progress.all; s++) {
    PetscCall(PetscFree(st->progress.all[s]));
    PetscCall(PetscFree(st->progress.done[s]));
  }
  PetscCall(PetscFree2(st->progress.all, st->progress.done));
  if (!finished) PetscFunctionReturn(0);
  PetscCall(rundir_progress_path(rd, "coupling", path, sizeof path));
  PetscCall(rundir_remove(rd, path));
  PetscFunctionReturn(0);
}
