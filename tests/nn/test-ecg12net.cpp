// ECG12Net on XNNPACK against PyTorch: the shipped weights (model/<name>.kmodel) on the golden vectors that
// model/export.py wrote from the same stored weights. Tolerances of issue 5: K+, lead estimates, attention and
// group probabilities within 1e-4, class-activation maps within 1e-3. Also: every check of the loader.
#include "test-util.h"

#include "nn/model-file.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

namespace {

const std::string k_model_path = std::string(KALIUM_MODEL_DIR) + "/" KALIUM_MODEL_NAME ".kmodel";
const std::string k_golden_path = std::string(KALIUM_MODEL_DIR) + "/golden/" KALIUM_MODEL_NAME ".golden";

std::string shipped_sha256() {
    const std::vector<uint8_t> manifest = read_bytes(k_model_path + ".sha256");
    return kalium::sha256_from_manifest(std::string(manifest.begin(), manifest.end()));
}

std::unique_ptr<kalium::k_model> load_shipped(int threads = 1, bool int8 = false, bool winograd = true) {
    const std::vector<uint8_t> bytes = read_bytes(k_model_path);
    kalium::model_options options;
    options.expected_sha256 = shipped_sha256();
    options.threads = threads;
    if (int8) options.arithmetic = kalium::model_options::precision::int8;
    options.winograd = winograd;
    auto model = kalium::k_model::load(bytes.data(), bytes.size(), options);
    INFO(model.error().to_string());
    REQUIRE(model.ok());
    return std::move(model.value());
}

// The golden vectors (model/export.py): input, k, group_probs, lead_k, lead_attention, cam.
struct golden_set {
    kalium::model_file file;
    size_t count = 0;
    const std::vector<float> &values(const char *name) const { return file.tensors.at(name).values; }
    kalium::network_input input(size_t i) const {
        kalium::network_input in;
        const auto &all = values("input");
        in.values_mv.assign(all.begin() + static_cast<long>(i * 12 * 1250), all.begin() + static_cast<long>((i + 1) * 12 * 1250));
        return in;
    }
};

golden_set load_golden() {
    const std::vector<uint8_t> bytes = read_bytes(k_golden_path);
    auto golden = kalium::model_file_parse(bytes.data(), bytes.size(), "golden file");
    REQUIRE(golden.ok());
    golden_set g{std::move(golden.value()), 0};
    g.count = g.file.tensors.at("input").shape.at(0);
    return g;
}

}  // namespace

TEST_CASE("ECG12Net on XNNPACK matches PyTorch on the golden inputs", "[nn][parity]") {
    const golden_set golden = load_golden();
    const auto &t = golden.file.tensors;
    const size_t n = golden.count;
    REQUIRE(n >= 5);
    auto model = load_shipped();
    CHECK(model->sha256() == golden.file.header.value("model_sha256", ""));
    double worst_k = 0, worst_p = 0, worst_lead = 0, worst_att = 0, worst_cam = 0;
    for (size_t i = 0; i < n; i++) {
        const kalium::network_input in = golden.input(i);
        auto p = model->predict(in);
        REQUIRE(p.ok());
        worst_k = std::max(worst_k, std::abs(p->k_meq_l - t.at("k").values[i]));
        REQUIRE(p->has_group_probs);
        double sum_p = 0, sum_att = 0;
        for (int g = 0; g < 5; g++) {
            worst_p = std::max(worst_p, std::abs(p->group_probs[g] - t.at("group_probs").values[i * 5 + g]));
            sum_p += p->group_probs[g];
        }
        for (int l = 0; l < 12; l++) {
            worst_lead = std::max(worst_lead, double(std::abs(p->lead_k[l] - t.at("lead_k").values[i * 12 + l])));
            worst_att = std::max(worst_att, double(std::abs(p->lead_attention[l] - t.at("lead_attention").values[i * 12 + l])));
            sum_att += p->lead_attention[l];
        }
        for (size_t j = 0; j < 12 * 1250; j++)
            worst_cam = std::max(worst_cam, double(std::abs(p->cam[j] - t.at("cam").values[i * 12 * 1250 + j])));
        if (t.count("k_low")) {  // a model with a K+ distribution (model/ship.py): the derived outputs too
            REQUIRE(p->has_k_range);
            worst_k = std::max({worst_k, std::abs(p->k_low_meq_l - t.at("k_low").values[i]),
                                std::abs(p->k_high_meq_l - t.at("k_high").values[i]),
                                std::abs(p->k_location_meq_l - t.at("k_location").values[i])});
            for (int g = 0; g < 5; g++)
                worst_p = std::max(worst_p, std::abs(p->group_probs_balanced[g] - t.at("group_probs_balanced").values[i * 5 + g]));
            CHECK(p->k_low_meq_l <= p->k_meq_l);
            CHECK(p->k_meq_l <= p->k_high_meq_l);
            CHECK(p->k_range_level == Approx(0.8));
            CHECK(p->flag == static_cast<int>(t.at("flag").values[i]));
        }
        CHECK(sum_p == Approx(1.0).margin(1e-9));
        CHECK(sum_att == Approx(1.0).margin(1e-6));
        CHECK(p->group == kalium::k_group_of(p->k_meq_l));
        CHECK(p->model_name == KALIUM_MODEL_NAME);
    }
    INFO("worst |dK| " << worst_k << ", |dp| " << worst_p << ", |d lead K| " << worst_lead << ", |d attention| "
                       << worst_att << ", |d CAM| " << worst_cam);
    CHECK(worst_k < 1e-4);
    CHECK(worst_p < 1e-4);
    CHECK(worst_lead < 1e-4);
    CHECK(worst_att < 1e-4);
    CHECK(worst_cam < 1e-3);
}

