# cmake/third-party.cmake: small third-party libraries built from their Debian sources, and header-only ones.
#   kalium::pugixml   XML parser (pugixml 1.13, bookworm source; same source for native and wasm)
#   kalium::json      nlohmann-json 3.11 (Debian's header-only package)
#   kalium::imgui     Dear ImGui 1.90.1 (trixie source) with the GLFW + OpenGL3 backends; wasm only
#   kalium::catch2    Catch2 2.13 (Debian's single header)
#   kalium::stb       stb_image_write (Debian's libstb-dev headers; the app's PNG report)
#   kalium::sha256    SHA-256 of mbedtls 2.28 (bookworm source; only sha256.c and platform_util.c are built)

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
