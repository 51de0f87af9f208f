/* Tests of the ONNX reader (src/import): models written by PyTorch
 * (tests/python/onnx_models.py, run first by the ctest fixture into
 * onnx_models/ of the build tree) are read into NnGraphs and compared with
 * what PyTorch itself says about them (NAME.json, NAME.f64): node kinds,
 * inputs, per-node shapes, scalars, every parameter bit for bit, counts and
 * the output width; refused models give exactly their expected one line.
 * Every rank reads every model; all checks are made on all ranks. */
#include "testlib.h"

#include "nncas/graph.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#define MODELS NNCAS_TEST_BINARY_DIR "/onnx_models"

static const char *const kind_names[] = {"CONV",          "DENSE", "RELU",    "TANH",    "SIGMOID", "SILU", "MAXPOOL",
                                         "AVGPOOL", "GLOBALAVGPOOL", "BN",    "FLATTEN", "DROPOUT", "ADD"};

/* ------------------------------------------------ the expectation files -- */

/* *text <- the whole file (NUL-terminated; caller frees), *len its size. */
static PetscErrorCode slurp(const char *path, char **text, size_t *len)
{
  FILE *f = fopen(path, "rb");
  long  n;
  PetscFunctionBeginUser;
  NN_CHECK(f, "cannot open %s (did the fixture onnx_models_are_exported run?)", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  PetscCall(PetscMalloc1((size_t)n + 1, text));
  *len = fread(*text, 1, (size_t)n, f);
  fclose(f);
  (*text)[*len] = 0;
  NN_CHECK(*len == (size_t)n, "short read of %s", path);
  PetscFunctionReturn(0);
}

/* The JSON value after "key": in text, or NULL. (json.dump's plain output.) */
static const char *json_at(const char *text, const char *key)
{
  char        pat[64];
  const char *p;
  snprintf(pat, sizeof pat, "\"%s\": ", key);
  p = strstr(text, pat);
  return p ? p + strlen(pat) : NULL;
}

static long json_int(const char *text, const char *key)
{
  const char *p = json_at(text, key);
  return p ? strtol(p, NULL, 10) : -1;
}

/* The JSON string at p (after its opening quote is p[0] == '"') into buf. */
static void json_string(const char *p, char *buf, size_t len)
{
  size_t n = 0;
  for (p++; *p && *p != '"' && n + 1 < len; p++) buf[n++] = *p == '\\' ? *++p : *p;
  buf[n] = 0;
}

/* The numbers of the list-of-lists under key: row r's values in v[r][0..n[r]). */
static void json_rows(const char *text, const char *key, PetscInt rows, double v[][4], PetscInt n[])
{
  const char *p = json_at(text, key);
  PetscInt    r = -1, depth = 0;
  for (; p && *p; p++) {
    if (*p == '[' && ++depth == 2) n[++r] = 0;
    else if (*p == ']' && --depth == 0) break;
    else if (depth == 2 && (*p == '-' || (*p >= '0' && *p <= '9')) && r < rows && n[r] < 4) {
      char *end;
      v[r][n[r]++] = strtod(p, &end);
      p            = end - 1;
    }
  }
}

/* The flat list of numbers under key into v (at most max); their count. */
static PetscInt json_numbers(const char *text, const char *key, double *v, PetscInt max)
{
  const char *p = json_at(text, key);
  PetscInt    n = 0;
  for (p = p ? p + 1 : NULL; p && *p && *p != ']'; p++)
    if ((*p == '-' || (*p >= '0' && *p <= '9')) && n < max) {
      char *end;
      v[n++] = strtod(p, &end);
      p      = end - 1;
    }
  return n;
}

typedef struct {
  char     *json;
  PetscInt  nnodes;
  char      kind[128][16];
  double    inputs[128][4], shapes[128][4], scalars[128];
  PetscInt  ninputs[128], nshape[128];
  double   *values;
  PetscInt  nvalues;
} Expect;

static PetscErrorCode expect_read(const char *name, Expect *e)
{
  char        path[PETSC_MAX_PATH_LEN];
  const char *p;
  size_t      len;
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(e, sizeof *e));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s.json", MODELS, name));
  PetscCall(slurp(path, &e->json, &len));
  for (p = json_at(e->json, "kinds"); p && *p != ']'; p++)
    if (*p == '"') {
      NN_CHECK(e->nnodes < 128, "too many nodes in %s", path);
      json_string(p, e->kind[e->nnodes++], 16);
      p = strchr(p + 1, '"');
    }
  json_rows(e->json, "inputs", e->nnodes, e->inputs, e->ninputs);
  json_rows(e->json, "shapes", e->nnodes, e->shapes, e->nshape);
  NN_CHECK(json_numbers(e->json, "scalars", e->scalars, 128) == e->nnodes, "%s: scalars", path);
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s.f64", MODELS, name));
  PetscCall(slurp(path, (char **)&e->values, &len));
  e->nvalues = (PetscInt)(len / sizeof(double));
  NN_CHECK(e->nvalues == json_int(e->json, "values"), "%s holds %d values", path, (int)e->nvalues);
  PetscFunctionReturn(0);
}

