// cli/inspect.cpp: `kalium inspect [--format json|jsonl] [--fs HZ] [--uv-per-unit X] FILE...`
//
// Per file: format, leads in order and which were derived, sampling rate, duration, per-lead min/max in mV,
// the cart's measurements and statements, and warnings. JSON keys other tools rely on:
//   file, format, leads, derived_leads, fs_hz, duration_s, lead_range_mv (name -> [min, max]),
//   cart_measurements (hr_bpm, pr_ms, qrs_ms, qt_ms, qtc_ms, p_axis_deg, qrs_axis_deg, t_axis_deg; only those
//   present), statements, warnings; plus format_detail, n_samples, start_time, patient, device, median_beats.
// A file that cannot be read gives {file, error, error_code}; the exit status is 1 after all files are done.
#include "cli-commands.h"
#include "cli-files.h"

#include <cstdio>
#include <cstring>

int cli_inspect(int argc, char **argv) {
    bool jsonl = false;
    kalium::read_options options;
    std::vector<std::string> paths;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (std::strcmp(a, "--format") == 0 && i + 1 < argc) {
            const char *f = argv[++i];
            if (std::strcmp(f, "jsonl") == 0) jsonl = true;
            else if (std::strcmp(f, "json") != 0) {
                std::fprintf(stderr, "kalium inspect: --format must be json or jsonl (got '%s')\n", f);
                return 2;
            }
        } else if (int handled = cli_parse_read_option("inspect", argc, argv, i, options)) {
            if (handled < 0) return 2;
        } else if (std::strcmp(a, "--help") == 0) {
            std::printf("usage: kalium inspect [--format json|jsonl] [--fs HZ] [--uv-per-unit X] FILE...\n"
                        "Reads each ECG file (any supported format; WFDB records by their .hea) and prints what it holds.\n"
                        "  --fs, --uv-per-unit   sampling rate and amplitude unit for CSV files that do not state them\n");
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            std::fprintf(stderr, "kalium inspect: unknown option '%s' (try 'kalium inspect --help')\n", a);
            return 2;
        } else {
            paths.emplace_back(a);
        }
    }
    if (paths.empty()) {
        std::fprintf(stderr, "kalium inspect: no files given (try 'kalium inspect --help')\n");
        return 2;
    }
    int failures = 0;
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (const cli_input &input : cli_load_inputs(paths)) {
        kalium::result<kalium::ecg_record> record = cli_read_record(input, options);
        nlohmann::ordered_json j = record.ok() ? cli_record_json(input.path, record.value()) : cli_error_json(input.path, record.error());
        if (!record.ok()) failures++;
        if (jsonl) std::printf("%s\n", cli_json_text(j, -1).c_str());
        else all.push_back(std::move(j));
    }
    if (!jsonl) std::printf("%s\n", cli_json_text(all, 2).c_str());
    return failures ? 1 : 0;
}
