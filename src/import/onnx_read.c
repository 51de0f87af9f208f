/* nn_onnx_read: an ONNX model file (a protobuf ModelProto, as torch.onnx.export
 * writes it) into an NnGraph.
 *
 * Rank 0 reads the file's bytes and broadcasts them; every rank then unpacks
 * and translates the same bytes, so every check fails on all ranks alike and
 * an error is collective, one line naming the file (and the node, operator and
 * attribute). The model is checked as a whole first (opset 13 to 17, one
 * input of rank 2 or 4 with a fixed per-sample shape, one output,
 * initializers of supported types and inside the file), then node by node in
 * the file's order, which ONNX requires to be topological. */
#include "onnx_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

/* Rank 0's bytes of the file (*len, -errno on failure) on every rank. */
static PetscErrorCode onnx_read_bytes(MPI_Comm comm, const char *path, uint8_t **bytes, int64_t *len)
{
  int      rank, ok;
  int64_t  n = 0;
  uint8_t *buf = NULL;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    FILE *f = fopen(path, "rb");
    long  size;
    if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) n = -(int64_t)(errno ? errno : EIO);
    else if (!(buf = malloc((size_t)size + 1)) || fread(buf, 1, (size_t)size, f) != (size_t)size) n = -(int64_t)EIO;
    else n = size;
    if (f) fclose(f);
  }
  PetscCallMPI(MPI_Bcast(&n, 1, MPI_INT64_T, 0, comm));
  if (n < 0) free(buf);
  PetscCheck(n >= 0, comm, PETSC_ERR_FILE_OPEN, "%s: cannot read the ONNX model (%s)", path, strerror((int)-n));
  if (rank) buf = malloc((size_t)n + 1);
  ok = buf != NULL; /* agreed, so that no rank waits in the broadcast below */
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm));
  if (!ok) free(buf);
  PetscCheck(ok, comm, PETSC_ERR_MEM, "%s: no memory for its %lld bytes", path, (long long)n);
  for (int64_t off = 0; off < n; off += 1 << 30) {
    int chunk = (int)(n - off < (1 << 30) ? n - off : (1 << 30));
    PetscCallMPI(MPI_Bcast(buf + off, chunk, MPI_BYTE, 0, comm));
  }
  *bytes = buf;
  *len   = n;
  PetscFunctionReturn(0);
}

/* The opset of the default ONNX domain must be 13 to 17. */
static PetscErrorCode onnx_check_opset(OnnxCtx *ctx)
{
  const Onnx__ModelProto *m = ctx->model;
  PetscFunctionBeginUser;
  ctx->opset = -1;
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const char *d = onnx_str(m->opset_import[i]->domain);
    if (!d[0] || !strcmp(d, "ai.onnx")) ctx->opset = m->opset_import[i]->version;
  }
  PetscCheck(ctx->opset >= 0, ctx->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: the model names no opset of ONNX's operators",
             ctx->path);
  PetscCheck(ctx->opset >= 13 && ctx->opset <= 17, ctx->comm, PETSC_ERR_SUP, "%s: opset %lld is not supported (only 13 to 17)",
             ctx->path, (long long)ctx->opset);
  PetscFunctionReturn(0);
}

