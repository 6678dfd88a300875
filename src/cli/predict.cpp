// cli/predict.cpp: `kalium predict [--model PATH] [--format json|jsonl|csv] [--threads N] FILE...`
//
// Reads each ECG (any supported format; WFDB records by their .hea), prepares it exactly as training did
// (ecg_prepare_input: 500 Hz, baseline removed, the Philips-layout 2.5 s windows in mV) and runs ECG12Net.
// JSON keys per file: file, then those of nn/prediction-json.h (k_plus, its range and the group probabilities
// under an emergency department's prevalence, the balanced figures, the reliability mark, lead_k, lead_attention,
// warnings, model). A file that cannot be read or prepared gives {file, error, error_code}; the others are
// still processed and the exit status is 1 at the end. CSV: one header row, one row per file (reliability "ok" or
// "less reliable", reliability_reasons joined by "; ").
//
// The model: --model PATH, else $KALIUM_MODEL, else the shipped model/ecg12net-1.kmodel of the source tree.
// When PATH.sha256 exists (the shipped manifest) the file's sha256 must match it.
#include "cli-commands.h"
#include "cli-files.h"
#include "nn/predict-file.h"
#include "nn/prediction-json.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

#ifndef KALIUM_DEFAULT_MODEL
#define KALIUM_DEFAULT_MODEL "model/ecg12net-1.kmodel"
#endif

