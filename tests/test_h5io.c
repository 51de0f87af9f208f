/* The HDF5 layer: data round trips (replicated, flat ranges, 2-D blocks)
 * against serial references on any number of ranks, attributes, atomic
 * replacement of files, and errors that name the file and the object and are
 * raised on every rank. */
#include "testlib.h"
#include "nncas/h5io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ helpers -- */

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

/* Rank 0 writes text to path (NULL: removes path); then all ranks see it. */
static PetscErrorCode root_write_text(const char *path, const char *text)
{
  PetscFunctionBeginUser;
  if (!nn_test_rank()) {
    unlink(path);
    if (text) {
      FILE *fp = fopen(path, "w");
      NN_EXPECT(fp && fputs(text, fp) >= 0 && !fclose(fp), "cannot write %s", path);
    }
  }
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  PetscFunctionReturn(0);
}

/* The serial reference: element i of data set `tag`. */
static double ref_value(int tag, hsize_t i) { return 1000.0 * tag + 0.5 * (double)i + 1.0 / (double)(i + 3); }

static PetscErrorCode check_values(const char *what, const double *got, int tag, hsize_t start, hsize_t n)
{
  PetscFunctionBeginUser;
  for (hsize_t i = 0; i < n; i++)
    NN_EXPECT(got[i] == ref_value(tag, start + i), "%s: element %llu is %.17g, expected %.17g", what,
           (unsigned long long)(start + i), got[i], ref_value(tag, start + i));
  PetscFunctionReturn(0);
}

