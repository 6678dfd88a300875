// ecg/test-read-dicom.cpp: the DICOM waveform reader on the two real sample files (values checked against
// the raw bytes at offsets located independently with a throw-away dump script, and against Einthoven's
// law), on handcrafted files in both little-endian transfer syntaxes, and on broken files.
#include "test-util.h"

#include "ecg/readers.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <string>

using kalium::lead_id;
using kalium::status_code;

namespace {

using bytes = std::vector<uint8_t>;

void put16(bytes &b, uint16_t v) {
    b.push_back(uint8_t(v & 0xFF));
    b.push_back(uint8_t(v >> 8));
}
void put32(bytes &b, uint32_t v) {
    put16(b, uint16_t(v & 0xFFFF));
    put16(b, uint16_t(v >> 16));
}
bytes cat(std::initializer_list<bytes> parts) {
    bytes out;
    for (const bytes &p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// Writes DICOM elements in explicit or implicit VR little endian (PS3.5 section 7.1).
struct encoder {
    bool explicit_vr = true;
    bool undefined = false;  // sequences and items of undefined length, closed by delimiters

    bytes element(uint16_t group, uint16_t number, const char *vr, const bytes &value) const {
        bytes b;
        put16(b, group);
        put16(b, number);
        if (explicit_vr) {
            b.push_back(uint8_t(vr[0]));
            b.push_back(uint8_t(vr[1]));
            const std::string v(vr);
            if (v == "OB" || v == "OW" || v == "SQ" || v == "UN" || v == "UT") {
                put16(b, 0);
                put32(b, uint32_t(value.size()));
            } else {
                put16(b, uint16_t(value.size()));
            }
        } else {
            put32(b, uint32_t(value.size()));
        }
        b.insert(b.end(), value.begin(), value.end());
        return b;
    }
    bytes text(uint16_t group, uint16_t number, const char *vr, std::string s) const {
        if (s.size() % 2) s.push_back(std::string(vr) == "UI" ? '\0' : ' ');
        return element(group, number, vr, bytes(s.begin(), s.end()));
    }
    bytes us(uint16_t group, uint16_t number, uint16_t v) const {
        bytes b;
        put16(b, v);
        return element(group, number, "US", b);
    }
    bytes ul(uint16_t group, uint16_t number, uint32_t v) const {
        bytes b;
        put32(b, v);
        return element(group, number, "UL", b);
    }
    bytes sequence(uint16_t group, uint16_t number, const std::vector<bytes> &items) const {
        bytes content;
        for (const bytes &item : items) {
            put16(content, 0xFFFE);
            put16(content, 0xE000);
            put32(content, undefined ? 0xFFFFFFFFu : uint32_t(item.size()));
            content.insert(content.end(), item.begin(), item.end());
            if (undefined) {
                put16(content, 0xFFFE);
                put16(content, 0xE00D);
                put32(content, 0);
            }
        }
        bytes b;
        put16(b, group);
        put16(b, number);
        if (explicit_vr) {
            b.push_back('S');
            b.push_back('Q');
            put16(b, 0);
        }
        put32(b, undefined ? 0xFFFFFFFFu : uint32_t(content.size()));
        b.insert(b.end(), content.begin(), content.end());
        if (undefined) {
            put16(b, 0xFFFE);
            put16(b, 0xE0DD);
            put32(b, 0);
        }
        return b;
    }
    bytes coded(uint16_t group, uint16_t number, const std::string &value, const std::string &scheme, const std::string &meaning) const {
        return sequence(group, number, {cat({text(0x0008, 0x0100, "SH", value), text(0x0008, 0x0102, "SH", scheme),
                                             text(0x0008, 0x0104, "LO", meaning)})});
    }
};

// A small ECG: two channels (Lead I, Lead II) of interleaved 16-bit samples, and optionally a median group.
struct test_ecg {
    bool explicit_vr = true, undefined = false;
    std::string transfer_syntax = "1.2.840.10008.1.2.1";
    std::string sop_class = "1.2.840.10008.5.1.4.1.1.9.1.1";
    uint16_t channels = 2;
    uint32_t samples = 3;
    std::string fs = "500";
    std::vector<int16_t> data = {10, -20, 30, -40, 50, -60};  // interleaved: I, II, I, II, ...
    std::string sensitivity = "2.5", units = "uV", correction = "1", baseline = "0";
    std::string second_units = "uV";  // units of the second channel
    int definitions = -1;             // channel definitions written (-1: one per channel)
    bool median = false;
};

bytes channel_definition(const encoder &enc, const test_ecg &t, int index) {
    const char *codes[] = {"5.6.3-9-1", "5.6.3-9-2"};
    const char *meanings[] = {"Lead I", "Lead II (Einthoven)"};
    return cat({enc.coded(0x003A, 0x0208, codes[index % 2], "SCPECG", meanings[index % 2]), enc.text(0x003A, 0x0210, "DS", t.sensitivity),
                enc.coded(0x003A, 0x0211, index == 1 ? t.second_units : t.units, "UCUM", "unit"),
                enc.text(0x003A, 0x0212, "DS", t.correction), enc.text(0x003A, 0x0213, "DS", t.baseline)});
}

bytes multiplex_group(const encoder &enc, const test_ecg &t, const std::string &label, const std::vector<int16_t> &data, uint32_t samples) {
    std::vector<bytes> definitions;
    const int n = t.definitions < 0 ? t.channels : t.definitions;
    for (int c = 0; c < n; c++) definitions.push_back(channel_definition(enc, t, c));
    bytes raw;
    for (int16_t v : data) put16(raw, uint16_t(v));
    return cat({enc.us(0x003A, 0x0005, t.channels), enc.ul(0x003A, 0x0010, samples), enc.text(0x003A, 0x001A, "DS", t.fs),
                enc.text(0x003A, 0x0020, "SH", label), enc.sequence(0x003A, 0x0200, definitions), enc.us(0x5400, 0x1004, 16),
                enc.text(0x5400, 0x1006, "CS", "SS"), enc.element(0x5400, 0x1010, "OW", raw)});
}

bytes build(const test_ecg &t) {
    encoder meta;  // the file meta group is always explicit VR little endian
    encoder enc;
    enc.explicit_vr = t.explicit_vr;
    enc.undefined = t.undefined;
    bytes file(128, 0);
    for (char c : std::string("DICM")) file.push_back(uint8_t(c));
    std::vector<bytes> groups = {multiplex_group(enc, t, "RHYTHM", t.data, t.samples)};
    if (t.median) groups.push_back(multiplex_group(enc, t, "MEDIAN BEAT", {7, 8, 9, 10}, 2));
    return cat({file, meta.text(0x0002, 0x0002, "UI", t.sop_class), meta.text(0x0002, 0x0010, "UI", t.transfer_syntax),
                enc.text(0x0008, 0x0016, "UI", t.sop_class), enc.text(0x0008, 0x002A, "DT", "20240229134501.5"),
                enc.text(0x0008, 0x0070, "LO", "Maker"), enc.text(0x0010, 0x0020, "LO", "P-7"), enc.text(0x0010, 0x0040, "CS", "F"),
                enc.text(0x0010, 0x1010, "AS", "006M"), enc.sequence(0x5400, 0x0100, groups)});
}

kalium::result<kalium::ecg_record> read(const bytes &b) { return kalium::ecg_read(as_named("test.dcm", b)); }

// The error of reading `b`, which must fail.
kalium::status failure(const bytes &b) {
    auto r = kalium::ecg::read_dicom(as_named("test.dcm", b));
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message());
    return r.error();
}

bool has(const kalium::status &st, const char *word) { return st.message().find(word) != std::string::npos; }

int16_t raw16(const bytes &b, size_t offset) { return int16_t(uint16_t(b[offset] | (b[offset + 1] << 8))); }

const kalium::ecg_lead &lead(const kalium::ecg_record &r, lead_id id) {
    const kalium::ecg_lead *l = r.find(id);
    REQUIRE(l);
    return *l;
}

}  // namespace

TEST_CASE("dicom: handcrafted explicit VR file gives exact microvolts", "[ecg][dicom]") {
    test_ecg t;
    auto r = read(build(t));
    REQUIRE(r.ok());
    CHECK(r->format == "dicom");
    CHECK(r->format_detail == "12-lead ECG waveform storage");
    CHECK(r->fs_hz == 500.0);
    REQUIRE(r->sample_count() == 3);
    const kalium::ecg_lead &i = lead(r.value(), lead_id::I), &ii = lead(r.value(), lead_id::II);
    CHECK_FALSE(i.derived);
    CHECK_FALSE(ii.derived);  // "Lead II (Einthoven)" is named by its SCP-ECG code 5.6.3-9-2
    // value = raw x 2.5 uV
    CHECK(i.samples_uv[0] == 25.0f);
    CHECK(ii.samples_uv[0] == -50.0f);
    CHECK(i.samples_uv[2] == 125.0f);
    CHECK(ii.samples_uv[2] == -150.0f);
    CHECK(i.gain_adu_per_mv == Approx(400.0));
    CHECK(i.units == "uV");
    CHECK(lead(r.value(), lead_id::III).derived);
    CHECK(lead(r.value(), lead_id::III).samples_uv[1] == Approx(-100.0 - 75.0));
    CHECK(r->start_time == "2024-02-29T13:45:01");
    CHECK(r->patient.id == "P-7");
    CHECK(r->patient.sex == "female");
    REQUIRE(r->patient.age_years);
    CHECK(*r->patient.age_years == Approx(0.5));
    CHECK(r->device == "Maker");
    CHECK_FALSE(r->median);
}

TEST_CASE("dicom: implicit VR with undefined-length sequences reads the same", "[ecg][dicom]") {
    test_ecg t;
    t.explicit_vr = false;
    t.undefined = true;
    t.transfer_syntax = "1.2.840.10008.1.2";
    t.median = true;
    auto r = read(build(t));
    REQUIRE(r.ok());
    const kalium::ecg_lead &i = lead(r.value(), lead_id::I), &ii = lead(r.value(), lead_id::II);
    CHECK(i.samples_uv[1] == 75.0f);
    CHECK(ii.samples_uv[1] == -100.0f);
    REQUIRE(r->median);
    CHECK(r->median->fs_hz == 500.0);
    REQUIRE(r->median->leads.size() == 2);
    CHECK(r->median->leads[0].id == lead_id::I);
    CHECK(r->median->leads[0].samples_uv == std::vector<float>{7 * 2.5f, 9 * 2.5f});
    CHECK(r->median->leads[1].samples_uv == std::vector<float>{8 * 2.5f, 10 * 2.5f});
}

TEST_CASE("dicom: an unreadable median group costs a warning, not the record", "[ecg][dicom]") {
    test_ecg t;
    t.median = true;
    bytes b = build(t);
    // The last "SS" (Waveform Sample Interpretation) is the median group's: make it mu-law ("MB").
    const uint8_t needle[] = {'S', 'S'};
    auto at = std::find_end(b.begin(), b.end(), std::begin(needle), std::end(needle));
    REQUIRE(at != b.end());
    at[0] = 'M';
    at[1] = 'B';
    auto r = read(b);
    REQUIRE(r.ok());
    CHECK_FALSE(r->median);
    CHECK(lead(r.value(), lead_id::I).samples_uv[0] == 25.0f);
    bool warned = false;
    for (const std::string &w : r->warnings) warned = warned || w.find("median beats not read") != std::string::npos;
    CHECK(warned);
}

TEST_CASE("dicom: sensitivity, correction factor and baseline follow PS3.3 C.10.9", "[ecg][dicom]") {
    // value = raw x sensitivity x correction + baseline, in the sensitivity's units (here mV). The baseline
    // is not scaled: (raw + baseline) x 1.5 would give 15.15 mV, and leaving out the correction 5.1 mV.
    test_ecg t;
    t.sensitivity = "0.5";
    t.units = t.second_units = "mV";
    t.correction = "3";
    t.baseline = "0.1";
    auto r = read(build(t));
    REQUIRE(r.ok());
    const kalium::ecg_lead &i = lead(r.value(), lead_id::I);
    CHECK(i.samples_uv[0] == Approx(15100.0));   // 10 x 0.5 x 3 + 0.1 = 15.1 mV
    CHECK(lead(r.value(), lead_id::II).samples_uv[0] == Approx(-29900.0));  // -20 x 1.5 + 0.1 = -29.9 mV
    CHECK(i.gain_adu_per_mv == Approx(1.0 / 1.5));
    CHECK(i.baseline_adu == Approx(-0.1 / 1.5));
    CHECK(i.units == "mV");
}

TEST_CASE("dicom: a channel not in volts is dropped with a warning", "[ecg][dicom]") {
    test_ecg t;
    t.sop_class = "1.2.840.10008.5.1.4.1.1.9.2.1";  // hemodynamic
    t.second_units = "mm[Hg]";
    auto r = read(build(t));
    REQUIRE(r.ok());
    CHECK(r->format_detail == "hemodynamic waveform storage");
    CHECK(r->leads.size() == 1);
    CHECK(r->leads[0].id == lead_id::I);
    bool warned = false;
    for (const std::string &w : r->warnings) warned = warned || w.find("not in volts") != std::string::npos;
    CHECK(warned);
}

TEST_CASE("dicom: ecgtoolkit_Example.dcm (implicit VR, 500 Hz)", "[ecg][dicom]") {
    const bytes b = read_bytes(shared_ecg("samples/dicom/ecgtoolkit_Example.dcm"));
    auto r = read(b);
    REQUIRE(r.ok());
    CHECK(r->format_detail == "12-lead ECG waveform storage");
    CHECK(r->fs_hz == 500.0);
    REQUIRE(r->leads.size() == 12);
    CHECK(r->sample_count() == 5000);
    CHECK(r->duration_s() == Approx(10.0));
    const char *names[] = {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"};
    for (size_t k = 0; k < 12; k++) {
        CHECK(r->leads[k].name == names[k]);
        CHECK_FALSE(r->leads[k].derived);
        CHECK(r->leads[k].gain_adu_per_mv == Approx(400.0));  // Channel Sensitivity 2.5 uV
    }
    // The rhythm Waveform Data (5400,1010) element starts at byte 6392: implicit VR header (tag, 4-byte
    // length 12 x 5000 x 2 = 120000), then samples interleaved in the file's lead order (I, II, III, aVR,
    // aVL, aVF, V1..V6, the standard order), each x 2.5 uV.
    REQUIRE(b.size() > 6400 + 120000);
    CHECK(raw16(b, 6392) == 0x5400);
    CHECK(uint16_t(raw16(b, 6394)) == 0x1010);
    CHECK(uint32_t(b[6396] | (b[6397] << 8) | (b[6398] << 16) | (b[6399] << 24)) == 120000u);
    for (size_t s = 0; s < 3; s++)
        for (size_t k = 0; k < 12; k++) CHECK(r->leads[k].samples_uv[s] == Approx(raw16(b, 6400 + (s * 12 + k) * 2) * 2.5));
    CHECK(r->leads[0].samples_uv[0] == Approx(-5.0));   // bytes FE FF = -2
    CHECK(r->leads[1].samples_uv[0] == Approx(-17.5));  // bytes F9 FF = -7
    // Einthoven: III = II - I (the cart stores all three; it rounds to one 2.5 uV step).
    const auto &i = lead(r.value(), lead_id::I).samples_uv, &ii = lead(r.value(), lead_id::II).samples_uv, &iii = lead(r.value(), lead_id::III).samples_uv;
    float worst = 0;
    for (size_t s = 0; s < i.size(); s++) worst = std::max(worst, std::fabs(iii[s] - (ii[s] - i[s])));
    CHECK(worst <= 2.5f);
    const auto minmax = std::minmax_element(ii.begin(), ii.end());
    CHECK(*minmax.second - *minmax.first > 300.0f);   // a visible QRS
    CHECK(*minmax.second - *minmax.first < 5000.0f);  // and no more than a few mV
    // Median beats: MEDIAN BEAT group, 12 x 600 at 500 Hz, data at 128992 (header at 128984).
    REQUIRE(r->median);
    CHECK(r->median->fs_hz == 500.0);
    REQUIRE(r->median->leads.size() == 12);
    CHECK(r->median->leads[0].samples_uv.size() == 600);
    CHECK(raw16(b, 128984) == 0x5400);
    for (size_t k = 0; k < 12; k++) CHECK(r->median->leads[k].samples_uv[0] == Approx(raw16(b, 128992 + k * 2) * 2.5));
    CHECK(r->median->leads[2].id == lead_id::III);
    // Metadata.
    CHECK(r->patient.id == "SBJ-123");
    CHECK(r->patient.sex == "male");
    REQUIRE(r->patient.age_years);
    CHECK(*r->patient.age_years == 49.0);  // no Patient's Age: born 1953-05-08, recorded 2002-11-22
    CHECK(r->start_time == "2002-11-22T09:10:00");
    CHECK(r->device == "Unknown ELI250");
    CHECK(r->cart.pr_ms == 148.0);
    CHECK(r->cart.qrs_ms == 120.0);
    CHECK(r->cart.qt_ms == 420.0);
    CHECK(r->cart.qtc_ms == 443.0);
    CHECK(r->cart.p_axis_deg == 44.0);
    CHECK(r->cart.qrs_axis_deg == -61.0);
    CHECK(r->cart.t_axis_deg == 86.0);
    CHECK_FALSE(r->cart.hr_bpm);  // neither a rate nor an RR interval is stated
    CHECK(r->statements.empty());
    // Corrupting header bytes (a fixed pseudo-random sequence) never crashes or reads out of bounds.
    uint32_t seed = 777;
    for (int k = 0; k < 200; k++) {
        seed = seed * 1103515245u + 12345u;
        bytes c = b;
        c[132 + (seed >> 8) % (6400 - 132)] = uint8_t(seed >> 3);
        (void)kalium::ecg::read_dicom(as_named("corrupt.dcm", c));
    }
}

TEST_CASE("dicom: dicom-ecg-plot_anonymous_ecg.dcm (explicit VR, 1000 Hz)", "[ecg][dicom]") {
    const bytes b = read_bytes(shared_ecg("samples/dicom/dicom-ecg-plot_anonymous_ecg.dcm"));
    auto r = read(b);
    REQUIRE(r.ok());
    CHECK(r->format_detail == "12-lead ECG waveform storage");
    CHECK(r->fs_hz == 1000.0);
    REQUIRE(r->leads.size() == 12);
    CHECK(r->sample_count() == 10000);
    for (const kalium::ecg_lead &l : r->leads) {
        CHECK_FALSE(l.derived);
        CHECK(l.gain_adu_per_mv == Approx(800.0));  // 1.25 uV
    }
    CHECK(r->leads[0].name == "I");  // "Lead I (Einthoven)"
    // Waveform Data at 18630: explicit VR header (tag, "OW", 2 reserved, 4-byte length 240000), data at 18642.
    CHECK(raw16(b, 18630) == 0x5400);
    CHECK(b[18634] == 'O');
    CHECK(b[18635] == 'W');
    CHECK(uint32_t(b[18638] | (b[18639] << 8) | (b[18640] << 16) | (b[18641] << 24)) == 240000u);
    for (size_t s = 0; s < 3; s++)
        for (size_t k = 0; k < 12; k++) CHECK(r->leads[k].samples_uv[s] == Approx(raw16(b, 18642 + (s * 12 + k) * 2) * 1.25));
    CHECK(r->leads[0].samples_uv[0] == Approx(100.0));  // 0x0050 = 80
    CHECK(r->leads[1].samples_uv[0] == Approx(112.5));  // 0x005A = 90
    const auto &i = lead(r.value(), lead_id::I).samples_uv, &ii = lead(r.value(), lead_id::II).samples_uv, &iii = lead(r.value(), lead_id::III).samples_uv;
    float worst = 0;
    for (size_t s = 0; s < i.size(); s++) worst = std::max(worst, std::fabs(iii[s] - (ii[s] - i[s])));
    CHECK(worst <= 2.5f);
    const auto minmax = std::minmax_element(ii.begin(), ii.end());
    CHECK(*minmax.second - *minmax.first > 300.0f);
    CHECK(*minmax.second - *minmax.first < 5000.0f);
    REQUIRE(r->median);
    CHECK(r->median->fs_hz == 1000.0);
    REQUIRE(r->median->leads.size() == 12);
    CHECK(r->median->leads[5].samples_uv.size() == 1200);
    for (size_t k = 0; k < 12; k++) CHECK(r->median->leads[k].samples_uv[0] == Approx(raw16(b, 262242 + k * 2) * 1.25));
    CHECK(r->patient.id == "642341");
    CHECK(r->patient.sex == "female");
    REQUIRE(r->patient.age_years);
    CHECK(*r->patient.age_years == 42.0);  // "042Y"
    CHECK(r->start_time == "2013-01-25T10:59:19");
    CHECK(r->device == "Mortara Instrument, Inc. el250");
    CHECK(r->statements == std::vector<std::string>{"RITMO SINUSALE", "ECG NORMALE"});
    REQUIRE(r->cart.hr_bpm);
    CHECK(*r->cart.hr_bpm == Approx(60000.0 / 982.0));  // from the stated RR interval, 982 ms
    CHECK(r->cart.pr_ms == 161.0);
    CHECK(r->cart.qrs_ms == 75.0);
    CHECK(r->cart.qt_ms == 368.0);
    CHECK(r->cart.qtc_ms == 370.0);
    CHECK(r->cart.p_axis_deg == 74.0);
    CHECK(r->cart.qrs_axis_deg == 52.0);
    CHECK(r->cart.t_axis_deg == 57.0);
}

TEST_CASE("dicom: broken files are refused with a message", "[ecg][dicom]") {
    SECTION("no DICM marker") {
        bytes b = build(test_ecg());
        b[128] = 'X';
        CHECK(has(failure(b), "DICM"));
    }
    SECTION("file cut inside an element header") {
        const bytes good = build(test_ecg());
        // The last element is the waveform data (12-byte OW header + 12 bytes): keep 3 bytes of its header.
        // The enclosing sequence's defined length then runs past the end of the file.
        bytes b(good.begin(), good.end() - 21);
        kalium::status st = failure(b);
        CHECK(st.code() == status_code::bad_format);
        CHECK(has(st, "(5400,0100)"));
        CHECK(has(st, "runs past"));
    }
    SECTION("element value cut short (truncated file)") {
        test_ecg t;
        t.undefined = true;  // no enclosing lengths: the waveform data element itself is found short
        bytes b = build(t);
        b.resize(b.size() - 16 - 5);  // the two delimiters and 5 bytes of samples
        kalium::status st = failure(b);
        CHECK(st.code() == status_code::bad_format);
        CHECK(has(st, "(5400,1010)"));
        CHECK(has(st, "runs past"));
    }
    SECTION("element length beyond the buffer") {
        bytes b = build(test_ecg());
        // (0008,0016) in the data set, explicit VR "UI": set its 16-bit length to 0xFFF0.
        const uint8_t needle[] = {0x08, 0x00, 0x16, 0x00, 'U', 'I'};
        auto at = std::search(b.begin(), b.end(), std::begin(needle), std::end(needle));
        REQUIRE(at != b.end());
        at[6] = 0xF0;
        at[7] = 0xFF;
        kalium::status st = failure(b);
        CHECK(st.code() == status_code::bad_format);
        CHECK(has(st, "(0008,0016)"));
        CHECK(has(st, "65520"));
    }
    SECTION("undefined-length sequence never closed") {
        test_ecg t;
        t.undefined = true;
        bytes b = build(t);
        b.resize(b.size() - 8);  // drop the waveform sequence's delimiter (FFFE,E0DD)
        kalium::status st = failure(b);
        CHECK(st.code() == status_code::bad_format);
        CHECK(has(st, "never closed"));
    }
    SECTION("undefined-length item never closed") {
        test_ecg t;
        t.undefined = true;
        bytes b = build(t);
        b.resize(b.size() - 16);  // drop the last item's delimiter and the sequence delimiter
        CHECK(failure(b).code() == status_code::bad_format);
    }
    SECTION("absurd channel count") {
        test_ecg t;
        t.channels = 5000;
        t.definitions = 2;
        kalium::status st = failure(build(t));
        CHECK(st.code() == status_code::too_large);
        CHECK(has(st, "5000 channels"));
    }
    SECTION("absurd sample count") {
        test_ecg t;
        t.samples = 0xFFFFFFF0u;
        kalium::status st = failure(build(t));
        CHECK(st.code() == status_code::too_large);
        CHECK(has(st, "samples"));
    }
    SECTION("zero samples") {
        test_ecg t;
        t.samples = 0;
        CHECK(has(failure(build(t)), "0 samples"));
    }
    SECTION("channels x samples larger than the waveform data") {
        test_ecg t;
        t.samples = 4;  // needs 16 bytes, 12 stored
        kalium::status st = failure(build(t));
        CHECK(st.code() == status_code::bad_format);
        CHECK(has(st, "waveform data has 12 bytes"));
    }
    SECTION("channel definitions do not match the channel count") {
        test_ecg t;
        t.definitions = 1;
        CHECK(has(failure(build(t)), "1 channel definitions"));
    }
    SECTION("sensitivity is not a number") {
        test_ecg t;
        t.sensitivity = "2,5";
        kalium::status st = failure(build(t));
        CHECK(has(st, "channel sensitivity"));
        CHECK(has(st, "'2,5'"));
    }
    SECTION("sampling frequency is not a number") {
        test_ecg t;
        t.fs = "fast";
        CHECK(has(failure(build(t)), "sampling frequency"));
    }
    SECTION("big-endian transfer syntax") {
        test_ecg t;
        t.transfer_syntax = "1.2.840.10008.1.2.2";
        kalium::status st = failure(build(t));
        CHECK(st.code() == status_code::unsupported);
        CHECK(has(st, "Big Endian"));
    }
    SECTION("compressed and deflated transfer syntaxes") {
        test_ecg t;
        t.transfer_syntax = "1.2.840.10008.1.2.1.99";
        CHECK(failure(build(t)).code() == status_code::unsupported);
        t.transfer_syntax = "1.2.840.10008.1.2.4.50";
        CHECK(failure(build(t)).code() == status_code::unsupported);
    }
    SECTION("not a waveform object") {
        test_ecg t;
        t.sop_class = "1.2.840.10008.5.1.4.1.1.2";  // CT image
        kalium::status st = failure(build(t));
        CHECK(st.code() == status_code::unsupported);
        CHECK(has(st, "SOP class"));
    }
    SECTION("sequences nested too deep") {
        encoder enc;
        enc.undefined = true;
        bytes nested = enc.text(0x0009, 0x0010, "LO", "x");
        for (int level = 0; level < 40; level++) nested = enc.sequence(0x0009, 0x1001, {nested});
        bytes b = build(test_ecg());
        // Insert the private nested sequence right after the file meta (before (0008,0016)).
        const uint8_t needle[] = {0x08, 0x00, 0x16, 0x00, 'U', 'I'};
        auto at = std::search(b.begin(), b.end(), std::begin(needle), std::end(needle));
        REQUIRE(at != b.end());
        b.insert(at, nested.begin(), nested.end());
        CHECK(has(failure(b), "nested more than"));
    }
}

TEST_CASE("dicom: every truncation and many corruptions fail cleanly", "[ecg][dicom]") {
    test_ecg t;
    t.undefined = true;
    t.median = true;
    for (bool explicit_vr : {true, false}) {
        t.explicit_vr = explicit_vr;
        t.transfer_syntax = explicit_vr ? "1.2.840.10008.1.2.1" : "1.2.840.10008.1.2";
        const bytes good = build(t);
        REQUIRE(kalium::ecg::read_dicom(as_named("good.dcm", good)).ok());
        size_t failures = 0;
        for (size_t n = 132; n < good.size(); n++) {
            bytes b(good.begin(), good.begin() + long(n));
            auto r = kalium::ecg::read_dicom(as_named("cut.dcm", b));
            if (!r.ok()) {
                failures++;
                CHECK(r.error().message().rfind("dicom: ", 0) == 0);
            }
        }
        CHECK(failures > good.size() / 2);
        // Corrupt one byte at a time (a fixed pseudo-random sequence): never a crash or an out-of-bounds read.
        uint32_t seed = 12345;
        for (int k = 0; k < 3000; k++) {
            seed = seed * 1103515245u + 12345u;
            bytes b = good;
            b[132 + (seed >> 8) % (good.size() - 132)] = uint8_t(seed >> 3);
            (void)kalium::ecg::read_dicom(as_named("corrupt.dcm", b));
        }
    }
}
