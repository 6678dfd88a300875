// report/entry.h: one worklist entry as the app keeps it: what the page told us about a file (queued), and the
// analysis result it sent later (result_json of app-contract, the signal and the class-activation maps).
// Plain C++ and nlohmann-json only (no ImGui), so it can be tested anywhere; the PDF report (report.h) reads the
// same struct, so the app and `kalium report` describe an ECG from the same fields.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

constexpr int k_app_lead_count = 12;        // I, II, III, aVR, aVL, aVF, V1..V6
constexpr int k_app_window_samples = 1250;  // 2.5 s at 500 Hz: one network window per lead
constexpr double k_app_window_fs_hz = 500.0;  // the rate of window_start and of the CAM
constexpr int k_app_group_count = 5;
constexpr int k_app_measurement_count = 8;

enum class app_entry_status { working, done, failed };

// hr_bpm, pr_ms, qrs_ms, qt_ms, qtc_ms, p_axis_deg, qrs_axis_deg, t_axis_deg: the keys of result_json's
// "measurements" and "cart_measurements", in this order.
extern const char *const k_app_measurement_keys[k_app_measurement_count];
extern const char *const k_app_measurement_labels[k_app_measurement_count];  // "Heart rate", ...
extern const char *const k_app_measurement_units[k_app_measurement_count];   // "bpm", "ms", "°"
// The 5 K+ groups as result_json names them: "<=2.5", ..., ">=6.5" (group_probs keys) and their labels.
extern const char *const k_app_group_keys[k_app_group_count];
extern const char *const k_app_group_labels[k_app_group_count];
extern const char *const k_app_lead_names[k_app_lead_count];

struct app_measurements {
    bool present = false;                         // the object was there (not null)
    bool has[k_app_measurement_count] = {};       // per key: a number, not null/absent
    double value[k_app_measurement_count] = {};
};

// The fields of result_json the views use (app-contract.md). Absent optional fields keep these defaults.
struct app_result {
    int id = -1;
    std::string file, error, format, patient_id, start_time;
    double duration_s = 0.0, fs_hz = 500.0;
    std::vector<std::string> lead_names;
    std::vector<bool> lead_derived;
    bool display_truncated = false;
    std::vector<int> window_start;  // per lead, 500 Hz samples
    bool has_k_plus = false;
    double k_plus = 0.0;
    std::string k_plus_display;     // "4.3", "<1.5", ">7.5"
    int group = -1;                 // 0..4, -1 unknown
    std::string group_label;
    bool has_group_probs = false;
    double group_probs[k_app_group_count] = {};          // under the population's prevalence when `population` is set
    bool has_k_range = false;                            // k_plus_range came: [k_low, k_high] holds k_range_level of K+
    double k_low = 0.0, k_high = 0.0, k_range_level = 0.0;
    bool has_group_probs_balanced = false;               // equal group priors (the 100 labelled ECGs' balance)
    double group_probs_balanced[k_app_group_count] = {};
    std::string population;                              // whose prevalence k_plus, its range and group_probs assume
    std::string k_plus_flag;                             // "hypokalemia", "hyperkalemia" or empty (see prediction-json.h)
    std::vector<double> lead_k, lead_attention;
    app_measurements measurements, cart_measurements;
    std::vector<std::string> warnings;
    // Why the estimate is less reliable ("paced rhythm", "lead V2 noisy", ...; kalium.h, ecg_reliability_reasons);
    // empty when nothing is known against it. The number is still shown, marked with these reasons.
    std::vector<std::string> reliability_reasons;
    std::string model_name, model_sha256;
    double infer_ms = 0.0;
};

struct app_entry {
    int id = 0;
    std::string name;
    app_entry_status status = app_entry_status::working;
    app_result result;
    std::vector<float> signal_uv;  // lead-major lead_count x sample_count, microvolts at result.fs_hz
    int lead_count = 0, sample_count = 0;
    std::vector<float> cam;        // lead-major 12 x 1250 in [0,1]; empty when none came
    double start_time_s = 0.0;     // start_time as seconds since 1970 (UTC assumed); valid if has_start_time
    bool has_start_time = false;
    uint64_t generation = 0;       // bumped whenever the data changes (views cache what they derive from it)
};

// Parses result_json into `out`. Returns false with `error` naming what is wrong (the field and why) when the
// text is not JSON or a field has the wrong type; fields that are absent keep their defaults.
bool app_result_parse(const char *json_text, app_result &out, std::string &error);

// Stores a result into the entry: copies the arrays it keeps, validates their sizes against result_json
// (fs, window starts) and turns the entry into done or failed. Sizes that do not fit are dropped with a
// warning appended to result.warnings, never read out of bounds. Returns false when result_json is unusable
// (then the entry is failed with that message).
bool app_entry_set_result(app_entry &entry, const char *result_json, const float *signal_uv, int lead_count,
                          int sample_count, const float *cam, int cam_count);

// "2019-03-01T10:22:05" (optionally with fractional seconds and Z/+hh:mm) -> seconds since 1970. False if
// it is not such a date-time.
bool app_parse_iso_time(const std::string &text, double &seconds);

// Signal value (microvolts) of `lead` at `time_s`, linearly interpolated; NaN outside the record.
double app_entry_value_uv(const app_entry &entry, int lead, double time_s);
