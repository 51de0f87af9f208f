/* Synthetic binary tasks. Every value is a counter-based draw keyed by
 * (data seed, NN_STREAM_SYNTH, substream), so every rank generates the same
 * data, whatever the number of ranks.
 *
 * mixture: labels alternate +1, -1 (equal counts); x = y (separation/2) u + noise z,
 *          u a random unit vector, z ~ N(0, I).
 * teacher: x ~ N(0, I), y = sign(a . relu(W x)) for a random one-hidden-layer
 *          teacher, W (width, d) ~ N(0, 1/d), a (width) ~ N(0, 1/width). */
#include "data_impl.h"

#include <math.h>

/* Substreams of NN_STREAM_SYNTH; split s (0 train, 1 validation) draws its
 * samples from SYNTH_SAMPLES + s. */
enum { SYNTH_DIRECTION = 0, SYNTH_TEACHER_W, SYNTH_TEACHER_A, SYNTH_SAMPLES };

static NnRngKey synth_key(PetscInt seed, uint64_t substream)
{
  return nn_rng_key((uint64_t)seed, NN_STREAM_SYNTH, substream);
}

/* x (d) <- sd z, z ~ N(0, I) the draws i*d .. i*d+d-1 of key: sample i of a split. */
static void synth_gaussian(NnRngKey key, PetscInt i, PetscInt d, double sd, double *x)
{
  for (PetscInt j = 0; j < d; j++) x[j] = sd * nn_rng_normal(key, (uint64_t)i * (uint64_t)d + (uint64_t)j);
}

/* ds->(c, h, w) <- the -synth_shape; *d <- c h w. */
static void synth_set_shape(Dataset ds, PetscInt *d)
{
  ds->c = ds->synth_c;
  ds->h = ds->synth_h;
  ds->w = ds->synth_w;
  *d    = ds->c * ds->h * ds->w;
}

PetscErrorCode synth_mixture_direction(PetscInt seed, PetscInt d, double *u)
{
  double norm = 0;
  PetscFunctionBeginUser;
  synth_gaussian(synth_key(seed, SYNTH_DIRECTION), 0, d, 1.0, u);
  for (PetscInt j = 0; j < d; j++) norm += u[j] * u[j];
  norm = sqrt(norm);
  PetscCheck(norm > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "mixture direction of norm 0");
  for (PetscInt j = 0; j < d; j++) u[j] /= norm; /* u <- u / |u| */
  PetscFunctionReturn(0);
}

/* Split s of the mixture: sample i has y = +1 for even i, -1 for odd i, and
 * x = y (separation/2) u + noise z. */
static PetscErrorCode mixture_split(Dataset ds, PetscInt split, PetscInt d, const double *u, NnSamples *s)
{
  PetscInt n   = split ? ds->synth_n_val : ds->synth_n_train;
  NnRngKey key = synth_key(ds->seed, SYNTH_SAMPLES + (uint64_t)split);
  PetscFunctionBeginUser;
  PetscCall(nn_samples_alloc_values(s, n, d));
  for (PetscInt i = 0; i < n; i++) {
    double *x = s->values + (size_t)i * d, y = i % 2 ? -1.0 : 1.0;
    synth_gaussian(key, i, d, ds->synth_noise, x);
    for (PetscInt j = 0; j < d; j++) x[j] += y * 0.5 * ds->synth_separation * u[j];
    s->label[i] = y;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode synth_mixture_generate(Dataset ds)
{
  PetscInt       d;
  double        *u;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  synth_set_shape(ds, &d);
  PetscCall(PetscMalloc1(d, &u));
  ierr = synth_mixture_direction(ds->seed, d, u);
  if (!ierr) ierr = mixture_split(ds, 0, d, u, &ds->train);
  if (!ierr) ierr = mixture_split(ds, 1, d, u, &ds->val);
  PetscCall(PetscFree(u));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode synth_teacher_weights(PetscInt seed, PetscInt d, PetscInt width, double *W, double *a)
{
  PetscFunctionBeginUser;
  PetscCheck(d > 0 && width > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "teacher of input size %" PetscInt_FMT " and width %" PetscInt_FMT, d, width);
  synth_gaussian(synth_key(seed, SYNTH_TEACHER_W), 0, d * width, 1.0 / sqrt((double)d), W);
  synth_gaussian(synth_key(seed, SYNTH_TEACHER_A), 0, width, 1.0 / sqrt((double)width), a);
  PetscFunctionReturn(0);
}

/* sign(a . relu(W x)) for W (width, d), +1 on a tie. */
static double teacher_label(PetscInt d, PetscInt width, const double *W, const double *a, const double *x)
{
  double out = 0;
  for (PetscInt k = 0; k < width; k++) {
    double z = 0;
    for (PetscInt j = 0; j < d; j++) z += W[(size_t)k * d + j] * x[j];
    out += a[k] * (z > 0 ? z : 0); /* a_k relu(w_k . x) */
  }
  return out >= 0 ? 1.0 : -1.0;
}

/* Split s of the teacher task: x ~ N(0, I), y = teacher_label(x). */
static PetscErrorCode teacher_split(Dataset ds, PetscInt split, PetscInt d, const double *W, const double *a,
                                    NnSamples *s)
{
  PetscInt n   = split ? ds->synth_n_val : ds->synth_n_train;
  NnRngKey key = synth_key(ds->seed, SYNTH_SAMPLES + (uint64_t)split);
  PetscFunctionBeginUser;
  PetscCall(nn_samples_alloc_values(s, n, d));
  for (PetscInt i = 0; i < n; i++) {
    double *x = s->values + (size_t)i * d;
    synth_gaussian(key, i, d, 1.0, x);
    s->label[i] = teacher_label(d, ds->synth_teacher_width, W, a, x);
  }
  PetscFunctionReturn(0);
}

/* Fails if the teacher gives every training sample the same label. */
static PetscErrorCode teacher_check_both_classes(Dataset ds)
{
  PetscInt npos = 0;
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < ds->train.n; i++) npos += ds->train.label[i] > 0;
  PetscCheck(npos > 0 && npos < ds->train.n, ds->comm, PETSC_ERR_ARG_WRONG,
             "the teacher labels all %" PetscInt_FMT
             " training samples %s: no binary task; try another -data_seed or a "
             "larger -synth_teacher_width",
             ds->train.n, npos ? "+1" : "-1");
  PetscFunctionReturn(0);
}

PetscErrorCode synth_teacher_generate(Dataset ds)
{
  PetscInt       d, width = ds->synth_teacher_width;
  double        *W, *a;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  synth_set_shape(ds, &d);
  PetscCall(PetscMalloc2((size_t)width * d, &W, width, &a));
  ierr = synth_teacher_weights(ds->seed, d, width, W, a);
  if (!ierr) ierr = teacher_split(ds, 0, d, W, a, &ds->train);
  if (!ierr) ierr = teacher_split(ds, 1, d, W, a, &ds->val);
  PetscCall(PetscFree2(W, a));
  PetscCall(ierr);
  PetscCall(teacher_check_both_classes(ds));
  PetscFunctionReturn(0);
}
