/* The ONNX reader's private header (src/import). The files, lowest first:
 *   onnx_util.c    errors naming the node, attributes, the table of named
 *                  values, and the emission of a graph node;
 *   onnx_tensor.c  initializers' data (typed fields or little-endian raw_data)
 *                  as doubles or integers, and the parameters of a node;
 *   onnx_consts.c  the operators that compute constants only: Constant, and
 *                  the integer shape subgraphs torch writes for x.view(x.size(0), -1)
 *                  (Shape, Gather, Unsqueeze, Concat), Transpose of a weight;
 *   onnx_shapes.c  shape inference and checks: windows of convolutions and
 *                  pools, Reshape to (batch, F), equal shapes of an Add;
 *   onnx_layers.c  operators with parameters or windows: Conv, Gemm, MatMul
 *                  (with its Add as bias), BatchNormalization, pools, Pad;
 *   onnx_nodes.c   the others: activations (Sigmoid and Mul as SiLU), Add,
 *                  Flatten, Reshape, Dropout, Identity, and refusals;
 *   onnx_read.c    the file, the model's checks (opset, inputs, outputs,
 *                  initializers), the dispatch over nodes, nn_onnx_read.
 * The generated onnx.pb-c.h (protoc-c on Debian's onnx.proto, build tree) is
 * never edited. */
#ifndef NNCAS_ONNX_IMPL_H
#define NNCAS_ONNX_IMPL_H

#include "nncas/graph.h"

#include "onnx.pb-c.h"

/* The batch size inside an evaluated shape (Shape of a tensor): not known
 * until run time, and the only thing nncas allows in front of a Reshape's F. */
#define ONNX_BATCH INT64_MIN
/* The most values per sample a tensor may hold (2^28): beyond, a file is refused. */
#define ONNX_MAX_WIDTH (1 << 28)

typedef enum {
  ONNX_VAL_TENSOR,     /* computed from the graph's input: tensor number t */
  ONNX_VAL_CONST,      /* an initializer or a Constant node's tensor: tp */
  ONNX_VAL_INTS,       /* integers computed here (shape subgraphs): ints */
  ONNX_VAL_REAL,       /* a real scalar (Constant value_float): real */
  ONNX_VAL_TRANSPOSED  /* Transpose(perm = [1, 0]) of a 2-D initializer tp */
} OnnxValKind;

typedef struct {
  const char              *name; /* points into the unpacked model */
  OnnxValKind              kind;
  PetscInt                 t;
  const Onnx__TensorProto *tp;
  PetscInt                 nints;
  int64_t                 *ints;   /* owned; ONNX_BATCH for the batch size */
  PetscBool                scalar; /* ONNX_VAL_INTS: rank 0 rather than 1 */
  double                   real;
} OnnxValue;

/* A tensor's shape per sample: rank 4 (N, c, h, w), or rank 2 (N, c) with h = w = 1. */
typedef struct {
  PetscInt rank, c, h, w;
} OnnxShape;

typedef struct {
  MPI_Comm          comm;
  const char       *path;
  Onnx__ModelProto *model;
  Onnx__GraphProto *graph;
  int64_t           opset;
  int64_t           batch;  /* the input's batch dimension when the file fixes it, else 0 */
  OnnxValue        *val;    /* in order of definition; a later one hides an earlier one */
  PetscInt          nval, maxval;
  OnnxShape        *shape;  /* per tensor number */
  PetscBool        *fused;  /* per ONNX node: already translated with an earlier node */
  NnGraph          *g;
} OnnxCtx;

/* ---- onnx_util.c ---- */
const char    *onnx_str(const char *s);                 /* s, or "" for an absent string */
const char    *onnx_op(const Onnx__NodeProto *n);       /* op_type, "" if absent */
PetscErrorCode onnx_node_error(OnnxCtx *ctx, PetscInt k, PetscErrorCode code, const char *fmt, ...)
  PETSC_ATTRIBUTE_FORMAT(4, 5);
/* Fails with `path: node "name" (Op): <message>` unless cond holds. */
#define ONNX_CHECK(ctx, k, cond, code, ...)                                                                            \
  do {                                                                                                                 \
    if (PetscUnlikely(!(cond))) PetscCall(onnx_node_error(ctx, k, code, __VA_ARGS__));                                 \
  } while (0)
/* "name" of node k, or "<op>_<k>" when it has none, into buf. */
void onnx_node_name(OnnxCtx *ctx, PetscInt k, char *buf, size_t len);

/* Attributes: an error names the node and the attribute; a missing one takes def. */
PetscErrorCode onnx_attrs_known(OnnxCtx *ctx, PetscInt k, const char *const known[]);
PetscErrorCode onnx_attr_int(OnnxCtx *ctx, PetscInt k, const char *name, int64_t def, int64_t *v);
PetscErrorCode onnx_attr_real(OnnxCtx *ctx, PetscInt k, const char *name, double def, double *v, PetscBool *set);
PetscErrorCode onnx_attr_ints(OnnxCtx *ctx, PetscInt k, const char *name, PetscInt n, int64_t def, int64_t *v,
                              PetscBool *set);