static PetscErrorCode expect_free(Expect *e)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(e->json));
  PetscCall(PetscFree(e->values));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------ the comparisons -- */

/* Node i's output shape per sample from its input's and its own fields (the
 * reference the importer's shapes must agree with): sh[t] = (rank, c, h, w). */
static void node_shape(const NnGraph *g, PetscInt i, PetscInt sh[][4])
{
  const NnGraphNode *nd = &g->nodes[i];
  const PetscInt    *in = sh[nd->input[0]];
  PetscInt          *o  = sh[i + 1];
  PetscArraycpy(o, in, 4);
  switch (nd->kind) {
  case NN_NODE_CONV:
  case NN_NODE_MAXPOOL:
  case NN_NODE_AVGPOOL:
    o[1] = nd->kind == NN_NODE_CONV ? nd->out_channels : in[1];
    o[2] = (in[2] + nd->pad[0] + nd->pad[2] - nd->kernel[0]) / nd->stride[0] + 1;
    o[3] = (in[3] + nd->pad[1] + nd->pad[3] - nd->kernel[1]) / nd->stride[1] + 1;
    break;
  case NN_NODE_GLOBALAVGPOOL: o[2] = o[3] = 1; break;
  case NN_NODE_FLATTEN: o[0] = 1, o[1] = in[1] * in[2] * in[3], o[2] = o[3] = 1; break;
  case NN_NODE_DENSE: o[0] = 1, o[1] = nd->out_channels, o[2] = o[3] = 1; break;
  default: break;
  }
}

/* Kinds, inputs, shapes and scalars of g against e. */
static PetscErrorCode check_structure(const NnGraph *g, const Expect *e)
{
  PetscInt sh[130][4];
  PetscFunctionBeginUser;
  NN_CHECK(g->nnodes == e->nnodes, "%d nodes, PyTorch has %d", (int)g->nnodes, (int)e->nnodes);
  sh[0][0] = g->spatial ? 3 : 1, sh[0][1] = g->c, sh[0][2] = g->h, sh[0][3] = g->w;
  for (PetscInt i = 0; i < g->nnodes; i++) {
    const NnGraphNode *nd = &g->nodes[i];
    NN_CHECK(!strcmp(kind_names[nd->kind], e->kind[i]), "node %d (%s) is %s, PyTorch's is %s", (int)i, nd->name,
             kind_names[nd->kind], e->kind[i]);
    NN_CHECK(nd->ninputs == e->ninputs[i], "node %d (%s) has %d inputs", (int)i, nd->name, (int)nd->ninputs);
    for (PetscInt j = 0; j < nd->ninputs; j++)
      NN_CHECK(nd->input[j] == (PetscInt)e->inputs[i][j] && nd->input[j] <= i, "node %d (%s): input %d is tensor %d, not %d",
               (int)i, nd->name, (int)j, (int)nd->input[j], (int)e->inputs[i][j]);
    NN_CHECK(nd->name[0], "node %d has no name", (int)i);
    node_shape(g, i, sh);
    PetscInt rank = sh[i + 1][0] == 1 ? 1 : 3; /* dims per sample: (F) or (C, H, W) */
    NN_CHECK(e->nshape[i] == rank, "node %d (%s): output of %d dimensions per sample, PyTorch's %d", (int)i, nd->name,
             (int)rank, (int)e->nshape[i]);
    for (PetscInt j = 0; j < rank; j++)
      NN_CHECK(sh[i + 1][1 + j] == (PetscInt)e->shapes[i][j], "node %d (%s): output dimension %d is %d, PyTorch's %g",
               (int)i, nd->name, (int)j, (int)sh[i + 1][1 + j], e->shapes[i][j]);
    if (nd->kind == NN_NODE_BN) NN_CHECK(nn_relerr(nd->eps, e->scalars[i], 0) < 1e-7, "node %d: eps %g", (int)i, nd->eps);
    if (nd->kind == NN_NODE_DROPOUT)
      NN_CHECK(nn_relerr(nd->ratio, e->scalars[i], 0) < 1e-7, "node %d: ratio %g", (int)i, nd->ratio);
  }
  PetscFunctionReturn(0);
}

