// cli/test-measure.cpp: `kalium measure` as a user runs it (native only): the documented keys on real files,
// cart values beside ours when the file has them, null values with a warning, per-file errors with exit
// status 1 after the other files, JSONL, and usage errors.
#include "test-util.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>
#include <string>
#include <sys/wait.h>

namespace {

struct measure_run {
    int exit_code = -1;
    std::string out;
};

measure_run run_measure(const std::string &args) {
    measure_run r;
    const std::string command = std::string(KALIUM_CLI_PATH) + " measure " + args + " 2>/dev/null";
    FILE *p = popen(command.c_str(), "r");
    REQUIRE(p != nullptr);
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), p)) > 0) r.out.append(buffer, n);
    const int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

const char *const k_value_keys[] = {"hr_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "p_axis_deg", "qrs_axis_deg", "t_axis_deg"};

}  // namespace

TEST_CASE("cli measure: the 8 values, the cart's beside them, warnings", "[cli][measure]") {
    const std::string ge = shared_ecg("samples/ge-muse-xml/braveheart_example2.xml");
    const std::string ludb = shared_ecg("samples/wfdb/ludb_1/1.hea");
    const measure_run r = run_measure("'" + ge + "' '" + ludb + "'");
    REQUIRE(r.exit_code == 0);
    const nlohmann::json all = nlohmann::json::parse(r.out);
    REQUIRE(all.is_array());
    REQUIRE(all.size() == 2);
    for (const auto &j : all) {
        for (const char *key : k_value_keys) {
            REQUIRE(j.contains(key));
            CHECK(j[key].is_number());
        }
        CHECK(j["qtc_formula"] == "bazett");
        CHECK(j["warnings"].is_array());
        CHECK(j["beats"].get<int>() >= 5);
    }
    // GE MUSE carries the cart's measurements; LUDB does not.
    REQUIRE(all[0].contains("cart_measurements"));
    for (const char *key : k_value_keys) CHECK(all[0]["cart_measurements"].contains(key));
    CHECK(all[0]["cart_measurements"]["hr_bpm"] == 65.0);
    CHECK(std::abs(all[0]["hr_bpm"].get<double>() - 65.0) <= 3.0);
    CHECK_FALSE(all[1].contains("cart_measurements"));
}

TEST_CASE("cli measure: JSONL, a bad file among good ones, usage errors", "[cli][measure]") {
    const std::string good = shared_ecg("samples/ge-muse-xml/braveheart_example1.xml");
    const std::string pdf_like = shared_ecg("samples/wfdb/ludb_1/1.i");  // an annotation file, not an ECG
    const measure_run r = run_measure("--format jsonl '" + pdf_like + "' '" + good + "'");
    CHECK(r.exit_code == 1);
    std::istringstream lines(r.out);
    std::string line;
    std::vector<nlohmann::json> rows;
    while (std::getline(lines, line)) rows.push_back(nlohmann::json::parse(line));
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].contains("error"));
    CHECK(rows[0].contains("error_code"));
    CHECK(rows[1]["qrs_ms"].is_number());

    // A 2-lead Holter record cannot be measured as a 12-lead ECG: an error naming the missing lead.
    const measure_run two = run_measure("'" + shared_ecg("samples/wfdb/mitdb_100/100.hea") + "'");
    CHECK(two.exit_code == 1);
    const nlohmann::json j = nlohmann::json::parse(two.out);
    REQUIRE(j.size() == 1);
    CHECK(j[0]["error"].get<std::string>().find("lead") != std::string::npos);

    CHECK(run_measure("").exit_code == 2);
    CHECK(run_measure("--format csv x").exit_code == 2);
    CHECK(run_measure("--no-such-option x").exit_code == 2);
}

TEST_CASE("cli measure: a value that cannot be measured is null with the reason", "[cli][measure]") {
    // The Contec recording has limb leads only (V1-V6 flat): measured, with warnings naming the flat leads.
    const measure_run r = run_measure("'" + shared_ecg("samples/edf/contec_0000050.ECG.edf") + "'");
    const nlohmann::json all = nlohmann::json::parse(r.out);
    REQUIRE(all.size() == 1);
    const auto &j = all[0];
    if (j.contains("error")) {
        FAIL("contec: " << j["error"]);
    }
    for (const char *key : k_value_keys) {
        REQUIRE(j.contains(key));
        CHECK((j[key].is_number() || j[key].is_null()));
    }
    bool names_v1 = false;
    for (const auto &w : j["warnings"]) names_v1 = names_v1 || w.get<std::string>().find("V1") != std::string::npos;
    CHECK(names_v1);
}
