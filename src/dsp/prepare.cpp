// dsp/prepare.cpp: resampling, baseline wander removal and the network's lead windows (see kalium.h,
// "Preparing the network input"). Mains removal and the display filters (filters.cpp) are not applied here:
// the shipped network was trained on exactly what this file produces. The quality checks (quality.cpp) only
// add warnings.
#include "kalium.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace kalium {

namespace {

constexpr double k_pi = 3.14159265358979323846;

// Zeroth-order modified Bessel function of the first kind (for the Kaiser window).
double bessel_i0(double x) {
    double sum = 1.0, term = 1.0;
    for (int k = 1; k < 50; k++) {
        term *= (x / (2.0 * k)) * (x / (2.0 * k));
        sum += term;
        if (term < 1e-12 * sum) break;
    }
    return sum;
}

// Moving median over a centred window of `width` samples (edges use the part of the window inside the
// signal; an even count takes the upper middle). The window is kept as a sorted vector: each step is two
// binary searches and a short memmove, O(n w) moves but cache-friendly (about 10x faster than a multiset,
// whose median needs an O(w) walk).
std::vector<float> moving_median(const std::vector<float> &x, size_t width) {
    const size_t n = x.size();
    std::vector<float> out(n);
    if (n == 0) return out;
    const size_t half = width / 2;
    std::vector<float> window;
    window.reserve(width + 1);
    size_t lo = 0, hi = 0;  // window holds x[lo, hi)
    for (size_t t = 0; t < n; t++) {
        const size_t want_lo = t >= half ? t - half : 0;
        const size_t want_hi = std::min(n, t + half + 1);
        while (hi < want_hi) {
            const float v = x[hi++];
            window.insert(std::upper_bound(window.begin(), window.end(), v), v);
        }
        while (lo < want_lo) window.erase(std::lower_bound(window.begin(), window.end(), x[lo++]));
        out[t] = window[window.size() / 2];
    }
    return out;
}

}  // namespace

std::vector<float> dsp_resample(const std::vector<float> &samples, double fs_in_hz, double fs_out_hz) {
    if (samples.empty() || !(fs_in_hz > 0) || !(fs_out_hz > 0)) return {};
    if (fs_in_hz == fs_out_hz) {
        std::vector<float> out = samples;
        for (float &v : out)
            if (!std::isfinite(v)) v = 0.0f;
        return out;
    }
    // Rational ratio up/down when both rates are (near) whole numbers of mHz; else a fine approximation.
    const long long in_mhz = std::llround(fs_in_hz * 1000.0), out_mhz = std::llround(fs_out_hz * 1000.0);
    const long long g = std::gcd(in_mhz, out_mhz);
    long long up = out_mhz / g, down = in_mhz / g;
    if (up > 4096 || down > 4096) {  // irrational-looking ratio: approximate within 1e-4
        up = std::llround(fs_out_hz / fs_in_hz * 1000.0);
        down = 1000;
        const long long g2 = std::gcd(up, down);
        up /= g2;
        down /= g2;
    }
    // Low-pass at the lower Nyquist rate (90 % of it), Kaiser window (beta 8.6, ~ -90 dB), 16 zero crossings
    // each side, in units of the upsampled rate.
    const double cutoff = 0.9 * 0.5 / static_cast<double>(std::max(up, down));  // cycles per upsampled sample
    const long long half_taps = static_cast<long long>(std::ceil(16.0 / (2.0 * cutoff)));
    const double beta = 8.6, i0_beta = bessel_i0(beta);
    std::vector<double> taps(static_cast<size_t>(2 * half_taps + 1));
    for (long long k = -half_taps; k <= half_taps; k++) {
        const double x = static_cast<double>(k);
        const double sinc = k == 0 ? 2.0 * cutoff : std::sin(2.0 * k_pi * cutoff * x) / (k_pi * x);
        const double r = x / static_cast<double>(half_taps);
        const double window = bessel_i0(beta * std::sqrt(std::max(0.0, 1.0 - r * r))) / i0_beta;
        taps[static_cast<size_t>(k + half_taps)] = sinc * window * static_cast<double>(up);  // gain `up` restores amplitude
    }
    const size_t n_in = samples.size();
    const size_t n_out = static_cast<size_t>(std::llround(static_cast<double>(n_in) * up / down));
    std::vector<float> out(n_out);
    for (size_t m = 0; m < n_out; m++) {
        // Output sample m sits at upsampled position m*down; input sample j sits at j*up.
        const long long centre = static_cast<long long>(m) * down;
        const long long j_first = (centre - half_taps + up - 1) >= 0 ? (centre - half_taps + up - 1) / up : 0;
        const long long j_last = std::min<long long>(static_cast<long long>(n_in) - 1, (centre + half_taps) / up);
        double acc = 0.0;
        for (long long j = j_first; j <= j_last; j++) {
            const float v = samples[static_cast<size_t>(j)];
            if (std::isfinite(v)) acc += taps[static_cast<size_t>(j * up - centre + half_taps)] * v;
        }
        out[m] = static_cast<float>(acc);
    }
    return out;
}

