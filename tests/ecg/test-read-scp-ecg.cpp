// ecg/test-read-scp-ecg.cpp: the SCP-ECG reader on the real sample files (checked against values taken
// independently from the same ECG in other formats) and on records built here byte by byte (every encoding
// path, and broken inputs that must give clear errors or warnings, never crashes).
#include "test-util.h"

#include "ecg/readers.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

using kalium::lead_id;

namespace {

// ---- an SCP-ECG record writer for the tests, written from the standard's layout ----

void put16(std::vector<uint8_t> &b, uint32_t v) {
    b.push_back(static_cast<uint8_t>(v & 0xFF));
    b.push_back(static_cast<uint8_t>((v >> 8) & 0xFF));
}
void put32(std::vector<uint8_t> &b, uint32_t v) {
    put16(b, v & 0xFFFF);
    put16(b, v >> 16);
}
void set16(std::vector<uint8_t> &b, size_t at, uint32_t v) {
    b[at] = static_cast<uint8_t>(v & 0xFF);
    b[at + 1] = static_cast<uint8_t>((v >> 8) & 0xFF);
}
void set32(std::vector<uint8_t> &b, size_t at, uint32_t v) {
    set16(b, at, v & 0xFFFF);
    set16(b, at + 2, v >> 16);
}

// CRC-CCITT bit by bit: polynomial 0x1021, initial value 0xFFFF.
uint16_t crc_ccitt(const uint8_t *data, size_t size) {
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < size; i++) {
        crc ^= static_cast<uint16_t>(data[i] << 8);
        for (int bit = 0; bit < 8; bit++) crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
    }
    return crc;
}

struct scp_writer {
    std::map<uint16_t, std::vector<uint8_t>> bodies;  // section id -> bytes after the 16-byte header
    uint8_t protocol = 20;
    bool scpecg_mark = true;        // "SCPECG" in section 0's reserved bytes (2.0 on)
    bool zero_based_indexes = false;

    std::vector<uint8_t> bytes() const {
        std::vector<uint16_t> ids;
        for (uint16_t id = 1; id <= 11; id++) ids.push_back(id);
        for (const auto &e : bodies)
            if (e.first > 11) ids.push_back(e.first);
        std::vector<uint8_t> out(6, 0);
        // Section 0: header + one pointer per section id (0 first), filled in below.
        const size_t s0 = out.size();
        const size_t s0_length = 16 + 10 * (ids.size() + 1);
        out.resize(s0 + s0_length, 0);
        std::vector<std::pair<uint16_t, std::pair<size_t, size_t>>> placed = {{0, {s0, s0_length}}};
        for (uint16_t id : ids) {
            auto it = bodies.find(id);
            if (it == bodies.end()) {
                placed.push_back({id, {0, 0}});
                continue;
            }
            const size_t at = out.size();
            std::vector<uint8_t> header;
            put16(header, 0);
            put16(header, id);
            put32(header, static_cast<uint32_t>(16 + it->second.size()));
            header.push_back(protocol);
            header.push_back(protocol);
            header.resize(16, 0);
            out.insert(out.end(), header.begin(), header.end());
            out.insert(out.end(), it->second.begin(), it->second.end());
            placed.push_back({id, {at, 16 + it->second.size()}});
        }
        // Section 0's header and pointers.
        set16(out, s0 + 2, 0);
        set32(out, s0 + 4, static_cast<uint32_t>(s0_length));
        out[s0 + 8] = protocol;
        out[s0 + 9] = protocol;
        if (scpecg_mark) std::memcpy(&out[s0 + 10], "SCPECG", 6);
        for (size_t p = 0; p < placed.size(); p++) {
            const size_t at = s0 + 16 + 10 * p;
            set16(out, at, placed[p].first);
            set32(out, at + 2, static_cast<uint32_t>(placed[p].second.second));
            const size_t offset = placed[p].second.first;
            set32(out, at + 6, placed[p].second.second == 0 ? 0 : static_cast<uint32_t>(offset + (zero_based_indexes ? 0 : 1)));
        }
        for (const auto &p : placed)
            if (p.second.second) set16(out, p.second.first, crc_ccitt(&out[p.second.first + 2], p.second.second - 2));
        set32(out, 2, static_cast<uint32_t>(out.size()));
        set16(out, 0, crc_ccitt(&out[2], out.size() - 2));
        return out;
    }
};

struct lead_def {
    uint32_t first, last;
    uint8_t code;
};

std::vector<uint8_t> section3(const std::vector<lead_def> &leads, uint8_t flags = 0x04) {
    std::vector<uint8_t> b = {static_cast<uint8_t>(leads.size()), flags};
    for (const lead_def &l : leads) {
        put32(b, l.first);
        put32(b, l.last);
        b.push_back(l.code);
    }
    return b;
}

// Sections 5 and 6: AVM, interval, differences, reserved / bimodal, byte counts, data.
std::vector<uint8_t> encoded_section(uint16_t avm_nv, uint16_t interval_us, uint8_t differences, uint8_t bimodal,
                                     const std::vector<std::vector<uint8_t>> &leads) {
    std::vector<uint8_t> b;
    put16(b, avm_nv);
    put16(b, interval_us);
    b.push_back(differences);
    b.push_back(bimodal);
    for (const auto &l : leads) put16(b, static_cast<uint32_t>(l.size()));
    for (const auto &l : leads) b.insert(b.end(), l.begin(), l.end());
    return b;
}

std::vector<uint8_t> raw16(const std::vector<int> &values) {
    std::vector<uint8_t> b;
    for (int v : values) put16(b, static_cast<uint16_t>(static_cast<int16_t>(v)));
    return b;
}

// MSB-first bit writer; the last byte is padded with zeros.
struct bit_writer {
    std::vector<uint8_t> bytes;
    size_t bits = 0;
    void put(const std::string &pattern) {
        for (char c : pattern) put_bit(c == '1');
    }
    void put_value(int v, int width) {
        for (int i = width - 1; i >= 0; i--) put_bit(((static_cast<unsigned>(v) >> i) & 1) != 0);
    }
    void put_bit(bool one) {
        if (bits % 8 == 0) bytes.push_back(0);
        if (one) bytes.back() |= static_cast<uint8_t>(0x80 >> (bits % 8));
        bits++;
    }
};

