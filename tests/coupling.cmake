nncas_test(test_coupling SOURCES test_coupling.c RANKS 1 2 3)

# -coupling_precision single against double on 2 ranks: same counts, correlations within 1e-5.
add_test(NAME coupling_precision_single_matches_double
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_coupling_precision.sh $<TARGET_FILE:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_coupling_precision)
set_tests_properties(coupling_precision_single_matches_double PROPERTIES ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 300 PROCESSORS 2)
