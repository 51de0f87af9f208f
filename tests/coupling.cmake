nncas_test(test_coupling SOURCES test_coupling.c RANKS 1 2 3)
