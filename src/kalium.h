// kalium.h: the public API of kalium's core library, the only header its clients (CLI, web app, Python
// module, tests) include.
//
// kalium estimates serum potassium (K+) from a 12-lead ECG with ECG12Net (Lin CS et al., JMIR Med
// Inform 2020;8(3):e15931). Research use only; not a medical device.
//
// Basic usage (the parts marked "later" arrive with the reader, model and pipeline issues):
//
//   kalium::log_set_sink(my_sink, my_context);          // optional: route messages to your UI/logger
//   printf("kalium %s\n", kalium::version_string());
//   kalium::status st = some_kalium_call(...);
//   if (!st.ok()) fprintf(stderr, "%s\n", st.message().c_str());
//
// Errors: no exception crosses this header. Every fallible call returns a kalium::status (or a
// kalium::result<T>) carrying a code and a message of the form "<where>: <what> (got X, expected Y)".
//
// Index of this file
//   [SECTION] Version
//   [SECTION] Status and result
//   [SECTION] Log sink
//   [SECTION] ECG record
//   [SECTION] Reading ECG files
//   [SECTION] Writing ECG files
//   [SECTION] Preparing the network input
//   [SECTION] Signal quality and measurements
//   [SECTION] Estimating K+ (ECG12Net on XNNPACK; library kalium_nn)
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kalium {

// [SECTION] Version ------------------------------------------------------------------------------------

// "MAJOR.MINOR.PATCH", from the CMake project version.
const char *version_string();
int version_major();
int version_minor();
int version_patch();
// What this build is: target ("native x86_64", "wasm32 simd128") and build type.
const char *build_description();

// [SECTION] Status and result ---------------------------------------------------------------------------

enum class status_code {
    ok = 0,
    invalid_argument,  // the caller passed something the API does not accept
    bad_format,        // input bytes are not what they claim to be (truncated, inconsistent, corrupt)
    unsupported,       // well-formed input using a feature kalium does not handle
    too_large,         // input exceeds one of kalium's explicit limits
    out_of_memory,
    io_error,          // a file could not be opened, read or written
    internal,          // a bug in kalium or a dependency; the message says where
};

// Stable lower-case name of a code ("bad_format"), for logs and JSON.
const char *status_code_name(status_code code);

class status {
public:
    status() = default;  // success
    status(status_code code, std::string message) : code_(code), message_(std::move(message)) {}

    static status success() { return status(); }
    // printf-style message; the format should begin with where the problem is found.
    static status error(status_code code, const char *format, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 2, 3)))
#endif
        ;

    bool ok() const { return code_ == status_code::ok; }
    explicit operator bool() const { return ok(); }
    status_code code() const { return code_; }
    const std::string &message() const { return message_; }
    // "bad_format: <message>", or "ok".
    std::string to_string() const;

private:
    status_code code_ = status_code::ok;
    std::string message_;
};

// A value or the status that says why there is none.
template <class T>
class result {
public:
    result(T value) : value_(std::move(value)) {}
    result(status error) : status_(std::move(error)) {
        if (status_.ok()) status_ = status(status_code::internal, "result: constructed from a success status without a value");
    }

    bool ok() const { return value_.has_value(); }
    explicit operator bool() const { return ok(); }
    const status &error() const { return status_; }
    // Precondition: ok(). Accessing the value of a failed result is a programming error.
    T &value() & { return *value_; }
    const T &value() const & { return *value_; }
    T &&value() && { return std::move(*value_); }
    T *operator->() { return &*value_; }
    const T *operator->() const { return &*value_; }

private:
    std::optional<T> value_;
    status status_;
};

// [SECTION] Log sink ------------------------------------------------------------------------------------

enum class log_level { debug = 0, info, warning, error };

const char *log_level_name(log_level level);

// Receives every message at or above the minimum level. `message` has no trailing newline and is valid
// only during the call. The sink may be called from any thread that calls into kalium.
using log_sink_fn = void (*)(log_level level, const char *message, void *user_data);

