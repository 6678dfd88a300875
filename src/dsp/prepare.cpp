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
//
// moving_median_part computes it at positions [from, to) of a signal of n_total samples of which `values` holds
// positions [values_from, values_from + values.size()): each window is the same part of the same signal as in
// the whole computation, so each value is the same (every window must lie inside `values`).
std::vector<float> moving_median_part(const std::vector<float> &values, size_t values_from, size_t n_total, size_t width,
                                      size_t from, size_t to) {
    to = std::min(to, n_total);
    std::vector<float> out(to > from ? to - from : 0);
    if (out.empty()) return out;
    const size_t half = width / 2;
    std::vector<float> window;
    window.reserve(width + 1);
    size_t lo = from >= half ? from - half : 0, hi = lo;  // window holds positions [lo, hi)
    for (size_t t = from; t < to; t++) {
        const size_t want_lo = t >= half ? t - half : 0;
        const size_t want_hi = std::min(n_total, t + half + 1);
        // Inside the signal one sample leaves as one arrives: replace it in place, moving only the values
        // between the two positions (the window holds the same values as by an erase and an insert).
        while (hi < want_hi && lo < want_lo) {
            const float gone = values[lo++ - values_from], v = values[hi++ - values_from];
            auto at = std::lower_bound(window.begin(), window.end(), gone);
            auto to_it = std::upper_bound(window.begin(), window.end(), v);
            if (to_it > at) {
                std::move(at + 1, to_it, at);
                *(to_it - 1) = v;
            } else {
                std::move_backward(to_it, at, at + 1);
                *to_it = v;
            }
        }
        while (hi < want_hi) {
            const float v = values[hi++ - values_from];
            window.insert(std::upper_bound(window.begin(), window.end(), v), v);
        }
        while (lo < want_lo) window.erase(std::lower_bound(window.begin(), window.end(), values[lo++ - values_from]));
        out[t - from] = window[window.size() / 2];
    }
    return out;
}

std::vector<float> moving_median(const std::vector<float> &x, size_t width) { return moving_median_part(x, 0, x.size(), width, 0, x.size()); }

}  // namespace

namespace {

// dsp_resample's output samples [m_from, m_to) only (out[m - m_from]), each computed exactly as dsp_resample
// computes it (every output sample is its own sum).
// `n_out` receives the whole output's length.
std::vector<float> resample_range(const std::vector<float> &samples, double fs_in_hz, double fs_out_hz, size_t m_from, size_t m_to,
                                  size_t &n_out_total) {
    n_out_total = 0;
    if (samples.empty() || !(fs_in_hz > 0) || !(fs_out_hz > 0)) return {};
    if (fs_in_hz == fs_out_hz) {
        n_out_total = samples.size();
        m_to = std::min(m_to, samples.size());
        std::vector<float> out(samples.begin() + static_cast<std::ptrdiff_t>(std::min(m_from, m_to)), samples.begin() + static_cast<std::ptrdiff_t>(m_to));
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
    n_out_total = n_out;
    m_to = std::min(m_to, n_out);
    std::vector<float> out(m_to > m_from ? m_to - m_from : 0);
    for (size_t m = m_from; m < m_to; m++) {
        // Output sample m sits at upsampled position m*down; input sample j sits at j*up.
        const long long centre = static_cast<long long>(m) * down;
        const long long j_first = (centre - half_taps + up - 1) >= 0 ? (centre - half_taps + up - 1) / up : 0;
        const long long j_last = std::min<long long>(static_cast<long long>(n_in) - 1, (centre + half_taps) / up);
        double acc = 0.0;
        for (long long j = j_first; j <= j_last; j++) {
            const float v = samples[static_cast<size_t>(j)];
            if (std::isfinite(v)) acc += taps[static_cast<size_t>(j * up - centre + half_taps)] * v;
        }
        out[m - m_from] = static_cast<float>(acc);
    }
    return out;
}

}  // namespace

std::vector<float> dsp_resample(const std::vector<float> &samples, double fs_in_hz, double fs_out_hz) {
    size_t n_out = 0;
    return resample_range(samples, fs_in_hz, fs_out_hz, 0, SIZE_MAX, n_out);
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

namespace {

// ecg_prepare_input's values and its own warnings (the quality checks' come after).
result<network_input> prepare_values(const ecg_record &record) {
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
        const size_t start = philips_layout ? static_cast<size_t>(l / 3) * window : 0;
        input.window_start[l] = start;
        // Only the part of the lead the window needs is resampled and filtered: the first moving median reaches
        // w1/2 and the second w2/2 samples beyond it. Each value is exactly what
        // dsp_remove_baseline(dsp_resample(lead)) gives there (tests/dsp/test-prepare.cpp pins this), at about a
        // third of the cost.
        const size_t w1 = std::max<size_t>(1, static_cast<size_t>(std::lround(0.2 * k_network_fs_hz)) | 1);
        const size_t w2 = std::max<size_t>(1, static_cast<size_t>(std::lround(0.6 * k_network_fs_hz)) | 1);
        const size_t first_from = start >= w2 / 2 ? start - w2 / 2 : 0, first_to = start + window + w2 / 2;
        const size_t part_from = first_from >= w1 / 2 ? first_from - w1 / 2 : 0, part_to = first_to + w1 / 2;
        size_t n_lead = 0;  // the whole resampled lead's length
        std::vector<float> part = resample_range(lead->samples_uv, record.fs_hz, k_network_fs_hz, part_from, part_to, n_lead);
        for (float &v : part)
            if (!std::isfinite(v)) v = 0.0f;
        const std::vector<float> first = moving_median_part(part, part_from, n_lead, w1, first_from, first_to);
        const std::vector<float> baseline = moving_median_part(first, first_from, n_lead, w2, start, start + window);
        for (size_t t = 0; t < window; t++)
            input.values_mv[static_cast<size_t>(l) * window + t] =
                start + t < n_lead ? (part[start + t - part_from] - baseline[t]) / 1000.0f : 0.0f;
    }
    return input;
}

}  // namespace

result<network_input> ecg_prepare_input(const ecg_record &record, const std::vector<quality_warning> &quality) {
    result<network_input> input = prepare_values(record);
    if (!input.ok()) return input;
    // The quality warnings (flat, saturated or noisy leads, mains, electrode reversal, pacing) so that every
    // prediction carries them; they change nothing above. Missing leads, missing samples and the duration are
    // said by prepare_values already.
    for (const quality_warning &w : quality)
        if (w.kind != "missing" && w.kind != "missing_samples" && w.kind != "too_short") input->warnings.push_back(w.message);
    // and the reliability mark every estimate from this input carries (kalium.h, ecg_reliability_reasons)
    input->reliability_reasons = ecg_reliability_reasons(quality);
    return input;
}

result<network_input> ecg_prepare_input(const ecg_record &record) {
    result<network_input> input = prepare_values(record);
    if (!input.ok()) return input;  // refused before any quality check is paid for
    return ecg_prepare_input(record, ecg_check_quality(record));
}

}  // namespace kalium
