/* A network from a graph (include/nncas/graph.h; -net_file model.onnx): the
 * same layers the layer string builds, one or two per node, each reading the
 * tensors its node names, and the model's parameters as theta's start.
 *   Conv -> conv, Gemm/MatMul -> dense (a flatten first on an image),
 *   Relu/Tanh/Sigmoid/SiLU -> act, MaxPool -> pool, AveragePool and
 *   GlobalAveragePool -> avgpool, BatchNormalization -> bn (running or batch
 *   statistics, -net_bn_statistics) then scale (gamma, beta), Flatten ->
 *   flatten (nothing on a flat tensor), Dropout -> dropout, Add -> add.
 * Parameter groups are named after the initializers ("layer1.0.conv1" for
 * "layer1.0.conv1.weight"). Also net_link_layers, which every net goes
 * through: the tensors each layer reads, the last readers, K. */
#include "netimpl.h"
#include "nncas/graph.h"

#include <math.h>
#include <string.h>

/* Builder state: the graph, the layers so far, and the layer tensor of each graph tensor. */
typedef struct {
  Net            net;
  const NnGraph *g;
  PetscInt       n;   /* layers so far */
  PetscInt      *map; /* (nnodes + 1) graph tensor -> layer tensor */
} GraphBuild;

static NnShape tensor_shape(const GraphBuild *b, PetscInt t) { return t ? b->net->layers[t - 1].out : b->net->input; }

/* Appends a layer of `kind` reading layer tensor t; returns it. */
static Layer *graph_add_layer(GraphBuild *b, LayerKind kind, PetscInt t, PetscInt node)
{
  Layer *L  = &b->net->layers[b->n];
  L->kind   = kind;
  L->index  = b->n;
  L->src[0] = t, L->src[1] = -1;
  L->in = L->out = tensor_shape(b, t);
  L->node   = node;
  b->n++;
  return L;
}

/* name <- s without a ".weight" ending and a leading '/', its '/' made '_' (HDF5 paths). */
static void clean_name(const char *s, char *name, size_t len)
{
  size_t n = strlen(s);
  if (n > 7 && !strcmp(s + n - 7, ".weight")) n -= 7;
  if (n && s[0] == '/') s++, n--;
  n = PetscMin(n, len - 1);
  for (size_t i = 0; i < n; i++) name[i] = s[i] == '/' ? '_' : s[i];
  name[n] = 0;
}

/* L's parameter group name: "layer1.0.conv1" for the initializer "layer1.0.conv1.weight";
 * the node's name when an earlier layer has that one (torch's export shares
 * initializers of equal values, as BN's gammas are at initialisation), and the
 * layer's index after it if that is taken too. */
static void group_name(const GraphBuild *b, Layer *L, const NnGraphNode *nd)
{
  const size_t len = sizeof L->pname;
  clean_name(nd->weight_name, L->pname, len);
  for (int pass = 0; pass < 2; pass++)
    for (PetscInt l = 0; l < L->index; l++) {
      if (strcmp(b->net->layers[l].pname, L->pname)) continue;
      if (pass == 0) clean_name(nd->name, L->pname, len);
      else PetscSNPrintf(L->pname + strlen(L->pname), len - strlen(L->pname), "_L%d", (int)L->index);
      break;
    }
}

static PetscErrorCode graph_conv(GraphBuild *b, const NnGraphNode *nd, PetscInt t, PetscInt i)
{
  Layer   *L = graph_add_layer(b, LAYER_CONV, t, i);
  PetscInt oh, ow;
  char     what[NN_GRAPH_NAME_MAX + 64];
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(what, sizeof what, "%s: node \"%s\"", b->g->source, nd->name));
  L->win      = (NnWindow){nd->kernel[0], nd->kernel[1], nd->stride[0], nd->stride[1], nd->pad[0], nd->pad[1], nd->pad[2], nd->pad[3]};
  L->has_bias = nd->bias ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(net_window_shape(&L->win, L->in, what, &oh, &ow));
  PetscCheck(nd->weight_dims[1] == L->in.c, PETSC_COMM_WORLD, PETSC_ERR_ARG_INCOMP,
             "%s (Conv): its weight takes %" PetscInt_FMT " channels, its input has %" PetscInt_FMT, what, nd->weight_dims[1], L->in.c);
  L->out = (NnShape){nd->out_channels, oh, ow, PETSC_TRUE};
  group_name(b, L, nd);
  PetscFunctionReturn(0);
}

