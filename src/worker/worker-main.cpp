// worker/worker-main.cpp: the analysis module of the browser app, run inside a Web Worker
// (build/wasm/site/kalium-worker.{js,wasm}; web/kalium-worker.js drives it). Everything that reads,
// prepares and predicts happens here, off the page's main thread:
//
//   files (bytes, as the user named them) -> ecg_read_all -> ecg_prepare_input -> k_model::predict
//   (+ ecg_measure) -> one result per record: the app contract's result_json (its keys are listed below), the
//      display signal (12 x n float microvolts at 500 Hz, baseline removed, at most 60 s) and the CAMs.
//
// The C API (all functions are called from one thread; pointers returned stay valid until the next
// kw_analyse or kw_files_clear):
//   kw_load_model(data, size, manifest_text)  load ECG12Net; the file's sha256 must match the manifest
//                                             ("<64 hex>  name", as sha256sum writes it). 0, or -1 (kw_error).
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
// k_plus_display, group, group_label, group_probs, lead_k, lead_attention, warnings, model), measurements
// (kalium's own, ecg_measure; null when none could be made), measurement_warnings (why a value is missing),
// cart_measurements (the file's, or null), infer_ms
// (k_model::predict alone), analyse_ms (reading + preparing + predicting + the display signal) and timing_ms
// ({read, prepare, infer, display, measure}: where that time went).
#include "kalium.h"
#include "nn/prediction-json.h"

#include <emscripten.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr double k_display_max_s = 60.0;  // the display signal is at most this long (the contract's limit)

struct pending_file {
    std::string name;
    uint8_t *data = nullptr;  // from malloc (JS's _malloc), freed by clear_files()
    size_t size = 0;
};

struct analysis_result {
    std::string json;
    std::vector<float> signal_uv;  // lead-major, lead_count x sample_count
    int lead_count = 0;
    int sample_count = 0;
    std::vector<float> cam;        // 12 x 1250
};

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

// The contract's measurement object: every key present, null where the file (or kalium) has no value.
nlohmann::ordered_json measurements_json(const kalium::ecg_measurements &m) {
    if (m.empty()) return nullptr;
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    auto put = [&](const char *key, const std::optional<double> &v) {
        j[key] = v && std::isfinite(*v) ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
    };
    put("hr_bpm", m.hr_bpm);
    put("pr_ms", m.pr_ms);
    put("qrs_ms", m.qrs_ms);
    put("qt_ms", m.qt_ms);
    put("qtc_ms", m.qtc_ms);
    put("p_axis_deg", m.p_axis_deg);
    put("qrs_axis_deg", m.qrs_axis_deg);
    put("t_axis_deg", m.t_axis_deg);
    return j;
}

// The keys every result has, filled as far as the record is known (`record` may be null).
nlohmann::ordered_json base_json(int id, const std::string &file, const kalium::ecg_record *record, size_t size_bytes) {
    nlohmann::ordered_json j;
    j["id"] = id;
    j["file"] = file;
    j["error"] = "";
    j["error_code"] = "";
    j["format"] = record ? record->format : "";
    j["patient_id"] = record ? record->patient.id : "";
    j["start_time"] = record ? record->start_time : "";
    j["duration_s"] = record ? record->duration_s() : 0.0;
    j["source_fs_hz"] = record ? record->fs_hz : 0.0;
    j["fs_hz"] = kalium::k_network_fs_hz;
    j["lead_count"] = record ? record->leads.size() : 0;
    j["size_bytes"] = size_bytes;
    return j;
}

void set_error(nlohmann::ordered_json &j, const kalium::status &error, const kalium::ecg_record *record) {
    j["error"] = error.message().empty() ? std::string("analysis failed") : error.message();
    j["error_code"] = kalium::status_code_name(error.code());
    j["k_plus"] = nullptr;
    j["k_plus_display"] = "";
    j["group"] = nullptr;
    j["group_label"] = "";
    j["warnings"] = record ? record->warnings : std::vector<std::string>();
    j["cart_measurements"] = record ? measurements_json(record->cart) : nullptr;
    j["measurements"] = nullptr;
}

// When the record cannot be measured: each standard lead at 500 Hz with the baseline removed
// (ecg_prepare_input's steps), in microvolts, cut to the first 60 s (the source is cut first, so long
// records cost no more than 60 s; the 600 ms baseline median makes the cut invisible before its last 0.3 s).
void display_signal(const kalium::ecg_record &record, analysis_result &out, bool &truncated) {
    const size_t max_source = static_cast<size_t>(std::ceil(k_display_max_s * record.fs_hz));
    const size_t max_500 = static_cast<size_t>(k_display_max_s * kalium::k_network_fs_hz);
    truncated = record.sample_count() > max_source;
    out.lead_count = kalium::k_standard_lead_count;
    std::vector<float> source;
    for (int l = 0; l < kalium::k_standard_lead_count; l++) {
        const kalium::ecg_lead *lead = record.find(static_cast<kalium::lead_id>(l));
        std::vector<float> at_500;
        if (lead) {
            source.assign(lead->samples_uv.begin(), lead->samples_uv.begin() + std::min(lead->samples_uv.size(), max_source));
            at_500 = kalium::dsp_remove_baseline(kalium::dsp_resample(source, record.fs_hz, kalium::k_network_fs_hz),
                                                 kalium::k_network_fs_hz);
        }
        if (l == 0) {
            out.sample_count = static_cast<int>(std::min(at_500.size(), max_500));
            out.signal_uv.assign(static_cast<size_t>(out.sample_count) * kalium::k_standard_lead_count, 0.0f);
        }
        const size_t n = std::min(at_500.size(), static_cast<size_t>(out.sample_count));
        std::copy(at_500.begin(), at_500.begin() + static_cast<std::ptrdiff_t>(n),
                  out.signal_uv.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(l) * out.sample_count));
    }
}

