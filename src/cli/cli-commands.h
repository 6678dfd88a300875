// cli/cli-commands.h: the subcommands of `kalium` (one file each) and their shared output helper.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

int cli_inspect(int argc, char **argv);
int cli_convert(int argc, char **argv);
int cli_predict(int argc, char **argv);
int cli_measure(int argc, char **argv);
int cli_report(int argc, char **argv);

// JSON text; invalid UTF-8 from files (Latin-1 statements) is replaced, never thrown. indent < 0: one line.
std::string cli_json_text(const nlohmann::ordered_json &j, int indent);
