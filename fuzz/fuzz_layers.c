/* libFuzzer target: the layer-string parser (-net_layers) on arbitrary
 * strings, for three input shapes (1x28x28, 3x32x32 and 10 flat features).
 * Properties: no crash, leak or undefined behaviour (in particular no integer
 * overflow in the shapes and parameter counts); a parsed net chains its
 * shapes and ends with flat outputs (K per sample). A net that parses and is small is then set
 * up and run forward and backward on two samples, which checks the kernels
 * against the shapes the parser computed. */
#include "fuzz_common.h"

#include "layers.h"      /* white-box: the parsed layers and their shapes */
#include "net_testing.h" /* net_testing_parse: the parser alone, without the buffers */

#include <string.h>

#define SMALL 200000 /* parameters, features and per-sample conv work of a net run forward */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  nn_fuzz_init();
  return 0;
}

/* The shapes of a parsed net chain from the input to flat outputs; *small says
 * whether it is cheap to run. */
static void check_parsed(Net net, PetscBool *small)
{
  NnShape cur   = net->input;
  double  work  = 0, params = 0, feat = 0;
  if (net->nlayers < 1) nn_fuzz_fail("net_parse: no layers");
  for (PetscInt l = 0; l < net->nlayers; l++) {
    const Layer *L = &net->layers[l];
    if (L->in.c != cur.c || L->in.h != cur.h || L->in.w != cur.w || L->in.spatial != cur.spatial)
      nn_fuzz_fail("net_parse: a layer's input is not its predecessor's output");
    if (L->out.c < 1 || L->out.h < 1 || L->out.w < 1) nn_fuzz_fail("net_parse: an empty tensor");
    if (L->kind == LAYER_DENSE || L->kind == LAYER_CONV) {
      double w = (double)L->out.c * (L->kind == LAYER_DENSE ? (double)nn_shape_size(L->in) : (double)L->in.c * L->win.kh * L->win.kw);
      params += w;
      work += L->kind == LAYER_CONV ? w * L->out.h * L->out.w : w;
    }
    feat = PetscMax(feat, (double)L->out.c * L->out.h * L->out.w);
    cur  = L->out;
  }
  if (cur.spatial && nn_shape_size(cur) != 1) nn_fuzz_fail("net_parse: the net does not end with flat outputs");
  *small = params <= SMALL && feat <= SMALL && work <= 50 * SMALL ? PETSC_TRUE : PETSC_FALSE;
}

/* net_setup, forward and backward of two samples; all errors are failures. */
static void run_small(const char *spec, NnShape in, PetscBool bias)
{
  Net      net;
  double  *theta, *grad, *out, *dout, x[2 * 3 * 32 * 32];
  PetscInt ids[2] = {0, 1};
  if (net_create(PETSC_COMM_SELF, &net)) nn_fuzz_fail("net_create");
  if (net_set_bias(net, bias) || net_set_spec(net, spec)) nn_fuzz_fail("net_set_spec");
  if (net_setup(net, in.c, in.h, in.w, 2)) nn_fuzz_fail("net_setup failed on a net that parses");
  if (PetscCalloc1(net->N + 1, &theta) || PetscCalloc1(net->N + 1, &grad) || PetscMalloc2(2 * net->K, &out, 2 * net->K, &dout))
    nn_fuzz_fail("out of memory");
  for (PetscInt i = 0; i < 2 * net->K; i++) dout[i] = i % 2 ? -1 : 1;
  for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (double)(i % 7) - 3;
  NnPass p = {.B = 2, .Bglobal = 2, .batch_comm = PETSC_COMM_SELF, .train = PETSC_TRUE, .dropout_key = 1, .sample_ids = ids};
  if (net_init_params(net, theta) || net_forward(net, &p, theta, x, out) || net_backward(net, &p, theta, dout, grad))
    nn_fuzz_fail("a net that parses cannot run");
  PetscFree(theta);
  PetscFree(grad);
  PetscFree2(out, dout);
  net_destroy(&net);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const NnShape inputs[] = {{1, 28, 28, PETSC_TRUE}, {3, 32, 32, PETSC_TRUE}, {10, 1, 1, PETSC_FALSE}};
  char                 spec[NN_NET_SPEC_MAX];
  size_t               len = PetscMin(size, sizeof spec - 1);
  memcpy(spec, data, len);
  spec[len] = 0; /* stops at an embedded NUL, as a C string does */
  for (size_t k = 0; k < sizeof inputs / sizeof inputs[0]; k++) {
    Net       net;
    PetscBool small = PETSC_FALSE;
    if (net_create(PETSC_COMM_SELF, &net)) nn_fuzz_fail("net_create");
    if (net_set_spec(net, spec)) nn_fuzz_fail("net_set_spec");
    if (!net_testing_parse(net, inputs[k].c, inputs[k].h, inputs[k].w)) check_parsed(net, &small);
    net_destroy(&net);
    if (small) run_small(spec, inputs[k], len % 2 ? PETSC_TRUE : PETSC_FALSE);
  }
  return 0;
}
