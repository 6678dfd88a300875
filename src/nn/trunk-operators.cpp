// nn/trunk-operators.cpp: the f32 trunk on XNNPACK's operator API, built and set up once (the input length is
// fixed by the weights file), then run as a list of steps.
//
// Buffers, NWC per lead (12 leads = the batch): the stem's output, one buffer per stage holding all the
// channels its dense block will ever have, and scratch for the bottleneck and k3 outputs and the Winograd
// transforms. DenseNet's concatenation is free: the pool block's average pool writes the previous stage's
// channels into the first slice of the stage buffer, and each unit's last 1x1 convolution writes its 32
// channels straight into their slice (XNNPACK's channel strides); each unit's first 1x1 convolution reads the
// first C channels of the same buffer. The k3 stride-1 convolutions (21 of the 26 k3 layers, 40 % of the
// direct build's time) run as Winograd F(4,3): input transform, 6 GEMMs as one grouped 1x1 convolution,
// output transform with bias and ReLU (winograd.h); the k3 stride-2 ones stay XNNPACK convolutions (IGEMM).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>

#include "nn/trunk.h"
#include "nn/winograd.h"

namespace kalium {
namespace {

struct operator_deleter {
    void operator()(xnn_operator_t op) const { xnn_delete_operator(op); }
};
using operator_ptr = std::unique_ptr<xnn_operator, operator_deleter>;

// A zeroed float buffer aligned for SIMD loads, with the XNN_EXTRA_BYTES after the end that XNNPACK may read.
class float_buffer {
public:
    bool resize(size_t count) {  // false when out of memory
        const size_t bytes = ((count * sizeof(float) + XNN_EXTRA_BYTES + 63) / 64) * 64;
        data_.reset(static_cast<float *>(std::aligned_alloc(64, bytes)));
        if (data_) std::fill_n(data_.get(), bytes / sizeof(float), 0.0f);
        return data_ != nullptr;
    }
    float *data() const { return data_.get(); }

private:
    struct free_deleter {
        void operator()(float *p) const { std::free(p); }
    };
    std::unique_ptr<float, free_deleter> data_;
};

// A tensor view: 12 leads x width pixels, each `stride` floats apart, of which a slice is read or written.
struct view {
    float *data = nullptr;
    size_t width = 0, stride = 0;
};

class operator_trunk final : public trunk {
public:
    operator_trunk(const net_config &cfg, trunk_weights &weights, pthreadpool_t threadpool, bool profiling)
        : cfg_(cfg), weights_(weights), threadpool_(threadpool), profiling_(profiling) {}

    status run() override {
        for (step &st : steps_) {
            const auto t0 = profiling_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
            if (status s = st.run(); !s) return s;
            if (profiling_) st.total_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        }
        runs_ += profiling_;
        return status();
    }

    std::vector<trunk_step_time> profile() const override {
        std::vector<trunk_step_time> out;
        for (const step &st : steps_) {
            auto it = std::find_if(out.begin(), out.end(), [&](const trunk_step_time &t) { return t.kind == st.kind; });
            if (it == out.end()) it = out.insert(out.end(), trunk_step_time{st.kind, 0.0, 0, st.macs});
            else it->macs += st.macs;
            it->ms += runs_ ? st.total_ms / double(runs_) : 0.0;
            it->count++;
        }
        return out;
    }

