/* Operators with parameters or windows, translated to graph nodes:
 *   Conv                -> NN_NODE_CONV   Y = W * X + B, W (OC, C, KH, KW)
 *   Gemm                -> NN_NODE_DENSE  Y = alpha A B' + beta C (transB = 1: B is (out, in))
 *   MatMul [+ Add]      -> NN_NODE_DENSE  Y = X W (+ b), W (in, out) stored as (out, in)
 *   BatchNormalization  -> NN_NODE_BN     Y = gamma (X - mean) / sqrt(var + eps) + beta
 *   MaxPool             -> NN_NODE_MAXPOOL
 *   [Pad +] AveragePool -> NN_NODE_AVGPOOL
 * Parameters must be initializers; they are copied as doubles, in PyTorch's
 * layouts (include/nncas/graph.h). */
#include "onnx_impl.h"

#include <string.h>

/* Input i of node k is given (an optional input may be absent or ""). */
static PetscBool onnx_has_input(OnnxCtx *ctx, PetscInt k, PetscInt i)
{
  const Onnx__NodeProto *nd = ctx->graph->node[k];
  return (size_t)i < nd->n_input && onnx_str(nd->input[i])[0] ? PETSC_TRUE : PETSC_FALSE;
}

static const char *onnx_output0(OnnxCtx *ctx, PetscInt k)
{
  const Onnx__NodeProto *nd = ctx->graph->node[k];
  return nd->n_output ? onnx_str(nd->output[0]) : "";
}

/* Conv(X, W [, B]): groups 1, dilations 1, any kernel, strides and pads. */
PetscErrorCode onnx_op_conv(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides", NULL};
  const Onnx__TensorProto *w, *b = NULL;
  NnGraphNode              win = {0}, *nd;
  OnnxShape                out;
  PetscInt                 t;
  int64_t                  group;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  PetscCall(onnx_tensor_input(ctx, k, 0, &t));
  PetscCall(onnx_need_rank(ctx, k, &ctx->shape[t], 4));
  /* group: the channels split into this many independent convolutions */
  PetscCall(onnx_attr_int(ctx, k, "group", 1, &group));
  ONNX_CHECK(ctx, k, group == 1, PETSC_ERR_SUP, "attribute group = %lld is not supported (only 1)", (long long)group);
  PetscCall(onnx_initializer_input(ctx, k, 1, &w));
  ONNX_CHECK(ctx, k, w->n_dims == 4 && w->dims[0] > 0 && w->dims[1] > 0 && w->dims[2] > 0 && w->dims[3] > 0,
             PETSC_ERR_FILE_UNEXPECTED, "weight \"%s\" is not (OC, C, KH, KW)", onnx_str(w->name));
  ONNX_CHECK(ctx, k, w->dims[1] == ctx->shape[t].c, PETSC_ERR_FILE_UNEXPECTED,
             "weight \"%s\" takes %lld input channels, the input has %d", onnx_str(w->name), (long long)w->dims[1],
             (int)ctx->shape[t].c);
  if (onnx_has_input(ctx, k, 2)) PetscCall(onnx_initializer_input(ctx, k, 2, &b));
  PetscCall(onnx_window(ctx, k, (PetscInt)w->dims[2], (PetscInt)w->dims[3], &win));
  PetscCall(onnx_window_shape(ctx, k, &ctx->shape[t], &win, (PetscInt)w->dims[0], &out));
  PetscCall(onnx_emit(ctx, k, onnx_output0(ctx, k), NN_NODE_CONV, 1, &t, &out, &nd));
  PetscCall(PetscArraycpy(nd->kernel, win.kernel, 2));
  PetscCall(PetscArraycpy(nd->stride, win.stride, 2));
  PetscCall(PetscArraycpy(nd->pad, win.pad, 4));
  nd->out_channels = out.c;
  PetscCall(onnx_take_weight(ctx, k, w, nd));
  if (b) PetscCall(onnx_take_vector(ctx, k, b, out.c, &nd->bias, nd->bias_name));
  if (b) nd->nbias = out.c;
  PetscFunctionReturn(0);
}

/* The weight of a dense node from a 2-D initializer: (out, in) as it is, or
 * (in, out) transposed into (out, in); `in` must be the input's width. */
