/* Helpers shared by the data readers and generators (private to src/data). */
#ifndef NNCAS_DATA_IMPL_H
#define NNCAS_DATA_IMPL_H

#include "nncas/dataset.h"

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

/* Generators behind -data_format mixture / teacher: fill ds->train and ds->val. */
PetscErrorCode synth_mixture_generate(Dataset ds);
PetscErrorCode synth_teacher_generate(Dataset ds);

#endif
