/* The net's test-only seams (net_testing.h). */
#include "netimpl.h"
#include "net_testing.h"

PetscErrorCode net_testing_parse(Net net, PetscInt c, PetscInt h, PetscInt w)
{
  PetscFunctionBeginUser;
  net->input = (NnShape){c, h, w, h * w > 1}; /* as net_setup */
  PetscCall(net_parse(net));
  PetscFunctionReturn(0);
}
