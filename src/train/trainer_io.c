/* The trainer's serializer: its checkpoint (the complete state of a training
 * run, restored bit for bit) and the /training group of the results file.
 *
 * checkpoint.h5 layout (docs/files.md):
 *   /                 attributes: kind "nncas checkpoint", provenance (rundir_provenance_write)
 *   /state            attributes: epoch, step, global_step, train_seed, batch,
 *                     acc_loss, acc_correct, acc_n, epoch_seconds
 *   /weights/Lxx_conv/weight  (OC, IC, KH, KW), /weights/Lxx_conv/bias (OC)
 *   /weights/Lxx_dense/weight (out, in),        /weights/Lxx_dense/bias (out)
 *   /momentum/...     the same tensors for the SGD momentum buffer
 *   /data/train_source_index  the training samples' indices in their files
 *   /data/epoch_order         the current epoch's sample order
 *   /history/<curve>          per-epoch curves so far
 *   /history_steps/<column>   per-step records so far (-train_record_steps)
 * Each rank writes (and reads) its owned slice of theta and of the momentum:
 * the tensors are written collectively as flat ranges.
 *
 * results.h5: /training/epoch, /training/<curve> per-epoch curves (units and
 * description as attributes of each dataset), /training/steps with
 * -train_record_steps. Later stages add their own groups; the file is updated
 * through a copy that replaces it atomically, so those groups are kept. */
#include "trainimpl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* A trainer's tensor operation: on the tensor at theta[off, off + len), with
 * own the owned slice of theta (or of the momentum). */
typedef PetscErrorCode (*TensorFn)(Trainer t, NnH5File *f, const char *path, int ndims, const hsize_t *dims,
                                   PetscInt off, PetscInt len, double *own);
typedef struct {
  Trainer  t;
  double  *own;
  TensorFn fn;
} TensorCtx;

static PetscErrorCode tensor_call(void *ctx, NnH5File *f, const char *path, int nd, const hsize_t *dims, PetscInt off, PetscInt len)
{
  TensorCtx *c = (TensorCtx *)ctx;
  PetscFunctionBeginUser;
  PetscCall(c->fn(c->t, f, path, nd, dims, off, len, c->own));
  PetscFunctionReturn(0);
}

/* Calls fn for each parameter tensor of the net under group (weights_io.c). */
static PetscErrorCode for_each_tensor(Trainer t, NnH5File *f, const char *group, double *own, TensorFn fn, PetscBool writing)
{
  TensorCtx c = {t, own, fn};
  PetscFunctionBeginUser;
  PetscCall(nn_weights_for_each(t->net, f, group, writing, tensor_call, &c));
  PetscFunctionReturn(0);
}

/* The part of [off, off + len) this rank owns, as a range of the tensor and a
 * pointer into the owned slice `own` (which starts at theta index lo). */
static void owned_part(Trainer t, PetscInt off, PetscInt len, double *own, hsize_t *start, hsize_t *count, double **ptr)
{
  PetscInt lo = t->displs[t->rank];
  nn_weights_owned_part(lo, lo + t->counts[t->rank], off, len, own, start, count, ptr);
}

static PetscErrorCode write_tensor(Trainer t, NnH5File *f, const char *path, int nd, const hsize_t *dims, PetscInt off,
                                   PetscInt len, double *own)
{
  hsize_t start, count;
  double *p;
  PetscFunctionBeginUser;
  owned_part(t, off, len, own, &start, &count, &p);
  PetscCall(nn_h5_write_double_range(f, path, nd, dims, start, count, p)); /* with its CRC-32 */
  PetscFunctionReturn(0);
}

/* Reads a tensor's owned part (checked against the tensor's CRC-32 by the io
 * layer); its values must be finite. */
