// dsp/measure.cpp: the median beat, its delineation and the 8 ECG morphology parameters (see kalium.h,
// ecg_measure).
//
// 1. Each standard lead is resampled to 500 Hz; mains interference (when found) is notched out and baseline
//    wander removed with a zero-phase 0.5 Hz high-pass (display and measurement only: the network input is
//    made by ecg_prepare_input alone).
// 2. QRS complexes over all 12 leads (dsp_detect_qrs). Heart rate from the mean RR interval of all beats.
// 3. Dominant beats: not premature (RR < 80 % of the median RR), QRS (-50..+80 ms, the 8 independent leads
//    I, II, V1-V6) correlating >= 0.90 with the median of the candidates, whole window inside the record.
//    Each is aligned to that template within +-8 ms; their sample-wise median is the median beat
//    (-350..+650 ms around the QRS fiducial).
// 4. Delineation over all leads together on the median beat (40 Hz low-passed): QRS onset and offset where
//    the spatial velocity (root sum of squared slopes of I, II, V1-V6) stays below 3 % of its QRS maximum
//    for 10 ms (or, when the T wave rises straight out of the QRS, at the slope's first local minimum under
//    10 %); the isoelectric level of each lead just before the QRS onset; T peak at the largest spatial
//    magnitude after the QRS and T end by the trapezium-area rule after its steepest descent; P peak at the
//    largest spatial magnitude 20-300 ms before the QRS, P onset and offset where the tangents at its steepest
//    rise and fall meet the isoelectric level.
// 5. Intervals from those points; QTc by Bazett (shown, as the carts here do) and Fridericia; axes from the
//    net areas of leads I and aVF over each wave (frontal plane: Ey = 2 aVF / sqrt 3); the T axis over the T
//    wave itself (as long before its peak as after it), not the ST segment.
#include "dsp-internal.h"
#include "kalium.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kalium {

