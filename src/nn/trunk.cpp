// nn/trunk.cpp: what both builds of the trunk share: the weights hand-out, layer names and widths, XNNPACK's
// initialisation and, in wasm, its GEMM tile.
#include "nn/trunk.h"

#include <mutex>

#if defined(__EMSCRIPTEN__)
// XNNPACK's private kernel configuration (the pinned XNNPACK, see cmake/xnnpack.cmake): for the GEMM tile below.
#include "xnnpack/config.h"
#include "xnnpack/gemm.h"
#endif

namespace kalium {

result<conv_weights> trunk_weights::take(const std::string &prefix, size_t cin, size_t cout, size_t k) {
    const model_tensor *weight = nullptr, *bias = nullptr;
    if (status s = model_file_need(file_, prefix + ".weight", {cout, cin, k}, &weight); !s) return s;
    if (status s = model_file_need(file_, prefix + ".bias", {cout}, &bias); !s) return s;
    conv_weights out;
    // moved out: the file's copy is released (values left empty), the tensor entry itself stays
    out.weight_oik = std::move(file_.tensors.at(prefix + ".weight").values);
    out.bias = std::move(file_.tensors.at(prefix + ".bias").values);
    return out;
}

std::vector<float> conv_weights::filter_ohwi(size_t cout, size_t cin, size_t k) const {
    std::vector<float> filter(cout * k * cin);
    for (size_t o = 0; o < cout; o++)
        for (size_t i = 0; i < cin; i++)
            for (size_t j = 0; j < k; j++) filter[(o * k + j) * cin + i] = weight_oik[(o * cin + i) * k + j];
    return filter;
}

std::string trunk_unit_prefix(size_t layer) { return "trunks.0.layers." + std::to_string(layer) + ".convs."; }

size_t conv_output_width(size_t width_in, size_t k, size_t stride) { return (width_in + 2 * (k / 2) - k) / stride + 1; }

status xnn_failure(const char *what, xnn_status s) {
    return status::error(status_code::internal, "XNNPACK: %s failed (status %d)", what, static_cast<int>(s));
}

namespace {

// In wasm on an x86 host with few cores XNNPACK picks the 4x8 `splat` kernels for every f32 GEMM. For the
// GEMMs proper (the 1x1 convolutions and the Winograd products) the 4x8 `loadsplat` kernel runs at 39-40
// GFLOP/s against splat's 28-30 in node, while for IGEMM (the k3 stride-2 convolutions) splat stays faster
// (BENCHMARKS.md, the GEMM tile experiment). So: loadsplat for GEMM (ReLU and linear), XNNPACK's splat for
// IGEMM. Only when XNNPACK chose 4x8 splat (other hosts keep XNNPACK's own choice); both kernels sum in the
// same order, so results do not change.
void tune_wasm_gemm_tiles() {
#if defined(__EMSCRIPTEN__) && !XNN_ARCH_WASMRELAXEDSIMD
    auto *config = const_cast<xnn_gemm_config *>(xnn_init_f32_gemm_config());
    if (config == nullptr || config->mr != 4) return;
    const auto fn = [](auto kernel) { return reinterpret_cast<xnn_gemm_ukernel_fn>(kernel); };
    if (config->relu.gemm[3].function[XNN_UARCH_DEFAULT] == fn(xnn_f32_gemm_relu_ukernel_4x8__wasmsimd_splat)) {
        config->relu.gemm[0] = xnn_init_hmp_gemm_ukernel(fn(xnn_f32_gemm_relu_ukernel_1x8__wasmsimd_loadsplat));
        config->relu.gemm[3] = xnn_init_hmp_gemm_ukernel(fn(xnn_f32_gemm_relu_ukernel_4x8__wasmsimd_loadsplat));
    }
    if (config->linear.gemm[3].function[XNN_UARCH_DEFAULT] == fn(xnn_f32_gemm_ukernel_4x8__wasmsimd_splat)) {
        config->linear.gemm[0] = xnn_init_hmp_gemm_ukernel(fn(xnn_f32_gemm_ukernel_1x8__wasmsimd_loadsplat));
        config->linear.gemm[3] = xnn_init_hmp_gemm_ukernel(fn(xnn_f32_gemm_ukernel_4x8__wasmsimd_loadsplat));
    }
#endif
}

}  // namespace

status xnnpack_init() {
    const xnn_status init = xnn_initialize(nullptr);
    if (init != xnn_status_success) return xnn_failure("xnn_initialize", init);
    static std::once_flag tuned;
    std::call_once(tuned, tune_wasm_gemm_tiles);
    return status();
}

}  // namespace kalium
