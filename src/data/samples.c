/* NnSamples: one split's samples, their allocation and counts. */
#include "data_impl.h"

const char *const nn_split_name[2] = {"training", "validation"};

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

PetscInt nn_samples_count_positives(const NnSamples *s)
{
  PetscInt npos = 0;
  for (PetscInt i = 0; i < s->n; i++) npos += s->label[i] > 0;
  return npos;
}

PetscBool nn_samples_plus_minus_one(const NnSamples *s)
{
  for (PetscInt i = 0; i < s->n; i++)
    if (s->label[i] != 1.0 && s->label[i] != -1.0) return PETSC_FALSE;
  return PETSC_TRUE;
}

unsigned long nn_samples_fingerprint(const NnSamples *s, PetscInt d)
{
  uLong crc = crc32(0L, Z_NULL, 0);
  if (s->pixels) crc = crc32_z(crc, s->pixels, (z_size_t)s->n * (z_size_t)d);
  if (s->values) crc = crc32_z(crc, (const Bytef *)s->values, (z_size_t)s->n * (z_size_t)d * sizeof(double));
  if (s->label) crc = crc32_z(crc, (const Bytef *)s->label, (z_size_t)s->n * sizeof(double));
  return crc;
}
