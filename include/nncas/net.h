/* Networks: a stack of layers with a single scalar output, its parameters in
 * one flat vector theta, and the loss.
 *
 * Layout of theta: layer after layer, each layer's weight in PyTorch's layout
 * (dense (out, in), conv (OC, IC, KH, KW)) followed by its bias.
 *
 * Layout of activations inside the network: spatial tensors are stored
 * channel-major, (C, B, H, W), so a convolution over the whole batch is one
 * GEMM and per-channel statistics are contiguous; flat tensors are (B, F).
 * A flatten layer turns (C, B, H, W) into PyTorch's (B, C*H*W). The batch
 * dimension B may hold several blocks of samples (e.g. k tangent vectors of
 * the same B samples, stored as a batch of k*B). */
#ifndef NNCAS_NET_H
#define NNCAS_NET_H

#include "nncas/core.h"

typedef enum { LAYER_DENSE, LAYER_CONV, LAYER_POOL, LAYER_ACT, LAYER_BN, LAYER_DROPOUT, LAYER_FLATTEN } LayerKind;
typedef enum { ACT_RELU, ACT_SWISH, ACT_SIGMOID, ACT_TANH } ActKind;
typedef enum { LOSS_HINGE, LOSS_ABSOLUTE, LOSS_LOGISTIC, LOSS_SQUARED } NnLoss;
typedef enum { INIT_OLD, INIT_NORMAL, INIT_SCALED } NnInit;
extern const char *const NnLosses[];
extern const char *const NnInits[];

typedef struct {
  PetscInt  c, h, w;
  PetscBool spatial; /* (C, B, H, W) layout; otherwise (B, c*h*w) */
} NnShape;

static inline PetscInt nn_shape_size(NnShape s) { return s.c * s.h * s.w; }

/* One forward/backward pass over a batch. */
typedef struct {
  PetscInt  B;          /* samples in this call on this rank */
  PetscInt  Bglobal;    /* samples of the batch over batch_comm (BN statistics) */
  MPI_Comm  batch_comm; /* ranks sharing the batch; MPI_COMM_SELF when a rank owns it */
  PetscBool train;      /* dropout active */
  NnRngKey  dropout_key;      /* key of this step's dropout masks */
  const PetscInt *sample_ids; /* (B) global sample ids: a sample's mask does not depend on its rank */
} NnPass;

/* Arguments of a layer's second-order backward pass (R-operator) for k
 * tangent directions. Tangent tensors hold k blocks of the same B samples,
 * i.e. a batch of k*B in the layer's layout. NULL Rin means a zero input
 * tangent; NULL dout means a zero first-order gradient (the Gauss-Newton part). */
typedef struct {
  const double *in, *out;   /* forward tensors of the B samples */
  const double *Rin, *Rout; /* their tangents (k*B samples) */
  const double *dout;       /* dL/dout (B samples), or NULL */
  const double *Rdout;      /* its tangent (k*B samples) */
  double       *Rdin;       /* <- tangent of dL/din (k*B samples); NULL if not needed */
  double       *HV;         /* += second-order parameter terms, row j at HV + j*ldh */
  PetscInt      ldh;
} NnRopBack;

typedef struct Layer Layer;
typedef struct {
  const char *name;
  /* out <- layer(in) */
  PetscErrorCode (*forward)(Layer *L, const NnPass *p, const double *theta, const double *in, double *out);
  /* din <- dL/din (din may be NULL), grad += dL/dtheta of this layer */
  PetscErrorCode (*backward)(Layer *L, const NnPass *p, const double *theta, const double *in, const double *out,
                             const double *dout, double *din, double *grad);
  /* R-operator, forward: Rout <- d out[theta + t V_j, in + t Rin_j]/dt at t = 0
   * for the k parameter directions V_j (row j at V + j*ldv). V is NULL when
   * the directions vanish on this layer's parameters (also in rop_backward). */
  PetscErrorCode (*rop_forward)(Layer *L, const NnPass *p, PetscInt k, const double *theta, const double *V, PetscInt ldv,
                                const double *in, const double *Rin, double *Rout);
  /* R-operator, backward: the tangents of backward's outputs (see NnRopBack). */
  PetscErrorCode (*rop_backward)(Layer *L, const NnPass *p, PetscInt k, const double *theta, const double *V, PetscInt ldv,
                                 const NnRopBack *a);
} LayerOps;