    status build() {
        // widths: stem, then each stage's pool unit halves (ceil)
        const size_t stem_width = conv_output_width(cfg_.samples, 7, 2);
        std::vector<size_t> stage_width, stage_channels;
        size_t width = stem_width, channels = cfg_.stem;
        for (size_t units : cfg_.dense_units) {
            width = conv_output_width(width, 3, 2);
            channels += (units + 1) * cfg_.growth;
            stage_width.push_back(width);
            stage_channels.push_back(channels);
        }
        const size_t stages = cfg_.dense_units.size();
        const size_t b = cfg_.bottleneck;

        bool allocated = input_buffer_.resize(k_trunk_leads * cfg_.samples);
        allocated &= stem_buffer_.resize(k_trunk_leads * stem_width * cfg_.stem);
        stage_buffers_.resize(stages);
        for (size_t s = 0; s < stages; s++) allocated &= stage_buffers_[s].resize(k_trunk_leads * stage_width[s] * stage_channels[s]);
        // Two scratch buffers serve every unit. A Winograd layer reads the bottleneck buffer into V (held in the
        // k3 buffer, whose last contents were read already), multiplies V into M (held in the bottleneck buffer,
        // read already) and transforms M into the k3 buffer (V read already): 5.8 MB less than buffers of their own.
        const size_t winograd_values = k_trunk_leads * winograd_tiles(stage_width[0]) * k_winograd_points * b;
        allocated &= bottleneck_buffer_.resize(std::max(k_trunk_leads * stem_width * b, winograd_values));  // widest: the first pool unit's
        allocated &= k3_buffer_.resize(std::max(k_trunk_leads * stage_width[0] * b, winograd_values));
        allocated &= zeros_.resize(b);
        if (!allocated) return status::error(status_code::out_of_memory, "ECG12Net: out of memory for the trunk's buffers");

        input_ = input_buffer_.data();
        view x{input_, cfg_.samples, 1};
        view stem{stem_buffer_.data(), stem_width, cfg_.stem};
        if (status s = conv("trunks.0.layers.0.0", x, 1, cfg_.stem, 7, 2, stem, 0); !s) return s;

        view prev = stem;
        size_t prev_channels = cfg_.stem, layer = 1;
        for (size_t stage = 0; stage < stages; stage++) {
            const view block{stage_buffers_[stage].data(), stage_width[stage], stage_channels[stage]};
            const view bneck_in{bottleneck_buffer_.data(), prev.width, b};
            const view k3_out{k3_buffer_.data(), block.width, b};
            // pool block: avgpool(prev) -> channels [0, C); pool unit(prev) -> [C, C + growth)
            if (status s = average_pool(prev, prev_channels, block); !s) return s;
            std::string prefix = trunk_unit_prefix(layer++);
            if (status s = conv(prefix + "0.0", prev, prev_channels, b, 1, 1, bneck_in, 0); !s) return s;
            if (status s = conv(prefix + "1.0", bneck_in, b, b, 3, 2, k3_out, 0); !s) return s;
            if (status s = conv(prefix + "2.0", k3_out, b, cfg_.growth, 1, 1, block, prev_channels); !s) return s;
            size_t c = prev_channels + cfg_.growth;
            // dense units: read channels [0, c), write [c, c + growth)
            const view bneck{bottleneck_buffer_.data(), block.width, b};
            for (size_t u = 0; u < cfg_.dense_units[stage]; u++, c += cfg_.growth) {
                prefix = trunk_unit_prefix(layer++);
                if (status s = conv(prefix + "0.0", block, c, b, 1, 1, bneck, 0); !s) return s;
                if (status s = winograd_k3(prefix + "1.0", bneck, b, k3_out); !s) return s;
                if (status s = conv(prefix + "2.0", k3_out, b, cfg_.growth, 1, 1, block, c); !s) return s;
            }
            prev = block;
            prev_channels = c;
        }
        features_ = prev.data;
        width_ = prev.width;
        channels_ = prev_channels;

        // every operator's workspace (IGEMM keeps its indirection buffer there, made at setup), then setup
        size_t total = 0;
        for (auto &pending : setups_) total += (pending.workspace_bytes + 63) / 64 * 64;
        if (!workspace_.resize(total / sizeof(float) + 1))
            return status::error(status_code::out_of_memory, "ECG12Net: out of memory for XNNPACK's workspace");
        char *next = reinterpret_cast<char *>(workspace_.data());
        for (auto &pending : setups_) {
            if (status s = pending.setup(pending.workspace_bytes ? next : nullptr); !s) return s;
            next += (pending.workspace_bytes + 63) / 64 * 64;
        }
        setups_.clear();
        return status();
    }

private:
    // One Winograd transform of one layer, for all leads (pthreadpool hands each lead to a thread).
    struct transform {
        const float *src;
        float *dst;
        size_t width, channels, tiles;
        const float *zeros, *bias;
    };
    struct step {
        std::string kind;  // what profile() sums over, e.g. "conv 1x1 (GEMM)"
        double macs = 0;   // multiply-adds per run (12 leads)
        std::function<status()> run;
        double total_ms = 0;
    };
    struct pending_setup {
        size_t workspace_bytes;
        std::function<status(void *workspace)> setup;
    };