/* Every parameter, in node order (weight, bias, BN mean and var), equals
 * PyTorch's float32 value converted to double: 0 ulp. Counts them too. */
static PetscErrorCode check_values(const NnGraph *g, const Expect *e, PetscInt *params, PetscInt *stats)
{
  PetscInt at = 0;
  PetscFunctionBeginUser;
  *params = *stats = 0;
  for (PetscInt i = 0; i < g->nnodes; i++) {
    const NnGraphNode *nd = &g->nodes[i];
    PetscInt           nw = nd->weight ? 1 : 0, c = nd->kind == NN_NODE_BN ? nd->nbias : 0;
    const double      *part[4] = {nd->weight, nd->bias, nd->mean, nd->var};
    PetscInt           len[4];
    for (PetscInt d = 0; nd->weight && d < nd->weight_ndims; d++) nw *= nd->weight_dims[d];
    len[0] = nw, len[1] = nd->bias ? nd->nbias : 0, len[2] = nd->mean ? c : 0, len[3] = nd->var ? c : 0;
    *params += len[0] + len[1];
    *stats += len[2] + len[3];
    for (int p = 0; p < 4; p++)
      for (PetscInt j = 0; j < len[p]; j++, at++)
        NN_CHECK(at < e->nvalues && part[p][j] == e->values[at], "node %d (%s): value %d of part %d is %.17g, PyTorch's %.17g",
                 (int)i, nd->name, (int)j, p, part[p][j], at < e->nvalues ? e->values[at] : 0.0);
  }
  NN_CHECK(at == e->nvalues, "the graph holds %d values, PyTorch %d", (int)at, (int)e->nvalues);
  PetscFunctionReturn(0);
}

/* Reads MODELS/name.onnx and checks it all against name.json and name.f64. */
static PetscErrorCode check_model(const char *name, NnGraph *g)
{
  char     path[PETSC_MAX_PATH_LEN];
  Expect   e;
  PetscInt params, stats;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s.onnx", MODELS, name));
  PetscCall(expect_read(name, &e));
  PetscCall(nn_onnx_read(PETSC_COMM_WORLD, path, g));
  PetscCall(check_structure(g, &e));
  PetscCall(check_values(g, &e, &params, &stats));
  NN_CHECK(params == json_int(e.json, "params"), "%d parameters, PyTorch has %ld", (int)params, json_int(e.json, "params"));
  NN_CHECK(stats == json_int(e.json, "bn_stats"), "%d running statistics, PyTorch has %ld", (int)stats,
           json_int(e.json, "bn_stats"));
  NN_CHECK(g->outputs == json_int(e.json, "outputs"), "%d outputs", (int)g->outputs);
  NN_CHECK(!strcmp(g->source, path), "source %s", g->source);
  PetscCall(expect_free(&e));
  PetscFunctionReturn(0);
}

