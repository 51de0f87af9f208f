/* Distributed 2-D blocks (ScaLAPACK-style layouts) written band by band. */
#include "h5impl.h"

#include <stdlib.h>

/* HDF5 traverses a union of hyperslabs in row-major order of the whole
 * dataset, not block by block. So the blocks are written band by band: the
 * rows between consecutive block boundaries (r0 or r0 + nr of any block) form
 * a band, which every block either spans or misses; a band's rows are packed
 * row by row across its blocks in order of first column, which is the order
 * HDF5 traverses their union. One collective write per band, a bounded
 * packing buffer, and as many writes on every rank (ranks with fewer bands
 * write nothing the remaining times). For a block-cyclic layout a band is a
 * block row. */

typedef struct {
  const hsize_t *r0, *nr, *c0, *nc;
  const size_t  *off;
  PetscInt       n;       /* non-empty blocks */
  PetscInt      *byc0;    /* their indices in order of first column */
  PetscInt       nev;     /* distinct band boundaries */
  hsize_t       *ev;      /* the boundaries, increasing */
  PetscInt      *act;     /* scratch: the blocks of one band */
  PetscInt       nbands;  /* bands holding blocks */
  size_t         maxband; /* elements of the largest band */
} Bands;

typedef struct {
  hsize_t  key;
  PetscInt idx;
} KeyIdx;

static int cmp_keyidx(const void *x, const void *y)
{
  const KeyIdx *a = x, *b = y;
  return a->key < b->key ? -1 : a->key > b->key ? 1 : (a->idx > b->idx) - (a->idx < b->idx);
}

static int cmp_hsize(const void *x, const void *y)
{
  hsize_t a = *(const hsize_t *)x, b = *(const hsize_t *)y;
  return (a > b) - (a < b);
}

/* The blocks spanning band [ra, rb), in order of first column, into B->act;
 * *overlap if two of them share columns. Returns their element count. */
static size_t band_blocks(Bands *B, hsize_t ra, hsize_t rb, PetscInt *nact, PetscBool *overlap)
{
  size_t size = 0;
  *nact       = 0;
  for (PetscInt i = 0; i < B->n; i++) {
    PetscInt b = B->byc0[i];
    if (B->r0[b] > ra || B->r0[b] + B->nr[b] < rb) continue;
    if (*nact && B->c0[b] < B->c0[B->act[*nact - 1]] + B->nc[B->act[*nact - 1]]) *overlap = PETSC_TRUE;
    B->act[(*nact)++] = b;
    size += (size_t)((rb - ra) * B->nc[b]);
  }
  return size;
}

static PetscBool block_in_bounds(const Bands *B, PetscInt b, hsize_t M, hsize_t N)
{
  PetscBool rows = B->nr[b] <= M && B->r0[b] <= M - B->nr[b], cols = B->nc[b] <= N && B->c0[b] <= N - B->nc[b];
  return rows && cols ? PETSC_TRUE : PETSC_FALSE;
}

/* Sorts the non-empty blocks by first column, lists the band boundaries, and
 * counts the bands and the largest. */
static PetscErrorCode bands_setup(Bands *B, PetscInt nblocks, PetscBool *overlap)
{
  KeyIdx  *k;
  PetscInt u = 0;
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(nblocks, &k));
  PetscCall(PetscMalloc3(nblocks, &B->byc0, 2 * nblocks, &B->ev, nblocks, &B->act));
  for (PetscInt b = 0; b < nblocks; b++) {
    if (!B->nr[b] || !B->nc[b]) continue;
    k[B->n]         = (KeyIdx){B->c0[b], b};
    B->ev[B->nev++] = B->r0[b];
    B->ev[B->nev++] = B->r0[b] + B->nr[b];
    B->n++;
  }
  if (B->n) qsort(k, (size_t)B->n, sizeof *k, cmp_keyidx); /* (no NULL pointer for qsort when there are none) */
  for (PetscInt i = 0; i < B->n; i++) B->byc0[i] = k[i].idx;
  PetscCall(PetscFree(k));
  if (B->nev) qsort(B->ev, (size_t)B->nev, sizeof *B->ev, cmp_hsize);
  for (PetscInt i = 0; i < B->nev; i++)
    if (!u || B->ev[i] != B->ev[u - 1]) B->ev[u++] = B->ev[i];
  B->nev = u;
  for (PetscInt j = 0; j + 1 < B->nev; j++) {
    PetscInt nact;
    size_t   size = band_blocks(B, B->ev[j], B->ev[j + 1], &nact, overlap);
    if (nact) B->nbands++;
    if (size > B->maxband) B->maxband = size;
  }
  PetscFunctionReturn(0);
}

/* This rank's blocks must lie inside the (M, N) dataset, not overlap and have
 * a buffer; checked on every rank at once. */