// The default Huffman table of the standard: 0 -> "0"; +-k (k <= 8) -> k ones, "0", sign; else nine ones and
// a zero then 8 bits, or ten ones then 16 bits.
std::vector<uint8_t> default_huffman(const std::vector<int> &values) {
    bit_writer w;
    for (int v : values) {
        if (v == 0) {
            w.put("0");
        } else if (std::abs(v) <= 8) {
            w.put(std::string(static_cast<size_t>(std::abs(v)), '1') + "0" + (v < 0 ? "1" : "0"));
        } else if (v >= -128 && v <= 127) {
            w.put("1111111110");
            w.put_value(v, 8);
        } else {
            w.put("1111111111");
            w.put_value(v, 16);
        }
    }
    return w.bytes;
}

std::vector<int> second_differences(const std::vector<int> &x) {
    std::vector<int> d(x.size());
    for (size_t i = 0; i < x.size(); i++) d[i] = i < 2 ? x[i] : x[i] - 2 * x[i - 1] + x[i - 2];
    return d;
}
std::vector<int> first_differences(const std::vector<int> &x) {
    std::vector<int> d(x.size());
    for (size_t i = 0; i < x.size(); i++) d[i] = i < 1 ? x[i] : x[i] - x[i - 1];
    return d;
}

// Section 2 with the default table.
std::vector<uint8_t> default_table_section() {
    std::vector<uint8_t> b;
    put16(b, 19999);
    return b;
}

// A small record: I and II, 10 samples at 500 Hz, 16-bit values, AVM 1000 nV (1 uV per unit).
scp_writer small_record() {
    scp_writer w;
    w.bodies[3] = section3({{1, 10, 1}, {1, 10, 2}});
    w.bodies[6] = encoded_section(1000, 2000, 0, 0, {raw16({0, 10, 20, 30, 40, 50, 60, 70, 80, 90}), raw16({-5, -4, -3, -2, -1, 0, 1, 2, 3, 4})});
    return w;
}

kalium::result<kalium::ecg_record> read(const std::vector<uint8_t> &bytes, const char *name = "test.scp") {
    return kalium::ecg_read(as_named(name, bytes));
}

bool has_warning(const kalium::ecg_record &r, const std::string &word) {
    for (const std::string &w : r.warnings)
        if (w.find(word) != std::string::npos) return true;
    return false;
}

std::string error_of(const kalium::result<kalium::ecg_record> &r) { return r.ok() ? std::string("(read fine)") : r.error().message(); }

const kalium::ecg_lead &lead(const kalium::ecg_record &r, const std::string &name) {
    for (const kalium::ecg_lead &l : r.leads)
        if (l.name == name) return l;
    FAIL("no lead " << name);
    return r.leads.front();
}

// The integers of the first <digits> list after `marker` in a text file (HL7 aECG).
std::vector<int> digits_after(const std::string &text, const std::string &marker, size_t count) {
    std::vector<int> out;
    size_t at = text.find(marker);
    if (at == std::string::npos) return out;
    at = text.find("<digits>", at);
    if (at == std::string::npos) return out;
    const char *p = text.c_str() + at + 8;
    while (out.size() < count) {
        char *end = nullptr;
        const long v = std::strtol(p, &end, 10);
        if (end == p) break;
        out.push_back(static_cast<int>(v));
        p = end;
    }
    return out;
}

}  // namespace

// ---- real files ----

