/* The data set object: its options, reading the image splits (relabelled and
 * capped by subset.c) or generating synthetic ones (synthetic.c), and the
 * per-channel statistics. Mini-batches are assembled by batch.c.
 *
 * Every rank reads the same files and draws the same random numbers, so every
 * rank holds the same samples and any error is raised on all ranks alike. */
#include "data_impl.h"

#include <math.h>
#include <string.h>

const char *const NnDataFormats[] = {"idx", "cifar10", "mixture", "teacher", "NnDataFormat", "NN_DATA_", NULL};

static PetscBool format_is_image(NnDataFormat f)
{
  return f == NN_DATA_IDX || f == NN_DATA_CIFAR10 ? PETSC_TRUE : PETSC_FALSE;
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
  d->positive_class      = 0;
  d->normalize           = PETSC_TRUE;
  d->augment             = PETSC_FALSE;
  d->seed                = 1;
  synth_defaults(&d->synth);
  *ds                    = d;
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
                             "(Gaussian mixture) or teacher (labels of a random teacher network)",
                             "dataset_set_from_options", NnDataFormats, (PetscEnum)ds->format, (PetscEnum *)&ds->format,
                             NULL));
  image = format_is_image(ds->format);
  PetscCall(
      PetscOptionsString("-data_dir",
                         "directory of the data files: train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
                         "t10k-* (idx), or data_batch_1..5.bin, test_batch.bin, possibly under cifar-10-batches-bin/",
                         "dataset_set_from_options", ds->dir, ds->dir, sizeof ds->dir, NULL));
  PetscCall(PetscOptionsInt(
      "-data_positive_class",
      "class 0..9 labelled +1; as many samples of the other classes, drawn by the seed, are -1 (App. G)",
      "dataset_set_from_options", ds->positive_class, &ds->positive_class, NULL));
  ds->normalize = image;
  PetscCall(PetscOptionsBool("-data_normalize",
                             "standardise each channel by the mean and std of the training split (default: true for "
                             "images, false for synthetic data); without it pixels are divided by 255",
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
                                   "keep at most this many training samples, half of each class drawn by the seed, in "
                                   "source order (0: all; an odd value is rounded down)",
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
    PetscCheck(ds->positive_class >= 0 && ds->positive_class < NN_NUM_CLASSES, ds->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "-data_positive_class %" PetscInt_FMT " is out of range: the classes are 0..%d", ds->positive_class,
               NN_NUM_CLASSES - 1);
    PetscFunctionReturn(0);
  }
  PetscCheck(!ds->augment, ds->comm, PETSC_ERR_ARG_WRONG,
             "-data_augment applies to image data (-data_format idx or cifar10) only");
  PetscCall(synth_check(ds->comm, ds->format == NN_DATA_MIXTURE, &ds->synth));
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_destroy(Dataset *ds)
{
  PetscFunctionBeginUser;
  if (!ds || !*ds) PetscFunctionReturn(0);
  PetscCall(nn_samples_free(&(*ds)->train));
  PetscCall(nn_samples_free(&(*ds)->val));
  PetscCall(PetscFree(*ds));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------ reading images -- */

/* The raw content of one split's files. */
typedef struct {
  PetscInt n, c, h, w;
  uint8_t *pixels;                          /* (n, c, h, w) */
  uint8_t *labels;                          /* (n) classes 0..9 */
  char     source[PETSC_MAX_PATH_LEN + 64]; /* the label file(s), for messages */
} RawImages;

static PetscErrorCode raw_images_free(RawImages *raw)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(raw->pixels));
  PetscCall(PetscFree(raw->labels));
  PetscFunctionReturn(0);
}

/* path <- dir/base.gz (the Debian package's name) if readable, else dir/base if
 * readable, else dir/base.gz, whose opening then fails with the system's reason. */
static PetscErrorCode idx_file_path(const char *dir, const char *base, char *path, size_t len)
{
  PetscBool gz, plain = PETSC_FALSE;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, len, "%s/%s.gz", dir, base));
  PetscCall(PetscTestFile(path, 'r', &gz));
  if (gz) PetscFunctionReturn(0);
  PetscCall(PetscSNPrintf(path, len, "%s/%s", dir, base));
  PetscCall(PetscTestFile(path, 'r', &plain));
  if (!plain) PetscCall(PetscSNPrintf(path, len, "%s/%s.gz", dir, base));
  PetscFunctionReturn(0);
}

