/* Tests of the data module: IDX and CIFAR-10 readers on generated files, their
 * error messages, the binary relabelling, the size caps, standardisation,
 * augmentation, the synthetic generators, and (if installed) Fashion-MNIST.
 *
 * Rank 0 writes the generated files under scratch/np<size>/ (so runs with
 * different rank counts do not collide); every rank then reads them. */
#include "testlib.h"

#include "nncas/dataset.h"
#include "data/datasetimpl.h" /* white-box: the splits and settings */

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ----------------------------------------------------------- helpers -- */

/* path <- scratch/np<size>/name */
static PetscErrorCode scratch_path(char *path, size_t len, const char *name)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, len, "%s/np%d/%s", nn_test_scratch(), nn_test_size(), name));
  PetscFunctionReturn(0);
}

/* Rank 0's success in writing files, told to every rank (which then may read). */
static PetscErrorCode files_written(int ok)
{
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Bcast(&ok, 1, MPI_INT, 0, PETSC_COMM_WORLD));
  NN_CHECK(ok, "rank 0 could not write the test files under %s", nn_test_scratch());
  PetscFunctionReturn(0);
}

/* Creates scratch/np<size>/name (rank 0) and returns its path. */
static PetscErrorCode make_dir(const char *name, char *path, size_t len)
{
  char top[PETSC_MAX_PATH_LEN];
  int  ok = 1;
  PetscFunctionBeginUser;
  PetscCall(scratch_path(top, sizeof top, ""));
  PetscCall(scratch_path(path, len, name));
  if (!nn_test_rank()) {
    if (mkdir(top, 0755) && errno != EEXIST) ok = 0;
    if (mkdir(path, 0755) && errno != EEXIST) ok = 0;
  }
  PetscCall(files_written(ok));
  PetscFunctionReturn(0);
}

/* Writes head then data to path, gzip-compressed or raw; 1 on success. */
static int write_file(const char *path, int gz, const uint8_t *head, size_t nhead, const uint8_t *data, size_t n)
{
  if (gz) {
    gzFile f  = gzopen(path, "wb");
    int    ok = f != NULL;
    if (ok && nhead) ok = gzwrite(f, head, (unsigned)nhead) == (int)nhead;
    if (ok && n) ok = gzwrite(f, data, (unsigned)n) == (int)n;
    return f && gzclose(f) == Z_OK && ok;
  }
  FILE *f  = fopen(path, "wb");
  int   ok = f != NULL;
  if (ok && nhead) ok = fwrite(head, 1, nhead, f) == nhead;
  if (ok && n) ok = fwrite(data, 1, n, f) == n;
  return f && !fclose(f) && ok;
}

static void put_be32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* An IDX image file: magic, then n, h, w (as claimed), then npix bytes. */
static int write_idx_images(const char *path, int gz, uint32_t magic, uint32_t n, uint32_t h, uint32_t w,
                            const uint8_t *pix, size_t npix)
{
  uint8_t head[16];
  put_be32(head, magic);
  put_be32(head + 4, n);
  put_be32(head + 8, h);
  put_be32(head + 12, w);
  return write_file(path, gz, head, sizeof head, pix, npix);
}

/* An IDX label file of n labels. */
static int write_idx_labels(const char *path, int gz, uint32_t n, const uint8_t *lab)
{
  uint8_t head[8];
  put_be32(head, 0x00000801u);
  put_be32(head + 4, n);
  return write_file(path, gz, head, sizeof head, lab, n);
}

/* n random images of h x w (seeded) and labels 0..9. */
static PetscErrorCode make_images(PetscInt n, PetscInt h, PetscInt w, uint64_t seed, uint8_t **pix, uint8_t **lab)
{
  NnRngKey key = nn_rng_key(seed, NN_STREAM_TEST, 0);
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2((size_t)n * h * w, pix, n, lab));
  for (size_t k = 0; k < (size_t)n * h * w; k++) (*pix)[k] = (uint8_t)(nn_rng_bits(key, k) >> 40);
  for (PetscInt i = 0; i < n; i++) (*lab)[i] = (uint8_t)(nn_rng_bits(key, (uint64_t)n * h * w + i) % 10);
  PetscFunctionReturn(0);
}

/* An IDX data directory: train-* (ntrain samples, nlabels_train labels) and
 * t10k-* (ntest samples) of h x w, gzip or raw; labels of class `drop_test`
 * are replaced by (drop_test + 1) % 10 in the test split (-1: none). */
static PetscErrorCode write_idx_dir(const char *name, PetscInt ntrain, PetscInt nlabels_train, PetscInt ntest,
                                    PetscInt h, PetscInt w, int gz, int drop_test, char *dir, size_t len)
{
  static const char *const base[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                                      "t10k-labels-idx1-ubyte"};
  char                     path[4][PETSC_MAX_PATH_LEN];
  uint8_t                 *pix, *lab;
  int                      ok = 1;
  PetscFunctionBeginUser;
  PetscCall(make_dir(name, dir, len));
  for (int k = 0; k < 4; k++)
    PetscCall(PetscSNPrintf(path[k], sizeof path[k], "%s/%s%s", dir, base[k], gz ? ".gz" : ""));
  PetscCall(make_images(ntrain + ntest, h, w, 5, &pix, &lab));
  for (PetscInt i = ntrain; i < ntrain + ntest && drop_test >= 0; i++)
    if (lab[i] == drop_test) lab[i] = (uint8_t)((drop_test + 1) % 10);
  if (!nn_test_rank()) {
    ok = ok &&
         write_idx_images(path[0], gz, 0x803, (uint32_t)ntrain, (uint32_t)h, (uint32_t)w, pix, (size_t)ntrain * h * w);
    ok = ok && write_idx_labels(path[1], gz, (uint32_t)nlabels_train, lab);
    ok = ok && write_idx_images(path[2], gz, 0x803, (uint32_t)ntest, (uint32_t)h, (uint32_t)w,
                                pix + (size_t)ntrain * h * w, (size_t)ntest * h * w);
    ok = ok && write_idx_labels(path[3], gz, (uint32_t)ntest, lab + ntrain);
  }
  PetscCall(PetscFree2(pix, lab));
  PetscCall(files_written(ok));
  PetscFunctionReturn(0);
}

/* A CIFAR-10 batch of n records: label (first + i) % 10; pixel values drawn per
 * channel from different distributions (uniform 0..255, 50..100, squares 0..225). */
static int write_cifar_file(const char *path, PetscInt n, PetscInt first)
{
  NnRngKey key = nn_rng_key((uint64_t)first, NN_STREAM_TEST, 1);
  uint8_t *rec = malloc((size_t)n * 3073);
  int      ok;
  if (!rec) return 0;
  for (PetscInt i = 0; i < n; i++) {
    uint8_t *r = rec + (size_t)i * 3073;
    r[0]       = (uint8_t)((first + i) % 10);
    for (int k = 0; k < 3072; k++) {
      uint64_t b = nn_rng_bits(key, (uint64_t)i * 3072 + k);
      r[1 + k]   = (uint8_t)(k < 1024 ? b % 256 : k < 2048 ? 50 + b % 51 : (b % 16) * (b % 16));
    }
  }
  ok = write_file(path, 0, NULL, 0, rec, (size_t)n * 3073);
  free(rec);
  return ok;
}

