/* Networks: layers in topological order (a chain from the layer string, or a
 * DAG from an ONNX model, -net_file) with K outputs per sample, their
 * parameters in one flat vector theta, and the loss.
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

typedef enum { LOSS_HINGE, LOSS_ABSOLUTE, LOSS_LOGISTIC, LOSS_SQUARED, LOSS_CROSS_ENTROPY, LOSS_MULTI_HINGE } NnLoss;
typedef enum { INIT_OLD, INIT_NORMAL, INIT_SCALED } NnInit;
extern const char *const NnLosses[];
extern const char *const NnInits[];

/* One forward/backward pass over a batch. */
typedef struct {
  PetscInt  B;          /* samples in this call on this rank */
  PetscInt  Bglobal;    /* samples of the batch over batch_comm (BN statistics) */
  MPI_Comm  batch_comm; /* ranks sharing the batch; MPI_COMM_SELF when a rank owns it */
  PetscBool train;      /* dropout active */
  NnRngKey  dropout_key;      /* key of this step's dropout masks */
  const PetscInt *sample_ids; /* (B) global sample ids: a sample's mask does not depend on its rank */
} NnPass;

#define NN_NET_SPEC_MAX 4096 /* longest layer string, after preset expansion */

typedef struct _p_Net *Net;

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
#ifndef NN_SINGLE /* the float32 build of the passes renames these to the _single ones below (nncas/real_single.h) */
/* out (B, K) <- network(x), x (B, c, h, w) in PyTorch's layout. Keeps what backward needs. */
PetscErrorCode net_forward(Net net, const NnPass *p, const double *theta, const double *x, double *out);
/* grad += d/dtheta sum_{i,k} dout_ik * out_ik, after net_forward on the same pass. */
PetscErrorCode net_backward(Net net, const NnPass *p, const double *theta, const double *dout, double *grad);
/* Second-order passes by Pearlmutter's R-operator (forward over reverse).
 * net_setup_tangents allocates room for k <= kmax directions (it only grows); from then on
 * net_backward keeps the gradient of every layer's output. For directions V
 * (row j at V + j*ldv) after net_forward and net_backward on the same pass:
 *   net_rop_forward   the tangents R{act[l]} = d act[l](theta + t V_j)/dt, l = 1..L
 *                     (layers below the first one the directions touch have
 *                     zero tangents and are skipped: unit directions e_j are cheap);
 *                     net_get_output_tangents gives RT, the (k, B, K) output tangents
 *   net_rop_backward  given RdT = R{dL/dT} (k, B, K), HV_j += R{dL/dtheta}, for the
 *                     same V as the net_rop_forward before it; with
 *                     first_order_terms false the terms in the first-order
 *                     gradient are dropped, leaving J^T RdT (Gauss-Newton).
 *                     With rows (nrows ascending theta indices) only those
 *                     entries of HV_j are wanted: others may be left as they
 *                     were, and the pass stops at the lowest layer holding a row.
 * Directions with at most a few non-zeros (Hessian columns e_j) take a sparse
 * path for their own terms V x and V^T dy. */
PetscErrorCode net_setup_tangents(Net net, PetscInt kmax);
PetscErrorCode net_rop_forward(Net net, const NnPass *p, PetscInt k, const double *theta, const double *V, PetscInt ldv);
PetscErrorCode net_rop_backward(Net net, const NnPass *p, PetscInt k, const double *theta, const double *V, PetscInt ldv,
                                const double *RdT, PetscBool first_order_terms, const PetscInt *rows, PetscInt nrows, double *HV,
                                PetscInt ldh);
/* After net_rop_forward on k directions: RT, the (k, B, K) tangents of the output. */
PetscErrorCode net_get_output_tangents(Net net, const double **RT);
#endif
/* The same passes in single precision (float32, for -hessian_precision
 * single): the same layers, run with SGEMM in float copies of the buffers (a
 * second set, about half the size of the double one, allocated by
 * net_setup_tangents_single). theta, V, grad, HV and RT are float; the inputs
 * x, the outputs and the loss derivatives dout and RdT stay double, converted
 * where they enter and leave the float buffers. Both precisions' passes count
 * in net_get_pass_count. */
PetscErrorCode net_setup_tangents_single(Net net, PetscInt kmax);
PetscErrorCode net_forward_single(Net net, const NnPass *p, const float *theta, const double *x, double *out);
PetscErrorCode net_backward_single(Net net, const NnPass *p, const float *theta, const double *dout, float *grad);
PetscErrorCode net_rop_forward_single(Net net, const NnPass *p, PetscInt k, const float *theta, const float *V, PetscInt ldv);
PetscErrorCode net_rop_backward_single(Net net, const NnPass *p, PetscInt k, const float *theta, const float *V, PetscInt ldv,
                                       const double *RdT, PetscBool first_order_terms, const PetscInt *rows, PetscInt nrows,
                                       float *HV, PetscInt ldh);
PetscErrorCode net_get_output_tangents_single(Net net, const float **RT);

/* A layer that holds parameters: its tensors in theta and their names and
 * shapes in files. */
