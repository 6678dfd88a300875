// nn/ecg12net.cpp: ECG12Net on XNNPACK (see model/FORMAT.md for the tensors and model/model.py for the
// reference). The 12 leads are the batch of one shared trunk, built once as an XNNPACK subgraph in NHWC with
// H = 1 (N = 12 leads, W = time, C = channels): stem conv, 5 x (pool block + dense units), each unit three
// convolutions with ReLU and a channel concatenation. What follows the trunk is a few thousand multiply-adds
// and runs in plain C++: the final BN + ReLU, the mean over time, the per-lead heads, the attention over
// leads and the class-activation maps.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>

#include <pthreadpool.h>
#include <xnnpack.h>
#if defined(__EMSCRIPTEN__)
// XNNPACK's private kernel configuration (the pinned XNNPACK, see cmake/xnnpack.cmake): for the GEMM tile below.
#include "xnnpack/config.h"
#include "xnnpack/gemm.h"
#endif

#include "kalium.h"
#include "nn/model-file.h"

namespace kalium {

const char *const k_group_names[k_group_count] = {"<=2.5", "2.5-3.5", "3.5-5.5", "5.5-6.5", ">=6.5"};
const char *const k_group_labels[k_group_count] = {"severe hypokalemia", "hypokalemia", "normokalemia",
                                                   "hyperkalemia", "severe hyperkalemia"};

int k_group_of(double k) { return (k > 2.5) + (k > 3.5) + (k >= 5.5) + (k >= 6.5); }

std::string k_display(double k) {
    if (k < 1.5) return "<1.5";
    if (k > 7.5) return ">7.5";
    char text[16];
    std::snprintf(text, sizeof text, "%.1f", k);
    return text;
}

namespace {

constexpr float k_inf = std::numeric_limits<float>::infinity();
constexpr size_t k_leads = k_standard_lead_count;

struct subgraph_deleter {
    void operator()(xnn_subgraph_t s) const { xnn_delete_subgraph(s); }
};
struct runtime_deleter {
    void operator()(xnn_runtime_t r) const { xnn_delete_runtime(r); }
};
struct threadpool_deleter {
    void operator()(pthreadpool_t p) const { pthreadpool_destroy(p); }
};

status xnn_failure(const char *what, xnn_status s) {
    return status::error(status_code::internal, "XNNPACK: %s failed (status %d)", what, static_cast<int>(s));
}

// The network's dimensions, from the header's model_config.
struct net_config {
    size_t samples = 1250, stem = 32, growth = 32, bottleneck = 128, attention_hidden = 8;
    std::vector<size_t> dense_units{3, 3, 6, 6, 3};
    bool has_groups = false;
};

result<net_config> read_config(const nlohmann::json &header) {
    const auto fail = [](const char *what) {
        return status::error(status_code::unsupported, "model file: model_config: %s", what);
    };
    if (header.value("format", "") != "kalium-ecg12net") return fail("format is not \"kalium-ecg12net\"");
    if (!header.value("batchnorm_folded", false)) return fail("batch norm is not folded (export with model/export.py)");
    const auto c = header.find("model_config");
    if (c == header.end() || !c->is_object()) return fail("missing");
    net_config cfg;
    const auto number = [&](const char *key, size_t &out, size_t lo, size_t hi) {
        const auto it = c->find(key);
        if (it == c->end() || !it->is_number_unsigned()) return false;
        out = it->get<size_t>();
        return out >= lo && out <= hi;
    };
    size_t n_leads = 0, emp = 0;
    if (!number("n_leads", n_leads, 12, 12)) return fail("n_leads must be 12");
    if (!number("input_samples", cfg.samples, 1250, 1250)) return fail("input_samples must be 1250 (2.5 s at 500 Hz)");
    if (!number("stem_channels", cfg.stem, 1, 1024) || !number("growth", cfg.growth, 1, 1024) ||
        !number("bottleneck", cfg.bottleneck, 1, 4096) || !number("attention_hidden", cfg.attention_hidden, 1, 1024))
        return fail("stem_channels, growth, bottleneck or attention_hidden missing or out of range");
    if (!number("emp_features", emp, 0, 0)) return fail("emp_features > 0 (ECG12Net-2) is not supported by this engine yet");
    if (c->value("shared_trunk", false) != true) return fail("only a trunk shared by the 12 leads is supported");
    const auto units = c->find("dense_units");
    if (units == c->end() || !units->is_array() || units->empty() || units->size() > 8) return fail("dense_units");
    cfg.dense_units.clear();
    for (const auto &u : *units) {
        if (!u.is_number_unsigned() || u.get<size_t>() > 64) return fail("dense_units");
        cfg.dense_units.push_back(u.get<size_t>());
    }
    const std::string head = c->value("head", "");
    const bool all = head == "all";
    if (!all && head.find("regression") == std::string::npos) return fail("the model needs the regression head (K+)");
    cfg.has_groups = all || head.find("groups") != std::string::npos;
    return cfg;
}

// In wasm on an x86 host with few cores XNNPACK picks the 4x8 `splat` kernels for every f32 GEMM. For the 1x1
// convolutions (the GEMM path; 42 % of this network's time) the 4x8 `loadsplat` kernel runs at 39-40 GFLOP/s
// against splat's 28-30 in node, while for the k3 convolutions (IGEMM) splat stays faster (BENCHMARKS.md, the
// GEMM tile experiment). So: loadsplat for GEMM, XNNPACK's splat for IGEMM. Only when XNNPACK chose 4x8 splat
// (other hosts keep XNNPACK's own choice); both kernels sum in the same order, so results do not change.
void tune_wasm_gemm_tiles() {
#if defined(__EMSCRIPTEN__) && !XNN_ARCH_WASMRELAXEDSIMD
    auto *config = const_cast<xnn_gemm_config *>(xnn_init_f32_gemm_config());
    if (config == nullptr || config->mr != 4) return;
    const xnn_gemm_ukernel_fn splat = reinterpret_cast<xnn_gemm_ukernel_fn>(xnn_f32_gemm_relu_ukernel_4x8__wasmsimd_splat);
    if (config->relu.gemm[3].function[XNN_UARCH_DEFAULT] != splat) return;
    config->relu.gemm[0] = xnn_init_hmp_gemm_ukernel(reinterpret_cast<xnn_gemm_ukernel_fn>(xnn_f32_gemm_relu_ukernel_1x8__wasmsimd_loadsplat));
    config->relu.gemm[3] = xnn_init_hmp_gemm_ukernel(reinterpret_cast<xnn_gemm_ukernel_fn>(xnn_f32_gemm_relu_ukernel_4x8__wasmsimd_loadsplat));
#endif
}

}  // namespace

struct k_model::impl {
    std::string name, sha256;
    net_config cfg;
    model_file file;
    std::vector<std::vector<float>> static_data;   // XNNPACK keeps pointers into these
    std::vector<std::vector<int8_t>> static_int8;  // the same, for int8 filters
    bool int8 = false;                              // model_options::precision::int8
    std::unique_ptr<pthreadpool, threadpool_deleter> threadpool;
    std::unique_ptr<xnn_subgraph, subgraph_deleter> subgraph;
    std::unique_ptr<xnn_runtime, runtime_deleter> runtime;
    uint32_t input_id = 0, output_id = 1;
    size_t out_width = 0, out_channels = 0;
    std::vector<float> input, features;             // 12 x 1250 x 1; 12 x out_width x out_channels (NHWC)
    // after the trunk (plain C++)
    std::vector<float> bn_scale, bn_shift;
    const model_tensor *reg_w = nullptr, *reg_b = nullptr, *att0_w = nullptr, *att0_b = nullptr, *att3_w = nullptr,
                       *att3_b = nullptr, *groups_w = nullptr, *groups_b = nullptr;
    std::vector<float> pooled;                      // 12 x C, the mean over time per lead
    std::vector<double> cam_row, cam_up;            // one lead's map at feature and at input resolution

