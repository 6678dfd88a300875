// dsp/qrs.cpp: QRS detection over all leads together (see kalium.h, dsp_detect_qrs).
//
// Each lead is band-passed (5-30 Hz, zero phase), differentiated and squared; each lead's energy is divided by
// its own typical QRS energy (the median of its per-second maxima, capped at 4x that) so that every usable lead
// counts alike and a noisy lead or an ectopic beat cannot dominate; the sum is integrated over 120 ms. Peaks of the integrated energy at least
// 200 ms from any larger one are the candidates. They are classified in time order with Pan and Tompkins'
// adaptive thresholds (running signal and noise peak levels; threshold a quarter of the way from noise to
// signal), with a search back at half the threshold when no QRS has been found for 1.66 mean RR intervals,
// and T waves (within 360 ms of a QRS and less than half its energy) rejected. Each QRS is then placed at the
// largest band-passed deflection within 75 ms of its energy peak.
#include "dsp-internal.h"
#include "kalium.h"

#include <algorithm>
#include <cmath>
#include <deque>

namespace kalium {

namespace {

// For each t, the largest value of x within [t - half, t + half] (monotonic deque, O(n)).
std::vector<float> sliding_max(const std::vector<float> &x, size_t half) {
    const size_t n = x.size();
    std::vector<float> out(n);
    std::deque<size_t> q;  // indices with decreasing values
    size_t next = 0;
    for (size_t t = 0; t < n; t++) {
        const size_t hi = std::min(n - 1, t + half);
        while (next <= hi) {
            while (!q.empty() && x[q.back()] <= x[next]) q.pop_back();
            q.push_back(next++);
        }
        while (q.front() + half < t) q.pop_front();
        out[t] = x[q.front()];
    }
    return out;
}

struct candidate {
    size_t at;
    float energy;
};

}  // namespace

std::vector<size_t> dsp_detect_qrs(const std::vector<std::vector<float>> &leads_uv, double fs_hz) {
    if (leads_uv.empty() || !(fs_hz >= 50.0)) return {};
    const size_t n = leads_uv.front().size();
    for (const auto &lead : leads_uv)
        if (lead.size() != n) return {};
    if (n < static_cast<size_t>(0.5 * fs_hz)) return {};
    auto samples = [&](double seconds) { return static_cast<size_t>(std::lround(seconds * fs_hz)); };

    std::vector<dsp::biquad> band{dsp::biquad_highpass(5.0, fs_hz)};
    if (30.0 < 0.45 * fs_hz) band.push_back(dsp::biquad_lowpass(30.0, fs_hz));
    std::vector<float> energy(n, 0.0f), deflection(n, 0.0f);
    const size_t block = std::max<size_t>(1, samples(1.0));
    std::vector<std::vector<float>> band_passed;
    for (const auto &lead : leads_uv) {
        std::vector<float> x = dsp::finite_copy(lead);
        const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
        if (*hi - *lo >= 10.0f) band_passed.push_back(std::move(x));  // else flat (or absent)
    }
    dsp::filter_zero_phase_leads(band_passed, band, samples(0.5));
    int used = 0;
    std::vector<float> e(n, 0.0f), block_max;
    for (const std::vector<float> &x : band_passed) {
        for (size_t t = 1; t + 1 < n; t++) {
            const float d = x[t + 1] - x[t - 1];
            e[t] = d * d;
        }
        block_max.clear();
        for (size_t b = 0; b < n; b += block)
            block_max.push_back(*std::max_element(e.begin() + static_cast<std::ptrdiff_t>(b),
                                                  e.begin() + static_cast<std::ptrdiff_t>(std::min(n, b + block))));
        const float scale = dsp::median_of(block_max);
        if (!(scale > 0.0f)) continue;
        for (size_t t = 0; t < n; t++) {
            // at most 4x the lead's typical QRS energy: an ectopic beat that is huge in a lead where the
            // dominant QRS is small must not dwarf every other beat
            energy[t] += std::min(e[t] / scale, 4.0f);
            deflection[t] += x[t] * x[t] / scale;  // scale is in (uV per sample)^2, a common unit for both
        }
        used++;
    }
    if (used == 0) return {};

    const std::vector<float> integrated = dsp::moving_average(energy, samples(0.12) | 1);
    const size_t refractory = samples(0.2);
    const std::vector<float> local_max = sliding_max(integrated, refractory);
    std::vector<candidate> candidates;
    for (size_t t = 1; t + 1 < n; t++)
        if (integrated[t] > 0 && integrated[t] == local_max[t] && integrated[t] > integrated[t - 1])
            candidates.push_back({t, integrated[t]});
    if (candidates.empty()) return {};

    // Initial levels from the first 10 s: signal = the 80th percentile of the candidates (about a third of
    // them are QRS complexes; a few large ectopic beats do not move it), noise = the median of those below 30 %
    // of it.
    const size_t learn = samples(10.0);
    std::vector<float> first;
    for (const candidate &c : candidates)
        if (c.at < learn) first.push_back(c.energy);
    std::sort(first.begin(), first.end());
    double spk = first[std::min(first.size() - 1, first.size() * 8 / 10)];
    std::vector<float> small;
    for (float e : first)
        if (e < 0.3 * spk) small.push_back(e);
    double npk = dsp::median_of(small);

    std::vector<candidate> accepted;
    std::vector<candidate> rejected_since_last;
    double rr_mean = 0;  // samples; 0 until two QRS are known
    std::deque<double> rr_recent;
    auto accept = [&](const candidate &c, double weight) {
        if (!accepted.empty()) {
            rr_recent.push_back(static_cast<double>(c.at - accepted.back().at));
            if (rr_recent.size() > 8) rr_recent.pop_front();
            rr_mean = 0;
            for (double r : rr_recent) rr_mean += r;
            rr_mean /= static_cast<double>(rr_recent.size());
        }
        accepted.push_back(c);
        spk = weight * std::min<double>(c.energy, 3.0 * spk) + (1 - weight) * spk;  // one huge beat moves it little
        rejected_since_last.clear();
    };
    for (const candidate &c : candidates) {
        double threshold = npk + 0.25 * (spk - npk);
        // Search back for a QRS missed since the last one.
        if (!accepted.empty() && rr_mean > 0 && static_cast<double>(c.at - accepted.back().at) > 1.66 * rr_mean) {
            const candidate *best = nullptr;
            for (const candidate &r : rejected_since_last)
                if (r.at > accepted.back().at + refractory && r.at + refractory < c.at && (!best || r.energy > best->energy)) best = &r;
            if (best && best->energy > 0.5 * threshold) {
                const candidate found = *best;
                accept(found, 0.25);
                threshold = npk + 0.25 * (spk - npk);
            }
        }
        bool is_qrs = c.energy > threshold;
        if (is_qrs && !accepted.empty()) {
            const size_t since = c.at - accepted.back().at;
            if (since < refractory) is_qrs = false;
            else if (since < samples(0.36) && c.energy < 0.5f * accepted.back().energy) is_qrs = false;  // a T wave
        }
        if (is_qrs) {
            accept(c, 0.125);
        } else {
            npk = 0.125 * c.energy + 0.875 * npk;
            rejected_since_last.push_back(c);
        }
    }

    // Each QRS at its largest band-passed deflection near the energy peak; two within the refractory period
    // are one.
    const size_t search = samples(0.075);
    std::vector<size_t> out;
    for (const candidate &c : accepted) {
        const size_t lo = c.at >= search ? c.at - search : 0, hi = std::min(n - 1, c.at + search);
        size_t best = lo;
        for (size_t t = lo; t <= hi; t++)
            if (deflection[t] > deflection[best]) best = t;
        if (!out.empty() && best < out.back() + refractory) {
            if (deflection[best] > deflection[out.back()]) out.back() = best;
            continue;
        }
        out.push_back(best);
    }
    return out;
}

}  // namespace kalium
