nncas_test(test_h5io SOURCES test_h5io.c RANKS 1 2 3)
