// cli/test-predict.cpp: `kalium predict` as a user runs it (native only): one result per ECG in every sample
// format the readers take, the documented JSON keys and their invariants, per-file errors with exit status 1
// after the other files, JSONL and CSV, the reliability mark (a paced ECG marked, a wide QRS never), and a
// damaged model refused with the reason.
#include "test-util.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace {

struct run_result {
    int exit_code = -1;
    std::string out;
};

// Runs the CLI; `stderr_too` merges stderr into out.
run_result run_predict(const std::string &args, bool stderr_too = false) {
    run_result r;
    const std::string command = std::string(KALIUM_CLI_PATH) + " predict " + args + (stderr_too ? " 2>&1" : " 2>/dev/null");
    FILE *p = popen(command.c_str(), "r");
    REQUIRE(p != nullptr);
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), p)) > 0) r.out.append(buffer, n);
    const int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

// One 12-lead ECG of each format the readers take.
const char *const k_one_per_format[] = {
    "samples/wfdb/ludb_1/1.hea",
    "samples/wfdb/challenge2021/E07500.hea",
    "samples/philips-xml/sierra_1_04_ad4d3d80-d165_1-04_orig.xml",
    "samples/ge-muse-xml/braveheart_example1.xml",
    "samples/hl7-aecg/hl7_2003-12_Example_aECG.xml",
    "samples/scp-ecg/ecgtoolkit_Example.scp",
    "samples/dicom/ecgtoolkit_Example.dcm",
    "samples/edf/contec_0000050.ECG.edf",
    "samples/csv/denismot_ECG_12L.csv",
};

