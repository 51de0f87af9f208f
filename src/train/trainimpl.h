/* Private to src/train (and white-box tests): the struct behind the opaque
 * Trainer of include/nncas/trainer.h, and what trainer.c and trainer_io.c share. */
#ifndef NNCAS_TRAIN_TRAINIMPL_H
#define NNCAS_TRAIN_TRAINIMPL_H

#include "nncas/trainer.h"
#include "nncas/linalg.h"
#include "nncas/rundir.h"

/* The run's output directory (rundir.c, results_index.c). */
struct _p_RunDir {
  MPI_Comm    comm;
  PetscMPIInt rank, size;
  Dataset     ds;  /* for provenance */
  Net         net; /* for provenance */
  char        dir[PETSC_MAX_PATH_LEN];
  char        checkpoint_path[PETSC_MAX_PATH_LEN], results_path[PETSC_MAX_PATH_LEN];
  int         lock_fd; /* rank 0: the open, locked OUTPUT_DIR/.nncas.lock (-1: none) */
  PetscBool   lock_file;                     /* -output_lock_file: the O_EXCL lock file, not flock */
  char        lock_owner[PETSC_MAX_PATH_LEN]; /* rank 0: the lock file this run created ("": none) */
  PetscBool   fresh;          /* the next committed results part replaces every earlier one */
  PetscBool   layout_checked; /* a continued run's results.h5 is known to be an index */
  NnH5File    results;        /* the results part being written, until committed or discarded */
  char        part[PETSC_MAX_PATH_LEN]; /* its group ("/spectrum/epoch_0005") */
};
/* Rank 0: mkdir -p dir; 0 or errno. */
int rundir_mkdirs(const char *dir);

struct _p_Trainer {
  MPI_Comm    comm;
  PetscMPIInt rank, size;
  Dataset     ds;
  Net         net;
  /* what training needs of them (trainer_setup) */
  const NnSamples *train, *val;
  PetscInt         N, F, K; /* parameters; values per sample; outputs per sample */
  NnLoss           loss;
  PetscBool        augment; /* training batches are augmented */

  /* options */
  PetscInt  epochs, batch, eval_batch, seed, checkpoint_every, checkpoint_keep;
  PetscReal lr, momentum, gamma, milestones[NN_MAX_MILESTONES], divergence_loss;
  PetscInt  nmilestones;
  char      restart[PETSC_MAX_PATH_LEN]; /* "" fresh run; a path; or "auto" */
  PetscBool overwrite, restarting, record_steps;
  PetscBool allow_changes;                /* -restart_allow_changes: a restart may change the settings */
  NnStepRule step_rule;
  PetscInt  stop_after_steps;            /* testing: checkpoint and stop after this many steps (0: off) */

  /* state (saved in checkpoints) */
  PetscInt  epoch, step, global_step;    /* next epoch/step to run; steps since the start */
  double    acc_loss, acc_correct, acc_n; /* sums over the current epoch's finished steps */
  double    epoch_seconds;               /* time spent in the current epoch so far */
  double   *theta;                       /* (N) replicated parameters */
  double   *velocity;                    /* (n_own) momentum of the owned slice */
  PetscInt *order;                       /* (train n) sample order of the current epoch */
  NnTable   hist;                        /* per-epoch curves */
  NnTable   steps;                       /* per-step records (-train_record_steps) */

  /* layout and work buffers */
  PetscMPIInt *counts, *displs;
  double      *grad, *gown, *x, *y, *t, *dl, *l;
  PetscInt    *ids;
  PetscBool    preempted, diverged, finished;
  char         last_checkpoint[PETSC_MAX_PATH_LEN]; /* the latest good checkpoint: written, or restarted from ("" none) */
  char         diverged_what[256]; /* what diverged and when */
  TrainerHook  hooks[NN_MAX_HOOKS];
  void        *hook_ctx[NN_MAX_HOOKS];
  const char  *hook_name[NN_MAX_HOOKS];
  PetscInt     nhooks;
  const char  *running; /* name of the stage running now (NULL: none) */
  RunDir       rundir;  /* OUTPUT_DIR: its lock, checkpoint.h5 and results.h5 */
};

/* -log_view events of training (trainer_initialize_package, trainer_package.c). */
typedef struct {
  PetscLogEvent batch, reduce, update, evaluate, checkpoint, results;
} TrainerEvents;
extern TrainerEvents trainer_events;

/* weights_io.c: fn(ctx, f, path, ndims, dims, off, len) for each parameter
 * tensor of net under group (Lii_kind/weight in PyTorch's shape, then
 * Lii_kind/bias), at theta[off, off + len); writing creates the tensors'
 * groups. nn_weights_owned_part: the part of [off, off + len) in the owned
 * slice [lo, hi) of theta, as a range of the tensor and a pointer into own
 * (which holds theta[lo, hi)). */
typedef PetscErrorCode (*NnTensorFn)(void *ctx, NnH5File *f, const char *path, int ndims, const hsize_t *dims, PetscInt off,
                                     PetscInt len);
PetscErrorCode nn_weights_for_each(Net net, NnH5File *f, const char *group, PetscBool writing, NnTensorFn fn, void *ctx);
void nn_weights_owned_part(PetscInt lo, PetscInt hi, PetscInt off, PetscInt len, double *own, hsize_t *start, hsize_t *count,
                           double **ptr);

#endif