/* Every initializer is checked and becomes a named constant. */
static PetscErrorCode onnx_define_initializers(OnnxCtx *ctx)
{
  const Onnx__GraphProto *gr = ctx->graph;
  PetscFunctionBeginUser;
  PetscCheck(!gr->n_sparse_initializer, ctx->comm, PETSC_ERR_SUP, "%s: sparse initializers are not supported", ctx->path);
  for (size_t i = 0; i < gr->n_initializer; i++) {
    OnnxValue v = {0};
    PetscCall(onnx_initializer_check(ctx, gr->initializer[i]));
    v.name = onnx_str(gr->initializer[i]->name);
    v.kind = ONNX_VAL_CONST;
    v.tp   = gr->initializer[i];
    PetscCheck(v.name[0], ctx->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: initializer %zu has no name", ctx->path, i);
    PetscCall(onnx_value_define(ctx, &v));
  }
  PetscFunctionReturn(0);
}

/* The one graph input that is not an initializer (older exports list those too). */
static PetscErrorCode onnx_find_input(OnnxCtx *ctx, const Onnx__ValueInfoProto **in)
{
  const Onnx__GraphProto *gr = ctx->graph;
  PetscInt                n  = 0;
  PetscFunctionBeginUser;
  *in = NULL;
  for (size_t i = 0; i < gr->n_input; i++) {
    const OnnxValue *v = onnx_value_find(ctx, onnx_str(gr->input[i]->name));
    if (v && v->kind == ONNX_VAL_CONST) continue;
    if (!n++) *in = gr->input[i];
  }
  PetscCheck(n == 1, ctx->comm, PETSC_ERR_SUP, "%s: the graph has %d inputs that are not initializers; nncas reads models with one",
             ctx->path, (int)n);
  PetscFunctionReturn(0);
}

/* The input (N, C, H, W) or (N, F): its per-sample shape is fixed in the file. */
static PetscErrorCode onnx_define_input(OnnxCtx *ctx)
{
  const Onnx__ValueInfoProto *in;
  const Onnx__TensorShapeProto *sh = NULL;
  int64_t                       d[4] = {0, 1, 1, 1};
  OnnxValue                     v    = {0};
  size_t                        rank = 0;
  PetscFunctionBeginUser;
  PetscCall(onnx_find_input(ctx, &in));
  if (in->type && in->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && in->type->tensor_type)
    sh = in->type->tensor_type->shape;
  rank = sh ? sh->n_dim : 0;
  PetscCheck(rank == 2 || rank == 4, ctx->comm, PETSC_ERR_SUP,
             "%s: input \"%s\" has rank %zu; nncas reads inputs (N, F) or (N, C, H, W)", ctx->path, onnx_str(in->name), rank);
  for (size_t j = 0; j < rank; j++) {
    const Onnx__TensorShapeProto__Dimension *dim = sh->dim[j];
    PetscBool fixed = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ? PETSC_TRUE : PETSC_FALSE;
    PetscCheck(j == 0 || (fixed && dim->dim_value > 0 && dim->dim_value <= (1 << 24)), ctx->comm, PETSC_ERR_SUP,
               "%s: input \"%s\": dimension %zu is not a fixed size; nncas needs the shape of a sample", ctx->path,
               onnx_str(in->name), j);
    d[j] = fixed ? dim->dim_value : 0;
  }
  ctx->batch = d[0] > 0 ? d[0] : 0;
  ctx->g->c = (PetscInt)d[1], ctx->g->h = (PetscInt)d[2], ctx->g->w = (PetscInt)d[3];
  PetscCheck((int64_t)ctx->g->c * ctx->g->h * ctx->g->w <= ONNX_MAX_WIDTH, ctx->comm, PETSC_ERR_SUP,
             "%s: input \"%s\" is implausibly large", ctx->path, onnx_str(in->name));
  ctx->g->spatial = rank == 4 ? PETSC_TRUE : PETSC_FALSE;
  ctx->shape[0]   = (OnnxShape){(PetscInt)rank, ctx->g->c, ctx->g->h, ctx->g->w};
  v.name          = onnx_str(in->name);
  v.kind          = ONNX_VAL_TENSOR;
  v.t             = 0;
  PetscCall(onnx_value_define(ctx, &v));
  PetscFunctionReturn(0);
}

typedef PetscErrorCode (*OnnxOpFn)(OnnxCtx *, PetscInt);
static const struct {
  const char *op;
  OnnxOpFn    fn;
} onnx_ops[] = {
  {"Conv", onnx_op_conv},
  {"Gemm", onnx_op_gemm},
  {"MatMul", onnx_op_matmul},
  {"Add", onnx_op_add},
  {"Mul", onnx_op_mul},
  {"Relu", onnx_op_relu},
  {"Tanh", onnx_op_tanh},
  {"Sigmoid", onnx_op_sigmoid},
  {"MaxPool", onnx_op_maxpool},
  {"AveragePool", onnx_op_avgpool},
  {"GlobalAveragePool", onnx_op_globalavgpool},
  {"BatchNormalization", onnx_op_batchnorm},
  {"Flatten", onnx_op_flatten},
  {"Reshape", onnx_op_reshape},
  {"Dropout", onnx_op_dropout},
  {"Identity", onnx_op_identity},
  {"Constant", onnx_op_constant},
  {"Shape", onnx_op_shape},
  {"Gather", onnx_op_gather},
  {"Unsqueeze", onnx_op_unsqueeze},
  {"Concat", onnx_op_concat},
  {"Transpose", onnx_op_transpose},
  {"Pad", onnx_op_pad},
};
#define ONNX_NOPS ((PetscInt)(sizeof onnx_ops / sizeof onnx_ops[0]))

/* Translates node k (unless an earlier node took it already). */
static PetscErrorCode onnx_translate_node(OnnxCtx *ctx, PetscInt k)
{
  const Onnx__NodeProto *nd = ctx->graph->node[k];
  char                   list[512] = "";
  PetscFunctionBeginUser;
  if (ctx->fused[k]) PetscFunctionReturn(0);
  for (PetscInt i = 0; i < ONNX_NOPS && (!nd->domain || !nd->domain[0]); i++)
    if (!strcmp(onnx_op(nd), onnx_ops[i].op)) {
      PetscCall(onnx_ops[i].fn(ctx, k));
      PetscFunctionReturn(0);
    }
  for (PetscInt i = 0; i < ONNX_NOPS; i++) {
    PetscCall(PetscStrlcat(list, onnx_ops[i].op, sizeof list));
    if (i + 1 < ONNX_NOPS) PetscCall(PetscStrlcat(list, ", ", sizeof list));
  }
  ONNX_CHECK(ctx, k, !nd->domain || !nd->domain[0], PETSC_ERR_SUP,
             "operator of domain %s not supported (only ONNX's own: %s)", nd->domain, list);
  PetscCall(onnx_node_error(ctx, k, PETSC_ERR_SUP, "operator not supported (supported: %s)", list));
  PetscFunctionReturn(0);
}

/* The graph's one output is the last node's, a matrix (N, K). */
static PetscErrorCode onnx_check_output(OnnxCtx *ctx)
{
  const Onnx__GraphProto *gr = ctx->graph;
  const OnnxValue        *v;
  const char             *name;
  PetscFunctionBeginUser;
  PetscCheck(gr->n_output == 1, ctx->comm, PETSC_ERR_SUP, "%s: the graph has %zu outputs; nncas reads models with one",
             ctx->path, gr->n_output);
  name = onnx_str(gr->output[0]->name);
  v    = onnx_value_find(ctx, name);
  PetscCheck(ctx->g->nnodes > 0 && v && v->kind == ONNX_VAL_TENSOR && v->t == ctx->g->nnodes, ctx->comm, PETSC_ERR_SUP,
             "%s: the graph's output \"%s\" is not the output of its last node", ctx->path, name);
  PetscCheck(ctx->shape[v->t].rank == 2, ctx->comm, PETSC_ERR_SUP,
             "%s: the graph's output \"%s\" is an image (N, C, H, W); nncas needs (N, K) (flatten it)", ctx->path, name);
  ctx->g->outputs = ctx->shape[v->t].c;
  PetscFunctionReturn(0);
}

/* The model unpacked in ctx into ctx->g. */
static PetscErrorCode onnx_translate(OnnxCtx *ctx)
{
  size_t n;
  PetscFunctionBeginUser;
  PetscCheck(ctx->model->graph, ctx->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: the model has no graph", ctx->path);
  ctx->graph = ctx->model->graph;
  n          = ctx->graph->n_node;
  PetscCall(onnx_check_opset(ctx));
  PetscCall(PetscCalloc1(n + 1, &ctx->g->nodes));
  PetscCall(PetscCalloc1(n + 1, &ctx->shape));
  PetscCall(PetscCalloc1(n + 1, &ctx->fused));
  PetscCall(onnx_define_initializers(ctx));
  PetscCall(onnx_define_input(ctx));
  for (size_t k = 0; k < n; k++) PetscCall(onnx_translate_node(ctx, (PetscInt)k));
  PetscCall(onnx_check_output(ctx));
  PetscFunctionReturn(0);
}

static PetscErrorCode onnx_ctx_free(OnnxCtx *ctx)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < ctx->nval; i++) PetscCall(PetscFree(ctx->val[i].ints));
  PetscCall(PetscFree(ctx->val));
  PetscCall(PetscFree(ctx->shape));
  PetscCall(PetscFree(ctx->fused));
  if (ctx->model) onnx__model_proto__free_unpacked(ctx->model, NULL);
  PetscFunctionReturn(0);
}

