/* Training: results do not depend on the number of ranks beyond rounding, and
 * a run stopped and restarted from its checkpoint continues bit for bit. */
#include "testlib.h"
#include "nncas/trainer.h"
#include "train/trainimpl.h"     /* white-box: the state, read */
#include "train/trainer_testing.h" /* trainer_testing_set_stop_after_steps */

#include <string.h>

#define SPEC "conv:4:3,bn,relu,pool:2,dropout:0.2,dense:12,bn,tanh,dropout:0.3,dense:1"

/* The run's output in SCRATCH/name. */
static PetscErrorCode set_output_dir(Trainer t, const char *name)
{
  char   dir[PETSC_MAX_PATH_LEN];
  RunDir rd;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(dir, sizeof dir, "%s/%s", nn_test_scratch(), name));
  PetscCall(trainer_get_rundir(t, &rd));
  PetscCall(rundir_set_path(rd, dir));
  PetscFunctionReturn(0);
}

/* net_setup for the data set's sample shape. */
static PetscErrorCode net_setup_for(Net net, Dataset ds, PetscInt Bmax)
{
  PetscInt c, h, w;
  PetscFunctionBeginUser;
  PetscCall(dataset_get_shape(ds, &c, &h, &w));
  PetscCall(net_setup(net, c, h, w, Bmax));
  PetscFunctionReturn(0);
}

typedef struct {
  Dataset ds;
  Net     net;
  Trainer t;
} Run;

/* A run on comm: synthetic mixture data, a small net with BN and dropout,
 * output in SCRATCH/name. */
static PetscErrorCode run_create(MPI_Comm comm, const char *name, PetscInt epochs, PetscInt stop_after, PetscBool restart,
                                 Run *r)
{
  PetscMPIInt size;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscOptionsSetValue(NULL, "-data_format", "mixture"));
  PetscCall(PetscOptionsSetValue(NULL, "-synth_train", "100"));
  PetscCall(PetscOptionsSetValue(NULL, "-synth_val", "30"));
  PetscCall(PetscOptionsSetValue(NULL, "-synth_shape", "2,6,6"));
  PetscCall(dataset_create(comm, &r->ds));
  PetscCall(dataset_set_from_options(r->ds));
  PetscCall(dataset_setup(r->ds));
  PetscCall(net_create(comm, &r->net));
  PetscCall(net_set_spec(r->net, SPEC));
  PetscCall(net_set_loss(r->net, LOSS_HINGE));
  PetscCall(trainer_create(r->ds, r->net, &r->t));
  PetscCall(trainer_set_epochs(r->t, epochs));
  PetscCall(trainer_set_batch_sizes(r->t, 16, 16)); /* 100 samples: 6 full batches and one of 4 */
  PetscCall(trainer_set_lr_schedule(r->t, 0.05, 0.1, 1, (const PetscReal[]){1}));
  PetscCall(trainer_testing_set_stop_after_steps(r->t, stop_after));
  PetscCall(trainer_set_restart(r->t, restart ? "" : NULL));
  PetscCall(trainer_set_overwrite(r->t, PETSC_TRUE));
  PetscCall(set_output_dir(r->t, name));
  PetscCall(net_setup_for(r->net, r->ds, (16 + size - 1) / size));
  PetscCall(trainer_setup(r->t));
  PetscFunctionReturn(0);
}

static PetscErrorCode run_destroy(Run *r)
{
  PetscFunctionBeginUser;
  PetscCall(trainer_destroy(&r->t));
  PetscCall(net_destroy(&r->net));
  PetscCall(dataset_destroy(&r->ds));
  PetscFunctionReturn(0);
}

static PetscErrorCode training_on_all_ranks_matches_one_rank_to_rounding(void)
{
  Run         world, self;
  PetscMPIInt rank;
  char        name[64];
  double      maxd = 0;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(run_create(PETSC_COMM_WORLD, "ranks_world", 2, 0, PETSC_FALSE, &world));
  PetscCall(trainer_train(world.t));
  PetscCall(PetscSNPrintf(name, sizeof name, "ranks_self%d", (int)rank));
  PetscCall(run_create(PETSC_COMM_SELF, name, 2, 0, PETSC_FALSE, &self));
  PetscCall(trainer_train(self.t));
  NN_CHECK(world.t->finished && self.t->finished, "a run did not finish");
  for (PetscInt i = 0; i < world.t->N; i++) {
    double d = fabs(world.t->theta[i] - self.t->theta[i]) / (1e-3 + fabs(self.t->theta[i]));
    maxd     = fmax(maxd, d);
  }
  for (int c = 0; c < 4; c++)
    for (PetscInt e = 0; e < 2; e++)
      NN_CHECK(nn_relerr(world.t->hist.col[c][e], self.t->hist.col[c][e], 1e-12) < 1e-10, "%s epoch %d: %.17g vs %.17g",
               world.t->hist.cols[c].name, (int)e, world.t->hist.col[c][e], self.t->hist.col[c][e]);
  NN_CHECK(maxd < 1e-10, "weights after 2 epochs differ by %.3e (relative) from the one-rank run", maxd);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     largest relative weight difference to one rank: %.2e\n", maxd));
  PetscCall(run_destroy(&world));
  PetscCall(run_destroy(&self));
  PetscFunctionReturn(0);
}

