# Building and installing as on a cluster (cmake/nncas_deps.cmake,
# cmake/nncas_install.cmake). The build test compiles nncas once more in its own
# directory (a few minutes on 2 cores): PROCESSORS 2 keeps ctest -j 2 from
# running anything beside it.
add_test(NAME build_from_petsc_dir_without_pkgconfig_names
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_build_portable.sh ${CMAKE_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/build_portable)
set_tests_properties(build_from_petsc_dir_without_pkgconfig_names PROPERTIES
  ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 1200 PROCESSORS 2 LABELS build)
add_test(NAME install_tree_runs_from_its_module
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_install.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR} ${CMAKE_CURRENT_BINARY_DIR}/install)
set_tests_properties(install_tree_runs_from_its_module PROPERTIES
  ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 600 LABELS "build;install")
