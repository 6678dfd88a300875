// ecg/test-read-edf.cpp: the EDF / EDF+ reader on the contec sample (checked sample by sample against the same
// recording's CSV export), on handcrafted EDF+ files with known values, and on broken headers.
#include "test-util.h"

#include "ecg/readers.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

using kalium::lead_id;
using kalium::status_code;

namespace {

using bytes = std::vector<uint8_t>;

struct signal_spec {
    std::string label, dimension, physical_min, physical_max, digital_min, digital_max;
    int samples_per_record = 0;
    std::vector<int16_t> data;  // every record's samples, one record after the other
    bool annotations = false;   // an "EDF Annotations" signal: filled with time-keeping TALs
};

struct edf_spec {
    std::string patient = "MCH-0234567 F 02-MAY-1951 Haagse_Harry";
    std::string recording = "Startdate 04-APR-2024 EMG561 BK/JOP Sony.";
    std::string start_date = "04.04.24", start_time = "13.05.59";
    std::string header_bytes;  // "" = computed
    std::string reserved = "EDF+C";
    std::string records;        // "" = the number written
    std::string duration = "0.5";
    std::string signal_count;   // "" = computed
    int records_written = 2;
    std::vector<double> onsets;  // record onsets for the annotations (default: record x duration)
    std::vector<signal_spec> signals;
};

// Two ECG signals at 8 Hz (4 samples per 0.5 s record) and an annotation signal.
//  "ECG I":  -3276.8..3276.7 uV over -32768..32767 -> 0.1 uV per digital unit, 0 at 0.
//  "ECG II": -2.048..2.047 mV over -2048..2047     -> 1 uV per digital unit, 0 at 0.
edf_spec standard_spec() {
    edf_spec s;
    s.signals.push_back({"ECG I", "uV", "-3276.8", "3276.7", "-32768", "32767", 4, {1000, -1000, 32767, -32768, 5, 0, 1, 2}, false});
    s.signals.push_back({"ECG II", "mV", "-2.048", "2.047", "-2048", "2047", 4, {-150, 150, 2047, -2048, 0, 1, -1, 7}, false});
    s.signals.push_back({"EDF Annotations", "", "-1", "1", "-32768", "32767", 8, {}, true});
    return s;
}

void field(bytes &b, const std::string &text, size_t width) {
    for (size_t k = 0; k < width; k++) b.push_back(k < text.size() ? uint8_t(text[k]) : uint8_t(' '));
}

bytes build(const edf_spec &s) {
    const size_t ns = s.signals.size();
    bytes b;
    field(b, "0", 8);
    field(b, s.patient, 80);
    field(b, s.recording, 80);
    field(b, s.start_date, 8);
    field(b, s.start_time, 8);
    field(b, s.header_bytes.empty() ? std::to_string(256 * (ns + 1)) : s.header_bytes, 8);
    field(b, s.reserved, 44);
    field(b, s.records.empty() ? std::to_string(s.records_written) : s.records, 8);
    field(b, s.duration, 8);
    field(b, s.signal_count.empty() ? std::to_string(ns) : s.signal_count, 4);
    for (const signal_spec &g : s.signals) field(b, g.label, 16);
    for (size_t i = 0; i < ns; i++) field(b, "AgAgCl electrode", 80);
    for (const signal_spec &g : s.signals) field(b, g.dimension, 8);
    for (const signal_spec &g : s.signals) field(b, g.physical_min, 8);
    for (const signal_spec &g : s.signals) field(b, g.physical_max, 8);
    for (const signal_spec &g : s.signals) field(b, g.digital_min, 8);
    for (const signal_spec &g : s.signals) field(b, g.digital_max, 8);
    for (size_t i = 0; i < ns; i++) field(b, "HP:0.05Hz LP:150Hz", 80);
    for (const signal_spec &g : s.signals) field(b, std::to_string(g.samples_per_record), 8);
    for (size_t i = 0; i < ns; i++) field(b, "", 32);
    const double duration = std::atof(s.duration.c_str());
    for (int r = 0; r < s.records_written; r++) {
        for (const signal_spec &g : s.signals) {
            if (g.annotations) {
                const double onset = r < int(s.onsets.size()) ? s.onsets[size_t(r)] : r * duration;
                char tal[64];
                std::snprintf(tal, sizeof tal, "+%g", onset);
                bytes text(tal, tal + std::strlen(tal));
                text.push_back(0x14);
                text.push_back(0x14);
                text.resize(size_t(g.samples_per_record) * 2, 0);
                b.insert(b.end(), text.begin(), text.end());
                continue;
            }
            for (int k = 0; k < g.samples_per_record; k++) {
                const size_t at = size_t(r * g.samples_per_record + k);
                const int16_t v = at < g.data.size() ? g.data[at] : 0;
                b.push_back(uint8_t(uint16_t(v) & 0xFF));
                b.push_back(uint8_t(uint16_t(v) >> 8));
            }
        }
    }
    return b;
}

kalium::result<kalium::ecg_record> read(const bytes &b) { return kalium::ecg_read(as_named("test.edf", b)); }

kalium::status failure(const bytes &b) {
    auto r = kalium::ecg::read_edf(as_named("test.edf", b));
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message());
    return r.error();
}

