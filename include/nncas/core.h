/* Core services shared by every nncas component: the error handler that turns
 * PETSc's error stack into one clear line, counter-based random numbers that do
 * not depend on the MPI rank count, logging events, and progress lines. */
#ifndef NNCAS_CORE_H
#define NNCAS_CORE_H

#include <petscsys.h>
#include <petscviewer.h>
#include <stdint.h>

#include "nncas/streams.h"

/* ---------------------------------------------------------------- errors -- */
/* Exit statuses of nncas's programs (decided by nn_finalize, nncas/init.h). */
enum { NN_EXIT_OK = 0, NN_EXIT_ERROR = 1, NN_EXIT_PREEMPTED = 3, NN_EXIT_DIVERGED = 4 };

/* The error code of numerical divergence found deep inside a computation (a
 * Hessian product that is not finite), raised on every rank alike: whoever
 * runs the computation tells it from a failure by the code returned (the
 * trainer reports a stage's as divergence, NN_EXIT_DIVERGED). Above PETSc's
 * own codes (PETSC_ERR_MAX_VALUE), which PetscCall passes up unchanged. */
#define NN_ERR_DIVERGED 1000


/* Install the handler that prints the originating error once, as
 * "nncas: error: <message>", instead of PETSc's traceback. Rank 0 prints errors
 * raised on a communicator of several ranks; a rank prints its own errors raised
 * on PETSC_COMM_SELF. */
PetscErrorCode nn_error_handler_push(void);

/* Called by nn_finalize after a program's work failed with code ierr: waits
 * (at most timeout_s seconds) for every rank to fail too; if they do, returns
 * and the program finalizes cleanly; if not, the failure was local and the job
 * is aborted so no rank is left hanging in a collective. */
void nn_error_exit(PetscErrorCode ierr, double timeout_s);

/* ---- the options the components read (core/options_record.c) ---- */
/* What PETSc's -help prints for each option a PetscOptionsBegin block reads. */
typedef struct {
  char *name;  /* without the dash: "train_epochs" */
  char *deflt; /* the value before the options were read ("" if none) */
  char *text;  /* the description; an enumeration's values after "; one of" */
} NnOptionRecord;
typedef struct {
  PetscInt        n;
  NnOptionRecord *item;
} NnOptionRecords;
/* From nn_options_record_begin() to nn_options_record_end(), PETSc's help text
 * is kept instead of printed (-help is set meanwhile unless it was), and then
 * read into records: the options the components registered, with their
 * defaults and descriptions, in the order they were read. */
PetscErrorCode nn_options_record_begin(void);
PetscErrorCode nn_options_record_end(NnOptionRecords *r);
PetscErrorCode nn_options_records_destroy(NnOptionRecords *r);

/* ---- options (core/options.c) ---- */
/* Error "unknown option -X (did you mean -Y? ...)" for the first option given
 * that nothing has read, unless `later` (NULL-terminated, without the dash;
 * an entry ending in "_" is a prefix) says it is read after this point, or
 * PetscFinalize reads it. Y is the nearest (edit distance) of the recorded
 * names and PETSc's general options. Collective on PETSC_COMM_WORLD. */
PetscErrorCode nn_options_check_unknown(const NnOptionRecords *known, const char *const later[]);
/* Rank 0 warns on stderr about every option that was given but never read
 * (PETSc's -options_left, one line each; not those PetscFinalize reads):
 * called after a successful run, for the options the check let pass as read
 * late (a misspelt -eps_* option). */
PetscErrorCode nn_options_warn_unused(void);
/* Error naming the option unless its value v is a finite number in the
 * interval `range`, written as in mathematics: "(0, inf)", "[0, 1)". */
PetscErrorCode nn_option_check_real(MPI_Comm comm, const char *name, PetscReal v, const char *range);
/* Before PETSc starts: every -options_file FILE of argv is a readable file. On
 * failure rank 0 prints one "nncas: error:" line naming the file; returns 1. */
int nn_options_files_readable(int argc, char **argv);
/* The settings that identify a run, as (name, value) text pairs: a checkpoint
 * records them, and a restart compares them with the current ones. */
#define NN_MAX_SETTINGS 32
typedef struct {
  char name[48], value[208];
} NnSetting;
typedef struct {
  int       n;
  NnSetting item[NN_MAX_SETTINGS];
} NnSettings;
/* Appends (name, printf-formatted value); an error if the list is full. */
PetscErrorCode nn_settings_add(NnSettings *s, const char *name, const char *fmt, ...) PETSC_ATTRIBUTE_FORMAT(3, 4);
/* Appends a real value in the shortest decimal form that reads back exactly. */
PetscErrorCode nn_settings_add_real(NnSettings *s, const char *name, double v);

/* Options whose values are text (paths, layer strings): a value that cannot be
 * read as a number is never theirs. */
PetscBool nn_option_is_text(const char *name);
/* The message of the first error since the last nn_error_clear() ("" if none). */
const char *nn_error_last(void);
void        nn_error_clear(void);

/* ------------------------------------------------------------------ BLAS -- */
/* The kernels OpenBLAS chose ("SkylakeX", "Haswell", ...; "not OpenBLAS"
 * under another BLAS): the rounding of every GEMM depends on them. */
const char *nn_blas_core(void);
/* OpenBLAS's build ("OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell
 * MAX_THREADS=64"), or "not OpenBLAS". */
const char *nn_blas_config(void);
/* The OPENBLAS_CORETYPE that suits a CPU with the given vector units when
 * OpenBLAS chose `core`, or NULL when `core` already uses them. */