/* Reading MODELS/name.onnx fails with exactly "<path>: " + the expected line. */
static PetscErrorCode check_refused(const char *name)
{
  char           path[PETSC_MAX_PATH_LEN], want[2048], line[1024];
  Expect         e = {0};
  size_t         len;
  NnGraph        g;
  PetscErrorCode ierr;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s.json", MODELS, name));
  PetscCall(slurp(path, &e.json, &len));
  NN_CHECK(json_at(e.json, "error"), "%s has no expected error", path);
  json_string(json_at(e.json, "error"), line, sizeof line);
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s.onnx", MODELS, name));
  PetscCall(PetscSNPrintf(want, sizeof want, "%s: %s", path, line));
  ierr = nn_onnx_read(PETSC_COMM_WORLD, path, &g);
  PetscCall(PetscStrncpy(line, nn_error_last(), sizeof line));
  nn_error_clear();
  NN_EXPECT(ierr, "%s was read", path);
  NN_EXPECT(!strcmp(line, want), "message\n  \"%s\"\nexpected\n  \"%s\"", line, want);
  NN_EXPECT(!strchr(line, '\n'), "the message has more than one line");
  NN_EXPECT(!g.nodes && !g.nnodes, "a refused model left a graph behind");
  PetscCall(PetscFree(e.json));
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------ the tests -- */

/* (a) conv s2 p1, BN (train mode: five outputs), tanh, maxpool 3/2/1, conv,
 * BN, SiLU (Sigmoid and Mul), avgpool 2 pad 1 (Pad and AveragePool), the view's
 * Shape/Gather/Unsqueeze/Concat into a Reshape, Gemm. */
static PetscErrorCode onnx_chain_imports_with_kinds_shapes_and_exact_weights(void)
{
  NnGraph g;
  PetscFunctionBeginUser;
  PetscCall(check_model("chain", &g));
  NN_CHECK(g.spatial && g.c == 3 && g.h == 16 && g.w == 16, "input shape");
  NN_CHECK(!strcmp(g.nodes[0].weight_name, "conv1.weight") && !strcmp(g.nodes[0].bias_name, "conv1.bias"), "names");
  NN_CHECK(g.nodes[0].stride[0] == 2 && g.nodes[0].pad[3] == 1 && g.nodes[3].kernel[1] == 3, "windows");
  NN_CHECK(g.nodes[7].count_include_pad && g.nodes[7].pad[0] == 1 && g.nodes[7].pad[3] == 1 && !g.nodes[4].bias,
           "avgpool (torch's Pad and AveragePool) counts its padding; conv2 has no bias");
  NN_CHECK(!strcmp(g.nodes[6].name, "/Mul"), "SiLU named %s", g.nodes[6].name);
  PetscCall(nn_graph_free(&g));
  NN_CHECK(!g.nodes && !g.nnodes, "nn_graph_free zeroes the graph");
  PetscFunctionReturn(0);
}

/* (a) again, exported in eval mode at opset 17 with a fixed batch of 2 (the
 * view's shape is then [2, -1] from Constants) and the initializers listed as
 * graph inputs (keep_initializers_as_inputs). */
static PetscErrorCode onnx_fixed_batch_and_initializers_as_inputs_are_read(void)
{
  NnGraph g;
  PetscFunctionBeginUser;
  PetscCall(check_model("chain_fixed", &g));
  NN_CHECK(g.nodes[8].kind == NN_NODE_FLATTEN && g.outputs == 7, "the Reshape [2, -1] is a flatten");
  PetscCall(nn_graph_free(&g));
  PetscFunctionReturn(0);
}

/* (b) two residual blocks, the second with a 1x1 stride-2 conv and BN on the skip. */
static PetscErrorCode onnx_residual_add_takes_two_earlier_tensors(void)
{
  NnGraph  g;
  PetscInt adds = 0;
  PetscFunctionBeginUser;
  PetscCall(check_model("residual", &g));
  for (PetscInt i = 0; i < g.nnodes; i++)
    if (g.nodes[i].kind == NN_NODE_ADD) {
      adds++;
      NN_CHECK(g.nodes[i].ninputs == 2 && g.nodes[i].input[0] <= i && g.nodes[i].input[1] <= i &&
                 g.nodes[i].input[0] != g.nodes[i].input[1],
               "Add %d: inputs %d, %d", (int)i,
               (int)g.nodes[i].input[0], (int)g.nodes[i].input[1]);
    }
  NN_CHECK(adds == 2 && g.outputs == 10, "%d adds, %d outputs", (int)adds, (int)g.outputs);
  PetscCall(nn_graph_free(&g));
  PetscFunctionReturn(0);
}

/* (c) 20-16-16-5 with dropout 0.25 and 0.1, exported in training mode. */
static PetscErrorCode onnx_mlp_keeps_its_dropout_ratios(void)
{
  NnGraph g;
  PetscFunctionBeginUser;
  PetscCall(check_model("mlp", &g));
  NN_CHECK(!g.spatial && g.c == 20 && g.h == 1 && g.w == 1, "a flat input of 20");
  NN_CHECK(g.nodes[0].weight_dims[0] == 16 && g.nodes[0].weight_dims[1] == 20, "dense weight (out, in)");
  PetscCall(nn_graph_free(&g));
  PetscFunctionReturn(0);
}

/* x @ W + b (MatMul of an (in, out) weight, Add of a bias) is one dense node
 * with W transposed; a Linear without bias is MatMul by Transpose(W). */
static PetscErrorCode onnx_matmul_and_its_bias_are_one_dense_node(void)
{
  NnGraph g;
  PetscFunctionBeginUser;
  PetscCall(check_model("matmul", &g));
  NN_CHECK(g.nodes[0].weight_dims[0] == 9 && g.nodes[0].weight_dims[1] == 12 && g.nodes[0].nbias == 9, "w1 as (9, 12)");
  NN_CHECK(!strcmp(g.nodes[2].weight_name, "fc.weight") && !g.nodes[2].bias, "fc without bias");
  PetscCall(nn_graph_free(&g));
  PetscFunctionReturn(0);
}

/* (d) torchvision's resnet18 (num_classes 10) on 3x32x32. */
static PetscErrorCode onnx_resnet18_imports_with_its_parameter_count(void)
{
  NnGraph g;
  PetscFunctionBeginUser;
  PetscCall(check_model("resnet18", &g));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  resnet18: %d nodes, %d outputs\n", (int)g.nnodes, (int)g.outputs));
  PetscCall(nn_graph_free(&g));
  PetscFunctionReturn(0);
}

static PetscErrorCode onnx_unsupported_operator_is_refused_naming_the_node(void)
{
  PetscFunctionBeginUser;
  PetscCall(check_refused("softmax"));
  PetscFunctionReturn(0);
}

static PetscErrorCode onnx_unsupported_attribute_is_refused_naming_node_and_value(void)
{
  PetscFunctionBeginUser;
  PetscCall(check_refused("grouped"));
  PetscCall(check_refused("ceilpool"));
  PetscFunctionReturn(0);
}

static PetscErrorCode onnx_opset_outside_13_to_17_is_refused(void)
{
  PetscFunctionBeginUser;
  PetscCall(check_refused("opset12"));
  PetscFunctionReturn(0);
}

/* Written with onnx.helper: Identity (elided), Conv, Relu, Reshape by a
 * Constant [0, -1] (value_ints), Gemm with transB = 0 (B (in, out), DOUBLE in
 * double_data, transposed; C in float_data), Dropout without ratio (0.5). */
static PetscErrorCode onnx_gemm_transb0_reshape_identity_dropout_default(void)
{
  NnGraph g;
  PetscFunctionBeginUser;
  PetscCall(check_model("handmade", &g));
  NN_CHECK(g.nodes[3].weight_dims[0] == 4 && g.nodes[3].weight_dims[1] == 75 && g.nodes[0].input[0] == 0, "layout");
  PetscCall(nn_graph_free(&g));
  PetscFunctionReturn(0);
}

/* Whole-model refusals: external data, an INT8 initializer, two inputs, two
 * outputs, an input of rank 3. */
static PetscErrorCode onnx_model_outside_the_supported_form_is_refused(void)
{
  PetscFunctionBeginUser;
  PetscCall(check_refused("external"));
  PetscCall(check_refused("int8"));
  PetscCall(check_refused("two_inputs"));
  PetscCall(check_refused("two_outputs"));
  PetscCall(check_refused("rank3"));
  PetscFunctionReturn(0);
}

/* A Reshape that is no flatten, a conv weight for other channels, an Add of a
 * constant, an Add of two shapes: each names its node. */
static PetscErrorCode onnx_inconsistent_shapes_are_refused_naming_the_node(void)
{
  PetscFunctionBeginUser;
  PetscCall(check_refused("reshape"));
  PetscCall(check_refused("channels"));
  PetscCall(check_refused("add_const"));
  PetscCall(check_refused("add_shapes"));
  PetscFunctionReturn(0);
}

/* Patterns refused by node: a MaxPool's Indices or BN's running statistics
 * used, dilations, auto_pad, Flatten's axis, a Mul that is no SiLU, another
 * domain's operator, an undefined input, an unnamed node ("<op>_<index>"). */
static PetscErrorCode onnx_unsupported_patterns_are_refused_naming_the_node(void)
{
  static const char *const names[] = {"indices", "bn_stats", "dilated",   "same_pad", "flatten2",
                                      "mul",     "custom",   "undefined", "unnamed"};
  PetscFunctionBeginUser;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) PetscCall(check_refused(names[i]));
  PetscFunctionReturn(0);
}

