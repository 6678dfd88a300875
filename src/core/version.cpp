// core/version.cpp: version and build description; KALIUM_VERSION_* come from CMake's project() version.
#include "kalium.h"

namespace kalium {

const char *version_string() { return KALIUM_VERSION_STRING; }
int version_major() { return KALIUM_VERSION_MAJOR; }
int version_minor() { return KALIUM_VERSION_MINOR; }
int version_patch() { return KALIUM_VERSION_PATCH; }

const char *build_description() {
#if defined(__EMSCRIPTEN__) && defined(__wasm_simd128__)
    return "wasm32 simd128, " KALIUM_BUILD_TYPE;
#elif defined(__EMSCRIPTEN__)
    return "wasm32, " KALIUM_BUILD_TYPE;
#elif defined(__x86_64__)
    return "native x86_64, " KALIUM_BUILD_TYPE;
#elif defined(__aarch64__)
    return "native aarch64, " KALIUM_BUILD_TYPE;
#else
    return "native, " KALIUM_BUILD_TYPE;
#endif
}

}  // namespace kalium
