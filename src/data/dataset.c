/* The data set object: options, reading and relabelling the image splits, the
 * size caps, per-channel statistics, and the assembly of mini-batches
 * (standardisation and CIFAR-style augmentation).
 *
 * Every rank reads the same files and draws the same random numbers, so every
 * rank holds the same samples and any error is raised on all ranks alike. */
#include "data_impl.h"

#include <math.h>
#include <string.h>

const char *const NnDataFormats[] = {"idx", "cifar10", "mixture", "teacher", "NnDataFormat", "NN_DATA_", NULL};

#define NN_AUG_PAD 4 /* zero padding of the random crop, as RandomCrop(32, padding=4) */

/* Substreams of NN_STREAM_SUBSET: the relabelling draw of split s (0 train,
 * 1 validation) is substream s; the size cap of split s draws its positives
 * from 2 + 2 s and its negatives from 3 + 2 s. */
#define SUBSET_RELABEL(s) ((uint64_t)(s))
#define SUBSET_CAP(s, label) ((uint64_t)(2 + 2 * (s) + ((label) > 0 ? 0 : 1)))

static const char *const split_name[2] = {"training", "validation"};

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
  d->synth_n_train       = 1000;
  d->synth_n_val         = 1000;
  d->synth_c             = 1;
  d->synth_h             = 28;
  d->synth_w             = 28;
  d->synth_teacher_width = 32;
  d->synth_separation    = 2.0;
  d->synth_noise         = 1.0;
  *ds                    = d;
  PetscFunctionReturn(0);
}

/* Options of the synthetic generators (between PetscOptionsBegin and End). */
static PetscErrorCode dataset_options_synthetic(PetscOptionItems *PetscOptionsObject, Dataset ds, PetscInt *nshape)
{
  PetscInt  shape[3] = {ds->synth_c, ds->synth_h, ds->synth_w};
  PetscBool set;
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsBoundedInt("-synth_train", "number of synthetic training samples", "dataset_set_from_options",
                                   ds->synth_n_train, &ds->synth_n_train, NULL, 0));
  PetscCall(PetscOptionsBoundedInt("-synth_val", "number of synthetic validation samples", "dataset_set_from_options",
                                   ds->synth_n_val, &ds->synth_n_val, NULL, 0));
  *nshape = 3;
  PetscCall(PetscOptionsIntArray("-synth_shape", "shape c,h,w of a synthetic sample (c <= 3)",
                                 "dataset_set_from_options", shape, nshape, &set));
  if (!set) *nshape = 3; /* PetscOptionsIntArray zeroes the count of an absent option */
  if (set && *nshape == 3) {
    ds->synth_c = shape[0];
    ds->synth_h = shape[1];
    ds->synth_w = shape[2];
  }
  PetscCall(
      PetscOptionsReal("-synth_separation",
                       "mixture: distance between the class means, which are +-(separation/2) u for a random unit u",
                       "dataset_set_from_options", ds->synth_separation, &ds->synth_separation, NULL));
  PetscCall(PetscOptionsReal("-synth_noise", "mixture: standard deviation of the isotropic Gaussian noise",
                             "dataset_set_from_options", ds->synth_noise, &ds->synth_noise, NULL));
  PetscCall(PetscOptionsBoundedInt(
      "-synth_teacher_width", "teacher: hidden units of the teacher network, label = sign(a . relu(W x))",
      "dataset_set_from_options", ds->synth_teacher_width, &ds->synth_teacher_width, NULL, 1));
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
  PetscCall(dataset_options_synthetic(PetscOptionsObject, ds, &nshape));
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
  PetscCheck(
      ds->synth_c >= 1 && ds->synth_c <= 3 && ds->synth_h >= 1 && ds->synth_w >= 1, ds->comm, PETSC_ERR_ARG_OUTOFRANGE,
      "-synth_shape %" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT ": need 1 <= c <= 3 channels and h, w >= 1",
      ds->synth_c, ds->synth_h, ds->synth_w);
  PetscCheck(ds->synth_n_train >= 2 && ds->synth_n_val >= 2, ds->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-synth_train %" PetscInt_FMT " and -synth_val %" PetscInt_FMT " must be at least 2", ds->synth_n_train,
             ds->synth_n_val);
  PetscCheck(ds->format != NN_DATA_MIXTURE || (ds->synth_n_train % 2 == 0 && ds->synth_n_val % 2 == 0), ds->comm,
             PETSC_ERR_ARG_WRONG,
             "-synth_train %" PetscInt_FMT " and -synth_val %" PetscInt_FMT
             " must be even: the mixture has equal class counts",
             ds->synth_n_train, ds->synth_n_val);
  PetscCheck(ds->synth_noise >= 0, ds->comm, PETSC_ERR_ARG_OUTOFRANGE, "-synth_noise %g must be >= 0",
             (double)ds->synth_noise);
  PetscCheck(ds->synth_teacher_width >= 1, ds->comm, PETSC_ERR_ARG_OUTOFRANGE, "-synth_teacher_width must be >= 1");
  PetscFunctionReturn(0);
}

