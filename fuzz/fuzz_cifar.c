/* libFuzzer target: the CIFAR-10 batch reader on arbitrary bytes (raw or
 * gzip), the file given twice so that the second batch is appended to the
 * first. Properties: no crash, leak or undefined behaviour; on success every
 * record was whole (for a raw file: its size is a positive multiple of 3073),
 * the n returned covers both copies and every label is 0..9; on error nothing
 * is returned. */
#include "fuzz_common.h"

#include "nncas/dataset.h"

#define RECORD 3073

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  nn_fuzz_init();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *path     = nn_fuzz_write_file("cifar", data, size);
  const char *paths[2] = {path, path};
  PetscInt    n        = -1;
  uint8_t    *pix = (uint8_t *)&n, *lab = (uint8_t *)&n;
  int         gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  if (cifar10_read(PETSC_COMM_SELF, 2, paths, &n, &pix, &lab)) {
    if (pix || lab || n) nn_fuzz_fail("cifar10_read failed but returned data");
    return 0;
  }
  if (n <= 0 || n % 2) nn_fuzz_fail("cifar10_read: the two copies do not give an even, positive count");
  if (!gz && (size % RECORD || (size_t)n != 2 * (size / RECORD))) nn_fuzz_fail("cifar10_read: partial record accepted");
  for (PetscInt i = 0; i < n; i++)
    if (lab[i] > 9) nn_fuzz_fail("cifar10_read: label out of range accepted");
  nn_fuzz_touch(pix, (size_t)n * 3072);
  PetscFree(pix);
  PetscFree(lab);
  return 0;
}
