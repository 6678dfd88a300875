# cmake/xnnpack.cmake: XNNPACK 4ea82e5 (Debian trixie's source tarball) for both builds.
#
# Native: XNNPACK's own CMake, with pthreadpool and fxdiv from their Debian source tarballs and cpuinfo from
# Debian's binary libcpuinfo-dev (no cpuinfo source tarball is obtainable). Debian's 2022 libcpuinfo is too
# old for five of XNNPACK's newest x86 probes, so those kernel families (int8/fp16 only) are switched off.
# WebAssembly: XNNPACK's CMake rejects CMAKE_SYSTEM_NAME=Emscripten (and Emscripten's toolchain says the
# processor is x86, which would pull in SSE kernels), so a small target of our own builds the same sources:
# the core, the PROD microkernel lists for scalar, wasm and wasmsimd, and pthreadpool's single-thread shim.
# Defines target `kalium::xnnpack`.

set(XNNPACK_SOURCE_DIR "${KALIUM_THIRD_PARTY_DIR}/xnnpack")
set(PTHREADPOOL_SOURCE_DIR "${KALIUM_THIRD_PARTY_DIR}/pthreadpool" CACHE PATH "" FORCE)
set(FXDIV_SOURCE_DIR "${KALIUM_THIRD_PARTY_DIR}/fxdiv" CACHE PATH "" FORCE)

set(PTHREADPOOL_BUILD_TESTS OFF CACHE BOOL "" FORCE)
set(PTHREADPOOL_BUILD_BENCHMARKS OFF CACHE BOOL "" FORCE)
set(PTHREADPOOL_LIBRARY_TYPE static CACHE STRING "" FORCE)
set(FXDIV_BUILD_TESTS OFF CACHE BOOL "" FORCE)
set(FXDIV_BUILD_BENCHMARKS OFF CACHE BOOL "" FORCE)

set(KALIUM_XNNPACK_PREBUILT "" CACHE PATH
  "a native build tree (build/native) whose XNNPACK libraries to link instead of building them again")

if(NOT EMSCRIPTEN AND KALIUM_XNNPACK_PREBUILT)
  # The sanitizer preset instruments only kalium's own code, so XNNPACK there would be byte-for-byte the
  # native preset's: link that one instead of compiling ~900 files again.
  set(prebuilt_libs
    "${KALIUM_XNNPACK_PREBUILT}/third_party/xnnpack/libXNNPACK.a"
    "${KALIUM_XNNPACK_PREBUILT}/third_party/xnnpack/libmicrokernels-prod.a"
    "${KALIUM_XNNPACK_PREBUILT}/pthreadpool/libpthreadpool.a")
  foreach(lib ${prebuilt_libs})
    if(NOT EXISTS "${lib}")
      message(FATAL_ERROR "${lib} is missing: build the native preset first (cmake --build --preset native)")
    endif()
  endforeach()
  find_library(KALIUM_CPUINFO_LIBRARY cpuinfo REQUIRED)
  find_package(Threads REQUIRED)
  add_library(kalium_xnnpack INTERFACE)
  target_link_libraries(kalium_xnnpack INTERFACE ${prebuilt_libs} m "${KALIUM_CPUINFO_LIBRARY}" Threads::Threads)
  target_include_directories(kalium_xnnpack SYSTEM INTERFACE
    "${XNNPACK_SOURCE_DIR}/include" "${PTHREADPOOL_SOURCE_DIR}/include")
  add_library(kalium::xnnpack ALIAS kalium_xnnpack)
  return()
endif()

if(NOT EMSCRIPTEN)
  # cpuinfo: Debian's binary, declared before XNNPACK so its CMake skips its own cpuinfo download/build.
  find_library(KALIUM_CPUINFO_LIBRARY cpuinfo REQUIRED)
  find_path(KALIUM_CPUINFO_INCLUDE cpuinfo.h REQUIRED)
  # XNNPACK downloads cpuinfo unless CPUINFO_SOURCE_DIR is defined; the target below makes it unused.
  set(CPUINFO_SOURCE_DIR "${CMAKE_CURRENT_LIST_DIR}/no-cpuinfo-source" CACHE PATH "" FORCE)
  add_library(cpuinfo SHARED IMPORTED GLOBAL)
  set_target_properties(cpuinfo PROPERTIES
    IMPORTED_LOCATION "${KALIUM_CPUINFO_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${KALIUM_CPUINFO_INCLUDE}")

  set(XNNPACK_BUILD_TESTS OFF CACHE BOOL "" FORCE)
  set(XNNPACK_BUILD_BENCHMARKS OFF CACHE BOOL "" FORCE)
  set(XNNPACK_BUILD_ALL_MICROKERNELS OFF CACHE BOOL "" FORCE)
  set(XNNPACK_LIBRARY_TYPE static CACHE STRING "" FORCE)
  set(XNNPACK_USE_SYSTEM_LIBS OFF CACHE BOOL "" FORCE)
  foreach(isa AVXVNNI AVX256SKX AVX256VNNI AVX256VNNIGFNI AVX512VNNIGFNI)
    set(XNNPACK_ENABLE_${isa} OFF CACHE BOOL "needs a newer cpuinfo than Debian 12 ships" FORCE)
  endforeach()
  set(Python_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "")
  # Position-independent (XNNPACK, its kernels, pthreadpool): the Python module kalium_core runs ECG12Net and
  # links them into a shared object. Scoped to these targets; it costs the executables nothing measurable.
  set(CMAKE_POSITION_INDEPENDENT_CODE ON)
  add_subdirectory("${XNNPACK_SOURCE_DIR}" "${CMAKE_BINARY_DIR}/third_party/xnnpack" EXCLUDE_FROM_ALL SYSTEM)
  unset(CMAKE_POSITION_INDEPENDENT_CODE)
  add_library(kalium_xnnpack INTERFACE)
  target_link_libraries(kalium_xnnpack INTERFACE XNNPACK pthreadpool)
  target_include_directories(kalium_xnnpack SYSTEM INTERFACE
    "${XNNPACK_SOURCE_DIR}/include" "${PTHREADPOOL_SOURCE_DIR}/include")
  add_library(kalium::xnnpack ALIAS kalium_xnnpack)
  return()
