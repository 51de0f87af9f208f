/* libFuzzer target: the IDX readers on arbitrary bytes (raw or gzip).
 * Properties: no crash, leak or undefined behaviour; on success the buffer
 * holds exactly the n*h*w (n) bytes announced, and for a raw file these are
 * all the bytes after the header (a short or long file is an error); on error
 * nothing is returned. A header claiming billions of images must fail fast,
 * without allocating them (libFuzzer's -malloc_limit_mb catches a big one). */
#include "fuzz_common.h"

#include "nncas/dataset.h"

static int is_gzip(const uint8_t *d, size_t n) { return n >= 2 && d[0] == 0x1f && d[1] == 0x8b; }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  nn_fuzz_init();
  return 0;
}

static void fuzz_images(const char *path, const uint8_t *data, size_t size)
{
  PetscInt n = -1, h = -1, w = -1;
  uint8_t *pix = (uint8_t *)&n;
  if (idx_read_images(PETSC_COMM_SELF, path, &n, &h, &w, &pix)) {
    if (pix || n || h || w) nn_fuzz_fail("idx_read_images failed but returned data");
    return;
  }
  if (n < 0 || h <= 0 || w <= 0) nn_fuzz_fail("idx_read_images: negative or empty shape");
  if (!is_gzip(data, size) && (size_t)n * (size_t)h * (size_t)w + 16 != size)
    nn_fuzz_fail("idx_read_images: the image bytes are not the rest of the file");
  nn_fuzz_touch(pix, (size_t)n * (size_t)h * (size_t)w);
  PetscFree(pix);
}

static void fuzz_labels(const char *path, const uint8_t *data, size_t size)
{
  PetscInt n = -1;
  uint8_t *lab = (uint8_t *)&n;
  if (idx_read_labels(PETSC_COMM_SELF, path, &n, &lab)) {
    if (lab || n) nn_fuzz_fail("idx_read_labels failed but returned data");
    return;
  }
  if (n < 0) nn_fuzz_fail("idx_read_labels: negative count");
  if (!is_gzip(data, size) && (size_t)n + 8 != size) nn_fuzz_fail("idx_read_labels: the labels are not the rest of the file");
  nn_fuzz_touch(lab, (size_t)n);
  PetscFree(lab);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *path = nn_fuzz_write_file("idx", data, size);
  fuzz_images(path, data, size); /* the magic decides which of the two can succeed */
  fuzz_labels(path, data, size);
  return 0;
}
