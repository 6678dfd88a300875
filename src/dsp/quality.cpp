// dsp/quality.cpp: signal-quality checks (see kalium.h, ecg_check_quality). Each warning names its lead(s).
//
//   missing / missing_samples  a standard lead absent, or NaN samples in one
//   flat        a lead whose peak-to-peak is under 20 uV, or that is flat (< 10 uV in a second) for >= 2 s
//   saturated   >= 3 runs of >= 10 ms (>= 50 ms in all) sitting exactly at the lead's maximum or minimum,
//               entered or left steeply (more than 4 amplitude steps within 2 samples: not a quantised smooth peak)
//   noise       high-frequency noise: median over 200 ms windows of the second difference's RMS / sqrt 6
//               (mains removed) > 30 uV
//   mains       the detected mains line >= 20 uV in a lead
//   reversal    right-arm/left-arm reversal: in the median beat, QRS and P (or T, when there is no P) negative
//               in lead I while the QRS is positive in aVR
//   pacing      >= 3 spikes (>= 1 mV against the samples 2 ms either side) seen in two leads at once
//   too_short   under the 10 s the network reads
#include "dsp-internal.h"
#include "kalium.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kalium {

namespace {

std::string fmt(const char *format, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char *format, ...) {
    char text[512];
    va_list args;
    va_start(args, format);
    std::vsnprintf(text, sizeof text, format, args);
    va_end(args);
    return text;
}

// "lead V1" or "leads I, II, aVR".
std::string leads_text(const std::vector<std::string> &names) {
    std::string out = names.size() == 1 ? "lead " : "leads ";
    for (size_t k = 0; k < names.size(); k++) out += (k ? ", " : "") + names[k];
    return out;
}

std::string joined(const std::vector<std::string> &names) {
    std::string out;
    for (size_t k = 0; k < names.size(); k++) out += (k ? ", " : "") + names[k];
    return out;
}

// Median-beat area of a lead between two sample positions of the median beat.
double median_area(const ecg_analysis &a, int lead, double from, double to) {
    const auto &m = a.median_uv[static_cast<size_t>(lead)];
    double s = 0;
    for (long t = std::max(0L, static_cast<long>(std::ceil(from))); t <= std::min(static_cast<long>(m.size()) - 1, static_cast<long>(std::floor(to))); t++)
        s += m[static_cast<size_t>(t)];
    return s;
}

}  // namespace

