/* The training loop: options, set-up (fresh or from a checkpoint), SGD steps,
 * evaluation, per-epoch records, checkpoints. */
#include "trainimpl.h"

#include <math.h>
#include <string.h>

PetscErrorCode trainer_create(Dataset ds, Net net, Trainer *t)
{
  Trainer r;
  PetscFunctionBeginUser;
  PetscCall(trainer_initialize_package());
  PetscCall(PetscNew(&r));
  PetscCall(dataset_get_comm(ds, &r->comm));
  PetscCallMPI(MPI_Comm_rank(r->comm, &r->rank));
  PetscCallMPI(MPI_Comm_size(r->comm, &r->size));
  r->ds               = ds;
  r->net              = net;
  r->epochs           = 10;
  r->batch            = 64;
  r->lr               = 0.01;
  r->momentum         = 0.9;
  r->gamma            = 0.1;
  r->milestones[0]    = 6;
  r->nmilestones      = 1;
  r->seed             = 1;
  r->checkpoint_every = 1;
  r->divergence_loss  = 1e6;
  PetscCall(rundir_create(ds, net, &r->rundir));
  PetscCall(table_init(&r->hist, NN_EPOCH_NCOLS, nn_epoch_columns));
  PetscCall(table_init(&r->steps, NN_STEP_NCOLS, nn_step_columns));
  *t = r;
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_set_from_options(Trainer t)
{
  PetscInt  nm = NN_MAX_MILESTONES;
  PetscBool set;
  PetscFunctionBeginUser;
  PetscOptionsBegin(t->comm, NULL, "Training options", NULL);
  PetscCall(PetscOptionsInt("-train_epochs", "number of epochs", NULL, t->epochs, &t->epochs, NULL));
  PetscCall(PetscOptionsInt("-train_batch", "mini-batch size (global, split across the ranks)", NULL, t->batch, &t->batch, NULL));
  PetscCall(PetscOptionsInt("-train_eval_batch", "batch size of evaluation passes (0: the mini-batch size)", NULL,
                            t->eval_batch, &t->eval_batch, NULL));
  PetscCall(PetscOptionsReal("-train_lr", "initial learning rate (App. G: LeNet 0.01, VGG 0.05)", NULL, t->lr, &t->lr, NULL));
  PetscCall(PetscOptionsRealArray("-train_lr_milestones", "epochs at which the learning rate is multiplied by -train_lr_gamma",
                                  NULL, t->milestones, &nm, &set));
  if (set) t->nmilestones = nm;
  PetscCall(PetscOptionsReal("-train_lr_gamma", "factor applied at each milestone", NULL, t->gamma, &t->gamma, NULL));
  PetscCall(PetscOptionsReal("-train_momentum", "SGD momentum", NULL, t->momentum, &t->momentum, NULL));
  PetscCall(PetscOptionsEnum("-train_step", "step size: constant (the learning rate) or dynamic (learning rate / ||grad R||^2, Sec. 5.2)",
                             NULL, NnStepRules, (PetscEnum)t->step_rule, (PetscEnum *)&t->step_rule, NULL));
  PetscCall(PetscOptionsReal("-train_divergence_loss", "a mean mini-batch loss above this (or not finite) stops training as diverged",
                             NULL, t->divergence_loss, &t->divergence_loss, NULL));
  PetscCall(PetscOptionsBool("-train_record_steps", "record loss, accuracy, step size and gradient norm of every step", NULL,
                             t->record_steps, &t->record_steps, NULL));
  PetscCall(PetscOptionsInt("-train_seed", "seed of the sample order, dropout masks and augmentation", NULL, t->seed,
                            &t->seed, NULL));
  PetscCall(PetscOptionsInt("-checkpoint_every", "write a checkpoint every this many epochs", NULL, t->checkpoint_every,
                            &t->checkpoint_every, NULL));
  PetscCall(PetscOptionsInt("-checkpoint_keep",
                            "also keep the checkpoint of every k-th epoch as OUTPUT_DIR/checkpoints/epoch_EEEE.h5 (a hard link), to run the "
                            "stages later from it, at another rank count (-restart FILE; 0: keep none)",
                            NULL, t->checkpoint_keep, &t->checkpoint_keep, NULL));
  PetscCall(PetscOptionsString("-restart", "continue from this checkpoint (no value: OUTPUT_DIR/checkpoint.h5; auto: if it exists)",
                               NULL, t->restart, t->restart, sizeof t->restart, &t->restarting));
  PetscCall(PetscOptionsBool("-restart_allow_changes",
                             "continue from a checkpoint made with other data, loss or learning-rate settings (a warning, not an error)", NULL,
                             t->allow_changes, &t->allow_changes, NULL));
  PetscCall(PetscOptionsBool("-output_overwrite", "start afresh even if the output directory holds a run", NULL,
                             t->overwrite, &t->overwrite, NULL));
  PetscCall(PetscOptionsInt("-train_stop_after_steps", "testing: checkpoint and stop after this many steps", NULL,
                            t->stop_after_steps, &t->stop_after_steps, NULL));
  PetscOptionsEnd();
  if (!t->eval_batch) t->eval_batch = t->batch;
  PetscCheck(t->batch > 0, t->comm, PETSC_ERR_ARG_OUTOFRANGE, "-train_batch must be positive (got %" PetscInt_FMT ")", t->batch);
  PetscCheck(t->eval_batch > 0, t->comm, PETSC_ERR_ARG_OUTOFRANGE, "-train_eval_batch must be positive");
  PetscCheck(t->epochs >= 0, t->comm, PETSC_ERR_ARG_OUTOFRANGE, "-train_epochs must be non-negative");
  PetscCall(nn_option_check_real(t->comm, "-train_lr", t->lr, "(0, inf)"));
  PetscCall(nn_option_check_real(t->comm, "-train_lr_gamma", t->gamma, "(0, inf)"));
  for (PetscInt i = 0; i < t->nmilestones; i++) PetscCall(nn_option_check_real(t->comm, "-train_lr_milestones", t->milestones[i], "[0, inf)"));
  PetscCall(nn_option_check_real(t->comm, "-train_momentum", t->momentum, "[0, 1)"));
  PetscCall(nn_option_check_real(t->comm, "-train_divergence_loss", t->divergence_loss, "(0, inf)"));
  PetscCheck(t->checkpoint_every > 0, t->comm, PETSC_ERR_ARG_OUTOFRANGE, "-checkpoint_every must be positive");
  PetscCheck(t->checkpoint_keep >= 0, t->comm, PETSC_ERR_ARG_OUTOFRANGE, "-checkpoint_keep must be non-negative (0: keep none)");
  PetscCheck(t->stop_after_steps >= 0, t->comm, PETSC_ERR_ARG_OUTOFRANGE, "-train_stop_after_steps must be non-negative (0: off)");
  PetscCall(rundir_set_from_options(t->rundir));
  PetscFunctionReturn(0);
}

PetscReal trainer_lr(const Trainer t, PetscInt e)
{
  PetscReal lr = t->lr;
  for (PetscInt i = 0; i < t->nmilestones; i++)
    if (e >= (PetscInt)t->milestones[i]) lr *= t->gamma;
  return lr;
}

void trainer_batch_slice(const Trainer t, PetscInt Bglobal, PetscInt *lo, PetscInt *hi)
{
  *lo = (PetscInt)(((int64_t)Bglobal * t->rank) / t->size);
  *hi = (PetscInt)(((int64_t)Bglobal * (t->rank + 1)) / t->size);
}

static PetscErrorCode trainer_alloc(Trainer t)
{
  const PetscInt  N = t->N, F = t->F;
  const PetscInt  Bloc = (PetscMax(t->batch, t->eval_batch) + t->size - 1) / t->size;
  PetscFunctionBeginUser;
  PetscCall(nn_layout_counts(t->comm, N, &t->counts, &t->displs, NULL));
  const PetscInt nown = t->counts[t->rank];
  PetscCall(PetscMalloc4(N, &t->theta, N, &t->grad, nown + 1, &t->gown, nown + 1, &t->velocity));
  PetscCall(PetscMalloc6((size_t)Bloc * F, &t->x, Bloc, &t->y, (size_t)Bloc * t->K, &t->t, (size_t)Bloc * t->K, &t->dl, Bloc, &t->l, Bloc,
                         &t->ids));
  PetscCall(PetscMalloc1(t->train->n, &t->order));
  PetscFunctionReturn(0);
}

/* Which checkpoint to continue from ("" for a fresh run), refusing to
 * overwrite an earlier run by accident. */
static PetscErrorCode trainer_resolve_restart(Trainer t, char *from, size_t len)
{
  PetscBool   exists;
  const char *ckpt = rundir_checkpoint_path(t->rundir);
  PetscFunctionBeginUser;
  from[0] = 0;
  if (!t->restarting && t->overwrite) PetscFunctionReturn(0); /* the old files, even damaged ones, are replaced */
  PetscCall(nn_h5_file_exists(t->comm, ckpt, &exists));
  if (!t->restarting) {
    PetscCheck(!exists || t->overwrite, t->comm, PETSC_ERR_FILE_UNEXPECTED,
               "-output_dir %s already holds a run (%s): continue it with -restart, or start afresh with -output_overwrite",
               rundir_path(t->rundir), ckpt);
    PetscFunctionReturn(0);
  }
  if (!strcmp(t->restart, "auto")) {
    if (exists) PetscCall(PetscStrncpy(from, ckpt, len));
    PetscFunctionReturn(0);
  }
  PetscCall(PetscStrncpy(from, t->restart[0] ? t->restart : ckpt, len));
  PetscFunctionReturn(0);
}

/* The labels of both splits fit the loss and the network's outputs; errors name the file (-data_format h5). */
static PetscErrorCode trainer_check_labels(Trainer t)
{
  NnDataFormat format;
  const char  *file;
  char         what[2][PETSC_MAX_PATH_LEN + 16];
  PetscFunctionBeginUser;
  PetscCall(dataset_get_format(t->ds, &format, &file));
  PetscCall(PetscSNPrintf(what[0], sizeof what[0], format == NN_DATA_H5 ? "%s: /train/y" : "the training split", file));
  PetscCall(PetscSNPrintf(what[1], sizeof what[1], format == NN_DATA_H5 ? "%s: /val/y" : "the validation split", file));
  PetscCall(net_check_labels(t->net, t->train->n, t->train->label, what[0]));
  PetscCall(net_check_labels(t->net, t->val->n, t->val->label, what[1]));
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_setup(Trainer t)
{
  char     from[PETSC_MAX_PATH_LEN];
  PetscInt c, h, w;
  PetscFunctionBeginUser;
  PetscCall(dataset_get_split(t->ds, NN_SPLIT_TRAIN, &t->train));
  PetscCall(dataset_get_split(t->ds, NN_SPLIT_VAL, &t->val));
  PetscCall(dataset_get_shape(t->ds, &c, &h, &w));
  PetscCall(dataset_get_augment(t->ds, &t->augment));
  PetscCall(net_get_size(t->net, &t->N));
  PetscCall(net_get_loss(t->net, &t->loss));
  PetscCall(net_get_outputs(t->net, &t->K));
  t->F = c * h * w;
  PetscCheck(t->train->n > 0, t->comm, PETSC_ERR_ARG_WRONG, "the training split is empty");
  PetscCall(trainer_check_labels(t));
  PetscCall(rundir_setup(t->rundir));
  PetscCall(trainer_alloc(t));
  PetscCall(trainer_resolve_restart(t, from, sizeof from));
  if (from[0]) {
    PetscCall(trainer_checkpoint_read(t, from));
    PetscCall(PetscStrncpy(t->last_checkpoint, from, sizeof t->last_checkpoint));
    /* the results file is written after the checkpoint: a run killed in
     * between left it one epoch behind, so it is brought up to date here */
    PetscCall(trainer_results_write(t));
    PetscCall(PetscPrintf(t->comm, "Restarted from %s at epoch %" PetscInt_FMT " step %" PetscInt_FMT "\n", from, t->epoch + 1,
                          t->step));
  } else {
    PetscCall(rundir_start_fresh(t->rundir));
    PetscCall(net_init_params(t->net, t->theta));
    PetscCall(PetscArrayzero(t->velocity, t->counts[t->rank]));
    t->epoch = t->step = t->global_step = 0;
  }
  nn_rng_permutation(nn_rng_key((uint64_t)t->seed, NN_STREAM_ORDER, (uint64_t)t->epoch), t->train->n, t->order);
  PetscFunctionReturn(0);
}

/* sums[0] += the losses t->l, sums[1] += the correctly classified outputs
 * t->t (sign against the labels t->y) of B samples. */
static void trainer_batch_sums(Trainer t, PetscInt B, double *sums)
{
  for (PetscInt i = 0; i < B; i++) sums[0] += t->l[i];
  sums[1] += loss_correct(t->loss, B, t->K, t->t, t->y);
}

/* A step on Bglobal samples diverged: its loss sum or gradient norm is not finite,
 * or its mean loss exceeds -train_divergence_loss. */
static PetscBool trainer_step_diverged(Trainer t, double loss_sum, double grad_norm, PetscInt Bglobal)
{
  return !isfinite(loss_sum) || !isfinite(grad_norm) || loss_sum / Bglobal > t->divergence_loss ? PETSC_TRUE : PETSC_FALSE;
}

PetscErrorCode trainer_step(Trainer t, const PetscInt *batch_ids, PetscInt Bglobal, NnStepInfo *info)
{
  PetscInt lo, hi;
  double  *th = t->theta + t->displs[t->rank];
  double   sums[4] = {0, 0, nn_signal_pending() ? 1 : 0, 0};
  PetscFunctionBeginUser;
  trainer_batch_slice(t, Bglobal, &lo, &hi);
  const PetscInt B = hi - lo;
  for (PetscInt i = 0; i < B; i++) t->ids[i] = batch_ids[lo + i];
  PetscCall(PetscLogEventBegin(trainer_events.batch, 0, 0, 0, 0));
  PetscCall(dataset_fill_batch(t->ds, t->train, B, t->ids, t->augment,
                               nn_rng_key((uint64_t)t->seed, NN_STREAM_AUGMENT, (uint64_t)t->epoch), t->x, t->y));
  PetscCall(PetscLogEventEnd(trainer_events.batch, 0, 0, 0, 0));
  NnPass p = {.B = B, .Bglobal = Bglobal, .batch_comm = t->comm, .train = PETSC_TRUE,
              .dropout_key = nn_rng_key((uint64_t)t->seed, NN_STREAM_DROPOUT, (uint64_t)t->global_step), .sample_ids = t->ids};
  PetscCall(net_forward(t->net, &p, t->theta, t->x, t->t));
  loss_eval(t->loss, B, t->K, t->t, t->y, t->l, t->dl, NULL);
  trainer_batch_sums(t, B, sums);
  for (PetscInt e = 0; e < B * t->K; e++) t->dl[e] /= Bglobal; /* dR/dT_i for R = mean over the batch */
  PetscCall(PetscArrayzero(t->grad, t->N));
  PetscCall(net_backward(t->net, &p, t->theta, t->dl, t->grad));
  PetscCall(PetscLogEventBegin(trainer_events.reduce, 0, 0, 0, 0));
  PetscCallMPI(MPI_Reduce_scatter(t->grad, t->gown, t->counts, MPI_DOUBLE, MPI_SUM, t->comm));
  for (PetscMPIInt i = 0; i < t->counts[t->rank]; i++) sums[3] += t->gown[i] * t->gown[i]; /* ||g||^2 of the owned slice */
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sums, 4, MPI_DOUBLE, MPI_SUM, t->comm));
  PetscCall(PetscLogEventEnd(trainer_events.reduce, 0, 0, 0, 0));
  info->loss_sum  = sums[0];
  info->correct   = sums[1];
  info->stop      = sums[2] > 0;
  info->grad_norm = sqrt(sums[3]);
  info->lr        = trainer_lr(t, t->epoch);
  if (t->step_rule == STEP_DYNAMIC) info->lr = sums[3] > 0 ? info->lr / sums[3] : 0; /* eta = eta_0 / ||g||^2 */
  if (trainer_step_diverged(t, sums[0], sums[3], Bglobal) || !isfinite(info->lr)) {
    info->lr = 0; /* diverged: the weights are left as they were */
    PetscFunctionReturn(0);
  }
  PetscCall(PetscLogEventBegin(trainer_events.update, 0, 0, 0, 0));
  for (PetscMPIInt i = 0; i < t->counts[t->rank]; i++) {
    t->velocity[i] = t->momentum * t->velocity[i] + t->gown[i]; /* v = mu v + g */
    th[i] -= info->lr * t->velocity[i];                          /* theta = theta - eta v */
  }
  PetscCallMPI(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, t->theta, t->counts, t->displs, MPI_DOUBLE, t->comm));
  PetscCall(PetscLogEventEnd(trainer_events.update, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_evaluate(Trainer t, const NnSamples *split, double *loss, double *acc)
{
  double sums[2] = {0, 0};
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(trainer_events.evaluate, 0, 0, 0, 0));
  for (PetscInt first = 0; first < split->n; first += t->eval_batch) {
    PetscInt Bglobal = PetscMin(t->eval_batch, split->n - first), lo, hi;
    trainer_batch_slice(t, Bglobal, &lo, &hi);
    for (PetscInt i = lo; i < hi; i++) t->ids[i - lo] = first + i;
    PetscCall(dataset_fill_batch(t->ds, split, hi - lo, t->ids, PETSC_FALSE, 0, t->x, t->y));
    NnPass p = {.B = hi - lo, .Bglobal = Bglobal, .batch_comm = t->comm, .train = PETSC_FALSE};
    PetscCall(net_forward(t->net, &p, t->theta, t->x, t->t));
    loss_eval(t->loss, hi - lo, t->K, t->t, t->y, t->l, NULL, NULL);
    trainer_batch_sums(t, hi - lo, sums);
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, t->comm));
  *loss = split->n ? sums[0] / split->n : NAN;
  *acc  = split->n ? sums[1] / split->n : NAN;
  PetscCall(PetscLogEventEnd(trainer_events.evaluate, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* Checkpoint, then the results file (which is rebuilt from the checkpointed history). */
static PetscErrorCode trainer_save(Trainer t)
{
  PetscFunctionBeginUser;
  PetscCall(trainer_checkpoint_write(t, rundir_checkpoint_path(t->rundir)));
  PetscCall(PetscStrncpy(t->last_checkpoint, rundir_checkpoint_path(t->rundir), sizeof t->last_checkpoint));
  if (t->checkpoint_keep && !t->step && t->epoch % t->checkpoint_keep == 0) PetscCall(rundir_checkpoint_keep(t->rundir, t->epoch));
  PetscCall(trainer_results_write(t));
  PetscFunctionReturn(0);
}

/* Validation, the epoch's record and its summary line. */
static PetscErrorCode trainer_end_epoch(Trainer t)
{
  double vloss, vacc, row[NN_EPOCH_NCOLS];
  PetscFunctionBeginUser;
  PetscCall(trainer_evaluate(t, t->val, &vloss, &vacc));
  row[0] = t->acc_loss / t->acc_n;
  row[1] = t->acc_correct / t->acc_n;
  row[2] = vloss;
  row[3] = vacc;
  row[4] = trainer_lr(t, t->epoch); /* with -train_step dynamic: the numerator eta_0 */
  row[5] = t->epoch_seconds;
  row[6] = t->acc_n / t->epoch_seconds;
  PetscCall(table_append(&t->hist, row));
  PetscCall(PetscPrintf(t->comm,
                        "epoch %3" PetscInt_FMT "/%" PetscInt_FMT ": train loss %.5f acc %.2f%% | val loss %.5f acc %.2f%% | lr %g | "
                        "%.0f samples/s | %.1fs\n",
                        t->epoch + 1, t->epochs, row[0], 100 * row[1], row[2], 100 * row[3], row[4], row[6], row[5]));
  t->epoch++;
  t->step = 0;
  t->acc_loss = t->acc_correct = t->acc_n = t->epoch_seconds = 0;
  nn_rng_permutation(nn_rng_key((uint64_t)t->seed, NN_STREAM_ORDER, (uint64_t)t->epoch), t->train->n, t->order);
  PetscFunctionReturn(0);
}

/* Divergence, once t->diverged_what says what and when: record it in the
 * results file (with the per-step records up to it), keep the last good
 * checkpoint, say so. */
static PetscErrorCode trainer_report_divergence(Trainer t)
{
  PetscFunctionBeginUser;
  t->diverged = PETSC_TRUE;
  PetscCall(trainer_results_write(t));
  if (t->last_checkpoint[0]) PetscCall(PetscPrintf(t->comm, "nncas: %s; the last good checkpoint %s is kept\n", t->diverged_what, t->last_checkpoint));
  else PetscCall(PetscPrintf(t->comm, "nncas: %s; no checkpoint was written yet\n", t->diverged_what));
  PetscFunctionReturn(0);
}

static PetscErrorCode trainer_diverged(Trainer t, const NnStepInfo *si, PetscInt Bglobal)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(t->diverged_what, sizeof t->diverged_what,
                          "training diverged at epoch %" PetscInt_FMT " step %" PetscInt_FMT " (global step %" PetscInt_FMT
                          "): the mini-batch loss is %g, the gradient norm %g (-train_divergence_loss %g)",
                          t->epoch + 1, t->step + 1, t->global_step + 1, si->loss_sum / Bglobal, si->grad_norm, t->divergence_loss));
  PetscCall(trainer_report_divergence(t));
  PetscFunctionReturn(0);
}

/* Runs the steps left in the current epoch; returns early on a stop signal or divergence. */
static PetscErrorCode trainer_run_epoch(Trainer t)
{
  const PetscInt n = t->train->n, nsteps = (n + t->batch - 1) / t->batch;
  char           stage[64];
  NnProgress     prog;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(stage, sizeof stage, "epoch %" PetscInt_FMT "/%" PetscInt_FMT, t->epoch + 1, t->epochs));
  nn_progress_start(&prog, stage, nsteps);
  prog.total = nsteps - t->step;
  PetscInt first_step = t->step;
  while (t->step < nsteps) {
    double     t0 = nn_wtime();
    NnStepInfo si;
    PetscInt   Bglobal = PetscMin(t->batch, n - t->step * t->batch);
    PetscCall(trainer_step(t, t->order + t->step * t->batch, Bglobal, &si));
    t->epoch_seconds += nn_wtime() - t0;
    if (t->record_steps) {
      double row[NN_STEP_NCOLS] = {(double)t->global_step, (double)t->epoch, si.loss_sum / Bglobal, si.correct / Bglobal, si.lr, si.grad_norm};
      PetscCall(table_append(&t->steps, row));
    }
    if (trainer_step_diverged(t, si.loss_sum, si.grad_norm, Bglobal)) {
      PetscCall(trainer_diverged(t, &si, Bglobal));
      PetscFunctionReturn(0);
    }
    t->acc_loss += si.loss_sum;
    t->acc_correct += si.correct;
    t->acc_n += Bglobal;
    t->step++;
    t->global_step++;
    if (t->step < nsteps) /* the epoch's summary line follows at the end */
      PetscCall(nn_progress_report(&prog, t->step - first_step, 10.0, "loss %.5f acc %.2f%% %.0f samples/s", t->acc_loss / t->acc_n,
                                 100 * t->acc_correct / t->acc_n, t->acc_n / t->epoch_seconds));
    if (si.stop || (t->stop_after_steps && t->global_step >= t->stop_after_steps)) {
      t->preempted = PETSC_TRUE;
      PetscFunctionReturn(0);
    }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_add_epoch_hook(Trainer t, const char *name, TrainerHook fn, void *ctx)
{
  PetscFunctionBeginUser;
  PetscCheck(t->nhooks < NN_MAX_HOOKS, t->comm, PETSC_ERR_ARG_OUTOFRANGE, "too many epoch hooks");
  t->hooks[t->nhooks]     = fn;
  t->hook_ctx[t->nhooks]  = ctx;
  t->hook_name[t->nhooks] = name;
  t->nhooks++;
  PetscFunctionReturn(0);
}

/* The stage running now failed with NN_ERR_DIVERGED, on every rank alike:
 * the divergence, with the first error's message saying what diverged. */
static PetscErrorCode trainer_stage_diverged(Trainer t)
{
  char what[256];
  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(what, nn_error_last(), sizeof what));
  nn_error_clear();
  PetscCall(rundir_results_discard(t->rundir)); /* the stage's unfinished results file */
  PetscCall(PetscSNPrintf(t->diverged_what, sizeof t->diverged_what, "%s diverged after %" PetscInt_FMT " epoch(s) of training: %s",
                          t->running, t->epoch, what));
  PetscCall(trainer_report_divergence(t));
  PetscFunctionReturn(0);
}

static PetscErrorCode trainer_run_hooks(Trainer t)
{
  PetscFunctionBeginUser;
  if (t->step) PetscFunctionReturn(0); /* resuming inside the epoch: its stages ran before */
  for (PetscInt k = 0; k < t->nhooks && !t->preempted && !t->diverged; k++) {
    PetscBool      stopped = PETSC_FALSE;
    PetscErrorCode ierr;
    t->running = t->hook_name[k];
    ierr       = t->hooks[k](t->hook_ctx[k], t->epoch, t->theta, t->rundir, &stopped);
    if (ierr == NN_ERR_DIVERGED) PetscCall(trainer_stage_diverged(t));
    else PetscCall(ierr);
    if (stopped) {
      t->preempted = PETSC_TRUE; /* the stage saved its progress; it resumes after a restart */
      PetscCall(PetscPrintf(t->comm, "Stopped in %s before epoch %" PetscInt_FMT "; its progress is saved\n", t->hook_name[k], t->epoch + 1));
    }
  }
  t->running = NULL;
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_set_epochs(Trainer t, PetscInt epochs)
{
  PetscFunctionBeginUser;
  PetscCheck(epochs >= 0, t->comm, PETSC_ERR_ARG_OUTOFRANGE, "trainer_set_epochs: the epochs (-train_epochs) must be non-negative");
  t->epochs = epochs;
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_set_batch_sizes(Trainer t, PetscInt batch, PetscInt eval_batch)
{
  PetscFunctionBeginUser;
  PetscCheck(batch > 0 && eval_batch >= 0, t->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "trainer_set_batch_sizes: the mini-batch (-train_batch) must be positive and the evaluation batch (-train_eval_batch) non-negative");
  t->batch      = batch;
  t->eval_batch = eval_batch ? eval_batch : batch;
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_set_lr_schedule(Trainer t, PetscReal lr, PetscReal gamma, PetscInt n, const PetscReal milestones[])
{
  PetscFunctionBeginUser;
  PetscCheck(n >= 0 && n <= NN_MAX_MILESTONES, t->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "trainer_set_lr_schedule: at most %d milestones (-train_lr_milestones)", NN_MAX_MILESTONES);
  PetscCall(nn_option_check_real(t->comm, "-train_lr", lr, "(0, inf)"));
  PetscCall(nn_option_check_real(t->comm, "-train_lr_gamma", gamma, "(0, inf)"));
  for (PetscInt i = 0; i < n; i++) PetscCall(nn_option_check_real(t->comm, "-train_lr_milestones", milestones[i], "[0, inf)"));
  t->lr          = lr;
  t->gamma       = gamma;
  t->nmilestones = n;
  for (PetscInt i = 0; i < n; i++) t->milestones[i] = milestones[i];
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_set_restart(Trainer t, const char *from)
{
  PetscFunctionBeginUser;
  PetscCheck(!from || strlen(from) < sizeof t->restart, t->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "trainer_set_restart: the checkpoint's path (-restart) is longer than %d characters", PETSC_MAX_PATH_LEN - 1);
  t->restarting = from ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(PetscStrncpy(t->restart, from ? from : "", sizeof t->restart));
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_set_overwrite(Trainer t, PetscBool overwrite)
{
  PetscFunctionBeginUser;
  t->overwrite = overwrite;
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_get_batch_sizes(Trainer t, PetscInt *batch, PetscInt *eval_batch)
{
  PetscFunctionBeginUser;
  if (batch) *batch = t->batch;
  if (eval_batch) *eval_batch = t->eval_batch;
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_get_exit_status(Trainer t, int *status)
{
  PetscFunctionBeginUser;
  *status = t->diverged ? NN_EXIT_DIVERGED : t->preempted ? NN_EXIT_PREEMPTED : NN_EXIT_OK;
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_get_rundir(Trainer t, RunDir *rd)
{
  PetscFunctionBeginUser;
  *rd = t->rundir;
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_train(Trainer t)
{
  PetscFunctionBeginUser;
  while (t->epoch < t->epochs) {
    PetscCall(trainer_run_hooks(t));
    if (!t->preempted && !t->diverged) PetscCall(trainer_run_epoch(t));
    if (t->diverged) PetscFunctionReturn(0);
    if (t->preempted) {
      PetscCall(trainer_save(t));
      PetscCall(PetscPrintf(t->comm, "Stopped at epoch %" PetscInt_FMT " step %" PetscInt_FMT "; checkpoint %s\n", t->epoch + 1,
                            t->step, rundir_checkpoint_path(t->rundir)));
      PetscFunctionReturn(0);
    }
    PetscCall(trainer_end_epoch(t));
    if (t->epoch % t->checkpoint_every == 0 || t->epoch == t->epochs) PetscCall(trainer_save(t));
  }
  if (!t->hist.n) PetscCall(trainer_save(t)); /* -train_epochs 0: record the initial state */
  PetscCall(trainer_run_hooks(t));             /* the stages at the end of training */
  if (t->diverged) PetscFunctionReturn(0);
  if (t->preempted) {
    PetscCall(trainer_save(t));
    PetscCall(PetscPrintf(t->comm, "Checkpoint %s\n", rundir_checkpoint_path(t->rundir)));
    PetscFunctionReturn(0);
  }
  t->finished = PETSC_TRUE;
  PetscFunctionReturn(0);
}

PetscErrorCode trainer_destroy(Trainer *t)
{
  Trainer r = *t;
  PetscFunctionBeginUser;
  if (!r) PetscFunctionReturn(0);
  PetscCall(rundir_destroy(&r->rundir));
  if (r->counts) PetscCall(PetscFree2(r->counts, r->displs));
  if (r->theta) PetscCall(PetscFree4(r->theta, r->grad, r->gown, r->velocity));
  if (r->x) PetscCall(PetscFree6(r->x, r->y, r->t, r->dl, r->l, r->ids));
  PetscCall(PetscFree(r->order));
  PetscCall(table_destroy(&r->hist));
  PetscCall(table_destroy(&r->steps));
  PetscCall(PetscFree(r));
  *t = NULL;
  PetscFunctionReturn(0);
}
