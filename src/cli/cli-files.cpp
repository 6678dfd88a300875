// cli/cli-files.cpp: see cli-files.h.
#include "cli-files.h"

#include "core/measurement-fields.h"
#include "nn/prediction-json.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

bool cli_read_file(const std::string &path, std::vector<uint8_t> &bytes, std::string &error) {
    return kalium::read_file_bytes(path, bytes, error);
}

std::vector<cli_input> cli_load_inputs(const std::vector<std::string> &paths) {
    std::vector<cli_input> inputs;
    for (const std::string &path : paths) inputs.push_back(kalium::load_ecg_file(path));
    return inputs;
}

kalium::result<kalium::ecg_record> cli_read_record(const cli_input &input, const kalium::read_options &options) {
    return kalium::read_ecg_file(input, options);
}

nlohmann::ordered_json cli_measurements_json(const kalium::ecg_measurements &m) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    auto put = [&](const char *key, const std::optional<double> &v) {
        if (v && std::isfinite(*v)) j[key] = *v;
    };
    for (const kalium::ecg_measurement_field &f : kalium::k_ecg_measurement_fields) put(f.key, m.*f.value);
    return j;
}

nlohmann::ordered_json cli_record_json(const std::string &file, const kalium::ecg_record &record) {
    nlohmann::ordered_json j;
    j["file"] = file;
    j["format"] = record.format;
    j["format_detail"] = record.format_detail;
    nlohmann::ordered_json leads = nlohmann::ordered_json::array(), derived = nlohmann::ordered_json::array();
    nlohmann::ordered_json ranges = nlohmann::ordered_json::object();
    for (const kalium::ecg_lead &lead : record.leads) {
        leads.push_back(lead.name);
        if (lead.derived) derived.push_back(lead.name);
        float lo = INFINITY, hi = -INFINITY;
        for (float v : lead.samples_uv)
            if (std::isfinite(v)) {
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
        ranges[lead.name] = std::isfinite(lo) ? nlohmann::ordered_json::array({lo / 1000.0, hi / 1000.0})
                                              : nlohmann::ordered_json::array({nullptr, nullptr});
    }
    j["leads"] = leads;
    j["derived_leads"] = derived;
    j["fs_hz"] = record.fs_hz;
    j["n_samples"] = record.sample_count();
    j["duration_s"] = record.duration_s();
    j["lead_range_mv"] = ranges;
    j["start_time"] = record.start_time;
    j["patient"] = {{"id", record.patient.id},
                    {"age_years", record.patient.age_years ? nlohmann::ordered_json(*record.patient.age_years) : nullptr},
                    {"sex", record.patient.sex}};
    j["device"] = record.device;
    j["cart_measurements"] = cli_measurements_json(record.cart);
    j["statements"] = record.statements;
    if (record.median)
        j["median_beats"] = {{"fs_hz", record.median->fs_hz},
                             {"leads", record.median->leads.size()},
                             {"n_samples", record.median->leads.empty() ? 0 : record.median->leads[0].samples_uv.size()}};
    j["warnings"] = record.warnings;
    return j;
}

nlohmann::ordered_json cli_error_json(const std::string &file, const kalium::status &error) {
    return kalium::file_error_json(file, error);
}

bool cli_parse_number(const char *text, double &out) {
    if (!text || !*text) return false;
    char *end = nullptr;
    errno = 0;
    out = std::strtod(text, &end);
    return errno == 0 && end && *end == '\0' && std::isfinite(out);
}

int cli_parse_read_option(const char *command, int argc, char **argv, int &i, kalium::read_options &options) {
    const char *a = argv[i];
    double *target = nullptr;
    const char *what = nullptr;
    if (std::strcmp(a, "--fs") == 0) {
        target = &options.csv_fs_hz;
        what = "a positive number of Hz";
    } else if (std::strcmp(a, "--uv-per-unit") == 0) {
        target = &options.csv_uv_per_unit;
        what = "a positive number";
    } else {
        return 0;
    }
    if (i + 1 >= argc || !cli_parse_number(argv[i + 1], *target) || *target <= 0) {
        std::fprintf(stderr, "kalium %s: %s must be %s (got '%s')\n", command, a, what, i + 1 < argc ? argv[i + 1] : "");
        return -1;
    }
    i++;
    return 1;
}
