# nncas's dependencies, found as a PETSc application finds them, so that the
# same CMakeLists.txt builds on Debian 12 (jobs/setup.sh) and on a cluster
# whose libraries come from Spack, EasyBuild or the vendor (Cray):
#
#   PETSc, SLEPc  PETSC_DIR (+ PETSC_ARCH), SLEPC_DIR: their own PETSc.pc and
#                 SLEPc.pc ($DIR/$PETSC_ARCH/lib/pkgconfig or $DIR/lib/pkgconfig);
#                 default Debian's /usr/lib/petsc and /usr/lib/slepc
#   MPI           find_package(MPI): MPI_HOME or MPI_C_COMPILER
#   HDF5          find_package(HDF5): HDF5_ROOT (or h5pcc on PATH); must be parallel
#   BLAS, LAPACK  find_package(BLAS/LAPACK): BLA_VENDOR, or BLAS_LIBRARIES and
#                 LAPACK_LIBRARIES; CBLAS_INCLUDE_DIR for the cblas.h
#   ScaLAPACK     SCALAPACK_LIBRARIES, else its CMake package (scalapack_DIR or
#                 CMAKE_PREFIX_PATH), else pkg-config (Debian: scalapack-openmpi)
#   protobuf-c    PROTOBUFC_ROOT, else pkg-config libprotobuf-c as a hint, else
#                 the default paths; protoc-c beside it or on PATH
#   zlib          find_package(ZLIB): ZLIB_ROOT
#
# Each of these variables may be given to cmake with -D; PETSC_DIR,
# PETSC_ARCH, SLEPC_DIR, HDF5_ROOT and PROTOBUFC_ROOT are also read from the
# environment at the first configure. A dependency that is missing stops the
# configure with one message naming the variable to set. Everything is
# gathered in the interface target nncas_deps; NNCAS_HAVE_OPENBLAS says
# whether the BLAS is OpenBLAS (src/core/blas.c).

include(CheckCSourceCompiles)
include(CheckFunctionExists)

# nncas_path_setting(VAR DEFAULT DOC): the cache variable VAR from -DVAR, else
# from the environment, else DEFAULT if that exists.
function(nncas_path_setting var default doc)
  if(NOT ${var})
    set(value "")
    if(NOT "$ENV{${var}}" STREQUAL "")
      set(value "$ENV{${var}}")
    elseif(default AND EXISTS "${default}")
      set(value "${default}")
    endif()
    set(${var} "${value}" CACHE PATH "${doc}" FORCE)
  endif()
endfunction()

# nncas_summary(NAME HOW): one line of the configure's summary, "nncas: NAME: HOW"
# (tests/test_build_portable.sh reads them).
function(nncas_summary name how)
  message(STATUS "nncas: ${name}: ${how}")
endfunction()

add_library(nncas_deps INTERFACE)

# --- MPI -----------------------------------------------------------------------
find_package(MPI COMPONENTS C QUIET)
if(NOT MPI_C_FOUND)
  message(FATAL_ERROR "MPI not found: set MPI_HOME to the MPI installation, or MPI_C_COMPILER to its mpicc")
endif()
nncas_summary(MPI "${MPI_C_LIBRARIES}")

# --- PETSc and SLEPc, from their own .pc files ------------------------------------
find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found (it reads PETSc's and SLEPc's PETSc.pc and SLEPc.pc): install it, or set PKG_CONFIG_EXECUTABLE")
endif()
nncas_path_setting(PETSC_DIR /usr/lib/petsc "PETSc: its prefix, or its source tree with PETSC_ARCH")
nncas_path_setting(SLEPC_DIR /usr/lib/slepc "SLEPc: its prefix, or its source tree (built for PETSC_ARCH)")
if(NOT PETSC_ARCH)
  set(PETSC_ARCH "$ENV{PETSC_ARCH}" CACHE STRING "PETSc's build of a source tree (empty for a prefix install)" FORCE)
endif()

