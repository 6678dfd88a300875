// cli/main.cpp: the `kalium` command line. Subcommands live in the table below; each later capability
// (inspect, predict, measure, ...) adds one entry and its own file in this folder.
//
// Exit status: 0 success, 1 a command failed on some input, 2 usage error.
#include "cli-commands.h"
#include "kalium.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace {

struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);  // argv[0] is the subcommand name
};

int cmd_version(int argc, char **argv);

const cli_command k_commands[] = {
    {"inspect", "read ECG files and print what they hold (JSON)", cli_inspect},
    {"predict", "estimate serum K+ from ECG files with ECG12Net (JSON, JSONL or CSV)", cli_predict},
    {"convert", "write ECG files as WFDB (format 16) or CSV", cli_convert},
    {"measure", "heart rate, PR, QRS, QT, QTc, P/QRS/T axes and signal quality of ECG files (JSON, JSONL)", cli_measure},
    {"report", "a printable one-page PDF report per ECG: ECG at 25 mm/s and 10 mm/mV, K+ and its context", cli_report},
    {"version", "print the version and what this build is", cmd_version},
};

void print_usage(FILE *out) {
    std::fprintf(out,
                 "kalium %s: serum potassium (K+) from the 12-lead ECG with ECG12Net.\n"
                 "Research use only; not a medical device.\n"
                 "\n"
                 "usage: kalium [--version] [--help] <command> [options] [FILE...]\n"
                 "\n"
                 "commands:\n",
                 kalium::version_string());
    for (const cli_command &c : k_commands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
    std::fprintf(out,
                 "\n"
                 "options:\n"
                 "  --version  print the version and exit\n"
                 "  --help     print this help and exit\n");
}

int cmd_version(int argc, char **argv) {
    if (argc > 1) {
        std::fprintf(stderr, "kalium version: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    std::printf("kalium %s (%s)\n", kalium::version_string(), kalium::build_description());
    return 0;
}

}  // namespace

std::string cli_json_text(const nlohmann::ordered_json &j, int indent) {
    return j.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::ordered_json::error_handler_t::replace);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    const char *first = argv[1];
    if (std::strcmp(first, "--help") == 0 || std::strcmp(first, "-h") == 0 || std::strcmp(first, "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (std::strcmp(first, "--version") == 0) {
        std::printf("kalium %s\n", kalium::version_string());
        return 0;
    }
    for (const cli_command &c : k_commands) {
        if (std::strcmp(first, c.name) == 0) return c.run(argc - 1, argv + 1);
    }
    std::fprintf(stderr, "kalium: unknown command or option '%s' (try 'kalium --help')\n", first);
    return 2;
}
