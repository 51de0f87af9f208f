nncas_test(test_dense SOURCES test_dense.c RANKS 1 2 3)
