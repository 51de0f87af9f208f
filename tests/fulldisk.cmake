# A full disk during a checkpoint or results write: the HDF5 layer's contract
# with every write failing in turn (injected), and the driver end to end.
nncas_test(test_h5io_full_disk SOURCES test_h5io_full_disk.c RANKS 1 2 3 TIMEOUT 120)

# End to end (tests/test_full_disk.sh): injected at several writes, and on a
# small tmpfs (skipped where mounting one is not allowed).
foreach(np 1 2)
  add_test(NAME full_disk_fails_cleanly_and_keeps_checkpoint_np${np}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_full_disk.sh $<TARGET_FILE:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_full_disk${np} ${np} inject)
  set_tests_properties(full_disk_fails_cleanly_and_keeps_checkpoint_np${np} PROPERTIES
    ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 300 PROCESSORS ${np})
  add_test(NAME full_tmpfs_fails_cleanly_and_keeps_checkpoint_np${np}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_full_disk.sh $<TARGET_FILE:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_full_tmpfs${np} ${np} tmpfs)
  set_tests_properties(full_tmpfs_fails_cleanly_and_keeps_checkpoint_np${np} PROPERTIES
    ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 300 PROCESSORS ${np} SKIP_RETURN_CODE 77)
endforeach()
