// worker/worker-main.cpp: the analysis module of the browser app, run inside a Web Worker
// (build/wasm/site/kalium-worker.{js,wasm}; web/kalium-worker.js drives it). Everything that reads,
// prepares and predicts happens here, off the page's main thread:
//
//   files (bytes, as the user named them) -> ecg_read_all -> analysis_run (src/report/analysis.h: ecg_measure,
//   ecg_prepare_input, k_model::predict) -> one result per record: the app contract's result_json (its keys are listed below), the
//      display signal (12 x n float microvolts at 500 Hz, baseline removed, at most 60 s) and the CAMs.
//
// The C API (all functions are called from one thread; pointers returned stay valid until the next
// kw_analyse or kw_files_clear):
//   kw_load_model(data, size, manifest_text, threads)  load ECG12Net; the file's sha256 must match the manifest
//                                             ("<64 hex>  name", as sha256sum writes it); threads: 1, or 2 in the
//                                             -pthread build kalium-worker-mt. 0, or -1 (kw_error).
//   kw_sniff(data, size)                      the ECG format the bytes look like, "" for none (folder drops skip those)
//   kw_files_add(name, data, size)            add one file of the next analysis; `data` comes from _malloc and
//                                             is owned by the module from then on (kw_files_clear frees it).
//   kw_analyse(id, next_id)                   analyse the files added (a WFDB .hea with its signal files, or
//                                             any other file on its own); returns how many results there are
//                                             (one per record read or per file that failed). The first result
//                                             gets `id`, any further ones next_id, next_id + 1, ... Clears the
//                                             files.
//   kw_result_json(i), kw_result_signal(i), kw_result_lead_count(i), kw_result_sample_count(i),
//   kw_result_cam(i), kw_result_cam_count(i)  result i of the last analysis (arrays null / 0 on failure).
//
// result_json keys: id, file, error ("" or the reader's / model's message), error_code, format, patient_id,
// start_time, duration_s (the record's), source_fs_hz (the file's rate), fs_hz (of the display signal: 500),
// lead_count (leads in the file), size_bytes (of the files read), lead_names, lead_derived,
// display_truncated, window_start, the prediction's keys (nn/prediction-json.h, app shape: k_plus,
// k_plus_display, group, group_label, group_probs, ..., reliability and reliability_reasons (why the estimate
// is less reliable, kalium.h: ecg_reliability_reasons), lead_k, lead_attention, warnings, model), measurements
// (kalium's own, ecg_measure; null when none could be made), measurement_warnings (why a value is missing),
// cart_measurements (the file's, or null), infer_ms
// (k_model::predict alone), analyse_ms (reading + preparing + predicting + the display signal) and timing_ms
// ({read, prepare, infer, display, measure}: where that time went).
#include "kalium.h"
#include "analysis.h"

#include <emscripten.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace {

struct pending_file {
    std::string name;
    uint8_t *data = nullptr;  // from malloc (JS's _malloc), freed by clear_files()
    size_t size = 0;
};

using analysis_result = kalium::analysis_output;  // report/analysis.h: shared with `kalium report`

struct worker_state {
    std::unique_ptr<kalium::k_model> model;
    std::string error;
    std::vector<pending_file> files;
    std::vector<analysis_result> results;
};

worker_state &state() {
    static worker_state s;
    return s;
}

