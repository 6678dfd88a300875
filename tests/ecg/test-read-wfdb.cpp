// ecg/test-read-wfdb.cpp: the WFDB reader on the PhysioNet sample records (../shared/ecg/samples/wfdb) and on
// handcrafted headers and signal files: every signal format round-trips known values, and broken inputs are
// refused with a message that says what is wrong.
#include "test-util.h"

#include "ecg/readers.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace {

// Files of one sample record, kept alive for the named_bytes views.
struct record_files {
    std::vector<std::string> names;
    std::vector<std::vector<uint8_t>> bytes;
    std::vector<kalium::named_bytes> views() const {
        std::vector<kalium::named_bytes> v;
        for (size_t i = 0; i < names.size(); i++) v.push_back(as_named(names[i], bytes[i]));
        return v;
    }
};

record_files load(const std::string &dir, const std::vector<std::string> &names) {
    record_files f;
    for (const std::string &n : names) {
        f.names.push_back(dir + "/" + n);
        f.bytes.push_back(read_bytes(shared_ecg("samples/wfdb/" + dir + "/" + n)));
    }
    return f;
}

// Reads a sample record through the public API (header = first file; all files are companions).
kalium::ecg_record read_sample(const std::string &dir, const std::vector<std::string> &names) {
    record_files f = load(dir, names);
    auto views = f.views();
    auto r = kalium::ecg_read(views[0], views);
    INFO(dir << ": " << (r.ok() ? std::string("ok") : r.error().to_string()));
    REQUIRE(r.ok());
    return std::move(r).value();
}

// Reads a sample record with the WFDB reader itself, bypassing ecg_read's sniffing, lead mapping and sorting.
kalium::ecg_record read_direct(const std::string &dir, const std::vector<std::string> &names) {
    record_files f = load(dir, names);
    auto views = f.views();
    auto r = kalium::ecg::read_wfdb(views[0], views);
    INFO(dir << ": " << (r.ok() ? std::string("ok") : r.error().to_string()));
    REQUIRE(r.ok());
    return std::move(r).value();
}

bool has_warning(const kalium::ecg_record &r, const std::string &word) {
    for (const std::string &w : r.warnings)
        if (w.find(word) != std::string::npos) return true;
    return false;
}

std::string all_warnings(const kalium::ecg_record &r) {
    std::string s;
    for (const std::string &w : r.warnings) s += w + "\n";
    return s;
}

const kalium::ecg_lead *lead(const kalium::ecg_record &r, const std::string &name) {
    for (const kalium::ecg_lead &l : r.leads)
        if (l.name == name) return &l;
    return nullptr;
}

// Reads a handcrafted header + signal files with the reader itself (no lead mapping or sorting).
kalium::result<kalium::ecg_record> read_crafted(const std::string &header, const std::map<std::string, std::vector<uint8_t>> &files) {
    const std::vector<uint8_t> hea = text_bytes(header);
    std::vector<kalium::named_bytes> companions;
    for (const auto &kv : files) companions.push_back(as_named(kv.first, kv.second));
    return kalium::ecg::read_wfdb(as_named("rec.hea", hea), companions);
}

// ---- An encoder for every WFDB signal format, written from signal(5), independent of the reader ----

void put_le(std::vector<uint8_t> &out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// `frames[f][s]`: the value of signal s in frame f (one sample per frame). Returns the signal file bytes.
std::vector<uint8_t> encode(int format, const std::vector<std::vector<int64_t>> &frames, const std::vector<int64_t> &initial) {
    std::vector<int64_t> stream;
    std::vector<int64_t> previous = initial;
    for (const auto &frame : frames)
        for (size_t s = 0; s < frame.size(); s++) {
            if (format == 8) {  // first differences per signal
                stream.push_back(frame[s] - previous[s]);
                previous[s] = frame[s];
            } else {
                stream.push_back(frame[s]);
            }
        }
    std::vector<uint8_t> out;
    switch (format) {
        case 8: for (int64_t v : stream) out.push_back(static_cast<uint8_t>(static_cast<int8_t>(v))); break;
        case 80: for (int64_t v : stream) out.push_back(static_cast<uint8_t>(v + 128)); break;
        case 16: for (int64_t v : stream) put_le(out, static_cast<uint64_t>(v), 2); break;
        case 61:
            for (int64_t v : stream) {
                out.push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> 8));
                out.push_back(static_cast<uint8_t>(v));
            }
            break;
        case 160: for (int64_t v : stream) put_le(out, static_cast<uint64_t>(v + 32768), 2); break;
        case 24: for (int64_t v : stream) put_le(out, static_cast<uint64_t>(v), 3); break;
        case 32: for (int64_t v : stream) put_le(out, static_cast<uint64_t>(v), 4); break;
        case 212:
            for (size_t i = 0; i < stream.size(); i += 2) {
                const uint64_t a = static_cast<uint64_t>(stream[i]) & 0xFFF;
                const uint64_t b = i + 1 < stream.size() ? static_cast<uint64_t>(stream[i + 1]) & 0xFFF : 0;
                out.push_back(static_cast<uint8_t>(a));
                out.push_back(static_cast<uint8_t>((a >> 8) | ((b >> 4) & 0xF0)));
                if (i + 1 < stream.size()) out.push_back(static_cast<uint8_t>(b));
            }
            break;
        case 310:
            for (size_t i = 0; i < stream.size(); i += 3) {
                auto at = [&](size_t k) { return k < stream.size() ? static_cast<uint64_t>(stream[k]) & 0x3FF : 0; };
                const uint64_t a = at(i), b = at(i + 1), c = at(i + 2);
                put_le(out, (a << 1) | ((c & 0x1F) << 11), 2);
                put_le(out, (b << 1) | ((c >> 5) << 11), 2);
            }
            break;
        case 311:
            for (size_t i = 0; i < stream.size(); i += 3) {
                auto at = [&](size_t k) { return k < stream.size() ? static_cast<uint64_t>(stream[k]) & 0x3FF : 0; };
                put_le(out, at(i) | at(i + 1) << 10 | at(i + 2) << 20, 4);
            }
            break;
        default: FAIL("no encoder for format " << format);
    }
    return out;
}

