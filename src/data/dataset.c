/* The data set object: its options, reading the image splits (images.c) or
 * the user's HDF5 file (h5data.c) or generating synthetic splits
 * (synthetic.c), capping them (subset.c), and the per-channel statistics.
 * Mini-batches are assembled by batch.c.
 *
 * Every rank reads the same files and draws the same random numbers, so every
 * rank holds the same samples and any error is raised on all ranks alike. */
#include "data_impl.h"

#include <math.h>

const char *const NnDataFormats[] = {"idx", "cifar10", "mixture", "teacher", "h5", "NnDataFormat", "NN_DATA_", NULL};
const char *const NnDataClassesNames[] = {"binary", "all", "NnDataClasses", "NN_CLASSES_", NULL};

static PetscBool format_is_image(NnDataFormat f)
{
  return f == NN_DATA_IDX || f == NN_DATA_CIFAR10 ? PETSC_TRUE : PETSC_FALSE;
}

/* Whether the image splits are relabelled +1/-1 (App. G). */
static PetscBool dataset_is_binary_images(Dataset ds)
{
  return format_is_image(ds->format) && ds->classes == NN_CLASSES_BINARY ? PETSC_TRUE : PETSC_FALSE;
}

/* ------------------------------------------------------------ life cycle -- */

static PetscLogEvent ev_read;

PetscErrorCode dataset_initialize_package(void)
{
  static PetscBool done;
  PetscClassId     cls;
  PetscFunctionBeginUser;
  if (done) PetscFunctionReturn(0);
  done = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("NnDataset", &cls));
  PetscCall(PetscLogEventRegister("NnIODataRead", cls, &ev_read));
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_create(MPI_Comm comm, Dataset *ds)
{
  Dataset d;
  PetscFunctionBeginUser;
  PetscCall(dataset_initialize_package());
  PetscCall(PetscCalloc1(1, &d));
  d->comm   = comm;
  d->format = NN_DATA_IDX;
  PetscCall(PetscStrncpy(d->dir, "/usr/share/datasets/fashion-mnist", sizeof d->dir));
  d->classes             = NN_CLASSES_BINARY;
  d->positive_class      = 0;
  d->normalize           = PETSC_TRUE;
  d->augment             = PETSC_FALSE;
  d->seed                = 1;
  synth_defaults(&d->synth);
  *ds                    = d;
  PetscFunctionReturn(0);
}

/* The options of the data's source: -data_dir, -data_file, -data_classes,
 * -data_positive_class (between dataset_set_from_options's Begin and End). */
