# The program's command line (src/main.c, src/usage.c) on 2 ranks: -help and
# -version, and an option that nothing reads refused before any work.
add_test(NAME cli_help_lists_every_option_and_unknown_options_stop_before_work
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_usage.sh $<TARGET_FILE:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_usage
          ${CMAKE_SOURCE_DIR})
set_tests_properties(cli_help_lists_every_option_and_unknown_options_stop_before_work PROPERTIES
  ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 300 PROCESSORS 2 LABELS cli)
