nncas_test(test_train SOURCES test_train.c RANKS 1 2 3)

add_test(NAME restart_across_rank_counts
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_restart_ranks.sh $<TARGET_FILE:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_restart)
set_tests_properties(restart_across_rank_counts PROPERTIES ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 600 PROCESSORS 3)

add_test(NAME bad_input_is_one_clear_line
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_cli.sh $<TARGET_FILE:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_cli)
set_tests_properties(bad_input_is_one_clear_line PROPERTIES ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 600 PROCESSORS 2)