    const model_tensor *tensor(const std::string &name_) const {
        const auto it = file.tensors.find(name_);
        return it == file.tensors.end() ? nullptr : &it->second;
    }
    status need(const std::string &tensor_name, std::vector<size_t> shape, const model_tensor **out) const {
        const model_tensor *t = tensor(tensor_name);
        if (!t) return status::error(status_code::bad_format, "model file: tensor %s is missing", tensor_name.c_str());
        if (t->shape != shape) {
            std::string want, got;
            for (size_t d : shape) want += (want.empty() ? "" : "x") + std::to_string(d);
            for (size_t d : t->shape) got += (got.empty() ? "" : "x") + std::to_string(d);
            return status::error(status_code::bad_format, "model file: tensor %s has shape %s; the config needs %s",
                                 tensor_name.c_str(), got.c_str(), want.c_str());
        }
        *out = t;
        return status();
    }

    void release(const std::string &tensor_name) {
        const auto it = file.tensors.find(tensor_name);
        if (it != file.tensors.end()) std::vector<float>().swap(it->second.values);
    }

    status define_value(std::vector<size_t> dims, const float *data, uint32_t external_id, uint32_t flags, uint32_t *id) {
        const xnn_status s = xnn_define_tensor_value(subgraph.get(), xnn_datatype_fp32, dims.size(), dims.data(), data,
                                                     external_id, flags, id);
        return s == xnn_status_success ? status() : xnn_failure("xnn_define_tensor_value", s);
    }