TEST_CASE("scp-ecg: ECGToolkit's Example.scp (default Huffman, second differences)", "[ecg][scp-ecg]") {
    const std::vector<uint8_t> bytes = read_bytes(shared_ecg("samples/scp-ecg/ecgtoolkit_Example.scp"));
    CHECK(kalium::ecg_sniff_format(bytes.data(), bytes.size()) == "scp-ecg");
    auto r = read(bytes, "ecgtoolkit_Example.scp");
    REQUIRE(r.ok());
    const kalium::ecg_record &rec = r.value();
    INFO(rec.format_detail);
    CHECK(rec.format == "scp-ecg");
    CHECK(rec.format_detail == "2.0, default Huffman table, second differences");
    CHECK(rec.warnings.empty());  // CRCs and record length agree
    CHECK(rec.fs_hz == 500.0);
    CHECK(rec.sample_count() == 5000);
    REQUIRE(rec.leads.size() == 12);
    const char *order[] = {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"};
    for (size_t k = 0; k < 12; k++) {
        CHECK(rec.leads[k].name == order[k]);
        CHECK_FALSE(rec.leads[k].derived);  // all twelve are stored
        CHECK(rec.leads[k].gain_adu_per_mv == 400.0);  // AVM 2500 nV
        CHECK(rec.leads[k].units == "2500 nV");
    }

    // The same ECG's HL7 aECG twin spells lead I out in 2.5 uV steps: the first 300 samples agree exactly.
    const std::vector<uint8_t> xml = read_bytes(shared_ecg("samples/hl7-aecg/hl7_2003-12_Example_aECG.xml"));
    const std::vector<int> aecg_i = digits_after(std::string(xml.begin(), xml.end()), "code=\"MDC_ECG_LEAD_I\"", 300);
    REQUIRE(aecg_i.size() == 300);
    CHECK(aecg_i[4] == -3);
    const kalium::ecg_lead &i = lead(rec, "I");
    for (size_t t = 0; t < aecg_i.size(); t++) {
        INFO("sample " << t);
        REQUIRE(i.samples_uv[t] == Approx(aecg_i[t] * 2.5f));
    }

    // III, aVR, aVL and aVF are stored, not derived: Einthoven and Goldberger hold within the quantisation,
    // which checks the Huffman decoding and the second differences of every lead over all 5000 samples.
    const kalium::ecg_lead &ii = lead(rec, "II"), &iii = lead(rec, "III"), &avr = lead(rec, "aVR"), &avl = lead(rec, "aVL"),
                           &avf = lead(rec, "aVF");
    float worst_einthoven = 0, worst_goldberger = 0;
    for (size_t t = 0; t < rec.sample_count(); t++) {
        worst_einthoven = std::max(worst_einthoven, std::fabs(iii.samples_uv[t] - (ii.samples_uv[t] - i.samples_uv[t])));
        worst_goldberger = std::max(worst_goldberger, std::fabs(avr.samples_uv[t] + avl.samples_uv[t] + avf.samples_uv[t]));
    }
    CHECK(worst_einthoven <= 5.0f);
    CHECK(worst_goldberger <= 7.5f);
    float lo = 1e9f, hi = -1e9f;
    for (float v : ii.samples_uv) lo = std::min(lo, v), hi = std::max(hi, v);
    CHECK(hi - lo > 500.0f);  // a real QRS, not noise
    CHECK(hi - lo < 5000.0f);

    // Metadata (section 1), as the aECG twin states it: 2002-11-22 09:10:00; patient SBJ-123, male, born
    // 1953-05-08 (49 at the acquisition); the cart is an ELI250 (as the DICOM twin says).
    CHECK(rec.start_time == "2002-11-22T09:10:00");
    CHECK(rec.patient.id == "SBJ-123");
    CHECK(rec.patient.sex == "male");
    REQUIRE(rec.patient.age_years);
    CHECK(*rec.patient.age_years == 49.0);
    CHECK(rec.device.find("ELI250") != std::string::npos);

    // Section 7 gives what the aECG's first beat annotations give: PR 148, QRS 120, QT 420, QTc 443 ms,
    // axes 44 / -61 / 86 degrees. No heart rate is stated (RR 29999 = not computed, ventricular rate 0).
    REQUIRE(rec.cart.pr_ms);
    CHECK(*rec.cart.pr_ms == 148.0);
    REQUIRE(rec.cart.qrs_ms);
    CHECK(*rec.cart.qrs_ms == 120.0);
    REQUIRE(rec.cart.qt_ms);
    CHECK(*rec.cart.qt_ms == 420.0);
    REQUIRE(rec.cart.qtc_ms);
    CHECK(*rec.cart.qtc_ms == 443.0);
    REQUIRE((rec.cart.p_axis_deg && rec.cart.qrs_axis_deg && rec.cart.t_axis_deg));
    CHECK(*rec.cart.p_axis_deg == 44.0);
    CHECK(*rec.cart.qrs_axis_deg == -61.0);
    CHECK(*rec.cart.t_axis_deg == 86.0);
    CHECK_FALSE(rec.cart.hr_bpm);
    CHECK(rec.statements.empty());

    // Section 5: 12 reference beats of 1198 ms (section 4) at 500 Hz = 599 samples; Einthoven holds there too.
    REQUIRE(rec.median);
    CHECK(rec.median->fs_hz == 500.0);
    REQUIRE(rec.median->leads.size() == 12);
    const kalium::ecg_lead *mi = nullptr, *mii = nullptr, *miii = nullptr;
    for (const kalium::ecg_lead &l : rec.median->leads) {
        CHECK(l.samples_uv.size() == 599);
        if (l.id == lead_id::I) mi = &l;
        if (l.id == lead_id::II) mii = &l;
        if (l.id == lead_id::III) miii = &l;
    }
    REQUIRE((mi && mii && miii));
    for (size_t t = 0; t < 599; t++) REQUIRE(std::fabs(miii->samples_uv[t] - (mii->samples_uv[t] - mi->samples_uv[t])) <= 5.0f);
}

TEST_CASE("scp-ecg: Contec ECG90A record (16-bit values, saturated byte counts) agrees with its CSV and EDF twins", "[ecg][scp-ecg]") {
    const std::vector<uint8_t> bytes = read_bytes(shared_ecg("samples/scp-ecg/contec_0000050.ECG.scp"));
    auto r = read(bytes, "contec_0000050.ECG.scp");
    REQUIRE(r.ok());
    const kalium::ecg_record &rec = r.value();
    CHECK(rec.format_detail == "2.0, 16-bit values");
    CHECK(rec.fs_hz == 800.0);  // sample interval 1250 us
    CHECK(rec.sample_count() == 37855);  // section 3: samples 1-37855 (47.3 s, as the EDF and CSV twins)
    REQUIRE(rec.leads.size() == 12);
    CHECK(rec.device == "ECG90");
    CHECK(rec.patient.id.empty());
    CHECK(rec.patient.sex.empty());
    CHECK_FALSE(rec.patient.age_years);
    // The EDF twin's header states the same start: 16.11.20 21.44.39.
    const std::vector<uint8_t> edf = read_bytes(shared_ecg("samples/edf/contec_0000050.ECG.edf"));
    REQUIRE(edf.size() > 184);
    CHECK(std::string(edf.begin() + 168, edf.begin() + 184) == "16.11.2021.44.39");
    CHECK(rec.start_time == "2020-11-16T21:44:39");

    // The record was written by RigacciOrg/ecg-contec's converter, which caps each lead at 32767 samples
    // (byte count 65534, "limited to 16bit size counter") while section 3 keeps all 37855: the rest are NaN.
    CHECK(has_warning(rec, "16-bit byte count"));
    CHECK(has_warning(rec, "32767 of the 37855"));

    // The CSV twin holds the raw ADC integers of I, II, III, aVR, aVL, aVF (V1-V6 empty). Microvolts over
    // those integers must be one constant, AVM 5000 nV = 5 uV, over all 32767 samples the SCP file holds.
    const std::vector<uint8_t> csv_bytes = read_bytes(shared_ecg("samples/csv/contec_0000050.ECG.csv"));
    const std::string csv(csv_bytes.begin(), csv_bytes.end());
    std::vector<std::vector<int>> columns(6);
    size_t pos = 0;
    while (pos < csv.size() && columns[0].size() < 32767) {
        const char *p = csv.c_str() + pos;
        for (int c = 0; c < 6; c++) {
            char *end = nullptr;
            columns[static_cast<size_t>(c)].push_back(static_cast<int>(std::strtol(p, &end, 10)));
            p = end + 1;  // the comma
        }
        pos = csv.find('\n', pos);
        if (pos == std::string::npos) break;
        pos++;
    }
    REQUIRE(columns[0].size() == 32767);
    const char *names[] = {"I", "II", "III", "aVR", "aVL", "aVF"};
    for (int c = 0; c < 6; c++) {
        INFO("lead " << names[c]);
        const kalium::ecg_lead &l = lead(rec, names[c]);
        CHECK(l.gain_adu_per_mv == 200.0);
        size_t nonzero = 0, mismatches = 0;
        for (size_t t = 0; t < 32767; t++) {
            const int raw = columns[static_cast<size_t>(c)][t];
            if (l.samples_uv[t] != 5.0f * raw) mismatches++;
            if (raw != 0) nonzero++;
        }
        CHECK(mismatches == 0);
        CHECK(nonzero > 1000);
        CHECK(std::isnan(l.samples_uv[32767]));
        CHECK(std::isnan(l.samples_uv.back()));
    }
    // The chest electrodes were not connected: V1-V6 are flat zero where stored.
    for (const char *v : {"V1", "V2", "V3", "V4", "V5", "V6"}) {
        const kalium::ecg_lead &l = lead(rec, v);
        bool flat = true;
        for (size_t t = 0; t < 32767; t++) flat = flat && l.samples_uv[t] == 0.0f;
        CHECK(flat);
    }
}

TEST_CASE("scp-ecg: the non-conformant Healforce file is recognised and refused with the section at fault", "[ecg][scp-ecg]") {
    // No "SCPECG" mark (version 1.3), pointers counted from 0, CRCs that are not CRC-CCITT, a 16-bit record
    // length, and a section 3 that declares 3 leads in 12 bytes (3 x 9 are needed).
    const std::vector<uint8_t> bytes = read_bytes(shared_ecg("samples/scp-ecg/healforce_62.SCP"));
    CHECK(kalium::ecg_sniff_format(bytes.data(), bytes.size()) == "scp-ecg");
    auto r = read(bytes, "healforce_62.SCP");
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message());
    CHECK(r.error().code() == kalium::status_code::bad_format);
    CHECK(r.error().message().find("healforce_62.SCP: scp-ecg: section 3: 3 lead definitions need 27 bytes") == 0);
    CHECK(r.error().message().find("offset 196") != std::string::npos);
}

