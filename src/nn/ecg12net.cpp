// nn/ecg12net.cpp: ECG12Net on XNNPACK (see model/FORMAT.md for the tensors and model/model.py for the
// reference). The 12 leads are the batch of one shared trunk (trunk.h: XNNPACK operators with Winograd k3
// convolutions for f32, an XNNPACK subgraph for int8). What follows the trunk is a few thousand multiply-adds
// and runs in plain C++: the final BN + ReLU, the mean over time, the per-lead heads, the attention over
// leads and the class-activation maps.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "kalium.h"
#include "nn/model-file.h"
#include "nn/trunk.h"

namespace kalium {

const char *const k_group_names[k_group_count] = {"<=2.5", "2.5-3.5", "3.5-5.5", "5.5-6.5", ">=6.5"};
const char *const k_group_labels[k_group_count] = {"severe hypokalemia", "hypokalemia", "normokalemia",
                                                   "hyperkalemia", "severe hyperkalemia"};

namespace {

constexpr double k_group_edges_meq_l[k_group_count - 1] = {2.5, 3.5, 5.5, 6.5};

double logistic_cdf(double z) { return 0.5 * (1.0 + std::tanh(0.5 * z)); }

// The logistic's CDF at the group edges (cdf[0] = 0, cdf[5] = 1) and each group's mass, times the prior ratio
// w_g when `weights` is given; returns the total mass.
double group_masses(double mu, double scale, const double *weights, double cdf[k_group_count + 1],
                    double mass[k_group_count]) {
    double total = 0.0;
    cdf[0] = 0.0;
    for (int g = 0; g < k_group_count; g++) {
        cdf[g + 1] = g + 1 < k_group_count ? logistic_cdf((k_group_edges_meq_l[g] - mu) / scale) : 1.0;
        total += mass[g] = (cdf[g + 1] - cdf[g]) * (weights ? weights[g] : 1.0);
    }
    return total;
}

}  // namespace

// model/kdist.py is the reference for both (tests/nn compares them through the golden vectors).
void k_distribution::group_probs(double mu, bool population_prior_on, double out[k_group_count]) const {
    double w[k_group_count], cdf[k_group_count + 1];
    for (int g = 0; g < k_group_count; g++) w[g] = population_prior[g] / training_prior[g];
    const double total = group_masses(mu, scale_meq_l, population_prior_on ? w : nullptr, cdf, out);
    for (int g = 0; g < k_group_count; g++) out[g] /= total;
}

double k_distribution::quantile(double mu, double q) const {
    // within group g the shifted CDF is (mass below g + w_g (F((k - mu)/s) - F((e_{g-1} - mu)/s))) / Z
    double w[k_group_count], cdf[k_group_count + 1], mass[k_group_count];
    for (int g = 0; g < k_group_count; g++) w[g] = population_prior[g] / training_prior[g];
    const double total = group_masses(mu, scale_meq_l, w, cdf, mass);
    const double target = q * total;
    double below = 0.0;
    int g = 0;
    while (g < k_group_count - 1 && below + mass[g] < target) below += mass[g++];
    const double f = std::clamp(cdf[g] + (target - below) / w[g], 1e-12, 1.0 - 1e-12);
    return mu + scale_meq_l * std::log(f / (1.0 - f));
}

namespace {

constexpr size_t k_leads = k_standard_lead_count;

// The optional "k_distribution" of the header (model/FORMAT.md); a model without it reports its raw estimate.
result<std::optional<k_distribution>> read_distribution(const nlohmann::json &header) {
    const auto it = header.find("k_distribution");
    if (it == header.end()) return std::optional<k_distribution>();
    const auto fail = [](const char *what) {
        return status::error(status_code::bad_format, "model file: k_distribution: %s", what);
    };
    const nlohmann::json &d = *it;
    if (!d.is_object() || d.value("kind", "") != "logistic") return fail("kind must be \"logistic\"");
    k_distribution out;
    const auto scale = d.find("scale_meq_l");
    if (scale == d.end() || !scale->is_number() || !(scale->get<double>() > 0.01 && scale->get<double>() < 100.0))
        return fail("scale_meq_l must be a number in (0.01, 100)");
    out.scale_meq_l = scale->get<double>();
    const auto prior = [&](const char *key, double *values) {
        const auto p = d.find(key);
        if (p == d.end() || !p->is_array() || p->size() != k_group_count) return false;
        for (int g = 0; g < k_group_count; g++) {
            if (!(*p)[g].is_number() || !((*p)[g].get<double>() > 0.0)) return false;
            values[g] = (*p)[g].get<double>();
        }
        return true;
    };
    if (!prior("training_prior", out.training_prior)) return fail("training_prior must be 5 positive numbers");
    if (!prior("population_prior", out.population_prior)) return fail("population_prior must be 5 positive numbers");
    const auto q = d.find("range_quantiles");
    if (q == d.end() || !q->is_array() || q->size() != 2 || !(*q)[0].is_number() || !(*q)[1].is_number() ||
        !((*q)[0].get<double>() > 0.0 && (*q)[0].get<double>() < (*q)[1].get<double>() && (*q)[1].get<double>() < 1.0))
        return fail("range_quantiles must be two increasing numbers in (0, 1)");
    out.range_quantiles[0] = (*q)[0].get<double>();
    out.range_quantiles[1] = (*q)[1].get<double>();
    out.population = d.value("population", "");
    const auto flags = d.find("flag_location_meq_l");
    if (flags != d.end()) {
        if (!flags->is_array() || flags->size() != 2 || !(*flags)[0].is_number() || !(*flags)[1].is_number() ||
            !((*flags)[0].get<double>() < (*flags)[1].get<double>()))
            return fail("flag_location_meq_l must be two increasing numbers");
        out.has_flags = true;
        out.flag_location_meq_l[0] = (*flags)[0].get<double>();
        out.flag_location_meq_l[1] = (*flags)[1].get<double>();
    }
    return std::optional<k_distribution>(out);
}

struct threadpool_deleter {
    void operator()(pthreadpool_t p) const { pthreadpool_destroy(p); }
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

}  // namespace

struct k_model::impl {
    std::string name, sha256;
    net_config cfg;
    std::optional<k_distribution> distribution;     // the header's "k_distribution", if any
    model_file file;
    bool int8 = false, winograd = true, profile = false;  // model_options
    std::unique_ptr<pthreadpool, threadpool_deleter> threadpool;
    std::unique_ptr<trunk> net;                     // input 12 x 1250; features 12 x width x channels (NWC)
    // after the trunk (plain C++)
    std::vector<float> bn_scale, bn_shift;
    const model_tensor *reg_w = nullptr, *reg_b = nullptr, *att0_w = nullptr, *att0_b = nullptr, *att3_w = nullptr,
                       *att3_b = nullptr, *groups_w = nullptr, *groups_b = nullptr;
    std::vector<float> pooled;                      // 12 x C, the mean over time per lead
    std::vector<double> cam_row, cam_up;            // one lead's map at feature and at input resolution

