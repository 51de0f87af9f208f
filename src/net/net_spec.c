/* The layer string (-net_layers) and the named presets (-net_preset).
 *
 * Grammar: items separated by commas,
 *   conv:OC:K[:PAD]  2-D convolution, OC output channels, K x K kernel, stride 1
 *   dense:N          fully connected, N outputs
 *   pool:K           max-pool, K x K window, stride K
 *   relu | swish | sigmoid | tanh
 *   bn               batch-statistics normalization (no affine, no running stats)
 *   dropout:P        dropout with probability P
 *   flatten          (inserted automatically before a dense layer on spatial input)
 * The last layer must produce one output per sample. */
#include "netimpl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name, *spec, *about;
} NetPreset;

static const NetPreset presets[] = {
  {"lenet", "conv:32:5,relu,pool:2,conv:64:5,relu,pool:2,dense:512,relu,dense:1",
   "LeNet of Table 3 read with valid convolutions on 28x28 inputs: 577,409 parameters (the benchmarks' LeNet)"},
  {"lenet_paper", "conv:32:5,relu,pool:2,conv:64:5:2,relu,pool:2,dense:512,relu,dense:1",
   "LeNet of Table 3 with App. G.2's parameter count: the second convolution padded by 2, a 6x6x64 map before the first "
   "dense layer, 1,232,769 parameters (the paper: 1,232,768, the same without the output bias; docs/reproduction.md)"},
  {"lenet_small", "conv:8:5,relu,pool:2,conv:16:5,relu,pool:2,dense:64,relu,dense:1",
   "a narrow LeNet for the quick start"},
  {"vgg12",
   "conv:64:3:1,bn,relu,dropout:0.3,conv:64:3:1,bn,relu,pool:2,"
   "conv:128:3:1,bn,relu,dropout:0.4,conv:128:3:1,bn,relu,pool:2,"
   "conv:256:3:1,bn,relu,dropout:0.4,conv:256:3:1,bn,relu,dropout:0.4,conv:256:3:1,bn,relu,pool:2,"
   "conv:512:3:1,bn,relu,dropout:0.4,conv:512:3:1,bn,relu,dropout:0.4,conv:512:3:1,bn,relu,pool:2,dropout:0.5,"
   "dense:512,bn,relu,dropout:0.5,dense:1",
   "12-layer VGG with batch-statistics normalization and dropout (App. G.3)"},
  {"vgg12_nobn",
   "conv:64:3:1,relu,conv:64:3:1,relu,pool:2,conv:128:3:1,relu,conv:128:3:1,relu,pool:2,"
   "conv:256:3:1,relu,conv:256:3:1,relu,conv:256:3:1,relu,pool:2,"
   "conv:512:3:1,relu,conv:512:3:1,relu,conv:512:3:1,relu,pool:2,dense:512,relu,dense:1",
   "the 12-layer VGG without normalization and dropout (Sec. 5.2 spectra)"},
  {"vgg_small",
   "conv:16:3:1,bn,relu,conv:16:3:1,bn,relu,pool:2,conv:32:3:1,bn,relu,conv:32:3:1,bn,relu,pool:2,"
   "conv:64:3:1,bn,relu,pool:2,dense:64,bn,relu,dense:1",
   "a 6-layer VGG-style net with batch-statistics normalization for 28x28 inputs (jobs/reproduce.sh: Fig. 1f's BN claim at a size that fits)"},
  {"vgg_small_nobn",
   "conv:16:3:1,relu,conv:16:3:1,relu,pool:2,conv:32:3:1,relu,conv:32:3:1,relu,pool:2,conv:64:3:1,relu,pool:2,dense:64,relu,dense:1",
   "vgg_small without normalization (jobs/reproduce.sh: the init-scaling study of Sec. 5.2)"},
  {"mlp", "dense:512,relu,dense:512,relu,dense:1", "MLP 784-512-512-1 (benchmarks)"},
};

PetscErrorCode net_spec_expand_preset(const char *preset, char *spec, size_t len)
{
  PetscFunctionBeginUser;
  for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
    if (!strcmp(preset, presets[i].name)) {
      PetscCall(PetscStrncpy(spec, presets[i].spec, len));
      PetscFunctionReturn(0);
    }
  char known[256] = "";
  for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
    PetscCall(PetscStrlcat(known, i ? ", " : "", sizeof known));
    PetscCall(PetscStrlcat(known, presets[i].name, sizeof known));
  }
  SETERRQ(PETSC_COMM_WORLD, PETSC_ERR_ARG_UNKNOWN_TYPE, "-net_preset: unknown preset \"%s\" (known: %s)", preset, known);
}

