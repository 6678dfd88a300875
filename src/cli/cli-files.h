// cli/cli-files.h: loading the files named on the command line, and the JSON view of records shared by
// the subcommands.
#pragma once

#include "ecg/files.h"
#include "kalium.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

// One file given on the command line, loaded with its WFDB companions (ecg/files.h, shared with the Python module).
using cli_input = kalium::ecg_file;

// The whole regular file at path (at most kalium's per-file limit); on failure `error` says why, naming the path.
bool cli_read_file(const std::string &path, std::vector<uint8_t> &bytes, std::string &error);

// Reads each path; for WFDB headers also the files they name (WFDB records are given by their .hea).
std::vector<cli_input> cli_load_inputs(const std::vector<std::string> &paths);

// Reads the record(s) of one loaded input.
kalium::result<kalium::ecg_record> cli_read_record(const cli_input &input, const kalium::read_options &options);

// The `inspect` JSON object of a record (keys documented in cli/inspect.cpp).
nlohmann::ordered_json cli_record_json(const std::string &file, const kalium::ecg_record &record);
nlohmann::ordered_json cli_error_json(const std::string &file, const kalium::status &error);
nlohmann::ordered_json cli_measurements_json(const kalium::ecg_measurements &m);

// A finite number filling the whole text.
bool cli_parse_number(const char *text, double &out);
// The reading options every subcommand shares (--fs HZ, --uv-per-unit X) at argv[i]: returns 1 when it took
// the option (advancing i past its value), 0 when argv[i] is not one of them, -1 after printing why the value
// is wrong.
int cli_parse_read_option(const char *command, int argc, char **argv, int &i, kalium::read_options &options);
