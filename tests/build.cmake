# Building and installing as on a cluster (cmake/nncas_deps.cmake,
# cmake/nncas_install.cmake).
add_test(NAME install_tree_runs_from_its_module
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_install.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR} ${CMAKE_CURRENT_BINARY_DIR}/install)
set_tests_properties(install_tree_runs_from_its_module PROPERTIES
  ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 600 LABELS "build;install")