void check_prediction(const nlohmann::json &p) {
    for (const char *key : {"file", "k_plus", "k_plus_display", "group", "group_probs", "lead_k", "lead_attention", "warnings", "model"})
        CHECK(p.contains(key));
    const double k = p["k_plus"];
    CHECK(std::isfinite(k));
    const std::string display = p["k_plus_display"];
    if (k < 1.5) CHECK(display == "<1.5");
    else if (k > 7.5) CHECK(display == ">7.5");
    else CHECK(std::abs(std::stod(display) - k) <= 0.05 + 1e-9);
    const char *groups[] = {"<=2.5", "2.5-3.5", "3.5-5.5", "5.5-6.5", ">=6.5"};
    const int g = (k > 2.5) + (k > 3.5) + (k >= 5.5) + (k >= 6.5);
    CHECK(p["group"] == groups[g]);
    double sum_p = 0, sum_a = 0;
    for (const char *name : groups) {
        REQUIRE(p["group_probs"].contains(name));
        const double v = p["group_probs"][name];
        CHECK(v >= 0.0);
        sum_p += v;
    }
    CHECK(sum_p == Approx(1.0).margin(1e-6));
    // the shipped model has a K+ distribution: its range holds the estimate, its balanced probabilities sum to 1
    REQUIRE(p["k_plus_range"].is_array());
    REQUIRE(p["k_plus_range"].size() == 2);
    CHECK(p["k_plus_range"][0].get<double>() <= k);
    CHECK(k <= p["k_plus_range"][1].get<double>());
    CHECK(p["k_plus_range_level"].get<double>() == Approx(0.8));
    CHECK(std::isfinite(p["k_plus_balanced"].get<double>()));
    CHECK_THAT(p["population"].get<std::string>(), Catch::Contains("emergency department"));
    CHECK((p["k_plus_flag"].is_null() || p["k_plus_flag"] == "hypokalemia" || p["k_plus_flag"] == "hyperkalemia"));
    double sum_balanced = 0;
    for (const char *name : groups) sum_balanced += p["group_probs_balanced"][name].get<double>();
    CHECK(sum_balanced == Approx(1.0).margin(1e-6));
    REQUIRE(p["lead_k"].size() == 12);
    REQUIRE(p["lead_attention"].size() == 12);
    for (const char *lead : {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"}) {
        REQUIRE(p["lead_attention"].contains(lead));
        const double a = p["lead_attention"][lead];
        CHECK((a > 0.0 && a < 1.0));
        sum_a += a;
        CHECK(std::isfinite(p["lead_k"][lead].get<double>()));
    }
    CHECK(sum_a == Approx(1.0).margin(1e-5));
    CHECK(p["model"]["name"] == "ecg12net-1");
    CHECK(p["model"]["sha256"].get<std::string>().size() == 64);
    // the reliability mark: "ok" with no reasons, or "less reliable" with at least one
    REQUIRE(p["reliability_reasons"].is_array());
    CHECK(p["reliability"] == (p["reliability_reasons"].empty() ? "ok" : "less reliable"));
}

// A temporary folder, removed with what is in it.
struct temp_dir {
    std::string path;
    temp_dir() {
        char pattern[] = "/tmp/kalium-predict-test-XXXXXX";
        REQUIRE(mkdtemp(pattern) != nullptr);
        path = pattern;
    }
    ~temp_dir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

}  // namespace

TEST_CASE("kalium predict gives one result per ECG in every sample format", "[cli][predict]") {
    std::string args;
    for (const char *f : k_one_per_format) args += " " + shared_ecg(f);
    run_result r = run_predict(args);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(j.is_array());
    REQUIRE(j.size() == std::size(k_one_per_format));
    for (size_t i = 0; i < j.size(); i++) {
        INFO(k_one_per_format[i]);
        CHECK(j[i]["file"] == shared_ecg(k_one_per_format[i]));
        check_prediction(j[i]);
    }
    // the same ECG stored as HL7 aECG and as SCP-ECG (ECGToolkit's example) gives the same estimate
    CHECK(j[4]["k_plus"].get<double>() == Approx(j[5]["k_plus"].get<double>()).margin(0.02));
}

TEST_CASE("kalium predict reports the files it cannot use and still predicts the others", "[cli][predict]") {
    const std::string good = shared_ecg("samples/wfdb/ludb_1/1.hea");
    run_result r = run_predict("/no/such/file.xml " + shared_ecg("samples/wfdb/mitdb_100/100.hea") + " " + good);
    INFO(r.out);
    CHECK(r.exit_code == 1);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(j.size() == 3);
    CHECK(j[0]["file"] == "/no/such/file.xml");
    CHECK_THAT(j[0]["error"].get<std::string>(), Catch::Contains("No such file"));
    // MIT-BIH 100 has two leads: the network needs the 12 standard ones
    CHECK_THAT(j[1]["error"].get<std::string>(), Catch::Contains("missing"));
    CHECK_FALSE(j[1].contains("k_plus"));
    check_prediction(j[2]);
}

TEST_CASE("kalium predict writes JSONL and CSV with the same numbers as JSON", "[cli][predict]") {
    const std::string files = shared_ecg("samples/wfdb/ludb_1/1.hea") + " " + shared_ecg("samples/csv/contec_0000050.ECG.csv") +
                              " " + shared_ecg("samples/dicom/ecgtoolkit_Example.dcm");
    run_result json = run_predict(files), jsonl = run_predict("--format jsonl " + files), csv = run_predict("--format csv " + files);
    CHECK(json.exit_code == 1);   // the Contec CSV has no V1-V6
    CHECK(jsonl.exit_code == 1);
    CHECK(csv.exit_code == 1);
    auto all = nlohmann::json::parse(json.out);
    std::istringstream lines(jsonl.out);
    std::string line;
    size_t i = 0;
    for (; std::getline(lines, line); i++) {
        auto one = nlohmann::json::parse(line);
        REQUIRE(i < all.size());
        CHECK(one == all[i]);
    }
    CHECK(i == 3);
    std::istringstream rows(csv.out);
    std::string header;
    REQUIRE(std::getline(rows, header));
    CHECK(header.rfind("file,k_plus,k_plus_display,group,p_<=2.5,", 0) == 0);
    const auto columns = [](const std::string &s) {   // RFC 4180: commas inside quotes do not separate
        long n = 1;
        bool quoted = false;
        for (char c : s) {
            if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) n++;
        }
        return n;
    };
    CHECK(columns(header) == 4 + 5 + 4 + 2 + 12 + 12 + 2);
    CHECK_THAT(header, Catch::Contains(",k_range_low,k_range_high,k_plus_balanced,flag,reliability,reliability_reasons,lead_k_I,"));
    std::vector<std::string> body;
    for (std::string row; std::getline(rows, row);) body.push_back(row);
    REQUIRE(body.size() == 3);
    for (const std::string &row : body) CHECK(columns(row) == columns(header));
    const std::string first_k = body[0].substr(body[0].find(',') + 1, body[0].find(',', body[0].find(',') + 1) - body[0].find(',') - 1);
    CHECK(std::stod(first_k) == Approx(all[0]["k_plus"].get<double>()).margin(1e-5));
    CHECK_THAT(body[1], Catch::Contains("missing"));
}

