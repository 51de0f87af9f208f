/* The HDF5 layer on a full disk: whichever write finds no space (injected at
 * each point where disk space is reserved in turn, h5_inject_enospc), every
 * rank raises the same error naming the file and "No space left on device",
 * nothing hangs, discard removes PATH.tmp, and PATH is left as it was. A
 * white-box test: it includes the io module's private header. */
#include "testlib.h"
#include "nncas/h5io.h"
#include "io/h5impl.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* SCRATCH/npP_name: runs on different rank counts may share SCRATCH. */
static void scratch(const char *name, char *path)
{
  PetscSNPrintf(path, PETSC_MAX_PATH_LEN, "%s/np%d_%s", nn_test_scratch(), nn_test_size(), name);
}

static PetscBool on_disk(const char *path)
{
  struct stat sb;
  return stat(path, &sb) ? PETSC_FALSE : PETSC_TRUE;
}

/* A file holding /v = v (one value), committed. */
static PetscErrorCode make_file(const char *path, double v)
{
  NnH5File f;
  hsize_t  one = 1;
  PetscFunctionBeginUser;
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_h5_write_double(&f, "/v", 1, &one, &v));
  PetscCall(nn_h5_commit(&f));
  PetscFunctionReturn(0);
}

/* path holds /v = want, and /g if and only if want is the new value 2 (NaN:
 * path does not exist). */
static PetscErrorCode expect_file(const char *path, double want)
{
  NnH5File  f;
  double    v;
  int       nd;
  hsize_t   d[1];
  PetscBool exists;
  PetscFunctionBeginUser;
  PetscCall(nn_h5_file_exists(PETSC_COMM_WORLD, path, &exists));
  NN_EXPECT(exists == !isnan(want), "%s %s", path, exists ? "exists" : "is missing");
  if (!exists || isnan(want)) PetscFunctionReturn(0);
  PetscCall(nn_h5_open_read(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_h5_read_double(&f, "/v", 1, &nd, d, 1, &v));
  PetscCall(nn_h5_exists(&f, "/g", &exists));
  PetscCall(nn_h5_commit(&f));
  NN_EXPECT(v == want && exists == (want == 2), "%s: /v = %g (expected %g), /g %s", path, v, want,
            exists ? "present" : "absent");
  PetscFunctionReturn(0);
}

/* Every kind of write: a replicated dataset, groups, a distributed range, 2-D
 * blocks, attributes (a long string among them), then the commit. */
static PetscErrorCode write_everything(NnH5File *f)
{
  static char text[5000];
  hsize_t     one = 1, d2[2] = {4, 6}, r0 = 0, nr = 4, c0 = 0, nc = 6;
  size_t      off = 0;
  double      two = 2, x[24];
  int         p = nn_test_rank();
  PetscFunctionBeginUser;
  memset(text, 'a', sizeof text - 1);
  for (int i = 0; i < 24; i++) x[i] = i;
  PetscCall(nn_h5_write_double(f, "/v", 1, &one, &two));
  PetscCall(nn_h5_group(f, "/g/h"));
  PetscCall(nn_h5_write_double_range(f, "/g/h/r", 2, d2, p ? 24 : 0, p ? 0 : 24, x));
  PetscCall(nn_h5_write_double_blocks(f, "/g/m", 4, 6, p ? 0 : 1, &r0, &nr, &c0, &nc, &off, x));
  PetscCall(nn_h5_attr_string(f, "/g", "text", text));
  PetscCall(nn_h5_attr_double_array(f, "/g/m", "x", 24, x));
  PetscCall(nn_h5_describe(f, "/g/h/r", "1", "a range"));
  PetscCall(nn_h5_commit(f));
  PetscFunctionReturn(0);
}

static PetscErrorCode create_everything(const char *path, NnH5File *f)
{
  PetscFunctionBeginUser;
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, f));
  PetscCall(write_everything(f));
  PetscFunctionReturn(0);
}

/* The error of a failed call: it names path and the full disk, and is the same
 * on every rank (so it is printed once); it is cleared. */
