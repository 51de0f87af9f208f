/* The results of a run: a file per stage and epoch under OUTPUT_DIR/results/
 * (a "part", written once), and results.h5, an index of external links to
 * them, written anew after each part (include/nncas/rundir.h). */
#include "trainimpl.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PARTS_DIR  "results"
#define PARTS_LIST (64 * 1024) /* bytes for the parts' names ("spectrum/epoch_0005\n", ...) */

static int parts_scan(const char *root, const char *sub, char *list, size_t len);

/* Rank 0: appends to list the group of root/sub/name if it is a part
 * (NAME.h5), or those of the parts in it if it is a directory of root. 0 or errno. */
static int parts_scan_entry(const char *root, const char *sub, const char *name, char *list, size_t len)
{
  char         path[PETSC_MAX_PATH_LEN];
  struct stat  st;
  const size_t l = strlen(name), used = strlen(list);
  if (name[0] == '.') return 0;
  if ((size_t)snprintf(path, sizeof path, "%s/%s%s", root, sub, name) >= sizeof path) return ENAMETOOLONG;
  if (stat(path, &st)) return 0; /* gone meanwhile */
  if (S_ISDIR(st.st_mode) && !sub[0]) {
    if ((size_t)snprintf(path, sizeof path, "%s/", name) >= sizeof path) return ENAMETOOLONG;
    return parts_scan(root, path, list, len);
  }
  if (!S_ISREG(st.st_mode) || l <= 3 || strcmp(name + l - 3, ".h5")) return 0; /* NAME.h5.tmp among them */
  if (used + strlen(sub) + l >= len) return ENAMETOOLONG;
  snprintf(list + used, len - used, "%s%.*s\n", sub, (int)(l - 3), name);
  return 0;
}

/* Rank 0: appends to list the parts under root/sub (sub "" or "spectrum/"),
 * a group name (without its leading "/") a line, in name order. 0 or errno. */
static int parts_scan(const char *root, const char *sub, char *list, size_t len)
{
  char            dir[PETSC_MAX_PATH_LEN];
  struct dirent **e;
  int             n, err = 0;
  if ((size_t)snprintf(dir, sizeof dir, "%s/%s", root, sub) >= sizeof dir) return ENAMETOOLONG;
  if ((n = scandir(dir, &e, NULL, alphasort)) < 0) return errno == ENOENT ? 0 : errno;
  for (int k = 0; k < n; k++) {
    if (!err) err = parts_scan_entry(root, sub, e[k]->d_name, list, len);
    free(e[k]);
  }
  free(e);
  return err;
}

/* The parts in OUTPUT_DIR/results, on every rank (list: PARTS_LIST bytes). */
static PetscErrorCode parts_list(RunDir rd, char *list)
{
  char root[PETSC_MAX_PATH_LEN];
  int  err = 0;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(root, sizeof root, "%s/" PARTS_DIR, rd->dir));
  list[0] = 0;
  if (!rd->rank) err = parts_scan(root, "", list, PARTS_LIST);
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, rd->comm));
  PetscCheck(!err, rd->comm, PETSC_ERR_FILE_READ, "%s: cannot list the results (%s)", root, strerror(err));
  PetscCallMPI(MPI_Bcast(list, PARTS_LIST, MPI_CHAR, 0, rd->comm));
  PetscFunctionReturn(0);
}

static PetscErrorCode part_path(RunDir rd, const char *group, char *path, size_t len)
{
  PetscFunctionBeginUser;
  PetscCheck(group[0] == '/' && group[1] && !strchr(group + 1, '.'), rd->comm, PETSC_ERR_ARG_WRONG, "results part %s: not a group name", group);
  PetscCall(PetscSNPrintf(path, len, "%s/" PARTS_DIR "%s.h5", rd->dir, group));
  PetscFunctionReturn(0);
}

/* A run continued here may add parts only to an index: results.h5 without
 * results/ holds its results inside it (written before 2026-12-07). */
static PetscErrorCode check_layout(RunDir rd)
{
  char        dir[PETSC_MAX_PATH_LEN];
  struct stat st;
  int         old = 0;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(dir, sizeof dir, "%s/" PARTS_DIR, rd->dir));
  if (!rd->rank) old = !stat(rd->results_path, &st) && stat(dir, &st);
  PetscCallMPI(MPI_Bcast(&old, 1, MPI_INT, 0, rd->comm));
  PetscCheck(!old, rd->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s holds its results inside it (written by nncas before 2026-12-07, which this one does not add to): finish the run with "
             "that nncas, or move results.h5 away and continue (postprocess still reads it)",
             rd->results_path);
  rd->layout_checked = PETSC_TRUE;
  PetscFunctionReturn(0);
}