/* Reads the IDX image and label files of split (0: train-*, 1: t10k-*). */
static PetscErrorCode dataset_read_idx(Dataset ds, PetscInt split, RawImages *raw)
{
  static const char *const images[2] = {"train-images-idx3-ubyte", "t10k-images-idx3-ubyte"};
  static const char *const labels[2] = {"train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"};
  char                     ipath[PETSC_MAX_PATH_LEN + 32];
  PetscInt                 nlab;
  PetscFunctionBeginUser;
  PetscCall(idx_file_path(ds->dir, images[split], ipath, sizeof ipath));
  PetscCall(idx_file_path(ds->dir, labels[split], raw->source, sizeof raw->source));
  PetscCall(idx_read_images(ds->comm, ipath, &raw->n, &raw->h, &raw->w, &raw->pixels));
  raw->c = 1;
  PetscCall(idx_read_labels(ds->comm, raw->source, &nlab, &raw->labels));
  PetscCheck(nlab == raw->n, ds->comm, PETSC_ERR_FILE_UNEXPECTED,
             "data file %s: %" PetscInt_FMT " labels but %s has %" PetscInt_FMT " images", raw->source, nlab, ipath,
             raw->n);
  PetscCall(nn_check_labels(ds->comm, raw->source, (size_t)nlab, raw->labels));
  PetscFunctionReturn(0);
}

/* dir <- ds->dir, or ds->dir/cifar-10-batches-bin if the batches are there. */
static PetscErrorCode cifar_dir(Dataset ds, char *dir, size_t len)
{
  char      probe[PETSC_MAX_PATH_LEN + 64];
  PetscBool ok;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(dir, len, "%s", ds->dir));
  PetscCall(PetscSNPrintf(probe, sizeof probe, "%s/data_batch_1.bin", ds->dir));
  PetscCall(PetscTestFile(probe, 'r', &ok));
  if (ok) PetscFunctionReturn(0);
  PetscCall(PetscSNPrintf(probe, sizeof probe, "%s/cifar-10-batches-bin/data_batch_1.bin", ds->dir));
  PetscCall(PetscTestFile(probe, 'r', &ok));
  if (ok) PetscCall(PetscSNPrintf(dir, len, "%s/cifar-10-batches-bin", ds->dir));
  PetscFunctionReturn(0);
}

/* Reads the CIFAR-10 batches of split (0: data_batch_1..5.bin, 1: test_batch.bin). */
static PetscErrorCode dataset_read_cifar(Dataset ds, PetscInt split, RawImages *raw)
{
  char        dir[PETSC_MAX_PATH_LEN + 32], paths[5][PETSC_MAX_PATH_LEN + 64];
  const char *p[5];
  PetscInt    npaths = split ? 1 : 5;
  PetscFunctionBeginUser;
  PetscCall(cifar_dir(ds, dir, sizeof dir));
  for (PetscInt k = 0; k < npaths; k++) {
    if (split) PetscCall(PetscSNPrintf(paths[k], sizeof paths[k], "%s/test_batch.bin", dir));
    else PetscCall(PetscSNPrintf(paths[k], sizeof paths[k], "%s/data_batch_%" PetscInt_FMT ".bin", dir, k + 1));
    p[k] = paths[k];
  }
  if (split) PetscCall(PetscSNPrintf(raw->source, sizeof raw->source, "%s", paths[0]));
  else PetscCall(PetscSNPrintf(raw->source, sizeof raw->source, "%s/data_batch_{1..5}.bin", dir));
  PetscCall(cifar10_read(ds->comm, npaths, p, &raw->n, &raw->pixels, &raw->labels));
  raw->c = 3;
  raw->h = raw->w = 32;
  PetscFunctionReturn(0);
}

/* ds->(c, h, w) <- the training shape; the validation images must match it. */
static PetscErrorCode dataset_check_shape(Dataset ds, PetscInt split, const RawImages *raw)
{
  PetscFunctionBeginUser;
  if (split == 0) {
    ds->c = raw->c;
    ds->h = raw->h;
    ds->w = raw->w;
  }
  PetscCheck(raw->c == ds->c && raw->h == ds->h && raw->w == ds->w, ds->comm, PETSC_ERR_FILE_UNEXPECTED,
             "data file %s: images are %" PetscInt_FMT "x%" PetscInt_FMT " but the training images are %" PetscInt_FMT
             "x%" PetscInt_FMT,
             raw->source, raw->h, raw->w, ds->h, ds->w);
  PetscFunctionReturn(0);
}

