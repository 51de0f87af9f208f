# Data module: readers, relabelling, statistics, augmentation, synthetic data.
nncas_test(test_data SOURCES test_data.c RANKS 1 2 3 LABELS data)