static PetscErrorCode expect_full_disk_error(PetscErrorCode ierr, int n, const char *path)
{
  char msg[1024], first[1024];
  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(msg, nn_error_last(), sizeof msg));
  PetscCall(PetscStrncpy(first, msg, sizeof first));
  nn_error_clear();
  PetscCallMPI(MPI_Bcast(first, sizeof first, MPI_CHAR, 0, PETSC_COMM_WORLD));
  NN_EXPECT(ierr, "write %d: succeeded although the disk was full", n);
  NN_EXPECT(strstr(msg, path) && strstr(msg, "No space left on device"), "write %d: message \"%s\"", n, msg);
  NN_EXPECT(!strcmp(msg, first), "write %d: rank %d says \"%s\", rank 0 \"%s\"", n, nn_test_rank(), msg, first);
  PetscFunctionReturn(0);
}

/* Fails the n-th reservation of fn's writes for n = 1, 2, ... until fn gets
 * through: after each failure and a discard, PATH.tmp is gone and PATH holds
 * `old` (NaN: does not exist); at last PATH holds the new /v = 2. */
static PetscErrorCode full_disk_at_each_write(const char *path, double old,
                                              PetscErrorCode (*fn)(const char *, NnH5File *))
{
  char           tmp[PETSC_MAX_PATH_LEN + 8];
  NnH5File       f;
  PetscErrorCode ierr = 1;
  int            n;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(tmp, sizeof tmp, "%s.tmp", path));
  for (n = 1; ierr && n < 200; n++) {
    h5_inject_enospc(n);
    memset(&f, 0, sizeof f);
    f.file = H5I_INVALID_HID;
    ierr   = fn(path, &f);
    h5_inject_enospc(0);
    if (!ierr) break;
    PetscCall(expect_full_disk_error(ierr, n, path));
    PetscCall(nn_h5_discard(&f));
    NN_EXPECT(!on_disk(tmp), "write %d: %s left after discard", n, tmp);
    PetscCall(expect_file(path, old));
    PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD)); /* every rank has looked before the next try */
  }
  NN_EXPECT(!ierr && n > 8, "the writes got through with reservation %d failing (expected more than 8)", n);
  PetscCall(expect_file(path, 2));
  PetscFunctionReturn(0);
}

static PetscErrorCode full_disk_in_a_replacement_leaves_the_old_file_and_no_tmp(void)
{
  char path[PETSC_MAX_PATH_LEN];
  PetscFunctionBeginUser;
  scratch("full_update.h5", path);
  PetscCall(make_file(path, 1));
  PetscCall(full_disk_at_each_write(path, 1, create_everything));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

static PetscErrorCode full_disk_in_a_new_file_leaves_no_file(void)
{
  char path[PETSC_MAX_PATH_LEN];
  PetscFunctionBeginUser;
  scratch("full_new.h5", path);
  if (!nn_test_rank()) unlink(path);
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  PetscCall(full_disk_at_each_write(path, NAN, create_everything));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* The space reserved ahead of HDF5 is given back at commit: the file takes no
 * more blocks than its size needs (plus a file system's rounding). */
static PetscErrorCode committed_file_keeps_no_reserved_space(void)
{
  char        path[PETSC_MAX_PATH_LEN];
  NnH5File    f;
  struct stat sb;
  PetscFunctionBeginUser;
  scratch("released.h5", path);
  PetscCall(create_everything(path, &f));
  NN_EXPECT(!stat(path, &sb), "%s: %s", path, strerror(errno));
  NN_EXPECT((off_t)sb.st_blocks * 512 < sb.st_size + 8192, "%s: %lld bytes allocated for %lld", path,
            (long long)sb.st_blocks * 512, (long long)sb.st_size);
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

NN_TEST_MAIN(NN_TEST_CASE(full_disk_in_a_replacement_leaves_the_old_file_and_no_tmp),
             NN_TEST_CASE(full_disk_in_a_new_file_leaves_no_file),
             NN_TEST_CASE(committed_file_keeps_no_reserved_space))
