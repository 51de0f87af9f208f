/* Network object: options, layout of theta, initialisation, getters. The
 * passes and their buffers are in net_pass.c. */
#include "netimpl.h"
#include "nncas/graph.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const NnLosses[] = {"hinge", "absolute", "logistic", "squared", "cross_entropy", "multi_hinge", "NnLoss", "LOSS_", NULL};
const char *const NnInits[]  = {"old", "normal", "scaled", "NnInit", "INIT_", NULL};

PetscErrorCode net_initialize_package(void)
{
  static PetscBool done = PETSC_FALSE;
  PetscClassId     cls;
  PetscFunctionBeginUser;
  if (done) PetscFunctionReturn(0);
  PetscCall(PetscClassIdRegister("NnLayer", &cls));
  PetscCall(net_pass_register_events(cls));
  PetscCall(net_pass_register_events_single(cls));
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
  n->bn_running   = PETSC_TRUE;
  *net            = n;
  PetscFunctionReturn(0);
}

PetscErrorCode net_set_from_options(Net net)
{
  char               layers[sizeof net->spec] = "";
  static const char *bnstats[] = {"running", "batch"};
  PetscInt           bnchoice  = net->bn_running ? 0 : 1;
  PetscBool          set;
  PetscInt           outputs = 0;
  PetscFunctionBeginUser;
  PetscOptionsBegin(net->comm, NULL, "Network options", NULL);
  PetscCall(PetscOptionsString("-net_preset", "named architecture: lenet_paper (Table 3, the paper's count), lenet (valid convolutions), lenet_small, vgg12 (App. G.3), vgg12_nobn, vgg12_nobn_dropout, vgg_small, vgg_small_nobn, mlp",
                               NULL, net->preset, net->preset, sizeof net->preset, NULL));
  PetscCall(PetscOptionsString("-net_layers", "layer string, overrides -net_preset (e.g. conv:32:5,relu,pool:2,dense:512,relu,dense:1)",
                               NULL, layers, layers, sizeof layers, &set));
  PetscCall(PetscOptionsString("-net_file", "the network from an ONNX model (torch.onnx.export), its weights included; overrides "
                               "-net_preset and -net_layers (docs/import.md)", NULL, net->file, net->file, sizeof net->file, NULL));
  PetscCall(PetscOptionsEList("-net_bn_statistics", "a model's batch normalization: running (its running mean and variance, "
                              "PyTorch's eval mode) or batch (each batch's own statistics, App. G.3)", NULL, bnstats, 2,
                              bnstats[net->bn_running ? 0 : 1], &bnchoice, NULL));
  PetscCall(PetscOptionsBool("-net_bias", "layers have biases", NULL, net->bias, &net->bias, NULL));
  PetscCall(PetscOptionsBoundedInt("-net_outputs", "K: the last dense layer of the preset or layer string gets K outputs (0: as written; "
                                   "a preset with a multi-class loss: 10)", NULL, outputs, &outputs, NULL, 0));
  PetscCall(PetscOptionsEnum("-net_init", "initialisation: old = U(+-1/sqrt(fan_in)), normal = N(0, std^2), scaled = N(0, c/fan_in)",
                             NULL, NnInits, (PetscEnum)net->init, (PetscEnum *)&net->init, NULL));
  PetscCall(PetscOptionsReal("-net_init_std", "standard deviation of -net_init normal (App. G.3: 1e-4)", NULL, net->init_std,
                             &net->init_std, NULL));
  PetscCall(PetscOptionsReal("-net_init_c", "variance factor c of -net_init scaled, N(0, c/fan_in) (Sec. 5.2)", NULL,
                             net->init_c, &net->init_c, NULL));
  PetscCall(PetscOptionsInt("-net_seed", "seed of the initial weights", NULL, net->seed, &net->seed, NULL));
  PetscCall(PetscOptionsEnum("-net_loss", "loss: hinge and absolute (class L0), logistic, squared (one output); cross_entropy, multi_hinge (K outputs, labels 0..K-1)", NULL, NnLosses,
                             (PetscEnum)net->loss, (PetscEnum *)&net->loss, NULL));
  PetscCall(PetscOptionsReal("-net_workspace_mb", "memory for the im2col workspace (MB)", NULL, net->workspace_mb,
                             &net->workspace_mb, NULL));
  PetscCall(PetscOptionsReal("-net_colcache_mb", "memory for keeping conv layers' im2col of the forward pass for the "
                             "backward and R-passes (MB, 0: none)", NULL, net->colcache_mb, &net->colcache_mb, NULL));
  PetscOptionsEnd();
  net->bn_running = bnchoice == 0 ? PETSC_TRUE : PETSC_FALSE;
  if (set) PetscCall(PetscStrncpy(net->spec, layers, sizeof net->spec));
  else PetscCall(net_spec_expand_preset(net->preset, net->spec, sizeof net->spec));
  if (!outputs && !set && loss_is_multiclass(net->loss)) outputs = 10; /* a preset for the built-in readers' ten classes */
  if (outputs) PetscCall(net_spec_set_outputs(net->spec, sizeof net->spec, outputs));
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
    if (L->kind == LAYER_CONV) L->nw = L->out.c * L->in.c * L->win.kh * L->win.kw;
    if (L->kind == LAYER_SCALE) L->nw = L->in.c; /* gamma, and beta as the bias */
    if (L->nw && (L->has_bias || L->kind == LAYER_SCALE)) L->nbias = L->out.c;
    L->boff = off + L->nw;
    off += L->nw + L->nbias;
    if (L->nw && l < net->first) net->first = l;
  }
  net->N = off;
}

