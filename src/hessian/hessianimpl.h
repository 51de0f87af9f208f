/* Private to src/hessian (and white-box tests): the Hessian operator's state. */
#ifndef NNCAS_HESSIAN_HESSIANIMPL_H
#define NNCAS_HESSIAN_HESSIANIMPL_H

#include "nncas/hessian.h"

/* A slice of a batch processed on this rank. */
typedef struct {
  PetscInt batch;      /* global batch index */
  PetscInt size;       /* |b|: samples of the whole batch */
  PetscInt first, n;   /* this rank's samples: positions [first, first + n) of the local arrays */
  MPI_Comm comm;       /* ranks sharing the batch (normalization statistics) */
} HessianSlice;

struct _p_Hessian {
  MPI_Comm    comm;
  PetscMPIInt rank, size;
  Dataset     ds;
  Net         net;
  PetscInt    N, F, K; /* parameters; values per sample; outputs per sample (after hessian_setup) */
  NnLoss      loss;
  /* options */
  PetscInt nsamples, batch, seed, kmax;
  PetscInt inject_nan; /* testing: the inject_nan-th local product on rank 0 is NaN (0: never) */
  PetscBool reuse;     /* -hessian_reuse_forward: skip the first-order passes when they are still in the net */
  HessianPrecision precision; /* -hessian_precision: of the network's passes (precision.c) */
  /* the first-order pass (forward, l', l'', backward) the net's buffers hold */
  PetscBool          cache_ok;
  PetscInt           cache_slice;
  double             cache_scale;
  unsigned long long cache_gen;
  PetscInt napplies;   /* local products so far */
  /* the fixed sample set */
  PetscInt      nbatches;
  PetscInt     *sample_ids; /* (nsamples) positions in the training split */
  PetscInt      nslices;
  HessianSlice *slices;     /* this rank's slices, in increasing batch order */
  PetscInt      nlocal;     /* samples held by this rank */
  double       *x, *y;      /* (nlocal, c, h, w) and (nlocal) */
  /* the point */
  const double *theta;      /* replicated parameters (not owned) */
  float        *theta_single;    /* single precision: theta in float, */
  PetscBool     theta_single_ok; /* converted since the latest hessian_set_point */
  /* distribution of theta */
  PetscLayout  layout;
  PetscMPIInt *counts, *displs;
  /* work */
  double *t, *dl, *d2l, *rt, *rdt; /* outputs (B, K), dl/dT, the output Hessian's data, RT and R{dR/dT} (k, B, K) in double */
  double *vfull, *hv;         /* (kmax, N) gathered directions and local products */
  float  *v_single, *hv_single; /* (kmax, N) single precision: the same in float */
  Mat     H, G, Rm;           /* shells: full Hessian, Gauss-Newton part, H - G */
};

/* precision.c: the products in the Hessian's precision. HV (k x N) += scale
 * part V on slice s (with rows, only those entries of HV), converting at the
 * network's boundary in single precision. */
PetscErrorCode hessian_slice_apply(Hessian h, PetscInt s, HessianPart part, PetscInt k, const double *V, double scale,
                                   const PetscInt *rows, PetscInt nrows, double *HV);
PetscErrorCode hessian_slice_register_events(PetscClassId cls);
PetscErrorCode hessian_precision_setup(Hessian h);
PetscErrorCode hessian_precision_destroy(Hessian h);
/* slice.c, compiled once per precision (include/nncas/real.h): the same
 * product by the network's passes in double, or in float at theta_single. */
#ifndef NN_SINGLE /* the float32 build renames it to the _single one below (nncas/real_single.h) */
PetscErrorCode hessian_slice_passes(Hessian h, PetscInt s, HessianPart part, PetscInt k, const double *V, double scale,
                                    const PetscInt *rows, PetscInt nrows, double *HV);
#endif
PetscErrorCode hessian_slice_passes_single(Hessian h, PetscInt s, HessianPart part, PetscInt k, const float *V, double scale,
                                           const PetscInt *rows, PetscInt nrows, float *HV);

#endif
