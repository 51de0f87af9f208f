/* Private to src/data: what its files share. The files, lowest first (each
 * uses only those above it):
 *   samples.c    NnSamples: allocation, counts
 *   gzread.c     reading gzip or raw files through zlib; the readers' label check
 *   idx.c        IDX (MNIST, Fashion-MNIST) images and labels
 *   cifar.c      CIFAR-10 binary batches
 *   h5data.c     the user's samples in an HDF5 file (-data_format h5)
 *   subset.c     the binary relabelling (App. G) and the size caps
 *   images.c     the image splits: their files under -data_dir, shape, relabelling
 *                (binary) or every class (-data_classes all)
 *   synthetic.c  the synthetic generators and their options (-synth_*)
 *   batch.c      mini-batches: standardisation, augmentation
 *   dataset.c    the Dataset object: options, reading or generating, statistics */
#ifndef NNCAS_DATA_IMPL_H
#define NNCAS_DATA_IMPL_H

#include "datasetimpl.h"

#include <zlib.h>

#define NN_NUM_CLASSES 10 /* MNIST, Fashion-MNIST and CIFAR-10 labels are 0..9 */

/* Opens a data file for reading through zlib (gzip or raw alike). */
PetscErrorCode nn_gz_open(MPI_Comm comm, const char *path, gzFile *f);
/* Reads from f until cap bytes or the end of the file into a buffer that grows
 * as bytes arrive, so a size claimed by a header costs nothing until the bytes
 * exist; *got is the count read. On error nothing is left allocated. */
PetscErrorCode nn_gz_read_upto(MPI_Comm comm, gzFile f, const char *path, size_t cap, uint8_t **buf, size_t *got);
/* Fails naming path if a label is outside 0..NN_NUM_CLASSES-1. */
PetscErrorCode nn_check_labels(MPI_Comm comm, const char *path, size_t n, const uint8_t *labels);

/* Allocates split s for n samples of d real values (synthetic data). */
PetscErrorCode nn_samples_alloc_values(NnSamples *s, PetscInt n, PetscInt d);
/* Frees the arrays of s and zeroes it. */
PetscErrorCode nn_samples_free(NnSamples *s);

/* "training", "validation": split s's name in messages. */
extern const char *const nn_split_name[2];
PetscInt nn_samples_count_positives(const NnSamples *s);
/* CRC-32 (zlib) of the raw samples (d values each) and their labels. */
unsigned long nn_samples_fingerprint(const NnSamples *s, PetscInt d);
/* Raw value k of the flat (n, c, h, w) array of s. */
static inline double nn_sample_value(const NnSamples *s, size_t k)
{
  return s->pixels ? (double)s->pixels[k] : s->values[k];
}

/* Whether every label of s is -1 or +1. */
PetscBool nn_samples_plus_minus_one(const NnSamples *s);

/* -data_{train,val}_size: keeps cap samples of split (0 train, 1 validation),
 * drawn by the seed, in source order: cap/2 positives and cap/2 negatives when
 * the labels are +-1, else cap drawn alike from all. */
PetscErrorCode dataset_cap_split(Dataset ds, PetscInt split, PetscInt cap);

/* -data_format idx or cifar10: reads, checks and relabels the image split
 * (0 train, 1 validation) into s (-data_classes binary: +1/-1; all: every
 * sample, its class 0..9 as the label). The training split sets ds->(c, h, w); the
 * validation images must have that shape. */
PetscErrorCode dataset_load_image_split(Dataset ds, PetscInt split, NnSamples *s);

/* The synthetic generators' settings: defaults, options (between the data
 * set's PetscOptionsBegin and End; *nshape <- the count of -synth_shape
 * values, 3 when absent), and checks (mixture: even counts). */
void           synth_defaults(NnSynthSettings *st);
PetscErrorCode synth_options(PetscOptionItems *PetscOptionsObject, NnSynthSettings *st, PetscInt *nshape);
PetscErrorCode synth_check(MPI_Comm comm, PetscBool mixture, const NnSynthSettings *st);
/* Generators behind -data_format mixture / teacher: the training and validation splits. */
PetscErrorCode synth_mixture_generate(const NnSynthSettings *st, PetscInt seed, NnSamples *train, NnSamples *val);
PetscErrorCode synth_teacher_generate(MPI_Comm comm, const NnSynthSettings *st, PetscInt seed, NnSamples *train,
                                      NnSamples *val);

#endif