    // conv (PyTorch weight out x in x k, 'same' padding k/2, stride) + ReLU: NHWC [12, 1, w, cin] -> [12, 1, w', cout].
    status conv_relu(const std::string &prefix, size_t cin, size_t cout, size_t k, size_t stride, uint32_t in_id,
                     size_t width_in, uint32_t *out_id, size_t *width_out) {
        const model_tensor *w = nullptr, *b = nullptr;
        if (status s = need(prefix + ".weight", {cout, cin, k}, &w); !s) return s;
        if (status s = need(prefix + ".bias", {cout}, &b); !s) return s;
        std::vector<float> filter(cout * k * cin);  // OHWI with H = 1
        for (size_t o = 0; o < cout; o++)
            for (size_t i = 0; i < cin; i++)
                for (size_t j = 0; j < k; j++) filter[(o * k + j) * cin + i] = w->values[(o * cin + i) * k + j];
        static_data.push_back(b->values);
        const float *bias_data = static_data.back().data();
        const bool quantise = int8 && cin > 1;
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
            static_int8.push_back(std::move(q));
            filter_data = static_int8.back().data();
            static_data.push_back(std::move(scale));
            filter_scale = static_data.back().data();
        } else {
            static_data.push_back(std::move(filter));
            filter_data = static_data.back().data();
        }
        // The f32 copy in `file` is not read again: release it now, so the peak holds two copies of the trunk
        // (ours for XNNPACK, and XNNPACK's packed one) instead of three.
        release(prefix + ".weight");
        release(prefix + ".bias");
        const size_t pad = k / 2;
        *width_out = (width_in + 2 * pad - k) / stride + 1;
        uint32_t filter_id, bias_id;
        if (quantise) {
            // 1x1 convolutions become fully-connected layers over the 12 x w pixels, so the input is quantised
            // with one scale and zero point per pixel (XNNPACK's qd8 GEMM reads them per row); the k3 ones keep
            // the convolution, whose IGEMM reads one per image: per lead.
            const bool fully_connected = k == 1 && stride == 1;
            const size_t dims_fc[2] = {cout, cin}, dims_conv[4] = {cout, 1, k, cin};
            const xnn_status st = xnn_define_channelwise_quantized_tensor_value(
                subgraph.get(), xnn_datatype_qcint8, filter_scale, fully_connected ? 2 : 4, 0,
                fully_connected ? dims_fc : dims_conv, filter_data, XNN_INVALID_VALUE_ID, 0, &filter_id);
            if (st != xnn_status_success) return xnn_failure("int8 filter", st);
            const size_t in_dims[4] = {k_leads, 1, width_in, cin};
            uint32_t q_in = 0;
            const xnn_status sq = xnn_define_dynamically_quantized_tensor_value(
                subgraph.get(), xnn_datatype_qdint8, 4, fully_connected ? 1 : 3, in_dims, XNN_INVALID_VALUE_ID, 0, &q_in);
            if (sq != xnn_status_success) return xnn_failure("int8 activations", sq);
            const xnn_status sc = xnn_define_unary(subgraph.get(), xnn_unary_convert, nullptr, in_id, q_in, 0);
            if (sc != xnn_status_success) return xnn_failure("quantisation", sc);
            in_id = q_in;
            if (fully_connected) {
                if (status s = define_value({cout}, bias_data, XNN_INVALID_VALUE_ID, 0, &bias_id); !s) return s;
                if (status s = define_value({k_leads, 1, *width_out, cout}, nullptr, XNN_INVALID_VALUE_ID, 0, out_id); !s) return s;
                const xnn_status sf = xnn_define_fully_connected(subgraph.get(), 0.0f, k_inf, in_id, filter_id, bias_id, *out_id, 0);
                return sf == xnn_status_success ? status() : xnn_failure(("fully connected " + prefix).c_str(), sf);
            }
        } else if (status s = define_value({cout, 1, k, cin}, static_cast<const float *>(filter_data), XNN_INVALID_VALUE_ID, 0,
                                           &filter_id);
                   !s) {
            return s;
        }
        if (status s = define_value({cout}, bias_data, XNN_INVALID_VALUE_ID, 0, &bias_id); !s) return s;
        if (status s = define_value({k_leads, 1, *width_out, cout}, nullptr, XNN_INVALID_VALUE_ID, 0, out_id); !s) return s;
        const xnn_status s = xnn_define_convolution_2d(
            subgraph.get(), 0, static_cast<uint32_t>(pad), 0, static_cast<uint32_t>(pad), 1, static_cast<uint32_t>(k), 1,
            static_cast<uint32_t>(stride), 1, 1, 1, cin, cout, 0.0f, k_inf, in_id, filter_id, bias_id, *out_id, 0);
        return s == xnn_status_success ? status() : xnn_failure(("convolution " + prefix).c_str(), s);
    }