TEST_CASE("a prediction is reproducible bit for bit, and threads do not change it", "[nn]") {
    auto one = load_shipped(1), two = load_shipped(2);
    kalium::network_input in;
    in.values_mv.resize(12 * 1250);
    for (size_t i = 0; i < in.values_mv.size(); i++) in.values_mv[i] = 0.8f * std::sin(0.01f * float(i)) * std::cos(0.37f * float(i % 1250));
    auto a = one->predict(in), b = one->predict(in), c = two->predict(in);
    REQUIRE((a.ok() && b.ok() && c.ok()));
    CHECK(a->k_meq_l == b->k_meq_l);
    CHECK(std::memcmp(a->cam.data(), b->cam.data(), a->cam.size() * sizeof(float)) == 0);
    CHECK(c->k_meq_l == Approx(a->k_meq_l).margin(1e-4));
}

// The default f32 trunk (Winograd k3 convolutions on XNNPACK operators, no concatenation copies) against the
// direct convolutions of the XNNPACK subgraph: the same network, only the rounding of the k3 layers differs.
TEST_CASE("the Winograd trunk matches the direct convolutions", "[nn][winograd]") {
    const golden_set golden = load_golden();
    const size_t n = golden.count;
    auto fast = load_shipped(1, false, true), direct = load_shipped(1, false, false);
    double worst_k = 0, worst_lead = 0, worst_cam = 0;
    bool any_different = false;
    for (size_t i = 0; i < n; i++) {
        const kalium::network_input in = golden.input(i);
        auto a = fast->predict(in), b = direct->predict(in);
        REQUIRE((a.ok() && b.ok()));
        worst_k = std::max(worst_k, std::abs(a->k_meq_l - b->k_meq_l));
        any_different = any_different || a->k_meq_l != b->k_meq_l;
        for (int l = 0; l < 12; l++) worst_lead = std::max(worst_lead, double(std::abs(a->lead_k[l] - b->lead_k[l])));
        for (size_t j = 0; j < a->cam.size(); j++) worst_cam = std::max(worst_cam, double(std::abs(a->cam[j] - b->cam[j])));
    }
    INFO("Winograd vs direct: worst |dK| " << worst_k << ", |d lead K| " << worst_lead << ", |d CAM| " << worst_cam);
    CHECK(worst_k < 1e-5);
    CHECK(worst_lead < 1e-5);
    CHECK(worst_cam < 1e-4);
    CHECK(any_different);  // two arithmetics really ran
}

// model_options::profile (the benchmarks' --steps): every step of the Winograd trunk is timed and counted once per
// kind, with the multiply-adds the network really does.
TEST_CASE("the Winograd trunk's step profile counts every layer", "[nn][winograd]") {
    const std::vector<uint8_t> bytes = read_bytes(k_model_path);
    kalium::model_options options;
    options.profile = true;
    auto model = kalium::k_model::load(bytes.data(), bytes.size(), options);
    REQUIRE(model.ok());
    CHECK(model.value()->profile().size() == 8);
    const golden_set golden = load_golden();
    for (int r = 0; r < 2; r++) REQUIRE(model.value()->predict(golden.input(0)).ok());
    std::map<std::string, kalium::model_step_time> kinds;
    double macs = 0;
    for (const auto &t : model.value()->profile()) {
        kinds[t.kind] = t;
        macs += t.macs;
        CHECK(t.ms > 0);
    }
    CHECK(kinds.at("Winograd products k3 s1 (GEMM)").count == 21);
    CHECK(kinds.at("Winograd input transform").count == 21);
    CHECK(kinds.at("conv k3 s2 (IGEMM)").count == 5);
    CHECK(kinds.at("conv 1x1 C->128 (GEMM)").count == 26);
    CHECK(kinds.at("conv 1x1 128->32 (GEMM)").count == 26);
    CHECK(kinds.at("average pool 2/2").count == 5);
    // 2.966 G multiply-adds direct; Winograd does the 21 k3 stride-1 layers with half of theirs
    CHECK(macs == Approx(2.329e9).epsilon(0.002));
    auto plain = kalium::k_model::load(bytes.data(), bytes.size(), {});  // without profile: none
    REQUIRE(plain.ok());
    REQUIRE(plain.value()->predict(golden.input(0)).ok());
    CHECK(plain.value()->profile().empty());
}

