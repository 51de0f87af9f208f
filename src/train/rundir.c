/* The run's output directory: creation, the lock, file paths and provenance
 * (its results files: results_index.c). */
#include "nncas/rundir.h"
#include "nncas/version.h"
#include "trainimpl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


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
  PetscCall(PetscOptionsBool("-output_lock_file",
                             "lock -output_dir with the file .nncas.lock.owner (O_EXCL, host and pid) instead of flock, as where the file "
                             "system refuses flock; for a flock that is node-local (Lustre's localflock), and for tests",
                             NULL, rd->lock_file, &rd->lock_file, NULL));
  PetscOptionsEnd();
  PetscCall(rundir_set_path(rd, dir));
  PetscFunctionReturn(0);
}

const char *rundir_path(RunDir rd) { return rd->dir; }
const char *rundir_checkpoint_path(RunDir rd) { return rd->checkpoint_path; }
const char *rundir_results_path(RunDir rd) { return rd->results_path; }

int rundir_mkdirs(const char *dir)
{
  char        path[PETSC_MAX_PATH_LEN];
  struct stat st;
  int         err = 0;
  if (PetscStrncpy(path, dir, sizeof path)) return ENAMETOOLONG;
  for (char *c = path + 1; *c && !err; c++)
    if (*c == '/') {
      *c = 0;
      if (mkdir(path, 0755) && errno != EEXIST) err = errno;
      *c = '/';
    }
  if (!err && mkdir(path, 0755) && errno != EEXIST) err = errno;
  if (!err && (stat(path, &st) || !S_ISDIR(st.st_mode))) err = ENOTDIR;
  return err;
}

/* mkdir -p of the output directory on rank 0; the outcome is shared. */
static PetscErrorCode rundir_make(RunDir rd)
{
  int err = 0;
  PetscFunctionBeginUser;
  if (!rd->rank) err = rundir_mkdirs(rd->dir);
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, rd->comm));
  PetscCheck(!err, rd->comm, PETSC_ERR_FILE_OPEN, "-output_dir %s: cannot create the directory (%s)", rd->dir, strerror(err));
  PetscFunctionReturn(0);
}

/* Rank 0: flock on PATH, kept open in *fd while the run lives (closing it
 * releases the lock). Returns 0 or errno. */
static int lock_flock(const char *path, int *fd)
{
  int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644), err = 0;
  if (f < 0) return errno;
  if (flock(f, LOCK_EX | LOCK_NB)) err = errno, close(f);
  else *fd = f;
  return err;
}

/* Rank 0, where flock is refused: PATH created with O_EXCL, holding "host pid".
 * One that exists names its holder in holder[len] (EEXIST); one left by a dead
 * process on this host is stale and replaced (another host's cannot be
 * checked). Returns 0 or errno. */
static int lock_owner_file(const char *path, char *holder, size_t len)
{
  char host[256] = "?", other[256];
  int  pid;
  if (gethostname(host, sizeof host - 1)) host[0] = '?';
  for (int attempt = 0; attempt < 2; attempt++) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      int err = dprintf(fd, "%s %d\n", host, (int)getpid()) < 0 || fsync(fd) ? errno : 0;
      close(fd);
      if (err) unlink(path);
      return err;
    }
    if (errno != EEXIST) return errno;
    FILE *f = fopen(path, "r");
    holder[0] = 0;
    if (f) {
      if (!fgets(holder, (int)len, f)) holder[0] = 0;
      fclose(f);
    }
    holder[strcspn(holder, "\n")] = 0;
    if (sscanf(holder, "%255s %d", other, &pid) != 2 || strcmp(other, host)) return EEXIST;
    if (pid != (int)getpid() && (!kill(pid, 0) || errno != ESRCH)) return EEXIST; /* alive on this host */
    if (unlink(path) && errno != ENOENT) return errno; /* stale: its process has ended */
  }
  return EEXIST;
}