namespace {

const char *lead_name(size_t l) { return kalium::lead_id_name(static_cast<kalium::lead_id>(l)); }

// RFC 4180 field: quoted when it holds a comma, quote or line break.
std::string csv_field(const std::string &s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string csv_header() {
    std::string h = "file,k_plus,k_plus_display,group";
    for (int g = 0; g < kalium::k_group_count; g++) h += std::string(",p_") + kalium::k_group_names[g];
    h += ",k_range_low,k_range_high,k_plus_balanced,flag,reliability,reliability_reasons";
    for (size_t l = 0; l < kalium::k_standard_lead_count; l++) h += std::string(",lead_k_") + lead_name(l);
    for (size_t l = 0; l < kalium::k_standard_lead_count; l++) h += std::string(",attention_") + lead_name(l);
    return h + ",warnings,error";
}

std::string csv_number(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.6g", v);
    return text;
}

std::string csv_row(const std::string &file, const kalium::k_prediction *p, const std::string &error) {
    std::string row = csv_field(file);
    const size_t empty_columns = 3 + kalium::k_group_count + 4 + 2 + 2 * kalium::k_standard_lead_count + 1;
    if (!p) return row + std::string(empty_columns, ',') + "," + csv_field(error);
    row += "," + csv_number(p->k_meq_l) + "," + csv_field(p->k_display) + "," + csv_field(kalium::k_group_names[p->group]);
    for (int g = 0; g < kalium::k_group_count; g++) row += "," + (p->has_group_probs ? csv_number(p->group_probs[g]) : "");
    for (double v : {p->k_low_meq_l, p->k_high_meq_l, p->k_location_meq_l}) row += "," + (p->has_k_range ? csv_number(v) : "");
    row += std::string(",") + (p->flag < 0 ? "hypokalemia" : p->flag > 0 ? "hyperkalemia" : "");
    // the reliability mark as in the JSON: "ok" or "less reliable", then the reasons joined by "; "
    std::string reasons;
    for (const std::string &r : p->reliability_reasons) reasons += (reasons.empty() ? "" : "; ") + r;
    row += std::string(",") + kalium::ecg_reliability_status(p->reliability_reasons) + "," + csv_field(reasons);
    for (float v : p->lead_k) row += "," + csv_number(v);
    for (float v : p->lead_attention) row += "," + csv_number(v);
    std::string warnings;
    for (const std::string &w : p->warnings) warnings += (warnings.empty() ? "" : "; ") + w;
    return row + "," + csv_field(warnings) + ",";
}

// "[=====>    ] 12/40 file.csv" on one stderr line, redrawn.
void draw_progress(size_t done, size_t total, const std::string &file) {
    constexpr int width = 30;
    const int filled = static_cast<int>(width * done / (total ? total : 1));
    std::string bar(static_cast<size_t>(filled), '=');
    bar.resize(width, ' ');
    std::string name = file.size() > 40 ? "..." + file.substr(file.size() - 37) : file;
    std::fprintf(stderr, "\r[%s] %zu/%zu %-40s", bar.c_str(), done, total, name.c_str());
    if (done == total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
}

}  // namespace

int cli_predict(int argc, char **argv) {
    enum { json, jsonl, csv } format = json;
    std::string model_path;
    int threads = 1, progress = -1;  // progress: -1 automatic (many files, stderr a terminal)
    bool int8 = false, direct = false;  // --precision
    kalium::read_options options;
    std::vector<std::string> paths;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (std::strcmp(a, "--format") == 0 && i + 1 < argc) {
            const char *f = argv[++i];
            if (std::strcmp(f, "json") == 0) format = json;
            else if (std::strcmp(f, "jsonl") == 0) format = jsonl;
            else if (std::strcmp(f, "csv") == 0) format = csv;
            else {
                std::fprintf(stderr, "kalium predict: --format must be json, jsonl or csv (got '%s')\n", f);
                return 2;
            }
        } else if (std::strcmp(a, "--model") == 0 && i + 1 < argc) {
            model_path = argv[++i];
        } else if (std::strcmp(a, "--threads") == 0 && i + 1 < argc) {
            double n = 0;
            if (!cli_parse_number(argv[i + 1], n) || n < 1 || n > 64 || n != static_cast<int>(n)) {
                std::fprintf(stderr, "kalium predict: --threads must be a whole number 1-64 (got '%s')\n", argv[i + 1]);
                return 2;
            }
            threads = static_cast<int>(n);
            i++;
        } else if (std::strcmp(a, "--precision") == 0 && i + 1 < argc) {
            const char *p = argv[++i];
            if (std::strcmp(p, "f32") == 0) int8 = false, direct = false;
            else if (std::strcmp(p, "f32-direct") == 0) int8 = false, direct = true;
            else if (std::strcmp(p, "int8") == 0) int8 = true, direct = false;
            else {
                std::fprintf(stderr, "kalium predict: --precision must be f32, f32-direct or int8 (got '%s')\n", p);
                return 2;
            }
        } else if (std::strcmp(a, "--progress") == 0) {
            progress = 1;
        } else if (std::strcmp(a, "--no-progress") == 0) {
            progress = 0;
        } else if (int handled = cli_parse_read_option("predict", argc, argv, i, options)) {
            if (handled < 0) return 2;
        } else if (std::strcmp(a, "--help") == 0) {
            std::printf("usage: kalium predict [--model PATH] [--format json|jsonl|csv] [--threads N] [--precision P] FILE...\n"
                        "Estimates serum K+ from each ECG file with ECG12Net. Research use only; not a medical device.\n"
                        "  --model PATH          weights file (default: $KALIUM_MODEL, else %s);\n"
                        "                        PATH.sha256, when present, must match the file\n"
                        "  --format              json (default, one array), jsonl (one object per line) or csv\n"
                        "  --threads N           worker threads for the network (default 1)\n"
                        "  --precision P         the trunk's arithmetic: f32 (default; k3 convolutions by Winograd F(4,3),\n"
                        "                        identical to PyTorch within 1e-5), f32-direct (direct convolutions, slower)\n"
                        "                        or int8 (faster, within the |delta K+| of BENCHMARKS.md)\n"
                        "  --progress, --no-progress  progress bar on stderr (default: with more than 10 files on a terminal)\n"
                        "  --fs, --uv-per-unit   sampling rate and amplitude unit for CSV files that do not state them\n",
                        KALIUM_DEFAULT_MODEL);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            std::fprintf(stderr, "kalium predict: unknown option '%s' (try 'kalium predict --help')\n", a);
            return 2;
        } else {
            paths.emplace_back(a);
        }
    }
    if (paths.empty()) {
        std::fprintf(stderr, "kalium predict: no files given (try 'kalium predict --help')\n");
        return 2;
    }
    if (model_path.empty()) {
        const char *env = std::getenv("KALIUM_MODEL");
        model_path = env && *env ? env : KALIUM_DEFAULT_MODEL;
    }
    kalium::model_options model_options;
    model_options.threads = threads;
    if (int8) model_options.arithmetic = kalium::model_options::precision::int8;
    model_options.winograd = !direct;
    auto model = kalium::load_model_file(model_path, model_options);  // with PATH.sha256 when present
    if (!model) {
        std::fprintf(stderr, "kalium predict: %s\n", model.error().message().c_str());
        return 1;
    }

    const bool show_progress = progress == 1 || (progress == -1 && paths.size() > 10 && isatty(STDERR_FILENO));
    int failures = 0;
    size_t done = 0;
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    if (format == csv) std::printf("%s\n", csv_header().c_str());
    // One input at a time, so memory stays that of one file however many are given.
    for (const std::string &path : paths) {
        std::vector<cli_input> inputs = cli_load_inputs({path});
        const cli_input &input = inputs.front();
        // The same steps and JSON as kalium_core.Model (src/python), from nn/predict-file.h and nn/prediction-json.h.
        const kalium::result<kalium::k_prediction> prediction = kalium::predict_record(*model.value(), cli_read_record(input, options));
        if (!prediction) failures++;
        if (format == csv) {
            std::printf("%s\n", csv_row(input.path, prediction ? &prediction.value() : nullptr, prediction ? "" : prediction.error().message()).c_str());
        } else {
            nlohmann::ordered_json j = kalium::prediction_file_json(input.path, prediction);
            if (format == jsonl) std::printf("%s\n", kalium::json_text(j, -1).c_str());
            else all.push_back(std::move(j));
        }
        if (format != json) std::fflush(stdout);
        if (show_progress) draw_progress(++done, paths.size(), path);
    }
    if (format == json) std::printf("%s\n", kalium::json_text(all, 2).c_str());
    return failures ? 1 : 0;
}
