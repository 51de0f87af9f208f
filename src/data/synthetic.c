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

void synth_defaults(NnSynthSettings *st)
{
  st->n_train       = 1000;
  st->n_val         = 1000;
  st->c             = 1;
  st->h             = 28;
  st->w             = 28;
  st->teacher_width = 32;
  st->separation    = 2.0;
  st->noise         = 1.0;
}

PetscErrorCode synth_options(PetscOptionItems *PetscOptionsObject, NnSynthSettings *st, PetscInt *nshape)
{
  PetscInt  shape[3] = {st->c, st->h, st->w};
  PetscBool set;
  char      help[96];
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsBoundedInt("-synth_train", "number of synthetic training samples", "dataset_set_from_options",
                                   st->n_train, &st->n_train, NULL, 0));
  PetscCall(PetscOptionsBoundedInt("-synth_val", "number of synthetic validation samples", "dataset_set_from_options",
                                   st->n_val, &st->n_val, NULL, 0));
  *nshape = 3;
  /* the whole default in the text: PETSc's help prints a list's first value only (core/options_record.c) */
  PetscCall(PetscSNPrintf(help, sizeof help, "shape c,h,w of a synthetic sample (c <= 3) [default: %d,%d,%d]", (int)shape[0], (int)shape[1],
                          (int)shape[2]));
  PetscCall(PetscOptionsIntArray("-synth_shape", help, "dataset_set_from_options", shape, nshape, &set));
  if (!set) *nshape = 3; /* PetscOptionsIntArray zeroes the count of an absent option */
  if (set && *nshape == 3) {
    st->c = shape[0];
    st->h = shape[1];
    st->w = shape[2];
  }
  PetscCall(
      PetscOptionsReal("-synth_separation",
                       "mixture: distance between the class means, which are +-(separation/2) u for a random unit u",
                       "dataset_set_from_options", st->separation, &st->separation, NULL));
  PetscCall(PetscOptionsReal("-synth_noise", "mixture: standard deviation of the isotropic Gaussian noise",
                             "dataset_set_from_options", st->noise, &st->noise, NULL));
  PetscCall(PetscOptionsBoundedInt(
      "-synth_teacher_width", "teacher: hidden units of the teacher network, label = sign(a . relu(W x))",
      "dataset_set_from_options", st->teacher_width, &st->teacher_width, NULL, 1));
  PetscFunctionReturn(0);
}