static PetscErrorCode graph_dense(GraphBuild *b, const NnGraphNode *nd, PetscInt t, PetscInt i)
{
  Layer *L;
  PetscFunctionBeginUser;
  if (tensor_shape(b, t).spatial) { /* flatten an image first */
    L      = graph_add_layer(b, LAYER_FLATTEN, t, -1);
    L->out = (NnShape){nn_shape_size(L->in), 1, 1, PETSC_FALSE};
    t      = L->index + 1;
  }
  L = graph_add_layer(b, LAYER_DENSE, t, i);
  PetscCheck(nd->weight_dims[1] == nn_shape_size(L->in), PETSC_COMM_WORLD, PETSC_ERR_ARG_INCOMP,
             "%s: node \"%s\" (Gemm): its weight takes %" PetscInt_FMT " features, its input has %" PetscInt_FMT, b->g->source, nd->name,
             nd->weight_dims[1], nn_shape_size(L->in));
  L->has_bias = nd->bias ? PETSC_TRUE : PETSC_FALSE;
  L->out      = (NnShape){nd->out_channels, 1, 1, PETSC_FALSE};
  group_name(b, L, nd);
  PetscFunctionReturn(0);
}

/* Batch normalization: a bn layer (the file's running statistics, or the batch's) and a scale layer (gamma, beta). */
static PetscErrorCode graph_bn(GraphBuild *b, const NnGraphNode *nd, PetscInt t, PetscInt i)
{
  Layer *L = graph_add_layer(b, LAYER_BN, t, i);
  PetscFunctionBeginUser;
  L->eps = nd->eps;
  if (b->net->bn_running) {
    PetscCall(PetscMalloc2(L->in.c, &L->stat_mean, L->in.c, &L->stat_invstd));
    for (PetscInt c = 0; c < L->in.c; c++) {
      L->stat_mean[c]   = nd->mean[c];
      L->stat_invstd[c] = 1.0 / sqrt(nd->var[c] + nd->eps); /* 1 / sqrt(var + eps) */
    }
  }
  L = graph_add_layer(b, LAYER_SCALE, L->index + 1, i);
  group_name(b, L, nd);
  PetscFunctionReturn(0);
}

static PetscErrorCode graph_pool(GraphBuild *b, const NnGraphNode *nd, PetscInt t, PetscInt i)
{
  Layer   *L = graph_add_layer(b, nd->kind == NN_NODE_MAXPOOL ? LAYER_POOL : LAYER_AVGPOOL, t, i);
  PetscInt oh, ow;
  char     what[NN_GRAPH_NAME_MAX + 64];
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(what, sizeof what, "%s: node \"%s\"", b->g->source, nd->name));
  if (nd->kind == NN_NODE_GLOBALAVGPOOL) L->win = (NnWindow){L->in.h, L->in.w, 1, 1, 0, 0, 0, 0};
  else L->win = (NnWindow){nd->kernel[0], nd->kernel[1], nd->stride[0], nd->stride[1], nd->pad[0], nd->pad[1], nd->pad[2], nd->pad[3]};
  L->count_pad = nd->count_include_pad;
  PetscCall(net_window_shape(&L->win, L->in, what, &oh, &ow));
  L->out = (NnShape){L->in.c, oh, ow, PETSC_TRUE};
  PetscFunctionReturn(0);
}

