/* Mini-batches: the preprocessed samples of a batch (standardisation, and
 * CIFAR-style augmentation drawn by the global sample index). */
#include "data_impl.h"

#define NN_AUG_PAD 4 /* zero padding of the random crop, as RandomCrop(32, padding=4) */

/* Channel c's value = (raw - shift) / divisor: (p - mean_c) / std_c with
 * normalize, else p / 255 for pixels and other values unchanged. */
static inline double channel_shift(Dataset ds, PetscInt c) { return ds->normalize ? ds->mean[c] : 0.0; }
static inline double channel_divisor(Dataset ds, const NnSamples *split, PetscInt c)
{
  return ds->normalize ? ds->stdev[c] : split->pixels ? 255.0 : 1.0;
}

/* x (c, h, w) <- the transformed sample i, unaugmented. */
static void fill_plain(Dataset ds, const NnSamples *split, PetscInt i, double *x)
{
  size_t hw = (size_t)ds->h * (size_t)ds->w, d = (size_t)ds->c * hw;
  for (PetscInt c = 0; c < ds->c; c++) {
    const double shift = channel_shift(ds, c), divisor = channel_divisor(ds, split, c);
    for (size_t k = c * hw; k < (c + 1) * hw; k++) x[k] = (nn_sample_value(split, i * d + k) - shift) / divisor;
  }
}

/* x (c, h, w) <- the image i zero-padded by NN_AUG_PAD, cropped to h x w at
 * offset (ox, oy) = (floor(9 u_{3i}), floor(9 u_{3i+1})) of the padded image,
 * flipped left-right if u_{3i+2} < 1/2 (u_j = nn_rng_uniform(key, j)), then
 * transformed. Padding pixels are raw 0 (black), as in torchvision. */
static void fill_augmented(Dataset ds, const NnSamples *split, PetscInt i, NnRngKey key, double *x)
{
  const uint64_t  j    = 3 * (uint64_t)i;
  const PetscInt  span = 2 * NN_AUG_PAD + 1;
  const PetscInt  ox = (PetscInt)(span * nn_rng_uniform(key, j)), oy = (PetscInt)(span * nn_rng_uniform(key, j + 1));
  const PetscBool flip = nn_rng_uniform(key, j + 2) < 0.5 ? PETSC_TRUE : PETSC_FALSE;
  const PetscInt  h = ds->h, w = ds->w;
  const uint8_t  *img = split->pixels + (size_t)i * ds->c * h * w;
  for (PetscInt c = 0; c < ds->c; c++) {
    const double shift = channel_shift(ds, c), divisor = channel_divisor(ds, split, c);
    for (PetscInt r = 0; r < h; r++)
      for (PetscInt q = 0; q < w; q++) {
        PetscInt sr = r + oy - NN_AUG_PAD, sq = (flip ? w - 1 - q : q) + ox - NN_AUG_PAD;
        double   p = (sr >= 0 && sr < h && sq >= 0 && sq < w) ? img[((size_t)c * h + sr) * w + sq] : 0.0;
        x[((size_t)c * h + r) * w + q] = (p - shift) / divisor;
      }
  }
}

PetscErrorCode dataset_fill_batch(Dataset ds, const NnSamples *split, PetscInt nb, const PetscInt *idx,
                                  PetscBool augment, NnRngKey key, double *x, double *y)
{
  size_t d = (size_t)ds->c * ds->h * ds->w;
  PetscFunctionBeginUser;
  PetscCheck(!augment || split->pixels, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "augmentation applies to image data only");
  for (PetscInt b = 0; b < nb; b++) {
    PetscInt i = idx[b];
    PetscCheck(i >= 0 && i < split->n, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
               "sample index %" PetscInt_FMT " is outside the split of %" PetscInt_FMT " samples", i, split->n);
    if (augment) fill_augmented(ds, split, i, key, x + b * d);
    else fill_plain(ds, split, i, x + b * d);
    y[b] = split->label[i];
  }
  PetscFunctionReturn(0);
}
