/* Operators without parameters, translated to graph nodes:
 *   Relu, Tanh, Sigmoid  -> NN_NODE_RELU, _TANH, _SIGMOID (elementwise)
 *   Sigmoid + Mul        -> NN_NODE_SILU    x * sigmoid(x), torch's nn.SiLU at opsets 13-17
 *   Add                  -> NN_NODE_ADD     two tensors of one shape (residual connections)
 *   GlobalAveragePool    -> NN_NODE_GLOBALAVGPOOL  (C, H, W) -> (C, 1, 1)
 *   Flatten, Reshape     -> NN_NODE_FLATTEN (C, H, W) -> (C H W), only to (batch, F)
 *   Dropout              -> NN_NODE_DROPOUT with its ratio
 *   Identity             -> nothing: its consumers take its input. */
#include "onnx_impl.h"

#include <string.h>

static const char *onnx_output0(OnnxCtx *ctx, PetscInt k)
{
  const Onnx__NodeProto *nd = ctx->graph->node[k];
  return nd->n_output ? onnx_str(nd->output[0]) : "";
}

/* An elementwise node of this kind on input 0. */
static PetscErrorCode onnx_pointwise(OnnxCtx *ctx, PetscInt k, NnNodeKind kind)
{
  static const char *const known[] = {NULL};
  NnGraphNode             *nd;
  PetscInt                 t;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  PetscCall(onnx_tensor_input(ctx, k, 0, &t));
  PetscCall(onnx_emit(ctx, k, onnx_output0(ctx, k), kind, 1, &t, &ctx->shape[t], &nd));
  PetscFunctionReturn(0);
}

PetscErrorCode onnx_op_relu(OnnxCtx *ctx, PetscInt k) { return onnx_pointwise(ctx, k, NN_NODE_RELU); }
PetscErrorCode onnx_op_tanh(OnnxCtx *ctx, PetscInt k) { return onnx_pointwise(ctx, k, NN_NODE_TANH); }

/* The Mul that alone takes Sigmoid k's output s and multiplies it by the
 * Sigmoid's own input (tensor t), in either order; or -1. */
static PetscInt onnx_silu_mul(OnnxCtx *ctx, PetscInt k, PetscInt t)
{
  const char            *s = onnx_output0(ctx, k);
  PetscInt               j = s[0] && onnx_uses(ctx, s) == 1 ? onnx_consumer(ctx, s) : -1;
  const Onnx__NodeProto *mul;
  const OnnxValue       *x;
  if (j < 0 || ctx->fused[j]) return -1;
  mul = ctx->graph->node[j];
  if (strcmp(onnx_op(mul), "Mul") || mul->n_input != 2 || mul->n_attribute) return -1;
  x = onnx_value_find(ctx, onnx_str(mul->input[strcmp(onnx_str(mul->input[0]), s) ? 0 : 1]));
  return x && x->kind == ONNX_VAL_TENSOR && x->t == t ? j : -1;
}

/* Sigmoid(x); with Mul(x, Sigmoid(x)) after it, the two are one SiLU node
 * named after the Mul. */
PetscErrorCode onnx_op_sigmoid(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {NULL};
  NnGraphNode             *nd;
  PetscInt                 t, j;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  PetscCall(onnx_tensor_input(ctx, k, 0, &t));
  j = onnx_silu_mul(ctx, k, t);
  if (j < 0) {
    PetscCall(onnx_emit(ctx, k, onnx_output0(ctx, k), NN_NODE_SIGMOID, 1, &t, &ctx->shape[t], &nd));
    PetscFunctionReturn(0);
  }
  ctx->fused[j] = PETSC_TRUE;
  PetscCall(onnx_emit(ctx, j, onnx_output0(ctx, j), NN_NODE_SILU, 1, &t, &ctx->shape[t], &nd));
  PetscFunctionReturn(0);
}

/* A Mul not taken by a Sigmoid before it. */
PetscErrorCode onnx_op_mul(OnnxCtx *ctx, PetscInt k)
{
  PetscFunctionBeginUser;
  PetscCall(onnx_node_error(ctx, k, PETSC_ERR_SUP, "operator Mul is supported only as x * Sigmoid(x) (SiLU)"));
  PetscFunctionReturn(0);
}

/* Add(a, b) of two tensors of one shape (a constant b is a MatMul's bias, taken there). */
PetscErrorCode onnx_op_add(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {NULL};
  const OnnxValue         *v[2];
  NnGraphNode             *nd;
  PetscInt                 t[2];
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  for (PetscInt i = 0; i < 2; i++) {
    PetscCall(onnx_input(ctx, k, i, &v[i]));
    ONNX_CHECK(ctx, k, v[i]->kind == ONNX_VAL_TENSOR, PETSC_ERR_SUP,
               "adding the constant \"%s\" is not supported (only two tensors, or a bias right after a MatMul)",
               v[i]->name);
    t[i] = v[i]->t;
  }
  ONNX_CHECK(ctx, k, ctx->graph->node[k]->n_input == 2, PETSC_ERR_FILE_UNEXPECTED, "an Add takes two inputs");
  PetscCall(onnx_same_shape(ctx, k, &ctx->shape[t[0]], &ctx->shape[t[1]]));
  PetscCall(onnx_emit(ctx, k, onnx_output0(ctx, k), NN_NODE_ADD, 2, t, &ctx->shape[t[0]], &nd));
  PetscFunctionReturn(0);
}