    // Adds an operator: reshaped now, set up once every workspace is known, run by a step.
    void add_operator(xnn_operator_t raw, size_t workspace_bytes, std::function<xnn_status(void *)> setup, std::string kind,
                      double macs) {
        operators_.emplace_back(raw);
        setups_.push_back({workspace_bytes, [setup, kind](void *workspace) {
                               const xnn_status s = setup(workspace);
                               return s == xnn_status_success ? status() : xnn_failure(("setting up " + kind).c_str(), s);
                           }});
        steps_.push_back({kind, macs, [this, raw, kind] {
                              const xnn_status s = xnn_run_operator(raw, threadpool_);
                              return s == xnn_status_success ? status() : xnn_failure(("running " + kind).c_str(), s);
                          }});
    }

    // conv (PyTorch weight out x in x k, 'same' padding, stride) + ReLU from the first cin channels of `in` to
    // channels [out_offset, out_offset + cout) of `out`.
    status conv(const std::string &prefix, const view &in, size_t cin, size_t cout, size_t k, size_t stride, const view &out,
                size_t out_offset) {
        result<conv_weights> taken = weights_.take(prefix, cin, cout, k);
        if (!taken) return taken.error();
        std::vector<float> filter = taken->filter_ohwi(cout, cin, k);
        const uint32_t pad = static_cast<uint32_t>(k / 2);
        xnn_operator_t op = nullptr;
        xnn_status s = xnn_create_convolution2d_nhwc_f32(0, pad, 0, pad, 1, static_cast<uint32_t>(k), 1, static_cast<uint32_t>(stride),
                                                         1, 1, 1, cin, cout, in.stride, out.stride, filter.data(),
                                                         taken->bias.data(), 0.0f, k_no_clamp, 0, nullptr, nullptr, &op);
        if (s != xnn_status_success) return xnn_failure("creating a convolution", s);
        size_t workspace = 0, alignment = 0, out_h = 0, out_w = 0;
        s = xnn_reshape_convolution2d_nhwc_f32(op, k_trunk_leads, 1, in.width, &workspace, &alignment, &out_h, &out_w, threadpool_);
        if (s != xnn_status_success || out_w != out.width) {
            xnn_delete_operator(op);
            return s != xnn_status_success ? xnn_failure(("reshaping convolution " + prefix).c_str(), s)
                                           : status::error(status_code::internal, "convolution %s: %zu samples out, %zu expected",
                                                           prefix.c_str(), out_w, out.width);
        }
        const float *src = in.data;
        float *dst = out.data + out_offset;
        const std::string kind = k == 1 ? "conv 1x1 " + std::string(cout == cfg_.growth ? "128->32" : "C->128") + " (GEMM)"
                                        : "conv k" + std::to_string(k) + " s" + std::to_string(stride) + " (IGEMM)";
        add_operator(op, workspace, [op, src, dst](void *ws) { return xnn_setup_convolution2d_nhwc_f32(op, ws, src, dst); }, kind,
                     double(k_trunk_leads * out.width * cout * cin * k));
        return status();
    }

    // average pool 2/2 in ceil mode (an odd last sample averaged alone, padding excluded, as model/model.py) of
    // the first `channels` channels of `in` into the first channels of `out`.
    status average_pool(const view &in, size_t channels, const view &out) {
        const uint32_t odd = static_cast<uint32_t>(in.width % 2);
        xnn_operator_t op = nullptr;
        xnn_status s = xnn_create_average_pooling2d_nhwc_f32(0, odd, 0, 0, 1, 2, 1, 2, -k_no_clamp, k_no_clamp, 0, &op);
        if (s != xnn_status_success) return xnn_failure("creating an average pooling", s);
        size_t workspace = 0, alignment = 0, out_h = 0, out_w = 0;
        s = xnn_reshape_average_pooling2d_nhwc_f32(op, k_trunk_leads, 1, in.width, channels, in.stride, out.stride, &workspace, &alignment,
                                                   &out_h, &out_w, threadpool_);
        if (s != xnn_status_success || out_w != out.width) {
            xnn_delete_operator(op);
            return s != xnn_status_success ? xnn_failure("reshaping an average pooling", s)
                                           : status::error(status_code::internal, "average pooling: %zu samples out, %zu expected",
                                                           out_w, out.width);
        }
        const float *src = in.data;
        float *dst = out.data;
        add_operator(op, workspace, [op, src, dst](void *ws) { return xnn_setup_average_pooling2d_nhwc_f32(op, ws, src, dst); },
                     "average pool 2/2", 0.0);
        return status();
    }

