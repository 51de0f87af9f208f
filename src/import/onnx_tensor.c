/* The data of ONNX tensors (initializers and Constant nodes' values).
 *
 * A TensorProto holds its values either in the typed repeated field
 * (float_data for FLOAT, double_data for DOUBLE, int64_data for INT64,
 * int32_data for INT32) or as raw_data, the values' bytes in little-endian
 * order; dims is the shape (none: a scalar). data_location EXTERNAL means the
 * bytes are in another file: nncas reads only self-contained models. Weights
 * are float32 or float64, converted to double exactly; integers (shapes) are
 * int64 or int32. */
#include "onnx_impl.h"

#include <string.h>

static const char *onnx_type_name(int32_t t)
{
  static const char *const names[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING",
                                      "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128",
                                      "BFLOAT16"};
  return t >= 0 && t < (int32_t)(sizeof names / sizeof names[0]) ? names[t] : "unknown";
}

/* A tensor's type and data location are readable by nncas (checked for every
 * initializer before any node is translated). */
PetscErrorCode onnx_initializer_check(OnnxCtx *ctx, const Onnx__TensorProto *tp)
{
  int32_t t = tp->data_type;
  PetscFunctionBeginUser;
  PetscCheck(!(tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) &&
               !tp->n_external_data,
             ctx->comm, PETSC_ERR_SUP,
             "%s: initializer \"%s\": its data is in an external file; nncas reads only self-contained models "
             "(export without external data)",
             ctx->path, onnx_str(tp->name));
  PetscCheck(t == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || t == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE ||
               t == ONNX__TENSOR_PROTO__DATA_TYPE__INT64,
             ctx->comm, PETSC_ERR_SUP,
             "%s: initializer \"%s\" has type %s; nncas supports FLOAT and DOUBLE (and INT64 for shapes)", ctx->path,
             onnx_str(tp->name), onnx_type_name(t));
  PetscFunctionReturn(0);
}

/* *n <- the number of values, the product of dims (each >= 0, no overflow). */
PetscErrorCode onnx_tensor_count(OnnxCtx *ctx, const char *where, const Onnx__TensorProto *tp, PetscInt *n)
{
  int64_t p = 1;
  PetscFunctionBeginUser;
  for (size_t d = 0; d < tp->n_dims; d++) {
    PetscCheck(tp->dims[d] >= 0 && (tp->dims[d] == 0 || p <= PETSC_MAX_INT / tp->dims[d]), ctx->comm,
               PETSC_ERR_FILE_UNEXPECTED, "%s: %s: implausible dimension %lld", ctx->path, where,
               (long long)tp->dims[d]);
    p *= tp->dims[d];
  }
  *n = (PetscInt)p;
  PetscFunctionReturn(0);
}

/* The raw_data or typed field holds exactly n values of `size` bytes. */
static PetscErrorCode onnx_tensor_has(OnnxCtx *ctx, const char *where, const Onnx__TensorProto *tp, PetscInt n,
                                      size_t typed, size_t size)
{
  size_t have = tp->has_raw_data ? tp->raw_data.len / size : typed;
  PetscFunctionBeginUser;
  PetscCheck(!tp->has_raw_data || tp->raw_data.len % size == 0, ctx->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: %s: raw_data of %zu bytes is not a whole number of %zu-byte values", ctx->path, where,
             tp->raw_data.len, size);
  PetscCheck(have == (size_t)n, ctx->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s: holds %zu values, its dims say %d",
             ctx->path, where, have, (int)n);
  PetscFunctionReturn(0);
}

static uint64_t onnx_le(const uint8_t *p, size_t size)
{
  uint64_t u = 0;
  for (size_t b = 0; b < size; b++) u |= (uint64_t)p[b] << (8 * b);
  return u;
}

/* *v <- the n values of a FLOAT or DOUBLE tensor as doubles (caller frees). */
PetscErrorCode onnx_tensor_doubles(OnnxCtx *ctx, const char *where, const Onnx__TensorProto *tp, PetscInt *n,
                                   double **v)
{
  PetscBool single = tp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionBeginUser;
  *v = NULL;
  PetscCheck(single || tp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE, ctx->comm, PETSC_ERR_SUP,
             "%s: %s: has type %s, not FLOAT or DOUBLE", ctx->path, where, onnx_type_name(tp->data_type));
  PetscCall(onnx_tensor_count(ctx, where, tp, n));
  PetscCall(onnx_tensor_has(ctx, where, tp, *n, single ? tp->n_float_data : tp->n_double_data, single ? 4 : 8));
  PetscCall(PetscMalloc1(*n + 1, v));
  for (PetscInt i = 0; i < *n; i++) {
    if (tp->has_raw_data && single) {
      uint32_t u = (uint32_t)onnx_le(tp->raw_data.data + 4 * (size_t)i, 4);
      float    f;
      memcpy(&f, &u, 4);
      (*v)[i] = (double)f;
    } else if (tp->has_raw_data) {
      uint64_t u = onnx_le(tp->raw_data.data + 8 * (size_t)i, 8);
      memcpy(&(*v)[i], &u, 8);
    } else (*v)[i] = single ? (double)tp->float_data[i] : tp->double_data[i];
  }
  PetscFunctionReturn(0);
}