int bits_of(int format) {
    switch (format) {
        case 8: case 80: return 8;
        case 212: return 12;
        case 310: case 311: return 10;
        case 24: return 24;
        case 32: return 32;
        default: return 16;
    }
}

// 16-bit WFDB checksum of one signal's values.
int checksum(const std::vector<std::vector<int64_t>> &frames, size_t s) {
    uint32_t sum = 0;
    for (const auto &f : frames) sum += static_cast<uint32_t>(f[s]);
    return static_cast<int16_t>(static_cast<uint16_t>(sum));
}

}  // namespace

// ---- Sample records ---------------------------------------------------------------------------------

TEST_CASE("wfdb: MIT-BIH 100 (format 212, 2 signals, 30 min) decodes to hand-computed microvolts", "[ecg][wfdb]") {
    record_files f = load("mitdb_100", {"100.hea", "100.dat"});
    // The first frame of 100.dat is e3 33 f3: MLII = 0x3e3 = 995 (low 12 bits of the LSB-first pair 0x33e3),
    // V5 = 0x3f3 = 1011 (high nibble of 0x33 then 0xf3); both equal the header's initial values (995, 1011).
    // Frame 8 (bytes 24-26) is e8 33 f0: MLII 0x3e8 = 1000, V5 0x3f0 = 1008.
    // The last frame (bytes 1949997-9) is 00 43 00: MLII 0x300 = 768, V5 0x400 = 1024.
    // Gain 200 ADU/mV, baseline = ADC zero 1024: uV = (adu - 1024) * 5.
    const std::vector<uint8_t> &dat = f.bytes[1];
    REQUIRE(dat.size() == 1950000);
    REQUIRE((dat[0] == 0xe3 && dat[1] == 0x33 && dat[2] == 0xf3));
    REQUIRE((dat[24] == 0xe8 && dat[25] == 0x33 && dat[26] == 0xf0));
    REQUIRE((dat[1949997] == 0x00 && dat[1949998] == 0x43 && dat[1949999] == 0x00));

    kalium::ecg_record r = read_sample("mitdb_100", {"100.hea", "100.dat"});
    INFO(all_warnings(r));
    CHECK(r.format == "wfdb");
    CHECK(r.format_detail == "212");
    CHECK(r.fs_hz == 360.0);
    REQUIRE(r.leads.size() == 2);
    CHECK(r.sample_count() == 650000);
    CHECK(r.duration_s() == Approx(1805.56).margin(0.01));
    CHECK(r.warnings.empty());  // in particular: both checksums (-22131, 20052) match
    const kalium::ecg_lead *mlii = lead(r, "MLII"), *v5 = lead(r, "V5");
    REQUIRE((mlii && v5));
    CHECK(mlii->gain_adu_per_mv == 200.0);
    CHECK(mlii->baseline_adu == 1024.0);
    CHECK(mlii->units == "mV");
    CHECK(mlii->samples_uv[0] == -145.0f);
    CHECK(v5->samples_uv[0] == -65.0f);
    CHECK(mlii->samples_uv[7] == -145.0f);
    CHECK(mlii->samples_uv[8] == -120.0f);
    CHECK(v5->samples_uv[8] == -80.0f);
    CHECK(mlii->samples_uv[649999] == -1280.0f);
    CHECK(v5->samples_uv[649999] == 0.0f);
    // "# 69 M 1085 1629 x1": the MIT-BIH age/sex comment.
    REQUIRE(r.patient.age_years.has_value());
    CHECK(*r.patient.age_years == 69.0);
    CHECK(r.patient.sex == "male");
}

TEST_CASE("wfdb: LUDB record 1 (12 leads, format 16, explicit baselines)", "[ecg][wfdb]") {
    // Read with the reader itself: ecg_read does not route this header to it yet (see the sniffing test).
    kalium::ecg_record r = read_direct("ludb_1", {"1.hea", "1.dat"});
    INFO(all_warnings(r));
    CHECK(r.fs_hz == 500.0);
    REQUIRE(r.leads.size() == 12);
    CHECK(r.sample_count() == 5000);
    CHECK(r.warnings.empty());
    const char *order[] = {"i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6"};
    for (size_t i = 0; i < 12; i++) CHECK(r.leads[i].name == order[i]);
    // First frame of 1.dat: i = 0xff88 = -120 ADU (the header's initial value), gain 1716, baseline 6;
    // ii = 0x0019 = 25 ADU, gain 1206, baseline 2.
    CHECK(r.leads[0].samples_uv[0] == Approx((-120.0 - 6.0) / 1716.0 * 1000.0));
    CHECK(r.leads[0].baseline_adu == 6.0);
    CHECK(r.leads[0].gain_adu_per_mv == 1716.0);
    CHECK(r.leads[1].samples_uv[0] == Approx((25.0 - 2.0) / 1206.0 * 1000.0));
    REQUIRE(r.patient.age_years.has_value());
    CHECK(*r.patient.age_years == 51.0);
    CHECK(r.patient.sex == "female");
    REQUIRE(r.statements.size() == 5);
    CHECK(r.statements[0] == "Rhythm: Sinus bradycardia.");
    CHECK(r.statements[2] == "Left ventricular hypertrophy.");
}

