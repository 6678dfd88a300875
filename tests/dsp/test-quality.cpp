// dsp/test-quality.cpp: the signal-quality checks on bad signals built here from a clean synthetic ECG (flat
// lead, saturated lead, 50/60 Hz mains, muscle noise, right-arm/left-arm reversal, pacing spikes, too short, a
// missing lead), each warning naming its lead; no warning on clean synthetic and real recordings; and the
// warnings carried by ecg_prepare_input without changing its values.
#include "test-util.h"
#include "dsp-test-util.h"

#include <cmath>
#include <random>

namespace {

constexpr double k_pi = 3.14159265358979323846;

std::vector<kalium::quality_warning> of_kind(const std::vector<kalium::quality_warning> &all, const std::string &kind) {
    std::vector<kalium::quality_warning> out;
    for (const auto &w : all)
        if (w.kind == kind) out.push_back(w);
    return out;
}

std::string listed(const std::vector<kalium::quality_warning> &all) {
    std::string s;
    for (const auto &w : all) s += "[" + w.kind + "] " + w.message + "\n";
    return s;
}

kalium::ecg_lead &lead(kalium::ecg_record &r, kalium::lead_id id) { return *r.find(id); }

}  // namespace

TEST_CASE("quality: a clean synthetic ECG and the real cart recordings raise nothing", "[dsp][quality]") {
    synthetic_beats s;
    const auto clean = kalium::ecg_check_quality(make_synthetic_ecg(s).record);
    INFO(listed(clean));
    CHECK(clean.empty());
    for (const char *name : {"samples/ge-muse-xml/braveheart_example1.xml", "samples/ge-muse-xml/braveheart_example2.xml",
                             "samples/ge-muse-xml/braveheart_example3.xml", "samples/philips-xml/sierra_1_04_ad4d3d80-d165_1-04_orig.xml",
                             "samples/philips-xml/jsierraecg_PhilipsExample02.xml", "samples/dicom/dicom-ecg-plot_anonymous_ecg.dcm",
                             "samples/scp-ecg/ecgtoolkit_Example.scp", "samples/csv/denismot_ECG_12L.csv"}) {
        const auto bytes = read_bytes(shared_ecg(name));
        auto r = kalium::ecg_read(as_named(name, bytes));
        REQUIRE(r.ok());
        const auto w = kalium::ecg_check_quality(r.value());
        INFO(name << "\n" << listed(w));
        // The Philips files last 10.1-10.6 s once the calibration pulse is cut; none is short, flat, noisy...
        CHECK(w.empty());
    }
}

TEST_CASE("quality: a flat lead and a missing lead are named", "[dsp][quality]") {
    kalium::ecg_record r = make_synthetic_ecg(synthetic_beats{}).record;
    std::fill(lead(r, kalium::lead_id::V3).samples_uv.begin(), lead(r, kalium::lead_id::V3).samples_uv.end(), 12.0f);
    auto w = kalium::ecg_check_quality(r);
    INFO(listed(w));
    auto flat = of_kind(w, "flat");
    REQUIRE(flat.size() == 1);
    CHECK(flat[0].lead == "V3");
    CHECK(flat[0].message.rfind("lead V3: flat", 0) == 0);

    // Electrode lost for 4 s in V5 only.
    kalium::ecg_record lost = make_synthetic_ecg(synthetic_beats{}).record;
    for (size_t t = 2000; t < 4000; t++) lead(lost, kalium::lead_id::V5).samples_uv[t] = 0.0f;
    auto part = of_kind(kalium::ecg_check_quality(lost), "flat");
    REQUIRE(part.size() == 1);
    CHECK(part[0].lead == "V5");
    CHECK(part[0].message.find("flat for") != std::string::npos);

    kalium::ecg_record no_v4 = make_synthetic_ecg(synthetic_beats{}).record;
    no_v4.leads.erase(no_v4.leads.begin() + 9);
    auto missing = of_kind(kalium::ecg_check_quality(no_v4), "missing");
    REQUIRE(missing.size() == 1);
    CHECK(missing[0].lead == "V4");
}

TEST_CASE("quality: a saturated (clipped) lead is named", "[dsp][quality]") {
    kalium::ecg_record r = make_synthetic_ecg(synthetic_beats{}).record;
    for (float &v : lead(r, kalium::lead_id::II).samples_uv) v = std::min(v, 600.0f);
    auto w = kalium::ecg_check_quality(r);
    INFO(listed(w));
    auto sat = of_kind(w, "saturated");
    REQUIRE(sat.size() == 1);
    CHECK(sat[0].lead == "II");
    CHECK(sat[0].message.rfind("lead II: saturated", 0) == 0);
}

