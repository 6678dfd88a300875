// ecg/test-read-csv.cpp: the CSV reader on the two sample exports (denismot: metadata lines and a header;
// contec: raw ADC without header, chest leads empty), on the 1,195 hmc ECGs (12 x 5000 integers in 0.01 mV at
// 500 Hz, read silently), and on handcrafted files for each variant the reader accepts (delimiters, decimal comma,
// quotes, CRLF, BOM, UTF-16, metadata styles, unit annotations, time columns, missing cells, amplitude
// recognition) and each it refuses (no data, non-numbers, ragged rows, too many columns or samples, binary).
// Expected microvolts are computed here from the cells as written and the unit the file states.
#include "test-util.h"

#include "ecg/readers.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <dirent.h>
#include <string>
#include <vector>

using kalium::lead_id;
using kalium::status_code;

namespace {

kalium::result<kalium::ecg_record> read_text(const std::string &text, const kalium::read_options &options = {},
                                             const std::string &name = "test.csv") {
    const std::vector<uint8_t> bytes = text_bytes(text);
    return kalium::ecg_read(as_named(name, bytes), {}, options);
}

bool has_warning(const kalium::ecg_record &r, const std::string &part) {
    return std::any_of(r.warnings.begin(), r.warnings.end(), [&](const std::string &w) { return w.find(part) != std::string::npos; });
}

std::string all_warnings(const kalium::ecg_record &r) {
    std::string out;
    for (const std::string &w : r.warnings) out += "\n  " + w;
    return out;
}

// The cells of one line of a file, as integers (independent of the reader: the sample files hold plain integers).
std::vector<long> integers_of_line(const std::vector<uint8_t> &bytes, size_t line_index) {
    std::string text(bytes.begin(), bytes.end());
    size_t start = 0;
    for (size_t k = 0; k < line_index; k++) start = text.find('\n', start) + 1;
    const std::string line = text.substr(start, text.find('\n', start) - start);
    std::vector<long> out;
    size_t p = 0;
    while (p <= line.size()) {
        size_t comma = line.find(',', p);
        if (comma == std::string::npos) comma = line.size();
        const std::string cell = line.substr(p, comma - p);
        if (!cell.empty() && cell != "\r") out.push_back(std::strtol(cell.c_str(), nullptr, 10));
        p = comma + 1;
    }
    return out;
}

const char *const k_standard_names[] = {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"};

// A synthetic ECG-like lead: a triangular "QRS" of the given peak every 400 samples (40 samples wide), else 0.
std::string synthetic_table(size_t rows, size_t leads, double peak, bool integers) {
    std::string text;
    for (size_t l = 0; l < leads; l++) text += std::string(l ? "," : "") + k_standard_names[l];
    text += "\n";
    char cell[64];
    for (size_t t = 0; t < rows; t++) {
        const double phase = static_cast<double>(t % 400);
        const double v = phase < 40 ? peak * (1.0 - std::fabs(phase - 20.0) / 20.0) : 0.0;
        for (size_t l = 0; l < leads; l++) {
            if (integers) std::snprintf(cell, sizeof cell, "%s%ld", l ? "," : "", std::lround(v));
            else std::snprintf(cell, sizeof cell, "%s%.4f", l ? "," : "", v);
            text += cell;
        }
        text += "\n";
    }
    return text;
}

}  // namespace

// ---- The sample files --------------------------------------------------------------------------------------------

TEST_CASE("csv: denismot 12-lead export with metadata lines (500 Hz, 2048 digits per mV)", "[ecg][csv]") {
    const std::vector<uint8_t> bytes = read_bytes(shared_ecg("samples/csv/denismot_ECG_12L.csv"));
    auto r = kalium::ecg_read(as_named("denismot_ECG_12L.csv", bytes));
    REQUIRE(r.ok());
    const kalium::ecg_record &rec = r.value();
    INFO(all_warnings(rec));
    CHECK(rec.format == "csv");
    CHECK(rec.warnings.empty());  // the file states rate, gain and lead names
    CHECK(rec.fs_hz == 500.0);
    CHECK(rec.sample_count() == 5000);
    REQUIRE(rec.leads.size() == 12);
    // Line 4 is the first data row, line 5003 the last (metadata on lines 1-2, header on line 3).
    const std::vector<long> first = integers_of_line(bytes, 3), last = integers_of_line(bytes, 5002);
    REQUIRE(first.size() == 12);
    REQUIRE(last.size() == 12);
    CHECK(first[0] == 50);  // the row as seen with `head`: 50,-100,-150,25,...
    for (size_t k = 0; k < 12; k++) {
        const kalium::ecg_lead &lead = rec.leads[k];
        INFO("lead " << k_standard_names[k]);
        CHECK(lead.name == k_standard_names[k]);
        CHECK_FALSE(lead.derived);
        CHECK(lead.gain_adu_per_mv == 2048.0);
        CHECK(lead.samples_uv[0] == static_cast<float>(first[k] * 1000.0 / 2048.0));
        CHECK(lead.samples_uv[4999] == static_cast<float>(last[k] * 1000.0 / 2048.0));
    }
    CHECK(rec.leads[0].samples_uv[0] == 24.4140625f);  // 50 digits at 2048 digits per mV
}

TEST_CASE("csv: contec export without header, chest leads empty, rate unknown", "[ecg][csv]") {
    const std::vector<uint8_t> bytes = read_bytes(shared_ecg("samples/csv/contec_0000050.ECG.csv"));
    const std::vector<long> first = integers_of_line(bytes, 0);
    REQUIRE(first.size() == 6);  // -20,-25,-5,23,-7,-15,,,,,,
    SECTION("without options: rate and unit assumed, each with a warning") {
        auto r = kalium::ecg_read(as_named("contec_0000050.ECG.csv", bytes));
        REQUIRE(r.ok());
        const kalium::ecg_record &rec = r.value();
        INFO(all_warnings(rec));
        CHECK(rec.fs_hz == 500.0);
        CHECK(has_warning(rec, "assumed 500 Hz"));
        CHECK(has_warning(rec, "no header row: the 12 columns are assumed to be I, II, III, aVR, aVL, aVF, V1-V6"));
        CHECK(has_warning(rec, "columns V1, V2, V3, V4, V5, V6 are empty and were dropped"));
        CHECK(has_warning(rec, "amplitude unit not stated"));
        CHECK(rec.sample_count() == 37855);
        REQUIRE(rec.leads.size() == 6);
        // Integers whose typical peak is ~125 units: recognised as 0.01 mV units (see choose_unit).
        for (size_t k = 0; k < 6; k++) {
            CHECK(rec.leads[k].name == k_standard_names[k]);
            CHECK(rec.leads[k].samples_uv[0] == static_cast<float>(first[k] * 10));
        }
        CHECK(rec.find(lead_id::V1) == nullptr);
    }
    SECTION("with the rate and unit given (800 Hz, the Contec ECG90A's 5 uV per unit)") {
        kalium::read_options options;
        options.csv_fs_hz = 800;
        options.csv_uv_per_unit = 5;
        auto r = kalium::ecg_read(as_named("contec_0000050.ECG.csv", bytes), {}, options);
        REQUIRE(r.ok());
        const kalium::ecg_record &rec = r.value();
        INFO(all_warnings(rec));
        CHECK(rec.fs_hz == 800.0);
        CHECK(rec.duration_s() == Approx(47.32).margin(0.01));
        CHECK_FALSE(has_warning(rec, "sampling rate"));
        CHECK_FALSE(has_warning(rec, "amplitude unit"));
        CHECK(has_warning(rec, "no header row"));
        REQUIRE(rec.leads.size() == 6);
        for (size_t k = 0; k < 6; k++) {
            CHECK(rec.leads[k].samples_uv[0] == static_cast<float>(first[k] * 5));
            CHECK(rec.leads[k].gain_adu_per_mv == 200.0);
        }
        // Einthoven holds in the file's own integers: II = I + III (-25 = -20 + -5).
        CHECK(rec.leads[1].samples_uv[0] == rec.leads[0].samples_uv[0] + rec.leads[2].samples_uv[0]);
    }
    SECTION("only the rate given: the unit is still recognised and said so") {
        kalium::read_options options;
        options.csv_fs_hz = 800;
        auto r = kalium::ecg_read(as_named("contec_0000050.ECG.csv", bytes), {}, options);
        REQUIRE(r.ok());
        CHECK(r->fs_hz == 800.0);
        CHECK_FALSE(has_warning(r.value(), "sampling rate"));
        CHECK(has_warning(r.value(), "amplitude unit not stated"));
    }
}

TEST_CASE("csv: the contec CSV at 5 uV per unit equals its SCP-ECG twin sample for sample", "[ecg][csv][cross-format]") {
    const std::vector<uint8_t> csv_bytes = read_bytes(shared_ecg("samples/csv/contec_0000050.ECG.csv"));
    const std::vector<uint8_t> scp_bytes = read_bytes(shared_ecg("samples/scp-ecg/contec_0000050.ECG.scp"));
    kalium::read_options options;
    options.csv_fs_hz = 800;
    options.csv_uv_per_unit = 5;  // the SCP file's AVM is 5000 nV
    auto csv = kalium::ecg_read(as_named("contec_0000050.ECG.csv", csv_bytes), {}, options);
    auto scp = kalium::ecg_read(as_named("contec_0000050.ECG.scp", scp_bytes));
    REQUIRE(csv.ok());
    REQUIRE(scp.ok());
    CHECK(scp->fs_hz == csv->fs_hz);
    for (lead_id id : {lead_id::I, lead_id::II, lead_id::III, lead_id::aVR}) {
        const kalium::ecg_lead *a = csv->find(id), *b = scp->find(id);
        REQUIRE((a && b));
        size_t compared = 0, different = 0;
        for (size_t t = 0; t < std::min(a->samples_uv.size(), b->samples_uv.size()); t++) {
            if (!std::isfinite(b->samples_uv[t])) continue;  // the SCP file holds only the first 32767 samples
            compared++;
            different += a->samples_uv[t] != b->samples_uv[t];
        }
        INFO("lead " << kalium::lead_id_name(id));
        CHECK(compared >= 32000);
        CHECK(different == 0);
    }
}

TEST_CASE("csv: hmc files read as 12 leads x 5000 at 500 Hz in 0.01 mV, silently", "[ecg][csv][hmc]") {
    for (const char *name : {"00c89df422284abe02a1684d62e7ab4a.csv", "00dc978ad3a8904682575fab37bdf30f.csv",
                             "00f9b74a75f4771d82075b6cbf102445.csv"}) {
        INFO(name);
        const std::vector<uint8_t> bytes = read_bytes(std::string(KALIUM_HMC_DIR) + "/" + name);
        auto r = kalium::ecg_read(as_named(name, bytes));
        REQUIRE(r.ok());
        const kalium::ecg_record &rec = r.value();
        INFO(all_warnings(rec));
        CHECK(rec.warnings.empty());
        CHECK(rec.fs_hz == 500.0);
        CHECK(rec.sample_count() == 5000);
        CHECK(rec.format_detail.find("hmc") != std::string::npos);
        REQUIRE(rec.leads.size() == 12);
        const std::vector<long> first = integers_of_line(bytes, 1), last = integers_of_line(bytes, 5000);
        REQUIRE(first.size() == 12);
        REQUIRE(last.size() == 12);
        for (size_t k = 0; k < 12; k++) {
            CHECK(rec.leads[k].name == k_standard_names[k]);
            CHECK(rec.leads[k].id == static_cast<lead_id>(k));
            CHECK(rec.leads[k].gain_adu_per_mv == 100.0);
            CHECK(rec.leads[k].units == "0.01 mV");
            CHECK(rec.leads[k].samples_uv[0] == static_cast<float>(first[k] * 10));
            CHECK(rec.leads[k].samples_uv[4999] == static_cast<float>(last[k] * 10));
        }
    }
}

TEST_CASE("csv: all 1,195 hmc files read, each well under a second", "[ecg][csv][hmc]") {
    DIR *dir = opendir(KALIUM_HMC_DIR);
    REQUIRE(dir != nullptr);
    size_t files = 0, failures = 0, with_warnings = 0;
    double slowest_s = 0.0;
    std::string first_failure;
    while (dirent *e = readdir(dir)) {
        const std::string name = e->d_name;
        if (name.size() < 5 || name.compare(name.size() - 4, 4, ".csv") != 0) continue;
        files++;
        const std::vector<uint8_t> bytes = read_bytes(std::string(KALIUM_HMC_DIR) + "/" + name);
        const auto start = std::chrono::steady_clock::now();
        auto r = kalium::ecg_read(as_named(name, bytes));
        slowest_s = std::max(slowest_s, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        const bool good = r.ok() && r->fs_hz == 500.0 && r->sample_count() == 5000 && r->leads.size() == 12 &&
                          r->leads[0].gain_adu_per_mv == 100.0;
        if (!good) {
            failures++;
            if (first_failure.empty()) first_failure = name + ": " + (r.ok() ? "wrong shape" : r.error().message());
        } else if (!r->warnings.empty()) {
            with_warnings++;
        }
    }
    closedir(dir);
    INFO("first failure: " << first_failure << "; slowest read " << slowest_s << " s");
    CHECK(files == 1195);
    CHECK(failures == 0);
    CHECK(with_warnings == 0);
#ifndef __EMSCRIPTEN__
    CHECK(slowest_s < 0.5);  // ~170 KB each; natively a few ms even with sanitizers
#endif
}

// ---- Handcrafted variants that read ---------------------------------------------------------------------------

TEST_CASE("csv: semicolons with decimal commas, units in the column names", "[ecg][csv]") {
    auto r = read_text("I (mV);II (mV);V1 (mV)\n0,5;1,25;-0,75\n\"1,5\";2;-1\n0;0;0\n", {});
    REQUIRE(r.ok());
    const kalium::ecg_record &rec = r.value();
    INFO(all_warnings(rec));
    CHECK(rec.format_detail.find("semicolon") != std::string::npos);
    const kalium::ecg_lead *i = rec.find(lead_id::I), *ii = rec.find(lead_id::II), *v1 = rec.find(lead_id::V1);
    REQUIRE((i && ii && v1));
    CHECK(i->samples_uv == std::vector<float>{500.0f, 1500.0f, 0.0f});
    CHECK(ii->samples_uv == std::vector<float>{1250.0f, 2000.0f, 0.0f});
    CHECK(v1->samples_uv == std::vector<float>{-750.0f, -1000.0f, 0.0f});
    CHECK(i->units == "mV");
    CHECK(i->gain_adu_per_mv == 0.0);  // physical values with decimals: no ADC gain
    CHECK_FALSE(has_warning(rec, "amplitude unit"));
    CHECK(has_warning(rec, "assumed 500 Hz"));
    CHECK(rec.find(lead_id::III)->derived);  // ecg_read derives the missing limb leads
}

TEST_CASE("csv: tab-separated with a time column in ms gives the rate exactly", "[ecg][csv]") {
    std::string text = "time_ms\tI [uV]\tII [uV]\n";
    for (int k = 0; k < 50; k++) text += std::to_string(4 * k) + "\t" + std::to_string(k) + "\t" + std::to_string(-k) + "\n";
    auto r = read_text(text);
    REQUIRE(r.ok());
    INFO(all_warnings(r.value()));
    CHECK(r->fs_hz == 250.0);
    CHECK(r->warnings.empty());
    CHECK(r->format_detail.find("tab") != std::string::npos);
    REQUIRE(r->find(lead_id::I));
    CHECK(r->find(lead_id::I)->samples_uv[49] == 49.0f);
    CHECK(r->find(lead_id::II)->samples_uv[49] == -49.0f);
    CHECK(r->find(lead_id::I)->gain_adu_per_mv == 1000.0);
    CHECK(r->sample_count() == 50);
}

TEST_CASE("csv: time columns in seconds, clock time, unstated units, and a row index", "[ecg][csv]") {
    SECTION("kalium's own export: time_s at 360 Hz printed with 6 decimals") {
        std::string text = "time_s,I (uV),II (uV)\n";
        char line[96];
        for (int k = 0; k < 400; k++) {
            std::snprintf(line, sizeof line, "%.6f,%d,%d\n", k / 360.0, (k % 7) * 150, -(k % 5) * 200);
            text += line;
        }
        auto r = read_text(text);
        REQUIRE(r.ok());
        CHECK(r->fs_hz == 360.0);
        CHECK(r->warnings.empty());
    }
    SECTION("a column named 't' in seconds: read as seconds, with a warning") {
        auto r = read_text("t,I,II\n0,1.1,2\n0.002,1.2,2\n0.004,1.3,2\n");
        REQUIRE(r.ok());
        CHECK(r->fs_hz == 500.0);
        CHECK(has_warning(r.value(), "does not state its unit"));
        CHECK_FALSE(has_warning(r.value(), "sampling rate not stated"));
    }
    SECTION("clock times hh:mm:ss.fff") {
        auto r = read_text("Time,I (mV)\n00:00:00.000,1\n00:00:00.001,2\n00:00:00.002,3\n");
        REQUIRE(r.ok());
        CHECK(r->fs_hz == 1000.0);
    }
    SECTION("a sample counter and a pandas row index are not leads") {
        auto r = read_text(",sample,I (uV)\n0,1,5\n1,2,6\n2,3,7\n");
        REQUIRE(r.ok());
        INFO(all_warnings(r.value()));
        CHECK(r->leads.size() == 1);
        CHECK(r->leads[0].name == "I");
        CHECK(has_warning(r.value(), "assumed 500 Hz"));
    }
    SECTION("without a header, a uniformly rising first column is a time axis") {
        std::string text;
        for (int k = 0; k < 30; k++) text += std::to_string(k * 0.004) + ",0.1,0.2,0.3\n";
        auto r = read_text(text);
        REQUIRE(r.ok());
        INFO(all_warnings(r.value()));
        CHECK(r->fs_hz == 250.0);
        CHECK(has_warning(r.value(), "column 1 rises uniformly"));
        CHECK(has_warning(r.value(), "ch1-ch3"));
        CHECK(r->leads.size() == 3);
    }
    SECTION("the rate option wins over the time column, with a warning") {
        kalium::read_options options;
        options.csv_fs_hz = 1000;
        auto r = read_text("time_ms,I (uV)\n0,1\n2,2\n4,3\n", options);
        REQUIRE(r.ok());
        CHECK(r->fs_hz == 1000.0);
        CHECK(has_warning(r.value(), "the time column gives 500 Hz"));
    }
}

TEST_CASE("csv: quoted header, CRLF, UTF-8 BOM, trailing delimiters and blank trailing lines", "[ecg][csv]") {
    auto r = read_text("\xEF\xBB\xBF\"Lead I\",\"Lead II\",\"V1\",\r\n10,20,30,\r\n-10,-20,-30,\r\n\r\n\r\n   \r\n",
                       [] { kalium::read_options o; o.csv_uv_per_unit = 1; o.csv_fs_hz = 500; return o; }());
    REQUIRE(r.ok());
    const kalium::ecg_record &rec = r.value();
    INFO(all_warnings(rec));
    CHECK(rec.warnings.empty());
    CHECK(rec.sample_count() == 2);
    REQUIRE(rec.find(lead_id::I));
    REQUIRE(rec.find(lead_id::V1));
    CHECK_FALSE(rec.find(lead_id::I)->derived);
    CHECK(rec.find(lead_id::I)->samples_uv == std::vector<float>{10.0f, -10.0f});
    CHECK(rec.find(lead_id::V1)->samples_uv == std::vector<float>{30.0f, -30.0f});
    CHECK(rec.find(lead_id::aVR)->derived);
    size_t stored = 0;
    for (const auto &l : rec.leads) stored += !l.derived;
    CHECK(stored == 3);  // the trailing delimiter made no fourth channel
}

TEST_CASE("csv: metadata line styles, and their precedence over column units and the options' over both", "[ecg][csv]") {
    SECTION("fs=..., units: ...") {
        auto r = read_text("fs=250\nunits: uV\nI,II\n1,2\n3,4\n");
        REQUIRE(r.ok());
        INFO(all_warnings(r.value()));
        CHECK(r->fs_hz == 250.0);
        CHECK(r->warnings.empty());
        CHECK(r->find(lead_id::II)->samples_uv == std::vector<float>{2.0f, 4.0f});
    }
    SECTION("# comments, Hz and kHz, resolution in uV per digit, patient data") {
        auto r = read_text("# sampling_frequency: 1 kHz\n# Resolution: 2.5 uV/digit\n# Patient ID: X42\n# Age: 63\n# Sex: F\n"
                           "# Date: 2021-11-16 10:22:05\nI,II\n4,-8\n2,0\n");
        REQUIRE(r.ok());
        INFO(all_warnings(r.value()));
        CHECK(r->fs_hz == 1000.0);
        CHECK(r->warnings.empty());
        CHECK(r->find(lead_id::I)->samples_uv == std::vector<float>{10.0f, 5.0f});
        CHECK(r->find(lead_id::I)->gain_adu_per_mv == 400.0);
        CHECK(r->patient.id == "X42");
        CHECK(r->patient.age_years == 63.0);
        CHECK(r->patient.sex == "female");
        CHECK(r->start_time == "2021-11-16T10:22:05");
    }
    SECTION("spreadsheet padding, 'mV per unit', a stated rate in words") {
        auto r = read_text("Sampling rate 200 Hz,,\nmV per unit,0.5,\nI,II,III\n1,2,1\n2,2,0\n");
        REQUIRE(r.ok());
        INFO(all_warnings(r.value()));
        CHECK(r->fs_hz == 200.0);
        CHECK(r->find(lead_id::II)->samples_uv == std::vector<float>{1000.0f, 1000.0f});
    }
    SECTION("a bare gain is read as units per mV and said so") {
        auto r = read_text("Gain: 200\nI,II\n200,-100\n0,0\n");
        REQUIRE(r.ok());
        CHECK(r->find(lead_id::I)->samples_uv[0] == 1000.0f);
        CHECK(has_warning(r.value(), "does not say per what"));
    }
    SECTION("metadata wins over the column names; the option wins over both") {
        auto r = read_text("units: uV\nI (mV),II (mV)\n1,2\n3,4\n");
        REQUIRE(r.ok());
        CHECK(r->find(lead_id::I)->samples_uv[0] == 1.0f);
        CHECK(has_warning(r.value(), "column I (mV) states mV"));
        kalium::read_options options;
        options.csv_uv_per_unit = 10;
        auto o = read_text("units: uV\nI (mV),II (mV)\n1,2\n3,4\n", options);
        REQUIRE(o.ok());
        CHECK(o->find(lead_id::I)->samples_uv[0] == 10.0f);
    }
    SECTION("a row of units under the names") {
        auto r = read_text("time,I,II\ns,mV,uV\n0,0.5,20\n0.001,0.25,10\n");
        REQUIRE(r.ok());
        INFO(all_warnings(r.value()));
        CHECK(r->fs_hz == 1000.0);
        CHECK(r->warnings.empty());
        CHECK(r->find(lead_id::I)->samples_uv == std::vector<float>{500.0f, 250.0f});
        CHECK(r->find(lead_id::II)->samples_uv == std::vector<float>{20.0f, 10.0f});
    }
    SECTION("a numpy.savetxt header written as a comment") {
        auto r = read_text("# I (mV),II (mV)\n1.000000e-01,2.000000e-01\n3.000000e-01,4.000000e-01\n");
        REQUIRE(r.ok());
        REQUIRE(r->find(lead_id::II));
        CHECK(r->find(lead_id::II)->samples_uv[0] == Approx(200.0f));
        CHECK_FALSE(has_warning(r.value(), "no header row"));
    }
}

TEST_CASE("csv: files without a header get the 12-lead, 8-lead or channel names, with a warning", "[ecg][csv]") {
    kalium::read_options options;
    options.csv_fs_hz = 500;
    options.csv_uv_per_unit = 1;
    auto eight = read_text("1,2,3,4,5,6,7,8\n1,2,3,4,5,6,7,8\n", options);
    REQUIRE(eight.ok());
    CHECK(has_warning(eight.value(), "I, II, V1-V6"));
    REQUIRE(eight->find(lead_id::V6));
    CHECK(eight->find(lead_id::V6)->samples_uv[0] == 8.0f);
    CHECK(eight->find(lead_id::II)->samples_uv[0] == 2.0f);
    CHECK(eight->find(lead_id::III)->derived);
    auto three = read_text("1,2,3\n4,5,6\n", options);
    REQUIRE(three.ok());
    CHECK(has_warning(three.value(), "ch1-ch3"));
    REQUIRE(three->leads.size() == 3);
    CHECK(three->leads[2].name == "ch3");
    CHECK(three->leads[2].id == lead_id::other);
    CHECK(three->leads[2].samples_uv == std::vector<float>{3.0f, 6.0f});
}

TEST_CASE("csv: empty cells are missing samples, empty columns are dropped", "[ecg][csv]") {
    kalium::read_options options;
    options.csv_fs_hz = 500;
    auto r = read_text("I (uV),II (uV),V1 (uV),V2 (uV)\n1,2,,\n,4,NaN,\n5,6,7,\n", options);
    REQUIRE(r.ok());
    INFO(all_warnings(r.value()));
    CHECK(has_warning(r.value(), "column V2 is empty and was dropped"));
    CHECK(has_warning(r.value(), "I (1), V1 (2)"));
    CHECK(r->find(lead_id::V2) == nullptr);
    const auto &i = r->find(lead_id::I)->samples_uv;
    CHECK(i[0] == 1.0f);
    CHECK(std::isnan(i[1]));
    CHECK(i[2] == 5.0f);
}

TEST_CASE("csv: the amplitude unit is recognised from the QRS size when nothing states it", "[ecg][csv]") {
    // A typical peak of 1.2 in mV with decimals, 1200 integers (uV), 120 integers (0.01 mV), 0.0012 (V).
    struct { double peak; bool integers; double uv; const char *unit; } cases[] = {
        {1.2, false, 1000.0, "assumed mV"}, {1200, true, 1.0, "assumed uV"}, {120, true, 10.0, "assumed 10 uV"},
        {0.0012, false, 1e6, "assumed V"}, {1200, false, 1.0, "assumed uV"},
    };
    for (const auto &c : cases) {
        INFO(c.unit << " from a peak of " << c.peak);
        auto r = read_text(synthetic_table(2000, 3, c.peak, c.integers));
        REQUIRE(r.ok());
        CHECK(has_warning(r.value(), c.unit));
        const kalium::ecg_lead *ii = r->find(lead_id::II);
        REQUIRE(ii);
        const float peak_uv = *std::max_element(ii->samples_uv.begin(), ii->samples_uv.end());
        CHECK(peak_uv == Approx(c.peak * c.uv).epsilon(1e-3));
        CHECK(peak_uv == Approx(1200.0f).epsilon(0.01));  // every case is the same 1.2 mV ECG
    }
}

TEST_CASE("csv: UTF-16 with a byte-order mark (Excel 'Unicode text'), tab-separated", "[ecg][csv]") {
    const std::string text = "Sample rate (Hz)\t1000\nI (\xB5V)\tII (\xB5V)\n10\t20\n30\t40\n";
    std::vector<uint8_t> bytes = {0xFF, 0xFE};
    for (char c : text) {
        bytes.push_back(static_cast<uint8_t>(c));
        bytes.push_back(0);
    }
    CHECK(kalium::ecg_sniff_format(bytes.data(), bytes.size()) == "csv");
    auto r = kalium::ecg_read(as_named("unicode.txt", bytes));
    REQUIRE(r.ok());
    INFO(all_warnings(r.value()));
    CHECK(r->fs_hz == 1000.0);
    CHECK(r->warnings.empty());
    CHECK(r->find(lead_id::II)->samples_uv == std::vector<float>{20.0f, 40.0f});
}

// ---- Handcrafted files that are refused -----------------------------------------------------------------------

TEST_CASE("csv: a header without data, and files without numbers, are refused", "[ecg][csv]") {
    // Through ecg_read a header alone is not even sniffed as CSV; the reader itself says what is missing.
    auto sniffed = read_text("I,II,III,aVR,aVL,aVF\n");
    REQUIRE_FALSE(sniffed.ok());
    CHECK(sniffed.error().code() == status_code::bad_format);
    const std::vector<uint8_t> header = text_bytes("Sampling rate: 500\nI,II,III,aVR,aVL,aVF\n\n");
    auto header_only = kalium::ecg::read_csv(as_named("header.csv", header), {});
    REQUIRE_FALSE(header_only.ok());
    CHECK(header_only.error().code() == status_code::bad_format);
    CHECK(header_only.error().message().find("csv: the file has a header row (line 2, 6 columns) but no rows of numbers") == 0);

    const std::vector<uint8_t> words = text_bytes("name,value\nalpha,beta\n");
    auto r = kalium::ecg::read_csv(as_named("words.csv", words), {});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message().find("csv: ") == 0);
}

TEST_CASE("csv: a cell that is not a number is an error naming the line and the column", "[ecg][csv]") {
    auto r = read_text("I,II,III,aVR,aVL,aVF\n1,2,3,4,5,6\n1,2,3,4,5,6\n1,2,3,4,abc,6\n1,2,3,4,5,6\n");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == status_code::bad_format);
    CHECK(r.error().message().find("csv: line 4, column 5 (aVL): 'abc' is not a number") != std::string::npos);
}

