// dsp/filters.cpp: second-order sections, zero-phase filtering, the display filters and mains interference
// detection and removal (see kalium.h, "Signal quality and measurements"). Used for display and measurement
// only: ecg_prepare_input (what the network sees) never calls these.
#include "dsp-internal.h"
#include "kalium.h"

#include <algorithm>
#include <cmath>
#include <complex>

namespace kalium {

namespace dsp {

namespace {

// Cookbook forms share w0 = 2 pi f / fs and alpha = sin(w0) / (2 q).
biquad normalised(double b0, double b1, double b2, double a0, double a1, double a2) {
    return biquad{b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0};
}

void run_section(std::vector<double> &x, const biquad &s) {
    if (x.empty()) return;
    // Steady state for a constant input equal to the first sample (direct form II transposed).
    const double dc_gain = (s.b0 + s.b1 + s.b2) / (1.0 + s.a1 + s.a2);
    const double u = x[0], y0 = dc_gain * u;
    double z2 = s.b2 * u - s.a2 * y0;
    double z1 = s.b1 * u - s.a1 * y0 + z2;
    for (double &v : x) {
        const double in = v, out = s.b0 * in + z1;
        z1 = s.b1 * in - s.a1 * out + z2;
        z2 = s.b2 * in - s.a2 * out;
        v = out;
    }
}

}  // namespace

biquad biquad_lowpass(double corner_hz, double fs_hz, double q) {
    const double w0 = 2 * k_pi * corner_hz / fs_hz, c = std::cos(w0), alpha = std::sin(w0) / (2 * q);
    return normalised((1 - c) / 2, 1 - c, (1 - c) / 2, 1 + alpha, -2 * c, 1 - alpha);
}

biquad biquad_highpass(double corner_hz, double fs_hz, double q) {
    const double w0 = 2 * k_pi * corner_hz / fs_hz, c = std::cos(w0), alpha = std::sin(w0) / (2 * q);
    return normalised((1 + c) / 2, -(1 + c), (1 + c) / 2, 1 + alpha, -2 * c, 1 - alpha);
}

biquad biquad_notch(double centre_hz, double fs_hz, double q) {
    const double w0 = 2 * k_pi * centre_hz / fs_hz, c = std::cos(w0), alpha = std::sin(w0) / (2 * q);
    return normalised(1, -2 * c, 1, 1 + alpha, -2 * c, 1 - alpha);
}

void filter_zero_phase(std::vector<float> &x, const std::vector<biquad> &sections, size_t pad) {
    const size_t n = x.size();
    if (n < 2 || sections.empty()) return;
    pad = std::min(pad, n - 1);
    std::vector<double> ext(n + 2 * pad);
    for (size_t k = 0; k < pad; k++) {
        ext[pad - 1 - k] = 2.0 * x[0] - x[k + 1];
        ext[pad + n + k] = 2.0 * x[n - 1] - x[n - 2 - k];
    }
    for (size_t t = 0; t < n; t++) ext[pad + t] = x[t];
    for (const biquad &s : sections) run_section(ext, s);
    std::reverse(ext.begin(), ext.end());
    for (const biquad &s : sections) run_section(ext, s);
    std::reverse(ext.begin(), ext.end());
    for (size_t t = 0; t < n; t++) x[t] = static_cast<float>(ext[pad + t]);
}

double sections_gain(const std::vector<biquad> &sections, double f_hz, double fs_hz) {
    const std::complex<double> z1 = std::polar(1.0, -2 * k_pi * f_hz / fs_hz), z2 = z1 * z1;
    double gain = 1.0;
    for (const biquad &s : sections) gain *= std::abs((s.b0 + s.b1 * z1 + s.b2 * z2) / (1.0 + s.a1 * z1 + s.a2 * z2));
    return gain;
}

std::vector<float> moving_average(const std::vector<float> &x, size_t width) {
    const size_t n = x.size(), half = width / 2;
    std::vector<double> prefix(n + 1, 0.0);
    for (size_t t = 0; t < n; t++) prefix[t + 1] = prefix[t] + x[t];
    std::vector<float> out(n);
    for (size_t t = 0; t < n; t++) {
        const size_t lo = t >= half ? t - half : 0, hi = std::min(n, t + half + 1);
        out[t] = static_cast<float>((prefix[hi] - prefix[lo]) / static_cast<double>(hi - lo));
    }
    return out;
}

float median_of(std::vector<float> values) {
    if (values.empty()) return 0.0f;
    auto mid = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
    std::nth_element(values.begin(), mid, values.end());
    return *mid;
}

double median_of(std::vector<double> values) {
    if (values.empty()) return 0.0;
    auto mid = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
    std::nth_element(values.begin(), mid, values.end());
    return *mid;
}

std::vector<float> finite_copy(const std::vector<float> &x) {
    std::vector<float> out(x);
    for (float &v : out)
        if (!std::isfinite(v)) v = 0.0f;
    return out;
}

// Amplitude (uV, of a sine) at f_hz over at most the first 60 s, Hann-windowed so that the QRS complexes'
// broad spectrum leaks little into the estimate.
double tone_amplitude_uv(const std::vector<float> &x, double fs_hz, double f_hz) {
    const size_t n = std::min(x.size(), static_cast<size_t>(60.0 * fs_hz));
    if (n < 16) return 0.0;
    const double w = 2 * k_pi * f_hz / fs_hz;
    double re = 0, im = 0, wsum = 0;
    for (size_t t = 0; t < n; t++) {
        const double hann = 0.5 - 0.5 * std::cos(2 * k_pi * (t + 0.5) / n);
        const double v = std::isfinite(x[t]) ? x[t] : 0.0;
        re += hann * v * std::cos(w * t);
        im -= hann * v * std::sin(w * t);
        wsum += hann;
    }
    return 2.0 * std::sqrt(re * re + im * im) / wsum;
}

// A mains line in one lead: its amplitude and how far it stands above the spectrum 2-4 Hz on either side.
mains_line measure_mains_line(const std::vector<float> &x, double fs_hz, double mains_hz) {
    mains_line line;
    if (fs_hz < 2.2 * mains_hz) return line;
    line.amplitude_uv = tone_amplitude_uv(x, fs_hz, mains_hz);
    double neighbours = 0;
    for (double d : {-4.0, -3.0, -2.0, 2.0, 3.0, 4.0}) neighbours += tone_amplitude_uv(x, fs_hz, mains_hz + d);
    neighbours /= 6.0;
    line.prominence = line.amplitude_uv / std::max(neighbours, 0.05);
    return line;
}

}  // namespace dsp

std::vector<float> dsp_display_filter(const std::vector<float> &samples_uv, double fs_hz, display_filter filter) {
    std::vector<float> out = dsp::finite_copy(samples_uv);
    if (filter == display_filter::none || !(fs_hz > 0) || out.size() < 2) return out;
    const double low_hz = filter == display_filter::diagnostic ? 0.05 : 0.5;
    const double high_hz = filter == display_filter::diagnostic ? 150.0 : 40.0;
    // Forward-backward squares each section's magnitude: a second-order Butterworth section is -3 dB overall
    // at the asked corner when its own corner is moved by (sqrt 2 - 1)^(1/4) = 0.8023 (up for a low-pass, down
    // for a high-pass), in the bilinear transform's warped frequency so that it holds near Nyquist too.
    const double k_corner = 0.80230;
    auto warped = [&](double f_hz, double factor) { return std::atan(std::tan(dsp::k_pi * f_hz / fs_hz) * factor) * fs_hz / dsp::k_pi; };
    std::vector<dsp::biquad> sections{dsp::biquad_highpass(warped(low_hz, k_corner), fs_hz)};
    if (high_hz < 0.4 * fs_hz) sections.push_back(dsp::biquad_lowpass(warped(high_hz, 1.0 / k_corner), fs_hz));
    dsp::filter_zero_phase(out, sections, static_cast<size_t>(3.0 * fs_hz / low_hz));
    return out;
}

double dsp_detect_mains_hz(const ecg_record &record) {
    // A lead shows mains when its line is at least 5 uV and 4x its spectral neighbourhood; the record shows it
    // when two leads do (or its only lead); 60 Hz wins over 50 Hz when more leads show it (then the larger sum).
    double best_hz = 0, best_score = 0;
    for (double mains_hz : {50.0, 60.0}) {
        int leads_showing = 0;
        double sum_uv = 0;
        for (const ecg_lead &lead : record.leads) {
            const dsp::mains_line line = dsp::measure_mains_line(lead.samples_uv, record.fs_hz, mains_hz);
            if (line.amplitude_uv >= 5.0 && line.prominence >= 4.0) {
                leads_showing++;
                sum_uv += line.amplitude_uv;
            }
        }
        const bool shown = leads_showing >= 2 || (record.leads.size() == 1 && leads_showing == 1);
        const double score = leads_showing * 1e6 + sum_uv;
        if (shown && score > best_score) {
            best_score = score;
            best_hz = mains_hz;
        }
    }
    return best_hz;
}

std::vector<float> dsp_remove_mains(const std::vector<float> &samples_uv, double fs_hz, double mains_hz) {
    std::vector<float> out = dsp::finite_copy(samples_uv);
    if (!(mains_hz > 0) || !(fs_hz > 2.2 * mains_hz) || out.size() < 2) return out;
    // Each notch is 1 Hz wide at -3 dB (q = f / 1 Hz); run forward and backward it is about 1.5 Hz wide.
    std::vector<dsp::biquad> sections{dsp::biquad_notch(mains_hz, fs_hz, mains_hz / 1.0)};
    if (2 * mains_hz < 0.45 * fs_hz) sections.push_back(dsp::biquad_notch(2 * mains_hz, fs_hz, 2 * mains_hz / 1.0));
    dsp::filter_zero_phase(out, sections, static_cast<size_t>(fs_hz));
    return out;
}

}  // namespace kalium
