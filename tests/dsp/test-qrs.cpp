// dsp/test-qrs.cpp: QRS detection on MIT-BIH record 100 against its reference beat annotations (sensitivity
// and positive predictivity with the standard 150 ms match window), and on synthetic beat trains.
#include "test-util.h"
#include "dsp-test-util.h"

#include <cmath>
#include <cstdio>

TEST_CASE("QRS detection on MIT-BIH 100: Se and +P >= 99.5 % (150 ms window)", "[dsp][qrs]") {
    const auto hea = read_bytes(shared_ecg("samples/wfdb/mitdb_100/100.hea"));
    const auto dat = read_bytes(shared_ecg("samples/wfdb/mitdb_100/100.dat"));
    const auto atr = read_bytes(shared_ecg("samples/wfdb/mitdb_100/100.atr"));
    auto record = kalium::ecg_read(as_named("100.hea", hea), {as_named("100.dat", dat)});
    REQUIRE(record.ok());
    REQUIRE(record->fs_hz == 360.0);
    auto annotations = kalium::wfdb_read_annotations(atr.data(), atr.size(), "100.atr");
    REQUIRE(annotations.ok());
    std::vector<int64_t> reference;
    for (const auto &a : annotations.value())
        if (kalium::wfdb_is_beat_code(a.code)) reference.push_back(a.sample);
    std::vector<std::vector<float>> leads;
    for (const auto &lead : record->leads) leads.push_back(lead.samples_uv);
    const std::vector<size_t> detected = kalium::dsp_detect_qrs(leads, record->fs_hz);

    const beat_match m = match_beats(reference, detected, static_cast<int64_t>(std::lround(0.150 * record->fs_hz)));
    const double se = 100.0 * m.true_positives / double(m.true_positives + m.false_negatives);
    const double ppv = 100.0 * m.true_positives / double(m.true_positives + m.false_positives);
    // The line the validation report (tests/dsp/VALIDATION.md) is made from.
    std::printf("VALIDATION mitdb100 reference=%zu detected=%zu tp=%d fn=%d fp=%d se=%.2f ppv=%.2f "
                "offset_mean_ms=%.1f offset_sd_ms=%.1f\n",
                reference.size(), detected.size(), m.true_positives, m.false_negatives, m.false_positives, se, ppv,
                1000.0 * m.offset_mean / record->fs_hz, 1000.0 * m.offset_sd / record->fs_hz);
    CHECK(reference.size() == 2273);
    CHECK(se >= 99.5);
    CHECK(ppv >= 99.5);
    CHECK(std::fabs(1000.0 * m.offset_mean / record->fs_hz) < 30.0);  // placed on the R wave, not beside it
}

TEST_CASE("QRS detection on a synthetic beat train finds every beat at its R peak", "[dsp][qrs]") {
    for (double fs : {250.0, 360.0, 500.0, 1000.0}) {
        for (double hr : {45.0, 75.0, 150.0}) {
            INFO("fs " << fs << " Hz, " << hr << " bpm");
            synthetic_beats spec;
            spec.hr_bpm = hr;
            spec.fs_hz = fs;
            const synthetic_ecg ecg = make_synthetic_ecg(spec);
            std::vector<std::vector<float>> leads;
            for (const auto &lead : ecg.record.leads) leads.push_back(lead.samples_uv);
            const std::vector<size_t> detected = kalium::dsp_detect_qrs(leads, fs);
            const beat_match m = match_beats(ecg.r_peaks, detected, static_cast<int64_t>(std::lround(0.05 * fs)));
            CHECK(m.false_negatives == 0);
            CHECK(m.false_positives == 0);
        }
    }
}

TEST_CASE("QRS detection ignores flat leads and refuses what it cannot use", "[dsp][qrs]") {
    synthetic_beats spec;
    const synthetic_ecg ecg = make_synthetic_ecg(spec);
    std::vector<std::vector<float>> leads{ecg.record.leads[1].samples_uv, std::vector<float>(ecg.record.leads[1].samples_uv.size(), 0.0f)};
    const auto detected = kalium::dsp_detect_qrs(leads, spec.fs_hz);
    CHECK(match_beats(ecg.r_peaks, detected, 25).false_negatives == 0);
    CHECK(kalium::dsp_detect_qrs({}, 500.0).empty());
    CHECK(kalium::dsp_detect_qrs({std::vector<float>(5000, 0.0f)}, 500.0).empty());
    CHECK(kalium::dsp_detect_qrs({std::vector<float>(100, 1.0f), std::vector<float>(99, 1.0f)}, 500.0).empty());  // unequal lengths
    CHECK(kalium::dsp_detect_qrs({ecg.record.leads[1].samples_uv}, 0.0).empty());
}