/* Rank 0 holds an exclusive lock on OUTPUT_DIR/.nncas.lock until
 * rundir_destroy() (the kernel drops it when the process ends, however it
 * ends). Where the file system refuses flock (Lustre mounted without -o flock:
 * ENOSYS, EOPNOTSUPP, ENOLCK), or with -output_lock_file, the lock is the file
 * OUTPUT_DIR/.nncas.lock.owner instead (lock_owner_file), removed by
 * rundir_destroy(); a run killed on another host leaves it behind. */
static PetscErrorCode rundir_lock(RunDir rd)
{
  char path[PETSC_MAX_PATH_LEN], owner[PETSC_MAX_PATH_LEN], holder[300] = "";
  int  st[2] = {0, 0}, err; /* errno, and whether the lock file stands in for flock */
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/.nncas.lock", rd->dir));
  PetscCall(PetscSNPrintf(owner, sizeof owner, "%s.owner", path));
  if (!rd->rank) {
    if (!rd->lock_file) st[0] = lock_flock(path, &rd->lock_fd);
    st[1] = rd->lock_file || st[0] == ENOSYS || st[0] == EOPNOTSUPP || st[0] == ENOLCK;
    if (st[1]) {
      st[0] = lock_owner_file(owner, holder, sizeof holder);
      if (!st[0]) PetscCall(PetscStrncpy(rd->lock_owner, owner, sizeof rd->lock_owner));
    }
  }
  PetscCallMPI(MPI_Bcast(st, 2, MPI_INT, 0, rd->comm));
  PetscCallMPI(MPI_Bcast(holder, sizeof holder, MPI_CHAR, 0, rd->comm));
  err = st[0];
  PetscCheck(err != EWOULDBLOCK, rd->comm, PETSC_ERR_FILE_OPEN,
             "-output_dir %s is in use by another nncas run (it holds %s); wait for it to end or choose another directory",
             rd->dir, path);
  PetscCheck(err != EEXIST, rd->comm, PETSC_ERR_FILE_OPEN,
             "-output_dir %s is in use by another nncas run: %s names host and pid \"%s\". If that run has ended (killed, or its "
             "node failed: a lock of another host cannot be checked from here), remove %s and start again",
             rd->dir, owner, holder, owner);
  PetscCheck(!err, rd->comm, PETSC_ERR_FILE_OPEN, "-output_dir %s: cannot lock %s (%s)", rd->dir, st[1] ? owner : path, strerror(err));
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
  if ((*rd)->lock_owner[0]) unlink((*rd)->lock_owner);
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

/* Rank 0: dst <- a copy of src, written to dst.tmp, flushed and renamed. 0 or errno. */
static int copy_file(const char *src, const char *dst)
{
  char    tmp[PETSC_MAX_PATH_LEN + 8], buf[1 << 16];
  ssize_t n = 0;
  int     in, out, err = 0;
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", dst) >= sizeof tmp) return ENAMETOOLONG;
  if ((in = open(src, O_RDONLY)) < 0) return errno;
  if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) err = errno;
  while (!err && (n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) != n) err = errno ? errno : EIO;
  if (!err && n < 0) err = errno;
  if (!err && fsync(out)) err = errno;
  if (out >= 0 && close(out) && !err) err = errno;
  close(in);
  if (!err && rename(tmp, dst)) err = errno;
  if (err) unlink(tmp);
  return err;
}

PetscErrorCode rundir_checkpoint_keep(RunDir rd, PetscInt epoch)
{
  char dir[PETSC_MAX_PATH_LEN], path[PETSC_MAX_PATH_LEN + 32];
  int  err = 0;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(dir, sizeof dir, "%s/checkpoints", rd->dir));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/epoch_%04d.h5", dir, (int)epoch));
  if (!rd->rank) {
    err = rundir_mkdirs(dir);
    if (!err && unlink(path) && errno != ENOENT) err = errno;
    if (!err && link(rd->checkpoint_path, path)) err = errno == EPERM || errno == EOPNOTSUPP || errno == EMLINK ? copy_file(rd->checkpoint_path, path) : errno;
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, rd->comm));
  PetscCheck(!err, rd->comm, PETSC_ERR_FILE_WRITE, "%s: cannot keep the checkpoint of epoch %" PetscInt_FMT " (%s)", path, epoch, strerror(err));
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