PetscErrorCode nn_samples_free(NnSamples *s)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(s->pixels));
  PetscCall(PetscFree(s->values));
  PetscCall(PetscFree(s->label));
  PetscCall(PetscFree(s->source_index));
  s->n = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode nn_samples_alloc_values(NnSamples *s, PetscInt n, PetscInt d)
{
  PetscFunctionBeginUser;
  PetscCall(nn_samples_free(s));
  PetscCall(PetscMalloc1((size_t)n * (size_t)d, &s->values));
  PetscCall(PetscMalloc1(n, &s->label));
  PetscCall(PetscMalloc1(n, &s->source_index));
  for (PetscInt i = 0; i < n; i++) s->source_index[i] = i;
  s->n = n;
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
             ds->positive_class, split_name[split]);
  PetscCheck(raw->n - npos >= npos, ds->comm, PETSC_ERR_FILE_UNEXPECTED,
             "data file %s: %" PetscInt_FMT " samples of the positive class %" PetscInt_FMT " but only %" PetscInt_FMT
             " of the others: cannot draw as many negatives",
             raw->source, npos, ds->positive_class, raw->n - npos);
  PetscCall(binary_relabel(raw->n, raw->labels, ds->positive_class,
                           nn_rng_key((uint64_t)ds->seed, NN_STREAM_SUBSET, SUBSET_RELABEL(split)), &nkept, &kept,
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
    PetscCall(synth_mixture_generate(ds));
    break;
  case NN_DATA_TEACHER:
    PetscCall(synth_teacher_generate(ds));
    break;
  }
  PetscFunctionReturn(0);
}

/* ------------------------------------------------ relabelling and caps -- */

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

static PetscInt count_positives(const NnSamples *s)
{
  PetscInt npos = 0;
  for (PetscInt i = 0; i < s->n; i++) npos += s->label[i] > 0;
  return npos;
}

/* -data_{train,val}_size: keeps cap/2 positives and cap/2 negatives of split,
 * drawn by the seed, in source order. */
static PetscErrorCode dataset_cap_split(Dataset ds, PetscInt split, PetscInt cap)
{
  NnSamples *s    = split ? &ds->val : &ds->train;
  PetscInt   half = cap / 2, npos = count_positives(s);
  PetscBool *keep;
  uint64_t   seed = (uint64_t)ds->seed;
  PetscFunctionBeginUser;
  if (!cap || cap >= s->n) PetscFunctionReturn(0);
  PetscCheck(half > 0, ds->comm, PETSC_ERR_ARG_OUTOFRANGE, "-data_%s_size %" PetscInt_FMT " keeps no sample",
             split ? "val" : "train", cap);
  PetscCheck(npos >= half && s->n - npos >= half, ds->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-data_%s_size %" PetscInt_FMT ": the %s split has only %" PetscInt_FMT " positives and %" PetscInt_FMT
             " negatives, fewer than %" PetscInt_FMT " of each",
             split ? "val" : "train", cap, split_name[split], npos, s->n - npos, half);
  PetscCall(PetscMalloc1(s->n, &keep));
  PetscCall(cap_choose_class(s, 1.0, half, nn_rng_key(seed, NN_STREAM_SUBSET, SUBSET_CAP(split, 1)), keep));
  PetscCall(cap_choose_class(s, -1.0, half, nn_rng_key(seed, NN_STREAM_SUBSET, SUBSET_CAP(split, -1)), keep));
  samples_compact(s, ds->c * ds->h * ds->w, keep);
  PetscCall(PetscFree(keep));
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------- statistics -- */

static inline double sample_value(const NnSamples *s, size_t k)
{
  return s->pixels ? (double)s->pixels[k] : s->values[k];
}

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
      for (size_t k = ((size_t)i * ds->c + c) * hw, e = k + hw; k < e; k++) sum += sample_value(s, k);
    mean = sum / (double)count;
    for (PetscInt i = 0; i < s->n; i++)
      for (size_t k = ((size_t)i * ds->c + c) * hw, e = k + hw; k < e; k++)
        sq += (sample_value(s, k) - mean) * (sample_value(s, k) - mean);
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
    PetscCall(PetscSNPrintf(desc, len, "Gaussian mixture, separation %.6g, noise %.6g", (double)ds->synth_separation,
                            (double)ds->synth_noise));
    break;
  case NN_DATA_TEACHER:
    PetscCall(PetscSNPrintf(desc, len, "teacher network, %" PetscInt_FMT " relu units", ds->synth_teacher_width));
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
                                   desc, ds->seed, ds->train.n, count_positives(&ds->train), ds->val.n,
                                   count_positives(&ds->val), ds->c, ds->h, ds->w));
  PetscCall(PetscViewerASCIIPrintf(v,
                                   "  training-split mean/std per channel (raw units): %s; normalize %s, augment %s\n",
                                   stats, ds->normalize ? "yes" : "no", ds->augment ? "yes" : "no"));
  PetscFunctionReturn(0);
}

