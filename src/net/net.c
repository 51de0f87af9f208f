/* Network object: options, layout of theta, buffers, forward and backward
 * passes over the layer stack, initialisation. */
#include "layers.h"

#include <math.h>
#include <string.h>

const char *const NnLosses[] = {"hinge", "absolute", "logistic", "squared", "NnLoss", "LOSS_", NULL};
const char *const NnInits[]  = {"old", "normal", "scaled", "NnInit", "INIT_", NULL};

static const LayerOps *layer_ops(LayerKind k)
{
  switch (k) {
  case LAYER_DENSE: return &layer_dense_ops;
  case LAYER_CONV: return &layer_conv_ops;
  case LAYER_POOL: return &layer_pool_ops;
  case LAYER_ACT: return &layer_act_ops;
  case LAYER_BN: return &layer_bn_ops;
  case LAYER_DROPOUT: return &layer_dropout_ops;
  case LAYER_FLATTEN: return &layer_flatten_ops;
  }
  return NULL;
}

/* -log_view events per layer kind and pass (e.g. NnConvRBwd); the layers log
 * their GEMM flops, so -log_view shows each kind's rate. */
enum { PASS_FWD, PASS_BWD, PASS_RFWD, PASS_RBWD, NPASS };
static PetscLogEvent layer_events[LAYER_FLATTEN + 1][NPASS], ev_forward, ev_backward;

PetscErrorCode net_initialize_package(void)
{
  static const char *kinds[] = {"Dense", "Conv", "Pool", "Act", "BN", "Dropout", "Flatten"};
  static const char *pass[]  = {"Fwd", "Bwd", "RFwd", "RBwd"};
  static PetscBool   done    = PETSC_FALSE;
  PetscClassId       cls;
  char               name[32];
  PetscFunctionBeginUser;
  if (done) PetscFunctionReturn(0);
  PetscCall(PetscClassIdRegister("NnLayer", &cls));
  PetscCall(PetscLogEventRegister("NnForward", cls, &ev_forward));
  PetscCall(PetscLogEventRegister("NnBackward", cls, &ev_backward));
  for (int k = 0; k <= LAYER_FLATTEN; k++)
    for (int q = 0; q < NPASS; q++) {
      PetscCall(PetscSNPrintf(name, sizeof name, "Nn%s%s", kinds[k], pass[q]));
      PetscCall(PetscLogEventRegister(name, cls, &layer_events[k][q]));
    }
  done = PETSC_TRUE;
  PetscFunctionReturn(0);
}

PetscErrorCode net_create(MPI_Comm comm, Net *net)
{
  Net n;
  PetscFunctionBeginUser;
  PetscCall(net_initialize_package());
  PetscCall(PetscNew(&n));
  n->comm = comm;
  PetscCall(PetscStrncpy(n->preset, "lenet", sizeof n->preset));
  n->bias         = PETSC_TRUE;
  n->init         = INIT_OLD;
  n->init_std     = 1e-4;
  n->init_c       = 2.0;
  n->seed         = 1;
  n->loss         = LOSS_HINGE;
  n->workspace_mb = 256;
  n->colcache_mb  = 256;
  *net            = n;
  PetscFunctionReturn(0);
}

