/* The floating-point type of the sources compiled once per precision.
 *
 * The layer kernels and the network's passes (src/net/layer_*.c,
 * src/net/net_pass.c) and the Hessian's per-slice product
 * (src/hessian/slice.c) are written once, against nn_real and with plain
 * (float64) names, and CMake compiles each of them twice: as they are
 * (nn_real = double), and with include/nncas/real_single.h force-included
 * (NN_SINGLE, nn_real = float, for -hessian_precision single), which renames
 * every global symbol they define to name_single; so both link into one
 * library and a caller picks the precision by name (net_forward,
 * net_forward_single). Everything else (the objects' life cycles, options,
 * statistics, files) is compiled once, in double. */
#ifndef NNCAS_REAL_H
#define NNCAS_REAL_H

#ifdef NN_SINGLE
typedef float nn_real;
#define NN_REAL_SUFFIX "_single" /* of the -log_view event names */
#else
typedef double nn_real;
#define NN_REAL_SUFFIX ""
#endif

#endif