    // k3 stride-1 conv + ReLU (channels -> channels, dense in and out) as Winograd F(4,3).
    status winograd_k3(const std::string &prefix, const view &in, size_t channels, const view &out) {
        float *v = k3_buffer_.data(), *m = bottleneck_buffer_.data();  // see build()
        if (in.data != m || out.data != v) return status::error(status_code::internal, "Winograd %s: unexpected buffers", prefix.c_str());
        result<conv_weights> taken = weights_.take(prefix, channels, channels, 3);
        if (!taken) return taken.error();
        const std::vector<float> u = winograd_filter(taken->weight_oik.data(), channels, channels);
        const size_t row = k_winograd_points * channels;  // one tile: 6 points x channels
        xnn_operator_t op = nullptr;
        xnn_status s = xnn_create_convolution2d_nhwc_f32(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, k_winograd_points, channels, channels, row, row,
                                                         u.data(), nullptr, -k_no_clamp, k_no_clamp, 0, nullptr, nullptr, &op);
        if (s != xnn_status_success) return xnn_failure("creating the Winograd products", s);
        const size_t tiles = winograd_tiles(in.width);
        size_t workspace = 0, alignment = 0, out_h = 0, out_w = 0;
        s = xnn_reshape_convolution2d_nhwc_f32(op, 1, 1, k_trunk_leads * tiles, &workspace, &alignment, &out_h, &out_w, threadpool_);
        if (s != xnn_status_success) {
            xnn_delete_operator(op);
            return xnn_failure("reshaping the Winograd products", s);
        }
        biases_.push_back(std::move(taken->bias));
        const float *bias = biases_.back().data();
        const float *zeros = zeros_.data();

        transforms_.push_back(std::make_unique<transform>(transform{in.data, v, in.width, channels, tiles, zeros, bias}));
        transform *input_step = transforms_.back().get();
        transforms_.push_back(std::make_unique<transform>(transform{m, out.data, in.width, channels, tiles, zeros, bias}));
        transform *output_step = transforms_.back().get();

        steps_.push_back({"Winograd input transform", 0.0, [this, input_step] {
            pthreadpool_parallelize_1d(
                threadpool_,
                [](void *context, size_t lead) {
                    const auto *t = static_cast<const transform *>(context);
                    winograd_input(t->src + lead * t->width * t->channels, t->width, t->channels, t->channels, t->zeros,
                                   t->dst + lead * t->tiles * k_winograd_points * t->channels);
                },
                input_step, k_trunk_leads, 0);
            return status();
        }});
        add_operator(op, workspace, [op, v, m](void *ws) { return xnn_setup_convolution2d_nhwc_f32(op, ws, v, m); },
                     "Winograd products k3 s1 (GEMM)", double(k_trunk_leads * tiles * k_winograd_points * channels * channels));
        steps_.push_back({"Winograd output transform", 0.0, [this, output_step] {
            pthreadpool_parallelize_1d(
                threadpool_,
                [](void *context, size_t lead) {
                    const auto *t = static_cast<const transform *>(context);
                    winograd_output(t->src + lead * t->tiles * k_winograd_points * t->channels, t->width, t->channels, t->bias,
                                    t->dst + lead * t->width * t->channels, t->channels);
                },
                output_step, k_trunk_leads, 0);
            return status();
        }});
        return status();
    }

    net_config cfg_;
    trunk_weights &weights_;
    pthreadpool_t threadpool_;
    float_buffer input_buffer_, stem_buffer_, bottleneck_buffer_, k3_buffer_, zeros_, workspace_;
    std::vector<float_buffer> stage_buffers_;
    std::vector<operator_ptr> operators_;
    std::vector<std::vector<float>> biases_;  // the Winograd layers' biases (our output transform adds them)
    std::vector<std::unique_ptr<transform>> transforms_;  // what each Winograd transform step reads and writes
    bool profiling_;
    size_t runs_ = 0;
    std::vector<step> steps_;
    std::vector<pending_setup> setups_;
};

}  // namespace

result<std::unique_ptr<trunk>> build_trunk_operators(const net_config &cfg, trunk_weights &weights, const trunk_options &options) {
    auto t = std::make_unique<operator_trunk>(cfg, weights, options.threadpool, options.profile);
    if (status s = t->build(); !s) return s;
    return std::unique_ptr<trunk>(std::move(t));
}

}  // namespace kalium