TEST_CASE("csv: a ragged row is an error, except a truncated last row", "[ecg][csv]") {
    auto middle = read_text("I,II,III\n1,2,3\n4,5\n7,8,9\n");
    REQUIRE_FALSE(middle.ok());
    CHECK(middle.error().message().find("line 3 has 2 cells but the table has 3 columns (III is missing)") != std::string::npos);
    auto extra = read_text("I,II,III\n1,2,3\n4,5,6,7\n7,8,9\n");
    REQUIRE_FALSE(extra.ok());
    CHECK(extra.error().message().find("line 3 has 4 cells") != std::string::npos);
    auto last = read_text("I,II,III\n1,2,3\n4,5,6\n7,8");
    REQUIRE(last.ok());
    CHECK(last->sample_count() == 2);
    CHECK(has_warning(last.value(), "line 4, the last row, has 2 of the 3 columns and was dropped"));
    auto header_mismatch = read_text("I,II,III,aVR\n1,2,3\n4,5,6\n");
    REQUIRE_FALSE(header_mismatch.ok());
    CHECK(header_mismatch.error().message().find("header row has 4 columns") != std::string::npos);
}

TEST_CASE("csv: too many leads or samples are refused as too_large before reading them", "[ecg][csv]") {
    // 200 columns: more leads than kalium reads.
    std::string wide;
    for (int c = 0; c < 200; c++) wide += (c ? ",c" : "c") + std::to_string(c);
    wide += "\n";
    for (int row = 0; row < 3; row++) {
        for (int c = 0; c < 200; c++) wide += c ? ",1" : "1";
        wide += "\n";
    }
    auto r = read_text(wide);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == status_code::too_large);
    CHECK(r.error().message().find("200 lead columns") != std::string::npos);
    // 60 columns fit.
    std::string sixty;
    for (int c = 0; c < 60; c++) sixty += (c ? ",c" : "c") + std::to_string(c);
    sixty += "\n";
    for (int c = 0; c < 60; c++) sixty += c ? ",1" : "1";
    sixty += "\n";
    for (int c = 0; c < 60; c++) sixty += c ? ",2" : "2";
    sixty += "\n";
    auto ok = read_text(sixty, [] { kalium::read_options o; o.csv_uv_per_unit = 1; return o; }());
    REQUIRE(ok.ok());
    CHECK(ok->leads.size() == 60);
    CHECK(ok->leads[59].name == "c59");

    // 64 columns x 1,048,577 rows is one row more than the limit of 64 Mi samples: ~2 MB of text (the rows after
    // the first two are short, but the size is refused from the row count before any row is parsed).
    const size_t rows = kalium::k_max_total_samples / 64 + 1;
    std::string huge;
    for (int c = 0; c < 64; c++) huge += (c ? ",c" : "c") + std::to_string(c);
    huge += "\n";
    for (int row = 0; row < 2; row++) {
        for (int c = 0; c < 64; c++) huge += c ? ",0" : "0";
        huge += "\n";
    }
    huge.reserve(huge.size() + 2 * rows);
    for (size_t row = 2; row < rows; row++) huge += "0\n";
    auto big = read_text(huge);
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().code() == status_code::too_large);
    CHECK(big.error().message().find("1048577 rows x 64 columns") != std::string::npos);
}