// ---- records built here: every encoding ----

TEST_CASE("scp-ecg: 16-bit values become microvolts by the AVM", "[ecg][scp-ecg]") {
    scp_writer w = small_record();
    w.bodies[6] = encoded_section(2500, 2000, 0, 0, {raw16({0, 10, 20, 30, 40, 50, 60, 70, 80, 90}), raw16({-5, -4, -3, -2, -1, 0, 1, 2, 3, 4})});
    auto r = read(w.bytes());
    REQUIRE(r.ok());
    const kalium::ecg_record &rec = r.value();
    CHECK(rec.warnings.empty());
    CHECK(rec.fs_hz == 500.0);
    CHECK(rec.sample_count() == 10);
    CHECK(rec.format_detail == "2.0, 16-bit values");
    CHECK(lead(rec, "I").samples_uv[3] == 75.0f);   // 30 x 2500 nV
    CHECK(lead(rec, "II").samples_uv[0] == -12.5f);  // -5 x 2500 nV
    CHECK(lead(rec, "I").gain_adu_per_mv == 400.0);
    // III, aVR, aVL, aVF are derived by kalium (not by the reader).
    CHECK(lead(rec, "III").derived);
    CHECK(lead(rec, "III").samples_uv[3] == Approx(-5.0f - 75.0f));
}

TEST_CASE("scp-ecg: default Huffman table with first and second differences", "[ecg][scp-ecg]") {
    const std::vector<int> x = {0, 3, 9, 20, 160, 1200, 700, -900, -905, 33000 - 65536, 12, 12};  // steps of every code length
    for (int differences : {0, 1, 2}) {
        INFO("differences " << differences);
        const std::vector<int> d = differences == 0 ? x : differences == 1 ? first_differences(x) : second_differences(x);
        scp_writer w;
        w.bodies[2] = default_table_section();
        w.bodies[3] = section3({{1, static_cast<uint32_t>(x.size()), 3}});
        w.bodies[6] = encoded_section(1000, 1000, static_cast<uint8_t>(differences), 0, {default_huffman(d)});
        auto r = read(w.bytes());
        REQUIRE(r.ok());
        const kalium::ecg_lead &v1 = lead(r.value(), "V1");
        REQUIRE(v1.samples_uv.size() == x.size());
        for (size_t t = 0; t < x.size(); t++) CHECK(v1.samples_uv[t] == static_cast<float>(x[t]));
        CHECK(r->fs_hz == 1000.0);
    }
}

TEST_CASE("scp-ecg: custom Huffman tables with table switching", "[ecg][scp-ecg]") {
    // Table 1: "0" = 0, "10" = +1, "110" = switch to table 2, "111" + 8-bit value.
    // Table 2: "0" = 100, "1" = switch to table 1. Base codes are stored bit-reversed (first bit in bit 0).
    struct code {
        const char *bits;
        uint8_t total_bits, mode;
        int16_t value;
    };
    auto table = [](std::vector<uint8_t> &b, const std::vector<code> &codes) {
        put16(b, static_cast<uint32_t>(codes.size()));
        for (const code &c : codes) {
            uint32_t reversed = 0;
            uint8_t n = 0;
            for (; c.bits[n]; n++)
                if (c.bits[n] == '1') reversed |= 1u << n;
            b.push_back(n);
            b.push_back(c.total_bits);
            b.push_back(c.mode);
            put16(b, static_cast<uint16_t>(c.value));
            put32(b, reversed);
        }
    };
    std::vector<uint8_t> s2;
    put16(s2, 2);
    table(s2, {{"0", 1, 1, 0}, {"10", 2, 1, 1}, {"110", 3, 0, 2}, {"111", 11, 1, 0}});
    table(s2, {{"0", 1, 1, 100}, {"1", 1, 0, 1}});
    bit_writer bits;
    bits.put("0");                  // 0
    bits.put("10");                 // 1
    bits.put("110");                // -> table 2
    bits.put("0");                  // 100
    bits.put("0");                  // 100
    bits.put("1");                  // -> table 1
    bits.put("111");                // 8-bit value
    bits.put_value(-5 & 0xFF, 8);   // -5
    bits.put("10");                 // 1
    scp_writer w;
    w.bodies[2] = s2;
    w.bodies[3] = section3({{1, 6, 1}});
    w.bodies[6] = encoded_section(1000, 2000, 0, 0, {bits.bytes});
    auto r = read(w.bytes());
    REQUIRE(r.ok());
    const std::vector<float> expected = {0, 1, 100, 100, -5, 1};
    CHECK(lead(r.value(), "I").samples_uv == expected);
    CHECK(r->format_detail == "2.0, custom Huffman tables");

    // A bit pattern no code of the current table matches: table 1 without "111".
    std::vector<uint8_t> s2_gap;
    put16(s2_gap, 1);
    table(s2_gap, {{"0", 1, 1, 0}, {"10", 2, 1, 1}});
    w.bodies[2] = s2_gap;
    w.bodies[3] = section3({{1, 3, 1}});
    bit_writer gap;
    gap.put("0");
    gap.put("11");
    w.bodies[6] = encoded_section(1000, 2000, 0, 0, {gap.bytes});
    auto bad = read(w.bytes());
    REQUIRE_FALSE(bad.ok());
    CHECK(error_of(bad).find("section 6: lead 1 (I): no Huffman code matches the bits at byte 0 bit 1") != std::string::npos);

    // Two codes where one is a prefix of the other.
    std::vector<uint8_t> s2_clash;
    put16(s2_clash, 1);
    table(s2_clash, {{"1", 1, 1, 0}, {"10", 2, 1, 1}});
    w.bodies[2] = s2_clash;
    CHECK(error_of(read(w.bytes())).find("section 2: table 1 code 2") != std::string::npos);
}