PetscErrorCode net_setup(Net net, PetscInt c, PetscInt h, PetscInt w, PetscInt Bmax)
{
  PetscFunctionBeginUser;
  PetscCheck(Bmax > 0, net->comm, PETSC_ERR_ARG_OUTOFRANGE, "batch size must be positive");
  net->input = (NnShape){c, h, w, h * w > 1};
  net->Bmax  = Bmax;
  if (net->file[0]) PetscCall(net_build_from_file(net));
  else PetscCall(net_parse(net));
  PetscCall(net_link_layers(net));
  net_layout_params(net);
  PetscCall(net_load_file_params(net));
  for (PetscInt l = 0; l < net->nlayers; l++) net->layers[l].net = net;
  PetscCall(net_state_create(net)); /* the double-precision buffers */
  PetscFunctionReturn(0);
}

static void layer_name(const Layer *L, char *buf, size_t len)
{
  if (!L->nw) {
    buf[0] = 0;
    return;
  }
  if (L->pname[0]) PetscSNPrintf(buf, len, "%s", L->pname);
  else PetscSNPrintf(buf, len, "L%02d_%s", (int)L->index, L->kind == LAYER_CONV ? "conv" : L->kind == LAYER_SCALE ? "scale" : "dense");
}

static void weight_shape(const Layer *L, int *ndims, PetscInt dims[4])
{
  if (L->kind == LAYER_CONV) {
    *ndims = 4;
    dims[0] = L->out.c, dims[1] = L->in.c, dims[2] = L->win.kh, dims[3] = L->win.kw;
  } else if (L->kind == LAYER_SCALE) {
    *ndims  = 1;
    dims[0] = L->in.c;
  } else {
    *ndims = 2;
    dims[0] = L->out.c, dims[1] = nn_shape_size(L->in);
  }
}

/* "3x3/2 pad 1" for a window, with every value that differs shown. */
static void window_describe(const NnWindow *w, char *buf, size_t len)
{
  if (w->kh == w->kw && w->sh == w->sw && w->pt == w->pl && w->pt == w->pb && w->pt == w->pr)
    PetscSNPrintf(buf, len, "%dx%d/%d pad %d", (int)w->kh, (int)w->kw, (int)w->sh, (int)w->pt);
  else
    PetscSNPrintf(buf, len, "%dx%d/%dx%d pad %d,%d,%d,%d", (int)w->kh, (int)w->kw, (int)w->sh, (int)w->sw, (int)w->pt, (int)w->pl,
                  (int)w->pb, (int)w->pr);
}