TEST_CASE("kalium predict marks a paced ECG as less reliable, never a wide QRS, in JSON and CSV", "[cli][predict]") {
    // LUDB 1 with a pacing spike (+2 mV for one sample at 500 Hz) in all 12 leads every 0.9 s, as the browser
    // test (tests/web/e2e.mjs) and test-report make it, written as a WFDB record
    auto outcomes = kalium::ecg_read_all({as_named("1.hea", read_bytes(shared_ecg("samples/wfdb/ludb_1/1.hea"))),
                                          as_named("1.dat", read_bytes(shared_ecg("samples/wfdb/ludb_1/1.dat")))});
    REQUIRE(outcomes.at(0).record);
    kalium::ecg_record record = *outcomes[0].record;
    REQUIRE(record.fs_hz == 500.0);
    for (kalium::ecg_lead &lead : record.leads)
        for (size_t i = 300; i < lead.samples_uv.size(); i += 450) lead.samples_uv[i] += 2000.0f;
    auto written = kalium::ecg_write_wfdb(record, "paced");
    REQUIRE(written);
    temp_dir dir;
    for (const kalium::written_file &f : written.value())
        std::ofstream(dir.path + "/" + f.name, std::ios::binary)
            .write(reinterpret_cast<const char *>(f.bytes.data()), static_cast<std::streamsize>(f.bytes.size()));
    const std::string paced = dir.path + "/paced.hea";
    const std::string normal = shared_ecg("samples/wfdb/ludb_1/1.hea");
    // the FDA's aECG example: kalium measures its QRS at 120 ms (wide; the cart says 120 too), a sign of
    // hyperkalemia, never a reason to trust the estimate less
    const std::string wide = shared_ecg("samples/hl7-aecg/hl7_2003-12_Example_aECG.xml");
    auto wide_record = kalium::ecg_read_all({as_named("aecg.xml", read_bytes(wide))});
    REQUIRE(wide_record.at(0).record);
    auto wide_measured = kalium::ecg_measure(*wide_record[0].record);
    REQUIRE(wide_measured);
    REQUIRE(wide_measured->values.qrs_ms);
    CHECK(*wide_measured->values.qrs_ms >= 120.0);
    const std::string files = paced + " " + normal + " " + wide;

    run_result json = run_predict(files), csv = run_predict("--format csv " + files);
    INFO(json.out);
    REQUIRE(json.exit_code == 0);
    REQUIRE(csv.exit_code == 0);
    auto all = nlohmann::json::parse(json.out);
    REQUIRE(all.size() == 3);
    for (const auto &p : all) check_prediction(p);
    // paced: marked, paced rhythm the first reason, the number still given
    CHECK(all[0]["reliability"] == "less reliable");
    REQUIRE(all[0]["reliability_reasons"].size() >= 1);
    CHECK(all[0]["reliability_reasons"][0] == "paced rhythm");
    CHECK(all[0]["k_plus"].is_number());
    // the same ECG without the spikes: ok
    CHECK(all[1]["reliability"] == "ok");
    CHECK(all[1]["reliability_reasons"].empty());
    // wide QRS: no reason names the QRS or its width
    for (const auto &reason : all[2]["reliability_reasons"]) {
        CHECK_THAT(reason.get<std::string>(), !Catch::Contains("QRS", Catch::CaseSensitive::No));
        CHECK_THAT(reason.get<std::string>(), !Catch::Contains("wide", Catch::CaseSensitive::No));
    }
    CHECK(all[2]["reliability"] == "ok");
    // the keys sit after k_plus_flag, before lead_k (nn/prediction-json.h)
    const auto ordered = nlohmann::ordered_json::parse(json.out).at(1);
    std::vector<std::string> keys;
    for (auto it = ordered.begin(); it != ordered.end(); ++it) keys.push_back(it.key());
    const auto at = [&](const char *key) { return std::find(keys.begin(), keys.end(), key) - keys.begin(); };
    CHECK(at("reliability") == at("k_plus_flag") + 1);
    CHECK(at("reliability_reasons") == at("reliability") + 1);
    CHECK(at("lead_k") == at("reliability_reasons") + 1);
    // CSV: the same mark, the reasons joined by "; "
    std::istringstream rows(csv.out);
    std::string header, row;
    REQUIRE(std::getline(rows, header));
    std::vector<std::string> body;
    while (std::getline(rows, row)) body.push_back(row);
    REQUIRE(body.size() == 3);
    CHECK_THAT(body[0], Catch::Contains(",less reliable,paced rhythm"));
    CHECK_THAT(body[1], Catch::Contains(",ok,,"));
    CHECK_THAT(body[2], Catch::Contains(",ok,,"));
    std::string reasons;
    for (const auto &r : all[0]["reliability_reasons"]) reasons += (reasons.empty() ? "" : "; ") + r.get<std::string>();
    CHECK_THAT(body[0], Catch::Contains(",less reliable," + (reasons.find(',') == std::string::npos ? reasons : "\"" + reasons + "\"") + ","));
}

