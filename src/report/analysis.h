// report/analysis.h: one ECG record -> what the app and the PDF report show of it. The browser's analysis worker
// (src/worker) and `kalium report` (src/cli/report.cpp) both call this, so the page and the command line describe
// an ECG with the same numbers:
//
//   record -> ecg_measure (the 8 measurements, quality checks, the display signal: 500 Hz, mains notched,
//   0.5 Hz high-pass) -> ecg_prepare_input -> k_model::predict -> the app contract's result_json (keys listed in
//   src/worker/worker-main.cpp), the display signal (12 x n float uV at 500 Hz, at most 60 s) and the CAMs.
//
// It needs a k_model (library kalium_nn, or kalium_nn_f32 in the worker): link one of them after this library.
#pragma once

#include "kalium.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace kalium {

struct analysis_output {
    std::string json;              // result_json (the app contract)
    std::vector<float> signal_uv;  // lead-major, lead_count x sample_count, uV at 500 Hz; empty on failure
    int lead_count = 0;
    int sample_count = 0;
    std::vector<float> cam;        // 12 x 1250 in [0, 1]; empty on failure
};

// Analyses one record read from `file` (size_bytes: of the files it came from). `model` may be null (then the
// result is an error naming it). read_ms: how long reading took (reported in timing_ms); t0: when the whole
// analysis began (analyse_ms is measured from it).
analysis_output analysis_run(int id, const std::string &file, const ecg_record &record, size_t size_bytes,
                             k_model *model, double read_ms, std::chrono::steady_clock::time_point t0);
// The result of a file that could not be read: result_json with `error` and `error_code`, no arrays.
analysis_output analysis_failed(int id, const std::string &file, const status &error, size_t size_bytes);

// The reliability mark in result_json (reliability, reliability_reasons) is the core's one rule
// (kalium.h, ecg_reliability_reasons; src/dsp/reliability.cpp), the same `kalium predict` prints.

}  // namespace kalium
