// cli/test-bad-input.cpp: `kalium predict` on the whole crafted bad-input corpus (tests/bad-input, native only;
// under the asan preset the CLI itself runs with the sanitizers): one JSON object per file, an error object
// naming what is wrong for every bad one, a K+ for the good ones, exit status 1, and no crash.
#include "test-util.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <sys/wait.h>

TEST_CASE("kalium predict on every bad-input file: an error object each, exit 1, no crash", "[cli][bad-input]") {
    std::ifstream manifest("tests/bad-input/EXPECTED.tsv");
    REQUIRE(manifest);
    std::map<std::string, std::pair<std::string, std::string>> expected;  // path -> (expected, phrase)
    std::string line, args;
    while (std::getline(manifest, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        std::string file, outcome, phrase;
        std::getline(fields, file, '\t');
        std::getline(fields, outcome, '\t');
        std::getline(fields, phrase, '\t');
        const std::string path = "tests/bad-input/files/" + file;
        expected[path] = {outcome, phrase};
        args += " " + path;  // a WFDB header only: the CLI reads the signal files it names from beside it
    }
    REQUIRE(expected.size() >= 50);

    const std::string command = std::string(KALIUM_CLI_PATH) + " predict" + args + " 2>/dev/null";
    FILE *p = popen(command.c_str(), "r");
    REQUIRE(p != nullptr);
    std::string out;
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), p)) > 0) out.append(buffer, n);
    const int status = pclose(p);
    REQUIRE(WIFEXITED(status));  // not killed by a signal (a crash, a sanitizer abort)
    CHECK(WEXITSTATUS(status) == 1);

    const nlohmann::json j = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
    INFO(out.substr(0, 2000));
    REQUIRE(j.is_array());
    CHECK(j.size() == expected.size());
    size_t errors = 0;
    for (const nlohmann::json &entry : j) {
        REQUIRE(entry.contains("file"));
        const std::string file = entry["file"];
        INFO(file << ": " << entry.dump().substr(0, 400));
        REQUIRE(expected.count(file) == 1);
        const auto &[outcome, phrase] = expected[file];
        if (outcome == "ok") {
            CHECK(entry.contains("k_plus"));
            CHECK_FALSE(entry.contains("error"));
            continue;
        }
        errors++;
        REQUIRE(entry.contains("error"));
        CHECK_FALSE(entry.contains("k_plus"));
        CHECK_THAT(entry["error"].get<std::string>(), Catch::Contains(phrase));
    }
    CHECK(errors >= 50);
}
