// cli/report.cpp: `kalium report [--model PATH] [--paper a4|letter] [--out DIR|FILE.pdf] FILE...`
//
// The printable PDF report of each ECG (src/report/report.h): the same analysis as the browser app's worker
// (src/report/analysis.h) and the same document as the app's PDF button. One PDF per ECG, named after the ECG
// file ("1.hea" -> "1.pdf"; a second ECG of the same name gets "-2", ...), into --out DIR (default: the current
// folder), or into --out FILE.pdf when exactly one ECG is given. Prints "ECG -> PDF" per report on stdout. A file
// that cannot be read or analysed gets a message on stderr naming it and why, and no PDF; the others are still
// made and the exit status is 1 at the end.
#include "analysis.h"
#include "cli-commands.h"
#include "cli-files.h"
#include "report.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sys/stat.h>

#ifndef KALIUM_DEFAULT_MODEL
#define KALIUM_DEFAULT_MODEL "model/ecg12net-1.kmodel"
#endif

namespace {

bool is_directory(const std::string &path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool ends_with_pdf(const std::string &path) {
    return path.size() > 4 && (path.compare(path.size() - 4, 4, ".pdf") == 0 || path.compare(path.size() - 4, 4, ".PDF") == 0);
}

std::string base_name(const std::string &path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool write_file(const std::string &path, const std::vector<uint8_t> &bytes, std::string &error) {
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f) {
        error = "cannot create " + path + ": " + std::strerror(errno);
        return false;
    }
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    const bool closed = std::fclose(f) == 0;
    if (!ok || !closed) {
        error = "cannot write " + path + " (disk full?)";
        std::remove(path.c_str());
        return false;
    }
    return true;
}

}  // namespace

int cli_report(int argc, char **argv) {
    std::string model_path, out = ".";
    kalium::report_options report_options;
    report_options.producer = std::string("kalium ") + kalium::version_string();
    kalium::read_options options;
    std::vector<std::string> paths;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (std::strcmp(a, "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (std::strcmp(a, "--model") == 0 && i + 1 < argc) {
            model_path = argv[++i];
        } else if (std::strcmp(a, "--paper") == 0 && i + 1 < argc) {
            const char *p = argv[++i];
            if (std::strcmp(p, "a4") == 0) report_options.paper = kalium::report_paper::a4;
            else if (std::strcmp(p, "letter") == 0) report_options.paper = kalium::report_paper::letter;
            else {
                std::fprintf(stderr, "kalium report: --paper must be a4 or letter (got '%s')\n", p);
                return 2;
            }
        } else if (int handled = cli_parse_read_option("report", argc, argv, i, options)) {
            if (handled < 0) return 2;
        } else if (std::strcmp(a, "--help") == 0) {
            std::printf("usage: kalium report [--model PATH] [--paper a4|letter] [--out DIR|FILE.pdf] FILE...\n"
                        "Writes a one-page PDF report of each ECG: the ECG at 25 mm/s and 10 mm/mV on a 1 mm / 5 mm grid,\n"
                        "the K+ estimate with its range, group probabilities, per-lead values and attention, the\n"
                        "measurements beside the cart's, warnings and the model. Research use only; not a medical device.\n"
                        "  --out DIR|FILE.pdf    folder for the reports (default: the current folder; one PDF per ECG,\n"
                        "                        named after it), or the PDF's name when one ECG is given\n"
                        "  --paper a4|letter     landscape page size (default a4)\n"
                        "  --model PATH          weights file (default: $KALIUM_MODEL, else %s)\n"
                        "  --fs, --uv-per-unit   sampling rate and amplitude unit for CSV files that do not state them\n",
                        KALIUM_DEFAULT_MODEL);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            std::fprintf(stderr, "kalium report: unknown option '%s' (try 'kalium report --help')\n", a);
            return 2;
        } else {
            paths.emplace_back(a);
        }
    }
    if (paths.empty()) {
        std::fprintf(stderr, "kalium report: no files given (try 'kalium report --help')\n");
        return 2;
    }
    const bool out_is_pdf = ends_with_pdf(out) && !is_directory(out);
    if (out_is_pdf && paths.size() != 1) {
        std::fprintf(stderr, "kalium report: --out %s names one PDF but %zu ECG files were given; give a folder\n",
                     out.c_str(), paths.size());
        return 2;
    }
    if (!out_is_pdf && !is_directory(out)) {
        std::fprintf(stderr, "kalium report: --out %s: no such folder (give an existing folder or a name ending in .pdf)\n", out.c_str());
        return 2;
    }

    if (model_path.empty()) {
        const char *env = std::getenv("KALIUM_MODEL");
        model_path = env && *env ? env : KALIUM_DEFAULT_MODEL;
    }
    std::vector<uint8_t> model_bytes, manifest;
    std::string read_error;
    if (!cli_read_file(model_path, model_bytes, read_error)) {
        std::fprintf(stderr, "kalium report: cannot read the model file %s\n", read_error.c_str());
        return 1;
    }
    kalium::model_options model_options;
    if (cli_read_file(model_path + ".sha256", manifest, read_error)) {
        model_options.expected_sha256 = kalium::sha256_from_manifest(std::string(manifest.begin(), manifest.end()));
        if (model_options.expected_sha256.empty()) {
            std::fprintf(stderr, "kalium report: %s.sha256 holds no sha256\n", model_path.c_str());
            return 1;
        }
    }
    auto model = kalium::k_model::load(model_bytes.data(), model_bytes.size(), model_options);
    if (!model) {
        std::fprintf(stderr, "kalium report: %s: %s\n", model_path.c_str(), model.error().message().c_str());
        return 1;
    }

    int failures = 0;
    std::set<std::string> written;
    for (const std::string &path : paths) {
        std::vector<cli_input> inputs = cli_load_inputs({path});
        const cli_input &input = inputs.front();
        const auto t0 = std::chrono::steady_clock::now();
        kalium::result<kalium::ecg_record> record = cli_read_record(input, options);
        const std::string name = base_name(path);
        kalium::analysis_output analysis =
            record ? kalium::analysis_run(0, name, record.value(), input.bytes.size(), model.value().get(), 0.0, t0)
                   : kalium::analysis_failed(0, name, record.error(), input.bytes.size());
        app_entry entry;
        entry.name = name;
        app_entry_set_result(entry, analysis.json.c_str(), analysis.signal_uv.data(), analysis.lead_count,
                             analysis.sample_count, analysis.cam.data(), static_cast<int>(analysis.cam.size()));
        auto pdf = kalium::report_pdf(entry, report_options);
        if (!pdf) {
            // the analysis' own message (the reader's: field and offset) when there is one
            const std::string why = entry.status == app_entry_status::failed && !entry.result.error.empty()
                                        ? entry.result.error : pdf.error().message();
            std::fprintf(stderr, "kalium report: %s: %s (no PDF written)\n", path.c_str(), why.c_str());
            failures++;
            continue;
        }
        std::string target = out;
        if (!out_is_pdf) {
            const std::string file = kalium::report_file_name(name);
            const std::string stem = file.substr(0, file.size() - 4);
            target = out + "/" + file;
            for (int n = 2; written.count(target); n++) target = out + "/" + stem + "-" + std::to_string(n) + ".pdf";
        }
        std::string write_error;
        if (!write_file(target, pdf.value(), write_error)) {
            std::fprintf(stderr, "kalium report: %s: %s\n", path.c_str(), write_error.c_str());
            failures++;
            continue;
        }
        written.insert(target);
        std::printf("%s -> %s\n", path.c_str(), target.c_str());
        std::fflush(stdout);
    }
    return failures ? 1 : 0;
}
