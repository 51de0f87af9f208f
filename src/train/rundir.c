/* The run's output directory: creation, the lock, file paths and provenance. */
#include "nncas/rundir.h"
#include "nncas/version.h"
#include "trainimpl.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct _p_RunDir {
  MPI_Comm    comm;
  PetscMPIInt rank, size;
  Dataset     ds;  /* for provenance */
  Net         net; /* for provenance */
  char        dir[PETSC_MAX_PATH_LEN];
  char        checkpoint_path[PETSC_MAX_PATH_LEN], results_path[PETSC_MAX_PATH_LEN];
  int         lock_fd; /* rank 0: the open, locked OUTPUT_DIR/.nncas.lock (-1: none) */
  PetscBool   fresh;   /* the next rundir_results_open starts results.h5 anew */
  NnH5File    results; /* the results file rundir_results_open opened, until committed or discarded */
};

PetscErrorCode rundir_create(Dataset ds, Net net, RunDir *rd)
{
  RunDir r;
  PetscFunctionBeginUser;
  PetscCall(PetscNew(&r));
  PetscCall(dataset_get_comm(ds, &r->comm));
  PetscCallMPI(MPI_Comm_rank(r->comm, &r->rank));
  PetscCallMPI(MPI_Comm_size(r->comm, &r->size));
  r->ds      = ds;
  r->net     = net;
  r->lock_fd      = -1;
  r->results.file = H5I_INVALID_HID;
  PetscCall(rundir_set_path(r, "nncas-out"));
  *rd = r;
  PetscFunctionReturn(0);
}

PetscErrorCode rundir_set_path(RunDir rd, const char *dir)
{
  PetscFunctionBeginUser;
  PetscCheck(dir[0], rd->comm, PETSC_ERR_ARG_WRONG, "-output_dir must not be empty");
  PetscCheck(strlen(dir) + sizeof "/checkpoint.h5.tmp" <= sizeof rd->dir, rd->comm, PETSC_ERR_ARG_SIZ,
             "-output_dir %s: path too long", dir);
  PetscCall(PetscStrncpy(rd->dir, dir, sizeof rd->dir));
  PetscCall(PetscSNPrintf(rd->checkpoint_path, sizeof rd->checkpoint_path, "%s/checkpoint.h5", rd->dir));
  PetscCall(PetscSNPrintf(rd->results_path, sizeof rd->results_path, "%s/results.h5", rd->dir));
  PetscFunctionReturn(0);
}

PetscErrorCode rundir_set_from_options(RunDir rd)
{
  char dir[PETSC_MAX_PATH_LEN];
  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(dir, rd->dir, sizeof dir));
  PetscOptionsBegin(rd->comm, NULL, "Output options", NULL);
  PetscCall(PetscOptionsString("-output_dir", "directory for checkpoint.h5 and results.h5", NULL, dir, dir, sizeof dir, NULL));
  PetscOptionsEnd();
  PetscCall(rundir_set_path(rd, dir));
  PetscFunctionReturn(0);
}

const char *rundir_path(RunDir rd) { return rd->dir; }
const char *rundir_checkpoint_path(RunDir rd) { return rd->checkpoint_path; }
const char *rundir_results_path(RunDir rd) { return rd->results_path; }

/* mkdir -p of the output directory on rank 0; the outcome is shared. */
static PetscErrorCode rundir_make(RunDir rd)
{
  int err = 0;
  PetscFunctionBeginUser;
  if (!rd->rank) {
    char path[PETSC_MAX_PATH_LEN];
    PetscCall(PetscStrncpy(path, rd->dir, sizeof path));
    for (char *c = path + 1; *c && !err; c++)
      if (*c == '/') {
        *c = 0;
        if (mkdir(path, 0755) && errno != EEXIST) err = errno;
        *c = '/';
      }
    if (!err && mkdir(path, 0755) && errno != EEXIST) err = errno;
    struct stat st;
    if (!err && (stat(path, &st) || !S_ISDIR(st.st_mode))) err = ENOTDIR;
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, rd->comm));
  PetscCheck(!err, rd->comm, PETSC_ERR_FILE_OPEN, "-output_dir %s: cannot create the directory (%s)", rd->dir, strerror(err));
  PetscFunctionReturn(0);
}

/* Rank 0 holds an exclusive lock on OUTPUT_DIR/.nncas.lock until
 * rundir_destroy() (the kernel drops it when the process ends, however it
 * ends). */
