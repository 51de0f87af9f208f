nncas_test(test_spectrum SOURCES test_spectrum.c RANKS 1 2 3)
# Rank groups on 4 ranks too (G = 1, 2, 3, 4): the grouping test alone.
add_test(NAME spectrum_groups_np4
  COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 4 --oversubscribe $<TARGET_FILE:test_spectrum> -test groups_give_the_spectrum_of_one_group)
set_tests_properties(spectrum_groups_np4 PROPERTIES ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 300 PROCESSORS 4)

# -stage_groups end to end on 4 ranks: G = 2 and 4 against G = 1, bad G refused.
add_test(NAME stage_groups_agree_np4
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_stage_groups.sh $<TARGET_FILE:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_stage_groups)
set_tests_properties(stage_groups_agree_np4 PROPERTIES ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 600 PROCESSORS 4)
