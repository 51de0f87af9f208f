# Python tests (pytest, Debian's /usr/bin/python3 with h5py, numpy, torch).
add_executable(torch_dump torch_dump.c)
target_link_libraries(torch_dump PRIVATE nncas_core)
target_include_directories(torch_dump PRIVATE ${CMAKE_SOURCE_DIR}/src) # white-box: the impl headers
add_test(NAME python_tests
  COMMAND /usr/bin/python3 -m pytest -q -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/python
          --ignore=${CMAKE_CURRENT_SOURCE_DIR}/python/test_provenance.py)
set_tests_properties(python_tests PROPERTIES
  ENVIRONMENT "${NNCAS_TEST_ENV};NNCAS_BUILD=${CMAKE_BINARY_DIR}" TIMEOUT 900 PROCESSORS 2)
# The results file's provenance: a spectrum recomputed from it and the data
# alone (postprocess/recompute_spectrum.py), the recorded samples on 1, 2, 3 ranks.
add_test(NAME python_provenance
  COMMAND /usr/bin/python3 -m pytest -q -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/python/test_provenance.py)
set_tests_properties(python_provenance PROPERTIES
  ENVIRONMENT "${NNCAS_TEST_ENV};NNCAS_BUILD=${CMAKE_BINARY_DIR}" TIMEOUT 900 PROCESSORS 2)