/* Overwrites the byte at offset of an existing file; 1 on success. */
static int patch_byte(const char *path, long offset, uint8_t value)
{
  FILE *f  = fopen(path, "r+b");
  int   ok = f && !fseek(f, offset, SEEK_SET) && fputc(value, f) != EOF;
  return f && !fclose(f) && ok;
}

/* A CIFAR-10 directory name/cifar-10-batches-bin with 5 training batches of
 * nper records and a test batch of nper records; dir <- name's path. */
static PetscErrorCode write_cifar_dir(const char *name, PetscInt nper, char *dir, size_t len)
{
  char sub[PETSC_MAX_PATH_LEN + 32], path[PETSC_MAX_PATH_LEN + 64], subname[PETSC_MAX_PATH_LEN];
  int  ok = 1;
  PetscFunctionBeginUser;
  PetscCall(make_dir(name, dir, len));
  PetscCall(PetscSNPrintf(subname, sizeof subname, "%s/cifar-10-batches-bin", name));
  PetscCall(make_dir(subname, sub, sizeof sub));
  if (!nn_test_rank()) {
    for (PetscInt k = 1; k <= 5 && ok; k++) {
      PetscCall(PetscSNPrintf(path, sizeof path, "%s/data_batch_%d.bin", sub, (int)k));
      ok = write_cifar_file(path, nper, (k - 1) * nper);
    }
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/test_batch.bin", sub));
    ok = ok && write_cifar_file(path, nper, 5 * nper);
  }
  PetscCall(files_written(ok));
  PetscFunctionReturn(0);
}

/* Clears every data option, then sets opts and (if dir) -data_dir. */
static PetscErrorCode use_options(const char *dir, const char *opts)
{
  static const char *const names[] = {
      "-data_format", "-data_dir",         "-data_positive_class", "-data_normalize",     "-data_augment",
      "-data_seed",   "-data_train_size",  "-data_val_size",       "-synth_train",        "-synth_val",
      "-synth_shape", "-synth_separation", "-synth_noise",         "-synth_teacher_width", "-data_classes",
      "-data_file"};
  PetscFunctionBeginUser;
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) PetscCall(PetscOptionsClearValue(NULL, names[k]));
  if (opts) PetscCall(PetscOptionsInsertString(NULL, opts));
  if (dir) PetscCall(PetscOptionsSetValue(NULL, "-data_dir", dir));
  PetscFunctionReturn(0);
}

/* A data set set up from the given options (which are cleared afterwards). */
static PetscErrorCode open_dataset(const char *dir, const char *opts, Dataset *ds)
{
  PetscFunctionBeginUser;
  PetscCall(use_options(dir, opts));
  PetscCall(dataset_create(PETSC_COMM_WORLD, ds));
  PetscCall(dataset_set_from_options(*ds));
  PetscCall(dataset_setup(*ds));
  PetscCall(use_options(NULL, NULL));
  PetscFunctionReturn(0);
}

/* Tries to set up a data set from the options; *ierr <- dataset_setup's code. */
static PetscErrorCode try_dataset(const char *dir, const char *opts, PetscErrorCode *ierr)
{
  Dataset ds;
  PetscFunctionBeginUser;
  PetscCall(use_options(dir, opts));
  PetscCall(dataset_create(PETSC_COMM_WORLD, &ds));
  PetscCall(dataset_set_from_options(ds));
  *ierr = dataset_setup(ds);
  PetscCall(dataset_destroy(&ds));
  PetscCall(use_options(NULL, NULL));
  PetscFunctionReturn(0);
}

/* Checks that a call failed with a message containing want1 and want2 (if not
 * NULL), and clears the error; a miss fails the test here. */
static PetscErrorCode expect_error(PetscErrorCode ierr, const char *want1, const char *want2)
{
  PetscFunctionBeginUser;
  PetscCall(nn_expect_error(ierr, "the call", want1, want2, NULL));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* FNV-1a hash of n bytes, continuing from h. */
static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
  const uint8_t *b = p;
  for (size_t k = 0; k < n; k++) h = (h ^ b[k]) * 0x100000001B3ULL;
  return h;
}

/* Fails unless h is the same on every rank. */
static PetscErrorCode check_same_on_all_ranks(uint64_t h, const char *what)
{
  uint64_t lo, hi;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(&h, &lo, 1, MPI_UINT64_T, MPI_MIN, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(&h, &hi, 1, MPI_UINT64_T, MPI_MAX, PETSC_COMM_WORLD));
  NN_CHECK(lo == hi, "%s differs between ranks", what);
  PetscFunctionReturn(0);
}

static PetscInt count_pos(const NnSamples *s)
{
  PetscInt n = 0;
  for (PetscInt i = 0; i < s->n; i++) n += s->label[i] > 0;
  return n;
}