// The int8 trunk is not PyTorch's arithmetic: it is held to the bound of issue 5 (|delta K+| <= 0.05 mEq/L),
// which scripts/bench-precision.mjs measures on the 100 validation ECGs; here on the golden inputs, plus the
// invariants every prediction keeps, and a check that it really is a different arithmetic.
TEST_CASE("the int8 trunk stays within 0.05 mEq/L of PyTorch on the golden inputs", "[nn][int8]") {
    const golden_set golden = load_golden();
    const auto &t = golden.file.tensors;
    const size_t n = golden.count;
    auto model = load_shipped(1, true);
    double worst_k = 0, worst_att = 0;
    bool any_different = false;
    for (size_t i = 0; i < n; i++) {
        const kalium::network_input in = golden.input(i);
        auto p = model->predict(in);
        REQUIRE(p.ok());
        const double dk = std::abs(p->k_meq_l - t.at("k").values[i]);
        worst_k = std::max(worst_k, dk);
        any_different = any_different || dk > 1e-6;
        double sum_att = 0;
        for (int l = 0; l < 12; l++) {
            worst_att = std::max(worst_att, double(std::abs(p->lead_attention[l] - t.at("lead_attention").values[i * 12 + l])));
            sum_att += p->lead_attention[l];
        }
        CHECK(sum_att == Approx(1.0).margin(1e-6));
        CHECK(p->group == kalium::k_group_of(p->k_meq_l));
    }
    INFO("int8: worst |dK| " << worst_k << ", |d attention| " << worst_att);
    CHECK(worst_k <= 0.05);
    CHECK(worst_att <= 0.02);
    CHECK(any_different);
}

TEST_CASE("the loader refuses damaged and foreign files with the reason", "[nn][model-file]") {
    std::vector<uint8_t> bytes = read_bytes(k_model_path);
    const std::string sha = shipped_sha256();
    kalium::model_options checked;
    checked.expected_sha256 = sha;
    SECTION("a tampered byte fails the sha256 check") {
        bytes[bytes.size() / 2] ^= 0x01;
        auto m = kalium::k_model::load(bytes.data(), bytes.size(), checked);
        REQUIRE_FALSE(m.ok());
        CHECK_THAT(m.error().message(), Catch::Contains("sha256") && Catch::Contains("does not match"));
    }
    SECTION("no magic") {
        bytes[0] = 'X';
        auto m = kalium::k_model::load(bytes.data(), bytes.size());
        REQUIRE_FALSE(m.ok());
        CHECK_THAT(m.error().message(), Catch::Contains("KALIUMNN"));
    }
    SECTION("another format version") {
        bytes[8] = 9;
        auto m = kalium::k_model::load(bytes.data(), bytes.size());
        REQUIRE_FALSE(m.ok());
        CHECK_THAT(m.error().message(), Catch::Contains("version 9"));
    }
    SECTION("truncated inside the tensors") {
        auto m = kalium::k_model::load(bytes.data(), bytes.size() - 1000);
        REQUIRE_FALSE(m.ok());
        CHECK_THAT(m.error().message(), Catch::Contains("outside the file"));
    }
    SECTION("truncated inside the header") {
        auto m = kalium::k_model::load(bytes.data(), 200);
        REQUIRE_FALSE(m.ok());
        CHECK_THAT(m.error().message(), Catch::Contains("header"));
    }
    SECTION("empty") {
        auto m = kalium::k_model::load(nullptr, 0);
        REQUIRE_FALSE(m.ok());
    }
}

