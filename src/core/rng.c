/* Counter-based random numbers: draw i of stream `key` is SplitMix64's output
 * for the counter value key + (i + 1) * golden, a pure function of (key, i).
 * Nothing is carried from one draw to the next, so results do not depend on
 * which rank draws or in which order, and a checkpoint only needs the seeds. */
#include "nncas/core.h"

#include <math.h>

static inline uint64_t mix64(uint64_t z)
{
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

NnRngKey nn_rng_key(uint64_t seed, uint64_t stream, uint64_t substream)
{
  uint64_t k = mix64(seed + 0x9E3779B97F4A7C15ULL);
  k          = mix64(k ^ (stream * 0xD1B54A32D192ED03ULL));
  return mix64(k ^ (substream * 0x8CB92BA72F3D8DD7ULL));
}

uint64_t nn_rng_bits(NnRngKey key, uint64_t i) { return mix64(key + (i + 1) * 0x9E3779B97F4A7C15ULL); }

double nn_rng_uniform(NnRngKey key, uint64_t i) { return (double)(nn_rng_bits(key, i) >> 11) * 0x1.0p-53; }

double nn_rng_normal(NnRngKey key, uint64_t i)
{
  double u1 = 1.0 - nn_rng_uniform(key, 2 * i); /* (0, 1]: log is finite */
  double u2 = nn_rng_uniform(key, 2 * i + 1);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void nn_rng_permutation(NnRngKey key, PetscInt n, PetscInt *perm)
{
  for (PetscInt i = 0; i < n; i++) perm[i] = i;
  for (PetscInt i = n - 1; i > 0; i--) {
    /* j uniform in [0, i] by Lemire's multiply-shift (bias < 2^-32 for i < 2^31) */
    PetscInt j = (PetscInt)(((nn_rng_bits(key, (uint64_t)i) >> 32) * (uint64_t)(i + 1)) >> 32);
    PetscInt t = perm[i];
    perm[i]    = perm[j];
    perm[j]    = t;
  }
}