/* A 1-element double dataset's value. */
static PetscErrorCode read_scalar(NnH5File *f, const char *path, double *v)
{
  int     nd;
  hsize_t d[4];
  PetscFunctionBeginUser;
  PetscCall(nn_h5_read_double(f, path, 4, &nd, d, 1, v));
  PetscFunctionReturn(0);
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

static PetscErrorCode expect_scalar(const char *path, double want)
{
  NnH5File f;
  double   v;
  PetscFunctionBeginUser;
  PetscCall(nn_h5_open_read(PETSC_COMM_WORLD, path, &f));
  PetscCall(read_scalar(&f, "/v", &v));
  PetscCall(nn_h5_commit(&f));
  NN_EXPECT(v == want, "%s: /v is %g, expected %g", path, v, want);
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------- replicated -- */

static PetscErrorCode replicated_write_then_read_roundtrips(void)
{
  char     path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN + 8];
  NnH5File f;
  hsize_t  d2[2] = {3, 4}, d1 = 5, dims[4];
  double   a[12], b[12], s = 3.25, s2 = 0;
  int64_t  n[5] = {0, -1, INT64_MAX, INT64_MIN, 42}, m[5];
  int      nd;
  PetscFunctionBeginUser;
  scratch("replicated.h5", path);
  for (int i = 0; i < 12; i++) a[i] = ref_value(1, (hsize_t)i);
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_h5_write_double(&f, "/a/matrix", 2, d2, a));
  PetscCall(nn_h5_write_int64(&f, "/counts", 1, &d1, n));
  PetscCall(nn_h5_write_double(&f, "/scalar", 0, NULL, &s));
  PetscCall(nn_h5_write_double(&f, "/empty", 2, (hsize_t[]){0, 3}, NULL)); /* no storage at all */
  PetscCall(nn_h5_commit(&f));
  PetscCall(PetscSNPrintf(tmp, sizeof tmp, "%s.tmp", path));
  NN_EXPECT(on_disk(path) && !on_disk(tmp), "after commit: %s must exist and %s not", path, tmp);

  PetscCall(nn_h5_open_read(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_h5_read_double(&f, "/a/matrix", 4, &nd, dims, 0, NULL)); /* shape only */
  NN_EXPECT(nd == 2 && dims[0] == 3 && dims[1] == 4, "shape of /a/matrix: %d (%llu, %llu)", nd,
         (unsigned long long)dims[0], (unsigned long long)dims[1]);
  PetscCall(nn_h5_read_double(&f, "/a/matrix", 4, &nd, dims, 12, b));
  PetscCall(check_values("/a/matrix", b, 1, 0, 12));
  PetscCall(nn_h5_read_int64(&f, "/counts", 1, &nd, dims, 5, m));
  for (int i = 0; i < 5; i++) NN_EXPECT(m[i] == n[i], "/counts[%d] = %lld", i, (long long)m[i]);
  PetscCall(nn_h5_read_double(&f, "/scalar", 4, &nd, dims, 1, &s2));
  NN_EXPECT(nd == 0 && s2 == s, "/scalar: %d dims, value %g", nd, s2);
  PetscCall(nn_h5_read_double(&f, "/empty", 4, &nd, dims, 0, b));
  NN_EXPECT(nd == 2 && dims[0] == 0 && dims[1] == 3, "shape of /empty: %d (%llu, %llu)", nd, (unsigned long long)dims[0],
         (unsigned long long)dims[1]);
  PetscCall(nn_h5_commit(&f));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------ flat ranges -- */

/* Cuts 0 = c[0] <= ... <= c[k] = total at random, some pieces empty, so that
 * pieces start and end mid-row. */
static void random_cuts(NnRngKey key, hsize_t total, int k, hsize_t *c)
{
  c[0] = 0;
  c[k] = total;
  for (int i = 1; i < k; i++) c[i] = nn_rng_bits(key, (uint64_t)i) % (total + 1);
  if (k > 2) c[2] = c[1];     /* an empty piece */
  for (int i = 1; i < k; i++) /* insertion sort */
    for (int j = i; j > 1 && c[j] < c[j - 1]; j--) {
      hsize_t t = c[j];
      c[j]      = c[j - 1];
      c[j - 1]  = t;
    }
}

/* Writes data set `tag` of shape dims in 3 rounds: in round r rank p writes
 * piece 3p + r of random cuts (so every rank writes mid-row pieces, empty
 * ones included); then checks a full replicated read and random range reads
 * against the serial reference. */
static PetscErrorCode range_roundtrip(const char *file, int tag, int ndims, const hsize_t *dims)
{
  char     path[PETSC_MAX_PATH_LEN], name[64];
  NnH5File f;
  int      P = nn_test_size(), p = nn_test_rank(), k = 3 * P, nd;
  hsize_t  total = 1, c[64], got[8];
  double  *v;
  PetscFunctionBeginUser;
  for (int i = 0; i < ndims; i++) total *= dims[i];
  PetscCall(PetscSNPrintf(name, sizeof name, "%d_%s", tag, file));
  scratch(name, path);
  PetscCall(PetscSNPrintf(name, sizeof name, "/range/t%d", tag));
  PetscCall(PetscMalloc1(total, &v));
  random_cuts(nn_rng_key(7, NN_STREAM_TEST, (uint64_t)tag), total, k, c);
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f));
  for (int r = 0; r < 3; r++) {
    hsize_t a = c[3 * p + r], b = c[3 * p + r + 1];
    for (hsize_t i = a; i < b; i++) v[i - a] = ref_value(tag, i);
    PetscCall(nn_h5_write_double_range(&f, name, ndims, dims, a, b - a, v));
  }
  PetscCall(nn_h5_commit(&f));

  PetscCall(nn_h5_open_read(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_h5_read_double(&f, name, 8, &nd, got, (size_t)total, v));
  NN_EXPECT(nd == ndims, "%s: %d dims", name, nd);
  PetscCall(check_values(name, v, tag, 0, total));
  random_cuts(nn_rng_key(8, NN_STREAM_TEST, (uint64_t)tag), total, k, c);
  for (int r = 0; r < 3; r++) { /* each rank reads other pieces than it wrote */
    hsize_t a = c[(3 * p + r + 1) % k], b = c[(3 * p + r + 1) % k + 1];
    PetscCall(PetscArrayzero(v, total));
    PetscCall(nn_h5_read_double_range(&f, name, ndims, dims, a, b - a, v));
    PetscCall(check_values(name, v, tag, a, b - a));
  }
  PetscCall(nn_h5_commit(&f));
  PetscCall(PetscFree(v));
  PetscFunctionReturn(0);
}

static PetscErrorCode range_write_matches_serial_reference_for_3d_dataset(void)
{
  hsize_t dims[3] = {4, 5, 6};
  PetscFunctionBeginUser;
  for (int t = 0; t < 8; t++) PetscCall(range_roundtrip("range3d.h5", t, 3, dims));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

static PetscErrorCode range_write_matches_serial_reference_for_1d_2d_4d_datasets(void)
{
  hsize_t d1[1] = {97}, d2[2] = {7, 13}, d4[4] = {2, 3, 4, 5};
  PetscFunctionBeginUser;
  for (int t = 0; t < 4; t++) {
    PetscCall(range_roundtrip("range1d.h5", t, 1, d1));
    PetscCall(range_roundtrip("range2d.h5", t, 2, d2));
    PetscCall(range_roundtrip("range4d.h5", t, 4, d4));
  }
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* Every (start, count) of a (3, 4, 5) dataset holding its flat indices reads
 * back start, start + 1, ...: the union of hyperslabs is traversed in flat order. */
static PetscErrorCode range_read_returns_flat_order_for_every_range_of_a_3d_dataset(void)
{
  char     path[PETSC_MAX_PATH_LEN];
  NnH5File f;
  hsize_t  dims[3] = {3, 4, 5}, total = 60, npairs = 0, s, n;
  double   all[60], v[60];
  PetscFunctionBeginUser;
  scratch("flat_order.h5", path);
  for (int i = 0; i < 60; i++) all[i] = i;
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_h5_write_double(&f, "/x", 3, dims, all));
  for (s = 0; s <= total; s++) npairs += total - s + 1;
  for (hsize_t k = 0; k < npairs; k++) {
    hsize_t q = (k + 17 * (hsize_t)nn_test_rank()) % npairs; /* ranks read different ranges at once */
    for (s = 0; q > total - s; s++) q -= total - s + 1;
    n = q;
    PetscCall(nn_h5_read_double_range(&f, "/x", 3, dims, s, n, v));
    for (hsize_t i = 0; i < n; i++)
      NN_EXPECT(v[i] == (double)(s + i), "range [%llu, %llu): element %llu is %g", (unsigned long long)s,
             (unsigned long long)(s + n), (unsigned long long)i, v[i]);
  }
  PetscCall(nn_h5_discard(&f));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

static PetscErrorCode out_of_range_on_one_rank_is_an_error_on_every_rank(void)
{
  char     path[PETSC_MAX_PATH_LEN];
  NnH5File f;
  hsize_t  dims[2] = {3, 4};
  double   v[12]   = {0};
  int      last    = nn_test_rank() == nn_test_size() - 1;
  PetscFunctionBeginUser;
  scratch("bad_range.h5", path);
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_expect_error(nn_h5_write_double_range(&f, "/x", 2, dims, last ? 10 : 0, last ? 4 : 1, v),
                            "range past the end", path, "/x", last ? "[10, 14)" : "another rank"));
  PetscCall(nn_h5_write_double_range(&f, "/x", 2, dims, 0, nn_test_rank() ? 0 : 12, v)); /* still usable */
  PetscCall(nn_h5_discard(&f));
  NN_EXPECT(!on_disk(path), "discarded new file %s exists", path);
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* ----------------------------------------------------------- blocks -- */

typedef struct {
  PetscInt n;
  hsize_t  r0[512], nr[512], c0[512], nc[512];
  size_t   off[512], len;
  double   data[8192];
} LocalBlocks;

/* Appends block rows [r0, r0+nr) x cols [c0, c0+nc) of reference `tag` of an
 * (M, N) matrix, packed row-major after the previous blocks. */
static void add_block(LocalBlocks *L, int tag, hsize_t N, hsize_t r0, hsize_t nr, hsize_t c0, hsize_t nc)
{
  if (L->n == (PetscInt)(sizeof L->r0 / sizeof L->r0[0]) || L->len + nr * nc > sizeof L->data / sizeof L->data[0]) {
    NN_EXPECT(0, "test matrix too large for LocalBlocks");
    return;
  }
  PetscInt b = L->n++;
  L->r0[b] = r0, L->nr[b] = nr, L->c0[b] = c0, L->nc[b] = nc, L->off[b] = L->len;
  for (hsize_t r = 0; r < nr; r++)
    for (hsize_t c = 0; c < nc; c++) L->data[L->len++] = ref_value(tag, (r0 + r) * N + c0 + c);
}

static PetscErrorCode check_matrix(const char *path, const char *name, int tag, hsize_t M, hsize_t N)
{
  NnH5File f;
  double  *a;
  int      nd;
  hsize_t  d[2];
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(M * N, &a));
  PetscCall(nn_h5_open_read(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_h5_read_double(&f, name, 2, &nd, d, (size_t)(M * N), a));
  PetscCall(nn_h5_commit(&f));
  NN_EXPECT(nd == 2 && d[0] == M && d[1] == N, "%s: shape (%llu, %llu)", name, (unsigned long long)d[0],
         (unsigned long long)d[1]);
  PetscCall(check_values(name, a, tag, 0, M * N));
  PetscCall(PetscFree(a));
  PetscFunctionReturn(0);
}

/* Block-cyclic (mb x nb blocks over a pr x pc grid) (M, N) matrix; local
 * blocks packed block column by block column, so offsets do not follow rows. */
static PetscErrorCode block_cyclic_roundtrip(const char *path, int tag, hsize_t M, hsize_t N, hsize_t mb, hsize_t nb,
                                             int pr, int pc)
{
  static LocalBlocks L;
  NnH5File           f;
  char               name[64];
  int                p = nn_test_rank(), prow = p / pc, pcol = p % pc;
  PetscFunctionBeginUser;
  L.n = 0, L.len = 0;
  for (hsize_t j = (hsize_t)pcol; j * nb < N; j += (hsize_t)pc)
    for (hsize_t i = (hsize_t)prow; i * mb < M; i += (hsize_t)pr)
      add_block(&L, tag, N, i * mb, PetscMin(mb, M - i * mb), j * nb, PetscMin(nb, N - j * nb));
  PetscCall(PetscSNPrintf(name, sizeof name, "/blocks/m%d", tag));
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_h5_write_double_blocks(&f, name, M, N, L.n, L.r0, L.nr, L.c0, L.nc, L.off, L.data));
  PetscCall(nn_h5_commit(&f));
  PetscCall(check_matrix(path, name, tag, M, N));
  PetscFunctionReturn(0);
}

static PetscErrorCode block_write_matches_serial_reference(void)
{
  char path[PETSC_MAX_PATH_LEN];
  int  P = nn_test_size(), tag = 0;
  PetscFunctionBeginUser;
  scratch("blocks.h5", path);
  for (int pr = 1; pr <= P; pr++) {
    if (P % pr) continue;
    PetscCall(block_cyclic_roundtrip(path, tag++, 13, 11, 3, 4, pr, P / pr));
    PetscCall(block_cyclic_roundtrip(path, tag++, 5, 11, 3, 2, pr, P / pr)); /* pr = 3: a rank without blocks */
    PetscCall(block_cyclic_roundtrip(path, tag++, 1, 1, 3, 3, pr, P / pr));
    PetscCall(block_cyclic_roundtrip(path, tag++, 40, 7, 1, 2, pr, P / pr)); /* many bands */
  }
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* Column strips cut into rows at different places: blocks whose row ranges
 * overlap partly, dealt to the ranks in turn (on one rank, all of them). */
static PetscErrorCode block_write_handles_blocks_with_staggered_rows(void)
{
  static LocalBlocks L;
  char               path[PETSC_MAX_PATH_LEN];
  NnH5File           f;
  const hsize_t      M = 10, N = 9, strip[4] = {0, 3, 5, 9};
  const hsize_t      cuts[3][5] = {{0, 4, 10}, {0, 2, 7, 10}, {0, 5, 6, 9, 10}};
  const int          ncuts[3]   = {3, 4, 5};
  int                k          = 0;
  PetscFunctionBeginUser;
  scratch("staggered.h5", path);
  L.n = 0, L.len = 0;
  for (int s = 2; s >= 0; s--) /* packed right strip first */
    for (int i = 0; i + 1 < ncuts[s]; i++, k++)
      if (k % nn_test_size() == nn_test_rank())
        add_block(&L, 5, N, cuts[s][i], cuts[s][i + 1] - cuts[s][i], strip[s], strip[s + 1] - strip[s]);
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_h5_write_double_blocks(&f, "/m", M, N, L.n, L.r0, L.nr, L.c0, L.nc, L.off, L.data));
  PetscCall(nn_h5_commit(&f));
  PetscCall(check_matrix(path, "/m", 5, M, N));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

static PetscErrorCode overlapping_blocks_are_an_error_on_every_rank(void)
{
  static LocalBlocks L;
  char               path[PETSC_MAX_PATH_LEN];
  NnH5File           f;
  int                last = nn_test_rank() == nn_test_size() - 1;
  PetscFunctionBeginUser;
  scratch("overlap.h5", path);
  L.n = 0, L.len = 0;
  if (last) {
    add_block(&L, 0, 6, 0, 3, 0, 4);
    add_block(&L, 0, 6, 2, 2, 3, 3); /* shares row 2, column 3 */
  }
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_expect_error(nn_h5_write_double_blocks(&f, "/m", 6, 6, L.n, L.r0, L.nr, L.c0, L.nc, L.off, L.data),
                            "overlapping blocks", path, "/m", last ? "overlap" : "another rank"));
  L.n = last ? 1 : 0;
  PetscCall(nn_expect_error(nn_h5_write_double_blocks(&f, "/m", 2, 6, L.n, L.r0, L.nr, L.c0, L.nc, L.off, L.data),
                            "block out of bounds", path, "/m", last ? "out of bounds" : "another rank"));
  PetscCall(nn_h5_discard(&f));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------- attributes -- */

#define NBIG 10000
static PetscErrorCode attributes_roundtrip(void)
{
  double   *big, *big2;
  char      path[PETSC_MAX_PATH_LEN], s[64];
  NnH5File  f;
  hsize_t   one = 1;
  double    x = 0.1, arr[5] = {1, -2.5, 1e-300, 1e300, 0}, got[5], dv;
  int64_t   iv;
  PetscBool has;
  PetscFunctionBeginUser;
  scratch("attrs.h5", path);
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_h5_group(&f, "/g/sub"));
  PetscCall(nn_h5_group(&f, "/g/sub")); /* exists: no-op */
  PetscCall(nn_h5_write_double(&f, "/g/sub/lr", 1, &one, &x));
  PetscCall(nn_h5_attr_string(&f, "/", "program", "nncas"));
  PetscCall(nn_h5_attr_string(&f, "/g", "note", "short"));
  PetscCall(nn_h5_attr_string(&f, "/g", "note", "a longer replacement, µm² UTF-8"));
  PetscCall(nn_h5_attr_double(&f, "/g/sub", "x", x));
  PetscCall(nn_h5_attr_int64(&f, "/g/sub/lr", "step", INT64_MIN + 1));
  PetscCall(nn_h5_attr_double_array(&f, "/g/sub/lr", "grid", 5, arr));
  PetscCall(nn_h5_describe(&f, "/g/sub/lr", "1", "learning rate per epoch"));
  PetscCall(PetscMalloc2(NBIG, &big, NBIG, &big2));
  for (int i = 0; i < NBIG; i++) big[i] = ref_value(2, (hsize_t)i);
  PetscCall(nn_h5_attr_double_array(&f, "/g", "big", NBIG, big)); /* over 64 KiB: dense attribute storage */
  PetscCall(nn_h5_attr_double_array(&f, "/g", "none", 0, NULL));
  PetscCall(nn_h5_commit(&f));

  PetscCall(nn_h5_open_read(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_h5_get_attr_string(&f, "/", "program", sizeof s, s));
  NN_EXPECT(!strcmp(s, "nncas"), "program = \"%s\"", s);
  PetscCall(nn_h5_get_attr_string(&f, "/g", "note", sizeof s, s));
  NN_EXPECT(!strcmp(s, "a longer replacement, µm² UTF-8"), "note = \"%s\"", s);
  PetscCall(nn_h5_get_attr_double(&f, "/g/sub", "x", &dv));
  NN_EXPECT(dv == x, "x = %.17g", dv);
  PetscCall(nn_h5_get_attr_int64(&f, "/g/sub/lr", "step", &iv));
  NN_EXPECT(iv == INT64_MIN + 1, "step = %lld", (long long)iv);
  PetscCall(nn_h5_get_attr_double_array(&f, "/g/sub/lr", "grid", 5, got));
  for (int i = 0; i < 5; i++) NN_EXPECT(got[i] == arr[i], "grid[%d] = %g", i, got[i]);
  PetscCall(nn_h5_get_attr_double_array(&f, "/g", "big", NBIG, big2));
  PetscCall(check_values("attribute big", big2, 2, 0, NBIG));
  PetscCall(nn_h5_get_attr_double_array(&f, "/g", "none", 0, NULL));
  PetscCall(PetscFree2(big, big2));
  PetscCall(nn_h5_get_attr_string(&f, "/g/sub/lr", "units", sizeof s, s));
  NN_EXPECT(!strcmp(s, "1"), "units = \"%s\"", s);
  PetscCall(nn_h5_get_attr_string(&f, "/g/sub/lr", "description", sizeof s, s));
  NN_EXPECT(!strcmp(s, "learning rate per epoch"), "description = \"%s\"", s);
  PetscCall(nn_h5_has_attr(&f, "/g/sub/lr", "units", &has));
  NN_EXPECT(has, "has_attr(units) is false");
  PetscCall(nn_h5_has_attr(&f, "/g/sub/lr", "nope", &has));
  NN_EXPECT(!has, "has_attr(nope) is true");

  PetscCall(
      nn_expect_error(nn_h5_get_attr_double(&f, "/g/sub", "nope", &dv), "missing attribute", path, "/g/sub", "nope"));
  PetscCall(nn_expect_error(nn_h5_get_attr_string(&f, "/g", "note", 8, s), "string longer than the buffer", path,
                            "note", "too long"));
  PetscCall(nn_expect_error(nn_h5_get_attr_double(&f, "/g", "note", &dv), "string read as a number", path, "note",
                            "strings"));
  PetscCall(nn_expect_error(nn_h5_get_attr_double_array(&f, "/g/sub/lr", "grid", 4, got), "wrong array length", path,
                            "grid", "5 values"));
  PetscCall(nn_expect_error(nn_h5_get_attr_double(&f, "/nowhere", "x", &dv), "attribute of a missing object", path,
                            "/nowhere", NULL));
  PetscCall(nn_h5_commit(&f));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* Attributes written by other tools as fixed-length strings (NUL- and
 * space-padded) read as the same text. */
static PetscErrorCode fixed_length_string_attributes_are_read_too(void)
{
  char            path[PETSC_MAX_PATH_LEN], s[64];
  NnH5File        f;
  const char      nul[8] = "abc", spc[8] = {'d', 'e', 'f', ' ', ' ', ' ', ' ', ' '};
  const H5T_str_t pad[2] = {H5T_STR_NULLPAD, H5T_STR_SPACEPAD};
  const char     *val[2] = {nul, spc}, *name[2] = {"nul", "spc"};
  PetscFunctionBeginUser;
  scratch("fixed.h5", path);
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f));
  for (int i = 0; i < 2; i++) { /* every rank, same metadata, as parallel HDF5 requires */
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), a;
    NN_EXPECT(H5Tset_size(t, 8) >= 0 && H5Tset_strpad(t, pad[i]) >= 0, "string type");
    a = H5Acreate2(f.file, name[i], t, sp, H5P_DEFAULT, H5P_DEFAULT);
    NN_EXPECT(a >= 0 && H5Awrite(a, t, val[i]) >= 0 && H5Aclose(a) >= 0, "attribute %s", name[i]);
    H5Tclose(t);
    H5Sclose(sp);
  }
  PetscCall(nn_h5_get_attr_string(&f, "/", "nul", sizeof s, s));
  NN_EXPECT(!strcmp(s, "abc"), "nul = \"%s\"", s);
  PetscCall(nn_h5_get_attr_string(&f, "/", "spc", sizeof s, s));
  NN_EXPECT(!strcmp(s, "def"), "spc = \"%s\"", s);
  PetscCall(nn_h5_discard(&f));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------- atomicity -- */

static PetscErrorCode commit_replaces_old_file_atomically(void)
{
  char      path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN + 8];
  NnH5File  f, g;
  hsize_t   one = 1;
  double    two = 2, v;
  PetscBool exists;
  PetscFunctionBeginUser;
  scratch("atomic.h5", path);
  PetscCall(PetscSNPrintf(tmp, sizeof tmp, "%s.tmp", path));
  PetscCall(root_write_text(path, NULL));
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f)); /* a new file appears only at commit */
  PetscCall(nn_h5_write_double(&f, "/v", 1, &one, &two));
  PetscCall(nn_h5_file_exists(PETSC_COMM_WORLD, path, &exists));
  NN_EXPECT(!exists && on_disk(tmp), "before the first commit %s must be absent and %s present", path, tmp);
  two = 1;
  PetscCall(nn_h5_write_double(&f, "/v", 1, &one, &two));
  PetscCall(nn_h5_commit(&f));
  PetscCall(expect_scalar(path, 1));

  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f)); /* a new file replaces it at commit */
  two = 2;
  PetscCall(nn_h5_write_double(&f, "/v", 1, &one, &two));
  PetscCall(nn_h5_open_read(PETSC_COMM_WORLD, path, &g)); /* the old file, while the new one is written */
  PetscCall(read_scalar(&g, "/v", &v));
  PetscCall(nn_h5_commit(&g));
  NN_EXPECT(v == 1 && on_disk(tmp), "before commit: /v = %g (expected the old 1), %s present: %d", v, tmp, on_disk(tmp));
  PetscCall(nn_h5_commit(&f));
  NN_EXPECT(!on_disk(tmp), "after commit %s is still there", tmp);
  PetscCall(expect_scalar(path, 2));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