TEST_CASE("wfdb: Challenge 2021 records (.mat v4 signal files, 16x1+24)", "[ecg][wfdb]") {
    const char *records[] = {"E07500", "E07501", "E07502", "E07503", "E07504", "HR06000", "HR06001", "HR06002", "HR06003", "HR06004",
                             "HR06005", "HR06006", "HR06007", "HR06008", "JS20000", "JS20001", "JS20002", "JS20003", "JS20004"};
    for (const char *name : records) {
        const std::string n = name;
        kalium::ecg_record r = read_sample("challenge2021", {n + ".hea", n + ".mat"});
        INFO(n << "\n" << all_warnings(r));
        CHECK(r.format_detail == "16 (MAT v4)");
        CHECK(r.fs_hz == 500.0);
        CHECK(r.leads.size() == 12);
        CHECK(r.sample_count() == 5000);
        CHECK(r.warnings.empty());  // no checksum mismatch, nothing short
        for (const kalium::ecg_lead &l : r.leads) CHECK_FALSE(l.derived);
        CHECK(r.patient.age_years.has_value());
        CHECK_FALSE(r.patient.sex.empty());
        REQUIRE(r.statements.size() == 1);
        CHECK(r.statements[0].rfind("Dx: ", 0) == 0);
    }
    kalium::ecg_record e = read_sample("challenge2021", {"E07500.hea", "E07500.mat"});
    REQUIRE(e.patient.age_years.has_value());
    CHECK(*e.patient.age_years == 78.0);
    CHECK(e.patient.sex == "male");
    CHECK(e.statements[0] == "Dx: 67741000119109,426177001");
    // The MAT v4 data starts at byte 24 with bc ff c6 ff: I = -68, II = -58 ADU (the header's initial values),
    // gain 1000 ADU/mV, baseline 0: -68 and -58 uV.
    REQUIRE(e.find(kalium::lead_id::I));
    CHECK(e.find(kalium::lead_id::I)->samples_uv[0] == -68.0f);
    CHECK(e.find(kalium::lead_id::II)->samples_uv[0] == -58.0f);
    CHECK(e.find(kalium::lead_id::V6)->samples_uv[0] == -156.0f);
    kalium::ecg_record hr = read_sample("challenge2021", {"HR06003.hea", "HR06003.mat"});
    CHECK(hr.leads[0].units == "mv");  // as written; lower-case millivolts are still millivolts
    CHECK(hr.patient.sex == "female");
    CHECK(*hr.patient.age_years == 46.0);
}

TEST_CASE("wfdb: Challenge 2015 a103l leaves the PLETH channel (NU) out with a warning", "[ecg][wfdb]") {
    kalium::ecg_record r = read_sample("challenge2015_a103l", {"a103l.hea", "a103l.mat"});
    INFO(all_warnings(r));
    CHECK(r.fs_hz == 250.0);
    REQUIRE(r.leads.size() == 2);
    CHECK(r.sample_count() == 82500);
    CHECK(r.duration_s() == Approx(330.0));
    REQUIRE(r.warnings.size() == 1);
    CHECK(has_warning(r, "PLETH"));
    CHECK(has_warning(r, "NU"));
    CHECK_FALSE(has_warning(r, "checksum"));
    CHECK(lead(r, "PLETH") == nullptr);
    // First frame at byte 24: 55 ff a7 23 = II -171, V 9127 ADU; gains 7247 and 10520 ADU/mV, baseline 0.
    const kalium::ecg_lead *ii = r.find(kalium::lead_id::II);
    const kalium::ecg_lead *v = lead(r, "V");
    REQUIRE((ii && v));
    CHECK(ii->samples_uv[0] == Approx(-171.0 / 7247.0 * 1000.0));
    CHECK(v->samples_uv[0] == Approx(9127.0 / 10520.0 * 1000.0));
    CHECK(ii->gain_adu_per_mv == 7247.0);
}

TEST_CASE("wfdb: MIT/PhysioNet macecgdb test01_00s (4 leads, CRLF header)", "[ecg][wfdb]") {
    kalium::ecg_record r = read_direct("macecgdb_test01_00s", {"test01_00s.hea", "test01_00s.dat"});
    INFO(all_warnings(r));
    CHECK(r.fs_hz == 500.0);
    REQUIRE(r.leads.size() == 4);
    CHECK(r.sample_count() == 4000);
    CHECK(r.warnings.empty());
    CHECK(r.leads[0].name == "ECG 1");
    CHECK(r.leads[3].name == "ECG 4");
    // First frame: 0a 00 f8 ff c7 ff be ff = 10, -8, -57, -66 ADU (the initial values) at 100 ADU/mV.
    CHECK(r.leads[0].samples_uv[0] == 100.0f);
    CHECK(r.leads[1].samples_uv[0] == -80.0f);
    CHECK(r.leads[2].samples_uv[0] == -570.0f);
    CHECK(r.leads[3].samples_uv[0] == -660.0f);
    REQUIRE(r.patient.age_years.has_value());
    CHECK(*r.patient.age_years == 25.0);
    CHECK(r.patient.sex == "male");
    CHECK(r.statements.empty());  // "<diagnoses>: (none)"
}