void clear_files() {
    for (pending_file &f : state().files) std::free(f.data);
    state().files.clear();
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

#define KW_EXPORT extern "C" EMSCRIPTEN_KEEPALIVE

KW_EXPORT const char *kw_error() { return state().error.c_str(); }

KW_EXPORT int kw_load_model(const uint8_t *data, size_t size, const char *manifest_text, int threads) {
    worker_state &s = state();
    kalium::model_options options;
    // The -pthread build (kalium-worker-mt) runs the network on `threads` threads (pthreadpool); the
    // single-thread build's pthreadpool is a shim that runs everything on the calling thread whatever is asked.
    options.threads = std::clamp(threads, 1, 4);
    options.expected_sha256 = kalium::sha256_from_manifest(manifest_text ? manifest_text : "");
    if (options.expected_sha256.empty()) {
        s.error = "model: the manifest (ecg12net-1.kmodel.sha256) holds no sha256";
        return -1;
    }
    if (!data || size == 0) {
        s.error = "model: the weights file is empty";
        return -1;
    }
    auto model = kalium::k_model::load(data, size, options);
    if (!model) {
        s.error = "model: " + model.error().message();
        return -1;
    }
    s.model = std::move(model.value());
    s.error.clear();
    return 0;
}

// Runs the network `runs` times on a flat input right after loading, while nobody waits: the browser compiles
// wasm with a baseline compiler first and optimises hot functions after they ran, so without this the user's
// first ECG pays for that (in Chromium about 3 x the inference time). Returns 0, or -1 without a model.
KW_EXPORT int kw_warm_up(int runs) {
    if (!state().model) return -1;
    kalium::network_input flat;
    flat.values_mv.assign(static_cast<size_t>(kalium::k_standard_lead_count) * kalium::k_network_window_samples, 0.0f);
    for (int i = 0; i < runs; i++)
        if (!state().model->predict(flat)) return -1;
    return 0;
}

KW_EXPORT const char *kw_model_name() { return state().model ? state().model->name().c_str() : ""; }
KW_EXPORT const char *kw_model_sha256() { return state().model ? state().model->sha256().c_str() : ""; }

KW_EXPORT void kw_files_clear() { clear_files(); }

// The ECG format the bytes look like ("wfdb", "philips-xml", ...; ecg_sniff_format), "" when none: how a folder
// drop tells ECG files from the rest (README, images, ...), which it skips.
KW_EXPORT const char *kw_sniff(const uint8_t *data, size_t size) {
    static std::string format;
    format = data ? kalium::ecg_sniff_format(data, size) : std::string();
    return format.c_str();
}

KW_EXPORT int kw_files_add(const char *name, uint8_t *data, size_t size) {
    state().files.push_back({name ? name : "", data, data ? size : 0});
    return static_cast<int>(state().files.size());
}

KW_EXPORT int kw_analyse(int id, int next_id) {
    worker_state &s = state();
    const auto t0 = std::chrono::steady_clock::now();
    s.results.clear();
    std::vector<kalium::named_bytes> inputs;
    size_t total_bytes = 0;
    for (const pending_file &f : s.files) {
        inputs.push_back({f.name, f.data, f.size});
        total_bytes += f.size;
    }
    std::vector<kalium::ecg_read_outcome> outcomes = kalium::ecg_read_all(inputs);
    const double read_ms = ms_since(t0);
    for (size_t i = 0; i < outcomes.size(); i++) {
        const int result_id = i == 0 ? id : next_id + static_cast<int>(i) - 1;
        kalium::ecg_read_outcome &o = outcomes[i];
        // one outcome: its size is the whole group's (a .hea with its .dat); several: each file's own
        size_t size_bytes = outcomes.size() == 1 ? total_bytes : 0;
        if (outcomes.size() > 1)
            for (const pending_file &f : s.files)
                if (f.name == o.name) size_bytes = f.size;
        if (o.record) {
            s.results.push_back(kalium::analysis_run(result_id, o.name, *o.record, size_bytes, s.model.get(), read_ms, t0));
        } else {
            s.results.push_back(kalium::analysis_failed(result_id, o.name, o.error, size_bytes));
        }
        o.record.reset();  // free each record once analysed: a batch holds one at a time
    }
    clear_files();
    return static_cast<int>(s.results.size());
}

namespace {
const analysis_result *result_at(int i) {
    const auto &r = state().results;
    return i >= 0 && static_cast<size_t>(i) < r.size() ? &r[static_cast<size_t>(i)] : nullptr;
}
}  // namespace

KW_EXPORT const char *kw_result_json(int i) { return result_at(i) ? result_at(i)->json.c_str() : ""; }
KW_EXPORT const float *kw_result_signal(int i) {
    return result_at(i) && !result_at(i)->signal_uv.empty() ? result_at(i)->signal_uv.data() : nullptr;
}
KW_EXPORT int kw_result_lead_count(int i) { return result_at(i) && !result_at(i)->signal_uv.empty() ? result_at(i)->lead_count : 0; }
KW_EXPORT int kw_result_sample_count(int i) { return result_at(i) && !result_at(i)->signal_uv.empty() ? result_at(i)->sample_count : 0; }
KW_EXPORT const float *kw_result_cam(int i) { return result_at(i) && !result_at(i)->cam.empty() ? result_at(i)->cam.data() : nullptr; }
KW_EXPORT int kw_result_cam_count(int i) { return result_at(i) ? static_cast<int>(result_at(i)->cam.size()) : 0; }