static PetscErrorCode discard_leaves_old_file_intact(void)
{
  char      path[PETSC_MAX_PATH_LEN], fresh[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN + 8];
  NnH5File  f;
  hsize_t   one  = 1;
  double    nine = 9;
  PetscBool exists;
  PetscFunctionBeginUser;
  scratch("discard.h5", path);
  scratch("discard_new.h5", fresh);
  PetscCall(PetscSNPrintf(tmp, sizeof tmp, "%s.tmp", path));
  PetscCall(make_file(path, 1));
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f)); /* to replace it */
  PetscCall(nn_h5_write_double(&f, "/v", 1, &one, &nine));
  PetscCall(nn_h5_write_double(&f, "/extra", 1, &one, &nine));
  PetscCall(nn_h5_discard(&f));
  PetscCall(nn_h5_discard(&f)); /* a second discard does nothing */
  NN_EXPECT(!on_disk(tmp), "%s left behind", tmp);
  PetscCall(expect_scalar(path, 1));
  PetscCall(nn_h5_open_read(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_h5_exists(&f, "/extra", &exists));
  PetscCall(nn_h5_commit(&f));
  NN_EXPECT(!exists, "/extra of a discarded replacement is in %s", path);

  PetscCall(root_write_text(fresh, NULL));
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, fresh, &f));
  PetscCall(nn_h5_discard(&f));
  NN_EXPECT(!on_disk(fresh), "discarded new file %s exists", fresh);
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* An external link reads as the object it names, from any working
 * directory: a relative file name is taken from the linking file's directory. */