# nncas_find_pc(OUT DIR NAMES...): the directory of DIR's .pc file, looked for
# in DIR/PETSC_ARCH/lib/pkgconfig, then DIR/lib/pkgconfig; OUT_NAME its module name.
function(nncas_find_pc out dir)
  set(${out} "" PARENT_SCOPE)
  if(NOT dir)
    return()
  endif()
  set(candidates "${dir}/lib/pkgconfig")
  if(PETSC_ARCH)
    list(PREPEND candidates "${dir}/${PETSC_ARCH}/lib/pkgconfig")
  endif()
  foreach(d IN LISTS candidates)
    foreach(name IN LISTS ARGN)
      if(EXISTS "${d}/${name}.pc")
        set(${out} "${d}" PARENT_SCOPE)
        set(${out}_NAME "${name}" PARENT_SCOPE)
        return()
      endif()
    endforeach()
  endforeach()
endfunction()

nncas_find_pc(NNCAS_PETSC_PC_DIR "${PETSC_DIR}" PETSc petsc)
if(NOT NNCAS_PETSC_PC_DIR)
  message(FATAL_ERROR "PETSc not found: no PETSc.pc in PETSC_DIR/PETSC_ARCH/lib/pkgconfig or PETSC_DIR/lib/pkgconfig (PETSC_DIR='${PETSC_DIR}', PETSC_ARCH='${PETSC_ARCH}'): set PETSC_DIR (and PETSC_ARCH for a PETSc built in its source tree), in the environment or with -DPETSC_DIR=...")
endif()
nncas_find_pc(NNCAS_SLEPC_PC_DIR "${SLEPC_DIR}" SLEPc slepc)
if(NOT NNCAS_SLEPC_PC_DIR)
  message(FATAL_ERROR "SLEPc not found: no SLEPc.pc in SLEPC_DIR/PETSC_ARCH/lib/pkgconfig or SLEPC_DIR/lib/pkgconfig (SLEPC_DIR='${SLEPC_DIR}', PETSC_ARCH='${PETSC_ARCH}'): set SLEPC_DIR, in the environment or with -DSLEPC_DIR=...")
endif()

# pkg-config sees these two directories first (SLEPc.pc requires PETSc by
# name); pkg_check_modules runs again at every configure, and the libraries it
# found before are forgotten, so that a changed PETSC_DIR takes effect.
get_cmake_property(nncas_cache_vars CACHE_VARIABLES)
foreach(v IN LISTS nncas_cache_vars)
  if(v MATCHES "^(pkgcfg_lib_(PETSC|SLEPC)_|__pkg_config_checked_(PETSC|SLEPC)$)")
    unset(${v} CACHE)
  endif()
endforeach()
set(nncas_saved_pc_path "$ENV{PKG_CONFIG_PATH}")
set(ENV{PKG_CONFIG_PATH} "${NNCAS_PETSC_PC_DIR}:${NNCAS_SLEPC_PC_DIR}")
pkg_check_modules(PETSC QUIET IMPORTED_TARGET ${NNCAS_PETSC_PC_DIR_NAME})
pkg_check_modules(SLEPC QUIET IMPORTED_TARGET ${NNCAS_SLEPC_PC_DIR_NAME})
set(ENV{PKG_CONFIG_PATH} "${nncas_saved_pc_path}")
if(NOT PETSC_FOUND)
  message(FATAL_ERROR "PETSc: pkg-config cannot read ${NNCAS_PETSC_PC_DIR}/${NNCAS_PETSC_PC_DIR_NAME}.pc or find its libraries: set PETSC_DIR (and PETSC_ARCH) to a complete PETSc installation")
endif()
if(NOT SLEPC_FOUND)
  message(FATAL_ERROR "SLEPc: pkg-config cannot read ${NNCAS_SLEPC_PC_DIR}/${NNCAS_SLEPC_PC_DIR_NAME}.pc or find its libraries: set SLEPC_DIR to a SLEPc built for the PETSc of PETSC_DIR")
endif()
nncas_summary(PETSc "${PETSC_VERSION}, ${NNCAS_PETSC_PC_DIR}/${NNCAS_PETSC_PC_DIR_NAME}.pc")
nncas_summary(SLEPc "${SLEPC_VERSION}, ${NNCAS_SLEPC_PC_DIR}/${NNCAS_SLEPC_PC_DIR_NAME}.pc")

# --- HDF5, the parallel build -------------------------------------------------------
if(NOT DEFINED HDF5_PREFER_PARALLEL)
  set(HDF5_PREFER_PARALLEL TRUE)
endif()
find_package(HDF5 COMPONENTS C QUIET)
if(NOT HDF5_FOUND)
  message(FATAL_ERROR "HDF5 not found: set HDF5_ROOT to the parallel HDF5 installation (the directory holding include/hdf5.h and lib/, or bin/h5pcc)")
