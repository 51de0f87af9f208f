/* The stage interface: the registry of stage types and the generic calls. */
#include "stageimpl.h"

#include <string.h>

typedef struct {
  const char *type;
  PetscErrorCode (*create)(NnStage st); /* the type's defaults and NnStageOps (its own file) */
} StageType;

/* The stage types, in the order a run creates and runs them: a new stage is
 * its file and a line here. */
PetscErrorCode nn_stage_create_initscale(NnStage), nn_stage_create_spectrum(NnStage), nn_stage_create_coupling(NnStage);
static const StageType stage_types[] = {
  {"initscale", nn_stage_create_initscale},
  {"spectrum", nn_stage_create_spectrum},
  {"coupling", nn_stage_create_coupling},
};

const char *nn_stage_type(int k) { return k >= 0 && k < (int)(sizeof stage_types / sizeof stage_types[0]) ? stage_types[k].type : NULL; }

static PetscClassId stage_class;

PetscErrorCode nn_stage_initialize_package(void)
{
  static PetscBool done;
  PetscFunctionBeginUser;
  if (done) PetscFunctionReturn(0);
  done = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("nncas stage", &stage_class));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_stage_create(const char *type, Dataset ds, Net net, NnStage *st)
{
  NnStage s;
  size_t  k = 0;
  char    event[64];
  MPI_Comm comm;
  PetscFunctionBeginUser;
  PetscCall(dataset_get_comm(ds, &comm));
  while (k < sizeof stage_types / sizeof stage_types[0] && strcmp(stage_types[k].type, type)) k++;
  PetscCheck(k < sizeof stage_types / sizeof stage_types[0], comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "no stage type \"%s\"", type);
  PetscCall(nn_stage_initialize_package());
  PetscCall(PetscNew(&s));
  s->comm = comm;
  s->ds   = ds;
  s->net  = net;
  s->type = stage_types[k].type;
  s->groups = (NnRankGroups){.comm = comm, .group_comm = MPI_COMM_NULL, .n = 1};
  PetscCall(PetscSNPrintf(event, sizeof event, "NnStage_%s", s->type));
  PetscCall(PetscLogEventRegister(event, stage_class, &s->event));
  PetscCall(stage_types[k].create(s));
  *st = s;
  PetscFunctionReturn(0);
}

/* -stage_groups G (nn_rank_groups_create). */
static PetscErrorCode nn_stage_groups_setup(NnStage st)
{
  PetscInt G = st->groups.n;
  PetscFunctionBeginUser;
  PetscOptionsBegin(st->comm, NULL, "Rank groups of the stages", NULL);
  PetscCall(PetscOptionsInt("-stage_groups",
                            "split the ranks into G groups, each with its own copy of the Hessian, working on independent "
                            "units side by side (the spectrum's density and trace vectors, the coupling draws' per-batch entries, the "
                            "init-scaling study's initialisations)",
                            NULL, G, &G, NULL));
  PetscOptionsEnd();
  PetscCall(nn_rank_groups_destroy(&st->groups));
  PetscCall(nn_rank_groups_create(st->comm, G, &st->groups));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_stage_set_from_options(NnStage st)
{
  char name[64], title[64];
  PetscFunctionBeginUser;
  PetscCall(st->ops.set_from_options(st));
  PetscCall(PetscSNPrintf(name, sizeof name, "-%s_stop_after", st->type));
  /* a title of its own: PETSc's -help prints a (prefix, title) block once */
  PetscCall(PetscSNPrintf(title, sizeof title, "Stage %s testing options", st->type));
  PetscOptionsBegin(st->comm, NULL, title, NULL);
  PetscCall(PetscOptionsInt(name, "testing: act on a stop signal after this many units of the stage's work (0: off)", NULL,
                            st->stop_after, &st->stop_after, NULL));
  PetscOptionsEnd();
  PetscCheck(st->stop_after >= 0, st->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s must be non-negative (0: off)", name);
  PetscCall(nn_stage_groups_setup(st));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_stage_local_samples(NnStage st, PetscInt train_batch, PetscInt *nlocal)
{
  PetscFunctionBeginUser;
  PetscCall(st->ops.local_samples(st, train_batch, nlocal));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_stage_setup(NnStage st, PetscInt train_batch)
{
  PetscFunctionBeginUser;
  PetscCall(net_get_size(st->net, &st->N));
  PetscCall(st->ops.setup(st, train_batch));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_stage_run(NnStage st, PetscInt epoch, const double *theta, RunDir rd, PetscBool *stopped)
{
  PetscFunctionBeginUser;
  *stopped = PETSC_FALSE;
  if (!st->ops.due(st, epoch)) PetscFunctionReturn(0);
  st->units = 0;
  PetscCall(PetscLogEventBegin(st->event, 0, 0, 0, 0));
  PetscCall(st->ops.run(st, epoch, theta, rd, stopped));
  PetscCall(PetscLogEventEnd(st->event, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_stage_destroy(NnStage *st)
{
  PetscFunctionBeginUser;
  if (!*st) PetscFunctionReturn(0);
  if ((*st)->ops.destroy) PetscCall((*st)->ops.destroy(*st));
  PetscCall(nn_rank_groups_destroy(&(*st)->groups));
  PetscCall(PetscFree(*st));
  PetscFunctionReturn(0);
}

const char *nn_stage_title(NnStage st) { return st->title; }