TEST_CASE("wfdb: PTB s0010_re (15 signals in two files)", "[ecg][wfdb]") {
    kalium::ecg_record r = read_sample("ptbdb_s0010_re", {"s0010_re.hea", "s0010_re.dat", "s0010_re.xyz"});
    INFO(all_warnings(r));
    CHECK(r.fs_hz == 1000.0);
    REQUIRE(r.leads.size() == 15);
    CHECK(r.sample_count() == 38400);
    CHECK(r.warnings.empty());
    for (size_t i = 0; i < 12; i++) CHECK(r.leads[i].id == static_cast<kalium::lead_id>(i));
    CHECK(r.leads[12].name == "vx");
    CHECK(r.leads[14].name == "vz");
    // .dat starts 17 fe = -489 (i); .xyz starts fd ff 78 00 ee ff = -3, 120, -18 (vx, vy, vz); gain 2000 ADU/mV.
    CHECK(r.find(kalium::lead_id::I)->samples_uv[0] == -244.5f);
    CHECK(r.leads[12].samples_uv[0] == -1.5f);
    CHECK(r.leads[13].samples_uv[0] == 60.0f);
    CHECK(r.leads[14].samples_uv[0] == -9.0f);
    REQUIRE(r.patient.age_years.has_value());
    CHECK(*r.patient.age_years == 81.0);
    CHECK(r.patient.sex == "female");

    // Without the .xyz file the record is refused with a message naming it.
    record_files f = load("ptbdb_s0010_re", {"s0010_re.hea", "s0010_re.dat"});
    auto views = f.views();
    auto missing = kalium::ecg_read(views[0], views);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message().find("s0010_re.xyz") != std::string::npos);
    CHECK(missing.error().message().find("was not given") != std::string::npos);
}

TEST_CASE("wfdb: the header sniffer", "[ecg][wfdb]") {
    auto sniff = [](const std::string &text) { return kalium::ecg::sniff_wfdb_header(reinterpret_cast<const uint8_t *>(text.data()), text.size()); };
    CHECK(sniff("100 2 360 650000\n100.dat 212 200 11 1024 995 -22131 0 MLII\n"));
    CHECK(sniff("# unnecessary comment\n100 2 360 650000\r\n100.dat 212 200\n"));
    CHECK(sniff("1 12 500 5000\n1.dat 16 1716(6)/mV 0 0 -120 -32198 0 i\n#<age>: 51\n"));
    CHECK(sniff("rec/3 2 500\n"));  // a header that stops after its record line (the reader explains what is wrong)
    CHECK_FALSE(sniff("1 2 3\n4 5 6\n"));          // a space-separated numeric table
    CHECK_FALSE(sniff("time I II\n0 1 2\n"));
    CHECK_FALSE(sniff("I,II,III\n1,2,3\n"));
    CHECK_FALSE(sniff("<?xml version=\"1.0\"?>\n<RestingECG>\n"));
    CHECK_FALSE(sniff("rec 2 500\nrec.dat sixteen\n"));
    CHECK_FALSE(sniff(""));
}