namespace {
// A container with the given JSON header text and no tensor data.
std::vector<uint8_t> container(const std::string &header) {
    std::vector<uint8_t> out(kalium::k_model_magic, kalium::k_model_magic + 8);
    const uint32_t version = 1, len = static_cast<uint32_t>(header.size());
    for (int i = 0; i < 4; i++) out.push_back(static_cast<uint8_t>(version >> (8 * i)));
    for (int i = 0; i < 4; i++) out.push_back(static_cast<uint8_t>(len >> (8 * i)));
    out.insert(out.end(), header.begin(), header.end());
    while (out.size() % 64) out.push_back(0);
    return out;
}
}  // namespace

TEST_CASE("the loader checks the config and every tensor it needs", "[nn][model-file]") {
    const std::string config = R"("model_config": {"n_leads": 12, "input_samples": 1250, "stem_channels": 32,
        "growth": 32, "bottleneck": 128, "dense_units": [3, 3, 6, 6, 3], "shared_trunk": true,
        "head": "regression+groups", "attention_hidden": 8, "emp_features": 0})";
    SECTION("a missing tensor is named") {
        auto bytes = container(R"({"format": "kalium-ecg12net", "batchnorm_folded": true, )" + config + R"(, "tensors": []})");
        auto m = kalium::k_model::load(bytes.data(), bytes.size());
        REQUIRE_FALSE(m.ok());
        CHECK_THAT(m.error().message(), Catch::Contains("trunks.0.layers.0.0.weight is missing"));
    }
    SECTION("a wrong shape is named with both shapes") {
        auto bytes = container(R"({"format": "kalium-ecg12net", "batchnorm_folded": true, )" + config +
                               R"(, "tensors": [{"name": "trunks.0.layers.0.0.weight", "shape": [32, 1, 5], "dtype": "f32", "offset": 0, "nbytes": 640}]})");
        bytes.resize(bytes.size() + 640, 0);
        auto m = kalium::k_model::load(bytes.data(), bytes.size());
        REQUIRE_FALSE(m.ok());
        CHECK_THAT(m.error().message(), Catch::Contains("32x1x5") && Catch::Contains("32x1x7"));
    }
    SECTION("separate trunks per lead are refused") {
        std::string other = config;
        other.replace(other.find("\"shared_trunk\": true"), 20, "\"shared_trunk\": false");
        auto bytes = container(R"({"format": "kalium-ecg12net", "batchnorm_folded": true, )" + other + R"(, "tensors": []})");
        auto m = kalium::k_model::load(bytes.data(), bytes.size());
        REQUIRE_FALSE(m.ok());
        CHECK_THAT(m.error().message(), Catch::Contains("shared"));
    }
    SECTION("a K+ distribution that cannot be used is named") {
        const std::string base = R"({"format": "kalium-ecg12net", "batchnorm_folded": true, )" + config + ", ";
        const std::pair<const char *, const char *> bad[] = {
            {R"({"kind": "normal"})", "kind"},
            {R"({"kind": "logistic", "scale_meq_l": -1})", "scale_meq_l"},
            {R"({"kind": "logistic", "scale_meq_l": 0.9, "training_prior": [0.2, 0.2], "population_prior": [1, 1, 1, 1, 1]})", "training_prior"},
            {R"({"kind": "logistic", "scale_meq_l": 0.9, "training_prior": [1, 1, 1, 1, 1], "population_prior": [1, 1, 0, 1, 1]})", "population_prior"},
            {R"({"kind": "logistic", "scale_meq_l": 0.9, "training_prior": [1, 1, 1, 1, 1], "population_prior": [1, 1, 1, 1, 1], "range_quantiles": [0.9, 0.1]})", "range_quantiles"}};
        for (const auto &[text, named] : bad) {
            auto bytes = container(base + R"("k_distribution": )" + text + R"(, "tensors": []})");
            auto m = kalium::k_model::load(bytes.data(), bytes.size());
            REQUIRE_FALSE(m.ok());
            CHECK_THAT(m.error().message(), Catch::Contains("k_distribution") && Catch::Contains(named));
        }
    }
    SECTION("nbytes that disagree with the shape") {
        auto bytes = container(R"({"tensors": [{"name": "a", "shape": [4], "dtype": "f16", "offset": 0, "nbytes": 16}]})");
        bytes.resize(bytes.size() + 16, 0);
        auto f = kalium::model_file_parse(bytes.data(), bytes.size(), "model file");
        REQUIRE_FALSE(f.ok());
        CHECK_THAT(f.error().message(), Catch::Contains("tensor a: nbytes 16"));
    }
    SECTION("header JSON that is not JSON") {
        auto bytes = container("{not json");
        auto f = kalium::model_file_parse(bytes.data(), bytes.size(), "model file");
        REQUIRE_FALSE(f.ok());
        CHECK_THAT(f.error().message(), Catch::Contains("not a JSON object"));
    }
}

