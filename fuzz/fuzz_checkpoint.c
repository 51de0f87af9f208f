/* libFuzzer target, structure-aware: the input is a list of edits of a valid
 * checkpoint made with HDF5 itself (so the file stays well-formed and what is
 * tested is nncas's validation, not libhdf5's parser), then checkpoint_read
 * reads it. An edit sets an attribute (epoch, step, seed, batch, parameter
 * count, architecture string, running sums...) to a chosen value and type,
 * replaces a dataset (weights, momentum, histories, sample indices) by one of
 * a chosen class and shape, with chosen values (NaN, infinities) or with no
 * data written at all under a huge shape, deletes an object, or puts a group
 * where a dataset belongs. Properties: no crash, leak or undefined behaviour;
 * no allocation for a size the file does not hold; what is accepted is a
 * state a run can continue from. */
#include "checkpoint_fixture.h"

#include <math.h>
#include <stdio.h>

static NnCkptFixture fx;

/* The objects edits choose from. */
#define MAX_DSETS 64
static char        dsets[MAX_DSETS][96];
static int         ndsets;
static const char *int_attrs[][2]    = {{"/state", "epoch"},      {"/state", "step"},          {"/state", "global_step"},
                                        {"/state", "train_seed"}, {"/state", "batch"},         {"/", "net_parameters"},
                                        {"/", "net_bias"},        {"/", "train_samples"}};
static const char *double_attrs[][2] = {
  {"/state", "acc_loss"}, {"/state", "acc_correct"}, {"/state", "acc_n"}, {"/state", "epoch_seconds"}};
static const char *string_attrs[][2] = {{"/", "kind"}, {"/", "net_spec"}};
static const char *groups[]          = {"/state", "/weights", "/momentum", "/history", "/history_steps", "/data", "/"};

typedef struct {
  const uint8_t *p;
  size_t         n;
} Input;

static unsigned take(Input *in)
{
  if (!in->n) return 0;
  in->n--;
  return *in->p++;
}

static uint64_t take64(Input *in)
{
  uint64_t v = 0;
  for (int k = 0; k < 8; k++) v = v << 8 | take(in);
  return v;
}

/* An integer: mostly one of the values at the edges of what the reader must check. */
static int64_t take_int(Input *in)
{
  static const int64_t edges[] = {0, 1, -1, 2, 3, 7, 8, 24, 51, 1000, 2147483647LL, 2147483648LL, 4294967296LL,
                                  INT64_MAX, INT64_MIN, 1LL << 40};
  unsigned             k       = take(in);
  return k < 240 ? edges[k % (sizeof edges / sizeof edges[0])] : (int64_t)take64(in);
}

static double take_double(Input *in)
{
  static const double edges[] = {0, 1, -1, 0.5, 8, 1e300, -1e300, 1e-310};
  unsigned            k       = take(in);
  if (k < 16) return k < 8 ? edges[k] : k < 12 ? NAN : (k & 1 ? INFINITY : -INFINITY);
  if (k < 128) return (double)(int)(k - 64);
  uint64_t b = take64(in);
  double   d;
  memcpy(&d, &b, sizeof d);
  return d;
}

/* Replaces attribute obj/name by one of a chosen type holding chosen values. */
static void edit_attr(hid_t file, Input *in, const char *obj, const char *name, int want)
{
  unsigned kind = take(in) % 8 < 5 ? (unsigned)want : take(in) % 5; /* mostly the expected type */
  hsize_t  two  = 2;
  hid_t    space = kind == 3 ? H5Screate_simple(1, &two, NULL) : H5Screate(H5S_SCALAR), type, a;
  int64_t  iv[2] = {take_int(in), take_int(in)};
  double   dv    = take_double(in);
  char     str[5000];
  size_t   len = take(in) * 20 + take(in) % 20; /* up to 5099: past any buffer of the reader */
  if (len >= sizeof str) len = sizeof str - 1;
  for (size_t i = 0; i < len; i++) str[i] = (char)(i < 4 ? take(in) : "conv:1:3,relu,dense:1,"[i % 22]);
  str[len] = 0;
  if (H5Aexists_by_name(file, obj, name, H5P_DEFAULT) > 0) H5Adelete_by_name(file, obj, name, H5P_DEFAULT);
  switch (kind) {
  case 0: type = H5Tcopy(H5T_STD_I64LE); break;
  case 1: type = H5Tcopy(H5T_IEEE_F64LE); break;
  case 2: /* variable-length string, as nncas writes */
    type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    break;
  case 3: type = H5Tcopy(H5T_STD_I64LE); break; /* two values */
  default: /* fixed-length string, space- or NUL-padded */
    type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, len + 1);
    H5Tset_strpad(type, len % 2 ? H5T_STR_SPACEPAD : H5T_STR_NULLTERM);
    break;
  }
  a = H5Acreate_by_name(file, obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (a >= 0) {
    const char *sp = str;
    H5Awrite(a, kind == 1 ? H5T_NATIVE_DOUBLE : kind == 0 || kind == 3 ? H5T_NATIVE_INT64 : type,
             kind == 0 || kind == 3 ? (const void *)iv : kind == 1 ? (const void *)&dv : kind == 2 ? (const void *)&sp : str);
    H5Aclose(a);
  }
  H5Tclose(type);
  H5Sclose(space);
}

/* Replaces dataset path by one of a chosen class and shape: written with
 * chosen values when small, or a huge shape with nothing written (chunked,
 * storage allocated late: no bytes in the file). */