std::vector<float> dsp_remove_baseline(const std::vector<float> &samples, double fs_hz) {
    std::vector<float> clean(samples);
    for (float &v : clean)
        if (!std::isfinite(v)) v = 0.0f;
    const size_t w1 = std::max<size_t>(1, static_cast<size_t>(std::lround(0.2 * fs_hz)) | 1);
    const size_t w2 = std::max<size_t>(1, static_cast<size_t>(std::lround(0.6 * fs_hz)) | 1);
    const std::vector<float> baseline = moving_median(moving_median(clean, w1), w2);
    for (size_t t = 0; t < clean.size(); t++) clean[t] -= baseline[t];
    return clean;
}

result<network_input> ecg_prepare_input(const ecg_record &record) {
    network_input input;
    const size_t window = k_network_window_samples;
    const size_t n_500 = static_cast<size_t>(std::llround(record.duration_s() * k_network_fs_hz));
    if (n_500 < window)
        return status::error(status_code::invalid_argument, "prepare: the recording lasts %.2f s; the network needs at least 2.5 s",
                             record.duration_s());
    const bool philips_layout = n_500 >= 4 * window;
    if (!philips_layout)
        input.warnings.push_back("the recording is shorter than 10 s: every lead uses its first 2.5 s instead of the "
                                 "Philips print layout the network was trained on");
    input.values_mv.assign(k_standard_lead_count * window, 0.0f);
    for (int l = 0; l < k_standard_lead_count; l++) {
        const ecg_lead *lead = record.find(static_cast<lead_id>(l));
        if (!lead) {
            // name what the record has, so the user sees why (a 2-lead Holter strip, a 3-lead record, ...)
            std::string have;
            for (const ecg_lead &other : record.leads) have += (have.empty() ? "" : ", ") + other.name;
            return status::error(status_code::invalid_argument,
                                 "prepare: lead %s is missing: the network needs the 12 standard leads; this record has %zu (%s)",
                                 lead_id_name(static_cast<lead_id>(l)), record.leads.size(), have.c_str());
        }
        size_t missing = 0;
        for (float v : lead->samples_uv) missing += std::isfinite(v) ? 0 : 1;
        if (missing) input.warnings.push_back("lead " + lead->name + ": " + std::to_string(missing) + " missing samples read as 0");
        const std::vector<float> at_500 = dsp_remove_baseline(dsp_resample(lead->samples_uv, record.fs_hz, k_network_fs_hz), k_network_fs_hz);
        const size_t start = philips_layout ? static_cast<size_t>(l / 3) * window : 0;
        input.window_start[l] = start;
        for (size_t t = 0; t < window; t++)
            input.values_mv[static_cast<size_t>(l) * window + t] = start + t < at_500.size() ? at_500[start + t] / 1000.0f : 0.0f;
    }
    // The quality warnings (flat, saturated, noisy leads, mains, electrode reversal, pacing) so that every
    // prediction carries them; they change nothing above. Missing leads, missing samples and the duration are
    // said above already.
    for (const quality_warning &w : ecg_check_quality(record))
        if (w.kind != "missing" && w.kind != "missing_samples" && w.kind != "too_short") input.warnings.push_back(w.message);
    return input;
}

}  // namespace kalium