static PetscErrorCode read_tensor(Trainer t, NnH5File *f, const char *path, int nd, const hsize_t *dims, PetscInt off,
                                  PetscInt len, double *own)
{
  hsize_t start, count;
  double *p;
  int     bad = 0, anybad;
  PetscFunctionBeginUser;
  owned_part(t, off, len, own, &start, &count, &p);
  PetscCall(nn_h5_read_double_range(f, path, nd, dims, start, count, p));
  for (hsize_t i = 0; i < count && !bad; i++) bad = !isfinite(p[i]);
  PetscCallMPI(MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_LOR, t->comm));
  PetscCheck(!anybad, t->comm, PETSC_ERR_FILE_UNEXPECTED, "checkpoint %s: %s holds NaN or infinite values", f->path,
             path);
  PetscFunctionReturn(0);
}

static PetscErrorCode write_index_array(NnH5File *f, const char *path, PetscInt n, const PetscInt *v)
{
  int64_t *w;
  hsize_t  d = (hsize_t)n;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(n + 1, &w));
  for (PetscInt i = 0; i < n; i++) w[i] = v[i];
  PetscCall(nn_h5_write_int64(f, path, 1, &d, w));
  PetscCall(PetscFree(w));
  PetscFunctionReturn(0);
}

static PetscErrorCode write_state(Trainer t, NnH5File *f)
{
  PetscFunctionBeginUser;
  PetscCall(nn_h5_group(f, "/state"));
  PetscCall(nn_h5_attr_int64(f, "/state", "epoch", t->epoch));
  PetscCall(nn_h5_attr_int64(f, "/state", "step", t->step));
  PetscCall(nn_h5_attr_int64(f, "/state", "global_step", t->global_step));
  PetscCall(nn_h5_attr_int64(f, "/state", "train_seed", t->seed));
  PetscCall(nn_h5_attr_int64(f, "/state", "batch", t->batch));
  PetscCall(nn_h5_attr_double(f, "/state", "acc_loss", t->acc_loss));
  PetscCall(nn_h5_attr_double(f, "/state", "acc_correct", t->acc_correct));
  PetscCall(nn_h5_attr_double(f, "/state", "acc_n", t->acc_n));
  PetscCall(nn_h5_attr_double(f, "/state", "epoch_seconds", t->epoch_seconds));
  PetscCall(nn_h5_attr_string(f, "/state", "description",
                              "epoch and step are the next ones to run (0-based); acc_* are the sums over the current "
                              "epoch's finished steps; every random draw derives from the seeds and these counters"));
  PetscFunctionReturn(0);
}

/* What identifies the run beyond the network and the sample order: the data,
 * the loss and the learning-rate schedule (a restart compares them). */
static PetscErrorCode run_settings(Trainer t, NnSettings *s)
{
  char ms[160] = "";
  PetscFunctionBeginUser;
  s->n = 0;
  PetscCall(dataset_get_settings(t->ds, s));
  PetscCall(net_get_settings(t->net, s));
  PetscCall(nn_settings_add_real(s, "-train_lr", (double)t->lr));
  for (PetscInt i = 0; i < t->nmilestones; i++) {
    size_t len = strlen(ms);
    snprintf(ms + len, sizeof ms - len, "%s%g", i ? "," : "", (double)t->milestones[i]); /* whole epochs */
  }
  PetscCall(nn_settings_add(s, "-train_lr_milestones", "%s", ms));
  PetscCall(nn_settings_add_real(s, "-train_lr_gamma", (double)t->gamma));
  PetscCall(nn_settings_add_real(s, "-train_momentum", (double)t->momentum));
  PetscCall(nn_settings_add(s, "-train_step", "%s", NnStepRules[t->step_rule]));
  PetscFunctionReturn(0);
}

static PetscErrorCode write_settings(Trainer t, NnH5File *f)
{
  NnSettings s;
  PetscFunctionBeginUser;
  PetscCall(run_settings(t, &s));
  PetscCall(nn_h5_group(f, "/settings"));
  for (int i = 0; i < s.n; i++) PetscCall(nn_h5_attr_string(f, "/settings", s.item[i].name, s.item[i].value));
  PetscFunctionReturn(0);
}

/* The checkpoint's settings against the options': a difference is an error
 * naming every changed setting, or with -restart_allow_changes a warning.
 * Settings the checkpoint does not record (older files) are not compared. */
