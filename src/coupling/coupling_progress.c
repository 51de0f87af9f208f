/* The draws' per-batch Hessian entries computed so far (include/nncas/coupling.h).
 * They are kept in memory while the draws run; on a stop they go to a
 * progress file, and a later run with the same settings takes them from
 * there and computes only the batches that are missing. A batch's entries do
 * not depend on when they were computed, so the statistics of a resumed run
 * are bit for bit those of a run never stopped. The file's root records the
 * settings the entries belong to (draws, N_b, batches, N, seed; the caller
 * adds the epoch and the weights); a file of other settings is not read. */
#include "couplingimpl.h"

/* Slot 2 d + high: draw d of the correlation coefficients (high = 0, N_b =
 * nb[0]) or of the skewness and kurtosis (high = 1, N_b = nb[1]). */
static PetscInt slot_size(Coupling cp, PetscInt slot)
{
  const PetscInt nb = cp->nb[slot % 2 ? STAT_SKEWNESS : STAT_CC];
  return cp->nbatches * nb * nb;
}

static void slot_name(PetscInt slot, char *g, size_t len)
{
  PetscSNPrintf(g, len, "/draw_%03d_%s", (int)(slot / 2), slot % 2 ? "high" : "cc");
}

#define NKEYS 6
static const char *const key_names[NKEYS] = {"draws", "nb", "nb_high", "batches", "N", "seed"};

static void progress_key(Coupling cp, int64_t key[NKEYS])
{
  key[0] = cp->draws, key[1] = cp->nb[STAT_CC], key[2] = cp->nb[STAT_SKEWNESS];
  key[3] = cp->nbatches, key[4] = cp->N, key[5] = cp->seed;
}

PetscErrorCode coupling_progress_alloc(Coupling cp)
{
  PetscFunctionBeginUser;
  PetscCall(PetscCalloc2(2 * cp->draws, &cp->progress.all, 2 * cp->draws, &cp->progress.done));
  for (PetscInt s = 0; s < 2 * cp->draws; s++) {
    PetscCall(PetscCalloc1((size_t)slot_size(cp, s), &cp->progress.all[s]));
    PetscCall(PetscCalloc1(cp->nbatches, &cp->progress.done[s]));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_progress_free(Coupling cp)
{
  PetscFunctionBeginUser;
  for (PetscInt s = 0; s < 2 * cp->draws && cp->progress.all; s++) {
    PetscCall(PetscFree(cp->progress.all[s]));
    PetscCall(PetscFree(cp->progress.done[s]));
  }
  PetscCall(PetscFree2(cp->progress.all, cp->progress.done));
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_progress_read(Coupling cp, NnH5File *f, PetscBool *match)
{
  PetscBool has;
  int64_t   v, *done, key[NKEYS];
  char      g[64], p[96];
  int       nd;
  hsize_t   dims[2];
  PetscFunctionBeginUser;
  PetscCheck(cp->epoch >= 0, cp->comm, PETSC_ERR_ORDER, "coupling: coupling_epoch_begin first");
  progress_key(cp, key);
  *match = PETSC_TRUE;
  for (int k = 0; k < NKEYS && *match; k++) {
    PetscCall(nn_h5_has_attr(f, "/", key_names[k], &has));
    if (has) PetscCall(nn_h5_get_attr_int64(f, "/", key_names[k], &v));
    *match = has && v == key[k];
  }
  PetscCall(PetscMalloc1(cp->nbatches, &done));
  for (PetscInt s = 0; s < 2 * cp->draws && *match; s++) {
    slot_name(s, g, sizeof g);
    PetscCall(nn_h5_exists(f, g, &has));
    if (!has) continue;
    PetscCall(PetscSNPrintf(p, sizeof p, "%s/done", g));
    PetscCall(nn_h5_read_int64(f, p, 1, &nd, dims, (size_t)cp->nbatches, done));
    for (PetscInt b = 0; b < cp->nbatches; b++) cp->progress.done[s][b] = done[b] ? PETSC_TRUE : PETSC_FALSE;
    PetscCall(PetscSNPrintf(p, sizeof p, "%s/entries", g));
    PetscCall(nn_h5_read_double(f, p, 2, &nd, dims, (size_t)slot_size(cp, s), cp->progress.all[s]));
  }
  PetscCall(PetscFree(done));
  PetscFunctionReturn(0);
}

PetscErrorCode coupling_progress_write(Coupling cp, NnH5File *f)
{
  char    g[64], p[96];
  int64_t key[NKEYS], *done;
  PetscFunctionBeginUser;
  PetscCheck(cp->epoch >= 0, cp->comm, PETSC_ERR_ORDER, "coupling: coupling_epoch_begin first");
  progress_key(cp, key);
  for (int k = 0; k < NKEYS; k++) PetscCall(nn_h5_attr_int64(f, "/", key_names[k], key[k]));
  PetscCall(PetscMalloc1(cp->nbatches, &done));
  for (PetscInt s = 0; s < 2 * cp->draws; s++) {
    PetscInt ndone = 0;
    hsize_t  dims[2] = {(hsize_t)cp->nbatches, (hsize_t)(slot_size(cp, s) / cp->nbatches)}, n = (hsize_t)cp->nbatches;
    for (PetscInt b = 0; b < cp->nbatches; b++) ndone += done[b] = cp->progress.done[s][b];
    if (!ndone) continue;
    slot_name(s, g, sizeof g);
    PetscCall(nn_h5_group(f, g));
    PetscCall(PetscSNPrintf(p, sizeof p, "%s/done", g));
    PetscCall(nn_h5_write_int64(f, p, 1, &n, done));
    PetscCall(PetscSNPrintf(p, sizeof p, "%s/entries", g));
    PetscCall(nn_h5_write_double(f, p, 2, dims, cp->progress.all[s]));
  }
  PetscCall(PetscFree(done));
  PetscFunctionReturn(0);
}