static PetscErrorCode bands_check(NnH5File *f, const char *path, Bands *B, PetscInt nblocks, hsize_t M, hsize_t N,
                                  const double *local)
{
  char      bad[256] = "";
  PetscBool overlap  = PETSC_FALSE, any;
  PetscFunctionBeginUser;
  PetscCheck(nblocks >= 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: dataset %s: negative block count", f->path, path);
  for (PetscInt b = 0; b < nblocks && !bad[0]; b++)
    if (!block_in_bounds(B, b, M, N))
      snprintf(bad, sizeof bad, "block %" PetscInt_FMT " (rows %llu+%llu, columns %llu+%llu) is out of bounds", b,
               (unsigned long long)B->r0[b], (unsigned long long)B->nr[b], (unsigned long long)B->c0[b],
               (unsigned long long)B->nc[b]);
  if (!bad[0]) PetscCall(bands_setup(B, nblocks, &overlap));
  if (!bad[0] && B->n && !local) snprintf(bad, sizeof bad, "blocks without a buffer");
  if (overlap) snprintf(bad, sizeof bad, "two of this rank's blocks overlap");
  PetscCall(h5_agree(f->comm, bad[0] ? PETSC_TRUE : PETSC_FALSE, NULL, &any));
  PetscCheck(!bad[0], f->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: dataset %s (%llu x %llu): %s", f->path, path,
             (unsigned long long)M, (unsigned long long)N, bad);
  PetscCheck(!any, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: dataset %s: another rank's blocks are invalid", f->path,
             path);
  PetscFunctionReturn(0);
}

/* Selects the band's blocks in fspace and packs their rows into buf. */
static PetscErrorCode band_select_pack(NnH5File *f, const char *path, Bands *B, hsize_t ra, hsize_t rb, PetscInt nact,
                                       const double *local, hid_t fspace, double *buf)
{
  H5S_seloper_t op = H5S_SELECT_SET;
  size_t        n  = 0;
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < nact; i++) {
    PetscInt b        = B->act[i];
    hsize_t  start[2] = {ra, B->c0[b]}, count[2] = {rb - ra, B->nc[b]};
    PetscCheck(h5_add_hyperslab(fspace, &op, start, count) >= 0, f->comm, PETSC_ERR_FILE_UNEXPECTED,
               "%s: dataset %s: cannot select block%s", f->path, path, h5_why());
  }
  for (hsize_t r = ra; r < rb; r++)
    for (PetscInt i = 0; i < nact; i++) { /* row r of block b starts at off[b] + (r - r0[b]) nc[b] */
      PetscInt b = B->act[i];
      PetscCall(PetscArraycpy(buf + n, local + B->off[b] + (r - B->r0[b]) * B->nc[b], B->nc[b]));
      n += B->nc[b];
    }
  PetscFunctionReturn(0);
}

/* Writes band j's blocks, or (j < 0) nothing, as ranks with fewer bands do. */
static PetscErrorCode band_write(NnH5File *f, const char *path, Bands *B, PetscInt j, hid_t dset, hid_t fspace,
                                 hid_t mspace, const double *local, double *buf)
{
  PetscInt  nact = 0;
  PetscBool overlap;
  hsize_t   n = 1;
  PetscFunctionBeginUser;
  if (j >= 0) n = band_blocks(B, B->ev[j], B->ev[j + 1], &nact, &overlap);
  PetscCheck(H5Sset_extent_simple(mspace, 1, &n, NULL) >= 0 &&
                 (j >= 0 || (H5Sselect_none(mspace) >= 0 && H5Sselect_none(fspace) >= 0)),
             f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s: cannot set up dataspaces%s", f->path, path, h5_why());
  if (j >= 0) PetscCall(band_select_pack(f, path, B, B->ev[j], B->ev[j + 1], nact, local, fspace, buf));
  PetscCall(h5_transfer(f, path, XFER_WRITE, dset, H5T_NATIVE_DOUBLE, mspace, fspace, buf));
  PetscFunctionReturn(0);
}

/* The first band from j on that holds blocks, or -1. */
static PetscInt next_band(Bands *B, PetscInt j)
{
  PetscInt  nact;
  PetscBool overlap;
  for (; j + 1 < B->nev; j++) {
    band_blocks(B, B->ev[j], B->ev[j + 1], &nact, &overlap);
    if (nact) return j;
  }
  return -1;
}

/* One collective write per band, as many on every rank. */
static PetscErrorCode bands_write(NnH5File *f, H5Scope *s, const char *path, Bands *B, hid_t dset, const double *local,
                                  double *buf)
{
  PetscInt nmax, j = -1;
  hid_t    fspace = h5_scope_add(s, H5Dget_space(dset)), mspace = h5_scope_add(s, H5Screate(H5S_SIMPLE));
  PetscFunctionBeginUser;
  PetscCheck(fspace >= 0 && mspace >= 0, f->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: dataset %s: cannot set up dataspaces%s", f->path, path, h5_why());
  PetscCallMPI(MPI_Allreduce(&B->nbands, &nmax, 1, MPIU_INT, MPI_MAX, f->comm));
  for (PetscInt k = 0; k < nmax; k++) {
    j = next_band(B, j + 1);
    PetscCall(band_write(f, path, B, j, dset, fspace, mspace, local, buf));
    if (j < 0) j = B->nev; /* no more bands here: empty writes */
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode write_blocks(NnH5File *f, H5Scope *s, const char *path, hsize_t M, hsize_t N, Bands *B,
                                   PetscInt nblocks, const double *local)
{
  hsize_t        dims[2] = {M, N};
  hid_t          dset;
  double        *buf;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(bands_check(f, path, B, nblocks, M, N, local));
  PetscCall(h5_dataset_for_write(f, s, path, 2, dims, H5T_NATIVE_DOUBLE, &dset));
  PetscCall(PetscMalloc1(B->maxband ? B->maxband : 1, &buf));
  ierr = bands_write(f, s, path, B, dset, local, buf);
  PetscCall(PetscFree(buf));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode nn_h5_write_double_blocks(NnH5File *f, const char *path, hsize_t M, hsize_t N, PetscInt nblocks,
                                         const hsize_t *r0, const hsize_t *nr, const hsize_t *c0, const hsize_t *nc,
                                         const size_t *off, const double *local)
{
  H5Scope        s = {{0}, 0};
  Bands          B = {r0, nr, c0, nc, off, 0, NULL, 0, NULL, NULL, 0, 0};
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  ierr = h5_scope_end(f, &s, write_blocks(f, &s, path, M, N, &B, nblocks, local));
  PetscCall(PetscFree3(B.byc0, B.ev, B.act));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
