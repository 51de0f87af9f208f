/* libFuzzer target: the reader of -data_format h5 (h5data_read) on arbitrary
 * bytes, written to a scratch file per input (HDF5 reads files by name).
 * Properties: no crash, leak or undefined behaviour in nncas's code; on error
 * nothing is returned (both splits empty and unallocated, shape 0); on success
 * the shape is positive, the training split holds n > 0 samples of c*h*w
 * finite values with integer labels and source indices 0..n-1, and the
 * validation split likewise (possibly empty). An uncompressed dataset whose
 * header claims more bytes than the file holds must fail before they are
 * allocated (libFuzzer's -malloc_limit_mb catches a big allocation).
 *
 * Most of the parsing is libhdf5's own, which is not instrumented: crashes
 * inside libhdf5 are reported, not fixed here (tests/fuzz.sh runs this target
 * only when asked, as fuzz_checkpoint_bytes). Two of libhdf5 1.10's own
 * weaknesses on damaged files are let pass so the fuzzer gets on to nncas's
 * code: it leaks a few hundred bytes when it fails to decode an object header
 * ("bad version number for layout message"), so leaks allocated inside
 * libhdf5 are not reported (instead, after every input no HDF5 object may be
 * left open, H5Fget_obj_count, which is how a handle nncas forgot to close
 * would leak; nncas's own allocations are checked as usual); and it asks
 * malloc for whatever size a damaged header claims ("memory allocation failed
 * for on disk image buffer"), so malloc may return NULL to it
 * (allocator_may_return_null) instead of aborting. */
#include "fuzz_common.h"

#include "nncas/dataset.h"

#include <hdf5.h>
#include <math.h>

const char *const nn_fuzz_extra_suppressions = "leak:libhdf5\n";
const char *const nn_fuzz_extra_asan_options = ":allocator_may_return_null=1";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  nn_fuzz_init();
  return 0;
}

/* A split the reader returned: its invariants, and every byte touched. */
static void check_split(const NnSamples *s, size_t d, int may_be_empty)
{
  if (s->n < 0 || (!may_be_empty && s->n == 0)) nn_fuzz_fail("h5data_read: a split of no samples");
  if (s->n == 0) return;
  if (!s->values || !s->label || !s->source_index || s->pixels) nn_fuzz_fail("h5data_read: arrays missing");
  for (size_t k = 0; k < (size_t)s->n * d; k++)
    if (!isfinite(s->values[k])) nn_fuzz_fail("h5data_read: a value is NaN or Inf");
  for (PetscInt i = 0; i < s->n; i++) {
    if (!isfinite(s->label[i]) || s->label[i] != floor(s->label[i])) nn_fuzz_fail("h5data_read: a label is not an integer");
    if (s->source_index[i] != i) nn_fuzz_fail("h5data_read: source indices are not 0..n-1");
  }
}

static int split_is_empty(const NnSamples *s)
{
  return s->n == 0 && !s->values && !s->label && !s->source_index && !s->pixels;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *path  = nn_fuzz_write_file("data.h5", data, size);
  NnSamples   train = {0}, val = {0};
  PetscInt    c = -1, h = -1, w = -1;
  PetscErrorCode ierr  = h5data_read(PETSC_COMM_SELF, path, &c, &h, &w, &train, &val);
  if (H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL) != 0) nn_fuzz_fail("h5data_read left HDF5 objects open");
  if (ierr) {
    if (c || h || w || !split_is_empty(&train) || !split_is_empty(&val))
      nn_fuzz_fail("h5data_read failed but returned data");
    return 0;
  }
  if (c <= 0 || h <= 0 || w <= 0) nn_fuzz_fail("h5data_read: empty or negative shape");
  check_split(&train, (size_t)c * (size_t)h * (size_t)w, 0);
  check_split(&val, (size_t)c * (size_t)h * (size_t)w, 1);
  PetscFree(train.values);
  PetscFree(train.label);
  PetscFree(train.source_index);
  PetscFree(val.values);
  PetscFree(val.label);
  PetscFree(val.source_index);
  return 0;
}