static PetscErrorCode onnx_dense_weight(OnnxCtx *ctx, PetscInt k, const Onnx__TensorProto *w, PetscBool in_out,
                                        PetscInt in, NnGraphNode *nd)
{
  double  *wt;
  PetscInt rows, cols;
  PetscFunctionBeginUser;
  ONNX_CHECK(ctx, k, w->n_dims == 2 && w->dims[0] > 0 && w->dims[1] > 0, PETSC_ERR_FILE_UNEXPECTED,
             "weight \"%s\" is not a matrix", onnx_str(w->name));
  ONNX_CHECK(ctx, k, w->dims[in_out ? 0 : 1] == in, PETSC_ERR_FILE_UNEXPECTED,
             "weight \"%s\" takes %lld inputs, the input has %d", onnx_str(w->name), (long long)w->dims[in_out ? 0 : 1],
             (int)in);
  PetscCall(onnx_take_weight(ctx, k, w, nd));
  nd->out_channels = (PetscInt)w->dims[in_out ? 1 : 0];
  if (!in_out) PetscFunctionReturn(0);
  rows = nd->weight_dims[0]; /* (in, out) -> (out, in): W'[o][i] = W[i][o] */
  cols = nd->weight_dims[1];
  PetscCall(PetscMalloc1(rows * cols, &wt));
  for (PetscInt i = 0; i < rows; i++)
    for (PetscInt o = 0; o < cols; o++) wt[o * rows + i] = nd->weight[i * cols + o];
  PetscCall(PetscFree(nd->weight));
  nd->weight         = wt;
  nd->weight_dims[0] = cols;
  nd->weight_dims[1] = rows;
  PetscFunctionReturn(0);
}

/* Gemm(A, B [, C]) = alpha A' B' + beta C with transA = 0, alpha = beta = 1. */
PetscErrorCode onnx_op_gemm(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {"alpha", "beta", "transA", "transB", NULL};
  const Onnx__TensorProto *w, *b = NULL;
  NnGraphNode             *nd;
  OnnxShape                out = {2, 0, 1, 1};
  PetscInt                 t;
  int64_t                  ta, tb;
  double                   alpha, beta;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  PetscCall(onnx_tensor_input(ctx, k, 0, &t));
  PetscCall(onnx_need_rank(ctx, k, &ctx->shape[t], 2));
  PetscCall(onnx_attr_real(ctx, k, "alpha", 1.0, &alpha, NULL)); /* alpha: scales A B */
  PetscCall(onnx_attr_real(ctx, k, "beta", 1.0, &beta, NULL));   /* beta: scales C */
  ONNX_CHECK(ctx, k, alpha == 1.0, PETSC_ERR_SUP, "attribute alpha = %g is not supported (only 1)", alpha);
  ONNX_CHECK(ctx, k, beta == 1.0, PETSC_ERR_SUP, "attribute beta = %g is not supported (only 1)", beta);
  PetscCall(onnx_attr_int(ctx, k, "transA", 0, &ta)); /* transA: A is transposed first */
  ONNX_CHECK(ctx, k, ta == 0, PETSC_ERR_SUP, "attribute transA = %lld is not supported (only 0)", (long long)ta);
  PetscCall(onnx_attr_int(ctx, k, "transB", 0, &tb)); /* transB = 1: B is (out, in), torch's Linear */
  ONNX_CHECK(ctx, k, tb == 0 || tb == 1, PETSC_ERR_FILE_UNEXPECTED, "attribute transB = %lld", (long long)tb);
  PetscCall(onnx_initializer_input(ctx, k, 1, &w));
  if (onnx_has_input(ctx, k, 2)) PetscCall(onnx_initializer_input(ctx, k, 2, &b));
  ONNX_CHECK(ctx, k, w->n_dims == 2 && w->dims[tb ? 0 : 1] > 0, PETSC_ERR_FILE_UNEXPECTED, "weight \"%s\" is not a matrix",
             onnx_str(w->name));
  out.c = (PetscInt)w->dims[tb ? 0 : 1];
  PetscCall(onnx_emit(ctx, k, onnx_output0(ctx, k), NN_NODE_DENSE, 1, &t, &out, &nd));
  PetscCall(onnx_dense_weight(ctx, k, w, tb ? PETSC_FALSE : PETSC_TRUE, ctx->shape[t].c, nd));
  if (b) PetscCall(onnx_take_vector(ctx, k, b, out.c, &nd->bias, nd->bias_name));
  if (b) nd->nbias = out.c;
  PetscFunctionReturn(0);
}