    status build() {
        const xnn_status init = xnn_initialize(nullptr);
        if (init != xnn_status_success) return xnn_failure("xnn_initialize", init);
        static std::once_flag tuned;
        std::call_once(tuned, tune_wasm_gemm_tiles);
        xnn_subgraph_t raw = nullptr;
        if (xnn_status s = xnn_create_subgraph(2, 0, &raw); s != xnn_status_success)
            return xnn_failure("xnn_create_subgraph", s);
        subgraph.reset(raw);
        const size_t n_samples = cfg.samples;
        if (status s = define_value({k_leads, 1, n_samples, 1}, nullptr, input_id, XNN_VALUE_FLAG_EXTERNAL_INPUT, &input_id); !s)
            return s;
        uint32_t x = 0;
        size_t width = 0, channels = cfg.stem;
        if (status s = conv_relu("trunks.0.layers.0.0", 1, cfg.stem, 7, 2, input_id, n_samples, &x, &width); !s) return s;
        size_t layer = 1;
        for (size_t block = 0; block < cfg.dense_units.size(); block++) {
            for (size_t u = 0; u <= cfg.dense_units[block]; u++, layer++) {
                const bool pool = u == 0;
                const std::string prefix = "trunks.0.layers." + std::to_string(layer) + ".convs.";
                uint32_t a, bneck, c;
                size_t w1, w2, w3;
                if (status s = conv_relu(prefix + "0.0", channels, cfg.bottleneck, 1, 1, x, width, &a, &w1); !s) return s;
                if (status s = conv_relu(prefix + "1.0", cfg.bottleneck, cfg.bottleneck, 3, pool ? 2 : 1, a, w1, &bneck, &w2); !s)
                    return s;
                if (status s = conv_relu(prefix + "2.0", cfg.bottleneck, cfg.growth, 1, 1, bneck, w2, &c, &w3); !s) return s;
                uint32_t skip = x;
                if (pool) {  // average pool 2/2 in ceil mode: an odd last sample is averaged alone (padding excluded)
                    const size_t odd = width % 2;
                    if (status s = define_value({k_leads, 1, w3, channels}, nullptr, XNN_INVALID_VALUE_ID, 0, &skip); !s) return s;
                    const xnn_status st = xnn_define_average_pooling_2d(subgraph.get(), 0, static_cast<uint32_t>(odd), 0, 0, 1, 2,
                                                                        1, 2, -k_inf, k_inf, x, skip, 0);
                    if (st != xnn_status_success) return xnn_failure("average pooling", st);
                }
                const bool last = block + 1 == cfg.dense_units.size() && u == cfg.dense_units[block];
                uint32_t cat;
                if (status s = define_value({k_leads, 1, w3, channels + cfg.growth}, nullptr, last ? output_id : XNN_INVALID_VALUE_ID,
                                            last ? XNN_VALUE_FLAG_EXTERNAL_OUTPUT : 0, &cat);
                    !s)
                    return s;
                const xnn_status st = xnn_define_concatenate2(subgraph.get(), 3, skip, c, cat, 0);
                if (st != xnn_status_success) return xnn_failure("concatenation", st);
                x = cat;
                width = w3;
                channels += cfg.growth;
            }
        }
        out_width = width;
        out_channels = channels;
        // the final BN as scale and shift (eps 1e-5, as PyTorch's BatchNorm1d)
        const model_tensor *g, *b, *m, *v;
        const std::string bn = "trunks.0.layers." + std::to_string(layer);
        if (status s = need(bn + ".weight", {channels}, &g); !s) return s;
        if (status s = need(bn + ".bias", {channels}, &b); !s) return s;
        if (status s = need(bn + ".running_mean", {channels}, &m); !s) return s;
        if (status s = need(bn + ".running_var", {channels}, &v); !s) return s;
        bn_scale.resize(channels);
        bn_shift.resize(channels);
        for (size_t c = 0; c < channels; c++) {
            bn_scale[c] = g->values[c] / std::sqrt(v->values[c] + 1e-5f);
            bn_shift[c] = b->values[c] - m->values[c] * bn_scale[c];
        }
        // heads and attention: checked now, so predict() cannot meet a missing tensor, and kept as pointers
        // (map nodes stay where they are when the trunk's tensors are erased after the build)
        const size_t h = cfg.attention_hidden;
        if (status s = need("heads.regression.weight", {k_leads, channels, 1}, &reg_w); !s) return s;
        if (status s = need("heads.regression.bias", {k_leads}, &reg_b); !s) return s;
        if (status s = need("attention.0.weight", {k_leads * h, channels, 1}, &att0_w); !s) return s;
        if (status s = need("attention.0.bias", {k_leads * h}, &att0_b); !s) return s;
        if (status s = need("attention.3.weight", {k_leads, h, 1}, &att3_w); !s) return s;
        if (status s = need("attention.3.bias", {k_leads}, &att3_b); !s) return s;
        if (cfg.has_groups) {
            if (status s = need("heads.groups.weight", {k_leads * k_group_count, channels, 1}, &groups_w); !s) return s;
            if (status s = need("heads.groups.bias", {k_leads * k_group_count}, &groups_b); !s) return s;
        }

        xnn_runtime_t rt = nullptr;
        if (xnn_status s = xnn_create_runtime_v3(subgraph.get(), nullptr, threadpool.get(), 0, &rt); s != xnn_status_success)
            return xnn_failure("xnn_create_runtime_v3", s);
        runtime.reset(rt);
        if (xnn_status s = xnn_reshape_runtime(runtime.get()); s != xnn_status_success) return xnn_failure("xnn_reshape_runtime", s);
        input.assign(k_leads * n_samples, 0.0f);
        features.assign(k_leads * out_width * out_channels, 0.0f);
        const xnn_external_value externals[2] = {{input_id, input.data()}, {output_id, features.data()}};
        if (xnn_status s = xnn_setup_runtime_v2(runtime.get(), 2, externals); s != xnn_status_success)
            return xnn_failure("xnn_setup_runtime_v2", s);
        return status();
    }

