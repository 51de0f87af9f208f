/* Tests of -data_format h5: the good files read as written (float32 and
 * float64, rank 2 and rank 4, with and without /val), the statistics of
 * -data_normalize against numpy's, the caps, the settings and the label
 * range; and every malformed file giving exactly its one-line message.
 *
 * The files are written by tests/h5data_fixtures.py (the CTest fixture
 * h5data) into NNCAS_TEST_BINARY_DIR/h5data; their values are
 * value(i, k) below, as the script computes them. */
#include "testlib.h"

#include "nncas/dataset.h"
#include "data/datasetimpl.h" /* white-box: the splits */

#include <string.h>

#define FIXTURES NNCAS_TEST_BINARY_DIR "/h5data"

/* Sample i's k-th value, as h5data_fixtures.py's value(i, k). */
static double value(PetscInt i, PetscInt k)
{
  return (double)((i * 31 + k * 17) % 101) / 7.0 - 3.0 + 0.001 * (double)i;
}

static void fixture(const char *name, char *path, size_t len) { snprintf(path, len, "%s/%s", FIXTURES, name); }

/* Clears the data options the tests set. */
static PetscErrorCode clear_options(void)
{
  static const char *const names[] = {"-data_format",    "-data_file",     "-data_normalize", "-data_classes",
                                      "-data_train_size", "-data_val_size", "-data_augment"};
  PetscFunctionBeginUser;
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) PetscCall(PetscOptionsClearValue(NULL, names[k]));
  PetscFunctionReturn(0);
}

static PetscInt count_positives(const NnSamples *s)
{
  PetscInt n = 0;
  for (PetscInt i = 0; i < s->n; i++) n += s->label[i] > 0;
  return n;
}

/* A data set of the fixture `name` set up with the options (then cleared). */
static PetscErrorCode open_h5(const char *name, const char *opts, Dataset *ds, PetscErrorCode *ierr)
{
  char path[PETSC_MAX_PATH_LEN];
  PetscFunctionBeginUser;
  fixture(name, path, sizeof path);
  PetscCall(PetscOptionsSetValue(NULL, "-data_format", "h5"));
  PetscCall(PetscOptionsSetValue(NULL, "-data_file", path));
  if (opts) PetscCall(PetscOptionsInsertString(NULL, opts));
  PetscCall(dataset_create(PETSC_COMM_WORLD, ds));
  PetscCall(dataset_set_from_options(*ds));
  *ierr = dataset_setup(*ds);
  PetscCall(clear_options());
  PetscFunctionReturn(0);
}

static PetscErrorCode open_h5_ok(const char *name, const char *opts, Dataset *ds)
{
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(open_h5(name, opts, ds, &ierr));
  NN_CHECK(!ierr, "%s with %s: %s", name, opts ? opts : "no options", nn_error_last());
  PetscFunctionReturn(0);
}

/* Split s holds value(first + i, k) (rounded to float32 if single) and source index i. */
static PetscErrorCode check_values(const NnSamples *s, PetscInt d, PetscInt first, PetscBool single, const char *what)
{
  PetscFunctionBeginUser;
  NN_CHECK(s->values && !s->pixels, "%s: real values expected", what);
  for (PetscInt i = 0; i < s->n; i++) {
    NN_CHECK(s->source_index[i] == i, "%s: source index %d of sample %d", what, (int)s->source_index[i], (int)i);
    for (PetscInt k = 0; k < d; k++) {
      double want = single ? (double)(float)value(first + i, k) : value(first + i, k);
      NN_CHECK(s->values[i * d + k] == want, "%s: sample %d value %d is %.17g, written %.17g", what, (int)i, (int)k,
               s->values[i * d + k], want);
    }
  }
  PetscFunctionReturn(0);
}

