// report/entry.cpp: result_json -> app_result, and storing a result into its worklist entry (see entry.h).
#include "entry.h"
#include "kalium.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

const char *const k_app_measurement_keys[k_app_measurement_count] = {
    "hr_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "p_axis_deg", "qrs_axis_deg", "t_axis_deg"};
const char *const k_app_measurement_labels[k_app_measurement_count] = {
    "Heart rate", "PR", "QRS", "QT", "QTc", "P axis", "QRS axis", "T axis"};
const char *const k_app_measurement_units[k_app_measurement_count] = {"bpm", "ms", "ms", "ms", "ms", "\u00b0", "\u00b0", "\u00b0"};
const char *const k_app_group_keys[k_app_group_count] = {"<=2.5", "2.5-3.5", "3.5-5.5", "5.5-6.5", ">=6.5"};
const char *const k_app_group_labels[k_app_group_count] = {"severe hypokalemia", "hypokalemia", "normokalemia",
                                                           "hyperkalemia", "severe hyperkalemia"};
const char *const k_app_lead_names[k_app_lead_count] = {"I", "II", "III", "aVR", "aVL", "aVF",
                                                        "V1", "V2", "V3", "V4", "V5", "V6"};

namespace {

using json = nlohmann::json;

// The readers record the first problem in `error` (the field and why) and leave the value as it was. No
// exceptions: the app is built without them (Emscripten's default), so nothing here may throw.
struct field_reader {
    std::string error;
    void fail(const std::string &field, const char *what) {
        if (error.empty()) error = field + ": " + what;
    }
};

void read_string(field_reader &f, const json &j, const char *field, std::string &out) {
    auto it = j.find(field);
    if (it == j.end() || it->is_null()) return;
    if (!it->is_string()) return f.fail(field, "expected a string");
    out = it->get<std::string>();
}

void read_number(field_reader &f, const json &j, const char *field, double &out) {
    auto it = j.find(field);
    if (it == j.end() || it->is_null()) return;
    if (!it->is_number()) return f.fail(field, "expected a number");
    out = it->get<double>();
}

void read_bool(field_reader &f, const json &j, const char *field, bool &out) {
    auto it = j.find(field);
    if (it == j.end() || it->is_null()) return;
    if (!it->is_boolean()) return f.fail(field, "expected true or false");
    out = it->get<bool>();
}

template <typename T>
void read_array(field_reader &f, const json &j, const char *field, std::vector<T> &out) {
    auto it = j.find(field);
    if (it == j.end() || it->is_null()) return;
    if (!it->is_array()) return f.fail(field, "expected an array");
    std::vector<T> values;
    for (size_t i = 0; i < it->size(); i++) {
        const json &v = (*it)[i];
        const std::string where = std::string(field) + "[" + std::to_string(i) + "]";
        if constexpr (std::is_same_v<T, std::string>) {
            if (!v.is_string()) return f.fail(where, "expected a string");
            values.push_back(v.get<std::string>());
        } else if constexpr (std::is_same_v<T, bool>) {
            if (!v.is_boolean()) return f.fail(where, "expected true or false");
            values.push_back(v.get<bool>());
        } else if constexpr (std::is_integral_v<T>) {
            if (!v.is_number()) return f.fail(where, "expected a number");
            const double x = v.get<double>();
            if (!(std::fabs(x) < 1e9)) return f.fail(where, "out of range");
            values.push_back(static_cast<T>(x));
        } else {
            if (!v.is_number()) return f.fail(where, "expected a number");
            values.push_back(v.get<T>());
        }
    }
    out = std::move(values);
}

// An object {"<=2.5": p, ...} or null; true when all 5 groups came as numbers.
bool read_group_probs(field_reader &f, const json &j, const char *field, double out[k_app_group_count]) {
    auto probs = j.find(field);
    if (probs == j.end() || probs->is_null()) return false;
    if (!probs->is_object()) {
        f.fail(field, "expected an object or null");
        return false;
    }
    int found = 0;
    const bool had_error = !f.error.empty();
    for (int g = 0; g < k_app_group_count; g++) {
        double p = std::numeric_limits<double>::quiet_NaN();
        read_number(f, *probs, k_app_group_keys[g], p);
        if (std::isfinite(p)) out[g] = p, found++;
    }
    if (!had_error && !f.error.empty()) f.error = std::string(field) + "." + f.error;
    return found == k_app_group_count;
}

void read_measurements(field_reader &f, const json &j, const char *field, app_measurements &out) {
    auto it = j.find(field);
    if (it == j.end() || it->is_null()) return;
    if (!it->is_object()) return f.fail(field, "expected an object or null");
    out.present = true;
    for (int k = 0; k < k_app_measurement_count; k++) {
        auto v = it->find(k_app_measurement_keys[k]);
        if (v == it->end() || v->is_null()) continue;
        if (!v->is_number()) return f.fail(std::string(field) + "." + k_app_measurement_keys[k], "expected a number or null");
        const double x = v->get<double>();
        if (!std::isfinite(x)) continue;
        out.has[k] = true;
        out.value[k] = x;
    }
}

// Days from 1970-01-01 to year-month-day (proleptic Gregorian), H. Hinnant's days_from_civil.
long days_from_civil(long y, unsigned m, unsigned d) {
    y -= m <= 2;
    const long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<long>(doe) - 719468;
}

}  // namespace

bool app_result_parse(const char *json_text, app_result &out, std::string &error) {
    if (!json_text) {
        error = "result_json: missing (null pointer)";
        return false;
    }
    const json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        error = "result_json: not valid JSON";
        return false;
    }
    if (!j.is_object()) {
        error = "result_json: expected an object";
        return false;
    }
    app_result r;
    field_reader f;
    double id = -1;
    read_number(f, j, "id", id);
    r.id = std::fabs(id) < 1e9 ? static_cast<int>(id) : -1;
    read_string(f, j, "file", r.file);
    read_string(f, j, "error", r.error);
    read_string(f, j, "format", r.format);
    read_string(f, j, "patient_id", r.patient_id);
    read_string(f, j, "start_time", r.start_time);
    read_number(f, j, "duration_s", r.duration_s);
    read_number(f, j, "fs_hz", r.fs_hz);
    read_array(f, j, "lead_names", r.lead_names);
    read_array(f, j, "lead_derived", r.lead_derived);
    read_bool(f, j, "display_truncated", r.display_truncated);
    read_array(f, j, "window_start", r.window_start);
    r.k_plus = std::numeric_limits<double>::quiet_NaN();
    read_number(f, j, "k_plus", r.k_plus);
    r.has_k_plus = std::isfinite(r.k_plus);
    if (!r.has_k_plus) r.k_plus = 0.0;
    read_string(f, j, "k_plus_display", r.k_plus_display);
    double group = -1;
    read_number(f, j, "group", group);
    r.group = group >= 0 && group < k_app_group_count ? static_cast<int>(group) : -1;
    read_string(f, j, "group_label", r.group_label);
    r.has_group_probs = read_group_probs(f, j, "group_probs", r.group_probs);
    r.has_group_probs_balanced = read_group_probs(f, j, "group_probs_balanced", r.group_probs_balanced);
    std::vector<double> range;
    read_array(f, j, "k_plus_range", range);
    read_number(f, j, "k_plus_range_level", r.k_range_level);
    if (range.size() == 2 && std::isfinite(range[0]) && std::isfinite(range[1]) && range[0] <= range[1]) {
        r.has_k_range = true;
        r.k_low = range[0];
        r.k_high = range[1];
    } else if (!range.empty()) {
        f.fail("k_plus_range", "expected [low, high] with low <= high");
    }
    read_string(f, j, "population", r.population);
    read_string(f, j, "k_plus_flag", r.k_plus_flag);
    if (!r.k_plus_flag.empty() && r.k_plus_flag != "hypokalemia" && r.k_plus_flag != "hyperkalemia")
        f.fail("k_plus_flag", "expected \"hypokalemia\", \"hyperkalemia\" or null");
    read_array(f, j, "lead_k", r.lead_k);
    read_array(f, j, "lead_attention", r.lead_attention);
    read_measurements(f, j, "measurements", r.measurements);
    read_measurements(f, j, "cart_measurements", r.cart_measurements);
    read_array(f, j, "warnings", r.warnings);
    read_array(f, j, "reliability_reasons", r.reliability_reasons);
    auto model = j.find("model");
    if (model != j.end() && !model->is_null()) {
        if (!model->is_object()) {
            f.fail("model", "expected an object");
        } else {
            read_string(f, *model, "name", r.model_name);
            read_string(f, *model, "sha256", r.model_sha256);
        }
    }
    read_number(f, j, "infer_ms", r.infer_ms);
    if (!f.error.empty()) {
        error = "result_json: " + f.error;
        return false;
    }
    if (!(r.fs_hz > 0.0) || !std::isfinite(r.fs_hz)) {
        error = "result_json: fs_hz: must be a positive number";
        return false;
    }
    if (r.group < 0 && r.has_k_plus) {
        // Older producers sent only the estimate: derive the group with kalium's edges.
        r.group = kalium::k_group_of(r.k_plus);
    }
    if (r.group_label.empty() && r.group >= 0) r.group_label = k_app_group_labels[r.group];
    if (r.k_plus_display.empty() && r.has_k_plus) r.k_plus_display = kalium::k_display(r.k_plus);
    out = std::move(r);
    return true;
}