TEST_CASE("csv: options out of range are refused", "[ecg][csv]") {
    kalium::read_options options;
    options.csv_fs_hz = -5;
    auto r = read_text("I,II\n1,2\n3,4\n", options);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == status_code::invalid_argument);
    options.csv_fs_hz = 0;
    options.csv_uv_per_unit = NAN;
    auto u = read_text("I,II\n1,2\n3,4\n", options);
    REQUIRE_FALSE(u.ok());
    CHECK(u.error().code() == status_code::invalid_argument);
}

TEST_CASE("csv: the sniffer takes tables of numbers and nothing else", "[ecg][csv]") {
    auto is_csv = [](const std::string &text) {
        const std::vector<uint8_t> b = text_bytes(text);
        return kalium::ecg::sniff_csv(b.data(), b.size());
    };
    CHECK(is_csv("I,II,III\n1,2,3\n4,5,6\n"));
    CHECK(is_csv("Sampling Rate (Hz): 500\nGain (digit/millivolt): 2048 \nI,II\n1,2\n"));
    CHECK(is_csv("I;II\n1,5;2,5\n"));
    CHECK(is_csv("time\tI\n0\t0.1\n0.002\tnan\n"));
    CHECK(is_csv("\xEF\xBB\xBFI,II\r\n1,2\r\n"));
    // WFDB headers (comments with commas, numbers separated by spaces), XML, JSON, prose: not CSV.
    CHECK_FALSE(is_csv("E07500 12 500 5000\nE07500.mat 16+24 1000/mV 16 0 -55 -6543 0 I\n#Dx: 164889003,59118001\n"));
    CHECK_FALSE(is_csv("# 1,2,3\n100 2 360 650000\n100.dat 212 200 11 1024 995 -22131 0 MLII\n"));
    CHECK_FALSE(is_csv("<?xml version=\"1.0\"?>\n<a>1,2,3\n4,5,6</a>\n"));
    CHECK_FALSE(is_csv("[1,2,3]\n"));
    CHECK_FALSE(is_csv("Dear colleague, please find the ECG attached.\n"));
    CHECK_FALSE(is_csv("1 2 3\n4 5 6\n"));
    // Binary garbage (a fixed pseudo-random sequence) is neither CSV nor anything else.
    std::vector<uint8_t> garbage(4096);
    uint32_t state = 12345;
    for (uint8_t &b : garbage) {
        state = state * 1664525u + 1013904223u;
        b = static_cast<uint8_t>(state >> 24);
    }
    CHECK_FALSE(kalium::ecg::sniff_csv(garbage.data(), garbage.size()));
    CHECK(kalium::ecg_sniff_format(garbage.data(), garbage.size()) != "csv");
    // Text with a NUL byte read directly is refused, not misread.
    std::vector<uint8_t> nul = text_bytes("I,II\n1,2\n");
    nul[6] = 0;
    auto r = kalium::ecg::read_csv(as_named("nul.csv", nul), {});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message().find("NUL") != std::string::npos);
}

TEST_CASE("csv: truncations of a valid file never crash", "[ecg][csv]") {
    const std::string text = "# fs: 500\n\"time (s)\";\"I (mV)\";\"II (mV)\"\n0;0,1;0,2\n0,002;0,3;0,4\n0,004;0,5;0,6\n";
    for (size_t n = 1; n <= text.size(); n++) {
        const std::vector<uint8_t> bytes(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(n));
        auto r = kalium::ecg::read_csv(as_named("cut.csv", bytes), {});
        if (!r.ok()) CHECK(r.error().message().find("csv: ") == 0);
    }
    auto full = read_text(text);
    REQUIRE(full.ok());
    CHECK(full->fs_hz == 500.0);
    CHECK(full->find(lead_id::II)->samples_uv[2] == Approx(600.0f));
}