PetscErrorCode onnx_attr_string_is(OnnxCtx *ctx, PetscInt k, const char *name, const char *only);
const Onnx__AttributeProto *onnx_attr_find(OnnxCtx *ctx, PetscInt k, const char *name);

/* The table of values. */
PetscErrorCode   onnx_value_define(OnnxCtx *ctx, const OnnxValue *v);
const OnnxValue *onnx_value_find(OnnxCtx *ctx, const char *name);
PetscInt         onnx_uses(OnnxCtx *ctx, const char *name);
PetscInt         onnx_consumer(OnnxCtx *ctx, const char *name);
PetscErrorCode   onnx_input(OnnxCtx *ctx, PetscInt k, PetscInt i, const OnnxValue **v);
PetscErrorCode   onnx_tensor_input(OnnxCtx *ctx, PetscInt k, PetscInt i, PetscInt *t);
PetscErrorCode   onnx_initializer_input(OnnxCtx *ctx, PetscInt k, PetscInt i, const Onnx__TensorProto **tp);
PetscErrorCode   onnx_outputs_unused(OnnxCtx *ctx, PetscInt k, PetscInt from);

/* ---- onnx_tensor.c ---- */
/* An initializer's data: "where" names it in errors. */
PetscErrorCode onnx_tensor_count(OnnxCtx *ctx, const char *where, const Onnx__TensorProto *tp, PetscInt *n);
PetscErrorCode onnx_tensor_doubles(OnnxCtx *ctx, const char *where, const Onnx__TensorProto *tp, PetscInt *n,
                                   double **v);
PetscErrorCode onnx_tensor_ints(OnnxCtx *ctx, const char *where, const Onnx__TensorProto *tp, PetscInt *n,
                                int64_t **v);
PetscErrorCode onnx_value_ints(OnnxCtx *ctx, PetscInt k, const OnnxValue *v, PetscInt *n, int64_t **ints);
PetscErrorCode onnx_value_real(OnnxCtx *ctx, PetscInt k, const OnnxValue *v, double *x);
PetscErrorCode onnx_initializer_check(OnnxCtx *ctx, const Onnx__TensorProto *tp);

/* Appends a graph node of this kind named after ONNX node name_k, whose output
 * is the value out_name of shape s; *node is the new node (inputs to fill by
 * the caller through in[]). */
PetscErrorCode onnx_emit(OnnxCtx *ctx, PetscInt name_k, const char *out_name, NnNodeKind kind, PetscInt nin,
                         const PetscInt in[], const OnnxShape *s, NnGraphNode **node);
/* The weight of a node: count values of tp as doubles, named after it. */
PetscErrorCode onnx_take_weight(OnnxCtx *ctx, PetscInt k, const Onnx__TensorProto *tp, NnGraphNode *node);
PetscErrorCode onnx_take_vector(OnnxCtx *ctx, PetscInt k, const Onnx__TensorProto *tp, PetscInt n, double **v,
                                char *name);

/* ---- onnx_consts.c ---- */
PetscErrorCode onnx_op_constant(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_shape(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_gather(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_unsqueeze(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_concat(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_transpose(OnnxCtx *ctx, PetscInt k);

/* ---- onnx_shapes.c ---- */
/* Window attributes of Conv, MaxPool, AveragePool into node (kernel from the
 * weight when kh > 0, else from kernel_shape). */
PetscErrorCode onnx_window(OnnxCtx *ctx, PetscInt k, PetscInt kh, PetscInt kw, NnGraphNode *node);
/* out <- the window's output shape on in (C channels out), checked. */
PetscErrorCode onnx_window_shape(OnnxCtx *ctx, PetscInt k, const OnnxShape *in, const NnGraphNode *node, PetscInt c,
                                 OnnxShape *out);
PetscErrorCode onnx_need_rank(OnnxCtx *ctx, PetscInt k, const OnnxShape *s, PetscInt rank);
PetscErrorCode onnx_same_shape(OnnxCtx *ctx, PetscInt k, const OnnxShape *a, const OnnxShape *b);
/* Checks that the Reshape target `shape` (n values) makes (batch, F) of in. */
PetscErrorCode onnx_reshape_flattens(OnnxCtx *ctx, PetscInt k, const OnnxShape *in, PetscInt n, const int64_t *shape,
                                     int64_t allowzero);
PetscInt       onnx_width(const OnnxShape *s); /* c h w */

/* ---- onnx_layers.c ---- */
PetscErrorCode onnx_op_conv(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_gemm(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_matmul(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_batchnorm(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_maxpool(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_avgpool(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_pad(OnnxCtx *ctx, PetscInt k);

/* ---- onnx_nodes.c ---- */
PetscErrorCode onnx_op_relu(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_tanh(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_sigmoid(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_mul(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_add(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_globalavgpool(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_flatten(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_reshape(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_dropout(OnnxCtx *ctx, PetscInt k);
PetscErrorCode onnx_op_identity(OnnxCtx *ctx, PetscInt k);

#endif
