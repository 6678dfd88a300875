// dsp/test-prepare.cpp: resampling accuracy and anti-aliasing, baseline wander removal, and the network's
// 2.5 s lead windows (Philips print layout).
#include "test-util.h"

#include <algorithm>
#include <cmath>

namespace {

constexpr double k_pi = 3.14159265358979323846;

std::vector<float> sine(double fs_hz, double seconds, double f_hz, double amplitude) {
    std::vector<float> x(static_cast<size_t>(std::llround(fs_hz * seconds)));
    for (size_t t = 0; t < x.size(); t++) x[t] = static_cast<float>(amplitude * std::sin(2 * k_pi * f_hz * t / fs_hz));
    return x;
}

double rms(const std::vector<float> &x, size_t from, size_t to) {
    double s = 0;
    for (size_t t = from; t < to; t++) s += double(x[t]) * x[t];
    return std::sqrt(s / double(to - from));
}

}  // namespace

TEST_CASE("resampling to 500 Hz keeps in-band signals from the common rates", "[dsp]") {
    for (double fs : {250.0, 257.0, 360.0, 1000.0, 500.0}) {
        INFO("fs " << fs);
        const std::vector<float> in = sine(fs, 10.0, 7.0, 1000.0);
        const std::vector<float> out = kalium::dsp_resample(in, fs, 500.0);
        REQUIRE(out.size() == 5000);
        double worst = 0;
        for (size_t t = 250; t < 4750; t++)  // away from the edges
            worst = std::max(worst, std::fabs(out[t] - 1000.0 * std::sin(2 * k_pi * 7.0 * t / 500.0)));
        CHECK(worst < 1.0);  // under 0.1 % of the amplitude
    }
}

TEST_CASE("resampling down removes what would alias", "[dsp]") {
    // At 500 Hz a 300 Hz tone would alias to 200 Hz; the anti-aliasing filter must remove it.
    const std::vector<float> out = kalium::dsp_resample(sine(1000.0, 4.0, 300.0, 1000.0), 1000.0, 500.0);
    REQUIRE(out.size() == 2000);
    CHECK(rms(out, 200, 1800) < 7.0);  // < 1 % of the input's 707 RMS: no 200 Hz alias
}

TEST_CASE("baseline wander is removed and the QRS kept", "[dsp]") {
    const double fs = 500.0;
    std::vector<float> x = sine(fs, 10.0, 0.3, 800.0);  // slow wander, 0.8 mV
    std::vector<float> spikes(x.size(), 0.0f);
    for (size_t beat = 250; beat < x.size(); beat += 400)
        for (int k = -10; k <= 10; k++) spikes[beat + k] = static_cast<float>(1200.0 * (1.0 - std::abs(k) / 10.0));
    for (size_t t = 0; t < x.size(); t++) x[t] += spikes[t];
    const std::vector<float> y = kalium::dsp_remove_baseline(x, fs);
    double worst = 0;
    for (size_t t = 500; t < 4500; t++) worst = std::max(worst, double(std::fabs(y[t] - spikes[t])));
    CHECK(worst < 60.0);  // wander of 800 uV reduced to < 60 uV of error, QRS of 1200 uV intact
    CHECK(y[650] > 1100.0f);
}

namespace {

kalium::ecg_record synthetic_record(double seconds) {
    kalium::ecg_record r;
    r.fs_hz = 500;
    for (int l = 0; l < kalium::k_standard_lead_count; l++) {
        kalium::ecg_lead lead;
        lead.id = static_cast<kalium::lead_id>(l);
        lead.name = kalium::lead_id_name(lead.id);
        lead.samples_uv.assign(static_cast<size_t>(seconds * 500), 0.0f);
        r.leads.push_back(lead);
    }
    return r;
}

size_t peak_index(const kalium::network_input &in, int lead) {
    const float *w = &in.values_mv[static_cast<size_t>(lead) * kalium::k_network_window_samples];
    return static_cast<size_t>(std::max_element(w, w + kalium::k_network_window_samples) - w);
}

}  // namespace

TEST_CASE("each lead's window follows the Philips print layout", "[dsp]") {
    kalium::ecg_record r = synthetic_record(10.0);
    // A 1 mV spike in lead I at 1.0 s, in aVL at 3.0 s, in V2 at 6.0 s, in V5 at 8.0 s.
    const struct { kalium::lead_id id; size_t at; } spikes[] = {
        {kalium::lead_id::I, 500}, {kalium::lead_id::aVL, 1500}, {kalium::lead_id::V2, 3000}, {kalium::lead_id::V5, 4000}};
    for (const auto &s : spikes)
        for (int k = -5; k <= 5; k++) r.find(s.id)->samples_uv[s.at + k] = 1000.0f * (1.0f - std::abs(k) / 5.0f);
    auto in = kalium::ecg_prepare_input(r);
    REQUIRE(in.ok());
    CHECK(in->values_mv.size() == 12 * 1250);
    // The record is silent apart from four spikes: the quality checks name the flat leads; nothing else is said.
    for (const std::string &w : in->warnings) CHECK(w.find("flat") != std::string::npos);
    CHECK(in->window_start[0] == 0);
    CHECK(in->window_start[4] == 1250);
    CHECK(in->window_start[7] == 2500);
    CHECK(in->window_start[10] == 3750);
    CHECK(peak_index(in.value(), 0) == 500);
    CHECK(peak_index(in.value(), 4) == 250);
    CHECK(peak_index(in.value(), 7) == 500);
    CHECK(peak_index(in.value(), 10) == 250);
    CHECK(in->values_mv[0 * 1250 + 500] == Approx(1.0).margin(0.05));  // millivolts
}