TEST_CASE("kalium predict refuses a damaged model with the reason", "[cli][predict]") {
    const std::string shipped = std::string(KALIUM_MODEL_DIR) + "/ecg12net-1.kmodel";
    char pattern[] = "/tmp/kalium-predict-test-XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    const std::string copy = std::string(pattern) + "/m.kmodel";
    std::vector<uint8_t> bytes = read_bytes(shipped);
    bytes[bytes.size() / 3] ^= 0x10;
    std::ofstream(copy, std::ios::binary).write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    const std::vector<uint8_t> manifest = read_bytes(shipped + ".sha256");
    std::ofstream(copy + ".sha256", std::ios::binary).write(reinterpret_cast<const char *>(manifest.data()), static_cast<std::streamsize>(manifest.size()));
    run_result r = run_predict("--model " + copy + " " + shared_ecg("samples/wfdb/ludb_1/1.hea"), true);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.out, Catch::Contains("sha256") && Catch::Contains("does not match"));
    run_result missing = run_predict("--model /no/such.kmodel " + shared_ecg("samples/wfdb/ludb_1/1.hea"), true);
    CHECK(missing.exit_code == 1);
    CHECK_THAT(missing.out, Catch::Contains("/no/such.kmodel"));
    CHECK(run_predict("--format xml x").exit_code == 2);
    CHECK(run_predict("--threads 0 x").exit_code == 2);
    CHECK(run_predict("").exit_code == 2);
    std::remove((copy + ".sha256").c_str());
    std::remove(copy.c_str());
    rmdir(pattern);
}

TEST_CASE("kalium predict --precision: int8 within 0.05 mEq/L of f32, f32-direct within 1e-5, and what it refuses", "[cli][predict]") {
    std::string files;
    for (const char *f : k_one_per_format) files += " " + shared_ecg(f);
    run_result f32 = run_predict("--format jsonl --precision f32" + files);
    run_result int8 = run_predict("--format jsonl --precision int8" + files);
    run_result direct = run_predict("--format jsonl --precision f32-direct" + files);
    REQUIRE(f32.exit_code == 0);
    REQUIRE(int8.exit_code == 0);
    REQUIRE(direct.exit_code == 0);
    std::istringstream a(f32.out), b(int8.out), c(direct.out);
    std::string line_a, line_b, line_c;
    size_t n = 0;
    bool any_different = false;
    while (std::getline(a, line_a) && std::getline(b, line_b) && std::getline(c, line_c)) {
        const nlohmann::json pa = nlohmann::json::parse(line_a), pb = nlohmann::json::parse(line_b), pc = nlohmann::json::parse(line_c);
        check_prediction(pb);
        check_prediction(pc);
        CHECK(pa["file"] == pb["file"]);
        CHECK(pa["file"] == pc["file"]);
        const double dk = std::abs(pa["k_plus"].get<double>() - pb["k_plus"].get<double>());
        CHECK(dk <= 0.05);
        CHECK(std::abs(pa["k_plus"].get<double>() - pc["k_plus"].get<double>()) <= 1e-5);  // Winograd vs direct
        any_different = any_different || dk > 1e-6;
        n++;
    }
    CHECK(n == std::size(k_one_per_format));
    CHECK(any_different);  // it is a different arithmetic, not the f32 path under another name
    run_result bad = run_predict("--precision int4 x", true);
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.out, Catch::Contains("--precision must be f32, f32-direct or int8"));
}