/* x <- the split in order through dataset_fill_batch. */
static PetscErrorCode fill_all(Dataset ds, NnSplit which, double **x, double **y)
{
  const NnSamples *s;
  PetscInt        *idx;
  PetscFunctionBeginUser;
  PetscCall(dataset_get_split(ds, which, &s));
  PetscCall(PetscMalloc1(s->n, &idx));
  PetscCall(PetscMalloc2((size_t)s->n * ds->c * ds->h * ds->w, x, s->n, y));
  for (PetscInt i = 0; i < s->n; i++) idx[i] = i;
  PetscCall(dataset_fill_batch(ds, s, s->n, idx, PETSC_FALSE, 0, *x, *y));
  PetscCall(PetscFree(idx));
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------- good files -- */

static PetscErrorCode h5_float32_rank4_with_val_reads_as_written(void)
{
  Dataset   ds;
  double    lo, hi, *x, *y;
  PetscBool pm;
  PetscFunctionBeginUser;
  PetscCall(open_h5_ok("good_f32_rank4.h5", NULL, &ds));
  NN_CHECK(ds->c == 2 && ds->h == 3 && ds->w == 5, "shape %dx%dx%d", (int)ds->c, (int)ds->h, (int)ds->w);
  NN_CHECK(ds->train.n == 40 && ds->val.n == 12, "sizes %d, %d", (int)ds->train.n, (int)ds->val.n);
  NN_CHECK(!ds->normalize && !ds->augment, "h5 data are used as given by default");
  const NnSamples *train, *val;
  PetscCall(dataset_get_split(ds, NN_SPLIT_TRAIN, &train));
  PetscCall(dataset_get_split(ds, NN_SPLIT_VAL, &val));
  PetscCall(check_values(train, 30, 0, PETSC_TRUE, "train"));
  PetscCall(check_values(val, 30, 40, PETSC_TRUE, "val"));
  for (PetscInt i = 0; i < 40; i++) NN_CHECK(ds->train.label[i] == (double)(i % 4), "train label %d", (int)i);
  for (PetscInt i = 0; i < 12; i++) NN_CHECK(ds->val.label[i] == (double)((i + 1) % 4), "val label %d", (int)i);
  PetscCall(dataset_get_label_range(ds, NN_SPLIT_TRAIN, &lo, &hi, &pm));
  NN_CHECK(lo == 0 && hi == 3 && !pm, "train label range %g..%g, +-1 %d", lo, hi, (int)pm);
  PetscCall(fill_all(ds, NN_SPLIT_VAL, &x, &y));
  for (PetscInt k = 0; k < 12 * 30; k++) NN_CHECK(x[k] == ds->val.values[k], "batch value %d is not the raw one", (int)k);
  for (PetscInt i = 0; i < 12; i++) NN_CHECK(y[i] == ds->val.label[i], "batch label %d", (int)i);
  PetscCall(PetscFree2(x, y));
  PetscCall(dataset_view(ds, PETSC_VIEWER_STDOUT_WORLD));
  PetscCall(dataset_destroy(&ds));
  PetscFunctionReturn(0);
}

static PetscErrorCode h5_float64_rank2_without_val_is_features_by_1_by_1(void)
{
  Dataset   ds;
  double    lo, hi;
  PetscBool pm;
  PetscFunctionBeginUser;
  PetscCall(open_h5_ok("good_f64_rank2.h5", NULL, &ds));
  NN_CHECK(ds->c == 7 && ds->h == 1 && ds->w == 1, "shape %dx%dx%d", (int)ds->c, (int)ds->h, (int)ds->w);
  NN_CHECK(ds->train.n == 30 && ds->val.n == 0, "sizes %d, %d", (int)ds->train.n, (int)ds->val.n);
  const NnSamples *train;
  PetscCall(dataset_get_split(ds, NN_SPLIT_TRAIN, &train));
  PetscCall(check_values(train, 7, 0, PETSC_FALSE, "train"));
  for (PetscInt i = 0; i < 30; i++) NN_CHECK(ds->train.label[i] == (i % 3 ? -1.0 : 1.0), "label %d", (int)i);
  PetscCall(dataset_get_label_range(ds, NN_SPLIT_TRAIN, &lo, &hi, &pm));
  NN_CHECK(lo == -1 && hi == 1 && pm, "train label range %g..%g, +-1 %d", lo, hi, (int)pm);
  PetscCall(dataset_get_label_range(ds, NN_SPLIT_VAL, &lo, &hi, &pm));
  NN_CHECK(lo == 0 && hi == 0, "empty validation split's range %g..%g", lo, hi);
  PetscCall(dataset_view(ds, PETSC_VIEWER_STDOUT_WORLD));
  PetscCall(dataset_destroy(&ds));
  PetscFunctionReturn(0);
}

/* mean[c], std[c] <- the fixture's NAME.stats, written by numpy. */
static PetscErrorCode read_numpy_stats(const char *name, PetscInt c, double *mean, double *std)
{
  char  path[PETSC_MAX_PATH_LEN];
  FILE *f;
  int   got = 0;
  PetscFunctionBeginUser;
  fixture(name, path, sizeof path);
  f = fopen(path, "r");
  NN_CHECK(f, "cannot open %s", path);
  for (PetscInt k = 0; k < c; k++) got += fscanf(f, "%lf %lf", &mean[k], &std[k]);
  fclose(f);
  NN_CHECK(got == 2 * c, "%s: %d numbers, expected %d", path, got, (int)(2 * c));
  PetscFunctionReturn(0);
}

/* With -data_normalize: the statistics are numpy's, and the batches standardised. */
static PetscErrorCode check_normalized(const char *name, const char *stats)
{
  Dataset ds;
  double  mean[8], std[8], *x, *y;
  PetscFunctionBeginUser;
  PetscCall(open_h5_ok(name, "-data_normalize", &ds));
  PetscCall(read_numpy_stats(stats, ds->c, mean, std));
  for (PetscInt c = 0; c < ds->c; c++)
    NN_CHECK(nn_relerr(ds->mean[c], mean[c], 1e-300) < 1e-13 && nn_relerr(ds->stdev[c], std[c], 1e-300) < 1e-13,
             "%s channel %d: mean %.17g std %.17g, numpy %.17g %.17g", name, (int)c, ds->mean[c], ds->stdev[c],
             mean[c], std[c]);
  PetscCall(fill_all(ds, NN_SPLIT_TRAIN, &x, &y));
  for (PetscInt c = 0, hw = ds->h * ds->w; c < ds->c; c++) {
    double sum = 0, sq = 0, cnt = (double)ds->train.n * hw;
    for (PetscInt i = 0; i < ds->train.n; i++)
      for (PetscInt k = 0; k < hw; k++) sum += x[(i * ds->c + c) * hw + k];
    for (PetscInt i = 0; i < ds->train.n; i++)
      for (PetscInt k = 0; k < hw; k++) sq += (x[(i * ds->c + c) * hw + k] - sum / cnt) * (x[(i * ds->c + c) * hw + k] - sum / cnt);
    NN_CHECK(fabs(sum / cnt) < 1e-12 && fabs(sq / cnt - 1) < 1e-12, "%s channel %d: mean %g variance %g", name,
             (int)c, sum / cnt, sq / cnt);
  }
  PetscCall(PetscFree2(x, y));
  PetscCall(dataset_destroy(&ds));
  PetscFunctionReturn(0);
}

static PetscErrorCode h5_normalize_uses_numpy_statistics_of_training_split(void)
{
  PetscFunctionBeginUser;
  PetscCall(check_normalized("good_f32_rank4.h5", "good_f32_rank4.stats"));
  PetscCall(check_normalized("good_f64_rank2.h5", "good_f64_rank2.stats"));
  PetscCall(check_normalized("good_f64_rank4_pm.h5", "good_f64_rank4_pm.stats"));
  PetscFunctionReturn(0);
}

static PetscErrorCode h5_caps_are_balanced_for_plus_minus_one_and_drawn_from_all_else(void)
{
  Dataset ds, all;
  PetscFunctionBeginUser;
  PetscCall(open_h5_ok("good_f64_rank4_pm.h5", "-data_train_size 10 -data_val_size 4", &ds));
  NN_CHECK(ds->train.n == 10 && ds->val.n == 4, "capped sizes %d, %d", (int)ds->train.n, (int)ds->val.n);
  const NnSamples *train, *val;
  PetscCall(dataset_get_split(ds, NN_SPLIT_TRAIN, &train));
  PetscCall(dataset_get_split(ds, NN_SPLIT_VAL, &val));
  NN_CHECK(count_positives(train) == 5 && count_positives(val) == 2, "not 5 positives of 10");
  PetscCall(dataset_destroy(&ds));
  PetscCall(open_h5_ok("good_f32_rank4.h5", NULL, &all));
  PetscCall(open_h5_ok("good_f32_rank4.h5", "-data_train_size 11", &ds));
  NN_CHECK(ds->train.n == 11 && ds->val.n == 12, "capped sizes %d, %d", (int)ds->train.n, (int)ds->val.n);
  for (PetscInt k = 0; k < ds->train.n; k++) {
    PetscInt src = ds->train.source_index[k];
    NN_CHECK(k == 0 || src > ds->train.source_index[k - 1], "capped split not in source order");
    NN_CHECK(ds->train.label[k] == all->train.label[src], "label of source sample %d", (int)src);
    NN_CHECK(!memcmp(ds->train.values + 30 * k, all->train.values + 30 * src, 30 * sizeof(double)),
             "values of source sample %d", (int)src);
  }
  PetscCall(dataset_destroy(&ds));
  PetscCall(dataset_destroy(&all));
  PetscFunctionReturn(0);
}

/* The value of setting `name` in s, or NULL. */
static const char *setting(const NnSettings *s, const char *name)
{
  for (int i = 0; i < s->n; i++)
    if (!strcmp(s->item[i].name, name)) return s->item[i].value;
  return NULL;
}

static PetscErrorCode h5_settings_name_format_file_and_crc_of_samples(void)
{
  Dataset     a, b;
  NnSettings  sa = {0}, sb = {0};
  char        path[PETSC_MAX_PATH_LEN];
  const char *v;
  PetscFunctionBeginUser;
  PetscCall(open_h5_ok("good_f32_rank4.h5", NULL, &a));
  PetscCall(open_h5_ok("good_f64_rank4_pm.h5", NULL, &b));
  PetscCall(dataset_get_settings(a, &sa));
  PetscCall(dataset_get_settings(b, &sb));
  fixture("good_f32_rank4.h5", path, sizeof path);
  v = setting(&sa, "-data_format");
  NN_CHECK(v && !strcmp(v, "h5"), "-data_format setting %s", v ? v : "missing");
  v = setting(&sa, "-data_file");
  NN_CHECK(v && !strcmp(v, path), "-data_file setting %s", v ? v : "missing");
  NN_CHECK(!setting(&sa, "-data_classes") && !setting(&sa, "-data_positive_class"), "image settings on h5 data");
  v = setting(&sa, "training data");
  NN_CHECK(v && !strncmp(v, "40 samples, CRC-32 ", 19), "training data setting %s", v ? v : "missing");
  NN_CHECK(strcmp(v, setting(&sb, "training data")), "two files with the same CRC setting");
  PetscCall(dataset_destroy(&a));
  PetscCall(dataset_destroy(&b));
  PetscFunctionReturn(0);
}

/* ----------------------------------------------------- malformed files -- */

/* The setup of fixture `name` fails on every rank with exactly the message
 * "<path>: <tail>" (or, with prefix_only, a message beginning so). */
static PetscErrorCode expect_message(const char *name, const char *tail, PetscBool prefix_only)
{
  Dataset        ds;
  PetscErrorCode ierr;
  char           path[PETSC_MAX_PATH_LEN], want[2 * PETSC_MAX_PATH_LEN], got[1024];
  int            ok, all;
  PetscFunctionBeginUser;
  fixture(name, path, sizeof path);
  snprintf(want, sizeof want, "%s: %s", path, tail);
  PetscCall(open_h5(name, NULL, &ds, &ierr));
  PetscCall(PetscStrncpy(got, nn_error_last(), sizeof got));
  nn_error_clear();
  ok = ierr && (prefix_only ? !strncmp(got, want, strlen(want)) : !strcmp(got, want));
  ok = ok && ds->train.n == 0 && !ds->train.values && !ds->val.values; /* nothing left allocated */
  PetscCallMPI(MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_LAND, PETSC_COMM_WORLD));
  PetscCall(dataset_destroy(&ds));
  NN_CHECK(ok, "%s: %s\n  got:      \"%s\"\n  expected: \"%s\"%s", name, ierr ? "wrong message" : "no error", got,
           want, prefix_only ? "..." : "");
  NN_CHECK(all, "%s: the error was not the same on every rank", name);
  PetscFunctionReturn(0);
}

