nncas_test(test_hessian SOURCES test_hessian.c RANKS 1 2 3)
nncas_test(test_hessian_dense SOURCES test_hessian_dense.c RANKS 1 2 3)
nncas_test(test_precision SOURCES test_precision.c RANKS 1 2 3)
