// dsp/test-measure.cpp: ecg_measure on synthetic beat trains whose intervals and axes are known by
// construction (several rates, intervals, axes, sampling rates, noise, ectopic beats, no P wave), and its
// refusals.
#include "test-util.h"
#include "dsp-test-util.h"

#include <algorithm>
#include <cmath>

namespace {

// Circular difference of two angles, degrees in [0, 180].
double angle_diff(double a, double b) {
    double d = std::fmod(std::fabs(a - b), 360.0);
    return d > 180 ? 360 - d : d;
}

void check_against(const kalium::ecg_analysis &a, const synthetic_beats &s, double interval_tolerance_ms) {
    const kalium::ecg_measurements &v = a.values;
    REQUIRE(v.hr_bpm);
    REQUIRE(v.pr_ms);
    REQUIRE(v.qrs_ms);
    REQUIRE(v.qt_ms);
    REQUIRE(v.qtc_ms);
    REQUIRE(v.p_axis_deg);
    REQUIRE(v.qrs_axis_deg);
    REQUIRE(v.t_axis_deg);
    CHECK(*v.hr_bpm == Approx(s.hr_bpm).margin(1.0));
    // Smooth (raised-cosine) waves start and end with zero slope, so every rule finds onsets a little late
    // and ends a little early; the margins are what a cart is allowed against a reference (CSE: PR 10 ms,
    // QRS 10 ms, QT 25 ms) plus that.
    CHECK(*v.pr_ms == Approx(s.pr_ms).margin(interval_tolerance_ms + 5));
    CHECK(*v.qrs_ms == Approx(s.qrs_ms).margin(interval_tolerance_ms));
    CHECK(*v.qt_ms == Approx(s.qt_ms).margin(interval_tolerance_ms + 5));
    const double rr_s = 60.0 / s.hr_bpm;
    CHECK(*v.qtc_ms == Approx(*v.qt_ms / std::sqrt(rr_s)).margin(2.0));  // Bazett, as said
    REQUIRE(a.qtc_fridericia_ms);
    CHECK(*a.qtc_fridericia_ms == Approx(*v.qt_ms / std::cbrt(rr_s)).margin(2.0));
    CHECK(std::string(a.qtc_formula) == "bazett");
    CHECK(angle_diff(*v.p_axis_deg, s.p_axis_deg) < 5.0);
    CHECK(angle_diff(*v.qrs_axis_deg, s.qrs_axis_deg) < 5.0);
    CHECK(angle_diff(*v.t_axis_deg, s.t_axis_deg) < 5.0);
}

}  // namespace

TEST_CASE("measure: synthetic beat trains of known intervals and axes", "[dsp][measure]") {
    struct variant {
        double hr, pr, qrs, qt, t_ms, p_axis, qrs_axis, t_axis;
    };
    const variant variants[] = {
        {75, 160, 90, 400, 200, 60, 45, 40},     // normal
        {50, 220, 100, 460, 220, 50, -30, 30},   // bradycardia, 1st-degree AV block, left axis
        {100, 140, 80, 340, 160, 70, 100, 60},   // tachycardia, right axis
        {60, 180, 140, 480, 200, 40, 10, -150},  // wide QRS, inverted T
        {110, 150, 80, 350, 180, 60, 45, 40},    // fast: the P search reaches back into the previous T wave
    };
    for (const variant &v : variants) {
        synthetic_beats s;
        s.hr_bpm = v.hr;
        s.pr_ms = v.pr;
        s.qrs_ms = v.qrs;
        s.qt_ms = v.qt;
        s.t_ms = v.t_ms;
        s.p_axis_deg = v.p_axis;
        s.qrs_axis_deg = v.qrs_axis;
        s.t_axis_deg = v.t_axis;
        INFO("HR " << v.hr << " PR " << v.pr << " QRS " << v.qrs << " QT " << v.qt << " axes " << v.p_axis << "/" << v.qrs_axis << "/" << v.t_axis);
        auto a = kalium::ecg_measure(make_synthetic_ecg(s).record);
        REQUIRE(a.ok());
        INFO("measured PR " << a->values.pr_ms.value_or(-1) << " QRS " << a->values.qrs_ms.value_or(-1) << " QT "
                            << a->values.qt_ms.value_or(-1) << " axes " << a->values.p_axis_deg.value_or(-999) << "/"
                            << a->values.qrs_axis_deg.value_or(-999) << "/" << a->values.t_axis_deg.value_or(-999));
        check_against(a.value(), s, 10.0);
        CHECK(a->median_uv.size() == 12);
        CHECK(a->median_uv[0].size() == a->median_length);
    }
}

