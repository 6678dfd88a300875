// nn/test-xnnpack-subgraph.cpp: XNNPACK works in this build (native and wasm) and computes what a plain
// C++ loop computes, for the operations ECG12Net is made of:
//   x [1, 1, W=64, 3] (NHWC; a 1-D signal as a 2-D image with H=1)
//   a = relu(conv k3 s1 pad1, 3 -> 8)(x)        b = relu(conv k1, 8 -> 4)(a)
//   c = relu(conv k3 s2 pad1, 8 -> 4)(a)        (the strided pool-unit shape, W 64 -> 32)
//   d = concat_channels(a, b)                    [1, 1, 64, 12]   (DenseNet growth)
//   g = concat(mean_W(d), mean_W(c))             [1, 16]          (global average pooling)
//   y = fully_connected(16 -> 2)(g)              [1, 2]
// and, in the wasm build, that XNNPACK picked its wasm SIMD kernels.
#include <catch2/catch.hpp>

#include "xnnpack-kernel-probe.h"

#include <xnnpack.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <vector>

namespace {

constexpr size_t k_width = 64;

struct conv_params {
    size_t in_channels, out_channels, kernel, stride, pad;
    std::vector<float> weights_ohwi;  // [out][1][kernel][in]
    std::vector<float> bias;          // [out]
};

std::vector<float> random_vector(std::mt19937 &rng, size_t n, float scale) {
    std::uniform_real_distribution<float> dist(-scale, scale);
    std::vector<float> v(n);
    for (float &x : v) x = dist(rng);
    return v;
}

conv_params make_conv(std::mt19937 &rng, size_t in, size_t out, size_t kernel, size_t stride, size_t pad) {
    conv_params p{in, out, kernel, stride, pad, {}, {}};
    p.weights_ohwi = random_vector(rng, out * kernel * in, 0.5f);
    p.bias = random_vector(rng, out, 0.1f);
    return p;
}

// Plain reference: 1-D convolution with zero padding over a [width][channels] signal, then ReLU.
std::vector<float> reference_conv_relu(const std::vector<float> &x, size_t width, const conv_params &p, size_t *out_width) {
    size_t w_out = (width + 2 * p.pad - p.kernel) / p.stride + 1;
    std::vector<float> y(w_out * p.out_channels);
    for (size_t t = 0; t < w_out; t++) {
        for (size_t o = 0; o < p.out_channels; o++) {
            double acc = p.bias[o];
            for (size_t k = 0; k < p.kernel; k++) {
                long src = static_cast<long>(t * p.stride + k) - static_cast<long>(p.pad);
                if (src < 0 || src >= static_cast<long>(width)) continue;
                for (size_t i = 0; i < p.in_channels; i++)
                    acc += double(p.weights_ohwi[(o * p.kernel + k) * p.in_channels + i]) * x[src * p.in_channels + i];
            }
            y[t * p.out_channels + o] = static_cast<float>(std::max(acc, 0.0));
        }
    }
    *out_width = w_out;
    return y;
}

std::vector<float> reference_mean_over_width(const std::vector<float> &x, size_t width, size_t channels) {
    std::vector<float> m(channels, 0.0f);
    for (size_t c = 0; c < channels; c++) {
        double acc = 0;
        for (size_t t = 0; t < width; t++) acc += x[t * channels + c];
        m[c] = static_cast<float>(acc / width);
    }
    return m;
}

struct subgraph_deleter {
    void operator()(xnn_subgraph_t s) const { xnn_delete_subgraph(s); }
};
struct runtime_deleter {
    void operator()(xnn_runtime_t r) const { xnn_delete_runtime(r); }
};

uint32_t define_tensor(xnn_subgraph_t sg, std::vector<size_t> dims, const float *data, uint32_t external_id,
                       uint32_t flags) {
    uint32_t id = XNN_INVALID_VALUE_ID;
    REQUIRE(xnn_define_tensor_value(sg, xnn_datatype_fp32, dims.size(), dims.data(), data, external_id, flags, &id) ==
            xnn_status_success);
    return id;
}

uint32_t define_conv_relu(xnn_subgraph_t sg, const conv_params &p, uint32_t input_id, size_t width_out) {
    uint32_t filter = define_tensor(sg, {p.out_channels, 1, p.kernel, p.in_channels}, p.weights_ohwi.data(),
                                    XNN_INVALID_VALUE_ID, 0);
    uint32_t bias = define_tensor(sg, {p.out_channels}, p.bias.data(), XNN_INVALID_VALUE_ID, 0);
    uint32_t output = define_tensor(sg, {1, 1, width_out, p.out_channels}, nullptr, XNN_INVALID_VALUE_ID, 0);
    REQUIRE(xnn_define_convolution_2d(sg, /*top=*/0, /*right=*/p.pad, /*bottom=*/0, /*left=*/p.pad,
                                      /*kernel_height=*/1, /*kernel_width=*/p.kernel,
                                      /*subsampling_height=*/1, /*subsampling_width=*/p.stride,
                                      /*dilation_height=*/1, /*dilation_width=*/1, /*groups=*/1,
                                      /*group_input_channels=*/p.in_channels, /*group_output_channels=*/p.out_channels,
                                      /*output_min=*/0.0f, /*output_max=*/std::numeric_limits<float>::infinity(),
                                      input_id, filter, bias, output, /*flags=*/0) == xnn_status_success);
    return output;
}

uint32_t define_mean_over_width(xnn_subgraph_t sg, uint32_t input_id, size_t channels) {
    uint32_t output = define_tensor(sg, {1, channels}, nullptr, XNN_INVALID_VALUE_ID, 0);
    const size_t axes[2] = {1, 2};  // H and W of NHWC
    REQUIRE(xnn_define_static_reduce(sg, xnn_reduce_mean, 2, axes, input_id, output, /*flags=*/0) ==
            xnn_status_success);
    return output;
}

}  // namespace