// Replace the sink; nullptr restores the default (stderr, "kalium: warning: ..."). Process-wide.
void log_set_sink(log_sink_fn sink, void *user_data);
// Messages below this level are dropped before formatting. Default: info.
void log_set_min_level(log_level level);
log_level log_min_level();

void log_message(log_level level, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

// [SECTION] ECG record ------------------------------------------------------------------------------------
// A format-independent resting ECG: leads as physical values in microvolts on one time base.

enum class lead_id { I = 0, II, III, aVR, aVL, aVF, V1, V2, V3, V4, V5, V6, other };
constexpr int k_standard_lead_count = 12;

// "I", "II", ..., "V6"; "other" for lead_id::other.
const char *lead_id_name(lead_id id);
// Recognises the many spellings files use for the 12 standard leads ("I", "Lead I", "leadI", "DI", "AVR",
// "aVR", "V1", "Lead_V1", "MDC_ECG_LEAD_AVR", ...), case-insensitively. Anything else is lead_id::other.
lead_id lead_id_from_label(std::string_view label);

struct ecg_lead {
    std::string name;                // standard name ("I", "aVR", "V1") or the file's own label for other channels
    lead_id id = lead_id::other;
    std::vector<float> samples_uv;   // physical values in microvolts; NaN marks a sample the file says is missing
    double gain_adu_per_mv = 0.0;    // the file's gain, ADC units per millivolt; 0 when it stores physical values
    double baseline_adu = 0.0;       // the file's ADC value for 0 mV
    std::string units;               // the file's amplitude units as written ("mV", "uV", "0.01 mV", "digits")
    bool derived = false;            // computed by kalium from other leads (Einthoven/Goldberger), not in the file
};

// Interval and axis measurements, the cart's own when read from a file. Absent values are std::nullopt.
struct ecg_measurements {
    std::optional<double> hr_bpm, pr_ms, qrs_ms, qt_ms, qtc_ms, p_axis_deg, qrs_axis_deg, t_axis_deg;
    bool empty() const {
        return !hr_bpm && !pr_ms && !qrs_ms && !qt_ms && !qtc_ms && !p_axis_deg && !qrs_axis_deg && !t_axis_deg;
    }
};

struct ecg_patient {
    std::string id;
    std::optional<double> age_years;
    std::string sex;  // "male", "female", or "" when not stated
};

// Representative (median / average) beats when the file has them, on their own time base.
struct ecg_median_beats {
    double fs_hz = 0.0;
    std::vector<ecg_lead> leads;
};

struct ecg_record {
    std::string source_name;     // the file it came from (for WFDB, the .hea)
    std::string format;          // "wfdb", "philips-xml", "ge-muse-xml", "hl7-aecg", "scp-ecg", "dicom", "edf", "csv"
    std::string format_detail;   // version or variant, e.g. "1.04", "EDF+C", "212", "12-lead ECG waveform storage"
    double fs_hz = 0.0;          // sampling rate of every lead in `leads`
    std::vector<ecg_lead> leads; // all of the same length; standard leads first in standard order, then others
    std::string start_time;      // ISO 8601 as far as the file states it ("2019-03-01T10:22:05"); "" if unknown
    ecg_patient patient;
    std::string device;          // cart / software that made the file, as stated
    ecg_measurements cart;       // the cart's own measurements, when the file carries them
    std::vector<std::string> statements;  // the cart's interpretation statements, in file order
    std::vector<std::string> warnings;    // what the reader noticed and the user should know
    std::optional<ecg_median_beats> median;

    size_t sample_count() const { return leads.empty() ? 0 : leads.front().samples_uv.size(); }
    double duration_s() const { return fs_hz > 0.0 ? static_cast<double>(sample_count()) / fs_hz : 0.0; }
    const ecg_lead *find(lead_id id) const;
    ecg_lead *find(lead_id id);
};

// Derives the limb leads the record lacks from those it has (any two of I, II, III give the third; I and II
// give aVR, aVL, aVF by Goldberger's relations), marking them derived. Leaves present leads untouched.
void ecg_derive_missing_limb_leads(ecg_record &record);
// Puts the 12 standard leads first, in standard order, then the other channels in file order.
void ecg_sort_leads(ecg_record &record);

// [SECTION] Reading ECG files ----------------------------------------------------------------------------
// Readers take bytes, never paths: the browser, the CLI and the tests share one code path.

struct named_bytes {
    std::string name;            // file name as the user gave it (used to pair WFDB files, and in messages)
    const uint8_t *data = nullptr;
    size_t size = 0;
};

struct read_options {
    // CSV files that do not say their sampling rate or amplitude unit: state them here (0 = recognise).
    double csv_fs_hz = 0.0;
    double csv_uv_per_unit = 0.0;
};

// Limits every reader enforces (a file beyond them is refused with status_code::too_large). Together they bound
// the memory one file can take: its bytes (k_max_file_bytes) plus the record's float samples (4 x
// k_max_total_samples = 256 MiB); preparation then works on one lead at a time.
constexpr size_t k_max_file_bytes = size_t(512) << 20;       // 512 MiB
constexpr size_t k_max_leads = 64;
constexpr size_t k_max_total_samples = size_t(64) << 20;     // over all leads: 256 MiB of float samples
// Longest recording read: resting ECGs last 10 s; an hour keeps whole-lead preparation to seconds and refuses
// Holter days (24 h) with a message instead of minutes of work for 10 s the network uses.
constexpr double k_max_duration_s = 3600.0;

// The format a buffer holds, found by its content (never by its extension); "" if none is recognised.
// One of the `format` names of ecg_record.
std::string ecg_sniff_format(const uint8_t *data, size_t size);

// Reads one ECG file. `companions` are the other files given with it (WFDB signal files for a .hea).
result<ecg_record> ecg_read(const named_bytes &file, const std::vector<named_bytes> &companions = {},
                            const read_options &options = {});

// What became of one input of ecg_read_all.
struct ecg_read_outcome {
    std::string name;                    // the input's name
    std::optional<ecg_record> record;    // set when a record was read from it
    status error;                        // why not, when no record was read
};
// Reads every record in a set of files: each file is read on its own, except WFDB signal files, which are
// consumed by their header (a signal file given without its header is an error naming the missing .hea).
std::vector<ecg_read_outcome> ecg_read_all(const std::vector<named_bytes> &files, const read_options &options = {});

// [SECTION] Writing ECG files ----------------------------------------------------------------------------

struct written_file {
    std::string name;
    std::vector<uint8_t> bytes;
};

// WFDB: `<record_name>.hea` + `<record_name>.dat` (format 16, all leads interleaved, with checksums). Each lead
// keeps its original gain when its range fits 16 bits at that gain (so files read from ADC data round-trip
// exactly); otherwise the gain is the largest of 1000, 200, 100, 10 ADU/mV that fits. NaN samples become
// WFDB's invalid-sample value. `record_name` must be a plain WFDB record name (letters, digits, '_').
result<std::vector<written_file>> ecg_write_wfdb(const ecg_record &record, const std::string &record_name);
// CSV: a `time_s` column and one column per lead named "<lead> (uV)", values in microvolts.
result<written_file> ecg_write_csv(const ecg_record &record, const std::string &file_name);

// [SECTION] Preparing the network input -------------------------------------------------------------------
// One preprocessing for training (through the Python module) and for the app: what the network sees.

constexpr double k_network_fs_hz = 500.0;
constexpr size_t k_network_window_samples = 1250;  // 2.5 s at 500 Hz

// Resamples one lead from fs_in_hz to fs_out_hz with a polyphase windowed-sinc low-pass (anti-aliasing below
// the lower Nyquist rate). Exact rational ratios (250, 257, 360, 1000 Hz -> 500 Hz) use the exact polyphase
// filter; the output has round(n * fs_out / fs_in) samples. NaN samples are treated as 0.
std::vector<float> dsp_resample(const std::vector<float> &samples, double fs_in_hz, double fs_out_hz);
// Removes baseline wander: subtracts the baseline estimated by a 200 ms then a 600 ms moving median.
std::vector<float> dsp_remove_baseline(const std::vector<float> &samples, double fs_hz);

struct network_input {
    // 12 x 1250 values in millivolts, lead-major in standard order (I, II, III, aVR, aVL, aVF, V1..V6).
    std::vector<float> values_mv;
    // Start sample (at 500 Hz) of each lead's 2.5 s window in the prepared 500 Hz record.
    size_t window_start[k_standard_lead_count] = {};
    std::vector<std::string> warnings;
    // Why an estimate from this input is less reliable: ecg_reliability_reasons of the quality findings the
    // preparation was given (paced rhythm first); empty when nothing is known against it. The model passes them
    // on to k_prediction::reliability_reasons.
    std::vector<std::string> reliability_reasons;
};

// Resamples to 500 Hz, removes baseline wander, converts to mV and cuts each lead's 2.5 s window in the
// Philips print layout (I/II/III 0-2.5 s, aVR/aVL/aVF 2.5-5 s, V1-V3 5-7.5 s, V4-V6 7.5-10 s). Recordings
// shorter than 10 s but at least 2.5 s use 0-2.5 s for every lead, with a warning. Errors: a missing
// standard lead, or less than 2.5 s. The warnings also carry ecg_check_quality's (flat, saturated or noisy
// leads, mains, electrode reversal, pacing), which change none of the values, and reliability_reasons holds
// ecg_reliability_reasons of the same findings.
result<network_input> ecg_prepare_input(const ecg_record &record);

// [SECTION] Signal quality and measurements --------------------------------------------------------------
// QRS detection, the median beat, delineation and the 8 ECG morphology parameters (EMPs), signal-quality
// checks, and the filters for display and measurement. None of this changes what ecg_prepare_input gives the
// network: mains removal and the display filters are applied only to what is shown and measured, never to
// the network input (the shipped model was trained without them); the quality warnings are only appended to
// network_input::warnings and make its reliability_reasons.

// One annotation of a WFDB annotation file (MIT format), e.g. MIT-BIH `100.atr` or LUDB `1.ii`.
struct wfdb_annotation {
    int64_t sample = 0;    // sample number at the record's frame rate
    int code = 0;          // WFDB annotation code (1 NORMAL, 5 PVC, 39 WFON '(', 40 WFOFF ')', 24 'p', 27 't', ...)
    char symbol = ' ';     // its usual one-character mnemonic ('N', 'V', '(', ')', 'p', 't', ...), '?' if unknown code
    int subtype = 0, channel = 0, number = 0;
    std::string aux;       // auxiliary text (rhythm labels such as "(N"), "" when none
};
// Reads a WFDB annotation file in MIT format (16-bit little-endian words: code in the top 6 bits, time step in
// the low 10; the pseudo-codes SKIP, NUM, SUB, CHN and AUX). `name` is used in error messages.
result<std::vector<wfdb_annotation>> wfdb_read_annotations(const uint8_t *data, size_t size, const std::string &name);
// Whether a code marks a beat (N, L, R, a, V, F, J, A, S, E, j, /, Q, B, e, n, f, r, ?), as WFDB's isqrs.
bool wfdb_is_beat_code(int code);

// Filters for display and measurement (never applied to the network input). Zero phase (forward-backward
// second-order sections, with each corner corrected so that the whole is -3 dB there).
enum class display_filter {
    none,
    diagnostic,  // 0.05-150 Hz (the upper corner only where fs allows it)
    monitoring,  // 0.5-40 Hz
};
std::vector<float> dsp_display_filter(const std::vector<float> &samples_uv, double fs_hz, display_filter filter);
// Mains interference: 50 or 60 Hz when the record shows it (a narrow spectral peak in several leads well above
// its neighbourhood), else 0.
double dsp_detect_mains_hz(const ecg_record &record);
// Removes mains_hz (and its second harmonic below 0.45 fs) with zero-phase notches about 1.5 Hz wide.
std::vector<float> dsp_remove_mains(const std::vector<float> &samples_uv, double fs_hz, double mains_hz);

// QRS complexes found over all the given leads together (all of the same length, at fs_hz): the sample of each
// complex's largest deflection, in time order. Leads that are flat or all NaN are ignored.
std::vector<size_t> dsp_detect_qrs(const std::vector<std::vector<float>> &leads_uv, double fs_hz);

// A signal-quality problem. `lead` is the lead it concerns ("all" for the whole record).
struct quality_warning {
    std::string lead;
    std::string kind;     // "missing", "missing_samples", "flat", "saturated", "noise", "mains", "reversal", "pacing", "too_short"
    std::string message;  // "lead V3: flat (peak-to-peak 4 uV over 10.0 s)"
};
// Checks a record: missing, flat or saturated leads, excessive noise per lead, mains interference, right-arm /
// left-arm electrode reversal, pacing spikes, a recording too short for the network (10 s).
std::vector<quality_warning> ecg_check_quality(const ecg_record &record);

// The reliability mark, the one rule of every client (the app, its worklist and exports, the PDF report,
// `kalium predict`, kalium_core, the archive scorer). Why an estimate is less reliable, from the record's quality
// findings: a paced rhythm ("paced rhythm", always first) and every failed quality check ("lead V2 flat", "lead
// V2 saturated", "lead V2 noisy", "mains interference", "electrode reversal suspected (I, aVR)", "lead V2 has
// missing samples", "recording shorter than 10 s"), each once. A wide QRS is never a reason: it is itself a sign
// of severe hyperkalemia, and no quality check looks at it. Empty: nothing is known against the estimate.
std::vector<std::string> ecg_reliability_reasons(const std::vector<quality_warning> &quality);
// "paced rhythm; lead V2 noisy: less reliable" (or "" for no reasons): how the app and the report mark an estimate.
std::string ecg_reliability_text(const std::vector<std::string> &reasons);
// "ok" (no reasons) or "less reliable": the mark as `kalium predict` gives it (key and CSV column `reliability`).
const char *ecg_reliability_status(const std::vector<std::string> &reasons);

// Fiducial points of the median beat, in ms from its QRS fiducial (the median R); absent when not found.
struct ecg_fiducials {
    std::optional<double> p_onset_ms, p_peak_ms, p_offset_ms, qrs_onset_ms, qrs_offset_ms, t_peak_ms, t_end_ms;
};

struct ecg_analysis {
    ecg_measurements values;                // hr_bpm, pr_ms, qrs_ms, qt_ms, qtc_ms, p/qrs/t axes
    const char *qtc_formula = "bazett";     // the formula of values.qtc_ms
    std::optional<double> qtc_bazett_ms, qtc_fridericia_ms;
    double mains_hz = 0.0;                  // the mains frequency removed before measuring (0: none found)
    std::vector<size_t> qrs_samples;        // every QRS found, samples at 500 Hz
    std::vector<bool> dominant;             // per QRS: used for the median beat (not ectopic, not at the edges)
    // The median beat at 500 Hz: 12 leads in standard order, each median_length samples, in uV, with the
    // QRS fiducial at sample median_fiducial.
    std::vector<std::vector<float>> median_uv;
    size_t median_length = 0, median_fiducial = 0;
    ecg_fiducials fiducials;
    std::vector<quality_warning> quality;   // ecg_check_quality's findings for this record
    std::vector<std::string> warnings;      // the quality warnings' messages, then why any value is missing
    // The 12 standard leads as measured, uV at 500 Hz: mains notched (when found) and baseline wander removed
    // by a 0.5 Hz zero-phase high-pass. What the app draws; not what the network sees (ecg_prepare_input).
    std::vector<std::vector<float>> signal_500hz_uv;
};

// Measures a record: resamples to 500 Hz, removes baseline wander and mains, finds the QRS complexes over all
// 12 leads, excludes ectopic beats (premature, or QRS unlike the dominant one), builds the median beat, finds
// P onset/offset, QRS onset/offset and T end over all leads together, and computes the 8 EMPs (QTc by Bazett;
// Fridericia also given). Needs the 12 standard leads and at least 2.5 s; a value that cannot be measured is
// absent with a warning saying why.
result<ecg_analysis> ecg_measure(const ecg_record &record);

// ecg_prepare_input given the record's quality warnings already found (ecg_analysis::quality), so that a client
// that measures and predicts checks the record once: the same values, warnings and reliability reasons as
// ecg_prepare_input(record).
result<network_input> ecg_prepare_input(const ecg_record &record, const std::vector<quality_warning> &quality);

// [SECTION] Estimating K+ (ECG12Net on XNNPACK; library kalium_nn) ---------------------------------------

// The paper's K+ groups, mEq/L: <=2.5, 2.5-3.5, 3.5-5.5, 5.5-6.5, >=6.5 (edges as in model/model.py).
constexpr int k_group_count = 5;
extern const char *const k_group_names[k_group_count];
extern const char *const k_group_labels[k_group_count];  // "severe hypokalemia", ..., "severe hyperkalemia"
// What the shipped model is, learnt from and achieves on real ECGs, shown with every estimate (app panel, PDF
// report); UTF-8 with "\n" between paragraphs (src/core/model-statement.cpp).
extern const char *const k_model_statement;

int k_group_of(double k_meq_l);   // (these two are in the core library: the app's views use them too)
// The estimate as shown: one decimal inside 1.5-7.5, "<1.5" or ">7.5" outside (the range the paper estimates).
std::string k_display(double k_meq_l);

// The K+ distribution of a model whose header has "k_distribution" (model/FORMAT.md, model/kdist.py): given
// the ECG, K+ is logistic with location mu (the attention-weighted lead locations) and a fitted scale, as fitted
// on a set with group prior `training_prior`, moved to `population_prior` by Bayes' rule group by group.
struct k_distribution {
    double scale_meq_l = 1.0;
    double training_prior[k_group_count] = {0.2, 0.2, 0.2, 0.2, 0.2};
    double population_prior[k_group_count] = {0.2, 0.2, 0.2, 0.2, 0.2};
    double range_quantiles[2] = {0.1, 0.9};
    std::string population;                      // what population_prior stands for, in words
    // Flags: a location at or below flag_location[0] flags hypokalemia, at or above [1] hyperkalemia (the
    // locations' quantiles at the population's prevalence among unlabelled ECGs of that population).
    bool has_flags = false;
    double flag_location_meq_l[2] = {0.0, 0.0};
    // P(group | ECG) with the training prior (balanced) or the population's
    void group_probs(double mu, bool population_prior_on, double out[k_group_count]) const;
    // the q-quantile of K+ (mEq/L) under the population prior
    double quantile(double mu, double q) const;
};

struct k_prediction {
    // The estimate kalium reports. With a K+ distribution: the median under the population prior (an emergency
    // department's); without one: the attention-weighted lead estimates.
    double k_meq_l = 0.0;
    std::string k_display;                       // "4.3", "<1.5", ">7.5"
    int group = 0;                               // group of the estimate, 0..4
    bool has_group_probs = false;                // the model has the 5-group head or a K+ distribution
    // with a K+ distribution: P(group | ECG) under the population prior; else the softmax of the group head
    double group_probs[k_group_count] = {};
    // With a K+ distribution only (has_k_range): the location mu (what the balanced fitting set implies), the
    // range [k_low, k_high] between the population's range_quantiles, the balanced probabilities, the population.
    bool has_k_range = false;
    double k_location_meq_l = 0.0, k_low_meq_l = 0.0, k_high_meq_l = 0.0, k_range_level = 0.0;
    double group_probs_balanced[k_group_count] = {};
    std::string population;
    // -1: this ECG is among those the model flags for hypokalemia, +1 hyperkalemia, 0 neither (or no flags):
    // it ranks among the population's most likely dyskalemic, as many as the population has; not a diagnosis.
    int flag = 0;
    // each lead's own estimate (with a K+ distribution: the population median of the lead's own location)
    float lead_k[k_standard_lead_count] = {};
    float lead_attention[k_standard_lead_count] = {};  // alpha_l, sums to 1
    // Class-activation maps at input resolution: 12 x 1250, lead-major, each lead scaled to [0, 1]
    // (1 = where that lead's trace pushed its estimate up most). window_start says where each lead's
    // 1250 samples lie in the 500 Hz record.
    std::vector<float> cam;
    size_t window_start[k_standard_lead_count] = {};
    std::string model_name, model_sha256;
    std::vector<std::string> warnings;           // from preparation and from the model
    // why the estimate is less reliable (network_input::reliability_reasons, ecg_reliability_reasons); empty: ok
    std::vector<std::string> reliability_reasons;
};

struct model_options {
    // Lower-case hex sha256 the file must have (the shipped manifest); empty: not checked.
    std::string expected_sha256;
    int threads = 1;                             // worker threads natively (pthreadpool); 1 in the browser
    // The trunk's convolutions in f32 (the reference: PyTorch within 1e-4), or with int8 weights (per output
    // channel) and int8 activations quantised on the fly (XNNPACK's qd8-f32-qc8w kernels): faster, within
    // the |delta K+| measured in BENCHMARKS.md. The stem convolution (1 input channel) stays f32.
    enum class precision { f32, int8 } arithmetic = precision::f32;
    // f32 only: the k3 stride-1 convolutions as Winograd F(4,3) on XNNPACK's operator API, with no
    // concatenation copies (the default: half their multiply-adds; within 1e-5 of the direct convolution), or
    // direct convolutions in one XNNPACK subgraph (the reference the tests compare it with).
    bool winograd = true;
    bool profile = false;  // time each step of the trunk (Winograd build only; for benchmarks): k_model::profile()
};

// Mean time per kind of trunk step since the model was loaded with model_options::profile.
struct model_step_time {
    std::string kind;   // e.g. "conv 1x1 C->128 (GEMM)", "Winograd output transform"
    double ms = 0;      // per prediction, all steps of this kind
    size_t count = 0;   // steps of this kind per prediction
    double macs = 0;    // their multiply-adds per prediction (12 leads)
};

// ECG12Net loaded from a weights file (model/FORMAT.md) and built once on XNNPACK (src/nn/trunk.h).
class k_model {
public:
    // Checks magic, version, header, config, every tensor's name, shape, dtype and bounds, and the sha256;
    // each failure is a status naming what is wrong. The bytes need not outlive the call.
    static result<std::unique_ptr<k_model>> load(const uint8_t *data, size_t size, const model_options &options = {});
    ~k_model();
    k_model(const k_model &) = delete;
    k_model &operator=(const k_model &) = delete;

    const std::string &name() const;
    const std::string &sha256() const;   // of the file as loaded
    // One ECG's prediction from its prepared input (ecg_prepare_input). Reuses the runtime; not thread-safe.
    result<k_prediction> predict(const network_input &input);
    std::vector<model_step_time> profile() const;  // empty unless loaded with model_options::profile

    struct impl;

private:
    explicit k_model(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

// The expected sha256 from a manifest's text ("<64 hex>  name" as sha256sum writes it); "" if none is found.
std::string sha256_from_manifest(std::string_view manifest_text);
// Lower-case hex sha256 of bytes.
std::string sha256_hex(const uint8_t *data, size_t size);

}  // namespace kalium
