# The ONNX reader (src/import): PyTorch models exported by
# tests/python/onnx_models.py (the fixture, run first) are read on 1, 2 and 3
# ranks; each property is its own test, named as the property.
add_test(NAME onnx_models_are_exported
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/python/onnx_models.py ${CMAKE_CURRENT_BINARY_DIR}/onnx_models)
set_tests_properties(onnx_models_are_exported PROPERTIES
  FIXTURES_SETUP onnx_models TIMEOUT 600 ENVIRONMENT "OMP_NUM_THREADS=1" LABELS import)
add_executable(test_import test_import.c)
target_link_libraries(test_import PRIVATE nncas_testlib)
foreach(case
    onnx_chain_imports_with_kinds_shapes_and_exact_weights
    onnx_fixed_batch_and_initializers_as_inputs_are_read
    onnx_residual_add_takes_two_earlier_tensors
    onnx_mlp_keeps_its_dropout_ratios
    onnx_matmul_and_its_bias_are_one_dense_node
    onnx_resnet18_imports_with_its_parameter_count
    onnx_unsupported_operator_is_refused_naming_the_node
    onnx_unsupported_attribute_is_refused_naming_node_and_value
    onnx_opset_outside_13_to_17_is_refused
    onnx_gemm_transb0_reshape_identity_dropout_default
    onnx_model_outside_the_supported_form_is_refused
    onnx_inconsistent_shapes_are_refused_naming_the_node
    onnx_unsupported_patterns_are_refused_naming_the_node
    onnx_missing_or_corrupt_file_is_refused_in_one_line
    onnx_graph_records_the_files_crc32)
  foreach(np 1 2 3)
    add_test(NAME ${case}_np${np}
      COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${np} --oversubscribe $<TARGET_FILE:test_import> -test ${case})
    set_tests_properties(${case}_np${np} PROPERTIES
      ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 300 PROCESSORS ${np} FIXTURES_REQUIRED onnx_models LABELS import)
  endforeach()
endforeach()