/* The Add that only adds a bias vector of length `out` to MatMul k's output, or -1. */
static PetscInt onnx_matmul_bias(OnnxCtx *ctx, PetscInt k, PetscInt out, const Onnx__TensorProto **b)
{
  const char            *o = onnx_output0(ctx, k);
  PetscInt               j = onnx_consumer(ctx, o);
  const Onnx__NodeProto *add;
  const OnnxValue       *v;
  if (!o[0] || onnx_uses(ctx, o) != 1 || j < 0 || ctx->fused[j]) return -1;
  add = ctx->graph->node[j];
  if (strcmp(onnx_op(add), "Add") || add->n_input != 2 || add->n_output != 1 || add->n_attribute) return -1;
  v = onnx_value_find(ctx, onnx_str(add->input[strcmp(onnx_str(add->input[0]), o) ? 0 : 1]));
  if (!v || v->kind != ONNX_VAL_CONST || v->tp->n_dims != 1 || v->tp->dims[0] != out) return -1;
  *b = v->tp;
  return j;
}

/* MatMul(X, W) with W an initializer (in, out), or Transpose of one (out, in);
 * an Add of a bias vector that alone takes its output is the node's bias. */
PetscErrorCode onnx_op_matmul(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {NULL};
  const Onnx__TensorProto *b = NULL, *wt;
  const OnnxValue         *w;
  NnGraphNode             *nd;
  OnnxShape                out = {2, 0, 1, 1};
  PetscInt                 t, j;
  PetscBool                in_out;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  PetscCall(onnx_tensor_input(ctx, k, 0, &t));
  PetscCall(onnx_need_rank(ctx, k, &ctx->shape[t], 2));
  PetscCall(onnx_input(ctx, k, 1, &w));
  ONNX_CHECK(ctx, k, (w->kind == ONNX_VAL_CONST || w->kind == ONNX_VAL_TRANSPOSED) && w->tp->n_dims == 2, PETSC_ERR_SUP,
             "input \"%s\" is not a 2-D initializer (nncas supports MatMul only by a weight)", w->name);
  in_out = w->kind == ONNX_VAL_CONST ? PETSC_TRUE : PETSC_FALSE; /* (in, out), else Transpose'd (out, in) */
  wt     = w->tp; /* w lives in the table of values, which emitting may move */
  out.c  = (PetscInt)wt->dims[in_out ? 1 : 0];
  j      = onnx_matmul_bias(ctx, k, out.c, &b);
  if (j >= 0) ctx->fused[j] = PETSC_TRUE;
  PetscCall(onnx_emit(ctx, k, onnx_output0(ctx, j >= 0 ? j : k), NN_NODE_DENSE, 1, &t, &out, &nd));
  PetscCall(onnx_dense_weight(ctx, k, wt, in_out, ctx->shape[t].c, nd));
  if (b) PetscCall(onnx_take_vector(ctx, k, b, out.c, &nd->bias, nd->bias_name));
  if (b) nd->nbias = out.c;
  PetscFunctionReturn(0);
}