/* Reads a positive integer field of item `item`; *s advances past it. */
static PetscErrorCode spec_int(const char *item, const char **s, PetscInt lo, PetscInt *v)
{
  char *end;
  long  x;
  PetscFunctionBeginUser;
  PetscCheck(**s == ':', PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "-net_layers: item \"%s\": expected ':' and a number",
             item);
  (*s)++;
  x = strtol(*s, &end, 10);
  PetscCheck(end != *s && x >= lo && x <= 1000000, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE,
             "-net_layers: item \"%s\": expected an integer >= %" PetscInt_FMT, item, lo);
  *v = (PetscInt)x;
  *s = end;
  PetscFunctionReturn(0);
}

static PetscErrorCode spec_real(const char *item, const char **s, PetscReal *v)
{
  char  *end;
  double x;
  PetscFunctionBeginUser;
  PetscCheck(**s == ':', PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "-net_layers: item \"%s\": expected ':' and a number",
             item);
  (*s)++;
  x = strtod(*s, &end);
  PetscCheck(end != *s, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "-net_layers: item \"%s\": expected a number", item);
  *v = x;
  *s = end;
  PetscFunctionReturn(0);
}

/* Fills L's kind and hyper-parameters from one item of the layer string. */
static PetscErrorCode spec_parse_item(const char *item, Layer *L)
{
  const char *s = item;
  PetscFunctionBeginUser;
  if (!strncmp(s, "conv", 4) && (s[4] == ':' || !s[4])) {
    s += 4;
    L->kind = LAYER_CONV;
    PetscCall(spec_int(item, &s, 1, &L->out.c));
    PetscCall(spec_int(item, &s, 1, &L->k));
    if (*s == ':') PetscCall(spec_int(item, &s, 0, &L->pad));
  } else if (!strncmp(s, "dense", 5) && (s[5] == ':' || !s[5])) {
    s += 5;
    L->kind = LAYER_DENSE;
    PetscCall(spec_int(item, &s, 1, &L->out.c));
  } else if (!strncmp(s, "pool", 4) && (s[4] == ':' || !s[4])) {
    s += 4;
    L->kind = LAYER_POOL;
    PetscCall(spec_int(item, &s, 1, &L->k));
  } else if (!strncmp(s, "dropout", 7) && (s[7] == ':' || !s[7])) {
    s += 7;
    L->kind = LAYER_DROPOUT;
    PetscCall(spec_real(item, &s, &L->p));
    PetscCheck(L->p >= 0 && L->p < 1, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE,
               "-net_layers: item \"%s\": the dropout probability must be in [0, 1)", item);
  } else if (!strcmp(s, "relu") || !strcmp(s, "swish") || !strcmp(s, "sigmoid") || !strcmp(s, "tanh")) {
    L->kind = LAYER_ACT;
    L->act  = s[0] == 'r' ? ACT_RELU : s[1] == 'w' ? ACT_SWISH : s[1] == 'i' ? ACT_SIGMOID : ACT_TANH;
    s += strlen(s);
  } else if (!strcmp(s, "bn")) {
    L->kind = LAYER_BN;
    s += 2;
  } else if (!strcmp(s, "flatten")) {
    L->kind = LAYER_FLATTEN;
    s += 7;
  } else {
    SETERRQ(PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG,
            "-net_layers: unknown layer \"%s\" (expected conv:OC:K[:PAD], dense:N, pool:K, relu, swish, sigmoid, tanh, "
            "bn, dropout:P or flatten)",
            item);
  }
  PetscCheck(*s == 0, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "-net_layers: item \"%s\": unexpected \"%s\"", item, s);
  PetscFunctionReturn(0);
}

/* Splits the layer string into items; *items has *n entries (free with PetscStrToArrayDestroy). */
static PetscErrorCode spec_split(const char *spec, char ***items, int *n)
{
  size_t len;
  int    empty = 0;
  PetscFunctionBeginUser;
  PetscCall(PetscStrlen(spec, &len));
  PetscCheck(len > 0, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "-net_layers: empty layer string");
  PetscCheck(spec[0] != ',' && spec[len - 1] != ',' && !strstr(spec, ",,"), PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG,
             "-net_layers: empty item in \"%s\"", spec);
  PetscCall(PetscStrToArray(spec, ',', n, items));
  for (int i = 0; i < *n; i++) {
    char *t = (*items)[i];
    while (isspace((unsigned char)*t)) t++;
    size_t l = strlen(t);
    while (l && isspace((unsigned char)t[l - 1])) t[--l] = 0;
    memmove((*items)[i], t, l + 1);
    if (!l && !empty) empty = i + 1;
  }
  if (empty) PetscCall(PetscStrToArrayDestroy(*n, *items));
  PetscCheck(!empty, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "-net_layers: empty item %d in \"%s\"", empty, spec);
  PetscFunctionReturn(0);
}

/* Weights and biases of L (with bias), as a double: no overflow. */
static double spec_params(const Layer *L, PetscBool bias)
{
  double w = 0;
  if (L->kind == LAYER_DENSE) w = (double)L->out.c * (double)L->in.c * L->in.h * L->in.w;
  if (L->kind == LAYER_CONV) w = (double)L->out.c * L->in.c * L->k * L->k;
  return w && bias ? w + L->out.c : w;
}