    status need(const std::string &tensor_name, const std::vector<size_t> &shape, const model_tensor **out) const {
        return model_file_need(file, tensor_name, shape, out);
    }

    status build() {
        if (status s = xnnpack_init(); !s) return s;
        trunk_weights weights(file);
#if defined(KALIUM_NN_F32_ONLY)
        if (int8 || !winograd)
            return status::error(status_code::unsupported,
                                 "this build of the engine (the app's) runs only the f32 Winograd trunk; int8 and f32-direct "
                                 "are in the command line");
        result<std::unique_ptr<trunk>> built = build_trunk_operators(cfg, weights, trunk_options{false, profile, threadpool.get()});
#else
        result<std::unique_ptr<trunk>> built = int8 || !winograd
                                                   ? build_trunk_subgraph(cfg, weights, trunk_options{int8, false, threadpool.get()})
                                                   : build_trunk_operators(cfg, weights, trunk_options{false, profile, threadpool.get()});
#endif
        if (!built) return built.error();
        net = std::move(built.value());
        const size_t channels = net->channels();
        size_t layer = 1;
        for (size_t units : cfg.dense_units) layer += units + 1;
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

        return status();
    }

    result<k_prediction> predict(const network_input &in) {
        if (in.values_mv.size() != k_leads * cfg.samples)
            return status::error(status_code::invalid_argument, "predict: the input has %zu values; 12 x %zu expected",
                                 in.values_mv.size(), cfg.samples);
        float *input = net->input();
        for (size_t i = 0; i < in.values_mv.size(); i++)
            input[i] = std::isfinite(in.values_mv[i]) ? in.values_mv[i] : 0.0f;
        if (status s = net->run(); !s) return s;

        float *features = net->features();
        const size_t C = net->channels(), W = net->width(), H = cfg.attention_hidden;
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
        if (distribution) {
            const k_distribution &d = *distribution;
            p.has_k_range = p.has_group_probs = true;
            p.k_location_meq_l = k;
            p.k_meq_l = d.quantile(k, 0.5);
            p.k_low_meq_l = d.quantile(k, d.range_quantiles[0]);
            p.k_high_meq_l = d.quantile(k, d.range_quantiles[1]);
            p.k_range_level = d.range_quantiles[1] - d.range_quantiles[0];
            d.group_probs(k, true, p.group_probs);
            d.group_probs(k, false, p.group_probs_balanced);
            p.population = d.population;
            if (d.has_flags) p.flag = k <= d.flag_location_meq_l[0] ? -1 : k >= d.flag_location_meq_l[1] ? 1 : 0;
            for (size_t l = 0; l < k_leads; l++) p.lead_k[l] = static_cast<float>(d.quantile(p.lead_k[l], 0.5));
        }
        p.k_display = k_display(p.k_meq_l);
        p.group = k_group_of(p.k_meq_l);
        if (cfg.has_groups && !distribution) {
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
        p.reliability_reasons = in.reliability_reasons;  // the preparation's quality findings mark the estimate
        if (p.k_meq_l < 1.5 || p.k_meq_l > 7.5)
            p.warnings.push_back("the K+ estimate lies outside 1.5-7.5 mEq/L, the range the model was built for");
        return p;
    }
};

k_model::k_model(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
k_model::~k_model() = default;
const std::string &k_model::name() const { return impl_->name; }
const std::string &k_model::sha256() const { return impl_->sha256; }
result<k_prediction> k_model::predict(const network_input &input) { return impl_->predict(input); }
std::vector<model_step_time> k_model::profile() const {
    std::vector<model_step_time> out;
    if (!impl_->profile) return out;
    for (const trunk_step_time &t : impl_->net->profile()) out.push_back({t.kind, t.ms, t.count, t.macs});
    return out;
}

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
    result<std::optional<k_distribution>> distribution = read_distribution(p->file.header);
    if (!distribution) return distribution.error();
    p->distribution = distribution.value();
    p->name = p->file.header.value("name", "unnamed");
    p->int8 = options.arithmetic == model_options::precision::int8;
    p->winograd = options.winograd;
    p->profile = options.profile;
#if !defined(__EMSCRIPTEN__) || defined(__EMSCRIPTEN_PTHREADS__)
    if (options.threads > 1) p->threadpool.reset(pthreadpool_create(static_cast<size_t>(options.threads)));
#endif
    if (status s = p->build(); !s) return s;
    // the trunk's tensors now live in XNNPACK's packed buffers; keep only what predict() reads
    for (auto it = p->file.tensors.begin(); it != p->file.tensors.end();)
        it = it->first.rfind("trunks.", 0) == 0 ? p->file.tensors.erase(it) : std::next(it);
    return std::unique_ptr<k_model>(new k_model(std::move(p)));
}

}  // namespace kalium
