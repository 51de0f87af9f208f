nncas_test(test_train SOURCES test_train.c RANKS 1 2 3)

add_test(NAME restart_across_rank_counts
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_restart_ranks.sh $<TARGET_FILE:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_restart)
set_tests_properties(restart_across_rank_counts PROPERTIES ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 600 PROCESSORS 3)

add_test(NAME bad_input_is_one_clear_line
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_cli.sh $<TARGET_FILE:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_cli)
set_tests_properties(bad_input_is_one_clear_line PROPERTIES ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 600 PROCESSORS 2)

add_test(NAME kill_restart_bitwise
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_kill_restart.sh $<TARGET_FILE:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_kill 50)
set_tests_properties(kill_restart_bitwise PROPERTIES ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 900 PROCESSORS 2)

foreach(np 1 2 3)
  add_test(NAME divergence_np${np}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_divergence.sh $<TARGET_FILE:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_divergence${np} ${np})
  set_tests_properties(divergence_np${np} PROPERTIES ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 600 PROCESSORS ${np})
endforeach()

foreach(stage coupling spectrum)
  foreach(np 1 2 3)
    add_test(NAME ${stage}_stop_resumes_bitwise_np${np}
      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_stage_stop.sh $<TARGET_FILE:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_${stage}_stop${np} ${np} ${stage})
    set_tests_properties(${stage}_stop_resumes_bitwise_np${np} PROPERTIES ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 600 PROCESSORS ${np})
  endforeach()
endforeach()
# The same with rank groups on 4 ranks: a stop inside a round of G = 2 groups.
foreach(stage coupling spectrum)
  add_test(NAME stage_groups_${stage}_stop_resumes_bitwise_np4
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_stage_stop.sh $<TARGET_FILE:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_${stage}_groups_stop 4 ${stage} 0 -stage_groups 2)
  set_tests_properties(stage_groups_${stage}_stop_resumes_bitwise_np4 PROPERTIES ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 600 PROCESSORS 4)
endforeach()
add_test(NAME stage_stop_on_sigusr1_resumes_bitwise
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_stage_stop.sh $<TARGET_FILE:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_stage_signal 2 coupling 1)
set_tests_properties(stage_stop_on_sigusr1_resumes_bitwise PROPERTIES ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 900 PROCESSORS 2)

add_test(NAME results_file_parts_are_written_once
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_results_once.sh $<TARGET_FILE:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_results_once)
set_tests_properties(results_file_parts_are_written_once PROPERTIES ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 300 PROCESSORS 2)

add_test(NAME stages_from_kept_checkpoint_np3
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_stages_from_checkpoint.sh $<TARGET_FILE:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_stages_from_checkpoint)
set_tests_properties(stages_from_kept_checkpoint_np3 PROPERTIES ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 300 PROCESSORS 3)
