nncas_test(test_spectrum SOURCES test_spectrum.c RANKS 1 2 3)