static PetscErrorCode rundir_lock(RunDir rd)
{
  char path[PETSC_MAX_PATH_LEN];
  int  err = 0;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/.nncas.lock", rd->dir));
  if (!rd->rank) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) err = errno;
    else if (flock(fd, LOCK_EX | LOCK_NB)) err = errno, close(fd);
    else rd->lock_fd = fd; /* open while the run lives: closing it releases the lock */
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, rd->comm));
  PetscCheck(err != EWOULDBLOCK, rd->comm, PETSC_ERR_FILE_OPEN,
             "-output_dir %s is in use by another nncas run (it holds %s); wait for it to end or choose another directory",
             rd->dir, path);
  PetscCheck(!err, rd->comm, PETSC_ERR_FILE_OPEN, "-output_dir %s: cannot lock %s (%s)", rd->dir, path, strerror(err));
  PetscFunctionReturn(0);
}

PetscErrorCode rundir_setup(RunDir rd)
{
  PetscFunctionBeginUser;
  PetscCall(rundir_make(rd));
  PetscCall(rundir_lock(rd));
  PetscFunctionReturn(0);
}

PetscErrorCode rundir_destroy(RunDir *rd)
{
  PetscFunctionBeginUser;
  if (!*rd) PetscFunctionReturn(0);
  if ((*rd)->lock_fd >= 0) close((*rd)->lock_fd);
  PetscCall(PetscFree(*rd));
  PetscFunctionReturn(0);
}

/* The network's and the data's settings, as attributes of "/". */
static PetscErrorCode rundir_write_setup(RunDir rd, NnH5File *f)
{
  const char      *spec, *dir;
  const PetscReal *mean, *stdev;
  PetscInt         N, c, h, w;
  PetscBool        bias;
  NnLoss           loss;
  NnInit           init;
  NnDataFormat     format;
  const NnSamples *train, *val;
  PetscFunctionBeginUser;
  PetscCall(net_get_spec(rd->net, &spec, NULL));
  PetscCall(net_get_size(rd->net, &N));
  PetscCall(net_get_bias(rd->net, &bias));
  PetscCall(net_get_loss(rd->net, &loss));
  PetscCall(net_get_init(rd->net, &init, NULL));
  PetscCall(dataset_get_format(rd->ds, &format, &dir));
  PetscCall(dataset_get_shape(rd->ds, &c, &h, &w));
  PetscCall(dataset_get_split(rd->ds, NN_SPLIT_TRAIN, &train));
  PetscCall(dataset_get_split(rd->ds, NN_SPLIT_VAL, &val));
  PetscCall(dataset_get_channel_stats(rd->ds, &mean, &stdev));
  PetscCall(nn_h5_attr_string(f, "/", "net_spec", spec));
  PetscCall(nn_h5_attr_int64(f, "/", "net_parameters", N));
  PetscCall(nn_h5_attr_int64(f, "/", "net_bias", bias));
  PetscCall(nn_h5_attr_string(f, "/", "net_loss", NnLosses[loss]));
  PetscCall(nn_h5_attr_string(f, "/", "net_init", NnInits[init]));
  PetscCall(nn_h5_attr_string(f, "/", "data_format", NnDataFormats[format]));
  PetscCall(nn_h5_attr_string(f, "/", "data_dir", dir));
  PetscCall(nn_h5_attr_int64(f, "/", "data_channels", c));
  PetscCall(nn_h5_attr_int64(f, "/", "data_height", h));
  PetscCall(nn_h5_attr_int64(f, "/", "data_width", w));
  PetscCall(nn_h5_attr_int64(f, "/", "train_samples", train->n));
  PetscCall(nn_h5_attr_int64(f, "/", "val_samples", val->n));
  PetscCall(nn_h5_attr_double_array(f, "/", "data_channel_mean", (hsize_t)c, mean));
  PetscCall(nn_h5_attr_double_array(f, "/", "data_channel_std", (hsize_t)c, stdev));
  PetscFunctionReturn(0);
}

PetscErrorCode rundir_provenance_write(RunDir rd, NnH5File *f, const char *kind)
{
  char  *opts, when[64];
  time_t now = time(NULL);
  PetscFunctionBeginUser;
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  PetscCall(PetscOptionsGetAll(NULL, &opts));
  PetscCall(nn_h5_attr_string(f, "/", "kind", kind));
  PetscCall(nn_h5_attr_string(f, "/", "nncas_version", NNCAS_VERSION));
  PetscCall(nn_h5_attr_string(f, "/", "git_hash", NNCAS_GIT_HASH));
  PetscCall(nn_h5_attr_int64(f, "/", "mpi_ranks", rd->size));
  PetscCall(nn_h5_attr_string(f, "/", "blas_kernels", nn_blas_core()));
  PetscCall(nn_h5_attr_string(f, "/", "written_at", when));
  PetscCall(nn_h5_attr_string(f, "/", "options", opts));
  PetscCall(PetscFree(opts));
  PetscCall(rundir_write_setup(rd, f));
  PetscFunctionReturn(0);
}