static PetscErrorCode h5_malformed_files_fail_with_one_line_naming_file_and_dataset(void)
{
  PetscFunctionBeginUser;
  PetscCall(expect_message("no_train.h5", "no group /train", PETSC_FALSE));
  PetscCall(expect_message("no_y.h5", "no dataset /train/y", PETSC_FALSE));
  PetscCall(expect_message("count.h5", "/train/y: 3 labels for 4 samples of /train/x", PETSC_FALSE));
  PetscCall(expect_message("nan.h5", "/train/x: sample 17 holds NaN or Inf", PETSC_FALSE));
  PetscCall(expect_message("nonint.h5", "/train/y: label 2.5 is not an integer", PETSC_FALSE));
  PetscCall(expect_message("rank3.h5", "/train/x: rank 3 (expected samples x features or samples x C x H x W)",
                           PETSC_FALSE));
  PetscCall(expect_message("empty.h5", "/train/x is empty", PETSC_FALSE));
  PetscCall(expect_message("shape.h5", "/val/x: per-sample shape 3x32x32 differs from /train/x's 1x28x28", PETSC_FALSE));
  PetscCall(expect_message("truncated.h5", "truncated or damaged HDF5 file (HDF5: truncated file", PETSC_TRUE));
  PetscCall(expect_message("text.h5", "not an HDF5 file", PETSC_FALSE));
  PetscCall(expect_message("missing.h5", "cannot open (No such file or directory)", PETSC_FALSE));
  PetscFunctionReturn(0);
}

