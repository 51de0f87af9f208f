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
  const PetscInt *rows;     /* only these entries of HV are needed (ascending theta indices), or NULL: all */
  PetscInt      nrows;
} NnRopBack;

/* A tangent direction's non-zero entries when it has at most NN_SPARSE_MAX of
 * them (a Hessian column e_j): theta indices and values; n = -1 when dense.
 * Set by net_rop_forward for each direction, read by the layers through their
 * net (layer_sparse_direction) in both R-passes. */
#define NN_SPARSE_MAX 32
typedef struct {
  PetscInt n, idx[NN_SPARSE_MAX];
  double   val[NN_SPARSE_MAX];
} NnSparseDir;

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
  NnSparseDir *vsparse; /* (kmax) the directions of the latest net_rop_forward, when sparse */
  double  *rbuf[2];     /* ping-pong buffers for the tangents of the gradients */
};

#endif