TEST_CASE("measure: the same ECG at 250, 360 and 1000 Hz and with 25 uV of noise", "[dsp][measure]") {
    for (double fs : {250.0, 360.0, 1000.0}) {
        synthetic_beats s;
        s.fs_hz = fs;
        INFO("fs " << fs);
        auto a = kalium::ecg_measure(make_synthetic_ecg(s).record);
        REQUIRE(a.ok());
        check_against(a.value(), s, 10.0);
    }
    synthetic_beats noisy;
    noisy.noise_uv = 25.0;
    auto a = kalium::ecg_measure(make_synthetic_ecg(noisy).record);
    REQUIRE(a.ok());
    check_against(a.value(), noisy, 12.0);
}

TEST_CASE("measure: premature ventricular beats are left out of the median beat", "[dsp][measure]") {
    synthetic_beats s;
    s.pvc_beats = {3, 7};
    const synthetic_ecg ecg = make_synthetic_ecg(s);
    auto a = kalium::ecg_measure(ecg.record);
    REQUIRE(a.ok());
    REQUIRE(a->qrs_samples.size() == ecg.r_peaks.size());
    // Which detected beats are dominant: every beat but the two PVCs (and any too near the record's edges).
    for (size_t k = 0; k < a->qrs_samples.size(); k++) {
        const long at_fs = static_cast<long>(a->qrs_samples[k]);  // 500 Hz = the synthetic rate
        const bool is_pvc = std::labs(at_fs - ecg.r_peaks[3]) < 40 || std::labs(at_fs - ecg.r_peaks[7]) < 40;
        if (is_pvc) CHECK_FALSE(a->dominant[k]);
    }
    size_t dominant = 0;
    for (bool d : a->dominant) dominant += d;
    CHECK(dominant >= ecg.r_peaks.size() - 2 - 2);
    // The dominant beats' intervals, not the PVCs' 150 ms QRS.
    REQUIRE(a->values.qrs_ms);
    CHECK(*a->values.qrs_ms == Approx(s.qrs_ms).margin(10));
    REQUIRE(a->values.qrs_axis_deg);
    CHECK(angle_diff(*a->values.qrs_axis_deg, s.qrs_axis_deg) < 5.0);
}

TEST_CASE("measure: no P wave gives a null PR and P axis with the reason", "[dsp][measure]") {
    synthetic_beats s;
    s.p_uv = 0.0;
    auto a = kalium::ecg_measure(make_synthetic_ecg(s).record);
    REQUIRE(a.ok());
    CHECK_FALSE(a->values.pr_ms);
    CHECK_FALSE(a->values.p_axis_deg);
    CHECK(a->values.qrs_ms);
    CHECK(a->values.qt_ms);
    bool said = false;
    for (const auto &w : a->warnings) said = said || w.find("no P wave") != std::string::npos;
    CHECK(said);
}

TEST_CASE("measure: refuses records it cannot measure, naming why", "[dsp][measure]") {
    synthetic_beats s;
    kalium::ecg_record no_v4 = make_synthetic_ecg(s).record;
    no_v4.leads.erase(no_v4.leads.begin() + 9);
    auto missing = kalium::ecg_measure(no_v4);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message().find("V4") != std::string::npos);

    s.duration_s = 2.0;
    auto short_one = kalium::ecg_measure(make_synthetic_ecg(s).record);
    REQUIRE_FALSE(short_one.ok());
    CHECK(short_one.error().message().find("2.5 s") != std::string::npos);

    // Silence: every lead flat. Measured as nothing, with a warning, not an error or a crash.
    synthetic_beats flat;
    flat.r_uv = flat.p_uv = flat.t_uv = 0.0;
    auto silent = kalium::ecg_measure(make_synthetic_ecg(flat).record);
    REQUIRE(silent.ok());
    CHECK_FALSE(silent->values.hr_bpm);
    CHECK_FALSE(silent->values.qrs_ms);
    CHECK_FALSE(silent->warnings.empty());

    // NaN samples (a lead the file says is missing for a while) are measured around, not propagated.
    synthetic_beats gap;
    kalium::ecg_record with_gap = make_synthetic_ecg(gap).record;
    for (size_t t = 1000; t < 1400; t++) with_gap.leads[7].samples_uv[t] = NAN;
    auto gapped = kalium::ecg_measure(with_gap);
    REQUIRE(gapped.ok());
    REQUIRE(gapped->values.hr_bpm);
    CHECK(std::isfinite(*gapped->values.hr_bpm));
}