PetscErrorCode nn_onnx_read(MPI_Comm comm, const char *path, NnGraph *g)
{
  OnnxCtx        ctx = {0};
  uint8_t       *bytes = NULL;
  int64_t        len;
  PetscBool      parsed;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(g, sizeof *g));
  PetscCall(onnx_read_bytes(comm, path, &bytes, &len));
  ctx.comm  = comm;
  ctx.path  = path;
  ctx.g     = g;
  ctx.model = onnx__model_proto__unpack(NULL, (size_t)len, bytes);
  g->crc32  = (unsigned int)crc32(0L, Z_NULL, 0);
  for (int64_t off = 0; off < len; off += 1 << 30)
    g->crc32 = (unsigned int)crc32(g->crc32, bytes + off, (uInt)(len - off < (1 << 30) ? len - off : (1 << 30)));
  free(bytes);
  parsed = ctx.model ? PETSC_TRUE : PETSC_FALSE;
  ierr   = parsed ? onnx_translate(&ctx) : 0;
  PetscCall(onnx_ctx_free(&ctx));
  if (ierr || !parsed) PetscCall(nn_graph_free(g));
  PetscCheck(parsed, comm, PETSC_ERR_FILE_UNEXPECTED, "%s: not an ONNX model (the protobuf ModelProto does not parse)",
             path);
  PetscCall(ierr);
  PetscCall(PetscStrncpy(g->source, path, sizeof g->source));
  PetscFunctionReturn(0);
}

PetscErrorCode nn_graph_free(NnGraph *g)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; g->nodes && i < g->nnodes; i++) {
    NnGraphNode *nd = &g->nodes[i];
    PetscCall(PetscFree(nd->weight));
    PetscCall(PetscFree(nd->bias));
    PetscCall(PetscFree(nd->mean));
    PetscCall(PetscFree(nd->var));
  }
  PetscCall(PetscFree(g->nodes));
  PetscCall(PetscMemzero(g, sizeof *g));
  PetscFunctionReturn(0);
}
