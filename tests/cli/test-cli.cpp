// cli/test-cli.cpp: the `kalium` command line as a user runs it (native only): JSON keys other tools rely
// on, per-file errors with a non-zero exit after the other files, and convert's round trip.
#include "test-util.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

struct run_result {
    int exit_code = -1;
    std::string out;
};

run_result run_cli(const std::string &args) {
    run_result r;
    const std::string command = std::string(KALIUM_CLI_PATH) + " " + args + " 2>/dev/null";
    FILE *p = popen(command.c_str(), "r");
    REQUIRE(p != nullptr);
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), p)) > 0) r.out.append(buffer, n);
    int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

std::string temp_dir() {
    char pattern[] = "/tmp/kalium-cli-test-XXXXXX";
    const char *dir = mkdtemp(pattern);
    REQUIRE(dir != nullptr);
    return dir;
}

}  // namespace

TEST_CASE("kalium inspect prints the documented JSON keys for a WFDB record", "[cli]") {
    run_result r = run_cli("inspect " + shared_ecg("samples/wfdb/ludb_1/1.hea"));
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(j.is_array());
    REQUIRE(j.size() == 1);
    const auto &rec = j[0];
    for (const char *key : {"file", "format", "leads", "derived_leads", "fs_hz", "duration_s", "lead_range_mv",
                            "cart_measurements", "statements", "warnings"})
        CHECK(rec.contains(key));
    CHECK(rec["format"] == "wfdb");
    CHECK(rec["fs_hz"] == 500.0);
    CHECK(rec["leads"].size() == 12);
    CHECK(rec["leads"][0] == "I");
    CHECK(rec["lead_range_mv"]["II"].size() == 2);
    const double lo = rec["lead_range_mv"]["II"][0], hi = rec["lead_range_mv"]["II"][1];
    CHECK(hi - lo > 0.3);
    CHECK(hi - lo < 5.0);
}

TEST_CASE("kalium inspect reports an unreadable file and still prints the others", "[cli]") {
    const std::string dir = temp_dir();
    const std::string bad = dir + "/notes.txt";
    FILE *f = std::fopen(bad.c_str(), "w");
    REQUIRE(f);
    std::fputs("not an ECG at all\n", f);
    std::fclose(f);
    run_result r = run_cli("inspect --format jsonl " + bad + " " + shared_ecg("samples/wfdb/ludb_1/1.hea") + " " + dir + "/missing.xml");
    INFO(r.out);
    CHECK(r.exit_code == 1);
    std::vector<nlohmann::json> lines;
    size_t start = 0;
    while (start < r.out.size()) {
        size_t end = r.out.find('\n', start);
        if (end == std::string::npos) end = r.out.size();
        if (end > start) lines.push_back(nlohmann::json::parse(r.out.substr(start, end - start)));
        start = end + 1;
    }
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].contains("error"));
    CHECK(lines[0]["error"].get<std::string>().find("notes.txt") != std::string::npos);
    CHECK(lines[1]["format"] == "wfdb");
    CHECK(lines[2].contains("error"));
    std::remove(bad.c_str());
    rmdir(dir.c_str());
}

TEST_CASE("kalium convert writes WFDB and CSV that read back to the same microvolts", "[cli]") {
    const std::string dir = temp_dir();
    const std::string source = shared_ecg("samples/wfdb/ludb_1/1.hea");
    REQUIRE(run_cli("convert " + source + " --to wfdb --out " + dir).exit_code == 0);
    REQUIRE(run_cli("convert " + source + " --to csv --out " + dir).exit_code == 0);
    run_result r = run_cli("inspect " + source + " " + dir + "/1.hea " + dir + "/1.csv");
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(j.size() == 3);
    for (size_t k = 1; k < 3; k++) {
        CHECK(j[k]["fs_hz"] == j[0]["fs_hz"]);
        CHECK(j[k]["leads"] == j[0]["leads"]);
        for (auto &[lead, range] : j[0]["lead_range_mv"].items()) {
            CHECK(j[k]["lead_range_mv"][lead][0].get<double>() == Approx(range[0].get<double>()).margin(0.001));
            CHECK(j[k]["lead_range_mv"][lead][1].get<double>() == Approx(range[1].get<double>()).margin(0.001));
        }
    }
    for (const char *name : {"1.hea", "1.dat", "1.csv"}) std::remove((dir + "/" + name).c_str());
    rmdir(dir.c_str());
}

TEST_CASE("kalium rejects bad usage with exit status 2", "[cli]") {
    CHECK(run_cli("inspect --format xml x").exit_code == 2);
    CHECK(run_cli("inspect").exit_code == 2);
    CHECK(run_cli("convert x --to pdf --out /tmp").exit_code == 2);
    CHECK(run_cli("no-such-command").exit_code == 2);
}
