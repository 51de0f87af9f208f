/* The network's passes over its layers: forward, backward and the
 * R-operator's two passes, with the buffers they work in (NnState). The
 * layers are in topological order, each reading one tensor (two for add):
 * tensor 0 is the input, tensor l + 1 layer l's output. Going backward, the
 * last reader of a tensor writes its gradient and earlier readers add to it;
 * a chain (each layer reading the one before) keeps two ping-pong buffers
 * for the gradients, a DAG one buffer per tensor. Compiled
 * once per precision (include/nncas/real.h): net_forward works in double,
 * net_forward_single in float, each in its own state of the same net. The
 * inputs x, the outputs, the loss derivatives dout and RdT are double in
 * either precision, converted where they enter and leave the buffers. */
#include "layers.h"

#include <string.h>

const LayerOps *layer_ops(LayerKind k)
{
  switch (k) {
  case LAYER_DENSE: return &layer_dense_ops;
  case LAYER_CONV: return &layer_conv_ops;
  case LAYER_POOL: return &layer_pool_ops;
  case LAYER_ACT: return &layer_act_ops;
  case LAYER_BN: return &layer_bn_ops;
  case LAYER_DROPOUT: return &layer_dropout_ops;
  case LAYER_FLATTEN: return &layer_flatten_ops;
  case LAYER_AVGPOOL: return &layer_avgpool_ops;
  case LAYER_SCALE: return &layer_scale_ops;
  default: return NULL;
  }
}

/* -log_view events per layer kind and pass (e.g. NnConvRBwd, and
 * NnConvRBwd_single in single precision); the layers log their GEMM flops, so
 * -log_view shows each kind's rate. */
enum { PASS_FWD, PASS_BWD, PASS_RFWD, PASS_RBWD, NPASS };
static PetscLogEvent layer_events[LAYER_NKINDS][NPASS], ev_forward, ev_backward;

PetscErrorCode net_pass_register_events(PetscClassId cls)
{
  static const char *kinds[] = {"Dense", "Conv", "Pool", "Act", "BN", "Dropout", "Flatten", "AvgPool", "Scale", "Add"};
  static const char *pass[]  = {"Fwd", "Bwd", "RFwd", "RBwd"};
  char               name[48];
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventRegister("NnForward" NN_REAL_SUFFIX, cls, &ev_forward));
  PetscCall(PetscLogEventRegister("NnBackward" NN_REAL_SUFFIX, cls, &ev_backward));
  for (int k = 0; k < LAYER_NKINDS; k++)
    for (int q = 0; q < NPASS; q++) {
      PetscCall(PetscSNPrintf(name, sizeof name, "Nn%s%s%s", kinds[k], pass[q], NN_REAL_SUFFIX));
      PetscCall(PetscLogEventRegister(name, cls, &layer_events[k][q]));
    }
  PetscFunctionReturn(0);
}

/* A DAG's buffer per tensor t = 1..nlayers, for k blocks of Bmax samples. */
static PetscErrorCode net_tensor_buffers(Net net, PetscInt k, nn_real ***buf)
{
  PetscFunctionBeginUser;
  PetscCall(PetscCalloc1(net->nlayers + 1, buf));
  for (PetscInt t = 1; t <= net->nlayers; t++)
    PetscCall(PetscMalloc1((size_t)k * net->Bmax * nn_shape_size(net->layers[t - 1].out), &(*buf)[t]));
  PetscFunctionReturn(0);
}

static PetscErrorCode net_tensor_buffers_free(Net net, nn_real ***buf)
{
  PetscFunctionBeginUser;
  for (PetscInt t = 0; t <= net->nlayers && *buf; t++) PetscCall(PetscFree((*buf)[t]));
  PetscCall(PetscFree(*buf));
  PetscFunctionReturn(0);
}

