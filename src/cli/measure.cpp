// cli/measure.cpp: `kalium measure [--format json|jsonl] FILE...`
//
// Measures each ECG (any supported format; WFDB records by their .hea) with ecg_measure: QRS detection over
// all leads, dominant beats, the median beat and its delineation. JSON keys per file: file, hr_bpm, pr_ms,
// qrs_ms, qt_ms, qtc_ms (Bazett; qtc_formula says so), p_axis_deg, qrs_axis_deg, t_axis_deg (null when a value
// cannot be measured, with a warning saying why), qtc_formula, qtc_bazett_ms, qtc_fridericia_ms, beats,
// dominant_beats, mains_hz, fiducials_ms (median-beat P onset/peak/offset, QRS onset/offset, T peak/end in ms
// from the QRS fiducial), cart_measurements (the same 8 keys, when the file carries the cart's own values) and
// warnings (the reader's, then the quality checks', then the measurement's). A file that cannot be read or
// measured gives {file, error, error_code}; the others are still processed and the exit status is 1 at the end.
#include "cli-commands.h"
#include "cli-files.h"
#include "core/measurement-fields.h"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace {

// Rounded to 0.1 (ms, bpm, degrees): more digits than that would claim a precision the method lacks.
nlohmann::ordered_json number_or_null(const std::optional<double> &v) {
    if (!v || !std::isfinite(*v)) return nullptr;
    return std::round(*v * 10.0) / 10.0;
}

void put_values(nlohmann::ordered_json &j, const kalium::ecg_measurements &m) {
    for (const kalium::ecg_measurement_field &f : kalium::k_ecg_measurement_fields) j[f.key] = number_or_null(m.*f.value);
}

nlohmann::ordered_json measure_json(const std::string &file, const kalium::ecg_record &record, const kalium::ecg_analysis &a) {
    nlohmann::ordered_json j;
    j["file"] = file;
    put_values(j, a.values);
    j["qtc_formula"] = a.qtc_formula;
    j["qtc_bazett_ms"] = number_or_null(a.qtc_bazett_ms);
    j["qtc_fridericia_ms"] = number_or_null(a.qtc_fridericia_ms);
    j["beats"] = a.qrs_samples.size();
    size_t dominant = 0;
    for (bool d : a.dominant) dominant += d ? 1 : 0;
    j["dominant_beats"] = dominant;
    j["mains_hz"] = a.mains_hz;
    const kalium::ecg_fiducials &f = a.fiducials;
    j["fiducials_ms"] = {{"p_onset", number_or_null(f.p_onset_ms)},     {"p_peak", number_or_null(f.p_peak_ms)},
                         {"p_offset", number_or_null(f.p_offset_ms)},   {"qrs_onset", number_or_null(f.qrs_onset_ms)},
                         {"qrs_offset", number_or_null(f.qrs_offset_ms)}, {"t_peak", number_or_null(f.t_peak_ms)},
                         {"t_end", number_or_null(f.t_end_ms)}};
    if (!record.cart.empty()) {
        nlohmann::ordered_json cart;
        put_values(cart, record.cart);
        j["cart_measurements"] = std::move(cart);
    }
    std::vector<std::string> warnings = record.warnings;
    warnings.insert(warnings.end(), a.warnings.begin(), a.warnings.end());
    j["warnings"] = warnings;
    return j;
}

}  // namespace

int cli_measure(int argc, char **argv) {
    bool jsonl = false;
    kalium::read_options options;
    std::vector<std::string> paths;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (std::strcmp(a, "--format") == 0 && i + 1 < argc) {
            const char *f = argv[++i];
            if (std::strcmp(f, "json") == 0) jsonl = false;
            else if (std::strcmp(f, "jsonl") == 0) jsonl = true;
            else {
                std::fprintf(stderr, "kalium measure: --format must be json or jsonl (got '%s')\n", f);
                return 2;
            }
        } else if (int handled = cli_parse_read_option("measure", argc, argv, i, options)) {
            if (handled < 0) return 2;
        } else if (std::strcmp(a, "--help") == 0) {
            std::printf("usage: kalium measure [--format json|jsonl] FILE...\n"
                        "Measures heart rate, PR, QRS, QT, QTc (Bazett), P/QRS/T axes and signal quality of each ECG file.\n"
                        "  --format              json (default, one array) or jsonl (one object per line)\n"
                        "  --fs, --uv-per-unit   sampling rate and amplitude unit for CSV files that do not state them\n");
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            std::fprintf(stderr, "kalium measure: unknown option '%s' (try 'kalium measure --help')\n", a);
            return 2;
        } else {
            paths.emplace_back(a);
        }
    }
    if (paths.empty()) {
        std::fprintf(stderr, "kalium measure: no files given (try 'kalium measure --help')\n");
        return 2;
    }
    int failures = 0;
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (const std::string &path : paths) {
        std::vector<cli_input> inputs = cli_load_inputs({path});
        const cli_input &input = inputs.front();
        nlohmann::ordered_json j;
        kalium::result<kalium::ecg_record> record = cli_read_record(input, options);
        if (!record) {
            j = cli_error_json(input.path, record.error());
        } else if (auto analysis = kalium::ecg_measure(record.value()); !analysis) {
            j = cli_error_json(input.path, analysis.error());
        } else {
            j = measure_json(input.path, record.value(), analysis.value());
        }
        if (j.contains("error")) failures++;
        if (jsonl) {
            std::printf("%s\n", cli_json_text(j, -1).c_str());
            std::fflush(stdout);
        } else {
            all.push_back(std::move(j));
        }
    }
    if (!jsonl) std::printf("%s\n", cli_json_text(all, 2).c_str());
    return failures ? 1 : 0;
}