/* A missing file and bytes that are no protobuf: one line naming the file, on every rank. */
static PetscErrorCode onnx_missing_or_corrupt_file_is_refused_in_one_line(void)
{
  char           path[PETSC_MAX_PATH_LEN];
  NnGraph        g;
  PetscErrorCode ierr;
  int            ok = 1;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/none.onnx", nn_test_scratch()));
  ierr = nn_onnx_read(PETSC_COMM_WORLD, path, &g);
  PetscCall(nn_expect_error(ierr, "reading a missing file", path, "cannot read the ONNX model", NULL));
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/garbage_np%d.onnx", nn_test_scratch(), nn_test_size()));
  if (!nn_test_rank()) {
    FILE *f = fopen(path, "wb");
    ok      = f && fputs("\xff\xff\xff\xff this is not a protobuf", f) >= 0 && !fclose(f);
  }
  PetscCallMPI(MPI_Bcast(&ok, 1, MPI_INT, 0, PETSC_COMM_WORLD));
  NN_CHECK(ok, "cannot write %s", path);
  ierr = nn_onnx_read(PETSC_COMM_WORLD, path, &g);
  PetscCall(nn_expect_error(ierr, "reading garbage", path, "not an ONNX model", NULL));
  NN_EXPECT(!g.nodes, "a failed read left a graph");
  PetscCall(nn_expectations_met());
  PetscFunctionReturn(0);
}