endif()
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "HDF5 ${HDF5_VERSION} (${HDF5_C_INCLUDE_DIRS}) is a serial build: nncas writes its files with MPI-IO and needs parallel HDF5; set HDF5_ROOT to the parallel one (built with --enable-parallel, it has h5pcc)")
endif()
target_include_directories(nncas_deps INTERFACE ${HDF5_C_INCLUDE_DIRS})
target_compile_definitions(nncas_deps INTERFACE ${HDF5_C_DEFINITIONS})
nncas_summary(HDF5 "${HDF5_VERSION} parallel, ${HDF5_C_INCLUDE_DIRS}")

# --- ScaLAPACK ----------------------------------------------------------------------------
set(SCALAPACK_LIBRARIES "" CACHE STRING "ScaLAPACK's libraries (a full path or link flags); empty: look for its CMake package, then pkg-config")
if(SCALAPACK_LIBRARIES)
  set(NNCAS_SCALAPACK ${SCALAPACK_LIBRARIES})
  set(how "SCALAPACK_LIBRARIES=${SCALAPACK_LIBRARIES}")
else()
  # Not in the system directories: Debian 12's scalapack-config.cmake names a
  # library file that does not exist, and find_package would stop there.
  find_package(scalapack CONFIG QUIET NO_SYSTEM_ENVIRONMENT_PATH NO_CMAKE_SYSTEM_PATH)
  if(TARGET scalapack)
    set(NNCAS_SCALAPACK scalapack)
    set(how "CMake package ${scalapack_DIR}")
  else()
    pkg_check_modules(SCALAPACK_PC QUIET IMPORTED_TARGET scalapack-openmpi)
    if(NOT SCALAPACK_PC_FOUND)
      pkg_check_modules(SCALAPACK_PC QUIET IMPORTED_TARGET scalapack)
    endif()
    if(NOT SCALAPACK_PC_FOUND)
      message(FATAL_ERROR "ScaLAPACK not found: set SCALAPACK_LIBRARIES to its library (e.g. -DSCALAPACK_LIBRARIES=/path/libscalapack.so), or scalapack_DIR to the directory of its scalapack-config.cmake")
    endif()
    set(NNCAS_SCALAPACK PkgConfig::SCALAPACK_PC)
    set(how "pkg-config ${SCALAPACK_PC_MODULE_NAME}")
  endif()
endif()
nncas_summary(ScaLAPACK "${how}")

# --- BLAS and LAPACK, called through CBLAS ---------------------------------------------
find_package(BLAS QUIET)
if(NOT BLAS_FOUND)
  message(FATAL_ERROR "BLAS not found: set BLA_VENDOR (OpenBLAS, FlexiBLAS, Intel10_64lp, ...) or BLAS_LIBRARIES")
endif()
find_package(LAPACK QUIET)
if(NOT LAPACK_FOUND)
  message(FATAL_ERROR "LAPACK not found: set BLA_VENDOR (OpenBLAS, FlexiBLAS, Intel10_64lp, ...) or LAPACK_LIBRARIES")
endif()
set(nncas_blas_hints "")
foreach(lib IN LISTS BLAS_LIBRARIES)
  if(IS_ABSOLUTE "${lib}")
    get_filename_component(d "${lib}" DIRECTORY)
    list(APPEND nncas_blas_hints "${d}/../include" "${d}/../../include")
  endif()
endforeach()
find_path(CBLAS_INCLUDE_DIR cblas.h HINTS ${nncas_blas_hints} PATH_SUFFIXES openblas openblas-pthread flexiblas
  DOC "the directory of the BLAS's cblas.h")
if(NOT CBLAS_INCLUDE_DIR)
  message(FATAL_ERROR "cblas.h not found (nncas calls the BLAS through CBLAS): set CBLAS_INCLUDE_DIR to the directory of your BLAS's cblas.h")
endif()
set(CMAKE_REQUIRED_INCLUDES ${CBLAS_INCLUDE_DIR})
set(CMAKE_REQUIRED_LIBRARIES ${BLAS_LIBRARIES})
set(CMAKE_REQUIRED_QUIET ON)
unset(NNCAS_CBLAS_LINKS CACHE)
check_c_source_compiles("#include <cblas.h>
int main(void) { double a = 1, b = 1, c = 0; cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1.0, &a, 1, &b, 1, 0.0, &c, 1); return c != 1; }"
  NNCAS_CBLAS_LINKS)