TEST_CASE("quality: 50 and 60 Hz mains are detected, reported and removed for measuring only", "[dsp][quality]") {
    for (double mains : {50.0, 60.0}) {
        INFO(mains << " Hz");
        synthetic_beats s;
        kalium::ecg_record r = make_synthetic_ecg(s).record;
        for (auto &l : r.leads)
            for (size_t t = 0; t < l.samples_uv.size(); t++) l.samples_uv[t] += static_cast<float>(120.0 * std::sin(2 * k_pi * mains * t / r.fs_hz + l.samples_uv.size() % 7));
        CHECK(kalium::dsp_detect_mains_hz(r) == mains);
        auto w = kalium::ecg_check_quality(r);
        INFO(listed(w));
        auto hum = of_kind(w, "mains");
        REQUIRE(hum.size() == 1);
        CHECK(hum[0].lead.find("V6") != std::string::npos);
        CHECK(hum[0].message.find(mains == 50.0 ? "50 Hz" : "60 Hz") != std::string::npos);
        CHECK(of_kind(w, "noise").empty());  // the hum is not counted again as noise
        auto a = kalium::ecg_measure(r);
        REQUIRE(a.ok());
        CHECK(a->mains_hz == mains);
        REQUIRE(a->values.qrs_ms);
        CHECK(*a->values.qrs_ms == Approx(s.qrs_ms).margin(10));
        REQUIRE(a->values.pr_ms);
        CHECK(*a->values.pr_ms == Approx(s.pr_ms).margin(20));  // the clean twin measures 148 ms (see test-measure)
    }
    CHECK(kalium::dsp_detect_mains_hz(make_synthetic_ecg(synthetic_beats{}).record) == 0.0);
}

TEST_CASE("quality: muscle noise in one lead is named", "[dsp][quality]") {
    kalium::ecg_record r = make_synthetic_ecg(synthetic_beats{}).record;
    std::mt19937 rng(7);
    std::normal_distribution<float> noise(0.0f, 80.0f);
    for (float &v : lead(r, kalium::lead_id::V2).samples_uv) v += noise(rng);
    auto w = kalium::ecg_check_quality(r);
    INFO(listed(w));
    auto noisy = of_kind(w, "noise");
    REQUIRE(noisy.size() == 1);
    CHECK(noisy[0].lead == "V2");
}

TEST_CASE("quality: right-arm/left-arm reversal (lead I inverted) is recognised", "[dsp][quality]") {
    kalium::ecg_record r = make_synthetic_ecg(synthetic_beats{}).record;
    CHECK(of_kind(kalium::ecg_check_quality(r), "reversal").empty());
    // Swapping the arm electrodes: I -> -I, II <-> III, aVR <-> aVL, aVF unchanged.
    for (float &v : lead(r, kalium::lead_id::I).samples_uv) v = -v;
    std::swap(lead(r, kalium::lead_id::II).samples_uv, lead(r, kalium::lead_id::III).samples_uv);
    std::swap(lead(r, kalium::lead_id::aVR).samples_uv, lead(r, kalium::lead_id::aVL).samples_uv);
    auto w = kalium::ecg_check_quality(r);
    INFO(listed(w));
    auto rev = of_kind(w, "reversal");
    REQUIRE(rev.size() == 1);
    CHECK(rev[0].lead.find("aVR") != std::string::npos);
    CHECK(rev[0].message.find("lead I") != std::string::npos);
}

TEST_CASE("quality: pacing spikes are recognised", "[dsp][quality]") {
    const synthetic_ecg ecg = make_synthetic_ecg(synthetic_beats{});
    kalium::ecg_record r = ecg.record;
    // A 1-sample (2 ms) 3 mV spike 40 ms before every QRS onset, in every lead (unipolar pacing).
    for (int64_t onset : ecg.qrs_onsets)
        for (auto &l : r.leads) l.samples_uv[static_cast<size_t>(onset - 20)] += 3000.0f;
    auto w = kalium::ecg_check_quality(r);
    INFO(listed(w));
    auto paced = of_kind(w, "pacing");
    REQUIRE(paced.size() == 1);
    CHECK(paced[0].lead.find("V1") != std::string::npos);
    CHECK(paced[0].message.find("pacing spikes") != std::string::npos);
}

TEST_CASE("quality: a recording too short for the network", "[dsp][quality]") {
    synthetic_beats s;
    s.duration_s = 5.0;
    const kalium::ecg_record r = make_synthetic_ecg(s).record;
    auto w = of_kind(kalium::ecg_check_quality(r), "too_short");
    REQUIRE(w.size() == 1);
    CHECK(w[0].lead == "all");
    CHECK(w[0].message.find("5.0 s") != std::string::npos);
}