/* g->crc32 is zlib's CRC-32 of the file's bytes. */
static PetscErrorCode onnx_graph_records_the_files_crc32(void)
{
  char     path[PETSC_MAX_PATH_LEN], *bytes;
  size_t   len;
  NnGraph  g;
  uLong    crc;
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/chain.onnx", MODELS));
  PetscCall(slurp(path, &bytes, &len));
  crc = crc32(crc32(0L, Z_NULL, 0), (const Bytef *)bytes, (uInt)len);
  PetscCall(PetscFree(bytes));
  PetscCall(nn_onnx_read(PETSC_COMM_WORLD, path, &g));
  NN_CHECK(g.crc32 == (unsigned int)crc, "crc32 %08x, zlib says %08lx", g.crc32, crc);
  PetscCall(nn_graph_free(&g));
  PetscFunctionReturn(0);
}

NN_TEST_MAIN(NN_TEST_CASE(onnx_chain_imports_with_kinds_shapes_and_exact_weights),
             NN_TEST_CASE(onnx_fixed_batch_and_initializers_as_inputs_are_read),
             NN_TEST_CASE(onnx_residual_add_takes_two_earlier_tensors), NN_TEST_CASE(onnx_mlp_keeps_its_dropout_ratios),
             NN_TEST_CASE(onnx_matmul_and_its_bias_are_one_dense_node),
             NN_TEST_CASE(onnx_resnet18_imports_with_its_parameter_count),
             NN_TEST_CASE(onnx_unsupported_operator_is_refused_naming_the_node),
             NN_TEST_CASE(onnx_unsupported_attribute_is_refused_naming_node_and_value),
             NN_TEST_CASE(onnx_opset_outside_13_to_17_is_refused),
             NN_TEST_CASE(onnx_gemm_transb0_reshape_identity_dropout_default),
             NN_TEST_CASE(onnx_model_outside_the_supported_form_is_refused),
             NN_TEST_CASE(onnx_inconsistent_shapes_are_refused_naming_the_node),
             NN_TEST_CASE(onnx_unsupported_patterns_are_refused_naming_the_node),
             NN_TEST_CASE(onnx_missing_or_corrupt_file_is_refused_in_one_line),
             NN_TEST_CASE(onnx_graph_records_the_files_crc32))
