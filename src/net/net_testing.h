/* Test-only seams of the net: what the tests and fuzz targets set up that no
 * program needs. Declared here, implemented in src/net; tests include it
 * instead of writing the net's private fields (tests/arch/check_layers.py). */
#ifndef NNCAS_NET_TESTING_H
#define NNCAS_NET_TESTING_H

#include "nncas/net.h"

/* The layer-string parser alone (fuzz/fuzz_layers.c): the layers of the
 * net's layer string (net_set_spec) for inputs (c, h, w) as net_setup lays
 * them out, with their shapes, but no theta layout and no buffers. The net
 * can only be destroyed afterwards. */
PetscErrorCode net_testing_parse(Net net, PetscInt c, PetscInt h, PetscInt w);

#endif