if(NOT NNCAS_CBLAS_LINKS)
  message(FATAL_ERROR "cblas_dgemm does not compile and link with ${CBLAS_INCLUDE_DIR}/cblas.h and BLAS_LIBRARIES=${BLAS_LIBRARIES}: set BLAS_LIBRARIES to a BLAS with the CBLAS interface (with its libcblas if separate) and CBLAS_INCLUDE_DIR to its cblas.h")
endif()
# OpenBLAS's own query of its kernels (src/core/blas.c); another BLAS builds
# without that check.
unset(NNCAS_HAVE_OPENBLAS CACHE)
check_function_exists(openblas_get_corename NNCAS_HAVE_OPENBLAS)
unset(CMAKE_REQUIRED_INCLUDES)
unset(CMAKE_REQUIRED_LIBRARIES)
unset(CMAKE_REQUIRED_QUIET)
if(NNCAS_HAVE_OPENBLAS)
  nncas_summary(BLAS "OpenBLAS, ${BLAS_LIBRARIES}; ${CBLAS_INCLUDE_DIR}/cblas.h")
else()
  nncas_summary(BLAS "${BLAS_LIBRARIES} (not OpenBLAS: its kernel check, src/core/blas.c, is left out); ${CBLAS_INCLUDE_DIR}/cblas.h")
endif()
target_include_directories(nncas_deps INTERFACE ${CBLAS_INCLUDE_DIR})

# --- protobuf-c (the ONNX reader) ------------------------------------------------------
nncas_path_setting(PROTOBUFC_ROOT "" "protobuf-c's prefix (include/protobuf-c/protobuf-c.h, lib/, bin/protoc-c)")
pkg_check_modules(PC_PROTOBUFC QUIET libprotobuf-c)
find_path(PROTOBUFC_INCLUDE_DIR protobuf-c/protobuf-c.h HINTS ${PROTOBUFC_ROOT}/include ${PC_PROTOBUFC_INCLUDE_DIRS})
find_library(PROTOBUFC_LIBRARY protobuf-c HINTS ${PROTOBUFC_ROOT}/lib ${PROTOBUFC_ROOT}/lib64 ${PC_PROTOBUFC_LIBRARY_DIRS})
if(NOT PROTOBUFC_INCLUDE_DIR OR NOT PROTOBUFC_LIBRARY)
  message(FATAL_ERROR "protobuf-c not found (include/protobuf-c/protobuf-c.h and libprotobuf-c): set PROTOBUFC_ROOT to its prefix (Debian: the package libprotobuf-c-dev)")
endif()
find_program(NNCAS_PROTOC_C protoc-c HINTS ${PROTOBUFC_ROOT}/bin)
if(NOT NNCAS_PROTOC_C)
  message(FATAL_ERROR "protoc-c not found: put it on PATH or set PROTOBUFC_ROOT to the prefix holding bin/protoc-c (Debian: the package protobuf-c-compiler)")
endif()
if(PC_PROTOBUFC_FOUND AND NOT PROTOBUFC_ROOT)
  set(how "found with pkg-config's libprotobuf-c as a hint")
else()
  set(how "PROTOBUFC_ROOT='${PROTOBUFC_ROOT}' or the default paths")
endif()
nncas_summary(protobuf-c "${PROTOBUFC_LIBRARY}, ${NNCAS_PROTOC_C} (${how})")

# --- zlib ------------------------------------------------------------------------------
find_package(ZLIB QUIET)
if(NOT ZLIB_FOUND)
  message(FATAL_ERROR "zlib not found: set ZLIB_ROOT to its prefix")
endif()

target_link_libraries(nncas_deps INTERFACE
  PkgConfig::SLEPC PkgConfig::PETSC ${HDF5_C_LIBRARIES} ${NNCAS_SCALAPACK} ${LAPACK_LIBRARIES} ${BLAS_LIBRARIES}
  MPI::MPI_C ZLIB::ZLIB ${PROTOBUFC_LIBRARY} m)
target_include_directories(nncas_deps INTERFACE ${PROTOBUFC_INCLUDE_DIR})
if(NNCAS_HAVE_OPENBLAS)
  target_compile_definitions(nncas_deps INTERFACE NNCAS_HAVE_OPENBLAS)
endif()