static PetscErrorCode graph_add(GraphBuild *b, const NnGraphNode *nd, PetscInt t, PetscInt i)
{
  Layer        *L = graph_add_layer(b, LAYER_ADD, t, i);
  const NnShape s = tensor_shape(b, b->map[nd->input[1]]);
  PetscFunctionBeginUser;
  L->src[1] = b->map[nd->input[1]];
  PetscCheck(nn_shape_size(s) == nn_shape_size(L->in) && s.c == L->in.c && s.spatial == L->in.spatial, PETSC_COMM_WORLD,
             PETSC_ERR_ARG_INCOMP, "%s: node \"%s\" (Add): its inputs differ in shape", b->g->source, nd->name);
  PetscFunctionReturn(0);
}

/* The layers of graph node i; b->map[i + 1] <- the layer tensor of its output. */
static PetscErrorCode graph_node(GraphBuild *b, PetscInt i)
{
  const NnGraphNode *nd = &b->g->nodes[i];
  const PetscInt     t = b->map[nd->input[0]], n0 = b->n;
  static const ActKind acts[] = {ACT_RELU, ACT_TANH, ACT_SIGMOID, ACT_SWISH};
  PetscFunctionBeginUser;
  switch (nd->kind) {
  case NN_NODE_CONV: PetscCall(graph_conv(b, nd, t, i)); break;
  case NN_NODE_DENSE: PetscCall(graph_dense(b, nd, t, i)); break;
  case NN_NODE_RELU:
  case NN_NODE_TANH:
  case NN_NODE_SIGMOID:
  case NN_NODE_SILU: graph_add_layer(b, LAYER_ACT, t, i)->act = acts[nd->kind - NN_NODE_RELU]; break;
  case NN_NODE_MAXPOOL:
  case NN_NODE_AVGPOOL:
  case NN_NODE_GLOBALAVGPOOL: PetscCall(graph_pool(b, nd, t, i)); break;
  case NN_NODE_BN: PetscCall(graph_bn(b, nd, t, i)); break;
  case NN_NODE_FLATTEN:
    if (!tensor_shape(b, t).spatial) break; /* already flat: the same tensor */
    Layer *F = graph_add_layer(b, LAYER_FLATTEN, t, i);
    F->out   = (NnShape){nn_shape_size(F->in), 1, 1, PETSC_FALSE};
    break;
  case NN_NODE_DROPOUT: graph_add_layer(b, LAYER_DROPOUT, t, i)->p = nd->ratio; break;
  case NN_NODE_ADD: PetscCall(graph_add(b, nd, t, i)); break;
  }
  b->map[i + 1] = b->n > n0 ? b->n : t; /* the latest layer's output; a flatten of a flat tensor is its input */
  PetscFunctionReturn(0);
}

/* net->theta0 <- the parameters of the graph's nodes, after net_layout_params. */
static PetscErrorCode graph_copy_params(Net net, const NnGraph *g)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(net->N + 1, &net->theta0));
  for (PetscInt l = 0; l < net->nlayers; l++) {
    const Layer *L = &net->layers[l];
    if (!L->nw) continue;
    const NnGraphNode *nd = &g->nodes[L->node];
    PetscCall(PetscArraycpy(net->theta0 + L->woff, nd->weight, L->nw));
    if (L->nbias) PetscCall(PetscArraycpy(net->theta0 + L->boff, nd->bias, L->nbias));
  }
  PetscFunctionReturn(0);
}

/* The layers of every node of g, and a flatten at the end when the output is an image. */
static PetscErrorCode graph_build(Net net, const NnGraph *g)
{
  GraphBuild b = {net, g, 0, NULL};
  PetscFunctionBeginUser;
  PetscCall(PetscCalloc1(2 * g->nnodes + 2, &net->layers)); /* bn: two layers; a flatten before a dense one, and at the end */
  PetscCall(PetscMalloc1(g->nnodes + 1, &b.map));
  b.map[0] = 0;
  for (PetscInt i = 0; i < g->nnodes; i++) PetscCall(graph_node(&b, i));
  const PetscInt out = b.map[g->nnodes];
  PetscCall(PetscFree(b.map));
  PetscCheck(out == b.n && b.n > 0, PETSC_COMM_WORLD, PETSC_ERR_ARG_INCOMP, "%s: the graph's output is not its last node's", g->source);
  if (tensor_shape(&b, out).spatial && nn_shape_size(tensor_shape(&b, out)) > 1) {
    Layer *F = graph_add_layer(&b, LAYER_FLATTEN, out, -1);
    F->out   = (NnShape){nn_shape_size(F->in), 1, 1, PETSC_FALSE};
  }
  net->nlayers = b.n;
  PetscFunctionReturn(0);
}