/* x <- the whole split, in order. */
static PetscErrorCode fill_all(Dataset ds, NnSplit which, PetscBool augment, NnRngKey key, double **x, double **y)
{
  const NnSamples *s;
  PetscInt        *idx;
  PetscFunctionBeginUser;
  PetscCall(dataset_get_split(ds, which, &s));
  PetscCall(PetscMalloc1(s->n, &idx));
  PetscCall(PetscMalloc2((size_t)s->n * ds->c * ds->h * ds->w, x, s->n, y));
  for (PetscInt i = 0; i < s->n; i++) idx[i] = i;
  PetscCall(dataset_fill_batch(ds, s, s->n, idx, augment, key, *x, *y));
  PetscCall(PetscFree(idx));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------ readers -- */

static PetscErrorCode idx_reads_raw_and_gzip_identically(void)
{
  const PetscInt n = 50, h = 7, w = 5; /* not square: a swap of rows and columns shows */
  char     raw_i[PETSC_MAX_PATH_LEN], raw_l[PETSC_MAX_PATH_LEN], gz_i[PETSC_MAX_PATH_LEN], gz_l[PETSC_MAX_PATH_LEN];
  char     dir[PETSC_MAX_PATH_LEN];
  uint8_t *pix, *lab, *p[2], *l[2];
  PetscInt ni[2], nl[2], hh[2], ww[2];
  int      ok = 1;
  PetscFunctionBeginUser;
  PetscCall(make_dir("idx_raw_gz", dir, sizeof dir));
  PetscCall(PetscSNPrintf(raw_i, sizeof raw_i, "%s/images", dir));
  PetscCall(PetscSNPrintf(raw_l, sizeof raw_l, "%s/labels", dir));
  PetscCall(PetscSNPrintf(gz_i, sizeof gz_i, "%s/images.gz", dir));
  PetscCall(PetscSNPrintf(gz_l, sizeof gz_l, "%s/labels.gz", dir));
  PetscCall(make_images(n, h, w, 1, &pix, &lab));
  if (!nn_test_rank()) {
    ok = write_idx_images(raw_i, 0, 0x803, n, h, w, pix, (size_t)n * h * w) && write_idx_labels(raw_l, 0, n, lab) &&
         write_idx_images(gz_i, 1, 0x803, n, h, w, pix, (size_t)n * h * w) && write_idx_labels(gz_l, 1, n, lab);
  }
  PetscCall(files_written(ok));
  PetscCall(idx_read_images(PETSC_COMM_WORLD, raw_i, &ni[0], &hh[0], &ww[0], &p[0]));
  PetscCall(idx_read_images(PETSC_COMM_WORLD, gz_i, &ni[1], &hh[1], &ww[1], &p[1]));
  PetscCall(idx_read_labels(PETSC_COMM_WORLD, raw_l, &nl[0], &l[0]));
  PetscCall(idx_read_labels(PETSC_COMM_WORLD, gz_l, &nl[1], &l[1]));
  for (int k = 0; k < 2; k++) {
    NN_CHECK(ni[k] == n && hh[k] == h && ww[k] == w && nl[k] == n, "file %d: read %dx%dx%d, %d labels", k, (int)ni[k],
             (int)hh[k], (int)ww[k], (int)nl[k]);
    NN_CHECK(!memcmp(p[k], pix, (size_t)n * h * w), "file %d: pixels differ from those written", k);
    NN_CHECK(!memcmp(l[k], lab, (size_t)n), "file %d: labels differ from those written", k);
  }
  PetscCall(PetscFree2(pix, lab));
  for (int k = 0; k < 2; k++) {
    PetscCall(PetscFree(p[k]));
    PetscCall(PetscFree(l[k]));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode idx_rejects_wrong_magic(void)
{
  char           dir[PETSC_MAX_PATH_LEN], path[PETSC_MAX_PATH_LEN];
  uint8_t        lab[4] = {1, 2, 3, 4}, *pix = NULL;
  PetscInt       n, h, w;
  PetscErrorCode ierr;
  int            ok = 1;
  PetscFunctionBeginUser;
  PetscCall(make_dir("idx_magic", dir, sizeof dir));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir));
  if (!nn_test_rank()) ok = write_idx_labels(path, 1, 4, lab); /* a label file where images are expected */
  PetscCall(files_written(ok));
  ierr = idx_read_images(PETSC_COMM_WORLD, path, &n, &h, &w, &pix);
  PetscCall(expect_error(ierr, "wrong magic 0x00000801, expected 0x00000803 (an IDX image file)", path));
  NN_CHECK(!pix, "a failed read left pixels allocated");
  PetscFunctionReturn(0);
}

/* Sets the soft address-space limit to the current size + extra bytes (0: restore old). */
static void limit_address_space(size_t extra, struct rlimit *old)
{
#if defined(__SANITIZE_ADDRESS__)
  (void)extra;
  (void)old; /* AddressSanitizer reserves terabytes of address space: no limit */
#else
  unsigned long pages = 0;
  FILE         *f     = fopen("/proc/self/statm", "r");
  struct rlimit lim;
  if (!extra) {
    setrlimit(RLIMIT_AS, old);
    return;
  }
  getrlimit(RLIMIT_AS, old);
  if (!f) return;
  if (fscanf(f, "%lu", &pages) != 1) pages = 0;
  fclose(f);
  lim          = *old;
  lim.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + extra;
  if (pages && (old->rlim_cur == RLIM_INFINITY || lim.rlim_cur < old->rlim_cur)) setrlimit(RLIMIT_AS, &lim);
#endif
}

static PetscErrorCode idx_rejects_truncated_file_without_huge_allocation(void)
{
  char           dir[PETSC_MAX_PATH_LEN], path[PETSC_MAX_PATH_LEN];
  uint8_t        pix[28 * 28 + 100], *out = NULL;
  PetscInt       n, h, w;
  PetscErrorCode ierr;
  struct rlimit  old;
  double         t0;
  int            ok = 1;
  PetscFunctionBeginUser;
  PetscCall(make_dir("idx_truncated", dir, sizeof dir));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/huge-images-idx3-ubyte", dir));
  memset(pix, 7, sizeof pix);
  /* the header claims 2^31 images of 28x28 (1.7 TB); the file holds 1.1 images */
  if (!nn_test_rank()) ok = write_idx_images(path, 0, 0x803, 1u << 31, 28, 28, pix, sizeof pix);
  PetscCall(files_written(ok));
  limit_address_space((size_t)512 << 20, &old); /* an allocation of the claimed size would fail */
  t0   = nn_wtime();
  ierr = idx_read_images(PETSC_COMM_WORLD, path, &n, &h, &w, &out);
  t0   = nn_wtime() - t0;
  limit_address_space(0, &old);
  PetscCall(
      expect_error(ierr, "truncated: header says 2147483648 images of 28x28 but the file ends after 1 images", path));
  NN_CHECK(t0 < 2.0, "failing took %g s", t0);
  PetscFunctionReturn(0);
}

/* Writes a gzip IDX image file to path and returns its compressed bytes (rank 0). */
static PetscErrorCode gz_image_bytes(const char *path, uint8_t **bytes, long *len)
{
  uint8_t *pix, *lab;
  FILE    *f;
  PetscFunctionBeginUser;
  *bytes = NULL;
  *len   = 0;
  PetscCall(make_images(40, 28, 28, 3, &pix, &lab));
  if (write_idx_images(path, 1, 0x803, 40, 28, 28, pix, 40 * 28 * 28) && (f = fopen(path, "rb"))) {
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    *bytes = malloc((size_t)*len);
    if (*bytes && fread(*bytes, 1, (size_t)*len, f) != (size_t)*len) *len = 0;
    fclose(f);
  }
  PetscCall(PetscFree2(pix, lab));
  PetscFunctionReturn(0);
}

static PetscErrorCode idx_rejects_corrupt_gzip_stream(void)
{
  char           dir[PETSC_MAX_PATH_LEN], path[PETSC_MAX_PATH_LEN];
  uint8_t       *bytes = NULL, *out = NULL;
  long           len = 0;
  PetscInt       n, h, w;
  PetscErrorCode ierr;
  int            ok = 1;
  PetscFunctionBeginUser;
  PetscCall(make_dir("idx_corrupt_gz", dir, sizeof dir));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir));
  if (!nn_test_rank()) {
    PetscCall(gz_image_bytes(path, &bytes, &len));
    ok = bytes && len > 16;
    if (ok) bytes[len - 6] ^= 0x5a; /* inside the CRC-32 of the gzip trailer */
    ok = ok && write_file(path, 0, NULL, 0, bytes, (size_t)len);
  }
  PetscCall(files_written(ok));
  ierr = idx_read_images(PETSC_COMM_WORLD, path, &n, &h, &w, &out);
  PetscCall(expect_error(ierr, "corrupt gzip stream", path));
  /* the same file cut in the middle of the compressed stream */
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD)); /* every rank has read the first version */
  if (!nn_test_rank()) ok = write_file(path, 0, NULL, 0, bytes, (size_t)len / 2);
  PetscCall(files_written(ok));
  ierr = idx_read_images(PETSC_COMM_WORLD, path, &n, &h, &w, &out);
  PetscCall(expect_error(ierr, "the gzip stream ends early", path));
  free(bytes);
  PetscFunctionReturn(0);
}

