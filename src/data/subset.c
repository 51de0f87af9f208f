/* Subsets of a split: the binary relabelling of App. G (a class against an
 * equal number of the others) and the size caps of -data_train_size and
 * -data_val_size, both drawn by the data seed. */
#include "data_impl.h"

#include <string.h>

/* mask[j] <- whether j is among k of 0..m-1 drawn without replacement by key. */
static PetscErrorCode choose_subset(NnRngKey key, PetscInt m, PetscInt k, PetscBool *mask)
{
  PetscInt *perm;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(m, &perm));
  nn_rng_permutation(key, m, perm);
  for (PetscInt j = 0; j < m; j++) mask[j] = PETSC_FALSE;
  for (PetscInt t = 0; t < k; t++) mask[perm[t]] = PETSC_TRUE;
  PetscCall(PetscFree(perm));
  PetscFunctionReturn(0);
}

PetscErrorCode binary_relabel(PetscInt n, const uint8_t *labels, PetscInt positive, NnRngKey key, PetscInt *nkept,
                              PetscInt **kept, double **label)
{
  PetscInt   npos = 0, k = 0, j = 0;
  PetscBool *chosen;
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < n; i++) npos += labels[i] == positive;
  PetscCheck(npos > 0 && n - npos >= npos, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "binary relabelling: %" PetscInt_FMT " samples of class %" PetscInt_FMT " and %" PetscInt_FMT
             " of the others; need at least one positive and as many negatives",
             npos, positive, n - npos);
  PetscCall(PetscMalloc1(n - npos, &chosen));
  PetscCall(choose_subset(key, n - npos, npos, chosen)); /* which negatives, in order of appearance */
  PetscCall(PetscMalloc1(2 * npos, kept));
  PetscCall(PetscMalloc1(2 * npos, label));
  for (PetscInt i = 0; i < n; i++) {
    PetscBool pos = labels[i] == positive ? PETSC_TRUE : PETSC_FALSE;
    if (!pos && !chosen[j++]) continue;
    (*kept)[k]  = i;
    (*label)[k] = pos ? 1.0 : -1.0;
    k++;
  }
  *nkept = k;
  PetscCall(PetscFree(chosen));
  PetscFunctionReturn(0);
}

/* Keeps the samples i of s with keep[i], in order (compacted in place). */
static void samples_compact(NnSamples *s, PetscInt d, const PetscBool *keep)
{
  PetscInt k = 0;
  for (PetscInt i = 0; i < s->n; i++) {
    if (!keep[i]) continue;
    if (s->pixels) memmove(s->pixels + (size_t)k * d, s->pixels + (size_t)i * d, (size_t)d);
    if (s->values) memmove(s->values + (size_t)k * d, s->values + (size_t)i * d, (size_t)d * sizeof(double));
    s->label[k]        = s->label[i];
    s->source_index[k] = s->source_index[i];
    k++;
  }
  s->n = k;
}

/* keep[i] <- for the samples i of s labelled `label`, whether i is among `half` of them drawn by key. */
static PetscErrorCode cap_choose_class(const NnSamples *s, double label, PetscInt half, NnRngKey key, PetscBool *keep)
{
  PetscInt   m = 0, j = 0;
  PetscBool *mask;
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < s->n; i++) m += s->label[i] == label;
  PetscCall(PetscMalloc1(m, &mask));
  PetscCall(choose_subset(key, m, half, mask));
  for (PetscInt i = 0; i < s->n; i++)
    if (s->label[i] == label) keep[i] = mask[j++];
  PetscCall(PetscFree(mask));
  PetscFunctionReturn(0);
}

/* Labels other than +-1 (every class, or the user's labels): keeps cap samples
 * of s drawn alike from all, by the substream of the positives' draw (the
 * binary draw is never made on such a split). */
static PetscErrorCode cap_uniform(Dataset ds, NnSamples *s, PetscInt split, PetscInt cap)
{
  PetscBool *keep;
  NnRngKey   key = nn_rng_key((uint64_t)ds->seed, NN_STREAM_SUBSET, nn_subset_cap_substream((uint64_t)split, 1));
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(s->n, &keep));
  PetscCall(choose_subset(key, s->n, cap, keep));
  samples_compact(s, ds->c * ds->h * ds->w, keep);
  PetscCall(PetscFree(keep));
  PetscFunctionReturn(0);
}

/* -data_{train,val}_size: keeps cap/2 positives and cap/2 negatives of split
 * (labels +-1), or cap samples (other labels), drawn by the seed, in source order. */
PetscErrorCode dataset_cap_split(Dataset ds, PetscInt split, PetscInt cap)
{
  NnSamples *s    = split ? &ds->val : &ds->train;
  PetscInt   half = cap / 2, npos = nn_samples_count_positives(s);
  PetscBool *keep;
  uint64_t   seed = (uint64_t)ds->seed;
  PetscFunctionBeginUser;
  if (!cap || cap >= s->n) PetscFunctionReturn(0);
  if (!nn_samples_plus_minus_one(s)) {
    PetscCall(cap_uniform(ds, s, split, cap));
    PetscFunctionReturn(0);
  }
  PetscCheck(half > 0, ds->comm, PETSC_ERR_ARG_OUTOFRANGE, "-data_%s_size %" PetscInt_FMT " keeps no sample",
             split ? "val" : "train", cap);
  PetscCheck(npos >= half && s->n - npos >= half, ds->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-data_%s_size %" PetscInt_FMT ": the %s split has only %" PetscInt_FMT " positives and %" PetscInt_FMT
             " negatives, fewer than %" PetscInt_FMT " of each",
             split ? "val" : "train", cap, nn_split_name[split], npos, s->n - npos, half);
  PetscCall(PetscMalloc1(s->n, &keep));
  PetscCall(cap_choose_class(s, 1.0, half,
                             nn_rng_key(seed, NN_STREAM_SUBSET, nn_subset_cap_substream((uint64_t)split, 1)), keep));
  PetscCall(cap_choose_class(s, -1.0, half,
                             nn_rng_key(seed, NN_STREAM_SUBSET, nn_subset_cap_substream((uint64_t)split, 0)), keep));
  samples_compact(s, ds->c * ds->h * ds->w, keep);
  PetscCall(PetscFree(keep));
  PetscFunctionReturn(0);
}
