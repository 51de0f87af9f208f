/* The training package, shared by the training loop (trainer.c) and its
 * serializer (trainer_io.c): the names of the step rules, the columns of the
 * per-epoch and per-step tables (their dataset names, units and descriptions
 * in the results file), and the -log_view events. */
#include "trainimpl.h"

TrainerEvents trainer_events;

PetscErrorCode trainer_initialize_package(void)
{
  static PetscBool done;
  PetscClassId     cls;
  PetscFunctionBeginUser;
  if (done) PetscFunctionReturn(0);
  done = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("NnTrainer", &cls));
  PetscCall(PetscLogEventRegister("NnBatchLoad", cls, &trainer_events.batch));
  PetscCall(PetscLogEventRegister("NnGradReduce", cls, &trainer_events.reduce));
  PetscCall(PetscLogEventRegister("NnSGDUpdate", cls, &trainer_events.update));
  PetscCall(PetscLogEventRegister("NnEvaluate", cls, &trainer_events.evaluate));
  PetscCall(PetscLogEventRegister("NnIOCheckpoint", cls, &trainer_events.checkpoint));
  PetscCall(PetscLogEventRegister("NnIOResults", cls, &trainer_events.results));
  PetscFunctionReturn(0);
}

const char *const NnStepRules[] = {"constant", "dynamic", "NnStepRule", "STEP_", NULL};

const NnColumn nn_epoch_columns[NN_EPOCH_NCOLS] = {
  {"train_loss", "loss", "mean training loss over the epoch's mini-batches (training mode: dropout on, augmentation with -data_augment)"},
  {"train_acc", "fraction", "fraction of training samples classified correctly during the epoch (the sign of the output with a binary loss, the largest output with a multi-class one)"},
  {"val_loss", "loss", "mean loss on the validation split after the epoch (evaluation mode; batch normalization with the statistics of each evaluation batch, or the running ones with -net_bn_statistics running)"},
  {"val_acc", "fraction", "fraction of validation samples classified correctly after the epoch"},
  {"lr", "1", "learning rate of the epoch (with -train_step dynamic: the numerator eta_0 of eta_0/||g||^2)"},
  {"seconds", "s", "wall-clock seconds of the epoch's training steps (without evaluation and I/O)"},
  {"samples_per_second", "samples/s", "training throughput of the epoch"}};

const NnColumn nn_step_columns[NN_STEP_NCOLS] = {
  {"step", "1", "global step index (0-based)"},
  {"epoch", "1", "epoch of the step (0-based)"},
  {"loss", "loss", "mean loss of the step's mini-batch before the update"},
  {"acc", "fraction", "fraction of the mini-batch classified correctly before the update"},
  {"step_size", "1", "step size eta used (0: the step was not taken)"},
  {"grad_norm", "1", "||g||_2 of the mini-batch gradient of the mean loss"}};