/* -------------------------------------------------------- mini-batches -- */

/* Per channel, value = (raw - shift) / divisor: (p - mean_c) / std_c with
 * normalize, else p / 255 for pixels and synthetic values unchanged. */
static void dataset_transform(Dataset ds, const NnSamples *split, double *shift, double *divisor)
{
  for (PetscInt c = 0; c < 3; c++) {
    shift[c]   = ds->normalize ? ds->mean[c] : 0.0;
    divisor[c] = ds->normalize ? ds->stdev[c] : split->pixels ? 255.0 : 1.0;
  }
}

/* x (c, h, w) <- the transformed sample i, unaugmented. */
static void fill_plain(Dataset ds, const NnSamples *split, PetscInt i, const double *shift, const double *divisor,
                       double *x)
{
  size_t hw = (size_t)ds->h * (size_t)ds->w, d = (size_t)ds->c * hw;
  for (PetscInt c = 0; c < ds->c; c++)
    for (size_t k = c * hw; k < (c + 1) * hw; k++) x[k] = (sample_value(split, i * d + k) - shift[c]) / divisor[c];
}

/* x (c, h, w) <- the image i zero-padded by NN_AUG_PAD, cropped to h x w at
 * offset (ox, oy) = (floor(9 u_{3i}), floor(9 u_{3i+1})) of the padded image,
 * flipped left-right if u_{3i+2} < 1/2 (u_j = nn_rng_uniform(key, j)), then
 * transformed. Padding pixels are raw 0 (black), as in torchvision. */
static void fill_augmented(Dataset ds, const NnSamples *split, PetscInt i, NnRngKey key, const double *shift,
                           const double *divisor, double *x)
{
  const uint64_t  j    = 3 * (uint64_t)i;
  const PetscInt  span = 2 * NN_AUG_PAD + 1;
  const PetscInt  ox = (PetscInt)(span * nn_rng_uniform(key, j)), oy = (PetscInt)(span * nn_rng_uniform(key, j + 1));
  const PetscBool flip = nn_rng_uniform(key, j + 2) < 0.5 ? PETSC_TRUE : PETSC_FALSE;
  const PetscInt  h = ds->h, w = ds->w;
  const uint8_t  *img = split->pixels + (size_t)i * ds->c * h * w;
  for (PetscInt c = 0; c < ds->c; c++)
    for (PetscInt r = 0; r < h; r++)
      for (PetscInt q = 0; q < w; q++) {
        PetscInt sr = r + oy - NN_AUG_PAD, sq = (flip ? w - 1 - q : q) + ox - NN_AUG_PAD;
        double   p = (sr >= 0 && sr < h && sq >= 0 && sq < w) ? img[((size_t)c * h + sr) * w + sq] : 0.0;
        x[((size_t)c * h + r) * w + q] = (p - shift[c]) / divisor[c];
      }
}

PetscErrorCode dataset_fill_batch(Dataset ds, const NnSamples *split, PetscInt nb, const PetscInt *idx,
                                  PetscBool augment, NnRngKey key, double *x, double *y)
{
  double shift[3], divisor[3];
  size_t d = (size_t)ds->c * ds->h * ds->w;
  PetscFunctionBeginUser;
  PetscCheck(!augment || split->pixels, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "augmentation applies to image data only");
  dataset_transform(ds, split, shift, divisor);
  for (PetscInt b = 0; b < nb; b++) {
    PetscInt i = idx[b];
    PetscCheck(i >= 0 && i < split->n, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
               "sample index %" PetscInt_FMT " is outside the split of %" PetscInt_FMT " samples", i, split->n);
    if (augment) fill_augmented(ds, split, i, key, shift, divisor, x + b * d);
    else fill_plain(ds, split, i, shift, divisor, x + b * d);
    y[b] = split->label[i];
  }
  PetscFunctionReturn(0);
}
