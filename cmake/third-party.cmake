# cmake/third-party.cmake: small third-party libraries built from their Debian sources, and header-only ones.
#   kalium::pugixml   XML parser (pugixml 1.13, bookworm source; same source for native and wasm)
#   kalium::json      nlohmann-json 3.11 (Debian's header-only package)
#   kalium::imgui     Dear ImGui 1.90.1 (trixie source) with the GLFW + OpenGL3 backends; wasm only
#   kalium::catch2    Catch2 2.13 (Debian's single header)
#   kalium::stb       stb_image_write (Debian's libstb-dev headers; the app's PNG report)
#   kalium::sha256    SHA-256 of mbedtls 2.28 (bookworm source; only sha256.c and platform_util.c are built)
#   kalium::libharu   the PDF library libharu 2.3.0 (bookworm source) with zlib 1.3.1 (trixie source); the PDF report

add_library(kalium_pugixml STATIC "${KALIUM_THIRD_PARTY_DIR}/pugixml/src/pugixml.cpp")
target_include_directories(kalium_pugixml SYSTEM PUBLIC "${KALIUM_THIRD_PARTY_DIR}/pugixml/src")
target_compile_options(kalium_pugixml PRIVATE -w)
add_library(kalium::pugixml ALIAS kalium_pugixml)

# The weights file's integrity check (sha256 against the shipped manifest), in native and wasm builds alike.
set(mbedtls_dir "${KALIUM_THIRD_PARTY_DIR}/mbedtls")
add_library(kalium_sha256 STATIC "${mbedtls_dir}/library/sha256.c" "${mbedtls_dir}/library/platform_util.c")
target_include_directories(kalium_sha256 SYSTEM PUBLIC "${mbedtls_dir}/include" PRIVATE "${mbedtls_dir}/library")
target_compile_options(kalium_sha256 PRIVATE -w)
add_library(kalium::sha256 ALIAS kalium_sha256)

# Debian installs header-only libraries in /usr/include, which an Emscripten build must never put on its
# include path (it would pull in host glibc headers). A folder of links to just those headers serves both.
set(kalium_header_links "${CMAKE_BINARY_DIR}/third_party/include")
file(MAKE_DIRECTORY "${kalium_header_links}")
foreach(dir nlohmann catch2 stb)
  if(NOT EXISTS "/usr/include/${dir}")
    message(FATAL_ERROR "/usr/include/${dir} is missing: run ./scripts/setup")
  endif()
  file(CREATE_LINK "/usr/include/${dir}" "${kalium_header_links}/${dir}" SYMBOLIC)
endforeach()
add_library(kalium_json INTERFACE)
target_include_directories(kalium_json SYSTEM INTERFACE "${kalium_header_links}")
add_library(kalium::json ALIAS kalium_json)
add_library(kalium_catch2 INTERFACE)
target_include_directories(kalium_catch2 SYSTEM INTERFACE "${kalium_header_links}")
add_library(kalium::catch2 ALIAS kalium_catch2)
add_library(kalium_stb INTERFACE)
target_include_directories(kalium_stb SYSTEM INTERFACE "${kalium_header_links}")
add_library(kalium::stb ALIAS kalium_stb)

if(EMSCRIPTEN)
  set(imgui_dir "${KALIUM_THIRD_PARTY_DIR}/imgui")
  add_library(kalium_imgui STATIC
    "${imgui_dir}/imgui.cpp" "${imgui_dir}/imgui_draw.cpp" "${imgui_dir}/imgui_tables.cpp"
    "${imgui_dir}/imgui_widgets.cpp"
    "${imgui_dir}/backends/imgui_impl_glfw.cpp" "${imgui_dir}/backends/imgui_impl_opengl3.cpp")
  target_include_directories(kalium_imgui SYSTEM PUBLIC "${imgui_dir}" "${imgui_dir}/backends")
  target_compile_definitions(kalium_imgui PUBLIC IMGUI_IMPL_OPENGL_ES3 IMGUI_DISABLE_OBSOLETE_FUNCTIONS)
  target_compile_options(kalium_imgui PRIVATE -w)
  add_library(kalium::imgui ALIAS kalium_imgui)
endif()

# The PDF report (src/report): libharu 2.3.0 (bookworm source) with zlib 1.3.1 (trixie source) for its compressed
# streams, the same sources for native and wasm. Only the files a vector page with text needs: no PNG images
# (HPDF_NOPNGLIB), so no libpng. libharu ships hpdf_config.h only as a CMake template; the few settings it needs
# are written here.
set(zlib_dir "${KALIUM_THIRD_PARTY_DIR}/zlib")
add_library(kalium_zlib STATIC)
foreach(f adler32 compress crc32 deflate infback inffast inflate inftrees trees uncompr zutil)
  target_sources(kalium_zlib PRIVATE "${zlib_dir}/${f}.c")
endforeach()
target_include_directories(kalium_zlib SYSTEM PUBLIC "${zlib_dir}")
target_compile_options(kalium_zlib PRIVATE -w)
set(libharu_dir "${KALIUM_THIRD_PARTY_DIR}/libharu")
set(libharu_config_dir "${CMAKE_BINARY_DIR}/third_party/libharu")
file(WRITE "${libharu_config_dir}/hpdf_config.h.new"
  "/* written by cmake/third-party.cmake: libharu with zlib, without libpng */\n"
  "#define LIBHPDF_HAVE_LIBZ 1\n#define LIBHPDF_HAVE_NOPNGLIB 1\n#define HPDF_NOPNGLIB 1\n"
  "#define LIBHPDF_HAVE_STDLIB_H 1\n#define LIBHPDF_HAVE_STRING_H 1\n#define LIBHPDF_STDC_HEADERS 1\n")
file(COPY_FILE "${libharu_config_dir}/hpdf_config.h.new" "${libharu_config_dir}/hpdf_config.h" ONLY_IF_DIFFERENT)
file(GLOB libharu_sources "${libharu_dir}/src/hpdf_*.c")
add_library(kalium_libharu STATIC ${libharu_sources})
target_include_directories(kalium_libharu SYSTEM PUBLIC "${libharu_config_dir}" "${libharu_dir}/include")
target_link_libraries(kalium_libharu PUBLIC kalium_zlib)
target_compile_options(kalium_libharu PRIVATE -w)
add_library(kalium::libharu ALIAS kalium_libharu)
