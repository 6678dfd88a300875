// dsp/test-filters.cpp: frequency response of the display filters (0.05-150 Hz diagnostic, 0.5-40 Hz
// monitoring) and of mains removal (50 and 60 Hz notches), measured by filtering sines and fitting their
// amplitude away from the ends; ends, NaN and bad arguments.
#include "test-util.h"
#include "dsp/dsp-internal.h"

#include <cmath>

namespace {

constexpr double k_pi = 3.14159265358979323846;

std::vector<float> tone(double fs_hz, double seconds, double f_hz) {
    std::vector<float> x(static_cast<size_t>(std::llround(fs_hz * seconds)));
    for (size_t t = 0; t < x.size(); t++) x[t] = static_cast<float>(1000.0 * std::sin(2 * k_pi * f_hz * t / fs_hz + 0.3));
    return x;
}

// Amplitude of the f_hz component of y over [from, to) (least squares on sine and cosine), relative to 1000.
double gain_db(const std::vector<float> &y, double fs_hz, double f_hz, size_t from, size_t to) {
    double ss = 0, cc = 0, sc = 0, ys = 0, yc = 0;
    for (size_t t = from; t < to; t++) {
        const double s = std::sin(2 * k_pi * f_hz * t / fs_hz), c = std::cos(2 * k_pi * f_hz * t / fs_hz);
        ss += s * s, cc += c * c, sc += s * c, ys += y[t] * s, yc += y[t] * c;
    }
    const double det = ss * cc - sc * sc, a = (ys * cc - yc * sc) / det, b = (yc * ss - ys * sc) / det;
    return 20.0 * std::log10(std::sqrt(a * a + b * b) / 1000.0);
}

double response_db(kalium::display_filter filter, double fs_hz, double f_hz) {
    const double seconds = std::max(20.0, 12.0 / f_hz);  // long enough for the slow high-pass corner
    const std::vector<float> y = kalium::dsp_display_filter(tone(fs_hz, seconds, f_hz), fs_hz, filter);
    const size_t n = y.size();
    return gain_db(y, fs_hz, f_hz, n / 4, n - n / 4);
}

double notch_db(double mains_hz, double fs_hz, double f_hz) {
    const std::vector<float> y = kalium::dsp_remove_mains(tone(fs_hz, 20.0, f_hz), fs_hz, mains_hz);
    return gain_db(y, fs_hz, f_hz, y.size() / 4, y.size() - y.size() / 4);
}

}  // namespace

TEST_CASE("display filter, diagnostic 0.05-150 Hz: -3 dB at the corners, flat between", "[dsp][filters]") {
    using kalium::display_filter;
    CHECK(response_db(display_filter::diagnostic, 500, 0.05) == Approx(-3.0).margin(0.3));
    CHECK(response_db(display_filter::diagnostic, 500, 150.0) == Approx(-3.0).margin(0.3));
    for (double f : {0.5, 1.0, 10.0, 40.0, 100.0}) {
        INFO(f << " Hz");
        CHECK(std::fabs(response_db(display_filter::diagnostic, 500, f)) < 0.5);
    }
    CHECK(response_db(display_filter::diagnostic, 500, 0.01) < -20.0);
    CHECK(response_db(display_filter::diagnostic, 1000, 300.0) < -15.0);
    // At 250 Hz the upper corner is above what the rate allows: only the high-pass.
    CHECK(std::fabs(response_db(display_filter::diagnostic, 250, 110.0)) < 0.5);
}

TEST_CASE("display filter, monitoring 0.5-40 Hz: -3 dB at the corners, flat between", "[dsp][filters]") {
    using kalium::display_filter;
    CHECK(response_db(display_filter::monitoring, 500, 0.5) == Approx(-3.0).margin(0.3));
    CHECK(response_db(display_filter::monitoring, 500, 40.0) == Approx(-3.0).margin(0.3));
    for (double f : {2.0, 5.0, 10.0, 20.0}) {
        INFO(f << " Hz");
        CHECK(std::fabs(response_db(display_filter::monitoring, 500, f)) < 0.5);
    }
    CHECK(response_db(display_filter::monitoring, 500, 0.1) < -20.0);
    CHECK(response_db(display_filter::monitoring, 500, 100.0) < -20.0);
    CHECK(response_db(display_filter::monitoring, 500, 50.0) < -6.0);
}