/* The col caches, lowest conv layers first, while they fit -net_colcache_mb. */
static PetscErrorCode net_state_col_caches(Net net, NnState *st)
{
  size_t room = (size_t)(net->colcache_mb * 1048576.0 / sizeof(nn_real));
  PetscFunctionBeginUser;
  for (PetscInt l = 0; l < net->nlayers; l++) {
    const Layer *L = &net->layers[l];
    if (L->kind != LAYER_CONV) continue;
    const size_t n = (size_t)net->Bmax * conv_col_size(L);
    if (n > room) continue;
    PetscCall(PetscMalloc1(n, &st->cache[l].col));
    room -= n;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode net_state_create(Net net)
{
  const PetscInt B    = net->Bmax;
  PetscInt       maxf = 1;
  size_t         per  = 0;
  NnState       *st;
  PetscFunctionBeginUser;
  PetscCall(PetscNew(&st));
  net_state_of(net) = st;
  PetscCall(PetscCalloc1(net->nlayers + 1, &st->act));
  PetscCall(PetscCalloc1(net->nlayers, &st->cache));
  PetscCall(PetscMalloc1((size_t)B * nn_shape_size(net->input), &st->act[0]));
  for (PetscInt l = 0; l < net->nlayers; l++) {
    Layer        *L = &net->layers[l];
    NnLayerCache *c = &st->cache[l];
    maxf            = PetscMax(maxf, PetscMax(nn_shape_size(L->in), nn_shape_size(L->out)));
    PetscCall(PetscMalloc1((size_t)B * nn_shape_size(L->out), &st->act[l + 1]));
    if (L->kind == LAYER_POOL) PetscCall(PetscMalloc1((size_t)B * nn_shape_size(L->out), &c->argmax));
    if (L->kind == LAYER_DROPOUT) PetscCall(PetscMalloc1((size_t)B * nn_shape_size(L->in), &c->mask));
    if (L->kind == LAYER_BN) PetscCall(PetscMalloc2(L->in.c, &c->mean, L->in.c, &c->invstd));
    if (L->kind == LAYER_CONV) per = PetscMax(per, conv_col_size(L));
  }
  PetscCall(PetscMalloc2((size_t)B * maxf, &st->gbuf[0], (size_t)B * maxf, &st->gbuf[1]));
  if (net->dag) PetscCall(net_tensor_buffers(net, 1, &st->gt));
  if (per) {
    size_t cap = (size_t)(net->workspace_mb * 1048576.0 / sizeof(nn_real));
    st->nwork  = PetscMax(per, PetscMin(cap, per * (size_t)B));
    PetscCall(PetscMalloc1(st->nwork, &st->work));
  }
  PetscCall(net_state_col_caches(net, st));
  PetscFunctionReturn(0);
}

static PetscErrorCode net_free_tangents(Net net)
{
  NnState *st = net_state_of(net);
  PetscFunctionBeginUser;
  for (PetscInt l = 0; l <= net->nlayers && st->dact; l++) PetscCall(PetscFree(st->dact[l]));
  for (PetscInt l = 0; l <= net->nlayers && st->ract; l++) PetscCall(PetscFree(st->ract[l]));
  PetscCall(PetscFree(st->dact));
  PetscCall(PetscFree(st->ract));
  PetscCall(net_tensor_buffers_free(net, &st->rgt));
  PetscCall(PetscFree(st->rzero));
  PetscCall(PetscFree(st->vsparse));
  if (st->rbuf[0]) PetscCall(PetscFree2(st->rbuf[0], st->rbuf[1]));
  st->kmax = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode net_state_destroy(Net net)
{
  NnState *st = net_state_of(net);
  PetscFunctionBeginUser;
  if (!st) PetscFunctionReturn(0);
  PetscCall(net_free_tangents(net));
  for (PetscInt l = 0; l < net->nlayers && st->cache; l++) {
    NnLayerCache *c = &st->cache[l];
    PetscCall(PetscFree(c->argmax));
    PetscCall(PetscFree(c->mask));
    if (c->mean) PetscCall(PetscFree2(c->mean, c->invstd));
    PetscCall(PetscFree(c->col));
  }
  for (PetscInt l = 0; l <= net->nlayers && st->act; l++) PetscCall(PetscFree(st->act[l]));
  PetscCall(PetscFree(st->act));
  PetscCall(net_tensor_buffers_free(net, &st->gt));
  PetscCall(PetscFree(st->cache));
  if (st->gbuf[0]) PetscCall(PetscFree2(st->gbuf[0], st->gbuf[1]));
  PetscCall(PetscFree(st->work));
  PetscCall(PetscFree(net_state_of(net)));
  PetscFunctionReturn(0);
}

PetscErrorCode net_get_output_tangents(Net net, const nn_real **RT)
{
  const NnState *st = net_state_of(net);
  PetscFunctionBeginUser;
  *RT = st && st->ract ? st->ract[net->nlayers] : NULL;
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

PetscErrorCode net_setup_tangents(Net net, PetscInt kmax)
{
  const size_t B = (size_t)net->Bmax, m = (size_t)net_max_features(net);
  NnState     *st;
  PetscFunctionBeginUser;
  PetscCheck(kmax > 0, net->comm, PETSC_ERR_ARG_OUTOFRANGE, "the number of tangent directions must be positive");
  PetscCheck(net->layers, net->comm, PETSC_ERR_ORDER, "net_setup_tangents: call net_setup() first");
  if (!net_state_of(net)) PetscCall(net_state_create(net)); /* single precision: on first use */
  st = net_state_of(net);
  if (kmax <= st->kmax) PetscFunctionReturn(0); /* shared by several Hessians: only grow */
  PetscCall(net_free_tangents(net));
  st->kmax = kmax;
  PetscCall(PetscCalloc1(net->nlayers + 1, &st->dact));
  PetscCall(PetscCalloc1(net->nlayers + 1, &st->ract));
  PetscCall(PetscCalloc1(net->nlayers + 1, &st->rzero));
  PetscCall(PetscCalloc1(kmax, &st->vsparse));
  for (PetscInt l = 1; l <= net->nlayers; l++) {
    size_t f = (size_t)nn_shape_size(net->layers[l - 1].out);
    PetscCall(PetscMalloc1(B * f, &st->dact[l]));
    PetscCall(PetscMalloc1((size_t)kmax * B * f, &st->ract[l]));
  }
  PetscCall(PetscMalloc2((size_t)kmax * B * m, &st->rbuf[0], (size_t)kmax * B * m, &st->rbuf[1]));
  if (net->dag) PetscCall(net_tensor_buffers(net, kmax, &st->rgt));
  PetscFunctionReturn(0);
}

/* st->vsparse[j] <- the non-zeros of direction j when it has few (n = -1 otherwise). */
static void scan_directions(Net net, PetscInt k, const nn_real *V, PetscInt ldv)
{
  for (PetscInt j = 0; j < k; j++) {
    NnSparseDir   *s = &net_state_of(net)->vsparse[j];
    const nn_real *v = V + j * ldv;
    s->n             = 0;
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
static PetscBool directions_vanish(const Net net, const Layer *L, PetscInt k, const nn_real *V, PetscInt ldv)
{
  for (PetscInt j = 0; j < k; j++) {
    const NnSparseDir *s = &net_state_of(net)->vsparse[j];
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

/* The state of the passes in this precision, after the setup they need. */
static PetscErrorCode net_pass_state(Net net, PetscBool tangents, NnState **st)
{
  PetscFunctionBeginUser;
  *st = net_state_of(net);
  PetscCheck(*st && (!tangents || (*st)->kmax), PETSC_COMM_SELF, PETSC_ERR_ORDER, "the network's %s passes need net_setup_tangents%s() first",
             NN_REAL_SUFFIX[0] ? "single-precision" : "second-order", NN_REAL_SUFFIX);
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

/* act[0] <- x in the first layer's layout: (C, B, S) if spatial, else (B, F). */
static void net_load_input(Net net, NnState *st, PetscInt B, const double *x)
{
  const PetscInt C = net->input.c, S = net->input.h * net->input.w;
  nn_real       *a = st->act[0];
  if (!net->input.spatial) {
    for (size_t i = 0; i < (size_t)B * C * S; i++) a[i] = (nn_real)x[i];
    return;
  }
  for (PetscInt b = 0; b < B; b++)
    for (PetscInt c = 0; c < C; c++)
      for (PetscInt s = 0; s < S; s++) a[((size_t)c * B + b) * S + s] = (nn_real)x[((size_t)b * C + c) * S + s];
}

/* The buffer of the gradient of tensor t (1 <= t <= nlayers): kept per
 * tensor with tangents set up (dact) or in a DAG (gt), else a chain's
 * ping-pong buffer. */
static nn_real *grad_of(const Net net, const NnState *st, PetscInt t)
{
  if (st->dact) return st->dact[t];
  if (net->dag) return st->gt[t];
  return st->gbuf[(net->nlayers - t) % 2];
}

/* The buffer of the tangents of the gradient of tensor t: a DAG's own, a chain's ping-pong buffer. */
static nn_real *rgrad_of(const Net net, const NnState *st, PetscInt t)
{
  return net->dag ? st->rgt[t] : st->rbuf[(net->nlayers - t) % 2];
}

/* Where layer L writes the gradient (or its tangents, n values) of its input slot s:
 * the tensor's buffer when L is its last reader, else the scratch, added afterwards. */
static nn_real *input_grad_target(const Layer *L, PetscInt s, nn_real *buf, nn_real *scratch) { return L->src_last[s] ? buf : scratch; }

static void input_grad_finish(const Layer *L, PetscInt s, size_t n, const nn_real *scratch, nn_real *buf)
{
  if (!L->src_last[s])
    for (size_t e = 0; e < n; e++) buf[e] += scratch[e]; /* the tensor's other readers */
}

/* The add layer: out = a + b (NULL a or b: zero), nb samples. */
static void add_apply(const Layer *L, PetscInt nb, const nn_real *a, const nn_real *b, nn_real *out)
{
  const size_t n = (size_t)nb * nn_shape_size(L->out);
  for (size_t e = 0; e < n; e++) out[e] = (a ? a[e] : 0) + (b ? b[e] : 0);
}

/* The add layer's backward (and R-backward): each input's gradient (+)= the output's, nb samples. */
static void add_backward(const Net net, const Layer *L, PetscInt nb, const nn_real *dout, nn_real *(*buf)(const Net, const NnState *, PetscInt),
                         const NnState *st, PetscInt lo)
{
  const size_t n = (size_t)nb * nn_shape_size(L->out);
  for (PetscInt s = 1; s >= 0; s--) { /* slot 1 first: of x + x, slot 1 is the last reader */
    if (L->src[s] <= lo) continue;   /* below the lowest layer wanted */
    nn_real *g = buf(net, st, L->src[s]);
    for (size_t e = 0; e < n; e++) g[e] = L->src_last[s] ? dout[e] : g[e] + dout[e];
  }
}

PetscErrorCode net_rop_forward(Net net, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V, PetscInt ldv)
{
  NnState *st;
  PetscFunctionBeginUser;
  PetscCall(net_pass_state(net, PETSC_TRUE, &st));
  PetscCheck(k > 0 && k <= st->kmax, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "%" PetscInt_FMT " directions, but net_setup_tangents allowed %" PetscInt_FMT, k, st->kmax);
  scan_directions(net, k, V, ldv);
  st->rzero[0] = PETSC_TRUE; /* the input does not depend on theta */
  for (PetscInt l = 0; l < net->nlayers; l++) {
    Layer          *L  = &net->layers[l];
    const PetscInt  a  = L->src[0], b = L->kind == LAYER_ADD ? L->src[1] : a;
    const PetscBool vz = !L->nw || directions_vanish(net, L, k, V, ldv);
    st->rzero[l + 1]   = st->rzero[a] && st->rzero[b] && vz;
    if (st->rzero[l + 1]) continue; /* zero in, no direction here: zero out */
    PetscCall(PetscLogEventBegin(layer_events[L->kind][PASS_RFWD], 0, 0, 0, 0));
    if (L->kind == LAYER_ADD) add_apply(L, k * p->B, st->rzero[a] ? NULL : st->ract[a], st->rzero[b] ? NULL : st->ract[b], st->ract[l + 1]);
    else
      PetscCall(layer_ops(L->kind)->rop_forward(L, p, k, theta, vz ? NULL : V, ldv, st->act[a], st->rzero[a] ? NULL : st->ract[a],
                                                      st->ract[l + 1]));
    PetscCall(PetscLogEventEnd(layer_events[L->kind][PASS_RFWD], 0, 0, 0, 0));
  }
  PetscFunctionReturn(0);
}

/* Layer L's R-backward for k directions, into the tangents of its input's gradient (or the scratch). */
static PetscErrorCode layer_rop_backward(Net net, NnState *st, Layer *L, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V,
                                         PetscInt ldv, NnRopBack *a, PetscInt lo)
{
  const PetscInt  l = L->index, t = L->src[0];
  const PetscBool vz = !L->nw || directions_vanish(net, L, k, V, ldv);
  nn_real        *rg = t > lo ? rgrad_of(net, st, t) : NULL;
  PetscFunctionBeginUser;
  a->in = st->act[t], a->out = st->act[l + 1];
  a->Rin = st->rzero[t] ? NULL : st->ract[t], a->Rout = st->rzero[l + 1] ? NULL : st->ract[l + 1];
  a->Rdin = rg ? input_grad_target(L, 0, rg, st->rbuf[0]) : NULL;
  PetscCall(layer_ops(L->kind)->rop_backward(L, p, k, theta, vz ? NULL : V, ldv, a));
  if (rg) input_grad_finish(L, 0, (size_t)k * p->B * nn_shape_size(L->in), st->rbuf[0], rg);
  PetscFunctionReturn(0);
}

PetscErrorCode net_rop_backward(Net net, const NnPass *p, PetscInt k, const nn_real *theta, const nn_real *V, PetscInt ldv,
                                      const double *RdT, PetscBool first_order_terms, const PetscInt *rows, PetscInt nrows,
                                      nn_real *HV, PetscInt ldh)
{
  const PetscInt lo = lowest_layer_of_rows(net, rows, nrows);
  NnState       *st;
  nn_real       *rd;
  PetscFunctionBeginUser;
  PetscCall(net_pass_state(net, PETSC_TRUE, &st));
  rd = rgrad_of(net, st, net->nlayers);
  for (PetscInt i = 0; i < k * p->B * net->K; i++) rd[i] = (nn_real)RdT[i];
  for (PetscInt l = net->nlayers - 1; l >= lo; l--) {
    Layer    *L = &net->layers[l];
    NnRopBack a = {.dout = first_order_terms ? st->dact[l + 1] : NULL, .Rdout = rgrad_of(net, st, l + 1), .HV = HV, .ldh = ldh,
                   .rows = rows, .nrows = nrows};
    PetscCall(PetscLogEventBegin(layer_events[L->kind][PASS_RBWD], 0, 0, 0, 0));
    if (L->kind == LAYER_ADD) add_backward(net, L, k * p->B, a.Rdout, rgrad_of, st, lo);
    else PetscCall(layer_rop_backward(net, st, L, p, k, theta, V, ldv, &a, lo));
    PetscCall(PetscLogEventEnd(layer_events[L->kind][PASS_RBWD], 0, 0, 0, 0));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode net_forward(Net net, const NnPass *p, const nn_real *theta, const double *x, double *out)
{
  NnState *st;
  PetscFunctionBeginUser;
  PetscCall(net_pass_state(net, PETSC_FALSE, &st));
  PetscCheck(p->B <= net->Bmax, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "batch of %" PetscInt_FMT " exceeds the network's %" PetscInt_FMT,
             p->B, net->Bmax);
  PetscCall(PetscLogEventBegin(ev_forward, 0, 0, 0, 0));
  net->gen++;
  net->fwd_gen++;
  net_load_input(net, st, p->B, x);
  for (PetscInt l = 0; l < net->nlayers; l++) {
    Layer *L = &net->layers[l];
    PetscCall(PetscLogEventBegin(layer_events[L->kind][PASS_FWD], 0, 0, 0, 0));
    if (L->kind == LAYER_ADD) add_apply(L, p->B, st->act[L->src[0]], st->act[L->src[1]], st->act[l + 1]);
    else PetscCall(layer_ops(L->kind)->forward(L, p, theta, st->act[L->src[0]], st->act[l + 1]));
    PetscCall(PetscLogEventEnd(layer_events[L->kind][PASS_FWD], 0, 0, 0, 0));
  }
  for (PetscInt i = 0; out && i < p->B * net->K; i++) out[i] = st->act[net->nlayers][i];
  PetscCall(PetscLogEventEnd(ev_forward, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode net_backward(Net net, const NnPass *p, const nn_real *theta, const double *dout, nn_real *grad)
{
  NnState *st;
  nn_real *g;
  PetscFunctionBeginUser;
  PetscCall(net_pass_state(net, PETSC_FALSE, &st));
  /* with tangents set up, every layer's output gradient is kept in dact[l + 1] */
  g = grad_of(net, st, net->nlayers);
  PetscCall(PetscLogEventBegin(ev_backward, 0, 0, 0, 0));
  net->gen++;
  for (PetscInt i = 0; i < p->B * net->K; i++) g[i] = (nn_real)dout[i];
  for (PetscInt l = net->nlayers - 1; l >= net->first; l--) { /* nothing to differentiate below the first weights */
    Layer         *L = &net->layers[l];
    const PetscInt t = L->src[0];
    nn_real       *dx = t > net->first ? grad_of(net, st, t) : NULL;
    PetscCall(PetscLogEventBegin(layer_events[L->kind][PASS_BWD], 0, 0, 0, 0));
    if (L->kind == LAYER_ADD) add_backward(net, L, p->B, grad_of(net, st, l + 1), grad_of, st, net->first);
    else {
      PetscCall(layer_ops(L->kind)->backward(L, p, theta, st->act[t], st->act[l + 1], grad_of(net, st, l + 1),
                                                   dx ? input_grad_target(L, 0, dx, st->gbuf[0]) : NULL, grad));
      if (dx) input_grad_finish(L, 0, (size_t)p->B * nn_shape_size(L->in), st->gbuf[0], dx);
    }
    PetscCall(PetscLogEventEnd(layer_events[L->kind][PASS_BWD], 0, 0, 0, 0));
  }
  PetscCall(PetscLogEventEnd(ev_backward, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}