PetscErrorCode synth_check(MPI_Comm comm, PetscBool mixture, const NnSynthSettings *st)
{
  PetscFunctionBeginUser;
  PetscCheck(
      st->c >= 1 && st->c <= 3 && st->h >= 1 && st->w >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE,
      "-synth_shape %" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT ": need 1 <= c <= 3 channels and h, w >= 1",
      st->c, st->h, st->w);
  PetscCheck(st->n_train >= 2 && st->n_val >= 2, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-synth_train %" PetscInt_FMT " and -synth_val %" PetscInt_FMT " must be at least 2", st->n_train,
             st->n_val);
  PetscCheck(!mixture || (st->n_train % 2 == 0 && st->n_val % 2 == 0), comm, PETSC_ERR_ARG_WRONG,
             "-synth_train %" PetscInt_FMT " and -synth_val %" PetscInt_FMT
             " must be even: the mixture has equal class counts",
             st->n_train, st->n_val);
  PetscCheck(st->noise >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-synth_noise %g must be >= 0", (double)st->noise);
  PetscCheck(st->teacher_width >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-synth_teacher_width must be >= 1");
  PetscFunctionReturn(0);
}

/* The counter-based stream of the synthetic data's substream (NN_SYNTH_*). */
static NnRngKey synth_key(PetscInt seed, uint64_t substream)
{
  return nn_rng_key((uint64_t)seed, NN_STREAM_SYNTH, substream);
}

/* x (d) <- sd z, z ~ N(0, I) the draws i*d .. i*d+d-1 of key: sample i of a split. */
static void synth_gaussian(NnRngKey key, PetscInt i, PetscInt d, double sd, double *x)
{
  for (PetscInt j = 0; j < d; j++) x[j] = sd * nn_rng_normal(key, (uint64_t)i * (uint64_t)d + (uint64_t)j);
}

PetscErrorCode synth_mixture_direction(PetscInt seed, PetscInt d, double *u)
{
  double norm = 0;
  PetscFunctionBeginUser;
  synth_gaussian(synth_key(seed, NN_SYNTH_DIRECTION), 0, d, 1.0, u);
  for (PetscInt j = 0; j < d; j++) norm += u[j] * u[j];
  norm = sqrt(norm);
  PetscCheck(norm > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "mixture direction of norm 0");
  for (PetscInt j = 0; j < d; j++) u[j] /= norm; /* u <- u / |u| */
  PetscFunctionReturn(0);
}

/* Split s of the mixture: sample i has y = +1 for even i, -1 for odd i, and
 * x = y (separation/2) u + noise z. */
static PetscErrorCode mixture_split(const NnSynthSettings *st, PetscInt seed, PetscInt split, PetscInt d,
                                    const double *u, NnSamples *s)
{
  PetscInt n   = split ? st->n_val : st->n_train;
  NnRngKey key = synth_key(seed, NN_SYNTH_SAMPLES + (uint64_t)split);
  PetscFunctionBeginUser;
  PetscCall(nn_samples_alloc_values(s, n, d));
  for (PetscInt i = 0; i < n; i++) {
    double *x = s->values + (size_t)i * d, y = i % 2 ? -1.0 : 1.0;
    synth_gaussian(key, i, d, st->noise, x);
    for (PetscInt j = 0; j < d; j++) x[j] += y * 0.5 * st->separation * u[j];
    s->label[i] = y;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode synth_mixture_generate(const NnSynthSettings *st, PetscInt seed, NnSamples *train, NnSamples *val)
{
  const PetscInt d = st->c * st->h * st->w;
  double        *u;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(d, &u));
  ierr = synth_mixture_direction(seed, d, u);
  if (!ierr) ierr = mixture_split(st, seed, 0, d, u, train);
  if (!ierr) ierr = mixture_split(st, seed, 1, d, u, val);
  PetscCall(PetscFree(u));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode synth_teacher_weights(PetscInt seed, PetscInt d, PetscInt width, double *W, double *a)
{
  PetscFunctionBeginUser;
  PetscCheck(d > 0 && width > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "teacher of input size %" PetscInt_FMT " and width %" PetscInt_FMT, d, width);
  synth_gaussian(synth_key(seed, NN_SYNTH_TEACHER_W), 0, d * width, 1.0 / sqrt((double)d), W);
  synth_gaussian(synth_key(seed, NN_SYNTH_TEACHER_A), 0, width, 1.0 / sqrt((double)width), a);
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
static PetscErrorCode teacher_split(const NnSynthSettings *st, PetscInt seed, PetscInt split, PetscInt d,
                                    const double *W, const double *a, NnSamples *s)
{
  PetscInt n   = split ? st->n_val : st->n_train;
  NnRngKey key = synth_key(seed, NN_SYNTH_SAMPLES + (uint64_t)split);
  PetscFunctionBeginUser;
  PetscCall(nn_samples_alloc_values(s, n, d));
  for (PetscInt i = 0; i < n; i++) {
    double *x = s->values + (size_t)i * d;
    synth_gaussian(key, i, d, 1.0, x);
    s->label[i] = teacher_label(d, st->teacher_width, W, a, x);
  }
  PetscFunctionReturn(0);
}

/* Fails if the teacher gives every training sample the same label. */
static PetscErrorCode teacher_check_both_classes(MPI_Comm comm, const NnSamples *train)
{
  PetscInt npos = nn_samples_count_positives(train);
  PetscFunctionBeginUser;
  PetscCheck(npos > 0 && npos < train->n, comm, PETSC_ERR_ARG_WRONG,
             "the teacher labels all %" PetscInt_FMT
             " training samples %s: no binary task; try another -data_seed or a "
             "larger -synth_teacher_width",
             train->n, npos ? "+1" : "-1");
  PetscFunctionReturn(0);
}

PetscErrorCode synth_teacher_generate(MPI_Comm comm, const NnSynthSettings *st, PetscInt seed, NnSamples *train,
                                      NnSamples *val)
{
  const PetscInt d = st->c * st->h * st->w, width = st->teacher_width;
  double        *W, *a;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2((size_t)width * d, &W, width, &a));
  ierr = synth_teacher_weights(seed, d, width, W, a);
  if (!ierr) ierr = teacher_split(st, seed, 0, d, W, a, train);
  if (!ierr) ierr = teacher_split(st, seed, 1, d, W, a, val);
  PetscCall(PetscFree2(W, a));
  PetscCall(ierr);
  PetscCall(teacher_check_both_classes(comm, train));
  PetscFunctionReturn(0);
}
