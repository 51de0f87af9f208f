nncas_test(test_hessian SOURCES test_hessian.c RANKS 1 2 3)