static PetscErrorCode idx_rejects_label_image_count_mismatch(void)
{
  char           dir[PETSC_MAX_PATH_LEN];
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(write_idx_dir("idx_mismatch", 100, 90, 40, 6, 6, 1, -1, dir, sizeof dir));
  PetscCall(try_dataset(dir, NULL, &ierr));
  PetscCall(
      expect_error(ierr, "train-labels-idx1-ubyte.gz: 90 labels but", "train-images-idx3-ubyte.gz has 100 images"));
  PetscFunctionReturn(0);
}

static PetscErrorCode idx_rejects_missing_file(void)
{
  char           dir[PETSC_MAX_PATH_LEN];
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(scratch_path(dir, sizeof dir, "no_such_directory"));
  PetscCall(try_dataset(dir, NULL, &ierr));
  PetscCall(expect_error(ierr, "no_such_directory/train-images-idx3-ubyte.gz: cannot open (No such file or directory)",
                         NULL));
  PetscFunctionReturn(0);
}

static PetscErrorCode dataset_reads_idx_with_and_without_gz_suffix(void)
{
  char     dir[2][PETSC_MAX_PATH_LEN];
  Dataset  ds[2];
  uint64_t hsh[2];
  PetscFunctionBeginUser;
  PetscCall(write_idx_dir("idx_dir_gz", 200, 200, 60, 6, 6, 1, -1, dir[0], sizeof dir[0]));
  PetscCall(write_idx_dir("idx_dir_raw", 200, 200, 60, 6, 6, 0, -1, dir[1], sizeof dir[1]));
  for (int k = 0; k < 2; k++) {
    PetscCall(open_dataset(dir[k], "-data_positive_class 2", &ds[k]));
    NN_CHECK(ds[k]->train.n > 0 && ds[k]->val.n > 0, "empty split");
    hsh[k] = hash_bytes(0, ds[k]->train.pixels, (size_t)ds[k]->train.n * 36);
    hsh[k] = hash_bytes(hsh[k], ds[k]->val.source_index, (size_t)ds[k]->val.n * sizeof(PetscInt));
  }
  NN_CHECK(ds[0]->train.n == ds[1]->train.n && hsh[0] == hsh[1], "gzip and raw directories give different data sets");
  for (int k = 0; k < 2; k++) PetscCall(dataset_destroy(&ds[k]));
  PetscFunctionReturn(0);
}

static PetscErrorCode cifar_reads_records_in_chw_order(void)
{
  char        dir[PETSC_MAX_PATH_LEN], path[2][PETSC_MAX_PATH_LEN];
  const char *paths[2] = {path[0], path[1]};
  uint8_t    *pix, *lab;
  PetscInt    n;
  int         ok = 1;
  PetscFunctionBeginUser;
  PetscCall(make_dir("cifar_chw", dir, sizeof dir));
  for (int f = 0; f < 2; f++) PetscCall(PetscSNPrintf(path[f], sizeof path[f], "%s/batch_%d.bin", dir, f));
  if (!nn_test_rank()) ok = write_cifar_file(path[0], 3, 0) && write_cifar_file(path[1], 2, 3);
  PetscCall(files_written(ok));
  PetscCall(cifar10_read(PETSC_COMM_WORLD, 2, paths, &n, &pix, &lab));
  NN_CHECK(n == 5, "read %d records, wrote 5", (int)n);
  for (PetscInt i = 0; i < n; i++) {
    PetscInt first = i < 3 ? 0 : 3, r = i - first; /* record r of file i < 3 ? 0 : 1 */
    NnRngKey key = nn_rng_key((uint64_t)first, NN_STREAM_TEST, 1);
    NN_CHECK(lab[i] == i % 10, "label %d of sample %d", lab[i], (int)i);
    for (int c = 0; c < 3; c++)
      for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++) {
          int      k  = c * 1024 + y * 32 + x; /* position in the record: R plane, G plane, B plane, row-major */
          uint64_t b  = nn_rng_bits(key, (uint64_t)r * 3072 + k);
          uint8_t  ex = (uint8_t)(c == 0 ? b % 256 : c == 1 ? 50 + b % 51 : (b % 16) * (b % 16));
          NN_CHECK(pix[(((size_t)i * 3 + c) * 32 + y) * 32 + x] == ex, "sample %d channel %d pixel (%d,%d)", (int)i, c,
                   y, x);
        }
  }
  PetscCall(PetscFree(pix));
  PetscCall(PetscFree(lab));
  PetscFunctionReturn(0);
}

static PetscErrorCode cifar_rejects_partial_record(void)
{
  char           dir[PETSC_MAX_PATH_LEN], path[PETSC_MAX_PATH_LEN];
  const char    *paths[1] = {path};
  uint8_t        junk[2 * 3073 + 100], *pix = NULL, *lab = NULL;
  PetscInt       n;
  PetscErrorCode ierr;
  int            ok = 1;
  PetscFunctionBeginUser;
  PetscCall(make_dir("cifar_partial", dir, sizeof dir));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/data_batch_1.bin", dir));
  memset(junk, 1, sizeof junk);
  if (!nn_test_rank()) ok = write_file(path, 0, NULL, 0, junk, sizeof junk);
  PetscCall(files_written(ok));
  ierr = cifar10_read(PETSC_COMM_WORLD, 1, paths, &n, &pix, &lab);
  PetscCall(expect_error(ierr, "size 6246 bytes is not a multiple of the 3073-byte CIFAR-10 record", path));
  NN_CHECK(!pix && !lab, "a failed read left arrays allocated");
  PetscFunctionReturn(0);
}

static PetscErrorCode cifar_rejects_label_out_of_range(void)
{
  char           dir[PETSC_MAX_PATH_LEN], path[PETSC_MAX_PATH_LEN];
  const char    *paths[1] = {path};
  uint8_t       *pix = NULL, *lab = NULL;
  PetscInt       n;
  PetscErrorCode ierr;
  int            ok = 1;
  PetscFunctionBeginUser;
  PetscCall(make_dir("cifar_label", dir, sizeof dir));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/data_batch_1.bin", dir));
  if (!nn_test_rank()) ok = write_cifar_file(path, 3, 0) && patch_byte(path, 3073, 10); /* labels 0, 10, 2 */
  PetscCall(files_written(ok));
  ierr = cifar10_read(PETSC_COMM_WORLD, 1, paths, &n, &pix, &lab);
  PetscCall(expect_error(ierr, "label 10 of sample 1 is out of range 0..9", path));
  PetscFunctionReturn(0);
}