PetscErrorCode rundir_progress_path(RunDir rd, const char *stage, char *path, size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, len, "%s/%s_progress.h5", rd->dir, stage));
  PetscFunctionReturn(0);
}

PetscErrorCode rundir_remove(RunDir rd, const char *path)
{
  int err = 0;
  PetscFunctionBeginUser;
  if (!rd->rank && unlink(path) && errno != ENOENT) err = errno;
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, rd->comm));
  PetscCheck(!err, rd->comm, PETSC_ERR_FILE_WRITE, "%s: cannot remove (%s)", path, strerror(err));
  PetscFunctionReturn(0);
}

PetscErrorCode rundir_start_fresh(RunDir rd)
{
  PetscFunctionBeginUser;
  rd->fresh = PETSC_TRUE;
  PetscFunctionReturn(0);
}

static PetscBool results_pending(RunDir rd) { return rd->results.file >= 0 || rd->results.tmppath[0] ? PETSC_TRUE : PETSC_FALSE; }

PetscErrorCode rundir_results_discard(RunDir rd)
{
  PetscFunctionBeginUser;
  if (results_pending(rd)) PetscCall(nn_h5_discard(&rd->results));
  PetscFunctionReturn(0);
}

PetscErrorCode rundir_results_open(RunDir rd, NnH5File **f)
{
  PetscBool      exists = PETSC_FALSE;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCheck(!results_pending(rd), rd->comm, PETSC_ERR_ORDER, "%s is open already (commit or discard it first)", rd->results_path);
  *f = &rd->results;
  if (!rd->fresh) PetscCall(nn_h5_file_exists(rd->comm, rd->results_path, &exists));
  ierr = exists ? nn_h5_open_update(rd->comm, rd->results_path, *f) : nn_h5_create(rd->comm, rd->results_path, *f);
  if (ierr) { /* the io layer removed what it had made: nothing is pending */
    rd->results.file       = H5I_INVALID_HID;
    rd->results.tmppath[0] = 0;
  }
  PetscCall(ierr);
  rd->fresh = PETSC_FALSE;
  PetscCall(rundir_provenance_write(rd, *f, "nncas results"));
  PetscFunctionReturn(0);
}

/* One tensor of rundir_write_weights: this rank's part of the owned range [lo, hi) of theta. */
typedef struct {
  PetscInt lo, hi;
  double  *own;
} WeightsCtx;

static PetscErrorCode write_weight_tensor(void *ctx, NnH5File *f, const char *path, int nd, const hsize_t *dims, PetscInt off, PetscInt len)
{
  WeightsCtx *c = (WeightsCtx *)ctx;
  hsize_t     start, count;
  double     *p;
  PetscFunctionBeginUser;
  nn_weights_owned_part(c->lo, c->hi, off, len, c->own, &start, &count, &p);
  PetscCall(nn_h5_write_double_range(f, path, nd, dims, start, count, p)); /* with its CRC-32 */
  PetscCall(nn_h5_describe(f, path, "1", "parameters in PyTorch's layout, as in checkpoint.h5's /weights"));
  PetscFunctionReturn(0);
}

PetscErrorCode rundir_write_weights(RunDir rd, NnH5File *f, const char *group, const double *theta)
{
  PetscMPIInt *counts, *displs;
  PetscInt     N, nloc;
  WeightsCtx   c;
  PetscFunctionBeginUser;
  PetscCall(net_get_size(rd->net, &N));
  PetscCall(nn_layout_counts(rd->comm, N, &counts, &displs, &nloc));
  c = (WeightsCtx){displs[rd->rank], displs[rd->rank] + nloc, (double *)theta + displs[rd->rank]};
  PetscCall(nn_h5_group(f, group));
  PetscCall(nn_weights_for_each(rd->net, f, group, PETSC_TRUE, write_weight_tensor, &c));
  PetscCall(nn_h5_attr_string(f, group, "description", "the weights theta, one group per weight layer, in checkpoint.h5's /weights layout "
                                                        "(postprocess/nncas_torch.py loads them)"));
  PetscCall(PetscFree2(counts, displs));
  PetscFunctionReturn(0);
}