static void edit_dataset(hid_t file, Input *in, const char *path)
{
  unsigned cls = take(in) % 4, nd = take(in) % 5, fill = take(in) % 6;
  hsize_t  dims[4], chunk[4], total = 1;
  int      huge = 0;
  for (unsigned k = 0; k < nd; k++) {
    unsigned b = take(in);
    dims[k]    = b < 250 ? b % 40 : b == 250 ? 2147483648ULL : b == 251 ? 1ULL << 40 : b == 252 ? 4294967295ULL : b == 253 ? 1ULL << 29 : 0;
    chunk[k]   = dims[k] ? PetscMin(dims[k], 16) : 1;
    huge |= dims[k] > 4096;
    total = huge ? total : total * dims[k];
  }
  huge |= total > 4096;
  if (H5Lexists(file, path, H5P_DEFAULT) > 0) H5Ldelete(file, path, H5P_DEFAULT);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE), dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  if (cls == 3) { /* a group where a dataset belongs */
    hid_t g = H5Gcreate2(file, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0) H5Gclose(g);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    return;
  }
  hid_t ftype = cls == 0 ? H5T_IEEE_F64LE : cls == 1 ? H5T_STD_I64LE : H5T_IEEE_F32BE;
  hid_t space = nd ? H5Screate_simple((int)nd, dims, NULL) : H5Screate(H5S_SCALAR);
  if (huge && nd) H5Pset_chunk(dcpl, (int)nd, chunk);
  hid_t d = H5Dcreate2(file, path, ftype, space, lcpl, dcpl, H5P_DEFAULT);
  if (d >= 0 && !huge && total) {
    double v[4096];
    for (hsize_t i = 0; i < total; i++)
      v[i] = fill == 0 ? (double)i : fill == 1 ? NAN : fill == 2 ? INFINITY : fill == 3 ? 0 : (double)take(in) - 128;
    H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
  }
  if (d >= 0) H5Dclose(d);
  H5Sclose(space);
  H5Pclose(lcpl);
  H5Pclose(dcpl);
}

static void edit(hid_t file, Input *in)
{
  unsigned op = take(in) % 6, k = take(in);
  switch (op) {
  case 0: edit_attr(file, in, int_attrs[k % 8][0], int_attrs[k % 8][1], 0); break;
  case 1: edit_attr(file, in, double_attrs[k % 4][0], double_attrs[k % 4][1], 1); break;
  case 2: edit_attr(file, in, string_attrs[k % 2][0], string_attrs[k % 2][1], 2); break;
  case 3: edit_dataset(file, in, dsets[k % ndsets]); break;
  case 4: /* delete a dataset or a group */
    if (k % 2 && H5Lexists(file, dsets[k / 2 % ndsets], H5P_DEFAULT) > 0) H5Ldelete(file, dsets[k / 2 % ndsets], H5P_DEFAULT);
    if (!(k % 2) && strcmp(groups[k / 2 % 7], "/")) H5Ldelete(file, groups[k / 2 % 7], H5P_DEFAULT);
    break;
  default: /* an attribute where nncas expects none, or one removed */
    if (k % 2) H5Adelete_by_name(file, int_attrs[k / 2 % 8][0], int_attrs[k / 2 % 8][1], H5P_DEFAULT);
    else edit_attr(file, in, groups[k / 2 % 7], "extra", 1);
    break;
  }
}

static void list_datasets(void)
{
  static const char *parts[] = {"weights", "momentum"};
  PetscInt           ngroups = 0;
  if (net_get_num_param_groups(fx.net, &ngroups)) nn_fuzz_fail("net_get_num_param_groups failed");
  for (int g = 0; g < 2; g++)
    for (PetscInt q = 0; q < ngroups; q++) {
      NnParamGroup pg;
      if (net_get_param_group(fx.net, q, &pg)) nn_fuzz_fail("net_get_param_group failed");
      snprintf(dsets[ndsets++], sizeof dsets[0], "/%s/%s/weight", parts[g], pg.name);
      snprintf(dsets[ndsets++], sizeof dsets[0], "/%s/%s/bias", parts[g], pg.name);
    }
  for (int c = 0; c < NN_EPOCH_NCOLS; c++) snprintf(dsets[ndsets++], sizeof dsets[0], "/history/%s", nn_epoch_columns[c].name);
  for (int c = 0; c < NN_STEP_NCOLS; c++)
    snprintf(dsets[ndsets++], sizeof dsets[0], "/history_steps/%s", nn_step_columns[c].name);
  snprintf(dsets[ndsets++], sizeof dsets[0], "/data/train_source_index");
  snprintf(dsets[ndsets++], sizeof dsets[0], "/data/epoch_order");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  nn_ckpt_fixture_init(&fx);
  list_datasets();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  Input       in   = {data, size};
  const char *path = nn_fuzz_write_file("ckpt.h5", fx.base, fx.nbase);
  hid_t       file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT); /* serial HDF5: the edits */
  if (file < 0) nn_fuzz_fail("cannot open the fixture's checkpoint");
  for (int e = 0; e < 16 && in.n; e++) edit(file, &in);
  if (H5Fclose(file) < 0) nn_fuzz_fail("cannot close the edited checkpoint");
  if (!trainer_checkpoint_read(fx.t, path)) nn_ckpt_check_restored(&fx);
  return 0;
}