PetscErrorCode net_build_from_file(Net net)
{
  NnGraph       *g;
  const NnShape  in = net->input;
  const char    *base;
  PetscFunctionBeginUser;
  PetscCall(PetscNew(&g));
  net->graph = g;
  PetscCall(nn_onnx_read(net->comm, net->file, g));
  PetscCheck(g->c == in.c && g->h == in.h && g->w == in.w, net->comm, PETSC_ERR_ARG_INCOMP,
             "-net_file %s: the model takes inputs of %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT
             " per sample, the data set gives %" PetscInt_FMT "x%" PetscInt_FMT "x%" PetscInt_FMT,
             net->file, g->c, g->h, g->w, in.c, in.h, in.w);
  net->input.spatial = g->spatial;
  PetscCall(graph_build(net, g));
  base = strrchr(net->file, '/');
  PetscCall(PetscSNPrintf(net->spec, sizeof net->spec, "onnx:%s crc32=%08x bn=%s", base ? base + 1 : net->file, g->crc32,
                          net->bn_running ? "running" : "batch"));
  net->preset[0]  = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode net_load_file_params(Net net)
{
  PetscFunctionBeginUser;
  if (!net->graph) PetscFunctionReturn(0);
  PetscCall(graph_copy_params(net, net->graph));
  PetscCall(nn_graph_free(net->graph));
  PetscCall(PetscFree(net->graph));
  PetscFunctionReturn(0);
}

/* lastr[t] <- 2 l + s of the last (layer l, slot s) reading tensor t, -1 if none. */
static void last_readers(const Net net, PetscInt *lastr)
{
  for (PetscInt t = 0; t <= net->nlayers; t++) lastr[t] = -1;
  for (PetscInt l = 0; l < net->nlayers; l++)
    for (PetscInt s = 0; s < 2; s++)
      if (net->layers[l].src[s] >= 0) lastr[net->layers[l].src[s]] = 2 * l + s;
}

PetscErrorCode net_link_layers(Net net)
{
  PetscInt *lastr;
  PetscFunctionBeginUser;
  PetscCheck(net->nlayers > 0, net->comm, PETSC_ERR_ARG_WRONG, "the network has no layers");
  for (PetscInt l = 0; l < net->nlayers && !net->file[0]; l++) net->layers[l].src[0] = l, net->layers[l].src[1] = -1; /* a chain */
  PetscCall(PetscMalloc1(net->nlayers + 1, &lastr));
  last_readers(net, lastr);
  net->dag = PETSC_FALSE;
  for (PetscInt l = 0; l < net->nlayers; l++) {
    Layer *L = &net->layers[l];
    L->index = l;
    for (PetscInt s = 0; s < 2; s++) L->src_last[s] = L->src[s] >= 0 && lastr[L->src[s]] == 2 * l + s;
    if (L->src[0] != l || L->kind == LAYER_ADD) net->dag = PETSC_TRUE;
  }
  for (PetscInt t = 1; t < net->nlayers; t++)
    PetscCheck(lastr[t] >= 0, net->comm, PETSC_ERR_ARG_WRONG, "%s: the output of layer %" PetscInt_FMT " is not used by any other",
               net->file[0] ? net->file : "-net_layers", t - 1);
  PetscCall(PetscFree(lastr));
  net->K = nn_shape_size(net->layers[net->nlayers - 1].out);
  PetscFunctionReturn(0);
}
