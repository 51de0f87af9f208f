/* Data sets: IDX (MNIST, Fashion-MNIST) and CIFAR-10 binary readers, the binary
 * relabelling of App. G (or every class with -data_classes all), the user's
 * samples in an HDF5 file (-data_format h5), per-channel standardisation,
 * CIFAR augmentation, and synthetic generators (Gaussian mixture, teacher
 * network).
 *
 * Every rank holds the (small) sample set in its raw form and
 * assembles only its own slice of each mini-batch (dataset_fill_batch), so the
 * work on samples is partitioned across ranks while any sample order can be
 * served without communication. */
#ifndef NNCAS_DATASET_H
#define NNCAS_DATASET_H

#include "nncas/core.h"

/* One split (training or validation) after relabelling. */
typedef struct {
  PetscInt  n;            /* number of samples */
  uint8_t  *pixels;       /* (n, c, h, w) raw 0..255 pixels, or NULL */
  double   *values;       /* (n, c, h, w) real values (synthetic or h5 data), or NULL */
  double   *label;        /* (n) labels, integers: +1 or -1 (binary) or 0..K-1 (classes) */
  PetscInt *source_index; /* (n) index of each sample in its source file/generator */
} NnSamples;

typedef enum { NN_DATA_IDX, NN_DATA_CIFAR10, NN_DATA_MIXTURE, NN_DATA_TEACHER, NN_DATA_H5 } NnDataFormat;
extern const char *const NnDataFormats[]; /* names for PetscOptionsEnum */

/* -data_classes of the image readers: binary (class -data_positive_class +1
 * against an equal draw of the others -1, App. G) or all (every sample, its
 * class 0..9 as the label). */
typedef enum { NN_CLASSES_BINARY, NN_CLASSES_ALL } NnDataClasses;
extern const char *const NnDataClassesNames[]; /* names for PetscOptionsEnum */

/* The synthetic generators' settings (-synth_*). */
typedef struct {
  PetscInt  n_train, n_val;   /* -synth_train, -synth_val */
  PetscInt  c, h, w;          /* -synth_shape */
  PetscInt  teacher_width;    /* -synth_teacher_width */
  PetscReal separation, noise; /* -synth_separation, -synth_noise (mixture) */
} NnSynthSettings;

typedef struct _p_Dataset *Dataset;

/* The two splits of a data set. */
typedef enum { NN_SPLIT_TRAIN, NN_SPLIT_VAL } NnSplit;

/* The -log_view event NnIODataRead (dataset_create calls it). */
PetscErrorCode dataset_initialize_package(void);
PetscErrorCode dataset_create(MPI_Comm comm, Dataset *ds);
PetscErrorCode dataset_set_from_options(Dataset ds);
/* Reads the files (every rank reads; errors are collective), relabels, computes
 * the statistics. */
PetscErrorCode dataset_setup(Dataset ds);
PetscErrorCode dataset_view(Dataset ds, PetscViewer v);
PetscErrorCode dataset_destroy(Dataset *ds);

/* After dataset_setup: the communicator; the per-sample shape (c, h, w); a
 * split's samples (owned by ds); the format and its source (-data_dir, or
 * -data_file for h5); whether training batches are augmented; the per-channel
 * mean and standard deviation of the training split in raw units (c values
 * each; 0 and 1 when the values are used as they are). */
PetscErrorCode dataset_get_comm(Dataset ds, MPI_Comm *comm);
PetscErrorCode dataset_get_shape(Dataset ds, PetscInt *c, PetscInt *h, PetscInt *w);
PetscErrorCode dataset_get_split(Dataset ds, NnSplit which, const NnSamples **split);
PetscErrorCode dataset_get_format(Dataset ds, NnDataFormat *format, const char **dir);
PetscErrorCode dataset_get_augment(Dataset ds, PetscBool *augment);
PetscErrorCode dataset_get_channel_stats(Dataset ds, const PetscReal **mean, const PetscReal **stdev);
/* After dataset_setup: the smallest and largest label of a split (every label
 * is an integer; min = max = 0 for an empty split), and whether every label is
 * -1 or +1. Whoever knows the network's output width K checks with it: a
 * binary loss needs *plus_minus_one, a K-class loss 0 <= *min and *max <= K-1.
 * Any output may be NULL. */