PetscErrorCode net_set_from_options(Net net)
{
  char      layers[sizeof net->spec] = "";
  PetscBool set;
  PetscFunctionBeginUser;
  PetscOptionsBegin(net->comm, NULL, "Network options", NULL);
  PetscCall(PetscOptionsString("-net_preset", "named architecture: lenet (Table 3), lenet_small, vgg12 (App. G.3), vgg12_nobn, mlp",
                               NULL, net->preset, net->preset, sizeof net->preset, NULL));
  PetscCall(PetscOptionsString("-net_layers", "layer string, overrides -net_preset (e.g. conv:32:5,relu,pool:2,dense:512,relu,dense:1)",
                               NULL, layers, layers, sizeof layers, &set));
  PetscCall(PetscOptionsBool("-net_bias", "layers have biases", NULL, net->bias, &net->bias, NULL));
  PetscCall(PetscOptionsEnum("-net_init", "initialisation: old = U(+-1/sqrt(fan_in)), normal = N(0, std^2), scaled = N(0, c/fan_in)",
                             NULL, NnInits, (PetscEnum)net->init, (PetscEnum *)&net->init, NULL));
  PetscCall(PetscOptionsReal("-net_init_std", "standard deviation of -net_init normal (App. G.3: 1e-4)", NULL, net->init_std,
                             &net->init_std, NULL));
  PetscCall(PetscOptionsReal("-net_init_c", "variance factor c of -net_init scaled, N(0, c/fan_in) (Sec. 5.2)", NULL,
                             net->init_c, &net->init_c, NULL));
  PetscCall(PetscOptionsInt("-net_seed", "seed of the initial weights", NULL, net->seed, &net->seed, NULL));
  PetscCall(PetscOptionsEnum("-net_loss", "loss: hinge and absolute (class L0), logistic, squared", NULL, NnLosses,
                             (PetscEnum)net->loss, (PetscEnum *)&net->loss, NULL));
  PetscCall(PetscOptionsReal("-net_workspace_mb", "memory for the im2col workspace (MB)", NULL, net->workspace_mb,
                             &net->workspace_mb, NULL));
  PetscCall(PetscOptionsReal("-net_colcache_mb", "memory for keeping conv layers' im2col of the forward pass for the "
                             "backward and R-passes (MB, 0: none)", NULL, net->colcache_mb, &net->colcache_mb, NULL));
  PetscOptionsEnd();
  if (set) PetscCall(PetscStrncpy(net->spec, layers, sizeof net->spec));
  else PetscCall(net_spec_expand_preset(net->preset, net->spec, sizeof net->spec));
  PetscCall(nn_option_check_real(net->comm, "-net_init_std", net->init_std, "(0, inf)"));
  PetscCall(nn_option_check_real(net->comm, "-net_init_c", net->init_c, "(0, inf)"));
  PetscCheck(net->workspace_mb > 0, net->comm, PETSC_ERR_ARG_OUTOFRANGE, "-net_workspace_mb must be positive");
  PetscCheck(net->colcache_mb >= 0, net->comm, PETSC_ERR_ARG_OUTOFRANGE, "-net_colcache_mb must not be negative");
  PetscFunctionReturn(0);
}

/* Parameter layout: weight then bias, layer after layer. */
static void net_layout_params(Net net)
{
  PetscInt off = 0;
  net->first   = net->nlayers;
  for (PetscInt l = 0; l < net->nlayers; l++) {
    Layer *L = &net->layers[l];
    L->woff = L->boff = off;
    L->nw = L->nbias = 0;
    if (L->kind == LAYER_DENSE) L->nw = L->out.c * nn_shape_size(L->in);
    if (L->kind == LAYER_CONV) L->nw = L->out.c * L->in.c * L->k * L->k;
    if (L->nw && net->bias) L->nbias = L->out.c;
    L->boff = off + L->nw;
    off += L->nw + L->nbias;
    if (L->nw && l < net->first) net->first = l;
  }
  net->N = off;
}