TEST_CASE("measure and quality: hostile signals end in values or warnings, never a crash", "[dsp][measure]") {
    std::mt19937 rng(99);
    std::normal_distribution<float> noise(0.0f, 300.0f);
    std::vector<kalium::ecg_record> records;
    for (double fs : {100.0, 257.0, 500.0, 2000.0}) {
        synthetic_beats s;
        s.fs_hz = fs;
        s.duration_s = 3.0;
        kalium::ecg_record r = make_synthetic_ecg(s).record;
        for (auto &lead : r.leads)
            for (float &v : lead.samples_uv) v = noise(rng);  // pure noise
        records.push_back(r);
    }
    {
        kalium::ecg_record r = make_synthetic_ecg(synthetic_beats{}).record;
        for (float &v : r.leads[0].samples_uv) v = NAN;                       // a lead all missing
        for (size_t t = 0; t < 5000; t += 7) r.leads[1].samples_uv[t] = 1e7f;  // absurd spikes
        for (size_t t = 2000; t < 2100; t++) r.leads[6].samples_uv[t] = -1e6f;
        records.push_back(r);
    }
    {
        synthetic_beats fast;  // 220 bpm: RR 270 ms, shorter than the median beat's window
        fast.hr_bpm = 220;
        fast.qt_ms = 220;
        fast.t_ms = 120;
        fast.pr_ms = 100;
        fast.p_ms = 60;
        records.push_back(make_synthetic_ecg(fast).record);
        synthetic_beats slow;  // 25 bpm: 4 beats in 10 s
        slow.hr_bpm = 25;
        records.push_back(make_synthetic_ecg(slow).record);
    }
    for (const kalium::ecg_record &r : records) {
        INFO(r.fs_hz << " Hz, " << r.duration_s() << " s");
        auto a = kalium::ecg_measure(r);
        REQUIRE(a.ok());
        for (const auto *v : {&a->values.hr_bpm, &a->values.pr_ms, &a->values.qrs_ms, &a->values.qt_ms, &a->values.qtc_ms,
                              &a->values.p_axis_deg, &a->values.qrs_axis_deg, &a->values.t_axis_deg})
            if (*v) CHECK(std::isfinite(**v));
        (void)kalium::ecg_check_quality(r);
        CHECK(kalium::ecg_prepare_input(r).ok());
    }
}

TEST_CASE("measure: a tall T wave rising straight out of the QRS (no ST segment)", "[dsp][measure]") {
    // As in hyperkalaemia: a peaked T of 1.2 mV beginning where the QRS ends, so the slope never rests between
    // them; the QRS end is then the slope's first local minimum.
    synthetic_beats s;
    s.hr_bpm = 70;
    s.qrs_ms = 90;
    s.qt_ms = 330;
    s.t_ms = 240;  // T from 90 ms to 330 ms after the QRS onset
    s.t_uv = 1200;
    auto a = kalium::ecg_measure(make_synthetic_ecg(s).record);
    REQUIRE(a.ok());
    REQUIRE(a->values.qrs_ms);
    CHECK(*a->values.qrs_ms == Approx(s.qrs_ms).margin(12));
    REQUIRE(a->values.qt_ms);
    CHECK(*a->values.qt_ms == Approx(s.qt_ms).margin(20));
}

TEST_CASE("measure: keeps the leads it measured on, at 500 Hz with the baseline wander removed", "[dsp][measure]") {
    synthetic_beats s;
    s.fs_hz = 250.0;
    synthetic_ecg e = make_synthetic_ecg(s);
    // a 1 mV offset and a 0.2 Hz, 0.5 mV wander on every lead: neither may reach the display signal
    for (kalium::ecg_lead &lead : e.record.leads)
        for (size_t t = 0; t < lead.samples_uv.size(); t++)
            lead.samples_uv[t] += 1000.0f + 500.0f * static_cast<float>(std::sin(2.0 * 3.14159265358979 * 0.2 * double(t) / s.fs_hz));
    auto a = kalium::ecg_measure(e.record);
    REQUIRE(a.ok());
    REQUIRE(a->signal_500hz_uv.size() == 12);
    for (const std::vector<float> &lead : a->signal_500hz_uv) {
        REQUIRE(lead.size() == 5000);  // 10 s at 500 Hz
        // the median over a beat-free stretch (the TP segment is most of each 800 ms RR) sits at 0, not at 1000 uV
        std::vector<float> sorted(lead.begin() + 500, lead.end() - 500);
        std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(sorted.size() / 2), sorted.end());
        CHECK(std::abs(sorted[sorted.size() / 2]) < 60.0f);
    }
    // lead II's R peaks are where the synthetic ECG put them (samples at 250 Hz -> 500 Hz)
    const std::vector<float> &ii = a->signal_500hz_uv[1];
    for (int64_t r : e.r_peaks) {
        const size_t at = static_cast<size_t>(r * 2);
        if (at < 20 || at + 20 >= ii.size()) continue;
        const auto peak = std::max_element(ii.begin() + static_cast<long>(at - 20), ii.begin() + static_cast<long>(at + 20));
        CHECK(std::abs(static_cast<long>(peak - ii.begin()) - static_cast<long>(at)) <= 2);
    }
}