static PetscErrorCode dataset_source_options(PetscOptionItems *PetscOptionsObject, Dataset ds)
{
  PetscFunctionBeginUser;
  PetscCall(
      PetscOptionsString("-data_dir",
                         "directory of the data files: train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
                         "t10k-* (idx), or data_batch_1..5.bin, test_batch.bin, possibly under cifar-10-batches-bin/",
                         "dataset_set_from_options", ds->dir, ds->dir, sizeof ds->dir, NULL));
  PetscCall(PetscOptionsString("-data_file",
                               "HDF5 file of -data_format h5: groups /train and (optional) /val, each with x (samples "
                               "x features, or samples x C x H x W; float32 or float64) and y (integer labels)",
                               "dataset_set_from_options", ds->file, ds->file, sizeof ds->file, NULL));
  PetscCall(PetscOptionsEnum("-data_classes",
                             "classes of the image readers: binary (class -data_positive_class +1 against as many "
                             "others -1, App. G) or all (every sample, its class 0..9 as the label)",
                             "dataset_set_from_options", NnDataClassesNames, (PetscEnum)ds->classes,
                             (PetscEnum *)&ds->classes, NULL));
  PetscCall(PetscOptionsInt(
      "-data_positive_class",
      "class 0..9 labelled +1; as many samples of the other classes, drawn by the seed, are -1 (App. G)",
      "dataset_set_from_options", ds->positive_class, &ds->positive_class, NULL));
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_set_from_options(Dataset ds)
{
  PetscBool image;
  PetscInt  nshape = 3;
  PetscFunctionBeginUser;
  PetscOptionsBegin(ds->comm, NULL, "Data set options", NULL);
  PetscCall(PetscOptionsEnum("-data_format",
                             "data set: idx (MNIST/Fashion-MNIST files), cifar10 (CIFAR-10 binary batches), mixture "
                             "(Gaussian mixture), teacher (labels of a random teacher network) or h5 (-data_file)",
                             "dataset_set_from_options", NnDataFormats, (PetscEnum)ds->format, (PetscEnum *)&ds->format,
                             NULL));
  image = format_is_image(ds->format);
  PetscCall(dataset_source_options(PetscOptionsObject, ds));
  ds->normalize = image;
  PetscCall(PetscOptionsBool("-data_normalize",
                             "standardise each channel by the mean and std of the training split (default: true for "
                             "images, false for synthetic and h5 data); without it pixels are divided by 255",
                             "dataset_set_from_options", ds->normalize, &ds->normalize, NULL));
  ds->augment = ds->format == NN_DATA_CIFAR10 ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(
      PetscOptionsBool("-data_augment",
                       "augment training images: random 32x32 crop of the image zero-padded by 4, horizontal flip "
                       "with probability 1/2 (default: true for cifar10)",
                       "dataset_set_from_options", ds->augment, &ds->augment, NULL));
  PetscCall(PetscOptionsInt("-data_seed", "seed of the relabelling draw, the size caps and the synthetic data",
                            "dataset_set_from_options", ds->seed, &ds->seed, NULL));
  PetscCall(PetscOptionsBoundedInt("-data_train_size",
                                   "keep at most this many training samples, in source order, drawn by the seed: half "
                                   "of each class for labels +-1 (an odd value is rounded down), else from all (0: all)",
                                   "dataset_set_from_options", ds->max_train, &ds->max_train, NULL, 0));
  PetscCall(PetscOptionsBoundedInt("-data_val_size", "the same cap for the validation samples (0: all)",
                                   "dataset_set_from_options", ds->max_val, &ds->max_val, NULL, 0));
  PetscCall(synth_options(PetscOptionsObject, &ds->synth, &nshape));
  PetscOptionsEnd();
  PetscCheck(nshape == 3, ds->comm, PETSC_ERR_ARG_WRONG, "-synth_shape takes three integers c,h,w, got %" PetscInt_FMT,
             nshape);
  PetscFunctionReturn(0);
}

/* Rejects settings that cannot describe a data set, before anything is read. */
static PetscErrorCode dataset_check_settings(Dataset ds)
{
  PetscFunctionBeginUser;
  if (format_is_image(ds->format)) {
    PetscCheck(ds->classes == NN_CLASSES_ALL || (ds->positive_class >= 0 && ds->positive_class < NN_NUM_CLASSES),
               ds->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "-data_positive_class %" PetscInt_FMT " is out of range: the classes are 0..%d", ds->positive_class,
               NN_NUM_CLASSES - 1);
    PetscFunctionReturn(0);
  }
  PetscCheck(ds->classes == NN_CLASSES_BINARY, ds->comm, PETSC_ERR_ARG_WRONG,
             "-data_classes applies to the image readers (-data_format idx or cifar10) only");
  PetscCheck(!ds->augment, ds->comm, PETSC_ERR_ARG_WRONG,
             "-data_augment applies to image data (-data_format idx or cifar10) only");
  if (ds->format == NN_DATA_H5) {
    PetscCheck(ds->file[0], ds->comm, PETSC_ERR_ARG_WRONG, "-data_format h5 reads the file given by -data_file FILE");
    PetscFunctionReturn(0);
  }
  PetscCall(synth_check(ds->comm, ds->format == NN_DATA_MIXTURE, &ds->synth));
  PetscFunctionReturn(0);
}

static PetscErrorCode dataset_free_statistics(Dataset ds)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(ds->mean));
  PetscCall(PetscFree(ds->stdev));
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_destroy(Dataset *ds)
{
  PetscFunctionBeginUser;
  if (!ds || !*ds) PetscFunctionReturn(0);
  PetscCall(nn_samples_free(&(*ds)->train));
  PetscCall(nn_samples_free(&(*ds)->val));
  PetscCall(dataset_free_statistics(*ds));
  PetscCall(PetscFree(*ds));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------- loading -- */

/* Fills ds->train and ds->val from the files (images.c, h5data.c) or the generator (synthetic.c). */
static PetscErrorCode dataset_load(Dataset ds)
{
  PetscFunctionBeginUser;
  switch (ds->format) {
  case NN_DATA_IDX:
  case NN_DATA_CIFAR10:
    PetscCall(dataset_load_image_split(ds, 0, &ds->train));
    PetscCall(dataset_load_image_split(ds, 1, &ds->val));
    break;
  case NN_DATA_MIXTURE:
  case NN_DATA_TEACHER:
    ds->c = ds->synth.c, ds->h = ds->synth.h, ds->w = ds->synth.w;
    if (ds->format == NN_DATA_MIXTURE) PetscCall(synth_mixture_generate(&ds->synth, ds->seed, &ds->train, &ds->val));
    else PetscCall(synth_teacher_generate(ds->comm, &ds->synth, ds->seed, &ds->train, &ds->val));
    break;
  case NN_DATA_H5:
    PetscCall(h5data_read(ds->comm, ds->file, &ds->c, &ds->h, &ds->w, &ds->train, &ds->val));
    break;
  }
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------- statistics -- */

/* ds->mean/stdev (c values each) <- per-channel mean and population standard
 * deviation of the training split's raw values (two passes, in double); 0 and
 * 1 for real values used as they are. */
static PetscErrorCode dataset_statistics(Dataset ds)
{
  const NnSamples *s  = &ds->train;
  size_t           hw = (size_t)ds->h * (size_t)ds->w, count = (size_t)s->n * hw;
  PetscFunctionBeginUser;
  PetscCall(dataset_free_statistics(ds));
  PetscCall(PetscMalloc1(ds->c, &ds->mean));
  PetscCall(PetscMalloc1(ds->c, &ds->stdev));
  for (PetscInt c = 0; c < ds->c; c++) {
    ds->mean[c]  = 0;
    ds->stdev[c] = 1;
  }
  if (!format_is_image(ds->format) && !ds->normalize)
    PetscFunctionReturn(0); /* synthetic and h5 values are used as they are */
  for (PetscInt c = 0; c < ds->c; c++) {
    double sum = 0, sq = 0, mean;
    for (PetscInt i = 0; i < s->n; i++)
      for (size_t k = ((size_t)i * ds->c + c) * hw, e = k + hw; k < e; k++) sum += nn_sample_value(s, k);
    mean = sum / (double)count;
    for (PetscInt i = 0; i < s->n; i++)
      for (size_t k = ((size_t)i * ds->c + c) * hw, e = k + hw; k < e; k++)
        sq += (nn_sample_value(s, k) - mean) * (nn_sample_value(s, k) - mean);
    ds->mean[c]  = mean;
    ds->stdev[c] = sqrt(sq / (double)count);
    PetscCheck(!ds->normalize || ds->stdev[c] > 0, ds->comm, PETSC_ERR_ARG_WRONG,
               "channel %" PetscInt_FMT
               " of the training split is constant (%g): cannot standardise; use -data_normalize false",
               c, mean);
  }
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------- setup -- */

PetscErrorCode dataset_setup(Dataset ds)
{
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(dataset_check_settings(ds));
  PetscCall(nn_samples_free(&ds->train));
  PetscCall(nn_samples_free(&ds->val));
  PetscCall(PetscLogEventBegin(ev_read, 0, 0, 0, 0));
  ierr = dataset_load(ds);
  PetscCall(PetscLogEventEnd(ev_read, 0, 0, 0, 0));
  PetscCall(ierr);
  PetscCall(dataset_cap_split(ds, 0, ds->max_train));
  PetscCall(dataset_cap_split(ds, 1, ds->max_val));
  PetscCall(dataset_statistics(ds));
  PetscFunctionReturn(0);
}

/* ----------------------------------------------------------------- view -- */

/* desc <- what the data are: the directory, or the generator and its parameters. */
static PetscErrorCode dataset_describe(Dataset ds, char *desc, size_t len)
{
  PetscFunctionBeginUser;
  switch (ds->format) {
  case NN_DATA_IDX:
  case NN_DATA_CIFAR10:
    if (ds->classes == NN_CLASSES_ALL)
      PetscCall(PetscSNPrintf(desc, len, "%s from %s, all classes 0..%d", NnDataFormats[ds->format], ds->dir,
                              NN_NUM_CLASSES - 1));
    else
      PetscCall(PetscSNPrintf(desc, len, "%s from %s, class %" PetscInt_FMT " (+1) vs the rest (-1)",
                              NnDataFormats[ds->format], ds->dir, ds->positive_class));
    break;
  case NN_DATA_H5:
    PetscCall(PetscSNPrintf(desc, len, "HDF5 file %s (/train%s)", ds->file, ds->val.n ? ", /val" : ", no /val"));
    break;
  case NN_DATA_MIXTURE:
    PetscCall(PetscSNPrintf(desc, len, "Gaussian mixture, separation %.6g, noise %.6g", (double)ds->synth.separation,
                            (double)ds->synth.noise));
    break;
  case NN_DATA_TEACHER:
    PetscCall(PetscSNPrintf(desc, len, "teacher network, %" PetscInt_FMT " relu units", ds->synth.teacher_width));
    break;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_get_comm(Dataset ds, MPI_Comm *comm)
{
  PetscFunctionBeginUser;
  *comm = ds->comm;
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_get_shape(Dataset ds, PetscInt *c, PetscInt *h, PetscInt *w)
{
  PetscFunctionBeginUser;
  if (c) *c = ds->c;
  if (h) *h = ds->h;
  if (w) *w = ds->w;
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_get_split(Dataset ds, NnSplit which, const NnSamples **split)
{
  PetscFunctionBeginUser;
  *split = which == NN_SPLIT_TRAIN ? &ds->train : &ds->val;
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_get_format(Dataset ds, NnDataFormat *format, const char **dir)
{
  PetscFunctionBeginUser;
  if (format) *format = ds->format;
  if (dir) *dir = ds->format == NN_DATA_H5 ? ds->file : ds->dir;
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_get_augment(Dataset ds, PetscBool *augment)
{
  PetscFunctionBeginUser;
  *augment = ds->augment;
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_get_channel_stats(Dataset ds, const PetscReal **mean, const PetscReal **stdev)
{
  PetscFunctionBeginUser;
  if (mean) *mean = ds->mean;
  if (stdev) *stdev = ds->stdev;
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_get_label_range(Dataset ds, NnSplit which, double *min, double *max, PetscBool *plus_minus_one)
{
  const NnSamples *s  = which == NN_SPLIT_TRAIN ? &ds->train : &ds->val;
  double           lo = s->n ? s->label[0] : 0, hi = lo;
  PetscFunctionBeginUser;
  for (PetscInt i = 1; i < s->n; i++) {
    lo = PetscMin(lo, s->label[i]);
    hi = PetscMax(hi, s->label[i]);
  }
  if (min) *min = lo;
  if (max) *max = hi;
  if (plus_minus_one) *plus_minus_one = nn_samples_plus_minus_one(s);
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_get_settings(Dataset ds, NnSettings *s)
{
  const PetscInt d = ds->c * ds->h * ds->w;
  PetscFunctionBeginUser;
  PetscCall(nn_settings_add(s, "-data_format", "%s", NnDataFormats[ds->format]));
  if (format_is_image(ds->format)) PetscCall(nn_settings_add(s, "-data_classes", "%s", NnDataClassesNames[ds->classes]));
  if (dataset_is_binary_images(ds)) PetscCall(nn_settings_add(s, "-data_positive_class", "%d", (int)ds->positive_class));
  if (ds->format == NN_DATA_H5) PetscCall(nn_settings_add(s, "-data_file", "%s", ds->file));
  PetscCall(nn_settings_add(s, "-data_normalize", "%s", ds->normalize ? "true" : "false"));
  PetscCall(nn_settings_add(s, "-data_augment", "%s", ds->augment ? "true" : "false"));
  PetscCall(nn_settings_add(s, "-data_seed", "%d", (int)ds->seed));
  PetscCall(nn_settings_add(s, "training data", "%d samples, CRC-32 %08lx", (int)ds->train.n, nn_samples_fingerprint(&ds->train, d)));
  PetscCall(nn_settings_add(s, "validation data", "%d samples, CRC-32 %08lx", (int)ds->val.n, nn_samples_fingerprint(&ds->val, d)));
  PetscFunctionReturn(0);
}

/* buf <- a split's size and labels: "120 (60 positive)" or "120, labels 0..9". */
static PetscErrorCode dataset_split_summary(Dataset ds, NnSplit which, char *buf, size_t len)
{
  const NnSamples *s = which == NN_SPLIT_TRAIN ? &ds->train : &ds->val;
  double           lo, hi;
  PetscBool        pm;
  PetscFunctionBeginUser;
  PetscCall(dataset_get_label_range(ds, which, &lo, &hi, &pm));
  if (pm) PetscCall(PetscSNPrintf(buf, len, "%" PetscInt_FMT " (%" PetscInt_FMT " positive)", s->n, nn_samples_count_positives(s)));
  else PetscCall(PetscSNPrintf(buf, len, "%" PetscInt_FMT " (labels %.17g..%.17g)", s->n, lo, hi));
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_view(Dataset ds, PetscViewer v)
{
  char      desc[PETSC_MAX_PATH_LEN + 128], stats[256] = "", train[96], val[96];
  PetscBool ascii;
  size_t    len = 0;
  PetscFunctionBeginUser;
  if (!v) v = PETSC_VIEWER_STDOUT_(ds->comm);
  PetscCall(PetscObjectTypeCompare((PetscObject)v, PETSCVIEWERASCII, &ascii));
  if (!ascii) PetscFunctionReturn(0);
  PetscCall(dataset_describe(ds, desc, sizeof desc));
  for (PetscInt c = 0; c < ds->c && c < 3; c++) {
    PetscCall(PetscSNPrintf(stats + len, sizeof stats - len, "%s%.4f/%.4f", c ? ", " : "", ds->mean[c], ds->stdev[c]));
    PetscCall(PetscStrlen(stats, &len));
  }
  if (ds->c > 3) PetscCall(PetscSNPrintf(stats + len, sizeof stats - len, ", ... (%" PetscInt_FMT " channels)", ds->c));
  PetscCall(dataset_split_summary(ds, NN_SPLIT_TRAIN, train, sizeof train));
  PetscCall(dataset_split_summary(ds, NN_SPLIT_VAL, val, sizeof val));
  PetscCall(PetscViewerASCIIPrintf(v,
                                   "Data: %s, seed %" PetscInt_FMT ": train %s, val %s, shape %" PetscInt_FMT
                                   "x%" PetscInt_FMT "x%" PetscInt_FMT "\n",
                                   desc, ds->seed, train, val, ds->c, ds->h, ds->w));
  PetscCall(PetscViewerASCIIPrintf(v,
                                   "  training-split mean/std per channel (raw units): %s; normalize %s, augment %s\n",
                                   stats, ds->normalize ? "yes" : "no", ds->augment ? "yes" : "no"));
  PetscFunctionReturn(0);
}
