// dsp/test-ludb.cpp: delineation against the cardiologists' annotations of LUDB record 1 (P, QRS and T onset,
// peak and offset in each of the 12 leads, files 1.i ... 1.v6). The median beat's global fiducial points are
// placed on every annotated beat (at its detected QRS) and compared with, per beat, (a) the median over the
// 12 leads' annotations and (b) the earliest onset / latest offset over the leads (the global convention the
// carts use). Prints one "VALIDATION ludb" line per fiducial point (tests/dsp/VALIDATION.md is made from them).
#include "test-util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace {

struct wave {
    int64_t onset, peak, offset;
    char kind;  // 'p', 'N', 't'
};

struct error_stats {
    std::vector<double> ms;
    double mean() const {
        double s = 0;
        for (double v : ms) s += v;
        return ms.empty() ? NAN : s / ms.size();
    }
    double sd() const {
        const double m = mean();
        double s = 0;
        for (double v : ms) s += (v - m) * (v - m);
        return ms.size() < 2 ? NAN : std::sqrt(s / (ms.size() - 1));
    }
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace

TEST_CASE("LUDB record 1: delineation error per fiducial point", "[dsp][ludb]") {
    const std::string dir = shared_ecg("samples/wfdb/ludb_1/");
    const auto hea = read_bytes(dir + "1.hea"), dat = read_bytes(dir + "1.dat");
    auto record = kalium::ecg_read(as_named("1.hea", hea), {as_named("1.dat", dat)});
    REQUIRE(record.ok());
    REQUIRE(record->fs_hz == 500.0);
    auto analysis = kalium::ecg_measure(record.value());
    REQUIRE(analysis.ok());
    const kalium::ecg_analysis &a = analysis.value();
    const kalium::ecg_fiducials &f = a.fiducials;
    REQUIRE(f.p_onset_ms);
    REQUIRE(f.qrs_onset_ms);
    REQUIRE(f.t_end_ms);

    // Every lead's waves.
    std::vector<std::vector<wave>> leads;
    for (const char *ext : {"i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6"}) {
        const auto bytes = read_bytes(dir + "1." + ext);
        auto ann = kalium::wfdb_read_annotations(bytes.data(), bytes.size(), std::string("1.") + ext);
        REQUIRE(ann.ok());
        std::vector<wave> waves;
        const auto &v = ann.value();
        for (size_t k = 0; k + 2 < v.size(); k++)
            if (v[k].symbol == '(' && v[k + 2].symbol == ')' && v[k + 1].symbol != '(' && v[k + 1].symbol != ')') {
                waves.push_back({v[k].sample, v[k + 1].sample, v[k + 2].sample, v[k + 1].symbol});
                k += 2;
            }
        REQUIRE(!waves.empty());
        leads.push_back(std::move(waves));
    }

    // The fiducial points compared: name, our offset from the QRS fiducial (ms), wave kind, which of its points,
    // and whether the global convention takes the earliest (-1) or the latest (+1) over the leads.
    const struct point {
        const char *name;
        std::optional<double> ours_ms;
        char kind;
        int which;  // 0 onset, 1 peak, 2 offset
        int global;
    } points[] = {
        {"P onset", f.p_onset_ms, 'p', 0, -1},   {"P peak", f.p_peak_ms, 'p', 1, 0},     {"P offset", f.p_offset_ms, 'p', 2, +1},
        {"QRS onset", f.qrs_onset_ms, 'N', 0, -1}, {"QRS peak", 0.0, 'N', 1, 0},         {"QRS offset", f.qrs_offset_ms, 'N', 2, +1},
        {"T peak", f.t_peak_ms, 't', 1, 0},      {"T offset", f.t_end_ms, 't', 2, +1},
    };
    int matched_beats = 0;
    const int qrs_annotated = static_cast<int>(std::count_if(leads[1].begin(), leads[1].end(), [](const wave &w) { return w.kind == 'N'; }));
    std::vector<error_stats> vs_median(std::size(points)), vs_global(std::size(points));
    for (size_t b = 0; b < a.qrs_samples.size(); b++) {
        const double r = static_cast<double>(a.qrs_samples[b]);  // 500 Hz, as the record
        // This beat's QRS in lead II's annotations, within 150 ms.
        bool annotated = false;
        for (const wave &w : leads[1]) annotated = annotated || (w.kind == 'N' && std::fabs(w.peak - r) <= 75);
        if (!annotated) continue;
        matched_beats++;
        for (size_t p = 0; p < std::size(points); p++) {
            if (!points[p].ours_ms) continue;
            const double ours = r + *points[p].ours_ms / 2.0;  // samples
            std::vector<double> refs;
            for (const auto &lead : leads)
                for (const wave &w : lead) {
                    if (w.kind != points[p].kind) continue;
                    // the wave of this beat: P up to 400 ms before the QRS, T up to 700 ms after, QRS within 150 ms
                    const double d = w.peak - r;
                    const bool mine = points[p].kind == 'p' ? d < 0 && d > -200 : points[p].kind == 't' ? d > 0 && d < 350 : std::fabs(d) <= 75;
                    if (mine) refs.push_back(double(points[p].which == 0 ? w.onset : points[p].which == 1 ? w.peak : w.offset));
                }
            if (refs.size() < 6) continue;  // the wave is annotated in too few leads for this beat
            const double global = points[p].global < 0 ? *std::min_element(refs.begin(), refs.end())
                                  : points[p].global > 0 ? *std::max_element(refs.begin(), refs.end())
                                                         : median(refs);
            vs_median[p].ms.push_back(2.0 * (ours - median(refs)));
            vs_global[p].ms.push_back(2.0 * (ours - global));
        }
    }
    for (size_t p = 0; p < std::size(points); p++)
        std::printf("VALIDATION ludb point=\"%s\" beats=%zu mean_vs_median_ms=%.1f sd_vs_median_ms=%.1f mean_vs_global_ms=%.1f sd_vs_global_ms=%.1f\n",
                    points[p].name, vs_median[p].ms.size(), vs_median[p].mean(), vs_median[p].sd(), vs_global[p].mean(), vs_global[p].sd());
    std::printf("VALIDATION ludb point=\"T onset\" beats=0 (not delineated: no T onset is computed)\n");
    CHECK(matched_beats == qrs_annotated);  // every annotated QRS is found
    for (size_t p = 0; p < std::size(points); p++) {
        INFO(points[p].name);
        REQUIRE(vs_median[p].ms.size() >= 4);
        // Real bounds, if loose ones: a fiducial point more than 40 ms off on average, or scattering by more
        // than 20 ms from beat to beat, is a delineation that is wrong, not imprecise.
        CHECK(std::fabs(vs_median[p].mean()) <= 40.0);
        CHECK(vs_median[p].sd() <= 20.0);
    }
}