    result<k_prediction> predict(const network_input &in) {
        if (in.values_mv.size() != k_leads * cfg.samples)
            return status::error(status_code::invalid_argument, "predict: the input has %zu values; 12 x %zu expected",
                                 in.values_mv.size(), cfg.samples);
        for (size_t i = 0; i < in.values_mv.size(); i++)
            input[i] = std::isfinite(in.values_mv[i]) ? in.values_mv[i] : 0.0f;
        if (xnn_status s = xnn_invoke_runtime(runtime.get()); s != xnn_status_success) return xnn_failure("xnn_invoke_runtime", s);

        const size_t C = out_channels, W = out_width, H = cfg.attention_hidden;
        // final BN + ReLU in place, and the mean over time per lead
        pooled.assign(k_leads * C, 0.0f);
        for (size_t l = 0; l < k_leads; l++)
            for (size_t t = 0; t < W; t++) {
                float *row = &features[(l * W + t) * C];
                float *acc = &pooled[l * C];
                for (size_t c = 0; c < C; c++) {
                    row[c] = std::max(0.0f, row[c] * bn_scale[c] + bn_shift[c]);
                    acc[c] += row[c];
                }
            }
        for (float &v : pooled) v /= static_cast<float>(W);

        const auto dot = [&](const float *w, const float *f) {
            double s = 0.0;
            for (size_t c = 0; c < C; c++) s += static_cast<double>(w[c]) * f[c];
            return s;
        };
        k_prediction p;
        double scores[k_leads], max_score = -1e300;
        for (size_t l = 0; l < k_leads; l++) {
            const float *f = &pooled[l * C];
            p.lead_k[l] = static_cast<float>(dot(&reg_w->values[l * C], f) + reg_b->values[l]);
            double e = att3_b->values[l];
            for (size_t j = 0; j < H; j++) {
                const double hidden = std::max(0.0, dot(&att0_w->values[(l * H + j) * C], f) + att0_b->values[l * H + j]);
                e += static_cast<double>(att3_w->values[l * H + j]) * hidden;
            }
            scores[l] = e;
            max_score = std::max(max_score, e);
        }
        double alpha[k_leads], total = 0.0;
        for (size_t l = 0; l < k_leads; l++) total += alpha[l] = std::exp(scores[l] - max_score);
        double k = 0.0;
        for (size_t l = 0; l < k_leads; l++) {
            alpha[l] /= total;
            p.lead_attention[l] = static_cast<float>(alpha[l]);
            k += alpha[l] * p.lead_k[l];
        }
        p.k_meq_l = k;
        p.k_display = k_display(k);
        p.group = k_group_of(k);
        if (cfg.has_groups) {
            double logits[k_group_count] = {}, max_logit = -1e300, sum = 0.0;
            for (size_t l = 0; l < k_leads; l++)
                for (int g = 0; g < k_group_count; g++) {
                    const size_t row = l * k_group_count + static_cast<size_t>(g);
                    logits[g] += alpha[l] * (dot(&groups_w->values[row * C], &pooled[l * C]) + groups_b->values[row]);
                }
            for (double v : logits) max_logit = std::max(max_logit, v);
            for (int g = 0; g < k_group_count; g++) sum += p.group_probs[g] = std::exp(logits[g] - max_logit);
            for (double &v : p.group_probs) v /= sum;
            p.has_group_probs = true;
        }
        // class-activation maps: M_l(t) = sum_c w_lc F_lc(t), linear interpolation (align_corners false) to the
        // input length, then each lead scaled to [0, 1]
        const size_t n = cfg.samples;
        p.cam.assign(k_leads * n, 0.0f);
        std::vector<double> &m = cam_row, &up = cam_up;
        m.resize(W);
        up.resize(n);
        for (size_t l = 0; l < k_leads; l++) {
            for (size_t t = 0; t < W; t++) m[t] = dot(&reg_w->values[l * C], &features[(l * W + t) * C]);
            float *out = &p.cam[l * n];
            const double scale = static_cast<double>(W) / static_cast<double>(n);
            double lo = 1e300, hi = -1e300;
            for (size_t i = 0; i < n; i++) {
                const double src = std::max(0.0, (static_cast<double>(i) + 0.5) * scale - 0.5);
                const size_t i0 = std::min(static_cast<size_t>(src), W - 1), i1 = std::min(i0 + 1, W - 1);
                const double frac = src - static_cast<double>(i0);
                up[i] = m[i0] + (m[i1] - m[i0]) * frac;
                lo = std::min(lo, up[i]);
                hi = std::max(hi, up[i]);
            }
            const double range = std::max(hi - lo, 1e-12);
            for (size_t i = 0; i < n; i++) out[i] = static_cast<float>((up[i] - lo) / range);
        }
        std::copy(std::begin(in.window_start), std::end(in.window_start), std::begin(p.window_start));
        p.model_name = name;
        p.model_sha256 = sha256;
        p.warnings = in.warnings;
        if (k < 1.5 || k > 7.5)
            p.warnings.push_back("the K+ estimate lies outside 1.5-7.5 mEq/L, the range the model was built for");
        return p;
    }
};

