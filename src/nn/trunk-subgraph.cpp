// nn/trunk-subgraph.cpp: the trunk as one XNNPACK subgraph in NHWC with H = 1 (N = 12 leads, W = time,
// C = channels): stem conv, 5 x (pool block + dense units), each unit three direct convolutions with ReLU and a
// channel concatenation (XNNPACK turns each into copies). Used for the int8 trunk, whose k3 convolutions need
// XNNPACK's qd8 IGEMM, and as the direct f32 reference that tests check the Winograd build against.
#include <algorithm>
#include <cmath>

#include "nn/trunk.h"

namespace kalium {
namespace {

struct subgraph_deleter {
    void operator()(xnn_subgraph_t s) const { xnn_delete_subgraph(s); }
};
struct runtime_deleter {
    void operator()(xnn_runtime_t r) const { xnn_delete_runtime(r); }
};

class subgraph_trunk final : public trunk {
public:
    subgraph_trunk(const net_config &cfg, trunk_weights &weights, const trunk_options &options)
        : cfg_(cfg), weights_(weights), int8_(options.int8), threadpool_(options.threadpool) {}

    status run() override {
        const xnn_status s = xnn_invoke_runtime(runtime_.get());
        return s == xnn_status_success ? status() : xnn_failure("xnn_invoke_runtime", s);
    }

    status build() {
        xnn_subgraph_t raw = nullptr;
        if (xnn_status s = xnn_create_subgraph(2, 0, &raw); s != xnn_status_success) return xnn_failure("xnn_create_subgraph", s);
        subgraph_.reset(raw);
        const size_t n_samples = cfg_.samples;
        uint32_t input_id = 0, output_id = 1;
        if (status s = define_value({k_trunk_leads, 1, n_samples, 1}, nullptr, input_id, XNN_VALUE_FLAG_EXTERNAL_INPUT, &input_id); !s)
            return s;
        uint32_t x = 0;
        size_t width = 0, channels = cfg_.stem;
        if (status s = conv_relu("trunks.0.layers.0.0", 1, cfg_.stem, 7, 2, input_id, n_samples, &x, &width); !s) return s;
        size_t layer = 1;
        for (size_t block = 0; block < cfg_.dense_units.size(); block++) {
            for (size_t u = 0; u <= cfg_.dense_units[block]; u++, layer++) {
                const bool pool = u == 0;
                const std::string prefix = trunk_unit_prefix(layer);
                uint32_t a, bneck, c;
                size_t w1, w2, w3;
                if (status s = conv_relu(prefix + "0.0", channels, cfg_.bottleneck, 1, 1, x, width, &a, &w1); !s) return s;
                if (status s = conv_relu(prefix + "1.0", cfg_.bottleneck, cfg_.bottleneck, 3, pool ? 2 : 1, a, w1, &bneck, &w2); !s)
                    return s;
                if (status s = conv_relu(prefix + "2.0", cfg_.bottleneck, cfg_.growth, 1, 1, bneck, w2, &c, &w3); !s) return s;
                uint32_t skip = x;
                if (pool) {  // average pool 2/2 in ceil mode: an odd last sample is averaged alone (padding excluded)
                    const size_t odd = width % 2;
                    if (status s = define_value({k_trunk_leads, 1, w3, channels}, nullptr, XNN_INVALID_VALUE_ID, 0, &skip); !s) return s;
                    const xnn_status st = xnn_define_average_pooling_2d(subgraph_.get(), 0, static_cast<uint32_t>(odd), 0, 0, 1, 2,
                                                                        1, 2, -k_no_clamp, k_no_clamp, x, skip, 0);
                    if (st != xnn_status_success) return xnn_failure("average pooling", st);
                }
                const bool last = block + 1 == cfg_.dense_units.size() && u == cfg_.dense_units[block];
                uint32_t cat;
                if (status s = define_value({k_trunk_leads, 1, w3, channels + cfg_.growth}, nullptr, last ? output_id : XNN_INVALID_VALUE_ID,
                                            last ? XNN_VALUE_FLAG_EXTERNAL_OUTPUT : 0, &cat);
                    !s)
                    return s;
                const xnn_status st = xnn_define_concatenate2(subgraph_.get(), 3, skip, c, cat, 0);
                if (st != xnn_status_success) return xnn_failure("concatenation", st);
                x = cat;
                width = w3;
                channels += cfg_.growth;
            }
        }
        width_ = width;
        channels_ = channels;

        xnn_runtime_t rt = nullptr;
        if (xnn_status s = xnn_create_runtime_v3(subgraph_.get(), nullptr, threadpool_, 0, &rt); s != xnn_status_success)
            return xnn_failure("xnn_create_runtime_v3", s);
        runtime_.reset(rt);
        if (xnn_status s = xnn_reshape_runtime(runtime_.get()); s != xnn_status_success) return xnn_failure("xnn_reshape_runtime", s);
        input_buffer_.assign(k_trunk_leads * n_samples, 0.0f);
        features_buffer_.assign(k_trunk_leads * width_ * channels_, 0.0f);
        input_ = input_buffer_.data();
        features_ = features_buffer_.data();
        const xnn_external_value externals[2] = {{input_id, input_}, {output_id, features_}};
        if (xnn_status s = xnn_setup_runtime_v2(runtime_.get(), 2, externals); s != xnn_status_success)
            return xnn_failure("xnn_setup_runtime_v2", s);
        // the runtime holds XNNPACK's packed copies; ours are no longer read
        static_data_.clear();
        static_int8_.clear();
        subgraph_.reset();
        return status();
    }

private:
    status define_value(std::vector<size_t> dims, const float *data, uint32_t external_id, uint32_t flags, uint32_t *id) {
        const xnn_status s = xnn_define_tensor_value(subgraph_.get(), xnn_datatype_fp32, dims.size(), dims.data(), data,
                                                     external_id, flags, id);
        return s == xnn_status_success ? status() : xnn_failure("xnn_define_tensor_value", s);
    }

