// bench/bench-read.cpp: how long each ECG reader takes on a real 10 s 12-lead file (a benchmark, not a
// test: it prints numbers). Run through scripts/bench, or: build/native/bin/bench-read [--json] [SHARED_DIR]
//
// Each file is read from memory (the disk is not timed) 7 times after one warm-up; the median and minimum
// wall times of ecg_read (sniff + parse + decode + checks + derived leads) are printed.
#include "bench-util.h"

#include "kalium.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct bench_file {
    const char *format;
    const char *path;  // relative to <shared>/ecg/samples
    const char *companion;
};

const bench_file k_files[] = {
    {"wfdb", "wfdb/ludb_1/1.hea", "wfdb/ludb_1/1.dat"},
    {"wfdb (.mat)", "wfdb/challenge2021/E07500.hea", "wfdb/challenge2021/E07500.mat"},
    {"philips-xml", "philips-xml/sierra_1_04_ad4d3d80-d165_1-04_orig.xml", nullptr},
    {"ge-muse-xml", "ge-muse-xml/braveheart_example1.xml", nullptr},
    {"hl7-aecg", "hl7-aecg/hl7_2003-12_Example_aECG.xml", nullptr},
    {"scp-ecg", "scp-ecg/ecgtoolkit_Example.scp", nullptr},
    {"dicom", "dicom/ecgtoolkit_Example.dcm", nullptr},
    {"edf (47 s)", "edf/contec_0000050.ECG.edf", nullptr},
    {"csv", "csv/denismot_ECG_12L.csv", nullptr},
};

std::string base(const std::string &p) { return p.substr(p.find_last_of('/') + 1); }

}  // namespace

int main(int argc, char **argv) {
    bool json = false;
    std::string shared = KALIUM_SHARED_DIR;
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--json") == 0) json = true;
        else shared = argv[i];
    }
    kalium::log_set_min_level(kalium::log_level::error);
    if (!json) std::printf("%-14s %10s %10s %8s  %s\n", "format", "median ms", "min ms", "leads", "file");
    else std::printf("[");
    bool first = true;
    int failures = 0;
    for (const bench_file &bf : k_files) {
        std::vector<uint8_t> bytes, companion_bytes;
        const std::string path = shared + "/ecg/samples/" + bf.path;
        if (!bench_load_file(path, bytes) || (bf.companion && !bench_load_file(shared + "/ecg/samples/" + bf.companion, companion_bytes))) {
            std::fprintf(stderr, "bench-read: cannot read %s\n", path.c_str());
            failures++;
            continue;
        }
        kalium::named_bytes file{base(path), bytes.data(), bytes.size()};
        std::vector<kalium::named_bytes> companions;
        if (bf.companion) companions.push_back({base(bf.companion), companion_bytes.data(), companion_bytes.size()});
        std::vector<double> ms;
        size_t leads = 0;
        std::string error;
        for (int run = 0; run < 8; run++) {
            auto t0 = std::chrono::steady_clock::now();
            auto r = kalium::ecg_read(file, companions);
            auto t1 = std::chrono::steady_clock::now();
            if (!r.ok()) {
                error = r.error().message();
                break;
            }
            leads = r->leads.size();
            if (run > 0) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
        if (!error.empty()) {
            std::fprintf(stderr, "bench-read: %s: %s\n", bf.format, error.c_str());
            failures++;
            continue;
        }
        std::sort(ms.begin(), ms.end());
        const double median = ms[ms.size() / 2], minimum = ms.front();
        if (json)
            std::printf("%s\n  {\"format\": \"%s\", \"file\": \"%s\", \"median_ms\": %.3f, \"min_ms\": %.3f, \"leads\": %zu}",
                        first ? "" : ",", bf.format, bf.path, median, minimum, leads);
        else
            std::printf("%-14s %10.3f %10.3f %8zu  %s\n", bf.format, median, minimum, leads, bf.path);
        first = false;
    }
    if (json) std::printf("\n]\n");
    return failures ? 1 : 0;
}