bool app_entry_set_result(app_entry &entry, const char *result_json, const float *signal_uv, int lead_count,
                          int sample_count, const float *cam, int cam_count) {
    entry.generation++;
    entry.signal_uv.clear();
    entry.cam.clear();
    entry.lead_count = entry.sample_count = 0;
    app_result r;
    std::string error;
    if (!app_result_parse(result_json, r, error)) {
        entry.result = app_result();
        entry.result.id = entry.id;
        entry.result.file = entry.name;
        entry.result.error = error;
        entry.status = app_entry_status::failed;
        return false;
    }
    if (r.file.empty()) r.file = entry.name;
    if (!r.error.empty()) {
        entry.result = std::move(r);
        entry.status = app_entry_status::failed;
        return true;
    }
    if (signal_uv && lead_count > 0 && sample_count > 0) {
        if (lead_count > k_app_lead_count) {
            r.warnings.push_back("display: " + std::to_string(lead_count) + " leads sent, the first 12 are shown");
            // Lead-major: the first 12 leads are the first 12 * sample_count values.
        }
        const int leads = std::min(lead_count, k_app_lead_count);
        entry.signal_uv.assign(signal_uv, signal_uv + static_cast<size_t>(leads) * static_cast<size_t>(sample_count));
        for (float &v : entry.signal_uv)
            if (!std::isfinite(v)) v = 0.0f;
        entry.lead_count = leads;
        entry.sample_count = sample_count;
    }
    if (cam && cam_count > 0) {
        if (cam_count == k_app_lead_count * k_app_window_samples) {
            entry.cam.assign(cam, cam + cam_count);
            for (float &v : entry.cam) v = std::isfinite(v) ? std::clamp(v, 0.0f, 1.0f) : 0.0f;
        } else {
            r.warnings.push_back("display: class-activation map has " + std::to_string(cam_count) +
                                 " values, expected 12 x 1250; not shown");
        }
    }
    if (r.window_start.size() != static_cast<size_t>(k_app_lead_count)) r.window_start.assign(k_app_lead_count, 0);
    for (int &w : r.window_start) w = std::max(0, w);
    entry.has_start_time = app_parse_iso_time(r.start_time, entry.start_time_s);
    entry.result = std::move(r);
    entry.status = app_entry_status::done;
    return true;
}

