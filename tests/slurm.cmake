# SLURM jobs that survive their wall time, on a real one-node SLURM started by
# each test itself (tests/slurm/: slurm.conf.in, cluster.sh, lib.sh and the
# test_*.sh scripts). Needs root and Debian's slurm-wlm and munge
# (tests/run.sh installs them); skipped (exit 77) without them. RUN_SERIAL:
# one cluster at a time on the machine. Each test's waits follow the jobs'
# progress (longer on a busy machine), and its own budget (1500 s) ends
# before TIMEOUT, so that it always stops the cluster it started.
#
# The resubmission chain, under real wall-time limits, and jobs killed or
# cancelled: about 3 minutes on 2 cores.
add_test(NAME slurm_chain_survives_wall_time
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/slurm/test_chain.sh $<TARGET_FILE_DIR:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_slurm)
# The requeue chain (NNCAS_CHAIN_MODE=requeue): a run requeued twice finishes
# as an uninterrupted one; NNCAS_MAX_RESUBMITS stops it. About 2 minutes.
add_test(NAME slurm_requeue_continues_bitwise
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/slurm/test_requeue.sh $<TARGET_FILE_DIR:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_slurm_requeue)
# Sweeps as job arrays (jobs/slurm/sweep.sbatch): one output directory per
# task, a task continued alone in either chain mode. About 2 minutes.
add_test(NAME slurm_array_tasks_own_directories
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/slurm/test_array.sh $<TARGET_FILE_DIR:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_slurm_array)
# The analysis job (jobs/slurm/analysis.sbatch): the stages of kept epochs
# as an array on 2 ranks with 2 groups, one task warned inside its spectrum
# and resubmitted, equal the training run's stages. About 1.5 minutes.
add_test(NAME slurm_analysis_array_equals_training_stages
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/slurm/test_analysis.sh $<TARGET_FILE_DIR:nncas> ${CMAKE_CURRENT_BINARY_DIR}/scratch_slurm_analysis)
set_tests_properties(slurm_chain_survives_wall_time slurm_requeue_continues_bitwise slurm_array_tasks_own_directories
  slurm_analysis_array_equals_training_stages PROPERTIES
  ENVIRONMENT "${NNCAS_TEST_ENV}" TIMEOUT 1800 PROCESSORS 2 SKIP_RETURN_CODE 77 LABELS slurm RUN_SERIAL TRUE)