// Headers whose comments hold "<age>" tags (LUDB, macecgdb) must not be taken for XML: ecg_sniff_format tries
// the WFDB sniffer before it looks for an XML root element.
TEST_CASE("wfdb: headers with <tag> comments are sniffed as WFDB", "[ecg][wfdb]") {
    for (const char *path : {"ludb_1/1.hea", "macecgdb_test01_00s/test01_00s.hea"}) {
        INFO(path);
        auto hea = read_bytes(shared_ecg(std::string("samples/wfdb/") + path));
        CHECK(kalium::ecg::sniff_wfdb_header(hea.data(), hea.size()));
        CHECK(kalium::ecg_sniff_format(hea.data(), hea.size()) == "wfdb");
    }
    kalium::ecg_record r = read_sample("ludb_1", {"1.hea", "1.dat"});
    REQUIRE(r.leads.size() == 12);
    const char *order[] = {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"};
    for (size_t i = 0; i < 12; i++) {
        CHECK(r.leads[i].name == order[i]);
        CHECK_FALSE(r.leads[i].derived);
    }
}

TEST_CASE("wfdb: ecg_read_all pairs 100.hea with 100.dat and skips the annotation file 100.atr", "[ecg][wfdb]") {
    record_files f = load("mitdb_100", {"100.hea", "100.dat", "100.atr"});
    auto outcomes = kalium::ecg_read_all(f.views());
    size_t records = 0;
    for (const auto &o : outcomes) {
        INFO(o.name << ": " << (o.record ? std::string("record") : o.error.to_string()));
        CHECK(o.name.find("100.dat") == std::string::npos);  // consumed by the header
        if (o.record) {
            records++;
            CHECK(o.name.find("100.hea") != std::string::npos);
            CHECK(o.record->sample_count() == 650000);
        }
    }
    CHECK(records == 1);
    // 100.atr, an annotation file of record 100, is skipped quietly: the only outcome is the record.
    CHECK(outcomes.size() == 1);
}

// ---- Handcrafted records: every format round-trips ---------------------------------------------------

TEST_CASE("wfdb: every signal format round-trips known values with matching checksums", "[ecg][wfdb]") {
    for (int format : {8, 16, 24, 32, 61, 80, 160, 212, 310, 311}) {
        INFO("format " << format);
        const int64_t max_v = (int64_t(1) << (bits_of(format) - 1)) - 1;
        // Two signals, six frames (12 samples: whole groups for 212, 310 and 311). Format 8 stores differences,
        // so its values change by at most 127 per frame.
        std::vector<std::vector<int64_t>> frames;
        if (format == 8)
            frames = {{0, -5}, {1, 20}, {-1, -100}, {100, 27}, {-27, 0}, {37, 120}};
        else
            frames = {{0, -5}, {1, 20}, {-1, -100}, {max_v, 27}, {-max_v, 0}, {37, std::min<int64_t>(120, max_v)}};
        const std::vector<int64_t> initial = {0, 0};
        const std::vector<uint8_t> dat = encode(format, frames, initial);
        const std::string fmt = std::to_string(format);
        const std::string hea = "rec 2 500 6\n"
                                "rec.dat " + fmt + " 1000/mV 16 0 0 " + std::to_string(checksum(frames, 0)) + " 0 A\n"
                                "rec.dat " + fmt + " 1000/uV 16 0 0 " + std::to_string(checksum(frames, 1)) + " 0 B\n";
        auto r = read_crafted(hea, {{"rec.dat", dat}});
        INFO(hea << (r.ok() ? std::string() : r.error().to_string()));
        REQUIRE(r.ok());
        INFO(all_warnings(r.value()));
        CHECK(r->warnings.empty());
        CHECK(r->format_detail == fmt);
        REQUIRE(r->leads.size() == 2);
        REQUIRE(r->leads[0].samples_uv.size() == 6);
        CHECK(r->leads[0].name == "A");
        CHECK(r->leads[1].gain_adu_per_mv == 1e6);  // 1000 ADU per uV
        for (size_t t = 0; t < 6; t++) {
            // A: 1000 ADU/mV, so one ADU is one microvolt. B: 1000 ADU/uV, so one ADU is a nanovolt.
            CHECK(r->leads[0].samples_uv[t] == static_cast<float>(frames[t][0]));
            CHECK(r->leads[1].samples_uv[t] == Approx(frames[t][1] / 1000.0));
        }
    }
}

TEST_CASE("wfdb: invalid-sample values become NaN and count in the checksum", "[ecg][wfdb]") {
    for (int format : {16, 61, 80, 160, 212, 310, 311, 24, 32}) {
        INFO("format " << format);
        const int64_t invalid = -(int64_t(1) << (bits_of(format) - 1));
        std::vector<std::vector<int64_t>> frames = {{5, invalid}, {invalid, 7}, {-3, 4}};
        const std::vector<uint8_t> dat = encode(format, frames, {0, 0});
        const std::string fmt = std::to_string(format);
        const std::string hea = "rec 2 500 3\n"
                                "rec.dat " + fmt + " 200 12 0 0 " + std::to_string(checksum(frames, 0)) + " 0 A\n"
                                "rec.dat " + fmt + " 200 12 0 0 " + std::to_string(checksum(frames, 1)) + " 0 B\n";
        auto r = read_crafted(hea, {{"rec.dat", dat}});
        REQUIRE(r.ok());
        INFO(all_warnings(r.value()));
        CHECK(r->warnings.empty());
        CHECK(r->leads[0].samples_uv[0] == 25.0f);  // 5 ADU at 200 ADU/mV
        CHECK(std::isnan(r->leads[1].samples_uv[0]));
        CHECK(std::isnan(r->leads[0].samples_uv[1]));
        CHECK(r->leads[1].samples_uv[1] == 35.0f);
        CHECK(r->leads[0].samples_uv[2] == -15.0f);
    }
}

TEST_CASE("wfdb: format 8 starts from the initial value, 212 and 311 read an odd sample count", "[ecg][wfdb]") {
    // Format 8 with initial value 1000: differences +1, -2, +127 give 1001, 999, 1126; baseline 1000, gain 200.
    std::vector<uint8_t> dat8 = {1, 0xFE, 127};
    auto r8 = read_crafted("rec 1 100 3\nrec.dat 8 200 8 1000 1000 3126 0 X\n", {{"rec.dat", dat8}});
    REQUIRE(r8.ok());
    CHECK(r8->warnings.empty());  // checksum 1001 + 999 + 1126 = 3126
    CHECK(r8->leads[0].samples_uv[0] == 5.0f);
    CHECK(r8->leads[0].samples_uv[1] == -5.0f);
    CHECK(r8->leads[0].samples_uv[2] == 630.0f);

    // Three single-signal frames in 212: the last sample takes 2 bytes.
    std::vector<std::vector<int64_t>> frames = {{-2047}, {2047}, {-1}};
    std::vector<uint8_t> dat212 = encode(212, frames, {0});
    REQUIRE(dat212.size() == 5);
    auto r212 = read_crafted("rec 1 100 3\nrec.dat 212 1000 12 0 0 " + std::to_string(checksum(frames, 0)) + " 0 X\n", {{"rec.dat", dat212}});
    REQUIRE(r212.ok());
    CHECK(r212->warnings.empty());
    CHECK(r212->leads[0].samples_uv[2] == -1.0f);

    // Five samples in 311: a whole group of three plus two samples in 3 bytes.
    frames = {{1}, {-2}, {3}, {-511}, {511}};
    std::vector<uint8_t> dat311 = encode(311, frames, {0});
    dat311.resize(7);  // the last group's 4th byte holds no bit of samples 4 and 5
    auto r311 = read_crafted("rec 1 100 5\nrec.dat 311 1000 10 0 0 " + std::to_string(checksum(frames, 0)) + " 0 X\n", {{"rec.dat", dat311}});
    REQUIRE(r311.ok());
    CHECK(r311->warnings.empty());
    CHECK(r311->leads[0].samples_uv[3] == -511.0f);
    CHECK(r311->leads[0].samples_uv[4] == 511.0f);
}

TEST_CASE("wfdb: byte offsets, several files, samples per frame, skew, units, base time", "[ecg][wfdb]") {
    SECTION("byte offset skips a prolog") {
        std::vector<uint8_t> dat(10, 0xAA);
        for (int16_t v : {100, -100, 300}) put_le(dat, static_cast<uint16_t>(v), 2);
        auto r = read_crafted("rec 1 500 3 10:22:05.5 01/03/2019\nrec.dat 16+10 100(-100)/mV 16 0 0 300 0 V1\n", {{"rec.dat", dat}});
        REQUIRE(r.ok());
        CHECK(r->warnings.empty());
        CHECK(r->leads[0].samples_uv[0] == 2000.0f);  // (100 - -100) / 100 mV
        CHECK(r->leads[0].samples_uv[1] == 0.0f);
        CHECK(r->leads[0].samples_uv[2] == 4000.0f);
        CHECK(r->leads[0].baseline_adu == -100.0);
        CHECK(r->start_time == "2019-03-01T10:22:05.5");
    }
    SECTION("two files, found by base name whatever their folder") {
        std::vector<uint8_t> a, b;
        put_le(a, 10, 2); put_le(a, 20, 2);
        b = {0x80 + 5, 0x80 - 5};  // format 80: 5, -5
        auto r = read_crafted("rec 2 250 2 12:00:00\ndata/a.dat 16 10 16 0 10 30 0 I\nb.dat 80 10 8 0 5 0 0 II\n",
                              {{"x/y/a.dat", a}, {"C:\\ecg\\b.dat", b}, {"unrelated.dat", {1, 2, 3}}});
        REQUIRE(r.ok());
        CHECK(r->warnings.empty());
        CHECK(r->format_detail == "16,80");
        CHECK(r->leads[0].samples_uv[1] == 2000.0f);
        CHECK(r->leads[1].samples_uv[1] == -500.0f);
        CHECK(r->start_time == "12:00:00");
    }
    SECTION("samples per frame multiply the sampling rate") {
        // Frame = A0 A1 B0 B1 (16x2 for both signals), 3 frames at 250 Hz -> 6 samples at 500 Hz.
        std::vector<uint8_t> dat;
        for (int16_t v : {1, 2, 10, 20, 3, 4, 30, 40, 5, 6, 50, 60}) put_le(dat, static_cast<uint16_t>(v), 2);
        auto r = read_crafted("rec 2 250 3\nrec.dat 16x2 1000 16 0 1 21 0 A\nrec.dat 16x2 1000 16 0 10 210 0 B\n", {{"rec.dat", dat}});
        REQUIRE(r.ok());
        CHECK(r->warnings.empty());
        CHECK(r->fs_hz == 500.0);
        REQUIRE(r->leads[0].samples_uv.size() == 6);
        for (size_t t = 0; t < 6; t++) {
            CHECK(r->leads[0].samples_uv[t] == static_cast<float>(t + 1));
            CHECK(r->leads[1].samples_uv[t] == static_cast<float>(10 * (t + 1)));
        }
        // Different samples per frame: one rate is impossible.
        auto mixed = read_crafted("rec 2 250 3\nrec.dat 16x2 1000 16 0 1 0 0 A\nrec.dat 16 1000 16 0 10 0 0 B\n", {{"rec.dat", dat}});
        REQUIRE_FALSE(mixed.ok());
        CHECK(mixed.error().code() == kalium::status_code::unsupported);
        CHECK(mixed.error().message().find("signal 2 (B)") != std::string::npos);
    }
    SECTION("skew shifts a signal") {
        std::vector<uint8_t> dat;
        for (int16_t v : {1, 10, 2, 20, 3, 30, 4, 40}) put_le(dat, static_cast<uint16_t>(v), 2);
        auto r = read_crafted("rec 2 100\nrec.dat 16 1000 16 0\nrec.dat 16:1 1000 16 0\n", {{"rec.dat", dat}});
        REQUIRE(r.ok());
        REQUIRE(r->leads[0].samples_uv.size() == 3);
        CHECK(r->leads[0].samples_uv[0] == 1.0f);
        CHECK(r->leads[1].samples_uv[0] == 20.0f);
        CHECK(r->leads[1].samples_uv[2] == 40.0f);
        CHECK(has_warning(r.value(), "skew"));
        CHECK(r->leads[1].name == "signal 2");
    }
    SECTION("volts, microvolts, uncalibrated gain, non-voltage units") {
        std::vector<uint8_t> dat;
        for (int16_t v : {3, 3, 3, 3}) put_le(dat, static_cast<uint16_t>(v), 2);
        auto r = read_crafted("rec 4\nrec.dat 16 1000/V\nrec.dat 16 2/uV\nrec.dat 16 0\nrec.dat 16 100/mmHg 16 0 0 0 0 ABP\n", {{"rec.dat", dat}});
        REQUIRE(r.ok());
        CHECK(r->fs_hz == 250.0);  // WFDB's default
        REQUIRE(r->leads.size() == 3);
        CHECK(r->leads[0].samples_uv[0] == 3000.0f);  // 3 ADU at 1000 ADU/V = 3 mV
        CHECK(r->leads[0].gain_adu_per_mv == 1.0);
        CHECK(r->leads[1].samples_uv[0] == 1.5f);     // 3 ADU at 2 ADU/uV
        CHECK(r->leads[2].samples_uv[0] == 15.0f);    // 3 ADU at the default 200 ADU/mV
        CHECK(has_warning(r.value(), "uncalibrated"));
        CHECK(has_warning(r.value(), "ABP"));
        CHECK(has_warning(r.value(), "mmHg"));
    }
    SECTION("a checksum mismatch is a warning") {
        std::vector<uint8_t> dat;
        put_le(dat, 7, 2);
        auto r = read_crafted("rec 1 500 1\nrec.dat 16 200 16 0 7 8 0 I\n", {{"rec.dat", dat}});
        REQUIRE(r.ok());
        CHECK(has_warning(r.value(), "checksum"));
    }
}

// ---- MAT v4 signal files ----------------------------------------------------------------------------

namespace {
std::vector<uint8_t> mat_v4(int32_t type, int32_t rows, int32_t cols, const std::vector<int16_t> &values) {
    std::vector<uint8_t> m;
    for (int32_t v : {type, rows, cols, int32_t(0), int32_t(4)}) put_le(m, static_cast<uint32_t>(v), 4);
    m.insert(m.end(), {'v', 'a', 'l', 0});
    for (int16_t v : values) put_le(m, static_cast<uint16_t>(v), 2);
    return m;
}
}  // namespace

TEST_CASE("wfdb: MAT v4 signal files are checked against the header", "[ecg][wfdb]") {
    const std::vector<int16_t> values = {1, 2, 3, 4, 5, 6};  // 2 signals x 3 frames, column-major = interleaved
    const std::string hea = "rec 2 500 3\nrec.mat 16+24 1000/mV 16 0 1 9 0 I\nrec.mat 16+24 1000/mV 16 0 2 12 0 II\n";
    auto ok = read_crafted(hea, {{"rec.mat", mat_v4(30, 2, 3, values)}});
    REQUIRE(ok.ok());
    CHECK(ok->warnings.empty());
    CHECK(ok->leads[1].samples_uv[2] == 6.0f);

    auto transposed = read_crafted(hea, {{"rec.mat", mat_v4(30, 3, 2, values)}});
    REQUIRE_FALSE(transposed.ok());
    CHECK(transposed.error().message().find("3 x 2 matrix") != std::string::npos);

    auto doubles = read_crafted(hea, {{"rec.mat", mat_v4(0, 2, 3, values)}});
    REQUIRE_FALSE(doubles.ok());
    CHECK(doubles.error().message().find("double") != std::string::npos);

    auto offset = read_crafted("rec 2 500 3\nrec.mat 16+20 1000/mV\nrec.mat 16+20 1000/mV\n", {{"rec.mat", mat_v4(30, 2, 3, values)}});
    REQUIRE_FALSE(offset.ok());
    CHECK(offset.error().message().find("byte 24") != std::string::npos);

    auto not_mat = read_crafted(hea, {{"rec.mat", std::vector<uint8_t>(40, 0xFF)}});
    REQUIRE_FALSE(not_mat.ok());
    CHECK(not_mat.error().message().find("MATLAB v4") != std::string::npos);

    // A matrix with fewer columns than nsamp: read what there is, with a warning.
    auto shorter = read_crafted("rec 2 500 5\nrec.mat 16+24 1000/mV\nrec.mat 16+24 1000/mV\n", {{"rec.mat", mat_v4(30, 2, 3, values)}});
    REQUIRE(shorter.ok());
    CHECK(shorter->sample_count() == 3);
    CHECK(has_warning(shorter.value(), "holds 3 frames"));
}

// ---- Broken inputs ------------------------------------------------------------------------------------

TEST_CASE("wfdb: broken headers and signal files are refused with a clear message", "[ecg][wfdb]") {
    std::vector<uint8_t> dat;
    for (int16_t v : {1, 2, 3, 4, 5, 6}) put_le(dat, static_cast<uint16_t>(v), 2);
    const std::map<std::string, std::vector<uint8_t>> files = {{"rec.dat", dat}};
    struct broken {
        const char *header;
        const char *key;
        kalium::status_code code;
    };
    const broken cases[] = {
        {"rec 2 500 3\nrec.dat 16 200\nrec.dat 16 200\n", nullptr, kalium::status_code::ok},  // the good one
        {"rec 2 500 3\nother.dat 16 200\nother.dat 16 200\n", "signal file other.dat named in rec.hea was not given", kalium::status_code::bad_format},
        {"rec 99999 500 3\nrec.dat 16 200\nrec.dat 16 200\n", "declares 99999 signals", kalium::status_code::bad_format},
        {"rec 123456789012345678901234 500\nrec.dat 16\n", "number of signals", kalium::status_code::bad_format},
        {"rec 0 500 3\n", "0 signals", kalium::status_code::bad_format},
        {"rec 2 500 3\nrec.dat 999 200\nrec.dat 16 200\n", "format 999", kalium::status_code::bad_format},
        {"rec 2 500 3\nrec.dat 16q 200\nrec.dat 16 200\n", "format field", kalium::status_code::bad_format},
        {"rec 2 500 3\nrec.dat\nrec.dat 16 200\n", "no format field", kalium::status_code::bad_format},
        {"rec 2 500 3\nrec.dat 516 200\nrec.dat 516 200\n", "FLAC", kalium::status_code::unsupported},
        {"rec 2 500 3\nrec.dat 16 abc/mV\nrec.dat 16 200\n", "gain 'abc/mV'", kalium::status_code::bad_format},
        {"rec 2 500 3\nrec.dat 16 200mV\nrec.dat 16 200\n", "gain field", kalium::status_code::bad_format},
        {"rec 2 500 3\nrec.dat 16 200(x)/mV\nrec.dat 16 200\n", "baseline", kalium::status_code::bad_format},
        {"rec 2 500 3\nrec.dat 16 200 16 zero\nrec.dat 16 200\n", "ADC zero 'zero'", kalium::status_code::bad_format},
        {"rec/3 2 500 3\nrec.dat 16 200\nrec.dat 16 200\n", "multi-segment", kalium::status_code::unsupported},
        {"rec 2 fast 3\nrec.dat 16 200\nrec.dat 16 200\n", "sampling frequency", kalium::status_code::bad_format},
        {"rec 2 0 3\nrec.dat 16 200\nrec.dat 16 200\n", "sampling frequency", kalium::status_code::bad_format},
        {"rec 2 500 -3\nrec.dat 16 200\nrec.dat 16 200\n", "number of samples", kalium::status_code::bad_format},
        {"rec 2 500 3\nrec.dat 16 200\nrec.dat 212 200\n", "one format", kalium::status_code::bad_format},
        {"rec 2 500 3\nrec.dat 16+100 200\nrec.dat 16+100 200\n", "byte offset 100", kalium::status_code::bad_format},
        {"rec 2 500 3\nrec.dat 16+12 200\nrec.dat 16+12 200\n", "truncated", kalium::status_code::bad_format},
        {"rec 2 500 3\nrec.dat 16 200/NU\nrec.dat 16 200/%\n", "no signal in voltage units", kalium::status_code::unsupported},
        {"rec 3 500 1\nrec.dat 16 200\nb.dat 16 200\nrec.dat 16 200\n", "not listed together", kalium::status_code::bad_format},
        {"# only a comment\n", "no record line", kalium::status_code::bad_format},
    };
    for (const broken &c : cases) {
        INFO(c.header);
        auto r = read_crafted(c.header, files);
        if (!c.key) {
            CHECK(r.ok());
            continue;
        }
        REQUIRE_FALSE(r.ok());
        INFO(r.error().to_string());
        CHECK(r.error().code() == c.code);
        CHECK(r.error().message().find(c.key) != std::string::npos);
        CHECK(r.error().message().rfind("wfdb: ", 0) == 0);
    }
}

TEST_CASE("wfdb: a truncated signal file is read as far as it goes, with a warning", "[ecg][wfdb]") {
    std::vector<uint8_t> dat;
    for (int16_t v : {1, 2, 3, 4, 5}) put_le(dat, static_cast<uint16_t>(v), 2);  // 2.5 frames of 2 signals
    auto r = read_crafted("rec 2 500 1000\nrec.dat 16 200 16 0 1 0 0 A\nrec.dat 16 200 16 0 2 0 0 B\n", {{"rec.dat", dat}});
    REQUIRE(r.ok());
    CHECK(r->sample_count() == 2);
    CHECK(has_warning(r.value(), "holds 2 frames"));
    CHECK(has_warning(r.value(), "1000"));
    CHECK_FALSE(has_warning(r.value(), "checksum"));  // not checked on a short file

    // Through ecg_read, the error names the header file.
    auto hea = text_bytes("rec 1 500 3\nrec.dat 16 200\n");
    std::vector<uint8_t> one_byte = {7};
    auto bad = kalium::ecg_read(as_named("rec.hea", hea), {as_named("rec.dat", one_byte)});
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message().find("rec.hea: wfdb: signal file rec.dat is truncated") == 0);

    // A real record cut short: 100.dat without its last 1000 bytes (a partial frame is dropped).
    record_files f = load("mitdb_100", {"100.hea", "100.dat"});
    f.bytes[1].resize(f.bytes[1].size() - 1000);
    auto views = f.views();
    auto cut = kalium::ecg_read(views[0], views);
    REQUIRE(cut.ok());
    CHECK(cut->sample_count() == (1950000 - 1000) / 3);
    CHECK(has_warning(cut.value(), "holds 649666 frames"));
}
