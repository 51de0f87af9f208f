/* The floating-point type of the sources compiled once per precision.
 *
 * The layer kernels and the network's passes (src/net/layer_*.c,
 * src/net/net_pass.c) and the Hessian's per-slice product
 * (src/hessian/slice.c) are written once, against nn_real, and CMake
 * compiles each of them twice: as they are (nn_real = double), and with
 * NN_SINGLE defined (nn_real = float, for -hessian_precision single). Every
 * global symbol such a source defines is spelled NN_R(name): name in the
 * double objects, name_single in the single ones, so both link into one
 * library and a caller picks the precision by name (net_forward,
 * net_forward_single). Everything else (the objects' life cycles, options,
 * statistics, files) is compiled once, in double. */
#ifndef NNCAS_REAL_H
#define NNCAS_REAL_H

#ifdef NN_SINGLE
typedef float nn_real;
#define NN_R(name)     name##_single
#define NN_REAL_SUFFIX "_single"
#else
typedef double nn_real;
#define NN_R(name)     name
#define NN_REAL_SUFFIX ""
#endif

#endif