/* *v <- the n values of an INT64 or INT32 tensor (caller frees). */
PetscErrorCode onnx_tensor_ints(OnnxCtx *ctx, const char *where, const Onnx__TensorProto *tp, PetscInt *n, int64_t **v)
{
  PetscBool i32 = tp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT32 ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionBeginUser;
  *v = NULL;
  PetscCheck(i32 || tp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64, ctx->comm, PETSC_ERR_SUP,
             "%s: %s: has type %s, not INT64 or INT32", ctx->path, where, onnx_type_name(tp->data_type));
  PetscCall(onnx_tensor_count(ctx, where, tp, n));
  PetscCall(onnx_tensor_has(ctx, where, tp, *n, i32 ? tp->n_int32_data : tp->n_int64_data, i32 ? 4 : 8));
  PetscCall(PetscMalloc1(*n + 1, v));
  for (PetscInt i = 0; i < *n; i++) {
    if (tp->has_raw_data && i32) (*v)[i] = (int32_t)(uint32_t)onnx_le(tp->raw_data.data + 4 * (size_t)i, 4);
    else if (tp->has_raw_data) (*v)[i] = (int64_t)onnx_le(tp->raw_data.data + 8 * (size_t)i, 8);
    else (*v)[i] = i32 ? tp->int32_data[i] : tp->int64_data[i];
  }
  PetscFunctionReturn(0);
}

/* The integers of a constant input of node k (a copy the caller frees). */
PetscErrorCode onnx_value_ints(OnnxCtx *ctx, PetscInt k, const OnnxValue *v, PetscInt *n, int64_t **ints)
{
  char where[600], name[512];
  PetscFunctionBeginUser;
  *ints = NULL;
  onnx_node_name(ctx, k, name, sizeof name);
  PetscCall(PetscSNPrintf(where, sizeof where, "node \"%s\" (%s): input \"%s\"", name, onnx_op(ctx->graph->node[k]),
                          v->name));
  if (v->kind == ONNX_VAL_CONST) {
    PetscCall(onnx_tensor_ints(ctx, where, v->tp, n, ints));
    PetscFunctionReturn(0);
  }
  ONNX_CHECK(ctx, k, v->kind == ONNX_VAL_INTS, PETSC_ERR_SUP, "input \"%s\" is not a constant list of integers",
             v->name);
  *n = v->nints;
  PetscCall(PetscMalloc1(*n + 1, ints));
  if (*n) PetscCall(PetscArraycpy(*ints, v->ints, *n));
  PetscFunctionReturn(0);
}

/* The one real value of a constant input of node k. */
PetscErrorCode onnx_value_real(OnnxCtx *ctx, PetscInt k, const OnnxValue *v, double *x)
{
  char     where[600], name[512];
  double  *vals = NULL;
  PetscInt n;
  PetscFunctionBeginUser;
  if (v->kind == ONNX_VAL_REAL) {
    *x = v->real;
    PetscFunctionReturn(0);
  }
  ONNX_CHECK(ctx, k, v->kind == ONNX_VAL_CONST, PETSC_ERR_SUP, "input \"%s\" is not a constant", v->name);
  onnx_node_name(ctx, k, name, sizeof name);
  PetscCall(PetscSNPrintf(where, sizeof where, "node \"%s\" (%s): input \"%s\"", name, onnx_op(ctx->graph->node[k]),
                          v->name));
  PetscCall(onnx_tensor_doubles(ctx, where, v->tp, &n, &vals));
  *x = n == 1 ? vals[0] : 0;
  PetscCall(PetscFree(vals));
  ONNX_CHECK(ctx, k, n == 1, PETSC_ERR_SUP, "input \"%s\" holds %d values, not one", v->name, (int)n);
  PetscFunctionReturn(0);
}

/* node->weight <- the values of tp, with its dims (at most 4) and name. */
PetscErrorCode onnx_take_weight(OnnxCtx *ctx, PetscInt k, const Onnx__TensorProto *tp, NnGraphNode *node)
{
  char     where[600];
  PetscInt n;
  PetscFunctionBeginUser;
  ONNX_CHECK(ctx, k, tp->n_dims >= 1 && tp->n_dims <= 4, PETSC_ERR_SUP, "weight \"%s\" has %zu dimensions",
             onnx_str(tp->name), tp->n_dims);
  PetscCall(PetscSNPrintf(where, sizeof where, "initializer \"%s\"", onnx_str(tp->name)));
  PetscCall(onnx_tensor_doubles(ctx, where, tp, &n, &node->weight));
  node->weight_ndims = (PetscInt)tp->n_dims;
  for (size_t d = 0; d < tp->n_dims; d++) node->weight_dims[d] = (PetscInt)tp->dims[d];
  PetscCall(PetscStrncpy(node->weight_name, onnx_str(tp->name), sizeof node->weight_name));
  PetscFunctionReturn(0);
}

/* *v <- the values of a 1-D initializer of length n (name copied when given). */
PetscErrorCode onnx_take_vector(OnnxCtx *ctx, PetscInt k, const Onnx__TensorProto *tp, PetscInt n, double **v,
                                char *name)
{
  char     where[600];
  PetscInt m;
  PetscFunctionBeginUser;
  ONNX_CHECK(ctx, k, tp->n_dims == 1 && tp->dims[0] == n, PETSC_ERR_SUP,
             "initializer \"%s\" should be a vector of %d values", onnx_str(tp->name), (int)n);
  PetscCall(PetscSNPrintf(where, sizeof where, "initializer \"%s\"", onnx_str(tp->name)));
  PetscCall(onnx_tensor_doubles(ctx, where, tp, &m, v));
  if (name) PetscCall(PetscStrncpy(name, onnx_str(tp->name), NN_GRAPH_NAME_MAX));
  PetscFunctionReturn(0);
}