static PetscErrorCode check_settings(Trainer t, NnH5File *f)
{
  NnSettings s;
  char       was[sizeof s.item[0].value], diff[1024] = "";
  PetscBool  has;
  int        nd = 0;
  PetscFunctionBeginUser;
  PetscCall(run_settings(t, &s));
  PetscCall(nn_h5_exists(f, "/settings", &has));
  for (int i = 0; i < s.n && has; i++) {
    PetscBool have;
    size_t    len = strlen(diff);
    PetscCall(nn_h5_has_attr(f, "/settings", s.item[i].name, &have));
    if (!have) continue;
    PetscCall(nn_h5_get_attr_string(f, "/settings", s.item[i].name, sizeof was, was));
    if (!strcmp(was, s.item[i].value)) continue;
    snprintf(diff + len, sizeof diff - len, "%s%s %s (the options give %s)", nd++ ? "; " : "", s.item[i].name, was, s.item[i].value);
  }
  if (!nd) PetscFunctionReturn(0);
  PetscCheck(t->allow_changes, t->comm, PETSC_ERR_FILE_UNEXPECTED,
             "checkpoint %s was made with other settings: %s; restore them, or continue anyway with -restart_allow_changes", f->path, diff);
  PetscCall(PetscFPrintf(t->comm, PETSC_STDERR, "nncas: warning: continuing from %s with changed settings (-restart_allow_changes): %s\n", f->path, diff));
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_checkpoint_write(Trainer t, const char *path)
{
  NnH5File f;
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(trainer_events.checkpoint, 0, 0, 0, 0));
  PetscCall(nn_h5_create(t->comm, path, &f));
  PetscCall(rundir_provenance_write(t->rundir, &f, "nncas checkpoint"));
  PetscCall(write_state(t, &f));
  PetscCall(write_settings(t, &f));
  PetscCall(nn_h5_group(&f, "/weights"));
  PetscCall(for_each_tensor(t, &f, "/weights", t->theta + t->displs[t->rank], write_tensor, PETSC_TRUE));
  PetscCall(nn_h5_group(&f, "/momentum"));
  PetscCall(for_each_tensor(t, &f, "/momentum", t->velocity, write_tensor, PETSC_TRUE));
  PetscCall(nn_h5_group(&f, "/data"));
  PetscCall(write_index_array(&f, "/data/train_source_index", t->train->n, t->train->source_index));
  PetscCall(write_index_array(&f, "/data/epoch_order", t->train->n, t->order));
  PetscCall(table_write(&f, &t->hist, "/history"));
  PetscCall(table_write(&f, &t->steps, "/history_steps"));
  PetscCall(nn_h5_commit(&f));
  PetscCall(PetscLogEventEnd(trainer_events.checkpoint, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* The checkpoint must describe the same network and training set as the options. */
static PetscErrorCode check_compatible(Trainer t, NnH5File *f)
{
  char        kind[64], spec[NN_NET_SPEC_MAX];
  const char *myspec;
  PetscBool   mybias;
  int64_t     N, bias, n, seed, batch;
  PetscFunctionBeginUser;
  PetscCall(net_get_spec(t->net, &myspec, NULL));
  PetscCall(net_get_bias(t->net, &mybias));
  PetscCall(nn_h5_get_attr_string(f, "/", "kind", sizeof kind, kind));
  PetscCheck(!strcmp(kind, "nncas checkpoint"), t->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: not an nncas checkpoint (its kind is \"%s\")", f->path, kind);
  PetscCall(nn_h5_get_attr_string(f, "/", "net_spec", sizeof spec, spec));
  PetscCall(nn_h5_get_attr_int64(f, "/", "net_parameters", &N));
  PetscCall(nn_h5_get_attr_int64(f, "/", "net_bias", &bias));
  PetscCheck(!strcmp(spec, myspec) && N == t->N && (bias != 0) == (mybias != 0), t->comm,
             PETSC_ERR_FILE_UNEXPECTED,
             "checkpoint %s holds a different network: \"%s\"%s with %lld parameters, but the options give \"%s\"%s with %lld",
             f->path, spec, bias ? "" : " without biases", (long long)N, myspec, mybias ? "" : " without biases",
             (long long)t->N);
  PetscCall(nn_h5_get_attr_int64(f, "/state", "train_seed", &seed));
  PetscCall(nn_h5_get_attr_int64(f, "/state", "batch", &batch));
  PetscCheck(seed == t->seed, t->comm, PETSC_ERR_FILE_UNEXPECTED, "checkpoint %s was made with -train_seed %lld, the options give %lld",
             f->path, (long long)seed, (long long)t->seed);
  PetscCheck(batch == t->batch, t->comm, PETSC_ERR_FILE_UNEXPECTED, "checkpoint %s was made with -train_batch %lld, the options give %lld",
             f->path, (long long)batch, (long long)t->batch);
  PetscCall(nn_h5_get_attr_int64(f, "/", "train_samples", &n));
  PetscCheck(n == t->train->n, t->comm, PETSC_ERR_FILE_UNEXPECTED,
             "checkpoint %s was made with %lld training samples, the options give %lld (check the -data_* options)", f->path,
             (long long)n, (long long)t->train->n);
  PetscFunctionReturn(0);
}

static PetscErrorCode check_same_training_set(Trainer t, NnH5File *f)
{
  int64_t       *idx;
  int            nd;
  hsize_t        d;
  PetscInt       i = 0;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(t->train->n + 1, &idx));
  ierr = nn_h5_read_int64(f, "/data/train_source_index", 1, &nd, &d, (size_t)t->train->n, idx);
  while (!ierr && i < t->train->n && idx[i] == t->train->source_index[i]) i++;
  PetscCall(PetscFree(idx));
  PetscCall(ierr);
  PetscCheck(i == t->train->n, t->comm, PETSC_ERR_FILE_UNEXPECTED,
             "checkpoint %s was made with a different training set (sample %" PetscInt_FMT " differs; check -data_seed and the data files)",
             f->path, i);
  PetscFunctionReturn(0);
}

/* A counter of the state: an integer attribute in [0, PETSC_MAX_INT]. */
static PetscErrorCode read_counter(Trainer t, NnH5File *f, const char *name, PetscInt *v)
{
  int64_t x;
  PetscFunctionBeginUser;
  PetscCall(nn_h5_get_attr_int64(f, "/state", name, &x));
  PetscCheck(x >= 0 && x <= PETSC_MAX_INT, t->comm, PETSC_ERR_FILE_UNEXPECTED,
             "checkpoint %s: /state %s = %lld is not a count from 0 to %d", f->path, name, (long long)x, (int)PETSC_MAX_INT);
  *v = (PetscInt)x;
  PetscFunctionReturn(0);
}

/* A running sum of the state: a finite double, >= 0 unless negative_ok. */
static PetscErrorCode read_sum(Trainer t, NnH5File *f, const char *name, PetscBool negative_ok, double *v)
{
  PetscFunctionBeginUser;
  PetscCall(nn_h5_get_attr_double(f, "/state", name, v));
  PetscCheck(isfinite(*v) && (negative_ok || *v >= 0), t->comm, PETSC_ERR_FILE_UNEXPECTED,
             "checkpoint %s: /state %s = %g is not a finite%s number", f->path, name, *v, negative_ok ? "" : " non-negative");
  PetscFunctionReturn(0);
}

static PetscErrorCode read_state(Trainer t, NnH5File *f)
{
  const PetscInt nsteps = (t->train->n + t->batch - 1) / t->batch; /* steps per epoch (batch checked) */
  PetscFunctionBeginUser;
  PetscCall(read_counter(t, f, "epoch", &t->epoch));
  PetscCall(read_counter(t, f, "step", &t->step));
  PetscCall(read_counter(t, f, "global_step", &t->global_step));
  PetscCheck(t->step <= nsteps, t->comm, PETSC_ERR_FILE_UNEXPECTED,
             "checkpoint %s: step %" PetscInt_FMT " of an epoch of %" PetscInt_FMT " steps", f->path, t->step, nsteps);
  PetscCall(read_sum(t, f, "acc_loss", PETSC_TRUE, &t->acc_loss));
  PetscCall(read_sum(t, f, "acc_correct", PETSC_FALSE, &t->acc_correct));
  PetscCall(read_sum(t, f, "acc_n", PETSC_FALSE, &t->acc_n));
  PetscCall(read_sum(t, f, "epoch_seconds", PETSC_FALSE, &t->epoch_seconds));
  PetscFunctionReturn(0);
}

/* Everything checkpoint_read restores, from the open file f. */
static PetscErrorCode read_checkpoint(Trainer t, NnH5File *f)
{
  PetscFunctionBeginUser;
  PetscCall(check_compatible(t, f));
  PetscCall(check_settings(t, f));
  PetscCall(check_same_training_set(t, f));
  PetscCall(read_state(t, f));
  PetscCall(for_each_tensor(t, f, "/weights", t->theta + t->displs[t->rank], read_tensor, PETSC_FALSE));
  PetscCall(for_each_tensor(t, f, "/momentum", t->velocity, read_tensor, PETSC_FALSE));
  PetscCallMPI(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, t->theta, t->counts, t->displs, MPI_DOUBLE, t->comm));
  /* one row per finished epoch; per-step rows only for recorded steps */
  PetscCall(table_read(f, &t->hist, "/history", t->epoch));
  PetscCheck(t->hist.n == t->epoch, t->comm, PETSC_ERR_FILE_UNEXPECTED,
             "checkpoint %s: /history has %" PetscInt_FMT " epochs, but /state says %" PetscInt_FMT " are done", f->path,
             t->hist.n, t->epoch);
  PetscCall(table_read(f, &t->steps, "/history_steps", t->global_step));
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_checkpoint_read(Trainer t, const char *path)
{
  NnH5File       f;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(trainer_events.checkpoint, 0, 0, 0, 0));
  PetscCall(nn_h5_open_read(t->comm, path, &f));
  ierr = read_checkpoint(t, &f);
  if (ierr) {
    (void)nn_h5_discard(&f); /* close the file; the first error is the one reported */
    (void)PetscLogEventEnd(trainer_events.checkpoint, 0, 0, 0, 0);
    PetscCall(ierr);
  }
  PetscCall(nn_h5_commit(&f));
  PetscCall(PetscLogEventEnd(trainer_events.checkpoint, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_results_write(Trainer t)
{
  NnH5File  *f;
  hsize_t   n = (hsize_t)t->hist.n;
  int64_t  *epoch;
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(trainer_events.results, 0, 0, 0, 0));
  PetscCall(rundir_results_create(t->rundir, "/training", &f));
  PetscCall(nn_h5_group(f, "/training"));
  PetscCall(nn_h5_attr_string(f, "/training", "description", "training curves, one entry per finished epoch"));
  PetscCall(PetscMalloc1(n + 1, &epoch));
  for (hsize_t e = 0; e < n; e++) epoch[e] = (int64_t)e + 1;
  PetscCall(nn_h5_write_int64(f, "/training/epoch", 1, &n, epoch));
  PetscCall(nn_h5_describe(f, "/training/epoch", "epoch", "number of epochs finished (1-based) when the row was recorded"));
  PetscCall(PetscFree(epoch));
  PetscCall(table_write(f, &t->hist, "/training"));
  if (t->record_steps || t->steps.n) {
    PetscCall(table_write(f, &t->steps, "/training/steps"));
    PetscCall(nn_h5_attr_string(f, "/training/steps", "description", "one record per SGD step (-train_record_steps)"));
  }
  PetscCall(nn_h5_attr_string(f, "/training", "step_rule", NnStepRules[t->step_rule]));
  PetscCall(nn_h5_attr_int64(f, "/training", "diverged", t->diverged));
  if (t->diverged) PetscCall(nn_h5_attr_string(f, "/training", "diverged_what", t->diverged_what));
  PetscCall(rundir_results_commit(t->rundir));
  PetscCall(PetscLogEventEnd(trainer_events.results, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}