static PetscErrorCode external_links_read_through(void)
{
  char      index[PETSC_MAX_PATH_LEN], part[PETSC_MAX_PATH_LEN], name[64];
  NnH5File  f;
  hsize_t   three = 3, got;
  double    a[3] = {1, 2, 3}, b[3];
  PetscBool exists;
  int       nd;
  PetscFunctionBeginUser;
  scratch("index.h5", index);
  scratch("part.h5", part);
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, part, &f));
  PetscCall(nn_h5_write_double(&f, "/g/v", 1, &three, a));
  PetscCall(nn_h5_attr_string(&f, "/g", "description", "in the part"));
  PetscCall(nn_h5_commit(&f));
  PetscCall(PetscSNPrintf(name, sizeof name, "np%d_part.h5", nn_test_size())); /* relative to the index */
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, index, &f));
  PetscCall(nn_h5_link_external(&f, "/x/g", name, "/g"));
  PetscCall(nn_expect_error(nn_h5_link_external(&f, "x", name, "/g"), "relative link path", index, "\"x\"", NULL));
  PetscCall(nn_h5_commit(&f));

  PetscCall(nn_h5_open_read(PETSC_COMM_WORLD, index, &f));
  PetscCall(nn_h5_read_double(&f, "/x/g/v", 1, &nd, &got, 3, b));
  NN_EXPECT(nd == 1 && got == 3 && b[0] == 1 && b[2] == 3, "/x/g/v through the link: %g %g %g", b[0], b[1], b[2]);
  PetscCall(nn_h5_get_attr_string(&f, "/x/g", "description", sizeof name, name));
  NN_EXPECT(!strcmp(name, "in the part"), "attribute through the link: \"%s\"", name);
  PetscCall(nn_h5_exists(&f, "/x/g/w", &exists));
  NN_EXPECT(!exists, "/x/g/w exists");
  PetscCall(nn_h5_exists(&f, "/x/g/v/y", &exists)); /* below a dataset */
  NN_EXPECT(!exists, "/x/g/v/y exists");
  PetscCall(nn_h5_commit(&f));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

