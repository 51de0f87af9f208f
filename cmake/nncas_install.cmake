# `cmake --install BUILD --prefix P` writes:
#   P/bin/nncas, P/bin/nncas_bench_{hvp,table2,dgemm}        the programs
#   P/share/nncas/inputs/*.opts                             the experiments' option files
#   P/lib/python3/site-packages/nncas_post/                 postprocess/ as a package
#   P/share/nncas/modulefiles/nncas/<version>               an environment module (Tcl;
#                                                           Lmod reads it too)
# (Included after the targets; GNUInstallDirs and the run path are set in
# CMakeLists.txt before them.)
set(NNCAS_INSTALL_PYTHONDIR "lib/python3/site-packages" CACHE STRING
  "where the Python package nncas_post goes, relative to the install prefix")
set(NNCAS_INSTALL_DATADIR "${CMAKE_INSTALL_DATADIR}/nncas")

# The benchmarks go beside nncas: bench/*.sh and docs/performance.md time a machine with them.
install(TARGETS nncas nncas_bench_hvp nncas_bench_table2 nncas_bench_dgemm RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
file(GLOB NNCAS_INPUT_FILES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/inputs/*.opts)
install(FILES ${NNCAS_INPUT_FILES} DESTINATION ${NNCAS_INSTALL_DATADIR}/inputs)
install(DIRECTORY postprocess/ DESTINATION ${NNCAS_INSTALL_PYTHONDIR}/nncas_post
  FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)

# The module file names the prefix given at install time (--prefix), so it is
# written by the install step itself.
install(CODE "
  set(NNCAS_VERSION \"${PROJECT_VERSION}\")
  set(NNCAS_GIT_HASH \"${NNCAS_GIT_HASH}\")
  set(NNCAS_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(NNCAS_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  set(NNCAS_PYTHONDIR \"\${CMAKE_INSTALL_PREFIX}/${NNCAS_INSTALL_PYTHONDIR}\")
  set(NNCAS_SHARE \"\${CMAKE_INSTALL_PREFIX}/${NNCAS_INSTALL_DATADIR}\")
  set(modulefile \"\$ENV{DESTDIR}\${NNCAS_SHARE}/modulefiles/nncas/${PROJECT_VERSION}\")
  message(STATUS \"Installing: \${modulefile}\")
  configure_file(\"${CMAKE_CURRENT_SOURCE_DIR}/cmake/nncas.modulefile.in\" \"\${modulefile}\" @ONLY)
")