/* s <- the samples of raw kept by the binary relabelling (App. G), +1/-1 labels. */
static PetscErrorCode dataset_keep_relabelled(Dataset ds, PetscInt split, const RawImages *raw, NnSamples *s)
{
  PetscInt npos = 0, nkept, *kept;
  double  *label;
  size_t   d = (size_t)raw->c * (size_t)raw->h * (size_t)raw->w;
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < raw->n; i++) npos += raw->labels[i] == ds->positive_class;
  PetscCheck(npos > 0, ds->comm, PETSC_ERR_FILE_UNEXPECTED,
             "data file %s: no sample of the positive class %" PetscInt_FMT " in the %s split", raw->source,
             ds->positive_class, nn_split_name[split]);
  PetscCheck(raw->n - npos >= npos, ds->comm, PETSC_ERR_FILE_UNEXPECTED,
             "data file %s: %" PetscInt_FMT " samples of the positive class %" PetscInt_FMT " but only %" PetscInt_FMT
             " of the others: cannot draw as many negatives",
             raw->source, npos, ds->positive_class, raw->n - npos);
  PetscCall(binary_relabel(raw->n, raw->labels, ds->positive_class,
                           nn_rng_key((uint64_t)ds->seed, NN_STREAM_SUBSET, nn_subset_relabel_substream((uint64_t)split)), &nkept, &kept,
                           &label));
  s->n            = nkept;
  s->source_index = kept;
  s->label        = label;
  PetscCall(PetscMalloc1((size_t)nkept * d, &s->pixels));
  for (PetscInt k = 0; k < nkept; k++) memcpy(s->pixels + (size_t)k * d, raw->pixels + (size_t)kept[k] * d, d);
  PetscFunctionReturn(0);
}

/* Reads, checks and relabels one image split into s. */
static PetscErrorCode dataset_load_image_split(Dataset ds, PetscInt split, NnSamples *s)
{
  RawImages      raw = {0};
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  if (ds->format == NN_DATA_IDX) ierr = dataset_read_idx(ds, split, &raw);
  else ierr = dataset_read_cifar(ds, split, &raw);
  if (!ierr) ierr = dataset_check_shape(ds, split, &raw);
  if (!ierr) ierr = dataset_keep_relabelled(ds, split, &raw, s);
  PetscCall(raw_images_free(&raw));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* Fills ds->train and ds->val from the files or the generator. */
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
  }
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------- statistics -- */

/* ds->mean/stdev <- per-channel mean and population standard deviation of the
 * training split's raw values (two passes, in double). */
static PetscErrorCode dataset_statistics(Dataset ds)
{
  const NnSamples *s  = &ds->train;
  size_t           hw = (size_t)ds->h * (size_t)ds->w, count = (size_t)s->n * hw;
  PetscFunctionBeginUser;
  for (PetscInt c = 0; c < 3; c++) {
    ds->mean[c]  = 0;
    ds->stdev[c] = 1;
  }
  if (!format_is_image(ds->format) && !ds->normalize)
    PetscFunctionReturn(0); /* synthetic values are used as they are */
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
    PetscCall(PetscSNPrintf(desc, len, "%s from %s, class %" PetscInt_FMT " (+1) vs the rest (-1)",
                            NnDataFormats[ds->format], ds->dir, ds->positive_class));
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

PetscErrorCode dataset_view(Dataset ds, PetscViewer v)
{
  char      desc[PETSC_MAX_PATH_LEN + 128], stats[256] = "";
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
  PetscCall(PetscViewerASCIIPrintf(v,
                                   "Data: %s, seed %" PetscInt_FMT ": train %" PetscInt_FMT " (%" PetscInt_FMT
                                   " positive), val %" PetscInt_FMT " (%" PetscInt_FMT
                                   " positive), shape %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT "\n",
                                   desc, ds->seed, ds->train.n, nn_samples_count_positives(&ds->train), ds->val.n,
                                   nn_samples_count_positives(&ds->val), ds->c, ds->h, ds->w));
  PetscCall(PetscViewerASCIIPrintf(v,
                                   "  training-split mean/std per channel (raw units): %s; normalize %s, augment %s\n",
                                   stats, ds->normalize ? "yes" : "no", ds->augment ? "yes" : "no"));
  PetscFunctionReturn(0);
}