TEST_CASE("scp-ecg: reference beat subtraction is undone at each type-0 QRS", "[ecg][scp-ecg]") {
    // One lead of 20 samples at 500 Hz; a 5-sample reference beat (10 ms) with its fiducial at sample 3.
    // QRS 1 (type 0): fiducial 8, subtraction zone 6-10. QRS 2 (type 1): not subtracted.
    const std::vector<int> residual = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    const std::vector<int> beat = {100, 200, 300, 200, 100};
    scp_writer w;
    w.bodies[3] = section3({{1, 20, 1}}, 0x05);  // reference beat subtracted, simultaneous
    std::vector<uint8_t> s4;
    put16(s4, 10);  // reference beat length, ms
    put16(s4, 3);   // its fiducial
    put16(s4, 2);   // QRS complexes
    for (uint32_t v : {0u, 6u, 8u, 10u}) (v == 0 ? put16(s4, v) : put32(s4, v));
    for (uint32_t v : {1u, 13u, 15u, 17u}) (v == 1 ? put16(s4, v) : put32(s4, v));
    w.bodies[4] = s4;
    // The reference beat at AVM 2000 nV (2 uV per unit), the rhythm at 1000 nV: the sum is in microvolts.
    w.bodies[5] = encoded_section(2000, 2000, 0, 0, {raw16(beat)});
    w.bodies[6] = encoded_section(1000, 2000, 0, 0, {raw16(residual)});
    auto r = read(w.bytes());
    REQUIRE(r.ok());
    const std::vector<float> &out = lead(r.value(), "I").samples_uv;
    for (size_t t = 0; t < 20; t++) {
        INFO("sample " << t + 1);
        float expected = static_cast<float>(residual[t]);
        // Rhythm sample s (1-based) in 6..10 gets beat sample 3 + (s - 8) (1-based), at 2 uV per unit.
        const int s = static_cast<int>(t) + 1;
        if (s >= 6 && s <= 10) expected += 2.0f * static_cast<float>(beat[static_cast<size_t>(3 + (s - 8) - 1)]);
        CHECK(out[t] == expected);
    }
    REQUIRE(r->median);
    CHECK(r->median->leads[0].samples_uv == std::vector<float>({200, 400, 600, 400, 200}));
    CHECK(r->format_detail == "2.0, 16-bit values, reference beat subtracted");

    // Without section 4 the zones are unknown.
    w.bodies.erase(4);
    CHECK(error_of(read(w.bytes())).find("needs the reference beats (section 5) and the QRS locations (section 4)") != std::string::npos);
}

TEST_CASE("scp-ecg: bimodal compression is expanded back to the reference beat's rate", "[ecg][scp-ecg]") {
    // 40 samples at 1000 Hz (section 5: 1000 us), rhythm stored at 4000 us outside the protected zone 11-20.
    // The signal is the ramp x(s) = 10 (s - 1): averages of 4 samples sit at their centres, so linear
    // interpolation between them gives the ramp back except where it is held flat at the ends of a run.
    auto x = [](int s) { return 10 * (s - 1); };
    std::vector<int> stored;
    auto average = [&](int first) { return (x(first) + x(first + 1) + x(first + 2) + x(first + 3)) / 4; };
    stored.push_back(average(1));  // samples 1-4 -> 15
    stored.push_back(average(5));  // samples 5-8 -> 55
    stored.push_back(x(9));        // 10 % 4 = 2 plain samples
    stored.push_back(x(10));
    for (int s = 11; s <= 20; s++) stored.push_back(x(s));      // protected: full rate
    for (int s = 21; s <= 40; s += 4) stored.push_back(average(s));  // 20 samples -> 5 averages
    scp_writer w;
    w.bodies[3] = section3({{1, 40, 2}});
    std::vector<uint8_t> s4;
    put16(s4, 5);  // 5 ms reference beat = 5 samples at 1000 us
    put16(s4, 3);
    put16(s4, 1);
    put16(s4, 1);  // QRS type 1 (no subtraction anyway)
    put32(s4, 12);
    put32(s4, 15);
    put32(s4, 18);
    put32(s4, 11);  // protected zone 11-20
    put32(s4, 20);
    w.bodies[4] = s4;
    w.bodies[5] = encoded_section(1000, 1000, 0, 0, {raw16({1, 2, 3, 4, 5})});
    w.bodies[6] = encoded_section(1000, 4000, 0, 1, {raw16(stored)});
    auto r = read(w.bytes());
    REQUIRE(r.ok());
    const kalium::ecg_record &rec = r.value();
    CHECK(rec.fs_hz == 1000.0);
    CHECK(has_warning(rec, "bimodal compression"));
    const std::vector<float> &ii = lead(rec, "II").samples_uv;
    REQUIRE(ii.size() == 40);
    for (int s = 3; s <= 6; s++) CHECK(ii[static_cast<size_t>(s - 1)] == Approx(x(s)));   // between the centres 2.5 and 6.5
    CHECK(ii[0] == 15.0f);                                                                 // held before the first centre
    CHECK(ii[7] == 55.0f);                                                                 // held after the last
    for (int s = 9; s <= 20; s++) CHECK(ii[static_cast<size_t>(s - 1)] == Approx(x(s)));  // plain and protected samples
    for (int s = 23; s <= 38; s++) CHECK(ii[static_cast<size_t>(s - 1)] == Approx(x(s)));
    CHECK(ii[39] == Approx(average(37)));

    // A rhythm interval that is not a multiple of the reference beat's.
    w.bodies[6] = encoded_section(1000, 2500, 0, 1, {raw16(stored)});
    CHECK(error_of(read(w.bytes())).find("not a multiple") != std::string::npos);
}

