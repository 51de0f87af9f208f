/* Private to src/net (and white-box tests): the layers and the network's
 * struct behind the opaque Net of include/nncas/net.h. */
#ifndef NNCAS_NETIMPL_H
#define NNCAS_NETIMPL_H

#include "nncas/net.h"

typedef enum {
  LAYER_DENSE,
  LAYER_CONV,
  LAYER_POOL,    /* max-pooling */
  LAYER_ACT,
  LAYER_BN,
  LAYER_DROPOUT,
  LAYER_FLATTEN,
  LAYER_AVGPOOL, /* average pooling (and global average pooling) */
  LAYER_SCALE,   /* per-channel affine map: batch normalization's gamma and beta */
  LAYER_ADD,     /* the sum of two tensors (a residual connection) */
  LAYER_NKINDS
} LayerKind;
typedef enum { ACT_RELU, ACT_SWISH, ACT_SIGMOID, ACT_TANH } ActKind;

typedef struct {
  PetscInt  c, h, w;
  PetscBool spatial; /* (C, B, H, W) layout; otherwise (B, c*h*w) */
} NnShape;

static inline PetscInt nn_shape_size(NnShape s) { return s.c * s.h * s.w; }

/* A convolution's or a pooling's window: kernel (kh, kw), strides (sh, sw),
 * zero padding top, left, bottom, right. Output size floor((H + pt + pb - kh) / sh) + 1. */
typedef struct {
  PetscInt kh, kw, sh, sw, pt, pl, pb, pr;
} NnWindow;

typedef struct Layer Layer;
struct Layer {
  LayerKind       kind;
  PetscInt        index;     /* position in the network: its output is tensor index + 1 */
  PetscInt        src[2];    /* the tensors it reads (0: the network's input, t: layer t-1's output); src[1] only for add */
  PetscBool       src_last[2]; /* no later layer reads src[s]: the backward passes write its gradient rather than add to it */
  NnShape         in, out;
  NnWindow        win;       /* conv, pool, avgpool */
  PetscBool       count_pad; /* avgpool: padded zeros count in the mean */
  ActKind         act;
  PetscReal       p;         /* dropout probability */
  PetscReal       eps;       /* bn */
  double         *stat_mean, *stat_invstd; /* bn with running statistics: fixed per channel (owned); NULL: batch statistics */
  PetscBool       has_bias;  /* dense, conv: the layer has a bias */
  char            pname[64]; /* the parameters' group name in files ("" : L<index>_<kind>) */
  PetscInt        node;      /* built from a graph: its node (the parameters' source), -1 for an inserted layer */
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

  char      file[PETSC_MAX_PATH_LEN]; /* -net_file: an ONNX model ("": the layer string) */
  PetscBool bn_running; /* -net_bn_statistics running: bn layers use the file's running statistics */
  double   *theta0;     /* the file's parameters (N), or NULL */
  struct NnGraph_ *graph; /* the file's graph between net_build_from_file and net_load_file_params */

  NnShape  input;
  PetscInt nlayers;
  Layer   *layers;
  PetscBool dag;        /* some tensor is read by a layer other than the next one (or twice) */
  PetscInt K;           /* outputs per sample */
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
/* Builds net->layers and net->theta0 from the ONNX file net->file for an input of net->input's size (net_graph.c). */
PetscErrorCode net_build_from_file(Net net);
/* After net_layout_params: net->theta0 <- the file's parameters; the graph is freed (net_graph.c). */
PetscErrorCode net_load_file_params(Net net);
/* After the layers are built: sources of a chain where unset, src_last, dag, K (net_graph.c). */
PetscErrorCode net_link_layers(Net net);
/* Output shape of a conv or pooling window over `in`; an error naming `what` when it does not fit (net_spec.c). */
PetscErrorCode net_window_shape(const NnWindow *w, NnShape in, const char *what, PetscInt *oh, PetscInt *ow);

/* net_pass.c, compiled once per precision (include/nncas/real.h): the state
 * of the passes and the -log_view events of each layer kind and pass. */
PetscErrorCode net_state_create(Net net);
PetscErrorCode net_state_destroy(Net net);
PetscErrorCode net_state_destroy_single(Net net);
PetscErrorCode net_pass_register_events(PetscClassId cls);
PetscErrorCode net_pass_register_events_single(PetscClassId cls);

#endif