TEST_CASE("display filter: none is the identity, ends do not ring, NaN and bad rates are safe", "[dsp][filters]") {
    const std::vector<float> x = tone(500, 4, 3);
    CHECK(kalium::dsp_display_filter(x, 500, kalium::display_filter::none) == x);
    // A constant offset of 5 mV (an electrode's DC) is removed without a transient at the start.
    std::vector<float> offset(5000, 5000.0f);
    const auto y = kalium::dsp_display_filter(offset, 500, kalium::display_filter::monitoring);
    double worst = 0;
    for (float v : y) worst = std::max(worst, double(std::fabs(v)));
    CHECK(worst < 50.0);
    std::vector<float> gappy = x;
    gappy[100] = NAN;
    for (float v : kalium::dsp_display_filter(gappy, 500, kalium::display_filter::diagnostic)) REQUIRE(std::isfinite(v));
    CHECK(kalium::dsp_display_filter({}, 500, kalium::display_filter::diagnostic).empty());
    CHECK(kalium::dsp_display_filter(x, 0, kalium::display_filter::diagnostic) == x);  // no rate: unchanged
}

TEST_CASE("mains removal: 50 and 60 Hz notches, narrow", "[dsp][filters]") {
    CHECK(notch_db(50, 500, 50.0) < -40.0);
    CHECK(notch_db(50, 500, 100.0) < -40.0);  // second harmonic
    CHECK(notch_db(60, 500, 60.0) < -40.0);
    CHECK(notch_db(60, 500, 120.0) < -40.0);
    CHECK(notch_db(50, 360, 50.0) < -40.0);
    CHECK(notch_db(50, 250, 50.0) < -40.0);
    for (double f : {1.0, 10.0, 30.0, 45.0, 55.0, 70.0}) {
        INFO(f << " Hz next to a 50 Hz notch");
        CHECK(std::fabs(notch_db(50, 500, f)) < 0.5);
    }
    CHECK(std::fabs(notch_db(60, 500, 50.0)) < 0.5);  // a 60 Hz notch leaves 50 Hz alone
    // Nothing to do: no mains frequency, or one the rate cannot hold.
    const std::vector<float> x = tone(500, 2, 10);
    CHECK(kalium::dsp_remove_mains(x, 500, 0.0) == x);
    CHECK(kalium::dsp_remove_mains(x, 100, 50.0) == x);
}

TEST_CASE("resampling for measurement agrees with dsp_resample in band and removes what would alias", "[dsp][filters]") {
    // Not the network's resampler (that one, dsp_resample, is pinned in test-prepare.cpp): the measurements'
    // shorter, faster one.
    for (double fs : {250.0, 257.0, 360.0, 1000.0, 500.0}) {
        INFO(fs << " Hz");
        const std::vector<float> x = tone(fs, 10.0, 7.0);
        const auto reference = kalium::dsp_resample(x, fs, 500.0);
        const auto fast = kalium::dsp::resample_for_measurement(x, fs, 500.0);
        REQUIRE(fast.size() == reference.size());
        double worst = 0;
        for (size_t t = 100; t + 100 < fast.size(); t++) worst = std::max(worst, double(std::fabs(fast[t] - reference[t])));
        CHECK(worst < 5.0);  // 0.5 % of the 1000 uV tone
    }
    const auto alias = kalium::dsp::resample_for_measurement(tone(1000.0, 4.0, 300.0), 1000.0, 500.0);
    REQUIRE(alias.size() == 2000);
    CHECK(gain_db(alias, 500.0, 200.0, 200, 1800) < -40.0);  // the 300 Hz tone would alias to 200 Hz
    std::vector<float> gap = tone(360.0, 2.0, 5.0);
    gap[100] = NAN;
    for (float v : kalium::dsp::resample_for_measurement(gap, 360.0, 500.0)) REQUIRE(std::isfinite(v));
    CHECK(kalium::dsp::resample_for_measurement({}, 360.0, 500.0).empty());
}
