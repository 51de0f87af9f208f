/* Operators that compute constants only, evaluated while reading and never
 * nodes of the graph:
 *   Constant                   a tensor (value) or integers (value_int, value_ints)
 *                              or a real (value_float);
 *   Shape, Gather, Unsqueeze,  the integer subgraph torch writes for
 *   Concat                     x.view(x.size(0), -1) without constant folding:
 *                              Shape(x) = [N, C, H, W] with N the batch size
 *                              (ONNX_BATCH, unknown until run time), Gather
 *                              picks entries, Unsqueeze makes a scalar a
 *                              1-vector, Concat joins 1-vectors;
 *   Transpose                  of a 2-D weight (torch's Linear without bias on
 *                              a matrix is MatMul(x, Transpose(W))). */
#include "onnx_impl.h"

/* Defines node k's first output as the n integers ints (taken over). */
static PetscErrorCode onnx_define_ints(OnnxCtx *ctx, PetscInt k, PetscInt n, int64_t *ints, PetscBool scalar)
{
  const Onnx__NodeProto *nd = ctx->graph->node[k];
  OnnxValue              v  = {0};
  PetscFunctionBeginUser;
  v.kind   = ONNX_VAL_INTS;
  v.nints  = n;
  v.ints   = ints;
  v.scalar = scalar;
  v.name   = nd->n_output ? onnx_str(nd->output[0]) : "";
  if (!v.name[0]) PetscCall(PetscFree(ints));
  ONNX_CHECK(ctx, k, v.name[0], PETSC_ERR_FILE_UNEXPECTED, "the node has no output");
  PetscCall(onnx_value_define(ctx, &v));
  PetscFunctionReturn(0);
}

/* Input i of node k as integers; *scalar: it is of rank 0. */
static PetscErrorCode onnx_input_ints(OnnxCtx *ctx, PetscInt k, PetscInt i, PetscInt *n, int64_t **ints,
                                      PetscBool *scalar)
{
  const OnnxValue *v;
  PetscFunctionBeginUser;
  PetscCall(onnx_input(ctx, k, i, &v));
  PetscCall(onnx_value_ints(ctx, k, v, n, ints));
  *scalar = v->kind == ONNX_VAL_INTS ? v->scalar : (v->tp->n_dims == 0 ? PETSC_TRUE : PETSC_FALSE);
  PetscFunctionReturn(0);
}

/* Constant: its value, under its output's name. */
PetscErrorCode onnx_op_constant(OnnxCtx *ctx, PetscInt k)
{
  static const char *const     known[] = {"value", "value_int", "value_ints", "value_float", NULL};
  const Onnx__NodeProto       *nd      = ctx->graph->node[k];
  const Onnx__AttributeProto  *a;
  OnnxValue                    v = {0};
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  ONNX_CHECK(ctx, k, nd->n_attribute == 1 && nd->n_output == 1 && onnx_str(nd->output[0])[0],
             PETSC_ERR_FILE_UNEXPECTED, "a Constant needs one value and one output");
  a = nd->attribute[0];
  if (a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT || a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS) {
    PetscBool one = a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT ? PETSC_TRUE : PETSC_FALSE;
    PetscInt  n   = one ? 1 : (PetscInt)a->n_ints;
    int64_t  *ints;
    PetscCall(PetscMalloc1(n + 1, &ints));
    for (PetscInt j = 0; j < n; j++) ints[j] = one ? a->i : a->ints[j];
    PetscCall(onnx_define_ints(ctx, k, n, ints, one));
    PetscFunctionReturn(0);
  }
  v.name = onnx_str(nd->output[0]);
  if (a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT) {
    v.kind = ONNX_VAL_REAL;
    v.real = (double)a->f;
  } else {
    ONNX_CHECK(ctx, k, a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR && a->t, PETSC_ERR_FILE_UNEXPECTED,
               "attribute %s holds no value of its kind", onnx_str(a->name));
    ONNX_CHECK(ctx, k, !(a->t->has_data_location && a->t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL),
               PETSC_ERR_SUP, "its value is in an external file; nncas reads only self-contained models");
    v.kind = ONNX_VAL_CONST;
    v.tp   = a->t;
  }
  PetscCall(onnx_value_define(ctx, &v));
  PetscFunctionReturn(0);
}

/* Shape(x) = [N, C, H, W] or [N, F], N being the batch size. */
PetscErrorCode onnx_op_shape(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {NULL}; /* start, end (opset 15): not supported */
  PetscInt                 t;
  int64_t                 *ints;
  const OnnxShape         *s;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  PetscCall(onnx_tensor_input(ctx, k, 0, &t));
  s = &ctx->shape[t];
  PetscCall(PetscMalloc1(4, &ints));
  ints[0] = ONNX_BATCH;
  ints[1] = s->c;
  ints[2] = s->h;
  ints[3] = s->w;
  PetscCall(onnx_define_ints(ctx, k, s->rank, ints, PETSC_FALSE));
  PetscFunctionReturn(0);
}

