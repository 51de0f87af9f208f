/* libFuzzer target: checkpoint_read on a valid checkpoint whose bytes the
 * input overwrites. The input is a list of 4-byte patches (a 24-bit offset,
 * taken modulo the file size, and the byte to write there); left-over bytes
 * (size % 4) cut the file to (last byte + 1)/256 of its length. This mostly
 * exercises libhdf5's own parser: crashes inside libhdf5 are reported, not
 * fixed here (tests/fuzz.sh runs this target only when asked). Properties: no
 * crash, leak or undefined behaviour in nncas; what is accepted is a state a
 * run can continue from. */
#include "checkpoint_fixture.h"

#include <stdlib.h>

static NnCkptFixture fx;
static uint8_t      *work;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  nn_ckpt_fixture_init(&fx);
  work = malloc(fx.nbase);
  if (!work) nn_fuzz_fail("out of memory");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  size_t n = fx.nbase;
  memcpy(work, fx.base, n);
  for (size_t i = 0; i + 4 <= size; i += 4) work[(((size_t)data[i] << 16) | ((size_t)data[i + 1] << 8) | data[i + 2]) % n] = data[i + 3];
  if (size % 4) n = n * ((size_t)data[size - 1] + 1) / 256;
  if (!trainer_checkpoint_read(fx.t, nn_fuzz_write_file("ckpt.h5", work, n))) nn_ckpt_check_restored(&fx);
  return 0;
}