static PetscErrorCode stale_tmp_file_is_overwritten(void)
{
  char path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN + 8];
  PetscFunctionBeginUser;
  scratch("stale.h5", path);
  PetscCall(PetscSNPrintf(tmp, sizeof tmp, "%s.tmp", path));
  PetscCall(root_write_text(tmp, "left by a crashed run"));
  PetscCall(make_file(path, 5));
  PetscCall(expect_scalar(path, 5));
  PetscCall(root_write_text(tmp, "left by a crashed replacement"));
  PetscCall(make_file(path, 6));
  PetscCall(expect_scalar(path, 6));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------- errors -- */

static PetscErrorCode non_hdf5_file_is_reported_not_treated_as_missing(void)
{
  char      text[PETSC_MAX_PATH_LEN], empty[PETSC_MAX_PATH_LEN], missing[PETSC_MAX_PATH_LEN];
  NnH5File  f;
  PetscBool exists = PETSC_TRUE;
  PetscFunctionBeginUser;
  scratch("text.h5", text);
  scratch("empty.h5", empty);
  scratch("missing.h5", missing);
  PetscCall(root_write_text(text, "this is not HDF5\n"));
  PetscCall(root_write_text(empty, ""));
  PetscCall(root_write_text(missing, NULL));
  PetscCall(nn_expect_error(nn_h5_file_exists(PETSC_COMM_WORLD, text, &exists), "exists(text)", text,
                            "not an HDF5 file", NULL));
  PetscCall(nn_expect_error(nn_h5_file_exists(PETSC_COMM_WORLD, empty, &exists), "exists(empty)", empty,
                            "not an HDF5 file", NULL));
  PetscCall(
      nn_expect_error(nn_h5_open_read(PETSC_COMM_WORLD, text, &f), "open_read(text)", text, "not an HDF5 file", NULL));
  PetscCall(nn_expect_error(nn_h5_open_read(PETSC_COMM_WORLD, nn_test_scratch(), &f), "open_read(dir)",
                            nn_test_scratch(), "directory", NULL));
  PetscCall(nn_h5_file_exists(PETSC_COMM_WORLD, missing, &exists));
  NN_EXPECT(!exists, "missing file reported present");
  PetscCall(nn_expect_error(nn_h5_open_read(PETSC_COMM_WORLD, missing, &f), "open_read(missing)", missing,
                            "no such file", NULL));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

static PetscErrorCode missing_dataset_error_names_file_and_object(void)
{
  char     path[PETSC_MAX_PATH_LEN];
  NnH5File f;
  hsize_t  three = 3, d[2] = {3, 1}, got[2];
  double   v[3] = {1, 2, 3};
  int64_t  n[3];
  int      nd;
  PetscFunctionBeginUser;
  scratch("errors.h5", path);
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_h5_write_double(&f, "/weights/L00_conv/weight", 1, &three, v));
  PetscCall(nn_expect_error(nn_h5_read_double(&f, "/weights/L01_dense/weight", 1, &nd, got, 3, v), "missing dataset",
                            path, "no dataset /weights/L01_dense/weight", NULL));
  PetscCall(nn_expect_error(nn_h5_read_double(&f, "/weights/L00_conv/weight/x", 1, &nd, got, 3, v), "below a dataset",
                            path, "no dataset /weights/L00_conv/weight/x", NULL));
  PetscCall(nn_expect_error(nn_h5_read_double(&f, "/weights", 1, &nd, got, 3, v), "group read as dataset", path,
                            "/weights is not a dataset", NULL));
  PetscCall(nn_expect_error(nn_h5_read_double(&f, "/weights/L00_conv/weight", 1, &nd, got, 4, v), "wrong count", path,
                            "/weights/L00_conv/weight", "3 elements"));
  PetscCall(nn_expect_error(nn_h5_read_int64(&f, "/weights/L00_conv/weight", 1, &nd, got, 3, n), "double read as int64",
                            path, "/weights/L00_conv/weight", "floating-point"));
  PetscCall(nn_expect_error(nn_h5_read_double_range(&f, "/weights/L00_conv/weight", 2, d, 0, 1, v), "wrong dims", path,
                            "/weights/L00_conv/weight", "has shape (3), expected (3, 1)"));
  PetscCall(
      nn_expect_error(nn_h5_write_double_range(&f, "/weights/L00_conv/weight", 2, d, 0, nn_test_rank() ? 0 : 3, v),
                      "range write of another shape", path, "has shape (3), expected (3, 1)", NULL));
  PetscCall(nn_expect_error(nn_h5_write_double(&f, "/weights/L00_conv/weight/bias", 1, &three, v),
                            "dataset below a dataset", path, "/weights/L00_conv/weight/bias", NULL));
  PetscCall(nn_expect_error(nn_h5_group(&f, "/weights/L00_conv/weight"), "group over a dataset", path,
                            "/weights/L00_conv/weight", "not a group"));
  PetscCall(
      nn_expect_error(nn_h5_read_double(&f, "weights", 1, &nd, got, 3, v), "relative path", path, "\"weights\"", NULL));
  PetscCall(nn_expect_error(nn_h5_attr_double(&f, "/nowhere", "x", 1.0), "attribute on a missing object", path,
                            "/nowhere", NULL));
  PetscCall(nn_h5_discard(&f));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

static PetscErrorCode unwritable_directory_is_an_error_not_a_hang(void)
{
  char      afile[PETSC_MAX_PATH_LEN], path[PETSC_MAX_PATH_LEN];
  NnH5File  f;
  PetscBool exists;
  PetscFunctionBeginUser;
  scratch("afile", afile);
  scratch("afile/x.h5", path);
  PetscCall(root_write_text(afile, "a regular file, not a directory"));
  PetscCall(nn_expect_error(nn_h5_create(PETSC_COMM_WORLD, path, &f), "create below a file", "afile/x.h5.tmp",
                            "cannot create", "Not a directory"));
  PetscCall(nn_h5_discard(&f)); /* after a failed create: nothing to do */
  PetscCall(nn_expect_error(nn_h5_file_exists(PETSC_COMM_WORLD, path, &exists), "exists below a file", "afile/x.h5",
                            "Not a directory", NULL));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* The rename fails on rank 0 only (a directory now stands at PATH): every rank
 * reports it, and discard then removes PATH.tmp. */
static PetscErrorCode failed_commit_is_an_error_on_every_rank(void)
{
  char     path[PETSC_MAX_PATH_LEN], inside[PETSC_MAX_PATH_LEN + 8], tmp[PETSC_MAX_PATH_LEN + 8];
  NnH5File f;
  hsize_t  one = 1;
  double   v   = 1;
  PetscFunctionBeginUser;
  scratch("blocked.h5", path);
  PetscCall(PetscSNPrintf(inside, sizeof inside, "%s/f", path));
  PetscCall(PetscSNPrintf(tmp, sizeof tmp, "%s.tmp", path));
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_h5_write_double(&f, "/v", 1, &one, &v));
  if (!nn_test_rank()) NN_EXPECT(!mkdir(path, 0755) || errno == EEXIST, "mkdir %s", path);
  PetscCall(root_write_text(inside, "x"));
  PetscCall(nn_expect_error(nn_h5_commit(&f), "commit over a directory", path, "cannot rename", NULL));
  NN_EXPECT(on_disk(tmp), "%s lost after a failed commit", tmp);
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD)); /* every rank has looked before rank 0 removes it */
  PetscCall(nn_h5_discard(&f));
  NN_EXPECT(!on_disk(tmp), "%s left after discard", tmp);
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* Open HDF5 identifiers: files, groups, datasets, attributes (H5Fget_obj_count), and, since
 * H5Inmembers refuses library kinds, dataspaces, datatypes and property lists
 * through sentinels: HDF5 1.10 numbers each kind's identifiers consecutively,
 * so those created between two sentinels and still valid were leaked. */