/* Gather(data, indices), axis 0: data[indices] (a negative index counts from the end). */
PetscErrorCode onnx_op_gather(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {"axis", NULL};
  int64_t                  axis, *data = NULL, *idx = NULL;
  PetscInt                 n, m;
  PetscBool                s0, s1;
  PetscErrorCode           ierr = 0;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  /* axis: the dimension of data that indices select along */
  PetscCall(onnx_attr_int(ctx, k, "axis", 0, &axis));
  ONNX_CHECK(ctx, k, axis == 0, PETSC_ERR_SUP, "attribute axis = %lld is not supported (only 0)", (long long)axis);
  PetscCall(onnx_input_ints(ctx, k, 0, &n, &data, &s0));
  ierr = onnx_input_ints(ctx, k, 1, &m, &idx, &s1);
  for (PetscInt j = 0; !ierr && j < m; j++) {
    if (idx[j] < 0 && idx[j] >= -(int64_t)n) idx[j] += n;
    if (idx[j] < 0 || idx[j] >= n || s0) ierr = onnx_node_error(ctx, k, PETSC_ERR_FILE_UNEXPECTED, "index %lld is out of range", (long long)idx[j]);
    else idx[j] = data[idx[j]];
  }
  PetscCall(PetscFree(data));
  if (ierr) PetscCall(PetscFree(idx));
  PetscCall(ierr);
  PetscCall(onnx_define_ints(ctx, k, m, idx, s1));
  PetscFunctionReturn(0);
}

/* Unsqueeze(data, axes = [0]) of a scalar: the 1-vector [data]. */
PetscErrorCode onnx_op_unsqueeze(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {NULL}; /* axes is an input since opset 13 */
  int64_t                 *data = NULL, *axes = NULL;
  PetscInt                 n, m;
  PetscBool                s0, s1;
  PetscErrorCode           ierr;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  PetscCall(onnx_input_ints(ctx, k, 0, &n, &data, &s0));
  ierr = onnx_input_ints(ctx, k, 1, &m, &axes, &s1);
  if (!ierr && !(s0 && m == 1 && (axes[0] == 0 || axes[0] == -1)))
    ierr = onnx_node_error(ctx, k, PETSC_ERR_SUP, "only a scalar unsqueezed along axis 0 is supported");
  PetscCall(PetscFree(axes));
  if (ierr) PetscCall(PetscFree(data));
  PetscCall(ierr);
  PetscCall(onnx_define_ints(ctx, k, 1, data, PETSC_FALSE));
  PetscFunctionReturn(0);
}

/* Concat(a, b, ...), axis 0, of integer 1-vectors. */
PetscErrorCode onnx_op_concat(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {"axis", NULL};
  const Onnx__NodeProto   *nd      = ctx->graph->node[k];
  int64_t                  axis, *all = NULL, *part = NULL;
  PetscInt                 n = 0, m;
  PetscBool                s;
  PetscErrorCode           ierr = 0;
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  /* axis: the dimension joined along */
  PetscCall(onnx_attr_int(ctx, k, "axis", 1, &axis));
  ONNX_CHECK(ctx, k, axis == 0 || axis == -1, PETSC_ERR_SUP, "attribute axis = %lld is not supported (only 0)",
             (long long)axis);
  ONNX_CHECK(ctx, k, nd->n_input >= 1 && nd->n_input <= 64, PETSC_ERR_SUP, "%zu inputs", nd->n_input);
  PetscCall(PetscMalloc1(64 * 8 + 1, &all));
  for (size_t i = 0; !ierr && i < nd->n_input; i++) {
    ierr = onnx_input_ints(ctx, k, (PetscInt)i, &m, &part, &s);
    if (!ierr && (s || m > 8)) ierr = onnx_node_error(ctx, k, PETSC_ERR_SUP, "input %zu is not a short integer vector", i);
    for (PetscInt j = 0; !ierr && j < m; j++) all[n++] = part[j];
    PetscErrorCode freed = PetscFree(part);
    if (!ierr) ierr = freed;
  }
  if (ierr) PetscCall(PetscFree(all));
  PetscCall(ierr);
  PetscCall(onnx_define_ints(ctx, k, n, all, PETSC_FALSE));
  PetscFunctionReturn(0);
}

/* Transpose(W), perm = [1, 0], of a 2-D initializer: MatMul's weight as (out, in). */
PetscErrorCode onnx_op_transpose(OnnxCtx *ctx, PetscInt k)
{
  static const char *const known[] = {"perm", NULL};
  const Onnx__NodeProto   *nd      = ctx->graph->node[k];
  const Onnx__TensorProto *tp;
  int64_t                  perm[2];
  OnnxValue                v = {0};
  PetscFunctionBeginUser;
  PetscCall(onnx_attrs_known(ctx, k, known));
  PetscCall(onnx_initializer_input(ctx, k, 0, &tp));
  ONNX_CHECK(ctx, k, tp->n_dims == 2, PETSC_ERR_SUP, "only the transpose of a 2-D weight is supported");
  /* perm: the input dimension each output dimension takes; default reversed */
  PetscCall(onnx_attr_ints(ctx, k, "perm", 2, 0, perm, NULL));
  ONNX_CHECK(ctx, k, (perm[0] == 0 && perm[1] == 0) || (perm[0] == 1 && perm[1] == 0), PETSC_ERR_SUP,
             "attribute perm = [%lld, %lld] is not supported (only [1, 0])", (long long)perm[0], (long long)perm[1]);
  ONNX_CHECK(ctx, k, nd->n_output >= 1 && onnx_str(nd->output[0])[0], PETSC_ERR_FILE_UNEXPECTED,
             "the node has no output");
  v.name = onnx_str(nd->output[0]);
  v.kind = ONNX_VAL_TRANSPOSED;
  v.tp   = tp;
  PetscCall(onnx_value_define(ctx, &v));
  PetscFunctionReturn(0);
}