/* GlobalAveragePool(X): the mean over H and W, (C, H, W) -> (C, 1, 1). */
PetscErrorCode onnx_op_globalavgpool(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {NULL};
  NnGraphNode             *nd;
  OnnxShape                out;
  PetscInt                 t;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  PetscCall(onnx_tensor_input(ctx, k, 0, &t));
  PetscCall(onnx_need_rank(ctx, k, &ctx->shape[t], 4));
  out   = ctx->shape[t];
  out.h = out.w = 1;
  PetscCall(onnx_emit(ctx, k, onnx_output0(ctx, k), NN_NODE_GLOBALAVGPOOL, 1, &t, &out, &nd));
  PetscFunctionReturn(0);
}

/* The flatten of tensor t to (batch, F), named after node k. */
static PetscErrorCode onnx_flatten_emit(OnnxCtx *ctx, PetscInt k, PetscInt t)
{
  NnGraphNode *nd;
  OnnxShape    out = {2, 0, 1, 1};
  PetscFunctionBeginUser;
  out.c = onnx_width(&ctx->shape[t]);
  PetscCall(onnx_emit(ctx, k, onnx_output0(ctx, k), NN_NODE_FLATTEN, 1, &t, &out, &nd));
  PetscFunctionReturn(0);
}

/* Flatten(X), axis 1: (N, d1, d2, ...) -> (N, d1 d2 ...). */
PetscErrorCode onnx_op_flatten(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {"axis", NULL};
  PetscInt                 t;
  int64_t                  axis;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  PetscCall(onnx_tensor_input(ctx, k, 0, &t));
  /* axis: the dimensions before it make the rows, those from it on the columns */
  PetscCall(onnx_attr_int(ctx, k, "axis", 1, &axis));
  ONNX_CHECK(ctx, k, axis == 1, PETSC_ERR_SUP, "attribute axis = %lld is not supported (only 1)", (long long)axis);
  PetscCall(onnx_flatten_emit(ctx, k, t));
  PetscFunctionReturn(0);
}

/* Reshape(X, shape) where shape makes (batch, F): a flatten. */
PetscErrorCode onnx_op_reshape(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {"allowzero", NULL};
  const OnnxValue         *v;
  PetscInt                 t, n;
  int64_t                  allowzero, *shape = NULL;
  PetscErrorCode           ierr;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  PetscCall(onnx_tensor_input(ctx, k, 0, &t));
  /* allowzero (opset 14): 1 makes a 0 in shape a zero dimension rather than a copy of the input's */
  PetscCall(onnx_attr_int(ctx, k, "allowzero", 0, &allowzero));
  PetscCall(onnx_input(ctx, k, 1, &v));
  PetscCall(onnx_value_ints(ctx, k, v, &n, &shape));
  ierr = onnx_reshape_flattens(ctx, k, &ctx->shape[t], n, shape, allowzero);
  PetscCall(PetscFree(shape));
  PetscCall(ierr);
  PetscCall(onnx_flatten_emit(ctx, k, t));
  PetscFunctionReturn(0);
}

/* Dropout(X [, ratio [, training_mode]]): zeroes a fraction `ratio` in training. */
PetscErrorCode onnx_op_dropout(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {"seed", "ratio", NULL};
  const Onnx__NodeProto   *n       = ctx->graph->node[k];
  const OnnxValue         *v;
  NnGraphNode             *nd;
  PetscInt                 t;
  double                   ratio;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  PetscCall(onnx_tensor_input(ctx, k, 0, &t));
  /* ratio: an input since opset 12 (an attribute before); default 0.5. seed: ignored */
  PetscCall(onnx_attr_real(ctx, k, "ratio", 0.5, &ratio, NULL));
  if (n->n_input > 1 && onnx_str(n->input[1])[0]) {
    PetscCall(onnx_input(ctx, k, 1, &v));
    PetscCall(onnx_value_real(ctx, k, v, &ratio));
  }
  ONNX_CHECK(ctx, k, ratio >= 0 && ratio < 1, PETSC_ERR_FILE_UNEXPECTED, "ratio %g is not in [0, 1)", ratio);
  PetscCall(onnx_outputs_unused(ctx, k, 1)); /* mask */
  PetscCall(onnx_emit(ctx, k, onnx_output0(ctx, k), NN_NODE_DROPOUT, 1, &t, &ctx->shape[t], &nd));
  nd->ratio = ratio;
  PetscFunctionReturn(0);
}

/* Identity(X): its output is another name of its input. */
PetscErrorCode onnx_op_identity(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {NULL};
  const OnnxValue         *v;
  OnnxValue                alias;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  PetscCall(onnx_input(ctx, k, 0, &v));
  alias      = *v;
  alias.name = onnx_output0(ctx, k);
  alias.ints = NULL; /* owned by the original */
  alias.nints = 0;
  ONNX_CHECK(ctx, k, alias.name[0], PETSC_ERR_FILE_UNEXPECTED, "the node has no output");
  ONNX_CHECK(ctx, k, v->kind != ONNX_VAL_INTS, PETSC_ERR_SUP, "Identity of computed integers is not supported");
  PetscCall(onnx_value_define(ctx, &alias));
  PetscFunctionReturn(0);
}
