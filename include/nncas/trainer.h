/* Training: SGD with momentum, a piecewise-constant learning rate, data
 * parallel over the ranks of comm.
 *
 * One step on a global mini-batch of `batch` samples: rank r assembles its
 * contiguous slice of the batch, computes the local gradient sum, and
 *   g_own  = reduce_scatter(local gradients)      (rank r's slice of theta)
 *   v_own  = momentum v_own + g_own               (PyTorch's SGD, no dampening)
 *   th_own = th_own - lr v_own
 *   theta  = allgather(th_own)
 * so the optimizer state is partitioned like the parameters, and every rank
 * ends the step with the same theta. The sample order of epoch e is a
 * permutation drawn from (train seed, e): the batches are the same whatever
 * the number of ranks. */
#ifndef NNCAS_TRAINER_H
#define NNCAS_TRAINER_H

#include "nncas/dataset.h"
#include "nncas/net.h"
#include "nncas/rundir.h"
#include "nncas/table.h"

#define NN_MAX_MILESTONES 16

/* The training curves (one row per epoch) and, with -train_record_steps, the
 * per-step records: tables of these columns. */
extern const NnColumn nn_epoch_columns[];
extern const NnColumn nn_step_columns[];
enum { NN_EPOCH_NCOLS = 7, NN_STEP_NCOLS = 6 };

/* How the step size of each SGD step is chosen. */
typedef enum { STEP_CONSTANT, STEP_DYNAMIC } NnStepRule;
extern const char *const NnStepRules[];

/* What one SGD step measured (sums over all ranks). */
typedef struct {
  double    loss_sum, correct; /* over the batch */
  double    grad_norm;         /* ||g||_2 of the mini-batch gradient */
  double    lr;                /* step size used (0 if the step was not taken) */
  PetscBool stop;              /* a rank got a stop signal */
} NnStepInfo;

typedef struct _p_Trainer *Trainer;
/* A stage run at epoch boundaries: before epoch e (weights theta after e
 * epochs, e = 0 .. epochs), when the run is not resuming in the middle of
 * epoch e; rd is the run's output directory. */
typedef PetscErrorCode (*TrainerHook)(void *ctx, PetscInt epoch, const double *theta, RunDir rd, PetscBool *stopped);
#define NN_MAX_HOOKS 8

PetscErrorCode trainer_create(Dataset ds, Net net, Trainer *t);
/* -log_view events NnBatchLoad, NnGradReduce, NnSGDUpdate, NnEvaluate, NnIOCheckpoint, NnIOResults (trainer_create calls it). */
PetscErrorCode trainer_initialize_package(void);
PetscErrorCode trainer_set_from_options(Trainer t);
/* Allocates, then initialises theta or restores the checkpoint. Needs
 * dataset_setup and net_setup done. */
PetscErrorCode trainer_setup(Trainer t);
/* Runs the remaining epochs; on return trainer_get_exit_status says why. */
PetscErrorCode trainer_train(Trainer t);
PetscErrorCode trainer_destroy(Trainer *t);

/* The settings without the options database, before trainer_setup (each is
 * the value of the option named; trainer_set_from_options may change them
 * again): the epochs (-train_epochs); the global batch sizes of training and
 * of evaluation (-train_batch, -train_eval_batch, 0: the training batch);
 * the learning rate lr, multiplied by gamma at each of the n milestones
 * (-train_lr, -train_lr_gamma, -train_lr_milestones); the checkpoint to
 * continue from (-restart: NULL for a fresh run, "" for
 * OUTPUT_DIR/checkpoint.h5, "auto" for that if it exists, or a path);
 * whether a fresh run replaces a run in the output directory
 * (-output_overwrite). Logically collective on the trainer's communicator. */
PetscErrorCode trainer_set_epochs(Trainer t, PetscInt epochs);
PetscErrorCode trainer_set_batch_sizes(Trainer t, PetscInt batch, PetscInt eval_batch);
PetscErrorCode trainer_set_lr_schedule(Trainer t, PetscReal lr, PetscReal gamma, PetscInt n, const PetscReal milestones[]);
PetscErrorCode trainer_set_restart(Trainer t, const char *from);
PetscErrorCode trainer_set_overwrite(Trainer t, PetscBool overwrite);
/* The global batch sizes of training and of evaluation (-train_batch, -train_eval_batch). */
PetscErrorCode trainer_get_batch_sizes(Trainer t, PetscInt *batch, PetscInt *eval_batch);
/* After trainer_train: NN_EXIT_OK (all epochs done), NN_EXIT_PREEMPTED or NN_EXIT_DIVERGED. */
PetscErrorCode trainer_get_exit_status(Trainer t, int *status);
/* The output directory (created with the trainer; rundir_set_path before
 * trainer_setup chooses it, else -output_dir does). */
PetscErrorCode trainer_get_rundir(Trainer t, RunDir *rd);

/* Stage fn runs at the start of every epoch and after the last one; name
 * (a string constant) says which stage in messages. A stage that fails with
 * NN_ERR_DIVERGED (a Hessian product not finite) ends training as diverged:
 * the divergence is recorded (message, results file), the stage's unfinished
 * results discarded, the last checkpoint kept, and trainer_train returns. */
PetscErrorCode trainer_add_epoch_hook(Trainer t, const char *name, TrainerHook fn, void *ctx);

/* The serializer (trainer_io.c): the complete state into a checkpoint file, and
 * back (errors name the file and what does not match the current options:
 * network, training set, batch size, seed); the training curves into the
 * results file's /training group. */
PetscErrorCode trainer_checkpoint_write(Trainer t, const char *path);
PetscErrorCode trainer_checkpoint_read(Trainer t, const char *path);
PetscErrorCode trainer_results_write(Trainer t);

/* Learning rate of epoch e. */
PetscReal trainer_lr(const Trainer t, PetscInt e);
/* Local slice [lo, hi) of a global batch of Bglobal samples on this rank. */
void trainer_batch_slice(const Trainer t, PetscInt Bglobal, PetscInt *lo, PetscInt *hi);
/* Mean loss and accuracy of theta on a split, evaluation mode. */
PetscErrorCode trainer_evaluate(Trainer t, const NnSamples *split, double *loss, double *acc);
/* One SGD step on the global batch batch_ids[0 .. Bglobal). The step is not
 * taken (info->lr = 0) if the loss or the gradient is not finite. */
PetscErrorCode trainer_step(Trainer t, const PetscInt *batch_ids, PetscInt Bglobal, NnStepInfo *info);


#endif