PetscErrorCode rundir_results_create(RunDir rd, const char *group, NnH5File **f)
{
  char path[PETSC_MAX_PATH_LEN], *slash;
  int  err = 0;
  PetscFunctionBeginUser;
  PetscCheck(rd->results.file < 0 && !rd->results.tmppath[0], rd->comm, PETSC_ERR_ORDER, "%s is open already (commit or discard it first)", rd->results.path);
  if (!rd->fresh && !rd->layout_checked) PetscCall(check_layout(rd));
  PetscCall(part_path(rd, group, path, sizeof path));
  slash = strrchr(path, '/');
  *slash = 0;
  if (!rd->rank) err = rundir_mkdirs(path);
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, rd->comm));
  PetscCheck(!err, rd->comm, PETSC_ERR_FILE_OPEN, "%s: cannot create the directory (%s)", path, strerror(err));
  *slash = '/';
  *f = &rd->results;
  PetscCall(nn_h5_create(rd->comm, path, *f)); /* the io layer removes what it made on an error: nothing is pending */
  PetscCall(PetscStrncpy(rd->part, group, sizeof rd->part));
  PetscCall(rundir_provenance_write(rd, *f, "nncas results part"));
  PetscFunctionReturn(0);
}

/* Rank 0, after a fresh run's first part: removes the parts but `keep`. */
static PetscErrorCode parts_remove_others(RunDir rd, const char *keep)
{
  char *list, path[PETSC_MAX_PATH_LEN];
  int   err = 0;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(PARTS_LIST, &list));
  PetscCall(parts_list(rd, list));
  for (char *name = list, *end; !rd->rank && !err && (end = strchr(name, '\n')); name = end + 1) {
    *end = 0;
    if (strcmp(name, keep + 1)) {
      PetscCall(PetscSNPrintf(path, sizeof path, "%s/" PARTS_DIR "/%s.h5", rd->dir, name));
      if (unlink(path) && errno != ENOENT) err = errno;
    }
  }
  PetscCall(PetscFree(list));
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, rd->comm));
  PetscCheck(!err, rd->comm, PETSC_ERR_FILE_WRITE, "%s/" PARTS_DIR ": cannot remove an earlier run's results (%s)", rd->dir, strerror(err));
  PetscFunctionReturn(0);
}

/* The description of group top (a directory of parts, "/coupling") in the index:
 * that of the same group in its first part, `name`. */
static PetscErrorCode index_describe(RunDir rd, NnH5File *index, const char *top, const char *name)
{
  char      path[PETSC_MAX_PATH_LEN], text[1024];
  NnH5File  part;
  PetscBool has;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/" PARTS_DIR "/%s.h5", rd->dir, name));
  PetscCall(nn_h5_open_read(rd->comm, path, &part));
  PetscCall(nn_h5_has_attr(&part, top, "description", &has));
  if (has) PetscCall(nn_h5_get_attr_string(&part, top, "description", sizeof text, text));
  PetscCall(nn_h5_commit(&part));
  if (has) PetscCall(nn_h5_attr_string(index, top, "description", text));
  PetscFunctionReturn(0);
}

/* results.h5's provenance and a link for each part of list. */
static PetscErrorCode index_fill(RunDir rd, NnH5File *index, char *list)
{
  char group[PETSC_MAX_PATH_LEN], file[PETSC_MAX_PATH_LEN], top[PETSC_MAX_PATH_LEN] = "";
  PetscFunctionBeginUser;
  PetscCall(rundir_provenance_write(rd, index, "nncas results"));
  for (char *name = list, *end; (end = strchr(name, '\n')); name = end + 1) {
    char *slash;
    *end = 0;
    PetscCall(PetscSNPrintf(group, sizeof group, "/%s", name));
    PetscCall(PetscSNPrintf(file, sizeof file, PARTS_DIR "/%s.h5", name));
    PetscCall(nn_h5_link_external(index, group, file, group));
    if (!(slash = strchr(group + 1, '/'))) continue;
    *slash = 0;
    if (strcmp(group, top)) {
      PetscCall(PetscStrncpy(top, group, sizeof top));
      PetscCall(index_describe(rd, index, top, name));
    }
  }
  PetscFunctionReturn(0);
}

/* results.h5 anew: an index of the parts now in OUTPUT_DIR/results. */
static PetscErrorCode index_write(RunDir rd)
{
  NnH5File       index;
  char          *list;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(PARTS_LIST, &list));
  PetscCall(parts_list(rd, list));
  PetscCall(nn_h5_create(rd->comm, rd->results_path, &index));
  ierr = index_fill(rd, &index, list);
  PetscCall(PetscFree(list));
  if (ierr) (void)nn_h5_discard(&index); /* agreed on every rank; the first error is the one reported */
  PetscCall(ierr);
  PetscCall(nn_h5_commit(&index));
  PetscFunctionReturn(0);
}

PetscErrorCode rundir_results_commit(RunDir rd)
{
  PetscFunctionBeginUser;
  PetscCall(nn_h5_commit(&rd->results));
  if (rd->fresh) PetscCall(parts_remove_others(rd, rd->part));
  rd->fresh = PETSC_FALSE;
  PetscCall(index_write(rd));
  PetscFunctionReturn(0);
}

PetscErrorCode rundir_results_discard(RunDir rd)
{
  PetscFunctionBeginUser;
  if (rd->results.file >= 0 || rd->results.tmppath[0]) PetscCall(nn_h5_discard(&rd->results));
  PetscFunctionReturn(0);
}
