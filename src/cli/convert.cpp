// cli/convert.cpp: `kalium convert IN... --to wfdb|csv --out DIR [--fs HZ] [--uv-per-unit X]`
//
// Writes each readable input as standard WFDB (format 16: <name>.hea + <name>.dat) or CSV (<name>.csv, a time_s
// column and one column per lead in microvolts) into DIR, named after the input file. Unreadable inputs are
// reported on stderr; the exit status is 1 when any failed.
#include "cli-commands.h"
#include "cli-files.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>

namespace {

// A WFDB-safe record name from a file name: its stem with anything but letters, digits and '_' replaced.
std::string record_name_for(const std::string &path) {
    std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
    size_t dot = base.find_last_of('.');
    if (dot != std::string::npos && dot > 0) base.erase(dot);
    for (char &c : base)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
    if (base.empty()) base = "record";
    return base.substr(0, 64);
}

bool write_file(const std::string &path, const std::vector<uint8_t> &bytes) {
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f) return false;
    bool ok = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    return std::fclose(f) == 0 && ok;
}

}  // namespace

int cli_convert(int argc, char **argv) {
    std::string to, out_dir;
    kalium::read_options options;
    std::vector<std::string> paths;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (std::strcmp(a, "--to") == 0 && i + 1 < argc) to = argv[++i];
        else if (std::strcmp(a, "--out") == 0 && i + 1 < argc) out_dir = argv[++i];
        else if (int handled = cli_parse_read_option("convert", argc, argv, i, options)) {
            if (handled < 0) return 2;
        } else if (std::strcmp(a, "--help") == 0) {
            std::printf("usage: kalium convert IN... --to wfdb|csv --out DIR [--fs HZ] [--uv-per-unit X]\n"
                        "Writes each ECG as WFDB (format 16, .hea + .dat) or CSV (microvolts) into DIR.\n");
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            std::fprintf(stderr, "kalium convert: unknown option '%s' (try 'kalium convert --help')\n", a);
            return 2;
        } else {
            paths.emplace_back(a);
        }
    }
    if (to != "wfdb" && to != "csv") {
        std::fprintf(stderr, "kalium convert: --to must be wfdb or csv (got '%s')\n", to.c_str());
        return 2;
    }
    if (out_dir.empty() || paths.empty()) {
        std::fprintf(stderr, "kalium convert: need input files and --out DIR (try 'kalium convert --help')\n");
        return 2;
    }
    struct stat st;
    if (stat(out_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        std::fprintf(stderr, "kalium convert: --out %s is not an existing folder\n", out_dir.c_str());
        return 2;
    }
    int failures = 0;
    for (const cli_input &input : cli_load_inputs(paths)) {
        kalium::result<kalium::ecg_record> record = cli_read_record(input, options);
        if (!record.ok()) {
            std::fprintf(stderr, "kalium convert: %s\n", record.error().message().c_str());
            failures++;
            continue;
        }
        const std::string name = record_name_for(input.path);
        std::vector<kalium::written_file> files;
        if (to == "wfdb") {
            auto w = kalium::ecg_write_wfdb(record.value(), name);
            if (w.ok()) files = std::move(w).value();
            else { std::fprintf(stderr, "kalium convert: %s: %s\n", input.path.c_str(), w.error().message().c_str()); failures++; continue; }
        } else {
            auto w = kalium::ecg_write_csv(record.value(), name + ".csv");
            if (w.ok()) files.push_back(std::move(w).value());
            else { std::fprintf(stderr, "kalium convert: %s: %s\n", input.path.c_str(), w.error().message().c_str()); failures++; continue; }
        }
        for (const kalium::written_file &f : files) {
            const std::string path = out_dir + "/" + f.name;
            if (!write_file(path, f.bytes)) {
                std::fprintf(stderr, "kalium convert: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
                failures++;
            } else {
                std::printf("%s\n", path.c_str());
            }
        }
    }
    return failures ? 1 : 0;
}
