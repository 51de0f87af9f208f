/* Rank 0's file-system work for the HDF5 layer: what is at a path, creating,
 * reserving disk space, and replacing a file atomically (fsync,
 * rename, fsync of the directory). The outcome is broadcast so every rank
 * raises the same error. */
#define _GNU_SOURCE /* fallocate */
#include "h5impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What is at path: st = {FILE_*, errno}. */
static void probe_file(const char *path, int st[2])
{
  struct stat sb;
  int         fd;
  htri_t      is;
  st[1] = 0;
  if (stat(path, &sb)) {
    st[0] = errno == ENOENT ? FILE_MISSING : FILE_UNREADABLE;
    st[1] = errno;
    return;
  }
  if (S_ISDIR(sb.st_mode)) {
    st[0] = FILE_IS_DIR;
    return;
  }
  if ((fd = open(path, O_RDONLY)) < 0) { /* for the errno of an unreadable file */
    st[0] = FILE_UNREADABLE;
    st[1] = errno;
    return;
  }
  close(fd);
  is    = H5Fis_hdf5(path);
  st[0] = is > 0 ? FILE_HDF5 : is == 0 ? FILE_NOT_HDF5 : FILE_UNREADABLE;
}

PetscErrorCode fs_probe(MPI_Comm comm, const char *path, int st[2])
{
  PetscFunctionBeginUser;
  if (h5_comm_rank(comm) == 0) probe_file(path, st);
  PetscCall(h5_bcast_status(comm, st));
  PetscFunctionReturn(0);
}

PetscErrorCode fs_probe_error(MPI_Comm comm, const char *path, const int st[2])
{
  PetscFunctionBeginUser;
  switch (st[0]) {
  case FILE_MISSING: SETERRQ(comm, PETSC_ERR_FILE_OPEN, "%s: no such file", path);
  case FILE_NOT_HDF5: SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "%s: not an HDF5 file", path);
  case FILE_IS_DIR: SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "%s: is a directory, not an HDF5 file", path);
  case FILE_UNREADABLE:
    SETERRQ(comm, PETSC_ERR_FILE_READ, "%s: cannot read (%s)", path, st[1] ? strerror(st[1]) : "HDF5 cannot open it");
  }
  PetscFunctionReturn(0);
}

void fs_touch(const char *path, int st[2])
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  st[1]  = fd < 0 ? errno : 0;
  if (fd >= 0 && close(fd)) st[1] = errno;
  st[0] = st[1] != 0;
}

int fs_remove(const char *path) { return unlink(path) && errno != ENOENT && errno != ENOTDIR ? errno : 0; }

/* Allocates disk blocks for the first (size of path) + more bytes of path
 * without changing its size (fallocate with FALLOC_FL_KEEP_SIZE, which also
 * fills the holes below), so that no write below that end can run out of
 * space; *reserved, the end reserved so far, is raised to it. A file system
 * that cannot reserve space is no error: nothing is reserved.
 * st = {failed, errno}. */
void fs_reserve(const char *path, off_t more, off_t *reserved, int st[2])
{
  struct stat sb;
  int         fd = open(path, O_WRONLY), err = fd < 0 || fstat(fd, &sb) ? errno : 0;
  off_t       end = err ? 0 : sb.st_size + more;
#ifdef FALLOC_FL_KEEP_SIZE
  if (!err && end > *reserved && fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, end))
    err = errno == EOPNOTSUPP || errno == ENOSYS ? 0 : errno;
#endif
  if (fd >= 0 && close(fd) && !err) err = errno;
  if (!err && end > *reserved) *reserved = end;
  st[0] = err != 0;
  st[1] = err;
}

/* Frees the blocks fs_reserve() allocated past the end of the file (a
 * truncation to its own size does, on tmpfs, ext4 and others); 0 or errno. */
static int release_reserve(const char *path)
{
  struct stat sb;
  int         fd = open(path, O_WRONLY), err = fd < 0 ? errno : 0;
  if (!err && (fstat(fd, &sb) || ftruncate(fd, sb.st_size))) err = errno;
  if (fd >= 0 && close(fd) && !err) err = errno;
  return err;
}

/* 0 or errno of open(path, flags) + fsync. */
static int fsync_path(const char *path, int flags)
{
  int fd = open(path, flags), err;
  if (fd < 0) return errno;
  err = fsync(fd) ? errno : 0;
  close(fd);
  return err;
}

static void parent_dir(const char *path, char *dir, size_t len)
{
  const char *slash = strrchr(path, '/');
  if (!slash)
    snprintf(dir, len, ".");
  else if (slash == path)
    snprintf(dir, len, "/");
  else
    snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

void fs_replace(const char *tmp, const char *path, int st[2])
{
  char dir[PETSC_MAX_PATH_LEN];
  st[0] = REPLACE_SYNC_FILE;
  if ((st[1] = release_reserve(tmp)) || (st[1] = fsync_path(tmp, O_RDONLY))) return;
  st[0] = REPLACE_RENAME;
  if (rename(tmp, path)) {
    st[1] = errno;
    return;
  }
  parent_dir(path, dir, sizeof dir);
  st[0] = REPLACE_SYNC_DIR;
  st[1] = fsync_path(dir, O_RDONLY | O_DIRECTORY);
  /* Some file systems cannot fsync a directory; the rename has happened. */
  if (st[1] == EINVAL || st[1] == ENOTSUP) st[1] = 0;
  if (!st[1]) st[0] = REPLACE_OK;
}