static PetscErrorCode net_alloc_buffers(Net net)
{
  const PetscInt B    = net->Bmax;
  PetscInt       maxf = 1;
  size_t         per  = 0;
  PetscFunctionBeginUser;
  PetscCall(PetscCalloc1(net->nlayers + 1, &net->act));
  for (PetscInt l = 0; l < net->nlayers; l++) {
    Layer *L = &net->layers[l];
    L->net   = net;
    L->ops   = layer_ops(L->kind);
    maxf     = PetscMax(maxf, PetscMax(nn_shape_size(L->in), nn_shape_size(L->out)));
    PetscCall(PetscMalloc1((size_t)B * nn_shape_size(L->in), &net->act[l]));
    if (L->kind == LAYER_POOL) PetscCall(PetscMalloc1((size_t)B * nn_shape_size(L->out), &L->argmax));
    if (L->kind == LAYER_DROPOUT) PetscCall(PetscMalloc1((size_t)B * nn_shape_size(L->in), &L->mask));
    if (L->kind == LAYER_BN) PetscCall(PetscMalloc2(L->in.c, &L->mean, L->in.c, &L->invstd));
    if (L->kind == LAYER_CONV) per = PetscMax(per, conv_col_size(L));
  }
  PetscCall(PetscMalloc1(B, &net->act[net->nlayers]));
  PetscCall(PetscMalloc2((size_t)B * maxf, &net->gbuf[0], (size_t)B * maxf, &net->gbuf[1]));
  if (per) {
    size_t cap  = (size_t)(net->workspace_mb * 1048576.0 / sizeof(double));
    net->nwork  = PetscMax(per, PetscMin(cap, per * (size_t)B));
    PetscCall(PetscMalloc1(net->nwork, &net->work));
  }
  /* col caches, lowest conv layers first, while they fit the budget */
  size_t room = (size_t)(net->colcache_mb * 1048576.0 / sizeof(double));
  for (PetscInt l = 0; l < net->nlayers; l++) {
    Layer       *L = &net->layers[l];
    if (L->kind != LAYER_CONV) continue;
    const size_t n = (size_t)B * conv_col_size(L);
    if (n > room) continue;
    PetscCall(PetscMalloc1(n, &L->col));
    room -= n;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode net_setup(Net net, PetscInt c, PetscInt h, PetscInt w, PetscInt Bmax)
{
  PetscFunctionBeginUser;
  PetscCheck(Bmax > 0, net->comm, PETSC_ERR_ARG_OUTOFRANGE, "batch size must be positive");
  net->input = (NnShape){c, h, w, h * w > 1};
  net->Bmax  = Bmax;
  PetscCall(net_parse(net));
  net_layout_params(net);
  PetscCall(net_alloc_buffers(net));
  PetscFunctionReturn(0);
}

static void layer_name(const Layer *L, char *buf, size_t len)
{
  if (!L->nw) {
    buf[0] = 0;
    return;
  }
  PetscSNPrintf(buf, len, "L%02d_%s", (int)L->index, L->kind == LAYER_CONV ? "conv" : "dense");
}

static void weight_shape(const Layer *L, int *ndims, PetscInt dims[4])
{
  if (L->kind == LAYER_CONV) {
    *ndims = 4;
    dims[0] = L->out.c, dims[1] = L->in.c, dims[2] = dims[3] = L->k;
  } else {
    *ndims = 2;
    dims[0] = L->out.c, dims[1] = nn_shape_size(L->in);
  }
}

static void layer_describe(const Layer *L, char *buf, size_t len)
{
  static const char *acts[] = {"relu", "swish", "sigmoid", "tanh"};
  switch (L->kind) {
  case LAYER_CONV: PetscSNPrintf(buf, len, "conv %dx%dx%d pad %d", (int)L->out.c, (int)L->k, (int)L->k, (int)L->pad); break;
  case LAYER_DENSE: PetscSNPrintf(buf, len, "dense %d", (int)L->out.c); break;
  case LAYER_POOL: PetscSNPrintf(buf, len, "maxpool %dx%d", (int)L->k, (int)L->k); break;
  case LAYER_ACT: PetscSNPrintf(buf, len, "%s", acts[L->act]); break;
  case LAYER_BN: PetscSNPrintf(buf, len, "batchnorm (batch statistics)"); break;
  case LAYER_DROPOUT: PetscSNPrintf(buf, len, "dropout %g", (double)L->p); break;
  case LAYER_FLATTEN: PetscSNPrintf(buf, len, "flatten"); break;
  }
}

PetscErrorCode net_view(Net net, PetscViewer v)
{
  char what[64];
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(v, "Network: %" PetscInt_FMT " layers, %" PetscInt_FMT " parameters, loss %s, init %s%s\n",
                                   net->nlayers, net->N, NnLosses[net->loss], NnInits[net->init],
                                   net->bias ? "" : ", no biases"));
  PetscCall(PetscViewerASCIIPushTab(v));
  for (PetscInt l = 0; l < net->nlayers; l++) {
    const Layer *L = &net->layers[l];
    layer_describe(L, what, sizeof what);
    PetscCall(PetscViewerASCIIPrintf(v, "L%02d %-30s %4dx%3dx%-3d -> %4dx%3dx%-3d %10" PetscInt_FMT " params\n", (int)l, what,
                                     (int)L->in.c, (int)L->in.h, (int)L->in.w, (int)L->out.c, (int)L->out.h,
                                     (int)L->out.w, L->nw + L->nbias));
  }
  PetscCall(PetscViewerASCIIPopTab(v));
  PetscFunctionReturn(0);
}

PetscErrorCode net_get_num_param_groups(Net net, PetscInt *n)
{
  PetscFunctionBeginUser;
  *n = 0;
  for (PetscInt l = 0; l < net->nlayers; l++) *n += net->layers[l].nw > 0;
  PetscFunctionReturn(0);
}

PetscErrorCode net_get_param_group(Net net, PetscInt g, NnParamGroup *pg)
{
  PetscInt q = 0;
  PetscFunctionBeginUser;
  for (PetscInt l = 0; l < net->nlayers; l++) {
    const Layer *L = &net->layers[l];
    if (!L->nw || q++ != g) continue;
    layer_name(L, pg->name, sizeof pg->name);
    weight_shape(L, &pg->ndims, pg->dims);
    pg->woff = L->woff, pg->nw = L->nw, pg->boff = L->boff, pg->nbias = L->nbias;
    PetscFunctionReturn(0);
  }
  SETERRQ(net->comm, PETSC_ERR_ARG_OUTOFRANGE, "parameter group %" PetscInt_FMT " does not exist (the network has %" PetscInt_FMT ")", g, q);
}

PetscErrorCode net_get_size(Net net, PetscInt *N)
{
  PetscFunctionBeginUser;
  *N = net->N;
  PetscFunctionReturn(0);
}

PetscErrorCode net_get_max_batch(Net net, PetscInt *Bmax)
{
  PetscFunctionBeginUser;
  *Bmax = net->Bmax;
  PetscFunctionReturn(0);
}

PetscErrorCode net_get_spec(Net net, const char **spec, const char **preset)
{
  PetscFunctionBeginUser;
  if (spec) *spec = net->spec;
  if (preset) *preset = net->preset;
  PetscFunctionReturn(0);
}

PetscErrorCode net_get_loss(Net net, NnLoss *loss)
{
  PetscFunctionBeginUser;
  *loss = net->loss;
  PetscFunctionReturn(0);
}

PetscErrorCode net_get_init(Net net, NnInit *init, PetscInt *seed)
{
  PetscFunctionBeginUser;
  if (init) *init = net->init;
  if (seed) *seed = net->seed;
  PetscFunctionReturn(0);
}

PetscErrorCode net_get_bias(Net net, PetscBool *bias)
{
  PetscFunctionBeginUser;
  *bias = net->bias;
  PetscFunctionReturn(0);
}

PetscErrorCode net_get_settings(Net net, NnSettings *s)
{
  PetscFunctionBeginUser;
  PetscCall(nn_settings_add(s, "-net_loss", "%s", NnLosses[net->loss]));
  PetscFunctionReturn(0);
}

PetscErrorCode net_get_pass_count(Net net, unsigned long long *count)
{
  PetscFunctionBeginUser;
  *count = net->gen;
  PetscFunctionReturn(0);
}

PetscErrorCode net_get_output_tangents(Net net, const double **RT)
{
  PetscFunctionBeginUser;
  *RT = net->ract ? net->ract[net->nlayers] : NULL;
  PetscFunctionReturn(0);
}

/* Largest per-sample tensor of the net (over layer inputs and outputs). */
static PetscInt net_max_features(Net net)
{
  PetscInt m = 1;
  for (PetscInt l = 0; l < net->nlayers; l++)
    m = PetscMax(m, PetscMax(nn_shape_size(net->layers[l].in), nn_shape_size(net->layers[l].out)));
  return m;
}

static PetscErrorCode net_free_tangents(Net n)
{
  PetscFunctionBeginUser;
  for (PetscInt l = 0; l <= n->nlayers && n->dact; l++) PetscCall(PetscFree(n->dact[l]));
  for (PetscInt l = 0; l <= n->nlayers && n->ract; l++) PetscCall(PetscFree(n->ract[l]));
  PetscCall(PetscFree(n->dact));
  PetscCall(PetscFree(n->ract));
  PetscCall(PetscFree(n->rzero));
  PetscCall(PetscFree(n->vsparse));
  if (n->rbuf[0]) PetscCall(PetscFree2(n->rbuf[0], n->rbuf[1]));
  n->kmax = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode net_setup_tangents(Net net, PetscInt kmax)
{
  const size_t B = (size_t)net->Bmax, m = (size_t)net_max_features(net);
  PetscFunctionBeginUser;
  PetscCheck(kmax > 0, net->comm, PETSC_ERR_ARG_OUTOFRANGE, "the number of tangent directions must be positive");
  if (kmax <= net->kmax) PetscFunctionReturn(0); /* shared by several Hessians: only grow */
  PetscCall(net_free_tangents(net));
  net->kmax = kmax;
  PetscCall(PetscCalloc1(net->nlayers + 1, &net->dact));
  PetscCall(PetscCalloc1(net->nlayers + 1, &net->ract));
  PetscCall(PetscCalloc1(net->nlayers + 1, &net->rzero));
  PetscCall(PetscCalloc1(kmax, &net->vsparse));
  for (PetscInt l = 1; l <= net->nlayers; l++) {
    size_t f = (size_t)nn_shape_size(net->layers[l - 1].out);
    PetscCall(PetscMalloc1(B * f, &net->dact[l]));
    PetscCall(PetscMalloc1((size_t)kmax * B * f, &net->ract[l]));
  }
  PetscCall(PetscMalloc2((size_t)kmax * B * m, &net->rbuf[0], (size_t)kmax * B * m, &net->rbuf[1]));
  PetscFunctionReturn(0);
}

/* net->vsparse[j] <- the non-zeros of direction j when it has few (n = -1 otherwise). */
static void scan_directions(Net net, PetscInt k, const double *V, PetscInt ldv)
{
  for (PetscInt j = 0; j < k; j++) {
    NnSparseDir  *s = &net->vsparse[j];
    const double *v = V + j * ldv;
    s->n            = 0;
    for (PetscInt i = 0; i < net->N && s->n >= 0; i++)
      if (v[i] != 0) {
        if (s->n == NN_SPARSE_MAX) s->n = -1;
        else s->idx[s->n] = i, s->val[s->n++] = v[i];
      }
  }
}

/* Whether theta index i belongs to layer L's parameters. */
static inline PetscBool layer_owns(const Layer *L, PetscInt i)
{
  return (i >= L->woff && i < L->woff + L->nw) || (i >= L->boff && i < L->boff + L->nbias);
}

/* Whether the k directions of the latest scan vanish on layer L's parameters. */
static PetscBool directions_vanish(const Net net, const Layer *L, PetscInt k, const double *V, PetscInt ldv)
{
  for (PetscInt j = 0; j < k; j++) {
    const NnSparseDir *s = &net->vsparse[j];
    if (s->n >= 0) {
      for (PetscInt e = 0; e < s->n; e++)
        if (layer_owns(L, s->idx[e])) return PETSC_FALSE;
      continue;
    }
    for (PetscInt i = L->woff; i < L->woff + L->nw; i++)
      if (V[j * ldv + i] != 0) return PETSC_FALSE;
    for (PetscInt i = L->boff; i < L->boff + L->nbias; i++)
      if (V[j * ldv + i] != 0) return PETSC_FALSE;
  }
  return PETSC_TRUE;
}

PetscErrorCode net_rop_forward(Net net, const NnPass *p, PetscInt k, const double *theta, const double *V, PetscInt ldv)
{
  PetscFunctionBeginUser;
  PetscCheck(k > 0 && k <= net->kmax, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "%" PetscInt_FMT " directions, but net_setup_tangents allowed %" PetscInt_FMT, k, net->kmax);
  scan_directions(net, k, V, ldv);
  net->rzero[0] = PETSC_TRUE; /* the input does not depend on theta */
  for (PetscInt l = 0; l < net->nlayers; l++) {
    Layer          *L  = &net->layers[l];
    const PetscBool vz = !L->nw || directions_vanish(net, L, k, V, ldv);
    net->rzero[l + 1]  = net->rzero[l] && vz;
    if (net->rzero[l + 1]) continue; /* zero in, no direction here: zero out */
    PetscCall(PetscLogEventBegin(layer_events[L->kind][PASS_RFWD], 0, 0, 0, 0));
    PetscCall(L->ops->rop_forward(L, p, k, theta, vz ? NULL : V, ldv, net->act[l], net->rzero[l] ? NULL : net->ract[l], net->ract[l + 1]));
    PetscCall(PetscLogEventEnd(layer_events[L->kind][PASS_RFWD], 0, 0, 0, 0));
  }
  PetscFunctionReturn(0);
}

/* The lowest layer the backward pass must reach for the wanted rows: the
 * lowest one holding a row (all rows: the lowest layer with parameters). */
static PetscInt lowest_layer_of_rows(const Net net, const PetscInt *rows, PetscInt nrows)
{
  if (!rows) return net->first;
  for (PetscInt l = net->first; l < net->nlayers; l++)
    for (PetscInt r = 0; r < nrows && net->layers[l].nw; r++)
      if (layer_owns(&net->layers[l], rows[r])) return l;
  return net->nlayers; /* no row holds a parameter: nothing to do */
}

PetscErrorCode net_rop_backward(Net net, const NnPass *p, PetscInt k, const double *theta, const double *V, PetscInt ldv,
                                const double *RdT, PetscBool first_order_terms, const PetscInt *rows, PetscInt nrows, double *HV,
                                PetscInt ldh)
{
  double        *rd = net->rbuf[0], *rn = net->rbuf[1];
  const PetscInt lo = lowest_layer_of_rows(net, rows, nrows);
  PetscFunctionBeginUser;
  PetscCall(PetscArraycpy(rd, RdT, (size_t)k * p->B));
  for (PetscInt l = net->nlayers - 1; l >= lo; l--) {
    Layer          *L  = &net->layers[l];
    const PetscBool vz = !L->nw || directions_vanish(net, L, k, V, ldv);
    NnRopBack       a  = {.in = net->act[l], .out = net->act[l + 1], .Rin = net->rzero[l] ? NULL : net->ract[l],
                          .Rout = net->rzero[l + 1] ? NULL : net->ract[l + 1], .dout = first_order_terms ? net->dact[l + 1] : NULL,
                          .Rdout = rd, .Rdin = l > lo ? rn : NULL, .HV = HV, .ldh = ldh, .rows = rows, .nrows = nrows};
    PetscCall(PetscLogEventBegin(layer_events[L->kind][PASS_RBWD], 0, 0, 0, 0));
    PetscCall(L->ops->rop_backward(L, p, k, theta, vz ? NULL : V, ldv, &a));
    PetscCall(PetscLogEventEnd(layer_events[L->kind][PASS_RBWD], 0, 0, 0, 0));
    double *t = rd;
    rd = rn, rn = t;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode net_destroy(Net *net)
{
  Net n = *net;
  PetscFunctionBeginUser;
  if (!n) PetscFunctionReturn(0);
  PetscCall(net_free_tangents(n));
  for (PetscInt l = 0; l < n->nlayers; l++) {
    Layer *L = &n->layers[l];
    PetscCall(PetscFree(L->argmax));
    PetscCall(PetscFree(L->mask));
    if (L->mean) PetscCall(PetscFree2(L->mean, L->invstd));
    PetscCall(PetscFree(L->col));
    if (n->act) PetscCall(PetscFree(n->act[l]));
  }
  if (n->act) PetscCall(PetscFree(n->act[n->nlayers]));
  PetscCall(PetscFree(n->act));
  if (n->gbuf[0]) PetscCall(PetscFree2(n->gbuf[0], n->gbuf[1]));
  PetscCall(PetscFree(n->work));
  PetscCall(PetscFree(n->layers));
  PetscCall(PetscFree(n));
  *net = NULL;
  PetscFunctionReturn(0);
}

/* theta <- initial parameters by `init` (std: normal's; c: scaled's), drawn with seed. */
static void init_params(Net net, NnInit init, PetscReal std, PetscReal c, PetscInt seed, double *theta)
{
  for (PetscInt l = 0; l < net->nlayers; l++) {
    const Layer *L = &net->layers[l];
    if (!L->nw) continue;
    const double   fan_in = (double)L->nw / (double)L->out.c;
    const double   bound  = 1.0 / sqrt(fan_in);
    const NnRngKey kw = nn_rng_key((uint64_t)seed, NN_STREAM_INIT, 2 * (uint64_t)L->index);
    const NnRngKey kb = nn_rng_key((uint64_t)seed, NN_STREAM_INIT, 2 * (uint64_t)L->index + 1);
    for (PetscInt e = 0; e < L->nw; e++) {
      double *t = theta + L->woff + e;
      switch (init) {
      case INIT_OLD: *t = bound * (2 * nn_rng_uniform(kw, e) - 1); break; /* U(-1/sqrt(n), 1/sqrt(n)) */
      case INIT_NORMAL: *t = std * nn_rng_normal(kw, e); break;          /* N(0, std^2) */
      case INIT_SCALED: *t = sqrt(c / fan_in) * nn_rng_normal(kw, e); break; /* N(0, c/n) */
      }
    }
    for (PetscInt e = 0; e < L->nbias; e++) theta[L->boff + e] = init == INIT_OLD ? bound * (2 * nn_rng_uniform(kb, e) - 1) : 0;
  }
}

PetscErrorCode net_init_params(Net net, double *theta)
{
  PetscFunctionBeginUser;
  init_params(net, net->init, net->init_std, net->init_c, net->seed, theta);
  PetscFunctionReturn(0);
}

PetscErrorCode net_init_params_scaled(Net net, PetscReal c, PetscInt seed, double *theta)
{
  PetscFunctionBeginUser;
  PetscCall(nn_option_check_real(net->comm, "the variance factor c of the scaled initialisation", c, "(0, inf)"));
  init_params(net, INIT_SCALED, 0, c, seed, theta);
  PetscFunctionReturn(0);
}

/* act[0] <- x in the first layer's layout: (C, B, S) if spatial, else (B, F). */
static void net_load_input(Net net, PetscInt B, const double *x)
{
  const PetscInt C = net->input.c, S = net->input.h * net->input.w;
  double        *a = net->act[0];
  if (!net->input.spatial) {
    memcpy(a, x, (size_t)B * C * S * sizeof *a);
    return;
  }
  for (PetscInt b = 0; b < B; b++)
    for (PetscInt c = 0; c < C; c++) memcpy(a + ((size_t)c * B + b) * S, x + ((size_t)b * C + c) * S, (size_t)S * sizeof *a);
}

PetscErrorCode net_forward(Net net, const NnPass *p, const double *theta, const double *x, double *out)
{
  PetscFunctionBeginUser;
  PetscCheck(p->B <= net->Bmax, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "batch of %" PetscInt_FMT " exceeds the network's %" PetscInt_FMT,
             p->B, net->Bmax);
  PetscCall(PetscLogEventBegin(ev_forward, 0, 0, 0, 0));
  net->gen++;
  net->fwd_gen++;
  net_load_input(net, p->B, x);
  for (PetscInt l = 0; l < net->nlayers; l++) {
    Layer *L = &net->layers[l];
    PetscCall(PetscLogEventBegin(layer_events[L->kind][PASS_FWD], 0, 0, 0, 0));
    PetscCall(L->ops->forward(L, p, theta, net->act[l], net->act[l + 1]));
    PetscCall(PetscLogEventEnd(layer_events[L->kind][PASS_FWD], 0, 0, 0, 0));
  }
  if (out) PetscCall(PetscArraycpy(out, net->act[net->nlayers], p->B));
  PetscCall(PetscLogEventEnd(ev_forward, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode net_backward(Net net, const NnPass *p, const double *theta, const double *dout, double *grad)
{
  /* with tangents set up, every layer's output gradient is kept in dact[l + 1] */
  double *g = net->dact ? net->dact[net->nlayers] : net->gbuf[0], *h = net->gbuf[1];
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(ev_backward, 0, 0, 0, 0));
  net->gen++;
  PetscCall(PetscArraycpy(g, dout, p->B));
  for (PetscInt l = net->nlayers - 1; l >= net->first; l--) { /* nothing to differentiate below the first weights */
    Layer *L = &net->layers[l];
    if (net->dact) h = net->dact[l];
    PetscCall(PetscLogEventBegin(layer_events[L->kind][PASS_BWD], 0, 0, 0, 0));
    PetscCall(L->ops->backward(L, p, theta, net->act[l], net->act[l + 1], g, l > net->first ? h : NULL, grad));
    PetscCall(PetscLogEventEnd(layer_events[L->kind][PASS_BWD], 0, 0, 0, 0));
    double *t = g;
    g = h, h = t;
  }
  PetscCall(PetscLogEventEnd(ev_backward, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}