bool app_parse_iso_time(const std::string &text, double &seconds) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, consumed = 0;
    double s = 0.0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*1[T ]%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &s, &consumed) < 6) {
        // Date only is still a point in time for a trend.
        if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) < 3) return false;
        h = mi = 0;
        s = 0.0;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0.0 || s >= 61.0) return false;
    double offset_s = 0.0;
    const char *rest = text.c_str() + consumed;
    int oh = 0, om = 0;
    if ((rest[0] == '+' || rest[0] == '-') && std::sscanf(rest + 1, "%2d:%2d", &oh, &om) == 2)
        offset_s = (rest[0] == '+' ? 1.0 : -1.0) * (oh * 3600.0 + om * 60.0);
    seconds = static_cast<double>(days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d))) * 86400.0 +
              h * 3600.0 + mi * 60.0 + s - offset_s;
    return true;
}

double app_entry_value_uv(const app_entry &entry, int lead, double time_s) {
    if (lead < 0 || lead >= entry.lead_count || entry.sample_count <= 0) return std::numeric_limits<double>::quiet_NaN();
    const double position = time_s * entry.result.fs_hz;
    if (!(position >= 0.0) || position > entry.sample_count - 1) return std::numeric_limits<double>::quiet_NaN();
    const size_t i0 = static_cast<size_t>(position);
    const size_t i1 = std::min(i0 + 1, static_cast<size_t>(entry.sample_count - 1));
    const double f = position - static_cast<double>(i0);
    const float *x = entry.signal_uv.data() + static_cast<size_t>(lead) * static_cast<size_t>(entry.sample_count);
    return x[i0] * (1.0 - f) + x[i1] * f;
}