TEST_CASE("a 1000 Hz record is prepared like its 500 Hz twin", "[dsp]") {
    kalium::ecg_record fast = synthetic_record(10.0), slow = synthetic_record(10.0);
    fast.fs_hz = 1000;
    for (auto &lead : fast.leads) lead.samples_uv = sine(1000.0, 10.0, 3.0, 500.0);
    for (auto &lead : slow.leads) lead.samples_uv = sine(500.0, 10.0, 3.0, 500.0);
    auto a = kalium::ecg_prepare_input(fast), b = kalium::ecg_prepare_input(slow);
    REQUIRE((a.ok() && b.ok()));
    double worst = 0;
    for (size_t k = 100; k < a->values_mv.size(); k++) worst = std::max(worst, double(std::fabs(a->values_mv[k] - b->values_mv[k])));
    CHECK(worst < 0.005);  // 5 uV
}

TEST_CASE("short or incomplete records are refused or warned about", "[dsp]") {
    auto too_short = kalium::ecg_prepare_input(synthetic_record(2.0));
    REQUIRE_FALSE(too_short.ok());
    CHECK(too_short.error().message().find("2.5 s") != std::string::npos);

    auto five = kalium::ecg_prepare_input(synthetic_record(5.0));
    REQUIRE(five.ok());
    CHECK(five->window_start[11] == 0);
    int said_short = 0;
    for (const std::string &w : five->warnings) said_short += w.find("shorter than 10 s") != std::string::npos;
    CHECK(said_short == 1);  // once, though the quality checks also know

    kalium::ecg_record no_v3 = synthetic_record(10.0);
    no_v3.leads.erase(no_v3.leads.begin() + 8);
    auto missing = kalium::ecg_prepare_input(no_v3);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message().find("V3") != std::string::npos);
}

TEST_CASE("the network input is exactly resampling + baseline removal, whatever the quality checks say", "[dsp]") {
    // Pins what the shipped ECG12Net was trained on: ecg_prepare_input's values equal dsp_resample then
    // dsp_remove_baseline done by hand (no mains notch, no display filter), on real records at 500 and 1000 Hz,
    // one with mains interference, and on a synthetic one with 50 Hz added.
    std::vector<kalium::ecg_record> records;
    for (const char *name : {"samples/ge-muse-xml/braveheart_example2.xml", "samples/dicom/dicom-ecg-plot_anonymous_ecg.dcm"}) {
        const auto bytes = read_bytes(shared_ecg(name));
        auto r = kalium::ecg_read(as_named(name, bytes));
        REQUIRE(r.ok());
        records.push_back(std::move(r.value()));
    }
    {
        const auto hea = read_bytes(shared_ecg("samples/wfdb/challenge2021/JS20002.hea"));
        const auto mat = read_bytes(shared_ecg("samples/wfdb/challenge2021/JS20002.mat"));
        auto r = kalium::ecg_read(as_named("JS20002.hea", hea), {as_named("JS20002.mat", mat)});
        REQUIRE(r.ok());
        records.push_back(std::move(r.value()));
    }
    {
        // shorter than 10 s (every lead from its start) and the Philips 10.6 s record, at 500 and 1000 Hz
        kalium::ecg_record cut = records[0], cut_fast = records[1];
        for (auto &lead : cut.leads) lead.samples_uv.resize(3000);
        for (auto &lead : cut_fast.leads) lead.samples_uv.resize(6100);
        records.push_back(cut);
        records.push_back(cut_fast);
        const char *name = "samples/philips-xml/sierra_1_04_ad4d3d80-d165_1-04_orig.xml";
        const auto bytes = read_bytes(shared_ecg(name));
        auto r = kalium::ecg_read(as_named(name, bytes));
        REQUIRE(r.ok());
        records.push_back(std::move(r.value()));
    }
    kalium::ecg_record hum = records[0];
    for (auto &lead : hum.leads)
        for (size_t t = 0; t < lead.samples_uv.size(); t++) lead.samples_uv[t] += static_cast<float>(200.0 * std::sin(2 * k_pi * 50.0 * t / hum.fs_hz));
    records.push_back(hum);
    for (const kalium::ecg_record &r : records) {
        INFO(r.source_name << " at " << r.fs_hz << " Hz");
        auto in = kalium::ecg_prepare_input(r);
        REQUIRE(in.ok());
        double worst = 0;
        for (int l = 0; l < kalium::k_standard_lead_count; l++) {
            const auto by_hand = kalium::dsp_remove_baseline(kalium::dsp_resample(r.find(static_cast<kalium::lead_id>(l))->samples_uv, r.fs_hz, 500.0), 500.0);
            for (size_t t = 0; t < kalium::k_network_window_samples; t++)
                worst = std::max(worst, double(std::fabs(in->values_mv[l * kalium::k_network_window_samples + t] -
                                                         by_hand[in->window_start[l] + t] / 1000.0f)));
        }
        CHECK(worst == 0.0);
    }
    // The hum is reported, and left in what the network sees (as in training).
    auto hummed = kalium::ecg_prepare_input(records.back());
    REQUIRE(hummed.ok());
    bool said = false;
    for (const std::string &w : hummed->warnings) said = said || w.find("50 Hz mains") != std::string::npos;
    CHECK(said);
}
