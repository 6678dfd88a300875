// dsp/dsp-test-util.h: synthetic 12-lead ECGs of known intervals and axes, and beat matching, for the dsp tests.
//   make_synthetic_ecg(spec)          a beat train whose P, QRS and T waves start and end where spec says
//   match_beats(ref, det, window)     true/false positives within a match window, and the timing offsets
#pragma once

#include "kalium.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

struct synthetic_beats {
    double fs_hz = 500.0, duration_s = 10.0, hr_bpm = 75.0;
    double pr_ms = 160.0, p_ms = 100.0, qrs_ms = 90.0, qt_ms = 400.0, t_ms = 200.0;  // PR and QT from the QRS onset
    double p_axis_deg = 60.0, qrs_axis_deg = 45.0, t_axis_deg = 40.0;
    double p_uv = 150.0, r_uv = 1200.0, t_uv = 350.0;
    double noise_uv = 0.0;  // white noise RMS
    // Beats (0-based) that are premature ventricular complexes: 35 % of an RR early, no P, a wide QRS of
    // another axis and a discordant T.
    std::vector<int> pvc_beats;
};

struct synthetic_ecg {
    kalium::ecg_record record;           // 12 standard leads at spec.fs_hz
    std::vector<int64_t> r_peaks;        // samples of each R peak
    std::vector<int64_t> qrs_onsets;
};

// Raised-cosine lobe on [start, start + width): exactly 0 outside it, 1 at its middle.
inline double lobe(double t, double start, double width) {
    if (t <= start || t >= start + width) return 0.0;
    return 0.5 - 0.5 * std::cos(2.0 * 3.14159265358979323846 * (t - start) / width);
}

// Each wave is one frontal-plane dipole of the given axis (plus a fixed forward part for the chest leads)
// times a waveform: P and T one lobe each, the QRS a small Q, a tall R and an S lobe spanning spec.qrs_ms.
inline synthetic_ecg make_synthetic_ecg(const synthetic_beats &spec) {
    const double k_pi = 3.14159265358979323846, fs = spec.fs_hz;
    const size_t n = static_cast<size_t>(std::llround(spec.duration_s * fs));
    const double rr_s = 60.0 / spec.hr_bpm;
    synthetic_ecg out;
    std::vector<double> beat_r_s;
    for (double r = 0.6; r + 0.45 < spec.duration_s; r += rr_s) beat_r_s.push_back(r);
    // QRS lobes: Q 22 %, R 44 %, S 34 % of the QRS; R peak at the middle of the R lobe.
    std::vector<double> ex(n), ey(n), ez(n);
    for (size_t b = 0; b < beat_r_s.size(); b++) {
        bool pvc = false;
        for (int k : spec.pvc_beats) pvc = pvc || static_cast<size_t>(k) == b;
        const double qrs_ms = pvc ? 150.0 : spec.qrs_ms;
        const double q_w = 0.22 * qrs_ms / 1000, r_w = 0.44 * qrs_ms / 1000, s_w = 0.34 * qrs_ms / 1000;
        const double r_peak_from_onset = q_w + r_w / 2;
        const double r = beat_r_s[b] - (pvc ? 0.35 * rr_s : 0.0);
        const double qrs_on = r - r_peak_from_onset;
        out.r_peaks.push_back(std::llround(r * fs));
        out.qrs_onsets.push_back(std::llround(qrs_on * fs));
        const double p_on = qrs_on - spec.pr_ms / 1000, t_end = qrs_on + spec.qt_ms / 1000, t_on = t_end - spec.t_ms / 1000;
        const size_t lo = static_cast<size_t>(std::max(0.0, (p_on - 0.01) * fs));
        const size_t hi = std::min(n, static_cast<size_t>((t_end + 0.01) * fs));
        for (size_t k = lo; k < hi; k++) {
            const double t = k / fs;
            const double p = pvc ? 0.0 : spec.p_uv * lobe(t, p_on, spec.p_ms / 1000);
            const double qrs = spec.r_uv * (-0.15 * lobe(t, qrs_on, q_w) + lobe(t, qrs_on + q_w, r_w) - 0.25 * lobe(t, qrs_on + q_w + r_w, s_w));
            const double tw = spec.t_uv * lobe(t, t_on, spec.t_ms / 1000);
            auto add = [&](double value, double axis_deg, double forward) {
                ex[k] += value * std::cos(axis_deg * k_pi / 180);
                ey[k] += value * std::sin(axis_deg * k_pi / 180);
                ez[k] += value * forward;
            };
            add(p, spec.p_axis_deg, 0.2);
            add(pvc ? 1.4 * qrs : qrs, pvc ? -70.0 : spec.qrs_axis_deg, pvc ? 0.8 : -0.6);
            add(tw, pvc ? 110.0 : spec.t_axis_deg, 0.3);
        }
    }
    std::mt19937 rng(12345);
    std::normal_distribution<double> noise(0.0, 1.0);
    // Chest leads: fixed mixtures of the three components, V1 mostly backward-facing, V6 mostly leftward.
    const double chest[6][3] = {{-0.3, 0.1, 1.0}, {0.0, 0.2, 1.1}, {0.4, 0.3, 0.8}, {0.8, 0.4, 0.4}, {1.0, 0.4, 0.0}, {1.0, 0.3, -0.2}};
    out.record.fs_hz = fs;
    out.record.format = "synthetic";
    for (int l = 0; l < kalium::k_standard_lead_count; l++) {
        kalium::ecg_lead lead;
        lead.id = static_cast<kalium::lead_id>(l);
        lead.name = kalium::lead_id_name(lead.id);
        lead.units = "uV";
        lead.samples_uv.resize(n);
        for (size_t k = 0; k < n; k++) {
            const double i = ex[k], ii = 0.5 * ex[k] + std::sqrt(3.0) / 2 * ey[k];
            double v = 0;
            switch (l) {
            case 0: v = i; break;
            case 1: v = ii; break;
            case 2: v = ii - i; break;
            case 3: v = -(i + ii) / 2; break;
            case 4: v = i - ii / 2; break;
            case 5: v = ii - i / 2; break;
            default: v = chest[l - 6][0] * ex[k] + chest[l - 6][1] * ey[k] + chest[l - 6][2] * ez[k];
            }
            if (spec.noise_uv > 0) v += spec.noise_uv * noise(rng);
            lead.samples_uv[k] = static_cast<float>(v);
        }
        out.record.leads.push_back(std::move(lead));
    }
    return out;
}

