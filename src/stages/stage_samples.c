/* A stage's Hessian: its options, and its provenance (which training samples
 * it was taken on, recorded beside the stage's results so that they can be
 * recomputed from the results file and the data alone,
 * postprocess/recompute_spectrum.py). */
#include "stageimpl.h"

#define NN_SPECTRUM_SINGLE_TOL 1e-6 /* the extremes' tolerance with -hessian_precision single */

/* The descriptions say what the indices index (docs/files.md). */
#define NN_SAMPLE_INDEX_TEXT                                                                                              \
  "positions in the training split as nncas reads it (the samples of the binary relabelling of the training file(s), " \
  "capped by -data_train_size, in file order; the i-th is sample source_index[i] of the file)"
#define NN_SOURCE_INDEX_TEXT                                                                                              \
  "index of each sample in its source: train-images-idx3-ubyte (idx), data_batch_1..5.bin concatenated (cifar10), or " \
  "the generator's sample number (synthetic data)"

/* v (rows x batch, -1 padded) <- the samples' positions (source = false) or
 * source indices (true), batch b in row b. */
static void samples_table(const NnSamples *train, const PetscInt *ids, PetscInt m, PetscInt batch, PetscInt rows, PetscBool source,
                          int64_t *v)
{
  for (PetscInt q = 0; q < rows * batch; q++) v[q] = q < m ? (source ? train->source_index[ids[q]] : ids[q]) : -1;
}

PetscErrorCode nn_stage_write_hessian_samples(NnStage st, Hessian h, NnH5File *f, const char *group, PetscBool by_batch)
{
  const NnSamples *train;
  const PetscInt  *ids;
  PetscInt         m, batch, nbatches, seed;
  HessianPrecision precision;
  int64_t         *v;
  char             path[256];
  hsize_t          d[2];
  PetscFunctionBeginUser;
  PetscCall(dataset_get_split(st->ds, NN_SPLIT_TRAIN, &train));
  PetscCall(hessian_get_samples(h, &m, &batch, &nbatches));
  PetscCall(hessian_get_sample_ids(h, &ids, &seed));
  d[0] = by_batch ? (hsize_t)nbatches : (hsize_t)m, d[1] = (hsize_t)batch;
  PetscCall(PetscMalloc1((size_t)nbatches * batch, &v));
  for (int source = 0; source < 2; source++) {
    samples_table(train, ids, m, batch, nbatches, source ? PETSC_TRUE : PETSC_FALSE, v);
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s_%s", group, by_batch ? "batch" : "hessian", source ? "source_index" : "sample_index"));
    PetscCall(nn_h5_write_int64(f, path, by_batch ? 2 : 1, d, v));
    PetscCall(nn_h5_describe(f, path, "1", source ? NN_SOURCE_INDEX_TEXT : NN_SAMPLE_INDEX_TEXT));
    PetscCall(nn_h5_attr_string(f, path, "order", by_batch ? "row b: the samples of batch b (-1 pads a short last batch)"
                                                           : "batch order: batch b is entries [b hessian_batch, (b + 1) hessian_batch)"));
  }
  PetscCall(PetscFree(v));
  PetscCall(nn_h5_attr_int64(f, group, "hessian_batch", batch));
  PetscCall(nn_h5_attr_int64(f, group, "hessian_seed", seed));
  PetscCall(hessian_get_precision(h, &precision));
  PetscCall(nn_h5_attr_string(f, group, "hessian_precision", HessianPrecisions[precision])); /* of the network's passes */
  PetscFunctionReturn(0);
}

PetscErrorCode nn_stage_hessian_spectrum_options(Hessian h, Spectrum sp)
{
  HessianPrecision precision;
  PetscFunctionBeginUser;
  PetscCall(hessian_set_from_options(h));
  PetscCall(spectrum_set_from_options(sp));
  PetscCall(hessian_get_precision(h, &precision));
  /* float32 products leave residuals of ~1e-7 relative: the extremes are accepted at 1e-6 (docs/hessian.md) */
  if (precision == HESSIAN_PRECISION_SINGLE) PetscCall(spectrum_set_tolerance(sp, NN_SPECTRUM_SINGLE_TOL));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_stage_hessian_local_samples(NnStage st, Hessian h, PetscInt *nlocal)
{
  PetscMPIInt size;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(st->comm, &size));
  *nlocal = hessian_local_samples(h, size);
  if (st->groups.n > 1) { /* a group's copy holds more samples per rank */
    PetscCallMPI(MPI_Comm_size(st->groups.group_comm, &size));
    *nlocal = PetscMax(*nlocal, hessian_local_samples(h, size));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode nn_stage_group_hessian(NnStage st, Hessian h, Hessian *hg)
{
  PetscFunctionBeginUser;
  *hg = NULL;
  if (st->groups.n > 1) PetscCall(hessian_duplicate(h, st->groups.group_comm, hg));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_stage_group_spectrum(NnStage st, Hessian hg, Spectrum sp)
{
  Mat Hg;
  PetscFunctionBeginUser;
  if (!hg) PetscFunctionReturn(0);
  PetscCall(hessian_setup(hg));
  PetscCall(hessian_get_mat(hg, HESSIAN_FULL, &Hg));
  PetscCall(spectrum_set_groups(sp, Hg, &st->groups));
  PetscCall(PetscPrintf(st->comm, "[%s] %" PetscInt_FMT " rank groups, each with its own copy of the Hessian: their units side by side\n",
                        st->type, st->groups.n));
  PetscFunctionReturn(0);
}