/* BatchNormalization(X, scale, B, input_mean, input_var), inference form. */
PetscErrorCode onnx_op_batchnorm(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {"epsilon", "momentum", "training_mode", NULL};
  const Onnx__TensorProto *p[4];
  NnGraphNode             *nd;
  PetscInt                 t, c;
  double                   eps, momentum;
  int64_t                  training;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  PetscCall(onnx_tensor_input(ctx, k, 0, &t));
  for (PetscInt i = 0; i < 4; i++) PetscCall(onnx_initializer_input(ctx, k, i + 1, &p[i]));
  /* epsilon: added to the variance; momentum: the running statistics' update in training, ignored */
  PetscCall(onnx_attr_real(ctx, k, "epsilon", 1e-5, &eps, NULL));
  PetscCall(onnx_attr_real(ctx, k, "momentum", 0.9, &momentum, NULL));
  ONNX_CHECK(ctx, k, eps >= 0 && eps < 1, PETSC_ERR_FILE_UNEXPECTED, "attribute epsilon = %g", eps);
  /* training_mode (opset 14): 1 normalizes by the batch's statistics and updates the
   * running ones (outputs 2, 3); nncas reads the layer and its running statistics either way */
  PetscCall(onnx_attr_int(ctx, k, "training_mode", 0, &training));
  PetscCall(onnx_outputs_unused(ctx, k, 1));
  c = ctx->shape[t].c;
  PetscCall(onnx_emit(ctx, k, onnx_output0(ctx, k), NN_NODE_BN, 1, &t, &ctx->shape[t], &nd));
  nd->eps            = eps;
  nd->weight_ndims   = 1;
  nd->weight_dims[0] = c;
  PetscCall(onnx_take_vector(ctx, k, p[0], c, &nd->weight, nd->weight_name)); /* scale: gamma */
  PetscCall(onnx_take_vector(ctx, k, p[1], c, &nd->bias, nd->bias_name));     /* B: beta */
  nd->nbias = c;
  PetscCall(onnx_take_vector(ctx, k, p[2], c, &nd->mean, NULL));
  PetscCall(onnx_take_vector(ctx, k, p[3], c, &nd->var, NULL));
  PetscFunctionReturn(0);
}

/* Padding of a pool lies inside its kernel (ONNX asks pads smaller than the kernel). */
static PetscErrorCode onnx_pool_pads(OnnxCtx *ctx, PetscInt k, const NnGraphNode *w)
{
  PetscFunctionBeginUser;
  for (int j = 0; j < 4; j++)
    ONNX_CHECK(ctx, k, w->pad[j] < w->kernel[j % 2], PETSC_ERR_SUP,
               "pads [%d, %d, %d, %d] are not smaller than the kernel %dx%d", (int)w->pad[0], (int)w->pad[1],
               (int)w->pad[2], (int)w->pad[3], (int)w->kernel[0], (int)w->kernel[1]);
  PetscFunctionReturn(0);
}

/* Emits a pool of kind `kind` on tensor t with window w, named after node k. */
static PetscErrorCode onnx_pool_emit(OnnxCtx *ctx, PetscInt k, PetscInt t, const NnGraphNode *w, NnNodeKind kind,
                                     NnGraphNode **nd)
{
  OnnxShape out;
  PetscFunctionBeginUser;
  PetscCall(onnx_pool_pads(ctx, k, w));
  PetscCall(onnx_window_shape(ctx, k, &ctx->shape[t], w, ctx->shape[t].c, &out));
  PetscCall(onnx_emit(ctx, k, onnx_output0(ctx, k), kind, 1, &t, &out, nd));
  PetscCall(PetscArraycpy((*nd)->kernel, w->kernel, 2));
  PetscCall(PetscArraycpy((*nd)->stride, w->stride, 2));
  PetscCall(PetscArraycpy((*nd)->pad, w->pad, 4));
  PetscFunctionReturn(0);
}

/* MaxPool(X): the maximum over each window; padding never wins. */
PetscErrorCode onnx_op_maxpool(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order",
                                      "strides", NULL};
  NnGraphNode              win = {0}, *nd;
  PetscInt                 t;
  int64_t                  order;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  PetscCall(onnx_tensor_input(ctx, k, 0, &t));
  PetscCall(onnx_window(ctx, k, 0, 0, &win));
  /* storage_order: the layout of the Indices output (1: column major) */
  PetscCall(onnx_attr_int(ctx, k, "storage_order", 0, &order));
  ONNX_CHECK(ctx, k, order == 0, PETSC_ERR_SUP, "attribute storage_order = %lld is not supported (only 0)",
             (long long)order);
  PetscCall(onnx_outputs_unused(ctx, k, 1)); /* Indices: the argmax positions */
  PetscCall(onnx_pool_emit(ctx, k, t, &win, NN_NODE_MAXPOOL, &nd));
  PetscFunctionReturn(0);
}

/* AveragePool of node k on tensor t, after a Pad of `extra` zeros (top, left,
 * bottom, right; torch writes count_include_pad = True as Pad then AveragePool). */
