# Data module: readers, relabelling, statistics, augmentation, synthetic data.
nncas_test(test_data SOURCES test_data.c RANKS 1 2 3 LABELS data)

# -data_format h5: the HDF5 files are written by h5py into the build tree (a
# fixture, never committed), then read on 1, 2 and 3 ranks; the malformed ones
# must make the program exit non-zero with its one-line message, without a hang.
add_test(NAME h5data_fixtures
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/h5data_fixtures.py ${CMAKE_CURRENT_BINARY_DIR}/h5data)
set_tests_properties(h5data_fixtures PROPERTIES FIXTURES_SETUP h5data LABELS data)
nncas_test(test_h5data SOURCES test_h5data.c RANKS 1 2 3 LABELS data)
foreach(np 1 2 3)
  set_tests_properties(test_h5data_np${np} PROPERTIES FIXTURES_REQUIRED h5data)
  add_test(NAME h5data_malformed_files_exit_nonzero_with_one_line_np${np}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_h5data_cli.sh $<TARGET_FILE:nncas> ${CMAKE_CURRENT_BINARY_DIR}/h5data ${np}
            ${CMAKE_CURRENT_BINARY_DIR}/scratch_h5data_cli_np${np})
  set_tests_properties(h5data_malformed_files_exit_nonzero_with_one_line_np${np} PROPERTIES
    FIXTURES_REQUIRED h5data ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 300 PROCESSORS ${np} LABELS data)
endforeach()