// The display signal from ecg_measure's leads (500 Hz, mains notched, 0.5 Hz zero-phase high-pass), cut to
// the first 60 s.
void display_from_analysis(const std::vector<std::vector<float>> &leads_uv, const kalium::ecg_record &record,
                           analysis_result &out, bool &truncated) {
    const size_t max_500 = static_cast<size_t>(k_display_max_s * kalium::k_network_fs_hz);
    const size_t n_all = leads_uv[0].size();
    truncated = n_all > max_500 || record.duration_s() > k_display_max_s;
    out.lead_count = kalium::k_standard_lead_count;
    out.sample_count = static_cast<int>(std::min(n_all, max_500));
    const size_t n = static_cast<size_t>(out.sample_count);
    out.signal_uv.assign(n * kalium::k_standard_lead_count, 0.0f);
    for (size_t l = 0; l < leads_uv.size(); l++)
        std::copy(leads_uv[l].begin(), leads_uv[l].begin() + static_cast<std::ptrdiff_t>(std::min(n, leads_uv[l].size())),
                  out.signal_uv.begin() + static_cast<std::ptrdiff_t>(l * n));
}

analysis_result analyse_record(int id, const std::string &file, const kalium::ecg_record &record, size_t size_bytes,
                               std::chrono::steady_clock::time_point t0, double read_ms) {
    analysis_result out;
    nlohmann::ordered_json j = base_json(id, file, &record, size_bytes);
    // kalium's own measurements first (ecg_measure: median beat, delineation, the 8 EMPs): their quality
    // findings are given to the preparation (the record is checked once) and their filtered 500 Hz leads are
    // the display signal (no second resampling).
    const auto t_measure = std::chrono::steady_clock::now();
    auto measured = kalium::ecg_measure(record);
    const double measure_ms = ms_since(t_measure);
    const auto t_prepare = std::chrono::steady_clock::now();
    auto prepared = measured ? kalium::ecg_prepare_input(record, measured->quality) : kalium::ecg_prepare_input(record);
    const double prepare_ms = ms_since(t_prepare);
    if (!prepared) {
        set_error(j, prepared.error(), &record);
        out.json = j.dump();
        return out;
    }
    if (!state().model) {
        set_error(j, kalium::status(kalium::status_code::internal, "worker: the model is not loaded"), &record);
        out.json = j.dump();
        return out;
    }
    const auto t_infer = std::chrono::steady_clock::now();
    auto predicted = state().model->predict(prepared.value());
    const double infer_ms = ms_since(t_infer);
    if (!predicted) {
        set_error(j, predicted.error(), &record);
        out.json = j.dump();
        return out;
    }
    kalium::k_prediction &p = predicted.value();
    // the reader's warnings first (preparation's and the model's are in the prediction already), as the CLI does
    p.warnings.insert(p.warnings.begin(), record.warnings.begin(), record.warnings.end());

    bool truncated = false;
    const auto t_display = std::chrono::steady_clock::now();
    if (measured && measured->signal_500hz_uv.size() == static_cast<size_t>(kalium::k_standard_lead_count))
        display_from_analysis(measured->signal_500hz_uv, record, out, truncated);
    else
        display_signal(record, out, truncated);
    const double display_ms = ms_since(t_display);
    out.cam = p.cam;

    nlohmann::ordered_json names = nlohmann::ordered_json::array(), derived = nlohmann::ordered_json::array(),
                           starts = nlohmann::ordered_json::array();
    for (int l = 0; l < kalium::k_standard_lead_count; l++) {
        const kalium::ecg_lead *lead = record.find(static_cast<kalium::lead_id>(l));
        names.push_back(kalium::lead_id_name(static_cast<kalium::lead_id>(l)));
        derived.push_back(lead && lead->derived);
        starts.push_back(p.window_start[l]);
    }
    j["lead_names"] = names;
    j["lead_derived"] = derived;
    j["display_truncated"] = truncated;
    j["window_start"] = starts;
    kalium::prediction_json_add(j, p, kalium::prediction_json_shape::app);
    j["measurements"] = measured ? measurements_json(measured->values) : nullptr;
    j["measurement_warnings"] = measured ? measured->warnings : std::vector<std::string>{measured.error().message()};
    j["cart_measurements"] = measurements_json(record.cart);
    j["infer_ms"] = infer_ms;
    j["analyse_ms"] = ms_since(t0);
    j["timing_ms"] = {{"read", read_ms}, {"prepare", prepare_ms}, {"infer", infer_ms}, {"display", display_ms},
                      {"measure", measure_ms}};
    out.json = j.dump();
    return out;
}

}  // namespace

#define KW_EXPORT extern "C" EMSCRIPTEN_KEEPALIVE

KW_EXPORT const char *kw_error() { return state().error.c_str(); }

KW_EXPORT int kw_load_model(const uint8_t *data, size_t size, const char *manifest_text) {
    worker_state &s = state();
    kalium::model_options options;
    options.threads = 1;
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
            s.results.push_back(analyse_record(result_id, o.name, *o.record, size_bytes, t0, read_ms));
        } else {
            analysis_result r;
            nlohmann::ordered_json j = base_json(result_id, o.name, nullptr, size_bytes);
            set_error(j, o.error, nullptr);
            r.json = j.dump();
            s.results.push_back(std::move(r));
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
