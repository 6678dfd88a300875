// Some XNNPACK wasm SIMD kernels include <arm_neon.h> by mistake; Debian's emscripten ships a broken
// compat/arm_neon.h (it includes a SIMDe header Debian does not package). This shim, first on the
// include path of the wasm XNNPACK build only, gives them the header they actually use.
#pragma once
#include <wasm_simd128.h>
