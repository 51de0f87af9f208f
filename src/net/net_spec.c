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
 * The last layer gives the K outputs per sample (K = 1 for the binary losses). */
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
  {"vgg12_nobn_dropout",
   "conv:64:3:1,relu,dropout:0.3,conv:64:3:1,relu,pool:2,"
   "conv:128:3:1,relu,dropout:0.4,conv:128:3:1,relu,pool:2,"
   "conv:256:3:1,relu,dropout:0.4,conv:256:3:1,relu,dropout:0.4,conv:256:3:1,relu,pool:2,"
   "conv:512:3:1,relu,dropout:0.4,conv:512:3:1,relu,dropout:0.4,conv:512:3:1,relu,pool:2,dropout:0.5,"
   "dense:512,relu,dropout:0.5,dense:1",
   "vgg12 with the normalization removed and its dropout kept: Fig. 3's net (Sec. 5.2: \"the same configuration as that in "
   "fig. 1 but with BN removed\")"},
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

const char *net_preset_name(size_t k, const char **about)
{
  if (k >= sizeof presets / sizeof presets[0]) return NULL;
  if (about) *about = presets[k].about;
  return presets[k].name;
}

PetscErrorCode net_spec_set_outputs(char *spec, size_t len, PetscInt K)
{
  char *last = strrchr(spec, ',');
  last       = last ? last + 1 : spec;
  PetscFunctionBeginUser;
  while (*last == ' ') last++;
  PetscCheck(!strncmp(last, "dense:", 6), PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG,
             "-net_outputs: the layer string must end with a dense layer, but it ends with \"%s\"", last);
  PetscCall(PetscSNPrintf(last, len - (size_t)(last - spec), "dense:%" PetscInt_FMT, K));
  PetscFunctionReturn(0);
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
    PetscInt k, pad = 0;
    PetscCall(spec_int(item, &s, 1, &L->out.c));
    PetscCall(spec_int(item, &s, 1, &k));
    if (*s == ':') PetscCall(spec_int(item, &s, 0, &pad));
    L->win = (NnWindow){k, k, 1, 1, pad, pad, pad, pad};
  } else if (!strncmp(s, "dense", 5) && (s[5] == ':' || !s[5])) {
    s += 5;
    L->kind = LAYER_DENSE;
    PetscCall(spec_int(item, &s, 1, &L->out.c));
  } else if (!strncmp(s, "pool", 4) && (s[4] == ':' || !s[4])) {
    s += 4;
    PetscInt k;
    L->kind = LAYER_POOL;
    PetscCall(spec_int(item, &s, 1, &k));
    L->win = (NnWindow){k, k, k, k, 0, 0, 0, 0};
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
    L->eps  = 1e-5; /* PyTorch's default */
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
  if (L->kind == LAYER_CONV) w = (double)L->out.c * L->in.c * L->win.kh * L->win.kw;
  return w && bias ? w + L->out.c : w;
}

PetscErrorCode net_window_shape(const NnWindow *w, NnShape in, const char *what, PetscInt *oh, PetscInt *ow)
{
  const int64_t h = (int64_t)in.h + w->pt + w->pb - w->kh, v = (int64_t)in.w + w->pl + w->pr - w->kw;
  PetscFunctionBeginUser;
  PetscCheck(in.spatial, PETSC_COMM_WORLD, PETSC_ERR_ARG_INCOMP, "%s needs a spatial input, but its input is flat (%" PetscInt_FMT " features)",
             what, nn_shape_size(in));
  PetscCheck(h >= 0 && v >= 0, PETSC_COMM_WORLD, PETSC_ERR_ARG_INCOMP,
             "%s: its %" PetscInt_FMT "x%" PetscInt_FMT " window is larger than its %" PetscInt_FMT "x%" PetscInt_FMT " input (padded)", what,
             w->kh, w->kw, in.h, in.w);
  *oh = (PetscInt)(h / w->sh + 1);
  *ow = (PetscInt)(v / w->sw + 1);
  PetscFunctionReturn(0);
}

/* Output shape of L from its input shape; errors name the item. Sizes are
 * computed in 64 bits: an output or a parameter count that PetscInt cannot
 * hold is an error. */
static PetscErrorCode spec_shape(Layer *L, const char *item)
{
  NnShape  in = L->in;
  PetscInt oc = L->out.c, oh, ow; /* conv and dense: from the item */
  char     what[96];
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(what, sizeof what, "-net_layers: \"%s\"", item));
  L->out = (NnShape){in.c, in.h, in.w, in.spatial};
  switch (L->kind) {
  case LAYER_CONV:
    PetscCall(net_window_shape(&L->win, in, what, &oh, &ow));
    PetscCheck((double)oc * (double)oh * (double)ow <= PETSC_MAX_INT, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE,
               "-net_layers: \"%s\": an output of %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT
               " values per sample is more than this build's %d-bit indices can count",
               item, oc, oh, ow, (int)(8 * sizeof(PetscInt)));
    L->out = (NnShape){oc, oh, ow, PETSC_TRUE};
    break;
  case LAYER_POOL:
    PetscCall(net_window_shape(&L->win, in, what, &oh, &ow));
    L->out = (NnShape){in.c, oh, ow, PETSC_TRUE};
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
    Layer *L    = &net->layers[n];
    *L          = item;
    L->in       = cur;
    L->has_bias = net->bias;
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
  PetscCheck(n > 0, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "-net_layers: \"%s\" leaves no layer on this input (a flatten of flat input does nothing)",
             net->spec);
  PetscCheck(nn_shape_size(cur) == 1 || !cur.spatial, PETSC_COMM_WORLD, PETSC_ERR_ARG_INCOMP,
             "-net_layers: the network must end with its outputs per sample as a flat layer (e.g. dense:1 or dense:10), but it gives a "
             "%" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT " image",
             cur.c, cur.h, cur.w);
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
