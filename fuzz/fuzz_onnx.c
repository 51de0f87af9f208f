/* libFuzzer target: the ONNX reader (nn_onnx_read) on arbitrary bytes.
 * Properties: no crash, leak or undefined behaviour; on success the graph is
 * well formed (at least one node; node i takes one input, two for an Add,
 * each an earlier tensor; a node's parameters hold the values its dims
 * announce, all readable; the output width positive); on error the graph is
 * left zeroed. */
#include "fuzz_common.h"

#include "nncas/graph.h"

#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  nn_fuzz_init();
  return 0;
}

/* Every value of node i's parameters is there to read. */
static void check_params(const NnGraphNode *nd)
{
  size_t nw = 1;
  if (nd->weight_ndims < 0 || nd->weight_ndims > 4) nn_fuzz_fail("weight_ndims out of range");
  for (PetscInt d = 0; d < nd->weight_ndims; d++) {
    if (nd->weight_dims[d] <= 0) nn_fuzz_fail("a weight dimension is not positive");
    nw *= (size_t)nd->weight_dims[d];
  }
  if (nd->weight) nn_fuzz_touch((const uint8_t *)nd->weight, nw * sizeof(double));
  if (nd->bias) nn_fuzz_touch((const uint8_t *)nd->bias, (size_t)nd->nbias * sizeof(double));
  if (nd->kind == NN_NODE_BN && (!nd->mean || !nd->var || nd->nbias != nd->weight_dims[0]))
    nn_fuzz_fail("a batch normalization without its statistics");
  if (nd->mean) nn_fuzz_touch((const uint8_t *)nd->mean, (size_t)nd->nbias * sizeof(double));
  if (nd->var) nn_fuzz_touch((const uint8_t *)nd->var, (size_t)nd->nbias * sizeof(double));
  if ((nd->kind == NN_NODE_CONV || nd->kind == NN_NODE_DENSE) && (!nd->weight || nd->weight_dims[0] != nd->out_channels))
    nn_fuzz_fail("a conv or dense node without its weight (OC, ...)");
}

static void check_graph(const NnGraph *g)
{
  if (g->nnodes < 1 || !g->nodes || g->outputs < 1) nn_fuzz_fail("a graph without nodes or outputs");
  if (g->c < 1 || g->h < 1 || g->w < 1) nn_fuzz_fail("an input shape that is not positive");
  for (PetscInt i = 0; i < g->nnodes; i++) {
    const NnGraphNode *nd = &g->nodes[i];
    if (nd->ninputs != (nd->kind == NN_NODE_ADD ? 2 : 1)) nn_fuzz_fail("wrong number of inputs");
    for (PetscInt j = 0; j < nd->ninputs; j++)
      if (nd->input[j] < 0 || nd->input[j] > i) nn_fuzz_fail("an input that is not an earlier tensor");
    if (!memchr(nd->name, 0, sizeof nd->name)) nn_fuzz_fail("a name without its end");
    check_params(nd);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *path = nn_fuzz_write_file("model.onnx", data, size);
  NnGraph     g;
  memset(&g, 0x5a, sizeof g); /* nn_onnx_read must set everything */
  if (nn_onnx_read(PETSC_COMM_SELF, path, &g)) {
    if (g.nodes || g.nnodes || g.outputs) nn_fuzz_fail("nn_onnx_read failed but returned a graph");
    return 0;
  }
  check_graph(&g);
  if (nn_graph_free(&g) || g.nodes) nn_fuzz_fail("nn_graph_free");
  return 0;
}
