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
#include <petscis.h> /* PetscLayout */

#define NN_MAX_MILESTONES 16

/* Exit statuses of the nncas program. */
enum { NN_EXIT_OK = 0, NN_EXIT_ERROR = 1, NN_EXIT_PREEMPTED = 3, NN_EXIT_DIVERGED = 4 };

/* Per-epoch curves, kept in the checkpoint and written to the results file:
 * column c is named nn_history_names[c] (train_loss, train_acc, val_loss,
 * val_acc, lr, seconds, samples_per_second). */
#define NN_HISTORY_NCOLS 7
extern const char *const nn_history_names[NN_HISTORY_NCOLS];
extern const char *const nn_history_units[NN_HISTORY_NCOLS];
extern const char *const nn_history_about[NN_HISTORY_NCOLS];
typedef struct {
  PetscInt n, cap;
  double  *col[NN_HISTORY_NCOLS];
} NnHistory;

typedef struct _p_Trainer *Trainer;
/* A stage run at epoch boundaries: before epoch e (weights after e epochs,
 * e = 0 .. epochs), when the run is not resuming in the middle of epoch e. */
typedef PetscErrorCode (*TrainerHook)(Trainer t, void *ctx);
#define NN_MAX_HOOKS 8

struct _p_Trainer {
  MPI_Comm    comm;
  PetscMPIInt rank, size;
  Dataset     ds;
  Net         net;

  /* options */
  PetscInt  epochs, batch, eval_batch, seed, checkpoint_every;
  PetscReal lr, momentum, gamma, milestones[NN_MAX_MILESTONES];
  PetscInt  nmilestones;
  char      outdir[PETSC_MAX_PATH_LEN];
  char      restart[PETSC_MAX_PATH_LEN]; /* "" fresh run; a path; or "auto" */
  PetscBool overwrite, restarting;
  PetscInt  stop_after_steps;            /* testing: checkpoint and stop after this many steps (0: off) */

  /* state (saved in checkpoints) */
  PetscInt  epoch, step, global_step;    /* next epoch/step to run; steps since the start */
  double    acc_loss, acc_correct, acc_n; /* sums over the current epoch's finished steps */
  double    epoch_seconds;               /* time spent in the current epoch so far */
  double   *theta;                       /* (N) replicated parameters */
  double   *velocity;                    /* (n_own) momentum of the owned slice */
  PetscInt *order;                       /* (train n) sample order of the current epoch */
  NnHistory hist;

  /* layout and work buffers */
  PetscLayout  layout;    /* ownership of theta among the ranks */
  PetscMPIInt *counts, *displs;
  double      *grad, *gown, *x, *y, *t, *dl, *l;
  PetscInt    *ids;
  PetscBool    preempted, diverged, finished;
  TrainerHook  hooks[NN_MAX_HOOKS];
  void        *hook_ctx[NN_MAX_HOOKS];
  PetscInt     nhooks;
  char         checkpoint_path[PETSC_MAX_PATH_LEN], results_path[PETSC_MAX_PATH_LEN];
};

PetscErrorCode trainer_create(Dataset ds, Net net, Trainer *t);
PetscErrorCode trainer_set_from_options(Trainer t);
/* Allocates, then initialises theta or restores the checkpoint. Needs
 * dataset_setup and net_setup done. */
PetscErrorCode trainer_setup(Trainer t);
/* Runs the remaining epochs; on return t->finished, t->preempted or t->diverged says why. */
PetscErrorCode trainer_train(Trainer t);
PetscErrorCode trainer_destroy(Trainer *t);

PetscErrorCode trainer_add_epoch_hook(Trainer t, TrainerHook fn, void *ctx);

/* Learning rate of epoch e. */
PetscReal trainer_lr(const Trainer t, PetscInt e);
/* Local slice [lo, hi) of a global batch of nb samples on this rank. */
void trainer_batch_slice(const Trainer t, PetscInt nb, PetscInt *lo, PetscInt *hi);
/* Mean loss and accuracy of theta on a split, evaluation mode. */
PetscErrorCode trainer_evaluate(Trainer t, const NnSamples *split, double *loss, double *acc);
/* One SGD step on the global batch batch_ids[0 .. nb). Returns the batch's
 * summed loss and correct count over all ranks, and whether any rank got a
 * stop signal. */
PetscErrorCode trainer_step(Trainer t, const PetscInt *batch_ids, PetscInt nb, double *loss_sum, double *correct,
                            PetscBool *stop);

PetscErrorCode history_append(NnHistory *h, const double row[NN_HISTORY_NCOLS]);
PetscErrorCode history_resize(NnHistory *h, PetscInt n); /* n rows (contents kept up to n) */
PetscErrorCode history_destroy(NnHistory *h);

#endif
