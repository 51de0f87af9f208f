/* Private to src/net (and white-box tests): the layers and the network's
 * struct behind the opaque Net of include/nncas/net.h. */
#ifndef NNCAS_NETIMPL_H
#define NNCAS_NETIMPL_H

#include "nncas/net.h"

typedef enum { LAYER_DENSE, LAYER_CONV, LAYER_POOL, LAYER_ACT, LAYER_BN, LAYER_DROPOUT, LAYER_FLATTEN } LayerKind;
typedef enum { ACT_RELU, ACT_SWISH, ACT_SIGMOID, ACT_TANH } ActKind;

typedef struct {
  PetscInt  c, h, w;
  PetscBool spatial; /* (C, B, H, W) layout; otherwise (B, c*h*w) */
} NnShape;

static inline PetscInt nn_shape_size(NnShape s) { return s.c * s.h * s.w; }

typedef struct Layer Layer;
struct Layer {
  LayerKind       kind;
  PetscInt        index;     /* position in the network */
  NnShape         in, out;
  PetscInt        k, pad;    /* conv: kernel size and zero padding; pool: window = stride */
  ActKind         act;
  PetscReal       p;         /* dropout probability */
  PetscInt        woff, nw;  /* weight: theta[woff .. woff+nw) */
  PetscInt        boff, nbias; /* bias: theta[boff .. boff+nbias); nbias = 0 without bias */
  struct _p_Net  *net;       /* owner (its buffers, in layers.h's NnState) */
};

/* The buffers and caches of the passes in one precision (src/net/layers.h):
 * the double ones from net_setup, the single ones from net_setup_tangents_single. */
struct NnState;
struct NnState_single;

struct _p_Net {
  MPI_Comm  comm;
  char      spec[NN_NET_SPEC_MAX];  /* the layer string after preset expansion */
  char      preset[64];
  PetscBool bias;
  NnInit    init;
  PetscReal init_std, init_c;
  PetscInt  seed;
  NnLoss    loss;
  PetscReal workspace_mb;
  PetscReal colcache_mb;

  NnShape  input;
  PetscInt nlayers;
  Layer   *layers;
  PetscInt N;           /* number of parameters */
  PetscInt first;       /* lowest layer with parameters: the backward passes stop there */
  PetscInt Bmax;        /* largest batch the buffers hold */
  unsigned long long gen; /* bumped by every forward and backward pass (either precision): tells a
                             Hessian whether the buffers still hold its own pass */
  unsigned long long fwd_gen; /* bumped by every forward pass: the conv layers' col caches */
  struct NnState        *state;        /* double precision */
  struct NnState_single *state_single; /* single precision, or NULL */
};

/* Builds net->layers from net->spec for net->input (net_spec.c). */
PetscErrorCode net_parse(Net net);

/* net_pass.c, compiled once per precision (include/nncas/real.h): the state
 * of the passes and the -log_view events of each layer kind and pass. */
PetscErrorCode net_state_create(Net net);
PetscErrorCode net_state_destroy(Net net);
PetscErrorCode net_state_destroy_single(Net net);
PetscErrorCode net_pass_register_events(PetscClassId cls);
PetscErrorCode net_pass_register_events_single(PetscClassId cls);

#endif