PetscErrorCode dataset_get_label_range(Dataset ds, NnSplit which, double *min, double *max, PetscBool *plus_minus_one);
/* Appends what identifies the data of a run: format, classes (image readers:
 * -data_classes, and -data_positive_class when binary), the file (h5),
 * normalisation, augmentation, seed, and a CRC-32 of each split's raw samples
 * and labels (which covers the files under -data_dir, the -data_file and the
 * -synth_* settings). */
PetscErrorCode dataset_get_settings(Dataset ds, NnSettings *s);

/* x <- the preprocessed samples split->{idx[0..nb-1]} as (nb, c, h, w) doubles,
 * y <- their labels. With augment, each sample is zero-padded by 4 pixels,
 * cropped at a random offset and flipped with probability 1/2, the draws keyed
 * by (key, idx[i]) so they do not depend on who assembles the batch.
 * Precisely, with u_j = nn_rng_uniform(key, j) and i = idx[b]: the crop starts at
 * column ox = floor(9 u_{3i}) and row oy = floor(9 u_{3i+1}) of the padded image,
 * and the crop is flipped left-right if u_{3i+2} < 1/2. */
PetscErrorCode dataset_fill_batch(Dataset ds, const NnSamples *split, PetscInt nb, const PetscInt *idx,
                                  PetscBool augment, NnRngKey key, double *x, double *y);

/* ---- readers (used by dataset_setup; exposed for tests and fuzzing) ---- */
/* IDX image file (magic 0x00000803), gzip or raw. */
PetscErrorCode idx_read_images(MPI_Comm comm, const char *path, PetscInt *n, PetscInt *h, PetscInt *w,
                               uint8_t **pixels);
/* IDX label file (magic 0x00000801), gzip or raw. */
PetscErrorCode idx_read_labels(MPI_Comm comm, const char *path, PetscInt *n, uint8_t **labels);
/* CIFAR-10 binary batches: records of 1 label byte + 3072 pixel bytes (3x32x32). */
PetscErrorCode cifar10_read(MPI_Comm comm, PetscInt npaths, const char *const *paths, PetscInt *n, uint8_t **pixels,
                            uint8_t **labels);

/* Binary relabelling (App. G): keep every sample of class `positive` (+1) and an
 * equal number drawn without replacement from the other classes (-1), chosen by
 * the stream `key`; the kept samples are returned in source order. */
PetscErrorCode binary_relabel(PetscInt n, const uint8_t *labels, PetscInt positive, NnRngKey key, PetscInt *nkept,
                              PetscInt **kept, double **label);

/* The HDF5 file of -data_format h5 (every rank reads it; the errors are the
 * same on every rank): the training split from /train/x and /train/y, the
 * validation split from /val if the group exists (else an empty split).
 * *c, *h, *w <- the per-sample shape ((F, 1, 1) for x of shape (n, F)).
 * Values are used as given; labels must be integers (their range is checked
 * by the caller). On error nothing is left allocated. */
PetscErrorCode h5data_read(MPI_Comm comm, const char *path, PetscInt *c, PetscInt *h, PetscInt *w, NnSamples *train,
                           NnSamples *val);

/* ---- synthetic generators (used by dataset_setup; exposed for tests) ---- */
/* The mixture's unit direction u (d values): class means are +-(separation/2) u. */
PetscErrorCode synth_mixture_direction(PetscInt seed, PetscInt d, double *u);
/* The teacher of -data_format teacher: W (width, d) with entries N(0, 1/d) and
 * a (width) with entries N(0, 1/width); a sample's label is sign(a . relu(W x)),
 * +1 on a tie. */
PetscErrorCode synth_teacher_weights(PetscInt seed, PetscInt d, PetscInt width, double *W, double *a);

#endif