// The shifted logistic of model/kdist.py: its CDF at k, summed group by group (the definition, not the
// closed-form inverse that k_distribution::quantile uses).
namespace {
double shifted_cdf(const kalium::k_distribution &d, double mu, double k) {
    const double edges[6] = {-1e300, 2.5, 3.5, 5.5, 6.5, 1e300};
    const auto F = [&](double x) { return 1.0 / (1.0 + std::exp(-(x - mu) / d.scale_meq_l)); };
    double below = 0, total = 0;
    for (int g = 0; g < 5; g++) {
        const double w = d.population_prior[g] / d.training_prior[g];
        const double lo = edges[g] < -1e299 ? 0.0 : F(edges[g]), hi = edges[g + 1] > 1e299 ? 1.0 : F(edges[g + 1]);
        total += w * (hi - lo);
        if (k > edges[g]) below += w * ((k >= edges[g + 1] ? hi : F(k)) - lo);
    }
    return below / total;
}
}  // namespace

TEST_CASE("the K+ distribution: quantiles invert its CDF, the prior shift moves mass as Bayes' rule says", "[nn]") {
    kalium::k_distribution d;
    d.scale_meq_l = 0.8;
    const double ed[5] = {0.010, 0.217, 0.746, 0.021, 0.006};
    for (double mu : {1.0, 2.2, 3.0, 4.4, 5.9, 7.0, 9.0}) {
        double balanced[5], shifted[5];
        d.group_probs(mu, false, balanced);
        // equal priors: the logistic itself (median mu, quantiles mu + s logit(q))
        CHECK(d.quantile(mu, 0.5) == Approx(mu).margin(1e-9));
        CHECK(d.quantile(mu, 0.9) == Approx(mu + 0.8 * std::log(9.0)).margin(1e-9));
        std::copy(ed, ed + 5, d.population_prior);
        d.group_probs(mu, true, shifted);
        double sum_b = 0, sum_s = 0, norm = 0;
        for (int g = 0; g < 5; g++) norm += balanced[g] * ed[g] / 0.2;
        for (int g = 0; g < 5; g++) {
            sum_b += balanced[g];
            sum_s += shifted[g];
            CHECK(shifted[g] == Approx(balanced[g] * ed[g] / 0.2 / norm).margin(1e-12));
        }
        CHECK(sum_b == Approx(1.0).margin(1e-12));
        CHECK(sum_s == Approx(1.0).margin(1e-12));
        double last = -1e9;
        for (double q : {0.05, 0.1, 0.5, 0.9, 0.95}) {
            const double k = d.quantile(mu, q);
            CHECK(shifted_cdf(d, mu, k) == Approx(q).margin(1e-9));
            CHECK(k > last);
            last = k;
        }
        // the department's prevalence pulls a high location towards normal
        if (mu > 5.5) CHECK(d.quantile(mu, 0.5) < mu);
        std::fill(d.population_prior, d.population_prior + 5, 0.2);
    }
}

TEST_CASE("half floats widen exactly", "[nn][model-file]") {
    CHECK(kalium::half_to_float(0x3c00) == 1.0f);
    CHECK(kalium::half_to_float(0xc000) == -2.0f);
    CHECK(kalium::half_to_float(0x7bff) == 65504.0f);
    CHECK(kalium::half_to_float(0x0001) == std::ldexp(1.0f, -24));   // smallest subnormal
    CHECK(kalium::half_to_float(0x03ff) == std::ldexp(1023.0f, -24)); // largest subnormal
    CHECK(std::isinf(kalium::half_to_float(0x7c00)));
    CHECK(std::isnan(kalium::half_to_float(0x7e00)));
    CHECK(std::signbit(kalium::half_to_float(0x8000)));
}

TEST_CASE("K+ display and groups follow the paper's edges", "[nn]") {
    CHECK(kalium::k_display(1.49) == "<1.5");
    CHECK(kalium::k_display(7.51) == ">7.5");
    CHECK(kalium::k_display(4.26) == "4.3");
    CHECK(kalium::k_group_of(2.5) == 0);
    CHECK(kalium::k_group_of(2.51) == 1);
    CHECK(kalium::k_group_of(3.5) == 1);
    CHECK(kalium::k_group_of(5.49) == 2);
    CHECK(kalium::k_group_of(5.5) == 3);
    CHECK(kalium::k_group_of(6.5) == 4);
    CHECK(kalium::sha256_hex(reinterpret_cast<const uint8_t *>("abc"), 3) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(kalium::sha256_from_manifest("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD  x.kmodel\n") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(kalium::sha256_from_manifest("nothing here").empty());
}
