/* What nncas says about itself: the short help built from the options the
 * components recorded (core/options_record.c), and the versions of the
 * libraries in use. (The mode of the command line: src/init/init.c.) */
#include "usage.h"

#include "nncas/h5io.h"
#include "nncas/net.h"
#include "nncas/version.h"

#include <slepcsys.h>
#include <string.h>

const char nn_usage_intro[] = "nncas " NNCAS_VERSION " (" NNCAS_GIT_HASH "): trains neural networks and measures their loss landscape.\n"
                              "Usage: mpiexec -n P nncas [-options_file FILE] [options]\n\n";

/* The components, by the prefixes of their options' names. */
typedef struct {
  const char *title;
  const char *prefixes[3];
} UsageGroup;
static const UsageGroup groups[] = {
  {"Data set (-data_*, -synth_*)", {"data_", "synth_"}},
  {"Network (-net_*)", {"net_"}},
  {"Training (-train_*)", {"train_"}},
  {"Output, checkpoints and restart", {"output_", "checkpoint_", "restart"}},
  {"Rank groups of the stages (-stage_groups)", {"stage_"}},
  {"Hessian operator (-hessian_*, -dense_*)", {"hessian_", "dense_"}},
  {"Spectrum (-spectrum_*; SLEPc's -eps_* apply to the extreme eigenvalues)", {"spectrum_"}},
  {"Coupling-set statistics, App. E (-coupling_*)", {"coupling_"}},
  {"Initialisation-scaling study, Sec. 5.2 (-initscale*)", {"initscale"}},
};

static PetscBool in_group(const char *name, const UsageGroup *g)
{
  for (int k = 0; k < 3 && g->prefixes[k]; k++)
    if (!strncmp(name, g->prefixes[k], strlen(g->prefixes[k]))) return PETSC_TRUE;
  return PETSC_FALSE;
}

/* The options of group g (NULL: all not yet shown) that are not shown yet,
 * under its title; *shown marks them. */
static PetscErrorCode usage_group(const NnOptionRecords *known, const UsageGroup *g, PetscBool *shown)
{
  PetscBool titled = PETSC_FALSE;
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < known->n; i++) {
    const NnOptionRecord *r = &known->item[i];
    char                  head[256];
    if (shown[i] || (g && !in_group(r->name, g))) continue;
    shown[i] = PETSC_TRUE;
    if (!strncmp(r->text, "testing:", 8)) continue; /* for the test suite, not for users */
    if (!titled) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s:\n", g ? g->title : "Other options"));
    titled = PETSC_TRUE;
    if (r->deflt[0]) PetscCall(PetscSNPrintf(head, sizeof head, "-%s <%s>", r->name, r->deflt));
    else PetscCall(PetscSNPrintf(head, sizeof head, "-%s", r->name));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  %-30s %s\n", head, r->text));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode nn_usage_help(const NnOptionRecords *known)
{
  PetscBool  *shown;
  const char *name, *about;
  PetscFunctionBeginUser;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%sOptions <default>, by component:\n", nn_usage_intro));
  PetscCall(PetscCalloc1(known->n + 1, &shown));
  for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) PetscCall(usage_group(known, &groups[g], shown));
  PetscCall(usage_group(known, NULL, shown));
  PetscCall(PetscFree(shown));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "Presets of -net_preset:\n"));
  for (size_t k = 0; (name = net_preset_name(k, &about)); k++) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  %-16s %s\n", name, about));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "PETSc's and SLEPc's own options (-log_view, -eps_*, ...), then these: nncas -help all\n"));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_usage_version(void)
{
  char     h5[64], mpi[MPI_MAX_LIBRARY_VERSION_STRING];
  int      len;
  PetscInt pv[4], sv[4];
  PetscFunctionBeginUser;
  PetscCall(PetscGetVersionNumber(&pv[0], &pv[1], &pv[2], &pv[3]));
  PetscCall(SlepcGetVersionNumber(&sv[0], &sv[1], &sv[2], &sv[3]));
  PetscCall(nn_h5_library_version(h5, sizeof h5));
  PetscCallMPI(MPI_Get_library_version(mpi, &len));
  mpi[strcspn(mpi, "\n")] = 0; /* its first line */
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "nncas %s (git %s)\n", NNCAS_VERSION, NNCAS_GIT_HASH));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "PETSc %d.%d.%d\nSLEPc %d.%d.%d\n", (int)pv[0], (int)pv[1], (int)pv[2], (int)sv[0],
                        (int)sv[1], (int)sv[2]));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "HDF5 %s\nMPI: %s\n", h5, mpi));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "BLAS: %s; kernels %s", nn_blas_config(), nn_blas_core()));
  if (nn_blas_replaced()) /* src/core/blas.c */
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, " (OPENBLAS_CORETYPE set by nncas: OpenBLAS chose %s)", nn_blas_replaced()));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "\n"));
  PetscFunctionReturn(0);
}
