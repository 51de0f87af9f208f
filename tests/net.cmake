nncas_test(test_net SOURCES test_net.c RANKS 1 2 3)