typedef struct {
  char     name[64];     /* the layer's group in files, "L03_conv", or a model's parameter name ("layer1.0.conv1") */
  int      ndims;        /* the weight's PyTorch shape: dense (out, in), conv (OC, IC, KH, KW), scale (C) */
  PetscInt dims[4];
  PetscInt woff, nw;     /* weight: theta[woff .. woff+nw) */
  PetscInt boff, nbias;  /* bias: theta[boff .. boff+nbias); nbias = 0 without bias */
} NnParamGroup;

/* After net_setup: the number of parameter groups (layers with weights) and group g, 0 <= g < n. */
PetscErrorCode net_get_num_param_groups(Net net, PetscInt *n);
PetscErrorCode net_get_param_group(Net net, PetscInt g, NnParamGroup *pg);
/* After net_setup: N, the length of theta. */
PetscErrorCode net_get_size(Net net, PetscInt *N);
/* After net_setup: K, the outputs per sample. */
PetscErrorCode net_get_outputs(Net net, PetscInt *K);
/* After net_setup: an error naming `what` unless the n labels y fit the
 * net's loss and K (+-1 for a binary loss, integers 0..K-1 otherwise). */
PetscErrorCode net_check_labels(Net net, PetscInt n, const double *y, const char *what);
/* The largest batch (per call) the buffers hold. */
PetscErrorCode net_get_max_batch(Net net, PetscInt *Bmax);
/* The settings: layer string after preset expansion, and the preset ("" without); loss; initialisation and its seed; biases. */
PetscErrorCode net_get_spec(Net net, const char **spec, const char **preset);
PetscErrorCode net_get_loss(Net net, NnLoss *loss);
PetscErrorCode net_get_init(Net net, NnInit *init, PetscInt *seed);
PetscErrorCode net_get_bias(Net net, PetscBool *bias);
/* The settings without the options database, before net_setup (each is the
 * value of the option named; net_set_from_options may change them again):
 * the layer string (-net_layers, as given: no preset expanded, no
 * -net_outputs applied); the loss (-net_loss); biases (-net_bias); the
 * initialisation, its standard deviation for normal and its factor c for
 * scaled (-net_init, -net_init_std, -net_init_c); the memory of the im2col
 * workspace and of the conv layers' col caches, MB (-net_workspace_mb,
 * -net_colcache_mb). Logically collective on the net's communicator. */
PetscErrorCode net_set_spec(Net net, const char *spec);
PetscErrorCode net_set_loss(Net net, NnLoss loss);
PetscErrorCode net_set_bias(Net net, PetscBool bias);
PetscErrorCode net_set_init(Net net, NnInit init, PetscReal std, PetscReal c);
PetscErrorCode net_set_memory(Net net, PetscReal workspace_mb, PetscReal colcache_mb);
/* Appends what a restart must not change beyond the layer string, biases and
 * N (which the checkpoint's own check covers): the loss. */
PetscErrorCode net_get_settings(Net net, NnSettings *s);
/* Counts the passes: changes with every net_forward and net_backward, so a
 * caller that saw the same count after its own pass knows the net's buffers
 * still hold that pass. */
PetscErrorCode net_get_pass_count(Net net, unsigned long long *count);
/* theta <- the scaled initialisation (Sec. 5.2): weights N(0, c/fan_in), zero
 * biases, drawn with `seed`, whatever the net's -net_init. */
PetscErrorCode net_init_params_scaled(Net net, PetscReal c, PetscInt seed, double *theta);

/* Layer string parsing and presets (net_spec.c). */
PetscErrorCode net_spec_expand_preset(const char *preset, char *spec, size_t len);
/* The name of the k-th preset (k = 0, 1, ...) and what it is; NULL past the last. */
const char *net_preset_name(size_t k, const char **about);
/* The layer string's last item, a dense layer, gets K outputs (-net_outputs). */
PetscErrorCode net_spec_set_outputs(char *spec, size_t len, PetscInt K);

/* ------------------------------------------------------------------ loss -- */
/* Losses of K outputs per sample (src/net/loss.c has the formulas). Binary
 * losses (hinge, absolute, logistic, squared) take K = 1 and labels +-1;
 * multi-class ones (cross_entropy, multi_hinge) K >= 2 and labels 0..K-1. */
PetscBool loss_is_multiclass(NnLoss loss);
/* For n samples with outputs t (n, K) and labels y (n): l (n) the losses,
 * dl (n, K) = dl/dt, d2l (n, K) what loss_output_hessian needs (binary: l'';
 * cross_entropy: softmax(t); multi_hinge: 0); each output array may be NULL. */
void loss_eval(NnLoss loss, PetscInt n, PetscInt K, const double *t, const double *y, double *l, double *dl, double *d2l);
/* RdT_j = scale d2l/dt2 RT_j for k blocks of (n, K) output tangents, with d2l from loss_eval. */
void loss_output_hessian(NnLoss loss, PetscInt n, PetscInt K, const double *d2l, PetscInt k, const double *RT, double scale,
                         double *RdT);
/* The number of the n samples classified right: sign(t) = y (binary) or argmax t = y. */
double loss_correct(NnLoss loss, PetscInt n, PetscInt K, const double *t, const double *y);

#endif