static PetscErrorCode restart_continues_bitwise(void)
{
  Run a, b, c;
  PetscFunctionBeginUser;
  PetscCall(run_create(PETSC_COMM_WORLD, "straight", 3, 0, PETSC_FALSE, &a));
  PetscCall(trainer_train(a.t));
  /* stopped in the middle of epoch 2, then continued */
  PetscCall(run_create(PETSC_COMM_WORLD, "stopped", 3, 10, PETSC_FALSE, &b));
  PetscCall(trainer_train(b.t));
  NN_CHECK(b.t->preempted && b.t->epoch == 1 && b.t->step == 3, "stop at epoch %d step %d", (int)b.t->epoch, (int)b.t->step);
  PetscCall(run_destroy(&b));
  PetscCall(run_create(PETSC_COMM_WORLD, "stopped", 3, 0, PETSC_TRUE, &c));
  NN_CHECK(c.t->epoch == 1 && c.t->step == 3 && c.t->global_step == 10, "restored epoch %d step %d", (int)c.t->epoch,
           (int)c.t->step);
  PetscCall(trainer_train(c.t));
  NN_CHECK(c.t->finished, "the restarted run did not finish");
  NN_CHECK(!memcmp(a.t->theta, c.t->theta, sizeof(double) * a.t->N), "restarted weights differ from the uninterrupted run");
  NN_CHECK(!memcmp(a.t->velocity, c.t->velocity, sizeof(double) * a.t->counts[a.t->rank]), "restarted momentum differs");
  for (int col = 0; col < 5; col++)
    NN_CHECK(!memcmp(a.t->hist.col[col], c.t->hist.col[col], sizeof(double) * 3), "restarted %s curve differs",
             a.t->hist.cols[col].name);
  PetscCall(run_destroy(&a));
  PetscCall(run_destroy(&c));
  PetscFunctionReturn(0);
}

static PetscErrorCode fresh_run_refuses_to_overwrite_a_run(void)
{
  Run            a, b;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(run_create(PETSC_COMM_WORLD, "guarded", 1, 0, PETSC_FALSE, &a));
  PetscCall(trainer_train(a.t));
  PetscCall(run_destroy(&a));
  /* same output directory, no -restart, no -output_overwrite */
  PetscCall(PetscOptionsSetValue(NULL, "-data_format", "mixture"));
  PetscCall(dataset_create(PETSC_COMM_WORLD, &b.ds));
  PetscCall(dataset_set_from_options(b.ds));
  PetscCall(dataset_setup(b.ds));
  PetscCall(net_create(PETSC_COMM_WORLD, &b.net));
  PetscCall(net_set_spec(b.net, SPEC));
  PetscCall(net_setup_for(b.net, b.ds, 16));
  PetscCall(trainer_create(b.ds, b.net, &b.t));
  PetscCall(set_output_dir(b.t, "guarded"));
  PetscCall(trainer_set_batch_sizes(b.t, 16, 0));
  ierr       = trainer_setup(b.t);
  NN_CHECK(ierr && strstr(nn_error_last(), "already holds a run"), "a fresh run in a used directory was allowed (%s)",
           nn_error_last());
  nn_error_clear();
  PetscCall(run_destroy(&b));
  PetscFunctionReturn(0);
}

static PetscErrorCode restart_rejects_another_network(void)
{
  Run            a;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(run_create(PETSC_COMM_WORLD, "othernet", 1, 0, PETSC_FALSE, &a));
  PetscCall(trainer_train(a.t));
  PetscCall(run_destroy(&a));
  PetscCall(dataset_create(PETSC_COMM_WORLD, &a.ds));
  PetscCall(dataset_set_from_options(a.ds));
  PetscCall(dataset_setup(a.ds));
  PetscCall(net_create(PETSC_COMM_WORLD, &a.net));
  PetscCall(net_set_spec(a.net, "conv:4:3,relu,dense:1"));
  PetscCall(net_setup_for(a.net, a.ds, 16));
  PetscCall(trainer_create(a.ds, a.net, &a.t));
  PetscCall(set_output_dir(a.t, "othernet"));
  PetscCall(trainer_set_batch_sizes(a.t, 16, 0));
  PetscCall(trainer_set_restart(a.t, ""));
  ierr            = trainer_setup(a.t);
  NN_CHECK(ierr && strstr(nn_error_last(), "different network"), "restart with another network: %s", nn_error_last());
  nn_error_clear();
  PetscCall(run_destroy(&a));
  PetscFunctionReturn(0);
}

NN_TEST_MAIN(NN_TEST_CASE(training_on_all_ranks_matches_one_rank_to_rounding), NN_TEST_CASE(restart_continues_bitwise),
             NN_TEST_CASE(fresh_run_refuses_to_overwrite_a_run), NN_TEST_CASE(restart_rejects_another_network))