endif()

# ---- WebAssembly -----------------------------------------------------------------------------------
add_subdirectory("${PTHREADPOOL_SOURCE_DIR}" "${CMAKE_BINARY_DIR}/third_party/pthreadpool" EXCLUDE_FROM_ALL SYSTEM)

include("${XNNPACK_SOURCE_DIR}/cmake/gen/scalar_microkernels.cmake")
include("${XNNPACK_SOURCE_DIR}/cmake/gen/wasm_microkernels.cmake")
include("${XNNPACK_SOURCE_DIR}/cmake/gen/wasmsimd_microkernels.cmake")
set(xnn_kernel_srcs ${PROD_SCALAR_MICROKERNEL_SRCS} ${PROD_WASM_MICROKERNEL_SRCS} ${PROD_WASMSIMD_MICROKERNEL_SRCS})
list(SORT xnn_kernel_srcs)

file(GLOB xnn_core_srcs RELATIVE "${XNNPACK_SOURCE_DIR}" CONFIGURE_DEPENDS
  "${XNNPACK_SOURCE_DIR}/src/*.c" "${XNNPACK_SOURCE_DIR}/src/operators/*.c"
  "${XNNPACK_SOURCE_DIR}/src/subgraph/*.c" "${XNNPACK_SOURCE_DIR}/src/configs/*.c"
  "${XNNPACK_SOURCE_DIR}/src/enums/*.c" "${XNNPACK_SOURCE_DIR}/src/tables/*.c"
  "${XNNPACK_SOURCE_DIR}/src/reference/*.cc")
# Upstream's own lists leave these two out.
list(REMOVE_ITEM xnn_core_srcs src/im2col.c src/subgraph/rope.c)

# build_identifier.c: a fingerprint of the kernel sources, made by XNNPACK's own generator.
set(xnn_kernel_list "${CMAKE_BINARY_DIR}/third_party/xnnpack-wasm/prod_microkernel_srcs.txt")
string(REPLACE ";" "\n" xnn_kernel_lines "${xnn_kernel_srcs}")
file(GENERATE OUTPUT "${xnn_kernel_list}" CONTENT "${xnn_kernel_lines}")
set(xnn_build_id "${CMAKE_BINARY_DIR}/third_party/xnnpack-wasm/build_identifier.c")
add_custom_command(OUTPUT "${xnn_build_id}"
  COMMAND /usr/bin/python3 scripts/generate-build-identifier.py --output "${xnn_build_id}" --input_file_list "${xnn_kernel_list}"
  DEPENDS "${xnn_kernel_list}"
  WORKING_DIRECTORY "${XNNPACK_SOURCE_DIR}")

list(TRANSFORM xnn_core_srcs PREPEND "${XNNPACK_SOURCE_DIR}/")
list(TRANSFORM xnn_kernel_srcs PREPEND "${XNNPACK_SOURCE_DIR}/")
add_library(kalium_xnnpack STATIC ${xnn_core_srcs} ${xnn_kernel_srcs} "${xnn_build_id}")
target_include_directories(kalium_xnnpack BEFORE PRIVATE "${CMAKE_CURRENT_LIST_DIR}/shims")
target_include_directories(kalium_xnnpack PRIVATE "${XNNPACK_SOURCE_DIR}/src" "${FXDIV_SOURCE_DIR}/include")
target_include_directories(kalium_xnnpack SYSTEM PUBLIC "${XNNPACK_SOURCE_DIR}/include")
target_compile_definitions(kalium_xnnpack PRIVATE
  XNN_ENABLE_CPUINFO=0 XNN_LOG_LEVEL=0 XNN_ENABLE_MEMOPT=1 XNN_ENABLE_SPARSE=1
  XNN_ENABLE_GEMM_M_SPECIALIZATION=1 XNN_ENABLE_DWCONV_MULTIPASS=0 XNN_ENABLE_ASSEMBLY=0
  XNN_ENABLE_KLEIDIAI=0)
target_compile_options(kalium_xnnpack PRIVATE -msimd128 -fno-math-errno -fno-fast-math -w
  $<$<COMPILE_LANGUAGE:C>:-std=gnu99>)
target_link_libraries(kalium_xnnpack PUBLIC pthreadpool)
add_library(kalium::xnnpack ALIAS kalium_xnnpack)