const char *nn_blas_better_core(const char *core, PetscBool avx512, PetscBool avx2);
/* nn_blas_better_core for the kernels this process runs on and its CPU. */
const char *nn_blas_better_than_current(void);
/* First thing in main(), before MPI: when OpenBLAS fell back to kernels
 * without the CPU's AVX2/AVX-512 (a CPU newer than the OpenBLAS release) and
 * OPENBLAS_CORETYPE is unset, sets it and executes the program again with
 * argv; otherwise returns. */
void nn_blas_select(char **argv);
/* The kernels OpenBLAS chose itself when nn_blas_select replaced them, else NULL. */
const char *nn_blas_replaced(void);

/* ------------------------------------------------- counter-based random -- */
/* A stream is a 64-bit key; the i-th draw of a stream is a pure function of
 * (key, i), so a sample's dropout mask, crop offset or a weight's init value is
 * the same whatever rank computes it and whatever happened before. */
typedef uint64_t NnRngKey;

NnRngKey nn_rng_key(uint64_t seed, uint64_t stream, uint64_t substream);
uint64_t nn_rng_bits(NnRngKey key, uint64_t i);
double   nn_rng_uniform(NnRngKey key, uint64_t i);  /* in [0, 1) */
double   nn_rng_normal(NnRngKey key, uint64_t i);   /* N(0, 1), Box-Muller on draws 2i, 2i+1 */
/* Fisher-Yates permutation of 0..n-1 driven by the stream key. */
void nn_rng_permutation(NnRngKey key, PetscInt n, PetscInt *perm);

/* The named streams and their substreams: nncas/streams.h. */

/* -------------------------------------------------------------- logging -- */
/* Each module registers its own -log_view events once, in its
 * X_initialize_package() (called by its create function), as PETSc's
 * XInitializePackage() does: net, dataset, hessian, spectrum, dense, trainer,
 * stage. */

/* ------------------------------------------------------------- progress -- */
/* The one progress-line printer: on rank 0 of PETSC_COMM_WORLD,
 * "[<stage>] <done>/<total> <extra> elapsed <time> ETA <time>". */
typedef struct {
  const char *stage;
  PetscLogDouble t0, last;
  PetscInt total;
} NnProgress;
void nn_progress_start(NnProgress *p, const char *stage, PetscInt total);
/* Prints at most every min_interval seconds, and always when done == total. */
PetscErrorCode nn_progress_report(NnProgress *p, PetscInt done, double min_interval, const char *fmt, ...);

/* ---------------------------------------------------------- rank groups -- */
/* -stage_groups G: the ranks of comm in G contiguous groups (rank r of P in
 * group r G / P; sizes differ by at most one), each with its own
 * communicator, working on independent units (vectors, initialisations) side
 * by side in rounds: units [k0, k0 + G), unit k0 + g on group g, while every
 * group has one; the last units, fewer than G, one at a time on all ranks (a
 * group alone would take about G times as long). */
typedef struct {
  MPI_Comm    comm, group_comm; /* all ranks; this rank's group (MPI_COMM_NULL with one group) */
  PetscInt    n, index;         /* G; this rank's group */
  PetscMPIInt group_rank;       /* this rank's rank in its group */
} NnRankGroups;
PetscErrorCode nn_rank_groups_create(MPI_Comm comm, PetscInt ngroups, NnRankGroups *g);
PetscErrorCode nn_rank_groups_destroy(NnRankGroups *g);
/* The round from unit k0 of n: returns its width w (G, or 1 for a unit on
 * all ranks), the units [k0, k0 + w); *mine is this rank's unit (< k0 + w). */
PetscInt nn_rank_groups_round(const NnRankGroups *g, PetscInt k0, PetscInt n, PetscInt *mine);
/* The end of a round [k0, k1) of width > 1: the units' results (n values of
 * type t each, unit k at buf + k n, computed by its group) made the same on
 * every rank, exactly: each group's first rank contributes its unit, every
 * other slot is zeroed, and one MPI_Allreduce sums them. Nothing to do for a
 * round of width 1. */
PetscErrorCode nn_rank_groups_share(const NnRankGroups *g, PetscInt k0, PetscInt k1, PetscInt n, MPI_Datatype t, void *buf);
/* The rank in g->comm of group index's first rank (a root for its results). */
PetscErrorCode nn_rank_groups_first_rank(const NnRankGroups *g, PetscInt index, PetscMPIInt *rank);

/* ---------------------------------------------------------------- misc -- */
/* Parse a comma-separated list of reals / integers from a string. */
PetscErrorCode nn_parse_real_list(const char *what, const char *s, PetscInt max, PetscReal *v, PetscInt *n);
/* Wall-clock seconds. */
double nn_wtime(void);


/* -------------------------------------------------------------- signals -- */
/* SIGTERM, SIGINT and SIGUSR1 (SLURM's --signal) set a flag that long stages
 * poll at their next safe point (checkpoint, then exit NN_EXIT_PREEMPTED). */
void nn_signals_block(void);   /* before MPI/PETSc start: hold the signals */
void nn_signals_install(void); /* then: the handlers, and release what was held */
int  nn_signal_pending(void);
/* Collective over comm: did any rank get a stop signal? (Ranks get the
 * signal at different moments; they must agree before stopping together.) */
PetscErrorCode nn_signal_agreed(MPI_Comm comm, PetscBool *stop);
#endif