    // conv (PyTorch weight out x in x k, 'same' padding k/2, stride) + ReLU: NHWC [12, 1, w, cin] -> [12, 1, w', cout].
    status conv_relu(const std::string &prefix, size_t cin, size_t cout, size_t k, size_t stride, uint32_t in_id,
                     size_t width_in, uint32_t *out_id, size_t *width_out) {
        result<conv_weights> taken = weights_.take(prefix, cin, cout, k);
        if (!taken) return taken.error();
        std::vector<float> filter = taken->filter_ohwi(cout, cin, k);
        static_data_.push_back(std::move(taken->bias));
        const float *bias_data = static_data_.back().data();
        const bool quantise = int8_ && cin > 1;
        const void *filter_data = nullptr;
        const float *filter_scale = nullptr;
        if (quantise) {  // symmetric int8 per output channel: scale = max |w| / 127
            std::vector<int8_t> q(filter.size());
            std::vector<float> scale(cout);
            const size_t per_channel = k * cin;
            for (size_t o = 0; o < cout; o++) {
                float max_abs = 0.0f;
                for (size_t e = 0; e < per_channel; e++) max_abs = std::max(max_abs, std::fabs(filter[o * per_channel + e]));
                scale[o] = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
                for (size_t e = 0; e < per_channel; e++) {
                    const float v = std::nearbyint(filter[o * per_channel + e] / scale[o]);
                    q[o * per_channel + e] = static_cast<int8_t>(std::clamp(v, -127.0f, 127.0f));
                }
            }
            static_int8_.push_back(std::move(q));
            filter_data = static_int8_.back().data();
            static_data_.push_back(std::move(scale));
            filter_scale = static_data_.back().data();
        } else {
            static_data_.push_back(std::move(filter));
            filter_data = static_data_.back().data();
        }
        const size_t pad = k / 2;
        *width_out = conv_output_width(width_in, k, stride);
        uint32_t filter_id, bias_id;
        if (quantise) {
            // 1x1 convolutions become fully-connected layers over the 12 x w pixels, so the input is quantised
            // with one scale and zero point per pixel (XNNPACK's qd8 GEMM reads them per row); the k3 ones keep
            // the convolution, whose IGEMM reads one per image: per lead.
            const bool fully_connected = k == 1 && stride == 1;
            const size_t dims_fc[2] = {cout, cin}, dims_conv[4] = {cout, 1, k, cin};
            const xnn_status st = xnn_define_channelwise_quantized_tensor_value(
                subgraph_.get(), xnn_datatype_qcint8, filter_scale, fully_connected ? 2 : 4, 0,
                fully_connected ? dims_fc : dims_conv, filter_data, XNN_INVALID_VALUE_ID, 0, &filter_id);
            if (st != xnn_status_success) return xnn_failure("int8 filter", st);
            const size_t in_dims[4] = {k_trunk_leads, 1, width_in, cin};
            uint32_t q_in = 0;
            const xnn_status sq = xnn_define_dynamically_quantized_tensor_value(
                subgraph_.get(), xnn_datatype_qdint8, 4, fully_connected ? 1 : 3, in_dims, XNN_INVALID_VALUE_ID, 0, &q_in);
            if (sq != xnn_status_success) return xnn_failure("int8 activations", sq);
            const xnn_status sc = xnn_define_unary(subgraph_.get(), xnn_unary_convert, nullptr, in_id, q_in, 0);
            if (sc != xnn_status_success) return xnn_failure("quantisation", sc);
            in_id = q_in;
            if (fully_connected) {
                if (status s = define_value({cout}, bias_data, XNN_INVALID_VALUE_ID, 0, &bias_id); !s) return s;
                if (status s = define_value({k_trunk_leads, 1, *width_out, cout}, nullptr, XNN_INVALID_VALUE_ID, 0, out_id); !s) return s;
                const xnn_status sf = xnn_define_fully_connected(subgraph_.get(), 0.0f, k_no_clamp, in_id, filter_id, bias_id, *out_id, 0);
                return sf == xnn_status_success ? status() : xnn_failure(("fully connected " + prefix).c_str(), sf);
            }
        } else if (status s = define_value({cout, 1, k, cin}, static_cast<const float *>(filter_data), XNN_INVALID_VALUE_ID, 0,
                                           &filter_id);
                   !s) {
            return s;
        }
        if (status s = define_value({cout}, bias_data, XNN_INVALID_VALUE_ID, 0, &bias_id); !s) return s;
        if (status s = define_value({k_trunk_leads, 1, *width_out, cout}, nullptr, XNN_INVALID_VALUE_ID, 0, out_id); !s) return s;
        const xnn_status s = xnn_define_convolution_2d(
            subgraph_.get(), 0, static_cast<uint32_t>(pad), 0, static_cast<uint32_t>(pad), 1, static_cast<uint32_t>(k), 1,
            static_cast<uint32_t>(stride), 1, 1, 1, cin, cout, 0.0f, k_no_clamp, in_id, filter_id, bias_id, *out_id, 0);
        return s == xnn_status_success ? status() : xnn_failure(("convolution " + prefix).c_str(), s);
    }

    net_config cfg_;
    trunk_weights &weights_;
    bool int8_;
    pthreadpool_t threadpool_;
    std::vector<std::vector<float>> static_data_;   // XNNPACK keeps pointers into these until the runtime is made
    std::vector<std::vector<int8_t>> static_int8_;  // the same, for int8 filters
    std::unique_ptr<xnn_subgraph, subgraph_deleter> subgraph_;
    std::unique_ptr<xnn_runtime, runtime_deleter> runtime_;
    std::vector<float> input_buffer_, features_buffer_;
};

}  // namespace

result<std::unique_ptr<trunk>> build_trunk_subgraph(const net_config &cfg, trunk_weights &weights, const trunk_options &options) {
    auto t = std::make_unique<subgraph_trunk>(cfg, weights, options);
    if (status s = t->build(); !s) return s;
    return std::unique_ptr<trunk>(std::move(t));
}

}  // namespace kalium
