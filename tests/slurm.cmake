# SLURM jobs that survive their wall time, on a real one-node SLURM started by
# the test itself (tests/slurm/: slurm.conf.in, cluster.sh, test_chain.sh).
# Needs root and Debian's slurm-wlm and munge (tests/run.sh installs them);
# skipped (exit 77) without them. About 3 minutes on 2 cores (longer on a busy
# machine: its waits follow the jobs' progress); its own budget (1500 s) ends
# before TIMEOUT, so that it always stops the cluster it started.
add_test(NAME slurm_chain_survives_wall_time
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/slurm/test_chain.sh $<TARGET_FILE_DIR:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_slurm)
set_tests_properties(slurm_chain_survives_wall_time PROPERTIES
  ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 1800 PROCESSORS 2 SKIP_RETURN_CODE 77 LABELS slurm)