namespace {

constexpr double k_fs = k_network_fs_hz;  // everything here is at 500 Hz: 2 ms per sample
constexpr double k_ms_per_sample = 1000.0 / k_fs;
constexpr int k_pre = 175, k_post = 325;  // median beat window: 350 ms before, 650 ms after the fiducial
constexpr int k_length = k_pre + k_post;
constexpr int k_independent[8] = {0, 1, 6, 7, 8, 9, 10, 11};  // I, II, V1..V6

std::string format_text(const char *format, ...) __attribute__((format(printf, 1, 2)));
std::string format_text(const char *format, ...) {
    char text[512];
    va_list args;
    va_start(args, format);
    std::vsnprintf(text, sizeof text, format, args);
    va_end(args);
    return text;
}

double pearson(const std::vector<float> &a, const std::vector<float> &b) {
    double ma = 0, mb = 0;
    for (size_t k = 0; k < a.size(); k++) ma += a[k], mb += b[k];
    ma /= static_cast<double>(a.size());
    mb /= static_cast<double>(b.size());
    double sab = 0, saa = 0, sbb = 0;
    for (size_t k = 0; k < a.size(); k++) {
        sab += (a[k] - ma) * (b[k] - mb);
        saa += (a[k] - ma) * (a[k] - ma);
        sbb += (b[k] - mb) * (b[k] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

// The QRS region (-50..+80 ms) of the independent leads around sample `at`, concatenated.
std::vector<float> qrs_region(const std::vector<std::vector<float>> &leads, long at) {
    std::vector<float> out;
    for (int l : k_independent)
        for (long t = at - 25; t <= at + 40; t++) out.push_back(leads[static_cast<size_t>(l)][static_cast<size_t>(t)]);
    return out;
}

// Where the tangent at sample t (value v[t], slope per sample) meets `level`; NaN when the slope is ~0.
double tangent_crossing(const std::vector<double> &v, const std::vector<double> &slope, int t, double level) {
    if (std::fabs(slope[static_cast<size_t>(t)]) < 1e-9) return NAN;
    return t + (level - v[static_cast<size_t>(t)]) / slope[static_cast<size_t>(t)];
}

double axis_deg(double area_i, double area_avf) {
    if (area_i == 0 && area_avf == 0) return NAN;
    return std::atan2(2.0 * area_avf / std::sqrt(3.0), area_i) * 180.0 / dsp::k_pi;
}

}  // namespace

namespace dsp {

result<ecg_analysis> measure_core(const ecg_record &record, std::vector<std::vector<float>> &signal_500hz_uv) {
    ecg_analysis a;
    for (int l = 0; l < k_standard_lead_count; l++)
        if (!record.find(static_cast<lead_id>(l)))
            return status::error(status_code::invalid_argument, "measure: lead %s is missing: the measurements need the 12 standard leads",
                                 lead_id_name(static_cast<lead_id>(l)));
    if (!(record.fs_hz > 0) || record.duration_s() < 2.5)
        return status::error(status_code::invalid_argument, "measure: the recording lasts %.2f s; measuring needs at least 2.5 s",
                             record.duration_s());

    // 1. 500 Hz, mains and baseline wander removed.
    a.mains_hz = dsp_detect_mains_hz(record);
    // the filtered leads live in the caller's signal_500hz_uv (ecg_analysis keeps them for display)
    std::vector<std::vector<float>> &x = signal_500hz_uv;
    x.assign(k_standard_lead_count, {});
    const std::vector<biquad> highpass{biquad_highpass(0.5 * 0.80230, k_fs)};
    for (int l = 0; l < k_standard_lead_count; l++) {
        x[static_cast<size_t>(l)] = resample_for_measurement(record.find(static_cast<lead_id>(l))->samples_uv, record.fs_hz, k_fs);
        if (a.mains_hz > 0) x[static_cast<size_t>(l)] = dsp_remove_mains(x[static_cast<size_t>(l)], k_fs, a.mains_hz);
    }
    filter_zero_phase_leads(x, highpass, static_cast<size_t>(k_fs));  // 1 s of padding: > 3 time constants
    const long n = static_cast<long>(x[0].size());

    // 2. QRS complexes and the rate.
    a.qrs_samples = dsp_detect_qrs(x, k_fs);
    const std::vector<size_t> &qrs = a.qrs_samples;
    a.dominant.assign(qrs.size(), false);
    if (qrs.size() < 2) {
        a.warnings.push_back(format_text("all leads: %zu QRS complex%s found in %.1f s: nothing can be measured", qrs.size(),
                                         qrs.size() == 1 ? "" : "es", record.duration_s()));
        return a;
    }
    std::vector<double> rr;
    for (size_t k = 1; k < qrs.size(); k++) rr.push_back(static_cast<double>(qrs[k] - qrs[k - 1]));
    double rr_mean = 0;
    for (double r : rr) rr_mean += r;
    rr_mean /= static_cast<double>(rr.size());
    const double rr_median = median_of(rr);
    a.values.hr_bpm = 60000.0 / (rr_mean * k_ms_per_sample);

    // 3. Dominant beats and the median beat.
    std::vector<size_t> candidates;
    for (size_t k = 0; k < qrs.size(); k++) {
        const long q = static_cast<long>(qrs[k]);
        const bool inside = q - k_pre - 8 >= 0 && q + k_post + 8 <= n;
        const bool premature = k > 0 && rr[k - 1] < 0.8 * rr_median;
        if (inside && !premature) candidates.push_back(k);
    }
    if (candidates.empty()) {
        a.warnings.push_back("all leads: no whole beat that is not premature: nothing but the heart rate can be measured");
        return a;
    }
    std::vector<float> template_qrs;
    {
        std::vector<std::vector<float>> regions;
        for (size_t k : candidates) regions.push_back(qrs_region(x, static_cast<long>(qrs[k])));
        template_qrs.resize(regions[0].size());
        for (size_t t = 0; t < template_qrs.size(); t++) {
            std::vector<float> column;
            for (const auto &r : regions) column.push_back(r[t]);
            template_qrs[t] = median_of(column);
        }
    }
    std::vector<long> starts;
    for (size_t k : candidates) {
        double best = -2;
        int best_shift = 0;
        for (int shift = -4; shift <= 4; shift++) {
            const double c = pearson(qrs_region(x, static_cast<long>(qrs[k]) + shift), template_qrs);
            if (c > best) best = c, best_shift = shift;
        }
        if (best < 0.90) continue;
        a.dominant[k] = true;
        starts.push_back(static_cast<long>(qrs[k]) + best_shift - k_pre);
    }
    if (starts.empty()) {
        a.warnings.push_back("all leads: no two beats alike (QRS correlation < 0.90): no median beat, nothing but the heart rate measured");
        return a;
    }
    a.median_length = k_length;
    a.median_fiducial = k_pre;
    a.median_uv.assign(k_standard_lead_count, std::vector<float>(k_length));
    std::vector<float> column(starts.size());
    for (int l = 0; l < k_standard_lead_count; l++)
        for (int t = 0; t < k_length; t++) {
            for (size_t b = 0; b < starts.size(); b++) column[b] = x[static_cast<size_t>(l)][static_cast<size_t>(starts[b] + t)];
            a.median_uv[static_cast<size_t>(l)][static_cast<size_t>(t)] = median_of(column);
        }

    // 4. Delineation on the 40 Hz low-passed median beat.
    std::vector<std::vector<float>> m = a.median_uv;
    const std::vector<biquad> smooth{biquad_lowpass(40.0 / 0.80230, k_fs)};
    filter_zero_phase_leads(m, smooth, 50);
    std::vector<double> sv(k_length, 0.0);
    for (int t = 1; t + 1 < k_length; t++) {
        double s = 0;
        for (int l : k_independent) {
            const double d = m[static_cast<size_t>(l)][static_cast<size_t>(t + 1)] - m[static_cast<size_t>(l)][static_cast<size_t>(t - 1)];
            s += d * d;
        }
        sv[static_cast<size_t>(t)] = std::sqrt(s);
    }
    int peak = k_pre - 40;
    for (int t = k_pre - 40; t <= k_pre + 40; t++)
        if (sv[static_cast<size_t>(t)] > sv[static_cast<size_t>(peak)]) peak = t;
    std::vector<double> sorted_sv(sv.begin() + 1, sv.end() - 1);
    std::sort(sorted_sv.begin(), sorted_sv.end());
    const double sv_floor = sorted_sv[sorted_sv.size() / 10];
    const double sv_threshold = sv_floor + 0.03 * (sv[static_cast<size_t>(peak)] - sv_floor);
    const int run = 5;  // 10 ms
    int qrs_on = -1, qrs_off = -1;
    // Outwards from the largest slope: the QRS ends where the slope stays under the threshold for 10 ms. When
    // it never does (an ST segment that slopes straight into a tall T wave, a P wave that runs into the QRS),
    // the end is the first local minimum of the slope under 10 % of its largest beyond the QRS's last (first)
    // steep sample (>= 30 % of the largest, within 120 ms of it).
    const double steep = 0.3 * sv[static_cast<size_t>(peak)], knee = 0.1 * sv[static_cast<size_t>(peak)];
    int first_steep = peak, last_steep = peak;
    for (int t = std::max(1, peak - 60); t <= std::min(k_length - 2, peak + 60); t++)
        if (sv[static_cast<size_t>(t)] >= steep) first_steep = std::min(first_steep, t), last_steep = std::max(last_steep, t);
    auto local_min = [&](int t) {
        return sv[static_cast<size_t>(t)] < knee && sv[static_cast<size_t>(t)] <= sv[static_cast<size_t>(t - 1)] &&
               sv[static_cast<size_t>(t)] <= sv[static_cast<size_t>(t + 1)];
    };
    for (int t = peak, quiet = 0; t > std::max(1, k_pre - 100); t--) {
        quiet = sv[static_cast<size_t>(t)] < sv_threshold ? quiet + 1 : 0;
        if (quiet == run) {
            qrs_on = t + run;
            break;
        }
    }
    for (int t = first_steep - 1; qrs_on < 0 && t > std::max(1, k_pre - 100); t--)
        if (local_min(t)) qrs_on = t;
    for (int t = peak, quiet = 0; t < std::min(k_length - 2, k_pre + 120); t++) {
        quiet = sv[static_cast<size_t>(t)] < sv_threshold ? quiet + 1 : 0;
        if (quiet == run) {
            qrs_off = t - run + 1;
            break;
        }
    }
    for (int t = last_steep + 1; qrs_off < 0 && t < std::min(k_length - 2, k_pre + 120); t++)
        if (local_min(t)) qrs_off = t;
    // A quiet 10 ms found only at the T wave's peak (the T rising straight out of the QRS): the slope had
    // fallen to a local minimum under 10 % and then risen slowly, as a T wave does (its steepest point 40 ms
    // or more later; a QRS's own notches turn within a few ms), to over twice that and 10 % before it.
    for (int t = last_steep + 1; qrs_off > 0 && t < qrs_off; t++) {
        if (!local_min(t)) continue;
        int rise_at = t + 1;
        for (int u = t + 1; u <= qrs_off; u++)
            if (sv[static_cast<size_t>(u)] > sv[static_cast<size_t>(rise_at)]) rise_at = u;
        const double rise = sv[static_cast<size_t>(rise_at)];
        if (rise > std::max(2.0 * sv[static_cast<size_t>(t)], knee) && rise_at >= t + 20) {
            qrs_off = t;
            break;
        }
    }
    auto to_ms = [&](double sample) { return (sample - k_pre) * k_ms_per_sample; };
    if (qrs_on < 0 || qrs_off < 0) {
        a.warnings.push_back("all leads: the QRS onset or offset could not be found in the median beat: no intervals or axes");
        return a;
    }
    a.fiducials.qrs_onset_ms = to_ms(qrs_on);
    a.fiducials.qrs_offset_ms = to_ms(qrs_off);
    a.values.qrs_ms = (qrs_off - qrs_on) * k_ms_per_sample;

    // Isoelectric level of each lead: 16..4 ms before the QRS onset.
    std::vector<double> iso(k_standard_lead_count, 0.0);
    const int iso_from = std::max(0, qrs_on - 8), iso_to = std::max(iso_from + 1, qrs_on - 2);
    for (int l = 0; l < k_standard_lead_count; l++) {
        double s = 0;
        for (int t = iso_from; t < iso_to; t++) s += m[static_cast<size_t>(l)][static_cast<size_t>(t)];
        iso[static_cast<size_t>(l)] = s / (iso_to - iso_from);
        for (float &v : m[static_cast<size_t>(l)]) v -= static_cast<float>(iso[static_cast<size_t>(l)]);
        for (float &v : a.median_uv[static_cast<size_t>(l)]) v -= static_cast<float>(iso[static_cast<size_t>(l)]);
    }
    std::vector<double> sm(k_length, 0.0), slope(k_length, 0.0);
    for (int t = 0; t < k_length; t++) {
        double s = 0;
        for (int l : k_independent) s += double(m[static_cast<size_t>(l)][static_cast<size_t>(t)]) * m[static_cast<size_t>(l)][static_cast<size_t>(t)];
        sm[static_cast<size_t>(t)] = std::sqrt(s);
    }
    for (int t = 1; t + 1 < k_length; t++) slope[static_cast<size_t>(t)] = (sm[static_cast<size_t>(t + 1)] - sm[static_cast<size_t>(t - 1)]) / 2.0;
    double base = 0;
    for (int t = iso_from; t < iso_to; t++) base += sm[static_cast<size_t>(t)];
    base /= (iso_to - iso_from);

    // T wave: peak after the QRS, end by the tangent at the steepest descent.
    const int rr_samples = static_cast<int>(rr_median);
    const int t_limit = std::min(k_length - 2, k_pre + rr_samples - 30);
    int t_peak = -1;
    for (int t = qrs_off + 20; t <= t_limit; t++)
        if (t_peak < 0 || sm[static_cast<size_t>(t)] > sm[static_cast<size_t>(t_peak)]) t_peak = t;
    if (t_peak > 0 && sm[static_cast<size_t>(t_peak)] - base >= 15.0 && t_peak < t_limit) {
        int steepest = t_peak;
        for (int t = t_peak; t <= std::min(t_limit, t_peak + 75); t++)
            if (slope[static_cast<size_t>(t)] < slope[static_cast<size_t>(steepest)]) steepest = t;
        // Trapezium-area rule (Zhang et al., IEEE TBME 2005): the T end is the point after the steepest descent
        // that maximises the area of the trapezium it spans with that point and a reference 200 ms later; it
        // finds the knee where the T wave meets the baseline without a level to cross (the tangent rule ends
        // smooth T waves early).
        const int t_reference = std::min(t_limit, steepest + 100);
        double t_end = NAN, best_area = -1;
        for (int t = steepest; t <= t_reference; t++) {
            const double area = 0.5 * (sm[static_cast<size_t>(steepest)] - sm[static_cast<size_t>(t)]) * (2.0 * t_reference - t - steepest);
            if (area > best_area) best_area = area, t_end = t;
        }
        if (std::isfinite(t_end) && t_end > t_peak && t_end <= t_limit + 20) {
            a.fiducials.t_peak_ms = to_ms(t_peak);
            a.fiducials.t_end_ms = to_ms(t_end);
            a.values.qt_ms = (t_end - qrs_on) * k_ms_per_sample;
        }
    }
    if (!a.values.qt_ms) a.warnings.push_back("all leads: no T wave end found in the median beat: QT and QTc not measured");

    // P wave: 20-300 ms before the QRS onset (less when the rate is fast).
    const int p_from = std::max(2, qrs_on - std::min(150, static_cast<int>(0.45 * rr_samples)));
    const int p_to = qrs_on - 10;
    // The largest local maximum inside the window (at a fast rate the window reaches back into the previous
    // T wave, whose descending end is larger but is no peak).
    int p_peak = -1;
    for (int t = p_from + 3; t <= p_to - 3; t++)
        if (sm[static_cast<size_t>(t)] >= sm[static_cast<size_t>(t - 1)] && sm[static_cast<size_t>(t)] > sm[static_cast<size_t>(t + 1)] &&
            (p_peak < 0 || sm[static_cast<size_t>(t)] > sm[static_cast<size_t>(p_peak)]))
            p_peak = t;
    if (p_peak > p_from + 2 && p_peak < p_to - 2 && sm[static_cast<size_t>(p_peak)] - base >= 15.0) {
        int up = p_peak, down = p_peak;
        for (int t = std::max(1, p_peak - 60); t <= p_peak; t++)
            if (slope[static_cast<size_t>(t)] > slope[static_cast<size_t>(up)]) up = t;
        for (int t = p_peak; t < qrs_on; t++)
            if (slope[static_cast<size_t>(t)] < slope[static_cast<size_t>(down)]) down = t;
        const double p_on = tangent_crossing(sm, slope, up, base), p_off = tangent_crossing(sm, slope, down, base);
        if (std::isfinite(p_on) && std::isfinite(p_off) && p_on < p_peak && p_off > p_peak && p_on > std::max(0, p_from - 40)) {
            const double p_off_clamped = std::min<double>(p_off, qrs_on);
            a.fiducials.p_onset_ms = to_ms(p_on);
            a.fiducials.p_peak_ms = to_ms(p_peak);
            a.fiducials.p_offset_ms = to_ms(p_off_clamped);
            a.values.pr_ms = (qrs_on - p_on) * k_ms_per_sample;
        }
    }
    if (!a.values.pr_ms) a.warnings.push_back("all leads: no P wave found before the QRS in the median beat: PR and P axis not measured");

    // 5. QTc and axes.
    const double rr_s = rr_mean * k_ms_per_sample / 1000.0;
    if (a.values.qt_ms) {
        a.qtc_bazett_ms = *a.values.qt_ms / std::sqrt(rr_s);
        a.qtc_fridericia_ms = *a.values.qt_ms / std::cbrt(rr_s);
        a.values.qtc_ms = a.qtc_bazett_ms;
    }
    auto area = [&](int lead, double from, double to) {
        double s = 0;
        const int t_from = std::max(0, static_cast<int>(std::ceil(from))), t_to = std::min(k_length - 1, static_cast<int>(std::floor(to)));
        for (int t = t_from; t <= t_to; t++)
            s += a.median_uv[static_cast<size_t>(lead)][static_cast<size_t>(t)];
        return s;
    };
    auto set_axis = [&](std::optional<double> &out, double from, double to, const char *what) {
        const double deg = axis_deg(area(0, from, to), area(5, from, to));
        if (std::isfinite(deg)) out = deg;
        else a.warnings.push_back(std::string("leads I, aVF: no net ") + what + " area: axis not measured");
    };
    set_axis(a.values.qrs_axis_deg, qrs_on, qrs_off, "QRS");
    if (a.fiducials.t_end_ms) {
        const double t_end = k_pre + *a.fiducials.t_end_ms / k_ms_per_sample, t_pk = k_pre + *a.fiducials.t_peak_ms / k_ms_per_sample;
        // the T wave itself (as long before its peak as it lasts after it), not the ST segment
        set_axis(a.values.t_axis_deg, std::max<double>(qrs_off, 2 * t_pk - t_end), t_end, "T");
    }
    if (a.fiducials.p_onset_ms)
        set_axis(a.values.p_axis_deg, k_pre + *a.fiducials.p_onset_ms / k_ms_per_sample, k_pre + *a.fiducials.p_offset_ms / k_ms_per_sample, "P");
    return a;
}

result<ecg_analysis> measure_core(const ecg_record &record) {
    std::vector<std::vector<float>> signal_500hz_uv;
    return measure_core(record, signal_500hz_uv);
}

}  // namespace dsp

result<ecg_analysis> ecg_measure(const ecg_record &record) {
    std::vector<std::vector<float>> signal_500hz_uv;
    result<ecg_analysis> a = dsp::measure_core(record, signal_500hz_uv);
    if (!a.ok()) return a;
    a->signal_500hz_uv = std::move(signal_500hz_uv);
    // The quality warnings first: they say why a measurement may be doubtful.
    a->quality = dsp::check_quality(record, &a.value());
    std::vector<std::string> warnings;
    for (const quality_warning &w : a->quality) warnings.push_back(w.message);
    warnings.insert(warnings.end(), a->warnings.begin(), a->warnings.end());
    a->warnings = std::move(warnings);
    return a;
}

}  // namespace kalium
