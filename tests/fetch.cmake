# jobs/fetch_data.sh offline (tests/test_fetch_data.sh): fake archives served on
# 127.0.0.1, checksums, layout, idempotence, one-line errors, and nncas reading
# what was fetched. A few seconds; skipped (77) without curl and wget.
add_test(NAME fetch_data_verifies_checksums_offline
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_fetch_data.sh ${CMAKE_CURRENT_BINARY_DIR}/scratch_fetch $<TARGET_FILE:nncas>)
set_tests_properties(fetch_data_verifies_checksums_offline PROPERTIES
  ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 60 SKIP_RETURN_CODE 77 LABELS fetch)