/* Output shape of L from its input shape; errors name the item. Sizes are
 * computed in 64 bits: an output or a parameter count that PetscInt cannot
 * hold is an error. */
static PetscErrorCode spec_shape(Layer *L, const char *item)
{
  NnShape  in = L->in;
  PetscInt oc = L->out.c; /* conv and dense: from the item */
  int64_t  oh = 0, ow = 0;
  PetscFunctionBeginUser;
  L->out = (NnShape){in.c, in.h, in.w, in.spatial};
  switch (L->kind) {
  case LAYER_CONV:
    PetscCheck(in.spatial, PETSC_COMM_WORLD, PETSC_ERR_ARG_INCOMP,
               "-net_layers: \"%s\" needs a spatial input, but its input is flat (%" PetscInt_FMT " features)", item,
               nn_shape_size(in));
    oh = (int64_t)in.h + 2 * (int64_t)L->pad - L->k + 1;
    ow = (int64_t)in.w + 2 * (int64_t)L->pad - L->k + 1;
    PetscCheck(oh >= 1 && ow >= 1, PETSC_COMM_WORLD, PETSC_ERR_ARG_INCOMP,
               "-net_layers: \"%s\": kernel larger than its %" PetscInt_FMT "x%" PetscInt_FMT " input", item, in.h, in.w);
    PetscCheck((double)oc * (double)oh * (double)ow <= PETSC_MAX_INT, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE,
               "-net_layers: \"%s\": an output of %" PetscInt_FMT "x%lldx%lld values per sample is more than this build's "
               "%d-bit indices can count",
               item, oc, (long long)oh, (long long)ow, (int)(8 * sizeof(PetscInt)));
    L->out = (NnShape){oc, (PetscInt)oh, (PetscInt)ow, PETSC_TRUE};
    break;
  case LAYER_POOL:
    PetscCheck(in.spatial && in.h >= L->k && in.w >= L->k, PETSC_COMM_WORLD, PETSC_ERR_ARG_INCOMP,
               "-net_layers: \"%s\" needs a spatial input of at least %" PetscInt_FMT "x%" PetscInt_FMT, item, L->k, L->k);
    L->out = (NnShape){in.c, in.h / L->k, in.w / L->k, PETSC_TRUE};
    break;
  case LAYER_DENSE: L->out = (NnShape){oc, 1, 1, PETSC_FALSE}; break;
  case LAYER_FLATTEN: L->out = (NnShape){nn_shape_size(in), 1, 1, PETSC_FALSE}; break;
  default: break;
  }
  PetscFunctionReturn(0);
}

/* Fills net->layers (room for 2 nitems) from the items, inserting flatten
 * layers before dense ones on spatial input. */
static PetscErrorCode spec_build(Net net, char **items, int nitems)
{
  PetscInt n      = 0;
  NnShape  cur    = net->input;
  double   params = 0;
  PetscFunctionBeginUser;
  for (int i = 0; i < nitems; i++) {
    Layer item = {0};
    PetscCall(spec_parse_item(items[i], &item));
    if (item.kind == LAYER_DENSE && cur.spatial) { /* flatten before a dense layer */
      Layer *F = &net->layers[n];
      F->kind  = LAYER_FLATTEN;
      F->in    = cur;
      PetscCall(spec_shape(F, "flatten"));
      F->index = n++;
      cur      = F->out;
    }
    Layer *L = &net->layers[n];
    *L       = item;
    L->in    = cur;
    if (L->kind == LAYER_FLATTEN && !cur.spatial) continue; /* already flat */
    PetscCall(spec_shape(L, items[i]));
    params += spec_params(L, net->bias);
    PetscCheck(params <= PETSC_MAX_INT, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE,
               "-net_layers: up to \"%s\" the network has %.0f parameters, more than this build's %d-bit indices can count",
               items[i], params, (int)(8 * sizeof(PetscInt)));
    L->index = n++;
    cur      = L->out;
  }
  net->nlayers = n;
  PetscCheck(nn_shape_size(cur) == 1, PETSC_COMM_WORLD, PETSC_ERR_ARG_INCOMP,
             "-net_layers: the network must end with one output per sample (e.g. dense:1), but it gives %" PetscInt_FMT,
             nn_shape_size(cur));
  PetscFunctionReturn(0);
}

/* Builds net->layers from net->spec for the input shape net->input. */
PetscErrorCode net_parse(Net net)
{
  char         **items;
  int            nitems;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(spec_split(net->spec, &items, &nitems));
  ierr = PetscCalloc1(2 * nitems, &net->layers); /* room for inserted flatten layers */
  if (!ierr) ierr = spec_build(net, items, nitems);
  PetscCall(PetscStrToArrayDestroy(nitems, items));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