static PetscErrorCode dataset_rejects_positive_class_out_of_range(void)
{
  char           dir[PETSC_MAX_PATH_LEN];
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(write_idx_dir("idx_class_range", 100, 100, 40, 6, 6, 1, -1, dir, sizeof dir));
  PetscCall(try_dataset(dir, "-data_positive_class 10", &ierr));
  PetscCall(expect_error(ierr, "-data_positive_class 10 is out of range", NULL));
  PetscFunctionReturn(0);
}

static PetscErrorCode dataset_rejects_split_without_positive_class(void)
{
  char           dir[PETSC_MAX_PATH_LEN];
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(write_idx_dir("idx_no_positive", 100, 100, 40, 6, 6, 1, 3, dir, sizeof dir));
  PetscCall(try_dataset(dir, "-data_positive_class 3", &ierr));
  PetscCall(
      expect_error(ierr, "t10k-labels-idx1-ubyte.gz: no sample of the positive class 3 in the validation split", NULL));
  PetscFunctionReturn(0);
}

/* --------------------------------------------------------- relabelling -- */

/* Checks binary_relabel's output for labels and class `positive`. */
static PetscErrorCode check_relabel(PetscInt n, const uint8_t *labels, PetscInt positive, PetscInt nkept,
                                    const PetscInt *kept, const double *label)
{
  PetscInt npos = 0, kpos = 0, kneg = 0, per_class[10] = {0};
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < n; i++) npos += labels[i] == positive;
  for (PetscInt k = 0; k < nkept; k++) {
    NN_CHECK(kept[k] >= 0 && kept[k] < n && (k == 0 || kept[k] > kept[k - 1]), "kept indices not in source order");
    NN_CHECK(label[k] == (labels[kept[k]] == positive ? 1.0 : -1.0), "sample %d has label %g", (int)kept[k], label[k]);
    kpos += label[k] > 0;
    kneg += label[k] < 0;
    per_class[labels[kept[k]]]++;
  }
  NN_CHECK(kpos == npos, "kept %d of %d positives", (int)kpos, (int)npos);
  NN_CHECK(kneg == npos, "kept %d negatives for %d positives", (int)kneg, (int)npos);
  for (int c = 0; c < 10; c++) NN_CHECK(c == positive || per_class[c] > 0, "no negative of class %d drawn", c);
  PetscFunctionReturn(0);
}

static PetscErrorCode relabel_is_balanced_and_keeps_all_positives(void)
{
  const PetscInt n = 2000;
  uint8_t       *pix, *lab;
  PetscInt       nk[2], *kept[2], same = 0;
  double        *label[2];
  PetscFunctionBeginUser;
  PetscCall(make_images(n, 1, 1, 11, &pix, &lab));
  for (PetscInt positive = 0; positive < 10; positive += 4) {
    for (int split = 0; split < 2; split++) {
      PetscCall(binary_relabel(n, lab, positive, nn_rng_key(1, NN_STREAM_SUBSET, (uint64_t)split), &nk[split],
                               &kept[split], &label[split]));
      PetscCall(check_relabel(n, lab, positive, nk[split], kept[split], label[split]));
    }
    /* different streams (train/validation) draw different negatives */
    for (PetscInt k = 0; k < nk[0]; k++) same += kept[0][k] == kept[1][k];
    NN_CHECK(same < nk[0], "two streams drew the same negatives");
    for (int split = 0; split < 2; split++) {
      PetscCall(PetscFree(kept[split]));
      PetscCall(PetscFree(label[split]));
    }
  }
  PetscCall(PetscFree2(pix, lab));
  PetscFunctionReturn(0);
}

static PetscErrorCode relabel_same_on_every_rank(void)
{
  char     dir[PETSC_MAX_PATH_LEN];
  Dataset  ds;
  uint64_t h;
  PetscFunctionBeginUser;
  PetscCall(write_idx_dir("idx_ranks", 500, 500, 200, 4, 4, 1, -1, dir, sizeof dir));
  PetscCall(open_dataset(dir, "-data_positive_class 7 -data_seed 13", &ds));
  h = hash_bytes(0, ds->train.source_index, (size_t)ds->train.n * sizeof(PetscInt));
  h = hash_bytes(h, ds->val.source_index, (size_t)ds->val.n * sizeof(PetscInt));
  h = hash_bytes(h, ds->train.pixels, (size_t)ds->train.n * 16);
  PetscCall(check_same_on_all_ranks(h, "the relabelled samples"));
  PetscCall(dataset_destroy(&ds));
  PetscFunctionReturn(0);
}

static PetscErrorCode size_caps_keep_splits_balanced(void)
{
  char     dir[PETSC_MAX_PATH_LEN];
  Dataset  all, cap;
  uint8_t *pix, *lab;
  PetscInt j = 0;
  PetscFunctionBeginUser;
  PetscCall(write_idx_dir("idx_caps", 400, 400, 300, 4, 4, 0, -1, dir, sizeof dir));
  PetscCall(make_images(700, 4, 4, 5, &pix, &lab)); /* the same images as in the files */
  PetscCall(open_dataset(dir, "-data_positive_class 1", &all));
  PetscCall(open_dataset(dir, "-data_positive_class 1 -data_train_size 21 -data_val_size 10", &cap));
  NN_CHECK(cap->train.n == 20 && cap->val.n == 10, "capped sizes %d, %d", (int)cap->train.n, (int)cap->val.n);
  for (int split = 0; split < 2; split++) {
    const NnSamples *s = split ? &cap->val : &cap->train, *a = split ? &all->val : &all->train;
    PetscInt         npos = 0;
    for (PetscInt k = 0; k < s->n; k++) {
      PetscInt src = s->source_index[k] + (split ? 400 : 0);
      npos += s->label[k] > 0;
      NN_CHECK(k == 0 || s->source_index[k] > s->source_index[k - 1], "capped split not in source order");
      NN_CHECK(s->label[k] == (lab[src] == 1 ? 1.0 : -1.0), "label of source sample %d", (int)src);
      NN_CHECK(!memcmp(s->pixels + 16 * k, pix + 16 * src, 16), "pixels of source sample %d", (int)src);
      for (j = 0; j < a->n && a->source_index[j] != s->source_index[k]; j++) {}
      NN_CHECK(j < a->n, "capped sample %d not among the relabelled ones", (int)s->source_index[k]);
    }
    NN_CHECK(2 * npos == s->n, "%d positives of %d", (int)npos, (int)s->n);
  }
  PetscCall(PetscFree2(pix, lab));
  PetscCall(dataset_destroy(&all));
  PetscCall(dataset_destroy(&cap));
  PetscFunctionReturn(0);
}