namespace dsp {

std::vector<quality_warning> check_quality(const ecg_record &record, const ecg_analysis *analysis) {
    std::vector<quality_warning> out;
    const double fs = record.fs_hz;
    if (!(fs > 0)) return out;
    auto samples = [&](double seconds) { return static_cast<size_t>(std::max(1L, std::lround(seconds * fs))); };

    for (int l = 0; l < k_standard_lead_count; l++) {
        const char *name = lead_id_name(static_cast<lead_id>(l));
        if (!record.find(static_cast<lead_id>(l))) out.push_back({name, "missing", fmt("lead %s: missing from the record", name)});
    }
    if (record.duration_s() < 10.0)
        out.push_back({"all", "too_short",
                       fmt("all leads: the recording lasts %.1f s; the network reads 10 s (at least 2.5 s, every lead from its start)",
                           record.duration_s())});

    const double mains_hz = analysis ? analysis->mains_hz : dsp_detect_mains_hz(record);  // found once per record
    std::vector<std::string> mains_leads, pacing_leads;
    double mains_max_uv = 0;
    std::vector<std::vector<size_t>> spikes;  // per lead, native samples
    for (const ecg_lead &lead : record.leads) {
        if (lead.id == lead_id::other) continue;
        const std::string &name = lead.name;
        const size_t n = lead.samples_uv.size();
        if (n == 0) continue;
        size_t missing = 0;
        for (float v : lead.samples_uv) missing += std::isfinite(v) ? 0 : 1;
        if (missing)
            out.push_back({name, "missing_samples",
                           fmt("lead %s: %zu of %zu samples missing (%.1f %%)", name.c_str(), missing, n, 100.0 * missing / n)});
        if (missing == n) continue;
        const std::vector<float> x = finite_copy(lead.samples_uv);

        // Flat: the whole lead, or whole seconds of it.
        float lo = INFINITY, hi = -INFINITY;
        for (size_t t = 0; t < n; t++)
            if (std::isfinite(lead.samples_uv[t])) lo = std::min(lo, x[t]), hi = std::max(hi, x[t]);
        if (hi - lo < 20.0f) {
            out.push_back({name, "flat", fmt("lead %s: flat (peak-to-peak %.0f uV over %.1f s): electrode off or lead not recorded", name.c_str(),
                                             double(hi - lo), record.duration_s())});
            continue;
        }
        const size_t second = samples(1.0);
        size_t flat_seconds = 0;
        for (size_t b = 0; b + second <= n; b += second) {
            const auto [wlo, whi] = std::minmax_element(x.begin() + static_cast<std::ptrdiff_t>(b), x.begin() + static_cast<std::ptrdiff_t>(b + second));
            if (*whi - *wlo < 10.0f) flat_seconds++;
        }
        if (flat_seconds >= 2)
            out.push_back({name, "flat", fmt("lead %s: flat for %zu s of %.1f s (electrode lost contact?)", name.c_str(), flat_seconds, record.duration_s())});

        // Saturated: runs at exactly the extreme values.
        const size_t min_run = std::max<size_t>(3, samples(0.010));
        // The recording's amplitude step (the smallest change between samples): a smooth peak of a coarsely
        // quantised recording can sit on one value for 10 ms, but it arrives there a step or two at a time;
        // a clipped wave arrives steeply.
        float step = INFINITY;
        for (size_t t = 1; t < n; t++)
            if (x[t] != x[t - 1]) step = std::min(step, std::fabs(x[t] - x[t - 1]));
        size_t at_max = 0, at_min = 0, runs = 0;
        for (size_t t = 0; t < n;) {
            size_t e = t;
            while (e < n && x[e] == x[t]) e++;
            // over two samples before and after (one may fall just beside the clipping level)
            const bool steep_in = t > 1 && std::fabs(x[t - 2] - x[t]) > 4.0f * step;
            const bool steep_out = e + 1 < n && std::fabs(x[e + 1] - x[t]) > 4.0f * step;
            if (e - t >= min_run && (x[t] == hi || x[t] == lo) && (steep_in || steep_out)) (x[t] == hi ? at_max : at_min) += e - t, runs++;
            t = e;
        }
        // Clipping flattens beat after beat: at least 3 runs (one constant stretch, such as padding at the end
        // of a file, is not saturation).
        if (runs >= 3 && (at_max + at_min) >= samples(0.050))
            out.push_back({name, "saturated",
                           fmt("lead %s: saturated: %.0f ms at its limits (%.0f / %.0f uV); amplitudes there are clipped", name.c_str(),
                               1000.0 * (at_max + at_min) / fs, double(hi), double(lo))});

        // High-frequency noise (mains notched out first): the second difference, which ECG waves hardly have at
        // these rates but white noise has with 6x its variance; median over 200 ms windows of its RMS / sqrt 6
        // (so QRS complexes, a minority of windows, do not count).
        {
            const std::vector<float> y = mains_hz > 0 ? dsp_remove_mains(x, fs, mains_hz) : x;
            const size_t window = samples(0.2);
            std::vector<float> rms;
            for (size_t b = 1; b + window + 1 <= n; b += window) {
                double s = 0;
                for (size_t t = b; t < b + window; t++) {
                    const double d2 = double(y[t + 1]) - 2.0 * y[t] + y[t - 1];
                    s += d2 * d2;
                }
                rms.push_back(static_cast<float>(std::sqrt(s / window / 6.0)));
            }
            const float noise_uv = median_of(rms);
            if (noise_uv > 30.0f)
                out.push_back({name, "noise", fmt("lead %s: high-frequency noise (%.0f uV RMS): muscle tremor or a poor electrode contact?",
                                                  name.c_str(), double(noise_uv))});
        }
        if (mains_hz > 0) {
            const double amplitude = tone_amplitude_uv(x, fs, mains_hz);
            if (amplitude >= 20.0) {
                mains_leads.push_back(name);
                mains_max_uv = std::max(mains_max_uv, amplitude);
            }
        }

        // Pacing spikes: >= 1 mV against the mean of the samples 2 ms before and after, and a local extreme.
        std::vector<size_t> found;
        const size_t w = samples(0.002);
        for (size_t t = w; t + w < n; t++) {
            const float d = x[t] - 0.5f * (x[t - w] + x[t + w]);
            if (std::fabs(d) >= 1000.0f && (found.empty() || t > found.back() + samples(0.02))) found.push_back(t);
        }
        if (!found.empty()) pacing_leads.push_back(name);
        spikes.push_back(std::move(found));
    }
    if (!mains_leads.empty())
        out.push_back({joined(mains_leads), "mains",
                       fmt("%s: %.0f Hz mains interference (up to %.0f uV); removed for measurement and display only", leads_text(mains_leads).c_str(),
                           mains_hz, mains_max_uv)});
    // Spikes in two leads within 4 ms of each other are one pacing event.
    size_t events = 0;
    {
        std::vector<size_t> all;
        for (const auto &s : spikes) all.insert(all.end(), s.begin(), s.end());
        std::sort(all.begin(), all.end());
        for (size_t k = 0; k + 1 < all.size();) {
            size_t e = k + 1;
            while (e < all.size() && all[e] <= all[k] + samples(0.004)) e++;
            if (e - k >= 2) events++;
            k = e;
        }
    }
    if (events >= 3)
        out.push_back({joined(pacing_leads), "pacing",
                       fmt("%s: %zu pacing spikes in %.1f s: a paced rhythm? the measurements may be those of paced beats",
                           leads_text(pacing_leads).c_str(), events, record.duration_s())});

    // Right-arm / left-arm reversal, from the median beat.
    if (analysis && !analysis->median_uv.empty() && analysis->fiducials.qrs_onset_ms && analysis->fiducials.qrs_offset_ms) {
        const double f0 = static_cast<double>(analysis->median_fiducial), per_ms = k_network_fs_hz / 1000.0;
        const ecg_fiducials &f = analysis->fiducials;
        const double qrs_from = f0 + *f.qrs_onset_ms * per_ms, qrs_to = f0 + *f.qrs_offset_ms * per_ms;
        const double qrs_i = median_area(*analysis, 0, qrs_from, qrs_to), qrs_avr = median_area(*analysis, 3, qrs_from, qrs_to);
        std::optional<double> second_i;
        const char *second = "P";
        if (f.p_onset_ms && f.p_offset_ms) {
            second_i = median_area(*analysis, 0, f0 + *f.p_onset_ms * per_ms, f0 + *f.p_offset_ms * per_ms);
        } else if (f.t_end_ms) {
            second = "T";
            second_i = median_area(*analysis, 0, qrs_to, f0 + *f.t_end_ms * per_ms);
        }
        if (qrs_i < 0 && qrs_avr > 0 && second_i && *second_i < 0)
            out.push_back({"I, aVR, aVL", "reversal",
                           fmt("leads I, aVR, aVL: QRS and %s negative in lead I, QRS positive in aVR: right-arm/left-arm electrode "
                               "reversal? (or dextrocardia)",
                               second)});
    }
    return out;
}

}  // namespace dsp

std::vector<quality_warning> ecg_check_quality(const ecg_record &record) {
    std::optional<ecg_analysis> analysis;
    bool has_12 = true;
    for (int l = 0; l < k_standard_lead_count; l++) has_12 = has_12 && record.find(static_cast<lead_id>(l));
    if (has_12 && record.duration_s() >= 2.5) {
        auto a = dsp::measure_core(record);
        if (a.ok()) analysis = std::move(a.value());
    }
    return dsp::check_quality(record, analysis ? &*analysis : nullptr);
}

}  // namespace kalium