struct beat_match {
    int true_positives = 0, false_negatives = 0, false_positives = 0;
    double offset_mean = 0, offset_sd = 0;  // detected - reference, samples, over the matched beats
};

// Each reference beat takes the nearest unused detection within +-window samples.
template <class D>
beat_match match_beats(const std::vector<int64_t> &reference, const std::vector<D> &detected, int64_t window) {
    beat_match m;
    std::vector<bool> used(detected.size(), false);
    std::vector<double> offsets;
    size_t first = 0;
    for (int64_t r : reference) {
        while (first < detected.size() && static_cast<int64_t>(detected[first]) < r - window) first++;
        size_t best = detected.size();
        for (size_t k = first; k < detected.size() && static_cast<int64_t>(detected[k]) <= r + window; k++)
            if (!used[k] && (best == detected.size() || std::llabs(static_cast<int64_t>(detected[k]) - r) <
                                                             std::llabs(static_cast<int64_t>(detected[best]) - r)))
                best = k;
        if (best == detected.size()) {
            m.false_negatives++;
            continue;
        }
        used[best] = true;
        m.true_positives++;
        offsets.push_back(static_cast<double>(static_cast<int64_t>(detected[best]) - r));
    }
    for (bool u : used) m.false_positives += u ? 0 : 1;
    if (!offsets.empty()) {
        for (double o : offsets) m.offset_mean += o;
        m.offset_mean /= static_cast<double>(offsets.size());
        for (double o : offsets) m.offset_sd += (o - m.offset_mean) * (o - m.offset_mean);
        m.offset_sd = std::sqrt(m.offset_sd / static_cast<double>(offsets.size()));
    }
    return m;
}