static PetscErrorCode onnx_avgpool_on(OnnxCtx *ctx, PetscInt k, PetscInt t, const int64_t extra[4])
{
  static const char *const known[] = {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides",
                                      NULL};
  NnGraphNode              win = {0}, *nd;
  int64_t                  include;
  PetscBool                padded = PETSC_FALSE, own = PETSC_FALSE;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  PetscCall(onnx_window(ctx, k, 0, 0, &win));
  /* count_include_pad: 1 counts the padded zeros in each window's mean, 0 divides by the input cells only */
  PetscCall(onnx_attr_int(ctx, k, "count_include_pad", 0, &include));
  for (int j = 0; j < 4; j++) padded = padded || extra[j] ? PETSC_TRUE : PETSC_FALSE;
  for (int j = 0; j < 4; j++) own = own || win.pad[j] ? PETSC_TRUE : PETSC_FALSE;
  ONNX_CHECK(ctx, k, !padded || !own || include, PETSC_ERR_SUP,
             "a Pad before an AveragePool with its own pads and count_include_pad = 0 is not supported");
  for (int j = 0; j < 4; j++) win.pad[j] += (PetscInt)extra[j];
  PetscCall(onnx_pool_emit(ctx, k, t, &win, NN_NODE_AVGPOOL, &nd));
  nd->count_include_pad = include || padded ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* AveragePool(X): the mean over each window. */
PetscErrorCode onnx_op_avgpool(OnnxCtx *ctx, PetscInt k)
{
  static const int64_t none[4] = {0, 0, 0, 0};
  PetscInt             t;
  PetscFunctionBeginUser;
  PetscCall(onnx_tensor_input(ctx, k, 0, &t));
  PetscCall(onnx_avgpool_on(ctx, k, t, none));
  PetscFunctionReturn(0);
}

/* Pad(X, pads [, constant_value]) of zeros around H and W, taken by an
 * AveragePool alone: that pool's padding. pads is (N, C, H, W begins, then ends). */
PetscErrorCode onnx_op_pad(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {"mode", NULL};
  const OnnxValue         *v;
  const char              *o = onnx_output0(ctx, k);
  int64_t                 *p = NULL, extra[4];
  PetscInt                 t, n, j;
  PetscBool                ok;
  double                   fill = 0;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  /* mode: constant (a fill value), reflect, edge or wrap */
  PetscCall(onnx_attr_string_is(ctx, k, "mode", "constant"));
  PetscCall(onnx_tensor_input(ctx, k, 0, &t));
  PetscCall(onnx_need_rank(ctx, k, &ctx->shape[t], 4));
  PetscCall(onnx_input(ctx, k, 1, &v));
  PetscCall(onnx_value_ints(ctx, k, v, &n, &p));
  ok = n == 8 && !p[0] && !p[1] && !p[4] && !p[5] && p[2] >= 0 && p[3] >= 0 && p[6] >= 0 && p[7] >= 0 && p[2] <= 4096 &&
       p[3] <= 4096 && p[6] <= 4096 && p[7] <= 4096;
  if (ok) extra[0] = p[2], extra[1] = p[3], extra[2] = p[6], extra[3] = p[7];
  PetscCall(PetscFree(p));
  ONNX_CHECK(ctx, k, ok, PETSC_ERR_SUP, "only zeros added around H and W are supported");
  if (onnx_has_input(ctx, k, 2)) PetscCall(onnx_input(ctx, k, 2, &v));
  if (onnx_has_input(ctx, k, 2)) PetscCall(onnx_value_real(ctx, k, v, &fill));
  ONNX_CHECK(ctx, k, fill == 0, PETSC_ERR_SUP, "constant_value = %g is not supported (only 0)", fill);
  j = o[0] && onnx_uses(ctx, o) == 1 ? onnx_consumer(ctx, o) : -1;
  ONNX_CHECK(ctx, k, j >= 0 && !ctx->fused[j] && !strcmp(onnx_op(ctx->graph->node[j]), "AveragePool") &&
                       ctx->graph->node[j]->n_input == 1,
             PETSC_ERR_SUP, "a Pad is supported only as the padding of the one AveragePool that takes its output");
  ctx->fused[j] = PETSC_TRUE;
  PetscCall(onnx_avgpool_on(ctx, j, t, extra));
  PetscFunctionReturn(0);
}