typedef struct {
  hid_t   id[3];
  ssize_t objects;
} HandleMark;

static void mark_handles(HandleMark *m)
{
  m->id[0]   = H5Screate(H5S_SCALAR);
  m->id[1]   = H5Tcopy(H5T_NATIVE_INT);
  m->id[2]   = H5Pcreate(H5P_DATASET_XFER);
  m->objects = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE | H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_ATTR);
}

static void unmark_handles(HandleMark *m)
{
  H5Sclose(m->id[0]);
  H5Tclose(m->id[1]);
  H5Pclose(m->id[2]);
}

/* Identifiers of kind k created between the marks and still open. */
static int leaked(const HandleMark *a, const HandleMark *b, int k)
{
  int n = 0;
  for (hid_t id = a->id[k] + 1; id < b->id[k]; id++) n += H5Iis_valid(id) > 0;
  return n;
}

static PetscErrorCode every_handle_is_closed_even_after_errors(void)
{
  char       path[PETSC_MAX_PATH_LEN], s[4];
  NnH5File   f;
  HandleMark before, after;
  hsize_t    d[2] = {2, 3}, r0 = 0, nr = 2, c0 = 0, nc = 3, one = 1;
  size_t     off  = 0;
  double     v[6] = {1, 2, 3, 4, 5, 6}, x;
  int64_t    ix;
  int        nd, p = nn_test_rank();
  PetscFunctionBeginUser;
  scratch("handles.h5", path);
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f)); /* the library's own identifiers exist from now on */
  PetscCall(nn_h5_discard(&f));
  mark_handles(&before);
  PetscCall(nn_h5_create(PETSC_COMM_WORLD, path, &f));
  PetscCall(nn_h5_write_double(&f, "/a/b", 2, d, v));
  PetscCall(nn_h5_write_double_range(&f, "/r", 2, d, p ? 6 : 0, p ? 0 : 6, v));
  PetscCall(nn_h5_read_double_range(&f, "/r", 2, d, p ? 6 : 0, p ? 0 : 6, v));
  PetscCall(nn_h5_write_double_blocks(&f, "/m", 2, 3, p ? 0 : 1, &r0, &nr, &c0, &nc, &off, v));
  PetscCall(nn_h5_describe(&f, "/m", "1", "a matrix"));
  PetscCall(nn_h5_attr_double(&f, "/a", "x", 1.0));
  PetscCall(nn_h5_get_attr_double(&f, "/a", "x", &x));
  PetscCall(nn_h5_get_attr_string(&f, "/m", "units", sizeof s, s));
  PetscCall(nn_h5_read_double(&f, "/a/b", 2, &nd, d, 6, v));
  PetscCall(nn_expect_error(nn_h5_read_double(&f, "/a/c", 2, &nd, d, 6, v), "missing dataset", "/a/c", NULL, NULL));
  PetscCall(nn_expect_error(nn_h5_write_double(&f, "/a/b", 1, &one, v), "wrong shape", "/a/b", NULL, NULL));
  PetscCall(nn_expect_error(nn_h5_get_attr_string(&f, "/m", "description", sizeof s, s), "long string", "description",
                            NULL, NULL));
  PetscCall(nn_expect_error(nn_h5_get_attr_int64(&f, "/a", "x", &ix), "double as int64", "\"x\"", NULL, NULL));
  PetscCall(nn_expect_error(nn_h5_get_attr_double(&f, "/a", "nope", &x), "missing attribute", "nope", NULL, NULL));
  PetscCall(nn_expect_error(nn_h5_write_double_range(&f, "/r", 2, d, 7, 1, v), "range", "/r", NULL, NULL));
  PetscCall(nn_expect_error(nn_h5_write_double_blocks(&f, "/m", 2, 3, 1, &nr, &nr, &c0, &nc, &off, v), "block", "/m",
                            NULL, NULL));
  PetscCall(nn_h5_discard(&f));
  mark_handles(&after);
  NN_EXPECT(after.objects == before.objects, "open file objects: %zd before, %zd after", before.objects, after.objects);
  for (int k = 0; k < 3; k++)
    NN_EXPECT(!leaked(&before, &after, k), "%d identifiers of kind %d leaked", leaked(&before, &after, k), k);
  unmark_handles(&before);
  unmark_handles(&after);
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

