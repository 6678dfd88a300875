// nn/xnnpack-kernel-probe.cpp: see xnnpack-kernel-probe.h. The candidate lists are XNNPACK 4ea82e5's f32
// GEMM kernels for WebAssembly (its PROD lists for wasmsimd, wasm and scalar).
#include "xnnpack-kernel-probe.h"

#include "xnnpack/config.h"
#include "xnnpack/gemm.h"
#include "xnnpack/igemm.h"

#include <utility>
#include <vector>

namespace {

template <class Fn>
using named_kernels = std::vector<std::pair<Fn, const char *>>;

#define KERNEL(name) {(decltype(fn_type)) xnn_##name, #name}

#if defined(__wasm__)
std::string igemm_name(xnn_igemm_ukernel_fn fn) {
    xnn_igemm_ukernel_fn fn_type = nullptr;
    const named_kernels<xnn_igemm_ukernel_fn> known = {
        KERNEL(f32_igemm_relu_ukernel_1x8__wasmsimd_splat), KERNEL(f32_igemm_relu_ukernel_1x8__wasmsimd_loadsplat),
        KERNEL(f32_igemm_relu_ukernel_4x8__wasmsimd_splat), KERNEL(f32_igemm_relu_ukernel_4x8__wasmsimd_loadsplat),
        KERNEL(f32_igemm_relu_ukernel_5x8__wasmsimd_splat),
        KERNEL(f32_igemm_minmax_ukernel_1x8__wasmsimd_x86_splat), KERNEL(f32_igemm_minmax_ukernel_1x8__wasmsimd_x86_loadsplat),
        KERNEL(f32_igemm_minmax_ukernel_4x8__wasmsimd_x86_splat), KERNEL(f32_igemm_minmax_ukernel_4x8__wasmsimd_x86_loadsplat),
        KERNEL(f32_igemm_minmax_ukernel_1x8__wasmsimd_arm_splat), KERNEL(f32_igemm_minmax_ukernel_5x8__wasmsimd_arm_splat),
        KERNEL(f32_igemm_relu_ukernel_1x4__wasm), KERNEL(f32_igemm_relu_ukernel_4x4__wasm),
        KERNEL(f32_igemm_minmax_ukernel_1x4__wasm), KERNEL(f32_igemm_minmax_ukernel_4x4__wasm),
        KERNEL(f32_igemm_relu_ukernel_1x4__scalar), KERNEL(f32_igemm_relu_ukernel_4x4__scalar),
        KERNEL(f32_igemm_minmax_ukernel_1x4__scalar), KERNEL(f32_igemm_minmax_ukernel_4x4__scalar),
    };
    for (const auto &k : known)
        if (k.first == fn) return k.second;
    return fn ? "other" : "none";
}

std::string gemm_name(xnn_gemm_ukernel_fn fn) {
    xnn_gemm_ukernel_fn fn_type = nullptr;
    const named_kernels<xnn_gemm_ukernel_fn> known = {
        KERNEL(f32_gemm_minmax_ukernel_1x8__wasmsimd_x86_splat), KERNEL(f32_gemm_minmax_ukernel_1x8__wasmsimd_x86_loadsplat),
        KERNEL(f32_gemm_minmax_ukernel_4x8__wasmsimd_x86_splat), KERNEL(f32_gemm_minmax_ukernel_4x8__wasmsimd_x86_loadsplat),
        KERNEL(f32_gemm_minmax_ukernel_1x8__wasmsimd_arm_splat), KERNEL(f32_gemm_minmax_ukernel_5x8__wasmsimd_arm_splat),
        KERNEL(f32_gemm_minmax_ukernel_1x4__wasm), KERNEL(f32_gemm_minmax_ukernel_4x4__wasm),
        KERNEL(f32_gemm_minmax_ukernel_1x4__scalar), KERNEL(f32_gemm_minmax_ukernel_4x4__scalar),
    };
    for (const auto &k : known)
        if (k.first == fn) return k.second;
    return fn ? "other" : "none";
}
#else
std::string igemm_name(xnn_igemm_ukernel_fn fn) { return fn ? "other" : "none"; }
std::string gemm_name(xnn_gemm_ukernel_fn fn) { return fn ? "other" : "none"; }
#endif

// XNN_MR_TO_INDEX is private to XNNPACK's gemm-config.c: tile height MR is stored at index MR - 1.
const xnn_gemm_config *f32_config() {
    const xnn_gemm_config *c = xnn_init_f32_gemm_config();
    return c && c->mr >= 1 ? c : nullptr;
}

}  // namespace

std::string xnnpack_f32_igemm_relu_kernel_name() {
    const xnn_gemm_config *c = f32_config();
    return c ? igemm_name(c->relu.igemm[c->mr - 1].function[XNN_UARCH_DEFAULT]) : "none";
}

std::string xnnpack_f32_igemm_minmax_kernel_name() {
    const xnn_gemm_config *c = f32_config();
    return c ? igemm_name(c->minmax.igemm[c->mr - 1].function[XNN_UARCH_DEFAULT]) : "none";
}

std::string xnnpack_f32_gemm_minmax_kernel_name() {
    const xnn_gemm_config *c = f32_config();
    return c ? gemm_name(c->minmax.gemm[c->mr - 1].function[XNN_UARCH_DEFAULT]) : "none";
}