/* The value of setting `name` in s, or NULL. */
static const char *setting(const NnSettings *s, const char *name)
{
  for (int i = 0; i < s->n; i++)
    if (!strcmp(s->item[i].name, name)) return s->item[i].value;
  return NULL;
}

/* Split s (-data_classes all) against the generated images: sample k is source
 * sample k (offset `first` in the generated arrays), its class the label;
 * count[c] <- the samples of class c. */
static PetscErrorCode check_all_classes(const NnSamples *s, const uint8_t *pix, const uint8_t *lab, PetscInt first,
                                        PetscInt *count)
{
  PetscFunctionBeginUser;
  for (int c = 0; c < 10; c++) count[c] = 0;
  for (PetscInt k = 0; k < s->n; k++) {
    NN_CHECK(s->source_index[k] == k, "sample %d has source index %d", (int)k, (int)s->source_index[k]);
    NN_CHECK(s->label[k] == (double)lab[first + k], "label of sample %d is %g, class %d", (int)k, s->label[k],
             (int)lab[first + k]);
    NN_CHECK(!memcmp(s->pixels + 16 * k, pix + 16 * (first + k), 16), "pixels of sample %d", (int)k);
    count[lab[first + k]]++;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode classes_all_keeps_every_sample_with_its_class_as_label(void)
{
  char       dir[PETSC_MAX_PATH_LEN];
  Dataset    ds, bin;
  NnSettings sa = {0}, sb = {0};
  uint8_t   *pix, *lab;
  PetscInt   count[10], want[2][10] = {{0}};
  double     lo, hi;
  PetscBool  pm;
  PetscFunctionBeginUser;
  PetscCall(write_idx_dir("idx_all", 400, 400, 300, 4, 4, 1, -1, dir, sizeof dir));
  PetscCall(make_images(700, 4, 4, 5, &pix, &lab)); /* the same images as in the files */
  for (PetscInt i = 0; i < 700; i++) want[i >= 400][lab[i]]++;
  PetscCall(open_dataset(dir, "-data_classes all", &ds));
  NN_CHECK(ds->train.n == 400 && ds->val.n == 300, "sizes %d, %d", (int)ds->train.n, (int)ds->val.n);
  for (int split = 0; split < 2; split++) {
    const NnSamples *s;
    PetscCall(dataset_get_split(ds, split ? NN_SPLIT_VAL : NN_SPLIT_TRAIN, &s));
    PetscCall(check_all_classes(s, pix, lab, split ? 400 : 0, count));
    for (int c = 0; c < 10; c++)
      NN_CHECK(count[c] == want[split][c] && count[c] > 0, "%s split: %d samples of class %d, the files hold %d",
               split ? "validation" : "training", (int)count[c], c, (int)want[split][c]);
  }
  PetscCall(dataset_get_label_range(ds, NN_SPLIT_TRAIN, &lo, &hi, &pm));
  NN_CHECK(lo == 0 && hi == 9 && !pm, "label range %g..%g, +-1 %d", lo, hi, (int)pm);
  PetscCall(dataset_view(ds, PETSC_VIEWER_STDOUT_WORLD));
  /* the setting is recorded, so a restart with the other value is refused */
  PetscCall(open_dataset(dir, NULL, &bin));
  PetscCall(dataset_get_settings(ds, &sa));
  PetscCall(dataset_get_settings(bin, &sb));
  NN_CHECK(setting(&sa, "-data_classes") && !strcmp(setting(&sa, "-data_classes"), "all"), "-data_classes all not recorded");
  NN_CHECK(setting(&sb, "-data_classes") && !strcmp(setting(&sb, "-data_classes"), "binary"), "binary not recorded");
  NN_CHECK(!setting(&sa, "-data_positive_class") && setting(&sb, "-data_positive_class"), "-data_positive_class");
  NN_CHECK(strcmp(setting(&sa, "training data"), setting(&sb, "training data")), "the same CRC for both");
  PetscCall(dataset_get_label_range(bin, NN_SPLIT_TRAIN, &lo, &hi, &pm));
  NN_CHECK(lo == -1 && hi == 1 && pm, "binary label range %g..%g, +-1 %d", lo, hi, (int)pm);
  PetscCall(dataset_destroy(&bin));
  PetscCall(dataset_destroy(&ds));
  /* a cap draws from all classes, in source order */
  PetscCall(open_dataset(dir, "-data_classes all -data_train_size 51", &ds));
  NN_CHECK(ds->train.n == 51 && ds->val.n == 300, "capped sizes %d, %d", (int)ds->train.n, (int)ds->val.n);
  for (PetscInt k = 0; k < ds->train.n; k++) {
    PetscInt src = ds->train.source_index[k];
    NN_CHECK(k == 0 || src > ds->train.source_index[k - 1], "capped split not in source order");
    NN_CHECK(ds->train.label[k] == (double)lab[src], "label of source sample %d", (int)src);
  }
  PetscCall(dataset_destroy(&ds));
  PetscCall(PetscFree2(pix, lab));
  PetscFunctionReturn(0);
}

static PetscErrorCode classes_all_applies_to_image_readers_only(void)
{
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(try_dataset(NULL, "-data_format mixture -data_classes all", &ierr));
  PetscCall(expect_error(ierr, "-data_classes applies to the image readers (-data_format idx or cifar10) only", NULL));
  PetscFunctionReturn(0);
}

/* --------------------------------------------- statistics and batches -- */

static PetscErrorCode standardisation_gives_zero_mean_unit_variance_per_channel(void)
{
  char     dir[PETSC_MAX_PATH_LEN];
  Dataset  ds;
  double  *x, *y;
  PetscInt hw = 1024;
  PetscFunctionBeginUser;
  PetscCall(write_cifar_dir("cifar_std", 30, dir, sizeof dir));
  PetscCall(open_dataset(dir, "-data_format cifar10 -data_positive_class 4", &ds));
  NN_CHECK(ds->c == 3 && ds->h == 32 && ds->w == 32 && ds->augment, "CIFAR-10 shape or augment default");
  NN_CHECK(ds->train.n == 30 && ds->val.n == 6, "split sizes %d, %d", (int)ds->train.n, (int)ds->val.n);
  PetscCall(fill_all(ds, NN_SPLIT_TRAIN, PETSC_FALSE, 0, &x, &y));
  for (PetscInt c = 0; c < 3; c++) {
    double sum = 0, sq = 0, cnt = (double)ds->train.n * hw;
    for (PetscInt i = 0; i < ds->train.n; i++)
      for (PetscInt k = 0; k < hw; k++) sum += x[(i * 3 + c) * hw + k];
    for (PetscInt i = 0; i < ds->train.n; i++)
      for (PetscInt k = 0; k < hw; k++)
        sq += (x[(i * 3 + c) * hw + k] - sum / cnt) * (x[(i * 3 + c) * hw + k] - sum / cnt);
    NN_CHECK(fabs(sum / cnt) < 1e-12, "channel %d mean %g", (int)c, sum / cnt);
    NN_CHECK(fabs(sq / cnt - 1) < 1e-12, "channel %d variance %g", (int)c, sq / cnt);
  }
  NN_CHECK(ds->mean[1] > 50 && ds->mean[1] < 100 && ds->stdev[1] < ds->stdev[0], "channel statistics %g %g %g %g",
           ds->mean[1], ds->stdev[1], ds->mean[0], ds->stdev[0]);
  PetscCall(PetscFree2(x, y));
  PetscCall(dataset_destroy(&ds));
  /* without -data_normalize: pixel / 255 */
  PetscCall(open_dataset(dir, "-data_format cifar10 -data_positive_class 4 -data_normalize false", &ds));
  PetscCall(fill_all(ds, NN_SPLIT_VAL, PETSC_FALSE, 0, &x, &y));
  for (PetscInt k = 0; k < ds->val.n * 3 * hw; k++) NN_CHECK(x[k] == ds->val.pixels[k] / 255.0, "value %d", (int)k);
  PetscCall(PetscFree2(x, y));
  PetscCall(dataset_destroy(&ds));
  PetscFunctionReturn(0);
}

/* out (3, 32, 32) <- sample i augmented the way torchvision does it, computed
 * directly: pad the raw image into a 40x40 black canvas, cut the 32x32 window
 * at (oy, ox), mirror it if flip, then standardise. */
static void augment_direct(Dataset ds, PetscInt i, PetscInt ox, PetscInt oy, PetscBool flip, double *out)
{
  static double canvas[3][40][40], crop[3][32][32];
  memset(canvas, 0, sizeof canvas);
  for (int c = 0; c < 3; c++)
    for (int r = 0; r < 32; r++)
      for (int q = 0; q < 32; q++) canvas[c][r + 4][q + 4] = ds->train.pixels[(((size_t)i * 3 + c) * 32 + r) * 32 + q];
  for (int c = 0; c < 3; c++)
    for (int r = 0; r < 32; r++)
      for (int q = 0; q < 32; q++) crop[c][r][q] = canvas[c][oy + r][ox + q];
  for (int c = 0; c < 3; c++)
    for (int r = 0; r < 32; r++)
      for (int q = 0; q < 32; q++)
        out[(c * 32 + r) * 32 + q] = ((flip ? crop[c][r][31 - q] : crop[c][r][q]) - ds->mean[c]) / ds->stdev[c];
}

static PetscErrorCode augmentation_crop_and_flip_match_a_direct_computation(void)
{
  char     dir[PETSC_MAX_PATH_LEN];
  Dataset  ds;
  double  *x, *y, ex[3072];
  NnRngKey key        = nn_rng_key(7, NN_STREAM_AUGMENT, 3);
  int      seen[9][9] = {{0}}, flips = 0, offsets = 0;
  PetscFunctionBeginUser;
  PetscCall(write_cifar_dir("cifar_aug", 60, dir, sizeof dir));
  PetscCall(open_dataset(dir, "-data_format cifar10", &ds));
  PetscCall(fill_all(ds, NN_SPLIT_TRAIN, PETSC_TRUE, key, &x, &y));
  for (PetscInt i = 0; i < ds->train.n; i++) {
    PetscInt  ox   = (PetscInt)(9 * nn_rng_uniform(key, 3 * (uint64_t)i));
    PetscInt  oy   = (PetscInt)(9 * nn_rng_uniform(key, 3 * (uint64_t)i + 1));
    PetscBool flip = nn_rng_uniform(key, 3 * (uint64_t)i + 2) < 0.5 ? PETSC_TRUE : PETSC_FALSE;
    augment_direct(ds, i, ox, oy, flip, ex);
    for (int k = 0; k < 3072; k++)
      NN_CHECK(x[i * 3072 + k] == ex[k], "sample %d value %d: %g, directly %g", (int)i, k, x[i * 3072 + k], ex[k]);
    NN_CHECK(y[i] == ds->train.label[i], "label of sample %d", (int)i);
    flips += flip;
    offsets += !seen[oy][ox]++;
  }
  NN_CHECK(flips > 0 && flips < ds->train.n && offsets > 10, "draws cover too little: %d flips, %d offsets", flips,
           offsets);
  PetscCall(PetscFree2(x, y));
  PetscCall(dataset_destroy(&ds));
  PetscFunctionReturn(0);
}

static PetscErrorCode augmentation_independent_of_who_assembles(void)
{
  char     dir[PETSC_MAX_PATH_LEN];
  Dataset  ds;
  PetscInt nb = 40, idx[40], d = 3072, half = 17;
  double  *x1, *x2, y1[40], y2[40];
  NnRngKey key = nn_rng_key(3, NN_STREAM_AUGMENT, 9);
  PetscFunctionBeginUser;
  PetscCall(write_cifar_dir("cifar_who", 20, dir, sizeof dir));
  PetscCall(open_dataset(dir, "-data_format cifar10 -data_positive_class 2", &ds));
  for (PetscInt b = 0; b < nb; b++) idx[b] = (PetscInt)((7 * b + 3) % ds->train.n); /* repeats included */
  PetscCall(PetscMalloc2(nb * d, &x1, nb * d, &x2));
  const NnSamples *train;
  PetscCall(dataset_get_split(ds, NN_SPLIT_TRAIN, &train));
  PetscCall(dataset_fill_batch(ds, train, nb, idx, PETSC_TRUE, key, x1, y1));
  PetscCall(dataset_fill_batch(ds, train, half, idx, PETSC_TRUE, key, x2, y2));
  PetscCall(dataset_fill_batch(ds, train, nb - half, idx + half, PETSC_TRUE, key, x2 + half * d, y2 + half));
  NN_CHECK(!memcmp(x1, x2, sizeof(double) * nb * d) && !memcmp(y1, y2, sizeof y1), "halves differ from the whole");
  PetscCall(check_same_on_all_ranks(hash_bytes(0, x1, sizeof(double) * nb * d), "the augmented batch"));
  PetscCall(PetscFree2(x1, x2));
  PetscCall(dataset_destroy(&ds));
  PetscFunctionReturn(0);
}

/* ----------------------------------------------------------- synthetic -- */

static PetscErrorCode synthetic_mixture_is_balanced_and_separated(void)
{
  Dataset  ds;
  PetscInt d = 16, npos = 0, correct = 0;
  double   mean[2][16] = {{0}}, u[16], sep = 6.0, along = 0, off = 0;
  PetscFunctionBeginUser;
  PetscCall(open_dataset(NULL,
                         "-data_format mixture -synth_train 400 -synth_val 100 -synth_shape 1,4,4 "
                         "-synth_separation 6 -synth_noise 0.5 -data_seed 5",
                         &ds));
  NN_CHECK(ds->train.n == 400 && ds->val.n == 100 && ds->c * ds->h * ds->w == d, "sizes");
  PetscCall(synth_mixture_direction(5, d, u));
  for (PetscInt i = 0; i < ds->train.n; i++) {
    const double *x    = ds->train.values + i * d;
    double        proj = 0;
    npos += ds->train.label[i] > 0;
    for (PetscInt j = 0; j < d; j++) mean[ds->train.label[i] > 0][j] += x[j] / 200.0;
    for (PetscInt j = 0; j < d; j++) proj += x[j] * u[j];
    correct += (proj > 0) == (ds->train.label[i] > 0);
  }
  NN_CHECK(npos == 200, "%d positives of 400", (int)npos);
  for (PetscInt j = 0; j < d; j++) {
    double diff = mean[1][j] - mean[0][j]; /* should be separation u */
    along += diff * u[j];
    off += (diff - sep * u[j]) * (diff - sep * u[j]);
  }
  /* mean difference has noise 0.5 sqrt(2/200) = 0.05 per coordinate */
  NN_CHECK(fabs(along - sep) < 0.3 && sqrt(off) < 0.5, "class means differ by %g along u, %g off", along, sqrt(off));
  NN_CHECK(correct == 400, "the direction u separates only %d of 400", (int)correct); /* margin 3 = 6 sigma */
  PetscCall(check_same_on_all_ranks(hash_bytes(0, ds->train.values, sizeof(double) * 400 * d), "the mixture"));
  NN_CHECK(ds->mean[0] == 0 && ds->stdev[0] == 1, "synthetic data are not standardised by default");
  PetscCall(dataset_destroy(&ds));
  PetscFunctionReturn(0);
}

static PetscErrorCode teacher_labels_are_sign_of_teacher(void)
{
  Dataset  ds;
  PetscInt d = 12, width = 8, npos = 0;
  double   W[8 * 12], a[8], wsq    = 0;
  PetscFunctionBeginUser;
  PetscCall(open_dataset(NULL,
                         "-data_format teacher -synth_train 300 -synth_val 50 -synth_shape 3,2,2 "
                         "-synth_teacher_width 8 -data_seed 2",
                         &ds));
  PetscCall(synth_teacher_weights(2, d, width, W, a));
  for (PetscInt i = 0; i < ds->train.n; i++) {
    const double *x   = ds->train.values + i * d;
    double        out = 0;
    for (PetscInt k = 0; k < width; k++) {
      double z = 0;
      for (PetscInt j = 0; j < d; j++) z += W[k * d + j] * x[j];
      out += a[k] * fmax(z, 0.0);
    }
    NN_CHECK(ds->train.label[i] == (out >= 0 ? 1.0 : -1.0), "sample %d: label %g, teacher output %g", (int)i,
             ds->train.label[i], out);
    npos += out >= 0;
  }
  NN_CHECK(npos > 0 && npos < ds->train.n, "one class only (%d positives)", (int)npos);
  for (PetscInt k = 0; k < d * width; k++) wsq += W[k] * W[k];
  NN_CHECK(fabs(wsq / (d * width) * d - 1) < 0.35, "W entries have variance %g, expected 1/%d", wsq / (d * width),
           (int)d);
  PetscCall(check_same_on_all_ranks(hash_bytes(0, ds->train.label, sizeof(double) * ds->train.n), "teacher labels"));
  PetscCall(dataset_destroy(&ds));
  PetscFunctionReturn(0);
}

/* -------------------------------------------------------- Fashion-MNIST -- */

static PetscErrorCode fashion_mnist_default_loads_12000_train_2000_val(void)
{
  const char *dir = "/usr/share/datasets/fashion-mnist";
  PetscBool   there;
  Dataset     ds;
  double      t0;
  PetscFunctionBeginUser;
  PetscCall(PetscTestDirectory(dir, 'r', &there));
  if (!there) {
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "skip: %s is not installed (package dataset-fashion-mnist)\n", dir));
    PetscFunctionReturn(0);
  }
  t0 = nn_wtime();
  PetscCall(open_dataset(NULL, NULL, &ds));
  t0 = nn_wtime() - t0;
  PetscCall(dataset_view(ds, PETSC_VIEWER_STDOUT_WORLD));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  loaded in %.3f s; mean %.6f std %.6f\n", t0, ds->mean[0], ds->stdev[0]));
  NN_CHECK(ds->train.n == 12000 && ds->val.n == 2000, "sizes %d, %d", (int)ds->train.n, (int)ds->val.n);
  const NnSamples *train, *val;
  PetscCall(dataset_get_split(ds, NN_SPLIT_TRAIN, &train));
  PetscCall(dataset_get_split(ds, NN_SPLIT_VAL, &val));
  NN_CHECK(count_pos(train) == 6000 && count_pos(val) == 1000, "positives");
  NN_CHECK(ds->c == 1 && ds->h == 28 && ds->w == 28 && ds->normalize && !ds->augment, "shape or defaults");
  PetscCall(dataset_destroy(&ds));
  PetscFunctionReturn(0);
}