static void layer_describe(const Layer *L, char *buf, size_t len)
{
  static const char *acts[] = {"relu", "swish", "sigmoid", "tanh"};
  const NnWindow    *w = &L->win;
  const PetscBool    plain = w->kh == w->kw && w->sh == 1 && w->sw == 1 && w->pt == w->pl && w->pt == w->pb && w->pt == w->pr;
  char               win[48];
  window_describe(w, win, sizeof win);
  switch (L->kind) {
  case LAYER_CONV:
    if (plain) PetscSNPrintf(buf, len, "conv %dx%dx%d pad %d", (int)L->out.c, (int)w->kh, (int)w->kw, (int)w->pt);
    else PetscSNPrintf(buf, len, "conv %d %s", (int)L->out.c, win);
    break;
  case LAYER_DENSE: PetscSNPrintf(buf, len, "dense %d", (int)L->out.c); break;
  case LAYER_POOL:
    if (w->kh == w->kw && w->sh == w->kh && w->sw == w->kw && !(w->pt | w->pl | w->pb | w->pr))
      PetscSNPrintf(buf, len, "maxpool %dx%d", (int)w->kh, (int)w->kw);
    else PetscSNPrintf(buf, len, "maxpool %s", win);
    break;
  case LAYER_AVGPOOL: PetscSNPrintf(buf, len, "avgpool %s", win); break;
  case LAYER_ACT: PetscSNPrintf(buf, len, "%s", acts[L->act]); break;
  case LAYER_BN: PetscSNPrintf(buf, len, "batchnorm (%s statistics)", L->stat_mean ? "running" : "batch"); break;
  case LAYER_SCALE: PetscSNPrintf(buf, len, "scale %s", L->pname); break;
  case LAYER_DROPOUT: PetscSNPrintf(buf, len, "dropout %g", (double)L->p); break;
  case LAYER_FLATTEN: PetscSNPrintf(buf, len, "flatten"); break;
  case LAYER_ADD: PetscSNPrintf(buf, len, "add L%02d", (int)L->src[1] - 1); break;
  default: break;
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

/* The settings are the options' values until net_setup lays the net out. */
static PetscErrorCode net_check_not_set_up(Net net, const char *fn)
{
  PetscFunctionBeginUser;
  PetscCheck(!net->layers, net->comm, PETSC_ERR_ORDER, "%s: the net is set up already (call it before net_setup())", fn);
  PetscFunctionReturn(0);
}

PetscErrorCode net_set_spec(Net net, const char *spec)
{
  PetscFunctionBeginUser;
  PetscCall(net_check_not_set_up(net, "net_set_spec"));
  PetscCheck(spec && strlen(spec) < sizeof net->spec, net->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "net_set_spec: the layer string (-net_layers) must be given and shorter than %d characters", NN_NET_SPEC_MAX);
  PetscCall(PetscStrncpy(net->spec, spec, sizeof net->spec));
  PetscFunctionReturn(0);
}

PetscErrorCode net_set_loss(Net net, NnLoss loss)
{
  PetscFunctionBeginUser;
  PetscCall(net_check_not_set_up(net, "net_set_loss"));
  PetscCheck(loss >= LOSS_HINGE && loss <= LOSS_MULTI_HINGE, net->comm, PETSC_ERR_ARG_OUTOFRANGE, "net_set_loss: no loss %d (-net_loss)", (int)loss);
  net->loss = loss;
  PetscFunctionReturn(0);
}

PetscErrorCode net_set_bias(Net net, PetscBool bias)
{
  PetscFunctionBeginUser;
  PetscCall(net_check_not_set_up(net, "net_set_bias"));
  net->bias = bias;
  PetscFunctionReturn(0);
}

PetscErrorCode net_set_init(Net net, NnInit init, PetscReal std, PetscReal c)
{
  PetscFunctionBeginUser;
  PetscCheck(init >= INIT_OLD && init <= INIT_SCALED, net->comm, PETSC_ERR_ARG_OUTOFRANGE, "net_set_init: no initialisation %d (-net_init)", (int)init);
  PetscCall(nn_option_check_real(net->comm, "-net_init_std", std, "(0, inf)"));
  PetscCall(nn_option_check_real(net->comm, "-net_init_c", c, "(0, inf)"));
  net->init     = init;
  net->init_std = std;
  net->init_c   = c;
  PetscFunctionReturn(0);
}

PetscErrorCode net_set_memory(Net net, PetscReal workspace_mb, PetscReal colcache_mb)
{
  PetscFunctionBeginUser;
  PetscCall(net_check_not_set_up(net, "net_set_memory"));
  PetscCall(nn_option_check_real(net->comm, "-net_workspace_mb", workspace_mb, "(0, inf)"));
  PetscCall(nn_option_check_real(net->comm, "-net_colcache_mb", colcache_mb, "[0, inf)"));
  net->workspace_mb = workspace_mb;
  net->colcache_mb  = colcache_mb;
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
  if (net->file[0]) PetscCall(nn_settings_add(s, "-net_bn_statistics", "%s", net->bn_running ? "running" : "batch"));
  PetscFunctionReturn(0);
}

PetscErrorCode net_get_pass_count(Net net, unsigned long long *count)
{
  PetscFunctionBeginUser;
  *count = net->gen;
  PetscFunctionReturn(0);
}

PetscErrorCode net_destroy(Net *net)
{
  Net n = *net;
  PetscFunctionBeginUser;
  if (!n) PetscFunctionReturn(0);
  PetscCall(net_state_destroy(n));
  PetscCall(net_state_destroy_single(n));
  for (PetscInt l = 0; l < n->nlayers && n->layers; l++)
    if (n->layers[l].stat_mean) PetscCall(PetscFree2(n->layers[l].stat_mean, n->layers[l].stat_invstd));
  if (n->graph) PetscCall(nn_graph_free(n->graph));
  PetscCall(PetscFree(n->graph));
  PetscCall(PetscFree(n->theta0));
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
  if (net->theta0) { /* -net_file: the model's own parameters */
    PetscCall(PetscArraycpy(theta, net->theta0, net->N));
    PetscFunctionReturn(0);
  }
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

PetscErrorCode net_get_outputs(Net net, PetscInt *K)
{
  PetscFunctionBeginUser;
  *K = net->K;
  PetscFunctionReturn(0);
}

PetscErrorCode net_check_labels(Net net, PetscInt n, const double *y, const char *what)
{
  const PetscBool multi = loss_is_multiclass(net->loss);
  PetscFunctionBeginUser;
  PetscCheck(multi || net->K == 1, net->comm, PETSC_ERR_ARG_INCOMP,
             "-net_loss %s takes one output per sample, but the network gives %" PetscInt_FMT " (use cross_entropy or multi_hinge)",
             NnLosses[net->loss], net->K);
  PetscCheck(!multi || net->K >= 2, net->comm, PETSC_ERR_ARG_INCOMP,
             "-net_loss %s needs at least 2 outputs per sample, but the network gives %" PetscInt_FMT, NnLosses[net->loss], net->K);
  for (PetscInt i = 0; i < n; i++) {
    const PetscBool ok = multi ? y[i] >= 0 && y[i] < net->K && y[i] == floor(y[i]) : y[i] == 1 || y[i] == -1;
    char            label[32];
    if (ok) continue;
    snprintf(label, sizeof label, "%.17g", y[i]);
    PetscCheck(!multi, net->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "%s: sample %" PetscInt_FMT " has label %s, but -net_loss %s with the network's %" PetscInt_FMT " outputs takes 0..%" PetscInt_FMT,
               what, i, label, NnLosses[net->loss], net->K, net->K - 1);
    SETERRQ(net->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: sample %" PetscInt_FMT " has label %s, but -net_loss %s takes +1 and -1", what, i, label,
            NnLosses[net->loss]);
  }
  PetscFunctionReturn(0);
}