bool has(const kalium::status &st, const char *text) { return st.message().find(text) != std::string::npos; }

bool warned(const kalium::ecg_record &r, const char *text) {
    for (const std::string &w : r.warnings)
        if (w.find(text) != std::string::npos) return true;
    return false;
}

const kalium::ecg_lead &lead(const kalium::ecg_record &r, lead_id id) {
    const kalium::ecg_lead *l = r.find(id);
    REQUIRE(l);
    return *l;
}

}  // namespace

TEST_CASE("edf: contec_0000050.ECG.edf agrees with its CSV export sample by sample", "[ecg][edf]") {
    const bytes b = read_bytes(shared_ecg("samples/edf/contec_0000050.ECG.edf"));
    auto r = read(b);
    REQUIRE(r.ok());
    const kalium::ecg_record &rec = r.value();
    CHECK(rec.format == "edf");
    CHECK(rec.format_detail == "EDF");
    CHECK(rec.fs_hz == Approx(800.0));  // 1 sample per 0.00125 s record
    REQUIRE(rec.leads.size() == 12);
    CHECK(rec.sample_count() == 37855);
    CHECK(rec.duration_s() == Approx(47.31875));
    const char *names[] = {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"};
    for (size_t k = 0; k < 12; k++) {
        CHECK(rec.leads[k].name == names[k]);
        CHECK_FALSE(rec.leads[k].derived);
        CHECK(rec.leads[k].units == "mV");
        CHECK(rec.leads[k].gain_adu_per_mv == Approx(65535.0 / 2000.0));  // -32768..32767 over -1000..1000 mV
    }
    CHECK(rec.start_time == "2020-11-16T21:44:39");
    CHECK(rec.patient.id == "dd-MMM-yyyy");  // plain EDF: the field as written (a placeholder in this file)
    CHECK(rec.patient.sex.empty());
    // The CSV holds the same recording as raw integers (columns I, II, III, aVR, aVL, aVF; V1-V6 empty). The
    // EDF digital values equal them exactly, so each EDF sample must be the header's linear map of the CSV value:
    // uV = 1000 x (-1000 + (csv + 32768) x 2000 / 65535).
    std::ifstream csv(shared_ecg("samples/csv/contec_0000050.ECG.csv"));
    REQUIRE(csv.good());
    std::string line;
    size_t row = 0, compared = 0;
    while (std::getline(csv, line) && row < rec.sample_count()) {
        std::stringstream cells(line);
        std::string cell;
        for (size_t col = 0; col < 12 && std::getline(cells, cell, ','); col++) {
            if (cell.empty()) continue;
            const double expected_uv = 1000.0 * (-1000.0 + (std::atof(cell.c_str()) + 32768.0) * 2000.0 / 65535.0);
            if (std::fabs(rec.leads[col].samples_uv[row] - expected_uv) > 0.01) {
                FAIL("row " << row << " column " << col << ": " << rec.leads[col].samples_uv[row] << " uV, expected " << expected_uv);
            }
            compared++;
        }
        row++;
    }
    CHECK(row == 37855);
    CHECK(compared == 37855 * 6);
    // First row of the CSV: -20,-25,-5,23,-7,-15 -> lead I = 1000 x (-1000 + 32748 x 2000 / 65535).
    CHECK(rec.leads[0].samples_uv[0] == Approx(1000.0 * (-1000.0 + 32748.0 * 2000.0 / 65535.0)));
    // Chest leads are all digital 0: flat, and said so.
    for (const char *v : {"V1", "V2", "V3", "V4", "V5", "V6"}) CHECK(warned(rec, (std::string("signal ") + v + " is flat").c_str()));
    CHECK_FALSE(warned(rec, "signal I is flat"));
}

TEST_CASE("edf: handcrafted EDF+C with an annotation signal gives exact microvolts", "[ecg][edf]") {
    auto r = read(build(standard_spec()));
    REQUIRE(r.ok());
    const kalium::ecg_record &rec = r.value();
    CHECK(rec.format_detail == "EDF+C");
    CHECK(rec.fs_hz == 8.0);
    CHECK(rec.sample_count() == 8);
    const kalium::ecg_lead &i = lead(rec, lead_id::I), &ii = lead(rec, lead_id::II);
    CHECK_FALSE(i.derived);
    CHECK_FALSE(ii.derived);
    // 0.1 uV per unit for I; 1 uV per unit (in mV: 0.001) for II.
    CHECK(i.samples_uv[0] == Approx(100.0));
    CHECK(i.samples_uv[1] == Approx(-100.0));
    CHECK(i.samples_uv[2] == Approx(3276.7));
    CHECK(i.samples_uv[3] == Approx(-3276.8));
    CHECK(i.samples_uv[4] == Approx(0.5));  // second record
    CHECK(ii.samples_uv[0] == Approx(-150.0));
    CHECK(ii.samples_uv[2] == Approx(2047.0));
    CHECK(ii.samples_uv[7] == Approx(7.0));
    CHECK(i.gain_adu_per_mv == Approx(10000.0));
    CHECK(ii.gain_adu_per_mv == Approx(1000.0));
    CHECK(ii.baseline_adu == Approx(0.0).margin(1e-9));
    CHECK(ii.units == "mV");
    // III is derived by ecg_read from I and II; the annotation signal is not a lead.
    CHECK(lead(rec, lead_id::III).derived);
    CHECK(lead(rec, lead_id::III).samples_uv[0] == Approx(-150.0 - 100.0));
    CHECK(rec.leads.size() == 6);
    CHECK(rec.start_time == "2024-04-04T13:05:59");
    CHECK(rec.patient.id == "MCH-0234567");
    CHECK(rec.patient.sex == "female");
    REQUIRE(rec.patient.age_years);
    CHECK(*rec.patient.age_years == 72.0);  // born 1951-05-02, recorded 2024-04-04
    CHECK(rec.device == "Sony.");
}

TEST_CASE("edf: offsets, record counts, rates and units", "[ecg][edf]") {
    SECTION("physical offset: 0 digital is not 0 uV") {
        edf_spec s = standard_spec();
        s.signals[0].physical_min = "0";  // 0..6553.5 uV over -32768..32767: 0.1 uV per unit, +3276.8 uV at 0
        s.signals[0].physical_max = "6553.5";
        auto r = read(build(s));
        REQUIRE(r.ok());
        const kalium::ecg_lead &i = lead(r.value(), lead_id::I);
        CHECK(i.samples_uv[0] == Approx(3276.8 + 100.0));
        CHECK(i.baseline_adu == Approx(-32768.0));
    }
    SECTION("-1 data records: counted from the file size") {
        edf_spec s = standard_spec();
        s.records = "-1";
        auto r = read(build(s));
        REQUIRE(r.ok());
        CHECK(r->sample_count() == 8);
        CHECK(warned(r.value(), "-1"));
    }
    SECTION("a signal at another rate and a signal not in volts are dropped with warnings") {
        edf_spec s = standard_spec();
        s.signals.push_back({"Pleth", "%", "0", "100", "0", "1000", 2, {}, false});
        s.signals.push_back({"Resp", "Ohm", "0", "100", "0", "1000", 4, {}, false});
        auto r = read(build(s));
        REQUIRE(r.ok());
        CHECK(r->leads.size() == 6);  // I, II and the four derived limb leads
        CHECK(warned(r.value(), "Pleth at 4 Hz"));
        CHECK(warned(r.value(), "Resp is in 'Ohm'"));
        CHECK(lead(r.value(), lead_id::I).samples_uv[0] == Approx(100.0));
    }
    SECTION("ECG leads at different rates") {
        edf_spec s = standard_spec();
        s.signals[1].samples_per_record = 2;
        kalium::status st = failure(build(s));
        CHECK(st.code() == status_code::unsupported);
        CHECK(has(st, "different rates"));
    }
    SECTION("EDF+D whose records follow each other is read with a warning") {
        edf_spec s = standard_spec();
        s.reserved = "EDF+D";
        auto r = read(build(s));
        REQUIRE(r.ok());
        CHECK(r->format_detail == "EDF+D");
        CHECK(warned(r.value(), "without gaps"));
    }
    SECTION("EDF+D with a gap is refused") {
        edf_spec s = standard_spec();
        s.reserved = "EDF+D";
        s.onsets = {0.0, 3.0};
        kalium::status st = failure(build(s));
        CHECK(st.code() == status_code::unsupported);
        CHECK(has(st, "record 2 starts at 3 s"));
    }
}

TEST_CASE("edf: broken headers are refused with a message naming the field", "[ecg][edf]") {
    SECTION("non-numeric digital maximum") {
        edf_spec s = standard_spec();
        s.signals[1].digital_max = "abc";
        kalium::status st = failure(build(s));
        CHECK(st.code() == status_code::bad_format);
        CHECK(st.message() == "edf: signal 2 (ECG II): digital maximum 'abc' is not a number");
    }
    SECTION("non-numeric physical minimum") {
        edf_spec s = standard_spec();
        s.signals[0].physical_min = "-1,5";
        CHECK(failure(build(s)).message() == "edf: signal 1 (ECG I): physical minimum '-1,5' is not a number");
    }
    SECTION("non-numeric record duration and record count") {
        edf_spec s = standard_spec();
        s.duration = "half";
        CHECK(has(failure(build(s)), "duration of a data record 'half'"));
        s = standard_spec();
        s.records = "2x";
        CHECK(has(failure(build(s)), "number of data records '2x'"));
    }
    SECTION("header bytes inconsistent with the signal count") {
        edf_spec s = standard_spec();
        s.header_bytes = "768";
        CHECK(has(failure(build(s)), "number of header bytes is 768 but 3 signals need"));
    }
    SECTION("digital minimum equals digital maximum") {
        edf_spec s = standard_spec();
        s.signals[0].digital_min = s.signals[0].digital_max = "100";
        CHECK(has(failure(build(s)), "signal 1 (ECG I): digital minimum 100 is not below digital maximum 100"));
    }
    SECTION("physical minimum equals physical maximum") {
        edf_spec s = standard_spec();
        s.signals[1].physical_min = s.signals[1].physical_max = "1";
        CHECK(has(failure(build(s)), "physical minimum equals physical maximum"));
    }
    SECTION("file shorter than records x record size") {
        bytes b = build(standard_spec());
        b.resize(b.size() - 1);
        kalium::status st = failure(b);
        CHECK(st.code() == status_code::bad_format);
        CHECK(has(st, "truncated"));
    }
    SECTION("0 signals") {
        edf_spec s = standard_spec();
        s.signals.clear();
        CHECK(has(failure(build(s)), "0 signals"));
    }
    SECTION("absurd signal count") {
        edf_spec s = standard_spec();
        s.signal_count = "9999";
        s.header_bytes = std::to_string(256 * 10000);
        CHECK(has(failure(build(s)), "fewer than its 2560000-byte header"));
    }
    SECTION("absurd record count") {
        edf_spec s = standard_spec();
        s.records = "99999999";
        CHECK(has(failure(build(s)), "99999999 data records"));
    }
    SECTION("absurd samples per record") {
        edf_spec s = standard_spec();
        s.signals[0].samples_per_record = 99999999;
        s.records_written = 0;
        s.records = "1";
        CHECK(has(failure(build(s)), "99999999 samples per data record"));
    }
    SECTION("zero records, zero duration") {
        edf_spec s = standard_spec();
        s.records = "0";
        CHECK(has(failure(build(s)), "number of data records is 0"));
        s = standard_spec();
        s.duration = "0";
        CHECK(has(failure(build(s)), "duration of a data record is 0"));
    }
    SECTION("bad start date") {
        edf_spec s = standard_spec();
        s.start_date = "4.4.2024";
        CHECK(has(failure(build(s)), "start date '4.4.2024'"));
    }
    SECTION("only an annotation signal") {
        edf_spec s = standard_spec();
        s.signals.erase(s.signals.begin(), s.signals.begin() + 2);
        CHECK(has(failure(build(s)), "only annotation signals"));
    }
    SECTION("no signal in volts") {
        edf_spec s = standard_spec();
        s.signals[0].dimension = s.signals[1].dimension = "degC";
        CHECK(has(failure(build(s)), "no signal is in volts"));
    }
}

TEST_CASE("edf: every truncation and many corruptions fail cleanly", "[ecg][edf]") {
    const bytes good = build(standard_spec());
    REQUIRE(kalium::ecg::read_edf(as_named("good.edf", good)).ok());
    for (size_t n = 256; n < good.size(); n++) {
        bytes b(good.begin(), good.begin() + long(n));
        auto r = kalium::ecg::read_edf(as_named("cut.edf", b));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message().rfind("edf: ", 0) == 0);
    }
    uint32_t seed = 4242;
    for (int k = 0; k < 3000; k++) {
        seed = seed * 1103515245u + 12345u;
        bytes b = good;
        b[8 + (seed >> 8) % (good.size() - 8)] = uint8_t(seed >> 3);
        (void)kalium::ecg::read_edf(as_named("corrupt.edf", b));
    }
}