TEST_CASE("scp-ecg: leads recorded over different samples share one time base", "[ecg][scp-ecg]") {
    scp_writer w;
    w.bodies[3] = section3({{1, 4, 1}, {3, 6, 3}}, 0x00);
    w.bodies[6] = encoded_section(1000, 2000, 0, 0, {raw16({1, 2, 3, 4}), raw16({7, 8, 9, 10})});
    auto r = read(w.bytes());
    REQUIRE(r.ok());
    CHECK(r->sample_count() == 6);
    CHECK(has_warning(r.value(), "not all recorded over the same samples"));
    const std::vector<float> &i = lead(r.value(), "I").samples_uv, &v1 = lead(r.value(), "V1").samples_uv;
    CHECK(i[3] == 4.0f);
    CHECK(std::isnan(i[4]));
    CHECK(std::isnan(v1[1]));
    CHECK(v1[2] == 7.0f);
    CHECK(v1[5] == 10.0f);
}

// ---- records built here: metadata ----

TEST_CASE("scp-ecg: section 1 tags, section 7 measurements, section 8 and 11 statements", "[ecg][scp-ecg]") {
    scp_writer w = small_record();
    std::vector<uint8_t> s1;
    auto tag = [&](uint8_t t, const std::vector<uint8_t> &v) {
        s1.push_back(t);
        put16(s1, static_cast<uint32_t>(v.size()));
        s1.insert(s1.end(), v.begin(), v.end());
    };
    tag(0, {'D', 'o', 'e', 0});
    tag(2, {'P', '-', '4', '2', 0});
    tag(4, {18, 0, 2});                  // 18 months
    tag(5, {0xCC, 0x07, 1, 1});          // born 1996-01-01 (the stated age wins)
    tag(8, {2});                         // female
    tag(25, {0xE5, 0x07, 3, 4});         // 2021-03-04
    tag(26, {5, 6, 7});                  // 05:06:07
    std::vector<uint8_t> device(36, 0);  // tag 14: fixed part, counted string (empty), then 4 strings
    device[7] = 8;                       // Mortara Instrument
    std::memcpy(&device[8], "ELI350", 6);
    for (const char *s : {"SN1", "sys 1.0", "impl", ""}) device.insert(device.end(), s, s + std::strlen(s) + 1);
    tag(14, device);
    tag(255, {});
    w.bodies[1] = s1;
    std::vector<uint8_t> s7 = {1, 0};
    put16(s7, 800);    // RR, ms
    put16(s7, 29999);  // PP not computed
    for (int v : {100, 200, 260, 350, 660, 30, -45, 29999}) put16(s7, static_cast<uint16_t>(static_cast<int16_t>(v)));
    put16(s7, 0);      // QRS types
    put16(s7, 0);      // ventricular rate (0: not given)
    put16(s7, 29999);  // atrial rate
    put16(s7, 452);    // QTc
    s7.push_back(1);   // Bazett
    put16(s7, 0);
    w.bodies[7] = s7;
    std::vector<uint8_t> s8 = {0, 0xE5, 0x07, 3, 4, 5, 6, 7, 2};
    for (const char *text : {"Sinus rhythm", "Normal ECG"}) {
        s8.push_back(static_cast<uint8_t>(s8.size()));
        put16(s8, static_cast<uint32_t>(std::strlen(text) + 1));
        s8.insert(s8.end(), text, text + std::strlen(text) + 1);
    }
    w.bodies[8] = s8;
    auto r = read(w.bytes());
    REQUIRE(r.ok());
    const kalium::ecg_record &rec = r.value();
    CHECK(rec.warnings.empty());
    CHECK(rec.patient.id == "P-42");
    REQUIRE(rec.patient.age_years);
    CHECK(*rec.patient.age_years == Approx(1.5));
    CHECK(rec.patient.sex == "female");
    CHECK(rec.start_time == "2021-03-04T05:06:07");
    CHECK(rec.device == "Mortara Instrument ELI350");
    REQUIRE((rec.cart.hr_bpm && rec.cart.pr_ms && rec.cart.qrs_ms && rec.cart.qt_ms && rec.cart.qtc_ms));
    CHECK(*rec.cart.hr_bpm == 75.0);  // 60000 / RR
    CHECK(*rec.cart.pr_ms == 160.0);
    CHECK(*rec.cart.qrs_ms == 90.0);
    CHECK(*rec.cart.qt_ms == 400.0);
    CHECK(*rec.cart.qtc_ms == 452.0);
    CHECK(*rec.cart.p_axis_deg == 30.0);
    CHECK(*rec.cart.qrs_axis_deg == -45.0);
    CHECK_FALSE(rec.cart.t_axis_deg);
    CHECK(rec.statements == std::vector<std::string>({"Sinus rhythm", "Normal ECG"}));

    // Section 11 when there is no section 8: a statement type byte before the text; age from the birth date.
    w.bodies.erase(8);
    std::vector<uint8_t> s11 = {0, 0xE5, 0x07, 3, 4, 5, 6, 7, 1, 1};
    const char *text = "Left axis deviation";
    put16(s11, static_cast<uint32_t>(std::strlen(text) + 2));
    s11.push_back(2);  // full text
    s11.insert(s11.end(), text, text + std::strlen(text) + 1);
    w.bodies[11] = s11;
    s1.clear();
    tag(5, {0xCC, 0x07, 3, 5});  // born 1996-03-05: 24 on 2021-03-04
    tag(25, {0xE5, 0x07, 3, 4});
    tag(2, {'X', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    s1.resize(s1.size() - 10);  // the last tag runs past the section end: a warning, the rest is kept
    w.bodies[1] = s1;
    auto r11 = read(w.bytes());
    REQUIRE(r11.ok());
    CHECK(r11->statements == std::vector<std::string>({"Left axis deviation"}));
    REQUIRE(r11->patient.age_years);
    CHECK(*r11->patient.age_years == 24.0);
    CHECK(r11->start_time == "2021-03-04");
    CHECK(has_warning(r11.value(), "section 1: tag 2"));

    // Text in Latin-1 and in UTF-8 both come out as UTF-8.
    for (const std::vector<uint8_t> &id : {std::vector<uint8_t>{'Z', 'o', 0xEB, 0}, std::vector<uint8_t>{'Z', 'o', 0xC3, 0xAB, 0}}) {
        s1.clear();
        tag(2, id);
        tag(255, {});
        w.bodies[1] = s1;
        auto rt = read(w.bytes());
        REQUIRE(rt.ok());
        CHECK(rt->patient.id == "Zo\xC3\xAB");
    }
}

// ---- records built here: tolerated deviations ----

TEST_CASE("scp-ecg: CRC mismatches, record length and 0-based indexes are warnings", "[ecg][scp-ecg]") {
    std::vector<uint8_t> good = small_record().bytes();
    {
        std::vector<uint8_t> b = good;
        b[0] ^= 0x55;  // record CRC
        auto r = read(b);
        REQUIRE(r.ok());
        CHECK(has_warning(r.value(), "record CRC"));
        CHECK(lead(r.value(), "I").samples_uv[9] == 90.0f);
    }
    {
        std::vector<uint8_t> b = good;
        b[b.size() - 1] ^= 0x01;  // last sample of lead II: both the record and section 6 CRC fail
        auto r = read(b);
        REQUIRE(r.ok());
        CHECK(has_warning(r.value(), "section CRC mismatch in section 6"));
        CHECK(has_warning(r.value(), "record CRC"));
    }
    {
        std::vector<uint8_t> b = good;
        b.insert(b.end(), 10, 0);  // bytes after the record
        auto r = read(b);
        REQUIRE(r.ok());
        CHECK(has_warning(r.value(), "10 bytes after the"));
    }
    {
        scp_writer w = small_record();
        w.zero_based_indexes = true;
        w.scpecg_mark = false;  // as version 1.x writers: still recognised
        w.protocol = 13;
        const std::vector<uint8_t> b = w.bytes();
        CHECK(kalium::ecg_sniff_format(b.data(), b.size()) == "scp-ecg");
        auto r = read(b);
        REQUIRE(r.ok());
        CHECK(has_warning(r.value(), "count from 0"));
        CHECK(r->format_detail == "1.3, 16-bit values");
        CHECK(lead(r.value(), "II").samples_uv[0] == -5.0f);
    }
    {
        // A lead whose 16-bit byte count saturated: the samples it lacks are NaN.
        scp_writer w;
        w.bodies[3] = section3({{1, 40000, 1}});
        std::vector<int> values(32767);
        for (size_t t = 0; t < values.size(); t++) values[t] = static_cast<int>(t % 100);
        w.bodies[6] = encoded_section(1000, 2000, 0, 0, {raw16(values)});
        auto r = read(w.bytes());
        REQUIRE(r.ok());
        CHECK(r->sample_count() == 40000);
        CHECK(has_warning(r.value(), "holds 32767 of the 40000 samples"));
        CHECK(lead(r.value(), "I").samples_uv[32766] == 66.0f);
        CHECK(std::isnan(lead(r.value(), "I").samples_uv[32767]));
    }
}

// ---- records built here: broken inputs ----

TEST_CASE("scp-ecg: broken records are refused with the section, field and offset", "[ecg][scp-ecg]") {
    struct broken {
        const char *what;
        std::vector<uint8_t> bytes;
        const char *message;  // expected in the error
    };
    std::vector<broken> cases;
    const std::vector<uint8_t> good = small_record().bytes();

    {
        // Too short even for the sniffer: the reader itself must still refuse it cleanly.
        const std::vector<uint8_t> b(good.begin(), good.begin() + 21);
        auto r = kalium::ecg::read_scp_ecg(as_named("test.scp", b));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message() == "scp-ecg: the file is 21 bytes, shorter than a record header and section 0's header (22 bytes)");
    }
    cases.push_back({"only the headers", std::vector<uint8_t>(good.begin(), good.begin() + 22), "section 0: length 136 (offset 10) does not fit the 22-byte record"});
    {
        std::vector<uint8_t> b = good;
        b.resize(b.size() - 7);  // section 6 runs past the end of the file
        cases.push_back({"truncated", b, "section 6: its pointer gives 66 bytes at offset"});
    }
    {
        scp_writer w = small_record();
        std::vector<uint8_t> b = w.bytes();
        // Section 6's pointer length beyond the file (pointer 7 of section 0: id 6).
        const size_t pointer = 6 + 16 + 10 * 6;
        REQUIRE(b[pointer] == 6);
        set32(b, pointer + 2, 100000);
        cases.push_back({"section length beyond file", b, "section 6: its pointer gives 100000 bytes"});
    }
    {
        std::vector<uint8_t> b = good;
        const size_t pointer = 6 + 16 + 10 * 3;  // section 3's pointer
        REQUIRE(b[pointer] == 3);
        set32(b, pointer + 6, 2);  // index into the record header
        cases.push_back({"index into the header", b, "section 3: index 2"});
    }
    {
        std::vector<uint8_t> b = good;
        const size_t pointer = 6 + 16 + 10 * 3;
        const size_t s3 = b[pointer + 6] - 1u + 256u * b[pointer + 7];
        set16(b, s3 + 2, 5);  // the header says section 5
        cases.push_back({"wrong section id", b, "section 3: the section header at offset"});
    }
    {
        std::vector<uint8_t> b = good;
        set16(b, 8, 1);
        cases.push_back({"section 0 id", b, "section 0: expected at offset 6"});
    }
    auto with = [](uint16_t id, const std::vector<uint8_t> &body) {
        scp_writer w = small_record();
        w.bodies[id] = body;
        return w.bytes();
    };
    cases.push_back({"lead end before start", with(3, section3({{1, 10, 1}, {10, 9, 2}})), "section 3: lead 2 (II) ends at sample 9 before it starts at sample 10"});
    cases.push_back({"lead starts at 0", with(3, section3({{0, 10, 1}, {1, 10, 2}})), "section 3: lead 1 (I) starts at sample 0"});
    cases.push_back({"no leads", with(3, {0, 0x04}), "section 3: the record defines no leads"});
    cases.push_back({"lead definitions cut", with(3, {2, 0x04, 1, 0, 0, 0}), "section 3: 2 lead definitions need 18 bytes"});
    cases.push_back({"absurd span", with(3, section3({{1, 0xFFFFFFF0u, 1}, {1, 10, 2}})), "exceeds kalium's limit"});
    cases.push_back({"sample interval 0", with(6, encoded_section(1000, 0, 0, 0, {raw16({1}), raw16({1})})), "section 6: the sample interval (offset"});
    cases.push_back({"AVM 0", with(6, encoded_section(0, 2000, 0, 0, {raw16({1}), raw16({1})})), "section 6: the amplitude value multiplier (AVM"});
    cases.push_back({"difference encoding 3", with(6, encoded_section(1000, 2000, 3, 0, {raw16({1}), raw16({1})})), "difference encoding 3"});
    {
        std::vector<uint8_t> s6 = encoded_section(1000, 2000, 0, 0, {raw16({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), raw16({1, 2, 3, 4, 5, 6, 7, 8, 9, 10})});
        set16(s6, 8, 400);  // lead II claims 400 bytes
        cases.push_back({"lead data beyond section", with(6, s6), "section 6: lead 2 (II) has 400 bytes of data at offset"});
    }
    cases.push_back({"16-bit data run out", with(6, encoded_section(1000, 2000, 0, 0, {raw16({1, 2, 3}), raw16({1, 2, 3, 4, 5, 6, 7, 8, 9, 10})})),
                     "section 6: lead 1 (I): the data (6 bytes) end after 3 of 10 samples"});
    {
        scp_writer w = small_record();
        w.bodies[2] = default_table_section();
        w.bodies[6] = encoded_section(1000, 2000, 2, 0, {default_huffman({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), default_huffman({1, 2, 3})});
        cases.push_back({"Huffman bitstream runs out", w.bytes(), "section 6: lead 2 (II): the data (2 bytes) end after"});
    }
    {
        std::vector<uint8_t> s2;
        put16(s2, 2);
        put16(s2, 0);
        cases.push_back({"Huffman table with zero codes", with(2, s2), "section 2: Huffman table 1 has no codes"});
    }
    {
        std::vector<uint8_t> s2;
        put16(s2, 3);
        put16(s2, 1);
        for (int v : {1, 1, 1, 0, 0, 0, 0, 0, 0}) s2.push_back(static_cast<uint8_t>(v));
        cases.push_back({"Huffman tables missing", with(2, s2), "section 2: Huffman table 2 of 3 starts at offset"});
    }
    {
        std::vector<uint8_t> s2;
        put16(s2, 1);
        put16(s2, 1);
        for (int v : {1, 1, 0, 5, 0, 0, 0, 0, 0}) s2.push_back(static_cast<uint8_t>(v));  // switch to table 5 of 1
        cases.push_back({"switch to a missing table", with(2, s2), "switches to table 5 of 1"});
    }
    {
        std::vector<uint8_t> s2;
        put16(s2, 1);
        put16(s2, 2000);  // 2000 codes in a few bytes
        cases.push_back({"Huffman codes cut", with(2, s2), "section 2: Huffman table 1's 2000 codes need 18000 bytes"});
    }
    {
        scp_writer w = small_record();
        w.bodies.erase(6);
        cases.push_back({"no rhythm", w.bytes(), "no rhythm data (section 6)"});
    }
    {
        scp_writer w = small_record();
        w.bodies.erase(3);
        cases.push_back({"no lead definitions", w.bytes(), "no lead definitions (section 3)"});
    }
    {
        scp_writer w = small_record();
        w.bodies[3] = section3({{1, 10, 1}, {1, 10, 2}}, 0x05);
        cases.push_back({"subtraction without sections 4 and 5", w.bytes(), "reference beat subtraction (section 3 flag) needs the reference beats"});
    }
    {
        scp_writer w = small_record();
        w.bodies[2] = default_table_section();
        w.bodies[3] = section3({{1, 10, 1}, {1, 10, 2}}, 0x05);
        w.bodies[5] = encoded_section(1000, 2000, 0, 0, {default_huffman({1}), default_huffman({1})});
        cases.push_back({"Huffman reference beat without length", w.bytes(), "section 5: the reference beats are Huffman coded but section 4"});
    }
    {
        std::vector<uint8_t> s4;
        put16(s4, 10);
        put16(s4, 3);
        put16(s4, 5);  // 5 QRS complexes, none given
        cases.push_back({"QRS list cut", with(4, s4), "section 4: 5 QRS complexes need 70 bytes"});
    }
    for (const broken &c : cases) {
        INFO(c.what);
        auto r = read(c.bytes);
        REQUIRE_FALSE(r.ok());
        INFO(r.error().message());
        CHECK(r.error().message().find("test.scp: scp-ecg: ") == 0);
        CHECK(r.error().message().find(c.message) != std::string::npos);
    }
}

TEST_CASE("scp-ecg: truncated and corrupted files never crash the reader", "[ecg][scp-ecg]") {
    const std::vector<uint8_t> example = read_bytes(shared_ecg("samples/scp-ecg/ecgtoolkit_Example.scp"));
    scp_writer w;
    w.bodies[2] = default_table_section();
    w.bodies[3] = section3({{1, 30, 1}, {1, 30, 2}}, 0x05);
    std::vector<uint8_t> s4;
    put16(s4, 10);
    put16(s4, 3);
    put16(s4, 1);
    put16(s4, 0);
    for (uint32_t v : {5u, 8u, 12u, 4u, 13u}) put32(s4, v);
    w.bodies[4] = s4;
    w.bodies[5] = encoded_section(1000, 2000, 1, 0, {default_huffman({1, 2, 3, 4, 5}), default_huffman({5, 4, 3, 2, 1})});
    std::vector<int> ramp(30);
    for (size_t t = 0; t < ramp.size(); t++) ramp[t] = static_cast<int>(t * t) - 300;
    w.bodies[6] = encoded_section(1000, 2000, 2, 0, {default_huffman(second_differences(ramp)), default_huffman(second_differences(ramp))});
    const std::vector<uint8_t> built = w.bytes();
    REQUIRE(read(built).ok());

    size_t reads = 0;
    uint32_t seed = 12345;
    auto next = [&seed]() { return seed = seed * 1103515245u + 12345u; };
    for (const std::vector<uint8_t> *original : {&example, &built}) {
        for (size_t cut = 0; cut < original->size(); cut += 1 + original->size() / 97) {
            std::vector<uint8_t> b(original->begin(), original->begin() + static_cast<long>(cut));
            auto r = read(b);
            reads++;
            if (!r.ok()) CHECK_FALSE(r.error().message().empty());
        }
        for (int trial = 0; trial < 150; trial++) {
            std::vector<uint8_t> b = *original;
            for (int k = 0; k < 4; k++) b[(next() >> 8) % b.size()] = static_cast<uint8_t>(next() >> 16);
            auto r = read(b);
            reads++;
            if (!r.ok()) CHECK_FALSE(r.error().message().empty());
        }
    }
    CHECK(reads > 400);
}