NN_TEST_MAIN(NN_TEST_CASE(replicated_write_then_read_roundtrips),
             NN_TEST_CASE(range_write_matches_serial_reference_for_3d_dataset),
             NN_TEST_CASE(range_write_matches_serial_reference_for_1d_2d_4d_datasets),
             NN_TEST_CASE(range_read_returns_flat_order_for_every_range_of_a_3d_dataset),
             NN_TEST_CASE(out_of_range_on_one_rank_is_an_error_on_every_rank),
             NN_TEST_CASE(block_write_matches_serial_reference),
             NN_TEST_CASE(block_write_handles_blocks_with_staggered_rows),
             NN_TEST_CASE(overlapping_blocks_are_an_error_on_every_rank),
             NN_TEST_CASE(attributes_roundtrip),
             NN_TEST_CASE(fixed_length_string_attributes_are_read_too),
             NN_TEST_CASE(commit_replaces_old_file_atomically),
             NN_TEST_CASE(discard_leaves_old_file_intact),
             NN_TEST_CASE(external_links_read_through),
             NN_TEST_CASE(stale_tmp_file_is_overwritten),
             NN_TEST_CASE(non_hdf5_file_is_reported_not_treated_as_missing),
             NN_TEST_CASE(missing_dataset_error_names_file_and_object),
             NN_TEST_CASE(unwritable_directory_is_an_error_not_a_hang),
             NN_TEST_CASE(failed_commit_is_an_error_on_every_rank),
             NN_TEST_CASE(every_handle_is_closed_even_after_errors))
