// bench/bench-measure.cpp: preparation plus measurement of a 10 s 12-lead ECG, native (a benchmark, not a test:
// it prints numbers; the target is <= 10 ms). Run through scripts/bench, or:
//   build/native/bin/bench-measure [--json] [SHARED_DIR]
//
// Per record (read once, from memory; reading is not timed): ecg_measure (500 Hz, mains and baseline removal,
// QRS detection, median beat, delineation, EMPs, quality checks) then ecg_prepare_input with those quality
// warnings (resampling, baseline removal, windows), as a client that measures and predicts calls them; 3
// warm-ups then 15 timed runs. Printed: the pair's median and minimum wall time and median CPU time (the
// thread's own, which other programs on a shared machine do not inflate), each part's median, and the median
// of the two calls made separately (ecg_prepare_input(record) then checks the record a second time). The two
// ways must give the same network input and warnings, or the benchmark fails.
#include "bench-util.h"

#include "kalium.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace {

struct bench_file {
    const char *label;
    const char *path;  // relative to <shared>/ecg/samples
    const char *companion;
};

const bench_file k_files[] = {
    {"GE MUSE 500 Hz", "ge-muse-xml/braveheart_example1.xml", nullptr},
    {"Philips 500 Hz", "philips-xml/sierra_1_04_ad4d3d80-d165_1-04_orig.xml", nullptr},
    {"WFDB 500 Hz (PTB-XL)", "wfdb/challenge2021/HR06000.hea", "wfdb/challenge2021/HR06000.mat"},
    {"DICOM 1000 Hz", "dicom/dicom-ecg-plot_anonymous_ecg.dcm", nullptr},
};

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// This thread's CPU time: on a shared machine the wall time also counts other programs' turns.
double cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char **argv) {
    bool json = false;
    std::string shared = KALIUM_SHARED_DIR;
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--json") == 0) json = true;
        else shared = argv[i];
    }
    if (json) std::printf("[");
    else std::printf("%-22s %10s %10s %10s %10s %10s %12s\n", "record", "total ms", "min ms", "cpu ms", "measure", "prepare", "separately");
    bool first = true;
    int failures = 0;
    for (const bench_file &f : k_files) {
        std::vector<uint8_t> bytes, companion;
        const std::string path = shared + "/ecg/samples/" + f.path;
        if (!bench_load_file(path, bytes) || (f.companion && !bench_load_file(shared + "/ecg/samples/" + f.companion, companion))) {
            std::fprintf(stderr, "bench-measure: cannot read %s\n", path.c_str());
            failures++;
            continue;
        }
        std::vector<kalium::named_bytes> companions;
        if (f.companion) companions.push_back({f.companion, companion.data(), companion.size()});
        auto record = kalium::ecg_read({f.path, bytes.data(), bytes.size()}, companions);
        if (!record) {
            std::fprintf(stderr, "bench-measure: %s: %s\n", f.path, record.error().message().c_str());
            failures++;
            continue;
        }
        std::vector<double> total, prepare, measure, separate, cpu;
        for (int run = 0; run < 18; run++) {
            // As a client that measures and predicts does it: measure (quality checks included), then prepare
            // with those quality warnings (the record is checked once).
            const double cpu0 = cpu_ms();
            const auto t0 = std::chrono::steady_clock::now();
            auto analysis = kalium::ecg_measure(record.value());
            const double t_measure = ms_since(t0);
            const auto t1 = std::chrono::steady_clock::now();
            auto input = analysis ? kalium::ecg_prepare_input(record.value(), analysis->quality) : kalium::ecg_prepare_input(record.value());
            const double t_prepare = ms_since(t1);
            const double cpu_pair = cpu_ms() - cpu0;
            // The two calls each on their own (ecg_prepare_input(record) runs the quality checks itself).
            const auto t2 = std::chrono::steady_clock::now();
            auto alone = kalium::ecg_prepare_input(record.value());
            const double t_alone = ms_since(t2) + t_measure;
            if (!input || !analysis) {
                std::fprintf(stderr, "bench-measure: %s: %s\n", f.path, (!input ? input.error() : analysis.error()).message().c_str());
                failures++;
                break;
            }
            if (!alone || alone->values_mv != input->values_mv || alone->warnings != input->warnings) {
                std::fprintf(stderr, "bench-measure: %s: the two ways of preparing disagree\n", f.path);
                failures++;
                break;
            }
            if (run < 3) continue;  // warm-up
            prepare.push_back(t_prepare);
            measure.push_back(t_measure);
            total.push_back(t_prepare + t_measure);
            separate.push_back(t_alone);
            cpu.push_back(cpu_pair);
        }
        if (total.empty()) continue;
        const double mn = *std::min_element(total.begin(), total.end());
        if (json)
            std::printf("%s{\"record\": \"%s\", \"file\": \"%s\", \"fs_hz\": %.0f, \"duration_s\": %.1f, \"median_ms\": %.3f, \"min_ms\": %.3f, "
                        "\"cpu_ms\": %.3f, \"measure_ms\": %.3f, \"prepare_ms\": %.3f, \"separate_calls_ms\": %.3f}",
                        first ? "" : ", ", f.label, f.path, record->fs_hz, record->duration_s(), median(total), mn, median(cpu), median(measure),
                        median(prepare), median(separate));
        else
            std::printf("%-22s %10.2f %10.2f %10.2f %10.2f %10.2f %12.2f\n", f.label, median(total), mn, median(cpu), median(measure),
                        median(prepare), median(separate));
        first = false;
    }
    if (json) std::printf("]\n");
    else std::printf("target: prepare + measure of a 10 s 12-lead ECG <= 10 ms (medians of 15, native Release)\n");
    return failures ? 1 : 0;
}