k_model::k_model(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
k_model::~k_model() = default;
const std::string &k_model::name() const { return impl_->name; }
const std::string &k_model::sha256() const { return impl_->sha256; }
result<k_prediction> k_model::predict(const network_input &input) { return impl_->predict(input); }

result<std::unique_ptr<k_model>> k_model::load(const uint8_t *data, size_t size, const model_options &options) {
    if (data == nullptr || size == 0) return status::error(status_code::invalid_argument, "model file: empty");
    auto p = std::make_unique<impl>();
    p->sha256 = sha256_hex(data, size);
    if (!options.expected_sha256.empty() && options.expected_sha256 != p->sha256)
        return status::error(status_code::bad_format,
                             "model file: sha256 %s does not match the manifest's %s: the file was changed or damaged",
                             p->sha256.c_str(), options.expected_sha256.c_str());
    result<model_file> file = model_file_parse(data, size, "model file");
    if (!file) return file.error();
    p->file = std::move(file.value());
    result<net_config> cfg = read_config(p->file.header);
    if (!cfg) return cfg.error();
    p->cfg = cfg.value();
    p->name = p->file.header.value("name", "unnamed");
    p->int8 = options.arithmetic == model_options::precision::int8;
#if !defined(__EMSCRIPTEN__) || defined(__EMSCRIPTEN_PTHREADS__)
    if (options.threads > 1) p->threadpool.reset(pthreadpool_create(static_cast<size_t>(options.threads)));
#endif
    if (status s = p->build(); !s) return s;
    // the trunk's tensors now live in XNNPACK's packed buffers; keep only what predict() reads
    for (auto it = p->file.tensors.begin(); it != p->file.tensors.end();)
        it = it->first.rfind("trunks.", 0) == 0 ? p->file.tensors.erase(it) : std::next(it);
    p->static_data.clear();
    p->static_int8.clear();
    return std::unique_ptr<k_model>(new k_model(std::move(p)));
}

}  // namespace kalium