TEST_CASE("XNNPACK subgraph of conv/ReLU/concat/mean/fully-connected matches a plain loop", "[nn][xnnpack]") {
    REQUIRE(xnn_initialize(/*allocator=*/nullptr) == xnn_status_success);

    std::mt19937 rng(20240611);
    const conv_params conv_a = make_conv(rng, 3, 8, 3, 1, 1);
    const conv_params conv_b = make_conv(rng, 8, 4, 1, 1, 0);
    const conv_params conv_c = make_conv(rng, 8, 4, 3, 2, 1);
    const std::vector<float> fc_weights = random_vector(rng, 2 * 16, 0.5f);  // [out=2][in=16]
    const std::vector<float> fc_bias = random_vector(rng, 2, 0.1f);
    // XNNPACK may read (never write) a few bytes past an input: pad it with XNN_EXTRA_BYTES.
    std::vector<float> input = random_vector(rng, k_width * 3, 1.0f);
    input.resize(input.size() + XNN_EXTRA_BYTES / sizeof(float));

    // Reference.
    size_t w_a = 0, w_b = 0, w_c = 0;
    std::vector<float> a = reference_conv_relu(input, k_width, conv_a, &w_a);
    std::vector<float> b = reference_conv_relu(a, w_a, conv_b, &w_b);
    std::vector<float> c = reference_conv_relu(a, w_a, conv_c, &w_c);
    REQUIRE(w_c == k_width / 2);
    std::vector<float> d(k_width * 12);
    for (size_t t = 0; t < k_width; t++) {
        std::copy_n(&a[t * 8], 8, &d[t * 12]);
        std::copy_n(&b[t * 4], 4, &d[t * 12 + 8]);
    }
    std::vector<float> g = reference_mean_over_width(d, k_width, 12);
    std::vector<float> gc = reference_mean_over_width(c, w_c, 4);
    g.insert(g.end(), gc.begin(), gc.end());
    float expected[2];
    for (size_t o = 0; o < 2; o++) {
        double acc = fc_bias[o];
        for (size_t i = 0; i < 16; i++) acc += double(fc_weights[o * 16 + i]) * g[i];
        expected[o] = static_cast<float>(acc);
    }

    // XNNPACK.
    xnn_subgraph_t raw_subgraph = nullptr;
    REQUIRE(xnn_create_subgraph(/*external_value_ids=*/2, /*flags=*/0, &raw_subgraph) == xnn_status_success);
    std::unique_ptr<xnn_subgraph, subgraph_deleter> subgraph(raw_subgraph);
    xnn_subgraph_t sg = subgraph.get();

    uint32_t x_id = define_tensor(sg, {1, 1, k_width, 3}, nullptr, /*external_id=*/0, XNN_VALUE_FLAG_EXTERNAL_INPUT);
    uint32_t a_id = define_conv_relu(sg, conv_a, x_id, k_width);
    uint32_t b_id = define_conv_relu(sg, conv_b, a_id, k_width);
    uint32_t c_id = define_conv_relu(sg, conv_c, a_id, k_width / 2);
    uint32_t d_id = define_tensor(sg, {1, 1, k_width, 12}, nullptr, XNN_INVALID_VALUE_ID, 0);
    REQUIRE(xnn_define_concatenate2(sg, /*axis=*/3, a_id, b_id, d_id, /*flags=*/0) == xnn_status_success);
    uint32_t gd_id = define_mean_over_width(sg, d_id, 12);
    uint32_t gc_id = define_mean_over_width(sg, c_id, 4);
    uint32_t g_id = define_tensor(sg, {1, 16}, nullptr, XNN_INVALID_VALUE_ID, 0);
    REQUIRE(xnn_define_concatenate2(sg, /*axis=*/1, gd_id, gc_id, g_id, /*flags=*/0) == xnn_status_success);
    uint32_t fc_w_id = define_tensor(sg, {2, 16}, fc_weights.data(), XNN_INVALID_VALUE_ID, 0);
    uint32_t fc_b_id = define_tensor(sg, {2}, fc_bias.data(), XNN_INVALID_VALUE_ID, 0);
    uint32_t y_id = define_tensor(sg, {1, 2}, nullptr, /*external_id=*/1, XNN_VALUE_FLAG_EXTERNAL_OUTPUT);
    REQUIRE(xnn_define_fully_connected(sg, /*output_min=*/-std::numeric_limits<float>::infinity(),
                                       /*output_max=*/std::numeric_limits<float>::infinity(), g_id, fc_w_id, fc_b_id,
                                       y_id, /*flags=*/0) == xnn_status_success);

    xnn_runtime_t raw_runtime = nullptr;
    REQUIRE(xnn_create_runtime_v3(sg, /*weights_cache=*/nullptr, /*threadpool=*/nullptr, /*flags=*/0, &raw_runtime) ==
            xnn_status_success);
    std::unique_ptr<xnn_runtime, runtime_deleter> runtime(raw_runtime);
    REQUIRE(xnn_reshape_runtime(runtime.get()) == xnn_status_success);

    float output[2] = {std::nanf(""), std::nanf("")};
    const xnn_external_value externals[2] = {{x_id, input.data()}, {y_id, output}};
    REQUIRE(xnn_setup_runtime_v2(runtime.get(), 2, externals) == xnn_status_success);
    REQUIRE(xnn_invoke_runtime(runtime.get()) == xnn_status_success);

    for (size_t o = 0; o < 2; o++) {
        INFO("output " << o << ": xnnpack " << output[o] << ", reference " << expected[o]);
        CHECK(std::isfinite(output[o]));
        CHECK(std::fabs(output[o] - expected[o]) <= 1e-4f);
    }
    // The test must be able to fail: the reference depends on every stage.
    CHECK(std::fabs(expected[0] - expected[1]) > 1e-3f);
}

TEST_CASE("XNNPACK picks SIMD kernels for f32 convolutions", "[nn][xnnpack]") {
    REQUIRE(xnn_initialize(/*allocator=*/nullptr) == xnn_status_success);
    const std::string relu = xnnpack_f32_igemm_relu_kernel_name();
    const std::string minmax = xnnpack_f32_igemm_minmax_kernel_name();
    const std::string gemm = xnnpack_f32_gemm_minmax_kernel_name();
    INFO("igemm relu: " << relu << ", igemm minmax: " << minmax << ", gemm minmax: " << gemm);
#if defined(__wasm__)
    CHECK(relu.find("__wasmsimd") != std::string::npos);
    CHECK(minmax.find("__wasmsimd") != std::string::npos);
    CHECK(gemm.find("__wasmsimd") != std::string::npos);
#else
    // Natively XNNPACK picks among x86 ISA variants the probe does not enumerate (and has no ReLU-fused
    // variant for some ISAs); the clamped kernels must be configured.
    CHECK(minmax != "none");
    CHECK(gemm != "none");
#endif
}