static PetscErrorCode h5_needs_data_file_and_refuses_image_options(void)
{
  Dataset        ds;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsInsertString(NULL, "-data_format h5"));
  PetscCall(dataset_create(PETSC_COMM_WORLD, &ds));
  PetscCall(dataset_set_from_options(ds));
  ierr = dataset_setup(ds);
  PetscCall(clear_options());
  PetscCall(dataset_destroy(&ds));
  PetscCall(nn_expect_error(ierr, "h5 without -data_file", "-data_file FILE", NULL, NULL));
  PetscCall(open_h5("good_f64_rank2.h5", "-data_classes all", &ds, &ierr));
  PetscCall(dataset_destroy(&ds));
  PetscCall(nn_expect_error(ierr, "h5 with -data_classes all", "-data_classes applies to the image readers", NULL, NULL));
  PetscCall(open_h5("good_f64_rank2.h5", "-data_augment", &ds, &ierr));
  PetscCall(dataset_destroy(&ds));
  PetscCall(nn_expect_error(ierr, "h5 with -data_augment", "-data_augment applies to image data", NULL, NULL));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

NN_TEST_MAIN(NN_TEST_CASE(h5_float32_rank4_with_val_reads_as_written),
             NN_TEST_CASE(h5_float64_rank2_without_val_is_features_by_1_by_1),
             NN_TEST_CASE(h5_normalize_uses_numpy_statistics_of_training_split),
             NN_TEST_CASE(h5_caps_are_balanced_for_plus_minus_one_and_drawn_from_all_else),
             NN_TEST_CASE(h5_settings_name_format_file_and_crc_of_samples),
             NN_TEST_CASE(h5_malformed_files_fail_with_one_line_naming_file_and_dataset),
             NN_TEST_CASE(h5_needs_data_file_and_refuses_image_options))
