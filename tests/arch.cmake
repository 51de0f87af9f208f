# The house rules of docs/architecture.md: module layering, no loops between
# files, file and function sizes (check_layers.py on the built objects), and
# the checker's own tests on small trees.
add_test(NAME architecture_is_layered_without_loops
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/arch/check_layers.py ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
add_test(NAME architecture_checker_catches_violations
  COMMAND /usr/bin/python3 -m pytest -q -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/arch)
