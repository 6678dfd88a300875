// dsp/filters.cpp: second-order sections, zero-phase filtering, the display filters and mains interference
// detection and removal (see kalium.h, "Signal quality and measurements"). Used for display and measurement
// only: ecg_prepare_input (what the network sees) never calls these.
#include "dsp-internal.h"
#include "kalium.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numeric>

namespace kalium {

namespace dsp {

namespace {

// Cookbook forms share w0 = 2 pi f / fs and alpha = sin(w0) / (2 q).
biquad normalised(double b0, double b1, double b2, double a0, double a1, double a2) {
    return biquad{b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0};
}

// Runs one section over every lead of a time-major buffer (x[t * leads + l]), forward or backward, each lead
// starting in the steady state of its first input (direct form II transposed). The leads' recurrences are
// independent, so the inner loop over them runs in parallel on the vector units.
void run_section(std::vector<double> &x, size_t leads, const biquad &s, bool backward) {
    const size_t steps = x.size() / leads;
    if (steps == 0) return;
    const double dc_gain = (s.b0 + s.b1 + s.b2) / (1.0 + s.a1 + s.a2);
    std::vector<double> z1(leads), z2(leads);
    const size_t first = backward ? steps - 1 : 0;
    for (size_t l = 0; l < leads; l++) {
        const double u = x[first * leads + l], y0 = dc_gain * u;
        z2[l] = s.b2 * u - s.a2 * y0;
        z1[l] = s.b1 * u - s.a1 * y0 + z2[l];
    }
    for (size_t k = 0; k < steps; k++) {
        double *row = &x[(backward ? steps - 1 - k : k) * leads];
        for (size_t l = 0; l < leads; l++) {
            const double in = row[l], out = s.b0 * in + z1[l];
            z1[l] = s.b1 * in - s.a1 * out + z2[l];
            z2[l] = s.b2 * in - s.a2 * out;
            row[l] = out;
        }
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

void filter_zero_phase_leads(std::vector<std::vector<float>> &leads, const std::vector<biquad> &sections, size_t pad) {
    const size_t count = leads.size();
    if (count == 0 || sections.empty()) return;
    const size_t n = leads[0].size();
    for (const auto &lead : leads)
        if (lead.size() != n) return;  // a programming error; leave the signals as they are
    if (n < 2) return;
    pad = std::min(pad, n - 1);
    const size_t steps = n + 2 * pad;
    std::vector<double> ext(steps * count);
    for (size_t l = 0; l < count; l++) {
        const std::vector<float> &x = leads[l];
        for (size_t k = 0; k < pad; k++) {
            ext[(pad - 1 - k) * count + l] = 2.0 * x[0] - x[k + 1];
            ext[(pad + n + k) * count + l] = 2.0 * x[n - 1] - x[n - 2 - k];
        }
        for (size_t t = 0; t < n; t++) ext[(pad + t) * count + l] = x[t];
    }
    for (const biquad &s : sections) run_section(ext, count, s, false);
    for (const biquad &s : sections) run_section(ext, count, s, true);
    for (size_t l = 0; l < count; l++)
        for (size_t t = 0; t < n; t++) leads[l][t] = static_cast<float>(ext[(pad + t) * count + l]);
}

void filter_zero_phase(std::vector<float> &x, const std::vector<biquad> &sections, size_t pad) {
    std::vector<std::vector<float>> one(1);
    one[0].swap(x);
    filter_zero_phase_leads(one, sections, pad);
    x.swap(one[0]);
}

double sections_gain(const std::vector<biquad> &sections, double f_hz, double fs_hz) {
    const std::complex<double> z1 = std::polar(1.0, -2 * k_pi * f_hz / fs_hz), z2 = z1 * z1;
    double gain = 1.0;
    for (const biquad &s : sections) gain *= std::abs((s.b0 + s.b1 * z1 + s.b2 * z2) / (1.0 + s.a1 * z1 + s.a2 * z2));
    return gain;
}

std::vector<float> resample_for_measurement(const std::vector<float> &samples, double fs_in_hz, double fs_out_hz) {
    if (samples.empty() || !(fs_in_hz > 0) || !(fs_out_hz > 0)) return {};
    std::vector<float> x = finite_copy(samples);
    if (fs_in_hz == fs_out_hz) return x;
    // The ratio and the filter of dsp_resample (low-pass at 90 % of the lower Nyquist rate, Kaiser beta 8.6),
    // with 8 zero crossings each side instead of 16, its taps in float and split by phase so that each output
    // is one contiguous dot product.
    const long long in_mhz = std::llround(fs_in_hz * 1000.0), out_mhz = std::llround(fs_out_hz * 1000.0);
    const long long g = std::gcd(in_mhz, out_mhz);
    long long up = out_mhz / g, down = in_mhz / g;
    if (up > 4096 || down > 4096) {
        up = std::llround(fs_out_hz / fs_in_hz * 1000.0);
        down = 1000;
        const long long g2 = std::gcd(up, down);
        up /= g2;
        down /= g2;
    }
    const double cutoff = 0.9 * 0.5 / static_cast<double>(std::max(up, down));
    const long long half_taps = static_cast<long long>(std::ceil(8.0 / (2.0 * cutoff)));
    auto bessel_i0 = [](double v) {
        double sum = 1.0, term = 1.0;
        for (int k = 1; k < 50; k++) {
            term *= (v / (2.0 * k)) * (v / (2.0 * k));
            sum += term;
            if (term < 1e-12 * sum) break;
        }
        return sum;
    };
    const double beta = 8.6, i0_beta = bessel_i0(beta);
    auto tap = [&](long long k) {
        const double kx = static_cast<double>(k);
        const double sinc = k == 0 ? 2.0 * cutoff : std::sin(2.0 * k_pi * cutoff * kx) / (k_pi * kx);
        const double r = kx / static_cast<double>(half_taps);
        return sinc * bessel_i0(beta * std::sqrt(std::max(0.0, 1.0 - r * r))) / i0_beta * static_cast<double>(up);
    };
    const size_t n_in = x.size();
    const size_t n_out = static_cast<size_t>(std::llround(static_cast<double>(n_in) * up / down));
    // Output m uses inputs j with |j*up - m*down| <= half_taps; its phase is (m*down) mod up.
    const long long span = 2 * half_taps / up + 2;
    std::vector<std::vector<float>> phase_taps(static_cast<size_t>(up));
    for (long long p = 0; p < up; p++) {
        // inputs j = j0 + i, j0 = ceil((c - half_taps) / up) with c = p (mod up) taken as c = p
        const long long j0 = (p - half_taps >= 0) ? (p - half_taps + up - 1) / up : -((half_taps - p) / up);
        for (long long i = 0; i < span; i++) {
            const long long k = (j0 + i) * up - p;
            phase_taps[static_cast<size_t>(p)].push_back(std::llabs(k) <= half_taps ? static_cast<float>(tap(k)) : 0.0f);
        }
    }
    std::vector<float> out(n_out);
    for (size_t m = 0; m < n_out; m++) {
        const long long c = static_cast<long long>(m) * down, p = c % up, q = c / up;
        const long long j0 = q + ((p - half_taps >= 0) ? (p - half_taps + up - 1) / up : -((half_taps - p) / up));
        const std::vector<float> &t = phase_taps[static_cast<size_t>(p)];
        float acc = 0.0f;
        if (j0 >= 0 && j0 + span <= static_cast<long long>(n_in)) {
            const float *xs = &x[static_cast<size_t>(j0)];
            for (long long i = 0; i < span; i++) acc += t[static_cast<size_t>(i)] * xs[i];
        } else {
            for (long long i = 0; i < span; i++) {
                const long long j = j0 + i;
                if (j >= 0 && j < static_cast<long long>(n_in)) acc += t[static_cast<size_t>(i)] * x[static_cast<size_t>(j)];
            }
        }
        out[m] = acc;
    }
    return out;
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

// At most the first 60 s of x, NaN as 0, times a Hann window (so that the QRS complexes' broad spectrum leaks
// little into a tone's estimate); `weight` is the window's sum.
std::vector<double> hann_windowed(const std::vector<float> &x, double fs_hz, double &weight) {
    const size_t n = std::min(x.size(), static_cast<size_t>(60.0 * fs_hz));
    std::vector<double> out(n);
    weight = 0;
    // cos(2 pi (t + 0.5) / n) by rotation: no trigonometry per sample.
    const double step = 2 * k_pi / static_cast<double>(n);
    const std::complex<double> rotate = std::polar(1.0, step);
    std::complex<double> phase = std::polar(1.0, 0.5 * step);
    for (size_t t = 0; t < n; t++) {
        const double hann = 0.5 - 0.5 * phase.real();
        out[t] = hann * (std::isfinite(x[t]) ? x[t] : 0.0);
        weight += hann;
        phase *= rotate;
    }
    return out;
}

// Amplitudes of the sines at each of freqs_hz in the windowed samples (Goertzel's recurrence, all the
// frequencies in one pass: independent recurrences side by side).
std::vector<double> goertzel_amplitudes(const std::vector<double> &windowed, double weight, double fs_hz, const std::vector<double> &freqs_hz) {
    const size_t k_count = freqs_hz.size();
    std::vector<double> out(k_count, 0.0);
    if (windowed.size() < 16 || !(weight > 0)) return out;
    std::vector<double> c(k_count), s1(k_count, 0.0), s2(k_count, 0.0);
    for (size_t k = 0; k < k_count; k++) c[k] = 2 * std::cos(2 * k_pi * freqs_hz[k] / fs_hz);
    for (double v : windowed)
        for (size_t k = 0; k < k_count; k++) {
            const double s0 = v + c[k] * s1[k] - s2[k];
            s2[k] = s1[k];
            s1[k] = s0;
        }
    for (size_t k = 0; k < k_count; k++) {
        const double w = 2 * k_pi * freqs_hz[k] / fs_hz;
        const double re = s1[k] - std::cos(w) * s2[k], im = std::sin(w) * s2[k];
        out[k] = 2.0 * std::sqrt(re * re + im * im) / weight;
    }
    return out;
}

double goertzel_amplitude(const std::vector<double> &windowed, double weight, double fs_hz, double f_hz) {
    return goertzel_amplitudes(windowed, weight, fs_hz, {f_hz})[0];
}

// Amplitude (uV, of a sine) at f_hz over at most the first 60 s, Hann-windowed.
double tone_amplitude_uv(const std::vector<float> &x, double fs_hz, double f_hz) {
    double weight = 0;
    const std::vector<double> windowed = hann_windowed(x, fs_hz, weight);
    return goertzel_amplitude(windowed, weight, fs_hz, f_hz);
}

// A mains line in one lead (Hann-windowed samples): its amplitude and how far it stands above the spectrum
// 2-4 Hz on either side.
mains_line measure_mains_line(const std::vector<double> &windowed, double weight, double fs_hz, double mains_hz) {
    mains_line line;
    if (fs_hz < 2.2 * mains_hz) return line;
    const std::vector<double> a = goertzel_amplitudes(windowed, weight, fs_hz,
                                                      {mains_hz, mains_hz - 4, mains_hz - 3, mains_hz - 2, mains_hz + 2, mains_hz + 3, mains_hz + 4});
    line.amplitude_uv = a[0];
    const double neighbours = (a[1] + a[2] + a[3] + a[4] + a[5] + a[6]) / 6.0;
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
    // Leads kalium derived (Einthoven/Goldberger) add nothing to what the recorded ones show and are skipped.
    int showing[2] = {0, 0};
    double sum_uv[2] = {0, 0};
    const double mains[2] = {50.0, 60.0};
    size_t looked_at = 0;
    for (const ecg_lead &lead : record.leads) {
        if (lead.derived || !(record.fs_hz >= 2.2 * 50.0)) continue;
        looked_at++;
        double weight = 0;
        const std::vector<double> windowed = dsp::hann_windowed(lead.samples_uv, record.fs_hz, weight);
        for (int m = 0; m < 2; m++) {
            const dsp::mains_line line = dsp::measure_mains_line(windowed, weight, record.fs_hz, mains[m]);
            if (line.amplitude_uv >= 5.0 && line.prominence >= 4.0) showing[m]++, sum_uv[m] += line.amplitude_uv;
        }
    }
    double best_hz = 0, best_score = 0;
    for (int m = 0; m < 2; m++) {
        const bool shown = showing[m] >= 2 || (looked_at == 1 && showing[m] == 1);
        const double score = showing[m] * 1e6 + sum_uv[m];
        if (shown && score > best_score) best_score = score, best_hz = mains[m];
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
