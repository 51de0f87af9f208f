/* The image splits of -data_format idx and cifar10: locating the files under
 * -data_dir, reading them (idx.c, cifar.c), checking that the validation images
 * have the training images' shape, and keeping the samples of the binary
 * relabelling (App. G, subset.c) with labels +1/-1 (-data_classes binary), or
 * every sample with its class 0..9 as the label (-data_classes all). */
#include "data_impl.h"

#include <string.h>

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
  size_t   d   = (size_t)raw->c * (size_t)raw->h * (size_t)raw->w;
  NnRngKey key = nn_rng_key((uint64_t)ds->seed, NN_STREAM_SUBSET, nn_subset_relabel_substream((uint64_t)split));
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < raw->n; i++) npos += raw->labels[i] == ds->positive_class;
  PetscCheck(npos > 0, ds->comm, PETSC_ERR_FILE_UNEXPECTED,
             "data file %s: no sample of the positive class %" PetscInt_FMT " in the %s split", raw->source,
             ds->positive_class, nn_split_name[split]);
  PetscCheck(raw->n - npos >= npos, ds->comm, PETSC_ERR_FILE_UNEXPECTED,
             "data file %s: %" PetscInt_FMT " samples of the positive class %" PetscInt_FMT " but only %" PetscInt_FMT
             " of the others: cannot draw as many negatives",
             raw->source, npos, ds->positive_class, raw->n - npos);
  PetscCall(binary_relabel(raw->n, raw->labels, ds->positive_class, key, &nkept, &kept, &label));
  s->n            = nkept;
  s->source_index = kept;
  s->label        = label;
  PetscCall(PetscMalloc1((size_t)nkept * d, &s->pixels));
  for (PetscInt k = 0; k < nkept; k++) memcpy(s->pixels + (size_t)k * d, raw->pixels + (size_t)kept[k] * d, d);
  PetscFunctionReturn(0);
}

/* s <- every sample of raw, its class 0..9 as the label (-data_classes all). */
static PetscErrorCode dataset_keep_all(const RawImages *raw, NnSamples *s)
{
  size_t d = (size_t)raw->c * (size_t)raw->h * (size_t)raw->w;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(raw->n, &s->label));
  PetscCall(PetscMalloc1(raw->n, &s->source_index));
  PetscCall(PetscMalloc1((size_t)raw->n * d, &s->pixels));
  for (PetscInt i = 0; i < raw->n; i++) {
    s->label[i]        = (double)raw->labels[i];
    s->source_index[i] = i;
  }
  if (raw->n) memcpy(s->pixels, raw->pixels, (size_t)raw->n * d);
  s->n = raw->n;
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_load_image_split(Dataset ds, PetscInt split, NnSamples *s)
{
  RawImages      raw = {0};
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  if (ds->format == NN_DATA_IDX) ierr = dataset_read_idx(ds, split, &raw);
  else ierr = dataset_read_cifar(ds, split, &raw);
  if (!ierr) ierr = dataset_check_shape(ds, split, &raw);
  if (!ierr && ds->classes == NN_CLASSES_ALL) ierr = dataset_keep_all(&raw, s);
  else if (!ierr) ierr = dataset_keep_relabelled(ds, split, &raw, s);
  PetscCall(raw_images_free(&raw));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
