/* Private to src/data (and white-box tests): the struct behind the opaque
 * Dataset of include/nncas/dataset.h. */
#ifndef NNCAS_DATASETIMPL_H
#define NNCAS_DATASETIMPL_H

#include "nncas/dataset.h"

struct _p_Dataset {
  MPI_Comm     comm;
  NnDataFormat format;
  char         dir[PETSC_MAX_PATH_LEN]; /* -data_dir */
  char         file[PETSC_MAX_PATH_LEN]; /* -data_file (h5) */
  NnDataClasses classes;                /* -data_classes (idx, cifar10) */
  PetscInt     positive_class;          /* -data_positive_class */
  PetscBool    normalize;               /* -data_normalize */
  PetscBool    augment;                 /* -data_augment (CIFAR default on) */
  PetscInt     seed;                    /* -data_seed */
  PetscInt     max_train, max_val;      /* -data_train_size, -data_val_size (0: all) */
  NnSynthSettings synth;                /* -synth_*: the synthetic generators */

  PetscInt   c, h, w;      /* per-sample shape */
  PetscReal *mean, *stdev; /* (c) per-channel statistics of the training split, raw units */
  NnSamples train, val;
};

#endif
