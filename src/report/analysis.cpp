// report/analysis.cpp: see analysis.h. Moved here from the worker so that `kalium report` makes its PDF from
// exactly what the browser app receives.
#include "analysis.h"
#include "core/measurement-fields.h"
#include "nn/prediction-json.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace kalium {

namespace {

constexpr double k_display_max_s = 60.0;  // the display signal is at most this long (the contract's limit)

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// The contract's measurement object: every key present, null where the file (or kalium) has no value.
nlohmann::ordered_json measurements_json(const ecg_measurements &m) {
    if (m.empty()) return nullptr;
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    auto put = [&](const char *key, const std::optional<double> &v) {
        j[key] = v && std::isfinite(*v) ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
    };
    for (const ecg_measurement_field &f : k_ecg_measurement_fields) put(f.key, m.*f.value);
    return j;
}

// The keys every result has, filled as far as the record is known (`record` may be null).
nlohmann::ordered_json base_json(int id, const std::string &file, const ecg_record *record, size_t size_bytes) {
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
    j["fs_hz"] = k_network_fs_hz;
    j["lead_count"] = record ? record->leads.size() : 0;
    j["size_bytes"] = size_bytes;
    return j;
}

void set_error(nlohmann::ordered_json &j, const status &error, const ecg_record *record) {
    j["error"] = error.message().empty() ? std::string("analysis failed") : error.message();
    j["error_code"] = status_code_name(error.code());
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
void display_signal(const ecg_record &record, analysis_output &out, bool &truncated) {
    const size_t max_source = static_cast<size_t>(std::ceil(k_display_max_s * record.fs_hz));
    const size_t max_500 = static_cast<size_t>(k_display_max_s * k_network_fs_hz);
    truncated = record.sample_count() > max_source;
    out.lead_count = k_standard_lead_count;
    std::vector<float> source;
    for (int l = 0; l < k_standard_lead_count; l++) {
        const ecg_lead *lead = record.find(static_cast<lead_id>(l));
        std::vector<float> at_500;
        if (lead) {
            source.assign(lead->samples_uv.begin(), lead->samples_uv.begin() + std::min(lead->samples_uv.size(), max_source));
            at_500 = dsp_remove_baseline(dsp_resample(source, record.fs_hz, k_network_fs_hz), k_network_fs_hz);
        }
        if (l == 0) {
            out.sample_count = static_cast<int>(std::min(at_500.size(), max_500));
            out.signal_uv.assign(static_cast<size_t>(out.sample_count) * k_standard_lead_count, 0.0f);
        }
        const size_t n = std::min(at_500.size(), static_cast<size_t>(out.sample_count));
        std::copy(at_500.begin(), at_500.begin() + static_cast<std::ptrdiff_t>(n),
                  out.signal_uv.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(l) * out.sample_count));
    }
}

// The display signal from ecg_measure's leads (500 Hz, mains notched, 0.5 Hz zero-phase high-pass), cut to
// the first 60 s.
void display_from_analysis(const std::vector<std::vector<float>> &leads_uv, const ecg_record &record,
                           analysis_output &out, bool &truncated) {
    const size_t max_500 = static_cast<size_t>(k_display_max_s * k_network_fs_hz);
    const size_t n_all = leads_uv[0].size();
    truncated = n_all > max_500 || record.duration_s() > k_display_max_s;
    out.lead_count = k_standard_lead_count;
    out.sample_count = static_cast<int>(std::min(n_all, max_500));
    const size_t n = static_cast<size_t>(out.sample_count);
    out.signal_uv.assign(n * k_standard_lead_count, 0.0f);
    for (size_t l = 0; l < leads_uv.size(); l++)
        std::copy(leads_uv[l].begin(), leads_uv[l].begin() + static_cast<std::ptrdiff_t>(std::min(n, leads_uv[l].size())),
                  out.signal_uv.begin() + static_cast<std::ptrdiff_t>(l * n));
}

}  // namespace

analysis_output analysis_failed(int id, const std::string &file, const status &error, size_t size_bytes) {
    analysis_output out;
    nlohmann::ordered_json j = base_json(id, file, nullptr, size_bytes);
    set_error(j, error, nullptr);
    out.json = j.dump();
    return out;
}

analysis_output analysis_run(int id, const std::string &file, const ecg_record &record, size_t size_bytes,
                             k_model *model, double read_ms, std::chrono::steady_clock::time_point t0) {
    analysis_output out;
    nlohmann::ordered_json j = base_json(id, file, &record, size_bytes);
    // kalium's own measurements first (ecg_measure: median beat, delineation, the 8 EMPs): their quality
    // findings are given to the preparation (the record is checked once) and their filtered 500 Hz leads are
    // the display signal (no second resampling).
    const auto t_measure = std::chrono::steady_clock::now();
    auto measured = ecg_measure(record);
    const double measure_ms = ms_since(t_measure);
    const auto t_prepare = std::chrono::steady_clock::now();
    const std::vector<quality_warning> quality = measured ? measured->quality : ecg_check_quality(record);
    auto prepared = ecg_prepare_input(record, quality);
    const double prepare_ms = ms_since(t_prepare);
    if (!prepared) {
        set_error(j, prepared.error(), &record);
        out.json = j.dump();
        return out;
    }
    if (!model) {
        set_error(j, status(status_code::internal, "analysis: the model is not loaded"), &record);
        out.json = j.dump();
        return out;
    }
    const auto t_infer = std::chrono::steady_clock::now();
    auto predicted = model->predict(prepared.value());
    const double infer_ms = ms_since(t_infer);
    if (!predicted) {
        set_error(j, predicted.error(), &record);
        out.json = j.dump();
        return out;
    }
    k_prediction &p = predicted.value();
    // the reader's warnings first (preparation's and the model's are in the prediction already), as the CLI does
    p.warnings.insert(p.warnings.begin(), record.warnings.begin(), record.warnings.end());

    bool truncated = false;
    const auto t_display = std::chrono::steady_clock::now();
    if (measured && measured->signal_500hz_uv.size() == static_cast<size_t>(k_standard_lead_count))
        display_from_analysis(measured->signal_500hz_uv, record, out, truncated);
    else
        display_signal(record, out, truncated);
    const double display_ms = ms_since(t_display);
    out.cam = p.cam;

    nlohmann::ordered_json names = nlohmann::ordered_json::array(), derived = nlohmann::ordered_json::array(),
                           starts = nlohmann::ordered_json::array();
    for (int l = 0; l < k_standard_lead_count; l++) {
        const ecg_lead *lead = record.find(static_cast<lead_id>(l));
        names.push_back(lead_id_name(static_cast<lead_id>(l)));
        derived.push_back(lead && lead->derived);
        starts.push_back(p.window_start[l]);
    }
    j["lead_names"] = names;
    j["lead_derived"] = derived;
    j["display_truncated"] = truncated;
    j["window_start"] = starts;
    // the prediction's keys, its reliability mark among them (from `quality`, which the preparation was given)
    prediction_json_add(j, p, prediction_json_shape::app);
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

}  // namespace kalium