struct Layer {
  LayerKind       kind;
  const LayerOps *ops;
  PetscInt        index;     /* position in the network */
  NnShape         in, out;
  PetscInt        k, pad;    /* conv: kernel size and zero padding; pool: window = stride */
  ActKind         act;
  PetscReal       p;         /* dropout probability */
  PetscInt        woff, nw;  /* weight: theta[woff .. woff+nw) */
  PetscInt        boff, nbias; /* bias: theta[boff .. boff+nbias); nbias = 0 without bias */
  /* caches written by forward, read by backward (sized for the net's Bmax) */
  PetscInt       *argmax;    /* pool: input index of each output */
  uint8_t        *mask;      /* dropout: kept elements */
  double         *mean, *invstd; /* bn: per channel */
  double         *col;       /* conv: im2col of the forward input, when it fits -net_colcache_mb */
  const double   *col_of;    /* conv: the input col holds (with col_B samples, forward col_gen) */
  PetscInt        col_B;
  unsigned long long col_gen;
  struct _p_Net  *net;       /* owner (workspace) */
};

typedef struct _p_Net *Net;
struct _p_Net {
  MPI_Comm  comm;
  char      spec[4096];  /* the layer string after preset expansion */
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
  double **act;         /* act[l]: input of layer l; act[nlayers]: output (Bmax) */
  unsigned long long gen; /* bumped by every net_forward and net_backward: tells a
                             Hessian whether act and dact still hold its own pass */
  unsigned long long fwd_gen; /* bumped by every net_forward: the conv layers' col caches */
  double  *gbuf[2];     /* ping-pong buffers for activation gradients */
  double  *work;        /* im2col workspace */
  size_t   nwork;
  /* second order (net_setup_tangents) */
  PetscInt kmax;        /* directions per tangent pass */
  double **dact;        /* dact[l] = dL/d act[l], l = 1..nlayers, kept by net_backward */
  double **ract;        /* ract[l]: tangents of act[l] for k directions (k*Bmax samples) */
  PetscBool *rzero;     /* rzero[l]: the tangents of act[l] are zero (not computed) */
  double  *rbuf[2];     /* ping-pong buffers for the tangents of the gradients */
};

PetscErrorCode net_create(MPI_Comm comm, Net *net);
/* -log_view events NnForward, NnBackward and one per layer kind and pass (net_create calls it). */
PetscErrorCode net_initialize_package(void);
PetscErrorCode net_set_from_options(Net net);
/* Parse the layer string for inputs of shape (c, h, w), lay out theta, and
 * allocate buffers for batches of up to Bmax samples. */
PetscErrorCode net_setup(Net net, PetscInt c, PetscInt h, PetscInt w, PetscInt Bmax);
PetscErrorCode net_view(Net net, PetscViewer v);
PetscErrorCode net_destroy(Net *net);

/* theta <- initial parameters (every rank draws the same values). */
PetscErrorCode net_init_params(Net net, double *theta);
/* out (B) <- network(x), x (B, c, h, w) in PyTorch's layout. Keeps what backward needs. */
PetscErrorCode net_forward(Net net, const NnPass *p, const double *theta, const double *x, double *out);
/* grad += d/dtheta sum_i dout_i * out_i, after net_forward on the same pass. */
PetscErrorCode net_backward(Net net, const NnPass *p, const double *theta, const double *dout, double *grad);
/* Second-order passes by Pearlmutter's R-operator (forward over reverse).
 * net_setup_tangents allocates room for k <= kmax directions (it only grows); from then on
 * net_backward keeps the gradient of every layer's output. For directions V
 * (row j at V + j*ldv) after net_forward and net_backward on the same pass:
 *   net_rop_forward   the tangents R{act[l]} = d act[l](theta + t V_j)/dt, l = 1..L
 *                     (layers below the first one the directions touch have
 *                     zero tangents and are skipped: unit directions e_j are cheap);
 *                     net->ract[nlayers] holds RT, the (k*B) output tangents
 *   net_rop_backward  given RdT = R{dL/dT} (k*B), HV_j += R{dL/dtheta}; with
 *                     first_order_terms false the terms in the first-order
 *                     gradient are dropped, leaving J^T RdT (Gauss-Newton). */
PetscErrorCode net_setup_tangents(Net net, PetscInt kmax);
PetscErrorCode net_rop_forward(Net net, const NnPass *p, PetscInt k, const double *theta, const double *V, PetscInt ldv);
PetscErrorCode net_rop_backward(Net net, const NnPass *p, PetscInt k, const double *theta, const double *V, PetscInt ldv,
                                const double *RdT, PetscBool first_order_terms, double *HV, PetscInt ldh);

/* Name of layer l's parameter group in files ("L03_conv"); "" for parameter-free layers. */
void net_layer_name(const Layer *L, char *buf, size_t len);
/* PyTorch shape of the weight of L: ndims and dims. */
void net_weight_shape(const Layer *L, int *ndims, PetscInt dims[4]);

/* Layer string parsing and presets (net_spec.c). */
PetscErrorCode net_spec_expand_preset(const char *preset, char *spec, size_t len);

/* ------------------------------------------------------------------ loss -- */
/* For outputs t and labels y (n of each): l, l' = dl/dt, l'' = d2l/dt2; each
 * output array may be NULL. */
void loss_eval(NnLoss loss, PetscInt n, const double *t, const double *y, double *l, double *dl, double *d2l);

#endif