TEST_CASE("quality: ecg_prepare_input carries the warnings and its values stay the same", "[dsp][quality]") {
    kalium::ecg_record r = make_synthetic_ecg(synthetic_beats{}).record;
    auto clean = kalium::ecg_prepare_input(r);
    REQUIRE(clean.ok());
    CHECK(clean->warnings.empty());
    for (float &v : lead(r, kalium::lead_id::II).samples_uv) v = std::min(v, 600.0f);
    std::fill(lead(r, kalium::lead_id::V3).samples_uv.begin(), lead(r, kalium::lead_id::V3).samples_uv.end(), 0.0f);
    auto bad = kalium::ecg_prepare_input(r);
    REQUIRE(bad.ok());
    bool flat = false, saturated = false;
    for (const std::string &w : bad->warnings) {
        flat = flat || w.rfind("lead V3: flat", 0) == 0;
        saturated = saturated || w.rfind("lead II: saturated", 0) == 0;
    }
    CHECK(flat);
    CHECK(saturated);
    // The same values as resampling + baseline removal by hand (the warnings change nothing).
    const auto by_hand = kalium::dsp_remove_baseline(kalium::dsp_resample(lead(r, kalium::lead_id::II).samples_uv, 500.0, 500.0), 500.0);
    for (size_t t = 0; t < kalium::k_network_window_samples; t++)
        REQUIRE(bad->values_mv[1 * kalium::k_network_window_samples + t] == by_hand[bad->window_start[1] + t] / 1000.0f);
}

TEST_CASE("quality: preparing with ecg_measure's quality findings is preparing from scratch", "[dsp][quality]") {
    kalium::ecg_record r = make_synthetic_ecg(synthetic_beats{}).record;
    for (float &v : lead(r, kalium::lead_id::aVL).samples_uv) v = std::max(v, -100.0f);  // clipped below
    std::fill(lead(r, kalium::lead_id::V6).samples_uv.begin(), lead(r, kalium::lead_id::V6).samples_uv.end(), 0.0f);
    auto a = kalium::ecg_measure(r);
    REQUIRE(a.ok());
    REQUIRE_FALSE(a->quality.empty());
    auto once = kalium::ecg_prepare_input(r, a->quality);
    auto twice = kalium::ecg_prepare_input(r);
    REQUIRE((once.ok() && twice.ok()));
    CHECK(once->values_mv == twice->values_mv);
    CHECK(once->warnings == twice->warnings);
    // ecg_measure's warnings begin with the same quality messages.
    REQUIRE(a->warnings.size() >= a->quality.size());
    for (size_t k = 0; k < a->quality.size(); k++) CHECK(a->warnings[k] == a->quality[k].message);
}

TEST_CASE("quality: a coarsely quantised smooth peak is not saturation", "[dsp][quality]") {
    // 10 uV steps (as the hmc CSVs store them). V1 is made a train of broad 500 uV domes (T-wave-like, 300 ms
    // wide): its top sits on one value for about 20 ms in every beat, reached one step at a time.
    kalium::ecg_record r = make_synthetic_ecg(synthetic_beats{}).record;
    std::vector<float> &v1 = lead(r, kalium::lead_id::V1).samples_uv;
    for (size_t t = 0; t < v1.size(); t++) v1[t] = static_cast<float>(500.0 * lobe(std::fmod(t / 500.0, 0.8), 0.25, 0.3));
    for (auto &l : r.leads)
        for (float &v : l.samples_uv) v = 10.0f * std::round(v / 10.0f);
    size_t longest = 0;  // the plateau is really there
    for (size_t t = 0; t < v1.size();) {
        size_t e = t;
        while (e < v1.size() && v1[e] == v1[t]) e++;
        if (v1[t] == 500.0f) longest = std::max(longest, e - t);
        t = e;
    }
    REQUIRE(longest >= 5);  // >= 10 ms
    auto w = kalium::ecg_check_quality(r);
    INFO(listed(w));
    CHECK(of_kind(w, "saturated").empty());
    // ... and the same record clipped at 600 uV in lead II still is saturated.
    for (float &v : lead(r, kalium::lead_id::II).samples_uv) v = std::min(v, 600.0f);
    auto clipped = of_kind(kalium::ecg_check_quality(r), "saturated");
    REQUIRE(clipped.size() == 1);
    CHECK(clipped[0].lead == "II");
}