NN_TEST_MAIN(NN_TEST_CASE(idx_reads_raw_and_gzip_identically), NN_TEST_CASE(idx_rejects_wrong_magic),
             NN_TEST_CASE(idx_rejects_truncated_file_without_huge_allocation),
             NN_TEST_CASE(idx_rejects_corrupt_gzip_stream), NN_TEST_CASE(idx_rejects_label_image_count_mismatch),
             NN_TEST_CASE(idx_rejects_missing_file), NN_TEST_CASE(dataset_reads_idx_with_and_without_gz_suffix),
             NN_TEST_CASE(cifar_reads_records_in_chw_order), NN_TEST_CASE(cifar_rejects_partial_record),
             NN_TEST_CASE(cifar_rejects_label_out_of_range), NN_TEST_CASE(dataset_rejects_positive_class_out_of_range),
             NN_TEST_CASE(dataset_rejects_split_without_positive_class),
             NN_TEST_CASE(relabel_is_balanced_and_keeps_all_positives), NN_TEST_CASE(relabel_same_on_every_rank),
             NN_TEST_CASE(size_caps_keep_splits_balanced),
             NN_TEST_CASE(classes_all_keeps_every_sample_with_its_class_as_label),
             NN_TEST_CASE(classes_all_applies_to_image_readers_only),
             NN_TEST_CASE(standardisation_gives_zero_mean_unit_variance_per_channel),
             NN_TEST_CASE(augmentation_crop_and_flip_match_a_direct_computation),
             NN_TEST_CASE(augmentation_independent_of_who_assembles),
             NN_TEST_CASE(synthetic_mixture_is_balanced_and_separated),
             NN_TEST_CASE(teacher_labels_are_sign_of_teacher),
             NN_TEST_CASE(fashion_mnist_default_loads_12000_train_2000_val))
